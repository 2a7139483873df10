package dev.forktrace.attribution;

import dev.forktrace.bpf.EventLayout;
import dev.forktrace.bpf.Libc;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.KernelSnapshot;
import dev.forktrace.proto.v1.PidNamespaceLevel;
import dev.forktrace.proto.v1.Syscall;
import java.util.Arrays;
import java.util.List;

/** FailureFacts read back from a recorded ForkFailure: replays (report, tests) attribute the same way as live. */
public final class SnapshotFacts implements FailureFacts {
    /** The kernel counts memcg and page_counter charges in pages of its own size (16K or 64K on some arm64 builds). */
    private static final long PAGE = Libc.pageSize();
    private static final List<String> EVIDENCE_NAMES = Arrays.asList(EventLayout.EVIDENCE_NAMES);

    private final ForkFailure failure;
    private final KernelSnapshot snapshot;
    private final int evidence;

    public SnapshotFacts(ForkFailure failure) {
        this.failure = failure;
        this.snapshot = failure.getSnapshot();
        int bits = 0;
        for (String hook : snapshot.getHooksList()) {
            int index = EVIDENCE_NAMES.indexOf(hook);
            if (index >= 0) {
                bits |= 1 << index;
            }
        }
        this.evidence = bits;
    }

    public SystemState system() {
        return new SystemState(snapshot.getThreadsMax(), snapshot.getNrThreads(), snapshot.getGlobalPidMax(),
                snapshot.getOvercommitMemory(), snapshot.getCommittedAsBytes(), snapshot.getCommitLimitBytes());
    }

    @Override public int errno() { return failure.getErrnoValue(); }
    @Override public long cloneFlags() { return failure.getCloneFlags(); }

    @Override
    public int syscall() {
        Syscall syscall = failure.getSyscall();
        return syscall == Syscall.UNRECOGNIZED ? 0 : syscall.getNumber();
    }

    @Override public int evidence() { return evidence; }
    @Override public int uid() { return failure.getUid(); }
    @Override public long capEffective() { return snapshot.getCapEffective(); }
    @Override public long rlimitNproc() { return snapshot.getRlimitNproc(); }
    @Override public long nprocCount() { return snapshot.getNprocCount(); }
    @Override public int allocPidError() { return snapshot.getAllocPidError(); }
    @Override public int pidsCanForkError() { return snapshot.getPidsCanForkError(); }
    @Override public int pidNamespaceDepth() { return snapshot.getPidNamespacesCount(); }
    @Override public long pidNamespaceInum(int level) { return snapshot.getPidNamespaces(level).getInum(); }
    @Override public int pidNamespaceLevel(int level) { return snapshot.getPidNamespaces(level).getLevel(); }

    @Override
    public int pidAllocatedRaw(int level) {
        PidNamespaceLevel ns = snapshot.getPidNamespaces(level);
        return ns.getPidsAllocated() | (ns.getAccepting() ? EventLayout.PIDNS_ADDING : 0);
    }

    @Override public int pidMax(int level) { return snapshot.getPidNamespaces(level).getPidMax(); }
    @Override public int pidsCgroupDepth() { return snapshot.getPidsCgroupsCount(); }
    @Override public long pidsCgroupId(int level) { return snapshot.getPidsCgroups(level).getCgroupId(); }
    @Override public long pidsCounter(int level) { return snapshot.getPidsCgroups(level).getCurrent(); }
    @Override public long pidsLimit(int level) { return snapshot.getPidsCgroups(level).getLimit(); }
    @Override public long pidsEvents(int level) { return snapshot.getPidsCgroups(level).getEvents(); }
    @Override public long pidsEventsAtEntry(int level) { return snapshot.getPidsCgroups(level).getEventsAtEntry(); }
    @Override public long pidsLimitHits(int level) { return snapshot.getPidsCgroups(level).getLimitHits(); }
    @Override public long pidsLimitHitsAtEntry(int level) { return snapshot.getPidsCgroups(level).getLimitHitsAtEntry(); }
    @Override public long memcgId() { return snapshot.getMemcg().getCgroupId(); }
    @Override public long memcgUsagePages() { return snapshot.getMemcg().getUsageBytes() / PAGE; }
    @Override public long memcgMaxPages() { return snapshot.getMemcg().getMaxBytes() / PAGE; }
    @Override public long memcgEventsMax() { return snapshot.getMemcg().getEventsMax(); }
    @Override public long memcgEventsMaxAtEntry() { return snapshot.getMemcg().getEventsMaxAtEntry(); }
    @Override public long memcgKmemUsagePages() { return snapshot.getMemcg().getKmemUsageBytes() / PAGE; }
    @Override public long memcgKmemMaxPages() { return snapshot.getMemcg().getKmemMaxBytes() / PAGE; }
    @Override public long pageCounterUsagePages() { return snapshot.getPageCounterUsageBytes() / PAGE; }
    @Override public long pageCounterMaxPages() { return snapshot.getPageCounterMaxBytes() / PAGE; }
}
