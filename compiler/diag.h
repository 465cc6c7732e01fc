/* diag.h: collect and print diagnostics.
 *
 * Passes report every error they find and go on; the driver stops between
 * passes when diag_has_errors(). Output layout (bpftrace's):
 *
 *   FILE:LINE:COL: error: message
 *   <the source line>
 *       ^~~~~
 */
#ifndef TRACE_DIAG_H
#define TRACE_DIAG_H

#include <stdbool.h>
#include <stdio.h>

#include "compiler/source.h"

enum diag_level { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE, DIAG_HINT };

struct diag {
	const struct source *src;
	FILE *out;	 /* stderr unless a test redirects it */
	int nerrors;
	int nwarnings;
	int max_errors;	 /* stop printing after this many (default 20) */
	bool suppressed; /* some errors were not printed */
};

void diag_init(struct diag *d, const struct source *src, FILE *out);
void diag_error(struct diag *d, struct span sp, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diag_warning(struct diag *d, struct span sp, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diag_note(struct diag *d, struct span sp, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diag_hint(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An error without a position (e.g. "no probes"). */
void diag_error_nospan(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline bool diag_has_errors(const struct diag *d)
{
	return d->nerrors > 0;
}
/* Prints "N errors generated" style summary when errors were suppressed. */
void diag_finish(struct diag *d);

#endif
