package dev.forktrace.pipeline;

import dev.forktrace.attribution.MemoryZones;
import dev.forktrace.attribution.SystemState;
import dev.forktrace.proto.v1.Offender;
import dev.forktrace.proto.v1.ScopeKind;
import dev.forktrace.system.CgroupPaths;
import dev.forktrace.system.CgroupPaths.Hierarchy;
import dev.forktrace.system.ProcessInspector;
import dev.forktrace.system.SystemStateReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * The facts of a failure that live in files rather than in the kernel record: cgroup paths, offender
 * rankings, per-process facts (pid in its namespace, JVM main), user names, memory zones and the global
 * limits. A background thread reads them and publishes immutable snapshots; the consumer thread only
 * looks them up, so the drain never waits on /proc or cgroupfs.
 *
 * <p>A fact not published yet (a new cgroup, scope or process) is requested from the thread and the
 * lookup returns what a failed read returned before ("cgroup id N", no offenders), marking the event
 * as {@link #missed()}: the consumer holds such an event briefly for the fact (see EventProcessor)
 * rather than write it without the offenders of the moment. Facts in use are re-read on the same
 * periods the consumer-side caches had (rankings and process facts 250 ms, limits 50 ms), and dropped
 * when unused for {@link #IDLE_NANOS}; idle, nothing is re-read and the threads sleep.
 *
 * <p>The first sight of a scope or a process, and the global limits of the first failure after an idle
 * spell, are the exception: the consumer reads them at once (cgroups
 * it knows without a walk, /proc), because the process that failed, or that holds the limit, may be
 * gone milliseconds later (a JVM that cannot start a thread often exits at once) and a ranking read
 * after that names nobody. This is bounded by the number of distinct scopes and processes, not by the
 * rate of failures: a storm in one scope reads nothing on the consumer thread after its first event.
 *
 * <p>Per-process facts have a thread of their own: the process may exit right after its failure (a JVM
 * that cannot start a thread often ends), so reading its /proc entry must not wait behind an offender
 * ranking or a walk of thousands of cgroups. A uid /etc/passwd did not name is a miss too, until a
 * re-read made after it was asked for (a user created a moment ago is named; one with no entry is
 * written "uid N" without holding anything again).
 */
public final class Enrichment implements AutoCloseable {
    static final long RANKING_REFRESH_NANOS = 250_000_000L;
    static final long PROCESS_REFRESH_NANOS = 250_000_000L;
    /** While failures arrive the global limits are re-read this often, so that their readings stay fresh. */
    static final long SYSTEM_REFRESH_NANOS = 50_000_000L;
    /**
     * A failure is judged by a reading of the global limits begun at most this long before it: five
     * refresh periods, so that only the first failure after an idle spell (or a starved refresher) waits.
     */
    static final long SYSTEM_MAX_AGE_NANOS = 250_000_000L;
    static final long ZONES_REFRESH_NANOS = 100_000_000L;
    /** A storm of failures newer than the last reading re-reads the global limits at most this often. */
    static final long SYSTEM_REREAD_NANOS = 1_000_000L;
    /** At most this often /etc/passwd is re-read for a uid it did not name (well inside the consumer's hold). */
    static final long USERS_REREAD_NANOS = 100_000_000L;
    private static final int ASKED_UIDS_MAX = 4096;
    /** An id the hierarchy walk did not find is not looked for again for this long (cgroups come and go). */
    static final long CGROUP_ABSENT_NANOS = 1_000_000_000L;
    static final long IDLE_NANOS = 5_000_000_000L;
    /** How late a periodic re-read may be: the threads wake this often while something is in use ... */
    private static final long PERIOD_IN_USE_NANOS = 10_000_000L;
    /** ... and this often when nothing is (a request wakes them at once either way). */
    private static final long PERIOD_IDLE_NANOS = 1_000_000_000L;
    private static final int PROCESS_SLOTS_MAX = 4096;

    /** Whose processes an offender ranking ranks: a pids cgroup or memcg id, a uid, a pid namespace inode, or the system. */
    record Scan(ScopeKind kind, long id, boolean flag) {}

    /** A published value and when the consumer last asked for it; value null: requested, not read yet. */
    private static final class Slot<T> {
        volatile T value;
        volatile long readAt;
        volatile long usedAt;
        volatile boolean queued;
        volatile boolean forgotten; // removed from its map: whoever kept it looks it up again
    }

    /** What /proc says of one process, for the comm it had when asked (a pid reused under another comm is a miss). */
    record ProcessFacts(String processComm, int nsPid, String javaMain) {}

    private record CgroupKey(Hierarchy hierarchy, long id) {}

    private final CgroupPaths cgroups;
    private final ProcessInspector processes; // the refresher's alone: it keeps no cache of its own
    private final ProcessInspector processFactsReader; // the process thread's own (ProcessInspector is not thread-safe)
    private ProcessInspector firstSight; // the consumer thread's own: first reads of a new scope or process
    private final SystemStateReader systemReader; // the refresher's
    private SystemStateReader firstSightSystem; // the consumer thread's own: the first failure after an idle spell
    /** The global limits and when the reading began (CLOCK_MONOTONIC, as bpf_ktime_get_ns; not System.nanoTime). */
    private record SystemReading(SystemState state, long beganAt) {}
    private volatile SystemReading system;
    private volatile long systemUsedAt = Long.MIN_VALUE / 2;
    /** A failure newer than the last reading asked for another; read at most every SYSTEM_REREAD_NANOS. */
    private volatile boolean systemWanted;
    private final Map<Scan, Slot<List<Offender>>> rankings = new ConcurrentHashMap<>();
    private final Map<Integer, Slot<ProcessFacts>> processFacts = new ConcurrentHashMap<>();
    /** When a walk did not find the id (System.nanoTime), or one of the two sentinels: a walk is requested. */
    private final Map<CgroupKey, Long> cgroupAbsentSince = new ConcurrentHashMap<>();
    private static final long FIRST_WALK = Long.MIN_VALUE, REWALK = Long.MIN_VALUE + 1;
    private volatile Map<Integer, String> users = Map.of();
    private volatile long usersReadAt;
    private volatile boolean userMissed;
    /** Uids /etc/passwd did not name, and when each was first asked for (System.nanoTime); consumer thread only. */
    private final Map<Integer, Long> unnamedUidAskedAt = new java.util.HashMap<>();
    private final Slot<List<MemoryZones.Zone>> zones = new Slot<>();
    private final ConcurrentLinkedQueue<Object> requests = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<ProcessRequest> processRequests = new ConcurrentLinkedQueue<>();
    private final Path proc;
    private final java.util.concurrent.atomic.AtomicLong published = new java.util.concurrent.atomic.AtomicLong(); // requests answered
    private volatile boolean closed;
    private Thread refresher;
    private Thread processReader;
    private boolean missed; // consumer thread only

    public Enrichment(CgroupPaths cgroups, ProcessInspector processes) {
        this(cgroups, processes, Path.of("/proc"));
    }

    Enrichment(CgroupPaths cgroups, ProcessInspector processes, Path proc) {
        this.cgroups = cgroups;
        this.processes = processes;
        this.processFactsReader = new ProcessInspector(proc, 0);
        this.proc = proc;
        this.systemReader = new SystemStateReader(proc);
        long began = dev.forktrace.bpf.Libc.monotonicNanos();
        this.system = new SystemReading(systemReader.read(), began);
    }

    /** Indexes the cgroup hierarchies and /etc/passwd on the calling thread, then starts the refresher. */
    public Enrichment start() {
        for (Hierarchy hierarchy : Hierarchy.values()) {
            if (cgroups.mount(hierarchy) != null) {
                cgroups.find(hierarchy, -1); // indexes the hierarchy once
            }
        }
        users = Users.read();
        usersReadAt = System.nanoTime();
        processes.onSystem(false); // loads the /proc scanning code before the first failure needs it
        firstSightSystem = new SystemStateReader(proc);
        firstSight = processes.uncachedCopy(); // after identifyContainers: offenders read at first sight are named alike
        refresher = Thread.ofPlatform().daemon().name("forktrace-enrichment").start(this::refreshLoop);
        processReader = Thread.ofPlatform().daemon().name("forktrace-enrichment-processes").start(this::processLoop);
        return this;
    }

    // ---- the consumer's side: lookups that never block and never read a file

    /** Clears the missed mark before an event's lookups. */
    void beginEvent() {
        missed = false;
    }

    /** Whether a lookup since {@link #beginEvent} found its fact not yet published (it is requested). */
    boolean missed() {
        return missed;
    }

    /** Marks this event as missing a fact read elsewhere (a container's name, from the runtime state). */
    void missedElsewhere() {
        missed = true;
    }

    /** Another reader published facts a held event may be waiting for (the container runtime state). */
    void publishedElsewhere() {
        published.incrementAndGet();
    }

    /** How many requests the refresher has answered: when it moves, a held event may now be complete. */
    long published() {
        return published.get();
    }

    /** The global limits as last read, however old (for what is not one failure's verdict). */
    public SystemState system() {
        return system.state();
    }

    /**
     * The global limits for a failure at {@code failureNanos} (its ktime, CLOCK_MONOTONIC): the last reading, a miss (and a new reading requested) when it began more than
     * {@link #SYSTEM_MAX_AGE_NANOS} before the failure. Idle, nothing is re-read.
     */
    public SystemState system(long failureNanos) {
        SystemReading reading = system;
        long began;
        if (reading.beganAt() - (failureNanos - SYSTEM_MAX_AGE_NANOS) < 0 && firstSightSystem != null
                && failureNanos - (began = dev.forktrace.bpf.Libc.monotonicNanos()) <= 0) {
            // Idle, nothing is re-read: the first failure after an idle spell reads the limits itself (~0.3 ms)
            // rather than wait for the refresher, as a new scope's first ranking is read. The refresher keeps
            // them fresh from then on, so a storm reads nothing here. (A ktime ahead of the clock, from a
            // record of another boot, is left to the miss below: no reading can be taken after it.)
            reading = new SystemReading(firstSightSystem.read(), began);
            if (reading.beganAt() - system.beganAt() > 0) {
                system = reading;
            }
        }
        return systemReadSince(failureNanos - SYSTEM_MAX_AGE_NANOS);
    }

    /**
     * The global limits as read after the failure at {@code failureNanos}; a miss while the last reading
     * began before it: a fork loop can exhaust threads-max between a reading and the failure.
     */
    public SystemState systemAfter(long failureNanos) {
        return systemReadSince(failureNanos);
    }

    private SystemState systemReadSince(long beganBy) {
        systemUsedAt = System.nanoTime();
        SystemReading reading = system;
        if (reading.beganAt() - beganBy < 0) {
            if (!systemWanted) {
                systemWanted = true;
                LockSupport.unpark(refresher);
            }
            missed = true;
        }
        return reading.state();
    }

    public Path mount(Hierarchy hierarchy) {
        return cgroups.mount(hierarchy);
    }

    /** The cgroup's path, or "cgroup id N" when it is gone (or not indexed yet: then requested, and missed). */
    public String cgroupPath(Hierarchy hierarchy, long id) {
        long walks = cgroups.walks();
        if (walks != recentCgroupPathsWalks) { // a walk may have renamed one
            recentCgroupPaths.clear();
            recentCgroupPathsWalks = walks;
        }
        String path = recentCgroupPaths.get(hierarchy.ordinal(), id);
        if (path != null) {
            return path;
        }
        CgroupPaths.Cgroup cgroup = cgroup(hierarchy, id);
        if (cgroup != null) {
            path = cgroup.path();
        } else {
            path = "cgroup id " + id;
            if (cgroups.mount(hierarchy) != null) {
                return path; // looked for again in a while: not an answer to keep
            }
        }
        recentCgroupPaths.put(hierarchy.ordinal(), id, path);
        return path;
    }

    private final RecentAnswers<String> recentCgroupPaths = new RecentAnswers<>();
    private long recentCgroupPathsWalks = -1;

    private CgroupPaths.Cgroup cgroup(Hierarchy hierarchy, long id) {
        CgroupPaths.Cgroup cgroup = cgroups.known(hierarchy, id);
        if (cgroup != null || cgroups.mount(hierarchy) == null) {
            return cgroup;
        }
        CgroupKey key = new CgroupKey(hierarchy, id);
        Long absentSince = cgroupAbsentSince.get(key);
        if (absentSince == null) { // never looked for: worth waiting for the walk
            cgroupAbsentSince.put(key, FIRST_WALK);
            request(key);
            missed = true;
        } else if (absentSince == FIRST_WALK) {
            missed = true; // requested, the walk has not answered yet
        } else if (absentSince != REWALK && System.nanoTime() - absentSince > CGROUP_ABSENT_NANOS) {
            cgroupAbsentSince.put(key, REWALK); // looked for again, without holding events for a cgroup likely gone
            request(key);
        }
        return null; // looked for and not there: gone
    }

    /** {@link #offenders(Scan)} for the scope of that kind, id and flag, without building its key each time. */
    public List<Offender> offenders(ScopeKind kind, long id, boolean flag) {
        int kindAndFlag = kind.ordinal() * 2 + (flag ? 1 : 0);
        Scan scan = recentScans.get(kindAndFlag, id);
        if (scan == null) {
            scan = new Scan(kind, id, flag);
            recentScans.put(kindAndFlag, id, scan);
        }
        return offenders(scan);
    }

    private final RecentAnswers<Scan> recentScans = new RecentAnswers<>();

    /** The processes holding the scope's resource as last ranked, or an empty list when not ranked yet (missed). */
    public List<Offender> offenders(Scan scan) {
        Slot<List<Offender>> slot = rankings.computeIfAbsent(scan, k -> new Slot<>());
        slot.usedAt = System.nanoTime();
        List<Offender> ranked = slot.value;
        if (ranked == null && !slot.queued && firstSight != null) {
            ranked = rankAtFirstSight(scan);
            if (ranked != null) {
                publish(slot, ranked, System.nanoTime());
                return ranked;
            }
        }
        if (ranked == null) {
            request(slot, new RankRequest(scan, slot));
            missed = true;
            return List.of();
        }
        return ranked;
    }

    /** The pid's facts as last read; null when not read yet for this comm (requested, missed). */
    private ProcessFacts process(int pid, String processComm) {
        Slot<ProcessFacts> slot = recentProcessSlots.get(0, pid);
        if (slot == null || slot.forgotten) {
            slot = processFacts.get(pid);
            if (slot == null) {
                if (processFacts.size() >= PROCESS_SLOTS_MAX) { // a pid storm: read nothing rather than grow without end
                    return null;
                }
                slot = processFacts.computeIfAbsent(pid, k -> new Slot<>());
            }
            recentProcessSlots.put(0, pid, slot);
        }
        slot.usedAt = System.nanoTime();
        ProcessFacts facts = slot.value;
        if ((facts == null || !facts.processComm().equals(processComm)) && !slot.queued && firstSight != null) {
            facts = new ProcessFacts(processComm, firstSight.nsPid(pid, processComm), firstSight.javaMain(pid, processComm));
            publish(slot, facts, System.nanoTime());
            return facts;
        }
        if (facts == null || !facts.processComm().equals(processComm)) {
            slot.value = null; // a pid reused by another program: its old facts are not this one's
            if (!slot.queued) {
                slot.queued = true;
                processRequests.add(new ProcessRequest(pid, processComm, slot));
                LockSupport.unpark(processReader);
            }
            missed = true;
            return null;
        }
        return facts;
    }

    private final RecentAnswers<Slot<ProcessFacts>> recentProcessSlots = new RecentAnswers<>();

    private record ProcessRequest(int pid, String processComm, Slot<ProcessFacts> slot) {}

    private record RankRequest(Scan scan, Slot<List<Offender>> slot) {}

    /** The pid as its own pid namespace sees it; 0 when gone or not read yet. */
    public int nsPid(int pid, String processComm) {
        ProcessFacts facts = process(pid, processComm);
        return facts == null ? 0 : facts.nsPid();
    }

    /** The main class or jar when the process is a JVM, else null (also when not read yet). */
    public String javaMain(int pid, String processComm) {
        ProcessFacts facts = process(pid, processComm);
        return facts == null ? null : facts.javaMain();
    }

    /**
     * "uid 1000 (alice)", or "uid N" for a uid /etc/passwd did not have. A miss until /etc/passwd has been
     * re-read after the uid was first asked for: a user created a moment ago is then named.
     */
    public String user(int uid) {
        long readAt = usersReadAt; // before users: a newer read's names are never kept as an older read's
        if (readAt != recentUsersReadAt) {
            recentUsers.clear();
            recentUsersReadAt = readAt;
        }
        String known = recentUsers.get(0, uid);
        if (known != null) {
            return known;
        }
        String name = users.get(uid);
        if (name != null) {
            recentUsers.put(0, uid, name);
            return name;
        }
        boolean settled = false;
        Long askedAt = unnamedUidAskedAt.get(uid);
        if (askedAt == null) {
            if (unnamedUidAskedAt.size() >= ASKED_UIDS_MAX) {
                unnamedUidAskedAt.clear(); // many nameless uids (a user namespace's range): ask again, bounded
            }
            unnamedUidAskedAt.put(uid, System.nanoTime());
            userMissed = true;
            LockSupport.unpark(refresher);
            missed = true;
        } else if (usersReadAt - askedAt < 0) {
            missed = true; // the re-read it asked for has not happened yet
        } else {
            settled = true; // re-read since it was asked for: nameless until the next read
        }
        String unnamed = "uid " + uid;
        if (settled) {
            recentUsers.put(0, uid, unnamed);
        }
        return unnamed;
    }

    private final RecentAnswers<String> recentUsers = new RecentAnswers<>();
    private long recentUsersReadAt = Long.MIN_VALUE;

    /** Each zone's free pages and watermarks as last read; empty when not read yet (requested, missed). */
    public List<MemoryZones.Zone> zones() {
        zones.usedAt = System.nanoTime();
        List<MemoryZones.Zone> read = zones.value;
        if (read == null) {
            request(zones, zones);
            missed = true;
            return List.of();
        }
        return read;
    }

    private void request(Slot<?> slot, Object what) {
        if (!slot.queued) {
            slot.queued = true;
            request(what);
        }
    }

    private void request(Object what) {
        requests.add(what);
        LockSupport.unpark(refresher);
    }

    // ---- the refresher thread

    private void refreshLoop() {
        while (!closed) {
            try {
                for (Object what; (what = requests.poll()) != null; ) {
                    answer(what);
                    published.incrementAndGet();
                }
                long now = System.nanoTime();
                long monotonic = dev.forktrace.bpf.Libc.monotonicNanos(); // the events' clock, not System.nanoTime's
                long sinceReading = monotonic - system.beganAt();
                boolean wanted = systemWanted && sinceReading >= SYSTEM_REREAD_NANOS;
                boolean inUse = now - systemUsedAt <= IDLE_NANOS;
                if (wanted || inUse && sinceReading >= SYSTEM_REFRESH_NANOS) {
                    systemWanted = false; // before the read: a failure during it asks again
                    system = new SystemReading(systemReader.read(), monotonic);
                    published.incrementAndGet(); // a held failure may have waited for any reading, asked or not
                }
                if (userMissed && now - usersReadAt >= USERS_REREAD_NANOS) {
                    userMissed = false;
                    users = Users.read();
                    usersReadAt = System.nanoTime(); // after the read: a uid asked for during it asks again
                    published.incrementAndGet();
                }
                refreshInUse(now);
            } catch (RuntimeException e) {
                // one unreadable fact must not end the refreshing of all the others
            }
            // Woken at once by a request. Idle, it sleeps: a timer wakeup costs ~50 us of CPU in a VM, and
            // 100 of them a second were most of an idle watch's CPU.
            LockSupport.parkNanos(this, systemWanted ? SYSTEM_REREAD_NANOS : refresherInUse() ? PERIOD_IN_USE_NANOS : PERIOD_IDLE_NANOS);
        }
    }

    private void answer(Object what) {
        long now = System.nanoTime();
        switch (what) {
            case CgroupKey key -> {
                if (cgroups.find(key.hierarchy(), key.id()) != null) {
                    cgroupAbsentSince.remove(key);
                } else {
                    cgroupAbsentSince.put(key, System.nanoTime());
                }
            }
            case RankRequest r -> publish(r.slot(), rank(r.scan()), now);
            default -> publish(zones, readZones(), now); // the zones slot itself
        }
    }

    private static <T> void publish(Slot<T> slot, T value, long readAt) {
        slot.readAt = readAt;
        slot.value = value;
        slot.queued = false;
    }

    /** Re-reads what was used lately and is older than its period; forgets what was not used for IDLE_NANOS. */
    private void refreshInUse(long now) {
        for (var entry : rankings.entrySet()) {
            Slot<List<Offender>> slot = entry.getValue();
            if (now - slot.usedAt > IDLE_NANOS) {
                rankings.remove(entry.getKey(), slot);
            } else if (slot.value != null && now - slot.readAt >= RANKING_REFRESH_NANOS) {
                publish(slot, rank(entry.getKey()), System.nanoTime());
            }
        }
        if (zones.value != null) {
            if (now - zones.usedAt > IDLE_NANOS) {
                zones.value = null;
            } else if (now - zones.readAt >= ZONES_REFRESH_NANOS) {
                publish(zones, readZones(), System.nanoTime());
            }
        }
    }

    /** The ranking read on the consumer thread; null when the cgroup is not indexed yet (that needs a walk). */
    private List<Offender> rankAtFirstSight(Scan scan) {
        return rank(scan, firstSight, false);
    }

    private List<Offender> rank(Scan scan) {
        return rank(scan, processes, true);
    }

    /** @param mayWalk whether an unknown cgroup id may be looked for by walking its hierarchy (else: null) */
    private List<Offender> rank(Scan scan, ProcessInspector inspector, boolean mayWalk) {
        return switch (scan.kind()) {
            case CGROUP, MEMCG -> {
                Hierarchy hierarchy = scan.kind() == ScopeKind.CGROUP ? Hierarchy.PIDS : Hierarchy.MEMORY;
                CgroupPaths.Cgroup cgroup = mayWalk ? cgroups.find(hierarchy, scan.id()) : cgroups.known(hierarchy, scan.id());
                yield cgroup != null ? inspector.inCgroup(cgroup.directory(), scan.flag()) : mayWalk ? List.of() : null;
            }
            case USER -> inspector.ofUser((int) scan.id());
            case PID_NAMESPACE -> inspector.inPidNamespace(scan.id(), scan.flag());
            case SYSTEM -> inspector.onSystem(scan.flag());
            default -> List.of();
        };
    }

    /** The process facts' own thread: new processes at once, then those in use on their period. */
    private void processLoop() {
        while (!closed) {
            try {
                for (ProcessRequest p; (p = processRequests.poll()) != null; ) {
                    publish(p.slot(), readProcess(p.pid(), p.processComm()), System.nanoTime());
                    published.incrementAndGet();
                }
                long now = System.nanoTime();
                for (var entry : processFacts.entrySet()) {
                    Slot<ProcessFacts> slot = entry.getValue();
                    ProcessFacts facts = slot.value;
                    if (now - slot.usedAt > IDLE_NANOS) {
                        slot.forgotten = true;
                        processFacts.remove(entry.getKey(), slot);
                    } else if (facts != null && now - slot.readAt >= PROCESS_REFRESH_NANOS) {
                        publish(slot, readProcess(entry.getKey(), facts.processComm()), System.nanoTime());
                    }
                }
            } catch (RuntimeException e) {
                // one unreadable process must not end the reading of all the others
            }
            LockSupport.parkNanos(this, processFacts.isEmpty() ? PERIOD_IDLE_NANOS : PERIOD_IN_USE_NANOS); // woken at once by a request
        }
    }

    /** Whether the refresher has anything to re-read on its period: rankings, zones or the global limits in use. */
    private boolean refresherInUse() {
        return !rankings.isEmpty() || zones.value != null || userMissed
                || System.nanoTime() - systemUsedAt <= IDLE_NANOS;
    }

    private ProcessFacts readProcess(int pid, String processComm) {
        return new ProcessFacts(processComm, processFactsReader.nsPid(pid, processComm),
                processFactsReader.javaMain(pid, processComm));
    }

    private List<MemoryZones.Zone> readZones() {
        try {
            return MemoryZones.parse(Files.readString(proc.resolve("zoneinfo")), Files.readString(proc.resolve("buddyinfo")));
        } catch (java.io.IOException | RuntimeException e) {
            return List.of(); // not readable here (a container without /proc/zoneinfo): no zone evidence
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(refresher);
        LockSupport.unpark(processReader);
    }
}
