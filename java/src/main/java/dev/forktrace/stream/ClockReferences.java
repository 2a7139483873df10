package dev.forktrace.stream;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.forktrace.proto.v1.ClockReference;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Reads CLOCK_MONOTONIC, CLOCK_BOOTTIME and CLOCK_REALTIME back to back, for StreamHeader.clocks. The JDK has
 * no boot-time clock, hence clock_gettime(2) through FFM.
 */
final class ClockReferences {
    private static final int CLOCK_REALTIME = 0;
    private static final int CLOCK_MONOTONIC = 1;
    private static final int CLOCK_BOOTTIME = 7;
    private static final MethodHandle CLOCK_GETTIME = lookup();

    private ClockReferences() {}

    private static MethodHandle lookup() {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("clock_gettime")
                    .map(f -> linker.downcallHandle(f, FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS)))
                    .orElse(null);
        } catch (RuntimeException e) {
            return null; // no native access: streams are written without a clock reference
        }
    }

    /** The three clocks, or empty where clock_gettime is unavailable. */
    static Optional<ClockReference> now() {
        if (CLOCK_GETTIME == null) {
            return Optional.empty();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ts = arena.allocate(16, 8);
            long monotonic = read(CLOCK_MONOTONIC, ts);
            long boottime = read(CLOCK_BOOTTIME, ts);
            long realtime = read(CLOCK_REALTIME, ts);
            if (monotonic < 0 || boottime < 0 || realtime < 0) {
                return Optional.empty();
            }
            return Optional.of(ClockReference.newBuilder().setMonotonicNs(monotonic).setBoottimeNs(boottime)
                    .setRealtimeNs(realtime).build());
        } catch (Throwable t) {
            return Optional.empty();
        }
    }

    private static long read(int clock, MemorySegment ts) throws Throwable {
        int rc = (int) CLOCK_GETTIME.invokeExact(clock, ts);
        return rc != 0 ? -1 : ts.get(JAVA_LONG, 0) * 1_000_000_000L + ts.get(JAVA_LONG, 8);
    }
}
