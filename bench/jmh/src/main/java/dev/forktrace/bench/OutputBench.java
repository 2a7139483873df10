package dev.forktrace.bench;

import dev.forktrace.output.JsonLinesSink;
import dev.forktrace.proto.v1.ForkFailure;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Writer;
import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** Serialising an assembled ForkFailure: the JSON-lines sink and protobuf's length-delimited form. */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class OutputBench {
    private ForkFailure[] failures;
    private int next;
    private JsonLinesSink json;
    private final OutputStream discard = OutputStream.nullOutputStream();

    @Setup(Level.Trial)
    public void setUp() {
        try (Arena arena = Arena.ofConfined()) {
            failures = Fixtures.failures(Fixtures.events(arena, "live"));
        }
        json = new JsonLinesSink(java.io.OutputStream.nullOutputStream(), false);
    }

    private ForkFailure nextFailure() {
        int i = next;
        next = i + 1 == failures.length ? 0 : i + 1;
        return failures[i];
    }

    @Benchmark
    public void jsonLinesSink() throws IOException {
        json.accept(nextFailure());
    }

    @Benchmark
    public void protobufWriteDelimitedTo() throws IOException {
        nextFailure().writeDelimitedTo(discard);
    }
}
