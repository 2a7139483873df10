package dev.forktrace.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.forktrace.proto.v1.Stats;
import dev.forktrace.proto.v1.StreamHeader;
import dev.forktrace.proto.v1.StreamRecord;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Reports over several hosts: grouping by host, gaps, and the HTML page. */
class FleetReportTest {
    static List<StreamRecord> capture(String host, String captureId, int failures, boolean finalTally, long dropped,
                                      long undeliverable) {
        List<StreamRecord> records = new ArrayList<>(Synthetic.records(failures));
        StreamHeader header = records.get(0).getHeader().toBuilder().setHostName(host).setCaptureId(captureId).build();
        records.set(0, StreamRecord.newBuilder().setHeader(header).build());
        Stats last = records.get(records.size() - 1).getStats().toBuilder().setFinal(finalTally).setDropped(dropped)
                .setUndeliverable(undeliverable).build();
        records.set(records.size() - 1, StreamRecord.newBuilder().setStats(last).build());
        return records;
    }

    static Report read(Report report, String source, List<StreamRecord> records, List<TransportGap> gaps)
            throws IOException {
        report.read(new StreamReader(new ByteArrayInputStream(Synthetic.encode(records)), source,
                new StreamReader.Transport() {
                    public List<TransportGap> gaps() {
                        return gaps;
                    }

                    public List<String> warnings() {
                        return List.of();
                    }
                }));
        return report;
    }

    @Test
    void groupsByHostAndNamesEveryKindOfGap() throws IOException {
        Report r = new Report();
        read(r, "a.pb", capture("node-a", "A1", 12, true, 0, 0), List.of());
        read(r, "b.pb", capture("node-b", "B1", 6, true, 2, 3), List.of(new TransportGap("node-b", "B1", 3, 1, false)));
        read(r, "c.pb", capture("node-c", "C1", 3, false, 0, 0), List.of());
        read(r, "c2.pb", capture("node-c", "C2", 4, true, 0, 0), List.of()); // the same host, restarted
        assertEquals(List.of("node-a", "node-c", "node-b"), List.copyOf(r.byHost().keySet()));
        assertEquals(7L, r.byHost().get("node-c"), "both captures of node-c");
        String text = r.toText();
        assertTrue(text.contains("By host\n        12   48.0%  node-a\n"), text);
        assertTrue(text.contains("  node-b capture B1: 2 dropped (ring buffer full); 3 records undeliverable to Kafka"
                + " (counted by the writer); 3 records missing from the topic (sequence gaps)\n"), text);
        assertTrue(text.contains("  node-b: 1 repeated records skipped"), text);
        assertTrue(text.contains("  node-c capture C1: no final tally"), text);
        assertFalse(text.contains("node-c capture C2:"), "the restarted capture is whole: " + text);
        assertFalse(text.contains("node-a capture A1:"), text);

        JsonObject json = JsonParser.parseString(r.toJson()).getAsJsonObject();
        assertEquals(3, json.get("undeliverable").getAsLong());
        JsonArray captures = json.getAsJsonArray("captures");
        assertEquals(4, captures.size());
        assertEquals("node-a", captures.get(0).getAsJsonObject().get("host").getAsString(), "sorted by host");
        JsonObject b = captures.get(1).getAsJsonObject();
        assertEquals("B1", b.get("capture_id").getAsString());
        assertEquals(3, b.get("missing_records").getAsLong());
        assertEquals(1, b.get("duplicate_records").getAsLong());
        assertEquals(3, b.getAsJsonArray("gaps").size());
    }

    @Test
    void aWholeCaptureHasNoGaps() throws IOException {
        Report r = read(new Report(), "a.pb", capture("node-a", "A1", 5, true, 0, 0), List.of());
        assertTrue(r.toText().contains("Gaps (hosts whose streams are incomplete)\n  none:"), r.toText());
        assertFalse(r.toText().contains("By host"), "one host: no host table");
    }

    @Test
    void theSameCaptureReadTwiceCountsItsTallyOnce() throws IOException {
        Report r = new Report();
        read(r, "a.pb", capture("node-a", "A1", 5, true, 4, 0), List.of());
        read(r, "again.pb", capture("node-a", "A1", 5, true, 4, 0), List.of());
        assertEquals(4, r.dropped());
    }

    @Test
    void htmlIsSelfContainedEscapedAndListsEveryKeptFailure() throws IOException {
        Report r = new Report().keepFailures(5);
        read(r, "<a>.pb", capture("node-<b>&\"", "X", 9, false, 0, 0), List.of());
        String page = r.toHtml();
        assertTrue(page.startsWith("<!DOCTYPE html>"));
        assertFalse(Pattern.compile("(src|href)=|https?://|@import|url\\(").matcher(page).find(), "fetches nothing");
        assertFalse(page.contains("node-<b>"), "host names are escaped");
        assertTrue(page.contains("node-&lt;b&gt;&amp;&quot;"));
        Matcher details = Pattern.compile("<details class=\"failure\" id=\"failure-\\d+\"").matcher(page);
        int listed = 0;
        while (details.find()) {
            listed++;
        }
        assertEquals(5, listed, "the kept failures");
        assertTrue(page.contains("Listing the first 5 of 9 failures"), "says that some are not listed");
        assertTrue(page.contains("Streams with gaps"), "the capture has no final tally");
        assertTrue(page.contains("<svg id=\"timeline\""));
        assertTrue(page.contains("data-cause=\"RLIMIT_NPROC\""), "a legend entry per cause");
        assertEquals(1, page.split("<script>", -1).length - 1, "one inline script");
    }
}
