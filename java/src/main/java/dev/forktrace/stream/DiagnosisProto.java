package dev.forktrace.stream;

import com.google.protobuf.CodedOutputStream;
import dev.forktrace.output.EncodedStrings;
import dev.forktrace.pipeline.Diagnosis;
import dev.forktrace.proto.v1.Container;
import dev.forktrace.proto.v1.Offender;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A {@link Diagnosis} as the bytes of a forktrace.v1.ForkFailure message, written field by field with
 * protobuf-java's CodedOutputStream into reused buffers, in field-number order as the generated writeTo
 * does, so the bytes are those of {@code diagnosis.toForkFailure().toByteArray()} (DiagnosisEncodersTest
 * parses and compares them over the recorded events). One encoder per nesting level writes a
 * sub-message, which its parent then copies in with its length. Strings a storm repeats are copied
 * as kept UTF-8 bytes; a container's and an offender list's bytes are made once by the generated classes
 * and kept per instance.
 */
public final class DiagnosisProto {
    private static final int DEPTH = 3;
    private final Bytes[] out = new Bytes[DEPTH];
    private final CodedOutputStream[] coded = new CodedOutputStream[DEPTH];
    private final EncodedStrings strings = new EncodedStrings();
    private final Object[] keptKeys = new Object[8];
    private final byte[][] keptBytes = new byte[8][];
    private int nextKept;

    public DiagnosisProto() {
        for (int i = 0; i < DEPTH; i++) {
            out[i] = new Bytes(i == 0 ? 4096 : 1024);
            coded[i] = CodedOutputStream.newInstance(out[i], i == 0 ? 4096 : 1024);
        }
    }

    /** The ForkFailure's bytes (valid until the next call), from 0 to {@link #length()}. */
    public byte[] encode(Diagnosis d) {
        try {
            out[0].reset();
            write(d, coded[0]);
            coded[0].flush();
            return out[0].bytes;
        } catch (IOException e) {
            throw new UncheckedIOException(e); // Bytes does not throw
        }
    }

    public int length() {
        return out[0].length;
    }

    private void write(Diagnosis d, CodedOutputStream c) throws IOException {
        if (d.sequence() != 0) {
            c.writeUInt64(1, d.sequence());
        }
        CodedOutputStream t = coded[1];
        if (d.timeSeconds() != 0) {
            t.writeInt64(1, d.timeSeconds());
        }
        if (d.timeNanos() != 0) {
            t.writeInt32(2, d.timeNanos());
        }
        nested(0, 2);
        if (d.ktimeNs() != 0) {
            c.writeUInt64(3, d.ktimeNs());
        }
        enumField(c, 4, d.syscall().getNumber());
        string(c, 5, d.errno());
        if (d.errnoValue() != 0) {
            c.writeInt32(6, d.errnoValue());
        }
        uint32(c, 7, d.pid());
        uint32(c, 8, d.tid());
        uint32(c, 9, d.ppid());
        uint32(c, 10, d.uid());
        string(c, 11, d.comm());
        string(c, 12, d.processComm());
        if (d.cloneFlags() != 0) {
            c.writeUInt64(13, d.cloneFlags());
        }
        List<String> flagNames = d.cloneFlagNames();
        for (int i = 0, n = flagNames.size(); i < n; i++) {
            repeatedString(c, 14, flagNames.get(i));
        }
        if (d.thread()) {
            c.writeBool(15, true);
        }
        if (d.cgroupId() != 0) {
            c.writeUInt64(16, d.cgroupId());
        }
        uint32(c, 17, d.pidNamespaceInum());
        uint32(c, 18, d.pidNamespaceLevel());
        enumField(c, 19, d.tier().getNumber());
        enumField(c, 20, d.cause().getNumber());
        enumField(c, 21, d.confidence().getNumber());
        CodedOutputStream e = coded[1];
        for (int i = 0; i < d.evidenceCount(); i++) {
            string(e, 1, d.evidenceKey(i));
            string(e, 2, d.evidenceSubject(i));
            int64(e, 3, d.evidenceValue(i));
            int64(e, 4, d.evidenceComparedTo(i));
            string(e, 5, d.evidenceRelation(i));
            nested(0, 22);
        }
        CodedOutputStream s = coded[1];
        enumField(s, 1, d.scopeKind().getNumber());
        string(s, 2, d.scopeName());
        int64(s, 3, d.scopeLimit());
        int64(s, 4, d.scopeCurrent());
        string(s, 20, d.scopeKnob());
        if (d.scopeContainer() != null) {
            byte[] container = kept(d.scopeContainer());
            s.writeByteArray(21, container);
        }
        nested(0, 23);
        if (!d.offenders().isEmpty()) {
            c.writeRawBytes(kept(d.offenders()));
        }
        string(c, 25, d.offenderRanking());
        string(c, 26, d.message());
        if (d.javaMain() != null) {
            CodedOutputStream j = coded[1];
            string(j, 1, d.comm());
            string(j, 2, d.javaMain());
            nested(0, 27);
        }
        snapshot(d, coded[1]);
        nested(0, 28);
        if (d.container() != null) {
            c.writeByteArray(40, kept(d.container()));
        }
        uint32(c, 41, d.nsPid());
    }

    private void snapshot(Diagnosis d, CodedOutputStream s) throws IOException {
        CodedOutputStream level = coded[2];
        for (int i = 0; i < d.pidNamespaceCount(); i++) {
            uint32(level, 1, d.pidNamespaceInum(i));
            uint32(level, 2, d.pidNamespaceLevel(i));
            uint32(level, 3, d.pidsAllocated(i));
            if (d.pidNamespaceAccepting(i)) {
                level.writeBool(4, true);
            }
            if (d.pidMax(i) != 0) {
                level.writeInt32(5, d.pidMax(i));
            }
            nested(1, 1);
        }
        for (int i = 0; i < d.pidsCgroupCount(); i++) {
            if (d.pidsCgroupId(i) != 0) {
                level.writeUInt64(1, d.pidsCgroupId(i));
            }
            string(level, 2, d.pidsCgroupPath(i));
            int64(level, 3, d.pidsCurrent(i));
            int64(level, 4, d.pidsLimit(i));
            int64(level, 5, d.pidsEvents(i));
            int64(level, 6, d.pidsEventsAtEntry(i));
            int64(level, 7, d.pidsLimitHits(i));
            int64(level, 8, d.pidsLimitHitsAtEntry(i));
            nested(1, 2);
        }
        int64(s, 3, d.rlimitNproc());
        int64(s, 4, d.nprocCount());
        uint32(s, 5, d.userNsInum());
        uint64(s, 6, d.capEffective());
        if (d.hasMemcg()) {
            uint64(level, 1, d.memcgId());
            string(level, 2, d.memcgPath());
            uint64(level, 3, d.memcgUsageBytes());
            uint64(level, 4, d.memcgMaxBytes());
            uint64(level, 5, d.memcgFailcnt());
            uint64(level, 6, d.memcgEventsMax());
            uint64(level, 7, d.memcgEventsMaxAtEntry());
            uint64(level, 8, d.memcgEventsOom());
            uint64(level, 9, d.memcgKmemUsageBytes());
            uint64(level, 10, d.memcgKmemMaxBytes());
            nested(1, 7);
        }
        int hooks = d.hookBits();
        String[] names = dev.forktrace.bpf.EventLayout.EVIDENCE_NAMES;
        for (int bit = 0; hooks != 0 && bit < names.length; bit++) {
            if ((hooks & (1 << bit)) != 0) {
                repeatedString(s, 8, names[bit]);
            }
        }
        if (d.allocPidError() != 0) {
            s.writeInt32(9, d.allocPidError());
        }
        if (d.pidsCanForkError() != 0) {
            s.writeInt32(10, d.pidsCanForkError());
        }
        string(s, 11, d.slabCache());
        uint64(s, 12, d.pageCounterUsageBytes());
        uint64(s, 13, d.pageCounterMaxBytes());
        int64(s, 14, d.threadsMax());
        int64(s, 15, d.nrThreads());
        int64(s, 16, d.globalPidMax());
        int64(s, 17, d.overcommitMemory());
        int64(s, 18, d.committedAsBytes());
        int64(s, 19, d.commitLimitBytes());
    }

    /** The message written at depth + 1 becomes field {@code field} of the one at depth. */
    private void nested(int depth, int field) throws IOException {
        coded[depth + 1].flush();
        Bytes child = out[depth + 1];
        coded[depth].writeByteArray(field, child.bytes, 0, child.length);
        child.reset();
    }

    /**
     * A container's message bytes, or an offender list's as its repeated field 24 (tag, length, message
     * each), kept for a few recent instances.
     */
    private byte[] kept(Object message) throws IOException {
        for (int i = 0; i < keptKeys.length; i++) {
            if (keptKeys[i] == message) {
                return keptBytes[i];
            }
        }
        byte[] bytes;
        if (message instanceof Container container) {
            bytes = container.toByteArray();
        } else {
            @SuppressWarnings("unchecked")
            List<Offender> offenders = (List<Offender>) message;
            int size = 0;
            for (Offender o : offenders) {
                size += CodedOutputStream.computeMessageSize(24, o);
            }
            bytes = new byte[size];
            CodedOutputStream list = CodedOutputStream.newInstance(bytes);
            for (Offender o : offenders) {
                list.writeMessage(24, o);
            }
            list.checkNoSpaceLeft();
        }
        keptKeys[nextKept] = message;
        keptBytes[nextKept] = bytes;
        nextKept = (nextKept + 1) & (keptKeys.length - 1);
        return bytes;
    }

    private void string(CodedOutputStream c, int field, String value) throws IOException {
        if (!value.isEmpty()) {
            repeatedString(c, field, value);
        }
    }

    /** A string written even when empty (an element of a repeated field). */
    private void repeatedString(CodedOutputStream c, int field, String value) throws IOException {
        byte[] utf8 = strings.get(value);
        if (utf8 == null) {
            if (!strings.offer(value)) {
                c.writeString(field, value);
                return;
            }
            utf8 = value.getBytes(StandardCharsets.UTF_8);
            strings.keep(value, utf8);
        }
        c.writeByteArray(field, utf8); // the same wire form as a string: tag, length, UTF-8
    }

    private static void enumField(CodedOutputStream c, int field, int number) throws IOException {
        if (number != 0) {
            c.writeEnum(field, number);
        }
    }

    private static void uint32(CodedOutputStream c, int field, int value) throws IOException {
        if (value != 0) {
            c.writeUInt32(field, value);
        }
    }

    private static void int64(CodedOutputStream c, int field, long value) throws IOException {
        if (value != 0) {
            c.writeInt64(field, value);
        }
    }

    private static void uint64(CodedOutputStream c, int field, long value) throws IOException {
        if (value != 0) {
            c.writeUInt64(field, value);
        }
    }

    /** A growable byte array that CodedOutputStream flushes into. */
    private static final class Bytes extends OutputStream {
        byte[] bytes;
        int length;

        Bytes(int capacity) {
            bytes = new byte[capacity];
        }

        void reset() {
            length = 0;
        }

        @Override
        public void write(int b) {
            ensure(1);
            bytes[length++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int n) {
            ensure(n);
            System.arraycopy(b, off, bytes, length, n);
            length += n;
        }

        private void ensure(int more) {
            if (length + more > bytes.length) {
                bytes = java.util.Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
            }
        }
    }
}
