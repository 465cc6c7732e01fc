/* output.h: the runtime's output side, bytes to bpftrace 0.17's text.
 *
 * In: ring-buffer records (struct pd_record_hdr + payload), map contents
 * (see maps.h), and the program description that says how to read both.
 * Out: text on one FILE, byte for byte what bpftrace 0.17 prints; error
 * messages bpftrace prints on stderr (cat of a missing file, strftime
 * overflow) go to stderr.
 * Does not: poll the ring buffer, attach, run END, or flush after each
 * record (the loop should fflush(out) after each batch it drains).
 * docs/output-format.md has every rule and the script that established it.
 */
#ifndef TRACE_RUNTIME_OUTPUT_H
#define TRACE_RUNTIME_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/progdesc.h"

/* A growing text buffer. An allocation failure is sticky in `err` (-ENOMEM)
 * and turns later appends into no-ops, so callers check once at the end. */
struct rt_sbuf {
	char *s; /* NUL-terminated when len > 0 */
	size_t len, cap;
	int err;
};

void rt_sbuf_put(struct rt_sbuf *b, const char *s, size_t n);
void rt_sbuf_puts(struct rt_sbuf *b, const char *s);
void rt_sbuf_printf(struct rt_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rt_sbuf_free(struct rt_sbuf *b);

struct rt_fmt; /* a pre-parsed printf format (output.c) */

struct rt_output {
	FILE *out;
	const struct progdesc *pd;
	const int *map_fds;	 /* fd per pd->maps[i], -1 if none */
	uint32_t ncpus;		 /* possible CPUs: per-CPU values per key */
	struct rt_ksyms *ksyms;	 /* created on first ksym/kstack */
	struct rt_fmt *fmts;	 /* one per pd->printfs[i], parsed once */
	struct rt_sbuf line;	 /* text of the record being formatted */
	struct rt_sbuf arg;	 /* text of one printf argument */
	int64_t boot_to_real_ns; /* CLOCK_REALTIME - CLOCK_BOOTTIME at init */
	uint64_t lost_reported;	 /* losses already reported */
	/* perf buffer only: records the kernel says it dropped (libbpf's lost
	 * callback, PERF_RECORD_LOST); the same losses the BPF side counts in
	 * PD_MAP_LOST, but late, or never when the CPU sends nothing more */
	uint64_t lost_kernel;
};

/* Pre-parses every printf format; map_fds may be NULL (no maps: tests).
 * Returns 0 or -errno (-EINVAL for a format this runtime cannot print). */
int rt_output_init(struct rt_output *o, FILE *out, const struct progdesc *pd, const int *map_fds);
void rt_output_fini(struct rt_output *o);

/* One event record (ring buffer or perf buffer sample; a perf sample
 * may carry up to 7 zero bytes of padding after it). Returns 1 for an exit record, 0 for any other,
 * -EINVAL for a malformed one (unknown kind or id, short payload); a map
 * operation's error is returned as is. Nothing is printed for a malformed
 * record. */
int rt_output_record(struct rt_output *o, const void *data, size_t size);

/* Losses: reads the PD_MAP_LOST map (sum over CPUs), takes the larger of
 * it and lost_kernel, and prints "Lost N events" for those not reported
 * yet, as bpftrace does. Call it
 * now and then while running and once at exit. Returns 0 or -errno. */
int rt_output_report_lost(struct rt_output *o);
/* The same from a total already read (tests, or a loader that counts). */
void rt_output_lost(struct rt_output *o, uint64_t total);

/* Pure formatting (no fds needed except for stacks; tests use these). */

/* The text of one value of layout l found at data + l->offset, where data
 * has size bytes. in_key: stacks are indented 4 instead of 8. Appends
 * nothing and returns -EINVAL if the value does not fit in size. */
int rt_format_value(struct rt_output *o, struct rt_sbuf *b, const struct pd_layout *l,
		    const void *data, size_t size, bool in_key);

/* Stack frames (ips up to the first 0), each on its own line, preceded by a
 * newline: "\n        vfs_read+5\n..." (indent 8 in values, 4 in keys). */
void rt_format_stack(struct rt_output *o, struct rt_sbuf *b, const uint64_t *ips, uint32_t n,
		     enum pd_stack_mode mode, int indent);

/* printf(pd->printfs[id]) of one payload. Returns 0 or -EINVAL (payload
 * shorter than the format's size). */
int rt_printf_format(struct rt_output *o, struct rt_sbuf *b, uint32_t id, const void *payload,
		     size_t size);

#endif
