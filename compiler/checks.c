/* checks.c: run-time checks of helper calls.
 *
 * -k and -kk (bpftrace 0.17's helper checks): after a checked helper call,
 * a failure (a negative return, or NULL from a map lookup) sends a
 * PD_REC_HELPER_ERROR record whose id names the call site in the program
 * description (pd_helper_error: the helper, 0.17's location text, the
 * source line); the runtime prints it as 0.17 does. The calls checked
 * are 0.17's: map update and delete, get_stackid (kstack, ustack),
 * get_current_comm, and d_path (path()) with -k; with -kk also the reads
 * (probe_read_*) and map lookups, whose failure reads as zero.
 * With neither flag nothing is generated: the code is what it was.
 *
 * Map-full counters: an update of a script map that the kernel refuses
 * with -E2BIG (a full hash) adds 1 to the map's u64 in .bss.map_full,
 * whatever the flags, without a branch (cg_count_map_full).
 *
 * Which node a check reports is g->site: codegen.c sets it to the
 * expression being lowered, or to the assignment whose update it makes.
 * The span printed is 0.17's for that node (site_span).
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>

#include "compiler/codegen.h"

static const char *helper_name(int id)
{
	switch (id) {
	case BPF_FUNC_map_lookup_elem: return "map_lookup_elem";
	case BPF_FUNC_map_update_elem: return "map_update_elem";
	case BPF_FUNC_map_delete_elem: return "map_delete_elem";
	case BPF_FUNC_probe_read_kernel: return "probe_read_kernel";
	case BPF_FUNC_probe_read_user: return "probe_read_user";
	case BPF_FUNC_probe_read_kernel_str: return "probe_read_kernel_str";
	case BPF_FUNC_probe_read_user_str: return "probe_read_user_str";
	case BPF_FUNC_get_stackid: return "get_stackid";
	case BPF_FUNC_get_current_comm: return "get_current_comm";
	case BPF_FUNC_d_path: return "d_path";
	default: return "helper";
	}
}

/* 0.17's return_zero_if_err(): reads and lookups are checked with -kk */
static bool is_read(int id)
{
	return id == BPF_FUNC_map_lookup_elem || id == BPF_FUNC_probe_read_kernel ||
	       id == BPF_FUNC_probe_read_user || id == BPF_FUNC_probe_read_kernel_str ||
	       id == BPF_FUNC_probe_read_user_str;
}

static bool is_checked(const struct cg *g, int id)
{
	if (!g->opts.helper_checks || !g->site)
		return false;
	return g->opts.helper_checks >= 2 || !is_read(id);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The span 0.17 reports for a node: a plain assignment's '=', a prefix
 * operator's own token (`*p`, `--@x`), else the whole node (a call, a
 * map read, `@x++`, `@x += 1`). */
static struct span site_span(const struct cg *g, const struct node *n)
{
	struct span sp = n->span;
	const char *t = g->src->text;
	if (n->kind == N_ASSIGN && !n->assign.compound) {
		sp.begin = n->assign.target->span.end;
		sp.end = n->assign.value->span.begin;
	} else if (n->kind == N_UNOP) {
		sp.end = sp.begin + 1;
	} else if (n->kind == N_INCDEC && n->incdec.is_prefix) {
		sp.end = sp.begin + 2;
	}
	if (sp.end > g->src->len || sp.begin > sp.end)
		return n->span;
	while (sp.begin < sp.end && is_space(t[sp.begin]))
		sp.begin++;
	while (sp.end > sp.begin && is_space(t[sp.end - 1]))
		sp.end--;
	return sp;
}

/* 0.17's location: "NAME:LINE:COL-END", then the source line and '~'
 * under the span (clamped to its first line), each ending in '\n'. */
static void describe(struct cg *g, struct pd_helper_error *e, struct span sp)
{
	uint32_t line, col;
	size_t len;
	src_line_col(g->src, sp.begin, &line, &col);
	const char *text = src_line(g->src, line, &len);
	size_t begin = col - 1 < len ? col - 1 : len;
	size_t end = begin + (sp.end - sp.begin);
	if (end > len)
		end = len;
	if (end == begin)
		end = begin + 1;
	e->line = line;
	e->col = col;
	e->where = arena_printf(g->arena, "%s:%u:%u-%u", g->src->name, line, col,
				col + (uint32_t)(end - begin));
	char *ctx = arena_alloc(g->arena, len + 1 + end + 2);
	memcpy(ctx, text, len);
	ctx[len] = '\n';
	char *u = ctx + len + 1;
	for (size_t i = 0; i < end; i++)
		u[i] = i < begin ? (i < len && text[i] == '\t' ? '\t' : ' ') : '~';
	u[end] = '\n';
	u[end + 1] = 0;
	e->context = ctx;
}

static uint32_t add_site(struct cg *g, int helper)
{
	struct progdesc *pd = g->pd;
	ARENA_GROW(g->arena, pd->helper_errors, pd->nhelper_errors, g->cap_helper_errors);
	struct pd_helper_error *e = &pd->helper_errors[pd->nhelper_errors];
	memset(e, 0, sizeof(*e));
	e->helper = helper_name(helper);
	describe(g, e, site_span(g, g->site));
	return pd->nhelper_errors++;
}

/* { header, int64 ret } through the event buffer */
static void emit_error(struct cg *g, int helper, LLVMValueRef ret)
{
	uint32_t id = add_site(g, helper);
	LLVMValueRef rec = cg_slot(g, 16, false);
	cg_record_header(g, rec, PD_REC_HELPER_ERROR, id);
	cg_store_int(g, cg_gep(g, rec, 8), ret, 8);
	cg_emit_record(g, rec, 16);
}

void cg_helper_failed(struct cg *g, int helper, LLVMValueRef ret)
{
	struct node *site = g->site;
	/* `@b[k] += 1`: 0.17 reports the lookup at @b[k], the update at the
	 * statement */
	if (helper == BPF_FUNC_map_lookup_elem && g->miss_site)
		g->site = g->miss_site;
	if (is_checked(g, helper))
		emit_error(g, helper, ret);
	g->site = site;
}

/* Before 6.4 the verifier turns a call of map_update_elem or
 * map_delete_elem into a direct call of the map's op, which returned an
 * int: the upper half of R0 is not the sign (on 6.1 a full map's -7 is
 * 0xfffffff9). Only the low 32 bits are the return value, as 0.17 took
 * them; every helper's error fits in them. */
static LLVMValueRef ret32(struct cg *g, LLVMValueRef ret)
{
	return LLVMBuildTrunc(g->b, ret, g->i32, "");
}

void cg_check_helper(struct cg *g, int helper, LLVMValueRef ret)
{
	if (!is_checked(g, helper))
		return;
	bool is_ptr = LLVMGetTypeKind(LLVMTypeOf(ret)) == LLVMPointerTypeKind;
	if (!is_ptr)
		ret = LLVMBuildSExt(g->b, ret32(g, ret), g->i64, "");
	LLVMValueRef failed = is_ptr ? LLVMBuildIsNull(g->b, ret, "")
				     : LLVMBuildICmp(g->b, LLVMIntSLT, ret, cg_const(g, 0), "");
	LLVMBasicBlockRef from = LLVMGetInsertBlock(g->b);
	LLVMBasicBlockRef done = cg_if(g, failed, "helper.err");
	cg_expect(g, LLVMGetBasicBlockTerminator(from), false);
	emit_error(g, helper, is_ptr ? cg_const(g, 0) : ret);
	LLVMBuildBr(g->b, done);
	LLVMPositionBuilderAtEnd(g->b, done);
}

/* The program's count of drops of one map: an i64 alloca zeroed at the
 * top of the entry block, so it is set on every path to the exit; LLVM
 * keeps it in a register or a stack slot. */
static LLVMValueRef full_acc(struct cg *g, int idx)
{
	if (!g->full_acc)
		g->full_acc = arena_alloc(g->arena, (size_t)g->sema->nmaps * sizeof(*g->full_acc));
	if (!g->full_acc[idx]) {
		LLVMBasicBlockRef cur = LLVMGetInsertBlock(g->b);
		LLVMValueRef first = LLVMGetFirstInstruction(g->entry);
		if (first)
			LLVMPositionBuilderBefore(g->b, first);
		else
			LLVMPositionBuilderAtEnd(g->b, g->entry);
		LLVMValueRef acc = LLVMBuildAlloca(g->b, g->i64, "map_full");
		LLVMSetAlignment(acc, 8);
		LLVMSetAlignment(LLVMBuildStore(g->b, cg_const(g, 0), acc), 8);
		LLVMPositionBuilderAtEnd(g->b, cur);
		g->full_acc[idx] = acc;
	}
	return g->full_acc[idx];
}

/* A branch per update would double the paths the verifier walks at each
 * one (a long block of updates then hits its limit of 8192 pending
 * jumps): the count is computed without one, 1 exactly when ret is
 * -E2BIG: x = ret + E2BIG; 1 - ((x | -x) >> 31). BPF has no set-on-
 * condition instruction, so a compare would become a jump.
 * An insert after a lookup's miss (on_miss) adds it to the counter at
 * once: the atomic add runs only when a key is new, and the hot path
 * (the key found) pays nothing. An update on the hot path (`@m[k] = v`)
 * adds it to the program's count instead, in a register or on the
 * stack, which the exit adds to the counter when it is not 0. */
void cg_count_map_full(struct cg *g, LLVMValueRef map, LLVMValueRef ret, bool on_miss)
{
	int idx = -1;
	for (int i = 0; i < g->sema->nmaps; i++)
		if (g->maps[i].global == map && !g->maps[i].array)
			idx = i;
	if (idx < 0)
		return;
	/* in 32 bits (ret32): x = ret + E2BIG; 1 - ((x | -x) >> 31) */
	LLVMValueRef x = LLVMBuildAdd(g->b, ret32(g, ret), LLVMConstInt(g->i32, E2BIG, 0), "");
	LLVMValueRef nz = LLVMBuildLShr(g->b, LLVMBuildOr(g->b, x, LLVMBuildNeg(g->b, x, ""), ""),
					LLVMConstInt(g->i32, 31, 0), "");
	LLVMValueRef one = LLVMBuildZExt(
		g->b, LLVMBuildXor(g->b, nz, LLVMConstInt(g->i32, 1, 0), ""), g->i64, "");
	/* a callback's body (for over a map) is another function than the
	 * program's, whose exit adds up the program's counts: add at once */
	if (on_miss || g->full_atomic) {
		LLVMValueRef p = cg_gep(g, cg_map_full_counter(g), (uint64_t)idx * 8);
		LLVMBuildAtomicRMW(g->b, LLVMAtomicRMWBinOpAdd, p, one, LLVMAtomicOrderingMonotonic,
				   0);
		return;
	}
	LLVMValueRef acc = full_acc(g, idx);
	LLVMValueRef old = LLVMBuildLoad2(g->b, g->i64, acc, "");
	LLVMSetAlignment(old, 8);
	LLVMSetAlignment(LLVMBuildStore(g->b, LLVMBuildAdd(g->b, old, one, ""), acc), 8);
}

/* At the exit (before its ret): each map's non-zero count added to its
 * counter in .bss.map_full; one load and one branch per map per run */
void cg_finish_map_full(struct cg *g)
{
	if (!g->full_acc)
		return;
	LLVMBasicBlockRef cur = LLVMGetInsertBlock(g->b);
	LLVMValueRef ret = LLVMGetLastInstruction(g->exit_bb);
	LLVMInstructionRemoveFromParent(ret);
	LLVMPositionBuilderAtEnd(g->b, g->exit_bb);
	for (int i = 0; i < g->sema->nmaps; i++) {
		if (!g->full_acc[i])
			continue;
		LLVMValueRef n = LLVMBuildLoad2(g->b, g->i64, g->full_acc[i], "");
		LLVMSetAlignment(n, 8);
		LLVMBasicBlockRef add = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "map.full");
		LLVMBasicBlockRef next = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "");
		cg_expect(g, LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntNE, n, cg_const(g, 0), ""),
					     add, next),
			  false);
		LLVMPositionBuilderAtEnd(g->b, add);
		LLVMValueRef p = cg_gep(g, cg_map_full_counter(g), (uint64_t)i * 8);
		LLVMBuildAtomicRMW(g->b, LLVMAtomicRMWBinOpAdd, p, n, LLVMAtomicOrderingMonotonic, 0);
		LLVMBuildBr(g->b, next);
		LLVMPositionBuilderAtEnd(g->b, next);
	}
	LLVMInsertIntoBuilder(g->b, ret);
	LLVMPositionBuilderAtEnd(g->b, cur);
	g->full_acc = NULL;
}
