package dev.forktrace.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: `forktrace <command>`. Usage errors exit 2, runtime errors 1. */
@Command(name = "forktrace", mixinStandardHelpOptions = true, version = "forktrace 0.1.0",
        description = "Tells why fork, clone or thread creation failed, and who is to blame.")
public final class Main implements Runnable {
    /**
     * Every command, in the order the usage lists them. Built on demand: picocli builds a command's model by
     * reflecting over its annotated fields and mixins, so `watch` should not pay for the five others on the
     * way to its attached line.
     */
    private static final Map<String, Supplier<Object>> COMMANDS = new LinkedHashMap<>();
    static {
        COMMANDS.put("watch", WatchCommand::new);
        COMMANDS.put("run", RunCommand::new);
        COMMANDS.put("doctor", DoctorCommand::new);
        COMMANDS.put("report", ReportCommand::new);
        COMMANDS.put("export", ExportCommand::new);
        COMMANDS.put("limits", LimitsCommand::new);
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (watch, doctor, ...)");
    }

    /** The whole command line, every command included (usage, help, tests). */
    public static CommandLine commandLine() {
        CommandLine line = new CommandLine(new Main());
        COMMANDS.values().forEach(command -> line.addSubcommand(command.get()));
        return line.setUsageHelpWidth(100); // after adding: it is set on the subcommands present
    }

    /**
     * The command line for these arguments: when the first one names a command, only that command (its
     * parsing, usage and errors are the same); anything else (no command, --help, a typo) gets them all, so
     * that the usage and "did you mean" list every command.
     */
    static CommandLine commandLineFor(String[] args) {
        Supplier<Object> named = args.length > 0 ? COMMANDS.get(args[0]) : null;
        if (named == null) {
            return commandLine();
        }
        return new CommandLine(new Main()).addSubcommand(named.get()).setUsageHelpWidth(100);
    }

    public static void main(String[] args) {
        StartupTrace.mark("main");
        if (args.length > 0 && (args[0].equals("watch") || args[0].equals("run") || args[0].equals("doctor"))) {
            dev.forktrace.bpf.ProbeSession.preloadInBackground();
        }
        CommandLine line = commandLineFor(args);
        StartupTrace.mark("command line model built");
        System.exit(line.execute(args));
    }
}
