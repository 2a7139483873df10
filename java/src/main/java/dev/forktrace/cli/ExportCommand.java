package dev.forktrace.cli;

import dev.forktrace.output.JsonLinesSink;
import dev.forktrace.proto.v1.StreamRecord;
import dev.forktrace.stream.JfrSink;
import dev.forktrace.stream.PerfettoExporter;
import dev.forktrace.stream.StreamFormatException;
import dev.forktrace.stream.StreamReader;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
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

    @Parameters(index = "0", paramLabel = "IN", description = "The stream file, or - for standard input.")
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
        try (StreamReader reader = StreamReader.open(input)) {
            StreamFormatException damage = target.perfetto ? perfetto(reader, err)
                    : target.jfr ? jfr(reader, err) : json(reader, err);
            reader.warnings().forEach(w -> err.println("forktrace export: warning: " + w));
            if (damage != null) {
                err.println("forktrace export: " + damage.getMessage()
                        + "; " + output + " holds the failures before the damage");
                return 1;
            }
            return 0;
        } catch (IOException e) {
            err.println("forktrace export: " + ReportCommand.describe(e));
            return 1;
        } finally {
            err.flush();
        }
    }

    private StreamFormatException perfetto(StreamReader reader, PrintWriter err) throws IOException {
        PerfettoExporter.Result result;
        try (OutputStream out = open(output)) {
            result = PerfettoExporter.export(reader, out);
        }
        result.warnings().forEach(w -> err.println("forktrace export: warning: " + w));
        err.println("forktrace export: " + result.failures() + " failures, " + result.tracks() + " tracks, "
                + result.packets() + " packets to " + output + " (timestamps: " + result.clock() + ")");
        return result.damage();
    }

    private StreamFormatException jfr(StreamReader reader, PrintWriter err) throws IOException {
        JfrSink sink = new JfrSink(Path.of(output));
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

    private StreamFormatException json(StreamReader reader, PrintWriter err) throws IOException {
        StreamFormatException damage = null;
        long failures = 0;
        long warnings = 0;
        // The same sink as watch --format json, so a recording reads back as the live output did.
        try (JsonLinesSink sink = new JsonLinesSink(open(output), false)) {
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

    private static OutputStream open(String output) throws IOException {
        if ("-".equals(output)) {
            return new BufferedOutputStream(new FileOutputStream(FileDescriptor.out) {
                @Override
                public void close() {
                    // descriptor 1 stays open for the rest of the process
                }
            });
        }
        try {
            return new BufferedOutputStream(Files.newOutputStream(Path.of(output)), 1 << 16);
        } catch (IOException e) {
            throw new IOException("cannot write " + output + ": " + ReportCommand.describe(e), e);
        }
    }
}
