package dev.forktrace.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A BPF ring buffer in ordinary memory, filled with committed records, for benchmarking the consumer
 * protocol without a kernel. In forktrace's package only to reach RingBuffer's test constructor.
 */
public final class RingFixture {
    private static final int HEADER = 8;
    private final MemorySegment consumer;
    private final RingBuffer ring;
    private final long produced;
    private final int records;

    /** size: ring data size (power of two); fills it with as many copies of the events as fit, in turn. */
    public RingFixture(Arena arena, MemorySegment events, long size) {
        long page = 4096;
        int length = (int) EventLayout.EVENT_SIZE;
        consumer = arena.allocate(page, page);
        MemorySegment producerAndData = arena.allocate(page + 2 * size, page);
        MemorySegment data = producerAndData.asSlice(page, 2 * size);
        int available = (int) (events.byteSize() / length);
        long at = 0;
        int n = 0;
        while (at + HEADER + length <= size) {
            data.set(JAVA_INT, at, length);
            MemorySegment.copy(events, (long) (n % available) * length, data, at + HEADER, length);
            at += (HEADER + length + 7) & ~7L;
            n++;
        }
        producerAndData.set(JAVA_LONG, 0, at);
        produced = at;
        records = n;
        ring = new RingBuffer(new MemorySegment[] {consumer, producerAndData}, page, size, -1);
    }

    /** Records per full drain. */
    public int records() {
        return records;
    }

    /** Marks everything unread again (the producer position stays at the end). */
    public RingBuffer rewind() {
        consumer.set(JAVA_LONG, 0, 0L);
        return ring;
    }

    public long producedBytes() {
        return produced;
    }
}
