// SPDX-License-Identifier: GPL-2.0
/*
 * forktrace.bpf.c: observe failed task creation and the kernel state that explains it.
 *
 * Three tiers deliver the same events (the shim loads one per hook, see native/forktrace_shim.c):
 *   tracepoint  tp/syscalls/sys_{enter,exit}_{clone,clone3,fork,vfork}   (taxes every syscall a little)
 *   kprobe      kprobe/kretprobe on kernel_clone and __<arch>_sys_{clone,clone3} (task creation only)
 *   fentry      fentry/fexit on kernel_clone and __<arch>_sys_{clone,clone3}     (task creation only, cheapest)
 * plus evidence hooks inside copy_process (copy_process, alloc_pid, pids_can_fork, is_rlimit_overlimit,
 * slab_out_of_memory, and on request page_counter_try_charge and __vm_enough_memory) in the fentry or
 * kprobe flavour, and tp_btf/console for kernel messages.
 *
 * Syscall entry stores per-thread state in `inflight`; hooks add evidence to it; syscall exit turns a
 * failure into one struct ft_event (bpf/forktrace.h) in the `events` ring buffer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "forktrace.h"
#include "core_fixes.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* The only variable in .rodata: the shim writes it before load. */
const volatile struct ft_config cfg = {};

/*
 * The clone/clone3 syscall wrappers (CONFIG_ARCH_HAS_SYSCALL_WRAPPER) are named per architecture, so
 * the object is built per architecture (-D__TARGET_ARCH_x86 or arm64, as bpf_tracing.h needs anyway).
 * Their one argument is the user's saved registers; PT_REGS_PARM1_CORE_SYSCALL reads the syscall's
 * first argument from them (di on x86, orig_x0 on arm64).
 */
#if defined(__TARGET_ARCH_x86)
#define FT_SYSCALL_WRAPPER(name) "__x64_sys_" #name
#elif defined(__TARGET_ARCH_arm64)
#define FT_SYSCALL_WRAPPER(name) "__arm64_sys_" #name
#else
#error "build with -D__TARGET_ARCH_x86 or -D__TARGET_ARCH_arm64: the syscall wrappers are named per architecture"
#endif

#define SIGCHLD 17
#define CLONE_VM 0x00000100
#define CLONE_VFORK 0x00004000
#define CLONE_NEWTIME 0x00000080
#define CLONE_NEWNS 0x00020000
#define CLONE_NEWCGROUP 0x02000000
#define CLONE_NEWUTS 0x04000000
#define CLONE_NEWIPC 0x08000000
#define CLONE_NEWUSER 0x10000000
#define CLONE_NEWPID 0x20000000
#define CLONE_NEWNET 0x40000000
#define MAX_ERRNO 4095
#define RLIMIT_NPROC 6
#define PF_KTHREAD 0x00200000

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FT_CNT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH); /* preallocated: a full map refuses a new key, it never evicts */
	__uint(max_entries, FT_SIGNATURE_SLOTS);
	__type(key, struct ft_signature);
	__type(value, __u64);
} signatures SEC(".maps");

/* State of one task creation in progress, keyed by the calling thread's tid. */
struct inflight {
	__u64 clone_flags;
	__u64 memcg_events_max;
	__u64 page_counter_usage;
	__u64 page_counter_max;
	__u64 page_counter_fail;  /* kprobe tier: page_counter_try_charge's `fail` argument */
	__u32 nproc_check;        /* kprobe tier: is_rlimit_overlimit was asked about RLIMIT_NPROC */
	__u32 direct_copy_process; /* entered by copy_process itself: a caller that is not kernel_clone */
	__s64 pids_events[FT_CGROUP_LEVELS];
	__s64 pids_limit_hits[FT_CGROUP_LEVELS];
	__u32 syscall;
	__u32 evidence;
	__s32 alloc_pid_error;
	__s32 pids_can_fork_error;
	char slab_cache[FT_SLAB_NAME_LEN];
	__u32 active;             /* task storage only: a task creation is in flight (the storage outlives it) */
	__u32 has_alloc_report;   /* alloc_reports holds an entry for this tid, to delete at the end */
};

/*
 * The state of each thread's task creation in flight, in task-local storage where the kernel allows
 * tracing programs to use it (since 5.12, a10787e6d58c "bpf: Enable task local storage for tracing
 * programs"): no hashing, locking or delete per fork. Before that (5.10) the shim turns this map into a
 * hash keyed by tid (cfg.inflight_task_storage = 0), and the task storage calls below are dead code the
 * verifier never checks (cfg is read-only, so its fields are constants to the verifier).
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight);
} inflight SEC(".maps");

/*
 * The failed allocation of a task creation in flight, keyed by tid: created only when an allocation
 * failed (or, kprobe tier, when a fault-injection hook needs its entry arguments), so it stays out of
 * `inflight`, whose value record_entry builds on the stack.
 */
struct alloc_report {
	__u64 gfp;
	__s32 order;
	__u32 injector;              /* enum ft_injector */
	__u64 pending_cache;         /* kprobe tier: should_failslab's arguments until its return */
	__u64 pending_gfp;
	__u32 pending_order;
	__u32 _pad0;
	char report[FT_REPORT_LEN];  /* the kernel's own line (printk) */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct alloc_report);
} alloc_reports SEC(".maps");

/* Never written: the zeroed value a new alloc_reports entry starts from. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct alloc_report);
} alloc_report_blank SEC(".maps");

static __always_inline struct inflight *inflight_lookup(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct inflight *state;

	if (!cfg.inflight_task_storage)
		return bpf_map_lookup_elem(&inflight, &tid);
	state = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);
	return state && state->active ? state : NULL;
}

/* Starts a task creation's state (overwriting a stale one). */
static __always_inline void inflight_begin(struct inflight *state)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct inflight *slot;

	if (!cfg.inflight_task_storage) {
		bpf_map_update_elem(&inflight, &tid, state, BPF_ANY);
		return;
	}
	slot = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (slot) {
		state->active = 1;
		*slot = *state;
	}
}

/* Ends it; state is inflight_lookup()'s. */
static __always_inline void inflight_end(struct inflight *state)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (state->has_alloc_report)
		bpf_map_delete_elem(&alloc_reports, &tid);
	if (cfg.inflight_task_storage)
		state->active = 0;
	else
		bpf_map_delete_elem(&inflight, &tid);
}

/* Processes of a traced tree (forktrace run, the Java API's process tree target): added by tpb_fork,
 * removed by tpb_exit when the whole thread group is gone, so a pid reused by an unrelated process is
 * not traced and the map holds only live processes. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} traced_tgids SEC(".maps");

static __always_inline void count(__u32 slot)
{
	__u64 *value = bpf_map_lookup_elem(&counters, &slot);

	if (value)
		(*value)++;
}

static __always_inline struct cgroup_subsys_state *task_css(struct task_struct *task, int subsys_id)
{
	return BPF_CORE_READ(task, cgroups, subsys[subsys_id]);
}

static __always_inline int pids_subsys_id(void)
{
	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, pids_cgrp_id))
		return -1;
	return bpf_core_enum_value(enum cgroup_subsys_id, pids_cgrp_id);
}

static __always_inline int memory_subsys_id(void)
{
	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return -1;
	return bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
}

static __always_inline __u64 css_cgroup_id(struct cgroup_subsys_state *css)
{
	return BPF_CORE_READ(css, cgroup, kn, id);
}

static __always_inline bool in_cgroup_or_below(struct cgroup_subsys_state *css, __u64 wanted)
{
	for (int i = 0; i < FT_CGROUP_LEVELS && css; i++) {
		if (css_cgroup_id(css) == wanted)
			return true;
		css = BPF_CORE_READ(css, parent);
	}
	return false;
}

static __always_inline bool passes_filter(struct task_struct *task, __u32 tgid)
{
	if (cfg.filter_tgid && cfg.filter_tgid != tgid)
		return false;
	if (cfg.filter_tree && !bpf_map_lookup_elem(&traced_tgids, &tgid))
		return false;
	if (cfg.filter_comm[0]) {
		char comm[FT_COMM_LEN];
		BPF_CORE_READ_STR_INTO(&comm, task, group_leader, comm);
		for (int i = 0; i < FT_COMM_LEN; i++) {
			if (comm[i] != cfg.filter_comm[i])
				return false;
			if (!comm[i])
				break;
		}
	}
	if (cfg.filter_cgroup_id) {
		if (cfg.filter_cgroup_hierarchy == FT_CGROUP_UNIFIED) {
			bool found = false;
			for (int level = 0; level < 16 && !found; level++)
				found = bpf_get_current_ancestor_cgroup_id(level) == cfg.filter_cgroup_id;
			return found;
		}
		int id = cfg.filter_cgroup_hierarchy == FT_CGROUP_PIDS ? pids_subsys_id() : memory_subsys_id();
		if (id < 0 || !in_cgroup_or_below(task_css(task, id), cfg.filter_cgroup_id))
			return false;
	}
	return true;
}

static __always_inline __u64 memcg_events_max(struct mem_cgroup *memcg)
{
	long v = 0;

	if (memcg)
		bpf_core_read(&v, sizeof(v),
			      &memcg->memory_events[bpf_core_enum_value(enum memcg_memory_event, MEMCG_MAX)]);
	return v;
}

/* Syscall entry: remember the request and the counters whose change proves a refusal. */
static __always_inline void record_entry(__u64 clone_flags, __u32 syscall)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct inflight state = {};
	int id;

	state.clone_flags = clone_flags;
	state.syscall = syscall;
	state.evidence = FT_EV_ENTRY_SNAPSHOT;
	id = pids_subsys_id();
	if (id >= 0) {
		struct cgroup_subsys_state *css = task_css(task, id);
		for (int i = 0; i < FT_CGROUP_LEVELS && css; i++) {
			if (!BPF_CORE_READ(css, parent))
				break; /* the root has no limit */
			state.pids_events[i] = pids_events_sum(css);
			state.pids_limit_hits[i] = pids_limit_hits(css);
			css = BPF_CORE_READ(css, parent);
		}
	}
	id = memory_subsys_id();
	if (id >= 0)
		state.memcg_events_max = memcg_events_max((struct mem_cgroup *)task_css(task, id));
	inflight_begin(&state);
}

/* The ucount type (CO-RE enum value) of the first namespace other than a user namespace that flags ask
 * for, in copy_namespaces() order, and its enum ft_ns_limit code; -1 when none. */
static __always_inline int other_ns_ucount(__u64 flags, int *code)
{
	if (flags & CLONE_NEWNS) {
		*code = FT_NS_LIMIT_MNT;
		return bpf_core_enum_value(enum ucount_type, UCOUNT_MNT_NAMESPACES);
	}
	if (flags & CLONE_NEWUTS) {
		*code = FT_NS_LIMIT_UTS;
		return bpf_core_enum_value(enum ucount_type, UCOUNT_UTS_NAMESPACES);
	}
	if (flags & CLONE_NEWIPC) {
		*code = FT_NS_LIMIT_IPC;
		return bpf_core_enum_value(enum ucount_type, UCOUNT_IPC_NAMESPACES);
	}
	if (flags & CLONE_NEWPID) {
		*code = FT_NS_LIMIT_PID;
		return bpf_core_enum_value(enum ucount_type, UCOUNT_PID_NAMESPACES);
	}
	if (flags & CLONE_NEWCGROUP) {
		*code = FT_NS_LIMIT_CGROUP;
		return bpf_core_enum_value(enum ucount_type, UCOUNT_CGROUP_NAMESPACES);
	}
	if (flags & CLONE_NEWNET) {
		*code = FT_NS_LIMIT_NET;
		return bpf_core_enum_value(enum ucount_type, UCOUNT_NET_NAMESPACES);
	}
	if ((flags & CLONE_NEWTIME) && bpf_core_enum_value_exists(enum ucount_type, UCOUNT_TIME_NAMESPACES)) {
		*code = FT_NS_LIMIT_TIME;
		return bpf_core_enum_value(enum ucount_type, UCOUNT_TIME_NAMESPACES);
	}
	return -1;
}

/* Which user.max_*_namespaces refused a CLONE_NEW*: the user namespace is created first (copy_creds),
 * then the others; of those only the first one asked for is checked, which keeps the program small
 * enough for 5.10's verifier (one clone rarely asks for several and hits a later one's limit). */
static __always_inline void fill_ns_limit(struct ft_event *e, const struct cred *cred, __u64 flags)
{
	int code = FT_NS_LIMIT_USER;
	int type = -1;

	if ((flags & CLONE_NEWUSER) &&
	    ns_count_at_max(cred, bpf_core_enum_value(enum ucount_type, UCOUNT_USER_NAMESPACES), &e->ns_limit_max,
			    &e->ns_limit_current, &e->ns_limit_level)) {
		e->ns_limit = FT_NS_LIMIT_USER;
		return;
	}
	type = other_ns_ucount(flags, &code);
	if (type >= 0 && ns_count_at_max(cred, type, &e->ns_limit_max, &e->ns_limit_current, &e->ns_limit_level))
		e->ns_limit = code;
}

static __always_inline void fill_pid_namespaces(struct ft_event *e, struct task_struct *task)
{
	struct pid_namespace *ns = BPF_CORE_READ(task, nsproxy, pid_ns_for_children);
	__u32 depth = 0;

	for (int i = 0; i < FT_PIDNS_LEVELS && ns; i++) {
		e->pidns[i].inum = BPF_CORE_READ(ns, ns.inum);
		e->pidns[i].level = BPF_CORE_READ(ns, level);
		e->pidns[i].pid_allocated = BPF_CORE_READ(ns, pid_allocated);
		e->pidns[i].pid_max = pid_namespace_pid_max(ns);
		depth++;
		ns = BPF_CORE_READ(ns, parent);
	}
	e->pidns_depth = depth;
	/* The caller's tgid in its own (innermost) pid namespace: numbers[level] of its leader's struct pid.
	 * Read here because a failing process often exits before user space could read /proc/PID/status. */
	struct pid *leader = BPF_CORE_READ(task, group_leader, thread_pid);
	unsigned int leader_level = leader ? BPF_CORE_READ(leader, level) : 0;
	if (leader && leader_level < 32)
		bpf_core_read(&e->ns_tgid, sizeof(e->ns_tgid), &leader->numbers[leader_level].nr);
}

static __always_inline void fill_pids_cgroups(struct ft_event *e, struct task_struct *task, struct inflight *state)
{
	int id = pids_subsys_id();
	__u32 depth = 0;

	if (id < 0)
		return;
	struct cgroup_subsys_state *css = task_css(task, id);
	for (int i = 0; i < FT_CGROUP_LEVELS && css; i++) {
		if (!BPF_CORE_READ(css, parent))
			break;
		struct pids_cgroup *pids = (struct pids_cgroup *)css;
		e->pids[i].cgroup_id = css_cgroup_id(css);
		bpf_core_read(&e->pids[i].counter, sizeof(__s64), &pids->counter);
		bpf_core_read(&e->pids[i].limit, sizeof(__s64), &pids->limit);
		e->pids[i].events = pids_events_sum(css);
		e->pids[i].events_at_entry = state ? state->pids_events[i] : 0;
		e->pids[i].limit_hits = pids_limit_hits(css);
		e->pids[i].limit_hits_at_entry = state ? state->pids_limit_hits[i] : -1;
		depth++;
		css = BPF_CORE_READ(css, parent);
	}
	e->pids_depth = depth;
}

static __always_inline void fill_memcg(struct ft_event *e, struct task_struct *task, struct inflight *state)
{
	int id = memory_subsys_id();

	if (id < 0)
		return;
	struct mem_cgroup *memcg = (struct mem_cgroup *)task_css(task, id);
	if (!memcg)
		return;
	e->memcg_id = css_cgroup_id(&memcg->css);
	bpf_core_read(&e->memcg_usage_pages, sizeof(__u64), &memcg->memory.usage);
	e->memcg_max_pages = BPF_CORE_READ(memcg, memory.max);
	if (bpf_core_field_exists(memcg->memory.failcnt))
		e->memcg_failcnt = BPF_CORE_READ(memcg, memory.failcnt);
	e->memcg_events_max = memcg_events_max(memcg);
	struct mem_cgroup___kmem *with_kmem = (void *)memcg;
	if (bpf_core_field_exists(with_kmem->kmem)) {
		bpf_core_read(&e->memcg_kmem_usage_pages, sizeof(__u64), &with_kmem->kmem.usage);
		bpf_core_read(&e->memcg_kmem_max_pages, sizeof(__u64), &with_kmem->kmem.max);
	}
	e->memcg_events_max_at_entry = state ? state->memcg_events_max : 0;
	bpf_core_read(&e->memcg_events_oom, sizeof(__u64),
		      &memcg->memory_events[bpf_core_enum_value(enum memcg_memory_event, MEMCG_OOM)]);
}

#define CAP_SYS_ADMIN 21
#define CAP_SYS_RESOURCE 24
#define FT_CLONE_NEW_ANY (0x00020000ULL | 0x02000000ULL | 0x04000000ULL | 0x08000000ULL | 0x10000000ULL | \
			  0x20000000ULL | 0x40000000ULL | 0x00000080ULL)

/*
 * The ring had no room: count the failure under its signature, the facts the attributor decides by
 * (dev.forktrace.pipeline.Signature computes the same from a delivered event). Only this slow path
 * pays for it. A signature that finds the map full is counted in FT_CNT_SIGNATURE_OVERFLOW.
 */
static __always_inline void count_signature(struct task_struct *task, __u32 tgid, long ret, __u32 syscall,
					    __u32 tier, struct inflight *state)
{
	struct ft_signature sig = {};
	__u32 from_user = 0;
	__u64 one = 1, *slot;
	int id;

	sig.tgid = tgid;
	sig.uid = (__u32)bpf_get_current_uid_gid();
	sig.error = (__s32)ret;
	sig.syscall = state ? state->syscall : syscall;
	sig.hook_tier = tier;
	sig.pids_moved_level = -1;
	sig.pids_limit_level = -1;
	if (state) {
		sig.evidence = state->evidence;
		sig.alloc_pid_error = state->alloc_pid_error;
		sig.pids_can_fork_error = state->pids_can_fork_error;
		if (state->clone_flags & FT_CLONE_NEW_ANY)
			sig.flags |= FT_SIG_NEW_NAMESPACE;
	}
	bool snapshot = state && (state->evidence & FT_EV_ENTRY_SNAPSHOT);

	const struct cred *cred = BPF_CORE_READ(task, real_cred);
	const struct cred *effective = BPF_CORE_READ(task, cred);
	__u64 caps = 0;
	bpf_core_read(&caps, sizeof(caps), &effective->cap_effective);
	if (sig.uid == 0 || (caps & ((1ULL << CAP_SYS_ADMIN) | (1ULL << CAP_SYS_RESOURCE))))
		sig.flags |= FT_SIG_NPROC_EXEMPT;
	__s64 rlimit = (__s64)BPF_CORE_READ(task, signal, rlim[RLIMIT_NPROC].rlim_cur);
	__s64 nproc = nproc_count(cred, &from_user);
	if (from_user)
		sig.evidence |= FT_EV_NPROC_FROM_USER;
	if (rlimit >= 0 && nproc >= rlimit)
		sig.flags |= FT_SIG_NPROC_AT_LIMIT;

	struct pid_namespace *ns = BPF_CORE_READ(task, nsproxy, pid_ns_for_children);
	if (ns)
		sig.pidns_inum = BPF_CORE_READ(ns, ns.inum);
	for (int i = 0; i < FT_PIDNS_LEVELS && ns; i++) {
		if (!(BPF_CORE_READ(ns, pid_allocated) & FT_PIDNS_ADDING))
			sig.flags |= FT_SIG_PIDNS_DEAD;
		ns = BPF_CORE_READ(ns, parent);
	}

	id = pids_subsys_id();
	if (id >= 0) {
		struct cgroup_subsys_state *css = task_css(task, id);
		for (int i = 0; i < FT_CGROUP_LEVELS && css; i++) {
			if (!BPF_CORE_READ(css, parent))
				break;
			struct pids_cgroup *pids = (struct pids_cgroup *)css;
			__s64 counter = 0, limit = 0;
			bpf_core_read(&counter, sizeof(counter), &pids->counter);
			bpf_core_read(&limit, sizeof(limit), &pids->limit);
			if (sig.pids_limit_level < 0 && limit >= 0 && limit < 0x7fffffffffffffffLL && counter >= limit) {
				sig.pids_limit_level = i;
				sig.pids_limit_cgroup_id = css_cgroup_id(css);
			}
			if (sig.pids_moved_level < 0 && snapshot && pids_events_sum(css) > state->pids_events[i]) {
				sig.pids_moved_level = i;
				sig.pids_moved_cgroup_id = css_cgroup_id(css);
			}
			css = BPF_CORE_READ(css, parent);
		}
	}
	id = memory_subsys_id();
	if (id >= 0 && snapshot) {
		struct mem_cgroup *memcg = (struct mem_cgroup *)task_css(task, id);
		if (memcg && memcg_events_max(memcg) > state->memcg_events_max)
			sig.memcg_id = css_cgroup_id(&memcg->css);
	}

	slot = bpf_map_lookup_elem(&signatures, &sig);
	if (!slot && bpf_map_update_elem(&signatures, &sig, &one, BPF_NOEXIST) == 0) {
		count(FT_CNT_AGGREGATED);
		return;
	}
	if (!slot)
		slot = bpf_map_lookup_elem(&signatures, &sig); /* another CPU inserted it first */
	if (slot) {
		__sync_fetch_and_add(slot, 1);
		count(FT_CNT_AGGREGATED);
	} else {
		count(FT_CNT_SIGNATURE_OVERFLOW);
	}
}

/* A failed task creation: count it and, if it passes the filter, write the event with the snapshot. */
static __always_inline void emit_failure(long ret, __u32 syscall, __u32 tier, struct inflight *state)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	long err = -ret;

	count(FT_CNT_FAILURES);
	if (!passes_filter(task, tgid)) {
		count(FT_CNT_FILTERED);
		return;
	}
	count(FT_CNT_ERRNO_BASE + (err > 0 && err < FT_ERRNO_SLOTS ? err : 0));

	struct ft_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(FT_CNT_DROPPED);
		count_signature(task, tgid, ret, syscall, tier, state);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ktime_ns = bpf_ktime_get_ns();
	e->pid = tgid;
	e->tid = (__u32)pid_tgid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->error = (__s32)ret;
	e->syscall = state ? state->syscall : syscall;
	e->hook_tier = tier;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	BPF_CORE_READ_STR_INTO(&e->process_comm, task, group_leader, comm);

	const struct cred *cred = BPF_CORE_READ(task, real_cred);
	const struct cred *effective = BPF_CORE_READ(task, cred);
	bpf_core_read(&e->cap_effective, sizeof(__u64), &effective->cap_effective);
	e->rlimit_nproc = BPF_CORE_READ(task, signal, rlim[RLIMIT_NPROC].rlim_cur);
	__u32 from_user = 0;
	e->nproc_count = nproc_count(cred, &from_user);
	e->user_ns_inum = BPF_CORE_READ(cred, user_ns, ns.inum);

	if (state) {
		e->clone_flags = state->clone_flags;
		e->evidence = state->evidence;
		e->alloc_pid_error = state->alloc_pid_error;
		e->pids_can_fork_error = state->pids_can_fork_error;
		e->page_counter_usage = state->page_counter_usage;
		e->page_counter_max = state->page_counter_max;
		__builtin_memcpy(e->slab_cache, state->slab_cache, sizeof(e->slab_cache));
	}
	__u32 report_key = e->tid; /* on the stack: 5.10 takes no ring buffer memory as a map key */
	struct alloc_report *report = bpf_map_lookup_elem(&alloc_reports, &report_key);
	if (report) {
		e->alloc_gfp = report->gfp;
		e->alloc_order = report->order;
		e->alloc_injector = report->injector;
		__builtin_memcpy(e->alloc_report, report->report, sizeof(e->alloc_report));
	}
	if (from_user)
		e->evidence |= FT_EV_NPROC_FROM_USER;
	e->user_ns_level = BPF_CORE_READ(cred, user_ns, level);
	if ((err == 28 /* ENOSPC */ || err == 87 /* EUSERS */) && state)
		fill_ns_limit(e, cred, state->clone_flags);
	fill_pid_namespaces(e, task);
	fill_pids_cgroups(e, task, state);
	fill_memcg(e, task, state);
	bpf_ringbuf_submit(e, 0);
	count(FT_CNT_EMITTED);
}

/* Syscall exit: successes and restarts only clean up; failures become events. */
static __always_inline void record_exit(long ret, __u32 syscall, __u32 tier)
{
	struct inflight *state = inflight_lookup();

	if (ret == -FT_ERESTARTNOINTR)
		count(FT_CNT_RESTARTS);
	else if (ret == -FT_ENOSYS && syscall == FT_SYS_CLONE3)
		/* Docker's and podman's older seccomp profiles answer clone3 with ENOSYS on purpose so that
		 * glibc (2.34+) falls back to clone; the task is then created (or its failure seen) there. */
		count(FT_CNT_CLONE3_ENOSYS);
	else if (ret < 0)
		emit_failure(ret, syscall, tier, state);
	if (state)
		inflight_end(state);
}

static __always_inline __u64 clone3_flags(const void *uargs)
{
	__u64 flags = 0; /* struct clone_args starts with __aligned_u64 flags */

	bpf_probe_read_user(&flags, sizeof(flags), uargs);
	return flags;
}

/* ---- tracepoint tier ---- */

SEC("tracepoint/syscalls/sys_enter_clone")
int tp_enter_clone(struct trace_event_raw_sys_enter *ctx)
{
	record_entry(ctx->args[0], FT_SYS_CLONE);
	return 0;
}

/*
 * One exit program for all four syscalls: the shim attaches it to sys_exit_clone3, _fork and _vfork as
 * well. Each copy would be verified separately, and verifying this one (emit_failure inlined) is most of
 * the time to load. The syscall comes from the entry's record; without one (the call entered before the
 * attach, or seccomp refused it before sys_enter) only clone3 is told by number: 435 on every
 * architecture, the first number of the unified syscall table.
 */
#define FT_NR_CLONE3 435

SEC("tracepoint/syscalls/sys_exit_clone")
int tp_exit_clone(struct trace_event_raw_sys_exit *ctx)
{
	record_exit(ctx->ret, ctx->id == FT_NR_CLONE3 ? FT_SYS_CLONE3 : FT_SYS_UNKNOWN, FT_TIER_TRACEPOINT);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_clone3")
int tp_enter_clone3(struct trace_event_raw_sys_enter *ctx)
{
	record_entry(clone3_flags((const void *)ctx->args[0]), FT_SYS_CLONE3);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_fork")
int tp_enter_fork(struct trace_event_raw_sys_enter *ctx)
{
	record_entry(SIGCHLD, FT_SYS_FORK);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_vfork")
int tp_enter_vfork(struct trace_event_raw_sys_enter *ctx)
{
	record_entry(CLONE_VFORK | CLONE_VM | SIGCHLD, FT_SYS_VFORK);
	return 0;
}

/*
 * ---- fentry and kprobe tiers ----
 * kernel_clone() (named so since 5.10, "fork: introduce kernel_clone()"; _do_fork before) is the one
 * place every clone, clone3, fork and vfork passes, so its return is where these tiers emit. The
 * clone/clone3 wrappers are hooked only to name the syscall exactly (fork and vfork wrappers lack BTF
 * on some kernels, 6.18 among them); kernel_clone's entry names the rest from its flags. A clone3 that
 * fails before kernel_clone (bad arguments) is still pending at the wrapper's exit and emitted there.
 */

static __always_inline void kernel_clone_entered(struct kernel_clone_args *args)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 flags;

	if (inflight_lookup())
		return; /* a clone/clone3 wrapper already recorded it */
	flags = BPF_CORE_READ(args, flags) | (BPF_CORE_READ(args, exit_signal) & 0xff);
	if (BPF_CORE_READ(task, flags) & PF_KTHREAD)
		record_entry(flags, FT_SYS_KERNEL);
	else
		record_entry(flags, (flags & CLONE_VFORK) ? FT_SYS_VFORK : FT_SYS_FORK);
}

/* At a wrapper's exit: emit only what kernel_clone's exit did not (failures before kernel_clone). */
static __always_inline void wrapper_returned(long ret, __u32 syscall, __u32 tier)
{
	if (inflight_lookup())
		record_exit(ret, syscall, tier);
}

SEC("fentry/" FT_SYSCALL_WRAPPER(clone))
int BPF_PROG(fe_clone, const struct pt_regs *regs)
{
	record_entry(PT_REGS_PARM1_CORE_SYSCALL(regs), FT_SYS_CLONE);
	return 0;
}

SEC("fexit/" FT_SYSCALL_WRAPPER(clone))
int BPF_PROG(fx_clone, const struct pt_regs *regs, long ret)
{
	wrapper_returned(ret, FT_SYS_CLONE, FT_TIER_FENTRY);
	return 0;
}

SEC("fentry/" FT_SYSCALL_WRAPPER(clone3))
int BPF_PROG(fe_clone3, const struct pt_regs *regs)
{
	record_entry(clone3_flags((const void *)PT_REGS_PARM1_CORE_SYSCALL(regs)), FT_SYS_CLONE3);
	return 0;
}

SEC("fexit/" FT_SYSCALL_WRAPPER(clone3))
int BPF_PROG(fx_clone3, const struct pt_regs *regs, long ret)
{
	wrapper_returned(ret, FT_SYS_CLONE3, FT_TIER_FENTRY);
	return 0;
}

SEC("fentry/kernel_clone")
int BPF_PROG(fe_kernel_clone, struct kernel_clone_args *args)
{
	kernel_clone_entered(args);
	return 0;
}

SEC("fexit/kernel_clone")
int BPF_PROG(fx_kernel_clone, struct kernel_clone_args *args, pid_t ret)
{
	record_exit(ret, FT_SYS_UNKNOWN, FT_TIER_FENTRY);
	return 0;
}

SEC("kprobe/" FT_SYSCALL_WRAPPER(clone))
int BPF_KPROBE(kp_clone, const struct pt_regs *regs)
{
	record_entry(PT_REGS_PARM1_CORE_SYSCALL(regs), FT_SYS_CLONE);
	return 0;
}

SEC("kretprobe/" FT_SYSCALL_WRAPPER(clone))
int BPF_KRETPROBE(kr_clone, long ret)
{
	wrapper_returned(ret, FT_SYS_CLONE, FT_TIER_KPROBE);
	return 0;
}

SEC("kprobe/" FT_SYSCALL_WRAPPER(clone3))
int BPF_KPROBE(kp_clone3, const struct pt_regs *regs)
{
	record_entry(clone3_flags((const void *)PT_REGS_PARM1_CORE_SYSCALL(regs)), FT_SYS_CLONE3);
	return 0;
}

SEC("kretprobe/" FT_SYSCALL_WRAPPER(clone3))
int BPF_KRETPROBE(kr_clone3, long ret)
{
	wrapper_returned(ret, FT_SYS_CLONE3, FT_TIER_KPROBE);
	return 0;
}

SEC("kprobe/kernel_clone")
int BPF_KPROBE(kp_kernel_clone, struct kernel_clone_args *args)
{
	kernel_clone_entered(args);
	return 0;
}

SEC("kretprobe/kernel_clone")
int BPF_KRETPROBE(kr_kernel_clone, long ret)
{
	record_exit((int)ret, FT_SYS_UNKNOWN, FT_TIER_KPROBE);
	return 0;
}

/* ---- evidence hooks inside copy_process ---- */

static __always_inline struct inflight *current_inflight(void)
{
	return inflight_lookup();
}

static __always_inline bool is_err(const void *ptr)
{
	return (unsigned long)ptr >= (unsigned long)-MAX_ERRNO;
}

/*
 * copy_process() entered without a task creation in flight: a caller that bypasses kernel_clone
 * (io_uring's create_io_thread for SQPOLL threads and io-wq workers). It gets its own in-flight state,
 * so the evidence hooks inside copy_process (pids_can_fork, alloc_pid, ...) and the entry counters
 * work for it as for a syscall.
 */
static __always_inline void copy_process_entered(struct kernel_clone_args *args)
{
	struct inflight *state;

	if (inflight_lookup())
		return; /* kernel_clone or a syscall wrapper owns this task creation */
	record_entry(BPF_CORE_READ(args, flags) | (BPF_CORE_READ(args, exit_signal) & 0xff), FT_SYS_KERNEL);
	state = inflight_lookup();
	if (state)
		state->direct_copy_process = 1;
}

/*
 * copy_process() returned: for a syscall in flight this is evidence only; for a caller that is not a
 * syscall it is where the failure is emitted.
 */
static __always_inline void copy_process_returned(const void *ret, __u32 tier)
{
	struct inflight *state = inflight_lookup();

	if (state && !state->direct_copy_process) {
		if (is_err(ret))
			state->evidence |= FT_EV_COPY_PROCESS;
		return;
	}
	if (is_err(ret))
		emit_failure((long)ret, FT_SYS_KERNEL, tier, state);
	if (state)
		inflight_end(state);
}

/*
 * A tracing program's argument or return slot read as a plain number: fexit hands a pointer return over
 * as a typed BTF pointer on which the verifier forbids arithmetic (the 32-bit errno extraction is
 * rejected with EACCES), and older verifiers refuse pointers to non-structs altogether.
 */
static __always_inline const void *fexit_ctx_slot(unsigned long long *ctx, int slot)
{
	unsigned long long value = 0;

	bpf_probe_read_kernel(&value, sizeof(value), &ctx[slot]);
	return (const void *)value;
}

SEC("fentry/copy_process")
int BPF_PROG(fe_copy_process, struct pid *pid, int trace, int node, struct kernel_clone_args *args)
{
	copy_process_entered(args);
	return 0;
}

SEC("fexit/copy_process")
int BPF_PROG(fx_copy_process, struct pid *pid, int trace, int node, struct kernel_clone_args *args)
{
	copy_process_returned(fexit_ctx_slot(ctx, 4), FT_TIER_FENTRY);
	return 0;
}

SEC("kprobe/copy_process")
int BPF_KPROBE(kp_copy_process, struct pid *pid, int trace, int node, struct kernel_clone_args *args)
{
	copy_process_entered(args);
	return 0;
}

SEC("kretprobe/copy_process")
int BPF_KRETPROBE(kr_copy_process, void *ret)
{
	copy_process_returned(ret, FT_TIER_KPROBE);
	return 0;
}

static __always_inline void alloc_pid_returned(const void *ret)
{
	struct inflight *state = current_inflight();

	if (state && is_err(ret)) {
		state->evidence |= FT_EV_ALLOC_PID;
		state->alloc_pid_error = (__s32)(long)ret;
	}
}

/* alloc_pid(ns, set_tid, set_tid_size) since 5.5 (clone3 set_tid); only the return value is read. */
SEC("fexit/alloc_pid")
int BPF_PROG(fx_alloc_pid, struct pid_namespace *ns, pid_t *set_tid, size_t set_tid_size)
{
	alloc_pid_returned(fexit_ctx_slot(ctx, 3));
	return 0;
}

SEC("kretprobe/alloc_pid")
int BPF_KRETPROBE(kr_alloc_pid, void *ret)
{
	alloc_pid_returned(ret);
	return 0;
}

static __always_inline void pids_can_fork_returned(int ret)
{
	struct inflight *state = current_inflight();

	if (state && ret) {
		state->evidence |= FT_EV_PIDS_CAN_FORK;
		state->pids_can_fork_error = ret;
	}
}

/* pids_can_fork(task, cset) since 5.7; reached through cgroup_subsys.can_fork, so never inlined. */
SEC("fexit/pids_can_fork")
int BPF_PROG(fx_pids_can_fork, struct task_struct *task, struct css_set *cset, int ret)
{
	pids_can_fork_returned(ret);
	return 0;
}

SEC("kretprobe/pids_can_fork")
int BPF_KRETPROBE(kr_pids_can_fork, int ret)
{
	pids_can_fork_returned(ret);
	return 0;
}

static __always_inline void slab_failed(struct kmem_cache *cache)
{
	struct inflight *state = current_inflight();

	if (state) {
		state->evidence |= FT_EV_SLAB_OOM;
		bpf_probe_read_kernel_str(state->slab_cache, sizeof(state->slab_cache), BPF_CORE_READ(cache, name));
	}
}

/* Only called when a slab allocation failed (CONFIG_SLUB_DEBUG), so attaching it costs nothing. */
SEC("fentry/slab_out_of_memory")
int BPF_PROG(fe_slab_oom, struct kmem_cache *s, gfp_t gfpflags, int nid)
{
	slab_failed(s);
	return 0;
}

SEC("kprobe/slab_out_of_memory")
int BPF_KPROBE(kp_slab_oom, struct kmem_cache *s)
{
	slab_failed(s);
	return 0;
}

/*
 * page_counter_try_charge() runs on every memory charge in the system, so it is attached only on
 * request (it would tax page faults); the memcg MEMCG_MAX event delta confirms memcg refusals anyway.
 */
static __always_inline void page_counter_failed(struct page_counter *failed)
{
	struct inflight *state = current_inflight();

	if (state && failed) {
		state->evidence |= FT_EV_PAGE_COUNTER;
		bpf_core_read(&state->page_counter_usage, sizeof(__u64), &failed->usage);
		state->page_counter_max = BPF_CORE_READ(failed, max);
	}
}

/* 5.10's verifier types tracing arguments only when they point to structs ("arg2 type PTR is not a
 * struct" for `struct page_counter **fail`), so the argument and the return value are read as numbers. */
SEC("fexit/page_counter_try_charge")
int fx_page_counter(unsigned long long *ctx)
{
	struct page_counter **fail = (struct page_counter **)fexit_ctx_slot(ctx, 2);
	bool charged = (unsigned long)fexit_ctx_slot(ctx, 3) & 0xff;
	struct page_counter *failed = NULL;

	if (!charged) {
		bpf_probe_read_kernel(&failed, sizeof(failed), fail);
		page_counter_failed(failed);
	}
	return 0;
}

SEC("kprobe/page_counter_try_charge")
int BPF_KPROBE(kp_page_counter, struct page_counter *counter, unsigned long nr_pages, struct page_counter **fail)
{
	struct inflight *state = current_inflight();

	if (state)
		state->page_counter_fail = (__u64)fail;
	return 0;
}

SEC("kretprobe/page_counter_try_charge")
int BPF_KRETPROBE(kr_page_counter, bool ret)
{
	struct inflight *state = current_inflight();
	struct page_counter *failed = NULL;

	if (state && !ret && state->page_counter_fail) {
		bpf_probe_read_kernel(&failed, sizeof(failed), (void *)state->page_counter_fail);
		page_counter_failed(failed);
	}
	return 0;
}

/*
 * RLIMIT_NPROC: copy_process() asks is_rlimit_overlimit(task_ucounts(p), UCOUNT_RLIMIT_NPROC, ...) and
 * refuses when it says true and the caller is neither INIT_USER nor CAP_SYS_RESOURCE/CAP_SYS_ADMIN (user
 * space checks that part from the event's uid and capabilities). The name comes from "ucounts: Split
 * rlimit and ucount values and max values"; the first ucount kernels ("Reimplement RLIMIT_NPROC on top
 * of ucounts", 5.14) call it is_ucounts_overlimit, which is not hooked, and 5.10 compares
 * user->processes inline, so there RLIMIT_NPROC stays inferred. Called only by fork, exec and setuid.
 */
static __always_inline bool is_nproc_rlimit(int type)
{
	return bpf_core_enum_value_exists(enum rlimit_type, UCOUNT_RLIMIT_NPROC) &&
	       type == bpf_core_enum_value(enum rlimit_type, UCOUNT_RLIMIT_NPROC);
}

static __always_inline void nproc_overlimit(void)
{
	struct inflight *state = current_inflight();

	if (state)
		state->evidence |= FT_EV_RLIMIT_NPROC_OVER;
}

SEC("fexit/is_rlimit_overlimit")
int BPF_PROG(fx_rlimit_over, struct ucounts *ucounts, enum rlimit_type type, unsigned long rlimit, bool ret)
{
	if (ret && is_nproc_rlimit(type))
		nproc_overlimit();
	return 0;
}

SEC("kprobe/is_rlimit_overlimit")
int BPF_KPROBE(kp_rlimit_over, struct ucounts *ucounts, int type)
{
	struct inflight *state = current_inflight();

	if (state)
		state->nproc_check = is_nproc_rlimit(type);
	return 0;
}

SEC("kretprobe/is_rlimit_overlimit")
int BPF_KRETPROBE(kr_rlimit_over, bool ret)
{
	struct inflight *state = current_inflight();

	if (state && state->nproc_check) {
		state->nproc_check = 0;
		if (ret)
			state->evidence |= FT_EV_RLIMIT_NPROC_OVER;
	}
	return 0;
}

/*
 * Strict overcommit (vm.overcommit_memory=2): dup_mmap() charges every accountable mapping of the parent
 * through security_vm_enough_memory_mm() -> __vm_enough_memory(), which returns -ENOMEM past CommitLimit.
 * It runs on every accountable mmap/brk too, so like page_counter_try_charge it is attached only on
 * request (--memory-hooks); by default its ratelimited kernel message confirms it (see tpb_console).
 */
static __always_inline void overcommit_refused(int ret)
{
	struct inflight *state = current_inflight();

	if (state && ret)
		state->evidence |= FT_EV_OVERCOMMIT;
}

SEC("fexit/__vm_enough_memory")
int BPF_PROG(fx_vm_enough, struct mm_struct *mm, long pages, int cap_sys_admin, int ret)
{
	overcommit_refused(ret);
	return 0;
}

SEC("kretprobe/__vm_enough_memory")
int BPF_KRETPROBE(kr_vm_enough, int ret)
{
	overcommit_refused(ret);
	return 0;
}

/* ---- fault injection (kernels with CONFIG_FAILSLAB / CONFIG_FAIL_PAGE_ALLOC, e.g. the lab's 6.12-fi) ---- */

/* The current task creation's alloc_reports entry, created zeroed when missing; NULL outside one. */
static __always_inline struct alloc_report *current_alloc_report(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 zero = 0;
	struct alloc_report *report, *blank;
	struct inflight *state = inflight_lookup();

	if (!state)
		return NULL;
	state->has_alloc_report = 1;
	report = bpf_map_lookup_elem(&alloc_reports, &tid);
	if (report)
		return report;
	blank = bpf_map_lookup_elem(&alloc_report_blank, &zero);
	if (!blank)
		return NULL;
	bpf_map_update_elem(&alloc_reports, &tid, blank, BPF_NOEXIST);
	return bpf_map_lookup_elem(&alloc_reports, &tid);
}

/*
 * The last injected failure of the call is the one that refused it: an earlier one may have been
 * absorbed (a slab's first, higher-order page attempt falls back to its minimum order), and unwinding a
 * failed fork frees rather than allocates.
 */
static __always_inline void allocation_injected(__u32 injector, __u64 gfp, __s32 order)
{
	struct inflight *state = current_inflight();
	struct alloc_report *report = current_alloc_report();

	if (!state || !report)
		return;
	report->injector = injector;
	report->gfp = gfp;
	report->order = order;
	state->evidence |= FT_EV_ALLOC_GFP | FT_EV_FAULT_INJECTED |
			   (injector == FT_INJECT_FAILSLAB ? FT_EV_SLAB_OOM : FT_EV_PAGE_ALLOC_FAIL);
}

/*
 * should_failslab() and should_fail_alloc_page() are where failslab / fail_page_alloc decide to fail an
 * allocation; they run on every allocation, so like page_counter_try_charge they are attached only on
 * request (--memory-hooks). Kernels without CONFIG_FAILSLAB / CONFIG_FAIL_PAGE_ALLOC lack them.
 */
SEC("fexit/should_failslab")
int BPF_PROG(fx_should_failslab, struct kmem_cache *s, gfp_t gfpflags, int ret)
{
	if (ret) {
		allocation_injected(FT_INJECT_FAILSLAB, gfpflags, -1);
		slab_failed(s);
	}
	return 0;
}

SEC("kprobe/should_failslab")
int BPF_KPROBE(kp_should_failslab, struct kmem_cache *s, gfp_t gfpflags)
{
	struct alloc_report *report = current_alloc_report();

	if (report) {
		report->pending_cache = (__u64)s;
		report->pending_gfp = gfpflags;
	}
	return 0;
}

SEC("kretprobe/should_failslab")
int BPF_KRETPROBE(kr_should_failslab, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct alloc_report *report = bpf_map_lookup_elem(&alloc_reports, &tid);

	if (report && ret) {
		allocation_injected(FT_INJECT_FAILSLAB, report->pending_gfp, -1);
		slab_failed((struct kmem_cache *)report->pending_cache);
	}
	return 0;
}

SEC("fexit/should_fail_alloc_page")
int BPF_PROG(fx_should_fail_page, gfp_t gfp_mask, unsigned int order, bool ret)
{
	if (ret)
		allocation_injected(FT_INJECT_FAIL_PAGE_ALLOC, gfp_mask, order);
	return 0;
}

SEC("kprobe/should_fail_alloc_page")
int BPF_KPROBE(kp_should_fail_page, gfp_t gfp_mask, unsigned int order)
{
	struct alloc_report *report = current_alloc_report();

	if (report) {
		report->pending_gfp = gfp_mask;
		report->pending_order = order;
	}
	return 0;
}

SEC("kretprobe/should_fail_alloc_page")
int BPF_KRETPROBE(kr_should_fail_page, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct alloc_report *report = bpf_map_lookup_elem(&alloc_reports, &tid);

	if (report && (ret & 0xff))
		allocation_injected(FT_INJECT_FAIL_PAGE_ALLOC, report->pending_gfp, report->pending_order);
	return 0;
}

/* The kernel's line about the failed allocation, kept once per call (the first one is the refusal). */
static __always_inline void keep_report(const char *text)
{
	struct alloc_report *report = current_alloc_report();

	if (report && !report->report[0])
		bpf_probe_read_kernel_str(report->report, sizeof(report->report), text);
}

/* slab_out_of_memory()'s second line, "  cache: NAME, object size: ...": the cache, for the tiers
 * without the slab_out_of_memory hook. */
static __always_inline void keep_cache_name(struct inflight *state, const char *text)
{
	if (state->slab_cache[0])
		return;
	bpf_probe_read_kernel_str(state->slab_cache, sizeof(state->slab_cache), text + 9);
	bool ended = false;

	for (int i = 0; i < FT_SLAB_NAME_LEN; i++) {
		if (state->slab_cache[i] == ',')
			ended = true;
		if (ended)
			state->slab_cache[i] = 0;
	}
}

/* ---- kernel messages printed while a task creation is in flight ---- */

static __always_inline bool starts_with(const char *text, const char *prefix, int length)
{
	for (int i = 0; i < length; i++)
		if (text[i] != prefix[i])
			return false;
	return true;
}

/* printk's console tracepoint fires in the printing task's context on ringbuffer-era kernels. */
SEC("tp_btf/console")
int BPF_PROG(tpb_console, const char *text, size_t len)
{
	struct inflight *state = current_inflight();
	char line[64] = {};

	if (!state)
		return 0;
	bpf_probe_read_kernel_str(line, sizeof(line), text);
	if (starts_with(line, "cgroup: fork rejected", 21))
		state->evidence |= FT_EV_PIDS_REJECT_MSG;
	else if (starts_with(line, "SLUB: Unable to allocate", 24)) {
		state->evidence |= FT_EV_SLAB_OOM;
		keep_report(text);
	} else if (starts_with(line, "  cache: ", 9) && (state->evidence & FT_EV_SLAB_OOM))
		keep_cache_name(state, text);
	/* fail_dump(): "FAULT_INJECTION: forcing a failure.\nname failslab, interval ..." (verbose >= 1) */
	else if (starts_with(line, "FAULT_INJECTION: forcing a failure.\nname ", 41)) {
		__u32 injector = FT_INJECT_NONE;

		if (starts_with(&line[41], "failslab", 8)) {
			state->evidence |= FT_EV_FAULT_INJECTED | FT_EV_SLAB_OOM;
			injector = FT_INJECT_FAILSLAB;
		} else if (starts_with(&line[41], "fail_page_alloc", 15)) {
			state->evidence |= FT_EV_FAULT_INJECTED | FT_EV_PAGE_ALLOC_FAIL;
			injector = FT_INJECT_FAIL_PAGE_ALLOC;
		}
		struct alloc_report *report = injector ? current_alloc_report() : NULL;
		if (report && !report->injector)
			report->injector = injector;
	}
	/* printed (ratelimited) by __vm_enough_memory() on kernels with "mm/util.c: add warning if
	 * __vm_enough_memory fails"; without the message OVERCOMMIT_LIMIT is inferred */
	else if (starts_with(line, "__vm_enough_memory: pid:", 24))
		state->evidence |= FT_EV_OVERCOMMIT;
	else {
		/* warn_alloc(): "<comm>: page allocation failure: order:N, ..." and, for vmalloc'd kernel
		 * stacks (CONFIG_VMAP_STACK), "<comm>: vmalloc error: size N, page order N, ..." */
		for (int i = 0; i < 24; i++) {
			if (starts_with(&line[i], ": page allocation failure", 25) ||
			    starts_with(&line[i], ": vmalloc error: size", 21)) {
				state->evidence |= FT_EV_PAGE_ALLOC_FAIL;
				keep_report(text);
				break;
			}
		}
	}
	return 0;
}

/* ---- cgroup moves ---- */

/* The headroom sampler bounds a far pids cgroup's count by the pids created since its last read; a move
 * into the cgroup charges it without creating one, so the sampler re-reads cgroups only after moves. Both
 * tracepoints fire once per operation, which may move a whole thread group: only "none since" is used. */
SEC("tracepoint/cgroup/cgroup_attach_task")
int tp_cgroup_attach(void *ctx)
{
	count(FT_CNT_CGROUP_MOVES);
	return 0;
}

SEC("tracepoint/cgroup/cgroup_transfer_tasks")
int tp_cgroup_transfer(void *ctx)
{
	count(FT_CNT_CGROUP_MOVES);
	return 0;
}

/* ---- process tree tracking ---- */

SEC("tp_btf/sched_process_fork")
int BPF_PROG(tpb_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 parent_tgid = BPF_CORE_READ(parent, tgid);
	__u32 child_tgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;

	if (child_tgid != parent_tgid && bpf_map_lookup_elem(&traced_tgids, &parent_tgid) &&
	    bpf_map_update_elem(&traced_tgids, &child_tgid, &one, BPF_ANY) != 0)
		count(FT_CNT_TREE_FULL);
	return 0;
}

/* Runs for every exiting thread after do_exit() decremented signal->live (so since 2.6.x: the
 * tracepoint follows the decrement in every kernel forktrace supports): the last thread of a group sees
 * live == 0, and only then is the tgid free for reuse. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(tpb_exit, struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);

	if (BPF_CORE_READ(task, signal, live.counter) == 0)
		bpf_map_delete_elem(&traced_tgids, &tgid); /* -ENOENT for a process outside the tree */
	return 0;
}
