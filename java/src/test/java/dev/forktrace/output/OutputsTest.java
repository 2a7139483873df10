package dev.forktrace.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forktrace.pipeline.Outputs;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.Stats;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutputsTest {
    /** Takes {@code room} failures, then fails. */
    static final class Counting implements FailureSink {
        final int room;
        int accepted;
        int stats;
        boolean closed;

        Counting(int room) {
            this.room = room;
        }

        @Override
        public void accept(ForkFailure failure) throws IOException {
            if (accepted == room) {
                throw new IOException("writing sink-" + room + " failed: No space left on device");
            }
            accepted++;
        }

        @Override
        public void stats(Stats s) {
            stats++;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void aFailingSinkIsLeftOutCountedAndTheOthersGoOn() {
        Counting full = new Counting(3);
        Counting fine = new Counting(Integer.MAX_VALUE);
        Outputs outputs = new Outputs(List.of(full, fine));
        List<String> said = new ArrayList<>();
        outputs.warnTo(said::add);
        for (int i = 0; i < 10; i++) {
            outputs.accept(ForkFailure.newBuilder().setSequence(i + 1).build());
            outputs.endOfBatch();
        }
        outputs.finish(Stats.getDefaultInstance());
        assertEquals(10, fine.accepted, "the other sink saw every failure");
        assertEquals(1, fine.stats);
        assertEquals(0, full.stats, "a failed sink is not called again");
        assertTrue(full.closed && fine.closed);
        assertEquals(1, said.size(), "said once: " + said);
        assertTrue(said.get(0).startsWith("writing sink-3 failed: No space left on device; the capture goes on"), said.get(0));
        assertFalse(outputs.allFailed());
        Outputs.Failed failed = outputs.failed().get(0);
        assertEquals(6, failed.failuresAfter(), "10 delivered: 3 written, 1 refused, 6 after");
        assertEquals("writing sink-3 failed: No space left on device; 6 failures after that were not written to it",
                failed.describe());
    }

    @Test
    void whenEverySinkHasFailedTheCaptureIsToldToStop() {
        Outputs outputs = new Outputs(List.of(new Counting(0)));
        List<String> said = new ArrayList<>();
        outputs.warnTo(said::add);
        assertFalse(outputs.allFailed());
        outputs.accept(ForkFailure.getDefaultInstance());
        assertTrue(outputs.allFailed());
        assertTrue(said.get(0).endsWith("no output is left, so the capture stops"), said.get(0));
    }
}
