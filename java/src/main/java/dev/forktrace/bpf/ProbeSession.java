package dev.forktrace.bpf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** forktrace's BPF programs, loaded and attached: open, {@link #attach}, read the ring, close. */
public final class ProbeSession implements AutoCloseable {

    /**
     * What to capture. tgid 0, cgroupId 0 and an empty comm mean "any". cgroupHierarchy says whose id
     * cgroupId is (enum ft_cgroup_hierarchy: 0 cgroup v2, 1 pids, 2 memory); the cgroup's descendants match too.
     */
    public record Filter(int tgid, boolean processTree, long cgroupId, int cgroupHierarchy, String comm) {
        public static final Filter ALL = new Filter(0, false, 0, 0, "");
    }

    /** How one design hook is covered on this kernel: an entry of the shim's hook table (struct ft_hook_status). */
    public record Hook(HookPoint point, HookTier tier, boolean attached, String note) {
        public String name() {
            return point.hookName();
        }
    }

    public static final int TIER_AUTO = -1;
    private static final int CAP_SYS_ADMIN = 21, CAP_PERFMON = 38, CAP_BPF = 39;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment handle;
    private final MemorySegment counterBuffer;
    private RingBuffer ring;
    private boolean closed;

    private ProbeSession(MemorySegment handle) {
        this.handle = handle;
        this.counterBuffer = arena.allocate(JAVA_LONG, EventLayout.CNT_SLOTS);
    }

    /**
     * Extracts the native parts and links the native calls (about 250 ms of one-time JVM work, most of
     * it the first java.lang.foreign downcall) on a background thread, so that it overlaps with command
     * line parsing. Errors are left for open() to report.
     */
    public static void preloadInBackground() {
        Thread.ofPlatform().daemon().name("forktrace-native-preload").start(() -> {
            try {
                NativeLibraries.bpfObject();
                Libc.monotonicNanos();
                java.lang.invoke.MethodHandles.lookup().ensureInitialized(Shim.class);
            } catch (Throwable e) {
                // open() does the same work again and reports what went wrong
            }
        });
    }

    /**
     * The tier request (TIER_AUTO or an EventLayout.TIER_*) and whether to attach the hooks on hot memory
     * paths (page_counter_try_charge, __vm_enough_memory).
     */
    public record HookChoice(int tier, boolean memoryHooks) {
        public static final HookChoice AUTO = new HookChoice(TIER_AUTO, false);
    }

    /** FT_OPEN_MEMORY_HOOKS of native/forktrace_shim.h */
    private static final int OPEN_MEMORY_HOOKS = 1;

    /** Checks privileges, then opens and loads the BPF object with the filter. */
    public static ProbeSession open(Filter filter, HookChoice hooks) {
        requirePrivileges();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment config = call.allocate(EventLayout.CONFIG);
            config.set(JAVA_INT, EventLayout.offset(EventLayout.CONFIG, "filter_tgid"), filter.tgid());
            config.set(JAVA_INT, EventLayout.offset(EventLayout.CONFIG, "filter_tree"), filter.processTree() ? 1 : 0);
            config.set(JAVA_LONG, EventLayout.offset(EventLayout.CONFIG, "filter_cgroup_id"), filter.cgroupId());
            config.set(JAVA_INT, EventLayout.offset(EventLayout.CONFIG, "filter_cgroup_hierarchy"),
                    filter.cgroupHierarchy());
            byte[] comm = filter.comm().getBytes(StandardCharsets.UTF_8);
            if (comm.length >= EventLayout.COMM_LEN) {
                throw new IllegalArgumentException("process name '" + filter.comm() + "' is longer than the kernel's "
                        + (EventLayout.COMM_LEN - 1) + " characters; the kernel truncates comm, use the first 15");
            }
            MemorySegment.copy(comm, 0, config, JAVA_BYTE, EventLayout.offset(EventLayout.CONFIG, "filter_comm"),
                    comm.length);
            MemorySegment path = call.allocateFrom(NativeLibraries.bpfObject().toString());
            MemorySegment out = call.allocate(java.lang.foreign.ValueLayout.ADDRESS);
            int rc = (int) Shim.OPEN.invokeExact(path, config, hooks.tier(), hooks.memoryHooks() ? OPEN_MEMORY_HOOKS : 0, out);
            Shim.check(rc, "loading the BPF programs");
            return new ProbeSession(out.get(java.lang.foreign.ValueLayout.ADDRESS, 0));
        } catch (BpfException | IllegalArgumentException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Root, or CAP_BPF with CAP_PERFMON (or CAP_SYS_ADMIN), is needed to load tracing programs. Said
     * up front because the kernel's own answer (EPERM at load) does not name what is missing.
     */
    static void requirePrivileges() {
        if (Libc.geteuid() == 0) {
            return;
        }
        long effective = effectiveCapabilities();
        boolean admin = (effective & (1L << CAP_SYS_ADMIN)) != 0;
        boolean bpf = (effective & (1L << CAP_BPF)) != 0 && (effective & (1L << CAP_PERFMON)) != 0;
        if (!admin && !bpf) {
            throw new BpfException("forktrace needs root, or the capabilities CAP_BPF and CAP_PERFMON, to load its "
                    + "kernel probes (this process has neither). Run it with sudo.", 1, BpfException.EXIT_ENVIRONMENT);
        }
    }

    private static long effectiveCapabilities() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    return Long.parseUnsignedLong(line.substring(7).trim(), 16);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // fall through: treat as no capabilities, the message then tells the user what to do
        }
        return 0;
    }

    public void attach() {
        try {
            Shim.check((int) Shim.ATTACH.invokeExact(handle), "attaching the BPF programs");
            int fd = Shim.check((int) Shim.RINGBUF_FD.invokeExact(handle), "finding the ring buffer");
            long size = (long) Shim.RINGBUF_SIZE.invokeExact(handle);
            ring = new RingBuffer(fd, size);
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public RingBuffer ringBuffer() {
        if (ring == null) {
            throw new IllegalStateException("attach() first");
        }
        return ring;
    }

    /** Kernel counters summed over CPUs, indexed by EventLayout.CNT_*; written into {@code into}. */
    public long[] readCounters(long[] into) {
        try {
            int n = Shim.check((int) Shim.READ_COUNTERS.invokeExact(handle, counterBuffer, EventLayout.CNT_SLOTS),
                    "reading the counters");
            MemorySegment.copy(counterBuffer, JAVA_LONG, 0, into, 0, Math.min(n, into.length));
            return into;
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private MemorySegment signatureKeys, signatureCounts;

    /**
     * The kernel's table of failures the ring had no room for, by signature (bpf/forktrace.h struct
     * ft_signature): copies it into the returned segment of struct ft_signature and counts[], and returns
     * how many entries were copied. Counts are cumulative; the table is never drained.
     */
    public synchronized int readSignatures(long[] counts, MemorySegment[] keysOut) {
        if (signatureKeys == null) {
            signatureKeys = arena.allocate(EventLayout.SIGNATURE, EventLayout.SIGNATURE_SLOTS);
            signatureCounts = arena.allocate(JAVA_LONG, EventLayout.SIGNATURE_SLOTS);
        }
        try {
            int max = Math.min(counts.length, EventLayout.SIGNATURE_SLOTS);
            int n = Shim.check((int) Shim.READ_SIGNATURES.invokeExact(handle, signatureKeys, signatureCounts, max),
                    "reading the failure signatures");
            MemorySegment.copy(signatureCounts, JAVA_LONG, 0, counts, 0, n);
            keysOut[0] = signatureKeys;
            return n;
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private List<Hook> hooks;

    /** The shim's hook table for this session, read once (it does not change after the load). */
    public synchronized List<Hook> hooks() {
        if (hooks != null) {
            return hooks;
        }
        try (Arena call = Arena.ofConfined()) {
            MemorySegment table = call.allocate(EventLayout.HOOK_STATUS, EventLayout.HOOK_COUNT);
            int n = Shim.check((int) Shim.HOOKS.invokeExact(handle, table, EventLayout.HOOK_COUNT), "describing the hooks");
            List<Hook> read = new ArrayList<>(n);
            long size = EventLayout.HOOK_STATUS.byteSize();
            for (int i = 0; i < n; i++) {
                read.add(hookAt(table.asSlice(i * size, size)));
            }
            hooks = List.copyOf(read);
            return hooks;
        } catch (BpfException | IllegalArgumentException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static final long HOOK_ID = EventLayout.offset(EventLayout.HOOK_STATUS, "hook");
    private static final long HOOK_TIER = EventLayout.offset(EventLayout.HOOK_STATUS, "tier");
    private static final long HOOK_ATTACHED = EventLayout.offset(EventLayout.HOOK_STATUS, "attached");
    private static final long HOOK_NOTE = EventLayout.offset(EventLayout.HOOK_STATUS, "note");

    /** One struct ft_hook_status. */
    static Hook hookAt(MemorySegment status) {
        return new Hook(HookPoint.ofId(status.get(JAVA_INT, HOOK_ID)), HookTier.ofCode(status.get(JAVA_INT, HOOK_TIER)),
                status.get(JAVA_INT, HOOK_ATTACHED) != 0,
                status.asSlice(HOOK_NOTE, EventLayout.HOOK_NOTE_LEN).getString(0, StandardCharsets.UTF_8));
    }

    /** Traces this process and, from now on, every descendant (tracked in the kernel). */
    public void trackProcessTree(int tgid) {
        try {
            Shim.check((int) Shim.TRACK_TGID.invokeExact(handle, tgid), "tracking pid " + tgid);
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** `key=value` lines describing the kernel's BPF features (for doctor); needs no loaded session. */
    public static String probeFeatures() {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment buffer = call.allocate(16384);
            int n = Shim.check((int) Shim.PROBE_FEATURES.invokeExact(buffer, buffer.byteSize()), "probing features");
            return new String(buffer.asSlice(0, n).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (ring != null) {
            ring.close();
        }
        try {
            Shim.CLOSE.invokeExact(handle);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        arena.close();
    }
}
