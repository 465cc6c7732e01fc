/* arena.h: bump allocator for one compilation.
 *
 * AST nodes, types and interned strings come from the arena and are freed
 * all at once with it: no per-node free, clean under LeakSanitizer, and a
 * fuzz target can compile thousands of inputs in one process.
 */
#ifndef TRACE_ARENA_H
#define TRACE_ARENA_H

#include <stddef.h>
#include <string.h> /* ARENA_GROW */

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

/* Room for one more element in the array arr of n elements and capacity
 * cap (both lvalues): when full, a new array of twice the capacity (8 at
 * first) from the arena, the elements copied over. The old one stays in
 * the arena until it is freed. */
#define ARENA_GROW(a, arr, n, cap)                                                 \
	do {                                                                       \
		if ((n) == (cap)) {                                                \
			size_t nc_ = (cap) ? (size_t)(cap) * 2 : 8;                \
			void *na_ = arena_alloc((a), nc_ * sizeof(*(arr)));        \
			if (n)                                                     \
				memcpy(na_, (arr), (size_t)(n) * sizeof(*(arr)));  \
			(arr) = na_;                                               \
			(cap) = nc_;                                               \
		}                                                                  \
	} while (0)

#endif
