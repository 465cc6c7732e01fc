/* writer_text.c: the text writer, bpftrace 0.17's output byte for byte.
 *
 * In: the values of writer.h. Out: text on w->out
 * (docs/output-format.md, "Map printing" and "Records").
 * Does not: sort or select entries (maps.c), flush per record (the loop
 * flushes per batch, writer.c).
 */
#include <inttypes.h>
#include <string.h>

#include "runtime/writer.h"

#define BAR_WIDTH 52

static const char bar_chars[] = "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@";

/* ---- hist and lhist tables -------------------------------------------- */

static void hist_row(struct rt_sbuf *b, const char *label, uint64_t shown, uint64_t v, uint64_t max)
{
	/* bpftrace: int bar_width = values.at(i)/(float)max_value*max_width */
	int bar = (int)((float)v / (float)max * BAR_WIDTH);

	rt_sbuf_printf(b, "%-16s%8" PRIu64 " |%-*.*s|\n", label, shown, BAR_WIDTH, bar, bar_chars);
}

/* 2^power with bpftrace's suffixes: 512, 1K, 2M, 4G, 8T, ... */
static void hist_label(char *buf, size_t len, uint32_t power)
{
	static const char suffix[] = " KMGTPE";
	uint32_t s = power / 10 < 6 ? power / 10 : 6;

	if (s)
		snprintf(buf, len, "%" PRIu64 "%c", (uint64_t)1 << (power - s * 10), suffix[s]);
	else
		snprintf(buf, len, "%" PRIu64, (uint64_t)1 << power);
}

void rt_hist_format(struct rt_sbuf *b, const uint64_t *v, uint32_t nb, uint64_t div)
{
	int64_t lo, hi;
	uint64_t max;

	rt_hist_range(v, nb, &lo, &hi, &max);
	for (int64_t i = lo; hi >= 0 && i <= hi && i < 66; i++) {
		char label[64], a[24], c[24];

		if (i <= 2) {
			snprintf(label, sizeof(label), "%s",
				 i == 0 ? "(..., 0)" :
				 i == 1 ? "[0]" :
					  "[1]");
		} else {
			hist_label(a, sizeof(a), (uint32_t)i - 2);
			hist_label(c, sizeof(c), (uint32_t)i - 1);
			snprintf(label, sizeof(label), "[%s, %s)", a, c);
		}
		hist_row(b, label, v[i] / (div ? div : 1), v[i], max);
	}
}

/* lhist bounds: 0, else whole M or K, else the number (bpftrace's
 * lhist_index_label). */
static void lhist_label(char *buf, size_t len, int64_t n)
{
	if (n != 0 && n % 1048576 == 0)
		snprintf(buf, len, "%" PRId64 "M", n / 1048576);
	else if (n != 0 && n % 1024 == 0)
		snprintf(buf, len, "%" PRId64 "K", n / 1024);
	else
		snprintf(buf, len, "%" PRId64, n);
}

void rt_lhist_format(struct rt_sbuf *b, const uint64_t *v, uint32_t nb, int64_t min, int64_t max,
		     int64_t step)
{
	int64_t lo, hi;
	uint64_t top;

	rt_hist_range(v, nb, &lo, &hi, &top);
	for (int64_t i = lo; hi >= 0 && i <= hi; i++) {
		char label[64], a[24], c[24];

		if (i == 0) {
			lhist_label(a, sizeof(a), min);
			snprintf(label, sizeof(label), "(..., %s)", a);
		} else if (i == (int64_t)nb - 1) {
			lhist_label(a, sizeof(a), max);
			snprintf(label, sizeof(label), "[%s, ...)", a);
		} else {
			lhist_label(a, sizeof(a), (i - 1) * step + min);
			lhist_label(c, sizeof(c), i * step + min);
			snprintf(label, sizeof(label), "[%s, %s)", a, c);
		}
		hist_row(b, label, v[i], v[i], top);
	}
}

/* ---- one map's text --------------------------------------------------- */

/* "[k]" or "[k1, k2]"; nothing for a scalar map. Stacks indent 4. */
static int format_key(struct rt_ctx *c, struct rt_sbuf *b, const struct pd_map *m, const void *key)
{
	const struct pd_layout *k = &m->key;
	int err = 0;

	if (k->kind == PD_NONE)
		return 0;
	rt_sbuf_puts(b, "[");
	if (k->kind != PD_TUPLE)
		err = rt_format_value(c, b, k, key, m->key_size, true);
	for (uint32_t i = 0; k->kind == PD_TUPLE && i < k->nfields && !err; i++) {
		if (i)
			rt_sbuf_puts(b, ", ");
		err = rt_format_value(c, b, &k->fields[i], (const uint8_t *)key + k->offset,
				      k->size, true);
	}
	rt_sbuf_puts(b, "]");
	return err;
}

static int format_entry_value(struct rt_ctx *c, struct rt_sbuf *b, const struct pd_map *m,
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
		rt_sbuf_printf(b, "count %" PRId64 ", average %" PRId64 ", total %" PRId64,
			       rt_get_i64(v + 8), rt_avg_of(v), rt_get_i64(v));
		return 0;
	case PD_AGG_HIST:
		rt_sbuf_puts(b, "\n");
		rt_hist_format(b, (const uint64_t *)e->value, m->nbuckets, (uint64_t)div);
		return 0;
	case PD_AGG_LHIST: /* print()'s div does not apply to lhist in 0.17 */
		rt_sbuf_puts(b, "\n");
		rt_lhist_format(b, (const uint64_t *)e->value, m->nbuckets, m->lhist_min,
				m->lhist_max, m->lhist_step);
		return 0;
	default:
		break;
	}
	if (m->value.kind == PD_INT && div != 1) {
		rt_format_int_value(b, m, e, div);
		return 0;
	}
	return rt_format_value(c, b, &m->value, v, m->value_size, false);
}

/* bpftrace 0.17 joins entries with "\n", except that maps whose values are
 * stacks, symbols or addresses are joined with nothing at all (so two
 * ksym() values print on one line: "@v[1]: vfs_read@v[2]: vfs_write"). */
static const char *entry_separator(const struct pd_map *m)
{
	if (m->agg != PD_AGG_NONE)
		return "\n";
	switch (m->value.kind) {
	case PD_KSTACK:
	case PD_USTACK:
	case PD_KSYM:
	case PD_USYM:
	case PD_INET:
		return "";
	default:
		return "\n";
	}
}

int rt_text_map_format(struct rt_ctx *c, struct rt_sbuf *b, const struct pd_map *m,
		       const struct rt_map_entry *e, size_t n, int64_t div)
{
	int err = 0;

	for (size_t i = 0; i < n && !err; i++) {
		if (i)
			rt_sbuf_puts(b, entry_separator(m));
		rt_sbuf_puts(b, m->name ?: "@");
		err = format_key(c, b, m, e[i].key);
		rt_sbuf_puts(b, ": ");
		err = err ?: format_entry_value(c, b, m, &e[i], div);
	}
	rt_sbuf_puts(b, "\n");
	if (m->agg == PD_AGG_AVG || m->agg == PD_AGG_STATS)
		rt_sbuf_puts(b, "\n");
	return err ?: b->err;
}

/* ---- the writer ------------------------------------------------------- */

static void text_attached(struct rt_writer *w, uint64_t n)
{
	rt_sbuf_printf(&w->buf, "Attaching %" PRIu64 " probe%s...\n", n, n == 1 ? "" : "s");
	rt_writer_emit(w);
}

/* printf, time, cat, system: the text as it is, straight from the
 * caller's buffer (the hot path of printf: no copy) */
static void text_message(struct rt_writer *w, enum rt_msg type, const char *s, size_t n)
{
	if (n)
		fwrite(s, 1, n, w->out);
	if (type == RT_MSG_JOIN) /* a line of its own; JSON's data has no newline */
		fputc('\n', w->out);
	if (w->flush_each)
		fflush(w->out);
}

static int text_value(struct rt_writer *w, struct rt_ctx *c, const struct pd_layout *l,
		      const void *data, size_t size)
{
	int err = rt_format_value(c, &w->buf, l, data, size, false);

	if (err) {
		w->buf.len = 0;
		return err;
	}
	rt_sbuf_puts(&w->buf, "\n");
	return rt_writer_emit(w);
}

static int text_map(struct rt_writer *w, struct rt_ctx *c, const struct pd_map *m,
		    const struct rt_map_entry *e, size_t n, int64_t div)
{
	int err = rt_text_map_format(c, &w->buf, m, e, n, div);

	if (err) {
		w->buf.len = 0;
		w->buf.err = 0;
		return err;
	}
	return rt_writer_emit(w);
}

static void text_maps_begin(struct rt_writer *w)
{
	rt_sbuf_puts(&w->buf, "\n\n");
	rt_writer_emit(w);
}

static void text_lost(struct rt_writer *w, uint64_t n)
{
	rt_sbuf_printf(&w->buf, "Lost %" PRIu64 " events\n", n);
	rt_writer_emit(w);
}

/* 0.17 logs "Failed to HELPER: strerror (RET)" as a warning at the
 * call's location, into the output stream:
 *   stdin:1:37-38: WARNING: Failed to map_update_elem: Argument list too long (-7)
 *   <source line>
 *   <spaces>~ */
static void text_helper_error(struct rt_writer *w, const struct pd_helper_error *e, int retcode)
{
	rt_sbuf_printf(&w->buf, "%s: WARNING: Failed to %s: ", e->where, e->helper);
	if (retcode < 0)
		rt_sbuf_printf(&w->buf, "%s (%d)\n", strerror(-retcode), retcode);
	else
		rt_sbuf_printf(&w->buf, "%d\n", retcode);
	rt_sbuf_puts(&w->buf, e->context ?: "");
	rt_writer_emit(w);
}

/* Not in 0.17 (it drops such updates silently): a warning on stderr,
 * where "WARNING: N events lost" goes too, not into the output. */
static void text_map_full(struct rt_writer *w, const struct pd_map *m, uint64_t dropped)
{
	(void)w;
	fprintf(stderr,
		"WARNING: map %s is full: %" PRIu64 " update%s dropped (%u key%s; raise "
		"BPFTRACE_MAP_KEYS_MAX)\n",
		m->name, dropped, dropped == 1 ? "" : "s", m->max_entries,
		m->max_entries == 1 ? "" : "s");
}

const struct rt_writer_ops rt_text_writer = {
	.attached_probes = text_attached,
	.message = text_message,
	.value = text_value,
	.map = text_map,
	.maps_begin = text_maps_begin,
	.lost_events = text_lost,
	.helper_error = text_helper_error,
	.map_full = text_map_full,
};
