package dev.forktrace.stream;

import java.util.Map;
import java.util.TreeMap;

/**
 * The sequence numbers of one capture seen so far, as runs of consecutive numbers: a capture's failures are
 * numbered 1, 2, 3 ..., so a whole recording is one run however long it is, and a damaged or hostile
 * number (2^63) costs one entry, not a bitmap up to it.
 */
final class SequenceSet {
    private final TreeMap<Long, Long> runs = new TreeMap<>(); // first -> last, disjoint and not adjacent

    /** Adds the number; false when it was already there. */
    boolean add(long n) {
        Map.Entry<Long, Long> below = runs.floorEntry(n);
        if (below != null && below.getValue() >= n) {
            return false;
        }
        long first = n;
        long last = n;
        if (below != null && below.getValue() == n - 1) {
            first = below.getKey();
        }
        Map.Entry<Long, Long> above = n == Long.MAX_VALUE ? null : runs.ceilingEntry(n + 1);
        if (above != null && above.getKey() == n + 1) {
            last = above.getValue();
            runs.remove(above.getKey());
        }
        runs.put(first, last);
        return true;
    }

    /** Runs held (for tests: memory grows with the gaps, not with the numbers). */
    int runs() {
        return runs.size();
    }
}
