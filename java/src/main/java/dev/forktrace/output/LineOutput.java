package dev.forktrace.output;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;

/**
 * A buffered byte stream of text lines that never swallows a write error (as PrintStream and PrintWriter do)
 * and knows, when a write fails, exactly how many lines reached the output: a full disk takes part of a write
 * and refuses the next, a closed pipe (EPIPE) or /proc file (EIO) refuses at once. A line the failing write
 * cut short is removed from a file. After a failure every write repeats the first error.
 */
public final class LineOutput extends OutputStream {
    private static final int BUFFER_BYTES = 1 << 16;

    private final WritableByteChannel channel;
    private final FileChannel file;  // null for standard output
    private final String name;
    private final boolean closeChannel;
    private final byte[] buffer = new byte[BUFFER_BYTES];
    private int buffered;
    private long linesIn;            // line ends handed to this stream
    private long linesOut;           // line ends the output took
    private long fileBytes;          // bytes the output took
    private long fileLinesEnd;       // of those, the bytes up to the last complete line
    private IOException failure;

    private LineOutput(WritableByteChannel channel, FileChannel file, String name, boolean closeChannel) {
        this.channel = channel;
        this.file = file;
        this.name = name;
        this.closeChannel = closeChannel;
    }

    /** Creates the file; an existing file that holds bytes is refused, never emptied (see ExistingOutput). */
    public static LineOutput toFile(Path path) throws IOException {
        FileChannel file = ExistingOutput.openForLines(path);
        return new LineOutput(file, file, path.toString(), true);
    }

    /** Descriptor 1, which closing this stream leaves open. */
    public static LineOutput toStandardOutput() {
        return new LineOutput(new FileOutputStream(FileDescriptor.out).getChannel(), null, "standard output", false);
    }

    /** Descriptor 2, which closing this stream leaves open. */
    public static LineOutput toStandardError() {
        return new LineOutput(new FileOutputStream(FileDescriptor.err).getChannel(), null, "standard error", false);
    }

    /** For tests: any channel. */
    static LineOutput to(WritableByteChannel channel, String name) {
        return new LineOutput(channel, null, name, false);
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
        if (failure != null) {
            throw failure;
        }
        while (length > 0) {
            if (buffered == buffer.length) {
                drain();
            }
            int n = Math.min(length, buffer.length - buffered);
            System.arraycopy(bytes, offset, buffer, buffered, n);
            for (int i = offset; i < offset + n; i++) {
                if (bytes[i] == '\n') {
                    linesIn++;
                }
            }
            buffered += n;
            offset += n;
            length -= n;
        }
    }

    @Override
    public void flush() throws IOException {
        if (failure != null) {
            throw failure;
        }
        drain();
    }

    private void drain() throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(buffer, 0, buffered);
        IOException error = null;
        try {
            while (bytes.hasRemaining()) {
                channel.write(bytes); // a full disk takes part of a write, then refuses the next
            }
        } catch (IOException e) {
            error = e;
        }
        int written = bytes.position();
        for (int i = 0; i < written; i++) {
            if (buffer[i] == '\n') {
                linesOut++;
                fileLinesEnd = fileBytes + i + 1;
            }
        }
        fileBytes += written;
        if (error == null) {
            buffered = 0;
            return;
        }
        if (file != null && fileBytes > fileLinesEnd) {
            try {
                file.truncate(fileLinesEnd); // the partial line goes: the file ends with a whole line
            } catch (IOException | RuntimeException ignored) {
                // a device or /proc file cannot be truncated; nothing to cut there
            }
        }
        String reason = IoErrors.reason(error);
        failure = new IOException("writing " + name + " failed: " + reason + "; " + linesOut + " of " + linesIn
                + " lines were written, " + (linesIn - linesOut) + " could not be", error);
        throw failure;
    }

    /** Line ends handed in that did not reach the output. */
    public long linesNotWritten() {
        return linesIn - linesOut;
    }

    @Override
    public void close() throws IOException {
        try {
            if (failure == null) {
                drain();
            }
        } finally {
            if (closeChannel) {
                channel.close();
            }
        }
    }
}
