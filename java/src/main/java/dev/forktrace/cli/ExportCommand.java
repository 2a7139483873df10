package dev.forktrace.cli;

import dev.forktrace.output.IoErrors;
import dev.forktrace.output.JsonLinesSink;
import dev.forktrace.output.LineOutput;
import dev.forktrace.proto.v1.StreamRecord;
import dev.forktrace.stream.JfrSink;
import dev.forktrace.stream.PerfettoExporter;
import dev.forktrace.stream.StreamFormatException;
import dev.forktrace.stream.StreamReader;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * `forktrace export --perfetto|--jfr|--json IN.pb OUT`: a recorded stream in another tool's format. Exit 0; 1 when the
 * input is damaged (what was readable is exported) or a file cannot be read or written; 2 for usage errors.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Convert a recorded event stream for another tool:",
                "  --perfetto IN.pb OUT.perfetto-trace   for ui.perfetto.dev (concatenate with a scheduler trace",
                "                                        of the same boot to see both on one timeline)",
                "  --jfr IN.pb OUT.jfr                   forktrace.ForkFailure events for jfr print and JMC",
                "                                        (event start time = export time; see field failureTime)",
                "  --json IN.pb OUT.jsonl                every failure as one JSON object per line, exactly as",
                "                                        `watch --format json` printed it live (- for stdout)"})
public final class ExportCommand implements Callable<Integer> {
    static final class Target {
        @Option(names = "--perfetto", required = true, description = "Write a Perfetto trace.")
        boolean perfetto;

        @Option(names = "--jfr", required = true, description = "Write a JDK Flight Recorder file.")
        boolean jfr;

        @Option(names = "--json", required = true, description = "Write JSON lines (watch --format json).")
        boolean json;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    @Parameters(index = "0", paramLabel = "IN",
            description = "The stream file, - for standard input, or kafka://HOST:PORT/TOPIC[?from=TIME&to=TIME].")
    String input;

    @Parameters(index = "1", paramLabel = "OUT", description = "The file to write (- for standard output, Perfetto only).")
    String output;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        if (target.jfr && "-".equals(output)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--jfr needs an output file, not -");
        }
        boolean topic = input.startsWith("kafka://"); // read from a broker: no file to compare or check
        if (!topic && !"-".equals(input) && !"-".equals(output) && OutputChecks.sameFile(Path.of(input), Path.of(output))) {
            throw new CommandLine.ParameterException(spec.commandLine(), input + " and " + output
                    + " are the same file: export would overwrite its input");
        }
        // The input is checked whole (a readable stream, not a directory, a header first) before any output
        // exists; the output is written to a temporary file beside it and renamed into place only at the end.
        String inputProblem = topic ? null : unreadable(input);
        if (inputProblem != null) {
            err.println("forktrace export: cannot read " + input + ": " + inputProblem + " (" + output + " was not touched)");
            err.flush();
            return 1;
        }
        Path temporary = null;
        try (StreamReader reader = StreamReader.open(input)) {
            try {
                reader.requireHeader();
            } catch (StreamFormatException e) {
                err.println("forktrace export: " + e.getMessage() + " (" + output + " was not touched)");
                return 1;
            }
            Path destination = "-".equals(output) ? null : destination(Path.of(output));
            if (destination != null) {
                temporary = temporaryBeside(destination);
            }
            Path writeTo = temporary;
            StreamFormatException damage = target.perfetto ? perfetto(reader, err, writeTo)
                    : target.jfr ? jfr(reader, err, writeTo) : json(reader, err, writeTo);
            if (temporary != null) {
                install(temporary, destination);
                temporary = null;
            }
            reader.warnings().forEach(w -> err.println("forktrace export: warning: " + w));
            if (damage != null) {
                err.println("forktrace export: " + damage.getMessage()
                        + "; " + output + " holds the failures before the damage");
                return 1;
            }
            return reader.skippedOffsets().isEmpty() ? 0 : 1;
        } catch (IOException | RuntimeException e) {
            String message = e.getMessage() != null && (e.getMessage().startsWith("cannot ")
                    || e.getMessage().startsWith("writing ")) ? e.getMessage() : "cannot read " + input + ": " + describe(e);
            err.println("forktrace export: " + message + (temporary != null ? " (" + output + " was not touched)" : ""));
            return 1;
        } finally {
            if (temporary != null) {
                try {
                    Files.deleteIfExists(temporary); // only what this run created
                } catch (IOException ignored) {
                    // a leftover .tmp file, named after the output, is all that remains
                }
            }
            err.flush();
        }
    }

    /** Why the input cannot be read as a stream, or null. */
    static String unreadable(String input) {
        if ("-".equals(input)) {
            return null;
        }
        Path in = Path.of(input);
        if (!Files.exists(in)) {
            return "no such file or directory";
        }
        if (Files.isDirectory(in)) {
            return "it is a directory, not a stream file";
        }
        try (var open = Files.newByteChannel(in)) {
            return null;
        } catch (IOException e) {
            return describe(e);
        }
    }

    /** The file to replace: a link's target, so the link stays a link. */
    private static Path destination(Path output) throws IOException {
        Path resolved = OutputChecks.resolved(output, 0);
        if (Files.isDirectory(resolved)) {
            throw new IOException("cannot write " + output + ": it is a directory");
        }
        return resolved;
    }

    private static Path temporaryBeside(Path destination) throws IOException {
        Path dir = destination.toAbsolutePath().getParent();
        try {
            return Files.createTempFile(dir, "." + destination.getFileName() + ".", ".tmp");
        } catch (IOException e) {
            throw new IOException("cannot write " + destination + ": " + describe(e), e);
        }
    }

    /** Renames the finished temporary file over the destination, keeping an existing file's permissions. */
    private static void install(Path temporary, Path destination) throws IOException {
        try {
            Set<PosixFilePermission> permissions = Files.exists(destination)
                    ? Files.getPosixFilePermissions(destination) : PosixFilePermissions.fromString("rw-r--r--");
            Files.setPosixFilePermissions(temporary, permissions);
            Files.move(temporary, destination, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new IOException("cannot write " + destination + ": " + describe(e), e);
        }
    }

    static String describe(Throwable e) {
        return IoErrors.reason(e);
    }

    private StreamFormatException perfetto(StreamReader reader, PrintWriter err, Path file) throws IOException {
        PerfettoExporter.Result result;
        try (OutputStream out = open(file)) {
            result = PerfettoExporter.export(reader, out);
        }
        result.warnings().forEach(w -> err.println("forktrace export: warning: " + w));
        err.println("forktrace export: " + result.failures() + " failures, " + result.tracks() + " tracks, "
                + result.packets() + " packets to " + output + " (timestamps: " + result.clock() + ")");
        return result.damage();
    }

    private StreamFormatException jfr(StreamReader reader, PrintWriter err, Path file) throws IOException {
        JfrSink sink = new JfrSink(file);
        StreamFormatException damage = null;
        try (sink) {
            StreamRecord r;
            while ((r = reader.next()) != null) {
                if (r.hasFailure()) {
                    sink.accept(r.getFailure());
                }
            }
        } catch (StreamFormatException e) {
            damage = e;
        }
        err.println("forktrace export: " + sink.events() + " forktrace.ForkFailure events to " + output);
        return damage;
    }

    private StreamFormatException json(StreamReader reader, PrintWriter err, Path file) throws IOException {
        StreamFormatException damage = null;
        long failures = 0;
        long warnings = 0;
        // The same sink as watch --format json, so a recording reads back as the live output did.
        try (JsonLinesSink sink = new JsonLinesSink(open(file), false)) {
            StreamRecord r;
            try {
                while ((r = reader.next()) != null) {
                    if (r.hasFailure()) {
                        sink.accept(r.getFailure());
                        failures++;
                    } else if (r.hasHeadroom()) {
                        sink.headroom(r.getHeadroom());
                        warnings++;
                    }
                }
            } catch (StreamFormatException e) {
                damage = e;
            }
        }
        err.println("forktrace export: " + failures + " failures" + (warnings == 0 ? "" : " and " + warnings
                + " headroom warnings") + " as JSON lines to " + output);
        return damage;
    }

    /** The temporary file, or standard output (null); neither swallows a write error. */
    private OutputStream open(Path file) throws IOException {
        if (file == null) {
            return LineOutput.toStandardOutput();
        }
        String name = output;
        return new BufferedOutputStream(new java.io.FilterOutputStream(Files.newOutputStream(file)) {
            @Override
            public void write(byte[] bytes, int offset, int length) throws IOException {
                try {
                    out.write(bytes, offset, length);
                } catch (IOException e) {
                    throw new IOException("cannot write " + name + ": " + describe(e), e);
                }
            }

            @Override
            public void flush() throws IOException {
                try {
                    out.flush();
                } catch (IOException e) {
                    throw new IOException("cannot write " + name + ": " + describe(e), e);
                }
            }
        }, 1 << 16);
    }
}
