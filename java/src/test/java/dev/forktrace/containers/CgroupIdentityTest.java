package dev.forktrace.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CgroupIdentityTest {
    static final String ID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    static final String ID2 = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
    static final String UID = "8d3b2c1a-1111-4222-8333-944455556666";
    static final String UID_ = UID.replace('-', '_');

    static Stream<Arguments> layouts() {
        return Stream.of(
                // path, runtime, id, pod uid, qos, driver, container path, pod path
                Arguments.of("/system.slice/docker-" + ID + ".scope", "docker", ID, "", "", "systemd",
                        "/system.slice/docker-" + ID + ".scope", ""),
                Arguments.of("/docker/" + ID, "docker", ID, "", "", "cgroupfs", "/docker/" + ID, ""),
                Arguments.of("/docker/" + ID + "/docker/" + ID2, "docker", ID2, "", "", "cgroupfs",
                        "/docker/" + ID + "/docker/" + ID2, ""),
                Arguments.of("/machine.slice/libpod-" + ID + ".scope/container", "podman", ID, "", "", "systemd",
                        "/machine.slice/libpod-" + ID + ".scope", ""),
                Arguments.of("/libpod_parent/libpod-" + ID, "podman", ID, "", "", "cgroupfs", "/libpod_parent/libpod-" + ID, ""),
                Arguments.of("/machine.slice/libpod-conmon-" + ID + ".scope", "", "", "", "", "", "", ""),
                Arguments.of("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID_
                        + ".slice/cri-containerd-" + ID + ".scope", "containerd", ID, UID, "burstable", "systemd",
                        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID_ + ".slice/cri-containerd-"
                                + ID + ".scope",
                        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID_ + ".slice"),
                Arguments.of("/kubepods.slice/kubepods-pod" + UID_ + ".slice/crio-" + ID + ".scope", "cri-o", ID, UID,
                        "guaranteed", "systemd", "/kubepods.slice/kubepods-pod" + UID_ + ".slice/crio-" + ID + ".scope",
                        "/kubepods.slice/kubepods-pod" + UID_ + ".slice"),
                Arguments.of("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + UID_
                        + ".slice/crio-conmon-" + ID + ".scope", "", "", UID, "besteffort", "systemd", "",
                        "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + UID_ + ".slice"),
                Arguments.of("/kubepods/burstable/pod" + UID + "/" + ID, "", ID, UID, "burstable", "cgroupfs",
                        "/kubepods/burstable/pod" + UID + "/" + ID, "/kubepods/burstable/pod" + UID),
                Arguments.of("/kubepods/pod" + UID + "/" + ID, "", ID, UID, "guaranteed", "cgroupfs",
                        "/kubepods/pod" + UID + "/" + ID, "/kubepods/pod" + UID),
                Arguments.of("/kubepods/besteffort/pod" + UID + "/crio-" + ID, "cri-o", ID, UID, "besteffort", "cgroupfs",
                        "/kubepods/besteffort/pod" + UID + "/crio-" + ID, "/kubepods/besteffort/pod" + UID),
                Arguments.of("/kubepods/burstable/pod" + UID, "", "", UID, "burstable", "cgroupfs", "",
                        "/kubepods/burstable/pod" + UID),
                Arguments.of("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID_ + ".slice", "", "",
                        UID, "burstable", "systemd", "",
                        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID_ + ".slice"),
                Arguments.of("/default/" + ID, "", ID, "", "", "cgroupfs", "/default/" + ID, ""),
                Arguments.of("/user.slice/user-1000.slice/session-3.scope", "", "", "", "", "", "", ""),
                Arguments.of("/", "", "", "", "", "", "", ""),
                Arguments.of("/pod" + UID + "/x", "", "", "", "", "", "", ""), // a pod<uid> not under kubepods
                Arguments.of("/docker/" + ID.substring(1), "", "", "", "", "", "", "")); // 63 hex digits: no id
    }

    @ParameterizedTest
    @MethodSource("layouts")
    void parsesEveryKnownLayout(String path, String runtime, String id, String podUid, String qos, String driver,
            String containerPath, String podPath) {
        CgroupIdentity identity = CgroupIdentity.parse(path);
        assertEquals(new CgroupIdentity(runtime, id, podUid, qos, driver, containerPath, podPath), identity, path);
    }
}
