package dev.forktrace.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import dev.forktrace.cli.ExportCommand;
import dev.forktrace.cli.ReportCommand;
import dev.forktrace.proto.v1.StreamRecord;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** report and export as the CLI runs them (picocli), on synthetic recordings. */
class CommandsTest {
    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {}

    static Run run(Object command, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(command);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    @Test
    void reportOfGoodFilesExitsZero() throws IOException {
        Path a = write("a.pb", Synthetic.encode(Synthetic.records(12)));
        Path b = write("b.pb", Synthetic.encode(Synthetic.withCaptureId(Synthetic.records(12), "another capture")));
        Run r = run(new ReportCommand(), a.toString(), b.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("forktrace report: 24 failures"), r.out());
        assertEquals("", r.err());
        Run twice = run(new ReportCommand(), a.toString(), a.toString());
        assertEquals(0, twice.exit(), twice.err());
        assertTrue(twice.out().startsWith("forktrace report: 12 failures"), "the same capture counts once: " + twice.out());
        assertTrue(twice.err().contains("warning: " + a + ": 12 failures were already read"), twice.err());
        Run json = run(new ReportCommand(), "--format", "json", a.toString());
        assertEquals(0, json.exit());
        assertEquals(12, JsonParser.parseString(json.out()).getAsJsonObject().get("failures").getAsLong());
    }

    @Test
    void reportOfDamagedMissingAndForeignFilesReportsWhatItCanAndExitsOne() throws IOException {
        List<StreamRecord> records = Synthetic.records(12);
        byte[] bytes = Synthetic.encode(records);
        List<StreamRecord> cutCapture = Synthetic.withCaptureId(records, "cut"); // not the capture in good.pb
        long cutAt = Synthetic.ends(cutCapture)[4];
        Path cut = write("cut.pb", Arrays.copyOf(Synthetic.encode(cutCapture), (int) cutAt + 5));
        Path png = write("image.png", StreamReaderTest.PNG);
        Path empty = write("empty.pb", new byte[0]);
        Path good = write("good.pb", bytes);
        Run r = run(new ReportCommand(), cut.toString(), png.toString(), empty.toString(),
                dir.resolve("missing.pb").toString(), good.toString());
        assertEquals(1, r.exit());
        assertTrue(r.out().startsWith("forktrace report: 16 failures"), "4 before the damage + 12: " + r.out());
        assertTrue(r.err().contains(cut + ": damaged tail from byte " + cutAt + " (after 5 complete records, all read)"), r.err());
        assertTrue(r.err().contains(png + ": not a forktrace stream"), r.err());
        assertTrue(r.err().contains(empty + ": empty: no forktrace header (0 bytes)"), r.err());
        assertTrue(r.err().contains("missing.pb: no such file"), r.err());
        assertFalse(r.err().contains("Exception"), "no stack traces: " + r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test
    void usageErrorsExitTwo() {
        assertEquals(2, run(new ReportCommand()).exit(), "a file is required");
        assertEquals(2, run(new ReportCommand(), "--format", "xml", "a.pb").exit());
        assertEquals(2, run(new ReportCommand(), "-", "-").exit());
        assertEquals(2, run(new ExportCommand(), "in.pb", "out").exit(), "--perfetto or --jfr is required");
        assertEquals(2, run(new ExportCommand(), "--perfetto", "--jfr", "in.pb", "out").exit());
        assertEquals(2, run(new ExportCommand(), "--jfr", "in.pb", "-").exit());
    }

    @Test
    void exportPerfettoAndJfr() throws Exception {
        Path in = write("in.pb", Synthetic.encode(Synthetic.records(5)));
        Path trace = dir.resolve("out.perfetto-trace");
        Run p = run(new ExportCommand(), "--perfetto", in.toString(), trace.toString());
        assertEquals(0, p.exit(), p.err());
        assertTrue(p.err().contains("5 failures"), p.err());
        assertFalse(PerfettoExporterTest.packets(Files.readAllBytes(trace)).isEmpty());

        Path jfr = dir.resolve("out.jfr");
        Run j = run(new ExportCommand(), "--jfr", in.toString(), jfr.toString());
        assertEquals(0, j.exit(), j.err());
        assertEquals(5, RecordingFile.readAllEvents(jfr).stream()
                .filter(e -> e.getEventType().getName().equals("forktrace.ForkFailure")).count());
    }

    @Test
    void exportOfADamagedStreamWritesWhatPrecedesAndExitsOne() throws IOException {
        List<StreamRecord> records = Synthetic.records(5);
        byte[] bytes = Synthetic.encode(records);
        Path in = write("cut.pb", Arrays.copyOf(bytes, (int) Synthetic.ends(records)[3] + 1));
        Path trace = dir.resolve("cut.perfetto-trace");
        Run r = run(new ExportCommand(), "--perfetto", in.toString(), trace.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("damaged tail from byte " + Synthetic.ends(records)[3]), r.err());
        assertTrue(r.err().contains("3 failures"), r.err());
        Run missing = run(new ExportCommand(), "--perfetto", dir.resolve("nope.pb").toString(), trace.toString());
        assertEquals(1, missing.exit());
        assertTrue(missing.err().contains("no such file"), missing.err());
    }

    /** The directory's files other than the given ones (a temporary file left behind would show here). */
    List<String> othersIn(Path... expected) throws IOException {
        java.util.Set<String> known = new java.util.HashSet<>();
        for (Path p : expected) {
            known.add(p.getFileName().toString());
        }
        try (var files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> !known.contains(n)).sorted().toList();
        }
    }

    @Test
    void exportNeverDestroysItsInput() throws Exception {
        byte[] stream = Synthetic.encode(Synthetic.records(5));
        Path in = write("s.pb", stream);
        Path link = dir.resolve("link.pb");
        Files.createSymbolicLink(link, in);
        for (String format : List.of("--json", "--perfetto", "--jfr")) {
            for (Path out : List.of(in, link, dir.resolve("./s.pb"))) {
                Run r = run(new ExportCommand(), format, in.toString(), out.toString());
                assertEquals(2, r.exit(), format + " " + out + ": " + r.err());
                assertTrue(r.err().contains("are the same file: export would overwrite its input"), r.err());
                assertArrayEquals(stream, Files.readAllBytes(in), format + " onto " + out + " left the input intact");
            }
        }
        assertEquals(List.of(), othersIn(in, link));
    }

    @Test
    void exportChecksItsInputBeforeTouchingTheOutput() throws Exception {
        Path in = write("in.pb", Synthetic.encode(Synthetic.records(5)));
        Path jfr = dir.resolve("capture.jfr");
        assertEquals(0, run(new ExportCommand(), "--jfr", in.toString(), jfr.toString()).exit());
        byte[] precious = "precious output\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Path out = write("out.json", precious);
        Path directory = Files.createDirectory(dir.resolve("a-directory"));
        Path png = write("image.png", StreamReaderTest.PNG);
        Path empty = write("empty.pb", new byte[0]);
        record Bad(Path input, String says) {}
        for (Bad bad : List.of(new Bad(jfr, jfr + ": not a forktrace stream"),
                new Bad(directory, "cannot read " + directory + ": it is a directory"),
                new Bad(png, png + ": not a forktrace stream"),
                new Bad(empty, empty + ": empty"),
                new Bad(dir.resolve("missing.pb"), "cannot read " + dir.resolve("missing.pb") + ": no such file or directory"))) {
            for (String format : List.of("--json", "--perfetto", "--jfr")) {
                Run r = run(new ExportCommand(), format, bad.input().toString(), out.toString());
                assertEquals(1, r.exit(), r.err());
                assertTrue(r.err().contains(bad.says()), format + ": " + r.err());
                assertTrue(r.err().contains(out + " was not touched"), r.err());
                assertArrayEquals(precious, Files.readAllBytes(out), format + " " + bad.input());
            }
        }
        // --jfr over a JFR file: refused as the same file, the recording intact.
        byte[] recording = Files.readAllBytes(jfr);
        assertEquals(2, run(new ExportCommand(), "--jfr", jfr.toString(), jfr.toString()).exit());
        assertArrayEquals(recording, Files.readAllBytes(jfr));
        assertEquals(List.of(), othersIn(in, jfr, out, directory, png, empty), "no temporary file is left");
    }

    @Test
    void exportReplacesTheOutputOnlyWhenItIsComplete() throws Exception {
        Path in = write("in.pb", Synthetic.encode(Synthetic.records(5)));
        Path out = write("out.json", "old\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Files.setPosixFilePermissions(out, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----"));
        Run r = run(new ExportCommand(), "--json", in.toString(), out.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals(5, Files.readAllLines(out).size());
        assertEquals("rw-r-----", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(out)),
                "the replaced file keeps its permissions");
        assertEquals(List.of(), othersIn(in, out));
        // An output in a directory that does not exist names the path and the reason.
        Path nowhere = dir.resolve("no/such/dir/out.json");
        Run missing = run(new ExportCommand(), "--json", in.toString(), nowhere.toString());
        assertEquals(1, missing.exit());
        assertTrue(missing.err().contains("cannot write " + nowhere + ": no such file or directory"), missing.err());
    }
}
