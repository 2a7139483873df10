package dev.forktrace.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forktrace.system.KernelConfigs;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TierReasonsTest {
    // Feature probes as the shim reports them on a Firecracker 6.18 kernel (no kprobes, fentry refused).
    private static final Map<String, String> REFUSED = Map.of(
            "btf", "yes", "ringbuf", "yes", "tracepoint", "yes", "tp_btf.console", "yes",
            "fentry.copy_process", "no Operation not permitted", "fentry.alloc_pid", "no Operation not permitted",
            "kprobe.copy_process", "no Operation not supported", "kprobe.alloc_pid", "no Operation not supported");

    private static TierReasons.KernelFacts facts(String config) {
        return new TierReasons.KernelFacts(config == null ? null : KernelConfigs.parse("/proc/config.gz", config),
                "integrity", "lockdown,capability,bpf", true, false);
    }

    @Test
    void kprobesNotConfiguredIsNamedFromTheConfig() {
        Map<String, String> tiers = TierReasons.of(REFUSED,
                facts("# CONFIG_KPROBES is not set\nCONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS=y\n"), true);
        assertEquals("no: CONFIG_KPROBES is not set (/proc/config.gz)", tiers.get("kprobe"));
        assertEquals("yes", tiers.get("tracepoint"));
        assertEquals("yes", tiers.get("tp_btf"));
        assertEquals("yes", tiers.get("ringbuf"));
    }

    @Test
    void fentryRefusedWithEpermNamesErrnoAndPolicy() {
        String fentry = TierReasons.of(REFUSED, facts("CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS=y\n"), true).get("fentry");
        assertTrue(fentry.startsWith("no: fentry load refused with EPERM (Operation not permitted) for every probed function"), fentry);
        assertTrue(fentry.contains("lockdown integrity"), fentry);
    }

    @Test
    void fentryWithoutTrampolinesInTheConfig() {
        assertEquals("no: CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS is not set (/proc/config.gz): no BPF trampolines for fentry/fexit",
                TierReasons.of(REFUSED, facts("CONFIG_KPROBES=y\n"), true).get("fentry"));
    }

    @Test
    void withoutConfigKprobesFallBackToTracefs() {
        String kprobe = TierReasons.of(REFUSED, facts(null), true).get("kprobe");
        assertTrue(kprobe.startsWith("no: kprobe load refused with EOPNOTSUPP (Operation not supported)"), kprobe);
        assertTrue(kprobe.contains("kprobes are absent in tracefs"), kprobe);
    }

    @Test
    void onePartlyRefusedTierListsTheFunctions() {
        Map<String, String> features = Map.of("fentry.copy_process", "yes", "fentry.alloc_pid", "no Invalid argument");
        assertEquals("partly: fentry refused for alloc_pid (EINVAL (Invalid argument))",
                TierReasons.of(features, facts("CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS=y\n"), true).get("fentry"));
    }

    @Test
    void unprivilegedIsUnknownNotNo() {
        Map<String, String> tiers = TierReasons.of(REFUSED, facts(null), false);
        tiers.values().forEach(v -> assertEquals(TierReasons.UNKNOWN_NOT_ROOT, v));
        assertEquals(5, tiers.size());
    }

    @Test
    void tracepointsNeedTracefs() {
        TierReasons.KernelFacts noTracefs = new TierReasons.KernelFacts(null, "none", null, false, false);
        assertTrue(TierReasons.of(REFUSED, noTracefs, true).get("tracepoint").startsWith("no: tracefs is not mounted"));
    }
}
