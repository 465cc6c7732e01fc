/* object.c: the pipeline from a checked program to a BPF ELF in memory,
 * plus the program description the runtime reads beside it: the LLVM
 * context and module, one program function per probe group (its prologue
 * here, its body from codegen.c), the passes around LLVM's O2 (memory
 * intrinsics written out, chunk barriers removed), and emission.
 *
 * The top layer of code generation (docs/architecture.md, "Codegen
 * layers"): maps, data globals, BTF and the program description are
 * module.c's. The LLVM diagnostic handler turns backend errors (such as
 * the 512-byte stack limit) into compile errors instead of exit(1) inside
 * the emit call.
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
	if (!g->backend_errors++) {
		/* the file name without init_module's \1 */
		size_t n = 0;
		for (const char *p = msg; *p && n + 1 < sizeof(g->backend_msg); p++)
			if (*p != '\1')
				g->backend_msg[n++] = *p;
		g->backend_msg[n] = 0;
	}
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

/* ---- the LLVM module ---- */

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
	/* "\1" + the name: LLVM's BTF writer finds no such file to read line
	 * texts from; mapbtf.c sets the name and the texts (line_texts) */
	char *name = arena_printf(g->arena, "\1%s", src->name);
	g->di_file = LLVMDIBuilderCreateFile(g->di, name, strlen(name), ".", 1);
	g->di_cu = LLVMDIBuilderCreateCompileUnit(g->di, LLVMDWARFSourceLanguageC, g->di_file,
						  "trace", 5, 1, "", 0, 0, "", 0,
						  LLVMDWARFEmissionFull, 0, 0, 0, "", 0, "", 0);
	LLVMValueRef lic = LLVMConstStringInContext(g->ctx, "GPL", 3, 0); /* GPL-only helpers */
	LLVMValueRef gv = LLVMAddGlobal(g->mod, LLVMTypeOf(lic), "_license");
	LLVMSetInitializer(gv, lic);
	LLVMSetSection(gv, "license");
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
	cg_di_function(g, name, line);
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
		ncases += sp->group == g->probe->group && !sp->chained;
	LLVMValueRef sw = LLVMBuildSwitch(g->b, nr, g->exit_bb, ncases);
	for (struct sema_probe *sp = g->sema->probes; sp; sp = sp->next)
		if (sp->group == g->probe->group && !sp->chained)
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
	/* blocks chained after this one (probes.c, chain_crowded) run next in
	 * the same program, in script order: where one ends (its predicate
	 * fails, it returns, or its body is done), the next begins; its slots
	 * reuse the frame */
	LLVMBasicBlockRef exit_bb = g->exit_bb;
	for (struct sema_probe *b = sp; b; b = b->chain) {
		if (b != sp) {
			g->probe = b;
			g->sema->quiet = true;
			sema_type_probe(g->sema, b);
			g->sema->quiet = quiet;
			g->stack_top = g->stack_persist = g->scratch_top = g->scratch_persist = 0;
			g->nloops = 0;
		}
		g->exit_bb = b->chain ? LLVMAppendBasicBlockInContext(g->ctx, g->fn, "next_block")
				      : exit_bb;
		/* the first block's predicate may not go before the scratch
		 * lookup (setup_after_predicate): the next blocks need it */
		g->in_chain = sp->chain != NULL;
		if (sp->chain && sp->multi) { /* uprobes: the block whose function fired */
			LLVMValueRef ctx = g->ctx_arg;
			LLVMValueRef cookie = cg_helper(g, BPF_FUNC_get_attach_cookie, g->i64, &ctx, 1);
			LLVMBasicBlockRef mine = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "block");
			LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, cookie,
							    cg_const(g, (uint64_t)b->index), ""),
					mine, g->exit_bb);
			LLVMPositionBuilderAtEnd(g->b, mine);
		}
		cg_probe_body(g, b->probe);
		LLVMBuildBr(g->b, g->exit_bb);
		if (b->chain)
			LLVMPositionBuilderAtEnd(g->b, g->exit_bb);
	}
	g->exit_bb = exit_bb;
	g->in_chain = false;
	g->probe = sp;
	cg_finish_map_full(g);
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

/* ---- after O2: chunk barriers (codegen.c) become fall-throughs ---- */

/* One barrier found after optimization: the branch, the successor it
 * takes on the zero byte and the one it never takes. */
struct barrier_br {
	LLVMValueRef br;
	LLVMBasicBlockRef keep, drop;
};

/* The barrier that ends block bb, if its branch is one: a conditional
 * branch on icmp eq/ne (volatile load of the zero byte), 0. The optimizer
 * may have hoisted one load and compare for several branches (SimplifyCFG
 * hoists the code both successors of a branch start with). */
static bool barrier_of(LLVMBasicBlockRef bb, LLVMValueRef slot, struct barrier_br *out)
{
	LLVMValueRef br = LLVMGetBasicBlockTerminator(bb), cmp, ld, c;
	if (!br || !LLVMIsABranchInst(br) || !LLVMIsConditional(br))
		return false;
	cmp = LLVMGetCondition(br);
	if (!LLVMIsAICmpInst(cmp))
		return false;
	LLVMIntPredicate p = LLVMGetICmpPredicate(cmp);
	ld = LLVMGetOperand(cmp, 0);
	c = LLVMGetOperand(cmp, 1);
	if ((p != LLVMIntEQ && p != LLVMIntNE) || !LLVMIsAConstantInt(c) ||
	    LLVMConstIntGetZExtValue(c) != 0 || !LLVMIsALoadInst(ld) || !LLVMGetVolatile(ld) ||
	    LLVMGetOperand(ld, 0) != slot)
		return false;
	LLVMBasicBlockRef t = LLVMGetSuccessor(br, 0), f = LLVMGetSuccessor(br, 1);
	if (t == f)
		return false;
	*out = (struct barrier_br){ br, p == LLVMIntEQ ? t : f, p == LLVMIntEQ ? f : t };
	return true;
}

/* Whether bb has a predecessor that is not a barrier never taken into it
 * (then its phis keep an entry and it stays reachable) */
static bool has_other_pred(LLVMBasicBlockRef bb, LLVMValueRef slot)
{
	for (LLVMUseRef u = LLVMGetFirstUse(LLVMBasicBlockAsValue(bb)); u; u = LLVMGetNextUse(u)) {
		struct barrier_br m;
		LLVMValueRef term = LLVMGetUser(u);
		if (!LLVMIsAInstruction(term) || !barrier_of(LLVMGetInstructionParent(term), slot, &m) ||
		    m.drop != bb)
			return true;
	}
	return false;
}

/* The phis of bb rebuilt without the entries of the barriers never taken
 * into it (the C API has no removeIncoming) */
static void drop_phi_entries(struct cg *g, LLVMBasicBlockRef bb, LLVMValueRef slot)
{
	LLVMValueRef phi = LLVMGetFirstInstruction(bb), next;
	for (; phi && LLVMIsAPHINode(phi); phi = next) {
		next = LLVMGetNextInstruction(phi);
		LLVMPositionBuilderBefore(g->b, phi);
		LLVMValueRef np = LLVMBuildPhi(g->b, LLVMTypeOf(phi), "");
		unsigned cnt = LLVMCountIncoming(phi);
		for (unsigned k = 0; k < cnt; k++) {
			struct barrier_br m;
			LLVMBasicBlockRef from = LLVMGetIncomingBlock(phi, k);
			LLVMValueRef val = LLVMGetIncomingValue(phi, k);
			if (!barrier_of(from, slot, &m) || m.drop != bb)
				LLVMAddIncoming(np, &val, &from, 1);
		}
		LLVMReplaceAllUsesWith(phi, np);
		LLVMInstructionEraseFromParent(phi);
	}
}

/* The zero byte of fn's barriers: an entry-block alloca that only
 * volatile accesses use, one store of 0 and loads (the optimizer may have
 * rewritten the alloca cg_chunk_barrier made, so it is found again) */
static LLVMValueRef barrier_slot(LLVMValueRef fn)
{
	for (LLVMValueRef a = LLVMGetFirstInstruction(LLVMGetEntryBasicBlock(fn)); a;
	     a = LLVMGetNextInstruction(a)) {
		if (!LLVMIsAAllocaInst(a))
			continue;
		int stores = 0, loads = 0;
		for (LLVMUseRef u = LLVMGetFirstUse(a); u; u = LLVMGetNextUse(u)) {
			LLVMValueRef i = LLVMGetUser(u);
			if (LLVMIsALoadInst(i) && LLVMGetVolatile(i)) {
				loads++;
			} else if (LLVMIsAStoreInst(i) && LLVMGetVolatile(i) && LLVMGetOperand(i, 1) == a &&
				   LLVMIsAConstantInt(LLVMGetOperand(i, 0)) &&
				   !LLVMConstIntGetZExtValue(LLVMGetOperand(i, 0))) {
				stores++;
			} else {
				stores = -1;
				break;
			}
		}
		if (stores == 1 && loads)
			return a;
	}
	return NULL;
}

/* The compares and loads of the zero byte nothing uses any more and,
 * once no barrier is kept, the byte itself: its alloca and store */
static void drop_unused_loads(LLVMValueRef slot, bool kept)
{
	LLVMUseRef u = LLVMGetFirstUse(slot);
	while (u) {
		LLVMValueRef ld = LLVMGetUser(u);
		u = LLVMGetNextUse(u);
		if (!LLVMIsALoadInst(ld))
			continue;
		LLVMUseRef v = LLVMGetFirstUse(ld);
		while (v) {
			LLVMValueRef cmp = LLVMGetUser(v);
			v = LLVMGetNextUse(v);
			if (LLVMIsAICmpInst(cmp) && !LLVMGetFirstUse(cmp))
				LLVMInstructionEraseFromParent(cmp);
		}
		if (!LLVMGetFirstUse(ld))
			LLVMInstructionEraseFromParent(ld);
	}
	if (kept)
		return;
	u = LLVMGetFirstUse(slot);
	LLVMValueRef st = u ? LLVMGetUser(u) : NULL;
	if (st && !LLVMGetNextUse(u) && LLVMIsAStoreInst(st)) {
		LLVMInstructionEraseFromParent(st);
		LLVMInstructionEraseFromParent(slot);
	}
}

/* The barriers of fn become fall-throughs. A block that only barriers
 * enter keeps them (rare: the optimizer found its other paths dead). */
static void remove_barriers_in(struct cg *g, LLVMValueRef fn)
{
	LLVMValueRef slot = barrier_slot(fn);
	if (!slot)
		return;
	LLVMBasicBlockRef last_drop = NULL; /* has_other_pred of the last target */
	bool last_ok = false, kept = false;
	for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
		if (LLVMIsAPHINode(LLVMGetFirstInstruction(bb)) && has_other_pred(bb, slot))
			drop_phi_entries(g, bb, slot);
	for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
		struct barrier_br m;
		if (!barrier_of(bb, slot, &m))
			continue;
		if (m.drop != last_drop) {
			last_drop = m.drop;
			last_ok = has_other_pred(m.drop, slot);
		}
		if (!last_ok) {
			kept = true;
			continue;
		}
		LLVMPositionBuilderBefore(g->b, m.br);
		LLVMSetCurrentDebugLocation2(g->b, LLVMInstructionGetDebugLoc(m.br));
		LLVMBuildBr(g->b, m.keep);
		/* a block whose address is taken stays a block of its own
		 * through CodeGenPrepare (eliminateFallThrough); the
		 * constant is used nowhere, so no code refers to it */
		LLVMBlockAddress(fn, m.keep);
		LLVMInstructionEraseFromParent(m.br);
	}
	LLVMSetCurrentDebugLocation2(g->b, NULL);
	drop_unused_loads(slot, kept);
}

/* After the optimizer: the chunk barriers of long blocks (codegen.c,
 * cg_chunk_barrier) become fall-throughs. */
static void cg_remove_chunk_barriers(struct cg *g)
{
	for (LLVMValueRef fn = LLVMGetFirstFunction(g->mod); fn; fn = LLVMGetNextFunction(fn))
		if (LLVMGetFirstBasicBlock(fn))
			remove_barriers_in(g, fn);
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

/* ---- the stack of a call chain through callbacks ---- */

/* The bytes of stack a function of the object uses: the deepest r10
 * offset it reads, writes or passes (a helper's buffer is r10 copied to a
 * register and moved down), as the verifier counts it. */
static uint32_t fn_stack_depth(const struct bpf_insn *insn, size_t n)
{
	uint32_t depth = 0, from_fp = 0; /* registers that hold r10 */
	for (size_t i = 0; i < n; i++) {
		const struct bpf_insn *in = &insn[i];
		uint8_t cls = BPF_CLASS(in->code);
		int32_t off = 0;
		if (cls == BPF_LDX && in->src_reg == BPF_REG_10)
			off = in->off;
		else if ((cls == BPF_ST || cls == BPF_STX) && in->dst_reg == BPF_REG_10)
			off = in->off;
		else if (cls == BPF_ALU64 && BPF_OP(in->code) == BPF_MOV && BPF_SRC(in->code) == BPF_X &&
			 in->src_reg == BPF_REG_10 && in->off == 0) {
			from_fp |= 1u << in->dst_reg;
			continue;
		} else if (cls == BPF_ALU64 && BPF_OP(in->code) == BPF_ADD &&
			   BPF_SRC(in->code) == BPF_K && (from_fp >> in->dst_reg & 1)) {
			off = in->imm;
		}
		if (cls == BPF_ALU64 || cls == BPF_ALU || cls == BPF_LDX || cls == BPF_LD)
			if (!(cls == BPF_ALU64 && BPF_OP(in->code) == BPF_ADD && BPF_SRC(in->code) == BPF_K))
				from_fp &= ~(1u << in->dst_reg);
		if (in->code == (BPF_JMP | BPF_CALL))
			from_fp &= ~0x3fu; /* r0-r5 clobbered */
		if (off < 0 && (uint32_t)-off > depth)
			depth = (uint32_t)-off;
	}
	return depth;
}

static uint32_t round32(uint32_t d)
{
	return ((d ? d : 1) + 31) / 32 * 32;
}

/* The verifier adds the stack of every function of a call chain,
 * callbacks (bpf_for_each_map_elem's) included, each rounded up to 32
 * bytes, and refuses more than 512. LLVM checks each function alone. With
 * callbacks (static functions, in .text) in the object: the deepest
 * program plus the deepest callback once per level of nesting. */
static bool callback_chain_too_deep(const uint8_t *data, size_t size, int levels)
{
	if (size < sizeof(Elf64_Ehdr))
		return false;
	Elf64_Ehdr eh;
	memcpy(&eh, data, sizeof(eh));
	if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff + (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr) > size)
		return false;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(const void *)(data + eh.e_shoff);
	if (eh.e_shstrndx >= eh.e_shnum)
		return false;
	const char *shstr = (const char *)data + sh[eh.e_shstrndx].sh_offset;
	uint32_t prog_max = 0, cb_max = 0;
	for (unsigned s = 1; s < eh.e_shnum; s++) {
		if (sh[s].sh_type != SHT_SYMTAB || sh[s].sh_entsize != sizeof(Elf64_Sym) ||
		    sh[s].sh_offset + sh[s].sh_size > size)
			continue;
		const Elf64_Sym *sym = (const Elf64_Sym *)(const void *)(data + sh[s].sh_offset);
		for (size_t i = 0; i < sh[s].sh_size / sizeof(*sym); i++) {
			if (ELF64_ST_TYPE(sym[i].st_info) != STT_FUNC || sym[i].st_shndx == 0 ||
			    sym[i].st_shndx >= eh.e_shnum)
				continue;
			const Elf64_Shdr *code = &sh[sym[i].st_shndx];
			if (sym[i].st_value + sym[i].st_size > code->sh_size ||
			    code->sh_offset + code->sh_size > size)
				continue;
			uint32_t d = round32(fn_stack_depth(
				(const struct bpf_insn *)(const void *)(data + code->sh_offset + sym[i].st_value),
				sym[i].st_size / sizeof(struct bpf_insn)));
			bool cb = !strcmp(shstr + code->sh_name, ".text");
			uint32_t *m = cb ? &cb_max : &prog_max;
			if (d > *m)
				*m = d;
		}
	}
	return cb_max && prog_max + (uint32_t)levels * cb_max > 512;
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
	int levels = g->max_nouter + (LLVMGetNamedFunction(g->mod, "len_cb") ? 1 : 0);
	if (g->retry_on_stack_limit && levels &&
	    callback_chain_too_deep((const uint8_t *)LLVMGetBufferStart(out->obj),
				    LLVMGetBufferSize(out->obj), levels)) {
		LLVMDisposeMemoryBuffer(out->obj);
		out->obj = NULL;
		rc = 1;
		goto out;
	}
	if (cg_btf_add_maps(g, &out->obj)) {
		diag_error_nospan(d, "internal error: adding the maps' BTF to the object failed");
		goto out;
	}
	out->ms_emit = now_ms() - t1;
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
	cg_define_maps(&g);
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
		cg_add_probe(&g, sp);
	}
	cg_finish_scratch(&g);
	LLVMDIBuilderFinalize(g.di); /* before optimizing */
	if (opts->print_ir_raw) /* out->ir too, unless print_ir replaces it */
		out->ir = out->ir_raw = module_text(&g);
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
