package dev.forktrace.bpf;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Java's view of bpf/forktrace.h. Member names are the C field names: EventLayoutTest compares every
 * offset and size with native/layout_dump's output for the same header and fails the build on drift.
 */
public final class EventLayout {
    public static final int COMM_LEN = 16;
    public static final int PIDNS_LEVELS = 4;
    public static final int CGROUP_LEVELS = 8;
    public static final int SLAB_NAME_LEN = 32;
    public static final int REPORT_LEN = 128;
    public static final int ERRNO_SLOTS = 136;
    public static final int ERESTARTNOINTR = 513;
    public static final int PIDNS_ADDING = 0x80000000;

    /** enum ft_counter */
    public static final int CNT_FAILURES = 0;
    public static final int CNT_EMITTED = 1;
    public static final int CNT_DROPPED = 2;
    public static final int CNT_FILTERED = 3;
    public static final int CNT_RESTARTS = 4;
    public static final int CNT_AGGREGATED = 5;
    public static final int CNT_SIGNATURE_OVERFLOW = 6;
    public static final int CNT_CLONE3_ENOSYS = 7;
    public static final int CNT_TREE_FULL = 8;
    public static final int CNT_ERRNO_BASE = 9;
    public static final int CNT_CGROUP_MOVES = CNT_ERRNO_BASE + ERRNO_SLOTS;
    public static final int CNT_SLOTS = CNT_CGROUP_MOVES + 1;

    /** enum ft_syscall */
    public static final int SYS_CLONE = 1, SYS_CLONE3 = 2, SYS_FORK = 3, SYS_VFORK = 4, SYS_KERNEL = 5;

    /** enum ft_evidence */
    public static final int EV_ENTRY_SNAPSHOT = 1, EV_COPY_PROCESS = 1 << 1, EV_ALLOC_PID = 1 << 2,
            EV_PIDS_CAN_FORK = 1 << 3, EV_PAGE_COUNTER = 1 << 4, EV_SLAB_OOM = 1 << 5,
            EV_PAGE_ALLOC_FAIL = 1 << 6, EV_PIDS_REJECT_MSG = 1 << 7, EV_NPROC_FROM_USER = 1 << 8,
            EV_RLIMIT_NPROC_OVER = 1 << 9, EV_OVERCOMMIT = 1 << 10, EV_ALLOC_GFP = 1 << 11,
            EV_FAULT_INJECTED = 1 << 12;
    public static final String[] EVIDENCE_NAMES = {
        "entry_snapshot", "copy_process", "alloc_pid", "pids_can_fork", "page_counter_try_charge",
        "slab_out_of_memory", "page_allocation_failure", "pids_reject_message", "nproc_from_user_struct",
        "is_rlimit_overlimit", "vm_enough_memory", "alloc_gfp", "fault_injected"
    };

    /** enum ft_injector */
    public static final int INJECT_NONE = 0, INJECT_FAILSLAB = 1, INJECT_FAIL_PAGE_ALLOC = 2;

    /** enum ft_tier */
    public static final int TIER_TRACEPOINT = 0, TIER_KPROBE = 1, TIER_FENTRY = 2, TIER_NONE = -1;

    /** native/forktrace_shim.h: enum ft_hook (see HookPoint) and struct ft_hook_status */
    public static final int HOOK_COUNT = 13;
    public static final int HOOK_NOTE_LEN = 512;
    public static final StructLayout HOOK_STATUS = MemoryLayout.structLayout(
            JAVA_INT.withName("hook"),
            JAVA_INT.withName("tier"),
            JAVA_INT.withName("attached"),
            JAVA_INT.withName("_pad0"),
            MemoryLayout.sequenceLayout(HOOK_NOTE_LEN, JAVA_BYTE).withName("note")).withName("ft_hook_status");

    public static final StructLayout CONFIG = MemoryLayout.structLayout(
            JAVA_INT.withName("filter_tgid"),
            JAVA_INT.withName("filter_tree"),
            JAVA_LONG.withName("filter_cgroup_id"),
            MemoryLayout.sequenceLayout(COMM_LEN, JAVA_BYTE).withName("filter_comm"),
            JAVA_INT.withName("filter_cgroup_hierarchy"),
            JAVA_INT.withName("inflight_task_storage")).withName("ft_config");

    public static final StructLayout PIDNS_LEVEL = MemoryLayout.structLayout(
            JAVA_INT.withName("inum"),
            JAVA_INT.withName("level"),
            JAVA_INT.withName("pid_allocated"),
            JAVA_INT.withName("pid_max")).withName("ft_pidns_level");

    public static final StructLayout PIDS_LEVEL = MemoryLayout.structLayout(
            JAVA_LONG.withName("cgroup_id"),
            JAVA_LONG.withName("counter"),
            JAVA_LONG.withName("limit"),
            JAVA_LONG.withName("events"),
            JAVA_LONG.withName("events_at_entry"),
            JAVA_LONG.withName("limit_hits"),
            JAVA_LONG.withName("limit_hits_at_entry")).withName("ft_pids_level");

    public static final StructLayout EVENT = MemoryLayout.structLayout(
            JAVA_LONG.withName("ktime_ns"),
            JAVA_LONG.withName("clone_flags"),
            JAVA_LONG.withName("cgroup_id"),
            JAVA_LONG.withName("cap_effective"),
            JAVA_LONG.withName("rlimit_nproc"),
            JAVA_LONG.withName("nproc_count"),
            JAVA_LONG.withName("memcg_id"),
            JAVA_LONG.withName("memcg_usage_pages"),
            JAVA_LONG.withName("memcg_max_pages"),
            JAVA_LONG.withName("memcg_failcnt"),
            JAVA_LONG.withName("memcg_events_max"),
            JAVA_LONG.withName("memcg_events_max_at_entry"),
            JAVA_LONG.withName("memcg_events_oom"),
            JAVA_LONG.withName("page_counter_usage"),
            JAVA_LONG.withName("page_counter_max"),
            JAVA_LONG.withName("memcg_kmem_usage_pages"),
            JAVA_LONG.withName("memcg_kmem_max_pages"),
            JAVA_INT.withName("pid"),
            JAVA_INT.withName("tid"),
            JAVA_INT.withName("ppid"),
            JAVA_INT.withName("uid"),
            JAVA_INT.withName("user_ns_inum"),
            JAVA_INT.withName("syscall"),
            JAVA_INT.withName("error"),
            JAVA_INT.withName("evidence"),
            JAVA_INT.withName("alloc_pid_error"),
            JAVA_INT.withName("pids_can_fork_error"),
            JAVA_INT.withName("hook_tier"),
            JAVA_INT.withName("pidns_depth"),
            JAVA_INT.withName("pids_depth"),
            JAVA_INT.withName("ns_tgid"),
            MemoryLayout.sequenceLayout(COMM_LEN, JAVA_BYTE).withName("comm"),
            MemoryLayout.sequenceLayout(COMM_LEN, JAVA_BYTE).withName("process_comm"),
            MemoryLayout.sequenceLayout(SLAB_NAME_LEN, JAVA_BYTE).withName("slab_cache"),
            MemoryLayout.sequenceLayout(PIDNS_LEVELS, PIDNS_LEVEL).withName("pidns"),
            MemoryLayout.sequenceLayout(CGROUP_LEVELS, PIDS_LEVEL).withName("pids"),
            JAVA_INT.withName("ns_limit"),
            JAVA_INT.withName("ns_limit_level"),
            JAVA_LONG.withName("ns_limit_max"),
            JAVA_LONG.withName("ns_limit_current"),
            JAVA_INT.withName("user_ns_level"),
            JAVA_INT.withName("_pad1"),
            JAVA_LONG.withName("alloc_gfp"),
            JAVA_INT.withName("alloc_order"),
            JAVA_INT.withName("alloc_injector"),
            MemoryLayout.sequenceLayout(REPORT_LEN, JAVA_BYTE).withName("alloc_report")).withName("ft_event");

    // Offsets used on the per-event path, resolved once from the layout.
    /** struct ft_signature: the key of the kernel's `signatures` map (aggregation of dropped failures). */
    public static final int SIGNATURE_SLOTS = 4096;
    /** enum ft_signature_flags */
    public static final int SIG_NPROC_AT_LIMIT = 1, SIG_NPROC_EXEMPT = 1 << 1, SIG_PIDNS_DEAD = 1 << 2,
            SIG_NEW_NAMESPACE = 1 << 3;
    public static final StructLayout SIGNATURE = MemoryLayout.structLayout(
            JAVA_LONG.withName("pids_moved_cgroup_id"),
            JAVA_LONG.withName("pids_limit_cgroup_id"),
            JAVA_LONG.withName("memcg_id"),
            JAVA_INT.withName("tgid"),
            JAVA_INT.withName("uid"),
            JAVA_INT.withName("pidns_inum"),
            JAVA_INT.withName("error"),
            JAVA_INT.withName("evidence"),
            JAVA_INT.withName("alloc_pid_error"),
            JAVA_INT.withName("pids_can_fork_error"),
            JAVA_INT.withName("hook_tier"),
            JAVA_INT.withName("syscall"),
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("pids_moved_level"),
            JAVA_INT.withName("pids_limit_level")).withName("ft_signature");

    public static final long KTIME_NS = offset(EVENT, "ktime_ns");
    public static final long CLONE_FLAGS = offset(EVENT, "clone_flags");
    public static final long CGROUP_ID = offset(EVENT, "cgroup_id");
    public static final long CAP_EFFECTIVE = offset(EVENT, "cap_effective");
    public static final long RLIMIT_NPROC = offset(EVENT, "rlimit_nproc");
    public static final long NPROC_COUNT = offset(EVENT, "nproc_count");
    public static final long MEMCG_ID = offset(EVENT, "memcg_id");
    public static final long MEMCG_USAGE_PAGES = offset(EVENT, "memcg_usage_pages");
    public static final long MEMCG_MAX_PAGES = offset(EVENT, "memcg_max_pages");
    public static final long MEMCG_FAILCNT = offset(EVENT, "memcg_failcnt");
    public static final long MEMCG_EVENTS_MAX = offset(EVENT, "memcg_events_max");
    public static final long MEMCG_EVENTS_MAX_AT_ENTRY = offset(EVENT, "memcg_events_max_at_entry");
    public static final long MEMCG_EVENTS_OOM = offset(EVENT, "memcg_events_oom");
    public static final long PAGE_COUNTER_USAGE = offset(EVENT, "page_counter_usage");
    public static final long PAGE_COUNTER_MAX = offset(EVENT, "page_counter_max");
    public static final long MEMCG_KMEM_USAGE_PAGES = offset(EVENT, "memcg_kmem_usage_pages");
    public static final long MEMCG_KMEM_MAX_PAGES = offset(EVENT, "memcg_kmem_max_pages");
    public static final long PID = offset(EVENT, "pid");
    public static final long TID = offset(EVENT, "tid");
    public static final long PPID = offset(EVENT, "ppid");
    public static final long UID = offset(EVENT, "uid");
    public static final long USER_NS_INUM = offset(EVENT, "user_ns_inum");
    public static final long SYSCALL = offset(EVENT, "syscall");
    public static final long ERROR = offset(EVENT, "error");
    public static final long EVIDENCE = offset(EVENT, "evidence");
    public static final long ALLOC_PID_ERROR = offset(EVENT, "alloc_pid_error");
    public static final long PIDS_CAN_FORK_ERROR = offset(EVENT, "pids_can_fork_error");
    public static final long HOOK_TIER = offset(EVENT, "hook_tier");
    public static final long PIDNS_DEPTH = offset(EVENT, "pidns_depth");
    public static final long NS_TGID = offset(EVENT, "ns_tgid");
    public static final long PIDS_DEPTH = offset(EVENT, "pids_depth");
    public static final long COMM = offset(EVENT, "comm");
    public static final long PROCESS_COMM = offset(EVENT, "process_comm");
    public static final long SLAB_CACHE = offset(EVENT, "slab_cache");
    public static final long PIDNS = offset(EVENT, "pidns");
    public static final long PIDS = offset(EVENT, "pids");
    public static final long ALLOC_GFP = offset(EVENT, "alloc_gfp");
    public static final long ALLOC_ORDER = offset(EVENT, "alloc_order");
    public static final long ALLOC_INJECTOR = offset(EVENT, "alloc_injector");
    public static final long ALLOC_REPORT = offset(EVENT, "alloc_report");
    public static final long NS_LIMIT = offset(EVENT, "ns_limit");
    public static final long NS_LIMIT_LEVEL = offset(EVENT, "ns_limit_level");
    public static final long NS_LIMIT_MAX = offset(EVENT, "ns_limit_max");
    public static final long NS_LIMIT_CURRENT = offset(EVENT, "ns_limit_current");
    public static final long USER_NS_LEVEL = offset(EVENT, "user_ns_level");

    /** The sysctl of each enum ft_ns_limit value (index), "" for FT_NS_LIMIT_NONE. */
    public static final String[] NS_LIMIT_SYSCTLS = {"", "user.max_user_namespaces", "user.max_pid_namespaces",
        "user.max_uts_namespaces", "user.max_ipc_namespaces", "user.max_net_namespaces", "user.max_mnt_namespaces",
        "user.max_cgroup_namespaces", "user.max_time_namespaces"};
    public static final long PIDNS_LEVEL_SIZE = PIDNS_LEVEL.byteSize();
    public static final long PIDS_LEVEL_SIZE = PIDS_LEVEL.byteSize();
    public static final long PIDNS_INUM = offset(PIDNS_LEVEL, "inum");
    public static final long PIDNS_LEVEL_NO = offset(PIDNS_LEVEL, "level");
    public static final long PIDNS_PID_ALLOCATED = offset(PIDNS_LEVEL, "pid_allocated");
    public static final long PIDNS_PID_MAX = offset(PIDNS_LEVEL, "pid_max");
    public static final long PIDS_CGROUP_ID = offset(PIDS_LEVEL, "cgroup_id");
    public static final long PIDS_COUNTER = offset(PIDS_LEVEL, "counter");
    public static final long PIDS_LIMIT = offset(PIDS_LEVEL, "limit");
    public static final long PIDS_EVENTS = offset(PIDS_LEVEL, "events");
    public static final long PIDS_EVENTS_AT_ENTRY = offset(PIDS_LEVEL, "events_at_entry");
    public static final long PIDS_LIMIT_HITS = offset(PIDS_LEVEL, "limit_hits");
    public static final long PIDS_LIMIT_HITS_AT_ENTRY = offset(PIDS_LEVEL, "limit_hits_at_entry");
    public static final long EVENT_SIZE = EVENT.byteSize();

    private EventLayout() {}

    static long offset(StructLayout layout, String field) {
        return layout.byteOffset(PathElement.groupElement(field));
    }
}
