package dev.forktrace.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: `forktrace <command>`. Usage errors exit 2, runtime errors 1. */
@Command(name = "forktrace", mixinStandardHelpOptions = true, version = "forktrace 0.1.0",
        description = "Tells why fork, clone or thread creation failed, and who is to blame.",
        subcommands = {WatchCommand.class, RunCommand.class, DoctorCommand.class, ReportCommand.class,
                ExportCommand.class, LimitsCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (watch, doctor, ...)");
    }

    public static CommandLine commandLine() {
        return new CommandLine(new Main()).setUsageHelpWidth(100);
    }

    public static void main(String[] args) {
        StartupTrace.mark("main");
        if (args.length > 0 && (args[0].equals("watch") || args[0].equals("run") || args[0].equals("doctor"))) {
            dev.forktrace.bpf.ProbeSession.preloadInBackground();
        }
        System.exit(commandLine().execute(args));
    }
}
