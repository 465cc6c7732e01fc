/* cgroup.h: cgroup ids to paths, as bpftrace's cgroup_path() prints them.
 *
 * In: a cgroup id (the kernfs node id that bpf_get_current_cgroup_id and
 * name_to_handle_at give) and a hierarchy filter. Out: "name:/path,..."
 * for every mounted cgroup hierarchy that has a node with that id.
 * Does not: cache (each call walks the hierarchies again).
 */
#ifndef TRACE_RUNTIME_CGROUP_H
#define TRACE_RUNTIME_CGROUP_H

#include <stdint.h>

#include "runtime/sbuf.h"

/* The id of the cgroup file system node at path (name_to_handle_at, the
 * way bpftrace's cgroupid() reads it). Returns 0 or -errno (-EOVERFLOW:
 * not a cgroup file system, whose handles are 8 bytes). */
int rt_cgroupid(const char *path, uint64_t *id);

/* Appends bpftrace 0.17's cgroup_path(id, filter) text to b: for each
 * hierarchy (cgroup2 first, named "unified", then the v1 ones sorted by
 * name) whose name matches the glob filter (NULL: all), "name:/path" of
 * the first node in a pre-order walk (files too, as 0.17) whose id is id;
 * joined with ",". */
void rt_cgroup_path(struct rt_sbuf *b, uint64_t id, const char *filter);

#endif
