// cpptarget.cpp: C++ names for uprobes (user.test): ns::Counter::add(int)
// and ns::twice(long) are called N times (argv[1], default 3).
#include <cstdlib>

namespace ns
{
struct Counter {
	long total = 0;
	__attribute__((noinline)) long add(int v);
};

__attribute__((noinline)) long Counter::add(int v)
{
	__asm__ volatile("" ::: "memory");
	total += v;
	return total;
}

__attribute__((noinline)) long twice(long v)
{
	__asm__ volatile("" ::: "memory");
	return 2 * v;
}
} // namespace ns

int main(int argc, char **argv)
{
	int n = argc > 1 ? std::atoi(argv[1]) : 3;
	ns::Counter c;
	volatile long sink = 0;
	for (int i = 0; i < n; i++)
		sink += c.add(i + 1) + ns::twice(i);
	return sink < 0;
}
