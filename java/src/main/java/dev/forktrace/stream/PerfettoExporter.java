package dev.forktrace.stream;

import com.google.protobuf.CodedOutputStream;
import dev.forktrace.proto.v1.ClockReference;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.Offender;
import dev.forktrace.proto.v1.Scope;
import dev.forktrace.proto.v1.StreamRecord;
import dev.forktrace.containers.Containers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Converts a forktrace stream into a Perfetto trace (a {@code Trace} of {@code TracePacket}s) that opens in
 * ui.perfetto.dev on its own, or concatenated with a scheduler trace of the same boot
 * ({@code cat sched.perfetto-trace forktrace.perfetto-trace > both.perfetto-trace}: a trace is just repeated
 * field 1, so concatenation is valid).
 *
 * <p>Tracks: one process track per failing process (a ProcessDescriptor, so trace processor merges it with the
 * scheduler's view of that pid), one track per scope (the limit that refused, under a "forktrace limits" parent)
 * and one counter track per cause (running count of failures). Each failure is an instant event on its process
 * track and on its scope track, with cause, errno, scope, offenders... as debug annotations.
 *
 * <p>Clock: ForkFailure.ktime_ns is CLOCK_MONOTONIC (bpf_ktime_get_ns). When the stream header carries the
 * writer's clock reference, events are stamped with timestamp_clock_id = MONOTONIC and a ClockSnapshot
 * (MONOTONIC, BOOTTIME, REALTIME read together) lets trace processor place them exactly on its BOOTTIME
 * timeline. Without a reference (older streams), ktime_ns is written on the default clock (BOOTTIME), off by
 * the time the machine spent suspended since boot (0 on servers that never suspend); if an event lacks
 * ktime_ns, wall time is used for all events instead (it opens alone but will not line up with other traces).
 * Either fallback is reported as a warning.
 *
 * <p>Perfetto is not a dependency: the handful of messages are written with CodedOutputStream and the field
 * numbers below, from Perfetto's published protos (github.com/google/perfetto, protos/perfetto/...).
 */
public final class PerfettoExporter {
    // protos/perfetto/trace/trace.proto: message Trace { repeated TracePacket packet = 1; }
    static final int TRACE_PACKET = 1;
    // protos/perfetto/trace/trace_packet.proto (message TracePacket)
    static final int PACKET_TIMESTAMP = 8;                    // optional uint64 timestamp = 8
    static final int PACKET_TIMESTAMP_CLOCK_ID = 58;          // optional uint32 timestamp_clock_id = 58
    static final int PACKET_CLOCK_SNAPSHOT = 6;               // ClockSnapshot clock_snapshot = 6
    static final int PACKET_TRUSTED_PACKET_SEQUENCE_ID = 10;  // uint32 trusted_packet_sequence_id = 10
    static final int PACKET_TRACK_EVENT = 11;                 // TrackEvent track_event = 11
    static final int PACKET_SEQUENCE_FLAGS = 13;              // optional uint32 sequence_flags = 13
    static final int PACKET_TRACK_DESCRIPTOR = 60;            // TrackDescriptor track_descriptor = 60
    static final int SEQ_INCREMENTAL_STATE_CLEARED = 1;       // TracePacket.SequenceFlags
    // protos/perfetto/trace/clock_snapshot.proto (message ClockSnapshot, nested Clock)
    static final int SNAPSHOT_CLOCKS = 1;                     // repeated Clock clocks = 1
    static final int CLOCK_ID = 1;                            // Clock.clock_id = 1
    static final int CLOCK_TIMESTAMP = 2;                     // Clock.timestamp = 2
    // protos/perfetto/common/builtin_clock.proto (BuiltinClock)
    static final int BUILTIN_CLOCK_REALTIME = 1;
    static final int BUILTIN_CLOCK_MONOTONIC = 3;
    static final int BUILTIN_CLOCK_BOOTTIME = 6;
    // protos/perfetto/trace/track_event/track_descriptor.proto (message TrackDescriptor)
    static final int TRACK_UUID = 1;                          // optional uint64 uuid = 1
    static final int TRACK_NAME = 2;                          // optional string name = 2
    static final int TRACK_PROCESS = 3;                       // optional ProcessDescriptor process = 3
    static final int TRACK_PARENT_UUID = 5;                   // optional uint64 parent_uuid = 5
    static final int TRACK_COUNTER = 8;                       // optional CounterDescriptor counter = 8
    // protos/perfetto/trace/track_event/process_descriptor.proto (message ProcessDescriptor)
    static final int PROCESS_PID = 1;                         // optional int32 pid = 1
    static final int PROCESS_NAME = 6;                        // optional string process_name = 6
    // protos/perfetto/trace/track_event/counter_descriptor.proto (message CounterDescriptor)
    static final int COUNTER_UNIT = 3;                        // optional Unit unit = 3
    static final int UNIT_COUNT = 2;                          // Unit.UNIT_COUNT
    // protos/perfetto/trace/track_event/track_event.proto (message TrackEvent)
    static final int EVENT_DEBUG_ANNOTATIONS = 4;             // repeated DebugAnnotation debug_annotations = 4
    static final int EVENT_TYPE = 9;                          // optional Type type = 9
    static final int EVENT_TRACK_UUID = 11;                   // optional uint64 track_uuid = 11
    static final int EVENT_CATEGORIES = 22;                   // repeated string categories = 22
    static final int EVENT_NAME = 23;                         // string name = 23 (oneof name_field)
    static final int EVENT_COUNTER_VALUE = 30;                // int64 counter_value = 30
    static final int TYPE_INSTANT = 3;                        // Type.TYPE_INSTANT
    static final int TYPE_COUNTER = 4;                        // Type.TYPE_COUNTER
    // protos/perfetto/trace/track_event/debug_annotation.proto (message DebugAnnotation)
    static final int ANNOTATION_BOOL = 2;                     // bool bool_value = 2
    static final int ANNOTATION_INT = 4;                      // int64 int_value = 4
    static final int ANNOTATION_STRING = 6;                   // string string_value = 6
    static final int ANNOTATION_NAME = 10;                    // string name = 10

    /** Our packets' sequence; arbitrary, nonzero, and unlikely to meet a tracing service's small ids. */
    static final int SEQUENCE_ID = 0x466b7472;
    private static final long UUID_BASE = 0x666f726b74726163L; // "forktrac"
    static final String CATEGORY = "forktrace";

    /** What the export did. */
    public record Result(long failures, long packets, long tracks, String clock, List<String> warnings,
                         StreamFormatException damage) {}

    private record Timed(ForkFailure failure, ClockReference clocks) {}

    private final CodedOutputStream out;
    private long packets;
    private boolean first = true;
    private final Map<Integer, Long> processTracks = new HashMap<>();
    private final Map<String, Long> scopeTracks = new HashMap<>();
    private final Map<Integer, Long> counterTracks = new HashMap<>();
    private final Map<Integer, Long> causeCounts = new HashMap<>();
    private long scopesRoot;

    private PerfettoExporter(OutputStream sink) {
        this.out = CodedOutputStream.newInstance(sink, 1 << 16);
    }

    /**
     * Reads the whole stream and writes the trace. A damaged stream is exported up to its damage, which is
     * returned in the result (not thrown); IO errors of the output are thrown.
     */
    public static Result export(StreamReader reader, OutputStream sink) throws IOException {
        List<Timed> failures = new ArrayList<>();
        StreamFormatException damage = null;
        ClockReference clocks = null;
        try {
            StreamRecord r;
            while ((r = reader.next()) != null) {
                if (r.hasHeader()) {
                    clocks = r.getHeader().hasClocks() ? r.getHeader().getClocks() : null;
                } else if (r.hasFailure()) {
                    failures.add(new Timed(r.getFailure(), clocks));
                }
            }
        } catch (StreamFormatException e) {
            damage = e;
        }
        List<String> warnings = new ArrayList<>(reader.warnings());
        PerfettoExporter exporter = new PerfettoExporter(sink);
        String clock = exporter.write(failures, warnings);
        exporter.out.flush();
        sink.flush();
        long tracks = exporter.processTracks.size() + exporter.scopeTracks.size() + exporter.counterTracks.size()
                + (exporter.scopesRoot != 0 ? 1 : 0);
        return new Result(failures.size(), exporter.packets, tracks, clock, warnings, damage);
    }

    private String write(List<Timed> failures, List<String> warnings) throws IOException {
        boolean exact = failures.stream().allMatch(t -> t.clocks() != null
                && (t.failure().getKtimeNs() != 0 || t.failure().hasTime()));
        boolean allKtime = failures.stream().allMatch(t -> t.failure().getKtimeNs() != 0);
        String clock;
        if (failures.isEmpty() || exact) {
            clock = "CLOCK_MONOTONIC (ktime_ns), placed on BOOTTIME by the stream's clock reference";
            for (ClockReference c : failures.stream().map(Timed::clocks).distinct().toList()) {
                clockSnapshot(c);
            }
        } else if (allKtime) {
            clock = "CLOCK_MONOTONIC (ktime_ns) written as BOOTTIME";
            warnings.add("the stream has no clock reference (written before forktrace recorded one): kernel times"
                    + " are written as BOOTTIME, early by the time the machine was suspended since boot");
        } else {
            clock = "wall clock (ForkFailure.time) written as BOOTTIME";
            warnings.add("the stream has no clock reference and some failures have no kernel time: the trace uses"
                    + " wall-clock times, which will not line up with other traces of this machine");
        }
        if (first) {
            packet(new Msg(), false, 0, 0); // a first packet that only clears the sequence's incremental state
        }
        for (Timed t : failures) {
            ForkFailure f = t.failure();
            long ts;
            int clockId;
            if (exact) {
                clockId = BUILTIN_CLOCK_MONOTONIC;
                ts = f.getKtimeNs() != 0 ? f.getKtimeNs()
                        : wallNanos(f) - t.clocks().getRealtimeNs() + t.clocks().getMonotonicNs();
            } else {
                clockId = 0; // the default: BOOTTIME
                ts = allKtime ? f.getKtimeNs() : wallNanos(f);
            }
            instant(f, processTrack(f), ts, clockId);
            if (f.hasScope()) {
                instant(f, scopeTrack(f.getScope()), ts, clockId);
            }
            long count = causeCounts.merge(f.getCauseValue(), 1L, Long::sum);
            Msg event = new Msg().uint64(EVENT_TRACK_UUID, counterTrack(f)).uint64(EVENT_TYPE, TYPE_COUNTER)
                    .uint64(EVENT_COUNTER_VALUE, count);
            packet(new Msg().msg(PACKET_TRACK_EVENT, event), true, ts, clockId);
        }
        return clock;
    }

    private static long wallNanos(ForkFailure f) {
        return f.getTime().getSeconds() * 1_000_000_000L + f.getTime().getNanos();
    }

    private void clockSnapshot(ClockReference c) throws IOException {
        Msg snapshot = new Msg()
                .msg(SNAPSHOT_CLOCKS, new Msg().uint64(CLOCK_ID, BUILTIN_CLOCK_MONOTONIC).uint64(CLOCK_TIMESTAMP, c.getMonotonicNs()))
                .msg(SNAPSHOT_CLOCKS, new Msg().uint64(CLOCK_ID, BUILTIN_CLOCK_BOOTTIME).uint64(CLOCK_TIMESTAMP, c.getBoottimeNs()))
                .msg(SNAPSHOT_CLOCKS, new Msg().uint64(CLOCK_ID, BUILTIN_CLOCK_REALTIME).uint64(CLOCK_TIMESTAMP, c.getRealtimeNs()));
        packet(new Msg().msg(PACKET_CLOCK_SNAPSHOT, snapshot), false, 0, 0);
    }

    private void instant(ForkFailure f, long track, long ts, int clockId) throws IOException {
        String cause = enumName(f.getCause().name(), f.getCauseValue());
        Msg event = new Msg()
                .uint64(EVENT_TRACK_UUID, track)
                .uint64(EVENT_TYPE, TYPE_INSTANT)
                .string(EVENT_CATEGORIES, CATEGORY)
                .string(EVENT_NAME, syscallName(f) + " failed: " + cause);
        annotate(event, "cause", cause);
        annotate(event, "confidence", enumName(f.getConfidence().name(), f.getConfidenceValue()));
        annotate(event, "errno", f.getErrno().isEmpty() ? Integer.toString(f.getErrnoValue()) : f.getErrno());
        annotate(event, "syscall", syscallName(f));
        annotate(event, "pid", f.getPid());
        annotate(event, "tid", f.getTid());
        annotate(event, "comm", f.getComm());
        annotate(event, "process", f.getProcessComm());
        event.msg(EVENT_DEBUG_ANNOTATIONS, new Msg().string(ANNOTATION_NAME, "thread").bool(ANNOTATION_BOOL, f.getThread()));
        if (f.hasScope()) {
            Scope s = f.getScope();
            annotate(event, "scope.kind", enumName(s.getKind().name(), s.getKindValue()));
            annotate(event, "scope.name", s.getName());
            annotate(event, "scope.limit", s.getLimit());
            annotate(event, "scope.current", s.getCurrent());
            if (!s.getKnob().isEmpty()) {
                annotate(event, "scope.knob", s.getKnob());
            }
        }
        if (f.hasContainer()) {
            annotate(event, "container", Containers.describe(f.getContainer()));
        }
        if (f.getNsPid() != 0) {
            annotate(event, "ns_pid", f.getNsPid());
        }
        if (f.getOffendersCount() > 0) {
            annotate(event, "offenders", f.getOffendersList().stream().map(PerfettoExporter::offender)
                    .collect(Collectors.joining("; ")));
        }
        if (!f.getMessage().isEmpty()) {
            annotate(event, "message", f.getMessage());
        }
        if (f.hasJava() && !f.getJava().getThreadName().isEmpty()) {
            annotate(event, "java.thread", f.getJava().getThreadName());
        }
        annotate(event, "sequence", f.getSequence());
        packet(new Msg().msg(PACKET_TRACK_EVENT, event), true, ts, clockId);
    }

    private static String offender(Offender o) {
        return o.getComm() + " (pid " + o.getPid() + ", " + o.getTasks() + " tasks"
                + (o.getMemoryBytes() > 0 ? ", " + o.getMemoryBytes() + " bytes" : "")
                + (o.hasContainer() ? ", " + Containers.describe(o.getContainer()) : "") + ")";
    }

    private static String syscallName(ForkFailure f) {
        return enumName(f.getSyscall().name(), f.getSyscallValue()).toLowerCase(Locale.ROOT);
    }

    private static String enumName(String name, int number) {
        return "UNRECOGNIZED".equals(name) ? Integer.toString(number) : name;
    }

    private static void annotate(Msg event, String name, String value) {
        event.msg(EVENT_DEBUG_ANNOTATIONS, new Msg().string(ANNOTATION_NAME, name).string(ANNOTATION_STRING, value));
    }

    private static void annotate(Msg event, String name, long value) {
        event.msg(EVENT_DEBUG_ANNOTATIONS, new Msg().string(ANNOTATION_NAME, name).int64(ANNOTATION_INT, value));
    }

    private long processTrack(ForkFailure f) throws IOException {
        Long uuid = processTracks.get(f.getPid());
        if (uuid == null) {
            uuid = uuid(2, f.getPid());
            processTracks.put(f.getPid(), uuid);
            String name = f.getProcessComm().isEmpty() ? f.getComm() : f.getProcessComm();
            if (f.hasContainer()) { // the track says where the process runs: "java [docker web]"
                name += " [" + (f.getContainer().getRuntime().isEmpty() ? "" : f.getContainer().getRuntime() + " ")
                        + Containers.label(f.getContainer()) + "]";
            }
            Msg process = new Msg().int64(PROCESS_PID, f.getPid()).string(PROCESS_NAME, name);
            descriptor(new Msg().uint64(TRACK_UUID, uuid).msg(TRACK_PROCESS, process));
        }
        return uuid;
    }

    private long scopeTrack(Scope s) throws IOException {
        if (scopesRoot == 0) {
            scopesRoot = uuid(1, 1);
            descriptor(new Msg().uint64(TRACK_UUID, scopesRoot).string(TRACK_NAME, "forktrace limits"));
        }
        String key = s.getKindValue() + " " + s.getName();
        Long uuid = scopeTracks.get(key);
        if (uuid == null) {
            uuid = uuid(3, scopeTracks.size() + 1);
            scopeTracks.put(key, uuid);
            String name = enumName(s.getKind().name(), s.getKindValue()) + " " + s.getName()
                    + (s.getLimit() != 0 ? " (limit " + (s.getLimit() == Long.MAX_VALUE ? "max" : s.getLimit()) + ")" : "")
                    + (s.hasContainer() ? " " + Containers.describe(s.getContainer()) : "");
            descriptor(new Msg().uint64(TRACK_UUID, uuid).uint64(TRACK_PARENT_UUID, scopesRoot).string(TRACK_NAME, name));
        }
        return uuid;
    }

    private long counterTrack(ForkFailure f) throws IOException {
        Long uuid = counterTracks.get(f.getCauseValue());
        if (uuid == null) {
            uuid = uuid(4, f.getCauseValue());
            counterTracks.put(f.getCauseValue(), uuid);
            descriptor(new Msg().uint64(TRACK_UUID, uuid)
                    .string(TRACK_NAME, "forktrace failures: " + enumName(f.getCause().name(), f.getCauseValue()))
                    .msg(TRACK_COUNTER, new Msg().uint64(COUNTER_UNIT, UNIT_COUNT)));
        }
        return uuid;
    }

    /** Track uuids: kind in the top byte, so process, scope and counter ids never collide. */
    private static long uuid(int kind, long id) {
        return (UUID_BASE ^ ((long) kind << 56)) + id;
    }

    private void descriptor(Msg track) throws IOException {
        packet(new Msg().msg(PACKET_TRACK_DESCRIPTOR, track), false, 0, 0);
    }

    private void packet(Msg body, boolean timed, long ts, int clockId) throws IOException {
        if (timed) {
            body.uint64(PACKET_TIMESTAMP, ts);
            if (clockId != 0) {
                body.uint64(PACKET_TIMESTAMP_CLOCK_ID, clockId);
            }
        }
        body.uint64(PACKET_TRUSTED_PACKET_SEQUENCE_ID, SEQUENCE_ID);
        if (first) {
            body.uint64(PACKET_SEQUENCE_FLAGS, SEQ_INCREMENTAL_STATE_CLEARED);
            first = false;
        }
        out.writeByteArray(TRACE_PACKET, body.bytes());
        packets++;
    }

    /** A message being encoded: fields in the order written, nested messages as length-delimited bytes. */
    private static final class Msg {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        private final CodedOutputStream coded = CodedOutputStream.newInstance(bytes, 256);

        Msg uint64(int field, long value) {
            return write(() -> coded.writeUInt64(field, value));
        }

        Msg int64(int field, long value) {
            return write(() -> coded.writeInt64(field, value));
        }

        Msg bool(int field, boolean value) {
            return write(() -> coded.writeBool(field, value));
        }

        Msg string(int field, String value) {
            return write(() -> coded.writeString(field, value));
        }

        Msg msg(int field, Msg nested) {
            byte[] b = nested.bytes();
            return write(() -> coded.writeByteArray(field, b));
        }

        byte[] bytes() {
            write(coded::flush);
            return bytes.toByteArray();
        }

        private interface Encode {
            void run() throws IOException;
        }

        private Msg write(Encode e) {
            try {
                e.run();
            } catch (IOException impossible) { // a ByteArrayOutputStream does not fail
                throw new java.io.UncheckedIOException(impossible);
            }
            return this;
        }
    }

}
