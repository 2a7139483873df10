package dev.forktrace.containers;

import dev.forktrace.proto.v1.Container;

/** How a container is written for people: in messages, text lines, report rows and Perfetto track names. */
public final class Containers {
    private Containers() {}

    /**
     * "docker container ft14-web (image ft14-img, id 0123456789ab)", "pod default/api container app
     * (containerd, id ...)", "pod uid 1234... (burstable)" for a pod-level cgroup.
     */
    public static String describe(Container c) {
        StringBuilder b = new StringBuilder();
        if (!c.getPodUid().isEmpty() || !c.getPodName().isEmpty()) {
            b.append("pod ").append(LimitKnobs.pod(c));
            if (!c.getQosClass().isEmpty()) {
                b.append(" [").append(c.getQosClass()).append(']');
            }
            if (c.getId().isEmpty()) {
                return b.toString();
            }
            b.append(' ');
        }
        String name = !c.getContainerName().isEmpty() ? c.getContainerName() : c.getName();
        b.append(c.getRuntime().isEmpty() ? "" : c.getRuntime() + " ").append("container ")
                .append(name.isEmpty() ? shortId(c.getId()) : name);
        StringBuilder details = new StringBuilder();
        if (!c.getImage().isEmpty()) {
            details.append("image ").append(c.getImage()).append(", ");
        }
        if (!name.isEmpty()) {
            details.append("id ").append(shortId(c.getId()));
        }
        if (details.length() > 0) {
            b.append(" (").append(details.toString().replaceAll(", $", "")).append(')');
        }
        return b.toString();
    }

    /** Short label: the name, else the 12-digit id; the pod as NAMESPACE/NAME when known. */
    public static String label(Container c) {
        String name = !c.getName().isEmpty() ? c.getName() : shortId(c.getId());
        return c.getPodName().isEmpty() ? name : c.getPodNamespace() + "/" + c.getPodName() + "/" + name;
    }

    public static String shortId(String id) {
        return id.length() > 12 ? id.substring(0, 12) : id;
    }
}
