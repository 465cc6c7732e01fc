/* test_cpp.c: the preprocessor (compiler/cpp.c), without libclang.
 *
 * Covers macro expansion (object- and function-like, nesting, no
 * recursion, #, ##, __VA_ARGS__), conditionals with defined() and C
 * arithmetic, BPFTRACE_HAVE_BTF, the offset map back to the script (and
 * so diagnostics after an expansion), #include resolution against -I and
 * a fake header provider, attach points left alone, and every error:
 * unterminated #if, unknown directive, missing header (error without BTF,
 * warning with), #include when includes are off, bad #if expressions,
 * argument counts, expansion bombs. Exits non-zero if any CHECK fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compiler/arena.h"
#include "compiler/cpp.h"
#include "compiler/diag.h"
#include "compiler/parse.h"
#include "compiler/source.h"

#include "tests/unit/check.h"

static bool btf_yes(void)
{
	return true;
}

static bool btf_no(void)
{
	return false;
}

/* ---- a fake header provider ---- */

static char last_prelude[4096];
static int nparses;

static size_t last_nnames;
static bool saw_name_max;

static int fake_parse(void *ctx, const char *prelude, const char *const *names, size_t nnames,
		      const char *const *incdirs, int nincdirs, char *err, size_t errlen)
{
	(void)ctx, (void)incdirs, (void)nincdirs, (void)err, (void)errlen;
	last_nnames = nnames;
	saw_name_max = false;
	for (size_t k = 0; k < nnames; k++) {
		saw_name_max |= !strcmp(names[k], "MAX_FROM_C");
		if (k > 0 && strcmp(names[k - 1], names[k]) >= 0)
			return -1; /* must be sorted and unique */
	}
	snprintf(last_prelude, sizeof(last_prelude), "%s", prelude);
	nparses++;
	return 0;
}

static const struct cpp_macro *fake_macro(void *ctx, const char *name)
{
	static const char *params[] = { "x" };
	static const struct cpp_macro o_creat = { "O_CREAT", "00000100", NULL, -1, false };
	static const struct cpp_macro ipproto = { "IPPROTO_TCP", "IPPROTO_TCP", NULL, -1, false };
	static const struct cpp_macro twice = { "TWICE", "((x) * 2)", params, 1, false };
	static const struct cpp_macro max = { "MAX_FROM_C", "((unsigned int) 4096)", NULL, -1,
					      false };
	(void)ctx;
	if (!strcmp(name, "O_CREAT"))
		return &o_creat;
	if (!strcmp(name, "IPPROTO_TCP"))
		return &ipproto;
	if (!strcmp(name, "TWICE"))
		return &twice;
	if (!strcmp(name, "MAX_FROM_C"))
		return &max;
	return NULL;
}

/* What clang evaluates: a cast that the script could not parse. */
static bool fake_value(void *ctx, const char *name, int64_t *v)
{
	(void)ctx;
	if (!strcmp(name, "MAX_FROM_C"))
		return *v = 4096, true;
	return false;
}

static bool fake_enum(void *ctx, const char *name, int64_t *v)
{
	(void)ctx;
	if (!strcmp(name, "IPPROTO_TCP"))
		return *v = 6, true;
	if (!strcmp(name, "AT_FDCWD"))
		return *v = -100, true;
	return false;
}

static const struct cpp_header_ops fake_ops = { fake_parse, fake_macro, fake_enum, fake_value,
						NULL };

/* ---- helpers ---- */

struct run {
	struct source *src;
	struct cpp_result r;
	char diag[4096];
	int rc, nerrors, nwarnings;
};

static void run_opts(struct run *x, const char *text, const struct cpp_opts *o)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&mem, &len);
	struct diag d;

	x->src = src_new("t.bt", text, strlen(text));
	diag_init(&d, x->src, f);
	x->rc = cpp_run(x->src, o, &d, &x->r);
	x->nerrors = d.nerrors;
	x->nwarnings = d.nwarnings;
	fclose(f);
	snprintf(x->diag, sizeof(x->diag), "%s", mem ? mem : "");
	free(mem);
}

static void run(struct run *x, const char *text)
{
	struct cpp_opts o = { .has_btf = btf_no };
	run_opts(x, text, &o);
}

static void done(struct run *x)
{
	cpp_result_free(&x->r);
	src_free(x->src);
}

/* The output with runs of blanks squeezed to one space, trimmed (an
 * expansion is written with a space on each side). */
static const char *squeeze(const struct run *x)
{
	static char buf[4096];
	size_t n = 0;
	bool space = false;
	for (size_t i = 0; x->r.text && i < x->r.len && n + 2 < sizeof(buf); i++) {
		char ch = x->r.text[i];
		if (ch == ' ' || ch == '\n' || ch == '\t') {
			space = n > 0;
			continue;
		}
		if (space)
			buf[n++] = ' ';
		space = false;
		buf[n++] = ch;
	}
	buf[n] = '\0';
	return buf;
}

static void expect(const char *text, const char *want)
{
	struct run x;
	run(&x, text);
	const char *got = squeeze(&x);
	if (strcmp(got, want) || x.nerrors)
		fprintf(stderr, "input:\n%s\n got: '%s' (%d errors: %s)\nwant: '%s'\n", text, got,
			x.nerrors, x.diag, want);
	CHECK(!strcmp(got, want) && x.nerrors == 0);
	done(&x);
}

/* Runs text, expects errors whose output holds `want`. */
static void expect_error(const char *text, const char *want)
{
	struct run x;
	run(&x, text);
	if (!x.nerrors || !strstr(x.diag, want))
		fprintf(stderr, "input:\n%s\ndiag: '%s'\nwant: '%s'\n", text, x.diag, want);
	CHECK(x.nerrors > 0 && strstr(x.diag, want));
	done(&x);
}

/* ---- tests ---- */

static void test_macros(void)
{
	expect("#define MAX 10\nBEGIN { if ($x > MAX) { } }", "BEGIN { if ($x > 10 ) { } }");
	expect("#define A B\n#define B 3\nBEGIN { @ = A; }", "BEGIN { @ = 3 ; }");
	expect("#define SQ(x) ((x) * (x))\nBEGIN { @ = SQ(1 + 2); }",
	       "BEGIN { @ = ( ( 1 + 2 ) * ( 1 + 2 ) ) ; }");
	/* a macro is not expanded in its own expansion */
	expect("#define f(x) x + f(x)\nBEGIN { @ = f(1); }", "BEGIN { @ = 1 + f ( 1 ) ; }");
	expect("#define X X + 1\nBEGIN { @ = X; }", "BEGIN { @ = X + 1 ; }");
	/* nested arguments, arguments across lines */
	expect("#define ADD(a, b) (a + b)\nBEGIN { @ = ADD(ADD(1, 2),\n (3)); }",
	       "BEGIN { @ = ( ( 1 + 2 ) + ( 3 ) ) ; }");
	/* function-like without '(' is a plain name */
	expect("#define F(x) x\nBEGIN { $F = 1; @ = F; }", "BEGIN { $F = 1; @ = F; }");
	expect("#define S(x) #x\nBEGIN { printf(S(a \"b\")); }",
	       "BEGIN { printf( \"a \\\"b\\\"\" ); }");
	expect("#define CAT(a, b) a ## b\nBEGIN { @ = CAT(12, 34); }", "BEGIN { @ = 1234 ; }");
	expect("#define P(fmt, ...) printf(fmt, __VA_ARGS__)\nBEGIN { P(\"%d %d\", 1, 2); }",
	       "BEGIN { printf ( \"%d %d\" , 1 , 2 ) ; }");
	expect("#define X 1\n#undef X\nBEGIN { @ = X; }", "BEGIN { @ = X; }");
	/* not in strings, comments, $vars, @maps or attach points */
	expect("#define pid 1\nBEGIN { printf(\"pid\"); $pid = @pid; } // pid",
	       "BEGIN { printf(\"pid\"); $pid = @pid; } // pid");
	expect("#define sys_enter X\ntracepoint:raw_syscalls:sys_enter { @ = sys_enter; }",
	       "tracepoint:raw_syscalls:sys_enter { @ = X ; }");
	/* continuation lines in a directive */
	expect("#define LONG 1 + \\\n 2\nBEGIN { @ = LONG; }", "BEGIN { @ = 1 + 2 ; }");
	expect("#!/usr/bin/env trace\n#define X 5\nBEGIN { @ = X; }",
	       "#!/usr/bin/env trace BEGIN { @ = 5 ; }");
}

static void test_conditionals(void)
{
	expect("#if 1 + 2 * 3 == 7\nA\n#else\nB\n#endif", "A");
	expect("#if 0\nA\n#elif 2 > 1\nB\n#else\nC\n#endif", "B");
	expect("#define X\n#ifdef X\nA\n#endif\n#ifndef X\nB\n#endif", "A");
	expect("#if defined(Y) || defined X\nA\n#else\nB\n#endif", "B");
	expect("#if 0\n#if 1\nA\n#else\nB\n#endif\n#else\nC\n#endif", "C");
	expect("#if -1 > 0u\nU\n#endif\n#if -1 < 0\nS\n#endif", "U S");
	expect("#if (0x10 >> 2) == 4 && 010 == 8 && 'a' == 97 && (5 % 3 ? 1 : 0)\nA\n#endif", "A");
	expect("#define N 3\n#define IS(x) ((x) > 2)\n#if IS(N) && UNDEFINED_IS_0 == 0\nA\n#endif",
	       "A");
	/* inactive branches may hold anything */
	expect("#if 0\n#foo\n#include <nowhere.h>\n#error no\n#endif\nok", "ok");

	struct run x;
	struct cpp_opts yes = { .has_btf = btf_yes }, no = { .has_btf = btf_no };
	const char *t = "#ifdef BPFTRACE_HAVE_BTF\nbtf\n#else\nnobtf\n#endif";
	run_opts(&x, t, &yes);
	CHECK(!strcmp(squeeze(&x), "btf"));
	done(&x);
	run_opts(&x, t, &no);
	CHECK(!strcmp(squeeze(&x), "nobtf"));
	done(&x);
}

static void test_errors(void)
{
	expect_error("#if 1\nBEGIN { }\n", "t.bt:1:1: error: unterminated #if");
	expect_error("BEGIN { }\n  #foo bar\n",
		     "t.bt:2:3: error: unknown preprocessor directive '#foo'");
	expect_error("#endif\n", "t.bt:1:1: error: #endif without #if");
	expect_error("#if 1\n#else\n#elif 1\n#endif\n", "t.bt:3:1: error: #elif after #else");
	expect_error("#if 1 / 0\n#endif\n", "division by zero in #if");
	expect_error("#if (1\n#endif\n", "missing ')' in #if");
	expect_error("#if\n#endif\n", "#if expression is missing");
	expect_error("#if 1 2\n#endif\n", "extra tokens at the end");
	expect_error("#define\n", "#define needs a macro name");
	expect_error("#define F(x, 1) x\n", "invalid parameter list");
	expect_error("#define F(x, y) x\nBEGIN { @ = F(1); }",
		     "t.bt:2:13: error: macro 'F' takes 2 arguments, 1 given");
	expect_error("#define F(x) x\nBEGIN { @ = F(1; }",
		     "unterminated argument list invoking macro 'F'");
	expect_error("#error stop here\n", "t.bt:1:1: error: #error stop here");
	expect_error("#include nothing\n", "#include expects <FILE> or \"FILE\"");
	expect_error("#include <definitely/not/here.h>\n",
		     "header <definitely/not/here.h> not found");
	expect_error("#include \"not-here.h\"\n", "searched: .");
	/* an expansion bomb stops at the size limit */
	expect_error(
		"#define a b b b b b b b b\n#define b c c c c c c c c\n#define c d d d d d d d d\n"
		"#define d e e e e e e e e\n#define e f f f f f f f f\n#define f g g g g g g g g\n"
		"#define g h h h h h h h h\n#define h i i i i i i i i\nBEGIN { @ = a; }",
		"macro expansion is too large");

	struct run x;
	struct cpp_opts btf = { .has_btf = btf_yes }, fuzz = { .no_includes = true };
	run_opts(&x, "#include <net/not-installed-here.h>\nBEGIN { }", &btf);
	CHECK(x.nerrors == 0 && x.nwarnings == 1 &&
	      strstr(x.diag, "types come from the kernel's BTF"));
	done(&x);
	run_opts(&x, "#include <stdio.h>\n", &fuzz);
	CHECK(x.nerrors == 1 && strstr(x.diag, "#include is not available here"));
	done(&x);
}

/* Output offsets map back to the script: verbatim bytes one to one, an
 * expansion to its whole invocation. */
static void test_map(void)
{
	struct run x;
	const char *t = "#define MAX 10\nBEGIN { if ($x > MAX) { } }";
	run(&x, t);
	const char *ten = strstr(x.r.text, "10"), *brace = strstr(x.r.text, "{ }");
	uint32_t o = (uint32_t)(ten - x.r.text), ob = (uint32_t)(brace - x.r.text);
	uint32_t max = (uint32_t)(strstr(t, "MAX)") - t);
	CHECK(cpp_map_begin(&x.r, o) == max && cpp_map_end(&x.r, o + 2) == max + 3);
	CHECK(cpp_map_begin(&x.r, ob) == (uint32_t)(strstr(t, "{ }") - t));
	CHECK(cpp_map_begin(&x.r, (uint32_t)x.r.len) == strlen(t));
	done(&x);

	/* a syntax error after an expansion is at the user's line and column */
	char *mem = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&mem, &len);
	struct diag d;
	struct arena a = { 0 };
	const char *bad =
		"#define SQ(x) ((x) * (x))\n#if 1\nBEGIN {\n\t$a = SQ(2) + ;\n}\n#endif\n";
	struct source *src = src_new("t.bt", bad, strlen(bad));
	struct cpp_opts o2 = { .has_btf = btf_no };
	struct cpp_result r;
	diag_init(&d, src, f);
	CHECK(cpp_run(src, &o2, &d, &r) == 0);
	parse_program_pp(src, &r, &a, &d);
	fclose(f);
	if (!strstr(mem, "t.bt:4:15: error:"))
		fprintf(stderr, "diag: %s\n", mem);
	CHECK(strstr(mem, "t.bt:4:15: error:") != NULL);
	free(mem);
	cpp_result_free(&r);
	arena_free(&a);
	src_free(src);
}

static void test_headers(void)
{
	char dir[] = "/tmp/test_cpp.XXXXXX", path[256], text[512];
	struct run x;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/mine.h", dir);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs("#define MINE 1\n", f);
	fclose(f);
	const char *incdirs[] = { dir };
	struct cpp_opts o = {
		.incdirs = incdirs, .nincdirs = 1, .has_btf = btf_no, .hdr = &fake_ops
	};
	snprintf(text, sizeof(text),
		 "#define _GNU_SOURCE 1\n#include <mine.h>\nBEGIN { @ = O_CREAT | TWICE(3); "
		 "@x = IPPROTO_TCP; @y = AT_FDCWD; @z = args->AT_FDCWD; }");
	nparses = 0;
	run_opts(&x, text, &o);
	CHECK(x.nerrors == 0 && nparses == 1);
	snprintf(text, sizeof(text), "#define _GNU_SOURCE 1\n#include \"%s\"\n", path);
	CHECK(!strcmp(last_prelude, text));
	CHECK(!strcmp(squeeze(&x), "BEGIN { @ = 00000100 | ( ( 3 ) * 2 ) ; @x = 6 ; @y = (-100) ; "
				   "@z = args->AT_FDCWD; }"));
	CHECK(x.r.nheaders == 1);
	done(&x);
	/* a header macro clang evaluated is its value; the provider was given
	 * the script's identifiers, sorted and unique */
	run_opts(&x, "#include <mine.h>\nBEGIN { @ = MAX_FROM_C + MAX_FROM_C; }", &o);
	CHECK(x.nerrors == 0 && saw_name_max &&
	      last_nnames == 5); /* BEGIN MAX_FROM_C h include mine */
	CHECK(!strcmp(squeeze(&x), "BEGIN { @ = 4096 + 4096 ; }"));
	done(&x);
	/* without a provider, a header is an error that says why */
	o.hdr = NULL;
	run_opts(&x, "#include <mine.h>\n", &o);
	CHECK(x.nerrors == 1 && strstr(x.diag, "libclang is not available"));
	done(&x);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_macros();
	test_conditionals();
	test_errors();
	test_map();
	test_headers();
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures != 0;
}
