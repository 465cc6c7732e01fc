/* cpp.h: the C preprocessor pass over the script text, before lexing.
 *
 * In: the script source, include options, a header provider (libclang,
 * compiler/headers.c; NULL in unit tests and the fuzz target). Out: the
 * expanded text that the lexer reads, and a map from every byte of it back
 * to the script, so that spans (and so diagnostics) name the user's line
 * and column. Directives and inactive #if branches leave no text; a macro
 * expansion maps, as a whole, to the invocation it replaced.
 *
 * Included headers are C: their text never becomes script. The header
 * provider parses them (with the script's #define lines before them, in
 * order) and answers for their macros and enum constants.
 */
#ifndef TRACE_CPP_H
#define TRACE_CPP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler/diag.h"
#include "compiler/source.h"

/* A macro: object-like when nparams < 0. body is the replacement list. */
struct cpp_macro {
	const char *name;
	const char *body;
	const char **params;
	int nparams;
	bool variadic; /* the last parameter is __VA_ARGS__ (or NAME...) */
};

/* What the preprocessor needs from a C front end (compiler/headers.c). */
struct cpp_header_ops {
	/* Parses `prelude`, C text of #define, #undef and #include lines with
	 * absolute paths. `names` are the identifiers of the script: those
	 * that are object-like macros of the headers get their value as a C
	 * integer constant expression, where they have one (value()).
	 * Returns 0, or -1 with a message in err. */
	int (*parse)(void *ctx, const char *prelude, const char *const *names, size_t nnames,
		     const char *const *incdirs, int nincdirs, char *err, size_t errlen);
	/* A macro the headers define (NULL: none); valid until the next parse. */
	const struct cpp_macro *(*macro)(void *ctx, const char *name);
	/* An enum constant the headers declare. */
	bool (*enum_value)(void *ctx, const char *name, int64_t *value);
	/* The value of a header's object-like macro named in `names` (NULL:
	 * no provider evaluates macros; they expand as text). */
	bool (*value)(void *ctx, const char *name, int64_t *value);
	void *ctx;
};

struct cpp_opts {
	const char *const *incdirs; /* -I DIR, in order */
	int nincdirs;
	const char *const *includes; /* --include FILE, before the script */
	int nincludes;
	const char *const *sysdirs;	  /* NULL: /usr/local/include, multiarch, /usr/include */
	bool no_includes;		  /* #include is an error (fuzzing) */
	bool (*has_btf)(void);		  /* BPFTRACE_HAVE_BTF is defined when true */
	const struct cpp_header_ops *hdr; /* NULL: headers cannot be parsed */
};

/* A run of output bytes and where it came from: verbatim script bytes
 * (out..out+len is src..src+len) or a macro expansion (out..out+len came
 * from the invocation src..src+src_len). */
struct cpp_seg {
	uint32_t out, len;
	uint32_t src, src_len;
	bool expansion;
};

struct cpp_result {
	char *text; /* NUL-terminated */
	size_t len;
	struct cpp_seg *segs;
	size_t nsegs;
	uint32_t src_len;
	int nheaders;	   /* headers handed to the provider */
	double ms_headers; /* time spent in the provider (load + parse) */
};

/* True when the text has a '#' that could start a directive (outside the
 * first line's #!): scripts without one skip the pass entirely. */
bool cpp_needed(const struct source *src);
/* Runs the pass. Errors go to d (at the user's line and column); returns
 * 0 or -1 when the text could not be produced. */
int cpp_run(const struct source *src, const struct cpp_opts *o, struct diag *d,
	    struct cpp_result *r);
void cpp_result_free(struct cpp_result *r);

/* Script offsets of an output span's begin and (exclusive) end. */
uint32_t cpp_map_begin(const struct cpp_result *r, uint32_t off);
uint32_t cpp_map_end(const struct cpp_result *r, uint32_t off);

#endif
