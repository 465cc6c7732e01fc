/* test_sema.c: the checker (sema_check) against a fake kernel.
 *
 * Scripts are parsed with parse_program() and checked with sema_check()
 * through a fake struct kernel_info whose tracepoint_format and
 * tracepoint_list return canned data (format texts copied from tracefs on
 * the development machine, parsed by ki_parse_tp_format), so no root and
 * no tracefs are needed. Checked: expression types (kind, size,
 * signedness), map signatures from sema_find_map (string keys unify to
 * the larger size, integers widen to 64 bits, tuple keys are laid out
 * with C alignment), wildcard expansion and program groups, which
 * expansions read a format file, and how many errors bad scripts get.
 * Exits non-zero if any CHECK fails.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/parse.h"
#include "compiler/sema.h"

#include "tests/unit/check.h"

/* ---- the fake kernel ------------------------------------------------------ */

#define COMMON_FIELDS                                                                  \
	"name: x\nID: 1\nformat:\n"                                                    \
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"         \
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"         \
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n" \
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"

/* events/syscalls/sys_enter_openat/format (Linux 6.18, x86_64) */
static const char fmt_openat[] = COMMON_FIELDS
	"\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
	"\tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;\n"
	"\tfield:int flags;\toffset:32;\tsize:8;\tsigned:0;\n"
	"\tfield:umode_t mode;\toffset:40;\tsize:8;\tsigned:0;\n\n"
	"print fmt: \"\"\n";

/* events/sched/sched_switch/format */
static const char fmt_sched_switch[] = COMMON_FIELDS
	"\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n"
	"\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n"
	"\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n"
	"\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;\n"
	"\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;\n"
	"\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;\n"
	"\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;\n\n"
	"print fmt: \"\"\n";

/* events/raw_syscalls/sys_enter/format */
static const char fmt_raw_enter[] = COMMON_FIELDS
	"\tfield:long id;\toffset:8;\tsize:8;\tsigned:1;\n"
	"\tfield:unsigned long args[6];\toffset:16;\tsize:48;\tsigned:0;\n\n"
	"print fmt: \"\"\n";

/* made up: a __data_loc string, and events that differ in one field */
static const char fmt_dataloc[] = COMMON_FIELDS
	"\tfield:__data_loc char[] name;\toffset:8;\tsize:4;\tsigned:0;\n"
	"\tfield:u32 len;\toffset:12;\tsize:4;\tsigned:0;\n\n"
	"print fmt: \"\"\n";
static const char fmt_ev_a[] = COMMON_FIELDS "\tfield:u64 a;\toffset:8;\tsize:8;\tsigned:0;\n\n"
					     "print fmt: \"\"\n";
static const char fmt_ev_b[] = COMMON_FIELDS "\tfield:u64 b;\toffset:8;\tsize:8;\tsigned:0;\n\n"
					     "print fmt: \"\"\n";

static const struct {
	const char *name; /* "cat:name" */
	const char *format;
} fake_tps[] = {
	{ "fake:dataloc", fmt_dataloc },
	{ "fake:ev0", fmt_ev_a },
	{ "fake:ev1", fmt_ev_a },
	{ "fake:ev2", fmt_ev_a },
	{ "fake:ev3", fmt_ev_a },
	{ "fake:ev4", fmt_ev_a },
	{ "mixed:has_a", fmt_ev_a },
	{ "mixed:has_b", fmt_ev_b },
	{ "raw_syscalls:sys_enter", fmt_raw_enter },
	{ "sched:sched_switch", fmt_sched_switch },
	{ "syscalls:sys_enter_openat", fmt_openat },
	{ "syscalls:sys_exit_openat", fmt_ev_a },
};
#define NFAKE ((int)(sizeof(fake_tps) / sizeof(fake_tps[0])))

static int format_calls; /* tracepoint_format calls since the last reset */

static int fake_format(struct kernel_info *ki, const char *cat, const char *name, struct arena *a,
		       struct tp_format *out)
{
	char full[256];

	(void)ki;
	format_calls++;
	snprintf(full, sizeof(full), "%s:%s", cat, name);
	for (int i = 0; i < NFAKE; i++)
		if (!strcmp(fake_tps[i].name, full))
			return ki_parse_tp_format(fake_tps[i].format, a, out);
	return -ENOENT;
}

/* fake_tps is sorted, so the matches come out sorted too */
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

static struct kernel_info fake_ki = { .tracepoint_format = fake_format, .tracepoint_list = fake_list };

/* ---- running the checker ---------------------------------------------------- */

struct checked {
	struct source *src;
	struct arena arena;
	struct diag diag;
	struct sema sema;
	struct node *prog;
	int rc;	      /* sema_check's result; -2 if parsing failed */
	char *errors; /* the diagnostics as printed */
};

static void check_opts(struct checked *r, const char *text, const struct sema_opts *opts)
{
	size_t n = 0;
	FILE *f;

	memset(r, 0, sizeof(*r));
	r->src = src_new("p.bt", text, strlen(text));
	f = open_memstream(&r->errors, &n);
	diag_init(&r->diag, r->src, f);
	r->diag.max_errors = 0; /* count them all */
	format_calls = 0;
	r->prog = parse_program(r->src, &r->arena, &r->diag);
	if (!r->prog || diag_has_errors(&r->diag))
		r->rc = -2;
	else
		r->rc = sema_check(&r->sema, r->prog, &fake_ki, &r->diag, &r->arena, opts);
	fclose(f);
	if (r->rc == -2)
		fprintf(stderr, "parse failed: %s\n%s", text, r->errors);
}

static void check(struct checked *r, const char *text)
{
	struct sema_opts opts = { 0 };

	check_opts(r, text, &opts);
}

static void done(struct checked *r)
{
	arena_free(&r->arena);
	src_free(r->src);
	free(r->errors);
}

static bool has_error(const struct checked *r, const char *needle)
{
	return r->errors && strstr(r->errors, needle);
}

/* The idx-th statement (from 0) of the body of the p-th probe. */
static struct node *stmt(const struct checked *r, int p, int idx)
{
	struct node *probe = r->prog->program.probes, *s;

	while (probe && p--)
		probe = probe->next;
	if (!probe)
		return NULL;
	for (s = probe->probe.body->block.stmts; s && idx--; s = s->next)
		;
	return s;
}

/* The type of the value assigned (or the expression) of a statement. */
static const struct type *value_type(const struct checked *r, int p, int idx)
{
	struct node *s = stmt(r, p, idx);

	if (!s)
		return &type_void;
	if (s->kind == N_ASSIGN)
		return s->assign.value->type ? s->assign.value->type : &type_void;
	if (s->kind == N_EXPR_STMT)
		return s->stmt.expr->type ? s->stmt.expr->type : &type_void;
	return &type_void;
}

/* The type the target of an assignment statement got. */
static const struct type *target_type(const struct checked *r, int p, int idx)
{
	struct node *s = stmt(r, p, idx);

	if (!s || s->kind != N_ASSIGN || !s->assign.target->type)
		return &type_void;
	return s->assign.target->type;
}

static bool is_int(const struct type *t, uint32_t size, bool is_signed)
{
	return t && t->kind == TY_INT && t->size == size && t->is_signed == is_signed;
}

static bool is_str(const struct type *t, uint32_t size)
{
	return t && t->kind == TY_STR && t->size == size;
}

static bool field_is(const struct type *tuple, uint32_t i, enum type_kind kind, uint32_t size,
		     uint32_t offset)
{
	return tuple && tuple->kind == TY_TUPLE && i < tuple->nfields &&
	       tuple->fields[i].type->kind == kind && tuple->fields[i].type->size == size &&
	       tuple->fields[i].offset == offset;
}

/* ---- expression types ------------------------------------------------------- */

static void test_builtins(void)
{
	struct checked r;

	check(&r, "BEGIN { $a = pid; $b = comm; $c = nsecs; $d = kstack; $e = probe;"
		  " $f = username; $g = cpu; $h = ustack; }");
	CHECK(r.rc == 0);
	CHECK(is_int(value_type(&r, 0, 0), 4, false));	/* pid: u32 */
	CHECK(is_int(target_type(&r, 0, 0), 4, false)); /* variables keep the width */
	CHECK(is_str(value_type(&r, 0, 1), 16));	/* comm */
	CHECK(is_str(target_type(&r, 0, 1), 16));
	CHECK(is_int(value_type(&r, 0, 2), 8, false)); /* nsecs */
	CHECK(value_type(&r, 0, 3)->kind == TY_KSTACK);
	CHECK(value_type(&r, 0, 4)->kind == TY_PROBE);
	CHECK(value_type(&r, 0, 5)->kind == TY_USERNAME);
	CHECK(is_int(value_type(&r, 0, 6), 4, false));
	CHECK(value_type(&r, 0, 7)->kind == TY_USTACK && value_type(&r, 0, 7)->size == 16);
	done(&r);

	check(&r, "kprobe:f { $a = arg0; $b = func; $c = str(arg1); $d = str(arg1, 7);"
		  " $e = str(arg1, 500); $f = kstack(perf, 3); }");
	CHECK(r.rc == 0);
	CHECK(is_int(value_type(&r, 0, 0), 8, false));
	CHECK(value_type(&r, 0, 1)->kind == TY_KSYM);
	CHECK(is_str(value_type(&r, 0, 2), SEMA_DEFAULT_STRLEN));
	CHECK(is_str(value_type(&r, 0, 3), 8)); /* 7 characters and the NUL */
	CHECK(is_str(value_type(&r, 0, 4), SEMA_DEFAULT_STRLEN));
	CHECK(value_type(&r, 0, 5)->kind == TY_KSTACK && value_type(&r, 0, 5)->stack_depth == 3 &&
	      value_type(&r, 0, 5)->stack_mode == PD_STACK_PERF);
	done(&r);
}

static void test_strlen_option(void)
{
	struct sema_opts opts = { .strlen = 32 };
	struct checked r;

	check_opts(&r, "kprobe:f { $a = str(arg0); $b = str(arg0, 100); $c = str(arg0, 10); }",
		   &opts);
	CHECK(r.rc == 0);
	CHECK(is_str(value_type(&r, 0, 0), 32));
	CHECK(is_str(value_type(&r, 0, 1), 32));
	CHECK(is_str(value_type(&r, 0, 2), 11));
	done(&r);

	/* __data_loc strings take the configured size too */
	check_opts(&r, "tracepoint:fake:dataloc { $n = args->name; $l = args->len; }", &opts);
	CHECK(r.rc == 0);
	CHECK(is_str(value_type(&r, 0, 0), 32));
	CHECK(is_int(value_type(&r, 0, 1), 4, false));
	done(&r);
}

static void test_literals_and_operators(void)
{
	struct checked r;

	check(&r, "BEGIN { $a = 1; $b = 18446744073709551615; $c = \"abc\"; $d = pid + tid;"
		  " $e = pid + -1; $f = pid < 2; $g = comm == \"x\"; $h = !pid; $i = -pid;"
		  " $j = (uint8)1; $k = ~(uint8)1; $l = (int16)pid + (int8)1; }");
	CHECK(r.rc == 0);
	CHECK(is_int(value_type(&r, 0, 0), 8, true));
	CHECK(is_int(value_type(&r, 0, 1), 8, false)); /* above INT64_MAX */
	CHECK(is_str(value_type(&r, 0, 2), 4));
	CHECK(is_int(value_type(&r, 0, 3), 8, false)); /* u32 + u32: u64 */
	CHECK(is_int(value_type(&r, 0, 4), 8, true));  /* signed if either is */
	CHECK(is_int(value_type(&r, 0, 5), 8, true));  /* comparisons: 0 or 1 */
	CHECK(is_int(value_type(&r, 0, 6), 8, true));
	CHECK(is_int(value_type(&r, 0, 7), 8, true));
	CHECK(is_int(value_type(&r, 0, 8), 8, true));
	CHECK(is_int(value_type(&r, 0, 9), 1, false));
	CHECK(is_int(target_type(&r, 0, 9), 1, false)); /* (uint8) wraps at 8 bits */
	CHECK(is_int(value_type(&r, 0, 10), 1, false));
	CHECK(is_int(value_type(&r, 0, 11), 8, true));
	done(&r);
}

static void test_ternaries_and_tuples(void)
{
	struct checked r;
	const struct type *t;

	check(&r, "BEGIN { $a = pid ? \"ab\" : comm; $b = pid ? (int8)1 : (uint32)2;"
		  " $c = pid ? (1, \"a\") : (2, \"abcd\"); $d = (pid, comm, \"x\");"
		  " $e = $d.1; $f = ((1, 2), \"x\").0.1; }");
	CHECK(r.rc == 0);
	CHECK(is_str(value_type(&r, 0, 0), 16)); /* the larger string */
	CHECK(is_int(value_type(&r, 0, 1), 8, true));
	t = value_type(&r, 0, 2);
	CHECK(t->kind == TY_TUPLE && t->nfields == 2);
	CHECK(field_is(t, 0, TY_INT, 8, 0));
	CHECK(field_is(t, 1, TY_STR, 5, 8));
	CHECK(t->size == 16);
	/* tuples are laid out as C structs: u32 pid is 4 bytes (bpftrace) */
	t = value_type(&r, 0, 3);
	CHECK(field_is(t, 0, TY_INT, 4, 0));
	CHECK(field_is(t, 1, TY_STR, 16, 4));
	CHECK(field_is(t, 2, TY_STR, 2, 20));
	CHECK(t->size == 24 && t->align == 8);
	CHECK(is_str(value_type(&r, 0, 4), 16));
	CHECK(is_int(value_type(&r, 0, 5), 8, true));
	done(&r);
}

static void test_positional_params(void)
{
	const char *params[] = { "42", "hello" };
	struct sema_opts opts = { .params = params, .nparams = 2 };
	struct checked r;

	check_opts(&r, "BEGIN { $a = $1; $b = $2; $c = $#; $d = $3; unroll ($1) { } }", &opts);
	CHECK(r.rc == 0);
	CHECK(is_int(value_type(&r, 0, 0), 8, true));
	CHECK(is_str(value_type(&r, 0, 1), 6));
	CHECK(is_int(value_type(&r, 0, 2), 8, true));
	CHECK(is_int(value_type(&r, 0, 3), 8, true)); /* missing: 0 */
	done(&r);
}

/* ---- map signatures ------------------------------------------------------ */

static void test_map_string_keys(void)
{
	struct checked r;
	struct sema_map *m;

	/* the key is the largest string seen, whichever use comes first */
	check(&r, "BEGIN { @m[\"a\"] = 1; @m[comm] = 2; }"
		  " END { @m[\"abcdefghijklmnopqrstuvwxyz\"] = 3; @r[\"x\"] = @m[\"b\"]; }");
	CHECK(r.rc == 0);
	m = sema_find_map(&r.sema, "@m");
	CHECK(m && is_str(m->key, 27));
	CHECK(m && is_int(m->value, 8, true));
	CHECK(m && m->has_key_use && !m->has_scalar_use);
	CHECK(m && m->first_use == stmt(&r, 0, 0)->assign.target);
	CHECK(sema_find_map(&r.sema, "@nope") == NULL);
	done(&r);

	/* string values unify the same way */
	check(&r, "BEGIN { @v = \"short\"; } END { @v = comm; }");
	CHECK(r.rc == 0);
	m = sema_find_map(&r.sema, "@v");
	CHECK(m && m->key == NULL && is_str(m->value, 16));
	done(&r);
}

static void test_map_int_widening(void)
{
	struct checked r;
	struct sema_map *m;

	check(&r, "BEGIN { @u[(uint8)1] = (uint16)2; @s[(int8)-1] = 1; @s[pid] = 2;"
		  " @w = (uint32)1; @w = (uint8)2; @n = (int8)1; @n = (uint64)2; }");
	CHECK(r.rc == 0);
	m = sema_find_map(&r.sema, "@u");
	CHECK(m && is_int(m->key, 8, false) && is_int(m->value, 8, false));
	m = sema_find_map(&r.sema, "@s");
	CHECK(m && is_int(m->key, 8, true)); /* signed if either use is */
	m = sema_find_map(&r.sema, "@w");
	CHECK(m && m->key == NULL && is_int(m->value, 8, false));
	m = sema_find_map(&r.sema, "@n");
	CHECK(m && is_int(m->value, 8, true));
	CHECK(r.sema.nmaps == 4);
	CHECK(r.sema.maps && !strcmp(r.sema.maps->name, "@u") && r.sema.maps->index == 0);
	done(&r);
}

static void test_map_tuple_keys(void)
{
	struct checked r;
	struct sema_map *m;

	check(&r,
	      "BEGIN { @a[pid, comm, (uint8)1] = 1; @b[\"ab\", pid] = 1;"
	      " @b[\"abcdefghij\", -1] = 2; @c[comm, \"x\"] = count(); @d[1, 2] = (pid, \"s\"); }");
	CHECK(r.rc == 0);
	/* u64 at 0, char[16] at 8, u64 aligned up to 24; 32 bytes */
	m = sema_find_map(&r.sema, "@a");
	CHECK(m && m->key && m->key->kind == TY_TUPLE && m->key->nfields == 3);
	CHECK(m && field_is(m->key, 0, TY_INT, 8, 0));
	CHECK(m && field_is(m->key, 1, TY_STR, 16, 8));
	CHECK(m && field_is(m->key, 2, TY_INT, 8, 24));
	CHECK(m && m->key->size == 32 && m->key->align == 8);
	/* field by field: char[11] at 0, s64 aligned up to 16; 24 bytes */
	m = sema_find_map(&r.sema, "@b");
	CHECK(m && field_is(m->key, 0, TY_STR, 11, 0));
	CHECK(m && field_is(m->key, 1, TY_INT, 8, 16));
	CHECK(m && m->key->fields[1].type->is_signed);
	CHECK(m && m->key->size == 24);
	/* strings are byte aligned; the whole is rounded up to 8 */
	m = sema_find_map(&r.sema, "@c");
	CHECK(m && field_is(m->key, 0, TY_STR, 16, 0));
	CHECK(m && field_is(m->key, 1, TY_STR, 2, 16));
	CHECK(m && m->key->size == 24);
	CHECK(m && m->value->kind == TY_AGG && m->value->agg == PD_AGG_COUNT);
	m = sema_find_map(&r.sema, "@d");
	/* a tuple value keeps its C layout: u32 at 0, char[2] at 4; 8 bytes
	 * (tuples are rounded up to 8) */
	CHECK(m && m->value->kind == TY_TUPLE && field_is(m->value, 0, TY_INT, 4, 0) &&
	      field_is(m->value, 1, TY_STR, 2, 4) && m->value->size == 8);
	done(&r);
}

static void test_map_aggregations(void)
{
	struct checked r;
	struct sema_map *m;

	check(&r, "kprobe:f { @c = count(); @h[comm] = hist(arg0); @l = lhist(arg0, 10, 110, 20);"
		  " @s = stats(arg1); @m[1] = max(arg2); }"
		  " kprobe:g { @l = lhist(arg1, 10, 110, 20); }"
		  " END { print(@h); clear(@c); delete(@m[5]); print(@l, 3, 2); }");
	CHECK(r.rc == 0);
	m = sema_find_map(&r.sema, "@c");
	CHECK(m && m->key == NULL && m->value->kind == TY_AGG && m->value->agg == PD_AGG_COUNT);
	m = sema_find_map(&r.sema, "@h");
	CHECK(m && is_str(m->key, 16) && m->value->agg == PD_AGG_HIST);
	m = sema_find_map(&r.sema, "@l");
	CHECK(m && m->value->agg == PD_AGG_LHIST);
	CHECK(m && m->lhist_min == 10 && m->lhist_max == 110 && m->lhist_step == 20);
	m = sema_find_map(&r.sema, "@s");
	CHECK(m && m->value->agg == PD_AGG_STATS);
	m = sema_find_map(&r.sema, "@m");
	CHECK(m && is_int(m->key, 8, true) && m->value->agg == PD_AGG_MAX);
	CHECK(r.sema.nmaps == 5);
	done(&r);
}

/* ---- tracepoints and probe expansion -------------------------------------- */

static void test_tracepoint_args(void)
{
	struct checked r;
	const struct type *t;

	check(&r, "tracepoint:syscalls:sys_enter_openat { $a = args->filename; $b = args->dfd;"
		  " $c = args->flags; $d = args->mode; $e = str(args->filename); }"
		  " tracepoint:sched:sched_switch { $a = args->prev_comm; $b = args->prev_pid;"
		  " $c = args->prev_state; }"
		  " tracepoint:raw_syscalls:sys_enter { $a = args->args; $b = args->args[5];"
		  " $c = args->id; }");
	CHECK(r.rc == 0);
	CHECK(r.sema.nprobes == 3);
	t = value_type(&r, 0, 0);
	CHECK(t->kind == TY_PTR && t->is_user && t->elem && is_int(t->elem, 1, true));
	CHECK(is_int(value_type(&r, 0, 1), 4, true)); /* int in an 8-byte slot */
	CHECK(is_int(value_type(&r, 0, 2), 4, true));
	CHECK(is_int(value_type(&r, 0, 3), 2, false)); /* umode_t */
	CHECK(is_str(value_type(&r, 0, 4), SEMA_DEFAULT_STRLEN));
	CHECK(r.sema.probes && r.sema.probes->user_ptrs);
	CHECK(r.sema.probes && r.sema.probes->ctx && r.sema.probes->ctx->kind == TY_CTX);
	/* common_* fields are left out of args */
	CHECK(r.sema.probes && r.sema.probes->ctx->nfields == 5);
	CHECK(is_str(value_type(&r, 1, 0), 16));
	CHECK(is_int(value_type(&r, 1, 1), 4, true));
	CHECK(is_int(value_type(&r, 1, 2), 8, true));
	CHECK(r.sema.probes && r.sema.probes->next && !r.sema.probes->next->user_ptrs);
	t = value_type(&r, 2, 0);
	CHECK(t->kind == TY_ARRAY && t->len == 6 && is_int(t->elem, 8, false));
	CHECK(is_int(value_type(&r, 2, 1), 8, false));
	CHECK(is_int(value_type(&r, 2, 2), 8, true));
	done(&r);
}

static void test_wildcard_expansion(void)
{
	struct checked r;
	struct sema_probe *sp;
	int i = 0;

	/* no args: one shared program, and no format file is read */
	check(&r, "tracepoint:fake:ev* { @ = count(); }");
	CHECK(r.rc == 0);
	CHECK(r.sema.nprobes == 5);
	CHECK(r.sema.ngroups == 1);
	CHECK(format_calls == 0);
	for (sp = r.sema.probes; sp; sp = sp->next, i++) {
		char want[32];

		snprintf(want, sizeof(want), "tracepoint:fake:ev%d", i);
		CHECK(!strcmp(sp->name, want));
		CHECK(!strcmp(sp->target, "fake"));
		CHECK(sp->kind == PD_PROBE_TRACEPOINT);
		CHECK(sp->index == i);
		CHECK(sp->group == 0);
		CHECK(sp->ctx == NULL);
	}
	CHECK(i == 5);
	done(&r);

	/* args: each expansion is typed (and gets a program) of its own */
	check(&r, "tracepoint:fake:ev* { @[args->a] = count(); }");
	CHECK(r.rc == 0);
	CHECK(r.sema.nprobes == 5 && r.sema.ngroups == 5);
	CHECK(format_calls == 5);
	for (sp = r.sema.probes, i = 0; sp; sp = sp->next, i++)
		CHECK(sp->group == i && sp->ctx != NULL);
	done(&r);

	/* probe names the expansion, so it cannot be shared either */
	check(&r, "tracepoint:fake:ev[0-2] { @[probe] = count(); }");
	CHECK(r.rc == 0);
	CHECK(r.sema.nprobes == 3 && r.sema.ngroups == 3);
	CHECK(format_calls == 0);
	done(&r);

	/* several blocks: BEGIN, a shared wildcard block, a single tracepoint,
	 * then two attach points on one block (not a wildcard: two groups) */
	check(&r, "BEGIN { } tracepoint:*:ev1,tracepoint:fake:ev[34] { @ = count(); }"
		  " tracepoint:sched:sched_switch { @s = count(); }"
		  " tracepoint:syscalls:sys_*_openat { @o = count(); }");
	CHECK(r.rc == 0);
	CHECK(r.sema.nprobes == 7);
	sp = r.sema.probes;
	CHECK(sp && sp->kind == PD_PROBE_BEGIN && sp->group == 0);
	sp = sp ? sp->next : NULL;
	CHECK(sp && !strcmp(sp->name, "tracepoint:fake:ev1") && sp->group == 1);
	sp = sp ? sp->next : NULL;
	CHECK(sp && !strcmp(sp->name, "tracepoint:fake:ev3") && sp->group == 1);
	sp = sp ? sp->next : NULL;
	CHECK(sp && !strcmp(sp->name, "tracepoint:fake:ev4") && sp->group == 1);
	sp = sp ? sp->next : NULL;
	CHECK(sp && !strcmp(sp->name, "tracepoint:sched:sched_switch") && sp->group == 2);
	sp = sp ? sp->next : NULL;
	CHECK(sp && !strcmp(sp->name, "tracepoint:syscalls:sys_enter_openat") && sp->group == 3);
	sp = sp ? sp->next : NULL;
	CHECK(sp && !strcmp(sp->name, "tracepoint:syscalls:sys_exit_openat") && sp->group == 3);
	CHECK(r.sema.ngroups == 4);
	done(&r);
}

static void test_tracepoint_errors(void)
{
	struct checked r;

	/* one expansion lacks the field: the error names that expansion */
	check(&r, "tracepoint:mixed:* { @[args->a] = count(); }");
	CHECK(r.rc == -1);
	CHECK(r.diag.nerrors == 1);
	CHECK(has_error(&r, "tracepoint:mixed:has_b has no field 'a'"));
	done(&r);

	check(&r, "tracepoint:syscalls:sys_enter_opnat { }");
	CHECK(r.rc == -1 && r.diag.nerrors == 1);
	CHECK(has_error(&r, "does not exist"));
	CHECK(has_error(&r, "did you mean tracepoint:syscalls:sys_enter_openat?"));
	done(&r);

	check(&r, "tracepoint:fake:zz* { }");
	CHECK(r.rc == -1 && r.diag.nerrors == 1);
	CHECK(has_error(&r, "no tracepoint matches 'fake:zz*'"));
	done(&r);

	check(&r, "tracepoint:syscalls:sys_enter_openat { @ = retval; @[arg0] = count(); }");
	CHECK(r.rc == -1 && r.diag.nerrors == 2);
	CHECK(has_error(&r, "use args->NAME"));
	done(&r);

	check(&r, "BEGIN { @ = args->x; }");
	CHECK(r.rc == -1 && r.diag.nerrors == 1);
	CHECK(has_error(&r, "'args' is not available in BEGIN probes"));
	done(&r);
}

static void test_timers(void)
{
	struct checked r;
	struct sema_probe *sp;

	check(&r, "interval:ms:100 { } interval:2 { } profile:hz:99 { } profile:us:500 { }");
	CHECK(r.rc == 0 && r.sema.nprobes == 4);
	sp = r.sema.probes;
	CHECK(sp && sp->kind == PD_PROBE_INTERVAL && sp->period_ns == 100000000ull &&
	      sp->freq == 0);
	sp = sp ? sp->next : NULL;
	CHECK(sp && sp->period_ns == 2000000000ull); /* the default unit is s */
	sp = sp ? sp->next : NULL;
	CHECK(sp && sp->kind == PD_PROBE_PROFILE && sp->freq == 99);
	sp = sp ? sp->next : NULL;
	CHECK(sp && sp->period_ns == 500000ull && sp->freq == 0);
	CHECK(r.sema.ngroups == 4);
	done(&r);
}

/* ---- scopes and error counts --------------------------------------------- */

static void test_scopes(void)
{
	struct checked r;

	/* sibling blocks may reuse a name with another type */
	check(&r,
	      "BEGIN { if (pid) { $x = 1; } else { $x = \"s\"; } while (1) { $y = 1; break; } }");
	CHECK(r.rc == 0);
	done(&r);

	check(&r, "BEGIN { if (pid) { $x = 1; } $y = $x; }");
	CHECK(r.rc == -1 && r.diag.nerrors == 1);
	CHECK(has_error(&r, "p.bt:1:35: error: variable '$x'"));
	done(&r);

	/* variables do not outlive their probe */
	check(&r, "BEGIN { $x = 1; } END { $y = $x; }");
	CHECK(r.rc == -1 && r.diag.nerrors == 1);
	done(&r);
}

struct error_case {
	const char *text;
	int nerrors;
	const char *needle; /* part of the first message */
};

static const struct error_case error_cases[] = {
	{ "BEGIN { $x = $y + 1; }", 1, "1:14: error: variable '$y' is used before" },
	{ "BEGIN { @m[1] = 1; @m[\"a\"] = 2; }", 1, "1:20: error: map @m key has type string[2]" },
	{ "BEGIN { @m[1] = 1; @m[1, 2] = 2; }", 1, "key has type (int64, int64) here" },
	{ "BEGIN { @v = 1; } END { @v = comm; }", 1, "map @v holds string[16] here" },
	/* the use that disagrees is reported (the note names the first) */
	{ "BEGIN { @m = 1; @m[pid] = 2; }", -1, "1:17: error: map @m is used with a key" },
	{ "BEGIN { count(); }", 1, "count() must be assigned to a map" },
	{ "BEGIN { @c = hist(1); $x = @c; }", 1, "its value cannot be read" },
	{ "BEGIN { printf(\"%d %s\\n\", pid); }", 1, "2 conversions but 1 argument" },
	{ "BEGIN { printf(\"%d\\n\", pid, tid); }", 1, "1 conversion but 2 arguments" },
	{ "BEGIN { $s = str(0, 1, 2); }", 1, "str() takes 1 to 2 arguments, not 3" },
	{ "BEGIN { @h = hist(); }", 1, "hist() takes 1 to 2 arguments, not 0" },
	{ "BEGIN { @l = lhist(pid, 0, 10); }", 1, "lhist() takes 4 arguments, not 3" },
	{ "BEGIN { $s = str(\"x\" + 1); }", 1, "invalid operands to '+'" },
	{ "BEGIN { @s = sum(\"a\"); }", 1, "sum() expects an integer" },
	{ "BEGIN { printf(\"%d\\n\", comm); }", 1, "%d expects an integer" },
	{ "BEGIN { $m = 9; @l = lhist(pid, 0, $m, 1); }", 1, "bounds must be constants" },
	{ "BEGIN { @l = lhist(pid, 0, 10, 1); } END { @l = lhist(pid, 0, 20, 1); }", 1,
	  "bounds differ" },
	{ "BEGIN { frob(); }", 1, "unknown function 'frob'" },
	{ "BEGIN { $x = pidd; }", 1, "unknown identifier 'pidd'" },
	{ "BEGIN { $x = str; }", 1, "str is a function: call it as str()" },
	{ "interval:m:5 { }", 1, "unknown time unit 'm'" },
	{ "BEGIN { $x = comm + 1; }", 1, "invalid operands to '+': string[16] and int64" },
	{ "BEGIN { if (comm == 1) { } }", 1, "invalid operands to '=='" },
	{ "BEGIN { $x = pid ? \"a\" : 1; }", 1, "the branches of '?:' have different types" },
	{ "BEGIN { $n = 1; unroll ($n) { } }", 1, "unroll needs a constant count" },
	{ "BEGIN { unroll (101) { } }", 1, "unroll needs a constant count" },
	{ "BEGIN { break; }", 1, "'break' outside of a loop" },
	{ "BEGIN { return 1; }", 1, "return in a probe takes no value" },
	{ "BEGIN { $t = (1, 2); $x = $t.2; }", 1, "tuple index '2' out of range" },
	{ "BEGIN { print(count()); }", 1, "count() can only be assigned to a map" },
	{ "BEGIN { @m[1] = 1; delete(@m); }", 1, "delete() needs a key" },
	{ "BEGIN { @m[1] = 1; clear(@m[1]); }", 1, "clear() takes a whole map" },
	{ "BEGIN { system(\"ls\"); }", 1, "needs --unsafe" },
	{ "BEGIN { $n = 2; $r = strncmp(comm, \"a\", $n); }", 1, "length must be a non-negative" },
	{ "BEGIN { $x = (int64)comm; }", 1, "cannot cast string[16] to int64" },
	{ "BEGIN { $x = *pid; }", 1, "cannot dereference uint32: not a pointer" },
	{ "BEGIN { @x = read; }", 1, "unknown identifier 'read'" },
	/* every error is reported, not just the first */
	{ "BEGIN { $a = $u; frob(); printf(\"%d\"); @m[1] = 1; @m[\"s\"] = 1; }", 4,
	  "variable '$u'" },
	/* an error in a tuple or key does not cascade */
	{ "BEGIN { @m[$u, 1] = ($v, 2); }", 2, "variable '$u'" },
};

static void test_error_cases(void)
{
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const struct error_case *c = &error_cases[i];
		struct checked r;
		bool ok;

		check(&r, c->text);
		ok = r.rc == -1 && (c->nerrors < 0 || r.diag.nerrors == c->nerrors) &&
		     has_error(&r, c->needle);
		if (!ok)
			fprintf(stderr,
				"case %zu: %s\n  rc %d, %d errors, wanted %d with \"%s\":\n%s", i,
				c->text, r.rc, r.diag.nerrors, c->nerrors, c->needle,
				r.errors ? r.errors : "");
		CHECK(ok);
		done(&r);
	}
}

static void test_unsafe(void)
{
	struct sema_opts opts = { .unsafe = true };
	struct checked r;

	check_opts(&r, "BEGIN { system(\"echo %d\", pid); }", &opts);
	CHECK(r.rc == 0);
	done(&r);
}

/* Good scripts stay good, and the walk is repeatable: every expression
 * gets a type, and a second sema_type_probe gives the same one. */
static void test_retype(void)
{
	struct checked r;
	const struct type *before;

	check(&r, "tracepoint:fake:ev* { @[args->a, comm] = count(); $s = str(args->a); }");
	CHECK(r.rc == 0);
	before = value_type(&r, 0, 1);
	for (struct sema_probe *sp = r.sema.probes; sp; sp = sp->next)
		sema_type_probe(&r.sema, sp);
	CHECK(r.diag.nerrors == 0);
	CHECK(is_str(before, SEMA_DEFAULT_STRLEN) &&
	      is_str(value_type(&r, 0, 1), SEMA_DEFAULT_STRLEN));
	done(&r);
}

int main(void)
{
	test_builtins();
	test_strlen_option();
	test_literals_and_operators();
	test_ternaries_and_tuples();
	test_positional_params();
	test_map_string_keys();
	test_map_int_widening();
	test_map_tuple_keys();
	test_map_aggregations();
	test_tracepoint_args();
	test_wildcard_expansion();
	test_tracepoint_errors();
	test_timers();
	test_scopes();
	test_error_cases();
	test_unsafe();
	test_retype();
	if (failures) {
		fprintf(stderr, "test_sema: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_sema: ok\n");
	return 0;
}
