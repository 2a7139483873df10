package dev.forktrace.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.forktrace.proto.v1.ForkFailure;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A storm under {@code run} must not grow the probe without bound, and what the bounds turn away is counted. */
class FailureInboxTest {
    private static Failure failure(int pid) {
        return Failure.of(ForkFailure.newBuilder().setPid(pid).build());
    }

    @Test
    void keepsTheFirstFailuresUpToItsLimitAndCountsTheRest() {
        FailureInbox inbox = new FailureInbox(3, 1_000);
        for (int pid = 1; pid <= 10; pid++) {
            inbox.deliver(failure(pid));
        }
        assertEquals(List.of(1L, 2L, 3L), inbox.kept().stream().map(Failure::pid).toList());
        assertEquals(7, inbox.notKept());
        assertEquals(0, inbox.notQueued());
    }

    @Test
    void aFullPollQueueCountsWhatItTurnsAwayAndListenersStillSeeEverything() throws Exception {
        FailureInbox inbox = new FailureInbox(1_000, 2);
        List<Long> heard = new ArrayList<>();
        inbox.addListener(f -> heard.add(f.pid()));
        for (int pid = 1; pid <= 5; pid++) {
            inbox.deliver(failure(pid));
        }
        assertEquals(3, inbox.notQueued());
        assertEquals(1, inbox.poll(Duration.ZERO).pid());
        assertEquals(2, inbox.poll(Duration.ZERO).pid());
        assertNull(inbox.poll(Duration.ZERO));
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), heard);
        assertEquals(5, inbox.kept().size());
    }

    @Test
    void theProbesOwnBoundsAreTheDocumentedOnes() {
        FailureInbox inbox = new FailureInbox(ForktraceProbe.KEPT_LIMIT, 1);
        for (int pid = 1; pid <= ForktraceProbe.KEPT_LIMIT + 25; pid++) {
            inbox.deliver(failure(pid));
        }
        assertEquals(ForktraceProbe.KEPT_LIMIT, inbox.kept().size());
        assertEquals(25, inbox.notKept());
    }
}
