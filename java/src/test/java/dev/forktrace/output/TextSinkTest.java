package dev.forktrace.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.Scope;
import dev.forktrace.proto.v1.ScopeKind;
import dev.forktrace.proto.v1.Syscall;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class TextSinkTest {
    private static ForkFailure failure(int pid) {
        return ForkFailure.newBuilder().setPid(pid).setTid(pid).setSyscall(Syscall.CLONE).setErrno("EAGAIN")
                .setComm("worker").setProcessComm("app").setCause(Cause.PIDS_CGROUP_LIMIT)
                .setScope(Scope.newBuilder().setKind(ScopeKind.CGROUP).setName("/ex").setLimit(5).setCurrent(5))
                .setMessage("EAGAIN: cgroup /ex is at its pids limit (5 of 5 tasks).").build();
    }

    @Test
    void identicalFailuresInAStormArePrintedOnceAndCounted() throws Exception {
        StringWriter text = new StringWriter();
        TextSink sink = new TextSink(new PrintWriter(text), false);
        for (int i = 0; i < 1000; i++) {
            sink.accept(failure(42));
        }
        sink.accept(failure(43)); // another process: its own line
        sink.close();
        String out = text.toString();
        assertEquals(2, out.lines().filter(l -> l.contains("PIDS_CGROUP_LIMIT [")).count(), out);
        assertTrue(out.contains("999 more identical failures"), out);
        assertEquals(999, sink.collapsed());
    }

    @Test
    void aJoinedJavaStackNamesTheCallerOfThreadStart() {
        ForkFailure f = failure(42).toBuilder().setJava(dev.forktrace.proto.v1.JavaContext.newBuilder().setMain("-jar app.jar")
                .setThreadName("main").setNewThreadName("worker-57")
                .addStack("java.base/java.lang.Thread.start0(Native Method)")
                .addStack("java.base/java.lang.Thread.start(Thread.java:1417)")
                .addStack("com.example.Pool.grow(Pool.java:42)")).build();
        String line = TextSink.line(f);
        assertTrue(line.endsWith("[JVM -jar app.jar, thread 'main'] starting 'worker-57' at com.example.Pool.grow(Pool.java:42)"),
                line);
        assertTrue(!TextSink.line(failure(42)).contains("starting"), "no agent report, no stack part");
    }

    private static ForkFailure in(String scope, int pid) {
        ForkFailure f = failure(pid);
        return f.toBuilder().setScope(f.getScope().toBuilder().setName(scope)).build();
    }

    private static java.util.List<String> tableRows(String screen) {
        return screen.lines().filter(l -> l.startsWith("PIDS_CGROUP_LIMIT") || l.startsWith("(others)"))
                .map(l -> l.substring(0, 24).trim() + "|" + l.substring(25, 61).trim() + "|" + l.substring(62, 70).trim())
                .toList(); // cause, scope and count: the rate depends on the clock
    }

    @Test
    void theLiveTableIsLargestFirstThenByCauseAndScope() throws Exception {
        StringWriter text = new StringWriter();
        TextSink sink = new TextSink(new PrintWriter(text), true);
        for (String scope : new String[] {"/b", "/c", "/a", "/c"}) {
            sink.accept(in(scope, 42));
        }
        sink.stats(dev.forktrace.proto.v1.Stats.getDefaultInstance());
        assertEquals(java.util.List.of("PIDS_CGROUP_LIMIT|/c|2", "PIDS_CGROUP_LIMIT|/a|1",
                "PIDS_CGROUP_LIMIT|/b|1"), tableRows(text.toString()), text.toString());
    }

    @Test
    void theLiveTableSumsScopesBeyondItsBoundInOneRow() throws Exception {
        StringWriter text = new StringWriter();
        TextSink sink = new TextSink(new PrintWriter(text), true);
        for (int i = 0; i < TextSink.MAX_ROWS + 3; i++) {
            sink.accept(in("/s" + i, 42));
        }
        sink.stats(dev.forktrace.proto.v1.Stats.getDefaultInstance());
        java.util.List<String> rows = tableRows(text.toString());
        assertEquals(TextSink.MAX_ROWS + 1, rows.size());
        assertEquals("(others)|(further causes and scopes)|3", rows.get(rows.size() - 1));
    }
}
