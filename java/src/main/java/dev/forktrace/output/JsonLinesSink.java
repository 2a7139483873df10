package dev.forktrace.output;

import dev.forktrace.proto.v1.ForkFailure;
import java.io.IOException;
import java.io.Writer;

/** One JSON object per line: protobuf's canonical JSON mapping of ForkFailure (see FailureJson). */
public final class JsonLinesSink implements FailureSink {
    private final Writer out;
    private final FailureJson json;
    private final boolean flushEachBatch;

    /** @param flushEachBatch true for pipes and terminals, where a reader waits for each line */
    public JsonLinesSink(Writer out, boolean flushEachBatch) {
        this.out = out;
        this.json = new FailureJson(out);
        this.flushEachBatch = flushEachBatch;
    }

    @Override
    public void accept(ForkFailure failure) throws IOException {
        json.write(failure);
        out.write('\n');
    }

    /** The ring is drained: a reader of a pipe sees every line now, one write for the whole batch. */
    @Override
    public void endOfBatch() throws IOException {
        if (flushEachBatch) {
            out.flush();
        }
    }

    @Override
    public void stats(dev.forktrace.proto.v1.Stats stats) throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.flush();
        out.close();
    }
}
