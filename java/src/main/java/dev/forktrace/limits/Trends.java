package dev.forktrace.limits;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * Growth of each scope's usage over the last minutes, from samples taken by the caller: a least-squares
 * slope over the window, so one sample's noise does not read as a trend. Not thread-safe.
 */
public final class Trends {
    public static final long WINDOW_NANOS = 300_000_000_000L; // five minutes

    private final Map<String, ArrayDeque<long[]>> samples = new HashMap<>();

    /** Growth per minute and, where it grows, seconds until used reaches limit (0 when not growing). */
    public record Trend(double perMinute, double secondsToExhaustion, int samples) {
        public static final Trend NONE = new Trend(0, 0, 0);
    }

    /** Points closer together than this are not kept: 60 points cover the window, whatever the sampling rate. */
    public static final long RESOLUTION_NANOS = 5_000_000_000L;

    public synchronized void add(String key, long nanos, long used) {
        ArrayDeque<long[]> series = samples.get(key);
        if (series == null) {
            if (used == 0) {
                return; // thousands of empty cgroups: no series until something is used (growth from 0 is the first point)
            }
            series = new ArrayDeque<>();
            samples.put(key, series);
        }
        long[] last = series.peekLast();
        if (last != null && nanos - last[0] < RESOLUTION_NANOS) {
            if (series.size() == 1) {
                series.addLast(new long[] {nanos, used}); // a second point at once: a trend from the start
            } else if (series.size() >= 2 && nanos - secondLast(series)[0] < RESOLUTION_NANOS) {
                last[0] = nanos; // the newest point moves along until it is RESOLUTION_NANOS from the one before
                last[1] = used;
            } else {
                series.addLast(new long[] {nanos, used});
            }
            return;
        }
        series.addLast(new long[] {nanos, used});
        while (series.size() > 2 && nanos - series.peekFirst()[0] > WINDOW_NANOS) {
            series.removeFirst();
        }
    }

    private static long[] secondLast(ArrayDeque<long[]> series) {
        Iterator<long[]> it = series.descendingIterator();
        it.next();
        return it.next();
    }

    /** Forgets scopes not in the latest scan (cgroups removed, processes gone). */
    public synchronized void retain(Set<String> keys) {
        samples.keySet().retainAll(keys);
    }

    public synchronized Trend trend(String key, long used, long limit) {
        ArrayDeque<long[]> series = samples.get(key);
        if (series == null || series.size() < 2) {
            return Trend.NONE;
        }
        double n = series.size();
        double t0 = series.peekFirst()[0];
        double sumT = 0, sumU = 0, sumTT = 0, sumTU = 0;
        for (Iterator<long[]> it = series.iterator(); it.hasNext(); ) {
            long[] s = it.next();
            double t = (s[0] - t0) / 60e9; // minutes
            sumT += t;
            sumU += s[1];
            sumTT += t * t;
            sumTU += t * s[1];
        }
        double denominator = n * sumTT - sumT * sumT;
        if (denominator <= 0) {
            return Trend.NONE;
        }
        double perMinute = (n * sumTU - sumT * sumU) / denominator;
        double eta = perMinute > 0 && limit > used ? (limit - used) / perMinute * 60 : 0;
        return new Trend(perMinute, eta, series.size());
    }
}
