package dev.forktrace.pipeline;

import dev.forktrace.output.FailureSink;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.Stats;
import java.io.IOException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The sinks of one capture, each allowed to fail on its own: a sink whose write fails (disk full, EIO, a
 * reader gone) is said so once, left out from then on, and counted; the others go on, and so does the capture
 * and the kernel's count. When every sink has failed there is nowhere left to write and the capture stops.
 */
public final class Outputs {
    /** A sink that failed: why, and the failures delivered after it that it never saw. */
    public static final class Failed {
        private final FailureSink sink;
        private final IOException error;
        private long failuresAfter;

        Failed(FailureSink sink, IOException error) {
            this.sink = sink;
            this.error = error;
        }

        public FailureSink sink() {
            return sink;
        }

        public IOException error() {
            return error;
        }

        /** Failures delivered after the write failed, none of which reached this sink. */
        public long failuresAfter() {
            return failuresAfter;
        }

        /** What was and was not written, for the final summary. */
        public String describe() {
            return error.getMessage() + "; " + failuresAfter + (failuresAfter == 1 ? " failure" : " failures")
                    + " after that were not written to it";
        }
    }

    private final List<FailureSink> sinks;
    private final Map<FailureSink, Failed> failed = new IdentityHashMap<>();
    private final List<Failed> failedInOrder = new ArrayList<>();
    private Consumer<String> warn = message -> { };

    public Outputs(List<FailureSink> sinks) {
        this.sinks = sinks;
    }

    /** Where the one message per failed sink goes (standard error for watch). */
    public void warnTo(Consumer<String> warn) {
        this.warn = warn;
    }

    public void start(dev.forktrace.proto.v1.StreamHeader header) {
        for (FailureSink sink : sinks) {
            try {
                sink.start(header);
            } catch (IOException e) {
                fail(sink, e);
            }
        }
    }

    /** One failure to every working sink, read in place (a sink that keeps it copies it). */
    public void accept(Diagnosis diagnosis) {
        for (int i = 0, n = sinks.size(); i < n; i++) {
            FailureSink sink = sinks.get(i);
            if (!failed.isEmpty()) {
                Failed f = failed.get(sink);
                if (f != null) {
                    f.failuresAfter++;
                    continue;
                }
            }
            try {
                sink.accept(diagnosis);
            } catch (IOException e) {
                fail(sink, e);
            }
        }
    }

    public void accept(ForkFailure failure) {
        for (FailureSink sink : sinks) {
            Failed f = failed.get(sink);
            if (f != null) {
                f.failuresAfter++;
                continue;
            }
            try {
                sink.accept(failure);
            } catch (IOException e) {
                fail(sink, e);
            }
        }
    }

    public void endOfBatch() {
        toEveryWorkingSink(FailureSink::endOfBatch);
    }

    public void stats(Stats stats) {
        toEveryWorkingSink(sink -> sink.stats(stats));
    }

    /** A headroom warning or recovery to every working sink (a sink that fails here is failed like anywhere). */
    public void headroom(dev.forktrace.proto.v1.Headroom headroom) {
        toEveryWorkingSink(sink -> sink.headroom(headroom));
    }

    private interface SinkCall {
        void to(FailureSink sink) throws IOException;
    }

    /** One call to each sink that has not failed; a sink that fails in it is failed from then on. */
    private void toEveryWorkingSink(SinkCall call) {
        for (FailureSink sink : sinks) {
            if (!failed.containsKey(sink)) {
                try {
                    call.to(sink);
                } catch (IOException e) {
                    fail(sink, e);
                }
            }
        }
    }

    /** The last Stats to every working sink, then closes all of them (a failed one quietly). */
    public void finish(Stats last) {
        stats(last);
        for (FailureSink sink : sinks) {
            try {
                sink.close();
            } catch (IOException e) {
                if (!failed.containsKey(sink)) {
                    fail(sink, e);
                }
            }
        }
    }

    private void fail(FailureSink sink, IOException e) {
        Failed f = new Failed(sink, e);
        failed.put(sink, f);
        failedInOrder.add(f);
        warn.accept(e.getMessage() + (allFailed() ? "; no output is left, so the capture stops"
                : "; the capture goes on (the kernel keeps counting, the other outputs keep writing) and the"
                + " summary will say how many failures this output missed"));
    }

    /** Every sink has failed (or there were none to begin with and one failed: never true without a failure). */
    public boolean allFailed() {
        return !failedInOrder.isEmpty() && failed.size() == sinks.size();
    }

    /** The sinks that failed, in the order they failed. */
    public List<Failed> failed() {
        return List.copyOf(failedInOrder);
    }
}
