package dev.forktrace.bench;

import dev.forktrace.attribution.Attribution;
import dev.forktrace.attribution.Attributor;
import dev.forktrace.attribution.RawEvent;
import dev.forktrace.attribution.SystemState;
import dev.forktrace.bpf.EventLayout;
import dev.forktrace.pipeline.FailureAssembler;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.system.CgroupPaths;
import dev.forktrace.system.ProcessInspector;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** What several benchmarks share: an assembler on this machine's /proc and cgroups, and recorded events. */
final class Fixtures {
    static final SystemState SYSTEM = new SystemState(190_000, 400, 4_194_304, 0, 2L << 30, 12L << 30);

    private Fixtures() {}

    static FailureAssembler assembler() {
        return new FailureAssembler(CgroupPaths.forThisMachine(), new ProcessInspector(), 0);
    }

    /**
     * Recorded events; "live" rewrites their caller to this JVM's pid, so the assembler's per-event /proc
     * reads find a process (as in a real storm, where the failing process is still running), "recorded"
     * keeps the original, long-gone pids.
     */
    static MemorySegment events(Arena arena, String pids) {
        MemorySegment events = RecordedEvents.load(arena);
        // Recorded on another boot: moved onto this one's clock, the newest at now, as a live ring's would be
        // (a failure "from the future" can be judged by no reading of the global limits and would be held).
        int count = RecordedEvents.count(events);
        long newest = Long.MIN_VALUE;
        for (int i = 0; i < count; i++) {
            newest = Math.max(newest, events.get(java.lang.foreign.ValueLayout.JAVA_LONG, (long) i * EventLayout.EVENT_SIZE + EventLayout.KTIME_NS));
        }
        long shift = dev.forktrace.bpf.Libc.monotonicNanos() - newest;
        for (int i = 0; i < count; i++) {
            long at = (long) i * EventLayout.EVENT_SIZE + EventLayout.KTIME_NS;
            events.set(java.lang.foreign.ValueLayout.JAVA_LONG, at, events.get(java.lang.foreign.ValueLayout.JAVA_LONG, at) + shift);
        }
        return switch (pids) {
            case "live" -> RecordedEvents.withPid(arena, events, (int) ProcessHandle.current().pid());
            case "recorded" -> events;
            default -> throw new IllegalArgumentException("pids must be live or recorded, not " + pids);
        };
    }

    /** Every recorded event, attributed and assembled into a ForkFailure. */
    static ForkFailure[] failures(MemorySegment events) {
        FailureAssembler assembler = assembler();
        RawEvent raw = new RawEvent();
        Attribution attribution = new Attribution();
        Attributor attributor = new Attributor();
        ForkFailure[] failures = new ForkFailure[RecordedEvents.count(events)];
        for (int i = 0; i < failures.length; i++) {
            raw.wrap(events, (long) i * EventLayout.EVENT_SIZE);
            attributor.attribute(raw, SYSTEM, attribution);
            failures[i] = assembler.assemble(i + 1, raw, attribution, SYSTEM);
        }
        return failures;
    }
}
