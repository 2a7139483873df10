package dev.forktrace.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forktrace.proto.v1.Offender;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ProcessInspector on a fake /proc: which processes it names, in which order, with what. */
class ProcessInspectorTest {
    @TempDir
    Path proc;
    private ProcessInspector inspector;
    private static final String CONTAINER = "0123456789abcdef".repeat(4);

    private void process(int pid, int uid, int threads, long rssKiB, String comm, String cmdline, String pidns,
            String cgroup) throws IOException {
        Path dir = Files.createDirectories(proc.resolve(Integer.toString(pid)));
        Files.writeString(dir.resolve("status"), "Name:\t" + comm + "\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t" + uid
                + "\t" + uid + "\t" + uid + "\t" + uid + "\nVmRSS:\t" + rssKiB + " kB\nThreads:\t" + threads + "\n");
        Files.writeString(dir.resolve("comm"), comm + "\n");
        Files.writeString(dir.resolve("cmdline"), cmdline.replace(' ', '\0') + "\0");
        Files.writeString(dir.resolve("cgroup"), cgroup);
        Files.createDirectories(dir.resolve("ns"));
        Files.createSymbolicLink(dir.resolve("ns/pid"), Path.of("pid:[" + pidns + "]"));
    }

    @BeforeEach
    void fakeProc() throws IOException {
        process(100, 1000, 2, 5_000, "sh", "sh -c sleep", "4026531836", "12:pids:/user.slice\n");
        process(200, 1000, 50, 1_000, "java", "java -Xss256k -cp app.jar com.example.Main arg", "4026532000",
                "12:pids:/docker/" + CONTAINER + "\n");
        process(300, 0, 10, 900_000, "memhog", "memhog " + "x".repeat(300), "4026532000", "12:pids:/\n");
        Files.createDirectories(proc.resolve("self")); // not a pid
        Files.writeString(proc.resolve("uptime"), "1.0 1.0\n");
        inspector = new ProcessInspector(proc);
    }

    private static List<Integer> pids(List<Offender> offenders) {
        return offenders.stream().map(Offender::getPid).toList();
    }

    @Test
    void rankedByTasksOrByMemory() {
        assertEquals(List.of(200, 300, 100), pids(inspector.onSystem(false)));
        assertEquals(List.of(300, 100, 200), pids(inspector.onSystem(true)));
    }

    @Test
    void aUsersProcessesByRealUid() {
        assertEquals(List.of(200, 100), pids(inspector.ofUser(1000)));
        assertEquals(List.of(300), pids(inspector.ofUser(0)));
        assertEquals(List.of(), inspector.ofUser(4242));
    }

    @Test
    void aPidNamespacesProcessesByItsInode() {
        assertEquals(List.of(200, 300), pids(inspector.inPidNamespace(4026532000L, false)));
        assertEquals(3, inspector.inPidNamespace(4026531836L, true).size(), "the initial namespace holds every process");
    }

    @Test
    void aCgroupsProcessesIncludeTheCgroupsBelowIt(@TempDir Path cgroup) throws IOException {
        Files.writeString(cgroup.resolve("cgroup.procs"), "100\n");
        Path child = Files.createDirectories(cgroup.resolve("child/grandchild"));
        Files.writeString(child.resolve("cgroup.procs"), "300\n999\n"); // 999 is gone already
        assertEquals(List.of(300, 100), pids(inspector.inCgroup(cgroup, false)));
    }

    @Test
    void anOffenderCarriesWhatStatusCmdlineAndCgroupSay() {
        Offender java = inspector.describe(200);
        assertEquals("java", java.getComm());
        assertEquals(50, java.getTasks());
        assertEquals(1000, java.getUid());
        assertEquals(1_000 * 1024L, java.getMemoryBytes());
        assertEquals("java -Xss256k -cp app.jar com.example.Main arg", java.getCmdline());
        assertEquals(CONTAINER.substring(0, 12), java.getContainerId());
        Offender hog = inspector.describe(300);
        assertEquals(160, hog.getCmdline().length(), "long command lines are shortened");
        assertTrue(hog.getCmdline().endsWith("..."));
        assertEquals("", hog.getContainerId());
        assertNull(inspector.describe(4242), "a process that is gone");
    }

    @Test
    void theMainOfAJvmAndNothingForOtherProcesses() {
        assertEquals("com.example.Main", inspector.javaMain(200, "java"));
        assertNull(inspector.javaMain(100, "sh"));
        assertEquals(List.of(), inspector.argv(4242));
        assertEquals("", inspector.commandLine(4242));
    }
}
