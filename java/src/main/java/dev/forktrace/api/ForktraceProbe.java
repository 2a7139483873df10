package dev.forktrace.api;

import dev.forktrace.bpf.BpfException;
import dev.forktrace.bpf.ProbeSession;
import dev.forktrace.output.FailureSink;
import dev.forktrace.pipeline.Capture;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.system.CgroupPaths;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * forktrace attached from Java: the kernel probes are live when {@link #attach} returns; failures
 * arrive on a capture thread and are handed to listeners and queued for {@link #poll}; {@link #close}
 * detaches. Needs root or CAP_BPF + CAP_PERFMON.
 *
 * <pre>{@code
 * try (ForktraceProbe probe = ForktraceProbe.attach(Target.thisProcess())) {
 *     runWorkload();
 *     for (Failure f : probe.failures()) System.out.println(f);
 * }
 * }</pre>
 */
public final class ForktraceProbe implements AutoCloseable {
    private static final int QUEUE_LIMIT = 100_000;
    /** failures() keeps the first this many; later ones are counted (notKept) and still go to listeners. */
    static final int KEPT_LIMIT = 100_000;
    private final ProbeSession session;
    private final Capture capture;
    private final Thread thread;
    private final FailureInbox inbox = new FailureInbox(KEPT_LIMIT, QUEUE_LIMIT);
    private volatile boolean open = true;
    private volatile Throwable captureError;

    /** Attaches with the default tier choice and no extra output. */
    public static ForktraceProbe attach(Target target) {
        return attach(target, ProbeSession.TIER_AUTO, List.of());
    }

    /**
     * Attaches and, in addition to listeners, writes every failure to the given sinks (closed on
     * {@link #close}).
     */
    public static ForktraceProbe attach(Target target, int tier, List<FailureSink> extraSinks) {
        return attach(target, new ProbeSession.HookChoice(tier, false), extraSinks, null);
    }

    /** As above, and with the Java agent's reports joined into failures when joiner is not null. */
    public static ForktraceProbe attach(Target target, ProbeSession.HookChoice hooks, List<FailureSink> extraSinks,
            dev.forktrace.agentlink.JavaJoiner joiner) {
        CgroupPaths cgroups = CgroupPaths.forThisMachine();
        ProbeSession.Filter filter = switch (target) {
            case Target.Process p -> new ProbeSession.Filter(Math.toIntExact(p.pid()), false, 0, 0, "");
            case Target.ProcessTree t -> new ProbeSession.Filter(0, true, 0, 0, "");
            case Target.Cgroup c -> {
                try {
                    var found = cgroups.resolve(c.path());
                    yield new ProbeSession.Filter(0, false, found.getValue(), found.getKey().code(), "");
                } catch (IOException e) {
                    throw new IllegalArgumentException(e.getMessage(), e);
                }
            }
            case Target.Everything e -> ProbeSession.Filter.ALL;
        };
        ProbeSession session = ProbeSession.open(filter, hooks);
        try {
            session.attach();
            if (target instanceof Target.ProcessTree tree) {
                session.trackProcessTree(Math.toIntExact(tree.pid()));
            }
            return new ForktraceProbe(session, cgroups, extraSinks, joiner);
        } catch (RuntimeException e) {
            session.close();
            throw e;
        }
    }

    private ForktraceProbe(ProbeSession session, CgroupPaths cgroups, List<FailureSink> extraSinks,
            dev.forktrace.agentlink.JavaJoiner joiner) {
        this.session = session;
        List<FailureSink> sinks = new ArrayList<>(extraSinks);
        sinks.add(new FailureSink() {
            @Override
            public void accept(ForkFailure failure) {
                inbox.deliver(Failure.of(failure));
            }

            @Override
            public void close() {}
        });
        this.capture = new Capture(session, cgroups, sinks, () -> 0);
        if (joiner != null) {
            capture.joinJavaReports(joiner);
        }
        this.thread = Thread.ofPlatform().daemon().name("forktrace-capture").start(this::captureLoop);
    }

    private void captureLoop() {
        try {
            capture.run(() -> open, Long.MAX_VALUE);
        } catch (IOException | RuntimeException e) {
            captureError = e;
        }
    }

    public void addListener(Consumer<Failure> listener) {
        inbox.addListener(listener);
    }

    /** The next failure, waiting up to timeout; null when none arrived. */
    public Failure poll(Duration timeout) throws InterruptedException {
        return inbox.poll(timeout);
    }

    /** Every failure seen so far, in order (the first {@link #KEPT_LIMIT}; see {@link #notKept}). */
    public List<Failure> failures() {
        return inbox.kept();
    }

    /** Failures beyond {@link #KEPT_LIMIT} that failures() does not hold (listeners saw them). */
    public long notKept() {
        return inbox.notKept();
    }

    /**
     * Waits until the ring buffer holds nothing undelivered (or timeout), so that failures which already
     * happened are in {@link #failures()}.
     */
    public void flush(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            // Two completed loop iterations after this point: the second started after the ring was read
            // here, so it drained and delivered everything that was in it.
            long seen = capture.rounds();
            boolean empty = session.ringBuffer().available() == 0;
            while (capture.rounds() < seen + 2 && thread.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            // Thread failures of agent JVMs are held up to JavaJoiner.HOLD_NANOS for their reports.
            if (empty && !capture.holding() && session.ringBuffer().available() == 0) {
                return;
            }
            Thread.sleep(5);
        }
    }

    /** In-kernel count of failures matching the target (exact even when the ring overflowed). */
    public long kernelFailureCount() {
        long[] counters = session.readCounters(new long[dev.forktrace.bpf.EventLayout.CNT_SLOTS]);
        long total = 0;
        for (int i = 0; i < dev.forktrace.bpf.EventLayout.ERRNO_SLOTS; i++) {
            total += counters[dev.forktrace.bpf.EventLayout.CNT_ERRNO_BASE + i];
        }
        return total;
    }

    /** Failures lost because the ring buffer was full. */
    public long dropped() {
        return session.readCounters(new long[dev.forktrace.bpf.EventLayout.CNT_SLOTS])[dev.forktrace.bpf.EventLayout.CNT_DROPPED];
    }

    /**
     * Descendants of a process-tree target the kernel could not track (its map of the tree's live
     * processes was full): their failures are missing. 0 for other targets.
     */
    public long untrackedDescendants() {
        return session.readCounters(new long[dev.forktrace.bpf.EventLayout.CNT_SLOTS])[dev.forktrace.bpf.EventLayout.CNT_TREE_FULL];
    }

    /** Failures that did not fit the poll() queue (still in failures() and given to listeners). */
    public long notQueued() {
        return inbox.notQueued();
    }

    public Capture capture() {
        return capture;
    }

    /** Detaches the probes after delivering every failure already captured. */
    @Override
    public void close() {
        if (!open) {
            return;
        }
        open = false;
        try {
            thread.join(5_000);
            capture.finish();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            session.close();
        }
        if (captureError != null) {
            throw new BpfException("the capture thread failed: " + captureError, 0, BpfException.EXIT_RUNTIME);
        }
        if (!capture.outputs().failed().isEmpty()) { // a failed output no longer ends the capture: said here
            throw new BpfException("an output failed: " + capture.outputs().failed().get(0).describe(), 0,
                    BpfException.EXIT_RUNTIME);
        }
    }
}
