package dev.forktrace.attribution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.List;
import org.junit.jupiter.api.Test;

class KernelNamesTest {
    @Test
    void errnoNames() {
        assertEquals("EAGAIN", KernelNames.errnoName(11));
        assertEquals("ENOMEM", KernelNames.errnoName(12));
        assertEquals("ENOSPC", KernelNames.errnoName(28));
        assertEquals("EUSERS", KernelNames.errnoName(87));
        assertEquals("ERESTARTNOINTR", KernelNames.errnoName(513));
        assertEquals("ELOOP", KernelNames.errnoName(40));
        assertEquals("E41", KernelNames.errnoName(41), "beyond the table: the number");
        assertEquals("E0", KernelNames.errnoName(0));
        assertEquals("E-3", KernelNames.errnoName(-3));
    }

    @Test
    void cloneFlagsOfForkThreadsAndNamespaces() {
        assertEquals(List.of("SIGCHLD"), KernelNames.cloneFlagNames(17), "fork()");
        // glibc's pthread_create
        assertEquals(List.of("CLONE_VM", "CLONE_FS", "CLONE_FILES", "CLONE_SIGHAND", "CLONE_THREAD", "CLONE_SYSVSEM",
                "CLONE_SETTLS", "CLONE_PARENT_SETTID", "CLONE_CHILD_CLEARTID"), KernelNames.cloneFlagNames(0x3d0f00));
        assertEquals(List.of("CLONE_NEWUSER", "CLONE_NEWPID", "signal 9"), KernelNames.cloneFlagNames(0x30000009L));
        assertEquals(List.of("CLONE_NEWTIME", "CLONE_CLEAR_SIGHAND", "CLONE_INTO_CGROUP"),
                KernelNames.cloneFlagNames(0x300000080L), "clone3-only flags above 32 bits; 0x80 is CLONE_NEWTIME, not a signal");
        assertSame(KernelNames.cloneFlagNames(0x3d0f00), KernelNames.cloneFlagNames(0x3d0f00), "cached");
    }
}
