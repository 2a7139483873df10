package dev.forktrace.pipeline;

import dev.forktrace.attribution.KernelNames;
import dev.forktrace.bpf.EventLayout;
import dev.forktrace.pipeline.Tally.CauseScope;
import dev.forktrace.pipeline.Tally.Process;
import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.CauseCount;
import dev.forktrace.proto.v1.ErrnoCount;
import dev.forktrace.proto.v1.Stats;
import com.google.protobuf.Timestamp;
import java.io.PrintStream;
import java.time.Instant;

/** Running totals for the periodic Stats message and the summary printed at exit. */
public final class Summary {
    static final int MAX_KEYS = 10_000; // bound memory when every failure is a new process or scope
    private static final Cause[] CAUSES = Cause.values();
    private final long[] byCause = new long[CAUSES.length]; // by ordinal: counting boxes nothing
    private final Tally<CauseScope, Tally.Counter> byCauseAndScope = Tally.counting(MAX_KEYS, Tally.BY_NAME);
    private final Tally<Process, Tally.Counter> byProcess = Tally.counting(MAX_KEYS, Tally.BY_NAME);
    private long delivered;
    private final SignatureTally signatures = new SignatureTally();

    // The previous failure's counters: a storm repeats one cause, scope and process, found here without a key.
    private CauseScope lastScope;
    private Tally.Counter lastScopeCount;
    private Process lastProcess;
    private Tally.Counter lastProcessCount;

    /** Counts a delivered failure; in a storm of one cause, scope and process this allocates nothing. */
    public void record(Diagnosis d) {
        delivered++;
        byCause[d.cause().ordinal()]++;
        CauseScope scope = lastScope;
        if (scope == null || !scope.is(d.cause(), d.scopeKind(), d.scopeName())) {
            lastScope = scope = new CauseScope(d.cause(), d.scopeKind(), d.scopeName());
            lastScopeCount = byCauseAndScope.counter(scope);
        }
        lastScopeCount.add();
        Process process = lastProcess;
        if (process == null || !process.is(d.processComm(), d.pid())) {
            lastProcess = process = new Process(d.processComm(), d.pid());
            lastProcessCount = byProcess.counter(process);
        }
        lastProcessCount.add();
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
        top(out, "by cause and scope", byCauseAndScope, "causes and scopes");
        top(out, "by process", byProcess, "processes");
    }

    private static void top(PrintStream out, String title, Tally<?, ?> counts, String furtherKeys) {
        if (counts.isEmpty()) {
            return;
        }
        out.println("forktrace:   " + title + ":");
        counts.top(10).forEach(row -> out.printf("forktrace:     %8d  %s%n", row.counter().count(), row.key()));
        if (counts.others().count() > 0) {
            out.printf("forktrace:     (%d failures of further %s not itemised)%n", counts.others().count(), furtherKeys);
        }
    }
}
