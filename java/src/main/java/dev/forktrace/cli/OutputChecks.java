package dev.forktrace.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/** Checks of command lines and files made before anything is opened, so bad input costs nothing. */
final class OutputChecks {
    /** The kernel's default pid_max, when /proc cannot say. */
    static final int DEFAULT_PID_MAX = 4_194_304;

    private OutputChecks() {}

    static int pidMax() {
        try {
            // One read: Files.readString reads a size-0 /proc file a byte at a time, and the kernel's integer
            // sysctl handler answers a read at a non-zero offset with EOF (it gave "3" for 32768).
            try (var in = Files.newInputStream(Path.of("/proc/sys/kernel/pid_max"))) {
                return Integer.parseInt(new String(in.readNBytes(64), java.nio.charset.StandardCharsets.US_ASCII).strip());
            }
        } catch (IOException | RuntimeException e) {
            return DEFAULT_PID_MAX;
        }
    }

    /** What is wrong with watch's options (exit 2), or null. */
    static String watchUsage(double durationSeconds, Integer pid, int pidMax, Path output, long rotateSize,
                             int rotateKeep, Path jfr) {
        if (durationSeconds < 0 || Double.isNaN(durationSeconds)) {
            return "--duration must not be negative (0 runs until stopped)";
        }
        if (pid != null && (pid < 1 || pid >= pidMax)) {
            return "--pid " + pid + " is not a process id: ids run from 1 to " + (pidMax - 1)
                    + " (kernel.pid_max is " + pidMax + ")";
        }
        if (rotateSize < 0) {
            return "--rotate-size must not be negative";
        }
        if (rotateKeep < 0) {
            return "--rotate-keep must not be negative (0 keeps every file)";
        }
        boolean streamFile = output != null && output.toString().endsWith(".pb");
        if ((rotateSize > 0 || rotateKeep > 0) && !streamFile) {
            return (rotateSize > 0 ? "--rotate-size" : "--rotate-keep") + " needs a protobuf stream file to rotate"
                    + " (--output FILE.pb)" + (output == null ? "" : "; " + output + " is not one");
        }
        if (rotateKeep > 0 && rotateSize == 0) {
            return "--rotate-keep needs --rotate-size";
        }
        if (output != null && jfr != null && !output.toString().equals("-") && sameFile(output, jfr)) {
            return "--output and --jfr name the same file (" + output + "): one would overwrite the other";
        }
        return null;
    }

    /** Whether two paths are one file, links resolved; a path that does not exist yet is compared by its name. */
    static boolean sameFile(Path a, Path b) {
        try {
            if (Files.exists(a) && Files.exists(b)) {
                return Files.isSameFile(a, b);
            }
        } catch (IOException | RuntimeException e) {
            // fall through to the names
        }
        return resolved(a, 0).equals(resolved(b, 0));
    }

    /** The absolute path with the links of its directory (and a link at its end) resolved, as far as they exist. */
    static Path resolved(Path p, int depth) {
        Path absolute = p.toAbsolutePath().normalize();
        try {
            if (Files.isSymbolicLink(absolute) && depth < 40) { // 40: the kernel's own limit on links in a path
                return resolved(absolute.resolveSibling(Files.readSymbolicLink(absolute)), depth + 1);
            }
            if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)) {
                return absolute.toRealPath();
            }
            Path parent = absolute.getParent();
            if (parent != null && Files.exists(parent)) {
                return parent.toRealPath().resolve(absolute.getFileName());
            }
        } catch (IOException | RuntimeException e) {
            // keep the absolute path
        }
        return absolute;
    }
}
