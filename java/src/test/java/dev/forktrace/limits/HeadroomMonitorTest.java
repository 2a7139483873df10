package dev.forktrace.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.forktrace.proto.v1.Headroom;
import dev.forktrace.system.CgroupPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Between its full passes the monitor looks only at the scopes the scan reports as changed: a crossing and a
 * recovery must still be seen at the first sample after them, once each, and an idle scope never. A pids
 * hierarchy and /proc of our own making; every counter is read every scan (no near ratio), as in limits.
 */
class HeadroomMonitorTest {
    @TempDir
    Path root;

    private Path cgroup(String name, long current) throws Exception {
        Path cg = Files.createDirectories(root.resolve("pids").resolve(name));
        Files.writeString(cg.resolve("pids.max"), "1000\n");
        Files.writeString(cg.resolve("pids.current"), current + "\n");
        return cg;
    }

    private HeadroomMonitor monitor() throws Exception {
        Path proc = Files.createDirectories(root.resolve("proc"));
        Files.createDirectories(proc.resolve("self/ns"));
        Files.createSymbolicLink(proc.resolve("self/ns/pid"), Path.of("pid:[4026531836]"));
        Files.createSymbolicLink(proc.resolve("self/ns/user"), Path.of("user:[4026531837]"));
        Files.writeString(proc.resolve("loadavg"), "0.00 0.00 0.00 1/50 4100\n");
        LimitScanner scanner = new LimitScanner(proc, new CgroupPaths(Map.of(CgroupPaths.Hierarchy.PIDS,
                root.resolve("pids"))), 3600_000_000_000L);
        return new HeadroomMonitor(scanner, 0.9, 0.05, HeadroomMonitor.Selection.ALL);
    }

    private static List<String> transitions(HeadroomMonitor monitor) {
        List<String> seen = new ArrayList<>();
        monitor.drainTo(h -> seen.add(h.getState() + " " + h.getName() + " " + h.getUsed()));
        return seen;
    }

    @Test
    void aCrossingBetweenFullPassesIsWarnedAtTheNextSampleAndOnlyOnce() throws Exception {
        Path busy = cgroup("busy", 10);
        for (int i = 0; i < 20; i++) {
            cgroup("idle-" + i, 1);
        }
        try (HeadroomMonitor monitor = monitor()) {
            monitor.sample(); // the first sample is a full pass
            assertEquals(List.of(), transitions(monitor));
            Files.writeString(busy.resolve("pids.current"), "950\n");
            monitor.sample(); // not a full pass: only the changed scope is looked at
            assertEquals(List.of("CROSSED /busy 950"), transitions(monitor));
            for (int i = 0; i < 2 * HeadroomMonitor.FULL_PASS_SAMPLES; i++) {
                monitor.sample(); // unchanged, full passes among them: no second warning
            }
            assertEquals(List.of(), transitions(monitor));
            Files.writeString(busy.resolve("pids.current"), "100\n");
            monitor.sample();
            assertEquals(List.of("RECOVERED /busy 100"), transitions(monitor));
            assertEquals(21, monitor.latest().size(), "the gauges still see every scope");
        }
    }
}
