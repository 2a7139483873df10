package dev.forktrace.pipeline;

import dev.forktrace.attribution.KernelNames;
import dev.forktrace.bpf.EventLayout;
import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.CauseCount;
import dev.forktrace.proto.v1.ErrnoCount;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.Stats;
import com.google.protobuf.Timestamp;
import java.io.PrintStream;
import java.time.Instant;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

/** Running totals for the periodic Stats message and the summary printed at exit. */
public final class Summary {
    private static final int MAX_PROCESSES = 10_000; // bound memory when every failure is a new process
    private static final Cause[] CAUSES = Cause.values();
    private final long[] byCause = new long[CAUSES.length]; // by ordinal: counting boxes nothing
    private final Map<CauseAndScope, long[]> byCauseAndScope = new HashMap<>();
    private final Map<Process, long[]> byProcess = new HashMap<>();
    private long otherProcesses;
    private long delivered;
    private final SignatureTally signatures = new SignatureTally();

    // Keys are records and counts are mutable cells: a storm records thousands of failures a second
    // and should not build two strings and box a Long for each.
    private record CauseAndScope(Cause cause, dev.forktrace.proto.v1.ScopeKind kind, String scope) {
        @Override
        public String toString() {
            return cause + " " + kind + " " + scope;
        }
    }

    private record Process(String comm, int pid) {
        @Override
        public String toString() {
            return comm + " (pid " + pid + ")";
        }
    }

    // The previous failure's cells: a storm repeats one cause, scope and process, found here without a key.
    private CauseAndScope lastScope;
    private long[] lastScopeCount;
    private Process lastProcess;
    private long[] lastProcessCount;

    /** Counts a delivered failure; in a storm of one cause, scope and process this allocates nothing. */
    public void record(Diagnosis d) {
        delivered++;
        byCause[d.cause().ordinal()]++;
        CauseAndScope last = lastScope;
        if (last == null || last.cause != d.cause() || last.kind != d.scopeKind() || !last.scope.equals(d.scopeName())) {
            lastScope = last = new CauseAndScope(d.cause(), d.scopeKind(), d.scopeName());
            lastScopeCount = byCauseAndScope.get(last);
            if (lastScopeCount == null && byCauseAndScope.size() < MAX_PROCESSES) {
                byCauseAndScope.put(last, lastScopeCount = new long[1]);
            }
        }
        if (lastScopeCount != null) {
            lastScopeCount[0]++;
        }
        Process process = lastProcess;
        if (process == null || process.pid != d.pid() || !process.comm.equals(d.processComm())) {
            lastProcess = process = new Process(d.processComm(), d.pid());
            lastProcessCount = byProcess.get(process);
            if (lastProcessCount == null && byProcess.size() < MAX_PROCESSES) {
                byProcess.put(process, lastProcessCount = new long[1]);
            }
        }
        if (lastProcessCount != null) {
            lastProcessCount[0]++;
        } else {
            otherProcesses++;
        }
    }

    public void record(ForkFailure f) {
        delivered++;
        byCause[f.getCause().ordinal()]++;
        CauseAndScope scope = new CauseAndScope(f.getCause(), f.getScope().getKind(), f.getScope().getName());
        long[] count = byCauseAndScope.get(scope);
        if (count == null && byCauseAndScope.size() < MAX_PROCESSES) {
            byCauseAndScope.put(scope, count = new long[1]);
        }
        if (count != null) {
            count[0]++;
        }
        Process process = new Process(f.getProcessComm(), f.getPid());
        count = byProcess.get(process);
        if (count == null && byProcess.size() < MAX_PROCESSES) {
            byProcess.put(process, count = new long[1]);
        }
        if (count != null) {
            count[0]++;
        } else {
            otherProcesses++;
        }
    }

    public long delivered() {
        return delivered;
    }

    /** Exact counts per cause and scope: delivered plus counted in the kernel by signature. */
    public SignatureTally signatures() {
        return signatures;
    }

    /** Stats message from kernel counters (EventLayout.CNT_*) and what was delivered. */
    public Stats stats(long[] counters, long collapsed, boolean last) {
        Instant now = Instant.now();
        Stats.Builder stats = Stats.newBuilder()
                .setTime(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()))
                .setDropped(counters[EventLayout.CNT_DROPPED])
                .setDelivered(delivered)
                .setCollapsed(collapsed)
                .setFinal(last);
        for (int errno = 1; errno < EventLayout.ERRNO_SLOTS; errno++) {
            long count = counters[EventLayout.CNT_ERRNO_BASE + errno];
            if (count > 0) {
                stats.addKernelErrnoCounts(ErrnoCount.newBuilder().setErrno(KernelNames.errnoName(errno)).setCount(count));
            }
        }
        long beyond = counters[EventLayout.CNT_ERRNO_BASE];
        if (beyond > 0) {
            stats.addKernelErrnoCounts(ErrnoCount.newBuilder().setErrno("E" + EventLayout.ERRNO_SLOTS + "+").setCount(beyond));
        }
        for (Cause cause : CAUSES) { // in enum order, as the EnumMap this replaced
            if (byCause[cause.ordinal()] > 0) {
                stats.addCauseCounts(CauseCount.newBuilder().setCause(cause).setCount(byCause[cause.ordinal()]));
            }
        }
        stats.addAllCauseScopeCounts(signatures.rows())
                .setAggregated(signatures.aggregated())
                .setSignatureOverflow(counters[EventLayout.CNT_SIGNATURE_OVERFLOW]);
        return stats.build();
    }

    /** The human summary at exit. */
    public void print(PrintStream out, long[] counters, long malformed) {
        long failures = 0;
        StringBuilder errnos = new StringBuilder();
        for (int errno = 0; errno < EventLayout.ERRNO_SLOTS; errno++) {
            long count = counters[EventLayout.CNT_ERRNO_BASE + errno];
            if (count > 0) {
                failures += count;
                errnos.append(errnos.isEmpty() ? "" : ", ")
                        .append(errno == 0 ? "E" + EventLayout.ERRNO_SLOTS + "+" : KernelNames.errnoName(errno))
                        .append(' ').append(count);
            }
        }
        out.printf("forktrace: summary: %d failed task creations (kernel count)%s%n", failures,
                errnos.isEmpty() ? "" : ": " + errnos);
        if (counters[EventLayout.CNT_FILTERED] > 0) {
            out.printf("forktrace:   %d more failures on this machine were outside the filter%n",
                    counters[EventLayout.CNT_FILTERED]);
        }
        out.printf("forktrace:   delivered %d, dropped %d (ring buffer full)%s, restarts ignored %d%n", delivered,
                counters[EventLayout.CNT_DROPPED], malformed > 0 ? ", malformed " + malformed : "",
                counters[EventLayout.CNT_RESTARTS]);
        if (counters[EventLayout.CNT_TREE_FULL] > 0) {
            out.printf("forktrace:   %d descendant process(es) could not be tracked (the process-tree map was full): "
                    + "their failures are missing%n", counters[EventLayout.CNT_TREE_FULL]);
        }
        if (counters[EventLayout.CNT_CLONE3_ENOSYS] > 0) {
            out.printf("forktrace:   %d clone3 calls answered ENOSYS (a seccomp profile): not failures, the caller retries with clone%n",
                    counters[EventLayout.CNT_CLONE3_ENOSYS]);
        }
        if (counters[EventLayout.CNT_DROPPED] > 0) {
            out.printf("forktrace:   exact by cause and scope (%d of the dropped counted in the kernel by signature%s):%n",
                    signatures.aggregated(), counters[EventLayout.CNT_SIGNATURE_OVERFLOW] > 0
                            ? ", " + counters[EventLayout.CNT_SIGNATURE_OVERFLOW] + " by errno only (signature table full)" : "");
            signatures.rows().stream().limit(10)
                    .forEach(row -> out.println("forktrace:     " + SignatureTally.describe(row)));
        }
        top(out, "by cause and scope", byCauseAndScope);
        top(out, "by process", byProcess);
        if (otherProcesses > 0) {
            out.printf("forktrace:     (%d failures of further processes not itemised)%n", otherProcesses);
        }
    }

    private static void top(PrintStream out, String title, Map<?, long[]> counts) {
        if (counts.isEmpty()) {
            return;
        }
        out.println("forktrace:   " + title + ":");
        counts.entrySet().stream()
                .map(e -> Map.entry(e.getKey().toString(), e.getValue()[0]))
                .sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder()).thenComparing(Map.Entry.comparingByKey()))
                .limit(10)
                .forEach(e -> out.printf("forktrace:     %8d  %s%n", e.getValue(), e.getKey()));
    }
}
