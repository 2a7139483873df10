package dev.forktrace.attribution;

import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.Confidence;
import dev.forktrace.proto.v1.ScopeKind;

/**
 * The attributor's verdict, a reusable holder so that the per-event path allocates nothing. The scope
 * is identified by kind plus an index into the snapshot's levels (pid namespace or pids cgroup level);
 * names are resolved later, only for events that are written out.
 */
public final class Attribution {
    public Cause cause = Cause.UNKNOWN;
    public Confidence confidence = Confidence.INFERRED;
    public ScopeKind scopeKind = ScopeKind.SCOPE_KIND_UNSPECIFIED;
    /** Index into pid namespace or pids cgroup levels, -1 when the scope is not a level. */
    public int scopeLevel = -1;
    public long limit = -1;
    public long current = -1;
    /** True when the errno names a different resource than the real cause (ENOMEM without memory trouble...). */
    public boolean errnoMisleading;
    /**
     * True when nothing explained an EAGAIN: nr_threads changes by the moment, and a /proc reading taken
     * after the failure may show threads-max reached where one from before it did not. (A pids or
     * RLIMIT_NPROC verdict needs no such reading, so their storms are never held for one.)
     */
    public boolean explainableByLaterReading;

    void set(Cause cause, Confidence confidence, ScopeKind kind, int level, long limit, long current) {
        this.cause = cause;
        this.confidence = confidence;
        this.scopeKind = kind;
        this.scopeLevel = level;
        this.limit = limit;
        this.current = current;
    }

    public void reset() {
        set(Cause.UNKNOWN, Confidence.INFERRED, ScopeKind.SCOPE_KIND_UNSPECIFIED, -1, -1, -1);
        errnoMisleading = false;
        explainableByLaterReading = false;
    }

    /** Key for storm collapsing: same cause and scope. */
    public long scopeKey(FailureFacts facts) {
        long id = switch (scopeKind) {
            case CGROUP -> scopeLevel >= 0 ? facts.pidsCgroupId(scopeLevel) : 0;
            case PID_NAMESPACE -> scopeLevel >= 0 ? facts.pidNamespaceInum(scopeLevel) : 0;
            case USER -> facts.uid();
            case MEMCG -> facts.memcgId();
            default -> 0;
        };
        return id * 31 + cause.getNumber();
    }
}
