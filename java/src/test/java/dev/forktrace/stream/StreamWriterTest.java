package dev.forktrace.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.StreamHeader;
import dev.forktrace.proto.v1.StreamRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StreamWriterTest {
    @TempDir
    Path dir;

    @Test
    void writesHeaderFailuresAndStatsThatReadBack() throws IOException {
        Path file = dir.resolve("events.pb");
        try (StreamWriter w = StreamWriter.open(file.toString(), 0, 0)) {
            w.start(Synthetic.header());
            for (int i = 0; i < 30; i++) {
                w.accept(Synthetic.failure(i));
            }
            w.stats(Synthetic.stats(30, 1, true));
        }
        List<StreamRecord> read = readFile(file);
        assertEquals(32, read.size());
        assertFalse(read.get(0).getHeader().getCaptureId().isEmpty(), "the writer gives the capture an id");
        assertEquals(Synthetic.header(), read.get(0).getHeader().toBuilder().clearCaptureId().build());
        for (int i = 0; i < 30; i++) {
            assertEquals(Synthetic.failure(i), read.get(i + 1).getFailure());
        }
        assertTrue(read.get(31).getStats().getFinal());
    }

    @Test
    void fillsInSchemaVersionStartTimeAndClocks() throws IOException {
        Path file = dir.resolve("bare.pb");
        try (StreamWriter w = StreamWriter.open(file.toString(), 0, 0)) {
            w.start(StreamHeader.newBuilder().setHostName("h").build());
            w.accept(Synthetic.failure(0));
        }
        StreamHeader h = readFile(file).get(0).getHeader();
        assertEquals(1, h.getSchemaVersion());
        assertTrue(h.hasStartTime());
        assertTrue(h.hasClocks(), "clock_gettime through FFM works on Linux");
        long drift = Math.abs(h.getClocks().getRealtimeNs() / 1_000_000 - System.currentTimeMillis());
        assertTrue(drift < 60_000, "realtime is the wall clock");
        assertTrue(h.getClocks().getBoottimeNs() >= h.getClocks().getMonotonicNs(), "boottime includes suspend");
        assertEquals("h", h.getHostName(), "the owner's values are kept");
        assertEquals(Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip(), h.getKernelRelease());
        assertEquals(Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip(), h.getBootId());
    }

    @Test
    void aFailureBeforeStartStillGetsAHeader() throws IOException {
        Path file = dir.resolve("nostart.pb");
        try (StreamWriter w = StreamWriter.open(file.toString(), 0, 0)) {
            w.accept(Synthetic.failure(0));
        }
        List<StreamRecord> read = readFile(file);
        assertTrue(read.get(0).hasHeader());
        assertEquals(Synthetic.failure(0), read.get(1).getFailure());
    }

    @Test
    void flushesOnceASecondHasPassed() throws IOException {
        Path file = dir.resolve("timed.pb");
        AtomicLong now = new AtomicLong(0);
        try (StreamWriter w = StreamWriter.forFile(file, 0, 0, now::get)) {
            w.start(Synthetic.header());
            long afterHeader = Files.size(file);
            assertTrue(afterHeader > 0, "the header is flushed at once");
            w.accept(Synthetic.failure(0));
            now.addAndGet(999_000_000L);
            w.accept(Synthetic.failure(1));
            w.flushIfDue();
            assertEquals(afterHeader, Files.size(file), "still buffered under a second");
            now.addAndGet(1_000_000L);
            w.flushIfDue();
            assertEquals(w.bytesWritten(), Files.size(file), "flushed at one second");
            List<StreamRecord> visible = readFile(file);
            assertEquals(3, visible.size(), "a reader sees every flushed record while the writer is open");
            now.addAndGet(5_000_000_000L);
            w.stats(Synthetic.stats(2, 0, false)); // a due flush is also checked on each record
            assertEquals(w.bytesWritten(), Files.size(file));
        }
    }

    @Test
    void rotatesBySizeEachFileWithItsHeader() throws IOException {
        Path file = dir.resolve("rot.pb");
        int n = 200;
        try (StreamWriter w = StreamWriter.open(file.toString(), 4096, 0)) {
            w.start(Synthetic.header());
            for (int i = 0; i < n; i++) {
                w.accept(Synthetic.failure(i));
            }
        }
        List<ForkFailure> all = new ArrayList<>();
        int files = 0;
        for (int i = 0; Files.exists(StreamWriter.rotatedPath(file, i)); i++) {
            Path p = StreamWriter.rotatedPath(file, i);
            assertTrue(Files.size(p) <= 4096, p + " is " + Files.size(p) + " bytes");
            List<StreamRecord> records = readFile(p);
            assertEquals(Synthetic.header(), records.get(0).getHeader().toBuilder().clearCaptureId().build(),
                    p + " begins with the header");
            records.stream().skip(1).forEach(r -> all.add(r.getFailure()));
            files++;
        }
        assertTrue(files > 3, "rotated into " + files + " files");
        assertEquals(dir.resolve("rot.1.pb"), StreamWriter.rotatedPath(file, 1));
        for (int i = 0; i < n; i++) {
            assertEquals(Synthetic.failure(i), all.get(i));
        }
    }

    @Test
    void keepsOnlyTheNewestFiles() throws IOException {
        Path file = dir.resolve("keep.pb");
        int last;
        try (StreamWriter w = StreamWriter.open(file.toString(), 2048, 2)) {
            w.start(Synthetic.header());
            for (int i = 0; i < 200; i++) {
                w.accept(Synthetic.failure(i));
            }
            String name = w.currentPath().getFileName().toString();
            last = Integer.parseInt(name.substring("keep.".length(), name.length() - ".pb".length()));
        }
        assertTrue(last >= 3);
        try (var listing = Files.list(dir)) {
            assertEquals(List.of("keep." + (last - 1) + ".pb", "keep." + last + ".pb"),
                    listing.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void diskFullNamesTheFileAndTheBytesWritten() throws IOException {
        Path full = Path.of("/dev/full");
        StreamWriter w = StreamWriter.open(full.toString(), 0, 0);
        IOException e = assertThrows(IOException.class, () -> w.start(Synthetic.header()));
        assertTrue(e.getMessage().startsWith("writing /dev/full failed: No space left on device; it holds 0 bytes"
                + " of complete records (0 failures)"), e.getMessage());
        IOException again = assertThrows(IOException.class, () -> w.accept(Synthetic.failure(0)));
        assertEquals(e.getMessage(), again.getMessage(), "later calls repeat the first failure");
        w.close(); // does not throw again: the caller already has the error
    }

    /** A disk with room for {@code capacity} bytes: a write takes what fits, the next one fails. */
    static final class FillingChannel implements java.nio.channels.WritableByteChannel {
        final java.io.ByteArrayOutputStream kept = new java.io.ByteArrayOutputStream();
        long room;

        FillingChannel(long capacity) {
            room = capacity;
        }

        @Override
        public int write(java.nio.ByteBuffer src) throws IOException {
            if (room == 0) {
                throw new IOException("No space left on device");
            }
            int n = (int) Math.min(room, src.remaining());
            byte[] b = new byte[n];
            src.get(b);
            kept.write(b);
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

    @Test
    void aFullDiskIsReportedWithTheExactRecordsItHolds() throws IOException {
        List<StreamRecord> records = Synthetic.withCaptureId(Synthetic.records(1000), "fixed"); // header as written
        long[] ends = Synthetic.ends(records);
        long capacity = ends[400] + 7; // the header, then 400 records, then 7 bytes of the next
        long failuresThatFit = records.subList(1, 401).stream().filter(StreamRecord::hasFailure).count();
        FillingChannel disk = new FillingChannel(capacity);
        StreamWriter w = StreamWriter.to(disk, "full.pb");
        w.start(records.get(0).getHeader());
        IOException first = null;
        long accepted = 0;
        long acceptedAtFailure = 0;
        for (StreamRecord r : records.subList(1, records.size())) {
            try {
                if (r.hasFailure()) {
                    accepted++;
                    w.accept(r.getFailure());
                } else {
                    w.stats(r.getStats());
                }
            } catch (IOException e) {
                acceptedAtFailure = first == null ? accepted : acceptedAtFailure; // the one that hit the error included
                first = first == null ? e : first;
                assertEquals(first.getMessage(), e.getMessage(), "later records repeat the first failure");
            }
        }
        assertTrue(first != null, "the disk filled up during the capture, not at its end");
        assertThrows(IOException.class, w::flush);
        assertEquals("writing full.pb failed: No space left on device; it holds " + ends[400] + " bytes of complete"
                + " records (" + failuresThatFit + " failures), all readable; " + (acceptedAtFailure - failuresThatFit)
                + " failures accepted before the error could not be written", first.getMessage());
        assertEquals(1000 - failuresThatFit, w.failuresNotWritten(), "every failure is either on the disk or counted");
        assertEquals(1000, accepted);
        w.close();
        byte[] kept = java.util.Arrays.copyOf(disk.kept.toByteArray(), (int) ends[400]);
        assertEquals(records.subList(0, 401), StreamReaderTest.readAll(kept).records());
    }

    @Test
    void unwritableDirectoryIsAClearError() {
        IOException e = assertThrows(IOException.class,
                () -> StreamWriter.open(dir.resolve("missing/dir/x.pb").toString(), 0, 0));
        assertTrue(e.getMessage().startsWith("cannot create " + dir.resolve("missing/dir/x.pb")), e.getMessage());
    }

    @Test
    void standardOutputCannotRotate() {
        assertThrows(IllegalArgumentException.class, () -> StreamWriter.open("-", 100, 0));
    }

    static List<StreamRecord> readFile(Path file) throws IOException {
        List<StreamRecord> records = new ArrayList<>();
        try (StreamReader reader = StreamReader.open(file.toString())) {
            StreamRecord r;
            while ((r = reader.next()) != null) {
                records.add(r);
            }
            assertNull(reader.next());
        }
        return records;
    }
}
