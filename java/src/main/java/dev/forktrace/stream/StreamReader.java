package dev.forktrace.stream;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.forktrace.proto.v1.SchemaVersion;
import dev.forktrace.proto.v1.StreamHeader;
import dev.forktrace.proto.v1.StreamRecord;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Reads a forktrace stream: varint-length-delimited {@link StreamRecord}s, the first a header (the framing of
 * protobuf's writeDelimitedTo). Counts bytes so that damage is reported at its exact offset, and returns every
 * complete record before it.
 *
 * <p>{@link #next()} returns null at a clean end. Bad input (empty, foreign, corrupt, cut short) ends the stream
 * with a {@link StreamFormatException}, the only exception it throws besides the IOException of a failing
 * underlying read; after it, next() returns null. One damaged record in the middle (a flipped byte: its length
 * prefix is intact but its bytes do not decode) is skipped, counted and named by offset in
 * {@link #skippedOffsets()}, and reading goes on with the next record; a skip counts only once a good record
 * follows it, otherwise the damage is reported as a tail from the first skipped offset. A stream written by a newer schema is read with a warning:
 * fields this version does not know are skipped by protobuf, records of unknown kinds are skipped and counted.
 * Concatenated streams (several headers) are accepted.
 */
public final class StreamReader implements Closeable {
    /** Larger records are damage, not data: a ForkFailure is a few kB even with a long Java stack. */
    public static final int MAX_RECORD_BYTES = 16 << 20;
    static final int CURRENT_SCHEMA = SchemaVersion.SCHEMA_VERSION_CURRENT.getNumber();

    private final InputStream in;
    private final boolean closeInput;
    private final String source;
    private final byte[] firstBytes = new byte[8];
    private int firstBytesSeen;
    private long offset;
    private long records;
    private long skippedUnknown;
    private int segmentSchema;
    private StreamHeader header;
    private boolean finished;
    private final List<String> warnings = new ArrayList<>();
    private final List<Long> skipped = new ArrayList<>();        // confirmed: a good record followed
    private final List<Long> pendingSkips = new ArrayList<>();   // not yet followed by a good record
    private String firstPendingReason;
    private long recordsBeforePending;
    /** readRecord's answer for a damaged record it stepped over. */
    private static final StreamRecord SKIPPED = StreamRecord.newBuilder().build();

    /** Where a stream assembled from a transport (a Kafka topic) says what it lost, repeated or skipped. */
    public interface Transport {
        /** Per capture, complete once the stream's end was read. */
        List<TransportGap> gaps();

        List<String> warnings();
    }

    private static final Transport FILE = new Transport() {
        public List<TransportGap> gaps() {
            return List.of();
        }

        public List<String> warnings() {
            return List.of();
        }
    };

    private final Transport transport;

    /** @param source how to name the input in messages (file name or "standard input") */
    public StreamReader(InputStream in, String source) {
        this(in, source, FILE);
    }

    public StreamReader(InputStream in, String source, Transport transport) {
        this.transport = transport;
        this.closeInput = in != System.in;
        this.in = in instanceof BufferedInputStream ? in : new BufferedInputStream(in, 1 << 16);
        this.source = source;
    }

    /** Opens a file, standard input for "-", or a Kafka topic for kafka://BOOTSTRAP/TOPIC[?from=T&to=T]. */
    public static StreamReader open(String pathOrDash) throws IOException {
        if (pathOrDash.startsWith("kafka://")) {
            return dev.forktrace.kafka.KafkaSource.open(pathOrDash); // Kafka's classes load only here
        }
        if ("-".equals(pathOrDash)) {
            return new StreamReader(System.in, "standard input");
        }
        return new StreamReader(Files.newInputStream(Path.of(pathOrDash)), pathOrDash);
    }

    /**
     * The next record, or null at the end.
     *
     * @throws StreamFormatException where the bytes stop being a stream; everything before was returned
     * @throws IOException when reading the underlying input fails
     */
    public StreamRecord next() throws IOException {
        if (peeked != null) {
            StreamRecord first = peeked;
            peeked = null;
            return first;
        }
        while (!finished) {
            StreamRecord record;
            try {
                record = readRecord();
            } catch (StreamFormatException e) {
                throw pendingSkips.isEmpty() ? e : unconfirmedSkips();
            }
            if (record == null) {
                if (!pendingSkips.isEmpty()) {
                    throw unconfirmedSkips();
                }
                return null;
            }
            if (record == SKIPPED) {
                continue;
            }
            if (record.getRecordCase() == StreamRecord.RecordCase.RECORD_NOT_SET) {
                if (segmentSchema > CURRENT_SCHEMA) {
                    skippedUnknown++;
                    offset = recordEnd;
                    continue; // a record kind added after this version: skipped, counted in warnings()
                }
                skip("a record of " + (recordEnd - recordStart) + " bytes holds no header, failure or stats");
                continue;
            }
            offset = recordEnd;
            records++;
            skipped.addAll(pendingSkips); // a good record after them: the framing held, the skips were right
            pendingSkips.clear();
            return record;
        }
        return null;
    }

    private StreamRecord peeked;

    /**
     * Reads the header now (next() still returns it first), so that a caller can refuse an input that is not a
     * stream before it creates anything.
     *
     * @throws StreamFormatException when the input is empty or not a forktrace stream
     */
    public StreamHeader requireHeader() throws IOException {
        if (records == 0 && peeked == null) {
            peeked = next();
            if (peeked == null) {
                throw new StreamFormatException(source, 0, 0, StreamFormatException.Kind.EMPTY,
                        "empty: no forktrace header (0 bytes)");
            }
        }
        return header;
    }

    /** Steps over the record just read (its length prefix was intact); it counts once a good record follows. */
    private void skip(String reason) {
        if (pendingSkips.isEmpty()) {
            firstPendingReason = reason;
            recordsBeforePending = records;
        }
        pendingSkips.add(recordStart);
        offset = recordEnd;
    }

    /** Skips that no good record followed: the framing was lost there, so it is a damaged tail after all. */
    private StreamFormatException unconfirmedSkips() {
        finished = true;
        long at = pendingSkips.get(0);
        pendingSkips.clear();
        offset = at;
        return new StreamFormatException(source, at, recordsBeforePending, StreamFormatException.Kind.CORRUPT,
                firstPendingReason);
    }

    // Where the record being read starts and ends; offset moves to recordEnd once it is accepted.
    private long recordStart;
    private long recordEnd;

    private StreamRecord readRecord() throws IOException {
        recordStart = offset;
        long position = offset;
        long length = 0;
        int shift = 0;
        while (true) {
            int b = read();
            if (b < 0) {
                if (position == recordStart) {
                    finished = true;
                    if (records == 0) {
                        throw new StreamFormatException(source, 0, 0, StreamFormatException.Kind.EMPTY,
                                "empty: no forktrace header (0 bytes)");
                    }
                    return null; // clean end: the last record was complete
                }
                throw damage(StreamFormatException.Kind.TRUNCATED, "the stream ends inside a record's length prefix");
            }
            position++;
            length |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
            shift += 7;
            if (shift > 28) { // a length of 16 MiB needs 4 bytes; a fifth continuation byte is not a length
                throw damage(StreamFormatException.Kind.CORRUPT, "the record length prefix is not a valid varint");
            }
        }
        if (length > MAX_RECORD_BYTES) {
            throw damage(StreamFormatException.Kind.CORRUPT, "a record declares " + length
                    + " bytes, more than the " + MAX_RECORD_BYTES + "-byte limit");
        }
        byte[] payload = in.readNBytes((int) length);
        noteFirstBytes(payload);
        if (payload.length < length) {
            throw damage(StreamFormatException.Kind.TRUNCATED, "a record declares " + length + " bytes but only "
                    + payload.length + " follow (the stream was cut short)");
        }
        position += length;
        StreamRecord record;
        try {
            record = StreamRecord.parseFrom(payload);
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            String reason = "a record of " + length + " bytes does not decode (" + e.getMessage() + ")";
            if (records == 0) {
                throw damage(StreamFormatException.Kind.CORRUPT, reason);
            }
            recordEnd = position;
            skip(reason);
            return SKIPPED;
        }
        if (record.hasHeader()) {
            checkHeader(record.getHeader());
        } else if (records == 0) {
            throw notAStream("it does not begin with a StreamHeader record");
        }
        recordEnd = position;
        return record;
    }

    private void checkHeader(StreamHeader h) throws StreamFormatException {
        int version = h.getSchemaVersion();
        if (version == 0) {
            if (records == 0) {
                throw notAStream("its first record has no schema version");
            }
            throw damage(StreamFormatException.Kind.CORRUPT, "a header record has no schema version");
        }
        if (version > CURRENT_SCHEMA) {
            warnings.add(source + ": written with schema version " + version + ", newer than this reader's "
                    + CURRENT_SCHEMA + ": reading the fields it knows");
        }
        segmentSchema = version;
        if (header == null) {
            header = h;
        }
    }

    private int read() throws IOException {
        int b = in.read();
        if (b >= 0 && firstBytesSeen < firstBytes.length) {
            firstBytes[firstBytesSeen++] = (byte) b;
        }
        return b;
    }

    private void noteFirstBytes(byte[] payload) {
        for (int i = 0; i < payload.length && firstBytesSeen < firstBytes.length; i++) {
            firstBytes[firstBytesSeen++] = payload[i];
        }
    }

    private StreamFormatException damage(StreamFormatException.Kind kind, String reason) {
        finished = true;
        if (records == 0) {
            return notAStream(reason);
        }
        return new StreamFormatException(source, recordStart, records, kind, reason);
    }

    private StreamFormatException notAStream(String reason) {
        finished = true;
        return new StreamFormatException(source, 0, 0, StreamFormatException.Kind.NOT_A_STREAM,
                "not a forktrace stream: " + reason + " (first bytes: "
                        + HexFormat.ofDelimiter(" ").formatHex(firstBytes, 0, firstBytesSeen) + ")");
    }

    /** The first header, or null before it was read. */
    public StreamHeader header() {
        return header;
    }

    /** Bytes of complete records read so far: where the next record starts. */
    public long offset() {
        return offset;
    }

    /** Complete records returned so far. */
    public long records() {
        return records;
    }

    /** Byte offsets of the damaged records that were skipped (a good record followed each run of them). */
    public List<Long> skippedOffsets() {
        return List.copyOf(skipped);
    }

    /** Warnings for the operator (newer schema, skipped record kinds, skipped damaged records). */
    public List<String> warnings() {
        List<String> all = new ArrayList<>(warnings);
        all.addAll(transport.warnings());
        if (!skipped.isEmpty()) {
            all.add(source + ": skipped " + skipped.size() + " damaged record(s) at byte offset(s) "
                    + offsetList(skipped) + " and read on: the records after them are intact");
        }
        if (skippedUnknown > 0) {
            all.add(source + ": skipped " + skippedUnknown + " record(s) of a kind added by a newer schema");
        }
        return all;
    }

    /** What the transport lost or repeated, per capture (empty for files); complete once next() returned null. */
    public List<TransportGap> transportGaps() {
        return transport.gaps();
    }

    static String offsetList(List<Long> offsets) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < offsets.size() && i < 20; i++) {
            b.append(i == 0 ? "" : ", ").append(offsets.get(i));
        }
        return offsets.size() > 20 ? b + " and " + (offsets.size() - 20) + " more" : b.toString();
    }

    public String source() {
        return source;
    }

    @Override
    public void close() throws IOException {
        if (closeInput) {
            in.close();
        }
    }
}
