/* diag.c: print diagnostics as they are reported.
 *
 * In: errors, warnings, notes and hints with a span into the script.
 * Out: text on d->out, in bpftrace's layout:
 *
 *   FILE:LINE:COL: error: message
 *   <the source line>
 *   <spaces>^~~~~
 *
 * LINE and COL are 1-based; COL counts bytes. The caret line copies tabs
 * from the source line and counts one column for each UTF-8 character, so
 * the caret lines up under the span on a terminal (wide CJK characters are
 * not handled). The '~' run covers the rest of the span, clamped to its
 * first line; an empty span prints only '^'. Control characters in the
 * echoed line print as spaces and invalid UTF-8 bytes as '?', so the
 * output stays plain text. Lines longer than SHOW_MAX bytes are cut to a
 * window around the span, marked with "...".
 *
 * After max_errors errors the next one prints "too many errors; stopping"
 * and nothing else is printed (counting goes on); diag_finish() then
 * prints the total. Notes and hints attached to an unprinted error are
 * dropped with it. Only one source is known: span.file is ignored.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "compiler/diag.h"

#define SHOW_MAX    160 /* longest source excerpt printed */
#define SHOW_BEFORE 60	/* bytes kept before the span in a cut line */

static const char *const level_names[] = {
	[DIAG_ERROR] = "error",
	[DIAG_WARNING] = "warning",
	[DIAG_NOTE] = "note",
	[DIAG_HINT] = "hint",
};

void diag_init(struct diag *d, const struct source *src, FILE *out)
{
	memset(d, 0, sizeof(*d));
	d->src = src;
	d->out = out ? out : stderr;
	d->max_errors = 20;
}

/* Length of the UTF-8 character at s (at most n bytes), or 0 if s does
 * not start a valid one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

static size_t glyph_len(const unsigned char *s, size_t n)
{
	size_t len = utf8_len(s, n);

	return len ? len : 1;
}

/* Echoes line[from, to), "..." marking the cut ends. */
static void echo_line(FILE *out, const unsigned char *line, size_t from, size_t to, size_t len)
{
	size_t i, n;

	fputs(from > 0 ? "..." : "", out);
	for (i = from; i < to; i += n) {
		n = utf8_len(line + i, to - i);
		if (n == 0) {
			fputc('?', out);
			n = 1;
		} else if (n > 1) {
			fwrite(line + i, 1, n, out);
		} else if (line[i] == '\t' || (line[i] >= 0x20 && line[i] != 0x7f)) {
			fputc(line[i], out);
		} else {
			fputc(' ', out);
		}
	}
	fputs(to < len ? "...\n" : "\n", out);
}

/* The caret line for [begin, end) under the echo of line[from, to). */
static void caret_line(FILE *out, const unsigned char *line, size_t from, size_t to, size_t begin,
		       size_t end)
{
	size_t i = from, n = 0;

	fputs(from > 0 ? "   " : "", out);
	for (; i < to; i += n) {
		n = glyph_len(line + i, to - i);
		if (i + n > begin)
			break;
		fputc(line[i] == '\t' ? '\t' : ' ', out);
	}
	fputc('^', out);
	if (i < to)
		i += n;
	for (; i < to && i < end; i += n) {
		n = glyph_len(line + i, to - i);
		fputc('~', out);
	}
	fputc('\n', out);
}

/* The source line of sp, then the caret line. */
static void print_source(const struct diag *d, struct span sp)
{
	const struct source *src = d->src;
	uint32_t line, col;
	size_t len, begin, end, from = 0, to;
	const unsigned char *text;

	src_line_col(src, sp.begin, &line, &col);
	text = (const unsigned char *)src_line(src, line, &len);
	begin = col - 1;
	if (begin > len)
		begin = len;
	end = sp.end > sp.begin ? begin + (sp.end - sp.begin) : begin;
	if (end > len)
		end = len;
	to = len;
	if (len > SHOW_MAX) {
		from = begin > SHOW_BEFORE ? begin - SHOW_BEFORE : 0;
		while (from > 0 && from < len && (text[from] & 0xc0) == 0x80)
			from++;
		to = from + SHOW_MAX < len ? from + SHOW_MAX : len;
	}
	echo_line(d->out, text, from, to, len);
	caret_line(d->out, text, from, to, begin, end);
}

/* True when this message may be printed; handles the error limit. */
static bool may_print(struct diag *d, enum diag_level level)
{
	if (level == DIAG_ERROR) {
		d->nerrors++;
		if (d->max_errors > 0 && d->nerrors > d->max_errors) {
			if (!d->suppressed)
				fputs("error: too many errors; stopping\n", d->out);
			d->suppressed = true;
		}
	} else if (level == DIAG_WARNING) {
		d->nwarnings++;
	}
	return !d->suppressed;
}

__attribute__((format(printf, 4, 0))) static void
vreport(struct diag *d, enum diag_level level, const struct span *sp, const char *fmt, va_list ap)
{
	uint32_t line, col;

	if (!may_print(d, level))
		return;
	if (level == DIAG_HINT) {
		fputs("hint: ", d->out);
	} else if (sp && d->src) {
		src_line_col(d->src, sp->begin, &line, &col);
		fprintf(d->out, "%s:%u:%u: %s: ", d->src->name, line, col, level_names[level]);
	} else if (d->src) {
		fprintf(d->out, "%s: %s: ", d->src->name, level_names[level]);
	} else {
		fprintf(d->out, "%s: ", level_names[level]);
	}
	vfprintf(d->out, fmt, ap);
	fputc('\n', d->out);
	if (sp && d->src && level != DIAG_HINT)
		print_source(d, *sp);
}

void diag_error(struct diag *d, struct span sp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(d, DIAG_ERROR, &sp, fmt, ap);
	va_end(ap);
}

void diag_warning(struct diag *d, struct span sp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(d, DIAG_WARNING, &sp, fmt, ap);
	va_end(ap);
}

void diag_note(struct diag *d, struct span sp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(d, DIAG_NOTE, &sp, fmt, ap);
	va_end(ap);
}

void diag_hint(struct diag *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(d, DIAG_HINT, NULL, fmt, ap);
	va_end(ap);
}

void diag_error_nospan(struct diag *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(d, DIAG_ERROR, NULL, fmt, ap);
	va_end(ap);
}

void diag_finish(struct diag *d)
{
	if (d->suppressed)
		fprintf(d->out, "%d error%s generated.\n", d->nerrors, d->nerrors == 1 ? "" : "s");
	fflush(d->out);
}
