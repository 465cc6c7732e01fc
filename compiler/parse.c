/* parse.c: glue between the source, the flex scanner and the bison parser.
 *
 * In: a source, an arena, a diag. Out: the N_PROGRAM tree, or NULL if the
 * scanner could not even be set up. All state lives in a struct parse_ctx
 * on the stack of parse_program(), so parses are independent and a fuzz
 * target can run thousands of them in one process.
 *
 * Also here, because the grammar actions should stay short:
 *  - parse_attach() splits an attach point token into provider and parts:
 *      raw      as written: `kprobe:do_sys_open+10`, `t:syscalls:sys_enter_*`
 *      provider canonical long name (ast_canonical_provider)
 *      parts    the ':'-separated fields after the provider, wildcards
 *               kept, quotes removed (`uprobe:"/my prog":main`); at most 4
 *      offset   a trailing "+N" (decimal or 0x hex) of the last part, split
 *               off unless that part is the path of a uprobe or usdt
 *    Unknown providers, empty parts and too many parts are errors here;
 *    whether a provider has the right number of parts is sema's question.
 *  - the nesting check: a tree deeper than PARSE_MAX_DEPTH is an error, so
 *    the driver stops before the recursive passes could overflow the
 *    stack. (Deeper parser-stack nesting, e.g. 10,000 '(', is bison's
 *    "memory exhausted", reported as "program is nested too deeply".)
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "compiler/parse.h"
#include "runtime/provider.h"
#include "parser.h"
#include "lexer.h"

#define PARSE_MAX_DEPTH 512

int yyparse(void *scanner, struct parse_ctx *p);

void parse_list_add(struct node_list *l, struct node *n)
{
	if (l->tail)
		l->tail->next = n;
	else
		l->head = n;
	l->tail = n;
	l->n++;
}

/* Edit distance of a and b (both short), for "did you mean". */
static int edit_distance(const char *a, const char *b)
{
	int la = (int)strlen(a), lb = (int)strlen(b), i, j;
	int row[32], prev, tmp;

	if (la >= 32 || lb >= 32)
		return INT_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = prev + (a[i - 1] != b[j - 1]);
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}

static void hint_provider(struct parse_ctx *p, const char *written)
{
	const char *best = NULL, *name;
	int i, d, best_d = 3;

	for (i = 0; (name = pv_spelling(i)) != NULL; i++) {
		if (strlen(name) < 3)
			continue;
		d = edit_distance(written, name);
		if (d < best_d) {
			best_d = d;
			best = name;
		}
	}
	if (best)
		diag_hint(p->diag, "did you mean '%s'?", best);
}

/* Splits "+N" off the end of a part; returns false if there is none. */
static bool split_offset(char *part, uint64_t *off)
{
	char *plus = strrchr(part, '+'), *end;
	unsigned long long v;

	if (!plus || plus == part || plus[1] < '0' || plus[1] > '9')
		return false;
	errno = 0;
	v = strtoull(plus + 1, &end, 0);
	if (*end || errno)
		return false;
	*plus = '\0';
	*off = v;
	return true;
}

/* Copies raw[b, e) without its quotes. */
static char *unquote(struct parse_ctx *p, const char *raw, uint32_t b, uint32_t e)
{
	char *s = arena_alloc(p->arena, e - b + 1);
	uint32_t i, n = 0;

	for (i = b; i < e; i++)
		if (raw[i] != '"')
			s[n++] = raw[i];
	s[n] = '\0';
	return s;
}

static struct span sub_span(struct span sp, uint32_t b, uint32_t e)
{
	struct span r = { sp.file, sp.begin + b, sp.begin + e };

	return r;
}

/* Checks the provider and records the parts; returns false on error. */
static bool split_fields(struct parse_ctx *p, struct node *n, struct span sp)
{
	const char *raw = n->attach.raw;
	uint32_t i, start = 0, len = (uint32_t)strlen(raw);
	bool quoted = false;
	int field = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && raw[i] == '"')
			quoted = !quoted;
		if (i < len && (quoted || raw[i] != ':'))
			continue;
		if (field == 0) {
			n->attach.provider = unquote(p, raw, 0, i);
		} else if (i == start) {
			diag_error(p->diag, sub_span(sp, start - 1, start),
				   "invalid attach point '%s': empty field after ':'", raw);
			return false;
		} else if (field > 4) {
			diag_error(
				p->diag, sub_span(sp, start, i),
				"invalid attach point '%s': more than 4 fields after the provider",
				raw);
			return false;
		} else {
			n->attach.parts[n->attach.nparts++] = unquote(p, raw, start, i);
		}
		field++;
		start = i + 1;
	}
	return true;
}

struct node *parse_attach(struct parse_ctx *p, const char *raw, struct span sp)
{
	struct node *n = ast_new(p->arena, N_ATTACH, sp);
	const char *canon, *written;
	uint32_t plen;
	int last;

	n->attach.raw = raw;
	if (!split_fields(p, n, sp))
		return n;
	written = n->attach.provider;
	canon = ast_canonical_provider(written);
	if (!canon) {
		plen = (uint32_t)strcspn(raw, ":");
		diag_error(p->diag, sub_span(sp, 0, plen),
			   "invalid attach point '%s': unknown provider '%s'", raw, written);
		hint_provider(p, written);
		return n;
	}
	n->attach.provider = canon;
	last = n->attach.nparts - 1;
	if (last < 0 || (last == 0 && pv_by_name(canon)->path_part))
		return n;
	n->attach.has_offset = split_offset((char *)n->attach.parts[last], &n->attach.offset);
	return n;
}

/* The root, spanning its first to its last item. */
static struct node *new_program(struct parse_ctx *p)
{
	struct node *first = p->structs.head, *last = p->structs.tail, *n;
	struct span none = { 0, 0, 0 };

	if (!first || (p->probes.head && p->probes.head->span.begin < first->span.begin))
		first = p->probes.head;
	if (!last || (p->probes.tail && p->probes.tail->span.end > last->span.end))
		last = p->probes.tail;
	n = ast_new(p->arena, N_PROGRAM, first ? span_join(first->span, last->span) : none);
	n->program.structs = p->structs.head;
	n->program.probes = p->probes.head;
	n->program.config = p->config;
	n->program.map_decls = p->map_decls.head;
	n->program.macros = p->macros.head;
	return n;
}

/* Reports the first node deeper than PARSE_MAX_DEPTH; returns true then.
 * Recursion stops at the limit, so this cannot overflow the stack. */
static bool check_depth(struct parse_ctx *p, const struct node *n, int depth)
{
	struct node *kids[AST_MAX_CHILDREN];
	const struct node *k;
	int i, nkids;

	if (depth > PARSE_MAX_DEPTH) {
		diag_error(p->diag, n->span, "nesting is too deep (more than %d levels)",
			   PARSE_MAX_DEPTH);
		return true;
	}
	nkids = ast_children(n, kids);
	for (i = 0; i < nkids; i++)
		for (k = kids[i]; k; k = k->next)
			if (check_depth(p, k, depth + 1))
				return true;
	return false;
}

struct node *parse_program(const struct source *src, struct arena *a, struct diag *d)
{
	return parse_program_pp(src, NULL, a, d);
}

struct node *parse_program_pp(const struct source *src, const struct cpp_result *pp,
			      struct arena *a, struct diag *d)
{
	struct parse_ctx p;
	struct node *prog;
	void *scanner;

	memset(&p, 0, sizeof(p));
	p.src = src;
	p.arena = a;
	p.diag = d;
	p.len = (uint32_t)src->len;
	p.pp = pp;
	if (src->len > INT_MAX - 2 || (pp && pp->len > INT_MAX - 2)) {
		diag_error_nospan(d, "script is too large");
		return NULL;
	}
	if (yylex_init_extra(&p, &scanner)) {
		diag_error_nospan(d, "cannot start the lexer: %s", strerror(errno));
		return NULL;
	}
	if (pp)
		yy_scan_bytes(pp->text, (int)pp->len, scanner);
	else
		yy_scan_bytes(src->text, (int)src->len, scanner);
	yyparse(scanner, &p);
	yylex_destroy(scanner);
	prog = new_program(&p);
	check_depth(&p, prog, 0);
	return prog;
}
