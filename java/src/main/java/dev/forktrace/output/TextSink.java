package dev.forktrace.output;

import dev.forktrace.pipeline.Tally;
import dev.forktrace.pipeline.Tally.CauseScope;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.Offender;
import dev.forktrace.proto.v1.Stats;
import java.io.IOException;
import java.io.Writer;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Human output. Storms are collapsed: the first failure of a kind (same cause, scope and process) is
 * printed in full, identical ones within the window are counted and reported as one line when it
 * closes. On a terminal ({@code live}) a table of causes refreshed in place replaces the line stream.
 */
public final class TextSink implements FailureSink {
    static final long WINDOW_NANOS = 1_000_000_000L;
    private static final long RATE_WINDOW_NANOS = 10_000_000_000L;
    static final int MAX_ROWS = 10_000; // the live table's memory, when every failure has a new scope

    private final Writer out; // not a PrintWriter: that swallows write errors
    private final boolean live;
    private final Map<String, Burst> bursts = new LinkedHashMap<>();
    private final Tally<CauseScope, Row> rows = new Tally<>(MAX_ROWS, Tally.BY_NAME, Row::new);
    private long collapsed;

    private static final class Burst {
        final long firstNanos;
        final String description;
        long repeats;

        Burst(long firstNanos, String description) {
            this.firstNanos = firstNanos;
            this.description = description;
        }
    }

    /** A live table row: its count, its rate over the last window and the latest failure's offender and message. */
    private static final class Row extends Tally.Counter {
        long windowStartNanos;
        long windowCount;
        double rate;
        String topOffender = "";
        String message = "";
    }

    /** @param out where the lines go; its write errors end this sink (a PrintWriter's would be lost) */
    public TextSink(Writer out, boolean live) {
        this.out = out;
        this.live = live;
    }

    public long collapsed() {
        return collapsed;
    }

    // The burst the previous failure joined: a storm's next failure is counted without building its key.
    private Burst lastBurst;
    private dev.forktrace.proto.v1.Cause lastCause;
    private String lastScope;
    private int lastPid;

    /**
     * Reads the diagnosis in place: a repeat within the window (the common case in a storm) is counted
     * without a copy; only a failure printed in full, or a live table row, is taken as a ForkFailure.
     */
    @Override
    public void accept(dev.forktrace.pipeline.Diagnosis d) throws IOException {
        if (!live && lastBurst != null && d.cause() == lastCause && d.pid() == lastPid && d.scopeName().equals(lastScope)
                && System.nanoTime() - lastBurst.firstNanos < WINDOW_NANOS) {
            lastBurst.repeats++;
            collapsed++;
            return;
        }
        accept(d.toForkFailure());
    }

    @Override
    public void accept(ForkFailure f) throws IOException {
        long now = System.nanoTime();
        if (live) {
            updateRow(f, now);
            return;
        }
        String key = f.getCause() + "|" + f.getScope().getName() + "|" + f.getPid();
        Burst burst = bursts.get(key);
        lastCause = f.getCause();
        lastScope = f.getScope().getName();
        lastPid = f.getPid();
        if (burst != null && now - burst.firstNanos < WINDOW_NANOS) {
            burst.repeats++;
            collapsed++;
            lastBurst = burst;
            return;
        }
        if (burst != null) {
            report(burst);
        }
        burst = new Burst(now, f.getCause() + " in " + f.getScope().getName() + " by '" + f.getProcessComm()
                + "' (pid " + f.getPid() + ")");
        bursts.put(key, burst);
        lastBurst = burst;
        println(line(f));
        out.flush();
    }

    /** A headroom warning or recovery: one line, printed at once (also in the live table's place). */
    @Override
    public void headroom(dev.forktrace.proto.v1.Headroom h) throws IOException {
        println(headroomLine(h));
        out.flush();
    }

    public static String headroomLine(dev.forktrace.proto.v1.Headroom h) {
        Instant time = Instant.ofEpochSecond(h.getTime().getSeconds(), h.getTime().getNanos());
        return time + " HEADROOM " + h.getState() + " " + h.getMessage();
    }

    /** One readable line for one failure. */
    public static String line(ForkFailure f) {
        Instant time = Instant.ofEpochSecond(f.getTime().getSeconds(), f.getTime().getNanos());
        StringBuilder b = new StringBuilder(256)
                .append(time).append(' ')
                .append(f.getSyscall().name().toLowerCase()).append(' ')
                .append(f.getErrno()).append(" pid ").append(f.getPid()).append(" tid ").append(f.getTid())
                .append(" '").append(f.getComm()).append("' (").append(f.getProcessComm()).append(')');
        if (f.hasContainer()) {
            b.append(" in ").append(dev.forktrace.containers.Containers.describe(f.getContainer()));
        }
        if (f.getNsPid() != 0 && f.getNsPid() != f.getPid()) {
            b.append(" as pid ").append(f.getNsPid()).append(" in its namespace");
        }
        b
                .append(f.getThread() ? " new thread" : " new process")
                .append(": ").append(f.getCause()).append(" [").append(f.getConfidence()).append("] ")
                .append(f.getMessage());
        if (f.hasJava() && !f.getJava().getMain().isEmpty()) {
            b.append(" [JVM ").append(f.getJava().getMain()).append(", thread '").append(f.getJava().getThreadName())
                    .append("']");
        }
        if (f.hasJava() && f.getJava().getStackCount() > 0) {
            b.append(" starting '").append(f.getJava().getNewThreadName()).append("' at ")
                    .append(caller(f.getJava().getStackList()));
        }
        return b.toString();
    }

    /** The first frame outside java.lang.Thread: the code that called Thread.start. */
    static String caller(List<String> stack) {
        for (String frame : stack) {
            if (!frame.contains("java.lang.Thread.")) {
                return frame;
            }
        }
        return stack.get(stack.size() - 1);
    }

    private void report(Burst burst) throws IOException {
        if (burst.repeats > 0) {
            printf("  ... %d more identical failures within %.1fs: %s%n", burst.repeats, WINDOW_NANOS / 1e9,
                    burst.description);
        }
    }

    private void println(String line) throws IOException {
        out.write(line);
        out.write('\n');
    }

    private void printf(String format, Object... args) throws IOException {
        out.write(String.format(format, args));
    }

    private void updateRow(ForkFailure f, long now) {
        Row row = rows.counter(new CauseScope(f.getCause(), f.getScope().getKind(), f.getScope().getName()));
        row.add();
        if (now - row.windowStartNanos > RATE_WINDOW_NANOS) {
            row.rate = row.windowStartNanos == 0 ? 0 : row.windowCount * 1e9 / (now - row.windowStartNanos);
            row.windowStartNanos = now;
            row.windowCount = 0;
        }
        row.windowCount++;
        if (f.getOffendersCount() > 0) {
            Offender o = f.getOffenders(0);
            row.topOffender = dev.forktrace.system.HolderGroups.describe(o, f.getOffenderRanking().equals("memory"));
        }
        row.message = f.getMessage();
    }

    @Override
    public void stats(Stats stats) throws IOException {
        long now = System.nanoTime();
        if (live) {
            redraw(stats, now);
            return;
        }
        for (Iterator<Burst> it = bursts.values().iterator(); it.hasNext(); ) {
            Burst burst = it.next();
            if (now - burst.firstNanos >= WINDOW_NANOS) {
                report(burst);
                it.remove();
                if (burst == lastBurst) {
                    lastBurst = null; // reported and gone: the next failure of its kind opens a new one
                }
            }
        }
        out.flush();
    }

    private void redraw(Stats stats, long now) throws IOException {
        List<Tally.Row<CauseScope, Row>> sorted = rows.largestFirst();
        out.write("\033[H\033[2J");
        printf("forktrace: %d failures delivered, %d dropped   (Ctrl-C to stop)%n%n", stats.getDelivered(),
                stats.getDropped());
        printf("%-24s %-36s %8s %8s  %s%n", "CAUSE", "SCOPE", "COUNT", "RATE/s", "TOP OFFENDER");
        for (Tally.Row<CauseScope, Row> r : sorted) {
            printRow(r.key().cause().name(), r.key().scope(), r.counter(), now);
        }
        if (rows.others().count() > 0) {
            printRow("(others)", "(further causes and scopes)", rows.others(), now);
        }
        if (!sorted.isEmpty()) {
            println("");
            println(sorted.get(0).counter().message);
        }
        out.flush();
    }

    private void printRow(String cause, String scope, Row r, long now) throws IOException {
        double rate = now - r.windowStartNanos > 0 && r.windowStartNanos != 0
                ? Math.max(r.rate, r.windowCount * 1e9 / Math.max(1, now - r.windowStartNanos)) : r.rate;
        printf("%-24s %-36s %8d %8.1f  %s%n", cause, truncate(scope, 36), r.count(), rate, r.topOffender);
    }

    private static String truncate(String s, int max) {
        return s.length() <= max ? s : "..." + s.substring(s.length() - max + 3);
    }

    @Override
    public void close() throws IOException {
        for (Burst burst : bursts.values()) {
            report(burst);
        }
        bursts.clear();
        lastBurst = null;
        out.flush(); // the Writer only: its stream is the caller's
    }
}
