package dev.forktrace.pipeline;

import dev.forktrace.attribution.FailureFacts;
import dev.forktrace.attribution.RawEvent;
import dev.forktrace.bpf.EventLayout;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A failure signature, struct ft_signature of bpf/forktrace.h: the facts the attributor decides by, as
 * the kernel records them for a failure the ring had no room for. {@link #of} computes the same key
 * from a delivered event, so an aggregated failure can take the cause and scope of a delivered one.
 * Mutable so that the per-event path can compute it into one reused instance; {@link #copy} for keys.
 */
public final class Signature {
    long pidsMovedCgroupId, pidsLimitCgroupId, memcgId;
    int tgid, uid, pidnsInum, error, evidence, allocPidError, pidsCanForkError, hookTier, syscall, flags;
    int pidsMovedLevel = -1, pidsLimitLevel = -1;

    private static final long CLONE_NEW_ANY = 0x00020000L | 0x02000000L | 0x04000000L | 0x08000000L | 0x10000000L
            | 0x20000000L | 0x40000000L | 0x00000080L;
    private static final int CAP_SYS_ADMIN = 21, CAP_SYS_RESOURCE = 24;

    /** The signature the kernel would have counted this delivered event under (same rules as count_signature). */
    public Signature of(RawEvent e) {
        return of((FailureFacts) e, e.pid(), e.hookTier(), e.pidNamespaceDepth() > 0 ? (int) e.pidNamespaceInum(0) : 0);
    }

    Signature of(FailureFacts e, int tgid, int hookTier, int pidnsInum) {
        this.tgid = tgid;
        this.hookTier = hookTier;
        this.pidnsInum = pidnsInum;
        uid = e.uid();
        error = -e.errno();
        evidence = e.evidence();
        allocPidError = e.allocPidError();
        pidsCanForkError = e.pidsCanForkError();
        syscall = e.syscall();
        flags = 0;
        if ((e.cloneFlags() & CLONE_NEW_ANY) != 0) {
            flags |= EventLayout.SIG_NEW_NAMESPACE;
        }
        long caps = e.capEffective();
        if (uid == 0 || (caps & ((1L << CAP_SYS_ADMIN) | (1L << CAP_SYS_RESOURCE))) != 0) {
            flags |= EventLayout.SIG_NPROC_EXEMPT;
        }
        long rlimit = e.rlimitNproc();
        if (rlimit >= 0 && e.nprocCount() >= rlimit) {
            flags |= EventLayout.SIG_NPROC_AT_LIMIT;
        }
        for (int i = 0; i < e.pidNamespaceDepth(); i++) {
            if ((e.pidAllocatedRaw(i) & EventLayout.PIDNS_ADDING) == 0) {
                flags |= EventLayout.SIG_PIDNS_DEAD;
            }
        }
        boolean snapshot = (evidence & EventLayout.EV_ENTRY_SNAPSHOT) != 0;
        pidsMovedLevel = pidsLimitLevel = -1;
        pidsMovedCgroupId = pidsLimitCgroupId = 0;
        for (int i = 0; i < e.pidsCgroupDepth(); i++) {
            long limit = e.pidsLimit(i);
            if (pidsLimitLevel < 0 && limit >= 0 && limit < Long.MAX_VALUE && e.pidsCounter(i) >= limit) {
                pidsLimitLevel = i;
                pidsLimitCgroupId = e.pidsCgroupId(i);
            }
            if (pidsMovedLevel < 0 && snapshot && e.pidsEvents(i) > e.pidsEventsAtEntry(i)) {
                pidsMovedLevel = i;
                pidsMovedCgroupId = e.pidsCgroupId(i);
            }
        }
        memcgId = snapshot && e.memcgId() != 0 && e.memcgEventsMax() > e.memcgEventsMaxAtEntry() ? e.memcgId() : 0;
        return this;
    }

    /** Reads one struct ft_signature (as the shim copied it out of the kernel's map). */
    public Signature read(MemorySegment s, long base) {
        pidsMovedCgroupId = s.get(JAVA_LONG, base + field("pids_moved_cgroup_id"));
        pidsLimitCgroupId = s.get(JAVA_LONG, base + field("pids_limit_cgroup_id"));
        memcgId = s.get(JAVA_LONG, base + field("memcg_id"));
        tgid = s.get(JAVA_INT, base + field("tgid"));
        uid = s.get(JAVA_INT, base + field("uid"));
        pidnsInum = s.get(JAVA_INT, base + field("pidns_inum"));
        error = s.get(JAVA_INT, base + field("error"));
        evidence = s.get(JAVA_INT, base + field("evidence"));
        allocPidError = s.get(JAVA_INT, base + field("alloc_pid_error"));
        pidsCanForkError = s.get(JAVA_INT, base + field("pids_can_fork_error"));
        hookTier = s.get(JAVA_INT, base + field("hook_tier"));
        syscall = s.get(JAVA_INT, base + field("syscall"));
        flags = s.get(JAVA_INT, base + field("flags"));
        pidsMovedLevel = s.get(JAVA_INT, base + field("pids_moved_level"));
        pidsLimitLevel = s.get(JAVA_INT, base + field("pids_limit_level"));
        return this;
    }

    /**
     * Writes a struct ft_event carrying exactly what this signature knows, for attributing a signature
     * no delivered event had: the attributor then sees the same proofs and limit comparisons.
     */
    public void writeEvent(MemorySegment event) {
        event.fill((byte) 0);
        event.set(JAVA_INT, EventLayout.PID, tgid);
        event.set(JAVA_INT, EventLayout.TID, tgid);
        event.set(JAVA_INT, EventLayout.UID, uid);
        event.set(JAVA_INT, EventLayout.ERROR, error);
        event.set(JAVA_INT, EventLayout.EVIDENCE, evidence);
        event.set(JAVA_INT, EventLayout.ALLOC_PID_ERROR, allocPidError);
        event.set(JAVA_INT, EventLayout.PIDS_CAN_FORK_ERROR, pidsCanForkError);
        event.set(JAVA_INT, EventLayout.HOOK_TIER, hookTier);
        event.set(JAVA_INT, EventLayout.SYSCALL, syscall);
        event.set(JAVA_LONG, EventLayout.CLONE_FLAGS, (flags & EventLayout.SIG_NEW_NAMESPACE) != 0 ? 0x20000000L : 0);
        event.set(JAVA_LONG, EventLayout.CAP_EFFECTIVE,
                (flags & EventLayout.SIG_NPROC_EXEMPT) != 0 ? 1L << CAP_SYS_RESOURCE : 0);
        boolean atLimit = (flags & EventLayout.SIG_NPROC_AT_LIMIT) != 0;
        event.set(JAVA_LONG, EventLayout.RLIMIT_NPROC, atLimit ? 1 : -1);
        event.set(JAVA_LONG, EventLayout.NPROC_COUNT, atLimit ? 1 : -1);
        event.set(JAVA_INT, EventLayout.PIDNS_DEPTH, 1);
        event.set(JAVA_INT, EventLayout.PIDNS + EventLayout.PIDNS_INUM, pidnsInum);
        event.set(JAVA_INT, EventLayout.PIDNS + EventLayout.PIDNS_PID_ALLOCATED,
                (flags & EventLayout.SIG_PIDNS_DEAD) != 0 ? 0 : EventLayout.PIDNS_ADDING);
        event.set(JAVA_INT, EventLayout.PIDNS + EventLayout.PIDNS_PID_MAX, -1);
        int depth = Math.max(pidsMovedLevel, pidsLimitLevel) + 1;
        event.set(JAVA_INT, EventLayout.PIDS_DEPTH, depth);
        for (int i = 0; i < depth; i++) {
            long at = EventLayout.PIDS + i * EventLayout.PIDS_LEVEL_SIZE;
            boolean limiting = i == pidsLimitLevel;
            event.set(JAVA_LONG, at + EventLayout.PIDS_CGROUP_ID,
                    limiting ? pidsLimitCgroupId : i == pidsMovedLevel ? pidsMovedCgroupId : 0);
            event.set(JAVA_LONG, at + EventLayout.PIDS_LIMIT, limiting ? 1 : Long.MAX_VALUE);
            event.set(JAVA_LONG, at + EventLayout.PIDS_COUNTER, limiting ? 1 : 0);
            event.set(JAVA_LONG, at + EventLayout.PIDS_EVENTS, i == pidsMovedLevel ? 1 : 0);
        }
        if (memcgId != 0) {
            event.set(JAVA_LONG, EventLayout.MEMCG_ID, memcgId);
            event.set(JAVA_LONG, EventLayout.MEMCG_EVENTS_MAX, 1);
        }
    }

    private static long field(String name) {
        return EventLayout.SIGNATURE.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement(name));
    }

    public Signature copy() {
        Signature c = new Signature();
        c.pidsMovedCgroupId = pidsMovedCgroupId;
        c.pidsLimitCgroupId = pidsLimitCgroupId;
        c.memcgId = memcgId;
        c.tgid = tgid;
        c.uid = uid;
        c.pidnsInum = pidnsInum;
        c.error = error;
        c.evidence = evidence;
        c.allocPidError = allocPidError;
        c.pidsCanForkError = pidsCanForkError;
        c.hookTier = hookTier;
        c.syscall = syscall;
        c.flags = flags;
        c.pidsMovedLevel = pidsMovedLevel;
        c.pidsLimitLevel = pidsLimitLevel;
        return c;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Signature s && pidsMovedCgroupId == s.pidsMovedCgroupId
                && pidsLimitCgroupId == s.pidsLimitCgroupId && memcgId == s.memcgId && tgid == s.tgid && uid == s.uid
                && pidnsInum == s.pidnsInum && error == s.error && evidence == s.evidence
                && allocPidError == s.allocPidError && pidsCanForkError == s.pidsCanForkError
                && hookTier == s.hookTier && syscall == s.syscall && flags == s.flags
                && pidsMovedLevel == s.pidsMovedLevel && pidsLimitLevel == s.pidsLimitLevel;
    }

    @Override
    public int hashCode() {
        long h = pidsMovedCgroupId * 31 + pidsLimitCgroupId;
        h = h * 31 + memcgId;
        h = h * 31 + tgid;
        h = h * 31 + uid;
        h = h * 31 + pidnsInum;
        h = h * 31 + error;
        h = h * 31 + evidence;
        h = h * 31 + allocPidError;
        h = h * 31 + pidsCanForkError;
        h = h * 31 + hookTier;
        h = h * 31 + syscall;
        h = h * 31 + flags;
        h = h * 31 + pidsMovedLevel;
        h = h * 31 + pidsLimitLevel;
        return Long.hashCode(h);
    }

    @Override
    public String toString() {
        return "signature[tgid " + tgid + " uid " + uid + " error " + error + " evidence " + evidence + " flags " + flags
                + " pids moved " + pidsMovedLevel + ":" + pidsMovedCgroupId + " at limit " + pidsLimitLevel + ":"
                + pidsLimitCgroupId + " memcg " + memcgId + " pidns " + pidnsInum + "]";
    }
}
