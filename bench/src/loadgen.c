/* loadgen: N cheap system calls, ns per call.
 *
 *   loadgen [-w] N
 *
 * Makes N getppid() calls through syscall(2) (the libc wrapper is not
 * cached, but syscall() makes the path explicit) and prints
 *   calls N ns_per_call X elapsed_s Y calls_per_s Z
 * on stdout, then the median and the 10th percentile of the ns/call of
 * chunks of CHUNK calls (default 5,000, about 5 ms here): a chunk in which
 * the VM was descheduled or an interrupt storm hit is an outlier that moves
 * the mean, not the median:
 *   chunk_median_ns X chunk_p10_ns Y chunks K
 * and the same from the thread's CPU time (CLOCK_THREAD_CPUTIME_ID: the
 * time this thread ran, in user space, in the kernel and in the BPF
 * programs its system calls trigger, but not the time other processes held
 * its CPU, which on a shared machine is most of the wall-clock noise):
 *   cpu_ns_per_call X cpu_chunk_median_ns Y cpu_chunk_p10_ns Z
 * (one clock_gettime system call per chunk is included).
 * The loop counter is passed as the first argument: getppid
 * ignores it, but raw_syscalls:sys_enter sees it as args[0], so a hist()
 * of args[0] spreads over many buckets.
 * -w: print our pid on stdout, then wait for a line on stdin before the
 * timed loop (the harness attaches a tracer filtering on that pid first).
 * A warm-up of 20,000 calls precedes the timed loop. Run it pinned
 * (taskset -c CPU). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#define CHUNK_DEFAULT 5000
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int wait = 0;
	long n;

	if (argc > 1 && strcmp(argv[1], "-w") == 0) {
		wait = 1;
		argc--;
		argv++;
	}
	if (argc != 2 || (n = atol(argv[1])) <= 0) {
		fprintf(stderr, "usage: loadgen [-w] N\n");
		return 2;
	}
	for (long i = 0; i < 20000; i++)
		syscall(SYS_getppid, i);
	if (wait) {
		char line[64];
		printf("%d\n", (int)getpid());
		fflush(stdout);
		if (!fgets(line, sizeof line, stdin))
			return 1;
	}
	long chunk = getenv("CHUNK") ? atol(getenv("CHUNK")) : CHUNK_DEFAULT;
	if (chunk <= 0 || chunk > n)
		chunk = n;
	long nchunks = n / chunk;
	double *per = malloc((size_t)nchunks * sizeof *per);
	double *cper = malloc((size_t)nchunks * sizeof *cper);
	if (!per || !cper)
		return 1;
	double c0 = cpu_now(), cc = c0;
	double t0 = now(), tc = t0;
	long i = 0;
	for (long c = 0; c < nchunks; c++) {
		for (long end = i + chunk; i < end; i++)
			syscall(SYS_getppid, i);
		double t = now(), ct = cpu_now();
		per[c] = (t - tc) * 1e9 / (double)chunk;
		cper[c] = (ct - cc) * 1e9 / (double)chunk;
		tc = t;
		cc = ct;
	}
	for (; i < n; i++)
		syscall(SYS_getppid, i);
	double dt = now() - t0, cdt = cpu_now() - c0;
	qsort(per, (size_t)nchunks, sizeof *per, cmp_double);
	qsort(cper, (size_t)nchunks, sizeof *cper, cmp_double);
	printf("calls %ld ns_per_call %.2f elapsed_s %.4f calls_per_s %.0f chunk_median_ns %.2f chunk_p10_ns %.2f chunks %ld"
	       " cpu_ns_per_call %.2f cpu_chunk_median_ns %.2f cpu_chunk_p10_ns %.2f\n",
	       n, dt * 1e9 / (double)n, dt, (double)n / dt, per[nchunks / 2], per[nchunks / 10], nchunks,
	       cdt * 1e9 / (double)n, cper[nchunks / 2], cper[nchunks / 10]);
	free(per);
	free(cper);
	return 0;
}
