package dev.forktrace.stream;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Timestamp;
import dev.forktrace.output.FailureSink;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.Stats;
import dev.forktrace.proto.v1.StreamHeader;
import dev.forktrace.proto.v1.StreamRecord;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.function.LongSupplier;

/**
 * Writes a forktrace stream: a {@link StreamHeader} record, then {@link ForkFailure} and {@link Stats} records,
 * each framed as protobuf's writeDelimitedTo does (varint length, then the message). Readers:
 * {@link StreamReader}, or any protobuf library (docs/schema.md).
 *
 * <p>Durability: the header is flushed at once; later records are buffered and flushed when at least a second
 * has passed since the last flush, checked on every {@link #accept}, {@link #stats} and {@link #flushIfDue}
 * call, and on {@link #close}. A file is also fsync'ed at those flushes, so a crash or power loss loses at most
 * the last second and leaves a stream whose complete records all read back ({@link StreamReader} names the
 * offset of the cut). The capture loop emits Stats about once a second, which drives the flush; an owner
 * without such a loop calls {@link #flushIfDue} at least once a second. Like every FailureSink this is used
 * from one thread: nothing else may call it concurrently (no timer thread touches the stream).
 *
 * <p>Rotation (optional): once a file would exceed the size limit, the writer continues in FILE.1.pb,
 * FILE.2.pb, ... (the index goes before the last extension), each beginning with its own copy of the header;
 * with a keep count, the oldest files beyond it are deleted.
 *
 * <p>Write failures (disk full, EIO, closed pipe) surface as an IOException that names the file, the reason,
 * the bytes of complete records it holds (a record the failing write cut short is removed from a file, so the
 * file reads back clean) and the failures that were buffered and not written. After a failure the writer
 * refuses further records; {@link #failuresNotWritten()} counts what it accepted but could not write.
 */
public final class StreamWriter implements FailureSink {
    public static final long FLUSH_INTERVAL_NANOS = 1_000_000_000L;
    private static final int BUFFER_BYTES = 1 << 16;

    private final Path base;          // null for a stream (standard output)
    private final String baseName;
    private final long rotateBytes;   // 0: never rotate
    private final int keepFiles;      // 0: keep all
    private final LongSupplier nanoClock;

    private WritableByteChannel out;
    private FileChannel channel;      // a file: for fsync and to cut off a partial record; null for streams
    private boolean closeOut = true;  // false for standard output, which stays open for others
    // Records not yet handed to the OS: their bytes, and where each ends and whether it is a failure.
    private byte[] pending = new byte[BUFFER_BYTES];
    private int pendingBytes;
    private long[] pendingEnds = new long[256];
    private boolean[] pendingIsFailure = new boolean[256];
    private int pendingRecords;
    private long fileCommitted;       // bytes of complete records in the current file
    private long failuresAccepted;
    private long failuresWritten;
    private Path currentPath;
    private int fileIndex;
    private long fileBytes;
    private long totalBytes;
    private long records;
    private StreamHeader header;
    private long lastFlushNanos;
    private boolean unflushed;
    private IOException failure;
    private final DiagnosisProto encoder = new DiagnosisProto();
    private boolean closed;

    private StreamWriter(Path base, String baseName, WritableByteChannel stream, long rotateBytes, int keepFiles,
                         LongSupplier nanoClock) {
        this.base = base;
        this.baseName = baseName;
        this.out = stream;
        this.rotateBytes = rotateBytes;
        this.keepFiles = keepFiles;
        this.nanoClock = nanoClock;
        this.lastFlushNanos = nanoClock.getAsLong();
    }

    /**
     * A writer for a file, or for standard output when the name is "-".
     *
     * @param rotateBytes start a new file once the current one would grow past this many bytes; 0 never
     * @param keepFiles with rotation, how many files to keep (the oldest are deleted); 0 keeps all
     */
    public static StreamWriter open(String pathOrDash, long rotateBytes, int keepFiles) throws IOException {
        if (rotateBytes < 0 || keepFiles < 0) {
            throw new IllegalArgumentException("the rotation size and the number of files to keep must not be negative");
        }
        if ("-".equals(pathOrDash)) {
            if (rotateBytes > 0) {
                throw new IllegalArgumentException("standard output cannot be rotated");
            }
            // Not System.out: a PrintStream swallows write errors such as a closed pipe. A channel on
            // descriptor 1 says how many bytes each write took; it is never closed (others print there too).
            StreamWriter writer = new StreamWriter(null, "standard output",
                    new FileOutputStream(FileDescriptor.out).getChannel(), 0, 0, System::nanoTime);
            writer.closeOut = false;
            return writer;
        }
        return forFile(Path.of(pathOrDash), rotateBytes, keepFiles, System::nanoTime);
    }

    /** For tests: a file writer with its own clock. */
    static StreamWriter forFile(Path path, long rotateBytes, int keepFiles, LongSupplier nanoClock) throws IOException {
        StreamWriter writer = new StreamWriter(path, path.toString(), null, rotateBytes, keepFiles, nanoClock);
        int newest = 0; // a rotated recording goes on in its newest file, so the older ones are never reused
        while (rotateBytes > 0 && Files.exists(rotatedPath(path, newest + 1))) {
            newest++;
        }
        try {
            writer.openFile(newest);
        } catch (IOException e) {
            if (rotateBytes == 0 || !(e.getCause() instanceof dev.forktrace.output.ExistingOutput.DamagedStream)) {
                throw e;
            }
            writer.openFile(newest + 1); // a capture that was killed mid-record stays as it is; go on in a new file
        }
        return writer;
    }

    /** A writer for any output stream (not rotated, not fsync'ed); it is closed with the writer. */
    public static StreamWriter to(OutputStream stream, String name) {
        return new StreamWriter(null, name, Channels.newChannel(stream), 0, 0, System::nanoTime);
    }

    /** For tests: a writer for a channel (a full disk is one that stops taking bytes). */
    static StreamWriter to(WritableByteChannel channel, String name) {
        return new StreamWriter(null, name, channel, 0, 0, System::nanoTime);
    }

    /** The file that index {@code i} of a rotated stream goes to: events.pb, events.1.pb, events.2.pb ... */
    public static Path rotatedPath(Path base, int index) {
        if (index == 0) {
            return base;
        }
        String name = base.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String rotated = dot > 0 ? name.substring(0, dot) + "." + index + name.substring(dot) : name + "." + index;
        return base.resolveSibling(rotated);
    }

    private void openFile(int index) throws IOException {
        Path path = rotatedPath(base, index);
        try {
            // An earlier capture's stream at this name is continued, never emptied (a service restart keeps
            // what it recorded); a file that is not a stream is refused.
            channel = dev.forktrace.output.ExistingOutput.openForStream(path);
            fileStart = channel.position();
        } catch (IOException e) {
            throw new IOException("cannot create " + path + ": " + reason(e), e);
        }
        out = channel;
        currentPath = path;
        fileIndex = index;
        fileBytes = fileStart;
        fileCommitted = 0;
    }

    @Override
    public void start(StreamHeader given) throws IOException {
        if (header != null) {
            throw new IllegalStateException("start() was already called");
        }
        header = completeHeader(given);
        write(StreamRecord.newBuilder().setHeader(header).build());
        flush(); // a stream that exists at all begins with a readable header
    }

    @Override
    public void accept(ForkFailure failure) throws IOException {
        ensureStarted();
        failuresAccepted++;
        write(StreamRecord.newBuilder().setFailure(failure).build());
        flushIfDue();
    }

    /** A failure encoded straight from the diagnosis (DiagnosisProto): the same record bytes as accept(ForkFailure). */
    @Override
    public void accept(dev.forktrace.pipeline.Diagnosis diagnosis) throws IOException {
        ensureStarted();
        failuresAccepted++;
        byte[] failure = encoder.encode(diagnosis);
        int failureBytes = encoder.length();
        // StreamRecord{failure = 2}: its tag, the failure's length, the failure.
        int size = 1 + CodedOutputStream.computeUInt32SizeNoTag(failureBytes) + failureBytes;
        int at = reserve(size, false);
        at = varint(pending, at, size);
        pending[at++] = (byte) ((StreamRecord.FAILURE_FIELD_NUMBER << 3) | 2);
        at = varint(pending, at, failureBytes);
        System.arraycopy(failure, 0, pending, at, failureBytes);
        committed(size, true);
        flushIfDue();
    }

    private static int varint(byte[] into, int at, int value) {
        while ((value & ~0x7f) != 0) {
            into[at++] = (byte) ((value & 0x7f) | 0x80);
            value >>>= 7;
        }
        into[at++] = (byte) value;
        return at;
    }

    @Override
    public void headroom(dev.forktrace.proto.v1.Headroom headroom) throws IOException {
        ensureStarted();
        write(StreamRecord.newBuilder().setHeadroom(headroom).build());
        flushIfDue();
    }

    @Override
    public void stats(Stats stats) throws IOException {
        ensureStarted();
        write(StreamRecord.newBuilder().setStats(stats).build());
        flushIfDue();
    }

    /** Flushes (and fsyncs a file) when a second or more has passed since the last flush. */
    public void flushIfDue() throws IOException {
        if (unflushed && nanoClock.getAsLong() - lastFlushNanos >= FLUSH_INTERVAL_NANOS) {
            flush();
        }
    }

    /** Writes buffered records out now, and fsyncs a file. */
    public void flush() throws IOException {
        checkUsable();
        drain();
        try {
            if (channel != null) {
                channel.force(false);
            }
        } catch (IOException e) {
            throw failed(e);
        }
        unflushed = false;
        lastFlushNanos = nanoClock.getAsLong();
    }

    /**
     * The header as every forktrace stream writes it: what the owner gave, plus schema version, start time,
     * clocks, host, kernel, boot id and a capture id where the owner left them empty.
     */
    public static StreamHeader completeHeader(StreamHeader given) {
        StreamHeader.Builder h = given.toBuilder();
        if (h.getSchemaVersion() == 0) {
            h.setSchemaVersion(StreamReader.CURRENT_SCHEMA);
        }
        if (!h.hasStartTime()) {
            Instant now = Instant.now();
            h.setStartTime(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()));
        }
        if (!h.hasClocks()) {
            ClockReferences.now().ifPresent(h::setClocks);
        }
        // What identifies the machine and boot, if the owner did not say: report and export rely on it.
        if (h.getHostName().isEmpty()) {
            h.setHostName(procValue("/proc/sys/kernel/hostname"));
        }
        if (h.getKernelRelease().isEmpty()) {
            h.setKernelRelease(procValue("/proc/sys/kernel/osrelease"));
        }
        if (h.getBootId().isEmpty()) {
            h.setBootId(procValue("/proc/sys/kernel/random/boot_id"));
        }
        if (h.getCaptureId().isEmpty()) {
            h.setCaptureId(java.util.UUID.randomUUID().toString());
        }
        return h.build();
    }

    private static String procValue(String file) {
        try {
            return Files.readString(Path.of(file)).strip();
        } catch (IOException | RuntimeException e) {
            return ""; // not Linux, or /proc not mounted: the field stays empty
        }
    }

    private void ensureStarted() throws IOException {
        if (header == null) {
            start(StreamHeader.getDefaultInstance()); // a header is mandatory; the owner gave none
        }
    }

    private void write(StreamRecord record) throws IOException {
        int size = record.getSerializedSize();
        int at = reserve(size, record.hasHeader());
        CodedOutputStream coded = CodedOutputStream.newInstance(pending, at,
                CodedOutputStream.computeUInt32SizeNoTag(size) + size);
        coded.writeUInt32NoTag(size);
        record.writeTo(coded);
        committed(size, record.hasFailure());
    }

    /** Room in the pending buffer for a record of {@code size} bytes and its length (rotating first if due); where it goes. */
    private int reserve(int size, boolean header) throws IOException {
        checkUsable();
        long framed = CodedOutputStream.computeUInt32SizeNoTag(size) + (long) size;
        if (rotateBytes > 0 && !header && fileBytes + framed > rotateBytes && records > 0
                && fileBytes > headerBytes()) {
            rotate();
        }
        if (pendingBytes + framed > pending.length) {
            drain();
            if (framed > pending.length) {
                pending = new byte[(int) framed];
            }
        }
        return pendingBytes;
    }

    /** The record reserved last is in the pending buffer now. */
    private void committed(int size, boolean isFailure) {
        long framed = CodedOutputStream.computeUInt32SizeNoTag(size) + (long) size;
        pendingBytes += (int) framed;
        if (pendingRecords == pendingEnds.length) {
            pendingEnds = java.util.Arrays.copyOf(pendingEnds, pendingRecords * 2);
            pendingIsFailure = java.util.Arrays.copyOf(pendingIsFailure, pendingRecords * 2);
        }
        pendingEnds[pendingRecords] = pendingBytes;
        pendingIsFailure[pendingRecords++] = isFailure;
        fileBytes += framed;
        totalBytes += framed;
        records++;
        unflushed = true;
    }

    private long headerBytes() {
        int size = StreamRecord.newBuilder().setHeader(header).build().getSerializedSize();
        return CodedOutputStream.computeUInt32SizeNoTag(size) + (long) size;
    }

    private void rotate() throws IOException {
        flush();
        try {
            out.close();
        } catch (IOException e) {
            throw failed(e);
        }
        committedBeforeFile += fileCommitted;
        openFile(fileIndex + 1);
        if (keepFiles > 0 && fileIndex - keepFiles >= 0) {
            Files.deleteIfExists(rotatedPath(base, fileIndex - keepFiles));
        }
        write(StreamRecord.newBuilder().setHeader(header).build());
        flush();
    }

    private void checkUsable() throws IOException {
        if (failure != null) {
            throw failure;
        }
        if (closed) {
            throw new IOException(baseName + " is closed");
        }
    }

    /** Hands the buffered records to the OS; on failure, works out exactly which of them made it. */
    private void drain() throws IOException {
        checkUsable();
        ByteBuffer bytes = ByteBuffer.wrap(pending, 0, pendingBytes);
        long written = 0;
        try {
            while (bytes.hasRemaining()) {
                written += out.write(bytes); // a full disk takes part of a write, then refuses the next
            }
        } catch (IOException e) {
            commit(written);
            throw failed(e);
        }
        commit(written);
    }

    /** Counts the pending records that lie wholly within the first {@code written} bytes as written. */
    private void commit(long written) {
        int complete = 0;
        long end = 0;
        while (complete < pendingRecords && pendingEnds[complete] <= written) {
            end = pendingEnds[complete];
            if (pendingIsFailure[complete]) {
                failuresWritten++;
            }
            complete++;
        }
        fileCommitted += end;
        if (complete == pendingRecords) {
            pendingRecords = 0;
            pendingBytes = 0;
        } else if (written > end && channel != null) {
            // The failing write cut a record short: remove its start, so the file holds complete records only.
            try {
                channel.truncate(fileStart + fileCommitted);
            } catch (IOException | RuntimeException e) {
                // the partial record stays; a reader names it as a damaged tail
            }
        }
    }

    private long committedBeforeFile; // bytes of complete records in the files before the current one
    private long fileStart;           // where this capture began in the current file (after an earlier capture's records)

    private IOException failed(IOException e) {
        if (failure != null) {
            return failure;
        }
        long onDisk = committedBeforeFile + fileCommitted;
        long lost = failuresAccepted - failuresWritten;
        failure = new IOException("writing " + (currentPath == null ? baseName : currentPath) + " failed: " + reason(e)
                + "; it holds " + onDisk + " bytes of complete records (" + failuresWritten
                + (failuresWritten == 1 ? " failure" : " failures") + "), all readable; " + lost
                + (lost == 1 ? " failure" : " failures") + " accepted before the error could not be written", e);
        return failure;
    }

    /** Failures accepted that did not reach the output (buffered when a write failed, or refused after it). */
    public long failuresNotWritten() {
        return failuresAccepted - failuresWritten;
    }

    private static String reason(IOException e) {
        return dev.forktrace.output.IoErrors.reason(e);
    }

    /** Bytes written to all files so far. */
    public long bytesWritten() {
        return totalBytes;
    }

    /** Records written so far, headers included. */
    public long records() {
        return records;
    }

    /** The file now being written, or null for a stream. */
    public Path currentPath() {
        return currentPath;
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        try {
            if (failure == null) {
                ensureStarted();
                flush();
            }
        } finally {
            closed = true;
            try {
                if (closeOut) {
                    out.close();
                }
            } catch (IOException e) {
                if (failure == null) {
                    throw failed(e);
                }
            }
        }
    }
}
