package dev.forktrace.pipeline;

import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.ScopeKind;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Failures counted by one key (a cause and scope, a process, an offender...), the table every summary of
 * failures is made of: watch's summary at exit, {@code forktrace report} and the live text table.
 * At most maxKeys distinct keys are itemised; failures of further keys are counted under {@link #others},
 * never dropped, so the itemised counts and the others always add up to what was counted. Lists come
 * largest first, ties in the key order given, so the same failures always print in the same order.
 * Pure and single-threaded.
 *
 * @param <C> the counter kept per key; a subclass of {@link Counter} carries what a table shows besides the
 *            count (a scope's highest current, a live row's rate)
 */
public final class Tally<K, C extends Tally.Counter> {
    /** One key's count. Counting through a counter held from an earlier failure needs no lookup. */
    public static class Counter {
        private long count;

        public final void add() {
            count++;
        }

        public final void add(long n) {
            count += n;
        }

        public final long count() {
            return count;
        }
    }

    /** A key and its counter, as {@link #largestFirst} lists them. */
    public record Row<K, C>(K key, C counter) {}

    /** A cause and the scope it was found in. Kept as fields, not a string, so counting builds no text. */
    public record CauseScope(Cause cause, ScopeKind kind, String scope) {
        /** Whether this key is the one these fields would make: a repeat is found without making a key. */
        public boolean is(Cause cause, ScopeKind kind, String scope) {
            return this.cause == cause && this.kind == kind && this.scope.equals(scope);
        }

        @Override
        public String toString() {
            return cause + " " + kind + " " + scope;
        }
    }

    /** A process by its name and pid, as "comm (pid N)" names it. */
    public record Process(String comm, int pid) {
        /** Whether this key is the one these fields would make. */
        public boolean is(String comm, int pid) {
            return this.pid == pid && this.comm.equals(comm);
        }

        @Override
        public String toString() {
            return comm + " (pid " + pid + ")";
        }
    }

    /** Ties in the order of the names printed for the keys. */
    public static final Comparator<Object> BY_NAME = Comparator.comparing(Object::toString);

    private final Map<K, C> counters = new HashMap<>();
    private final int maxKeys;
    private final Comparator<? super K> tieOrder;
    private final Supplier<C> newCounter;
    private final C others;

    /**
     * @param maxKeys    keys itemised at most (memory stays bounded when every failure has a new key)
     * @param tieOrder   the order of keys with equal counts
     * @param newCounter makes the counter of a new key, and the one of {@link #others}
     */
    public Tally(int maxKeys, Comparator<? super K> tieOrder, Supplier<C> newCounter) {
        this.maxKeys = maxKeys;
        this.tieOrder = tieOrder;
        this.newCounter = newCounter;
        this.others = newCounter.get();
    }

    /** A tally of counts alone. */
    public static <K> Tally<K, Counter> counting(int maxKeys, Comparator<? super K> tieOrder) {
        return new Tally<>(maxKeys, tieOrder, Counter::new);
    }

    /** Counts one failure under key. */
    public void add(K key) {
        counter(key).add();
    }

    /**
     * The key's counter, made when the key is new and there is room; when there is none, the counter of
     * {@link #others}. The key is kept: it must not change afterwards.
     */
    public C counter(K key) {
        C counter = counters.get(key);
        if (counter == null) {
            if (counters.size() >= maxKeys) {
                return others;
            }
            counter = newCounter.get();
            counters.put(key, counter);
        }
        return counter;
    }

    /** What was counted under keys that did not fit; count 0 when every key was itemised. */
    public C others() {
        return others;
    }

    /** The keys itemised. */
    public int size() {
        return counters.size();
    }

    /** Nothing counted at all. */
    public boolean isEmpty() {
        return counters.isEmpty() && others.count() == 0;
    }

    /** The itemised keys, largest count first, equal counts in tie order; {@link #others} is not among them. */
    public List<Row<K, C>> largestFirst() {
        return sorted(null);
    }

    /** As {@link #largestFirst}, with {@link #others} among the rows under othersKey when it counted anything. */
    public List<Row<K, C>> largestFirst(K othersKey) {
        return sorted(othersKey);
    }

    /** The first limit rows of {@link #largestFirst}. */
    public List<Row<K, C>> top(int limit) {
        List<Row<K, C>> rows = largestFirst();
        return rows.size() <= limit ? rows : List.copyOf(rows.subList(0, limit));
    }

    private List<Row<K, C>> sorted(K othersKey) {
        List<Row<K, C>> rows = new ArrayList<>(counters.size() + 1);
        counters.forEach((k, c) -> rows.add(new Row<>(k, c)));
        if (othersKey != null && others.count() > 0) {
            rows.add(new Row<>(othersKey, others));
        }
        rows.sort(Comparator.comparingLong((Row<K, C> r) -> r.counter().count()).reversed()
                .thenComparing(Row::key, tieOrder));
        return rows;
    }
}
