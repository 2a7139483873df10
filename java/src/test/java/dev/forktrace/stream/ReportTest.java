package dev.forktrace.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.forktrace.proto.v1.StreamRecord;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReportTest {
    static Report report(byte[]... streams) throws IOException {
        Report report = new Report();
        int i = 0;
        for (byte[] s : streams) {
            report.read(new StreamReader(new ByteArrayInputStream(s), "in" + (i++) + ".pb"));
        }
        return report;
    }

    @Test
    void totalsByCauseScopeOffenderAndProcess() throws IOException {
        Report r = report(Synthetic.encode(Synthetic.records(30)));
        assertEquals(30, r.failures());
        assertEquals(Map.of("PIDS_CGROUP_LIMIT", 10L, "RLIMIT_NPROC", 10L, "THREADS_MAX", 10L), r.byCause());
        assertEquals(10L, r.byOffender().get("java (pid 1000)"), "the top offender of each failure");
        assertEquals(10L, r.byOffender().get("forkbomb (pid 1001)"));
        assertEquals(null, r.byOffender().get("sidecar (pid 1003)"), "only the top one counts");
        assertEquals(8L, r.byProcess().get("java (pid 1000)"));
        assertEquals(3, r.dropped(), "from the final Stats");
        String text = r.toText();
        assertTrue(text.startsWith("forktrace report: 30 failures from 2026-11-18T"), text);
        assertTrue(text.contains("(14.500s)") || text.contains("(14s)"), text);
        assertTrue(text.contains("CGROUP /sys/fs/cgroup/pids/app (limit 64, highest current 64)"), text);
        assertTrue(text.contains("SYSTEM kernel.threads-max (limit max, highest current 31000)"), text);
        assertTrue(text.contains("Dropped (ring buffer full, counted but not delivered): 3"), text);
    }

    @Test
    void aDamagedRecordIsSkippedAndNamedAndTheRestCounts() throws IOException {
        List<StreamRecord> written = Synthetic.records(30);
        Report r = report(StreamReaderTest.withUndecodableRecord(written, 10));
        assertEquals(29, r.failures(), "one failure lost, the 19 after it kept");
        assertTrue(r.damaged());
        long offset = Synthetic.ends(written)[9];
        assertEquals(List.of(offset), r.inputs().get(0).skipped());
        long bytes = Synthetic.ends(written)[10] - offset;
        assertTrue(r.toText().contains("DAMAGED: skipped 1 damaged region(s), " + bytes + " byte(s), at byte offset(s) "
                + offset + ", and read on from the next intact record; 1 failure(s) missing there"), r.toText());
        JsonObject json = JsonParser.parseString(r.toJson()).getAsJsonObject();
        assertEquals(offset, json.getAsJsonArray("inputs").get(0).getAsJsonObject().getAsJsonArray("skipped_offsets")
                .get(0).getAsLong());
    }

    @Test
    void theSameCaptureReadTwiceCountsOnce() throws IOException {
        byte[] stream = Synthetic.encode(Synthetic.records(30));
        for (Report r : List.of(report(stream, stream), report(concat(stream, stream)))) {
            assertEquals(30, r.failures(), r.toText());
            assertEquals(Map.of("PIDS_CGROUP_LIMIT", 10L, "RLIMIT_NPROC", 10L, "THREADS_MAX", 10L), r.byCause());
            assertEquals(3, r.dropped(), "one capture's counters");
            assertTrue(r.toText().contains("30 failures recorded, delivered 30"), r.toText());
            Report.Input last = r.inputs().get(r.inputs().size() - 1);
            assertEquals(30, last.duplicates());
            assertTrue(String.join("\n", last.warnings()).contains("30 failures were already read"), last.warnings().toString());
        }
        // Two captures with their own ids are two captures, though host, boot and start time agree.
        List<StreamRecord> a = Synthetic.records(30);
        List<StreamRecord> b = new java.util.ArrayList<>(a);
        a.set(0, StreamRecord.newBuilder().setHeader(Synthetic.header().toBuilder().setCaptureId("capture-a")).build());
        b.set(0, StreamRecord.newBuilder().setHeader(Synthetic.header().toBuilder().setCaptureId("capture-b")).build());
        Report two = report(Synthetic.encode(a), Synthetic.encode(b));
        assertEquals(60, two.failures());
        assertEquals(0, two.inputs().get(1).duplicates());
    }

    @Test
    void keysBeyondTheBoundAreSummedAsOthers() {
        Report r = new Report();
        dev.forktrace.proto.v1.ForkFailure base = Synthetic.records(1).stream().filter(StreamRecord::hasFailure)
                .findFirst().orElseThrow().getFailure();
        int n = Report.MAX_KEYS + 3;
        for (int i = 0; i < n; i++) {
            r.add(base.toBuilder().setPid(100_000 + i).setScope(base.getScope().toBuilder().setName("/s" + i)).build());
        }
        assertEquals(3L, r.byProcess().get("(others)"), "three processes did not fit");
        assertEquals(Report.MAX_KEYS + 1, r.byProcess().size());
        assertEquals(n, r.byProcess().values().stream().mapToLong(Long::longValue).sum(), "none dropped");
        String text = r.toText();
        assertTrue(text.contains("\n         3  SCOPE_KIND_UNSPECIFIED (others)"), "the scopes that did not fit, named");
        assertEquals(n, r.scopeRows().stream().mapToLong(Report.ScopeRow::count).sum());
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    @Test
    void histogramCoversTheSpanInAtMostThirtyBuckets() throws IOException {
        Report r = report(Synthetic.encode(Synthetic.records(200))); // 100 s, a failure every 0.5 s
        Report.Histogram h = r.histogram();
        assertEquals(5, h.bucketSeconds());
        assertEquals(20, h.counts().length);
        assertEquals(200, Arrays.stream(h.counts()).sum());
        assertTrue(Arrays.stream(h.counts()).allMatch(c -> c == 10));
        assertTrue(r.toText().contains("Rate (failures per 5s)"));
    }

    @Test
    void rotatedFilesOfOneCaptureDoNotDoubleCountStats() throws IOException {
        List<StreamRecord> records = Synthetic.records(20);
        byte[] first = Synthetic.encode(records.subList(0, 12));
        List<StreamRecord> second = new java.util.ArrayList<>(List.of(records.get(0)));
        second.addAll(records.subList(12, records.size()));
        Report r = report(first, Synthetic.encode(second));
        assertEquals(20, r.failures());
        assertEquals(3, r.dropped(), "one capture: its last Stats, not a sum over files");
    }

    @Test
    void damagedInputCountsEverythingBeforeTheDamage() throws IOException {
        List<StreamRecord> records = Synthetic.records(10);
        byte[] bytes = Synthetic.encode(records);
        long[] ends = Synthetic.ends(records);
        byte[] cut = Arrays.copyOf(bytes, (int) ends[5] + 3); // header + 5 failures, then a partial record
        Report r = report(cut);
        assertEquals(5, r.failures());
        assertTrue(r.damaged());
        Report.Input in = r.inputs().get(0);
        assertEquals(ends[5], in.damage().offset());
        assertTrue(r.toText().contains("DAMAGED: in0.pb: damaged tail from byte " + ends[5]), r.toText());
    }

    @Test
    void jsonIsWellFormedAndCarriesTheSameNumbers() throws IOException {
        List<StreamRecord> records = Synthetic.records(30);
        byte[] bytes = Synthetic.encode(records);
        List<StreamRecord> otherCapture = Synthetic.withCaptureId(records, "another capture");
        byte[] other = Synthetic.encode(otherCapture);
        Report r = report(bytes, Arrays.copyOf(other, other.length - 1));
        JsonObject json = JsonParser.parseString(r.toJson()).getAsJsonObject();
        assertEquals(60, json.get("failures").getAsLong(), "the cut removed only the final Stats");
        assertEquals("PIDS_CGROUP_LIMIT", json.getAsJsonArray("by_cause").get(0).getAsJsonObject().get("cause").getAsString());
        assertEquals(2, json.getAsJsonArray("inputs").size());
        assertTrue(json.getAsJsonArray("inputs").get(0).getAsJsonObject().get("damage").isJsonNull());
        JsonObject damage = json.getAsJsonArray("inputs").get(1).getAsJsonObject().getAsJsonObject("damage");
        assertEquals("TRUNCATED", damage.get("kind").getAsString());
        assertEquals(Synthetic.ends(otherCapture)[records.size() - 2], damage.get("offset").getAsLong());
        assertEquals(3, json.getAsJsonArray("by_scope").size());
        assertFalse(json.getAsJsonObject("rate").getAsJsonArray("buckets").isEmpty());
        assertEquals(3 + 2, json.get("dropped").getAsLong(), "two captures: the final Stats of one, the last of the cut one");
    }
}
