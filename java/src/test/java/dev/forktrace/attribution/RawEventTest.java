package dev.forktrace.attribution;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forktrace.bpf.EventLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** RawEvent reads struct ft_event fields at EventLayout's offsets, relative to where the record starts. */
class RawEventTest {
    private static final long AT = 72; // not at the segment's start: records sit anywhere in the ring

    private static void putString(MemorySegment s, long offset, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(b, 0, s, JAVA_BYTE, AT + offset, b.length);
    }

    @Test
    void fieldsAreReadAtTheirOffsetsFromTheRecordStart() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(AT + EventLayout.EVENT_SIZE + 64, 8);
            s.fill((byte) 0);
            s.set(JAVA_LONG, AT + EventLayout.KTIME_NS, 123_456_789L);
            s.set(JAVA_INT, AT + EventLayout.PID, 4242);
            s.set(JAVA_INT, AT + EventLayout.TID, 4243);
            s.set(JAVA_INT, AT + EventLayout.ERROR, -11);
            s.set(JAVA_LONG, AT + EventLayout.CLONE_FLAGS, 0x20000000L | 17);
            s.set(JAVA_INT, AT + EventLayout.USER_NS_INUM, 0xF0000001); // an inode number above 2^31
            s.set(JAVA_LONG, AT + EventLayout.RLIMIT_NPROC, -1L); // RLIM_INFINITY
            s.set(JAVA_INT, AT + EventLayout.PIDNS_DEPTH, 99); // more levels than the event holds
            s.set(JAVA_INT, AT + EventLayout.PIDS_DEPTH, 2);
            s.set(JAVA_LONG, AT + EventLayout.PIDS + EventLayout.PIDS_LEVEL_SIZE + EventLayout.PIDS_LIMIT, 60);
            putString(s, EventLayout.COMM, "worker-1");
            putString(s, EventLayout.PROCESS_COMM, "0123456789abcdef"); // all 16 bytes, no NUL
            putString(s, EventLayout.SLAB_CACHE, "task_struct");

            RawEvent e = new RawEvent().wrap(s, AT);
            assertEquals(123_456_789L, e.ktimeNanos());
            assertEquals(4242, e.pid());
            assertEquals(4243, e.tid());
            assertEquals(11, e.errno(), "the kernel's -EAGAIN as a positive errno");
            assertEquals(0x20000000L | 17, e.cloneFlags());
            assertEquals(0xF0000001L, e.userNamespaceInum(), "unsigned");
            assertEquals(-1, e.rlimitNproc(), "unlimited");
            assertEquals(EventLayout.PIDNS_LEVELS, e.pidNamespaceDepth(), "clamped to the levels recorded");
            assertEquals(2, e.pidsCgroupDepth());
            assertEquals(60, e.pidsLimit(1));
            assertEquals("worker-1", e.comm());
            assertEquals("0123456789abcdef", e.processComm(), "a full-length name has no NUL");
            assertEquals("task_struct", e.slabCache());
            assertTrue(e.processCommEquals("0123456789abcdef".getBytes(StandardCharsets.US_ASCII)));
            assertFalse(e.processCommEquals("0123456789".getBytes(StandardCharsets.US_ASCII)), "a prefix is not equal");

            s.set(JAVA_BYTE, AT + EventLayout.PROCESS_COMM + 4, (byte) 0);
            assertEquals("0123", e.processComm());
            assertTrue(e.processCommEquals("0123".getBytes(StandardCharsets.US_ASCII)));
            assertFalse(e.processCommEquals("012".getBytes(StandardCharsets.US_ASCII)));
        }
    }
}
