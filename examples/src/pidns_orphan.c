// pidns_orphan N: enters a new pid namespace whose init (its first child) exits at once, then tries
// to fork N times. Every fork fails with ENOMEM ("Cannot allocate memory") although memory is fine:
// a pid namespace without its init refuses new tasks. Needs root (CAP_SYS_ADMIN) for unshare.
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int attempts = argc > 1 ? atoi(argv[1]) : 5, failures = 0, enomem = 0;
	struct stat ns;

	if (unshare(CLONE_NEWPID) != 0) {
		perror("unshare(CLONE_NEWPID)");
		return 1;
	}
	pid_t init = fork(); /* pid 1 of the new namespace */
	if (init == 0)
		_exit(0);
	if (init < 0) {
		perror("fork of the namespace's init");
		return 1;
	}
	waitpid(init, NULL, 0);
	stat("/proc/self/ns/pid_for_children", &ns);
	printf("EXPECT scope.name=pidns %lu level 1\n", (unsigned long)ns.st_ino);
	for (int i = 0; i < attempts; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0) {
			failures++;
			enomem += errno == ENOMEM;
		} else {
			waitpid(pid, NULL, 0);
		}
	}
	printf("OBSERVED failures=%d errno=%s\n", failures, enomem == failures ? "ENOMEM" : "mixed");
	return 0;
}
