package dev.forktrace.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.forktrace.output.TextSink;
import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.ScopeKind;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** TextSink fed diagnoses in place: repeats of a burst are counted without a copy, as accept(ForkFailure) counts them. */
class TextSinkDiagnosisTest {
    private static Diagnosis failure(int pid, String scope) {
        Diagnosis d = new Diagnosis();
        d.cause = Cause.PIDS_CGROUP_LIMIT;
        d.scopeKind = ScopeKind.CGROUP;
        d.scopeName = scope;
        d.pid = pid;
        d.processComm = "storm";
        d.errno = "EAGAIN";
        d.message = "EAGAIN: cgroup " + scope + " is at its pids limit";
        return d;
    }

    private static String through(boolean inPlace, Diagnosis... failures) throws Exception {
        StringWriter out = new StringWriter();
        TextSink sink = new TextSink(out, false);
        for (Diagnosis d : failures) {
            if (inPlace) {
                sink.accept(d);
            } else {
                sink.accept(d.toForkFailure());
            }
        }
        sink.close();
        return out.toString().replaceAll("(?m)^\\S+Z ", "TIME "); // the line's own timestamp aside
    }

    @Test
    void repeatsAreCollapsedAsForMessages() throws Exception {
        Diagnosis a = failure(10, "/a");
        Diagnosis b = failure(11, "/a");
        Diagnosis c = failure(10, "/b");
        Diagnosis[] storm = {a, a, a, b, a, c, c};
        String inPlace = through(true, storm);
        assertEquals(through(false, storm), inPlace);
        assertEquals(3, inPlace.lines().filter(l -> l.startsWith("TIME")).count(), inPlace);
        assertEquals(true, inPlace.contains("... 3 more identical failures"), inPlace);
    }
}
