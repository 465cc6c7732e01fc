/* output.c: ring-buffer records to the writer.
 *
 * In: records (struct pd_record_hdr + payload) laid out as progdesc.h
 * says. Out: each record's value given to the writer (writer.h): printf,
 * time, cat and system() text as messages, print(value) as a value,
 * print/clear/zero through maps.c; lost-event counts.
 *
 * Does not: format values (format.c), read maps (maps.c), choose the
 * bytes of a record (writer_text.c, writer_json.c), flush per text record
 * (the loop calls rt_output_flush per batch).
 */
#include "runtime/output.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "runtime/maps.h"
#include "runtime/usyms.h"

/* bpftrace's default cat_bytes_max (BPFTRACE_CAT_BYTES_MAX) */
#define CAT_BYTES_MAX 10240

/* ---- records ---------------------------------------------------------- */

static void message(struct rt_output *o, enum rt_msg type)
{
	if (!o->line.err)
		o->w.ops->message(&o->w, type, o->line.s ?: "", o->line.len);
}

/* time(fmt): the wall clock now, local time, like bpftrace. */
static int do_time(struct rt_output *o, uint32_t id)
{
	int err;

	o->line.len = 0;
	err = rt_format_time(&o->ctx, &o->line, id);
	if (err == -ERANGE) {
		fprintf(stderr, "ERROR: strftime returned 0\n");
		return 0;
	}
	if (!err)
		message(o, RT_MSG_TIME);
	return err ?: o->line.err;
}

/* The file or command named by a printf record; the text is in o->line. */
static int command_text(struct rt_output *o, uint32_t id, const void *payload, size_t size,
			char **name)
{
	int err;

	o->line.len = 0;
	err = rt_printf_format(&o->ctx, &o->line, id, payload, size);
	if (err)
		return err;
	*name = strdup(o->line.s ?: "");
	o->line.len = 0;
	rt_sbuf_put(&o->line, "", 0);
	return *name ? o->line.err : -ENOMEM;
}

/* cat(fmt, args): the file's first cat_bytes_max bytes, as they are. */
static int do_cat(struct rt_output *o, uint32_t id, const void *payload, size_t size)
{
	char buf[4096], *path = NULL;
	size_t total = 0, n;
	FILE *f;
	int err = command_text(o, id, payload, size, &path);

	if (err)
		goto out;
	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "ERROR: failed to open file '%s': %s\n", path, strerror(errno));
		goto out;
	}
	while (total < o->cat_bytes_max) {
		size_t want = o->cat_bytes_max - total;

		n = fread(buf, 1, want < sizeof(buf) ? want : sizeof(buf), f);
		if (!n)
			break;
		rt_sbuf_put(&o->line, buf, n);
		total += n;
	}
	fclose(f);
	message(o, RT_MSG_CAT);
	err = o->line.err;
out:
	free(path);
	return err;
}

/* system(fmt, args): run with sh -c, print what it wrote to stdout. */
static int do_system(struct rt_output *o, uint32_t id, const void *payload, size_t size)
{
	char buf[4096], *cmd = NULL;
	size_t n;
	FILE *p;
	int err = command_text(o, id, payload, size, &cmd);

	if (err)
		goto out;
	fflush(o->w.out);
	p = popen(cmd, "re");
	if (!p) {
		err = -errno;
		goto out;
	}
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		rt_sbuf_put(&o->line, buf, n);
	pclose(p);
	message(o, RT_MSG_SYSCALL);
	err = o->line.err;
out:
	free(cmd);
	return err;
}

/* join(): the strings up to the first empty one, with the separator
 * between them (bpftrace 0.17's join message; the text writer ends it
 * with a newline) */
static int do_join(struct rt_output *o, uint32_t id, const void *payload, size_t size)
{
	const struct pd_printf *p;
	const char *s = payload;
	size_t each;

	if (id >= o->ctx.pd->nprintfs)
		return -EINVAL;
	p = &o->ctx.pd->printfs[id];
	each = p->size / PD_JOIN_ARGS;
	if (size < p->size || !each)
		return -EINVAL;
	o->line.len = 0;
	rt_sbuf_put(&o->line, "", 0);
	for (size_t i = 0; i < PD_JOIN_ARGS && s[i * each]; i++) {
		if (i)
			rt_sbuf_puts(&o->line, p->fmt ?: " ");
		rt_sbuf_put(&o->line, s + i * each, strnlen(s + i * each, each));
	}
	message(o, RT_MSG_JOIN);
	return o->line.err;
}

static int do_print_value(struct rt_output *o, uint32_t id, const void *payload, size_t size)
{
	if (id >= o->ctx.pd->nvalues)
		return -EINVAL;
	return o->w.ops->value(&o->w, &o->ctx, &o->ctx.pd->values[id], payload, size);
}

static int do_printf(struct rt_output *o, uint32_t id, const void *payload, size_t size)
{
	int err;

	o->line.len = 0;
	err = rt_printf_format(&o->ctx, &o->line, id, payload, size);
	if (!err)
		message(o, RT_MSG_PRINTF);
	return err ?: o->line.err;
}

/* A process recorded user addresses: read its mappings while it lives,
 * so that its stacks print symbolized after it exited. */
static int note_pid(struct rt_output *o, const void *payload, size_t size)
{
	uint64_t pid;

	if (size < sizeof(pid))
		return -EINVAL;
	memcpy(&pid, payload, sizeof(pid));
	rt_output_note_pid(o, (uint32_t)pid);
	return 0;
}

void rt_output_note_pid(struct rt_output *o, uint32_t pid)
{
	if (o->ctx.no_user_symbols)
		return; /* nothing will be looked up */
	if (!o->ctx.usyms)
		o->ctx.usyms = rt_usyms_new();
	rt_usyms_note_pid(o->ctx.usyms, pid);
}

static int map_id_ok(struct rt_output *o, uint32_t id)
{
	return id < o->ctx.pd->nmaps && o->ctx.pd->maps[id].role == PD_MAP_USER;
}

/* -k/-kk: { int64 ret } after the header; 0.17 does not print these with
 * --no-warnings (a warning, in its text) */
static int do_helper_error(struct rt_output *o, uint32_t id, const void *payload, size_t size)
{
	int64_t ret;

	if (id >= o->ctx.pd->nhelper_errors || size < sizeof(ret))
		return -EINVAL;
	if (o->no_warnings && o->w.format == RT_FORMAT_TEXT)
		return 0;
	memcpy(&ret, payload, sizeof(ret));
	o->w.ops->helper_error(&o->w, &o->ctx.pd->helper_errors[id], (int)ret);
	return 0;
}

int rt_output_record(struct rt_output *o, const void *data, size_t size)
{
	const struct pd_record_hdr *h = data;
	const uint8_t *payload = (const uint8_t *)data + sizeof(*h);
	const struct progdesc *pd = o->ctx.pd;
	size_t psize;

	if (!data || size < sizeof(*h))
		return -EINVAL;
	psize = size - sizeof(*h);
	switch (h->kind) {
	case PD_REC_PRINTF:
		return do_printf(o, h->id, payload, psize);
	case PD_REC_PRINT_MAP:
		if (h->id >= pd->nprints || !map_id_ok(o, (uint32_t)pd->prints[h->id].map))
			return -EINVAL;
		return rt_map_print(&o->ctx, &o->w, pd->prints[h->id].map, pd->prints[h->id].top,
				    pd->prints[h->id].div);
	case PD_REC_PRINT_VALUE:
		return do_print_value(o, h->id, payload, psize);
	case PD_REC_CLEAR:
		return map_id_ok(o, h->id) ? rt_map_clear(&o->ctx, (int)h->id) : -EINVAL;
	case PD_REC_ZERO:
		return map_id_ok(o, h->id) ? rt_map_zero(&o->ctx, (int)h->id) : -EINVAL;
	case PD_REC_TIME:
		return do_time(o, h->id);
	case PD_REC_EXIT:
		return 1;
	case PD_REC_CAT:
		return do_cat(o, h->id, payload, psize);
	case PD_REC_SYSTEM:
		return do_system(o, h->id, payload, psize);
	case PD_REC_HELPER_ERROR:
		return do_helper_error(o, h->id, payload, psize);
	case PD_REC_JOIN:
		return do_join(o, h->id, payload, psize);
	case PD_REC_PID:
		return note_pid(o, payload, psize);
	default:
		return -EINVAL;
	}
}

void rt_output_attached(struct rt_output *o, uint64_t nprobes)
{
	if (!o->quiet)
		o->w.ops->attached_probes(&o->w, nprobes);
	fflush(o->w.out);
}

void rt_output_text(struct rt_output *o, const char *s, size_t n)
{
	o->w.ops->message(&o->w, RT_MSG_PRINTF, s, n);
}

void rt_output_flush(struct rt_output *o)
{
	rt_writer_flush(&o->w);
}

int rt_output_print_maps(struct rt_output *o)
{
	int err = rt_maps_print_all(&o->ctx, &o->w);

	fflush(o->w.out);
	return err;
}

/* ---- lost events ------------------------------------------------------ */

void rt_output_lost(struct rt_output *o, uint64_t total)
{
	if (total <= o->lost_reported)
		return;
	o->w.ops->lost_events(&o->w, total - o->lost_reported);
	o->lost_reported = total;
}

int rt_output_report_lost(struct rt_output *o)
{
	const struct progdesc *pd = o->ctx.pd;
	const int *fds = o->ctx.map_fds;

	for (uint32_t i = 0; i < pd->nmaps; i++) {
		const struct pd_map *m = &pd->maps[i];
		uint64_t *vals, total = 0;
		uint32_t key = 0, n;

		if (m->role != PD_MAP_LOST || !fds || fds[i] < 0)
			continue;
		/* a u64 per CPU, or one shared u64 (the .bss counter) */
		n = m->bpf_type == BPF_MAP_TYPE_PERCPU_ARRAY ? o->ctx.ncpus : 1;
		vals = calloc(n, m->value_size > 8 ? m->value_size : 8);
		if (!vals)
			return -ENOMEM;
		if (bpf_map_lookup_elem(fds[i], &key, vals)) {
			free(vals);
			return -errno;
		}
		for (uint32_t c = 0; c < n; c++)
			total += vals[c];
		free(vals);
		rt_output_lost(o, total > o->lost_kernel ? total : o->lost_kernel);
		return 0;
	}
	rt_output_lost(o, o->lost_kernel);
	return 0;
}

/* ---- full maps -------------------------------------------------------- */

int rt_output_report_map_full(struct rt_output *o)
{
	const struct progdesc *pd = o->ctx.pd;
	const int *fds = o->ctx.map_fds;
	uint32_t key = 0;
	uint64_t *n;

	/* --no-warnings silences the text warning, not the JSON record */
	if (!pd->nmap_full || !fds || fds[pd->map_full_map] < 0 ||
	    (o->no_warnings && o->w.format == RT_FORMAT_TEXT))
		return 0;
	n = calloc(pd->nmap_full, sizeof(*n));
	if (!n)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fds[pd->map_full_map], &key, n)) {
		free(n);
		return -errno;
	}
	for (uint32_t i = 0; i < pd->nmap_full; i++)
		if (n[i] && pd->map_full_pd[i] >= 0 && (uint32_t)pd->map_full_pd[i] < pd->nmaps)
			o->w.ops->map_full(&o->w, &pd->maps[pd->map_full_pd[i]], n[i]);
	free(n);
	fflush(o->w.out);
	return 0;
}

/* ---- init/fini -------------------------------------------------------- */

int rt_output_init_opts(struct rt_output *o, FILE *out, const struct progdesc *pd,
			const int *map_fds, const struct rt_output_opts *opts)
{
	static const struct rt_output_opts defaults = { 0 };
	int err;

	memset(o, 0, sizeof(*o));
	opts = opts ?: &defaults;
	err = rt_ctx_init(&o->ctx, pd, map_fds);
	if (err)
		return err;
	rt_writer_init(&o->w, out, opts->format, opts->buffering);
	o->quiet = opts->quiet;
	o->no_warnings = opts->no_warnings;
	o->cat_bytes_max = opts->cat_bytes_max ? opts->cat_bytes_max : CAT_BYTES_MAX;
	o->ctx.no_user_symbols = opts->no_user_symbols;
	return 0;
}

int rt_output_init(struct rt_output *o, FILE *out, const struct progdesc *pd, const int *map_fds)
{
	return rt_output_init_opts(o, out, pd, map_fds, NULL);
}

void rt_output_fini(struct rt_output *o)
{
	rt_writer_fini(&o->w);
	rt_ctx_fini(&o->ctx);
	rt_sbuf_free(&o->line);
}
