/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * forktrace_shim: the thin C layer between Java (Panama FFM) and libbpf.
 * It opens, configures, loads and attaches the BPF object, probes kernel
 * features, and reads counters. It never touches events: Java consumes the
 * ring buffer itself on memory it maps from ft_ringbuf_fd().
 *
 * Conventions: functions return 0 (or a non-negative value) on success and a
 * negative errno on failure; the failing call leaves a human-readable message
 * in ft_last_error() (thread-local), so Java reads errno-like state only after
 * a failure was signalled.
 */
#ifndef FORKTRACE_SHIM_H
#define FORKTRACE_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include "../bpf/forktrace.h"

/* Tier requests for ft_open. */
#define FT_TIER_AUTO (-1)
/* ft_open flags: also attach the hooks on hot memory paths (page_counter_try_charge, __vm_enough_memory). */
#define FT_OPEN_MEMORY_HOOKS 1u

struct ft_session;

/* Message of the last failed call on this thread ("" if none). */
const char *ft_last_error(void);

/*
 * Opens the BPF object file, writes cfg into its .rodata, chooses a tier per
 * hook (tier_request: FT_TIER_AUTO picks the best the kernel allows, or one of
 * enum ft_tier to force it; tracepoints are always attached as the base), and
 * loads it. Each program is probed on its own (its attach type on its
 * function, tracepoint or kprobe) and only the chosen tier's programs are
 * loaded (autoload); the rest are reported by ft_hooks, never fatal unless no
 * failure-capturing program could load.
 */
int ft_open(const char *bpf_object_path, const struct ft_config *cfg,
	    int tier_request, unsigned flags, struct ft_session **out);

/* Attaches every loaded program. */
int ft_attach(struct ft_session *s);

/* fd of the BPF_MAP_TYPE_RINGBUF map "events", and its data size in bytes. */
int ft_ringbuf_fd(struct ft_session *s);
long ft_ringbuf_size(struct ft_session *s);

/*
 * Sums the per-CPU "counters" map into out[0..n) (indexes: enum ft_counter).
 * Returns the number of slots written.
 */
int ft_read_counters(struct ft_session *s, uint64_t *out, int n);

/*
 * Copies up to max entries of the "signatures" map (failures the ring had no room for, counted by
 * signature; counts are cumulative) into keys[] and counts[]. Returns the number copied.
 */
int ft_read_signatures(struct ft_session *s, struct ft_signature *keys, uint64_t *counts, int max);

/*
 * The design hooks, in the order of enum ft_hook: id and name (the name doctor, the attached line and the
 * stream header show). Java's HookPoint enum is checked against this list (layout_dump, EventLayoutTest).
 */
#define FT_HOOKS(X)                                         \
	X(SYSCALLS, "syscalls")                             \
	X(COPY_PROCESS, "copy_process")                     \
	X(ALLOC_PID, "alloc_pid")                           \
	X(PIDS_CAN_FORK, "pids_can_fork")                   \
	X(SLAB_OUT_OF_MEMORY, "slab_out_of_memory")         \
	X(IS_RLIMIT_OVERLIMIT, "is_rlimit_overlimit")       \
	X(PAGE_COUNTER_TRY_CHARGE, "page_counter_try_charge") \
	X(VM_ENOUGH_MEMORY, "__vm_enough_memory")           \
	X(SHOULD_FAILSLAB, "should_failslab")               \
	X(SHOULD_FAIL_ALLOC_PAGE, "should_fail_alloc_page") \
	X(CONSOLE, "console")                               \
	X(PROCESS_TREE, "process_tree")                     \
	X(CGROUP_MOVES, "cgroup_attach_task")

enum ft_hook {
#define FT_HOOK_ENUM(id, name) FT_HOOK_##id,
	FT_HOOKS(FT_HOOK_ENUM)
#undef FT_HOOK_ENUM
	FT_HOOK_COUNT
};

#define FT_TIER_NONE (-1)
#define FT_HOOK_NOTE_LEN 512

/* How one hook is covered in this session: one entry per enum ft_hook, read by Java as a struct array. */
struct ft_hook_status {
	int32_t hook;     /* enum ft_hook */
	int32_t tier;     /* enum ft_tier, or FT_TIER_NONE */
	int32_t attached; /* 1 when its programs are loaded (ft_attach attaches every loaded program) */
	int32_t _pad0;
	char note[FT_HOOK_NOTE_LEN]; /* why this tier and not a better one, or why not attached; NUL-terminated */
};

/* Copies up to max entries of the session's hook table (index = enum ft_hook) into out; returns the count. */
int ft_hooks(struct ft_session *s, struct ft_hook_status *out, int max);

/* Adds a tgid to the traced process tree (cfg.filter_tree = 1); its
 * descendants are added in the kernel as they are created. */
int ft_track_tgid(struct ft_session *s, uint32_t tgid);

/* Detaches and frees everything. Safe with NULL. */
void ft_close(struct ft_session *s);

/*
 * Kernel feature report for `forktrace doctor`, without loading forktrace:
 * "key=value\n" lines. Keys: btf, ringbuf, tp_btf, tracepoint,
 * fentry.<function>, kprobe.<function> (values yes/no plus a reason after a
 * space when no). Returns bytes written or a negative errno.
 */
int ft_probe_features(char *buf, size_t len);

#endif /* FORKTRACE_SHIM_H */
