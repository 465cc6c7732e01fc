/* object.c: a checked program -> LLVM module -> BPF ELF in memory, plus the
 * program description the runtime reads beside it.
 *
 * Maps are BTF-defined (libbpf >= 1.0 accepts nothing else), so every map
 * global carries debug info of the struct { type, max_entries, key, value }
 * that libbpf parses; every program function has a subprogram with a named
 * parameter, or the kernel rejects the BTF (design.md). The LLVM diagnostic
 * handler turns backend errors (such as the 512-byte stack limit) into
 * compile errors instead of exit(1) inside the emit call.
 */
#include <elf.h>
#include <linux/bpf.h>
#include <llvm-c/Analysis.h>
#include <llvm-c/ErrorHandling.h>
#include <llvm-c/Support.h>
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compiler/codegen.h"
#include "runtime/provider.h"

#define DW_ATE_signed 0x05
#define DW_ATE_unsigned 0x08
#define DW_ATE_unsigned_char 0x08

#define MAP_KEYS_MAX 4096     /* bpftrace's default map size */
#define RINGBUF_SIZE (1 << 20)
#define STACK_DEPTH 127	      /* perf_event_max_stack's default */

void cg_probe_body(struct cg *g, struct node *probe); /* codegen.c */

static void on_diagnostic(LLVMDiagnosticInfoRef info, void *opaque)
{
	struct cg *g = opaque;
	if (LLVMGetDiagInfoSeverity(info) != LLVMDSError)
		return;
	char *msg = LLVMGetDiagInfoDescription(info);
	/* --debug-break stack-limit: let the kernel see the big frame */
	if (cg_breaks(g, "stack-limit") && strstr(msg, "stack limit")) {
		LLVMDisposeMessage(msg);
		return;
	}
	if (!g->backend_errors++)
		snprintf(g->backend_msg, sizeof(g->backend_msg), "%s", msg);
	LLVMDisposeMessage(msg);
}

/* Some backend failures (a jump beyond the 16-bit range of BPF ISA v3)
 * are fatal errors in LLVM, not diagnostics: say so and exit with the
 * compile-error status instead of aborting. */
static void on_fatal(const char *reason)
{
	fprintf(stderr, "error: BPF code generation failed: %s\n", reason);
	if (strstr(reason, "out of insn range"))
		fprintf(stderr, "hint: the program is too long for BPF ISA v3 jumps; "
				"split the probe into several probes\n");
	fflush(stderr);
	_exit(2);
}

/* ---- debug info for maps (BTF) ---- */

static LLVMMetadataRef di_int(struct cg *g, const char *name, unsigned bits, unsigned enc)
{
	return LLVMDIBuilderCreateBasicType(g->di, name, strlen(name), bits, enc, LLVMDIFlagZero);
}

static LLVMMetadataRef di_ptr(struct cg *g, LLVMMetadataRef to)
{
	return LLVMDIBuilderCreatePointerType(g->di, to, 64, 0, 0, "", 0);
}

static LLVMMetadataRef di_array(struct cg *g, LLVMMetadataRef elem, unsigned elem_bits, int64_t n)
{
	LLVMMetadataRef sub = LLVMDIBuilderGetOrCreateSubrange(g->di, 0, n);
	return LLVMDIBuilderCreateArrayType(g->di, elem_bits * n, elem_bits, elem, &sub, 1);
}

static LLVMMetadataRef di_bytes(struct cg *g, uint32_t n)
{
	return di_array(g, di_int(g, "unsigned char", 8, DW_ATE_unsigned_char), 8, n);
}

static LLVMMetadataRef di_member(struct cg *g, const char *name, LLVMMetadataRef ty, unsigned i)
{
	return LLVMDIBuilderCreateMemberType(g->di, g->di_file, name, strlen(name), g->di_file, 0,
					     64, 64, i * 64, LLVMDIFlagZero, ty);
}

/* `name` as a pointer to int[n]: how BTF map definitions encode numbers */
static LLVMMetadataRef di_number(struct cg *g, const char *name, uint32_t n, unsigned i)
{
	LLVMMetadataRef di_i32 = di_int(g, "int", 32, DW_ATE_signed);
	return di_member(g, name, di_ptr(g, di_array(g, di_i32, 32, n)), i);
}

struct map_def {
	uint32_t type, max_entries, key_size, value_size;
	bool sizes_as_numbers; /* key_size/value_size members (stack maps) */
};

static void set_map_debug_info(struct cg *g, LLVMValueRef gv, const char *name,
			       const struct map_def *d)
{
	LLVMMetadataRef m[4];
	unsigned n = 0;
	m[n] = di_number(g, "type", d->type, n), n++;
	m[n] = di_number(g, "max_entries", d->max_entries, n), n++;
	if (d->sizes_as_numbers) {
		m[n] = di_number(g, "key_size", d->key_size, n), n++;
		m[n] = di_number(g, "value_size", d->value_size, n), n++;
	} else if (d->key_size) {
		/* array maps want a 32-bit integer key type in their BTF, or the
		 * kernel refuses it (libbpf then retries without BTF) */
		bool array = d->type == BPF_MAP_TYPE_ARRAY || d->type == BPF_MAP_TYPE_PERCPU_ARRAY;
		LLVMMetadataRef key = array ? di_int(g, "unsigned int", 32, DW_ATE_unsigned)
					    : di_bytes(g, d->key_size);
		m[n] = di_member(g, "key", di_ptr(g, key), n), n++;
		m[n] = di_member(g, "value", di_ptr(g, di_bytes(g, d->value_size)), n), n++;
	}
	LLVMMetadataRef st = LLVMDIBuilderCreateStructType(g->di, g->di_file, "", 0, g->di_file, 0,
							   n * 64, 64, LLVMDIFlagZero, NULL, m, n,
							   0, NULL, "", 0);
	LLVMMetadataRef expr = LLVMDIBuilderCreateExpression(g->di, NULL, 0);
	LLVMMetadataRef gve = LLVMDIBuilderCreateGlobalVariableExpression(
		g->di, g->di_cu, name, strlen(name), "", 0, g->di_file, 1, st, 0, expr, NULL, 64);
	LLVMGlobalSetMetadata(gv, LLVMGetMDKindIDInContext(g->ctx, "dbg", 3), gve);
}

static LLVMValueRef map_global(struct cg *g, const char *name, unsigned nfields)
{
	LLVMTypeRef fields[4] = { g->ptr, g->ptr, g->ptr, g->ptr };
	LLVMTypeRef lt = LLVMStructTypeInContext(g->ctx, fields, nfields, 0);
	LLVMValueRef gv = LLVMAddGlobal(g->mod, lt, name);
	LLVMSetInitializer(gv, LLVMConstNull(lt));
	LLVMSetSection(gv, ".maps");
	LLVMSetAlignment(gv, 8);
	return gv;
}

/* ---- the program description ---- */

#define GROW(g, arr, n, cap)                                                       \
	do {                                                                       \
		if ((n) == (cap)) {                                                \
			uint32_t nc = (cap) ? (cap) * 2 : 8;                       \
			void *na = arena_alloc((g)->arena, nc * sizeof(*(arr)));   \
			if (n)                                                     \
				memcpy(na, (arr), (n) * sizeof(*(arr)));           \
			(arr) = na;                                                \
			(cap) = nc;                                                \
		}                                                                  \
	} while (0)

static int add_pd_map(struct cg *g, const char *name, const char *obj_name,
		      enum pd_map_role role, const struct map_def *d)
{
	struct progdesc *pd = g->pd;
	GROW(g, pd->maps, pd->nmaps, g->cap_maps);
	struct pd_map *m = &pd->maps[pd->nmaps];
	memset(m, 0, sizeof(*m));
	m->name = name;
	m->obj_name = obj_name;
	m->role = role;
	m->bpf_type = d->type;
	m->max_entries = d->max_entries;
	m->key_size = d->key_size;
	m->value_size = d->value_size;
	m->key.stack_map = m->value.stack_map = -1;
	return (int)pd->nmaps++;
}

uint32_t cg_add_printf(struct cg *g, const char *fmt, struct pd_layout *args, uint32_t nargs,
		       uint32_t size)
{
	struct progdesc *pd = g->pd;
	GROW(g, pd->printfs, pd->nprintfs, g->cap_printfs);
	pd->printfs[pd->nprintfs] = (struct pd_printf){ fmt, nargs, args, size };
	return pd->nprintfs++;
}

uint32_t cg_add_print(struct cg *g, int map, int64_t top, int64_t div)
{
	struct progdesc *pd = g->pd;
	GROW(g, pd->prints, pd->nprints, g->cap_prints);
	pd->prints[pd->nprints] = (struct pd_print){ map, top, div };
	return pd->nprints++;
}

void cg_fix_layout(struct cg *g, struct pd_layout *l)
{
	if (l->kind == PD_KSTACK || l->kind == PD_USTACK)
		for (int i = 0; i < g->nstacks; i++)
			if (g->stacks[i].user == (l->kind == PD_USTACK) &&
			    g->stacks[i].depth == l->stack_depth)
				l->stack_map = g->stacks[i].pd_index;
	for (uint32_t i = 0; i < l->nfields; i++)
		cg_fix_layout(g, &l->fields[i]);
}

uint32_t cg_add_value(struct cg *g, struct type *t)
{
	struct progdesc *pd = g->pd;
	GROW(g, pd->values, pd->nvalues, g->cap_values);
	type_to_layout(g->arena, t, &pd->values[pd->nvalues]);
	cg_fix_layout(g, &pd->values[pd->nvalues]);
	return pd->nvalues++;
}

uint32_t cg_add_time_fmt(struct cg *g, const char *fmt)
{
	struct progdesc *pd = g->pd;
	GROW(g, pd->time_fmts, pd->ntime_fmts, g->cap_times);
	pd->time_fmts[pd->ntime_fmts] = fmt;
	return pd->ntime_fmts++;
}

LLVMValueRef cg_stack_map(struct cg *g, bool user, uint32_t depth)
{
	for (int i = 0; i < g->nstacks; i++)
		if (g->stacks[i].user == user && g->stacks[i].depth == depth)
			return g->stacks[i].global;
	if (g->nstacks == (int)(sizeof(g->stacks) / sizeof(g->stacks[0])))
		return g->stacks[0].global; /* sema limits the distinct depths */
	struct cg_stack_map *sm = &g->stacks[g->nstacks++];
	const char *name = arena_printf(g->arena, "%cstack%u", user ? 'u' : 'k', depth);
	/* as many stacks as a map has keys (BPFTRACE_MAP_KEYS_MAX): a stack
	 * map is a table without chaining, and a stack whose bucket holds
	 * another one gets no id (-EEXIST) */
	struct map_def d = { BPF_MAP_TYPE_STACK_TRACE, g->sema->opts.map_keys_max ?: MAP_KEYS_MAX, 4,
			     depth * 8, true };
	sm->user = user;
	sm->depth = depth;
	sm->global = map_global(g, name, 4);
	set_map_debug_info(g, sm->global, name, &d);
	sm->pd_index = add_pd_map(g, name, name, PD_MAP_STACKS, &d);
	/* layouts made before this map existed point at it now */
	for (uint32_t i = 0; i < g->pd->nmaps; i++) {
		cg_fix_layout(g, &g->pd->maps[i].key);
		cg_fix_layout(g, &g->pd->maps[i].value);
	}
	for (uint32_t i = 0; i < g->pd->nprintfs; i++)
		for (uint32_t j = 0; j < g->pd->printfs[i].nargs; j++)
			cg_fix_layout(g, &g->pd->printfs[i].args[j]);
	for (uint32_t i = 0; i < g->pd->nvalues; i++)
		cg_fix_layout(g, &g->pd->values[i]);
	return sm->global;
}

/* ---- module ---- */

static void init_module(struct cg *g, const struct source *src)
{
	LLVMInitializeBPFTargetInfo();
	LLVMInitializeBPFTarget();
	LLVMInitializeBPFTargetMC();
	LLVMInitializeBPFAsmPrinter();
	LLVMInstallFatalErrorHandler(on_fatal);
	/* memcpy as the backend's own in-order copy through one register:
	 * LLVM's generic expansion loads everything first, then stores, and a
	 * 64-byte unaligned copy spilled 600 bytes of registers (see
	 * split_mem_intrinsics for memset, which this turns off) */
	static bool options_set;
	if (!options_set) {
		const char *argv[] = { "trace", "-bpf-expand-memcpy-in-order" };
		LLVMParseCommandLineOptions(2, argv, NULL);
		options_set = true;
	}
	g->ctx = LLVMContextCreate();
	LLVMContextSetDiagnosticHandler(g->ctx, on_diagnostic, g);
	g->mod = LLVMModuleCreateWithNameInContext("trace", g->ctx);
	g->b = LLVMCreateBuilderInContext(g->ctx);
	g->i8 = LLVMInt8TypeInContext(g->ctx);
	g->i16 = LLVMInt16TypeInContext(g->ctx);
	g->i32 = LLVMInt32TypeInContext(g->ctx);
	g->i64 = LLVMInt64TypeInContext(g->ctx);
	g->ptr = LLVMPointerTypeInContext(g->ctx, 0);
	g->void_t = LLVMVoidTypeInContext(g->ctx);
	LLVMSetTarget(g->mod, "bpfel");
	LLVMAddModuleFlag(g->mod, LLVMModuleFlagBehaviorWarning, "Debug Info Version", 18,
			  LLVMValueAsMetadata(LLVMConstInt(g->i32, LLVMDebugMetadataVersion(), 0)));
	g->di = LLVMCreateDIBuilder(g->mod);
	const char *name = src->name;
	g->di_file = LLVMDIBuilderCreateFile(g->di, name, strlen(name), ".", 1);
	g->di_cu = LLVMDIBuilderCreateCompileUnit(g->di, LLVMDWARFSourceLanguageC, g->di_file,
						  "trace", 5, 1, "", 0, 0, "", 0,
						  LLVMDWARFEmissionFull, 0, 0, 0, "", 0, "", 0);
	LLVMValueRef lic = LLVMConstStringInContext(g->ctx, "GPL", 3, 0); /* GPL-only helpers */
	LLVMValueRef gv = LLVMAddGlobal(g->mod, LLVMTypeOf(lic), "_license");
	LLVMSetInitializer(gv, lic);
	LLVMSetSection(gv, "license");
}

static void define_user_maps(struct cg *g)
{
	struct sema *s = g->sema;
	g->maps = arena_alloc(g->arena, (s->nmaps + 1) * sizeof(*g->maps));
	g->zeros_size = 8;
	for (struct sema_map *m = s->maps; m; m = m->next) {
		bool agg = m->value->kind == TY_AGG;
		/* a keyless aggregation is a per-CPU array (cg_agg_array):
		 * the verifier inlines its lookup, which never misses. count()
		 * has one element, as in bpftrace 0.17 (printed as 0 when it
		 * never ran); hist()/lhist() one u64 per bucket, indexed by
		 * bucket; the others one value. Those are hashes in 0.17,
		 * empty until updated: their array has one more element, a
		 * marker only the runtime writes (runtime/maps.c, "keyless
		 * arrays"). */
		bool array = agg && cg_agg_array(m);
		bool buckets = array && (m->value->agg == PD_AGG_HIST ||
					 m->value->agg == PD_AGG_LHIST);
		uint32_t nelems = buckets ? cg_agg_value_size(m) / 8 : 1;
		struct map_def d = {
			.type = array ? BPF_MAP_TYPE_PERCPU_ARRAY
				: agg ? BPF_MAP_TYPE_PERCPU_HASH : BPF_MAP_TYPE_HASH,
			.max_entries = m->key ? (g->sema->opts.map_keys_max ?: MAP_KEYS_MAX)
				: array ? nelems + (m->value->agg != PD_AGG_COUNT) : 1,
			.key_size = m->key ? m->key->size : array ? 4 : 8,
			.value_size = buckets ? 8 : agg ? cg_agg_value_size(m) : m->value->size,
		};
		if (d.value_size > g->zeros_size)
			g->zeros_size = d.value_size;
		const char *obj = arena_printf(g->arena, "m%d", m->index);
		struct cg_map *cm = &g->maps[m->index];
		cm->sm = m;
		cm->array = array;
		cm->buckets = buckets;
		cm->global = map_global(g, obj, 4);
		set_map_debug_info(g, cm->global, obj, &d);
		cm->pd_index = add_pd_map(g, m->name, obj, PD_MAP_USER, &d);
		struct pd_map *pm = &g->pd->maps[cm->pd_index];
		pm->agg = agg ? m->value->agg : PD_AGG_NONE;
		if (m->key)
			type_to_layout(g->arena, m->key, &pm->key);
		else
			pm->key = (struct pd_layout){ .kind = PD_NONE, .size = d.key_size, .stack_map = -1 };
		if (!agg)
			type_to_layout(g->arena, m->value, &pm->value);
		pm->nbuckets = agg && (pm->agg == PD_AGG_HIST || pm->agg == PD_AGG_LHIST)
				       ? cg_agg_value_size(m) / 8 : 0;
		if (buckets) /* the runtime reads it as one value of all buckets */
			pm->value_size = cg_agg_value_size(m);
		pm->lhist_min = m->lhist_min;
		pm->lhist_max = m->lhist_max;
		pm->lhist_step = m->lhist_step;
	}
}

static void define_internal_maps(struct cg *g)
{
	if (g->perfbuf) {
		/* one perf buffer per CPU; max_entries 0 lets libbpf size it to
		 * the possible CPUs */
		struct map_def pb = { BPF_MAP_TYPE_PERF_EVENT_ARRAY, 0, 4, 4, true };
		g->ringbuf = map_global(g, "events", 4);
		set_map_debug_info(g, g->ringbuf, "events", &pb);
		g->pd_ringbuf = add_pd_map(g, "events", "events", PD_MAP_PERFBUF, &pb);
	} else {
		struct map_def rb = { BPF_MAP_TYPE_RINGBUF, RINGBUF_SIZE, 0, 0, false };
		g->ringbuf = map_global(g, "ringbuf", 2);
		set_map_debug_info(g, g->ringbuf, "ringbuf", &rb);
		g->pd_ringbuf = add_pd_map(g, "ringbuf", "ringbuf", PD_MAP_RINGBUF, &rb);
	}
	g->scratch = map_global(g, "scratch", 4); /* debug info once its size is known */
}

/* A global variable of `bytes` bytes in an ELF data section, which libbpf
 * turns into a one-element array map ("internal map") whose value the
 * program addresses directly: no lookup. Debug info gives it a BTF VAR. */
static LLVMValueRef data_global(struct cg *g, const char *name, const char *section,
				uint32_t bytes, bool is_const, uint8_t first)
{
	LLVMTypeRef ty = LLVMArrayType2(g->i8, bytes);
	LLVMValueRef gv = LLVMAddGlobal(g->mod, ty, name);
	LLVMValueRef init = LLVMConstNull(ty);
	if (first) { /* bytes[0] = first, little-endian: a u64 of that value */
		LLVMValueRef *b = arena_alloc(g->arena, bytes * sizeof(*b));
		for (uint32_t i = 0; i < bytes; i++)
			b[i] = LLVMConstInt(g->i8, i ? 0 : first, 0);
		init = LLVMConstArray2(g->i8, b, bytes);
	}
	LLVMSetInitializer(gv, init);
	LLVMSetGlobalConstant(gv, is_const);
	LLVMSetSection(gv, section);
	LLVMSetAlignment(gv, 8);
	LLVMMetadataRef expr = LLVMDIBuilderCreateExpression(g->di, NULL, 0);
	LLVMMetadataRef gve = LLVMDIBuilderCreateGlobalVariableExpression(
		g->di, g->di_cu, name, strlen(name), "", 0, g->di_file, 1, di_bytes(g, bytes), 0,
		expr, NULL, 64);
	LLVMGlobalSetMetadata(gv, LLVMGetMDKindIDInContext(g->ctx, "dbg", 3), gve);
	return gv;
}

/* Zeros in .rodata (a frozen, read-only array map): the value a map
 * insert copies, however large (a hist() value is 528 bytes), without
 * filling a slot store by store. Sized for the largest map value. */
LLVMValueRef cg_zeros(struct cg *g, uint32_t size)
{
	if (!g->zeros)
		g->zeros = data_global(g, "zeros", ".rodata",
				       g->zeros_size > size ? g->zeros_size : size, true, 0);
	return g->zeros;
}

/* `size` bytes of read-only data in .rodata (a lookup table) */
LLVMValueRef cg_rodata(struct cg *g, const char *name, const uint8_t *bytes, uint32_t size)
{
	LLVMValueRef gv = data_global(g, name, ".rodata", size, true, 0);
	LLVMValueRef *b = arena_alloc(g->arena, size * sizeof(*b));
	for (uint32_t i = 0; i < size; i++)
		b[i] = LLVMConstInt(g->i8, bytes[i], 0);
	LLVMSetInitializer(gv, LLVMConstArray2(g->i8, b, size));
	return gv;
}

/* A u64 1 in .rodata: the first value of a count() */
LLVMValueRef cg_one(struct cg *g)
{
	if (!g->one)
		g->one = data_global(g, "one", ".rodata", 8, true, 1);
	return g->one;
}

/* The count of records the ring buffer refused: one u64 in .bss (an
 * array map of one element that the program addresses directly), added
 * to atomically; refusals are rare, so sharing it between CPUs costs
 * nothing. The runtime finds the map by its section name. */
LLVMValueRef cg_lost_counter(struct cg *g)
{
	if (!g->lost_var) {
		g->lost_var = data_global(g, "lost", ".bss", 8, false, 0);
		struct map_def d = { BPF_MAP_TYPE_ARRAY, 1, 4, 8, false };
		g->pd_lost = add_pd_map(g, "lost", ".bss", PD_MAP_LOST, &d);
	}
	return g->lost_var;
}

/* Not in the program description: only the programs read and write it
 * (the runtime learns the pids from PD_REC_PID records). */
LLVMValueRef cg_pid_table(struct cg *g)
{
	if (!g->pid_table)
		g->pid_table = data_global(g, "pids", ".data.pids", CG_PID_SLOTS * 4, false, 0);
	return g->pid_table;
}

static void finish_scratch(struct cg *g)
{
	if (!g->scratch_size) {
		LLVMDeleteGlobal(g->scratch);
		g->scratch = NULL;
		return;
	}
	struct map_def d = { BPF_MAP_TYPE_PERCPU_ARRAY, 1, 4, g->scratch_size, false };
	set_map_debug_info(g, g->scratch, "scratch", &d);
	g->pd_scratch = add_pd_map(g, "scratch", "scratch", PD_MAP_SCRATCH, &d);
}

/* ---- program functions ---- */

/* The provider table's section (runtime/provider.h); "fentry/" and the
 * like are followed by the function. */
static const char *section_for(struct cg *g, const struct sema_probe *sp)
{
	if (sp->raw_syscall)
		return "raw_tp";
	const struct provider *pv = pv_by_kind(sp->kind);
	const char *sec = sp->multi && pv->multi_section ? pv->multi_section : pv->section;
	size_t len = strlen(sec);
	return sec[len - 1] == '/' ? arena_printf(g->arena, "%s%s", sec, sp->func) : sec;
}

static void begin_function(struct cg *g, struct sema_probe *sp, const char *name)
{
	LLVMTypeRef fnty = LLVMFunctionType(g->i32, &g->ptr, 1, 0);
	g->fn = LLVMAddFunction(g->mod, name, fnty);
	LLVMSetSection(g->fn, section_for(g, sp));
	unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
	LLVMAddAttributeAtIndex(g->fn, LLVMAttributeFunctionIndex,
				LLVMCreateEnumAttribute(g->ctx, nounwind, 0)); /* no .eh_frame */
	g->ctx_arg = LLVMGetParam(g->fn, 0);
	g->ctx_static = NULL;

	uint32_t line, col;
	src_line_col(g->src, sp->probe->span.begin, &line, &col);
	LLVMMetadataRef di_i32 = di_int(g, "int", 32, DW_ATE_signed);
	LLVMMetadataRef di_vp = di_ptr(g, NULL);
	LLVMMetadataRef sig[2] = { di_i32, di_vp };
	LLVMMetadataRef sty = LLVMDIBuilderCreateSubroutineType(g->di, g->di_file, sig, 2, 0);
	g->di_sp = LLVMDIBuilderCreateFunction(g->di, g->di_file, name, strlen(name), name,
					       strlen(name), g->di_file, line, sty, 0, 1, line,
					       LLVMDIFlagPrototyped, 1);
	LLVMSetSubprogram(g->fn, g->di_sp);
	LLVMDIBuilderCreateParameterVariable(g->di, g->di_sp, "ctx", 3, 1, g->di_file, line, di_vp,
					     1, LLVMDIFlagZero);
}

/* x86_64 layouts the filter reads (stable since 5.11, the last change to
 * thread_info; probes.c uses the filter only where runtime/syscalls.c has
 * a table): pt_regs.orig_ax, and thread_info.status, the first member of
 * task_struct, whose TS_COMPAT bit marks a 32-bit (ia32) syscall. */
#define PT_REGS_ORIG_AX 120
#define TASK_TI_STATUS	16
#define TS_COMPAT	0x2

/* A raw tracepoint on sys_enter (ctx: regs, id) or sys_exit (ctx: regs,
 * ret) standing in for the group's syscall tracepoints: go on only for
 * their syscall numbers and not in a 32-bit syscall, which is exactly when
 * the kernel fires them (trace_get_syscall_nr: -1 in_ia32_syscall(), and
 * only 0 <= nr < NR_syscalls). Leaves the builder branching to setup. */
static LLVMValueRef raw_tp_arg(struct cg *g, unsigned i)
{
	LLVMValueRef v = LLVMBuildLoad2(g->b, g->i64, cg_gep(g, g->ctx_arg, 8 * i), "");
	LLVMSetAlignment(v, 8); /* u64 args[]: else LLVM loads it byte by byte */
	return v;
}

static void build_syscall_filter(struct cg *g)
{
	bool is_exit = !strcmp(g->probe->raw_syscall, "sys_exit");
	LLVMValueRef tmp = LLVMBuildAlloca(g->b, g->i64, "sysnr");
	LLVMValueRef nr;
	if (is_exit) { /* the number is the task's regs->orig_ax, as the kernel reads it */
		LLVMValueRef regs = raw_tp_arg(g, 0);
		LLVMValueRef src = LLVMBuildIntToPtr(g->b, LLVMBuildAdd(g->b, regs,
				cg_const(g, PT_REGS_ORIG_AX), ""), g->ptr, "");
		LLVMValueRef a[3] = { tmp, LLVMConstInt(g->i32, 8, 0), src };
		cg_helper(g, BPF_FUNC_probe_read_kernel, g->i64, a, 3);
		nr = LLVMBuildLoad2(g->b, g->i64, tmp, "");
	} else {
		nr = raw_tp_arg(g, 1);
	}
	nr = LLVMBuildTrunc(g->b, nr, g->i32, ""); /* syscall_get_nr() is an int */
	g->sys_nr = nr;
	g->sys_probes = NULL;
	LLVMBasicBlockRef compat = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "compat");
	unsigned ncases = 0;
	for (struct sema_probe *sp = g->sema->probes; sp; sp = sp->next)
		ncases += sp->group == g->probe->group;
	LLVMValueRef sw = LLVMBuildSwitch(g->b, nr, g->exit_bb, ncases);
	for (struct sema_probe *sp = g->sema->probes; sp; sp = sp->next)
		if (sp->group == g->probe->group)
			LLVMAddCase(sw, LLVMConstInt(g->i32, (unsigned)sp->sys_nr, 0), compat);
	LLVMPositionBuilderAtEnd(g->b, compat);
	LLVMValueRef task = cg_helper(g, BPF_FUNC_get_current_task, g->i64, NULL, 0);
	LLVMValueRef src = LLVMBuildIntToPtr(g->b, LLVMBuildAdd(g->b, task,
			cg_const(g, TASK_TI_STATUS), ""), g->ptr, "");
	LLVMBuildStore(g->b, cg_const(g, 0), tmp);
	LLVMValueRef a[3] = { tmp, LLVMConstInt(g->i32, 4, 0), src };
	cg_helper(g, BPF_FUNC_probe_read_kernel, g->i64, a, 3);
	LLVMValueRef st = LLVMBuildLoad2(g->b, g->i32, tmp, "");
	LLVMValueRef is32 = LLVMBuildAnd(g->b, st, LLVMConstInt(g->i32, TS_COMPAT, 0), "");
	LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntNE, is32, LLVMConstInt(g->i32, 0, 0), ""),
			g->exit_bb, g->setup);
}

/* entry: slot frame; setup: the per-CPU scratch lookup (removed again if
 * no slot spilled to scratch; moved after the predicate when the predicate
 * needs none: codegen.c); body; exit: return 0 */
static void build_prologue(struct cg *g)
{
	g->entry = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "entry");
	g->setup = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "setup");
	g->body = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "body");
	g->exit_bb = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "exit");
	LLVMPositionBuilderAtEnd(g->b, g->exit_bb);
	LLVMBuildRet(g->b, LLVMConstInt(g->i32, 0, 0));

	LLVMPositionBuilderAtEnd(g->b, g->entry);
	LLVMSetCurrentDebugLocation2(g->b, LLVMDIBuilderCreateDebugLocation(g->ctx, 1, 1, g->di_sp, NULL));
	g->frame = LLVMBuildAlloca(g->b, LLVMArrayType2(g->i8, cg_stack_budget(g) ? cg_stack_budget(g) : 8),
				  "frame");
	LLVMSetAlignment(g->frame, 8);
	LLVMValueRef zkey = LLVMBuildAlloca(g->b, g->i32, "zero");
	if (g->probe->raw_syscall)
		build_syscall_filter(g);
	else
		LLVMBuildBr(g->b, g->setup);

	LLVMPositionBuilderAtEnd(g->b, g->setup);
	g->setup_insts[0] = LLVMBuildStore(g->b, LLVMConstInt(g->i32, 0, 0), zkey);
	g->scratch_ptr = cg_map_lookup(g, g->scratch, zkey);
	g->setup_insts[1] = LLVMBuildIsNull(g->b, g->scratch_ptr, "");
	g->setup_insts[2] = LLVMBuildCondBr(g->b, g->setup_insts[1], g->exit_bb, g->body);
	LLVMPositionBuilderAtEnd(g->b, g->body);
	g->stack_top = g->stack_persist = g->scratch_top = g->scratch_persist = 0;
	g->nloops = 0;
	g->barrier = NULL;
}

static void finish_prologue(struct cg *g, bool used_scratch)
{
	if (used_scratch)
		return;
	LLVMInstructionEraseFromParent(g->setup_insts[2]);
	LLVMInstructionEraseFromParent(g->setup_insts[1]);
	LLVMInstructionEraseFromParent(g->scratch_ptr);
	LLVMInstructionEraseFromParent(g->setup_insts[0]);
	LLVMPositionBuilderAtEnd(g->b, g->setup);
	LLVMBuildBr(g->b, g->body);
}

/* Returns the bytes of per-CPU scratch space the program uses. */
static uint32_t gen_program(struct cg *g, struct sema_probe *sp)
{
	const char *name = arena_printf(g->arena, "p%d", sp->group);
	g->probe = sp;
	begin_function(g, sp, name);
	build_prologue(g);
	/* node types for this context; sema_check already reported every
	 * error, so a quiet walk: one walk per body, not two */
	bool quiet = g->sema->quiet;
	g->sema->quiet = true;
	sema_type_probe(g->sema, sp);
	g->sema->quiet = quiet;
	uint32_t before = g->scratch_size;
	g->scratch_size = 0;
	cg_probe_body(g, sp->probe);
	LLVMBuildBr(g->b, g->exit_bb);
	uint32_t used = g->scratch_size;
	if (before > g->scratch_size)
		g->scratch_size = before;
	finish_prologue(g, used > 0);
	LLVMSetCurrentDebugLocation2(g->b, NULL);
	g->di_sp = NULL;
	return used;
}

/* Sema refuses any single value above the per-CPU limit; several at once
 * can still overflow the scratch map (the kernel would refuse to create
 * it: E2BIG). Said before the slow part, optimizing and emitting. */
static bool scratch_fits(struct diag *d, struct sema_probe *sp, uint32_t used)
{
	if (used <= CG_SCRATCH_MAX)
		return true;
	diag_error(d, sp->attach->span,
		   "probe %s needs %u bytes of per-CPU scratch space for values too large for the "
		   "stack, more than the %u bytes the kernel allows for a per-CPU map value "
		   "(PCPU_MIN_UNIT_SIZE)",
		   sp->name, used, CG_SCRATCH_MAX);
	diag_hint(d, "keep fewer large strings and tuples alive at once (in variables, keys, "
		     "values and printf arguments), or split the work between probes");
	return false;
}

static void add_pd_probe(struct cg *g, const struct sema_probe *sp)
{
	struct progdesc *pd = g->pd;
	GROW(g, pd->probes, pd->nprobes, g->cap_probes);
	struct pd_probe *p = &pd->probes[pd->nprobes++];
	memset(p, 0, sizeof(*p));
	p->kind = sp->kind;
	p->prog_name = arena_printf(g->arena, "p%d", sp->group);
	p->name = sp->name;
	p->target = sp->target;
	p->func = sp->func;
	p->provider = sp->provider;
	p->offset = sp->offset;
	p->period_ns = sp->period_ns;
	p->freq = sp->freq;
	p->sample_period = sp->sample_period;
	p->perf_config = sp->perf_config;
	p->raw_tp = sp->raw_syscall;
	p->multi = sp->multi;
	p->file_offset = sp->file_offset;
	p->ref_ctr_off = sp->ref_ctr_off;
	src_line_col(g->src, sp->attach->span.begin, &p->line, &p->col);
}

/* ---- optimize and emit ---- */

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char *module_text(struct cg *g)
{
	char *ir = LLVMPrintModuleToString(g->mod);
	char *copy = arena_strdup(g->arena, ir);
	LLVMDisposeMessage(ir);
	return copy;
}

/* Memory intrinsics as the BPF backend can take them. With
 * -bpf-expand-memcpy-in-order it expands memcpy itself (in order, through
 * one register) up to 128 moves of the copy's alignment, and memset not at
 * all: anything else becomes a call to the C library function, which a BPF
 * program cannot make ("A call to built-in function 'memset' is not
 * supported"). The optimizer merges neighbouring stores and copies into
 * long ones (a 282-byte run of 'a' from a string literal becomes one
 * memset), so after optimizing, memsets are written out as stores and long
 * copies are split into chunks of 128 * alignment bytes. */
static LLVMTypeRef int_of_width(struct cg *g, unsigned w)
{
	return w == 8 ? g->i64 : w == 4 ? g->i32 : w == 2 ? g->i16 : g->i8;
}

static void expand_memset(struct cg *g, LLVMValueRef dst, uint8_t byte, uint64_t n, unsigned align)
{
	for (uint64_t off = 0; off < n;) {
		unsigned w = align;
		while (w > n - off)
			w /= 2;
		uint64_t v = 0;
		for (unsigned i = 0; i < w; i++)
			v = v << 8 | byte;
		LLVMValueRef st = LLVMBuildStore(g->b, LLVMConstInt(int_of_width(g, w), v, 0),
						 cg_gep(g, dst, off));
		LLVMSetAlignment(st, w);
		off += w;
	}
}

/* memmove, which the optimizer makes of a memcpy whose forwarded source
 * might overlap the destination: up to 8 moves of its alignment, every one
 * is loaded before any is stored (exact for any overlap; more would spill
 * past the stack limit); longer ones are copied forward move by move, exact unless the destination starts inside the
 * source (slots that overlap partially hold different statements'
 * temporaries, which no copy connects). */
static void expand_memmove(struct cg *g, LLVMValueRef dst, LLVMValueRef src, uint64_t n,
			   unsigned align)
{
	LLVMValueRef vals[64];
	uint64_t offs[64];
	unsigned ws[64], k = 0;
	for (uint64_t off = 0; off < n;) {
		unsigned w = align;
		while (w > n - off)
			w /= 2;
		LLVMValueRef v = LLVMBuildLoad2(g->b, int_of_width(g, w), cg_gep(g, src, off), "");
		LLVMSetAlignment(v, w);
		if (n > 8 * align) {
			LLVMSetAlignment(LLVMBuildStore(g->b, v, cg_gep(g, dst, off)), w);
		} else {
			vals[k] = v;
			offs[k] = off;
			ws[k++] = w;
		}
		off += w;
	}
	for (unsigned i = 0; i < k; i++)
		LLVMSetAlignment(LLVMBuildStore(g->b, vals[i], cg_gep(g, dst, offs[i])), ws[i]);
}

static bool split_mem_intrinsic(struct cg *g, LLVMValueRef call)
{
	LLVMValueRef fn = LLVMGetCalledValue(call);
	if (!fn || !LLVMIsAFunction(fn))
		return false;
	size_t len;
	const char *name = LLVMGetValueName2(fn, &len);
	bool is_set = !strncmp(name, "llvm.memset.", 12), is_cpy = !strncmp(name, "llvm.memcpy.", 12);
	bool is_move = !strncmp(name, "llvm.memmove.", 13);
	LLVMValueRef size = LLVMGetOperand(call, 2);
	if ((!is_set && !is_cpy && !is_move) || !LLVMIsAConstantInt(size))
		return false;
	LLVMValueRef dst = LLVMGetOperand(call, 0), src = LLVMGetOperand(call, 1);
	unsigned da = cg_call_align(call, 1), sa = is_set ? 8 : cg_call_align(call, 2);
	unsigned a = da < sa ? da : sa;
	uint64_t n = LLVMConstIntGetZExtValue(size);
	uint64_t chunk = 128 * a;
	if (is_set ? !LLVMIsAConstantInt(src) : is_cpy && n <= chunk)
		return false;
	LLVMPositionBuilderBefore(g->b, call);
	LLVMSetCurrentDebugLocation2(g->b, LLVMInstructionGetDebugLoc(call));
	if (is_set) {
		expand_memset(g, dst, (uint8_t)LLVMConstIntGetZExtValue(src), n, da);
		return true;
	}
	if (is_move) {
		expand_memmove(g, dst, src, n, a);
		return true;
	}
	for (uint64_t off = 0; off < n; off += chunk)
		LLVMBuildMemCpy(g->b, cg_gep(g, dst, off), da, cg_gep(g, src, off), sa,
				cg_const(g, n - off < chunk ? n - off : chunk));
	return true;
}

static void split_mem_intrinsics(struct cg *g)
{
	for (LLVMValueRef fn = LLVMGetFirstFunction(g->mod); fn; fn = LLVMGetNextFunction(fn))
		for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb;
		     bb = LLVMGetNextBasicBlock(bb))
			for (LLVMValueRef i = LLVMGetFirstInstruction(bb), next; i; i = next) {
				next = LLVMGetNextInstruction(i);
				if (LLVMIsACallInst(i) && split_mem_intrinsic(g, i))
					LLVMInstructionEraseFromParent(i);
			}
	LLVMSetCurrentDebugLocation2(g->b, NULL);
}

/* --debug-break long-jump: ISA v4 long jumps (gotol, 32-bit offset) become
 * pre-v4 jumps whose 16-bit offset wraps, as an assembler without range
 * checks would write them; the kernel then sees jumps out of the program. */
static void break_long_jumps(char *obj, size_t size)
{
	Elf64_Ehdr eh;
	if (size < sizeof(eh))
		return;
	memcpy(&eh, obj, sizeof(eh));
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh;
		uint64_t at = eh.e_shoff + (uint64_t)i * eh.e_shentsize;
		if (at + sizeof(sh) > size)
			return;
		memcpy(&sh, obj + at, sizeof(sh));
		if (!(sh.sh_flags & SHF_EXECINSTR) || sh.sh_offset + sh.sh_size > size)
			continue;
		for (uint64_t off = sh.sh_offset; off + 8 <= sh.sh_offset + sh.sh_size; off += 8) {
			struct bpf_insn in;
			memcpy(&in, obj + off, sizeof(in));
			if (in.code != (BPF_JMP32 | BPF_JA))
				continue;
			in.code = BPF_JMP | BPF_JA;
			in.off = (int16_t)in.imm;
			in.imm = 0;
			memcpy(obj + off, &in, sizeof(in));
		}
	}
}

/* MemCpyOpt merges neighbouring stores of one repeated byte (a string
 * literal's "0000", zeros) into a memset, and updates MemorySSA for each
 * new memset by renaming every access the block dominates: the rest of the
 * function, so the pass is quadratic in the number of statements (5,000
 * map assignments with keys of '0's: 5 s of its 5.2 s). The merged memsets
 * bring nothing here, split_mem_intrinsics writes them out as stores
 * again. Without memset as a library function (what clang's
 * -fno-builtin-memset sets) MemCpyOpt makes no memsets from stores; its
 * memcpy forwarding stays. */
static void no_memset_from_stores(struct cg *g)
{
	static const char attr[] = "no-builtin-memset";
	for (LLVMValueRef fn = LLVMGetFirstFunction(g->mod); fn; fn = LLVMGetNextFunction(fn))
		if (LLVMGetFirstBasicBlock(fn))
			LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
						LLVMCreateStringAttribute(g->ctx, attr,
									  sizeof(attr) - 1, "", 0));
}

static int emit(struct cg *g, struct diag *d, struct cg_result *out)
{
	char *err = NULL;
	LLVMTargetRef t;
	if (LLVMGetTargetFromTriple("bpfel", &t, &err)) {
		diag_error_nospan(d, "LLVM has no BPF target: %s", err);
		LLVMDisposeMessage(err);
		return -1;
	}
	/* Backend at -O1 ("Less"): the same code as -O2 for all 277 scripts of
	 * the runtime tests, the benchmarks and 150 generated programs, and
	 * 10-15% less CPU in instruction selection and the machine passes. */
	LLVMTargetMachineRef tm = LLVMCreateTargetMachine(t, "bpfel", g->opts.cpu ? g->opts.cpu : "v3",
							  "", LLVMCodeGenLevelLess,
							  LLVMRelocDefault, LLVMCodeModelDefault);
	LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(tm);
	LLVMSetModuleDataLayout(g->mod, dl);
	int rc = -1;
	char *verr = NULL;
	if (LLVMVerifyModule(g->mod, LLVMReturnStatusAction, &verr)) {
		diag_error_nospan(d, "internal error: invalid LLVM module: %s", verr);
		goto out;
	}
	double t0 = now_ms();
	LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
	no_memset_from_stores(g);
	LLVMErrorRef e = LLVMRunPasses(g->mod, "default<O2>", tm, po);
	LLVMDisposePassBuilderOptions(po);
	if (e) {
		char *m = LLVMGetErrorMessage(e);
		diag_error_nospan(d, "internal error: LLVM passes failed: %s", m);
		LLVMDisposeErrorMessage(m);
		goto out;
	}
	split_mem_intrinsics(g);
	cg_remove_chunk_barriers(g);
	double t1 = now_ms();
	out->ms_opt = t1 - t0;
	if (g->opts.print_ir)
		out->ir = module_text(g);
	if (g->opts.print_bpf) {
		LLVMMemoryBufferRef asm_buf = NULL;
		LLVMModuleRef clone = LLVMCloneModule(g->mod);
		if (!LLVMTargetMachineEmitToMemoryBuffer(tm, clone, LLVMAssemblyFile, &err, &asm_buf)) {
			out->bpf_asm = arena_strndup(g->arena, LLVMGetBufferStart(asm_buf),
						     LLVMGetBufferSize(asm_buf));
			LLVMDisposeMemoryBuffer(asm_buf);
		} else {
			LLVMDisposeMessage(err);
		}
		LLVMDisposeModule(clone);
	}
	if (LLVMTargetMachineEmitToMemoryBuffer(tm, g->mod, LLVMObjectFile, &err, &out->obj)) {
		diag_error_nospan(d, "internal error: BPF code generation failed: %s", err);
		LLVMDisposeMessage(err);
		goto out;
	}
	out->ms_emit = now_ms() - t1;
	if (cg_breaks(g, "long-jump"))
		break_long_jumps((char *)LLVMGetBufferStart(out->obj), LLVMGetBufferSize(out->obj));
	if (g->backend_errors) {
		LLVMDisposeMemoryBuffer(out->obj);
		out->obj = NULL;
		if (g->retry_on_stack_limit && strstr(g->backend_msg, "stack limit")) {
			rc = 1;
			goto out;
		}
		diag_error_nospan(d, "BPF code generation failed: %s", g->backend_msg);
		goto out;
	}
	rc = 0;
out:
	LLVMDisposeMessage(verr);
	LLVMDisposeTargetData(dl);
	LLVMDisposeTargetMachine(tm);
	return rc;
}

/* Returns 0, -1 (reported in d) or 1: LLVM's own spills overflowed the
 * 512-byte stack (with retry_on_stack_limit; nothing reported). */
static int compile_once(struct sema *s, const struct source *src, struct arena *a,
			const struct cg_options *opts, struct diag *d, struct cg_result *out,
			uint32_t stack_budget, bool retry)
{
	struct cg g = { .sema = s, .arena = a, .src = src, .opts = *opts,
			.stack_budget = stack_budget, .retry_on_stack_limit = retry };
	memset(out, 0, sizeof(*out));
	double t0 = now_ms();
	g.pd = arena_alloc(a, sizeof(*g.pd));
	init_module(&g, src);
	g.perfbuf = !ki_has(s->ki, KI_RINGBUF); /* kernels before 5.8 */
	define_internal_maps(&g);
	define_user_maps(&g);
	/* a group's probes need not be adjacent (probes.c moves syscall
	 * tracepoints of a block into their own group) */
	bool *done = arena_alloc(a, (size_t)s->ngroups + 1);
	bool fits = true;
	for (struct sema_probe *sp = s->probes; sp; sp = sp->next) {
		if (sp->group >= 0 && sp->group < s->ngroups && !done[sp->group]) {
			if (!scratch_fits(d, sp, gen_program(&g, sp)))
				fits = false;
			done[sp->group] = true;
		}
		add_pd_probe(&g, sp);
	}
	finish_scratch(&g);
	LLVMDIBuilderFinalize(g.di); /* before optimizing */
	if (opts->print_ir_raw)
		out->ir = module_text(&g);
	out->ms_ir = now_ms() - t0;
	int rc = fits ? emit(&g, d, out) : -1;
	if (rc == 0) {
		g.pd->obj = LLVMGetBufferStart(out->obj);
		g.pd->obj_size = LLVMGetBufferSize(out->obj);
		out->pd = g.pd;
	}
	LLVMDisposeDIBuilder(g.di);
	LLVMDisposeBuilder(g.b);
	LLVMDisposeModule(g.mod);
	LLVMContextDispose(g.ctx);
	return rc;
}

/* Slots take the first CG_STACK_BUDGET bytes of the 512-byte stack and
 * LLVM's register spills the rest. A long enough expression spills more
 * than that; the program is then compiled again with fewer slots on the
 * stack (the others in the per-CPU scratch value), down to none. */
int cg_compile(struct sema *s, const struct source *src, struct arena *a,
	       const struct cg_options *opts, struct diag *d, struct cg_result *out)
{
	static const uint32_t budgets[] = { CG_STACK_BUDGET, CG_STACK_BUDGET / 2, 0 };
	int rc = 1;
	for (size_t i = 0; rc == 1 && i < sizeof(budgets) / sizeof(budgets[0]); i++)
		rc = compile_once(s, src, a, opts, d, out, budgets[i], i + 1 < sizeof(budgets) / sizeof(budgets[0]));
	return rc;
}

void cg_result_free(struct cg_result *r)
{
	if (r->obj)
		LLVMDisposeMemoryBuffer(r->obj);
	r->obj = NULL;
}
