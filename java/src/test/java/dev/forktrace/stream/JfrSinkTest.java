package dev.forktrace.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forktrace.proto.v1.ForkFailure;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JfrSinkTest {
    @TempDir
    Path dir;

    Path record(int n) throws IOException {
        Path file = dir.resolve("failures.jfr");
        try (JfrSink sink = new JfrSink(file)) {
            sink.start(Synthetic.header());
            for (int i = 0; i < n; i++) {
                sink.accept(Synthetic.failure(i));
            }
            assertEquals(n, sink.events());
        }
        return file;
    }

    @Test
    void eventsReadBackWithEveryFlattenedField() throws IOException {
        Path file = record(6);
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        List<RecordedEvent> ours = events.stream().filter(e -> e.getEventType().getName().equals("forktrace.ForkFailure")).toList();
        assertEquals(6, ours.size());
        assertTrue(events.stream().allMatch(e -> e.getEventType().getName().equals("forktrace.ForkFailure")
                || !e.getEventType().getName().startsWith("jdk.") || isMetadata(e.getEventType().getName())),
                "only forktrace's event is enabled");
        RecordedEvent e = ours.get(0);
        ForkFailure f = Synthetic.failure(0);
        assertEquals("Fork Failure", e.getEventType().getLabel());
        assertEquals(List.of("forktrace"), e.getEventType().getCategoryNames());
        assertEquals(f.getPid(), e.getInt("pid"));
        assertEquals(f.getTid(), e.getInt("tid"));
        assertEquals("worker-0", e.getString("comm"));
        assertEquals("java", e.getString("processComm"));
        assertEquals("CLONE3", e.getString("syscall"));
        assertEquals("EAGAIN", e.getString("errno"));
        assertEquals(11, e.getInt("errnoValue"));
        assertEquals("PIDS_CGROUP_LIMIT", e.getString("cause"));
        assertEquals("CONFIRMED", e.getString("confidence"));
        assertEquals("CGROUP", e.getString("scopeKind"));
        assertEquals("/sys/fs/cgroup/pids/app", e.getString("scopeName"));
        assertEquals(64, e.getLong("scopeLimit"));
        assertEquals(64, e.getLong("scopeCurrent"));
        assertEquals(1000, e.getInt("topOffenderPid"));
        assertEquals("java", e.getString("topOffenderComm"));
        assertEquals(60, e.getInt("topOffenderTasks"));
        assertEquals("1000 java 60; 1003 sidecar 4", e.getString("offenders"));
        assertEquals(f.getMessage(), e.getString("message"));
        assertEquals("pool-1-thread-0", e.getString("javaThread"));
        assertEquals("CLONE_VM|CLONE_THREAD", e.getString("cloneFlags"));
        assertTrue(e.getBoolean("thread"));
        assertEquals(Instant.ofEpochSecond(Synthetic.START_SECONDS), e.getInstant("failureTime"));
        assertEquals(Synthetic.BOOT_MONOTONIC_NS, e.getLong("ktimeNs"));
        assertEquals(null, e.getStackTrace(), "no stack trace of forktrace's own thread");
        assertEquals("RLIMIT_NPROC", ours.get(1).getString("cause"));
    }

    private static boolean isMetadata(String name) {
        return name.equals("jdk.ActiveRecording") || name.equals("jdk.ActiveSetting");
    }

    @Test
    void jfrPrintShowsTheEvents() throws Exception {
        Path file = record(3);
        Path jfr = Path.of(System.getProperty("java.home"), "bin", "jfr");
        Process p = new ProcessBuilder(jfr.toString(), "print", "--events", "forktrace.ForkFailure", file.toString())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), output);
        assertEquals(3, output.split("forktrace.ForkFailure \\{", -1).length - 1, output);
        assertTrue(output.contains("cause = \"PIDS_CGROUP_LIMIT\""), output);
        assertTrue(output.contains("cause = \"THREADS_MAX\""), output);
        assertTrue(output.contains("scopeName = \"/sys/fs/cgroup/pids/app\""), output);
        assertTrue(output.contains("topOffenderComm = \"java\""), output);
    }
}
