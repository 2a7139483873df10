/* nullsyscall: cost of a syscall that does nothing (getppid), in ns/op.
 * Usage: nullsyscall [ITERATIONS]   prints "nullsyscall ns_per_op=N iterations=I"
 * The raw syscall is used so no libc caching can hide the kernel entry/exit (where tracepoint
 * hooks put every syscall on the tracing slow path). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long iterations = argc > 1 ? atol(argv[1]) : 5000000;
	if (iterations <= 0) {
		fprintf(stderr, "nullsyscall: ITERATIONS must be a positive number, got '%s'\n", argv[1]);
		return 2;
	}
	for (long i = 0; i < iterations / 20; i++) /* warm up caches and the cpu frequency */
		syscall(SYS_getppid);
	double start = now_ns();
	for (long i = 0; i < iterations; i++)
		syscall(SYS_getppid);
	double elapsed = now_ns() - start;
	printf("nullsyscall ns_per_op=%.1f iterations=%ld\n", elapsed / iterations, iterations);
	return 0;
}
