package dev.forktrace.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few libc calls forktrace needs, bound with Panama FFM. Calls that can fail capture errno
 * (Linker.Option.captureCallState) and {@link #errno} is read only after the return value said so.
 */
public final class Libc {
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 1;
    public static final int EPOLL_CLOEXEC = 0x80000;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLLIN = 1;
    public static final int EINTR = 4;
    public static final int CLOCK_MONOTONIC = 1;
    /** struct epoll_event is u32 events, u64 data: packed on x86_64 only (uapi eventpoll.h's EPOLL_PACKED). */
    private static final boolean EPOLL_PACKED = "amd64".equals(System.getProperty("os.arch"));
    private static final long EPOLL_DATA_OFFSET = EPOLL_PACKED ? 4 : 8;
    public static final long EPOLL_EVENT_SIZE = EPOLL_PACKED ? 12 : 16;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private static final MethodHandle MMAP = downcall("mmap", true,
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = downcall("munmap", false,
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle EPOLL_CREATE1 = downcall("epoll_create1", true,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle EPOLL_CTL = downcall("epoll_ctl", true,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle EPOLL_WAIT = downcall("epoll_wait", true,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle CLOSE = downcall("close", false, FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle GETEUID = downcall("geteuid", false, FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle SYSCONF = downcall("sysconf", false, FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
    private static final MethodHandle CLOCK_GETTIME = downcall("clock_gettime", false,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle SIGNAL = downcall("signal", false, FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS));
    private static final MethodHandle STRERROR = downcall("strerror", false, FunctionDescriptor.of(ADDRESS, JAVA_INT));
    private static final int SC_PAGESIZE = 30;
    private static final MethodHandle MEMFD_CREATE = downcall("memfd_create", true,
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    public static final int MFD_CLOEXEC = 1;

    private Libc() {}

    private static MethodHandle downcall(String name, boolean captureErrno, FunctionDescriptor descriptor) {
        MemorySegment symbol = LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return captureErrno
                ? LINKER.downcallHandle(symbol, descriptor, CAPTURE_ERRNO) // the capture segment becomes the first argument
                : LINKER.downcallHandle(symbol, descriptor);
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    public static String strerror(int errno) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    private static BpfException failure(String what, int errno) {
        return new BpfException(what + ": " + strerror(errno), errno, BpfException.EXIT_RUNTIME);
    }

    /** mmap(2) of a shared mapping; the segment has the mapping's size. */
    public static MemorySegment mmap(long length, int prot, int fd, long offset) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment address = (MemorySegment) MMAP.invokeExact(state, MemorySegment.NULL, length, prot,
                    MAP_SHARED, fd, offset);
            if (address.address() == -1L) {
                throw failure("mmap of " + length + " bytes at offset " + offset + " of fd " + fd, errno(state));
            }
            return address.reinterpret(length);
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static void munmap(MemorySegment mapping) {
        try {
            int ignored = (int) MUNMAP.invokeExact(mapping, mapping.byteSize());
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static int epollCreate() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int fd = (int) EPOLL_CREATE1.invokeExact(state, EPOLL_CLOEXEC);
            if (fd < 0) {
                throw failure("epoll_create1", errno(state));
            }
            return fd;
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static void epollAdd(int epollFd, int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment event = arena.allocate(EPOLL_EVENT_SIZE, 8);
            event.set(JAVA_INT, 0, EPOLLIN);
            event.set(ValueLayout.JAVA_LONG_UNALIGNED, EPOLL_DATA_OFFSET, fd);
            int rc = (int) EPOLL_CTL.invokeExact(state, epollFd, EPOLL_CTL_ADD, fd, event);
            if (rc < 0) {
                throw failure("epoll_ctl(ADD, fd " + fd + ")", errno(state));
            }
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Waits for readiness. Returns the number of ready fds, or 0 on timeout or EINTR.
     *
     * @param scratch at least {@link #EPOLL_EVENT_SIZE} bytes for the result plus the capture state
     */
    public static int epollWait(int epollFd, EpollScratch scratch, int timeoutMillis) {
        try {
            int n = (int) EPOLL_WAIT.invokeExact(scratch.state, epollFd, scratch.events, 1, timeoutMillis);
            if (n < 0) {
                int errno = errno(scratch.state);
                if (errno == EINTR) {
                    return 0;
                }
                throw failure("epoll_wait", errno);
            }
            return n;
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Reusable buffers for {@link #epollWait}, so the wait loop allocates nothing. */
    public static final class EpollScratch {
        final MemorySegment state;
        final MemorySegment events;

        public EpollScratch(Arena arena) {
            this.state = arena.allocate(CAPTURE);
            this.events = arena.allocate(EPOLL_EVENT_SIZE, 8);
        }
    }

    public static void close(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Resets a signal to its default action. A process started in the background by a shell inherits
     * SIGINT ignored, and the JVM then refuses to handle it; calling this first makes Ctrl-C and
     * `kill -INT` stop forktrace cleanly wherever it was started.
     */
    public static void restoreDefaultSignal(int signal) {
        try {
            MemorySegment ignored = (MemorySegment) SIGNAL.invokeExact(signal, MemorySegment.NULL); // SIG_DFL is 0
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** An anonymous file in memory (memfd_create(2)): its descriptor, or -errno. */
    public static int memfdCreate(String name, int flags) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment state = call.allocate(CAPTURE);
            int fd = (int) MEMFD_CREATE.invokeExact(state, call.allocateFrom(name), flags);
            return fd >= 0 ? fd : -errno(state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static int geteuid() {
        try {
            return (int) GETEUID.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static long pageSize() {
        try {
            return (long) SYSCONF.invokeExact(SC_PAGESIZE);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns(). */
    public static long monotonicNanos() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ts = arena.allocate(16, 8);
            int rc = (int) CLOCK_GETTIME.invokeExact(CLOCK_MONOTONIC, ts);
            if (rc != 0) {
                throw new IllegalStateException("clock_gettime(CLOCK_MONOTONIC) failed");
            }
            return ts.get(JAVA_LONG, 0) * 1_000_000_000L + ts.get(JAVA_LONG, 8);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
