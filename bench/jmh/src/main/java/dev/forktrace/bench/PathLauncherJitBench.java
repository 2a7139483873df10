package dev.forktrace.bench;

import org.openjdk.jmh.annotations.Fork;

/**
 * {@link PathBench} in a JVM with the flags scripts/setup.sh gives ./forktrace (C1 only, serial GC, its heap
 * sizes): the code the CLI's per-event path actually runs. Keep in step with prepare_jvm_options.
 */
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-Xmx64m", "-Xmn8m",
        "-XX:TieredStopAtLevel=1"})
public class PathLauncherJitBench extends PathBench {
}
