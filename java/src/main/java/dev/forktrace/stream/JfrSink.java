package dev.forktrace.stream;

import dev.forktrace.output.FailureSink;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.Offender;
import java.io.IOException;
import java.nio.file.Path;
import java.util.stream.Collectors;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Recording;

/**
 * Writes failures as {@code forktrace.ForkFailure} JDK Flight Recorder events to a .jfr file, readable with
 * {@code jfr print --events forktrace.ForkFailure FILE.jfr} and JDK Mission Control. A recording of its own with
 * only that event enabled; the file is written at {@link #close} (a JFR file cannot be read before its chunk is
 * complete), so a crash loses it: record a protobuf stream too when that matters, and convert it with
 * {@code forktrace export --jfr}.
 */
public final class JfrSink implements FailureSink {
    private final Path file;
    private final Recording recording;
    private long events;
    private boolean closed;

    public JfrSink(Path file) throws IOException {
        this.file = file;
        if (!FlightRecorder.isAvailable()) {
            throw new IOException("cannot write " + file + ": JDK Flight Recorder is not available in this JVM");
        }
        FlightRecorder.register(ForkFailureEvent.class);
        recording = new Recording();
        recording.setName("forktrace");
        recording.setToDisk(true);
        recording.enable(ForkFailureEvent.class); // nothing else: the new Recording has no other settings
        recording.start();
    }

    @Override
    public void accept(ForkFailure f) {
        ForkFailureEvent e = new ForkFailureEvent();
        fill(e, f);
        e.commit();
        events++;
    }

    static void fill(ForkFailureEvent e, ForkFailure f) {
        e.failureTime = f.hasTime() ? f.getTime().getSeconds() * 1000 + f.getTime().getNanos() / 1_000_000 : 0;
        e.ktimeNs = f.getKtimeNs();
        e.sequence = f.getSequence();
        e.pid = f.getPid();
        e.tid = f.getTid();
        e.ppid = f.getPpid();
        e.uid = f.getUid();
        e.comm = f.getComm();
        e.processComm = f.getProcessComm();
        e.syscall = f.getSyscall().name();
        e.errno = f.getErrno();
        e.errnoValue = f.getErrnoValue();
        e.thread = f.getThread();
        e.cloneFlags = String.join("|", f.getCloneFlagNamesList());
        e.cause = enumName(f.getCause(), f.getCauseValue());
        e.confidence = enumName(f.getConfidence(), f.getConfidenceValue());
        e.scopeKind = enumName(f.getScope().getKind(), f.getScope().getKindValue());
        e.scopeName = f.getScope().getName();
        e.scopeLimit = f.getScope().getLimit();
        e.scopeCurrent = f.getScope().getCurrent();
        if (f.getOffendersCount() > 0) {
            Offender top = f.getOffenders(0);
            e.topOffenderPid = top.getPid();
            e.topOffenderComm = top.getComm();
            e.topOffenderTasks = top.getTasks();
            e.topOffenderMemory = top.getMemoryBytes();
        }
        e.offenders = f.getOffendersList().stream().map(o -> o.getPid() + " " + o.getComm() + " " + o.getTasks())
                .collect(Collectors.joining("; "));
        e.message = f.getMessage();
        e.javaThread = f.getJava().getThreadName();
        e.javaNewThread = f.getJava().getNewThreadName();
        e.javaStack = String.join("\n", f.getJava().getStackList());
        e.tier = enumName(f.getTier(), f.getTierValue());
        e.cgroupId = f.getCgroupId();
    }

    private static String enumName(Enum<?> value, int number) {
        return "UNRECOGNIZED".equals(value.name()) ? Integer.toString(number) : value.name();
    }

    /** Events committed so far. */
    public long events() {
        return events;
    }

    /** Stops the recording and writes the file. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            recording.stop();
            recording.dump(file);
        } catch (IOException e) {
            throw new IOException("writing " + file + " failed (" + events + " JFR events): " + e.getMessage(), e);
        } finally {
            recording.close();
        }
    }
}
