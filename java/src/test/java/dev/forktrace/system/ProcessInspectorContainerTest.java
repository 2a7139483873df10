package dev.forktrace.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.forktrace.containers.ContainerRuntimes;
import dev.forktrace.proto.v1.Offender;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessInspectorContainerTest {
    static final String ID = "a".repeat(64);

    @TempDir
    Path proc;

    @Test
    void innermostPidIsTheLastNsPidEntry() {
        assertEquals(7, ProcessInspector.innermostPid("Name:\tsh\nNSpid:\t4242\t7\nNSpgid:\t4242\t7\n"));
        assertEquals(4242, ProcessInspector.innermostPid("NSpid:\t4242\n"));
        assertEquals(0, ProcessInspector.innermostPid("Name:\tsh\n"));
        assertEquals(0, ProcessInspector.innermostPid(null));
    }

    @Test
    void offenderCarriesItsContainerAndNamespacePid() throws IOException {
        Path p = Files.createDirectories(proc.resolve("4242"));
        Files.writeString(p.resolve("status"), "Name:\tsh\nUid:\t61400\t61400\t61400\t61400\nThreads:\t3\nNSpid:\t4242\t7\n");
        Files.writeString(p.resolve("comm"), "sh\n");
        Files.writeString(p.resolve("cmdline"), "sh\0-c\0loop\0");
        Files.writeString(p.resolve("cgroup"), "12:pids:/docker/" + ID + "\n11:memory:/docker/" + ID + "\n0::/\n");
        ProcessInspector inspector = new ProcessInspector(proc);
        ContainerRuntimes none = new ContainerRuntimes(proc.resolve("no-root"), proc.resolve("no-proc"), w -> { });
        inspector.identifyContainers(none::forPath);
        Offender o = inspector.describe(4242);
        assertEquals(7, o.getNsPid());
        assertEquals("docker", o.getContainer().getRuntime());
        assertEquals(ID, o.getContainer().getId());
        assertEquals(ID.substring(0, 12), o.getContainerId());

        Files.writeString(p.resolve("cgroup"), "12:pids:/user.slice\n0::/\n");
        assertFalse(new ProcessInspector(proc).describe(4242).hasContainer());
    }
}
