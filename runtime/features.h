/* features.h: what the running kernel can do, found by trying it.
 *
 * In: nothing but the kernel (and two test overrides in the environment:
 * TRACE_BTF=/path reads BTF from that file instead of
 * /sys/kernel/btf/vmlinux, a missing file meaning "no BTF";
 * TRACE_NO_RINGBUF=1 reports no ring buffer; TRACE_NO_KPROBES=1,
 * TRACE_NO_KPROBE_MULTI=1 and TRACE_NO_FENTRY=1 report those probe types
 * missing, so that the fallbacks can be tested on kernels that have
 * them). Out: yes/no per feature with a short reason for each "no", and
 * the `trace --info` report.
 * Does not: trust libbpf's libbpf_probe_* answers (on this kernel
 * BPF_PROG_TYPE_KPROBE "is supported" without CONFIG_KPROBES), nor leave
 * anything behind: each probe loads a tiny program, creates a map or opens
 * a perf event, maybe attaches it, and closes every fd at once.
 *
 * Each feature is probed at most once per process, on first use, so the
 * compiler asks only for what a script needs: everything but BTF costs
 * about 10 ms in all, parsing vmlinux BTF (btf, and fentry/tp_btf, which
 * need its type ids) 40-60 ms in a fresh process on the development VM.
 * Not thread-safe: probe from one thread, at start-up.
 */
#ifndef TRACE_RUNTIME_FEATURES_H
#define TRACE_RUNTIME_FEATURES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct btf;

/* One per bool in struct rt_features, named like it; the report prints
 * the same names ("kprobes: no (...)"). */
enum rt_feature {
	/* kernel features */
	RT_FEAT_BTF,	       /* vmlinux BTF parses (TRACE_BTF overrides the file) */
	RT_FEAT_BOUNDED_LOOPS, /* the verifier accepts a backward jump (5.3) */
	RT_FEAT_BPF_LOOP,      /* helper bpf_loop with a callback (5.17) */
	RT_FEAT_FOR_EACH,      /* helper bpf_for_each_map_elem with a callback (5.13) */
	RT_FEAT_ATTACH_COOKIE, /* helper bpf_get_attach_cookie in tracepoints (5.15) */
	RT_FEAT_ISA_V4,	       /* cpu v4 instructions: sdiv, movsx (6.6) */
	/* map types */
	RT_FEAT_RINGBUF,      /* BPF_MAP_TYPE_RINGBUF (5.8) */
	RT_FEAT_PERF_BUFFER,  /* BPF_MAP_TYPE_PERF_EVENT_ARRAY */
	RT_FEAT_PERCPU_ARRAY, /* BPF_MAP_TYPE_PERCPU_ARRAY */
	/* probe types */
	RT_FEAT_KPROBES,	 /* kprobe PMU perf event (a dry run, see features.c) */
	RT_FEAT_KRETPROBES,	 /* the same with the PMU's retprobe bit */
	RT_FEAT_KPROBE_MULTI,	 /* BPF_TRACE_KPROBE_MULTI link (fprobe, 5.18) */
	RT_FEAT_KPROBE_OVERRIDE, /* helper bpf_override_return (error injection) */
	RT_FEAT_FENTRY,		 /* fentry program on vfs_read loads and attaches */
	RT_FEAT_TP_BTF,		 /* tp_btf program on sched_switch loads and attaches */
	RT_FEAT_RAW_TP,		 /* raw_tp program on sched_switch loads and attaches */
	RT_FEAT_UPROBES,	 /* uprobe PMU perf event (a dry run, see features.c) */
	RT_FEAT_UPROBE_MULTI,	 /* BPF_TRACE_UPROBE_MULTI link (6.6) */
	RT_FEAT_PERF_SW,	 /* perf_event_open PERF_COUNT_SW_CPU_CLOCK, cpu 0 */
	RT_FEAT_PERF_HW,	 /* perf_event_open PERF_COUNT_HW_CPU_CYCLES, cpu 0 */
	RT_FEAT_COUNT
};

#define RT_FEAT_REASON_MAX 160

struct rt_features {
	char kernel_release[65]; /* uname -r */
	char kernel_version[65]; /* uname -v */
	char arch[65];		 /* uname -m */
	char btf_path[256];	 /* the BTF file probed (TRACE_BTF or vmlinux) */
	char llvm_version[32];	 /* "19.1.7": left empty, for the driver to fill */
	bool btf, bounded_loops, bpf_loop, for_each, attach_cookie, isa_v4;
	bool ringbuf, perf_buffer, percpu_array;
	bool kprobes, kretprobes, kprobe_multi, kprobe_override, fentry, tp_btf, raw_tp, uprobes,
		uprobe_multi, perf_sw, perf_hw;
	/* why a feature is missing, "" when it is there */
	char reason[RT_FEAT_COUNT][RT_FEAT_REASON_MAX];
	double probe_ms; /* wall time rt_features_probe spent probing */
};

/* Probes every feature not probed yet and fills *f. Returns 0, or -errno
 * if uname fails (a missing feature is not an error). */
int rt_features_probe(struct rt_features *f);
/* The `trace --info` report (System, Build, Kernel features, Map types,
 * Probe types), "name: yes" or "name: no (reason)". */
void rt_features_print(FILE *out, const struct rt_features *f);

/* One feature, probed on first use and cached for the process. */
bool rt_feature(enum rt_feature id);
/* Why rt_feature(id) is false ("" if it is true or was never probed). */
const char *rt_feature_reason(enum rt_feature id);
/* The four the compiler asks about. */
bool rt_feature_kprobes(void);
bool rt_feature_fentry(void);
bool rt_feature_ringbuf(void);
bool rt_feature_btf(void);

/* BPF_TRACE_UPROBE_MULTI (6.6), which libbpf 1.1 and Debian 12's uapi
 * headers do not know: the attach type's value, and BPF_LINK_CREATE for
 * cnt file offsets of path (cookies may be NULL; retprobe: uretprobes;
 * pid > 0: that process only). Returns the link fd or -errno. */
#define RT_BPF_TRACE_UPROBE_MULTI 48
int rt_link_uprobe_multi(int prog_fd, const char *path, const uint64_t *offsets,
			 const uint64_t *cookies, uint32_t cnt, bool retprobe, int pid);

/* The BTF that rt_feature_btf() parsed (vmlinux, or TRACE_BTF's file), for
 * a caller that needs types too: parsing it again costs as much (~5 ms
 * warm, 40-60 ms in a fresh process on the development VM). NULL when there
 * is no BTF. Owned by the cache: valid until rt_features_reset(). */
const struct btf *rt_feature_vmlinux_btf(void);

/* Forgets every cached answer (and the parsed BTF), so a test can change
 * TRACE_BTF / TRACE_NO_RINGBUF and probe again. */
void rt_features_reset(void);

#endif
