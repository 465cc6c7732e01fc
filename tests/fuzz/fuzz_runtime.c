/* fuzz_runtime.c: libFuzzer target over the runtime's output side.
 *
 * At start-up, three scripts (below) are compiled with fuzz_common.c's fake
 * kernel into program descriptions, which give real layouts of printf
 * arguments, print() values, map keys and values of every aggregation; a
 * few layouts the scripts cannot make yet (usym, an IPv6 ntop, an array of
 * tuples) are added by hand. Each program has a text and a JSON rt_output
 * that live for the whole run (so kallsyms is read once), writing into a
 * memory buffer. No maps exist (map_fds NULL): nothing touches the kernel.
 *
 * In: bytes, read as
 *   [0] program   [1] op: bits 0-1 what, bit 2 JSON
 *   what 0, a record: [2] kind, [3] id, the rest the payload, through
 *      rt_output_record (the ring-buffer path; cat and system records are
 *      skipped: they open files and run commands named by the payload)
 *   what 1, a map: [2] map, [3] top (signed), [4] div (signed), [5] CPUs
 *      (1-4), then entries of key bytes and per-CPU value bytes, merged by
 *      rt_agg_merge, sorted and written by rt_map_write (at most one for
 *      a map without keys, as the kernel's map holds)
 *   what 2, a value: [2] layout (print() values, map keys and values,
 *      printf arguments, the extra layouts), the rest its bytes
 *   what 3, stack frames: [2] mode and indent, the rest u64 addresses,
 *      through rt_format_stack (symbolized from /proc/kallsyms if readable)
 * Out: the absence of crashes, leaks and undefined behaviour, and one
 * check: every line the JSON writer produced is one valid JSON value in
 * valid UTF-8 (a failure aborts: a finding).
 *
 * Build: FUZZ=ON (make sanitize-build); seeds in tests/fuzz/corpus-runtime.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/maps.h"
#include "runtime/output.h"
#include "tests/fuzz/fuzz_common.h"

static const char *const scripts[] = {
	/* printf conversions and print() of every value kind */
	"BEGIN {\n"
	"	printf(\"%d %i %u %x %X %o %c %s %p %-8s|%5d|%05d %lld %llu %hhd %hd %%\\n\", 1, 2,"
	" 3, 4, 5, 6, 65, \"str\", 7, \"ab\", 8, 9, 10, 11, 12, 13);\n"
	"	printf(\"%r %rx %rh\\n\", buf(\"abc\", 3), buf(\"ab\", 2), buf(\"a\", 1));\n"
	"	printf(\"%s %s %s %s\\n\", comm, ksym(1), ksym(2), probe);\n"
	"	printf(\"%s|%s\\n\", kstack, ustack);\n"
	"	printf(\"%s %s %s\\n\", username, strftime(\"%H:%M:%S %f\", nsecs), ntop(2, 1));\n"
	"	printf(\"%s %d %s %-20.3s %+d % d %#x %#o\\n\", str($2), $1, kstack(perf, 3), \"a\","
	" -1, 2, 3, 4);\n"
	"	time(\"%H:%M:%S\\n\");\n"
	"	print((1, \"a\", (2, \"b\"), -3));\n"
	"	print(\"s\"); print(kstack(3)); print(ustack(perf, 2)); print(buf(\"xyz\", 3));\n"
	"	print(ksym(1)); print(-7); print(username); print(strftime(\"%Y\", 1));\n"
	"	print(probe); print((int8)-1); print((uint16)7); print(ntop(2, 1));\n"
	"	exit();\n"
	"}\n",
	/* every aggregation and plain map kind, and print(@m, top, div) */
	"BEGIN {\n"
	"	@c[comm, 1] = count(); @s[pid] = sum(1); @mn[\"a\"] = min(1); @mx[(1, \"b\")] = max(2);\n"
	"	@a[kstack] = avg(3); @st = stats(4); @h[1] = hist(5); @lh = lhist(6, 0, 100, 10);\n"
	"	@v[\"x\"] = \"str\"; @i[1, \"x\"] = (1, \"t\");\n"
	"	@k[ksym(1)] = 1; @ts = strftime(\"%s\", 1); @b = buf(\"ab\", 2); @p[probe] = 1;\n"
	"	@un[username] = 1; @ip = ntop(2, 1); @neg = -5; @us[ustack] = count();\n"
	"	@cnt = count(); @sum = sum(-3); @min = min(-1); @max = max(9); @avg = avg(2);\n"
	"	@lh2[comm] = lhist(5, 0, 100, 7); @u8 = (uint8)200; @s16[(int16)-3] = (int16)-4;\n"
	"	@hs[(int8)1, \"k\"] = hist(-1); @stk[kstack(perf, 2), ustack(1)] = stats(1);\n"
	"	print(@c); print(@h, 2, 3); print(@lh2, 1); print(@st, 1, 2); clear(@s); zero(@mn);\n"
	"	exit();\n"
	"}\n",
	/* kernel structs (with BTF), arrays, tracepoint arguments */
	"struct S { int a; char b[4]; unsigned long c; short d[3]; }\n"
	"kprobe:vfs_read {\n"
	"	printf(\"%s\\n\", ustack(3));\n"
	"	print(*(struct S *)arg0);\n"
	"	print(((struct S *)arg0)->d);\n"
	"	@arr = ((struct S *)arg0)->b;\n"
	"	printf(\"%d %s\\n\", ((struct S *)arg1)->a, ((struct S *)arg1)->b);\n"
	"	@t[tid, cpu] = (curtask->comm, curtask->pid);\n"
	"	print(curtask->comm);\n"
	"}\n"
	"kretprobe:vfs_read { @ret[retval] = count(); printf(\"%d\\n\", retval); }\n"
	"tracepoint:syscalls:sys_enter_openat { printf(\"%s %d\\n\", str(args.filename), "
	"args.flags); @o[str(args.filename)] = count(); }\n"
	"tracepoint:fake:dataloc { printf(\"%s\\n\", str(args.name)); }\n",
	/* the same without BTF (hosts without /sys/kernel/btf/vmlinux) */
	("struct S { int a; char b[4]; unsigned long c; short d[3]; }\n"
	 "kprobe:vfs_read { print(*(struct S *)arg0); @arr = ((struct S *)arg0)->d; }\n"),
};
#define NSCRIPTS (sizeof(scripts) / sizeof(scripts[0]))

/* layouts no script makes yet */
static struct pd_layout tuple_fields[] = {
	{ .kind = PD_INT, .size = 2, .offset = 0, .is_signed = true },
	{ .kind = PD_STR, .size = 6, .offset = 2 },
};
static struct pd_layout extra[] = {
	{ .kind = PD_USYM, .size = 16 },
	{ .kind = PD_INET, .size = 24 },
	{ .kind = PD_ARRAY, .size = 24, .count = 3, .nfields = 1, .fields = tuple_fields + 0 },
	{ .kind = PD_TUPLE, .size = 8, .nfields = 2, .fields = tuple_fields },
	{ .kind = PD_INT, .size = 8, .is_ptr = true },
	{ .kind = PD_INT, .size = 4, .bit_offset = 3, .bit_size = 5 },
	{ .kind = PD_TIMESTAMP, .size = 8, .fmt = "%Y-%m-%d %H:%M:%S.%f %%" },
	{ .kind = PD_BUF, .size = 9 },
	{ .kind = PD_STR, .size = 16 },
	{ .kind = PD_PROBE, .size = 8 },
	{ .kind = PD_USERNAME, .size = 8 },
	{ .kind = PD_KSYM, .size = 8 },
};
#define NEXTRA (sizeof(extra) / sizeof(extra[0]))

/* Output goes to a memory buffer, emptied before each input. */
static struct {
	char *p;
	size_t len, cap;
} sink;

static ssize_t sink_write(void *cookie, const char *buf, size_t n)
{
	(void)cookie;
	if (sink.len + n > sink.cap) {
		size_t cap = sink.cap ? sink.cap : 4096;
		while (cap < sink.len + n)
			cap *= 2;
		char *p = realloc(sink.p, cap);
		if (!p)
			abort();
		sink.p = p;
		sink.cap = cap;
	}
	memcpy(sink.p + sink.len, buf, n);
	sink.len += n;
	return (ssize_t)n;
}

struct prog {
	struct fuzz_compiled fc;
	const struct progdesc *pd;
	struct rt_output out[2]; /* text, JSON */
};

static struct prog progs[NSCRIPTS];
static uint32_t nprogs;
static const struct pd_layout **layouts;
static uint32_t nlayouts;
static FILE *sink_file;

static void add_layout(const struct pd_layout *l)
{
	const struct pd_layout **n = realloc(layouts, (nlayouts + 1) * sizeof(*n));
	if (!n)
		abort();
	layouts = n;
	layouts[nlayouts++] = l;
}

static void init(void)
{
	cookie_io_functions_t io = { .write = sink_write };

	sink_file = fopencookie(NULL, "w", io);
	if (!sink_file)
		abort();
	for (uint32_t i = 0; i < NSCRIPTS; i++) {
		struct prog *p = &progs[nprogs];
		fuzz_compile(&p->fc, scripts[i], strlen(scripts[i]), true, fuzz_devnull());
		if (!p->fc.have_res) {
			fuzz_release(&p->fc);
			continue;
		}
		p->pd = p->fc.res.pd;
		for (int j = 0; j < 2; j++) {
			struct rt_output_opts o = { .format = j ? RT_FORMAT_JSON : RT_FORMAT_TEXT,
						    .buffering = RT_BUF_FULL };
			if (rt_output_init_opts(&p->out[j], sink_file, p->pd, NULL, &o))
				abort();
		}
		for (uint32_t j = 0; j < p->pd->nvalues; j++)
			add_layout(&p->pd->values[j]);
		for (uint32_t j = 0; j < p->pd->nprintfs; j++)
			for (uint32_t k = 0; k < p->pd->printfs[j].nargs; k++)
				add_layout(&p->pd->printfs[j].args[k]);
		for (uint32_t j = 0; j < p->pd->nmaps; j++) {
			if (p->pd->maps[j].role != PD_MAP_USER)
				continue;
			add_layout(&p->pd->maps[j].key);
			add_layout(&p->pd->maps[j].value);
		}
		nprogs++;
	}
	if (nprogs < 2) { /* the first two need no BTF */
		fprintf(stderr, "fuzz_runtime: the built-in scripts do not compile\n");
		abort();
	}
	for (uint32_t i = 0; i < NEXTRA; i++)
		add_layout(&extra[i]);
}

/* ---- a strict JSON checker (RFC 8259, UTF-8 per RFC 3629) ----------------- */

struct js {
	const unsigned char *p, *end;
	int depth;
};

static void ws(struct js *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r'))
		j->p++;
}

static bool lit(struct js *j, const char *s)
{
	size_t n = strlen(s);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, s, n))
		return false;
	j->p += n;
	return true;
}

static bool digits(struct js *j)
{
	const unsigned char *s = j->p;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static bool number(struct js *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!digits(j))
		return false;
	if (j->p < j->end && *j->p == '.' && (j->p++, !digits(j)))
		return false;
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!digits(j))
			return false;
	}
	return true;
}

/* One UTF-8 sequence at p (first byte >= 0x80): its length, 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], n;
	uint32_t cp, min;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (unsigned i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static bool string(struct js *j)
{
	if (j->p >= j->end || *j->p != '"')
		return false;
	j->p++;
	while (j->p < j->end) {
		unsigned c = *j->p;
		if (c == '"') {
			j->p++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (++j->p >= j->end)
				return false;
			c = *j->p++;
			if (c == 'u') {
				if (j->end - j->p < 4)
					return false;
				for (int i = 0; i < 4; i++, j->p++)
					if (!strchr("0123456789abcdefABCDEF", *j->p) || !*j->p)
						return false;
			} else if (!strchr("\"\\/bfnrt", (int)c) || !c) {
				return false;
			}
		} else if (c >= 0x80) {
			size_t n = utf8_seq(j->p, j->end);
			if (!n)
				return false;
			j->p += n;
		} else {
			j->p++;
		}
	}
	return false;
}

static bool value(struct js *j)
{
	bool ok;

	ws(j);
	if (j->p >= j->end || ++j->depth > 64)
		return false;
	switch (*j->p) {
	case '{':
	case '[': {
		char close = *j->p == '{' ? '}' : ']';
		bool obj = close == '}';
		j->p++;
		ws(j);
		if (j->p < j->end && *j->p == close) {
			j->p++;
			ok = true;
			break;
		}
		for (;;) {
			if (obj) {
				ws(j);
				if (!string(j))
					return false;
				ws(j);
				if (j->p >= j->end || *j->p++ != ':')
					return false;
			}
			if (!value(j))
				return false;
			ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p < j->end && *j->p == close) {
				j->p++;
				break;
			}
			return false;
		}
		ok = true;
		break;
	}
	case '"':
		ok = string(j);
		break;
	case 't':
		ok = lit(j, "true");
		break;
	case 'f':
		ok = lit(j, "false");
		break;
	case 'n':
		ok = lit(j, "null");
		break;
	default:
		ok = number(j);
	}
	j->depth--;
	ws(j);
	return ok;
}

/* Every line of the JSON output is one JSON value; the last ends in \n. */
static void check_json(const char *s, size_t n)
{
	size_t start = 0;

	if (n && s[n - 1] != '\n') {
		fprintf(stderr, "fuzz_runtime: JSON output does not end in a newline\n");
		abort();
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\n')
			continue;
		struct js j = { (const unsigned char *)s + start, (const unsigned char *)s + i, 0 };
		if (!value(&j) || j.p != j.end) {
			fprintf(stderr, "fuzz_runtime: invalid JSON line at byte %zu: %.*s\n",
				(size_t)(j.p - (const unsigned char *)s), (int)(i - start), s + start);
			abort();
		}
		start = i + 1;
	}
}

/* ---- the operations ------------------------------------------------------- */

static void do_record(struct rt_output *o, const uint8_t *d, size_t n)
{
	struct pd_record_hdr h = { .kind = d[0], .id = d[1] };
	uint8_t *rec;

	if (h.kind == PD_REC_CAT || h.kind == PD_REC_SYSTEM)
		return;
	/* the exact size, so that ASan sees a read past the payload */
	rec = malloc(sizeof(h) + n - 2);
	if (!rec)
		abort();
	memcpy(rec, &h, sizeof(h));
	memcpy(rec + sizeof(h), d + 2, n - 2);
	rt_output_record(o, rec, sizeof(h) + n - 2);
	free(rec);
}

static void do_map(struct rt_output *o, const struct progdesc *pd, const uint8_t *d, size_t n)
{
	const struct pd_map *m = NULL;
	uint32_t want = d[0], ncpus = 1 + d[3] % 4;
	int64_t top = (int8_t)d[1], div = (int8_t)d[2];

	for (uint32_t i = 0, k = 0; i < pd->nmaps; i++)
		if (pd->maps[i].role == PD_MAP_USER && k++ == want % pd->nmaps)
			m = &pd->maps[i];
	if (!m)
		return;
	d += 4;
	n -= 4;
	size_t ks = m->key_size, vs = m->value_size;
	size_t raw = m->agg == PD_AGG_NONE ? vs : rt_percpu_stride(m) * ncpus;
	size_t max = raw + ks ? n / (ks + raw) : 0;
	if (max > 64)
		max = 64;
	if (m->key.kind == PD_NONE && max > 1) /* one key (0): one entry */
		max = 1;
	uint8_t *keys = malloc(max * ks + 1), *vals = malloc(max * vs + 1);
	struct rt_map_entry *e = calloc(max + 1, sizeof(*e));
	size_t ne = 0;
	if (!keys || !vals || !e)
		abort();
	for (size_t i = 0; i < max; i++, d += ks + raw) {
		memcpy(keys + ne * ks, d, ks);
		if (m->agg == PD_AGG_NONE)
			memcpy(vals + ne * vs, d + ks, vs);
		else if (rt_agg_merge(m, d + ks, ncpus, vals + ne * vs))
			continue;
		e[ne].key = keys + ne * ks;
		e[ne].value = vals + ne * vs;
		ne++;
	}
	rt_map_write(&o->ctx, &o->w, m, e, ne, top, div);
	free(keys);
	free(vals);
	free(e);
}

static void do_value(struct rt_output *o, const uint8_t *d, size_t n)
{
	const struct pd_layout *l = layouts[d[0] % nlayouts];
	uint8_t *v = malloc(n - 1 + 1);

	if (!v)
		abort();
	memcpy(v, d + 1, n - 1);
	o->w.ops->value(&o->w, &o->ctx, l, v, n - 1);
	free(v);
}

static void do_stack(struct rt_output *o, const uint8_t *d, size_t n)
{
	uint32_t nips = (uint32_t)((n - 1) / 8);
	uint64_t *ips = malloc(nips * 8 + 1);
	struct rt_sbuf b = { 0 };

	if (!ips)
		abort();
	memcpy(ips, d + 1, nips * 8);
	rt_format_stack(&o->ctx, &b, ips, nips, d[0] & 1 ? PD_STACK_PERF : PD_STACK_BPFTRACE,
			(d[0] >> 1) % 16);
	o->w.ops->message(&o->w, RT_MSG_PRINTF, b.s ? b.s : "", b.len);
	rt_sbuf_free(&b);
	free(ips);
}

/* ---- seeds ---------------------------------------------------------------- */

/* Bytes that look like what the kernel sends: small numbers, strings with
 * control bytes, invalid UTF-8, a NUL inside. */
static void fill(uint8_t *p, size_t n, unsigned salt)
{
	static const char sample[] = "ab\x01\x1b[31mc\xff\xfe\xc3\xa9" "d\0e\tf\"g\\";

	for (size_t i = 0; i < n; i++)
		p[i] = i % 8 == 0 ? (uint8_t)(salt + i) : (uint8_t)sample[(i + salt) % sizeof(sample)];
}

static void seed(const char *dir, const uint8_t *d, size_t n)
{
	static unsigned count;
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/seed-%03u", dir, count++);
	f = fopen(path, "w");
	if (!f || fwrite(d, 1, n, f) != n || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* FUZZ_RUNTIME_SEEDS=DIR: writes one input per printf, print() value and
 * map of every program (both writers alternately), one per extra layout
 * and a stack, then exits (tests/fuzz/corpus-runtime was made so). */
static void write_seeds(const char *dir)
{
	uint8_t d[2048];
	unsigned k = 0;

	for (uint32_t pi = 0; pi < nprogs; pi++) {
		const struct progdesc *pd = progs[pi].pd;
		for (uint32_t i = 0; i < pd->nprintfs; i++, k++) {
			size_t n = 4 + pd->printfs[i].size;
			if (n > sizeof(d))
				continue;
			d[0] = (uint8_t)pi, d[1] = (uint8_t)(k % 2 * 4), d[2] = PD_REC_PRINTF;
			d[3] = (uint8_t)i;
			fill(d + 4, n - 4, k);
			seed(dir, d, n);
		}
		for (uint32_t i = 0; i < pd->nvalues; i++, k++) {
			size_t n = 4 + pd->values[i].size;
			if (n > sizeof(d))
				continue;
			d[0] = (uint8_t)pi, d[1] = (uint8_t)(k % 2 * 4), d[2] = PD_REC_PRINT_VALUE;
			d[3] = (uint8_t)i;
			fill(d + 4, n - 4, k);
			seed(dir, d, n);
		}
		for (uint32_t i = 0, u = 0; i < pd->nmaps; i++) {
			const struct pd_map *m = &pd->maps[i];
			if (m->role != PD_MAP_USER)
				continue;
			size_t raw = m->agg == PD_AGG_NONE ? m->value_size : rt_percpu_stride(m) * 2;
			size_t ne = m->key.kind == PD_NONE ? 1 : 3, n = 6 + ne * (m->key_size + raw);
			if (n <= sizeof(d)) {
				d[0] = (uint8_t)pi, d[1] = (uint8_t)(1 | k % 2 * 4), d[2] = (uint8_t)u;
				d[3] = 0, d[4] = 0, d[5] = 1; /* all entries, div 1, 2 CPUs */
				fill(d + 6, n - 6, k);
				seed(dir, d, n);
			}
			u++, k++;
		}
	}
	for (uint32_t i = 0; i < NEXTRA; i++, k++) {
		d[0] = 0, d[1] = (uint8_t)(2 | k % 2 * 4), d[2] = (uint8_t)(nlayouts - NEXTRA + i);
		fill(d + 3, 32, k);
		seed(dir, d, 35);
	}
	uint64_t ips[3] = { 0xffffffff81000000ull, 0xffffffff81234567ull, 0 };
	d[0] = 0, d[1] = 3, d[2] = 8;
	memcpy(d + 3, ips, sizeof(ips));
	seed(dir, d, 3 + sizeof(ips));
	exit(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;

	if (!ready) {
		ready = true;
		init();
		if (getenv("FUZZ_RUNTIME_SEEDS"))
			write_seeds(getenv("FUZZ_RUNTIME_SEEDS"));
	}
	if (size < 6)
		return 0;
	struct prog *p = &progs[data[0] % nprogs];
	bool json = data[1] & 4;
	struct rt_output *o = &p->out[json];

	sink.len = 0;
	switch (data[1] & 3) {
	case 0:
		do_record(o, data + 2, size - 2);
		break;
	case 1:
		do_map(o, p->pd, data + 2, size - 2);
		break;
	case 2:
		do_value(o, data + 2, size - 2);
		break;
	case 3:
		do_stack(o, data + 2, size - 2);
		break;
	}
	rt_writer_emit(&o->w);
	fflush(o->w.out);
	if (json)
		check_json(sink.p, sink.len);
	return 0;
}
