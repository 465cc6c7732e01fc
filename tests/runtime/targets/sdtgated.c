/* sdtgated.c: the USDT probe of trace_sdttarget that has a semaphore
 * (<sys/sdt.h> records semaphores for a whole translation unit). */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

void sdt_gated(long i);

__extension__ unsigned short utest_gated_semaphore __attribute__((unused, section(".probes")));

void sdt_gated(long i)
{
	if (utest_gated_semaphore) /* what a dtrace -h header's ENABLED() does */
		DTRACE_PROBE1(utest, gated, i);
}
