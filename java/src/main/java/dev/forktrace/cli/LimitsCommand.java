package dev.forktrace.cli;

import dev.forktrace.limits.HeadroomText;
import dev.forktrace.limits.LimitScanner;
import dev.forktrace.limits.LimitScope;
import dev.forktrace.limits.Trends;
import dev.forktrace.proto.v1.Headroom;
import dev.forktrace.proto.v1.Offender;
import dev.forktrace.system.HolderGroups;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `forktrace limits`: every limit on this machine that can refuse a new task, smallest headroom first. */
@Command(name = "limits", mixinStandardHelpOptions = true,
        description = "Every limit that can refuse a new process or thread (pids cgroups, RLIMIT_NPROC per user, "
                + "threads-max, pid_max per pid namespace, pid namespaces without init, memory cgroups, strict "
                + "overcommit), smallest headroom first, with the trend and the top holders. Needs no BPF.")
public final class LimitsCommand implements Callable<Integer> {
    enum Format { text, json }

    @Option(names = "--format", description = "text (default) or json.")
    Format format = Format.text;

    @Option(names = "--top", paramLabel = "N", description = "Show the N scopes with the least headroom (default 15; 0 = all).")
    int top = 15;

    @Option(names = "--holders", paramLabel = "N", description = "Top holders per scope (default 3).")
    int holders = 3;

    @Option(names = "--watch", description = "Sample every --interval seconds and redraw, with trends from the samples.")
    boolean watch;

    @Option(names = "--interval", paramLabel = "SECONDS", description = "With --watch: seconds between samples (default 2).")
    double interval = 2;

    @Option(names = "--duration", paramLabel = "SECONDS", description = "With --watch: stop after this many seconds.")
    double duration;

    private volatile boolean running = true;

    @Override
    public Integer call() throws InterruptedException {
        PrintStream out = System.out;
        if (top < 0 || holders < 0 || interval <= 0 || duration < 0) {
            System.err.println("forktrace limits: --top, --holders and --duration must not be negative, --interval must be positive");
            return 2;
        }
        Trends trends = new Trends();
        try (LimitScanner scanner = LimitScanner.forThisMachine(watch)) {
            long deadline = duration > 0 ? System.nanoTime() + (long) (duration * 1e9) : Long.MAX_VALUE;
            if (watch) {
                Runtime.getRuntime().addShutdownHook(new Thread(() -> running = false));
            }
            boolean terminal = System.console() != null && System.console().isTerminal();
            do {
                long start = System.nanoTime();
                LimitScanner.Scan scan = scanner.scan();
                Set<String> keys = new HashSet<>();
                for (LimitScope s : scan.scopes()) {
                    trends.add(s.key(), scan.nanos(), s.used());
                    keys.add(s.key());
                }
                trends.retain(keys);
                List<LimitScope> shown = top == 0 ? scan.scopes() : scan.scopes().subList(0, Math.min(top, scan.scopes().size()));
                List<Headroom> rows = new ArrayList<>(shown.size());
                Instant now = Instant.now();
                for (LimitScope s : shown) {
                    List<Offender> held = holders == 0 ? List.of() : scanner.holders(s, scan, holders);
                    rows.add(HeadroomText.record(s, held, trends.trend(s.key(), s.used(), s.limit()), 0,
                            Headroom.State.STATE_UNSPECIFIED, now));
                }
                long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
                if (format == Format.json) {
                    out.println(json(rows, scan, elapsedMillis));
                } else {
                    if (watch && terminal) {
                        out.print("\033[H\033[2J");
                    }
                    out.print(text(rows, scan, elapsedMillis, watch));
                }
                out.flush();
                if (!watch) {
                    break;
                }
                long sleepNanos = (long) (interval * 1e9) - (System.nanoTime() - start);
                if (sleepNanos > 0) {
                    Thread.sleep(sleepNanos / 1_000_000, (int) (sleepNanos % 1_000_000));
                }
            } while (running && System.nanoTime() < deadline);
        }
        return 0;
    }

    static String text(List<Headroom> rows, LimitScanner.Scan scan, long elapsedMillis, boolean watching) {
        StringBuilder b = new StringBuilder();
        b.append(String.format("forktrace limits: %d limits that can refuse a new task, smallest headroom first (%d shown; "
                + "%d processes, read in %d ms)%n", scan.scopes().size(), rows.size(), scan.processes().size(), elapsedMillis));
        b.append(String.format("%-7s %-52s %10s %10s %7s %-22s %s%n", "KIND", "SCOPE", "USED", "LIMIT", "USE", "TREND",
                "TOP HOLDERS"));
        for (Headroom h : rows) {
            boolean memory = h.getHolderRanking().equals("memory");
            String trend = HeadroomText.trend(h.getGrowthPerMinute(), h.getSecondsToExhaustion(), memory);
            if (trend.isEmpty()) {
                trend = watching ? "flat" : "-";
            }
            String holders = h.getHoldersList().stream().map(o -> HolderGroups.describe(o, memory))
                    .collect(Collectors.joining("; "));
            if (h.getLowestLimitPid() != 0) {
                holders = "limit " + h.getLimit() + " from '" + h.getLowestLimitComm() + "' (pid " + h.getLowestLimitPid()
                        + ")" + (holders.isEmpty() ? "" : "; " + holders);
            }
            b.append(String.format("%-7s %-52s %10s %10s %7s %-22s %s%n", kind(h), fit(h.getName() + " [" + h.getLimitName()
                    + "]", 52), HeadroomText.amount(h.getUsed(), memory), HeadroomText.amount(h.getLimit(), memory),
                    HeadroomText.percent(h.getRatio()), trend.replace("growing ", "").replace("shrinking ", ""), holders));
        }
        if (!watching) {
            b.append("(trend: run with --watch to sample growth; pids.peak and memory peaks are in --format json)\n");
        }
        for (String missing : scan.unreadable()) {
            b.append("could not read: ").append(missing).append('\n');
        }
        return b.toString();
    }

    private static String kind(Headroom h) {
        return switch (h.getKind()) {
            case CGROUP -> "pids";
            case USER -> "nproc";
            case PID_NAMESPACE -> "pidns";
            case MEMCG -> "memcg";
            default -> "system";
        };
    }

    private static String fit(String s, int max) {
        return s.length() <= max ? s : "..." + s.substring(s.length() - max + 3);
    }

    static String json(List<Headroom> rows, LimitScanner.Scan scan, long elapsedMillis) {
        StringBuilder b = new StringBuilder("{\"scopes\":[");
        for (int i = 0; i < rows.size(); i++) {
            b.append(i == 0 ? "" : ",").append(HeadroomText.json(rows.get(i)));
        }
        b.append("],\"total\":").append(scan.scopes().size()).append(",\"processes\":").append(scan.processes().size())
                .append(",\"elapsedMs\":").append(elapsedMillis).append(",\"unreadable\":[");
        for (int i = 0; i < scan.unreadable().size(); i++) {
            b.append(i == 0 ? "" : ",").append('"').append(scan.unreadable().get(i).replace("\\", "\\\\").replace("\"", "\\\""))
                    .append('"');
        }
        return b.append("]}").toString();
    }
}
