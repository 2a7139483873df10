package dev.forktrace.bpf;

/** A failure of the kernel side (load, attach, map access) with the native message and an exit code for the CLI. */
public final class BpfException extends RuntimeException {
    /** Exit status for a problem the user must fix on the machine (privileges, BTF, tracefs). */
    public static final int EXIT_ENVIRONMENT = 2;
    /** Exit status for any other runtime failure. */
    public static final int EXIT_RUNTIME = 1;

    private final int errno;
    private final int exitCode;

    public BpfException(String message, int errno, int exitCode) {
        super(message);
        this.errno = errno;
        this.exitCode = exitCode;
    }

    public int errno() {
        return errno;
    }

    public int exitCode() {
        return exitCode;
    }
}
