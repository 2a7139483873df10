package dev.forktrace.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forktrace.proto.v1.Container;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runtime state files as the runtimes write them, under a fake root; the fake /proc holds the daemons. */
class ContainerRuntimesTest {
    static final String DOCKER = "d".repeat(64);
    static final String PODMAN = "b".repeat(64);
    static final String CTR = "c".repeat(64);
    static final String UID = CgroupIdentityTest.UID;

    @TempDir
    Path root;

    private void write(String path, String text) throws IOException {
        Path file = root.resolve(path);
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }

    private void daemon(int pid, String comm, String... argv) throws IOException {
        write("proc/" + pid + "/comm", comm + "\n");
        write("proc/" + pid + "/cmdline", String.join("\0", argv) + "\0");
    }

    private ContainerRuntimes runtimes(List<String> warnings) throws IOException {
        // docker with a private data root, found in dockerd's command line
        daemon(10, "dockerd", "dockerd", "--data-root=/var/lib/ft-docker", "-H", "unix:///run/ft.sock");
        write("var/lib/ft-docker/containers/" + DOCKER + "/config.v2.json",
                "{\"ID\":\"" + DOCKER + "\",\"Name\":\"/web\",\"Config\":{\"Image\":\"ft-img:1\",\"Labels\":{"
                        + "\"io.kubernetes.pod.namespace\":\"shop\",\"io.kubernetes.pod.name\":\"cart\"}}}");
        write("var/lib/ft-docker/containers/" + DOCKER + "/hostconfig.json", "{\"PidsLimit\":20}");
        // podman with a private storage root, found through conmon's bundle
        daemon(11, "conmon", "/usr/bin/conmon", "--api-version", "1", "-c", PODMAN, "-u", PODMAN, "-n", "db", "-b",
                "/var/lib/ft-podman/overlay-containers/" + PODMAN + "/userdata");
        write("var/lib/ft-podman/overlay-containers/containers.json", "[{\"id\":\"" + PODMAN + "\",\"names\":[\"db\"],"
                + "\"metadata\":\"{\\\"image-name\\\":\\\"localhost/ft-img:latest\\\",\\\"name\\\":\\\"db\\\"}\"}]");
        write("var/lib/ft-podman/overlay-containers/" + PODMAN + "/userdata/config.json",
                "{\"linux\":{\"resources\":{\"pids\":{\"limit\":30}}}}");
        // containerd with a private state dir from its config file, CRI annotations in the bundle
        daemon(12, "containerd", "containerd", "--config", "/etc/ft-containerd.toml");
        write("etc/ft-containerd.toml", "root = \"/var/lib/ft-containerd\"\nstate = \"/run/ft-containerd\"\n");
        write("run/ft-containerd/io.containerd.runtime.v2.task/k8s.io/" + CTR + "/config.json",
                "{\"annotations\":{\"io.kubernetes.cri.sandbox-namespace\":\"prod\",\"io.kubernetes.cri.sandbox-name\":"
                        + "\"api-7d\",\"io.kubernetes.cri.container-name\":\"app\",\"io.kubernetes.cri.image-name\":"
                        + "\"registry/app:2\"}}");
        daemon(13, "bash", "bash");
        ContainerRuntimes r = new ContainerRuntimes(root, root.resolve("proc"), warnings::add);
        r.refresh();
        return r;
    }

    @Test
    void readsEachRuntimesOwnState() throws IOException {
        ContainerRuntimes r = runtimes(new ArrayList<>());
        Container docker = r.forPath("/docker/" + DOCKER);
        assertEquals("docker", docker.getRuntime());
        assertEquals("web", docker.getName());
        assertEquals("ft-img:1", docker.getImage());
        assertEquals("shop", docker.getPodNamespace());
        assertEquals("cart", docker.getPodName());
        assertEquals(20, r.entries().get(DOCKER).pidsLimit());

        Container podman = r.forPath("/libpod_parent/libpod-" + PODMAN);
        assertEquals("podman", podman.getRuntime());
        assertEquals("db", podman.getName());
        assertEquals("localhost/ft-img:latest", podman.getImage());
        assertEquals(30, r.entries().get(PODMAN).pidsLimit());

        Container cri = r.forPath("/kubepods/burstable/pod" + UID + "/" + CTR);
        assertEquals("containerd", cri.getRuntime());
        assertEquals("app", cri.getName());
        assertEquals("app", cri.getContainerName());
        assertEquals("registry/app:2", cri.getImage());
        assertEquals("prod", cri.getPodNamespace());
        assertEquals("api-7d", cri.getPodName());
        assertEquals(UID, cri.getPodUid());
        assertEquals("burstable", cri.getQosClass());
        assertEquals("cgroupfs", cri.getCgroupDriver());

        assertNull(r.forPath("/user.slice/user-0.slice"));
    }

    @Test
    void unknownContainerKeepsWhatThePathSaysAndCachesByCgroupId() throws IOException {
        ContainerRuntimes r = runtimes(new ArrayList<>());
        String id = "e".repeat(64);
        Container c = r.forCgroup(42, "/system.slice/docker-" + id + ".scope");
        assertEquals("docker", c.getRuntime());
        assertEquals(id, c.getId());
        assertEquals("", c.getName());
        assertEquals("systemd", c.getCgroupDriver());
        assertEquals(c, r.forCgroup(42, "ignored once cached"));
        assertNull(r.forCgroup(43, "/"));
    }

    @Test
    void aStateFileRewrittenWithinOneTimestampTickIsReadAgain() throws IOException {
        ContainerRuntimes r = runtimes(new ArrayList<>());
        String late = "9".repeat(64);
        assertEquals("", r.forCgroup(60, "/libpod_parent/libpod-" + late).getName());
        Path state = root.resolve("var/lib/ft-podman/overlay-containers/containers.json");
        var stamp = Files.getLastModifiedTime(state);
        write("var/lib/ft-podman/overlay-containers/containers.json", "[{\"id\":\"" + late + "\",\"names\":[\"late\"],"
                + "\"metadata\":\"{\\\"name\\\":\\\"late\\\"}\"}]");
        Files.setLastModifiedTime(state, stamp); // the kernel's coarse clock gave the rewrite the same mtime
        r.refresh();
        assertEquals("late", r.forCgroup(60, "/libpod_parent/libpod-" + late).getName());
    }

    @Test
    void aContainerTheStateDoesNotHoldYetIsWaitedForUntilTheNextRefreshOnly() throws IOException {
        ContainerRuntimes r = runtimes(new ArrayList<>());
        List<String> refreshed = new ArrayList<>();
        r.onRefresh(() -> refreshed.add("refreshed"));
        String late = "a".repeat(64); // started a moment ago: its first failure came before its state was read
        Container first = r.forCgroup(50, "/libpod_parent/libpod-" + late);
        assertEquals("", first.getName());
        assertTrue(r.nameMayCome(first), "no refresh since it was first seen: its name may come");
        write("var/lib/ft-podman/overlay-containers/containers.json", "[{\"id\":\"" + late + "\",\"names\":[\"victim\"],"
                + "\"metadata\":\"{\\\"image-name\\\":\\\"localhost/ft-img:latest\\\",\\\"name\\\":\\\"victim\\\"}\"}]");
        r.refresh();
        assertEquals(List.of("refreshed"), refreshed);
        assertFalse(r.nameMayCome(first));
        assertEquals("victim", r.forCgroup(50, "/libpod_parent/libpod-" + late).getName(), "the unnamed cache entry is gone");

        String never = "f".repeat(64); // in no state forktrace can read
        Container unknown = r.forCgroup(51, "/libpod_parent/libpod-" + never);
        assertTrue(r.nameMayCome(unknown));
        r.refresh();
        assertFalse(r.nameMayCome(unknown), "after one refresh it is not waited for again");
        assertFalse(r.nameMayCome(r.forCgroup(51, "/libpod_parent/libpod-" + never)));
        assertFalse(r.nameMayCome(null));
    }

    @Test
    void filtersFindContainersByNameOrIdAndPodsByLabels() throws IOException {
        ContainerRuntimes r = runtimes(new ArrayList<>());
        List<String> paths = List.of("/", "/docker", "/docker/" + DOCKER, "/libpod_parent", "/libpod_parent/libpod-" + PODMAN,
                "/kubepods", "/kubepods/burstable", "/kubepods/burstable/pod" + UID, "/kubepods/burstable/pod" + UID + "/" + CTR);
        assertEquals("/docker/" + DOCKER, ContainerFilter.containerPath("web", paths, r.entries()));
        assertEquals("/libpod_parent/libpod-" + PODMAN, ContainerFilter.containerPath("bbbbbb", paths, r.entries()));
        assertEquals("/kubepods/burstable/pod" + UID + "/" + CTR, ContainerFilter.containerPath("app", paths, r.entries()));
        assertEquals("/kubepods/burstable/pod" + UID, ContainerFilter.podPath("prod/api-7d", paths, r.entries()));
        assertEquals("/docker/" + DOCKER, ContainerFilter.podPath("shop/cart", paths, r.entries()));
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> ContainerFilter.containerPath("nope", paths, r.entries()));
        assertTrue(none.getMessage().contains("running: "), none.getMessage());
        assertTrue(none.getMessage().contains("web"), none.getMessage());
        IllegalArgumentException pod = assertThrows(IllegalArgumentException.class,
                () -> ContainerFilter.podPath("prod/other", paths, r.entries()));
        assertTrue(pod.getMessage().contains("prod/api-7d"), pod.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ContainerFilter.podPath("nonamespace", paths, r.entries()));
    }

    @Test
    void badStateFileIsReportedOnceAndCostsNothingElse() throws IOException {
        List<String> warnings = new ArrayList<>();
        ContainerRuntimes r = runtimes(warnings);
        write("var/lib/ft-docker/containers/" + "f".repeat(64) + "/config.v2.json", "{not json");
        r.refresh();
        r.refresh();
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("not valid JSON"), warnings.get(0));
        assertEquals("web", r.forPath("/docker/" + DOCKER).getName());
    }

    @Test
    void containerNoRuntimeKnowsIsReportedOncePerRuntime() throws IOException {
        List<String> warnings = new ArrayList<>();
        ContainerRuntimes r = runtimes(warnings);
        for (String id : new String[] {"1".repeat(64), "2".repeat(64)}) {
            Container c = r.forPath("/system.slice/docker-" + id + ".scope"); // answered from the path alone
            assertEquals("docker", c.getRuntime());
        }
        r.forPath("/libpod_parent/libpod-" + "3".repeat(64));
        r.reportUnresolved();
        r.forPath("/system.slice/docker-" + "4".repeat(64) + ".scope");
        r.reportUnresolved();
        assertEquals(2, warnings.size(), warnings.toString()); // one for docker, one for podman
        assertTrue(warnings.get(0).contains("looked in"), warnings.get(0));
        assertTrue(warnings.get(0).contains("/var/lib/ft-docker/containers"), warnings.get(0));
    }

    @Test
    void optionForms() {
        assertEquals("/x", ContainerRuntimes.option(List.of("d", "--data-root", "/x"), "--data-root", "-g"));
        assertEquals("/y", ContainerRuntimes.option(List.of("d", "--data-root=/y"), "--data-root", "-g"));
        assertEquals("/z", ContainerRuntimes.option(List.of("d", "-g", "/z"), "--data-root", "-g"));
        assertNull(ContainerRuntimes.option(List.of("d", "--data-root"), "--data-root", "-g"));
    }
}
