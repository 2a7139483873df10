package dev.forktrace.bench;

import dev.forktrace.bpf.EventLayout;
import dev.forktrace.output.FailureSink;
import dev.forktrace.output.JsonLinesSink;
import dev.forktrace.pipeline.EventProcessor;
import dev.forktrace.pipeline.FailureAssembler;
import dev.forktrace.pipeline.Summary;
import dev.forktrace.stream.StreamWriter;
import dev.forktrace.system.CgroupPaths;
import dev.forktrace.system.ProcessInspector;
import dev.forktrace.system.SystemStateReader;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
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
 * Ring record to written output, one op per event: EventProcessor.onRecord (decode, attribute, diagnose,
 * summary, signature tally) into the JSON-lines sink or the protobuf stream writer, both over a discarding
 * stream, with the per-batch flush every 64 records as a drained ring would. Default tiered JIT; see
 * {@link PathLauncherJitBench} for the JIT ./forktrace runs.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class PathBench {
    @Param({"json", "protobuf"})
    public String output;

    @Param({"recorded", "live"})
    public String pids;

    private Arena arena;
    private MemorySegment events;
    private int count;
    private int next;
    private EventProcessor processor;
    private FailureSink sink;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        events = Fixtures.events(arena, pids);
        count = RecordedEvents.count(events);
        OutputStream discard = OutputStream.nullOutputStream();
        sink = switch (output) {
            case "json" -> new JsonLinesSink(discard, true);
            case "protobuf" -> StreamWriter.to(discard, "bench");
            default -> throw new IllegalArgumentException("output must be json or protobuf, not " + output);
        };
        // No cgroup hierarchies: the recorded cgroups are gone from this machine, and CgroupPaths walks the whole
        // hierarchy again for an unknown id once a second; on a machine with thousands of cgroups that walk, not
        // the per-event path, would be measured (moving such rescans off the consumer thread is another change).
        FailureAssembler assembler = new FailureAssembler(new CgroupPaths(Map.of()), new ProcessInspector(), 0);
        processor = new EventProcessor(new SystemStateReader(), assembler, List.of(sink), new Summary());
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        sink.close();
        arena.close();
    }

    @Benchmark
    public long ringRecordToOutput() {
        int i = next;
        next = i + 1 == count ? 0 : i + 1;
        processor.onRecord(events, (long) i * EventLayout.EVENT_SIZE, (int) EventLayout.EVENT_SIZE);
        if ((i & 63) == 63) {
            processor.endOfBatch();
        }
        return processor.delivered();
    }
}
