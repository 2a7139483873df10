package dev.forktrace.containers;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forktrace.proto.v1.Container;
import org.junit.jupiter.api.Test;

class LimitKnobsTest {
    static final String ID = CgroupIdentityTest.ID;
    static final String UID = CgroupIdentityTest.UID;

    private static Container container(String path, String runtime, String name) {
        return ContainerRuntimes.build(CgroupIdentity.parse(path),
                new ContainerRuntimes.Entry(runtime, ID, name, "img", java.util.Map.of(), 0, "test"));
    }

    private static void contains(String text, String... parts) {
        for (String part : parts) {
            assertTrue(text.contains(part), "'" + part + "' not in: " + text);
        }
    }

    @Test
    void dockerAndPodmanContainersPointAtPidsLimit() {
        String docker = "/docker/" + ID;
        contains(LimitKnobs.pidsLimit(docker, container(docker, "docker", "web"), "/sys/fs/cgroup/pids", 20),
                "--pids-limit", "docker run --pids-limit 20", "docker update --pids-limit M web");
        String podman = "/libpod_parent/libpod-" + ID;
        contains(LimitKnobs.pidsLimit(podman, container(podman, "podman", "db"), null, 30), "podman run --pids-limit 30");
    }

    @Test
    void podCgroupPointsAtKubeletPodPidsLimit() {
        String pod = "/kubepods/burstable/pod" + UID;
        Container c = ContainerRuntimes.build(CgroupIdentity.parse(pod), null);
        contains(LimitKnobs.pidsLimit(pod, c, null, 100), "podPidsLimit", "100", UID);
    }

    @Test
    void systemdUnitsAndUserSlices() {
        contains(LimitKnobs.pidsLimit("/user.slice/user-1000.slice", null, null, 12288), "UserTasksMax",
                "systemctl set-property user-1000.slice TasksMax=M");
        contains(LimitKnobs.pidsLimit("/system.slice/nginx.service", null, null, 50), "TasksMax= of nginx.service",
                "systemctl set-property nginx.service TasksMax=M");
        contains(LimitKnobs.pidsLimit("/ft/a", null, "/sys/fs/cgroup/pids", 10), "pids.max of /ft/a",
                "echo M > /sys/fs/cgroup/pids/ft/a/pids.max");
        contains(LimitKnobs.pidsLimit("/kubepods", null, null, 1000), "node allocatable");
    }

    @Test
    void rlimitNprocSources() {
        String docker = "/docker/" + ID;
        contains(LimitKnobs.rlimitNproc(10, docker, container(docker, "docker", "web"), 61400), "RLIMIT_NPROC 10",
                "docker run --ulimit nproc", "every task of uid 61400 on the host, in every container");
        contains(LimitKnobs.rlimitNproc(64, "/system.slice/app.service", null, 0), "LimitNPROC= of app.service");
        contains(LimitKnobs.rlimitNproc(64, "/user.slice/user-1000.slice/session-2.scope", null, 1000), "limits.conf");
        contains(LimitKnobs.rlimitNproc(64, "/", null, 1000), "inherited");
    }
}
