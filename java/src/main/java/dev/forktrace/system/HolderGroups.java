package dev.forktrace.system;

import dev.forktrace.proto.v1.Offender;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Groups the processes that hold a limit by what they run (comm and executable) and names their nearest
 * common ancestor, so that 9,000 one-task sleeps read as one holder "9,000 × sleep (9,000 tasks) under sshd
 * pid 412" instead of 9,000 holders of one task each.
 */
public final class HolderGroups {
    private HolderGroups() {}

    /** A process as the grouping sees it: its own offender row, its parent, and what it runs. */
    public record Member(Offender process, int ppid, String exe) {}

    /** A process outside the group, looked up only to walk up the tree: its parent and name. */
    public record Ancestor(int ppid, String comm) {}

    private static final int MAX_DEPTH = 4096; // guards against a cycle from pids reused mid-walk

    /**
     * The groups, largest first (by tasks, or by resident memory), at most {@code max} of them. Each group is
     * an Offender whose pid, cmdline and container are its largest member's, tasks and memory the totals,
     * process_count the members, and ancestor the nearest common ancestor below init (none for one process).
     *
     * @param lookup parent and name of any pid (for ancestors outside the members), null when gone
     */
    public static List<Offender> group(List<Member> members, boolean byMemory, int max, IntFunction<Ancestor> lookup) {
        Map<String, List<Member>> byProgram = new LinkedHashMap<>();
        for (Member m : members) {
            byProgram.computeIfAbsent(m.process().getComm() + '\0' + m.exe(), k -> new ArrayList<>()).add(m);
        }
        Comparator<Member> largest = byMemory
                ? Comparator.comparingLong((Member m) -> m.process().getMemoryBytes()).reversed()
                : Comparator.comparingInt((Member m) -> m.process().getTasks()).reversed();
        largest = largest.thenComparingInt(m -> m.process().getPid());
        List<Offender> groups = new ArrayList<>(byProgram.size());
        Map<Integer, Integer> parents = new HashMap<>(members.size() * 2);
        for (Member m : members) {
            parents.put(m.process().getPid(), m.ppid());
        }
        for (List<Member> group : byProgram.values()) {
            Member top = group.get(0);
            long tasks = 0;
            long memory = 0;
            for (Member m : group) {
                if (largest.compare(m, top) < 0) {
                    top = m;
                }
                tasks += m.process().getTasks();
                memory += m.process().getMemoryBytes();
            }
            Offender.Builder o = top.process().toBuilder()
                    .setTasks((int) Math.min(Integer.MAX_VALUE, tasks))
                    .setMemoryBytes(memory)
                    .setProcessCount(group.size())
                    .setExe(top.exe());
            if (group.size() > 1) {
                int ancestor = commonAncestor(group, parents, lookup);
                if (ancestor > 1) {
                    Ancestor a = lookup.apply(ancestor);
                    o.setAncestorPid(ancestor).setAncestorComm(a == null ? "" : a.comm());
                }
            }
            groups.add(o.build());
        }
        Comparator<Offender> order = byMemory
                ? Comparator.comparingLong(Offender::getMemoryBytes).reversed()
                : Comparator.comparingInt(Offender::getTasks).reversed();
        groups.sort(order.thenComparingInt(Offender::getPid));
        return List.copyOf(groups.subList(0, Math.min(max, groups.size())));
    }

    /**
     * The deepest process that is an ancestor of every member (a member's own parent counts, the member
     * itself does not), or 0. Walks the first member's chain once, then each other member up only until it
     * meets that chain, so siblings cost one step each.
     */
    static int commonAncestor(List<Member> group, Map<Integer, Integer> parents, IntFunction<Ancestor> lookup) {
        List<Integer> chain = new ArrayList<>();
        Map<Integer, Integer> depthInChain = new HashMap<>();
        int p = group.get(0).ppid();
        while (p > 0 && chain.size() < MAX_DEPTH && !depthInChain.containsKey(p)) {
            depthInChain.put(p, chain.size());
            chain.add(p);
            p = parentOf(p, parents, lookup);
        }
        int lowest = 0; // index into chain of the deepest common ancestor so far
        for (int i = 1; i < group.size(); i++) {
            int q = group.get(i).ppid();
            int steps = 0;
            Integer at = null;
            while (q > 0 && steps++ < MAX_DEPTH && (at = depthInChain.get(q)) == null) {
                q = parentOf(q, parents, lookup);
            }
            if (at == null) {
                return 0; // no shared ancestor (a process of another pid namespace, or a broken chain)
            }
            lowest = Math.max(lowest, at);
            if (lowest == chain.size() - 1) {
                break; // already the root of the chain: it can only stay there
            }
        }
        return chain.isEmpty() ? 0 : chain.get(lowest);
    }

    private static int parentOf(int pid, Map<Integer, Integer> parents, IntFunction<Ancestor> lookup) {
        Integer known = parents.get(pid);
        if (known != null) {
            return known;
        }
        Ancestor a = lookup.apply(pid);
        int parent = a == null ? 0 : a.ppid();
        parents.put(pid, parent);
        return parent;
    }

    /** "'holder' (pid 12) holds 8 tasks", or "30 × sleep (30 tasks) under bash pid 412". */
    public static String describe(Offender o, boolean byMemory) {
        String amount = byMemory ? mib(o.getMemoryBytes()) + " resident"
                : String.format("%,d", o.getTasks()) + (o.getTasks() == 1 ? " task" : " tasks");
        if (o.getProcessCount() <= 1) {
            return "'" + o.getComm() + "' (pid " + o.getPid() + ") holds " + amount;
        }
        String under = o.getAncestorPid() > 0
                ? " under " + (o.getAncestorComm().isEmpty() ? "" : o.getAncestorComm() + " ") + "pid " + o.getAncestorPid()
                : "";
        return String.format("%,d", o.getProcessCount()) + " × " + o.getComm() + " (" + amount + ")" + under;
    }

    static String mib(long bytes) {
        return bytes < 0 ? "?" : (bytes >> 20) + " MiB";
    }
}
