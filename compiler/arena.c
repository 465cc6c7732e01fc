/* arena.c: bump allocator for one compilation.
 *
 * In: allocation requests from every compiler pass. Out: zero-filled,
 * max_align_t-aligned memory that lives until arena_free(). Memory comes
 * in chunks of at least 64 KiB; a request larger than that gets a chunk
 * of its own, so a huge string never wastes a half-used chunk. There is
 * no per-object free and no reuse: a compilation is short-lived.
 *
 * Out of memory aborts: the compiler cannot do anything useful without
 * memory, and callers are spared a NULL check on every node.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/arena.h"

#define ARENA_CHUNK_SIZE (64 * 1024)
#define ARENA_ALIGN	 _Alignof(max_align_t)

struct arena_chunk {
	struct arena_chunk *next;
	size_t size; /* usable bytes in data */
	size_t used;
	_Alignas(max_align_t) unsigned char data[];
};

static struct arena_chunk *chunk_new(size_t size)
{
	struct arena_chunk *c = malloc(sizeof(*c) + size);

	if (!c) {
		fputs("trace: out of memory\n", stderr);
		abort();
	}
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

void *arena_alloc(struct arena *a, size_t size)
{
	struct arena_chunk *c = a->head;
	size_t need = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	void *p;

	if (need < size) {
		fputs("trace: out of memory\n", stderr);
		abort();
	}
	if (!c || c->size - c->used < need) {
		if (need > ARENA_CHUNK_SIZE / 4) {
			/* A big block gets its own chunk, behind the head so
			 * that the head's free space is not lost. */
			c = chunk_new(need);
			if (a->head) {
				c->next = a->head->next;
				a->head->next = c;
			} else {
				a->head = c;
			}
			c->used = need;
			a->used += size;
			memset(c->data, 0, need);
			return c->data;
		}
		c = chunk_new(ARENA_CHUNK_SIZE);
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->used;
	c->used += need;
	a->used += size;
	memset(p, 0, need);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return arena_strdup(a, "");
	p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void arena_free(struct arena *a)
{
	struct arena_chunk *c = a->head, *next;

	while (c) {
		next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->used = 0;
}
