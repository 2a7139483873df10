package dev.forktrace.containers;

import dev.forktrace.proto.v1.Container;

/**
 * Who owns a limit, read from the layout, and how to change it: the sentence the operator needs after
 * "which limit". Pure: the caller passes what it knows.
 */
public final class LimitKnobs {
    private LimitKnobs() {}

    /**
     * The knob behind a pids limit on a cgroup. {@code container} is the identity of the refusing cgroup
     * (null when it is no container or pod); {@code mount} is the pids hierarchy's mount point.
     */
    public static String pidsLimit(String cgroupPath, Container container, String mount, long limit) {
        String last = cgroupPath.substring(cgroupPath.lastIndexOf('/') + 1);
        String n = limit > 0 && limit < Long.MAX_VALUE ? Long.toString(limit) : "N";
        if (container != null && !container.getId().isEmpty()
                && container.getCgroupPath().equals(cgroupPath)) {
            String who = container.getName().isEmpty() ? container.getId().substring(0, 12) : container.getName();
            return switch (container.getRuntime()) {
                case "docker" -> "the container's --pids-limit (docker run --pids-limit " + n + "; change it live with "
                        + "docker update --pids-limit M " + who + ")";
                case "podman" -> "the container's --pids-limit (podman run --pids-limit " + n + ", or pids_limit in "
                        + "containers.conf; podman update --pids-limit M " + who + " on podman 4.5+)";
                case "cri-o" -> "CRI-O's pids_limit (crio.conf [crio.runtime]) or the kubelet's podPidsLimit";
                default -> "the container's OCI spec linux.resources.pids.limit (" + n + "), set by "
                        + (container.getPodUid().isEmpty() ? "whoever created it (" + container.getRuntime() + ")"
                        : "the runtime for pod " + pod(container));
            };
        }
        if (container != null && !container.getPodUid().isEmpty() && container.getId().isEmpty()
                && container.getCgroupPath().equals(cgroupPath)) {
            return "the kubelet's podPidsLimit (" + n + ", KubeletConfiguration podPidsLimit or --pod-max-pids) for pod "
                    + pod(container) + "; it applies to every pod on the node";
        }
        if (last.equals("kubepods") || last.equals("kubepods.slice") || last.startsWith("kubepods-")
                && last.endsWith(".slice") && !last.contains("-pod")) {
            return "the kubelet's node allocatable (--system-reserved/--kube-reserved pid=, enforced on " + last + ")";
        }
        if (last.matches("user-\\d+\\.slice")) {
            return "logind's UserTasksMax= (/etc/systemd/logind.conf; on systemd 240+ TasksMax= of " + last
                    + "): systemctl set-property " + last + " TasksMax=M";
        }
        if (last.endsWith(".service") || last.endsWith(".scope") || last.endsWith(".slice")) {
            return "systemd TasksMax= of " + last + " (" + n + "; DefaultTasksMax= in system.conf when unset): "
                    + "systemctl set-property " + last + " TasksMax=M";
        }
        String directory = (mount == null ? "/sys/fs/cgroup/pids" : mount) + (cgroupPath.equals("/") ? "" : cgroupPath);
        return "pids.max of " + cgroupPath + " (written by whoever made the cgroup): echo M > " + directory + "/pids.max";
    }

    /**
     * Where an RLIMIT_NPROC most likely came from, given the failing process's cgroup path and container.
     */
    public static String rlimitNproc(long limit, String cgroupPath, Container container, int uid) {
        String prefix = "RLIMIT_NPROC " + (limit < 0 ? "unlimited" : limit) + " of the failing process";
        String counts = "; it counts every task of uid " + uid + " on the host, in every container";
        if (container != null && !container.getId().isEmpty()) {
            String from = switch (container.getRuntime()) {
                case "docker" -> "docker run --ulimit nproc=S:H (or dockerd --default-ulimit)";
                case "podman" -> "podman run --ulimit nproc=S:H (or default_ulimits in containers.conf)";
                case "cri-o" -> "CRI-O's default_ulimits (crio.conf)";
                default -> "the container's OCI spec process.rlimits, or the runtime daemon's own limit it inherited";
            };
            return prefix + ", likely from " + from + counts;
        }
        String last = cgroupPath == null ? "" : cgroupPath.substring(cgroupPath.lastIndexOf('/') + 1);
        if (last.endsWith(".service")) {
            return prefix + ", likely systemd LimitNPROC= of " + last + " (systemctl show -p LimitNPROC " + last
                    + ")" + counts;
        }
        if (cgroupPath != null && cgroupPath.contains("/user-") && last.startsWith("session-")) {
            return prefix + ", likely pam_limits (nproc in /etc/security/limits.conf or limits.d) at login" + counts;
        }
        return prefix + ", likely inherited (ulimit -u in a parent shell, limits.conf at login, or LimitNPROC= of the "
                + "service that started it)" + counts;
    }

    public static String pod(Container c) {
        return c.getPodName().isEmpty() ? "uid " + c.getPodUid() : c.getPodNamespace() + "/" + c.getPodName();
    }
}
