/* ast.c: node constructors, names, and the -d ast dumper.
 *
 * In: nodes built by the parser (and later rewritten by sema). Out: the
 * helpers every pass shares (ast_new, lists, kind and operator names,
 * provider aliases, child enumeration) and ast_dump(), the stable
 * indented text form that tests/golden/parse/ compares against.
 *
 * Dump format: one node per line, indented two spaces per level:
 *
 *   KIND [PAYLOAD] @BL:BC-EL:EC [: TYPE]
 *
 * BL:BC is the line and column of the span's first byte and EL:EC those of
 * the byte just past its end (the end column is exclusive), both 1-based
 * and counting bytes. The payload is a name, a value or an operator;
 * strings are quoted with C escapes re-encoded (non-ASCII bytes as \xHH)
 * so the dump is plain ASCII. Children follow in source order; which
 * child is which is told by position and kind (a probe's predicate is the
 * expression between its attach points and its block). ": TYPE" is added
 * to typed expressions when the dump is asked for types (-d types).
 *
 * This file does not check anything: that is sema's job.
 */
#include <inttypes.h>
#include <string.h>

#include "compiler/ast.h"
#include "runtime/provider.h"
#include "compiler/types.h"

#define DUMP_MAX_DEPTH 1000 /* the parser refuses deeper trees anyway */

struct node *ast_new(struct arena *a, enum node_kind kind, struct span sp)
{
	struct node *n = arena_alloc(a, sizeof(*n));

	n->kind = kind;
	n->span = sp;
	return n;
}

struct node *ast_new_int(struct arena *a, struct span sp, uint64_t value)
{
	struct node *n = ast_new(a, N_INT, sp);

	n->num.value = value;
	return n;
}

struct node *ast_new_name(struct arena *a, enum node_kind kind, struct span sp, const char *name)
{
	struct node *n = ast_new(a, kind, sp);

	n->ident.name = name;
	return n;
}

struct node *ast_new_binop(struct arena *a, struct span sp, enum binop op, struct node *lhs,
			   struct node *rhs)
{
	struct node *n = ast_new(a, N_BINOP, sp);

	n->binop.op = op;
	n->binop.lhs = lhs;
	n->binop.rhs = rhs;
	return n;
}

struct node *ast_new_unop(struct arena *a, struct span sp, enum unop op, struct node *operand)
{
	struct node *n = ast_new(a, N_UNOP, sp);

	n->unop.op = op;
	n->unop.operand = operand;
	return n;
}

struct node *ast_new_call(struct arena *a, struct span sp, const char *name, struct node *args)
{
	struct node *n = ast_new(a, N_CALL, sp);

	n->call.name = name;
	n->call.args = args;
	n->call.nargs = ast_list_len(args);
	return n;
}

/* Walks the list: fine for the short lists sema builds. The parser keeps
 * tail pointers instead, so long scripts stay linear. */
void ast_append(struct node **head, struct node *item)
{
	while (*head)
		head = &(*head)->next;
	*head = item;
}

int ast_list_len(const struct node *list)
{
	int n = 0;

	for (; list; list = list->next)
		n++;
	return n;
}

static const char *const kind_names[N__COUNT] = {
	[N_PROGRAM] = "program",
	[N_PROBE] = "probe",
	[N_ATTACH] = "attach",
	[N_STRUCT_DECL] = "struct_decl",
	[N_FIELD_DECL] = "field_decl",
	[N_TYPENAME] = "typename",
	[N_BLOCK] = "block",
	[N_EXPR_STMT] = "expr_stmt",
	[N_ASSIGN] = "assign",
	[N_IF] = "if",
	[N_UNROLL] = "unroll",
	[N_WHILE] = "while",
	[N_FOR] = "for",
	[N_LET] = "let",
	[N_MACRO] = "macro",
	[N_BLOCK_EXPR] = "block_expr",
	[N_RETURN] = "return",
	[N_BREAK] = "break",
	[N_CONTINUE] = "continue",
	[N_INT] = "int",
	[N_STR] = "str",
	[N_IDENT] = "ident",
	[N_VAR] = "var",
	[N_POSPARAM] = "posparam",
	[N_POSCOUNT] = "poscount",
	[N_MAP] = "map",
	[N_BINOP] = "binop",
	[N_UNOP] = "unop",
	[N_INCDEC] = "incdec",
	[N_TERNARY] = "ternary",
	[N_CALL] = "call",
	[N_FIELD] = "field",
	[N_INDEX] = "index",
	[N_TUPLE] = "tuple",
	[N_CAST] = "cast",
	[N_SIZEOF] = "sizeof",
	[N_OFFSETOF] = "offsetof",
};

const char *ast_kind_name(enum node_kind kind)
{
	if ((unsigned)kind >= N__COUNT || !kind_names[kind])
		return "?";
	return kind_names[kind];
}

static const char *const binop_names[OP__COUNT] = {
	[OP_ADD] = "+",	  [OP_SUB] = "-",  [OP_MUL] = "*",  [OP_DIV] = "/",  [OP_MOD] = "%",
	[OP_BAND] = "&",  [OP_BOR] = "|",  [OP_BXOR] = "^", [OP_SHL] = "<<", [OP_SHR] = ">>",
	[OP_LAND] = "&&", [OP_LOR] = "||", [OP_EQ] = "==",  [OP_NE] = "!=",  [OP_LT] = "<",
	[OP_LE] = "<=",	  [OP_GT] = ">",   [OP_GE] = ">=",
};

const char *ast_binop_str(enum binop op)
{
	if ((unsigned)op >= OP__COUNT)
		return "?";
	return binop_names[op];
}

const char *ast_unop_str(enum unop op)
{
	switch (op) {
	case UOP_NEG:
		return "-";
	case UOP_PLUS:
		return "+";
	case UOP_BNOT:
		return "~";
	case UOP_LNOT:
		return "!";
	case UOP_DEREF:
		return "*";
	case UOP_ADDR:
		return "&";
	}
	return "?";
}

/* Written provider name -> canonical name: runtime/provider.h's table. */
const char *ast_canonical_provider(const char *written)
{
	const struct provider *pv = pv_by_name(written);
	return pv ? pv->name : NULL;
}

int ast_children(const struct node *n, struct node *out[AST_MAX_CHILDREN])
{
	int k = 0;

#define KID(x) (out[k++] = (x))
	switch (n->kind) {
	case N_PROGRAM:
		KID(n->program.config), KID(n->program.map_decls), KID(n->program.macros);
		KID(n->program.structs), KID(n->program.probes);
		break;
	case N_PROBE:
		KID(n->probe.attach), KID(n->probe.pred), KID(n->probe.body);
		break;
	case N_STRUCT_DECL:
		KID(n->struct_decl.fields);
		break;
	case N_FIELD_DECL:
		KID(n->field_decl.type_name);
		break;
	case N_BLOCK:
		KID(n->block.stmts);
		break;
	case N_EXPR_STMT:
	case N_RETURN:
		KID(n->stmt.expr);
		break;
	case N_ASSIGN:
		KID(n->assign.target), KID(n->assign.value);
		break;
	case N_IF:
		KID(n->if_.cond), KID(n->if_.then), KID(n->if_.els);
		break;
	case N_UNROLL:
	case N_WHILE:
		KID(n->loop.cond), KID(n->loop.body);
		break;
	case N_FOR:
		KID(n->for_.var), KID(n->for_.map), KID(n->for_.lo), KID(n->for_.hi);
		KID(n->for_.body);
		break;
	case N_LET:
		KID(n->let.var), KID(n->let.type_name), KID(n->let.value);
		break;
	case N_MACRO:
		KID(n->macro.params), KID(n->macro.body);
		break;
	case N_BLOCK_EXPR:
		KID(n->block_expr.stmts), KID(n->block_expr.value);
		break;
	case N_MAP:
		KID(n->map.keys);
		break;
	case N_BINOP:
		KID(n->binop.lhs), KID(n->binop.rhs);
		break;
	case N_UNOP:
		KID(n->unop.operand);
		break;
	case N_INCDEC:
		KID(n->incdec.operand);
		break;
	case N_TERNARY:
		KID(n->ternary.cond), KID(n->ternary.then), KID(n->ternary.els);
		break;
	case N_CALL:
		KID(n->call.args);
		break;
	case N_FIELD:
		KID(n->field.base);
		break;
	case N_INDEX:
		KID(n->index.base), KID(n->index.index);
		break;
	case N_TUPLE:
		KID(n->tuple.elems);
		break;
	case N_CAST:
		KID(n->cast.type_name), KID(n->cast.expr);
		break;
	case N_SIZEOF:
		KID(n->size_of.type_name), KID(n->size_of.expr);
		break;
	case N_OFFSETOF:
		KID(n->offset_of.type_name);
		break;
	default:
		break;
	}
#undef KID
	return k;
}

/* One byte of a quoted string or char literal, as a C escape if needed. */
static void put_escaped(FILE *out, unsigned char c, char quote)
{
	static const char from[] = "\\\n\t\r\a\b\f\v", to[] = "\\ntrabfv";
	const char *p = c ? strchr(from, c) : NULL;

	if (p)
		fprintf(out, "\\%c", to[p - from]);
	else if (c == (unsigned char)quote)
		fprintf(out, "\\%c", quote);
	else if (c < 0x20 || c >= 0x7f)
		fprintf(out, "\\x%02x", c);
	else
		fputc(c, out);
}

/* Writes s[0, len) between double quotes, re-encoding escapes. */
static void dump_quoted(FILE *out, const char *s, size_t len)
{
	size_t i;

	fputc('"', out);
	for (i = 0; i < len; i++)
		put_escaped(out, (unsigned char)s[i], '"');
	fputc('"', out);
}

/* An attach point part: bare when it is plain, else quoted. */
static void dump_part(FILE *out, const char *s)
{
	const char *p;

	for (p = s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '\\')
			break;
	if (*s && !*p)
		fputs(s, out);
	else
		dump_quoted(out, s, strlen(s));
}

static void dump_attach(FILE *out, const struct node *n)
{
	int i;

	fprintf(out, " %s", n->attach.provider ? n->attach.provider : "?");
	for (i = 0; i < n->attach.nparts; i++) {
		fputc(' ', out);
		dump_part(out, n->attach.parts[i]);
	}
	if (n->attach.has_offset)
		fprintf(out, " +%" PRIu64, n->attach.offset);
	fputc(' ', out);
	dump_quoted(out, n->attach.raw, strlen(n->attach.raw));
}

static void dump_typename(FILE *out, const struct node *n)
{
	int i;

	fprintf(out, " %s%s", n->type_name.is_struct ? "struct " : "", n->type_name.name);
	if (n->type_name.ptr_depth)
		fputc(' ', out);
	for (i = 0; i < n->type_name.ptr_depth; i++)
		fputc('*', out);
	if (n->type_name.array_len >= 0)
		fprintf(out, "[%" PRId64 "]", n->type_name.array_len);
}

static void dump_int(FILE *out, const struct node *n)
{
	fprintf(out, " %" PRIu64, n->num.value);
	if (n->num.is_char) {
		fputs(" '", out);
		put_escaped(out, (unsigned char)n->num.value, '\'');
		fputc('\'', out);
	}
}

/* The part of a line between the kind name and the span. */
static void dump_payload(FILE *out, const struct node *n)
{
	switch (n->kind) {
	case N_ATTACH:
		dump_attach(out, n);
		break;
	case N_STRUCT_DECL:
		fprintf(out, " %s", n->struct_decl.name);
		break;
	case N_MACRO:
		fprintf(out, " %s", n->macro.name);
		break;
	case N_FIELD_DECL:
		fprintf(out, " %s", n->field_decl.name);
		break;
	case N_TYPENAME:
		dump_typename(out, n);
		break;
	case N_ASSIGN:
		fprintf(out, " %s=", n->assign.compound ? ast_binop_str(n->assign.op) : "");
		break;
	case N_INT:
		dump_int(out, n);
		break;
	case N_STR:
		fputc(' ', out);
		dump_quoted(out, n->str.value, n->str.len);
		break;
	case N_IDENT:
	case N_VAR:
		fprintf(out, " %s", n->ident.name);
		break;
	case N_POSPARAM:
		fprintf(out, " $%d", n->posparam.index);
		break;
	case N_POSCOUNT:
		fputs(" $#", out);
		break;
	case N_MAP:
		fprintf(out, " %s", n->map.name);
		break;
	case N_BINOP:
		fprintf(out, " %s", ast_binop_str(n->binop.op));
		break;
	case N_UNOP:
		fprintf(out, " %s", ast_unop_str(n->unop.op));
		break;
	case N_INCDEC:
		fprintf(out, " %s %s", n->incdec.is_inc ? "++" : "--",
			n->incdec.is_prefix ? "prefix" : "postfix");
		break;
	case N_CALL:
		fprintf(out, " %s", n->call.name);
		break;
	case N_FIELD:
		fprintf(out, " %s%s", n->field.is_arrow ? "->" : ".", n->field.name);
		break;
	case N_OFFSETOF:
		fprintf(out, " %s", n->offset_of.field);
		break;
	default:
		break;
	}
}

static bool is_expr_kind(enum node_kind kind)
{
	return kind >= N_INT && kind <= N_BLOCK_EXPR;
}

static void dump_node(FILE *out, const struct node *n, const struct source *src, bool with_types,
		      int depth)
{
	struct node *kids[AST_MAX_CHILDREN];
	uint32_t bl, bc, el, ec;
	char buf[128];
	int i, nkids;

	fprintf(out, "%*s", depth * 2, "");
	if (depth > DUMP_MAX_DEPTH) {
		fputs("...\n", out);
		return;
	}
	fputs(ast_kind_name(n->kind), out);
	dump_payload(out, n);
	src_line_col(src, n->span.begin, &bl, &bc);
	src_line_col(src, n->span.end, &el, &ec);
	fprintf(out, " @%u:%u-%u:%u", bl, bc, el, ec);
	if (with_types && n->type && is_expr_kind(n->kind))
		fprintf(out, " : %s", type_name_str(n->type, buf, sizeof(buf)));
	else if (with_types && n->type && n->kind == N_STRUCT_DECL)
		fprintf(out, " : %s, size %u", type_name_str(n->type, buf, sizeof(buf)),
			n->type->size);
	else if (with_types && n->type && n->kind == N_FIELD_DECL)
		fprintf(out, " : %s, offset %u, size %u", type_name_str(n->type, buf, sizeof(buf)),
			n->field_decl.offset, n->type->size);
	if (with_types && n->type && n->kind == N_FIELD_DECL && n->field_decl.bits)
		fprintf(out, ", bits %u..%u", n->field_decl.bit_offset,
			n->field_decl.bit_offset + (unsigned)n->field_decl.bits - 2);
	fputc('\n', out);
	nkids = ast_children(n, kids);
	for (i = 0; i < nkids; i++)
		for (const struct node *k = kids[i]; k; k = k->next)
			dump_node(out, k, src, with_types, depth + 1);
}

void ast_dump(FILE *out, const struct node *n, const struct source *src, bool with_types)
{
	if (n)
		dump_node(out, n, src, with_types, 0);
}
