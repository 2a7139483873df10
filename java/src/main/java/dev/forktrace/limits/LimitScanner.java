package dev.forktrace.limits;

import dev.forktrace.pipeline.Users;
import dev.forktrace.proto.v1.Offender;
import dev.forktrace.proto.v1.ScopeKind;
import dev.forktrace.system.CgroupPaths;
import dev.forktrace.system.CgroupPaths.Hierarchy;
import dev.forktrace.system.HolderGroups;
import dev.forktrace.system.ProcFs;
import dev.forktrace.system.ProcessInspector;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * Reads every limit on this machine that can refuse the creation of a task, with one scan of /proc shared
 * by all of them: pids cgroups (v1 and v2), RLIMIT_NPROC per user, threads-max, pid_max per pid namespace,
 * pid namespaces without init, memory cgroups and strict overcommit. Needs no BPF and no privilege beyond
 * what the files need; whatever it could not read is listed in {@link Scan#unreadable}.
 *
 * <p>For sampling every second it keeps the counters it reads open ({@link OpenFiles}), reads a cgroup's
 * counter only when its ancestors' counts do not already keep it below the near line
 * ({@link #sampleFarCgroupsEvery}), re-reads limits a few at a time, and walks the cgroup hierarchies again
 * only when cgroups came or went or every {@code rewalkNanos}; per-process facts that do not change
 * (namespaces, rlimits) are cached per pid. One thread owns a scanner.
 */
public final class LimitScanner implements AutoCloseable {
    /** cgroup v1 memory.limit_in_bytes reads this (PAGE_COUNTER_MAX rounded) when there is no limit. */
    private static final long V1_UNLIMITED = 1L << 62;
    private static final long PER_PID_NANOS = 10_000_000_000L;
    private static final long PAGE_SIZE = OpenFiles.pageSize(); // /proc/PID/stat's rss is in pages
    private static final long PID_MAX_NANOS = 60_000_000_000L;
    private static final long CAP_SYS_ADMIN = 1L << 21;
    /** include/linux/proc_ns.h: the initial pid namespace's inode. */
    private static final long PROC_PID_INIT_INO = 0xEFFFFFFCL;
    private static final long CAP_SYS_RESOURCE = 1L << 24;
    /** Linux 6.14 made pid_max per pid namespace ("pid: allow pid_max to be set per pid namespace"). */
    private static final boolean PER_NAMESPACE_PID_MAX = kernelAtLeast(6, 14);

    private final Path proc;
    private final Map<Hierarchy, Path> mounts = new LinkedHashMap<>();
    private final boolean unifiedPids;
    private final boolean unifiedMemory;
    private final long rewalkNanos;
    private final OpenFiles files = new OpenFiles();
    private final ProcessInspector inspector;
    private final Map<Integer, PerPid> perPid = new HashMap<>();
    private final Map<Long, CachedPidMax> namespacePidMax = new HashMap<>();
    private final String ownPidNamespace;
    private final String ownUserNamespace;
    private long walkedAt = Long.MIN_VALUE / 2;
    /** Whether this scanner sees the initial pid namespace, whose last allocated pid counts every fork. */
    private final boolean initialPidNamespace;
    private Map<Integer, ProcRow> lastProcesses;
    private List<LimitScope> lastProcessScopes = List.of();
    private List<LimitScope> lastSystemScopes = List.of();
    private List<LimitScope> previousSorted = List.of();
    private List<String> lastProcessUnreadable = List.of();
    private long processesReadAt;
    private long lastPidAtProcesses = -1;
    /** At the last process scan: how many tasks the users and pid namespaces could gain before one is near. */
    private long processScopesSlack;

    /** One process as the scan saw it. nprocSoft is -1 for unlimited or unreadable. */
    public record ProcRow(int pid, int ppid, int uid, String comm, int threads, long rssBytes, long capEffective,
                          String pidNamespace, String userNamespace, int innermostPid, int namespaceLevel,
                          long nprocSoft) {}

    /** What one scan found: scopes with a finite limit, most used first, and what could not be read. */
    /**
     * @param changed the scopes that differ from the previous scan's (new, or a number changed); every other
     *                scope is the previous scan's instance, so a sampler need not look at thousands of idle
     *                cgroups again to know that none of them crossed a line
     */
    public record Scan(long nanos, List<LimitScope> scopes, List<LimitScope> changed, List<String> unreadable,
                       Map<Integer, ProcRow> processes) {}

    /** What /proc/PID/status, ns and limits said at readAt (statComm: the name as /proc/PID/stat spells it). */
    private record PerPid(long readAt, String statComm, String comm, int uid, long capEffective, int innermostPid,
                          int namespaceLevel, String pidNamespace, String userNamespace, long nprocSoft,
                          boolean nprocReadable) {}

    private record CachedPidMax(long readAt, long value) {}

    public LimitScanner(Path proc, CgroupPaths cgroups, long rewalkNanos) {
        this.proc = proc;
        for (Hierarchy h : new Hierarchy[] {Hierarchy.PIDS, Hierarchy.MEMORY}) {
            if (cgroups.mount(h) != null) {
                mounts.put(h, cgroups.mount(h));
            }
        }
        Path unified = cgroups.mount(Hierarchy.UNIFIED);
        this.unifiedPids = unified != null && unified.equals(mounts.get(Hierarchy.PIDS));
        this.unifiedMemory = unified != null && unified.equals(mounts.get(Hierarchy.MEMORY));
        this.rewalkNanos = rewalkNanos;
        this.inspector = new ProcessInspector(proc);
        this.ownPidNamespace = link(proc.resolve("self/ns/pid"));
        this.ownUserNamespace = link(proc.resolve("self/ns/user"));
        this.initialPidNamespace = inode(ownPidNamespace) == PROC_PID_INIT_INO;
    }

    /** A scanner for one reading (limits) or for sampling (limits --watch) like watch's. */
    public static LimitScanner forThisMachine(boolean sampling) {
        return new LimitScanner(Path.of("/proc"), CgroupPaths.forThisMachine(), sampling ? SAMPLING_REWALK_NANOS : 0);
    }

    /**
     * A sampler walks the hierarchy when the count of cgroups changed (within {@link #MIN_WALK_GAP_NANOS}), and
     * otherwise every 5 minutes for what no count shows (a renamed cgroup, a controller newly enabled in a
     * cgroup2 subtree_control). A walk of 5,000 cgroups costs ~85 ms of CPU here: every 10 s it was 0.85% of a
     * core on its own.
     */
    public static final long SAMPLING_REWALK_NANOS = 300_000_000_000L;

    public Scan scan() {
        long now = System.nanoTime();
        List<String> unreadable = new ArrayList<>();
        List<LimitScope> scopes = new ArrayList<>();
        List<LimitScope> changed = new ArrayList<>();
        boolean walked = walkDue(now);
        if (walked) {
            if (rewalkNanos == 0) { // a reading of its own (limits): every limit afresh
                pidsByPath.clear();
                memoryByPath.clear();
            }
            pidsNodes = nodes(walk(mounts.get(Hierarchy.PIDS)), mounts.get(Hierarchy.PIDS), "pids.max", pidsByPath);
            memoryNodes = nodes(walk(mounts.get(Hierarchy.MEMORY)), mounts.get(Hierarchy.MEMORY), memoryLimitFile(),
                    memoryByPath);
            walkedAt = now;
            walkWanted = false;
            countsAtWalk = cgroupCounts();
        } else {
            refreshLimits();
        }
        if (!mounts.containsKey(Hierarchy.PIDS)) {
            unreadable.add("pids cgroups: no hierarchy with the pids controller is mounted");
        }
        String loadavg = files.read(proc.resolve("loadavg"));
        long lastPid = initialPidNamespace ? lastPid(loadavg) : -1;
        pidsCgroups(now, lastPid, scopes, changed, unreadable);
        memoryCgroups(scopes, changed, unreadable);
        system(scopes, changed, unreadable, loadavg);
        // a scope near its line may cross it this second, and its holders are named from this scan's processes
        boolean processesRead = processScanDue(now, lastPid) || anyNear(scopes);
        if (processesRead) {
            List<String> processUnreadable = new ArrayList<>();
            Map<Integer, ProcRow> rows = processes(now, processUnreadable);
            List<LimitScope> processScopes = new ArrayList<>();
            users(rows, processScopes);
            pidNamespaces(now, rows, processScopes, processUnreadable);
            lastProcesses = rows;
            lastProcessScopes = reuseUnchanged(lastProcessScopes, processScopes, changed);
            lastProcessUnreadable = List.copyOf(processUnreadable);
            processScopesSlack = slack(processScopes);
            processesReadAt = now;
            lastPidAtProcesses = lastPid;
        }
        Map<Integer, ProcRow> processes = lastProcesses;
        scopes.addAll(lastProcessScopes); // unchanged since the last process scan: its users and pid namespaces
        unreadable.addAll(lastProcessUnreadable);
        files.sweep();
        if (!walked && changed.isEmpty() && scopes.size() == previousSorted.size()) {
            return new Scan(now, previousSorted, List.of(), List.copyOf(unreadable), processes); // same order as before
        }
        // Ties keep the walk's order: comparing keys of thousands of idle cgroups cost more than the reads.
        scopes.sort(Comparator.comparingDouble(LimitScope::ratio).reversed().thenComparingLong(s -> s.limit() - s.used()));
        previousSorted = List.copyOf(scopes);
        return new Scan(now, previousSorted, List.copyOf(changed), List.copyOf(unreadable), processes);
    }

    // ---- cgroups -------------------------------------------------------------------------------------

    /**
     * A cgroup directory as of the last walk, limited or not ({@link #limit} Long.MAX_VALUE for "max"). Its limit
     * is read when first seen and then re-read in turn with the others ({@link #refreshLimits}); its counter is
     * read only when its ancestors' counts this second cannot rule out that it is near its limit
     * ({@link #mustRead}).
     */
    private static final class CgroupNode {
        final Path directory;
        final String path;
        final String key;
        CgroupNode parent; // nearest walked ancestor, null at the top
        long limit;
        /** A limited cgroup is below this one: its count bounds theirs, so it is worth a read. */
        boolean limitedBelow;
        OpenFiles.Handle current; // opened on the first read; closed while a parent's count of 0 stands for it
        OpenFiles.Handle peak;    // memory cgroups only
        OpenFiles.Handle limitFile; // re-read in turn: kept open, a pread costs a fifth of open, read and close
        long lastCurrent = -1;
        long lastReadNanos;
        long lastPidAtRead = -1; // /proc/loadavg's last pid when lastCurrent was read
        long movesAtRead = -1;   // the kernel's count of cgroup moves when lastCurrent was read
        long lastPeak = -1;
        /** This sample: an upper bound on the count of every cgroup below this one. */
        long boundBelow;
        LimitScope scope; // the last sample's scope, reused while nothing in it changed

        CgroupNode(Path directory, String path, String key, long limit) {
            this.directory = directory;
            this.path = path;
            this.key = key;
            this.limit = limit;
        }

        boolean limited() {
            return limit >= 0 && limit < V1_UNLIMITED;
        }

        void release() {
            if (current != null) {
                current.release();
                current = null;
            }
            if (peak != null) {
                peak.release();
                peak = null;
            }
            if (limitFile != null) {
                limitFile.release();
                limitFile = null;
            }
        }
    }

    private static final long SECOND_NANOS = 1_000_000_000L;
    /**
     * New or removed cgroups (a changed count in /proc/cgroups, a counter gone) start a walk at most this often:
     * a walk stats every cgroup directory (~50 ms for 5,000), and a busy machine creates cgroups every second.
     */
    private static final long MIN_WALK_GAP_NANOS = 10 * SECOND_NANOS;
    /** Every limit is re-read within this long (or at least {@link #LIMITS_PER_SCAN} a scan). */
    private static final int LIMIT_CYCLE_SCANS = 60;
    private static final int LIMITS_PER_SCAN = 10;
    private double nearRatio = 0;
    private long farIntervalNanos = SECOND_NANOS;
    private boolean enterNamespaces = true;

    /**
     * Whether a pid namespace's own pid_max may be read by starting `nsenter` in it. watch does not: a probe
     * must not take pids in the namespaces it watches nor start processes every minute; its pid namespaces
     * are then compared with kernel.pid_max only where the kernel has no per-namespace pid_max, else left out
     * and listed as unreadable.
     */
    public LimitScanner enterNamespaces(boolean enter) {
        this.enterNamespaces = enter;
        return this;
    }

    /**
     * For sampling: a pids cgroup is evaluated every scan, but its counter is read only when it may be at or
     * above {@code nearRatio} of its limit. The pids controller charges a task to every ancestor, so a cgroup
     * never counts more than its parent: when an ancestor's count read this scan is below the near line, the
     * cgroup is below it too and its counter is not read (a count of 0 is exact; a larger bound only caps the
     * last value, which is then re-read every {@code farIntervalNanos}). Thousands of idle cgroups then cost a
     * read of their parent. A populated cgroup's count is bounded as well by its last count plus the tasks
     * created since (the growth of /proc/loadavg's last pid, in the initial pid namespace): siblings that
     * together pass the near line of each (1,000 cgroups of one task under one parent) are not read every
     * second while the machine creates few tasks. A process moved into a cgroup (cgroup.procs) creates no pid:
     * its tasks are seen at the next re-read, within {@code farIntervalNanos} of the move where moves are
     * counted ({@link #countMovesWith}), else within {@code farIntervalNanos}. With nearRatio 0 (the default,
     * limits) every counter is read every scan.
     */
    public LimitScanner sampleFarCgroupsEvery(double nearRatio, long farIntervalNanos) {
        this.nearRatio = nearRatio;
        this.farIntervalNanos = Math.max(SECOND_NANOS, farIntervalNanos);
        return this;
    }

    /**
     * The kernel's count of moves between cgroups (watch's cgroup_attach_task tracepoint), -1 while unknown.
     * A far cgroup read after the last move can only have grown by the tasks created since, which the last
     * pid bounds: it is then re-read only in its turn ({@link #TURN_CYCLE_SCANS}) instead of every far
     * interval, so that exits show in its gauge. A count behind the kernel's is safe: a move it has not seen
     * yet shows as a change at a later scan.
     */
    public LimitScanner countMovesWith(LongSupplier cgroupMoves) {
        this.cgroupMoves = cgroupMoves;
        return this;
    }

    /**
     * Every pids counter is read in its turn too, a few each scan, all of them within this many scans: the
     * counts of far cgroups no move reached stay within a minute of the truth, and no scan reads thousands.
     */
    static final int TURN_CYCLE_SCANS = 60;
    private int pidsTurn;

    /** How often a far cgroup is re-read besides its turn: every far interval, unless no move happened since its read. */
    static long refreshNanos(long moves, long movesAtRead, long farIntervalNanos) {
        boolean noMoveSinceRead = moves >= 0 && movesAtRead == moves;
        return noMoveSinceRead ? Long.MAX_VALUE : farIntervalNanos;
    }
    private LongSupplier cgroupMoves = () -> -1;

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }

    /**
     * Whether a limited cgroup's counter must be read this scan: never read yet, its ancestors' count
     * ({@code bound}, Long.MAX_VALUE when none was read) does not keep it below the near line, it was near at
     * its last read (so that leaving the threshold is seen with its exact count), or its capped last value is
     * older than {@code refreshNanos}. A bound of 0 is an exact count and never needs a refresh.
     */
    static boolean mustRead(long bound, long limit, long lastCurrent, long sinceReadNanos, double nearRatio,
                            long refreshNanos) {
        return mustRead(bound, limit, lastCurrent, Long.MAX_VALUE, sinceReadNanos, nearRatio, refreshNanos);
    }

    /**
     * @param createdSinceRead tasks created on the machine since the last read (Long.MAX_VALUE: unknown); the
     *                         count cannot have grown by more, except by a move into the cgroup, which the
     *                         refresh catches. Unlike an ancestor's count of 0, it never makes a value exact.
     */
    static boolean mustRead(long bound, long limit, long lastCurrent, long createdSinceRead, long sinceReadNanos,
                            double nearRatio, long refreshNanos) {
        if (lastCurrent < 0) {
            return true;
        }
        double near = nearRatio * limit;
        if (lastCurrent >= near || Math.min(bound, saturatedAdd(lastCurrent, createdSinceRead)) >= near) {
            return true;
        }
        return bound > 0 && sinceReadNanos >= refreshNanos;
    }

    private Map<Path, CgroupNode> pidsByPath = new HashMap<>();
    private Map<Path, CgroupNode> memoryByPath = new HashMap<>();
    private List<CgroupNode> pidsNodes = List.of();
    private List<CgroupNode> memoryNodes = List.of();
    private int unreadablePidsLimits;
    private int unreadableMemoryLimits;
    private int pidsCursor;
    private int memoryCursor;
    private boolean walkWanted;
    private long countsAtWalk = -1;
    private Boolean pidsPeakFiles; // pids.peak exists (6.1+), known after the first walk that found a cgroup

    private String memoryLimitFile() {
        return unifiedMemory ? "memory.max" : "memory.limit_in_bytes";
    }

    /**
     * Whether to walk the hierarchies again: the first scan; every {@code rewalkNanos}; and, at most every
     * {@link #MIN_WALK_GAP_NANOS}, when a cgroup came or went: the kernel's count of cgroups per controller
     * (/proc/cgroups, one read) changed, or a counter or limit could not be read (a cgroup removed).
     */
    private boolean walkDue(long now) {
        if (walkedAt == Long.MIN_VALUE / 2 || now - walkedAt >= rewalkNanos) {
            return true;
        }
        return now - walkedAt >= Math.min(rewalkNanos, MIN_WALK_GAP_NANOS) && (walkWanted || cgroupCounts() != countsAtWalk);
    }

    /** The num_cgroups of the pids and memory lines of /proc/cgroups, combined; -1 when unreadable. */
    private long cgroupCounts() {
        String text = files.read(proc.resolve("cgroups"));
        return text == null ? -1 : cgroupCounts(text);
    }

    /** "#subsys_name hierarchy num_cgroups enabled" lines: pids and memory's num_cgroups, combined. */
    static long cgroupCounts(String procCgroups) {
        long combined = 0;
        for (String line : procCgroups.split("\n")) {
            String[] f = line.split("\\s+");
            if (f.length >= 3 && (f[0].equals("pids") || f[0].equals("memory"))) {
                try {
                    combined = combined * 1_000_003 + Long.parseLong(f[2]) + (f[0].equals("pids") ? 1 : 2);
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return combined;
    }

    /** A file read when a limit is first seen or refreshed (limits, peaks): not kept open. */
    private long readOnce(Path file) {
        OpenFiles.Handle h = files.handle(file);
        try {
            return h.readLong(-1);
        } finally {
            h.release();
        }
    }

    /**
     * The walked directories (preorder: a parent before its children) as nodes; a directory already known
     * keeps its node (limit, open counter, last value), a new one has its limit read. Nodes of directories
     * gone are closed.
     */
    private List<CgroupNode> nodes(List<Path> directories, Path mount, String limitFile, Map<Path, CgroupNode> known) {
        Map<Path, CgroupNode> byPath = new HashMap<>(directories.size() * 2);
        List<CgroupNode> nodes = new ArrayList<>(directories.size());
        int unreadableLimits = 0;
        boolean memory = !limitFile.equals("pids.max");
        for (Path dir : directories) {
            CgroupNode node = known.remove(dir);
            if (node == null) {
                long limit = readOnce(dir.resolve(limitFile));
                if (limit < 0) {
                    unreadableLimits += Files.isDirectory(dir) ? 1 : 0;
                    continue; // its children count as top-level ones: no bound from it
                }
                String path = "/" + mount.relativize(dir);
                node = new CgroupNode(dir, path, (memory ? "memcg " : "pids ") + path, limit);
            }
            node.parent = byPath.get(dir.getParent());
            byPath.put(dir, node);
            nodes.add(node);
        }
        for (CgroupNode gone : known.values()) {
            gone.release();
        }
        known.clear();
        known.putAll(byPath);
        markLimitedBelow(nodes);
        if (memory) {
            unreadableMemoryLimits = unreadableLimits;
        } else {
            unreadablePidsLimits = unreadableLimits;
            if (pidsPeakFiles == null && !nodes.isEmpty()) {
                pidsPeakFiles = Files.exists(nodes.get(0).directory.resolve("pids.peak"));
            }
        }
        return nodes;
    }

    private static void markLimitedBelow(List<CgroupNode> nodes) {
        for (CgroupNode n : nodes) {
            n.limitedBelow = false;
        }
        for (CgroupNode n : nodes) {
            if (n.limited()) {
                for (CgroupNode a = n.parent; a != null && !a.limitedBelow; a = a.parent) {
                    a.limitedBelow = true;
                }
            }
        }
    }

    /**
     * Re-reads some limits each scan, in turn, so that a changed pids.max or memory limit shows within
     * {@link #LIMIT_CYCLE_SCANS} scans without re-reading thousands of them at once; a limit that cannot be read
     * any more (its cgroup removed) asks for a walk.
     */
    private void refreshLimits() {
        pidsCursor = refreshLimits(pidsNodes, pidsCursor, "pids.max");
        memoryCursor = refreshLimits(memoryNodes, memoryCursor, memoryLimitFile());
    }

    private int refreshLimits(List<CgroupNode> nodes, int cursor, String limitFile) {
        int n = nodes.size();
        int batch = Math.min(n, Math.max(LIMITS_PER_SCAN, (n + LIMIT_CYCLE_SCANS - 1) / LIMIT_CYCLE_SCANS));
        boolean limitedChanged = false;
        for (int i = 0; i < batch; i++) {
            cursor = cursor >= n - 1 ? 0 : cursor + 1;
            CgroupNode node = nodes.get(cursor);
            if (node.limitFile == null) {
                node.limitFile = files.handle(node.directory.resolve(limitFile));
            }
            long limit = node.limitFile.readLong(-1);
            if (limit < 0) {
                walkWanted = true;
            } else if (limit != node.limit) {
                limitedChanged |= node.limited() != (limit >= 0 && limit < V1_UNLIMITED);
                node.limit = limit;
                node.scope = null;
            }
        }
        if (limitedChanged) {
            markLimitedBelow(nodes);
        }
        return cursor;
    }

    /** The node's counter (pids.current), or -1 when it cannot be read (then a walk is wanted). */
    private long readCurrent(CgroupNode node, String file) {
        if (node.current == null) {
            node.current = files.handle(node.directory.resolve(file));
        }
        long value = node.current.readLong(-1);
        if (value < 0) {
            walkWanted = true;
        }
        return value;
    }

    /**
     * The fresh scopes, with each one equal to its previous reading replaced by that instance; the others are
     * added to {@code changed}. A few hundred users and namespaces at most: a map per call is cheap.
     */
    private static List<LimitScope> reuseUnchanged(List<LimitScope> previous, List<LimitScope> fresh,
                                                   List<LimitScope> changed) {
        Map<String, LimitScope> byKey = new HashMap<>(previous.size() * 2);
        for (LimitScope s : previous) {
            byKey.put(s.key(), s);
        }
        List<LimitScope> kept = new ArrayList<>(fresh.size());
        for (LimitScope s : fresh) {
            LimitScope before = byKey.get(s.key());
            if (s.equals(before)) {
                kept.add(before);
            } else {
                kept.add(s);
                changed.add(s);
            }
        }
        return List.copyOf(kept);
    }

    private void pidsCgroups(long now, long lastPid, List<LimitScope> scopes, List<LimitScope> changed,
                             List<String> unreadable) {
        int failed = unreadablePidsLimits;
        long moves = cgroupMoves.getAsLong();
        int n = pidsNodes.size();
        int turnFrom = pidsTurn, turns = (n + TURN_CYCLE_SCANS - 1) / TURN_CYCLE_SCANS;
        pidsTurn = n == 0 ? 0 : (turnFrom + turns) % n;
        for (int i = 0; i < n; i++) {
            CgroupNode c = pidsNodes.get(i);
            long bound = c.parent == null ? Long.MAX_VALUE : c.parent.boundBelow;
            c.boundBelow = bound;
            if (!c.limited()) {
                if (c.limitedBelow && bound > 0) { // its count bounds the limited cgroups below it
                    long current = readCurrent(c, "pids.current");
                    if (current >= 0) {
                        c.boundBelow = Math.min(bound, current);
                    }
                } else if (bound == 0) {
                    c.release();
                }
                continue;
            }
            long current;
            long created = lastPid >= 0 && c.lastPidAtRead >= 0 && lastPid >= c.lastPidAtRead
                    ? lastPid - c.lastPidAtRead : Long.MAX_VALUE; // pids wrapped, or not the initial namespace: unknown
            boolean itsTurn = Math.floorMod(i - turnFrom, n) < turns;
            long refresh = itsTurn ? 0 : refreshNanos(moves, c.movesAtRead, farIntervalNanos);
            if (mustRead(bound, c.limit, c.lastCurrent, created, now - c.lastReadNanos, nearRatio, refresh)) {
                current = readCurrent(c, "pids.current");
                if (current < 0) {
                    failed++; // removed since the walk, or unreadable
                    continue;
                }
                c.lastCurrent = current;
                c.lastReadNanos = now;
                c.lastPidAtRead = lastPid;
                c.movesAtRead = moves;
                c.boundBelow = Math.min(bound, current);
                if (pidsPeakFiles == Boolean.TRUE && current >= nearRatio * c.limit) { // shown with near ones only
                    c.lastPeak = readOnce(c.directory.resolve("pids.peak"));
                }
            } else if (bound == 0) { // exact: nothing runs below an ancestor that counts 0
                current = 0;
                c.lastCurrent = 0;
                c.lastReadNanos = now;
                c.lastPidAtRead = lastPid;
                c.movesAtRead = moves;
                c.release();
            } else {
                current = Math.min(c.lastCurrent, bound);
            }
            LimitScope s = c.scope;
            if (s == null || s.used() != current || s.limit() != c.limit || s.peak() != c.lastPeak) {
                s = new LimitScope(c.key, ScopeKind.CGROUP, c.path, "pids.max", current, c.limit, c.lastPeak,
                        c.directory, null, false, 0, "");
                c.scope = s;
                changed.add(s);
            }
            scopes.add(s);
        }
        if (failed > 0) {
            unreadable.add("pids.max/pids.current of " + failed + " cgroups");
        }
    }

    private void memoryCgroups(List<LimitScope> scopes, List<LimitScope> changed, List<String> unreadable) {
        String limitFile = memoryLimitFile();
        String usageFile = unifiedMemory ? "memory.current" : "memory.usage_in_bytes";
        String peakFile = unifiedMemory ? "memory.peak" : "memory.max_usage_in_bytes";
        int failed = unreadableMemoryLimits;
        for (CgroupNode c : memoryNodes) {
            if (!c.limited()) {
                continue;
            }
            long usage = readCurrent(c, usageFile);
            if (usage < 0) {
                failed++;
                continue;
            }
            if (c.peak == null) {
                c.peak = files.handle(c.directory.resolve(peakFile));
            }
            long peak = c.peak.readLong(-1);
            LimitScope s = c.scope;
            if (s == null || s.used() != usage || s.limit() != c.limit || s.peak() != peak) {
                s = new LimitScope(c.key, ScopeKind.MEMCG, c.path, limitFile, usage, c.limit, peak, c.directory,
                        null, true, 0, "");
                c.scope = s;
                changed.add(s);
            }
            scopes.add(s);
        }
        if (failed > 0) {
            unreadable.add(limitFile + " of " + failed + " memory cgroups");
        }
    }

    /**
     * Every cgroup directory below the mount except the root (which has no limit), parents before their
     * children. Entries named like control files are not stat'ed (a hierarchy of thousands of cgroups holds
     * tens of thousands of files), and a directory whose link count says it has no subdirectories (kernfs,
     * like most file systems, counts 2 + subdirectories) is not listed.
     */
    static List<Path> walk(Path mount) {
        List<Path> found = new ArrayList<>();
        if (mount == null) {
            return found;
        }
        List<Path> pending = new ArrayList<>();
        pending.add(mount);
        while (!pending.isEmpty()) {
            Path dir = pending.remove(pending.size() - 1);
            if (!dir.equals(mount)) {
                found.add(dir);
            }
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
                for (Path entry : entries) {
                    if (isControlFile(entry.getFileName().toString())) {
                        continue;
                    }
                    int links = subdirectoryLinks(entry);
                    if (links == 2) {
                        found.add(entry); // a leaf: listed before any sibling's subtree, after its parent
                    } else if (links > 0) {
                        pending.add(entry);
                    }
                }
            } catch (IOException | RuntimeException e) {
                // removed during the walk, or unreadable: the rest of the tree still counts
            }
        }
        return found;
    }

    /** A directory's link count (1 where the file system does not count subdirectories), 0 for anything else. */
    private static int subdirectoryLinks(Path entry) {
        try {
            Map<String, Object> a = Files.readAttributes(entry, "unix:isDirectory,nlink", LinkOption.NOFOLLOW_LINKS);
            return Boolean.TRUE.equals(a.get("isDirectory")) ? Math.max(1, (Integer) a.get("nlink")) : 0;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
    static boolean isControlFile(String name) {
        int dot = name.indexOf('.');
        if (dot > 0) {
            String prefix = name.substring(0, dot);
            return switch (prefix) {
                case "cgroup", "pids", "memory", "cpu", "cpuset", "cpuacct", "io", "blkio", "hugetlb", "rdma", "misc",
                     "irq", "net_cls", "net_prio", "freezer", "devices", "perf_event", "memory_recursiveprot" -> true;
                default -> false;
            };
        }
        return name.equals("tasks") || name.equals("notify_on_release") || name.equals("release_agent");
    }

    // ---- processes -----------------------------------------------------------------------------------

    private Map<Integer, ProcRow> processes(long now, List<String> unreadable) {
        Map<Integer, ProcRow> rows = new HashMap<>();
        int namespaceDenied = 0;
        int limitsDenied = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(proc)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (name.isEmpty() || !Character.isDigit(name.charAt(0))) {
                    continue;
                }
                int pid = Integer.parseInt(name);
                // Every second only /proc/PID/stat (half the kernel's work of status, and a tenth of the text);
                // status, namespaces and limits every PER_PID_NANOS, or at once when the process exec'd.
                String stat = files.read(entry.resolve("stat"));
                int open = stat == null ? -1 : stat.indexOf('(');
                int close = stat == null ? -1 : stat.lastIndexOf(')');
                if (open < 0 || close < open) {
                    continue; // exited since the listing
                }
                String statComm = stat.substring(open + 1, close);
                PerPid cached = perPid.get(pid);
                if (cached == null || now - cached.readAt() > PER_PID_NANOS || !cached.statComm().equals(statComm)) {
                    String status = ProcFs.read(entry.resolve("status"));
                    if (status == null) {
                        continue;
                    }
                    String pidNs = link(entry.resolve("ns/pid"));
                    String userNs = link(entry.resolve("ns/user"));
                    String limits = ProcFs.read(entry.resolve("limits"));
                    int[] nspid = nspid(status);
                    cached = new PerPid(now, statComm, statusName(status), (int) ProcFs.field(status, "Uid", -1),
                            capEffective(status), nspid[0], nspid[1], pidNs, userNs, nprocSoft(limits), limits != null);
                    perPid.put(pid, cached);
                }
                if (cached.pidNamespace().isEmpty()) {
                    namespaceDenied++;
                }
                if (!cached.nprocReadable()) {
                    limitsDenied++;
                }
                rows.put(pid, new ProcRow(pid, (int) statField(stat, close, 4), cached.uid(), cached.comm(),
                        (int) Math.max(0, statField(stat, close, 20)), Math.max(0, statField(stat, close, 24)) * PAGE_SIZE,
                        cached.capEffective(), cached.pidNamespace(), cached.userNamespace(), cached.innermostPid(),
                        cached.namespaceLevel(), cached.nprocSoft()));
            }
        } catch (IOException e) {
            unreadable.add(proc + ": " + e.getMessage());
        }
        if (perPid.size() > rows.size() * 2 + 1024) {
            perPid.keySet().retainAll(rows.keySet());
        }
        if (namespaceDenied > 0) {
            unreadable.add("/proc/PID/ns/pid of " + namespaceDenied + " processes (zombies, or other users' processes without root): left out of pid namespace and user counts");
        }
        if (limitsDenied > 0) {
            unreadable.add("/proc/PID/limits of " + limitsDenied + " processes");
        }
        return rows;
    }

    /**
     * Whether the per-process scan (/proc/PID/stat of every process, ~40 us each) must run this scan. The
     * users' RLIMIT_NPROC counts and the pid namespaces' counts grow only by task creation, and each new task
     * takes the next pid: the growth of the last allocated pid (/proc/loadavg) bounds how many tasks any of
     * them gained. While that stays below the slack the last scan left them, none can be near its line, and
     * their last counts stand, re-read every {@code farIntervalNanos} like a far cgroup's. What a pid does
     * not count (a process changing its uid, a lowered rlimit) is seen within that interval.
     */
    private boolean processScanDue(long now, long lastPid) {
        if (lastProcesses == null || nearRatio == 0 || lastPid < 0 || lastPidAtProcesses < 0) {
            return true;
        }
        long created = lastPid - lastPidAtProcesses; // negative after pids wrapped: unknown
        return created < 0 || created >= processScopesSlack || now - processesReadAt >= farIntervalNanos;
    }

    private boolean anyNear(List<LimitScope> scopes) {
        for (LimitScope scope : scopes) {
            if (scope.ratio() >= nearRatio) {
                return true;
            }
        }
        return false;
    }

    /** The fewest tasks any of these scopes could gain before reaching the near line; 0 when one is there. */
    private long slack(List<LimitScope> processScopes) {
        long slack = Long.MAX_VALUE;
        for (LimitScope scope : processScopes) {
            long nearLine = (long) Math.floor(nearRatio * scope.limit());
            slack = Math.min(slack, Math.max(0, nearLine - scope.used()));
        }
        return slack;
    }

    /** /proc/loadavg's last field: the pid most recently allocated in the reader's pid namespace; -1 unread. */
    static long lastPid(String loadavg) {
        if (loadavg == null) {
            return -1;
        }
        int at = loadavg.trim().lastIndexOf(' ');
        try {
            return at < 0 ? -1 : Long.parseLong(loadavg.trim().substring(at + 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** /proc/PID/stat's field number {@code field} (1-based, as in proc(5)), after the comm that ends at close. */
    static long statField(String stat, int close, int field) {
        int at = close + 1;
        for (int f = 3; f < field && at >= 0; f++) { // at: the space before field f
            at = stat.indexOf(' ', at + 1);
        }
        if (at < 0) {
            return 0;
        }
        long value = 0;
        boolean negative = false;
        int i = at + 1;
        if (i < stat.length() && stat.charAt(i) == '-') {
            negative = true;
            i++;
        }
        for (; i < stat.length(); i++) {
            char c = stat.charAt(i);
            if (c < '0' || c > '9') {
                break;
            }
            value = value * 10 + (c - '0');
        }
        return negative ? -value : value;
    }

    /** The soft "Max processes" of /proc/PID/limits; -1 for unlimited or unreadable. */
    static long nprocSoft(String limits) {
        if (limits == null) {
            return -1;
        }
        int at = limits.indexOf("Max processes");
        if (at < 0) {
            return -1;
        }
        String[] fields = limits.substring(at + "Max processes".length(), limits.indexOf('\n', at) < 0 ? limits.length()
                : limits.indexOf('\n', at)).trim().split("\\s+");
        try {
            return fields[0].equals("unlimited") ? -1 : Long.parseLong(fields[0]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String statusName(String status) {
        int end = status.indexOf('\n');
        return status.startsWith("Name:") ? status.substring(5, end < 0 ? status.length() : end).strip() : "";
    }

    private static long capEffective(String status) {
        int at = status.indexOf("\nCapEff:");
        if (at < 0) {
            return 0;
        }
        int start = at + 8;
        while (start < status.length() && Character.isWhitespace(status.charAt(start))) {
            start++;
        }
        int end = start;
        while (end < status.length() && Character.digit(status.charAt(end), 16) >= 0) {
            end++;
        }
        return end > start ? Long.parseUnsignedLong(status.substring(start, end), 16) : 0;
    }

    /** The pid in the innermost namespace and that namespace's level (count of NSpid fields - 1). */
    private static int[] nspid(String status) {
        int at = status.indexOf("\nNSpid:");
        if (at < 0) {
            return new int[] {0, 0};
        }
        int end = status.indexOf('\n', at + 1);
        String[] fields = status.substring(at + 7, end < 0 ? status.length() : end).trim().split("\\s+");
        return new int[] {Integer.parseInt(fields[fields.length - 1]), fields.length - 1};
    }

    private static String link(Path path) {
        try {
            return Files.readSymbolicLink(path).toString();
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    // ---- users (RLIMIT_NPROC) ------------------------------------------------------------------------

    /**
     * RLIMIT_NPROC belongs to each process, but the kernel counts tasks per user per user namespace
     * (ucounts): a fork is refused once the user's count reaches the forking process's own soft limit. So
     * the user's headroom is the smallest limit among processes that can be refused (not root of the
     * initial user namespace, no CAP_SYS_RESOURCE or CAP_SYS_ADMIN) minus the user's count.
     */
    private void users(Map<Integer, ProcRow> processes, List<LimitScope> scopes) {
        Map<String, List<ProcRow>> byUser = new HashMap<>();
        for (ProcRow p : processes.values()) {
            if (p.uid() >= 0) {
                byUser.computeIfAbsent(p.userNamespace() + "|" + p.uid(), k -> new ArrayList<>()).add(p);
            }
        }
        for (List<ProcRow> rows : byUser.values()) {
            ProcRow first = rows.get(0);
            boolean initialNamespace = first.userNamespace().isEmpty() || first.userNamespace().equals(ownUserNamespace);
            if (first.uid() == 0 && initialNamespace) {
                continue; // INIT_USER is never refused by RLIMIT_NPROC
            }
            long tasks = 0;
            ProcRow lowest = null;
            List<Integer> members = new ArrayList<>(rows.size());
            for (ProcRow p : rows) {
                tasks += p.threads();
                members.add(p.pid());
                boolean exempt = (p.capEffective() & (CAP_SYS_ADMIN | CAP_SYS_RESOURCE)) != 0;
                if (p.nprocSoft() >= 0 && !exempt && (lowest == null || p.nprocSoft() < lowest.nprocSoft()
                        || p.nprocSoft() == lowest.nprocSoft() && p.pid() < lowest.pid())) {
                    lowest = p;
                }
            }
            if (lowest == null) {
                continue; // every process of the user is unlimited or exempt
            }
            String name = Users.describe(first.uid()) + (initialNamespace ? "" : " in user namespace "
                    + inode(first.userNamespace()));
            scopes.add(new LimitScope("user " + name, ScopeKind.USER, name, "RLIMIT_NPROC", tasks, lowest.nprocSoft(), -1,
                    null, members, false, lowest.pid(), lowest.comm()));
        }
    }

    // ---- pid namespaces ------------------------------------------------------------------------------

    private void pidNamespaces(long now, Map<Integer, ProcRow> processes, List<LimitScope> scopes,
                               List<String> unreadable) {
        Map<String, List<ProcRow>> byNamespace = new HashMap<>();
        for (ProcRow p : processes.values()) {
            if (!p.pidNamespace().isEmpty() && !p.pidNamespace().equals(ownPidNamespace)) {
                byNamespace.computeIfAbsent(p.pidNamespace(), k -> new ArrayList<>()).add(p);
            }
        }
        long globalPidMax = ProcFs.readLong(proc.resolve("sys/kernel/pid_max"), -1);
        int pidMaxUnreadable = 0;
        for (Map.Entry<String, List<ProcRow>> ns : byNamespace.entrySet()) {
            List<ProcRow> rows = ns.getValue();
            long inode = inode(ns.getKey());
            int level = rows.get(0).namespaceLevel();
            long tasks = 0;
            boolean hasInit = false;
            ProcRow representative = rows.get(0);
            List<Integer> members = new ArrayList<>(rows.size());
            for (ProcRow p : rows) {
                tasks += p.threads();
                members.add(p.pid());
                hasInit |= p.innermostPid() == 1;
                representative = p.pid() < representative.pid() ? p : representative;
            }
            String name = "pidns " + inode + " level " + level;
            if (!hasInit) { // PIDNS_ADDING is cleared when init exits: every fork in it gets ENOMEM
                scopes.add(new LimitScope("pidns-init " + inode, ScopeKind.PID_NAMESPACE, name + " (no init)", "init",
                        1, 1, -1, null, members, false, 0, ""));
            }
            long pidMax = globalPidMax;
            if (PER_NAMESPACE_PID_MAX && !enterNamespaces) {
                pidMax = -1; // its own pid_max is unknown here: a comparison with kernel.pid_max would mislead
                pidMaxUnreadable++;
            } else if (PER_NAMESPACE_PID_MAX) {
                long own = namespacePidMax(now, inode, representative.pid(), tasks);
                if (own > 0) {
                    pidMax = own;
                } else {
                    pidMaxUnreadable++;
                }
            }
            if (pidMax > 0) {
                scopes.add(new LimitScope("pidns " + inode, ScopeKind.PID_NAMESPACE, name, "pid_max", tasks, pidMax, -1,
                        null, members, false, 0, ""));
            }
        }
        if (pidMaxUnreadable > 0) {
            unreadable.add(enterNamespaces ? "pid_max of " + pidMaxUnreadable + " pid namespaces (entering them needs "
                    + "CAP_SYS_ADMIN; shown against kernel.pid_max)" : "pid_max of " + pidMaxUnreadable
                    + " pid namespaces (not entered while watching; see forktrace limits)");
        }
    }

    /**
     * A namespace's own pid_max. /proc/sys/kernel/pid_max answers for the reader's pid namespace, so it is
     * read by a short-lived `nsenter -p` child inside it. That child takes a pid there itself, so the value is
     * read when the namespace is first seen and refreshed only while it has room to spare.
     */
    private long namespacePidMax(long now, long inode, int memberPid, long tasks) {
        CachedPidMax cached = namespacePidMax.get(inode);
        if (cached != null && (now - cached.readAt() < PID_MAX_NANOS || tasks + 8 >= cached.value())) {
            return cached.value();
        }
        long value = -1;
        try {
            Process p = new ProcessBuilder("nsenter", "-t", Integer.toString(memberPid), "-p", "--",
                    "cat", "/proc/sys/kernel/pid_max").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (p.waitFor(2, TimeUnit.SECONDS) && p.exitValue() == 0) {
                value = Long.parseLong(out);
            }
        } catch (IOException | NumberFormatException e) {
            value = -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (value > 0 || cached == null) {
            namespacePidMax.put(inode, new CachedPidMax(now, value));
        }
        if (namespacePidMax.size() > 4096) {
            namespacePidMax.clear();
        }
        return value > 0 ? value : cached == null ? -1 : cached.value();
    }

    private static long inode(String namespaceLink) {
        int open = namespaceLink.indexOf('[');
        int close = namespaceLink.indexOf(']');
        try {
            return open >= 0 && close > open ? Long.parseLong(namespaceLink.substring(open + 1, close)) : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    // ---- system-wide ---------------------------------------------------------------------------------

    private void system(List<LimitScope> all, List<LimitScope> changed, List<String> unreadable, String loadavg) {
        List<LimitScope> scopes = new ArrayList<>(3);
        long threadsMax = files.readLong(proc.resolve("sys/kernel/threads-max"), -1);
        long nrThreads = -1;
        if (loadavg != null) { // "0.00 0.01 0.05 1/123 4567": 123 is nr_threads
            String[] parts = loadavg.trim().split("\\s+");
            if (parts.length >= 4 && parts[3].contains("/")) {
                nrThreads = Long.parseLong(parts[3].substring(parts[3].indexOf('/') + 1));
            }
        }
        if (threadsMax > 0 && nrThreads >= 0) {
            scopes.add(new LimitScope("system threads-max", ScopeKind.SYSTEM, "kernel.threads-max", "threads-max",
                    nrThreads, threadsMax, -1, null, null, false, 0, ""));
        } else {
            unreadable.add("kernel.threads-max or nr_threads (/proc/loadavg)");
        }
        long pidMax = files.readLong(proc.resolve("sys/kernel/pid_max"), -1);
        if (pidMax > 0 && nrThreads >= 0) { // every task holds a pid in the initial namespace
            scopes.add(new LimitScope("pidns initial", ScopeKind.PID_NAMESPACE,
                    "pidns " + inode(ownPidNamespace) + " level 0 (kernel.pid_max)", "pid_max", nrThreads, pidMax, -1,
                    null, null, false, 0, ""));
        }
        long overcommit = files.readLong(proc.resolve("sys/vm/overcommit_memory"), -1);
        if (overcommit == 2) { // only strict overcommit refuses a fork's address space
            String meminfo = files.read(proc.resolve("meminfo"));
            long committed = ProcFs.field(meminfo, "Committed_AS", -1);
            long limit = ProcFs.field(meminfo, "CommitLimit", -1);
            if (committed >= 0 && limit > 0) {
                scopes.add(new LimitScope("system commit", ScopeKind.SYSTEM, "vm.overcommit_memory=2 (CommitLimit)",
                        "CommitLimit", committed * 1024, limit * 1024, -1, null, null, true, 0, ""));
            }
        }
        lastSystemScopes = reuseUnchanged(lastSystemScopes, scopes, changed);
        all.addAll(lastSystemScopes);
    }

    // ---- holders -------------------------------------------------------------------------------------

    /** The scope's holders, grouped by program (see {@link HolderGroups}), largest first. */
    public List<Offender> holders(LimitScope scope, Scan scan, int max) {
        List<Integer> pids = scope.directory() != null ? pidsBelow(scope.directory())
                : scope.members() != null ? scope.members() : new ArrayList<>(scan.processes().keySet());
        List<HolderGroups.Member> members = new ArrayList<>(pids.size());
        for (int pid : pids) {
            ProcRow row = scan.processes().get(pid);
            if (row == null) {
                continue; // started after the scan, or already gone
            }
            Offender o = Offender.newBuilder().setPid(pid).setComm(row.comm()).setTasks(row.threads()).setUid(Math.max(0, row.uid()))
                    .setMemoryBytes(row.rssBytes()).setProcessCount(1).build();
            members.add(new HolderGroups.Member(o, row.ppid(), inspector.executable(pid)));
        }
        List<Offender> groups = HolderGroups.group(members, scope.byMemory(), max, pid -> {
            ProcRow row = scan.processes().get(pid);
            return row != null ? new HolderGroups.Ancestor(row.ppid(), row.comm()) : inspector.ancestor(pid);
        });
        List<Offender> named = new ArrayList<>(groups.size());
        for (Offender g : groups) {
            named.add(g.toBuilder().setCmdline(shorten(inspector.commandLine(g.getPid()))).build());
        }
        return named;
    }

    /** Pids of the processes in a cgroup and below it (the pids and memory controllers count hierarchically). */
    public static List<Integer> pidsBelow(Path directory) {
        Set<Integer> pids = new TreeSet<>();
        for (Path dir : withDescendants(directory)) {
            String procs = ProcFs.read(dir.resolve("cgroup.procs"));
            if (procs == null) {
                continue;
            }
            for (String line : procs.split("\n")) {
                if (!line.isBlank()) {
                    pids.add(Integer.parseInt(line.trim()));
                }
            }
        }
        return new ArrayList<>(pids);
    }

    static List<Path> withDescendants(Path directory) {
        List<Path> all = new ArrayList<>(walk(directory));
        all.add(0, directory);
        return all;
    }

    private static String shorten(String text) {
        return text.length() <= 160 ? text : text.substring(0, 157) + "...";
    }

    static boolean kernelAtLeast(int major, int minor) {
        String release = ProcFs.read(Path.of("/proc/sys/kernel/osrelease"));
        if (release == null) {
            return false;
        }
        String[] parts = release.trim().split("[.-]");
        try {
            int ma = Integer.parseInt(parts[0]);
            int mi = Integer.parseInt(parts[1]);
            return ma > major || ma == major && mi >= minor;
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public void close() {
        pidsByPath.values().forEach(CgroupNode::release);
        memoryByPath.values().forEach(CgroupNode::release);
        files.close();
    }
}
