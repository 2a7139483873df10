package dev.forktrace.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forktrace.bpf.EventLayout;
import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.ScopeKind;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class SummaryTest {
    private static void record(Summary summary, Diagnosis d, Cause cause, String scope, String comm, int pid) {
        d.cause = cause;
        d.scopeKind = ScopeKind.CGROUP;
        d.scopeName = scope;
        d.processComm = comm;
        d.pid = pid;
        summary.record(d);
    }

    private static List<String> printed(Summary summary) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        summary.print(new PrintStream(bytes, true, StandardCharsets.UTF_8), new long[EventLayout.CNT_SLOTS], 0);
        return bytes.toString(StandardCharsets.UTF_8).lines().toList();
    }

    private static List<String> after(List<String> lines, String title) {
        return lines.subList(lines.indexOf("forktrace:   " + title + ":") + 1, lines.size());
    }

    @Test
    void tablesAreLargestFirstThenByName() {
        Summary summary = new Summary();
        Diagnosis d = new Diagnosis(); // reused, as on the consumer thread
        record(summary, d, Cause.PIDS_CGROUP_LIMIT, "/b", "app", 10);
        record(summary, d, Cause.PIDS_CGROUP_LIMIT, "/b", "app", 10);
        record(summary, d, Cause.PIDS_CGROUP_LIMIT, "/a", "app", 9);
        record(summary, d, Cause.RLIMIT_NPROC, "/a", "app", 10);
        List<String> lines = printed(summary);
        assertEquals(List.of(
                "forktrace:   by cause and scope:",
                "forktrace:            2  PIDS_CGROUP_LIMIT CGROUP /b",
                "forktrace:            1  PIDS_CGROUP_LIMIT CGROUP /a",
                "forktrace:            1  RLIMIT_NPROC CGROUP /a",
                "forktrace:   by process:",
                "forktrace:            3  app (pid 10)",
                "forktrace:            1  app (pid 9)"),
                lines.subList(lines.indexOf("forktrace:   by cause and scope:"), lines.size()), lines.toString());
        assertEquals(4, summary.delivered());
    }

    @Test
    void keysBeyondTheBoundAreSummedNotDropped() {
        Summary summary = new Summary();
        Diagnosis d = new Diagnosis();
        int n = Summary.MAX_KEYS + 5;
        for (int i = 0; i < n; i++) {
            record(summary, d, Cause.PIDS_CGROUP_LIMIT, "/c" + i, "app", 1000 + i);
        }
        record(summary, d, Cause.PIDS_CGROUP_LIMIT, "/c0", "app", 1000); // an itemised key still counts
        List<String> lines = printed(summary);
        assertEquals("forktrace:            2  PIDS_CGROUP_LIMIT CGROUP /c0", after(lines, "by cause and scope").get(0));
        assertEquals("forktrace:            2  app (pid 1000)", after(lines, "by process").get(0));
        assertTrue(lines.contains("forktrace:     (5 failures of further causes and scopes not itemised)"), lines.toString());
        assertEquals("forktrace:     (5 failures of further processes not itemised)", lines.get(lines.size() - 1));
    }

    @Test
    void aStormOfOneCauseScopeAndProcessAllocatesNothing() {
        Summary summary = new Summary();
        Diagnosis d = new Diagnosis();
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().threadId();
        for (int i = 0; i < 10_000; i++) { // the first failure makes its keys; the rest repeat them
            record(summary, d, Cause.PIDS_CGROUP_LIMIT, "/storm", "app", 42);
        }
        long before = threads.getThreadAllocatedBytes(thread);
        for (int i = 0; i < 100_000; i++) {
            record(summary, d, Cause.PIDS_CGROUP_LIMIT, "/storm", "app", 42);
        }
        long allocated = threads.getThreadAllocatedBytes(thread) - before;
        assertTrue(allocated < 10_000, allocated + " bytes for 100,000 failures"); // a key each would be megabytes
        assertEquals(110_000, summary.delivered());
    }
}
