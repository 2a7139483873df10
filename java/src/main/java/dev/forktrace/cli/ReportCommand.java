package dev.forktrace.cli;

import dev.forktrace.stream.Report;
import dev.forktrace.stream.StreamReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * `forktrace report FILE...`: what recorded streams say. Exit 0; 1 when an input is damaged or unreadable (after
 * reporting everything readable in all inputs); 2 for usage errors.
 */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Summarize recorded event streams (forktrace watch --output FILE.pb): totals by cause, scope,",
                "offender and process, first and last failure, rate over time, dropped counts.",
                "Damaged inputs are reported with the byte offset of the damage; everything before it counts."})
public final class ReportCommand implements Callable<Integer> {
    enum Format { text, json }

    @Parameters(arity = "1..*", paramLabel = "FILE",
            description = "Stream files, - for standard input, or kafka://HOST:PORT/TOPIC[?from=TIME&to=TIME].")
    List<String> files;

    @Option(names = "--format", description = "text (default) or json.")
    Format format = Format.text;

    @Option(names = "--html", paramLabel = "FILE",
            description = "Write the report as one self-contained HTML page (no network fetches) instead of text.")
    Path html;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (files.stream().filter("-"::equals).count() > 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "standard input (-) can be read only once");
        }
        if (html != null) {
            String refusal = HtmlOutput.refusal(html, files);
            if (refusal != null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--html " + html + ": " + refusal);
            }
        }
        Report report = new Report();
        if (html != null) {
            report.keepFailures(HtmlOutput.LISTED_FAILURES);
        }
        boolean failed = false;
        for (String file : files) {
            try (StreamReader reader = StreamReader.open(file)) {
                if (!report.read(reader)) {
                    failed = true;
                }
            } catch (IOException e) {
                String reason = describe(e);
                err.println("forktrace report: " + (reason.startsWith(file) ? reason : file + ": " + reason));
                failed = true;
            }
        }
        if (html != null) {
            try {
                HtmlOutput.write(html, report.toHtml());
                err.println("forktrace report: " + report.failures() + " failures to " + html);
            } catch (IOException e) {
                err.println("forktrace report: cannot write " + html + ": " + describe(e));
                failed = true;
            }
        } else {
            out.print(format == Format.json ? report.toJson() : report.toText());
            out.flush();
        }
        for (Report.Input in : report.inputs()) {
            in.warnings().forEach(w -> err.println("forktrace report: warning: " + w));
            if (in.damage() != null) {
                err.println("forktrace report: " + in.damage().getMessage());
            }
        }
        err.flush();
        return failed ? 1 : 0;
    }

    static String describe(IOException e) {
        return dev.forktrace.output.IoErrors.reason(e);
    }
}
