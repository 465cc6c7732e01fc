/* features.c: kernel feature probes, by trying the real thing.
 *
 * In: the running kernel (TRACE_BTF and TRACE_NO_RINGBUF override two
 * answers for tests). Out: yes/no per enum rt_feature with a short reason
 * for a "no", cached per process, and the `trace --info` report.
 *
 * Every probe does what trace would do, in miniature: load a two-to-ten
 * instruction program written as raw struct bpf_insn (no LLVM, no ELF),
 * create a one-entry map, open a perf event, and attach where attaching
 * is what might fail (fentry, tp_btf, raw_tp, kprobe_multi). Asking libbpf
 * is not enough: on the development kernel libbpf_probe_bpf_prog_type()
 * says BPF_PROG_TYPE_KPROBE works although there is no CONFIG_KPROBES (and
 * bpftrace 0.17's --info says "kprobe: yes"). kprobes and uprobes are the
 * exception: a real one costs 30-40 ms to close, so they are a dry run
 * the kernel refuses at its last step (see probe_kprobe). Every fd is
 * closed before the probe returns, so nothing stays loaded or attached;
 * the attached programs only `return 0`.
 *
 * Does not: write to tracefs, mount anything, or read kallsyms; kernel
 * config (/proc/config.gz) is read only to explain a "no".
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "runtime/features.h"

#ifndef TRACE_VERSION
#define TRACE_VERSION "0.1.0"
#endif

#define PMU_DIR	    "/sys/bus/event_source/devices"
#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"
/* A kernel function every kernel since 2.6 has, not notrace, in BTF. */
#define PROBE_FUNC	"vfs_read"
#define ENOTSUPP_KERNEL 524 /* the kernel's internal ENOTSUPP leaks to user space */

/* --- instructions ----------------------------------------------------------- */

#define INSN(c, d, s, o, i)                                                         \
	{                                                                           \
		.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) \
	}
#define MOV64_IMM(d, i)	   INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define ADD64_IMM(d, i)	   INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define JLT_IMM(d, i, off) INSN(BPF_JMP | BPF_JLT | BPF_K, d, 0, off, i)
#define CALL_HELPER(f)	   INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT_INSN()	   INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
/* ld_imm64 of a subprogram's address: target = this insn + 1 + off */
#define LD_FUNC(d, off) \
	INSN(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_FUNC, 0, off), INSN(0, 0, 0, 0, 0)
/* cpu v4 (6.6): a nonzero `off` selects the signed form of DIV and the
 * sign-extending form of MOV; older verifiers reject it as "reserved
 * fields" */
#define SDIV64_IMM(d, i) INSN(BPF_ALU64 | BPF_DIV | BPF_K, d, 0, 1, i)
#define MOVSX64_8(d, s)	 INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 8, 0)

static const struct bpf_insn prog_ret0[] = {
	MOV64_IMM(BPF_REG_0, 0),
	EXIT_INSN(),
};

/* --- reasons ------------------------------------------------------------------ */

__attribute__((format(printf, 2, 3))) static void appendf(char *why, const char *fmt, ...)
{
	size_t len = strlen(why);
	va_list ap;

	if (len + 1 >= RT_FEAT_REASON_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(why + len, RT_FEAT_REASON_MAX - len, fmt, ap);
	va_end(ap);
}

/* why = "what: EPERM" (err > 0), plus a hint when we are not root. */
static void fail(char *why, const char *what, int err)
{
	const char *name = err == ENOTSUPP_KERNEL ? "ENOTSUPP" : strerrorname_np(err);
	char buf[64];

	why[0] = '\0';
	if (name) {
		appendf(why, "%s: %s", what, name);
	} else if (err >= __LIBBPF_ERRNO__START && !libbpf_strerror(err, buf, sizeof(buf))) {
		appendf(why, "%s: %s", what, buf); /* libbpf's own: "Invalid BPF object format" */
	} else {
		appendf(why, "%s: errno %d", what, err);
	}
	if ((err == EPERM || err == EACCES) && geteuid() != 0)
		appendf(why, " (not root)");
}

/* 'y', 'm' or 'n' for CONFIG_<name> in /proc/config.gz, 0 if unknown.
 * About 1 ms: only used to explain a "no". */
static int kconfig(const char *name)
{
	gzFile z = gzopen("/proc/config.gz", "rb");
	char line[256];
	size_t n = strlen(name);
	int v = 0;

	if (!z)
		return 0;
	while (!v && gzgets(z, line, sizeof(line))) {
		if (!strncmp(line, name, n) && line[n] == '=')
			v = line[n + 1];
		else if (!strncmp(line, "# ", 2) && !strncmp(line + 2, name, n) &&
			 !strcmp(line + 2 + n, " is not set\n"))
			v = 'n';
	}
	gzclose(z);
	return v;
}

/* --- programs, maps, perf events ------------------------------------------- */

/* The verifier's last words before its statistics ("processed N insns
 * ..."), appended to *why as " (...)". */
static void append_log_tail(char *why, char *log)
{
	char *line = NULL;

	for (char *save = NULL, *l = strtok_r(log, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (strncmp(l, "processed ", 10) && strncmp(l, "verification time", 17) &&
		    strncmp(l, "stack depth", 11))
			line = l;
	if (line)
		appendf(why, " (%s)", line);
}

/* Loads a program; on failure fills *why (loading once more with a log for
 * the verifier's reason) and returns -errno. */
static int load_opts(enum bpf_prog_type type, struct bpf_prog_load_opts *o,
		     const struct bpf_insn *insns, size_t n, const char *what, char *why)
{
	char log[2048] = "";
	int fd = bpf_prog_load(type, "trace_feature", "GPL", insns, n, o);

	if (fd >= 0)
		return fd;
	fail(why, what, -fd);
	o->log_buf = log;
	o->log_size = sizeof(log);
	o->log_level = 1;
	int again = bpf_prog_load(type, "trace_feature", "GPL", insns, n, o);
	if (again >= 0)
		close(again);
	o->log_buf = NULL;
	o->log_size = 0;
	o->log_level = 0;
	append_log_tail(why, log);
	return fd;
}

static int load(enum bpf_prog_type type, enum bpf_attach_type attach, int btf_id,
		const struct bpf_insn *insns, size_t n, const char *what, char *why)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = attach,
		    .attach_btf_id = (__u32)btf_id);
	return load_opts(type, &o, insns, n, what, why);
}

/* Loads a program that the verifier alone decides about, then unloads it.
 * Tracepoint programs: trace's own kind. */
static bool verifier_accepts(const struct bpf_insn *insns, size_t n, const char *what, char *why)
{
	int fd = load(BPF_PROG_TYPE_TRACEPOINT, 0, 0, insns, n, what, why);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Closes a loaded program and the link attaching it (or says why there is
 * no link). */
static bool attached(int prog, int link, const char *what, char *why)
{
	if (link < 0)
		fail(why, what, -link);
	else
		close(link);
	close(prog);
	return link >= 0;
}

static bool map_creates(enum bpf_map_type type, __u32 key, __u32 value, __u32 max, const char *what,
			char *why)
{
	int fd = bpf_map_create(type, "trace_feature", key, value, max, NULL);

	if (fd < 0) {
		fail(why, what, -fd);
		return false;
	}
	close(fd);
	return true;
}

/* Opens a perf event on cpu 0 for every process (as libbpf does for
 * kprobes and system-wide uprobes), disabled, and closes it. Returns 0 or
 * -errno. */
static int perf_event_opens(struct perf_event_attr *attr)
{
	attr->size = sizeof(*attr);
	attr->disabled = 1;
	int fd = (int)syscall(__NR_perf_event_open, attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* An unsigned number from a small sysfs file; -errno if unreadable. */
static long read_sysfs_num(const char *path, const char *skip_prefix)
{
	FILE *f = fopen(path, "re");
	char buf[64];
	long v = -EINVAL;

	if (!f)
		return -errno;
	if (fgets(buf, sizeof(buf), f) && !strncmp(buf, skip_prefix, strlen(skip_prefix)))
		v = strtol(buf + strlen(skip_prefix), NULL, 10);
	fclose(f);
	return v;
}

/* --- BTF ---------------------------------------------------------------------- */

static struct btf *vmlinux_btf; /* parsed by probe_btf for fentry and tp_btf */

static const char *btf_file(void)
{
	const char *p = getenv("TRACE_BTF");

	return p && *p ? p : VMLINUX_BTF;
}

/* Raw BTF mapped and copied once (btf__new): sysfs serves reads of
 * /sys/kernel/btf/vmlinux a page per read() call, so btf__parse's read of
 * its ~6 MB took 7-17 ms where this takes 2-6 ms (kernels since 6.16
 * mmap it). NULL when the file cannot be mapped or is not raw BTF (an
 * ELF file in TRACE_BTF): btf__parse then. */
static struct btf *btf_mapped(const char *path)
{
	struct btf *btf = NULL;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (!fstat(fd, &st) && st.st_size > 0) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p != MAP_FAILED) {
			btf = btf__new(p, (__u32)st.st_size);
			if (libbpf_get_error(btf))
				btf = NULL;
			munmap(p, (size_t)st.st_size);
		}
	}
	close(fd);
	return btf;
}

static bool probe_btf(char *why)
{
	const char *path = btf_file();
	char what[RT_FEAT_REASON_MAX] = "";

	appendf(what, "%s%s", strcmp(path, VMLINUX_BTF) ? "TRACE_BTF=" : "", path);
	if (access(path, R_OK)) {
		fail(why, what, errno);
		return false;
	}
	/* libbpf prints its own warnings for a bad file; the reason says it */
	libbpf_print_fn_t old = libbpf_set_print(NULL);
	struct btf *btf = btf_mapped(path);
	if (!btf)
		btf = btf__parse(path, NULL);
	int err = errno;
	libbpf_set_print(old);
	if (!btf) {
		appendf(what, ": btf__parse");
		fail(why, what, err);
		return false;
	}
	vmlinux_btf = btf;
	return true;
}

/* The BTF type id of `name` for attach_btf_id, or -1 with *why filled. */
static int vmlinux_btf_id(const char *name, __u32 kind, char *why)
{
	if (!rt_feature(RT_FEAT_BTF)) {
		appendf(why, "no BTF: %s", rt_feature_reason(RT_FEAT_BTF));
		return -1;
	}
	int id = btf__find_by_name_kind(vmlinux_btf, name, kind);
	if (id <= 0) {
		appendf(why, "%s not in BTF", name);
		return -1;
	}
	return id;
}

/* --- the probes ------------------------------------------------------------- */

/* r0 counts to 4: a backward jump, which verifiers before 5.3 reject */
static bool probe_bounded_loops(char *why)
{
	static const struct bpf_insn insns[] = {
		MOV64_IMM(BPF_REG_0, 0),
		ADD64_IMM(BPF_REG_0, 1),
		JLT_IMM(BPF_REG_0, 4, -2),
		MOV64_IMM(BPF_REG_0, 0),
		EXIT_INSN(),
	};
	return verifier_accepts(insns, 5, "BPF_PROG_LOAD with a loop", why);
}

/* BTF for a program with one subprogram: the kernel wants func_info
 * ("missing btf func_info") before it accepts a callback's address.
 * Both are `static int f(void)`. Returns the BTF or NULL with *why filled. */
static struct btf *two_funcs_btf(struct bpf_func_info fi[2], __u32 sub_insn, char *why)
{
	struct btf *btf = btf__new_empty();
	int i32, proto, main_id, sub_id, err;

	if (!btf) {
		fail(why, "btf__new_empty", errno);
		return NULL;
	}
	i32 = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	proto = i32 < 0 ? i32 : btf__add_func_proto(btf, i32);
	main_id = proto < 0 ? proto : btf__add_func(btf, "main", BTF_FUNC_STATIC, proto);
	sub_id = main_id < 0 ? main_id : btf__add_func(btf, "cb", BTF_FUNC_STATIC, proto);
	if (sub_id < 0) {
		fail(why, "btf__add_func", -sub_id);
		btf__free(btf);
		return NULL;
	}
	libbpf_print_fn_t old = libbpf_set_print(NULL); /* the reason says it */
	err = btf__load_into_kernel(btf);
	libbpf_set_print(old);
	if (err) {
		fail(why, "BPF_BTF_LOAD", -err);
		btf__free(btf);
		return NULL;
	}
	fi[0] = (struct bpf_func_info){ .insn_off = 0, .type_id = (__u32)main_id };
	fi[1] = (struct bpf_func_info){ .insn_off = sub_insn, .type_id = (__u32)sub_id };
	return btf;
}

/* bpf_loop(4, callback, NULL, 0), the callback a subprogram at insn 8
 * returning 0 (continue): what trace would emit, not just "is the helper
 * known" as libbpf_probe_bpf_helper() asks. */
static bool probe_bpf_loop(char *why)
{
	static const struct bpf_insn insns[] = {
		MOV64_IMM(BPF_REG_1, 4),
		LD_FUNC(BPF_REG_2, 6), /* insn 1 + 1 + 6 = 8 */
		MOV64_IMM(BPF_REG_3, 0),
		MOV64_IMM(BPF_REG_4, 0),
		CALL_HELPER(BPF_FUNC_loop),
		MOV64_IMM(BPF_REG_0, 0),
		EXIT_INSN(),
		MOV64_IMM(BPF_REG_0, 0), /* callback */
		EXIT_INSN(),
	};
	struct bpf_func_info fi[2];
	struct btf *btf = two_funcs_btf(fi, 8, why);

	if (!btf)
		return false;
	LIBBPF_OPTS(bpf_prog_load_opts, o, .prog_btf_fd = (__u32)btf__fd(btf), .func_info = fi,
		    .func_info_cnt = 2, .func_info_rec_size = sizeof(fi[0]));
	int fd = load_opts(BPF_PROG_TYPE_TRACEPOINT, &o, insns, 10,
			   "BPF_PROG_LOAD calling bpf_loop", why);
	btf__free(btf); /* closes its fd */
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool switched_off(const char *var, char *why);

/* bpf_for_each_map_elem(&array, callback, NULL, 0), the callback a
 * subprogram at insn 9: what a `for ($kv : @m)` loop emits (5.13).
 * TRACE_NO_FOR_EACH=1 simulates a kernel without it. */
static bool probe_for_each(char *why)
{
	if (switched_off("TRACE_NO_FOR_EACH", why))
		return false;
	int map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "trace_feature", 4, 8, 1, NULL);
	if (map < 0) {
		fail(why, "BPF_MAP_CREATE array", -map);
		return false;
	}
	struct bpf_insn insns[] = {
		INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map),
		INSN(0, 0, 0, 0, 0),
		LD_FUNC(BPF_REG_2, 6), /* insn 2 + 1 + 6 = 9 */
		MOV64_IMM(BPF_REG_3, 0),
		MOV64_IMM(BPF_REG_4, 0),
		CALL_HELPER(BPF_FUNC_for_each_map_elem),
		MOV64_IMM(BPF_REG_0, 0),
		EXIT_INSN(),
		MOV64_IMM(BPF_REG_0, 0), /* callback */
		EXIT_INSN(),
	};
	struct bpf_func_info fi[2];
	struct btf *btf = two_funcs_btf(fi, 9, why);
	if (!btf) {
		close(map);
		return false;
	}
	LIBBPF_OPTS(bpf_prog_load_opts, o, .prog_btf_fd = (__u32)btf__fd(btf), .func_info = fi,
		    .func_info_cnt = 2, .func_info_rec_size = sizeof(fi[0]));
	int fd = load_opts(BPF_PROG_TYPE_TRACEPOINT, &o, insns, 11,
			   "BPF_PROG_LOAD calling bpf_for_each_map_elem", why);
	btf__free(btf);
	close(map);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool probe_attach_cookie(char *why)
{
	static const struct bpf_insn insns[] = {
		CALL_HELPER(BPF_FUNC_get_attach_cookie), /* r1 = ctx on entry */
		MOV64_IMM(BPF_REG_0, 0),
		EXIT_INSN(),
	};
	return verifier_accepts(insns, 3, "BPF_PROG_LOAD calling bpf_get_attach_cookie", why);
}

static bool probe_isa_v4(char *why)
{
	static const struct bpf_insn insns[] = {
		MOV64_IMM(BPF_REG_1, -7),
		SDIV64_IMM(BPF_REG_1, 2),
		MOVSX64_8(BPF_REG_0, BPF_REG_1),
		MOV64_IMM(BPF_REG_0, 0),
		EXIT_INSN(),
	};
	return verifier_accepts(insns, 5, "BPF_PROG_LOAD with sdiv and movsx", why);
}

/* Test switches that simulate a kernel without a feature: set and not "0"
 * means "missing", with the variable named as the reason. */
static bool switched_off(const char *var, char *why)
{
	const char *off = getenv(var);

	if (off && *off && strcmp(off, "0")) {
		appendf(why, "%s is set", var);
		return true;
	}
	return false;
}

static bool probe_ringbuf(char *why)
{
	if (switched_off("TRACE_NO_RINGBUF", why))
		return false;
	/* the size must be a power-of-2 multiple of the page size */
	return map_creates(BPF_MAP_TYPE_RINGBUF, 0, 0, (__u32)sysconf(_SC_PAGESIZE),
			   "BPF_MAP_CREATE ringbuf", why);
}

static bool probe_perf_buffer(char *why)
{
	return map_creates(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 1,
			   "BPF_MAP_CREATE perf_event_array", why);
}

static bool probe_percpu_array(char *why)
{
	return map_creates(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1, "BPF_MAP_CREATE percpu_array", why);
}

/* No PMU directory: say which kernel option is off when config.gz knows. */
static void explain_missing_pmu(char *why, const char *pmu, const char *config,
				const char *events_config)
{
	const char *off = NULL;

	if (kconfig(config) == 'n')
		off = config;
	else if (kconfig(events_config) == 'n')
		off = events_config;
	if (off)
		appendf(why, "%s not set: " PMU_DIR "/%s missing", off, pmu);
	else
		appendf(why, PMU_DIR "/%s missing", pmu);
}

/* Kernel lockdown in confidentiality mode refuses kprobes (and BPF reads of
 * kernel memory) with EPERM; the dry run below would not see it. */
static bool is_locked_down(void)
{
	FILE *f = fopen("/sys/kernel/security/lockdown", "re");
	char buf[128] = "";

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strstr(buf, "[confidentiality]") != NULL;
}

/* kprobes and uprobes are tried as a dry run: a perf event the kernel
 * refuses at its last step. A real one costs 30-40 ms here, because closing
 * a kprobe or uprobe perf event waits in tracepoint_synchronize_unregister()
 * for RCU grace periods; the dry run costs 0.05-0.4 ms and still goes
 * through the PMU, our privileges (EACCES without CAP_PERFMON) and the attr.
 * Success (which cannot happen) would prove the feature all the same. */

/* The kprobe PMU (4.17) with a symbol no kernel has: the kernel looks it up
 * and says ENOENT, having registered nothing. Kernels old enough to need
 * tracefs kprobe_events instead lack the ring buffer anyway. */
static bool probe_kprobe(bool retprobe, char *why)
{
	struct perf_event_attr attr = { 0 };
	long type = read_sysfs_num(PMU_DIR "/kprobe/type", "");

	if (switched_off("TRACE_NO_KPROBES", why))
		return false;
	if (type < 0) {
		explain_missing_pmu(why, "kprobe", "CONFIG_KPROBES", "CONFIG_KPROBE_EVENTS");
		return false;
	}
	if (is_locked_down()) {
		appendf(why, "kernel lockdown (confidentiality) forbids kprobes");
		return false;
	}
	attr.type = (__u32)type;
	if (retprobe) {
		long bit = read_sysfs_num(PMU_DIR "/kprobe/format/retprobe", "config:");
		if (bit < 0 || bit > 63) {
			fail(why, PMU_DIR "/kprobe/format/retprobe", bit < 0 ? (int)-bit : EINVAL);
			return false;
		}
		attr.config = 1ULL << bit;
	}
	attr.config1 = (uintptr_t) "trace_feature_no_such_symbol"; /* kprobe_func */
	int err = perf_event_opens(&attr);
	if (!err || err == -ENOENT)
		return true;
	fail(why, retprobe ? "perf_event_open kretprobe" : "perf_event_open kprobe", -err);
	return false;
}

static bool probe_kprobes(char *why)
{
	return probe_kprobe(false, why);
}

static bool probe_kretprobes(char *why)
{
	return probe_kprobe(true, why);
}

/* bpf_override_return (error injection, --unsafe override()) needs
 * CONFIG_BPF_KPROBE_OVERRIDE; without it the verifier does not know the
 * helper. Whether a given function may be overridden is the kernel's
 * error-injection list, checked at attach. */
static bool probe_kprobe_override(char *why)
{
	static const struct bpf_insn insns[] = {
		MOV64_IMM(BPF_REG_2, 0), /* r1 = ctx on entry */
		CALL_HELPER(BPF_FUNC_override_return),
		MOV64_IMM(BPF_REG_0, 0),
		EXIT_INSN(),
	};
	int fd = load(BPF_PROG_TYPE_KPROBE, 0, 0, insns, 4,
		      "BPF_PROG_LOAD kprobe calling bpf_override_return", why);
	if (fd < 0) {
		if (kconfig("CONFIG_BPF_KPROBE_OVERRIDE") == 'n')
			appendf(why, " (CONFIG_BPF_KPROBE_OVERRIDE not set)");
		return false;
	}
	close(fd);
	return true;
}

/* kprobe_multi links are fprobes (ftrace), not kprobes: try one for real */
static bool probe_kprobe_multi(char *why)
{
	const char *syms[] = { PROBE_FUNC };
	if (switched_off("TRACE_NO_KPROBES", why) || switched_off("TRACE_NO_KPROBE_MULTI", why))
		return false;
	int prog = load(BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI, 0, prog_ret0, 2,
			"BPF_PROG_LOAD kprobe_multi", why);

	if (prog < 0)
		return false;
	LIBBPF_OPTS(bpf_link_create_opts, o, .kprobe_multi.syms = syms, .kprobe_multi.cnt = 1);
	int link = bpf_link_create(prog, 0, BPF_TRACE_KPROBE_MULTI, &o);
	if (attached(prog, link, "BPF_LINK_CREATE kprobe_multi " PROBE_FUNC, why))
		return true;
	if (link == -EOPNOTSUPP && kconfig("CONFIG_FPROBE") == 'n')
		appendf(why, " (CONFIG_FPROBE not set)");
	return false;
}

int rt_link_uprobe_multi(int prog_fd, const char *path, const uint64_t *offsets,
			 const uint64_t *cookies, uint32_t cnt, bool retprobe, int pid)
{
	/* union bpf_attr's link_create, with 6.6's uprobe_multi member */
	struct {
		__u32 prog_fd, target_fd, attach_type, flags;
		__u64 path, offsets, ref_ctr_offsets, cookies;
		__u32 cnt, flags2, pid;
		__u8 pad[160 - 60]; /* zeros up to the size of union bpf_attr */
	} attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = (__u32)prog_fd;
	attr.attach_type = RT_BPF_TRACE_UPROBE_MULTI;
	attr.path = (uintptr_t)path;
	attr.offsets = (uintptr_t)offsets;
	attr.cookies = (uintptr_t)cookies;
	attr.cnt = cnt;
	attr.flags2 = retprobe ? 1 : 0; /* BPF_F_UPROBE_MULTI_RETURN */
	attr.pid = pid > 0 ? (__u32)pid : 0;
	int fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

/* uprobe_multi (6.6): a program loaded for it, and a link at offset 0 of
 * a memfd holding one page: nothing executes there (no executable
 * mapping of it), so nothing is ever hit, but the kernel checks and
 * registers it. TRACE_NO_UPROBE_MULTI=1 simulates a kernel without. */
static bool probe_uprobe_multi(char *why)
{
	char path[64];
	uint64_t off = 0;

	if (switched_off("TRACE_NO_UPROBE_MULTI", why))
		return false;
	int prog = load(BPF_PROG_TYPE_KPROBE, (enum bpf_attach_type)RT_BPF_TRACE_UPROBE_MULTI, 0,
			prog_ret0, 2, "BPF_PROG_LOAD uprobe_multi", why);
	if (prog < 0)
		return false;
	int mfd = memfd_create("trace_feature", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, 4096)) {
		fail(why, "memfd_create", errno);
		if (mfd >= 0)
			close(mfd);
		close(prog);
		return false;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	int link = rt_link_uprobe_multi(prog, path, &off, NULL, 1, false, 0);
	close(mfd);
	return attached(prog, link, "BPF_LINK_CREATE uprobe_multi", why);
}

/* BPF_PROG_TYPE_TRACING attached through its BTF id: fentry needs a BPF
 * trampoline; tp_btf does not, so one can work without the other. */
static bool probe_btf_tracing(enum bpf_attach_type attach, const char *target, __u32 kind,
			      const char *load_what, const char *attach_what, char *why)
{
	int id = vmlinux_btf_id(target, kind, why);

	if (id < 0)
		return false;
	int prog = load(BPF_PROG_TYPE_TRACING, attach, id, prog_ret0, 2, load_what, why);
	if (prog < 0)
		return false;
	return attached(prog, bpf_raw_tracepoint_open(NULL, prog), attach_what, why);
}

static bool probe_fentry(char *why)
{
	if (switched_off("TRACE_NO_FENTRY", why))
		return false;
	return probe_btf_tracing(BPF_TRACE_FENTRY, PROBE_FUNC, BTF_KIND_FUNC,
				 "BPF_PROG_LOAD fentry " PROBE_FUNC,
				 "BPF_RAW_TRACEPOINT_OPEN fentry " PROBE_FUNC, why);
}

static bool probe_tp_btf(char *why)
{
	return probe_btf_tracing(BPF_TRACE_RAW_TP, "btf_trace_sched_switch", BTF_KIND_TYPEDEF,
				 "BPF_PROG_LOAD tp_btf sched_switch",
				 "BPF_RAW_TRACEPOINT_OPEN tp_btf sched_switch", why);
}

static bool probe_raw_tp(char *why)
{
	int prog =
		load(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, prog_ret0, 2, "BPF_PROG_LOAD raw_tp", why);

	if (prog < 0)
		return false;
	return attached(prog, bpf_raw_tracepoint_open("sched_switch", prog),
			"BPF_RAW_TRACEPOINT_OPEN sched_switch", why);
}

/* The uprobe PMU on an empty memfd, at offset 1: the kernel resolves the
 * file, checks it is a regular one, and uprobe_register() refuses an
 * offset past EOF with EINVAL, having registered nothing (and nobody maps
 * the memfd, so even a registered uprobe would plant no breakpoint). */
static bool probe_uprobes(char *why)
{
	struct perf_event_attr attr = { 0 };
	long type = read_sysfs_num(PMU_DIR "/uprobe/type", "");
	char path[64];

	if (type < 0) {
		explain_missing_pmu(why, "uprobe", "CONFIG_UPROBES", "CONFIG_UPROBE_EVENTS");
		return false;
	}
	int mfd = memfd_create("trace_feature", MFD_CLOEXEC);
	if (mfd < 0) {
		fail(why, "memfd_create", errno);
		return false;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	attr.type = (__u32)type;
	attr.config1 = (uintptr_t)path; /* uprobe_path */
	attr.config2 = 1;		/* probe_offset: past EOF */
	int err = perf_event_opens(&attr);
	close(mfd);
	if (!err || err == -EINVAL)
		return true;
	fail(why, "perf_event_open uprobe", -err);
	return false;
}

static bool probe_perf(__u32 type, __u64 config, const char *what, char *why)
{
	struct perf_event_attr attr = { .type = type, .config = config };
	int err = perf_event_opens(&attr);

	if (!err)
		return true;
	fail(why, what, -err);
	if (type == PERF_TYPE_HARDWARE && (err == -ENOENT || err == -EOPNOTSUPP))
		appendf(why, " (no hardware PMU)");
	return false;
}

static bool probe_perf_sw(char *why)
{
	return probe_perf(PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, "perf_event_open cpu-clock",
			  why);
}

static bool probe_perf_hw(char *why)
{
	return probe_perf(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES,
			  "perf_event_open cpu-cycles", why);
}

/* --- the table and the cache --------------------------------------------- */

enum section { SEC_KERNEL, SEC_MAPS, SEC_PROBES, SEC_COUNT };

static const char *const section_titles[SEC_COUNT] = {
	[SEC_KERNEL] = "Kernel features",
	[SEC_MAPS] = "Map types",
	[SEC_PROBES] = "Probe types",
};

#define FEATURE(id, sec, field) \
	[id] = { #field, sec, offsetof(struct rt_features, field), probe_##field }

static const struct feature_desc {
	const char *name; /* the struct field, printed */
	enum section section;
	size_t field; /* offset of its bool in struct rt_features */
	bool (*probe)(char *why);
} features[RT_FEAT_COUNT] = {
	FEATURE(RT_FEAT_BTF, SEC_KERNEL, btf),
	FEATURE(RT_FEAT_BOUNDED_LOOPS, SEC_KERNEL, bounded_loops),
	FEATURE(RT_FEAT_BPF_LOOP, SEC_KERNEL, bpf_loop),
	FEATURE(RT_FEAT_FOR_EACH, SEC_KERNEL, for_each),
	FEATURE(RT_FEAT_ATTACH_COOKIE, SEC_KERNEL, attach_cookie),
	FEATURE(RT_FEAT_ISA_V4, SEC_KERNEL, isa_v4),
	FEATURE(RT_FEAT_RINGBUF, SEC_MAPS, ringbuf),
	FEATURE(RT_FEAT_PERF_BUFFER, SEC_MAPS, perf_buffer),
	FEATURE(RT_FEAT_PERCPU_ARRAY, SEC_MAPS, percpu_array),
	FEATURE(RT_FEAT_KPROBES, SEC_PROBES, kprobes),
	FEATURE(RT_FEAT_KRETPROBES, SEC_PROBES, kretprobes),
	FEATURE(RT_FEAT_KPROBE_MULTI, SEC_PROBES, kprobe_multi),
	FEATURE(RT_FEAT_KPROBE_OVERRIDE, SEC_PROBES, kprobe_override),
	FEATURE(RT_FEAT_FENTRY, SEC_PROBES, fentry),
	FEATURE(RT_FEAT_TP_BTF, SEC_PROBES, tp_btf),
	FEATURE(RT_FEAT_RAW_TP, SEC_PROBES, raw_tp),
	FEATURE(RT_FEAT_UPROBES, SEC_PROBES, uprobes),
	FEATURE(RT_FEAT_UPROBE_MULTI, SEC_PROBES, uprobe_multi),
	FEATURE(RT_FEAT_PERF_SW, SEC_PROBES, perf_sw),
	FEATURE(RT_FEAT_PERF_HW, SEC_PROBES, perf_hw),
};

static struct {
	signed char state; /* 0 not probed, 1 yes, -1 no */
	char why[RT_FEAT_REASON_MAX];
} cache[RT_FEAT_COUNT];

bool rt_feature(enum rt_feature id)
{
	if ((unsigned)id >= RT_FEAT_COUNT)
		return false;
	if (!cache[id].state) {
		cache[id].why[0] = '\0';
		bool yes = features[id].probe(cache[id].why);
		cache[id].state = yes ? 1 : -1;
		if (yes)
			cache[id].why[0] = '\0';
		else if (!cache[id].why[0])
			appendf(cache[id].why, "unknown");
	}
	return cache[id].state > 0;
}

const char *rt_feature_reason(enum rt_feature id)
{
	return (unsigned)id < RT_FEAT_COUNT ? cache[id].why : "";
}

bool rt_feature_kprobes(void)
{
	return rt_feature(RT_FEAT_KPROBES);
}

bool rt_feature_fentry(void)
{
	return rt_feature(RT_FEAT_FENTRY);
}

bool rt_feature_ringbuf(void)
{
	return rt_feature(RT_FEAT_RINGBUF);
}

bool rt_feature_btf(void)
{
	return rt_feature(RT_FEAT_BTF);
}

const struct btf *rt_feature_vmlinux_btf(void)
{
	return rt_feature(RT_FEAT_BTF) ? vmlinux_btf : NULL;
}

void rt_features_reset(void)
{
	btf__free(vmlinux_btf);
	vmlinux_btf = NULL;
	memset(cache, 0, sizeof(cache));
}

/* --- the report ------------------------------------------------------------- */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int rt_features_probe(struct rt_features *f)
{
	struct utsname u;

	memset(f, 0, sizeof(*f));
	if (uname(&u))
		return -errno;
	snprintf(f->kernel_release, sizeof(f->kernel_release), "%s", u.release);
	snprintf(f->kernel_version, sizeof(f->kernel_version), "%s", u.version);
	snprintf(f->arch, sizeof(f->arch), "%s", u.machine);
	snprintf(f->btf_path, sizeof(f->btf_path), "%s", btf_file());

	double start = now_ms();
	for (int i = 0; i < RT_FEAT_COUNT; i++) {
		bool *yes = (bool *)((char *)f + features[i].field);
		*yes = rt_feature((enum rt_feature)i);
		memcpy(f->reason[i], cache[i].why, sizeof(f->reason[i]));
	}
	f->probe_ms = now_ms() - start;
	return 0;
}

void rt_features_print(FILE *out, const struct rt_features *f)
{
	fprintf(out, "System\n  OS: Linux %s %s\n  Arch: %s\n", f->kernel_release,
		f->kernel_version, f->arch);
	fprintf(out, "\nBuild\n  version: v%s\n", TRACE_VERSION);
	if (f->llvm_version[0])
		fprintf(out, "  LLVM: %s\n", f->llvm_version);
	fprintf(out, "  libbpf: %u.%u\n", libbpf_major_version(), libbpf_minor_version());
	for (int s = 0; s < SEC_COUNT; s++) {
		fprintf(out, "\n%s\n", section_titles[s]);
		for (int i = 0; i < RT_FEAT_COUNT; i++) {
			const struct feature_desc *d = &features[i];
			if (d->section != (enum section)s)
				continue;
			if (*(const bool *)((const char *)f + d->field))
				fprintf(out, "  %s: yes\n", d->name);
			else
				fprintf(out, "  %s: no (%s)\n", d->name, f->reason[i]);
			if (i == RT_FEAT_BTF)
				fprintf(out, "  btf_path: %s\n", f->btf_path);
		}
	}
	fprintf(out, "\nFeatures probed in %.1f ms\n", f->probe_ms);
}
