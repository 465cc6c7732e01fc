/* workload.c: deterministic events for the runtime tests.
 *
 *   trace_workload getppid N      N getppid() calls
 *   trace_workload faults N       N read faults and N write faults on fresh pages
 *   trace_workload open PATH      open and close PATH once
 *   trace_workload sleep MS       sleep MS milliseconds
 *
 * Its comm is "trace_workload", which the tests filter on.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void faults(long n)
{
	long page = sysconf(_SC_PAGESIZE);
	volatile char *p = mmap(NULL, 2 * n * page, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	long sum = 0;
	for (long i = 0; i < n; i++) {
		sum += p[2 * i * page];
		p[(2 * i + 1) * page] = 1;
	}
	munmap((void *)p, 2 * n * page);
	(void)sum;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: trace_workload getppid|faults|open|sleep ARG\n");
		return 2;
	}
	const char *mode = argv[1];
	long n = atol(argv[2]);
	if (!strcmp(mode, "getppid")) {
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
	} else if (!strcmp(mode, "faults")) {
		faults(n);
	} else if (!strcmp(mode, "open")) {
		int fd = open(argv[2], O_RDONLY);
		if (fd >= 0)
			close(fd);
	} else if (!strcmp(mode, "sleep")) {
		struct timespec ts = { n / 1000, (n % 1000) * 1000000 };
		nanosleep(&ts, NULL);
	} else {
		fprintf(stderr, "trace_workload: unknown mode %s\n", mode);
		return 2;
	}
	return 0;
}
