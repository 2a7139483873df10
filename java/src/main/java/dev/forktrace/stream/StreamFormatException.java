package dev.forktrace.stream;

import java.io.IOException;

/**
 * The one exception {@link StreamReader} throws for bad input: the bytes from {@link #offset()} on are not a
 * forktrace stream (empty, foreign, corrupt or cut short). Every record before that offset was returned intact.
 */
public final class StreamFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /** What is wrong with the bytes at the offset. */
    public enum Kind {
        /** Nothing at all: not even a header. */
        EMPTY,
        /** The first record is not a forktrace StreamHeader: another kind of file. */
        NOT_A_STREAM,
        /** The stream ends inside a record: a crash, power loss or a copy still being written. */
        TRUNCATED,
        /** Bytes that do not decode as a record. */
        CORRUPT
    }

    private final String source;
    private final long offset;
    private final long completeRecords;
    private final Kind kind;
    private final String reason;

    StreamFormatException(String source, long offset, long completeRecords, Kind kind, String reason) {
        super(source + ": " + describe(offset, completeRecords, kind, reason));
        this.source = source;
        this.offset = offset;
        this.completeRecords = completeRecords;
        this.kind = kind;
        this.reason = reason;
    }

    private static String describe(long offset, long records, Kind kind, String reason) {
        return switch (kind) {
            case EMPTY, NOT_A_STREAM -> reason;
            case TRUNCATED, CORRUPT -> "damaged tail from byte " + offset + " (after " + records
                    + (records == 1 ? " complete record" : " complete records") + ", all read): " + reason;
        };
    }

    /** The file name, or "standard input". */
    public String source() {
        return source;
    }

    /** Byte offset where the damage starts: everything before it was read. */
    public long offset() {
        return offset;
    }

    /** Records read intact before the offset (the header included). */
    public long completeRecords() {
        return completeRecords;
    }

    public Kind kind() {
        return kind;
    }

    /** What is wrong, without the file name and offset. */
    public String reason() {
        return reason;
    }
}
