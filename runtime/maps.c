/* maps.c: script maps read with libbpf, merged, sorted, and handed to a
 * writer.
 *
 * In: a map fd and its pd_map. Out: the map's entries, sorted as bpftrace
 * 0.17 prints them, given to the writer (writer.h: text or JSON); or the
 * map cleared/zeroed.
 *
 * Reading walks the keys with bpf_map_get_next_key and looks each up; a
 * key deleted between the two calls is skipped, as bpftrace does. Keyless
 * aggregations other than count() are per-CPU arrays read element by
 * element into one entry (see "keyless arrays" below). Per-CPU
 * values come back as ncpus (possible CPUs) copies, each padded to 8 bytes;
 * rt_agg_merge folds them into one value of the per-CPU layout, so the
 * writers see the same bytes whatever the CPU count.
 *
 * Sorting (docs/output-format.md has the scripts): count/sum/min/max and
 * plain integer maps by value; avg/stats by average; hist/lhist by the sum
 * of their buckets; any other map (strings, tuples, stacks) by key. Ties
 * among value-sorted maps came out in hash order in bpftrace 0.17; we break
 * them by key, the way later bpftrace does. Ties among avg/stats/hist/lhist
 * are in key-byte order (memcmp), which is what 0.17 printed.
 *
 * Does not: format anything (writer_text.c, writer_json.c), decode
 * records (output.c), or batch lookups (TODO(#batch):
 * bpf_map_lookup_batch for large maps).
 */
#include "runtime/maps.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

static int64_t get_i64(const void *p)
{
	return rt_get_i64(p);
}

static void put_i64(void *p, int64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* ---- merging per-CPU values ------------------------------------------- */

size_t rt_percpu_stride(const struct pd_map *m)
{
	return ((size_t)m->value_size + 7) & ~(size_t)7;
}

static size_t agg_min_size(const struct pd_map *m)
{
	switch (m->agg) {
	case PD_AGG_NONE:
		return 0;
	case PD_AGG_COUNT:
	case PD_AGG_SUM:
		return 8;
	case PD_AGG_HIST:
	case PD_AGG_LHIST:
		return (size_t)m->nbuckets * 8;
	default:
		return 16;
	}
}

/* min/max: the extreme over the CPUs that have a value (is_set). */
static void merge_minmax(const struct pd_map *m, const uint8_t *v, uint32_t ncpus, void *merged)
{
	size_t stride = rt_percpu_stride(m);
	int64_t best = 0;
	uint64_t set = 0;

	for (uint32_t c = 0; c < ncpus; c++, v += stride) {
		int64_t x = get_i64(v);

		if (!get_i64(v + 8))
			continue;
		if (!set || (m->agg == PD_AGG_MIN ? x < best : x > best))
			best = x;
		set = 1;
	}
	put_i64(merged, best);
	put_i64((uint8_t *)merged + 8, (int64_t)set);
}

int rt_agg_merge(const struct pd_map *m, const void *percpu, uint32_t ncpus, void *merged)
{
	size_t stride = rt_percpu_stride(m), nwords;
	const uint8_t *v = percpu;

	if (m->value_size < agg_min_size(m))
		return -EINVAL;
	if (m->agg == PD_AGG_NONE) {
		memcpy(merged, percpu, m->value_size);
		return 0;
	}
	if (m->agg == PD_AGG_MIN || m->agg == PD_AGG_MAX) {
		merge_minmax(m, v, ncpus, merged);
		return 0;
	}
	/* count, sum, avg/stats {total, count}, buckets: word-wise sums */
	nwords = agg_min_size(m) / 8;
	memset(merged, 0, m->value_size);
	for (uint32_t c = 0; c < ncpus; c++, v += stride)
		for (size_t w = 0; w < nwords; w++) {
			uint8_t *dst = (uint8_t *)merged + w * 8;

			put_i64(dst,
				(int64_t)((uint64_t)get_i64(dst) + (uint64_t)get_i64(v + w * 8)));
		}
	return 0;
}

/* ---- sorting ---------------------------------------------------------- */

enum sort_by {
	SORT_SIGNED,   /* by e->sort as int64, ties by key */
	SORT_UNSIGNED, /* by e->sort as uint64, ties by key */
	SORT_TOTAL,    /* hist/lhist (uint64) and avg/stats (int64): ties by memcmp */
	SORT_KEY,
};

struct sort_ctx {
	const struct pd_map *m;
	enum sort_by by;
	bool total_signed;
};

static int cmp_key_field(const struct pd_layout *l, const uint8_t *a, const uint8_t *b)
{
	uint64_t x = 0, y = 0;

	switch (l->kind) {
	case PD_INT: /* unsigned at any width, as bpftrace 0.17 */
		if (l->size > 8)
			return 0;
		memcpy(&x, a + l->offset, l->size);
		memcpy(&y, b + l->offset, l->size);
		return x < y ? -1 : x > y;
	case PD_STR:
		return strncmp((const char *)a + l->offset, (const char *)b + l->offset, l->size);
	default: /* bpftrace does not sort by stacks, symbols, ... */
		return 0;
	}
}

static int cmp_keys(const struct pd_map *m, const void *a, const void *b)
{
	const struct pd_layout *k = &m->key;
	int c = 0;

	if (k->kind == PD_TUPLE)
		for (uint32_t i = 0; i < k->nfields && !c; i++)
			c = cmp_key_field(&k->fields[i], (const uint8_t *)a + k->offset,
					  (const uint8_t *)b + k->offset);
	else
		c = cmp_key_field(k, a, b);
	return c ?: memcmp(a, b, m->key_size);
}

static int cmp_entries(const void *pa, const void *pb, void *arg)
{
	const struct rt_map_entry *a = pa, *b = pb;
	const struct sort_ctx *ctx = arg;
	bool is_signed = ctx->by == SORT_SIGNED || (ctx->by == SORT_TOTAL && ctx->total_signed);

	if (ctx->by != SORT_KEY && a->sort != b->sort) {
		if (is_signed)
			return a->sort < b->sort ? -1 : 1;
		return (uint64_t)a->sort < (uint64_t)b->sort ? -1 : 1;
	}
	if (ctx->by == SORT_TOTAL)
		return memcmp(a->key, b->key, ctx->m->key_size);
	return cmp_keys(ctx->m, a->key, b->key);
}

static void sort_values(struct sort_ctx *ctx, struct rt_map_entry *e, size_t n)
{
	const struct pd_map *m = ctx->m;

	ctx->by = SORT_SIGNED;
	ctx->total_signed = m->agg == PD_AGG_AVG || m->agg == PD_AGG_STATS;
	if (m->agg == PD_AGG_COUNT)
		ctx->by = SORT_UNSIGNED;
	else if (m->agg == PD_AGG_HIST || m->agg == PD_AGG_LHIST || ctx->total_signed)
		ctx->by = SORT_TOTAL;
	else if (m->agg == PD_AGG_NONE && m->value.kind != PD_INT)
		ctx->by = SORT_KEY;
	else if (m->agg == PD_AGG_NONE && !m->value.is_signed)
		ctx->by = SORT_UNSIGNED;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *v = e[i].value;
		uint64_t sum = 0;

		if (ctx->total_signed)
			e[i].sort = rt_avg_of(v);
		else if (m->agg == PD_AGG_HIST || m->agg == PD_AGG_LHIST) {
			for (uint32_t j = 0; j < m->nbuckets; j++)
				sum += (uint64_t)get_i64(v + j * 8);
			e[i].sort = (int64_t)sum;
		} else if (m->agg == PD_AGG_NONE && m->value.kind == PD_INT) {
			uint64_t x = 0;

			memcpy(&x, v + m->value.offset, m->value.size <= 8 ? m->value.size : 8);
			if (m->value.is_signed && m->value.size < 8 &&
			    (x >> (m->value.size * 8 - 1)) & 1)
				x |= ~0ULL << (m->value.size * 8);
			e[i].sort = (int64_t)x;
		} else if (m->agg != PD_AGG_NONE) {
			e[i].sort = get_i64(v); /* count, sum, min, max */
		}
	}
}

static bool fits(const struct pd_layout *l, size_t size)
{
	return l->offset <= size && l->size <= size - l->offset;
}

/* The sort reads keys and integer values directly: check they fit. */
static bool is_layout_ok(const struct pd_map *m)
{
	const struct pd_layout *k = &m->key;

	if (m->value_size < agg_min_size(m) || !fits(k, m->key_size))
		return false;
	for (uint32_t i = 0; k->kind == PD_TUPLE && i < k->nfields; i++)
		if (!fits(&k->fields[i], k->size))
			return false;
	if (m->agg == PD_AGG_NONE && m->value.kind == PD_INT)
		return fits(&m->value, m->value_size) && m->value.size <= 8;
	return true;
}

/* Sorts e[0..n) and says which entries print() shows (the last `top`)
 * and with which divisor (lhist and stats ignore div, stats top). */
static int sort_and_cut(const struct pd_map *m, struct rt_map_entry *e, size_t n, int64_t top,
			int64_t *div, size_t *first)
{
	struct sort_ctx ctx = { .m = m };

	if (!is_layout_ok(m))
		return -EINVAL;
	if (m->agg == PD_AGG_STATS) /* print()'s top and div are ignored for stats */
		top = 0, *div = 1;
	if (m->agg == PD_AGG_LHIST || *div <= 0)
		*div = 1;
	sort_values(&ctx, e, n);
	qsort_r(e, n, sizeof(*e), cmp_entries, &ctx);
	*first = top > 0 && n > (uint64_t)top ? n - (size_t)top : 0;
	return 0;
}

int rt_map_format(struct rt_ctx *c, struct rt_sbuf *b, const struct pd_map *m,
		  struct rt_map_entry *e, size_t n, int64_t top, int64_t div)
{
	size_t first;
	int err = sort_and_cut(m, e, n, top, &div, &first);

	return err ?: rt_text_map_format(c, b, m, e + first, n - first, div);
}
int rt_map_write(struct rt_ctx *c, struct rt_writer *w, const struct pd_map *m,
		 struct rt_map_entry *e, size_t n, int64_t top, int64_t div)
{
	size_t first;
	int err = sort_and_cut(m, e, n, top, &div, &first);

	return err ?: w->ops->map(w, c, m, e + first, n - first, div);
}

/* ---- reading maps ----------------------------------------------------- */

struct snapshot {
	uint8_t *keys, *values; /* n keys of key_size, n merged values */
	size_t n, cap;
};

static int snapshot_add(struct snapshot *s, const struct pd_map *m, const void *key,
			const void *raw, uint32_t ncpus)
{
	size_t ks = m->key_size, vs = m->value_size;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint8_t *k = realloc(s->keys, cap * (ks ?: 1));
		uint8_t *v;

		if (!k)
			return -ENOMEM;
		s->keys = k;
		v = realloc(s->values, cap * (vs ?: 1));
		if (!v)
			return -ENOMEM;
		s->values = v;
		s->cap = cap;
	}
	memcpy(s->keys + s->n * ks, key, ks);
	s->n++;
	return rt_agg_merge(m, raw, ncpus, s->values + (s->n - 1) * vs);
}

static size_t raw_value_size(struct rt_ctx *c, const struct pd_map *m)
{
	return m->agg == PD_AGG_NONE ? m->value_size : rt_percpu_stride(m) * c->ncpus;
}

/* ---- keyless arrays ----------------------------------------------------
 *
 * A keyless aggregation (other than count(), which is a plain one-element
 * array as in bpftrace 0.17) is a per-CPU array whose lookup the program
 * gets inlined: sum, min, max, avg and stats one element holding the
 * value; hist() and lhist() one u64 per bucket, indexed by bucket. After
 * those comes the marker, an element that only zero() writes. bpftrace 0.17
 * keeps these maps as hashes (hist: one key per bucket): empty until
 * something is counted, emptied by clear(), kept with zero values by
 * zero() ("@: 0", or "@: " and an empty table). So the map has its one
 * entry when some CPU's value is not all zero (a sum has its "updated"
 * word, min/max is_set, avg/stats a count) or the marker is set; zero()
 * sets the marker when the map had its entry, clear() resets everything.
 * The entry's value is gathered into the layout of the hashes' values
 * (nbuckets words per CPU for hist), so merging and printing are the same. */

static bool has_marker(const struct pd_map *m)
{
	return m->bpf_type == BPF_MAP_TYPE_PERCPU_ARRAY && m->agg != PD_AGG_NONE &&
	       m->agg != PD_AGG_COUNT;
}

static bool is_bucket_array(const struct pd_map *m)
{
	return m->agg == PD_AGG_HIST || m->agg == PD_AGG_LHIST;
}

/* Elements before the marker, and the bytes of one CPU's share of each. */
static uint32_t array_elems(const struct pd_map *m)
{
	return is_bucket_array(m) ? m->nbuckets : 1;
}

static size_t array_elem_size(const struct pd_map *m)
{
	return is_bucket_array(m) ? 8 : rt_percpu_stride(m);
}

/* Gathers the value into raw (ncpus values of value_size bytes, 8-byte
 * aligned) and says whether the map has its entry. */
static int read_keyless(struct rt_ctx *c, int map, uint8_t *raw, bool *present)
{
	const struct pd_map *m = &c->pd->maps[map];
	size_t stride = rt_percpu_stride(m), es = array_elem_size(m);
	uint8_t *elem = calloc(c->ncpus, es);
	int err = 0;

	*present = false;
	if (!elem)
		return -ENOMEM;
	for (uint32_t i = 0; i <= array_elems(m) && !err; i++) {
		if (bpf_map_lookup_elem(c->map_fds[map], &i, elem)) {
			err = -errno;
			break;
		}
		for (size_t b = 0; b < c->ncpus * es; b++)
			*present |= elem[b] != 0;
		for (uint32_t cpu = 0; i < array_elems(m) && cpu < c->ncpus; cpu++)
			memcpy(raw + cpu * stride + i * es, elem + cpu * es, es);
	}
	free(elem);
	return err;
}

/* Every element 0 on every CPU; the marker 1 (on one CPU) or 0. */
static int reset_keyless(struct rt_ctx *c, int map, bool mark)
{
	const struct pd_map *m = &c->pd->maps[map];
	size_t es = array_elem_size(m);
	uint8_t *elem = calloc(c->ncpus, es);
	int err = 0;

	if (!elem)
		return -ENOMEM;
	for (uint32_t i = 0; i <= array_elems(m) && !err; i++) {
		elem[0] = i == array_elems(m) && mark;
		if (bpf_map_update_elem(c->map_fds[map], &i, elem, BPF_ANY))
			err = -errno;
	}
	free(elem);
	return err;
}

/* Every key, or only keys (values NULL) when the caller just clears. */
static int read_map(struct rt_ctx *c, int map, struct snapshot *s, bool keys_only)
{
	const struct pd_map *m = &c->pd->maps[map];
	int fd = c->map_fds ? c->map_fds[map] : -1;
	uint8_t *key = NULL, *next = NULL, *raw = NULL;
	bool first = true;
	int err = 0;

	if (fd < 0)
		return 0;
	if (has_marker(m)) {
		bool present;

		key = calloc(1, m->key_size ?: 1);
		raw = calloc(c->ncpus, rt_percpu_stride(m));
		err = !key || !raw ? -ENOMEM : read_keyless(c, map, raw, &present);
		if (!err && present)
			err = snapshot_add(s, m, key, raw, c->ncpus);
		goto out;
	}
	key = calloc(1, m->key_size ?: 1);
	next = calloc(1, m->key_size ?: 1);
	raw = calloc(1, raw_value_size(c, m) ?: 1);
	if (!key || !next || !raw) {
		err = -ENOMEM;
		goto out;
	}
	while (!bpf_map_get_next_key(fd, first ? NULL : key, next)) {
		first = false;
		memcpy(key, next, m->key_size);
		if (!keys_only && bpf_map_lookup_elem(fd, key, raw))
			continue; /* deleted by a probe meanwhile */
		err = snapshot_add(s, m, key, raw, c->ncpus);
		if (err)
			goto out;
	}
	if (errno != ENOENT)
		err = -errno;
out:
	free(key);
	free(next);
	free(raw);
	return err;
}

static void snapshot_free(struct snapshot *s)
{
	free(s->keys);
	free(s->values);
}

int rt_map_print(struct rt_ctx *c, struct rt_writer *w, int map, int64_t top, int64_t div)
{
	struct snapshot s = { 0 };
	struct rt_map_entry *e = NULL;
	const struct pd_map *m;
	int err;

	if (map < 0 || (uint32_t)map >= c->pd->nmaps)
		return -EINVAL;
	m = &c->pd->maps[map];
	err = read_map(c, map, &s, false);
	if (err)
		goto out;
	e = calloc(s.n ?: 1, sizeof(*e));
	if (!e) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < s.n; i++) {
		e[i].key = s.keys + i * m->key_size;
		e[i].value = s.values + i * m->value_size;
	}
	err = rt_map_write(c, w, m, e, s.n, top, div);
out:
	free(e);
	snapshot_free(&s);
	return err;
}
static int cmp_map_names(const void *a, const void *b, void *arg)
{
	const struct pd_map *maps = arg;
	const char *x = maps[*(const uint32_t *)a].name ?: "@";
	const char *y = maps[*(const uint32_t *)b].name ?: "@";

	return strcmp(x, y);
}

int rt_maps_print_all(struct rt_ctx *c, struct rt_writer *w)
{
	uint32_t *order, n = 0;
	int err = 0;

	order = calloc(c->pd->nmaps + 1, sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->pd->nmaps; i++)
		if (c->pd->maps[i].role == PD_MAP_USER)
			order[n++] = i;
	qsort_r(order, n, sizeof(*order), cmp_map_names, c->pd->maps);
	w->ops->maps_begin(w);
	for (uint32_t i = 0; i < n && !err; i++)
		err = rt_map_print(c, w, (int)order[i], 0, 0);
	free(order);
	return err;
}

static bool is_array(const struct pd_map *m)
{
	return m->bpf_type == BPF_MAP_TYPE_ARRAY || m->bpf_type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

/* zero: every key stays, with all-zero values on every CPU */
int rt_map_zero(struct rt_ctx *c, int map)
{
	struct snapshot s = { 0 };
	const struct pd_map *m;
	void *zero = NULL;
	int err;

	if (map < 0 || (uint32_t)map >= c->pd->nmaps)
		return -EINVAL;
	m = &c->pd->maps[map];
	err = read_map(c, map, &s, true);
	if (err || !s.n)
		goto out;
	if (has_marker(m)) {
		err = reset_keyless(c, map, true);
		goto out;
	}
	zero = calloc(1, raw_value_size(c, m) ?: 1);
	if (!zero) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < s.n && !err; i++)
		if (bpf_map_update_elem(c->map_fds[map], s.keys + i * m->key_size, zero,
					BPF_EXIST) &&
		    errno != ENOENT)
			err = -errno;
out:
	free(zero);
	snapshot_free(&s);
	return err;
}

/* clear: every key deleted (arrays cannot delete: they are zeroed) */
int rt_map_clear(struct rt_ctx *c, int map)
{
	struct snapshot s = { 0 };
	const struct pd_map *m;
	int err;

	if (map < 0 || (uint32_t)map >= c->pd->nmaps)
		return -EINVAL;
	m = &c->pd->maps[map];
	if (has_marker(m))
		return c->map_fds && c->map_fds[map] >= 0 ? reset_keyless(c, map, false) : 0;
	if (is_array(m))
		return rt_map_zero(c, map);
	err = read_map(c, map, &s, true);
	for (size_t i = 0; i < s.n && !err; i++)
		if (bpf_map_delete_elem(c->map_fds[map], s.keys + i * m->key_size) &&
		    errno != ENOENT)
			err = -errno;
	snapshot_free(&s);
	return err;
}
