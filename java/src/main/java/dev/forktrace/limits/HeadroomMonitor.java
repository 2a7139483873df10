package dev.forktrace.limits;

import dev.forktrace.proto.v1.Headroom;
import dev.forktrace.system.ProcFs;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Samples every limit once a second on its own thread and turns threshold crossings into Headroom
 * records: one when a scope's use reaches the threshold, one when it falls below threshold minus the
 * hysteresis (so a scope hovering at the threshold does not flap). The records wait in a queue for the
 * capture's consumer thread ({@link #drainTo}), which hands them to the sinks in stream order; the
 * latest value of every watched scope is readable at any time ({@link #latest}) for gauges.
 */
public final class HeadroomMonitor implements AutoCloseable {
    public static final long PERIOD_NANOS = 1_000_000_000L;
    private static final int HOLDERS = 5;

    /** Which scopes matter to a filtered watch: --cgroup PATH (below a hierarchy root), --pid PID, --comm NAME. */
    public record Selection(String cgroupPath, int pid, String comm) {
        public static final Selection ALL = new Selection(null, 0, "");
    }

    private final LimitScanner scanner;
    private final double threshold;
    private final double recoverBelow;
    private final Selection selection;
    private final Trends trends = new Trends();
    private final Map<String, Boolean> warned = new HashMap<>();
    private final ConcurrentLinkedQueue<Headroom> transitions = new ConcurrentLinkedQueue<>();
    /** The last sample's watched scopes and which of them are warned; Headroom values are built on request. */
    private record Latest(Instant time, List<LimitScope> scopes, Set<String> warned) {}

    private volatile Latest latest = new Latest(Instant.EPOCH, List.of(), Set.of());
    private volatile long samples;
    private volatile boolean running = true;
    private volatile String lastError = "";
    private Thread thread;

    /**
     * @param threshold    ratio at which a warning is emitted (0.9 for --warn-at 90)
     * @param hysteresis   how far below the threshold use must fall to count as recovered (0.05)
     */
    public HeadroomMonitor(LimitScanner scanner, double threshold, double hysteresis, Selection selection) {
        this.scanner = scanner;
        this.threshold = threshold;
        this.recoverBelow = threshold - hysteresis;
        this.selection = selection;
    }

    /** Starts the sampling thread; the first sample is taken at once. */
    public HeadroomMonitor start() {
        thread = Thread.ofPlatform().daemon().name("forktrace-headroom").start(this::loop);
        return this;
    }

    private void loop() {
        try {
            sampleUntilClosed();
        } finally {
            synchronized (this) {
                loopEnded = true;
                if (closeRequested) {
                    scanner.close();
                }
            }
        }
    }

    private boolean loopEnded, closeRequested; // guarded by this

    private void sampleUntilClosed() {
        long next = System.nanoTime();
        boolean warm = false;
        while (running) {
            try {
                sample();
                if (!warm) {
                    warm = true;
                    // The sinks encode warnings on the consumer thread; JsonFormat's first print costs ~45 ms
                    // of class loading, which stalled the failures queued behind the first warning.
                    HeadroomText.warmUp();
                }
            } catch (RuntimeException e) { // one bad read must not end the warnings for the rest of the capture
                lastError = e.toString();
            }
            next += PERIOD_NANOS;
            long sleep = next - System.nanoTime();
            if (sleep < 0) {
                next = System.nanoTime(); // a slow sample (a huge /proc) skips ticks instead of piling up
                continue;
            }
            try {
                Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * Every this many samples every watched scope is looked at; in between only those that changed, since an
     * unchanged scope cannot cross a line (with 5,000 idle cgroups, looking at each every second was a third
     * of the sampler's CPU). Trends keep a point per {@link Trends#RESOLUTION_NANOS} anyway.
     */
    static final int FULL_PASS_SAMPLES = (int) (Trends.RESOLUTION_NANOS / PERIOD_NANOS);

    /** One sample: read every limit, note trends, queue the crossings and recoveries. Public for tests and bench. */
    public void sample() {
        LimitScanner.Scan scan = scanner.scan();
        Instant now = Instant.now();
        Predicate<LimitScope> watches = watchedBy(scan);
        List<LimitScope> watched = watches == null ? scan.scopes() : filter(scan.scopes(), watches);
        boolean full = samples % FULL_PASS_SAMPLES == 0;
        List<LimitScope> looked = full ? watched : watches == null ? scan.changed() : filter(scan.changed(), watches);
        for (LimitScope s : looked) {
            trends.add(s.key(), scan.nanos(), s.used());
            boolean above = !warned.isEmpty() && warned.containsKey(s.key());
            Headroom.State state = Headroom.State.STATE_UNSPECIFIED;
            if (!above && s.ratio() >= threshold) {
                state = Headroom.State.CROSSED;
                warned.put(s.key(), true);
            } else if (above && s.ratio() < recoverBelow) {
                state = Headroom.State.RECOVERED;
                warned.remove(s.key());
            }
            if (state != Headroom.State.STATE_UNSPECIFIED) {
                transitions.add(HeadroomText.record(s, scanner.holders(s, scan, HOLDERS),
                        trends.trend(s.key(), s.used(), s.limit()), threshold, state, now));
            }
        }
        if (full && samples % (2 * FULL_PASS_SAMPLES) == 0) { // forgetting vanished scopes can wait ten seconds
            Set<String> keys = new HashSet<>(watched.size() * 2);
            for (LimitScope s : watched) {
                keys.add(s.key());
            }
            warned.keySet().retainAll(keys); // a removed cgroup or an exited user is neither warned nor recovered
            trends.retain(keys);
        }
        latest = new Latest(now, watched, Set.copyOf(warned.keySet()));
        samples++;
    }

    private static List<LimitScope> filter(List<LimitScope> scopes, Predicate<LimitScope> keep) {
        List<LimitScope> kept = new ArrayList<>();
        for (LimitScope s : scopes) {
            if (keep.test(s)) {
                kept.add(s);
            }
        }
        return kept;
    }

    /** Which scopes a filtered watch cares about (null: all of them): the filter's cgroups (with ancestors and
     * descendants), the users and pid namespaces of its processes, and every system-wide limit. */
    private Predicate<LimitScope> watchedBy(LimitScanner.Scan scan) {
        boolean byComm = selection.comm() != null && !selection.comm().isEmpty();
        if (selection.cgroupPath() == null && selection.pid() == 0 && !byComm) {
            return null;
        }
        Set<Integer> pids = new HashSet<>();
        List<String> cgroupPaths = new ArrayList<>();
        if (selection.pid() != 0) {
            pids.add(selection.pid());
        }
        if (byComm) {
            for (LimitScanner.ProcRow p : scan.processes().values()) {
                if (p.comm().equals(selection.comm()) && pids.size() < 1024) {
                    pids.add(p.pid());
                }
            }
        }
        for (int pid : List.copyOf(pids)) { // the cgroups of the selected processes, before the --cgroup members join
            String cgroups = ProcFs.read(Path.of("/proc/" + pid + "/cgroup"));
            if (cgroups != null) {
                for (String line : cgroups.split("\n")) { // "4:pids:/a/b" or "0::/a/b"
                    String[] parts = line.split(":", 3);
                    if (parts.length == 3 && !cgroupPaths.contains(parts[2])) {
                        cgroupPaths.add(parts[2]);
                    }
                }
            }
        }
        if (selection.cgroupPath() != null) {
            cgroupPaths.add(selection.cgroupPath());
            for (LimitScope s : scan.scopes()) {
                if (s.directory() != null && s.name().equals(selection.cgroupPath())) {
                    pids.addAll(LimitScanner.pidsBelow(s.directory()));
                }
            }
        }
        return s -> switch (s.kind()) {
            case CGROUP, MEMCG -> cgroupPaths.stream().anyMatch(p -> related(s.name(), p,
                    p.equals(selection.cgroupPath())));
            case USER, PID_NAMESPACE -> s.members() == null || s.members().stream().anyMatch(pids::contains);
            default -> true;
        };
    }

    /** a is p or an ancestor of p, or (for --cgroup) below p. */
    static boolean related(String a, String p, boolean descendantsToo) {
        return p.equals(a) || p.startsWith(a.endsWith("/") ? a : a + "/") || a.equals("/")
                || descendantsToo && a.startsWith(p.endsWith("/") ? p : p + "/");
    }

    /** Hands the queued crossings and recoveries over, oldest first (the consumer thread calls this). */
    public void drainTo(Consumer<Headroom> sink) {
        Headroom h;
        while ((h = transitions.poll()) != null) {
            sink.accept(h);
        }
    }

    /**
     * The latest value of every watched scope, most used first, without holders (state CROSSED while warned);
     * built on each call from the last sample, so call it at scrape time, not in a loop. Any thread.
     */
    public List<Headroom> latest() {
        Latest l = latest;
        List<Headroom> values = new ArrayList<>(l.scopes().size());
        for (LimitScope s : l.scopes()) {
            values.add(HeadroomText.record(s, List.of(), trends.trend(s.key(), s.used(), s.limit()), threshold,
                    l.warned().contains(s.key()) ? Headroom.State.CROSSED : Headroom.State.STATE_UNSPECIFIED, l.time()));
        }
        return values;
    }

    public long samples() {
        return samples;
    }

    /** The last exception a sample ended with, "" when none. */
    public String lastError() {
        return lastError;
    }

    @Override
    public void close() {
        running = false;
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            // A sample still running (a slow /proc walk on a loaded machine) holds the scanner's native
            // memory: closing it under that sample fails, so the thread closes it when the sample ends.
            if (thread == null || loopEnded) {
                scanner.close();
            } else {
                closeRequested = true;
            }
        }
    }
}
