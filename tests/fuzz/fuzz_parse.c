/* fuzz_parse.c: libFuzzer target over the front end.
 *
 * In: arbitrary bytes, taken as a script. Out: nothing but the absence of
 * crashes, hangs and leaks: each input is parsed with a fresh arena and a
 * diag writing to /dev/null (opened once, on the first call), then
 * everything is freed. Checking and code generation: fuzz_compile.c.
 * Inputs with a '#' line go through the preprocessor first, with #include
 * turned off (no files are read, libclang is never loaded).
 *
 * Build: clang -fsanitize=fuzzer,address,undefined with the tracecore
 * sources; run with tests/fuzz/corpus-parse/ as the seed corpus.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "compiler/arena.h"
#include "compiler/cpp.h"
#include "compiler/diag.h"
#include "compiler/parse.h"
#include "compiler/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct arena arena = { 0 };
	struct source *src;
	struct diag diag;

	if (!devnull) {
		devnull = fopen("/dev/null", "w");
		if (!devnull)
			abort();
	}
	src = src_new("fuzz.bt", (const char *)data, size);
	if (!src)
		return 0;
	diag_init(&diag, src, devnull);
	if (cpp_needed(src)) {
		struct cpp_opts o = { .no_includes = true };
		struct cpp_result pp;
		if (cpp_run(src, &o, &diag, &pp) == 0)
			parse_program_pp(src, &pp, &arena, &diag);
		cpp_result_free(&pp);
	} else {
		parse_program(src, &arena, &diag);
	}
	diag_finish(&diag);
	arena_free(&arena);
	src_free(src);
	return 0;
}
