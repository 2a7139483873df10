package dev.forktrace.output;

import dev.forktrace.stream.StreamFormatException;
import dev.forktrace.stream.StreamReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * How watch and run open an output file without destroying what is already there: a new file is created;
 * an empty file, a device or a FIFO is written as it is; a forktrace stream is continued (a new capture is
 * appended after its complete records, which every reader of the format accepts); any other file that
 * holds bytes is refused.
 */
public final class ExistingOutput {
    private ExistingOutput() {}

    /** An output for lines (text or JSON): a new or empty file, or a device; anything with bytes is refused. */
    public static FileChannel openForLines(Path path) throws IOException {
        FileChannel created = createNew(path);
        if (created != null) {
            return created;
        }
        BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
        if (attributes.isRegularFile() && attributes.size() > 0) {
            throw new IOException(refusal(path, attributes.size()));
        }
        return FileChannel.open(path, StandardOpenOption.WRITE); // empty, or a device or FIFO: nothing to lose
    }

    /**
     * An output for a protobuf stream: a new or empty file; a forktrace stream that reads cleanly to its end is
     * continued after it; anything else that holds bytes is refused, and left as it is.
     *
     * @return the channel positioned where the new capture begins
     * @throws DamagedStream for a forktrace stream that does not read to its end (a capture killed mid-record, or
     *     damage): nothing can be appended after it without making its records unreadable
     */
    public static FileChannel openForStream(Path path) throws IOException {
        FileChannel created = createNew(path);
        if (created != null) {
            return created;
        }
        BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
        if (!attributes.isRegularFile() || attributes.size() == 0) {
            return FileChannel.open(path, StandardOpenOption.WRITE);
        }
        long end = completeStreamEnd(path, attributes.size());
        FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE);
        channel.position(end);
        return channel;
    }

    /** A forktrace stream that does not read to its end: the file is left as it is. */
    public static final class DamagedStream extends IOException {
        DamagedStream(String message) {
            super(message);
        }
    }

    /** The length of the forktrace stream at path, which must read to its end; refuses anything else. */
    static long completeStreamEnd(Path path, long size) throws IOException {
        try (InputStream in = Files.newInputStream(path); StreamReader reader = new StreamReader(in, path.toString())) {
            try {
                reader.requireHeader();
                while (reader.next() != null) {
                    // read to the end: only a whole stream is continued
                }
                return reader.offset();
            } catch (StreamFormatException e) {
                if (e.kind() == StreamFormatException.Kind.NOT_A_STREAM) {
                    throw new IOException(refusal(path, size));
                }
                throw new DamagedStream(path + " is a forktrace stream that " + (e.kind() == StreamFormatException.Kind.TRUNCATED
                        ? "ends inside a record" : "is damaged") + " at byte " + e.offset() + " (an earlier capture was "
                        + "killed, or the file was changed): forktrace does not write after it; choose another name "
                        + "(forktrace report " + path + " reads what it holds)");
            }
        }
    }

    private static FileChannel createNew(Path path) throws IOException {
        try {
            return FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
            if (Files.isSymbolicLink(path) && !Files.exists(path)) {
                throw new IOException(path + " is a dangling symbolic link: forktrace does not create files through it");
            }
            return null;
        }
    }

    private static String refusal(Path path, long size) {
        return path + " already exists and holds " + size + " bytes that are not a forktrace stream: forktrace never "
                + "overwrites a file it did not write; choose another name or remove it";
    }
}
