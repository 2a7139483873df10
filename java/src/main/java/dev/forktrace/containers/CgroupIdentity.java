package dev.forktrace.containers;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a cgroup path alone says about the container and pod it belongs to. Pure: no file is read.
 *
 * <p>Layouts (systemd driver on the left, cgroupfs on the right):
 * <pre>
 *   /system.slice/docker-ID.scope                      /docker/ID
 *   /machine.slice/libpod-ID.scope[/container]         /libpod_parent/libpod-ID
 *   .../crio-ID.scope  (crio-conmon-ID.scope is conmon) .../crio-ID
 *   .../cri-containerd-ID.scope                        /kubepods/QOS/podUID/ID, /kubepods/podUID/ID
 *   /kubepods.slice/kubepods-QOS.slice/kubepods-QOS-podUID_WITH_UNDERSCORES.slice/...
 *   /kubepods.slice/kubepods-podUID.slice/...   (Guaranteed pods sit directly under kubepods)
 * </pre>
 * A bare 64-hex component (ctr's /NAMESPACE/ID, a runtime's custom parent) gives an id whose runtime the
 * runtime state decides.
 *
 * @param runtime "docker", "containerd", "cri-o", "podman", or "" when only the id is known
 * @param id full container id, "" for a pod-level or non-container cgroup
 * @param podUid Kubernetes pod UID with dashes, "" outside a pod
 * @param qosClass "guaranteed", "burstable", "besteffort" for pods, else ""
 * @param driver "systemd" or "cgroupfs" (the spelling of the matched component)
 * @param containerPath the path up to and including the container's own component ("" without id)
 * @param podPath the path up to and including the pod's component ("" outside a pod)
 */
public record CgroupIdentity(String runtime, String id, String podUid, String qosClass, String driver,
        String containerPath, String podPath) {
    public static final CgroupIdentity NONE = new CgroupIdentity("", "", "", "", "", "", "");

    private static final String HEX64 = "([0-9a-f]{64})";
    private static final Pattern SYSTEMD_SCOPE = Pattern.compile(
            "(docker|cri-containerd|crio|libpod)-" + HEX64 + "\\.scope");
    private static final Pattern CGROUPFS_PREFIXED = Pattern.compile("(crio|libpod|docker|cri-containerd)-" + HEX64);
    private static final Pattern BARE_ID = Pattern.compile(HEX64);
    private static final Pattern CGROUPFS_POD = Pattern.compile("pod([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})");
    private static final Pattern SYSTEMD_POD = Pattern.compile(
            "kubepods(?:-(burstable|besteffort))?-pod([0-9a-f]{8}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{12})\\.slice");

    public boolean isContainer() {
        return !id.isEmpty();
    }

    public boolean inPod() {
        return !podUid.isEmpty();
    }

    public boolean isEmpty() {
        return id.isEmpty() && podUid.isEmpty();
    }

    /** The identity of "/a/b/c"; NONE when the path shows neither a container nor a pod. */
    public static CgroupIdentity parse(String path) {
        if (path == null || path.isEmpty()) {
            return NONE;
        }
        String[] parts = path.split("/");
        String runtime = "";
        String id = "";
        String driver = "";
        int containerIndex = -1;
        // The innermost container wins (docker in docker: /docker/A/docker/B is B).
        for (int i = parts.length - 1; i >= 0 && containerIndex < 0; i--) {
            String part = parts[i];
            Matcher m;
            if ((m = SYSTEMD_SCOPE.matcher(part)).matches()) {
                runtime = runtimeOf(m.group(1));
                id = m.group(2);
                driver = "systemd";
                containerIndex = i;
            } else if ((m = CGROUPFS_PREFIXED.matcher(part)).matches()) {
                runtime = runtimeOf(m.group(1));
                id = m.group(2);
                driver = "cgroupfs";
                containerIndex = i;
            } else if ((m = BARE_ID.matcher(part)).matches()) {
                id = m.group(1);
                driver = "cgroupfs";
                containerIndex = i;
                if (i > 0 && parts[i - 1].equals("docker")) {
                    runtime = "docker";
                }
            }
        }
        String podUid = "";
        String qos = "";
        int podIndex = -1;
        int end = containerIndex >= 0 ? containerIndex : parts.length - 1;
        for (int i = end; i >= 0 && podIndex < 0; i--) {
            Matcher m;
            if ((m = SYSTEMD_POD.matcher(parts[i])).matches()) {
                podUid = m.group(2).replace('_', '-');
                qos = m.group(1) == null ? "guaranteed" : m.group(1);
                podIndex = i;
                if (driver.isEmpty()) {
                    driver = "systemd";
                }
            } else if ((m = CGROUPFS_POD.matcher(parts[i])).matches() && i > 0
                    && (parts[i - 1].equals("kubepods") || i > 1 && parts[i - 2].equals("kubepods"))) {
                podUid = m.group(1);
                qos = parts[i - 1].equals("kubepods") ? "guaranteed" : parts[i - 1];
                podIndex = i;
                if (driver.isEmpty()) {
                    driver = "cgroupfs";
                }
            }
        }
        if (containerIndex < 0 && podIndex < 0) {
            return NONE;
        }
        return new CgroupIdentity(runtime, id, podUid, qos, driver, prefix(parts, containerIndex),
                prefix(parts, podIndex));
    }

    private static String runtimeOf(String prefix) {
        return switch (prefix) {
            case "docker" -> "docker";
            case "cri-containerd" -> "containerd";
            case "crio" -> "cri-o";
            default -> "podman";
        };
    }

    private static String prefix(String[] parts, int index) {
        if (index < 0) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i <= index; i++) {
            if (!parts[i].isEmpty()) {
                b.append('/').append(parts[i]);
            }
        }
        return b.toString();
    }
}
