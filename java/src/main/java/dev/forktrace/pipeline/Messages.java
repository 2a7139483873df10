package dev.forktrace.pipeline;

import dev.forktrace.attribution.Attribution;
import dev.forktrace.containers.Containers;
import dev.forktrace.proto.v1.Container;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.ForkFailureOrBuilder;
import dev.forktrace.proto.v1.Offender;

/** The one sentence a tired operator reads: what really happened, and whether the errno lies. */
public final class Messages {
    private Messages() {}

    public static String explain(ForkFailureOrBuilder f, Attribution a) {
        String errno = f.getErrno();
        String scope = f.getScope().getName();
        long limit = f.getScope().getLimit();
        long current = f.getScope().getCurrent();
        String lie = a.errnoMisleading ? errno + ", but memory is fine: " : errno + ": ";
        String holder = f.getOffendersCount() == 0 ? "" : "; " + holderText(f.getOffenders(0), f.getOffenderRanking(),
                f.getScope().getContainer());
        return switch (f.getCause()) {
            case PIDS_CGROUP_LIMIT -> lie + "cgroup " + scope + owner(f.getScope().getContainer())
                    + " is at its pids limit (" + current + " of " + limit + " tasks)" + holder
                    + (f.getScope().getKnob().isEmpty() ? ". Raise pids.max or stop what holds the tasks."
                    : ". The limit is " + f.getScope().getKnob() + "; raise it or stop what holds the tasks.");
            case RLIMIT_NPROC -> lie + scope + " has " + current + " processes/threads against RLIMIT_NPROC " + limit
                    + holder + (f.getScope().getKnob().isEmpty() ? ". Raise ulimit -u (nproc) or stop that user's tasks."
                    : ". " + capitalized(f.getScope().getKnob()) + ". Raise it or stop that user's tasks.");
            case THREADS_MAX -> lie + "the system has " + current + " threads against kernel.threads-max " + limit
                    + holder + ".";
            case PID_NAMESPACE_FULL -> lie + "pid namespace " + scope + " has no free pid (" + current
                    + " allocated, pid_max " + limit + ")" + holder + ".";
            case PID_NAMESPACE_DEAD -> lie + "pid namespace " + scope
                    + " lost its init (pid 1 exited); nothing new can start in it" + holder + ".";
            case MEMCG_LIMIT -> errno + ": memory cgroup " + scope + owner(f.getScope().getContainer()) + " is at its limit (" + mib(current) + " of "
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
    static String allocation(ForkFailureOrBuilder f, String errno, String scope) {
        boolean slab = f.getCause() == dev.forktrace.proto.v1.Cause.SLAB_ALLOCATION_FAILURE;
        String injector = "", gfp = "", cache = "", zone = "";
        long order = -1;
        double tightest = Double.MAX_VALUE;
        for (dev.forktrace.proto.v1.Evidence ev : f.getEvidenceList()) {
            switch (ev.getKey()) {
                case "fault_injection" -> injector = ev.getSubject();
                case "alloc.gfp" -> gfp = " (" + ev.getSubject() + ")";
                case "alloc.order" -> order = ev.getValue();
                case "slab.cache" -> cache = ev.getSubject();
                case "zone.free_pages" -> {
                    double ratio = ev.getComparedTo() > 0 ? (double) ev.getValue() / ev.getComparedTo() : Double.MAX_VALUE;
                    if (ratio < tightest) {
                        tightest = ratio;
                        zone = "; " + ev.getSubject().replaceFirst(" \\(.*", "") + ": " + ev.getValue()
                                + " free pages against its min watermark " + ev.getComparedTo();
                    }
                }
                default -> { }
            }
        }
        boolean memcg = f.getSnapshot().getHooksList().contains("page_counter_try_charge")
                || (f.getSnapshot().hasMemcg()
                        && f.getSnapshot().getMemcg().getEventsMax() > f.getSnapshot().getMemcg().getEventsMaxAtEntry());
        String what = slab ? "the slab allocation from " + (cache.isEmpty() ? scope : "cache " + cache)
                : (order >= 0 ? "an order-" + order + " page allocation" : "a page allocation");
        if (!injector.isEmpty()) {
            return errno + ": fault injection (" + injector + ") failed " + what + gfp + " during fork: a test-made "
                    + "failure, neither a limit nor a real shortage" + zone + ".";
        }
        if (memcg) {
            return errno + ": " + what + gfp + " failed during fork because memory cgroup "
                    + f.getSnapshot().getMemcg().getPath() + " refused its pages (a kmem or memory limit)" + zone + ".";
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
