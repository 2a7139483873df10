package dev.forktrace.cli;

import dev.forktrace.agentlink.AgentLink;
import dev.forktrace.bpf.BpfException;
import dev.forktrace.bpf.EventLayout;
import dev.forktrace.bpf.Libc;
import dev.forktrace.bpf.ProbeSession;
import dev.forktrace.output.FailureSink;
import dev.forktrace.output.JsonLinesSink;
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
    int pid;

    @Option(names = "--comm", paramLabel = "NAME", description = "Only failures of processes with this name.")
    String comm = "";

    @Option(names = "--cgroup", paramLabel = "PATH",
            description = "Only failures in this cgroup: a directory under /sys/fs/cgroup or a path like /a/b.")
    String cgroup;

    @Option(names = "--duration", paramLabel = "SECONDS", description = "Stop after this many seconds.")
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
            description = "Pids cgroups more than 20 points (and 64 tasks) below --warn-at are read this often; "
                    + "the rest every second (default 5; 1 = every cgroup every second).")
    double warnFarInterval = 5;

    @Mixin
    HookOptions hookOptions = new HookOptions();

    @Mixin
    AgentOptions agentOptions = new AgentOptions();

    private volatile boolean running = true;

    @Override
    public Integer call() {
        StartupTrace.mark("command line parsed");
        PrintStream err = System.err;
        if (durationSeconds < 0 || pid < 0) {
            err.println("forktrace: --duration and --pid must not be negative");
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
            if (jfr != null) {
                sinks.add(new JfrSink(jfr));
            }
        } catch (IOException | RuntimeException e) {
            err.println("forktrace: cannot write the output file " + (jfr != null && !sinks.isEmpty() ? jfr : output)
                    + ": " + describe(e));
            return 1;
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
        boolean toConsole = output == null || protobufStream && !output.toString().equals("-");
        boolean terminal = toConsole && System.console() != null && System.console().isTerminal();
        TextSink text = null;
        if (stream != null && format == Format.json) {
            sinks.add(new JsonLinesSink(stream, toConsole));
        } else if (stream != null) {
            text = new TextSink(new PrintWriter(new OutputStreamWriter(stream, StandardCharsets.UTF_8)), terminal);
            sinks.add(text);
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
                () -> new Capture(cgroups, sinks, () -> textSink == null ? 0 : textSink.collapsed()));
        Thread.ofPlatform().daemon().name("forktrace-warm-up").start(preparedCapture);
        ProbeSession session;
        try {
            StartupTrace.mark("options and outputs");
            session = ProbeSession.open(new ProbeSession.Filter(pid, false, cgroupId, hierarchy, comm), hookOptions.choice());
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
        try (agents; session) {
            installStopSignals();
            Capture capture = prepared(preparedCapture);
            capture.bind(session);
            headroom = warnAt > 0 ? startHeadroom(cgroups) : null;
            if (headroom != null) {
                capture.watchHeadroom(headroom);
            }
            if (agents.joiner() != null) {
                capture.joinJavaReports(agents.joiner());
            }
            StreamHeader header = header(session.hooks());
            for (FailureSink sink : sinks) {
                sink.start(header);
            }
            StartupTrace.mark("pipeline warm");
            // Printed once the pipeline is warm too: from here on a failure is attributed within
            // milliseconds, while the processes that hold the limit are still there to be named.
            err.println(attachedLine(session.hooks()) + "; " + agents.note());
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
            return 0;
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
    private dev.forktrace.limits.HeadroomMonitor startHeadroom(CgroupPaths cgroups) {
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
        // New cgroups and changed limits are seen within 30 s (the walk of thousands of cgroups is the costly part).
        var scanner = new dev.forktrace.limits.LimitScanner(Path.of("/proc"), cgroups, 30_000_000_000L)
                .sampleFarCgroupsEvery(Math.max(0, warnAt / 100 - 0.2), (long) (Math.max(1, warnFarInterval) * 1e9))
                .enterNamespaces(false);
        return new dev.forktrace.limits.HeadroomMonitor(scanner, warnAt / 100, warnHysteresis / 100,
                new dev.forktrace.limits.HeadroomMonitor.Selection(selected, pid, comm)).start();
    }

    /**
     * A buffered byte stream to the file, or to the console stream when there is no file; closing it
     * leaves the console open, since the summary is printed after the sinks close.
     */
    static OutputStream openOutput(Path file, OutputStream console) throws IOException {
        OutputStream target = file != null ? Files.newOutputStream(file) : new FilterOutputStream(console) {
            @Override
            public void write(byte[] bytes, int offset, int length) throws IOException {
                out.write(bytes, offset, length);
            }

            @Override
            public void close() throws IOException {
                flush();
            }
        };
        return new BufferedOutputStream(target, 1 << 16);
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
                        case "fentry" -> Tier.FENTRY;
                        case "kprobe" -> Tier.KPROBE;
                        case "tracepoint" -> Tier.TRACEPOINT;
                        default -> Tier.TIER_UNSPECIFIED;
                    }));
        }
        if (pid != 0) header.addFilters("--pid " + pid);
        if (!comm.isEmpty()) header.addFilters("--comm " + comm);
        if (cgroup != null) header.addFilters("--cgroup " + cgroup);
        return header.build();
    }

    static String attachedLine(List<ProbeSession.Hook> hooks) {
        String kernel = readKernelRelease();
        String attached = hooks.stream().filter(ProbeSession.Hook::attached)
                .map(h -> h.name() + "=" + h.tier()).collect(Collectors.joining(", "));
        String tiers = hooks.stream().filter(ProbeSession.Hook::attached).map(ProbeSession.Hook::tier).distinct()
                .collect(Collectors.joining("+"));
        String missing = hooks.stream().filter(h -> !h.attached())
                .map(h -> h.name() + (h.note().isEmpty() ? "" : " (" + h.note() + ")")).collect(Collectors.joining("; "));
        return "forktrace: attached to Linux " + kernel + ", tier " + (tiers.isEmpty() ? "none" : tiers) + ", hooks: "
                + attached + (missing.isEmpty() ? "" : "; not available: " + missing);
    }

    static String readKernelRelease() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
        } catch (IOException e) {
            return "(unknown release)";
        }
    }

    /** SIGINT and SIGTERM end the capture cleanly with status 0, instead of the JVM's 130/143. */
    @SuppressWarnings("removal")
    private void installStopSignals() {
        sun.misc.SignalHandler stop = signal -> running = false;
        Libc.restoreDefaultSignal(2);  // SIGINT
        Libc.restoreDefaultSignal(15); // SIGTERM
        sun.misc.Signal.handle(new sun.misc.Signal("INT"), stop);
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), stop);
    }

    static String describe(Exception e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
        return cause.getMessage() == null ? cause.toString() : cause.getMessage();
    }
}
