package dev.forktrace.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.UnknownFieldSet;
import dev.forktrace.proto.v1.StreamRecord;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StreamReaderTest {
    static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};

    /** Reads until the end or damage; the damage is returned in the list's last slot as null + exception. */
    record Outcome(List<StreamRecord> records, StreamFormatException damage, StreamReader reader) {}

    static Outcome readAll(byte[] bytes) throws IOException {
        StreamReader reader = new StreamReader(new ByteArrayInputStream(bytes), "test.pb");
        List<StreamRecord> records = new ArrayList<>();
        try {
            StreamRecord r;
            while ((r = reader.next()) != null) {
                records.add(r);
            }
            assertNull(reader.next(), "stays at the end");
            return new Outcome(records, null, reader);
        } catch (StreamFormatException e) {
            assertNull(reader.next(), "nothing after the damage");
            return new Outcome(records, e, reader);
        }
    }

    @Test
    void cleanStreamReadsEveryRecordAndEndsAtItsLength() throws IOException {
        List<StreamRecord> written = Synthetic.records(25);
        byte[] bytes = Synthetic.encode(written);
        Outcome o = readAll(bytes);
        assertNull(o.damage());
        assertEquals(written, o.records());
        assertEquals(bytes.length, o.reader().offset());
        assertEquals(written.size(), o.reader().records());
        assertEquals(Synthetic.header(), o.reader().header());
        assertTrue(o.reader().warnings().isEmpty());
    }

    @Test
    void truncationAtEveryByteOfTheLastRecordsKeepsTheCompleteOnes() throws IOException {
        List<StreamRecord> written = Synthetic.records(5);
        byte[] bytes = Synthetic.encode(written);
        long[] ends = Synthetic.ends(written);
        for (int cut = (int) ends[0] + 1; cut < bytes.length; cut++) {
            Outcome o = readAll(Arrays.copyOf(bytes, cut));
            int complete = 0;
            while (complete < ends.length && ends[complete] <= cut) {
                complete++;
            }
            assertEquals(written.subList(0, complete), o.records(), "cut at " + cut);
            if (ends[complete - 1] == cut) {
                assertNull(o.damage(), "a cut between records is a clean end");
            } else {
                assertEquals(StreamFormatException.Kind.TRUNCATED, o.damage().kind(), "cut at " + cut);
                assertEquals(ends[complete - 1], o.damage().offset(), "damage starts after the last complete record");
                assertEquals(complete, o.damage().completeRecords());
                assertTrue(o.damage().getMessage().startsWith("test.pb: damaged tail from byte " + ends[complete - 1]),
                        o.damage().getMessage());
            }
        }
    }

    @Test
    void garbageAppendedIsReportedWhereItStarts() throws IOException {
        List<StreamRecord> written = Synthetic.records(12);
        byte[] stream = Synthetic.encode(written);
        for (byte[] garbage : List.of(PNG, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1},
                "hello, this is a log line\n".getBytes(StandardCharsets.US_ASCII), new byte[] {0})) {
            byte[] bytes = concat(stream, garbage);
            Outcome o = readAll(bytes);
            assertEquals(written, o.records());
            assertEquals(stream.length, o.damage().offset(), o.damage().getMessage());
            assertTrue(o.damage().kind() == StreamFormatException.Kind.CORRUPT
                    || o.damage().kind() == StreamFormatException.Kind.TRUNCATED);
        }
    }

    /** Record {@code index} of the stream with its first payload byte zeroed: tag 0, which never decodes. */
    static byte[] withUndecodableRecord(List<StreamRecord> written, int index) {
        byte[] bytes = Synthetic.encode(written);
        long start = Synthetic.ends(written)[index - 1];
        int prefix = CodedOutputStream.computeUInt32SizeNoTag(written.get(index).getSerializedSize());
        bytes[(int) start + prefix] = 0;
        return bytes;
    }

    @Test
    void aDamagedRecordInTheMiddleIsSkippedCountedAndTheRestRead() throws IOException {
        List<StreamRecord> written = Synthetic.records(40);
        long[] ends = Synthetic.ends(written);
        byte[] bytes = withUndecodableRecord(written, 15);
        Outcome o = readAll(bytes);
        assertNull(o.damage(), () -> o.damage().getMessage());
        List<StreamRecord> expected = new ArrayList<>(written);
        expected.remove(15);
        assertEquals(expected, o.records(), "every record but the damaged one");
        assertEquals(List.of(ends[14]), o.reader().skippedOffsets());
        assertEquals(bytes.length, o.reader().offset());
        String warnings = String.join("\n", o.reader().warnings());
        assertTrue(warnings.contains("skipped 1 damaged region(s), " + (ends[15] - ends[14]) + " byte(s), at byte offset(s) "
                + ends[14]), warnings);

        byte[] two = withUndecodableRecord(written, 30);
        two[(int) ends[14] + CodedOutputStream.computeUInt32SizeNoTag(written.get(15).getSerializedSize())] = 0;
        Outcome both = readAll(two);
        assertNull(both.damage());
        assertEquals(written.size() - 2, both.records().size());
        assertEquals(List.of(ends[14], ends[29]), both.reader().skippedOffsets());
    }

    @Test
    void aDamagedLastRecordIsStillADamagedTail() throws IOException {
        List<StreamRecord> written = Synthetic.records(5);
        long[] ends = Synthetic.ends(written);
        Outcome o = readAll(withUndecodableRecord(written, written.size() - 1));
        assertEquals(written.subList(0, written.size() - 1), o.records());
        assertEquals(StreamFormatException.Kind.CORRUPT, o.damage().kind());
        assertEquals(ends[written.size() - 2], o.damage().offset(), "no good record followed: not a resync");
        assertTrue(o.reader().skippedOffsets().isEmpty());
    }

    @Test
    void emptyInputIsAnError() throws IOException {
        Outcome o = readAll(new byte[0]);
        assertEquals(StreamFormatException.Kind.EMPTY, o.damage().kind());
        assertEquals(0, o.damage().offset());
        assertEquals("test.pb: empty: no forktrace header (0 bytes)", o.damage().getMessage());
    }

    @Test
    void foreignFilesAreNotStreams() throws IOException {
        Outcome png = readAll(PNG);
        assertEquals(StreamFormatException.Kind.NOT_A_STREAM, png.damage().kind());
        assertEquals(0, png.damage().offset());
        assertTrue(png.damage().getMessage().contains("not a forktrace stream"), png.damage().getMessage());
        assertTrue(png.damage().getMessage().contains("89 50 4e 47"), png.damage().getMessage());

        Outcome text = readAll("{\"cause\":\"PIDS_CGROUP_LIMIT\"}\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(StreamFormatException.Kind.NOT_A_STREAM, text.damage().kind());

        // A valid stream of another protobuf message: the first record is a failure, not a header.
        byte[] headerless = Synthetic.encode(Synthetic.records(3).subList(1, 4));
        Outcome o = readAll(headerless);
        assertEquals(StreamFormatException.Kind.NOT_A_STREAM, o.damage().kind());
        assertTrue(o.damage().getMessage().contains("does not begin with a StreamHeader"), o.damage().getMessage());

        Random random = new Random(7);
        for (int i = 0; i < 200; i++) {
            byte[] noise = new byte[1 + random.nextInt(300)];
            random.nextBytes(noise);
            Outcome r = readAll(noise);
            assertTrue(r.damage() != null || !r.records().isEmpty() && r.records().get(0).hasHeader());
        }
    }

    @Test
    void newerSchemaWarnsAndReadsWhatItKnows() throws IOException {
        List<StreamRecord> written = Synthetic.records(3);
        StreamRecord newerHeader = StreamRecord.newBuilder()
                .setHeader(written.get(0).getHeader().toBuilder().setSchemaVersion(7)).build();
        // A ForkFailure with a field from the future (number 99), and a record of a kind from the future (15).
        StreamRecord futureFailure = written.get(1).toBuilder()
                .setFailure(written.get(1).getFailure().toBuilder().setUnknownFields(UnknownFieldSet.newBuilder()
                        .addField(99, UnknownFieldSet.Field.newBuilder().addVarint(42).build()).build()))
                .build();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        newerHeader.writeDelimitedTo(out);
        futureFailure.writeDelimitedTo(out);
        byte[] futureKind = futureRecord();
        CodedOutputStream coded = CodedOutputStream.newInstance(out);
        coded.writeUInt32NoTag(futureKind.length);
        coded.writeRawBytes(futureKind);
        coded.flush();
        written.get(2).writeDelimitedTo(out);

        Outcome o = readAll(out.toByteArray());
        assertNull(o.damage());
        assertEquals(3, o.records().size());
        assertEquals(7, o.records().get(0).getHeader().getSchemaVersion());
        assertEquals(written.get(1).getFailure().getPid(), o.records().get(1).getFailure().getPid());
        assertEquals(written.get(2), o.records().get(2));
        String warnings = String.join("\n", o.reader().warnings());
        assertTrue(warnings.contains("schema version 7, newer than this reader's 1"), warnings);
        assertTrue(warnings.contains("skipped 1 record(s)"), warnings);
    }

    @Test
    void aRecordOfUnknownKindInACurrentStreamIsDamage() throws IOException {
        List<StreamRecord> written = Synthetic.records(2);
        byte[] stream = Synthetic.encode(written);
        byte[] futureKind = futureRecord();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(stream);
        out.write(futureKind.length);
        out.write(futureKind);
        Outcome o = readAll(out.toByteArray());
        assertEquals(written, o.records());
        assertEquals(StreamFormatException.Kind.CORRUPT, o.damage().kind());
        assertEquals(stream.length, o.damage().offset());
    }

    @Test
    void oversizedLengthIsCorruptWithoutReadingIt() throws IOException {
        byte[] stream = Synthetic.encode(Synthetic.records(1));
        byte[] huge = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x7f}; // 266 MB declared
        Outcome o = readAll(concat(stream, huge));
        assertEquals(StreamFormatException.Kind.CORRUPT, o.damage().kind());
        assertTrue(o.damage().reason().contains("more than the"), o.damage().reason());
        assertEquals(stream.length, o.damage().offset());
    }

    @Test
    void concatenatedStreamsReadAsOne() throws IOException {
        List<StreamRecord> a = Synthetic.records(3);
        List<StreamRecord> all = new ArrayList<>(a);
        all.addAll(a);
        Outcome o = readAll(Synthetic.encode(all));
        assertNull(o.damage());
        assertEquals(all, o.records());
    }

    @Test
    void missingFileIsAnIOExceptionNotAFormatError() {
        IOException e = assertThrows(IOException.class, () -> StreamReader.open("/nonexistent/forktrace.pb"));
        assertTrue(!(e instanceof StreamFormatException));
    }

    /** A StreamRecord with field 4, a record kind this schema does not have. */
    static byte[] futureRecord() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        CodedOutputStream c = CodedOutputStream.newInstance(b);
        c.writeString(15, "a record kind from the future"); // 4 is Headroom since schema 1 gained it
        c.flush();
        return b.toByteArray();
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
