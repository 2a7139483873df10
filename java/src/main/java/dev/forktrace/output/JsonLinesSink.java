package dev.forktrace.output;

import dev.forktrace.proto.v1.ForkFailure;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** One JSON object per line: protobuf's canonical JSON mapping of ForkFailure (see FailureJson), UTF-8. */
public final class JsonLinesSink implements FailureSink {
    private final OutputStream out;
    private final FailureJson json = new FailureJson();
    private final DiagnosisJson encoder = new DiagnosisJson();
    private final boolean flushEachBatch;

    /**
     * @param out a buffered stream
     * @param flushEachBatch true for pipes and terminals, where a reader waits for each line
     */
    public JsonLinesSink(OutputStream out, boolean flushEachBatch) {
        this.out = out;
        this.flushEachBatch = flushEachBatch;
    }

    @Override
    public void accept(ForkFailure failure) throws IOException {
        // String.getBytes copies ASCII text as it is (one intrinsic), where a Writer widens and re-encodes.
        out.write(json.format(failure).toString().getBytes(StandardCharsets.UTF_8));
        out.write('\n');
    }

    /** The diagnosis encoded straight to bytes: the same line as accept(ForkFailure) writes. */
    @Override
    public void accept(dev.forktrace.pipeline.Diagnosis diagnosis) throws IOException {
        byte[] line = encoder.encodeLine(diagnosis);
        out.write(line, 0, encoder.length());
    }

    /**
     * A headroom warning as one line {"headroom":{...}}: the StreamRecord oneof's JSON mapping, so a reader
     * tells it from a failure (a ForkFailure object at the top level) by its only key.
     */
    @Override
    public void headroom(dev.forktrace.proto.v1.Headroom headroom) throws IOException {
        out.write(headroomLine(headroom).getBytes(StandardCharsets.UTF_8));
        out.write('\n');
        out.flush();
    }

    public static String headroomLine(dev.forktrace.proto.v1.Headroom headroom) {
        return "{\"headroom\":" + dev.forktrace.limits.HeadroomText.json(headroom) + "}";
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
