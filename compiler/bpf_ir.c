/* bpf_ir.c: BPF idioms in LLVM IR: slots, helper calls, map access, probe
 * reads and event records (ring buffer or perf buffer).
 *
 * Each idiom here encodes a verifier rule (design.md, "Verifier-safe code
 * generation"), so codegen.c and stdlib/ never open-code them:
 *  - slots are zero-filled by their producers (rule 1, see cg_zero);
 *  - slots beyond the stack budget live in a per-CPU scratch map (rule 3);
 *  - map lookups are null-checked before use (rule 5);
 *  - user and kernel memory go through probe_read_{user,kernel} (rule 6).
 *
 * Below AST lowering (docs/architecture.md, "Codegen layers"): nothing
 * here reads the AST or calls codegen.c, rawsyscall.c or stdlib/; the
 * module's globals (zeros, the lost counter) and map layouts
 * (struct cg_map) come from module.c.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>

#include "compiler/codegen.h"


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

/* A variable's slot address (from cg_slot) built again at the current
 * position. Scratch addresses go through llvm.bpf.passthrough so that LLVM
 * cannot merge them into one computed early and kept in a register (or,
 * hundreds of them, spilled past the stack limit) until the last use:
 * only the scratch pointer itself stays live. */
LLVMValueRef cg_slot_at(struct cg *g, LLVMValueRef slot)
{
	LLVMValueRef base = slot;
	uint64_t off = 0;
	if (LLVMIsAGetElementPtrInst(slot)) {
		base = LLVMGetOperand(slot, 0);
		off = LLVMConstIntGetZExtValue(LLVMGetOperand(slot, 1));
	}
	/* in a for ($kv : @m) callback, the caller's frame and scratch value
	 * are reached through the callback's own pointers (foreach.c) */
	for (int i = 0; i < g->nouter && i < CG_MAX_NEST; i++) {
		if (base == g->outer_frame[i])
			base = g->frame;
		else if (base == g->outer_scratch[i])
			base = g->scratch_ptr;
	}
	if (base == g->scratch_ptr)
		base = cg_opaque(g, base);
	return cg_gep(g, base, off);
}

/* A slot of `size` bytes. Temporaries are released at the end of each
 * statement (codegen.c resets the tops); persistent slots (variables)
 * survive until the end of the probe, and their address is rebuilt at each
 * use with cg_slot_at: a variable first assigned inside an `if` or an
 * unrolled loop is read after it, where an address built at the first
 * assignment would not dominate the use. */
static LLVMValueRef slot(struct cg *g, uint32_t size, bool persistent, bool scratch)
{
	size = align8(size ? size : 8);
	LLVMValueRef p;
	if (!scratch && g->stack_top + size <= cg_stack_budget(g)) {
		p = cg_gep(g, g->frame, g->stack_top);
		g->stack_top += size;
		if (persistent)
			g->stack_persist = g->stack_top;
	} else {
		p = cg_gep(g, persistent ? g->scratch_ptr : cg_opaque(g, g->scratch_ptr),
			   g->scratch_top);
		g->scratch_top += size;
		if (persistent)
			g->scratch_persist = g->scratch_top;
		if (g->scratch_top > g->scratch_size)
			g->scratch_size = g->scratch_top;
	}
	return p;
}

LLVMValueRef cg_slot(struct cg *g, uint32_t size, bool persistent)
{
	return slot(g, size, persistent, false);
}

/* A variable's slot in the scratch value whatever the stack budget */
LLVMValueRef cg_slot_scratch(struct cg *g, uint32_t size)
{
	return slot(g, size, true, true);
}

static unsigned align_attr_kind(void)
{
	static unsigned kind;
	if (!kind)
		kind = LLVMGetEnumAttributeKindForName("align", 5);
	return kind;
}

unsigned cg_call_align(LLVMValueRef call, unsigned index)
{
	LLVMAttributeRef a = LLVMGetCallSiteEnumAttribute(call, index, align_attr_kind());
	uint64_t v = a ? LLVMGetEnumAttributeValue(a) : 1;
	return v > 8 ? 8 : v ? (unsigned)v : 1;
}

static void set_ret_align(struct cg *g, LLVMValueRef call, unsigned align)
{
	LLVMAddCallSiteAttribute(call, LLVMAttributeReturnIndex,
				 LLVMCreateEnumAttribute(g->ctx, align_attr_kind(), align));
}

/* The alignment LLVM may assume for an address: the frame and the
 * scratch value are 8-byte aligned (in a for-map callback both are
 * pointers loaded from the loop context, which LLVM knows nothing of), a
 * call result (a map value, an opaque copy of one) as its return
 * attribute says, and a constant offset keeps the alignment of the
 * offset. Anything else: 1. */
unsigned cg_known_align(struct cg *g, LLVMValueRef p)
{
	uint64_t off = 0;
	unsigned base = 8;
	while (p != g->frame && p != g->scratch_ptr) {
		if (LLVMIsACallInst(p)) {
			base = cg_call_align(p, LLVMAttributeReturnIndex);
			break;
		}
		if (!LLVMIsAGetElementPtrInst(p) || LLVMGetNumOperands(p) != 2 ||
		    LLVMGetGEPSourceElementType(p) != g->i8 ||
		    !LLVMIsAConstantInt(LLVMGetOperand(p, 1)))
			return 1;
		off += LLVMConstIntGetZExtValue(LLVMGetOperand(p, 1));
		p = LLVMGetOperand(p, 0);
	}
	unsigned a = base;
	while (off % a)
		a /= 2;
	return a;
}

/* One memset/memcpy each; object.c splits those the BPF backend cannot
 * inline (after the optimizer has merged neighbours). */
void cg_zero(struct cg *g, LLVMValueRef dst, uint32_t size)
{
	LLVMBuildMemSet(g->b, dst, LLVMConstInt(g->i8, 0, 0), cg_const(g, size),
			cg_known_align(g, dst));
}

void cg_copy(struct cg *g, LLVMValueRef dst, LLVMValueRef src, uint32_t size)
{
	LLVMBuildMemCpy(g->b, dst, cg_known_align(g, dst), src, cg_known_align(g, src),
			cg_const(g, size));
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

/* static (the verifier wants a callback's BTF linkage static, and static
 * functions land in .text, a subprogram libbpf appends to each program
 * using it), four pointer parameters, long result */
LLVMValueRef cg_map_callback(struct cg *g, const char *name, uint32_t line, LLVMMetadataRef *sp)
{
	LLVMTypeRef params[4] = { g->ptr, g->ptr, g->ptr, g->ptr };
	LLVMValueRef fn = LLVMAddFunction(g->mod, name, LLVMFunctionType(g->i64, params, 4, 0));
	LLVMSetLinkage(fn, LLVMInternalLinkage);
	unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
	LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
				LLVMCreateEnumAttribute(g->ctx, nounwind, 0));
	LLVMMetadataRef di_long = LLVMDIBuilderCreateBasicType(g->di, "long", 4, 64,
							       0x05 /* DW_ATE_signed */,
							       LLVMDIFlagZero);
	LLVMMetadataRef di_vp = LLVMDIBuilderCreatePointerType(g->di, NULL, 64, 0, 0, "", 0);
	LLVMMetadataRef sig[5] = { di_long, di_vp, di_vp, di_vp, di_vp };
	LLVMMetadataRef sty = LLVMDIBuilderCreateSubroutineType(g->di, g->di_file, sig, 5, 0);
	*sp = LLVMDIBuilderCreateFunction(g->di, g->di_file, name, strlen(name), name, strlen(name),
					  g->di_file, line, sty, 1, 1, line, LLVMDIFlagPrototyped, 1);
	LLVMSetSubprogram(fn, *sp);
	static const char *pnames[4] = { "map", "key", "value", "ctx" };
	for (unsigned i = 0; i < 4; i++)
		LLVMDIBuilderCreateParameterVariable(g->di, *sp, pnames[i], strlen(pnames[i]), i + 1,
						     g->di_file, line, di_vp, 1, LLVMDIFlagZero);
	return fn;
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
	unsigned a = cg_known_align(g, p);
	LLVMSetAlignment(v, a < size ? a : size);
	if (size >= 8)
		return v;
	return is_signed ? LLVMBuildSExt(g->b, v, g->i64, "") : LLVMBuildZExt(g->b, v, g->i64, "");
}

/* A scalar of the context (tracepoint record, pt_regs). The verifier only
 * accepts ctx loads at a constant offset from the ctx pointer itself, but
 * LLVM turns `c ? ctx->a : ctx->b` into one load through a phi or select
 * of the two addresses ("dereference of modified ctx ptr"), even for
 * volatile loads. Clang's answer, __attribute__((preserve_static_offset)),
 * is the llvm.preserve.static.offset intrinsic on the base pointer: the
 * BPF backend's BPFPreserveStaticOffset pass (run by LLVMRunPasses with
 * our target machine) turns each GEP+load from it into an opaque
 * llvm.bpf.getelementptr.and.load with the offset as an immediate, which
 * no pass can merge, and back into a plain ctx load at the end. */
static LLVMValueRef ctx_base(struct cg *g)
{
	if (g->ctx_static)
		return g->ctx_static;
	static const char name[] = "llvm.preserve.static.offset";
	unsigned id = LLVMLookupIntrinsicID(name, sizeof(name) - 1);
	LLVMValueRef fn = LLVMGetIntrinsicDeclaration(g->mod, id, NULL, 0);
	LLVMBasicBlockRef cur = LLVMGetInsertBlock(g->b);
	LLVMMetadataRef loc = LLVMGetCurrentDebugLocation2(g->b);
	LLVMPositionBuilderBefore(g->b, LLVMGetBasicBlockTerminator(g->entry));
	g->ctx_static = LLVMBuildCall2(g->b, LLVMGlobalGetValueType(fn), fn, &g->ctx_arg, 1, "");
	LLVMPositionBuilderAtEnd(g->b, cur);
	LLVMSetCurrentDebugLocation2(g->b, loc);
	return g->ctx_static;
}

LLVMValueRef cg_load_ctx(struct cg *g, uint32_t off, uint32_t size, bool is_signed)
{
	if (size != 1 && size != 2 && size != 4)
		size = 8;
	LLVMValueRef v = LLVMBuildLoad2(g->b, int_type(g, size), cg_gep(g, ctx_base(g), off), "");
	LLVMSetAlignment(v, size); /* record fields are naturally aligned */
	if (size >= 8)
		return v;
	return is_signed ? LLVMBuildSExt(g->b, v, g->i64, "") : LLVMBuildZExt(g->b, v, g->i64, "");
}

/* v through an empty inline asm, `asm("" : "+r"(v))` (the kernel's
 * barrier_var()): no instruction is emitted, and neither the optimizer nor
 * instruction selection can see through it. */
static LLVMValueRef asm_barrier(struct cg *g, LLVMValueRef v)
{
	LLVMTypeRef t = LLVMTypeOf(v);
	LLVMTypeRef fty = LLVMFunctionType(t, &t, 1, 0);
	LLVMValueRef a = LLVMGetInlineAsm(fty, "", 0, "=r,0", 4, 0, 0, LLVMInlineAsmDialectATT, 0);
	return LLVMBuildCall2(g->b, fty, a, &v, 1, "");
}

LLVMValueRef cg_barrier(struct cg *g, LLVMValueRef v)
{
	return asm_barrier(g, v);
}

/* An i64 the optimizer cannot reason about: v goes through
 * llvm.bpf.passthrough, which the BPF backend removes just before
 * instruction selection, so instruction selection still can. */
LLVMValueRef cg_opaque(struct cg *g, LLVMValueRef v)
{
	static const char name[] = "llvm.bpf.passthrough";
	static unsigned seq;
	LLVMTypeRef t = LLVMTypeOf(v);
	LLVMTypeRef tys[2] = { t, t };
	LLVMValueRef fn = LLVMGetIntrinsicDeclaration(
		g->mod, LLVMLookupIntrinsicID(name, sizeof(name) - 1), tys, 2);
	LLVMValueRef args[2] = { LLVMConstInt(g->i32, ++seq, 0), v };
	LLVMValueRef r = LLVMBuildCall2(g->b, LLVMGlobalGetValueType(fn), fn, args, 2, "");
	if (LLVMGetTypeKind(t) == LLVMPointerTypeKind && cg_known_align(g, v) > 1)
		set_ret_align(g, r, cg_known_align(g, v)); /* keep it known */
	return r;
}

/* min(v, max) as the verifier needs it: right before the access, and
 * kept even where LLVM can prove it redundant (e.g. (x & 7) / 3 + 1 <= 3):
 * the verifier does not follow every step of such a proof (it forgets all
 * bounds at a division), so a clamp LLVM removed became an "unbounded
 * memory access". cg_opaque is not enough: instruction selection saw that
 * hist()'s bucket index is at most 64 and dropped the compare, and Linux
 * 6.1's verifier, which forgets all bounds at a shift by a register or an
 * or of two registers, rejected the map value + index*8 ("unbounded min
 * value"). The empty asm keeps the compare. */
LLVMValueRef cg_clamp(struct cg *g, LLVMValueRef v, uint64_t max)
{
	if (cg_breaks(g, "clamp"))
		return v;
	v = asm_barrier(g, v);
	LLVMValueRef m = cg_const(g, max);
	/* --debug-break signed-clamp: negative values pass the clamp */
	LLVMIntPredicate gt = cg_breaks(g, "signed-clamp") ? LLVMIntSGT : LLVMIntUGT;
	return LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, gt, v, m, ""), m, v, "");
}

void cg_store_int(struct cg *g, LLVMValueRef p, LLVMValueRef v, uint32_t size)
{
	if (size < 8)
		v = LLVMBuildTrunc(g->b, v, int_type(g, size), "");
	LLVMValueRef st = LLVMBuildStore(g->b, v, p);
	unsigned a = cg_known_align(g, p);
	LLVMSetAlignment(st, a < size ? a : size);
}

void cg_probe_read(struct cg *g, LLVMValueRef dst, uint32_t size, LLVMValueRef addr, bool user)
{
	LLVMValueRef args[3] = { dst, LLVMConstInt(g->i32, size, 0),
				 LLVMBuildIntToPtr(g->b, addr, g->ptr, "") };
	int id = user ? BPF_FUNC_probe_read_user : BPF_FUNC_probe_read_kernel;
	cg_check_helper(g, id, cg_helper(g, id, g->i64, args, 3));
}

/* a read of a run-time length the caller has clamped (cg_clamp) */
void cg_probe_read_len(struct cg *g, LLVMValueRef dst, LLVMValueRef size, LLVMValueRef addr,
		       bool user)
{
	LLVMValueRef args[3] = { dst, LLVMBuildTrunc(g->b, size, g->i32, ""),
				 LLVMBuildIntToPtr(g->b, addr, g->ptr, "") };
	int id = user ? BPF_FUNC_probe_read_user : BPF_FUNC_probe_read_kernel;
	cg_check_helper(g, id, cg_helper(g, id, g->i64, args, 3));
}

void cg_probe_read_str(struct cg *g, LLVMValueRef dst, LLVMValueRef size, LLVMValueRef addr,
		       bool user)
{
	/* --debug-break signed-clamp: the whole signed register, as in C
	 * without the (u32) cast */
	LLVMValueRef n = cg_breaks(g, "signed-clamp") ? size : LLVMBuildTrunc(g->b, size, g->i32, "");
	LLVMValueRef args[3] = { dst, n, LLVMBuildIntToPtr(g->b, addr, g->ptr, "") };
	int id = user ? BPF_FUNC_probe_read_user_str : BPF_FUNC_probe_read_kernel_str;
	cg_check_helper(g, id, cg_helper(g, id, g->i64, args, 3));
}

/* The key of a scalar map (NULL from cg_map_key) is an 8-byte zero stored
 * to the stack right before the helper call: read from .rodata it cost a
 * cache miss per event (docs/kernel.md), and built by cg_map_key it was a
 * dead store for a keyless hist, whose key is the bucket. */
LLVMValueRef cg_key_or_zero(struct cg *g, LLVMValueRef key)
{
	if (key)
		return key;
	LLVMValueRef k = cg_slot(g, 8, false);
	cg_store_int(g, k, cg_const(g, 0), 8);
	return k;
}

LLVMValueRef cg_map_lookup(struct cg *g, LLVMValueRef map, LLVMValueRef key)
{
	key = cg_key_or_zero(g, key);
	if (cg_breaks(g, "key-pointer")) /* the key's value, not its address */
		key = LLVMBuildIntToPtr(g->b, cg_load_int(g, key, 4, false), g->ptr, "");
	LLVMValueRef args[2] = { map, key };
	LLVMValueRef v = cg_helper(g, BPF_FUNC_map_lookup_elem, g->ptr, args, 2);
	/* map values are 8-byte aligned in every map type trace creates;
	 * without saying so, LLVM splits each 8-byte access of a value into
	 * byte loads (which then spill past the stack limit) */
	set_ret_align(g, v, 8);
	return v;
}

static LLVMValueRef map_update(struct cg *g, LLVMValueRef map, LLVMValueRef key, LLVMValueRef val,
			       uint64_t flags, bool on_miss)
{
	LLVMValueRef args[4] = { map, cg_key_or_zero(g, key), val, cg_const(g, flags) };
	LLVMValueRef ret = cg_helper(g, BPF_FUNC_map_update_elem, g->i64, args, 4);
	/* a full script map (-E2BIG) counts the drop (checks.c) */
	cg_count_map_full(g, map, ret, on_miss);
	cg_check_helper(g, BPF_FUNC_map_update_elem, ret);
	return ret;
}

LLVMValueRef cg_map_update(struct cg *g, LLVMValueRef map, LLVMValueRef key, LLVMValueRef val,
			   uint64_t flags)
{
	return map_update(g, map, key, val, flags, false);
}

LLVMValueRef cg_map_insert(struct cg *g, LLVMValueRef map, LLVMValueRef key, LLVMValueRef val,
			   uint64_t flags)
{
	return map_update(g, map, key, val, flags, true);
}

LLVMBasicBlockRef cg_if(struct cg *g, LLVMValueRef cond, const char *name)
{
	LLVMBasicBlockRef then = LLVMAppendBasicBlockInContext(g->ctx, g->fn, name);
	LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "");
	LLVMBuildCondBr(g->b, cond, then, done);
	LLVMPositionBuilderAtEnd(g->b, then);
	return done;
}

void cg_expect(struct cg *g, LLVMValueRef condbr, bool first_likely)
{
	LLVMMetadataRef md[3] = {
		LLVMMDStringInContext2(g->ctx, "branch_weights", 14),
		LLVMValueAsMetadata(LLVMConstInt(g->i32, first_likely ? 2000 : 1, 0)),
		LLVMValueAsMetadata(LLVMConstInt(g->i32, first_likely ? 1 : 2000, 0)),
	};
	LLVMSetMetadata(condbr, LLVMGetMDKindIDInContext(g->ctx, "prof", 4),
			LLVMMetadataAsValue(g->ctx, LLVMMDNodeInContext2(g->ctx, md, 3)));
}

LLVMValueRef cg_dest(struct cg *g, uint32_t size)
{
	LLVMValueRef d = g->dest;
	bool fits = d && g->dest_size == size;
	g->dest = NULL;
	return fits ? d : cg_slot(g, size, false);
}

/* lookup; if missing, insert the zero value (BPF_NOEXIST: another CPU may
 * have inserted it meanwhile, which is fine) and look up again. For a
 * per-CPU map the element then exists with zeros on every CPU. The zeros
 * come from .rodata (cg_zeros): no stores, no stack. An array's element
 * always exists: a miss (impossible) just ends the program. */
LLVMValueRef cg_map_lookup_or_init(struct cg *g, struct cg_map *cm, LLVMValueRef key)
{
	LLVMValueRef first = cg_map_lookup(g, cm->global, key);
	if (cg_breaks(g, "null-check"))
		return first;
	LLVMBasicBlockRef from_first = LLVMGetInsertBlock(g->b);
	LLVMBasicBlockRef ok = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "found");
	if (cm->array) {
		cg_expect(g, LLVMBuildCondBr(g->b, LLVMBuildIsNull(g->b, first, ""), g->exit_bb, ok),
			  false);
		LLVMPositionBuilderAtEnd(g->b, ok);
		return first;
	}
	LLVMBasicBlockRef insert = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "insert");
	LLVMBasicBlockRef fail = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "");
	cg_expect(g, LLVMBuildCondBr(g->b, LLVMBuildIsNull(g->b, first, ""), insert, ok), false);

	LLVMPositionBuilderAtEnd(g->b, insert);
	cg_helper_failed(g, BPF_FUNC_map_lookup_elem, cg_const(g, 0)); /* -kk */
	uint32_t vsize = cm->value_size;
	cg_map_insert(g, cm->global, key, cg_zeros(g, vsize), BPF_NOEXIST);
	LLVMValueRef second = cg_map_lookup(g, cm->global, key);
	LLVMBasicBlockRef from_second = LLVMGetInsertBlock(g->b);
	LLVMBuildCondBr(g->b, LLVMBuildIsNull(g->b, second, ""), fail, ok);

	/* map full (counted by cg_map_insert): the update goes to a zeroed
	 * slot nobody reads, and the probe goes on with its next statement */
	LLVMPositionBuilderAtEnd(g->b, fail);
	LLVMValueRef sink = cg_slot(g, vsize, false);
	cg_zero(g, sink, vsize);
	LLVMBasicBlockRef from_fail = LLVMGetInsertBlock(g->b);
	LLVMBuildBr(g->b, ok);

	LLVMPositionBuilderAtEnd(g->b, ok);
	LLVMValueRef phi = LLVMBuildPhi(g->b, g->ptr, "val");
	LLVMValueRef vals[3] = { first, second, sink };
	LLVMBasicBlockRef bbs[3] = { from_first, from_second, from_fail };
	LLVMAddIncoming(phi, vals, bbs, 3);
	return phi;
}

void cg_record_header(struct cg *g, LLVMValueRef rec, enum pd_record_kind kind, uint32_t id)
{
	LLVMValueRef hdr = cg_const(g, (uint64_t)id << 32 | (uint32_t)kind);
	cg_store_int(g, rec, hdr, 8);
}

void cg_emit_record(struct cg *g, LLVMValueRef rec, uint32_t size)
{
	if (cg_breaks(g, "ringbuf-output")) { /* reserved, never submitted */
		LLVMValueRef rargs[3] = { g->ringbuf, cg_const(g, size), cg_const(g, 0) };
		cg_helper(g, BPF_FUNC_ringbuf_reserve, g->ptr, rargs, 3);
		return;
	}
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
	LLVMBasicBlockRef from = LLVMGetInsertBlock(g->b);
	LLVMBasicBlockRef done = cg_if(g, failed, "lost");
	cg_expect(g, LLVMGetBasicBlockTerminator(from), false);
	/* count what the event buffer refused (reported while running and at
	 * exit): one atomic add to a .bss counter, no map lookup */
	LLVMBuildAtomicRMW(g->b, LLVMAtomicRMWBinOpAdd, cg_lost_counter(g), cg_const(g, 1),
			   LLVMAtomicOrderingMonotonic, 0);
	LLVMBuildBr(g->b, done);
	LLVMPositionBuilderAtEnd(g->b, done);
}
