package dev.forktrace.containers;

import dev.forktrace.proto.v1.Container;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names and images of containers, from the runtimes' own state on the box: docker's
 * DATA_ROOT/containers/ID/config.v2.json, containers/storage's containers.json (podman, CRI-O) with the
 * bundle's config.json, containerd's task bundles STATE/io.containerd.runtime.v2.task/NS/ID/config.json.
 * Non-default roots are found in the daemons' command lines (dockerd --data-root, containerd --state or its
 * config file, conmon -b).
 *
 * <p>All file reading happens on one background thread, which rebuilds an immutable index by container id
 * every second (files are re-parsed only when their mtime, size or inode changes). The per-event path only parses the
 * cgroup path and looks the id up in that index, so a runtime whose state cannot be read costs nothing;
 * such a container is reported once per runtime.
 */
public final class ContainerRuntimes implements AutoCloseable {
    /** One container as its runtime recorded it. */
    public record Entry(String runtime, String id, String name, String image, Map<String, String> labels,
            long pidsLimit, String source) {}

    private static final long REFRESH_MILLIS = 1000;
    private static final int DISCOVER_EVERY = 10; // daemon command lines are re-read every 10 refreshes
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern TOML_STATE = Pattern.compile("(?m)^\\s*state\\s*=\\s*\"([^\"]+)\"");

    private final Path proc;
    private final Path root; // "/" normally; a fake root in tests
    private final Consumer<String> warnings;
    private volatile Map<String, Entry> byId = Map.of();
    private volatile Set<String> lookedIn = Set.of();
    private final Map<Path, Parsed> parsedFiles = new HashMap<>();
    private final Map<Long, Container> byCgroupId = new ConcurrentHashMap<>();
    private final Set<String> reported = ConcurrentHashMap.newKeySet();
    private final Set<String> unresolved = ConcurrentHashMap.newKeySet();
    /** Container ids a cgroup path showed before the state held them, and how many refreshes had completed then. */
    private final Map<String, Long> firstMissedAt = new ConcurrentHashMap<>();
    private volatile long completedRefreshes;
    private volatile boolean refreshing; // a refresh under way may have read the state before the container was in it
    private volatile Runnable onRefresh = () -> { };
    private Set<Path> dockerRoots = Set.of();
    private Set<Path> containerdStates = Set.of();
    private Set<Path> storageRoots = Set.of();
    private Map<String, Path> conmonBundles = Map.of();
    private Map<String, String> conmonNames = Map.of();
    private int refreshes;
    private final Object wake = new Object();
    private volatile boolean closed;
    private Thread thread;

    /**
     * A parsed file and the version it was parsed from. mtime alone misses a rewrite within one timestamp tick
     * (the kernel stamps files with a coarse clock, a few ms): a rewrite almost always changes the size, and a
     * runtime that writes a new file and renames it over the old (podman, containerd) changes the inode.
     */
    private record Parsed(java.nio.file.attribute.FileTime mtime, long size, Object fileKey, Object value) {
        boolean parsedFrom(java.nio.file.attribute.BasicFileAttributes file) {
            return mtime.equals(file.lastModifiedTime()) && size == file.size()
                    && java.util.Objects.equals(fileKey, file.fileKey());
        }
    }

    public ContainerRuntimes(Path root, Path proc, Consumer<String> warnings) {
        this.root = root;
        this.proc = proc;
        this.warnings = warnings;
    }

    /** For this machine; warnings go to standard error, each once. */
    public static ContainerRuntimes forThisMachine() {
        return new ContainerRuntimes(Path.of("/"), Path.of("/proc"), message -> System.err.println("forktrace: " + message));
    }

    /**
     * Keeps the state fresh on a daemon thread, which reads it right away: the caller (a capture being
     * built) does not wait, so the first failures are attributed while their offenders still run.
     */
    public synchronized ContainerRuntimes start() {
        if (thread == null) {
            thread = Thread.ofPlatform().daemon().name("forktrace-containers").start(() -> {
                refreshQuietly();
                loop();
            });
        }
        return this;
    }

    private void refreshQuietly() {
        try {
            refresh();
            reportUnresolved();
        } catch (RuntimeException e) {
            report("state", "reading container runtime state failed: " + e);
        }
    }

    /** Reads the runtime state now, on this thread (command-line filters need it before attaching). */
    public synchronized void refresh() {
        refreshing = true;
        if (refreshes++ % DISCOVER_EVERY == 0) {
            discoverDaemons();
        }
        Map<String, Entry> next = new LinkedHashMap<>();
        Set<String> places = new LinkedHashSet<>();
        for (Path state : containerdStates) {
            readContainerd(state, next, places);
        }
        for (Path storage : storageRoots) {
            readContainersStorage(storage, next, places);
        }
        for (Path dataRoot : dockerRoots) { // last: docker's own record wins over its containerd's "moby" task
            readDocker(dataRoot, next, places);
        }
        byId = Map.copyOf(next);
        lookedIn = Set.copyOf(places);
        byCgroupId.values().removeIf(c -> !c.getId().isEmpty() && c.getName().isEmpty() && next.containsKey(c.getId()));
        completedRefreshes++; // synchronized: one writer
        refreshing = false;
        onRefresh.run();
    }

    /** Called after every refresh (on the refreshing thread): failures held for a container's name may go. */
    public void onRefresh(Runnable listener) {
        this.onRefresh = listener;
    }

    /**
     * Whether this container's name may still come: its id is not in the runtime state, and no refresh has
     * completed since a cgroup path first showed it (a container that failed in its first moments, before
     * the runtime state was re-read). False once one has: a container no state holds is not waited for again.
     */
    public boolean nameMayCome(Container container) {
        if (container == null || container.getId().isEmpty() || !container.getName().isEmpty()) {
            return false;
        }
        Long missedAt = firstMissedAt.get(container.getId());
        return missedAt != null && completedRefreshes <= missedAt;
    }

    private void loop() {
        while (!closed) {
            synchronized (wake) {
                try {
                    wake.wait(REFRESH_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
            }
            if (closed) {
                return;
            }
            refreshQuietly();
        }
    }

    @Override
    public void close() {
        closed = true;
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    /** Every container known now, by id. */
    public Map<String, Entry> entries() {
        return byId;
    }

    /**
     * The container identity of a cgroup, by its id (cached) and path; null when the path shows neither
     * container nor pod. Never reads a file.
     */
    public Container forCgroup(long cgroupId, String path) {
        if (cgroupId != 0) {
            Container cached = byCgroupId.get(cgroupId);
            if (cached != null) {
                return cached.equals(Container.getDefaultInstance()) ? null : cached;
            }
        }
        Container container = forPath(path);
        if (cgroupId != 0 && path != null && !path.startsWith("cgroup id ")) {
            if (byCgroupId.size() > 8192) {
                byCgroupId.clear();
            }
            byCgroupId.put(cgroupId, container == null ? Container.getDefaultInstance() : container);
        }
        return container;
    }

    /** The container identity of a cgroup path; null when it shows neither container nor pod. Never reads a file. */
    public Container forPath(String path) {
        CgroupIdentity identity = CgroupIdentity.parse(path);
        if (identity.isEmpty()) {
            return null;
        }
        Entry entry = identity.isContainer() ? byId.get(identity.id()) : null;
        if (identity.isContainer() && entry == null) {
            if (firstMissedAt.size() > 8192) {
                firstMissedAt.clear();
            }
            firstMissedAt.putIfAbsent(identity.id(), completedRefreshes + (refreshing ? 1 : 0));
            unresolved.add(identity.runtime() + "|" + identity.id());
            synchronized (wake) {
                wake.notifyAll();
            }
        }
        return build(identity, entry);
    }

    /** Pure: the Container message from what the path says and what the runtime recorded (entry may be null). */
    public static Container build(CgroupIdentity identity, Entry entry) {
        Container.Builder c = Container.newBuilder().setId(identity.id()).setPodUid(identity.podUid())
                .setQosClass(identity.qosClass()).setCgroupPath(identity.isContainer() ? identity.containerPath()
                        : identity.podPath()).setCgroupDriver(identity.driver());
        String runtime = identity.runtime();
        if (entry != null) {
            if (runtime.isEmpty()) { // the path's prefix (libpod-, crio-, docker-) is surer than the state's guess
                runtime = entry.runtime();
            }
            c.setName(entry.name()).setImage(entry.image());
            Map<String, String> l = entry.labels();
            c.setPodNamespace(first(l, "io.kubernetes.pod.namespace", "io.kubernetes.cri.sandbox-namespace"));
            c.setPodName(first(l, "io.kubernetes.pod.name", "io.kubernetes.cri.sandbox-name"));
            c.setContainerName(first(l, "io.kubernetes.container.name", "io.kubernetes.cri.container-name"));
            if (c.getPodUid().isEmpty()) {
                c.setPodUid(first(l, "io.kubernetes.pod.uid", "io.kubernetes.cri.sandbox-uid"));
            }
        }
        if (runtime.isEmpty() && identity.inPod()) {
            runtime = "kubernetes";
        }
        return c.setRuntime(runtime).build();
    }

    private static String first(Map<String, String> labels, String... keys) {
        for (String key : keys) {
            String value = labels.get(key);
            if (value != null && !value.isEmpty()) {
                return value;
            }
        }
        return "";
    }

    /** Containers whose ids a cgroup path showed but no runtime state holds: said once per runtime. */
    void reportUnresolved() {
        for (String key : List.copyOf(unresolved)) {
            unresolved.remove(key);
            String runtime = key.substring(0, key.indexOf('|'));
            String id = key.substring(key.indexOf('|') + 1);
            if (!byId.containsKey(id)) {
                report(runtime, "container " + id.substring(0, 12) + (runtime.isEmpty() ? "" : " (" + runtime + ")")
                        + " is not in any container runtime state forktrace can read (looked in "
                        + (lookedIn.isEmpty() ? "nothing: no runtime found" : String.join(", ", lookedIn))
                        + "); its name and image are left out, for this and any other such container"
                        + (runtime.isEmpty() ? "" : " of " + runtime));
            }
        }
    }

    private void report(String key, String message) {
        if (reported.add(key)) {
            warnings.accept(message);
        }
    }

    // ---- where the runtimes keep their state ----

    private void discoverDaemons() {
        Set<Path> docker = new LinkedHashSet<>();
        Set<Path> containerd = new LinkedHashSet<>();
        Set<Path> storage = new LinkedHashSet<>();
        Map<String, Path> bundles = new HashMap<>();
        Map<String, String> names = new HashMap<>();
        docker.add(host("/var/lib/docker"));
        String daemonJson = read(host("/etc/docker/daemon.json"));
        if (daemonJson != null) {
            try {
                String dataRoot = MiniJson.string(MiniJson.parse(daemonJson), "data-root");
                if (!dataRoot.isEmpty()) {
                    docker.add(host(dataRoot));
                }
            } catch (IllegalArgumentException e) {
                report("daemon.json", "/etc/docker/daemon.json is not valid JSON (" + e.getMessage() + "); its data-root is not used");
            }
        }
        containerd.add(host("/run/containerd"));
        storage.add(host("/var/lib/containers/storage"));
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(proc)) {
            for (Path entry : entries) {
                String pid = entry.getFileName().toString();
                if (pid.isEmpty() || !Character.isDigit(pid.charAt(0))) {
                    continue;
                }
                String comm = read(entry.resolve("comm"));
                comm = comm == null ? "" : comm.strip();
                if (!comm.equals("dockerd") && !comm.equals("containerd") && !comm.equals("conmon")) {
                    continue;
                }
                List<String> argv = argv(entry);
                switch (comm) {
                    case "dockerd" -> {
                        String dataRoot = option(argv, "--data-root", "-g");
                        if (dataRoot != null) {
                            docker.add(host(dataRoot));
                        }
                    }
                    case "containerd" -> {
                        String state = option(argv, "--state", null);
                        String config = option(argv, "--config", "-c");
                        if (state == null && config != null) {
                            String toml = read(host(config));
                            Matcher m = toml == null ? null : TOML_STATE.matcher(toml);
                            state = m != null && m.find() ? m.group(1) : null;
                        }
                        if (state != null) {
                            containerd.add(host(state));
                        }
                    }
                    default -> { // conmon: -c ID -n NAME -b BUNDLE (podman and CRI-O)
                        String id = option(argv, "-c", "--cid");
                        String bundle = option(argv, "-b", "--bundle");
                        String name = option(argv, "-n", "--name");
                        if (id != null && bundle != null) {
                            bundles.put(id, host(bundle));
                            Path userdata = host(bundle);
                            // GRAPHROOT/overlay-containers/ID/userdata: the storage root is three levels up
                            if (userdata.getNameCount() >= 3 && userdata.getParent().getFileName().toString().equals(id)) {
                                storage.add(userdata.getParent().getParent().getParent());
                            }
                        }
                        if (id != null && name != null) {
                            names.put(id, name);
                        }
                    }
                }
            }
        } catch (IOException e) {
            // no /proc: only the default roots
        }
        dockerRoots = docker;
        containerdStates = containerd;
        storageRoots = storage;
        conmonBundles = bundles;
        conmonNames = names;
    }

    private void readDocker(Path dataRoot, Map<String, Entry> into, Set<String> places) {
        Path containers = dataRoot.resolve("containers");
        if (!Files.isDirectory(containers)) {
            return;
        }
        places.add(containers.toString());
        for (Path dir : list(containers)) {
            String id = dir.getFileName().toString();
            if (!HEX64.matcher(id).matches()) {
                continue;
            }
            Object config = parsed(dir.resolve("config.v2.json"));
            if (config == null) {
                continue;
            }
            String name = MiniJson.string(config, "Name");
            Object host = parsed(dir.resolve("hostconfig.json"));
            into.put(id, new Entry("docker", id, name.startsWith("/") ? name.substring(1) : name,
                    MiniJson.string(config, "Config", "Image"), strings(MiniJson.object(config, "Config", "Labels")),
                    number(MiniJson.object(host), "PidsLimit"), dir.resolve("config.v2.json").toString()));
        }
    }

    private void readContainersStorage(Path graphRoot, Map<String, Entry> into, Set<String> places) {
        for (Path driverDir : list(graphRoot)) {
            Path file = driverDir.resolve("containers.json");
            if (!driverDir.getFileName().toString().endsWith("-containers") || !Files.isRegularFile(file)) {
                continue;
            }
            places.add(file.toString());
            if (!(parsed(file) instanceof List<?> containers)) {
                continue;
            }
            for (Object item : containers) {
                String id = MiniJson.string(item, "id");
                if (id.isEmpty()) {
                    continue;
                }
                String name = conmonNames.getOrDefault(id, "");
                String image = "";
                String metadata = MiniJson.string(item, "metadata");
                if (!metadata.isEmpty()) {
                    try {
                        Object meta = MiniJson.parse(metadata);
                        image = MiniJson.string(meta, "image-name");
                        if (name.isEmpty()) {
                            name = MiniJson.string(meta, "name");
                        }
                    } catch (IllegalArgumentException e) {
                        // metadata is the runtime's free-form string: use the other fields
                    }
                }
                if (name.isEmpty() && item instanceof Map<?, ?> fields && fields.get("names") instanceof List<?> names
                        && !names.isEmpty()) {
                    name = String.valueOf(names.get(0));
                }
                Path bundle = conmonBundles.getOrDefault(id, driverDir.resolve(id).resolve("userdata"));
                Object spec = parsed(bundle.resolve("config.json"));
                Map<String, String> annotations = strings(MiniJson.object(spec, "annotations"));
                // podman writes io.kubernetes.cri-o.* annotations too; a CRI-O sandbox id is CRI-O's own
                String runtime = annotations.containsKey("io.kubernetes.cri-o.SandboxID")
                        && !annotations.containsKey("io.podman.annotations.init") ? "cri-o" : "podman";
                if (image.isEmpty()) {
                    image = annotations.getOrDefault("io.kubernetes.cri-o.ImageName", "");
                }
                into.put(id, new Entry(runtime, id, name, image, annotations, pidsLimit(spec), file.toString()));
            }
        }
    }

    private void readContainerd(Path state, Map<String, Entry> into, Set<String> places) {
        for (String runtimeDir : new String[] {"io.containerd.runtime.v2.task", "io.containerd.runtime.v1.linux"}) {
            Path tasks = state.resolve(runtimeDir);
            if (!Files.isDirectory(tasks)) {
                continue;
            }
            places.add(tasks.toString());
            for (Path namespace : list(tasks)) {
                for (Path task : list(namespace)) {
                    String id = task.getFileName().toString();
                    Object spec = parsed(task.resolve("config.json"));
                    if (spec == null) {
                        continue;
                    }
                    Map<String, String> annotations = strings(MiniJson.object(spec, "annotations"));
                    String name = annotations.getOrDefault("io.kubernetes.cri.container-name", id);
                    into.put(id, new Entry("containerd", id, name,
                            annotations.getOrDefault("io.kubernetes.cri.image-name", ""), annotations, pidsLimit(spec),
                            task.resolve("config.json") + " (namespace " + namespace.getFileName() + ")"));
                }
            }
        }
    }

    private static long pidsLimit(Object spec) {
        return number(MiniJson.object(spec, "linux", "resources", "pids"), "limit");
    }

    private static long number(Map<String, Object> object, String key) {
        return object != null && object.get(key) instanceof Double d ? d.longValue() : 0;
    }

    private static Map<String, String> strings(Map<String, Object> object) {
        if (object == null) {
            return Map.of();
        }
        Map<String, String> out = new HashMap<>();
        object.forEach((k, v) -> {
            if (v instanceof String s) {
                out.put(k, s);
            }
        });
        return out;
    }

    /** A JSON file parsed once per version (mtime, size, inode); null when absent or malformed (said once per file). */
    private Object parsed(Path file) {
        try {
            var version = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class);
            Parsed cached = parsedFiles.get(file);
            if (cached != null && cached.parsedFrom(version)) {
                return cached.value();
            }
            String text = Files.readString(file);
            Object value;
            try {
                value = MiniJson.parse(text);
            } catch (IllegalArgumentException e) {
                report(file.toString(), file + " is not valid JSON (" + e.getMessage() + "); that container stays unnamed");
                value = null;
            }
            if (parsedFiles.size() > 4096) {
                parsedFiles.clear();
            }
            parsedFiles.put(file, new Parsed(version.lastModifiedTime(), version.size(), version.fileKey(), value));
            return value;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private Path host(String absolute) {
        return root.resolve(absolute.startsWith("/") ? absolute.substring(1) : absolute);
    }

    private static List<Path> list(Path dir) {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            entries.forEach(out::add);
        } catch (IOException | RuntimeException e) {
            // gone or unreadable: nothing in it
        }
        return out;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static List<String> argv(Path procEntry) {
        String raw = read(procEntry.resolve("cmdline"));
        return raw == null || raw.isEmpty() ? List.of() : List.of(raw.split("\0"));
    }

    /** The value of "--flag VALUE" or "--flag=VALUE" (or the short form), else null. Pure. */
    static String option(List<String> argv, String longName, String shortName) {
        for (int i = 0; i < argv.size(); i++) {
            String arg = argv.get(i);
            for (String name : shortName == null ? new String[] {longName} : new String[] {longName, shortName}) {
                if (arg.equals(name) && i + 1 < argv.size()) {
                    return argv.get(i + 1);
                }
                if (arg.startsWith(name + "=")) {
                    return arg.substring(name.length() + 1);
                }
            }
        }
        return null;
    }
}
