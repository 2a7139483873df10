package dev.forktrace.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import dev.forktrace.proto.v1.StreamRecord;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Decodes the exported trace field by field with CodedInputStream, against the numbers of Perfetto's protos
 * (written here as literals, independent of the exporter's constants).
 */
class PerfettoExporterTest {
    /** A decoded message: field number to values (Long for varints, byte[] for length-delimited). */
    static final class Fields {
        final Map<Integer, List<Object>> values = new LinkedHashMap<>();

        static Fields parse(byte[] bytes) throws IOException {
            Fields f = new Fields();
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            while (!in.isAtEnd()) {
                int tag = in.readTag();
                int field = WireFormat.getTagFieldNumber(tag);
                Object value = switch (WireFormat.getTagWireType(tag)) {
                    case WireFormat.WIRETYPE_VARINT -> in.readUInt64();
                    case WireFormat.WIRETYPE_LENGTH_DELIMITED -> in.readByteArray();
                    case WireFormat.WIRETYPE_FIXED64 -> in.readFixed64();
                    case WireFormat.WIRETYPE_FIXED32 -> (long) in.readFixed32();
                    default -> throw new AssertionError("unexpected wire type in tag " + tag);
                };
                f.values.computeIfAbsent(field, k -> new ArrayList<>()).add(value);
            }
            return f;
        }

        boolean has(int field) {
            return values.containsKey(field);
        }

        long varint(int field) {
            return (Long) values.get(field).get(0);
        }

        Fields msg(int field) throws IOException {
            return parse((byte[]) values.get(field).get(0));
        }

        List<Fields> msgs(int field) throws IOException {
            List<Fields> out = new ArrayList<>();
            for (Object o : values.getOrDefault(field, List.of())) {
                out.add(parse((byte[]) o));
            }
            return out;
        }

        String string(int field) {
            return new String((byte[]) values.get(field).get(0), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    static List<Fields> packets(byte[] trace) throws IOException {
        Fields t = Fields.parse(trace);
        assertEquals(Set.of(1), t.values.keySet(), "a Trace holds only field 1, packet");
        return t.msgs(1);
    }

    static PerfettoExporter.Result export(List<StreamRecord> records, ByteArrayOutputStream out) throws IOException {
        return PerfettoExporter.export(new StreamReader(new ByteArrayInputStream(Synthetic.encode(records)), "in.pb"), out);
    }

    @Test
    void tracksInstantsAndCountersWithPerfettoFieldNumbers() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PerfettoExporter.Result result = export(Synthetic.records(9), out);
        assertNull(result.damage());
        assertTrue(result.warnings().isEmpty(), result.warnings().toString());
        List<Fields> packets = packets(out.toByteArray());
        assertEquals(result.packets(), packets.size());

        // TracePacket.trusted_packet_sequence_id = 10 on every packet; sequence_flags = 13 on the first,
        // SEQ_INCREMENTAL_STATE_CLEARED = 1.
        assertEquals(1, packets.get(0).varint(13));
        for (int i = 0; i < packets.size(); i++) {
            assertTrue(packets.get(i).varint(10) != 0);
            assertEquals(i == 0, packets.get(i).has(13));
        }

        // TracePacket.clock_snapshot = 6: ClockSnapshot.clocks = 1 {clock_id = 1, timestamp = 2};
        // MONOTONIC = 3, BOOTTIME = 6, REALTIME = 1.
        Fields snapshot = packets.get(0).msg(6);
        Map<Long, Long> clocks = new HashMap<>();
        for (Fields c : snapshot.msgs(1)) {
            clocks.put(c.varint(1), c.varint(2));
        }
        assertEquals(Map.of(3L, Synthetic.CLOCKS.getMonotonicNs(), 6L, Synthetic.CLOCKS.getBoottimeNs(),
                1L, Synthetic.CLOCKS.getRealtimeNs()), clocks);

        // TracePacket.track_descriptor = 60: uuid = 1, name = 2, process = 3 {pid = 1, process_name = 6},
        // parent_uuid = 5, counter = 8 {unit = 3, UNIT_COUNT = 2}.
        Map<Long, Fields> tracks = new HashMap<>();
        Set<Long> processPids = new HashSet<>();
        List<String> counterNames = new ArrayList<>();
        List<String> scopeNames = new ArrayList<>();
        for (Fields p : packets) {
            if (p.has(60)) {
                Fields td = p.msg(60);
                assertFalse(p.has(8), "descriptors carry no timestamp");
                tracks.put(td.varint(1), td);
                if (td.has(3)) {
                    processPids.add(td.msg(3).varint(1));
                    assertEquals("java", td.msg(3).string(6));
                } else if (td.has(8)) {
                    assertEquals(2, td.msg(8).varint(3));
                    counterNames.add(td.string(2));
                } else if (td.has(5)) {
                    scopeNames.add(td.string(2));
                }
            }
        }
        assertEquals(Set.of(1000L, 1001L, 1002L, 1003L), processPids);
        assertEquals(List.of("forktrace failures: PIDS_CGROUP_LIMIT", "forktrace failures: RLIMIT_NPROC",
                "forktrace failures: THREADS_MAX"), counterNames);
        assertEquals(List.of("CGROUP /sys/fs/cgroup/pids/app (limit 64)", "USER uid 1000 (app) (limit 4096)",
                "SYSTEM kernel.threads-max (limit max)"), scopeNames);

        // TracePacket.track_event = 11, timestamp = 8, timestamp_clock_id = 58. TrackEvent: type = 9
        // (TYPE_INSTANT = 3, TYPE_COUNTER = 4), track_uuid = 11, name = 23, categories = 22,
        // counter_value = 30, debug_annotations = 4 {name = 10, int_value = 4, string_value = 6, bool_value = 2}.
        int instants = 0;
        Map<Long, List<Long>> counterValues = new LinkedHashMap<>();
        for (Fields p : packets) {
            if (!p.has(11)) {
                continue;
            }
            Fields e = p.msg(11);
            assertEquals(3, p.varint(58), "CLOCK_MONOTONIC, mapped by the snapshot");
            long track = e.varint(11);
            assertTrue(tracks.containsKey(track), "the event's track was described before");
            long ts = p.varint(8);
            assertTrue(ts >= Synthetic.BOOT_MONOTONIC_NS && ts < Synthetic.BOOT_MONOTONIC_NS + 5_000_000_000L);
            if (e.varint(9) == 3) {
                instants++;
                assertEquals("forktrace", e.string(22));
                Map<String, Object> annotations = new HashMap<>();
                for (Fields a : e.msgs(4)) {
                    annotations.put(a.string(10), a.has(6) ? a.string(6) : a.has(4) ? (Object) a.varint(4) : a.varint(2));
                }
                String cause = (String) annotations.get("cause");
                assertEquals(e.string(23).substring(e.string(23).indexOf(": ") + 2), cause);
                assertEquals("EAGAIN", annotations.get("errno"));
                assertTrue(annotations.containsKey("scope.name"));
                assertTrue(annotations.containsKey("scope.limit"));
                if (cause.equals("PIDS_CGROUP_LIMIT")) {
                    assertEquals("clone3 failed: PIDS_CGROUP_LIMIT", e.string(23));
                    assertEquals("java (pid 1000, 60 tasks); sidecar (pid 1003, 4 tasks)", annotations.get("offenders"));
                    assertEquals("/sys/fs/cgroup/pids/app", annotations.get("scope.name"));
                    assertEquals(64L, annotations.get("scope.limit"));
                }
            } else {
                assertEquals(4, e.varint(9));
                counterValues.computeIfAbsent(track, k -> new ArrayList<>()).add(e.varint(30));
            }
        }
        assertEquals(18, instants, "each failure on its process track and on its scope track");
        assertEquals(List.of(List.of(1L, 2L, 3L), List.of(1L, 2L, 3L), List.of(1L, 2L, 3L)),
                new ArrayList<>(counterValues.values()), "a running count per cause");
    }

    @Test
    void withoutAClockReferenceKtimeGoesOnTheDefaultClockWithAWarning() throws IOException {
        List<StreamRecord> records = new ArrayList<>(Synthetic.records(3));
        records.set(0, StreamRecord.newBuilder().setHeader(Synthetic.header().toBuilder().clearClocks()).build());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PerfettoExporter.Result result = export(records, out);
        assertEquals(1, result.warnings().size());
        assertTrue(result.warnings().get(0).contains("no clock reference"));
        for (Fields p : packets(out.toByteArray())) {
            assertFalse(p.has(6), "no clock snapshot");
            assertFalse(p.has(58), "default clock");
            if (p.has(11) && p.msg(11).varint(9) == 3) {
                assertEquals(Synthetic.BOOT_MONOTONIC_NS + p.msg(11).msgs(4).stream()
                        .filter(a -> a.string(10).equals("sequence")).findFirst().orElseThrow().varint(4) * 500_000_000L
                        - 500_000_000L, p.varint(8));
            }
        }
    }

    @Test
    void damagedInputExportsWhatPrecedesTheDamage() throws IOException {
        List<StreamRecord> records = Synthetic.records(6);
        byte[] bytes = Synthetic.encode(records);
        byte[] cut = java.util.Arrays.copyOf(bytes, (int) Synthetic.ends(records)[3] + 2);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PerfettoExporter.Result result = PerfettoExporter.export(new StreamReader(new ByteArrayInputStream(cut), "cut.pb"), out);
        assertEquals(3, result.failures());
        assertEquals(StreamFormatException.Kind.TRUNCATED, result.damage().kind());
        long instants = packets(out.toByteArray()).stream().filter(p -> p.has(11)).count();
        assertEquals(3 * 3, instants, "process instant, scope instant and counter per failure");
    }
}
