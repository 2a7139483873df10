package dev.forktrace.agentlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.JavaContext;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class JavaJoinerTest {
    private static final long MS = 1_000_000L;
    /** Epoch minus monotonic: wall times in the tests are ktime + this. */
    private static final long OFFSET = 1_700_000_000_000_000_000L;
    private long now = 1_000_000 * MS;
    private final JavaJoiner joiner = new JavaJoiner(() -> now, OFFSET);
    private final List<ForkFailure> out = new ArrayList<>();

    private static ForkFailure thread(long seq, int pid, int tid, long ktime) {
        return ForkFailure.newBuilder().setSequence(seq).setPid(pid).setTid(tid).setKtimeNs(ktime).setThread(true)
                .setJava(JavaContext.newBuilder().setMain("Main").setThreadName("main")).build();
    }

    private static AgentMessage report(int pid, int tid, long monotonic, long wall) {
        return new AgentMessage(AgentMessage.Kind.FAILURE, pid, tid, monotonic, wall, "", "main-thread-full-name",
                "worker-9", "unable to create native thread", "app.jar", List.of("java.base/java.lang.Thread.start0(Native Method)",
                        "java.base/java.lang.Thread.start(Thread.java:1417)", "app.Pool.grow(Pool.java:42)"));
    }

    @Test
    void withoutAgentsEveryFailureGoesStraightThrough() {
        ForkFailure f = thread(1, 100, 101, now);
        joiner.offer(f, out::add);
        assertEquals(1, out.size());
        assertSame(f, out.get(0)); // untouched, not rebuilt
        assertFalse(joiner.busy());
    }

    @Test
    void onlyAFailureTheJoinerWouldHoldIsBuiltForIt() {
        assertTrue(joiner.passesThrough(true, 100), "no agent: written directly");
        joiner.agentConnected(100);
        assertFalse(joiner.passesThrough(true, 100), "a thread failure of a JVM with an agent waits for its report");
        assertTrue(joiner.passesThrough(false, 100), "a fork failure gets no report");
        assertTrue(joiner.passesThrough(true, 200), "another process's thread failure gets none either");
        joiner.offer(thread(1, 100, 101, now), out::add);
        assertFalse(joiner.passesThrough(false, 200), "behind a held failure everything waits, to keep the order");
    }

    @Test
    void reportAfterTheKernelEventIsJoinedIntoIt() {
        joiner.agentConnected(100);
        long k = now;
        joiner.offer(thread(1, 100, 101, k), out::add);
        assertTrue(out.isEmpty(), "held for the report");
        now += 3 * MS;
        joiner.report(report(100, 101, k + 2 * MS, 0));
        joiner.poll(out::add); // takes the report in
        assertTrue(out.isEmpty(), "matched only after the next drain of the ring");
        joiner.poll(out::add);
        assertEquals(1, out.size());
        JavaContext java = out.get(0).getJava();
        assertEquals("Main", java.getMain(), "the main class from the command line is kept");
        assertEquals("main-thread-full-name", java.getThreadName());
        assertEquals("worker-9", java.getNewThreadName());
        assertEquals("app.Pool.grow(Pool.java:42)", java.getStack(2));
        assertEquals(1, joiner.joined());
        assertFalse(joiner.busy());
    }

    @Test
    void theAgentNamesTheMainWhenTheProcessWasGoneBeforeForktraceReadIt() {
        joiner.agentConnected(100);
        ForkFailure noArgv = thread(1, 100, 101, now).toBuilder().setJava(JavaContext.newBuilder().setThreadName("java")).build();
        joiner.offer(noArgv, out::add);
        joiner.report(report(100, 101, now, 0));
        joiner.flush(out::add);
        assertEquals("-jar app.jar", out.get(0).getJava().getMain());
    }

    @Test
    void reportBeforeTheKernelEventIsDrainedStillJoins() {
        joiner.agentConnected(100);
        long k = now - 5 * MS;
        joiner.report(report(100, 101, now - MS, 0));
        joiner.poll(out::add);
        joiner.offer(thread(1, 100, 101, k), out::add);
        joiner.poll(out::add);
        assertEquals(1, out.size());
        assertEquals(3, out.get(0).getJava().getStackCount());
    }

    @Test
    void mismatchedPidOrTidIsNotJoined() {
        joiner.agentConnected(100);
        joiner.agentConnected(200);
        long k = now;
        joiner.offer(thread(1, 100, 101, k), out::add);
        joiner.report(report(200, 101, k + MS, 0)); // other process, same tid number
        joiner.report(report(100, 102, k + MS, 0)); // same process, other thread
        now += 10 * MS;
        joiner.poll(out::add);
        assertTrue(out.isEmpty(), "still waiting for its own report");
        now += JavaJoiner.HOLD_NANOS;
        joiner.poll(out::add);
        assertEquals(1, out.size());
        assertEquals(0, out.get(0).getJava().getStackCount());
        assertEquals(0, joiner.joined());
        assertEquals(2, joiner.unjoinedReports());
        assertEquals(1, joiner.unjoinedEvents());
    }

    @Test
    void reportOutsideTheTimeWindowIsNotJoined() {
        joiner.agentConnected(100);
        long k = now;
        joiner.offer(thread(1, 100, 101, k), out::add);
        joiner.report(report(100, 101, k - 50 * MS, 0)); // before the failure: an older Thread.start
        // long after it (on the wall clock: a monotonic reading in the future would not be believed)
        joiner.report(report(100, 101, 0, k + JavaJoiner.WINDOW_BEFORE_NANOS + MS + OFFSET));
        now += JavaJoiner.HOLD_NANOS + MS;
        joiner.poll(out::add);
        assertEquals(1, out.size());
        assertEquals(0, out.get(0).getJava().getStackCount());
        assertEquals(0, joiner.joined());
    }

    @Test
    void lateReportIsCountedNotAttachedToAWrittenEvent() {
        joiner.agentConnected(100);
        long k = now;
        joiner.offer(thread(1, 100, 101, k), out::add);
        now += JavaJoiner.HOLD_NANOS + MS;
        joiner.poll(out::add);
        assertEquals(1, out.size(), "written unjoined once the hold time passed");
        joiner.report(report(100, 101, k + MS, 0));
        joiner.poll(out::add);
        now += JavaJoiner.HOLD_NANOS + MS;
        joiner.poll(out::add);
        assertEquals(1, out.size(), "no second event");
        assertEquals(0, out.get(0).getJava().getStackCount());
        assertEquals(1, joiner.unjoinedReports());
        assertFalse(joiner.busy());
    }

    @Test
    void retriesOfOneStartGetOneJoinTheLastFailure() {
        joiner.agentConnected(100);
        long k = now;
        joiner.offer(thread(1, 100, 101, k), out::add);
        joiner.offer(thread(2, 100, 101, k + MS), out::add);
        joiner.offer(thread(3, 100, 101, k + 2 * MS), out::add);
        now += 4 * MS;
        joiner.report(report(100, 101, k + 3 * MS, 0));
        joiner.poll(out::add);
        joiner.poll(out::add);
        assertEquals(List.of(1L, 2L, 3L), out.stream().map(ForkFailure::getSequence).toList(), "kernel order kept");
        assertEquals(List.of(0, 0, 3), out.stream().map(f -> f.getJava().getStackCount()).toList());
        assertEquals(1, joiner.joined());
    }

    @Test
    void retriesStillInTheRingWhenTheReportArrivesGetTheJoin() {
        // Seen with HotSpot 17: four failed clones for one Thread.start; the report reached forktrace
        // while the consumer was still assembling the first.
        joiner.agentConnected(100);
        long k = now;
        joiner.offer(thread(1, 100, 101, k), out::add);
        now += 4 * MS;
        joiner.report(report(100, 101, k + 3 * MS, 0));
        joiner.poll(out::add); // the report is in; the drain below still delivers the retries
        joiner.offer(thread(2, 100, 101, k + MS), out::add);
        joiner.offer(thread(3, 100, 101, k + 2 * MS), out::add);
        joiner.offer(thread(4, 100, 101, k + 2 * MS + 10_000), out::add);
        joiner.poll(out::add);
        assertEquals(List.of(0, 0, 0, 3), out.stream().map(f -> f.getJava().getStackCount()).toList());
    }

    @Test
    void eventsBehindAHeldOneKeepTheirOrder() {
        joiner.agentConnected(100);
        long k = now;
        joiner.offer(thread(1, 100, 101, k), out::add);
        joiner.offer(thread(2, 300, 301, k + MS), out::add); // no agent: would go straight out, but not past #1
        ForkFailure fork = thread(3, 100, 105, k + MS).toBuilder().setThread(false).build();
        joiner.offer(fork, out::add); // a fork of the agent JVM: nothing to wait for
        assertTrue(out.isEmpty());
        joiner.report(report(100, 101, k + MS, 0));
        joiner.poll(out::add);
        joiner.poll(out::add);
        assertEquals(List.of(1L, 2L, 3L), out.stream().map(ForkFailure::getSequence).toList());
        assertEquals(0, joiner.unjoinedEvents());
    }

    @Test
    void wallClockIsUsedWhenTheMonotonicReadingIsImplausible() {
        joiner.agentConnected(100);
        long k = now;
        joiner.offer(thread(1, 100, 101, k), out::add);
        // a JVM in a time namespace: its nanoTime is far off; its wall time is right
        joiner.report(report(100, 101, k + 3_600_000 * MS, k + 2 * MS + OFFSET));
        joiner.poll(out::add);
        joiner.poll(out::add);
        assertEquals(1, out.size());
        assertEquals(1, joiner.joined());
    }

    @Test
    void disconnectedAgentsStopHolding() {
        joiner.agentConnected(100);
        joiner.agentConnected(100); // attached twice (two connections)
        joiner.agentDisconnected(100);
        joiner.offer(thread(1, 100, 101, now), out::add);
        assertTrue(out.isEmpty(), "one connection is still open");
        joiner.flush(out::add);
        joiner.agentDisconnected(100);
        joiner.offer(thread(2, 100, 101, now), out::add);
        assertEquals(2, out.size());
        assertEquals(0, joiner.agentsConnected());
    }

    @Test
    void theHeldQueueIsBounded() {
        joiner.agentConnected(100);
        for (int i = 0; i < JavaJoiner.MAX_HELD + 50; i++) {
            joiner.offer(thread(i, 100, 101, now), out::add);
        }
        assertEquals(50, out.size());
        joiner.flush(out::add);
        assertEquals(JavaJoiner.MAX_HELD + 50, out.size());
    }

    @Test
    void aFloodOfReportsIsBoundedAndCountedAndExpiredReportsFreeTheBudget() {
        joiner.agentConnected(100);
        List<String> stack = java.util.Collections.nCopies(1000, "x".repeat(200)); // ~216,000 chars a report
        AgentMessage big = new AgentMessage(AgentMessage.Kind.FAILURE, 100, 101, now, 0, "", "t", "n", "e", "m", stack);
        for (int i = 0; i < 100; i++) {
            joiner.report(big);
        }
        long taken = joiner.reports();
        assertTrue(taken > 0 && taken < 100, "taken " + taken);
        assertEquals(100 - taken, joiner.refusedReports());
        joiner.poll(out::add);
        now += JavaJoiner.HOLD_NANOS + MS;
        joiner.poll(out::add); // the unmatched reports expire and give their budget back
        joiner.report(big);
        assertEquals(taken + 1, joiner.reports());
    }
}
