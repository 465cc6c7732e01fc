/* misc.c: str, ksym, strncmp, kstack()-style stack functions.
 *
 * str() reads a NUL-terminated string into a zero-filled slot through
 * bpf_probe_read_{user,kernel}_str (rule 6): the bytes after the NUL stay
 * zero, so the string is safe as a map key.
 */
#include <linux/bpf.h>
#include <string.h>

#include "compiler/codegen.h"
#include "stdlib/stdlib.h"

static const char *tname(const struct type *t)
{
	static char buf[160];
	return type_name_str(t, buf, sizeof(buf));
}

/* Is this pointer a user-space one? Typed pointers know; raw integers
 * follow the probe: user for uprobes and syscall tracepoints. */
static bool is_user_addr(struct sema_probe *sp, const struct type *t)
{
	if (t->kind == TY_PTR)
		return t->is_user;
	if (!sp)
		return false;
	return sp->kind == PD_PROBE_UPROBE || sp->kind == PD_PROBE_URETPROBE ||
	       sp->kind == PD_PROBE_USDT || sp->user_ptrs;
}

/* str(ptr [, len]) */
static struct type *check_str(struct sema *s, struct node *call)
{
	struct node *p = call->call.args;
	struct type *t = sema_expr(s, p);
	if (t->kind == TY_NONE)
		return t;
	if (t->kind == TY_STR) /* str($1), str(comm): already a string */
		return t;
	if (t->kind != TY_INT && t->kind != TY_PTR) {
		sema_error(s, p->span, "str() expects a pointer, not %s", tname(t));
		return &type_none;
	}
	uint32_t size = s->opts.strlen;
	if (call->call.nargs == 2) {
		int64_t n;
		struct type *lt = sema_expr(s, p->next);
		if (lt->kind != TY_INT && lt->kind != TY_NONE) {
			sema_error(s, p->next->span, "str()'s length must be an integer");
			return &type_none;
		}
		if (sema_const_int(s, p->next, &n)) {
			if (n < 0) {
				sema_error(s, p->next->span, "str()'s length must not be negative");
				return &type_none;
			}
			if ((uint64_t)n + 1 < size)
				size = (uint32_t)n + 1;
		}
	}
	return type_str(s->arena, size);
}

static LLVMValueRef lower_str(struct cg *g, struct node *call)
{
	struct node *p = call->call.args;
	LLVMValueRef addr = cg_expr(g, p);
	if (p->type->kind == TY_STR)
		return addr;
	uint32_t size = call->type->size;
	LLVMValueRef slot = cg_slot(g, size, false);
	cg_zero(g, slot, size);
	LLVMValueRef n = cg_const(g, size);
	if (call->call.nargs == 2) {
		/* a variable length, clamped to the slot right before use (rule 4) */
		LLVMValueRef len = LLVMBuildAdd(g->b, cg_expr(g, p->next), cg_const(g, 1), "");
		LLVMValueRef over = LLVMBuildICmp(g->b, LLVMIntUGT, len, n, "");
		n = LLVMBuildSelect(g->b, over, n, len, "");
	}
	cg_probe_read_str(g, slot, n, addr, is_user_addr(g->probe, p->type));
	return slot;
}

static struct type *check_addr_fn(struct sema *s, struct node *call, struct type *result)
{
	struct type *t = sema_expr(s, call->call.args);
	if (t->kind == TY_NONE)
		return t;
	if (t->kind != TY_INT && t->kind != TY_PTR && t->kind != TY_KSYM) {
		sema_error(s, call->call.args->span, "%s() expects an address, not %s",
			   call->call.name, tname(t));
		return &type_none;
	}
	return result;
}

static struct type *check_ksym(struct sema *s, struct node *call)
{
	return check_addr_fn(s, call, &type_ksym);
}

static LLVMValueRef lower_passthrough(struct cg *g, struct node *call)
{
	return cg_expr(g, call->call.args);
}

/* strncmp(a, b, n): 0 when the first n bytes (up to a NUL) agree */
static struct type *check_strncmp(struct sema *s, struct node *call)
{
	struct node *a = call->call.args, *b = a->next, *n = b->next;
	struct type *ta = sema_expr(s, a), *tb = sema_expr(s, b);
	sema_expr(s, n);
	int64_t k;
	if (ta->kind == TY_NONE || tb->kind == TY_NONE)
		return &type_none;
	if (ta->kind != TY_STR || tb->kind != TY_STR) {
		sema_error(s, call->span, "strncmp() compares two strings");
		return &type_none;
	}
	if (!sema_const_int(s, n, &k) || k < 0) {
		sema_error(s, n->span, "strncmp()'s length must be a non-negative constant");
		return &type_none;
	}
	return &type_s64;
}

static LLVMValueRef lower_strncmp(struct cg *g, struct node *call)
{
	struct node *a = call->call.args, *b = a->next;
	int64_t k = 0;
	sema_const_int(g->sema, b->next, &k);
	uint32_t len = a->type->size < b->type->size ? a->type->size : b->type->size;
	if ((uint64_t)k < len)
		len = (uint32_t)k;
	LLVMValueRef pa = cg_expr(g, a), pb = cg_expr(g, b);
	/* differ = OR over i < len of (a[i] != b[i]) before the first NUL */
	LLVMValueRef differ = LLVMConstInt(LLVMInt1TypeInContext(g->ctx), 0, 0);
	LLVMValueRef ended = differ;
	for (uint32_t i = 0; i < len; i++) {
		LLVMValueRef ca = LLVMBuildLoad2(g->b, g->i8, cg_gep(g, pa, i), "");
		LLVMValueRef cb = LLVMBuildLoad2(g->b, g->i8, cg_gep(g, pb, i), "");
		LLVMValueRef ne = LLVMBuildICmp(g->b, LLVMIntNE, ca, cb, "");
		ne = LLVMBuildAnd(g->b, ne, LLVMBuildNot(g->b, ended, ""), "");
		differ = LLVMBuildOr(g->b, differ, ne, "");
		LLVMValueRef nul = LLVMBuildICmp(g->b, LLVMIntEQ, ca, LLVMConstInt(g->i8, 0, 0), "");
		ended = LLVMBuildOr(g->b, ended, nul, "");
	}
	return LLVMBuildZExt(g->b, differ, g->i64, "");
}

static struct type *check_unsafe(struct sema *s, struct node *call)
{
	sema_error(s, call->span, "%s() is not supported yet", call->call.name);
	return &type_none;
}

const struct stdlib_fn stdlib_misc_fns[] = {
	{ "str", 1, 2, 0, 0, check_str, lower_str, NULL },
	{ "ksym", 1, 1, 0, 0, check_ksym, lower_passthrough, NULL },
	{ "strncmp", 3, 3, 0, 0, check_strncmp, lower_strncmp, NULL },
	{ "system", 1, 65, FN_STMT, 0, check_unsafe, NULL, NULL },
	{ "cat", 1, 65, FN_STMT, 0, check_unsafe, NULL, NULL },
	{ "signal", 1, 1, FN_STMT, 0, check_unsafe, NULL, NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};
