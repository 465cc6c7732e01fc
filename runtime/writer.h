/* writer.h: the output layer, values to bytes on a FILE, one writer per
 * format.
 *
 * In: the values of the run, already read and in order: the number of
 * attached probes, printf/time/cat/system text, print(value) bytes, a
 * map's entries (sorted, merged over CPUs, cut to print()'s top), lost
 * event counts, helper errors. Out: one record per call on w->out, in
 * bpftrace 0.17's text (writer_text.c) or JSON (writer_json.c) form;
 * docs/output-format.md has both, rule by rule.
 * Does not: read maps or records (maps.h, output.h), sort, or decide
 * what to print; it only decides how.
 *
 * Layering, each file using only those before it:
 *   sbuf -> format (values, printf) -> writer, writer_text, writer_json
 *        -> maps (read, merge, sort, clear, zero) -> output (records)
 *        -> loader
 */
#ifndef TRACE_RUNTIME_WRITER_H
#define TRACE_RUNTIME_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/format.h"
#include "runtime/progdesc.h"
#include "runtime/sbuf.h"

/* Text records: bpftrace 0.17's MessageType names them in JSON. */
enum rt_msg {
	RT_MSG_PRINTF,	/* "printf" */
	RT_MSG_TIME,	/* "time" */
	RT_MSG_CAT,	/* "cat" */
	RT_MSG_SYSCALL, /* "syscall": system()'s output */
	RT_MSG_JOIN,	/* "join" */
};

enum rt_format {
	RT_FORMAT_TEXT,
	RT_FORMAT_JSON,
};

/* One map entry: key and merged value (maps.h has the layouts). */
struct rt_map_entry {
	const void *key;   /* m->key_size bytes */
	const void *value; /* merged, m->value_size bytes */
	int64_t sort;	   /* the number it sorted by (maps.c) */
};

struct rt_writer;

struct rt_writer_ops {
	void (*attached_probes)(struct rt_writer *w, uint64_t n);
	void (*message)(struct rt_writer *w, enum rt_msg type, const char *s, size_t n);
	/* print(value) */
	int (*value)(struct rt_writer *w, struct rt_ctx *c, const struct pd_layout *l,
		     const void *data, size_t size);
	/* print(@m) and the maps at exit: the entries to print, in order;
	 * div as print() gave it (>= 1; the writer applies it per kind) */
	int (*map)(struct rt_writer *w, struct rt_ctx *c, const struct pd_map *m,
		   const struct rt_map_entry *e, size_t n, int64_t div);
	/* before the maps printed at exit */
	void (*maps_begin)(struct rt_writer *w);
	void (*lost_events)(struct rt_writer *w, uint64_t n);
	/* a BPF helper failed (-k, -kk): the call site and its return value */
	void (*helper_error)(struct rt_writer *w, const struct pd_helper_error *e, int retcode);
	/* at exit: `dropped` updates of map m were refused, the map being full */
	void (*map_full)(struct rt_writer *w, const struct pd_map *m, uint64_t dropped);
};

struct rt_writer {
	const struct rt_writer_ops *ops;
	enum rt_format format;
	FILE *out;
	struct rt_sbuf buf; /* the record being written */
	bool flush_each;    /* fflush after every record (JSON: jq follows live) */
	bool flush_batches; /* fflush after each batch of records (rt_writer_flush) */
};

/* Buffering modes (-B): RT_BUF_DEFAULT is line-at-a-batch for text and
 * per record for JSON. */
enum rt_buffering {
	RT_BUF_DEFAULT,
	RT_BUF_NONE, /* every write goes out at once (setvbuf _IONBF) */
	RT_BUF_LINE, /* line buffered (_IOLBF) */
	RT_BUF_FULL, /* fully buffered: written when the buffer fills, and at exit */
};

void rt_writer_init(struct rt_writer *w, FILE *out, enum rt_format format,
		    enum rt_buffering buffering);
void rt_writer_fini(struct rt_writer *w);
/* The loop calls this after each batch of records it drained. */
void rt_writer_flush(struct rt_writer *w);

/* Writes w->buf (if it holds no allocation error) and empties it; then
 * flushes if flush_each. Returns 0 or the buffer's -ENOMEM. */
int rt_writer_emit(struct rt_writer *w);

/* Shared by both writers. */
int64_t rt_get_i64(const void *p);
int64_t rt_avg_of(const void *v); /* {int64 total; uint64 count} */
/* First and last non-zero bucket (-1 if none) and the largest count. */
void rt_hist_range(const uint64_t *v, uint32_t nb, int64_t *lo, int64_t *hi, uint64_t *max);
/* The text of an integer map value (AGG_NONE, PD_INT) divided by div. */
void rt_format_int_value(struct rt_sbuf *b, const struct pd_map *m, const struct rt_map_entry *e,
			 int64_t div);

extern const struct rt_writer_ops rt_text_writer;
extern const struct rt_writer_ops rt_json_writer;

/* Text tables of one hist()/lhist() value, nothing if every bucket is 0. */
void rt_hist_format(struct rt_sbuf *b, const uint64_t *buckets, uint32_t nbuckets, uint64_t div);
void rt_lhist_format(struct rt_sbuf *b, const uint64_t *buckets, uint32_t nbuckets, int64_t min,
		     int64_t max, int64_t step);
/* The text of one map's entries, as print(@m) writes it (no I/O). */
int rt_text_map_format(struct rt_ctx *c, struct rt_sbuf *b, const struct pd_map *m,
		       const struct rt_map_entry *e, size_t n, int64_t div);
/* The JSON object of one map ({"type": "map", ...}\n; nothing if n is 0). */
int rt_json_map_format(struct rt_ctx *c, struct rt_sbuf *b, const struct pd_map *m,
		       const struct rt_map_entry *e, size_t n, int64_t div);

#endif
