package dev.forktrace.bench;

import dev.forktrace.bpf.EventLayout;
import dev.forktrace.bpf.ProbeSession;
import dev.forktrace.bpf.RingBuffer;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Records raw ft_event records of real failures for the JMH benchmarks: attaches forktrace's BPF
 * programs (filtered to one process name), copies up to MAX records byte for byte from the ring to FILE
 * until SECONDS pass. Usage: Recorder FILE SECONDS MAX COMM. Prints "recorder: attached" when ready.
 */
public final class Recorder {
    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            System.err.println("usage: Recorder FILE SECONDS MAX COMM");
            System.exit(2);
        }
        Path file = Path.of(args[0]);
        long deadline = System.nanoTime() + (long) (Double.parseDouble(args[1]) * 1e9);
        int max = Integer.parseInt(args[2]);
        int[] written = {0};
        long[] seen = {0};
        try (ProbeSession session = ProbeSession.open(new ProbeSession.Filter(0, false, 0, 0, args[3]),
                ProbeSession.HookChoice.AUTO); OutputStream out = Files.newOutputStream(file)) {
            session.attach();
            RingBuffer ring = session.ringBuffer();
            System.err.println("recorder: attached");
            byte[] record = new byte[(int) EventLayout.EVENT_SIZE];
            RingBuffer.RecordHandler copy = (MemorySegment data, long offset, int length) -> {
                seen[0]++;
                if (written[0] < max && length >= EventLayout.EVENT_SIZE) {
                    MemorySegment.copy(data, JAVA_BYTE, offset, record, 0, record.length);
                    try {
                        out.write(record);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    written[0]++;
                }
            };
            while (System.nanoTime() < deadline) {
                if (ring.await(100)) {
                    ring.drain(copy);
                }
            }
            ring.drain(copy);
        }
        System.err.printf("recorder: %d records seen, %d written to %s (%d bytes each)%n", seen[0], written[0], file,
                EventLayout.EVENT_SIZE);
    }
}
