package dev.forktrace.pipeline;

import dev.forktrace.attribution.AllocationFailure;
import dev.forktrace.attribution.Attribution;
import dev.forktrace.attribution.MemoryZones;
import dev.forktrace.attribution.KernelNames;
import dev.forktrace.attribution.RawEvent;
import dev.forktrace.attribution.SystemState;
import dev.forktrace.bpf.EventLayout;
import dev.forktrace.bpf.Libc;
import dev.forktrace.containers.ContainerRuntimes;
import dev.forktrace.containers.LimitKnobs;
import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.Container;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.Offender;
import dev.forktrace.proto.v1.ScopeKind;
import dev.forktrace.proto.v1.Syscall;
import dev.forktrace.proto.v1.Tier;
import dev.forktrace.system.CgroupPaths;
import dev.forktrace.system.CgroupPaths.Hierarchy;
import dev.forktrace.system.ProcessInspector;
import java.nio.file.Path;
import java.util.List;

/**
 * Turns a kernel record plus its attribution into the failure's {@link Diagnosis}: names for ids, the
 * evidence, the offenders and the one-sentence explanation. Runs only for events that are written.
 *
 * <p>What repeats from one failure to the next in a storm (the same process, cgroup, user and limit) is
 * kept from the previous failure instead of being built again: the comm strings while the kernel's bytes
 * are the same, cgroup paths by id for a second, the knob and the message while every input they are made
 * from is the same. So a storm's diagnosis allocates nothing, and the encoders find the same string
 * instances (whose encoded bytes they keep) event after event.
 */
public final class FailureAssembler {
    /** The kernel counts memcg and page_counter charges in pages of its own size (16K or 64K on some arm64 builds). */
    private static final long PAGE = Libc.pageSize();
    private final Enrichment enrichment;
    private final long wallMinusMonotonicNanos;
    private final ContainerRuntimes containers; // null: no container identity
    private final String pidsMount;
    private final CommMemo comm = new CommMemo(EventLayout.COMM);
    private final CommMemo processComm = new CommMemo(EventLayout.PROCESS_COMM);
    private long lastCloneFlags = -1;
    private List<String> lastCloneFlagNames;
    private final KnobMemo pidsKnob = new KnobMemo();
    private final KnobMemo nprocKnob = new KnobMemo();
    private final MessageMemo messages = new MessageMemo();

    /** With its own started enrichment stage over these (the JMH fixtures' form). */
    public FailureAssembler(CgroupPaths cgroups, ProcessInspector processes, long wallMinusMonotonicNanos) {
        this(new Enrichment(cgroups, processes).start(), wallMinusMonotonicNanos, null);
    }

    /** @param enrichment where the facts read from files come from (published snapshots: no lookup blocks) */
    public FailureAssembler(Enrichment enrichment, long wallMinusMonotonicNanos, ContainerRuntimes containers) {
        this.enrichment = enrichment;
        this.wallMinusMonotonicNanos = wallMinusMonotonicNanos;
        this.containers = containers;
        Path mount = enrichment.mount(Hierarchy.PIDS);
        this.pidsMount = mount == null ? null : mount.toString();
    }

    /** The enrichment stage this assembler reads (its misses decide whether an event is held for a moment). */
    Enrichment enrichment() {
        return enrichment;
    }

    /** The failure as an immutable message (a fresh diagnosis, copied): for callers that keep it. */
    public ForkFailure assemble(long sequence, RawEvent e, Attribution a, SystemState system) {
        return diagnose(sequence, e, a, system, new Diagnosis()).toForkFailure();
    }

    /** Fills {@code d} (the consumer thread's reused diagnosis) with this failure; returns it. */
    public Diagnosis diagnose(long sequence, RawEvent e, Attribution a, SystemState system, Diagnosis d) {
        // The offenders are the enrichment stage's latest ranking of the scope (at most 250 ms old).
        boolean byMemory = isMemory(a.cause);
        List<Offender> offenders = offenders(e, a, byMemory);
        long wall = e.ktimeNanos() + wallMinusMonotonicNanos;
        long flags = e.cloneFlags();
        d.sequence = sequence;
        d.timeSeconds = Math.floorDiv(wall, 1_000_000_000L);
        d.timeNanos = (int) Math.floorMod(wall, 1_000_000_000L);
        d.ktimeNs = e.ktimeNanos();
        d.syscall = syscall(e.syscall());
        d.errnoValue = e.errno();
        d.errno = KernelNames.errnoName(d.errnoValue);
        d.pid = e.pid();
        d.tid = e.tid();
        d.ppid = e.ppid();
        d.uid = e.uid();
        d.comm = comm.of(e);
        d.processComm = processComm.of(e);
        d.cloneFlags = flags;
        if (flags != lastCloneFlags || lastCloneFlagNames == null) {
            lastCloneFlagNames = KernelNames.cloneFlagNames(flags);
            lastCloneFlags = flags;
        }
        d.cloneFlagNames = lastCloneFlagNames;
        d.thread = (flags & KernelNames.CLONE_THREAD) != 0;
        d.cgroupId = e.cgroupId();
        d.tier = tier(e.hookTier());
        d.cause = a.cause;
        d.confidence = a.confidence;
        boolean nested = e.pidNamespaceDepth() > 0;
        d.pidNamespaceInum = nested ? (int) e.pidNamespaceInum(0) : 0;
        d.pidNamespaceLevel = nested ? e.pidNamespaceLevel(0) : 0;
        snapshot(e, system, d);
        Container container = failingContainer(e, d);
        if (containers != null && containers.nameMayCome(container)) {
            enrichment.missedElsewhere(); // held for the runtime state's next reading, which the lookup asked for
        }
        d.container = container;
        int nsPid = e.nsTgid() != 0 ? e.nsTgid() : enrichment.nsPid(e.pid(), d.processComm);
        d.nsPid = Math.max(nsPid, 0);
        scope(e, a, d, container);
        d.evidenceCount = 0;
        evidence(e, a, d, system);
        d.offenders = offenders;
        d.offenderRanking = byMemory ? "memory" : "tasks";
        d.javaMain = enrichment.javaMain(e.pid(), d.processComm);
        d.message = messages.explain(d, a.errnoMisleading);
        return d;
    }

    static boolean isMemory(Cause cause) {
        return cause == Cause.MEMCG_LIMIT || cause == Cause.OVERCOMMIT_LIMIT
                || cause == Cause.SLAB_ALLOCATION_FAILURE || cause == Cause.PAGE_ALLOCATION_FAILURE;
    }

    static Syscall syscall(int code) {
        return switch (code) {
            case EventLayout.SYS_CLONE -> Syscall.CLONE;
            case EventLayout.SYS_CLONE3 -> Syscall.CLONE3;
            case EventLayout.SYS_FORK -> Syscall.FORK;
            case EventLayout.SYS_VFORK -> Syscall.VFORK;
            case EventLayout.SYS_KERNEL -> Syscall.KERNEL_THREAD;
            default -> Syscall.SYSCALL_UNSPECIFIED;
        };
    }

    static Tier tier(int code) {
        return switch (code) {
            case EventLayout.TIER_FENTRY -> Tier.FENTRY;
            case EventLayout.TIER_KPROBE -> Tier.KPROBE;
            default -> Tier.TRACEPOINT;
        };
    }

    private void snapshot(RawEvent e, SystemState system, Diagnosis d) {
        d.rlimitNproc = e.rlimitNproc();
        d.nprocCount = e.nprocCount();
        d.userNsInum = (int) e.userNamespaceInum();
        d.capEffective = e.capEffective();
        d.allocPidError = e.allocPidError();
        d.pidsCanForkError = e.pidsCanForkError();
        d.slabCache = e.slabCacheIsEmpty() ? "" : e.slabCache();
        d.pageCounterUsageBytes = e.pageCounterUsagePages() * PAGE;
        d.pageCounterMaxBytes = e.pageCounterMaxPages() * PAGE;
        d.threadsMax = system.threadsMax();
        d.nrThreads = system.nrThreads();
        d.globalPidMax = system.globalPidMax();
        d.overcommitMemory = system.overcommitMemory();
        d.committedAsBytes = system.committedAsBytes();
        d.commitLimitBytes = system.commitLimitBytes();
        int pidNamespaces = e.pidNamespaceDepth();
        d.pidNamespaceCount = pidNamespaces;
        for (int i = 0; i < pidNamespaces; i++) {
            int raw = e.pidAllocatedRaw(i);
            d.pidNamespaceInums[i] = (int) e.pidNamespaceInum(i);
            d.pidNamespaceLevels[i] = e.pidNamespaceLevel(i);
            d.pidsAllocated[i] = raw & ~EventLayout.PIDNS_ADDING;
            d.pidNamespaceAccepting[i] = (raw & EventLayout.PIDNS_ADDING) != 0;
            d.pidMax[i] = e.pidMax(i);
        }
        int levels = e.pidsCgroupDepth();
        d.pidsCgroupCount = levels;
        for (int i = 0; i < levels; i++) {
            long id = e.pidsCgroupId(i);
            d.pidsCgroupIds[i] = id;
            d.pidsCgroupPaths[i] = enrichment.cgroupPath(Hierarchy.PIDS, id);
            d.pidsCurrent[i] = e.pidsCounter(i);
            d.pidsLimit[i] = e.pidsLimit(i);
            d.pidsEvents[i] = e.pidsEvents(i);
            d.pidsEventsAtEntry[i] = e.pidsEventsAtEntry(i);
            d.pidsLimitHits[i] = e.pidsLimitHits(i);
            d.pidsLimitHitsAtEntry[i] = e.pidsLimitHitsAtEntry(i);
        }
        d.hasMemcg = e.memcgId() != 0;
        if (d.hasMemcg) {
            d.memcgId = e.memcgId();
            d.memcgPath = enrichment.cgroupPath(Hierarchy.MEMORY, e.memcgId());
            d.memcgUsageBytes = e.memcgUsagePages() * PAGE;
            d.memcgMaxBytes = e.memcgMaxPages() * PAGE;
            d.memcgFailcnt = e.memcgFailcnt();
            d.memcgEventsMax = e.memcgEventsMax();
            d.memcgEventsMaxAtEntry = e.memcgEventsMaxAtEntry();
            d.memcgEventsOom = e.memcgEventsOom();
            d.memcgKmemUsageBytes = e.memcgKmemUsagePages() * PAGE;
            d.memcgKmemMaxBytes = e.memcgKmemMaxPages() * PAGE;
        } else {
            d.memcgId = 0;
            d.memcgPath = "";
            d.memcgUsageBytes = d.memcgMaxBytes = d.memcgFailcnt = d.memcgEventsMax = 0;
            d.memcgEventsMaxAtEntry = d.memcgEventsOom = d.memcgKmemUsageBytes = d.memcgKmemMaxBytes = 0;
        }
        d.hookBits = EventLayout.EVIDENCE_NAMES.length >= 32 ? e.evidence()
                : e.evidence() & ((1 << EventLayout.EVIDENCE_NAMES.length) - 1);
    }

    /** "user.max_pid_namespaces of " (with where it was hit when above the caller's), or "" when unknown. */
    static String namespaceLimitName(RawEvent e) {
        int kind = e.namespaceLimit();
        if (kind == 0) {
            return "";
        }
        int level = e.namespaceLimitLevel();
        return dev.forktrace.bpf.EventLayout.NS_LIMIT_SYSCTLS[kind] + " of "
                + (level == 0 ? "" : "the user namespace " + level + " level(s) above ");
    }

    /**
     * The failing process's container, from its own pids cgroup (else its memory cgroup, else its cgroup v2
     * cgroup): the path comes from the id index, the identity from the runtime index; no file is read.
     */
    private Container failingContainer(RawEvent e, Diagnosis d) {
        if (containers == null) {
            return null;
        }
        if (d.pidsCgroupCount > 0) {
            return containers.forCgroup(d.pidsCgroupIds[0], d.pidsCgroupPaths[0]);
        }
        if (d.hasMemcg) {
            return containers.forCgroup(d.memcgId, d.memcgPath);
        }
        return e.cgroupId() == 0 ? null
                : containers.forCgroup(e.cgroupId(), enrichment.cgroupPath(Hierarchy.UNIFIED, e.cgroupId()));
    }

    private void scope(RawEvent e, Attribution a, Diagnosis d, Container failing) {
        d.scopeKind = a.scopeKind;
        d.scopeLimit = a.limit;
        d.scopeCurrent = a.current;
        d.scopeName = "";
        d.scopeKnob = "";
        d.scopeContainer = null;
        switch (a.scopeKind) {
            case CGROUP -> {
                boolean known = a.scopeLevel >= 0 && a.scopeLevel < d.pidsCgroupCount;
                d.scopeName = known ? d.pidsCgroupPaths[a.scopeLevel] : "unknown cgroup";
                if (known) {
                    String path = d.pidsCgroupPaths[a.scopeLevel];
                    Container owner = containers == null ? null : containers.forCgroup(d.pidsCgroupIds[a.scopeLevel], path);
                    if (owner != null && owner.getId().isEmpty() && failing != null
                            && owner.getPodUid().equals(failing.getPodUid())) { // a pod's cgroup: its names from the container
                        owner = owner.toBuilder().setPodNamespace(failing.getPodNamespace())
                                .setPodName(failing.getPodName()).setRuntime(failing.getRuntime()).build();
                    }
                    d.scopeContainer = owner;
                    long limit = d.pidsLimit[a.scopeLevel];
                    d.scopeKnob = pidsKnob.matches(path, owner, limit, 0) ? pidsKnob.knob
                            : pidsKnob.keep(path, owner, limit, 0,
                                    LimitKnobs.pidsLimit(path, owner, pidsMount, limit));
                }
            }
            case USER -> {
                d.scopeName = a.cause == Cause.NAMESPACE_LIMIT
                        ? namespaceLimitName(e) + "user namespace " + e.userNamespaceInum() + " of " + user(e.uid())
                        : user(e.uid());
                if (a.cause == Cause.RLIMIT_NPROC) {
                    String ownPath = d.pidsCgroupCount > 0 ? d.pidsCgroupPaths[0] : null;
                    long limit = e.rlimitNproc();
                    d.scopeKnob = nprocKnob.matches(ownPath, failing, limit, e.uid()) ? nprocKnob.knob
                            : nprocKnob.keep(ownPath, failing, limit, e.uid(),
                                    LimitKnobs.rlimitNproc(limit, ownPath, failing, e.uid()));
                }
            }
            case PID_NAMESPACE -> d.scopeName = "pidns " + e.pidNamespaceInum(a.scopeLevel) + " level "
                    + e.pidNamespaceLevel(a.scopeLevel);
            case MEMCG -> {
                d.scopeName = d.memcgPath;
                d.scopeLimit = a.limit * PAGE;
                d.scopeCurrent = a.current * PAGE;
                d.scopeContainer = containers == null ? null : containers.forCgroup(d.memcgId, d.memcgPath);
            }
            case SYSTEM -> d.scopeName = switch (a.cause) {
                case THREADS_MAX -> "kernel.threads-max";
                case OVERCOMMIT_LIMIT -> "vm.overcommit_memory=2 (CommitLimit)";
                case SLAB_ALLOCATION_FAILURE -> e.slabCache().isEmpty() ? "slab allocator" : "slab cache " + e.slabCache();
                case PAGE_ALLOCATION_FAILURE -> e.allocationFailure().order() >= 0
                        ? "page allocator (order " + e.allocationFailure().order() + ")" : "page allocator";
                default -> "system";
            };
            default -> { }
        }
    }

    private void evidence(RawEvent e, Attribution a, Diagnosis d, SystemState system) {
        d.addEvidence("errno", d.errno, e.errno(), 0, "returned");
        switch (a.cause) {
            case PIDS_CGROUP_LIMIT -> {
                boolean entrySnapshot = (e.evidence() & EventLayout.EV_ENTRY_SNAPSHOT) != 0;
                for (int i = 0; i < d.pidsCgroupCount; i++) {
                    if (d.pidsEvents[i] > d.pidsEventsAtEntry[i] && entrySnapshot) {
                        d.addEvidence("pids.events", d.pidsCgroupPaths[i], d.pidsEvents[i], d.pidsEventsAtEntry[i],
                                "increased_from");
                    }
                    if (d.pidsLimitHitsAtEntry[i] >= 0 && d.pidsLimitHits[i] > d.pidsLimitHitsAtEntry[i] && entrySnapshot) {
                        d.addEvidence("pids.events.local.max", d.pidsCgroupPaths[i], d.pidsLimitHits[i],
                                d.pidsLimitHitsAtEntry[i], "increased_from");
                    }
                }
                if (a.scopeLevel >= 0 && a.scopeLevel < d.pidsCgroupCount) {
                    int level = a.scopeLevel;
                    d.addEvidence("pids.current", d.pidsCgroupPaths[level], d.pidsCurrent[level], d.pidsLimit[level],
                            d.pidsCurrent[level] >= d.pidsLimit[level] ? "at_or_above_limit" : "below_limit");
                }
                if ((e.evidence() & EventLayout.EV_PIDS_CAN_FORK) != 0) {
                    d.addEvidence("hook.pids_can_fork", "copy_process", e.pidsCanForkError(), 0, "returned");
                }
                if ((e.evidence() & EventLayout.EV_PIDS_REJECT_MSG) != 0) {
                    d.addEvidence("printk.pids_reject", "cgroup: fork rejected by pids controller", 1, 0, "printed");
                }
            }
            case RLIMIT_NPROC -> {
                d.addEvidence("ucount.nproc", user(e.uid()), e.nprocCount(), e.rlimitNproc(), "at_or_above_limit");
                if ((e.evidence() & EventLayout.EV_RLIMIT_NPROC_OVER) != 0) {
                    d.addEvidence("hook.is_rlimit_overlimit", "UCOUNT_RLIMIT_NPROC", 1, 0, "returned");
                }
            }
            case THREADS_MAX -> d.addEvidence("nr_threads", "kernel.threads-max", system.nrThreads(), system.threadsMax(),
                    "at_or_above_limit");
            case PID_NAMESPACE_FULL, PID_NAMESPACE_DEAD -> {
                if (a.scopeLevel >= 0) {
                    int level = a.scopeLevel;
                    // As the message's int fields printed it (uint32 read as int).
                    String subject = "pidns " + d.pidNamespaceInums[level] + " level " + d.pidNamespaceLevels[level];
                    if (a.cause == Cause.PID_NAMESPACE_DEAD) {
                        d.addEvidence("pid_ns.pidns_adding", subject, 0, 1, "flag_clear");
                    } else {
                        d.addEvidence("pid_ns.pid_allocated", subject, d.pidsAllocated[level],
                                a.limit, "at_or_above_limit");
                    }
                }
                if ((e.evidence() & EventLayout.EV_ALLOC_PID) != 0) {
                    d.addEvidence("hook.alloc_pid", "copy_process", e.allocPidError(), 0, "returned");
                }
            }
            case MEMCG_LIMIT -> {
                if (d.memcgEventsMax > d.memcgEventsMaxAtEntry) {
                    d.addEvidence("memcg.events.max", d.memcgPath, d.memcgEventsMax, d.memcgEventsMaxAtEntry,
                            "increased_from");
                }
                if (a.limit * PAGE == d.memcgKmemMaxBytes && d.memcgKmemMaxBytes > 0) {
                    d.addEvidence("memcg.kmem.usage_bytes", d.memcgPath, d.memcgKmemUsageBytes, d.memcgKmemMaxBytes,
                            "within_fork_headroom_of_limit");
                } else {
                    d.addEvidence("memcg.usage_bytes", d.memcgPath, d.memcgUsageBytes, d.memcgMaxBytes,
                            d.memcgUsageBytes >= d.memcgMaxBytes ? "at_or_above_limit" : "within_fork_headroom_of_limit");
                }
                if ((e.evidence() & EventLayout.EV_PAGE_COUNTER) != 0) {
                    d.addEvidence("hook.page_counter_try_charge", "failing counter", d.pageCounterUsageBytes,
                            d.pageCounterMaxBytes, "returned");
                }
            }
            case SLAB_ALLOCATION_FAILURE, PAGE_ALLOCATION_FAILURE -> allocationEvidence(e, a, d);
            case OVERCOMMIT_LIMIT -> {
                d.addEvidence("meminfo.committed_as", "vm.overcommit_memory=2", system.committedAsBytes(),
                        system.commitLimitBytes(), "compared_with_commit_limit");
                if ((e.evidence() & EventLayout.EV_OVERCOMMIT) != 0) {
                    d.addEvidence("kernel.__vm_enough_memory", "dup_mmap", -12 /* -ENOMEM */, 0, "returned");
                }
            }
            default -> { }
        }
    }

    /**
     * The failed allocation: the kernel's own report line, the cache, the order and the GFP flags by
     * name, whether fault injection made it fail, and each zone's free pages against its watermarks.
     */
    private void allocationEvidence(RawEvent e, Attribution a, Diagnosis list) {
        AllocationFailure failure = e.allocationFailure();
        boolean slab = a.cause == Cause.SLAB_ALLOCATION_FAILURE;
        if (!failure.report().isEmpty()) {
            list.addEvidence("printk.allocation_failure", failure.report(), 1, 0, "printed");
        } else if (slab && (e.evidence() & EventLayout.EV_SLAB_OOM) != 0 && !failure.injected()) {
            list.addEvidence("slab_out_of_memory", e.slabCache(), 1, 0, "printed");
        } else if (!slab && !failure.injected()) {
            list.addEvidence("printk.page_allocation_failure", "page allocator", 1, 0, "printed");
        }
        if (slab && !e.slabCache().isEmpty()) {
            list.addEvidence("slab.cache", e.slabCache(), 1, 0, "failed");
        }
        if (failure.order() >= 0) {
            list.addEvidence("alloc.order", "pages of 2^order", failure.order(), 0, "requested");
        }
        if (failure.gfp() >= 0) {
            list.addEvidence("alloc.gfp", failure.gfpNames(), failure.gfp(), 0, "requested");
        }
        if (failure.injected()) {
            list.addEvidence("fault_injection", failure.injector(), 1, 0, "injected");
        }
        int order = Math.max(0, failure.order());
        for (MemoryZones.Zone zone : enrichment.zones()) {
            list.addEvidence("zone.free_pages", zone.label() + " (watermarks min " + zone.minPages() + ", low "
                    + zone.lowPages() + ", high " + zone.highPages() + " pages)", zone.freePages(), zone.minPages(),
                    zone.watermarkRelation());
            long blocks = zone.freeBlocksAtLeast(order);
            if (blocks >= 0 && order > 0) {
                list.addEvidence("buddyinfo.free_blocks", zone.label() + " of order >= " + order, blocks, order,
                        blocks > 0 ? "available" : "none");
            }
        }
    }

    /** Loads the container classes before the first failure needs them (the enrichment stage indexes the rest). */
    void warmUp() {
        if (containers != null) { // loads the container classes without asking the runtime index about a fake id
            String path = "/kubepods/burstable/pod00000000-0000-4000-8000-000000000000/docker-" + "0".repeat(64) + ".scope";
            Container fake = ContainerRuntimes.build(dev.forktrace.containers.CgroupIdentity.parse(path), null);
            Messages.class.getName();
            dev.forktrace.containers.Containers.describe(fake);
            LimitKnobs.pidsLimit(path, fake, null, 1);
            LimitKnobs.rlimitNproc(1, path, fake, 0);
        }
    }

    private List<Offender> offenders(RawEvent e, Attribution a, boolean byMemory) {
        return switch (a.scopeKind) {
            case CGROUP -> a.scopeLevel >= 0 ? enrichment.offenders(ScopeKind.CGROUP, e.pidsCgroupId(a.scopeLevel), false) : List.of();
            case MEMCG -> e.memcgId() != 0 ? enrichment.offenders(ScopeKind.MEMCG, e.memcgId(), true) : List.of();
            case USER -> enrichment.offenders(ScopeKind.USER, e.uid(), false);
            case PID_NAMESPACE -> enrichment.offenders(ScopeKind.PID_NAMESPACE, e.pidNamespaceInum(a.scopeLevel),
                    e.pidNamespaceLevel(a.scopeLevel) == 0);
            case SYSTEM -> enrichment.offenders(ScopeKind.SYSTEM, 0, byMemory);
            default -> List.of();
        };
    }

    /** "uid 1000 (alice)" as the enrichment stage last read /etc/passwd (the same instance each time). */
    private String user(int uid) {
        return enrichment.user(uid);
    }

    /** A comm string kept while the kernel's 16 bytes stay the same (a storm is one process failing again). */
    private static final class CommMemo {
        private final long field;
        private long low = -1;
        private long high = -1;
        private String value;

        CommMemo(long field) {
            this.field = field;
        }

        String of(RawEvent e) {
            long l = e.word(field);
            long h = e.word(field + 8);
            if (value == null || l != low || h != high) {
                value = field == EventLayout.COMM ? e.comm() : e.processComm();
                low = l;
                high = h;
            }
            return value;
        }
    }

    /** The last knob sentence and what it was made from (LimitKnobs is pure). */
    private static final class KnobMemo {
        private String path;
        private Container container;
        private long limit;
        private int uid;
        private boolean set;
        String knob;

        boolean matches(String path, Container container, long limit, int uid) {
            return set && java.util.Objects.equals(this.path, path) && this.container == container && this.limit == limit
                    && this.uid == uid;
        }

        String keep(String path, Container container, long limit, int uid, String knob) {
            this.path = path;
            this.container = container;
            this.limit = limit;
            this.uid = uid;
            this.knob = knob;
            set = true;
            return knob;
        }
    }

    /**
     * The last explanation and everything Messages reads to make it, except for the allocation causes, whose
     * sentence comes from the evidence rows (rare, and built each time). Strings are compared by value,
     * messages (containers, the offender list) by identity: the caches hand out the same instances.
     */
    private static final class MessageMemo {
        private Cause cause;
        private String errno;
        private boolean misleading;
        private String scopeName;
        private long limit;
        private long current;
        private String knob;
        private Container scopeContainer;
        private List<Offender> offenders;
        private String ranking;
        private String message;

        String explain(Diagnosis d, boolean errnoMisleading) {
            boolean fromEvidence = d.cause == Cause.SLAB_ALLOCATION_FAILURE || d.cause == Cause.PAGE_ALLOCATION_FAILURE;
            if (!fromEvidence && message != null && cause == d.cause && misleading == errnoMisleading
                    && limit == d.scopeLimit && current == d.scopeCurrent && scopeContainer == d.scopeContainer
                    && offenders == d.offenders && errno.equals(d.errno) && scopeName.equals(d.scopeName)
                    && knob.equals(d.scopeKnob) && ranking.equals(d.offenderRanking)) {
                return message;
            }
            String made = Messages.explain(d, errnoMisleading);
            if (!fromEvidence) {
                cause = d.cause;
                errno = d.errno;
                misleading = errnoMisleading;
                scopeName = d.scopeName;
                limit = d.scopeLimit;
                current = d.scopeCurrent;
                knob = d.scopeKnob;
                scopeContainer = d.scopeContainer;
                offenders = d.offenders;
                ranking = d.offenderRanking;
                message = made;
            }
            return made;
        }
    }
}
