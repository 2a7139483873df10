package dev.forktrace.pipeline;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.forktrace.attribution.Attribution;
import dev.forktrace.attribution.Attributor;
import dev.forktrace.attribution.RawEvent;
import dev.forktrace.attribution.SystemState;
import dev.forktrace.bpf.EventLayout;
import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.CauseScopeCount;
import dev.forktrace.proto.v1.ScopeKind;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Aggregation by failure signature: exact counts per cause and scope, delivered plus kernel-counted. */
class SignatureTallyTest {
    private static final int EAGAIN = 11, ENOMEM = 12;
    private final Arena arena = Arena.ofAuto();

    /** A pids-cgroup refusal on the tracepoint tier: the cgroup's events moved during the call. */
    private MemorySegment pidsStormEvent(int tgid, long cgroupId) {
        MemorySegment e = arena.allocate(EventLayout.EVENT_SIZE, 8);
        e.set(JAVA_INT, EventLayout.PID, tgid);
        e.set(JAVA_INT, EventLayout.ERROR, -EAGAIN);
        e.set(JAVA_INT, EventLayout.EVIDENCE, EventLayout.EV_ENTRY_SNAPSHOT);
        e.set(JAVA_LONG, EventLayout.RLIMIT_NPROC, -1);
        e.set(JAVA_LONG, EventLayout.NPROC_COUNT, 40);
        e.set(JAVA_INT, EventLayout.PIDNS_DEPTH, 1);
        e.set(JAVA_INT, EventLayout.PIDNS + EventLayout.PIDNS_INUM, (int) 4026531836L);
        e.set(JAVA_INT, EventLayout.PIDNS + EventLayout.PIDNS_PID_ALLOCATED, EventLayout.PIDNS_ADDING | 200);
        e.set(JAVA_INT, EventLayout.PIDS_DEPTH, 2);
        long level0 = EventLayout.PIDS, level1 = EventLayout.PIDS + EventLayout.PIDS_LEVEL_SIZE;
        e.set(JAVA_LONG, level0 + EventLayout.PIDS_CGROUP_ID, cgroupId);
        e.set(JAVA_LONG, level0 + EventLayout.PIDS_COUNTER, 3);
        e.set(JAVA_LONG, level0 + EventLayout.PIDS_LIMIT, 3);
        e.set(JAVA_LONG, level0 + EventLayout.PIDS_EVENTS, 1001);
        e.set(JAVA_LONG, level0 + EventLayout.PIDS_EVENTS_AT_ENTRY, 1000);
        e.set(JAVA_LONG, level1 + EventLayout.PIDS_CGROUP_ID, 5);
        e.set(JAVA_LONG, level1 + EventLayout.PIDS_COUNTER, 90);
        e.set(JAVA_LONG, level1 + EventLayout.PIDS_LIMIT, Long.MAX_VALUE);
        return e;
    }

    /** RLIMIT_NPROC on the tracepoint tier: an unprivileged user at its limit (inferred from the counts). */
    private MemorySegment nprocStormEvent(int tgid, int uid) {
        MemorySegment e = arena.allocate(EventLayout.EVENT_SIZE, 8);
        e.set(JAVA_INT, EventLayout.PID, tgid);
        e.set(JAVA_INT, EventLayout.UID, uid);
        e.set(JAVA_INT, EventLayout.ERROR, -EAGAIN);
        e.set(JAVA_INT, EventLayout.EVIDENCE, EventLayout.EV_ENTRY_SNAPSHOT);
        e.set(JAVA_LONG, EventLayout.RLIMIT_NPROC, 2);
        e.set(JAVA_LONG, EventLayout.NPROC_COUNT, 2);
        e.set(JAVA_INT, EventLayout.PIDNS_DEPTH, 1);
        e.set(JAVA_INT, EventLayout.PIDNS + EventLayout.PIDNS_PID_ALLOCATED, EventLayout.PIDNS_ADDING | 200);
        return e;
    }

    private static Signature signatureOf(MemorySegment event) {
        return new Signature().of(new RawEvent().wrap(event, 0));
    }

    private static Attribution attribute(MemorySegment event) {
        Attribution a = new Attribution();
        new Attributor().attribute(new RawEvent().wrap(event, 0), SystemState.UNKNOWN, a);
        return a;
    }

    @Test
    void deliveredPlusAggregatedIsExactPerCauseAndScopeWithTwoCausesAtOnce() {
        SignatureTally tally = new SignatureTally();
        Signature pids = signatureOf(pidsStormEvent(100, 77));
        Signature nproc = signatureOf(nprocStormEvent(200, 61300));
        for (int i = 0; i < 3; i++) {
            tally.delivered(signatureOf(pidsStormEvent(100, 77)), Cause.PIDS_CGROUP_LIMIT, ScopeKind.CGROUP, "/ft13");
        }
        tally.delivered(nproc, Cause.RLIMIT_NPROC, ScopeKind.USER, "uid 61300");
        tally.kernelCounts(new Signature[] {pids.copy(), nproc.copy()}, new long[] {1000, 250}, 2, s -> {
            throw new AssertionError("both signatures were delivered in detail: " + s);
        });
        List<CauseScopeCount> rows = tally.rows();
        assertEquals(2, rows.size());
        assertEquals(row(Cause.PIDS_CGROUP_LIMIT, ScopeKind.CGROUP, "/ft13", 3, 1000), rows.get(0));
        assertEquals(row(Cause.RLIMIT_NPROC, ScopeKind.USER, "uid 61300", 1, 250), rows.get(1));
        assertEquals(1250, tally.aggregated());
        assertEquals("1003 failures of PIDS_CGROUP_LIMIT in /ft13, 1000 of them counted in the kernel without detail "
                + "(ring full)", SignatureTally.describe(rows.get(0)));
    }

    @Test
    void kernelCountsAreCumulativeAndASignatureNeverDeliveredIsAttributedOnceFromItself() {
        SignatureTally tally = new SignatureTally();
        Signature unseen = signatureOf(nprocStormEvent(300, 61301));
        AtomicInteger asked = new AtomicInteger();
        for (long count : new long[] {10, 25, 40}) {
            tally.kernelCounts(new Signature[] {unseen.copy()}, new long[] {count}, 1, s -> {
                asked.incrementAndGet();
                return new Tally.CauseScope(Cause.RLIMIT_NPROC, ScopeKind.USER, "uid 61301");
            });
        }
        assertEquals(1, asked.get());
        assertEquals(List.of(row(Cause.RLIMIT_NPROC, ScopeKind.USER, "uid 61301", 0, 40)), tally.rows());
        // a detailed failure with the same signature arrives later: its verdict is used from then on
        tally.delivered(unseen, Cause.RLIMIT_NPROC, ScopeKind.USER, "uid 61301 (ft13u1)");
        tally.kernelCounts(new Signature[] {unseen.copy()}, new long[] {41}, 1, s -> {
            throw new AssertionError("asked again");
        });
        assertEquals(List.of(row(Cause.RLIMIT_NPROC, ScopeKind.USER, "uid 61301 (ft13u1)", 1, 41)), tally.rows());
    }

    @Test
    void theSignatureOfADeliveredEventIsWhatTheKernelKeysBy() {
        Signature a = signatureOf(pidsStormEvent(100, 77));
        assertEquals(a, signatureOf(pidsStormEvent(100, 77)));
        assertEquals(a.hashCode(), signatureOf(pidsStormEvent(100, 77)).hashCode());
        assertNotEquals(a, signatureOf(pidsStormEvent(101, 77)), "another process");
        assertNotEquals(a, signatureOf(pidsStormEvent(100, 78)), "another cgroup");
        assertEquals(0, a.pidsMovedLevel);
        assertEquals(77, a.pidsMovedCgroupId);
        assertEquals(0, a.pidsLimitLevel);
        Signature n = signatureOf(nprocStormEvent(200, 61300));
        assertEquals(EventLayout.SIG_NPROC_AT_LIMIT, n.flags);
        assertEquals(-1, n.pidsMovedLevel);
    }

    @Test
    void aSignatureAttributedAloneGetsTheCauseAndScopeItsDetailedEventWouldGet() {
        List<MemorySegment> events = new ArrayList<>(List.of(pidsStormEvent(100, 77), nprocStormEvent(200, 61300)));
        MemorySegment memcg = nprocStormEvent(400, 61302);
        memcg.set(JAVA_INT, EventLayout.ERROR, -ENOMEM);
        memcg.set(JAVA_LONG, EventLayout.RLIMIT_NPROC, -1);
        memcg.set(JAVA_LONG, EventLayout.MEMCG_ID, 99);
        memcg.set(JAVA_LONG, EventLayout.MEMCG_EVENTS_MAX, 8);
        memcg.set(JAVA_LONG, EventLayout.MEMCG_EVENTS_MAX_AT_ENTRY, 7);
        events.add(memcg);
        for (MemorySegment event : events) {
            Signature signature = signatureOf(event);
            MemorySegment synthetic = arena.allocate(EventLayout.EVENT_SIZE, 8);
            signature.writeEvent(synthetic);
            assertEquals(signature, signatureOf(synthetic), "the synthetic event has the same signature");
            Attribution real = attribute(event), alone = attribute(synthetic);
            assertEquals(real.cause, alone.cause, signature.toString());
            assertEquals(real.scopeKind, alone.scopeKind);
            assertEquals(real.scopeLevel, alone.scopeLevel);
            assertEquals(real.scopeKey(new RawEvent().wrap(event, 0)), alone.scopeKey(new RawEvent().wrap(synthetic, 0)));
        }
        assertEquals(Cause.MEMCG_LIMIT, attribute(memcg).cause);
    }

    @Test
    void theKernelsSignatureRecordReadsBackField() {
        Signature expected = signatureOf(pidsStormEvent(100, 77));
        MemorySegment record = arena.allocate(EventLayout.SIGNATURE);
        record.set(JAVA_LONG, EventLayout.SIGNATURE.byteOffset(field("pids_moved_cgroup_id")), 77);
        record.set(JAVA_LONG, EventLayout.SIGNATURE.byteOffset(field("pids_limit_cgroup_id")), 77);
        record.set(JAVA_INT, EventLayout.SIGNATURE.byteOffset(field("tgid")), 100);
        record.set(JAVA_INT, EventLayout.SIGNATURE.byteOffset(field("pidns_inum")), (int) 4026531836L);
        record.set(JAVA_INT, EventLayout.SIGNATURE.byteOffset(field("error")), -EAGAIN);
        record.set(JAVA_INT, EventLayout.SIGNATURE.byteOffset(field("evidence")), EventLayout.EV_ENTRY_SNAPSHOT);
        record.set(JAVA_INT, EventLayout.SIGNATURE.byteOffset(field("flags")), EventLayout.SIG_NPROC_EXEMPT);
        record.set(JAVA_INT, EventLayout.SIGNATURE.byteOffset(field("pids_moved_level")), 0);
        record.set(JAVA_INT, EventLayout.SIGNATURE.byteOffset(field("pids_limit_level")), 0);
        assertEquals(expected, new Signature().read(record, 0));
    }

    @Test
    void pastTheRowBoundFurtherScopesOfACauseAreSummedSoItsTotalStaysExact() {
        SignatureTally tally = new SignatureTally(16);
        Signature s = new Signature();
        long total = 0;
        for (int i = 0; i < SignatureTally.MAX_ROWS + 50; i++) {
            tally.delivered(s, Cause.PIDS_CGROUP_LIMIT, ScopeKind.CGROUP, "/ft13/" + i);
            total++;
        }
        long sum = tally.rows().stream().filter(r -> r.getCause() == Cause.PIDS_CGROUP_LIMIT)
                .mapToLong(r -> r.getDelivered() + r.getAggregated()).sum();
        assertEquals(total, sum);
        assertEquals(50, tally.rows().stream().filter(r -> r.getScope().equals(SignatureTally.OTHER_SCOPES))
                .findFirst().orElseThrow().getDelivered());
    }

    private static java.lang.foreign.MemoryLayout.PathElement field(String name) {
        return java.lang.foreign.MemoryLayout.PathElement.groupElement(name);
    }

    private static CauseScopeCount row(Cause cause, ScopeKind kind, String scope, long delivered, long aggregated) {
        return CauseScopeCount.newBuilder().setCause(cause).setScopeKind(kind).setScope(scope).setDelivered(delivered)
                .setAggregated(aggregated).build();
    }
}
