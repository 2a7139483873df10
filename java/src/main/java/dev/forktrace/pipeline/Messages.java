package dev.forktrace.pipeline;

import dev.forktrace.attribution.Attribution;
import dev.forktrace.containers.Containers;
import dev.forktrace.proto.v1.Container;
import dev.forktrace.proto.v1.Offender;

/** The one sentence a tired operator reads: what really happened, and whether the errno lies. */
public final class Messages {
    private Messages() {}

    /** Reads the diagnosis' errno, cause, scope, offenders and, for the allocation causes, its evidence and snapshot. */
    public static String explain(Diagnosis f, boolean errnoMisleading) {
        String errno = f.errno();
        String scope = f.scopeName();
        long limit = f.scopeLimit();
        long current = f.scopeCurrent();
        Container scopeContainer = f.scopeContainer() == null ? Container.getDefaultInstance() : f.scopeContainer();
        String lie = errnoMisleading ? errno + ", but memory is fine: " : errno + ": ";
        String holder = f.offenders().isEmpty() ? "" : "; " + holderText(f.offenders().get(0), f.offenderRanking(),
                scopeContainer);
        return switch (f.cause()) {
            case PIDS_CGROUP_LIMIT -> lie + "cgroup " + scope + owner(scopeContainer)
                    + " is at its pids limit (" + current + " of " + limit + " tasks)" + holder
                    + (f.scopeKnob().isEmpty() ? ". Raise pids.max or stop what holds the tasks."
                    : ". The limit is " + f.scopeKnob() + "; raise it or stop what holds the tasks.");
            case RLIMIT_NPROC -> lie + scope + " has " + current + " processes/threads against RLIMIT_NPROC " + limit
                    + holder + (f.scopeKnob().isEmpty() ? ". Raise ulimit -u (nproc) or stop that user's tasks."
                    : ". " + capitalized(f.scopeKnob()) + ". Raise it or stop that user's tasks.");
            case THREADS_MAX -> lie + "the system has " + current + " threads against kernel.threads-max " + limit
                    + holder + ".";
            case PID_NAMESPACE_FULL -> lie + "pid namespace " + scope + " has no free pid (" + current
                    + " allocated, pid_max " + limit + ")" + holder + ".";
            case PID_NAMESPACE_DEAD -> lie + "pid namespace " + scope
                    + " lost its init (pid 1 exited); nothing new can start in it" + holder + ".";
            case MEMCG_LIMIT -> errno + ": memory cgroup " + scope + owner(scopeContainer) + " is at its limit (" + mib(current) + " of "
                    + mib(limit) + ")" + holder + ".";
            case OVERCOMMIT_LIMIT -> errno + ": strict overcommit (vm.overcommit_memory=2) refused the new address "
                    + "space; Committed_AS " + mib(current) + " of CommitLimit " + mib(limit) + holder + ".";
            case SLAB_ALLOCATION_FAILURE, PAGE_ALLOCATION_FAILURE -> allocation(f, errno, scope);
            case NAMESPACE_LIMIT -> scope.startsWith("user.max_")
                    ? errno + ": " + scope.substring(0, scope.indexOf(' ')) + " = " + limit + (current >= 0 ? " (" + current
                            + " in use)" : "") + " refused the new namespace; the limit is that of " + scope.substring(
                            scope.indexOf(" of ") + 4) + ". Raise it there (sysctl) or end namespaces that hold it."
                    : errno + ": a namespace limit (user.max_*_namespaces or nesting depth) refused "
                    + "the new namespace for " + scope + ".";
            case INVALID_REQUEST -> errno + ": the kernel rejected the request itself (flags or permissions), not "
                    + "a resource limit.";
            case INTERRUPTED -> errno + ": a fatal signal arrived while the task was being created.";
            default -> errno + ": no limit was found at its maximum and no kernel hook saw the refusal; see the "
                    + "snapshot.";
        };
    }

    /**
     * The honest ENOMEM: said plainly, with the cache or order, the GFP flags and the tightest zone; or,
     * when fault injection failed it, said to be test-made; or a memory cgroup's limit where one refused.
     */
    static String allocation(Diagnosis f, String errno, String scope) {
        boolean slab = f.cause() == dev.forktrace.proto.v1.Cause.SLAB_ALLOCATION_FAILURE;
        String injector = "", gfp = "", cache = "", zone = "";
        long order = -1;
        double tightest = Double.MAX_VALUE;
        for (int i = 0; i < f.evidenceCount(); i++) {
            String subject = f.evidenceSubject(i);
            long value = f.evidenceValue(i);
            long comparedTo = f.evidenceComparedTo(i);
            switch (f.evidenceKey(i)) {
                case "fault_injection" -> injector = subject;
                case "alloc.gfp" -> gfp = " (" + subject + ")";
                case "alloc.order" -> order = value;
                case "slab.cache" -> cache = subject;
                case "zone.free_pages" -> {
                    double ratio = comparedTo > 0 ? (double) value / comparedTo : Double.MAX_VALUE;
                    if (ratio < tightest) {
                        tightest = ratio;
                        zone = "; " + subject.replaceFirst(" \\(.*", "") + ": " + value
                                + " free pages against its min watermark " + comparedTo;
                    }
                }
                default -> { }
            }
        }
        boolean memcg = f.hasHook("page_counter_try_charge")
                || (f.hasMemcg() && f.memcgEventsMax() > f.memcgEventsMaxAtEntry());
        String what = slab ? "the slab allocation from " + (cache.isEmpty() ? scope : "cache " + cache)
                : (order >= 0 ? "an order-" + order + " page allocation" : "a page allocation");
        if (!injector.isEmpty()) {
            return errno + ": fault injection (" + injector + ") failed " + what + gfp + " during fork: a test-made "
                    + "failure, neither a limit nor a real shortage" + zone + ".";
        }
        if (memcg) {
            return errno + ": " + what + gfp + " failed during fork because memory cgroup "
                    + f.memcgPath() + " refused its pages (a kmem or memory limit)" + zone + ".";
        }
        return errno + ": a real memory shortage: " + what + gfp + " failed during fork. Unlike the other ENOMEM "
                + "causes (memory cgroup, overcommit, pid namespace) no limit refused it: the kernel had no memory "
                + "to give" + zone + ".";
    }

    /**
     * The top offender. A group of processes running one program is worded by HolderGroups; a single process
     * gets its pid in its own namespace and its container, unless that is the scope's own (already named).
     */
    private static String holderText(Offender o, String ranking, Container scope) {
        if (o.getProcessCount() > 1) {
            return dev.forktrace.system.HolderGroups.describe(o, ranking.equals("memory"));
        }
        String amount = ranking.equals("memory") ? mib(o.getMemoryBytes()) + " resident"
                : String.format("%,d", o.getTasks()) + (o.getTasks() == 1 ? " task" : " tasks");
        String pid = o.getNsPid() != 0 && o.getNsPid() != o.getPid() ? "pid " + o.getPid() + ", " + o.getNsPid()
                + " in its namespace" : "pid " + o.getPid();
        Container c = o.getContainer();
        boolean sameContainer = !scope.getId().isEmpty() && scope.getId().equals(c.getId());
        if (!scope.getPodUid().isEmpty() && scope.getPodUid().equals(c.getPodUid())) { // the pod is named already
            c = c.toBuilder().clearPodUid().clearPodName().clearPodNamespace().build();
        }
        return "'" + o.getComm() + "' (" + pid + (o.hasContainer() && !sameContainer
                ? ", " + Containers.describe(c) : "")
                + ") holds " + amount;
    }

    /** " (container web of docker)" / " (pod default/api)" for a scope that is a container's or pod's cgroup. */
    private static String owner(Container c) {
        if (c.getRuntime().isEmpty() && c.getPodUid().isEmpty()) {
            return "";
        }
        return " (" + Containers.describe(c) + ")";
    }

    private static String capitalized(String s) {
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    static String mib(long bytes) {
        return bytes < 0 ? "?" : (bytes >> 20) + " MiB";
    }
}
