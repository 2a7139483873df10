package dev.forktrace.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import dev.forktrace.bpf.BpfException;
import dev.forktrace.bpf.Libc;
import dev.forktrace.bpf.ProbeSession;
import dev.forktrace.system.CgroupPaths;
import dev.forktrace.system.KernelConfig;
import dev.forktrace.system.ProcFs;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
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
        boolean privileged = privileged();
        Map<String, Object> report = new LinkedHashMap<>();
        if (!privileged) {
            report.put("privileges", NOT_ROOT_NOTE);
        }
        Map<String, String> kernel = new LinkedHashMap<>();
        String release = WatchCommand.readKernelRelease();
        kernel.put("release", release);
        kernel.put("btf", Files.isReadable(Path.of("/sys/kernel/btf/vmlinux")) ? "yes" : "no (CO-RE cannot relocate: forktrace cannot load)");
        String lockdown = lockdown(privileged);
        kernel.put("lockdown", lockdown);
        String lsms = readUnseekable(Path.of("/sys/kernel/security/lsm"));
        if (lsms != null) {
            kernel.put("lsm", lsms.strip());
        }
        boolean tracefs = Files.isDirectory(Path.of("/sys/kernel/tracing/events"));
        boolean kprobeEvents = Files.exists(Path.of("/sys/kernel/tracing/kprobe_events"));
        kernel.put("tracefs", tracefs ? "mounted at /sys/kernel/tracing"
                : !privileged ? (mounted("tracefs") ? "mounted, contents " : "") + TierReasons.UNKNOWN_NOT_ROOT
                : "not mounted (mount -t tracefs tracefs /sys/kernel/tracing)");
        KernelConfig config = KernelConfig.load(release);
        kernel.put("config", config == null ? "unreadable (no /proc/config.gz, no /boot/config-" + release + ")" : config.source());
        kernel.put("kprobes", config != null ? (config.enabled("CONFIG_KPROBES") ? "yes" : "no (CONFIG_KPROBES is not set)")
                : tracefs ? (kprobeEvents ? "yes" : "no (no kprobe_events in tracefs)")
                : privileged ? "unknown (tracefs not mounted, kernel config unreadable)" : TierReasons.UNKNOWN_NOT_ROOT);
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
        if (!privileged) {
            // Unprivileged loads fail with EPERM whatever the kernel offers: that would read as "no".
            features.put("probes", TierReasons.UNKNOWN_NOT_ROOT);
            status = BpfException.EXIT_ENVIRONMENT;
        } else {
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
        }
        report.put("features", features);
        Map<String, String> tiers = TierReasons.of(features,
                new TierReasons.KernelFacts(config, lockdown, lsms == null ? null : lsms.strip(), tracefs, kprobeEvents), privileged);
        report.put("tiers", tiers);
        Map<String, Map<String, String>> hookReport = new LinkedHashMap<>();
        for (ProbeSession.Hook hook : hooks) {
            hookReport.put(hook.name(), Map.of("tier", hook.tier().label(), "loaded", Boolean.toString(hook.attached()),
                    "note", hook.note()));
        }
        report.put("hooks", hookReport);
        Map<String, String> causes = Coverage.of(hooks, cgroups, features);
        if (!privileged) {
            causes.replaceAll((cause, verdict) -> "unknown (needs root: it depends on the hooks this kernel lets load)");
        }
        report.put("causes", causes);

        if (format == Format.json) {
            try {
                System.out.println(JsonFormat.printer().print(toStruct(report)));
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
        } else {
            if (!privileged) {
                System.out.println(NOT_ROOT_NOTE);
            }
            printText(kernel, features, tiers, hooks, causes, privileged);
        }
        return status;
    }

    static final String NOT_ROOT_NOTE = "Not running as root: these results need root (or CAP_BPF with CAP_PERFMON) to be "
            + "complete. What this run could not read says \"unknown\". Run: sudo forktrace doctor";

    /** Root, or CAP_BPF with CAP_PERFMON, or CAP_SYS_ADMIN: what loading the probes needs. */
    static boolean privileged() {
        if (Libc.geteuid() == 0) {
            return true;
        }
        String status = ProcFs.read(Path.of("/proc/self/status"));
        if (status == null) {
            return false;
        }
        for (String line : status.split("\n")) {
            if (line.startsWith("CapEff:")) {
                long caps = Long.parseUnsignedLong(line.substring(7).strip(), 16);
                return (caps & (1L << 21)) != 0 || ((caps & (1L << 39)) != 0 && (caps & (1L << 38)) != 0);
            }
        }
        return false;
    }

    /** The selected lockdown mode, or why it is unknown. */
    private static String lockdown(boolean privileged) {
        String modes = readUnseekable(Path.of("/sys/kernel/security/lockdown"));
        if (modes != null) {
            return selected(modes);
        }
        if (!mounted("securityfs")) {
            return "unknown (securityfs not mounted: mount -t securityfs securityfs /sys/kernel/security)";
        }
        return privileged || !Files.exists(Path.of("/sys/kernel/security/lockdown"))
                ? "none (no lockdown LSM in this kernel: /sys/kernel/security/lockdown is absent)"
                : TierReasons.UNKNOWN_NOT_ROOT;
    }

    private static boolean mounted(String type) {
        String mounts = ProcFs.read(Path.of("/proc/self/mounts"));
        return mounts != null && mounts.contains(" " + type + " ");
    }

    /** securityfs files refuse lseek, which Files.readAllBytes uses: read them with plain reads. */
    static String readUnseekable(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[4096];
            for (int n; (n = in.read(buffer, 0, buffer.length)) > 0; ) {
                out.write(buffer, 0, n);
            }
            return out.toString(StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return null;
        }
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

    private static void printText(Map<String, String> kernel, Map<String, String> features, Map<String, String> tiers,
            List<ProbeSession.Hook> hooks, Map<String, String> causes, boolean privileged) {
        System.out.println("Kernel");
        kernel.forEach((k, v) -> System.out.printf("  %-16s %s%n", k, v));
        System.out.println("Tiers (what this kernel lets forktrace attach, and why not)");
        tiers.forEach((k, v) -> System.out.printf("  %-16s %s%n", k, v));
        System.out.println("BPF features");
        features.forEach((k, v) -> System.out.printf("  %-32s %s%n", k, v));
        System.out.println("Hooks (tier chosen for this kernel)");
        if (!privileged) {
            System.out.println("  " + TierReasons.UNKNOWN_NOT_ROOT);
        }
        for (ProbeSession.Hook h : hooks) {
            System.out.printf("  %-26s %-11s %s%n", h.name(), h.attached() ? h.tier().label() : "none", h.note());
        }
        System.out.println("Causes");
        causes.forEach((k, v) -> System.out.printf("  %-26s %s%n", k, v));
    }
}
