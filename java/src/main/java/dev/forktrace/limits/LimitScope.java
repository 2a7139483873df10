package dev.forktrace.limits;

import dev.forktrace.proto.v1.ScopeKind;
import java.nio.file.Path;
import java.util.List;

/**
 * One limit that can refuse task creation, as read now: what it is, how much of it is used, and where its
 * holders are to be found (read only for the scopes that are shown or that cross a threshold).
 *
 * @param key          stable identity across samples: kind and name
 * @param limitName    "pids.max", "RLIMIT_NPROC", "pid_max", "threads-max", "memory.limit_in_bytes", ...
 * @param directory    the cgroup directory (CGROUP, MEMCG), else null
 * @param members      pids of the scope's processes (USER, PID_NAMESPACE), null for cgroups (read from
 *                     cgroup.procs) and system-wide limits (every process)
 * @param lowestLimitPid  RLIMIT_NPROC: the process whose soft limit is the lowest, else 0
 */
public record LimitScope(String key, ScopeKind kind, String name, String limitName, long used, long limit,
                         long peak, Path directory, List<Integer> members, boolean byMemory,
                         int lowestLimitPid, String lowestLimitComm) {

    /** used / limit; 1 for a limit of 0 (a namespace without init refuses everything). */
    public double ratio() {
        return limit <= 0 ? 1.0 : (double) used / limit;
    }

    public String holderRanking() {
        return byMemory ? "memory" : "tasks";
    }

    /** A short kind for tables: pids, nproc, pidns, memcg, system. */
    public String kindLabel() {
        return switch (kind) {
            case CGROUP -> "pids";
            case USER -> "nproc";
            case PID_NAMESPACE -> "pidns";
            case MEMCG -> "memcg";
            default -> "system";
        };
    }
}
