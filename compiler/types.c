/* types.c: constructors, equality, unification and layouts of types.
 *
 * In: kinds and sizes from sema. Out: struct type values in the arena (or
 * static singletons for the fixed-size kinds) and pd_layout descriptions
 * for the runtime. Nothing here knows about LLVM or the AST.
 */
#include <stdio.h>
#include <string.h>

#include "compiler/types.h"

#define SCALAR(k, sz, sgn) { .kind = (k), .size = (sz), .align = 8, .is_signed = (sgn) }
struct type type_none = { .kind = TY_NONE, .size = 8, .align = 8 };
struct type type_void = { .kind = TY_VOID };
struct type type_u64 = SCALAR(TY_INT, 8, false), type_s64 = SCALAR(TY_INT, 8, true);
struct type type_u32 = SCALAR(TY_INT, 4, false), type_s32 = SCALAR(TY_INT, 4, true);
struct type type_u16 = SCALAR(TY_INT, 2, false), type_s16 = SCALAR(TY_INT, 2, true);
struct type type_u8 = SCALAR(TY_INT, 1, false), type_s8 = SCALAR(TY_INT, 1, true);
struct type type_kstack = { .kind = TY_KSTACK, .size = 8, .align = 8, .stack_depth = 127 };
struct type type_ustack = { .kind = TY_USTACK, .size = 16, .align = 8, .stack_depth = 127 };
struct type type_ksym = SCALAR(TY_KSYM, 8, false);
struct type type_usym = SCALAR(TY_USYM, 16, false);
struct type type_probe = SCALAR(TY_PROBE, 8, false);
struct type type_username = SCALAR(TY_USERNAME, 8, false);

struct type *type_int(int bits, bool is_signed)
{
	switch (bits) {
	case 8:
		return is_signed ? &type_s8 : &type_u8;
	case 16:
		return is_signed ? &type_s16 : &type_u16;
	case 32:
		return is_signed ? &type_s32 : &type_u32;
	default:
		return is_signed ? &type_s64 : &type_u64;
	}
}

static struct type *type_new(struct arena *a, enum type_kind kind, uint32_t size, uint32_t align)
{
	struct type *t = arena_alloc(a, sizeof(*t));
	t->kind = kind;
	t->size = size;
	t->align = align;
	return t;
}

struct type *type_str(struct arena *a, uint32_t size)
{
	return type_new(a, TY_STR, size ? size : 1, 1);
}

struct type *type_ptr(struct arena *a, struct type *elem, bool is_user)
{
	struct type *t = type_new(a, TY_PTR, 8, 8);
	t->elem = elem;
	t->is_user = is_user;
	return t;
}

struct type *type_array(struct arena *a, struct type *elem, uint32_t len)
{
	struct type *t = type_new(a, TY_ARRAY, elem->size * len, elem->align);
	t->elem = elem;
	t->len = len;
	return t;
}

struct type *type_agg(struct arena *a, enum pd_agg agg)
{
	struct type *t = type_new(a, TY_AGG, 8, 8);
	t->agg = agg;
	return t;
}

struct type *type_stack(struct arena *a, bool user, uint32_t depth, enum pd_stack_mode mode)
{
	struct type *t = type_new(a, user ? TY_USTACK : TY_KSTACK, user ? 16 : 8, 8);
	t->stack_depth = depth;
	t->stack_mode = mode;
	return t;
}

static uint32_t align_up(uint32_t v, uint32_t a)
{
	return (v + a - 1) & ~(a - 1);
}

struct type *type_tuple(struct arena *a, struct type **elems, uint32_t n)
{
	struct type *t = type_new(a, TY_TUPLE, 0, 1);
	t->fields = arena_alloc(a, n * sizeof(*t->fields));
	t->nfields = n;
	uint32_t off = 0;
	for (uint32_t i = 0; i < n; i++) {
		/* C layout: integers keep their width (bpftrace's tuples) */
		struct type *e = elems[i]->kind == TY_INT ? elems[i] : type_storage(a, elems[i]);
		uint32_t al = e->kind == TY_INT ? (e->size < 8 ? e->size : 8) : e->align ? e->align : 1;
		off = align_up(off, al);
		t->fields[i].name = arena_printf(a, "%u", i);
		t->fields[i].type = e;
		t->fields[i].offset = off;
		off += e->size;
		if (al > t->align)
			t->align = al;
	}
	/* whole tuples stay 8-byte aligned, their size a multiple of 8, as
	 * before (slots of tuples are copied in 8-byte words, map keys keep
	 * their sizes); (int8, int16, int32) is still 8 bytes */
	t->align = 8;
	t->size = align_up(off, 8);
	return t;
}

bool type_is_scalar(const struct type *t)
{
	switch (t->kind) {
	case TY_INT:
	case TY_PTR:
	case TY_KSTACK:
	case TY_KSYM:
	case TY_PROBE:
	case TY_USERNAME:
	case TY_TIMESTAMP:
	case TY_STRERROR:
	case TY_CGROUP_PATH:
		return true;
	default:
		return false;
	}
}

bool type_is_aggregate(const struct type *t)
{
	switch (t->kind) {
	case TY_STR:
	case TY_TUPLE:
	case TY_RECORD:
	case TY_ARRAY:
	case TY_USTACK:
	case TY_USYM:
	case TY_INET:
	case TY_BUF:
	case TY_MACADDR:
		return true;
	default:
		return false;
	}
}

bool type_equal(const struct type *a, const struct type *b)
{
	if (a == b)
		return true;
	if (a->kind != b->kind || a->size != b->size)
		return false;
	switch (a->kind) {
	case TY_INT:
		return a->is_signed == b->is_signed;
	case TY_TUPLE:
		if (a->nfields != b->nfields)
			return false;
		for (uint32_t i = 0; i < a->nfields; i++)
			if (!type_equal(a->fields[i].type, b->fields[i].type))
				return false;
		return true;
	case TY_AGG:
		return a->agg == b->agg;
	case TY_RECORD:
		return a->is_union == b->is_union && a->name && b->name && *a->name &&
		       !strcmp(a->name, b->name);
	case TY_PTR:
	case TY_ARRAY:
		return (!a->elem && !b->elem) ||
		       (a->elem && b->elem && type_equal(a->elem, b->elem));
	case TY_TIMESTAMP:
		return a->fmt && b->fmt && !strcmp(a->fmt, b->fmt);
	case TY_CGROUP_PATH:
		return a->fmt == b->fmt || (a->fmt && b->fmt && !strcmp(a->fmt, b->fmt));
	case TY_KSTACK:
	case TY_USTACK:
		return a->stack_depth == b->stack_depth && a->stack_mode == b->stack_mode;
	default:
		return true;
	}
}

static struct type *unify_tuple(struct arena *a, struct type *x, struct type *y)
{
	if (x->nfields != y->nfields)
		return NULL;
	struct type **elems = arena_alloc(a, x->nfields * sizeof(*elems));
	for (uint32_t i = 0; i < x->nfields; i++) {
		elems[i] = type_unify(a, x->fields[i].type, y->fields[i].type);
		if (!elems[i])
			return NULL;
	}
	return type_tuple(a, elems, x->nfields);
}

struct type *type_unify(struct arena *a, struct type *x, struct type *y)
{
	if (x->kind == TY_NONE)
		return y;
	if (y->kind == TY_NONE)
		return x;
	if (x->kind != y->kind)
		return NULL;
	switch (x->kind) {
	case TY_INT:
		if (type_equal(x, y))
			return x;
		return type_int(64, x->is_signed || y->is_signed);
	case TY_STR:
		return x->size >= y->size ? x : y;
	case TY_TUPLE:
		return type_equal(x, y) ? x : unify_tuple(a, x, y);
	default:
		return type_equal(x, y) ? x : NULL;
	}
}

bool type_arith_signed(const struct type *a, const struct type *b)
{
	bool au = a->kind == TY_PTR || !a->is_signed, bu = b->kind == TY_PTR || !b->is_signed;
	if ((au && a->size >= 8) || (bu && b->size >= 8))
		return false;
	return !(au && bu);
}

struct type *type_storage(struct arena *a, struct type *t)
{
	if (t->kind == TY_INT && t->size != 8)
		return type_int(64, t->is_signed);
	if (t->kind == TY_TUPLE) {
		/* already laid out with storage types by type_tuple */
		return t;
	}
	(void)a;
	return t;
}

static enum pd_kind layout_kind(const struct type *t)
{
	switch (t->kind) {
	case TY_INT:
	case TY_PTR:
		return PD_INT;
	case TY_STR:
	case TY_ARRAY:
		return PD_STR;
	case TY_TUPLE:
		return PD_TUPLE;
	case TY_KSTACK:
		return PD_KSTACK;
	case TY_USTACK:
		return PD_USTACK;
	case TY_KSYM:
		return PD_KSYM;
	case TY_USYM:
		return PD_USYM;
	case TY_PROBE:
		return PD_PROBE;
	case TY_USERNAME:
		return PD_USERNAME;
	case TY_TIMESTAMP:
		return PD_TIMESTAMP;
	case TY_INET:
		return PD_INET;
	case TY_BUF:
		return PD_BUF;
	case TY_STRERROR:
		return PD_STRERROR;
	case TY_MACADDR:
		return PD_MACADDR;
	case TY_CGROUP_PATH:
		return PD_CGROUP_PATH;
	default:
		return PD_NONE;
	}
}

/* A kernel struct's value (print): fields by name, arrays element by
 * element, pointers in hex. */
static void record_layout(struct arena *a, const struct type *t, struct pd_layout *out)
{
	memset(out, 0, sizeof(*out));
	out->size = t->size;
	out->stack_map = -1;
	switch (t->kind) {
	case TY_RECORD:
		out->kind = PD_RECORD;
		out->nfields = t->fields_loaded ? t->nfields : 0;
		out->fields = arena_alloc(a, (out->nfields + 1) * sizeof(*out->fields));
		for (uint32_t i = 0; i < out->nfields; i++) {
			const struct type_field *f = &t->fields[i];
			record_layout(a, f->type, &out->fields[i]);
			out->fields[i].offset = f->offset;
			out->fields[i].name = f->name;
			out->fields[i].bit_offset = f->bit_offset;
			out->fields[i].bit_size = f->bit_size;
		}
		return;
	case TY_ARRAY:
		out->kind = PD_ARRAY;
		out->count = t->len;
		out->nfields = 1;
		out->fields = arena_alloc(a, sizeof(*out->fields));
		record_layout(a, t->elem, &out->fields[0]);
		return;
	case TY_PTR:
		out->kind = PD_INT;
		out->size = 8;
		out->is_ptr = true;
		return;
	case TY_INT:
		out->kind = PD_INT;
		out->is_signed = t->is_signed;
		return;
	case TY_STR:
		out->kind = PD_STR;
		return;
	default:
		out->kind = PD_NONE;
		return;
	}
}

void type_to_layout(struct arena *a, const struct type *t, struct pd_layout *out)
{
	if (t->kind == TY_RECORD || (t->kind == TY_ARRAY && t->elem->kind == TY_RECORD)) {
		record_layout(a, t, out);
		return;
	}
	/* an integer array on its own (pton()): "[1,2,3,4]", as bpftrace */
	if (t->kind == TY_ARRAY && t->elem->kind == TY_INT) {
		record_layout(a, t, out);
		out->compact = true;
		return;
	}
	memset(out, 0, sizeof(*out));
	out->kind = layout_kind(t);
	out->size = t->size;
	out->is_signed = t->kind == TY_INT && t->is_signed;
	out->fmt = t->fmt;
	out->stack_map = -1;
	out->stack_depth = t->stack_depth;
	out->stack_mode = t->stack_mode;
	if (t->kind != TY_TUPLE)
		return;
	out->nfields = t->nfields;
	out->fields = arena_alloc(a, t->nfields * sizeof(*out->fields));
	for (uint32_t i = 0; i < t->nfields; i++) {
		type_to_layout(a, t->fields[i].type, &out->fields[i]);
		out->fields[i].offset = t->fields[i].offset;
	}
}

static const char *agg_name(enum pd_agg agg)
{
	static const char *names[] = { "none", "count", "sum", "min", "max",
				       "avg", "stats", "hist", "lhist" };
	return agg < sizeof(names) / sizeof(names[0]) ? names[agg] : "?";
}

static int tuple_name(const struct type *t, char *buf, size_t len)
{
	size_t n = 0;
	n += snprintf(buf + n, n < len ? len - n : 0, "(");
	for (uint32_t i = 0; i < t->nfields; i++) {
		char sub[128];
		type_name_str(t->fields[i].type, sub, sizeof(sub));
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", i ? ", " : "", sub);
	}
	n += snprintf(buf + n, n < len ? len - n : 0, ")");
	return (int)n;
}

const char *type_name_str(const struct type *t, char *buf, size_t len)
{
	char sub[128];
	if (!t) {
		snprintf(buf, len, "?");
		return buf;
	}
	switch (t->kind) {
	case TY_NONE: snprintf(buf, len, "none"); break;
	case TY_VOID: snprintf(buf, len, "void"); break;
	case TY_INT:
		snprintf(buf, len, "%sint%u", t->is_signed ? "" : "u", t->size * 8);
		break;
	case TY_STR: snprintf(buf, len, "string[%u]", t->size); break;
	case TY_TUPLE: tuple_name(t, buf, len); break;
	case TY_PTR:
		snprintf(buf, len, "%s *%s", t->elem ? type_name_str(t->elem, sub, sizeof(sub)) : "void",
			 t->is_user ? " (user)" : "");
		break;
	case TY_RECORD:
		snprintf(buf, len, "%s %s", t->is_union ? "union" : "struct",
			 t->name && *t->name ? t->name : "(anonymous)");
		break;
	case TY_ARRAY:
		snprintf(buf, len, "%s[%u]", type_name_str(t->elem, sub, sizeof(sub)), t->len);
		break;
	case TY_CTX: snprintf(buf, len, "args"); break;
	case TY_KSTACK: snprintf(buf, len, "kstack"); break;
	case TY_USTACK: snprintf(buf, len, "ustack"); break;
	case TY_KSYM: snprintf(buf, len, "ksym"); break;
	case TY_USYM: snprintf(buf, len, "usym"); break;
	case TY_PROBE: snprintf(buf, len, "probe"); break;
	case TY_USERNAME: snprintf(buf, len, "username"); break;
	case TY_TIMESTAMP: snprintf(buf, len, "timestamp"); break;
	case TY_INET: snprintf(buf, len, "inet"); break;
	case TY_BUF: snprintf(buf, len, "buffer[%u]", t->size - 1); break;
	case TY_STRERROR: snprintf(buf, len, "strerror"); break;
	case TY_MACADDR: snprintf(buf, len, "macaddr"); break;
	case TY_CGROUP_PATH: snprintf(buf, len, "cgroup_path"); break;
	case TY_AGG: snprintf(buf, len, "%s", agg_name(t->agg)); break;
	}
	return buf;
}
