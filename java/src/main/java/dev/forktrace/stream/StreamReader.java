package dev.forktrace.stream;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.forktrace.proto.v1.SchemaVersion;
import dev.forktrace.proto.v1.StreamHeader;
import dev.forktrace.proto.v1.StreamRecord;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * Reads a forktrace stream: varint-length-delimited {@link StreamRecord}s, the first a header (the framing of
 * protobuf's writeDelimitedTo). Counts bytes so that damage is reported at its exact offset, and returns every
 * complete record before it.
 *
 * <p>{@link #next()} returns null at a clean end. Bad input (empty, foreign, corrupt, cut short) ends the stream
 * with a {@link StreamFormatException}, the only exception it throws besides the IOException of a failing
 * underlying read; after it, next() returns null.
 *
 * <p>Damage after the header does not end the stream when intact records follow it: from the byte after the bad
 * record's start, the reader looks for the next offset where a record starts that decodes exactly (its length
 * prefix, its fields, nothing left over) and that is itself followed by such a record or by the clean end. The
 * bytes in between are a {@link DamagedRegion}: skipped, counted ({@link #damagedRegions()}, {@link #warnings()})
 * and reading goes on. This holds wherever the flipped byte lies, in a record's bytes or in its length prefix.
 * Only when no such record follows is the damage a tail, reported from where it starts.
 *
 * <p>A stream written by a newer schema is read with a warning: fields this version does not know are skipped by
 * protobuf, records of unknown kinds are skipped and counted. Concatenated streams (several headers) are
 * accepted.
 */
public final class StreamReader implements Closeable {
    /** Larger records are damage, not data: a ForkFailure is a few kB even with a long Java stack. */
    public static final int MAX_RECORD_BYTES = 16 << 20;
    static final int CURRENT_SCHEMA = SchemaVersion.SCHEMA_VERSION_CURRENT.getNumber();
    private static final int FIRST_BYTES = 8;

    /**
     * Bytes skipped between two intact records. {@code failuresMissing} counts the failure sequence numbers
     * between the last failure before and the first after (-1 when the records around it do not tell).
     */
    public record DamagedRegion(long offset, long bytes, String reason, long failuresMissing) {}

    private final InputStream in;
    private final boolean closeInput;
    private final String source;
    // A window onto the input: bytes [windowStart, windowStart + windowLength). A resynchronisation reads ahead
    // and comes back, so a record's bytes stay in the window until the reader has moved past them.
    private byte[] window = new byte[1 << 16];
    private long windowStart;
    private int windowLength;
    private long keepFrom;
    private boolean inputEnded;
    private final byte[] firstBytes = new byte[FIRST_BYTES];
    private int firstBytesSeen;
    private long offset;
    private long records;
    private long skippedUnknown;
    private int segmentSchema;
    private long lastFailureSequence; // of the current segment (a concatenated stream starts over)
    private int regionAwaitingSequence = -1; // the damaged region whose missing failures the next one tells
    private StreamHeader header;
    private boolean finished;
    private final List<String> warnings = new ArrayList<>();
    private final List<DamagedRegion> damaged = new ArrayList<>();

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
        this.in = in;
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
            keepFrom = offset;
            Parsed p = parseAt(offset);
            if (p.cleanEnd()) {
                finished = true;
                if (records == 0) {
                    throw new StreamFormatException(source, 0, 0, StreamFormatException.Kind.EMPTY,
                            "empty: no forktrace header (0 bytes)");
                }
                return null; // the last record was complete
            }
            if (p.problem() == null && records == 0 && !p.record().hasHeader()) {
                throw notAStream("it does not begin with a StreamHeader record");
            }
            if (p.problem() == null && p.record().hasHeader() && p.record().getHeader().getSchemaVersion() == 0) {
                if (records == 0) {
                    throw notAStream("its first record has no schema version");
                }
                p = new Parsed(null, p.end(), StreamFormatException.Kind.CORRUPT, "a header record has no schema version");
            }
            if (p.problem() != null) {
                if (records == 0) {
                    throw notAStream(p.problem());
                }
                resynchronise(p);
                continue;
            }
            StreamRecord record = p.record();
            offset = p.end();
            if (record.getRecordCase() == StreamRecord.RecordCase.RECORD_NOT_SET) {
                skippedUnknown++; // a record kind added after this version (parseAt lets these through only then)
                continue;
            }
            accept(record);
            return record;
        }
        return null;
    }

    private void accept(StreamRecord record) {
        records++;
        switch (record.getRecordCase()) {
            case HEADER -> {
                StreamHeader h = record.getHeader();
                int version = h.getSchemaVersion();
                if (version > CURRENT_SCHEMA) {
                    warnings.add(source + ": written with schema version " + version + ", newer than this reader's "
                            + CURRENT_SCHEMA + ": reading the fields it knows");
                }
                segmentSchema = version;
                lastFailureSequence = 0; // another capture may follow: its numbers start over
                regionAwaitingSequence = -1;
                if (header == null) {
                    header = h;
                }
            }
            case FAILURE -> {
                long sequence = record.getFailure().getSequence();
                if (sequence == 0) {
                    break; // not numbered
                }
                if (regionAwaitingSequence >= 0 && lastFailureSequence > 0 && sequence > lastFailureSequence) {
                    DamagedRegion d = damaged.get(regionAwaitingSequence);
                    damaged.set(regionAwaitingSequence, new DamagedRegion(d.offset(), d.bytes(), d.reason(),
                            sequence - lastFailureSequence - 1));
                }
                regionAwaitingSequence = -1;
                lastFailureSequence = sequence;
            }
            default -> { }
        }
    }

    /**
     * After the bad record {@code bad} at {@link #offset}: moves to the next offset where an intact record starts,
     * counting the bytes in between, or ends the stream with the damage as its tail when none does.
     */
    private void resynchronise(Parsed bad) throws IOException {
        long at = offset;
        for (long candidate = at + 1; ; candidate++) {
            keepFrom = candidate;
            if (!mayStartARecord(candidate)) {
                continue;
            }
            Parsed p = parseAt(candidate);
            if (p.cleanEnd()) {
                break;
            }
            if (p.problem() != null || !plausible(p.record())) {
                continue;
            }
            Parsed following = parseAt(p.end());
            if (following.cleanEnd() || following.problem() == null && plausible(following.record())) {
                damaged.add(new DamagedRegion(at, candidate - at, bad.problem(), -1));
                regionAwaitingSequence = damaged.size() - 1;
                offset = candidate;
                return;
            }
        }
        finished = true;
        throw new StreamFormatException(source, at, records, bad.kind(), bad.problem());
    }

    /**
     * A cheap first look at a resynchronisation candidate, before it is decoded: a length prefix of a non-empty
     * record whose first byte is the tag of one of the record kinds (fields 1 to 4, length-delimited), as the
     * writer puts it first. In a stream of a newer schema any record may follow, so everything is decoded.
     */
    private boolean mayStartARecord(long at) throws IOException {
        if (segmentSchema > CURRENT_SCHEMA) {
            return true;
        }
        int available = fill(at, 7);
        if (available == 0) {
            return true; // decoded below: the end of the input
        }
        int base = (int) (at - windowStart);
        if (window[base] == 0) {
            return false; // length 0: an empty record is no record
        }
        int prefix = 0;
        while (prefix < available && prefix < 5 && (window[base + prefix] & 0x80) != 0) {
            prefix++;
        }
        if (prefix + 1 >= available) {
            return true; // too near the end to look: decoded (and found cut short) below
        }
        int tag = window[base + prefix + 1] & 0xff;
        return tag == 0x0a || tag == 0x12 || tag == 0x1a || tag == 0x22;
    }

    /** What a candidate found by resynchronisation must look like beyond decoding: fields a writer always sets. */
    private boolean plausible(StreamRecord r) {
        return switch (r.getRecordCase()) {
            case HEADER -> r.getHeader().getSchemaVersion() > 0 && r.getHeader().hasStartTime();
            case FAILURE -> r.getFailure().hasTime();
            case STATS -> r.getStats().hasTime();
            case HEADROOM -> r.getHeadroom().hasTime();
            case RECORD_NOT_SET -> false;
        };
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

    /**
     * A record read at an offset: {@code record} and its {@code end}, or the {@code problem} (and its kind) that
     * makes the bytes there not a record; neither at the clean end of the input.
     */
    private record Parsed(StreamRecord record, long end, StreamFormatException.Kind kind, String problem) {
        static final Parsed CLEAN_END = new Parsed(null, -1, null, null);

        boolean cleanEnd() {
            return this == CLEAN_END;
        }

        static Parsed bad(StreamFormatException.Kind kind, String problem) {
            return new Parsed(null, -1, kind, problem);
        }
    }

    /** Decodes the record that starts at {@code at}; never moves the reader. */
    private Parsed parseAt(long at) throws IOException {
        int available = fill(at, 5);
        if (available == 0) {
            return Parsed.CLEAN_END;
        }
        int base = (int) (at - windowStart);
        long length = 0;
        int prefix = 0;
        while (true) {
            if (prefix == available) {
                return Parsed.bad(StreamFormatException.Kind.TRUNCATED, "the stream ends inside a record's length prefix");
            }
            int b = window[base + prefix] & 0xff;
            length |= (long) (b & 0x7f) << (7 * prefix);
            prefix++;
            if ((b & 0x80) == 0) {
                break;
            }
            if (prefix == 5) { // a length of 16 MiB needs 4 bytes; a fifth continuation byte is not a length
                return Parsed.bad(StreamFormatException.Kind.CORRUPT, "the record length prefix is not a valid varint");
            }
        }
        if (length > MAX_RECORD_BYTES) {
            return Parsed.bad(StreamFormatException.Kind.CORRUPT, "a record declares " + length
                    + " bytes, more than the " + MAX_RECORD_BYTES + "-byte limit");
        }
        int size = (int) length;
        int present = fill(at + prefix, size);
        if (present < size) {
            return Parsed.bad(StreamFormatException.Kind.TRUNCATED, "a record declares " + length + " bytes but only "
                    + present + " follow (the stream was cut short)");
        }
        base = (int) (at + prefix - windowStart);
        StreamRecord record;
        try {
            record = StreamRecord.parser().parseFrom(window, base, size);
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            return Parsed.bad(StreamFormatException.Kind.CORRUPT,
                    "a record of " + length + " bytes does not decode (" + e.getMessage() + ")");
        }
        boolean newerSchema = segmentSchema > CURRENT_SCHEMA;
        if (!newerSchema && record.getRecordCase() == StreamRecord.RecordCase.RECORD_NOT_SET) {
            return Parsed.bad(StreamFormatException.Kind.CORRUPT,
                    "a record of " + length + " bytes holds no header, failure or stats");
        }
        // A length prefix damaged into a larger one takes the next record's bytes in: they decode as fields
        // this schema does not have, or as a second copy of the record's field, which protobuf merges silently.
        if (!newerSchema && !record.getUnknownFields().asMap().isEmpty()) {
            return Parsed.bad(StreamFormatException.Kind.CORRUPT,
                    "a record of " + length + " bytes holds fields that are not part of a record");
        }
        if (record.getSerializedSize() != size) {
            return Parsed.bad(StreamFormatException.Kind.CORRUPT, "a record of " + length
                    + " bytes decodes to " + record.getSerializedSize() + " bytes (two records run into each other)");
        }
        return new Parsed(record, at + prefix + size, null, null);
    }

    /**
     * Makes the bytes [from, from + n) present in the window as far as the input holds them, dropping those
     * before keepFrom; returns how many are present.
     */
    private int fill(long from, int n) throws IOException {
        long end = from + n;
        if (end > windowStart + windowLength && !inputEnded) {
            int drop = (int) (Math.min(keepFrom, from) - windowStart);
            if (drop > 0) {
                System.arraycopy(window, drop, window, 0, windowLength - drop);
                windowStart += drop;
                windowLength -= drop;
            }
            long needed = end - windowStart;
            if (needed > window.length) {
                window = Arrays.copyOf(window, (int) Math.max(needed, Math.min((long) window.length * 2, MAX_RECORD_BYTES + 8L)));
            }
            while (windowStart + windowLength < end) {
                int got = in.read(window, windowLength, window.length - windowLength);
                if (got < 0) {
                    inputEnded = true;
                    break;
                }
                noteFirstBytes(got);
                windowLength += got;
            }
        }
        return (int) Math.max(0, Math.min(end, windowStart + windowLength) - from);
    }

    private void noteFirstBytes(int got) {
        if (windowStart == 0) {
            while (firstBytesSeen < FIRST_BYTES && firstBytesSeen < windowLength + got) {
                firstBytes[firstBytesSeen] = window[firstBytesSeen];
                firstBytesSeen++;
            }
        }
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

    /** Where damaged bytes were skipped, an intact record after each (the order of the input). */
    public List<DamagedRegion> damagedRegions() {
        return List.copyOf(damaged);
    }

    /** Byte offsets of the damaged regions that were skipped. */
    public List<Long> skippedOffsets() {
        return damaged.stream().map(DamagedRegion::offset).toList();
    }

    /** Bytes skipped in damaged regions. */
    public long skippedBytes() {
        return damaged.stream().mapToLong(DamagedRegion::bytes).sum();
    }

    /** Failures missing from the damaged regions by their sequence numbers, where those tell. */
    public long failuresMissingInDamage() {
        return damaged.stream().mapToLong(d -> Math.max(0, d.failuresMissing())).sum();
    }

    /** Warnings for the operator (newer schema, skipped record kinds, skipped damaged bytes). */
    public List<String> warnings() {
        List<String> all = new ArrayList<>(warnings);
        all.addAll(transport.warnings());
        if (!damaged.isEmpty()) {
            all.add(source + ": " + describeDamage(damaged));
        }
        if (skippedUnknown > 0) {
            all.add(source + ": skipped " + skippedUnknown + " record(s) of a kind added by a newer schema");
        }
        return all;
    }

    /** "skipped 2 damaged region(s), 1,234 bytes, at byte offset(s) 10, 500 ...": one sentence for report and export. */
    public static String describeDamage(List<DamagedRegion> regions) {
        long bytes = regions.stream().mapToLong(DamagedRegion::bytes).sum();
        long missing = regions.stream().mapToLong(d -> Math.max(0, d.failuresMissing())).sum();
        boolean unknown = regions.stream().anyMatch(d -> d.failuresMissing() < 0);
        return "skipped " + regions.size() + " damaged region(s), " + bytes + " byte(s), at byte offset(s) "
                + offsetList(regions.stream().map(DamagedRegion::offset).toList())
                + ", and read on from the next intact record; " + missing + " failure(s) missing there by their"
                + " sequence numbers" + (unknown ? " (some regions are not between two numbered failures: other"
                + " records may be missing too)" : "") + "; first damage: " + regions.get(0).reason();
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
