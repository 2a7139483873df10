// forkloop N [hold]: fork N times; children wait (hold=1) or exit at once (hold=0). Prints the
// failures this process saw itself (and an OBSERVED line for the examples' harness), so tests can
// compare forktrace's count with the truth.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int attempts = argc > 1 ? atoi(argv[1]) : 20;
	int hold = argc > 2 ? atoi(argv[2]) : 1;
	int failures = 0, eagain = 0, held = 0, first_errno = 0;
	pid_t *children = calloc(attempts, sizeof(pid_t));

	for (int i = 0; i < attempts; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			if (hold)
				pause();
			_exit(0);
		}
		if (pid < 0) {
			failures++;
			eagain += errno == EAGAIN;
			if (!first_errno)
				first_errno = errno;
			continue;
		}
		if (hold)
			children[held++] = pid;
		else
			waitpid(pid, NULL, 0);
	}
	for (int i = 0; i < held; i++)
		kill(children[i], SIGKILL);
	while (wait(NULL) > 0)
		;
	printf("pid=%d attempts=%d failures=%d eagain=%d\n", getpid(), attempts, failures, eagain);
	printf("OBSERVED failures=%d errno=%s\n", failures, first_errno ? strerrorname_np(first_errno) : "none");
	return 0;
}
