package dev.forktrace.api;

/** Which task creations to watch. */
public sealed interface Target {
    /** This JVM (all its threads). */
    static Target thisProcess() {
        return new Process(ProcessHandle.current().pid());
    }

    /** One process (tgid) and its threads, not its children. */
    static Target process(long pid) {
        return new Process(pid);
    }

    /** A process and every descendant it creates from now on (tracked in the kernel, not by polling). */
    static Target processTree(long pid) {
        return new ProcessTree(pid);
    }

    /** Every process in a cgroup: a directory under /sys/fs/cgroup or a path like "/a/b". */
    static Target cgroup(String path) {
        return new Cgroup(path);
    }

    /** Every task creation on the machine. */
    static Target everything() {
        return new Everything();
    }

    record Process(long pid) implements Target {}

    record ProcessTree(long pid) implements Target {}

    record Cgroup(String path) implements Target {}

    record Everything() implements Target {}
}
