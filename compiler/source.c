/* source.c: script text and its line table.
 *
 * In: a name and the bytes of a script (from memory, a file or stdin).
 * Out: a NUL-terminated copy of the text and the byte offset of the start
 * of every line, so that a span's byte offset becomes line:column by a
 * binary search when (and only when) a diagnostic is printed.
 *
 * A line ends at '\n'. A text of N newlines has N + 1 lines: the last one
 * is empty when the text ends with a newline, and an empty text has one
 * empty line. That way every offset from 0 to len, including the end of
 * file, has a line. Columns count bytes from 1; src_line() leaves out the
 * newline and a '\r' before it. Scripts above 4 GiB are refused (offsets
 * are 32-bit). This file does not decode UTF-8: diag.c does that when it
 * lines up a caret.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler/source.h"

static int build_line_table(struct source *s)
{
	const char *p = s->text, *end = s->text + s->len;
	uint32_t n = 1;

	while ((p = memchr(p, '\n', end - p)) != NULL) {
		n++;
		p++;
	}
	s->line_starts = malloc(n * sizeof(*s->line_starts));
	if (!s->line_starts)
		return -ENOMEM;
	s->line_starts[0] = 0;
	s->nlines = 1;
	for (p = s->text; (p = memchr(p, '\n', end - p)) != NULL; p++)
		s->line_starts[s->nlines++] = (uint32_t)(p + 1 - s->text);
	return 0;
}

struct source *src_new(const char *name, const char *text, size_t len)
{
	struct source *s;

	if (len >= UINT32_MAX) {
		errno = EFBIG;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->name = strdup(name ? name : "stdin");
	s->text = malloc(len + 1);
	if (!s->name || !s->text)
		goto fail;
	if (len)
		memcpy(s->text, text, len);
	s->text[len] = '\0';
	s->len = len;
	if (build_line_table(s))
		goto fail;
	return s;
fail:
	src_free(s);
	errno = ENOMEM;
	return NULL;
}

/* Reads all of fd into a malloc'd buffer. */
static char *read_all(int fd, size_t *lenp)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap), *nbuf;
	ssize_t n;

	if (!buf)
		return NULL;
	for (;;) {
		if (len == cap) {
			cap *= 2;
			nbuf = realloc(buf, cap);
			if (!nbuf)
				goto fail;
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		len += (size_t)n;
	}
	*lenp = len;
	return buf;
fail:
	free(buf);
	return NULL;
}

struct source *src_read_file(const char *path, const char *display_name)
{
	int fd = 0, saved;
	size_t len = 0;
	char *buf;
	struct source *s;

	if (strcmp(path, "-") != 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return NULL;
	}
	buf = read_all(fd, &len);
	saved = errno;
	if (fd != 0)
		close(fd);
	if (!buf) {
		errno = saved;
		return NULL;
	}
	s = src_new(display_name ? display_name : path, buf, len);
	saved = errno;
	free(buf);
	errno = saved;
	return s;
}

void src_free(struct source *s)
{
	if (!s)
		return;
	free((char *)s->name);
	free(s->text);
	free(s->line_starts);
	free(s);
}

/* Index (0-based) of the line holding byte offset off. */
static uint32_t line_index(const struct source *s, uint32_t off)
{
	uint32_t lo = 0, hi = s->nlines;

	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (s->line_starts[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

void src_line_col(const struct source *s, uint32_t off, uint32_t *line, uint32_t *col)
{
	uint32_t i;

	if (off > s->len)
		off = (uint32_t)s->len;
	i = line_index(s, off);
	*line = i + 1;
	*col = off - s->line_starts[i] + 1;
}

const char *src_line(const struct source *s, uint32_t line, size_t *len)
{
	uint32_t begin, end;

	if (line < 1 || line > s->nlines) {
		*len = 0;
		return "";
	}
	begin = s->line_starts[line - 1];
	end = line < s->nlines ? s->line_starts[line] - 1 : (uint32_t)s->len;
	if (end > begin && s->text[end - 1] == '\r' && end < s->len)
		end--;
	*len = end - begin;
	return s->text + begin;
}
