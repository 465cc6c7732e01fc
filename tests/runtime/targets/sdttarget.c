/* sdttarget.c: USDT probes (<sys/sdt.h>) for user.test.
 *
 *   trace_sdttarget [N [MS]]
 *                         after MS milliseconds (default 0: for -p), N
 *                         rounds (default 3), round i = 0..N-1 fires
 *                         utest:tick(i, i * 10) (no semaphore; two
 *                         locations: i even, i odd) and, only while a
 *                         tracer has set its semaphore, utest:gated(i)
 *                         (sdtgated.c), utest:mem(-3i, 7) (a memory
 *                         operand and a constant)
 */
#include <stdlib.h>
#include <sys/sdt.h>
#include <unistd.h>

void sdt_gated(long i);

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;
	if (argc > 2)
		usleep((useconds_t)atoi(argv[2]) * 1000);
	for (long i = 0; i < n; i++) {
		if (i % 2 == 0)
			DTRACE_PROBE2(utest, tick, i, i * 10);
		else
			DTRACE_PROBE2(utest, tick, i, i * 10);
		sdt_gated(i);
		volatile int neg = (int)i * -3; /* in memory: a -4@disp(%rbp) operand */
		DTRACE_PROBE2(utest, mem, neg, 7);
	}
	return 0;
}
