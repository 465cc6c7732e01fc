/* cpp.c: the C preprocessor over the script text, before lexing.
 *
 * In: the script, -I directories, --include files, a header provider.
 * Out: the text the lexer reads and a segment map back to the script
 * (cpp.h). What it does, as C's preprocessor does:
 *   #include <...> / "..."  resolved here (the script's directory for
 *                            "...", then -I in order, then the system
 *                            directories); the header itself goes to the
 *                            provider (libclang), never into the script;
 *   #define, #undef          object-like and function-like macros (with #,
 *                            ##, __VA_ARGS__), expanded everywhere in the
 *                            script but in attach points; a macro is not
 *                            expanded inside its own expansion;
 *   #if #ifdef #ifndef #elif #else #endif   with defined() and C integer
 *                            arithmetic (unsigned when an operand is);
 *   #error, #warning; #pragma and #line are accepted and ignored.
 * BPFTRACE_HAVE_BTF is defined when the kernel has BTF (asked only when a
 * script mentions it). Identifiers that are enum constants of an included
 * header become their value (not after '.' or '->').
 *
 * Directive lines and inactive branches produce no text. Each expansion
 * is written surrounded by spaces, so it cannot paste into its
 * neighbours, and maps as a whole to the invocation's span.
 *
 * Not here: reading headers as text (the provider does, with a real C
 * front end), trigraphs, digraphs, __FILE__/__LINE__.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compiler/cpp.h"

#define CPP_MAX_OUT   (4u << 20) /* bytes of expanded text (and of one expansion) */
#define CPP_MAX_DEPTH 200	 /* nested expansions */
#define CPP_MAX_COND  256	 /* nested #if */
#define CPP_MAX_NAME  256

enum tk { T_EOF, T_NL, T_WS, T_COMMENT, T_IDENT, T_NUM, T_STR, T_VAR, T_PUNCT };

struct tok {
	enum tk kind;
	const char *s;
	uint32_t len;
};

struct tokv {
	struct tok *v;
	size_t n, cap;
};

struct buf {
	char *p;
	size_t len, cap;
};

struct smacro {
	struct cpp_macro m;
	bool undef; /* #undef: hides a header's macro of the same name */
	struct smacro *next;
};

struct hide {
	const char *name;
	const struct hide *up;
	int depth;
};

struct cond {
	struct span sp;
	bool parent_active, active, taken, seen_else;
};

struct cpp {
	const struct source *src;
	const struct cpp_opts *o;
	struct diag *d;
	struct cpp_result *r;
	struct buf out;
	struct smacro *macros;
	char **pool;
	size_t npool, cappool;
	struct buf prelude;
	struct span pending_sp; /* the last #include not parsed yet */
	bool pending, hdr_loaded, hdr_failed;
	struct cond conds[CPP_MAX_COND];
	int ncond;
	int btf; /* -1 unknown */
	bool failed;
	struct span cur; /* the top-level invocation being expanded */
	int depth;	 /* brace depth of the script text so far */
	const char *dir; /* the script's directory */
	char **names;	 /* the script's identifiers, sorted, unique (headers) */
	size_t nnames;
};

static const char *const default_sysdirs[] = { "/usr/local/include",
					       "/usr/include/x86_64-linux-gnu", "/usr/include",
					       NULL };

/* ---- buffers and the string pool ---- */

static bool buf_add(struct cpp *c, struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > CPP_MAX_OUT) {
		if (!c->failed)
			diag_error(c->d, c->cur,
				   "macro expansion is too large (more than %u bytes)",
				   CPP_MAX_OUT);
		c->failed = true;
		return false;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			c->failed = true;
			return false;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return true;
}

static bool buf_str(struct cpp *c, struct buf *b, const char *s)
{
	return buf_add(c, b, s, strlen(s));
}

/* Keeps p alive until the end of the run (tokens point into it). */
static char *pool_keep(struct cpp *c, char *p)
{
	if (!p)
		return NULL;
	if (c->npool == c->cappool) {
		size_t cap = c->cappool ? c->cappool * 2 : 64;
		char **v = realloc(c->pool, cap * sizeof(*v));
		if (!v) {
			free(p);
			c->failed = true;
			return NULL;
		}
		c->pool = v;
		c->cappool = cap;
	}
	c->pool[c->npool++] = p;
	return p;
}

static bool tokv_push(struct cpp *c, struct tokv *v, struct tok t)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 32;
		struct tok *nv = realloc(v->v, cap * sizeof(*nv));
		if (!nv) {
			c->failed = true;
			return false;
		}
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = t;
	return true;
}

/* ---- tokens ---- */

static bool is_ident_start(char ch)
{
	return isalpha((unsigned char)ch) || ch == '_';
}

static bool is_ident_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_';
}

/* The token at s[i] (i < n); returns the index after it. */
static size_t lex1(const char *s, size_t i, size_t n, struct tok *t)
{
	size_t b = i;
	char ch = s[i];

	t->s = s + i;
	if (ch == '\n') {
		t->kind = T_NL, i++;
	} else if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f' ||
		   (ch == '\\' && i + 1 < n && s[i + 1] == '\n')) {
		t->kind = T_WS;
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\v' ||
				 s[i] == '\f' || (s[i] == '\\' && i + 1 < n && s[i + 1] == '\n')))
			i += s[i] == '\\' ? 2 : 1;
	} else if (ch == '/' && i + 1 < n && s[i + 1] == '/') {
		t->kind = T_COMMENT;
		while (i < n && s[i] != '\n')
			i++;
	} else if (ch == '/' && i + 1 < n && s[i + 1] == '*') {
		t->kind = T_COMMENT;
		for (i += 2; i < n && !(s[i] == '*' && i + 1 < n && s[i + 1] == '/'); i++)
			;
		i = i < n ? i + 2 : n;
	} else if (is_ident_start(ch)) {
		t->kind = T_IDENT;
		while (i < n && is_ident_char(s[i]))
			i++;
	} else if (isdigit((unsigned char)ch) ||
		   (ch == '.' && i + 1 < n && isdigit((unsigned char)s[i + 1]))) {
		t->kind = T_NUM;
		for (i++; i < n; i++) {
			if ((s[i] == '+' || s[i] == '-') && strchr("eEpP", s[i - 1]))
				continue;
			if (!is_ident_char(s[i]) && s[i] != '.')
				break;
		}
	} else if (ch == '"' || ch == '\'') {
		t->kind = T_STR;
		for (i++; i < n && s[i] != ch && s[i] != '\n'; i++)
			if (s[i] == '\\' && i + 1 < n && s[i + 1] != '\n')
				i++;
		if (i < n && s[i] == ch)
			i++;
	} else if ((ch == '$' || ch == '@') && i + 1 < n && is_ident_start(s[i + 1])) {
		t->kind = T_VAR;
		for (i++; i < n && is_ident_char(s[i]); i++)
			;
	} else {
		static const char *const two[] = { "##", "->", "<<", ">>", "<=", ">=", "==",
						   "!=", "&&", "||", "++", "--", NULL };
		t->kind = T_PUNCT;
		i++;
		if (ch == '.' && i + 1 < n && s[i] == '.' && s[i + 1] == '.')
			i += 2;
		else
			for (int k = 0; two[k]; k++)
				if (i < n && two[k][0] == ch && two[k][1] == s[i]) {
					i++;
					break;
				}
	}
	t->len = (uint32_t)(i - b);
	return i;
}

static bool tok_is(const struct tok *t, const char *p)
{
	return t->len == strlen(p) && !memcmp(t->s, p, t->len);
}

static bool is_blank(const struct tok *t)
{
	return t->kind == T_WS || t->kind == T_NL || t->kind == T_COMMENT;
}

/* Appends the tokens of s[0, n) to v. */
static bool tokenize(struct cpp *c, const char *s, size_t n, struct tokv *v)
{
	struct tok t;
	for (size_t i = 0; i < n;) {
		i = lex1(s, i, n, &t);
		if (!tokv_push(c, v, t))
			return false;
	}
	return true;
}

/* The script span of a token that points into the script, else cur. */
static struct span tok_span(const struct cpp *c, const struct tok *t)
{
	const char *text = c->src->text;
	if (t->s >= text && t->s + t->len <= text + c->src->len) {
		struct span sp = { 0, (uint32_t)(t->s - text), (uint32_t)(t->s - text + t->len) };
		return sp;
	}
	return c->cur;
}

/* ---- macro table ---- */

static bool has_btf(struct cpp *c)
{
	if (c->btf < 0)
		c->btf = c->o->has_btf && c->o->has_btf();
	return c->btf;
}

static struct smacro *find_script(struct cpp *c, const char *s, size_t n)
{
	for (struct smacro *m = c->macros; m; m = m->next)
		if (strlen(m->m.name) == n && !memcmp(m->m.name, s, n))
			return m;
	return NULL;
}

static const struct cpp_macro *lookup(struct cpp *c, const char *s, size_t n)
{
	static const struct cpp_macro have_btf = { "BPFTRACE_HAVE_BTF", "1", NULL, -1, false };
	struct smacro *sm = find_script(c, s, n);
	char name[CPP_MAX_NAME];

	if (sm)
		return sm->undef ? NULL : &sm->m;
	if (n == 17 && !memcmp(s, "BPFTRACE_HAVE_BTF", 17))
		return has_btf(c) ? &have_btf : NULL;
	if (!c->hdr_loaded || n >= sizeof(name))
		return NULL;
	memcpy(name, s, n);
	name[n] = '\0';
	return c->o->hdr->macro(c->o->hdr->ctx, name);
}

static bool enum_value(struct cpp *c, const struct tok *t, int64_t *v)
{
	char name[CPP_MAX_NAME];
	if (!c->hdr_loaded || !c->o->hdr->enum_value || t->len >= sizeof(name))
		return false;
	memcpy(name, t->s, t->len);
	name[t->len] = '\0';
	return c->o->hdr->enum_value(c->o->hdr->ctx, name, v);
}

static bool is_hidden(const struct hide *h, const char *name)
{
	for (; h; h = h->up)
		if (!strcmp(h->name, name))
			return true;
	return false;
}

/* ---- expansion ---- */

struct arg {
	size_t b, e; /* tokens [b, e) of the invocation */
};

static int expand(struct cpp *c, const struct tok *in, size_t n, const struct hide *hs,
		  struct buf *out);

/* The index of the next non-blank token at or after i, or n. */
static size_t skip_blank(const struct tok *v, size_t i, size_t n)
{
	while (i < n && is_blank(&v[i]))
		i++;
	return i;
}

/* Collects the arguments of an invocation whose '(' is at in[i]. Returns
 * the index of the ')' or 0 when there is none. */
static size_t collect_args(struct cpp *c, const struct tok *in, size_t i, size_t n,
			   struct arg **args, int *nargs)
{
	int depth = 0, cap = 0;
	size_t start = i + 1;

	*args = NULL;
	*nargs = 0;
	for (size_t k = i + 1; k < n; k++) {
		bool close = tok_is(&in[k], ")") && depth == 0;
		if (tok_is(&in[k], "(") || tok_is(&in[k], "["))
			depth++;
		else if ((tok_is(&in[k], ")") || tok_is(&in[k], "]")) && depth > 0)
			depth--;
		if (close || (tok_is(&in[k], ",") && depth == 0)) {
			if (*nargs == cap) {
				cap = cap ? cap * 2 : 4;
				struct arg *a = realloc(*args, (size_t)cap * sizeof(*a));
				if (!a) {
					c->failed = true;
					return 0;
				}
				*args = a;
			}
			(*args)[(*nargs)++] = (struct arg){ start, k };
			start = k + 1;
		}
		if (close)
			return k;
	}
	return 0;
}

/* Appends the spelling of tokens [b, e) with blanks as one space. */
static bool spell(struct cpp *c, const struct tok *in, size_t b, size_t e, struct buf *out)
{
	bool space = false;
	for (size_t k = b; k < e; k++) {
		if (is_blank(&in[k])) {
			space = out->len > 0;
			continue;
		}
		if (space && !buf_add(c, out, " ", 1))
			return false;
		space = false;
		if (!buf_add(c, out, in[k].s, in[k].len))
			return false;
	}
	return true;
}

/* #arg: the argument's spelling as a string literal. */
static bool stringify(struct cpp *c, const struct tok *in, struct arg a, struct tokv *res)
{
	struct buf raw = { 0 }, q = { 0 };
	bool ok = spell(c, in, skip_blank(in, a.b, a.e), a.e, &raw) && buf_add(c, &q, "\"", 1);
	for (size_t k = 0; ok && k < raw.len; k++) {
		if ((raw.p[k] == '"' || raw.p[k] == '\\') && !buf_add(c, &q, "\\", 1))
			ok = false;
		ok = ok && buf_add(c, &q, raw.p + k, 1);
	}
	ok = ok && buf_add(c, &q, "\"", 1);
	free(raw.p);
	if (!ok) {
		free(q.p);
		return false;
	}
	char *s = pool_keep(c, q.p);
	return s && tokv_push(c, res, (struct tok){ T_STR, s, (uint32_t)q.len });
}

static int param_index(const struct cpp_macro *m, const struct tok *t)
{
	if (t->kind != T_IDENT)
		return -1;
	for (int k = 0; k < m->nparams; k++)
		if (tok_is(t, m->params[k]))
			return k;
	if (m->variadic && tok_is(t, "__VA_ARGS__"))
		return m->nparams - 1;
	return -1;
}

/* The argument bound to parameter k; the variadic one takes the rest. */
static struct arg arg_of(const struct cpp_macro *m, const struct arg *args, int nargs, int k)
{
	struct arg a = { 0, 0 };
	if (k >= nargs)
		return a;
	a = args[k];
	if (m->variadic && k == m->nparams - 1)
		a.e = args[nargs - 1].e;
	return a;
}

/* a ## b: the two spellings glued and tokenized again. */
static bool paste(struct cpp *c, struct tokv *res, const struct tok *rhs, size_t nrhs)
{
	while (res->n && is_blank(&res->v[res->n - 1]))
		res->n--;
	size_t f = skip_blank(rhs, 0, nrhs);
	if (!res->n || f == nrhs) {
		for (size_t k = f; k < nrhs; k++)
			if (!tokv_push(c, res, rhs[k]))
				return false;
		return true;
	}
	struct tok l = res->v[--res->n];
	char *s = malloc(l.len + rhs[f].len + 1);
	if (!s || !pool_keep(c, s)) {
		c->failed = true;
		return false;
	}
	memcpy(s, l.s, l.len);
	memcpy(s + l.len, rhs[f].s, rhs[f].len);
	s[l.len + rhs[f].len] = '\0';
	if (!tokenize(c, s, l.len + rhs[f].len, res))
		return false;
	for (size_t k = f + 1; k < nrhs; k++)
		if (!tokv_push(c, res, rhs[k]))
			return false;
	return true;
}

/* The body of m with its parameters replaced (C11 6.10.3.1-3). */
static bool substitute(struct cpp *c, const struct cpp_macro *m, const struct tok *in,
		       const struct arg *args, int nargs, const struct hide *hs, struct tokv *res)
{
	struct tokv body = { 0 };
	bool ok = tokenize(c, m->body, strlen(m->body), &body);

	for (size_t k = 0; ok && k < body.n; k++) {
		struct tok *t = &body.v[k];
		size_t nx = skip_blank(body.v, k + 1, body.n);
		int pi;
		if (tok_is(t, "#") && m->nparams >= 0 && nx < body.n &&
		    (pi = param_index(m, &body.v[nx])) >= 0) {
			ok = stringify(c, in, arg_of(m, args, nargs, pi), res);
			k = nx;
		} else if (tok_is(t, "##") && nx < body.n) {
			pi = param_index(m, &body.v[nx]);
			struct arg a = pi >= 0 ? arg_of(m, args, nargs, pi) : (struct arg){ 0, 0 };
			ok = pi >= 0 ? paste(c, res, in + a.b, a.e - a.b) :
				       paste(c, res, &body.v[nx], 1);
			k = nx;
		} else if ((pi = param_index(m, t)) >= 0) {
			struct arg a = arg_of(m, args, nargs, pi);
			if (nx < body.n && tok_is(&body.v[nx], "##")) {
				for (size_t j = a.b; ok && j < a.e; j++)
					ok = tokv_push(c, res, in[j]);
				continue;
			}
			struct buf eb = { 0 };
			ok = expand(c, in + a.b, a.e - a.b, hs, &eb) == 0;
			char *s = ok && eb.p ? pool_keep(c, eb.p) : (free(eb.p), NULL);
			ok = ok && (!eb.len || (s && tokenize(c, s, eb.len, res)));
		} else {
			ok = tokv_push(c, res, *t);
		}
	}
	free(body.v);
	return ok && !c->failed;
}

/* A header's object-like macro that clang evaluated to an integer
 * (O_CREAT, but also ((in_addr_t) 0x7f000001) or _IOR(...), which are
 * not script syntax) becomes that integer. */
static bool header_value(struct cpp *c, const struct cpp_macro *m, struct buf *out)
{
	int64_t v;
	char num[32];

	if (!c->hdr_loaded || !c->o->hdr->value || find_script(c, m->name, strlen(m->name)) ||
	    !c->o->hdr->value(c->o->hdr->ctx, m->name, &v))
		return false;
	snprintf(num, sizeof(num), v < 0 ? "(%" PRId64 ")" : "%" PRId64, v);
	return (!out->len || buf_add(c, out, " ", 1)) && buf_str(c, out, num);
}

/* in[*i] names macro m. Expands the invocation into out (consuming its
 * arguments: *i becomes the last token used). Returns 1 when expanded,
 * 0 when m is function-like and no '(' follows, -1 on error. */
static int invoke(struct cpp *c, const struct cpp_macro *m, const struct tok *in, size_t *i,
		  size_t n, const struct hide *hs, struct buf *out)
{
	struct arg *args = NULL;
	int nargs = 0, rc = -1;
	size_t end = *i;
	struct tokv res = { 0 };

	if (hs && hs->depth >= CPP_MAX_DEPTH) {
		if (!c->failed)
			diag_error(c->d, c->cur, "macro expansion is nested too deeply");
		c->failed = true;
		return -1;
	}
	if (m->nparams < 0 && header_value(c, m, out))
		return 1;
	if (m->nparams >= 0) {
		size_t lp = skip_blank(in, *i + 1, n);
		if (lp == n || !tok_is(&in[lp], "("))
			return 0;
		end = collect_args(c, in, lp, n, &args, &nargs);
		if (!end) {
			diag_error(c->d, tok_span(c, &in[*i]),
				   "unterminated argument list invoking macro '%s'", m->name);
			goto out;
		}
		if (nargs == 1 && m->nparams == 0 &&
		    skip_blank(in, args[0].b, args[0].e) == args[0].e)
			nargs = 0;
		if (m->variadic ? nargs < m->nparams - 1 : nargs != m->nparams) {
			diag_error(c->d, c->cur, "macro '%s' takes %d argument%s, %d given",
				   m->name, m->variadic ? m->nparams - 1 : m->nparams,
				   m->nparams == 1 ? "" : "s", nargs);
			goto out;
		}
	}
	struct hide h = { m->name, hs, hs ? hs->depth + 1 : 1 };
	if (substitute(c, m, in, args, nargs, hs, &res) && expand(c, res.v, res.n, &h, out) == 0) {
		*i = end;
		rc = 1;
	}
out:
	free(args);
	free(res.v);
	return rc;
}

static bool after_member_op(const struct tok *in, size_t i)
{
	while (i > 0 && is_blank(&in[i - 1]))
		i--;
	return i > 0 && (tok_is(&in[i - 1], ".") || tok_is(&in[i - 1], "->"));
}

/* Macro-expands tokens into out, separated by single spaces. */
static int expand(struct cpp *c, const struct tok *in, size_t n, const struct hide *hs,
		  struct buf *out)
{
	int64_t v;
	char num[32];

	for (size_t i = 0; i < n && !c->failed; i++) {
		const struct tok *t = &in[i];
		if (is_blank(t))
			continue;
		if (t->kind == T_IDENT) {
			const struct cpp_macro *m = lookup(c, t->s, t->len);
			if (m && is_hidden(hs, m->name))
				m = NULL;
			if (m) {
				int r = invoke(c, m, in, &i, n, hs, out);
				if (r < 0)
					return -1;
				if (r > 0)
					continue;
			} else if (!m && !after_member_op(in, i) && enum_value(c, t, &v)) {
				snprintf(num, sizeof(num), v < 0 ? "(%" PRId64 ")" : "%" PRId64, v);
				if ((out->len && !buf_add(c, out, " ", 1)) || !buf_str(c, out, num))
					return -1;
				continue;
			}
		}
		if ((out->len && !buf_add(c, out, " ", 1)) || !buf_add(c, out, t->s, t->len))
			return -1;
	}
	return c->failed ? -1 : 0;
}

/* ---- output and its map ---- */

static bool add_seg(struct cpp *c, struct cpp_seg s)
{
	struct cpp_result *r = c->r;
	if (r->nsegs) {
		struct cpp_seg *l = &r->segs[r->nsegs - 1];
		if (!l->expansion && !s.expansion && l->src + l->len == s.src &&
		    l->out + l->len == s.out) {
			l->len += s.len;
			l->src_len += s.len;
			return true;
		}
	}
	if ((r->nsegs & (r->nsegs - 1)) == 0) {
		struct cpp_seg *v = realloc(r->segs, (r->nsegs ? r->nsegs * 2 : 1) * sizeof(*v));
		if (!v) {
			c->failed = true;
			return false;
		}
		r->segs = v;
	}
	r->segs[r->nsegs++] = s;
	return true;
}

static void emit_src(struct cpp *c, uint32_t off, uint32_t len)
{
	struct cpp_seg s = { (uint32_t)c->out.len, len, off, len, false };
	if (len && buf_add(c, &c->out, c->src->text + off, len))
		add_seg(c, s);
}

static void emit_expansion(struct cpp *c, const char *text, size_t len, struct span from)
{
	struct cpp_seg s = { (uint32_t)c->out.len, (uint32_t)len + 2, from.begin,
			     from.end - from.begin, true };
	if (buf_add(c, &c->out, " ", 1) && buf_add(c, &c->out, text, len) &&
	    buf_add(c, &c->out, " ", 1))
		add_seg(c, s);
}

/* ---- headers ---- */

static void flush_headers(struct cpp *c)
{
	char err[1024] = "";
	struct timespec t0, t1;

	if (!c->pending || c->failed)
		return;
	c->pending = false;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = c->o->hdr->parse(c->o->hdr->ctx, c->prelude.p, (const char *const *)c->names,
				  c->nnames, c->o->incdirs, c->o->nincdirs, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	c->r->ms_headers += (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (rc) {
		diag_error(c->d, c->pending_sp, "%s", err);
		c->hdr_failed = true;
		return;
	}
	c->hdr_loaded = true;
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && !S_ISDIR(st.st_mode) && access(path, R_OK) == 0;
}

/* Tries dir/name; on success returns the real path (malloc'd). */
static char *try_dir(struct cpp *c, const char *dir, const char *name, struct buf *searched)
{
	char path[PATH_MAX];
	if (dir)
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	else
		snprintf(path, sizeof(path), "%s", name);
	if (is_file(path))
		return realpath(path, NULL);
	if (searched && dir && (searched->len == 0 || buf_add(c, searched, ", ", 2)))
		buf_str(c, searched, dir);
	return NULL;
}

static char *resolve(struct cpp *c, const char *name, bool quoted, struct buf *searched)
{
	const char *const *sys = c->o->sysdirs ? c->o->sysdirs : default_sysdirs;
	char *p = NULL;

	if (name[0] == '/')
		return try_dir(c, NULL, name, NULL);
	if (quoted)
		p = try_dir(c, c->dir, name, searched);
	for (int k = 0; !p && k < c->o->nincdirs; k++)
		p = try_dir(c, c->o->incdirs[k], name, searched);
	for (int k = 0; !p && sys[k]; k++)
		p = try_dir(c, sys[k], name, searched);
	return p;
}

static void add_include(struct cpp *c, const char *path, struct span sp)
{
	buf_str(c, &c->prelude, "#include \"");
	buf_str(c, &c->prelude, path);
	buf_str(c, &c->prelude, "\"\n");
	c->pending = true;
	c->pending_sp = sp;
	c->r->nheaders++;
}

/* #include <name> or "name"; toks after the directive name. */
static void do_include(struct cpp *c, const struct tok *t, size_t n, struct span sp)
{
	char name[PATH_MAX];
	bool quoted;
	size_t k = skip_blank(t, 0, n), last = n;

	while (last > 0 && is_blank(&t[last - 1]))
		last--;
	if (last > 0)
		sp.end = tok_span(c, &t[last - 1]).end;

	if (k < n && t[k].kind == T_STR && t[k].s[0] == '"' && t[k].len >= 2 &&
	    t[k].s[t[k].len - 1] == '"') {
		quoted = true;
		snprintf(name, sizeof(name), "%.*s", (int)t[k].len - 2, t[k].s + 1);
	} else if (k < n && tok_is(&t[k], "<")) {
		const char *b = t[k].s + 1,
			   *e = memchr(b, '>', (size_t)(t[n - 1].s + t[n - 1].len - b));
		if (!e)
			goto bad;
		quoted = false;
		snprintf(name, sizeof(name), "%.*s", (int)(e - b), b);
	} else {
		goto bad;
	}
	if (!name[0])
		goto bad;
	if (c->o->no_includes) {
		diag_error(c->d, sp, "#include is not available here");
		return;
	}
	struct buf searched = { 0 };
	char *path = resolve(c, name, quoted, &searched);
	const char *l = quoted ? "\"" : "<", *r = quoted ? "\"" : ">";
	if (!path && !quoted && has_btf(c)) {
		diag_warning(c->d, sp,
			     "header %s%s%s not found; its types come from the kernel's BTF", l,
			     name, r);
		/* no list of directories: bpftrace tools include several */
	} else if (!path) {
		diag_error(c->d, sp, "header %s%s%s not found", l, name, r);
		diag_hint(c->d, "searched: %s%s", searched.p ? searched.p : "(nothing)",
			  quoted ? "" : "; add a directory with -I DIR");
	} else if (!c->o->hdr) {
		diag_error(c->d, sp, "cannot read C headers: libclang is not available");
	} else {
		add_include(c, path, sp);
	}
	free(path);
	free(searched.p);
	return;
bad:
	diag_error(c->d, sp, "#include expects <FILE> or \"FILE\"");
}

/* ---- #define and #undef ---- */

static void free_macro(struct smacro *m)
{
	for (int k = 0; k < m->m.nparams; k++)
		free((char *)m->m.params[k]);
	free(m->m.params);
	free((char *)m->m.name);
	free((char *)m->m.body);
	free(m);
}

static struct smacro *new_macro(struct cpp *c, const struct tok *name)
{
	struct smacro *m = find_script(c, name->s, name->len);
	if (!m) {
		m = calloc(1, sizeof(*m));
		if (!m || !(m->m.name = strndup(name->s, name->len))) {
			free(m);
			c->failed = true;
			return NULL;
		}
		m->next = c->macros;
		c->macros = m;
	}
	for (int k = 0; k < m->m.nparams; k++)
		free((char *)m->m.params[k]);
	free(m->m.params);
	free((char *)m->m.body);
	m->m.params = NULL;
	m->m.body = NULL;
	m->m.nparams = -1;
	m->m.variadic = false;
	m->undef = false;
	return m;
}

/* Parameters "(a, b, ...)" from t[*k], which is '('. */
static bool define_params(struct cpp *c, struct smacro *m, const struct tok *t, size_t *k, size_t n,
			  struct span sp)
{
	m->m.nparams = 0;
	for (size_t i = skip_blank(t, *k + 1, n); i < n; i = skip_blank(t, i + 1, n)) {
		if (tok_is(&t[i], ")") && (m->m.nparams == 0 || m->m.variadic)) {
			*k = i + 1;
			return true;
		}
		if (m->m.variadic)
			break;
		const char **p = realloc(m->m.params, (size_t)(m->m.nparams + 1) * sizeof(*p));
		if (!p)
			break;
		m->m.params = p;
		if (tok_is(&t[i], "...")) {
			m->m.variadic = true;
			p[m->m.nparams++] = strdup("__VA_ARGS__");
			continue;
		}
		if (t[i].kind != T_IDENT)
			break;
		p[m->m.nparams++] = strndup(t[i].s, t[i].len);
		i = skip_blank(t, i + 1, n);
		if (i < n && tok_is(&t[i], "...")) {
			m->m.variadic = true;
			i = skip_blank(t, i + 1, n);
		}
		if (i < n && tok_is(&t[i], ")")) {
			*k = i + 1;
			return true;
		}
		if (i >= n || !tok_is(&t[i], ","))
			break;
	}
	diag_error(c->d, sp, "invalid parameter list in #define");
	return false;
}

static void add_prelude_line(struct cpp *c, const char *what, const struct tok *t, size_t n)
{
	buf_str(c, &c->prelude, what);
	spell(c, t, 0, n, &c->prelude);
	buf_str(c, &c->prelude, "\n");
}

static void do_define(struct cpp *c, const struct tok *t, size_t n, struct span sp)
{
	size_t k = skip_blank(t, 0, n);
	if (k == n || t[k].kind != T_IDENT) {
		diag_error(c->d, k < n ? tok_span(c, &t[k]) : sp, "#define needs a macro name");
		return;
	}
	if (tok_is(&t[k], "defined")) {
		diag_error(c->d, tok_span(c, &t[k]), "'defined' cannot be used as a macro name");
		return;
	}
	struct smacro *m = new_macro(c, &t[k]);
	if (!m)
		return;
	size_t b = k + 1;
	if (b < n && tok_is(&t[b], "(") && !define_params(c, m, t, &b, n, tok_span(c, &t[b]))) {
		m->undef = true; /* a broken definition defines nothing */
		return;
	}
	struct buf body = { 0 };
	spell(c, t, skip_blank(t, b, n), n, &body);
	m->m.body = body.p ? body.p : strdup("");
	add_prelude_line(c, "#define ", t + k, n - k);
}

static void do_undef(struct cpp *c, const struct tok *t, size_t n, struct span sp)
{
	size_t k = skip_blank(t, 0, n);
	if (k == n || t[k].kind != T_IDENT) {
		diag_error(c->d, sp, "#undef needs a macro name");
		return;
	}
	struct smacro *m = new_macro(c, &t[k]);
	if (m) {
		m->undef = true;
		m->m.body = strdup("");
	}
	add_prelude_line(c, "#undef ", t + k, n - k);
}

/* ---- #if expressions ---- */

struct val {
	uint64_t v;
	bool u; /* unsigned */
};

struct ev {
	struct cpp *c;
	struct tokv t;
	size_t i;
	struct span sp;
	bool err;
};

static struct val ev_cond(struct ev *e);

static const struct tok *ev_peek(struct ev *e)
{
	static const struct tok eof = { T_EOF, "", 0 };
	e->i = skip_blank(e->t.v, e->i, e->t.n);
	return e->i < e->t.n ? &e->t.v[e->i] : &eof;
}

static bool ev_accept(struct ev *e, const char *op)
{
	if (!tok_is(ev_peek(e), op))
		return false;
	e->i++;
	return true;
}

static struct val ev_fail(struct ev *e, const char *msg)
{
	if (!e->err)
		diag_error(e->c->d, e->sp, "%s", msg);
	e->err = true;
	return (struct val){ 0, false };
}

static struct val ev_number(struct ev *e, const struct tok *t)
{
	char s[64], *end;
	if (t->len >= sizeof(s))
		return ev_fail(e, "integer constant is too long in #if");
	memcpy(s, t->s, t->len);
	s[t->len] = '\0';
	int base = 0;
	const char *p = s;
	if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
		base = 2, p = s + 2;
	errno = 0;
	uint64_t v = strtoull(p, &end, base);
	bool u = false;
	for (; *end; end++) {
		if (*end == 'u' || *end == 'U')
			u = true;
		else if (*end != 'l' && *end != 'L')
			return ev_fail(e, "invalid integer constant in #if");
	}
	if (errno)
		return ev_fail(e, "integer constant is too large in #if");
	return (struct val){ v, u || v > INT64_MAX };
}

static struct val ev_char(struct ev *e, const struct tok *t)
{
	static const char from[] = "ntr0abfv\\'\"?", to[] = "\n\t\r\0\a\b\f\v\\'\"?";
	if (t->s[0] != '\'' || t->len < 3 || t->s[t->len - 1] != '\'')
		return ev_fail(e, "a string is not allowed in #if");
	if (t->len == 3)
		return (struct val){ (uint64_t)(int64_t)(signed char)t->s[1], false };
	const char *q = t->len == 4 && t->s[1] == '\\' ? strchr(from, t->s[2]) : NULL;
	if (!q || !t->s[2])
		return ev_fail(e, "unsupported character constant in #if");
	return (struct val){ (uint64_t)(unsigned char)to[q - from], false };
}

static struct val ev_primary(struct ev *e)
{
	const struct tok *t = ev_peek(e);
	struct val v;

	if (ev_accept(e, "(")) {
		v = ev_cond(e);
		if (!ev_accept(e, ")"))
			return ev_fail(e, "missing ')' in #if");
		return v;
	}
	if (ev_accept(e, "-")) {
		v = ev_primary(e);
		return (struct val){ 0 - v.v, v.u };
	}
	if (ev_accept(e, "+"))
		return ev_primary(e);
	if (ev_accept(e, "~")) {
		v = ev_primary(e);
		return (struct val){ ~v.v, v.u };
	}
	if (ev_accept(e, "!")) {
		v = ev_primary(e);
		return (struct val){ !v.v, false };
	}
	e->i++;
	if (t->kind == T_NUM)
		return ev_number(e, t);
	if (t->kind == T_STR)
		return ev_char(e, t);
	if (t->kind == T_IDENT) /* not a macro: 0, as in C */
		return (struct val){ 0, false };
	return ev_fail(e, t->kind == T_EOF ? "#if expression is missing or incomplete" :
					     "invalid token in #if expression");
}

static int prec(const struct tok *t)
{
	static const char *const ops[][4] = {
		{ "||" },
		{ "&&" },
		{ "|" },
		{ "^" },
		{ "&" },
		{ "==", "!=" },
		{ "<", ">", "<=", ">=" },
		{ "<<", ">>" },
		{ "+", "-" },
		{ "*", "/", "%" },
	};
	for (int p = 0; p < 10; p++)
		for (int k = 0; k < 4 && ops[p][k]; k++)
			if (tok_is(t, ops[p][k]))
				return p + 1;
	return 0;
}

static struct val apply(struct ev *e, const struct tok *op, struct val a, struct val b)
{
	bool u = a.u || b.u;
	uint64_t x = a.v, y = b.v;
	int64_t sx = (int64_t)x, sy = (int64_t)y;
	char o0 = op->s[0], o1 = op->len > 1 ? op->s[1] : 0;

	switch (o0) {
	case '|':
		return o1 ? (struct val){ x || y, false } : (struct val){ x | y, u };
	case '&':
		return o1 ? (struct val){ x && y, false } : (struct val){ x & y, u };
	case '^':
		return (struct val){ x ^ y, u };
	case '=':
		return (struct val){ x == y, false };
	case '!':
		return (struct val){ x != y, false };
	case '+':
		return (struct val){ x + y, u };
	case '-':
		return (struct val){ x - y, u };
	case '*':
		return (struct val){ x * y, u };
	case '/':
	case '%':
		if (!y)
			return ev_fail(e, "division by zero in #if");
		if (u)
			return (struct val){ o0 == '/' ? x / y : x % y, true };
		if (sx == INT64_MIN && sy == -1)
			return (struct val){ o0 == '/' ? x : 0, false };
		return (struct val){ (uint64_t)(o0 == '/' ? sx / sy : sx % sy), false };
	case '<':
		if (o1 == '<')
			return (struct val){ x << (y & 63), a.u };
		return (struct val){ o1 ? (u ? x <= y : sx <= sy) : (u ? x < y : sx < sy), false };
	case '>':
		if (o1 == '>')
			return (struct val){ a.u ? x >> (y & 63) : (uint64_t)(sx >> (y & 63)),
					     a.u };
		return (struct val){ o1 ? (u ? x >= y : sx >= sy) : (u ? x > y : sx > sy), false };
	}
	return ev_fail(e, "invalid operator in #if");
}

static struct val ev_binary(struct ev *e, int min)
{
	struct val l = ev_primary(e);
	for (;;) {
		const struct tok *op = ev_peek(e);
		int p = prec(op);
		if (!p || p < min || e->err)
			return l;
		e->i++;
		struct val r = ev_binary(e, p + 1);
		l = apply(e, op, l, r);
	}
}

static struct val ev_cond(struct ev *e)
{
	struct val c = ev_binary(e, 1);
	if (!ev_accept(e, "?"))
		return c;
	struct val a = ev_cond(e);
	if (!ev_accept(e, ":"))
		return ev_fail(e, "missing ':' in #if");
	struct val b = ev_cond(e);
	struct val r = c.v ? a : b;
	r.u = a.u || b.u;
	return r;
}

/* `defined X` and `defined(X)` become 1 or 0 before expansion. */
static bool replace_defined(struct cpp *c, const struct tok *t, size_t n, struct tokv *out,
			    struct span sp)
{
	static const struct tok one = { T_NUM, "1", 1 }, zero = { T_NUM, "0", 1 };
	for (size_t k = 0; k < n; k++) {
		if (!tok_is(&t[k], "defined")) {
			if (!tokv_push(c, out, t[k]))
				return false;
			continue;
		}
		size_t i = skip_blank(t, k + 1, n);
		bool paren = i < n && tok_is(&t[i], "(");
		if (paren)
			i = skip_blank(t, i + 1, n);
		if (i == n || t[i].kind != T_IDENT) {
			diag_error(c->d, sp, "'defined' needs a macro name");
			return false;
		}
		bool def = lookup(c, t[i].s, t[i].len) != NULL;
		if (paren) {
			i = skip_blank(t, i + 1, n);
			if (i == n || !tok_is(&t[i], ")")) {
				diag_error(c->d, sp, "missing ')' after 'defined'");
				return false;
			}
		}
		if (!tokv_push(c, out, def ? one : zero))
			return false;
		k = i;
	}
	return true;
}

static bool eval_if(struct cpp *c, const struct tok *t, size_t n, struct span sp, bool *res)
{
	struct tokv d = { 0 };
	struct buf x = { 0 };
	struct ev e = { .c = c, .sp = sp };
	struct span saved = c->cur;
	bool ok;

	c->cur = sp;
	ok = replace_defined(c, t, n, &d, sp) && expand(c, d.v, d.n, NULL, &x) == 0 &&
	     tokenize(c, x.p ? x.p : "", x.len, &e.t);
	c->cur = saved;
	if (ok) {
		struct val v = ev_cond(&e);
		if (!e.err && ev_peek(&e)->kind != T_EOF)
			ev_fail(&e, "extra tokens at the end of the #if expression");
		ok = !e.err;
		*res = v.v != 0;
	}
	free(d.v);
	free(x.p);
	free(e.t.v);
	return ok;
}

/* ---- conditionals and the directive dispatcher ---- */

static bool is_active(const struct cpp *c)
{
	return c->ncond == 0 || c->conds[c->ncond - 1].active;
}

static void do_conditional(struct cpp *c, const char *name, const struct tok *t, size_t n,
			   struct span sp)
{
	bool val = false;
	struct cond *top = c->ncond ? &c->conds[c->ncond - 1] : NULL;

	if (!strcmp(name, "if") || !strcmp(name, "ifdef") || !strcmp(name, "ifndef")) {
		if (c->ncond == CPP_MAX_COND) {
			diag_error(c->d, sp, "#if is nested too deeply (more than %d levels)",
				   CPP_MAX_COND);
			c->failed = true;
			return;
		}
		bool parent = is_active(c);
		if (parent) {
			flush_headers(c);
			size_t k = skip_blank(t, 0, n);
			if (name[2] == '\0') {
				eval_if(c, t, n, sp, &val);
			} else if (k == n || t[k].kind != T_IDENT) {
				diag_error(c->d, sp, "#%s needs a macro name", name);
			} else {
				val = lookup(c, t[k].s, t[k].len) != NULL;
				val = name[2] == 'n' ? !val : val;
			}
		}
		c->conds[c->ncond++] =
			(struct cond){ sp, parent, parent && val, parent && val, false };
		return;
	}
	if (!top) {
		diag_error(c->d, sp, "#%s without #if", name);
		return;
	}
	if (!strcmp(name, "endif")) {
		c->ncond--;
		return;
	}
	if (top->seen_else) {
		diag_error(c->d, sp, "#%s after #else", name);
		return;
	}
	if (!strcmp(name, "else")) {
		top->seen_else = true;
		top->active = top->parent_active && !top->taken;
		top->taken = true;
		return;
	}
	/* #elif */
	if (top->parent_active && !top->taken) {
		flush_headers(c);
		eval_if(c, t, n, sp, &val);
	}
	top->active = top->parent_active && !top->taken && val;
	top->taken = top->taken || top->active;
}

/* The directive at text[hash] ('#'); returns the offset after its line. */
static size_t directive(struct cpp *c, size_t hash)
{
	const char *s = c->src->text;
	size_t n = c->src->len, i = hash + 1, end;
	struct tokv v = { 0 };
	struct tok t;

	for (end = i; end < n;) {
		size_t nx = lex1(s, end, n, &t);
		if (t.kind == T_NL)
			break;
		if (!tokv_push(c, &v, t))
			break;
		end = nx;
	}
	size_t k = skip_blank(v.v, 0, v.n);
	struct span sp = { 0, (uint32_t)hash, (uint32_t)(hash + 1) };
	char name[16] = "";
	if (k < v.n && v.v[k].kind == T_IDENT && v.v[k].len < sizeof(name)) {
		memcpy(name, v.v[k].s, v.v[k].len);
		name[v.v[k].len] = '\0';
		sp.end = (uint32_t)(v.v[k].s - s + v.v[k].len);
	} else if (k < v.n) {
		sp.end = (uint32_t)(v.v[k].s - s + v.v[k].len);
	}
	const struct tok *rest = k < v.n ? v.v + k + 1 : NULL;
	size_t nrest = k < v.n ? v.n - k - 1 : 0;
	static const char *const conds[] = {
		"if", "ifdef", "ifndef", "elif", "else", "endif", NULL
	};
	bool is_cond = false;
	for (int j = 0; conds[j]; j++)
		is_cond = is_cond || !strcmp(name, conds[j]);
	if (hash + 1 < n && s[hash + 1] == '!') {
		sp.end = (uint32_t)hash + 2;
		if (is_active(c))
			diag_error(c->d, sp, "'#!' is only allowed at the start of the first line");
	} else if (is_cond) {
		do_conditional(c, name, rest, nrest, sp);
	} else if (!is_active(c) || k == v.n) {
		/* skipped, or the null directive */
	} else if (!strcmp(name, "include")) {
		do_include(c, rest, nrest, sp);
	} else if (!strcmp(name, "define")) {
		do_define(c, rest, nrest, sp);
	} else if (!strcmp(name, "undef")) {
		do_undef(c, rest, nrest, sp);
	} else if (!strcmp(name, "error") || !strcmp(name, "warning")) {
		struct buf msg = { 0 };
		spell(c, rest, skip_blank(rest, 0, nrest), nrest, &msg);
		if (name[0] == 'e')
			diag_error(c->d, sp, "#error %s", msg.p ? msg.p : "");
		else
			diag_warning(c->d, sp, "#warning %s", msg.p ? msg.p : "");
		free(msg.p);
	} else if (strcmp(name, "pragma") && strcmp(name, "line")) {
		diag_error(c->d, sp, "unknown preprocessor directive '#%.*s'", (int)v.v[k].len,
			   v.v[k].s);
	}
	free(v.v);
	return end < n ? end + 1 : n;
}

/* ---- script text ---- */

/* Offset of the next line that is a directive (its start), or n. */
static size_t chunk_end(const struct cpp *c, size_t i)
{
	const char *s = c->src->text;
	size_t n = c->src->len;
	struct tok t;

	while (i < n) {
		i = lex1(s, i, n, &t);
		if (t.kind != T_NL)
			continue;
		size_t j = i;
		while (j < n && (s[j] == ' ' || s[j] == '\t'))
			j++;
		if (j < n && s[j] == '#')
			return i;
	}
	return n;
}

/* At brace depth 0, is the identifier at t part of an attach point (a
 * word holding ':')? Those are never expanded. */
static bool in_attach_word(const struct cpp *c, const struct tok *t)
{
	const char *s = c->src->text, *b = t->s, *e = t->s + t->len, *end = s + c->src->len;
	static const char stop[] = " \t\r\n\v\f,{}();\"'";
	while (b > s && !strchr(stop, b[-1]))
		b--;
	while (e < end && *e && !strchr(stop, *e))
		e++;
	return memchr(b, ':', (size_t)(e - b)) != NULL;
}

static void text_chunk(struct cpp *c, size_t b, size_t e)
{
	struct tokv v = { 0 };
	const char *s = c->src->text;
	char num[32];
	int64_t val;

	if (!tokenize(c, s + b, e - b, &v))
		return;
	for (size_t i = 0; i < v.n && !c->failed; i++) {
		const struct tok *t = &v.v[i];
		uint32_t off = (uint32_t)(t->s - s);
		c->depth += tok_is(t, "{") - (tok_is(t, "}") && c->depth > 0);
		if (t->kind != T_IDENT || (c->depth == 0 && in_attach_word(c, t))) {
			emit_src(c, off, t->len);
			continue;
		}
		const struct cpp_macro *m = lookup(c, t->s, t->len);
		struct buf x = { 0 };
		size_t last = i;
		c->cur = tok_span(c, t);
		if (m) {
			int r = invoke(c, m, v.v, &last, v.n, NULL, &x);
			if (r > 0) {
				struct span sp = { 0, off,
						   (uint32_t)(v.v[last].s - s + v.v[last].len) };
				emit_expansion(c, x.p ? x.p : "", x.len, sp);
				i = last;
			} else if (r == 0) {
				emit_src(c, off, t->len);
			} else {
				emit_src(c, off, t->len);
				i = last;
			}
		} else if (!after_member_op(v.v, i) && enum_value(c, t, &val)) {
			snprintf(num, sizeof(num), val < 0 ? "(%" PRId64 ")" : "%" PRId64, val);
			emit_expansion(c, num, strlen(num), c->cur);
		} else {
			emit_src(c, off, t->len);
		}
		free(x.p);
	}
	free(v.v);
}

bool cpp_needed(const struct source *src)
{
	const char *s = src->text, *end = s + src->len;
	if (src->len >= 2 && s[0] == '#' && s[1] == '!') {
		s = memchr(s, '\n', src->len);
		if (!s)
			return false;
	}
	return memchr(s, '#', (size_t)(end - s)) != NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The script's identifiers (sorted, unique), for the header provider. */
static void collect_names(struct cpp *c)
{
	const char *s = c->src->text;
	size_t n = c->src->len, cap = 0;
	struct tok t;

	for (size_t i = 0; i < n && !c->failed;) {
		i = lex1(s, i, n, &t);
		if (t.kind != T_IDENT)
			continue;
		if (c->nnames == cap) {
			cap = cap ? cap * 2 : 64;
			char **v = realloc(c->names, cap * sizeof(*v));
			if (!v) {
				c->failed = true;
				return;
			}
			c->names = v;
		}
		c->names[c->nnames] = pool_keep(c, strndup(t.s, t.len));
		if (c->names[c->nnames])
			c->nnames++;
	}
	if (!c->nnames)
		return;
	qsort(c->names, c->nnames, sizeof(*c->names), cmp_str);
	size_t u = 1;
	for (size_t i = 1; i < c->nnames; i++)
		if (strcmp(c->names[i], c->names[u - 1]))
			c->names[u++] = c->names[i];
	c->nnames = u;
}

static void script_dir(struct cpp *c, char *dir, size_t n)
{
	const char *name = c->src->name, *slash = strrchr(name, '/');
	if (!strcmp(name, "stdin") || !slash)
		snprintf(dir, n, ".");
	else
		snprintf(dir, n, "%.*s", (int)(slash == name ? 1 : slash - name), name);
}

static void cmdline_includes(struct cpp *c)
{
	const char *const *sys = c->o->sysdirs ? c->o->sysdirs : default_sysdirs;
	for (int k = 0; k < c->o->nincludes && !c->failed; k++) {
		const char *f = c->o->includes[k];
		char *p = try_dir(c, NULL, f, NULL);
		for (int j = 0; !p && f[0] != '/' && j < c->o->nincdirs; j++)
			p = try_dir(c, c->o->incdirs[j], f, NULL);
		for (int j = 0; !p && f[0] != '/' && sys[j]; j++)
			p = try_dir(c, sys[j], f, NULL);
		struct span none = { 0, 0, 0 };
		if (!p)
			diag_error_nospan(c->d, "--include %s: file not found", f);
		else if (!c->o->hdr)
			diag_error_nospan(c->d, "--include %s: libclang is not available", f);
		else
			add_include(c, p, none);
		free(p);
	}
}

int cpp_run(const struct source *src, const struct cpp_opts *o, struct diag *d,
	    struct cpp_result *r)
{
	struct cpp c = { .src = src, .o = o, .d = d, .r = r, .btf = -1 };
	const char *s = src->text;
	size_t n = src->len, i = 0;
	char dir[PATH_MAX];

	memset(r, 0, sizeof(*r));
	r->src_len = (uint32_t)n;
	script_dir(&c, dir, sizeof(dir));
	c.dir = dir;
	if (o->hdr && !o->no_includes)
		collect_names(&c);
	cmdline_includes(&c);
	if (n >= 2 && s[0] == '#' && s[1] == '!') {
		const char *nl = memchr(s, '\n', n);
		i = nl ? (size_t)(nl - s) : n;
		emit_src(&c, 0, (uint32_t)i);
	}
	while (i < n && !c.failed) {
		size_t j = i;
		while (j < n && (s[j] == ' ' || s[j] == '\t'))
			j++;
		if (j < n && s[j] == '#') {
			i = directive(&c, j);
			continue;
		}
		size_t e = chunk_end(&c, i);
		if (is_active(&c)) {
			flush_headers(&c);
			text_chunk(&c, i, e);
		}
		i = e;
	}
	if (c.ncond && !c.failed)
		diag_error(d, c.conds[c.ncond - 1].sp,
			   "unterminated #%s: no #endif before the end of file", "if");
	flush_headers(&c);
	for (struct smacro *m = c.macros, *nx; m; m = nx) {
		nx = m->next;
		free_macro(m);
	}
	for (size_t k = 0; k < c.npool; k++)
		free(c.pool[k]);
	free(c.pool);
	free(c.names);
	free(c.prelude.p);
	r->text = c.out.p ? c.out.p : strdup("");
	r->len = c.out.len;
	if (!r->text || c.failed) {
		cpp_result_free(r);
		return -1;
	}
	return 0;
}

void cpp_result_free(struct cpp_result *r)
{
	free(r->text);
	free(r->segs);
	r->text = NULL;
	r->segs = NULL;
	r->nsegs = 0;
	r->len = 0;
}

/* The segment holding output byte off (nsegs > 0, off < len). */
static const struct cpp_seg *seg_at(const struct cpp_result *r, uint32_t off)
{
	size_t lo = 0, hi = r->nsegs;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->segs[mid].out <= off)
			lo = mid;
		else
			hi = mid;
	}
	return &r->segs[lo];
}

uint32_t cpp_map_begin(const struct cpp_result *r, uint32_t off)
{
	if (!r->nsegs || off >= r->len)
		return r->src_len;
	const struct cpp_seg *g = seg_at(r, off);
	return g->expansion ? g->src : g->src + (off - g->out);
}

uint32_t cpp_map_end(const struct cpp_result *r, uint32_t off)
{
	if (!r->nsegs || off == 0)
		return off == 0 && r->nsegs ? r->segs[0].src : (off ? r->src_len : 0);
	if (off > r->len)
		return r->src_len;
	const struct cpp_seg *g = seg_at(r, off - 1);
	return g->expansion ? g->src + g->src_len : g->src + (off - g->out);
}
