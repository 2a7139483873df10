// holder TASKS: holds TASKS tasks (itself plus TASKS-1 threads) until killed. Its comm is "holder", so
// forktrace can name it as the process that uses up a limit.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *sleep_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	int tasks = argc > 1 ? atoi(argv[1]) : 10, held = 1;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (; held < tasks; held++) {
		pthread_t t;
		if (pthread_create(&t, &attr, sleep_forever, NULL) != 0)
			break;
	}
	printf("holder pid=%d tasks=%d\n", getpid(), held);
	fflush(stdout);
	for (;;)
		pause();
}
