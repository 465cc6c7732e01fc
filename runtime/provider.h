/* provider.h: the table of probe providers.
 *
 * One row per provider (canonical name, aliases): what its attach point
 * looks like (is the first part a path, how many parts), how the compiler
 * resolves it (compiler/probes.c dispatches on `resolve`), the section and
 * program type of its BPF program (compiler/object.c), which builtins it
 * offers (stdlib/builtins.c asks `builtins`), and how the runtime attaches
 * it (runtime/loader.c dispatches on `attach`). A new probe type or
 * variant that reuses a resolver and an attacher is one row.
 *
 * It lives in runtime/ because both sides read it and the runtime may
 * include nothing from compiler/; it is data only and depends on
 * progdesc.h alone.
 */
#ifndef TRACE_PROVIDER_H
#define TRACE_PROVIDER_H

#include <stdbool.h>

#include "runtime/progdesc.h"

enum pv_resolve {
	PV_RESOLVE_UNSUPPORTED, /* parsed, "not supported yet" */
	PV_RESOLVE_SPECIAL,	/* BEGIN, END: no attach point */
	PV_RESOLVE_TRACEPOINT,	/* tracefs categories and events */
	PV_RESOLVE_TIMER,	/* UNIT:N */
	PV_RESOLVE_PERF,	/* software/hardware EVENT[:COUNT] */
	PV_RESOLVE_KFUNC,	/* kernel functions (kallsyms, BTF) */
	PV_RESOLVE_FUNCTION,	/* [TARGET:]FUNC as written */
	PV_RESOLVE_UPROBE,	/* FILE:FUNC through the ELF (compiler/uelf.c) */
	PV_RESOLVE_USDT,	/* FILE:[PROVIDER:]NAME from .note.stapsdt */
	PV_RESOLVE_ITER,	/* BTF's bpf_iter__NAME */
};

enum pv_attach {
	PV_ATTACH_NONE,	      /* run by the runtime (BEGIN, END) */
	PV_ATTACH_TRACEPOINT, /* perf tracepoint, or raw syscall tracepoints */
	PV_ATTACH_RAWTP,
	PV_ATTACH_PERF,	  /* perf events per CPU */
	PV_ATTACH_KPROBE, /* kprobe, kprobe_multi */
	PV_ATTACH_UPROBE, /* uprobe by path and function or offset */
	PV_ATTACH_TRACE,  /* fentry/fexit trampolines */
	PV_ATTACH_ITER,	  /* iterator link, read once after BEGIN */
};

/* Builtins a provider offers (stdlib/builtins.c). */
enum {
	PV_B_REGS = 1u << 0,	  /* pt_regs context: arg0..5, retval (return probes) */
	PV_B_RETURN = 1u << 1,	  /* a return probe: retval, no argN */
	PV_B_U64ARGS = 1u << 2,	  /* u64 argument array (typed `args` from BTF) */
	PV_B_FUNC = 1u << 3,	  /* `func` */
	PV_B_USER_PTRS = 1u << 4, /* integers cast to pointers are user pointers */
};

struct provider {
	const char *name;	/* canonical, as ast.h's attach.provider */
	const char *aliases[3]; /* other spellings; case matters ("U" is usdt) */
	enum pd_probe_kind kind;
	bool path_part; /* first part is a file: may hold '/', and a
				   lone part keeps its "+..." */
	int parts;	/* PV_RESOLVE_FUNCTION: ':'-separated parts it
				   wants (one more, before them, is optional);
				   0: the resolver checks its own */
	enum pv_resolve resolve;
	const char *section;	   /* ELF section; one ending in '/' is
				      followed by the function */
	const char *multi_section; /* section of a multi-attach program, or NULL */
	int prog_type;		   /* enum bpf_prog_type libbpf infers from section */
	unsigned builtins;	   /* PV_B_* */
	enum pv_attach attach;
};

/* By canonical or written name (alias); NULL if unknown. */
const struct provider *pv_by_name(const char *name);
/* By the kind of a resolved probe; never NULL for a valid kind. */
const struct provider *pv_by_kind(enum pd_probe_kind kind);
/* The i-th (from 0) spelling of any provider, name and aliases, for
 * "did you mean" hints; NULL past the last. */
const char *pv_spelling(int i);
/* Does the written provider name (len bytes at s) take a path part? */
bool pv_is_path_provider(const char *s, int len);

#endif
