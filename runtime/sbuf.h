/* sbuf.h: a growing text buffer, the bottom of the output layers.
 *
 * In: bytes and printf formats. Out: one NUL-terminated buffer. An
 * allocation failure is sticky in `err` (-ENOMEM) and turns later appends
 * into no-ops, so callers check once at the end.
 * Does not: write anywhere (the writers do, writer.h).
 */
#ifndef TRACE_RUNTIME_SBUF_H
#define TRACE_RUNTIME_SBUF_H

#include <stdarg.h>
#include <stddef.h>

struct rt_sbuf {
	char *s; /* NUL-terminated when len > 0 */
	size_t len, cap;
	int err;
};

void rt_sbuf_put(struct rt_sbuf *b, const char *s, size_t n);
void rt_sbuf_puts(struct rt_sbuf *b, const char *s);
void rt_sbuf_printf(struct rt_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rt_sbuf_vprintf(struct rt_sbuf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
void rt_sbuf_free(struct rt_sbuf *b);

/* s[0..n) as the inside of a JSON string (no quotes): '"' and '\\'
 * escaped, \n \r \t \b \f by name, other bytes below 0x20 as \u00XX;
 * valid UTF-8 sequences copied as they are; every byte that is not part
 * of a valid UTF-8 sequence (stray continuation, overlong form, surrogate,
 * above U+10FFFF, cut short) as \u00XX of its value, so the result is
 * valid JSON for any input and the byte can be told back
 * (docs/output-format.md, "JSON strings"). */
void rt_json_escape(struct rt_sbuf *b, const char *s, size_t n);

#endif
