package dev.forktrace.attribution;

import dev.forktrace.bpf.EventLayout;
import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.Confidence;
import dev.forktrace.proto.v1.ScopeKind;

/**
 * Decides why the kernel refused a task, from the kernel's own evidence first and from counters
 * compared with limits second. Pure and allocation-free: it runs once per event.
 *
 * <p>Order of reasoning (see ../shared/notes/kernel-facts.md): a hook's return value or a counter that
 * moved during the call is proof (CONFIRMED); otherwise candidates are checked in the order
 * copy_process() checks them (RLIMIT_NPROC, threads-max, alloc_pid, pids cgroup), because the first
 * limit the kernel met is the one that refused, even when several are near full (INFERRED).
 */
public final class Attributor {
    static final int EPERM = 1, EINTR = 4, EAGAIN = 11, ENOMEM = 12, EEXIST = 17, EINVAL = 22, ENOSPC = 28,
            EUSERS = 87;
    static final long CLONE_NEW_ANY = 0x00020000L /* NEWNS */ | 0x02000000L /* NEWCGROUP */ | 0x04000000L /* NEWUTS */
            | 0x08000000L /* NEWIPC */ | 0x10000000L /* NEWUSER */ | 0x20000000L /* NEWPID */ | 0x40000000L /* NEWNET */
            | 0x00000080L /* NEWTIME */;
    static final int CAP_SYS_ADMIN = 21, CAP_SYS_RESOURCE = 24;
    /** kernel/pid.c RESERVED_PIDS: after the first wrap, alloc_pid skips pids below this. */
    static final int RESERVED_PIDS = 300;
    /**
     * What a fork charges to its memcg: kernel stack, task_struct, mm, VMAs, page tables, files, creds:
     * easily 100-200 KiB, so within 64 pages (256 KiB) of the limit counts as at the limit.
     */
    static final long MEMCG_FORK_HEADROOM_PAGES = 64;
    private static final long UNLIMITED_PAGES = Long.MAX_VALUE / 8192;

    public void attribute(FailureFacts f, SystemState system, Attribution out) {
        out.reset();
        int errno = f.errno();
        int evidence = f.evidence();

        if (errno == EINVAL || errno == EPERM || errno == EEXIST) {
            out.set(Cause.INVALID_REQUEST, Confidence.CONFIRMED, ScopeKind.SCOPE_KIND_UNSPECIFIED, -1, -1, -1);
            return;
        }
        if (errno == EINTR) {
            out.set(Cause.INTERRUPTED, Confidence.CONFIRMED, ScopeKind.SCOPE_KIND_UNSPECIFIED, -1, -1, -1);
            return;
        }
        if (confirmedByKernel(f, system, evidence, errno, out)) {
            out.errnoMisleading = errno == ENOMEM && !isMemoryCause(out.cause);
            return;
        }
        switch (errno) {
            case EAGAIN -> inferResourceLimit(f, system, out);
            case ENOMEM -> inferMemory(f, system, out);
            case ENOSPC, EUSERS -> {
                if ((f.cloneFlags() & CLONE_NEW_ANY) != 0 && f.namespaceLimit() != 0) {
                    // the user namespace count the kernel found at its user.max_*_namespaces
                    out.set(Cause.NAMESPACE_LIMIT, Confidence.INFERRED, ScopeKind.USER, f.namespaceLimitLevel(),
                            f.namespaceLimitMax(), f.namespaceLimitCurrent());
                } else if ((f.cloneFlags() & CLONE_NEW_ANY) != 0) {
                    out.set(Cause.NAMESPACE_LIMIT, Confidence.INFERRED, ScopeKind.USER, -1, -1, -1);
                } else {
                    inferPidNamespaceFull(f, system, out); // alloc_pid's own ENOSPC on some kernels
                }
            }
            default -> { }
        }
        out.errnoMisleading = errno == ENOMEM && !isMemoryCause(out.cause);
    }

    /** Hook results and counters that moved during the call. */
    private boolean confirmedByKernel(FailureFacts f, SystemState system, int evidence, int errno, Attribution out) {
        // copy_process() asks is_rlimit_overlimit() first; the exemption (root, CAP_SYS_RESOURCE/ADMIN) is
        // decided right after from the caller's credentials, which the event carries.
        if (errno == EAGAIN && (evidence & EventLayout.EV_RLIMIT_NPROC_OVER) != 0 && !exemptFromNproc(f)) {
            out.set(Cause.RLIMIT_NPROC, Confidence.CONFIRMED, ScopeKind.USER, -1, f.rlimitNproc(), f.nprocCount());
            return true;
        }
        if ((evidence & EventLayout.EV_ALLOC_PID) != 0 && f.allocPidError() != 0) {
            int level = deadPidNamespaceLevel(f);
            if (level >= 0) {
                out.set(Cause.PID_NAMESPACE_DEAD, Confidence.CONFIRMED, ScopeKind.PID_NAMESPACE, level,
                        f.pidMax(level), pidsAllocated(f, level));
                return true;
            }
            if (-f.allocPidError() == ENOMEM) {
                out.set(Cause.SLAB_ALLOCATION_FAILURE, Confidence.CONFIRMED, ScopeKind.SYSTEM, -1, -1, -1);
                return true;
            }
            level = Math.max(0, pidNamespaceFullLevel(f, system));
            // kernels without a per-namespace pid_max (before 6.14) report -1: the initial namespace's
            // limit is then kernel.pid_max
            out.set(Cause.PID_NAMESPACE_FULL, Confidence.CONFIRMED, ScopeKind.PID_NAMESPACE, level,
                    effectivePidMax(f, system, level), pidsAllocated(f, level));
            return true;
        }
        // Every kernel counts a pids refusal in the forking task's own cgroup (level 0): v1 and cgroup2
        // before 6.11 in pids.events, 6.11+ in pids.events.local (forkfail). On 6.11+ cgroup2 an ancestor's
        // pids.events also moves when a fork elsewhere below it is refused, which proves nothing about ours.
        boolean pidsRefused = ((evidence & EventLayout.EV_PIDS_CAN_FORK) != 0 && f.pidsCanForkError() != 0)
                || (evidence & EventLayout.EV_PIDS_REJECT_MSG) != 0
                || (errno == EAGAIN && pidsEventsMoved(f, 0));
        if (pidsRefused) {
            // The level that refused: where the kernel counted the hit (6.11+ cgroup2), else the innermost
            // level at its limit (pids_try_charge stops at the first level the charge would exceed).
            int level = pidsLimitHitLevel(f);
            if (level < 0) {
                level = pidsLimitingLevel(f);
            }
            if (level < 0) {
                level = Math.max(0, pidsEventsMovedLevel(f));
            }
            out.set(Cause.PIDS_CGROUP_LIMIT, Confidence.CONFIRMED, ScopeKind.CGROUP, level,
                    f.pidsCgroupDepth() > level ? f.pidsLimit(level) : -1,
                    f.pidsCgroupDepth() > level ? f.pidsCounter(level) : -1);
            return true;
        }
        if (errno == ENOMEM) {
            int dead = deadPidNamespaceLevel(f);
            if (dead >= 0) { // the flag cannot come back: the namespace refuses every fork from now on
                out.set(Cause.PID_NAMESPACE_DEAD, Confidence.CONFIRMED, ScopeKind.PID_NAMESPACE, dead, f.pidMax(dead),
                        pidsAllocated(f, dead));
                return true;
            }
            if ((evidence & EventLayout.EV_OVERCOMMIT) != 0) { // dup_mmap's accounting was refused
                out.set(Cause.OVERCOMMIT_LIMIT, Confidence.CONFIRMED, ScopeKind.SYSTEM, -1, system.commitLimitBytes(),
                        system.committedAsBytes());
                return true;
            }
            if ((evidence & EventLayout.EV_SLAB_OOM) != 0) {
                out.set(Cause.SLAB_ALLOCATION_FAILURE, Confidence.CONFIRMED, ScopeKind.SYSTEM, -1, -1, -1);
                return true;
            }
            boolean memcgRefused = (evidence & EventLayout.EV_PAGE_COUNTER) != 0
                    || ((evidence & EventLayout.EV_ENTRY_SNAPSHOT) != 0 && f.memcgId() != 0
                            && f.memcgEventsMax() > f.memcgEventsMaxAtEntry());
            if (memcgRefused) {
                // with the hook, the counter that refused: memory, memory+swap or (cgroup v1 before 5.16) kmem
                boolean byCounter = (evidence & EventLayout.EV_PAGE_COUNTER) != 0 && f.pageCounterMaxPages() > 0;
                out.set(Cause.MEMCG_LIMIT, Confidence.CONFIRMED, ScopeKind.MEMCG, -1,
                        byCounter ? f.pageCounterMaxPages() : f.memcgMaxPages(),
                        byCounter ? f.pageCounterUsagePages() : f.memcgUsagePages());
                return true;
            }
            if ((evidence & EventLayout.EV_PAGE_ALLOC_FAIL) != 0) {
                out.set(Cause.PAGE_ALLOCATION_FAILURE, Confidence.CONFIRMED, ScopeKind.SYSTEM, -1, -1, -1);
                return true;
            }
        }
        return false;
    }

    /** EAGAIN without proof: the first limit copy_process() checks that is at its maximum. */
    private void inferResourceLimit(FailureFacts f, SystemState system, Attribution out) {
        long rlimit = f.rlimitNproc();
        if (rlimit >= 0 && f.nprocCount() >= rlimit && !exemptFromNproc(f)) {
            out.set(Cause.RLIMIT_NPROC, Confidence.INFERRED, ScopeKind.USER, -1, rlimit, f.nprocCount());
            return;
        }
        if (system.threadsMax() > 0 && system.nrThreads() >= system.threadsMax() - threadsSlack(system.threadsMax())) {
            out.set(Cause.THREADS_MAX, Confidence.INFERRED, ScopeKind.SYSTEM, -1, system.threadsMax(),
                    system.nrThreads());
            return;
        }
        if (inferPidNamespaceFull(f, system, out)) {
            return;
        }
        int pidsLevel = pidsLimitingLevel(f);
        if (pidsLevel >= 0) {
            out.set(Cause.PIDS_CGROUP_LIMIT, Confidence.INFERRED, ScopeKind.CGROUP, pidsLevel, f.pidsLimit(pidsLevel),
                    f.pidsCounter(pidsLevel));
            return;
        }
        out.explainableByLaterReading = true;
    }

    /** ENOMEM without proof: memcg near its limit, overcommit policy, or (3.10) a full pid range. */
    private void inferMemory(FailureFacts f, SystemState system, Attribution out) {
        long maxPages = f.memcgMaxPages();
        if (f.memcgId() != 0 && maxPages > 0 && maxPages < UNLIMITED_PAGES
                && f.memcgUsagePages() + MEMCG_FORK_HEADROOM_PAGES >= maxPages) {
            out.set(Cause.MEMCG_LIMIT, Confidence.INFERRED, ScopeKind.MEMCG, -1, maxPages, f.memcgUsagePages());
            return;
        }
        long kmemMax = f.memcgKmemMaxPages();
        if (f.memcgId() != 0 && kmemMax > 0 && kmemMax < UNLIMITED_PAGES
                && f.memcgKmemUsagePages() + MEMCG_FORK_HEADROOM_PAGES >= kmemMax) {
            out.set(Cause.MEMCG_LIMIT, Confidence.INFERRED, ScopeKind.MEMCG, -1, kmemMax, f.memcgKmemUsagePages());
            return;
        }
        if (system.overcommitMemory() == 2) {
            out.set(Cause.OVERCOMMIT_LIMIT, Confidence.INFERRED, ScopeKind.SYSTEM, -1, system.commitLimitBytes(),
                    system.committedAsBytes());
            return;
        }
        // Before 4.x (e.g. 3.10, seed 000) copy_process forced -ENOMEM when alloc_pid failed.
        inferPidNamespaceFull(f, system, out);
    }

    /** PID_NAMESPACE_FULL (INFERRED) when some level has no free pid; true if so. */
    private static boolean inferPidNamespaceFull(FailureFacts f, SystemState system, Attribution out) {
        int level = pidNamespaceFullLevel(f, system);
        if (level < 0) {
            return false;
        }
        out.set(Cause.PID_NAMESPACE_FULL, Confidence.INFERRED, ScopeKind.PID_NAMESPACE, level,
                effectivePidMax(f, system, level), pidsAllocated(f, level));
        return true;
    }

    static boolean isMemoryCause(Cause cause) {
        return cause == Cause.MEMCG_LIMIT || cause == Cause.SLAB_ALLOCATION_FAILURE
                || cause == Cause.PAGE_ALLOCATION_FAILURE || cause == Cause.OVERCOMMIT_LIMIT;
    }

    /** copy_process skips the RLIMIT_NPROC check for root in the initial user namespace and for
     * CAP_SYS_RESOURCE / CAP_SYS_ADMIN holders. */
    static boolean exemptFromNproc(FailureFacts f) {
        long caps = f.capEffective();
        return f.uid() == 0 || (caps & (1L << CAP_SYS_RESOURCE)) != 0 || (caps & (1L << CAP_SYS_ADMIN)) != 0;
    }

    private static long threadsSlack(long threadsMax) {
        return Math.max(2, threadsMax / 100); // nr_threads is read from /proc a moment after the failure
    }

    static int deadPidNamespaceLevel(FailureFacts f) {
        for (int i = 0; i < f.pidNamespaceDepth(); i++) {
            if ((f.pidAllocatedRaw(i) & EventLayout.PIDNS_ADDING) == 0) {
                return i;
            }
        }
        return -1;
    }

    static long pidsAllocated(FailureFacts f, int level) {
        return f.pidAllocatedRaw(level) & ~EventLayout.PIDNS_ADDING & 0xffffffffL;
    }

    static long effectivePidMax(FailureFacts f, SystemState system, int level) {
        int own = f.pidMax(level);
        if (own > 0) {
            return own;
        }
        return f.pidNamespaceLevel(level) == 0 ? system.globalPidMax() : -1;
    }

    /**
     * The outermost pid namespace level with no free pid left. After its first wrap alloc_pid only hands
     * out pids from RESERVED_PIDS up to pid_max, so "full" allows a margin of the pids below it.
     */
    static int pidNamespaceFullLevel(FailureFacts f, SystemState system) {
        for (int i = f.pidNamespaceDepth() - 1; i >= 0; i--) {
            long max = effectivePidMax(f, system, i);
            if (max <= 0) {
                continue;
            }
            long margin = Math.min(RESERVED_PIDS, max / 10);
            if (pidsAllocated(f, i) >= max - 1 - margin) {
                return i;
            }
        }
        return -1;
    }

    /** The innermost pids cgroup level at its limit; the charge of the failed attempt was already reverted. */
    static int pidsLimitingLevel(FailureFacts f) {
        for (int i = 0; i < f.pidsCgroupDepth(); i++) {
            if (f.pidsLimit(i) >= 0 && f.pidsLimit(i) < Long.MAX_VALUE && f.pidsCounter(i) >= f.pidsLimit(i)) {
                return i;
            }
        }
        return -1;
    }

    static boolean pidsEventsMoved(FailureFacts f, int level) {
        return (f.evidence() & EventLayout.EV_ENTRY_SNAPSHOT) != 0 && level < f.pidsCgroupDepth()
                && f.pidsEvents(level) > f.pidsEventsAtEntry(level);
    }

    /**
     * The innermost level whose own pids.max the kernel counted as hit during the call (pids.events.local
     * "max" on 6.11+ cgroup2 without pids_localevents, 385a635cacfe "cgroup/pids: Make event counters
     * hierarchical"); -1 where no level's count moved or the kernel keeps none (v1, older, localevents).
     */
    static int pidsLimitHitLevel(FailureFacts f) {
        if ((f.evidence() & EventLayout.EV_ENTRY_SNAPSHOT) == 0) {
            return -1;
        }
        for (int i = 0; i < f.pidsCgroupDepth(); i++) {
            if (f.pidsLimitHitsAtEntry(i) >= 0 && f.pidsLimitHits(i) > f.pidsLimitHitsAtEntry(i)) {
                return i;
            }
        }
        return -1;
    }

    static int pidsEventsMovedLevel(FailureFacts f) {
        if ((f.evidence() & EventLayout.EV_ENTRY_SNAPSHOT) == 0) {
            return -1;
        }
        for (int i = 0; i < f.pidsCgroupDepth(); i++) {
            if (f.pidsEvents(i) > f.pidsEventsAtEntry(i)) {
                return i;
            }
        }
        return -1;
    }
}
