/* sbuf.c: the growing text buffer and the JSON string escaper.
 *
 * In: bytes. Out: a NUL-terminated buffer. Does not: write to a FILE.
 */
#include "runtime/sbuf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool sbuf_reserve(struct rt_sbuf *b, size_t extra)
{
	size_t cap;
	char *p;

	if (b->err)
		return false;
	if (b->len + extra + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1)
		cap *= 2;
	p = realloc(b->s, cap);
	if (!p) {
		b->err = -ENOMEM;
		return false;
	}
	b->s = p;
	b->cap = cap;
	return true;
}

void rt_sbuf_put(struct rt_sbuf *b, const char *s, size_t n)
{
	if (!sbuf_reserve(b, n))
		return;
	if (n)
		memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void rt_sbuf_puts(struct rt_sbuf *b, const char *s)
{
	rt_sbuf_put(b, s, strlen(s));
}

void rt_sbuf_vprintf(struct rt_sbuf *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	if (!sbuf_reserve(b, 64))
		return;
	va_copy(aq, ap);
	n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, aq);
	va_end(aq);
	if (n < 0) {
		b->s[b->len] = '\0';
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		if (!sbuf_reserve(b, (size_t)n))
			return;
		vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void rt_sbuf_printf(struct rt_sbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rt_sbuf_vprintf(b, fmt, ap);
	va_end(ap);
}

void rt_sbuf_free(struct rt_sbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

/* ---- JSON strings ----------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid.
 * RFC 3629's table: no overlong forms, no surrogates, nothing above
 * U+10FFFF. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

void rt_json_escape(struct rt_sbuf *b, const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, run = 0; /* bytes [run, i) are copied as they are */

	while (i < n) {
		uint8_t c = p[i];
		const char *esc = NULL;
		char hex[8];
		size_t len;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		if (c >= 0x80 && (len = utf8_len(p + i, n - i)) > 0) {
			i += len;
			continue;
		}
		switch (c) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\f':
			esc = "\\f";
			break;
		default:
			snprintf(hex, sizeof(hex), "\\u%04x", c);
			esc = hex;
		}
		rt_sbuf_put(b, s + run, i - run);
		rt_sbuf_puts(b, esc);
		run = ++i;
	}
	rt_sbuf_put(b, s + run, i - run);
}
