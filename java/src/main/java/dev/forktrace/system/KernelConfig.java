package dev.forktrace.system;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/** The running kernel's build configuration, from /proc/config.gz (CONFIG_IKCONFIG_PROC) or /boot/config-RELEASE. */
public final class KernelConfig {
    private final String source;
    private final Map<String, String> options;

    KernelConfig(String source, Map<String, String> options) {
        this.source = source;
        this.options = options;
    }

    /** The configuration of this kernel, or null when neither file is readable. */
    public static KernelConfig load(String release) {
        Path proc = Path.of("/proc/config.gz");
        try (InputStream in = new GZIPInputStream(Files.newInputStream(proc))) {
            return parse(proc.toString(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            // not built with CONFIG_IKCONFIG_PROC, or not readable: Debian installs it under /boot instead
        }
        Path boot = Path.of("/boot/config-" + release);
        try {
            return parse(boot.toString(), Files.readString(boot, StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Parses `CONFIG_X=y` lines; `# CONFIG_X is not set` and absent options both read as not set. */
    static KernelConfig parse(String source, String text) {
        Map<String, String> options = new HashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (line.startsWith("CONFIG_") && eq > 0) {
                options.put(line.substring(0, eq), line.substring(eq + 1).strip());
            }
        }
        return new KernelConfig(source, options);
    }

    /** Where the configuration was read from. */
    public String source() {
        return source;
    }

    /** Whether the option is built in or a module (y or m). */
    public boolean enabled(String option) {
        String value = options.get(option);
        return "y".equals(value) || "m".equals(value);
    }
}
