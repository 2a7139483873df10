package dev.forktrace.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.forktrace.proto.v1.StreamRecord;
import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The reader's contract under random damage: it throws nothing but StreamFormatException, always ends, and
 * returns every record that lies wholly before the first damaged byte, unchanged and in order.
 */
class StreamFuzzTest {
    private static final int MUTATED_STREAMS = 5_000;
    private static final int RANDOM_STREAMS = 2_000;

    @Test
    void mutatedStreamsKeepEveryRecordBeforeTheDamage() {
        List<StreamRecord> written = Synthetic.records(40);
        byte[] original = Synthetic.encode(written);
        long[] ends = Synthetic.ends(written);
        Random random = new Random(20261122);
        int[] damaged = {0};
        assertTimeoutPreemptively(Duration.ofMinutes(2), () -> {
            for (int i = 0; i < MUTATED_STREAMS; i++) {
                long seed = random.nextLong();
                Mutation m = mutate(original, new Random(seed));
                List<StreamRecord> read = readSafely(m.bytes(), seed);
                if (read.size() < written.size() || !read.equals(written)) {
                    damaged[0]++;
                }
                int intact = 0;
                while (intact < ends.length && ends[intact] <= m.firstDamagedByte()) {
                    intact++;
                }
                if (read.size() < intact) {
                    fail("seed " + seed + " (" + m.kind() + " at " + m.firstDamagedByte() + "): read " + read.size()
                            + " records, but " + intact + " lie before the damage");
                }
                assertEquals(written.subList(0, intact), read.subList(0, intact), "seed " + seed);
            }
        });
        assertTrue(damaged[0] > MUTATED_STREAMS / 2, "the mutations damage most streams: " + damaged[0]);
    }

    @Test
    void randomBytesNeverEscapeTheContract() {
        Random random = new Random(5);
        assertTimeoutPreemptively(Duration.ofMinutes(1), () -> {
            for (int i = 0; i < RANDOM_STREAMS; i++) {
                long seed = random.nextLong();
                Random r = new Random(seed);
                byte[] bytes = new byte[r.nextInt(2000)];
                r.nextBytes(bytes);
                if (r.nextBoolean() && bytes.length > 4) {
                    // a plausible start: a small length and a header tag, so parsing gets further
                    bytes[0] = (byte) r.nextInt(100);
                    bytes[1] = 0x0a;
                }
                readSafely(bytes, seed);
            }
        });
    }

    record Mutation(String kind, byte[] bytes, long firstDamagedByte) {}

    static Mutation mutate(byte[] original, Random r) {
        int at = r.nextInt(original.length);
        switch (r.nextInt(6)) {
            case 0 -> { // flip one bit
                byte[] b = original.clone();
                b[at] ^= (byte) (1 << r.nextInt(8));
                return new Mutation("bit flip", b, at);
            }
            case 1 -> { // overwrite a run with random bytes
                byte[] b = original.clone();
                int len = Math.min(1 + r.nextInt(64), b.length - at);
                byte[] noise = new byte[len];
                r.nextBytes(noise);
                System.arraycopy(noise, 0, b, at, len);
                int first = at;
                while (first < at + len && b[first] == original[first]) {
                    first++; // a random byte may equal the original; damage starts at the first that differs
                }
                return new Mutation("overwrite", b, first == at + len ? original.length : first);
            }
            case 2 -> { // truncate
                return new Mutation("truncate", Arrays.copyOf(original, at), at);
            }
            case 3 -> { // insert random bytes
                byte[] noise = new byte[1 + r.nextInt(32)];
                r.nextBytes(noise);
                byte[] b = new byte[original.length + noise.length];
                System.arraycopy(original, 0, b, 0, at);
                System.arraycopy(noise, 0, b, at, noise.length);
                System.arraycopy(original, at, b, at + noise.length, original.length - at);
                return new Mutation("insert", b, at);
            }
            case 4 -> { // delete a run
                int len = Math.min(1 + r.nextInt(32), original.length - at);
                byte[] b = new byte[original.length - len];
                System.arraycopy(original, 0, b, 0, at);
                System.arraycopy(original, at + len, b, at, original.length - at - len);
                return new Mutation("delete", b, at);
            }
            default -> { // zero a page-sized run, as a power loss leaves in unwritten blocks
                byte[] b = original.clone();
                int len = Math.min(4096, b.length - at);
                Arrays.fill(b, at, at + len, (byte) 0);
                int first = at;
                while (first < at + len && original[first] == 0) {
                    first++;
                }
                return new Mutation("zeroes", b, first == at + len ? original.length : first);
            }
        }
    }

    /** Reads everything; fails the test on any exception other than StreamFormatException. */
    static List<StreamRecord> readSafely(byte[] bytes, long seed) {
        List<StreamRecord> records = new ArrayList<>();
        StreamReader reader = new StreamReader(new ByteArrayInputStream(bytes), "fuzz");
        try {
            StreamRecord r;
            while ((r = reader.next()) != null) {
                records.add(r);
            }
        } catch (StreamFormatException expected) {
            if (expected.offset() > bytes.length || expected.offset() != reader.offset() && expected.offset() != 0) {
                fail("seed " + seed + ": damage offset " + expected.offset() + " but the reader stopped at "
                        + reader.offset());
            }
        } catch (Throwable t) {
            throw new AssertionError("seed " + seed + ": the reader threw " + t, t);
        }
        return records;
    }
}
