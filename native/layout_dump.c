/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Prints every field offset and size of bpf/forktrace.h as the C compiler lays it out. The Maven build
 * (EventLayoutTest) compares this with Java's EventLayout and HookPoint and fails on any difference.
 */
#include <stddef.h>
#include <stdio.h>
#include "forktrace_shim.h" /* bpf/forktrace.h and the shim's hook table */

#define FIELD(type, field) \
	printf("%s.%s %zu %zu\n", #type, #field, offsetof(struct type, field), sizeof(((struct type *)0)->field))
#define SIZE(type) printf("%s sizeof %zu\n", #type, sizeof(struct type))
#define CONST(name) printf("const %s %ld\n", #name, (long)(name))

int main(void)
{
	FIELD(ft_config, filter_tgid);
	FIELD(ft_config, filter_tree);
	FIELD(ft_config, filter_cgroup_id);
	FIELD(ft_config, filter_comm);
	FIELD(ft_config, filter_cgroup_hierarchy);
	FIELD(ft_config, inflight_task_storage);
	SIZE(ft_config);

	FIELD(ft_pidns_level, inum);
	FIELD(ft_pidns_level, level);
	FIELD(ft_pidns_level, pid_allocated);
	FIELD(ft_pidns_level, pid_max);
	SIZE(ft_pidns_level);

	FIELD(ft_pids_level, cgroup_id);
	FIELD(ft_pids_level, counter);
	FIELD(ft_pids_level, limit);
	FIELD(ft_pids_level, events);
	FIELD(ft_pids_level, events_at_entry);
	FIELD(ft_pids_level, limit_hits);
	FIELD(ft_pids_level, limit_hits_at_entry);
	SIZE(ft_pids_level);

	FIELD(ft_event, ktime_ns);
	FIELD(ft_event, clone_flags);
	FIELD(ft_event, cgroup_id);
	FIELD(ft_event, cap_effective);
	FIELD(ft_event, rlimit_nproc);
	FIELD(ft_event, nproc_count);
	FIELD(ft_event, memcg_id);
	FIELD(ft_event, memcg_usage_pages);
	FIELD(ft_event, memcg_max_pages);
	FIELD(ft_event, memcg_failcnt);
	FIELD(ft_event, memcg_events_max);
	FIELD(ft_event, memcg_events_max_at_entry);
	FIELD(ft_event, memcg_events_oom);
	FIELD(ft_event, page_counter_usage);
	FIELD(ft_event, page_counter_max);
	FIELD(ft_event, ns_limit);
	FIELD(ft_event, ns_limit_level);
	FIELD(ft_event, ns_limit_max);
	FIELD(ft_event, ns_limit_current);
	FIELD(ft_event, user_ns_level);
	FIELD(ft_event, _pad1);
	FIELD(ft_event, memcg_kmem_usage_pages);
	FIELD(ft_event, memcg_kmem_max_pages);
	FIELD(ft_event, pid);
	FIELD(ft_event, tid);
	FIELD(ft_event, ppid);
	FIELD(ft_event, uid);
	FIELD(ft_event, user_ns_inum);
	FIELD(ft_event, syscall);
	FIELD(ft_event, error);
	FIELD(ft_event, evidence);
	FIELD(ft_event, alloc_pid_error);
	FIELD(ft_event, pids_can_fork_error);
	FIELD(ft_event, hook_tier);
	FIELD(ft_event, pidns_depth);
	FIELD(ft_event, pids_depth);
	FIELD(ft_event, ns_tgid);
	FIELD(ft_event, comm);
	FIELD(ft_event, process_comm);
	FIELD(ft_event, slab_cache);
	FIELD(ft_event, pidns);
	FIELD(ft_event, pids);
	FIELD(ft_event, alloc_gfp);
	FIELD(ft_event, alloc_order);
	FIELD(ft_event, alloc_injector);
	FIELD(ft_event, alloc_report);
	SIZE(ft_event);

	CONST(FT_COMM_LEN);
	CONST(FT_PIDNS_LEVELS);
	CONST(FT_CGROUP_LEVELS);
	CONST(FT_ERRNO_SLOTS);
	CONST(FT_CNT_SLOTS);
	CONST(FT_CNT_ERRNO_BASE);
	CONST(FT_CNT_DROPPED);
	CONST(FT_CNT_EMITTED);
	CONST(FT_CNT_FAILURES);
	CONST(FT_CNT_FILTERED);
	CONST(FT_CNT_RESTARTS);
	CONST(FT_CNT_TREE_FULL);
	CONST(FT_CNT_AGGREGATED);
	CONST(FT_CNT_SIGNATURE_OVERFLOW);
	CONST(FT_CNT_CLONE3_ENOSYS);
	CONST(FT_CNT_CGROUP_MOVES);
	CONST(FT_SIGNATURE_SLOTS);
	FIELD(ft_signature, pids_moved_cgroup_id);
	FIELD(ft_signature, pids_limit_cgroup_id);
	FIELD(ft_signature, memcg_id);
	FIELD(ft_signature, tgid);
	FIELD(ft_signature, uid);
	FIELD(ft_signature, pidns_inum);
	FIELD(ft_signature, error);
	FIELD(ft_signature, evidence);
	FIELD(ft_signature, alloc_pid_error);
	FIELD(ft_signature, pids_can_fork_error);
	FIELD(ft_signature, hook_tier);
	FIELD(ft_signature, syscall);
	FIELD(ft_signature, flags);
	FIELD(ft_signature, pids_moved_level);
	FIELD(ft_signature, pids_limit_level);
	SIZE(ft_signature);
	CONST(FT_SYS_CLONE);
	CONST(FT_SYS_CLONE3);
	CONST(FT_SYS_FORK);
	CONST(FT_SYS_VFORK);
	CONST(FT_SYS_KERNEL);
	CONST(FT_EV_ENTRY_SNAPSHOT);
	CONST(FT_EV_COPY_PROCESS);
	CONST(FT_EV_ALLOC_PID);
	CONST(FT_EV_PIDS_CAN_FORK);
	CONST(FT_EV_PAGE_COUNTER);
	CONST(FT_EV_SLAB_OOM);
	CONST(FT_EV_PAGE_ALLOC_FAIL);
	CONST(FT_EV_PIDS_REJECT_MSG);
	CONST(FT_EV_NPROC_FROM_USER);
	CONST(FT_EV_RLIMIT_NPROC_OVER);
	CONST(FT_EV_OVERCOMMIT);
	CONST(FT_EV_ALLOC_GFP);
	CONST(FT_EV_FAULT_INJECTED);
	CONST(FT_INJECT_NONE);
	CONST(FT_INJECT_FAILSLAB);
	CONST(FT_INJECT_FAIL_PAGE_ALLOC);
	CONST(FT_REPORT_LEN);
	CONST(FT_TIER_TRACEPOINT);
	CONST(FT_TIER_KPROBE);
	CONST(FT_TIER_FENTRY);
	CONST(FT_TIER_NONE);

	FIELD(ft_hook_status, hook);
	FIELD(ft_hook_status, tier);
	FIELD(ft_hook_status, attached);
	FIELD(ft_hook_status, _pad0);
	FIELD(ft_hook_status, note);
	SIZE(ft_hook_status);
	CONST(FT_HOOK_NOTE_LEN);
	CONST(FT_HOOK_COUNT);
#define HOOK_LINE(id, name) printf("hook %d %s\n", FT_HOOK_##id, name);
	FT_HOOKS(HOOK_LINE)
#undef HOOK_LINE
	return 0;
}
