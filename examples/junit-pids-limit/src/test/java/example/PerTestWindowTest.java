package example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forktrace.junit.ForkFailures;
import dev.forktrace.junit.TraceForks;
import dev.forktrace.proto.v1.Cause;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Per-test slicing (issue 12, "flush() ... per-test slicing in the JUnit extension can race"): failures that
 * happen in the very last statement of a test belong to that test, not to the next one. The first test ends
 * with a burst of refused thread starts under a pids cgroup limit, so that the capture thread is still
 * attributing and delivering them when the test method returns; the extension must wait for every one of
 * them before it checks the test and before the next test's window opens. The second test creates nothing
 * and fails on any failure in its window (failOnUnexpected).
 *
 * <p>Checked: with a flush() that returns without waiting for the capture thread, the first test misses its
 * own failures. Before the extension flushed in beforeEach too, the second test got failures made while the
 * JVM was still in the full cgroup (1 run in 5 on a loaded host): the window opened before they arrived.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PerTestWindowTest {
    private static final Path PIDS_ROOT = Path.of("/sys/fs/cgroup/pids");
    private static final Path CGROUP = PIDS_ROOT.resolve("forktrace-junit-window");
    private static final int HEADROOM = 5;
    private static final int REFUSED_STARTS = 200;
    static int refusedAtTheEnd;
    static Instant lastStatementEnded;
    private final CountDownLatch release = new CountDownLatch(1);
    private final List<Thread> started = new ArrayList<>();

    @Test
    @Order(1)
    @TraceForks(expect = Cause.PIDS_CGROUP_LIMIT)
    void failuresInTheLastStatementBelongToThisTest(ForkFailures failures) throws Exception {
        Files.createDirectories(CGROUP);
        Files.writeString(CGROUP.resolve("pids.max"), Long.toString(currentThreads() + HEADROOM));
        Files.writeString(CGROUP.resolve("cgroup.procs"), Long.toString(ProcessHandle.current().pid()));
        refusedAtTheEnd = startUntilRefused(); // the last statement: the extension checks the test right after it
        lastStatementEnded = Instant.now();
    }

    /** After the extension's check of the test (AfterTestExecutionCallback runs before @AfterEach). */
    @AfterEach
    void leaveTheCgroup() throws Exception {
        release.countDown();
        for (Thread t : started) {
            t.join();
        }
        started.clear();
        if (Files.exists(CGROUP)) {
            Files.writeString(PIDS_ROOT.resolve("cgroup.procs"), Long.toString(ProcessHandle.current().pid()));
            Files.deleteIfExists(CGROUP);
        }
    }

    @Test
    @Order(2)
    @TraceForks(failOnUnexpected = true)
    void theNextTestSeesNoneOfThem(ForkFailures failures) {
        assertTrue(refusedAtTheEnd >= REFUSED_STARTS / 2,
                "the first test should have been refused " + REFUSED_STARTS + " thread starts: " + refusedAtTheEnd);
        List<String> leaked = failures.all().stream().map(f -> f.time() + " " + f.threadName() + " ("
                + (f.time().isAfter(lastStatementEnded) ? "after" : "before") + " the first test's last statement ended at "
                + lastStatementEnded + ")").toList();
        assertEquals(List.of(), leaked, "failures of the previous test leaked into this one's window");
    }

    /** Starts threads until the pids limit refuses, then keeps asking; returns how many starts were refused. */
    private int startUntilRefused() {
        int refused = 0;
        for (int i = 0; i < HEADROOM * 4 + REFUSED_STARTS && refused < REFUSED_STARTS; i++) {
            Thread t = new Thread(() -> awaitQuietly(release), "window-" + i);
            t.setDaemon(true);
            try {
                t.start();
                started.add(t);
            } catch (OutOfMemoryError e) {
                refused++; // "unable to create native thread"
            }
        }
        return refused;
    }

    private static long currentThreads() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Threads:")) {
                return Long.parseLong(line.substring(8).trim());
            }
        }
        throw new IOException("no Threads: line in /proc/self/status");
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
