/* test_output.c: the runtime's output side against bpftrace 0.17's text.
 *
 * Every expected string below was printed by bpftrace 0.17 on the
 * development machine (the scripts are in docs/output-format.md); the
 * inputs are hand-built byte buffers shaped as progdesc.h says, so no BPF,
 * no root and no map fds are needed. Covered: printf conversions, values
 * (ints, strings, tuples, buf, ksym), keys and sorting, count/sum/min/max/
 * avg/stats/hist/lhist text, print()'s top and div, per-CPU merging, stack
 * frames, kallsyms lookup, lost events and malformed records.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/ksyms.h"
#include "runtime/maps.h"
#include "runtime/output.h"

#include "tests/unit/check.h"

#define CHECK_STR(got, want)                                                                    \
	do {                                                                                    \
		const char *g_ = or_empty(got), *w_ = (want);                                   \
		if (strcmp(g_, w_)) {                                                           \
			fprintf(stderr, "%s:%d: got:\n[%s]\nwant:\n[%s]\n", __FILE__, __LINE__, \
				g_, w_);                                                        \
			failures++;                                                             \
		}                                                                               \
	} while (0)

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* ---- building layouts ------------------------------------------------------ */

static struct pd_layout lay_int(uint32_t off, uint32_t size, bool is_signed)
{
	return (struct pd_layout){
		.kind = PD_INT, .offset = off, .size = size, .is_signed = is_signed
	};
}

static struct pd_layout lay_str(uint32_t off, uint32_t size)
{
	return (struct pd_layout){ .kind = PD_STR, .offset = off, .size = size };
}

static struct pd_layout lay_kind(enum pd_kind kind, uint32_t off, uint32_t size)
{
	return (struct pd_layout){ .kind = kind, .offset = off, .size = size };
}

static void put64(void *p, int64_t v)
{
	memcpy(p, &v, 8);
}

static struct progdesc empty_pd;

static void out_init(struct rt_output *o, const struct progdesc *pd)
{
	CHECK(rt_output_init(o, stdout, pd ? pd : &empty_pd, NULL) == 0);
}

/* ---- hist and lhist tables ------------------------------------------------- */

/* BEGIN { @h = hist(0); @h = hist(1); @h = hist(2); @h = hist(3); @h = hist(4);
 *   @h = hist(1023); @h = hist(1024); @h = hist(1<<40); @h = hist(-5); ... }
 * (0.17's log2 stops at 2^31: 1<<40 lands in [2G, 4G), index 33) */
static const char hist1[] =
	"(..., 0)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
	"[0]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
	"[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
	"[2, 4)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	"[4, 8)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
	"[8, 16)                0 |                                                    |\n"
	"[16, 32)               0 |                                                    |\n"
	"[32, 64)               0 |                                                    |\n"
	"[64, 128)              0 |                                                    |\n"
	"[128, 256)             0 |                                                    |\n"
	"[256, 512)             0 |                                                    |\n"
	"[512, 1K)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
	"[1K, 2K)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
	"[2K, 4K)               0 |                                                    |\n"
	"[4K, 8K)               0 |                                                    |\n"
	"[8K, 16K)              0 |                                                    |\n"
	"[16K, 32K)             0 |                                                    |\n"
	"[32K, 64K)             0 |                                                    |\n"
	"[64K, 128K)            0 |                                                    |\n"
	"[128K, 256K)           0 |                                                    |\n"
	"[256K, 512K)           0 |                                                    |\n"
	"[512K, 1M)             0 |                                                    |\n"
	"[1M, 2M)               0 |                                                    |\n"
	"[2M, 4M)               0 |                                                    |\n"
	"[4M, 8M)               0 |                                                    |\n"
	"[8M, 16M)              0 |                                                    |\n"
	"[16M, 32M)             0 |                                                    |\n"
	"[32M, 64M)             0 |                                                    |\n"
	"[64M, 128M)            0 |                                                    |\n"
	"[128M, 256M)           0 |                                                    |\n"
	"[256M, 512M)           0 |                                                    |\n"
	"[512M, 1G)             0 |                                                    |\n"
	"[1G, 2G)               0 |                                                    |\n"
	"[2G, 4G)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n";

static void test_hist(void)
{
	uint64_t b[66] = { 0 };
	struct rt_sbuf s = { 0 };

	b[0] = 1;  /* -5 */
	b[1] = 1;  /* 0 */
	b[2] = 1;  /* 1 */
	b[3] = 2;  /* 2, 3 */
	b[4] = 1;  /* 4 */
	b[11] = 1; /* 1023 */
	b[12] = 1; /* 1024 */
	b[33] = 1;
	rt_hist_format(&s, b, 66, 1);
	CHECK_STR(s.s, hist1);

	/* print(@h, 2, 2): counts divided, bars not */
	memset(b, 0, sizeof(b));
	b[2] = 1;
	b[3] = 2;
	s.len = 0;
	rt_hist_format(&s, b, 66, 2);
	CHECK_STR(
		s.s,
		"[1]                    0 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
		"[2, 4)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n");

	/* all zero (after zero()): no table at all */
	memset(b, 0, sizeof(b));
	s.len = 0;
	rt_sbuf_puts(&s, "");
	rt_hist_format(&s, b, 66, 1);
	CHECK_STR(s.s, "");

	/* 64-bit buckets past 0.17's cap use T, P, E like later bpftrace */
	b[42] = 1;
	b[65] = 1;
	s.len = 0;
	rt_hist_format(&s, b, 66, 1);
	CHECK(strstr(s.s, "[1T, 2T)               1 |"));
	CHECK(strstr(s.s, "[8E, 16E)              1 |"));
	rt_sbuf_free(&s);
}

static void test_lhist(void)
{
	uint64_t b[12] = { 0 };
	uint64_t k[6] = { 0 }, m[5] = { 0 }, q[4] = { 0 }, r[6] = { 0 };
	struct rt_sbuf s = { 0 };

	/* lhist(v, 0, 100, 10) of -5 0 5 55 55 100 150 99 */
	b[0] = 1, b[1] = 2, b[6] = 2, b[10] = 1, b[11] = 2;
	rt_lhist_format(&s, b, 12, 0, 100, 10);
	CHECK_STR(
		s.s,
		"(..., 0)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
		"[0, 10)                2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
		"[10, 20)               0 |                                                    |\n"
		"[20, 30)               0 |                                                    |\n"
		"[30, 40)               0 |                                                    |\n"
		"[40, 50)               0 |                                                    |\n"
		"[50, 60)               2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
		"[60, 70)               0 |                                                    |\n"
		"[70, 80)               0 |                                                    |\n"
		"[80, 90)               0 |                                                    |\n"
		"[90, 100)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
		"[100, ...)             2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n");

	/* lhist(v, 0, 4096, 1024) of 1024 3000 5000: K labels */
	k[2] = 1, k[3] = 1, k[5] = 1;
	s.len = 0;
	rt_lhist_format(&s, k, 6, 0, 4096, 1024);
	CHECK_STR(
		s.s,
		"[1K, 2K)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
		"[2K, 3K)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
		"[3K, 4K)               0 |                                                    |\n"
		"[4K, ...)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n");

	/* lhist(v, 0, 3145728, 1048576) of 2097152 0: M labels */
	m[1] = 1, m[3] = 1;
	s.len = 0;
	rt_lhist_format(&s, m, 5, 0, 3145728, 1048576);
	CHECK_STR(
		s.s,
		"[0, 1M)                1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
		"[1M, 2M)               0 |                                                    |\n"
		"[2M, 3M)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n");

	/* lhist(v, 0, 25, 10) of 22 25 24: the top bucket is labelled with max */
	q[3] = 3;
	s.len = 0;
	rt_lhist_format(&s, q, 4, 0, 25, 10);
	CHECK_STR(
		s.s,
		"[25, ...)              3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n");

	/* lhist(1536, 512, 2560, 512): 1536 is not a whole K */
	r[3] = 1;
	s.len = 0;
	rt_lhist_format(&s, r, 6, 512, 2560, 512);
	CHECK_STR(
		s.s,
		"[1536, 2K)             1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n");

	/* min > 0: "(..., 10)" */
	memset(r, 0, sizeof(r));
	r[0] = 1, r[1] = 1;
	s.len = 0;
	rt_lhist_format(&s, r, 6, 10, 30, 5);
	CHECK_STR(
		s.s,
		"(..., 10)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
		"[10, 15)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n");
	rt_sbuf_free(&s);
}

/* ---- maps ------------------------------------------------------------------ */

/* Formats n entries whose keys and values sit back to back in keys/vals. */
static void map_text(struct rt_sbuf *s, const struct pd_map *m, const void *keys, const void *vals,
		     size_t n, int64_t top, int64_t div)
{
	struct rt_output o;
	struct rt_map_entry e[16];

	out_init(&o, NULL);
	for (size_t i = 0; i < n; i++) {
		e[i].key = (const uint8_t *)keys + i * m->key_size;
		e[i].value = (const uint8_t *)vals + i * m->value_size;
	}
	s->len = 0;
	rt_sbuf_puts(s, "");
	CHECK(rt_map_format(&o.ctx, s, m, e, n, top, div) == 0);
	rt_output_fini(&o);
}

static struct pd_map count_map(const char *name)
{
	return (struct pd_map){ .name = name,
				.role = PD_MAP_USER,
				.agg = PD_AGG_COUNT,
				.key_size = 8,
				.value_size = 8,
				.key = lay_int(0, 8, true) };
}

static void test_count_map(void)
{
	struct pd_map m = count_map("@c");
	int64_t keys[4] = { 3, 1, 4, 2 }, vals[4] = { 3, 1, 4, 2 };
	struct rt_sbuf s = { 0 };

	/* @c[1..4] = 1..4 counts; print(@c); print(@c, 2); print(@c, 0, 2); print(@c, 1, 3) */
	map_text(&s, &m, keys, vals, 4, 0, 0);
	CHECK_STR(s.s, "@c[1]: 1\n@c[2]: 2\n@c[3]: 3\n@c[4]: 4\n");
	map_text(&s, &m, keys, vals, 4, 2, 0);
	CHECK_STR(s.s, "@c[3]: 3\n@c[4]: 4\n");
	map_text(&s, &m, keys, vals, 4, 0, 2);
	CHECK_STR(s.s, "@c[1]: 0\n@c[2]: 1\n@c[3]: 1\n@c[4]: 2\n");
	map_text(&s, &m, keys, vals, 4, 1, 3);
	CHECK_STR(s.s, "@c[4]: 1\n");
	/* an empty map is one blank line; top larger than the map prints all */
	map_text(&s, &m, keys, vals, 0, 0, 0);
	CHECK_STR(s.s, "\n");
	map_text(&s, &m, keys, vals, 2, 5, 0);
	CHECK_STR(s.s, "@c[1]: 1\n@c[3]: 3\n");

	/* scalar map: no brackets */
	m = count_map("@");
	m.key = lay_kind(PD_NONE, 0, 8);
	map_text(&s, &m, keys, vals, 1, 0, 0);
	CHECK_STR(s.s, "@: 3\n");
	rt_sbuf_free(&s);
}

/* Ties among count values: broken by key (unsigned), as later bpftrace. */
static void test_sort_ties(void)
{
	struct pd_map m = count_map("@c");
	int64_t keys[5] = { 5, -1, 100, 2, 7 }, vals[5] = { 1, 1, 1, 1, 2 };
	struct rt_sbuf s = { 0 };

	map_text(&s, &m, keys, vals, 5, 0, 0);
	CHECK_STR(s.s, "@c[2]: 1\n@c[5]: 1\n@c[100]: 1\n@c[-1]: 1\n@c[7]: 2\n");
	rt_sbuf_free(&s);
}

/* BEGIN { @m[1] = 3; @m[2] = -5; @m[3] = 10; @m[4] = 0; ... } */
static void test_int_values(void)
{
	struct pd_map m = { .name = "@m",
			    .agg = PD_AGG_NONE,
			    .key_size = 8,
			    .value_size = 8,
			    .key = lay_int(0, 8, true),
			    .value = lay_int(0, 8, true) };
	int64_t keys[4] = { 1, 2, 3, 4 }, vals[4] = { 3, -5, 10, 0 };
	uint8_t ukeys[2] = { 1, 2 }, uvals[2] = { 200, 5 };
	struct rt_sbuf s = { 0 };

	map_text(&s, &m, keys, vals, 4, 0, 0);
	CHECK_STR(s.s, "@m[2]: -5\n@m[4]: 0\n@m[1]: 3\n@m[3]: 10\n");
	/* print(@i, 0, 2) of -7: signed division */
	vals[0] = -7;
	map_text(&s, &m, keys, vals, 1, 0, 2);
	CHECK_STR(s.s, "@m[1]: -3\n");

	/* @u[1] = (uint8)200; @u[2] = (uint8)5 with 1-byte keys and values */
	m = (struct pd_map){ .name = "@u",
			     .key_size = 1,
			     .value_size = 1,
			     .key = lay_int(0, 1, true),
			     .value = lay_int(0, 1, false) };
	map_text(&s, &m, ukeys, uvals, 2, 0, 0);
	CHECK_STR(s.s, "@u[2]: 5\n@u[1]: 200\n");
	rt_sbuf_free(&s);
}

/* BEGIN { @s[-1] = "a"; @s[5] = "b"; @s[-7] = "c"; @s[0] = "d";
 *         @t["b", 2] = "x"; @t["a", 3] = "y"; @t["b", 1] = "z"; @t["a", -1] = "w"; } */
static void test_string_values(void)
{
	struct pd_layout tf[2] = { lay_str(0, 8), lay_int(8, 8, true) };
	struct pd_map m = { .name = "@s",
			    .key_size = 8,
			    .value_size = 4,
			    .key = lay_int(0, 8, true),
			    .value = lay_str(0, 4) };
	int64_t keys[4] = { -1, 5, -7, 0 };
	char vals[4][4] = { "a", "b", "c", "d" };
	struct {
		char s[8];
		int64_t i;
	} tkeys[4] = { { "b", 2 }, { "a", 3 }, { "b", 1 }, { "a", -1 } };
	char tvals[4][4] = { "x", "y", "z", "w" };
	struct rt_sbuf s = { 0 };

	map_text(&s, &m, keys, vals, 4, 0, 0);
	CHECK_STR(s.s, "@s[0]: d\n@s[5]: b\n@s[-7]: c\n@s[-1]: a\n");

	m.name = "@t";
	m.key_size = 16;
	m.key = (struct pd_layout){ .kind = PD_TUPLE, .size = 16, .nfields = 2, .fields = tf };
	map_text(&s, &m, tkeys, tvals, 4, 0, 0);
	CHECK_STR(s.s, "@t[a, 3]: y\n@t[a, -1]: w\n@t[b, 1]: z\n@t[b, 2]: x\n");
	rt_sbuf_free(&s);
}

/* @x = (1, "a"); @y[1] = (-2, "bb", (3, "c")) */
static void test_tuple_values(void)
{
	struct pd_layout inner[2] = { lay_int(0, 8, true), lay_str(8, 8) };
	struct pd_layout outer[3] = {
		lay_int(0, 8, true),
		lay_str(8, 8),
		{ .kind = PD_TUPLE, .offset = 16, .size = 16, .nfields = 2, .fields = inner },
	};
	struct pd_map m = { .name = "@y",
			    .key_size = 8,
			    .value_size = 32,
			    .key = lay_int(0, 8, true),
			    .value = {
				    .kind = PD_TUPLE, .size = 32, .nfields = 3, .fields = outer } };
	struct {
		int64_t a;
		char b[8];
		int64_t c;
		char d[8];
	} v = { -2, "bb", 3, "c" };
	int64_t key = 1;
	struct rt_sbuf s = { 0 };

	map_text(&s, &m, &key, &v, 1, 0, 0);
	CHECK_STR(s.s, "@y[1]: (-2, bb, (3, c))\n");
	rt_sbuf_free(&s);
}

static void test_minmax_sum(void)
{
	struct pd_map m = { .name = "@k",
			    .agg = PD_AGG_MIN,
			    .key_size = 8,
			    .value_size = 16,
			    .key = lay_int(0, 8, true) };
	int64_t keys[3] = { 1, 2, 3 }, vals[6] = { 10, 1, -10, 1, 0, 1 };
	int64_t sum = -7;
	struct rt_sbuf s = { 0 };

	/* @k[1] = min(10); @k[2] = min(-10); @k[3] = min(0) */
	map_text(&s, &m, keys, vals, 3, 0, 0);
	CHECK_STR(s.s, "@k[2]: -10\n@k[3]: 0\n@k[1]: 10\n");
	/* @mn = min(-7); print(@mn, 0, 2) */
	m.name = "@mn";
	m.key = lay_kind(PD_NONE, 0, 8);
	vals[0] = -7;
	map_text(&s, &m, keys, vals, 1, 0, 2);
	CHECK_STR(s.s, "@mn: -3\n");
	/* @s = sum(-7); print(@s, 0, 2) */
	m = (struct pd_map){ .name = "@s", .agg = PD_AGG_SUM, .key_size = 8, .value_size = 8 };
	map_text(&s, &m, keys, &sum, 1, 0, 2);
	CHECK_STR(s.s, "@s: -3\n");
	rt_sbuf_free(&s);
}

/* BEGIN { @s = stats(1); @t[1] = stats(5); @t[2] = stats(-3); @a = avg(3);
 *         @b[1] = avg(4); @b[2] = avg(1); } */
static void test_avg_stats(void)
{
	struct pd_map m = { .name = "@t",
			    .agg = PD_AGG_STATS,
			    .key_size = 8,
			    .value_size = 16,
			    .key = lay_int(0, 8, true) };
	int64_t keys[3] = { 1, 2, 3 };
	int64_t vals[6] = { 5, 1, -3, 1 };
	int64_t avg3[6] = { 10, 1, 20, 1, 30, 1 };
	struct rt_sbuf s = { 0 };

	map_text(&s, &m, keys, vals, 2, 0, 0);
	CHECK_STR(s.s, "@t[2]: count 1, average -3, total -3\n"
		       "@t[1]: count 1, average 5, total 5\n\n");
	/* print(@s, 1, 3) of stats: top and div ignored */
	map_text(&s, &m, keys, avg3, 3, 1, 3);
	CHECK_STR(s.s, "@t[1]: count 1, average 10, total 10\n"
		       "@t[2]: count 1, average 20, total 20\n"
		       "@t[3]: count 1, average 30, total 30\n\n");
	m.agg = PD_AGG_AVG;
	m.name = "@b";
	vals[0] = 4, vals[2] = 1;
	map_text(&s, &m, keys, vals, 2, 0, 0);
	CHECK_STR(s.s, "@b[2]: 1\n@b[1]: 4\n\n");
	/* print(@a, 1, 3) and print(@a, 0, 3) of avg(10), avg(20), avg(30) */
	m.name = "@a";
	map_text(&s, &m, keys, avg3, 3, 1, 3);
	CHECK_STR(s.s, "@a[3]: 10\n\n");
	map_text(&s, &m, keys, avg3, 3, 0, 3);
	CHECK_STR(s.s, "@a[1]: 3\n@a[2]: 6\n@a[3]: 10\n\n");
	/* zero(): count 0 */
	memset(vals, 0, sizeof(vals));
	m.agg = PD_AGG_STATS;
	m.name = "@s";
	m.key = lay_kind(PD_NONE, 0, 8);
	map_text(&s, &m, keys, vals, 1, 0, 0);
	CHECK_STR(s.s, "@s: count 0, average 0, total 0\n\n");
	/* empty avg/stats maps: two blank lines */
	map_text(&s, &m, keys, vals, 0, 0, 0);
	CHECK_STR(s.s, "\n\n");
	/* avg ties: key-byte order, so 256 (00 01 ..) before 1 (01 00 ..) */
	{
		int64_t k4[4] = { 2, 256, 1, 3 }, v4[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };

		m.agg = PD_AGG_AVG;
		m.name = "@a";
		m.key = lay_int(0, 8, true);
		map_text(&s, &m, k4, v4, 4, 0, 0);
		CHECK_STR(s.s, "@a[256]: 1\n@a[1]: 1\n@a[2]: 1\n@a[3]: 1\n\n");
	}
	rt_sbuf_free(&s);
}

/* BEGIN { @h[1] = hist(1); @h[1] = hist(2); @h[1] = hist(3); @h[2] = hist(10);
 *   @h[3] = hist(100) x4; @h[3] = hist(1000); print(@h, 2, 2); } then at exit */
static void test_hist_map(void)
{
	struct pd_map m = { .name = "@h",
			    .agg = PD_AGG_HIST,
			    .key_size = 8,
			    .value_size = 66 * 8,
			    .key = lay_int(0, 8, true),
			    .nbuckets = 66 };
	int64_t keys[3] = { 1, 2, 3 };
	uint64_t vals[3][66] = { { 0 } };
	struct rt_sbuf s = { 0 };

	vals[0][2] = 1, vals[0][3] = 2;
	vals[1][5] = 1;
	vals[2][8] = 4, vals[2][11] = 1;
	map_text(&s, &m, keys, vals, 3, 2, 2);
	CHECK_STR(
		s.s,
		"@h[1]: \n"
		"[1]                    0 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
		"[2, 4)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
		"\n"
		"@h[3]: \n"
		"[64, 128)              2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
		"[128, 256)             0 |                                                    |\n"
		"[256, 512)             0 |                                                    |\n"
		"[512, 1K)              0 |@@@@@@@@@@@@@                                       |\n"
		"\n");
	map_text(&s, &m, keys, vals, 3, 0, 0);
	CHECK_STR(
		s.s,
		"@h[2]: \n"
		"[8, 16)                1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
		"\n"
		"@h[1]: \n"
		"[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
		"[2, 4)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
		"\n"
		"@h[3]: \n"
		"[64, 128)              4 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
		"[128, 256)             0 |                                                    |\n"
		"[256, 512)             0 |                                                    |\n"
		"[512, 1K)              1 |@@@@@@@@@@@@@                                       |\n"
		"\n");
	/* zero(@h): keys stay, tables empty */
	memset(vals, 0, sizeof(vals));
	map_text(&s, &m, keys, vals, 2, 0, 0);
	CHECK_STR(s.s, "@h[1]: \n\n@h[2]: \n\n");
	/* lhist: print()'s div is ignored */
	m = (struct pd_map){ .name = "@l",
			     .agg = PD_AGG_LHIST,
			     .key_size = 8,
			     .value_size = 12 * 8,
			     .key = lay_int(0, 8, true),
			     .nbuckets = 12,
			     .lhist_min = 0,
			     .lhist_max = 10,
			     .lhist_step = 1 };
	memset(vals, 0, sizeof(vals));
	vals[0][6] = 4;
	map_text(&s, &m, keys, vals, 1, 1, 2);
	CHECK_STR(
		s.s,
		"@l[1]: \n"
		"[5, 6)                 4 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
		"\n");
	rt_sbuf_free(&s);
}

/* ---- per-CPU merging ------------------------------------------------------- */

static void test_merge(void)
{
	struct pd_map m = { .agg = PD_AGG_COUNT, .value_size = 8 };
	int64_t pc[4] = { 1, 2, 0, 4 }, out[2];
	uint64_t h[3][3] = { { 1, 0, 2 }, { 0, 0, 0 }, { 4, 1, 0 } }, hm[3];
	/* 12-byte value padded to 16 per CPU */
	uint8_t odd[3][16] = { { 0 } };
	struct pd_map none = { .agg = PD_AGG_NONE, .value_size = 12 };

	CHECK(rt_percpu_stride(&m) == 8);
	CHECK(rt_agg_merge(&m, pc, 4, out) == 0 && out[0] == 7);

	/* min over CPUs that have a value: CPU 1 never ran min() (is_set 0) */
	m = (struct pd_map){ .agg = PD_AGG_MIN, .value_size = 16 };
	{
		int64_t mm[6] = { 10, 1, 0, 0, 12, 1 };

		CHECK(rt_agg_merge(&m, mm, 3, out) == 0 && out[0] == 10 && out[1] == 1);
		m.agg = PD_AGG_MAX;
		mm[0] = -5, mm[4] = -3;
		CHECK(rt_agg_merge(&m, mm, 3, out) == 0 && out[0] == -3 && out[1] == 1);
		mm[1] = mm[5] = 0; /* nothing set anywhere (after zero()) */
		CHECK(rt_agg_merge(&m, mm, 3, out) == 0 && out[0] == 0 && out[1] == 0);
	}
	/* avg/stats: totals and counts add up */
	m = (struct pd_map){ .agg = PD_AGG_AVG, .value_size = 16 };
	{
		int64_t av[4] = { -5, 1, -9, 2 };

		CHECK(rt_agg_merge(&m, av, 2, out) == 0 && out[0] == -14 && out[1] == 3);
	}
	m = (struct pd_map){ .agg = PD_AGG_HIST, .value_size = 24, .nbuckets = 3 };
	CHECK(rt_agg_merge(&m, h, 3, hm) == 0 && hm[0] == 5 && hm[1] == 1 && hm[2] == 2);
	/* a bucket array that does not fit the value is refused */
	m.nbuckets = 4;
	CHECK(rt_agg_merge(&m, h, 3, hm) == -EINVAL);

	CHECK(rt_percpu_stride(&none) == 16);
	odd[0][0] = 7;
	{
		uint8_t got[12];

		CHECK(rt_agg_merge(&none, odd, 3, got) == 0 && got[0] == 7);
	}
}

/* ---- printf ---------------------------------------------------------------- */

struct printf_case {
	const char *fmt;
	uint32_t nargs;
	struct pd_layout args[8];
	uint32_t size;
	const void *payload;
	const char *want;
};

static void check_printf(const struct printf_case *c)
{
	struct pd_printf pf = { .fmt = c->fmt, .nargs = c->nargs, .size = c->size };
	struct progdesc pd = { .printfs = &pf, .nprintfs = 1 };
	struct rt_sbuf s = { 0 };
	struct rt_output o;

	pf.args = (struct pd_layout *)c->args;
	out_init(&o, &pd);
	rt_sbuf_puts(&s, "");
	CHECK(rt_printf_format(&o.ctx, &s, 0, c->payload, c->size) == 0);
	CHECK_STR(s.s, c->want);
	/* a short payload is refused */
	if (c->size)
		CHECK(rt_printf_format(&o.ctx, &s, 0, c->payload, c->size - 1) == -EINVAL);
	rt_output_fini(&o);
	rt_sbuf_free(&s);
}

static void test_printf(void)
{
	int64_t ints[8] = { -1, -3, 255, 255, 8 };
	int64_t big[3] = { 5000000000, 5000000000, 5000000000 };
	int64_t m1[6] = { -1, -1, -1, -1, -1, -1 };
	int64_t p2[2] = { 0, 4096 };
	int64_t extremes[5] = { INT64_MIN, 0x80000000, -1, 0, 0x7fffffff };
	struct {
		char a[8];
		int64_t b;
		int64_t c;
		int64_t d;
	} mix = { "abc", 66, -42, 0 };
	struct {
		char a[8];
		char b[8];
		int64_t n1, n2;
		uint32_t x;
		char pad[4];
		char s6[8];
		int64_t c;
	} flags = { "ab", "cd", 42, 42, 255, "", "abcdef", 65 };
	struct {
		int32_t a;
		int8_t b;
		int16_t c;
		int8_t d;
	} narrow = { -1, -1, -2, -1 };
	struct printf_case cases[] = {
		{ "%d %u %x %X %o|\n",
		  5,
		  { lay_int(0, 8, true), lay_int(8, 8, true), lay_int(16, 8, true),
		    lay_int(24, 8, true), lay_int(32, 8, true) },
		  40,
		  ints,
		  "-1 4294967293 ff FF 10|\n" },
		/* %d is a C int: 5000000000 prints its low 32 bits */
		{ "%d %u %x\n",
		  3,
		  { lay_int(0, 8, true), lay_int(8, 8, true), lay_int(16, 8, true) },
		  24,
		  big,
		  "705032704 705032704 2a05f200\n" },
		{ "%lld %llu %ld %lu %hu %hd|\n",
		  6,
		  { lay_int(0, 8, true), lay_int(8, 8, true), lay_int(16, 8, true),
		    lay_int(24, 8, true), lay_int(32, 8, true), lay_int(40, 8, true) },
		  48,
		  m1,
		  "-1 18446744073709551615 -1 18446744073709551615 65535 -1|\n" },
		{ "%hhu %hhd %lx %llx %zu|\n",
		  5,
		  { lay_int(0, 8, true), lay_int(8, 8, true), lay_int(16, 8, true),
		    lay_int(24, 8, true), lay_int(32, 8, true) },
		  40,
		  m1,
		  "255 -1 ffffffffffffffff ffffffffffffffff 18446744073709551615|\n" },
		{ "%p %p\n",
		  2,
		  { lay_int(0, 8, false), lay_int(8, 8, false) },
		  16,
		  p2,
		  "(nil) 0x1000\n" },
		{ "%5.2s|%-5c|%05d|%.0d|\n",
		  4,
		  { lay_str(0, 8), lay_int(8, 8, true), lay_int(16, 8, true),
		    lay_int(24, 8, true) },
		  32,
		  &mix,
		  "   ab|B    |-0042||\n" },
		{ "[%-10s] [%10s] [%5d] [%-5d] [%08x] [%.3s] [%c] [%%]\n",
		  7,
		  { lay_str(0, 8), lay_str(8, 8), lay_int(16, 8, true), lay_int(24, 8, true),
		    lay_int(32, 4, false), lay_str(40, 8), lay_int(48, 8, true) },
		  56,
		  &flags,
		  "[ab        ] [        cd] [   42] [42   ] [000000ff] [abc] [A] [%%]\n" },
		/* narrower ints are sign-extended first: (int32)-1 with %ld is -1 */
		{ "%ld %ld %lld %d %u|\n",
		  5,
		  { lay_int(0, 4, true), lay_int(4, 1, true), lay_int(6, 2, true),
		    lay_int(8, 1, true), lay_int(8, 1, true) },
		  12,
		  &narrow,
		  "-1 -1 -2 -1 4294967295|\n" },
		{ "no newline", 0, { { 0 } }, 0, "", "no newline" },
		/* %c of 0 prints nothing, but the rest of the line does */
		{ "[%c]x %5c|%-3c|\n",
		  3,
		  { lay_int(0, 8, true), lay_int(0, 8, true), lay_int(0, 8, true) },
		  8,
		  p2,
		  "[]x     ||\n" },
		/* the decimal fast path: extremes */
		{ "%ld %d %u %lu %i %d\n",
		  6,
		  { lay_int(0, 8, true), lay_int(8, 8, true), lay_int(16, 8, true),
		    lay_int(16, 8, true), lay_int(24, 8, true), lay_int(32, 8, true) },
		  40,
		  extremes,
		  "-9223372036854775808 -2147483648 4294967295 18446744073709551615 0 2147483647\n" },
		/* "%%" folds before a conversion, not after the last one (0.17) */
		{ "a%%b\n", 0, { { 0 } }, 0, "", "a%%b\n" },
		{ "%d %% %d %%\n",
		  2,
		  { lay_int(0, 8, true), lay_int(8, 8, true) },
		  16,
		  ints,
		  "-1 % -3 %%\n" },
		/* a stray % that starts no conversion is printed (glibc does too) */
		{ "100%% %s %\n", 1, { lay_str(0, 8) }, 8, "done\0\0\0", "100% done %\n" },
		/* a full string slot without NUL stops at the slot's end */
		{ "%s|\n", 1, { lay_str(0, 4) }, 4, "wxyz", "wxyz|\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_printf(&cases[i]);
}

/* ---- other values ---------------------------------------------------------- */

static void test_values(void)
{
	struct pd_probe probes[1] = { { .name = "BEGIN" } };
	struct progdesc pd = { .probes = probes, .nprobes = 1 };
	struct pd_layout l;
	struct rt_sbuf s = { 0 };
	struct rt_output o;
	uint8_t buf[8] = { 3, 'a', 'b', '\n' };
	uint8_t inet[24] = { 2 };
	uint64_t probe = 0;

	out_init(&o, &pd);
	rt_sbuf_puts(&s, "");
	/* @b = buf("ab\n", 3) */
	l = lay_kind(PD_BUF, 0, 8);
	CHECK(rt_format_value(&o.ctx, &s, &l, buf, sizeof(buf), false) == 0);
	CHECK_STR(s.s, "ab\\x0a");
	/* ntop(0x0100007f) */
	s.len = 0;
	memcpy(inet + 8, "\x7f\x00\x00\x01", 4);
	l = lay_kind(PD_INET, 0, 24);
	CHECK(rt_format_value(&o.ctx, &s, &l, inet, sizeof(inet), false) == 0);
	CHECK_STR(s.s, "127.0.0.1");
	s.len = 0;
	l = lay_kind(PD_PROBE, 0, 8);
	CHECK(rt_format_value(&o.ctx, &s, &l, &probe, 8, false) == 0);
	CHECK_STR(s.s, "BEGIN");
	/* out of bounds: nothing appended */
	s.len = 0;
	rt_sbuf_puts(&s, "");
	l = lay_int(4, 8, true);
	CHECK(rt_format_value(&o.ctx, &s, &l, buf, sizeof(buf), false) == -EINVAL);
	CHECK(s.len == 0);
	l = lay_int(0, 3, true);
	CHECK(rt_format_value(&o.ctx, &s, &l, buf, sizeof(buf), false) == -EINVAL);

	/* a kernel struct (print(*p)): struct { int a; unsigned f:3; int g:2;
	 * void *p; struct { short s[2]; } in; char name[4]; } */
	struct pd_layout elem = lay_int(0, 2, true);
	struct pd_layout arr = { .kind = PD_ARRAY, .offset = 0, .size = 4, .count = 2,
				 .nfields = 1, .fields = &elem, .stack_map = -1 };
	struct pd_layout inner_f[1] = { arr };
	inner_f[0].name = "s";
	struct pd_layout fields[6] = { lay_int(0, 4, true), lay_int(4, 4, false), lay_int(4, 4, true),
				       lay_int(8, 8, false), { .kind = PD_RECORD, .offset = 16, .size = 4,
							       .nfields = 1, .fields = inner_f },
				       lay_kind(PD_STR, 20, 4) };
	const char *names[6] = { "a", "f", "g", "p", "in", "name" };
	for (int i = 0; i < 6; i++)
		fields[i].name = names[i];
	fields[1].bit_size = 3;		    /* bits 0..2 */
	fields[2].bit_offset = 3;	    /* bits 3..4: -1 */
	fields[2].bit_size = 2;
	fields[3].is_ptr = true;
	l = (struct pd_layout){ .kind = PD_RECORD, .size = 24, .nfields = 6, .fields = fields,
				.stack_map = -1 };
	uint8_t rec[24] = { 0xfe, 0xff, 0xff, 0xff, 5 | (3 << 3), 0, 0, 0, 0x10, 0x20, 0, 0,
			    0, 0x88, 0xff, 0xff, 7, 0, 0xf9, 0xff, 'a', 'b', 0, 0 };
	s.len = 0;
	CHECK(rt_format_value(&o.ctx, &s, &l, rec, sizeof(rec), false) == 0);
	CHECK_STR(s.s, "{ .a = -2, .f = 5, .g = -1, .p = 0xffff880000002010, .in = { .s = [7, -7] }, "
		       ".name = ab }");
	/* a field past the end of the record */
	fields[5].offset = 22;
	s.len = 0;
	CHECK(rt_format_value(&o.ctx, &s, &l, rec, sizeof(rec), false) == -EINVAL);
	rt_output_fini(&o);
	rt_sbuf_free(&s);
}

/* strerror, macaddr, pton's array, %rx/%rh, JSON of records and arrays */
static void test_func_values(void)
{
	struct progdesc pd = { 0 };
	struct pd_layout l;
	struct rt_sbuf s = { 0 };
	struct rt_output o;
	uint64_t err = 2;
	uint8_t mac[6] = { 0x2f, 0x6e, 0x00, 0xab, 0x65, 0xff };
	uint8_t addr[4] = { 10, 0, 0, 255 };
	struct pd_layout elem = lay_int(0, 1, false);

	out_init(&o, &pd);
	rt_sbuf_puts(&s, "");
	l = lay_kind(PD_STRERROR, 0, 8);
	CHECK(rt_format_value(&o.ctx, &s, &l, &err, 8, false) == 0);
	CHECK_STR(s.s, "No such file or directory");
	s.len = 0;
	l = lay_kind(PD_MACADDR, 0, 6);
	CHECK(rt_format_value(&o.ctx, &s, &l, mac, 6, false) == 0);
	CHECK_STR(s.s, "2F:6E:00:AB:65:FF");
	s.len = 0;
	CHECK(rt_format_value(&o.ctx, &s, &l, mac, 5, false) == -EINVAL);
	l = (struct pd_layout){ .kind = PD_ARRAY, .size = 4, .count = 4, .nfields = 1,
				.fields = &elem, .stack_map = -1, .compact = true };
	s.len = 0;
	CHECK(rt_format_value(&o.ctx, &s, &l, addr, 4, false) == 0);
	CHECK_STR(s.s, "[10,0,0,255]");
	s.len = 0;
	CHECK(rt_format_value_json(&o.ctx, &s, &l, addr, 4) == 0);
	CHECK_STR(s.s, "[10,0,0,255]");
	/* JSON of a struct { int a; char n[4]; }: 0.17's { "a": 1, "n": "x" } */
	struct pd_layout fields[2] = { lay_int(0, 4, true), lay_kind(PD_STR, 4, 4) };
	fields[0].name = "a";
	fields[1].name = "n\"q";
	l = (struct pd_layout){ .kind = PD_RECORD, .size = 8, .nfields = 2, .fields = fields,
				.stack_map = -1 };
	uint8_t rec[8] = { 0xff, 0xff, 0xff, 0xff, 'x', 0, 0, 0 };
	s.len = 0;
	CHECK(rt_format_value_json(&o.ctx, &s, &l, rec, 8) == 0);
	CHECK_STR(s.s, "{ \"a\": -1, \"n\\\"q\": \"x\" }");
	rt_output_fini(&o);
	rt_sbuf_free(&s);

	/* printf %r %rx %rh of buf("a\x01b\xff", 4) */
	uint8_t b[5] = { 4, 'a', 1, 'b', 0xff };
	struct printf_case c = { "%r|%rx|%rh|\n",
				 3,
				 { lay_kind(PD_BUF, 0, 5), lay_kind(PD_BUF, 0, 5), lay_kind(PD_BUF, 0, 5) },
				 5,
				 b,
				 "a\\x01b\\xff|\\x61\\x01\\x62\\xff|61 01 62 ff|\n" };
	check_printf(&c);
}

/* ---- kernel symbols and stacks --------------------------------------------- */

static const char fake_kallsyms[] = "ffffffff81000000 T srso_alias_untrain_ret\n"
				    "ffffffff81000000 T _stext\n"
				    "ffffffff81000000 T _text\n"
				    "ffffffff814c2370 T perf_syscall_enter\n"
				    "ffffffff81423b10 T syscall_trace_enter\n"
				    "ffffffff816d5370 T vfs_read\n"
				    "ffffffff816d5740 t __kernel_write_iter\n"
				    "ffffffff82276508 T _etext\n"
				    "ffffffff82400000 D __start_rodata\n"
				    "ffffffffc0201000 t ftrace_trampoline\t[__builtin__ftrace]\n";

static struct rt_ksyms *fake_ksyms(void)
{
	struct rt_ksyms *k = rt_ksyms_new();
	FILE *f = fmemopen((void *)fake_kallsyms, sizeof(fake_kallsyms) - 1, "r");

	CHECK(k && f);
	CHECK(rt_ksyms_load(k, f) == 0);
	fclose(f);
	return k;
}

static void test_ksyms(void)
{
	struct rt_ksyms *k = fake_ksyms();
	char buf[128];

	rt_ksym_format(k, buf, sizeof(buf), 0xffffffff816d5370, false);
	CHECK_STR(buf, "vfs_read");
	rt_ksym_format(k, buf, sizeof(buf), 0xffffffff816d5375, false);
	CHECK_STR(buf, "vfs_read");
	rt_ksym_format(k, buf, sizeof(buf), 0xffffffff816d5375, true);
	CHECK_STR(buf, "vfs_read+5");
	/* ksym(0) and ksym(1): below every symbol */
	rt_ksym_format(k, buf, sizeof(buf), 0, false);
	CHECK_STR(buf, "0");
	rt_ksym_format(k, buf, sizeof(buf), 1, false);
	CHECK_STR(buf, "0x1");
	/* data symbols are skipped: an address in rodata is _etext+... */
	rt_ksym_format(k, buf, sizeof(buf), 0xffffffff82400008, false);
	CHECK_STR(buf, "_etext");
	rt_ksym_format(k, buf, sizeof(buf), 0xffffffffc0201000, false);
	CHECK_STR(buf, "ftrace_trampoline");
	/* aliases: the last in file order */
	rt_ksym_format(k, buf, sizeof(buf), 0xffffffff81000000, false);
	CHECK_STR(buf, "_text");
	rt_ksyms_free(k);
}

static void test_stacks(void)
{
	uint64_t ips[4] = { 0xffffffff814c254b, 0xffffffff81423c90, 0, 0xffffffff816d5370 };
	struct rt_sbuf s = { 0 };
	struct rt_output o;

	out_init(&o, NULL);
	o.ctx.ksyms = fake_ksyms();
	rt_format_stack(&o.ctx, &s, ips, 4, PD_STACK_BPFTRACE, 8);
	CHECK_STR(s.s, "\n        perf_syscall_enter+475\n        syscall_trace_enter+384\n");
	s.len = 0;
	rt_format_stack(&o.ctx, &s, ips, 4, PD_STACK_BPFTRACE, 4);
	CHECK_STR(s.s, "\n    perf_syscall_enter+475\n    syscall_trace_enter+384\n");
	s.len = 0;
	rt_format_stack(&o.ctx, &s, ips, 2, PD_STACK_PERF, 8);
	CHECK_STR(s.s, "\n\tffffffff814c254b perf_syscall_enter+475\n"
		       "\tffffffff81423c90 syscall_trace_enter+384\n");
	rt_output_fini(&o);
	rt_sbuf_free(&s);
}

/* ksym-valued maps join entries with nothing in 0.17:
 * BEGIN { @v[1] = ksym(kaddr("vfs_read")); @v[2] = ksym(kaddr("vfs_write")); } */
static void test_ksym_map(void)
{
	struct pd_map m = { .name = "@v",
			    .key_size = 8,
			    .value_size = 8,
			    .key = lay_int(0, 8, true),
			    .value = lay_kind(PD_KSYM, 0, 8) };
	struct rt_map_entry e[2];
	int64_t keys[2] = { 2, 1 };
	uint64_t vals[2] = { 0xffffffff816d5745, 0xffffffff816d5370 };
	struct rt_sbuf s = { 0 };
	struct rt_output o;

	out_init(&o, NULL);
	o.ctx.ksyms = fake_ksyms();
	for (int i = 0; i < 2; i++)
		e[i] = (struct rt_map_entry){ .key = &keys[i], .value = &vals[i] };
	rt_sbuf_puts(&s, "");
	CHECK(rt_map_format(&o.ctx, &s, &m, e, 2, 0, 0) == 0);
	CHECK_STR(s.s, "@v[1]: vfs_read@v[2]: __kernel_write_iter\n");
	rt_output_fini(&o);
	rt_sbuf_free(&s);
}

/* ---- records --------------------------------------------------------------- */

static void test_records(void)
{
	struct pd_layout args[1] = { lay_int(0, 8, true) };
	struct pd_printf pf[1] = { { .fmt = "n=%d\n", .nargs = 1, .args = args, .size = 8 } };
	struct pd_layout values[1] = { (struct pd_layout){
		.kind = PD_TUPLE,
		.size = 16,
		.nfields = 2,
		.fields = (struct pd_layout[]){ lay_int(0, 8, true), lay_str(8, 8) } } };
	struct progdesc pd = { .printfs = pf, .nprintfs = 1, .values = values, .nvalues = 1 };
	struct rt_output o;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	uint8_t rec[32] = { 0 };
	struct pd_record_hdr h = { .kind = PD_REC_PRINTF, .id = 0 };

	CHECK(rt_output_init(&o, f, &pd, NULL) == 0);
	memcpy(rec, &h, sizeof(h));
	put64(rec + 8, 42);
	CHECK(rt_output_record(&o, rec, 16) == 0);
	/* short, unknown kind, unknown id: refused, nothing printed */
	CHECK(rt_output_record(&o, rec, 15) == -EINVAL);
	CHECK(rt_output_record(&o, rec, 4) == -EINVAL);
	h.id = 7;
	memcpy(rec, &h, sizeof(h));
	CHECK(rt_output_record(&o, rec, 16) == -EINVAL);
	h = (struct pd_record_hdr){ .kind = 99 };
	memcpy(rec, &h, sizeof(h));
	CHECK(rt_output_record(&o, rec, 16) == -EINVAL);
	/* print((1, "a")) */
	h = (struct pd_record_hdr){ .kind = PD_REC_PRINT_VALUE, .id = 0 };
	memcpy(rec, &h, sizeof(h));
	put64(rec + 8, 1);
	memcpy(rec + 16, "a", 2);
	CHECK(rt_output_record(&o, rec, 24) == 0);
	CHECK(rt_output_record(&o, rec, 23) == -EINVAL);
	/* clear of a map that does not exist */
	h = (struct pd_record_hdr){ .kind = PD_REC_CLEAR, .id = 0 };
	memcpy(rec, &h, sizeof(h));
	CHECK(rt_output_record(&o, rec, 8) == -EINVAL);
	h = (struct pd_record_hdr){ .kind = PD_REC_EXIT };
	memcpy(rec, &h, sizeof(h));
	CHECK(rt_output_record(&o, rec, 8) == 1);
	/* lost events: only the news is reported */
	rt_output_lost(&o, 5);
	rt_output_lost(&o, 5);
	rt_output_lost(&o, 12);
	fflush(f);
	CHECK_STR(text, "n=42\n(1, a)\nLost 5 events\nLost 7 events\n");
	rt_output_fini(&o);
	fclose(f);
	free(text);
}

/* Random records must never crash or read out of bounds (run under ASan in
 * the sanitizer build). cat and system are left out: they would open files
 * and run commands named by random bytes. */
static void test_random_records(void)
{
	struct pd_layout inner[2] = { lay_int(0, 2, true), lay_str(2, 6) };
	struct pd_layout args[6] = {
		lay_str(0, 16),
		lay_int(16, 4, false),
		lay_kind(PD_BUF, 20, 12),
		{ .kind = PD_TUPLE, .offset = 32, .size = 8, .nfields = 2, .fields = inner },
		lay_kind(PD_PROBE, 40, 8),
		lay_int(48, 8, true),
	};
	struct pd_printf pf[3] = {
		{ .fmt = "%s %u %r %s %s %ld\n", .nargs = 6, .args = args, .size = 56 },
		{ .fmt = "%-8.3s|%08x|%c|%%|%p\n", .nargs = 3, .args = args, .size = 24 },
		{ .fmt = "%d %d %d %d\n", .nargs = 2, .args = args + 4, .size = 56 },
	};
	struct pd_probe probes[1] = { { .name = "BEGIN" } };
	struct progdesc pd = { .printfs = pf,
			       .nprintfs = 3,
			       .values = args,
			       .nvalues = 6,
			       .probes = probes,
			       .nprobes = 1 };
	struct rt_output o;
	FILE *f = fopen("/dev/null", "w");
	uint8_t rec[80];
	uint32_t seed = 12345;

	CHECK(f && rt_output_init(&o, f, &pd, NULL) == 0);
	for (int i = 0; i < 200000; i++) {
		size_t size = 0;
		uint32_t kind;

		for (size_t j = 0; j < sizeof(rec); j++) {
			seed = seed * 1103515245 + 12345;
			rec[j] = (uint8_t)(seed >> 16);
		}
		seed = seed * 1103515245 + 12345;
		size = (seed >> 16) % (sizeof(rec) + 1);
		kind = (seed >> 8) % 3 == 0 ? PD_REC_PRINT_VALUE : PD_REC_PRINTF;
		if ((seed >> 4) % 7 == 0)
			kind = rec[0] % 12;
		if (kind == PD_REC_CAT || kind == PD_REC_SYSTEM || kind == PD_REC_TIME)
			kind = PD_REC_EXIT;
		memcpy(rec, &kind, 4);
		rec[4] = rec[4] % 8;
		memset(rec + 5, 0, 3);
		CHECK(rt_output_record(&o, rec, size) <= 1);
	}
	rt_output_fini(&o);
	fclose(f);
}

/* What tests/fuzz/fuzz_runtime found: strftime() of any u64 (the sum with
 * the boot offset overflowed), and JSON for layouts no script makes yet. */
static void test_fuzz_findings(void)
{
	struct progdesc pd = { 0 };
	struct pd_layout l = { .kind = PD_TIMESTAMP, .size = 8, .fmt = "%f" };
	struct rt_sbuf s = { 0 };
	struct rt_output o;
	uint64_t ns = UINT64_MAX;

	out_init(&o, &pd);
	o.ctx.boot_to_real_ns = 0; /* ns since boot is the real time */
	rt_sbuf_puts(&s, "");
	CHECK(rt_format_value(&o.ctx, &s, &l, &ns, 8, false) == 0);
	CHECK_STR(s.s, "999999"); /* -1 ns: 1969-12-31 23:59:59.999999 */
	s.len = 0;
	ns = 1500;
	CHECK(rt_format_value(&o.ctx, &s, &l, &ns, 8, false) == 0);
	CHECK_STR(s.s, "000001");
	o.ctx.boot_to_real_ns = INT64_MAX;
	ns = INT64_MAX;
	s.len = 0;
	CHECK(rt_format_value(&o.ctx, &s, &l, &ns, 8, false) == 0);
	CHECK(s.len == 6);

	l = (struct pd_layout){ .kind = PD_NONE };
	s.len = 0;
	CHECK(rt_format_value_json(&o.ctx, &s, &l, &ns, 8) == 0);
	CHECK_STR(s.s, "null");
	l = (struct pd_layout){ .kind = PD_INT, .size = 8, .is_ptr = true };
	ns = 16;
	s.len = 0;
	CHECK(rt_format_value_json(&o.ctx, &s, &l, &ns, 8) == 0);
	CHECK_STR(s.s, "\"0x10\"");
	rt_sbuf_free(&s);
	rt_output_fini(&o);
}

int main(void)
{
	test_hist();
	test_lhist();
	test_count_map();
	test_sort_ties();
	test_int_values();
	test_string_values();
	test_tuple_values();
	test_minmax_sum();
	test_avg_stats();
	test_hist_map();
	test_merge();
	test_printf();
	test_values();
	test_func_values();
	test_ksyms();
	test_stacks();
	test_ksym_map();
	test_records();
	test_random_records();
	test_fuzz_findings();
	if (failures) {
		fprintf(stderr, "test_output: %d failure(s)\n", failures);
		return 1;
	}
	printf("test_output: ok\n");
	return 0;
}
