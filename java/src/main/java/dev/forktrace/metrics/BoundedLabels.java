package dev.forktrace.metrics;

import java.util.HashSet;
import java.util.Set;

/**
 * Bounds a label's cardinality: the first {@code limit} distinct values keep their own series, every later
 * value is reported as {@value #OTHER}. Admission is first come rather than a moving top N because a
 * counter series must never change its label: a scope that is already counted as "other" and later got its
 * own series would make both series jump. A fleet's scopes that fail at all are few; the limit guards against
 * a storm across thousands of short-lived cgroups.
 */
public final class BoundedLabels {
    public static final String OTHER = "other";
    private final int limit;
    private final Set<String> admitted = new HashSet<>();
    private long overflowed;

    public BoundedLabels(int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must not be negative");
        }
        this.limit = limit;
    }

    /** The value itself, or {@value #OTHER} once {@code limit} other values have been admitted. */
    public String label(String value) {
        if (admitted.contains(value)) {
            return value;
        }
        if (admitted.size() < limit && !value.equals(OTHER)) {
            admitted.add(value);
            return value;
        }
        overflowed++;
        return OTHER;
    }

    /** How many values were folded into {@value #OTHER}. */
    public long overflowed() {
        return overflowed;
    }
}
