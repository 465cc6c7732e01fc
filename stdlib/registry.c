/* registry.c: name -> stdlib entry. The tables live beside their hooks
 * (builtins.c, aggs.c, io.c, misc.c); this file only searches them. */
#include <string.h>

#include "stdlib/stdlib.h"

const struct stdlib_fn *stdlib_find_fn(const char *name)
{
	const struct stdlib_fn *tables[] = { stdlib_agg_fns, stdlib_io_fns, stdlib_misc_fns,
						stdlib_text_fns };
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct stdlib_fn *f = tables[t]; f->name; f++)
			if (!strcmp(f->name, name))
				return f;
	return NULL;
}

const struct stdlib_builtin *stdlib_find_builtin(const char *name)
{
	for (const struct stdlib_builtin *b = stdlib_builtins; b->name; b++)
		if (!strcmp(b->name, name))
			return b;
	return NULL;
}
