/* parse.h: script text -> AST (grammar/lexer.l, grammar/parser.y).
 *
 * Syntax errors go to the diag with their span; the parser recovers at
 * statement and probe boundaries so one run reports several errors. The
 * result is NULL only when nothing could be built; check
 * diag_has_errors() either way.
 */
#ifndef TRACE_PARSE_H
#define TRACE_PARSE_H

#include "compiler/ast.h"
#include "compiler/diag.h"

struct node *parse_program(const struct source *src, struct arena *a, struct diag *d);
/* The same over the preprocessor's output (compiler/cpp.h); spans are the
 * script's. */
struct cpp_result;
struct node *parse_program_pp(const struct source *src, const struct cpp_result *pp,
			      struct arena *a, struct diag *d);

#endif
