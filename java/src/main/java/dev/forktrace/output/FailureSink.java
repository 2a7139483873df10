package dev.forktrace.output;

import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.Stats;
import dev.forktrace.proto.v1.StreamHeader;
import java.io.IOException;

/**
 * Where attributed failures go: a terminal, a JSON-lines file, a protobuf stream, a JFR recording.
 * Called from the single consumer thread, in order: {@link #start} once, then {@link #accept} (each batch ended by
 * {@link #endOfBatch}) and {@link #stats} interleaved, then {@link #close}, which must flush everything.
 */
public interface FailureSink extends AutoCloseable {

    default void start(StreamHeader header) throws IOException {}

    void accept(ForkFailure failure) throws IOException;

    /**
     * A failure as the pipeline diagnosed it, valid only during this call. Sinks that write bytes encode it
     * directly; the default copies it into an immutable ForkFailure for sinks that keep or hand it on.
     */
    default void accept(dev.forktrace.pipeline.Diagnosis diagnosis) throws IOException {
        accept(diagnosis.toForkFailure());
    }

    /** The ring has been drained for now: a sink that writes to a reader in real time flushes here. */
    default void endOfBatch() throws IOException {}

    /**
     * A limit crossed the headroom warning threshold, or recovered below it (watch --warn-at). Arrives in
     * stream order with the failures, on the same thread; a sink that has no use for warnings ignores them.
     */
    default void headroom(dev.forktrace.proto.v1.Headroom headroom) throws IOException {}

    /** Periodic counters (about once a second) and, with {@code final} set, the last tally. */
    default void stats(Stats stats) throws IOException {}

    @Override
    void close() throws IOException;
}
