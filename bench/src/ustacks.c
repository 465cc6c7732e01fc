/* ustacks.c: N distinct user stacks (bench/usym.sh).
 *
 *   ustacks N
 *
 * Call i (0 <= i < N) descends 14 levels, each through st_a or st_b as
 * bit k of i says, then calls st_leaf: N <= 16384 distinct stacks of 16
 * frames or more, one event each at st_leaf.
 */
#include <stdlib.h>

#define KEEP __attribute__((noinline, used))
#define LEVELS 14

KEEP long st_leaf(long i);
KEEP long st_a(long i, int k);
KEEP long st_b(long i, int k);

KEEP long st_leaf(long i)
{
	__asm__ volatile("" ::: "memory");
	return i;
}

static long step(long i, int k)
{
	if (k == LEVELS)
		return st_leaf(i);
	return (i >> k) & 1 ? st_b(i, k + 1) : st_a(i, k + 1);
}

KEEP long st_a(long i, int k)
{
	long r = step(i, k);
	__asm__ volatile("" ::: "memory");
	return r + 1;
}

KEEP long st_b(long i, int k)
{
	long r = step(i, k);
	__asm__ volatile("" ::: "memory");
	return r + 2;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000;
	volatile long sink = 0;

	for (long i = 0; i < n; i++)
		sink += step(i, 0);
	return sink < 0;
}
