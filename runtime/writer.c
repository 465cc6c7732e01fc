/* writer.c: what the text and JSON writers share: setting up the FILE's
 * buffering, writing one record, and reading merged aggregation values.
 *
 * In: a finished record in w->buf. Out: its bytes on w->out.
 * Does not: format anything itself (writer_text.c, writer_json.c).
 */
#include "runtime/writer.h"

#include <inttypes.h>
#include <string.h>

void rt_writer_init(struct rt_writer *w, FILE *out, enum rt_format format,
		    enum rt_buffering buffering)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
	w->format = format;
	w->ops = format == RT_FORMAT_JSON ? &rt_json_writer : &rt_text_writer;
	/* default: text goes out after each batch of records the loop drains,
	 * JSON after each record, so that `jq` sees every object at once */
	w->flush_batches = buffering != RT_BUF_FULL;
	w->flush_each = format == RT_FORMAT_JSON && buffering != RT_BUF_FULL;
	if (buffering == RT_BUF_NONE)
		setvbuf(out, NULL, _IONBF, 0);
	else if (buffering == RT_BUF_LINE)
		setvbuf(out, NULL, _IOLBF, BUFSIZ);
	else if (buffering == RT_BUF_FULL)
		setvbuf(out, NULL, _IOFBF, BUFSIZ);
}

void rt_writer_fini(struct rt_writer *w)
{
	if (w->out)
		fflush(w->out);
	rt_sbuf_free(&w->buf);
}

void rt_writer_flush(struct rt_writer *w)
{
	if (w->flush_batches)
		fflush(w->out);
}

int rt_writer_emit(struct rt_writer *w)
{
	int err = w->buf.err;

	if (!err && w->buf.len)
		fwrite(w->buf.s, 1, w->buf.len, w->out);
	w->buf.len = 0;
	w->buf.err = 0;
	if (w->flush_each)
		fflush(w->out);
	return err;
}

int64_t rt_get_i64(const void *p)
{
	int64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int64_t rt_avg_of(const void *v)
{
	int64_t total = rt_get_i64(v), count = rt_get_i64((const uint8_t *)v + 8);

	return count ? total / count : 0;
}

void rt_hist_range(const uint64_t *v, uint32_t nb, int64_t *lo, int64_t *hi, uint64_t *max)
{
	*lo = *hi = -1;
	*max = 0;
	for (uint32_t i = 0; i < nb; i++) {
		if (v[i] > 0) {
			*lo = *lo < 0 ? i : *lo;
			*hi = i;
		}
		*max = v[i] > *max ? v[i] : *max;
	}
}

void rt_format_int_value(struct rt_sbuf *b, const struct pd_map *m, const struct rt_map_entry *e,
			 int64_t div)
{
	uint64_t x = 0;

	memcpy(&x, (const uint8_t *)e->value + m->value.offset,
	       m->value.size <= 8 ? m->value.size : 8);
	if (m->value.is_signed)
		rt_sbuf_printf(b, "%" PRId64, e->sort / div);
	else
		rt_sbuf_printf(b, "%" PRIu64, x / (uint64_t)div);
}
