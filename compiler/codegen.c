/* codegen.c: AST -> LLVM IR, one function per node kind.
 *
 * In: a program sema accepted (every node typed). Out: one BPF program
 * function per probe group in g->mod, and the printf/print/record tables in
 * the program description. The function, its prologue, the passes and
 * emission are object.c's; maps, globals and the program description
 * module.c's; BPF idioms are in bpf_ir.c; builtins and functions in
 * stdlib/ (docs/architecture.md, "Codegen layers": this file calls only
 * bpf_ir.c, rawsyscall.c and module.c, and stdlib/ through its hooks).
 * Codegen never reports errors: whatever sema accepted must lower.
 */
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "compiler/codegen.h"
#include "stdlib/stdlib.h"

void cg_set_loc(struct cg *g, struct node *n)
{
	if (!g->di_sp || !n)
		return;
	uint32_t line, col;
	src_line_col(g->src, n->span.begin, &line, &col);
	LLVMMetadataRef loc = LLVMDIBuilderCreateDebugLocation(g->ctx, line, col, g->di_sp, NULL);
	LLVMSetCurrentDebugLocation2(g->b, loc);
}

LLVMValueRef cg_bool(struct cg *g, LLVMValueRef v)
{
	return LLVMBuildICmp(g->b, LLVMIntNE, v, cg_const(g, 0), "");
}

static LLVMValueRef from_bool(struct cg *g, LLVMValueRef i1)
{
	return LLVMBuildZExt(g->b, i1, g->i64, "");
}

/* Normalizes an i64 to an integer type's width and signedness. */
static LLVMValueRef narrow(struct cg *g, LLVMValueRef v, const struct type *t)
{
	if (t->kind != TY_INT || t->size >= 8)
		return v;
	LLVMTypeRef nt = LLVMIntTypeInContext(g->ctx, t->size * 8);
	LLVMValueRef tr = LLVMBuildTrunc(g->b, v, nt, "");
	return t->is_signed ? LLVMBuildSExt(g->b, tr, g->i64, "") : LLVMBuildZExt(g->b, tr, g->i64, "");
}

LLVMValueRef cg_narrow(struct cg *g, LLVMValueRef v, const struct type *t)
{
	return narrow(g, v, t);
}

/* Writes a value of type `from` into dst in the storage form of `to`;
 * aggregates are zero-filled first, so padding and the bytes after a
 * string's NUL are zeros (rule 1). */
void cg_store_as(struct cg *g, struct node *n, LLVMValueRef v, struct type *from,
		 struct type *to, LLVMValueRef dst)
{
	if (!type_is_aggregate(to)) {
		cg_store_int(g, dst, v, to->size >= 8 ? 8 : to->size);
		return;
	}
	if (to->kind == TY_TUPLE && from->kind == TY_TUPLE && !type_equal(from, to)) {
		cg_zero(g, dst, to->size);
		for (uint32_t i = 0; i < to->nfields; i++) {
			struct type_field *ff = &from->fields[i], *tf = &to->fields[i];
			LLVMValueRef src = cg_gep(g, v, ff->offset);
			LLVMValueRef fv = type_is_aggregate(ff->type)
						  ? src
						  : cg_load_int(g, src, ff->type->size, ff->type->is_signed);
			cg_store_as(g, n, fv, ff->type, tf->type, cg_gep(g, dst, tf->offset));
		}
		return;
	}
	uint32_t n_copy = from->size < to->size ? from->size : to->size;
	if (n_copy < to->size)
		cg_zero(g, dst, to->size);
	if (v != dst)
		cg_copy(g, dst, v, n_copy);
	if (to->kind == TY_STR && from->size > to->size && to->size) /* cut: still ends in NUL */
		cg_store_int(g, cg_gep(g, dst, to->size - 1), cg_const(g, 0), 1);
}

/* ---- expressions ---- */

/* Division by zero yields 0 rather than a verifier error or UB. Signed
 * division is done on magnitudes (BPF before cpu=v4 has no sdiv/smod):
 * the quotient is negative when the signs differ, the remainder takes the
 * dividend's sign, as in C. */
static LLVMValueRef cg_divmod(struct cg *g, bool is_div, bool sgn, LLVMValueRef l, LLVMValueRef r)
{
	LLVMValueRef is0 = LLVMBuildICmp(g->b, LLVMIntEQ, r, cg_const(g, 0), "");
	LLVMValueRef safe = LLVMBuildSelect(g->b, is0, cg_const(g, 1), r, "");
	if (!sgn) {
		LLVMValueRef q = is_div ? LLVMBuildUDiv(g->b, l, safe, "") : LLVMBuildURem(g->b, l, safe, "");
		return LLVMBuildSelect(g->b, is0, cg_const(g, 0), q, "");
	}
	LLVMValueRef lneg = LLVMBuildICmp(g->b, LLVMIntSLT, l, cg_const(g, 0), "");
	LLVMValueRef rneg = LLVMBuildICmp(g->b, LLVMIntSLT, safe, cg_const(g, 0), "");
	LLVMValueRef la = LLVMBuildSelect(g->b, lneg, LLVMBuildNeg(g->b, l, ""), l, "");
	LLVMValueRef ra = LLVMBuildSelect(g->b, rneg, LLVMBuildNeg(g->b, safe, ""), safe, "");
	LLVMValueRef q = is_div ? LLVMBuildUDiv(g->b, la, ra, "") : LLVMBuildURem(g->b, la, ra, "");
	LLVMValueRef neg = is_div ? LLVMBuildXor(g->b, lneg, rneg, "") : lneg;
	q = LLVMBuildSelect(g->b, neg, LLVMBuildNeg(g->b, q, ""), q, "");
	return LLVMBuildSelect(g->b, is0, cg_const(g, 0), q, "");
}

static LLVMValueRef cg_binop_int(struct cg *g, struct node *n, LLVMValueRef l, LLVMValueRef r)
{
	bool sgn = type_arith_signed(n->binop.lhs->type, n->binop.rhs->type);
	switch (n->binop.op) {
	case OP_ADD: return LLVMBuildAdd(g->b, l, r, "");
	case OP_SUB: return LLVMBuildSub(g->b, l, r, "");
	case OP_MUL: return LLVMBuildMul(g->b, l, r, "");
	case OP_DIV:
	case OP_MOD:
		return cg_divmod(g, n->binop.op == OP_DIV, sgn, l, r);
	case OP_BAND: return LLVMBuildAnd(g->b, l, r, "");
	case OP_BOR: return LLVMBuildOr(g->b, l, r, "");
	case OP_BXOR: return LLVMBuildXor(g->b, l, r, "");
	case OP_SHL: return LLVMBuildShl(g->b, l, LLVMBuildAnd(g->b, r, cg_const(g, 63), ""), "");
	case OP_SHR: {
		LLVMValueRef sh = LLVMBuildAnd(g->b, r, cg_const(g, 63), "");
		return sgn ? LLVMBuildAShr(g->b, l, sh, "") : LLVMBuildLShr(g->b, l, sh, "");
	}
	case OP_EQ: return from_bool(g, LLVMBuildICmp(g->b, LLVMIntEQ, l, r, ""));
	case OP_NE: return from_bool(g, LLVMBuildICmp(g->b, LLVMIntNE, l, r, ""));
	case OP_LT: return from_bool(g, LLVMBuildICmp(g->b, sgn ? LLVMIntSLT : LLVMIntULT, l, r, ""));
	case OP_LE: return from_bool(g, LLVMBuildICmp(g->b, sgn ? LLVMIntSLE : LLVMIntULE, l, r, ""));
	case OP_GT: return from_bool(g, LLVMBuildICmp(g->b, sgn ? LLVMIntSGT : LLVMIntUGT, l, r, ""));
	case OP_GE: return from_bool(g, LLVMBuildICmp(g->b, sgn ? LLVMIntSGE : LLVMIntUGE, l, r, ""));
	default: return cg_const(g, 0);
	}
}

/* String == and !=. Every string slot holds a NUL and zeros after it
 * (whoever writes a string zero-fills its slot first: rule 1), so two
 * strings are equal exactly when their bytes are, over the shorter slot,
 * and the longer one ends there. Compared 8 bytes at a time, without
 * branches: no per-byte blocks and no stack spills for long strings. */
static LLVMValueRef cg_str_eq(struct cg *g, struct node *n, LLVMValueRef a, LLVMValueRef b)
{
	uint32_t la = n->binop.lhs->type->size, lb = n->binop.rhs->type->size;
	uint32_t len = la < lb ? la : lb;
	LLVMValueRef diff = cg_const(g, 0);
	/* An unaligned side (a string inside a tuple) is copied to an aligned
	 * slot first, in order through one register: compared in place, its
	 * words would be loaded byte by byte, and the backend hoists such a row
	 * of loads ahead of the compares until they spill past the stack. */
	LLVMValueRef ca = a, cb = b;
	if (cg_known_align(g, a) < 8) {
		ca = cg_slot(g, len, false);
		cg_copy(g, ca, a, len);
	}
	if (cg_known_align(g, b) < 8) {
		cb = cg_slot(g, len, false);
		cg_copy(g, cb, b, len);
	}
	for (uint32_t i = 0; i < len;) {
		uint32_t w = len - i >= 8 ? 8 : len - i >= 4 ? 4 : len - i >= 2 ? 2 : 1;
		LLVMValueRef x = cg_load_int(g, cg_gep(g, ca, i), w, false);
		LLVMValueRef y = cg_load_int(g, cg_gep(g, cb, i), w, false);
		diff = LLVMBuildOr(g->b, diff, LLVMBuildXor(g->b, x, y, ""), "");
		i += w;
	}
	if (la != lb) /* the longer string must end where the shorter slot does */
		diff = LLVMBuildOr(g->b, diff, cg_load_int(g, cg_gep(g, la > lb ? a : b, len), 1, false), "");
	LLVMIntPredicate p = n->binop.op == OP_NE ? LLVMIntNE : LLVMIntEQ;
	return from_bool(g, LLVMBuildICmp(g->b, p, diff, cg_const(g, 0), ""));
}

/* && and || short-circuit: the right side may read memory. */
static LLVMValueRef cg_logical(struct cg *g, struct node *n)
{
	bool is_and = n->binop.op == OP_LAND;
	LLVMValueRef l = cg_bool(g, cg_expr(g, n->binop.lhs));
	LLVMBasicBlockRef from = LLVMGetInsertBlock(g->b);
	LLVMBasicBlockRef rhs = LLVMAppendBasicBlockInContext(g->ctx, g->fn, is_and ? "and" : "or");
	LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "");
	LLVMBuildCondBr(g->b, l, is_and ? rhs : done, is_and ? done : rhs);
	LLVMPositionBuilderAtEnd(g->b, rhs);
	LLVMValueRef r = cg_bool(g, cg_expr(g, n->binop.rhs));
	LLVMBasicBlockRef rhs_end = LLVMGetInsertBlock(g->b);
	LLVMBuildBr(g->b, done);
	LLVMPositionBuilderAtEnd(g->b, done);
	LLVMValueRef phi = LLVMBuildPhi(g->b, LLVMInt1TypeInContext(g->ctx), "");
	LLVMValueRef short_val = LLVMConstInt(LLVMInt1TypeInContext(g->ctx), is_and ? 0 : 1, 0);
	LLVMValueRef vals[2] = { short_val, r };
	LLVMBasicBlockRef bbs[2] = { from, rhs_end };
	LLVMAddIncoming(phi, vals, bbs, 2);
	return from_bool(g, phi);
}

static LLVMValueRef cg_binop(struct cg *g, struct node *n)
{
	if (n->binop.op == OP_LAND || n->binop.op == OP_LOR)
		return cg_logical(g, n);
	LLVMValueRef l = cg_expr(g, n->binop.lhs);
	LLVMValueRef r = cg_expr(g, n->binop.rhs);
	if (n->binop.lhs->type->kind == TY_STR || n->binop.lhs->type->kind == TY_ARRAY)
		return cg_str_eq(g, n, l, r); /* arrays: values of one type (sema) */
	if (n->type->kind == TY_PTR) { /* p + n, p - n, n + p: scaled by the target size */
		bool lp = n->binop.lhs->type->kind == TY_PTR;
		uint32_t sz = n->type->elem ? n->type->elem->size : 1;
		LLVMValueRef off = LLVMBuildMul(g->b, lp ? r : l, cg_const(g, sz), "");
		LLVMValueRef base = lp ? l : r;
		return n->binop.op == OP_SUB ? LLVMBuildSub(g->b, base, off, "")
					     : LLVMBuildAdd(g->b, base, off, "");
	}
	return narrow(g, cg_binop_int(g, n, l, r), n->type);
}

struct cg_loc;
static LLVMValueRef cg_read_mem(struct cg *g, LLVMValueRef addr, bool user, struct type *t);
static LLVMValueRef cg_expr_of(struct cg *g, struct node *n);

static LLVMValueRef cg_unop(struct cg *g, struct node *n)
{
	LLVMValueRef v = cg_expr(g, n->unop.operand);
	switch (n->unop.op) {
	case UOP_NEG: return LLVMBuildNeg(g->b, v, "");
	case UOP_PLUS: return v;
	case UOP_BNOT: return narrow(g, LLVMBuildNot(g->b, v, ""), n->type);
	case UOP_LNOT: return from_bool(g, LLVMBuildICmp(g->b, LLVMIntEQ, v, cg_const(g, 0), ""));
	case UOP_DEREF: {
		struct type *pt = n->unop.operand->type;
		if (type_is_aggregate(n->type))
			return cg_read_mem(g, v, pt->is_user, n->type);
		if (cg_breaks(g, "probe-read")) /* a direct load: "invalid mem access" */
			return cg_load_int(g, LLVMBuildIntToPtr(g->b, v, g->ptr, ""), n->type->size,
					   n->type->is_signed);
		LLVMValueRef tmp = cg_slot(g, 8, false);
		cg_store_int(g, tmp, cg_const(g, 0), 8);
		cg_probe_read(g, tmp, n->type->size, v, pt->is_user);
		return cg_load_int(g, tmp, n->type->size, n->type->is_signed);
	}
	default: return cg_const(g, 0);
	}
}

/* A ternary yielding an aggregate writes both arms into one slot of the
 * result's size (rule 2); scalars merge with a phi. */
static LLVMValueRef cg_ternary(struct cg *g, struct node *n)
{
	LLVMValueRef c = cg_bool(g, cg_expr(g, n->ternary.cond));
	LLVMBasicBlockRef bt = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "then");
	LLVMBasicBlockRef be = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "else");
	LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "");
	bool agg = type_is_aggregate(n->type);
	LLVMValueRef slot = agg ? cg_slot(g, n->type->size, false) : NULL;
	LLVMBuildCondBr(g->b, c, bt, be);
	LLVMValueRef vals[2];
	LLVMBasicBlockRef bbs[2];
	struct node *arms[2] = { n->ternary.then, n->ternary.els };
	LLVMBasicBlockRef blocks[2] = { bt, be };
	for (int i = 0; i < 2; i++) {
		LLVMPositionBuilderAtEnd(g->b, blocks[i]);
		LLVMValueRef v = cg_expr(g, arms[i]);
		if (agg)
			cg_store_as(g, arms[i], v, arms[i]->type, n->type, slot);
		vals[i] = v;
		bbs[i] = LLVMGetInsertBlock(g->b);
		LLVMBuildBr(g->b, done);
	}
	LLVMPositionBuilderAtEnd(g->b, done);
	if (agg || n->type->kind == TY_VOID)
		return slot;
	LLVMValueRef phi = LLVMBuildPhi(g->b, g->i64, "");
	LLVMAddIncoming(phi, vals, bbs, 2);
	return phi;
}


LLVMValueRef cg_map_key(struct cg *g, struct node *map_node, struct sema_map *m)
{
	if (!m->key) /* scalar map: NULL, the zero key, stored where it is used */
		return NULL;
	struct node *keys = map_node->map.keys;
	if (map_node->map.nkeys == 1) {
		LLVMValueRef v = cg_expr(g, keys);
		/* an aggregate already in the key's exact layout is the key: its
		 * producer wrote every byte of the slot */
		if (type_is_aggregate(keys->type) && type_equal(keys->type, m->key))
			return v;
		LLVMValueRef k = cg_slot(g, m->key->size, false);
		cg_store_as(g, keys, v, keys->type, m->key, k);
		return k;
	}
	LLVMValueRef k = cg_slot(g, m->key->size, false);
	if (!cg_breaks(g, "zero-fill")) /* padding would be stale stack bytes */
		cg_zero(g, k, m->key->size);
	uint32_t i = 0;
	for (struct node *e = keys; e; e = e->next, i++) {
		LLVMValueRef v = cg_expr(g, e);
		struct type_field *f = &m->key->fields[i];
		cg_store_as(g, e, v, e->type, f->type, cg_gep(g, k, f->offset));
	}
	return k;
}

/* CPUs an aggregation read visits: the configured ones (a CPU id past
 * nr_cpu_ids gives NULL from the helper, and is skipped) */
static uint64_t agg_read_cpus(void)
{
	int k = get_nprocs_conf();
	return k < 1 ? 1 : k > 8192 ? 8192 : (uint64_t)k;
}

/* @c read in a probe, @c holding count/sum/min/max/avg: each CPU's value
 * through bpf_map_lookup_percpu_elem (5.19), null-checked, in a loop whose
 * counter is opaque to LLVM and bounded by a constant (the CPUs configured
 * when the script is compiled), merged as the runtime merges them when
 * it prints (runtime/progdesc.h has the per-CPU layouts). */
static LLVMValueRef cg_agg_read(struct cg *g, struct node *n, struct sema_map *m,
				struct cg_map *cm)
{
	return cg_agg_total(g, m, cm, cg_key_or_zero(g, cg_map_key(g, n, m)));
}

LLVMValueRef cg_agg_total(struct cg *g, struct sema_map *m, struct cg_map *cm, LLVMValueRef key)
{
	enum pd_agg agg = m->value->agg;
	uint64_t ncpu = agg_read_cpus();
	LLVMBasicBlockRef entry = LLVMGetInsertBlock(g->b);
	LLVMBasicBlockRef cond = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "agg.cpu");
	LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "agg.lookup");
	LLVMBasicBlockRef have = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "agg.have");
	LLVMBasicBlockRef latch = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "agg.next");
	LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "agg.done");
	LLVMBuildBr(g->b, cond);
	LLVMPositionBuilderAtEnd(g->b, cond);
	LLVMValueRef cpu = LLVMBuildPhi(g->b, g->i64, "cpu");
	LLVMValueRef a0 = LLVMBuildPhi(g->b, g->i64, "a0"); /* total, count, min/max */
	LLVMValueRef a1 = LLVMBuildPhi(g->b, g->i64, "a1"); /* avg's count, min/max's is_set */
	LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntULT, cpu, cg_const(g, ncpu), ""), body,
			done);
	LLVMPositionBuilderAtEnd(g->b, body);
	LLVMValueRef args[3] = { cm->global, key, LLVMBuildTrunc(g->b, cpu, g->i32, "") };
	LLVMValueRef p = cg_helper(g, BPF_FUNC_map_lookup_percpu_elem, g->ptr, args, 3);
	LLVMBuildCondBr(g->b, LLVMBuildIsNull(g->b, p, ""), latch, have);
	LLVMPositionBuilderAtEnd(g->b, have);
	LLVMValueRef v0 = cg_load_int(g, p, 8, true);
	LLVMValueRef n0 = a0, n1 = a1;
	switch (agg) {
	case PD_AGG_COUNT:
	case PD_AGG_SUM:
		n0 = LLVMBuildAdd(g->b, a0, v0, "");
		break;
	case PD_AGG_AVG:
		n0 = LLVMBuildAdd(g->b, a0, v0, "");
		n1 = LLVMBuildAdd(g->b, a1, cg_load_int(g, cg_gep(g, p, 8), 8, false), "");
		break;
	default: { /* MIN, MAX: { value, is_set } */
		LLVMValueRef set = LLVMBuildICmp(g->b, LLVMIntNE,
						 cg_load_int(g, cg_gep(g, p, 8), 8, false),
						 cg_const(g, 0), "");
		LLVMValueRef better = LLVMBuildICmp(g->b, agg == PD_AGG_MIN ? LLVMIntSLT : LLVMIntSGT,
						    v0, a0, "");
		LLVMValueRef first = LLVMBuildICmp(g->b, LLVMIntEQ, a1, cg_const(g, 0), "");
		LLVMValueRef take = LLVMBuildAnd(g->b, set, LLVMBuildOr(g->b, first, better, ""), "");
		n0 = LLVMBuildSelect(g->b, take, v0, a0, "");
		n1 = LLVMBuildSelect(g->b, set, cg_const(g, 1), a1, "");
		break;
	}
	}
	LLVMBasicBlockRef have_end = LLVMGetInsertBlock(g->b);
	LLVMBuildBr(g->b, latch);
	LLVMPositionBuilderAtEnd(g->b, latch);
	LLVMValueRef l0 = LLVMBuildPhi(g->b, g->i64, ""), l1 = LLVMBuildPhi(g->b, g->i64, "");
	LLVMValueRef lv0[2] = { a0, n0 }, lv1[2] = { a1, n1 };
	LLVMBasicBlockRef lbb[2] = { body, have_end };
	LLVMAddIncoming(l0, lv0, lbb, 2);
	LLVMAddIncoming(l1, lv1, lbb, 2);
	LLVMValueRef next = cg_opaque(g, LLVMBuildAdd(g->b, cpu, cg_const(g, 1), ""));
	LLVMBuildBr(g->b, cond);
	LLVMValueRef cv[2] = { cg_const(g, 0), next }, c0[2] = { cg_const(g, 0), l0 },
		     c1[2] = { cg_const(g, 0), l1 };
	LLVMBasicBlockRef cbb[2] = { entry, latch };
	LLVMAddIncoming(cpu, cv, cbb, 2);
	LLVMAddIncoming(a0, c0, cbb, 2);
	LLVMAddIncoming(a1, c1, cbb, 2);
	LLVMPositionBuilderAtEnd(g->b, done);
	if (agg == PD_AGG_AVG) /* as the runtime prints it: total / count, 0 when empty */
		return cg_divmod(g, true, true, a0, a1);
	return a0;
}

static LLVMValueRef cg_map_read(struct cg *g, struct node *n)
{
	struct sema_map *m = n->sym;
	struct cg_map *cm = &g->maps[m->index];
	struct type *t = m->value;
	if (t->kind == TY_AGG)
		return cg_agg_read(g, n, m, cm);
	LLVMValueRef key = cg_map_key(g, n, m);
	LLVMValueRef val = cg_map_lookup(g, cm->global, key);
	cg_check_helper(g, BPF_FUNC_map_lookup_elem, val); /* -kk */
	LLVMValueRef isnull = LLVMBuildIsNull(g->b, val, "");
	if (type_is_aggregate(t)) {
		/* copy out (rule 5: values read out of a map are copied before
		 * use); a missing key reads as zeros */
		LLVMValueRef slot = cg_slot(g, t->size, false);
		cg_zero(g, slot, t->size);
		LLVMBasicBlockRef done = cg_if(g, LLVMBuildNot(g->b, isnull, ""), "copy");
		cg_copy(g, slot, val, t->size);
		LLVMBuildBr(g->b, done);
		LLVMPositionBuilderAtEnd(g->b, done);
		return slot;
	}
	LLVMBasicBlockRef from = LLVMGetInsertBlock(g->b);
	LLVMBasicBlockRef done = cg_if(g, LLVMBuildNot(g->b, isnull, ""), "load");
	LLVMValueRef loaded = cg_load_int(g, val, 8, t->is_signed);
	LLVMBasicBlockRef load_end = LLVMGetInsertBlock(g->b);
	LLVMBuildBr(g->b, done);
	LLVMPositionBuilderAtEnd(g->b, done);
	LLVMValueRef phi = LLVMBuildPhi(g->b, g->i64, "");
	LLVMValueRef vals[2] = { cg_const(g, 0), loaded };
	LLVMBasicBlockRef bbs[2] = { from, load_end };
	LLVMAddIncoming(phi, vals, bbs, 2);
	return phi;
}

static LLVMValueRef cg_var_read(struct cg *g, struct node *n)
{
	struct sema_var *v = n->sym;
	LLVMValueRef slot = cg_slot_at(g, v->cg);
	if (type_is_aggregate(v->type))
		return slot;
	return cg_load_int(g, slot, v->type->size >= 8 ? 8 : v->type->size, v->type->is_signed);
}

/* A variable's slot, made at its first assignment; one a for-map body
 * uses from outside lives in scratch (sema.h, in_map_loop) */
static void cg_var_slot(struct cg *g, struct sema_var *var)
{
	if (!var->cg)
		var->cg = var->in_map_loop ? cg_slot_scratch(g, var->type->size)
					   : cg_slot(g, var->type->size, true);
}

static void cg_assign_var(struct cg *g, struct node *target, struct node *value,
			  LLVMValueRef v, struct type *from)
{
	struct sema_var *var = target->sym;
	cg_var_slot(g, var);
	cg_store_as(g, value, v, from, var->type, cg_slot_at(g, var->cg));
}

/* ++/-- on a variable or a (non-aggregation) map element */
static LLVMValueRef cg_incdec(struct cg *g, struct node *n)
{
	struct node *o = n->incdec.operand;
	LLVMValueRef delta = cg_const(g, n->incdec.is_inc ? 1 : (uint64_t)-1);
	if (o->kind == N_VAR) {
		struct sema_var *v = o->sym;
		LLVMValueRef old = cg_var_read(g, o);
		LLVMValueRef nv = narrow(g, LLVMBuildAdd(g->b, old, delta, ""), v->type);
		cg_store_int(g, cg_slot_at(g, v->cg), nv, v->type->size >= 8 ? 8 : v->type->size);
		return n->incdec.is_prefix ? nv : old;
	}
	struct sema_map *m = o->sym;
	struct cg_map *cm = &g->maps[m->index];
	LLVMValueRef key = cg_map_key(g, o, m);
	LLVMValueRef val = cg_map_lookup_or_init(g, cm, key);
	LLVMValueRef old = LLVMBuildLoad2(g->b, g->i64, val, "");
	LLVMValueRef nv = LLVMBuildAdd(g->b, old, delta, "");
	LLVMBuildStore(g->b, nv, val);
	return n->incdec.is_prefix ? nv : old;
}

/* Where a struct, union or array lvalue (or a member of one) lives: at an
 * i64 address of kernel or user memory (mem), or in a slot (a pointer). */
struct cg_loc {
	LLVMValueRef addr;
	bool mem, user;
};

static struct cg_loc loc_add(struct cg *g, struct cg_loc l, LLVMValueRef off)
{
	if (l.mem) {
		l.addr = LLVMBuildAdd(g->b, l.addr, off, "");
	} else if (LLVMIsAConstantInt(off)) {
		l.addr = cg_gep(g, l.addr, LLVMConstIntGetZExtValue(off));
	} else { /* a variable (clamped) offset into a slot: a pointer into it; as
		  * an integer, LLVM made the add an `or` of the aligned frame
		  * address, which the verifier refuses on a pointer */
		off = cg_barrier(g, off);
		l.addr = LLVMBuildGEP2(g->b, g->i8, l.addr, &off, 1, "");
	}
	return l;
}

static struct cg_loc cg_loc_of(struct cg *g, struct node *n)
{
	struct cg_loc l = { 0 };
	if (n->kind == N_UNOP && n->unop.op == UOP_DEREF) {
		l.addr = cg_expr(g, n->unop.operand);
		l.mem = true;
		l.user = n->unop.operand->type->is_user;
		return l;
	}
	if (n->kind == N_FIELD) {
		struct node *b = n->field.base;
		const struct type_field *f = n->sym;
		if (b->type->kind == TY_PTR) {
			l.addr = cg_expr(g, b);
			l.mem = true;
			l.user = b->type->is_user;
			return loc_add(g, l, cg_const(g, f->offset));
		}
		if (b->type->kind == TY_RECORD)
			return loc_add(g, cg_loc_of(g, b), cg_const(g, f->offset));
	}
	if (n->kind == N_INDEX) {
		struct node *b = n->index.base;
		struct type *bt = b->type;
		uint32_t esz = n->type->kind == TY_PTR ? 8 : n->type->size;
		if (bt->kind == TY_PTR) {
			l.addr = cg_expr(g, b);
			l.mem = true;
			l.user = bt->is_user;
			LLVMValueRef idx = cg_expr(g, n->index.index);
			return loc_add(g, l, LLVMBuildMul(g->b, idx, cg_const(g, esz), ""));
		}
		if (bt->kind == TY_ARRAY || bt->kind == TY_STR) {
			uint32_t len = bt->kind == TY_STR ? bt->size : bt->len;
			struct cg_loc bl = cg_loc_of(g, b);
			LLVMValueRef idx = cg_expr(g, n->index.index);
			if (!LLVMIsAConstantInt(idx) && len) /* rule 4 */
				idx = cg_clamp(g, idx, len - 1);
			return loc_add(g, bl, LLVMBuildMul(g->b, idx, cg_const(g, esz), ""));
		}
	}
	l.addr = cg_expr(g, n); /* a value: aggregates are in a slot */
	return l;
}

/* The value of type t at l: one read of exactly its bytes into a zeroed
 * slot (rule 1; char arrays as strings, so the bytes after the NUL are
 * zeros), a bitfield shifted and masked out of the bytes holding it. */
static LLVMValueRef cg_read_at(struct cg *g, struct cg_loc l, struct type *t,
			       const struct type_field *f)
{
	if (type_is_aggregate(t)) {
		if (!l.mem)
			return l.addr;
		LLVMValueRef slot = cg_dest(g, t->size);
		cg_zero(g, slot, t->size);
		if (t->kind == TY_STR)
			cg_probe_read_str(g, slot, cg_const(g, t->size), l.addr, l.user);
		else if (t->size)
			cg_probe_read(g, slot, t->size, l.addr, l.user);
		return slot;
	}
	uint32_t sz = t->kind == TY_PTR ? 8 : t->size;
	bool bits = f && f->bit_size;
	if (bits) {
		sz = (f->bit_offset + f->bit_size + 7) / 8;
		if (sz > 8)
			sz = 8;
	}
	LLVMValueRef v;
	if (l.mem) {
		LLVMValueRef tmp = cg_slot(g, 8, false);
		cg_store_int(g, tmp, cg_const(g, 0), 8);
		cg_probe_read(g, tmp, sz, l.addr, l.user);
		v = cg_load_int(g, tmp, bits ? 8 : sz, !bits && t->is_signed);
	} else if (bits) {
		v = cg_const(g, 0);
		for (uint32_t i = 0; i < sz; i++) {
			LLVMValueRef byte = cg_load_int(g, cg_gep(g, l.addr, i), 1, false);
			v = LLVMBuildOr(g->b, v, LLVMBuildShl(g->b, byte, cg_const(g, 8 * i), ""), "");
		}
	} else {
		v = cg_load_int(g, l.addr, sz, t->kind == TY_INT && t->is_signed);
	}
	if (!bits)
		return v;
	/* the field's bits at the top, then shifted down with its sign */
	v = LLVMBuildShl(g->b, v, cg_const(g, 64 - f->bit_offset - f->bit_size), "");
	v = t->is_signed ? LLVMBuildAShr(g->b, v, cg_const(g, 64 - f->bit_size), "")
			 : LLVMBuildLShr(g->b, v, cg_const(g, 64 - f->bit_size), "");
	return narrow(g, v, t);
}

static LLVMValueRef cg_read_mem(struct cg *g, LLVMValueRef addr, bool user, struct type *t)
{
	struct cg_loc l = { addr, true, user };
	return cg_read_at(g, l, t, NULL);
}

static LLVMValueRef cg_field(struct cg *g, struct node *n)
{
	struct type *bt = n->field.base->type;
	if (bt->kind == TY_RECORD || bt->kind == TY_PTR)
		return cg_read_at(g, cg_loc_of(g, n), n->type, n->sym);
	LLVMValueRef base = cg_expr(g, n->field.base);
	if (bt->kind == TY_TUPLE) {
		uint32_t i = (uint32_t)strtoul(n->field.name, NULL, 10);
		LLVMValueRef p = cg_gep(g, base, bt->fields[i].offset);
		struct type *ft = bt->fields[i].type;
		return type_is_aggregate(ft) ? p : cg_load_int(g, p, ft->size, ft->is_signed);
	}
	/* args->field: the tracepoint record is the context (ctx) */
	struct type_field *f = n->sym;
	struct type *ft = f->type;
	if (g->probe->raw_syscall)
		return cg_syscall_field(g, f);
	if (f->is_data_loc) {
		/* __data_loc: u32 (len << 16 | offset from the record start) */
		LLVMValueRef loc = cg_load_ctx(g, f->offset, 4, false);
		LLVMValueRef off = LLVMBuildAnd(g->b, loc, cg_const(g, 0xffff), "");
		LLVMValueRef addr = LLVMBuildAdd(g->b, LLVMBuildPtrToInt(g->b, g->ctx_arg, g->i64, ""),
						 off, "");
		LLVMValueRef slot = cg_slot(g, ft->size, false);
		cg_zero(g, slot, ft->size);
		cg_probe_read_str(g, slot, cg_const(g, ft->size), addr, false);
		return slot;
	}
	if (type_is_aggregate(ft)) {
		LLVMValueRef slot = cg_slot(g, ft->size, false);
		cg_zero(g, slot, ft->size);
		LLVMValueRef addr = LLVMBuildPtrToInt(g->b, cg_gep(g, g->ctx_arg, f->offset), g->i64, "");
		if (ft->kind == TY_STR) /* char[N]: the bytes after the NUL must be zeros */
			cg_probe_read_str(g, slot, cg_const(g, ft->size), addr, false);
		else
			cg_probe_read(g, slot, ft->size, addr, false);
		return slot;
	}
	/* fentry/fexit/rawtracepoint: every argument is a u64 slot */
	if (bt->ctx_u64_args) {
		uint32_t off = f->offset;
		if (g->probe->kind == PD_PROBE_KPROBE || /* a fentry's stand-in: registers */
		    g->probe->kind == PD_PROBE_UPROBE)	 /* DWARF parameters (udwarf.h) */
			off = cg_regs_arg_off[f->offset / 8 < 6 ? f->offset / 8 : 0];
		return narrow(g, cg_load_ctx(g, off, 8, false), ft);
	}
	/* scalar context fields are loaded directly (the verifier checks the
	 * offset against the tracepoint's record size) */
	uint32_t sz = ft->kind == TY_PTR ? 8 : ft->size;
	return cg_load_ctx(g, f->offset, sz, ft->is_signed);
}

/* Whether n is a member reached through a pointer (its bytes are in
 * memory, not in a slot) */
static bool cg_is_mem_lvalue(const struct node *n)
{
	while (n->kind == N_FIELD || n->kind == N_INDEX) {
		const struct node *b = n->kind == N_FIELD ? n->field.base : n->index.base;
		if (b->type->kind == TY_PTR)
			return true;
		if (b->type->kind != TY_RECORD && b->type->kind != TY_ARRAY && b->type->kind != TY_STR)
			return false;
		n = b;
	}
	return n->kind == N_UNOP && n->unop.op == UOP_DEREF;
}

/* array[i] and ptr[i]; a variable index is clamped to the array (rule 4) */
static LLVMValueRef cg_index(struct cg *g, struct node *n)
{
	struct type *bt = n->index.base->type, *et = n->type;
	struct node *b = n->index.base;
	int64_t ci;
	/* args->array[constant]: one load from the context, as a scalar
	 * field (no copy of the array, no probe read) */
	if (bt->kind == TY_ARRAY && b->kind == N_FIELD && b->field.base->type->kind == TY_CTX &&
	    !((struct type_field *)b->sym)->is_data_loc && et->kind == TY_INT &&
	    (et->size == 1 || et->size == 2 || et->size == 4 || et->size == 8) &&
	    sema_const_int(g->sema, n->index.index, &ci)) {
		uint64_t i = ci < 0 || (uint64_t)ci >= bt->len ? bt->len - 1 : (uint64_t)ci;
		uint32_t off = ((struct type_field *)b->sym)->offset + (uint32_t)i * et->size;
		return cg_load_ctx(g, off, et->size, et->is_signed);
	}
	if ((bt->kind == TY_PTR && et->kind != TY_INT) || (bt->kind == TY_ARRAY && et->kind != TY_INT) ||
	    (bt->kind == TY_ARRAY && cg_is_mem_lvalue(b)) || bt->kind == TY_STR)
		return cg_read_at(g, cg_loc_of(g, n), et, NULL);
	LLVMValueRef base = cg_expr(g, n->index.base);
	LLVMValueRef idx = cg_expr(g, n->index.index);
	LLVMValueRef addr;
	bool user = false;
	if (bt->kind == TY_ARRAY) {
		/* an array value in a slot (pton()): a load at the clamped index
		 * (rule 4), kept opaque: knowing it small, LLVM would OR it
		 * into the 8-aligned slot address, which the verifier refuses */
		idx = LLVMBuildMul(g->b, cg_clamp(g, idx, bt->len - 1), cg_const(g, et->size), "");
		LLVMTypeRef fty = LLVMFunctionType(g->i64, &g->i64, 1, 0);
		LLVMValueRef barrier = LLVMGetInlineAsm(fty, "", 0, "=r,0", 4, 0, 0,
							LLVMInlineAsmDialectATT, 0);
		idx = LLVMBuildCall2(g->b, fty, barrier, &idx, 1, ""); /* asm("" : "+r"(idx)) */
		LLVMValueRef p = LLVMBuildGEP2(g->b, g->i8, base, &idx, 1, "");
		return cg_load_int(g, p, et->size, et->is_signed);
	} else {
		addr = base;
		user = bt->is_user;
	}
	addr = LLVMBuildAdd(g->b, addr, LLVMBuildMul(g->b, idx, cg_const(g, et->size), ""), "");
	LLVMValueRef tmp = cg_slot(g, 8, false);
	cg_store_int(g, tmp, cg_const(g, 0), 8);
	cg_probe_read(g, tmp, et->size, addr, user);
	return cg_load_int(g, tmp, et->size, et->is_signed);
}

static LLVMValueRef cg_tuple(struct cg *g, struct node *n)
{
	struct type *t = n->type;
	LLVMValueRef slot = cg_slot(g, t->size, false);
	cg_zero(g, slot, t->size);
	uint32_t i = 0;
	for (struct node *e = n->tuple.elems; e; e = e->next, i++) {
		LLVMValueRef v = cg_expr(g, e);
		cg_store_as(g, e, v, e->type, t->fields[i].type, cg_gep(g, slot, t->fields[i].offset));
	}
	return slot;
}

LLVMValueRef cg_string_lit(struct cg *g, const char *s, uint32_t len)
{
	LLVMValueRef slot = cg_slot(g, len + 1, false);
	cg_zero(g, slot, len + 1);
	for (uint32_t off = 0; off < len; off += 8) { /* immediate stores: no .rodata */
		uint64_t w = 0;
		uint32_t k = len - off < 8 ? len - off : 8;
		memcpy(&w, s + off, k);
		if (k == 8) /* runs merged into a memset are expanded in object.c */
			cg_store_int(g, cg_gep(g, slot, off), cg_const(g, w), 8);
		else
			for (uint32_t j = 0; j < k; j++)
				cg_store_int(g, cg_gep(g, slot, off + j), cg_const(g, (uint8_t)s[off + j]), 1);
	}
	return slot;
}

static LLVMValueRef cg_posparam(struct cg *g, struct node *n)
{
	int64_t v;
	if (sema_const_int(g->sema, n, &v))
		return cg_const(g, (uint64_t)v);
	const char *p = g->sema->opts.params[n->posparam.index - 1];
	return cg_string_lit(g, p, strlen(p));
}

static void cg_stmt(struct cg *g, struct node *n);

/* The expression is the site of the helper calls it makes (checks.c),
 * its operands' own calls aside. */
LLVMValueRef cg_expr(struct cg *g, struct node *n)
{
	struct node *site = g->site;
	g->site = n;
	LLVMValueRef v = cg_expr_of(g, n);
	g->site = site;
	return v;
}

static LLVMValueRef cg_expr_of(struct cg *g, struct node *n)
{
	switch (n->kind) {
	case N_INT: return cg_const(g, n->num.value);
	case N_STR: return cg_string_lit(g, n->str.value, n->str.len);
	case N_IDENT: return ((const struct stdlib_builtin *)n->sym)->lower(g, n);
	case N_VAR: return cg_var_read(g, n);
	case N_POSPARAM: return cg_posparam(g, n);
	case N_POSCOUNT: return cg_const(g, (uint64_t)g->sema->opts.nparams);
	case N_MAP: return cg_map_read(g, n);
	case N_BINOP: return cg_binop(g, n);
	case N_UNOP: return cg_unop(g, n);
	case N_INCDEC: return cg_incdec(g, n);
	case N_TERNARY: return cg_ternary(g, n);
	case N_CALL: return ((const struct stdlib_fn *)n->sym)->lower(g, n);
	case N_FIELD: return cg_field(g, n);
	case N_INDEX: return cg_index(g, n);
	case N_TUPLE: return cg_tuple(g, n);
	case N_CAST: return narrow(g, cg_expr(g, n->cast.expr), n->type);
	case N_SIZEOF: return cg_const(g, n->size_of.value);
	case N_OFFSETOF: return cg_const(g, n->offset_of.value);
	case N_BLOCK_EXPR:
		for (struct node *st = n->block_expr.stmts; st; st = st->next)
			cg_stmt(g, st);
		return cg_expr(g, n->block_expr.value);
	default: return cg_const(g, 0);
	}
}

/* ---- statements ---- */

static void cg_stmt(struct cg *g, struct node *n);

/* Long straight-line blocks are cut into basic blocks of CG_CHUNK
 * statements: LLVM's instruction selection works per basic block and is
 * quadratic in its size (1,000 map assignments took 10 s in one block).
 * The cut is a branch on a volatile load of a zero byte, which the IR
 * optimizer cannot fold; cg_remove_chunk_barriers (object.c, with the
 * other passes after the optimizer) turns the branch into a
 * plain fall-through once the optimizer is done, and an unused
 * blockaddress of each chunk keeps the backend's CodeGenPrepare from
 * merging them again: no barrier reaches the BPF code, and the verifier
 * has no dead branches to remove (docs/kernel.md). */
static void cg_chunk_barrier(struct cg *g)
{
	if (!g->barrier) {
		LLVMBasicBlockRef cur = LLVMGetInsertBlock(g->b);
		LLVMMetadataRef loc = LLVMGetCurrentDebugLocation2(g->b);
		LLVMPositionBuilderBefore(g->b, LLVMGetBasicBlockTerminator(g->entry));
		g->barrier = LLVMBuildAlloca(g->b, g->i8, "barrier");
		LLVMSetVolatile(LLVMBuildStore(g->b, LLVMConstInt(g->i8, 0, 0), g->barrier), 1);
		LLVMPositionBuilderAtEnd(g->b, cur);
		LLVMSetCurrentDebugLocation2(g->b, loc);
	}
	LLVMValueRef v = LLVMBuildLoad2(g->b, g->i8, g->barrier, "");
	LLVMSetVolatile(v, 1);
	LLVMValueRef zero = LLVMBuildICmp(g->b, LLVMIntEQ, v, LLVMConstInt(g->i8, 0, 0), "");
	LLVMBasicBlockRef next = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "chunk");
	LLVMBuildCondBr(g->b, zero, next, g->exit_bb);
	LLVMPositionBuilderAtEnd(g->b, next);
}

void cg_block(struct cg *g, struct node *b)
{
	int n = 0;
	for (struct node *st = b->block.stmts; st; st = st->next) {
		if (n && n % CG_CHUNK == 0)
			cg_chunk_barrier(g);
		cg_stmt(g, st);
		n++;
	}
}

static void cg_assign_map(struct cg *g, struct node *n)
{
	struct node *target = n->assign.target, *value = n->assign.value;
	struct sema_map *m = target->sym;
	struct cg_map *cm = &g->maps[m->index];
	g->site = n; /* 0.17 reports a failed update at the '=' (checks.c) */
	if (m->value->kind == TY_AGG) {
		const struct stdlib_fn *fn = value->sym;
		LLVMValueRef key = cg_map_key(g, target, m);
		g->site = value; /* and an aggregation's at its call */
		fn->lower_agg(g, value, key, m);
		return;
	}
	if (n->assign.compound) {
		LLVMValueRef key = cg_map_key(g, target, m);
		LLVMValueRef rhs = cg_expr(g, value);
		g->miss_site = target;
		LLVMValueRef val = cg_map_lookup_or_init(g, cm, key);
		g->miss_site = NULL;
		LLVMValueRef old = LLVMBuildLoad2(g->b, g->i64, val, "");
		struct node fake = { .kind = N_BINOP };
		fake.binop.op = n->assign.op;
		fake.binop.lhs = target;
		fake.binop.rhs = value;
		LLVMBuildStore(g->b, cg_binop_int(g, &fake, old, rhs), val);
		return;
	}
	LLVMValueRef v = cg_expr(g, value);
	LLVMValueRef key = cg_map_key(g, target, m);
	LLVMValueRef slot = cg_slot(g, m->value->size, false);
	cg_store_as(g, value, v, value->type, m->value, slot);
	cg_map_update(g, cm->global, key, slot, BPF_ANY);
}

static void cg_assign(struct cg *g, struct node *n)
{
	struct node *target = n->assign.target;
	if (target->kind == N_MAP) {
		cg_assign_map(g, n);
		return;
	}
	LLVMValueRef v = cg_expr(g, n->assign.value);
	if (n->assign.compound) {
		struct node fake = { .kind = N_BINOP };
		fake.binop.op = n->assign.op;
		fake.binop.lhs = target;
		fake.binop.rhs = n->assign.value;
		v = cg_binop_int(g, &fake, cg_var_read(g, target), v);
		cg_assign_var(g, target, n->assign.value, v, &type_s64);
		return;
	}
	cg_assign_var(g, target, n->assign.value, v, n->assign.value->type);
}

static void cg_if_stmt(struct cg *g, struct node *n)
{
	LLVMValueRef c = cg_bool(g, cg_expr(g, n->if_.cond));
	LLVMBasicBlockRef bt = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "if.then");
	LLVMBasicBlockRef be = n->if_.els ? LLVMAppendBasicBlockInContext(g->ctx, g->fn, "if.else") : NULL;
	LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "if.end");
	LLVMBuildCondBr(g->b, c, bt, be ? be : done);
	LLVMPositionBuilderAtEnd(g->b, bt);
	cg_block(g, n->if_.then);
	LLVMBuildBr(g->b, done);
	if (be) {
		LLVMPositionBuilderAtEnd(g->b, be);
		if (n->if_.els->kind == N_IF)
			cg_stmt(g, n->if_.els);
		else
			cg_block(g, n->if_.els);
		LLVMBuildBr(g->b, done);
	}
	LLVMPositionBuilderAtEnd(g->b, done);
}

/* LLVM may sink a store to a variable first assigned in a loop body below
 * the loop, where it merges with the path that skips the loop: a phi with
 * an undefined input (the slot had no earlier value), that is a register
 * the verifier sees read before it is set. Stack slots made persistent
 * while the body was generated are zero-filled before the loop (`pre` is
 * the block that enters it); scratch is a map value, never "unset". */
static void cg_loop_prezero(struct cg *g, LLVMBasicBlockRef pre, uint32_t stack0)
{
	if (g->stack_persist <= stack0)
		return;
	LLVMBasicBlockRef here = LLVMGetInsertBlock(g->b);
	LLVMPositionBuilderBefore(g->b, LLVMGetBasicBlockTerminator(pre));
	cg_zero(g, cg_gep(g, g->frame, stack0), g->stack_persist - stack0);
	LLVMPositionBuilderAtEnd(g->b, here);
}

static void cg_while(struct cg *g, struct node *n)
{
	LLVMBasicBlockRef cond = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "while.cond");
	LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "while.body");
	LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "while.end");
	LLVMBasicBlockRef pre = LLVMGetInsertBlock(g->b);
	uint32_t stack0 = g->stack_top;
	LLVMBuildBr(g->b, cond);
	LLVMPositionBuilderAtEnd(g->b, cond);
	LLVMBuildCondBr(g->b, cg_bool(g, cg_expr(g, n->loop.cond)), body, done);
	LLVMPositionBuilderAtEnd(g->b, body);
	if (g->nloops < CG_MAX_LOOPS) {
		g->break_bb[g->nloops] = done;
		g->cont_bb[g->nloops] = cond;
	}
	g->nloops++;
	cg_block(g, n->loop.body);
	g->nloops--;
	LLVMBuildBr(g->b, cond);
	LLVMPositionBuilderAtEnd(g->b, done);
	cg_loop_prezero(g, pre, stack0);
}

/* for ($i : lo..hi): the trip count hi - lo (0 when hi <= lo), clamped to
 * SEMA_MAX_RANGE (sema rejects a constant range above it; a run-time
 * count the verifier could not bound is rejected long before it), is
 * computed once; an i64 counter k in a register runs
 * from 0 to it and $i = lo + k is stored at the top of every iteration
 * (the body may change $i, not the iterations). The count goes through
 * llvm.bpf.passthrough after its clamp, and so does k + 1, so LLVM keeps the constant
 * `k < CG_MAX_RANGE` test beside `k < count`: whatever form LLVM gives
 * the loop, the verifier sees a counter bounded by a constant. */
#define CG_MAX_RANGE SEMA_MAX_RANGE
static void cg_for_range(struct cg *g, struct node *n)
{
	LLVMValueRef lo = cg_expr(g, n->for_.lo);
	LLVMValueRef hi = cg_expr(g, n->for_.hi);
	LLVMValueRef empty = LLVMBuildICmp(g->b, LLVMIntSGE, lo, hi, "");
	LLVMValueRef span = LLVMBuildSelect(g->b, empty, cg_const(g, 0), LLVMBuildSub(g->b, hi, lo, ""),
					    "");
	LLVMValueRef count = cg_opaque(g, cg_clamp(g, span, CG_MAX_RANGE));
	LLVMBasicBlockRef entry = LLVMGetInsertBlock(g->b);
	LLVMBasicBlockRef cond = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "for.cond");
	LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "for.body");
	LLVMBasicBlockRef inc = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "for.inc");
	LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "for.end");
	uint32_t stack0 = g->stack_top;
	LLVMBuildBr(g->b, cond);
	LLVMPositionBuilderAtEnd(g->b, cond);
	LLVMValueRef k = LLVMBuildPhi(g->b, g->i64, "k");
	LLVMValueRef in = LLVMBuildAnd(g->b, LLVMBuildICmp(g->b, LLVMIntULT, k, count, ""),
				       LLVMBuildICmp(g->b, LLVMIntULT, k, cg_const(g, CG_MAX_RANGE), ""),
				       "");
	LLVMBuildCondBr(g->b, in, body, done);
	LLVMPositionBuilderAtEnd(g->b, body);
	cg_assign_var(g, n->for_.var, n->for_.lo, LLVMBuildAdd(g->b, lo, k, ""), &type_s64);
	if (g->nloops < CG_MAX_LOOPS) {
		g->break_bb[g->nloops] = done;
		g->cont_bb[g->nloops] = inc;
	}
	g->nloops++;
	cg_block(g, n->for_.body);
	g->nloops--;
	LLVMBuildBr(g->b, inc);
	LLVMPositionBuilderAtEnd(g->b, inc);
	/* opaque too: without an induction variable LLVM neither rewrites the
	 * exit test nor folds a sum over the loop into a closed form (whose
	 * 128-bit multiply BPF has no instruction for) */
	LLVMValueRef next = cg_opaque(g, LLVMBuildAdd(g->b, k, cg_const(g, 1), ""));
	LLVMBuildBr(g->b, cond);
	LLVMValueRef vals[2] = { cg_const(g, 0), next };
	LLVMBasicBlockRef bbs[2] = { entry, inc };
	LLVMAddIncoming(k, vals, bbs, 2);
	LLVMPositionBuilderAtEnd(g->b, done);
	cg_loop_prezero(g, entry, stack0);
}

/* let $x [: type] [= value]: the slot made here, zero-filled (a variable
 * assigned only in some inner blocks reads 0 after the others, and the
 * verifier never sees an unwritten slot), then the value if there is one */
static void cg_let(struct cg *g, struct node *n)
{
	struct sema_var *v = n->let.var->sym;
	if (!v || v->type->kind == TY_NONE)
		return; /* never assigned nor read */
	cg_var_slot(g, v);
	cg_zero(g, cg_slot_at(g, v->cg), v->type->size);
	if (n->let.value)
		cg_assign_var(g, n->let.var, n->let.value, cg_expr(g, n->let.value),
			      n->let.value->type);
}

/* After a terminator (return, break), later statements of the block go
 * into an unreachable block that LLVM deletes. */
static void cg_dead_block(struct cg *g)
{
	LLVMPositionBuilderAtEnd(g->b, LLVMAppendBasicBlockInContext(g->ctx, g->fn, "dead"));
}

static void cg_stmt(struct cg *g, struct node *n)
{
	uint32_t stack_mark = g->stack_top, scratch_mark = g->scratch_top;
	struct node *site = g->site;
	g->site = NULL;
	cg_set_loc(g, n);
	switch (n->kind) {
	case N_EXPR_STMT: cg_expr(g, n->stmt.expr); break;
	case N_ASSIGN: cg_assign(g, n); break;
	case N_BLOCK: cg_block(g, n); break;
	case N_IF: cg_if_stmt(g, n); break;
	case N_UNROLL: {
		int64_t k = 0;
		sema_const_int(g->sema, n->loop.cond, &k);
		for (int64_t i = 0; i < k; i++)
			cg_block(g, n->loop.body);
		break;
	}
	case N_WHILE: cg_while(g, n); break;
	case N_FOR:
		if (n->for_.map)
			cg_for_map(g, n);
		else
			cg_for_range(g, n);
		break;
	case N_LET: cg_let(g, n); break;
	case N_RETURN:
		LLVMBuildBr(g->b, g->exit_bb);
		cg_dead_block(g);
		break;
	case N_BREAK:
	case N_CONTINUE:
		if (g->nloops > 0 && g->nloops <= CG_MAX_LOOPS) {
			LLVMBuildBr(g->b, n->kind == N_BREAK ? g->break_bb[g->nloops - 1]
							     : g->cont_bb[g->nloops - 1]);
			cg_dead_block(g);
		}
		break;
	default: break;
	}
	g->site = site;
	/* temporaries die with the statement; variables' slots persist */
	g->stack_top = stack_mark > g->stack_persist ? stack_mark : g->stack_persist;
	g->scratch_top = scratch_mark > g->scratch_persist ? scratch_mark : g->scratch_persist;
}

/* A predicate that needs no scratch space runs before the scratch lookup
 * (object.c, build_prologue): entry -> predicate -> setup -> the rest, so
 * that a probe whose predicate fails does nothing else. */
static void setup_after_predicate(struct cg *g, LLVMValueRef pred_br, LLVMBasicBlockRef go)
{
	LLVMReplaceAllUsesWith(LLVMBasicBlockAsValue(g->setup), LLVMBasicBlockAsValue(g->body));
	LLVMSetSuccessor(pred_br, 0, g->setup);
	LLVMSetSuccessor(g->setup_insts[2], 1, go);
	g->body = go; /* where scratch slot addresses go */
}

void cg_probe_body(struct cg *g, struct node *probe)
{
	if (probe->probe.pred) {
		cg_set_loc(g, probe->probe.pred);
		LLVMValueRef c = cg_bool(g, cg_expr(g, probe->probe.pred));
		LLVMBasicBlockRef go = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "pred.true");
		LLVMValueRef br = LLVMBuildCondBr(g->b, c, go, g->exit_bb);
		if (!g->scratch_size && !g->in_chain)
			setup_after_predicate(g, br, go);
		LLVMPositionBuilderAtEnd(g->b, go);
		g->stack_top = g->stack_persist;
		g->scratch_top = g->scratch_persist;
	}
	cg_block(g, probe->probe.body);
}
