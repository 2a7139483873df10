package dev.forktrace.limits;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Reads small kernel files (cgroupfs counters, /proc/PID/status) that are sampled every second, keeping
 * them open: a read at offset 0 of a seq_file makes the kernel generate the text afresh, so a sample costs
 * one pread instead of open, read and close. Files not read in a sweep are closed by {@link #sweep}. Not
 * thread-safe: one sampler owns it.
 */
final class OpenFiles implements AutoCloseable {
    private static final int MAX_OPEN = 16384; // beyond this, files are opened per read (RLIMIT_NOFILE)

    private final Map<Path, Entry> open = new HashMap<>();
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 16);
    private final byte[] bytes = new byte[1 << 16];
    private long generation;

    private static final class Entry {
        final FileChannel channel;
        long seen;

        Entry(FileChannel channel) {
            this.channel = channel;
        }
    }

    /** The file's text, or null when it cannot be read (gone, no permission). */
    String read(Path file) {
        Entry entry = open.get(file);
        if (entry != null) {
            String text = readAt0(entry.channel);
            if (text != null) {
                entry.seen = generation;
                return text;
            }
            closeQuietly(entry.channel); // the process or cgroup went away (ESRCH, ENODEV): reopen once
            open.remove(file);
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException | RuntimeException e) {
            return null;
        }
        String text = readAt0(channel);
        if (text == null || open.size() >= MAX_OPEN) {
            closeQuietly(channel);
            return text;
        }
        Entry fresh = new Entry(channel);
        fresh.seen = generation;
        open.put(file, fresh);
        return text;
    }

    long readLong(Path file, long fallback) {
        String text = read(file);
        if (text == null) {
            return fallback;
        }
        String t = text.trim();
        if (t.equals("max")) {
            return Long.MAX_VALUE;
        }
        try {
            return Long.parseLong(t);
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    private String readAt0(FileChannel channel) {
        try {
            buffer.clear();
            long position = 0;
            int n;
            while ((n = channel.read(buffer, position)) > 0) {
                position += n;
                if (!buffer.hasRemaining()) {
                    break; // 64 KiB is more than any counter or status file holds
                }
            }
            buffer.flip();
            int length = buffer.remaining();
            buffer.get(bytes, 0, length);
            return new String(bytes, 0, length, StandardCharsets.ISO_8859_1);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Ends a sweep: files not read since the previous sweep are closed. */
    void sweep() {
        for (Iterator<Entry> it = open.values().iterator(); it.hasNext(); ) {
            Entry entry = it.next();
            if (entry.seen < generation) {
                closeQuietly(entry.channel);
                it.remove();
            }
        }
        generation++;
    }

    int size() {
        return open.size();
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing was written through it
        }
    }

    @Override
    public void close() {
        for (Entry entry : open.values()) {
            closeQuietly(entry.channel);
        }
        open.clear();
    }
}
