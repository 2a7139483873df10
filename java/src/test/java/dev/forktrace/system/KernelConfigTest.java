package dev.forktrace.system;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class KernelConfigTest {
    @Test
    void builtInAndModulesAreEnabledNotSetAndAbsentAreNot() {
        KernelConfig config = KernelConfig.parse("test", "CONFIG_BPF=y\nCONFIG_KPROBES_X=m\n# CONFIG_KPROBES is not set\n");
        assertTrue(config.enabled("CONFIG_BPF"));
        assertTrue(config.enabled("CONFIG_KPROBES_X"));
        assertFalse(config.enabled("CONFIG_KPROBES"));
        assertFalse(config.enabled("CONFIG_ABSENT"));
    }
}
