package dev.forktrace.bpf;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Locates the BPF object and the shim. They travel inside the jar under native/linux-<arch> and are
 * copied once per process into anonymous memory files (memfd_create), loaded through /proc/self/fd/N:
 * nothing is written to disk, so no run, not even one ended by SIGKILL, leaves a file behind.
 * FORKTRACE_NATIVE_DIR (e.g. build/out) overrides the jar copy for development.
 */
public final class NativeLibraries {
    public static final String BPF_OBJECT = "forktrace.bpf.o";
    public static final String SHIM = "libforktrace_shim.so";
    /** The jar holds the x86_64 build; an aarch64 one (cmake/aarch64-linux-gnu.cmake) goes in linux-aarch64. */
    private static final String PLATFORM = "linux-" + ("amd64".equals(System.getProperty("os.arch"))
            ? "x86_64" : System.getProperty("os.arch"));
    private static final String RESOURCE_DIR = "/native/" + PLATFORM + "/";
    /** Left-overs older than this are not an older forktrace that is starting right now. */
    private static final long STALE_MILLIS = 60_000;

    private static final Map<String, Path> files = new HashMap<>();

    private NativeLibraries() {}

    private static synchronized Path file(String name) {
        Path path = files.get(name);
        if (path == null) {
            String override = System.getenv("FORKTRACE_NATIVE_DIR");
            if (override != null && !override.isEmpty()) {
                path = Path.of(override).resolve(name);
            } else {
                if (files.isEmpty()) {
                    removeStaleExtractions(Path.of(System.getProperty("java.io.tmpdir")));
                }
                path = extract(name);
            }
            files.put(name, path);
        }
        return path;
    }

    public static Path bpfObject() {
        return require(file(BPF_OBJECT));
    }

    public static Path shim() {
        return require(file(SHIM));
    }

    private static Path require(Path file) {
        if (!Files.isReadable(file)) {
            throw new BpfException(file + " is missing: the build did not produce it (run ./forktrace again to rebuild)",
                    0, BpfException.EXIT_RUNTIME);
        }
        return file;
    }

    /** The resource in a memory file that stays open for the life of the process. */
    private static Path extract(String name) {
        try (InputStream in = NativeLibraries.class.getResourceAsStream(RESOURCE_DIR + name)) {
            if (in == null) {
                throw new BpfException("this forktrace.jar was built without " + name + " for " + PLATFORM
                        + " (CMake output missing at package time; FORKTRACE_NATIVE_DIR names a directory with"
                        + " a build for this platform)", 0, BpfException.EXIT_RUNTIME);
            }
            int fd = Libc.memfdCreate(name, Libc.MFD_CLOEXEC);
            if (fd < 0) {
                throw new IOException("memfd_create: " + Libc.strerror(-fd));
            }
            Path path = Path.of("/proc/self/fd/" + fd);
            try (OutputStream out = Files.newOutputStream(path)) {
                in.transferTo(out);
            }
            return path;
        } catch (IOException e) {
            throw new BpfException("cannot copy " + name + " out of the jar into memory: " + e.getMessage(), 0,
                    BpfException.EXIT_RUNTIME);
        }
    }

    /**
     * Removes what earlier versions left in the temporary directory: forktrace-NNN directories of this user
     * that hold nothing but the two native files (an empty one after every run, both files after a SIGKILL).
     */
    static int removeStaleExtractions(Path tmp) {
        int removed = 0;
        long cutoff = System.currentTimeMillis() - STALE_MILLIS;
        Set<String> ours = Set.of(BPF_OBJECT, SHIM);
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tmp, "forktrace-[0-9]*")) {
            for (Path dir : dirs) {
                try {
                    PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    if (!a.isDirectory() || a.lastModifiedTime().toMillis() > cutoff
                            || !a.owner().getName().equals(System.getProperty("user.name"))
                            || !dir.getFileName().toString().matches("forktrace-[0-9]+")) {
                        continue;
                    }
                    boolean onlyOurs = true;
                    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
                        for (Path entry : entries) {
                            onlyOurs &= ours.contains(entry.getFileName().toString())
                                    && Files.isRegularFile(entry, LinkOption.NOFOLLOW_LINKS);
                        }
                    }
                    if (!onlyOurs) {
                        continue;
                    }
                    for (String name : ours) {
                        Files.deleteIfExists(dir.resolve(name));
                    }
                    Files.delete(dir);
                    removed++;
                } catch (IOException | RuntimeException e) {
                    // another user's, or in use and changing: left alone
                }
            }
        } catch (IOException | RuntimeException e) {
            // no temporary directory to tidy
        }
        return removed;
    }
}
