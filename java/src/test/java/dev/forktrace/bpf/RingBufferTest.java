package dev.forktrace.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The consumer side of the BPF ring buffer protocol, on memory laid out the way the kernel maps it. */
class RingBufferTest {
    private static final long PAGE = 4096;
    private static final long SIZE = 4096;
    private static final int BUSY = 1 << 31, DISCARD = 1 << 30;

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment consumer = arena.allocate(PAGE, 8);
    private final MemorySegment producer = arena.allocate(PAGE + 2 * SIZE, 8);
    private final RingBuffer ring = new RingBuffer(new MemorySegment[] {consumer, producer}, PAGE, SIZE, -1);
    private long producerPos;

    @AfterEach
    void close() {
        ring.close();
        arena.close();
    }

    /** Writes a record the way the kernel does: header, then payload; the data area is mapped twice. */
    private void produce(int payloadLength, int flags, byte fill) {
        long at = producerPos;
        writeBoth(at, (payloadLength | flags));
        for (int i = 0; i < payloadLength; i++) {
            writeByteBoth(at + 8 + i, fill);
        }
        producerPos += (payloadLength + 8 + 7) & ~7L;
        producer.set(ValueLayout.JAVA_LONG, 0, producerPos);
    }

    private void writeBoth(long pos, int header) {
        long offset = pos & (SIZE - 1);
        producer.set(ValueLayout.JAVA_INT, PAGE + offset, header);
        if (offset + 4 <= SIZE) {
            producer.set(ValueLayout.JAVA_INT, PAGE + SIZE + offset, header);
        }
    }

    private void writeByteBoth(long pos, byte value) {
        long offset = pos & (SIZE - 1);
        producer.set(ValueLayout.JAVA_BYTE, PAGE + offset, value);
        producer.set(ValueLayout.JAVA_BYTE, PAGE + SIZE + offset, value);
    }

    private List<String> drain() {
        List<String> seen = new ArrayList<>();
        ring.drain((segment, offset, length) -> {
            byte first = segment.get(ValueLayout.JAVA_BYTE, offset);
            byte last = segment.get(ValueLayout.JAVA_BYTE, offset + length - 1);
            seen.add(length + ":" + (char) first + (char) last);
        });
        return seen;
    }

    @Test
    void deliversCommittedRecordsInOrderAndReleasesTheirSpace() {
        produce(13, 0, (byte) 'a');
        produce(8, 0, (byte) 'b');
        assertEquals(List.of("13:aa", "8:bb"), drain());
        assertEquals(producerPos, consumer.get(ValueLayout.JAVA_LONG, 0), "consumer position after the last record");
        assertEquals(0, ring.available());
    }

    @Test
    void skipsDiscardedRecords() {
        produce(16, 0, (byte) 'a');
        produce(16, DISCARD, (byte) 'x');
        produce(16, 0, (byte) 'c');
        assertEquals(List.of("16:aa", "16:cc"), drain());
    }

    @Test
    void stopsAtABusyRecordAndResumesWhenItIsCommitted() {
        produce(16, 0, (byte) 'a');
        long busyAt = producerPos;
        produce(16, BUSY, (byte) 'b');
        produce(16, 0, (byte) 'c');
        assertEquals(List.of("16:aa"), drain(), "a record still being written blocks the ones after it");
        writeBoth(busyAt, 16);
        assertEquals(List.of("16:bb", "16:cc"), drain());
    }

    @Test
    void aRecordThatWrapsAroundTheEndIsContiguous() {
        produce((int) SIZE - 64 - 8, 0, (byte) 'a'); // fills up to 64 bytes before the end
        drain();
        produce(120, 0, (byte) 'w');                  // header at SIZE-64, payload crosses the end
        assertEquals(List.of("120:ww"), drain());
        assertEquals(producerPos, consumer.get(ValueLayout.JAVA_LONG, 0));
    }
}
