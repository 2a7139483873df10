package dev.forktrace.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CgroupPathsTest {
    @TempDir
    Path dir;

    @Test
    void mountinfoEscapesAreAllUndone() {
        assertEquals("/a b", CgroupPaths.unescape("/a\\040b"));
        assertEquals("/tab\there", CgroupPaths.unescape("/tab\\011here"));
        assertEquals("/new\nline", CgroupPaths.unescape("/new\\012line"));
        assertEquals("/back\\slash", CgroupPaths.unescape("/back\\134slash"));
        assertEquals("/not\\9escape\\04", CgroupPaths.unescape("/not\\9escape\\04")); // no 3 octal digits: kept
    }

    @Test
    void cgroupMountsFromMountinfoLines() {
        String mountinfo = String.join("\n",
                "24 31 0:21 / /proc rw,nosuid - proc proc rw",
                "30 25 0:26 / /sys/fs/cgroup/unified rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate",
                "33 25 0:29 / /sys/fs/cgroup/my\\040pids\\011x rw,nosuid shared:12 - cgroup cgroup rw,pids",
                "34 25 0:30 / /sys/fs/cgroup/memory rw shared:13 - cgroup cgroup rw,memory,release_agent=/x",
                "35 25 0:31 / /sys/fs/cgroup/second-pids rw - cgroup cgroup rw,pids",
                "garbage line");
        Map<CgroupPaths.Hierarchy, Path> mounts = CgroupPaths.cgroupMounts(mountinfo);
        assertEquals(Path.of("/sys/fs/cgroup/unified"), mounts.get(CgroupPaths.Hierarchy.UNIFIED));
        assertEquals(Path.of("/sys/fs/cgroup/my pids\tx"), mounts.get(CgroupPaths.Hierarchy.PIDS), "first pids mount, unescaped");
        assertEquals(Path.of("/sys/fs/cgroup/memory"), mounts.get(CgroupPaths.Hierarchy.MEMORY));
    }

    @Test
    void aMissInOneHierarchyDoesNotHideTheSameIdInAnother() throws Exception {
        Path pids = Files.createDirectory(dir.resolve("pids"));
        Path memory = Files.createDirectory(dir.resolve("memory"));
        Path cgroup = Files.createDirectories(memory.resolve("app/worker"));
        long id = (Long) Files.getAttribute(cgroup, "unix:ino");
        CgroupPaths paths = new CgroupPaths(Map.of(CgroupPaths.Hierarchy.PIDS, pids, CgroupPaths.Hierarchy.MEMORY, memory));
        assertNull(paths.find(CgroupPaths.Hierarchy.PIDS, id), "no such id in the pids hierarchy");
        CgroupPaths.Cgroup found = paths.find(CgroupPaths.Hierarchy.MEMORY, id);
        assertNotNull(found, "the id exists in the memory hierarchy: a pids miss must not hide it");
        assertEquals("/app/worker", found.path());
        assertEquals(cgroup, found.directory());
        assertEquals("cgroup id 1", paths.describe(CgroupPaths.Hierarchy.MEMORY, 1));
    }

    @Test
    void theHierarchyRootIsSlash() throws Exception {
        Path pids = Files.createDirectory(dir.resolve("pids"));
        CgroupPaths paths = new CgroupPaths(Map.of(CgroupPaths.Hierarchy.PIDS, pids));
        assertNotNull(paths.find(CgroupPaths.Hierarchy.PIDS, (Long) Files.getAttribute(pids, "unix:ino")));
        assertEquals("/", paths.find(CgroupPaths.Hierarchy.PIDS, (Long) Files.getAttribute(pids, "unix:ino")).path());
    }
}
