/* aggs.c: count, sum, min, max, avg, stats, hist, lhist.
 *
 * Aggregations live in per-CPU hash maps, so updates need no atomics; the
 * runtime merges the CPUs when it prints (runtime/maps.c). Per-CPU value
 * layouts are those of runtime/progdesc.h. Each update is one lookup (plus
 * an insert the first time a key is seen).
 */
#include <linux/bpf.h>

#include "compiler/codegen.h"
#include "stdlib/stdlib.h"

uint32_t cg_agg_value_size(const struct sema_map *m)
{
	switch (m->value->agg) {
	case PD_AGG_COUNT:
	case PD_AGG_SUM:
		return 8;
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

static LLVMValueRef value_ptr(struct cg *g, struct node *call, LLVMValueRef key,
			      struct sema_map *m)
{
	(void)call;
	return cg_map_lookup_or_init(g, &g->maps[m->index], key);
}

static void add_at(struct cg *g, LLVMValueRef p, LLVMValueRef delta)
{
	LLVMValueRef old = LLVMBuildLoad2(g->b, g->i64, p, "");
	LLVMBuildStore(g->b, LLVMBuildAdd(g->b, old, delta, ""), p);
}

static void lower_count(struct cg *g, struct node *call, LLVMValueRef key, struct sema_map *m)
{
	add_at(g, value_ptr(g, call, key, m), cg_const(g, 1));
}

static void lower_sum(struct cg *g, struct node *call, LLVMValueRef key, struct sema_map *m)
{
	LLVMValueRef v = arg_value(g, call);
	add_at(g, value_ptr(g, call, key, m), v);
}

/* { int64 value; uint64 is_set; }: replace when unset or better */
static void lower_minmax(struct cg *g, struct node *call, LLVMValueRef key, struct sema_map *m,
			 bool is_min)
{
	LLVMValueRef v = arg_value(g, call);
	LLVMValueRef p = value_ptr(g, call, key, m);
	LLVMValueRef old = LLVMBuildLoad2(g->b, g->i64, p, "");
	LLVMValueRef set = LLVMBuildLoad2(g->b, g->i64, cg_gep(g, p, 8), "");
	bool sgn = call->call.args->type->is_signed;
	LLVMIntPredicate pred = is_min ? (sgn ? LLVMIntSLT : LLVMIntULT) : (sgn ? LLVMIntSGT : LLVMIntUGT);
	LLVMValueRef better = LLVMBuildICmp(g->b, pred, v, old, "");
	LLVMValueRef unset = LLVMBuildICmp(g->b, LLVMIntEQ, set, cg_const(g, 0), "");
	LLVMBasicBlockRef done = cg_if(g, LLVMBuildOr(g->b, better, unset, ""), "replace");
	LLVMBuildStore(g->b, v, p);
	LLVMBuildStore(g->b, cg_const(g, 1), cg_gep(g, p, 8));
	LLVMBuildBr(g->b, done);
	LLVMPositionBuilderAtEnd(g->b, done);
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
	LLVMValueRef p = value_ptr(g, call, key, m);
	add_at(g, p, v);
	add_at(g, cg_gep(g, p, 8), cg_const(g, 1));
}

/* 1 if x != 0 else 0, for x < 2^63, without a branch: BPF has no
 * conditional move, so every select becomes a jump, and the verifier
 * walks each outcome of each jump separately; six hist() calls in an
 * unrolled loop made it give up after a million instructions. The
 * passthrough keeps LLVM from turning this back into a compare. */
static LLVMValueRef nonzero_bit(struct cg *g, LLVMValueRef x)
{
	LLVMValueRef t = LLVMBuildOr(g->b, x, LLVMBuildNeg(g->b, x, ""), "");
	return LLVMBuildLShr(g->b, cg_opaque(g, t), cg_const(g, 63), "");
}

/* Bucket index as bpftrace computes it: 0 for negative values, 1 for 0,
 * then 2 + floor(log2(v)), by a binary search in arithmetic only. */
static LLVMValueRef hist_index(struct cg *g, LLVMValueRef v)
{
	LLVMValueRef n = v, log = cg_const(g, 0);
	for (unsigned k = 5; k-- > 0;) { /* shifts 32, 16, 8, 4, 2 */
		LLVMValueRef big = nonzero_bit(g, LLVMBuildLShr(g->b, n, cg_const(g, 1u << (k + 1)), ""));
		LLVMValueRef sh = LLVMBuildShl(g->b, big, cg_const(g, k + 1), "");
		n = LLVMBuildLShr(g->b, n, sh, "");
		log = LLVMBuildAdd(g->b, log, sh, "");
	}
	log = LLVMBuildAdd(g->b, log, LLVMBuildLShr(g->b, n, cg_const(g, 1), ""), ""); /* n < 4 */
	/* v > 0: log + 2; v == 0: 1 */
	LLVMValueRef idx = LLVMBuildAdd(
		g->b, cg_const(g, 1),
		LLVMBuildMul(g->b, nonzero_bit(g, v), LLVMBuildAdd(g->b, log, cg_const(g, 1), ""), ""),
		"");
	/* v < 0: 0 */
	LLVMValueRef neg = LLVMBuildLShr(g->b, v, cg_const(g, 63), "");
	return LLVMBuildAnd(g->b, idx, LLVMBuildSub(g->b, neg, cg_const(g, 1), ""), "");
}

/* buckets[idx]++, with idx clamped right before use (rule 4) */
static void bump_bucket(struct cg *g, LLVMValueRef p, LLVMValueRef idx, uint32_t nbuckets)
{
	idx = cg_clamp(g, idx, nbuckets - 1);
	LLVMValueRef off = LLVMBuildMul(g->b, idx, cg_const(g, 8), "");
	LLVMValueRef slot = LLVMBuildInBoundsGEP2(g->b, g->i8, p, &off, 1, "");
	add_at(g, slot, cg_const(g, 1));
}

static void lower_hist(struct cg *g, struct node *call, LLVMValueRef key, struct sema_map *m)
{
	LLVMValueRef v = arg_value(g, call);
	LLVMValueRef idx = hist_index(g, v);
	bump_bucket(g, value_ptr(g, call, key, m), idx, HIST_NBUCKETS);
}

/* index 0: v < min; 1 + (v - min) / step, clamped to the last bucket (which
 * collects v >= min + nbuckets * step, so values just below max can land
 * there when step does not divide max - min, as in bpftrace) */
static void lower_lhist(struct cg *g, struct node *call, LLVMValueRef key, struct sema_map *m)
{
	uint32_t nb = cg_agg_value_size(m) / 8;
	LLVMValueRef v = arg_value(g, call);
	LLVMValueRef below = LLVMBuildICmp(g->b, LLVMIntSLT, v, cg_const(g, m->lhist_min), "");
	LLVMValueRef above = LLVMBuildICmp(g->b, LLVMIntSGE, v, cg_const(g, m->lhist_max), "");
	LLVMValueRef rel = LLVMBuildSub(g->b, v, cg_const(g, m->lhist_min), "");
	LLVMValueRef idx = LLVMBuildAdd(g->b, LLVMBuildUDiv(g->b, rel, cg_const(g, m->lhist_step), ""),
					cg_const(g, 1), "");
	idx = LLVMBuildSelect(g->b, above, cg_const(g, nb - 1), idx, "");
	idx = LLVMBuildSelect(g->b, below, cg_const(g, 0), idx, "");
	bump_bucket(g, value_ptr(g, call, key, m), idx, nb);
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
