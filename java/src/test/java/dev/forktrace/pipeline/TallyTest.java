package dev.forktrace.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.ScopeKind;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;

class TallyTest {
    private static List<String> keys(List<? extends Tally.Row<String, ?>> rows) {
        return rows.stream().map(Tally.Row::key).toList();
    }

    private static List<Long> counts(List<? extends Tally.Row<?, ? extends Tally.Counter>> rows) {
        return rows.stream().map(r -> r.counter().count()).toList();
    }

    @Test
    void keysBeyondTheBoundAreCountedAsOthersNotDropped() {
        Tally<String, Tally.Counter> tally = Tally.counting(3, Comparator.naturalOrder());
        for (String key : List.of("a", "b", "c", "d", "e", "d", "a")) {
            tally.add(key);
        }
        assertEquals(3, tally.size(), "a, b and c were itemised");
        assertEquals(List.of("a", "b", "c"), keys(tally.largestFirst()));
        assertEquals(List.of(2L, 1L, 1L), counts(tally.largestFirst()));
        assertEquals(3, tally.others().count(), "d twice and e, none lost");
        long itemised = counts(tally.largestFirst()).stream().mapToLong(Long::longValue).sum();
        assertEquals(7, itemised + tally.others().count(), "itemised and others add up to what was counted");
    }

    @Test
    void aKeyAlreadyItemisedKeepsCountingWhenTheTableIsFull() {
        Tally<String, Tally.Counter> tally = Tally.counting(1, Comparator.naturalOrder());
        tally.add("a");
        tally.add("b");
        assertSame(tally.counter("a"), tally.counter("a"));
        tally.counter("a").add(5);
        assertEquals(6, tally.counter("a").count());
        assertSame(tally.others(), tally.counter("b"), "a key that did not fit is counted as others");
        assertEquals(1, tally.others().count());
    }

    @Test
    void largestFirstThenTieOrder() {
        Tally<String, Tally.Counter> tally = Tally.counting(10, Comparator.reverseOrder());
        for (String key : List.of("x", "m", "a", "m", "z", "z")) {
            tally.add(key);
        }
        assertEquals(List.of("z", "m", "x", "a"), keys(tally.largestFirst()), "2, 2, then 1 and 1 in reverse order");
        assertEquals(List.of("z", "m"), keys(tally.top(2)));
        assertEquals(4, tally.top(10).size());
    }

    @Test
    void byNameOrdersTiesAsTheirNamesPrint() {
        Tally<Tally.Process, Tally.Counter> tally = Tally.counting(10, Tally.BY_NAME);
        tally.add(new Tally.Process("app", 9));
        tally.add(new Tally.Process("app", 10));
        tally.add(new Tally.Process("aardvark", 11));
        assertEquals(List.of("aardvark (pid 11)", "app (pid 10)", "app (pid 9)"),
                tally.largestFirst().stream().map(r -> r.key().toString()).toList(), "text order, not pid order");
    }

    @Test
    void othersTakesItsPlaceAmongTheRowsOnlyWhenAsked() {
        Tally<String, Tally.Counter> tally = Tally.counting(2, Comparator.naturalOrder());
        for (String key : List.of("a", "b", "c", "d", "e", "b")) {
            tally.add(key);
        }
        assertEquals(List.of("(others)", "b", "a"), keys(tally.largestFirst("(others)")));
        assertEquals(List.of(3L, 2L, 1L), counts(tally.largestFirst("(others)")));
        assertEquals(List.of("b", "a"), keys(tally.largestFirst()));
        Tally<String, Tally.Counter> fits = Tally.counting(2, Comparator.naturalOrder());
        fits.add("a");
        assertEquals(List.of("a"), keys(fits.largestFirst("(others)")), "no others row when everything fit");
    }

    private static final class Highest extends Tally.Counter {
        long highest;
    }

    @Test
    void countersCarryWhatATableShowsBesidesTheCount() {
        Tally<String, Highest> tally = new Tally<>(1, Comparator.naturalOrder(), Highest::new);
        for (long current : new long[] {3, 9, 4}) {
            Highest h = tally.counter("cgroup");
            h.add();
            h.highest = Math.max(h.highest, current);
        }
        tally.counter("another").highest = 7;
        assertEquals(3, tally.counter("cgroup").count());
        assertEquals(9, tally.counter("cgroup").highest);
        assertEquals(7, tally.others().highest, "the others row is the same kind of counter");
    }

    @Test
    void emptyUntilSomethingIsCounted() {
        Tally<Tally.CauseScope, Tally.Counter> tally = Tally.counting(0, Tally.BY_NAME);
        assertTrue(tally.isEmpty());
        tally.add(new Tally.CauseScope(Cause.PIDS_CGROUP_LIMIT, ScopeKind.CGROUP, "/ex"));
        assertFalse(tally.isEmpty(), "a failure counted as others is counted");
        assertEquals(0, tally.size());
        assertEquals("PIDS_CGROUP_LIMIT CGROUP /ex",
                new Tally.CauseScope(Cause.PIDS_CGROUP_LIMIT, ScopeKind.CGROUP, "/ex").toString());
    }

    @Test
    void aKeyMatchesTheFieldsThatWouldMakeIt() {
        Tally.CauseScope key = new Tally.CauseScope(Cause.PIDS_CGROUP_LIMIT, ScopeKind.CGROUP, "/ex");
        assertTrue(key.is(Cause.PIDS_CGROUP_LIMIT, ScopeKind.CGROUP, new String("/ex")), "by value, not identity");
        assertFalse(key.is(Cause.RLIMIT_NPROC, ScopeKind.CGROUP, "/ex"));
        assertFalse(key.is(Cause.PIDS_CGROUP_LIMIT, ScopeKind.USER, "/ex"));
        assertFalse(key.is(Cause.PIDS_CGROUP_LIMIT, ScopeKind.CGROUP, "/other"));
        Tally.Process process = new Tally.Process("app", 42);
        assertTrue(process.is("app", 42));
        assertFalse(process.is("app", 43));
        assertFalse(process.is("web", 42));
    }
}
