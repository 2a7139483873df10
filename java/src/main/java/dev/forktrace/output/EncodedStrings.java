package dev.forktrace.output;

/**
 * Encoded bytes of the strings a storm repeats (comm, cgroup paths, users, the message), keyed by the
 * string instance: the pipeline's caches hand out the same instance while a value stays the same, so a
 * hit is one hash read (String caches its hash), one reference compare and one array copy. Direct-mapped;
 * a string is kept the second time it is seen, so one-off strings cost no allocation.
 */
public final class EncodedStrings {
    private static final int SLOTS = 256;
    private final String[] keys = new String[SLOTS];
    private final byte[][] bytes = new byte[SLOTS][];
    private final String[] seenOnce = new String[SLOTS];

    /** The kept encoding of {@code s}, or null (then the caller encodes it and may {@link #offer} it). */
    public byte[] get(String s) {
        int slot = s.hashCode() & (SLOTS - 1);
        return keys[slot] == s ? bytes[slot] : null;
    }

    /** Whether the caller should keep this encoding: true the second time this instance misses. */
    public boolean offer(String s) {
        int slot = s.hashCode() & (SLOTS - 1);
        if (seenOnce[slot] == s) {
            return true;
        }
        seenOnce[slot] = s;
        return false;
    }

    public void keep(String s, byte[] encoded) {
        int slot = s.hashCode() & (SLOTS - 1);
        keys[slot] = s;
        bytes[slot] = encoded;
    }
}
