/* bpf_ir.c: BPF idioms in LLVM IR: slots, helper calls, map access, probe
 * reads and event records (ring buffer or perf buffer).
 *
 * Each idiom here encodes a verifier rule (design.md, "Verifier-safe code
 * generation"), so codegen.c and stdlib/ never open-code them:
 *  - slots are zero-filled by their producers (rule 1, see cg_zero);
 *  - slots beyond the stack budget live in a per-CPU scratch map (rule 3);
 *  - map lookups are null-checked before use (rule 5);
 *  - user and kernel memory go through probe_read_{user,kernel} (rule 6).
 */
#include <linux/bpf.h>
#include <string.h>

#include "compiler/codegen.h"

#define MEMSET_CHUNK 512 /* LLVM inlines memset/memcpy only up to 1,024 bytes */
/* Above this, chunks are volatile (see volatile_mem); at or below it, even
 * merged they stay inlinable, and LLVM may still drop or widen them (a
 * volatile one is expanded byte by byte: align 1). */
#define VOLATILE_OVER (2 * MEMSET_CHUNK)

LLVMValueRef cg_const(struct cg *g, uint64_t v)
{
	return LLVMConstInt(g->i64, v, 0);
}

LLVMValueRef cg_gep(struct cg *g, LLVMValueRef base, uint64_t off)
{
	if (!off)
		return base;
	LLVMValueRef idx = cg_const(g, off);
	return LLVMBuildInBoundsGEP2(g->b, g->i8, base, &idx, 1, "");
}

static uint32_t align8(uint32_t v)
{
	return (v + 7) & ~7u;
}

/* A slot of `size` bytes. Temporaries are released at the end of each
 * statement (codegen.c resets the tops); persistent slots (variables)
 * survive until the end of the probe. */
LLVMValueRef cg_slot(struct cg *g, uint32_t size, bool persistent)
{
	size = align8(size ? size : 8);
	LLVMValueRef p;
	if (g->stack_top + size <= CG_STACK_BUDGET) {
		p = cg_gep(g, g->frame, g->stack_top);
		g->stack_top += size;
		if (persistent)
			g->stack_persist = g->stack_top;
	} else {
		p = cg_gep(g, g->scratch_ptr, g->scratch_top);
		g->scratch_top += size;
		if (persistent)
			g->scratch_persist = g->scratch_top;
		if (g->scratch_top > g->scratch_size)
			g->scratch_size = g->scratch_top;
	}
	return p;
}

/* A volatile llvm.memset/llvm.memcpy of n bytes (src NULL: memset 0).
 * O2's MemCpyOpt merges adjacent non-volatile chunks back into one call
 * larger than the BPF backend expands, which it then refuses ("A call to
 * built-in function 'memset' is not supported": every literal or record
 * above about 1-2 KiB did); volatile chunks are left alone. */
static void volatile_mem(struct cg *g, LLVMValueRef dst, LLVMValueRef src, uint32_t n)
{
	const char *name = src ? "llvm.memcpy" : "llvm.memset";
	unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
	LLVMTypeRef types[3] = { g->ptr, src ? g->ptr : g->i64, g->i64 };
	LLVMValueRef fn = LLVMGetIntrinsicDeclaration(g->mod, id, types, src ? 3 : 2);
	LLVMTypeRef fnty = LLVMIntrinsicGetType(g->ctx, id, types, src ? 3 : 2);
	LLVMValueRef args[4] = { dst, src ? src : LLVMConstInt(g->i8, 0, 0), cg_const(g, n),
				 LLVMConstInt(LLVMInt1TypeInContext(g->ctx), 1, 0) };
	LLVMBuildCall2(g->b, fnty, fn, args, 4, "");
}

void cg_zero(struct cg *g, LLVMValueRef dst, uint32_t size)
{
	for (uint32_t off = 0; off < size; off += MEMSET_CHUNK) {
		uint32_t n = size - off < MEMSET_CHUNK ? size - off : MEMSET_CHUNK;
		if (size > VOLATILE_OVER)
			volatile_mem(g, cg_gep(g, dst, off), NULL, n);
		else
			LLVMBuildMemSet(g->b, cg_gep(g, dst, off), LLVMConstInt(g->i8, 0, 0),
					cg_const(g, n), 1);
	}
}

void cg_copy(struct cg *g, LLVMValueRef dst, LLVMValueRef src, uint32_t size)
{
	for (uint32_t off = 0; off < size; off += MEMSET_CHUNK) {
		uint32_t n = size - off < MEMSET_CHUNK ? size - off : MEMSET_CHUNK;
		if (size > VOLATILE_OVER)
			volatile_mem(g, cg_gep(g, dst, off), cg_gep(g, src, off), n);
		else
			LLVMBuildMemCpy(g->b, cg_gep(g, dst, off), 1, cg_gep(g, src, off), 1,
					cg_const(g, n));
	}
}

/* Helpers are called as the kernel's BPF C calls them: through a constant
 * function pointer whose value is the helper id. */
LLVMValueRef cg_helper(struct cg *g, int id, LLVMTypeRef ret, LLVMValueRef *args, unsigned n)
{
	LLVMTypeRef params[5];
	for (unsigned i = 0; i < n && i < 5; i++)
		params[i] = LLVMTypeOf(args[i]);
	LLVMTypeRef fnty = LLVMFunctionType(ret, params, n, 0);
	LLVMValueRef callee = LLVMConstIntToPtr(cg_const(g, id), g->ptr);
	return LLVMBuildCall2(g->b, fnty, callee, args, n, "");
}

static LLVMTypeRef int_type(struct cg *g, uint32_t size)
{
	switch (size) {
	case 1: return g->i8;
	case 2: return g->i16;
	case 4: return g->i32;
	default: return g->i64;
	}
}

LLVMValueRef cg_load_int(struct cg *g, LLVMValueRef p, uint32_t size, bool is_signed)
{
	LLVMValueRef v = LLVMBuildLoad2(g->b, int_type(g, size), p, "");
	LLVMSetAlignment(v, 1);
	if (size >= 8)
		return v;
	return is_signed ? LLVMBuildSExt(g->b, v, g->i64, "") : LLVMBuildZExt(g->b, v, g->i64, "");
}

void cg_store_int(struct cg *g, LLVMValueRef p, LLVMValueRef v, uint32_t size)
{
	if (size < 8)
		v = LLVMBuildTrunc(g->b, v, int_type(g, size), "");
	LLVMValueRef st = LLVMBuildStore(g->b, v, p);
	LLVMSetAlignment(st, 1);
}

void cg_probe_read(struct cg *g, LLVMValueRef dst, uint32_t size, LLVMValueRef addr, bool user)
{
	LLVMValueRef args[3] = { dst, LLVMConstInt(g->i32, size, 0),
				 LLVMBuildIntToPtr(g->b, addr, g->ptr, "") };
	cg_helper(g, user ? BPF_FUNC_probe_read_user : BPF_FUNC_probe_read_kernel, g->i64, args, 3);
}

void cg_probe_read_str(struct cg *g, LLVMValueRef dst, LLVMValueRef size, LLVMValueRef addr,
		       bool user)
{
	LLVMValueRef args[3] = { dst, LLVMBuildTrunc(g->b, size, g->i32, ""),
				 LLVMBuildIntToPtr(g->b, addr, g->ptr, "") };
	cg_helper(g, user ? BPF_FUNC_probe_read_user_str : BPF_FUNC_probe_read_kernel_str, g->i64,
		  args, 3);
}

LLVMValueRef cg_map_key(struct cg *g, struct node *map_node, struct sema_map *m)
{
	if (!m->key) { /* scalar map: a single 8-byte zero key */
		LLVMValueRef k = cg_slot(g, 8, false);
		cg_store_int(g, k, cg_const(g, 0), 8);
		return k;
	}
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
	cg_zero(g, k, m->key->size);
	uint32_t i = 0;
	for (struct node *e = keys; e; e = e->next, i++) {
		LLVMValueRef v = cg_expr(g, e);
		struct type_field *f = &m->key->fields[i];
		cg_store_as(g, e, v, e->type, f->type, cg_gep(g, k, f->offset));
	}
	return k;
}

LLVMValueRef cg_map_lookup(struct cg *g, LLVMValueRef map, LLVMValueRef key)
{
	LLVMValueRef args[2] = { map, key };
	return cg_helper(g, BPF_FUNC_map_lookup_elem, g->ptr, args, 2);
}

LLVMValueRef cg_map_update(struct cg *g, LLVMValueRef map, LLVMValueRef key, LLVMValueRef val,
			   uint64_t flags)
{
	LLVMValueRef args[4] = { map, key, val, cg_const(g, flags) };
	return cg_helper(g, BPF_FUNC_map_update_elem, g->i64, args, 4);
}

LLVMBasicBlockRef cg_if(struct cg *g, LLVMValueRef cond, const char *name)
{
	LLVMBasicBlockRef then = LLVMAppendBasicBlockInContext(g->ctx, g->fn, name);
	LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "");
	LLVMBuildCondBr(g->b, cond, then, done);
	LLVMPositionBuilderAtEnd(g->b, then);
	return done;
}

/* lookup; if missing, insert the zero value (BPF_NOEXIST: another CPU may
 * have inserted it meanwhile, which is fine) and look up again. For a
 * per-CPU map the element then exists with zeros on every CPU. */
LLVMValueRef cg_map_lookup_or_init(struct cg *g, struct cg_map *cm, LLVMValueRef key)
{
	LLVMValueRef first = cg_map_lookup(g, cm->global, key);
	if (cg_breaks(g, "null-check"))
		return first;
	LLVMBasicBlockRef from_first = LLVMGetInsertBlock(g->b);
	LLVMBasicBlockRef insert = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "insert");
	LLVMBasicBlockRef ok = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "found");
	LLVMBasicBlockRef fail = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "");
	LLVMBuildCondBr(g->b, LLVMBuildIsNull(g->b, first, ""), insert, ok);

	LLVMPositionBuilderAtEnd(g->b, insert);
	uint32_t vsize = cm->sm->value->kind == TY_AGG ? cg_agg_value_size(cm->sm) : cm->sm->value->size;
	LLVMValueRef zero = cg_slot(g, vsize, false);
	cg_zero(g, zero, vsize);
	cg_map_update(g, cm->global, key, zero, BPF_NOEXIST);
	LLVMValueRef second = cg_map_lookup(g, cm->global, key);
	LLVMBasicBlockRef from_second = LLVMGetInsertBlock(g->b);
	LLVMBuildCondBr(g->b, LLVMBuildIsNull(g->b, second, ""), fail, ok);

	LLVMPositionBuilderAtEnd(g->b, fail); /* map full: nothing to update */
	LLVMBuildBr(g->b, g->exit_bb);

	LLVMPositionBuilderAtEnd(g->b, ok);
	LLVMValueRef phi = LLVMBuildPhi(g->b, g->ptr, "val");
	LLVMValueRef vals[2] = { first, second };
	LLVMBasicBlockRef bbs[2] = { from_first, from_second };
	LLVMAddIncoming(phi, vals, bbs, 2);
	return phi;
}

void cg_record_header(struct cg *g, LLVMValueRef rec, enum pd_record_kind kind, uint32_t id)
{
	LLVMValueRef hdr = cg_const(g, (uint64_t)id << 32 | (uint32_t)kind);
	cg_store_int(g, rec, hdr, 8);
}

void cg_emit_record(struct cg *g, LLVMValueRef rec, uint32_t size)
{
	LLVMValueRef ret;
	if (g->perfbuf) {
		/* the program's own ctx: the helper wants it to find the CPU's
		 * perf event (tracepoint, perf_event, kprobe and raw_tp alike) */
		LLVMValueRef args[5] = { g->ctx_arg, g->ringbuf, cg_const(g, BPF_F_CURRENT_CPU), rec,
					 cg_const(g, size) };
		ret = cg_helper(g, BPF_FUNC_perf_event_output, g->i64, args, 5);
	} else {
		LLVMValueRef args[4] = { g->ringbuf, rec, cg_const(g, size), cg_const(g, 0) };
		ret = cg_helper(g, BPF_FUNC_ringbuf_output, g->i64, args, 4);
	}
	LLVMValueRef failed = LLVMBuildICmp(g->b, LLVMIntSLT, ret, cg_const(g, 0), "");
	LLVMBasicBlockRef done = cg_if(g, failed, "lost");
	/* count what the buffer refused (-ENOSPC): reported while running
	 * and at exit */
	LLVMValueRef key = cg_slot(g, 4, false);
	LLVMBuildStore(g->b, LLVMConstInt(g->i32, 0, 0), key);
	LLVMValueRef cnt = cg_map_lookup(g, g->lost, key);
	LLVMBasicBlockRef inc = cg_if(g, LLVMBuildIsNotNull(g->b, cnt, ""), "inc");
	(void)inc;
	LLVMValueRef old = LLVMBuildLoad2(g->b, g->i64, cnt, "");
	LLVMBuildStore(g->b, LLVMBuildAdd(g->b, old, cg_const(g, 1), ""), cnt);
	LLVMBuildBr(g->b, inc);
	LLVMPositionBuilderAtEnd(g->b, inc);
	LLVMBuildBr(g->b, done);
	LLVMPositionBuilderAtEnd(g->b, done);
}
