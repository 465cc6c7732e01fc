/* utarget.c: a uprobe target with known arguments (user.test).
 *
 *   trace_utarget [N [MS]]
 *                       after MS milliseconds (default 0: for -p), N
 *                       rounds (default 3), round i = 0..N-1 calls
 *                       ut_add3(i, 100 + i, "utarget") (returns
 *                       2i + 100 + 7), ut_local(i) (a static function,
 *                       returns 2i), ulib_mul(i, 7) in libutarget.so and
 *                       ut_eight(1, ..., 8) (arguments 7 and 8 on the stack),
 *                       req_total(&r) of a struct ut_req with a nested
 *                       struct, an anonymous union, bit-fields, arrays
 *                       and a pointer to the next request: id i,
 *                       name "req-i", flags.kind i % 4, flags.urgent 1
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ulib_mul(int a, int b);

#define KEEP __attribute__((noinline, used))

long ut_add3(long a, long b, const char *s);
long ut_eight(long a, long b, long c, long d, long e, long f, long g, long h);

KEEP long ut_add3(long a, long b, const char *s)
{
	__asm__ volatile("" ::: "memory");
	return a + b + (long)strlen(s);
}

KEEP static int ut_local(int x)
{
	__asm__ volatile("" ::: "memory");
	return 2 * x;
}

struct ut_point {
	int x, y;
};

struct ut_req {
	long id;
	char name[12];
	struct ut_point at;
	union {
		unsigned int raw;
		short half[2];
	};
	struct {
		unsigned int kind : 2;
		unsigned int urgent : 1;
		unsigned int spare : 29;
	} flags;
	int hist[3];
	struct ut_req *next;
};

long req_total(struct ut_req *r);

KEEP long req_total(struct ut_req *r)
{
	__asm__ volatile("" ::: "memory");
	return r->id + r->next->id;
}

KEEP long ut_eight(long a, long b, long c, long d, long e, long f, long g, long h)
{
	__asm__ volatile("" ::: "memory");
	return a + b + c + d + e + f + g + h;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;
	volatile long sink = 0;
	if (argc > 2)
		usleep((useconds_t)atoi(argv[2]) * 1000);
	/* the string's page is read once first: a uprobe's str() cannot
	 * fault in a page the process has not touched yet */
	static const char msg[] = "utarget";
	sink += *(volatile const char *)msg;
	static struct ut_req reqs[2];
	for (int i = 0; i < n; i++) {
		struct ut_req *r = &reqs[0];
		memset(reqs, 0, sizeof(reqs));
		r->id = i;
		memcpy(r->name, "req-", 4);
		r->name[4] = (char)('0' + i % 10);
		r->at.x = 10 * i;
		r->at.y = -i;
		r->raw = 0x00050003u;
		r->flags.kind = (unsigned)i % 4;
		r->flags.urgent = 1;
		r->hist[2] = 100 + i;
		r->next = &reqs[1];
		reqs[1].id = 1000 + i;
		sink += req_total(r);
		sink += ut_add3(i, 100 + i, msg);
		sink += ut_local(i);
		sink += ulib_mul(i, 7);
		sink += ut_eight(1, 2, 3, 4, 5, 6, 7, 8);
	}
	return sink < 0;
}
