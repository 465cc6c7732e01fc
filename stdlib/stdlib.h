/* stdlib.h: the registry of builtins and functions.
 *
 * Each entry keeps one feature in one place: its signature and type rule
 * (check, run by sema), its lowering to LLVM IR (lower, run by codegen) and,
 * through the record and layout kinds of runtime/progdesc.h, how the
 * runtime prints it. Adding a function means adding an entry here and its
 * hooks in one stdlib/ file.
 *
 * Values in IR: integers, pointers and the u64-sized kinds are i64
 * registers; strings, tuples and other aggregates are pointers to
 * zero-filled slots of type->size bytes (see compiler/codegen.h).
 */
#ifndef TRACE_STDLIB_H
#define TRACE_STDLIB_H

#include <llvm-c/Types.h>
#include <stdbool.h>

#include "compiler/ast.h"
#include "runtime/progdesc.h"

struct sema;
struct sema_map;
struct cg;

enum fn_flags {
	FN_AGG = 1,	/* an aggregation: only as `@map[...] = fn(...)` */
	FN_MAP_ARG = 2, /* first argument is a map (print, clear, delete) */
	FN_STMT = 4,	/* no value: only as a statement */
};

struct stdlib_fn {
	const char *name;
	int min_args, max_args;
	unsigned flags;
	enum pd_agg agg;
	struct type *(*check)(struct sema *s, struct node *call);
	LLVMValueRef (*lower)(struct cg *g, struct node *call);
	/* FN_AGG: update this CPU's value at `value` with the call's args */
	void (*lower_agg)(struct cg *g, struct node *call, LLVMValueRef value, struct sema_map *m);
};

struct stdlib_builtin {
	const char *name;
	struct type *(*check)(struct sema *s, struct node *n);
	LLVMValueRef (*lower)(struct cg *g, struct node *n);
};

const struct stdlib_fn *stdlib_find_fn(const char *name);
const struct stdlib_builtin *stdlib_find_builtin(const char *name);

/* Tables, one per stdlib file, ending with a NULL name. */
extern const struct stdlib_fn stdlib_agg_fns[];
extern const struct stdlib_fn stdlib_io_fns[];
extern const struct stdlib_fn stdlib_misc_fns[];
extern const struct stdlib_builtin stdlib_builtins[];

/* kstack/ustack of type t: the stack id (and pid for ustack). */
LLVMValueRef stdlib_lower_stack(struct cg *g, struct type *t);

/* HIST_NBUCKETS: compiler/codegen.h */

#endif
