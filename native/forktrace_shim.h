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
 * loads it. Programs that cannot be used on this kernel are not loaded
 * (autoload off) and are reported by ft_describe_hooks, never fatal unless no
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
 * Writes one line per hook into buf: "hook\ttier\tattached\tnote\n", tier one
 * of "fentry", "kprobe", "tracepoint", "none". Returns bytes written
 * (excluding the NUL) or a negative errno when buf is too small.
 */
int ft_describe_hooks(struct ft_session *s, char *buf, size_t len);

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
