package dev.forktrace.cli;

import dev.forktrace.system.KernelConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * For doctor: each attachment tier's verdict on this kernel, and when the kernel refuses one, the concrete
 * reason (a kernel option that is not set, the errno of a refused load, a missing tracefs entry).
 */
final class TierReasons {
    static final String UNKNOWN_NOT_ROOT = "unknown (needs root: run sudo forktrace doctor)";

    /** What doctor knows about the kernel beyond the feature probes. */
    record KernelFacts(KernelConfig config, String lockdown, String lsms, boolean tracefsMounted, boolean kprobeEvents) {}

    private TierReasons() {}

    /** Tier name -> "yes", "partly: ..." or "no: reason"; every tier "unknown" when not privileged. */
    static Map<String, String> of(Map<String, String> features, KernelFacts facts, boolean privileged) {
        Map<String, String> tiers = new LinkedHashMap<>();
        if (!privileged) {
            for (String tier : List.of("fentry", "kprobe", "tracepoint", "tp_btf", "ringbuf")) {
                tiers.put(tier, UNKNOWN_NOT_ROOT);
            }
            return tiers;
        }
        tiers.put("fentry", fentry(features, facts));
        tiers.put("kprobe", kprobe(features, facts));
        tiers.put("tracepoint", !facts.tracefsMounted()
                ? "no: tracefs is not mounted (mount -t tracefs tracefs /sys/kernel/tracing); libbpf attaches tracepoints through it"
                : single(features.get("tracepoint"), "loading tp/syscalls/sys_exit_clone"));
        tiers.put("tp_btf", functionTier(features, "tp_btf.", facts, "tp_btf"));
        tiers.put("ringbuf", single(features.get("ringbuf"), "creating a BPF ring buffer map (Linux 5.8+)"));
        return tiers;
    }

    private static String fentry(Map<String, String> features, KernelFacts facts) {
        KernelConfig config = facts.config();
        if (config != null && !config.enabled("CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS")) {
            return "no: CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS is not set (" + config.source()
                    + "): no BPF trampolines for fentry/fexit";
        }
        String verdict = functionTier(features, "fentry.", facts, "fentry");
        if (verdict.contains("EPERM")) {
            // EPERM with trampolines built in: the kernel's policy refuses, not a missing feature.
            verdict += config != null ? " although BPF trampolines are built in (CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS=y, "
                    + config.source() + ")" : "";
            verdict += "; policy in force: lockdown " + facts.lockdown() + (facts.lsms() == null ? "" : ", LSMs " + facts.lsms());
        }
        return verdict;
    }

    private static String kprobe(Map<String, String> features, KernelFacts facts) {
        KernelConfig config = facts.config();
        if (config != null && !config.enabled("CONFIG_KPROBES")) {
            return "no: CONFIG_KPROBES is not set (" + config.source() + ")";
        }
        String verdict = functionTier(features, "kprobe.", facts, "kprobe");
        if (verdict.startsWith("no") && facts.tracefsMounted() && !facts.kprobeEvents()) {
            verdict += "; kprobes are absent in tracefs (no /sys/kernel/tracing/kprobe_events)"
                    + (config == null ? " and the kernel config is unreadable (no /proc/config.gz, no /boot/config-*)" : "");
        }
        return verdict;
    }

    /** Verdict over every probed function of one tier (features PREFIX.function = "yes" or "no ERROR"). */
    private static String functionTier(Map<String, String> features, String prefix, KernelFacts facts, String tier) {
        Map<String, String> probed = features.entrySet().stream().filter(e -> e.getKey().startsWith(prefix))
                .collect(Collectors.toMap(e -> e.getKey().substring(prefix.length()), Map.Entry::getValue,
                        (a, b) -> a, LinkedHashMap::new));
        if (probed.isEmpty()) {
            return "unknown (not probed)";
        }
        List<String> refused = probed.entrySet().stream().filter(e -> !e.getValue().startsWith("yes"))
                .map(Map.Entry::getKey).toList();
        if (refused.isEmpty()) {
            return "yes";
        }
        String errors = refused.stream().map(f -> errnoName(probed.get(f))).collect(Collectors.toCollection(TreeSet::new))
                .stream().collect(Collectors.joining(", "));
        if (refused.size() == probed.size()) {
            return "no: " + tier + " load refused with " + errors + " for every probed function";
        }
        return "partly: " + tier + " refused for " + String.join(", ", refused) + " (" + errors + ")";
    }

    private static String single(String feature, String what) {
        if (feature == null) {
            return "unknown (not probed)";
        }
        return feature.startsWith("yes") ? "yes" : "no: " + what + " failed with " + errnoName(feature);
    }

    /** "no Operation not permitted" -> "EPERM (Operation not permitted)". */
    static String errnoName(String feature) {
        String message = feature.startsWith("no") ? feature.substring(2).strip() : feature.strip();
        String name = switch (message) {
            case "Operation not permitted" -> "EPERM";
            case "Operation not supported" -> "EOPNOTSUPP";
            case "No such file or directory" -> "ENOENT";
            case "Invalid argument" -> "EINVAL";
            case "Permission denied" -> "EACCES";
            case "No such process" -> "ESRCH";
            case "Argument list too long" -> "E2BIG";
            default -> "";
        };
        return name.isEmpty() ? (message.isEmpty() ? "an error" : message) : name + " (" + message + ")";
    }
}
