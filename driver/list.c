/* list.c: `trace -l [PATTERN]` and `-lv`: the probes this kernel offers.
 *
 * Tracepoints come from tracefs (through kernel_info), software and
 * hardware events from the tables bpftrace users know. PATTERN is a glob
 * over full probe names ("tracepoint:syscalls:sys_enter_open*"); short
 * provider aliases ("t:sched:*") are accepted, and a pattern without a
 * provider matches any. With -v each tracepoint's arguments follow it.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "compiler/ast.h"
#include "compiler/kernel_info.h"
#include "driver/list.h"

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

int list_probes(const char *pattern, bool verbose)
{
	char pat[512];
	canonical_pattern(pattern ? pattern : "", pat, sizeof(pat));
	struct arena a = { 0 };
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
	arena_free(&a);
	if (n < 0) {
		fprintf(stderr, "ERROR: cannot list tracepoints: %s\n", strerror(-n));
		return 1;
	}
	return 0;
}
