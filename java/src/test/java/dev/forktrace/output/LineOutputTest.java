package dev.forktrace.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class LineOutputTest {
    /** Takes {@code room} bytes (part of a write if need be), then fails every write with the given error. */
    static final class LimitedChannel implements WritableByteChannel {
        final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        long room;
        final String error;

        LimitedChannel(long room, String error) {
            this.room = room;
            this.error = error;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (room == 0) {
                throw new IOException(error);
            }
            int n = (int) Math.min(room, src.remaining());
            for (int i = 0; i < n; i++) {
                kept.write(src.get());
            }
            room -= n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {}
    }

    static byte[] line(int i) {
        return String.format("line %03d of a hundred, forty bytes wide.%n", i).getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void aFullDiskSaysExactlyHowManyLinesWereWritten() throws IOException {
        assertEquals(41, line(0).length);
        LimitedChannel disk = new LimitedChannel(15 * 41 + 10, "No space left on device");
        LineOutput out = LineOutput.to(disk, "out.txt");
        for (int i = 0; i < 100; i++) {
            out.write(line(i));
        }
        IOException e = assertThrows(IOException.class, out::flush);
        assertEquals("writing out.txt failed: No space left on device; 15 of 100 lines were written, 85 could not be",
                e.getMessage());
        assertEquals(85, out.linesNotWritten());
        IOException again = assertThrows(IOException.class, () -> out.write(line(100)));
        assertEquals(e.getMessage(), again.getMessage(), "every later write repeats the first failure");
    }

    @Test
    void aLargeOutputFailsMidwayWithTheCountSoFar() throws IOException {
        LimitedChannel disk = new LimitedChannel(100_000, "Input/output error");
        LineOutput out = LineOutput.to(disk, "/proc/version");
        int handedIn = 0;
        IOException failure = null;
        try {
            for (; handedIn < 10_000; handedIn++) {
                out.write(line(handedIn % 1000));
            }
        } catch (IOException e) {
            failure = e;
        }
        assertTrue(failure != null, "64 KiB buffers: the disk fills during the writes");
        assertTrue(failure.getMessage().startsWith("writing /proc/version failed: Input/output error; "
                + (100_000 / 41) + " of "), failure.getMessage());
    }

    @Test
    void aWriterOverItReportsTheErrorInsteadOfSwallowingIt() throws IOException {
        LineOutput out = LineOutput.toFile(Path.of("/dev/full"));
        OutputStreamWriter writer = new OutputStreamWriter(out, StandardCharsets.UTF_8);
        TextSink sink = new TextSink(writer, false);
        IOException e = assertThrows(IOException.class, () -> sink.accept(dev.forktrace.proto.v1.ForkFailure.newBuilder()
                .setPid(42).build()));
        assertTrue(e.getMessage().startsWith("writing /dev/full failed: No space left on device; 0 of 1 lines"),
                e.getMessage());
    }
}
