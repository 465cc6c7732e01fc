/* ulib.c: libutarget.so, a shared library for uprobe tests (user.test):
 * uprobe:libutarget:ulib_mul through the process's maps or its path. */
int ulib_mul(int a, int b);

__attribute__((noinline, visibility("default"))) int ulib_mul(int a, int b)
{
	__asm__ volatile("" ::: "memory");
	return a * b;
}

/* ulib_call(fn, x, ret): calls fn(x) from the library, for user stacks
 * that cross it (usym.test); *ret is its own return address. */
long ulib_call(long (*fn)(long), long x, void **ret);

__attribute__((noinline, visibility("default"))) long ulib_call(long (*fn)(long), long x,
								void **ret)
{
	*ret = __builtin_return_address(0);
	long r = fn(x);
	__asm__ volatile("" ::: "memory");
	return r + 1;
}
