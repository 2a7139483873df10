/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * core_fixes.bpf.h: every kernel-version difference forktrace reads around, in one place. Each
 * ___flavour struct describes an older layout; bpf_core_field_exists() picks one at load time.
 */
#ifndef FORKTRACE_CORE_FIXES_BPF_H
#define FORKTRACE_CORE_FIXES_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

/*
 * RLIMIT_NPROC moved from user_struct->processes to ucounts->rlimit[UCOUNT_RLIMIT_NPROC] in v5.14,
 * commit 21d1c5e386bc ("Reimplement RLIMIT_NPROC on top of ucounts").
 */
struct user_struct___pre_5_14 {
	atomic_t processes;
} __attribute__((preserve_access_index));

/*
 * pids.events: a single events_limit counter (5.10, 6.1) until the 2024 series "cgroup/pids: Make
 * event counters hierarchical" (Michal Koutny) replaced it by events[] and events_local[] (6.12, 6.18).
 */
struct pids_cgroup___pre_6_10 {
	struct cgroup_subsys_state css;
	atomic64_t counter;
	atomic64_t limit;
	atomic64_t events_limit;
} __attribute__((preserve_access_index));

/* Per-namespace pid_max: "pid: allow pid_max to be set per pid namespace" (Alexander Mikhalitsyn,
 * 2024-25; absent in 6.12, present in 6.18). Older kernels have only the global kernel.pid_max. */
struct pid_namespace___pid_max {
	int pid_max;
} __attribute__((preserve_access_index));

/*
 * How often this cgroup's own pids.max refused a fork, where the kernel says so: since 6.11 ("cgroup/pids:
 * Make event counters hierarchical", 385a635cacfe, and "cgroup/pids: Add pids.events.local"), cgroup2
 * without the pids_localevents mount option counts events_local[PIDCG_MAX] (index 0 of enum pidcg_event)
 * in the cgroup whose limit was hit, and events[PIDCG_MAX] there and in every ancestor. cgroup v1,
 * pids_localevents and older kernels count only in the forking task's cgroup, whichever level refused:
 * the counter stays 0 there (or is absent: -1), and the level at its limit tells instead.
 */
static __always_inline __s64 pids_limit_hits(struct cgroup_subsys_state *css)
{
	struct pids_cgroup *pids = (struct pids_cgroup *)css;
	__s64 v = -1;

	if (bpf_core_field_exists(pids->events_local))
		bpf_core_read(&v, sizeof(v), &pids->events_local[0]);
	return v;
}

/* Sum of the pids event counters of one cgroup, whatever this kernel calls them. */
static __always_inline __s64 pids_events_sum(struct cgroup_subsys_state *css)
{
	struct pids_cgroup *pids = (struct pids_cgroup *)css;
	__s64 sum = 0, v = 0;

	if (bpf_core_field_exists(pids->events)) {
		bpf_core_read(&v, sizeof(v), &pids->events[0]);
		sum += v;
		bpf_core_read(&v, sizeof(v), &pids->events[1]);
		sum += v;
		if (bpf_core_field_exists(pids->events_local)) {
			bpf_core_read(&v, sizeof(v), &pids->events_local[0]);
			sum += v;
			bpf_core_read(&v, sizeof(v), &pids->events_local[1]);
			sum += v;
		}
	} else {
		struct pids_cgroup___pre_6_10 *old = (void *)css;
		bpf_core_read(&v, sizeof(v), &old->events_limit);
		sum = v;
	}
	return sum;
}

/* The caller's NPROC count: ucounts on 5.14+, user_struct before. *from_user says which. */
static __always_inline __s64 nproc_count(const struct cred *cred, __u32 *from_user)
{
	struct ucounts *ucounts = NULL;
	long v = -1;

	if (bpf_core_field_exists(ucounts->rlimit)) {
		ucounts = BPF_CORE_READ(cred, ucounts);
		if (ucounts)
			bpf_core_read(&v, sizeof(v), &ucounts->rlimit[bpf_core_enum_value(enum rlimit_type, UCOUNT_RLIMIT_NPROC)]);
		return v;
	}
	struct user_struct___pre_5_14 *user = (void *)BPF_CORE_READ(cred, user);
	int processes = -1;
	if (user)
		bpf_core_read(&processes, sizeof(processes), &user->processes);
	*from_user = 1;
	return processes;
}

static __always_inline int pid_namespace_pid_max(struct pid_namespace *ns)
{
	struct pid_namespace___pid_max *with_max = (void *)ns;
	int max = -1;

	if (bpf_core_field_exists(with_max->pid_max))
		bpf_core_read(&max, sizeof(max), &with_max->pid_max);
	return max;
}

/*
 * cgroup v1 memory.kmem.limit_in_bytes had its own page counter, mem_cgroup.kmem, until 5.16 ("mm/memcg:
 * remove the kmem limit", deprecated in 5.14 and removed after); a kmem charge failure there raises no
 * memcg event, so its usage against its limit is the evidence.
 */
struct mem_cgroup___kmem {
	struct page_counter kmem;
} __attribute__((preserve_access_index));

/*
 * Namespace counts: since 5.14 ("Add a reference to ucounts for each cred", 905ae01c4ae2) a cred points
 * at its struct ucounts and counts and maxima are longs; before, the ucounts sat in a hash table only
 * and user_namespace.ucount_max[] was int (5.10): there only the maximum can be read.
 */
struct user_namespace___pre_5_14 {
	int ucount_max[16];
	struct user_namespace *parent;
} __attribute__((preserve_access_index));

/*
 * Finds the namespace count of ucount type `type` that is at its maximum, the way inc_ucount() walks
 * it: the caller's ucounts, then the ucounts of each user namespace's creator in its parent. Returns 1
 * and fills max, current and level when found; 0 otherwise.
 */
static __always_inline int ns_count_at_max(const struct cred *cred, int type, __s64 *max, __s64 *current,
					   __s32 *level)
{
	if (type < 0 || type >= 16)
		return 0;
	if (!bpf_core_field_exists(cred->ucounts)) {
		struct user_namespace___pre_5_14 *ns = (void *)BPF_CORE_READ(cred, user_ns);
		int m = -1;

		bpf_core_read(&m, sizeof(m), &ns->ucount_max[type]);
		if (m != 0)
			return 0; /* without the counts, only a zero maximum is certain */
		*max = 0;
		*current = -1;
		*level = 0;
		return 1;
	}
	struct ucounts *iter = BPF_CORE_READ(cred, ucounts);
	for (int i = 0; i < 4 && iter; i++) { /* 4 user namespace levels: deeper nesting is rare */
		struct user_namespace *ns = BPF_CORE_READ(iter, ns);
		long m = 0, c = 0;

		if (!ns)
			return 0;
		bpf_core_read(&m, sizeof(m), &ns->ucount_max[type]);
		bpf_core_read(&c, sizeof(c), &iter->ucount[type]);
		if (c >= m) {
			*max = m;
			*current = c;
			*level = i;
			return 1;
		}
		iter = BPF_CORE_READ(ns, ucounts);
	}
	return 0;
}

#endif /* FORKTRACE_CORE_FIXES_BPF_H */
