/* source.h: script text, its line table, and spans.
 *
 * A span is a pair of byte offsets into one source; line and column are
 * computed from the line table only when a diagnostic is printed. The span
 * is also bison's location type (YYLTYPE), so no other file needs the
 * generated parser header to talk about positions.
 */
#ifndef TRACE_SOURCE_H
#define TRACE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

struct span {
	uint32_t file;	/* index of the source; 0 is the script */
	uint32_t begin; /* byte offset of the first character */
	uint32_t end;	/* byte offset one past the last character */
};

struct source {
	const char *name; /* "stdin" for -e programs, else the path */
	char *text;	  /* NUL-terminated; owned */
	size_t len;
	uint32_t *line_starts; /* byte offset of each line's first char */
	uint32_t nlines;
};

/* Takes a copy of text. Returns NULL on allocation failure. */
struct source *src_new(const char *name, const char *text, size_t len);
/* Reads a whole file ("-" is stdin). Returns NULL and sets errno on error. */
struct source *src_read_file(const char *path, const char *display_name);
void src_free(struct source *s);

/* 1-based line and column of a byte offset. Column counts bytes. */
void src_line_col(const struct source *s, uint32_t off, uint32_t *line, uint32_t *col);
/* The text of a 1-based line, without its newline. */
const char *src_line(const struct source *s, uint32_t line, size_t *len);

static inline struct span span_join(struct span a, struct span b)
{
	struct span r = a;
	if (b.begin < r.begin)
		r.begin = b.begin;
	if (b.end > r.end)
		r.end = b.end;
	return r;
}

#endif
