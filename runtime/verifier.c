/* verifier.c: verifier log -> failing instruction, reason, explanation;
 * instruction -> script line through .BTF.ext line info.
 *
 * The explanations name the codegen convention that normally prevents the
 * error (design.md "Verifier-safe code generation"): when one shows up, it
 * is a compiler bug, and the message says which rule was broken, where.
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/verifier.h"

struct explanation {
	const char *pattern; /* POSIX extended regex over the reason line */
	const char *rule;
	const char *explain;
};

static const struct explanation explanations[] = {
	/* most specific first: the null check before any "invalid mem access",
	 * a stack access out of the frame ("off=-600") before a read of
	 * unwritten bytes ("off -16+0"; "indirect" was dropped in 6.14) */
	{ "_or_null|possibly NULL", "null-check",
	  "a map lookup result is used without a NULL check; trace checks every lookup "
	  "(inserting the zero value when the key is missing) before using it" },
	{ "invalid variable-offset", "mem-bounds",
	  "a variable offset may take an access outside the buffer it points into; trace "
	  "clamps every variable index right before use" },
	{ "stack R[0-9]+ off=|stack (limit|size).*exceeded|combined stack size", "stack-limit",
	  "the probe needs more than the 512 bytes of stack BPF allows; trace keeps at most "
	  "256 bytes of values on the stack and puts larger ones in a per-CPU scratch map" },
	{ "invalid (indirect )?read from stack", "uninitialized-stack",
	  "a buffer handed to a helper (a map key, a record or a string) has bytes the helper "
	  "may not read, such as bytes never written; trace zero-fills every key, record and "
	  "string before writing it" },
	{ "unbounded memory access", "unbounded-access",
	  "an index or length used to access memory has no upper bound; trace clamps every "
	  "variable index and length (a histogram bucket, a str() length) to its buffer "
	  "right before use" },
	{ "min value is negative|unbounded min value", "negative-offset",
	  "an index or length might be negative; trace treats indexes and lengths as "
	  "unsigned and clamps them with an unsigned comparison right before use" },
	{ "program is too large|too complex|too many states", "too-complex",
	  "the probe is too large or has too many paths for the verifier, which gives up "
	  "after 1 million instructions; split it into several probes, or lower loop bounds "
	  "and unroll counts" },
	{ "invalid mem access", "direct-deref",
	  "memory was read directly that may only be read through a helper; trace reads "
	  "kernel and user pointers with bpf_probe_read_kernel/_user into a buffer" },
	{ "R[0-9]+ type=[^ ]+ expected=", "wrong-arg-type",
	  "a helper was given the wrong kind of value for an argument; trace passes map keys, "
	  "values and records as pointers to buffers it has written" },
	{ "jump out of range|jump into the middle|16-bit range", "bad-jump",
	  "a jump goes outside the program; jumps before BPF ISA v4 reach at most 32767 "
	  "instructions, so trace emits ISA v4 long jumps on kernels 6.6 and later (on older "
	  "kernels, split the probe)" },
	{ "cannot use helper|unknown func|helper call .*not allowed|cannot call", "helper-not-allowed",
	  "the probe calls a kernel helper that its program type may not use; trace calls "
	  "only helpers that tracing programs have" },
	{ "Unreleased reference", "unreleased-reference",
	  "a ring buffer reservation is not submitted or discarded on every path; trace "
	  "copies records with bpf_ringbuf_output, which holds no reservation" },
	{ "invalid access to map value|value is outside of the allowed memory range",
	  "map-value-bounds", "an access to a map value may fall outside of it" },
	{ "R[0-9]+ !read_ok", "uninitialized-register",
	  "a register is used before it is set" },
	{ "invalid access to (memory|packet)|R[0-9]+ min value is outside", "mem-bounds",
	  "a memory access may fall outside the buffer it points into" },
};

/* "123: (85) call ..." -> 123; -1 otherwise */
static int insn_index(const char *line, size_t len)
{
	size_t i = 0;
	int n = 0;
	while (i < len && line[i] >= '0' && line[i] <= '9')
		n = n * 10 + (line[i++] - '0');
	if (i == 0 || i + 2 >= len || line[i] != ':' || line[i + 1] != ' ' || line[i + 2] != '(')
		return -1;
	return n;
}

static bool is_noise(const char *line, size_t len)
{
	return len == 0 || !strncmp(line, "processed ", 10) || !strncmp(line, "verification time", 17) ||
	       !strncmp(line, "stack depth", 11) || !strncmp(line, "func#", 5) ||
	       !strncmp(line, "; ", 2) || !strncmp(line, "last_idx", 8) || line[0] == '\t' ||
	       !strncmp(line, "mark_precise", 12) || !strncmp(line, "from ", 5) ||
	       !strncmp(line, "Validating ", 11) || !strncmp(line, "arg#", 4);
}

/* "... stack R1 off=-256 size=1024": the access starts inside the frame
 * and runs past its top, so a length is too big, not the frame */
static bool overruns_frame_top(const char *reason)
{
	const char *p = strstr(reason, " off=");
	int off, size;
	return p && sscanf(p, " off=%d size=%d", &off, &size) == 2 && off >= -512 && off + size > 0;
}

static void explain(struct rt_verifier_error *out)
{
	out->rule = "other";
	out->explain = "the verifier's own words are in the note below";
	if (strstr(out->reason, " stack R") && overruns_frame_top(out->reason)) {
		out->rule = "length-overrun";
		out->explain = "a length runs past the end of the buffer it fills; trace clamps "
			       "every variable length (such as str()'s) to its buffer right before use";
		return;
	}
	for (size_t i = 0; i < sizeof(explanations) / sizeof(explanations[0]); i++) {
		regex_t re;
		if (regcomp(&re, explanations[i].pattern, REG_EXTENDED | REG_NOSUB | REG_ICASE))
			continue;
		bool match = !regexec(&re, out->reason, 0, NULL, 0);
		regfree(&re);
		if (match) {
			out->rule = explanations[i].rule;
			out->explain = explanations[i].explain;
			return;
		}
	}
}

void rt_verifier_parse(const char *log, struct rt_verifier_error *out)
{
	memset(out, 0, sizeof(*out));
	out->insn = -1;
	const char *reason = NULL;
	size_t reason_len = 0;
	bool after_insn = false;
	for (const char *p = log ? log : ""; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		int idx = insn_index(p, len);
		if (idx >= 0) {
			out->insn = idx;
			after_insn = true;
			reason = NULL;
		} else if (!is_noise(p, len) && (after_insn || !reason) && !reason) {
			reason = p;
			reason_len = len;
		}
		p = nl ? nl + 1 : p + len;
	}
	if (reason) {
		if (reason_len >= sizeof(out->reason))
			reason_len = sizeof(out->reason) - 1;
		memcpy(out->reason, reason, reason_len);
	}
	/* a few errors name the instruction that matters better than the
	 * last one printed: where a leaked reference was taken, where a
	 * jump out of the program starts (checked before any is printed) */
	const char *at = strstr(out->reason, "alloc_insn=");
	if (at)
		out->insn = atoi(at + strlen("alloc_insn="));
	else if ((at = strstr(out->reason, "jump out of range from insn ")))
		out->insn = atoi(at + strlen("jump out of range from insn "));
	explain(out);
}

/* ---- .BTF.ext line info ---- */

struct btf_ext_header {
	uint16_t magic;
	uint8_t version, flags;
	uint32_t hdr_len;
	uint32_t func_info_off, func_info_len;
	uint32_t line_info_off, line_info_len;
};

struct line_rec {
	uint32_t insn_off, file_name_off, line_off, line_col;
};

static Elf_Data *section_named(Elf *elf, size_t shstrndx, const char *name, Elf_Scn **scn_out)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		const char *n = elf_strptr(elf, shstrndx, sh.sh_name);
		if (n && !strcmp(n, name)) {
			if (scn_out)
				*scn_out = scn;
			return elf_getdata(scn, NULL);
		}
	}
	return NULL;
}

/* The function's section name and its byte offset in that section. */
static int find_function(Elf *elf, size_t shstrndx, const char *fn, const char **sec, uint64_t *off)
{
	Elf_Scn *symscn = NULL;
	Elf_Data *syms = section_named(elf, shstrndx, ".symtab", &symscn);
	GElf_Shdr symsh;
	if (!syms || !gelf_getshdr(symscn, &symsh))
		return -ENOENT;
	size_t n = symsh.sh_entsize ? symsh.sh_size / symsh.sh_entsize : 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(syms, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC)
			continue;
		const char *name = elf_strptr(elf, symsh.sh_link, sym.st_name);
		if (!name || strcmp(name, fn))
			continue;
		GElf_Shdr sh;
		Elf_Scn *scn = elf_getscn(elf, sym.st_shndx);
		if (!scn || !gelf_getshdr(scn, &sh))
			return -ENOENT;
		*sec = elf_strptr(elf, shstrndx, sh.sh_name);
		*off = sym.st_value;
		return *sec ? 0 : -ENOENT;
	}
	return -ENOENT;
}

/* Walks the line_info subsections; the record with the largest insn_off
 * not past the instruction wins. */
static int lookup_line(const uint8_t *ext, size_t ext_len, const char *btf_strs, size_t strs_len,
		       const char *sec, uint64_t byte_off, uint64_t fn_off, uint32_t *line, uint32_t *col)
{
	const struct btf_ext_header *h = (const void *)ext;
	if (ext_len < sizeof(*h) || h->magic != 0xeB9F || h->hdr_len > ext_len ||
	    (uint64_t)h->hdr_len + h->line_info_off + h->line_info_len > ext_len || h->line_info_len < 4)
		return -ENOENT;
	const uint8_t *p = ext + h->hdr_len + h->line_info_off, *end = p + h->line_info_len;
	uint32_t rec_size;
	memcpy(&rec_size, p, 4);
	p += 4;
	bool found = false;
	uint32_t best = 0;
	while (p + 8 <= end && rec_size >= sizeof(struct line_rec)) {
		uint32_t name_off, num;
		memcpy(&name_off, p, 4);
		memcpy(&num, p + 4, 4);
		p += 8;
		if ((uint64_t)num * rec_size > (uint64_t)(end - p))
			break;
		const char *name = name_off < strs_len ? btf_strs + name_off : "";
		for (uint32_t i = 0; i < num && !strcmp(name, sec); i++) {
			struct line_rec r;
			memcpy(&r, p + (size_t)i * rec_size, sizeof(r));
			if (r.insn_off >= fn_off && r.insn_off <= byte_off && (!found || r.insn_off >= best)) {
				best = r.insn_off;
				*line = r.line_col >> 10;
				*col = r.line_col & 0x3ff;
				found = true;
			}
		}
		p += (size_t)num * rec_size;
	}
	return found ? 0 : -ENOENT;
}

int rt_btf_line_of(const void *obj, size_t size, const char *prog_name, int insn, uint32_t *line,
		   uint32_t *col)
{
	if (insn < 0 || elf_version(EV_CURRENT) == EV_NONE)
		return -ENOENT;
	Elf *elf = elf_memory((char *)obj, size);
	if (!elf)
		return -ENOENT;
	int err = -ENOENT;
	size_t shstrndx;
	const char *sec;
	uint64_t fn_off;
	if (elf_getshdrstrndx(elf, &shstrndx) || find_function(elf, shstrndx, prog_name, &sec, &fn_off))
		goto out;
	Elf_Data *ext = section_named(elf, shstrndx, ".BTF.ext", NULL);
	Elf_Data *btf = section_named(elf, shstrndx, ".BTF", NULL);
	if (!ext || !btf || btf->d_size < 24)
		goto out;
	/* .BTF header: magic, version, flags, hdr_len, type_off, type_len, str_off, str_len */
	uint32_t bh[5];
	memcpy(bh, (const uint8_t *)btf->d_buf + 4, sizeof(bh));
	uint32_t hdr_len = bh[0], str_off = bh[3], str_len = bh[4];
	if ((uint64_t)hdr_len + str_off + str_len > btf->d_size)
		goto out;
	const char *strs = (const char *)btf->d_buf + hdr_len + str_off;
	err = lookup_line(ext->d_buf, ext->d_size, strs, str_len, sec, fn_off + (uint64_t)insn * 8,
			  fn_off, line, col);
out:
	elf_end(elf);
	return err;
}
