package dev.forktrace.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CgroupSamplingTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void aCgroupBelowAnAncestorThatCountsLessThanItsNearLineIsNotRead() {
        // limit 1000, near line 700: the parent counts 3, so this cgroup counts at most 3
        assertFalse(LimitScanner.mustRead(3, 1000, 2, SECOND, 0.7, 5 * SECOND));
        assertFalse(LimitScanner.mustRead(0, 1000, 2, 3600 * SECOND, 0.7, 5 * SECOND)); // 0 is exact: no refresh
    }

    @Test
    void aCgroupIsReadWhenTheBoundCannotRuleItOut() {
        assertTrue(LimitScanner.mustRead(700, 1000, 2, 0, 0.7, 5 * SECOND));
        assertTrue(LimitScanner.mustRead(Long.MAX_VALUE, 1000, 2, 0, 0.7, 5 * SECOND)); // top level: no ancestor read
        assertTrue(LimitScanner.mustRead(3, 1000, -1, 0, 0.7, 5 * SECOND));            // never read yet
    }

    @Test
    void aCgroupThatWasNearIsReadSoThatItsRecoveryHasItsExactCount() {
        assertTrue(LimitScanner.mustRead(10, 1000, 950, 0, 0.7, 5 * SECOND));
    }

    @Test
    void aCappedValueIsRefreshedEveryFarInterval() {
        assertFalse(LimitScanner.mustRead(50, 1000, 2, 4 * SECOND, 0.7, 5 * SECOND));
        assertTrue(LimitScanner.mustRead(50, 1000, 2, 5 * SECOND, 0.7, 5 * SECOND));
    }

    @Test
    void siblingsThatTogetherPassTheirNearLineAreNotReadWhileTheMachineCreatesFewTasks() {
        // 1,000 cgroups of one task under one parent: the parent's 1,000 bounds none of them below 700
        assertTrue(LimitScanner.mustRead(1000, 1000, 1, Long.MAX_VALUE, SECOND, 0.7, 5 * SECOND)); // unknown: read
        assertFalse(LimitScanner.mustRead(1000, 1000, 1, 5, SECOND, 0.7, 5 * SECOND));  // 5 tasks created since
        assertTrue(LimitScanner.mustRead(1000, 1000, 1, 699, SECOND, 0.7, 5 * SECOND)); // 1 + 699 may reach 700
    }

    @Test
    void aCountBoundedByTaskCreationIsStillRefreshedForMovesIntoTheCgroup() {
        assertFalse(LimitScanner.mustRead(1000, 1000, 0, 0, 4 * SECOND, 0.7, 5 * SECOND));
        assertTrue(LimitScanner.mustRead(1000, 1000, 0, 0, 5 * SECOND, 0.7, 5 * SECOND), "no fork, but a move");
    }

    @Test
    void withNoMoveSinceItsReadAFarCgroupWaitsForItsTurnAndAfterAMoveForTheFarInterval() {
        assertEquals(Long.MAX_VALUE, LimitScanner.refreshNanos(7, 7, 5 * SECOND));
        assertEquals(5 * SECOND, LimitScanner.refreshNanos(8, 7, 5 * SECOND), "a move since the read");
        assertEquals(5 * SECOND, LimitScanner.refreshNanos(-1, -1, 5 * SECOND), "moves not counted (no tracepoint)");
        assertEquals(5 * SECOND, LimitScanner.refreshNanos(7, -1, 5 * SECOND), "read before moves were counted");
    }

    private static final int CGROUPS = 2 * LimitScanner.TURN_CYCLE_SCANS; // two read in turn each scan

    /** A pids hierarchy of our own making: CGROUPS cgroups limited to 1000, one task in each. */
    private static LimitScanner moveCountingSampler(Path root, long[] moves) throws Exception {
        Path proc = Files.createDirectories(root.resolve("proc"));
        Files.createDirectories(proc.resolve("self/ns"));
        Files.createSymbolicLink(proc.resolve("self/ns/pid"), Path.of("pid:[4026531836]"));
        Files.createSymbolicLink(proc.resolve("self/ns/user"), Path.of("user:[4026531837]"));
        Files.writeString(proc.resolve("loadavg"), "0.00 0.00 0.00 1/50 4100\n"); // no pid is created below
        for (int i = 0; i < CGROUPS; i++) {
            Path cg = Files.createDirectories(root.resolve("pids/job-" + i));
            Files.writeString(cg.resolve("pids.max"), "1000\n");
            Files.writeString(cg.resolve("pids.current"), "1\n");
        }
        return new LimitScanner(proc, new dev.forktrace.system.CgroupPaths(java.util.Map.of(
                dev.forktrace.system.CgroupPaths.Hierarchy.PIDS, root.resolve("pids"))), 3600 * SECOND)
                .sampleFarCgroupsEvery(0.7, SECOND).countMovesWith(() -> moves[0]);
    }

    /** 399 tasks moved into every cgroup, and no pid created. */
    private static void moveTasksIntoEach(Path root, int current) throws Exception {
        for (int i = 0; i < CGROUPS; i++) {
            Files.writeString(root.resolve("pids/job-" + i + "/pids.current"), current + "\n");
        }
    }

    /** How many cgroups the scan says hold this many tasks. */
    private static long holding(LimitScanner scanner, long tasks) {
        return scanner.scan().scopes().stream().filter(s -> s.name().startsWith("/job-") && s.used() == tasks).count();
    }

    @Test
    void tasksMovedIntoCgroupsAreSeenOnceTheKernelCountedAMoveAndInTheirTurnBefore(@TempDir Path root) throws Exception {
        long[] moves = {0};
        try (LimitScanner scanner = moveCountingSampler(root, moves)) {
            assertEquals(CGROUPS, holding(scanner, 1));
            moveTasksIntoEach(root, 400);
            Thread.sleep(1100); // past the far interval of 1 s
            assertEquals(2, holding(scanner, 400), "no move counted: only the two whose turn it is are read");
            assertEquals(4, holding(scanner, 400), "and two more at the next scan");
            moves[0] = 1;
            Thread.sleep(1100); // the four read in turn a moment ago are due again too
            assertEquals(CGROUPS, holding(scanner, 400), "a move counted since their read: all read again");
            moveTasksIntoEach(root, 401);
            Thread.sleep(1100);
            assertEquals(2, holding(scanner, 401), "read after that move: only their turn again");
        }
    }

    @Test
    void withoutAMoveCountTheFarIntervalStillCatchesMoves(@TempDir Path root) throws Exception {
        long[] moves = {-1}; // the tracepoint is not attached (limits --watch, or an old kernel)
        try (LimitScanner scanner = moveCountingSampler(root, moves)) {
            assertEquals(CGROUPS, holding(scanner, 1));
            moveTasksIntoEach(root, 400);
            Thread.sleep(1100);
            assertEquals(CGROUPS, holding(scanner, 400));
        }
    }

    @Test
    void withoutANearRatioEveryCounterIsRead() { // forktrace limits: exact numbers for every cgroup
        assertTrue(LimitScanner.mustRead(0, 1000, 0, 0, 0, 5 * SECOND));
    }

    @Test
    void procCgroupsCountsChangeWhenAPidsOrMemoryCgroupComesOrGoes() {
        String before = "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t3\t1\t1\nmemory\t9\t120\t1\npids\t5\t5012\t1\n";
        String added = before.replace("5012", "5013");
        String cpuOnly = before.replace("cpuset\t3\t1", "cpuset\t3\t2");
        assertNotEquals(LimitScanner.cgroupCounts(before), LimitScanner.cgroupCounts(added));
        assertEquals(LimitScanner.cgroupCounts(before), LimitScanner.cgroupCounts(cpuOnly));
        // one removed from pids and one added to memory is still a change
        assertNotEquals(LimitScanner.cgroupCounts(before),
                LimitScanner.cgroupCounts(before.replace("5012", "5011").replace("\t120\t", "\t121\t")));
    }

    @Test
    void theWalkListsEveryDirectoryAfterItsParentAndNoControlFiles(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve("a/b/c"));
        Files.createDirectories(root.resolve("a/leaf"));
        Files.createDirectories(root.resolve("d"));
        Files.writeString(root.resolve("a/pids.max"), "10\n");
        Files.writeString(root.resolve("a/b/pids.current"), "0\n");
        List<Path> found = LimitScanner.walk(root);
        assertEquals(5, found.size(), found.toString());
        for (String p : List.of("a", "a/b", "a/b/c", "a/leaf", "d")) {
            assertTrue(found.contains(root.resolve(p)), p);
        }
        for (Path p : found) {
            if (!p.getParent().equals(root)) {
                assertTrue(found.indexOf(p.getParent()) < found.indexOf(p), p + " before its parent: " + found);
            }
        }
    }

    @Test
    void statFieldsAreCountedAfterTheCommWhateverItHolds() {
        String stat = "4242 (a) b (c) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 7 0 12345 1000000 321 "
                + "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        int close = stat.lastIndexOf(')');
        assertEquals(17, LimitScanner.statField(stat, close, 4));  // ppid
        assertEquals(-1, LimitScanner.statField(stat, close, 8));  // tpgid
        assertEquals(7, LimitScanner.statField(stat, close, 20));  // num_threads
        assertEquals(321, LimitScanner.statField(stat, close, 24)); // rss, pages
    }
}
