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

    /**
     * "none": no cgroup hierarchies and an empty /proc, so the op is decode, attribute, diagnose, summary and
     * encode alone (no offenders, no JVM main); "machine": this machine's cgroupfs and /proc as FailureAssembler
     * reads them on the consumer thread today (its rescans, which another change moves off that thread,
     * dominate on a machine with thousands of cgroups and processes).
     */
    @Param({"none", "machine"})
    public String enrichment;

    private Arena arena;
    private MemorySegment events;
    private int count;
    private int next;
    private EventProcessor processor;
    private FailureSink sink;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        events = Fixtures.events(arena, "recorded");
        count = RecordedEvents.count(events);
        OutputStream discard = OutputStream.nullOutputStream();
        sink = switch (output) {
            case "json" -> new JsonLinesSink(discard, true);
            case "protobuf" -> StreamWriter.to(discard, "bench");
            default -> throw new IllegalArgumentException("output must be json or protobuf, not " + output);
        };
        FailureAssembler assembler = switch (enrichment) {
            case "none" -> new FailureAssembler(new CgroupPaths(Map.of()), new ProcessInspector(emptyProc()), 0);
            case "machine" -> Fixtures.assembler();
            default -> throw new IllegalArgumentException("enrichment must be none or machine, not " + enrichment);
        };
        processor = new EventProcessor(assembler, List.of(sink), new Summary());
    }

    private static java.nio.file.Path emptyProc() {
        try {
            java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("forktrace-bench-proc");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
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
