package dev.forktrace.bench;

import org.openjdk.jmh.annotations.Fork;

/**
 * {@link ProcessorBench} in a JVM with the flags ./forktrace runs with (-XX:TieredStopAtLevel=1: C1
 * only, for start-up), since that is the code the CLI's per-event path actually runs.
 */
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
        "-Xmx128m"})
public class ProcessorC1Bench extends ProcessorBench {
}
