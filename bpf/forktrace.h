/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * forktrace.h: the one definition of what the BPF programs hand to user space.
 *
 * Included by bpf/forktrace.bpf.c (writer), native/ (shim, layout dump) and
 * checked against Java's view (dev.forktrace.bpf.EventLayout) at build time by
 * native/layout_dump.c + EventLayoutTest. Change a field here and the Java
 * build fails until EventLayout says the same.
 *
 * Rules: fixed-width types only, every field naturally aligned, no implicit
 * padding (explicit _pad fields), total size a multiple of 8.
 */
#ifndef FORKTRACE_H
#define FORKTRACE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define FT_COMM_LEN 16
#define FT_PIDNS_LEVELS 4      /* pid namespaces recorded, the child's own first */
#define FT_CGROUP_LEVELS 8     /* pids cgroups recorded, the caller's own first */
#define FT_ERRNO_SLOTS 136     /* per-errno counters; slot 0 counts errnos >= 136 */
#define FT_SLAB_NAME_LEN 32
#define FT_REPORT_LEN 128      /* the kernel's line about a failed allocation */
#define FT_ERESTARTNOINTR 513  /* a restart the kernel retries; never a failure */
#define FT_ENOSYS 38           /* clone3 refused as unknown: callers fall back to clone, so not a failure */
#define FT_PIDNS_ADDING 0x80000000u /* pid_namespace.pid_allocated flag: ns accepts pids */

/* Where the failure was seen. Kernel-internal callers of copy_process (kernel
 * threads, io_uring workers) are visible only through the copy_process hook. */
enum ft_syscall {
	FT_SYS_UNKNOWN = 0,
	FT_SYS_CLONE = 1,
	FT_SYS_CLONE3 = 2,
	FT_SYS_FORK = 3,
	FT_SYS_VFORK = 4,
	FT_SYS_KERNEL = 5,
};

/* ft_event.evidence bits: which hooks left evidence for this failure. */
enum ft_evidence {
	FT_EV_ENTRY_SNAPSHOT = 1u << 0,   /* *_at_entry counters are valid */
	FT_EV_COPY_PROCESS = 1u << 1,     /* copy_process return seen (hook tier) */
	FT_EV_ALLOC_PID = 1u << 2,        /* alloc_pid_error valid */
	FT_EV_PIDS_CAN_FORK = 1u << 3,    /* pids_can_fork_error valid */
	FT_EV_PAGE_COUNTER = 1u << 4,     /* page_counter_try_charge failed during the call */
	FT_EV_SLAB_OOM = 1u << 5,         /* slab_out_of_memory / "SLUB: Unable to allocate" */
	FT_EV_PAGE_ALLOC_FAIL = 1u << 6,  /* "page allocation failure" printed during the call */
	FT_EV_PIDS_REJECT_MSG = 1u << 7,  /* "fork rejected by pids controller" printed */
	FT_EV_NPROC_FROM_USER = 1u << 8,  /* nproc_count read from user_struct (pre-5.14) */
	FT_EV_RLIMIT_NPROC_OVER = 1u << 9, /* is_rlimit_overlimit(NPROC) returned true during the call */
	FT_EV_OVERCOMMIT = 1u << 10,      /* __vm_enough_memory refused (its hook or its kernel message) */
	FT_EV_ALLOC_GFP = 1u << 11,       /* alloc_gfp / alloc_order of the failed allocation are valid */
	FT_EV_FAULT_INJECTED = 1u << 12,  /* fault injection (failslab, fail_page_alloc) failed it: alloc_injector */
};

/* ft_event.alloc_injector: which fault injection failed the allocation (kernels with CONFIG_FAULT_INJECTION). */
enum ft_injector {
	FT_INJECT_NONE = 0,
	FT_INJECT_FAILSLAB = 1,       /* should_failslab() */
	FT_INJECT_FAIL_PAGE_ALLOC = 2, /* should_fail_alloc_page() */
};

/* ft_event.hook_tier: how the hooks that fed this event were attached. */
enum ft_tier {
	FT_TIER_TRACEPOINT = 0,
	FT_TIER_KPROBE = 1,
	FT_TIER_FENTRY = 2,
};

/* ft_config.filter_cgroup_hierarchy: each hierarchy numbers its cgroups on its own. */
enum ft_cgroup_hierarchy {
	FT_CGROUP_UNIFIED = 0,    /* cgroup v2: bpf_get_current_cgroup_id() */
	FT_CGROUP_PIDS = 1,       /* the pids controller's hierarchy (v1 or v2) */
	FT_CGROUP_MEMORY = 2,     /* the memory controller's hierarchy (v1 or v2) */
};

/* Program configuration, written into .rodata before load. */
struct ft_config {
	__u32 filter_tgid;        /* 0 = any process */
	__u32 filter_tree;        /* 1 = only tgids in the traced_tgids map */
	__u64 filter_cgroup_id;   /* 0 = any; else kernfs id of a cgroup in filter_cgroup_hierarchy */
	char filter_comm[FT_COMM_LEN]; /* "" = any; else exact process name */
	__u32 filter_cgroup_hierarchy; /* enum ft_cgroup_hierarchy */
	__u32 inflight_task_storage; /* set by the shim: 1 = `inflight` is task-local storage, 0 = a hash by tid */
};

struct ft_pidns_level {
	__u32 inum;               /* /proc/PID/ns/pid inode */
	__u32 level;              /* 0 = initial namespace */
	__u32 pid_allocated;      /* raw, including FT_PIDNS_ADDING */
	__s32 pid_max;            /* per-namespace pid_max; -1 where the kernel has none */
};

struct ft_pids_level {
	__u64 cgroup_id;          /* kernfs id = inode of the cgroup directory */
	__s64 counter;            /* pids.current at the failure (the attempt already reverted) */
	__s64 limit;              /* pids.max; INT64_MAX for "max" */
	__s64 events;             /* all pids event counters of this level, summed */
	__s64 events_at_entry;    /* the same at syscall entry (FT_EV_ENTRY_SNAPSHOT) */
	__s64 limit_hits;         /* refusals by this level's own pids.max (6.11+ cgroup2: pids.events.local max); -1 unknown */
	__s64 limit_hits_at_entry; /* the same at syscall entry (FT_EV_ENTRY_SNAPSHOT) */
};

struct ft_event {
	__u64 ktime_ns;           /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 clone_flags;
	__u64 cgroup_id;          /* cgroup v2 id of the caller */
	__u64 cap_effective;      /* caller's effective capabilities */
	__u64 rlimit_nproc;       /* RLIMIT_NPROC soft limit; ~0 = unlimited */
	__s64 nproc_count;        /* caller's NPROC ucount (or user->processes); -1 unknown */
	__u64 memcg_id;           /* memory cgroup kernfs id, 0 without memcg */
	__u64 memcg_usage_pages;
	__u64 memcg_max_pages;
	__u64 memcg_failcnt;
	__u64 memcg_events_max;   /* memory_events[MEMCG_MAX] */
	__u64 memcg_events_max_at_entry;
	__u64 memcg_events_oom;   /* memory_events[MEMCG_OOM] */
	__u64 page_counter_usage; /* failing page_counter (FT_EV_PAGE_COUNTER) */
	__u64 page_counter_max;
	__u64 memcg_kmem_usage_pages; /* cgroup v1 memory.kmem.*: kernels that still enforce it (5.10) */
	__u64 memcg_kmem_max_pages;   /* 0 where the kernel has no kmem counter */
	__u32 pid;                /* tgid of the caller */
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 user_ns_inum;
	__u32 syscall;            /* enum ft_syscall */
	__s32 error;              /* negative errno returned to the caller */
	__u32 evidence;           /* enum ft_evidence bits */
	__s32 alloc_pid_error;
	__s32 pids_can_fork_error;
	__u32 hook_tier;          /* enum ft_tier of the hooks that fed this event */
	__u32 pidns_depth;        /* valid entries in pidns[] */
	__u32 pids_depth;         /* valid entries in pids[] */
	__u32 ns_tgid;            /* tgid as the caller's own pid namespace sees it (NSpid); 0 unknown */
	char comm[FT_COMM_LEN];         /* failing thread's name */
	char process_comm[FT_COMM_LEN]; /* its thread group leader's name */
	char slab_cache[FT_SLAB_NAME_LEN]; /* cache named by slab_out_of_memory */
	struct ft_pidns_level pidns[FT_PIDNS_LEVELS];
	struct ft_pids_level pids[FT_CGROUP_LEVELS];
	/* A failed CLONE_NEW* (ENOSPC/EUSERS): the namespace count found at its user.max_*_namespaces */
	__s32 ns_limit;           /* enum ft_ns_limit; FT_NS_LIMIT_NONE when no count was at its max */
	__s32 ns_limit_level;     /* user namespaces above the caller's where it was (0 = the caller's own) */
	__s64 ns_limit_max;       /* that namespace's user.max_*_namespaces */
	__s64 ns_limit_current;   /* the count there; -1 unknown (kernels before 5.14) */
	__s32 user_ns_level;      /* nesting level of the caller's user namespace (0 = initial) */
	__u32 _pad1;
	/* The failed allocation (FT_EV_SLAB_OOM / FT_EV_PAGE_ALLOC_FAIL): from the should_failslab /
	 * should_fail_alloc_page hooks, and the kernel's own report line (printk) when it printed one. */
	__u64 alloc_gfp;          /* gfp mask (FT_EV_ALLOC_GFP) */
	__s32 alloc_order;        /* page order (FT_EV_ALLOC_GFP); -1 for a slab object */
	__u32 alloc_injector;     /* enum ft_injector */
	char alloc_report[FT_REPORT_LEN]; /* "SLUB: Unable to allocate ...", "...: page allocation failure: order:N, mode:..." */
};

/* Which user.max_*_namespaces was exhausted (ns_limit of struct ft_event). */
enum ft_ns_limit {
	FT_NS_LIMIT_NONE = 0,
	FT_NS_LIMIT_USER = 1,
	FT_NS_LIMIT_PID = 2,
	FT_NS_LIMIT_UTS = 3,
	FT_NS_LIMIT_IPC = 4,
	FT_NS_LIMIT_NET = 5,
	FT_NS_LIMIT_MNT = 6,
	FT_NS_LIMIT_CGROUP = 7,
	FT_NS_LIMIT_TIME = 8,
};

/* Indexes of the `counters` per-CPU array (besides errno slots which follow). */
enum ft_counter {
	FT_CNT_FAILURES = 0,      /* every failure seen, filtered in or out */
	FT_CNT_EMITTED = 1,       /* failures written to the ring */
	FT_CNT_DROPPED = 2,       /* failures lost because the ring was full */
	FT_CNT_FILTERED = 3,      /* failures outside the filter */
	FT_CNT_RESTARTS = 4,      /* -ERESTARTNOINTR returns (not failures) */
	FT_CNT_AGGREGATED = 5,    /* dropped failures counted in `signatures` under their signature */
	FT_CNT_SIGNATURE_OVERFLOW = 6, /* dropped failures whose new signature found `signatures` full */
	FT_CNT_CLONE3_ENOSYS = 7, /* clone3 answered ENOSYS (a seccomp profile, or a pre-5.3 kernel): glibc retries with clone */
	FT_CNT_TREE_FULL = 8,     /* descendants not tracked: traced_tgids was full */
	FT_CNT_ERRNO_BASE = 9,    /* + errno (see FT_ERRNO_SLOTS) */
	/* tasks moved into a cgroup (attach operations): a move charges pids.current without creating a pid */
	FT_CNT_CGROUP_MOVES = FT_CNT_ERRNO_BASE + FT_ERRNO_SLOTS,
	FT_CNT_SLOTS,
};

/*
 * Aggregation by failure signature: a failure the ring has no room for is still counted, in the
 * `signatures` hash map (value: __u64 count, cumulative, never deleted), under what the kernel knew of
 * it. User space computes the same key from delivered events (dev.forktrace.pipeline.Signature) so
 * it can give an aggregated failure the cause and scope of a delivered one with the same signature.
 */
#define FT_SIGNATURE_SLOTS 4096

/* ft_signature.flags: the counter-versus-limit comparisons the attributor makes, taken at failure. */
enum ft_signature_flags {
	FT_SIG_NPROC_AT_LIMIT = 1u << 0,  /* nproc_count >= RLIMIT_NPROC soft limit (not unlimited) */
	FT_SIG_NPROC_EXEMPT = 1u << 1,    /* uid 0, or CAP_SYS_RESOURCE / CAP_SYS_ADMIN effective */
	FT_SIG_PIDNS_DEAD = 1u << 2,      /* some pid namespace level no longer accepts pids */
	FT_SIG_NEW_NAMESPACE = 1u << 3,   /* clone flags ask for a new namespace */
};

struct ft_signature {
	__u64 pids_moved_cgroup_id;  /* pids cgroup at pids_moved_level, else 0 */
	__u64 pids_limit_cgroup_id;  /* pids cgroup at pids_limit_level, else 0 */
	__u64 memcg_id;              /* memcg whose MEMCG_MAX event moved during the call, else 0 */
	__u32 tgid;
	__u32 uid;
	__u32 pidns_inum;            /* the child's pid namespace */
	__s32 error;
	__u32 evidence;              /* enum ft_evidence, as the event would carry */
	__s32 alloc_pid_error;
	__s32 pids_can_fork_error;
	__u32 hook_tier;
	__u32 syscall;
	__u32 flags;                 /* enum ft_signature_flags */
	__s32 pids_moved_level;      /* innermost pids level whose events moved during the call, -1 none */
	__s32 pids_limit_level;      /* innermost pids level at its limit, -1 none */
};

#endif /* FORKTRACE_H */
