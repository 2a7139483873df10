// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * forktrace_shim.c: open, configure, tier-select, load and attach forktrace.bpf.o with libbpf.
 * See forktrace_shim.h for the contract. No event parsing happens here: Java maps the ring itself.
 */
#define _GNU_SOURCE
#include "forktrace_shim.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define API __attribute__((visibility("default")))
#define MAX_LINKS 64
#define TRACEFS "/sys/kernel/tracing"

static __thread char last_error[4096];
/* libbpf's warnings for the call in progress: the useful part of a load failure (newest kept). */
static __thread char libbpf_log[16384];
/* The program named by libbpf's last "prog 'NAME': BPF program load failed" line. */
static __thread char failed_prog_name[64];

static int fail(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err < 0 ? err : -err;
}

static int print_to_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	static __thread char line[16384]; /* a verifier log arrives as one message */
	size_t used = strlen(libbpf_log), length;
	const char *at, *end;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	at = strstr(line, "prog '");
	end = at ? strstr(at + 6, "': BPF program load failed") : NULL;
	if (end && (size_t)(end - at - 6) < sizeof(failed_prog_name)) {
		memcpy(failed_prog_name, at + 6, end - at - 6);
		failed_prog_name[end - at - 6] = 0;
	}
	length = strlen(line);
	if (length >= sizeof(libbpf_log)) { /* keep the end, where the verifier says why */
		memmove(line, line + length - sizeof(libbpf_log) + 1, sizeof(libbpf_log));
		length = strlen(line);
		used = 0;
	}
	if (used + length + 1 > sizeof(libbpf_log)) { /* drop the oldest half */
		size_t keep = used / 2;
		memmove(libbpf_log, libbpf_log + used - keep, keep + 1);
		used = keep;
		if (used + length + 1 > sizeof(libbpf_log))
			used = 0;
	}
	memcpy(libbpf_log + used, line, length + 1);
	return 0;
}

API const char *ft_last_error(void)
{
	return last_error;
}

/* One design hook and how it is covered: the programs of each tier, the choice, why. */
struct hook {
	const char *name;
	const char *function;        /* kernel function probed by the fentry/kprobe flavours */
	const char *fentry_progs[2]; /* entry and exit programs, NULL when absent */
	const char *kprobe_progs[2];
	const char *tracepoint_progs[8];
	const char *opt_in;          /* attached only with FT_OPEN_MEMORY_HOOKS: why (a hot path), else NULL */
	int tier;                    /* chosen: enum ft_tier, or -1 none */
	char note[256];
};

struct ft_session {
	struct bpf_object *obj;
	struct bpf_link *links[MAX_LINKS];
	int link_count;
	struct hook *hooks;
	int hook_count;
	bool tree;
};

static struct hook hook_table[] = {
	{ "syscalls", "kernel_clone", { "fe_kernel_clone", "fx_kernel_clone" }, { "kp_kernel_clone", "kr_kernel_clone" },
	  { "tp_enter_clone", "tp_exit_clone", "tp_enter_clone3", "tp_exit_clone3", "tp_enter_fork", "tp_exit_fork",
	    "tp_enter_vfork", "tp_exit_vfork" } },
	{ "copy_process", "copy_process", { "fe_copy_process", "fx_copy_process" }, { "kp_copy_process", "kr_copy_process" },
	  {} },
	{ "alloc_pid", "alloc_pid", { NULL, "fx_alloc_pid" }, { NULL, "kr_alloc_pid" }, {} },
	{ "pids_can_fork", "pids_can_fork", { NULL, "fx_pids_can_fork" }, { NULL, "kr_pids_can_fork" }, {} },
	{ "slab_out_of_memory", "slab_out_of_memory", { "fe_slab_oom", NULL }, { "kp_slab_oom", NULL }, {} },
	{ "is_rlimit_overlimit", "is_rlimit_overlimit", { NULL, "fx_rlimit_over" }, { "kp_rlimit_over", "kr_rlimit_over" },
	  {} },
	{ "page_counter_try_charge", "page_counter_try_charge", { NULL, "fx_page_counter" },
	  { "kp_page_counter", "kr_page_counter" }, {},
	  .opt_in = "it runs on every memory charge; memcg refusals are confirmed by memcg event counters instead" },
	{ "__vm_enough_memory", "__vm_enough_memory", { NULL, "fx_vm_enough" }, { NULL, "kr_vm_enough" }, {},
	  .opt_in = "it runs on every accountable mmap; overcommit refusals are confirmed by the kernel's "
		    "ratelimited warning instead, else inferred" },
	{ "should_failslab", "should_failslab", { NULL, "fx_should_failslab" },
	  { "kp_should_failslab", "kr_should_failslab" }, {},
	  .opt_in = "it runs on every slab allocation (kernels with CONFIG_FAILSLAB); failslab's own message "
		    "(verbose) confirms an injected failure instead" },
	{ "should_fail_alloc_page", "should_fail_alloc_page", { NULL, "fx_should_fail_page" },
	  { "kp_should_fail_page", "kr_should_fail_page" }, {},
	  .opt_in = "it runs on every page allocation (kernels with CONFIG_FAIL_PAGE_ALLOC); fail_page_alloc's own "
		    "message (verbose) confirms an injected failure instead" },
	{ "console", NULL, {}, {}, { "tpb_console" } },
};
#define HOOK_COUNT (sizeof(hook_table) / sizeof(hook_table[0]))
/* The clone/clone3 wrappers' programs, which go with the "syscalls" hook: fentry pair, then kprobe pair. */
static const char *wrapper_progs[] = { "fe_clone", "fx_clone", "kp_clone", "kr_clone",
				       "fe_clone3", "fx_clone3", "kp_clone3", "kr_clone3" };
#define WRAPPER_PROGS (sizeof(wrapper_progs) / sizeof(wrapper_progs[0]))
/* The syscall wrappers are named per architecture; the BPF object is built for the same one. */
#if defined(__x86_64__)
#define SYSCALL_WRAPPER(name) "__x64_sys_" #name
#elif defined(__aarch64__)
#define SYSCALL_WRAPPER(name) "__arm64_sys_" #name
#else
#error "forktrace supports x86_64 and aarch64 (the clone syscall wrappers' names)"
#endif
/* The functions the fentry/kprobe flavours of the "syscalls" hook need, all three. */
static const char *syscall_functions[] = { "kernel_clone", SYSCALL_WRAPPER(clone), SYSCALL_WRAPPER(clone3) };
#define SYSCALL_FUNCTIONS 3

/* ---- feature probes (the libbpf-tools way: try the real thing on a tiny program) ---- */

static struct btf *vmlinux_btf(void)
{
	static struct btf *btf;

	if (!btf)
		btf = btf__load_vmlinux_btf();
	return libbpf_get_error(btf) ? NULL : btf;
}

/* 0 when an fexit program can be loaded for this function, else the negative errno. */
static int probe_fentry(const char *function)
{
	struct btf *btf = vmlinux_btf();
	struct bpf_insn insns[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = 0 }, /* r0 = 0 */
		{ .code = 0x95 },                         /* exit */
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FEXIT);
	int id, fd;

	if (!btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, function, BTF_KIND_FUNC);
	if (id <= 0)
		return -ENOENT; /* inlined, renamed or absent in this kernel */
	opts.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "ft_probe", "GPL", insns, 2, &opts);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* 0 when kprobes exist and the function is a kprobe-able symbol, else the negative errno. */
static int probe_kprobe(const char *function)
{
	char line[512], wanted[256];
	FILE *f;
	int found = -ENOENT;

	if (access(TRACEFS "/kprobe_events", F_OK) != 0 && access("/sys/kernel/debug/tracing/kprobe_events", F_OK) != 0)
		return -EOPNOTSUPP;
	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return -errno;
	snprintf(wanted, sizeof(wanted), " %s\n", function);
	while (fgets(line, sizeof(line), f)) {
		char *space = strchr(line, ' ');
		if (space && (space[1] == 't' || space[1] == 'T') && strstr(line, wanted)) {
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

static bool probe_tp_btf(const char *event)
{
	struct btf *btf = vmlinux_btf();
	char name[128];

	snprintf(name, sizeof(name), "btf_trace_%s", event);
	return btf && btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) > 0;
}

/* libbpf attaches tp/ programs through tracefs; mount it when we may and it is missing. */
static void ensure_tracefs(void)
{
	if (access(TRACEFS "/events", F_OK) == 0 || access("/sys/kernel/debug/tracing/events", F_OK) == 0)
		return;
	if (geteuid() == 0)
		mount("tracefs", TRACEFS, "tracefs", 0, NULL);
}

/* ---- session ---- */

static int write_config(struct bpf_object *obj, const struct ft_config *cfg)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		size_t size = 0;
		if (!strstr(name, ".rodata") || strstr(name, ".str"))
			continue;
		const void *initial = bpf_map__initial_value(map, &size);
		if (!initial || size < sizeof(*cfg))
			return fail(-EINVAL, "the BPF object's .rodata is %zu bytes, smaller than struct ft_config", size);
		char *data = malloc(size);
		if (!data)
			return fail(-ENOMEM, "out of memory");
		memcpy(data, initial, size);
		/* cfg is the only variable in .rodata (see forktrace.bpf.c), so it sits at offset 0. */
		memcpy(data, cfg, sizeof(*cfg));
		int err = bpf_map__set_initial_value(map, data, size);
		free(data);
		return err ? fail(err, "cannot write the configuration into .rodata: %s", strerror(-err)) : 0;
	}
	return fail(-ENOENT, "the BPF object has no .rodata section for its configuration");
}

static void set_autoload(struct bpf_object *obj, const char *name, bool on)
{
	struct bpf_program *prog;

	if (!name)
		return;
	prog = bpf_object__find_program_by_name(obj, name);
	if (prog)
		bpf_program__set_autoload(prog, on);
}

static bool tier_allowed(int request, int tier)
{
	if (request == FT_TIER_AUTO)
		return true;
	/* A forced tier uses that tier, and tracepoints where a hook has no such flavour. */
	return tier == request;
}

/* Decide each hook's tier and set autoload for every program accordingly. */
static void choose_tiers(struct ft_session *s, int request, bool want_hot_hooks, const int *ceiling)
{
	for (int h = 0; h < s->hook_count; h++) {
		struct hook *hook = &s->hooks[h];
		int fentry_err = -EOPNOTSUPP, kprobe_err = -EOPNOTSUPP;
		bool is_syscalls = strcmp(hook->name, "syscalls") == 0;

		hook->tier = -1;
		hook->note[0] = 0;
		if (hook->function && tier_allowed(request, FT_TIER_FENTRY) && ceiling[h] >= FT_TIER_FENTRY) {
			fentry_err = 0;
			for (unsigned i = 0; i < (is_syscalls ? SYSCALL_FUNCTIONS : 1) && !fentry_err; i++)
				fentry_err = probe_fentry(is_syscalls ? syscall_functions[i] : hook->function);
		}
		if (hook->function && fentry_err && tier_allowed(request, FT_TIER_KPROBE) && ceiling[h] >= FT_TIER_KPROBE) {
			kprobe_err = 0;
			for (unsigned i = 0; i < (is_syscalls ? SYSCALL_FUNCTIONS : 1) && !kprobe_err; i++)
				kprobe_err = probe_kprobe(is_syscalls ? syscall_functions[i] : hook->function);
		}
		if (hook->opt_in && !want_hot_hooks && (!fentry_err || !kprobe_err)) {
			snprintf(hook->note, sizeof(hook->note), "available (%s) but not attached without --memory-hooks: %s",
				 !fentry_err ? "fentry" : "kprobe", hook->opt_in);
		} else if (hook->function && !fentry_err) {
			hook->tier = FT_TIER_FENTRY;
		} else if (hook->function && !kprobe_err) {
			hook->tier = FT_TIER_KPROBE;
			snprintf(hook->note, sizeof(hook->note), "fentry unavailable (%s)", strerror(-fentry_err));
		} else if (hook->tracepoint_progs[0] && (!hook->function || request == FT_TIER_AUTO ||
							 request == FT_TIER_TRACEPOINT || is_syscalls)) {
			bool ok = strncmp(hook->tracepoint_progs[0], "tpb_", 4) ? true : probe_tp_btf("console");
			if (ok) {
				hook->tier = FT_TIER_TRACEPOINT;
				if (hook->function)
					snprintf(hook->note, sizeof(hook->note),
						 "fentry unavailable (%s), kprobes unavailable (%s): syscall tracepoints, "
						 "which tax every syscall slightly",
						 strerror(-fentry_err), strerror(-kprobe_err));
			} else {
				snprintf(hook->note, sizeof(hook->note), "tp_btf/console not available on this kernel");
			}
		} else {
			snprintf(hook->note, sizeof(hook->note),
				 "fentry unavailable (%s), kprobes unavailable (%s): causes it confirms are inferred "
				 "from counters instead",
				 strerror(-fentry_err), strerror(-kprobe_err));
		}
		for (int i = 0; i < 2; i++) {
			set_autoload(s->obj, hook->fentry_progs[i], hook->tier == FT_TIER_FENTRY);
			set_autoload(s->obj, hook->kprobe_progs[i], hook->tier == FT_TIER_KPROBE);
		}
		for (int i = 0; i < 8; i++)
			set_autoload(s->obj, hook->tracepoint_progs[i], hook->tier == FT_TIER_TRACEPOINT);
		if (is_syscalls) /* the clone/clone3 wrappers' programs, besides kernel_clone's in the table */
			for (unsigned i = 0; i < WRAPPER_PROGS; i++)
				set_autoload(s->obj, wrapper_progs[i],
					     hook->tier == (i % 4 < 2 ? FT_TIER_FENTRY : FT_TIER_KPROBE));
	}
}

/* The end of libbpf's log: where the verifier says why it refused a program. */
static const char *log_tail(void)
{
	size_t used = strlen(libbpf_log);
	return used > 1500 ? libbpf_log + used - 1500 : libbpf_log;
}

/* The program whose load libbpf reported as failed, or NULL. */
static const char *failed_program(struct bpf_object *obj)
{
	struct bpf_program *prog;

	if (!failed_prog_name[0])
		return NULL;
	prog = bpf_object__find_program_by_name(obj, failed_prog_name);
	return prog ? bpf_program__name(prog) : NULL;
}

/* The hook that owns a program, or NULL. */
static struct hook *hook_of(struct ft_session *s, const char *prog)
{
	for (int h = 0; h < s->hook_count; h++) {
		struct hook *hook = &s->hooks[h];
		for (int i = 0; i < 2; i++)
			if ((hook->fentry_progs[i] && !strcmp(hook->fentry_progs[i], prog)) ||
			    (hook->kprobe_progs[i] && !strcmp(hook->kprobe_progs[i], prog)))
				return hook;
		for (int i = 0; i < 8; i++)
			if (hook->tracepoint_progs[i] && !strcmp(hook->tracepoint_progs[i], prog))
				return hook;
	}
	for (unsigned i = 0; i < WRAPPER_PROGS; i++)
		if (!strcmp(wrapper_progs[i], prog))
			for (int h = 0; h < s->hook_count; h++)
				if (!strcmp(s->hooks[h].name, "syscalls"))
					return &s->hooks[h];
	return NULL;
}

#define MAX_LOAD_ATTEMPTS 8

API int ft_open(const char *bpf_object_path, const struct ft_config *cfg, int tier_request, unsigned flags,
		struct ft_session **out)
{
	struct ft_session *s;
	int err = 0;
	bool hot = flags & FT_OPEN_MEMORY_HOOKS;
	/* Per hook: the best tier still allowed. A program the kernel rejects lowers its hook's ceiling. */
	int ceiling[HOOK_COUNT];
	char rejected[HOOK_COUNT][256] = {};

	for (unsigned h = 0; h < HOOK_COUNT; h++)
		ceiling[h] = FT_TIER_FENTRY;
	last_error[0] = 0;
	libbpf_set_print(print_to_log);
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		return fail(-ENOENT, "/sys/kernel/btf/vmlinux is missing: this kernel was built without BTF "
				     "(CONFIG_DEBUG_INFO_BTF), which forktrace's CO-RE programs need");
	ensure_tracefs();
	for (int attempt = 0; attempt < MAX_LOAD_ATTEMPTS; attempt++) {
		libbpf_log[0] = 0;
		failed_prog_name[0] = 0;
		s = calloc(1, sizeof(*s));
		if (!s)
			return fail(-ENOMEM, "out of memory");
		s->hooks = malloc(sizeof(hook_table));
		memcpy(s->hooks, hook_table, sizeof(hook_table));
		s->hook_count = HOOK_COUNT;
		s->tree = cfg->filter_tree;
		/* Named here: the path may be /proc/self/fd/N, and libbpf names the object (and its
		 * .rodata/.bss maps) after the file otherwise. */
		LIBBPF_OPTS(bpf_object_open_opts, open_opts, .object_name = "forktrace");
		s->obj = bpf_object__open_file(bpf_object_path, &open_opts);
		err = libbpf_get_error(s->obj);
		if (err) {
			s->obj = NULL;
			ft_close(s);
			return fail(err, "cannot open %s: %s", bpf_object_path, strerror(-err));
		}
		err = write_config(s->obj, cfg);
		if (err) {
			ft_close(s);
			return err;
		}
		choose_tiers(s, tier_request, hot, ceiling);
		for (int h = 0; h < s->hook_count; h++)
			if (rejected[h][0])
				memcpy(s->hooks[h].note, rejected[h], sizeof(s->hooks[h].note));
		set_autoload(s->obj, "tpb_fork", cfg->filter_tree != 0);
		set_autoload(s->obj, "tpb_exit", cfg->filter_tree != 0);
		err = bpf_object__load(s->obj);
		if (!err) {
			*out = s;
			return 0;
		}
		int e = errno ? errno : -err;
		const char *prog = failed_program(s->obj);
		struct hook *hook = prog ? hook_of(s, prog) : NULL;
		if (e == EPERM || !hook || hook->tier < 0 || hook->tier == FT_TIER_TRACEPOINT) {
			ft_close(s);
			if (e == EPERM)
				return fail(-EPERM, "the kernel refused to load BPF programs (%s): forktrace needs root or "
						    "CAP_BPF + CAP_PERFMON. libbpf said: ...%s",
					    strerror(e), log_tail());
			return fail(-e, "loading the BPF programs failed (%s). libbpf said: ...%s", strerror(e), log_tail());
		}
		/* Fall back for this hook only, and say why in its description. */
		int h = (int)(hook - s->hooks);
		ceiling[h] = hook->tier - 1;
		snprintf(rejected[h], sizeof(rejected[h]), "the kernel rejected %s (%s tier: %s); using a lower tier",
			 prog, hook->tier == FT_TIER_FENTRY ? "fentry" : hook->tier == FT_TIER_KPROBE ? "kprobe" : "tracepoint",
			 strerror(e));
		ft_close(s);
	}
	return fail(-ELOOP, "could not load the BPF programs after %d fallbacks. libbpf said: ...%s", MAX_LOAD_ATTEMPTS,
		    log_tail());
}

API int ft_attach(struct ft_session *s)
{
	struct bpf_program *prog;

	libbpf_log[0] = 0;
	bpf_object__for_each_program(prog, s->obj) {
		if (!bpf_program__autoload(prog))
			continue;
		if (s->link_count >= MAX_LINKS)
			return fail(-E2BIG, "more than %d programs to attach", MAX_LINKS);
		struct bpf_link *link = bpf_program__attach(prog);
		int err = libbpf_get_error(link);
		if (err) {
			const char *name = bpf_program__name(prog);
			if (strncmp(name, "tp_", 3) == 0 && access(TRACEFS "/events", F_OK) != 0)
				return fail(err, "cannot attach %s: tracefs is not mounted at " TRACEFS
						 " (mount -t tracefs tracefs " TRACEFS ")", name);
			return fail(err, "cannot attach %s (%s) to %s: %s. libbpf said: %.1000s", name,
				    strerror(-err), bpf_program__section_name(prog), strerror(-err), libbpf_log);
		}
		s->links[s->link_count++] = link;
	}
	return 0;
}

API int ft_ringbuf_fd(struct ft_session *s)
{
	int fd = bpf_object__find_map_fd_by_name(s->obj, "events");
	return fd < 0 ? fail(fd, "the BPF object has no 'events' ring buffer") : fd;
}

API long ft_ringbuf_size(struct ft_session *s)
{
	struct bpf_map *map = bpf_object__find_map_by_name(s->obj, "events");
	return map ? (long)bpf_map__max_entries(map) : -ENOENT;
}

API int ft_read_counters(struct ft_session *s, uint64_t *out, int n)
{
	int fd = bpf_object__find_map_fd_by_name(s->obj, "counters");
	int cpus = libbpf_num_possible_cpus();
	uint64_t *values;

	if (fd < 0)
		return fail(fd, "the BPF object has no 'counters' map");
	if (cpus <= 0)
		return fail(cpus, "cannot count the possible CPUs");
	values = calloc(cpus, sizeof(*values));
	if (!values)
		return fail(-ENOMEM, "out of memory");
	if (n > FT_CNT_SLOTS)
		n = FT_CNT_SLOTS;
	for (uint32_t key = 0; key < (uint32_t)n; key++) {
		out[key] = 0;
		if (bpf_map_lookup_elem(fd, &key, values) == 0)
			for (int cpu = 0; cpu < cpus; cpu++)
				out[key] += values[cpu];
	}
	free(values);
	return n;
}

API int ft_read_signatures(struct ft_session *s, struct ft_signature *keys, uint64_t *counts, int max)
{
	int fd = bpf_object__find_map_fd_by_name(s->obj, "signatures");
	struct ft_signature key, next;
	int n = 0;

	if (fd < 0)
		return fail(fd, "the BPF object has no 'signatures' map");
	/* entries are never deleted, so walking the keys sees each one once */
	for (const void *at = NULL; n < max && bpf_map_get_next_key(fd, at, &next) == 0; at = &key) {
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &counts[n]) == 0)
			keys[n++] = key;
	}
	return n;
}

static const char *tier_name(int tier)
{
	switch (tier) {
	case FT_TIER_FENTRY: return "fentry";
	case FT_TIER_KPROBE: return "kprobe";
	case FT_TIER_TRACEPOINT: return "tracepoint";
	default: return "none";
	}
}

API int ft_describe_hooks(struct ft_session *s, char *buf, size_t len)
{
	size_t used = 0;

	for (int h = 0; h < s->hook_count; h++) {
		int n = snprintf(buf + used, len - used, "%s\t%s\t%d\t%s\n", s->hooks[h].name,
				 tier_name(s->hooks[h].tier), s->hooks[h].tier >= 0, s->hooks[h].note);
		if (n < 0 || (size_t)n >= len - used)
			return fail(-ENOSPC, "hook description does not fit in %zu bytes", len);
		used += n;
	}
	if (s->tree) {
		int n = snprintf(buf + used, len - used, "process_tree\ttracepoint\t1\ttp_btf/sched_process_fork, tp_btf/sched_process_exit\n");
		if (n < 0 || (size_t)n >= len - used)
			return fail(-ENOSPC, "hook description does not fit in %zu bytes", len);
		used += n;
	}
	return (int)used;
}

API int ft_track_tgid(struct ft_session *s, uint32_t tgid)
{
	int fd = bpf_object__find_map_fd_by_name(s->obj, "traced_tgids");
	uint8_t one = 1;

	if (fd < 0)
		return fail(fd, "the BPF object has no 'traced_tgids' map");
	if (bpf_map_update_elem(fd, &tgid, &one, BPF_ANY) != 0)
		return fail(-errno, "cannot track pid %u: %s", tgid, strerror(errno));
	return 0;
}

API void ft_close(struct ft_session *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->link_count; i++)
		bpf_link__destroy(s->links[i]);
	bpf_object__close(s->obj);
	free(s->hooks);
	free(s);
}

API int ft_probe_features(char *buf, size_t len)
{
	size_t used = 0;
	int n;

#define ADD(...)                                                               \
	do {                                                                   \
		n = snprintf(buf + used, len - used, __VA_ARGS__);             \
		if (n < 0 || (size_t)n >= len - used)                          \
			return fail(-ENOSPC, "feature report too long");       \
		used += n;                                                     \
	} while (0)

	libbpf_set_print(print_to_log);
	ADD("btf=%s\n", vmlinux_btf() ? "yes" : "no");
	ADD("ringbuf=%s\n", libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1 ? "yes" : "no");
	ADD("tracepoint=%s\n", libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACEPOINT, NULL) == 1 ? "yes" : "no");
	ADD("tp_btf.console=%s\n", probe_tp_btf("console") ? "yes" : "no");
	ADD("tp_btf.sched_process_fork=%s\n", probe_tp_btf("sched_process_fork") ? "yes" : "no");
	/* every function a hook can probe: the syscall entry points, then each evidence hook's */
	const char *functions[SYSCALL_FUNCTIONS + HOOK_COUNT];
	unsigned count = 0;
	for (unsigned i = 0; i < SYSCALL_FUNCTIONS; i++)
		functions[count++] = syscall_functions[i];
	for (unsigned h = 0; h < HOOK_COUNT; h++)
		if (hook_table[h].function && strcmp(hook_table[h].name, "syscalls"))
			functions[count++] = hook_table[h].function;
	for (unsigned i = 0; i < count; i++) {
		int f = probe_fentry(functions[i]);
		int k = probe_kprobe(functions[i]);
		ADD("fentry.%s=%s%s\n", functions[i], f ? "no " : "yes", f ? strerror(-f) : "");
		ADD("kprobe.%s=%s%s\n", functions[i], k ? "no " : "yes", k ? strerror(-k) : "");
	}
	return (int)used;
#undef ADD
}
