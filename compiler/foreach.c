/* foreach.c: for ($kv : @m) { body } through bpf_for_each_map_elem (5.13).
 *
 * The body becomes a static callback subprogram in .text,
 *   long for_each_N(struct bpf_map *map, void *key, void *value, void *lctx)
 * that the kernel calls once per element (libbpf relocates the function
 * pointer, a BPF_PSEUDO_FUNC ld_imm64). The verifier checks the callback
 * once, whatever the number of elements, so the loop needs no bound.
 *
 * The body reads and writes the probe's variables and temporaries in the
 * caller's slot frame and per-CPU scratch value, which it reaches through
 * the loop context `lctx`, an array of u64 on the caller's stack:
 *   [0] the caller's slot frame (a pointer to its stack)
 *   [1] the scratch value (a map value pointer), when the body uses it
 *   [2] the program's context (ctx, for helpers and args->)
 *   [3] set to 1 when the body ends the probe (return, exit())
 *   [4] the syscall number of a raw syscall program
 * The verifier keeps the type of a pointer spilled to the stack, so the
 * pointers loaded back in the callback are the same stack, map value and
 * ctx pointers. Slots the callback allocates continue the caller's frame
 * (it is suspended meanwhile); a variable's slot made in the caller is
 * rebuilt on the callback's frame pointer by cg_slot_at (g->outer_frame).
 *
 * break returns 1 (the kernel stops), continue returns 0, return and
 * exit() set [3] and return 1; after the helper the caller leaves the probe
 * when [3] is set.
 *
 * $kv is (key, value): both copied out of the element (the key first, so
 * that a per-CPU aggregation's total is looked up with a key on the
 * stack); count/sum/min/max/avg are their totals over the CPUs, as a read
 * in a probe gives them (cg_agg_total).
 */
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>

#include "compiler/codegen.h"

enum { LCTX_FRAME, LCTX_SCRATCH, LCTX_CTX, LCTX_RET, LCTX_SYSNR, LCTX_WORDS };

/* What the callback replaces in struct cg while its body is generated. */
struct cg_fn_state {
	LLVMValueRef fn, ctx_arg, ctx_static, frame, barrier, scratch_ptr, sys_nr, dest;
	LLVMBasicBlockRef entry, exit_bb;
	LLVMMetadataRef di_sp;
	uint32_t stack_top, stack_persist, scratch_top, scratch_persist, dest_size;
	int nloops;
	LLVMBasicBlockRef break0, cont0;
};

static void save_fn(struct cg *g, struct cg_fn_state *s)
{
	*s = (struct cg_fn_state){ g->fn, g->ctx_arg, g->ctx_static, g->frame, g->barrier,
				   g->scratch_ptr, g->sys_nr, g->dest, g->entry, g->exit_bb,
				   g->di_sp, g->stack_top, g->stack_persist, g->scratch_top,
				   g->scratch_persist, g->dest_size, g->nloops, g->break_bb[0],
				   g->cont_bb[0] };
}

static void restore_fn(struct cg *g, const struct cg_fn_state *s)
{
	g->fn = s->fn;
	g->ctx_arg = s->ctx_arg;
	g->ctx_static = s->ctx_static;
	g->frame = s->frame;
	g->barrier = s->barrier;
	g->scratch_ptr = s->scratch_ptr;
	g->sys_nr = s->sys_nr;
	g->dest = s->dest;
	g->dest_size = s->dest_size;
	g->entry = s->entry;
	g->exit_bb = s->exit_bb;
	g->di_sp = s->di_sp;
	g->nloops = s->nloops;
	g->break_bb[0] = s->break0;
	g->cont_bb[0] = s->cont0;
	/* the body's slots die with the loop: the caller's tops as they were,
	 * but no lower than anything the caller made persistent before */
	g->stack_top = s->stack_top;
	g->stack_persist = s->stack_persist;
	g->scratch_top = s->scratch_top;
	g->scratch_persist = s->scratch_persist;
}

static LLVMValueRef lctx_word(struct cg *g, LLVMValueRef lctx, int i)
{
	return cg_gep(g, lctx, 8 * (uint64_t)i);
}

static LLVMValueRef load8(struct cg *g, LLVMTypeRef t, LLVMValueRef p)
{
	LLVMValueRef v = LLVMBuildLoad2(g->b, t, p, "");
	LLVMSetAlignment(v, 8);
	return v;
}

static void store8(struct cg *g, LLVMValueRef v, LLVMValueRef p)
{
	LLVMSetAlignment(LLVMBuildStore(g->b, v, p), 8);
}

/* The callback of loop n: bpf_ir.c's cg_map_callback at n's line */
static LLVMValueRef new_callback(struct cg *g, struct node *n)
{
	char name[32];
	snprintf(name, sizeof(name), "for_each_%d", g->ncallbacks++);
	uint32_t line, col;
	src_line_col(g->src, n->span.begin, &line, &col);
	return cg_map_callback(g, name, line, &g->di_sp);
}

static LLVMBasicBlockRef ret_block(struct cg *g, LLVMValueRef fn, const char *name,
				   uint64_t v, LLVMValueRef flag)
{
	LLVMBasicBlockRef bb = LLVMAppendBasicBlockInContext(g->ctx, fn, name);
	LLVMPositionBuilderAtEnd(g->b, bb);
	if (flag)
		store8(g, cg_const(g, 1), flag);
	LLVMBuildRet(g->b, cg_const(g, v));
	return bb;
}

/* $kv = (key, value) of the element at key/value. */
static void load_element(struct cg *g, struct node *n, LLVMValueRef key, LLVMValueRef value)
{
	struct sema_map *m = n->for_.map->sym;
	struct sema_var *var = n->for_.var->sym;
	struct type *t = var->type;
	if (!var->cg)
		var->cg = cg_slot(g, t->size, true);
	LLVMValueRef slot = cg_slot_at(g, var->cg);
	cg_zero(g, slot, t->size);
	LLVMValueRef kdst = cg_gep(g, slot, t->fields[0].offset);
	LLVMValueRef vdst = cg_gep(g, slot, t->fields[1].offset);
	/* hash keys and values are 8-byte aligned in the kernel's elements */
	LLVMBuildMemCpy(g->b, kdst, cg_known_align(g, kdst), key, 8, cg_const(g, m->key->size));
	if (m->value->kind == TY_AGG) {
		LLVMValueRef total = cg_agg_total(g, m, &g->maps[m->index], kdst);
		cg_store_int(g, cg_gep(g, cg_slot_at(g, var->cg), t->fields[1].offset), total, 8);
	} else {
		LLVMBuildMemCpy(g->b, vdst, cg_known_align(g, vdst), value, 8,
				cg_const(g, m->value->size));
	}
}

void cg_for_map(struct cg *g, struct node *n)
{
	struct sema_map *m = n->for_.map->sym;
	struct cg_map *cm = &g->maps[m->index];
	LLVMBasicBlockRef cur = LLVMGetInsertBlock(g->b);
	LLVMMetadataRef loc = LLVMGetCurrentDebugLocation2(g->b);

	/* the loop context: on the caller's stack (the helper takes a stack
	 * pointer or NULL), an alloca of the caller's entry block */
	LLVMPositionBuilderBefore(g->b, LLVMGetBasicBlockTerminator(g->entry));
	LLVMValueRef lctx = LLVMBuildAlloca(g->b, LLVMArrayType2(g->i64, LCTX_WORDS), "loopctx");
	LLVMSetAlignment(lctx, 8);

	struct cg_fn_state caller;
	save_fn(g, &caller);
	uint32_t scratch_before = g->scratch_size;
	LLVMValueRef fn = new_callback(g, n);

	LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(g->ctx, fn, "entry");
	LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(g->ctx, fn, "body");
	LLVMValueRef cbctx = LLVMGetParam(fn, 3);
	LLVMPositionBuilderAtEnd(g->b, entry);
	LLVMSetCurrentDebugLocation2(g->b, LLVMDIBuilderCreateDebugLocation(g->ctx, 1, 1, g->di_sp,
									    NULL));
	LLVMValueRef frame = load8(g, g->ptr, lctx_word(g, cbctx, LCTX_FRAME));
	LLVMValueRef scratch = load8(g, g->ptr, lctx_word(g, cbctx, LCTX_SCRATCH));
	LLVMValueRef ctx = load8(g, g->ptr, lctx_word(g, cbctx, LCTX_CTX));
	LLVMValueRef sys_nr = NULL;
	if (caller.sys_nr)
		sys_nr = LLVMBuildTrunc(g->b, load8(g, g->i64, lctx_word(g, cbctx, LCTX_SYSNR)),
					g->i32, "");
	LLVMValueRef ret_flag = lctx_word(g, cbctx, LCTX_RET);
	LLVMBuildBr(g->b, body);

	g->fn = fn;
	g->entry = entry;
	g->exit_bb = ret_block(g, fn, "return", 1, ret_flag);
	g->break_bb[0] = ret_block(g, fn, "break", 1, NULL);
	g->cont_bb[0] = ret_block(g, fn, "continue", 0, NULL);
	g->nloops = 1;
	g->frame = frame;
	g->scratch_ptr = scratch;
	g->ctx_arg = ctx;
	g->ctx_static = NULL;
	g->sys_nr = sys_nr;
	g->barrier = NULL;
	g->dest = NULL;
	if (g->nouter < CG_MAX_NEST) {
		g->outer_frame[g->nouter] = caller.frame;
		g->outer_scratch[g->nouter] = caller.scratch_ptr;
	}
	if (++g->nouter > g->max_nouter)
		g->max_nouter = g->nouter;

	LLVMPositionBuilderAtEnd(g->b, body);
	cg_set_loc(g, n->for_.var);
	load_element(g, n, LLVMGetParam(fn, 1), LLVMGetParam(fn, 2));
	bool full_atomic = g->full_atomic;
	g->full_atomic = true;
	cg_block(g, n->for_.body);
	g->full_atomic = full_atomic;
	LLVMBuildBr(g->b, g->cont_bb[0]);

	g->nouter--;
	bool used_scratch = LLVMGetFirstUse(scratch) != NULL;
	if (!used_scratch)
		LLVMInstructionEraseFromParent(scratch);
	restore_fn(g, &caller);
	if (scratch_before > g->scratch_size)
		g->scratch_size = scratch_before;

	/* the caller: fill the context, call the helper, leave the probe if
	 * the body returned */
	LLVMPositionBuilderAtEnd(g->b, cur);
	LLVMSetCurrentDebugLocation2(g->b, loc);
	store8(g, g->frame, lctx_word(g, lctx, LCTX_FRAME));
	if (used_scratch)
		store8(g, g->scratch_ptr, lctx_word(g, lctx, LCTX_SCRATCH));
	store8(g, g->ctx_arg, lctx_word(g, lctx, LCTX_CTX));
	store8(g, cg_const(g, 0), lctx_word(g, lctx, LCTX_RET));
	if (g->sys_nr)
		store8(g, LLVMBuildZExt(g->b, g->sys_nr, g->i64, ""), lctx_word(g, lctx, LCTX_SYSNR));
	LLVMValueRef args[4] = { cm->global, fn, lctx, cg_const(g, 0) };
	cg_helper(g, BPF_FUNC_for_each_map_elem, g->i64, args, 4);
	LLVMValueRef ret = load8(g, g->i64, lctx_word(g, lctx, LCTX_RET));
	LLVMBasicBlockRef after = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "for.end");
	LLVMBuildCondBr(g->b, cg_bool(g, ret), g->exit_bb, after);
	LLVMPositionBuilderAtEnd(g->b, after);
}
