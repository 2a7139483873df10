package dev.forktrace.system;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.forktrace.proto.v1.Offender;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HolderGroupsTest {
    private static HolderGroups.Member process(int pid, int ppid, String comm, String exe, int tasks) {
        return new HolderGroups.Member(Offender.newBuilder().setPid(pid).setComm(comm).setTasks(tasks)
                .setMemoryBytes(tasks * 1024L).setProcessCount(1).build(), ppid, exe);
    }

    private static final Map<Integer, HolderGroups.Ancestor> TREE = Map.of(
            412, new HolderGroups.Ancestor(1, "sshd"), 500, new HolderGroups.Ancestor(412, "bash"),
            501, new HolderGroups.Ancestor(412, "bash"), 1, new HolderGroups.Ancestor(0, "systemd"));

    @Test
    void aForkBombOfOneTaskSleepsIsOneHolderUnderItsCommonAncestor() {
        List<HolderGroups.Member> members = new ArrayList<>();
        for (int i = 0; i < 9000; i++) {
            members.add(process(10_000 + i, i % 2 == 0 ? 500 : 501, "sleep", "/usr/bin/sleep", 1));
        }
        members.add(process(600, 500, "holder", "/opt/holder", 7));
        List<Offender> groups = HolderGroups.group(members, false, 5, TREE::get);
        assertEquals(2, groups.size());
        Offender sleeps = groups.get(0);
        assertEquals(9000, sleeps.getProcessCount());
        assertEquals(9000, sleeps.getTasks());
        assertEquals(412, sleeps.getAncestorPid()); // the shells 500 and 501 are siblings under sshd
        assertEquals("9,000 × sleep (9,000 tasks) under sshd pid 412", HolderGroups.describe(sleeps, false));
        assertEquals("'holder' (pid 600) holds 7 tasks", HolderGroups.describe(groups.get(1), false));
    }

    @Test
    void oneTaskIsSingular() {
        Offender one = HolderGroups.group(List.of(process(7, 500, "sh", "/bin/sh", 1)), false, 5, TREE::get).get(0);
        assertEquals("'sh' (pid 7) holds 1 task", HolderGroups.describe(one, false));
        assertEquals(0, one.getAncestorPid()); // a single process has no group ancestor to name
    }

    @Test
    void sameCommDifferentExecutablesAreDifferentHolders() {
        List<Offender> groups = HolderGroups.group(List.of(process(1001, 500, "python3", "/usr/bin/python3.11", 3),
                process(1002, 500, "python3", "/opt/venv/bin/python3", 2)), false, 5, TREE::get);
        assertEquals(2, groups.size());
        assertEquals(3, groups.get(0).getTasks());
    }

    @Test
    void noAncestorBelowInitIsNamed() {
        List<Offender> groups = HolderGroups.group(List.of(process(2001, 1, "agent", "/a", 1),
                process(2002, 1, "agent", "/a", 1)), false, 5, TREE::get);
        assertEquals(0, groups.get(0).getAncestorPid());
        assertEquals("2 × agent (2 tasks)", HolderGroups.describe(groups.get(0), false));
    }

    @Test
    void byMemoryTheGroupsTotalIsRanked() {
        List<Offender> groups = HolderGroups.group(List.of(process(1, 500, "a", "/a", 10), process(2, 500, "b", "/b", 6),
                process(3, 500, "b", "/b", 6)), true, 5, TREE::get);
        assertEquals("b", groups.get(0).getComm());
        assertEquals(12 * 1024L, groups.get(0).getMemoryBytes());
    }
}
