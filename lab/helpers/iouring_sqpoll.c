/*
 * Asks for an io_uring with a submission-polling kernel thread (IORING_SETUP_SQPOLL) ATTEMPTS times and
 * says how often the kernel refused. Since Linux 5.12 that thread is an "io thread" that
 * create_io_thread() forks from the caller (charged to the caller's pids cgroup) instead of a kthread
 * spawned by kthreadd, so a full pids cgroup makes io_uring_setup() fail with EAGAIN without any
 * clone call: forktrace sees it only through its copy_process hook.
 *
 *   iouring_sqpoll ATTEMPTS  ->  "IOURING attempts=N created=C failed=F errno=NAME"
 */
#include <errno.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int attempts = argc > 1 ? atoi(argv[1]) : 3, created = 0, failed = 0, last_errno = 0;

	for (int i = 0; i < attempts; i++) {
		struct io_uring_params params;

		memset(&params, 0, sizeof(params));
		params.flags = IORING_SETUP_SQPOLL;
		params.sq_thread_idle = 10;
		int fd = (int)syscall(__NR_io_uring_setup, 4, &params);
		if (fd >= 0) {
			created++;
			close(fd); /* the SQPOLL thread exits with the ring */
		} else {
			failed++;
			last_errno = errno;
		}
	}
	printf("IOURING attempts=%d created=%d failed=%d errno=%s\n", attempts, created, failed,
	       last_errno == EAGAIN ? "EAGAIN" : last_errno == ENOMEM ? "ENOMEM" : last_errno ? strerror(last_errno) : "none");
	return 0;
}
