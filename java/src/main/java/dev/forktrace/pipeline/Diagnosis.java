package dev.forktrace.pipeline;

import com.google.protobuf.Timestamp;
import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.Confidence;
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
import java.util.List;

/**
 * One failure's diagnosis, everything a sink writes: the fields of the public ForkFailure message, held
 * flat (numbers, strings that the enrichment caches hand out as the same instances, and the cached
 * Container and Offender messages) so that producing one allocates nothing and encoders write their bytes
 * straight from it.
 *
 * <p>A flyweight: {@link FailureAssembler#diagnose} fills the consumer thread's one instance per event, and
 * the sinks read it before the next event. A consumer that keeps a failure (the Java API, JFR, Kafka, the
 * Java joiner) takes {@link #toForkFailure()}, an immutable copy. Read only: the setters are the
 * assembler's.
 */
public final class Diagnosis {
    long sequence;
    long timeSeconds;
    int timeNanos;
    long ktimeNs;
    Syscall syscall = Syscall.SYSCALL_UNSPECIFIED;
    String errno = "";
    int errnoValue;
    int pid;
    int tid;
    int ppid;
    int uid;
    String comm = "";
    String processComm = "";
    long cloneFlags;
    List<String> cloneFlagNames = List.of();
    boolean thread;
    long cgroupId;
    int pidNamespaceInum;
    int pidNamespaceLevel;
    Tier tier = Tier.TIER_UNSPECIFIED;
    Cause cause = Cause.CAUSE_UNSPECIFIED;
    Confidence confidence = Confidence.CONFIDENCE_UNSPECIFIED;

    // Evidence rows, in order.
    int evidenceCount;
    String[] evidenceKey = new String[8];
    String[] evidenceSubject = new String[8];
    long[] evidenceValue = new long[8];
    long[] evidenceComparedTo = new long[8];
    String[] evidenceRelation = new String[8];

    ScopeKind scopeKind = ScopeKind.SCOPE_KIND_UNSPECIFIED;
    String scopeName = "";
    long scopeLimit;
    long scopeCurrent;
    String scopeKnob = "";
    Container scopeContainer; // null: none

    List<Offender> offenders = List.of();
    String offenderRanking = "";
    String message = "";
    String javaMain; // null: not a JVM (no java context)
    Container container; // null: none
    int nsPid;

    // The kernel snapshot.
    int pidNamespaceCount;
    final int[] pidNamespaceInums = new int[dev.forktrace.bpf.EventLayout.PIDNS_LEVELS];
    final int[] pidNamespaceLevels = new int[dev.forktrace.bpf.EventLayout.PIDNS_LEVELS];
    final int[] pidsAllocated = new int[dev.forktrace.bpf.EventLayout.PIDNS_LEVELS];
    final boolean[] pidNamespaceAccepting = new boolean[dev.forktrace.bpf.EventLayout.PIDNS_LEVELS];
    final int[] pidMax = new int[dev.forktrace.bpf.EventLayout.PIDNS_LEVELS];
    int pidsCgroupCount;
    final long[] pidsCgroupIds = new long[dev.forktrace.bpf.EventLayout.CGROUP_LEVELS];
    final String[] pidsCgroupPaths = new String[dev.forktrace.bpf.EventLayout.CGROUP_LEVELS];
    final long[] pidsCurrent = new long[dev.forktrace.bpf.EventLayout.CGROUP_LEVELS];
    final long[] pidsLimit = new long[dev.forktrace.bpf.EventLayout.CGROUP_LEVELS];
    final long[] pidsEvents = new long[dev.forktrace.bpf.EventLayout.CGROUP_LEVELS];
    final long[] pidsEventsAtEntry = new long[dev.forktrace.bpf.EventLayout.CGROUP_LEVELS];
    final long[] pidsLimitHits = new long[dev.forktrace.bpf.EventLayout.CGROUP_LEVELS];
    final long[] pidsLimitHitsAtEntry = new long[dev.forktrace.bpf.EventLayout.CGROUP_LEVELS];
    long rlimitNproc;
    long nprocCount;
    int userNsInum;
    long capEffective;
    boolean hasMemcg;
    long memcgId;
    String memcgPath = "";
    long memcgUsageBytes;
    long memcgMaxBytes;
    long memcgFailcnt;
    long memcgEventsMax;
    long memcgEventsMaxAtEntry;
    long memcgEventsOom;
    long memcgKmemUsageBytes;
    long memcgKmemMaxBytes;
    /** The evidence bits of the record: snapshot.hooks names the set ones, in bit order. */
    int hookBits;
    int allocPidError;
    int pidsCanForkError;
    String slabCache = "";
    long pageCounterUsageBytes;
    long pageCounterMaxBytes;
    long threadsMax;
    long nrThreads;
    long globalPidMax;
    long overcommitMemory;
    long committedAsBytes;
    long commitLimitBytes;

    void addEvidence(String key, String subject, long value, long comparedTo, String relation) {
        if (evidenceCount == evidenceKey.length) {
            int n = evidenceCount * 2;
            evidenceKey = java.util.Arrays.copyOf(evidenceKey, n);
            evidenceSubject = java.util.Arrays.copyOf(evidenceSubject, n);
            evidenceValue = java.util.Arrays.copyOf(evidenceValue, n);
            evidenceComparedTo = java.util.Arrays.copyOf(evidenceComparedTo, n);
            evidenceRelation = java.util.Arrays.copyOf(evidenceRelation, n);
        }
        int i = evidenceCount++;
        evidenceKey[i] = key;
        evidenceSubject[i] = subject;
        evidenceValue[i] = value;
        evidenceComparedTo[i] = comparedTo;
        evidenceRelation[i] = relation;
    }

    public long sequence() { return sequence; }
    public long timeSeconds() { return timeSeconds; }
    public int timeNanos() { return timeNanos; }
    public long ktimeNs() { return ktimeNs; }
    public Syscall syscall() { return syscall; }
    public String errno() { return errno; }
    public int errnoValue() { return errnoValue; }
    public int pid() { return pid; }
    public int tid() { return tid; }
    public int ppid() { return ppid; }
    public int uid() { return uid; }
    public String comm() { return comm; }
    public String processComm() { return processComm; }
    public long cloneFlags() { return cloneFlags; }
    public List<String> cloneFlagNames() { return cloneFlagNames; }
    public boolean thread() { return thread; }
    public long cgroupId() { return cgroupId; }
    public int pidNamespaceInum() { return pidNamespaceInum; }
    public int pidNamespaceLevel() { return pidNamespaceLevel; }
    public Tier tier() { return tier; }
    public Cause cause() { return cause; }
    public Confidence confidence() { return confidence; }
    public int evidenceCount() { return evidenceCount; }
    public String evidenceKey(int i) { return evidenceKey[i]; }
    public String evidenceSubject(int i) { return evidenceSubject[i]; }
    public long evidenceValue(int i) { return evidenceValue[i]; }
    public long evidenceComparedTo(int i) { return evidenceComparedTo[i]; }
    public String evidenceRelation(int i) { return evidenceRelation[i]; }
    public ScopeKind scopeKind() { return scopeKind; }
    public String scopeName() { return scopeName; }
    public long scopeLimit() { return scopeLimit; }
    public long scopeCurrent() { return scopeCurrent; }
    public String scopeKnob() { return scopeKnob; }
    /** The scope's container, or null. */
    public Container scopeContainer() { return scopeContainer; }
    /** The ranked offenders, as the process inspector's cache holds them (the same list while it is fresh). */
    public List<Offender> offenders() { return offenders; }
    public String offenderRanking() { return offenderRanking; }
    public String message() { return message; }
    /** The JVM's main class or jar, or null when the failing process is not a JVM. */
    public String javaMain() { return javaMain; }
    /** The failing process's container, or null. */
    public Container container() { return container; }
    public int nsPid() { return nsPid; }
    public int pidNamespaceCount() { return pidNamespaceCount; }
    public int pidNamespaceInum(int i) { return pidNamespaceInums[i]; }
    public int pidNamespaceLevel(int i) { return pidNamespaceLevels[i]; }
    public int pidsAllocated(int i) { return pidsAllocated[i]; }
    public boolean pidNamespaceAccepting(int i) { return pidNamespaceAccepting[i]; }
    public int pidMax(int i) { return pidMax[i]; }
    public int pidsCgroupCount() { return pidsCgroupCount; }
    public long pidsCgroupId(int i) { return pidsCgroupIds[i]; }
    public String pidsCgroupPath(int i) { return pidsCgroupPaths[i]; }
    public long pidsCurrent(int i) { return pidsCurrent[i]; }
    public long pidsLimit(int i) { return pidsLimit[i]; }
    public long pidsEvents(int i) { return pidsEvents[i]; }
    public long pidsEventsAtEntry(int i) { return pidsEventsAtEntry[i]; }
    public long pidsLimitHits(int i) { return pidsLimitHits[i]; }
    public long pidsLimitHitsAtEntry(int i) { return pidsLimitHitsAtEntry[i]; }
    public long rlimitNproc() { return rlimitNproc; }
    public long nprocCount() { return nprocCount; }
    public int userNsInum() { return userNsInum; }
    public long capEffective() { return capEffective; }
    public boolean hasMemcg() { return hasMemcg; }
    public long memcgId() { return memcgId; }
    public String memcgPath() { return memcgPath; }
    public long memcgUsageBytes() { return memcgUsageBytes; }
    public long memcgMaxBytes() { return memcgMaxBytes; }
    public long memcgFailcnt() { return memcgFailcnt; }
    public long memcgEventsMax() { return memcgEventsMax; }
    public long memcgEventsMaxAtEntry() { return memcgEventsMaxAtEntry; }
    public long memcgEventsOom() { return memcgEventsOom; }
    public long memcgKmemUsageBytes() { return memcgKmemUsageBytes; }
    public long memcgKmemMaxBytes() { return memcgKmemMaxBytes; }
    /** Bits of EventLayout.EVIDENCE_NAMES: snapshot.hooks. */
    public int hookBits() { return hookBits; }
    public boolean hasHook(String name) {
        String[] names = dev.forktrace.bpf.EventLayout.EVIDENCE_NAMES;
        for (int bit = 0; bit < names.length; bit++) {
            if ((hookBits & (1 << bit)) != 0 && names[bit].equals(name)) {
                return true;
            }
        }
        return false;
    }
    public int allocPidError() { return allocPidError; }
    public int pidsCanForkError() { return pidsCanForkError; }
    public String slabCache() { return slabCache; }
    public long pageCounterUsageBytes() { return pageCounterUsageBytes; }
    public long pageCounterMaxBytes() { return pageCounterMaxBytes; }
    public long threadsMax() { return threadsMax; }
    public long nrThreads() { return nrThreads; }
    public long globalPidMax() { return globalPidMax; }
    public long overcommitMemory() { return overcommitMemory; }
    public long committedAsBytes() { return committedAsBytes; }
    public long commitLimitBytes() { return commitLimitBytes; }

    /** The diagnosis as the public message: an immutable copy for consumers that keep a failure. */
    public ForkFailure toForkFailure() {
        ForkFailure.Builder f = ForkFailure.newBuilder()
                .setSequence(sequence)
                .setTime(Timestamp.newBuilder().setSeconds(timeSeconds).setNanos(timeNanos))
                .setKtimeNs(ktimeNs)
                .setSyscall(syscall)
                .setErrno(errno)
                .setErrnoValue(errnoValue)
                .setPid(pid)
                .setTid(tid)
                .setPpid(ppid)
                .setUid(uid)
                .setComm(comm)
                .setProcessComm(processComm)
                .setCloneFlags(cloneFlags)
                .addAllCloneFlagNames(cloneFlagNames)
                .setThread(thread)
                .setCgroupId(cgroupId)
                .setPidNamespaceInum(pidNamespaceInum)
                .setPidNamespaceLevel(pidNamespaceLevel)
                .setTier(tier)
                .setCause(cause)
                .setConfidence(confidence);
        f.setSnapshot(snapshot());
        if (container != null) {
            f.setContainer(container);
        }
        f.setNsPid(nsPid);
        Scope.Builder scope = Scope.newBuilder().setKind(scopeKind).setName(scopeName).setLimit(scopeLimit)
                .setCurrent(scopeCurrent).setKnob(scopeKnob);
        if (scopeContainer != null) {
            scope.setContainer(scopeContainer);
        }
        f.setScope(scope);
        for (int i = 0; i < evidenceCount; i++) {
            f.addEvidence(Evidence.newBuilder().setKey(evidenceKey[i]).setSubject(evidenceSubject[i])
                    .setValue(evidenceValue[i]).setComparedTo(evidenceComparedTo[i]).setRelation(evidenceRelation[i]));
        }
        f.addAllOffenders(offenders).setOffenderRanking(offenderRanking);
        if (javaMain != null) {
            f.setJava(JavaContext.newBuilder().setThreadName(comm).setMain(javaMain));
        }
        f.setMessage(message);
        return f.build();
    }

    private KernelSnapshot snapshot() {
        KernelSnapshot.Builder s = KernelSnapshot.newBuilder()
                .setRlimitNproc(rlimitNproc)
                .setNprocCount(nprocCount)
                .setUserNsInum(userNsInum)
                .setCapEffective(capEffective)
                .setAllocPidError(allocPidError)
                .setPidsCanForkError(pidsCanForkError)
                .setSlabCache(slabCache)
                .setPageCounterUsageBytes(pageCounterUsageBytes)
                .setPageCounterMaxBytes(pageCounterMaxBytes)
                .setThreadsMax(threadsMax)
                .setNrThreads(nrThreads)
                .setGlobalPidMax(globalPidMax)
                .setOvercommitMemory(overcommitMemory)
                .setCommittedAsBytes(committedAsBytes)
                .setCommitLimitBytes(commitLimitBytes);
        for (int i = 0; i < pidNamespaceCount; i++) {
            s.addPidNamespaces(PidNamespaceLevel.newBuilder().setInum(pidNamespaceInums[i])
                    .setLevel(pidNamespaceLevels[i]).setPidsAllocated(pidsAllocated[i])
                    .setAccepting(pidNamespaceAccepting[i]).setPidMax(pidMax[i]));
        }
        for (int i = 0; i < pidsCgroupCount; i++) {
            s.addPidsCgroups(PidsCgroupLevel.newBuilder().setCgroupId(pidsCgroupIds[i]).setPath(pidsCgroupPaths[i])
                    .setCurrent(pidsCurrent[i]).setLimit(pidsLimit[i])
                    .setEvents(pidsEvents[i]).setEventsAtEntry(pidsEventsAtEntry[i])
                    .setLimitHits(pidsLimitHits[i]).setLimitHitsAtEntry(pidsLimitHitsAtEntry[i]));
        }
        if (hasMemcg) {
            s.setMemcg(MemcgState.newBuilder().setCgroupId(memcgId).setPath(memcgPath)
                    .setUsageBytes(memcgUsageBytes).setMaxBytes(memcgMaxBytes)
                    .setFailcnt(memcgFailcnt).setEventsMax(memcgEventsMax)
                    .setEventsMaxAtEntry(memcgEventsMaxAtEntry).setEventsOom(memcgEventsOom)
                    .setKmemUsageBytes(memcgKmemUsageBytes).setKmemMaxBytes(memcgKmemMaxBytes));
        }
        String[] names = dev.forktrace.bpf.EventLayout.EVIDENCE_NAMES;
        for (int bit = 0; bit < names.length; bit++) {
            if ((hookBits & (1 << bit)) != 0) {
                s.addHooks(names[bit]);
            }
        }
        return s.build();
    }
}
