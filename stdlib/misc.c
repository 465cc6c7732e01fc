/* misc.c: str, ksym, strncmp, kstack()-style stack functions.
 *
 * str() reads a NUL-terminated string into a zero-filled slot through
 * bpf_probe_read_{user,kernel}_str (rule 6): the bytes after the NUL stay
 * zero, so the string is safe as a map key.
 */
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/codegen.h"
#include "compiler/uelf.h"
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
/* $N's text; "" when not given */
static const char *posparam_text(struct sema *s, const struct node *p)
{
	int i = p->posparam.index;
	return i >= 1 && i <= s->opts.nparams ? s->opts.params[i - 1] : "";
}

static struct type *check_str(struct sema *s, struct node *call)
{
	struct node *p = call->call.args;
	struct type *t = sema_expr(s, p);
	if (t->kind == TY_NONE)
		return t;
	if (p->kind == N_POSPARAM && call->call.nargs == 1) /* str($1): the text, even "42" */
		return type_str(s->arena, strlen(posparam_text(s, p)) + 1);
	if (t->kind == TY_STR) /* str(comm): already a string */
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
	if (p->kind == N_POSPARAM && call->call.nargs == 1) {
		const char *text = posparam_text(g->sema, p);
		return cg_string_lit(g, text, strlen(text));
	}
	LLVMValueRef addr = cg_expr(g, p);
	if (p->type->kind == TY_STR)
		return addr;
	uint32_t size = call->type->size;
	LLVMValueRef n = cg_const(g, size);
	if (call->call.nargs == 2) {
		/* a variable length, clamped to the slot right before use (rule 4) */
		LLVMValueRef len = LLVMBuildAdd(g->b, cg_expr(g, p->next), cg_const(g, 1), "");
		n = cg_clamp(g, len, size);
	}
	LLVMValueRef slot = cg_dest(g, size); /* after every sub-expression */
	cg_zero(g, slot, size);
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

/* usym(addr): { u64 addr; u64 pid }, symbolized in user space with the
 * mappings of the process that recorded it */
static struct type *check_usym(struct sema *s, struct node *call)
{
	return check_addr_fn(s, call, &type_usym);
}

static LLVMValueRef user_pid(struct cg *g);

static LLVMValueRef lower_usym(struct cg *g, struct node *call)
{
	LLVMValueRef addr = cg_expr(g, call->call.args);
	LLVMValueRef pid = user_pid(g);
	LLVMValueRef slot = cg_dest(g, 16);
	cg_store_int(g, slot, addr, 8);
	cg_store_int(g, cg_gep(g, slot, 8), pid, 8);
	return slot;
}

/* uaddr("sym"): the symbol's address in the uprobe's binary, resolved
 * now; a pointer to an integer of the symbol's size (1, 2, 4, 8 bytes,
 * else 8). A PIE or library symbol moves by its load bias, known only
 * with -p (bpftrace 0.17 always gives the ELF value). */
static struct type *check_uaddr(struct sema *s, struct node *call)
{
	struct node *a = call->call.args;
	uint64_t addr, size, bias = 0;
	bool pie;
	if (a->kind != N_STR) {
		sema_error(s, a->span, "uaddr() needs a symbol name as a string literal");
		return &type_none;
	}
	if (!s->cur || (s->cur->kind != PD_PROBE_UPROBE && s->cur->kind != PD_PROBE_URETPROBE &&
			s->cur->kind != PD_PROBE_USDT)) {
		sema_error(s, call->span, "uaddr() can only be used in uprobe, uretprobe and usdt probes");
		return &type_none;
	}
	int err = uelf_symbol(s->cur->target, a->str.value, &addr, &size, &pie);
	if (err) {
		sema_error(s, a->span, "could not resolve symbol: %s:%s", s->cur->target,
			   a->str.value);
		return &type_none;
	}
	if (pie && s->opts.pid > 0 && !uelf_load_bias(s->opts.pid, s->cur->target, &bias))
		addr += bias;
	if (call->call.value && call->call.value != addr) {
		sema_error(s, a->span, "uaddr(\"%s\") has different addresses in the probes of this block",
			   a->str.value);
		return &type_none;
	}
	call->call.value = addr;
	int bits = size == 1 || size == 2 || size == 4 ? (int)size * 8 : 64;
	return type_ptr(s->arena, type_int(bits, false), true);
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

/* ---- stacks: kstack, kstack(N), kstack(perf), kstack(perf, N) ---- */

/* User addresses are symbolized with the mappings of their process,
 * which user space reads when it first hears of the pid: tell it the
 * first time a pid records one (per slot of cg_pid_table; a pid that
 * shares its slot with another is sent again, which costs a record). */
static LLVMValueRef user_pid(struct cg *g)
{
	LLVMValueRef pid = LLVMBuildLShr(g->b, cg_helper(g, BPF_FUNC_get_current_pid_tgid, g->i64,
							 NULL, 0), cg_const(g, 32), "");
	LLVMValueRef idx = LLVMBuildAnd(g->b, pid, cg_const(g, CG_PID_SLOTS - 1), "");
	LLVMValueRef slot = LLVMBuildGEP2(g->b, g->i32, cg_pid_table(g), &idx, 1, "");
	LLVMValueRef pid32 = LLVMBuildTrunc(g->b, pid, g->i32, "");
	LLVMValueRef seen = LLVMBuildLoad2(g->b, g->i32, slot, "");
	LLVMValueRef fresh = LLVMBuildICmp(g->b, LLVMIntNE, seen, pid32, "");
	LLVMBasicBlockRef from = LLVMGetInsertBlock(g->b);
	LLVMBasicBlockRef done = cg_if(g, fresh, "newpid");
	cg_expect(g, LLVMGetBasicBlockTerminator(from), false);
	LLVMBuildStore(g->b, pid32, slot);
	LLVMValueRef rec = cg_slot(g, 16, false);
	cg_record_header(g, rec, PD_REC_PID, 0);
	cg_store_int(g, cg_gep(g, rec, 8), pid, 8);
	cg_emit_record(g, rec, 16);
	LLVMBuildBr(g->b, done);
	LLVMPositionBuilderAtEnd(g->b, done);
	return pid;
}

LLVMValueRef stdlib_lower_stack(struct cg *g, struct type *t)
{
	bool user = t->kind == TY_USTACK;
	LLVMValueRef map = cg_stack_map(g, user, t->stack_depth);
	LLVMValueRef args[3] = { g->ctx_arg, map, cg_const(g, user ? BPF_F_USER_STACK : 0) };
	LLVMValueRef id = cg_helper(g, BPF_FUNC_get_stackid, g->i64, args, 3);
	cg_check_helper(g, BPF_FUNC_get_stackid, id);
	if (!user)
		return id;
	/* ustack: { u64 id; u64 pid } so that user symbols resolve per process */
	LLVMValueRef slot = cg_slot(g, 16, false);
	cg_store_int(g, slot, id, 8);
	cg_store_int(g, cg_gep(g, slot, 8), user_pid(g), 8);
	return slot;
}

static struct type *check_stack(struct sema *s, struct node *call)
{
	bool user = call->call.name[0] == 'u';
	enum pd_stack_mode mode = s->opts.stack_mode;
	int64_t depth = 127;
	struct node *a = call->call.args;
	if (a && a->kind == N_IDENT) {
		if (!strcmp(a->ident.name, "perf"))
			mode = PD_STACK_PERF;
		else if (!strcmp(a->ident.name, "raw"))
			mode = PD_STACK_RAW;
		else if (strcmp(a->ident.name, "bpftrace")) {
			sema_error(s, a->span, "unknown stack mode '%s': expected bpftrace, perf or raw",
				   a->ident.name);
			return &type_none;
		}
		a = a->next;
	}
	if (a && (!sema_const_int(s, a, &depth) || depth < 1 || depth > 127)) {
		sema_error(s, a->span, "the stack depth must be a constant from 1 to 127");
		return &type_none;
	}
	if (a && a->next) {
		sema_error(s, a->next->span, "%s() takes a mode and a depth", call->call.name);
		return &type_none;
	}
	return type_stack(s->arena, user, (uint32_t)depth, mode);
}

static LLVMValueRef lower_stack(struct cg *g, struct node *call)
{
	return stdlib_lower_stack(g, call->type);
}

/* ---- kaddr("symbol"): resolved now, from /proc/kallsyms ---- */

/* Every symbol of /proc/kallsyms, sorted by name (the first of equal
 * names in the file's order first), read on the first kaddr() and kept:
 * reading kallsyms takes about 0.1 s, once per call before (a script
 * with many kaddr()s took seconds; fuzz_compile found it). */
struct ksym_entry {
	char *name;
	uint64_t addr;
	uint32_t line;
};

static struct {
	struct ksym_entry *e;
	size_t n;
	char *names; /* the names, NUL-separated */
	bool read;
} kallsyms;

static int cmp_ksym(const void *pa, const void *pb)
{
	const struct ksym_entry *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);
	return c ? c : (a->line > b->line) - (a->line < b->line);
}

static void kallsyms_read(void)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	char line[512], sym[256], type;
	unsigned long long a;
	size_t cap = 0, used = 0, ncap = 0;
	kallsyms.read = true;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &a, &type, sym) != 3)
			continue;
		size_t len = strlen(sym) + 1;
		if (used + len > ncap) {
			ncap = ncap ? 2 * ncap : 1 << 20;
			char *p = realloc(kallsyms.names, ncap);
			if (!p)
				break;
			kallsyms.names = p;
		}
		if (kallsyms.n == cap) {
			cap = cap ? 2 * cap : 1 << 15;
			struct ksym_entry *e = realloc(kallsyms.e, cap * sizeof(*e));
			if (!e)
				break;
			kallsyms.e = e;
		}
		memcpy(kallsyms.names + used, sym, len);
		/* an offset until the names stop moving */
		kallsyms.e[kallsyms.n] = (struct ksym_entry){ .name = (char *)(uintptr_t)used,
							      .addr = a,
							      .line = (uint32_t)kallsyms.n };
		kallsyms.n++;
		used += len;
	}
	fclose(f);
	for (size_t i = 0; i < kallsyms.n; i++)
		kallsyms.e[i].name = kallsyms.names + (uintptr_t)kallsyms.e[i].name;
	qsort(kallsyms.e, kallsyms.n, sizeof(*kallsyms.e), cmp_ksym);
}

static bool kallsyms_lookup(const char *name, uint64_t *addr)
{
	size_t lo = 0, hi;
	if (!kallsyms.read)
		kallsyms_read();
	hi = kallsyms.n;
	while (lo < hi) { /* the first entry >= name */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(kallsyms.e[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == kallsyms.n || strcmp(kallsyms.e[lo].name, name))
		return false;
	*addr = kallsyms.e[lo].addr;
	return true;
}

static struct type *check_kaddr(struct sema *s, struct node *call)
{
	struct node *a = call->call.args;
	if (a->kind != N_STR) {
		sema_error(s, a->span, "kaddr() needs a symbol name as a string literal");
		return &type_none;
	}
	if (!s->quiet && !kallsyms_lookup(a->str.value, &call->call.value)) {
		sema_error(s, a->span, "kernel symbol '%s' not found in /proc/kallsyms", a->str.value);
		return &type_none;
	}
	return &type_u64;
}

static LLVMValueRef lower_const(struct cg *g, struct node *call)
{
	return cg_const(g, call->call.value);
}

/* ---- ntop([af,] addr) ---- */

static struct type *check_ntop(struct sema *s, struct node *call)
{
	struct node *a = call->call.args;
	struct type *ta = sema_expr(s, a);
	struct type *tb = a->next ? sema_expr(s, a->next) : NULL;
	if (ta->kind == TY_NONE || (tb && tb->kind == TY_NONE))
		return &type_none;
	struct type *addr = tb ? tb : ta;
	bool ok = addr->kind == TY_INT || (addr->kind == TY_ARRAY && (addr->size == 4 || addr->size == 16)) ||
		  (addr->kind == TY_STR && (addr->size == 4 || addr->size == 16));
	if (!ok || (tb && ta->kind != TY_INT)) {
		sema_error(s, call->span, "ntop() expects an IPv4 address as an integer, or "
					  "char[4] / char[16] with an address family");
		return &type_none;
	}
	struct type *t = arena_alloc(s->arena, sizeof(*t));
	t->kind = TY_INET;
	t->size = 24;
	t->align = 8;
	return t;
}

static LLVMValueRef lower_ntop(struct cg *g, struct node *call)
{
	struct node *a = call->call.args;
	struct node *an = a->next ? a->next : a;
	LLVMValueRef fam = a->next ? cg_expr(g, a) : NULL;
	LLVMValueRef v = cg_expr(g, an);
	LLVMValueRef slot = cg_slot(g, 24, false);
	cg_zero(g, slot, 24);
	if (an->type->kind == TY_INT) {
		cg_store_int(g, cg_gep(g, slot, 8), v, 4);
		if (!fam)
			fam = cg_const(g, 2); /* AF_INET */
	} else {
		cg_copy(g, cg_gep(g, slot, 8), v, an->type->size);
		if (!fam)
			fam = cg_const(g, an->type->size == 4 ? 2 : 10);
	}
	cg_store_int(g, slot, fam, 8);
	return slot;
}

/* ---- buf(ptr, len): raw bytes, printed with \xNN escapes ---- */

static struct type *check_buf(struct sema *s, struct node *call)
{
	struct node *p = call->call.args;
	struct type *t = sema_expr(s, p);
	int64_t n = 0;
	if (t->kind == TY_NONE)
		return t;
	if (t->kind != TY_INT && t->kind != TY_PTR && t->kind != TY_STR && t->kind != TY_ARRAY) {
		sema_error(s, p->span, "buf() expects a pointer or an array, not %s", tname(t));
		return &type_none;
	}
	if (p->next) {
		struct type *lt = sema_expr(s, p->next);
		if (lt->kind == TY_NONE)
			return lt;
		if (lt->kind != TY_INT) {
			sema_error(s, p->next->span, "buf()'s length must be an integer");
			return &type_none;
		}
		if (!sema_const_int(s, p->next, &n)) {
			/* a length known at run time: up to the string size, read
			 * clamped (rule 4) */
			if (t->kind != TY_INT && t->kind != TY_PTR) {
				sema_error(s, p->next->span,
					   "buf() of a string or an array needs a constant length");
				return &type_none;
			}
			n = s->opts.strlen < 255 ? s->opts.strlen : 255;
		} else if (n < 0 || n > 255) {
			sema_error(s, p->next->span, "buf()'s length must be a constant from 0 to 255");
			return &type_none;
		}
	} else if (t->kind == TY_STR || t->kind == TY_ARRAY) {
		n = t->size;
	} else {
		sema_error(s, call->span, "buf() of a pointer needs a length");
		return &type_none;
	}
	/* buf("ok_key", 8) keeps 8 bytes: the string's zeros after its end */
	if (t->kind == TY_ARRAY && (uint64_t)n > t->size)
		n = t->size;
	struct type *r = arena_alloc(s->arena, sizeof(*r));
	r->kind = TY_BUF;
	r->size = 1 + (uint32_t)n;
	r->align = 1;
	return r;
}

static LLVMValueRef lower_buf(struct cg *g, struct node *call)
{
	struct node *p = call->call.args;
	uint32_t n = call->type->size - 1;
	int64_t k;
	LLVMValueRef v = cg_expr(g, p);
	if (p->next && !sema_const_int(g->sema, p->next, &k)) {
		/* run-time length: clamped to the slot, stored as the length */
		LLVMValueRef len = cg_clamp(g, cg_expr(g, p->next), n);
		LLVMValueRef slot = cg_dest(g, n + 1); /* after every sub-expression */
		cg_zero(g, slot, n + 1);
		cg_store_int(g, slot, len, 1);
		cg_probe_read_len(g, cg_gep(g, slot, 1), len, v, is_user_addr(g->probe, p->type));
		return slot;
	}
	LLVMValueRef slot = cg_slot(g, n + 1, false);
	cg_zero(g, slot, n + 1);
	cg_store_int(g, slot, cg_const(g, n), 1);
	if (p->type->kind == TY_STR || p->type->kind == TY_ARRAY) {
		uint32_t have = p->type->size < n ? p->type->size : n;
		cg_copy(g, cg_gep(g, slot, 1), v, have);
	} else if (n) {
		cg_probe_read(g, cg_gep(g, slot, 1), n, v, is_user_addr(g->probe, p->type));
	}
	return slot;
}

/* ---- strftime(fmt, ns) ---- */

static struct type *check_strftime(struct sema *s, struct node *call)
{
	struct node *f = call->call.args;
	struct type *t = sema_expr(s, f->next);
	if (f->kind != N_STR) {
		sema_error(s, f->span, "strftime() needs a string literal format");
		return &type_none;
	}
	if (t->kind != TY_INT && t->kind != TY_NONE) {
		sema_error(s, f->next->span, "strftime() expects a time in nanoseconds");
		return &type_none;
	}
	struct type *r = arena_alloc(s->arena, sizeof(*r));
	r->kind = TY_TIMESTAMP;
	r->size = 8;
	r->align = 8;
	r->fmt = f->str.value;
	return r;
}

static LLVMValueRef lower_strftime(struct cg *g, struct node *call)
{
	return cg_expr(g, call->call.args->next);
}

/* ---- override(rc): error injection, kprobes only, --unsafe ---- */

static struct type *check_override(struct sema *s, struct node *call)
{
	struct type *t = sema_expr(s, call->call.args);
	if (!s->opts.unsafe) {
		sema_error(s, call->span,
			   "override() changes what a kernel function returns: it needs --unsafe");
		return &type_none;
	}
	if (!s->cur || s->cur->kind != PD_PROBE_KPROBE) {
		sema_error(s, call->span, "override() is only available in kprobe probes");
		return &type_none;
	}
	if (t->kind != TY_INT && t->kind != TY_NONE) {
		sema_error(s, call->call.args->span, "override() expects an integer return value");
		return &type_none;
	}
	if (!ki_has(s->ki, KI_KPROBE_OVERRIDE)) {
		sema_error(s, call->span,
			   "override() needs a kernel that allows error injection from BPF: %s",
			   ki_reason(s->ki, KI_KPROBE_OVERRIDE));
		if (!s->quiet)
			diag_hint(s->diag, "a kernel built with CONFIG_BPF_KPROBE_OVERRIDE=y and "
					   "CONFIG_FUNCTION_ERROR_INJECTION=y has it");
		return &type_none;
	}
	return &type_none;
}

static LLVMValueRef lower_override(struct cg *g, struct node *call)
{
	LLVMValueRef args[2] = { g->ctx_arg, cg_expr(g, call->call.args) };
	cg_helper(g, BPF_FUNC_override_return, g->i64, args, 2);
	return cg_const(g, 0);
}

/* kptr(p), uptr(p): the same pointer, in kernel or user memory: reads
 * through it use bpf_probe_read_kernel or _user (an integer becomes a
 * void pointer) */
static struct type *check_addr_space(struct sema *s, struct node *call)
{
	struct type *t = sema_expr(s, call->call.args);
	if (t->kind == TY_NONE)
		return t;
	if (t->kind != TY_PTR && t->kind != TY_INT) {
		sema_error(s, call->call.args->span, "%s() expects a pointer or an address, not %s",
			   call->call.name, type_name_str(t, (char[96]){ 0 }, 96));
		return &type_none;
	}
	return type_ptr(s->arena, t->kind == TY_PTR ? t->elem : NULL, call->call.name[0] == 'u');
}

/* ---- path(p [, size]): the full path of a struct path, by bpf_d_path ----
 *
 * bpf_d_path (5.10) wants a pointer the verifier trusts (PTR_TO_BTF_ID):
 * a fentry/fexit argument as loaded from the context, or such an argument
 * plus the constant offset of a `struct path` member (args->file->f_path).
 * The kernel allows the helper only in some functions (its d_path
 * allowlist: security_file_open, vfs_truncate, dentry_open, filp_close,
 * ...); elsewhere the verifier refuses the program. */

static bool is_struct_path(const struct type *t)
{
	return t && t->kind == TY_RECORD && t->name && !strcmp(t->name, "path");
}

/* args->NAME of a fentry/fexit probe: a trusted pointer */
static bool is_fentry_arg(const struct node *n)
{
	return n->kind == N_FIELD && n->field.base->kind == N_IDENT &&
	       !strcmp(n->field.base->ident.name, "args");
}

static struct type *check_path(struct sema *s, struct node *call)
{
	struct node *a = call->call.args;
	struct type *t = sema_expr(s, a);
	if (a->next) {
		struct type *st = sema_expr(s, a->next);
		if (a->next->kind != N_INT || st->kind != TY_INT || a->next->num.value < 1 ||
		    a->next->num.value > 4096) {
			sema_error(s, a->next->span, "path()'s size must be a number from 1 to 4096");
			return &type_none;
		}
	}
	if (t->kind == TY_NONE)
		return &type_none;
	if (!s->cur || (s->cur->kind != PD_PROBE_FENTRY && s->cur->kind != PD_PROBE_FEXIT)) {
		sema_error(s, call->span, "path() is only available in fentry and fexit probes%s",
			   s->cur && s->cur->kind == PD_PROBE_KPROBE ? " (this kernel has none: it "
								       "runs the probe as a kprobe)"
								     : "");
		return &type_none;
	}
	bool ok = (t->kind == TY_PTR && is_struct_path(t->elem) && is_fentry_arg(a)) ||
		  (is_struct_path(t) && a->kind == N_FIELD && is_fentry_arg(a->field.base) &&
		   a->field.base->type->kind == TY_PTR);
	if (!ok) {
		sema_error(s, a->span, "path() takes a struct path * argument of the probe "
				       "(args->path) or a struct path member of one "
				       "(args->file->f_path)");
		return &type_none;
	}
	return type_str(s->arena, a->next ? (uint32_t)a->next->num.value : s->opts.strlen);
}

static LLVMValueRef lower_path(struct cg *g, struct node *call)
{
	struct node *a = call->call.args;
	LLVMValueRef p;
	if (a->type->kind == TY_PTR) {
		p = cg_expr(g, a);
	} else { /* args->X->member: the argument plus the member's offset */
		const struct type_field *f = a->sym;
		p = LLVMBuildAdd(g->b, cg_expr(g, a->field.base), cg_const(g, f->offset), "");
	}
	uint32_t size = call->type->size;
	LLVMValueRef slot = cg_dest(g, size);
	cg_zero(g, slot, size);
	LLVMValueRef args[3] = { LLVMBuildIntToPtr(g->b, p, g->ptr, ""), slot,
				 LLVMConstInt(g->i32, size, 0) };
	cg_check_helper(g, BPF_FUNC_d_path, cg_helper(g, BPF_FUNC_d_path, g->i64, args, 3));
	return slot;
}

/* nsecs(monotonic|boot|tai|sw_tai): a clock by name, as bpftrace >= 0.21 */
static const char *nsecs_clock(const struct node *call)
{
	const struct node *a = call->call.args;
	return a && a->kind == N_IDENT ? a->ident.name : NULL;
}

static struct type *check_nsecs(struct sema *s, struct node *call)
{
	if (call->call.nargs) {
		const char *c = nsecs_clock(call);
		if (!c || (strcmp(c, "monotonic") && strcmp(c, "boot") && strcmp(c, "tai") &&
			   strcmp(c, "sw_tai"))) {
			sema_error(s, call->call.args->span,
				   "nsecs() takes a clock: monotonic, boot, tai or sw_tai");
			return &type_none;
		}
	}
	return &type_u64;
}

static LLVMValueRef lower_nsecs(struct cg *g, struct node *call)
{
	const char *c = call->call.nargs ? nsecs_clock(call) : "monotonic";
	int id = !strcmp(c, "boot")			     ? BPF_FUNC_ktime_get_boot_ns
		 : !strcmp(c, "tai") || !strcmp(c, "sw_tai") ? BPF_FUNC_ktime_get_tai_ns
							     : BPF_FUNC_ktime_get_ns;
	return cg_helper(g, id, g->i64, NULL, 0);
}

/* bswap(x): the bytes of an integer reversed, at its own width */
static struct type *check_bswap(struct sema *s, struct node *call)
{
	struct type *t = sema_expr(s, call->call.args);
	if (t->kind == TY_NONE)
		return t;
	if (t->kind != TY_INT) {
		sema_error(s, call->call.args->span, "bswap() expects an integer, not %s", tname(t));
		return &type_none;
	}
	return t->size == 1 ? t : type_int((int)t->size * 8, false);
}

static LLVMValueRef lower_bswap(struct cg *g, struct node *call)
{
	LLVMValueRef v = cg_expr(g, call->call.args);
	uint32_t size = call->type->size;
	if (size == 1)
		return v;
	LLVMTypeRef t = LLVMIntTypeInContext(g->ctx, size * 8);
	char name[32];
	snprintf(name, sizeof(name), "llvm.bswap.i%u", size * 8);
	LLVMTypeRef fty = LLVMFunctionType(t, &t, 1, 0);
	LLVMValueRef fn = LLVMGetNamedFunction(g->mod, name);
	if (!fn)
		fn = LLVMAddFunction(g->mod, name, fty);
	LLVMValueRef x = size < 8 ? LLVMBuildTrunc(g->b, v, t, "") : v;
	LLVMValueRef r = LLVMBuildCall2(g->b, fty, fn, &x, 1, "");
	return size < 8 ? LLVMBuildZExt(g->b, r, g->i64, "") : r;
}

const struct stdlib_fn stdlib_misc_fns[] = {
	{ "nsecs", 0, 1, 0, 0, check_nsecs, lower_nsecs, NULL },
	{ "bswap", 1, 1, 0, 0, check_bswap, lower_bswap, NULL },
	{ "str", 1, 2, 0, 0, check_str, lower_str, NULL },
	{ "ksym", 1, 1, 0, 0, check_ksym, lower_passthrough, NULL },
	{ "usym", 1, 1, 0, 0, check_usym, lower_usym, NULL },
	{ "uaddr", 1, 1, 0, 0, check_uaddr, lower_const, NULL },
	{ "strncmp", 3, 3, 0, 0, check_strncmp, lower_strncmp, NULL },
	{ "kstack", 0, 2, 0, 0, check_stack, lower_stack, NULL },
	{ "ustack", 0, 2, 0, 0, check_stack, lower_stack, NULL },
	{ "kaddr", 1, 1, 0, 0, check_kaddr, lower_const, NULL },
	{ "kptr", 1, 1, 0, 0, check_addr_space, lower_passthrough, NULL },
	{ "uptr", 1, 1, 0, 0, check_addr_space, lower_passthrough, NULL },
	{ "ntop", 1, 2, 0, 0, check_ntop, lower_ntop, NULL },
	{ "buf", 1, 2, 0, 0, check_buf, lower_buf, NULL },
	{ "strftime", 2, 2, 0, 0, check_strftime, lower_strftime, NULL },
	{ "override", 1, 1, FN_STMT, 0, check_override, lower_override, NULL },
	{ "path", 1, 2, 0, 0, check_path, lower_path, NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};
