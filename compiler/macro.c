/* macro.c: bpftrace's macros (>= 0.22), expanded at their call sites.
 *
 *   macro add_one(x) { x + 1 }
 *   macro bump($a, @b) { $a += 1; @b += 1; }
 *
 * A call `name(args)` (or a bare `name` for a macro without parameters)
 * is replaced, before any checking, by a copy of the body in which
 *  - a `$a` parameter is the caller's variable (the argument must be one:
 *    the body may change it),
 *  - an `@b` parameter is the caller's map (the argument must be a map
 *    without keys),
 *  - an `x` parameter is the argument expression, copied at every use,
 *  - every other variable is the body's own: renamed apart per expansion,
 *    so it neither sees nor changes the caller's variables (hygiene),
 *  - a map that is not a parameter is an error.
 * As a statement the expansion is the body's block; as a value, the body
 * must end in an expression without ';' and becomes an N_BLOCK_EXPR (its
 * statements, then that value). Macros may call macros; recursion is
 * stopped at MACRO_MAX_DEPTH.
 */
#include <string.h>
#include <sys/types.h>

#include "compiler/sema.h"

#define MACRO_MAX_DEPTH 16

struct expansion {
	struct sema *s;
	const struct node *macro;
	struct node *args[32];
	int id;	    /* this expansion's number, for renaming */
	int depth;
};

static struct node *find_macro(struct sema *s, const char *name)
{
	for (struct node *m = s->program->program.macros; m; m = m->next)
		if (!strcmp(m->macro.name, name))
			return m;
	return NULL;
}

/* The parameter of x's macro named `name` of this kind, or -1 */
static int param_index(const struct expansion *x, enum node_kind kind, const char *name)
{
	int i = 0;
	if (!x->macro)
		return -1;
	for (const struct node *p = x->macro->macro.params; p; p = p->next, i++) {
		const char *pn = p->kind == N_MAP ? p->map.name : p->ident.name;
		if (p->kind == kind && !strcmp(pn, name))
			return i;
	}
	return -1;
}

static struct node *clone(struct expansion *x, struct node *n);

static void clone_list(struct expansion *x, struct node **head)
{
	for (struct node **pp = head; *pp; pp = &(*pp)->next) {
		struct node *next = (*pp)->next;
		*pp = clone(x, *pp);
		(*pp)->next = next;
	}
}

/* A copy of n with the expansion's substitutions (x NULL: a plain copy) */
static struct node *clone(struct expansion *x, struct node *n)
{
	if (!n)
		return NULL;
	struct arena *a = x->s->arena;
	int pi;
	if (n->kind == N_IDENT && (pi = param_index(x, N_IDENT, n->ident.name)) >= 0) {
		/* the argument is the caller's code: copied without renaming */
		struct expansion caller = { .s = x->s };
		return clone(&caller, x->args[pi]);
	}
	struct node *c = arena_alloc(a, sizeof(*c));
	*c = *n;
	c->next = NULL;
	c->type = NULL;
	c->sym = NULL;
	if (x->macro && n->kind == N_VAR) {
		pi = param_index(x, N_VAR, n->ident.name);
		c->ident.name = pi >= 0 ? x->args[pi]->ident.name
					: arena_printf(a, "%s'%d", n->ident.name, x->id);
	}
	if (x->macro && n->kind == N_MAP) {
		pi = param_index(x, N_MAP, n->map.name);
		if (pi >= 0) {
			c->map.name = x->args[pi]->map.name;
		} else {
			sema_error(x->s, n->span, "macro %s uses map %s, which is not one of its "
						  "parameters: pass it in (macro %s(%s))",
				   x->macro->macro.name, n->map.name, x->macro->macro.name,
				   n->map.name);
		}
	}
	switch (n->kind) {
	case N_BLOCK: clone_list(x, &c->block.stmts); break;
	case N_EXPR_STMT:
	case N_RETURN: c->stmt.expr = clone(x, n->stmt.expr); break;
	case N_ASSIGN:
		c->assign.target = clone(x, n->assign.target);
		c->assign.value = clone(x, n->assign.value);
		break;
	case N_IF:
		c->if_.cond = clone(x, n->if_.cond);
		c->if_.then = clone(x, n->if_.then);
		c->if_.els = clone(x, n->if_.els);
		break;
	case N_UNROLL:
	case N_WHILE:
		c->loop.cond = clone(x, n->loop.cond);
		c->loop.body = clone(x, n->loop.body);
		break;
	case N_FOR:
		c->for_.var = clone(x, n->for_.var);
		c->for_.map = clone(x, n->for_.map);
		c->for_.lo = clone(x, n->for_.lo);
		c->for_.hi = clone(x, n->for_.hi);
		c->for_.body = clone(x, n->for_.body);
		break;
	case N_LET:
		c->let.var = clone(x, n->let.var);
		c->let.type_name = clone(x, n->let.type_name);
		c->let.value = clone(x, n->let.value);
		break;
	case N_MAP: clone_list(x, &c->map.keys); break;
	case N_BINOP:
		c->binop.lhs = clone(x, n->binop.lhs);
		c->binop.rhs = clone(x, n->binop.rhs);
		break;
	case N_UNOP: c->unop.operand = clone(x, n->unop.operand); break;
	case N_INCDEC: c->incdec.operand = clone(x, n->incdec.operand); break;
	case N_TERNARY:
		c->ternary.cond = clone(x, n->ternary.cond);
		c->ternary.then = clone(x, n->ternary.then);
		c->ternary.els = clone(x, n->ternary.els);
		break;
	case N_CALL: clone_list(x, &c->call.args); break;
	case N_FIELD: c->field.base = clone(x, n->field.base); break;
	case N_INDEX:
		c->index.base = clone(x, n->index.base);
		c->index.index = clone(x, n->index.index);
		break;
	case N_TUPLE: clone_list(x, &c->tuple.elems); break;
	case N_CAST:
		c->cast.type_name = clone(x, n->cast.type_name);
		c->cast.expr = clone(x, n->cast.expr);
		break;
	case N_SIZEOF:
		c->size_of.type_name = clone(x, n->size_of.type_name);
		c->size_of.expr = clone(x, n->size_of.expr);
		break;
	case N_OFFSETOF: c->offset_of.type_name = clone(x, n->offset_of.type_name); break;
	case N_BLOCK_EXPR:
		clone_list(x, &c->block_expr.stmts);
		c->block_expr.value = clone(x, n->block_expr.value);
		break;
	default: break;
	}
	return c;
}

static int expansions;

static void expand_slot(struct sema *s, struct node **slot, bool stmt, int depth);

static void expand_list(struct sema *s, struct node **head, bool stmts, int depth)
{
	for (struct node **pp = head; *pp; pp = &(*pp)->next)
		expand_slot(s, pp, stmts, depth);
}

/* The macro a call or bare identifier names, or NULL */
static struct node *macro_of(struct sema *s, const struct node *n)
{
	if (n->kind == N_CALL)
		return find_macro(s, n->call.name);
	if (n->kind == N_IDENT) {
		struct node *m = find_macro(s, n->ident.name);
		return m && !m->macro.nparams ? m : NULL;
	}
	return NULL;
}

/* The expansion of call n of macro m: its body's block, or NULL after an
 * error. */
static struct node *expand_call(struct sema *s, struct node *n, struct node *m, int depth)
{
	struct expansion x = { .s = s, .macro = m, .id = ++expansions, .depth = depth };
	struct node *args = n->kind == N_CALL ? n->call.args : NULL;
	int nargs = n->kind == N_CALL ? n->call.nargs : 0;
	if (depth >= MACRO_MAX_DEPTH) {
		sema_error(s, n->span, "macro %s expands more than %d deep: is it recursive?",
			   m->macro.name, MACRO_MAX_DEPTH);
		return NULL;
	}
	if (nargs != m->macro.nparams || nargs > 32) {
		sema_error(s, n->span, "macro %s takes %d argument%s, %d given", m->macro.name,
			   m->macro.nparams, m->macro.nparams == 1 ? "" : "s", nargs);
		diag_note(s->diag, m->span, "macro %s defined here", m->macro.name);
		return NULL;
	}
	int i = 0;
	bool bad = false;
	struct node *p = m->macro.params;
	for (struct node *a = args; a; a = a->next, p = p->next, i++) {
		x.args[i] = a;
		if (p->kind == N_VAR && a->kind != N_VAR) {
			sema_error(s, a->span, "macro %s's parameter %s is a variable: pass a "
					       "variable ($name), which the macro may change",
				   m->macro.name, p->ident.name);
			bad = true;
		} else if (p->kind == N_MAP && (a->kind != N_MAP || a->map.keys)) {
			sema_error(s, a->span, "macro %s's parameter %s is a map: pass a map "
					       "without keys (@name)", m->macro.name, p->map.name);
			bad = true;
		}
	}
	if (bad)
		return NULL;
	struct node *body = clone(&x, m->macro.body);
	body->span = n->span;
	expand_list(s, &body->block.stmts, true, depth + 1);
	return body;
}

static void expand_children(struct sema *s, struct node *n, int depth)
{
	switch (n->kind) {
	case N_BLOCK: expand_list(s, &n->block.stmts, true, depth); break;
	case N_EXPR_STMT:
	case N_RETURN:
		if (n->stmt.expr)
			expand_slot(s, &n->stmt.expr, false, depth);
		break;
	case N_ASSIGN:
		expand_slot(s, &n->assign.target, false, depth);
		expand_slot(s, &n->assign.value, false, depth);
		break;
	case N_IF:
		expand_slot(s, &n->if_.cond, false, depth);
		expand_slot(s, &n->if_.then, true, depth);
		if (n->if_.els)
			expand_slot(s, &n->if_.els, true, depth);
		break;
	case N_UNROLL:
	case N_WHILE:
		expand_slot(s, &n->loop.cond, false, depth);
		expand_slot(s, &n->loop.body, true, depth);
		break;
	case N_FOR:
		if (n->for_.lo)
			expand_slot(s, &n->for_.lo, false, depth);
		if (n->for_.hi)
			expand_slot(s, &n->for_.hi, false, depth);
		expand_slot(s, &n->for_.body, true, depth);
		break;
	case N_LET:
		if (n->let.value)
			expand_slot(s, &n->let.value, false, depth);
		break;
	case N_MAP: expand_list(s, &n->map.keys, false, depth); break;
	case N_BINOP:
		expand_slot(s, &n->binop.lhs, false, depth);
		expand_slot(s, &n->binop.rhs, false, depth);
		break;
	case N_UNOP: expand_slot(s, &n->unop.operand, false, depth); break;
	case N_INCDEC: expand_slot(s, &n->incdec.operand, false, depth); break;
	case N_TERNARY:
		expand_slot(s, &n->ternary.cond, false, depth);
		expand_slot(s, &n->ternary.then, false, depth);
		expand_slot(s, &n->ternary.els, false, depth);
		break;
	case N_CALL: expand_list(s, &n->call.args, false, depth); break;
	case N_FIELD: expand_slot(s, &n->field.base, false, depth); break;
	case N_INDEX:
		expand_slot(s, &n->index.base, false, depth);
		expand_slot(s, &n->index.index, false, depth);
		break;
	case N_TUPLE: expand_list(s, &n->tuple.elems, false, depth); break;
	case N_CAST: expand_slot(s, &n->cast.expr, false, depth); break;
	case N_SIZEOF:
		if (n->size_of.expr)
			expand_slot(s, &n->size_of.expr, false, depth);
		break;
	case N_BLOCK_EXPR:
		expand_list(s, &n->block_expr.stmts, true, depth);
		expand_slot(s, &n->block_expr.value, false, depth);
		break;
	default: break;
	}
}

/* Expands the macro calls in *slot (a statement when stmt, else an
 * expression), keeping its place in its list. */
static void expand_slot(struct sema *s, struct node **slot, bool stmt, int depth)
{
	struct node *n = *slot, *next = n->next, *m;
	struct node *call = stmt && n->kind == N_EXPR_STMT ? n->stmt.expr : stmt ? NULL : n;
	if (call && (m = macro_of(s, call))) {
		struct node *body = expand_call(s, call, m, depth);
		if (!body) {
			/* leave a harmless statement or value behind */
			struct node *z = ast_new_int(s->arena, call->span, 0);
			if (stmt)
				n->stmt.expr = z;
			else
				*slot = z, z->next = next;
			return;
		}
		if (stmt) {
			body->next = next;
			*slot = body;
			return;
		}
		if (!body->block.ends_in_value) {
			sema_error(s, call->span, "macro %s has no value: its body does not end in "
						  "an expression without ';'", m->macro.name);
			struct node *z = ast_new_int(s->arena, call->span, 0);
			z->next = next;
			*slot = z;
			return;
		}
		struct node *be = ast_new(s->arena, N_BLOCK_EXPR, call->span);
		struct node **pp = &body->block.stmts;
		while ((*pp)->next)
			pp = &(*pp)->next;
		be->block_expr.value = (*pp)->stmt.expr;
		*pp = NULL;
		be->block_expr.stmts = body->block.stmts;
		be->next = next;
		*slot = be;
		return;
	}
	expand_children(s, n, depth);
}

int macro_expand(struct sema *s)
{
	struct node *prog = s->program;
	for (struct node *m = prog->program.macros; m; m = m->next) {
		for (struct node *o = prog->program.macros; o != m; o = o->next)
			if (!strcmp(o->macro.name, m->macro.name)) {
				sema_error(s, m->span, "macro %s is defined twice", m->macro.name);
				diag_note(s->diag, o->span, "first defined here");
			}
		int i = 0;
		for (struct node *p = m->macro.params; p; p = p->next, i++) {
			const char *pn = p->kind == N_MAP ? p->map.name : p->ident.name;
			int j = 0;
			for (struct node *q = m->macro.params; q != p; q = q->next, j++) {
				const char *qn = q->kind == N_MAP ? q->map.name : q->ident.name;
				if (!strcmp(pn, qn))
					sema_error(s, p->span, "macro %s has two parameters named %s",
						   m->macro.name, pn);
			}
		}
	}
	for (struct node *p = prog->program.probes; p; p = p->next) {
		if (p->probe.pred)
			expand_slot(s, &p->probe.pred, false, 0);
		expand_slot(s, &p->probe.body, true, 0);
	}
	return diag_has_errors(s->diag) ? -1 : 0;
}
