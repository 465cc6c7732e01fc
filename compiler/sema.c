/* sema.c: scopes, types and map signatures.
 *
 * In: the parsed program and kernel facts. Out: n->type on every
 * expression, n->sym on variables, maps and calls, the map table and the
 * expanded probe list (probes.c). Nothing is lowered here.
 *
 * The program is walked twice: a quiet pass that learns every map's
 * signature (a map may be read in one probe before the probe that assigns
 * it), then a reporting pass. Builtins and functions are checked by their
 * stdlib/ entries.
 */
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/btf.h"
#include "compiler/probes.h"
#include "compiler/sema.h"
#include "runtime/provider.h"
#include "compiler/headers.h"
#include "stdlib/stdlib.h"

/* A body typed once per program group (one per tracepoint when it uses
 * args) would report the same error once per group: report it once. */
static bool seen_before(struct sema *s, struct span sp, const char *msg)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *p = msg; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h ^= ((uint64_t)sp.begin << 32) ^ sp.end;
	for (int i = 0; i < s->nseen; i++)
		if (s->seen[i] == h)
			return true;
	if (s->nseen < SEMA_MAX_SEEN)
		s->seen[s->nseen++] = h;
	return false;
}

void sema_error(struct sema *s, struct span sp, const char *fmt, ...)
{
	if (s->quiet)
		return;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (seen_before(s, sp, buf)) {
		s->suppress_notes = true;
		return;
	}
	s->suppress_notes = false;
	diag_error(s->diag, sp, "%s", buf);
}

static void sema_note(struct sema *s, struct span sp, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void sema_note(struct sema *s, struct span sp, const char *fmt, ...)
{
	if (s->quiet || s->suppress_notes)
		return;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	diag_note(s->diag, sp, "%s", buf);
}

static const char *tname(const struct type *t)
{
	static char bufs[4][160];
	static int i;
	i = (i + 1) % 4;
	return type_name_str(t, bufs[i], sizeof(bufs[i]));
}

static void sema_hint(struct sema *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sema_hint(struct sema *s, const char *fmt, ...)
{
	if (s->quiet || s->suppress_notes)
		return;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	diag_hint(s->diag, "%s", buf);
}

/* ---- kernel types (compiler/btf.c) ---- */

/* The BTF, opened on first need; NULL without an error when there is none */
static struct kbtf *try_btf(struct sema *s)
{
	if (s->btf || s->btf_why)
		return s->btf;
	const char *why = NULL;
	s->btf = kbtf_open(s->ki, s->arena, &why);
	if (!s->btf)
		s->btf_why = why && *why ? arena_strdup(s->arena, why) : "unknown reason";
	return s->btf;
}

struct kbtf *sema_btf(struct sema *s, struct span sp, const char *what)
{
	struct kbtf *kb = try_btf(s);
	if (!kb)
		sema_error(s, sp, "%s needs the kernel's BTF, which is not available (%s)", what,
			   s->btf_why);
	return kb;
}

bool sema_mem_is_user(const struct node *n)
{
	for (;;) {
		switch (n->kind) {
		case N_UNOP:
			return n->unop.operand->type && n->unop.operand->type->is_user;
		case N_FIELD:
			if (n->field.base->type->kind == TY_PTR)
				return n->field.base->type->is_user;
			if (n->field.base->type->kind != TY_RECORD)
				return false;
			n = n->field.base;
			continue;
		case N_INDEX:
			if (n->index.base->type->kind == TY_PTR)
				return n->index.base->type->is_user;
			n = n->index.base;
			continue;
		default:
			return false;
		}
	}
}

/* A record's fields, loaded from BTF on first use. */
static bool record_loaded(struct sema *s, struct span sp, struct type *rec)
{
	if (rec->fields_loaded)
		return true;
	struct kbtf *kb = sema_btf(s, sp, "a kernel struct");
	if (!kb)
		return false;
	if (!kbtf_fields(kb, rec)) {
		sema_error(s, sp, "%s is not in the kernel's BTF", tname(rec));
		return false;
	}
	return true;
}

static bool complete(struct sema *s, struct span sp, struct type *t, int depth)
{
	while (t->kind == TY_ARRAY)
		t = t->elem;
	if (t->kind != TY_RECORD)
		return true;
	if (depth > 32 || !record_loaded(s, sp, t))
		return false;
	for (uint32_t i = 0; i < t->nfields; i++)
		if (!complete(s, sp, t->fields[i].type, depth + 1))
			return false;
	return true;
}

bool sema_record_complete(struct sema *s, struct span sp, struct type *t)
{
	return complete(s, sp, t, 0);
}

static const struct type_field *find_field(const struct type *rec, const char *name)
{
	for (uint32_t i = 0; i < rec->nfields; i++)
		if (!strcmp(rec->fields[i].name, name))
			return &rec->fields[i];
	return NULL;
}

static void no_such_field(struct sema *s, struct span sp, const struct type *rec, const char *name)
{
	sema_error(s, sp, "%s has no field '%s'", tname(rec), name);
	const char *best = NULL;
	int bd = (int)strlen(name) / 3 + 1;
	for (uint32_t i = 0; i < rec->nfields; i++) {
		int d = ki_edit_distance(name, rec->fields[i].name);
		if (d <= bd && (!best || d < bd)) {
			best = rec->fields[i].name;
			bd = d;
		}
	}
	if (best)
		sema_hint(s, "did you mean '%s'?", best);
}

/* ---- variables ---- */

static struct sema_var *find_var(struct sema *s, const char *name)
{
	for (struct sema_var *v = s->vars; v; v = v->next) {
		if (!strcmp(v->name, name)) {
			if (s->map_loops && v->depth < s->map_loop_scope)
				v->in_map_loop = true;
			return v;
		}
	}
	return NULL;
}

static void scope_push(struct sema *s)
{
	s->depth++;
}

static void scope_pop(struct sema *s)
{
	s->depth--;
	while (s->vars && s->vars->depth > s->depth) {
		struct sema_var *v = s->vars;
		s->vars = v->next;
		v->next = s->dead_vars; /* remembered for "not in scope" errors */
		s->dead_vars = v;
	}
}

/* ---- maps ---- */

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The slot of `name` in the open-addressing table: its map or NULL. */
static struct sema_map **map_slot(struct sema *s, const char *name)
{
	uint32_t i = name_hash(name) & (s->map_cap - 1);
	while (s->map_table[i] && strcmp(s->map_table[i]->name, name))
		i = (i + 1) & (s->map_cap - 1);
	return &s->map_table[i];
}

static void map_table_grow(struct sema *s)
{
	struct sema_map **old = s->map_table;
	uint32_t old_cap = s->map_cap;
	s->map_cap = old_cap ? old_cap * 2 : 64;
	s->map_table = arena_alloc(s->arena, s->map_cap * sizeof(*s->map_table));
	for (uint32_t i = 0; i < old_cap; i++)
		if (old[i])
			*map_slot(s, old[i]->name) = old[i];
}

struct sema_map *sema_find_map(struct sema *s, const char *name)
{
	return s->map_cap ? *map_slot(s, name) : NULL;
}

static struct sema_map *get_map(struct sema *s, struct node *n)
{
	struct sema_map *m = sema_find_map(s, n->map.name);
	if (m)
		return m;
	if ((uint32_t)(s->nmaps + 1) * 2 > s->map_cap)
		map_table_grow(s);
	m = arena_alloc(s->arena, sizeof(*m));
	m->name = n->map.name;
	m->first_use = n;
	m->index = s->nmaps++;
	*map_slot(s, m->name) = m;
	if (!s->maps_tail)
		s->maps_tail = &s->maps;
	*s->maps_tail = m;
	s->maps_tail = &m->next;
	return m;
}

static struct type *key_type(struct sema *s, struct node *n)
{
	struct type *elems[64];
	int i = 0;
	bool bad = false;
	for (struct node *k = n->map.keys; k; k = k->next) {
		struct type *t = sema_expr(s, k);
		if (t->kind == TY_NONE) {
			bad = true;
		} else if (t->kind == TY_VOID || t->kind == TY_AGG || t->kind == TY_CTX ||
			   t->kind == TY_RECORD) {
			sema_error(s, k->span, "%s cannot be a map key", tname(t));
			bad = true;
		} else if (t->kind == TY_PTR) {
			t = &type_u64;
		}
		if (i < 64) /* several keys: integers widen to 8 bytes, as in 0.17 */
			elems[i++] = type_storage(s->arena, t);
	}
	if (bad)
		return &type_none;
	if (i > 32) {
		sema_error(s, n->span, "too many map keys (at most 32)");
		return &type_none;
	}
	if (i == 1)
		return type_storage(s->arena, elems[0]);
	/* several keys keep 0.17's layout: 8-byte integers, 8-byte size */
	struct type *kt = type_tuple(s->arena, elems, i);
	kt->size = (kt->size + 7) / 8 * 8;
	kt->align = 8;
	return kt;
}

/* Every use of a map must agree on the key; the error points at the use
 * that disagrees and a note at the first one. */
static void map_check_key(struct sema *s, struct node *n, struct sema_map *m)
{
	struct type *k = n->map.nkeys ? key_type(s, n) : NULL;
	if (k && k->kind == TY_NONE)
		return;
	bool was_keyed = m->has_key_use, was_scalar = m->has_scalar_use;
	if (s->save_walk && m->saved_walk != s->save_walk) { /* sema_type_probe */
		m->saved_walk = s->save_walk;
		m->saved_key_use = was_keyed;
		m->saved_scalar_use = was_scalar;
		m->saved_next = s->saved_maps;
		s->saved_maps = m;
	}
	if (k)
		m->has_key_use = true;
	else
		m->has_scalar_use = true;
	if ((k && was_scalar) || (!k && was_keyed)) {
		sema_error(s, n->span, "map %s is used %s a key here but %s one elsewhere", m->name,
			   k ? "with" : "without", k ? "without" : "with");
		sema_note(s, m->first_use->span, "%s first used here", m->name);
		return;
	}
	if (!k)
		return;
	if (!m->key) {
		m->key = k;
		return;
	}
	struct type *u = type_unify(s->arena, m->key, k);
	if (!u) {
		sema_error(s, n->span, "map %s key has type %s here but %s elsewhere", m->name,
			   tname(k), tname(m->key));
		sema_note(s, m->first_use->span, "%s first used here", m->name);
		return;
	}
	m->key = u;
}

static void map_set_value(struct sema *s, struct node *at, struct sema_map *m, struct type *v)
{
	if (v->kind == TY_NONE)
		return;
	if (!m->value) {
		m->value = v;
		m->first_value = at;
		return;
	}
	struct type *u = type_unify(s->arena, m->value, v);
	if (!u) {
		sema_error(s, at->span, "map %s holds %s here but %s elsewhere", m->name, tname(v),
			   tname(m->value));
		sema_note(s, m->first_value->span, "%s first assigned here", m->name);
		return;
	}
	m->value = u;
}

void sema_map_key_check(struct sema *s, struct node *map_node, struct sema_map *m)
{
	map_check_key(s, map_node, m);
}

/* @m[keys] read as a value */
static struct type *map_read(struct sema *s, struct node *n)
{
	struct sema_map *m = get_map(s, n);
	n->sym = m;
	map_check_key(s, n, m);
	if (!m->value) {
		if (!s->quiet)
			sema_error(s, n->span, "map %s is read but never assigned", m->name);
		return &type_none;
	}
	if (m->value->kind == TY_AGG) {
		/* count, sum, min, max, avg: the total over the CPUs (codegen.c
		 * cg_agg_read); a histogram or stats() has no single value */
		switch (m->value->agg) {
		case PD_AGG_COUNT: return &type_u64;
		case PD_AGG_SUM:
		case PD_AGG_MIN:
		case PD_AGG_MAX:
		case PD_AGG_AVG: return &type_s64;
		default: break;
		}
		sema_error(s, n->span, "%s holds %s(); its value cannot be read in a probe", m->name,
			   tname(m->value));
		return &type_none;
	}
	return m->value;
}

/* ---- expressions ---- */

bool sema_const_int(struct sema *s, struct node *n, int64_t *out)
{
	switch (n->kind) {
	case N_INT:
		*out = (int64_t)n->num.value;
		return true;
	case N_UNOP:
		if (n->unop.op == UOP_NEG && sema_const_int(s, n->unop.operand, out)) {
			*out = (int64_t)(0 - (uint64_t)*out); /* wraps for INT64_MIN, like C */
			return true;
		}
		return false;
	case N_POSPARAM: {
		int i = n->posparam.index;
		char *end;
		if (i < 1)
			return false;
		if (i > s->opts.nparams) {
			*out = 0;
			return true;
		}
		long long v = strtoll(s->opts.params[i - 1], &end, 0);
		if (*end)
			return false;
		*out = v;
		return true;
	}
	case N_POSCOUNT:
		*out = s->opts.nparams;
		return true;
	default:
		return false;
	}
}

static struct type *int_result(struct type *a, struct type *b)
{
	return type_int(64, type_arith_signed(a, b));
}

static bool is_int_like(const struct type *t)
{
	return t->kind == TY_INT || t->kind == TY_PTR;
}

static bool is_array_value(const struct node *n)
{
	const struct type *t = n->type;
	return t && t->kind == TY_ARRAY && t->elem && t->elem->kind == TY_INT &&
	       (n->kind == N_VAR || n->kind == N_MAP ||
		(n->kind == N_CALL && !strcmp(n->call.name, "pton")));
}

static struct type *check_binop(struct sema *s, struct node *n)
{
	struct type *l = sema_expr(s, n->binop.lhs);
	struct type *r = sema_expr(s, n->binop.rhs);
	if (l->kind == TY_NONE || r->kind == TY_NONE)
		return &type_none;
	enum binop op = n->binop.op;
	if ((op == OP_EQ || op == OP_NE) && l->kind == TY_STR && r->kind == TY_STR)
		return &type_s64;
	/* pton("1.2.3.4") == $addr: integer arrays held as values (a pton()
	 * call, a variable, a map), compared byte for byte like strings */
	if ((op == OP_EQ || op == OP_NE) && is_array_value(n->binop.lhs) &&
	    is_array_value(n->binop.rhs) && type_equal(l, r))
		return &type_s64;
	if (is_int_like(l) && is_int_like(r)) {
		if (op >= OP_LAND)
			return &type_s64; /* && || and comparisons give 0 or 1 */
		/* pointer arithmetic keeps the pointer (and its address space) */
		if (l->kind == TY_PTR && r->kind == TY_INT && (op == OP_ADD || op == OP_SUB))
			return l;
		if (r->kind == TY_PTR && l->kind == TY_INT && op == OP_ADD)
			return r;
		return int_result(l, r);
	}
	sema_error(s, n->span, "invalid operands to '%s': %s and %s", ast_binop_str(op), tname(l),
		   tname(r));
	return &type_none;
}

static struct type *check_unop(struct sema *s, struct node *n)
{
	struct type *t = sema_expr(s, n->unop.operand);
	if (t->kind == TY_NONE)
		return t;
	switch (n->unop.op) {
	case UOP_NEG:
	case UOP_PLUS:
	case UOP_BNOT:
		if (t->kind == TY_INT)
			return n->unop.op == UOP_NEG ? type_int(64, true) : t;
		break;
	case UOP_LNOT:
		if (is_int_like(t))
			return &type_s64;
		break;
	case UOP_DEREF:
		if (t->kind == TY_PTR && t->elem && t->elem->kind == TY_INT)
			return t->elem;
		if (t->kind == TY_PTR && t->elem && t->elem->kind == TY_PTR)
			return t->elem->is_user || !t->is_user ? t->elem
							       : type_ptr(s->arena, t->elem->elem, true);
		if (t->kind == TY_PTR && t->elem && t->elem->kind == TY_RECORD) {
			if (!record_loaded(s, n->span, t->elem))
				return &type_none;
			return t->elem;
		}
		if (t->kind == TY_PTR) {
			sema_error(s, n->span, "cannot dereference %s: its target type is unknown",
				   tname(t));
			return &type_none;
		}
		sema_error(s, n->span, "cannot dereference %s: not a pointer (cast it first, "
				       "e.g. *(uint64 *)x)", tname(t));
		return &type_none;
	case UOP_ADDR:
		sema_error(s, n->span, "taking an address ('&') is not supported yet");
		return &type_none;
	}
	sema_error(s, n->span, "invalid operand to '%s': %s", ast_unop_str(n->unop.op), tname(t));
	return &type_none;
}

static bool is_lvalue(struct node *n)
{
	return n->kind == N_VAR || n->kind == N_MAP;
}

static struct type *check_incdec(struct sema *s, struct node *n)
{
	struct node *o = n->incdec.operand;
	if (!is_lvalue(o)) {
		sema_error(s, o->span, "'%s' needs a variable or a map element",
			   n->incdec.is_inc ? "++" : "--");
		return &type_none;
	}
	if (o->kind == N_MAP) {
		struct sema_map *m = get_map(s, o);
		o->sym = m;
		map_check_key(s, o, m);
		if (!m->value)
			map_set_value(s, o, m, &type_s64);
		o->type = m->value;
	} else {
		sema_expr(s, o);
	}
	struct type *t = o->type ? o->type : &type_none;
	if (t->kind != TY_INT && t->kind != TY_NONE) {
		sema_error(s, o->span, "'%s' needs an integer, not %s", n->incdec.is_inc ? "++" : "--",
			   tname(t));
		return &type_none;
	}
	return t;
}

static struct type *check_ternary(struct sema *s, struct node *n)
{
	struct type *c = sema_expr(s, n->ternary.cond);
	struct type *a = sema_expr(s, n->ternary.then);
	struct type *b = sema_expr(s, n->ternary.els);
	if (c->kind != TY_NONE && !is_int_like(c))
		sema_error(s, n->ternary.cond->span, "condition must be an integer, not %s", tname(c));
	if (a->kind == TY_NONE || b->kind == TY_NONE)
		return &type_none;
	if (a->kind == TY_VOID && b->kind == TY_VOID)
		return &type_void;
	struct type *u = is_int_like(a) && is_int_like(b) ? int_result(a, b)
							  : type_unify(s->arena, a, b);
	if (!u) {
		sema_error(s, n->span, "the branches of '?:' have different types: %s and %s",
			   tname(a), tname(b));
		return &type_none;
	}
	return u;
}

static struct type *check_call(struct sema *s, struct node *n)
{
	const struct stdlib_fn *fn = stdlib_find_fn(n->call.name);
	if (!fn) {
		sema_error(s, n->span, "unknown function '%s'", n->call.name);
		for (struct node *a = n->call.args; a; a = a->next)
			sema_expr(s, a);
		return &type_none;
	}
	n->sym = (void *)fn;
	if (n->call.nargs < fn->min_args || n->call.nargs > fn->max_args) {
		if (fn->min_args == fn->max_args)
			sema_error(s, n->span, "%s() takes %d argument%s, not %d", fn->name,
				   fn->min_args, fn->min_args == 1 ? "" : "s", n->call.nargs);
		else
			sema_error(s, n->span, "%s() takes %d to %d arguments, not %d", fn->name,
				   fn->min_args, fn->max_args, n->call.nargs);
		return &type_none;
	}
	if ((fn->flags & FN_AGG) && !s->in_agg_assign) {
		sema_error(s, n->span, "%s() can only be assigned to a map: @name = %s(...)", fn->name,
			   fn->name);
		return &type_none;
	}
	if ((fn->flags & FN_MAP_ARG) && n->call.args->kind != N_MAP) {
		sema_error(s, n->call.args->span, "%s() expects a map as its first argument",
			   fn->name);
		return &type_none;
	}
	return fn->check(s, n);
}

/* A field of a struct reached through memory (user when `user`): pointer
 * fields of user memory point into user memory too. */
static struct type *record_field(struct sema *s, struct node *n, struct type *rec, bool user)
{
	if (!record_loaded(s, n->span, rec))
		return &type_none;
	const struct type_field *f = find_field(rec, n->field.name);
	if (!f) {
		no_such_field(s, n->span, rec, n->field.name);
		return &type_none;
	}
	n->sym = (void *)f;
	if (f->type->kind == TY_PTR && user && !f->type->is_user)
		return type_ptr(s->arena, f->type->elem, true);
	return f->type;
}

/* args->ptr of a tracepoint whose format says "struct X *" (X from BTF)
 * or "void *" (typed through BTF's struct trace_event_raw_NAME when that
 * has a struct pointer), on first use; the address space stays the
 * field's (syscall arguments are user pointers) */
static struct type *tp_ptr_type(struct sema *s, struct node *base, struct type *b)
{
	if (base->kind != N_FIELD || !base->field.base->type ||
	    base->field.base->type->kind != TY_CTX || !base->field.base->type->tp_name || !base->sym)
		return b;
	const struct type_field *f = base->sym;
	struct kbtf *kb = try_btf(s);
	if (!kb)
		return b;
	struct type *rec = NULL;
	const char *st = f->ctype ? strstr(f->ctype, "struct ") : NULL;
	if (st) {
		char name[128];
		size_t n = strcspn(st + 7, " *");
		if (n < sizeof(name) && st[7 + n] && strchr(st + 7 + n, '*') &&
		    !strchr(strchr(st + 7 + n, '*') + 1, '*')) {
			memcpy(name, st + 7, n);
			name[n] = 0;
			rec = kbtf_type(kb, name, true);
		}
	}
	if (!rec) {
		struct type *pt = kbtf_tp_field_ptr(kb, base->field.base->type->tp_name,
						    base->field.name);
		rec = pt ? pt->elem : NULL;
	}
	if (!rec || rec->kind != TY_RECORD)
		return b;
	base->type = type_ptr(s->arena, rec, b->is_user);
	return base->type;
}

static struct type *check_field(struct sema *s, struct node *n)
{
	struct type *b = sema_expr(s, n->field.base);
	if (b->kind == TY_NONE)
		return b;
	if (b->kind == TY_TUPLE) {
		char *end;
		unsigned long i = strtoul(n->field.name, &end, 10);
		if (*end || n->field.is_arrow || i >= b->nfields) {
			sema_error(s, n->span, "tuple index '%s' out of range: the tuple has %u fields",
				   n->field.name, b->nfields);
			return &type_none;
		}
		return b->fields[i].type;
	}
	if (b->kind == TY_PTR && (!b->elem || b->elem->kind != TY_RECORD))
		b = tp_ptr_type(s, n->field.base, b);
	/* p->f and, as bpftrace >= 0.25 allows, p.f */
	if (b->kind == TY_PTR && b->elem && b->elem->kind == TY_RECORD)
		return record_field(s, n, b->elem, b->is_user);
	if (b->kind == TY_RECORD) {
		if (n->field.is_arrow) {
			sema_error(s, n->span, "'->' needs a pointer, and %s is not one: use '.'",
				   tname(b));
			return &type_none;
		}
		return record_field(s, n, b, sema_mem_is_user(n->field.base));
	}
	if (b->kind == TY_CTX) {
		for (uint32_t i = 0; i < b->nfields; i++)
			if (!strcmp(b->fields[i].name, n->field.name)) {
				n->sym = &b->fields[i];
				return b->fields[i].type;
			}
		const char *where = s->cur && s->cur->name ? s->cur->name : "this probe";
		sema_error(s, n->span, "%s has no field '%s'", where, n->field.name);
		const char *best = NULL;
		int bd = (int)strlen(n->field.name) / 3 + 1;
		for (uint32_t i = 0; i < b->nfields; i++) {
			int d = ki_edit_distance(n->field.name, b->fields[i].name);
			if (d <= bd && (!best || d < bd)) {
				best = b->fields[i].name;
				bd = d;
			}
		}
		if (best)
			sema_hint(s, "did you mean '%s'?", best);
		return &type_none;
	}
	if (b->kind == TY_PTR)
		sema_error(s, n->span, "cannot access field '%s' of %s: its target type is not a "
				       "struct (cast it, e.g. ((struct task_struct *)p)->%s)",
			   n->field.name, tname(b), n->field.name);
	else if (n->field.is_arrow && b->kind == TY_INT)
		sema_error(s, n->span, "'->' needs a pointer, and %s is not one (cast it, e.g. "
				       "((struct task_struct *)x)->%s)", tname(b), n->field.name);
	else
		sema_error(s, n->span, "cannot access field '%s' of %s", n->field.name, tname(b));
	return &type_none;
}

static struct type *check_index(struct sema *s, struct node *n)
{
	struct type *b = sema_expr(s, n->index.base);
	struct type *i = sema_expr(s, n->index.index);
	if (b->kind == TY_NONE || i->kind == TY_NONE)
		return &type_none;
	if (i->kind != TY_INT) {
		sema_error(s, n->index.index->span, "an index must be an integer, not %s", tname(i));
		return &type_none;
	}
	int64_t k;
	if (b->kind == TY_ARRAY) {
		/* len 0: a flexible array member, not checked */
		if (sema_const_int(s, n->index.index, &k) && (k < 0 || (b->len && (uint64_t)k >= b->len))) {
			sema_error(s, n->index.index->span, "index %lld is out of bounds of %s",
				   (long long)k, tname(b));
			return &type_none;
		}
		return b->elem;
	}
	if (b->kind == TY_STR) { /* a char array: its bytes */
		if (sema_const_int(s, n->index.index, &k) && (k < 0 || (uint64_t)k >= b->size)) {
			sema_error(s, n->index.index->span, "index %lld is out of bounds of %s",
				   (long long)k, tname(b));
			return &type_none;
		}
		return &type_s8;
	}
	if (b->kind == TY_PTR && b->elem && b->elem->kind == TY_INT)
		return b->elem;
	if (b->kind == TY_PTR && b->elem && b->elem->kind == TY_PTR)
		return b->elem->is_user || !b->is_user ? b->elem : type_ptr(s->arena, b->elem->elem, true);
	if (b->kind == TY_PTR && b->elem && b->elem->kind == TY_RECORD) {
		if (!record_loaded(s, n->span, b->elem))
			return &type_none;
		return b->elem;
	}
	sema_error(s, n->span, "cannot index %s", tname(b));
	return &type_none;
}

static struct type *check_tuple(struct sema *s, struct node *n)
{
	struct type *elems[64];
	int i = 0;
	for (struct node *e = n->tuple.elems; e; e = e->next) {
		struct type *t = sema_expr(s, e);
		if (t->kind == TY_NONE)
			return t;
		if (t->kind == TY_VOID || t->kind == TY_AGG || t->kind == TY_CTX || t->kind == TY_RECORD) {
			sema_error(s, e->span, "a tuple cannot hold %s", tname(t));
			return &type_none;
		}
		if (t->kind == TY_PTR)
			t = &type_u64;
		if (i == 64) {
			sema_error(s, n->span, "a tuple has at most 64 fields");
			return &type_none;
		}
		elems[i++] = t;
	}
	return type_tuple(s->arena, elems, i);
}

/* `struct NAME` or a typedef NAME from the kernel's BTF; NULL after an
 * error. */
static struct type *kernel_type(struct sema *s, struct node *tn)
{
	const char *kw = tn->type_name.is_struct ? "struct " : "";
	struct kbtf *kb = try_btf(s);
	if (!kb) {
		sema_error(s, tn->span, "unknown type '%s%s': kernel types come from BTF, which is "
					"not available (%s)", kw, tn->type_name.name, s->btf_why);
		return NULL;
	}
	struct type *t = kbtf_type(kb, tn->type_name.name, tn->type_name.is_struct);
	if (t)
		return t;
	sema_error(s, tn->span, "unknown type '%s%s'", kw, tn->type_name.name);
	if (!s->quiet && !s->suppress_notes) {
		const char *near[3];
		int n = kbtf_closest_structs(kb, tn->type_name.name, near, 3);
		for (int i = 0; i < n; i++)
			sema_hint(s, "did you mean struct %s?", near[i]);
	}
	return NULL;
}

static struct node *script_struct(struct sema *s, const char *name);
static struct type *header_record(struct sema *s, const char *name, int depth);

static struct type *typename_type(struct sema *s, struct node *tn)
{
	static const struct { const char *name; int bits; bool sgn; } ints[] = {
		{ "int8", 8, true }, { "uint8", 8, false }, { "int16", 16, true },
		{ "uint16", 16, false }, { "int32", 32, true }, { "uint32", 32, false },
		{ "int64", 64, true }, { "uint64", 64, false }, { "char", 8, true },
		{ "short", 16, true }, { "int", 32, true }, { "long", 64, true },
		{ "unsigned", 32, false }, { "u8", 8, false }, { "u16", 16, false },
		{ "u32", 32, false }, { "u64", 64, false }, { "s8", 8, true },
		{ "s16", 16, true }, { "s32", 32, true }, { "s64", 64, true },
		{ "bool", 8, false },
	};
	struct type *t = NULL;
	if (!tn->type_name.is_struct)
		for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
			if (!strcmp(ints[i].name, tn->type_name.name))
				t = type_int(ints[i].bits, ints[i].sgn);
	if (!t && !strcmp(tn->type_name.name, "void") && tn->type_name.ptr_depth) {
		t = NULL;
	} else if (!t && tn->type_name.is_struct && script_struct(s, tn->type_name.name) &&
		   script_struct(s, tn->type_name.name)->type) {
		t = script_struct(s, tn->type_name.name)->type;
	} else if (!t && tn->type_name.is_struct && (t = header_record(s, tn->type_name.name, 0))) {
		/* a struct of an #included header */
	} else if (!t) {
		t = kernel_type(s, tn);
		if (!t)
			return &type_none;
	}
	for (int i = 0; i < tn->type_name.ptr_depth; i++)
		t = type_ptr(s->arena, t, false);
	if (tn->type_name.array_len >= 0) {
		if (tn->type_name.array_len == 0 || tn->type_name.array_len > 4096) {
			sema_error(s, tn->span, "array length must be 1 to 4096");
			return &type_none;
		}
		t = type_array(s->arena, t, (uint32_t)tn->type_name.array_len);
	}
	return t;
}

/* offsetof(struct T, a.b): nested members through structs, not pointers */
static struct type *check_offsetof(struct sema *s, struct node *n)
{
	struct type *t = typename_type(s, n->offset_of.type_name);
	if (t->kind == TY_NONE)
		return t;
	uint64_t off = 0;
	const char *p = n->offset_of.field;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		char *name = arena_strndup(s->arena, p, len);
		if (t->kind != TY_RECORD) {
			sema_error(s, n->span, "offsetof(): %s is not a struct or union, so it has no "
					       "field '%s'", tname(t), name);
			return &type_none;
		}
		if (!record_loaded(s, n->span, t))
			return &type_none;
		const struct type_field *f = find_field(t, name);
		if (!f) {
			no_such_field(s, n->span, t, name);
			return &type_none;
		}
		off += f->offset;
		t = f->type;
		p = dot ? dot + 1 : p + len;
	}
	n->offset_of.value = off;
	return &type_u64;
}

static struct type *check_cast(struct sema *s, struct node *n)
{
	struct type *to = typename_type(s, n->cast.type_name);
	struct type *from = sema_expr(s, n->cast.expr);
	if (to->kind == TY_NONE || from->kind == TY_NONE)
		return &type_none;
	if (to->kind == TY_PTR && is_int_like(from)) {
		/* a pointer made from an address points where the probe's
		 * addresses do: user memory in uprobes and syscall tracepoints */
		struct type *p = type_ptr(s->arena, to->elem, false);
		struct sema_probe *sp = s->cur;
		bool user = sp &&
			    (sp->user_ptrs || (pv_by_kind(sp->kind)->builtins & PV_B_USER_PTRS));
		p->is_user = from->kind == TY_PTR ? from->is_user : user;
		return p;
	}
	if (to->kind == TY_INT && is_int_like(from))
		return to;
	sema_error(s, n->span, "cannot cast %s to %s", tname(from), tname(to));
	return &type_none;
}

/* ---- identifiers that look like C macros (compiler/cpp.c) ---- */

/* O_CREAT, TASK_COMM_LEN: upper case, digits and '_', two or more. */
static bool looks_like_macro(const char *name)
{
	bool upper = false;
	if (!name[0] || !name[1])
		return false;
	for (const char *p = name; *p; p++) {
		if (*p >= 'a' && *p <= 'z')
			return false;
		upper = upper || (*p >= 'A' && *p <= 'Z');
	}
	return upper;
}

/* The preprocessor expands every macro and enum constant of the script
 * and its headers, so a name left over is defined nowhere. */
static void unknown_macro(struct sema *s, struct node *n)
{
	static const char *const where[][2] = {
		{ "O_", "<linux/fcntl.h>" },	{ "AT_", "<linux/fcntl.h>" },
		{ "AF_", "<sys/socket.h>" },	{ "PF_", "<sys/socket.h>" },
		{ "SOCK_", "<sys/socket.h>" },	{ "IPPROTO_", "<linux/in.h>" },
		{ "SIG", "<signal.h>" },	{ "E", "<errno.h>" },
	};
	const char *name = n->ident.name, *hdr = NULL;
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]) && !hdr; i++)
		if (!strncmp(name, where[i][0], strlen(where[i][0])))
			hdr = where[i][1];
	sema_error(s, n->span, "unknown identifier '%s': no macro or enum constant of that name",
		   name);
	if (s->quiet || s->suppress_notes)
		return;
	if (hdr)
		diag_hint(s->diag, "#include the header that defines it (e.g. #include %s), or #define it",
			  hdr);
	else
		diag_hint(s->diag, "#include the header that defines it, or #define it");
}

static struct type *check_ident(struct sema *s, struct node *n)
{
	const struct stdlib_builtin *b = stdlib_find_builtin(n->ident.name);
	int64_t ev;
	struct type *et;
	struct kbtf *kb;
	if (!b && !stdlib_find_fn(n->ident.name) && (kb = try_btf(s)) &&
	    kbtf_enum_value(kb, n->ident.name, &ev, &et)) {
		/* an enum constant of the kernel: from now on a number */
		n->kind = N_INT;
		n->num.value = (uint64_t)ev;
		n->num.is_char = false;
		return n->num.value > INT64_MAX ? &type_u64 : &type_s64;
	}
	if (!b) {
		if (stdlib_find_fn(n->ident.name))
			sema_error(s, n->span, "%s is a function: call it as %s()", n->ident.name,
				   n->ident.name);
		else if (looks_like_macro(n->ident.name))
			unknown_macro(s, n);
		else
			sema_error(s, n->span, "unknown identifier '%s'", n->ident.name);
		return &type_none;
	}
	n->sym = (void *)b;
	return b->check(s, n);
}

static struct type *check_var(struct sema *s, struct node *n)
{
	struct sema_var *v = find_var(s, n->ident.name);
	if (!v) {
		struct sema_var *dead = s->dead_vars;
		while (dead && strcmp(dead->name, n->ident.name))
			dead = dead->next;
		if (dead) {
			sema_error(s, n->span, "variable '%s' is not in scope here", n->ident.name);
			sema_note(s, dead->decl->span, "'%s' was assigned in an inner block, visible only there",
				  n->ident.name);
		} else if (strchr(n->ident.name, '\'')) { /* a macro's own (macro.c) */
			sema_error(s, n->span, "variable '%.*s' is used before it is assigned: a macro "
					       "sees only the variables passed to it ($name parameters)",
				   (int)(strchr(n->ident.name, '\'') - n->ident.name), n->ident.name);
		} else {
			sema_error(s, n->span, "variable '%s' is used before it is assigned",
				   n->ident.name);
		}
		return &type_none;
	}
	if (v->untyped) {
		sema_error(s, n->span, "variable '%s' is read before any value is assigned to it",
			   n->ident.name);
		sema_note(s, v->decl->span, "'%s' is declared here without a type; give it one "
					  "(let %s: int64) or assign it first", n->ident.name,
			  n->ident.name);
		return &type_none;
	}
	n->sym = v;
	return v->type;
}

static struct type *check_posparam(struct sema *s, struct node *n)
{
	int64_t v;
	if (n->posparam.index < 1) {
		sema_error(s, n->span, "positional parameters start at $1");
		return &type_none;
	}
	if (sema_const_int(s, n, &v))
		return &type_s64;
	const char *p = s->opts.params[n->posparam.index - 1];
	return type_str(s->arena, strlen(p) + 1);
}

static void check_stmt(struct sema *s, struct node *n);

static struct type *expr_type(struct sema *s, struct node *n)
{
	switch (n->kind) {
	case N_INT:
		return n->num.value > INT64_MAX ? &type_u64 : &type_s64;
	case N_STR:
		return type_str(s->arena, n->str.len + 1);
	case N_IDENT:
		return check_ident(s, n);
	case N_VAR:
		return check_var(s, n);
	case N_POSPARAM:
		return check_posparam(s, n);
	case N_POSCOUNT:
		return &type_s64;
	case N_MAP:
		return map_read(s, n);
	case N_BINOP:
		return check_binop(s, n);
	case N_UNOP:
		return check_unop(s, n);
	case N_INCDEC:
		return check_incdec(s, n);
	case N_TERNARY:
		return check_ternary(s, n);
	case N_CALL:
		return check_call(s, n);
	case N_FIELD:
		return check_field(s, n);
	case N_INDEX:
		return check_index(s, n);
	case N_TUPLE:
		return check_tuple(s, n);
	case N_CAST:
		return check_cast(s, n);
	case N_SIZEOF: {
		struct type *t = n->size_of.type_name ? typename_type(s, n->size_of.type_name)
						      : sema_expr(s, n->size_of.expr);
		if (t->kind == TY_RECORD && !record_loaded(s, n->span, t))
			return &type_none;
		n->size_of.value = t->size;
		return t->kind == TY_NONE ? t : &type_u64;
	}
	case N_OFFSETOF:
		return check_offsetof(s, n);
	case N_BLOCK_EXPR: { /* a macro's value: its statements, then the value */
		scope_push(s);
		for (struct node *st = n->block_expr.stmts; st; st = st->next)
			check_stmt(s, st);
		struct type *t = sema_expr(s, n->block_expr.value);
		scope_pop(s);
		return t;
	}
	default:
		sema_error(s, n->span, "%s is not an expression", ast_kind_name(n->kind));
		return &type_none;
	}
}

static bool too_big(const struct type *t)
{
	return t && (t->kind == TY_STR || t->kind == TY_TUPLE) &&
	       ((uint64_t)t->size + 7) / 8 * 8 > SEMA_PERCPU_VALUE_MAX;
}

struct type *sema_expr(struct sema *s, struct node *n)
{
	struct type *t = expr_type(s, n);
	if (too_big(t)) { /* its parts were not: they would be none */
		sema_error(s, n->span,
			   "this %s is %u bytes, more than the %u bytes the kernel allows for a "
			   "per-CPU map value (PCPU_MIN_UNIT_SIZE), where trace builds values too "
			   "large for the stack",
			   t->kind == TY_STR ? "string" : "tuple", t->size, SEMA_PERCPU_VALUE_MAX);
		t = &type_none;
	}
	n->type = t ? t : &type_none;
	return n->type;
}

/* A key or value no expression exceeds can still exceed the limit: keys
 * of several parts, and values unified from different assignments
 * (@t = ("long", 1) and @t = (1, "long")). */
static void check_map_sizes(struct sema *s)
{
	for (struct sema_map *m = s->maps; m; m = m->next) {
		const struct type *parts[2] = { m->key, m->value };
		const char *what[2] = { "key", "value" };
		for (int i = 0; i < 2; i++) {
			if (!too_big(parts[i]))
				continue;
			struct node *at = i == 1 && m->first_value ? m->first_value : m->first_use;
			sema_error(s, at->span,
				   "map %s's %s would be %u bytes, more than the %u bytes the kernel "
				   "allows for a per-CPU map value (PCPU_MIN_UNIT_SIZE), where trace "
				   "builds keys and values too large for the stack",
				   m->name, what[i], parts[i]->size, SEMA_PERCPU_VALUE_MAX);
		}
	}
}

/* ---- statements ---- */

static void check_stmt(struct sema *s, struct node *n);

static void check_block(struct sema *s, struct node *b)
{
	scope_push(s);
	for (struct node *st = b->block.stmts; st; st = st->next)
		check_stmt(s, st);
	scope_pop(s);
}

/* Whether a value of type t may be stored in a variable declared vt
 * (let $x: vt): integers convert (and wrap) as in C, strings are cut to
 * the declared size, anything else must have the declared type. */
static bool let_assignable(struct type *vt, struct type *t)
{
	if (is_int_like(vt) && is_int_like(t))
		return true;
	if (vt->kind == TY_STR && t->kind == TY_STR)
		return true;
	return type_equal(vt, t);
}

static void assign_var(struct sema *s, struct node *n, struct type *t)
{
	struct node *target = n->assign.target;
	struct sema_var *v = find_var(s, target->ident.name);
	if (t->kind == TY_VOID || t->kind == TY_CTX || t->kind == TY_AGG) {
		sema_error(s, n->assign.value->span, "cannot assign %s to a variable", tname(t));
		return;
	}
	if (!v) {
		if (n->assign.compound) {
			sema_error(s, target->span, "variable '%s' is used before it is assigned",
				   target->ident.name);
			return;
		}
		v = arena_alloc(s->arena, sizeof(*v));
		v->name = target->ident.name;
		v->type = t; /* a (uint16) variable wraps at 16 bits, as in C */
		/* the type the previous walk of this body ended with (a string
		 * or tuple variable takes the largest value assigned to it), so
		 * every use, the first one too, sees the final layout */
		struct sema_var *prev = target->sym;
		if (prev && prev->walk == s->walk - 1 && t->kind != TY_NONE) {
			struct type *u = type_unify(s->arena, prev->type, t);
			if (u)
				v->type = u;
		}
		v->walk = s->walk;
		v->decl = target;
		v->depth = s->depth;
		v->next = s->vars;
		s->vars = v;
	} else if (v->untyped && t->kind != TY_NONE) { /* let $x; then $x = value */
		struct type *u = v->prev_type ? type_unify(s->arena, v->prev_type, t) : NULL;
		v->type = u ? u : t;
		v->untyped = false;
	} else if (v->fixed && t->kind != TY_NONE) {
		if (!let_assignable(v->type, t)) {
			sema_error(s, n->span, "variable '%s' is declared %s; cannot assign %s to it",
				   v->name, tname(v->type), tname(t));
			sema_note(s, v->decl->span, "'%s' declared here", v->name);
			return;
		}
	} else if (t->kind != TY_NONE) {
		struct type *u = is_int_like(v->type) && is_int_like(t) ? v->type
									 : type_unify(s->arena, v->type, t);
		if (!u) {
			sema_error(s, n->span, "variable '%s' holds %s; cannot assign %s to it",
				   v->name, tname(v->type), tname(t));
			sema_note(s, v->decl->span, "'%s' first assigned here", v->name);
			return;
		}
		if (!type_equal(u, v->type))
			s->var_widened = true;
		v->type = u;
	}
	target->sym = v;
	target->type = v->type;
}

/* lhist's bounds belong to the map: every use must give the same ones */
static bool lhist_params(struct sema *s, struct sema_map *m, struct node *call)
{
	int64_t v[3];
	struct node *a = call->call.args->next;
	for (int i = 0; i < 3; i++, a = a->next)
		sema_const_int(s, a, &v[i]);
	if (m->lhist_step && (m->lhist_min != v[0] || m->lhist_max != v[1] || m->lhist_step != v[2])) {
		sema_error(s, call->span, "lhist() bounds differ from those of another use of %s",
			   m->name);
		sema_note(s, m->first_value->span, "%s first assigned here", m->name);
		return false;
	}
	m->lhist_min = v[0];
	m->lhist_max = v[1];
	m->lhist_step = v[2];
	return true;
}

static void assign_map(struct sema *s, struct node *n)
{
	struct node *target = n->assign.target, *value = n->assign.value;
	struct sema_map *m = get_map(s, target);
	target->sym = m;
	map_check_key(s, target, m);
	const struct stdlib_fn *fn = value->kind == N_CALL ? stdlib_find_fn(value->call.name) : NULL;
	if (fn && (fn->flags & FN_AGG)) {
		if (n->assign.compound) {
			sema_error(s, n->span, "use '=' to assign %s()", fn->name);
			return;
		}
		value->sym = (void *)fn;
		s->in_agg_assign = true;
		sema_expr(s, value); /* the check hook validates the arguments */
		s->in_agg_assign = false;
		if (value->type->kind == TY_NONE)
			return;
		if (m->value && m->value->kind == TY_AGG && m->value->agg != fn->agg) {
			sema_error(s, value->span, "map %s holds %s() elsewhere; cannot assign %s() here",
				   m->name, tname(m->value), fn->name);
			sema_note(s, m->first_value->span, "%s first assigned here", m->name);
			return;
		}
		if (fn->agg == PD_AGG_LHIST && !lhist_params(s, m, value))
			return;
		map_set_value(s, value, m, value->type);
		target->type = m->value;
		return;
	}
	struct type *t = sema_expr(s, value);
	if (t->kind == TY_VOID || t->kind == TY_CTX || t->kind == TY_AGG || t->kind == TY_RECORD) {
		sema_error(s, value->span, "cannot assign %s to a map%s", tname(t),
			   t->kind == TY_RECORD ? " (store its fields)" : "");
		return;
	}
	if (m->value && m->value->kind == TY_AGG && t->kind != TY_NONE) {
		sema_error(s, value->span, "map %s holds %s(); cannot assign %s to it", m->name,
			   tname(m->value), tname(t));
		sema_note(s, m->first_value->span, "%s first assigned here", m->name);
		return;
	}
	if (n->assign.compound && t->kind != TY_NONE && t->kind != TY_INT) {
		sema_error(s, value->span, "'%s=' needs an integer, not %s", ast_binop_str(n->assign.op),
			   tname(t));
		return;
	}
	if (t->kind == TY_PTR)
		t = &type_u64;
	map_set_value(s, value, m, type_storage(s->arena, t));
	target->type = m->value;
}

static void check_assign(struct sema *s, struct node *n)
{
	struct node *target = n->assign.target;
	if (target->kind == N_MAP) {
		assign_map(s, n);
		return;
	}
	if (target->kind != N_VAR) {
		sema_error(s, target->span, "cannot assign to this expression");
		sema_expr(s, n->assign.value);
		return;
	}
	struct type *t = sema_expr(s, n->assign.value);
	if (n->assign.compound && t->kind != TY_NONE && t->kind != TY_INT) {
		sema_error(s, n->assign.value->span, "'%s=' needs an integer, not %s",
			   ast_binop_str(n->assign.op), tname(t));
		return;
	}
	struct sema_var *v = n->assign.compound ? find_var(s, target->ident.name) : NULL;
	if (v && v->type->kind != TY_INT && v->type->kind != TY_NONE) {
		sema_error(s, target->span, "'%s=' needs an integer; '%s' holds %s",
			   ast_binop_str(n->assign.op), v->name, tname(v->type));
		return;
	}
	assign_var(s, n, t);
}

static void check_cond(struct sema *s, struct node *c)
{
	struct type *t = sema_expr(s, c);
	if (t->kind != TY_NONE && !is_int_like(t))
		sema_error(s, c->span, "condition must be an integer, not %s", tname(t));
}

static void check_expr_stmt(struct sema *s, struct node *n)
{
	struct node *e = n->stmt.expr;
	if (e->kind == N_CALL) {
		const struct stdlib_fn *fn = stdlib_find_fn(e->call.name);
		if (fn && (fn->flags & FN_AGG)) {
			sema_error(s, e->span, "%s() must be assigned to a map, e.g. @ = %s(...)",
				   fn->name, fn->name);
			return;
		}
	}
	sema_expr(s, e);
}

/* The type a declaration names: typename_type's, plus `string` (the
 * configured string size) and `string[N]` */
static struct type *let_type(struct sema *s, struct node *tn)
{
	if (!tn->type_name.is_struct && !strcmp(tn->type_name.name, "string") &&
	    !tn->type_name.ptr_depth) {
		int64_t n = tn->type_name.array_len;
		if (n == 0 || n > SEMA_PERCPU_VALUE_MAX) {
			sema_error(s, tn->span, "a string size must be 1 to %d", SEMA_PERCPU_VALUE_MAX);
			return &type_none;
		}
		return type_str(s->arena, n > 0 ? (uint32_t)n : s->opts.strlen);
	}
	if (!tn->type_name.is_struct && !tn->type_name.ptr_depth &&
	    (!strcmp(tn->type_name.name, "buffer") || !strcmp(tn->type_name.name, "inet") ||
	     !strcmp(tn->type_name.name, "void"))) {
		sema_error(s, tn->span, "a variable cannot be declared %s", tn->type_name.name);
		return &type_none;
	}
	struct type *t = typename_type(s, tn);
	if (t->kind == TY_RECORD || t->kind == TY_ARRAY) {
		sema_error(s, tn->span, "a variable cannot hold a whole struct or array; declare a "
					"pointer to it");
		return &type_none;
	}
	return t;
}

/* let $x [: type] [= value]: a variable of the current block, visible
 * after the inner blocks that assign it */
static void check_let(struct sema *s, struct node *n)
{
	const char *name = n->let.var->ident.name;
	struct type *t = n->let.type_name ? let_type(s, n->let.type_name) : NULL;
	struct type *vt = n->let.value ? sema_expr(s, n->let.value) : NULL;
	struct sema_var *old = find_var(s, name);
	if (old) {
		sema_error(s, n->let.var->span, "'%s' is already a variable here: let declares a new one",
			   name);
		sema_note(s, old->decl->span, "'%s' first declared or assigned here", name);
		return;
	}
	if (vt && (vt->kind == TY_VOID || vt->kind == TY_CTX || vt->kind == TY_AGG)) {
		sema_error(s, n->let.value->span, "cannot assign %s to a variable", tname(vt));
		vt = &type_none;
	}
	if (t && vt && t->kind != TY_NONE && vt->kind != TY_NONE && !let_assignable(t, vt)) {
		sema_error(s, n->let.value->span, "cannot assign %s to '%s', declared %s", tname(vt),
			   name, tname(t));
		vt = &type_none;
	}
	struct sema_var *v = arena_alloc(s->arena, sizeof(*v));
	v->name = name;
	v->type = t ? t : vt ? vt : &type_none;
	v->fixed = t != NULL;
	v->untyped = !t && !vt;
	/* as assign_var: the type the previous walk ended with */
	struct sema_var *prev = n->let.var->sym;
	if (!t && vt && prev && prev->walk == s->walk - 1 && vt->kind != TY_NONE) {
		struct type *u = type_unify(s->arena, prev->type, vt);
		if (u)
			v->type = u;
	}
	if (v->untyped && prev && prev->walk == s->walk - 1 && prev->type->kind != TY_NONE)
		v->prev_type = prev->type;
	v->walk = s->walk;
	v->decl = n->let.var;
	v->depth = s->depth;
	v->next = s->vars;
	s->vars = v;
	n->let.var->sym = v;
	n->let.var->type = v->type;
}

static void check_unroll(struct sema *s, struct node *n)
{
	int64_t k;
	sema_expr(s, n->loop.cond);
	if (!sema_const_int(s, n->loop.cond, &k) || k < 1 || k > SEMA_MAX_UNROLL)
		sema_error(s, n->loop.cond->span, "unroll needs a constant count from 1 to %d",
			   SEMA_MAX_UNROLL);
	check_block(s, n->loop.body);
}

/* The type of $kv in for ($kv : @m): (key, value), the key and value in
 * their storage forms (several keys are a tuple), an aggregation's value
 * its total as a read in a probe gives it; NULL after an error. */
static struct type *for_map_type(struct sema *s, struct node *n)
{
	struct node *mn = n->for_.map;
	if (mn->map.keys) {
		sema_error(s, mn->span, "a for loop iterates over a whole map: write %s without keys",
			   mn->map.name);
		return NULL;
	}
	struct sema_map *m = get_map(s, mn);
	mn->sym = m;
	if (!m->value) {
		if (!s->quiet)
			sema_error(s, mn->span, "map %s is iterated over but never assigned", m->name);
		return NULL;
	}
	if (!m->key) {
		sema_error(s, mn->span,
			   "%s has no keys: a for loop iterates over the elements of a map with keys "
			   "(@m[k] = v)", m->name);
		return NULL;
	}
	struct type *elems[2] = { m->key, m->value };
	if (m->value->kind == TY_AGG) {
		switch (m->value->agg) {
		case PD_AGG_COUNT: elems[1] = &type_u64; break;
		case PD_AGG_SUM:
		case PD_AGG_MIN:
		case PD_AGG_MAX:
		case PD_AGG_AVG: elems[1] = &type_s64; break;
		default:
			sema_error(s, mn->span,
				   "%s holds %s(); a for loop reads only maps of values, count(), sum(), "
				   "min(), max() and avg()", m->name, tname(m->value));
			return NULL;
		}
	}
	return type_tuple(s->arena, elems, 2);
}

/* for ($kv : @m): codegen.c, cg_for_map (bpf_for_each_map_elem) */
static void check_for_map(struct sema *s, struct node *n)
{
	struct type *t = for_map_type(s, n);
	if (t && s->opts.will_attach && !s->quiet && !ki_has(s->ki, KI_FOR_EACH)) {
		sema_error(s, n->span, "for ($kv : @map) needs bpf_for_each_map_elem (Linux 5.13), "
				       "which this kernel lacks: %s", ki_reason(s->ki, KI_FOR_EACH));
		sema_hint(s, "print(@map) prints every element from user space");
	}
	scope_push(s);
	if (find_var(s, n->for_.var->ident.name)) {
		sema_error(s, n->for_.var->span,
			   "'%s' is already a variable here: a loop variable needs a new name",
			   n->for_.var->ident.name);
		t = NULL;
	}
	if (t) {
		struct sema_var *v = arena_alloc(s->arena, sizeof(*v));
		v->name = n->for_.var->ident.name;
		v->type = t;
		v->decl = n->for_.var;
		v->depth = s->depth;
		v->walk = s->walk;
		v->next = s->vars;
		s->vars = v;
		n->for_.var->sym = v;
		n->for_.var->type = t;
	}
	if (s->map_loops == SEMA_MAX_MAP_LOOPS)
		sema_error(s, n->span, "for loops over maps nest at most %d deep",
			   SEMA_MAX_MAP_LOOPS);
	int saved = s->loop_depth, saved_scope = s->map_loop_scope;
	s->loop_depth = 1;
	s->map_loops++;
	s->map_loop_scope = s->depth;
	check_block(s, n->for_.body);
	s->map_loops--;
	s->map_loop_scope = saved_scope;
	s->loop_depth = saved;
	scope_pop(s);
}

/* for ($i : lo..hi): lo inclusive, hi exclusive, both evaluated once;
 * $i is an int64 of the loop's scope. */
static void check_for(struct sema *s, struct node *n)
{
	if (n->for_.map) {
		check_for_map(s, n);
		return;
	}
	struct node *b[2] = { n->for_.lo, n->for_.hi };
	bool ok = true;
	for (int i = 0; i < 2; i++) {
		struct type *t = sema_expr(s, b[i]);
		if (t->kind != TY_NONE && t->kind != TY_INT) {
			sema_error(s, b[i]->span, "a range's bounds must be integers, not %s",
				   tname(t));
			ok = false;
		}
	}
	int64_t lo, hi;
	if (ok && sema_const_int(s, b[0], &lo) && sema_const_int(s, b[1], &hi) && hi > lo &&
	    (uint64_t)hi - (uint64_t)lo > SEMA_MAX_RANGE) {
		sema_error(s, n->span, "a range loop runs at most %d times, this one %llu",
			   SEMA_MAX_RANGE, (unsigned long long)((uint64_t)hi - (uint64_t)lo));
		ok = false;
	}
	scope_push(s);
	if (ok && !find_var(s, n->for_.var->ident.name)) {
		struct node fake = { .kind = N_ASSIGN, .span = n->for_.var->span };
		fake.assign.target = n->for_.var;
		fake.assign.value = n->for_.lo;
		assign_var(s, &fake, &type_s64);
	} else if (ok) {
		sema_error(s, n->for_.var->span,
			   "'%s' is already a variable here: a loop variable needs a new name",
			   n->for_.var->ident.name);
	}
	s->loop_depth++;
	check_block(s, n->for_.body);
	s->loop_depth--;
	scope_pop(s);
}

static void check_stmt(struct sema *s, struct node *n)
{
	switch (n->kind) {
	case N_EXPR_STMT:
		check_expr_stmt(s, n);
		break;
	case N_ASSIGN:
		check_assign(s, n);
		break;
	case N_BLOCK:
		check_block(s, n);
		break;
	case N_IF:
		check_cond(s, n->if_.cond);
		check_block(s, n->if_.then);
		if (n->if_.els)
			n->if_.els->kind == N_IF ? check_stmt(s, n->if_.els) : check_block(s, n->if_.els);
		break;
	case N_UNROLL:
		check_unroll(s, n);
		break;
	case N_WHILE:
		check_cond(s, n->loop.cond);
		s->loop_depth++;
		check_block(s, n->loop.body);
		s->loop_depth--;
		break;
	case N_FOR:
		check_for(s, n);
		break;
	case N_LET:
		check_let(s, n);
		break;
	case N_RETURN:
		if (n->stmt.expr)
			sema_error(s, n->stmt.expr->span, "return in a probe takes no value");
		break;
	case N_BREAK:
	case N_CONTINUE:
		if (!s->loop_depth)
			sema_error(s, n->span, "'%s' outside of a loop",
				   n->kind == N_BREAK ? "break" : "continue");
		break;
	default:
		sema_error(s, n->span, "%s is not a statement", ast_kind_name(n->kind));
	}
}

static void walk_body(struct sema *s, struct sema_probe *sp)
{
	struct node *p = sp->probe;
	s->walk++;
	s->vars = NULL;
	s->dead_vars = NULL;
	s->depth = 0;
	s->loop_depth = 0;
	s->map_loops = 0;
	s->var_widened = false;
	if (p->probe.pred)
		check_cond(s, p->probe.pred);
	check_block(s, p->probe.body);
}

/* Types one probe body. A variable assigned a larger string or tuple later
 * than its first assignment ($v = ("a", 1); ...; $v = ("abcdef", 2)) has
 * the larger type only from there on; the body is then walked again,
 * quietly first, so that every use of the variable has its final type. */
void sema_type_probe(struct sema *s, struct sema_probe *sp)
{
	s->cur = sp;
	bool quiet = s->quiet;
	/* the reporting walk reports a map's uses in their order: the uses
	 * the quiet walks mark are undone before it (map_check_key saves a
	 * map's marks the first time a walk changes them; a walk over every
	 * map per probe was probes x maps) */
	static unsigned save_walks;
	s->save_walk = quiet ? 0 : ++save_walks;
	s->saved_maps = NULL;
	s->quiet = true;
	walk_body(s, sp);
	for (int i = 0; i < 8 && s->var_widened; i++)
		walk_body(s, sp); /* each walk starts from the types the last ended with */
	s->quiet = quiet;
	s->save_walk = 0;
	if (!quiet) {
		for (struct sema_map *m = s->saved_maps; m; m = m->saved_next) {
			m->has_key_use = m->saved_key_use;
			m->has_scalar_use = m->saved_scalar_use;
		}
		s->saved_maps = NULL;
		walk_body(s, sp); /* the reporting walk, with the final types */
	}
	s->cur = NULL;
}

/* Types each probe body once per distinct context: once per program group
 * (expansions in one group have the same `args` or none); a group of
 * chained blocks (probes.c, chain_crowded) has one body per block. */
static void walk_program(struct sema *s)
{
	int last_group = -1;
	const struct node *last_probe = NULL;
	for (struct sema_probe *sp = s->probes; sp; sp = sp->next) {
		if (sp->group == last_group && sp->probe == last_probe)
			continue;
		last_group = sp->group;
		last_probe = sp->probe;
		sema_type_probe(s, sp);
	}
}

/* ---- struct declarations in scripts ----
 *
 * Each N_STRUCT_DECL gets a TY_RECORD (its node's type) laid out with C
 * rules: every member at the next multiple of its alignment (integers and
 * pointers: their size; arrays: their element's; records: their largest
 * member's), the whole rounded up to the record's alignment; a union's
 * members all at 0. Records are laid out on first use, so members may name
 * structs declared later; node->sym marks a record being laid out
 * (LAYING_OUT), which a by-value member of itself would need. A script
 * struct shadows a kernel (BTF) struct of the same name. */
#define LAYING_OUT ((void *)1)
#define LAID_OUT   ((void *)2)

static struct node *script_struct(struct sema *s, const char *name)
{
	for (struct node *st = s->program ? s->program->program.structs : NULL; st; st = st->next)
		if (!strcmp(st->struct_decl.name, name))
			return st;
	return NULL;
}

static bool layout_struct(struct sema *s, struct node *st, struct span use);

/* C alignment of a member type. */
static uint32_t c_align(const struct type *t)
{
	switch (t->kind) {
	case TY_INT:
		return t->size;
	case TY_ARRAY:
		return c_align(t->elem);
	case TY_RECORD: {
		uint32_t a = 1;
		for (uint32_t i = 0; i < t->nfields; i++) {
			uint32_t fa = c_align(t->fields[i].type);
			if (fa > a)
				a = fa;
		}
		return a;
	}
	case TY_STR:
		return 1;
	default:
		return 8;
	}
}

/* A C integer type written in words: "unsigned long long", "const char",
 * "u32". bits 0 if it is not one. */
static int c_int_words(const char *name, bool *sgn, bool *is_char)
{
	static const struct {
		const char *name;
		int bits;
		bool sgn;
	} named[] = {
		{ "int8", 8, true },	   { "uint8", 8, false },     { "int16", 16, true },
		{ "uint16", 16, false },   { "int32", 32, true },     { "uint32", 32, false },
		{ "int64", 64, true },	   { "uint64", 64, false },   { "u8", 8, false },
		{ "u16", 16, false },	   { "u32", 32, false },      { "u64", 64, false },
		{ "s8", 8, true },	   { "s16", 16, true },	      { "s32", 32, true },
		{ "s64", 64, true },	   { "bool", 8, false },      { "_Bool", 8, false },
		{ "__u8", 8, false },	   { "__u16", 16, false },    { "__u32", 32, false },
		{ "__u64", 64, false },	   { "__s8", 8, true },	      { "__s16", 16, true },
		{ "__s32", 32, true },	   { "__s64", 64, true },     { "size_t", 64, false },
		{ "ssize_t", 64, true },   { "pid_t", 32, true },     { "uid_t", 32, false },
		{ "gid_t", 32, false },	   { "uint8_t", 8, false },   { "uint16_t", 16, false },
		{ "uint32_t", 32, false }, { "uint64_t", 64, false }, { "int8_t", 8, true },
		{ "int16_t", 16, true },   { "int32_t", 32, true },   { "int64_t", 64, true },
	};
	int nlong = 0, bits = 0, n = 0;
	bool uns = false, has_sign = false, has_int = false;
	*is_char = false;
	*sgn = true;
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", name);
	for (char *save = NULL, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (!strcmp(w, "const") || !strcmp(w, "volatile"))
			continue;
		n++;
		if (!strcmp(w, "unsigned"))
			uns = has_sign = true;
		else if (!strcmp(w, "signed"))
			has_sign = true;
		else if (!strcmp(w, "char"))
			bits = 8, *is_char = true;
		else if (!strcmp(w, "short"))
			bits = 16;
		else if (!strcmp(w, "long"))
			nlong++;
		else if (!strcmp(w, "int"))
			has_int = true;
		else {
			if (n > 1 || strtok_r(NULL, " ", &save))
				return 0;
			for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
				if (!strcmp(named[i].name, w)) {
					*sgn = named[i].sgn;
					return named[i].bits;
				}
			return 0;
		}
	}
	if (!n)
		return 0;
	if (nlong)
		bits = 64;
	else if (!bits && (has_int || has_sign))
		bits = 32;
	if (!bits)
		return 0;
	*sgn = !uns;
	return bits;
}

/* A C type spelled by libclang ("unsigned int", "char[16]", "struct in6_addr",
 * "const char *") as a type; NULL for spellings not supported (function
 * pointers, typedef names other than integer ones, multi-dimensional
 * arrays). */
static struct type *header_record(struct sema *s, const char *name, int depth);

static struct type *header_ctype(struct sema *s, const char *spell, int depth)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", spell);
	size_t n = strlen(buf);
	while (n && buf[n - 1] == ' ')
		buf[--n] = 0;
	if (n && buf[n - 1] == ']') {
		char *lb = strrchr(buf, '[');
		if (!lb || lb == buf)
			return NULL;
		unsigned long len = strtoul(lb + 1, NULL, 10);
		*lb = 0;
		if (strchr(buf, '[') || !len || len > 4096)
			return NULL;
		bool sgn, is_char;
		if (c_int_words(buf, &sgn, &is_char) == 8 && is_char)
			return type_str(s->arena, (uint32_t)len);
		struct type *e = header_ctype(s, buf, depth);
		return e ? type_array(s->arena, e, (uint32_t)len) : NULL;
	}
	if (n && buf[n - 1] == '*') {
		if (strchr(buf, '('))
			return type_ptr(s->arena, NULL, false);
		buf[--n] = 0;
		struct type *e = header_ctype(s, buf, depth + 1);
		return type_ptr(s->arena, e, false);
	}
	char *w = buf;
	while (!strncmp(w, "const ", 6) || !strncmp(w, "volatile ", 9))
		w += w[0] == 'c' ? 6 : 9;
	if (!strncmp(w, "struct ", 7) || !strncmp(w, "union ", 6)) {
		const char *name = w + (w[0] == 's' ? 7 : 6);
		struct node *st = script_struct(s, name);
		if (st && st->type)
			return st->type;
		return depth > 8 ? NULL : header_record(s, name, depth + 1);
	}
	bool sgn, is_char;
	int bits = c_int_words(w, &sgn, &is_char);
	return bits ? type_int(bits, sgn) : NULL;
}

/* struct NAME from #included headers, converted once (named members of
 * supported types; others are left out, so naming them is "no field") */
static struct type *header_record(struct sema *s, const char *name, int depth)
{
	const struct hdr_struct *hs = s->opts.hdr_struct ? s->opts.hdr_struct(name) : NULL;
	if (!hs)
		return NULL;
	for (struct hdr_rec *r = s->hdr_recs; r; r = r->next)
		if (r->hs == hs)
			return r->t;
	struct hdr_rec *r = arena_alloc(s->arena, sizeof(*r));
	struct type *t = arena_alloc(s->arena, sizeof(*t));
	t->kind = TY_RECORD;
	t->align = 8;
	t->name = arena_strdup(s->arena, hs->name);
	t->is_union = hs->is_union;
	t->size = (uint32_t)hs->size;
	t->fields_loaded = true;
	r->hs = hs;
	r->t = t;
	r->next = s->hdr_recs;
	s->hdr_recs = r;
	t->fields =
		arena_alloc(s->arena, (hs->nfields ? (size_t)hs->nfields : 1) * sizeof(*t->fields));
	for (int i = 0; i < hs->nfields; i++) {
		const struct hdr_field *f = &hs->fields[i];
		if (!f->name || !*f->name)
			continue;
		/* pointers to records stay shells until needed: depth + 1 */
		struct type *ft = header_ctype(s, f->type, depth);
		/* a typedef name (in_addr_t, sa_family_t): the spelling does not
		 * say what it stands for; one of integer size is read as an
		 * unsigned integer of that size */
		if (!ft && !strpbrk(f->type, "*[(") && !strstr(f->type, "struct ") &&
		    !strstr(f->type, "union ") &&
		    (f->size == 1 || f->size == 2 || f->size == 4 || f->size == 8))
			ft = type_int((int)f->size * 8, false);
		if (!ft || (f->bit_size && ft->kind != TY_INT))
			continue;
		struct type_field *tf = &t->fields[t->nfields++];
		tf->name = arena_strdup(s->arena, f->name);
		tf->type = ft;
		tf->offset = (uint32_t)f->offset;
		if (f->bit_size) {
			tf->bit_offset = (uint8_t)f->bit_offset;
			tf->bit_size = (uint8_t)f->bit_size;
		}
	}
	return t;
}

/* The type of a member of a script struct; NULL after an error. */
static struct type *member_type(struct sema *s, struct node *fd)
{
	struct node *tn = fd->field_decl.type_name;
	struct type *t = NULL;
	bool sgn, is_char;
	if (tn->type_name.is_struct) {
		struct node *st = script_struct(s, tn->type_name.name);
		if (st) {
			if (!tn->type_name.ptr_depth && !layout_struct(s, st, tn->span))
				return NULL;
			t = st->type;
		} else if ((t = header_record(s, tn->type_name.name, 0))) {
			/* a struct of an #included header */
		} else {
			t = kernel_type(s, tn);
			if (!t)
				return NULL;
			if (!tn->type_name.ptr_depth && t->kind == TY_RECORD &&
			    !sema_record_complete(s, tn->span, t))
				return NULL;
		}
	} else if (!strcmp(tn->type_name.name, "void") && tn->type_name.ptr_depth) {
		t = NULL;
	} else {
		int bits = c_int_words(tn->type_name.name, &sgn, &is_char);
		if (!bits) {
			sema_error(s, tn->span, "unknown type '%s' for field '%s'",
				   tn->type_name.name, fd->field_decl.name);
			return NULL;
		}
		t = type_int(bits, sgn);
		if (is_char && !tn->type_name.ptr_depth && tn->type_name.array_len > 0 &&
		    tn->type_name.array_len <= 4096)
			return type_str(s->arena, (uint32_t)tn->type_name.array_len);
	}
	for (int i = 0; i < tn->type_name.ptr_depth; i++)
		t = type_ptr(s->arena, t, false);
	if (tn->type_name.array_len >= 0) {
		if (tn->type_name.array_len == 0 || tn->type_name.array_len > 4096) {
			sema_error(s, tn->span, "array length must be 1 to 4096");
			return NULL;
		}
		if ((uint64_t)t->size * (uint64_t)tn->type_name.array_len > (1u << 24)) {
			sema_error(s, tn->span, "field '%s' is larger than 16 MiB", fd->field_decl.name);
			return NULL;
		}
		t = type_array(s->arena, t, (uint32_t)tn->type_name.array_len);
	}
	return t;
}

static bool layout_struct(struct sema *s, struct node *st, struct span use)
{
	struct type *rec = st->type;
	if (st->sym == LAID_OUT)
		return rec->nfields || !st->struct_decl.fields;
	if (st->sym == LAYING_OUT) {
		sema_error(s, use,
			   "struct %s contains itself: a member of its own type must be a "
			   "pointer ('struct %s *')",
			   rec->name, rec->name);
		return false;
	}
	st->sym = LAYING_OUT;
	uint32_t n = 0;
	for (struct node *f = st->struct_decl.fields; f; f = f->next)
		n++;
	struct type_field *fields = arena_alloc(s->arena, (n ? n : 1) * sizeof(*fields));
	uint32_t align = 1, size = 0, i = 0;
	uint64_t boff = 0; /* next free bit */
	bool ok = true;
	for (struct node *f = st->struct_decl.fields; f; f = f->next) {
		uint32_t off;
		for (uint32_t j = 0; j < i; j++)
			if (!strcmp(fields[j].name, f->field_decl.name)) {
				sema_error(s, f->span, "duplicate field '%s' in struct %s",
					   f->field_decl.name, rec->name);
				ok = false;
			}
		struct type *t = member_type(s, f);
		if (!t) {
			ok = false;
			continue;
		}
		if (boff / 8 + t->size > (1u << 24)) {
			sema_error(s, f->span, "struct %s is larger than 16 MiB", rec->name);
			ok = false;
			break;
		}
		uint32_t a = c_align(t);
		if (a > align)
			align = a;
		if (rec->is_union)
			boff = 0;
		if (f->field_decl.bits) {
			/* System V: a bit-field goes at the next free bit unless it
			 * would cross a unit of its type's size and alignment */
			uint32_t w = (uint32_t)f->field_decl.bits - 1, unit = t->size * 8;
			if (t->kind != TY_INT || w == 0 || w > unit) {
				sema_error(s, f->span,
					   "bit-field '%s' must be an integer of 1 to %u bits",
					   f->field_decl.name, t->kind == TY_INT ? unit : 64);
				ok = false;
				continue;
			}
			if (boff / unit != (boff + w - 1) / unit)
				boff = (boff + unit - 1) / unit * unit;
			off = (uint32_t)(boff / 8);
			fields[i] = (struct type_field){ .name = f->field_decl.name,
							 .type = t,
							 .offset = off,
							 .bit_offset = (uint8_t)(boff % 8),
							 .bit_size = (uint8_t)w };
			boff += w;
		} else {
			off = (uint32_t)((boff + 7) / 8);
			off = (off + a - 1) / a * a;
			fields[i] = (struct type_field){ .name = f->field_decl.name,
							 .type = t,
							 .offset = off };
			boff = (uint64_t)(off + t->size) * 8;
		}
		i++;
		f->type = t;
		f->field_decl.offset = off;
		f->field_decl.bit_offset = fields[i - 1].bit_offset;
		if ((boff + 7) / 8 > size)
			size = (uint32_t)((boff + 7) / 8);
	}
	st->sym = LAID_OUT;
	if (!ok)
		return false;
	rec->fields = fields;
	rec->nfields = i;
	rec->size = (size + align - 1) / align * align;
	return true;
}

static void check_structs(struct sema *s)
{
	for (struct node *st = s->program->program.structs; st; st = st->next) {
		struct node *prev = script_struct(s, st->struct_decl.name);
		if (prev != st) {
			sema_error(s, st->span, "struct %s is declared twice",
				   st->struct_decl.name);
			continue;
		}
		struct type *t = arena_alloc(s->arena, sizeof(*t));
		t->kind = TY_RECORD;
		t->align = 8;
		t->name = st->struct_decl.name;
		t->is_union = st->struct_decl.is_union;
		t->fields_loaded = true; /* laid out below; never looked up in BTF */
		st->type = t;
	}
	for (struct node *st = s->program->program.structs; st; st = st->next)
		if (st->type && !st->sym)
			layout_struct(s, st, st->span);
}

/* let @m = hash(N); and its kin (bpftrace >= 0.22): the map's BPF type
 * and size. Per-CPU kinds hold aggregations, the others plain values
 * (check_map_decls, once the values are known). */
static const struct {
	const char *name;
	uint32_t type;
	bool percpu;
} map_kinds[] = {
	{ "hash", BPF_MAP_TYPE_HASH, false },
	{ "lruhash", BPF_MAP_TYPE_LRU_HASH, false },
	{ "percpuhash", BPF_MAP_TYPE_PERCPU_HASH, true },
	{ "percpulruhash", BPF_MAP_TYPE_LRU_PERCPU_HASH, true },
};

static void declare_maps(struct sema *s)
{
	for (struct node *n = s->program->program.map_decls; n; n = n->next) {
		struct node *call = n->assign.value;
		int kind = -1;
		for (size_t i = 0; i < sizeof(map_kinds) / sizeof(map_kinds[0]); i++)
			if (!strcmp(call->call.name, map_kinds[i].name))
				kind = (int)i;
		if (kind < 0) {
			sema_error(s, call->span, "unknown map kind '%s': expected hash(N), lruhash(N), "
						  "percpuhash(N) or percpulruhash(N)", call->call.name);
			continue;
		}
		int64_t size;
		if (call->call.nargs != 1 || !sema_const_int(s, call->call.args, &size) || size < 1 ||
		    size > (1 << 24)) {
			sema_error(s, call->span, "%s() takes the number of entries, a constant from 1 "
						  "to %d", call->call.name, 1 << 24);
			continue;
		}
		struct sema_map *m = get_map(s, n->assign.target);
		if (m->decl) {
			sema_error(s, n->assign.target->span, "map %s is declared twice", m->name);
			sema_note(s, m->decl->span, "%s first declared here", m->name);
			continue;
		}
		m->decl = n;
		m->decl_type = map_kinds[kind].type;
		m->decl_size = (uint32_t)size;
	}
}

static void check_map_decls(struct sema *s)
{
	for (struct sema_map *m = s->maps; m; m = m->next) {
		if (!m->decl)
			continue;
		struct node *call = m->decl->assign.value;
		bool percpu = m->decl_type == BPF_MAP_TYPE_PERCPU_HASH ||
			      m->decl_type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
		if (!m->value) {
			sema_error(s, m->decl->span, "map %s is declared but never assigned", m->name);
		} else if (percpu && m->value->kind != TY_AGG) {
			sema_error(s, call->span, "%s() keeps a value per CPU, for aggregations "
						  "(count(), sum(), hist(), ...); %s holds %s: declare it "
						  "hash(N) or lruhash(N)", call->call.name, m->name,
				   tname(m->value));
		} else if (!percpu && m->value->kind == TY_AGG) {
			sema_error(s, call->span, "%s holds %s(), an aggregation kept per CPU: declare it "
						  "percpuhash(N) or percpulruhash(N)", m->name,
				   tname(m->value));
		}
	}
}

int sema_check(struct sema *s, struct node *program, struct kernel_info *ki, struct diag *d,
	       struct arena *a, const struct sema_opts *opts)
{
	memset(s, 0, sizeof(*s));
	s->arena = a;
	s->diag = d;
	s->ki = ki;
	s->opts = *opts;
	if (!s->opts.strlen)
		s->opts.strlen = SEMA_DEFAULT_STRLEN;
	s->program = program;
	if (macro_expand(s))
		return -1;
	check_structs(s);
	declare_maps(s);
	probes_resolve(s);
	if (diag_has_errors(d))
		return -1;
	if (!s->probes) {
		diag_error_nospan(d, "the program has no probes");
		return -1;
	}
	s->quiet = true;
	walk_program(s);
	for (struct sema_map *m = s->maps; m; m = m->next)
		m->has_key_use = m->has_scalar_use = false; /* re-learned while reporting */
	s->quiet = false;
	walk_program(s);
	if (!diag_has_errors(d))
		check_map_decls(s);
	if (!diag_has_errors(d))
		check_map_sizes(s);
	return diag_has_errors(d) ? -1 : 0;
}
