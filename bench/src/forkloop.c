/* forkloop: fork + child _exit + waitpid, in us/op (the fork path a probe on clone taxes).
 * Usage: forkloop [ITERATIONS]   prints "forkloop us_per_op=N iterations=I" */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long iterations = argc > 1 ? atol(argv[1]) : 5000;
	if (iterations <= 0) {
		fprintf(stderr, "forkloop: ITERATIONS must be a positive number, got '%s'\n", argv[1]);
		return 2;
	}
	double start = now_ns();
	for (long i = 0; i < iterations; i++) {
		pid_t child = fork();
		if (child < 0) {
			fprintf(stderr, "forkloop: fork failed after %ld iterations: %s\n", i, strerror(errno));
			return 1;
		}
		if (child == 0)
			_exit(0);
		if (waitpid(child, NULL, 0) != child) {
			fprintf(stderr, "forkloop: waitpid: %s\n", strerror(errno));
			return 1;
		}
	}
	double elapsed = now_ns() - start;
	printf("forkloop us_per_op=%.2f iterations=%ld\n", elapsed / iterations / 1e3, iterations);
	return 0;
}
