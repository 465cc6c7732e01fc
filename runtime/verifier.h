/* verifier.h: turning a verifier rejection into the user's terms.
 *
 * In: the kernel verifier's log of a failed load and the BPF object bytes
 * (whose .BTF.ext line info maps instructions back to script lines). Out:
 * the failing instruction, the script line and column it came from, the
 * verifier's own reason and a plain explanation of the rule broken.
 * Pure functions: no fds, no kernel; unit-tested with captured logs.
 */
#ifndef TRACE_RUNTIME_VERIFIER_H
#define TRACE_RUNTIME_VERIFIER_H

#include <stddef.h>
#include <stdint.h>

struct rt_verifier_error {
	int insn;	     /* failing instruction index, -1 if unknown */
	char reason[256];    /* the verifier's line, e.g. "R2 unbounded memory access" */
	const char *explain; /* plain words; never NULL */
	const char *rule;    /* short name: "uninitialized-stack", ... */
};

/* Finds the failing instruction and reason in a verifier log. */
void rt_verifier_parse(const char *log, struct rt_verifier_error *out);

/* Line and column (1-based) of instruction `insn` of the program whose
 * function is `prog_name`, from the object's .BTF.ext line info. Returns 0
 * or -ENOENT when the object has no line info for it. */
int rt_btf_line_of(const void *obj, size_t size, const char *prog_name, int insn, uint32_t *line,
		   uint32_t *col);

#endif
