/* maps.h: reading script maps, merging per-CPU values, sorting them, and
 * handing them to a writer; clear() and zero().
 *
 * In: the map fds in rt_ctx and their pd_map layouts. Out: the entries of
 * print(@m) and of the maps printed at exit, in bpftrace 0.17's order,
 * given to a writer (writer.h, text or JSON); the effect of clear(@m) and
 * zero(@m).
 * Does not: create or pin maps, or format (writer_text.c, writer_json.c).
 *
 * A merged value has the layout of one CPU's value (progdesc.h):
 *   COUNT, SUM: int64; MIN, MAX: {int64 value; uint64 is_set};
 *   AVG, STATS: {int64 total; uint64 count}; HIST, LHIST: uint64[nbuckets];
 *   AGG_NONE: the map's value as stored.
 */
#ifndef TRACE_RUNTIME_MAPS_H
#define TRACE_RUNTIME_MAPS_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/format.h"
#include "runtime/writer.h"

/* print(@m, top, div); top <= 0 prints every entry, div <= 0 means 1. */
int rt_map_print(struct rt_ctx *c, struct rt_writer *w, int map, int64_t top, int64_t div);
/* At exit: the writer's maps_begin ("\n\n" in text), then every user map
 * in name order (strcmp), empty ones included (text prints them as blank
 * lines, as bpftrace 0.17; JSON prints nothing for them). */
int rt_maps_print_all(struct rt_ctx *c, struct rt_writer *w);
/* clear(@m) deletes every key; zero(@m) keeps the keys, values all 0. */
int rt_map_clear(struct rt_ctx *c, int map);
int rt_map_zero(struct rt_ctx *c, int map);

/* Pure parts (no fds; the unit tests drive these). */

/* Bytes per CPU in a per-CPU lookup (value_size rounded up to 8). */
size_t rt_percpu_stride(const struct pd_map *m);
/* Folds ncpus per-CPU values (stride rt_percpu_stride apart) into one
 * merged value of m->value_size bytes. -EINVAL if the layout is too small
 * for its aggregation. */
int rt_agg_merge(const struct pd_map *m, const void *percpu, uint32_t ncpus, void *merged);

/* Sorts entries as bpftrace does and hands print(@m, top, div)'s to the
 * writer: rt_map_print without the reading (fuzz_runtime drives it).
 * Entries are reordered. */
int rt_map_write(struct rt_ctx *c, struct rt_writer *w, const struct pd_map *m,
		 struct rt_map_entry *e, size_t n, int64_t top, int64_t div);

/* Sorts entries as bpftrace does and appends the text of
 * print(@m, top, div) to b. Entries are reordered. */
int rt_map_format(struct rt_ctx *c, struct rt_sbuf *b, const struct pd_map *m,
		  struct rt_map_entry *e, size_t n, int64_t top, int64_t div);

#endif
