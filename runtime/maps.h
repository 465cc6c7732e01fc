/* maps.h: reading script maps, merging per-CPU values, printing them.
 *
 * In: the map fds in rt_output and their pd_map layouts. Out: bpftrace
 * 0.17's text for print(@m), for the maps printed at exit, and the effect
 * of clear(@m) and zero(@m).
 * Does not: create or pin maps, or print JSON (TODO(#json)).
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

#include "runtime/output.h"

/* print(@m, top, div); top <= 0 prints every entry, div <= 0 means 1. */
int rt_map_print(struct rt_output *o, int map, int64_t top, int64_t div);
/* At exit: "\n\n", then every user map in name order (strcmp), empty ones
 * included (they print as blank lines, as in bpftrace 0.17). */
int rt_maps_print_all(struct rt_output *o);
/* clear(@m) deletes every key; zero(@m) keeps the keys, values all 0. */
int rt_map_clear(struct rt_output *o, int map);
int rt_map_zero(struct rt_output *o, int map);

/* Pure parts (no fds; the unit tests drive these). */

/* Bytes per CPU in a per-CPU lookup (value_size rounded up to 8). */
size_t rt_percpu_stride(const struct pd_map *m);
/* Folds ncpus per-CPU values (stride rt_percpu_stride apart) into one
 * merged value of m->value_size bytes. -EINVAL if the layout is too small
 * for its aggregation. */
int rt_agg_merge(const struct pd_map *m, const void *percpu, uint32_t ncpus, void *merged);

struct rt_map_entry {
	const void *key;   /* m->key_size bytes */
	const void *value; /* merged, m->value_size bytes */
	int64_t sort;	   /* filled in by rt_map_format */
};

/* Sorts entries as bpftrace does and appends the text of
 * print(@m, top, div) to b. Entries are reordered. */
int rt_map_format(struct rt_output *o, struct rt_sbuf *b, const struct pd_map *m,
		  struct rt_map_entry *e, size_t n, int64_t top, int64_t div);

/* The table of one hist()/lhist() value, nothing if every bucket is 0. */
void rt_hist_format(struct rt_sbuf *b, const uint64_t *buckets, uint32_t nbuckets, uint64_t div);
void rt_lhist_format(struct rt_sbuf *b, const uint64_t *buckets, uint32_t nbuckets, int64_t min,
		     int64_t max, int64_t step);

#endif
