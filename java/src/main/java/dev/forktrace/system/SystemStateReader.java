package dev.forktrace.system;

import dev.forktrace.attribution.SystemState;
import java.nio.file.Path;

/**
 * Reads the global limits BPF does not see (threads-max, nr_threads, pid_max, overcommit) from /proc.
 * Uncached: the enrichment stage decides how often (see Enrichment's refresher and its readings' age).
 */
public final class SystemStateReader {
    private final Path proc;

    public SystemStateReader(Path proc) {
        this.proc = proc;
    }

    /** A reading now. */
    public SystemState read() {
        long threadsMax = ProcFs.readLong(proc.resolve("sys/kernel/threads-max"), -1);
        long pidMax = ProcFs.readLong(proc.resolve("sys/kernel/pid_max"), -1);
        long overcommit = ProcFs.readLong(proc.resolve("sys/vm/overcommit_memory"), -1);
        long nrThreads = -1;
        String loadavg = ProcFs.read(proc.resolve("loadavg"));
        if (loadavg != null) { // "0.00 0.01 0.05 1/123 4567": the 123 is nr_threads
            String[] parts = loadavg.trim().split("\\s+");
            if (parts.length >= 4 && parts[3].contains("/")) {
                nrThreads = Long.parseLong(parts[3].substring(parts[3].indexOf('/') + 1));
            }
        }
        String meminfo = ProcFs.read(proc.resolve("meminfo"));
        long committed = ProcFs.field(meminfo, "Committed_AS", -1);
        long limit = ProcFs.field(meminfo, "CommitLimit", -1);
        return new SystemState(threadsMax, nrThreads, pidMax, overcommit,
                committed < 0 ? -1 : committed * 1024, limit < 0 ? -1 : limit * 1024);
    }
}
