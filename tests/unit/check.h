/* check.h: the unit tests' one assertion. CHECK(cond) reports a false
 * condition with its file, line and text, counts it in `failures`, and
 * goes on; each test's main returns non-zero when failures is. */
#ifndef TRACE_TESTS_CHECK_H
#define TRACE_TESTS_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                              \
		}                                                                                \
	} while (0)

#endif
