/* probes.c: attach points -> concrete probes.
 *
 * In: N_ATTACH nodes as parsed (provider and ':'-separated parts, with
 * wildcards). Out: sema_probe entries, one per concrete attach point, with
 * the period/frequency/event numbers the runtime needs and, for
 * tracepoints, the `args` record type built from the tracefs format file
 * (read only when the body uses `args`). Wildcards expand through
 * kernel_info; a name that matches nothing is an error with suggestions.
 */
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <linux/perf_event.h>

#include "compiler/probes.h"
#include "compiler/uelf.h"
#include "runtime/provider.h"

static bool has_wildcard(const char *s)
{
	return s && strpbrk(s, "*?[") != NULL;
}

static struct sema_probe *new_probe(struct sema *s, struct node *probe, struct node *at,
				    enum pd_probe_kind kind)
{
	struct sema_probe *sp = arena_alloc(s->arena, sizeof(*sp));
	sp->probe = probe;
	sp->attach = at;
	sp->kind = kind;
	sp->name = at->attach.raw;
	sp->group = -1;
	return sp;
}

static void add_probe(struct sema *s, struct sema_probe *sp)
{
	if (!s->probes_tail)
		s->probes_tail = &s->probes;
	sp->index = s->nprobes++;
	sp->probe_id = sp->index;
	*s->probes_tail = sp;
	s->probes_tail = &sp->next;
}

static bool parse_u64(const char *str, uint64_t *out)
{
	char *end;
	if (!str || !*str)
		return false;
	errno = 0;
	unsigned long long v = strtoull(str, &end, 0);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* Width and signedness of a C integer type as written in a format file.
 * Syscall tracepoints put every argument in an 8-byte slot marked
 * signed:0 ("int dfd; size:8; signed:0"), so the C type decides: an int
 * is read as 4 bytes and sign-extended, as bpftrace prints it. */
static bool ctype_int(const char *ctype, int *bits, bool *sgn)
{
	static const struct { const char *name; int bits; bool sgn; } known[] = {
		{ "char", 8, true }, { "short", 16, true }, { "int", 32, true },
		{ "long", 64, true }, { "long long", 64, true }, { "s8", 8, true },
		{ "s16", 16, true }, { "s32", 32, true }, { "s64", 64, true },
		{ "__s8", 8, true }, { "__s16", 16, true }, { "__s32", 32, true },
		{ "__s64", 64, true }, { "pid_t", 32, true }, { "ssize_t", 64, true },
		{ "loff_t", 64, true }, { "off_t", 64, true }, { "time_t", 64, true },
		{ "clockid_t", 32, true }, { "key_serial_t", 32, true }, { "timer_t", 32, true },
		{ "mqd_t", 32, true }, { "bool", 8, false }, { "u8", 8, false },
		{ "u16", 16, false }, { "u32", 32, false }, { "u64", 64, false },
		{ "__u8", 8, false }, { "__u16", 16, false }, { "__u32", 32, false },
		{ "__u64", 64, false }, { "size_t", 64, false }, { "uid_t", 32, false },
		{ "gid_t", 32, false }, { "umode_t", 16, false }, { "qid_t", 32, false },
		{ "dev_t", 32, false }, { "__kernel_old_uid_t", 32, false },
		{ "aio_context_t", 64, false }, { "cap_user_header_t", 64, false },
	};
	char buf[64];
	const char *t = ctype;
	if (!strncmp(t, "const ", 6))
		t += 6;
	bool is_unsigned = false;
	if (!strncmp(t, "unsigned ", 9)) {
		is_unsigned = true;
		t += 9;
	} else if (!strcmp(t, "unsigned")) {
		*bits = 32, *sgn = false;
		return true;
	} else if (!strncmp(t, "signed ", 7)) {
		t += 7;
	}
	snprintf(buf, sizeof(buf), "%s", t);
	size_t n = strlen(buf);
	while (n && buf[n - 1] == ' ')
		buf[--n] = 0;
	if (!strcmp(buf, "long int") || !strcmp(buf, "long long int"))
		snprintf(buf, sizeof(buf), "long");
	if (!strcmp(buf, "short int"))
		snprintf(buf, sizeof(buf), "short");
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(known[i].name, buf)) {
			*bits = known[i].bits;
			*sgn = known[i].sgn && !is_unsigned;
			return true;
		}
	return false;
}

/* Field types of a tracepoint record, from the format file's C types. */
static struct type *field_type(struct sema *s, const struct tp_field *f, bool user)
{
	if (f->is_data_loc)
		return type_str(s->arena, s->opts.strlen);
	if (f->array_len >= 0) {
		if (!strncmp(f->ctype, "char", 4) || strstr(f->ctype, " char"))
			return type_str(s->arena, f->size);
		uint32_t n = f->array_len ? (uint32_t)f->array_len : 1;
		uint32_t esz = f->size / n;
		struct type *elem = type_int(esz >= 8 ? 64 : esz * 8, f->is_signed);
		return type_array(s->arena, elem, n);
	}
	if (f->is_pointer) {
		struct type *elem = NULL;
		if (strstr(f->ctype, "char") && !strstr(f->ctype, "* *") && !strstr(f->ctype, "**") &&
		    !strstr(f->ctype, "*const *"))
			elem = &type_s8;
		return type_ptr(s->arena, elem, user);
	}
	int bits = 0;
	bool sgn = f->is_signed;
	if (ctype_int(f->ctype, &bits, &sgn) && (uint32_t)bits / 8 <= f->size)
		return type_int(bits, sgn);
	switch (f->size) {
	case 1:
	case 2:
	case 4:
	case 8:
		return type_int(f->size * 8, f->is_signed);
	default: /* odd-sized scalars: read them as bytes */
		return type_array(s->arena, &type_u8, f->size);
	}
}

static struct type *ctx_type(struct sema *s, const struct tp_format *fmt, bool user)
{
	struct type *t = arena_alloc(s->arena, sizeof(*t));
	t->kind = TY_CTX;
	t->size = fmt->size;
	t->align = 8;
	t->fields = arena_alloc(s->arena, (fmt->nfields + 1) * sizeof(*t->fields));
	for (int i = 0; i < fmt->nfields; i++) {
		const struct tp_field *f = &fmt->fields[i];
		if (f->is_common)
			continue;
		struct type_field *tf = &t->fields[t->nfields++];
		tf->name = f->name;
		tf->offset = f->offset;
		tf->is_data_loc = f->is_data_loc;
		tf->ctype = f->ctype;
		tf->type = field_type(s, f, user);
	}
	return t;
}

static void suggest_tracepoints(struct sema *s, struct node *at, const char *cat, const char *name)
{
	const char **near = NULL;
	int n = ki_closest_tracepoints(s->ki, cat, name, s->arena, &near, 3);
	for (int i = 0; i < n; i++)
		if (!s->quiet)
			diag_hint(s->diag, "did you mean tracepoint:%s?", near[i]);
	(void)at;
}

static int load_ctx(struct sema *s, struct sema_probe *sp, const char *cat, const char *name)
{
	struct tp_format fmt;
	int err = s->ki->tracepoint_format(s->ki, cat, name, s->arena, &fmt);
	if (err)
		return err;
	sp->user_ptrs = !strcmp(cat, "syscalls");
	sp->ctx = ctx_type(s, &fmt, sp->user_ptrs);
	sp->ctx->tp_name = arena_printf(s->arena, "%s:%s", cat, name); /* BTF pointer types */
	return 0;
}

static void resolve_tracepoint(struct sema *s, struct node *probe, struct node *at, bool need_ctx)
{
	if (at->attach.nparts != 2 || !*at->attach.parts[0] || !*at->attach.parts[1]) {
		sema_error(s, at->span, "tracepoint needs a category and a name: tracepoint:CATEGORY:NAME");
		return;
	}
	const char *cat = at->attach.parts[0], *name = at->attach.parts[1];
	const char **list = NULL;
	int n;
	if (has_wildcard(cat) || has_wildcard(name)) {
		n = s->ki->tracepoint_list(s->ki, cat, name, s->arena, &list);
	} else {
		list = arena_alloc(s->arena, sizeof(*list));
		list[0] = arena_printf(s->arena, "%s:%s", cat, name);
		n = 1;
	}
	if (n == 0) {
		sema_error(s, at->span, "no tracepoint matches '%s:%s'", cat, name);
		return;
	}
	if (n < 0) {
		sema_error(s, at->span, "cannot list tracepoints: %s", strerror(-n));
		return;
	}
	for (int i = 0; i < n; i++) {
		struct sema_probe *sp = new_probe(s, probe, at, PD_PROBE_TRACEPOINT);
		const char *colon = strchr(list[i], ':');
		sp->target = arena_strndup(s->arena, list[i], colon - list[i]);
		sp->func = colon + 1;
		sp->name = arena_printf(s->arena, "tracepoint:%s", list[i]);
		sp->user_ptrs = !strcmp(sp->target, "syscalls");
		int err = need_ctx || n == 1 ? load_ctx(s, sp, sp->target, sp->func) : 0;
		if (err == -ENOENT) {
			sema_error(s, at->span, "tracepoint '%s:%s' does not exist on this kernel",
				   sp->target, sp->func);
			suggest_tracepoints(s, at, sp->target, sp->func);
			return;
		} else if (err == -EACCES || err == -EPERM) {
			sema_error(s, at->span,
				   "cannot read tracepoint formats: tracefs needs root (CAP_SYS_ADMIN)");
			return;
		} else if (err) {
			sema_error(s, at->span, "cannot read the format of tracepoint '%s:%s': %s",
				   sp->target, sp->func, strerror(-err));
			return;
		}
		add_probe(s, sp);
	}
}

/* interval:s:1, interval:ms:100, interval:us:N, interval:hz:N;
 * profile:hz:99, profile:s|ms|us:N. A single part means the default unit. */
static void resolve_timer(struct sema *s, struct node *probe, struct node *at, bool is_profile)
{
	const char *unit = at->attach.nparts == 2 ? at->attach.parts[0] : (is_profile ? "hz" : "s");
	const char *num = at->attach.parts[at->attach.nparts == 2 ? 1 : 0];
	uint64_t v = 0;
	bool suffixed = false;
	if (at->attach.nparts == 1) {
		/* interval:1s, interval:100ms, profile:99hz (the current bpftrace
		 * line): the number with its unit */
		size_t d = strspn(num, "0123456789");
		static const char *units[] = { "hz", "s", "ms", "us" };
		for (size_t i = 0; d && num[d] && i < sizeof(units) / sizeof(units[0]); i++)
			if (!strcmp(num + d, units[i])) {
				unit = units[i];
				num = arena_strndup(s->arena, num, d);
				suffixed = true;
			}
	}
	if (at->attach.nparts < 1 || at->attach.nparts > 2 || !parse_u64(num, &v) || v == 0) {
		sema_error(s, at->span,
			   "%s needs a positive rate: %s:UNIT:N or %s:NUNIT (UNIT is hz, s, ms or us)",
			   is_profile ? "profile" : "interval", is_profile ? "profile" : "interval",
			   is_profile ? "profile" : "interval");
		return;
	}
	struct sema_probe *sp = new_probe(s, probe, at, is_profile ? PD_PROBE_PROFILE : PD_PROBE_INTERVAL);
	if (!strcmp(unit, "hz"))
		sp->freq = v, sp->period_ns = 1000000000ull / v;
	else if (!strcmp(unit, "s"))
		sp->period_ns = v * 1000000000ull;
	else if (!strcmp(unit, "ms"))
		sp->period_ns = v * 1000000ull;
	else if (!strcmp(unit, "us"))
		sp->period_ns = v * 1000ull;
	else {
		sema_error(s, at->span, "unknown time unit '%s': expected hz, s, ms or us", unit);
		return;
	}
	if (!is_profile)
		sp->freq = 0;
	sp->name = suffixed ? arena_printf(s->arena, "%s:%s%s", is_profile ? "profile" : "interval",
					   num, unit)
			    : arena_printf(s->arena, "%s:%s:%s", is_profile ? "profile" : "interval",
					   unit, num);
	add_probe(s, sp);
}

struct perf_event_name {
	const char *name, *alias;
	uint32_t config;
	uint64_t default_period;
};

static const struct perf_event_name sw_events[] = {
	{ "cpu-clock", "cpu", PERF_COUNT_SW_CPU_CLOCK, 1000000 },
	{ "task-clock", NULL, PERF_COUNT_SW_TASK_CLOCK, 1000000 },
	{ "page-faults", "faults", PERF_COUNT_SW_PAGE_FAULTS, 100 },
	{ "context-switches", "cs", PERF_COUNT_SW_CONTEXT_SWITCHES, 1000 },
	{ "cpu-migrations", NULL, PERF_COUNT_SW_CPU_MIGRATIONS, 1 },
	{ "minor-faults", NULL, PERF_COUNT_SW_PAGE_FAULTS_MIN, 100 },
	{ "major-faults", NULL, PERF_COUNT_SW_PAGE_FAULTS_MAJ, 1 },
	{ "alignment-faults", NULL, PERF_COUNT_SW_ALIGNMENT_FAULTS, 1 },
	{ "emulation-faults", NULL, PERF_COUNT_SW_EMULATION_FAULTS, 1 },
	{ "dummy", NULL, PERF_COUNT_SW_DUMMY, 1 },
	{ "bpf-output", NULL, PERF_COUNT_SW_BPF_OUTPUT, 1 },
	{ NULL, NULL, 0, 0 },
};

static const struct perf_event_name hw_events[] = {
	{ "cpu-cycles", "cycles", PERF_COUNT_HW_CPU_CYCLES, 1000000 },
	{ "instructions", NULL, PERF_COUNT_HW_INSTRUCTIONS, 1000000 },
	{ "cache-references", NULL, PERF_COUNT_HW_CACHE_REFERENCES, 1000000 },
	{ "cache-misses", NULL, PERF_COUNT_HW_CACHE_MISSES, 1000000 },
	{ "branch-instructions", "branches", PERF_COUNT_HW_BRANCH_INSTRUCTIONS, 100000 },
	{ "branch-misses", NULL, PERF_COUNT_HW_BRANCH_MISSES, 100000 },
	{ "bus-cycles", NULL, PERF_COUNT_HW_BUS_CYCLES, 100000 },
	{ "frontend-stalls", NULL, PERF_COUNT_HW_STALLED_CYCLES_FRONTEND, 1000000 },
	{ "backend-stalls", NULL, PERF_COUNT_HW_STALLED_CYCLES_BACKEND, 1000000 },
	{ "ref-cycles", NULL, PERF_COUNT_HW_REF_CPU_CYCLES, 1000000 },
	{ NULL, NULL, 0, 0 },
};

static void resolve_perf(struct sema *s, struct node *probe, struct node *at, bool hw)
{
	const struct perf_event_name *e = hw ? hw_events : sw_events;
	const char *ev = at->attach.nparts >= 1 ? at->attach.parts[0] : "";
	for (; e->name; e++)
		if (!strcmp(ev, e->name) || (e->alias && !strcmp(ev, e->alias)))
			break;
	if (!e->name) {
		sema_error(s, at->span, "unknown %s event '%s'", hw ? "hardware" : "software", ev);
		return;
	}
	struct sema_probe *sp = new_probe(s, probe, at, hw ? PD_PROBE_HARDWARE : PD_PROBE_SOFTWARE);
	sp->perf_config = e->config;
	sp->sample_period = e->default_period;
	if (at->attach.nparts == 2 && (!parse_u64(at->attach.parts[1], &sp->sample_period) ||
				       !sp->sample_period)) {
		sema_error(s, at->span, "the sample count must be a positive number");
		return;
	}
	add_probe(s, sp);
}

/* kprobe:FUNC[+OFF], uprobe:PATH:FUNC[+OFF], rawtracepoint:NAME, ... */
static void resolve_function(struct sema *s, struct node *probe, struct node *at,
			     enum pd_probe_kind kind, int want_parts)
{
	int n = at->attach.nparts;
	if (n < want_parts || n > want_parts + 1 || !*at->attach.parts[n - 1]) {
		sema_error(s, at->span, "malformed attach point '%s'", at->attach.raw);
		return;
	}
	struct sema_probe *sp = new_probe(s, probe, at, kind);
	sp->func = at->attach.parts[n - 1];
	sp->target = n >= 2 ? at->attach.parts[n - 2] : NULL;
	if (kind == PD_PROBE_USDT && n == 3) {
		sp->target = at->attach.parts[0];
		sp->provider = at->attach.parts[1];
	}
	sp->offset = at->attach.offset;
	add_probe(s, sp);
}

/* ---- uprobe / uretprobe: FILE:FUNC[+OFF], FILE:ADDR, wildcards in both
 * (compiler/uelf.c finds the file and its functions) ---- */

static void add_uprobe(struct sema *s, struct node *probe, struct node *at,
		       const struct provider *pv, const char *path, const char *func, uint64_t off,
		       bool named)
{
	struct sema_probe *sp = new_probe(s, probe, at, pv->kind);
	sp->target = path;
	sp->func = func;
	sp->offset = off;
	sp->file_offset = true;
	if (named) { /* a -p process's files are shown as it sees them */
		const char *shown = path;
		int skip = 0;
		if (sscanf(path, "/proc/%*d/root%n", &skip) == 0 && skip && path[skip] == '/')
			shown = path + skip;
		sp->name = arena_printf(s->arena, "%s:%s:%s", pv->name, shown, func);
	}
	add_probe(s, sp);
}

/* FUNC or ADDR in one file; returns the number of probes added. */
static int uprobe_in_file(struct sema *s, struct node *probe, struct node *at,
			  const struct provider *pv, const char *path, const char *func, bool named)
{
	if (func[0] >= '0' && func[0] <= '9') { /* an address in the file */
		char *end;
		uint64_t va = strtoull(func, &end, 0), off;
		int err = *end ? -EINVAL : uelf_vaddr_to_off(path, va, &off);
		if (err) {
			sema_error(s, at->span, "address '%s' is not in the code of %s", func,
				   path);
			return -1;
		}
		add_uprobe(s, probe, at, pv, path, func, off, named);
		return 1;
	}
	struct uelf_sym *syms;
	int n = uelf_functions(s->arena, path, &syms);
	if (n < 0) {
		sema_error(s, at->span, "cannot read the functions of %s: %s", path,
			   n == -ENOEXEC ? "not an ELF file" : strerror(-n));
		return -1;
	}
	bool wild = has_wildcard(func);
	int added = 0;
	uint64_t *offs = wild ? arena_alloc(s->arena, (size_t)n * sizeof(*offs)) : NULL;
	for (int i = 0; i < n; i++) {
		if (!uelf_sym_matches(&syms[i], func))
			continue;
		/* aliases (strtoul, strtoull) are one function: a wildcard
		 * attaches it once, under the first name, or each event would
		 * be counted once per alias */
		bool dup = false;
		for (int j = 0; wild && j < added && !dup; j++)
			dup = offs[j] == syms[i].file_off;
		if (dup)
			continue;
		if (wild)
			offs[added] = syms[i].file_off;
		if (!wild && at->attach.has_offset && syms[i].size &&
		    at->attach.offset >= syms[i].size) {
			sema_error(s, at->span, "offset %llu is outside %s (%llu bytes)",
				   (unsigned long long)at->attach.offset, syms[i].name,
				   (unsigned long long)syms[i].size);
			return -1;
		}
		uint64_t prev = 0;
		if (!wild && at->attach.has_offset && at->attach.offset &&
		    !uelf_insn_boundary(&syms[i], path, at->attach.offset, &prev)) {
			sema_error(s, at->span,
				   "offset %llu of %s is not at an instruction boundary "
				   "(the instruction starts at %s+%llu)",
				   (unsigned long long)at->attach.offset, syms[i].name,
				   syms[i].name, (unsigned long long)prev);
			return -1;
		}
		const char *shown = syms[i].demangled ? syms[i].demangled : syms[i].name;
		add_uprobe(s, probe, at, pv, path, wild ? shown : func,
			   syms[i].file_off + (wild ? 0 : at->attach.offset), named || wild);
		added++;
		if (!wild)
			break;
	}
	return added;
}

static void resolve_uprobe(struct sema *s, struct node *probe, struct node *at,
			   const struct provider *pv)
{
	int n = at->attach.nparts;
	const char *target, *func, *why, *path;
	if (n == 1 && s->opts.pid > 0) { /* uprobe:FUNC with -p: the process's binary */
		target = arena_printf(s->arena, "/proc/%d/exe", (int)s->opts.pid);
		func = at->attach.parts[0];
	} else if (n == 2 && *at->attach.parts[1]) {
		target = at->attach.parts[0];
		func = at->attach.parts[1];
	} else {
		sema_error(s, at->span,
			   "malformed attach point '%s': expected %s:FILE:FUNCTION[+OFFSET]",
			   at->attach.raw, pv->name);
		return;
	}
	if (at->attach.has_offset && (pv->builtins & PV_B_RETURN)) {
		sema_error(s, at->span, "%s probes take no offset", pv->name);
		return;
	}
	if (at->attach.has_offset && has_wildcard(func)) {
		sema_error(s, at->span, "an offset cannot be used with a wildcard ('%s')",
			   at->attach.raw);
		return;
	}
	glob_t g = { 0 };
	bool many = strchr(target, '/') && has_wildcard(target);
	if (many) {
		if (glob(target, 0, NULL, &g) || !g.gl_pathc) {
			sema_error(s, at->span, "no file matches '%s'", target);
			globfree(&g);
			return;
		}
	}
	int total = 0;
	for (size_t i = 0; i < (many ? g.gl_pathc : 1); i++) {
		path = uelf_resolve_target(s->arena, many ? g.gl_pathv[i] : target, s->opts.pid,
					   &why);
		if (!path) {
			sema_error(s, at->span, "uprobe target '%s' %s", target, why);
			total = -1;
			break;
		}
		int k = uprobe_in_file(s, probe, at, pv, path, func, many || strcmp(path, target));
		if (k < 0) {
			total = -1;
			break;
		}
		total += k;
	}
	if (many)
		globfree(&g);
	if (!total)
		sema_error(s, at->span,
			   has_wildcard(func) || many ? "no function matches '%s'" :
							"function not found: '%s'",
			   at->attach.raw);
}

/* usdt:FILE:[PROVIDER:]NAME (wildcards in both): one uprobe per location
 * of each matching probe in .note.stapsdt, with its semaphore as the
 * uprobe's reference counter. Arguments are not decoded yet. */
static void resolve_usdt(struct sema *s, struct node *probe, struct node *at,
			 const struct provider *pv)
{
	int n = at->attach.nparts;
	const char *why, *prov = "*", *name;
	if (n != 2 && n != 3) {
		sema_error(s, at->span,
			   "malformed attach point '%s': expected usdt:FILE:[PROVIDER:]NAME",
			   at->attach.raw);
		return;
	}
	name = at->attach.parts[n - 1];
	if (n == 3)
		prov = at->attach.parts[1];
	const char *path = uelf_resolve_target(s->arena, at->attach.parts[0], s->opts.pid, &why);
	if (!path) {
		sema_error(s, at->span, "usdt target '%s' %s", at->attach.parts[0], why);
		return;
	}
	struct uelf_usdt *u;
	int k = uelf_usdt_notes(s->arena, path, &u), added = 0;
	if (k < 0) {
		sema_error(s, at->span, "cannot read the USDT probes of %s: %s", path,
			   k == -ENOEXEC ? "not an ELF file" : strerror(-k));
		return;
	}
	const char *shown = path;
	int skip = 0;
	if (sscanf(path, "/proc/%*d/root%n", &skip) == 0 && skip && path[skip] == '/')
		shown = path + skip;
	struct sema_probe **first = arena_alloc(s->arena, (size_t)(k ? k : 1) * sizeof(*first));
	for (int i = 0; i < k; i++) {
		first[i] = NULL;
		if (fnmatch(prov, u[i].provider, 0) || fnmatch(name, u[i].name, 0))
			continue;
		struct sema_probe *sp = new_probe(s, probe, at, pv->kind);
		sp->target = path;
		sp->func = u[i].name;
		sp->provider = u[i].provider;
		sp->offset = u[i].file_off;
		sp->file_offset = true;
		sp->ref_ctr_off = u[i].sema_off;
		sp->usdt_args = u[i].args;
		sp->name = arena_printf(s->arena, "usdt:%s:%s:%s", shown, u[i].provider, u[i].name);
		add_probe(s, sp);
		first[i] = sp;
		for (int j = 0; j < i; j++) /* another location of one probe: one name */
			if (first[j] && !strcmp(u[j].provider, u[i].provider) &&
			    !strcmp(u[j].name, u[i].name)) {
				sp->probe_id = first[j]->probe_id;
				break;
			}
		added++;
	}
	if (!added)
		sema_error(s, at->span, "no USDT probe in %s matches '%s'", path, at->attach.raw);
}

/* ---- kprobe / fentry: does the function exist, does the kernel have
 * the mechanism, and if not, what to use instead ---- */

static bool tracepoint_exists(struct sema *s, const char *cat, const char *name)
{
	const char **list;
	return s->ki->tracepoint_list(s->ki, cat, name, s->arena, &list) > 0;
}

/* kprobe:do_sys_openat2 -> tracepoint:syscalls:sys_enter_openat(2): the
 * syscall tracepoints for a syscall's kernel functions, else the closest
 * tracepoint names. */
static void hint_tracepoints(struct sema *s, const char *func, bool is_return)
{
	static const char *prefixes[] = { "__x64_sys_", "__ia32_sys_", "__se_sys_", "__do_sys_",
					  "do_sys_", "ksys_", "sys_", "vfs_", "do_" };
	const char *base = func;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(func, prefixes[i], strlen(prefixes[i]))) {
			base = func + strlen(prefixes[i]);
			break;
		}
	char name[160], trimmed[128];
	snprintf(trimmed, sizeof(trimmed), "%s", base);
	size_t n = strlen(trimmed);
	while (n > 1 && trimmed[n - 1] >= '0' && trimmed[n - 1] <= '9')
		trimmed[--n] = 0;
	int shown = 0;
	const char *bases[2] = { base, trimmed };
	for (int i = 0; i < 2; i++) {
		if (i == 1 && !strcmp(trimmed, base))
			break;
		snprintf(name, sizeof(name), "sys_%s_%s", is_return ? "exit" : "enter", bases[i]);
		if (tracepoint_exists(s, "syscalls", name)) {
			diag_hint(s->diag, "tracepoint:syscalls:%s traces the same system call", name);
			shown++;
		}
	}
	if (shown)
		return;
	const char **near = NULL;
	int k = ki_closest_tracepoints(s->ki, "*", base, s->arena, &near, 3);
	for (int i = 0; i < k; i++)
		diag_hint(s->diag, "tracepoint:%s exists and may help", near[i]);
}

/* kprobe:FUNC+OFF must land inside FUNC; the kernel itself refuses an
 * offset that is not an instruction boundary (EILSEQ, reported at attach). */
static void check_offset(struct sema *s, struct node *at, struct sema_probe *sp)
{
	int64_t size = ki_kernel_function_size(sp->func);
	if (size > 0 && sp->offset >= (uint64_t)size)
		sema_error(s, at->span,
			   "offset %#llx is past the end of %s, which is %lld bytes long",
			   (unsigned long long)sp->offset, sp->func, (long long)size);
}

static void check_kernel_function(struct sema *s, struct node *at, struct sema_probe *sp)
{
	bool is_kprobe = sp->kind == PD_PROBE_KPROBE || sp->kind == PD_PROBE_KRETPROBE;
	bool is_return = sp->kind == PD_PROBE_KRETPROBE || sp->kind == PD_PROBE_FEXIT;
	if (s->quiet)
		return;
	if (!has_wildcard(sp->func) && s->ki->function_exists &&
	    s->ki->function_exists(s->ki, sp->func) == 0) {
		sema_error(s, at->span, "kernel function '%s' does not exist: it is not in "
					"/proc/kallsyms (inlined, renamed or static?)", sp->func);
		const char **near = NULL;
		int k = ki_closest_kernel_functions(sp->func, s->arena, &near, 4);
		for (int i = 0; i < k; i++)
			diag_hint(s->diag, "did you mean %s:%s?", at->attach.provider, near[i]);
		return;
	}
	bool have = ki_has(s->ki, is_kprobe ? KI_KPROBES : KI_FENTRY);
	bool other = ki_has(s->ki, is_kprobe ? KI_FENTRY : KI_KPROBES);
	if (have)
		return;
	if (other) { /* same function through the mechanism this kernel has */
		sp->kind = is_kprobe ? (is_return ? PD_PROBE_FEXIT : PD_PROBE_FENTRY)
				     : (is_return ? PD_PROBE_KRETPROBE : PD_PROBE_KPROBE);
		return;
	}
	bool btf = ki_has(s->ki, KI_BTF);
	if (!is_kprobe && !btf) {
		/* fentry programs are typed by the kernel's BTF: nothing to load */
		sema_error(s, at->span,
			   "%s probes need the kernel's BTF type information, which is missing (%s), "
			   "and kprobes are not available either",
			   at->attach.provider, ki_reason(s->ki, KI_BTF));
		diag_hint(s->diag, "a kernel built with CONFIG_DEBUG_INFO_BTF=y has "
				   "/sys/kernel/btf/vmlinux; without it, use tracepoints");
		hint_tracepoints(s, sp->func, is_return);
		return;
	}
	if (!s->opts.will_attach)
		return; /* dumps and --dry-run: the program still compiles and loads */
	sema_error(s, at->span,
		   "%s probes are not available on this kernel (%s), and neither are %s%s%s%s",
		   at->attach.provider,
		   is_kprobe ? "CONFIG_KPROBES is not set" : "no BPF trampoline support for fentry/fexit",
		   is_kprobe ? "fentry/fexit" : "kprobes",
		   is_kprobe && !btf ? " (they need the kernel's BTF, which is missing: " : "",
		   is_kprobe && !btf ? ki_reason(s->ki, KI_BTF) : "", is_kprobe && !btf ? ")" : "");
	hint_tracepoints(s, sp->func, is_return);
}

/* kprobe:FUNC[+OFF], kretprobe:FUNC, fentry:FUNC, fexit:FUNC, each with
 * wildcards: one sema_probe per kernel function, named "kprobe:FUNC". */
static void resolve_kernel_function(struct sema *s, struct node *probe, struct node *at,
				    enum pd_probe_kind kind)
{
	const char *prov = at->attach.provider;
	bool is_return = kind == PD_PROBE_KRETPROBE || kind == PD_PROBE_FEXIT;
	if (at->attach.nparts != 1 || !*at->attach.parts[0]) {
		sema_error(s, at->span, "malformed attach point '%s': expected %s:FUNCTION%s",
			   at->attach.raw, prov, kind == PD_PROBE_KPROBE ? "[+OFFSET]" : "");
		return;
	}
	const char *func = at->attach.parts[0];
	if (at->attach.has_offset && kind != PD_PROBE_KPROBE) {
		sema_error(s, at->span,
			   "%s probes take no offset: only kprobe:FUNCTION+OFFSET does", prov);
		return;
	}
	if (!has_wildcard(func)) {
		if (is_return && ki_kretprobe_banned(func)) {
			sema_error(s, at->span,
				   "%s:%s can't be used as it might lock up your system", prov,
				   func);
			return;
		}
		struct sema_probe *sp = new_probe(s, probe, at, kind);
		sp->func = func;
		sp->offset = at->attach.offset;
		add_probe(s, sp);
		check_kernel_function(s, at, sp);
		if (at->attach.has_offset && !s->quiet)
			check_offset(s, at, sp);
		return;
	}
	if (at->attach.has_offset) {
		sema_error(s, at->span, "an offset cannot be used with a wildcard ('%s')",
			   at->attach.raw);
		return;
	}
	const char **names = NULL;
	int n = s->ki->function_list ? s->ki->function_list(s->ki, func, s->arena, &names) : 0;
	if (n < 0) {
		sema_error(s, at->span, "cannot list kernel functions for '%s': %s", at->attach.raw,
			   strerror(-n));
		return;
	}
	struct sema_probe *first = NULL;
	int added = 0;
	for (int i = 0; i < n; i++) {
		if (is_return && ki_kretprobe_banned(names[i]))
			continue; /* a wildcard skips them; naming one is an error */
		struct sema_probe *sp = new_probe(s, probe, at, kind);
		sp->func = names[i];
		sp->name = arena_printf(s->arena, "%s:%s", prov, names[i]);
		add_probe(s, sp);
		if (!first) {
			first = sp;
			check_kernel_function(s, at, sp);
		}
		sp->kind = first->kind; /* the mechanism chosen for the first */
		added++;
	}
	if (!added)
		sema_error(s, at->span, "no kernel function matches '%s'", at->attach.raw);
}

static bool uses_ident(const struct node *n, const char *name);

static bool list_uses(const struct node *n, const char *name)
{
	for (; n; n = n->next)
		if (uses_ident(n, name))
			return true;
	return false;
}

static bool body_uses_ctx(const struct node *n)
{
	return uses_ident(n, "args");
}

/* Does a subtree mention the builtin `name`? Format files are read only
 * for bodies that use `args`. */
static bool uses_ident(const struct node *n, const char *name)
{
	if (!n)
		return false;
	switch (n->kind) {
	case N_IDENT:
		return !strcmp(n->ident.name, name);
	case N_INT: case N_STR: case N_VAR: case N_POSPARAM: case N_POSCOUNT:
	case N_BREAK: case N_CONTINUE: case N_TYPENAME:
		return false;
	case N_BLOCK: return list_uses(n->block.stmts, name);
	case N_EXPR_STMT: case N_RETURN: return uses_ident(n->stmt.expr, name);
	case N_ASSIGN: return uses_ident(n->assign.target, name) || uses_ident(n->assign.value, name);
	case N_IF:
		return uses_ident(n->if_.cond, name) || uses_ident(n->if_.then, name) ||
		       uses_ident(n->if_.els, name);
	case N_UNROLL: case N_WHILE:
		return uses_ident(n->loop.cond, name) || uses_ident(n->loop.body, name);
	case N_FOR:
		return uses_ident(n->for_.map, name) || uses_ident(n->for_.lo, name) ||
		       uses_ident(n->for_.hi, name) || uses_ident(n->for_.body, name);
	case N_LET: return uses_ident(n->let.value, name);
	case N_BLOCK_EXPR:
		return list_uses(n->block_expr.stmts, name) || uses_ident(n->block_expr.value, name);
	case N_MAP: return list_uses(n->map.keys, name);
	case N_BINOP: return uses_ident(n->binop.lhs, name) || uses_ident(n->binop.rhs, name);
	case N_UNOP: return uses_ident(n->unop.operand, name);
	case N_INCDEC: return uses_ident(n->incdec.operand, name);
	case N_TERNARY:
		return uses_ident(n->ternary.cond, name) || uses_ident(n->ternary.then, name) ||
		       uses_ident(n->ternary.els, name);
	case N_CALL: return list_uses(n->call.args, name);
	case N_FIELD: return uses_ident(n->field.base, name);
	case N_INDEX: return uses_ident(n->index.base, name) || uses_ident(n->index.index, name);
	case N_TUPLE: return list_uses(n->tuple.elems, name);
	case N_CAST: return uses_ident(n->cast.expr, name);
	case N_SIZEOF: return uses_ident(n->size_of.expr, name);
	default:
		return false;
	}
}

/* Does a subtree use builtin or function `name` (kstack, kstack(perf))? */
static bool uses_call(const struct node *n, const char *name);

static bool list_calls(const struct node *n, const char *name)
{
	for (; n; n = n->next)
		if (uses_call(n, name))
			return true;
	return false;
}

static bool uses_call(const struct node *n, const char *name)
{
	if (!n)
		return false;
	if (n->kind == N_CALL)
		return !strcmp(n->call.name, name) || list_calls(n->call.args, name);
	if (uses_ident(n, name))
		return true;
	/* calls nested anywhere: walk the same shapes uses_ident walks */
	switch (n->kind) {
	case N_BLOCK: return list_calls(n->block.stmts, name);
	case N_EXPR_STMT: case N_RETURN: return uses_call(n->stmt.expr, name);
	case N_ASSIGN: return uses_call(n->assign.target, name) || uses_call(n->assign.value, name);
	case N_IF:
		return uses_call(n->if_.cond, name) || uses_call(n->if_.then, name) ||
		       uses_call(n->if_.els, name);
	case N_UNROLL: case N_WHILE:
		return uses_call(n->loop.cond, name) || uses_call(n->loop.body, name);
	case N_FOR:
		return uses_call(n->for_.map, name) || uses_call(n->for_.lo, name) ||
		       uses_call(n->for_.hi, name) || uses_call(n->for_.body, name);
	case N_LET: return uses_call(n->let.value, name);
	case N_BLOCK_EXPR:
		return list_calls(n->block_expr.stmts, name) || uses_call(n->block_expr.value, name);
	case N_MAP: return list_calls(n->map.keys, name);
	case N_BINOP: return uses_call(n->binop.lhs, name) || uses_call(n->binop.rhs, name);
	case N_UNOP: return uses_call(n->unop.operand, name);
	case N_INCDEC: return uses_call(n->incdec.operand, name);
	case N_TERNARY:
		return uses_call(n->ternary.cond, name) || uses_call(n->ternary.then, name) ||
		       uses_call(n->ternary.els, name);
	case N_FIELD: return uses_call(n->field.base, name);
	case N_INDEX: return uses_call(n->index.base, name) || uses_call(n->index.index, name);
	case N_TUPLE: return list_calls(n->tuple.elems, name);
	case N_CAST: return uses_call(n->cast.expr, name);
	case N_SIZEOF: return uses_call(n->size_of.expr, name);
	default:
		return false;
	}
}

/* Closing a syscall tracepoint's perf event waits for RCU grace periods
 * (25-50 ms each, serialized by the kernel's event_mutex), so 360 of them
 * took 8-9 s to detach. The syscall events all hang off two tracepoints,
 * raw_syscalls sys_enter and sys_exit: from this many syscall events of one
 * block on, the block's program is attached once, to the raw tracepoint,
 * and filters on the syscall number (docs/kernel.md, "Detaching"). Fewer
 * stay perf events: a raw sys_enter program runs for every syscall of the
 * system, a perf event only for its own. */
#define RAW_SYSCALL_MIN 8

/* The fields of `args` a block reads (args->NAME), in order of first use;
 * `whole` when `args` is used other than as the base of a field (its
 * layout would then be the program's). */
struct args_use {
	const char **names;
	int n, cap;
	bool whole;
};

static void collect_args(struct sema *s, const struct node *n, struct args_use *u)
{
	for (; n; n = n->next) {
		if (n->kind == N_FIELD && n->field.base->kind == N_IDENT &&
		    !strcmp(n->field.base->ident.name, "args")) {
			int i = 0;
			while (i < u->n && strcmp(u->names[i], n->field.name))
				i++;
			if (i == u->n) {
				if (u->n == u->cap) {
					int cap = u->cap ? 2 * u->cap : 8;
					const char **a = arena_alloc(s->arena, cap * sizeof(*a));
					if (u->n)
						memcpy(a, u->names, u->n * sizeof(*a));
					u->names = a, u->cap = cap;
				}
				u->names[u->n++] = n->field.name;
			}
			continue;
		}
		if (n->kind == N_IDENT && !strcmp(n->ident.name, "args"))
			u->whole = true;
		struct node *kids[AST_MAX_CHILDREN];
		int k = ast_children(n, kids);
		for (int i = 0; i < k; i++)
			collect_args(s, kids[i], u);
	}
}

/* Can the raw syscall program give this field exactly the value the
 * syscall event's record holds? The record (kernel/trace/trace_syscalls.c)
 * is the int __syscall_nr at 8, then sys_enter's arguments, each an
 * unsigned long at 16 + 8 * i (syscall_get_arguments: the task's
 * registers), or sys_exit's long ret at 16 (the raw tracepoint's ret). A
 * field is read as its C type from its slot, which the raw program does
 * from the same 8-byte value. */
static const struct type_field *raw_field(const struct sema_probe *sp, const char *name,
					  bool is_exit)
{
	if (!sp->ctx)
		return NULL;
	const struct type_field *f = NULL;
	for (uint32_t i = 0; i < sp->ctx->nfields && !f; i++)
		if (!strcmp(sp->ctx->fields[i].name, name))
			f = &sp->ctx->fields[i];
	if (!f || f->is_data_loc || (f->type->kind != TY_INT && f->type->kind != TY_PTR) ||
	    f->type->size > 8)
		return NULL;
	if (f->offset == 8)
		return !strcmp(name, "__syscall_nr") && f->type->size <= 4 ? f : NULL;
	if (f->offset < 16 || (f->offset - 16) % 8)
		return NULL;
	return (f->offset - 16) / 8 < (is_exit ? 1u : 6u) ? f : NULL;
}

/* Do two probes read every field of u at the same place with the same
 * type? Then one program, typed for either, serves both. */
static bool same_fields(const struct sema_probe *a, const struct sema_probe *b,
			const struct args_use *u, bool is_exit)
{
	for (int i = 0; i < u->n; i++) {
		const struct type_field *fa = raw_field(a, u->names[i], is_exit);
		const struct type_field *fb = raw_field(b, u->names[i], is_exit);
		if (!fa || !fb || fa->offset != fb->offset || !type_equal(fa->type, fb->type) ||
		    fa->type->is_user != fb->type->is_user)
			return false;
	}
	return true;
}

/* Syscall tracepoints of one kind go into one raw program per class of
 * probes that read the block's `args` fields alike: a body that reads no
 * field has one class; `probe` becomes a table lookup by syscall number
 * (codegen), a field a read from the raw tracepoint's registers or ret.
 * A probe whose field the raw program cannot read (a missing field, which
 * sema then reports; a field not in an argument slot) keeps its own
 * perf event, as does a class of fewer than RAW_SYSCALL_MIN probes. */
static void group_syscalls(struct sema *s, struct sema_probe *first, const struct args_use *u,
			   int min)
{
	if (!s->ki->syscall_nr || u->whole)
		return;
	static const char *const kinds[2] = { "sys_enter", "sys_exit" };
	for (int k = 0; k < 2; k++) {
		size_t plen = strlen(kinds[k]) + 1; /* "sys_enter_" */
		int n = 0;
		for (struct sema_probe *sp = first; sp && sp->probe == first->probe; sp = sp->next) {
			if (sp->raw_syscall)
				continue;
			sp->sys_nr = -1;
			if (sp->kind != PD_PROBE_TRACEPOINT || strcmp(sp->target, "syscalls") ||
			    strncmp(sp->func, kinds[k], plen - 1) || sp->func[plen - 1] != '_')
				continue;
			if (u->n && !same_fields(sp, sp, u, k == 1))
				continue;
			sp->sys_nr = s->ki->syscall_nr(s->ki, sp->func + plen);
			n += sp->sys_nr >= 0;
		}
		if (n < min)
			continue;
		/* classes: each ungrouped candidate takes the later ones whose
		 * fields match it. A number already in the class (the same
		 * tracepoint attached twice) stays a perf event of its own: the
		 * raw program runs once per syscall. */
		int max_nr = 0;
		for (struct sema_probe *sp = first; sp && sp->probe == first->probe; sp = sp->next)
			if (sp->sys_nr > max_nr)
				max_nr = sp->sys_nr;
		bool *taken = arena_alloc(s->arena, (size_t)max_nr + 1);
		for (struct sema_probe *lead = first; lead && lead->probe == first->probe;
		     lead = lead->next) {
			if (lead->sys_nr < 0 || lead->raw_syscall)
				continue;
			memset(taken, 0, (size_t)max_nr + 1);
			int size = 0;
			for (struct sema_probe *sp = lead; sp && sp->probe == first->probe; sp = sp->next)
				if (sp->sys_nr >= 0 && !sp->raw_syscall && !taken[sp->sys_nr] &&
				    same_fields(lead, sp, u, k == 1))
					taken[sp->sys_nr] = true, size++;
			if (size < min) {
				lead->sys_nr = -1;
				continue;
			}
			memset(taken, 0, (size_t)max_nr + 1);
			int group = s->ngroups++;
			for (struct sema_probe *sp = lead; sp && sp->probe == first->probe; sp = sp->next)
				if (sp->sys_nr >= 0 && !sp->raw_syscall && !taken[sp->sys_nr] &&
				    same_fields(lead, sp, u, k == 1)) {
					taken[sp->sys_nr] = true;
					sp->group = group;
					sp->raw_syscall = kinds[k];
				}
		}
		for (struct sema_probe *sp = first; sp && sp->probe == first->probe; sp = sp->next)
			if (!sp->raw_syscall)
				sp->sys_nr = -1;
	}
}

/* iter:NAME: a BPF iterator (5.8), run once over every kernel object of
 * its kind when trace starts; trace then exits. The program is a
 * tracing program on the kernel's bpf_iter_NAME, typed by BTF. */
static void resolve_iter(struct sema *s, struct node *probe, struct node *at)
{
	static const char *const known[] = { "task", "task_file", "task_vma", NULL };
	if (at->attach.nparts != 1 || has_wildcard(at->attach.parts[0])) {
		sema_error(s, at->span, "malformed attach point '%s': expected iter:NAME",
			   at->attach.raw);
		return;
	}
	const char *name = at->attach.parts[0];
	int i = 0;
	while (known[i] && strcmp(known[i], name))
		i++;
	if (!known[i]) {
		sema_error(s, at->span, "unknown iterator '%s': trace knows iter:task, "
					"iter:task_file and iter:task_vma", name);
		return;
	}
	if (!ki_has(s->ki, KI_BTF)) {
		sema_error(s, at->span, "iter probes need the kernel's BTF type information, "
					"which is missing (%s)", ki_reason(s->ki, KI_BTF));
		return;
	}
	struct sema_probe *sp = new_probe(s, probe, at, PD_PROBE_ITER);
	sp->func = name;
	sp->name = arena_printf(s->arena, "iter:%s", name);
	add_probe(s, sp);
}

/* The kprobes (or kretprobes) of one block share one program: attached
 * as one kprobe_multi link where the kernel has them, else once per
 * function. `probe` is then the attach cookie, which the runtime sets to
 * each function's probe index. */
static void group_kprobes(struct sema *s, struct sema_probe *first, bool uses_ctx, bool uses_probe)
{
	if (uses_ctx || (uses_probe && !ki_has(s->ki, KI_ATTACH_COOKIE)))
		return;
	for (int k = 0; k < 2; k++) {
		enum pd_probe_kind kind = k ? PD_PROBE_KRETPROBE : PD_PROBE_KPROBE;
		struct sema_probe *lead = NULL;
		int n = 0;
		for (struct sema_probe *sp = first; sp; sp = sp->next)
			if (sp->kind == kind && !sp->offset)
				n++;
		if (n < 2)
			continue;
		bool multi = ki_has(s->ki, KI_KPROBE_MULTI);
		for (struct sema_probe *sp = first; sp; sp = sp->next) {
			if (sp->kind != kind || sp->offset)
				continue;
			if (!lead)
				lead = sp;
			sp->group = lead->group;
			sp->multi = multi;
			sp->probe_cookie = uses_probe;
		}
	}
}

/* The uprobes (or uretprobes) of one block in one file share one program
 * and one uprobe_multi link (6.6) where the kernel has them; else each
 * keeps its program and uprobe, as before. `probe` is the attach cookie
 * (the runtime sets each offset's probe index). Not when the block reads
 * `func` (a constant per program) or `args`. */
static void group_uprobes(struct sema *s, struct sema_probe *first, bool uses_ctx, bool uses_probe,
			  bool uses_func)
{
	if (uses_ctx || uses_func || !ki_has(s->ki, KI_UPROBE_MULTI) ||
	    (uses_probe && !ki_has(s->ki, KI_ATTACH_COOKIE)))
		return;
	for (struct sema_probe *lead = first; lead; lead = lead->next) {
		if ((lead->kind != PD_PROBE_UPROBE && lead->kind != PD_PROBE_URETPROBE) ||
		    !lead->file_offset || lead->multi)
			continue;
		int n = 0;
		for (struct sema_probe *sp = lead; sp; sp = sp->next)
			n += sp->kind == lead->kind && sp->file_offset && !sp->multi &&
			     !strcmp(sp->target, lead->target);
		if (n < 2)
			continue;
		for (struct sema_probe *sp = lead; sp; sp = sp->next) {
			if (sp->kind != lead->kind || !sp->file_offset || sp->multi ||
			    strcmp(sp->target, lead->target))
				continue;
			if (sp != lead)
				sp->group = lead->group;
			sp->multi = true;
			sp->probe_cookie = uses_probe;
		}
	}
}

/* Dispatch on the provider table's resolver (runtime/provider.h). */
static void resolve_attach(struct sema *s, struct node *probe, struct node *at, bool uses_ctx)
{
	const struct provider *pv = at->attach.provider ? pv_by_name(at->attach.provider) : NULL;
	if (!pv) {
		sema_error(s, at->span, "unknown probe type in '%s'", at->attach.raw);
		return;
	}
	switch (pv->resolve) {
	case PV_RESOLVE_SPECIAL: {
		struct sema_probe *sp = new_probe(s, probe, at, pv->kind);
		sp->name = pv->name;
		add_probe(s, sp);
		break;
	}
	case PV_RESOLVE_TRACEPOINT:
		resolve_tracepoint(s, probe, at, uses_ctx);
		break;
	case PV_RESOLVE_TIMER:
		resolve_timer(s, probe, at, pv->kind == PD_PROBE_PROFILE);
		break;
	case PV_RESOLVE_PERF:
		resolve_perf(s, probe, at, pv->kind == PD_PROBE_HARDWARE);
		break;
	case PV_RESOLVE_KFUNC:
		resolve_kernel_function(s, probe, at, pv->kind);
		break;
	case PV_RESOLVE_FUNCTION:
		resolve_function(s, probe, at, pv->kind, pv->parts);
		break;
	case PV_RESOLVE_UPROBE:
		resolve_uprobe(s, probe, at, pv);
		break;
	case PV_RESOLVE_USDT:
		resolve_usdt(s, probe, at, pv);
		break;
	case PV_RESOLVE_ITER:
		resolve_iter(s, probe, at);
		break;
	case PV_RESOLVE_UNSUPPORTED:
		sema_error(s, at->span, "%s probes are not supported yet", pv->name);
		break;
	}
}

/* The kernel runs at most 64 programs on one tracepoint through perf
 * events (BPF_TRACE_MAX_PROGS; the 65th attach fails with E2BIG). A
 * syscall tracepoint that more blocks attach to goes through the raw
 * sys_enter/sys_exit tracepoint for all of them, which has no such limit
 * (each block its own raw program, filtered on the syscall number); any
 * other tracepoint that crowded is an error naming the limit. */
#define TRACEPOINT_MAX_PROGS 64

struct block_info {
	struct sema_probe *first;
	struct args_use u;
	bool raw_ok; /* no kstack */
};

struct tp_use {
	const char *name;
	int group;
	struct sema_probe *sp;
};

static int by_tp_name(const void *a, const void *b)
{
	const struct tp_use *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->group > y->group) - (x->group < y->group);
}

/* the tracepoint probes (not raw) sorted by name, then group */
static struct tp_use *tracepoint_uses(struct sema *s, int *n)
{
	int count = 0;
	for (struct sema_probe *sp = s->probes; sp; sp = sp->next)
		count += sp->kind == PD_PROBE_TRACEPOINT && !sp->raw_syscall;
	struct tp_use *t = arena_alloc(s->arena, ((size_t)count + 1) * sizeof(*t));
	*n = 0;
	for (struct sema_probe *sp = s->probes; sp; sp = sp->next)
		if (sp->kind == PD_PROBE_TRACEPOINT && !sp->raw_syscall)
			t[(*n)++] = (struct tp_use){ sp->name, sp->group, sp };
	qsort(t, (size_t)*n, sizeof(*t), by_tp_name);
	return t;
}

/* Marks every probe on a tracepoint with more than TRACEPOINT_MAX_PROGS
 * programs (sp->sys_nr = -2, a mark only read here); true if any. */
static bool mark_crowded(struct sema *s, bool report)
{
	int n, i = 0;
	bool any = false;
	struct tp_use *t = tracepoint_uses(s, &n);
	while (i < n) {
		int j = i, progs = 0;
		for (; j < n && !strcmp(t[j].name, t[i].name); j++)
			progs += j == i || t[j].group != t[j - 1].group;
		if (progs > TRACEPOINT_MAX_PROGS) {
			any = true;
			for (int k = i; k < j && !report; k++)
				t[k].sp->sys_nr = -2;
			if (report)
				sema_error(s, t[j - 1].sp->attach->span,
					   "%d blocks attach to %s; the kernel runs at most %d "
					   "programs on one tracepoint (BPF_TRACE_MAX_PROGS)",
					   progs, t[i].name, TRACEPOINT_MAX_PROGS);
		}
		i = j;
	}
	return any;
}

/* More blocks on one tracepoint than the kernel runs programs there
 * share programs: consecutive blocks in script order go into one program
 * (a chain), which runs them one after the other (codegen: gen_program;
 * the runtime attaches the first of each chain only). Only blocks with a
 * program of their own (one attach point) are chained. A program may use
 * at most 64 maps (MAX_USED_MAPS): a chain takes blocks while their maps
 * number at most CHAIN_MAPS (the rest is room for trace's own: scratch,
 * events, stacks, ...), and at most CHAIN_BLOCKS blocks and CHAIN_NODES
 * syntax nodes (the verifier's million instructions are per program); a
 * block with a loop keeps a program of its own.
 *
 * chain_crowded: a crowded tracepoint whose blocks fit in the perf event
 * programs left under the kernel's 64 (at most CHAIN_PROGS, leaving room
 * for other tools on the same tracepoint) is served by chains of perf
 * event programs: an event costs a program run per chain, not per block,
 * and LLVM compiles a few functions instead of thousands.
 *
 * chain_raw: otherwise uncrowd_syscalls made each block of a crowded
 * syscall tracepoint a raw sys_enter/sys_exit program of its own; those
 * are chained the same way (no limit on their number), so that every
 * syscall of the system runs a program per chain, not per block. */
#define CHAIN_PROGS 32
#define CHAIN_MAPS 48
#define CHAIN_BLOCKS 128
#define CHAIN_NODES 4096

/* What a block costs a chain: the distinct maps it names (at most
 * CHAIN_MAPS + 1 kept: past that the count only says "too many"), its
 * nodes (a bound on the verifier's walk of the chain's program: each
 * program gets a million instructions, a chain shares them) and whether
 * it loops (such a block keeps a program of its own). */
struct block_cost {
	const char *names[CHAIN_MAPS + 1];
	int nnames, nodes;
	bool loops;
};

static void block_cost(const struct node *n, struct block_cost *c)
{
	for (; n; n = n->next) {
		c->nodes++;
		c->loops |= n->kind == N_WHILE || n->kind == N_UNROLL || n->kind == N_FOR;
		if (n->kind == N_MAP) {
			int i = 0;
			while (i < c->nnames && strcmp(c->names[i], n->map.name))
				i++;
			if (i == c->nnames && c->nnames <= CHAIN_MAPS)
				c->names[c->nnames++] = n->map.name;
		}
		struct node *kids[AST_MAX_CHILDREN];
		int k = ast_children(n, kids);
		for (int i = 0; i < k; i++)
			if (kids[i])
				block_cost(kids[i], c);
	}
}

struct chainer {
	const char *names[CHAIN_MAPS + 1];
	int nnames, nblocks, nchains, nodes;
	struct sema_probe *lead, *tail;
	bool apply; /* false: only count the chains */
};

/* sp next in script order among the candidates of one tracepoint */
static void chain_add(struct chainer *c, struct sema_probe *sp)
{
	struct block_cost bc = { 0 };
	block_cost(sp->probe->probe.pred, &bc);
	block_cost(sp->probe->probe.body, &bc);
	const char **mine = bc.names;
	int nmine = bc.nnames, fresh = 0;
	for (int i = 0; i < nmine; i++) {
		int j = 0;
		while (j < c->nnames && strcmp(c->names[j], mine[i]))
			j++;
		fresh += j == c->nnames;
	}
	if (c->lead && !bc.loops && c->nblocks < CHAIN_BLOCKS && c->nnames + fresh <= CHAIN_MAPS &&
	    c->nodes + bc.nodes <= CHAIN_NODES) {
		for (int i = 0; i < nmine; i++) {
			int j = 0;
			while (j < c->nnames && strcmp(c->names[j], mine[i]))
				j++;
			if (j == c->nnames)
				c->names[c->nnames++] = mine[i];
		}
		c->nblocks++;
		c->nodes += bc.nodes;
		if (c->apply) {
			c->tail->chain = sp;
			c->tail = sp;
			sp->chained = true;
			sp->group = c->lead->group;
		}
		return;
	}
	/* a new chain; a block of more maps than a chain takes stays alone */
	c->nchains++;
	c->lead = c->tail = sp;
	c->nblocks = 1;
	c->nodes = bc.nodes;
	c->nnames = 0;
	for (int i = 0; i < nmine && i < CHAIN_MAPS; i++)
		c->names[c->nnames++] = mine[i];
	if (nmine > CHAIN_MAPS || bc.loops)
		c->lead = NULL; /* alone */
}

static int *group_sizes(struct sema *s)
{
	int *gsize = arena_alloc(s->arena, ((size_t)s->ngroups + 1) * sizeof(*gsize));
	for (struct sema_probe *sp = s->probes; sp; sp = sp->next)
		if (sp->group >= 0 && sp->group < s->ngroups)
			gsize[sp->group]++;
	return gsize;
}

static void chain_crowded(struct sema *s)
{
	int n, i = 0;
	struct tp_use *t = tracepoint_uses(s, &n);
	int *gsize = group_sizes(s);
	while (i < n) {
		int j = i, progs = 0, alone = 0;
		for (; j < n && !strcmp(t[j].name, t[i].name); j++) {
			progs += j == i || t[j].group != t[j - 1].group;
			alone += t[j].group >= 0 && gsize[t[j].group] == 1;
		}
		int room = TRACEPOINT_MAX_PROGS - (progs - alone);
		int nprogs = room < CHAIN_PROGS ? room : CHAIN_PROGS;
		if (progs > TRACEPOINT_MAX_PROGS && alone > 1 && nprogs > 0) {
			for (int pass = 0; pass < 2; pass++) {
				struct chainer c = { .apply = pass == 1 };
				for (int k = i; k < j; k++)
					if (t[k].group >= 0 && gsize[t[k].group] == 1)
						chain_add(&c, t[k].sp);
				if (c.nchains > nprogs)
					break; /* too many maps for the programs left */
			}
		}
		i = j;
	}
}

static int by_name_then_index(const void *a, const void *b)
{
	const struct sema_probe *x = *(struct sema_probe *const *)a, *y = *(struct sema_probe *const *)b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->index > y->index) - (x->index < y->index);
}

static void chain_raw(struct sema *s)
{
	int *gsize = group_sizes(s);
	int n = 0;
	for (struct sema_probe *sp = s->probes; sp; sp = sp->next)
		n += sp->raw_syscall && !sp->chained && gsize[sp->group] == 1;
	if (n <= TRACEPOINT_MAX_PROGS)
		return;
	struct sema_probe **v = arena_alloc(s->arena, (size_t)n * sizeof(*v));
	n = 0;
	for (struct sema_probe *sp = s->probes; sp; sp = sp->next)
		if (sp->raw_syscall && !sp->chained && gsize[sp->group] == 1)
			v[n++] = sp;
	qsort(v, (size_t)n, sizeof(*v), by_name_then_index);
	for (int i = 0, j; i < n; i = j) {
		for (j = i; j < n && !strcmp(v[j]->name, v[i]->name); j++)
			;
		if (j - i <= TRACEPOINT_MAX_PROGS)
			continue;
		struct chainer c = { .apply = true };
		for (int k = i; k < j; k++)
			chain_add(&c, v[k]);
	}
}

/* Uprobe blocks of one file, a function each, are chained too (at least
 * CHAIN_UPROBES_MIN of them), a chain attached as one uprobe_multi link
 * (6.6): its program runs the block whose function fired, found by the
 * attach cookie, which the runtime sets to the probe's index (codegen:
 * gen_program). Closing a uprobe perf event costs the kernel 100-150 ms,
 * serialized (docs/kernel.md); a link releases all its uprobes at once. */
#define CHAIN_UPROBES_MIN 8

static int by_uprobe_file(const void *a, const void *b)
{
	const struct sema_probe *x = *(struct sema_probe *const *)a, *y = *(struct sema_probe *const *)b;
	int c = (x->kind > y->kind) - (x->kind < y->kind);
	c = c ? c : strcmp(x->target, y->target);
	return c ? c : (x->index > y->index) - (x->index < y->index);
}

static bool uprobe_chainable(const struct sema_probe *sp, const int *gsize)
{
	return (sp->kind == PD_PROBE_UPROBE || sp->kind == PD_PROBE_URETPROBE) &&
	       sp->file_offset && !sp->multi && !sp->chained && sp->group >= 0 &&
	       gsize[sp->group] == 1;
}

static void chain_uprobes(struct sema *s)
{
	if (!ki_has(s->ki, KI_UPROBE_MULTI) || !ki_has(s->ki, KI_ATTACH_COOKIE))
		return;
	int *gsize = group_sizes(s), n = 0;
	for (struct sema_probe *sp = s->probes; sp; sp = sp->next)
		n += uprobe_chainable(sp, gsize);
	if (n < CHAIN_UPROBES_MIN)
		return;
	struct sema_probe **v = arena_alloc(s->arena, (size_t)n * sizeof(*v));
	n = 0;
	for (struct sema_probe *sp = s->probes; sp; sp = sp->next)
		if (uprobe_chainable(sp, gsize))
			v[n++] = sp;
	qsort(v, (size_t)n, sizeof(*v), by_uprobe_file);
	for (int i = 0, j; i < n; i = j) {
		for (j = i; j < n && v[j]->kind == v[i]->kind && !strcmp(v[j]->target, v[i]->target);
		     j++)
			;
		if (j - i < CHAIN_UPROBES_MIN)
			continue;
		struct chainer c = { .apply = true };
		for (int k = i; k < j; k++)
			chain_add(&c, v[k]);
		for (int k = i; k < j; k++)
			if (v[k]->chain || v[k]->chained)
				v[k]->multi = true; /* one link per chain, cookies dispatch */
	}
}

static void uncrowd_syscalls(struct sema *s, struct block_info *blocks, int nblocks)
{
	if (!mark_crowded(s, false))
		return;
	for (int b = 0; b < nblocks; b++) {
		/* each walk stays in the block's own probes (contiguous in
		 * s->probes): a walk to the end of the list was blocks x probes */
		const struct node *block = blocks[b].first->probe;
		bool crowded = false;
		for (struct sema_probe *sp = blocks[b].first; sp && sp->probe == block && !crowded;
		     sp = sp->next)
			crowded = sp->sys_nr == -2;
		if (crowded && blocks[b].raw_ok)
			group_syscalls(s, blocks[b].first, &blocks[b].u, 1);
		/* group_syscalls leaves sys_nr -1 on what stays a perf event */
		for (struct sema_probe *sp = blocks[b].first; sp && sp->probe == block; sp = sp->next)
			if (sp->sys_nr == -2)
				sp->sys_nr = -1;
	}
	mark_crowded(s, true);
}

void probes_resolve(struct sema *s)
{
	int nblocks = 0, cap = 0;
	struct block_info *blocks = NULL;
	for (struct node *p = s->program->program.probes; p; p = p->next) {
		bool uses_ctx = body_uses_ctx(p->probe.body) || body_uses_ctx(p->probe.pred);
		struct sema_probe **first = s->probes_tail ? s->probes_tail : &s->probes;
		for (struct node *at = p->probe.attach; at; at = at->next)
			resolve_attach(s, p, at, uses_ctx);
		/* Tracepoint expansions of one block share one program (attached
		 * many times) unless each needs its own `args` layout or name. */
		bool uses_probe = uses_ident(p->probe.body, "probe") ||
				  uses_ident(p->probe.pred, "probe");
		bool shareable = !uses_ctx && !uses_probe;
		int shared = -1;
		for (struct sema_probe *sp = *first; sp; sp = sp->next) {
			if (shareable && sp->kind == PD_PROBE_TRACEPOINT) {
				if (shared < 0)
					shared = s->ngroups++;
				sp->group = shared;
			} else {
				sp->group = s->ngroups++;
			}
		}
		group_kprobes(s, *first, uses_ctx, uses_probe);
		group_uprobes(s, *first, uses_ctx, uses_probe,
			      uses_ident(p->probe.body, "func") || uses_ident(p->probe.pred, "func"));
		/* kstack would start in other kernel frames in a raw program */
		struct args_use u = { 0 };
		collect_args(s, p->probe.pred, &u);
		collect_args(s, p->probe.body, &u);
		bool raw_ok = !uses_call(p->probe.body, "kstack") && !uses_call(p->probe.pred, "kstack");
		if (raw_ok)
			group_syscalls(s, *first, &u, RAW_SYSCALL_MIN);
		if (!*first)
			continue;
		if (nblocks == cap) {
			cap = cap ? 2 * cap : 64;
			struct block_info *nb = arena_alloc(s->arena, (size_t)cap * sizeof(*nb));
			if (nblocks)
				memcpy(nb, blocks, (size_t)nblocks * sizeof(*nb));
			blocks = nb;
		}
		blocks[nblocks++] = (struct block_info){ *first, u, raw_ok };
	}
	chain_crowded(s);
	uncrowd_syscalls(s, blocks, nblocks);
	chain_raw(s);
	chain_uprobes(s);
}
