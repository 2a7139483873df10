/* ftstorm: makes task creation fail as fast as it can (or at a given rate) and counts every failure,
 * so a tracer's counts can be checked against the generator's own.
 *
 *   ftstorm threads --cgroup DIR [--workers W] [--seconds S] [--rate R]
 *       joins the cgroup v1 pids cgroup DIR (must exist, root), creates W workers, then sets
 *       pids.max to the tasks it already holds: every further pthread_create fails with EAGAIN.
 *   ftstorm procs --uid UID [--workers W] [--seconds S] [--rate R]
 *       becomes UID (unprivileged, no capabilities), creates W workers, then lowers RLIMIT_NPROC
 *       to the tasks it holds: every further fork fails with EAGAIN.
 *
 * R is failures per second over all workers (0 = as fast as possible). Prints one line:
 *   ftstorm mode=M workers=W seconds=S attempts=A failures=F successes=N eagain=E rate=F/S
 * The binary is named ftstorm so a tracer can filter on the process name. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 64

struct worker {
	pthread_t thread;
	double interval_ns; /* 0 = no pacing */
	long attempts, failures, successes, eagain;
} __attribute__((aligned(64)));

static int procs_mode;
static atomic_int started, stop;
static struct worker workers[MAX_WORKERS];

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void sleep_until(double deadline_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(deadline_ns / 1e9) };
	ts.tv_nsec = (long)(deadline_ns - ts.tv_sec * 1e9);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void *nothing(void *arg)
{
	return arg;
}

static void die(const char *what)
{
	fprintf(stderr, "ftstorm: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, text, strlen(text)) < 0) {
		fprintf(stderr, "ftstorm: writing '%s' to %s: %s\n", text, path, strerror(errno));
		exit(1);
	}
	close(fd);
}

static long read_long(const char *dir, const char *name)
{
	char path[4096], buf[64] = "";
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f))
		die(path);
	fclose(f);
	return atol(buf);
}

static void attempt(struct worker *w)
{
	w->attempts++;
	if (procs_mode) {
		pid_t child = fork();
		if (child == 0)
			_exit(0);
		if (child > 0) {
			w->successes++;
			waitpid(child, NULL, 0);
			return;
		}
		w->failures++;
		w->eagain += errno == EAGAIN;
	} else {
		static pthread_attr_t *attr;
		pthread_t t;
		int rc = pthread_create(&t, attr, nothing, NULL);
		if (rc == 0) {
			w->successes++;
			pthread_join(t, NULL);
			return;
		}
		w->failures++;
		w->eagain += rc == EAGAIN;
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;
	while (!atomic_load(&started))
		usleep(100);
	double next = now_ns();
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		if (w->interval_ns > 0) {
			if (now_ns() < next)
				sleep_until(next);
			next += w->interval_ns;
		}
		attempt(w);
	}
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: ftstorm threads --cgroup DIR | procs --uid UID  [--workers W] [--seconds S] [--rate R]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *cgroup = NULL;
	long uid = -1, nworkers = 1;
	double seconds = 5, rate = 0;

	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "procs"))
		procs_mode = 1;
	else if (strcmp(argv[1], "threads"))
		usage();
	for (int i = 2; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--cgroup"))
			cgroup = argv[++i];
		else if (!strcmp(argv[i], "--uid"))
			uid = atol(argv[++i]);
		else if (!strcmp(argv[i], "--workers"))
			nworkers = atol(argv[++i]);
		else if (!strcmp(argv[i], "--seconds"))
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--rate"))
			rate = atof(argv[++i]);
		else
			usage();
	}
	if (nworkers < 1 || nworkers > MAX_WORKERS || seconds <= 0 || rate < 0)
		usage();
	if (procs_mode && uid <= 0) {
		fprintf(stderr, "ftstorm: procs needs --uid of an unprivileged user (not 0)\n");
		return 2;
	}
	if (!procs_mode && !cgroup) {
		fprintf(stderr, "ftstorm: threads needs --cgroup DIR (a cgroup v1 pids cgroup)\n");
		return 2;
	}

	char self[32];
	snprintf(self, sizeof(self), "%d", getpid());
	if (procs_mode) {
		if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
			die("becoming the unprivileged user");
	} else {
		write_file(cgroup, "cgroup.procs", self);
	}
	for (long i = 0; i < nworkers; i++) {
		workers[i].interval_ns = rate > 0 ? 1e9 * nworkers / rate : 0;
		if (pthread_create(&workers[i].thread, NULL, work, &workers[i]))
			die("creating a worker");
	}
	/* Close the door: from here on no task can be created. */
	char limit[32];
	if (procs_mode) {
		struct rlimit nproc = { nworkers + 1, nworkers + 1 };
		if (setrlimit(RLIMIT_NPROC, &nproc))
			die("setrlimit(RLIMIT_NPROC)");
	} else {
		snprintf(limit, sizeof(limit), "%ld", read_long(cgroup, "pids.current"));
		write_file(cgroup, "pids.max", limit);
	}
	double start = now_ns();
	atomic_store(&started, 1);
	sleep_until(start + seconds * 1e9);
	atomic_store(&stop, 1);
	for (long i = 0; i < nworkers; i++)
		pthread_join(workers[i].thread, NULL);
	double elapsed = (now_ns() - start) / 1e9;
	if (!procs_mode) {
		write_file(cgroup, "pids.max", "max");
		char parent[4096];
		snprintf(parent, sizeof(parent), "%s/..", cgroup);
		write_file(parent, "cgroup.procs", self);
	}
	long attempts = 0, failures = 0, successes = 0, eagain = 0;
	for (long i = 0; i < nworkers; i++) {
		attempts += workers[i].attempts;
		failures += workers[i].failures;
		successes += workers[i].successes;
		eagain += workers[i].eagain;
	}
	printf("ftstorm mode=%s workers=%ld seconds=%.3f attempts=%ld failures=%ld successes=%ld eagain=%ld rate=%.0f\n",
	       procs_mode ? "procs" : "threads", nworkers, elapsed, attempts, failures, successes, eagain,
	       failures / elapsed);
	return 0;
}
