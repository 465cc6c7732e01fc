/* test_source.c: the line table, the arena and the diagnostic layout.
 *
 * Covers compiler/source.c (line and column of offsets, last line without
 * a newline, empty text, CRLF), compiler/arena.c (zeroing, alignment,
 * large blocks) and compiler/diag.c (the error/caret layout, tabs, spans
 * clamped to their line, notes and hints, the error limit). Exits
 * non-zero if any CHECK fails.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/arena.h"
#include "compiler/diag.h"
#include "compiler/source.h"

#include "tests/unit/check.h"

static void check_pos(const struct source *s, uint32_t off, uint32_t line, uint32_t col)
{
	uint32_t l, c;

	src_line_col(s, off, &l, &c);
	if (l != line || c != col)
		fprintf(stderr, "offset %u: got %u:%u, want %u:%u\n", off, l, c, line, col);
	CHECK(l == line && c == col);
}

static void test_line_col(void)
{
	struct source *s = src_new("t.bt", "ab\ncd\n\nx", 8);
	size_t len;
	const char *line;

	CHECK(s && s->nlines == 4);
	check_pos(s, 0, 1, 1);
	check_pos(s, 1, 1, 2);
	check_pos(s, 2, 1, 3); /* the newline itself */
	check_pos(s, 3, 2, 1);
	check_pos(s, 6, 3, 1);
	check_pos(s, 7, 4, 1);
	check_pos(s, 8, 4, 2);	  /* end of file, no newline */
	check_pos(s, 1000, 4, 2); /* clamped */
	line = src_line(s, 2, &len);
	CHECK(len == 2 && memcmp(line, "cd", 2) == 0);
	line = src_line(s, 3, &len);
	CHECK(len == 0);
	line = src_line(s, 4, &len);
	CHECK(len == 1 && line[0] == 'x');
	src_line(s, 5, &len);
	CHECK(len == 0);
	src_free(s);
}

static void test_empty_and_trailing_newline(void)
{
	struct source *s = src_new("e.bt", "", 0);
	size_t len;

	CHECK(s && s->nlines == 1 && s->len == 0 && s->text[0] == '\0');
	check_pos(s, 0, 1, 1);
	src_line(s, 1, &len);
	CHECK(len == 0);
	src_free(s);

	s = src_new("n.bt", "a\n", 2);
	CHECK(s->nlines == 2);
	check_pos(s, 2, 2, 1); /* EOF is on the empty last line */
	src_free(s);
}

static void test_crlf_and_nul(void)
{
	struct source *s = src_new("c.bt", "ab\r\ncd\r", 7);
	size_t len;
	const char *line;

	line = src_line(s, 1, &len);
	CHECK(len == 2 && memcmp(line, "ab", 2) == 0); /* '\r' before '\n' dropped */
	line = src_line(s, 2, &len);
	CHECK(len == 3); /* a last '\r' without '\n' stays */
	src_free(s);

	s = src_new("z.bt", "a\0b\nc", 5);
	CHECK(s->len == 5 && s->nlines == 2 && s->text[1] == '\0' && s->text[5] == '\0');
	check_pos(s, 4, 2, 1);
	src_free(s);
}

static void test_read_file(void)
{
	char path[] = "/tmp/test_source_XXXXXX.bt";
	struct source *s;
	FILE *f;
	int fd = mkstemps(path, 3);

	CHECK(fd >= 0);
	f = fdopen(fd, "w");
	fputs("BEGIN { }\n", f);
	fclose(f);
	s = src_read_file(path, "shown.bt");
	CHECK(s && strcmp(s->name, "shown.bt") == 0 && s->len == 10 && s->nlines == 2);
	src_free(s);
	s = src_read_file(path, NULL);
	CHECK(s && strcmp(s->name, path) == 0);
	src_free(s);
	remove(path);
	CHECK(src_read_file("/nonexistent/x.bt", NULL) == NULL);
}

static void test_arena(void)
{
	struct arena a = { 0 };
	char *p, *big, *s;
	int i;

	for (i = 0; i < 10000; i++) {
		p = arena_alloc(&a, (size_t)(i % 37) + 1);
		CHECK(((uintptr_t)p % _Alignof(max_align_t)) == 0);
		CHECK(p[0] == 0 && p[i % 37] == 0);
		memset(p, 0xab, (size_t)(i % 37) + 1);
	}
	big = arena_alloc(&a, 10 * 1024 * 1024);
	CHECK(big[0] == 0 && big[10 * 1024 * 1024 - 1] == 0);
	s = arena_strndup(&a, "hello world", 5);
	CHECK(strcmp(s, "hello") == 0);
	s = arena_printf(&a, "%s-%d", "x", 42);
	CHECK(strcmp(s, "x-42") == 0);
	CHECK(strcmp(arena_strdup(&a, ""), "") == 0);
	CHECK(a.used > 10 * 1024 * 1024);
	arena_free(&a);
	CHECK(a.head == NULL && a.used == 0);
	arena_free(&a); /* twice is fine */
}

/* Runs fn on a diag writing to a memory buffer; returns the text. */
static char *diag_text(const char *text, void (*fn)(struct diag *d))
{
	struct source *s = src_new("d.bt", text, strlen(text));
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct diag d;

	diag_init(&d, s, out);
	fn(&d);
	diag_finish(&d);
	fclose(out);
	src_free(s);
	return buf;
}

static void one_error(struct diag *d)
{
	struct span sp = { 0, 10, 13 };

	diag_error(d, sp, "bad %s", "thing");
}

static void tab_error(struct diag *d)
{
	struct span sp = { 0, 8, 9 };

	diag_error(d, sp, "tab");
}

static void multiline_span(struct diag *d)
{
	struct span sp = { 0, 4, 12 };

	diag_error(d, sp, "long");
	diag_note(d, sp, "see here");
	diag_hint(d, "try %d", 1);
	diag_warning(d, (struct span){ 0, 0, 0 }, "careful");
}

static void many_errors(struct diag *d)
{
	struct span sp = { 0, 0, 1 };
	int i;

	for (i = 0; i < 25; i++)
		diag_error(d, sp, "e%d", i);
	diag_note(d, sp, "dropped");
	CHECK(d->nerrors == 25 && d->suppressed);
}

static void nospan_error(struct diag *d)
{
	diag_error_nospan(d, "no probes");
	CHECK(diag_has_errors(d));
}

static void test_diag_layout(void)
{
	char *t;

	t = diag_text("BEGIN { @x = 1; }\n", one_error);
	CHECK(strcmp(t, "d.bt:1:11: error: bad thing\n"
			"BEGIN { @x = 1; }\n"
			"          ^~~\n") == 0);
	free(t);

	t = diag_text("\t\t$x = 1 +;\n", tab_error);
	CHECK(strcmp(t, "d.bt:1:9: error: tab\n"
			"\t\t$x = 1 +;\n"
			"\t\t      ^\n") == 0);
	free(t);

	/* The span runs past its line: the underline stops at the line end. */
	t = diag_text("ab\tcdef\nghij\n", multiline_span);
	CHECK(strcmp(t, "d.bt:1:5: error: long\n"
			"ab\tcdef\n"
			"  \t ^~~\n"
			"d.bt:1:5: note: see here\n"
			"ab\tcdef\n"
			"  \t ^~~\n"
			"hint: try 1\n"
			"d.bt:1:1: warning: careful\n"
			"ab\tcdef\n"
			"^\n") == 0);
	free(t);

	t = diag_text("x\n", many_errors);
	CHECK(strstr(t, "e19\n") && !strstr(t, "e20\n") && !strstr(t, "dropped"));
	CHECK(strstr(t, "error: too many errors; stopping\n25 errors generated.\n"));
	free(t);

	t = diag_text("", nospan_error);
	CHECK(strcmp(t, "d.bt: error: no probes\n") == 0);
	free(t);
}

static void utf8_error(struct diag *d)
{
	struct span sp = { 0, 12, 14 };

	diag_error(d, sp, "x");
}

static void test_diag_utf8(void)
{
	/* "é" is two bytes but one column: the caret lines up under 'x'. */
	char *t = diag_text("\"\xc3\xa9\xc3\xa9\" \xff\x01 + xy\n", utf8_error);

	CHECK(strstr(t, "\n\"\xc3\xa9\xc3\xa9\" ?  + xy\n          ^~\n") != NULL);
	free(t);
}

int main(void)
{
	test_line_col();
	test_empty_and_trailing_newline();
	test_crlf_and_nul();
	test_read_file();
	test_arena();
	test_diag_layout();
	test_diag_utf8();
	if (failures)
		fprintf(stderr, "test_source: %d failure(s)\n", failures);
	return failures != 0;
}
