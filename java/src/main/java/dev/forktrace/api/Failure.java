package dev.forktrace.api;

import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.Confidence;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.ScopeKind;
import java.time.Instant;
import java.util.List;

/**
 * One failed task creation and why, as an immutable value. {@link #proto()} gives the complete
 * forktrace.v1.ForkFailure (kernel snapshot, evidence) for tools that want every field.
 */
public record Failure(Instant time, String syscall, String errno, long pid, long tid, String threadName,
        String processName, boolean thread, Cause cause, Confidence confidence, Scope scope, List<Offender> offenders,
        String message, List<String> javaStack, ForkFailure proto) {

    /** The limit that refused the task. */
    public record Scope(ScopeKind kind, String name, long limit, long current) {}

    /** A process holding the limited resource at failure time. */
    public record Offender(long pid, String name, long tasks, long memoryBytes, String commandLine) {}

    public Failure {
        offenders = List.copyOf(offenders);
        javaStack = List.copyOf(javaStack);
    }

    public static Failure of(ForkFailure f) {
        List<Offender> offenders = f.getOffendersList().stream()
                .map(o -> new Offender(o.getPid(), o.getComm(), o.getTasks(), o.getMemoryBytes(), o.getCmdline()))
                .toList();
        return new Failure(Instant.ofEpochSecond(f.getTime().getSeconds(), f.getTime().getNanos()),
                f.getSyscall().name(), f.getErrno(), f.getPid(), f.getTid(), f.getComm(), f.getProcessComm(),
                f.getThread(), f.getCause(), f.getConfidence(),
                new Scope(f.getScope().getKind(), f.getScope().getName(), f.getScope().getLimit(),
                        f.getScope().getCurrent()),
                offenders, f.getMessage(), f.getJava().getStackList(), f);
    }

    /** One line: cause, scope and the explanation. */
    @Override
    public String toString() {
        return cause + " [" + confidence + "] " + syscall.toLowerCase() + " " + errno + " by '" + threadName + "' (pid "
                + pid + "): " + message;
    }
}
