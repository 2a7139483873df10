package dev.forktrace.system;

import dev.forktrace.proto.v1.Container;
import dev.forktrace.proto.v1.Offender;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds who holds a limited resource: the processes inside a scope, ranked by the tasks (threads) they
 * hold, or by resident memory for memory causes. Read right when the failure arrives (milliseconds after
 * it), so a process that exits shortly after is still named; cached per scope for a moment so a storm of
 * identical failures does not rescan /proc each time.
 */
public final class ProcessInspector {
    public static final int MAX_OFFENDERS = 5;
    private static final int CMDLINE_MAX = 160;
    private static final long DEFAULT_CACHE_NANOS = 250_000_000L;
    private static final Pattern CONTAINER_ID = Pattern.compile("([0-9a-f]{64})");

    private final Path proc;
    private final long cacheNanos;
    private final Map<String, CachedRanking> cache = new HashMap<>();

    private static final int JVM_CACHE_MAX = 1024;
    private final Map<Integer, CachedJvm> jvms = new HashMap<>();

    private java.util.function.Function<String, Container> containerOfPath = path -> null;
    private static final Pattern NS_PID = Pattern.compile("(?m)^NSpid:[ \\t]*([0-9 \\t]+)$");
    private final Map<Integer, CachedJvm> nsPids = new HashMap<>();

    private record CachedRanking(long readAt, List<Offender> offenders) {}

    /** What a process runs, if it is a JVM; main is null for anything else. */
    private record CachedJvm(long readAt, String processComm, String main) {}

    public ProcessInspector(Path proc) {
        this(proc, DEFAULT_CACHE_NANOS);
    }

    /** @param cacheNanos how long an answer is reused; 0 for a caller that keeps its own snapshots (every call reads) */
    public ProcessInspector(Path proc, long cacheNanos) {
        this.proc = proc;
        this.cacheNanos = cacheNanos;
    }

    public ProcessInspector() {
        this(Path.of("/proc"));
    }

    /** Another inspector over the same /proc that names containers the same way, reading every call: for another thread. */
    public ProcessInspector uncachedCopy() {
        ProcessInspector copy = new ProcessInspector(proc, 0);
        copy.containerOfPath = containerOfPath;
        return copy;
    }

    /** Offenders get their container identity from this (a cgroup path to a Container or null); no file reads. */
    public void identifyContainers(java.util.function.Function<String, Container> containerOfPath) {
        this.containerOfPath = containerOfPath;
    }

    /**
     * The pid as the process's own pid namespace sees it (the last NSpid entry); 0 when gone. Kept for a
     * moment per pid like javaMain, since a storm repeats the same few pids.
     */
    public int nsPid(int pid, String processComm) {
        long now = System.nanoTime();
        CachedJvm hit = nsPids.get(pid);
        if (hit != null && now - hit.readAt() < cacheNanos && hit.processComm().equals(processComm)) {
            return Integer.parseInt(hit.main());
        }
        if (nsPids.size() >= JVM_CACHE_MAX) {
            nsPids.clear();
        }
        int inner = innermostPid(ProcFs.read(proc.resolve(pid + "/status")));
        nsPids.put(pid, new CachedJvm(now, processComm, Integer.toString(inner)));
        return inner;
    }

    /** The last pid of the NSpid line of /proc/PID/status, 0 without one. Pure. */
    static int innermostPid(String status) {
        if (status == null) {
            return 0;
        }
        Matcher m = NS_PID.matcher(status);
        if (!m.find()) {
            return 0;
        }
        String[] pids = m.group(1).trim().split("\\s+");
        return Integer.parseInt(pids[pids.length - 1]);
    }

    /** The container of a process from its /proc/PID/cgroup text: the first line whose path names one. */
    Container containerOf(String procCgroup) {
        Container podOnly = null;
        for (String line : procCgroup.split("\n")) {
            int colon = line.indexOf(':', line.indexOf(':') + 1);
            if (colon < 0) {
                continue;
            }
            Container c = containerOfPath.apply(line.substring(colon + 1));
            if (c != null && !c.getId().isEmpty()) {
                return c;
            }
            podOnly = podOnly == null ? c : podOnly;
        }
        return podOnly;
    }

    /** Processes whose tgid is listed in the cgroup directory or any cgroup below it (pids counts hierarchically). */
    public List<Offender> inCgroup(Path cgroupDirectory, boolean byMemory) {
        return cached("cg:" + cgroupDirectory + byMemory, () -> rank(pidsBelow(cgroupDirectory), byMemory));
    }

    /** Processes of a user (real uid), which RLIMIT_NPROC counts. */
    public List<Offender> ofUser(int uid) {
        return cached("uid:" + uid, () -> rank(allPids(pid -> realUid(pid) == uid), false));
    }

    /** Processes in a pid namespace (by inode); level 0 means every process. */
    public List<Offender> inPidNamespace(long inum, boolean initial) {
        String link = "pid:[" + inum + "]";
        return cached("pidns:" + inum, () -> rank(allPids(pid -> initial || link.equals(namespaceLink(pid))), false));
    }

    public List<Offender> onSystem(boolean byMemory) {
        return cached("system" + byMemory, () -> rank(allPids(pid -> true), byMemory));
    }

    private List<Offender> cached(String key, java.util.function.Supplier<List<Offender>> scan) {
        long now = System.nanoTime();
        CachedRanking hit = cache.get(key);
        if (hit != null && now - hit.readAt() < cacheNanos) {
            return hit.offenders();
        }
        if (cache.size() > 256) {
            cache.clear();
        }
        List<Offender> offenders = scan.get();
        cache.put(key, new CachedRanking(now, offenders));
        return offenders;
    }

    private List<Integer> pidsBelow(Path directory) {
        List<Integer> pids = new ArrayList<>();
        try (var dirs = Files.walk(directory)) {
            dirs.filter(Files::isDirectory).forEach(dir -> {
                String procs = ProcFs.read(dir.resolve("cgroup.procs"));
                if (procs == null) {
                    return;
                }
                for (String line : procs.split("\n")) {
                    if (!line.isBlank()) {
                        pids.add(Integer.parseInt(line.trim()));
                    }
                }
            });
        } catch (IOException | RuntimeException e) {
            // the cgroup is gone: whatever was read so far is the answer
        }
        return pids;
    }

    private List<Integer> allPids(IntPredicate keep) {
        List<Integer> pids = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(proc)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (!name.isEmpty() && Character.isDigit(name.charAt(0))) {
                    int pid = Integer.parseInt(name);
                    if (keep.test(pid)) {
                        pids.add(pid);
                    }
                }
            }
        } catch (IOException e) {
            // /proc unreadable: no offenders rather than a crash
        }
        return pids;
    }

    private int realUid(int pid) {
        String status = ProcFs.read(proc.resolve(pid + "/status"));
        return (int) ProcFs.field(status, "Uid", -1);
    }

    private String namespaceLink(int pid) {
        try {
            return Files.readSymbolicLink(proc.resolve(pid + "/ns/pid")).toString();
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    /** Processes grouped by what they run (see {@link HolderGroups}), largest first, at most MAX_OFFENDERS. */
    public List<Offender> rank(List<Integer> pids, boolean byMemory) {
        List<HolderGroups.Member> members = new ArrayList<>(pids.size());
        for (int pid : pids) {
            HolderGroups.Member member = member(pid);
            if (member != null) {
                members.add(member);
            }
        }
        return HolderGroups.group(members, byMemory, MAX_OFFENDERS, this::ancestor);
    }

    /** One process as an offender, or null when it has already gone. */
    public Offender describe(int pid) {
        HolderGroups.Member member = member(pid);
        return member == null ? null : member.process();
    }

    /** One process with its parent and executable, or null when it has already gone. */
    public HolderGroups.Member member(int pid) {
        Path dir = proc.resolve(Integer.toString(pid));
        String status = ProcFs.read(dir.resolve("status"));
        if (status == null) {
            return null;
        }
        Offender.Builder offender = Offender.newBuilder()
                .setPid(pid)
                .setTasks((int) Math.max(0, ProcFs.field(status, "Threads", 0)))
                .setUid((int) Math.max(0, ProcFs.field(status, "Uid", 0)))
                .setMemoryBytes(Math.max(0, ProcFs.field(status, "VmRSS", 0)) * 1024)
                .setProcessCount(1);
        String comm = ProcFs.read(dir.resolve("comm"));
        offender.setComm(comm == null ? "" : comm.strip());
        offender.setCmdline(shorten(commandLine(pid)));
        String exe = executable(pid);
        offender.setExe(exe);
        String cgroups = ProcFs.read(dir.resolve("cgroup"));
        if (cgroups != null) {
            Matcher m = CONTAINER_ID.matcher(cgroups);
            if (m.find()) {
                offender.setContainerId(m.group(1).substring(0, 12));
            }
            Container container = containerOf(cgroups);
            if (container != null) {
                offender.setContainer(container);
            }
        }
        int inner = innermostPid(status);
        if (inner > 0) {
            offender.setNsPid(inner);
        }
        return new HolderGroups.Member(offender.build(), (int) ProcFs.field(status, "PPid", 0), exe);
    }

    /** Parent and name of any process, for walking up to a common ancestor; null when gone. */
    public HolderGroups.Ancestor ancestor(int pid) {
        String status = ProcFs.read(proc.resolve(pid + "/status"));
        if (status == null) {
            return null;
        }
        String comm = ProcFs.read(proc.resolve(pid + "/comm"));
        return new HolderGroups.Ancestor((int) ProcFs.field(status, "PPid", 0), comm == null ? "" : comm.strip());
    }

    /** /proc/PID/exe, or "" where it cannot be read (another user's process without privilege, a kernel thread). */
    public String executable(int pid) {
        try {
            return Files.readSymbolicLink(proc.resolve(pid + "/exe")).toString();
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    /**
     * The main class or jar when the process is a JVM, else null. A storm is thousands of failures of the
     * same few processes per second, so the answer is kept for a moment per pid instead of reading
     * /proc/PID/cmdline each time; the comm guards against a pid reused in that moment.
     */
    public String javaMain(int pid, String processComm) {
        long now = System.nanoTime();
        CachedJvm hit = jvms.get(pid);
        if (hit != null && now - hit.readAt() < cacheNanos && hit.processComm().equals(processComm)) {
            return hit.main();
        }
        if (jvms.size() >= JVM_CACHE_MAX) {
            jvms.clear();
        }
        List<String> argv = argv(pid);
        String main = JvmInfo.isJava(processComm, argv) ? JvmInfo.mainOf(argv) : null;
        jvms.put(pid, new CachedJvm(now, processComm, main));
        return main;
    }

    /** argv joined by spaces ("" when gone or a kernel thread). */
    public String commandLine(int pid) {
        return String.join(" ", argv(pid));
    }

    /** argv of a process (empty when gone or a kernel thread). */
    public List<String> argv(int pid) {
        String raw = ProcFs.read(proc.resolve(pid + "/cmdline"));
        if (raw == null || raw.isEmpty()) {
            return List.of();
        }
        return List.of(raw.split("\0"));
    }

    static String shorten(String text) {
        return text.length() <= CMDLINE_MAX ? text : text.substring(0, CMDLINE_MAX - 3) + "...";
    }
}
