/* fuzz_compile.c: libFuzzer target over the whole compiler.
 *
 * In: arbitrary bytes, taken as a script. Each input is parsed (through
 * the preprocessor, #include off, when it has '#' lines), checked against
 * the fake kernel of fuzz_common.c and compiled to a BPF object in memory,
 * which is never loaded: no root, no tracefs, no bpf() syscall. An input
 * whose length is 3 mod 4 is compiled for a kernel without a ring buffer
 * (the perf-buffer path). Diagnostics go to /dev/null (FUZZ_VERBOSE=1 in
 * the environment: to stderr, with how far each input got).
 * Out: nothing but the absence of crashes, hangs and leaks, and two
 * checks on every object made: libbpf opens it (bpf_object__open_mem: ELF,
 * BTF, relocations, map definitions), and every program and map the
 * program description names is in it. A failed check aborts (a finding).
 *
 * Build: FUZZ=ON (make sanitize-build); seeds in tests/fuzz/corpus-compile.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <bpf/libbpf.h>

#include "tests/fuzz/fuzz_common.h"

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static void check_object(const struct progdesc *pd)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "fuzz");
	struct bpf_object *obj = bpf_object__open_mem(pd->obj, pd->obj_size, &oo);

	if (libbpf_get_error(obj)) {
		fprintf(stderr, "fuzz_compile: libbpf cannot open the object\n");
		abort();
	}
	for (uint32_t i = 0; i < pd->nprobes; i++) {
		const char *name = pd->probes[i].prog_name;
		if (!name || !bpf_object__find_program_by_name(obj, name)) {
			fprintf(stderr, "fuzz_compile: probe %u: no program %s\n", i,
				name ? name : "(null)");
			abort();
		}
	}
	for (uint32_t i = 0; i < pd->nmaps; i++) {
		const char *name = pd->maps[i].obj_name;
		if (!name || !bpf_object__find_map_by_name(obj, name)) {
			fprintf(stderr, "fuzz_compile: map %u (%s): not in the object\n", i,
				pd->maps[i].name ? pd->maps[i].name : "?");
			abort();
		}
	}
	bpf_object__close(obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init, verbose;
	struct fuzz_compiled fc;

	if (!init) {
		init = true;
		libbpf_set_print(quiet_libbpf);
		verbose = getenv("FUZZ_VERBOSE") != NULL;
	}
	fuzz_compile(&fc, (const char *)data, size, size % 4 != 3,
		     verbose ? stderr : fuzz_devnull());
	if (verbose)
		fprintf(stderr, "fuzz_compile: stage %d (3: compiled)\n", fc.stage);
	if (fc.have_res)
		check_object(fc.res.pd);
	fuzz_release(&fc);
	return 0;
}
