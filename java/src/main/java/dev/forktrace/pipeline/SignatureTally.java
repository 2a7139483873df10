package dev.forktrace.pipeline;

import dev.forktrace.pipeline.Tally.CauseScope;
import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.CauseScopeCount;
import dev.forktrace.proto.v1.ScopeKind;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Exact counts per cause and scope, in a storm too: failures delivered in full detail plus failures the
 * kernel counted under their signature because the ring had no room ({@link Signature}). Each aggregated
 * signature takes the verdict of the last delivered failure with the same signature, or, when none was
 * seen, the verdict attributed from the signature alone. Pure logic, driven by the consumer thread.
 */
public final class SignatureTally {
    /** Rows kept per cause and scope; further scopes of a cause are summed in one row, so per-cause totals stay exact. */
    static final int MAX_ROWS = 10_000;
    static final String OTHER_SCOPES = "(further scopes)";

    private final Map<Signature, CauseScope> seen = new HashMap<>();
    private final int maxSeen;
    private final Map<CauseScope, long[]> delivered = new HashMap<>();
    private final Map<Signature, CauseScope> fromSignatureAlone = new HashMap<>();
    private Map<CauseScope, long[]> aggregated = Map.of();
    private long aggregatedTotal;
    private final Signature probe = new Signature();

    public SignatureTally() {
        this(4 * dev.forktrace.bpf.EventLayout.SIGNATURE_SLOTS);
    }

    SignatureTally(int maxSeen) {
        this.maxSeen = maxSeen;
    }

    /** The reusable signature the per-event path computes into before {@link #delivered}. */
    public Signature scratch() {
        return probe;
    }

    /** A failure delivered in full detail, with its signature and the verdict written out for it. */
    public void delivered(Signature signature, Cause cause, ScopeKind kind, String scope) {
        CauseScope known = seen.get(signature);
        CauseScope verdict = known;
        if (known == null || !known.is(cause, kind, scope)) {
            verdict = new CauseScope(cause, kind, scope);
            if (known != null) {
                seen.put(signature, verdict); // an existing key stays: the scratch instance is not kept
            } else if (seen.size() < maxSeen) {
                seen.put(signature.copy(), verdict);
            }
        }
        bump(delivered, verdict, 1);
    }

    /**
     * The kernel's signature table as read now: count[i] failures so far under keys[i] (cumulative).
     * attributeAlone gives the verdict for a signature no delivered failure had; it is asked once per
     * signature.
     */
    public void kernelCounts(Signature[] keys, long[] counts, int n, Function<Signature, CauseScope> attributeAlone) {
        Map<CauseScope, long[]> rows = new HashMap<>();
        long total = 0;
        for (int i = 0; i < n; i++) {
            CauseScope verdict = seen.get(keys[i]);
            if (verdict == null) {
                verdict = fromSignatureAlone.get(keys[i]);
                if (verdict == null) {
                    verdict = attributeAlone.apply(keys[i]);
                    fromSignatureAlone.put(keys[i].copy(), verdict);
                }
            }
            bump(rows, verdict, counts[i]);
            total += counts[i];
        }
        aggregated = rows;
        aggregatedTotal = total;
    }

    private static void bump(Map<CauseScope, long[]> rows, CauseScope verdict, long by) {
        long[] cell = rows.get(verdict);
        if (cell == null) {
            if (rows.size() >= MAX_ROWS) {
                verdict = new CauseScope(verdict.cause(), verdict.kind(), OTHER_SCOPES);
                cell = rows.get(verdict);
            }
            if (cell == null) {
                rows.put(verdict, cell = new long[1]);
            }
        }
        cell[0] += by;
    }

    /** Failures counted in the kernel under a signature, over all signatures read last. */
    public long aggregated() {
        return aggregatedTotal;
    }

    /** One row per cause and scope: delivered, aggregated; largest first. */
    public List<CauseScopeCount> rows() {
        Map<CauseScope, long[]> both = new LinkedHashMap<>();
        delivered.forEach((v, c) -> both.computeIfAbsent(v, k -> new long[2])[0] += c[0]);
        aggregated.forEach((v, c) -> both.computeIfAbsent(v, k -> new long[2])[1] += c[0]);
        List<CauseScopeCount> rows = new ArrayList<>(both.size());
        both.forEach((v, c) -> rows.add(CauseScopeCount.newBuilder().setCause(v.cause()).setScopeKind(v.kind())
                .setScope(v.scope()).setDelivered(c[0]).setAggregated(c[1]).build()));
        rows.sort(Comparator.comparingLong((CauseScopeCount r) -> r.getDelivered() + r.getAggregated()).reversed()
                .thenComparing(r -> r.getCause().name()).thenComparing(CauseScopeCount::getScope));
        return rows;
    }

    /** "N failures of CAUSE in SCOPE, M of them counted in the kernel without detail (ring full)". */
    public static String describe(CauseScopeCount row) {
        long total = row.getDelivered() + row.getAggregated();
        String scope = row.getScope().isEmpty() ? "" : " in " + row.getScope();
        return total + " failures of " + row.getCause() + scope + (row.getAggregated() > 0
                ? ", " + row.getAggregated() + " of them counted in the kernel without detail (ring full)" : "");
    }
}
