/* list.c: `trace -l [PATTERN]` and `-lv`: the probes this kernel offers.
 *
 * Tracepoints come from tracefs (through kernel_info), software and
 * hardware events from the tables bpftrace users know. PATTERN is a glob
 * over full probe names ("tracepoint:syscalls:sys_enter_open*"); short
 * provider aliases ("t:sched:*") are accepted, and a pattern without a
 * provider matches any. With -v each tracepoint's arguments follow it.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>

#include "compiler/ast.h"
#include "compiler/kernel_info.h"
#include "compiler/udwarf.h"
#include "compiler/uelf.h"
#include "driver/list.h"
#include "runtime/features.h"

static const char *sw_events[] = { "alignment-faults", "bpf-output", "context-switches", "cpu-clock",
				   "cpu-migrations", "dummy", "emulation-faults", "major-faults",
				   "minor-faults", "page-faults", "task-clock", NULL };
static const char *hw_events[] = { "backend-stalls", "branch-instructions", "branch-misses",
				   "bus-cycles", "cache-misses", "cache-references", "cpu-cycles",
				   "frontend-stalls", "instructions", "ref-cycles", NULL };

/* "t:sched:*" -> "tracepoint:sched:*"; "sched:*" -> "*:sched:*" */
static void canonical_pattern(const char *in, char *out, size_t len)
{
	const char *colon = strchr(in, ':');
	if (!in[0]) {
		snprintf(out, len, "*");
		return;
	}
	if (!colon) {
		snprintf(out, len, "*%s*", in);
		return;
	}
	char prov[64];
	snprintf(prov, sizeof(prov), "%.*s", (int)(colon - in), in);
	const char *canon = ast_canonical_provider(prov);
	if (canon)
		snprintf(out, len, "%s%s", canon, colon);
	else
		snprintf(out, len, "*:%s", in);
}

static void print_args(struct kernel_info *ki, const char *tp, struct arena *a)
{
	char cat[256];
	const char *colon = strchr(tp, ':');
	snprintf(cat, sizeof(cat), "%.*s", (int)(colon - tp), tp);
	struct tp_format fmt;
	if (ki->tracepoint_format(ki, cat, colon + 1, a, &fmt))
		return;
	for (int i = 0; i < fmt.nfields; i++) {
		const struct tp_field *f = &fmt.fields[i];
		if (f->is_common)
			continue;
		const char *br = strchr(f->ctype, '[');
		if (br && !f->is_data_loc) /* "char[16]" prints as "char prev_comm[16]" */
			printf("    %.*s %s%s\n", (int)(br - f->ctype), f->ctype, f->name, br);
		else
			printf("    %s %s\n", f->ctype, f->name);
	}
}

static int list_events(const char *provider, const char **names, const char *pattern)
{
	char full[256];
	int n = 0;
	for (; *names; names++) {
		snprintf(full, sizeof(full), "%s:%s:", provider, *names);
		if (!fnmatch(pattern, full, 0) ||
		    (snprintf(full, sizeof(full), "%s:%s", provider, *names), !fnmatch(pattern, full, 0))) {
			printf("%s:%s:\n", provider, *names);
			n++;
		}
	}
	return n;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* A BTF type as C spells it before a name: "struct file *", "const char *". */
static void btf_type_str(const struct btf *btf, __u32 id, char *buf, size_t len)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	char inner[200];
	if (!id || !t) {
		snprintf(buf, len, "void");
		return;
	}
	switch (btf_kind(t)) {
	case BTF_KIND_PTR:
		btf_type_str(btf, t->type, inner, sizeof(inner));
		snprintf(buf, len, "%s *", inner);
		return;
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
		btf_type_str(btf, t->type, inner, sizeof(inner));
		snprintf(buf, len, "%s%s", btf_kind(t) == BTF_KIND_CONST ? "const " : "", inner);
		return;
	case BTF_KIND_TYPE_TAG:
		btf_type_str(btf, t->type, buf, len);
		return;
	case BTF_KIND_STRUCT:
		snprintf(buf, len, "struct %s", btf__name_by_offset(btf, t->name_off));
		return;
	case BTF_KIND_UNION:
		snprintf(buf, len, "union %s", btf__name_by_offset(btf, t->name_off));
		return;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		snprintf(buf, len, "enum %s", btf__name_by_offset(btf, t->name_off));
		return;
	case BTF_KIND_FUNC_PROTO:
		snprintf(buf, len, "void (*)()"); /* bpftrace prints function pointers so too */
		return;
	default:
		snprintf(buf, len, "%s", btf__name_by_offset(btf, t->name_off));
	}
}

/* fentry:FUNC's arguments and return value from its BTF prototype, as
 * fentry probes see them (args->NAME, retval). */
static void print_func_args(const struct btf *btf, const char *func)
{
	__s32 id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);
	const struct btf_type *fn = id > 0 ? btf__type_by_id(btf, id) : NULL;
	const struct btf_type *proto = fn ? btf__type_by_id(btf, fn->type) : NULL;
	if (!proto || !btf_is_func_proto(proto))
		return;
	const struct btf_param *p = btf_params(proto);
	char ty[256];
	for (int i = 0; i < btf_vlen(proto); i++) {
		btf_type_str(btf, p[i].type, ty, sizeof(ty));
		printf("    %s %s\n", ty, btf__name_by_offset(btf, p[i].name_off));
	}
	if (proto->type) {
		btf_type_str(btf, proto->type, ty, sizeof(ty));
		printf("    %s retval\n", ty);
	}
}

/* kprobe:FUNC for every traceable kernel function (kretprobe takes the
 * same names; bpftrace lists only kprobe), fentry:FUNC for those that also
 * have a BTF prototype. */
static int list_functions(const char *pat, bool verbose, struct arena *a)
{
	bool kp = !fnmatch(pat, "kprobe:", FNM_LEADING_DIR) || strstr(pat, "kprobe") ||
		  pat[0] == '*';
	bool fe = !fnmatch(pat, "fentry:", FNM_LEADING_DIR) || strstr(pat, "fentry") ||
		  pat[0] == '*';
	if (!kp && !fe)
		return 0;
	const char **funcs = NULL;
	int n = ki_kernel_function_list("*", a, &funcs);
	if (n < 0)
		return n;
	const struct btf *btf = fe ? rt_feature_vmlinux_btf() : NULL;
	/* BTF's FUNC names, sorted: btf__find_by_name_kind is a linear scan */
	const char **bfuncs = NULL;
	size_t nb = 0;
	if (btf) {
		__u32 nt = btf__type_cnt(btf);
		bfuncs = arena_alloc(a, nt * sizeof(*bfuncs));
		for (__u32 id = 1; id < nt; id++) {
			const struct btf_type *t = btf__type_by_id(btf, id);
			if (btf_is_func(t))
				bfuncs[nb++] = btf__name_by_offset(btf, t->name_off);
		}
		qsort(bfuncs, nb, sizeof(*bfuncs), cmp_str);
	}
	char full[512];
	for (int k = 0; k < 2; k++) {
		if (k == 1 && !btf)
			break;
		for (int i = 0; i < n; i++) {
			snprintf(full, sizeof(full), "%s:%s", k ? "fentry" : "kprobe", funcs[i]);
			if (fnmatch(pat, full, 0))
				continue;
			if (k == 1 && !bsearch(&funcs[i], bfuncs, nb, sizeof(*bfuncs), cmp_str))
				continue;
			printf("%s\n", full);
			if (verbose && k == 1)
				print_func_args(btf, funcs[i]);
		}
	}
	return 0;
}

/* uprobe:FILE[:GLOB] (uretprobe the same): FILE's functions (.symtab,
 * .dynsym), C++ ones demangled; FILE as for a probe (compiler/uelf.c).
 * -lv: each function's parameters from DWARF ("    long int a"), as
 * bpftrace prints them; none without DWARF. */
static int list_uprobes(const char *pat, bool verbose)
{
	char prov[16], file[4096];
	const char *func = "*", *why;
	const char *c1 = strchr(pat, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	snprintf(prov, sizeof(prov), "%.*s", (int)(c1 - pat), pat);
	snprintf(file, sizeof(file), "%.*s", (int)(c2 ? c2 - c1 - 1 : (long)strlen(c1 + 1)),
		 c1 + 1);
	if (c2 && c2[1])
		func = c2 + 1;
	struct arena a = { 0 };
	struct uelf_sym *syms;
	int n = -ENOENT;
	const char *path = uelf_resolve_target(&a, file, 0, &why);
	if (path)
		n = uelf_functions(&a, path, &syms);
	if (n < 0)
		fprintf(stderr, "ERROR: cannot list the functions of '%s': %s\n", file,
			!path	      ? why :
			n == -ENOEXEC ? "not an ELF file" :
					strerror(-n));
	for (int i = 0; i < n; i++) {
		struct udwarf_param *ps;
		const char *dwhy;
		if (!uelf_sym_matches(&syms[i], func))
			continue;
		printf("%s:%s:%s\n", prov, path, syms[i].demangled ? syms[i].demangled : syms[i].name);
		int k = verbose ? udwarf_params(&a, path, syms[i].name, &ps, &dwhy) : 0;
		for (int j = 0; j < k; j++)
			printf("    %s %s\n", ps[j].type_name, ps[j].name);
	}
	arena_free(&a);
	return n < 0;
}

/* usdt:FILE[:GLOB]: FILE's USDT probes (.note.stapsdt), one line per
 * probe however many locations it has, as PROVIDER:NAME. */
static int list_usdt(const char *pat)
{
	char file[4096];
	const char *glob = "*", *why;
	const char *c1 = strchr(pat, ':'), *c2 = strchr(c1 + 1, ':');
	snprintf(file, sizeof(file), "%.*s", (int)(c2 ? c2 - c1 - 1 : (long)strlen(c1 + 1)),
		 c1 + 1);
	if (c2 && c2[1])
		glob = c2 + 1;
	struct arena a = { 0 };
	struct uelf_usdt *u;
	int n = -ENOENT;
	const char *path = uelf_resolve_target(&a, file, 0, &why);
	if (path)
		n = uelf_usdt_notes(&a, path, &u);
	if (n < 0)
		fprintf(stderr, "ERROR: cannot list the USDT probes of '%s': %s\n", file,
			!path	      ? why :
			n == -ENOEXEC ? "not an ELF file" :
					strerror(-n));
	for (int i = 0; i < n; i++) {
		char pn[1024];
		bool seen = false;
		snprintf(pn, sizeof(pn), "%s:%s", u[i].provider, u[i].name);
		for (int j = 0; j < i && !seen; j++)
			seen = !strcmp(u[j].provider, u[i].provider) &&
			       !strcmp(u[j].name, u[i].name);
		if (!seen && (!fnmatch(glob, pn, 0) || !fnmatch(glob, u[i].name, 0)))
			printf("usdt:%s:%s\n", path, pn);
	}
	arena_free(&a);
	return n < 0;
}

/* rawtracepoint:NAME for every btf_trace_NAME typedef of the kernel's
 * BTF (the raw tracepoints a BPF program can be typed for), listed when the
 * pattern names the provider (bpftrace 0.17 lists none); with -v the
 * arguments as args->NAME sees them (compiler/btf.c kbtf_rawtp_ctx):
 * __bpf_trace_NAME's parameters after its __data, or the typedef's types. */
static int list_rawtracepoints(const char *pat, bool verbose, struct arena *a)
{
	const struct btf *btf = rt_feature_vmlinux_btf();
	if (!btf)
		return 0;
	__u32 nt = btf__type_cnt(btf);
	const char **names = arena_alloc(a, nt * sizeof(*names));
	size_t n = 0;
	for (__u32 id = 1; id < nt; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *nm = btf__name_by_offset(btf, t->name_off);
		if (btf_is_typedef(t) && !strncmp(nm, "btf_trace_", 10))
			names[n++] = nm + 10;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	int shown = 0;
	char full[512], ty[256];
	for (size_t i = 0; i < n; i++) {
		snprintf(full, sizeof(full), "rawtracepoint:%s", names[i]);
		if (fnmatch(pat, full, 0))
			continue;
		printf("%s\n", full);
		shown++;
		if (!verbose)
			continue;
		snprintf(full, sizeof(full), "__bpf_trace_%s", names[i]);
		__s32 id = btf__find_by_name_kind(btf, full, BTF_KIND_FUNC);
		const struct btf_type *t = NULL;
		if (id > 0) {
			t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
		} else {
			snprintf(full, sizeof(full), "btf_trace_%s", names[i]);
			id = btf__find_by_name_kind(btf, full, BTF_KIND_TYPEDEF);
			t = id > 0 ? btf__type_by_id(btf, btf__type_by_id(btf, id)->type) : NULL;
			t = t && btf_is_ptr(t) ? btf__type_by_id(btf, t->type) : NULL;
		}
		if (!t || !btf_is_func_proto(t))
			continue;
		const struct btf_param *p = btf_params(t);
		for (int j = 1; j < btf_vlen(t); j++) {
			btf_type_str(btf, p[j].type, ty, sizeof(ty));
			const char *pn = btf__name_by_offset(btf, p[j].name_off);
			if (pn && pn[0])
				printf("    %s %s\n", ty, pn);
			else
				printf("    %s arg%d\n", ty, j - 1);
		}
	}
	return shown;
}

int list_probes(const char *pattern, bool verbose)
{
	char pat[512];
	canonical_pattern(pattern ? pattern : "", pat, sizeof(pat));
	if (!strncmp(pat, "uprobe:", 7) || !strncmp(pat, "uretprobe:", 10))
		return list_uprobes(pat, verbose);
	if (!strncmp(pat, "usdt:", 5))
		return list_usdt(pat);
	struct arena a = { 0 };
	if (!strncmp(pat, "rawtracepoint:", 14)) {
		list_rawtracepoints(pat, verbose, &a);
		arena_free(&a);
		return 0;
	}
	struct kernel_info *ki = ki_system();
	const char **tps = NULL;
	int n = ki->tracepoint_list(ki, NULL, NULL, &a, &tps);
	int shown = 0;
	for (int i = 0; i < n; i++) {
		char full[512];
		snprintf(full, sizeof(full), "tracepoint:%s", tps[i]);
		if (fnmatch(pat, full, 0))
			continue;
		printf("%s\n", full);
		if (verbose)
			print_args(ki, tps[i], &a);
		shown++;
	}
	shown += list_events("software", sw_events, pat);
	shown += list_events("hardware", hw_events, pat);
	int err = list_functions(pat, verbose, &a);
	arena_free(&a);
	if (err < 0)
		fprintf(stderr, "ERROR: cannot list kernel functions: %s\n", strerror(-err));
	if (n < 0) {
		fprintf(stderr, "ERROR: cannot list tracepoints: %s\n", strerror(-n));
		return 1;
	}
	return 0;
}
