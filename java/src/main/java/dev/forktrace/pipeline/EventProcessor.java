package dev.forktrace.pipeline;

import dev.forktrace.attribution.Attribution;
import dev.forktrace.attribution.Attributor;
import dev.forktrace.attribution.RawEvent;
import dev.forktrace.attribution.SystemState;
import dev.forktrace.bpf.EventLayout;
import dev.forktrace.bpf.RingBuffer;
import dev.forktrace.output.FailureSink;
import dev.forktrace.proto.v1.ForkFailure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The per-event path: ring record -> zero-copy view -> attribution -> enrichment (published snapshots)
 * -> diagnosis -> sinks, which encode it straight to bytes. One instance runs on the single consumer thread; nothing here is shared.
 *
 * <p>An event whose enrichment is not published yet (the first failure of a new scope, cgroup or
 * process) is copied and held, and every event behind it too so the stream keeps its order, until the
 * enrichment thread answers or {@link #HOLD_NANOS} pass; then it goes out with what is known then. The
 * hold is bounded in time and in size ({@link #HOLD_MAX} records, at most ~4 MB): past either, the oldest
 * goes out without the missing facts and is counted in {@link #late()}. Waiting is cheaper than the
 * alternative: without the hold, the first failure of every scope would carry no offenders.
 */
public final class EventProcessor implements RingBuffer.RecordHandler {
    private final RawEvent raw = new RawEvent();
    private final Attribution attribution = new Attribution();
    private final Attributor attributor = new Attributor();
    /** The one diagnosis the sinks read per event; refilled by the next. */
    private final Diagnosis diagnosis = new Diagnosis();
    /** How long an event may wait for its enrichment: one ranking period, a few scans of /proc on a busy machine. */
    static final long HOLD_NANOS = 250_000_000L;
    static final int HOLD_MAX = 4096;
    /** Lines written between flushes while one drain goes on: ~1 ms of work at the consumer's rate. */
    static final int FLUSH_EVERY = 128;
    private int sinceBatchEnd;
    private final long holdNanos;
    private final FailureAssembler assembler;
    private final Enrichment enrichment;
    private final java.util.ArrayDeque<Held> held = new java.util.ArrayDeque<>();
    private long heldPublished; // the enrichment's answer count when the held head was last tried
    private long late;
    private final Outputs outputs;
    private final Summary summary;
    private final java.util.function.Consumer<ForkFailure> deliver = this::deliver;
    private dev.forktrace.agentlink.JavaJoiner joiner;
    private long sequence;
    private long malformed;

    /** An event copied out of the ring to wait for its enrichment. */
    private record Held(MemorySegment record, long deadline) {}

    public EventProcessor(FailureAssembler assembler, List<FailureSink> sinks, Summary summary) {
        this(assembler, sinks, summary, HOLD_NANOS);
    }

    /** @param holdNanos how long an event may wait for its enrichment */
    EventProcessor(FailureAssembler assembler, List<FailureSink> sinks, Summary summary, long holdNanos) {
        this.holdNanos = holdNanos;
        this.assembler = assembler;
        this.enrichment = assembler.enrichment();
        this.outputs = new Outputs(sinks);
        this.summary = summary;
    }

    @Override
    public void onRecord(MemorySegment ring, long offset, int length) {
        if (length < EventLayout.EVENT_SIZE) {
            malformed++; // a record from another producer or layout: counted, never misread
            return;
        }
        if (!held.isEmpty()) {
            releaseHeld();
        }
        if (held.isEmpty()) {
            raw.copyOf(ring, offset); // every field is read: one copy, then plain array loads
            long answered = enrichment.published(); // before the lookups: an answer during them is not missed
            if (process(raw, false)) {
                return;
            }
            heldPublished = answered;
        }
        if (held.size() >= HOLD_MAX) {
            releaseHeld(true);
        }
        MemorySegment copy = MemorySegment.ofArray(new long[(length + 7) / 8]); // long[]: 8-byte aligned like the ring
        MemorySegment.copy(ring, offset, copy, 0, length);
        held.addLast(new Held(copy, System.nanoTime() + holdNanos));
    }

    /** Attributes, enriches and delivers one event; false (nothing delivered) when its enrichment is missing and it may wait. */
    private boolean process(RawEvent raw, boolean late) {
        enrichment.beginEvent();
        SystemState system = enrichment.system(raw.ktimeNanos()); // a miss when begun 250 ms or more before the failure
        attributor.attribute(raw, system, attribution);
        if (attribution.explainableByLaterReading) {
            SystemState after = enrichment.systemAfter(raw.ktimeNanos()); // a miss while only older readings exist
            if (after != system) {
                system = after;
                attributor.attribute(raw, system, attribution);
            }
        }
        Diagnosis d = assembler.diagnose(sequence + 1, raw, attribution, system, diagnosis);
        if (enrichment.missed()) {
            if (!late) {
                return false;
            }
            this.late++;
        }
        sequence++;
        summary.record(d);
        SignatureTally tally = summary.signatures();
        tally.delivered(tally.scratch().of(raw), d.cause(), d.scopeKind(), d.scopeName());
        if (joiner != null && !joiner.passesThrough(d.thread(), d.pid())) {
            joiner.offer(d.toForkFailure(), deliver); // held for the Java agent's report: a copy it keeps
        } else {
            outputs.accept(d);
            written();
        }
        return true;
    }

    /** Delivers the held events that are now complete or whose time is up, in order. */
    public void releaseHeld() {
        releaseHeld(false);
    }

    private void releaseHeld(boolean oldestRegardless) {
        long now = System.nanoTime();
        boolean force = oldestRegardless;
        while (!held.isEmpty()) {
            Held head = held.peekFirst();
            boolean expired = force || now - head.deadline() >= 0;
            long answered = enrichment.published();
            if (!expired && answered == heldPublished) {
                return; // nothing new published: the head is still incomplete
            }
            raw.copyOf(head.record(), 0);
            if (!process(raw, expired)) {
                heldPublished = answered;
                return;
            }
            held.removeFirst();
            force = false;
        }
    }

    /** Delivers every held event, waiting at most the hold for their enrichment (at the end of a capture). */
    public void flushHeld() {
        while (!held.isEmpty()) {
            releaseHeld();
            if (!held.isEmpty()) {
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
            }
        }
    }

    /** Whether events wait for their enrichment. */
    public boolean holding() {
        return !held.isEmpty();
    }

    /** Events that went out without some of their enrichment (it was not read within the hold). */
    public long late() {
        return late;
    }

    /** The cause and scope of a signature no delivered failure had, attributed from the signature alone. */
    public Tally.CauseScope attributeAlone(Signature signature) {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment event = arena.allocate(EventLayout.EVENT_SIZE, 8);
            signature.writeEvent(event);
            RawEvent synthetic = new RawEvent().wrap(event, 0);
            Attribution verdict = new Attribution();
            SystemState system = enrichment.system();
            attributor.attribute(synthetic, system, verdict);
            ForkFailure failure = assembler.assemble(0, synthetic, verdict, system);
            return new Tally.CauseScope(failure.getCause(), failure.getScope().getKind(),
                    failure.getScope().getName());
        }
    }

    /** Writes one failure to every sink (directly, or when the joiner releases it); a failing sink is left out. */
    public void deliver(ForkFailure failure) {
        outputs.accept(failure);
        written();
    }

    private void written() {
        if (++sinceBatchEnd >= FLUSH_EVERY) {
            outputs.endOfBatch(); // a long drain (a backlog after a pause) writes as it goes, not only at its end
            sinceBatchEnd = 0;
        }
    }

    /** The sinks, with what failed among them. */
    public Outputs outputs() {
        return outputs;
    }

    /**
     * Runs one all-zero record through attribution and assembly without delivering it, so the classes
     * of the per-event path are loaded before the first real failure is attributed.
     */
    public void warmUp() {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment zero = arena.allocate(EventLayout.EVENT_SIZE, 8);
            raw.wrap(zero, 0);
            attributor.attribute(raw, enrichment.system(), attribution);
            ForkFailure failure = assembler.assemble(0, raw, attribution, enrichment.system());
            assembler.warmUp();
            new dev.forktrace.output.FailureJson(java.io.Writer.nullWriter()).write(failure); // the JSON sink's first call
            Diagnosis d = assembler.diagnose(0, raw, attribution, enrichment.system(), new Diagnosis());
            new dev.forktrace.output.DiagnosisJson().encodeLine(d); // and the encoders' first calls
            new dev.forktrace.stream.DiagnosisProto().encode(d);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Rounds of {@link #trainJit}: enough for C1 to compile the per-event path (its thresholds are ~200-2,000 calls). */
    static final int TRAINING_ROUNDS = 500;

    /**
     * Runs synthetic failures (a pids cgroup, RLIMIT_NPROC and a pid namespace without init) through
     * attribution, diagnosis and both encoders, so that the JIT has compiled the per-event path before a
     * real storm needs it: interpreted, the first ~500 failures of a storm at 10k/s waited up to 20 ms.
     * Nothing is delivered, counted or cached: the diagnosis reads an enrichment stage of its own that
     * knows no file, so the real one keeps no trace of the training. ~80 ms of CPU on this machine, once, after attach.
     */
    public void trainJit() {
        Enrichment blank = new Enrichment(new dev.forktrace.system.CgroupPaths(java.util.Map.of()),
                new dev.forktrace.system.ProcessInspector(java.nio.file.Path.of("/nonexistent"), 0));
        FailureAssembler trainer = new FailureAssembler(blank, 0, null);
        Attributor trainingAttributor = new Attributor();
        Attribution verdict = new Attribution();
        Diagnosis scratch = new Diagnosis();
        RawEvent synthetic = new RawEvent();
        dev.forktrace.output.DiagnosisJson json = new dev.forktrace.output.DiagnosisJson();
        dev.forktrace.stream.DiagnosisProto proto = new dev.forktrace.stream.DiagnosisProto();
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment[] events = new MemorySegment[3];
            for (int i = 0; i < events.length; i++) {
                events[i] = arena.allocate(EventLayout.EVENT_SIZE, 8);
                trainingSignature(i).writeEvent(events[i]);
            }
            long sink = 0;
            for (int round = 0; round < TRAINING_ROUNDS; round++) {
                for (MemorySegment event : events) {
                    synthetic.copyOf(event, 0);
                    blank.beginEvent();
                    SystemState system = blank.system(synthetic.ktimeNanos());
                    trainingAttributor.attribute(synthetic, system, verdict);
                    Diagnosis d = trainer.diagnose(round, synthetic, verdict, system, scratch);
                    sink += json.encodeLine(d).length + proto.encode(d).length;
                }
            }
            if (sink == 0) {
                throw new IllegalStateException("the encoders wrote nothing"); // keeps the work observable to the JIT
            }
        } finally {
            blank.close();
        }
    }

    private static Signature trainingSignature(int kind) {
        Signature s = new Signature();
        s.tgid = 1;
        s.error = kind == 2 ? -12 : -11;
        s.evidence = EventLayout.EV_ENTRY_SNAPSHOT;
        s.syscall = EventLayout.SYS_CLONE3;
        switch (kind) {
            case 0 -> { // a pids cgroup at pids.max, one level below the root
                s.pidsLimitLevel = 1;
                s.pidsLimitCgroupId = 2;
                s.pidsCanForkError = -11;
            }
            case 1 -> { // a user at RLIMIT_NPROC
                s.uid = 1000;
                s.flags = EventLayout.SIG_NPROC_AT_LIMIT;
            }
            default -> s.flags = EventLayout.SIG_PIDNS_DEAD; // a pid namespace whose init exited
        }
        return s;
    }

    /** Tells the sinks that the ring is drained, so line-oriented outputs flush once per batch. */
    public void endOfBatch() {
        releaseHeld();
        outputs.endOfBatch();
        sinceBatchEnd = 0;
    }

    /** Java agent reports are joined into failures from now on (null: none). */
    public void joinJavaReports(dev.forktrace.agentlink.JavaJoiner joiner) {
        this.joiner = joiner;
    }

    public long delivered() {
        return sequence;
    }

    public long malformed() {
        return malformed;
    }
}
