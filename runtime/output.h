/* output.h: the top of the runtime's output side, records to a writer.
 *
 * In: ring-buffer records (struct pd_record_hdr + payload), the map
 * operations they ask for, loss counts, the number of attached probes.
 * Out: each as one record of the chosen writer (writer.h: bpftrace 0.17's
 * text, or its JSON) on one FILE; error messages bpftrace prints on stderr
 * (cat of a missing file, strftime overflow) go to stderr.
 * Does not: poll the ring buffer, attach, run END, or flush after each
 * text record (the loop calls rt_output_flush after each batch it drains).
 * docs/output-format.md has every rule and the script that established it;
 * docs/architecture.md the layering (sbuf, format, writer, maps, output).
 */
#ifndef TRACE_RUNTIME_OUTPUT_H
#define TRACE_RUNTIME_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/format.h"
#include "runtime/progdesc.h"
#include "runtime/sbuf.h"
#include "runtime/writer.h"

struct rt_output_opts {
	enum rt_format format;	     /* -f text|json */
	enum rt_buffering buffering; /* -B none|line|full */
	bool quiet;		     /* -q: no "Attaching N probes..." */
	bool no_warnings;	     /* --no-warnings: no helper errors, no map-full warning (text) */
	uint32_t cat_bytes_max;	     /* BPFTRACE_CAT_BYTES_MAX, 0 for the default */
	bool no_user_symbols;	     /* BPFTRACE_NO_USER_SYMBOLS */
};

struct rt_output {
	struct rt_ctx ctx;   /* what formatting needs (format.h) */
	struct rt_writer w;  /* text or JSON */
	struct rt_sbuf line; /* text of the record being formatted */
	bool quiet;
	bool no_warnings;
	uint32_t cat_bytes_max; /* bytes cat() prints of a file */
	uint64_t lost_reported; /* losses already reported */
	/* perf buffer only: records the kernel says it dropped (libbpf's lost
	 * callback, PERF_RECORD_LOST); the same losses the BPF side counts in
	 * PD_MAP_LOST, but late, or never when the CPU sends nothing more */
	uint64_t lost_kernel;
};

/* Pre-parses every printf format; map_fds may be NULL (no maps: tests).
 * opts may be NULL (text, default buffering). Returns 0 or -errno. */
int rt_output_init(struct rt_output *o, FILE *out, const struct progdesc *pd, const int *map_fds);
int rt_output_init_opts(struct rt_output *o, FILE *out, const struct progdesc *pd,
			const int *map_fds, const struct rt_output_opts *opts);
void rt_output_fini(struct rt_output *o);

/* One event record (ring buffer or perf buffer sample; a perf sample
 * may carry up to 7 zero bytes of padding after it). Returns 1 for an exit record, 0 for any other,
 * -EINVAL for a malformed one (unknown kind or id, short payload); a map
 * operation's error is returned as is. Nothing is printed for a malformed
 * record. */
int rt_output_record(struct rt_output *o, const void *data, size_t size);

/* "Attaching N probes..." (text) or attached_probes (JSON); nothing
 * with -q. */
void rt_output_attached(struct rt_output *o, uint64_t nprobes);
/* Text that did not come through a record (an iterator's read), written
 * as printf output is (a "printf" record in JSON). */
void rt_output_text(struct rt_output *o, const char *s, size_t n);
/* After each batch of records (no-op with -B full). */
void rt_output_flush(struct rt_output *o);
/* At exit: every map (maps.h), then a flush. */
int rt_output_print_maps(struct rt_output *o);

/* Losses: reads the PD_MAP_LOST map (sum over CPUs), takes the larger of
 * it and lost_kernel, and prints "Lost N events" for those not reported
 * yet, as bpftrace does. Call it
 * now and then while running and once at exit. Returns 0 or -errno. */
int rt_output_report_lost(struct rt_output *o);
/* The same from a total already read (tests, or a loader that counts). */
void rt_output_lost(struct rt_output *o, uint64_t total);
/* At exit: each script map that dropped updates because it was full
 * (the .bss.map_full counters, progdesc.h), one warning each: text on
 * stderr, a "map_full" record in JSON. Returns 0 or -errno. */
int rt_output_report_map_full(struct rt_output *o);

/* pid recorded user addresses, or is the -c/-p process: read its
 * mappings now (usyms.h), so its stacks print symbolized after it ends. */
void rt_output_note_pid(struct rt_output *o, uint32_t pid);

#endif
