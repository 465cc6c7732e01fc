/* writer_json.c: the JSON writer, bpftrace 0.17's `-f json`.
 *
 * In: the values of writer.h. Out: one JSON object per line on w->out,
 * flushed per record (writer.c) so that `jq` can follow a live run. The
 * shapes are those of 0.17's JsonOutput (src/output.cpp); every one, and
 * where we differ, is in docs/output-format.md ("JSON").
 * Does not: sort or select entries (maps.c); print empty maps (0.17
 * prints nothing for them) or the blank lines before the maps at exit.
 */
#include <inttypes.h>
#include <string.h>

#include "runtime/writer.h"

static void json_str(struct rt_sbuf *b, const char *s, size_t n)
{
	rt_sbuf_puts(b, "\"");
	rt_json_escape(b, s, n);
	rt_sbuf_puts(b, "\"");
}

/* ---- hist and lhist --------------------------------------------------- */

/* [{"min": 1, "max": 1, "count": 3}, ...]: the buckets from the first to
 * the last non-zero one; the bucket below 0 has no "min". */
static void json_hist(struct rt_sbuf *b, const uint64_t *v, uint32_t nb, uint64_t div)
{
	int64_t lo, hi;
	uint64_t max;

	rt_hist_range(v, nb, &lo, &hi, &max);
	rt_sbuf_puts(b, "[");
	for (int64_t i = lo; hi >= 0 && i <= hi && i < 66; i++) {
		if (i > lo)
			rt_sbuf_puts(b, ", ");
		if (i == 0)
			rt_sbuf_puts(b, "{\"max\": -1, ");
		else if (i <= 2)
			rt_sbuf_printf(b, "{\"min\": %d, \"max\": %d, ", (int)i - 1, (int)i - 1);
		else
			rt_sbuf_printf(b, "{\"min\": %" PRIu64 ", \"max\": %" PRIu64 ", ",
				       (uint64_t)1 << (i - 2), ((uint64_t)1 << (i - 2) << 1) - 1);
		rt_sbuf_printf(b, "\"count\": %" PRIu64 "}", v[i] / (div ? div : 1));
	}
	rt_sbuf_puts(b, "]");
}

/* The same for lhist: below min only "max": min - 1, from max on only
 * "min": max. */
static void json_lhist(struct rt_sbuf *b, const uint64_t *v, uint32_t nb, int64_t min, int64_t max,
		       int64_t step)
{
	int64_t lo, hi;
	uint64_t top;

	rt_hist_range(v, nb, &lo, &hi, &top);
	rt_sbuf_puts(b, "[");
	for (int64_t i = lo; hi >= 0 && i <= hi; i++) {
		if (i > lo)
			rt_sbuf_puts(b, ", ");
		if (i == 0)
			rt_sbuf_printf(b, "{\"max\": %" PRId64 ", ", min - 1);
		else if (i == (int64_t)nb - 1)
			rt_sbuf_printf(b, "{\"min\": %" PRId64 ", ", max);
		else
			rt_sbuf_printf(b, "{\"min\": %" PRId64 ", \"max\": %" PRId64 ", ",
				       (i - 1) * step + min, i * step + min - 1);
		rt_sbuf_printf(b, "\"count\": %" PRIu64 "}", v[i]);
	}
	rt_sbuf_puts(b, "]");
}

/* ---- maps ------------------------------------------------------------- */

/* 0.17: the text of each key field (as in the text output), joined by
 * ",", as one JSON string: @m[1, "a"] is "1,a". */
static int json_key(struct rt_ctx *c, struct rt_sbuf *b, const struct pd_map *m, const void *key)
{
	const struct pd_layout *k = &m->key;
	struct rt_sbuf t = { 0 };
	int err = 0;

	rt_sbuf_put(&t, "", 0);
	if (k->kind != PD_TUPLE)
		err = rt_format_value(c, &t, k, key, m->key_size, true);
	for (uint32_t i = 0; k->kind == PD_TUPLE && i < k->nfields && !err; i++) {
		if (i)
			rt_sbuf_puts(&t, ",");
		err = rt_format_value(c, &t, &k->fields[i], (const uint8_t *)key + k->offset,
				      k->size, true);
	}
	err = err ?: t.err;
	if (!err) {
		json_str(b, t.s, t.len);
		rt_sbuf_puts(b, ": ");
	}
	rt_sbuf_free(&t);
	return err;
}

static int json_entry_value(struct rt_ctx *c, struct rt_sbuf *b, const struct pd_map *m,
			    const struct rt_map_entry *e, int64_t div)
{
	const uint8_t *v = e->value;

	switch (m->agg) {
	case PD_AGG_COUNT:
		rt_sbuf_printf(b, "%" PRIu64, (uint64_t)rt_get_i64(v) / (uint64_t)div);
		return 0;
	case PD_AGG_SUM:
	case PD_AGG_MIN:
	case PD_AGG_MAX:
		rt_sbuf_printf(b, "%" PRId64, rt_get_i64(v) / div);
		return 0;
	case PD_AGG_AVG:
		rt_sbuf_printf(b, "%" PRId64, rt_avg_of(v) / div);
		return 0;
	case PD_AGG_STATS:
		rt_sbuf_printf(b,
			       "{\"count\": %" PRId64 ", \"average\": %" PRId64
			       ", \"total\": %" PRId64 "}",
			       rt_get_i64(v + 8), rt_avg_of(v), rt_get_i64(v));
		return 0;
	case PD_AGG_HIST:
		json_hist(b, (const uint64_t *)v, m->nbuckets, (uint64_t)div);
		return 0;
	case PD_AGG_LHIST:
		json_lhist(b, (const uint64_t *)v, m->nbuckets, m->lhist_min, m->lhist_max,
			   m->lhist_step);
		return 0;
	default:
		break;
	}
	if (m->value.kind == PD_INT && div != 1) {
		rt_format_int_value(b, m, e, div);
		return 0;
	}
	return rt_format_value_json(c, b, &m->value, v, m->value_size);
}

static const char *map_type(const struct pd_map *m)
{
	switch (m->agg) {
	case PD_AGG_HIST:
	case PD_AGG_LHIST:
		return "hist";
	case PD_AGG_AVG:
	case PD_AGG_STATS:
		return "stats";
	default:
		return "map";
	}
}

int rt_json_map_format(struct rt_ctx *c, struct rt_sbuf *b, const struct pd_map *m,
		       const struct rt_map_entry *e, size_t n, int64_t div)
{
	const char *name = m->name ?: "@";
	bool keyed = m->key.kind != PD_NONE;
	int err = 0;

	if (!n)
		return 0;
	rt_sbuf_printf(b, "{\"type\": \"%s\", \"data\": {", map_type(m));
	json_str(b, name, strlen(name));
	rt_sbuf_puts(b, keyed ? ": {" : ": ");
	for (size_t i = 0; i < n && !err; i++) {
		if (i)
			rt_sbuf_puts(b, ", ");
		if (keyed)
			err = json_key(c, b, m, e[i].key);
		err = err ?: json_entry_value(c, b, m, &e[i], div);
	}
	rt_sbuf_puts(b, keyed ? "}}}\n" : "}}\n");
	return err ?: b->err;
}

/* ---- the writer ------------------------------------------------------- */

static void json_attached(struct rt_writer *w, uint64_t n)
{
	rt_sbuf_printf(&w->buf,
		       "{\"type\": \"attached_probes\", \"data\": {\"probes\": %" PRIu64 "}}\n", n);
	rt_writer_emit(w);
}

static const char *const msg_names[] = {
	[RT_MSG_PRINTF] = "printf",
	[RT_MSG_TIME] = "time",
	[RT_MSG_CAT] = "cat",
	[RT_MSG_SYSCALL] = "syscall",
	[RT_MSG_JOIN] = "join",
};

static void json_message(struct rt_writer *w, enum rt_msg type, const char *s, size_t n)
{
	rt_sbuf_printf(&w->buf, "{\"type\": \"%s\", \"data\": ", msg_names[type]);
	json_str(&w->buf, s, n);
	rt_sbuf_puts(&w->buf, "}\n");
	rt_writer_emit(w);
}

static int json_value(struct rt_writer *w, struct rt_ctx *c, const struct pd_layout *l,
		      const void *data, size_t size)
{
	int err;

	rt_sbuf_puts(&w->buf, "{\"type\": \"value\", \"data\": ");
	err = rt_format_value_json(c, &w->buf, l, data, size);
	if (err) {
		w->buf.len = 0;
		return err;
	}
	rt_sbuf_puts(&w->buf, "}\n");
	return rt_writer_emit(w);
}

static int json_map(struct rt_writer *w, struct rt_ctx *c, const struct pd_map *m,
		    const struct rt_map_entry *e, size_t n, int64_t div)
{
	int err = rt_json_map_format(c, &w->buf, m, e, n, div);

	if (err) {
		w->buf.len = 0;
		w->buf.err = 0;
		return err;
	}
	return rt_writer_emit(w);
}

static void json_maps_begin(struct rt_writer *w)
{
	(void)w;
}

static void json_lost(struct rt_writer *w, uint64_t n)
{
	rt_sbuf_printf(&w->buf,
		       "{\"type\": \"lost_events\", \"data\": {\"events\": %" PRIu64 "}}\n", n);
	rt_writer_emit(w);
}

/* 0.17's shape: no "data" member, the fields at the top level. */
static void json_helper_error(struct rt_writer *w, const struct pd_helper_error *e, int retcode)
{
	rt_sbuf_puts(&w->buf, "{\"type\": \"helper_error\", \"helper\": ");
	json_str(&w->buf, e->helper, strlen(e->helper));
	rt_sbuf_printf(&w->buf, ", \"retcode\": %d, \"line\": %u, \"col\": %u}\n", retcode,
		       e->line, e->col);
	rt_writer_emit(w);
}

/* trace's own record (0.17 has none): the lost_events shape */
static void json_map_full(struct rt_writer *w, const struct pd_map *m, uint64_t dropped)
{
	rt_sbuf_puts(&w->buf, "{\"type\": \"map_full\", \"data\": {\"map\": ");
	json_str(&w->buf, m->name, strlen(m->name));
	rt_sbuf_printf(&w->buf, ", \"dropped\": %" PRIu64 ", \"max_entries\": %u}}\n", dropped,
		       m->max_entries);
	rt_writer_emit(w);
}

const struct rt_writer_ops rt_json_writer = {
	.attached_probes = json_attached,
	.message = json_message,
	.value = json_value,
	.map = json_map,
	.maps_begin = json_maps_begin,
	.lost_events = json_lost,
	.helper_error = json_helper_error,
	.map_full = json_map_full,
};
