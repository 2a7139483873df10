package dev.forktrace.output;

import com.google.protobuf.util.JsonFormat;
import dev.forktrace.proto.v1.ForkFailure;
import java.io.IOException;
import java.io.Writer;

/** One JSON object per line: protobuf's canonical JSON mapping of ForkFailure. */
public final class JsonLinesSink implements FailureSink {
    private final JsonFormat.Printer printer = JsonFormat.printer().omittingInsignificantWhitespace();
    private final Writer out;
    private final boolean flushEachEvent;

    /** @param flushEachEvent true for pipes and terminals, where a reader waits for each line */
    public JsonLinesSink(Writer out, boolean flushEachEvent) {
        this.out = out;
        this.flushEachEvent = flushEachEvent;
    }

    @Override
    public void accept(ForkFailure failure) throws IOException {
        printer.appendTo(failure, out);
        out.write('\n');
        if (flushEachEvent) {
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
