package dev.forktrace.cli;

import java.lang.management.ManagementFactory;

/**
 * FORKTRACE_STARTUP_TRACE=1 prints how long each start-up phase took, counted from JVM start, so the
 * ready-latency benchmark can be explained phase by phase. Costs nothing when unset.
 */
final class StartupTrace {
    private static final boolean ON = System.getenv("FORKTRACE_STARTUP_TRACE") != null;

    private StartupTrace() {}

    static void mark(String phase) {
        if (ON) {
            System.err.printf("forktrace: startup: %-28s %5d ms after JVM start%n", phase,
                    ManagementFactory.getRuntimeMXBean().getUptime());
        }
    }
}
