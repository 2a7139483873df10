package dev.forktrace.cli;

import dev.forktrace.containers.ContainerFilter;
import dev.forktrace.containers.ContainerRuntimes;
import dev.forktrace.system.CgroupPaths;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** --container and --pod for watch and run: each picks one cgroup, which the kernel filter matches by id. */
public final class ContainerOptions {
    @Option(names = "--container", paramLabel = "ID|NAME",
            description = "Only failures in this container (docker, podman, containerd, CRI-O): a name or an id prefix.")
    String container;

    @Option(names = "--pod", paramLabel = "NAMESPACE/NAME",
            description = "Only failures in this Kubernetes pod (from the runtime's io.kubernetes.pod.* labels).")
    String pod;

    boolean given() {
        return container != null || pod != null;
    }

    String flag() {
        return container != null && pod != null ? "--container/--pod" : container != null ? "--container" : "--pod";
    }

    /** The cgroup path to filter on; IllegalArgumentException says what is running instead. */
    String cgroupPath(CgroupPaths cgroups, ContainerRuntimes runtimes) {
        if (container != null && pod != null) {
            throw new IllegalArgumentException("give --container or --pod, not both (each is one cgroup)");
        }
        CgroupPaths.Hierarchy hierarchy = cgroups.mount(CgroupPaths.Hierarchy.PIDS) != null
                ? CgroupPaths.Hierarchy.PIDS : CgroupPaths.Hierarchy.UNIFIED;
        List<String> paths = cgroups.all(hierarchy);
        String path = container != null ? ContainerFilter.containerPath(container, paths, runtimes.entries())
                : ContainerFilter.podPath(pod, paths, runtimes.entries());
        return cgroups.mount(hierarchy).resolve(path.substring(1)).toString();
    }

    List<String> asFilters() {
        List<String> out = new ArrayList<>();
        if (container != null) out.add("--container " + container);
        if (pod != null) out.add("--pod " + pod);
        return out;
    }
}
