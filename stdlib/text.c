/* text.c: strerror, strcontains, join, debugf, signal, pton, macaddr,
 * cgroupid, cgroup_path.
 *
 * Values that print as text carry only their raw bits in the probe (an
 * errno, 6 address bytes, a cgroup id): user space turns them into text
 * (runtime/format.c), as bpftrace 0.17 does. pton() and cgroupid() are
 * resolved here, at compile time. strcontains() is a bounded loop over the
 * two string slots (every index checked against the slot's size right
 * before the load, rule 4).
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "compiler/codegen.h"
#include "stdlib/stdlib.h"

/* join(): bpftrace 0.17's join_argnum and join_argsize */
#define JOIN_ARGS     PD_JOIN_ARGS
#define JOIN_ARG_SIZE 1024

static const char *tname(const struct type *t)
{
	static char buf[160];
	return type_name_str(t, buf, sizeof(buf));
}

static struct type type_strerror = { .kind = TY_STRERROR, .size = 8, .align = 8 };

static LLVMValueRef lower_passthrough(struct cg *g, struct node *call)
{
	return cg_expr(g, call->call.args);
}

static struct type *check_int_arg(struct sema *s, struct node *call, struct node *a)
{
	struct type *t = sema_expr(s, a);
	if (t->kind == TY_NONE)
		return t;
	if (t->kind != TY_INT) {
		sema_error(s, a->span, "%s() expects an integer, not %s", call->call.name, tname(t));
		return &type_none;
	}
	return t;
}

/* Is this pointer a user-space one? (as misc.c: typed pointers know; raw
 * integers follow the probe) */
static bool is_user_addr(struct sema_probe *sp, const struct type *t)
{
	if (t->kind == TY_PTR)
		return t->is_user;
	if (!sp)
		return false;
	return sp->kind == PD_PROBE_UPROBE || sp->kind == PD_PROBE_URETPROBE ||
	       sp->kind == PD_PROBE_USDT || sp->user_ptrs;
}

/* ---- strerror(errno): printed as the C library's message ---- */

static struct type *check_strerror(struct sema *s, struct node *call)
{
	struct type *t = check_int_arg(s, call, call->call.args);
	return t->kind == TY_NONE ? t : &type_strerror;
}

/* ---- strcontains(haystack, needle): 1 when needle occurs in haystack ----
 *
 * for (i = 0; i < H; i++) {
 *	for (j = 0; ; j++) {
 *		if (j == N || needle[j] == 0) return 1;
 *		if (i + j >= H || hay[i + j] != needle[j]) break;
 *	}
 *	if (hay[i] == 0) break;
 * }
 * return 0;
 *
 * H and N are the slot sizes, so the verifier sees every index bounded;
 * it walks at most H * N inner steps (4096 with 64-byte strings). */

static struct type *check_strcontains(struct sema *s, struct node *call)
{
	struct node *h = call->call.args, *n = h->next;
	struct type *th = sema_expr(s, h), *tn = sema_expr(s, n);
	if (th->kind == TY_NONE || tn->kind == TY_NONE)
		return &type_none;
	for (int i = 0; i < 2; i++) {
		struct type *t = i ? tn : th;
		if (t->kind != TY_STR) {
			sema_error(s, (i ? n : h)->span, "strcontains() expects strings: its %s is %s",
				   i ? "needle" : "haystack", tname(t));
			return &type_none;
		}
	}
	return &type_u64;
}

static LLVMValueRef load_byte_at(struct cg *g, LLVMValueRef base, LLVMValueRef idx)
{
	LLVMValueRef p = LLVMBuildGEP2(g->b, g->i8, base, &idx, 1, "");
	return LLVMBuildLoad2(g->b, g->i8, p, "");
}

static LLVMValueRef lower_strcontains(struct cg *g, struct node *call)
{
	struct node *hn = call->call.args, *nn = hn->next;
	/* two literals: known now (LLVM would fold the loops over them too,
	 * unrolled byte by byte: 0.3 s of optimization per call) */
	if (hn->kind == N_STR && nn->kind == N_STR)
		return cg_const(g, strstr(hn->str.value, nn->str.value) != NULL);
	LLVMValueRef hay = cg_expr(g, hn), needle = cg_expr(g, nn);
	uint64_t H = hn->type->size, N = nn->type->size;
	LLVMValueRef zero8 = LLVMConstInt(g->i8, 0, 0);
	LLVMBasicBlockRef pre = LLVMGetInsertBlock(g->b);
	LLVMBasicBlockRef outer = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "sc.outer");
	LLVMBasicBlockRef inner = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "sc.inner");
	LLVMBasicBlockRef cmp = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "sc.cmp");
	LLVMBasicBlockRef load = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "sc.load");
	LLVMBasicBlockRef step = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "sc.step");
	LLVMBasicBlockRef next = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "sc.next");
	LLVMBasicBlockRef found = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "sc.found");
	LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "sc.done");
	LLVMBuildBr(g->b, outer);

	/* outer: i < H */
	LLVMPositionBuilderAtEnd(g->b, outer);
	LLVMValueRef i = LLVMBuildPhi(g->b, g->i64, "sc.i");
	LLVMBasicBlockRef outer_in = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "sc.row");
	LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntULT, i, cg_const(g, H), ""), outer_in,
			done);
	LLVMPositionBuilderAtEnd(g->b, outer_in);
	LLVMBuildBr(g->b, inner);

	/* inner: j == N or needle[j] == 0: found */
	LLVMPositionBuilderAtEnd(g->b, inner);
	LLVMValueRef j = LLVMBuildPhi(g->b, g->i64, "sc.j");
	LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntULT, j, cg_const(g, N), ""), cmp, found);
	LLVMPositionBuilderAtEnd(g->b, cmp);
	LLVMValueRef nc = load_byte_at(g, needle, j);
	LLVMValueRef k = LLVMBuildAdd(g->b, i, j, "");
	LLVMValueRef in_hay = LLVMBuildICmp(g->b, LLVMIntULT, k, cg_const(g, H), "");
	LLVMBasicBlockRef cmp2 = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "sc.cmp2");
	LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, nc, zero8, ""), found, cmp2);
	LLVMPositionBuilderAtEnd(g->b, cmp2);
	LLVMBuildCondBr(g->b, in_hay, load, next);
	LLVMPositionBuilderAtEnd(g->b, load);
	LLVMValueRef hc = load_byte_at(g, hay, k);
	LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, hc, nc, ""), step, next);
	LLVMPositionBuilderAtEnd(g->b, step);
	LLVMValueRef j1 = LLVMBuildAdd(g->b, j, cg_const(g, 1), "");
	LLVMBuildBr(g->b, inner);
	LLVMValueRef jv[2] = { cg_const(g, 0), j1 };
	LLVMBasicBlockRef jb[2] = { outer_in, step };
	LLVMAddIncoming(j, jv, jb, 2);

	/* next: stop at the haystack's end, else i + 1 */
	LLVMPositionBuilderAtEnd(g->b, next);
	LLVMValueRef i1 = LLVMBuildAdd(g->b, i, cg_const(g, 1), "");
	LLVMValueRef at_end = LLVMBuildICmp(g->b, LLVMIntEQ, load_byte_at(g, hay, i), zero8, "");
	LLVMBasicBlockRef cont = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "sc.cont");
	LLVMBuildCondBr(g->b, at_end, done, cont);
	LLVMPositionBuilderAtEnd(g->b, cont);
	LLVMBuildBr(g->b, outer);
	LLVMValueRef iv[2] = { cg_const(g, 0), i1 };
	LLVMBasicBlockRef ib[2] = { pre, cont };
	LLVMAddIncoming(i, iv, ib, 2);

	LLVMPositionBuilderAtEnd(g->b, found);
	LLVMBuildBr(g->b, done);
	LLVMPositionBuilderAtEnd(g->b, done);
	LLVMValueRef r = LLVMBuildPhi(g->b, g->i64, "sc.r");
	LLVMValueRef rv[3] = { cg_const(g, 0), cg_const(g, 0), cg_const(g, 1) };
	LLVMBasicBlockRef rb[3] = { outer, next, found };
	LLVMAddIncoming(r, rv, rb, 3);
	return r;
}

/* ---- join(argv [, sep]): a NULL-terminated array of user strings ----
 *
 * The record holds JOIN_ARGS strings of JOIN_ARG_SIZE bytes, read one by
 * one; user space prints them up to the first empty one, separated by sep
 * (bpftrace 0.17: a statement that prints a line). A NULL pointer reads
 * as an empty string: bpf_probe_read_user_str zero-fills on failure. */

static struct type *check_join(struct sema *s, struct node *call)
{
	struct node *a = call->call.args;
	struct type *t = sema_expr(s, a);
	if (t->kind == TY_NONE)
		return t;
	if (t->kind != TY_INT && t->kind != TY_PTR) {
		sema_error(s, a->span, "join() expects an array of string pointers (char **), not %s",
			   tname(t));
		return &type_none;
	}
	if (a->next && a->next->kind != N_STR) {
		sema_error(s, a->next->span, "join()'s separator must be a string literal");
		return &type_none;
	}
	return &type_void;
}

static LLVMValueRef lower_join(struct cg *g, struct node *call)
{
	struct node *a = call->call.args;
	bool user = is_user_addr(g->probe, a->type);
	LLVMValueRef argv = cg_expr(g, a);
	uint32_t size = 8 + JOIN_ARGS * JOIN_ARG_SIZE;
	LLVMValueRef rec = cg_slot(g, size, false);
	LLVMValueRef ptr = cg_slot(g, 8, false);
	const char *sep = a->next ? a->next->str.value : " ";
	uint32_t id = cg_add_printf(g, sep, NULL, 0, JOIN_ARGS * JOIN_ARG_SIZE);
	cg_record_header(g, rec, PD_REC_JOIN, id);
	for (uint32_t i = 0; i < JOIN_ARGS; i++) {
		cg_zero(g, ptr, 8);
		cg_probe_read(g, ptr, 8, LLVMBuildAdd(g->b, argv, cg_const(g, 8 * i), ""), user);
		cg_probe_read_str(g, cg_gep(g, rec, 8 + i * JOIN_ARG_SIZE),
				  cg_const(g, JOIN_ARG_SIZE), cg_load_int(g, ptr, 8, false), user);
	}
	cg_emit_record(g, rec, size);
	return NULL;
}

/* ---- debugf(fmt, ...): bpf_trace_printk, read from trace_pipe ---- */

static struct type *check_debugf(struct sema *s, struct node *call)
{
	struct node *f = call->call.args;
	if (f->kind != N_STR) {
		sema_error(s, f->span, "debugf() needs a string literal as its format");
		return &type_none;
	}
	f->type = type_str(s->arena, f->str.len + 1);
	int n = 0;
	for (const char *p = f->str.value; *p; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue;
		}
		p++;
		p += strspn(p, "-+ #0123456789.");
		p += strspn(p, "lh");
		if (!*p || !strchr("diuxXcsp", *p)) {
			sema_error(s, f->span, "debugf() supports %%d %%i %%u %%x %%X %%c %%s %%p "
					       "(with l, ll): bpf_trace_printk takes no others");
			return &type_none;
		}
		n++;
	}
	if (call->call.nargs - 1 > 3) {
		sema_error(s, call->span, "debugf() takes at most 3 arguments after the format "
					  "(bpf_trace_printk's limit)");
		return &type_none;
	}
	if (n != call->call.nargs - 1) {
		sema_error(s, call->span, "debugf(): the format has %d conversion%s but %d "
					  "argument%s given", n, n == 1 ? "" : "s", call->call.nargs - 1,
			   call->call.nargs == 2 ? " is" : "s are");
		return &type_none;
	}
	bool ok = true;
	for (struct node *a = f->next; a; a = a->next) {
		struct type *t = sema_expr(s, a);
		if (t->kind != TY_NONE && t->kind != TY_INT && t->kind != TY_PTR &&
		    t->kind != TY_STR) {
			sema_error(s, a->span, "debugf() prints integers and strings, not %s",
				   tname(t));
			ok = false;
		}
		ok = ok && t->kind != TY_NONE;
	}
	if (ok && !s->quiet)
		diag_warning(s->diag, call->span,
			     "debugf() is for debugging: it writes to the kernel's trace_pipe "
			     "(bpf_trace_printk), not to trace's output");
	return ok ? &type_void : &type_none;
}

static LLVMValueRef lower_debugf(struct cg *g, struct node *call)
{
	struct node *f = call->call.args;
	LLVMValueRef args[5];
	unsigned n = 2;
	for (struct node *a = f->next; a; a = a->next)
		args[n++] = cg_expr(g, a); /* strings: their slot's address */
	/* the format in .rodata (LLVM makes each global's name unique) */
	args[0] = cg_rodata(g, "debugf_fmt", (const uint8_t *)f->str.value, f->str.len + 1);
	args[1] = LLVMConstInt(g->i32, f->str.len + 1, 0);
	cg_helper(g, BPF_FUNC_trace_printk, g->i64, args, n);
	return NULL;
}

/* ---- signal(sig): bpf_send_signal to the current process; --unsafe ---- */

static int signal_number(const char *name)
{
	if (!strncmp(name, "SIG", 3))
		name += 3;
	for (int i = 1; i < 32; i++) {
		const char *abbrev = sigabbrev_np(i);
		if (abbrev && !strcmp(abbrev, name))
			return i;
	}
	return 0;
}

static struct type *check_signal(struct sema *s, struct node *call)
{
	struct node *a = call->call.args;
	if (!s->opts.unsafe) {
		sema_error(s, call->span, "signal() sends signals to the traced processes: it needs "
					  "--unsafe");
		return &type_none;
	}
	if (s->cur && (s->cur->kind == PD_PROBE_BEGIN || s->cur->kind == PD_PROBE_END ||
		       s->cur->kind == PD_PROBE_ITER)) {
		sema_error(s, call->span, "signal() cannot be used in %s: it signals the process "
					  "that hit the probe, and there is none",
			   s->cur->name ? s->cur->name : "this probe");
		return &type_none;
	}
	if (a->kind == N_STR) {
		call->call.value = (uint64_t)signal_number(a->str.value);
		a->type = type_str(s->arena, a->str.len + 1);
		if (!call->call.value) {
			sema_error(s, a->span, "unknown signal '%s': use a name such as \"KILL\" or "
					       "\"SIGUSR1\", or a number", a->str.value);
			return &type_none;
		}
		return &type_void;
	}
	struct type *t = check_int_arg(s, call, a);
	int64_t v;
	if (t->kind != TY_NONE && sema_const_int(s, a, &v) && (v < 1 || v > 64)) {
		sema_error(s, a->span, "signal %lld does not exist: signals are 1 to 64",
			   (long long)v);
		return &type_none;
	}
	return t->kind == TY_NONE ? t : &type_void;
}

static LLVMValueRef lower_signal(struct cg *g, struct node *call)
{
	struct node *a = call->call.args;
	LLVMValueRef sig = a->kind == N_STR ? cg_const(g, call->call.value) : cg_expr(g, a);
	LLVMValueRef arg = LLVMBuildTrunc(g->b, sig, g->i32, "");
	cg_helper(g, BPF_FUNC_send_signal, g->i64, &arg, 1);
	return NULL;
}

/* ---- pton("1.2.3.4" | "::1"): the address bytes, a uint8 array ---- */

static struct type *check_pton(struct sema *s, struct node *call)
{
	struct node *a = call->call.args;
	uint8_t bytes[16];
	if (a->kind != N_STR) {
		sema_error(s, a->span, "pton() needs the address as a string literal");
		return &type_none;
	}
	a->type = type_str(s->arena, a->str.len + 1);
	uint32_t n = inet_pton(AF_INET, a->str.value, bytes) == 1	? 4
		     : inet_pton(AF_INET6, a->str.value, bytes) == 1 ? 16
								      : 0;
	if (!n) {
		sema_error(s, a->span, "pton(): '%s' is not an IPv4 or IPv6 address", a->str.value);
		return &type_none;
	}
	return type_array(s->arena, type_int(8, false), n); /* 0.17: 255 prints as 255 */
}

static LLVMValueRef lower_pton(struct cg *g, struct node *call)
{
	struct node *a = call->call.args;
	uint8_t bytes[16];
	uint32_t n = call->type->size;
	inet_pton(n == 4 ? AF_INET : AF_INET6, a->str.value, bytes);
	LLVMValueRef slot = cg_dest(g, n);
	for (uint32_t off = 0; off < n; off += 4) {
		uint32_t w;
		memcpy(&w, bytes + off, 4);
		cg_store_int(g, cg_gep(g, slot, off), cg_const(g, w), 4);
	}
	return slot;
}

/* ---- macaddr(p): 6 bytes printed as AA:BB:CC:DD:EE:FF ---- */

static struct type *check_macaddr(struct sema *s, struct node *call)
{
	struct node *a = call->call.args;
	if (a->kind == N_STR) {
		sema_error(s, a->span, "macaddr() reads an address from memory: a string literal "
				       "is not one");
		return &type_none;
	}
	struct type *t = sema_expr(s, a);
	if (t->kind == TY_NONE)
		return t;
	if ((t->kind == TY_ARRAY || t->kind == TY_STR) && t->size != 6) {
		sema_error(s, a->span, "macaddr() needs 6 bytes, and %s has %u", tname(t), t->size);
		return &type_none;
	}
	if (t->kind != TY_INT && t->kind != TY_PTR && t->kind != TY_ARRAY && t->kind != TY_STR) {
		sema_error(s, a->span, "macaddr() expects a pointer or a 6-byte array, not %s",
			   tname(t));
		return &type_none;
	}
	struct type *r = arena_alloc(s->arena, sizeof(*r));
	r->kind = TY_MACADDR;
	r->size = 6;
	r->align = 1;
	return r;
}

static LLVMValueRef lower_macaddr(struct cg *g, struct node *call)
{
	struct node *a = call->call.args;
	LLVMValueRef v = cg_expr(g, a);
	LLVMValueRef slot = cg_dest(g, 6);
	if (a->type->kind == TY_ARRAY || a->type->kind == TY_STR) {
		cg_copy(g, slot, v, 6);
		return slot;
	}
	cg_zero(g, slot, 6);
	cg_probe_read(g, slot, 6, v, is_user_addr(g->probe, a->type));
	return slot;
}

/* ---- cgroupid("/sys/fs/cgroup/..."): the path's cgroup id, now ----
 *
 * The id the kernel gives a cgroup (bpf_get_current_cgroup_id, the
 * `cgroup` builtin) is its kernfs node id, which name_to_handle_at returns
 * as an 8-byte handle on a cgroup file system (bpftrace does the same). */

static int path_cgroupid(const char *path, uint64_t *id)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h;
	int mount_id;
	h.fh.handle_bytes = sizeof(h.id);
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0))
		return -errno;
	if (h.fh.handle_bytes != sizeof(h.id))
		return -EOVERFLOW;
	memcpy(id, h.fh.f_handle, sizeof(*id));
	return 0;
}

static struct type *check_cgroupid(struct sema *s, struct node *call)
{
	struct node *a = call->call.args;
	if (a->kind != N_STR) {
		sema_error(s, a->span, "cgroupid() needs the cgroup's path as a string literal");
		return &type_none;
	}
	a->type = type_str(s->arena, a->str.len + 1);
	int err = path_cgroupid(a->str.value, &call->call.value);
	if (err && !s->quiet) {
		sema_error(s, a->span, "cgroupid(): cannot get the cgroup id of '%s': %s",
			   a->str.value,
			   err == -EOVERFLOW || err == -EOPNOTSUPP ? "not a cgroup file system"
								   : strerror(-err));
		return &type_none;
	}
	return &type_u64;
}

static LLVMValueRef lower_const(struct cg *g, struct node *call)
{
	return cg_const(g, call->call.value);
}

/* ---- cgroup_path(id [, filter]): resolved when printed ---- */

static struct type *check_cgroup_path(struct sema *s, struct node *call)
{
	struct node *a = call->call.args;
	struct type *t = check_int_arg(s, call, a);
	if (a->next && a->next->kind != N_STR) {
		sema_error(s, a->next->span, "cgroup_path()'s filter must be a string literal "
					     "(a glob of hierarchy names: \"unified\", \"cpu*\")");
		return &type_none;
	}
	if (t->kind == TY_NONE)
		return t;
	struct type *r = arena_alloc(s->arena, sizeof(*r));
	r->kind = TY_CGROUP_PATH;
	r->size = 8;
	r->align = 8;
	r->fmt = a->next ? a->next->str.value : NULL;
	return r;
}

const struct stdlib_fn stdlib_text_fns[] = {
	{ "strerror", 1, 1, 0, 0, check_strerror, lower_passthrough, NULL },
	{ "strcontains", 2, 2, 0, 0, check_strcontains, lower_strcontains, NULL },
	{ "join", 1, 2, FN_STMT, 0, check_join, lower_join, NULL },
	{ "debugf", 1, 65, FN_STMT, 0, check_debugf, lower_debugf, NULL },
	{ "signal", 1, 1, FN_STMT, 0, check_signal, lower_signal, NULL },
	{ "pton", 1, 1, 0, 0, check_pton, lower_pton, NULL },
	{ "macaddr", 1, 1, 0, 0, check_macaddr, lower_macaddr, NULL },
	{ "cgroupid", 1, 1, 0, 0, check_cgroupid, lower_const, NULL },
	{ "cgroup_path", 1, 2, 0, 0, check_cgroup_path, lower_passthrough, NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};
