// memhog MB: touches MB of private memory and locks it, then waits until killed. Its comm is "memhog",
// so forktrace can name it as the process that fills a memory cgroup.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long megabytes = argc > 1 ? atol(argv[1]) : 16;
	size_t size = (size_t)megabytes << 20;
	char *memory = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (megabytes <= 0 || memory == MAP_FAILED) {
		fprintf(stderr, "memhog: cannot map %ld MB\n", megabytes);
		return 2;
	}
	memset(memory, 1, size);
	mlock(memory, size); /* kept resident even where swap exists; failure only weakens that */
	printf("memhog pid=%d mb=%ld\n", getpid(), megabytes);
	fflush(stdout);
	for (;;)
		pause();
}
