package dev.forktrace.bench;

import dev.forktrace.attribution.Attribution;
import dev.forktrace.attribution.Attributor;
import dev.forktrace.attribution.RawEvent;
import dev.forktrace.bpf.EventLayout;
import dev.forktrace.pipeline.FailureAssembler;
import dev.forktrace.proto.v1.ForkFailure;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * FailureAssembler.assemble (after attribution): names, snapshot, evidence, offenders (cached /proc
 * scans) and the caller's argv from /proc, into a ForkFailure. One op = one event.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class AssembleBench {
    @Param({"live", "recorded"})
    public String pids;

    private Arena arena;
    private MemorySegment events;
    private int count;
    private int next;
    private long sequence;
    private final RawEvent raw = new RawEvent();
    private final Attributor attributor = new Attributor();
    private final Attribution attribution = new Attribution();
    private FailureAssembler assembler;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        events = Fixtures.events(arena, pids);
        count = RecordedEvents.count(events);
        assembler = Fixtures.assembler();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public ForkFailure attributeAndAssemble() {
        int i = next;
        next = i + 1 == count ? 0 : i + 1;
        raw.wrap(events, (long) i * EventLayout.EVENT_SIZE);
        attributor.attribute(raw, Fixtures.SYSTEM, attribution);
        return assembler.assemble(++sequence, raw, attribution, Fixtures.SYSTEM);
    }
}
