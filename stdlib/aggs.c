/* aggs.c: count, sum, min, max, avg, stats, hist, lhist.
 *
 * Aggregations live in per-CPU maps, so updates need no atomics; the
 * runtime merges the CPUs when it prints (runtime/maps.c). Per-CPU value
 * layouts are those of runtime/progdesc.h. Keyed ones are hashes: each
 * update is one lookup (plus an insert the first time a key is seen: see
 * agg_begin). Keyless ones are per-CPU arrays (cg_agg_array), whose lookup
 * the verifier inlines and which never miss; hist() and lhist() index
 * theirs by bucket. The layout of each map (array, buckets, value size)
 * is in its struct cg_map, decided by compiler/module.c.
 */
#include <linux/bpf.h>

#include "compiler/codegen.h"
#include "stdlib/stdlib.h"

static struct type *check_int_arg(struct sema *s, struct node *call, enum pd_agg agg)
{
	for (struct node *a = call->call.args; a; a = a->next) {
		struct type *t = sema_expr(s, a);
		if (t->kind == TY_NONE)
			return t;
		if (t->kind != TY_INT && t->kind != TY_PTR) {
			sema_error(s, a->span, "%s() expects an integer, not %s", call->call.name,
				   type_name_str(t, (char[96]){ 0 }, 96));
			return &type_none;
		}
	}
	return type_agg(s->arena, agg);
}

static struct type *check_count(struct sema *s, struct node *call)
{
	return check_int_arg(s, call, PD_AGG_COUNT);
}
static struct type *check_sum(struct sema *s, struct node *call)
{
	return check_int_arg(s, call, PD_AGG_SUM);
}
static struct type *check_min(struct sema *s, struct node *call)
{
	return check_int_arg(s, call, PD_AGG_MIN);
}
static struct type *check_max(struct sema *s, struct node *call)
{
	return check_int_arg(s, call, PD_AGG_MAX);
}
static struct type *check_avg(struct sema *s, struct node *call)
{
	return check_int_arg(s, call, PD_AGG_AVG);
}
static struct type *check_stats(struct sema *s, struct node *call)
{
	return check_int_arg(s, call, PD_AGG_STATS);
}

static struct type *check_hist(struct sema *s, struct node *call)
{
	struct type *t = check_int_arg(s, call, PD_AGG_HIST);
	int64_t k = 0;
	if (t->kind != TY_NONE && call->call.nargs == 2 &&
	    (!sema_const_int(s, call->call.args->next, &k) || k != 0)) {
		sema_error(s, call->call.args->next->span,
			   "hist(value, k): only k = 0 (power-of-two buckets) is supported");
		return &type_none;
	}
	return t;
}

/* lhist(value, min, max, step): the three bounds are constants, the same
 * at every use of the map. */
static struct type *check_lhist(struct sema *s, struct node *call)
{
	struct type *t = check_int_arg(s, call, PD_AGG_LHIST);
	if (t->kind == TY_NONE)
		return t;
	int64_t v[3];
	struct node *a = call->call.args->next;
	for (int i = 0; i < 3; i++, a = a->next)
		if (!sema_const_int(s, a, &v[i])) {
			sema_error(s, a->span, "lhist() bounds must be constants");
			return &type_none;
		}
	if (v[0] < 0 || v[1] <= v[0] || v[2] <= 0) {
		sema_error(s, call->span, "lhist(value, min, max, step) needs 0 <= min < max and step > 0");
		return &type_none;
	}
	if ((v[1] - v[0]) / v[2] > 1000) {
		sema_error(s, call->span, "lhist() would have more than 1000 buckets");
		return &type_none;
	}
	return t;
}

static struct type *check_agg_call(struct sema *s, struct node *call)
{
	const struct stdlib_fn *fn = call->sym;
	if (fn->agg == PD_AGG_LHIST)
		return check_lhist(s, call);
	return check_hist(s, call);
}

/* Called by sema (assign_map) with the map, for parameters that belong to
 * the map rather than to one call. */
static LLVMValueRef arg_value(struct cg *g, struct node *call)
{
	return cg_expr(g, call->call.args);
}

/* Where an update goes: the value found for the key (the builder in the
 * found path), or, for a key seen for the first time, an insert of the
 * update's result as the first value (agg_insert). */
struct agg_at {
	LLVMValueRef p;
	LLVMBasicBlockRef insert, done;
	struct cg_map *cm;
	LLVMValueRef key;
};

/* A miss costs one map update with the first value, BPF_ANY: if another
 * CPU inserted the key meanwhile, this CPU's share of the per-CPU value is
 * still zero (an insert zeroes the other CPUs' shares), so the first value
 * is right. No second lookup, no zero value. Values too large to build
 * (hist, lhist) are inserted as zeros and looked up again, and a keyless
 * aggregation is an array whose element always exists
 * (cg_map_lookup_or_init). */
static void agg_begin(struct cg *g, struct sema_map *m, LLVMValueRef key, struct agg_at *at)
{
	struct cg_map *cm = &g->maps[m->index];
	*at = (struct agg_at){ .cm = cm, .key = key };
	if (cm->array || cm->value_size > 16 || cg_breaks(g, "null-check")) {
		at->p = cg_map_lookup_or_init(g, cm, key);
		return;
	}
	at->p = cg_map_lookup(g, cm->global, key);
	LLVMBasicBlockRef found = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "found");
	at->insert = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "insert");
	at->done = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "");
	cg_expect(g, LLVMBuildCondBr(g->b, LLVMBuildIsNull(g->b, at->p, ""), at->insert, found),
		  false);
	LLVMPositionBuilderAtEnd(g->b, found);
}

/* Ends the found path; on a miss, inserts { first0 } or { first0, first1 }
 * (count()'s constant 1 straight from .rodata) */
static void agg_insert(struct cg *g, struct agg_at *at, LLVMValueRef first0, LLVMValueRef first1)
{
	if (!at->insert)
		return;
	LLVMBuildBr(g->b, at->done);
	LLVMPositionBuilderAtEnd(g->b, at->insert);
	LLVMValueRef v;
	if (!first1 && LLVMIsAConstantInt(first0) && LLVMConstIntGetZExtValue(first0) == 1) {
		v = cg_one(g);
	} else {
		v = cg_slot(g, first1 ? 16 : 8, false);
		cg_store_int(g, v, first0, 8);
		if (first1)
			cg_store_int(g, cg_gep(g, v, 8), first1, 8);
	}
	cg_map_update(g, at->cm->global, at->key, v, BPF_ANY);
	LLVMBuildBr(g->b, at->done);
	LLVMPositionBuilderAtEnd(g->b, at->done);
}

static void add_at(struct cg *g, LLVMValueRef p, LLVMValueRef delta)
{
	LLVMValueRef old = LLVMBuildLoad2(g->b, g->i64, p, "");
	LLVMBuildStore(g->b, LLVMBuildAdd(g->b, old, delta, ""), p);
}

static void lower_count(struct cg *g, struct node *call, LLVMValueRef key, struct sema_map *m)
{
	(void)call;
	struct agg_at at;
	agg_begin(g, m, key, &at);
	add_at(g, at.p, cg_const(g, 1));
	agg_insert(g, &at, cg_const(g, 1), NULL);
}

static void lower_sum(struct cg *g, struct node *call, LLVMValueRef key, struct sema_map *m)
{
	LLVMValueRef v = arg_value(g, call);
	struct agg_at at;
	agg_begin(g, m, key, &at);
	add_at(g, at.p, v);
	/* in an array, { total, updated }: a sum of 0 is still there to
	 * print, as a key of bpftrace's hash would be */
	if (at.cm->array)
		LLVMBuildStore(g->b, cg_const(g, 1), cg_gep(g, at.p, 8));
	agg_insert(g, &at, v, NULL);
}

/* { int64 value; uint64 is_set; }: replace when unset or better */
static void lower_minmax(struct cg *g, struct node *call, LLVMValueRef key, struct sema_map *m,
			 bool is_min)
{
	LLVMValueRef v = arg_value(g, call);
	struct agg_at at;
	agg_begin(g, m, key, &at);
	LLVMValueRef p = at.p;
	LLVMValueRef old = LLVMBuildLoad2(g->b, g->i64, p, "");
	LLVMValueRef set = LLVMBuildLoad2(g->b, g->i64, cg_gep(g, p, 8), "");
	/* signed whatever the argument's type, as bpftrace 0.17 (which
	 * prints the result signed too): min(arg2 - 3) of arg2 = 0 is -3 */
	LLVMIntPredicate pred = is_min ? LLVMIntSLT : LLVMIntSGT;
	LLVMValueRef better = LLVMBuildICmp(g->b, pred, v, old, "");
	LLVMValueRef unset = LLVMBuildICmp(g->b, LLVMIntEQ, set, cg_const(g, 0), "");
	LLVMBasicBlockRef done = cg_if(g, LLVMBuildOr(g->b, better, unset, ""), "replace");
	LLVMBuildStore(g->b, v, p);
	LLVMBuildStore(g->b, cg_const(g, 1), cg_gep(g, p, 8));
	LLVMBuildBr(g->b, done);
	LLVMPositionBuilderAtEnd(g->b, done);
	agg_insert(g, &at, v, cg_const(g, 1));
}

static void lower_min(struct cg *g, struct node *call, LLVMValueRef key, struct sema_map *m)
{
	lower_minmax(g, call, key, m, true);
}

static void lower_max(struct cg *g, struct node *call, LLVMValueRef key, struct sema_map *m)
{
	lower_minmax(g, call, key, m, false);
}

/* { int64 total; uint64 count; } */
static void lower_avg(struct cg *g, struct node *call, LLVMValueRef key, struct sema_map *m)
{
	LLVMValueRef v = arg_value(g, call);
	struct agg_at at;
	agg_begin(g, m, key, &at);
	add_at(g, at.p, v);
	add_at(g, cg_gep(g, at.p, 8), cg_const(g, 1));
	agg_insert(g, &at, v, cg_const(g, 1));
}

/* Bucket index as bpftrace computes it: 0 for negative values, 1 for 0,
 * then 2 + floor(log2(v)). Four steps of a binary search narrow v down to
 * its top 4 bits (shifted right by log, a multiple of 4 up to 60), then a
 * table of 16 nibbles in one 64-bit constant gives the rest: 1 for 0,
 * floor(log2(n)) + 2 for n = 1..15. All in arithmetic: BPF has no
 * conditional move, so every select becomes a jump, and the verifier walks
 * each outcome of each jump separately; six hist() calls in an unrolled
 * loop made it give up after a million instructions. Each step takes the
 * sign of (2^bits - 1 - n), which is set exactly when n >= 2^bits
 * (n < 2^63: negative v are sorted out at the end); it goes through
 * cg_opaque so that LLVM cannot turn it back into a compare.
 * The verifier knows nothing of n after a shift by a variable amount, so
 * every bound it needs comes from a mask that the arithmetic itself needs
 * (the steps' & 2^k, the nibble's & 15), never from one LLVM could prove
 * redundant: instruction selection sees through llvm.bpf.passthrough, and
 * a `& 255` before a load from a 256-byte table in .rodata was dropped
 * whenever v was known to be small (hist((uint16)(2 >> x))), leaving the
 * verifier an unbounded offset. */
static LLVMValueRef hist_index(struct cg *g, LLVMValueRef v)
{
	LLVMValueRef n = v, log = NULL;
	for (unsigned k = 5; k-- > 1;) { /* steps of 32, 16, 8, 4 bits */
		unsigned bits = 1u << (k + 1);
		LLVMValueRef t = cg_opaque(g, LLVMBuildSub(g->b, cg_const(g, (1ull << bits) - 1), n, ""));
		LLVMValueRef sh = LLVMBuildShl(g->b, LLVMBuildLShr(g->b, t, cg_const(g, 63), ""),
					       cg_const(g, k + 1), "");
		n = LLVMBuildLShr(g->b, n, sh, "");
		log = log ? LLVMBuildOr(g->b, log, sh, "") : sh;
	}
	uint64_t nibbles = 1; /* n = 0: bucket 1 */
	for (unsigned i = 1, l = 0; i < 16; i++) {
		l += i >> (l + 1) != 0; /* floor(log2(i)) */
		nibbles |= (uint64_t)(l + 2) << (4 * i);
	}
	LLVMValueRef rest = LLVMBuildLShr(g->b, cg_const(g, nibbles),
					  LLVMBuildShl(g->b, n, cg_const(g, 2), ""), "");
	rest = LLVMBuildAnd(g->b, rest, cg_const(g, 15), "");
	LLVMValueRef idx = LLVMBuildAdd(g->b, log, rest, "");
	/* v < 0: 0 */
	LLVMValueRef neg = LLVMBuildICmp(g->b, LLVMIntSLT, v, cg_const(g, 0), "");
	return LLVMBuildSelect(g->b, neg, cg_const(g, 0), idx, "");
}

/* buckets[idx]++ for the map's key. A keyless hist()/lhist() is a per-CPU
 * array indexed by bucket (cg_map.buckets): idx is the key, and the
 * lookup the verifier inlines compares it with the array's size, so there
 * is nothing to clamp and no hash lookup. Otherwise the buckets are one
 * value of the key, and idx is clamped right before use (rule 4). */
static void count_in_bucket(struct cg *g, struct sema_map *m, LLVMValueRef key, LLVMValueRef idx,
			    uint32_t nbuckets)
{
	struct cg_map *cm = &g->maps[m->index];
	if (cm->buckets) {
		LLVMValueRef k = cg_slot(g, 4, false);
		cg_store_int(g, k, idx, 4);
		add_at(g, cg_map_lookup_or_init(g, cm, k), cg_const(g, 1));
		return;
	}
	LLVMValueRef p = cg_map_lookup_or_init(g, cm, key);
	idx = cg_clamp(g, idx, nbuckets - 1);
	LLVMValueRef off = LLVMBuildMul(g->b, idx, cg_const(g, 8), "");
	LLVMValueRef slot = LLVMBuildInBoundsGEP2(g->b, g->i8, p, &off, 1, "");
	add_at(g, slot, cg_const(g, 1));
}

static void lower_hist(struct cg *g, struct node *call, LLVMValueRef key, struct sema_map *m)
{
	LLVMValueRef v = arg_value(g, call);
	count_in_bucket(g, m, key, hist_index(g, v), HIST_NBUCKETS);
}

/* index 0: v < min; 1 + (v - min) / step, clamped to the last bucket (which
 * collects v >= min + nbuckets * step, so values just below max can land
 * there when step does not divide max - min, as in bpftrace) */
static void lower_lhist(struct cg *g, struct node *call, LLVMValueRef key, struct sema_map *m)
{
	uint32_t nb = g->maps[m->index].nbuckets;
	LLVMValueRef v = arg_value(g, call);
	LLVMValueRef below = LLVMBuildICmp(g->b, LLVMIntSLT, v, cg_const(g, m->lhist_min), "");
	LLVMValueRef above = LLVMBuildICmp(g->b, LLVMIntSGE, v, cg_const(g, m->lhist_max), "");
	LLVMValueRef rel = LLVMBuildSub(g->b, v, cg_const(g, m->lhist_min), "");
	LLVMValueRef idx = LLVMBuildAdd(g->b, LLVMBuildUDiv(g->b, rel, cg_const(g, m->lhist_step), ""),
					cg_const(g, 1), "");
	idx = LLVMBuildSelect(g->b, above, cg_const(g, nb - 1), idx, "");
	idx = LLVMBuildSelect(g->b, below, cg_const(g, 0), idx, "");
	count_in_bucket(g, m, key, idx, nb);
}

const struct stdlib_fn stdlib_agg_fns[] = {
	{ "count", 0, 0, FN_AGG, PD_AGG_COUNT, check_count, NULL, lower_count },
	{ "sum", 1, 1, FN_AGG, PD_AGG_SUM, check_sum, NULL, lower_sum },
	{ "min", 1, 1, FN_AGG, PD_AGG_MIN, check_min, NULL, lower_min },
	{ "max", 1, 1, FN_AGG, PD_AGG_MAX, check_max, NULL, lower_max },
	{ "avg", 1, 1, FN_AGG, PD_AGG_AVG, check_avg, NULL, lower_avg },
	{ "stats", 1, 1, FN_AGG, PD_AGG_STATS, check_stats, NULL, lower_avg },
	{ "hist", 1, 2, FN_AGG, PD_AGG_HIST, check_agg_call, NULL, lower_hist },
	{ "lhist", 4, 4, FN_AGG, PD_AGG_LHIST, check_agg_call, NULL, lower_lhist },
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};
