/* stacktarget.c: user stacks with known frames (usym.test).
 *
 *   trace_stacktarget N BEFORE_MS AFTER_MS [EXPECT_FILE]
 *
 * Sleeps BEFORE_MS, then N rounds of
 *   main -> st_outer(i) -> st_mid(i) -> st_leaf(i) -> ulib_call (in
 *   libutarget.so) -> st_cb(i)
 * and st_addrs(st_cb, &st_table) (arguments: a function's and an
 * object's address), then sleeps AFTER_MS. Every function records its
 * return address, so the frames a uprobe on st_cb must see are known
 * without a symbolizer: with EXPECT_FILE, they are written there as
 * bpftrace prints ustack(6) ("        st_cb+0", "        ulib_call+K",
 * ...), one per line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

long ulib_call(long (*fn)(long), long x, void **ret);

#define KEEP __attribute__((noinline, used))

long st_table[4] = { 1, 2, 3, 4 };
static void *ret_cb, *ret_ulib, *ret_leaf, *ret_mid, *ret_outer;

KEEP long st_cb(long x);
KEEP long st_leaf(long x);
KEEP long st_mid(long x);
KEEP long st_outer(long x);
KEEP long st_addrs(long (*fn)(long), long *table);

KEEP long st_cb(long x)
{
	ret_cb = __builtin_return_address(0);
	__asm__ volatile("" ::: "memory");
	return x + 1;
}

KEEP long st_leaf(long x)
{
	ret_leaf = __builtin_return_address(0);
	long r = ulib_call(st_cb, x, &ret_ulib);
	__asm__ volatile("" ::: "memory");
	return r + 1;
}

KEEP long st_mid(long x)
{
	ret_mid = __builtin_return_address(0);
	long r = st_leaf(x);
	__asm__ volatile("" ::: "memory");
	return r + 1;
}

KEEP long st_outer(long x)
{
	ret_outer = __builtin_return_address(0);
	long r = st_mid(x);
	__asm__ volatile("" ::: "memory");
	return r + 1;
}

KEEP long st_addrs(long (*fn)(long), long *table)
{
	__asm__ volatile("" ::: "memory");
	return (long)(fn != NULL) + table[0];
}

static void frame(FILE *f, const char *name, const void *fn, const void *ret)
{
	fprintf(f, "        %s+%lu\n", name, (unsigned long)((uintptr_t)ret - (uintptr_t)fn));
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;
	volatile long sink = 0;

	if (argc > 2)
		usleep((useconds_t)atoi(argv[2]) * 1000);
	for (int i = 0; i < n; i++) {
		sink += st_outer(i);
		sink += st_addrs(st_cb, st_table);
	}
	if (argc > 4) {
		FILE *f = fopen(argv[4], "w");
		if (!f)
			return 1;
		fprintf(f, "        st_cb+0\n");
		frame(f, "ulib_call", (const void *)ulib_call, ret_cb);
		frame(f, "st_leaf", (const void *)st_leaf, ret_ulib);
		frame(f, "st_mid", (const void *)st_mid, ret_leaf);
		frame(f, "st_outer", (const void *)st_outer, ret_mid);
		frame(f, "main", (const void *)main, ret_outer);
		fclose(f);
	}
	if (argc > 3)
		usleep((useconds_t)atoi(argv[3]) * 1000);
	return sink < 0;
}
