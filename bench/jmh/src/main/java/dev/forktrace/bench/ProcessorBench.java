package dev.forktrace.bench;

import dev.forktrace.bpf.EventLayout;
import dev.forktrace.output.FailureSink;
import dev.forktrace.output.JsonLinesSink;
import dev.forktrace.pipeline.EventProcessor;
import dev.forktrace.pipeline.Summary;
import java.io.Writer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
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
 * The whole per-event path of `watch --format json` as one op: EventProcessor.onRecord (decode,
 * attribute, assemble from the enrichment stage, summary) and JsonLinesSink into a discarding writer.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ProcessorBench {
    @Param({"live", "recorded"})
    public String pids;

    private Arena arena;
    private MemorySegment events;
    private int count;
    private int next;
    private EventProcessor processor;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        events = Fixtures.events(arena, pids);
        count = RecordedEvents.count(events);
        List<FailureSink> sinks = List.of(new JsonLinesSink(java.io.OutputStream.nullOutputStream(), false));
        processor = new EventProcessor(Fixtures.assembler(), sinks, new Summary());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public long onRecordToJson() {
        int i = next;
        next = i + 1 == count ? 0 : i + 1;
        processor.onRecord(events, (long) i * EventLayout.EVENT_SIZE, (int) EventLayout.EVENT_SIZE);
        return processor.delivered();
    }
}
