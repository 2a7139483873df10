package dev.forktrace.attribution;

/**
 * What the kernel recorded about one failed task creation, as the attributor needs it. Implemented
 * zero-copy over a ring-buffer record ({@link RawEvent}) and over a recorded ForkFailure snapshot
 * ({@link SnapshotFacts}) for replay and tests.
 */
public interface FailureFacts {
    /** Positive errno returned to the caller. */
    int errno();

    long cloneFlags();

    /** enum ft_ns_limit: which user.max_*_namespaces count was at its maximum; 0 none found. */
    default int namespaceLimit() { return 0; }

    /** User namespaces above the caller's where that count was (0 = the caller's own). */
    default int namespaceLimitLevel() { return 0; }

    /** That user.max_*_namespaces value; -1 unknown. */
    default long namespaceLimitMax() { return -1; }

    /** The count there; -1 unknown (kernels before 5.14). */
    default long namespaceLimitCurrent() { return -1; }

    int syscall();

    /** EventLayout.EV_* bits. */
    int evidence();

    int uid();

    long capEffective();

    /** RLIMIT_NPROC soft limit, -1 when unlimited. */
    long rlimitNproc();

    /** NPROC count of the caller's user, -1 unknown. */
    long nprocCount();

    int allocPidError();

    int pidsCanForkError();

    int pidNamespaceDepth();

    long pidNamespaceInum(int level);

    int pidNamespaceLevel(int level);

    /** pid_allocated including the PIDNS_ADDING flag. */
    int pidAllocatedRaw(int level);

    /** Per-namespace pid_max, -1 where the kernel has none. */
    int pidMax(int level);

    int pidsCgroupDepth();

    long pidsCgroupId(int level);

    long pidsCounter(int level);

    long pidsLimit(int level);

    long pidsEvents(int level);

    long pidsEventsAtEntry(int level);

    /**
     * Refusals by this level's own pids.max (pids.events.local "max", cgroup2 on 6.11+ without
     * pids_localevents); 0 or -1 where the kernel does not count per level.
     */
    long pidsLimitHits(int level);

    long pidsLimitHitsAtEntry(int level);

    long memcgId();

    long memcgUsagePages();

    long memcgMaxPages();

    long memcgEventsMax();

    long memcgEventsMaxAtEntry();

    /** cgroup v1 kmem counter (kernels before 5.16); max 0 where absent. */
    long memcgKmemUsagePages();

    long memcgKmemMaxPages();

    /** The page_counter that refused a charge (hook page_counter_try_charge): memory, memsw or kmem. */
    long pageCounterUsagePages();

    long pageCounterMaxPages();
}
