package dev.forktrace.bench;

import dev.forktrace.attribution.Attribution;
import dev.forktrace.attribution.Attributor;
import dev.forktrace.attribution.RawEvent;
import dev.forktrace.attribution.SystemState;
import dev.forktrace.bpf.EventLayout;
import dev.forktrace.bpf.RingBuffer;
import dev.forktrace.bpf.RingFixture;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Decode + attribute, the part of the per-event path that runs for every record: RawEvent over the
 * record, Attributor into a reused Attribution. One op = one event.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class AttributeBench {
    /** Records per ring drain: as many 648-byte ring entries as fit in 1 MiB. */
    static final int RING_RECORDS = (1 << 20) / (8 + 944); // ring bytes / (header + EventLayout.EVENT_SIZE)

    private Arena arena;
    private MemorySegment events;
    private int count;
    private int next;
    private final RawEvent raw = new RawEvent();
    private final Attributor attributor = new Attributor();
    private final Attribution attribution = new Attribution();
    /** A machine with room to spare, so inference walks its full order. */
    private final SystemState system = new SystemState(190_000, 400, 4_194_304, 0, 2L << 30, 12L << 30);
    private RingFixture ring;
    private long causes;
    private final RingBuffer.RecordHandler attributeRecord = (data, offset, length) -> {
        raw.wrap(data, offset);
        attributor.attribute(raw, system, attribution);
        causes += attribution.cause.getNumber();
    };

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        events = RecordedEvents.load(arena);
        count = RecordedEvents.count(events);
        ring = new RingFixture(arena, events, 1 << 20);
        if (ring.records() != RING_RECORDS) {
            throw new IllegalStateException("ring holds " + ring.records() + " records, expected " + RING_RECORDS
                    + ": the event size changed, update RING_RECORDS");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    /** RawEvent.wrap + Attributor.attribute on the next recorded event. */
    @Benchmark
    public int decodeAndAttribute() {
        int i = next;
        next = i + 1 == count ? 0 : i + 1;
        raw.wrap(events, (long) i * EventLayout.EVENT_SIZE);
        attributor.attribute(raw, system, attribution);
        return attribution.cause.getNumber();
    }

    /** The same, driven by RingBuffer.drain over a ring full of committed records (consumer protocol included). */
    @Benchmark
    @OperationsPerInvocation(RING_RECORDS)
    public void ringDrainAttribute(Blackhole blackhole) {
        ring.rewind().drain(attributeRecord);
        blackhole.consume(causes);
    }
}
