/* codegen.h: the LLVM-side state shared by object.c, codegen.c,
 * rawsyscall.c, the stdlib/ lowering hooks, bpf_ir.c and module.c. Not for
 * the runtime.
 *
 * Layers, each calling only the ones below it (docs/architecture.md,
 * "Codegen layers"):
 *   object.c       the pipeline: LLVM module, program functions and their
 *                  prologue, the passes around O2, emission
 *   codegen.c      AST lowering, with rawsyscall.c and the stdlib/ hooks
 *                  (codegen.c calls those through the registry entries
 *                  sema attached to the nodes; they call cg_expr back)
 *   bpf_ir.c       BPF idioms: slots, helpers, map access, probe reads,
 *                  event records
 *   module.c       module-level state: maps and their layouts, .rodata,
 *                  the lost counter, BTF, the program description
 *
 * Value convention: integers, pointers and u64-sized kinds are i64
 * registers, normalized to their type's width and signedness; strings,
 * tuples and other aggregates are pointers to slots. A slot is a region of
 * the program's stack frame or, when the 512-byte stack would overflow, of
 * a per-CPU scratch map value; whoever produces an aggregate writes every
 * byte of its slot (zero-fill first), so keys and records never carry stale
 * bytes (design.md, verifier-safe conventions 1-3).
 */
#ifndef TRACE_CODEGEN_H
#define TRACE_CODEGEN_H

#include <string.h>

#include <llvm-c/Core.h>
#include <llvm-c/DebugInfo.h>
#include <llvm-c/TargetMachine.h>

#include "compiler/sema.h"
#include "runtime/progdesc.h"

#define CG_STACK_BUDGET 256 /* bytes of slots on the stack; the rest is LLVM's */
#define CG_SCRATCH_MAX SEMA_PERCPU_VALUE_MAX /* per-CPU value size limit */
#define CG_MAX_LOOPS 16
#define CG_MAX_NEST SEMA_MAX_MAP_LOOPS /* for ($kv : @m) loops one inside another */
#define CG_CHUNK 8 /* statements per basic block in long blocks */

/* x86-64 struct pt_regs, the context of kprobes and uprobes: offsets of
 * the argument registers (di si dx cx r8 r9), ax (the return value) and ip */
static const uint32_t cg_regs_arg_off[6] = { 112, 104, 96, 88, 72, 64 };
#define CG_REGS_AX 80
#define CG_REGS_IP 128
#define CG_REGS_SP 152

struct cg_options {
	bool print_ir;	    /* -d ir: optimized IR to stdout */
	bool print_ir_raw;  /* -d ir-raw: before optimization */
	bool print_bpf;	    /* -d bpf: BPF assembly */
	const char *cpu;    /* "v3" */
	uint64_t start_ns;  /* CLOCK_MONOTONIC at start, for `elapsed` */
	uint32_t cpid;	    /* -c CMD's pid (0 when only compiled) */
	const char *source_name;
	uint32_t ringbuf_pages; /* BPFTRACE_PERF_RB_PAGES (a power of 2), 0: 1 MiB */
	/* --debug-break RULE: disable one verifier-safe convention, to test
	 * that its rejection is explained (never for users) */
	const char *break_rule;
	int helper_checks; /* -k: 1, -kk: 2 (checks.c) */
};

/* The conventions --debug-break can turn off (docs/kernel.md):
 * null-check    map lookups used without a NULL check
 * clamp         str() length and histogram bucket not clamped
 * signed-clamp  str() length clamped with a signed comparison, passed as 64 bits
 * probe-read    pointers dereferenced by a direct load
 * stack-limit   slots on the stack past 512 bytes, LLVM's error let through
 * key-pointer   map lookups given the key's value instead of its address
 * helper-type   cgroup calls bpf_skb_cgroup_id, a socket-buffer helper
 * ringbuf-output records reserved in the ring buffer and never submitted
 * long-jump     ISA v4 long jumps written as wrapping 16-bit jumps
 * zero-fill     tuple map keys not zero-filled (loads on 6.18: docs/kernel.md) */
#define CG_BREAK_RULES \
	"null-check, clamp, signed-clamp, probe-read, stack-limit, key-pointer, helper-type, " \
	"ringbuf-output, long-jump, zero-fill"


/* A map's definition for the BTF that mapbtf.c writes after emitting */
struct cg_btf_map {
	const char *name; /* the global's (and ELF symbol's) name */
	uint32_t type, max_entries, key_size, value_size;
	bool sizes_as_numbers; /* key_size/value_size members (stack maps) */
	uint64_t offset;       /* in .maps, from the symbol table */
};

/* Histogram buckets of hist() (the convention runtime/output.c prints) */
#define HIST_NBUCKETS 66

/* A user map as module.c declared it, layout included: codegen.c, bpf_ir.c
 * and stdlib/aggs.c read the layout here, never work it out again. */
struct cg_map {
	LLVMValueRef global;
	struct sema_map *sm;
	int pd_index;
	bool array; /* a keyless aggregation: a per-CPU array (cg_agg_array) */
	bool buckets; /* and a hist()/lhist(), indexed by bucket */
	uint32_t value_size; /* bytes of one CPU's value of a key: an aggregation's
			      * layout (cg_agg_value_size), else the value type's */
	uint32_t nbuckets; /* hist()/lhist(): buckets per key (value_size / 8), else 0 */
};

struct cg {
	LLVMContextRef ctx;
	LLVMModuleRef mod;
	LLVMBuilderRef b;
	LLVMDIBuilderRef di;
	LLVMMetadataRef di_file, di_cu, di_sp;
	LLVMTypeRef i8, i16, i32, i64, ptr, void_t;
	struct sema *sema;
	struct arena *arena;
	const struct source *src;
	struct cg_options opts;
	int backend_errors;
	char backend_msg[512];

	/* program description under construction */
	struct progdesc *pd;
	uint32_t cap_probes, cap_maps, cap_printfs, cap_prints, cap_values, cap_times;

	/* maps */
	struct cg_map *maps; /* by sema_map index */
	LLVMValueRef ringbuf, scratch; /* ringbuf: the event buffer (ring or perf) */
	int pd_ringbuf, pd_lost, pd_scratch;
	bool perfbuf; /* no ring buffer (< 5.8): events go through a perf buffer */
	struct cg_stack_map {
		bool user;
		uint32_t depth;
		LLVMValueRef global;
		int pd_index;
	} stacks[16];
	int nstacks;
	struct cg_btf_map *btf_maps; /* every .maps global (mapbtf.c) */
	uint32_t nbtf_maps, cap_btf_maps;
	uint32_t scratch_size; /* max over programs */
	LLVMValueRef zeros;	/* .rodata zeros for map inserts, made on first use */
	LLVMValueRef one;	/* .rodata u64 1, the first value of a count() */
	uint32_t zeros_size;	/* the largest map value */
	LLVMValueRef lost_var;	/* .bss u64: records the ring buffer refused */
	LLVMValueRef map_full_var; /* .bss.map_full u64[nmaps]: dropped updates */
	LLVMValueRef *full_acc;	   /* this program's drops per map (checks.c) */
	bool full_atomic;	   /* in a callback (for over a map): drops added at once */
	uint32_t cap_helper_errors;
	/* the node whose span a checked helper call reports (-k): the
	 * innermost expression being lowered, or the assignment (checks.c) */
	struct node *site;
	struct node *miss_site; /* a lookup miss's own site, if not site's */
	LLVMValueRef pid_table; /* .data.pids: u32 per slot, see cg_pid_table */
	/* where the next aggregate producer may write its value (a record
	 * field of exactly its size), or NULL: see cg_dest */
	LLVMValueRef dest;
	uint32_t dest_size;

	/* the function being generated */
	struct sema_probe *probe;
	LLVMValueRef fn, ctx_arg;
	LLVMValueRef ctx_static; /* ctx through llvm.preserve.static.offset */
	LLVMBasicBlockRef entry, setup, body, exit_bb;
	LLVMValueRef frame;	  /* stack frame alloca for slots */
	LLVMValueRef barrier;	  /* zero byte that long blocks branch on */
	LLVMValueRef scratch_ptr; /* per-CPU scratch value, looked up in setup */
	LLVMValueRef setup_insts[3];
	uint32_t stack_top, stack_persist, scratch_top, scratch_persist;
	uint32_t stack_budget;	  /* bytes of slots in the frame (<= CG_STACK_BUDGET) */
	bool retry_on_stack_limit; /* a stack overflow is retried with a smaller frame */
	LLVMBasicBlockRef break_bb[CG_MAX_LOOPS], cont_bb[CG_MAX_LOOPS];
	int nloops;
	/* for ($kv : @m) callbacks (foreach.c): made so far in the module, and
	 * the slot frames and scratch pointers of the functions around the
	 * one being generated (cg_slot_at rebuilds their slots on its own) */
	int ncallbacks, nouter, max_nouter; /* for-map callbacks; their nesting */
	bool in_chain; /* generating a program of chained blocks (probes.c) */
	LLVMValueRef outer_frame[CG_MAX_NEST], outer_scratch[CG_MAX_NEST];
	/* raw syscall programs (probe->raw_syscall): the syscall number (i32,
	 * computed in the entry block) and the probe-by-number table */
	LLVMValueRef sys_nr, sys_probes;
};

static inline bool cg_breaks(const struct cg *g, const char *rule)
{
	return g->opts.break_rule && !strcmp(g->opts.break_rule, rule);
}

/* Bytes of slots on the stack; --debug-break stack-limit lifts the budget
 * past the 512-byte BPF stack. */
static inline uint32_t cg_stack_budget(const struct cg *g)
{
	return cg_breaks(g, "stack-limit") ? 4 * CG_STACK_BUDGET : g->stack_budget;
}

/* ---- object.c: the whole pipeline from a checked program to an object ---- */
struct cg_result {
	struct progdesc *pd;
	LLVMMemoryBufferRef obj;
	char *ir;      /* -d ir text, if asked */
	char *ir_raw;  /* before optimization, if print_ir_raw */
	char *bpf_asm; /* -d bpf text, if asked */
	double ms_ir, ms_opt, ms_emit; /* phase times, for -v */
};
int cg_compile(struct sema *s, const struct source *src, struct arena *a,
	       const struct cg_options *opts, struct diag *d, struct cg_result *out);
void cg_result_free(struct cg_result *r);

/* ---- codegen.c: AST lowering ---- */
/* The body of a probe's program, the predicate first; object.c has built
 * the function and its prologue (entry, setup, body, exit) */
void cg_probe_body(struct cg *g, struct node *probe);
LLVMValueRef cg_expr(struct cg *g, struct node *n);
void cg_block(struct cg *g, struct node *b);
/* The total over the CPUs of a count/sum/min/max/avg element at key (as
 * the runtime prints it) */
LLVMValueRef cg_agg_total(struct cg *g, struct sema_map *m, struct cg_map *cm, LLVMValueRef key);

/* foreach.c: for ($kv : @m) through bpf_for_each_map_elem */
void cg_for_map(struct cg *g, struct node *n);
/* An expression converted to the storage form `to` in the slot at dst
 * (strings padded, tuples re-laid out, integers widened to 8 bytes). */
void cg_store_as(struct cg *g, struct node *n, LLVMValueRef value, struct type *from,
		 struct type *to, LLVMValueRef dst);
LLVMValueRef cg_bool(struct cg *g, LLVMValueRef v); /* i64 -> i1 (v != 0) */
/* A slot of len + 1 bytes holding s and a zero, stored as immediates */
LLVMValueRef cg_string_lit(struct cg *g, const char *s, uint32_t len);
/* An i64 cut to an integer type's width and extended by its sign. */
LLVMValueRef cg_narrow(struct cg *g, LLVMValueRef v, const struct type *t);
void cg_set_loc(struct cg *g, struct node *n);
/* The key slot of a map use: zero-filled, every key written in its
 * storage layout; NULL for a scalar map (no key expression), whose zero
 * key cg_key_or_zero stores right where a helper takes it. */
LLVMValueRef cg_map_key(struct cg *g, struct node *map_node, struct sema_map *m);

/* ---- rawsyscall.c: in a raw syscall program, what differs per syscall
 * event: `probe` (the event's probe index) and args->FIELD (probes.c groups
 * only events that have the field alike) ---- */
LLVMValueRef cg_syscall_probe(struct cg *g);
LLVMValueRef cg_syscall_field(struct cg *g, const struct type_field *f);

/* ---- bpf_ir.c: BPF idioms ---- */
LLVMValueRef cg_slot(struct cg *g, uint32_t size, bool persistent);
LLVMValueRef cg_slot_scratch(struct cg *g, uint32_t size);
/* align attribute at a call's index (LLVMAttributeReturnIndex or argument
 * + 1): 1 if none, at most 8 */
unsigned cg_call_align(LLVMValueRef call, unsigned index);
LLVMValueRef cg_slot_at(struct cg *g, LLVMValueRef slot); /* a variable's slot, here */
void cg_zero(struct cg *g, LLVMValueRef dst, uint32_t size);
void cg_copy(struct cg *g, LLVMValueRef dst, LLVMValueRef src, uint32_t size);
LLVMValueRef cg_gep(struct cg *g, LLVMValueRef base, uint64_t off);
LLVMValueRef cg_const(struct cg *g, uint64_t v);
LLVMValueRef cg_helper(struct cg *g, int id, LLVMTypeRef ret, LLVMValueRef *args, unsigned n);
/* A bpf_for_each_map_elem callback `static long name(void *map, void *key,
 * void *value, void *ctx)`, empty, with its debug info (*sp) at line */
LLVMValueRef cg_map_callback(struct cg *g, const char *name, uint32_t line, LLVMMetadataRef *sp);
LLVMValueRef cg_opaque(struct cg *g, LLVMValueRef v); /* an i64 LLVM cannot reason about */
/* v through an empty asm: not even instruction selection sees its bits
 * (the verifier still knows its bounds: no instruction is emitted) */
LLVMValueRef cg_barrier(struct cg *g, LLVMValueRef v);
LLVMValueRef cg_clamp(struct cg *g, LLVMValueRef v, uint64_t max);
LLVMValueRef cg_load_ctx(struct cg *g, uint32_t off, uint32_t size, bool is_signed);
LLVMValueRef cg_load_int(struct cg *g, LLVMValueRef p, uint32_t size, bool is_signed);
/* The alignment LLVM may assume for p (1..8): slots, map values, offsets. */
unsigned cg_known_align(struct cg *g, LLVMValueRef p);
void cg_store_int(struct cg *g, LLVMValueRef p, LLVMValueRef v, uint32_t size);
/* Reads `size` bytes of kernel or user memory at addr (i64) into dst. */
void cg_probe_read(struct cg *g, LLVMValueRef dst, uint32_t size, LLVMValueRef addr, bool user);
void cg_probe_read_len(struct cg *g, LLVMValueRef dst, LLVMValueRef size, LLVMValueRef addr,
		       bool user);
void cg_probe_read_str(struct cg *g, LLVMValueRef dst, LLVMValueRef size, LLVMValueRef addr,
		       bool user);
LLVMValueRef cg_key_or_zero(struct cg *g, LLVMValueRef key);
LLVMValueRef cg_map_lookup(struct cg *g, LLVMValueRef map, LLVMValueRef key);
LLVMValueRef cg_map_update(struct cg *g, LLVMValueRef map, LLVMValueRef key, LLVMValueRef val,
			   uint64_t flags);
/* The same, made only because a lookup missed (a first insert): a full
 * map's drop is counted right there, not at the program's exit. */
LLVMValueRef cg_map_insert(struct cg *g, LLVMValueRef map, LLVMValueRef key, LLVMValueRef val,
			   uint64_t flags);
/* Lookup, inserting the zero value first if missing: the returned pointer
 * is non-null on the `ok` path; the builder is positioned there. */
LLVMValueRef cg_map_lookup_or_init(struct cg *g, struct cg_map *cm, LLVMValueRef key);
/* Sends a record (header included at rec) of `size` bytes through the ring
 * buffer (bpf_ringbuf_output) or, on kernels without one, the perf buffer
 * (bpf_perf_event_output to this CPU's buffer); counts it as lost in the
 * `lost` map if the buffer is full. */
void cg_emit_record(struct cg *g, LLVMValueRef rec, uint32_t size);
void cg_record_header(struct cg *g, LLVMValueRef rec, enum pd_record_kind kind, uint32_t id);
/* An if-then without else; returns the continuation block (builder is
 * positioned in the then-block). */
LLVMBasicBlockRef cg_if(struct cg *g, LLVMValueRef cond_i1, const char *name);
/* Marks a conditional branch whose first successor is (un)likely, so that
 * the common path falls through */
void cg_expect(struct cg *g, LLVMValueRef condbr, bool first_likely);
/* A slot of `size` bytes for an aggregate the caller is about to produce
 * (and zero-fill): the destination set by the consumer through g->dest
 * when its size matches, else a new temporary slot. */
LLVMValueRef cg_dest(struct cg *g, uint32_t size);

/* ---- checks.c: run-time checks, beside bpf_ir.c (each calls the
 * other). -k/-kk (opts.helper_checks): a failed helper call sends a
 * helper error record naming g->site; with the flags off (or no site),
 * nothing is generated. 0.17 checks reads (probe_read*) and map lookups
 * only with -kk. ---- */
void cg_check_helper(struct cg *g, int helper, LLVMValueRef ret); /* ret < 0, or NULL */
/* in a block that runs only when the helper failed: report it */
void cg_helper_failed(struct cg *g, int helper, LLVMValueRef ret);
/* after an update of a script map: -E2BIG (full) adds 1 to the map's
 * counter, without a branch: at once on a lookup's miss path (on_miss),
 * else to the program's count, added to the counter at its exit */
void cg_count_map_full(struct cg *g, LLVMValueRef map, LLVMValueRef ret, bool on_miss);
/* after a program's body (object.c): its counts added to .bss.map_full
 * at its exit */
void cg_finish_map_full(struct cg *g);

/* ---- module.c: module-level state ---- */
/* The maps: the event buffer, the scratch map (its size is known at the
 * end: cg_finish_scratch) and the user maps with their layouts (g->maps) */
void cg_define_maps(struct cg *g);
void cg_finish_scratch(struct cg *g); /* after every program: size or delete it */
/* Bytes of one CPU's value of an aggregation map (progdesc.h layouts);
 * the layers above read it from struct cg_map. */
uint32_t cg_agg_value_size(const struct sema_map *m);
/* A keyless aggregation that no delete() names: a per-CPU array of its
 * value, or of its buckets indexed by bucket (an array element cannot be
 * deleted, and a program reaches only its own CPU's share of it). */
bool cg_agg_array(const struct sema_map *m);
/* Read-only zeros of at least `size` bytes (a map value to insert, the
 * key of a keyless map), a u64 1, tables; the lost-records counter */
LLVMValueRef cg_zeros(struct cg *g, uint32_t size);
LLVMValueRef cg_one(struct cg *g); /* a u64 1 in .rodata */
LLVMValueRef cg_rodata(struct cg *g, const char *name, const uint8_t *bytes, uint32_t size);
LLVMValueRef cg_lost_counter(struct cg *g);
/* CG_PID_SLOTS u32s in their own .data.pids map: the pid that last
 * recorded a user address, per slot pid % CG_PID_SLOTS (stdlib's
 * usym/ustack send a PD_REC_PID record when theirs differs) */
#define CG_PID_SLOTS 1024
LLVMValueRef cg_pid_table(struct cg *g);

/* The stack trace map for stacks of this depth, created on first use
 * (bpf_get_stackid keeps value_size / 8 frames). */
LLVMValueRef cg_stack_map(struct cg *g, bool user, uint32_t depth);
/* .bss.map_full: one u64 per script map (by sema index), made on first
 * use; the runtime reports the counts at exit */
LLVMValueRef cg_map_full_counter(struct cg *g);
/* The debug info (BTF) of program function g->fn */
void cg_di_function(struct cg *g, const char *name, uint32_t line);
/* The program description */
uint32_t cg_add_printf(struct cg *g, const char *fmt, struct pd_layout *args, uint32_t nargs,
		       uint32_t size);
uint32_t cg_add_print(struct cg *g, int map, int64_t top, int64_t div);
uint32_t cg_add_value(struct cg *g, struct type *t);
uint32_t cg_add_time_fmt(struct cg *g, const char *fmt);
void cg_add_probe(struct cg *g, const struct sema_probe *sp);

/* mapbtf.c: map definitions go into the object's BTF after emitting,
 * not through LLVM debug info (cubic in LLVM 19: mapbtf.c) */
void cg_btf_map(struct cg *g, const char *name, uint32_t type, uint32_t max_entries,
		uint32_t key_size, uint32_t value_size, bool sizes_as_numbers);
int cg_btf_add_maps(struct cg *g, LLVMMemoryBufferRef *obj);
/* Points the stack layouts inside l at their stack maps. */
void cg_fix_layout(struct cg *g, struct pd_layout *l);

#endif
