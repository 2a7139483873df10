/*
 * statstorm DIR COUNT: stat()s COUNT names that do not exist in DIR, so the
 * kernel caches one negative dentry each (slab "dentry", memcg-accounted).
 * Prints: STATSTORM stats=N ENOENT=a ENOMEM=b other=c
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: statstorm DIR COUNT\n");
		return 2;
	}
	long count = atol(argv[2]), enoent = 0, enomem = 0, other = 0;
	char path[4096];
	struct stat st;
	for (long i = 0; i < count; i++) {
		snprintf(path, sizeof(path), "%s/negative-dentry-%ld", argv[1], i);
		if (stat(path, &st) == 0)
			continue;
		if (errno == ENOENT)
			enoent++;
		else if (errno == ENOMEM)
			enomem++;
		else
			other++;
	}
	printf("STATSTORM stats=%ld ENOENT=%ld ENOMEM=%ld other=%ld\n", count, enoent, enomem, other);
	return 0;
}
