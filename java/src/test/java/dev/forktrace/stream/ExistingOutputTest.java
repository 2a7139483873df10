package dev.forktrace.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forktrace.output.LineOutput;
import dev.forktrace.proto.v1.StreamRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Outputs of watch and run never destroy an existing file; a forktrace stream is continued. */
class ExistingOutputTest {
    @TempDir
    Path dir;

    private static void capture(Path file, String captureId, int failures) throws IOException {
        try (StreamWriter w = StreamWriter.open(file.toString(), 0, 0)) {
            w.start(Synthetic.header().toBuilder().setCaptureId(captureId).build());
            for (int i = 0; i < failures; i++) {
                w.accept(Synthetic.failure(i));
            }
        }
    }

    private static List<StreamRecord> records(Path file) throws IOException {
        List<StreamRecord> all = new ArrayList<>();
        try (StreamReader r = StreamReader.open(file.toString())) {
            for (StreamRecord rec; (rec = r.next()) != null; ) {
                all.add(rec);
            }
        }
        return all;
    }

    @Test
    void aStreamIsContinuedWithANewCaptureNotEmptied() throws IOException {
        Path file = dir.resolve("failures.pb");
        capture(file, "first", 3);
        capture(file, "second", 2);
        List<StreamRecord> all = records(file);
        assertEquals(List.of("first", "second"), all.stream().filter(StreamRecord::hasHeader)
                .map(r -> r.getHeader().getCaptureId()).toList());
        assertEquals(5, all.stream().filter(StreamRecord::hasFailure).count());
    }

    @Test
    void aStreamCutInARecordIsLeftAsItIsAndRefusedWithoutRotation() throws IOException {
        Path file = dir.resolve("killed.pb");
        capture(file, "killed", 4);
        byte[] whole = Files.readAllBytes(file);
        byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 5); // a SIGKILL mid-write
        Files.write(file, cut);
        IOException e = assertThrows(IOException.class, () -> StreamWriter.open(file.toString(), 0, 0));
        assertTrue(e.getMessage().contains("ends inside a record"), e.getMessage());
        assertArrayEquals(cut, Files.readAllBytes(file));
    }

    @Test
    void withRotationACutStreamIsLeftAndTheCaptureGoesOnInTheNextFile() throws IOException {
        Path base = dir.resolve("svc.pb");
        capture(base, "killed", 4);
        byte[] cut = java.util.Arrays.copyOf(Files.readAllBytes(base), (int) Files.size(base) - 5);
        Files.write(base, cut);
        try (StreamWriter w = StreamWriter.open(base.toString(), 1 << 20, 0)) {
            w.start(Synthetic.header().toBuilder().setCaptureId("restarted").build());
            w.accept(Synthetic.failure(0));
        }
        assertArrayEquals(cut, Files.readAllBytes(base));
        assertEquals(1, records(StreamWriter.rotatedPath(base, 1)).stream().filter(StreamRecord::hasFailure).count());
    }

    @Test
    void aStreamWithARecordTheReaderSkipsIsContinuedAndTheDamageKept() throws IOException {
        Path file = dir.resolve("skipped.pb");
        capture(file, "damaged", 6);
        byte[] bytes = Files.readAllBytes(file);
        for (int i = 0; i < 8; i++) {
            bytes[bytes.length / 2 + i] = (byte) 0xff; // garbage inside one record, the framing intact
        }
        Files.write(file, bytes);
        capture(file, "next", 1);
        byte[] after = Files.readAllBytes(file);
        assertArrayEquals(bytes, java.util.Arrays.copyOf(after, bytes.length), "the earlier bytes are as they were");
        assertTrue(after.length > bytes.length);
    }

    @Test
    void aFileThatIsNotAStreamIsRefusedAndUntouched() throws IOException {
        Path file = dir.resolve("notes.pb");
        byte[] precious = "precious notes\n".getBytes(StandardCharsets.UTF_8);
        Files.write(file, precious);
        IOException e = assertThrows(IOException.class, () -> StreamWriter.open(file.toString(), 0, 0));
        assertTrue(e.getMessage().contains("never overwrites a file it did not write"), e.getMessage());
        assertArrayEquals(precious, Files.readAllBytes(file));
    }

    @Test
    void aRotatedRecordingGoesOnInItsNewestFile() throws IOException {
        Path base = dir.resolve("events.pb");
        capture(base, "old-0", 1);
        capture(StreamWriter.rotatedPath(base, 1), "old-1", 1);
        try (StreamWriter w = StreamWriter.open(base.toString(), 1 << 20, 0)) {
            w.start(Synthetic.header().toBuilder().setCaptureId("new").build());
            w.accept(Synthetic.failure(0));
        }
        assertEquals(1, records(base).stream().filter(StreamRecord::hasFailure).count(), "the oldest file is left alone");
        assertEquals(List.of("old-1", "new"), records(StreamWriter.rotatedPath(base, 1)).stream()
                .filter(StreamRecord::hasHeader).map(r -> r.getHeader().getCaptureId()).toList());
    }

    @Test
    void lineOutputsRefuseAFileWithBytesButTakeAnEmptyOneOrADevice() throws IOException {
        Path file = dir.resolve("out.json");
        Files.writeString(file, "{\"mine\":true}\n");
        IOException e = assertThrows(IOException.class, () -> LineOutput.toFile(file));
        assertTrue(e.getMessage().contains("already exists and holds 14 bytes"), e.getMessage());
        assertEquals("{\"mine\":true}\n", Files.readString(file));
        Path empty = Files.createFile(dir.resolve("empty.json"));
        LineOutput.toFile(empty).close();
        LineOutput.toFile(Path.of("/dev/null")).close();
    }
}
