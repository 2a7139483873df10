package dev.forktrace.bpf;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Locates the BPF object and the shim. They travel inside the jar under native/linux-x86_64 and are
 * extracted once per process into a private directory; FORKTRACE_NATIVE_DIR (e.g. build/out) overrides
 * the jar copy for development.
 */
public final class NativeLibraries {
    public static final String BPF_OBJECT = "forktrace.bpf.o";
    public static final String SHIM = "libforktrace_shim.so";
    private static final String RESOURCE_DIR = "/native/linux-x86_64/";

    private static Path directory;

    private NativeLibraries() {}

    public static synchronized Path directory() {
        if (directory == null) {
            String override = System.getenv("FORKTRACE_NATIVE_DIR");
            directory = override != null && !override.isEmpty() ? Path.of(override) : extract();
        }
        return directory;
    }

    public static Path bpfObject() {
        return require(directory().resolve(BPF_OBJECT));
    }

    public static Path shim() {
        return require(directory().resolve(SHIM));
    }

    private static Path require(Path file) {
        if (!Files.isReadable(file)) {
            throw new BpfException(file + " is missing: the build did not produce it (run ./forktrace again to rebuild)",
                    0, BpfException.EXIT_RUNTIME);
        }
        return file;
    }

    private static Path extract() {
        try {
            Path dir = Files.createTempDirectory("forktrace-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            for (String name : new String[] {BPF_OBJECT, SHIM}) {
                try (InputStream in = NativeLibraries.class.getResourceAsStream(RESOURCE_DIR + name)) {
                    if (in == null) {
                        throw new BpfException("this forktrace.jar was built without " + name
                                + " (CMake output missing at package time)", 0, BpfException.EXIT_RUNTIME);
                    }
                    Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                }
                dir.resolve(name).toFile().deleteOnExit();
            }
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new BpfException("cannot extract the native parts of forktrace into a temporary directory: "
                    + e.getMessage(), 0, BpfException.EXIT_RUNTIME);
        }
    }
}
