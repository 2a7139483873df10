package dev.forktrace.system;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Small, failure-tolerant reads of /proc and /sys: a process can vanish between listing and reading. */
public final class ProcFs {
    private ProcFs() {}

    /**
     * The file's text, or null when it cannot be read (gone, no permission). Read in large chunks from
     * offset 0: /proc/sys integer files answer EOF to any read at a non-zero offset, and Files.readString
     * reads a zero-size file one byte first.
     */
    public static String read(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    public static long readLong(Path file, long fallback) {
        String text = read(file);
        if (text == null) {
            return fallback;
        }
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    /** Value of "Key:\tvalue ..." in a status-style file: the first number after the key, or fallback. */
    public static long field(String text, String key, long fallback) {
        if (text == null) {
            return fallback;
        }
        int at = text.startsWith(key + ":") ? 0 : text.indexOf("\n" + key + ":");
        if (at < 0) {
            return fallback;
        }
        int i = text.indexOf(':', at) + 1;
        while (i < text.length() && (text.charAt(i) == ' ' || text.charAt(i) == '\t')) {
            i++;
        }
        int start = i;
        while (i < text.length() && Character.isDigit(text.charAt(i))) {
            i++;
        }
        return i > start ? Long.parseLong(text.substring(start, i)) : fallback;
    }
}
