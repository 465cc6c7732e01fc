/* builtins.c: pid, tid, uid, gid, comm, nsecs, elapsed, cpu, numaid, rand,
 * cgroup, curtask, probe, func, retval, arg0..argN, args, kstack, ustack,
 * username, jiffies.
 *
 * Each builtin has a check hook (its type, and in which probes it exists)
 * and a lower hook (the helper call or context load).
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <sys/sysinfo.h>
#include <string.h>

#include "compiler/btf.h"
#include "compiler/codegen.h"
#include "compiler/udwarf.h"
#include "compiler/uelf.h"
#include "runtime/provider.h"
#include "stdlib/stdlib.h"

/* struct pt_regs on x86_64: offsets of the argument and return registers */

static bool is_kind(struct sema *s, enum pd_probe_kind k)
{
	return s->cur && s->cur->kind == k;
}

/* Does the current probe's provider offer all of these PV_B_* builtins
 * (runtime/provider.h)? */
static bool offers(struct sema *s, unsigned builtins)
{
	return s->cur && (pv_by_kind(s->cur->kind)->builtins & builtins) == builtins;
}

static bool has_regs(struct sema *s)
{
	return offers(s, PV_B_REGS);
}

/* cpid: the -c child's pid, a constant of the compiled program */
static struct type *t_cpid(struct sema *s, struct node *n)
{
	if (!s->opts.has_child) {
		sema_error(s, n->span, "cpid cannot be used without child command (-c)");
		return &type_none;
	}
	return &type_u32;
}

static LLVMValueRef l_cpid(struct cg *g, struct node *n)
{
	(void)n;
	return cg_const(g, g->opts.cpid);
}

static struct type *t_u64(struct sema *s, struct node *n)
{
	(void)s, (void)n;
	return &type_u64;
}

static struct type *t_u32(struct sema *s, struct node *n)
{
	(void)s, (void)n;
	return &type_u32;
}

static LLVMValueRef pid_tgid(struct cg *g)
{
	return cg_helper(g, BPF_FUNC_get_current_pid_tgid, g->i64, NULL, 0);
}

static LLVMValueRef l_pid(struct cg *g, struct node *n)
{
	(void)n;
	/* opaque: LLVM turns `(x >> 32) == 1` into a compare of x masked
	 * with 0xffffffff00000000 against 1 << 32, two 64-bit constants */
	return cg_opaque(g, LLVMBuildLShr(g->b, pid_tgid(g), cg_const(g, 32), "pid"));
}

static LLVMValueRef l_tid(struct cg *g, struct node *n)
{
	(void)n;
	return LLVMBuildAnd(g->b, pid_tgid(g), cg_const(g, 0xffffffff), "tid");
}

static LLVMValueRef l_uid(struct cg *g, struct node *n)
{
	(void)n;
	LLVMValueRef v = cg_helper(g, BPF_FUNC_get_current_uid_gid, g->i64, NULL, 0);
	return LLVMBuildAnd(g->b, v, cg_const(g, 0xffffffff), "uid");
}

static LLVMValueRef l_gid(struct cg *g, struct node *n)
{
	(void)n;
	LLVMValueRef v = cg_helper(g, BPF_FUNC_get_current_uid_gid, g->i64, NULL, 0);
	return cg_opaque(g, LLVMBuildLShr(g->b, v, cg_const(g, 32), "gid")); /* as pid */
}

static struct type *t_comm(struct sema *s, struct node *n)
{
	(void)n;
	return type_str(s->arena, 16);
}

static LLVMValueRef l_comm(struct cg *g, struct node *n)
{
	(void)n;
	LLVMValueRef slot = cg_dest(g, 16);
	cg_zero(g, slot, 16);
	LLVMValueRef args[2] = { slot, LLVMConstInt(g->i32, 16, 0) };
	cg_check_helper(g, BPF_FUNC_get_current_comm,
			cg_helper(g, BPF_FUNC_get_current_comm, g->i64, args, 2));
	return slot;
}

static LLVMValueRef l_nsecs(struct cg *g, struct node *n)
{
	(void)n;
	return cg_helper(g, BPF_FUNC_ktime_get_ns, g->i64, NULL, 0);
}

/* elapsed: ns since trace started; the start time is a constant of the
 * program, since we compile right before loading */
static LLVMValueRef l_elapsed(struct cg *g, struct node *n)
{
	return LLVMBuildSub(g->b, l_nsecs(g, n), cg_const(g, g->opts.start_ns), "elapsed");
}

static LLVMValueRef helper_u32(struct cg *g, int id)
{
	LLVMValueRef v = cg_helper(g, id, g->i64, NULL, 0);
	return LLVMBuildAnd(g->b, v, cg_const(g, 0xffffffff), "");
}

static LLVMValueRef l_cpu(struct cg *g, struct node *n)
{
	(void)n;
	return helper_u32(g, BPF_FUNC_get_smp_processor_id);
}

static LLVMValueRef l_numaid(struct cg *g, struct node *n)
{
	(void)n;
	return helper_u32(g, BPF_FUNC_get_numa_node_id);
}

static LLVMValueRef l_rand(struct cg *g, struct node *n)
{
	(void)n;
	return helper_u32(g, BPF_FUNC_get_prandom_u32);
}

static LLVMValueRef l_cgroup(struct cg *g, struct node *n)
{
	(void)n;
	if (cg_breaks(g, "helper-type")) /* the socket-buffer variant: not for tracing */
		return cg_helper(g, BPF_FUNC_skb_cgroup_id, g->i64, &g->ctx_arg, 1);
	return cg_helper(g, BPF_FUNC_get_current_cgroup_id, g->i64, NULL, 0);
}

/* struct task_struct *, known by name until a field is read (BTF is
 * loaded only then) */
/* ctx: the program's context. In iter:NAME probes it is the iterator's
 * struct bpf_iter__NAME * (ctx->task, ctx->file, ctx->fd ...), typed
 * from BTF; elsewhere its address as an integer, as in bpftrace. */
static struct type *t_ctxptr(struct sema *s, struct node *n)
{
	(void)n;
	if (is_kind(s, PD_PROBE_ITER))
		return type_ptr(s->arena,
				kbtf_lazy_struct(s->arena, arena_printf(s->arena, "bpf_iter__%s",
									s->cur->func)),
				false);
	return &type_u64;
}

static struct type *t_curtask(struct sema *s, struct node *n)
{
	(void)n;
	if (!s->task_struct)
		s->task_struct = kbtf_lazy_struct(s->arena, "task_struct");
	return type_ptr(s->arena, s->task_struct, false);
}

static LLVMValueRef l_curtask(struct cg *g, struct node *n)
{
	(void)n;
	return cg_helper(g, BPF_FUNC_get_current_task, g->i64, NULL, 0);
}

static LLVMValueRef l_jiffies(struct cg *g, struct node *n)
{
	(void)n;
	return cg_helper(g, BPF_FUNC_jiffies64, g->i64, NULL, 0);
}

static struct type *t_probe(struct sema *s, struct node *n)
{
	(void)s, (void)n;
	return &type_probe;
}

static LLVMValueRef l_probe(struct cg *g, struct node *n)
{
	(void)n;
	if (g->probe->raw_syscall) /* one program for many syscall events */
		return cg_syscall_probe(g);
	if (g->probe->probe_cookie) { /* kprobes sharing a program: the runtime
					 sets each one's probe index as cookie */
		LLVMValueRef ctx = g->ctx_arg;
		return cg_helper(g, BPF_FUNC_get_attach_cookie, g->i64, &ctx, 1);
	}
	return cg_const(g, (uint64_t)g->probe->probe_id);
}

/* fentry:F or fexit:F that became kprobe:F or kretprobe:F on a kernel
 * without trampolines (probes.c): `args` and `retval` keep their BTF
 * types and are read from the registers. */
static bool fell_back_to_kprobe(struct sema *s)
{
	const char *prov = s->cur && s->cur->attach ? s->cur->attach->attach.provider : "";
	return (is_kind(s, PD_PROBE_KPROBE) || is_kind(s, PD_PROBE_KRETPROBE)) &&
	       (!strcmp(prov, "fentry") || !strcmp(prov, "fexit"));
}

static bool has_u64_args(struct sema *s)
{
	return offers(s, PV_B_U64ARGS) || fell_back_to_kprobe(s);
}

/* fentry/fexit/rawtracepoint: `args` from the function's (the raw
 * tracepoint's btf_trace_NAME) BTF prototype, made on first use; the
 * return type of fexit's function is the context's elem. */
static struct type *btf_args(struct sema *s, struct node *n)
{
	struct sema_probe *sp = s->cur;
	if (sp->ctx)
		return sp->ctx;
	struct kbtf *kb = sema_btf(s, n->span, "the arguments of fentry, fexit and rawtracepoint probes");
	if (!kb)
		return NULL;
	const char *why = "";
	struct type *ret = NULL;
	struct type *ctx = sp->kind == PD_PROBE_RAWTP ? kbtf_rawtp_ctx(kb, sp->func, &why)
						     : kbtf_func_ctx(kb, sp->func, &ret, &why);
	if (!ctx) {
		sema_error(s, n->span, "no argument types for %s: %s", sp->name, why);
		return NULL;
	}
	if (fell_back_to_kprobe(s) && ctx->nfields > 6 && !s->quiet) {
		sema_error(s, n->span, "%s has %u arguments; as a kprobe (this kernel has no "
				       "fentry/fexit) only the first 6, passed in registers, can be read",
			   sp->func, ctx->nfields);
		return NULL;
	}
	ctx->elem = ret;
	sp->ctx = ctx;
	return ctx;
}

/* uprobe: `args` from the function's DWARF parameters (udwarf.c), read
 * from the argument registers: the first 6 (a later one is "no field"),
 * as a fentry's stand-in kprobe reads them. Made on first use. */
static struct type *dwarf_args(struct sema *s, struct node *n)
{
	struct sema_probe *sp = s->cur;
	struct udwarf_param *ps;
	const char *why = "";
	if (sp->ctx)
		return sp->ctx;
	int k = udwarf_params(s->arena, sp->target, sp->func, &ps, &why);
	if (k < 0) {
		sema_error(s, n->span, "no argument types for %s: %s", sp->name,
			   k == -ENOENT ? why : strerror(-k));
		return NULL;
	}
	struct type *t = arena_alloc(s->arena, sizeof(*t));
	t->kind = TY_CTX;
	t->align = 8;
	t->ctx_u64_args = true;
	t->fields = arena_alloc(s->arena, (size_t)(k + 1) * sizeof(*t->fields));
	for (int i = 0; i < k && i < 6; i++) {
		struct type_field *f = &t->fields[t->nfields++];
		f->name = *ps[i].name ? ps[i].name : arena_printf(s->arena, "arg%d", i);
		f->type = ps[i].type;
		f->offset = (uint32_t)i * 8;
	}
	t->size = t->nfields * 8;
	sp->ctx = t;
	return t;
}

static struct type *t_ctx(struct sema *s, struct node *n)
{
	if (is_kind(s, PD_PROBE_UPROBE)) {
		struct type *t = dwarf_args(s, n);
		return t ? t : &type_none;
	}
	if (is_kind(s, PD_PROBE_KRETPROBE) && fell_back_to_kprobe(s)) {
		sema_error(s, n->span, "'args' is not available in %s: this kernel has no fexit, "
				       "and the kretprobe that stands in for it cannot see the arguments",
			   s->cur->name);
		return &type_none;
	}
	if (s->cur && has_u64_args(s)) {
		struct type *t = btf_args(s, n);
		return t ? t : &type_none;
	}
	if (s->cur && s->cur->ctx)
		return s->cur->ctx;
	if (s->cur && s->cur->kind == PD_PROBE_TRACEPOINT)
		return &type_none; /* format could not be read: reported already */
	sema_error(s, n->span, "'args' is not available in %s probes",
		   s->cur ? s->cur->attach->attach.provider : "these");
	return &type_none;
}

static LLVMValueRef l_ctx(struct cg *g, struct node *n)
{
	(void)n;
	return LLVMBuildPtrToInt(g->b, g->ctx_arg, g->i64, "");
}

static struct type *t_retval(struct sema *s, struct node *n)
{
	if (is_kind(s, PD_PROBE_FEXIT) || (is_kind(s, PD_PROBE_KRETPROBE) && fell_back_to_kprobe(s))) {
		/* after the last argument, typed as the function returns */
		struct type *t = btf_args(s, n);
		if (!t)
			return &type_none;
		if (!t->elem || t->elem->kind == TY_VOID) {
			sema_error(s, n->span, "'retval': %s returns void", s->cur->func);
			return &type_none;
		}
		return t->elem;
	}
	if (offers(s, PV_B_REGS | PV_B_RETURN))
		return &type_s64;
	sema_error(s, n->span, "'retval' is only available in return probes "
			       "(kretprobe, uretprobe, fexit)");
	return &type_none;
}

static LLVMValueRef l_retval(struct cg *g, struct node *n)
{
	if (g->probe->kind == PD_PROBE_FEXIT)
		return cg_narrow(g, cg_load_ctx(g, g->probe->ctx->size, 8, false), n->type);
	if (g->probe->kind == PD_PROBE_KRETPROBE && g->probe->ctx) /* a fexit's stand-in */
		return cg_narrow(g, cg_load_ctx(g, CG_REGS_AX, 8, false), n->type);
	return cg_load_ctx(g, CG_REGS_AX, 8, true);
}

static int arg_index(const char *name)
{
	return atoi(name + 3);
}

static struct type *t_arg(struct sema *s, struct node *n)
{
	int i = arg_index(n->ident.name);
	if (is_kind(s, PD_PROBE_RAWTP)) /* the raw tracepoint's u64 arguments */
		return &type_u64;
	/* fentry: a kprobe that fell back to fentry on a kernel without
	 * kprobes (probes.c) keeps its argN, read from the trampoline's
	 * argument array */
	bool fentry = is_kind(s, PD_PROBE_FENTRY) && s->cur->attach &&
		      !strcmp(s->cur->attach->attach.provider, "kprobe");
	if (is_kind(s, PD_PROBE_USDT)) { /* from the location's spec (.note.stapsdt) */
		struct uelf_usdt_arg a;
		const char *why;
		int err = uelf_usdt_arg(s->cur->usdt_args ? s->cur->usdt_args : "", i, &a, &why);
		if (err == -ENOENT) {
			sema_error(s, n->span, "'%s': %s has fewer arguments", n->ident.name,
				   s->cur->name);
			return &type_none;
		}
		if (err) {
			sema_error(s, n->span, "'%s' of %s is %s ('%s'): not supported",
				   n->ident.name, s->cur->name, why, s->cur->usdt_args);
			return &type_none;
		}
		return a.is_signed ? &type_s64 : &type_u64;
	}
	if ((!has_regs(s) && !fentry) || offers(s, PV_B_REGS | PV_B_RETURN)) {
		sema_error(s, n->span, "'%s' is only available in kprobe and uprobe probes%s",
			   n->ident.name,
			   s->cur && s->cur->kind == PD_PROBE_TRACEPOINT ? "; use args->NAME" : "");
		return &type_none;
	}
	if (i > 5) {
		sema_error(s, n->span, "only arg0 to arg5 are passed in registers");
		return &type_none;
	}
	return &type_u64;
}

/* v cut to size bytes and extended back to 64 bits by its sign */
static LLVMValueRef extend(struct cg *g, LLVMValueRef v, int size, bool is_signed)
{
	if (size >= 8)
		return v;
	v = LLVMBuildTrunc(g->b, v, LLVMIntTypeInContext(g->ctx, (unsigned)size * 8), "");
	return is_signed ? LLVMBuildSExt(g->b, v, g->i64, "") : LLVMBuildZExt(g->b, v, g->i64, "");
}

/* A USDT argument: a register, a constant, or memory at base + index *
 * scale + disp read from user memory (x86-64 operands, uelf.c). */
static LLVMValueRef usdt_arg(struct cg *g, int i)
{
	struct uelf_usdt_arg a;
	const char *why;
	uelf_usdt_arg(g->probe->usdt_args, i, &a, &why); /* checked by sema */
	if (a.kind == UELF_ARG_IMM)
		return cg_const(g, (uint64_t)a.value);
	LLVMValueRef v = cg_load_ctx(g, (uint32_t)a.reg, 8, false);
	if (a.kind == UELF_ARG_MEM) {
		if (a.index >= 0)
			v = LLVMBuildAdd(g->b, v,
					 LLVMBuildMul(g->b,
						      cg_load_ctx(g, (uint32_t)a.index, 8, false),
						      cg_const(g, (uint64_t)a.scale), ""),
					 "");
		v = LLVMBuildAdd(g->b, v, cg_const(g, (uint64_t)a.value), "");
		LLVMValueRef slot = cg_slot(g, 8, false);
		cg_zero(g, slot, 8); /* a failed read gives 0 */
		cg_probe_read(g, slot, (uint32_t)a.size, v, true);
		v = LLVMBuildLoad2(g->b, g->i64, slot, "");
		LLVMSetAlignment(v, 8);
	}
	return extend(g, v, a.size, a.is_signed);
}

static LLVMValueRef l_arg(struct cg *g, struct node *n)
{
	int i = arg_index(n->ident.name);
	if (g->probe->kind == PD_PROBE_USDT)
		return usdt_arg(g, i);
	if (g->probe->kind == PD_PROBE_RAWTP || g->probe->kind == PD_PROBE_FENTRY)
		return cg_load_ctx(g, (uint32_t)i * 8, 8, false); /* u64 args[] */
	return cg_load_ctx(g, cg_regs_arg_off[i], 8, false);
}

/* sarg0..sarg9: stack arguments at the function's entry (x86-64: after
 * the six register ones, above the return address), kprobes and uprobes */
static struct type *t_sarg(struct sema *s, struct node *n)
{
	if (!has_regs(s) || offers(s, PV_B_REGS | PV_B_RETURN)) {
		sema_error(s, n->span, "'%s' is only available in kprobe and uprobe probes",
			   n->ident.name);
		return &type_none;
	}
	return &type_u64;
}

static LLVMValueRef l_sarg(struct cg *g, struct node *n)
{
	int i = atoi(n->ident.name + 4);
	LLVMValueRef sp = cg_load_ctx(g, CG_REGS_SP, 8, false);
	LLVMValueRef addr = LLVMBuildAdd(g->b, sp, cg_const(g, 8 * ((uint64_t)i + 1)), "sarg");
	LLVMValueRef slot = cg_slot(g, 8, false);
	cg_zero(g, slot, 8); /* a failed read leaves 0 */
	cg_probe_read(g, slot, 8, addr, g->probe->kind != PD_PROBE_KPROBE);
	LLVMValueRef v = LLVMBuildLoad2(g->b, g->i64, slot, "");
	LLVMSetAlignment(v, 8);
	return v;
}

static struct type *t_func(struct sema *s, struct node *n)
{
	if (offers(s, PV_B_FUNC))
		return &type_ksym;
	/* uprobes: each probe is one function, known here (probes.c); a
	 * string of the script's string size, so that the expansions of a
	 * wildcard agree on one type */
	if (is_kind(s, PD_PROBE_UPROBE) || is_kind(s, PD_PROBE_URETPROBE))
		return type_str(s->arena, s->opts.strlen ? s->opts.strlen : 64);
	sema_error(s, n->span, "'func' is only available in kprobe and fentry probes");
	return &type_none;
}

static LLVMValueRef l_func(struct cg *g, struct node *n)
{
	(void)n;
	if (g->probe->kind == PD_PROBE_UPROBE || g->probe->kind == PD_PROBE_URETPROBE) {
		/* the name, cut or zero-padded to the type's size */
		uint32_t max = n->type->size - 1;
		char *buf = arena_alloc(g->arena, max + 1);
		memset(buf, 0, max + 1);
		strncpy(buf, g->probe->func, max);
		return cg_string_lit(g, buf, max);
	}
	/* A kretprobe's ip is the return address, and kprobe_multi's regs
	 * are ftrace's: the helper knows the traced function (5.15). */
	if (g->probe->kind != PD_PROBE_KPROBE || g->probe->multi) {
		LLVMValueRef ctx = g->ctx_arg;
		return cg_helper(g, BPF_FUNC_get_func_ip, g->i64, &ctx, 1);
	}
	return cg_load_ctx(g, CG_REGS_IP, 8, false);
}

/* kstack, ustack: 127 frames in the mode STACK_MODE sets (bpftrace's) */
static struct type *t_kstack(struct sema *s, struct node *n)
{
	(void)n;
	return s->opts.stack_mode == PD_STACK_BPFTRACE ? &type_kstack
						      : type_stack(s->arena, false, 127, s->opts.stack_mode);
}

static LLVMValueRef l_kstack(struct cg *g, struct node *n)
{
	return stdlib_lower_stack(g, n->type);
}

static struct type *t_ustack(struct sema *s, struct node *n)
{
	(void)n;
	return s->opts.stack_mode == PD_STACK_BPFTRACE ? &type_ustack
						      : type_stack(s->arena, true, 127, s->opts.stack_mode);
}

static struct type *t_username(struct sema *s, struct node *n)
{
	(void)s, (void)n;
	return &type_username;
}

/* ncpus: the CPUs online when the script is compiled (right before it
 * runs), as bpftrace */
static LLVMValueRef l_ncpus(struct cg *g, struct node *n)
{
	(void)n;
	int k = get_nprocs();
	return cg_const(g, (uint64_t)(k > 0 ? k : 1));
}

const struct stdlib_builtin stdlib_builtins[] = {
	{ "pid", t_u32, l_pid },
	{ "tid", t_u32, l_tid },
	{ "cpid", t_cpid, l_cpid },
	{ "uid", t_u32, l_uid },
	{ "gid", t_u32, l_gid },
	{ "comm", t_comm, l_comm },
	{ "nsecs", t_u64, l_nsecs },
	{ "elapsed", t_u64, l_elapsed },
	{ "cpu", t_u32, l_cpu },
	{ "numaid", t_u32, l_numaid },
	{ "rand", t_u32, l_rand },
	{ "cgroup", t_u64, l_cgroup },
	{ "curtask", t_curtask, l_curtask },
	{ "jiffies", t_u64, l_jiffies },
	{ "ncpus", t_u64, l_ncpus },
	{ "probe", t_probe, l_probe },
	{ "args", t_ctx, l_ctx },
	{ "ctx", t_ctxptr, l_ctx },
	{ "retval", t_retval, l_retval },
	{ "func", t_func, l_func },
	{ "kstack", t_kstack, l_kstack },
	{ "ustack", t_ustack, l_kstack },
	{ "username", t_username, l_uid },
	{ "arg0", t_arg, l_arg }, { "arg1", t_arg, l_arg }, { "arg2", t_arg, l_arg },
	{ "arg3", t_arg, l_arg }, { "arg4", t_arg, l_arg }, { "arg5", t_arg, l_arg },
	{ "arg6", t_arg, l_arg }, { "arg7", t_arg, l_arg }, { "arg8", t_arg, l_arg },
	{ "arg9", t_arg, l_arg },
	{ "sarg0", t_sarg, l_sarg }, { "sarg1", t_sarg, l_sarg }, { "sarg2", t_sarg, l_sarg },
	{ "sarg3", t_sarg, l_sarg }, { "sarg4", t_sarg, l_sarg }, { "sarg5", t_sarg, l_sarg },
	{ "sarg6", t_sarg, l_sarg }, { "sarg7", t_sarg, l_sarg }, { "sarg8", t_sarg, l_sarg },
	{ "sarg9", t_sarg, l_sarg },
	{ NULL, NULL, NULL },
};

