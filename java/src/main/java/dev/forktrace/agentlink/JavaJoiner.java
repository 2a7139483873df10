package dev.forktrace.agentlink;

import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.JavaContext;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Puts the agent's Java stack into the kernel's ForkFailure. The kernel event comes first (Thread.start
 * throws after clone failed), so a thread failure of a process with a connected agent is held until its
 * report arrives, at most {@link #HOLD_NANOS}; every event behind a held one waits too, so output keeps
 * the kernel's order and each failure is written once, complete (no second "update" event that every
 * consumer would have to merge).
 *
 * <p>Match: same pid and tid, and the kernel time within [report - {@link #WINDOW_BEFORE_NANOS}, report +
 * {@link #WINDOW_AFTER_NANOS}]; the latest such event gets the report (the JVM may retry pthread_create,
 * and only the last failure made Thread.start throw). A report that finds no event waits as long, since
 * the ring may be drained after the socket.
 *
 * <p>Threads: {@link #agentConnected}, {@link #agentDisconnected} and {@link #report} from the listener;
 * everything else on the consumer thread. With no agent connected {@link #offer} is one map check.
 */
public final class JavaJoiner {
    public static final long HOLD_NANOS = 200_000_000L;
    /** How long after the failed clone the agent may read its clock (OOM construction, stack walk, a busy box). */
    static final long WINDOW_BEFORE_NANOS = 1_000_000_000L;
    /** Slack the other way: a wall-clock report converted to ktime carries the two clocks' drift. */
    static final long WINDOW_AFTER_NANOS = 20_000_000L;
    /** A storm must not make the held queue grow without bound; beyond this the oldest is written unjoined. */
    static final int MAX_HELD = 10_000;
    /**
     * Characters of reports not yet joined or expired: a user flooding reports for their own JVM must not
     * fill the heap (a report is a few thousand characters; beyond this reports are refused and counted).
     */
    static final long MAX_PENDING_CHARS = 4_000_000L;

    private final LongSupplier monotonic;
    private final long wallMinusMonotonic;
    private final ConcurrentHashMap<Integer, Integer> agents = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Report> inbox = new ConcurrentLinkedQueue<>();
    private final ArrayDeque<Held> held = new ArrayDeque<>();
    private final List<Report> unmatched = new ArrayList<>();
    private final AtomicLong reports = new AtomicLong();
    private final AtomicLong pendingChars = new AtomicLong();
    private final AtomicLong refusedReports = new AtomicLong();
    private long joined;
    private long unjoinedReports;
    private long unjoinedEvents;

    /**
     * @param monotonic CLOCK_MONOTONIC in nanoseconds (the kernel's ktime)
     * @param wallMinusMonotonic epoch nanoseconds minus CLOCK_MONOTONIC, read together once
     */
    public JavaJoiner(LongSupplier monotonic, long wallMinusMonotonic) {
        this.monotonic = monotonic;
        this.wallMinusMonotonic = wallMinusMonotonic;
    }

    /** A JVM's agent said hello: its thread failures wait for reports from now on. */
    public void agentConnected(int pid) {
        agents.merge(pid, 1, Integer::sum);
    }

    public void agentDisconnected(int pid) {
        agents.computeIfPresent(pid, (k, n) -> n > 1 ? n - 1 : null);
    }

    /** A failure report from an agent (any thread). */
    public void report(AgentMessage m) {
        long chars = m.approximateChars();
        if (pendingChars.addAndGet(chars) > MAX_PENDING_CHARS) {
            pendingChars.addAndGet(-chars);
            refusedReports.incrementAndGet();
            return;
        }
        long now = monotonic.getAsLong();
        inbox.add(new Report(m, ktimeOf(m, now), now, chars));
        reports.incrementAndGet();
    }

    /** Reports refused because too many were pending (a flood). */
    public long refusedReports() {
        return refusedReports.get();
    }

    /**
     * The report's time on the kernel's clock. System.nanoTime is CLOCK_MONOTONIC on Linux HotSpot; it is
     * believed when it is not in the future and at most 10 s old. Otherwise (another JVM, a time namespace,
     * no monotonic field) the wall time is placed on the monotonic clock.
     */
    long ktimeOf(AgentMessage m, long now) {
        long mono = m.monotonicNanos();
        if (mono > 0 && mono <= now + 1_000_000L && now - mono < 10_000_000_000L) {
            return mono;
        }
        return m.wallNanos() > 0 ? m.wallNanos() - wallMinusMonotonic : now;
    }

    /** Hands the failure to out now, or holds it for its report (released by {@link #poll}). Consumer thread. */
    public void offer(ForkFailure failure, Consumer<ForkFailure> out) {
        if (passesThrough(failure.getThread(), failure.getPid())) {
            out.accept(failure);
            return;
        }
        boolean waits = waitsForReport(failure.getThread(), failure.getPid());
        long now = monotonic.getAsLong();
        held.add(new Held(failure, now + HOLD_NANOS, !waits));
        while (held.size() > MAX_HELD) {
            release(held.removeFirst(), out);
        }
        releaseReady(now, out); // no matching here: see poll
    }

    /**
     * Whether {@link #offer} would hand this failure straight on: nothing is held and no report can be
     * waiting for it. The consumer then writes it without building the ForkFailure message the joiner keeps.
     * Consumer thread.
     */
    public boolean passesThrough(boolean thread, int pid) {
        return held.isEmpty() && !waitsForReport(thread, pid);
    }

    private boolean waitsForReport(boolean thread, int pid) {
        if (agents.isEmpty() && unmatched.isEmpty() && inbox.isEmpty()) {
            return false;
        }
        return thread && (agents.containsKey(pid) || reportPendingFor(pid));
    }

    private boolean reportPendingFor(int pid) {
        for (Report r : unmatched) {
            if (r.message.pid() == pid) {
                return true;
            }
        }
        for (Report r : inbox) {
            if (r.message.pid() == pid) {
                return true;
            }
        }
        return false;
    }

    /**
     * Call after each drain of the ring: joins the reports taken in by the previous call, takes in the
     * ones that arrived since, then writes every event at the head of the queue that is joined or has
     * waited enough. A report is matched one drain later because the JVM may fail several clones for one
     * Thread.start (HotSpot retries pthread_create on EAGAIN): all of them are in the ring before the
     * report is sent, but the drain that was running when it arrived may not have reached them yet. A
     * drain that starts after the report was taken in has.
     */
    public void poll(Consumer<ForkFailure> out) {
        if (held.isEmpty() && unmatched.isEmpty() && inbox.isEmpty()) {
            return;
        }
        long now = monotonic.getAsLong();
        for (Iterator<Report> it = unmatched.iterator(); it.hasNext(); ) {
            Report r = it.next();
            if (join(r)) { // every report here was taken in by an earlier call
                it.remove();
                pendingChars.addAndGet(-r.chars);
            } else if (now - r.receivedNanos > HOLD_NANOS) {
                it.remove();
                pendingChars.addAndGet(-r.chars);
                unjoinedReports++; // its event was written already, was filtered out, or never reached forktrace
            }
        }
        for (Report r; (r = inbox.poll()) != null; ) {
            unmatched.add(r);
        }
        releaseReady(now, out);
    }

    private void releaseReady(long now, Consumer<ForkFailure> out) {
        while (!held.isEmpty() && (held.peekFirst().done || now >= held.peekFirst().deadlineNanos)) {
            release(held.removeFirst(), out);
        }
    }

    /** Writes everything held, joined or not (end of capture). */
    public void flush(Consumer<ForkFailure> out) {
        poll(out);
        poll(out); // the reports taken in by the first call are matched by the second
        while (!held.isEmpty()) {
            release(held.removeFirst(), out);
        }
    }

    private void release(Held h, Consumer<ForkFailure> out) {
        if (!h.done) {
            unjoinedEvents++;
        }
        out.accept(h.failure);
    }

    private boolean join(Report r) {
        AgentMessage m = r.message;
        Held best = null;
        for (Held h : held) {
            ForkFailure f = h.failure;
            if (h.done || f.getPid() != m.pid() || f.getTid() != m.tid()) {
                continue;
            }
            long k = f.getKtimeNs();
            if (k >= r.ktimeNanos - WINDOW_BEFORE_NANOS && k <= r.ktimeNanos + WINDOW_AFTER_NANOS
                    && (best == null || k >= best.failure.getKtimeNs())) {
                best = h;
            }
        }
        if (best == null) {
            return false;
        }
        // Earlier failures of the same thread were retries inside this Thread.start (or starts whose
        // reports came before this one): no report will come for them.
        for (Held h : held) {
            if (!h.done && h != best && h.failure.getPid() == m.pid() && h.failure.getTid() == m.tid()
                    && h.failure.getKtimeNs() <= best.failure.getKtimeNs()) {
                h.done = true;
            }
        }
        best.failure = withJava(best.failure, m);
        best.done = true;
        joined++;
        return true;
    }

    static ForkFailure withJava(ForkFailure f, AgentMessage m) {
        JavaContext.Builder java = f.getJava().toBuilder(); // keeps the main class found from the command line
        if (!m.threadName().isEmpty()) {
            java.setThreadName(m.threadName()); // the Java name, not the kernel's 15-character comm
        }
        if (java.getMain().isEmpty() && !m.main().isEmpty()) { // the process was gone when forktrace read /proc
            java.setMain(m.main().endsWith(".jar") ? "-jar " + m.main() : m.main());
        }
        java.setNewThreadName(m.newThreadName()).clearStack().addAllStack(m.stack());
        return f.toBuilder().setJava(java).build();
    }

    /** True while something is held or pending: the consumer should poll soon. */
    public boolean busy() {
        return !held.isEmpty() || !unmatched.isEmpty() || !inbox.isEmpty();
    }

    public int agentsConnected() {
        return agents.size();
    }

    public long reports() {
        return reports.get();
    }

    public long joined() {
        return joined;
    }

    /** Reports that found no kernel event within the hold time. */
    public long unjoinedReports() {
        return unjoinedReports;
    }

    /** Thread failures of agent processes written without a report. */
    public long unjoinedEvents() {
        return unjoinedEvents;
    }

    private record Report(AgentMessage message, long ktimeNanos, long receivedNanos, long chars) {}

    private static final class Held {
        ForkFailure failure;
        final long deadlineNanos;
        boolean done;

        Held(ForkFailure failure, long deadlineNanos, boolean done) {
            this.failure = failure;
            this.deadlineNanos = deadlineNanos;
            this.done = done;
        }
    }
}
