package dev.forktrace.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.CodedInputStream;
import dev.forktrace.proto.v1.StreamRecord;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 12 item 7 on a real recording: one damaged byte anywhere after the header, in a record's length prefix
 * as well as in its bytes, costs at most that record. The reader resynchronises on the next intact record and
 * every later record is read, unchanged; the skipped bytes are exactly the damaged record's.
 *
 * <p>The stream was recorded by {@code forktrace watch --output} on the 6.18 host: a pids cgroup with
 * pids.max 6, two fork loops and a thread spawner inside (43 PIDS_CGROUP_LIMIT failures, 46 records).
 */
class StreamResyncTest {
    static final Path RECORDING = Path.of("java/src/test/resources/streams/pids-cgroup-43-failures.pb");

    /** One record of the recording: where its length prefix starts, where its payload starts and ends. */
    record Frame(int start, int payload, int end, StreamRecord record) {}

    /** The recording's framing, read with protobuf's own CodedInputStream (not the reader under test). */
    static List<Frame> frames(byte[] bytes) throws IOException {
        List<Frame> frames = new ArrayList<>();
        CodedInputStream in = CodedInputStream.newInstance(bytes);
        while (!in.isAtEnd()) {
            int start = in.getTotalBytesRead();
            int length = in.readRawVarint32();
            int payload = in.getTotalBytesRead();
            StreamRecord record = StreamRecord.parseFrom(in.readRawBytes(length));
            frames.add(new Frame(start, payload, payload + length, record));
        }
        return frames;
    }

    record Outcome(List<StreamRecord> records, StreamFormatException damage, StreamReader reader) {}

    static Outcome read(byte[] bytes) throws IOException {
        StreamReader reader = new StreamReader(new ByteArrayInputStream(bytes), "recording.pb");
        List<StreamRecord> records = new ArrayList<>();
        try {
            StreamRecord r;
            while ((r = reader.next()) != null) {
                records.add(r);
            }
            return new Outcome(records, null, reader);
        } catch (StreamFormatException e) {
            assertNull(reader.next(), "nothing after the damage");
            return new Outcome(records, e, reader);
        }
    }

    @Test
    void theRecordingReadsWhole() throws IOException {
        byte[] bytes = Files.readAllBytes(RECORDING);
        List<Frame> frames = frames(bytes);
        Outcome o = read(bytes);
        assertNull(o.damage());
        assertEquals(frames.stream().map(Frame::record).toList(), o.records());
        assertEquals(43, o.records().stream().filter(StreamRecord::hasFailure).count());
        assertTrue(frames.stream().anyMatch(f -> f.payload() - f.start() == 2), "two-byte length prefixes exist");
    }

    /**
     * Every bit of every length prefix after the header, and bytes spread over each record's payload: the
     * records before and after the damaged one are all read; the damaged one is kept (a flip that still
     * decodes, such as one inside a string) or skipped as exactly its own bytes.
     */
    @Test
    void oneDamagedByteAnywhereCostsAtMostItsRecord() throws IOException {
        byte[] original = Files.readAllBytes(RECORDING);
        List<Frame> frames = frames(original);
        List<StreamRecord> written = frames.stream().map(Frame::record).toList();
        int cases = 0;
        int prefixCases = 0;
        int skippedCases = 0;
        for (int k = 1; k < frames.size(); k++) {
            Frame f = frames.get(k);
            List<int[]> flips = new ArrayList<>(); // {offset, xor mask}
            for (int at = f.start(); at < f.payload(); at++) {
                for (int bit = 0; bit < 8; bit++) {
                    flips.add(new int[] {at, 1 << bit});
                }
            }
            int payloadLength = f.end() - f.payload();
            for (int i = 0; i < 8; i++) {
                flips.add(new int[] {f.payload() + (int) ((long) payloadLength * i / 8), 0xff});
            }
            flips.add(new int[] {f.end() - 1, 0x5a});
            for (int[] flip : flips) {
                byte[] bytes = original.clone();
                bytes[flip[0]] ^= (byte) flip[1];
                String what = "record " + k + " of " + frames.size() + ", byte " + flip[0] + " ^= 0x"
                        + Integer.toHexString(flip[1]) + (flip[0] < f.payload() ? " (length prefix)" : "");
                Outcome o = read(bytes);
                cases++;
                prefixCases += flip[0] < f.payload() ? 1 : 0;
                List<StreamRecord> before = written.subList(0, k);
                List<StreamRecord> after = written.subList(k + 1, written.size());
                if (o.records().size() < before.size() + after.size()) {
                    fail(what + ": read " + o.records().size() + " records, " + (before.size() + after.size())
                            + " are intact" + (o.damage() == null ? "" : "; " + o.damage().getMessage()));
                }
                assertEquals(before, o.records().subList(0, k), what);
                assertEquals(after, o.records().subList(o.records().size() - after.size(), o.records().size()), what);
                boolean lastRecord = k == frames.size() - 1;
                if (o.records().size() == written.size()) {
                    continue; // the flip still decodes: the record is kept (altered), nothing was skipped
                }
                skippedCases++;
                if (lastRecord) {
                    assertNotNull(o.damage(), what + ": nothing intact follows the last record: a damaged tail");
                    assertEquals(f.start(), o.damage().offset(), what);
                    continue;
                }
                assertNull(o.damage(), () -> what + ": " + o.damage().getMessage());
                List<StreamReader.DamagedRegion> regions = o.reader().damagedRegions();
                assertEquals(1, regions.size(), what);
                assertEquals(f.start(), regions.get(0).offset(), what);
                assertEquals(f.end() - f.start(), regions.get(0).bytes(), what + ": exactly the damaged record");
                assertEquals(bytes.length, o.reader().offset(), what);
                if (frames.get(k - 1).record().hasFailure() && f.record().hasFailure()
                        && frames.get(k + 1).record().hasFailure()) {
                    assertEquals(1, regions.get(0).failuresMissing(), what + ": one sequence number is missing");
                }
                String warnings = String.join("\n", o.reader().warnings());
                assertTrue(warnings.contains("skipped 1 damaged region(s), " + (f.end() - f.start()) + " byte(s), at"
                        + " byte offset(s) " + f.start()), warnings);
            }
        }
        assertTrue(prefixCases > 300, "length prefixes damaged " + prefixCases + " times");
        assertTrue(skippedCases > cases / 2, "most flips make a record undecodable: " + skippedCases + " of " + cases);
    }

    /** Damage in two places: both regions are skipped and counted, everything else is read. */
    @Test
    void twoDamagedRecordsAreTwoRegions() throws IOException {
        byte[] bytes = Files.readAllBytes(RECORDING);
        List<Frame> frames = frames(bytes);
        Frame a = frames.get(5);
        Frame b = frames.get(30);
        bytes[a.start()] ^= 0x40; // its length prefix
        bytes[b.payload()] = 0;   // tag 0 never decodes
        Outcome o = read(bytes);
        assertNull(o.damage());
        assertEquals(frames.size() - 2, o.records().size());
        assertEquals(List.of((long) a.start(), (long) b.start()), o.reader().skippedOffsets());
        assertEquals((a.end() - a.start()) + (b.end() - b.start()), o.reader().skippedBytes());
    }

    /** The report says how many bytes were skipped and which failures are missing. */
    @Test
    void reportSaysWhatWasSkipped() throws IOException {
        byte[] bytes = Files.readAllBytes(RECORDING);
        List<Frame> frames = frames(bytes);
        int k = 20;
        while (!frames.get(k).record().hasFailure() || !frames.get(k + 1).record().hasFailure()) {
            k++;
        }
        Frame f = frames.get(k);
        bytes[f.start()] ^= 0x01;
        Report report = new Report();
        try (StreamReader reader = new StreamReader(new ByteArrayInputStream(bytes), "flipped.pb")) {
            assertTrue(!report.read(reader), "a damaged input is reported as such");
        }
        assertEquals(42, report.inputs().get(0).failures());
        String text = report.toText();
        assertTrue(text.contains("DAMAGED: skipped 1 damaged region(s), " + (f.end() - f.start()) + " byte(s), at byte"
                + " offset(s) " + f.start() + ", and read on from the next intact record; 1 failure(s) missing"), text);
        String json = report.toJson();
        assertTrue(json.contains("\"skipped_bytes\":" + (f.end() - f.start())), json);
        assertTrue(json.contains("\"failures_missing\":1"), json);
    }
}
