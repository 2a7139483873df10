package dev.forktrace.pipeline;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forktrace.bpf.EventLayout;
import dev.forktrace.output.FailureSink;
import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.Offender;
import dev.forktrace.system.CgroupPaths;
import dev.forktrace.system.ProcessInspector;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The consumer never reads /proc: an event whose offenders are not ranked yet waits (with the events
 * behind it, in order) for the enrichment thread, and goes out without them, counted, when the hold ends.
 */
class EnrichmentHoldTest {
    private static final int UID = 61300;
    @TempDir
    Path proc;
    private final Arena arena = Arena.ofAuto();
    private final List<ForkFailure> written = new CopyOnWriteArrayList<>();

    /** RLIMIT_NPROC: the user's offenders are its processes, which only a scan of /proc finds. */
    private MemorySegment nprocEvent(int tgid) {
        MemorySegment e = arena.allocate(EventLayout.EVENT_SIZE, 8);
        e.set(JAVA_INT, EventLayout.PID, tgid);
        e.set(JAVA_INT, EventLayout.UID, UID);
        e.set(JAVA_INT, EventLayout.ERROR, -11);
        e.set(JAVA_INT, EventLayout.EVIDENCE, EventLayout.EV_ENTRY_SNAPSHOT);
        e.set(JAVA_LONG, EventLayout.RLIMIT_NPROC, 2);
        e.set(JAVA_LONG, EventLayout.NPROC_COUNT, 2);
        e.set(JAVA_INT, EventLayout.PIDNS_DEPTH, 1);
        e.set(JAVA_INT, EventLayout.PIDNS + EventLayout.PIDNS_PID_ALLOCATED, EventLayout.PIDNS_ADDING | 200);
        return e;
    }

    private void process(int pid, int threads) throws IOException {
        Path dir = Files.createDirectories(proc.resolve(Integer.toString(pid)));
        Files.writeString(dir.resolve("status"), "Name:\tworker\nPPid:\t1\nUid:\t" + UID + "\t" + UID + "\t" + UID + "\t"
                + UID + "\nThreads:\t" + threads + "\n");
        Files.writeString(dir.resolve("comm"), "worker\n");
        Files.writeString(dir.resolve("cmdline"), "worker\0");
    }

    private EventProcessor processor(Enrichment enrichment, long holdNanos) {
        return processor(enrichment, holdNanos, new Summary());
    }

    private EventProcessor processor(Enrichment enrichment, long holdNanos, Summary summary) {
        FailureSink sink = new FailureSink() {
            @Override
            public void accept(ForkFailure failure) {
                written.add(failure);
            }

            @Override
            public void close() {}
        };
        return new EventProcessor(new FailureAssembler(enrichment, 0, null), List.of(sink), summary, holdNanos);
    }

    private Enrichment enrichment() {
        return new Enrichment(new CgroupPaths(Map.of()), new ProcessInspector(proc, 0), proc);
    }

    private static void offer(EventProcessor processor, MemorySegment event) {
        processor.onRecord(event, 0, (int) event.byteSize());
    }

    @Test
    void anEventWaitsForItsOffendersAndTheEventsBehindItKeepTheirOrder() throws Exception {
        process(4100, 7);
        Enrichment enrichment = enrichment(); // not started: nothing is read until start()
        // a hold longer than any wait here: on a loaded machine the thread may take a while to answer
        EventProcessor processor = processor(enrichment, 60_000_000_000L);
        offer(processor, nprocEvent(4100));
        offer(processor, nprocEvent(4101));
        assertTrue(written.isEmpty(), "no failure goes out before its offenders are ranked");
        assertTrue(processor.holding());
        enrichment.start();
        try {
            long giveUp = System.nanoTime() + 30_000_000_000L; // bounds a hang only
            while (written.size() < 2 && System.nanoTime() < giveUp) {
                processor.releaseHeld();
                Thread.sleep(1);
            }
            assertEquals(List.of(1L, 2L), written.stream().map(ForkFailure::getSequence).toList());
            assertEquals(List.of(4100, 4101), written.stream().map(ForkFailure::getPid).toList());
            for (ForkFailure f : written) {
                assertEquals(List.of(4100), f.getOffendersList().stream().map(Offender::getPid).toList());
                assertEquals(7, f.getOffenders(0).getTasks());
            }
            assertEquals(0, processor.late());
            assertFalse(processor.holding());
        } finally {
            enrichment.close();
        }
    }

    @Test
    void anEventWhoseFactsAreNotReadWithinTheHoldGoesOutWithoutThemAndIsCounted() throws Exception {
        process(4100, 7);
        Enrichment enrichment = enrichment(); // never started: the ranking is never published
        EventProcessor processor = processor(enrichment, 50_000_000L);
        offer(processor, nprocEvent(4100));
        processor.flushHeld();
        assertEquals(1, written.size());
        assertEquals(0, written.get(0).getOffendersCount());
        assertEquals(1, processor.late());
    }

    /** EAGAIN from root (exempt from RLIMIT_NPROC) with no pids cgroup: only threads-max can explain it. */
    private MemorySegment threadsEvent(long ktimeNanos) {
        MemorySegment e = arena.allocate(EventLayout.EVENT_SIZE, 8);
        e.set(JAVA_INT, EventLayout.PID, 4100);
        e.set(JAVA_INT, EventLayout.UID, 0);
        e.set(JAVA_INT, EventLayout.ERROR, -11);
        e.set(JAVA_INT, EventLayout.EVIDENCE, EventLayout.EV_ENTRY_SNAPSHOT);
        e.set(JAVA_LONG, EventLayout.RLIMIT_NPROC, -1);
        e.set(JAVA_LONG, EventLayout.KTIME_NS, ktimeNanos);
        return e;
    }

    private void systemFiles(int nrThreads) throws IOException {
        Files.createDirectories(proc.resolve("sys/kernel"));
        Files.writeString(proc.resolve("sys/kernel/threads-max"), "125\n");
        Files.writeString(proc.resolve("loadavg"), "0.00 0.00 0.00 1/" + nrThreads + " 4100\n");
    }

    private ForkFailure waitForOne(EventProcessor processor) throws InterruptedException {
        long giveUp = System.nanoTime() + 30_000_000_000L; // bounds a hang only
        while (written.isEmpty() && System.nanoTime() < giveUp) {
            processor.releaseHeld();
            Thread.sleep(1);
        }
        assertEquals(1, written.size());
        return written.get(0);
    }

    @Test
    void aThreadsMaxFailureIsJudgedByAReadingTakenAfterIt() throws Exception {
        process(4100, 7);
        systemFiles(80); // what the periodic reading sees before the fork loop
        Enrichment enrichment = enrichment().start();
        try {
            systemFiles(125); // the loop reached threads-max, then failed
            EventProcessor processor = processor(enrichment, 60_000_000_000L);
            offer(processor, threadsEvent(dev.forktrace.bpf.Libc.monotonicNanos()));
            ForkFailure failure = waitForOne(processor);
            assertEquals(Cause.THREADS_MAX, failure.getCause());
            assertEquals(125, failure.getSnapshot().getNrThreads());
            assertEquals(0, processor.late());
        } finally {
            enrichment.close();
        }
    }

    @Test
    void aFailureOlderThanTheLastReadingUsesIt() throws Exception {
        process(4100, 7);
        systemFiles(80);
        Enrichment enrichment = enrichment().start();
        try {
            EventProcessor processor = processor(enrichment, 60_000_000_000L);
            offer(processor, threadsEvent(1)); // long before the reading: nr_threads 80 of 125 explains nothing
            ForkFailure failure = waitForOne(processor);
            assertEquals(Cause.UNKNOWN, failure.getCause());
            assertEquals(80, failure.getSnapshot().getNrThreads());
        } finally {
            enrichment.close();
        }
    }

    @Test
    void theFirstFailureAfterAnIdleSpellReadsTheLimitsItselfInsteadOfWaiting() throws Exception {
        process(4100, 7);
        systemFiles(80);
        Enrichment enrichment = enrichment().start(); // reads 80 once; idle, the refresher re-reads nothing
        try {
            Thread.sleep(Enrichment.SYSTEM_MAX_AGE_NANOS / 1_000_000 + 50); // that reading is now too old
            systemFiles(125);
            EventProcessor processor = processor(enrichment, 60_000_000_000L);
            offer(processor, threadsEvent(dev.forktrace.bpf.Libc.monotonicNanos()));
            assertFalse(processor.holding(), "written at once, not held for the refresher");
            assertEquals(1, written.size());
            assertEquals(Cause.THREADS_MAX, written.get(0).getCause());
            assertEquals(125, written.get(0).getSnapshot().getNrThreads());
        } finally {
            enrichment.close();
        }
    }

    @Test
    void trainingTheJitDeliversCountsAndAsksForNothing() throws Exception {
        process(4100, 7);
        Enrichment enrichment = enrichment().start();
        try {
            Summary summary = new Summary();
            EventProcessor processor = processor(enrichment, EventProcessor.HOLD_NANOS, summary);
            long published = enrichment.published();
            processor.trainJit();
            assertTrue(written.isEmpty());
            assertEquals(0, processor.delivered());
            assertEquals(0, summary.delivered());
            assertEquals(published, enrichment.published(), "the capture's enrichment stage was not asked for anything");
            offer(processor, nprocEvent(4100)); // and the first real failure is the first one numbered
            processor.flushHeld();
            assertEquals(1, written.size());
            assertEquals(1, written.get(0).getSequence());
        } finally {
            enrichment.close();
        }
    }
}
