package dev.forktrace.api;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Where a probe's failures go on the capture thread: every listener sees each one; the poll queue and
 * the kept list are bounded, so a storm under {@code run} costs bounded memory, and what either bound
 * turned away is counted, never dropped silently.
 */
final class FailureInbox {
    private final int keptLimit;
    private final List<Consumer<Failure>> listeners = new CopyOnWriteArrayList<>();
    private final LinkedBlockingQueue<Failure> queue;
    private final List<Failure> kept = new ArrayList<>(); // guarded by itself; appended, never copied per add
    private volatile long notKept;
    private volatile long notQueued;

    FailureInbox(int keptLimit, int queueLimit) {
        this.keptLimit = keptLimit;
        this.queue = new LinkedBlockingQueue<>(queueLimit);
    }

    /** The capture thread's only call. */
    void deliver(Failure failure) {
        synchronized (kept) {
            if (kept.size() < keptLimit) {
                kept.add(failure);
            } else {
                notKept++;
            }
        }
        if (!queue.offer(failure)) {
            notQueued++; // poll() users fell behind; failures() and listeners still see it
        }
        for (Consumer<Failure> listener : listeners) {
            listener.accept(failure);
        }
    }

    void addListener(Consumer<Failure> listener) {
        listeners.add(listener);
    }

    Failure poll(Duration timeout) throws InterruptedException {
        return queue.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    List<Failure> kept() {
        synchronized (kept) {
            return List.copyOf(kept);
        }
    }

    long notKept() {
        return notKept;
    }

    long notQueued() {
        return notQueued;
    }
}
