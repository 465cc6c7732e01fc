/* test_json.c: the JSON string escaper and the JSON writer (-f json).
 *
 * The escaper must give valid JSON for any bytes: control bytes, NUL,
 * invalid UTF-8 (stray continuation bytes, overlong forms, surrogates, code
 * points above U+10FFFF, sequences cut short). The writer tests build map
 * entries and records by hand (no BPF, no root) and compare the exact
 * bytes with bpftrace 0.17's JsonOutput shapes (docs/output-format.md,
 * "JSON").
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/maps.h"
#include "runtime/output.h"
#include "runtime/sbuf.h"
#include "runtime/writer.h"

#include "tests/unit/check.h"

#define CHECK_STR(got, want)                                                                    \
	do {                                                                                    \
		const char *g_ = (got) ? (got) : "", *w_ = (want);                              \
		if (strcmp(g_, w_)) {                                                           \
			fprintf(stderr, "%s:%d: got:\n[%s]\nwant:\n[%s]\n", __FILE__, __LINE__, \
				g_, w_);                                                        \
			failures++;                                                             \
		}                                                                               \
	} while (0)

static char *escape(const char *s, size_t n)
{
	static struct rt_sbuf b;

	b.len = 0;
	rt_sbuf_put(&b, "", 0);
	rt_json_escape(&b, s, n);
	return b.s;
}

#define ESC(lit) escape(lit, sizeof(lit) - 1)

static void test_escape(void)
{
	CHECK_STR(ESC("plain text"), "plain text");
	CHECK_STR(ESC("q\"b\\s/"), "q\\\"b\\\\s/");
	CHECK_STR(ESC("\n\r\t\b\f"), "\\n\\r\\t\\b\\f");
	CHECK_STR(ESC("\x01\x1f\x7f"), "\\u0001\\u001f\x7f");
	/* NUL in the middle and at the end */
	CHECK_STR(ESC("a\0b\0"), "a\\u0000b\\u0000");
	/* valid UTF-8 of 2, 3 and 4 bytes passes through */
	CHECK_STR(ESC("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
		  "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	CHECK_STR(ESC("\xef\xbf\xbf\xf4\x8f\xbf\xbf"), "\xef\xbf\xbf\xf4\x8f\xbf\xbf");
	/* invalid: each byte of a bad sequence is \u00XX */
	CHECK_STR(ESC("\xff"), "\\u00ff");
	CHECK_STR(ESC("\x80x"), "\\u0080x");				    /* stray continuation */
	CHECK_STR(ESC("\xc0\xaf"), "\\u00c0\\u00af");			    /* overlong '/' */
	CHECK_STR(ESC("\xe0\x80\xaf"), "\\u00e0\\u0080\\u00af");	    /* overlong */
	CHECK_STR(ESC("\xed\xa0\x80"), "\\u00ed\\u00a0\\u0080");	    /* surrogate D800 */
	CHECK_STR(ESC("\xf4\x90\x80\x80"), "\\u00f4\\u0090\\u0080\\u0080"); /* > U+10FFFF */
	CHECK_STR(ESC("\xf5\x80"), "\\u00f5\\u0080");
	CHECK_STR(ESC("a\xc3"), "a\\u00c3");		   /* cut short at the end */
	CHECK_STR(ESC("\xe2\x82z"), "\\u00e2\\u0082z");	   /* cut short before ASCII */
	CHECK_STR(ESC("\xc3\xc3\xa9"), "\\u00c3\xc3\xa9"); /* then a valid one */
	CHECK_STR(ESC(""), "");
}

/* Every byte value, and random byte strings: the result has no raw byte
 * below 0x20, no unescaped quote, and only valid UTF-8. */
static int utf8_ok(const unsigned char *s)
{
	while (*s) {
		size_t n = *s < 0x80 ? 1 : (*s & 0xe0) == 0xc0 ? 2 : (*s & 0xf0) == 0xe0 ? 3 : 4;

		if (*s >= 0x80 && (*s < 0xc2 || *s > 0xf4))
			return 0;
		for (size_t i = 1; i < n; i++)
			if ((s[i] & 0xc0) != 0x80)
				return 0;
		s += n;
	}
	return 1;
}

static void test_escape_random(void)
{
	unsigned char buf[64];
	uint32_t seed = 7;

	for (int round = 0; round < 20000; round++) {
		size_t n = round % sizeof(buf);
		const char *e;

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			buf[i] = (unsigned char)(seed >> 16);
		}
		e = escape((const char *)buf, n);
		CHECK(utf8_ok((const unsigned char *)e));
		for (const char *p = e; *p; p++) {
			CHECK((unsigned char)*p >= 0x20);
			if (*p == '\\')
				p++; /* the escaped character */
			else
				CHECK(*p != '"');
		}
	}
}

/* ---- the writer ----------------------------------------------------------- */

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

static struct progdesc empty_pd;

/* The JSON of one map's entries, sorted as print() sorts them. */
static char *map_json(const struct pd_map *m, const void *keys, const void *vals, size_t n,
		      int64_t div)
{
	static struct rt_sbuf b;
	struct rt_map_entry e[8];
	struct rt_ctx c;

	CHECK(rt_ctx_init(&c, &empty_pd, NULL) == 0);
	for (size_t i = 0; i < n; i++) {
		e[i].key = (const uint8_t *)keys + i * m->key_size;
		e[i].value = (const uint8_t *)vals + i * m->value_size;
		e[i].sort = 0;
	}
	b.len = 0;
	rt_sbuf_put(&b, "", 0);
	CHECK(rt_json_map_format(&c, &b, m, e, n, div) == 0);
	rt_ctx_fini(&c);
	return b.s;
}

static void test_json_maps(void)
{
	struct pd_layout kf[2] = { lay_int(0, 8, true), lay_str(8, 8) };
	struct pd_map cnt = { .name = "@c",
			      .agg = PD_AGG_COUNT,
			      .key_size = 16,
			      .value_size = 8,
			      .key = { .kind = PD_TUPLE, .size = 16, .nfields = 2, .fields = kf } };
	uint8_t keys[32] = { 0 };
	int64_t vals[2] = { 3, 10 };
	struct pd_map scalar = { .name = "@", .agg = PD_AGG_SUM, .key_size = 8, .value_size = 8 };
	int64_t zero_key = 0, sum = -42;
	struct pd_map st = { .name = "@s\"x",
			     .agg = PD_AGG_STATS,
			     .key_size = 8,
			     .value_size = 16,
			     .key = lay_int(0, 8, false) };
	int64_t st_keys[1] = { 5 }, st_vals[2] = { 30, 4 };
	struct pd_map avg = st;
	struct pd_map str = { .name = "@str",
			      .key_size = 8,
			      .value_size = 8,
			      .key = lay_str(0, 8),
			      .value = lay_str(0, 8) };

	memcpy(keys, (int64_t[]){ 1 }, 8);
	memcpy(keys + 8, "a\"b", 3);
	memcpy(keys + 16, (int64_t[]){ -2 }, 8);
	memcpy(keys + 24, "\n", 1);
	/* multi-key: the key texts joined by "," as one string */
	CHECK_STR(map_json(&cnt, keys, vals, 2, 1),
		  "{\"type\": \"map\", \"data\": {\"@c\": {\"1,a\\\"b\": 3, \"-2,\\n\": 10}}}\n");
	CHECK_STR(map_json(&cnt, keys, vals, 2, 2),
		  "{\"type\": \"map\", \"data\": {\"@c\": {\"1,a\\\"b\": 1, \"-2,\\n\": 5}}}\n");
	/* no entries: nothing (0.17 prints no record for an empty map) */
	CHECK_STR(map_json(&cnt, keys, vals, 0, 1), "");
	/* scalar: the value right after the name */
	CHECK_STR(map_json(&scalar, &zero_key, &sum, 1, 1),
		  "{\"type\": \"map\", \"data\": {\"@\": -42}}\n");
	/* stats and avg are "stats" records; the name is escaped */
	CHECK_STR(map_json(&st, st_keys, st_vals, 1, 1),
		  "{\"type\": \"stats\", \"data\": {\"@s\\\"x\": {\"5\": {\"count\": 4, "
		  "\"average\": 7, \"total\": 30}}}}\n");
	avg.agg = PD_AGG_AVG;
	CHECK_STR(map_json(&avg, st_keys, st_vals, 1, 1),
		  "{\"type\": \"stats\", \"data\": {\"@s\\\"x\": {\"5\": 7}}}\n");
	/* string values are quoted and escaped */
	CHECK_STR(map_json(&str, "k\0\0\0\0\0\0\0", "v\x01\xff\0\0\0\0\0", 1, 1),
		  "{\"type\": \"map\", \"data\": {\"@str\": {\"k\": \"v\\u0001\\u00ff\"}}}\n");
}

static void test_json_hist(void)
{
	uint64_t h[66] = { 0 }, l[6] = { 0 };
	int64_t key = 0;
	struct pd_map hist = { .name = "@h",
			       .agg = PD_AGG_HIST,
			       .key_size = 8,
			       .value_size = sizeof(h),
			       .nbuckets = 66 };
	struct pd_map lhist = { .name = "@l",
				.agg = PD_AGG_LHIST,
				.key_size = 8,
				.value_size = sizeof(l),
				.nbuckets = 6,
				.lhist_min = 10,
				.lhist_max = 50,
				.lhist_step = 10 };

	/* all zero (after zero()): an empty list */
	CHECK_STR(map_json(&hist, &key, h, 1, 1), "{\"type\": \"hist\", \"data\": {\"@h\": []}}\n");
	h[0] = 2, h[1] = 1, h[3] = 4, h[65] = 1;
	{
		const char *want =
			"{\"type\": \"hist\", \"data\": {\"@h\": "
			"[{\"max\": -1, \"count\": 2}, {\"min\": 0, \"max\": 0, \"count\": 1}, "
			"{\"min\": 1, \"max\": 1, \"count\": 0}, {\"min\": 2, \"max\": 3, "
			"\"count\": 4}, {\"min\": 4, \"max\": 7, \"count\": 0}, ";

		CHECK(!strncmp(map_json(&hist, &key, h, 1, 1), want, strlen(want)));
	}
	/* the top bucket: [2^63, 2^64) written unsigned */
	CHECK(strstr(
		map_json(&hist, &key, h, 1, 1),
		"{\"min\": 9223372036854775808, \"max\": 18446744073709551615, \"count\": 1}]}}\n"));
	/* div applies to hist counts */
	memset(h, 0, sizeof(h));
	h[2] = 5;
	CHECK_STR(
		map_json(&hist, &key, h, 1, 2),
		"{\"type\": \"hist\", \"data\": {\"@h\": [{\"min\": 1, \"max\": 1, \"count\": 2}]}}\n");
	l[0] = 1, l[2] = 3, l[5] = 2;
	CHECK_STR(
		map_json(&lhist, &key, l, 1, 1),
		"{\"type\": \"hist\", \"data\": {\"@l\": [{\"max\": 9, \"count\": 1}, "
		"{\"min\": 10, \"max\": 19, \"count\": 0}, {\"min\": 20, \"max\": 29, \"count\": 3}, "
		"{\"min\": 30, \"max\": 39, \"count\": 0}, {\"min\": 40, \"max\": 49, \"count\": 0}, "
		"{\"min\": 50, \"count\": 2}]}}\n");
}

/* Records through rt_output with the JSON writer. */
static void test_json_records(void)
{
	struct pd_layout args[1] = { lay_int(0, 8, true) };
	struct pd_printf pf[1] = { { .fmt = "n=%d\n", .nargs = 1, .args = args, .size = 8 } };
	struct pd_layout tf[2] = { lay_int(0, 8, true), lay_str(8, 8) };
	struct pd_layout values[2] = {
		{ .kind = PD_TUPLE, .size = 16, .nfields = 2, .fields = tf },
		lay_str(0, 8),
	};
	struct progdesc pd = { .printfs = pf, .nprintfs = 1, .values = values, .nvalues = 2 };
	struct rt_output_opts opts = { .format = RT_FORMAT_JSON };
	struct rt_output o;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	uint8_t rec[32] = { 0 };
	struct pd_record_hdr h = { .kind = PD_REC_PRINTF, .id = 0 };

	CHECK(rt_output_init_opts(&o, f, &pd, NULL, &opts) == 0);
	rt_output_attached(&o, 3);
	memcpy(rec, &h, sizeof(h));
	memcpy(rec + 8, (int64_t[]){ -7 }, 8);
	CHECK(rt_output_record(&o, rec, 16) == 0);
	h = (struct pd_record_hdr){ .kind = PD_REC_PRINT_VALUE, .id = 0 };
	memcpy(rec, &h, sizeof(h));
	memcpy(rec + 8, (int64_t[]){ 1 }, 8);
	memcpy(rec + 16, "a\tb", 4);
	CHECK(rt_output_record(&o, rec, 24) == 0);
	h = (struct pd_record_hdr){ .kind = PD_REC_PRINT_VALUE, .id = 1 };
	memcpy(rec, &h, sizeof(h));
	memcpy(rec + 8, "\"s\"", 4);
	CHECK(rt_output_record(&o, rec, 16) == 0);
	rt_output_lost(&o, 5);
	rt_output_lost(&o, 12);
	struct pd_helper_error he = { "map_update_elem", 3, 12, "stdin:3:12-13", "x\n~\n" };
	o.w.ops->helper_error(&o.w, &he, -7);
	struct pd_map fm = { .name = "@m", .max_entries = 4 };
	o.w.ops->map_full(&o.w, &fm, 9);
	o.w.ops->maps_begin(&o.w); /* nothing in JSON */
	CHECK(len > 0);		   /* flushed per record: already in the stream */
	CHECK_STR(text, "{\"type\": \"attached_probes\", \"data\": {\"probes\": 3}}\n"
			"{\"type\": \"printf\", \"data\": \"n=-7\\n\"}\n"
			"{\"type\": \"value\", \"data\": [1,\"a\\tb\"]}\n"
			"{\"type\": \"value\", \"data\": \"\\\"s\\\"\"}\n"
			"{\"type\": \"lost_events\", \"data\": {\"events\": 5}}\n"
			"{\"type\": \"lost_events\", \"data\": {\"events\": 7}}\n"
			"{\"type\": \"helper_error\", \"helper\": \"map_update_elem\", "
			"\"retcode\": -7, \"line\": 3, \"col\": 12}\n"
			"{\"type\": \"map_full\", \"data\": {\"map\": \"@m\", \"dropped\": 9, "
			"\"max_entries\": 4}}\n");
	rt_output_fini(&o);
	fclose(f);
	free(text);
	/* -q: no attached_probes record */
	text = NULL;
	f = open_memstream(&text, &len);
	opts.quiet = true;
	CHECK(rt_output_init_opts(&o, f, &pd, NULL, &opts) == 0);
	rt_output_attached(&o, 3);
	rt_output_fini(&o);
	fclose(f);
	CHECK_STR(text, "");
	free(text);
}

/* The text writer through the same entry points keeps 0.17's text. */
static void test_text_records(void)
{
	struct pd_helper_error he[2] = {
		{ "probe_read_kernel", 2, 5, "stdin:2:5-6", "  *$p\n    ~\n" },
		{ "map_lookup_elem", 1, 1, "a.bt:1:1-3", "@x\n~~\n" },
	};
	struct progdesc pd = { .helper_errors = he, .nhelper_errors = 2 };
	struct rt_output o;
	uint8_t rec[16];
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK(rt_output_init(&o, f, &pd, NULL) == 0);
	rt_output_attached(&o, 1);
	rt_output_attached(&o, 2);
	o.w.ops->maps_begin(&o.w);
	/* PD_REC_HELPER_ERROR: the site's id, the return value after it */
	struct pd_record_hdr h = { .kind = PD_REC_HELPER_ERROR, .id = 0 };
	memcpy(rec, &h, sizeof(h));
	memcpy(rec + 8, (int64_t[]){ -14 }, 8);
	CHECK(rt_output_record(&o, rec, 16) == 0);
	h.id = 1;
	memcpy(rec, &h, sizeof(h));
	memcpy(rec + 8, (int64_t[]){ 0 }, 8);
	CHECK(rt_output_record(&o, rec, 16) == 0);
	h.id = 2; /* no such site */
	memcpy(rec, &h, sizeof(h));
	CHECK(rt_output_record(&o, rec, 16) == -EINVAL);
	CHECK(rt_output_record(&o, rec, 12) == -EINVAL);
	rt_output_fini(&o);
	fclose(f);
	CHECK_STR(text, "Attaching 1 probe...\nAttaching 2 probes...\n\n\n"
			"stdin:2:5-6: WARNING: Failed to probe_read_kernel: Bad address (-14)\n"
			"  *$p\n    ~\n"
			"a.bt:1:1-3: WARNING: Failed to map_lookup_elem: 0\n@x\n~~\n");
	free(text);
}

int main(void)
{
	test_escape();
	test_escape_random();
	test_json_maps();
	test_json_hist();
	test_json_records();
	test_text_records();
	if (failures)
		fprintf(stderr, "test_json: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
