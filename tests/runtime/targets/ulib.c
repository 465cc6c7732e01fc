/* ulib.c: libutarget.so, a shared library for uprobe tests (user.test):
 * uprobe:libutarget:ulib_mul through the process's maps or its path. */
int ulib_mul(int a, int b);

__attribute__((noinline, visibility("default"))) int ulib_mul(int a, int b)
{
	__asm__ volatile("" ::: "memory");
	return a * b;
}
