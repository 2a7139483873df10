package dev.forktrace.output;

import com.google.protobuf.ProtocolMessageEnum;
import com.google.protobuf.Timestamp;
import dev.forktrace.proto.v1.Container;
import dev.forktrace.proto.v1.Evidence;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.JavaContext;
import dev.forktrace.proto.v1.KernelSnapshot;
import dev.forktrace.proto.v1.MemcgState;
import dev.forktrace.proto.v1.Offender;
import dev.forktrace.proto.v1.PidNamespaceLevel;
import dev.forktrace.proto.v1.PidsCgroupLevel;
import dev.forktrace.proto.v1.Scope;
import java.io.IOException;
import java.io.Writer;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;

/**
 * Writes a ForkFailure as protobuf's canonical proto3 JSON, byte for byte what JsonFormat's compact
 * printer produces, at a fraction of its cost. JsonFormat walks descriptors, builds a field map per
 * message and formats timestamps with SimpleDateFormat (about 28 KB of garbage and 25 us per event,
 * measured with JMH), which alone caps a storm near 40k events/s. This writer fills one reused
 * StringBuilder and hands the line to the Writer in one call.
 *
 * <p>Hand-written on purpose, with one guard: FailureJsonTest fills every field of the schema through its
 * descriptors (strings full of characters that need escaping, negative and unsigned extremes) and
 * compares with JsonFormat, so a field added to the .proto and not here, or any difference in escaping
 * or number format, fails the build. Proto3 rules: fields at their default value are left out, 64-bit
 * integers are strings, unsigned values are printed unsigned, enums by name (by number when unknown),
 * Timestamp as RFC 3339 with 0, 3, 6 or 9 fraction digits, and Gson's HTML-safe escaping, as JsonFormat.
 */
public final class FailureJson {
    private static final char[] HEX = "0123456789abcdef".toCharArray();
    private final Writer out;
    private final StringBuilder line = new StringBuilder(2048);
    private boolean first;
    private long timestampSecond = Long.MIN_VALUE;
    private String timestampPrefix;

    public FailureJson(Writer out) {
        this.out = out;
    }

    /** For format() only. */
    public FailureJson() {
        this(Writer.nullWriter());
    }

    /** One failure as one JSON object; the caller writes the line separator. */
    public void write(ForkFailure f) throws IOException {
        out.append(format(f));
    }

    /**
     * One failure as one JSON object, in a builder that the next call reuses. ./forktrace encodes it
     * straight to bytes: a Writer would widen the (Latin-1) text to chars and encode it back.
     */
    public CharSequence format(ForkFailure f) {
        line.setLength(0);
        first = true;
        beginObject();
        uint64("sequence", f.getSequence());
        if (f.hasTime()) {
            timestamp("time", f.getTime());
        }
        uint64("ktimeNs", f.getKtimeNs());
        enumName("syscall", f.getSyscallValue(), f.getSyscall());
        string("errno", f.getErrno());
        int32("errnoValue", f.getErrnoValue());
        uint32("pid", f.getPid());
        uint32("tid", f.getTid());
        uint32("ppid", f.getPpid());
        uint32("uid", f.getUid());
        string("comm", f.getComm());
        string("processComm", f.getProcessComm());
        uint64("cloneFlags", f.getCloneFlags());
        strings("cloneFlagNames", f.getCloneFlagNamesList());
        bool("thread", f.getThread());
        uint64("cgroupId", f.getCgroupId());
        uint32("pidNamespaceInum", f.getPidNamespaceInum());
        uint32("pidNamespaceLevel", f.getPidNamespaceLevel());
        enumName("tier", f.getTierValue(), f.getTier());
        enumName("cause", f.getCauseValue(), f.getCause());
        enumName("confidence", f.getConfidenceValue(), f.getConfidence());
        if (f.getEvidenceCount() > 0) {
            name("evidence").append('[');
            first = true;
            for (Evidence e : f.getEvidenceList()) {
                evidence(e);
            }
            endArray();
        }
        if (f.hasScope()) {
            name("scope");
            scope(f.getScope());
        }
        if (f.getOffendersCount() > 0) {
            name("offenders").append('[');
            first = true;
            for (Offender o : f.getOffendersList()) {
                offender(o);
            }
            endArray();
        }
        string("offenderRanking", f.getOffenderRanking());
        string("message", f.getMessage());
        if (f.hasJava()) {
            name("java");
            java(f.getJava());
        }
        if (f.hasSnapshot()) {
            name("snapshot");
            snapshot(f.getSnapshot());
        }
        if (f.hasContainer()) {
            name("container");
            container(f.getContainer());
        }
        uint32("nsPid", f.getNsPid());
        endObject();
        return line;
    }

    /** One container's JSON object, in the builder the next call reuses (for DiagnosisJson's kept fragments). */
    CharSequence formatContainer(Container c) {
        line.setLength(0);
        first = true;
        container(c);
        return line;
    }

    /** An offender list as the JSON array of ForkFailure.offenders, in the builder the next call reuses. */
    CharSequence formatOffenders(List<Offender> offenders) {
        line.setLength(0);
        line.append('[');
        first = true;
        for (Offender o : offenders) {
            offender(o);
        }
        endArray();
        return line;
    }

    private void evidence(Evidence e) {
        beginObject();
        string("key", e.getKey());
        string("subject", e.getSubject());
        int64("value", e.getValue());
        int64("comparedTo", e.getComparedTo());
        string("relation", e.getRelation());
        endObject();
    }

    private void scope(Scope s) {
        beginObject();
        enumName("kind", s.getKindValue(), s.getKind());
        string("name", s.getName());
        int64("limit", s.getLimit());
        int64("current", s.getCurrent());
        string("knob", s.getKnob());
        if (s.hasContainer()) {
            name("container");
            container(s.getContainer());
        }
        endObject();
    }

    private void container(Container c) {
        beginObject();
        string("runtime", c.getRuntime());
        string("id", c.getId());
        string("name", c.getName());
        string("image", c.getImage());
        string("podUid", c.getPodUid());
        string("qosClass", c.getQosClass());
        string("podNamespace", c.getPodNamespace());
        string("podName", c.getPodName());
        string("containerName", c.getContainerName());
        string("cgroupPath", c.getCgroupPath());
        string("cgroupDriver", c.getCgroupDriver());
        endObject();
    }

    private void offender(Offender o) {
        beginObject();
        uint32("pid", o.getPid());
        string("comm", o.getComm());
        uint32("tasks", o.getTasks());
        uint32("uid", o.getUid());
        string("cmdline", o.getCmdline());
        string("containerId", o.getContainerId());
        uint64("memoryBytes", o.getMemoryBytes());
        if (o.hasContainer()) {
            name("container");
            container(o.getContainer());
        }
        uint32("nsPid", o.getNsPid());
        uint32("processCount", o.getProcessCount());
        string("exe", o.getExe());
        uint32("ancestorPid", o.getAncestorPid());
        string("ancestorComm", o.getAncestorComm());
        endObject();
    }

    private void java(JavaContext j) {
        beginObject();
        string("threadName", j.getThreadName());
        string("main", j.getMain());
        strings("stack", j.getStackList());
        string("newThreadName", j.getNewThreadName());
        endObject();
    }

    private void snapshot(KernelSnapshot s) {
        beginObject();
        if (s.getPidNamespacesCount() > 0) {
            name("pidNamespaces").append('[');
            first = true;
            for (PidNamespaceLevel ns : s.getPidNamespacesList()) {
                beginObject();
                uint32("inum", ns.getInum());
                uint32("level", ns.getLevel());
                uint32("pidsAllocated", ns.getPidsAllocated());
                bool("accepting", ns.getAccepting());
                int32("pidMax", ns.getPidMax());
                endObject();
            }
            endArray();
        }
        if (s.getPidsCgroupsCount() > 0) {
            name("pidsCgroups").append('[');
            first = true;
            for (PidsCgroupLevel level : s.getPidsCgroupsList()) {
                beginObject();
                uint64("cgroupId", level.getCgroupId());
                string("path", level.getPath());
                int64("current", level.getCurrent());
                int64("limit", level.getLimit());
                int64("events", level.getEvents());
                int64("eventsAtEntry", level.getEventsAtEntry());
                int64("limitHits", level.getLimitHits());
                int64("limitHitsAtEntry", level.getLimitHitsAtEntry());
                endObject();
            }
            endArray();
        }
        int64("rlimitNproc", s.getRlimitNproc());
        int64("nprocCount", s.getNprocCount());
        uint32("userNsInum", s.getUserNsInum());
        uint64("capEffective", s.getCapEffective());
        if (s.hasMemcg()) {
            MemcgState m = s.getMemcg();
            name("memcg");
            beginObject();
            uint64("cgroupId", m.getCgroupId());
            string("path", m.getPath());
            uint64("usageBytes", m.getUsageBytes());
            uint64("maxBytes", m.getMaxBytes());
            uint64("failcnt", m.getFailcnt());
            uint64("eventsMax", m.getEventsMax());
            uint64("eventsMaxAtEntry", m.getEventsMaxAtEntry());
            uint64("eventsOom", m.getEventsOom());
            uint64("kmemUsageBytes", m.getKmemUsageBytes());
            uint64("kmemMaxBytes", m.getKmemMaxBytes());
            
            endObject();
        }
        strings("hooks", s.getHooksList());
        int32("allocPidError", s.getAllocPidError());
        int32("pidsCanForkError", s.getPidsCanForkError());
        string("slabCache", s.getSlabCache());
        uint64("pageCounterUsageBytes", s.getPageCounterUsageBytes());
        uint64("pageCounterMaxBytes", s.getPageCounterMaxBytes());
        int64("threadsMax", s.getThreadsMax());
        int64("nrThreads", s.getNrThreads());
        int64("globalPidMax", s.getGlobalPidMax());
        int64("overcommitMemory", s.getOvercommitMemory());
        int64("committedAsBytes", s.getCommittedAsBytes());
        int64("commitLimitBytes", s.getCommitLimitBytes());
        endObject();
    }

    // A value or object inside an object or array: the comma before it, unless it is the first.
    private void separate() {
        if (!first) {
            line.append(',');
        }
        first = false;
    }

    private StringBuilder name(String name) {
        separate();
        line.append('"').append(name).append("\":");
        first = true; // the value that follows needs no comma
        return line;
    }

    private void beginObject() {
        if (!first) {
            line.append(',');
        }
        line.append('{');
        first = true;
    }

    private void endObject() {
        line.append('}');
        first = false;
    }

    private void endArray() {
        line.append(']');
        first = false;
    }

    private void string(String name, String value) {
        if (!value.isEmpty()) {
            name(name);
            quoted(value);
            first = false;
        }
    }

    private void strings(String name, List<String> values) {
        if (!values.isEmpty()) {
            name(name).append('[');
            first = true;
            for (String value : values) {
                separate();
                quoted(value);
            }
            endArray();
        }
    }

    private void bool(String name, boolean value) {
        if (value) {
            name(name).append("true");
            first = false;
        }
    }

    private void int32(String name, int value) {
        if (value != 0) {
            name(name).append(value);
            first = false;
        }
    }

    private void uint32(String name, int value) {
        if (value != 0) {
            name(name).append(Integer.toUnsignedLong(value));
            first = false;
        }
    }

    private void int64(String name, long value) {
        if (value != 0) {
            name(name).append('"').append(value).append('"');
            first = false;
        }
    }

    private void uint64(String name, long value) {
        if (value != 0) {
            StringBuilder b = name(name).append('"');
            if (value >= 0) {
                b.append(value);
            } else {
                b.append(Long.toUnsignedString(value));
            }
            b.append('"');
            first = false;
        }
    }

    private void enumName(String name, int number, ProtocolMessageEnum value) {
        if (number != 0) {
            // An unknown number (a newer producer) has no name: proto3 JSON prints the number then.
            if (value.getDescriptorForType().findValueByNumber(number) == null) {
                name(name).append(number);
            } else {
                name(name).append('"').append(value.getValueDescriptor().getName()).append('"');
            }
            first = false;
        }
    }

    /** RFC 3339 in UTC as protobuf's Timestamps.toString; the date part is reused within a second. */
    private void timestamp(String name, Timestamp value) {
        long seconds = value.getSeconds();
        if (seconds != timestampSecond) {
            timestampPrefix = LocalDateTime.ofEpochSecond(seconds, 0, ZoneOffset.UTC).toString();
            if (timestampPrefix.length() == 16) { // LocalDateTime leaves out ":00" seconds
                timestampPrefix += ":00";
            }
            timestampSecond = seconds;
        }
        StringBuilder b = name(name).append('"').append(timestampPrefix);
        int nanos = value.getNanos();
        if (nanos != 0) {
            b.append('.');
            if (nanos % 1_000_000 == 0) {
                digits(nanos / 1_000_000, 3);
            } else if (nanos % 1_000 == 0) {
                digits(nanos / 1_000, 6);
            } else {
                digits(nanos, 9);
            }
        }
        b.append("Z\"");
        first = false;
    }

    private void digits(int value, int width) {
        int start = line.length();
        line.append(value);
        while (line.length() - start < width) {
            line.insert(start, '0');
        }
    }

    /**
     * A JSON string with Gson's HTML-safe escaping (what JsonFormat uses), appended to the line. Runs of
     * characters that need no escape are copied in bulk: ./forktrace runs C1-compiled code, where a
     * per-character append is the most expensive thing on the per-event path.
     */
    private void quoted(String value) {
        line.append('"');
        int length = value.length();
        int run = 0;
        for (int i = 0; i < length; i++) {
            char c = value.charAt(i);
            if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' && c != '=' && c != '\''
                    && c != '\u2028' && c != '\u2029') {
                continue;
            }
            line.append(value, run, i);
            run = i + 1;
            switch (c) {
                case '"' -> line.append("\\\"");
                case '\\' -> line.append("\\\\");
                case '\n' -> line.append("\\n");
                case '\r' -> line.append("\\r");
                case '\t' -> line.append("\\t");
                case '\b' -> line.append("\\b");
                case '\f' -> line.append("\\f");
                default -> unicodeEscape(c);
            }
        }
        line.append(value, run, length).append('"');
    }

    private void unicodeEscape(char c) {
        line.append("\\u").append(HEX[c >> 12 & 0xf]).append(HEX[c >> 8 & 0xf]).append(HEX[c >> 4 & 0xf])
                .append(HEX[c & 0xf]);
    }
}
