package dev.forktrace.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class OutputChecksTest {
    @TempDir
    Path dir;

    static String usage(double duration, Integer pid, Path output, long rotateSize, int rotateKeep, Path jfr) {
        return OutputChecks.watchUsage(duration, pid, 4_194_304, output, rotateSize, rotateKeep, jfr);
    }

    @Test
    void pidsOutsideOneToPidMaxAreRefusedNamingOnlyThePid() {
        assertNull(usage(0, null, null, 0, 0, null));
        assertNull(usage(0, 1, null, 0, 0, null));
        assertNull(usage(0, 4_194_303, null, 0, 0, null));
        for (int pid : new int[] {0, -1, 4_194_304, Integer.MAX_VALUE}) {
            String message = usage(0, pid, null, 0, 0, null);
            assertTrue(message.startsWith("--pid " + pid + " is not a process id: ids run from 1 to 4194303"), message);
            assertFalse(message.contains("--duration"), message);
        }
        assertTrue(usage(-1, null, null, 0, 0, null).startsWith("--duration must not be negative"));
        assertFalse(usage(-1, null, null, 0, 0, null).contains("--pid"));
    }

    @Test
    void rotationNeedsAStreamFileAndSaneNumbers() {
        Path pb = Path.of("s.pb");
        assertNull(usage(0, null, pb, 4096, 3, null));
        assertEquals("--rotate-keep must not be negative (0 keeps every file)", usage(0, null, pb, 4096, -1, null));
        assertEquals("--rotate-size must not be negative", usage(0, null, pb, -5, 0, null));
        assertEquals("--rotate-size needs a protobuf stream file to rotate (--output FILE.pb)",
                usage(0, null, null, 4096, 0, null));
        assertEquals("--rotate-size needs a protobuf stream file to rotate (--output FILE.pb); out.json is not one",
                usage(0, null, Path.of("out.json"), 4096, 0, null));
        assertTrue(usage(0, null, Path.of("-"), 4096, 0, null).startsWith("--rotate-size needs"), "standard output");
        assertEquals("--rotate-keep needs --rotate-size", usage(0, null, pb, 0, 2, null));
    }

    @Test
    void outputAndJfrMustBeTwoFiles() throws IOException {
        Path stream = Files.writeString(dir.resolve("s.pb"), "x");
        Path link = Files.createSymbolicLink(dir.resolve("link.jfr"), stream);
        assertTrue(usage(0, null, stream, 0, 0, stream).startsWith("--output and --jfr name the same file"));
        assertTrue(usage(0, null, stream, 0, 0, link).startsWith("--output and --jfr name the same file"), "a link to it");
        assertTrue(usage(0, null, dir.resolve("new.pb"), 0, 0, dir.resolve("./new.pb")) != null, "not yet existing");
        assertNull(usage(0, null, stream, 0, 0, dir.resolve("s.jfr")));
    }

    @Test
    void watchRefusesBadFlagsWithExitTwo() {
        for (String[] args : new String[][] {{"--pid", "0"}, {"--pid", "-1"}, {"--pid", "99999999"},
                {"--rotate-keep", "-1", "--output", "x.pb"}, {"--rotate-size", "4096"},
                {"--output", "s.pb", "--jfr", "s.pb"}}) {
            StringWriter err = new StringWriter();
            CommandLine cl = new CommandLine(new WatchCommand());
            cl.setErr(new PrintWriter(err, true));
            java.io.PrintStream saved = System.err;
            java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
            System.setErr(new java.io.PrintStream(captured, true));
            int exit;
            try {
                exit = cl.execute(args);
            } finally {
                System.setErr(saved);
            }
            assertEquals(2, exit, String.join(" ", args) + ": " + captured + err);
            assertFalse(Files.exists(Path.of("s.pb")), "refused before any output exists");
        }
    }

    @Test
    void durationZeroIsDocumentedAsUntilStopped() {
        String help = new CommandLine(new WatchCommand()).getUsageMessage();
        assertTrue(help.replaceAll("\\s+", " ").contains("(0, the default: run until Ctrl-C or SIGTERM)"), help);
    }

    @Test
    void runRefusesAnExpectationNoFailureCanMeet() {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new RunCommand());
        cl.setErr(new PrintWriter(err, true));
        assertEquals(2, cl.execute("--expect", "CAUSE_UNSPECIFIED", "--", "true"));
        assertTrue(err.toString().contains("--expect CAUSE_UNSPECIFIED is not a cause a failure can have"), err.toString());
    }

    @Test
    void pidMaxIsReadWhole() throws IOException {
        int expected = Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/kernel/pid_max")).get(0).strip());
        assertEquals(expected, OutputChecks.pidMax(), "not a byte-wise read, which the kernel answers with one digit");
        assertTrue(expected >= 301, "the kernel's minimum pid_max");
    }
}
