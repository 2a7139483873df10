package dev.forktrace.system;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.nio.file.FileVisitResult;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Maps the kernfs ids BPF records (css->cgroup->kn->id, the inode number of the cgroup's directory on
 * 64-bit kernels) to paths. Each hierarchy numbers its cgroups on its own, so ids are looked up per
 * hierarchy: the pids and memory controllers' (cgroup v1 mounts, or cgroup2 when they are bound there)
 * and cgroup2's. Paths are relative to the hierarchy root, as /proc/PID/cgroup shows them.
 */
public final class CgroupPaths {
    /** The hierarchies forktrace reads; code() is enum ft_cgroup_hierarchy of bpf/forktrace.h. */
    public enum Hierarchy {
        PIDS(1), MEMORY(2), UNIFIED(0);

        private final int code;

        Hierarchy(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }
    }

    /** A cgroup directory: its hierarchy's mount point and its path below it ("/a/b"). */
    public record Cgroup(Path mount, String path) {
        public Path directory() {
            return path.equals("/") ? mount : mount.resolve(path.substring(1));
        }
    }

    private static final long MISS_MEMORY_NANOS = 1_000_000_000L;
    private final Map<Hierarchy, Path> mounts;
    private final Map<Hierarchy, Map<Long, Cgroup>> byId = new EnumMap<>(Hierarchy.class);
    /** Ids looked up in vain, per hierarchy: ids are numbered per hierarchy, one id means different cgroups. */
    private final Map<Miss, Long> recentMisses = new HashMap<>();

    private record Miss(Hierarchy hierarchy, long id) {}

    public CgroupPaths(Map<Hierarchy, Path> mounts) {
        this.mounts = mounts;
        for (Hierarchy h : Hierarchy.values()) {
            byId.put(h, new java.util.concurrent.ConcurrentHashMap<>()); // read without the lock by known()
        }
    }

    /** Reads /proc/self/mountinfo: which mount holds the pids and memory controllers, and cgroup2. */
    public static CgroupPaths forThisMachine() {
        String mountinfo = ProcFs.read(Path.of("/proc/self/mountinfo"));
        Map<Hierarchy, Path> found = mountinfo == null ? new EnumMap<>(Hierarchy.class) : cgroupMounts(mountinfo);
        Path unified = found.get(Hierarchy.UNIFIED);
        if (unified != null) { // controllers not bound to a v1 hierarchy live in cgroup2
            String controllers = ProcFs.read(unified.resolve("cgroup.controllers"));
            if (controllers != null && controllers.contains("pids")) {
                found.putIfAbsent(Hierarchy.PIDS, unified);
            }
            if (controllers != null && controllers.contains("memory")) {
                found.putIfAbsent(Hierarchy.MEMORY, unified);
            }
        }
        return new CgroupPaths(found);
    }

    /** The first cgroup2 mount and the first v1 mounts holding pids and memory, from mountinfo text. */
    static Map<Hierarchy, Path> cgroupMounts(String mountinfo) {
        Map<Hierarchy, Path> found = new EnumMap<>(Hierarchy.class);
        for (String line : mountinfo.split("\n")) {
            String[] halves = line.split(" - ", 2); // "... mountpoint opts - fstype source superopts"
            String[] left = halves[0].split(" ");
            if (halves.length < 2 || left.length < 5) {
                continue;
            }
            String[] right = halves[1].split(" ");
            Path mountPoint = Path.of(unescape(left[4]));
            String superOptions = right.length > 2 ? "," + right[2] + "," : "";
            if (right[0].equals("cgroup2")) {
                found.putIfAbsent(Hierarchy.UNIFIED, mountPoint);
            } else if (right[0].equals("cgroup")) {
                if (superOptions.contains(",pids,")) {
                    found.putIfAbsent(Hierarchy.PIDS, mountPoint);
                }
                if (superOptions.contains(",memory,")) {
                    found.putIfAbsent(Hierarchy.MEMORY, mountPoint);
                }
            }
        }
        return found;
    }

    /**
     * A mountinfo field with the kernel's octal escapes undone: show_mountinfo() escapes space, tab,
     * newline and backslash as \040, \011, \012 and \134 (seq_path_root with " \t\n\\").
     */
    static String unescape(String field) {
        StringBuilder b = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && isOctal(field, i + 1)) {
                b.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) {
            return false;
        }
        for (int i = from; i < from + 3; i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '7') {
                return false;
            }
        }
        return true;
    }

    public Path mount(Hierarchy hierarchy) {
        return mounts.get(hierarchy);
    }

    /**
     * The cgroup with this kernfs id in the hierarchy. An unknown id makes one fresh walk of the
     * hierarchy (cgroups come and go); the same unknown id again within a second does not.
     */
    public synchronized Cgroup find(Hierarchy hierarchy, long id) {
        Map<Long, Cgroup> known = byId.get(hierarchy);
        Cgroup cgroup = known.get(id);
        if (cgroup == null && mounts.containsKey(hierarchy)) {
            long now = System.nanoTime();
            Miss miss = new Miss(hierarchy, id);
            Long missed = recentMisses.get(miss);
            if (missed == null || now - missed > MISS_MEMORY_NANOS) {
                refresh(hierarchy);
                cgroup = known.get(id);
                if (cgroup == null) {
                    if (recentMisses.size() > 4096) {
                        recentMisses.clear();
                    }
                    recentMisses.put(miss, now);
                }
            }
        }
        return cgroup;
    }

    /**
     * The cgroup with this id as last indexed, or null: never walks the hierarchy, never blocks (for the
     * consumer thread; {@link #find} walks when the id is new).
     */
    public Cgroup known(Hierarchy hierarchy, long id) {
        return byId.get(hierarchy).get(id);
    }

    /** Every cgroup path of a hierarchy as it is now (one fresh walk). */
    public synchronized List<String> all(Hierarchy hierarchy) {
        if (!mounts.containsKey(hierarchy)) {
            return List.of();
        }
        refresh(hierarchy);
        return byId.get(hierarchy).values().stream().map(Cgroup::path).sorted().toList();
    }

    /** Path for output: "/a/b", or "cgroup id N" when the cgroup is already gone. */
    public String describe(Hierarchy hierarchy, long id) {
        Cgroup cgroup = find(hierarchy, id);
        return cgroup != null ? cgroup.path() : "cgroup id " + id;
    }

    /**
     * The kernfs id of a cgroup given as an absolute directory or as a path below a hierarchy root,
     * with the hierarchy it was found in.
     */
    public Map.Entry<Hierarchy, Long> resolve(String path) throws IOException {
        Path direct = Path.of(path);
        for (Map.Entry<Hierarchy, Path> mount : mounts.entrySet()) {
            Path candidate = direct.isAbsolute() && direct.startsWith(mount.getValue()) ? direct
                    : mount.getValue().resolve(path.startsWith("/") ? path.substring(1) : path);
            if (Files.isDirectory(candidate)) {
                return Map.entry(mount.getKey(), (Long) Files.getAttribute(candidate, "unix:ino"));
            }
        }
        throw new IOException("no cgroup '" + path + "' in the cgroup hierarchies " + mounts.values());
    }

    private volatile long walks;

    /** How many walks indexed the hierarchies so far: a path remembered from before a walk may have changed. */
    public long walks() {
        return walks;
    }

    /** Walks the hierarchy; directories that vanish during the walk are skipped, not fatal. */
    private void refresh(Hierarchy hierarchy) {
        Path mount = mounts.get(hierarchy);
        Map<Long, Cgroup> known = byId.get(hierarchy);
        try {
            Files.walkFileTree(mount, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) {
                    try { // the directory's inode number is the cgroup's kernfs id
                        long ino = (Long) Files.getAttribute(dir, "unix:ino");
                        known.put(ino, new Cgroup(mount, "/" + mount.relativize(dir)));
                    } catch (IOException | RuntimeException e) {
                        // removed while walking: not the one we look for
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException | RuntimeException e) {
            // a hierarchy that vanished or cannot be read contributes nothing
        } finally {
            walks++; // after the walk (callers hold the lock): a path read during it is not kept past it
        }
    }
}
