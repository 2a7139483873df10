package dev.forktrace.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SequenceSetTest {
    @Test
    void aWholeCaptureIsOneRunAndRepeatsAreSeen() {
        SequenceSet set = new SequenceSet();
        for (long i = 1; i <= 100_000; i++) {
            assertTrue(set.add(i));
        }
        assertEquals(1, set.runs());
        assertFalse(set.add(1));
        assertFalse(set.add(50_000));
        assertFalse(set.add(100_000));
        assertTrue(set.add(100_001));
        assertEquals(1, set.runs());
    }

    @Test
    void hugeNumbersCostOneEntry() {
        SequenceSet set = new SequenceSet();
        assertTrue(set.add(Long.MAX_VALUE));
        assertTrue(set.add(Long.MIN_VALUE));
        assertTrue(set.add(Integer.MAX_VALUE + 7L));
        assertFalse(set.add(Long.MAX_VALUE));
        assertEquals(3, set.runs());
    }

    @Test
    void agreesWithAHashSetInAnyOrder() {
        Random random = new Random(12);
        SequenceSet set = new SequenceSet();
        Set<Long> truth = new HashSet<>();
        for (int i = 0; i < 50_000; i++) {
            long n = random.nextInt(20_000);
            assertEquals(truth.add(n), set.add(n), "number " + n);
        }
        for (long n = 0; n < 20_000; n++) {
            assertEquals(!truth.contains(n), set.add(n));
        }
        assertEquals(1, set.runs(), "0 .. 19999, all seen");
    }
}
