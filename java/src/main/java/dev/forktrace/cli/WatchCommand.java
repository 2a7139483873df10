package dev.forktrace.cli;

import dev.forktrace.agentlink.AgentLink;
import dev.forktrace.bpf.BpfException;
import dev.forktrace.bpf.EventLayout;
import dev.forktrace.bpf.Libc;
import dev.forktrace.bpf.ProbeSession;
import dev.forktrace.output.FailureSink;
import dev.forktrace.output.IoErrors;
import dev.forktrace.output.JsonLinesSink;
import dev.forktrace.output.LineOutput;
import dev.forktrace.output.TextSink;
import dev.forktrace.pipeline.Capture;
import dev.forktrace.proto.v1.HookStatus;
import dev.forktrace.proto.v1.SchemaVersion;
import dev.forktrace.proto.v1.StreamHeader;
import dev.forktrace.proto.v1.Tier;
import dev.forktrace.stream.JfrSink;
import dev.forktrace.stream.StreamWriter;
import dev.forktrace.system.CgroupPaths;
import java.io.IOException;
import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `forktrace watch`: capture failed task creations live until Ctrl-C, SIGTERM or --duration. */
@Command(name = "watch", mixinStandardHelpOptions = true,
        description = "Capture every failed fork, clone, vfork and clone3 live and say why it failed.")
public final class WatchCommand implements Callable<Integer> {
    enum Format { text, json }

    @Option(names = "--format", description = "text (default) or json (one ForkFailure per line).")
    Format format = Format.text;

    @Option(names = "--pid", paramLabel = "PID", description = "Only failures of this process (tgid).")
    Integer pid; // null: every process (0 is not a process and is refused)

    @Option(names = "--comm", paramLabel = "NAME", description = "Only failures of processes with this name.")
    String comm = "";

    @Option(names = "--cgroup", paramLabel = "PATH",
            description = "Only failures in this cgroup: a directory under /sys/fs/cgroup or a path like /a/b.")
    String cgroup;

    @Mixin
    ContainerOptions containerOptions = new ContainerOptions();

    @Option(names = "--duration", paramLabel = "SECONDS",
            description = "Stop after this many seconds (0, the default: run until Ctrl-C or SIGTERM).")
    double durationSeconds;

    @Option(names = "--output", paramLabel = "FILE",
            description = "Write events here instead of standard output; FILE.pb (still showing --format on standard output) or - writes a protobuf stream.")
    Path output;

    @Option(names = "--rotate-size", paramLabel = "BYTES", description = "With a .pb output: start FILE.1.pb ... at this size.")
    long rotateSize;

    @Option(names = "--rotate-keep", paramLabel = "N", description = "With --rotate-size: keep at most N files (0 = all).")
    int rotateKeep;

    @Option(names = "--jfr", paramLabel = "FILE", description = "Also write forktrace.ForkFailure JFR events to FILE.jfr.")
    Path jfr;

    @Option(names = "--warn-at", paramLabel = "PERCENT",
            description = "Warn when a limit (pids cgroup, RLIMIT_NPROC, pid_max, threads-max, memcg, CommitLimit) reaches "
                    + "this use, and again when it recovers below PERCENT minus --warn-hysteresis (default 90; 0 = off).")
    double warnAt = 90;

    @Option(names = "--warn-hysteresis", paramLabel = "PERCENT", description = "See --warn-at (default 5).")
    double warnHysteresis = 5;

    @Option(names = "--warn-far-interval", paramLabel = "SECONDS",
            description = "Every pids cgroup is evaluated every second; one whose ancestor counts less than --warn-at "
                    + "minus 20 points of its limit is known to be below that without a read, and its own count is "
                    + "re-read this often (default 5; 1 = every second; an ancestor's count of 0 needs no re-read).")
    double warnFarInterval = 5;

    @Mixin
    HookOptions hookOptions = new HookOptions();

    @Mixin
    AgentOptions agentOptions = new AgentOptions();

    @Mixin
    KafkaOptions kafkaOptions = new KafkaOptions();

    @Mixin
    MetricsOptions metricsOptions = new MetricsOptions();

    private volatile boolean running = true;
    private volatile int stopSignal; // the number of the SIGINT/SIGTERM/SIGHUP that stopped the capture, or 0

    @Override
    public Integer call() {
        installStopSignals(); // first: a stop signal during start-up must not be lost or wait for the attach
        StartupTrace.mark("command line parsed");
        PrintStream err = System.err;
        String usage = OutputChecks.watchUsage(durationSeconds, pid, OutputChecks.pidMax(), output, rotateSize,
                rotateKeep, jfr);
        if (usage != null) {
            err.println("forktrace: " + usage);
            return 2;
        }
        if (warnAt < 0 || warnAt > 100 || warnHysteresis < 0 || warnHysteresis >= 100) {
            err.println("forktrace: --warn-at must be a percentage from 0 (off) to 100, --warn-hysteresis from 0 to 99");
            return 2;
        }
        boolean protobufStream = output != null && (output.toString().equals("-") || output.toString().endsWith(".pb"));
        OutputStream stream = null;
        List<FailureSink> sinks = new ArrayList<>();
        try {
            if (protobufStream) {
                sinks.add(StreamWriter.open(output.toString(), rotateSize, rotateKeep));
            }
            if (!protobufStream) {
                stream = openOutput(output, System.out);
            } else if (!output.toString().equals("-")) {
                stream = openOutput(null, System.out); // see what is being recorded, in --format
            }
        } catch (IOException | RuntimeException e) {
            err.println("forktrace: cannot write the output file " + output + ": " + describe(e));
            return 1;
        }
        try {
            if (jfr != null) {
                sinks.add(new JfrSink(jfr));
            }
        } catch (IOException | RuntimeException e) {
            err.println("forktrace: cannot write the output file " + jfr + ": " + describe(e));
            return 1;
        }
        try {
            if (kafkaOptions.enabled()) {
                sinks.add(kafkaOptions.open(err));
            }
        } catch (RuntimeException e) { // KafkaException, ConfigException: a bad bootstrap or property
            err.println("forktrace: --kafka " + kafkaOptions.bootstrap + ": " + describe(e));
            return 2;
        }
        StartupTrace.mark("outputs open");
        CgroupPaths cgroups = CgroupPaths.forThisMachine();
        StartupTrace.mark("cgroup mounts read");
        long cgroupId = 0;
        int hierarchy = 0;
        if (cgroup != null) {
            try {
                Map.Entry<CgroupPaths.Hierarchy, Long> found = cgroups.resolve(cgroup);
                cgroupId = found.getValue();
                hierarchy = found.getKey().code();
            } catch (IOException e) {
                err.println("forktrace: --cgroup: " + e.getMessage());
                return 2;
            }
        }
        dev.forktrace.containers.ContainerRuntimes containers = null;
        if (containerOptions.given()) {
            if (cgroup != null) {
                err.println("forktrace: --cgroup, --container and --pod each choose the one cgroup to watch: give one");
                return 2;
            }
            try {
                containers = dev.forktrace.containers.ContainerRuntimes.forThisMachine();
                containers.refresh(); // the filter needs the names now; the thread keeps them fresh after
                containers.start();
                Map.Entry<CgroupPaths.Hierarchy, Long> found = cgroups.resolve(containerOptions.cgroupPath(cgroups, containers));
                cgroupId = found.getValue();
                hierarchy = found.getKey().code();
            } catch (IOException | IllegalArgumentException e) {
                if (containers != null) containers.close();
                err.println("forktrace: " + containerOptions.flag() + ": " + e.getMessage());
                return 2;
            }
        }
        dev.forktrace.containers.ContainerRuntimes containerIndex = containers;
        boolean toConsole = output == null || protobufStream && !output.toString().equals("-");
        boolean terminal = toConsole && System.console() != null && System.console().isTerminal();
        TextSink text = null;
        if (stream != null && format == Format.json) {
            sinks.add(new JsonLinesSink(stream, toConsole));
        } else if (stream != null) {
            text = new TextSink(new OutputStreamWriter(stream, StandardCharsets.UTF_8), terminal);
            sinks.add(text);
        }

        try {
            FailureSink metrics = metricsOptions.open(err);
            if (metrics != null) {
                sinks.add(metrics);
            }
        } catch (MetricsOptions.MetricsException e) {
            err.println("forktrace: " + e.getMessage());
            return 2;
        }

        AgentLink agents;
        try {
            agents = agentOptions.open(err);
        } catch (IOException e) {
            err.println("forktrace: --agent-socket: " + e.getMessage());
            return 2;
        }
        // The pipeline warms up (classes, /proc and cgroup indexes) while the kernel verifies the programs.
        TextSink textSink = text;
        FutureTask<Capture> preparedCapture = new FutureTask<>(
                () -> new Capture(cgroups, sinks, () -> textSink == null ? 0 : textSink.collapsed(), containerIndex));
        Thread.ofPlatform().daemon().name("forktrace-warm-up").start(preparedCapture);
        ProbeSession session;
        if (stopSignal != 0) {
            agents.close();
            return stoppedBeforeAttach(err);
        }
        try {
            StartupTrace.mark("options and outputs");
            session = ProbeSession.open(new ProbeSession.Filter(pid == null ? 0 : pid, false, cgroupId, hierarchy, comm),
                    hookOptions.choice());
            StartupTrace.mark("BPF object loaded");
            session.attach();
            StartupTrace.mark("BPF programs attached");
        } catch (BpfException e) {
            agents.close();
            err.println("forktrace: " + e.getMessage());
            return e.exitCode();
        } catch (IllegalArgumentException e) {
            agents.close();
            err.println("forktrace: " + e.getMessage());
            return 2;
        }
        if (stopSignal != 0) {
            session.close();
            agents.close();
            return stoppedBeforeAttach(err);
        }
        try (agents; session) {
            Capture capture = prepared(preparedCapture);
            capture.bind(session);
            kafkaOptions.countUndeliverable(capture);
            capture.outputs().warnTo(message -> err.println("forktrace: " + message));
            headroom = warnAt > 0 ? startHeadroom(cgroups, capture) : null;
            if (headroom != null) {
                capture.watchHeadroom(headroom);
                metricsOptions.headroom(headroom::latest);
            }
            if (agents.joiner() != null) {
                capture.joinJavaReports(agents.joiner());
            }
            // Completed once, so that every sink (file, Kafka) writes the same start time, clocks and host.
            capture.outputs().start(StreamWriter.completeHeader(header(session.hooks()))); // a full disk from the start is said, not fatal
            StartupTrace.mark("pipeline warm");
            // Printed once the pipeline is warm too: from here on a failure is attributed within
            // milliseconds, while the processes that hold the limit are still there to be named.
            String agentNote = agents.note();
            if (agentNote.contains(" not listening (")) {
                // The reason on a line of its own keeps the attached line short.
                err.println("forktrace: " + agentNote);
                agentNote = "agent socket not listening";
            }
            err.println(attachedLine(readKernelRelease(), session.hooks(), Coverage.of(session.hooks(), cgroups, Map.of()), agentNote));
            long deadline = durationSeconds > 0 ? System.nanoTime() + (long) (durationSeconds * 1e9) : Long.MAX_VALUE;
            capture.run(() -> running, deadline);
            if (headroom != null) {
                headroom.close();
            }
            capture.finish();
            capture.printSummary(err);
            if (agents.summary() != null) {
                err.println(agents.summary());
            }
            // A failed output did not end the capture, but what it missed is counted and the exit says so.
            for (var failed : capture.outputs().failed()) {
                err.println("forktrace: output failed: " + failed.describe());
            }
            return capture.outputs().failed().isEmpty() ? 0 : 1;
        } catch (UncheckedIOException | IOException e) {
            err.println("forktrace: writing " + (output == null ? "standard output" : output) + " failed: "
                    + describe(e) + " (events up to this point were written; the probes are detached)");
            return 1;
        }
    }

    private dev.forktrace.limits.HeadroomMonitor headroom;

    /** The latest headroom of every watched scope (for a metrics exporter); empty without --warn-at. */
    public java.util.List<dev.forktrace.proto.v1.Headroom> latestHeadroom() {
        return headroom == null ? java.util.List.of() : headroom.latest();
    }

    /** Headroom sampling on its own thread, for the scopes this watch's filters select. */
    private dev.forktrace.limits.HeadroomMonitor startHeadroom(CgroupPaths cgroups, Capture capture) {
        String selected = null;
        if (cgroup != null) {
            selected = cgroup.startsWith("/") ? cgroup : "/" + cgroup;
            for (CgroupPaths.Hierarchy h : CgroupPaths.Hierarchy.values()) {
                Path mount = cgroups.mount(h);
                if (mount != null && Path.of(cgroup).isAbsolute() && Path.of(cgroup).startsWith(mount)) {
                    selected = "/" + mount.relativize(Path.of(cgroup));
                }
            }
            if (selected.length() > 1 && selected.endsWith("/")) {
                selected = selected.substring(0, selected.length() - 1);
            }
        }
        // New cgroups are seen within 10 s (a walk follows a changed count in /proc/cgroups), changed limits within
        // a minute (re-read in turn); the walk every 5 minutes is a safety net only.
        var scanner = new dev.forktrace.limits.LimitScanner(Path.of("/proc"), cgroups,
                        dev.forktrace.limits.LimitScanner.SAMPLING_REWALK_NANOS)
                .sampleFarCgroupsEvery(Math.max(0, warnAt / 100 - 0.2), (long) (Math.max(1, warnFarInterval) * 1e9))
                .countMovesWith(capture::cgroupMoves)
                .enterNamespaces(false);
        return new dev.forktrace.limits.HeadroomMonitor(scanner, warnAt / 100, warnHysteresis / 100,
                new dev.forktrace.limits.HeadroomMonitor.Selection(selected, pid == null ? 0 : pid, comm)).start();
    }

    /**
     * A buffered byte stream to the file, or to the console stream when there is no file; closing it
     * leaves the console open, since the summary is printed after the sinks close.
     */
    static OutputStream openOutput(Path file, OutputStream console) throws IOException {
        // Not System.out, a PrintStream that swallows errors: a full disk or a reader gone (EPIPE) is seen.
        if (file != null) {
            return LineOutput.toFile(file);
        }
        return console == System.err ? LineOutput.toStandardError() : LineOutput.toStandardOutput();
    }

    /** The capture the warm-up thread built; its failure is this thread's failure. */
    static Capture prepared(FutureTask<Capture> task) {
        try {
            return task.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the pipeline warmed up", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** The stream header: hooks as attached and the filters as given; the writer adds host and clocks. */
    private StreamHeader header(List<ProbeSession.Hook> hooks) {
        StreamHeader.Builder header = StreamHeader.newBuilder().setSchemaVersion(SchemaVersion.SCHEMA_VERSION_CURRENT_VALUE)
                .setKernelRelease(readKernelRelease()).setForktraceVersion("0.1.0")
                .setCaptureId(java.util.UUID.randomUUID().toString());
        for (ProbeSession.Hook hook : hooks) {
            header.addHooks(HookStatus.newBuilder().setHook(hook.name()).setAttached(hook.attached()).setNote(hook.note())
                    .setTier(switch (hook.tier()) {
                        case FENTRY -> Tier.FENTRY;
                        case KPROBE -> Tier.KPROBE;
                        case TRACEPOINT -> Tier.TRACEPOINT;
                        case NONE -> Tier.TIER_UNSPECIFIED;
                    }));
        }
        if (pid != null) header.addFilters("--pid " + pid);
        if (!comm.isEmpty()) header.addFilters("--comm " + comm);
        if (cgroup != null) header.addFilters("--cgroup " + cgroup);
        if (kafkaOptions.hostName != null) header.setHostName(kafkaOptions.hostName);
        header.addAllFilters(containerOptions.asFilters());
        return header.build();
    }

    /**
     * One short line (at most ~200 characters on a tracepoint-only kernel): the kernel, the tier, which causes
     * are only inferred here (the rest are confirmed) and the agent socket. Per-hook details are in doctor.
     */
    static String attachedLine(String kernel, List<ProbeSession.Hook> hooks, Map<String, String> coverage, String agentNote) {
        String tiers = hooks.stream().filter(ProbeSession.Hook::attached).map(h -> h.tier().label()).distinct()
                .collect(Collectors.joining("+"));
        List<String> confirmed = new ArrayList<>(), inferred = new ArrayList<>(), invisible = new ArrayList<>();
        coverage.forEach((cause, verdict) -> {
            if (!cause.equals(cause.toUpperCase(java.util.Locale.ROOT))) {
                return; // "kernel-thread failures" is a visibility note, not a cause
            }
            (verdict.startsWith("confirmed") ? confirmed : verdict.startsWith("inferred") ? inferred : invisible).add(cause);
        });
        StringBuilder line = new StringBuilder("forktrace: attached to Linux ").append(kernel)
                .append(", tier ").append(tiers.isEmpty() ? "none" : tiers).append("; ").append(confirmed.size())
                .append(" confirmed");
        if (!inferred.isEmpty()) {
            line.append(", inferred ").append(String.join(" ", inferred));
        }
        if (!invisible.isEmpty()) {
            line.append(", blind to ").append(String.join(" ", invisible));
        }
        return line.append("; ").append(agentNote).toString();
    }

    static String readKernelRelease() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
        } catch (IOException e) {
            return "(unknown release)";
        }
    }

    /**
     * SIGINT, SIGTERM and SIGHUP end the capture cleanly with its summary and status 0, instead of the
     * JVM's 130/143/129; before the probes attach they end forktrace at once with 128+signal (nothing
     * was captured). SIGINT is reset first: a command started with & by a script inherits it ignored, and
     * the JVM installs no handler for an ignored signal. SIGHUP ignored on entry (nohup) stays ignored.
     */
    @SuppressWarnings("removal")
    private void installStopSignals() {
        sun.misc.SignalHandler stop = signal -> {
            if (stopSignal == 0) {
                stopSignal = signal.getNumber();
            }
            running = false;
        };
        Libc.restoreDefaultSignal(2);  // SIGINT
        Libc.restoreDefaultSignal(15); // SIGTERM
        sun.misc.Signal.handle(new sun.misc.Signal("INT"), stop);
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), stop);
        if (!ignoredOnEntry(1)) {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), stop);
        }
    }

    /** Whether signal was ignored when this process started (SigIgn of /proc/self/status; the JVM ignores none of these). */
    static boolean ignoredOnEntry(int signal) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("SigIgn:")) {
                    return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & (1L << (signal - 1))) != 0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // cannot tell: handle it
        }
        return false;
    }

    private int stoppedBeforeAttach(PrintStream err) {
        String name = switch (stopSignal) {
            case 1 -> "SIGHUP";
            case 2 -> "SIGINT";
            default -> "SIGTERM";
        };
        err.println("forktrace: stopped by " + name + " before the probes attached; nothing was captured");
        return 128 + stopSignal;
    }

    static String describe(Exception e) {
        return IoErrors.reason(e);
    }
}
