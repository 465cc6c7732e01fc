/* test_lexer.c: tokens, spans and lexical errors of grammar/lexer.l.
 *
 * Drives the flex scanner directly (no parser) over small texts and
 * checks token kinds, spans and values: attach point lexing in its start
 * condition, predicates and ENDPRED, TOP_CLOSE, numbers, escapes,
 * comments, and the errors (with their exact spans) for bad input.
 * Exits non-zero if any CHECK fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/arena.h"
#include "compiler/diag.h"
#include "compiler/source.h"
#include "parser.h"
#include "lexer.h"

#include "tests/unit/check.h"

#define MAX_TOKENS 64

struct token {
	int kind;
	struct span sp;
	YYSTYPE val;
};

struct lexed {
	struct token tok[MAX_TOKENS];
	int n;
	int nerrors;
	char errors[2048]; /* the diagnostics, as printed */
};

static struct arena arena;

/* Lexes text to the end; every token, the EOF one included. */
static void lex(const char *text, struct lexed *out)
{
	struct source *src = src_new("l.bt", text, strlen(text));
	struct parse_ctx p;
	struct diag d;
	void *scanner;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	YYSTYPE val;
	YYLTYPE loc;
	int kind;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	diag_init(&d, src, f);
	p.src = src;
	p.arena = &arena;
	p.diag = &d;
	p.len = (uint32_t)src->len;
	yylex_init_extra(&p, &scanner);
	yy_scan_bytes(src->text, (int)src->len, scanner);
	do {
		kind = yylex(&val, &loc, scanner);
		if (out->n < MAX_TOKENS)
			out->tok[out->n++] = (struct token){ kind, loc, val };
	} while (kind != YYEOF);
	yylex_destroy(scanner);
	fclose(f);
	out->nerrors = d.nerrors;
	snprintf(out->errors, sizeof(out->errors), "%s", buf);
	free(buf);
	src_free(src);
}

/* Kinds of all tokens, the EOF excluded, then YYEOF. */
static void check_kinds(const char *text, const int *kinds, int line)
{
	struct lexed l;
	int i;

	lex(text, &l);
	for (i = 0; i < l.n; i++) {
		if (l.tok[i].kind != kinds[i]) {
			fprintf(stderr, "line %d: %s: token %d is %d, want %d\n", line, text, i,
				l.tok[i].kind, kinds[i]);
			failures++;
			return;
		}
	}
}

#define KINDS(text, ...) check_kinds(text, (const int[]){ __VA_ARGS__, YYEOF }, __LINE__)

static bool span_is(const struct token *t, uint32_t b, uint32_t e)
{
	return t->sp.begin == b && t->sp.end == e;
}

static void test_top_level(void)
{
	struct lexed l;

	KINDS("BEGIN { }", ATTACH, '{', TOP_CLOSE);
	KINDS("a:b, c:d\n{ x }", ATTACH, ',', ATTACH, '{', IDENT, TOP_CLOSE);
	KINDS("k:f /pid/ { }", ATTACH, '/', IDENT, ENDPRED, '{', TOP_CLOSE);
	KINDS("k:f/pid/{}", ATTACH, '/', IDENT, ENDPRED, '{', TOP_CLOSE);
	KINDS("k:f /a / 2/ {}", ATTACH, '/', IDENT, '/', INT, ENDPRED, '{', TOP_CLOSE);
	KINDS("k:f /a/ // c\n/* d */ {}", ATTACH, '/', IDENT, ENDPRED, '{', TOP_CLOSE);
	KINDS("k:f // {}", ATTACH, '/', ENDPRED, '{', TOP_CLOSE);
	KINDS("BEGIN // comment {\n{}", ATTACH, '{', TOP_CLOSE);
	KINDS("struct S { int x; };", STRUCT, IDENT, '{', IDENT, IDENT, ';', TOP_CLOSE, ';');
	KINDS("#include <x.h>\n  #include \"y.h\"\nBEGIN{}", ATTACH, '{', TOP_CLOSE);
	KINDS("BEGIN { { } } }", ATTACH, '{', '{', '}', TOP_CLOSE, TOP_CLOSE);
	KINDS("structure:x {}", ATTACH, '{', TOP_CLOSE);

	lex("uprobe:/lib/x86_64-linux-gnu/libc.so.6:malloc+4 /pid/", &l);
	CHECK(l.tok[0].kind == ATTACH && span_is(&l.tok[0], 0, 47));
	CHECK(strcmp(l.tok[0].val.str, "uprobe:/lib/x86_64-linux-gnu/libc.so.6:malloc+4") == 0);
	lex("uprobe:/bin/bash:readline/pid/{}", &l);
	CHECK(strcmp(l.tok[0].val.str, "uprobe:/bin/bash:readline") == 0 && l.tok[1].kind == '/');
	lex("kprobe:f/pid/{}", &l);
	CHECK(strcmp(l.tok[0].val.str, "kprobe:f") == 0);
	lex("t:sched:sched_[ws]*,k:vfs_?ead{}", &l);
	CHECK(strcmp(l.tok[0].val.str, "t:sched:sched_[ws]*") == 0);
	CHECK(strcmp(l.tok[2].val.str, "k:vfs_?ead") == 0);
	lex("uprobe:\"/my prog\":main {}", &l);
	CHECK(strcmp(l.tok[0].val.str, "uprobe:\"/my prog\":main") == 0);
	lex("#!/usr/bin/env trace\nBEGIN{}", &l);
	CHECK(l.nerrors == 0 && l.tok[0].kind == ATTACH && span_is(&l.tok[0], 21, 26));
}

static void test_operators(void)
{
	KINDS("x{a == b != c <= d >= e << f >> g && h || i}", ATTACH, '{', IDENT, EQ, IDENT, NE,
	      IDENT, LE, IDENT, GE, IDENT, SHL, IDENT, SHR, IDENT, AND, IDENT, OR, IDENT,
	      TOP_CLOSE);
	KINDS("x{a++ --b c->d e.f $t.0 0..1}", ATTACH, '{', IDENT, INC, DEC, IDENT, IDENT, ARROW,
	      IDENT, IDENT, '.', IDENT, VAR, '.', INT, INT, DOTDOT, INT, TOP_CLOSE);
	KINDS("x{a += 1; a <<= 2; a >>= 3; a /= 4;}", ATTACH, '{', IDENT, COMPOUND_ASSIGN, INT, ';',
	      IDENT, COMPOUND_ASSIGN, INT, ';', IDENT, COMPOUND_ASSIGN, INT, ';', IDENT,
	      COMPOUND_ASSIGN, INT, ';', TOP_CLOSE);
	KINDS("x{if else unroll while for return break continue sizeof offsetof struct}", ATTACH,
	      '{', IF, ELSE, UNROLL, WHILE, FOR, RETURN, BREAK, CONTINUE, SIZEOF, OFFSETOF, STRUCT,
	      TOP_CLOSE);
	KINDS("x{uint8 int64 bool string buffer void inet int char iffy}", ATTACH, '{', TYPE, TYPE,
	      TYPE, TYPE, TYPE, TYPE, TYPE, IDENT, IDENT, IDENT, TOP_CLOSE);
	KINDS("x{$x $1 $# @ @m}", ATTACH, '{', VAR, POSPARAM, POSCOUNT, MAP, MAP, TOP_CLOSE);
}

static void test_values_and_spans(void)
{
	struct lexed l;

	lex("x{ $abc @m $12 a<<=b }", &l);
	CHECK(span_is(&l.tok[2], 3, 7) && strcmp(l.tok[2].val.str, "$abc") == 0);
	CHECK(span_is(&l.tok[3], 8, 10) && strcmp(l.tok[3].val.str, "@m") == 0);
	CHECK(span_is(&l.tok[4], 11, 14) && l.tok[4].val.num == 12);
	CHECK(span_is(&l.tok[6], 16, 19) && l.tok[6].val.op == OP_SHL);
	CHECK(l.tok[8].kind == TOP_CLOSE && span_is(&l.tok[8], 21, 22));
	CHECK(l.tok[9].kind == YYEOF && span_is(&l.tok[9], 22, 22));

	lex("x{ }  \n  ", &l);
	CHECK(l.tok[3].kind == YYEOF &&
	      span_is(&l.tok[3], 4, 4)); /* EOF sits after the last token */
}

static uint64_t int_value(const char *text, int *nerrors)
{
	struct lexed l;
	char buf[128];

	snprintf(buf, sizeof(buf), "x{%s}", text);
	lex(buf, &l);
	*nerrors = l.nerrors;
	CHECK(l.tok[2].kind == INT && l.tok[3].kind == TOP_CLOSE);
	return l.tok[2].val.node->num.value;
}

static void test_numbers(void)
{
	int e;

	CHECK(int_value("0", &e) == 0 && e == 0);
	CHECK(int_value("42", &e) == 42 && e == 0);
	CHECK(int_value("1_000_000", &e) == 1000000 && e == 0);
	CHECK(int_value("0x7fFF", &e) == 0x7fff && e == 0);
	CHECK(int_value("0XDEAD_BEEF", &e) == 0xdeadbeef && e == 0);
	CHECK(int_value("0777", &e) == 0777 && e == 0);
	CHECK(int_value("18446744073709551615", &e) == UINT64_MAX && e == 0);
	CHECK(int_value("0xffffffffffffffff", &e) == UINT64_MAX && e == 0);
	CHECK(int_value("1e6", &e) == 1000000 && e == 0);
	CHECK(int_value("2_5E3", &e) == 25000 && e == 0);
	CHECK(int_value("18e18", &e) == 18000000000000000000ull && e == 0);
	CHECK(int_value("0x1e6", &e) == 0x1e6 && e == 0);
	CHECK(int_value("5u", &e) == 5 && e == 0);
	CHECK(int_value("10ULL", &e) == 10 && e == 0);
	CHECK(int_value("0x10ul", &e) == 16 && e == 0);
	CHECK(int_value("'a'", &e) == 'a' && e == 0);
	CHECK(int_value("'\\n'", &e) == '\n' && e == 0);
	CHECK(int_value("'\\''", &e) == '\'' && e == 0);
	CHECK(int_value("'\\377'", &e) == 255 && e == 0);
	int_value("18446744073709551616", &e);
	CHECK(e == 1);
	int_value("0x10000000000000000", &e);
	CHECK(e == 1);
	int_value("0xZZ", &e);
	CHECK(e == 1);
	int_value("0x", &e);
	CHECK(e == 1);
	int_value("089", &e);
	CHECK(e == 1);
	int_value("12abc", &e);
	CHECK(e == 1);
	int_value("19e18", &e);
	CHECK(e == 1);
	int_value("1e", &e);
	CHECK(e == 1);
	int_value("5uu", &e);
	CHECK(e == 1);
	int_value("''", &e);
	CHECK(e == 1);
	int_value("'ab'", &e);
	CHECK(e == 1);
}

/* The decoded value of a string literal, and the lexer's error count. */
static const char *str_value(const char *text, uint32_t *len, int *nerrors)
{
	static char buf[256];
	struct lexed l;
	char in[256];

	snprintf(in, sizeof(in), "x{%s}", text);
	lex(in, &l);
	*nerrors = l.nerrors;
	CHECK(l.tok[2].kind == STRING);
	*len = l.tok[2].val.node->str.len;
	memcpy(buf, l.tok[2].val.node->str.value, *len + 1);
	return buf;
}

static void test_strings(void)
{
	const char *s;
	uint32_t len;
	int e;

	s = str_value("\"a\\tb\\nc\\\\d\\\"e\\'f\"", &len, &e);
	CHECK(e == 0 && len == 11 && memcmp(s, "a\tb\nc\\d\"e'f", 11) == 0);
	s = str_value("\"\\x41\\x4a\\101\\60\\0z\\r\\a\\b\\f\\v\"", &len, &e);
	CHECK(e == 0 && len == 11 && memcmp(s, "AJA0\0z\r\a\b\f\v", 11) == 0);
	s = str_value("\"\\x414\"", &len, &e); /* at most two hex digits */
	CHECK(e == 0 && len == 2 && memcmp(s, "A4", 2) == 0);
	s = str_value("\"h\xc3\xa9\"", &len, &e);
	CHECK(e == 0 && len == 3);
	s = str_value("\"\"", &len, &e);
	CHECK(e == 0 && len == 0 && s[0] == '\0');
	str_value("\"a\\qb\"", &len, &e);
	CHECK(e == 1);
	str_value("\"\\x\"", &len, &e);
	CHECK(e == 1);
	str_value("\"\\400\"", &len, &e);
	CHECK(e == 1);
}

static void test_errors(void)
{
	struct lexed l;

	lex("x{ \"abc\n}", &l);
	CHECK(l.nerrors == 1 && strstr(l.errors, "l.bt:1:4: error: unterminated string literal"));
	CHECK(l.tok[2].kind == STRING && span_is(&l.tok[2], 3, 7));
	CHECK(l.tok[3].kind == TOP_CLOSE);

	lex("x{ \"a\\qb\" }", &l);
	CHECK(strstr(l.errors, "l.bt:1:6: error: unknown escape sequence '\\q'\n"));
	CHECK(strstr(l.errors, "\n     ^~\n"));

	lex("x{ /* never", &l);
	CHECK(l.nerrors == 1 && strstr(l.errors, "1:4: error: unterminated comment"));
	CHECK(l.tok[2].kind == YYEOF);

	lex("x{ ` \xe2\x82\xac \xff \x01 }", &l);
	CHECK(l.nerrors == 4);
	CHECK(strstr(l.errors, "unexpected character '`'"));
	CHECK(strstr(l.errors, "unexpected character '\xe2\x82\xac'"));
	CHECK(strstr(l.errors, "unexpected byte '\\xff'"));
	CHECK(strstr(l.errors, "unexpected byte '\\x01'"));
	CHECK(l.tok[2].kind == TOP_CLOSE);

	lex("x{ $ }", &l);
	CHECK(l.nerrors == 1 && l.tok[2].kind == VAR);

	lex("x{ $99999999999 }", &l);
	CHECK(l.nerrors == 1 && l.tok[2].kind == POSPARAM);

	lex("#define X\nBEGIN{}", &l);
	CHECK(l.nerrors == 1 && strstr(l.errors, "'#define'"));
}

/* NUL bytes go through src_new's length, not strlen: lex by hand. */
static void test_nul_byte(void)
{
	static const char text[] = "x{ a\0b }";
	struct source *src = src_new("n.bt", text, sizeof(text) - 1);
	struct parse_ctx p;
	struct diag d;
	FILE *f = fopen("/dev/null", "w");
	void *scanner;
	YYSTYPE val;
	YYLTYPE loc;
	int kinds[8], n = 0;

	memset(&p, 0, sizeof(p));
	diag_init(&d, src, f);
	p.src = src;
	p.arena = &arena;
	p.diag = &d;
	p.len = (uint32_t)src->len;
	yylex_init_extra(&p, &scanner);
	yy_scan_bytes(src->text, (int)src->len, scanner);
	while (n < 8 && (kinds[n++] = yylex(&val, &loc, scanner)) != YYEOF)
		;
	yylex_destroy(scanner);
	CHECK(d.nerrors == 1);
	CHECK(n == 6 && kinds[2] == IDENT && kinds[3] == IDENT && kinds[4] == TOP_CLOSE);
	fclose(f);
	src_free(src);
}

int main(void)
{
	test_top_level();
	test_operators();
	test_values_and_spans();
	test_numbers();
	test_strings();
	test_errors();
	test_nul_byte();
	arena_free(&arena);
	if (failures)
		fprintf(stderr, "test_lexer: %d failure(s)\n", failures);
	return failures != 0;
}
