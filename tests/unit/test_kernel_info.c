/* test_kernel_info.c: tracefs format parsing and "did you mean" ranking.
 *
 * The format texts below are verbatim copies of
 * /sys/kernel/tracing/events/CAT/NAME/format on the development machine
 * (Linux 6.18, x86_64), so the parser is tested on what the kernel really
 * writes without root. A fake struct kernel_info feeds the ranking. When
 * tracefs is mounted and readable, a last section also checks ki_system();
 * it never mounts anything itself.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "compiler/kernel_info.h"

#include "tests/unit/check.h"

/* ---- format files copied from this machine ------------------------------- */

/* events/syscalls/sys_enter_openat/format */
static const char fmt_sys_enter_openat[] =
	"name: sys_enter_openat\n"
	"ID: 782\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
	"\tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;\n"
	"\tfield:int flags;\toffset:32;\tsize:8;\tsigned:0;\n"
	"\tfield:umode_t mode;\toffset:40;\tsize:8;\tsigned:0;\n"
	"\n"
	"print fmt: \"dfd: 0x%08lx, filename: 0x%08lx, flags: 0x%08lx, mode: 0x%08lx\", ((unsigned long)(REC->dfd)), ((unsigned long)(REC->filename)), ((unsigned long)(REC->flags)), ((unsigned long)(REC->mode))\n";

/* events/sched/sched_switch/format */
static const char fmt_sched_switch[] =
	"name: sched_switch\n"
	"ID: 372\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n"
	"\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n"
	"\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n"
	"\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;\n"
	"\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;\n"
	"\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;\n"
	"\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;\n"
	"\n"
	"print fmt: \"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d\", REC->prev_comm, REC->prev_pid, REC->prev_prio, (REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1)) ? __print_flags(REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1), \"|\", { 0x00000001, \"S\" }, { 0x00000002, \"D\" }, { 0x00000004, \"T\" }, { 0x00000008, \"t\" }, { 0x00000010, \"X\" }, { 0x00000020, \"Z\" }, { 0x00000040, \"P\" }, { 0x00000080, \"I\" }) : \"R\", REC->prev_state & (((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) ? \"+\" : \"\", REC->next_comm, REC->next_pid, REC->next_prio\n";

/* events/exceptions/page_fault_user/format */
static const char fmt_page_fault_user[] =
	"name: page_fault_user\n"
	"ID: 190\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:unsigned long address;\toffset:8;\tsize:8;\tsigned:0;\n"
	"\tfield:unsigned long ip;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:unsigned long error_code;\toffset:24;\tsize:8;\tsigned:0;\n"
	"\n"
	"print fmt: \"address=%ps ip=%ps error_code=0x%lx\", (void *)REC->address, (void *)REC->ip, REC->error_code\n";

/* events/raw_syscalls/sys_enter/format */
static const char fmt_sys_enter[] =
	"name: sys_enter\n"
	"ID: 443\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:long id;\toffset:8;\tsize:8;\tsigned:1;\n"
	"\tfield:unsigned long args[6];\toffset:16;\tsize:48;\tsigned:0;\n"
	"\n"
	"print fmt: \"NR %ld (%lx, %lx, %lx, %lx, %lx, %lx)\", REC->id, REC->args[0], REC->args[1], REC->args[2], REC->args[3], REC->args[4], REC->args[5]\n";

/* events/sched/sched_process_exec/format */
static const char fmt_sched_process_exec[] =
	"name: sched_process_exec\n"
	"ID: 365\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;\n"
	"\tfield:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;\n"
	"\tfield:pid_t old_pid;\toffset:16;\tsize:4;\tsigned:1;\n"
	"\n"
	"print fmt: \"filename=%s pid=%d old_pid=%d\", __get_str(filename), REC->pid, REC->old_pid\n";

/* events/syscalls/sys_enter_execve/format */
static const char fmt_sys_enter_execve[] =
	"name: sys_enter_execve\n"
	"ID: 862\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
	"\tfield:const char * filename;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:const char *const * argv;\toffset:24;\tsize:8;\tsigned:0;\n"
	"\tfield:const char *const * envp;\toffset:32;\tsize:8;\tsigned:0;\n"
	"\n"
	"print fmt: \"filename: 0x%08lx, argv: 0x%08lx, envp: 0x%08lx\", ((unsigned long)(REC->filename)), ((unsigned long)(REC->argv)), ((unsigned long)(REC->envp))\n";

/* events/ipi/ipi_send_cpumask/format */
static const char fmt_ipi_send_cpumask[] =
	"name: ipi_send_cpumask\n"
	"ID: 353\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:__data_loc cpumask_t cpumask;\toffset:8;\tsize:4;\tsigned:0;\n"
	"\tfield:void * callsite;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:void * callback;\toffset:24;\tsize:8;\tsigned:0;\n"
	"\n"
	"print fmt: \"cpumask=%s callsite=%pS callback=%pS\", __get_cpumask(cpumask), REC->callsite, REC->callback\n";

/* events/ftrace/print/format */
static const char fmt_print[] =
	"name: print\n"
	"ID: 5\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;\n"
	"\tfield:char buf[];\toffset:16;\tsize:0;\tsigned:0;\n"
	"\n"
	"print fmt: \"%ps: %s\", (void *)REC->ip, REC->buf\n";

/* events/percpu/percpu_free_percpu/format */
static const char fmt_percpu_free_percpu[] =
	"name: percpu_free_percpu\n"
	"ID: 644\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:void * base_addr;\toffset:8;\tsize:8;\tsigned:0;\n"
	"\tfield:int off;\toffset:16;\tsize:4;\tsigned:1;\n"
	"\tfield:void __seg_gs * ptr;\toffset:24;\tsize:8;\tsigned:0;\n"
	"\n"
	"print fmt: \"base_addr=%p off=%d ptr=%p\", REC->base_addr, REC->off, REC->ptr\n";

/* events/syscalls/sys_enter_landlock_add_rule/format */
static const char fmt_sys_enter_landlock_add_rule[] =
	"name: sys_enter_landlock_add_rule\n"
	"ID: 2084\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
	"\tfield:const int ruleset_fd;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:const enum landlock_rule_type rule_type;\toffset:24;\tsize:8;\tsigned:0;\n"
	"\tfield:const void *const rule_attr;\toffset:32;\tsize:8;\tsigned:0;\n"
	"\tfield:const __u32 flags;\toffset:40;\tsize:8;\tsigned:0;\n"
	"\n"
	"print fmt: \"ruleset_fd: 0x%08lx, rule_type: 0x%08lx, rule_attr: 0x%08lx, flags: 0x%08lx\", ((unsigned long)(REC->ruleset_fd)), ((unsigned long)(REC->rule_type)), ((unsigned long)(REC->rule_attr)), ((unsigned long)(REC->flags))\n";

/* events/syscalls/sys_enter_get_robust_list/format */
static const char fmt_sys_enter_get_robust_list[] =
	"name: sys_enter_get_robust_list\n"
	"ID: 524\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
	"\tfield:int pid;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:struct robust_list_head * * head_ptr;\toffset:24;\tsize:8;\tsigned:0;\n"
	"\tfield:size_t * len_ptr;\toffset:32;\tsize:8;\tsigned:0;\n"
	"\n"
	"print fmt: \"pid: 0x%08lx, head_ptr: 0x%08lx, len_ptr: 0x%08lx\", ((unsigned long)(REC->pid)), ((unsigned long)(REC->head_ptr)), ((unsigned long)(REC->len_ptr))\n";

/* events/btrfs/btrfs_free_extent_state/format */
static const char fmt_btrfs_free_extent_state[] =
	"name: btrfs_free_extent_state\n"
	"ID: 1973\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:const struct extent_state * state;\toffset:8;\tsize:8;\tsigned:0;\n"
	"\tfield:const void* ip;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\n"
	"print fmt: \"state=%p caller=%pS\", REC->state, REC->ip\n";

/* events/dma/dma_free_sgt/format */
static const char fmt_dma_free_sgt[] =
	"name: dma_free_sgt\n"
	"ID: 432\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:__data_loc char[] device;\toffset:8;\tsize:4;\tsigned:0;\n"
	"\tfield:__data_loc u64[] phys_addrs;\toffset:12;\tsize:4;\tsigned:0;\n"
	"\tfield:u64 dma_addr;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:size_t size;\toffset:24;\tsize:8;\tsigned:0;\n"
	"\tfield:enum dma_data_direction dir;\toffset:32;\tsize:4;\tsigned:0;\n"
	"\n"
	"print fmt: \"%s dir=%s dma_addr=%llx size=%zu phys_addrs=%s\", __get_str(device), __print_symbolic(REC->dir, { 0, \"BIDIRECTIONAL\" }, { 1, \"TO_DEVICE\" }, { 2, \"FROM_DEVICE\" }, { 3, \"NONE\" }), REC->dma_addr, REC->size, __print_array(__get_dynamic_array(phys_addrs), __get_dynamic_array_len(phys_addrs) / sizeof(u64), sizeof(u64))\n";

/* events/ext4/ext4_fsmap_low_key/format */
static const char fmt_ext4_fsmap_low_key[] =
	"name: ext4_fsmap_low_key\n"
	"ID: 1173\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:dev_t dev;\toffset:8;\tsize:4;\tsigned:0;\n"
	"\tfield:dev_t keydev;\toffset:12;\tsize:4;\tsigned:0;\n"
	"\tfield:u32 agno;\toffset:16;\tsize:4;\tsigned:0;\n"
	"\tfield:u64 bno;\toffset:24;\tsize:8;\tsigned:0;\n"
	"\tfield:u64 len;\toffset:32;\tsize:8;\tsigned:0;\n"
	"\tfield:u64 owner;\toffset:40;\tsize:8;\tsigned:0;\n"
	"\n"
	"print fmt: \"dev %d:%d keydev %d:%d agno %u bno %llu len %llu owner %lld\n"
	"\", ((unsigned int) ((REC->dev) >> 20)), ((unsigned int) ((REC->dev) & ((1U << 20) - 1))), ((unsigned int) ((REC->keydev) >> 20)), ((unsigned int) ((REC->keydev) & ((1U << 20) - 1))), REC->agno, REC->bno, REC->len, REC->owner\n";

/* ---- helpers -------------------------------------------------------------- */

static const struct tp_field *find_field(const struct tp_format *f, const char *name)
{
	for (int i = 0; i < f->nfields; i++)
		if (!strcmp(f->fields[i].name, name))
			return &f->fields[i];
	return NULL;
}

/* Compares every member of the field called want.name with want. */
#define CHECK_FIELD(fmt, ...) check_field(__LINE__, (fmt), (struct tp_field){ __VA_ARGS__ })

static void check_field(int line, const struct tp_format *f, struct tp_field want)
{
	const struct tp_field *got = find_field(f, want.name);

	if (got && !strcmp(got->ctype, want.ctype) && got->offset == want.offset &&
	    got->size == want.size && got->is_signed == want.is_signed &&
	    got->is_pointer == want.is_pointer && got->is_data_loc == want.is_data_loc &&
	    got->array_len == want.array_len && got->is_common == want.is_common)
		return;
	fprintf(stderr, "%s:%d: field %s: ", __FILE__, line, want.name);
	if (got)
		fprintf(stderr, "got '%s' off %u size %u signed %d ptr %d dl %d len %d common %d\n",
			got->ctype, got->offset, got->size, got->is_signed, got->is_pointer,
			got->is_data_loc, got->array_len, got->is_common);
	else
		fprintf(stderr, "missing\n");
	failures++;
}

static int parse(const char *text, struct arena *a, struct tp_format *f)
{
	int err = ki_parse_tp_format(text, a, f);

	if (err)
		fprintf(stderr, "ki_parse_tp_format: %s\n", strerror(-err));
	return err;
}

/* ---- real format files ---------------------------------------------------- */

static void test_common_fields(struct arena *a)
{
	struct tp_format f;

	CHECK(parse(fmt_sys_enter_openat, a, &f) == 0);
	CHECK(f.nfields == 9);
	CHECK_FIELD(&f, .name = "common_type", .ctype = "unsigned short", .offset = 0, .size = 2,
		    .array_len = -1, .is_common = true);
	CHECK_FIELD(&f, .name = "common_flags", .ctype = "unsigned char", .offset = 2, .size = 1,
		    .array_len = -1, .is_common = true);
	CHECK_FIELD(&f, .name = "common_preempt_count", .ctype = "unsigned char", .offset = 3,
		    .size = 1, .array_len = -1, .is_common = true);
	CHECK_FIELD(&f, .name = "common_pid", .ctype = "int", .offset = 4, .size = 4,
		    .is_signed = true, .array_len = -1, .is_common = true);
	CHECK(f.nfields == 9 && !strcmp(f.fields[4].name, "__syscall_nr"));
}

/* Syscall arguments sit in 8-byte slots whatever their C type, and an int
 * argument says signed:0: "int dfd" is size 8, unsigned. */
static void test_syscall_args(struct arena *a)
{
	struct tp_format f;

	CHECK(parse(fmt_sys_enter_openat, a, &f) == 0);
	CHECK_FIELD(&f, .name = "__syscall_nr", .ctype = "int", .offset = 8, .size = 4,
		    .is_signed = true, .array_len = -1);
	CHECK_FIELD(&f, .name = "dfd", .ctype = "int", .offset = 16, .size = 8, .array_len = -1);
	CHECK_FIELD(&f, .name = "filename", .ctype = "const char *", .offset = 24, .size = 8,
		    .is_pointer = true, .array_len = -1);
	CHECK_FIELD(&f, .name = "mode", .ctype = "umode_t", .offset = 40, .size = 8,
		    .array_len = -1);
	CHECK(f.size == 48);

	CHECK(parse(fmt_sys_enter_execve, a, &f) == 0);
	CHECK_FIELD(&f, .name = "argv", .ctype = "const char *const *", .offset = 24, .size = 8,
		    .is_pointer = true, .array_len = -1);
	CHECK_FIELD(&f, .name = "envp", .ctype = "const char *const *", .offset = 32, .size = 8,
		    .is_pointer = true, .array_len = -1);
	CHECK(f.size == 40);

	CHECK(parse(fmt_sys_enter_get_robust_list, a, &f) == 0);
	CHECK_FIELD(&f, .name = "head_ptr", .ctype = "struct robust_list_head * *", .offset = 24,
		    .size = 8, .is_pointer = true, .array_len = -1);
	CHECK_FIELD(&f, .name = "len_ptr", .ctype = "size_t *", .offset = 32, .size = 8,
		    .is_pointer = true, .array_len = -1);
}

static void test_arrays(struct arena *a)
{
	struct tp_format f;

	CHECK(parse(fmt_sched_switch, a, &f) == 0);
	CHECK(f.nfields == 11 && f.size == 64);
	CHECK_FIELD(&f, .name = "prev_comm", .ctype = "char[16]", .offset = 8, .size = 16,
		    .array_len = 16);
	CHECK_FIELD(&f, .name = "prev_state", .ctype = "long", .offset = 32, .size = 8,
		    .is_signed = true, .array_len = -1);
	CHECK_FIELD(&f, .name = "next_pid", .ctype = "pid_t", .offset = 56, .size = 4,
		    .is_signed = true, .array_len = -1);

	CHECK(parse(fmt_sys_enter, a, &f) == 0);
	CHECK(f.nfields == 6 && f.size == 64);
	CHECK_FIELD(&f, .name = "id", .ctype = "long", .offset = 8, .size = 8, .is_signed = true,
		    .array_len = -1);
	CHECK_FIELD(&f, .name = "args", .ctype = "unsigned long[6]", .offset = 16, .size = 48,
		    .array_len = 6);

	/* A flexible array ends ftrace's own records: length 0, size 0. */
	CHECK(parse(fmt_print, a, &f) == 0);
	CHECK_FIELD(&f, .name = "buf", .ctype = "char[]", .offset = 16, .size = 0, .array_len = 0);
	CHECK(f.size == 16);
}

static void test_data_loc(struct arena *a)
{
	struct tp_format f;

	CHECK(parse(fmt_sched_process_exec, a, &f) == 0);
	CHECK(f.nfields == 7 && f.size == 20);
	CHECK_FIELD(&f, .name = "filename", .ctype = "__data_loc char[]", .offset = 8, .size = 4,
		    .is_data_loc = true, .array_len = -1);
	CHECK_FIELD(&f, .name = "old_pid", .ctype = "pid_t", .offset = 16, .size = 4,
		    .is_signed = true, .array_len = -1);

	CHECK(parse(fmt_dma_free_sgt, a, &f) == 0);
	CHECK_FIELD(&f, .name = "phys_addrs", .ctype = "__data_loc u64[]", .offset = 12, .size = 4,
		    .is_data_loc = true, .array_len = -1);
	CHECK_FIELD(&f, .name = "dir", .ctype = "enum dma_data_direction", .offset = 32, .size = 4,
		    .array_len = -1);

	/* The one __data_loc without brackets on this machine. */
	CHECK(parse(fmt_ipi_send_cpumask, a, &f) == 0);
	CHECK_FIELD(&f, .name = "cpumask", .ctype = "__data_loc cpumask_t", .offset = 8, .size = 4,
		    .is_data_loc = true, .array_len = -1);
	CHECK_FIELD(&f, .name = "callsite", .ctype = "void *", .offset = 16, .size = 8,
		    .is_pointer = true, .array_len = -1);
}

/* Pointer spellings other than "type *". */
static void test_pointer_spellings(struct arena *a)
{
	struct tp_format f;

	CHECK(parse(fmt_percpu_free_percpu, a, &f) == 0);
	CHECK_FIELD(&f, .name = "ptr", .ctype = "void __seg_gs *", .offset = 24, .size = 8,
		    .is_pointer = true, .array_len = -1);
	CHECK(parse(fmt_sys_enter_landlock_add_rule, a, &f) == 0);
	CHECK_FIELD(&f, .name = "rule_attr", .ctype = "const void *const", .offset = 32, .size = 8,
		    .is_pointer = true, .array_len = -1);
	CHECK(parse(fmt_btrfs_free_extent_state, a, &f) == 0);
	CHECK_FIELD(&f, .name = "ip", .ctype = "const void*", .offset = 16, .size = 8,
		    .is_pointer = true, .array_len = -1);
	CHECK(parse(fmt_page_fault_user, a, &f) == 0);
	CHECK_FIELD(&f, .name = "address", .ctype = "unsigned long", .offset = 8, .size = 8,
		    .array_len = -1);
	CHECK(f.nfields == 7 && f.size == 32);
}

/* ext4's print fmt string holds a newline: the parser must stop at
 * "print fmt:" and not trip over the continuation line. */
static void test_multiline_print_fmt(struct arena *a)
{
	struct tp_format f;

	CHECK(parse(fmt_ext4_fsmap_low_key, a, &f) == 0);
	CHECK(f.nfields == 10 && f.size == 48);
	CHECK_FIELD(&f, .name = "owner", .ctype = "u64", .offset = 40, .size = 8, .array_len = -1);
}

/* ---- shapes not seen on this kernel, and malformed input ------------------ */

static void test_other_kernels(struct arena *a)
{
	struct tp_format f;

	/* Older kernels print some array lengths as the macro; old ones write
	 * "field special:" and omit signed:. */
	CHECK(parse("format:\n"
		    "\tfield special:char comm[TASK_COMM_LEN];\toffset:8;\tsize:16;\n"
		    "\tfield:unsigned long regs[NR_REGS];\toffset:24;\tsize:64;\tsigned:0;\n"
		    "\tfield:int m[2][3];\toffset:88;\tsize:24;\tsigned:1;\n"
		    "\tfield:u64 x;\toffset:112;\tsize:8;\tsigned:0;",
		    a, &f) == 0);
	CHECK(f.nfields == 4 && f.size == 120);
	CHECK_FIELD(&f, .name = "comm", .ctype = "char[TASK_COMM_LEN]", .offset = 8, .size = 16,
		    .array_len = 16);
	CHECK_FIELD(&f, .name = "regs", .ctype = "unsigned long[NR_REGS]", .offset = 24, .size = 64,
		    .array_len = 8);
	CHECK_FIELD(&f, .name = "m", .ctype = "int[2][3]", .offset = 88, .size = 24,
		    .is_signed = true, .array_len = 6);
	CHECK_FIELD(&f, .name = "x", .ctype = "u64", .offset = 112, .size = 8, .array_len = -1);
}

static void test_malformed(struct arena *a)
{
	struct tp_format f;

	CHECK(ki_parse_tp_format("", a, &f) == -EINVAL);
	CHECK(ki_parse_tp_format("name: x\nID: 1\nformat:\n\nprint fmt: \"\"\n", a, &f) == -EINVAL);
	CHECK(ki_parse_tp_format("\tfield:int;\toffset:0;\tsize:4;\tsigned:1;\n", a, &f) ==
	      -EINVAL);
	CHECK(ki_parse_tp_format("\tfield:int x;\tsize:4;\tsigned:1;\n", a, &f) == -EINVAL);
	CHECK(ki_parse_tp_format("\tfield:int x;\toffset:zero;\tsize:4;\n", a, &f) == -EINVAL);
	CHECK(ki_parse_tp_format("\tfield:int x\toffset:0;\tsize:4;\n", a, &f) == -EINVAL);
	CHECK(ki_parse_tp_format("\tfield:struct foo x[N];\toffset:0;\tsize:4;\n", a, &f) ==
	      -EINVAL);
	/* A "field" after print fmt is part of the print fmt. */
	CHECK(ki_parse_tp_format("\tfield:int x;\toffset:0;\tsize:4;\tsigned:1;\n"
				 "print fmt: \"a\n\tfield:int y;\toffset:4;\tsize:4;\n\"\n",
				 a, &f) == 0);
	CHECK(f.nfields == 1 && f.size == 4);
}

/* ---- "did you mean" with a fake kernel ------------------------------------ */

static const char *const fake_tracepoints[] = {
	"sched:sched_process_exec",   "sched:sched_process_exit", "sched:sched_process_fork",
	"sched:sched_switch",	      "sched:sched_wakeup",	  "syscalls:sys_enter_bind",
	"syscalls:sys_enter_bpf",     "syscalls:sys_enter_open",  "syscalls:sys_enter_openat",
	"syscalls:sys_enter_openat2", "syscalls:sys_exit_open",	  "syscalls:sys_exit_openat",
	"timer:timer_start",	      "timer:timer_expire_entry",
};

static int fake_error;

static int fake_list(struct kernel_info *ki, const char *cat_glob, const char *name_glob,
		     struct arena *a, const char ***out)
{
	const int n = sizeof(fake_tracepoints) / sizeof(fake_tracepoints[0]);
	int count = 0;

	(void)ki;
	if (fake_error)
		return fake_error;
	*out = arena_alloc(a, (n + 1) * sizeof(**out));
	for (int i = 0; i < n; i++) {
		char cat[64];
		const char *colon = strchr(fake_tracepoints[i], ':');

		snprintf(cat, sizeof(cat), "%.*s", (int)(colon - fake_tracepoints[i]),
			 fake_tracepoints[i]);
		if (!fnmatch(cat_glob, cat, 0) && !fnmatch(name_glob, colon + 1, 0))
			(*out)[count++] = fake_tracepoints[i];
	}
	return count;
}

static struct kernel_info fake_ki = { .tracepoint_list = fake_list };

/* Returns the suggestions joined by spaces, for one-line comparisons. */
static const char *closest(struct arena *a, const char *cat, const char *name, int max)
{
	const char **out;
	int n = ki_closest_tracepoints(&fake_ki, cat, name, a, &out, max);
	char *s = arena_strdup(a, "");

	if (n < 0)
		return arena_printf(a, "error %d", n);
	for (int i = 0; i < n; i++)
		s = arena_printf(a, "%s%s%s", s, i ? " " : "", out[i]);
	CHECK(n == 0 || out[n] == NULL);
	return s;
}

#define CHECK_CLOSEST(cat, name, max, want)                                                      \
	do {                                                                                     \
		const char *got_ = closest(a, (cat), (name), (max));                             \
		if (strcmp(got_, (want))) {                                                      \
			fprintf(stderr, "%s:%d: closest %s:%s: got '%s', want '%s'\n", __FILE__, \
				__LINE__, (cat), (name), got_, (want));                          \
			failures++;                                                              \
		}                                                                                \
	} while (0)

static void test_closest(struct arena *a)
{
	/* A transposition is one edit; names as close only by the limit
	 * (sys_enter_bpf for sys_enter_opn) are left out. */
	CHECK_CLOSEST("sched", "sched_swtich", 5, "sched:sched_switch");
	CHECK_CLOSEST("sched", "sched_process_exce", 5, "sched:sched_process_exec");
	CHECK_CLOSEST("syscalls", "sys_enter_opn", 5, "syscalls:sys_enter_open");
	/* Best first; when the best is one edit away, only its equals, ties
	 * alphabetical; otherwise one edit of slack. */
	CHECK_CLOSEST("sched", "sched_process_exxt", 5, "sched:sched_process_exit");
	CHECK_CLOSEST("syscalls", "sys_enter_opena", 5,
		      "syscalls:sys_enter_open syscalls:sys_enter_openat");
	CHECK_CLOSEST("syscalls", "sys_enter_opena", 1, "syscalls:sys_enter_open");
	CHECK_CLOSEST("sched", "sched_prcess_ext", 5,
		      "sched:sched_process_exit sched:sched_process_exec");
	/* Part of a name counts, ranked by how much is missing. */
	CHECK_CLOSEST("syscalls", "openat", 5,
		      "syscalls:sys_exit_openat syscalls:sys_enter_openat");
	/* A misspelt category: search them all. */
	CHECK_CLOSEST("shed", "sched_switch", 5, "sched:sched_switch");
	CHECK_CLOSEST("syscall", "sys_enter_openat", 5, "syscalls:sys_enter_openat");
	/* The right name in the wrong category. */
	CHECK_CLOSEST("syscalls", "sched_switch", 5, "sched:sched_switch");
	CHECK_CLOSEST("nope", "xyzzy", 5, "");
	CHECK_CLOSEST("sched", "sched_switch", 0, "");
	fake_error = -EACCES;
	CHECK_CLOSEST("sched", "sched_swtich", 5, "error -13");
	fake_error = 0;
}

/* ---- the real kernel, when tracefs is there already ----------------------- */

static void test_system(struct arena *a)
{
	struct kernel_info *ki = ki_system();
	const char **list;
	struct tp_format f;
	int n;

	if (access("/sys/kernel/tracing/events/syscalls", R_OK | X_OK)) {
		printf("SKIP: system tracefs: /sys/kernel/tracing/events/syscalls: %s\n",
		       strerror(errno));
		return;
	}
	CHECK(ki_tracefs_path() != NULL);
	n = ki->tracepoint_list(ki, "syscalls", "sys_enter_*", a, &list);
	CHECK(n > 300 && list[n] == NULL);
	for (int i = 1; i > 0 && i < n; i++)
		CHECK(strcmp(list[i - 1], list[i]) < 0);
	CHECK(ki->tracepoint_list(ki, "sched", "sched_switch", a, &list) == 1 &&
	      !strcmp(list[0], "sched:sched_switch"));
	CHECK(ki->tracepoint_list(ki, "ftrace", "*", a, &list) == 0);
	CHECK(ki->tracepoint_list(ki, "no_such_category", "*", a, &list) == 0);
	CHECK(ki->tracepoint_format(ki, "sched", "sched_switch", a, &f) == 0);
	CHECK(find_field(&f, "prev_comm") && find_field(&f, "prev_comm")->array_len == 16);
	CHECK(ki->tracepoint_format(ki, "sched", "no_such_event", a, &f) == -ENOENT);
	CHECK(ki->tracepoint_format(ki, "no_such_category", "x", a, &f) == -ENOENT);
	CHECK(ki->tracepoint_format(ki, "sched", "enable", a, &f) == -ENOENT);
	CHECK(ki->tracepoint_format(ki, "..", "..", a, &f) == -ENOENT);
}

int main(void)
{
	struct arena a = { 0 };

	test_common_fields(&a);
	test_syscall_args(&a);
	test_arrays(&a);
	test_data_loc(&a);
	test_pointer_spellings(&a);
	test_multiline_print_fmt(&a);
	test_other_kernels(&a);
	test_malformed(&a);
	test_closest(&a);
	test_system(&a);
	arena_free(&a);
	if (failures)
		fprintf(stderr, "test_kernel_info: %d failure(s)\n", failures);
	return failures != 0;
}
