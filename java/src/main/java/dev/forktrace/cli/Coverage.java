package dev.forktrace.cli;

import dev.forktrace.bpf.HookPoint;
import dev.forktrace.bpf.ProbeSession;
import dev.forktrace.system.CgroupPaths;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Which causes forktrace can confirm, only infer, or not see, given the hooks this kernel allows. */
final class Coverage {
    private Coverage() {}

    static Map<String, String> of(List<ProbeSession.Hook> hooks, CgroupPaths cgroups, Map<String, String> features) {
        Set<HookPoint> attached = attached(hooks);
        boolean allocPid = attached.contains(HookPoint.ALLOC_PID);
        boolean copyProcess = attached.contains(HookPoint.COPY_PROCESS);
        boolean console = attached.contains(HookPoint.CONSOLE);
        boolean slabHook = attached.contains(HookPoint.SLAB_OUT_OF_MEMORY);
        boolean pageCounter = attached.contains(HookPoint.PAGE_COUNTER_TRY_CHARGE);
        boolean pidsMounted = cgroups.mount(CgroupPaths.Hierarchy.PIDS) != null;
        boolean memoryMounted = cgroups.mount(CgroupPaths.Hierarchy.MEMORY) != null;
        Map<String, String> causes = new LinkedHashMap<>();
        causes.put("PIDS_CGROUP_LIMIT", !pidsMounted ? "not visible: no pids controller mounted"
                : "confirmed: pids event counters move during the call" + (attached.contains(HookPoint.PIDS_CAN_FORK) ? " + pids_can_fork hook" : ""));
        causes.put("RLIMIT_NPROC", attached.contains(HookPoint.IS_RLIMIT_OVERLIMIT)
                ? "confirmed: is_rlimit_overlimit hook, with the caller's uid and capabilities"
                : "inferred: NPROC ucount compared with the rlimit (is_rlimit_overlimit is not hooked "
                        + "here, see Hooks; kernels before it compare inline)");
        causes.put("THREADS_MAX", "inferred: nr_threads from /proc/loadavg compared with kernel.threads-max "
                + "(copy_process compares inline: no kernel function to hook)");
        causes.put("PID_NAMESPACE_FULL", allocPid ? "confirmed: alloc_pid hook returns the error"
                : "inferred: pid_allocated compared with pid_max per namespace level");
        causes.put("PID_NAMESPACE_DEAD", "confirmed: the namespace's PIDNS_ADDING flag is clear");
        causes.put("MEMCG_LIMIT", !memoryMounted ? "not visible: no memory controller mounted"
                : "confirmed: memcg max events move during the call" + (pageCounter ? " + page_counter_try_charge hook" : ""));
        String injected = attached.contains(HookPoint.SHOULD_FAILSLAB) || attached.contains(HookPoint.SHOULD_FAIL_ALLOC_PAGE)
                ? "; injected failures (failslab, fail_page_alloc) by their should_fail* hooks" : "";
        causes.put("SLAB_ALLOCATION_FAILURE", (slabHook ? "confirmed: slab_out_of_memory hook"
                : console ? "confirmed when the kernel prints \"SLUB: Unable to allocate\" (tp_btf/console)"
                : "not visible: no slab hook and no console tracepoint") + injected);
        causes.put("PAGE_ALLOCATION_FAILURE", (console
                ? "confirmed when the kernel prints \"page allocation failure\" (tp_btf/console; ratelimited)"
                : "not visible: no console tracepoint") + injected);
        causes.put("OVERCOMMIT_LIMIT", attached.contains(HookPoint.VM_ENOUGH_MEMORY) ? "confirmed: __vm_enough_memory hook"
                : console ? "confirmed when the kernel prints its ratelimited \"__vm_enough_memory: ... not enough "
                        + "memory\" warning (tp_btf/console), else inferred: vm.overcommit_memory=2 and Committed_AS "
                        + "vs CommitLimit (--memory-hooks confirms every one)"
                : "inferred: vm.overcommit_memory=2 and Committed_AS vs CommitLimit");
        causes.put("NAMESPACE_LIMIT", "inferred: ENOSPC/EUSERS with CLONE_NEW* flags");
        causes.put("kernel-thread failures", copyProcess ? "visible: copy_process hook"
                : "not visible: only syscalls are traced without a copy_process hook");
        return causes;
    }

    /** The hooks whose programs are loaded. */
    static Set<HookPoint> attached(List<ProbeSession.Hook> hooks) {
        Set<HookPoint> attached = EnumSet.noneOf(HookPoint.class);
        hooks.stream().filter(ProbeSession.Hook::attached).forEach(h -> attached.add(h.point()));
        return attached;
    }
}
