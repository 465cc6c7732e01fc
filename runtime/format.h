/* format.h: values and printf records to text, the layer above sbuf.
 *
 * In: value bytes laid out as progdesc.h says (map keys and values, record
 * payloads). Out: their text appended to an rt_sbuf: bpftrace 0.17's text
 * for a value (rt_format_value) and a printf (rt_printf_format), or the
 * JSON form of a value (rt_format_value_json). Errors bpftrace prints on
 * stderr (a stack id that cannot be looked up, strftime overflow) go to
 * stderr.
 * Does not: write to a FILE (writer.h), read maps other than the stack
 * map, or decode records (output.h).
 */
#ifndef TRACE_RUNTIME_FORMAT_H
#define TRACE_RUNTIME_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/progdesc.h"
#include "runtime/sbuf.h"

struct rt_fmt; /* a pre-parsed printf format (format.c) */
struct rt_ksyms;
struct rt_usyms;

/* What formatting needs besides the bytes. */
struct rt_ctx {
	const struct progdesc *pd;
	const int *map_fds;	 /* fd per pd->maps[i], -1 if none; NULL in tests */
	uint32_t ncpus;		 /* possible CPUs: per-CPU values per key */
	struct rt_ksyms *ksyms;	 /* created on first ksym/kstack */
	struct rt_usyms *usyms;	 /* created on first usym/ustack */
	struct rt_fmt *fmts;	 /* one per pd->printfs[i], parsed once */
	struct rt_sbuf arg;	 /* text of one printf argument */
	struct rt_sbuf tmp;	 /* text of one JSON value before escaping */
	int64_t boot_to_real_ns; /* CLOCK_REALTIME - CLOCK_BOOTTIME at init */
	bool no_user_symbols;	 /* BPFTRACE_NO_USER_SYMBOLS: user addresses as numbers */
};

/* Pre-parses every printf format; map_fds may be NULL (no maps: tests).
 * Returns 0 or -errno (-ENOMEM). */
int rt_ctx_init(struct rt_ctx *c, const struct progdesc *pd, const int *map_fds);
void rt_ctx_fini(struct rt_ctx *c);

/* The text of one value of layout l found at data + l->offset, where data
 * has size bytes. in_key: stacks are indented 4 instead of 8. Appends
 * nothing and returns -EINVAL if the value does not fit in size. */
int rt_format_value(struct rt_ctx *c, struct rt_sbuf *b, const struct pd_layout *l,
		    const void *data, size_t size, bool in_key);

/* The JSON form of the same value, as bpftrace 0.17's JsonOutput writes
 * it: integers as numbers, tuples as [a,b], everything else as a string
 * of its text (pointers "0x..."; no value, PD_NONE, is null). Valid JSON
 * for every layout and every byte (fuzz_runtime checks it). */
int rt_format_value_json(struct rt_ctx *c, struct rt_sbuf *b, const struct pd_layout *l,
			 const void *data, size_t size);

/* Stack frames (ips up to the first 0), each on its own line, preceded by a
 * newline: "\n        vfs_read+5\n..." (indent 8 in values, 4 in keys). */
void rt_format_stack(struct rt_ctx *c, struct rt_sbuf *b, const uint64_t *ips, uint32_t n,
		     enum pd_stack_mode mode, int indent);

/* printf(pd->printfs[id]) of one payload. Returns 0 or -EINVAL (payload
 * shorter than the format's size). */
int rt_printf_format(struct rt_ctx *c, struct rt_sbuf *b, uint32_t id, const void *payload,
		     size_t size);

/* time(fmt) now, local time, into b. Returns 0, or -ERANGE when the text
 * does not fit bpftrace's 64-byte buffer ("strftime returned 0"). */
int rt_format_time(struct rt_ctx *c, struct rt_sbuf *b, uint32_t id);

#endif
