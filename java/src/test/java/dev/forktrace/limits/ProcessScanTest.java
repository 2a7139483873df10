package dev.forktrace.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.forktrace.proto.v1.ScopeKind;
import dev.forktrace.system.CgroupPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * While sampling, the per-process scan is skipped when the pids allocated since it cannot have brought a
 * user or pid namespace to its near line, and runs whenever they could, whenever any scope is near, and
 * every far interval. A /proc of our own making, so that the counts are exact.
 */
class ProcessScanTest {
    private static final int UID = 61600;
    private static final long FAR = 3600L * 1_000_000_000L; // never reached within a test
    @TempDir
    Path proc;

    @BeforeEach
    void initialNamespace() throws IOException {
        Files.createDirectories(proc.resolve("self/ns"));
        Files.createSymbolicLink(proc.resolve("self/ns/pid"), Path.of("pid:[4026531836]"));
        Files.createSymbolicLink(proc.resolve("self/ns/user"), Path.of("user:[4026531837]"));
        Files.createDirectories(proc.resolve("sys/kernel"));
        Files.writeString(proc.resolve("sys/kernel/pid_max"), "4194304\n");
        threadsMax(100_000);
    }

    private void threadsMax(long max) throws IOException {
        Files.writeString(proc.resolve("sys/kernel/threads-max"), max + "\n");
    }

    private void loadavg(int nrThreads, int lastPid) throws IOException {
        Files.writeString(proc.resolve("loadavg"), "0.00 0.00 0.00 1/" + nrThreads + " " + lastPid + "\n");
    }

    /** A process of UID with RLIMIT_NPROC 100 (near line 70 at nearRatio 0.7). */
    private void process(int pid, int threads) throws IOException {
        Path dir = Files.createDirectories(proc.resolve(Integer.toString(pid)));
        Files.writeString(dir.resolve("stat"), pid + " (worker) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 " + threads
                + " 0 100 1000 10\n");
        Files.writeString(dir.resolve("status"), "Name:\tworker\nUid:\t" + UID + "\t" + UID + "\t" + UID + "\t" + UID
                + "\nCapEff:\t0000000000000000\nNSpid:\t" + pid + "\n");
        Files.writeString(dir.resolve("limits"), "Limit                     Soft Limit           Hard Limit           Units\n"
                + "Max processes             100                  100                  processes\n");
        Files.createDirectories(dir.resolve("ns"));
        Files.createSymbolicLink(dir.resolve("ns/pid"), Path.of("pid:[4026531836]"));
        Files.createSymbolicLink(dir.resolve("ns/user"), Path.of("user:[4026531837]"));
    }

    private static long userTasks(LimitScanner scanner) {
        return scanner.scan().scopes().stream().filter(s -> s.kind() == ScopeKind.USER).mapToLong(LimitScope::used)
                .sum();
    }

    private LimitScanner sampler() {
        return new LimitScanner(proc, new CgroupPaths(Map.of()), FAR).sampleFarCgroupsEvery(0.7, FAR);
    }

    @Test
    void fewerNewPidsThanTheSlackLeaveTheLastCountsAndMoreReadAgain() throws Exception {
        process(4100, 1);
        loadavg(50, 4100);
        try (LimitScanner scanner = sampler()) {
            assertEquals(1, userTasks(scanner)); // slack: 70 - 1 = 69 tasks
            process(4101, 10);
            loadavg(60, 4168); // 68 pids allocated: the user cannot have reached 70
            assertEquals(1, userTasks(scanner), "not read again: no process of this user can be near its limit");
            loadavg(60, 4169); // 69: it could have
            assertEquals(11, userTasks(scanner));
        }
    }

    @Test
    void aScopeNearItsLineReadsTheProcessesEverySampleForItsHolders() throws Exception {
        process(4100, 1);
        threadsMax(60);
        loadavg(50, 4100); // nr_threads 50 of 60: near
        try (LimitScanner scanner = sampler()) {
            assertEquals(1, userTasks(scanner));
            process(4101, 10);
            loadavg(50, 4101);
            assertEquals(11, userTasks(scanner));
        }
    }

    @Test
    void withoutSamplingEveryScanReadsEveryProcess() throws Exception { // forktrace limits
        process(4100, 1);
        loadavg(50, 4100);
        try (LimitScanner scanner = new LimitScanner(proc, new CgroupPaths(Map.of()), 0)) {
            assertEquals(1, userTasks(scanner));
            process(4101, 10);
            assertEquals(11, userTasks(scanner));
        }
    }

    @Test
    void theLastPidIsLoadavgsLastField() {
        assertEquals(4567, LimitScanner.lastPid("0.00 0.01 0.05 1/123 4567\n"));
        assertEquals(-1, LimitScanner.lastPid(null));
        assertEquals(-1, LimitScanner.lastPid("garbage"));
    }
}
