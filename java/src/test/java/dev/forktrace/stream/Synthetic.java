package dev.forktrace.stream;

import com.google.protobuf.Timestamp;
import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.ClockReference;
import dev.forktrace.proto.v1.Confidence;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.JavaContext;
import dev.forktrace.proto.v1.Offender;
import dev.forktrace.proto.v1.Scope;
import dev.forktrace.proto.v1.ScopeKind;
import dev.forktrace.proto.v1.Stats;
import dev.forktrace.proto.v1.StreamHeader;
import dev.forktrace.proto.v1.StreamRecord;
import dev.forktrace.proto.v1.Syscall;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Synthetic events for the stream tests: realistic shapes, no kernel needed. */
final class Synthetic {
    static final long START_SECONDS = 1_795_000_000L; // 2026-11-18
    static final long BOOT_MONOTONIC_NS = 5_000_000_000_000L;
    static final ClockReference CLOCKS = ClockReference.newBuilder().setMonotonicNs(BOOT_MONOTONIC_NS)
            .setBoottimeNs(BOOT_MONOTONIC_NS + 7_000_000_000L).setRealtimeNs(START_SECONDS * 1_000_000_000L).build();

    private Synthetic() {}

    static StreamHeader header() {
        return StreamHeader.newBuilder().setSchemaVersion(1).setHostName("synthetic-host").setKernelRelease("6.18.0")
                .setBootId("00000000-0000-4000-8000-000000000001").setForktraceVersion("0.1.0")
                .setStartTime(Timestamp.newBuilder().setSeconds(START_SECONDS)).addFilters("--cgroup /app")
                .setClocks(CLOCKS).build();
    }

    /** Failure i: three causes and scopes in rotation, half a second apart. */
    static ForkFailure failure(int i) {
        long offsetNs = i * 500_000_000L;
        ForkFailure.Builder f = ForkFailure.newBuilder()
                .setSequence(i + 1)
                .setTime(Timestamp.newBuilder().setSeconds(START_SECONDS + offsetNs / 1_000_000_000L)
                        .setNanos((int) (offsetNs % 1_000_000_000L)))
                .setKtimeNs(BOOT_MONOTONIC_NS + offsetNs)
                .setPid(1000 + i % 4).setTid(2000 + i).setPpid(1).setUid(1000)
                .setComm("worker-" + (i % 4)).setProcessComm("java").setErrnoValue(11).setErrno("EAGAIN")
                .setThread(true).addCloneFlagNames("CLONE_VM").addCloneFlagNames("CLONE_THREAD");
        switch (i % 3) {
            case 0 -> f.setSyscall(Syscall.CLONE3).setCause(Cause.PIDS_CGROUP_LIMIT).setConfidence(Confidence.CONFIRMED)
                    .setScope(Scope.newBuilder().setKind(ScopeKind.CGROUP).setName("/sys/fs/cgroup/pids/app")
                            .setLimit(64).setCurrent(64))
                    .addOffenders(Offender.newBuilder().setPid(1000).setComm("java").setTasks(60).setUid(1000))
                    .addOffenders(Offender.newBuilder().setPid(1003).setComm("sidecar").setTasks(4).setUid(1000))
                    .setMessage("pids cgroup /app is at its limit of 64 tasks; java (pid 1000) holds 60")
                    .setJava(JavaContext.newBuilder().setThreadName("pool-1-thread-" + i).setMain("com.example.App"));
            case 1 -> f.setSyscall(Syscall.CLONE).setCause(Cause.RLIMIT_NPROC).setConfidence(Confidence.INFERRED)
                    .setScope(Scope.newBuilder().setKind(ScopeKind.USER).setName("uid 1000 (app)").setLimit(4096)
                            .setCurrent(4096))
                    .addOffenders(Offender.newBuilder().setPid(1001).setComm("forkbomb").setTasks(4000))
                    .setMessage("user app is at RLIMIT_NPROC 4096");
            default -> f.setSyscall(Syscall.FORK).setCause(Cause.THREADS_MAX).setConfidence(Confidence.CONFIRMED)
                    .setThread(false)
                    .setScope(Scope.newBuilder().setKind(ScopeKind.SYSTEM).setName("kernel.threads-max")
                            .setLimit(Long.MAX_VALUE).setCurrent(31000))
                    .setMessage("kernel.threads-max reached");
        }
        return f.build();
    }

    static Stats stats(long delivered, long dropped, boolean last) {
        return Stats.newBuilder().setTime(Timestamp.newBuilder().setSeconds(START_SECONDS + delivered))
                .setDelivered(delivered).setDropped(dropped).setCollapsed(delivered / 10).setFinal(last).build();
    }

    /** A whole stream: header, n failures with Stats every 10, final Stats; records returned in order. */
    static List<StreamRecord> records(int n) {
        List<StreamRecord> records = new ArrayList<>();
        records.add(StreamRecord.newBuilder().setHeader(header()).build());
        for (int i = 0; i < n; i++) {
            records.add(StreamRecord.newBuilder().setFailure(failure(i)).build());
            if (i % 10 == 9) {
                records.add(StreamRecord.newBuilder().setStats(stats(i + 1, 2, false)).build());
            }
        }
        records.add(StreamRecord.newBuilder().setStats(stats(n, 3, true)).build());
        return records;
    }

    /** The records with their header given a capture id: another capture than the same records without it. */
    static List<StreamRecord> withCaptureId(List<StreamRecord> records, String captureId) {
        List<StreamRecord> copy = new ArrayList<>(records);
        copy.set(0, StreamRecord.newBuilder().setHeader(records.get(0).getHeader().toBuilder().setCaptureId(captureId))
                .build());
        return copy;
    }

    static byte[] encode(List<StreamRecord> records) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            for (StreamRecord r : records) {
                r.writeDelimitedTo(out);
            }
        } catch (IOException impossible) {
            throw new AssertionError(impossible);
        }
        return out.toByteArray();
    }

    /** End offset of each record in encode(records). */
    static long[] ends(List<StreamRecord> records) {
        long[] ends = new long[records.size()];
        long at = 0;
        for (int i = 0; i < records.size(); i++) {
            int size = records.get(i).getSerializedSize();
            at += com.google.protobuf.CodedOutputStream.computeUInt32SizeNoTag(size) + size;
            ends[i] = at;
        }
        return ends;
    }
}
