package dev.forktrace.cli;

import dev.forktrace.agentlink.AgentLink;
import dev.forktrace.api.Failure;
import dev.forktrace.api.ForktraceProbe;
import dev.forktrace.api.Target;
import dev.forktrace.bpf.BpfException;
import dev.forktrace.output.FailureSink;
import dev.forktrace.output.JsonLinesSink;
import dev.forktrace.output.TextSink;
import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.ForkFailure;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * `forktrace run -- COMMAND`: trace one command's process tree, print the diagnosis at its end, exit with
 * its status, or with {@link #EXIT_EXPECTATION} / {@link #EXIT_FAILURES} when --expect or
 * --fail-on-failure says the run is wrong.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run a command, trace task creation in its process tree, and diagnose every failure.")
public final class RunCommand implements Callable<Integer> {
    static final int EXIT_EXPECTATION = 3;
    static final int EXIT_FAILURES = 4;

    @Option(names = "--expect", paramLabel = "CAUSE",
            description = "Cause(s) the run must show, e.g. PIDS_CGROUP_LIMIT; exit 3 when the observed set differs.")
    List<Cause> expected = new ArrayList<>();

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--fail-on-failure", description = "Exit 4 when any task creation in the tree failed.")
    boolean failOnFailure;

    @Option(names = "--format", description = "text (default) or json.")
    WatchCommand.Format format = WatchCommand.Format.text;

    @Option(names = "--output", paramLabel = "FILE", description = "Write events here instead of standard error.")
    Path output;

    @Mixin
    HookOptions hookOptions = new HookOptions();

    @Mixin
    AgentOptions agentOptions = new AgentOptions();

    @Mixin
    ContainerOptions containerOptions = new ContainerOptions();

    @Option(names = "--java-agent", arity = "0..1", paramLabel = "JAR", fallbackValue = "",
            description = "Load the forktrace Java agent into every JVM the command starts (through "
                    + "JAVA_TOOL_OPTIONS), so a failed Thread.start comes with its Java stack. Default JAR: "
                    + "agent/target/forktrace-agent.jar of this forktrace.")
    String javaAgent; // null: not requested; "": the default jar

    @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "The command and its arguments (after --).")
    List<String> command;

    @Override
    public Integer call() throws Exception {
        PrintStream err = System.err;
        for (Cause cause : expected) {
            if (cause == Cause.CAUSE_UNSPECIFIED || cause == Cause.UNRECOGNIZED) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--expect " + cause
                        + " is not a cause a failure can have; name one such as PIDS_CGROUP_LIMIT");
            }
        }
        OutputStream stream;
        try {
            stream = WatchCommand.openOutput(output, err);
        } catch (IOException e) {
            err.println("forktrace: cannot write the output file " + output + ": " + WatchCommand.describe(e));
            return 1;
        }
        FailureSink sink = format == WatchCommand.Format.json ? new JsonLinesSink(stream, output == null)
                : new TextSink(new OutputStreamWriter(stream, StandardCharsets.UTF_8), false);
        long self = ProcessHandle.current().pid();
        // The tree is rooted at this JVM so that the command is tracked from its very first instruction:
        // the kernel adds it when the JVM forks it. The JVM's own failures are left out below.
        FailureSink commandOnly = new FailureSink() {
            @Override
            public void accept(ForkFailure failure) throws IOException {
                if (failure.getPid() != self) {
                    sink.accept(failure);
                }
            }

            @Override
            public void stats(dev.forktrace.proto.v1.Stats stats) throws IOException {
                sink.stats(stats);
            }

            @Override
            public void close() throws IOException {
                sink.close();
            }
        };
        AgentLink agents;
        try {
            agents = agentOptions.open(err);
        } catch (IOException e) {
            err.println("forktrace: --agent-socket: " + e.getMessage());
            return 2;
        }
        String agentOption = null;
        if (javaAgent != null) {
            try {
                agentOption = javaAgentOption(agents);
            } catch (IllegalArgumentException e) {
                agents.close();
                err.println("forktrace: " + e.getMessage());
                return 2;
            }
        }
        Target target = Target.processTree(self);
        String traced = "the process tree of " + command.get(0);
        if (containerOptions.given()) { // the command (docker exec, a client) reaches into a container: trace that
            try (dev.forktrace.containers.ContainerRuntimes runtimes = dev.forktrace.containers.ContainerRuntimes.forThisMachine()) {
                runtimes.refresh();
                target = Target.cgroup(containerOptions.cgroupPath(dev.forktrace.system.CgroupPaths.forThisMachine(), runtimes));
                traced = String.join(" ", containerOptions.asFilters()) + " (cgroup " + ((Target.Cgroup) target).path() + ")";
            } catch (IllegalArgumentException e) {
                agents.close();
                err.println("forktrace: " + containerOptions.flag() + ": " + e.getMessage());
                return 2;
            }
        }
        ForktraceProbe probe;
        try {
            probe = ForktraceProbe.attach(target, hookOptions.choice(), List.of(commandOnly), agents.joiner());
        } catch (BpfException e) {
            agents.close();
            err.println("forktrace: " + e.getMessage());
            return e.exitCode();
        }
        err.println("forktrace: tracing " + traced + "; " + agents.note());
        int status;
        long untracked;
        try {
            Process process;
            try {
                ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
                if (agentOption != null) {
                    String existing = builder.environment().get("JAVA_TOOL_OPTIONS");
                    builder.environment().put("JAVA_TOOL_OPTIONS",
                            existing == null || existing.isBlank() ? agentOption : existing + " " + agentOption);
                }
                process = builder.start();
            } catch (IOException e) {
                err.println("forktrace: cannot start " + String.join(" ", command) + ": " + e.getMessage());
                return 127;
            }
            status = process.waitFor();
            probe.flush(Duration.ofSeconds(2));
            untracked = probe.untrackedDescendants();
        } finally {
            probe.close(); // writes the failures still held for a report, so the listener closes after it
            agents.close();
        }
        if (agents.summary() != null) {
            err.println(agents.summary());
        }
        List<Failure> failures = probe.failures().stream().filter(f -> f.pid() != self).toList();
        if (probe.notKept() > 0) {
            err.printf("forktrace: %d further failure(s) not kept for this verdict (it counts the first %d)%n",
                    probe.notKept(), failures.size());
        }
        if (untracked > 0) {
            err.printf("forktrace: %d descendant process(es) could not be tracked (the process-tree map was full): "
                    + "their failures are missing%n", untracked);
        }
        return verdict(err, status, failures);
    }

    /**
     * The -javaagent option for the command's JVMs; IllegalArgumentException says what is missing: the
     * agent needs a jar and a socket that forktrace listens on.
     */
    private String javaAgentOption(AgentLink agents) {
        if (agents.joiner() == null) {
            throw new IllegalArgumentException("--java-agent needs the agent socket, but " + agents.note()
                    + "; give --agent-socket PATH");
        }
        Path jar;
        try {
            // The Debian package installs the agent beside the jar and names it (packaging/forktrace.sh).
            String installed = System.getProperty("forktrace.agentJar");
            jar = javaAgent.isEmpty() && installed != null ? Path.of(installed) : javaAgent.isEmpty()
                    ? Path.of(RunCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                            .getParent().getParent().resolve("agent/target/forktrace-agent.jar")
                    : Path.of(javaAgent);
        } catch (java.net.URISyntaxException | RuntimeException e) {
            throw new IllegalArgumentException("--java-agent: cannot find this forktrace's agent jar ("
                    + e.getMessage() + "); give --java-agent=PATH", e);
        }
        if (!Files.isReadable(jar)) {
            throw new IllegalArgumentException("--java-agent: no agent jar at " + jar
                    + " (./forktrace builds it; or give --java-agent=PATH)");
        }
        return "-javaagent:" + jar.toAbsolutePath() + "=socket=" + Path.of(agentOptions.socket).toAbsolutePath();
    }

    private int verdict(PrintStream err, int status, List<Failure> failures) {
        Set<Cause> observed = EnumSet.noneOf(Cause.class);
        failures.forEach(f -> observed.add(f.cause()));
        err.printf("forktrace: %s exited with status %d; %d failed task creation(s) in its process tree%s%n",
                command.get(0), status, failures.size(), observed.isEmpty() ? "" : ", causes " + new TreeSet<>(observed));
        if (!failures.isEmpty()) {
            err.println("forktrace: first: " + failures.get(0));
        }
        if (!expected.isEmpty()) {
            Set<Cause> want = EnumSet.copyOf(expected);
            if (!want.equals(observed)) {
                Set<Cause> missing = EnumSet.copyOf(want);
                missing.removeAll(observed);
                Set<Cause> unexpected = EnumSet.copyOf(observed);
                unexpected.removeAll(want);
                err.printf("forktrace: expectation not met: expected %s, observed %s (missing %s, unexpected %s)%n",
                        new TreeSet<>(want), new TreeSet<>(observed), new TreeSet<>(missing), new TreeSet<>(unexpected));
                return EXIT_EXPECTATION;
            }
            err.println("forktrace: expectation met: " + new TreeSet<>(want));
        }
        if (failOnFailure && !failures.isEmpty()) {
            err.println("forktrace: --fail-on-failure: task creation failed " + failures.size() + " time(s)");
            return EXIT_FAILURES;
        }
        return status;
    }
}
