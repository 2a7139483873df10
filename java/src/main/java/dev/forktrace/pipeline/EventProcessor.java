package dev.forktrace.pipeline;

import dev.forktrace.attribution.Attribution;
import dev.forktrace.attribution.Attributor;
import dev.forktrace.attribution.RawEvent;
import dev.forktrace.attribution.SystemState;
import dev.forktrace.bpf.EventLayout;
import dev.forktrace.bpf.RingBuffer;
import dev.forktrace.output.FailureSink;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.system.SystemStateReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The per-event path: ring record -> zero-copy view -> attribution -> diagnosis -> sinks, which encode
 * it straight to bytes. One instance runs on the single consumer thread; nothing here is shared.
 */
public final class EventProcessor implements RingBuffer.RecordHandler {
    private final RawEvent raw = new RawEvent();
    private final Attribution attribution = new Attribution();
    private final Attributor attributor = new Attributor();
    /** The one diagnosis the sinks read per event; refilled by the next. */
    private final Diagnosis diagnosis = new Diagnosis();
    private final SystemStateReader systemState;
    private final FailureAssembler assembler;
    private final Outputs outputs;
    private final Summary summary;
    private final java.util.function.Consumer<ForkFailure> deliver = this::deliver;
    private dev.forktrace.agentlink.JavaJoiner joiner;
    private long sequence;
    private long malformed;

    public EventProcessor(SystemStateReader systemState, FailureAssembler assembler, List<FailureSink> sinks,
            Summary summary) {
        this.systemState = systemState;
        this.assembler = assembler;
        this.outputs = new Outputs(sinks);
        this.summary = summary;
    }

    @Override
    public void onRecord(MemorySegment ring, long offset, int length) {
        if (length < EventLayout.EVENT_SIZE) {
            malformed++; // a record from another producer or layout: counted, never misread
            return;
        }
        raw.copyOf(ring, offset); // every field is read: one copy, then plain array loads
        SystemState system = systemState.current();
        attributor.attribute(raw, system, attribution);
        Diagnosis d = assembler.diagnose(++sequence, raw, attribution, system, diagnosis);
        summary.record(d);
        SignatureTally tally = summary.signatures();
        tally.delivered(tally.scratch().of(raw), d.cause(), d.scopeKind(), d.scopeName());
        if (joiner != null) {
            joiner.offer(d.toForkFailure(), deliver); // may hold it for the Java agent's report: a copy it keeps
        } else {
            outputs.accept(d);
        }
    }

    /** The cause and scope of a signature no delivered failure had, attributed from the signature alone. */
    public SignatureTally.Verdict attributeAlone(Signature signature) {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment event = arena.allocate(EventLayout.EVENT_SIZE, 8);
            signature.writeEvent(event);
            RawEvent synthetic = new RawEvent().wrap(event, 0);
            Attribution verdict = new Attribution();
            SystemState system = systemState.current();
            attributor.attribute(synthetic, system, verdict);
            ForkFailure failure = assembler.assemble(0, synthetic, verdict, system);
            return new SignatureTally.Verdict(failure.getCause(), failure.getScope().getKind(),
                    failure.getScope().getName());
        }
    }

    /** Writes one failure to every sink (directly, or when the joiner releases it); a failing sink is left out. */
    public void deliver(ForkFailure failure) {
        outputs.accept(failure);
    }

    /** The sinks, with what failed among them. */
    public Outputs outputs() {
        return outputs;
    }

    /**
     * Runs one all-zero record through attribution and assembly without delivering it, so the classes
     * of the per-event path are loaded before the first real failure: offenders are read from /proc when
     * a failure arrives, and a process that exits right after it must still be there to be named.
     */
    public void warmUp() {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment zero = arena.allocate(EventLayout.EVENT_SIZE, 8);
            raw.wrap(zero, 0);
            attributor.attribute(raw, systemState.current(), attribution);
            ForkFailure failure = assembler.assemble(0, raw, attribution, systemState.current());
            assembler.warmUp();
            new dev.forktrace.output.FailureJson(java.io.Writer.nullWriter()).write(failure); // the JSON sink's first call
            Diagnosis d = assembler.diagnose(0, raw, attribution, systemState.current(), new Diagnosis());
            new dev.forktrace.output.DiagnosisJson().encodeLine(d); // and the encoders' first calls
            new dev.forktrace.stream.DiagnosisProto().encode(d);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Tells the sinks that the ring is drained, so line-oriented outputs flush once per batch. */
    public void endOfBatch() {
        outputs.endOfBatch();
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
