/* udwarf.h: a user function's parameters from DWARF (libdw), for a
 * uprobe's `args->NAME` and `-lv 'uprobe:FILE:FUNC'`.
 *
 * In: a binary's path (its own .debug_info; a separate debug file is not
 * looked for) and a function name. Out: the parameters in order, each
 * with its name, its C type as bpftrace 0.17 prints it ("long int",
 * "const char*", "<unknown type>*") and a trace type to read it as:
 * integers and enums by size and sign, pointers as user pointers to what
 * they point to (structs and unions as records with their DWARF layout,
 * void as uint8), anything else (structs by value, floats) as uint64.
 *
 * libdw is opened only when a script uses `args` in a uprobe, or -lv.
 */
#ifndef TRACE_UDWARF_H
#define TRACE_UDWARF_H

#include "compiler/arena.h"

struct type;

struct udwarf_param {
	const char *name;      /* "" for an unnamed parameter */
	const char *type_name; /* as bpftrace prints it */
	struct type *type;
};

/* The parameters of func in path. Returns their count (0: none), or
 * -ENOENT (no DWARF, or no definition of func with it: *why says which),
 * -errno when the file cannot be read. */
int udwarf_params(struct arena *a, const char *path, const char *func,
		  struct udwarf_param **out, const char **why);

#endif
