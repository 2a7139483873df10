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

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
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

#define MAX_HOOK_PROGS 6
#define TIERS (FT_TIER_FENTRY + 1)

/*
 * One design hook: the programs of each tier (index enum ft_tier), by name in forktrace.bpf.c. A tier is
 * usable for a hook when every one of its programs probes as loadable here (tracepoint tier: when its
 * first program's event exists; the others are the syscalls an architecture may lack, like fork).
 */
struct hook {
	const char *progs[TIERS][MAX_HOOK_PROGS];
	const char *opt_in; /* attached only with FT_OPEN_MEMORY_HOOKS: why (a hot path), else NULL */
};

static const struct hook hook_table[FT_HOOK_COUNT] = {
	[FT_HOOK_SYSCALLS] = { {
		[FT_TIER_TRACEPOINT] = { "tp_exit_clone", "tp_enter_clone", "tp_enter_clone3", "tp_enter_fork",
					 "tp_enter_vfork" },
		[FT_TIER_KPROBE] = { "kp_kernel_clone", "kr_kernel_clone", "kp_clone", "kr_clone", "kp_clone3", "kr_clone3" },
		[FT_TIER_FENTRY] = { "fe_kernel_clone", "fx_kernel_clone", "fe_clone", "fx_clone", "fe_clone3", "fx_clone3" },
	} },
	[FT_HOOK_COPY_PROCESS] = { { [FT_TIER_KPROBE] = { "kp_copy_process", "kr_copy_process" },
				     [FT_TIER_FENTRY] = { "fe_copy_process", "fx_copy_process" } } },
	[FT_HOOK_ALLOC_PID] = { { [FT_TIER_KPROBE] = { "kr_alloc_pid" }, [FT_TIER_FENTRY] = { "fx_alloc_pid" } } },
	[FT_HOOK_PIDS_CAN_FORK] = { { [FT_TIER_KPROBE] = { "kr_pids_can_fork" }, [FT_TIER_FENTRY] = { "fx_pids_can_fork" } } },
	[FT_HOOK_SLAB_OUT_OF_MEMORY] = { { [FT_TIER_KPROBE] = { "kp_slab_oom" }, [FT_TIER_FENTRY] = { "fe_slab_oom" } } },
	[FT_HOOK_IS_RLIMIT_OVERLIMIT] = { { [FT_TIER_KPROBE] = { "kp_rlimit_over", "kr_rlimit_over" },
					    [FT_TIER_FENTRY] = { "fx_rlimit_over" } } },
	[FT_HOOK_PAGE_COUNTER_TRY_CHARGE] = {
		{ [FT_TIER_KPROBE] = { "kp_page_counter", "kr_page_counter" }, [FT_TIER_FENTRY] = { "fx_page_counter" } },
		"it runs on every memory charge; memcg refusals are confirmed by memcg event counters instead" },
	[FT_HOOK_VM_ENOUGH_MEMORY] = {
		{ [FT_TIER_KPROBE] = { "kr_vm_enough" }, [FT_TIER_FENTRY] = { "fx_vm_enough" } },
		"it runs on every accountable mmap; overcommit refusals are confirmed by the kernel's "
		"ratelimited warning instead, else inferred" },
	[FT_HOOK_SHOULD_FAILSLAB] = {
		{ [FT_TIER_KPROBE] = { "kp_should_failslab", "kr_should_failslab" },
		  [FT_TIER_FENTRY] = { "fx_should_failslab" } },
		"it runs on every slab allocation (kernels with CONFIG_FAILSLAB); failslab's own message "
		"(verbose) confirms an injected failure instead" },
	[FT_HOOK_SHOULD_FAIL_ALLOC_PAGE] = {
		{ [FT_TIER_KPROBE] = { "kp_should_fail_page", "kr_should_fail_page" },
		  [FT_TIER_FENTRY] = { "fx_should_fail_page" } },
		"it runs on every page allocation (kernels with CONFIG_FAIL_PAGE_ALLOC); fail_page_alloc's own "
		"message (verbose) confirms an injected failure instead" },
	[FT_HOOK_CONSOLE] = { { [FT_TIER_TRACEPOINT] = { "tpb_console" } } },
	[FT_HOOK_PROCESS_TREE] = { { [FT_TIER_TRACEPOINT] = { "tpb_fork", "tpb_exit" } } },
	/* the second program is optional: cgroup_transfer_tasks moves tasks only out of an emptied v1 cpuset */
	[FT_HOOK_CGROUP_MOVES] = { { [FT_TIER_TRACEPOINT] = { "tp_cgroup_attach", "tp_cgroup_transfer" } } },
};

/* Tracepoints a program is attached to besides its own section's: one exit program serves four syscalls. */
static const struct {
	const char *prog, *category, *event;
} extra_attach_points[] = {
	{ "tp_exit_clone", "syscalls", "sys_exit_clone3" },
	{ "tp_exit_clone", "syscalls", "sys_exit_fork" },
	{ "tp_exit_clone", "syscalls", "sys_exit_vfork" },
};
#define EXTRA_ATTACH_POINTS (sizeof(extra_attach_points) / sizeof(extra_attach_points[0]))

/* The syscall wrappers are named per architecture; the BPF object is built for the same one. */
#if defined(__x86_64__)
#define SYSCALL_WRAPPER(name) "__x64_sys_" #name
#elif defined(__aarch64__)
#define SYSCALL_WRAPPER(name) "__arm64_sys_" #name
#else
#error "forktrace supports x86_64 and aarch64 (the clone syscall wrappers' names)"
#endif

/* The functions doctor's feature report probes for the fentry and kprobe tiers. */
static const char *const probed_functions[] = {
	"kernel_clone", SYSCALL_WRAPPER(clone), SYSCALL_WRAPPER(clone3), "copy_process", "alloc_pid", "pids_can_fork",
	"slab_out_of_memory", "is_rlimit_overlimit", "page_counter_try_charge", "__vm_enough_memory",
	"should_failslab", "should_fail_alloc_page",
};
#define PROBED_FUNCTIONS (sizeof(probed_functions) / sizeof(probed_functions[0]))

struct ft_session {
	struct bpf_object *obj;
	struct bpf_link *links[MAX_LINKS];
	int link_count;
	struct ft_hook_status hooks[FT_HOOK_COUNT];
	bool tree; /* cfg.filter_tree: the process-tree programs are part of this session */
};

/* ---- feature probes (the libbpf-tools way: try the real thing on a tiny program) ---- */

static struct btf *vmlinux_btf(void)
{
	static struct btf *btf;

	if (!btf)
		btf = btf__load_vmlinux_btf();
	return libbpf_get_error(btf) ? NULL : btf;
}

/* 0 when a tracing program of this attach type (fentry, fexit) loads for this function, else -errno. */
static int probe_tracing(const char *function, enum bpf_attach_type type)
{
	struct btf *btf = vmlinux_btf();
	struct bpf_insn insns[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = 0 }, /* r0 = 0 */
		{ .code = 0x95 },                         /* exit */
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = type);
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

static bool kprobes_supported(void)
{
	return access(TRACEFS "/kprobe_events", F_OK) == 0 || access("/sys/kernel/debug/tracing/kprobe_events", F_OK) == 0;
}

/*
 * Which of the functions are kprobe-able text symbols: found[i] for functions[i]. One pass over
 * /proc/kallsyms for all of them (it has ~150,000 lines; a pass per function was most of a TCG guest's
 * start-up on the kprobe tier).
 */
static int find_text_symbols(const char *const *functions, int count, bool *found)
{
	char line[512];
	FILE *f = fopen("/proc/kallsyms", "r");

	for (int i = 0; i < count; i++)
		found[i] = false;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *type = strchr(line, ' '), *name, *end;
		if (!type || (type[1] != 't' && type[1] != 'T') || type[2] != ' ')
			continue;
		name = type + 3;
		end = name + strcspn(name, " \t\n");
		*end = 0;
		for (int i = 0; i < count; i++)
			if (!found[i] && strcmp(name, functions[i]) == 0)
				found[i] = true;
	}
	fclose(f);
	return 0;
}

/* 0 when kprobes exist and the function is a kprobe-able symbol, else the negative errno. */
static int probe_kprobe(const char *function)
{
	bool found;

	if (!kprobes_supported())
		return -EOPNOTSUPP;
	int err = find_text_symbols(&function, 1, &found);
	return err ? err : found ? 0 : -ENOENT;
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

/*
 * Where the entry programs keep each thread's task creation in flight (see `inflight` in forktrace.bpf.c):
 * task-local storage when tracing programs may use it (5.12+, a10787e6d58c "bpf: Enable task local
 * storage for tracing programs"), else a hash keyed by tid. Returns cfg->inflight_task_storage's value.
 */
static int choose_inflight_storage(struct bpf_object *obj)
{
	static int usable = -1; /* probed once: ft_open may open the object several times */
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "inflight");

	if (!map)
		return 0;
	if (usable < 0)
		usable = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) == 1 &&
			 libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_task_storage_get, NULL) == 1;
	if (usable)
		return 1;
	bpf_map__set_type(map, BPF_MAP_TYPE_HASH);
	bpf_map__set_map_flags(map, 0);
	bpf_map__set_max_entries(map, 16384);
	return 0;
}

/* The kprobe-able functions among the object's kprobe/kretprobe programs, found in one kallsyms pass. */
#define MAX_KPROBE_FUNCTIONS 48
struct kprobe_targets {
	bool read;
	int error; /* -EOPNOTSUPP without kprobes, else a kallsyms read error, else 0 */
	int count;
	const char *functions[MAX_KPROBE_FUNCTIONS];
	bool found[MAX_KPROBE_FUNCTIONS];
};

static const char *after_prefix(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(text, prefix, n) == 0 ? text + n : NULL;
}

static int probe_kprobe_target(struct bpf_object *obj, struct kprobe_targets *k, const char *function)
{
	if (!k->read) {
		struct bpf_program *prog;
		k->read = true;
		k->error = kprobes_supported() ? 0 : -EOPNOTSUPP;
		bpf_object__for_each_program(prog, obj) {
			const char *sec = bpf_program__section_name(prog), *f;
			if (((f = after_prefix(sec, "kprobe/")) || (f = after_prefix(sec, "kretprobe/"))) &&
			    k->count < MAX_KPROBE_FUNCTIONS)
				k->functions[k->count++] = f;
		}
		if (!k->error)
			k->error = find_text_symbols(k->functions, k->count, k->found);
	}
	if (k->error)
		return k->error;
	for (int i = 0; i < k->count; i++)
		if (strcmp(k->functions[i], function) == 0)
			return k->found[i] ? 0 : -ENOENT;
	return -ENOENT;
}

static bool tracepoint_exists(const char *category_event)
{
	char path[256];

	snprintf(path, sizeof(path), TRACEFS "/events/%s", category_event);
	if (access(path, F_OK) == 0)
		return true;
	snprintf(path, sizeof(path), "/sys/kernel/debug/tracing/events/%s", category_event);
	return access(path, F_OK) == 0;
}

/*
 * Probes one program the way libbpf-tools do before setting autoload: its own attach type on its own
 * target (a tiny fentry/fexit program on the function, the symbol for a kprobe, the event for a
 * tracepoint, the BTF type for a tp_btf). 0 when it can load here, else -errno.
 */
static int probe_program(struct bpf_object *obj, struct kprobe_targets *k, const char *name)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, name);
	const char *sec, *target;

	if (!prog)
		return -ENOENT;
	sec = bpf_program__section_name(prog);
	if ((target = after_prefix(sec, "fentry/")))
		return probe_tracing(target, BPF_TRACE_FENTRY);
	if ((target = after_prefix(sec, "fexit/")))
		return probe_tracing(target, BPF_TRACE_FEXIT);
	if ((target = after_prefix(sec, "kprobe/")) || (target = after_prefix(sec, "kretprobe/")))
		return probe_kprobe_target(obj, k, target);
	if ((target = after_prefix(sec, "tracepoint/")))
		return tracepoint_exists(target) ? 0 : -ENOENT;
	if ((target = after_prefix(sec, "tp_btf/")))
		return probe_tp_btf(target) ? 0 : -ENOENT;
	return -EOPNOTSUPP;
}

/* 0 when every program of the hook's tier can load (tracepoint tier: its first; see struct hook). */
static int probe_tier(struct bpf_object *obj, struct kprobe_targets *k, const struct hook *hook, int tier)
{
	if (!hook->progs[tier][0])
		return -EOPNOTSUPP;
	for (int i = 0; i < MAX_HOOK_PROGS && hook->progs[tier][i]; i++) {
		int err = probe_program(obj, k, hook->progs[tier][i]);
		if (err && (tier != FT_TIER_TRACEPOINT || i == 0))
			return err;
	}
	return 0;
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

/*
 * Decides each hook's tier and sets autoload so that only that tier's programs load. ceiling is the best
 * tier still allowed (lowered when the kernel refused a load), refused says why it was lowered.
 */
static void choose_tiers(struct ft_session *s, int request, bool want_hot_hooks, bool tree, int ceiling,
			 const char *refused)
{
	struct kprobe_targets kprobes = {};

	for (int h = 0; h < FT_HOOK_COUNT; h++) {
		const struct hook *hook = &hook_table[h];
		struct ft_hook_status *st = &s->hooks[h];
		char why[TIERS][96] = {};
		int chosen = FT_TIER_NONE;

		st->hook = h;
		st->tier = FT_TIER_NONE;
		st->note[0] = 0;
		for (int tier = FT_TIER_FENTRY; tier >= FT_TIER_KPROBE && chosen == FT_TIER_NONE; tier--) {
			int err;
			if (!hook->progs[tier][0])
				continue;
			if (request != FT_TIER_AUTO && request != tier)
				snprintf(why[tier], sizeof(why[tier]), "not requested: --tier %s", tier_name(request));
			else if (tier > ceiling)
				snprintf(why[tier], sizeof(why[tier]), "%s", refused);
			else if ((err = probe_tier(s->obj, &kprobes, hook, tier)))
				snprintf(why[tier], sizeof(why[tier]), "%s", strerror(-err));
			else
				chosen = tier;
		}
		if (chosen == FT_TIER_NONE && hook->progs[FT_TIER_TRACEPOINT][0] && (h != FT_HOOK_PROCESS_TREE || tree)) {
			int err = probe_tier(s->obj, &kprobes, hook, FT_TIER_TRACEPOINT);
			if (!err)
				chosen = FT_TIER_TRACEPOINT;
			else
				snprintf(why[FT_TIER_TRACEPOINT], sizeof(why[FT_TIER_TRACEPOINT]), "%s", strerror(-err));
		}
		bool fentry_tried = hook->progs[FT_TIER_FENTRY][0], kprobe_tried = hook->progs[FT_TIER_KPROBE][0];
		if (hook->opt_in && !want_hot_hooks && chosen > FT_TIER_TRACEPOINT) {
			snprintf(st->note, sizeof(st->note), "available (%s) but not attached without --memory-hooks: %s",
				 tier_name(chosen), hook->opt_in);
			chosen = FT_TIER_NONE;
		} else if (chosen == FT_TIER_KPROBE) {
			snprintf(st->note, sizeof(st->note), "fentry unavailable (%s)", why[FT_TIER_FENTRY]);
		} else if (chosen == FT_TIER_TRACEPOINT && fentry_tried) {
			snprintf(st->note, sizeof(st->note), "fentry unavailable (%s), kprobes unavailable (%s): syscall "
				 "tracepoints, which tax every syscall slightly", why[FT_TIER_FENTRY], why[FT_TIER_KPROBE]);
		} else if (chosen == FT_TIER_NONE && h == FT_HOOK_PROCESS_TREE && !tree) {
			snprintf(st->note, sizeof(st->note), "only when a process tree is traced (run)");
		} else if (chosen == FT_TIER_NONE && (fentry_tried || kprobe_tried)) {
			snprintf(st->note, sizeof(st->note), "fentry unavailable (%s), kprobes unavailable (%s): causes it "
				 "confirms are inferred from counters instead", why[FT_TIER_FENTRY], why[FT_TIER_KPROBE]);
		} else if (chosen == FT_TIER_NONE) {
			snprintf(st->note, sizeof(st->note), "%s not available on this kernel (%s)",
				 hook->progs[FT_TIER_TRACEPOINT][0], why[FT_TIER_TRACEPOINT]);
		}
		st->tier = chosen;
		st->attached = chosen != FT_TIER_NONE;
		for (int tier = 0; tier < TIERS; tier++)
			for (int i = 0; i < MAX_HOOK_PROGS && hook->progs[tier][i]; i++) {
				struct bpf_program *prog = bpf_object__find_program_by_name(s->obj, hook->progs[tier][i]);
				bool on = tier == chosen &&
					  (tier != FT_TIER_TRACEPOINT || i == 0 || !probe_program(s->obj, &kprobes, hook->progs[tier][i]));
				if (prog)
					bpf_program__set_autoload(prog, on);
			}
	}
}

/* The end of libbpf's log: where the verifier says why it refused a program. */
static const char *log_tail(void)
{
	size_t used = strlen(libbpf_log);
	return used > 1500 ? libbpf_log + used - 1500 : libbpf_log;
}

static int open_object(const char *bpf_object_path, const struct ft_config *cfg, struct ft_session **out)
{
	struct ft_session *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return fail(-ENOMEM, "out of memory");
	/* Named here: the path may be /proc/self/fd/N, and libbpf names the object (and its .rodata/.bss maps)
	 * after the file otherwise. */
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .object_name = "forktrace");
	s->obj = bpf_object__open_file(bpf_object_path, &open_opts);
	err = libbpf_get_error(s->obj);
	if (err) {
		s->obj = NULL;
		ft_close(s);
		return fail(err, "cannot open %s: %s", bpf_object_path, strerror(-err));
	}
	struct ft_config effective = *cfg;
	effective.inflight_task_storage = choose_inflight_storage(s->obj);
	err = write_config(s->obj, &effective);
	if (err) {
		ft_close(s);
		return err;
	}
	*out = s;
	return 0;
}

/* The best tier any hook got: the one whose programs a refused load is blamed on. */
static int best_tier(const struct ft_session *s)
{
	int best = FT_TIER_NONE;
	for (int h = 0; h < FT_HOOK_COUNT; h++)
		if (s->hooks[h].tier > best)
			best = s->hooks[h].tier;
	return best;
}

API int ft_open(const char *bpf_object_path, const struct ft_config *cfg, int tier_request, unsigned flags,
		struct ft_session **out)
{
	bool hot = flags & FT_OPEN_MEMORY_HOOKS;
	int ceiling = FT_TIER_FENTRY;
	char refused[96] = "";

	last_error[0] = 0;
	libbpf_set_print(print_to_log);
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		return fail(-ENOENT, "/sys/kernel/btf/vmlinux is missing: this kernel was built without BTF "
				     "(CONFIG_DEBUG_INFO_BTF), which forktrace's CO-RE programs need");
	ensure_tracefs();
	/*
	 * Every program was probed before the load, so a refusal here is the verifier rejecting one of them
	 * (an older kernel's verifier, a CO-RE relocation it cannot satisfy). Nothing says which without
	 * parsing libbpf's log wording, so the whole tier steps down: fentry, then kprobe, then tracepoints
	 * alone, at most three loads, and each hook's note says why.
	 */
	for (;;) {
		struct ft_session *s = NULL;
		int err = open_object(bpf_object_path, cfg, &s);
		if (err)
			return err;
		libbpf_log[0] = 0;
		choose_tiers(s, tier_request, hot, cfg->filter_tree != 0, ceiling, refused);
		s->tree = cfg->filter_tree != 0;
		err = bpf_object__load(s->obj);
		if (!err) {
			*out = s;
			return 0;
		}
		int e = errno ? errno : -err, best = best_tier(s);
		ft_close(s);
		if (e == EPERM)
			return fail(-EPERM, "the kernel refused to load BPF programs (%s): forktrace needs root or "
					    "CAP_BPF + CAP_PERFMON. libbpf said: ...%s", strerror(e), log_tail());
		if (best <= FT_TIER_TRACEPOINT)
			return fail(-e, "loading the BPF programs failed (%s). libbpf said: ...%s", strerror(e), log_tail());
		ceiling = best - 1;
		snprintf(refused, sizeof(refused), "the kernel refused to load the %s tier's programs: %s",
			 tier_name(best), strerror(e));
	}
}

static int attach_failed(struct bpf_program *prog, const char *where, int err)
{
	const char *name = bpf_program__name(prog);

	if (strncmp(name, "tp_", 3) == 0 && access(TRACEFS "/events", F_OK) != 0)
		return fail(err, "cannot attach %s: tracefs is not mounted at " TRACEFS " (mount -t tracefs tracefs " TRACEFS ")",
			    name);
	return fail(err, "cannot attach %s to %s: %s. libbpf said: %.1000s", name, where, strerror(-err), libbpf_log);
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
		if (err)
			return attach_failed(prog, bpf_program__section_name(prog), err);
		s->links[s->link_count++] = link;
		for (unsigned i = 0; i < EXTRA_ATTACH_POINTS; i++) {
			char where[128];
			if (strcmp(extra_attach_points[i].prog, bpf_program__name(prog)) != 0)
				continue;
			snprintf(where, sizeof(where), "%s/%s", extra_attach_points[i].category, extra_attach_points[i].event);
			if (!tracepoint_exists(where))
				continue; /* a syscall this architecture lacks (arm64 has no fork, vfork) */
			if (s->link_count >= MAX_LINKS)
				return fail(-E2BIG, "more than %d programs to attach", MAX_LINKS);
			link = bpf_program__attach_tracepoint(prog, extra_attach_points[i].category, extra_attach_points[i].event);
			err = libbpf_get_error(link);
			if (err)
				return attach_failed(prog, where, err);
			s->links[s->link_count++] = link;
		}
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

API int ft_hooks(struct ft_session *s, struct ft_hook_status *out, int max)
{
	int n = 0;

	for (int h = 0; h < FT_HOOK_COUNT && n < max; h++) {
		/* the process-tree programs are part of a session only when it traces a tree */
		if (h == FT_HOOK_PROCESS_TREE && !s->tree)
			continue;
		out[n++] = s->hooks[h];
	}
	return n;
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
	for (unsigned i = 0; i < PROBED_FUNCTIONS; i++) {
		int f = probe_tracing(probed_functions[i], BPF_TRACE_FEXIT);
		int k = probe_kprobe(probed_functions[i]);
		ADD("fentry.%s=%s%s\n", probed_functions[i], f ? "no " : "yes", f ? strerror(-f) : "");
		ADD("kprobe.%s=%s%s\n", probed_functions[i], k ? "no " : "yes", k ? strerror(-k) : "");
	}
	return (int)used;
#undef ADD
}
