package dev.forktrace.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * Where report --html writes: through a temporary file in the same directory and a rename, so a reader never
 * sees half a page; an existing file is replaced only when forktrace wrote it (its generator tag), and never
 * when it is one of the inputs.
 */
final class HtmlOutput {
    static final int LISTED_FAILURES = 2000;
    static final String GENERATOR_TAG = "<meta name=\"generator\" content=\"forktrace report --html\">";

    private HtmlOutput() {}

    /** Why the page must not go to this path, or null when it may. */
    static String refusal(Path target, List<String> inputs) {
        for (String input : inputs) {
            if (input.equals("-") || input.startsWith("kafka://")) {
                continue;
            }
            Path in = Path.of(input);
            try {
                if (target.toAbsolutePath().normalize().equals(in.toAbsolutePath().normalize())
                        || Files.exists(target) && Files.exists(in) && Files.isSameFile(target, in)) {
                    return "is also an input; choose another file for the page";
                }
            } catch (IOException e) {
                return "cannot compare it with the input " + input + ": " + e.getMessage();
            }
        }
        if (Files.isDirectory(target)) {
            return "is a directory";
        }
        if (Files.exists(target) && !writtenByForktrace(target)) {
            return "exists and was not written by forktrace report --html; remove it or choose another name";
        }
        return null;
    }

    static boolean writtenByForktrace(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            String start = new String(in.readNBytes(512), StandardCharsets.UTF_8);
            return start.contains(GENERATOR_TAG);
        } catch (IOException e) {
            return false;
        }
    }

    static void write(Path target, String page) throws IOException {
        Path directory = target.toAbsolutePath().getParent();
        Path temporary = Files.createTempFile(directory, "." + target.getFileName() + ".", ".tmp");
        try {
            Files.writeString(temporary, page, StandardCharsets.UTF_8);
            // createTempFile makes it private (0600); a report is for reading, like the files around it.
            Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-r--r--"));
            try {
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temporary);
        }
    }
}
