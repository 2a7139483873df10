/*
 * forkloop: creates processes (or threads) until the kernel refuses, and
 * counts what it saw. The lab's workloads for every fork-failure scenario.
 *
 *   forkloop [-t] [-n MAX] [-f FAILS] [-m MB] [-T] [-c KB] [-w PATH] [-H SEC]
 *     -t        create threads (pthread_create -> clone(CLONE_THREAD)) instead of processes
 *     -n MAX    stop after MAX successful creations (default 100000)
 *     -f FAILS  stop after FAILS failed creations (default 1); retried after 1 ms
 *     -m MB     map MB of private writable memory before creating anything (overcommit)
 *     -T        touch every page of the -m mapping
 *     -c KB     each child touches KB of fresh memory before it waits (memcg)
 *     -w PATH   after the set-up, print "FORKLOOP ready" and wait until PATH exists
 *     -H SEC    keep the children alive SEC seconds after the last failure
 *     -v        children share forkloop's memory (clone(CLONE_VM | SIGCHLD)) and
 *               never touch user memory, so a full memory cgroup cannot trap
 *               them in page-fault retries (seen on 6.12: CoW faults of
 *               ordinary fork children at the memcg limit livelocked the guest)
 *     -r N      set RLIMIT_NPROC to N (soft and hard) first
 *     -u UID    then drop to UID (and gid UID): root is exempt from RLIMIT_NPROC
 *     -N NTH    fault injection's fail-nth (kernels with CONFIG_FAULT_INJECTION): before the k-th
 *               fork attempt (k = 0, 1, ...) write NTH + k to /proc/thread-self/fail-nth, so that
 *               attempt's (NTH + k)-th allocation that failslab / fail_page_alloc would check fails;
 *               a sweep over the allocations on fork's path (prints "FORKLOOP nth=N errno=E")
 *     -L        fault in and lock forkloop's own memory first (mlockall), so a
 *               full memory cgroup makes fork fail instead of forkloop's own
 *               page faults (seen on 5.10: the parent died of SIGSEGV)
 *
 * Children and threads only wait; children die with the parent (PR_SET_PDEATHSIG)
 * and are killed and reaped before forkloop prints its summary line:
 *   FORKLOOP created=N failed=M errno=NAME errnos=NAME:count,...
 * Exit status: 0 when at least one creation failed, 3 when none did, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *errno_name(int e)
{
	switch (e) {
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case ENOSPC: return "ENOSPC";
	case EINTR: return "EINTR";
	case EINVAL: return "EINVAL";
	case EPERM: return "EPERM";
	case EUSERS: return "EUSERS";
	default: return "EOTHER";
	}
}

/*
 * clone(CLONE_VM | SIGCHLD) whose child runs only syscalls from registers:
 * prctl(PR_SET_PDEATHSIG, SIGKILL), then pause() forever. The child shares the
 * parent's stack pointer but never reads or writes memory, so no stack of its
 * own is needed. Returns the child's pid or -errno.
 */
static long clone_vm_waiter(void)
{
#if defined(__aarch64__)
	/* arm64: clone(flags, newsp = 0: the same stack, parent_tid, tls, child_tid); no pause(), so the
	 * child waits in ppoll(NULL, 0, NULL, NULL), which touches no memory either. */
	register long x0 __asm__("x0") = CLONE_VM | SIGCHLD;
	register long x1 __asm__("x1") = 0, x2 __asm__("x2") = 0, x3 __asm__("x3") = 0, x4 __asm__("x4") = 0;
	register long x8 __asm__("x8") = 220; /* SYS_clone */
	__asm__ volatile(
		"svc #0\n\t"
		"cbnz x0, 1f\n\t"
		"mov x8, #167\n\t" /* SYS_prctl */
		"mov x0, #1\n\t"   /* PR_SET_PDEATHSIG */
		"mov x1, #9\n\t"   /* SIGKILL */
		"svc #0\n\t"
		"2: mov x8, #73\n\t" /* SYS_ppoll */
		"mov x0, #0\n\t"
		"mov x1, #0\n\t"
		"mov x2, #0\n\t"
		"mov x3, #0\n\t"
		"svc #0\n\t"
		"b 2b\n\t"
		"1:\n\t"
		: "+r"(x0)
		: "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x8)
		: "memory");
	return x0;
#else
	long ret;
	register long r10 __asm__("r10") = 0;
	register long r8 __asm__("r8") = 0;
	__asm__ volatile(
		"syscall\n\t"
		"test %%rax, %%rax\n\t"
		"jnz 1f\n\t"
		"mov $157, %%eax\n\t" /* SYS_prctl */
		"mov $1, %%edi\n\t"   /* PR_SET_PDEATHSIG */
		"mov $9, %%esi\n\t"   /* SIGKILL */
		"syscall\n\t"
		"2: mov $34, %%eax\n\t" /* SYS_pause */
		"syscall\n\t"
		"jmp 2b\n\t"
		"1:\n\t"
		: "=a"(ret)
		: "a"(56L /* SYS_clone */), "D"((long)(CLONE_VM | SIGCHLD)), "S"(0L), "d"(0L), "r"(r10), "r"(r8)
		: "rcx", "r11", "memory");
	return ret;
#endif
}

static void *thread_wait(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	int threads = 0, touch = 0, lock = 0, share_vm = 0, opt;
	long nproc = -1, uid = -1;
	long max = 100000, max_fails = 1, map_mb = 0, child_kb = 0, hold = 0;
	const char *wait_path = NULL;
	long nth = 0;
	int nth_fd = -1;

	while ((opt = getopt(argc, argv, "tn:f:m:Tc:w:H:Lvr:u:N:")) != -1) {
		switch (opt) {
		case 't': threads = 1; break;
		case 'n': max = atol(optarg); break;
		case 'f': max_fails = atol(optarg); break;
		case 'm': map_mb = atol(optarg); break;
		case 'T': touch = 1; break;
		case 'c': child_kb = atol(optarg); break;
		case 'w': wait_path = optarg; break;
		case 'H': hold = atol(optarg); break;
		case 'L': lock = 1; break;
		case 'v': share_vm = 1; break;
		case 'r': nproc = atol(optarg); break;
		case 'u': uid = atol(optarg); break;
		case 'N': nth = atol(optarg); break;
		default:
			fprintf(stderr, "usage: forkloop [-t] [-n MAX] [-f FAILS] [-m MB] [-T] [-c KB] [-w PATH] [-H SEC] [-L] [-v] [-r NPROC] [-u UID]\n");
			return 2;
		}
	}
	if (max < 1 || max_fails < 1) {
		fprintf(stderr, "forkloop: -n and -f need positive numbers\n");
		return 2;
	}
	if (nproc >= 0) {
		struct rlimit rl = { (rlim_t)nproc, (rlim_t)nproc };
		if (setrlimit(RLIMIT_NPROC, &rl) != 0) {
			fprintf(stderr, "forkloop: setrlimit(RLIMIT_NPROC, %ld): %s\n", nproc, strerror(errno));
			return 1;
		}
	}
	if (uid >= 0 && (setgroups(0, NULL) != 0 || setgid((gid_t)uid) != 0 || setuid((uid_t)uid) != 0)) {
		fprintf(stderr, "forkloop: cannot switch to uid %ld: %s\n", uid, strerror(errno));
		return 1;
	}
	if (map_mb > 0) {
		size_t len = (size_t)map_mb << 20;
		char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			fprintf(stderr, "forkloop: mmap of %ld MB failed: %s\n", map_mb, strerror(errno));
			return 1;
		}
		if (touch)
			for (size_t i = 0; i < len; i += 4096)
				m[i] = 1;
	}
	if (wait_path) {
		struct stat st;
		printf("FORKLOOP ready pid=%d\n", getpid());
		fflush(stdout);
		while (stat(wait_path, &st) != 0)
			sleep_ms(20);
	}

	pid_t *children = threads ? NULL : calloc((size_t)max, sizeof(pid_t));
	if (!threads && !children) {
		fprintf(stderr, "forkloop: cannot allocate the table of %ld children\n", max);
		return 1;
	}
	if (lock) {
		volatile char stack[256 * 1024];
		for (size_t i = 0; i < sizeof(stack); i += 4096)
			stack[i] = 0;
		if (children)
			memset(children, 0, (size_t)max * sizeof(pid_t));
		if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
			fprintf(stderr, "forkloop: mlockall: %s (continuing)\n", strerror(errno));
	}
	if (nth > 0 && (nth_fd = open("/proc/thread-self/fail-nth", O_WRONLY)) < 0) {
		fprintf(stderr, "forkloop: /proc/thread-self/fail-nth: %s (a kernel without CONFIG_FAULT_INJECTION?)\n",
			strerror(errno));
		return 1;
	}
	long created = 0, failed = 0, counts[8] = { 0 };
	int first_errno = 0;
	static const int known[] = { EAGAIN, ENOMEM, ENOSPC, EINTR, EINVAL, EPERM, EUSERS };
	pid_t self = getpid();

	while (created < max && failed < max_fails) {
		int err = 0;
		if (threads) {
			pthread_t t;
			pthread_attr_t attr;
			pthread_attr_init(&attr);
			pthread_attr_setstacksize(&attr, 64 * 1024);
			err = pthread_create(&t, &attr, thread_wait, NULL);
			pthread_attr_destroy(&attr);
		} else if (share_vm) {
			long pid = clone_vm_waiter();
			if (pid < 0)
				err = (int)-pid;
			else
				children[created] = (pid_t)pid;
		} else {
			char nth_text[24];
			if (nth_fd >= 0) {
				int len = snprintf(nth_text, sizeof(nth_text), "%ld", nth + created + failed);
				if (pwrite(nth_fd, nth_text, (size_t)len, 0) != len) {
					fprintf(stderr, "forkloop: writing fail-nth: %s\n", strerror(errno));
					return 1;
				}
			}
			pid_t pid = fork();
			int fork_errno = errno;
			if (pid != 0 && nth_fd >= 0) {
				/* a fork with fewer allocations than the nth leaves the count armed: disarm it */
				if (pwrite(nth_fd, "0", 1, 0) != 1)
					fprintf(stderr, "forkloop: resetting fail-nth: %s\n", strerror(errno));
				printf("FORKLOOP nth=%s errno=%s\n", nth_text, pid < 0 ? errno_name(fork_errno) : "none");
			}
			errno = fork_errno;
			if (pid == 0) {
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				if (getppid() != self)
					_exit(0);
				if (child_kb > 0) {
					char *m = malloc((size_t)child_kb << 10);
					if (m)
						for (long i = 0; i < child_kb << 10; i += 4096)
							m[i] = 1;
				}
				for (;;)
					pause();
			}
			if (pid < 0)
				err = errno;
			else
				children[created] = pid;
		}
		if (err) {
			if (!first_errno)
				first_errno = err;
			failed++;
			for (unsigned i = 0; i < sizeof(known) / sizeof(known[0]); i++)
				if (known[i] == err)
					counts[i]++;
			if (failed < max_fails)
				sleep_ms(1);
		} else {
			created++;
		}
	}
	if (failed && hold > 0)
		sleep(hold);
	if (!threads) {
		for (long i = 0; i < created; i++)
			kill(children[i], SIGKILL);
		for (long i = 0; i < created; i++)
			waitpid(children[i], NULL, 0);
	}
	printf("FORKLOOP created=%ld failed=%ld errno=%s errnos=", created, failed,
	       failed ? errno_name(first_errno) : "none");
	int sep = 0;
	for (unsigned i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (counts[i]) {
			printf("%s%s:%ld", sep ? "," : "", errno_name(known[i]), counts[i]);
			sep = 1;
		}
	printf("%s\n", sep ? "" : "none");
	fflush(stdout);
	/* exit_group takes the waiting threads with it */
	_exit(failed ? 0 : 3);
}
