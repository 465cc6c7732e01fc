/* fuzz_common.h: what the compile and runtime fuzz targets share.
 *
 * A fake kernel (no root, no tracefs, no kallsyms): a fixed table of
 * tracepoint formats, every feature present except the ring buffer when
 * asked, and the host's vmlinux BTF parsed once per process when
 * /sys/kernel/btf/vmlinux is readable (none otherwise: the checker then
 * reports "no BTF", as on a kernel without it). And the whole compiler
 * pipeline on one script, to an object in memory that is never loaded.
 */
#ifndef TRACE_FUZZ_COMMON_H
#define TRACE_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "compiler/arena.h"
#include "compiler/codegen.h"
#include "compiler/diag.h"
#include "compiler/kernel_info.h"
#include "compiler/source.h"

/* The fake kernel; ringbuf false makes codegen use the perf buffer. */
struct kernel_info *fuzz_kernel(bool ringbuf);

/* /dev/null, opened once (diagnostics go there). */
FILE *fuzz_devnull(void);

/* One compilation: parse (through the preprocessor, #include off, when the
 * script has '#' lines), check, generate. */
struct fuzz_compiled {
	struct arena arena;
	struct source *src;
	struct diag diag;
	struct cg_result res;
	bool have_res; /* res holds an object */
	int stage;     /* 0 parse failed, 1 check failed, 2 codegen failed, 3 ok */
};

/* Compiles text; the result is released by fuzz_release. */
void fuzz_compile(struct fuzz_compiled *fc, const char *text, size_t size, bool ringbuf,
		  FILE *diag_out);
void fuzz_release(struct fuzz_compiled *fc);

#endif
