/* provider.c: the table of probe providers (provider.h says what a row
 * holds and who reads it). Row order is the order of "did you mean"
 * hints; aliases follow bpftrace, including both spellings of its renames
 * (kfunc/fentry, kretfunc/fexit). */
#include "runtime/provider.h"

#include <linux/bpf.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct provider providers[] = {
	{ .name = "BEGIN",
	  .aliases = { "begin" },
	  .kind = PD_PROBE_BEGIN,
	  .resolve = PV_RESOLVE_SPECIAL,
	  .section = "raw_tp",
	  .prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT,
	  .attach = PV_ATTACH_NONE },
	{ .name = "END",
	  .aliases = { "end" },
	  .kind = PD_PROBE_END,
	  .resolve = PV_RESOLVE_SPECIAL,
	  .section = "raw_tp",
	  .prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT,
	  .attach = PV_ATTACH_NONE },
	{ .name = "tracepoint",
	  .aliases = { "t" },
	  .kind = PD_PROBE_TRACEPOINT,
	  .resolve = PV_RESOLVE_TRACEPOINT,
	  .section = "tracepoint",
	  .prog_type = BPF_PROG_TYPE_TRACEPOINT,
	  .attach = PV_ATTACH_TRACEPOINT },
	{ .name = "rawtracepoint",
	  .aliases = { "rt" },
	  .kind = PD_PROBE_RAWTP,
	  .resolve = PV_RESOLVE_FUNCTION,
	  .parts = 1,
	  .section = "raw_tp",
	  .prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT,
	  .builtins = PV_B_U64ARGS,
	  .attach = PV_ATTACH_RAWTP },
	{ .name = "kprobe",
	  .aliases = { "k" },
	  .kind = PD_PROBE_KPROBE,
	  .resolve = PV_RESOLVE_KFUNC,
	  .section = "kprobe",
	  .multi_section = "kprobe.multi",
	  .prog_type = BPF_PROG_TYPE_KPROBE,
	  .builtins = PV_B_REGS | PV_B_FUNC,
	  .attach = PV_ATTACH_KPROBE },
	{ .name = "kretprobe",
	  .aliases = { "kr" },
	  .kind = PD_PROBE_KRETPROBE,
	  .resolve = PV_RESOLVE_KFUNC,
	  .section = "kretprobe",
	  .multi_section = "kretprobe.multi",
	  .prog_type = BPF_PROG_TYPE_KPROBE,
	  .builtins = PV_B_REGS | PV_B_RETURN | PV_B_FUNC,
	  .attach = PV_ATTACH_KPROBE },
	{ .name = "uprobe",
	  .aliases = { "u" },
	  .kind = PD_PROBE_UPROBE,
	  .resolve = PV_RESOLVE_UPROBE,
	  .path_part = true,
	  .parts = 2,
	  .section = "uprobe",
	  .prog_type = BPF_PROG_TYPE_KPROBE,
	  .builtins = PV_B_REGS | PV_B_USER_PTRS,
	  .attach = PV_ATTACH_UPROBE },
	{ .name = "uretprobe",
	  .aliases = { "ur" },
	  .kind = PD_PROBE_URETPROBE,
	  .resolve = PV_RESOLVE_UPROBE,
	  .path_part = true,
	  .parts = 2,
	  .section = "uretprobe",
	  .prog_type = BPF_PROG_TYPE_KPROBE,
	  .builtins = PV_B_REGS | PV_B_RETURN | PV_B_USER_PTRS,
	  .attach = PV_ATTACH_UPROBE },
	{ .name = "usdt",
	  .aliases = { "U" },
	  .kind = PD_PROBE_USDT,
	  .resolve = PV_RESOLVE_USDT,
	  .path_part = true,
	  .parts = 2,
	  .section = "uprobe",
	  .prog_type = BPF_PROG_TYPE_KPROBE,
	  .builtins = PV_B_USER_PTRS,
	  .attach = PV_ATTACH_UPROBE },
	{ .name = "fentry",
	  .aliases = { "f", "kfunc" },
	  .kind = PD_PROBE_FENTRY,
	  .resolve = PV_RESOLVE_KFUNC,
	  .section = "fentry/",
	  .prog_type = BPF_PROG_TYPE_TRACING,
	  .builtins = PV_B_U64ARGS | PV_B_FUNC,
	  .attach = PV_ATTACH_TRACE },
	{ .name = "fexit",
	  .aliases = { "fr", "kretfunc" },
	  .kind = PD_PROBE_FEXIT,
	  .resolve = PV_RESOLVE_KFUNC,
	  .section = "fexit/",
	  .prog_type = BPF_PROG_TYPE_TRACING,
	  .builtins = PV_B_U64ARGS | PV_B_RETURN | PV_B_FUNC,
	  .attach = PV_ATTACH_TRACE },
	{ .name = "profile",
	  .aliases = { "p" },
	  .kind = PD_PROBE_PROFILE,
	  .resolve = PV_RESOLVE_TIMER,
	  .section = "perf_event",
	  .prog_type = BPF_PROG_TYPE_PERF_EVENT,
	  .attach = PV_ATTACH_PERF },
	{ .name = "interval",
	  .aliases = { "i" },
	  .kind = PD_PROBE_INTERVAL,
	  .resolve = PV_RESOLVE_TIMER,
	  .section = "perf_event",
	  .prog_type = BPF_PROG_TYPE_PERF_EVENT,
	  .attach = PV_ATTACH_PERF },
	{ .name = "software",
	  .aliases = { "s" },
	  .kind = PD_PROBE_SOFTWARE,
	  .resolve = PV_RESOLVE_PERF,
	  .section = "perf_event",
	  .prog_type = BPF_PROG_TYPE_PERF_EVENT,
	  .attach = PV_ATTACH_PERF },
	{ .name = "hardware",
	  .aliases = { "h" },
	  .kind = PD_PROBE_HARDWARE,
	  .resolve = PV_RESOLVE_PERF,
	  .section = "perf_event",
	  .prog_type = BPF_PROG_TYPE_PERF_EVENT,
	  .attach = PV_ATTACH_PERF },
	{ .name = "iter",
	  .aliases = { "it" },
	  .kind = PD_PROBE_ITER,
	  .resolve = PV_RESOLVE_ITER,
	  .section = "iter/",
	  .prog_type = BPF_PROG_TYPE_TRACING,
	  .attach = PV_ATTACH_ITER },
	/* parsed, not supported yet (kind is unused) */
	{ .name = "watchpoint", .aliases = { "w" }, .resolve = PV_RESOLVE_UNSUPPORTED },
	{ .name = "asyncwatchpoint", .aliases = { "aw" }, .resolve = PV_RESOLVE_UNSUPPORTED },
};

static bool is_spelling(const struct provider *p, const char *s, size_t len)
{
	if (strlen(p->name) == len && !memcmp(p->name, s, len))
		return true;
	for (size_t j = 0; j < N(p->aliases) && p->aliases[j]; j++)
		if (strlen(p->aliases[j]) == len && !memcmp(p->aliases[j], s, len))
			return true;
	return false;
}

const struct provider *pv_by_name(const char *name)
{
	for (size_t i = 0; i < N(providers); i++)
		if (is_spelling(&providers[i], name, strlen(name)))
			return &providers[i];
	return NULL;
}

const struct provider *pv_by_kind(enum pd_probe_kind kind)
{
	for (size_t i = 0; i < N(providers); i++)
		if (providers[i].kind == kind && providers[i].resolve != PV_RESOLVE_UNSUPPORTED)
			return &providers[i];
	return &providers[0];
}

const char *pv_spelling(int i)
{
	int k = 0;

	for (size_t r = 0; r < N(providers); r++) {
		if (k++ == i)
			return providers[r].name;
		for (size_t j = 0; j < N(providers[r].aliases) && providers[r].aliases[j]; j++)
			if (k++ == i)
				return providers[r].aliases[j];
	}
	return NULL;
}

bool pv_is_path_provider(const char *s, int len)
{
	for (size_t i = 0; i < N(providers); i++)
		if (providers[i].path_part && is_spelling(&providers[i], s, (size_t)len))
			return true;
	return false;
}
