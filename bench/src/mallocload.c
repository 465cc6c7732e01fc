/* mallocload.c: malloc-heavy load (bench/usym.sh).
 *
 *   mallocload N
 *
 * Waits for a line on stdin, then N rounds of malloc(32) + free, and
 * prints "ns_per_call CPU_NS" (the thread's CPU time per round: what a
 * uprobe on malloc adds to each call, whoever else holds the CPU).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	char line[16];
	void *volatile p;

	if (!fgets(line, sizeof(line), stdin))
		return 1;
	double t0 = cpu_ns();
	for (long i = 0; i < n; i++) {
		p = malloc(32);
		free(p);
	}
	printf("ns_per_call %.1f\n", (cpu_ns() - t0) / n);
	return 0;
}
