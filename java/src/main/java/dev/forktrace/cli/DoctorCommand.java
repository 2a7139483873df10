package dev.forktrace.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import dev.forktrace.bpf.BpfException;
import dev.forktrace.bpf.ProbeSession;
import dev.forktrace.system.CgroupPaths;
import dev.forktrace.system.ProcFs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `forktrace doctor`: what this kernel offers, which tier each hook gets, which causes can be proven here. */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = "Show what this kernel lets forktrace see, and how well.")
public final class DoctorCommand implements Callable<Integer> {
    enum Format { text, json }

    @Option(names = "--format", description = "text (default) or json.")
    Format format = Format.text;

    @Mixin
    HookOptions hookOptions = new HookOptions();

    @Override
    public Integer call() {
        Map<String, Object> report = new LinkedHashMap<>();
        Map<String, String> kernel = new LinkedHashMap<>();
        kernel.put("release", WatchCommand.readKernelRelease());
        kernel.put("btf", Files.isReadable(Path.of("/sys/kernel/btf/vmlinux")) ? "yes" : "no (CO-RE cannot relocate: forktrace cannot load)");
        String lockdown = ProcFs.read(Path.of("/sys/kernel/security/lockdown"));
        kernel.put("lockdown", lockdown == null ? "unknown (securityfs not mounted)" : selected(lockdown));
        kernel.put("tracefs", Files.isDirectory(Path.of("/sys/kernel/tracing/events")) ? "mounted at /sys/kernel/tracing"
                : "not mounted (mount -t tracefs tracefs /sys/kernel/tracing)");
        kernel.put("kprobes", Files.exists(Path.of("/sys/kernel/tracing/kprobe_events")) ? "yes" : "no (no kprobe_events)");
        CgroupPaths cgroups = CgroupPaths.forThisMachine();
        for (CgroupPaths.Hierarchy h : CgroupPaths.Hierarchy.values()) {
            Path mount = cgroups.mount(h);
            kernel.put("cgroup." + h.name().toLowerCase(), mount == null ? "not mounted" : mount.toString()
                    + (h != CgroupPaths.Hierarchy.UNIFIED && mount.equals(cgroups.mount(CgroupPaths.Hierarchy.UNIFIED))
                            ? " (cgroup v2)" : h == CgroupPaths.Hierarchy.UNIFIED ? "" : " (cgroup v1)"));
        }
        report.put("kernel", kernel);

        Map<String, String> features = new LinkedHashMap<>();
        List<ProbeSession.Hook> hooks = List.of();
        int status = 0;
        try {
            for (String line : ProbeSession.probeFeatures().split("\n")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    features.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
            try (ProbeSession session = ProbeSession.open(ProbeSession.Filter.ALL, hookOptions.choice())) {
                hooks = session.hooks();
            }
        } catch (BpfException e) {
            features.put("error", e.getMessage());
            status = e.exitCode();
        }
        report.put("features", features);
        Map<String, Map<String, String>> hookReport = new LinkedHashMap<>();
        for (ProbeSession.Hook hook : hooks) {
            hookReport.put(hook.name(), Map.of("tier", hook.tier(), "loaded", Boolean.toString(hook.attached()),
                    "note", hook.note()));
        }
        report.put("hooks", hookReport);
        report.put("causes", Coverage.of(hooks, cgroups, features));

        if (format == Format.json) {
            try {
                System.out.println(JsonFormat.printer().print(toStruct(report)));
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
        } else {
            printText(kernel, features, hooks, Coverage.of(hooks, cgroups, features));
        }
        return status;
    }

    /** Nested maps of strings as a protobuf Struct, so the JSON comes from the library we already use. */
    private static Struct toStruct(Map<String, ?> map) {
        Struct.Builder struct = Struct.newBuilder();
        map.forEach((key, value) -> struct.putFields(key, value instanceof Map<?, ?> nested
                ? Value.newBuilder().setStructValue(toStruct(castMap(nested))).build()
                : Value.newBuilder().setStringValue(String.valueOf(value)).build()));
        return struct.build();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, ?> castMap(Map<?, ?> map) {
        return (Map<String, ?>) map;
    }

    private static String selected(String lockdown) {
        int open = lockdown.indexOf('['), close = lockdown.indexOf(']');
        return open >= 0 && close > open ? lockdown.substring(open + 1, close) : lockdown.strip();
    }

    private static void printText(Map<String, String> kernel, Map<String, String> features,
            List<ProbeSession.Hook> hooks, Map<String, String> causes) {
        System.out.println("Kernel");
        kernel.forEach((k, v) -> System.out.printf("  %-16s %s%n", k, v));
        System.out.println("BPF features");
        features.forEach((k, v) -> System.out.printf("  %-32s %s%n", k, v));
        System.out.println("Hooks (tier chosen for this kernel)");
        for (ProbeSession.Hook h : hooks) {
            System.out.printf("  %-26s %-11s %s%n", h.name(), h.attached() ? h.tier() : "none", h.note());
        }
        System.out.println("Causes");
        causes.forEach((k, v) -> System.out.printf("  %-26s %s%n", k, v));
    }
}
