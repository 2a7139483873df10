package dev.forktrace.output;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * The reason of an I/O error in words, without the path: java.nio's exceptions carry the path as their
 * message ("cannot create x.pb: x.pb"), so the caller names the path once and this says why.
 */
public final class IoErrors {
    private IoErrors() {}

    public static String reason(Throwable e) {
        Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
        if (cause instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (cause instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (cause instanceof NotDirectoryException) {
            return "not a directory";
        }
        if (cause instanceof FileSystemException fs && fs.getReason() != null) {
            return fs.getReason(); // e.g. "Is a directory", "Read-only file system"
        }
        if (cause instanceof IOException && cause.getMessage() != null) {
            return cause.getMessage();
        }
        return cause.getMessage() == null ? cause.toString() : cause.getMessage();
    }
}
