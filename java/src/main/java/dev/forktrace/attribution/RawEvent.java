package dev.forktrace.attribution;

import dev.forktrace.bpf.EventLayout;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * A reusable, zero-copy view of one struct ft_event in the ring buffer (or any segment). {@link #wrap}
 * points it at a record; accessors read straight from the mapped memory.
 */
public final class RawEvent implements FailureFacts {
    private MemorySegment segment;
    private long base;

    // A copy of the record on the heap (copyOf), read with plain array loads: under C1, the JIT ./forktrace runs,
    // every MemorySegment access is a chain of VarHandle calls (~100 ns each, measured with JMH), and the
    // diagnosis reads about a hundred fields.
    private static final boolean LITTLE_ENDIAN = java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN;
    private final byte[] copy = new byte[(int) EventLayout.EVENT_SIZE];
    private boolean copied;

    public RawEvent wrap(MemorySegment segment, long offset) {
        this.segment = segment;
        this.base = offset;
        copied = false;
        return this;
    }

    /**
     * Reads a copy of the record at {@code offset} (one bulk copy) instead of the segment itself: for a record
     * whose fields are all read, as on the per-event path. Views the segment in place on a big-endian machine.
     */
    public RawEvent copyOf(MemorySegment segment, long offset) {
        wrap(segment, offset);
        if (LITTLE_ENDIAN) {
            MemorySegment.copy(segment, JAVA_BYTE, offset, copy, 0, copy.length);
            copied = true;
        }
        return this;
    }

    private int i32(long offset) {
        return copied ? le32((int) offset) : segment.get(JAVA_INT, base + offset);
    }

    private long i64(long offset) {
        return copied ? le64((int) offset) : segment.get(JAVA_LONG, base + offset);
    }

    private byte i8(long offset) {
        return copied ? copy[(int) offset] : segment.get(JAVA_BYTE, base + offset);
    }

    private int le32(int i) {
        byte[] b = copy;
        return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8 | (b[i + 2] & 0xff) << 16 | b[i + 3] << 24;
    }

    private long le64(int i) {
        return (le32(i) & 0xffffffffL) | (long) le32(i + 4) << 32;
    }

    private static long unsigned(int value) {
        return value & 0xffffffffL;
    }

    public long ktimeNanos() { return i64(EventLayout.KTIME_NS); }
    public int pid() { return i32(EventLayout.PID); }
    public int tid() { return i32(EventLayout.TID); }
    public int ppid() { return i32(EventLayout.PPID); }
    public long cgroupId() { return i64(EventLayout.CGROUP_ID); }
    public long userNamespaceInum() { return unsigned(i32(EventLayout.USER_NS_INUM)); }
    public int hookTier() { return i32(EventLayout.HOOK_TIER); }
    public long memcgFailcnt() { return i64(EventLayout.MEMCG_FAILCNT); }
    public long memcgEventsOom() { return i64(EventLayout.MEMCG_EVENTS_OOM); }
    public long pageCounterUsagePages() { return i64(EventLayout.PAGE_COUNTER_USAGE); }
    public long pageCounterMaxPages() { return i64(EventLayout.PAGE_COUNTER_MAX); }
    public String comm() { return string(EventLayout.COMM, EventLayout.COMM_LEN); }
    public String processComm() { return string(EventLayout.PROCESS_COMM, EventLayout.COMM_LEN); }
    public String slabCache() { return string(EventLayout.SLAB_CACHE, EventLayout.SLAB_NAME_LEN); }
    public boolean slabCacheIsEmpty() { return i8(EventLayout.SLAB_CACHE) == 0; }

    /** Eight raw bytes of the record at a field offset: lets a caller see that a string field is unchanged. */
    public long word(long fieldOffset) {
        return copied ? le64((int) fieldOffset) : segment.get(JAVA_LONG_UNALIGNED, base + fieldOffset);
    }
    public long allocGfp() { return i64(EventLayout.ALLOC_GFP); }
    public int allocOrder() { return i32(EventLayout.ALLOC_ORDER); }
    public int allocInjector() { return i32(EventLayout.ALLOC_INJECTOR); }
    public String allocReport() { return string(EventLayout.ALLOC_REPORT, EventLayout.REPORT_LEN); }

    /** The failed allocation (cache aside): the kernel's report line and the fault-injection hooks. */
    public AllocationFailure allocationFailure() {
        int injector = allocInjector();
        if (injector == EventLayout.INJECT_NONE && (evidence() & EventLayout.EV_FAULT_INJECTED) != 0) {
            injector = (evidence() & EventLayout.EV_SLAB_OOM) != 0 ? EventLayout.INJECT_FAILSLAB
                    : EventLayout.INJECT_FAIL_PAGE_ALLOC;
        }
        return AllocationFailure.of(allocReport(), (evidence() & EventLayout.EV_ALLOC_GFP) != 0, allocGfp(),
                allocOrder(), injector);
    }

    /** True when the process name equals {@code expected} (no String made). */
    public boolean processCommEquals(byte[] expected) {
        for (int i = 0; i < EventLayout.COMM_LEN; i++) {
            byte b = i8(EventLayout.PROCESS_COMM + i);
            if (i == expected.length) {
                return b == 0;
            }
            if (b != expected[i]) {
                return false;
            }
        }
        return expected.length == EventLayout.COMM_LEN;
    }

    private String string(long offset, int capacity) {
        int length = 0;
        while (length < capacity && i8(offset + length) != 0) {
            length++;
        }
        if (copied) {
            return new String(copy, (int) offset, length, StandardCharsets.UTF_8);
        }
        byte[] bytes = new byte[length];
        MemorySegment.copy(segment, JAVA_BYTE, base + offset, bytes, 0, length);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override public int errno() { return -i32(EventLayout.ERROR); }
    @Override public long cloneFlags() { return i64(EventLayout.CLONE_FLAGS); }

    @Override
    public int namespaceLimit() {
        int kind = i32(EventLayout.NS_LIMIT);
        return kind > 0 && kind < EventLayout.NS_LIMIT_SYSCTLS.length ? kind : 0;
    }

    @Override public int namespaceLimitLevel() { return i32(EventLayout.NS_LIMIT_LEVEL); }
    @Override public long namespaceLimitMax() { return i64(EventLayout.NS_LIMIT_MAX); }
    @Override public long namespaceLimitCurrent() { return i64(EventLayout.NS_LIMIT_CURRENT); }
    public int userNamespaceLevel() { return i32(EventLayout.USER_NS_LEVEL); }
    @Override public int syscall() { return i32(EventLayout.SYSCALL); }
    @Override public int evidence() { return i32(EventLayout.EVIDENCE); }
    @Override public int uid() { return i32(EventLayout.UID); }
    @Override public long capEffective() { return i64(EventLayout.CAP_EFFECTIVE); }

    @Override
    public long rlimitNproc() {
        long value = i64(EventLayout.RLIMIT_NPROC);
        return value < 0 ? -1 : value; // RLIM_INFINITY is ~0UL
    }

    @Override public long nprocCount() { return i64(EventLayout.NPROC_COUNT); }
    @Override public int allocPidError() { return i32(EventLayout.ALLOC_PID_ERROR); }
    @Override public int pidsCanForkError() { return i32(EventLayout.PIDS_CAN_FORK_ERROR); }

    /** The caller's tgid in its own pid namespace (NSpid), read in BPF; 0 when unknown. */
    public int nsTgid() {
        return i32(EventLayout.NS_TGID);
    }

    @Override
    public int pidNamespaceDepth() {
        return Math.min(i32(EventLayout.PIDNS_DEPTH), EventLayout.PIDNS_LEVELS);
    }

    private long pidns(int level, long field) {
        return EventLayout.PIDNS + level * EventLayout.PIDNS_LEVEL_SIZE + field;
    }

    @Override public long pidNamespaceInum(int level) { return unsigned(i32(pidns(level, EventLayout.PIDNS_INUM))); }
    @Override public int pidNamespaceLevel(int level) { return i32(pidns(level, EventLayout.PIDNS_LEVEL_NO)); }
    @Override public int pidAllocatedRaw(int level) { return i32(pidns(level, EventLayout.PIDNS_PID_ALLOCATED)); }
    @Override public int pidMax(int level) { return i32(pidns(level, EventLayout.PIDNS_PID_MAX)); }

    @Override
    public int pidsCgroupDepth() {
        return Math.min(i32(EventLayout.PIDS_DEPTH), EventLayout.CGROUP_LEVELS);
    }

    private long pids(int level, long field) {
        return EventLayout.PIDS + level * EventLayout.PIDS_LEVEL_SIZE + field;
    }

    @Override public long pidsCgroupId(int level) { return i64(pids(level, EventLayout.PIDS_CGROUP_ID)); }
    @Override public long pidsCounter(int level) { return i64(pids(level, EventLayout.PIDS_COUNTER)); }
    @Override public long pidsLimit(int level) { return i64(pids(level, EventLayout.PIDS_LIMIT)); }
    @Override public long pidsEvents(int level) { return i64(pids(level, EventLayout.PIDS_EVENTS)); }
    @Override public long pidsEventsAtEntry(int level) { return i64(pids(level, EventLayout.PIDS_EVENTS_AT_ENTRY)); }
    @Override public long pidsLimitHits(int level) { return i64(pids(level, EventLayout.PIDS_LIMIT_HITS)); }
    @Override public long pidsLimitHitsAtEntry(int level) { return i64(pids(level, EventLayout.PIDS_LIMIT_HITS_AT_ENTRY)); }
    @Override public long memcgId() { return i64(EventLayout.MEMCG_ID); }
    @Override public long memcgUsagePages() { return i64(EventLayout.MEMCG_USAGE_PAGES); }
    @Override public long memcgMaxPages() { return i64(EventLayout.MEMCG_MAX_PAGES); }
    @Override public long memcgEventsMax() { return i64(EventLayout.MEMCG_EVENTS_MAX); }
    @Override public long memcgEventsMaxAtEntry() { return i64(EventLayout.MEMCG_EVENTS_MAX_AT_ENTRY); }
    @Override public long memcgKmemUsagePages() { return i64(EventLayout.MEMCG_KMEM_USAGE_PAGES); }
    @Override public long memcgKmemMaxPages() { return i64(EventLayout.MEMCG_KMEM_MAX_PAGES); }
}
