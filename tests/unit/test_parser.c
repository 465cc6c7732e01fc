/* test_parser.c: the grammar, attach point splitting and error recovery.
 *
 * Parses small scripts with parse_program() and checks the tree: each
 * expression is printed as an s-expression ("(+ 1 (* 2 3))") to check
 * precedence and associativity, attach points are checked field by
 * field, and broken scripts must report the expected number of errors
 * (error recovery) without crashing, also when nested too deeply.
 * Exits non-zero if any CHECK fails.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/parse.h"

#include "tests/unit/check.h"

struct parsed {
	struct source *src;
	struct arena arena;
	struct diag diag;
	struct node *prog;
	char *errors; /* diagnostics text */
};

static void parse(struct parsed *r, const char *text, size_t len)
{
	size_t n = 0;
	FILE *f;

	memset(r, 0, sizeof(*r));
	r->src = src_new("p.bt", text, len);
	f = open_memstream(&r->errors, &n);
	diag_init(&r->diag, r->src, f);
	r->diag.max_errors = 0; /* count them all */
	r->prog = parse_program(r->src, &r->arena, &r->diag);
	fclose(f);
}

static void done(struct parsed *r)
{
	arena_free(&r->arena);
	src_free(r->src);
	free(r->errors);
}

/* Appends the s-expression of n to buf. */
static void sexpr(const struct node *n, char *buf, size_t size)
{
	size_t len = strlen(buf);
	const struct node *k;

#define OUT(...) snprintf(buf + strlen(buf), size - strlen(buf), __VA_ARGS__)
	if (len + 1 >= size)
		return;
	switch (n->kind) {
	case N_INT:
		OUT("%" PRIu64, n->num.value);
		break;
	case N_STR:
		OUT("\"%s\"", n->str.value);
		break;
	case N_IDENT:
	case N_VAR:
		OUT("%s", n->ident.name);
		break;
	case N_POSPARAM:
		OUT("$%d", n->posparam.index);
		break;
	case N_MAP:
		OUT("%s", n->map.name);
		for (k = n->map.keys; k; k = k->next)
			OUT("%s", k == n->map.keys ? "[" : ","), sexpr(k, buf, size);
		OUT("%s", n->map.keys ? "]" : "");
		break;
	case N_BINOP:
		OUT("(%s ", ast_binop_str(n->binop.op)), sexpr(n->binop.lhs, buf, size);
		OUT(" "), sexpr(n->binop.rhs, buf, size), OUT(")");
		break;
	case N_UNOP:
		OUT("(%s ", ast_unop_str(n->unop.op)), sexpr(n->unop.operand, buf, size), OUT(")");
		break;
	case N_INCDEC:
		OUT("(%s%s ", n->incdec.is_prefix ? "pre" : "post", n->incdec.is_inc ? "++" : "--");
		sexpr(n->incdec.operand, buf, size), OUT(")");
		break;
	case N_TERNARY:
		OUT("(? "), sexpr(n->ternary.cond, buf, size), OUT(" ");
		sexpr(n->ternary.then, buf, size), OUT(" "), sexpr(n->ternary.els, buf, size);
		OUT(")");
		break;
	case N_CALL:
		OUT("(%s", n->call.name);
		for (k = n->call.args; k; k = k->next)
			OUT(" "), sexpr(k, buf, size);
		OUT(")");
		break;
	case N_FIELD:
		OUT("(%s ", n->field.is_arrow ? "->" : "."), sexpr(n->field.base, buf, size);
		OUT(" %s)", n->field.name);
		break;
	case N_INDEX:
		OUT("([] "), sexpr(n->index.base, buf, size), OUT(" ");
		sexpr(n->index.index, buf, size), OUT(")");
		break;
	case N_TUPLE:
		OUT("(tuple");
		for (k = n->tuple.elems; k; k = k->next)
			OUT(" "), sexpr(k, buf, size);
		OUT(")");
		break;
	case N_CAST:
		OUT("(cast %s%s%.*s ", n->cast.type_name->type_name.is_struct ? "struct " : "",
		    n->cast.type_name->type_name.name, n->cast.type_name->type_name.ptr_depth,
		    "********");
		sexpr(n->cast.expr, buf, size), OUT(")");
		break;
	default:
		OUT("<%s>", ast_kind_name(n->kind));
		break;
	}
#undef OUT
}

/* The s-expression of the value of the first statement `$r = EXPR`. */
static void check_expr(const char *expr, const char *want, int line)
{
	char text[512], got[1024] = "";
	struct parsed r;
	const struct node *st;

	snprintf(text, sizeof(text), "BEGIN { $r = %s; }", expr);
	parse(&r, text, strlen(text));
	st = r.prog && r.prog->program.probes ? r.prog->program.probes->probe.body->block.stmts :
						NULL;
	if (r.diag.nerrors || !st || st->kind != N_ASSIGN) {
		fprintf(stderr, "line %d: %s: does not parse:\n%s", line, expr, r.errors);
		failures++;
	} else {
		sexpr(st->assign.value, got, sizeof(got));
		if (strcmp(got, want) != 0) {
			fprintf(stderr, "line %d: %s: got %s, want %s\n", line, expr, got, want);
			failures++;
		}
	}
	done(&r);
}

#define EXPR(e, want) check_expr(e, want, __LINE__)

static void test_precedence(void)
{
	EXPR("1 + 2 * 3", "(+ 1 (* 2 3))");
	EXPR("(1 + 2) * 3", "(* (+ 1 2) 3)");
	EXPR("1 << 2 + 3", "(<< 1 (+ 2 3))");
	EXPR("1 < 2 == 3 > 4", "(== (< 1 2) (> 3 4))");
	EXPR("1 | 2 ^ 3 & 4", "(| 1 (^ 2 (& 3 4)))");
	EXPR("1 || 2 && 3", "(|| 1 (&& 2 3))");
	EXPR("1 == 2 & 3", "(& (== 1 2) 3)");
	EXPR("a && b | c", "(&& a (| b c))");
	EXPR("!1 + -2 * ~3", "(+ (! 1) (* (- 2) (~ 3)))");
	EXPR("10 % 3 - 8 / 2", "(- (% 10 3) (/ 8 2))");
	EXPR("a || b ? c : d", "(? (|| a b) c d)");
	EXPR("a ? b : c || d", "(? a b (|| c d))");
	EXPR("*p->f", "(* (-> p f))");
	EXPR("-x++", "(- (post++ x))");
	EXPR("++x.y", "(pre++ (. x y))");
	EXPR("&a[1]", "(& ([] a 1))");
	EXPR("(uint16)x + 1", "(+ (cast uint16 x) 1)");
	EXPR("(struct task_struct *)curtask->parent",
	     "(cast struct task_struct* (-> curtask parent))");
	EXPR("((struct t *)c)->p", "(-> (cast struct t* c) p)");
	EXPR("(int8)-1", "(cast int8 (- 1))");
	EXPR("$x == \"s\" ? \"a\" : \"b\"", "(? (== $x \"s\") \"a\" \"b\")");
}

static void test_associativity(void)
{
	EXPR("1 - 2 - 3", "(- (- 1 2) 3)");
	EXPR("8 / 4 / 2", "(/ (/ 8 4) 2)");
	EXPR("1 << 2 << 3", "(<< (<< 1 2) 3)");
	EXPR("a == b == c", "(== (== a b) c)");
	EXPR("a ? b : c ? d : e", "(? a b (? c d e))");
	EXPR("a ? b ? c : d : e", "(? a (? b c d) e)");
	EXPR("- - 1", "(- (- 1))");
	EXPR("!!x", "(! (! x))");
	EXPR("x.a.b", "(. (. x a) b)");
	EXPR("x->a->b", "(-> (-> x a) b)");
	EXPR("a[1][2]", "([] ([] a 1) 2)");
}

static void test_postfix_and_primary(void)
{
	EXPR("@m[1, \"a\"]", "@m[1,\"a\"]");
	EXPR("@[comm]", "@[comm]");
	EXPR("@m[1][2]", "([] @m[1] 2)");
	EXPR("@", "@");
	EXPR("$t.0.1", "(. (. $t 0) 1)");
	EXPR("(1, \"two\", (3, 4))", "(tuple 1 \"two\" (tuple 3 4))");
	EXPR("f()", "(f)");
	EXPR("f(1, g(2))", "(f 1 (g 2))");
	EXPR("$1 + $#", "(+ $1 <poscount>)");
	EXPR("$x.if.struct", "(. (. $x if) struct)");
	EXPR("args->string", "(-> args string)");
	EXPR("sizeof(uint32)", "<sizeof>");
	EXPR("offsetof(struct Foo, a.b)", "<offsetof>");
	EXPR("'a' + 0", "(+ 97 0)");
}

static struct node *first_stmt(struct parsed *r)
{
	return r->prog->program.probes->probe.body->block.stmts;
}

static void test_statements(void)
{
	struct parsed r;
	struct node *s;
	const char *text = "BEGIN { ;; $x += 1; if (a) { } else if (b) { } else { } "
			   "unroll(3) { } while (c) { break; continue } "
			   "for ($kv : @m) { } for ($i : 0..10) { } { } return }";

	parse(&r, text, strlen(text));
	CHECK(r.diag.nerrors == 0);
	s = first_stmt(&r);
	CHECK(s->kind == N_ASSIGN && s->assign.compound && s->assign.op == OP_ADD);
	s = s->next;
	CHECK(s->kind == N_IF && s->if_.els->kind == N_IF && s->if_.els->if_.els->kind == N_BLOCK);
	s = s->next;
	CHECK(s->kind == N_UNROLL && s->loop.cond->num.value == 3);
	s = s->next;
	CHECK(s->kind == N_WHILE && ast_list_len(s->loop.body->block.stmts) == 2);
	CHECK(s->loop.body->block.stmts->next->kind == N_CONTINUE);
	s = s->next;
	CHECK(s->kind == N_FOR && s->for_.map && !s->for_.lo &&
	      strcmp(s->for_.var->ident.name, "$kv") == 0);
	s = s->next;
	CHECK(s->kind == N_FOR && !s->for_.map && s->for_.lo->num.value == 0 &&
	      s->for_.hi->num.value == 10);
	s = s->next;
	CHECK(s->kind == N_BLOCK);
	s = s->next;
	CHECK(s->kind == N_RETURN && !s->stmt.expr && !s->next);
	done(&r);
}

static void test_program_shape(void)
{
	struct parsed r;
	const struct node *p, *f;
	const char *text =
		"#!/bin/trace\n#include <x.h>\nstruct A { unsigned long x; char n[8]; };\n"
		"BEGIN { } kprobe:f, kprobe:g /pid/ { @x = 1 }\nstruct B { struct A *a; }";

	parse(&r, text, strlen(text));
	CHECK(r.diag.nerrors == 0);
	CHECK(ast_list_len(r.prog->program.structs) == 2);
	CHECK(ast_list_len(r.prog->program.probes) == 2);
	p = r.prog->program.probes->next;
	CHECK(p->probe.index == 1 && ast_list_len(p->probe.attach) == 2);
	CHECK(p->probe.pred && p->probe.pred->kind == N_IDENT);
	f = r.prog->program.structs->struct_decl.fields;
	CHECK(strcmp(f->field_decl.name, "x") == 0 &&
	      strcmp(f->field_decl.type_name->type_name.name, "unsigned long") == 0);
	CHECK(f->next->field_decl.type_name->type_name.array_len == 8);
	f = r.prog->program.structs->next->struct_decl.fields;
	CHECK(f->field_decl.type_name->type_name.is_struct &&
	      f->field_decl.type_name->type_name.ptr_depth == 1);
	done(&r);
}

/* Parses "ATTACH { }" and returns the attach node (r stays alive). */
static const struct node *attach(struct parsed *r, const char *text)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s { }", text);
	parse(r, buf, strlen(buf));
	return r->prog->program.probes ? r->prog->program.probes->probe.attach : NULL;
}

static void check_attach(const char *text, const char *provider, int nparts, const char *p0,
			 const char *p1, const char *p2, int64_t offset, int line)
{
	struct parsed r;
	const struct node *a = attach(&r, text);
	const char *want[3] = { p0, p1, p2 };
	int i, bad = !a || r.diag.nerrors;

	if (!bad)
		bad = strcmp(a->attach.provider, provider) || a->attach.nparts != nparts ||
		      strcmp(a->attach.raw, text) ||
		      (offset < 0 ? a->attach.has_offset :
				    !a->attach.has_offset || a->attach.offset != (uint64_t)offset);
	for (i = 0; !bad && i < nparts && i < 3; i++)
		bad = strcmp(a->attach.parts[i], want[i]) != 0;
	if (bad) {
		fprintf(stderr, "line %d: attach point %s split wrong\n%s", line, text, r.errors);
		failures++;
	}
	done(&r);
}

#define ATTACH_IS(text, prov, n, p0, p1, p2, off) \
	check_attach(text, prov, n, p0, p1, p2, off, __LINE__)

static void test_attach_points(void)
{
	struct parsed r;

	ATTACH_IS("BEGIN", "BEGIN", 0, NULL, NULL, NULL, -1);
	ATTACH_IS("end", "END", 0, NULL, NULL, NULL, -1);
	ATTACH_IS("t:syscalls:sys_enter_*", "tracepoint", 2, "syscalls", "sys_enter_*", NULL, -1);
	ATTACH_IS("kprobe:do_sys_open+10", "kprobe", 1, "do_sys_open", NULL, NULL, 10);
	ATTACH_IS("k:f+0x10", "kprobe", 1, "f", NULL, NULL, 16);
	ATTACH_IS("kr:mod:f?x", "kretprobe", 2, "mod", "f?x", NULL, -1);
	ATTACH_IS("uprobe:/bin/bash:readline+4", "uprobe", 2, "/bin/bash", "readline", NULL, 4);
	ATTACH_IS("u:/usr/lib/libstdc++.so.6:f", "uprobe", 2, "/usr/lib/libstdc++.so.6", "f", NULL,
		  -1);
	ATTACH_IS("uprobe:/lib/a+1", "uprobe", 1, "/lib/a+1", NULL, NULL, -1);
	ATTACH_IS("uprobe:/bin/x:0x1234", "uprobe", 2, "/bin/x", "0x1234", NULL, -1);
	ATTACH_IS("ur:libc:free", "uretprobe", 2, "libc", "free", NULL, -1);
	ATTACH_IS("usdt:/p:prov:probe", "usdt", 3, "/p", "prov", "probe", -1);
	ATTACH_IS("U:/p:probe", "usdt", 2, "/p", "probe", NULL, -1);
	ATTACH_IS("fentry:f", "fentry", 1, "f", NULL, NULL, -1);
	ATTACH_IS("kfunc:f", "fentry", 1, "f", NULL, NULL, -1);
	ATTACH_IS("fr:f", "fexit", 1, "f", NULL, NULL, -1);
	ATTACH_IS("kretfunc:f", "fexit", 1, "f", NULL, NULL, -1);
	ATTACH_IS("rt:sched_switch", "rawtracepoint", 1, "sched_switch", NULL, NULL, -1);
	ATTACH_IS("p:hz:99", "profile", 2, "hz", "99", NULL, -1);
	ATTACH_IS("i:s:1", "interval", 2, "s", "1", NULL, -1);
	ATTACH_IS("s:cpu-clock:1000", "software", 2, "cpu-clock", "1000", NULL, -1);
	ATTACH_IS("h:cache-misses", "hardware", 1, "cache-misses", NULL, NULL, -1);
	ATTACH_IS("it:task_file", "iter", 1, "task_file", NULL, NULL, -1);
	ATTACH_IS("w:0x10:8:rw", "watchpoint", 3, "0x10", "8", "rw", -1);
	ATTACH_IS("aw:0x10:8:rw", "asyncwatchpoint", 3, "0x10", "8", "rw", -1);
	ATTACH_IS("uprobe:\"/my prog\":\"ns::f\"", "uprobe", 2, "/my prog", "ns::f", NULL, -1);

	attach(&r, "foo:bar");
	CHECK(r.diag.nerrors == 1 && strstr(r.errors, "unknown provider 'foo'"));
	done(&r);
	attach(&r, "kprobe:");
	CHECK(r.diag.nerrors == 1 && strstr(r.errors, "1:7: error:") && strstr(r.errors, "empty"));
	done(&r);
	attach(&r, "uprobe:a:b:c:d:e");
	CHECK(r.diag.nerrors == 1 && strstr(r.errors, "more than 4"));
	done(&r);
	attach(&r, "tracepiont:a:b");
	CHECK(strstr(r.errors, "hint: did you mean 'tracepoint'?"));
	done(&r);
}

static int count_errors(const char *text)
{
	struct parsed r;
	int n;

	parse(&r, text, strlen(text));
	n = r.diag.nerrors;
	done(&r);
	return n;
}

static void test_recovery(void)
{
	CHECK(count_errors("BEGIN { @x = ; @y = 1 +; @z = ); @ok = 1; }") == 3);
	CHECK(count_errors("kprobe:a { @x = ; }\nkprobe:b { @y = ; }\nkprobe:c { @z = ; }") == 3);
	CHECK(count_errors("BEGIN { if (x y) { @a = ; } @b = 1 @c = 2; }") == 3);
	CHECK(count_errors("BEGIN { } } END { @x = ; }") == 2);
	CHECK(count_errors("foo:x { @a = ; } BEGIN { else { } }") == 3);
	CHECK(count_errors("BEGIN { $x = 0xZZ + 1; $y = \"\\q\"; }") == 2);
	CHECK(count_errors("BEGIN { @x = 1 ` 2; }") == 1); /* no cascade */
	CHECK(count_errors("BEGIN { printf(\"x); }") == 1);
	CHECK(count_errors("BEGIN {") == 1);
	CHECK(count_errors("") == 0);
	CHECK(count_errors("// nothing\n") == 0);
}

static void test_depth_limits(void)
{
	static char buf[64 * 1024];
	int i, n;

	/* Deep parentheses make no nodes: fine up to the parser stack. */
	n = snprintf(buf, sizeof(buf), "BEGIN { @x = ");
	for (i = 0; i < 2000; i++)
		buf[n++] = '(';
	buf[n++] = '1';
	for (i = 0; i < 2000; i++)
		buf[n++] = ')';
	snprintf(buf + n, sizeof(buf) - (size_t)n, "; }");
	CHECK(count_errors(buf) == 0);

	/* Beyond the parser stack: a clear error, no crash. */
	n = snprintf(buf, sizeof(buf), "BEGIN { @x = ");
	for (i = 0; i < 20000; i++)
		buf[n++] = '(';
	snprintf(buf + n, sizeof(buf) - (size_t)n, "1; }");
	CHECK(count_errors(buf) == 1);

	/* A tree deeper than 512: unary chains, binary chains, blocks. */
	n = snprintf(buf, sizeof(buf), "BEGIN { @x = ");
	for (i = 0; i < 600; i++)
		buf[n++] = '!';
	snprintf(buf + n, sizeof(buf) - (size_t)n, "1; }");
	CHECK(count_errors(buf) == 1);
	n = snprintf(buf, sizeof(buf), "BEGIN { @x = 1");
	for (i = 0; i < 600; i++)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, " + 1");
	snprintf(buf + n, sizeof(buf) - (size_t)n, "; }");
	CHECK(count_errors(buf) == 1);
	n = snprintf(buf, sizeof(buf), "BEGIN { ");
	for (i = 0; i < 600; i++)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "if (1) { ");
	for (i = 0; i < 600; i++)
		buf[n++] = '}';
	snprintf(buf + n, sizeof(buf) - (size_t)n, " }");
	CHECK(count_errors(buf) == 1);
}

static void test_binary_input(void)
{
	static const char text[] = "BEGIN { @x = \"a\0b\"; }\0\xff\xfe kprobe:\x80 { }";
	struct parsed r;

	parse(&r, text, sizeof(text) - 1);
	CHECK(r.diag.nerrors >= 1);
	CHECK(r.prog && r.prog->program.probes);
	CHECK(r.prog->program.probes->probe.body->block.stmts->assign.value->str.len == 3);
	done(&r);
}

static void test_dump(void)
{
	struct parsed r;
	const char *text = "t:a:b /x/ { @[comm] = count(); $s = \"q\\\"\\n\"; }";
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	parse(&r, text, strlen(text));
	f = open_memstream(&out, &len);
	ast_dump(f, r.prog, r.src, false);
	fclose(f);
	CHECK(strcmp(out, "program @1:1-1:47\n"
			  "  probe @1:1-1:47\n"
			  "    attach tracepoint a b \"t:a:b\" @1:1-1:6\n"
			  "    ident x @1:8-1:9\n"
			  "    block @1:11-1:47\n"
			  "      assign = @1:13-1:30\n"
			  "        map @ @1:13-1:20\n"
			  "          ident comm @1:15-1:19\n"
			  "        call count @1:23-1:30\n"
			  "      assign = @1:32-1:44\n"
			  "        var $s @1:32-1:34\n"
			  "        str \"q\\\"\\n\" @1:37-1:44\n") == 0);
	free(out);
	done(&r);
}

int main(void)
{
	test_precedence();
	test_associativity();
	test_postfix_and_primary();
	test_statements();
	test_program_shape();
	test_attach_points();
	test_recovery();
	test_depth_limits();
	test_binary_input();
	test_dump();
	if (failures)
		fprintf(stderr, "test_parser: %d failure(s)\n", failures);
	return failures != 0;
}
