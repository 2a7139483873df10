package dev.forktrace.pipeline;

import com.google.protobuf.Timestamp;
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
import dev.forktrace.proto.v1.Evidence;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.JavaContext;
import dev.forktrace.proto.v1.KernelSnapshot;
import dev.forktrace.proto.v1.MemcgState;
import dev.forktrace.proto.v1.Offender;
import dev.forktrace.proto.v1.PidNamespaceLevel;
import dev.forktrace.proto.v1.PidsCgroupLevel;
import dev.forktrace.proto.v1.Scope;
import dev.forktrace.proto.v1.ScopeKind;
import dev.forktrace.proto.v1.Syscall;
import dev.forktrace.proto.v1.Tier;
import dev.forktrace.system.CgroupPaths;
import dev.forktrace.system.CgroupPaths.Hierarchy;
import dev.forktrace.system.ProcessInspector;
import java.nio.file.Path;
import java.util.List;

/**
 * Turns a kernel record plus its attribution into the public ForkFailure message: names for ids,
 * the evidence, the offenders and the one-sentence explanation. Runs only for events that are written.
 */
public final class FailureAssembler {
    /** The kernel counts memcg and page_counter charges in pages of its own size (16K or 64K on some arm64 builds). */
    private static final long PAGE = Libc.pageSize();
    private final CgroupPaths cgroups;
    private final ProcessInspector processes;
    private final long wallMinusMonotonicNanos;
    private final ContainerRuntimes containers; // null: no container identity

    public FailureAssembler(CgroupPaths cgroups, ProcessInspector processes, long wallMinusMonotonicNanos) {
        this(cgroups, processes, wallMinusMonotonicNanos, null);
    }

    public FailureAssembler(CgroupPaths cgroups, ProcessInspector processes, long wallMinusMonotonicNanos,
            ContainerRuntimes containers) {
        this.cgroups = cgroups;
        this.processes = processes;
        this.wallMinusMonotonicNanos = wallMinusMonotonicNanos;
        this.containers = containers;
        if (containers != null) {
            processes.identifyContainers(containers::forPath);
        }
    }

    public ForkFailure assemble(long sequence, RawEvent e, Attribution a, SystemState system) {
        // Offenders first: they are read from /proc, and the holder of a limit may exit any moment.
        boolean byMemory = isMemory(a.cause);
        List<Offender> offenders = offenders(e, a, byMemory);
        long wall = e.ktimeNanos() + wallMinusMonotonicNanos;
        long flags = e.cloneFlags();
        ForkFailure.Builder f = ForkFailure.newBuilder()
                .setSequence(sequence)
                .setTime(Timestamp.newBuilder().setSeconds(Math.floorDiv(wall, 1_000_000_000L))
                        .setNanos((int) Math.floorMod(wall, 1_000_000_000L)))
                .setKtimeNs(e.ktimeNanos())
                .setSyscall(syscall(e.syscall()))
                .setErrno(KernelNames.errnoName(e.errno()))
                .setErrnoValue(e.errno())
                .setPid(e.pid())
                .setTid(e.tid())
                .setPpid(e.ppid())
                .setUid(e.uid())
                .setComm(e.comm())
                .setProcessComm(e.processComm())
                .setCloneFlags(flags)
                .addAllCloneFlagNames(KernelNames.cloneFlagNames(flags))
                .setThread((flags & KernelNames.CLONE_THREAD) != 0)
                .setCgroupId(e.cgroupId())
                .setTier(tier(e.hookTier()))
                .setCause(a.cause)
                .setConfidence(a.confidence);
        if (e.pidNamespaceDepth() > 0) {
            f.setPidNamespaceInum((int) e.pidNamespaceInum(0)).setPidNamespaceLevel(e.pidNamespaceLevel(0));
        }
        KernelSnapshot snapshot = snapshot(e, system);
        f.setSnapshot(snapshot);
        Container container = failingContainer(e, snapshot);
        if (container != null) {
            f.setContainer(container);
        }
        int nsPid = e.nsTgid() != 0 ? e.nsTgid() : processes.nsPid(e.pid(), e.processComm());
        if (nsPid > 0) {
            f.setNsPid(nsPid);
        }
        Scope scope = scope(e, a, snapshot, system, container);
        f.setScope(scope);
        f.addAllEvidence(evidence(e, a, snapshot, system));
        f.addAllOffenders(offenders).setOffenderRanking(byMemory ? "memory" : "tasks");
        String javaMain = processes.javaMain(e.pid(), e.processComm());
        if (javaMain != null) {
            f.setJava(JavaContext.newBuilder().setThreadName(e.comm()).setMain(javaMain));
        }
        f.setMessage(Messages.explain(f, a));
        return f.build();
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

    private KernelSnapshot snapshot(RawEvent e, SystemState system) {
        KernelSnapshot.Builder s = KernelSnapshot.newBuilder()
                .setRlimitNproc(e.rlimitNproc())
                .setNprocCount(e.nprocCount())
                .setUserNsInum((int) e.userNamespaceInum())
                .setCapEffective(e.capEffective())
                .setAllocPidError(e.allocPidError())
                .setPidsCanForkError(e.pidsCanForkError())
                .setSlabCache(e.slabCache())
                .setPageCounterUsageBytes(e.pageCounterUsagePages() * PAGE)
                .setPageCounterMaxBytes(e.pageCounterMaxPages() * PAGE)
                .setThreadsMax(system.threadsMax())
                .setNrThreads(system.nrThreads())
                .setGlobalPidMax(system.globalPidMax())
                .setOvercommitMemory(system.overcommitMemory())
                .setCommittedAsBytes(system.committedAsBytes())
                .setCommitLimitBytes(system.commitLimitBytes());
        for (int i = 0; i < e.pidNamespaceDepth(); i++) {
            int raw = e.pidAllocatedRaw(i);
            s.addPidNamespaces(PidNamespaceLevel.newBuilder().setInum((int) e.pidNamespaceInum(i))
                    .setLevel(e.pidNamespaceLevel(i)).setPidsAllocated(raw & ~EventLayout.PIDNS_ADDING)
                    .setAccepting((raw & EventLayout.PIDNS_ADDING) != 0).setPidMax(e.pidMax(i)));
        }
        for (int i = 0; i < e.pidsCgroupDepth(); i++) {
            s.addPidsCgroups(PidsCgroupLevel.newBuilder().setCgroupId(e.pidsCgroupId(i))
                    .setPath(cgroups.describe(Hierarchy.PIDS, e.pidsCgroupId(i)))
                    .setCurrent(e.pidsCounter(i)).setLimit(e.pidsLimit(i))
                    .setEvents(e.pidsEvents(i)).setEventsAtEntry(e.pidsEventsAtEntry(i))
                    .setLimitHits(e.pidsLimitHits(i)).setLimitHitsAtEntry(e.pidsLimitHitsAtEntry(i)));
        }
        if (e.memcgId() != 0) {
            s.setMemcg(MemcgState.newBuilder().setCgroupId(e.memcgId())
                    .setPath(cgroups.describe(Hierarchy.MEMORY, e.memcgId()))
                    .setUsageBytes(e.memcgUsagePages() * PAGE).setMaxBytes(e.memcgMaxPages() * PAGE)
                    .setFailcnt(e.memcgFailcnt()).setEventsMax(e.memcgEventsMax())
                    .setEventsMaxAtEntry(e.memcgEventsMaxAtEntry()).setEventsOom(e.memcgEventsOom())
                    .setKmemUsageBytes(e.memcgKmemUsagePages() * PAGE).setKmemMaxBytes(e.memcgKmemMaxPages() * PAGE));
        }
        int evidence = e.evidence();
        for (int bit = 0; bit < EventLayout.EVIDENCE_NAMES.length; bit++) {
            if ((evidence & (1 << bit)) != 0) {
                s.addHooks(EventLayout.EVIDENCE_NAMES[bit]);
            }
        }
        return s.build();
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
    private Container failingContainer(RawEvent e, KernelSnapshot snapshot) {
        if (containers == null) {
            return null;
        }
        if (snapshot.getPidsCgroupsCount() > 0) {
            PidsCgroupLevel own = snapshot.getPidsCgroups(0);
            return containers.forCgroup(own.getCgroupId(), own.getPath());
        }
        if (snapshot.hasMemcg()) {
            return containers.forCgroup(snapshot.getMemcg().getCgroupId(), snapshot.getMemcg().getPath());
        }
        return e.cgroupId() == 0 ? null
                : containers.forCgroup(e.cgroupId(), cgroups.describe(Hierarchy.UNIFIED, e.cgroupId()));
    }

    private Scope scope(RawEvent e, Attribution a, KernelSnapshot snapshot, SystemState system, Container failing) {
        Scope.Builder scope = Scope.newBuilder().setKind(a.scopeKind).setLimit(a.limit).setCurrent(a.current);
        switch (a.scopeKind) {
            case CGROUP -> {
                boolean known = a.scopeLevel >= 0 && a.scopeLevel < snapshot.getPidsCgroupsCount();
                scope.setName(known ? snapshot.getPidsCgroups(a.scopeLevel).getPath() : "unknown cgroup");
                if (known) {
                    PidsCgroupLevel level = snapshot.getPidsCgroups(a.scopeLevel);
                    Container owner = containers == null ? null : containers.forCgroup(level.getCgroupId(), level.getPath());
                    if (owner != null && owner.getId().isEmpty() && failing != null
                            && owner.getPodUid().equals(failing.getPodUid())) { // a pod's cgroup: its names from the container
                        owner = owner.toBuilder().setPodNamespace(failing.getPodNamespace())
                                .setPodName(failing.getPodName()).setRuntime(failing.getRuntime()).build();
                    }
                    if (owner != null) {
                        scope.setContainer(owner);
                    }
                    Path mount = cgroups.mount(Hierarchy.PIDS);
                    scope.setKnob(LimitKnobs.pidsLimit(level.getPath(), owner, mount == null ? null : mount.toString(),
                            level.getLimit()));
                }
            }
            case USER -> {
                scope.setName(a.cause == Cause.NAMESPACE_LIMIT
                        ? namespaceLimitName(e) + "user namespace " + e.userNamespaceInum() + " of " + Users.describe(e.uid())
                        : Users.describe(e.uid()));
                if (a.cause == Cause.RLIMIT_NPROC) {
                    String ownPath = snapshot.getPidsCgroupsCount() > 0 ? snapshot.getPidsCgroups(0).getPath() : null;
                    scope.setKnob(LimitKnobs.rlimitNproc(e.rlimitNproc(), ownPath, failing, e.uid()));
                }
            }
            case PID_NAMESPACE -> scope.setName("pidns " + e.pidNamespaceInum(a.scopeLevel) + " level "
                    + e.pidNamespaceLevel(a.scopeLevel));
            case MEMCG -> {
                scope.setName(snapshot.getMemcg().getPath()).setLimit(a.limit * PAGE).setCurrent(a.current * PAGE);
                Container owner = containers == null ? null
                        : containers.forCgroup(snapshot.getMemcg().getCgroupId(), snapshot.getMemcg().getPath());
                if (owner != null) {
                    scope.setContainer(owner);
                }
            }
            case SYSTEM -> scope.setName(switch (a.cause) {
                case THREADS_MAX -> "kernel.threads-max";
                case OVERCOMMIT_LIMIT -> "vm.overcommit_memory=2 (CommitLimit)";
                case SLAB_ALLOCATION_FAILURE -> e.slabCache().isEmpty() ? "slab allocator" : "slab cache " + e.slabCache();
                case PAGE_ALLOCATION_FAILURE -> e.allocationFailure().order() >= 0
                        ? "page allocator (order " + e.allocationFailure().order() + ")" : "page allocator";
                default -> "system";
            });
            default -> { }
        }
        return scope.build();
    }

    private List<Evidence> evidence(RawEvent e, Attribution a, KernelSnapshot s, SystemState system) {
        EvidenceList list = new EvidenceList();
        list.add("errno", KernelNames.errnoName(e.errno()), e.errno(), 0, "returned");
        switch (a.cause) {
            case PIDS_CGROUP_LIMIT -> {
                for (PidsCgroupLevel level : s.getPidsCgroupsList()) {
                    if (level.getEvents() > level.getEventsAtEntry() && (e.evidence() & EventLayout.EV_ENTRY_SNAPSHOT) != 0) {
                        list.add("pids.events", level.getPath(), level.getEvents(), level.getEventsAtEntry(),
                                "increased_from");
                    }
                    if (level.getLimitHitsAtEntry() >= 0 && level.getLimitHits() > level.getLimitHitsAtEntry()
                            && (e.evidence() & EventLayout.EV_ENTRY_SNAPSHOT) != 0) {
                        list.add("pids.events.local.max", level.getPath(), level.getLimitHits(),
                                level.getLimitHitsAtEntry(), "increased_from");
                    }
                }
                if (a.scopeLevel >= 0 && a.scopeLevel < s.getPidsCgroupsCount()) {
                    PidsCgroupLevel level = s.getPidsCgroups(a.scopeLevel);
                    list.add("pids.current", level.getPath(), level.getCurrent(), level.getLimit(),
                            level.getCurrent() >= level.getLimit() ? "at_or_above_limit" : "below_limit");
                }
                if ((e.evidence() & EventLayout.EV_PIDS_CAN_FORK) != 0) {
                    list.add("hook.pids_can_fork", "copy_process", e.pidsCanForkError(), 0, "returned");
                }
                if ((e.evidence() & EventLayout.EV_PIDS_REJECT_MSG) != 0) {
                    list.add("printk.pids_reject", "cgroup: fork rejected by pids controller", 1, 0, "printed");
                }
            }
            case RLIMIT_NPROC -> {
                list.add("ucount.nproc", Users.describe(e.uid()), e.nprocCount(), e.rlimitNproc(), "at_or_above_limit");
                if ((e.evidence() & EventLayout.EV_RLIMIT_NPROC_OVER) != 0) {
                    list.add("hook.is_rlimit_overlimit", "UCOUNT_RLIMIT_NPROC", 1, 0, "returned");
                }
            }
            case THREADS_MAX -> list.add("nr_threads", "kernel.threads-max", system.nrThreads(), system.threadsMax(),
                    "at_or_above_limit");
            case PID_NAMESPACE_FULL, PID_NAMESPACE_DEAD -> {
                if (a.scopeLevel >= 0) {
                    PidNamespaceLevel ns = s.getPidNamespaces(a.scopeLevel);
                    String subject = "pidns " + ns.getInum() + " level " + ns.getLevel();
                    if (a.cause == Cause.PID_NAMESPACE_DEAD) {
                        list.add("pid_ns.pidns_adding", subject, 0, 1, "flag_clear");
                    } else {
                        list.add("pid_ns.pid_allocated", subject, ns.getPidsAllocated(), a.limit, "at_or_above_limit");
                    }
                }
                if ((e.evidence() & EventLayout.EV_ALLOC_PID) != 0) {
                    list.add("hook.alloc_pid", "copy_process", e.allocPidError(), 0, "returned");
                }
            }
            case MEMCG_LIMIT -> {
                MemcgState m = s.getMemcg();
                if (m.getEventsMax() > m.getEventsMaxAtEntry()) {
                    list.add("memcg.events.max", m.getPath(), m.getEventsMax(), m.getEventsMaxAtEntry(), "increased_from");
                }
                if (a.limit * PAGE == m.getKmemMaxBytes() && m.getKmemMaxBytes() > 0) {
                    list.add("memcg.kmem.usage_bytes", m.getPath(), m.getKmemUsageBytes(), m.getKmemMaxBytes(),
                            "within_fork_headroom_of_limit");
                } else {
                    list.add("memcg.usage_bytes", m.getPath(), m.getUsageBytes(), m.getMaxBytes(),
                            m.getUsageBytes() >= m.getMaxBytes() ? "at_or_above_limit" : "within_fork_headroom_of_limit");
                }
                if ((e.evidence() & EventLayout.EV_PAGE_COUNTER) != 0) {
                    list.add("hook.page_counter_try_charge", "failing counter", s.getPageCounterUsageBytes(),
                            s.getPageCounterMaxBytes(), "returned");
                }
            }
            case SLAB_ALLOCATION_FAILURE, PAGE_ALLOCATION_FAILURE -> allocationEvidence(e, a, list);
            case OVERCOMMIT_LIMIT -> {
                list.add("meminfo.committed_as", "vm.overcommit_memory=2", system.committedAsBytes(),
                        system.commitLimitBytes(), "compared_with_commit_limit");
                if ((e.evidence() & EventLayout.EV_OVERCOMMIT) != 0) {
                    list.add("kernel.__vm_enough_memory", "dup_mmap", -12 /* -ENOMEM */, 0, "returned");
                }
            }
            default -> { }
        }
        return list.build();
    }

    /**
     * The failed allocation: the kernel's own report line, the cache, the order and the GFP flags by
     * name, whether fault injection made it fail, and each zone's free pages against its watermarks.
     */
    private static void allocationEvidence(RawEvent e, Attribution a, EvidenceList list) {
        AllocationFailure failure = e.allocationFailure();
        boolean slab = a.cause == Cause.SLAB_ALLOCATION_FAILURE;
        if (!failure.report().isEmpty()) {
            list.add("printk.allocation_failure", failure.report(), 1, 0, "printed");
        } else if (slab && (e.evidence() & EventLayout.EV_SLAB_OOM) != 0 && !failure.injected()) {
            list.add("slab_out_of_memory", e.slabCache(), 1, 0, "printed");
        } else if (!slab && !failure.injected()) {
            list.add("printk.page_allocation_failure", "page allocator", 1, 0, "printed");
        }
        if (slab && !e.slabCache().isEmpty()) {
            list.add("slab.cache", e.slabCache(), 1, 0, "failed");
        }
        if (failure.order() >= 0) {
            list.add("alloc.order", "pages of 2^order", failure.order(), 0, "requested");
        }
        if (failure.gfp() >= 0) {
            list.add("alloc.gfp", failure.gfpNames(), failure.gfp(), 0, "requested");
        }
        if (failure.injected()) {
            list.add("fault_injection", failure.injector(), 1, 0, "injected");
        }
        int order = Math.max(0, failure.order());
        for (MemoryZones.Zone zone : readZones()) {
            list.add("zone.free_pages", zone.label() + " (watermarks min " + zone.minPages() + ", low "
                    + zone.lowPages() + ", high " + zone.highPages() + " pages)", zone.freePages(), zone.minPages(),
                    zone.watermarkRelation());
            long blocks = zone.freeBlocksAtLeast(order);
            if (blocks >= 0 && order > 0) {
                list.add("buddyinfo.free_blocks", zone.label() + " of order >= " + order, blocks, order,
                        blocks > 0 ? "available" : "none");
            }
        }
    }

    private static List<MemoryZones.Zone> readZones() {
        try {
            return MemoryZones.parse(java.nio.file.Files.readString(java.nio.file.Path.of("/proc/zoneinfo")),
                    java.nio.file.Files.readString(java.nio.file.Path.of("/proc/buddyinfo")));
        } catch (java.io.IOException | RuntimeException e) {
            return List.of(); // not readable here (a container without /proc/zoneinfo): no zone evidence
        }
    }

    /** Loads and exercises the /proc and cgroup scanning code before the first failure needs it. */
    void warmUp() {
        processes.onSystem(false);
        if (containers != null) { // loads the container classes without asking the runtime index about a fake id
            String path = "/kubepods/burstable/pod00000000-0000-4000-8000-000000000000/docker-" + "0".repeat(64) + ".scope";
            Container fake = ContainerRuntimes.build(dev.forktrace.containers.CgroupIdentity.parse(path), null);
            Messages.class.getName();
            dev.forktrace.containers.Containers.describe(fake);
            LimitKnobs.pidsLimit(path, fake, null, 1);
            LimitKnobs.rlimitNproc(1, path, fake, 0);
        }
        for (CgroupPaths.Hierarchy hierarchy : CgroupPaths.Hierarchy.values()) {
            if (cgroups.mount(hierarchy) != null) {
                cgroups.find(hierarchy, -1); // indexes the hierarchy once
            }
        }
    }

    private List<Offender> offenders(RawEvent e, Attribution a, boolean byMemory) {
        return switch (a.scopeKind) {
            case CGROUP -> {
                CgroupPaths.Cgroup cgroup = a.scopeLevel >= 0 ? cgroups.find(Hierarchy.PIDS, e.pidsCgroupId(a.scopeLevel)) : null;
                yield cgroup == null ? List.of() : processes.inCgroup(cgroup.directory(), false);
            }
            case MEMCG -> {
                CgroupPaths.Cgroup cgroup = cgroups.find(Hierarchy.MEMORY, e.memcgId());
                yield cgroup == null ? List.of() : processes.inCgroup(cgroup.directory(), true);
            }
            case USER -> processes.ofUser(e.uid());
            case PID_NAMESPACE -> processes.inPidNamespace(e.pidNamespaceInum(a.scopeLevel),
                    e.pidNamespaceLevel(a.scopeLevel) == 0);
            case SYSTEM -> processes.onSystem(byMemory);
            default -> List.of();
        };
    }

    /** Small builder for evidence rows. */
    private static final class EvidenceList {
        private final java.util.ArrayList<Evidence> rows = new java.util.ArrayList<>(4);

        void add(String key, String subject, long value, long comparedTo, String relation) {
            rows.add(Evidence.newBuilder().setKey(key).setSubject(subject).setValue(value).setComparedTo(comparedTo)
                    .setRelation(relation).build());
        }

        List<Evidence> build() {
            return rows;
        }
    }
}
