package example;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forktrace.api.Failure;
import dev.forktrace.junit.ForkFailures;
import dev.forktrace.junit.TraceForks;
import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.ScopeKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes story of the seeds: a JVM says "unable to create native thread", people add memory,
 * but the real limit is the pids cgroup. This test puts its own JVM into a pids cgroup with room for
 * 30 more tasks, starts threads until the JVM gives up, and lets forktrace say why.
 *
 * With -Dexample.noLimit=true the cgroup has no limit, no thread start fails, and the expectation
 * below makes the test fail with forktrace's diagnosis ("missing [PIDS_CGROUP_LIMIT]").
 */
@TraceForks(expect = Cause.PIDS_CGROUP_LIMIT)
class NativeThreadLimitTest {
    private static final Path PIDS_ROOT = Path.of("/sys/fs/cgroup/pids");
    private static final Path CGROUP = PIDS_ROOT.resolve("forktrace-junit-example");
    private static final int HEADROOM = 30;
    private static final int MAX_THREADS = 400;

    @Test
    void unableToCreateNativeThreadIsReallyThePidsLimit(ForkFailures failures) throws Exception {
        boolean limited = !Boolean.getBoolean("example.noLimit");
        String pid = Long.toString(ProcessHandle.current().pid());
        Files.createDirectories(CGROUP);
        CountDownLatch release = new CountDownLatch(1);
        List<Thread> started = new ArrayList<>();
        OutOfMemoryError refused = null;
        try {
            if (limited) {
                Files.writeString(CGROUP.resolve("pids.max"), Long.toString(currentThreads() + HEADROOM));
            }
            Files.writeString(CGROUP.resolve("cgroup.procs"), pid);
            try {
                for (int i = 0; i < MAX_THREADS; i++) {
                    Thread t = new Thread(() -> awaitQuietly(release), "worker-" + i);
                    t.setDaemon(true);
                    t.start();
                    started.add(t);
                }
            } catch (OutOfMemoryError e) {
                refused = e; // "unable to create native thread: possibly out of memory or process/resource limits reached"
            }
        } finally {
            release.countDown();
            for (Thread t : started) {
                t.join();
            }
            Files.writeString(PIDS_ROOT.resolve("cgroup.procs"), pid);
            Files.deleteIfExists(CGROUP);
        }
        if (limited) {
            assertTrue(refused != null, "the JVM should have failed to start a thread under the pids limit");
            Failure failure = failures.assertCause(Cause.PIDS_CGROUP_LIMIT);
            assertTrue(failure.thread(), "a thread, not a process, was being created: " + failure);
            assertTrue(failure.scope().kind() == ScopeKind.CGROUP
                    && failure.scope().name().equals("/forktrace-junit-example"), "scope: " + failure.scope());
            System.out.println("JVM said: " + refused.getMessage());
            System.out.println("forktrace says: " + failure);
        }
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
