/* threadloop: pthread_create + pthread_join of an empty thread, in us/op.
 * Usage: threadloop [ITERATIONS]   prints "threadloop us_per_op=N iterations=I" */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *nothing(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	long iterations = argc > 1 ? atol(argv[1]) : 20000;
	if (iterations <= 0) {
		fprintf(stderr, "threadloop: ITERATIONS must be a positive number, got '%s'\n", argv[1]);
		return 2;
	}
	double start = now_ns();
	for (long i = 0; i < iterations; i++) {
		pthread_t thread;
		int rc = pthread_create(&thread, NULL, nothing, NULL);
		if (rc != 0) {
			fprintf(stderr, "threadloop: pthread_create failed after %ld iterations: %s\n", i, strerror(rc));
			return 1;
		}
		pthread_join(thread, NULL);
	}
	double elapsed = now_ns() - start;
	printf("threadloop us_per_op=%.2f iterations=%ld\n", elapsed / iterations / 1e3, iterations);
	return 0;
}
