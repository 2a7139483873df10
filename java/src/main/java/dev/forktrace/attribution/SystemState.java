package dev.forktrace.attribution;

/**
 * Global numbers BPF cannot read on every kernel, taken from /proc right after a failure
 * (-1 where not read): the threads-max check, the initial namespace's pid_max, the overcommit policy.
 */
public record SystemState(long threadsMax, long nrThreads, long globalPidMax, long overcommitMemory,
        long committedAsBytes, long commitLimitBytes) {
    public static final SystemState UNKNOWN = new SystemState(-1, -1, -1, -1, -1, -1);
}
