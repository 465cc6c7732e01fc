/* arena.h: bump allocator for one compilation.
 *
 * AST nodes, types and interned strings come from the arena and are freed
 * all at once with it: no per-node free, clean under LeakSanitizer, and a
 * fuzz target can compile thousands of inputs in one process.
 */
#ifndef TRACE_ARENA_H
#define TRACE_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
	size_t used; /* bytes handed out, for -v statistics */
};

/* Zero-filled memory; aborts on out-of-memory (a compiler cannot go on). */
void *arena_alloc(struct arena *a, size_t size);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_free(struct arena *a);

#endif
