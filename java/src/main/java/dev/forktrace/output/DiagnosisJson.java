package dev.forktrace.output;

import dev.forktrace.pipeline.Diagnosis;
import dev.forktrace.proto.v1.Container;
import dev.forktrace.proto.v1.Offender;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;

/**
 * A {@link Diagnosis} as one JSON line, written straight into a reused byte array: the same bytes as
 * {@link FailureJson} (protobuf's canonical JSON) of the same failure, without building the message or a
 * String. Field names are constants, numbers are written digit by digit, and what repeats in a storm is
 * copied from bytes kept from an earlier line: the strings ({@link EncodedStrings}), and the offenders and
 * containers (the enrichment caches hand out the same message instances while they are fresh), whose JSON
 * FailureJson makes once.
 *
 * <p>DiagnosisEncodersTest compares every line with FailureJson's over the recorded events and
 * over failures with every field set; FailureJsonTest ties FailureJson to JsonFormat.
 */
public final class DiagnosisJson {
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private byte[] buf = new byte[4096];
    private int len;
    private boolean first;
    private final EncodedStrings strings = new EncodedStrings();
    private final Fragments fragments = new Fragments();
    private final FailureJson fallback = new FailureJson();
    private long timestampSecond = Long.MIN_VALUE;
    private byte[] timestampPrefix;

    /** The line's bytes (valid until the next call), from 0 to {@link #length()}, newline included. */
    public byte[] encodeLine(Diagnosis d) {
        len = 0;
        first = true;
        write(d);
        ensure(1);
        buf[len++] = '\n';
        return buf;
    }

    public int length() {
        return len;
    }

    private void write(Diagnosis d) {
        beginObject();
        uint64(SEQUENCE, d.sequence());
        timestamp(d.timeSeconds(), d.timeNanos());
        uint64(KTIME_NS, d.ktimeNs());
        enumName(SYSCALL, Names.SYSCALL, d.syscall().getNumber());
        string(ERRNO, d.errno());
        int32(ERRNO_VALUE, d.errnoValue());
        uint32(PID, d.pid());
        uint32(TID, d.tid());
        uint32(PPID, d.ppid());
        uint32(UID, d.uid());
        string(COMM, d.comm());
        string(PROCESS_COMM, d.processComm());
        uint64(CLONE_FLAGS, d.cloneFlags());
        strings(CLONE_FLAG_NAMES, d.cloneFlagNames());
        bool(THREAD, d.thread());
        uint64(CGROUP_ID, d.cgroupId());
        uint32(PID_NAMESPACE_INUM, d.pidNamespaceInum());
        uint32(PID_NAMESPACE_LEVEL, d.pidNamespaceLevel());
        enumName(TIER, Names.TIER, d.tier().getNumber());
        enumName(CAUSE, Names.CAUSE, d.cause().getNumber());
        enumName(CONFIDENCE, Names.CONFIDENCE, d.confidence().getNumber());
        if (d.evidenceCount() > 0) {
            name(EVIDENCE);
            raw('[');
            first = true;
            for (int i = 0; i < d.evidenceCount(); i++) {
                beginObject();
                string(KEY, d.evidenceKey(i));
                string(SUBJECT, d.evidenceSubject(i));
                int64(VALUE, d.evidenceValue(i));
                int64(COMPARED_TO, d.evidenceComparedTo(i));
                string(RELATION, d.evidenceRelation(i));
                endObject();
            }
            endArray();
        }
        name(SCOPE);
        beginObject();
        enumName(KIND, Names.SCOPE_KIND, d.scopeKind().getNumber());
        string(NAME, d.scopeName());
        int64(LIMIT, d.scopeLimit());
        int64(CURRENT, d.scopeCurrent());
        string(KNOB, d.scopeKnob());
        if (d.scopeContainer() != null) {
            name(CONTAINER);
            fragment(d.scopeContainer());
        }
        endObject();
        if (!d.offenders().isEmpty()) {
            name(OFFENDERS);
            fragment(d.offenders());
        }
        string(OFFENDER_RANKING, d.offenderRanking());
        string(MESSAGE, d.message());
        if (d.javaMain() != null) {
            name(JAVA);
            beginObject();
            string(THREAD_NAME, d.comm());
            string(MAIN, d.javaMain());
            endObject();
        }
        name(SNAPSHOT);
        snapshot(d);
        if (d.container() != null) {
            name(CONTAINER);
            fragment(d.container());
        }
        uint32(NS_PID, d.nsPid());
        endObject();
    }

    private void snapshot(Diagnosis d) {
        beginObject();
        if (d.pidNamespaceCount() > 0) {
            name(PID_NAMESPACES);
            raw('[');
            first = true;
            for (int i = 0; i < d.pidNamespaceCount(); i++) {
                beginObject();
                uint32(INUM, d.pidNamespaceInum(i));
                uint32(LEVEL, d.pidNamespaceLevel(i));
                uint32(PIDS_ALLOCATED, d.pidsAllocated(i));
                bool(ACCEPTING, d.pidNamespaceAccepting(i));
                int32(PID_MAX, d.pidMax(i));
                endObject();
            }
            endArray();
        }
        if (d.pidsCgroupCount() > 0) {
            name(PIDS_CGROUPS);
            raw('[');
            first = true;
            for (int i = 0; i < d.pidsCgroupCount(); i++) {
                beginObject();
                uint64(CGROUP_ID, d.pidsCgroupId(i));
                string(PATH, d.pidsCgroupPath(i));
                int64(CURRENT, d.pidsCurrent(i));
                int64(LIMIT, d.pidsLimit(i));
                int64(EVENTS, d.pidsEvents(i));
                int64(EVENTS_AT_ENTRY, d.pidsEventsAtEntry(i));
                int64(LIMIT_HITS, d.pidsLimitHits(i));
                int64(LIMIT_HITS_AT_ENTRY, d.pidsLimitHitsAtEntry(i));
                endObject();
            }
            endArray();
        }
        int64(RLIMIT_NPROC, d.rlimitNproc());
        int64(NPROC_COUNT, d.nprocCount());
        uint32(USER_NS_INUM, d.userNsInum());
        uint64(CAP_EFFECTIVE, d.capEffective());
        if (d.hasMemcg()) {
            name(MEMCG);
            beginObject();
            uint64(CGROUP_ID, d.memcgId());
            string(PATH, d.memcgPath());
            uint64(USAGE_BYTES, d.memcgUsageBytes());
            uint64(MAX_BYTES, d.memcgMaxBytes());
            uint64(FAILCNT, d.memcgFailcnt());
            uint64(EVENTS_MAX, d.memcgEventsMax());
            uint64(EVENTS_MAX_AT_ENTRY, d.memcgEventsMaxAtEntry());
            uint64(EVENTS_OOM, d.memcgEventsOom());
            uint64(KMEM_USAGE_BYTES, d.memcgKmemUsageBytes());
            uint64(KMEM_MAX_BYTES, d.memcgKmemMaxBytes());
            endObject();
        }
        int hooks = d.hookBits();
        if (hooks != 0) {
            name(HOOKS);
            raw('[');
            first = true;
            String[] names = dev.forktrace.bpf.EventLayout.EVIDENCE_NAMES;
            for (int bit = 0; bit < names.length; bit++) {
                if ((hooks & (1 << bit)) != 0) {
                    separate();
                    quoted(names[bit]);
                }
            }
            endArray();
        }
        int32(ALLOC_PID_ERROR, d.allocPidError());
        int32(PIDS_CAN_FORK_ERROR, d.pidsCanForkError());
        string(SLAB_CACHE, d.slabCache());
        uint64(PAGE_COUNTER_USAGE_BYTES, d.pageCounterUsageBytes());
        uint64(PAGE_COUNTER_MAX_BYTES, d.pageCounterMaxBytes());
        int64(THREADS_MAX, d.threadsMax());
        int64(NR_THREADS, d.nrThreads());
        int64(GLOBAL_PID_MAX, d.globalPidMax());
        int64(OVERCOMMIT_MEMORY, d.overcommitMemory());
        int64(COMMITTED_AS_BYTES, d.committedAsBytes());
        int64(COMMIT_LIMIT_BYTES, d.commitLimitBytes());
        endObject();
    }

    /** The JSON of a container or of the offender list, kept per instance (FailureJson makes it on a miss). */
    private void fragment(Object message) {
        byte[] bytes = fragments.get(message);
        if (bytes == null) {
            @SuppressWarnings("unchecked")
            CharSequence json = message instanceof Container c ? fallback.formatContainer(c)
                    : fallback.formatOffenders((List<Offender>) message);
            bytes = json.toString().getBytes(StandardCharsets.UTF_8);
            fragments.keep(message, bytes);
        }
        rawBytes(bytes, bytes.length);
        first = false;
    }

    /** A few recent messages' JSON by identity (the scope's, the process's container; an offender list or two). */
    private static final class Fragments {
        private static final int SLOTS = 8;
        private final Object[] keys = new Object[SLOTS];
        private final byte[][] values = new byte[SLOTS][];
        private int next;

        byte[] get(Object key) {
            for (int i = 0; i < SLOTS; i++) {
                if (keys[i] == key) {
                    return values[i];
                }
            }
            return null;
        }

        void keep(Object key, byte[] value) {
            keys[next] = key;
            values[next] = value;
            next = (next + 1) & (SLOTS - 1);
        }
    }

    // Structure, exactly as FailureJson: a comma before every value or object but the first.
    private void separate() {
        if (!first) {
            raw(',');
        }
        first = false;
    }

    private void name(byte[] quotedName) {
        separate();
        rawBytes(quotedName, quotedName.length);
        first = true;
    }

    private void beginObject() {
        if (!first) {
            raw(',');
        }
        raw('{');
        first = true;
    }

    private void endObject() {
        raw('}');
        first = false;
    }

    private void endArray() {
        raw(']');
        first = false;
    }

    private void string(byte[] name, String value) {
        if (!value.isEmpty()) {
            name(name);
            quoted(value);
            first = false;
        }
    }

    private void strings(byte[] name, List<String> values) {
        if (!values.isEmpty()) {
            name(name);
            raw('[');
            first = true;
            for (int i = 0, n = values.size(); i < n; i++) {
                separate();
                quoted(values.get(i));
            }
            endArray();
        }
    }

    private void bool(byte[] name, boolean value) {
        if (value) {
            name(name);
            rawBytes(TRUE, TRUE.length);
            first = false;
        }
    }

    private void int32(byte[] name, int value) {
        if (value != 0) {
            name(name);
            decimal(value);
            first = false;
        }
    }

    private void uint32(byte[] name, int value) {
        if (value != 0) {
            name(name);
            decimal(Integer.toUnsignedLong(value));
            first = false;
        }
    }

    private void int64(byte[] name, long value) {
        if (value != 0) {
            name(name);
            raw('"');
            decimal(value);
            raw('"');
            first = false;
        }
    }

    private void uint64(byte[] name, long value) {
        if (value != 0) {
            name(name);
            raw('"');
            if (value >= 0) {
                decimal(value);
            } else { // above Long.MAX_VALUE: all but the last digit, then the last
                long quotient = (value >>> 1) / 5;
                decimal(quotient);
                raw((char) ('0' + (value - quotient * 10)));
            }
            raw('"');
            first = false;
        }
    }

    private void enumName(byte[] name, byte[][] names, int number) {
        if (number != 0) {
            name(name);
            byte[] quoted = number > 0 && number < names.length ? names[number] : null;
            if (quoted == null) {
                decimal(number); // proto3 JSON prints a number that has no name
            } else {
                rawBytes(quoted, quoted.length);
            }
            first = false;
        }
    }

    /** RFC 3339 in UTC with 0, 3, 6 or 9 fraction digits, as FailureJson; the date part is kept per second. */
    private void timestamp(long seconds, int nanos) {
        if (seconds != timestampSecond) {
            String prefix = LocalDateTime.ofEpochSecond(seconds, 0, ZoneOffset.UTC).toString();
            if (prefix.length() == 16) { // LocalDateTime leaves out ":00" seconds
                prefix += ":00";
            }
            timestampPrefix = ("\"" + prefix).getBytes(StandardCharsets.US_ASCII);
            timestampSecond = seconds;
        }
        name(TIME);
        rawBytes(timestampPrefix, timestampPrefix.length);
        if (nanos != 0) {
            raw('.');
            if (nanos % 1_000_000 == 0) {
                digits(nanos / 1_000_000, 3);
            } else if (nanos % 1_000 == 0) {
                digits(nanos / 1_000, 6);
            } else {
                digits(nanos, 9);
            }
        }
        raw('Z');
        raw('"');
        first = false;
    }

    private void digits(int value, int width) {
        ensure(width);
        for (int i = width - 1; i >= 0; i--) {
            buf[len + i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        len += width;
    }

    private void decimal(long value) {
        ensure(20);
        if (value < 0) {
            if (value == Long.MIN_VALUE) {
                byte[] min = Long.toString(value).getBytes(StandardCharsets.US_ASCII);
                rawBytes(min, min.length);
                return;
            }
            buf[len++] = '-';
            value = -value;
        }
        int digits = 1;
        for (long v = value; v >= 10; v /= 10) {
            digits++;
        }
        for (int i = len + digits - 1; i >= len; i--) {
            buf[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        len += digits;
    }

    /** A JSON string with Gson's HTML-safe escaping (as FailureJson), UTF-8; repeated instances are copied. */
    private void quoted(String value) {
        byte[] kept = strings.get(value);
        if (kept != null) {
            rawBytes(kept, kept.length);
            return;
        }
        int start = len;
        escape(value);
        if (strings.offer(value)) {
            strings.keep(value, java.util.Arrays.copyOfRange(buf, start, len));
        }
    }

    private void escape(String value) {
        int n = value.length();
        ensure(n * 6 + 2);
        byte[] b = buf;
        int at = len;
        b[at++] = '"';
        for (int i = 0; i < n; i++) {
            char c = value.charAt(i);
            if (c < 0x80) {
                if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' && c != '=' && c != '\'') {
                    b[at++] = (byte) c;
                    continue;
                }
                b[at++] = '\\';
                switch (c) {
                    case '"' -> b[at++] = '"';
                    case '\\' -> b[at++] = '\\';
                    case '\n' -> b[at++] = 'n';
                    case '\r' -> b[at++] = 'r';
                    case '\t' -> b[at++] = 't';
                    case '\b' -> b[at++] = 'b';
                    case '\f' -> b[at++] = 'f';
                    default -> at = unicodeEscape(b, at, c);
                }
            } else if (c == '\u2028' || c == '\u2029') {
                b[at++] = '\\';
                at = unicodeEscape(b, at, c);
            } else if (c < 0x800) {
                b[at++] = (byte) (0xc0 | c >> 6);
                b[at++] = (byte) (0x80 | c & 0x3f);
            } else if (Character.isSurrogate(c)) {
                int cp = Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(value.charAt(i + 1))
                        ? Character.toCodePoint(c, value.charAt(++i)) : -1;
                if (cp < 0) {
                    b[at++] = '?'; // an unpaired surrogate, as String.getBytes(UTF_8) writes it
                } else {
                    b[at++] = (byte) (0xf0 | cp >> 18);
                    b[at++] = (byte) (0x80 | cp >> 12 & 0x3f);
                    b[at++] = (byte) (0x80 | cp >> 6 & 0x3f);
                    b[at++] = (byte) (0x80 | cp & 0x3f);
                }
            } else {
                b[at++] = (byte) (0xe0 | c >> 12);
                b[at++] = (byte) (0x80 | c >> 6 & 0x3f);
                b[at++] = (byte) (0x80 | c & 0x3f);
            }
        }
        b[at++] = '"';
        len = at;
    }

    /** "u" and four hex digits (the backslash is written by the caller). */
    private static int unicodeEscape(byte[] b, int at, char c) {
        b[at++] = 'u';
        b[at++] = HEX[c >> 12 & 0xf];
        b[at++] = HEX[c >> 8 & 0xf];
        b[at++] = HEX[c >> 4 & 0xf];
        b[at++] = HEX[c & 0xf];
        return at;
    }

    private void raw(char c) {
        ensure(1);
        buf[len++] = (byte) c;
    }

    private void rawBytes(byte[] bytes, int n) {
        ensure(n);
        System.arraycopy(bytes, 0, buf, len, n);
        len += n;
    }

    private void ensure(int more) {
        if (len + more > buf.length) {
            buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
        }
    }

    /** Enum names as quoted JSON strings, by number. */
    private static final class Names {
        static final byte[][] SYSCALL = of(dev.forktrace.proto.v1.Syscall.getDescriptor());
        static final byte[][] TIER = of(dev.forktrace.proto.v1.Tier.getDescriptor());
        static final byte[][] CAUSE = of(dev.forktrace.proto.v1.Cause.getDescriptor());
        static final byte[][] CONFIDENCE = of(dev.forktrace.proto.v1.Confidence.getDescriptor());
        static final byte[][] SCOPE_KIND = of(dev.forktrace.proto.v1.ScopeKind.getDescriptor());

        private static byte[][] of(com.google.protobuf.Descriptors.EnumDescriptor type) {
            int max = 0;
            for (var v : type.getValues()) {
                max = Math.max(max, v.getNumber());
            }
            byte[][] names = new byte[max + 1][];
            for (var v : type.getValues()) {
                names[v.getNumber()] = ("\"" + v.getName() + "\"").getBytes(StandardCharsets.US_ASCII);
            }
            return names;
        }
    }

    private static byte[] key(String name) {
        return ("\"" + name + "\":").getBytes(StandardCharsets.US_ASCII);
    }

    private static final byte[] TRUE = "true".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SEQUENCE = key("sequence"), TIME = key("time"), KTIME_NS = key("ktimeNs"),
            SYSCALL = key("syscall"), ERRNO = key("errno"), ERRNO_VALUE = key("errnoValue"), PID = key("pid"),
            TID = key("tid"), PPID = key("ppid"), UID = key("uid"), COMM = key("comm"),
            PROCESS_COMM = key("processComm"), CLONE_FLAGS = key("cloneFlags"),
            CLONE_FLAG_NAMES = key("cloneFlagNames"), THREAD = key("thread"), CGROUP_ID = key("cgroupId"),
            PID_NAMESPACE_INUM = key("pidNamespaceInum"), PID_NAMESPACE_LEVEL = key("pidNamespaceLevel"),
            TIER = key("tier"), CAUSE = key("cause"), CONFIDENCE = key("confidence"), EVIDENCE = key("evidence"),
            KEY = key("key"), SUBJECT = key("subject"), VALUE = key("value"), COMPARED_TO = key("comparedTo"),
            RELATION = key("relation"), SCOPE = key("scope"), KIND = key("kind"), NAME = key("name"),
            LIMIT = key("limit"), CURRENT = key("current"), KNOB = key("knob"), CONTAINER = key("container"),
            OFFENDERS = key("offenders"), OFFENDER_RANKING = key("offenderRanking"), MESSAGE = key("message"),
            JAVA = key("java"), THREAD_NAME = key("threadName"), MAIN = key("main"), SNAPSHOT = key("snapshot"),
            NS_PID = key("nsPid"), PID_NAMESPACES = key("pidNamespaces"), INUM = key("inum"), LEVEL = key("level"),
            PIDS_ALLOCATED = key("pidsAllocated"), ACCEPTING = key("accepting"), PID_MAX = key("pidMax"),
            PIDS_CGROUPS = key("pidsCgroups"), PATH = key("path"), EVENTS = key("events"),
            EVENTS_AT_ENTRY = key("eventsAtEntry"), LIMIT_HITS = key("limitHits"),
            LIMIT_HITS_AT_ENTRY = key("limitHitsAtEntry"), RLIMIT_NPROC = key("rlimitNproc"),
            NPROC_COUNT = key("nprocCount"), USER_NS_INUM = key("userNsInum"), CAP_EFFECTIVE = key("capEffective"),
            MEMCG = key("memcg"), USAGE_BYTES = key("usageBytes"), MAX_BYTES = key("maxBytes"),
            FAILCNT = key("failcnt"), EVENTS_MAX = key("eventsMax"), EVENTS_MAX_AT_ENTRY = key("eventsMaxAtEntry"),
            EVENTS_OOM = key("eventsOom"), KMEM_USAGE_BYTES = key("kmemUsageBytes"),
            KMEM_MAX_BYTES = key("kmemMaxBytes"), HOOKS = key("hooks"), ALLOC_PID_ERROR = key("allocPidError"),
            PIDS_CAN_FORK_ERROR = key("pidsCanForkError"), SLAB_CACHE = key("slabCache"),
            PAGE_COUNTER_USAGE_BYTES = key("pageCounterUsageBytes"),
            PAGE_COUNTER_MAX_BYTES = key("pageCounterMaxBytes"), THREADS_MAX = key("threadsMax"),
            NR_THREADS = key("nrThreads"), GLOBAL_PID_MAX = key("globalPidMax"),
            OVERCOMMIT_MEMORY = key("overcommitMemory"), COMMITTED_AS_BYTES = key("committedAsBytes"),
            COMMIT_LIMIT_BYTES = key("commitLimitBytes");
}
