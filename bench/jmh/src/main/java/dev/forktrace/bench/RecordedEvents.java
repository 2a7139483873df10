package dev.forktrace.bench;

import dev.forktrace.bpf.EventLayout;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * struct ft_event records exactly as the kernel wrote them into the ring (recorded by {@link Recorder}
 * from real failures), laid end to end in one native segment.
 */
public final class RecordedEvents {
    public static final String PROPERTY = "forktrace.bench.events";
    public static final String DEFAULT_FILE = "bench/data/ft_events.bin";

    private RecordedEvents() {}

    public static Path file() {
        return Path.of(System.getProperty(PROPERTY, DEFAULT_FILE));
    }

    /** All records of the file; fails with the reason when the file was made for another layout. */
    public static MemorySegment load(Arena arena) {
        Path file = file();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read recorded events " + file.toAbsolutePath() + " (" + e
                    + "); record them with `bench/run --record` (needs root) or pass -D" + PROPERTY + "=FILE", e);
        }
        if (bytes.length == 0 || bytes.length % EventLayout.EVENT_SIZE != 0) {
            throw new IllegalStateException(file + " holds " + bytes.length + " bytes, not a whole number of "
                    + EventLayout.EVENT_SIZE + "-byte ft_event records: it was recorded with another layout of "
                    + "bpf/forktrace.h; record it again with `bench/run --record`");
        }
        MemorySegment events = arena.allocate(bytes.length, 8);
        MemorySegment.copy(bytes, 0, events, JAVA_BYTE, 0, bytes.length);
        return events;
    }

    public static int count(MemorySegment events) {
        return (int) (events.byteSize() / EventLayout.EVENT_SIZE);
    }

    /** A copy in which every record's caller is {@code pid} (e.g. a live process, so /proc reads succeed). */
    public static MemorySegment withPid(Arena arena, MemorySegment events, int pid) {
        MemorySegment copy = arena.allocate(events.byteSize(), 8);
        copy.copyFrom(events);
        for (int i = 0; i < count(copy); i++) {
            copy.set(JAVA_INT, (long) i * EventLayout.EVENT_SIZE + EventLayout.PID, pid);
        }
        return copy;
    }
}
