package dev.forktrace.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** Downcalls into native/forktrace_shim.h. Every handle is bound once, when this class initializes. */
final class Shim {
    private static final Linker LINKER = Linker.nativeLinker();
    // By name, not Path: the Path form resolves /proc/self/fd/N to the memory file's unopenable "real" name.
    private static final SymbolLookup LIB = SymbolLookup.libraryLookup(NativeLibraries.shim().toString(), Arena.global());

    static final MethodHandle LAST_ERROR = bind("ft_last_error", FunctionDescriptor.of(ADDRESS));
    static final MethodHandle OPEN = bind("ft_open", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
    static final MethodHandle ATTACH = bind("ft_attach", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle RINGBUF_FD = bind("ft_ringbuf_fd", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle RINGBUF_SIZE = bind("ft_ringbuf_size", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    static final MethodHandle READ_COUNTERS = bind("ft_read_counters",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle READ_SIGNATURES = bind("ft_read_signatures",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle HOOKS = bind("ft_hooks", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle TRACK_TGID = bind("ft_track_tgid", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    static final MethodHandle CLOSE = bind("ft_close", FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle PROBE_FEATURES = bind("ft_probe_features",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));

    private Shim() {}

    private static MethodHandle bind(String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = LIB.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError(NativeLibraries.SHIM + " has no " + name));
        return LINKER.downcallHandle(symbol, descriptor);
    }

    /** The shim's message for the call that just failed on this thread. */
    static String lastError() {
        try {
            MemorySegment text = (MemorySegment) LAST_ERROR.invokeExact();
            return text.equals(MemorySegment.NULL) ? "" : text.reinterpret(4096).getString(0);
        } catch (Throwable t) {
            return "(no message: " + t + ")";
        }
    }

    /** Turns a negative shim return into an exception carrying the native message. */
    static int check(int rc, String what) {
        if (rc < 0) {
            int errno = -rc;
            String detail = lastError();
            boolean environment = errno == 1 || errno == 13 || errno == 2; // EPERM, EACCES, ENOENT
            throw new BpfException(what + " failed: " + (detail.isEmpty() ? Libc.strerror(errno) : detail), errno,
                    environment ? BpfException.EXIT_ENVIRONMENT : BpfException.EXIT_RUNTIME);
        }
        return rc;
    }
}
