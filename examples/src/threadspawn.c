// threadspawn NAME N: a thread named NAME starts up to N threads until pthread_create fails, then
// prints the failing thread's tid and how many creations failed.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *name;
static int wanted;

static void *idle(void *arg)
{
	(void)arg;
	for (;;)
		pause(); /* a cancellation point: the spawner cancels us at the end */
	return NULL;
}

static void *spawner(void *arg)
{
	pthread_t threads[4096];
	int started = 0, failures = 0;

	(void)arg;
	pthread_setname_np(pthread_self(), name);
	for (int i = 0; i < wanted && started < 4096; i++) {
		if (pthread_create(&threads[started], NULL, idle, NULL) == 0)
			started++;
		else if (++failures >= 3)
			break;
	}
	printf("pid=%d tid=%ld started=%d failures=%d\n", getpid(), (long)syscall(SYS_gettid), started, failures);
	fflush(stdout);
	for (int i = 0; i < started; i++)
		pthread_cancel(threads[i]);
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	name = argc > 1 ? argv[1] : "spawner";
	wanted = argc > 2 ? atoi(argv[2]) : 100;
	if (pthread_create(&t, NULL, spawner, NULL) != 0) {
		perror("pthread_create of the spawner");
		return 1;
	}
	pthread_join(t, NULL);
	return 0;
}
