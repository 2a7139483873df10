package dev.forktrace.stream;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timestamp;

/**
 * A failed fork, clone or thread creation as a JDK Flight Recorder event: ForkFailure flattened (JFR events
 * hold only primitive and string fields). No stack trace: it would be forktrace's consumer thread, not the
 * failing one (that is in javaStack, when the agent reported it).
 */
@Name(ForkFailureEvent.NAME)
@Label("Fork Failure")
@Category({"forktrace"})
@Description("The kernel refused to create a process or thread; forktrace's attribution of why and who holds the limit.")
@StackTrace(false)
public final class ForkFailureEvent extends Event {
    public static final String NAME = "forktrace.ForkFailure";

    @Label("Failure Time")
    @Description("When the syscall failed (wall clock); the event's own start time is when it was recorded")
    @Timestamp(Timestamp.MILLISECONDS_SINCE_EPOCH)
    long failureTime;

    @Label("Kernel Time")
    @Description("CLOCK_MONOTONIC at the failure, ns")
    long ktimeNs;

    @Label("Sequence")
    long sequence;

    @Label("PID")
    int pid;

    @Label("TID")
    int tid;

    @Label("Parent PID")
    int ppid;

    @Label("UID")
    int uid;

    @Label("Thread Name")
    @Description("Name of the thread that called clone (comm)")
    String comm;

    @Label("Process Name")
    String processComm;

    @Label("Syscall")
    String syscall;

    @Label("Errno")
    String errno;

    @Label("Errno Value")
    int errnoValue;

    @Label("Creating Thread")
    @Description("True when a thread (CLONE_THREAD) was being created")
    boolean thread;

    @Label("Clone Flags")
    String cloneFlags;

    @Label("Cause")
    String cause;

    @Label("Confidence")
    String confidence;

    @Label("Scope Kind")
    String scopeKind;

    @Label("Scope Name")
    String scopeName;

    @Label("Scope Limit")
    long scopeLimit;

    @Label("Scope Current")
    long scopeCurrent;

    @Label("Top Offender PID")
    int topOffenderPid;

    @Label("Top Offender Name")
    String topOffenderComm;

    @Label("Top Offender Tasks")
    int topOffenderTasks;

    @Label("Top Offender Memory")
    @DataAmount
    long topOffenderMemory;

    @Label("Offenders")
    @Description("Every named offender: pid comm tasks, separated by semicolons")
    String offenders;

    @Label("Message")
    String message;

    @Label("Java Thread")
    String javaThread;

    @Label("New Java Thread")
    String javaNewThread;

    @Label("Java Stack")
    String javaStack;

    @Label("Hook Tier")
    String tier;

    @Label("Cgroup ID")
    long cgroupId;
}
