package dev.forktrace.metrics;

import java.util.List;

/**
 * What is left of each watched limit, read when Prometheus scrapes. The headroom monitor (issue 15) is the
 * intended implementation; until it is wired, {@code watch --metrics} registers none and the
 * forktrace_scope_headroom_ratio gauge has no series.
 */
@FunctionalInterface
public interface HeadroomSource {
    /** @param kind a ScopeKind name (CGROUP, USER, PID_NAMESPACE, SYSTEM, MEMCG) */
    record Headroom(String kind, String scope, long used, long limit) {
        /** The share of the limit still free, 0..1; 1 for an unlimited scope. */
        public double ratio() {
            return limit <= 0 || limit == Long.MAX_VALUE ? 1.0 : Math.max(0.0, (double) (limit - used) / limit);
        }
    }

    List<Headroom> headroom();
}
