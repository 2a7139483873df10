package dev.forktrace.pipeline;

import java.util.Arrays;

/**
 * The last answers of a lookup keyed by a kind and a number (a hierarchy and a cgroup id, a uid, a pid), in a
 * small direct-mapped table: a storm asks the same few questions thousands of times a second, and finding them
 * here boxes no key and builds no key record (the launcher's C1 compiler does no escape analysis, so each of
 * those was an allocation per failure). A colliding answer replaces the older one. Not thread-safe: the
 * consumer thread's own.
 */
final class RecentAnswers<V> {
    private static final int SIZE = 32; // a power of two: a mixed storm's scopes, processes and users fit
    private final long[] keys = new long[SIZE];
    private final int[] kinds = new int[SIZE];
    private final Object[] values = new Object[SIZE];

    @SuppressWarnings("unchecked")
    V get(int kind, long key) {
        int i = index(kind, key);
        Object value = values[i];
        return value != null && keys[i] == key && kinds[i] == kind ? (V) value : null;
    }

    void put(int kind, long key, V value) {
        int i = index(kind, key);
        keys[i] = key;
        kinds[i] = kind;
        values[i] = value;
    }

    void clear() {
        Arrays.fill(values, null);
    }

    private static int index(int kind, long key) {
        long h = (key ^ ((long) kind << 56)) * 0x9E3779B97F4A7C15L; // Fibonacci hashing: the top bits mix every bit
        return (int) (h >>> 59) & (SIZE - 1);
    }
}
