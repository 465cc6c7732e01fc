/* module.c: the state of the LLVM module below any program function: the
 * maps (user maps, the event buffer, the scratch map, stack trace maps),
 * the data globals (.rodata zeros, the u64 1, lookup tables; the .bss
 * counter of lost records, the .bss.map_full counters of dropped map
 * updates), their debug info (BTF), and the program
 * description the runtime reads beside the object (progdesc.h).
 *
 * Maps are BTF-defined (libbpf >= 1.0 accepts nothing else): the struct
 * { type, max_entries, key, value } that libbpf parses is added to the
 * object's BTF after emitting (mapbtf.c, called by object.c); every
 * program function has a subprogram with a named
 * parameter, or the kernel rejects the BTF (design.md).
 *
 * The bottom layer of code generation (docs/architecture.md, "Codegen
 * layers"): it calls nothing in bpf_ir.c, codegen.c, rawsyscall.c,
 * stdlib/ or object.c. Aggregation layouts are decided here, when the
 * maps are declared, and kept in struct cg_map for the layers above.
 */
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler/codegen.h"

#define DW_ATE_signed 0x05
#define DW_ATE_unsigned 0x08
#define DW_ATE_unsigned_char 0x08

#define MAP_KEYS_MAX 4096     /* bpftrace's default map size */
#define RINGBUF_SIZE (1 << 20)
#define STACK_DEPTH 127	      /* perf_event_max_stack's default */

/* ---- debug info (BTF) ---- */

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

struct map_def {
	uint32_t type, max_entries, key_size, value_size;
	bool sizes_as_numbers; /* key_size/value_size members (stack maps) */
};

/* BTF of the struct { type, max_entries, key, value } libbpf parses: not
 * LLVM debug info, which costs maps x programs (compiler/mapbtf.c) */
static void set_map_debug_info(struct cg *g, LLVMValueRef gv, const char *name,
			       const struct map_def *d)
{
	(void)gv;
	cg_btf_map(g, name, d->type, d->max_entries, d->key_size, d->value_size,
		   d->sizes_as_numbers);
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


static int add_pd_map(struct cg *g, const char *name, const char *obj_name,
		      enum pd_map_role role, const struct map_def *d)
{
	struct progdesc *pd = g->pd;
	ARENA_GROW(g->arena, pd->maps, pd->nmaps, g->cap_maps);
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
	ARENA_GROW(g->arena, pd->printfs, pd->nprintfs, g->cap_printfs);
	pd->printfs[pd->nprintfs] = (struct pd_printf){ fmt, nargs, args, size };
	return pd->nprintfs++;
}

uint32_t cg_add_print(struct cg *g, int map, int64_t top, int64_t div)
{
	struct progdesc *pd = g->pd;
	ARENA_GROW(g->arena, pd->prints, pd->nprints, g->cap_prints);
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
	ARENA_GROW(g->arena, pd->values, pd->nvalues, g->cap_values);
	type_to_layout(g->arena, t, &pd->values[pd->nvalues]);
	cg_fix_layout(g, &pd->values[pd->nvalues]);
	return pd->nvalues++;
}

uint32_t cg_add_time_fmt(struct cg *g, const char *fmt)
{
	struct progdesc *pd = g->pd;
	ARENA_GROW(g->arena, pd->time_fmts, pd->ntime_fmts, g->cap_times);
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

/* ---- maps ---- */

bool cg_agg_array(const struct sema_map *m)
{
	return !m->key && !m->deleted && !m->decl;
}

uint32_t cg_agg_value_size(const struct sema_map *m)
{
	switch (m->value->agg) {
	case PD_AGG_COUNT:
		return 8;
	case PD_AGG_SUM: /* a keyless sum() also says it was updated */
		return cg_agg_array(m) ? 16 : 8;
	case PD_AGG_MIN:
	case PD_AGG_MAX:
	case PD_AGG_AVG:
	case PD_AGG_STATS:
		return 16;
	case PD_AGG_HIST:
		return HIST_NBUCKETS * 8;
	case PD_AGG_LHIST: {
		int64_t span = m->lhist_max - m->lhist_min;
		/* as bpftrace 0.17: (max - min) / step buckets, rounded down, plus
		 * below-min and at-or-above the last bucket's end */
		return (uint32_t)(span / m->lhist_step + 2) * 8;
	}
	default:
		return 8;
	}
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
		struct cg_map *cm = &g->maps[m->index];
		bool hist = agg && (m->value->agg == PD_AGG_HIST || m->value->agg == PD_AGG_LHIST);
		cm->sm = m;
		cm->array = agg && cg_agg_array(m);
		cm->buckets = cm->array && hist;
		cm->value_size = agg ? cg_agg_value_size(m) : m->value->size;
		cm->nbuckets = hist ? cm->value_size / 8 : 0;
		bool array = cm->array, buckets = cm->buckets;
		uint32_t nelems = buckets ? cm->nbuckets : 1;
		struct map_def d = {
			.type = m->decl ? m->decl_type
				: array ? BPF_MAP_TYPE_PERCPU_ARRAY
				: agg ? BPF_MAP_TYPE_PERCPU_HASH : BPF_MAP_TYPE_HASH,
			.max_entries = m->decl ? m->decl_size
				: m->key ? (g->sema->opts.map_keys_max ?: MAP_KEYS_MAX)
				: array ? nelems + (m->value->agg != PD_AGG_COUNT) : 1,
			.key_size = m->key ? m->key->size : array ? 4 : 8,
			.value_size = buckets ? 8 : cm->value_size,
		};
		if (d.value_size > g->zeros_size)
			g->zeros_size = d.value_size;
		const char *obj = arena_printf(g->arena, "m%d", m->index);
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
		pm->nbuckets = cm->nbuckets;
		if (buckets) /* the runtime reads it as one value of all buckets */
			pm->value_size = cm->value_size;
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
		uint32_t rb_size = g->opts.ringbuf_pages
					   ? g->opts.ringbuf_pages * (uint32_t)sysconf(_SC_PAGESIZE)
					   : RINGBUF_SIZE;
		struct map_def rb = { BPF_MAP_TYPE_RINGBUF, rb_size, 0, 0, false };
		g->ringbuf = map_global(g, "ringbuf", 2);
		set_map_debug_info(g, g->ringbuf, "ringbuf", &rb);
		g->pd_ringbuf = add_pd_map(g, "ringbuf", "ringbuf", PD_MAP_RINGBUF, &rb);
	}
	g->scratch = map_global(g, "scratch", 4); /* debug info once its size is known */
}

void cg_define_maps(struct cg *g)
{
	define_internal_maps(g);
	define_user_maps(g);
}

/* ---- data globals ---- */

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

/* Updates dropped because a script map was full: one u64 per script map
 * (by sema index) in a section of its own (.bss.map_full: libbpf makes
 * each .bss.* section its own array map, so the lost counter's .bss
 * keeps its one u64), added to atomically when a key is new or at the
 * exit of a program that counted drops (checks.c). */
LLVMValueRef cg_map_full_counter(struct cg *g)
{
	if (!g->map_full_var) {
		uint32_t n = (uint32_t)g->sema->nmaps;
		g->map_full_var = data_global(g, "map_full", ".bss.map_full", n * 8, false, 0);
		struct map_def d = { BPF_MAP_TYPE_ARRAY, 1, 4, n * 8, false };
		int *pds = arena_alloc(g->arena, n * sizeof(*pds));
		for (uint32_t i = 0; i < n; i++)
			pds[i] = g->maps[i].pd_index;
		g->pd->map_full_map = add_pd_map(g, "map_full", ".bss.map_full", PD_MAP_COUNTERS, &d);
		g->pd->map_full_pd = pds;
		g->pd->nmap_full = n;
	}
	return g->map_full_var;
}

/* Not in the program description: only the programs read and write it
 * (the runtime learns the pids from PD_REC_PID records). */
LLVMValueRef cg_pid_table(struct cg *g)
{
	if (!g->pid_table)
		g->pid_table = data_global(g, "pids", ".data.pids", CG_PID_SLOTS * 4, false, 0);
	return g->pid_table;
}

/* The scratch map sized once every program is generated, or deleted if
 * none needs it */
void cg_finish_scratch(struct cg *g)
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

/* ---- program functions: BTF, progdesc entries ---- */

/* The subprogram of the program function g->fn, `int NAME(void *ctx)`:
 * the kernel rejects BTF whose function has an unnamed parameter
 * (design.md) */
void cg_di_function(struct cg *g, const char *name, uint32_t line)
{
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

/* The description of one probe; its program is p<group> */
void cg_add_probe(struct cg *g, const struct sema_probe *sp)
{
	struct progdesc *pd = g->pd;
	ARENA_GROW(g->arena, pd->probes, pd->nprobes, g->cap_probes);
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
	p->chained = sp->chained;
	p->multi = sp->multi;
	p->file_offset = sp->file_offset;
	p->ref_ctr_off = sp->ref_ctr_off;
	src_line_col(g->src, sp->attach->span.begin, &p->line, &p->col);
}
