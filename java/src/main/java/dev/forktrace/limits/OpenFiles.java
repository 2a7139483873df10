package dev.forktrace.limits;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Reads small kernel files (cgroupfs counters, /proc/PID/status) that are sampled every second, keeping
 * them open: a read at offset 0 of a seq_file makes the kernel generate the text afresh, so a sample costs
 * one pread(2) instead of open, read and close. pread is called directly (FFM), not through FileChannel,
 * whose interruptible-I/O bookkeeping cost more than the read itself with thousands of files a second.
 * Not thread-safe: one sampler owns it.
 */
final class OpenFiles implements AutoCloseable {
    /** Beyond this many, files are opened per read: half the soft RLIMIT_NOFILE (which the JVM raises to the hard one). */
    private static final int MAX_OPEN = maxOpen();

    private static int maxOpen() {
        String limits = dev.forktrace.system.ProcFs.read(Path.of("/proc/self/limits"));
        int at = limits == null ? -1 : limits.indexOf("Max open files");
        if (at < 0) {
            return 512;
        }
        String[] fields = limits.substring(at + "Max open files".length()).trim().split("\\s+");
        try {
            return fields[0].equals("unlimited") ? 65536 : (int) Math.min(65536, Long.parseLong(fields[0]) / 2);
        } catch (NumberFormatException e) {
            return 512;
        }
    }
    private static final int O_RDONLY_CLOEXEC = 0x80000; // O_RDONLY | O_CLOEXEC
    private static final int BUFFER = 1 << 16;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle OPEN = LINKER.downcallHandle(LINKER.defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), Linker.Option.firstVariadicArg(2));
    // Short, non-blocking reads of in-kernel text: no need for the JVM's thread state transition.
    private static final MethodHandle PREAD = LINKER.downcallHandle(LINKER.defaultLookup().find("pread").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), Linker.Option.critical(false));
    private static final MethodHandle CLOSE = LINKER.downcallHandle(LINKER.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    private static final int SC_PAGESIZE = 30;

    /** sysconf(_SC_PAGESIZE): 4096 on x86-64, 4096 to 65536 on arm64 kernels. */
    static long pageSize() {
        try {
            MethodHandle sysconf = LINKER.downcallHandle(LINKER.defaultLookup().find("sysconf").orElseThrow(),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
            long size = (long) sysconf.invokeExact(SC_PAGESIZE);
            return size > 0 ? size : 4096;
        } catch (Throwable t) {
            return 4096;
        }
    }

    private final Arena arena = Arena.ofShared(); // built on one thread, sampled on another
    private final MemorySegment buffer = arena.allocate(BUFFER);
    private final MemorySegment pathBuffer = arena.allocate(4096);
    private final byte[] bytes = new byte[BUFFER];
    private final Map<Path, Handle> byPath = new HashMap<>();
    private int open;
    private long generation;

    /** An open (or to be opened) file; holders of a handle read it without any lookup. */
    final class Handle {
        private final Path path;
        private int fd = -1;
        private long seen;

        private Handle(Path path) {
            this.path = path;
        }

        /** Bytes read into the shared buffer, or -1 when the file cannot be read (gone, no permission). */
        private int fill() {
            seen = generation;
            if (fd >= 0) {
                int n = pread(fd);
                if (n >= 0) {
                    return n;
                }
                release(); // the process or cgroup went away (ESRCH, ENODEV): reopen once
            }
            fd = openFile(path);
            if (fd < 0) {
                return -1;
            }
            open++;
            int n = pread(fd);
            if (n < 0 || open > MAX_OPEN) {
                release();
            }
            return n;
        }

        String read() {
            int n = fill();
            if (n < 0) {
                return null;
            }
            MemorySegment.copy(buffer, JAVA_BYTE_LAYOUT, 0, bytes, 0, n);
            return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
        }

        /** The file's number ("max" reads as Long.MAX_VALUE), or fallback. Parsed in place, no String. */
        long readLong(long fallback) {
            int n = fill();
            if (n <= 0) {
                return fallback;
            }
            if (n >= 3 && buffer.get(JAVA_BYTE_LAYOUT, 0) == 'm' && buffer.get(JAVA_BYTE_LAYOUT, 1) == 'a'
                    && buffer.get(JAVA_BYTE_LAYOUT, 2) == 'x') {
                return Long.MAX_VALUE;
            }
            long value = 0;
            int i = 0;
            for (; i < n; i++) {
                byte b = buffer.get(JAVA_BYTE_LAYOUT, i);
                if (b < '0' || b > '9') {
                    break;
                }
                value = value * 10 + (b - '0');
            }
            return i == 0 ? fallback : value;
        }

        void release() {
            if (fd >= 0) {
                closeFd(fd);
                fd = -1;
                open--;
            }
        }
    }

    private static final java.lang.foreign.ValueLayout.OfByte JAVA_BYTE_LAYOUT = java.lang.foreign.ValueLayout.JAVA_BYTE;

    /** A handle of its own (not kept in the by-path table): the caller keeps it and releases it. */
    Handle handle(Path file) {
        return new Handle(file);
    }

    /** The file's text, or null when it cannot be read; kept open until a sweep finds it unused. */
    String read(Path file) {
        return byPath.computeIfAbsent(file, Handle::new).read();
    }

    long readLong(Path file, long fallback) {
        return byPath.computeIfAbsent(file, Handle::new).readLong(fallback);
    }

    /** Ends a sweep: files of the by-path table not read since the previous sweep are closed. */
    void sweep() {
        for (Iterator<Handle> it = byPath.values().iterator(); it.hasNext(); ) {
            Handle h = it.next();
            if (h.seen < generation) {
                h.release();
                it.remove();
            }
        }
        generation++;
    }

    private int openFile(Path path) {
        byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
        if (name.length >= pathBuffer.byteSize()) {
            return -1;
        }
        MemorySegment.copy(name, 0, pathBuffer, JAVA_BYTE_LAYOUT, 0, name.length);
        pathBuffer.set(JAVA_BYTE_LAYOUT, name.length, (byte) 0);
        try {
            return (int) OPEN.invokeExact(pathBuffer, O_RDONLY_CLOEXEC);
        } catch (Throwable t) {
            throw new IllegalStateException("open(2) downcall failed", t);
        }
    }

    private int pread(int fd) {
        try {
            long n = (long) PREAD.invokeExact(fd, buffer, (long) BUFFER, 0L);
            return (int) n;
        } catch (Throwable t) {
            throw new IllegalStateException("pread(2) downcall failed", t);
        }
    }

    private static void closeFd(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException("close(2) downcall failed", t);
        }
    }

    @Override
    public void close() {
        for (Handle h : byPath.values()) {
            h.release();
        }
        byPath.clear();
        arena.close();
    }
}
