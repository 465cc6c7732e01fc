/* io.c: printf, print, time, exit, clear, zero, delete.
 *
 * These send records through the ring buffer (bpf_ringbuf_output); user
 * space formats them from the program description (runtime/output.c), so
 * the probe copies raw values only: no formatting in the kernel, no
 * bpf_trace_printk, and printf can take any number of arguments (helpers
 * take at most five, rule 7).
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

/* Walks a printf format: returns the number of conversions and stores
 * each conversion character in convs[] (up to max). */
static int parse_format(const char *fmt, char *convs, int max, const char **unsupported)
{
	int n = 0;
	for (const char *p = fmt; *p; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue;
		}
		const char *start = p++;
		while (*p && strchr("-+ #0", *p))
			p++;
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p == '.')
			for (p++; *p >= '0' && *p <= '9'; p++)
				;
		while (*p && strchr("hlzjt", *p))
			p++;
		if (*p && strchr("feEgGaAn", *p)) { /* no floats in BPF; %n never */
			*unsupported = start;
			return -1;
		}
		/* a '%' that starts no conversion prints as itself (bpftrace 0.17) */
		if (!*p || !strchr("diuxXoscpr", *p)) {
			p = start;
			continue;
		}
		if (n < max)
			convs[n] = *p;
		n++;
	}
	return n;
}

static bool conv_accepts(char conv, const struct type *t)
{
	if (conv == 'r') /* %r, %rx, %rh: a buffer's bytes (bpftrace 0.17) */
		return t->kind == TY_BUF;
	if (conv == 's')
		return true; /* any value prints as text */
	return t->kind == TY_INT || t->kind == TY_PTR || t->kind == TY_KSYM ||
	       t->kind == TY_USERNAME || t->kind == TY_PROBE;
}

static struct type *check_format_args(struct sema *s, struct node *call, const char *what)
{
	struct node *f = call->call.args;
	if (f->kind != N_STR) {
		sema_error(s, f->span, "%s() needs a string literal as its format", what);
		return &type_none;
	}
	char convs[64];
	const char *bad = NULL;
	int n = parse_format(f->str.value, convs, 64, &bad);
	f->type = type_str(s->arena, f->str.len + 1);
	if (n < 0) {
		sema_error(s, f->span, "unsupported conversion '%.*s' in the format string",
			   (int)(strcspn(bad + 1, "feEgGaAn") + 2), bad);
		return &type_none;
	}
	int nargs = call->call.nargs - 1;
	if (n != nargs) {
		sema_error(s, call->span, "%s(): the format has %d conversion%s but %d argument%s given",
			   what, n, n == 1 ? "" : "s", nargs, nargs == 1 ? " is" : "s are");
		return &type_none;
	}
	int i = 0;
	bool ok = true;
	for (struct node *a = f->next; a; a = a->next, i++) {
		struct type *t = sema_expr(s, a);
		if (t->kind == TY_NONE) {
			ok = false;
		} else if (t->kind == TY_VOID || t->kind == TY_AGG || t->kind == TY_CTX ||
			   t->kind == TY_RECORD) {
			sema_error(s, a->span, "%s cannot be printed%s", tname(t),
				   t->kind == TY_RECORD ? " by printf: print its fields" : "");
			ok = false;
		} else if (i < 64 && !conv_accepts(convs[i], t)) {
			if (convs[i] == 'r')
				sema_error(s, a->span, "%%r, %%rx and %%rh print a buffer (buf()), not %s",
					   tname(t));
			else
				sema_error(s, a->span, "%%%c expects an integer, not %s", convs[i],
					   tname(t));
			ok = false;
		}
	}
	return ok ? &type_void : &type_none;
}

static struct type *check_printf(struct sema *s, struct node *call)
{
	return check_format_args(s, call, "printf");
}

/* record = header | arg0 | arg1 ... with C alignment; offsets in the
 * description are relative to the end of the header */
static void lower_record_args(struct cg *g, struct node *first, uint32_t nargs,
			      enum pd_record_kind kind, const char *fmt)
{
	struct type *types[64];
	uint32_t n = 0;
	for (struct node *a = first; a && n < 64; a = a->next)
		types[n++] = a->type->kind == TY_PTR ? &type_u64 : a->type;
	struct type *tuple = type_tuple(g->arena, types, n);
	struct pd_layout *lay = arena_alloc(g->arena, (nargs ? nargs : 1) * sizeof(*lay));
	for (uint32_t i = 0; i < n; i++) {
		type_to_layout(g->arena, tuple->fields[i].type, &lay[i]);
		lay[i].offset = tuple->fields[i].offset;
	}
	/* the arguments: an aggregate whose storage form is its own type is
	 * produced right in its field (cg_dest: comm, str() read straight
	 * into the record, which zero-fill their own bytes), the others are
	 * stored after evaluation; every other byte (padding included) is
	 * zero-filled first (rule 1) */
	LLVMValueRef rec = cg_slot(g, 8 + tuple->size, false);
	LLVMValueRef vals[64];
	bool in_place[64] = { false };
	uint32_t i = 0;
	for (struct node *a = first; a && i < 64; a = a->next, i++) {
		struct type *ft = tuple->fields[i].type;
		LLVMValueRef field = cg_gep(g, rec, 8 + tuple->fields[i].offset);
		if (type_is_aggregate(a->type) && type_equal(a->type, ft)) {
			g->dest = field;
			g->dest_size = ft->size;
		}
		vals[i] = cg_expr(g, a);
		g->dest = NULL;
		in_place[i] = vals[i] == field;
	}
	uint32_t from = 0; /* zero-fill around the fields written in place */
	for (i = 0; i <= n; i++) {
		uint32_t end = i < n ? 8 + tuple->fields[i].offset : 8 + tuple->size;
		if (i < n && !in_place[i])
			continue;
		if (end > from)
			cg_zero(g, cg_gep(g, rec, from), end - from);
		if (i < n)
			from = end + tuple->fields[i].type->size;
	}
	for (i = 0; i < n; i++)
		cg_fix_layout(g, &lay[i]);
	uint32_t id = cg_add_printf(g, fmt, lay, n, tuple->size);
	cg_record_header(g, rec, kind, id);
	i = 0;
	for (struct node *a = first; a && i < 64; a = a->next, i++)
		if (!in_place[i])
			cg_store_as(g, a, vals[i], a->type, tuple->fields[i].type,
				    cg_gep(g, rec, 8 + tuple->fields[i].offset));
	cg_emit_record(g, rec, 8 + tuple->size);
}

static LLVMValueRef lower_printf(struct cg *g, struct node *call)
{
	struct node *f = call->call.args;
	lower_record_args(g, f->next, call->call.nargs - 1, PD_REC_PRINTF, f->str.value);
	return NULL;
}

/* cat("fmt", args): user space prints the named file's contents */
static struct type *check_cat(struct sema *s, struct node *call)
{
	return check_format_args(s, call, "cat");
}

static LLVMValueRef lower_cat(struct cg *g, struct node *call)
{
	struct node *f = call->call.args;
	lower_record_args(g, f->next, call->call.nargs - 1, PD_REC_CAT, f->str.value);
	return NULL;
}

/* system("fmt", args): runs a shell command in user space; --unsafe */
static struct type *check_system(struct sema *s, struct node *call)
{
	if (!s->opts.unsafe) {
		sema_error(s, call->span, "system() runs commands as root: it needs --unsafe");
		return &type_none;
	}
	return check_format_args(s, call, "system");
}

static LLVMValueRef lower_system(struct cg *g, struct node *call)
{
	struct node *f = call->call.args;
	lower_record_args(g, f->next, call->call.nargs - 1, PD_REC_SYSTEM, f->str.value);
	return NULL;
}

static void emit_simple(struct cg *g, enum pd_record_kind kind, uint32_t id)
{
	LLVMValueRef rec = cg_slot(g, 8, false);
	cg_record_header(g, rec, kind, id);
	cg_emit_record(g, rec, 8);
}

static struct type *check_exit(struct sema *s, struct node *call)
{
	if (call->call.nargs) {
		struct type *t = sema_expr(s, call->call.args);
		if (t->kind == TY_NONE)
			return t;
		if (t->kind != TY_INT) {
			sema_error(s, call->call.args->span, "exit()'s status must be an integer, not %s",
				   tname(t));
			return &type_none;
		}
	}
	return &type_void;
}

/* exit([status]): tell user space (the record carries the status trace
 * exits with), and stop this probe here as bpftrace does */
static LLVMValueRef lower_exit(struct cg *g, struct node *call)
{
	if (call->call.nargs) {
		LLVMValueRef code = cg_expr(g, call->call.args);
		LLVMValueRef rec = cg_slot(g, 16, false);
		cg_record_header(g, rec, PD_REC_EXIT, 1);
		cg_store_int(g, cg_gep(g, rec, 8), code, 8);
		cg_emit_record(g, rec, 16);
	} else {
		emit_simple(g, PD_REC_EXIT, 0);
	}
	LLVMBuildBr(g->b, g->exit_bb);
	LLVMPositionBuilderAtEnd(g->b, LLVMAppendBasicBlockInContext(g->ctx, g->fn, "after.exit"));
	return NULL;
}

static struct type *check_time(struct sema *s, struct node *call)
{
	if (call->call.nargs && call->call.args->kind != N_STR) {
		sema_error(s, call->call.args->span, "time() needs a string literal format");
		return &type_none;
	}
	return &type_void;
}

static LLVMValueRef lower_time(struct cg *g, struct node *call)
{
	const char *fmt = call->call.nargs ? call->call.args->str.value : "%H:%M:%S\n";
	emit_simple(g, PD_REC_TIME, cg_add_time_fmt(g, fmt));
	return NULL;
}

static struct sema_map *map_arg(struct sema *s, struct node *call, bool keyed_ok)
{
	struct node *m = call->call.args;
	struct sema_map *sm = sema_find_map(s, m->map.name);
	if (!sm || !sm->value) {
		if (!s->quiet)
			sema_error(s, m->span, "map %s is never assigned", m->map.name);
		return NULL;
	}
	if (!keyed_ok && m->map.nkeys) {
		sema_error(s, m->span, "%s() takes a whole map: write %s, without a key",
			   call->call.name, m->map.name);
		return NULL;
	}
	m->sym = sm;
	m->type = sm->value;
	return sm;
}

/* print(@map [, top [, div]]) or print(value) */
static struct type *check_print(struct sema *s, struct node *call)
{
	struct node *a = call->call.args;
	if (a->kind == N_MAP && !a->map.nkeys) {
		if (!map_arg(s, call, false))
			return &type_none;
		int64_t v;
		for (struct node *o = a->next; o; o = o->next)
			if (!sema_const_int(s, o, &v) || v < 0) {
				sema_error(s, o->span, "print()'s top and div must be non-negative constants");
				return &type_none;
			}
		return &type_void;
	}
	if (call->call.nargs > 1) {
		sema_error(s, a->next->span, "print(value) takes one argument");
		return &type_none;
	}
	struct type *t = sema_expr(s, a);
	if (t->kind == TY_VOID || t->kind == TY_CTX || t->kind == TY_AGG) {
		sema_error(s, a->span, "%s cannot be printed", tname(t));
		return &type_none;
	}
	/* a kernel struct, printed whole: { .field = value, ... } */
	if ((t->kind == TY_RECORD || t->kind == TY_ARRAY) && !sema_record_complete(s, a->span, t))
		return &type_none;
	return t->kind == TY_NONE ? t : &type_void;
}

static LLVMValueRef lower_print(struct cg *g, struct node *call)
{
	struct node *a = call->call.args;
	if (a->kind == N_MAP && !a->map.nkeys) {
		int64_t top = 0, div = 0;
		if (a->next)
			sema_const_int(g->sema, a->next, &top);
		if (a->next && a->next->next)
			sema_const_int(g->sema, a->next->next, &div);
		struct sema_map *m = a->sym;
		emit_simple(g, PD_REC_PRINT_MAP, cg_add_print(g, g->maps[m->index].pd_index, top, div));
		return NULL;
	}
	LLVMValueRef v = cg_expr(g, a);
	struct type *st = type_storage(g->arena, a->type->kind == TY_PTR ? &type_u64 : a->type);
	uint32_t id = cg_add_value(g, st);
	LLVMValueRef rec = cg_slot(g, 8 + st->size, false);
	cg_zero(g, rec, 8 + st->size);
	cg_record_header(g, rec, PD_REC_PRINT_VALUE, id);
	cg_store_as(g, a, v, a->type, st, cg_gep(g, rec, 8));
	cg_emit_record(g, rec, 8 + st->size);
	return NULL;
}

static struct type *check_clear(struct sema *s, struct node *call)
{
	return map_arg(s, call, false) ? &type_void : &type_none;
}

static LLVMValueRef lower_clear(struct cg *g, struct node *call)
{
	struct sema_map *m = call->call.args->sym;
	bool zero = !strcmp(call->call.name, "zero");
	emit_simple(g, zero ? PD_REC_ZERO : PD_REC_CLEAR, (uint32_t)g->maps[m->index].pd_index);
	return NULL;
}

/* delete(@m, key) and has_key(@m, key) are written as delete(@m[key]):
 * the key moves into the map node (a tuple's elements are several keys,
 * as @m[a, b]), once, so later walks see the one-argument form. */
static void key_into_map(struct node *call)
{
	struct node *m = call->call.args, *k = m->next;
	if (!k || m->map.nkeys)
		return;
	m->next = NULL;
	k->next = NULL;
	if (k->kind == N_TUPLE) {
		m->map.keys = k->tuple.elems;
		m->map.nkeys = k->tuple.n;
	} else {
		m->map.keys = k;
		m->map.nkeys = 1;
	}
	call->call.nargs = 1;
}

/* delete(@m[key]), delete(@m, key): a value too, 1 when the key was there */
static struct type *check_delete(struct sema *s, struct node *call)
{
	struct node *m = call->call.args;
	if (m->next && m->map.nkeys) {
		sema_error(s, m->next->span, "delete(%s[key]) takes no second argument",
			   m->map.name);
		return &type_none;
	}
	key_into_map(call);
	struct sema_map *sm = map_arg(s, call, true);
	if (!sm)
		return &type_none;
	sm->deleted = true;
	if (!m->map.nkeys && sm->key) {
		sema_error(s, m->span, "delete() needs a key: delete(%s[key]) or delete(%s, key)",
			   m->map.name, m->map.name);
		return &type_none;
	}
	int before = s->diag->nerrors;
	sema_map_key_check(s, m, sm);
	return s->diag->nerrors > before ? &type_none : &type_u64;
}

static LLVMValueRef lower_delete(struct cg *g, struct node *call)
{
	struct node *m = call->call.args;
	struct sema_map *sm = m->sym;
	LLVMValueRef key = cg_map_key(g, m, sm);
	LLVMValueRef args[2] = { g->maps[sm->index].global, cg_key_or_zero(g, key) };
	LLVMValueRef r = cg_helper(g, BPF_FUNC_map_delete_elem, g->i64, args, 2);
	cg_check_helper(g, BPF_FUNC_map_delete_elem, r);
	return LLVMBuildZExt(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, r, cg_const(g, 0), ""), g->i64,
			     "");
}

/* has_key(@m, key), has_key(@m[key]): 1 when the map holds the key */
static struct type *check_has_key(struct sema *s, struct node *call)
{
	struct node *m = call->call.args;
	if (m->next && m->map.nkeys) {
		sema_error(s, m->next->span, "has_key(%s[key]) takes no second argument",
			   m->map.name);
		return &type_none;
	}
	key_into_map(call);
	struct sema_map *sm = map_arg(s, call, true);
	if (!sm)
		return &type_none;
	if (!sm->key || !m->map.nkeys) {
		sema_error(s, m->span, sm->key ? "has_key() needs a key: has_key(%s, key)"
					       : "has_key() needs a map with keys, and %s has none",
			   m->map.name);
		return &type_none;
	}
	int before = s->diag->nerrors;
	sema_map_key_check(s, m, sm);
	return s->diag->nerrors > before ? &type_none : &type_u64;
}

static LLVMValueRef lower_has_key(struct cg *g, struct node *call)
{
	struct node *m = call->call.args;
	struct sema_map *sm = m->sym;
	LLVMValueRef key = cg_map_key(g, m, sm);
	LLVMValueRef args[2] = { g->maps[sm->index].global, cg_key_or_zero(g, key) };
	LLVMValueRef r = cg_helper(g, BPF_FUNC_map_lookup_elem, g->ptr, args, 2);
	LLVMValueRef v = LLVMBuildZExt(g->b, LLVMBuildIsNotNull(g->b, r, ""), g->i64, "");
	/* the 0/1 through asm("" : "+r"(v)): else LLVM merges the NULL test
	 * into others, `(x != 0) | (p != NULL)` becoming `(x | p) != 0`, and
	 * the verifier refuses arithmetic on a map_value_or_null pointer */
	LLVMTypeRef fty = LLVMFunctionType(g->i64, &g->i64, 1, 0);
	LLVMValueRef barrier = LLVMGetInlineAsm(fty, "", 0, "=r,0", 4, 0, 0,
						LLVMInlineAsmDialectATT, 0);
	return LLVMBuildCall2(g->b, fty, barrier, &v, 1, "");
}

/* len(@m): the number of keys of a map with keys, counted by
 * bpf_for_each_map_elem (5.13), which returns how many elements it
 * visited: the callback only goes on (returns 0). For a per-CPU map that
 * is its keys too. */
static struct type *check_len(struct sema *s, struct node *call)
{
	struct sema_map *sm = map_arg(s, call, false);
	if (!sm)
		return &type_none;
	if (!sm->key) {
		sema_error(s, call->call.args->span,
			   "len() counts the keys of a map, and %s has none (it holds one value)",
			   sm->name);
		return &type_none;
	}
	return &type_s64;
}

/* static long len_cb(void *map, void *key, void *value, void *ctx)
 * { return 0; }: one per module, in .text (a BPF subprogram that libbpf
 * appends to each program using it), with the BTF the verifier checks a
 * callback against */
static LLVMValueRef len_callback(struct cg *g)
{
	LLVMValueRef fn = LLVMGetNamedFunction(g->mod, "len_cb");
	if (fn)
		return fn;
	LLVMMetadataRef sp;
	fn = cg_map_callback(g, "len_cb", 1, &sp);
	LLVMBuilderRef b = LLVMCreateBuilderInContext(g->ctx);
	LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(g->ctx, fn, "entry"));
	LLVMBuildRet(b, LLVMConstInt(g->i64, 0, 0));
	LLVMDisposeBuilder(b);
	return fn;
}

static LLVMValueRef lower_len(struct cg *g, struct node *call)
{
	struct sema_map *sm = call->call.args->sym;
	LLVMValueRef args[4] = { g->maps[sm->index].global, len_callback(g),
				 LLVMConstNull(g->ptr), cg_const(g, 0) };
	LLVMValueRef n = cg_helper(g, BPF_FUNC_for_each_map_elem, g->i64, args, 4);
	/* a negative error never happens for these map types: clamp to 0 */
	LLVMValueRef neg = LLVMBuildICmp(g->b, LLVMIntSLT, n, cg_const(g, 0), "");
	return LLVMBuildSelect(g->b, neg, cg_const(g, 0), n, "");
}

const struct stdlib_fn stdlib_io_fns[] = {
	{ "len", 1, 1, FN_MAP_ARG, 0, check_len, lower_len, NULL },
	{ "printf", 1, 65, FN_STMT, 0, check_printf, lower_printf, NULL },
	{ "exit", 0, 1, FN_STMT, 0, check_exit, lower_exit, NULL },
	{ "time", 0, 1, FN_STMT, 0, check_time, lower_time, NULL },
	{ "print", 1, 3, FN_STMT, 0, check_print, lower_print, NULL },
	{ "clear", 1, 1, FN_STMT | FN_MAP_ARG, 0, check_clear, lower_clear, NULL },
	{ "zero", 1, 1, FN_STMT | FN_MAP_ARG, 0, check_clear, lower_clear, NULL },
	{ "delete", 1, 2, FN_MAP_ARG, 0, check_delete, lower_delete, NULL },
	{ "has_key", 1, 2, FN_MAP_ARG, 0, check_has_key, lower_has_key, NULL },
	{ "cat", 1, 65, FN_STMT, 0, check_cat, lower_cat, NULL },
	{ "system", 1, 65, FN_STMT, 0, check_system, lower_system, NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};
