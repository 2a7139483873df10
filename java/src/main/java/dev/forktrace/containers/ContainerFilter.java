package dev.forktrace.containers;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Turns --container ID|NAME and --pod NAMESPACE/NAME into the one cgroup the kernel filter matches (with
 * everything below it). Pure over its inputs: the cgroup paths of the pids hierarchy and the runtime index.
 */
public final class ContainerFilter {
    private ContainerFilter() {}

    /**
     * The cgroup path of the container named or id-prefixed by {@code wanted}.
     *
     * @throws IllegalArgumentException saying what is running, when nothing or more than one container matches
     */
    public static String containerPath(String wanted, List<String> cgroupPaths, Map<String, ContainerRuntimes.Entry> known) {
        Map<String, String> matches = new TreeMap<>(); // id -> shortest container path
        TreeSet<String> running = new TreeSet<>();
        for (String path : cgroupPaths) {
            CgroupIdentity identity = CgroupIdentity.parse(path);
            if (!identity.isContainer()) {
                continue;
            }
            ContainerRuntimes.Entry entry = known.get(identity.id());
            String name = entry == null ? "" : entry.name();
            String k8sName = entry == null ? "" : entry.labels().getOrDefault("io.kubernetes.container.name",
                    entry.labels().getOrDefault("io.kubernetes.cri.container-name", ""));
            running.add(name.isEmpty() ? Containers.shortId(identity.id()) : name);
            boolean byId = wanted.length() >= 4 && identity.id().startsWith(wanted);
            if (byId || wanted.equals(name) || wanted.equals(k8sName)) {
                matches.merge(identity.id(), identity.containerPath(), (a, b) -> a.length() <= b.length() ? a : b);
            }
        }
        if (matches.size() == 1) {
            return matches.values().iterator().next();
        }
        if (matches.isEmpty()) {
            throw new IllegalArgumentException("no running container '" + wanted + "' has a cgroup here"
                    + (running.isEmpty() ? " (no container cgroups found)" : "; running: " + String.join(", ", running)));
        }
        throw new IllegalArgumentException("'" + wanted + "' matches " + matches.size() + " containers ("
                + String.join(", ", matches.keySet().stream().map(Containers::shortId).toList())
                + "): give more of the id");
    }

    /**
     * The cgroup path of pod NAMESPACE/NAME: the pod's own cgroup in a kubelet layout, else the one cgroup
     * all its containers share.
     */
    public static String podPath(String wanted, List<String> cgroupPaths, Map<String, ContainerRuntimes.Entry> known) {
        int slash = wanted.indexOf('/');
        if (slash <= 0 || slash == wanted.length() - 1) {
            throw new IllegalArgumentException("--pod takes NAMESPACE/NAME, e.g. default/web, not '" + wanted + "'");
        }
        String namespace = wanted.substring(0, slash);
        String name = wanted.substring(slash + 1);
        TreeSet<String> podPaths = new TreeSet<>();
        TreeSet<String> pods = new TreeSet<>();
        List<String> containerPaths = new ArrayList<>();
        for (String path : cgroupPaths) {
            CgroupIdentity identity = CgroupIdentity.parse(path);
            if (!identity.isContainer() || !known.containsKey(identity.id())) {
                continue;
            }
            Map<String, String> labels = known.get(identity.id()).labels();
            String ns = labels.getOrDefault("io.kubernetes.pod.namespace", labels.getOrDefault("io.kubernetes.cri.sandbox-namespace", ""));
            String pod = labels.getOrDefault("io.kubernetes.pod.name", labels.getOrDefault("io.kubernetes.cri.sandbox-name", ""));
            if (!pod.isEmpty()) {
                pods.add(ns + "/" + pod);
            }
            if (ns.equals(namespace) && pod.equals(name)) {
                if (!identity.podPath().isEmpty()) {
                    podPaths.add(identity.podPath());
                } else {
                    containerPaths.add(identity.containerPath());
                }
            }
        }
        if (podPaths.size() == 1) {
            return podPaths.first();
        }
        if (podPaths.isEmpty() && new TreeSet<>(containerPaths).size() == 1) {
            return containerPaths.get(0);
        }
        if (podPaths.isEmpty() && containerPaths.isEmpty()) {
            throw new IllegalArgumentException("no running container belongs to pod " + wanted
                    + (pods.isEmpty() ? " (no container carries io.kubernetes.pod.* labels or annotations)"
                    : "; pods seen: " + String.join(", ", pods)));
        }
        throw new IllegalArgumentException("pod " + wanted + " has no single cgroup (its containers sit in "
                + String.join(", ", podPaths.isEmpty() ? containerPaths : podPaths) + ")");
    }
}
