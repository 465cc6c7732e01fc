/* rawsyscall.c: per-event values in a raw syscall program.
 *
 * probes.c attaches a block's syscall tracepoints of one kind as one
 * raw_tp program on raw_syscalls sys_enter or sys_exit, which object.c's
 * build_syscall_filter starts with a switch on the syscall number
 * (g->sys_nr). What differs between the events comes from that number and
 * the raw tracepoint's arguments (sys_enter: regs, id; sys_exit: regs,
 * ret), the way the kernel fills the syscall event's record
 * (kernel/trace/trace_syscalls.c, docs/kernel.md "Detaching"):
 *
 *   probe             the probe's index, from a .rodata table by number
 *   args->__syscall_nr the number (int at record offset 8)
 *   args->ARG         sys_enter: argument i (record offset 16 + 8 * i),
 *                     syscall_get_arguments(): di, si, dx, r10, r8, r9
 *   args->ret         sys_exit: the raw tracepoint's ret (record offset 16)
 *
 * each read as the field's C type from its 8-byte slot, as a perf
 * tracepoint program reads the record. */
#include <stdlib.h>
#include <string.h>

#include "compiler/codegen.h"

/* struct pt_regs (x86_64) offsets of the syscall argument registers,
 * in argument order */
static const uint32_t arg_regs[6] = { 112, 104, 96, 56, 72, 64 };

/* The group's probe indices by syscall number, u32 little-endian, made
 * on first use; *max_nr is its last index. */
static LLVMValueRef probe_table(struct cg *g, uint32_t *max_nr)
{
	if (!g->sys_probes) {
		uint32_t max = 0;
		for (struct sema_probe *sp = g->sema->probes; sp; sp = sp->next)
			if (sp->group == g->probe->group && (uint32_t)sp->sys_nr > max)
				max = (uint32_t)sp->sys_nr;
		uint32_t size = (max + 1) * 4;
		uint8_t *bytes = arena_alloc(g->arena, size);
		memset(bytes, 0, size);
		for (struct sema_probe *sp = g->sema->probes; sp; sp = sp->next)
			if (sp->group == g->probe->group)
				for (int i = 0; i < 4; i++)
					bytes[sp->sys_nr * 4 + i] =
						(uint8_t)((uint32_t)sp->index >> (8 * i));
		const char *name = arena_printf(g->arena, "sysprobes%d", g->probe->group);
		g->sys_probes = cg_rodata(g, name, bytes, size);
	}
	*max_nr = (uint32_t)(LLVMGetArrayLength2(LLVMGlobalGetValueType(g->sys_probes)) / 4 - 1);
	return g->sys_probes;
}

/* `probe`: table[nr]. The filter let only the group's numbers through;
 * the clamp is for the verifier (the table is a map value). */
LLVMValueRef cg_syscall_probe(struct cg *g)
{
	uint32_t max;
	LLVMValueRef table = probe_table(g, &max);
	LLVMValueRef nr = LLVMBuildZExt(g->b, g->sys_nr, g->i64, "");
	nr = cg_clamp(g, nr, max);
	LLVMValueRef off = LLVMBuildMul(g->b, nr, cg_const(g, 4), "");
	LLVMValueRef p = LLVMBuildGEP2(g->b, g->i8, table, &off, 1, "");
	LLVMValueRef v = LLVMBuildLoad2(g->b, g->i32, p, "");
	LLVMSetAlignment(v, 4);
	return LLVMBuildZExt(g->b, v, g->i64, "");
}

LLVMValueRef cg_syscall_field(struct cg *g, const struct type_field *f)
{
	const struct type *t = f->type;
	LLVMValueRef v;
	if (f->offset == 8) { /* __syscall_nr */
		v = LLVMBuildSExt(g->b, g->sys_nr, g->i64, "");
	} else if (!strcmp(g->probe->raw_syscall, "sys_exit")) {
		v = cg_load_ctx(g, 8, 8, false); /* ret */
	} else {
		LLVMValueRef regs = cg_load_ctx(g, 0, 8, false);
		LLVMValueRef addr =
			LLVMBuildAdd(g->b, regs, cg_const(g, arg_regs[(f->offset - 16) / 8]), "");
		LLVMValueRef tmp = cg_slot(g, 8, false);
		cg_store_int(g, tmp, cg_const(g, 0), 8);
		cg_probe_read(g, tmp, 8, addr, false);
		v = cg_load_int(g, tmp, 8, false);
	}
	uint32_t size = t->kind == TY_PTR ? 8 : t->size;
	if (size >= 8)
		return v;
	v = LLVMBuildTrunc(g->b, v, LLVMIntTypeInContext(g->ctx, size * 8), "");
	return t->is_signed ? LLVMBuildSExt(g->b, v, g->i64, "") :
			      LLVMBuildZExt(g->b, v, g->i64, "");
}
