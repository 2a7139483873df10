package dev.forktrace.junit;

import dev.forktrace.api.Failure;
import dev.forktrace.api.ForktraceProbe;
import dev.forktrace.proto.v1.Cause;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** The failures recorded during the current test; inject it as a test method parameter. */
public final class ForkFailures {
    private final ForktraceProbe probe;
    private final int firstIndex;

    ForkFailures(ForktraceProbe probe, int firstIndex) {
        this.probe = probe;
        this.firstIndex = firstIndex;
    }

    /** Every failure since the test started, after delivering what the kernel already captured. */
    public List<Failure> all() {
        try {
            probe.flush(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<Failure> all = probe.failures();
        return all.subList(Math.min(firstIndex, all.size()), all.size());
    }

    public Set<Cause> causes() {
        Set<Cause> causes = EnumSet.noneOf(Cause.class);
        all().forEach(f -> causes.add(f.cause()));
        return causes;
    }

    /** Fails with the diagnosis unless a failure of this cause was recorded. */
    public Failure assertCause(Cause cause) {
        return all().stream().filter(f -> f.cause() == cause).findFirst()
                .orElseThrow(() -> new AssertionError("expected a task creation failure caused by " + cause
                        + ", but " + diagnosis()));
    }

    /** Human diagnosis of this test's failures. */
    public String diagnosis() {
        List<Failure> all = all();
        if (all.isEmpty()) {
            return "forktrace saw no failed task creation during this test";
        }
        return "forktrace saw " + all.size() + " failed task creation(s) during this test:\n" + all.stream()
                .collect(Collectors.groupingBy(f -> f.cause() + " in " + f.scope().name(), java.util.LinkedHashMap::new,
                        Collectors.toList()))
                .values().stream()
                .map(group -> "  " + group.size() + "x " + group.get(0))
                .collect(Collectors.joining("\n"));
    }
}
