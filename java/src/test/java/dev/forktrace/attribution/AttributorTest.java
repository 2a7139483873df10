package dev.forktrace.attribution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.Confidence;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.KernelSnapshot;
import dev.forktrace.proto.v1.MemcgState;
import dev.forktrace.proto.v1.PidNamespaceLevel;
import dev.forktrace.proto.v1.PidsCgroupLevel;
import dev.forktrace.proto.v1.ScopeKind;
import org.junit.jupiter.api.Test;

/** Attribution rules on kernel snapshots, with the ambiguous cases the errno alone cannot settle. */
class AttributorTest {
    private static final int EAGAIN = 11, ENOMEM = 12;
    private static final long UNLIMITED = Long.MAX_VALUE;
    private static final long PAGE = 4096;

    private final Attributor attributor = new Attributor();

    private static ForkFailure.Builder failure(int errno, int uid) {
        return ForkFailure.newBuilder().setErrnoValue(errno).setUid(uid).setCloneFlags(0x11 /* SIGCHLD */);
    }

    private static KernelSnapshot.Builder snapshot() {
        return KernelSnapshot.newBuilder().setRlimitNproc(-1).setNprocCount(5)
                .addPidNamespaces(PidNamespaceLevel.newBuilder().setInum((int) 4026531836L)
                        .setLevel(0).setPidsAllocated(200).setAccepting(true).setPidMax(-1))
                .setThreadsMax(100_000).setNrThreads(300).setGlobalPidMax(4_194_304).setOvercommitMemory(0);
    }

    private static PidsCgroupLevel pids(long id, String path, long current, long limit, long events, long atEntry) {
        return PidsCgroupLevel.newBuilder().setCgroupId(id).setPath(path).setCurrent(current).setLimit(limit)
                .setEvents(events).setEventsAtEntry(atEntry).build();
    }

    /** A level of a cgroup2 hierarchy on 6.11+: pids.events.local "max" as limit hits. */
    private static PidsCgroupLevel pids(long id, String path, long current, long limit, long events, long atEntry,
            long limitHits, long limitHitsAtEntry) {
        return pids(id, path, current, limit, events, atEntry).toBuilder().setLimitHits(limitHits)
                .setLimitHitsAtEntry(limitHitsAtEntry).build();
    }

    private Attribution attribute(ForkFailure.Builder f, KernelSnapshot.Builder s) {
        SnapshotFacts facts = new SnapshotFacts(f.setSnapshot(s).build());
        Attribution out = new Attribution();
        attributor.attribute(facts, facts.system(), out);
        return out;
    }

    @Test
    void pidsEventsThatMovedDuringTheCallConfirmTheCgroupAndTheLimitingAncestorIsTheScope() {
        KernelSnapshot.Builder s = snapshot().addHooks("entry_snapshot")
                .addPidsCgroups(pids(7, "/ex/parent/child", 2, UNLIMITED, 4, 3))
                .addPidsCgroups(pids(6, "/ex/parent", 5, 5, 0, 0));
        Attribution a = attribute(failure(EAGAIN, 0), s);
        assertEquals(Cause.PIDS_CGROUP_LIMIT, a.cause);
        assertEquals(Confidence.CONFIRMED, a.confidence);
        assertEquals(ScopeKind.CGROUP, a.scopeKind);
        assertEquals(1, a.scopeLevel, "the parent at its limit refused, not the child");
        assertEquals(5, a.limit);
        assertEquals(5, a.current);
    }

    @Test
    void eagainWithNprocAndPidsBothFullAndNoProofFollowsTheKernelsOrderRlimitFirst() {
        KernelSnapshot.Builder s = snapshot().setRlimitNproc(30).setNprocCount(30)
                .addPidsCgroups(pids(6, "/ex", 40, 40, 2, 2));
        Attribution a = attribute(failure(EAGAIN, 1000), s);
        assertEquals(Cause.RLIMIT_NPROC, a.cause);
        assertEquals(Confidence.INFERRED, a.confidence);
        assertEquals(ScopeKind.USER, a.scopeKind);
        assertEquals(30, a.limit);
        assertEquals(30, a.current);
    }

    @Test
    void eagainWithNprocFullButPidsEventsMovedIsThePidsCgroup() {
        KernelSnapshot.Builder s = snapshot().addHooks("entry_snapshot").setRlimitNproc(30).setNprocCount(30)
                .addPidsCgroups(pids(6, "/ex", 40, 40, 3, 2));
        Attribution a = attribute(failure(EAGAIN, 1000), s);
        assertEquals(Cause.PIDS_CGROUP_LIMIT, a.cause);
        assertEquals(Confidence.CONFIRMED, a.confidence);
    }

    @Test
    void isRlimitOverlimitSayingTrueConfirmsRlimitNprocForAnUnprivilegedCaller() {
        KernelSnapshot.Builder s = snapshot().addHooks("entry_snapshot").addHooks("is_rlimit_overlimit")
                .setRlimitNproc(30).setNprocCount(30);
        Attribution a = attribute(failure(EAGAIN, 1000), s);
        assertEquals(Cause.RLIMIT_NPROC, a.cause);
        assertEquals(Confidence.CONFIRMED, a.confidence);
        assertEquals(ScopeKind.USER, a.scopeKind);
        assertEquals(30, a.limit);
    }

    @Test
    void isRlimitOverlimitForAnExemptCallerIsNotTheCause() {
        KernelSnapshot.Builder s = snapshot().addHooks("entry_snapshot").addHooks("is_rlimit_overlimit")
                .setRlimitNproc(30).setNprocCount(31).setCapEffective(1L << 24)
                .addPidsCgroups(pids(6, "/ex", 10, 10, 1, 0));
        Attribution a = attribute(failure(EAGAIN, 1000), s);
        assertEquals(Cause.PIDS_CGROUP_LIMIT, a.cause, "CAP_SYS_RESOURCE passes the NPROC check; the cgroup refused");
        assertEquals(Confidence.CONFIRMED, a.confidence);
    }

    @Test
    void vmEnoughMemoryRefusalConfirmsOvercommitEvenWithAFullMemcg() {
        KernelSnapshot.Builder s = snapshot().addHooks("entry_snapshot").addHooks("vm_enough_memory")
                .setOvercommitMemory(2).setCommittedAsBytes(900L << 20).setCommitLimitBytes(1000L << 20)
                .setMemcg(MemcgState.newBuilder().setCgroupId(3).setUsageBytes(100 * PAGE).setMaxBytes(100 * PAGE));
        Attribution a = attribute(failure(ENOMEM, 1000), s);
        assertEquals(Cause.OVERCOMMIT_LIMIT, a.cause);
        assertEquals(Confidence.CONFIRMED, a.confidence);
        assertEquals(1000L << 20, a.limit);
        assertFalse(a.errnoMisleading);
    }

    @Test
    void theRefusingPageCounterIsTheScopesLimitEvenWhenItIsTheKmemCounter() {
        KernelSnapshot.Builder s = snapshot().addHooks("entry_snapshot").addHooks("page_counter_try_charge")
                .setPageCounterUsageBytes(2040 * PAGE).setPageCounterMaxBytes(2048 * PAGE)
                .setMemcg(MemcgState.newBuilder().setCgroupId(3).setUsageBytes(3000 * PAGE).setMaxBytes(UNLIMITED / 2)
                        .setKmemUsageBytes(2040 * PAGE).setKmemMaxBytes(2048 * PAGE));
        Attribution a = attribute(failure(ENOMEM, 0), s);
        assertEquals(Cause.MEMCG_LIMIT, a.cause);
        assertEquals(Confidence.CONFIRMED, a.confidence);
        assertEquals(2048, a.limit, "memory.kmem.limit_in_bytes refused, not the unlimited memory.limit_in_bytes");
        assertEquals(2040, a.current);
    }

    @Test
    void rootIsExemptFromRlimitNproc() {
        KernelSnapshot.Builder s = snapshot().setRlimitNproc(30).setNprocCount(30)
                .addPidsCgroups(pids(6, "/ex", 10, 10, 0, 0));
        Attribution a = attribute(failure(EAGAIN, 0), s);
        assertEquals(Cause.PIDS_CGROUP_LIMIT, a.cause, "root skips the NPROC check, so the full cgroup refused");
        assertEquals(Confidence.INFERRED, a.confidence);
    }

    @Test
    void capSysResourceIsExemptFromRlimitNproc() {
        KernelSnapshot.Builder s = snapshot().setRlimitNproc(30).setNprocCount(31).setCapEffective(1L << 24);
        Attribution a = attribute(failure(EAGAIN, 1000), s);
        assertEquals(Cause.UNKNOWN, a.cause);
    }

    @Test
    void enomemWithADeadPidNamespaceAndFreeMemoryIsTheDeadNamespaceAndTheErrnoIsMisleading() {
        KernelSnapshot.Builder s = snapshot()
                .addPidNamespaces(0, PidNamespaceLevel.newBuilder().setInum(12345).setLevel(1).setPidsAllocated(1)
                        .setAccepting(false).setPidMax(-1))
                .setMemcg(MemcgState.newBuilder().setCgroupId(3).setUsageBytes(10 * PAGE).setMaxBytes(1L << 40));
        Attribution a = attribute(failure(ENOMEM, 0), s);
        assertEquals(Cause.PID_NAMESPACE_DEAD, a.cause);
        assertEquals(Confidence.CONFIRMED, a.confidence);
        assertEquals(ScopeKind.PID_NAMESPACE, a.scopeKind);
        assertEquals(0, a.scopeLevel);
        assertTrue(a.errnoMisleading);
    }

    @Test
    void pidNamespaceAtItsOwnPidMaxIsFull() {
        KernelSnapshot.Builder s = snapshot()
                .addPidNamespaces(0, PidNamespaceLevel.newBuilder().setInum(777).setLevel(1).setPidsAllocated(309)
                        .setAccepting(true).setPidMax(310));
        Attribution a = attribute(failure(EAGAIN, 0), s);
        assertEquals(Cause.PID_NAMESPACE_FULL, a.cause);
        assertEquals(0, a.scopeLevel);
        assertEquals(310, a.limit);
        assertEquals(309, a.current);
    }

    @Test
    void initialNamespaceUsesTheGlobalPidMax() {
        KernelSnapshot.Builder s = KernelSnapshot.newBuilder().setRlimitNproc(-1)
                .addPidNamespaces(PidNamespaceLevel.newBuilder().setInum(1).setLevel(0).setPidsAllocated(4000)
                        .setAccepting(true).setPidMax(-1))
                .setThreadsMax(100_000).setNrThreads(4000).setGlobalPidMax(4096);
        Attribution a = attribute(failure(EAGAIN, 0), s);
        assertEquals(Cause.PID_NAMESPACE_FULL, a.cause);
        assertEquals(4096, a.limit);
    }

    @Test
    void onlyAnUnexplainedEagainAsksForAReadingOfNrThreadsTakenAfterTheFailure() {
        Attribution unexplained = attribute(failure(EAGAIN, 0), snapshot());
        assertEquals(Cause.UNKNOWN, unexplained.cause);
        assertTrue(unexplained.explainableByLaterReading);
        // a pids storm inferred from the counters is never held for a reading
        Attribution pids = attribute(failure(EAGAIN, 0), snapshot().addPidsCgroups(pids(6, "/ex", 40, 40, 2, 2)));
        assertEquals(Cause.PIDS_CGROUP_LIMIT, pids.cause);
        assertFalse(pids.explainableByLaterReading);
        Attribution nproc = attribute(failure(EAGAIN, 1000), snapshot().setRlimitNproc(30).setNprocCount(30));
        assertEquals(Cause.RLIMIT_NPROC, nproc.cause);
        assertFalse(nproc.explainableByLaterReading);
    }

    @Test
    void threadsMaxComesBeforePidNamespaceInTheKernelsOrder() {
        KernelSnapshot.Builder s = KernelSnapshot.newBuilder().setRlimitNproc(-1)
                .addPidNamespaces(PidNamespaceLevel.newBuilder().setInum(1).setLevel(0).setPidsAllocated(4095)
                        .setAccepting(true).setPidMax(-1))
                .setThreadsMax(4000).setNrThreads(4000).setGlobalPidMax(4096);
        Attribution a = attribute(failure(EAGAIN, 0), s);
        assertEquals(Cause.THREADS_MAX, a.cause);
        assertEquals(ScopeKind.SYSTEM, a.scopeKind);
    }

    @Test
    void memcgMaxEventsThatMovedConfirmTheMemcgLimit() {
        KernelSnapshot.Builder s = snapshot().addHooks("entry_snapshot")
                .setMemcg(MemcgState.newBuilder().setCgroupId(9).setUsageBytes(100 * PAGE).setMaxBytes(100 * PAGE)
                        .setEventsMax(8).setEventsMaxAtEntry(7));
        Attribution a = attribute(failure(ENOMEM, 0), s);
        assertEquals(Cause.MEMCG_LIMIT, a.cause);
        assertEquals(Confidence.CONFIRMED, a.confidence);
        assertFalse(a.errnoMisleading);
    }

    @Test
    void aV1KmemCounterNearItsLimitExplainsAnEnomemWithoutMemcgEvents() { // seed 003 on 5.10
        KernelSnapshot.Builder s = snapshot().addHooks("entry_snapshot")
                .setMemcg(MemcgState.newBuilder().setCgroupId(9).setUsageBytes(100 * PAGE).setMaxBytes(1L << 50)
                        .setKmemUsageBytes(8278016).setKmemMaxBytes(8388608));
        Attribution a = attribute(failure(ENOMEM, 0), s);
        assertEquals(Cause.MEMCG_LIMIT, a.cause);
        assertEquals(Confidence.INFERRED, a.confidence);
        assertEquals(8388608 / PAGE, a.limit);
    }

    @Test
    void strictOvercommitExplainsAnEnomemWithoutOtherEvidence() {
        KernelSnapshot.Builder s = snapshot().setOvercommitMemory(2).setCommittedAsBytes(900L << 20)
                .setCommitLimitBytes(1000L << 20);
        Attribution a = attribute(failure(ENOMEM, 0), s);
        assertEquals(Cause.OVERCOMMIT_LIMIT, a.cause);
        assertEquals(Confidence.INFERRED, a.confidence);
    }

    @Test
    void allocPidHookResultConfirmsAFullNamespace() {
        KernelSnapshot.Builder s = snapshot().addHooks("alloc_pid").setAllocPidError(-EAGAIN)
                .addPidNamespaces(0, PidNamespaceLevel.newBuilder().setInum(55).setLevel(1).setPidsAllocated(309)
                        .setAccepting(true).setPidMax(310));
        Attribution a = attribute(failure(EAGAIN, 0), s);
        assertEquals(Cause.PID_NAMESPACE_FULL, a.cause);
        assertEquals(Confidence.CONFIRMED, a.confidence);
    }

    @Test
    void allocPidHookInTheInitialNamespaceWithoutItsOwnPidMaxReportsKernelPidMax() {
        // the lab's 31-pid-max on 6.1: kernel.pid_max=400, the namespace has no pid_max field (-1)
        KernelSnapshot.Builder s = KernelSnapshot.newBuilder().setRlimitNproc(-1).setNprocCount(5)
                .addHooks("alloc_pid").setAllocPidError(-EAGAIN)
                .addPidNamespaces(PidNamespaceLevel.newBuilder().setInum((int) 4026531836L).setLevel(0)
                        .setPidsAllocated(399).setAccepting(true).setPidMax(-1))
                .setThreadsMax(100_000).setNrThreads(300).setGlobalPidMax(400).setOvercommitMemory(0);
        Attribution a = attribute(failure(EAGAIN, 0), s);
        assertEquals(Cause.PID_NAMESPACE_FULL, a.cause);
        assertEquals(Confidence.CONFIRMED, a.confidence);
        assertEquals(400, a.limit, "kernel.pid_max, not the missing per-namespace value");
        assertEquals(0, a.scopeLevel);
    }

    @Test
    void slabHookConfirmsASlabFailure() {
        Attribution a = attribute(failure(ENOMEM, 0), snapshot().addHooks("slab_out_of_memory").setSlabCache("dentry"));
        assertEquals(Cause.SLAB_ALLOCATION_FAILURE, a.cause);
        assertEquals(Confidence.CONFIRMED, a.confidence);
    }

    @Test
    void namespaceFlagsWithEnospcAreANamespaceLimit() {
        Attribution a = attribute(failure(28, 1000).setCloneFlags(0x10000000L | 0x11), snapshot());
        assertEquals(Cause.NAMESPACE_LIMIT, a.cause);
    }

    @Test
    void invalidAndInterruptedRequestsAreNamedAsSuch() {
        assertEquals(Cause.INVALID_REQUEST, attribute(failure(22, 0), snapshot()).cause);
        assertEquals(Cause.INTERRUPTED, attribute(failure(4, 0), snapshot()).cause);
    }

    private static final String POD = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice";

    @Test
    void onHierarchicalCgroup2TheLevelWhoseOwnLimitWasHitIsTheScopeEvenWhenItsCounterDroppedSince() {
        // 6.11+ cgroup2: the container scope counts its forkfail, the pod slice its pids.events.local max and
        // (like its ancestors) pids.events max. A sibling task exited before the exit hook read the counters.
        KernelSnapshot.Builder s = snapshot().addHooks("entry_snapshot")
                .addPidsCgroups(pids(9, POD + "/cri-containerd-a.scope", 8, 60, 4, 3, 0, 0))
                .addPidsCgroups(pids(8, POD, 19, 20, 6, 4, 3, 2))
                .addPidsCgroups(pids(7, "/kubepods.slice/kubepods-burstable.slice", 19, UNLIMITED, 3, 2, 0, 0));
        Attribution a = attribute(failure(EAGAIN, 0), s);
        assertEquals(Cause.PIDS_CGROUP_LIMIT, a.cause);
        assertEquals(Confidence.CONFIRMED, a.confidence);
        assertEquals(1, a.scopeLevel, "the pod slice counted the hit of its own pids.max");
        assertEquals(20, a.limit);
    }

    @Test
    void anAncestorsPidsEventsMovedByAForkRefusedElsewhereProveNothingAboutThisOne() {
        // 6.11+ cgroup2: a sibling container's refusal propagates pids.events max up to the pod slice;
        // this task's own cgroup counted nothing, and its RLIMIT_NPROC is full (tracepoint tier, no hooks).
        KernelSnapshot.Builder s = snapshot().addHooks("entry_snapshot").setRlimitNproc(30).setNprocCount(30)
                .addPidsCgroups(pids(9, POD + "/cri-containerd-a.scope", 3, UNLIMITED, 0, 0, 0, 0))
                .addPidsCgroups(pids(8, POD, 12, 20, 5, 4, 0, 0));
        Attribution a = attribute(failure(EAGAIN, 1000), s);
        assertEquals(Cause.RLIMIT_NPROC, a.cause);
        assertEquals(Confidence.INFERRED, a.confidence);
    }

    @Test
    void withoutPerLevelCountsTheInnermostLevelAtItsLimitIsTheScope() {
        // cgroup v1, cgroup2 before 6.11 or mounted with pids_localevents: only the forking cgroup counts.
        KernelSnapshot.Builder s = snapshot().addHooks("entry_snapshot")
                .addPidsCgroups(pids(9, POD + "/cri-containerd-a.scope", 8, 60, 2, 1, 0, 0))
                .addPidsCgroups(pids(8, POD, 20, 20, 0, 0, 0, 0))
                .addPidsCgroups(pids(7, "/kubepods.slice", 20, 30, 0, 0, -1, -1));
        Attribution a = attribute(failure(EAGAIN, 0), s);
        assertEquals(Cause.PIDS_CGROUP_LIMIT, a.cause);
        assertEquals(Confidence.CONFIRMED, a.confidence);
        assertEquals(1, a.scopeLevel);
        assertEquals(20, a.limit);
        assertEquals(20, a.current);
    }
}
