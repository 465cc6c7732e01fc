/* kernel_info.h: facts about the running kernel, behind one interface.
 *
 * Tracepoint formats (tracefs), the list of tracepoints, and later BTF and
 * feature probes all come through `struct kernel_info`, so that the checker
 * and its unit tests can run with a fake kernel and no root.
 */
#ifndef TRACE_KERNEL_INFO_H
#define TRACE_KERNEL_INFO_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler/arena.h"

/* One field of a tracepoint's format file, e.g.
 *   field:const char * filename;	offset:24;	size:8;	signed:0;
 *   field:char prev_comm[16];	offset:8;	size:16;	signed:0;
 *   field:__data_loc char[] name;	offset:8;	size:4;	signed:0;
 */
struct btf;

struct tp_field {
	const char *name;  /* "filename" */
	const char *ctype; /* the C type as written, without the name:
			      "const char *", "char[16]", "__data_loc char[]" */
	uint32_t offset, size;
	bool is_signed;
	bool is_pointer;   /* ctype ends in '*' */
	bool is_data_loc;  /* __data_loc: u32 (len << 16 | offset) in the record */
	int32_t array_len; /* N of "type name[N]", -1 if not an array */
	bool is_common;	   /* common_* header fields */
};

struct tp_format {
	struct tp_field *fields;
	int nfields;
	uint32_t size; /* bytes of the record (max offset + size) */
};

enum ki_feature {
	KI_KPROBES,	    /* kprobe/kretprobe attach (CONFIG_KPROBES) */
	KI_FENTRY,	    /* fentry/fexit (BPF trampolines) */
	KI_BTF,		    /* vmlinux BTF */
	KI_RINGBUF,	    /* BPF_MAP_TYPE_RINGBUF (5.8) */
	KI_KPROBE_MULTI,    /* one kprobe_multi link for many functions (5.18, fprobe) */
	KI_ATTACH_COOKIE,   /* bpf_get_attach_cookie (5.15) */
	KI_FOR_EACH,	    /* bpf_for_each_map_elem (5.13): for ($kv : @m) */
	KI_KPROBE_OVERRIDE, /* bpf_override_return (CONFIG_BPF_KPROBE_OVERRIDE) */
	KI_UPROBE_MULTI,    /* one uprobe_multi link for many functions of a file (6.6) */
};

struct kernel_info {
	/* Fills *out from events/CAT/NAME/format. Returns 0, -ENOENT if there
	 * is no such tracepoint, or another negative errno. */
	int (*tracepoint_format)(struct kernel_info *ki, const char *cat, const char *name,
				 struct arena *a, struct tp_format *out);
	/* All tracepoints "cat:name" whose category and name match the glob
	 * patterns (fnmatch: *, ?, [..]), sorted. Returns the count or <0. */
	int (*tracepoint_list)(struct kernel_info *ki, const char *cat_glob, const char *name_glob,
			       struct arena *a, const char ***out);
	/* Whether the kernel has a feature, found by trying it (the driver
	 * plugs in the runtime's probes; NULL means "assume yes"). */
	bool (*has_feature)(struct kernel_info *ki, enum ki_feature f);
	/* Why has_feature said no ("TRACE_BTF=/x: ENOENT"), or NULL/"" if it
	 * does not know; NULL hook means "no reason known". */
	const char *(*feature_reason)(struct kernel_info *ki, enum ki_feature f);
	/* 1 if a kernel function exists (kallsyms), 0 if not, <0 if unknown;
	 * NULL means "assume it does" (fakes in tests). */
	int (*function_exists)(struct kernel_info *ki, const char *name);
	/* The number the kernel fires syscalls:sys_enter_NAME for ("getppid"
	 * -> 110), or <0 if unknown; NULL means "unknown" (fakes in tests):
	 * syscall tracepoints are then attached one perf event each. */
	int (*syscall_nr)(struct kernel_info *ki, const char *name);
	/* Kernel functions kprobes and fentry can attach to whose names match
	 * the glob, sorted, without duplicates; returns the count or <0.
	 * NULL: none known (fakes in tests). */
	int (*function_list)(struct kernel_info *ki, const char *glob, struct arena *a,
			     const char ***out);
	/* The kernel's vmlinux BTF (libbpf), parsed on first call and kept;
	 * NULL with *why set when there is none. NULL hook: no BTF. */
	const struct btf *(*vmlinux_btf)(struct kernel_info *ki, const char **why);
	void *priv;
};

static inline bool ki_has(struct kernel_info *ki, enum ki_feature f)
{
	return !ki->has_feature || ki->has_feature(ki, f);
}

/* has_feature's reason, "" when there is none. */
static inline const char *ki_reason(struct kernel_info *ki, enum ki_feature f)
{
	const char *r = ki->feature_reason ? ki->feature_reason(ki, f) : NULL;
	return r ? r : "";
}

/* Kernel text symbols from /proc/kallsyms (read once, on first use):
 * whether `name` is one (1), is not (0), or kallsyms is unreadable (<0). */
int ki_kernel_function_exists(const char *name);
/* Size in bytes of a kernel text symbol (up to the next symbol in
 * /proc/kallsyms), 0 if it is not one, <0 if kallsyms is unreadable. */
int64_t ki_kernel_function_size(const char *name);
/* Traceable kernel functions (tracefs available_filter_functions, minus
 * the kprobe blacklist) matching glob, sorted, unique; count or <0. */
int ki_kernel_function_list(const char *glob, struct arena *a, const char ***out);
/* Functions that kretprobe/fexit must not trace: they can lock up the
 * system (as bpftrace refuses them). */
bool ki_kretprobe_banned(const char *name);
/* Edit distance (with adjacent transpositions) of two names, compared on
 * their first 128 bytes: the one "did you mean" measure. */
int ki_edit_distance(const char *s, const char *t);
/* Up to max text symbols closest to a missing one, best first. */
int ki_closest_kernel_functions(const char *name, struct arena *a, const char ***out, int max);

/* The real kernel: reads tracefs, mounting it at /sys/kernel/tracing first
 * when it is missing and we may (root). */
struct kernel_info *ki_system(void);

/* Makes sure tracefs is available; returns its mount point or NULL with
 * errno set (EPERM: not privileged to mount it). */
const char *ki_tracefs_path(void);

/* Parses the text of one format file (exposed for unit tests). */
int ki_parse_tp_format(const char *text, struct arena *a, struct tp_format *out);

/* "Did you mean": up to max existing "cat:name" tracepoints closest to a
 * missing one, best first, in *out (NULL-terminated). Names are compared by
 * edit distance within the category; when nothing there is close (or the
 * category does not exist), across all categories. Returns the count or <0. */
int ki_closest_tracepoints(struct kernel_info *ki, const char *cat, const char *name,
			   struct arena *a, const char ***out, int max);

#endif
