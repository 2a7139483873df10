package dev.forktrace.pipeline;

import dev.forktrace.agentlink.JavaJoiner;
import dev.forktrace.bpf.EventLayout;
import dev.forktrace.containers.ContainerRuntimes;
import dev.forktrace.bpf.Libc;
import dev.forktrace.bpf.ProbeSession;
import dev.forktrace.output.FailureSink;
import dev.forktrace.proto.v1.Stats;
import dev.forktrace.system.CgroupPaths;
import dev.forktrace.system.ProcessInspector;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.time.Instant;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * One capture: an attached session, the per-event pipeline and the sinks, driven by a poll loop that
 * drains the ring whenever the kernel wakes it and emits Stats at least once a second. Used by the
 * watch and run commands and by the Java API.
 */
public final class Capture {
    private static final long STATS_INTERVAL_NANOS = 1_000_000_000L;
    private ProbeSession session;
    private final List<FailureSink> sinks;
    private final LongSupplier collapsed;
    private final Summary summary = new Summary();
    private final EventProcessor processor;
    private final Enrichment enrichment;
    private final long[] counters = new long[EventLayout.CNT_SLOTS];
    private JavaJoiner joiner;
    private volatile long rounds; // poll-loop iterations completed, for flush() on other threads
    private volatile boolean holding; // the joiner holds failures for reports (written within its hold time)
    private LongSupplier undeliverable = () -> 0;
    private final ContainerRuntimes containers;
    private dev.forktrace.limits.HeadroomMonitor headroom;

    /** @param collapsed how many failures the sinks folded into earlier ones (for Stats), or () -> 0 */
    public Capture(ProbeSession session, CgroupPaths cgroups, List<FailureSink> sinks, LongSupplier collapsed) {
        this(cgroups, sinks, collapsed);
        bind(session);
    }

    /**
     * A warmed-up pipeline not yet bound to a session: it can be built on another thread while the BPF
     * programs load, which takes the warm-up off the time to the attached line.
     */
    public Capture(CgroupPaths cgroups, List<FailureSink> sinks, LongSupplier collapsed) {
        this(cgroups, sinks, collapsed, null);
    }

    /** @param containers the runtime index to name containers from; null: one is made and started here */
    public Capture(CgroupPaths cgroups, List<FailureSink> sinks, LongSupplier collapsed, ContainerRuntimes containers) {
        this.containers = containers != null ? containers : ContainerRuntimes.forThisMachine().start();
        this.sinks = sinks;
        this.collapsed = collapsed;
        long wallMinusMonotonic = Instant.now().toEpochMilli() * 1_000_000L - Libc.monotonicNanos();
        // The stages: ring drain (run) -> decode and attribute -> enrichment, read from snapshots its own
        // thread keeps fresh -> the failure -> sinks. watch, run and the Java API differ only in their sinks.
        ProcessInspector processes = new ProcessInspector(java.nio.file.Path.of("/proc"), 0);
        processes.identifyContainers(this.containers::forPath);
        this.enrichment = new Enrichment(cgroups, processes).start();
        this.containers.onRefresh(enrichment::publishedElsewhere); // a failure held for a container's name may go
        this.processor = new EventProcessor(new FailureAssembler(enrichment, wallMinusMonotonic, this.containers), sinks,
                summary);
        processor.warmUp();
    }

    /** The session whose ring and counters run() reads; once, before run(). */
    public void bind(ProbeSession session) {
        if (this.session != null) {
            throw new IllegalStateException("capture already bound to a session");
        }
        this.session = session;
        this.cgroupMovesCounted = session.hooks().stream()
                .anyMatch(h -> h.point() == dev.forktrace.bpf.HookPoint.CGROUP_MOVES && h.attached());
    }

    /** Joins the Java agent's reports into the failures (call before {@link #run}). */
    public void joinJavaReports(JavaJoiner joiner) {
        this.joiner = joiner;
        processor.joinJavaReports(joiner);
    }

    /**
     * Where Stats.undeliverable comes from: records a network sink (watch --kafka) lost so far. Every sink's
     * Stats carry it, so a .pb file and the metrics say what its Kafka copy is missing.
     */
    public void countUndeliverable(LongSupplier undeliverable) {
        this.undeliverable = undeliverable;
    }

    private Stats withUndeliverable(Stats stats) {
        long lost = undeliverable.getAsLong();
        return lost == 0 ? stats : stats.toBuilder().setUndeliverable(lost).build();
    }

    /** Hands the monitor's headroom warnings to the sinks, in stream order with the failures (call before {@link #run}). */
    public void watchHeadroom(dev.forktrace.limits.HeadroomMonitor monitor) {
        this.headroom = monitor;
    }

    /** Warnings queued by the sampling thread go out before the failures drained after them. */
    private void deliverHeadroom() {
        if (headroom != null) {
            headroom.drainTo(processor.outputs()::headroom);
        }
    }

    /**
     * Runs until keepGoing is false, the deadline (System.nanoTime) passes or every sink has failed, then
     * delivers what is left.
     */
    public void run(BooleanSupplier keepGoing, long deadlineNanos) throws IOException {
        var ring = session.ringBuffer();
        processor.trainJit(); // after attach: a failure meanwhile waits in the ring, rather than every start waiting
        long nextStats = System.nanoTime() + STATS_INTERVAL_NANOS;
        while (keepGoing.getAsBoolean() && System.nanoTime() < deadlineNanos && !processor.outputs().allFailed()) {
            long waitMillis = Math.min(250, Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000));
            if (joiner != null && joiner.busy()) {
                waitMillis = Math.min(waitMillis, 10); // a held failure is written soon after its report
            }
            if (processor.holding()) {
                waitMillis = 1; // an event waits for its enrichment, which the enrichment thread reads now
            }
            boolean ready = ring.await((int) waitMillis);
            deliverHeadroom();
            if (ready) {
                ring.drain(processor);
            }
            processor.releaseHeld(); // the failures whose enrichment is in, to the joiner too
            if (joiner != null && !processor.holding()) {
                // Reports wait in the joiner's inbox while failures wait for their enrichment (a bounded
                // while): polled now, a report could time out before its failure reached the joiner.
                joiner.poll(processor::deliver);
            }
            processor.endOfBatch();
            holding = joiner != null && joiner.busy() || processor.holding();
            rounds++;
            if (System.nanoTime() >= nextStats) {
                nextStats = System.nanoTime() + STATS_INTERVAL_NANOS;
                session.readCounters(counters);
                if (cgroupMovesCounted) {
                    cgroupMoves = counters[EventLayout.CNT_CGROUP_MOVES];
                }
                readSignatures();
                emit(withUndeliverable(summary.stats(counters, collapsed.getAsLong(), false)));
            }
        }
        ring.drain(processor); // what arrived before the stop is delivered, not lost
        processor.flushHeld();
        processor.endOfBatch();
    }

    private volatile long cgroupMoves = -1;
    private boolean cgroupMovesCounted;

    /**
     * Tasks moved between cgroups since attach, as of the last Stats (up to a second old, and never ahead of
     * the kernel's count); -1 when the kernel's move tracepoint is not attached. Any thread.
     */
    public long cgroupMoves() {
        return cgroupMoves;
    }

    /** Loop iterations completed so far: one that starts after a call has seen everything then in the ring. */
    public long rounds() {
        return rounds;
    }

    /** Whether, at the end of the last iteration, failures were held for a Java agent's report. */
    public boolean holding() {
        return holding;
    }

    /** Final Stats to every sink, then closes them. */
    public void finish() throws IOException {
        deliverHeadroom();
        ring().drain(processor);
        processor.flushHeld();
        if (joiner != null) {
            joiner.flush(processor::deliver);
        }
        enrichment.close();
        session.readCounters(counters);
        readSignatures();
        containers.close();
        processor.outputs().finish(withUndeliverable(summary.stats(counters, collapsed.getAsLong(), true)));
    }

    private long aggregatedRead;
    private long[] signatureCounts;
    private final MemorySegment[] signatureKeys = new MemorySegment[1];

    /** Folds the kernel's per-signature counts of dropped failures into the tally (when they moved). */
    private void readSignatures() {
        if (counters[EventLayout.CNT_AGGREGATED] == aggregatedRead) {
            return;
        }
        aggregatedRead = counters[EventLayout.CNT_AGGREGATED];
        if (signatureCounts == null) {
            signatureCounts = new long[EventLayout.SIGNATURE_SLOTS];
        }
        int n = session.readSignatures(signatureCounts, signatureKeys);
        Signature[] keys = new Signature[n];
        for (int i = 0; i < n; i++) {
            keys[i] = new Signature().read(signatureKeys[0], i * EventLayout.SIGNATURE.byteSize());
        }
        summary.signatures().kernelCounts(keys, signatureCounts, n, processor::attributeAlone);
    }

    /** The sinks and which of them failed (a failed sink does not end the capture; see {@link Outputs}). */
    public Outputs outputs() {
        return processor.outputs();
    }

    private dev.forktrace.bpf.RingBuffer ring() {
        return session.ringBuffer();
    }

    private void emit(Stats stats) {
        processor.outputs().stats(stats);
    }

    public void printSummary(PrintStream out) {
        summary.print(out, counters, processor.malformed());
        if (processor.late() > 0) { // said, since their offenders or names are missing
            out.println("forktrace: " + processor.late() + " failures were written without some of their enrichment"
                    + " (offenders, cgroup paths or process facts not read within "
                    + EventProcessor.HOLD_NANOS / 1_000_000 + " ms)");
        }
    }

    /** Kernel counters as last read (EventLayout.CNT_*). */
    public long[] counters() {
        return counters.clone();
    }

    public Summary summary() {
        return summary;
    }
}
