package dev.forktrace.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HtmlOutputTest {
    @TempDir
    Path dir;

    @Test
    void writesANewPageAndReplacesItsOwn() throws IOException {
        Path page = dir.resolve("r.html");
        assertNull(HtmlOutput.refusal(page, List.of("in.pb")));
        HtmlOutput.write(page, "<!DOCTYPE html><html><head>" + HtmlOutput.GENERATOR_TAG + "</head></html>");
        assertNull(HtmlOutput.refusal(page, List.of("in.pb")), "forktrace's own page may be replaced");
        try (var files = Files.list(dir)) {
            assertEquals(List.of(page), files.toList(), "no temporary file left behind");
        }
    }

    @Test
    void refusesAFileItDidNotWriteAndItsOwnInput() throws IOException {
        Path foreign = Files.writeString(dir.resolve("notes.html"), "<html>mine</html>");
        assertTrue(HtmlOutput.refusal(foreign, List.of("x.pb")).contains("not written by forktrace"));
        assertEquals("<html>mine</html>", Files.readString(foreign));
        Path input = Files.writeString(dir.resolve("capture.pb"), "x");
        assertTrue(HtmlOutput.refusal(input, List.of(input.toString())).contains("is also an input"));
        assertTrue(HtmlOutput.refusal(dir.resolve("./capture.pb"), List.of(input.toString())).contains("is also an input"));
        assertTrue(HtmlOutput.refusal(dir, List.of("x.pb")).contains("directory"));
    }
}
