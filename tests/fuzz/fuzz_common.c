/* fuzz_common.c: the fake kernel and the compiler pipeline of the fuzz
 * targets (fuzz_common.h). */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "compiler/cpp.h"
#include "compiler/parse.h"
#include "compiler/sema.h"
#include "tests/fuzz/fuzz_common.h"

#define COMMON_FIELDS                                                                  \
	"name: x\nID: 1\nformat:\n"                                                    \
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"         \
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"         \
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n" \
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"

/* format files of Linux 6.18 (x86_64), and two made up */
static const char fmt_openat[] = COMMON_FIELDS
	"\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
	"\tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;\n"
	"\tfield:int flags;\toffset:32;\tsize:8;\tsigned:0;\n"
	"\tfield:umode_t mode;\toffset:40;\tsize:8;\tsigned:0;\n\n"
	"print fmt: \"\"\n";
static const char fmt_exit[] = COMMON_FIELDS
	"\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
	"\tfield:long ret;\toffset:16;\tsize:8;\tsigned:1;\n\n"
	"print fmt: \"\"\n";
static const char fmt_read[] = COMMON_FIELDS
	"\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
	"\tfield:unsigned int fd;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:char * buf;\toffset:24;\tsize:8;\tsigned:0;\n"
	"\tfield:size_t count;\toffset:32;\tsize:8;\tsigned:0;\n\n"
	"print fmt: \"\"\n";
static const char fmt_sched_switch[] = COMMON_FIELDS
	"\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n"
	"\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n"
	"\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n"
	"\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;\n"
	"\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;\n"
	"\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;\n"
	"\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;\n\n"
	"print fmt: \"\"\n";
static const char fmt_raw_enter[] = COMMON_FIELDS
	"\tfield:long id;\toffset:8;\tsize:8;\tsigned:1;\n"
	"\tfield:unsigned long args[6];\toffset:16;\tsize:48;\tsigned:0;\n\n"
	"print fmt: \"\"\n";
static const char fmt_raw_exit[] = COMMON_FIELDS
	"\tfield:long id;\toffset:8;\tsize:8;\tsigned:1;\n"
	"\tfield:long ret;\toffset:16;\tsize:8;\tsigned:1;\n\n"
	"print fmt: \"\"\n";
static const char fmt_dataloc[] = COMMON_FIELDS
	"\tfield:__data_loc char[] name;\toffset:8;\tsize:4;\tsigned:0;\n"
	"\tfield:u32 len;\toffset:12;\tsize:4;\tsigned:0;\n\n"
	"print fmt: \"\"\n";
static const char fmt_ev[] = COMMON_FIELDS
	"\tfield:u64 a;\toffset:8;\tsize:8;\tsigned:0;\n"
	"\tfield:u8 b[3];\toffset:16;\tsize:3;\tsigned:0;\n\n"
	"print fmt: \"\"\n";

/* sorted by name, so that list matches come out sorted */
static const struct {
	const char *name; /* "cat:name" */
	const char *format;
} fake_tps[] = {
	{ "fake:dataloc", fmt_dataloc },
	{ "fake:ev0", fmt_ev },
	{ "fake:ev1", fmt_ev },
	{ "raw_syscalls:sys_enter", fmt_raw_enter },
	{ "raw_syscalls:sys_exit", fmt_raw_exit },
	{ "sched:sched_switch", fmt_sched_switch },
	{ "syscalls:sys_enter_openat", fmt_openat },
	{ "syscalls:sys_enter_read", fmt_read },
	{ "syscalls:sys_exit_openat", fmt_exit },
	{ "syscalls:sys_exit_read", fmt_exit },
};
#define NFAKE ((int)(sizeof(fake_tps) / sizeof(fake_tps[0])))

static int fake_format(struct kernel_info *ki, const char *cat, const char *name, struct arena *a,
		       struct tp_format *out)
{
	char full[256];

	(void)ki;
	snprintf(full, sizeof(full), "%s:%s", cat, name);
	for (int i = 0; i < NFAKE; i++)
		if (!strcmp(fake_tps[i].name, full))
			return ki_parse_tp_format(fake_tps[i].format, a, out);
	return -ENOENT;
}

static int fake_list(struct kernel_info *ki, const char *cat_glob, const char *name_glob,
		     struct arena *a, const char ***out)
{
	const char **list = arena_alloc(a, (NFAKE + 1) * sizeof(*list));
	int n = 0;

	(void)ki;
	for (int i = 0; i < NFAKE; i++) {
		const char *full = fake_tps[i].name, *colon = strchr(full, ':');
		char cat[64];

		snprintf(cat, sizeof(cat), "%.*s", (int)(colon - full), full);
		if (!fnmatch(cat_glob, cat, 0) && !fnmatch(name_glob, colon + 1, 0))
			list[n++] = full;
	}
	*out = list;
	return n;
}

static bool fake_feature(struct kernel_info *ki, enum ki_feature f)
{
	return f != KI_RINGBUF || ki->priv == NULL;
}

static int fake_syscall_nr(struct kernel_info *ki, const char *name)
{
	static const char *const nrs[] = { "read", "write", "open", "close" };

	(void)ki;
	for (int i = 0; i < 4; i++)
		if (!strcmp(name, nrs[i]))
			return i;
	if (!strcmp(name, "openat"))
		return 257;
	return -1;
}

static int fake_function_list(struct kernel_info *ki, const char *glob, struct arena *a,
			      const char ***out)
{
	static const char *const fns[] = { "do_nanosleep", "vfs_open", "vfs_read", "vfs_write" };
	const char **list = arena_alloc(a, 5 * sizeof(*list));
	int n = 0;

	(void)ki;
	for (int i = 0; i < 4; i++)
		if (!fnmatch(glob, fns[i], 0))
			list[n++] = fns[i];
	*out = list;
	return n;
}

/* The host's BTF, parsed once and kept for the whole process. */
static const struct btf *host_btf(struct kernel_info *ki, const char **why)
{
	static struct btf *btf;
	static bool tried;

	(void)ki;
	if (!tried) {
		tried = true;
		btf = btf__load_vmlinux_btf();
		if (libbpf_get_error(btf))
			btf = NULL;
	}
	*why = btf ? "" : "no vmlinux BTF on this host";
	return btf;
}

static int sentinel;

struct kernel_info *fuzz_kernel(bool ringbuf)
{
	static struct kernel_info k[2];

	for (int i = 0; i < 2; i++) {
		k[i].tracepoint_format = fake_format;
		k[i].tracepoint_list = fake_list;
		k[i].has_feature = fake_feature;
		k[i].syscall_nr = fake_syscall_nr;
		k[i].function_list = fake_function_list;
		k[i].vmlinux_btf = host_btf;
		k[i].priv = i ? &sentinel : NULL; /* k[1]: no ring buffer */
	}
	return &k[ringbuf ? 0 : 1];
}

FILE *fuzz_devnull(void)
{
	static FILE *devnull;

	if (!devnull) {
		devnull = fopen("/dev/null", "w");
		if (!devnull)
			abort();
	}
	return devnull;
}

static const char *params[] = { "7", "str" };

void fuzz_compile(struct fuzz_compiled *fc, const char *text, size_t size, bool ringbuf,
		  FILE *diag_out)
{
	struct cpp_result pp = { 0 };
	struct node *prog = NULL;
	bool use_pp;

	memset(fc, 0, sizeof(*fc));
	fc->src = src_new("fuzz.bt", text, size);
	if (!fc->src)
		return;
	diag_init(&fc->diag, fc->src, diag_out);
	use_pp = cpp_needed(fc->src);
	if (use_pp) {
		struct cpp_opts o = { .no_includes = true };
		if (cpp_run(fc->src, &o, &fc->diag, &pp) == 0)
			prog = parse_program_pp(fc->src, &pp, &fc->arena, &fc->diag);
	} else {
		prog = parse_program(fc->src, &fc->arena, &fc->diag);
	}
	if (!prog || diag_has_errors(&fc->diag))
		goto out;
	fc->stage = 1;

	struct sema sema;
	struct sema_opts so = { .params = params, .nparams = 2 };
	if (sema_check(&sema, prog, fuzz_kernel(ringbuf), &fc->diag, &fc->arena, &so))
		goto out;
	fc->stage = 2;

	struct cg_options co = { .cpu = "v3", .start_ns = 1 };
	if (cg_compile(&sema, fc->src, &fc->arena, &co, &fc->diag, &fc->res) == 0) {
		fc->have_res = true;
		fc->stage = 3;
	}
out:
	cpp_result_free(&pp);
}

void fuzz_release(struct fuzz_compiled *fc)
{
	cg_result_free(&fc->res);
	if (fc->src) {
		diag_finish(&fc->diag);
		src_free(fc->src);
	}
	arena_free(&fc->arena);
	memset(fc, 0, sizeof(*fc));
}
