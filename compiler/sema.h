/* sema.h: resolve probes, check types, collect map signatures.
 *
 * In: the AST of a whole script, kernel facts (tracepoint formats), the
 * positional parameters. Out: a type on every expression node, every map's
 * key and value signature, every attach point expanded (wildcards) into
 * concrete probes. Errors go to the diag; codegen runs only on a program
 * sema accepted, and must then never fail.
 *
 * A probe body is typed once per distinct context: a tracepoint body that
 * uses `args` is typed for each expanded tracepoint (field types differ),
 * so codegen re-types it (sema_type_probe) right before lowering each one.
 */
#ifndef TRACE_SEMA_H
#define TRACE_SEMA_H

#include "compiler/ast.h"
#include "compiler/diag.h"
#include "compiler/kernel_info.h"
#include "compiler/types.h"
#include "runtime/progdesc.h"

#define SEMA_DEFAULT_STRLEN 64 /* bpftrace's BPFTRACE_STRLEN default */
/* The largest per-CPU map value the kernel creates: PCPU_MIN_UNIT_SIZE,
 * PFN_ALIGN(32 KiB) (include/linux/percpu.h); htab and array maps refuse
 * round_up(value_size, 8) above it with E2BIG. Values too big for the
 * stack are built in a per-CPU scratch map, so no value, key or map value
 * can be larger; codegen checks the scratch map's total per probe. */
#define SEMA_PERCPU_VALUE_MAX (32 * 1024)
#define SEMA_MAX_UNROLL 100
/* iterations of a range loop (codegen bounds its counter by it) */
#define SEMA_MAX_RANGE 65536
/* for ($kv : @m) loops nested in one another */
#define SEMA_MAX_MAP_LOOPS 8

struct sema_map {
	const char *name;	 /* "@x" */
	struct node *first_use;	 /* where the signature was fixed */
	struct type *key;	 /* storage type; NULL for a scalar map */
	struct type *value;	 /* storage type, or TY_AGG */
	struct node *first_value; /* where the value type was fixed */
	int64_t lhist_min, lhist_max, lhist_step;
	uint32_t hist_k;
	int index;
	bool has_key_use, has_scalar_use;
	bool deleted; /* named by delete(): a keyless count() stays a hash map */
	/* let @m = lruhash(N);: the BPF map type and size declared, or 0 */
	uint32_t decl_type, decl_size;
	struct node *decl;
	bool saved_key_use, saved_scalar_use; /* across sema_type_probe's quiet walks */
	unsigned saved_walk; /* sema.save_walk when saved; saved_next links them */
	struct sema_map *saved_next;
	struct sema_map *next;
};

struct sema_var {
	const char *name; /* "$x" */
	struct type *type;
	struct node *decl;
	int depth; /* block depth of the declaring scope */
	void *cg;  /* codegen's slot for the current program */
	unsigned walk; /* sema's walk that made it (see sema_type_probe) */
	bool fixed;    /* let $x: TYPE: assignments convert to the declared type */
	bool untyped;  /* let $x; not assigned yet: the first assignment types it */
	/* used in the body of a for ($kv : @m) loop declared outside it:
	 * codegen keeps it in the scratch value, not on the stack (the
	 * verifier tracks stack slots exactly through the callback's
	 * iterations, and one changed and branched on in every iteration
	 * made it walk the body once per value: "sequence of 8193 jumps") */
	bool in_map_loop;
	struct type *prev_type; /* untyped: the type the previous walk ended with */
	struct sema_var *next;
};

/* One concrete attach point: an N_ATTACH after wildcard expansion. */
struct sema_probe {
	struct node *probe;  /* N_PROBE */
	struct node *attach; /* N_ATTACH */
	enum pd_probe_kind kind;
	const char *name; /* "tracepoint:syscalls:sys_enter_openat" */
	const char *target, *func, *provider;
	uint64_t offset, period_ns, freq, sample_period;
	uint32_t perf_config;
	struct type *ctx;  /* TY_CTX of `args`, when the probe has one */
	bool user_ptrs;	   /* pointer args point into user memory */
	int index;	   /* position in sema.probes */
	int group;	   /* expansions sharing one program have one group */
	/* kprobes of a group: attached as one kprobe_multi link (multi);
	 * `probe` read from the attach cookie (probe_cookie) */
	bool multi, probe_cookie;
	bool file_offset; /* uprobes: offset is the code's file offset (uelf.c) */
	uint64_t ref_ctr_off; /* usdt: the semaphore's file offset, 0 if none */
	const char *usdt_args; /* usdt: this location's argument specs */
	int probe_id;	      /* what `probe` yields: index, or the index of the
				 first location of the same USDT probe */
	/* "sys_enter"/"sys_exit": the group is attached once, as this raw
	 * tracepoint, and its program filters on the syscall number sys_nr */
	const char *raw_syscall;
	int sys_nr;
	/* blocks on one crowded tracepoint share programs (probes.c,
	 * chain_crowded): the lead's program runs the next block's body after
	 * its own (chain); a chained probe is not attached itself */
	struct sema_probe *chain;
	bool chained;
	struct sema_probe *next;
};

struct hdr_struct;
struct hdr_rec {
	const struct hdr_struct *hs;
	struct type *t;
	struct hdr_rec *next;
};

struct sema_opts {
	const char **params; /* positional parameters $1.. */
	int nparams;
	uint32_t strlen;     /* string size (default 64) */
	uint32_t map_keys_max; /* entries of a keyed map (default 4096) */
	enum pd_stack_mode stack_mode; /* kstack/ustack without a mode (STACK_MODE) */
	bool unsafe;	     /* --unsafe: system() and friends allowed */
	bool will_attach;    /* probes will be attached: a mechanism the kernel
				lacks is an error now (not for -d or --dry-run) */
	bool has_child;	     /* -c CMD: `cpid` exists */
	pid_t pid;	     /* -p PID: uprobe targets resolved in its mappings */
	/* structs and unions of #included headers (headers.h's
	 * hdr_struct_lookup), or NULL */
	const struct hdr_struct *(*hdr_struct)(const char *name);
};

struct sema {
	struct arena *arena;
	struct diag *diag;
	struct kernel_info *ki;
	struct sema_opts opts;
	struct node *program;
	struct hdr_rec *hdr_recs; /* header structs converted so far */
	struct sema_map *maps;	/* in order of first use */
	struct sema_map **maps_tail;
	struct sema_map **map_table; /* open addressing by name, for lookups */
	uint32_t map_cap;
	int nmaps;
	struct kbtf *btf;	/* the kernel's types, opened on first need */
	const char *btf_why;	/* why there are none, once tried */
	struct type *task_struct; /* curtask's target, resolved on first use */
	struct sema_probe *probes; /* every expansion, in program order */
	struct sema_probe **probes_tail;
	int nprobes;
	int ngroups;
	/* while walking */
	bool quiet;		 /* first pass: no diagnostics */
	unsigned walk;		 /* counts body walks (sema_type_probe) */
	bool var_widened;	 /* a variable's type grew after its first assignment */
	struct sema_probe *cur;	 /* probe being typed */
	struct sema_var *vars;	 /* visible variables, innermost first */
	int depth;
	int loop_depth;
	int map_loops;		 /* for ($kv : @m) loops around the statement */
	unsigned save_walk;	 /* sema_type_probe's quiet walks: map marks saved */
	struct sema_map *saved_maps;
	int map_loop_scope;	 /* the scope depth of the innermost one's body */
	bool uses_ctx;
	bool in_agg_assign;	 /* checking the value of @m = agg() */
	struct sema_var *dead_vars; /* variables whose scope ended */
	bool suppress_notes;	 /* the last error was a repeat */
#define SEMA_MAX_SEEN 256
	uint64_t seen[SEMA_MAX_SEEN]; /* errors reported (span + message hash) */
	int nseen;
};

/* Checks the whole program. Returns 0, or -1 when errors were reported. */
int sema_check(struct sema *s, struct node *program, struct kernel_info *ki, struct diag *d,
	       struct arena *a, const struct sema_opts *opts);
/* macro.c: replaces every macro call in the probes by its expansion;
 * -1 after errors */
int macro_expand(struct sema *s);
/* Re-types the body of sp's probe for its context (codegen). */
void sema_type_probe(struct sema *s, struct sema_probe *sp);
struct sema_map *sema_find_map(struct sema *s, const char *name);
/* Checks the keys of a use of map m against its signature. */
void sema_map_key_check(struct sema *s, struct node *map_node, struct sema_map *m);

/* For stdlib check hooks. */
void sema_error(struct sema *s, struct span sp, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
struct type *sema_expr(struct sema *s, struct node *n);
bool sema_const_int(struct sema *s, struct node *n, int64_t *out);
/* The kernel's BTF, opened on first call; NULL (and an error at sp, which
 * needs it for `what`) when the kernel has none. */
struct kbtf *sema_btf(struct sema *s, struct span sp, const char *what);
/* Whether the memory an lvalue of struct, union or array type lives in
 * (through the pointers it was reached by) is user memory. */
bool sema_mem_is_user(const struct node *n);
/* Loads the fields of a struct and of the structs and arrays it holds
 * (not behind pointers), for printing it whole; false after an error. */
bool sema_record_complete(struct sema *s, struct span sp, struct type *t);

#endif
