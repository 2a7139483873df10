package dev.forktrace.pipeline;

import dev.forktrace.agentlink.JavaJoiner;
import dev.forktrace.bpf.EventLayout;
import dev.forktrace.bpf.Libc;
import dev.forktrace.bpf.ProbeSession;
import dev.forktrace.output.FailureSink;
import dev.forktrace.proto.v1.Stats;
import dev.forktrace.system.CgroupPaths;
import dev.forktrace.system.ProcessInspector;
import dev.forktrace.system.SystemStateReader;
import java.io.IOException;
import java.io.PrintStream;
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
    private final long[] counters = new long[EventLayout.CNT_SLOTS];
    private JavaJoiner joiner;
    private LongSupplier undeliverable = () -> 0;

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
        this.sinks = sinks;
        this.collapsed = collapsed;
        long wallMinusMonotonic = Instant.now().toEpochMilli() * 1_000_000L - Libc.monotonicNanos();
        this.processor = new EventProcessor(new SystemStateReader(),
                new FailureAssembler(cgroups, new ProcessInspector(), wallMinusMonotonic), sinks, summary);
        processor.warmUp();
    }

    /** The session whose ring and counters run() reads; once, before run(). */
    public void bind(ProbeSession session) {
        if (this.session != null) {
            throw new IllegalStateException("capture already bound to a session");
        }
        this.session = session;
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

    /**
     * Runs until keepGoing is false, the deadline (System.nanoTime) passes or every sink has failed, then
     * delivers what is left.
     */
    public void run(BooleanSupplier keepGoing, long deadlineNanos) throws IOException {
        var ring = session.ringBuffer();
        long nextStats = System.nanoTime() + STATS_INTERVAL_NANOS;
        while (keepGoing.getAsBoolean() && System.nanoTime() < deadlineNanos && !processor.outputs().allFailed()) {
            long waitMillis = Math.min(250, Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000));
            if (joiner != null && joiner.busy()) {
                waitMillis = Math.min(waitMillis, 10); // a held failure is written soon after its report
            }
            if (ring.await((int) waitMillis)) {
                ring.drain(processor);
            }
            if (joiner != null) {
                joiner.poll(processor::deliver);
            }
            processor.endOfBatch();
            if (System.nanoTime() >= nextStats) {
                nextStats = System.nanoTime() + STATS_INTERVAL_NANOS;
                emit(withUndeliverable(summary.stats(session.readCounters(counters), collapsed.getAsLong(), false)));
            }
        }
        ring.drain(processor); // what arrived before the stop is delivered, not lost
        processor.endOfBatch();
    }

    /** Final Stats to every sink, then closes them. */
    public void finish() throws IOException {
        ring().drain(processor);
        if (joiner != null) {
            joiner.flush(processor::deliver);
        }
        session.readCounters(counters);
        processor.outputs().finish(withUndeliverable(summary.stats(counters, collapsed.getAsLong(), true)));
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
    }

    /** Kernel counters as last read (EventLayout.CNT_*). */
    public long[] counters() {
        return counters.clone();
    }

    public Summary summary() {
        return summary;
    }
}
