/* loader.c: libbpf open/load/attach, BEGIN/END, the event loop (a ring
 * buffer, or per-CPU perf buffers on kernels before 5.8).
 *
 * In: the program description. Out: probes running, records formatted by
 * output.c, maps printed at exit by maps.c. BEGIN and END programs are
 * raw_tp programs run once with BPF_PROG_TEST_RUN, in this process's
 * context (so `comm` is "trace" and `pid` ours, as with bpftrace).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runtime/features.h"
#include "runtime/loader.h"
#include "runtime/maps.h"
#include "runtime/provider.h"

/* Programs load without a verifier log (a log costs time, and a log buffer
 * that fills up fails the load with ENOSPC); when a load fails, libbpf
 * loads once more with a log and prints it through this callback between
 * "-- BEGIN PROG LOAD LOG --" and "-- END PROG LOAD LOG --": we keep it for
 * the error message. libbpf's callback has no context pointer. */
static struct rt_session *log_session;
static bool log_verbose;

static void keep_verifier_log(const char *msg)
{
	const char *b = strstr(msg, "-- BEGIN PROG LOAD LOG --\n");
	if (!b || !log_session)
		return;
	/* libbpf: "prog 'NAME': -- BEGIN PROG LOAD LOG --" */
	const char *q = strstr(msg, "prog '");
	log_session->log_prog[0] = 0;
	if (q && q < b) {
		q += strlen("prog '");
		size_t len = strcspn(q, "'");
		if (len < sizeof(log_session->log_prog)) {
			memcpy(log_session->log_prog, q, len);
			log_session->log_prog[len] = 0;
		}
	}
	b += strlen("-- BEGIN PROG LOAD LOG --\n");
	const char *e = strstr(b, "-- END PROG LOAD LOG --");
	size_t n = e ? (size_t)(e - b) : strlen(b);
	free(log_session->log);
	log_session->log = strndup(b, n);
}

/* libbpf's own format strings: -Wformat-nonliteral cannot check them */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		return 0;
	keep_verifier_log(msg);
	if (log_verbose)
		fputs(msg, stderr);
	free(msg);
	return 0;
}
#pragma GCC diagnostic pop

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Programs and maps by name: libbpf's find_*_by_name walk the object,
 * once per probe that was programs x probes (10,000 blocks: 10^8 string
 * compares at attach). The object's names sorted once, looked up by
 * binary search. */
struct named {
	const char *name;
	void *what;
};

struct names {
	struct named *v;
	size_t n, cap;
	bool failed; /* out of memory */
};

static void names_add(struct names *t, const char *name, void *what)
{
	if (t->n == t->cap && !t->failed) {
		size_t nc = t->cap ? t->cap * 2 : 64;
		struct named *nv = realloc(t->v, nc * sizeof(*nv));
		if (!nv) {
			t->failed = true;
			return;
		}
		t->v = nv;
		t->cap = nc;
	}
	if (!t->failed)
		t->v[t->n++] = (struct named){ name, what };
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

static void *find_named(const struct names *t, const char *name)
{
	struct named key = { name, NULL };
	const struct named *hit = t->n ? bsearch(&key, t->v, t->n, sizeof(*t->v), by_name) : NULL;
	return hit ? hit->what : NULL;
}

static int index_programs(struct rt_session *s)
{
	struct names t = { 0 };
	struct bpf_program *prog;
	s->progs = calloc(s->pd->nprobes ? s->pd->nprobes : 1, sizeof(*s->progs));
	if (!s->progs)
		return -ENOMEM;
	bpf_object__for_each_program(prog, s->obj)
		names_add(&t, bpf_program__name(prog), prog);
	if (t.failed) {
		free(t.v);
		return -ENOMEM;
	}
	qsort(t.v, t.n, sizeof(*t.v), by_name);
	for (uint32_t i = 0; i < s->pd->nprobes; i++)
		s->progs[i] = find_named(&t, s->pd->probes[i].prog_name);
	free(t.v);
	return 0;
}

static int find_fds(struct rt_session *s)
{
	const struct progdesc *pd = s->pd;
	struct names t = { 0 };
	struct bpf_map *m;
	s->map_fds = calloc(pd->nmaps ? pd->nmaps : 1, sizeof(int));
	s->prog_fds = calloc(pd->nprobes ? pd->nprobes : 1, sizeof(int));
	if (!s->map_fds || !s->prog_fds)
		return -ENOMEM;
	bpf_object__for_each_map(m, s->obj)
		names_add(&t, bpf_map__name(m), m);
	if (t.failed) {
		free(t.v);
		return -ENOMEM;
	}
	qsort(t.v, t.n, sizeof(*t.v), by_name);
	for (uint32_t i = 0; i < pd->nmaps; i++) {
		/* internal maps (".bss", ".rodata", ...): libbpf names them
		 * "OBJ.bss" and finds them by their section name, which only
		 * its own lookup knows; a few of them, one walk each */
		const char *name = pd->maps[i].obj_name;
		m = name[0] == '.' ? bpf_object__find_map_by_name(s->obj, name)
				   : find_named(&t, name);
		s->map_fds[i] = m ? bpf_map__fd(m) : -1;
	}
	free(t.v);
	for (uint32_t i = 0; i < pd->nprobes; i++)
		s->prog_fds[i] = s->progs[i] ? bpf_program__fd(s->progs[i]) : -1;
	return 0;
}

/* The failing program: the one libbpf named with the verifier's log;
 * without a log, the first without an fd (libbpf loads programs in order,
 * though it closes them all when one fails). */
static void note_failed_probe(struct rt_session *s)
{
	s->failed_probe = -1;
	for (uint32_t i = 0; i < s->pd->nprobes && s->log_prog[0]; i++) {
		if (!strcmp(s->pd->probes[i].prog_name, s->log_prog)) {
			s->failed_probe = (int)i;
			return;
		}
	}
	for (uint32_t i = 0; i < s->pd->nprobes; i++) {
		struct bpf_program *p =
			bpf_object__find_program_by_name(s->obj, s->pd->probes[i].prog_name);
		if (p && bpf_program__fd(p) < 0) {
			s->failed_probe = (int)i;
			return;
		}
	}
}

/* A rejection by the verifier: find the instruction and its script line;
 * the driver prints it. Other failures are printed here. */
static void describe_failure(struct rt_session *s, int err)
{
	const struct pd_probe *p = s->failed_probe >= 0 ? &s->pd->probes[s->failed_probe] : NULL;
	if (p && (err == -EPERM || err == -524 /* ENOTSUPP */ || err == -EOPNOTSUPP) &&
	    (p->kind == PD_PROBE_FENTRY || p->kind == PD_PROBE_FEXIT)) {
		fprintf(stderr, "ERROR: the kernel refused probe %s (line %u): %s: this kernel does "
				"not support fentry/fexit (BPF trampolines)\n",
			p->name, p->line, strerror(-err));
		s->failed_probe = -1;
		return;
	}
	if (!p || !s->log || !s->log[0]) {
		fprintf(stderr, "ERROR: loading the BPF object failed: %s\n", strerror(-err));
		s->failed_probe = -1;
		return;
	}
	rt_verifier_parse(s->log, &s->verr);
	if (rt_btf_line_of(s->pd->obj, s->pd->obj_size, p->prog_name, s->verr.insn, &s->fail_line,
			   &s->fail_col))
		s->fail_line = s->fail_col = 0;
}

static bool layout_has_usyms(const struct pd_layout *l)
{
	if (l->kind == PD_USTACK || l->kind == PD_USYM)
		return true;
	for (uint32_t i = 0; i < l->nfields; i++)
		if (layout_has_usyms(&l->fields[i]))
			return true;
	return false;
}

static bool pd_has_usyms(const struct progdesc *pd)
{
	for (uint32_t i = 0; i < pd->nmaps; i++)
		if (layout_has_usyms(&pd->maps[i].key) || layout_has_usyms(&pd->maps[i].value))
			return true;
	for (uint32_t i = 0; i < pd->nprintfs; i++)
		for (uint32_t j = 0; j < pd->printfs[i].nargs; j++)
			if (layout_has_usyms(&pd->printfs[i].args[j]))
				return true;
	for (uint32_t i = 0; i < pd->nvalues; i++)
		if (layout_has_usyms(&pd->values[i]))
			return true;
	return false;
}

/* -c/-p with user symbols: the process's mappings are read every round,
 * so that its stacks resolve after it exits even when it ends right after
 * its first event. -c's child counts once it has exec'd CMD (before, it
 * is a copy of trace). */
static void note_target(struct rt_session *s)
{
	pid_t pid = s->watch_pid ? s->watch_pid : s->child ? s->child->pid : 0;
	if (!s->usyms || pid <= 0)
		return;
	if (s->child && !s->child_execed) {
		char exe[64];
		struct stat a, b;
		snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
		if (stat(exe, &a) || stat("/proc/self/exe", &b) ||
		    (a.st_ino == b.st_ino && a.st_dev == b.st_dev))
			return;
		s->child_execed = true;
	}
	rt_output_note_pid(&s->out, (uint32_t)pid);
}

int rt_load(struct rt_session *s, const struct progdesc *pd, const struct rt_options *opts)
{
	memset(s, 0, sizeof(*s));
	s->pd = pd;
	s->verbose = opts->verbose;
	s->perf_pages = opts->perf_pages ? opts->perf_pages : 256; /* 1 MiB, as the ring buffer */
	s->child = opts->child;
	s->watch_pid = opts->pid;
	s->usyms = pd_has_usyms(pd);
	s->no_warnings = opts->no_warnings;
	s->failed_probe = -1;
	log_session = s;
	log_verbose = opts->verbose > 0;
	libbpf_set_print(libbpf_print);
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "trace");
	s->obj = bpf_object__open_mem(pd->obj, pd->obj_size, &oo);
	if (!s->obj) {
		int err = -errno;
		fprintf(stderr, "ERROR: cannot open the BPF object: %s\n", strerror(-err));
		return err;
	}
	int ierr = index_programs(s);
	if (ierr)
		return ierr;
	/* uprobes sharing a program through one uprobe_multi link: the kernel
	 * wants that attach type at load (libbpf 1.1 has no section for it) */
	for (uint32_t i = 0; i < pd->nprobes; i++) {
		const struct pd_probe *p = &pd->probes[i];
		struct bpf_program *prog;
		if (p->multi && (p->kind == PD_PROBE_UPROBE || p->kind == PD_PROBE_URETPROBE) &&
		    (prog = s->progs[i]))
			bpf_program__set_expected_attach_type(
				prog, (enum bpf_attach_type)RT_BPF_TRACE_UPROBE_MULTI);
	}
	/* BEGIN/END are run by hand, tracepoints attached by hand: no autoload
	 * surprises, every program is loaded */
	double t0 = now_ms();
	int err = bpf_object__load(s->obj);
	if (s->verbose)
		fprintf(stderr, "load: maps and programs in %.1f ms (verifier included)\n",
			now_ms() - t0);
	if (err) {
		note_failed_probe(s);
		if ((err == -EPERM || err == -EACCES) && geteuid() != 0)
			fprintf(stderr, "ERROR: loading BPF programs needs root (CAP_BPF and "
					"CAP_PERFMON or CAP_SYS_ADMIN)\n");
		else
			describe_failure(s, err);
		return err;
	}
	err = find_fds(s);
	if (err)
		return err;
	err = rt_output_init_opts(&s->out, opts->out ? opts->out : stdout, pd, s->map_fds,
				  &opts->output);
	if (err) {
		fprintf(stderr, "ERROR: cannot set up output: %s\n", strerror(-err));
		return err;
	}
	s->output_ready = true;
	return 0;
}

/* A link libbpf 1.1 cannot make (uprobe_multi): kept as its fd */
static int add_link_fd(struct rt_session *s, int fd)
{
	int *nl = realloc(s->link_fds, (size_t)(s->nlink_fds + 1) * sizeof(*nl));
	if (!nl) {
		close(fd);
		return -ENOMEM;
	}
	s->link_fds = nl;
	s->link_fds[s->nlink_fds++] = fd;
	return 0;
}

static int add_link(struct rt_session *s, struct bpf_link *l)
{
	if (s->nlinks == s->cap_links) {
		int nc = s->cap_links ? s->cap_links * 2 : 16;
		struct bpf_link **nl = realloc(s->links, nc * sizeof(*nl));
		if (!nl) {
			bpf_link__destroy(l);
			return -ENOMEM;
		}
		s->links = nl;
		s->cap_links = nc;
	}
	s->links[s->nlinks++] = l;
	return 0;
}

static struct bpf_program *prog_of(struct rt_session *s, const struct pd_probe *p)
{
	return s->progs ? s->progs[p - s->pd->probes] : NULL;
}

/* interval: one timer on CPU 0; profile: one per CPU */
static int attach_perf(struct rt_session *s, const struct pd_probe *p)
{
	struct perf_event_attr attr = { .size = sizeof(attr) };
	bool per_cpu = p->kind != PD_PROBE_INTERVAL;
	if (p->kind == PD_PROBE_INTERVAL || p->kind == PD_PROBE_PROFILE) {
		attr.type = PERF_TYPE_SOFTWARE;
		attr.config = PERF_COUNT_SW_CPU_CLOCK;
		if (p->freq) {
			attr.freq = 1;
			attr.sample_freq = p->freq;
		} else {
			attr.sample_period = p->period_ns;
		}
	} else {
		attr.type = p->kind == PD_PROBE_HARDWARE ? PERF_TYPE_HARDWARE : PERF_TYPE_SOFTWARE;
		attr.config = p->perf_config;
		attr.sample_period = p->sample_period;
	}
	int ncpu = per_cpu ? libbpf_num_possible_cpus() : 1;
	for (int cpu = 0; cpu < ncpu; cpu++) {
		int fd = syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			if (errno == ENODEV || errno == ENOENT)
				continue; /* CPU offline */
			int err = -errno;
			fprintf(stderr, "ERROR: cannot open a perf event for %s: %s%s\n", p->name,
				strerror(errno),
				p->kind == PD_PROBE_HARDWARE ? " (no hardware perf events here?)" : "");
			return err;
		}
		struct bpf_link *l = bpf_program__attach_perf_event(prog_of(s, p), fd);
		if (!l) {
			int err = -errno;
			close(fd);
			fprintf(stderr, "ERROR: cannot attach %s: %s\n", p->name, strerror(-err));
			return err;
		}
		int err = add_link(s, l);
		if (err)
			return err;
	}
	return 0;
}

/* Probes attached through one link: a kprobe_multi/uprobe_multi link of
 * the probes sharing a program (chained uprobes included), or the one raw
 * syscall tracepoint of a program's probes (chained ones are not). */
static bool same_link(const struct pd_probe *a, const struct pd_probe *b)
{
	if (a->multi)
		return b->multi && !strcmp(a->prog_name, b->prog_name);
	return a->raw_tp && b->raw_tp && !b->chained && !strcmp(a->prog_name, b->prog_name);
}

/* How many probes share probe i's link, i included; 0 when an earlier
 * probe has it (i is attached with that one). */
static uint32_t link_members(const struct progdesc *pd, uint32_t i)
{
	uint32_t n = 0;
	for (uint32_t j = 0; j < pd->nprobes; j++) {
		if (!same_link(&pd->probes[i], &pd->probes[j]))
			continue;
		if (j < i)
			return 0;
		n++;
	}
	return n;
}

/* Syscall tracepoints that share a program with `raw_tp` set: one raw
 * tracepoint link for all of them (the program filters on the syscall
 * number), made for the first; the others are already covered. */
static int attach_raw_syscalls(struct rt_session *s, const struct pd_probe *p,
			       struct bpf_program *prog)
{
	if (!link_members(s->pd, (uint32_t)(p - s->pd->probes)))
		return 0; /* attached with the first */
	struct bpf_link *l = bpf_program__attach_raw_tracepoint(prog, p->raw_tp);
	if (!l) {
		int err = -errno;
		fprintf(stderr, "ERROR: cannot attach probe %s (through raw tracepoint %s): %s\n",
			p->name, p->raw_tp, strerror(-err));
		return err;
	}
	return add_link(s, l);
}

/* Kprobes sharing a program. With `multi`, one kprobe_multi link for all
 * of them, made for the first; else one kprobe each. Either way each
 * function's attach cookie is its probe index (the program's `probe`). */
static int attach_kprobe(struct rt_session *s, const struct pd_probe *p, struct bpf_program *prog)
{
	bool ret = p->kind == PD_PROBE_KRETPROBE;
	uint32_t first = (uint32_t)(p - s->pd->probes);
	if (!p->multi) {
		LIBBPF_OPTS(bpf_kprobe_opts, ko, .offset = p->offset, .retprobe = ret,
			    .bpf_cookie = first);
		struct bpf_link *l = bpf_program__attach_kprobe_opts(prog, p->func, &ko);
		if (!l)
			return -errno;
		return add_link(s, l);
	}
	uint32_t n = link_members(s->pd, first);
	if (!n)
		return 0; /* attached with the first */
	const char **syms = calloc(n, sizeof(*syms));
	__u64 *cookies = calloc(n, sizeof(*cookies));
	if (!syms || !cookies) {
		free(syms);
		free(cookies);
		return -ENOMEM;
	}
	n = 0;
	for (uint32_t i = first; i < s->pd->nprobes; i++)
		if (same_link(p, &s->pd->probes[i])) {
			syms[n] = s->pd->probes[i].func;
			cookies[n++] = i;
		}
	LIBBPF_OPTS(bpf_kprobe_multi_opts, mo, .syms = syms, .cookies = cookies, .cnt = n,
		    .retprobe = ret);
	struct bpf_link *l = bpf_program__attach_kprobe_multi_opts(prog, NULL, &mo);
	int err = l ? 0 : -errno;
	free(syms);
	free(cookies);
	if (!l) {
		fprintf(stderr,
			"ERROR: cannot attach %u %s probes (%s, ...) as one kprobe_multi link: %s\n",
			n, ret ? "kretprobe" : "kprobe", p->name, strerror(-err));
		return err;
	}
	return add_link(s, l);
}

/* Uprobes sharing a program (p->multi): one uprobe_multi link for all
 * the file offsets, made for the first; each offset's cookie is its probe
 * index (the program's `probe`). */
static int attach_uprobe_multi(struct rt_session *s, const struct pd_probe *p,
			       struct bpf_program *prog)
{
	uint32_t first = (uint32_t)(p - s->pd->probes), n = link_members(s->pd, first);
	if (!n)
		return 0; /* attached with the first */
	uint64_t *offsets = calloc(n, sizeof(*offsets)), *cookies = calloc(n, sizeof(*cookies));
	if (!offsets || !cookies) {
		free(offsets);
		free(cookies);
		return -ENOMEM;
	}
	n = 0;
	for (uint32_t i = first; i < s->pd->nprobes; i++)
		if (same_link(p, &s->pd->probes[i])) {
			offsets[n] = s->pd->probes[i].offset;
			cookies[n++] = i;
		}
	/* -p/-c: only in that process, as the single uprobes */
	pid_t pid = s->watch_pid ? s->watch_pid : s->child ? s->child->pid : 0;
	int fd = rt_link_uprobe_multi(bpf_program__fd(prog), p->target, offsets, cookies, n,
				      p->kind == PD_PROBE_URETPROBE, pid);
	free(offsets);
	free(cookies);
	if (fd < 0) {
		fprintf(stderr,
			"ERROR: cannot attach %u %s probes (%s, ...) as one uprobe_multi link: %s\n",
			n, p->kind == PD_PROBE_URETPROBE ? "uretprobe" : "uprobe", p->name,
			strerror(-fd));
		return fd;
	}
	return add_link_fd(s, fd);
}

void rt_describe_attach(const struct progdesc *pd, FILE *f)
{
	uint32_t perf_tps = 0, kprobes = 0, chained = 0;
	for (uint32_t i = 0; i < pd->nprobes; i++) {
		const struct pd_probe *p = &pd->probes[i];
		bool kp = p->kind == PD_PROBE_KPROBE || p->kind == PD_PROBE_KRETPROBE;
		if (p->chained) {
			chained++;
			continue;
		}
		if (kp && !p->multi)
			kprobes++;
		uint32_t n = p->multi || p->raw_tp ? link_members(pd, i) : 0;
		if (kp && p->multi && n)
			fprintf(f, "attach plan: %u %s (%s, ...): one kprobe_multi link\n", n,
				p->kind == PD_PROBE_KPROBE ? "kprobes" : "kretprobes", p->name);
		if (p->multi && n && (p->kind == PD_PROBE_UPROBE || p->kind == PD_PROBE_URETPROBE))
			fprintf(f, "attach plan: %u %s (%s, ...): one uprobe_multi link\n", n,
				p->kind == PD_PROBE_UPROBE ? "uprobes" : "uretprobes", p->name);
		if (p->kind != PD_PROBE_TRACEPOINT)
			continue;
		if (!p->raw_tp) {
			perf_tps++;
			continue;
		}
		if (n)
			fprintf(f, "attach plan: %u syscall tracepoint%s (%s%s): one raw tracepoint "
				   "%s, filtered on the syscall number\n", n, n == 1 ? "" : "s", p->name,
				n == 1 ? "" : ", ...", p->raw_tp);
	}
	if (perf_tps)
		fprintf(f, "attach plan: %u tracepoint%s: one perf event each\n", perf_tps,
			perf_tps == 1 ? "" : "s");
	if (chained)
		fprintf(f, "attach plan: %u more block%s run in the program of an earlier block "
			   "(chained)\n", chained, chained == 1 ? "" : "s");
	if (kprobes)
		fprintf(f, "attach plan: %u kprobe%s: one perf event each\n", kprobes,
			kprobes == 1 ? "" : "s");
}

static int attach_one(struct rt_session *s, const struct pd_probe *p)
{
	struct bpf_program *prog = prog_of(s, p);
	struct bpf_link *l = NULL;
	if (p->chained)
		return 0; /* its block runs in the program of the one before */
	switch (pv_by_kind(p->kind)->attach) { /* runtime/provider.h */
	case PV_ATTACH_NONE:
		return 0;
	case PV_ATTACH_TRACEPOINT:
		if (p->raw_tp)
			return attach_raw_syscalls(s, p, prog);
		l = bpf_program__attach_tracepoint(prog, p->target, p->func);
		break;
	case PV_ATTACH_RAWTP:
		l = bpf_program__attach_raw_tracepoint(prog, p->func);
		break;
	case PV_ATTACH_PERF:
		return attach_perf(s, p);
	case PV_ATTACH_KPROBE: {
		int err = attach_kprobe(s, p, prog);
		if (err == -ENOMEM || (err && p->multi))
			return err;
		if (!err)
			return 0;
		errno = -err;
		break;
	}
	case PV_ATTACH_UPROBE: {
		if (p->multi)
			return attach_uprobe_multi(s, p, prog);
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = p->file_offset ? NULL : p->func,
			    .ref_ctr_offset = p->ref_ctr_off,
			    .retprobe = (pv_by_kind(p->kind)->builtins & PV_B_RETURN) != 0);
		/* -p/-c: only in that process, as bpftrace (the probe is per task) */
		pid_t pid = s->watch_pid ? s->watch_pid : s->child ? s->child->pid : -1;
		l = bpf_program__attach_uprobe_opts(prog, pid, p->target, p->offset, &uo);
		break;
	}
	case PV_ATTACH_TRACE:
		l = bpf_program__attach_trace(prog);
		break;
	case PV_ATTACH_ITER:
		l = bpf_program__attach_iter(prog, NULL);
		if (l) {
			s->has_iter = true;
		}
		break;
	}
	if (!l) {
		int err = -errno;
		fprintf(stderr, "ERROR: cannot attach probe %s: %s\n", p->name, strerror(-err));
		if (err == -ENOENT && (p->kind == PD_PROBE_KPROBE || p->kind == PD_PROBE_KRETPROBE))
			fprintf(stderr, "HINT: this kernel may lack kprobes (CONFIG_KPROBES)\n");
		if (err == -EILSEQ && p->kind == PD_PROBE_KPROBE)
			fprintf(stderr,
				"HINT: offset %#llx of %s is not at an instruction boundary\n",
				(unsigned long long)p->offset, p->func);
		return err;
	}
	return add_link(s, l);
}

static int open_events(struct rt_session *s);
static bool is_counter_event(const struct pd_probe *p)
{
	return p->kind == PD_PROBE_SOFTWARE || p->kind == PD_PROBE_HARDWARE;
}
static int run_special(struct rt_session *s, enum pd_probe_kind kind);
static int drain(struct rt_session *s);

/* BEGIN runs to its end before any other probe is attached (bpftrace's
 * order: an interval probe must not fire before BEGIN finished). Its
 * output is held in memory and printed after "Attaching N probes...",
 * which is printed once the probes are attached (the runtime tests start
 * their workloads when they see it). After exit() in BEGIN the probes are
 * still attached (and detached again at once): what they send is dropped,
 * and -v still shows what attaching costs. */
int rt_attach(struct rt_session *s)
{
	double t0 = now_ms();
	int err = open_events(s);
	if (err)
		return err;
	s->events_open = true;
	FILE *real = s->out.w.out;
	char *held = NULL;
	size_t nheld = 0;
	FILE *mem = open_memstream(&held, &nheld);
	if (mem)
		s->out.w.out = mem;
	err = run_special(s, PD_PROBE_BEGIN);
	if (!err)
		err = drain(s);
	s->out.w.out = real;
	if (mem)
		fclose(mem);
	s->begun = true;
	/* Several blocks on one event run in script order. Tracepoints and
	 * kprobes keep their programs in one array per event, appended to in
	 * attach order; the programs of software/hardware perf events sit on
	 * one list per event that each new event enters at its head: those
	 * are attached last to first. */
	int n = (int)s->pd->nprobes;
	for (uint32_t i = 0; i < s->pd->nprobes && !err; i++)
		if (!is_counter_event(&s->pd->probes[i]))
			err = attach_one(s, &s->pd->probes[i]);
	for (uint32_t i = s->pd->nprobes; i-- > 0 && !err;)
		if (is_counter_event(&s->pd->probes[i]))
			err = attach_one(s, &s->pd->probes[i]);
	if (!err) {
		rt_output_attached(&s->out, (uint64_t)n);
		if (held)
			fwrite(held, 1, nheld, s->out.w.out);
		fflush(s->out.w.out);
	}
	free(held);
	if (!err && s->verbose)
		fprintf(stderr, "attach: %d probes in %.1f ms\n", n, now_ms() - t0);
	return err;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct rt_session *s = ctx;
	if (s->exiting)
		return 0; /* after exit(), bpftrace prints nothing more */
	int rc = rt_output_record(&s->out, data, size);
	if (rc == 1) {
		s->exiting = true;
		/* exit(status): the status after the 8-byte header (id 1) */
		if (size >= 16 && ((const struct pd_record_hdr *)data)->id == 1) {
			int64_t code;
			memcpy(&code, (const char *)data + 8, sizeof(code));
			s->exit_status = (int)(code & 0xff);
		}
	}
	return 0;
}

/* perf buffer: one sample is one record (cpu does not matter: records of
 * one CPU arrive in order, as with the ring buffer) */
static void on_sample(void *ctx, int cpu, void *data, __u32 size)
{
	(void)cpu;
	on_record(ctx, data, size);
}

/* PERF_RECORD_LOST: the kernel's own count of the records it dropped */
static void on_lost(void *ctx, int cpu, __u64 cnt)
{
	struct rt_session *s = ctx;
	(void)cpu;
	s->out.lost_kernel += cnt;
}

static int run_special(struct rt_session *s, enum pd_probe_kind kind)
{
	for (uint32_t i = 0; i < s->pd->nprobes; i++) {
		if (s->pd->probes[i].kind != kind)
			continue;
		LIBBPF_OPTS(bpf_test_run_opts, to);
		int err = bpf_prog_test_run_opts(s->prog_fds[i], &to);
		if (err) {
			fprintf(stderr, "ERROR: running %s failed: %s\n", s->pd->probes[i].name,
				strerror(errno));
			return -errno;
		}
	}
	return 0;
}

static int drain(struct rt_session *s)
{
	int n = s->pb ? perf_buffer__consume(s->pb) : ring_buffer__consume(s->rb);
	rt_output_flush(&s->out);
	return n < 0 ? n : 0;
}

/* Closing a tracepoint's perf event waits for an RCU grace period (about
 * 50 ms here), so closing 360 links one after another took 19 s. Waiters
 * that overlap share grace periods: close them from many threads at once. */
#define DETACH_THREADS 64

struct detach_job {
	struct bpf_link **links;
	int n, stride;
};

static void *detach_worker(void *arg)
{
	struct detach_job *j = arg;
	for (int i = 0; i < j->n; i += j->stride)
		bpf_link__destroy(j->links[i]);
	return NULL;
}

static void detach_parallel(struct bpf_link **links, int n)
{
	pthread_t tid[DETACH_THREADS];
	struct detach_job jobs[DETACH_THREADS];
	int nt = n < DETACH_THREADS ? n : DETACH_THREADS, started = 0;
	for (int t = 0; t < nt; t++) {
		jobs[t] = (struct detach_job){ links + t, n - t, nt };
		if (pthread_create(&tid[t], NULL, detach_worker, &jobs[t]))
			break;
		started++;
	}
	for (int t = started; t < nt; t++) /* could not start: do it here */
		detach_worker(&jobs[t]);
	for (int t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
}

static void detach_all(struct rt_session *s)
{
	double t0 = now_ms();
	int n = s->nlinks;
	if (n > 4)
		detach_parallel(s->links, n);
	else
		for (int i = 0; i < n; i++)
			bpf_link__destroy(s->links[i]);
	s->nlinks = 0;
	for (int i = 0; i < s->nlink_fds; i++)
		close(s->link_fds[i]);
	n += s->nlink_fds;
	s->nlink_fds = 0;
	if (s->verbose && n)
		fprintf(stderr, "detach: %d links in %.1f ms\n", n, now_ms() - t0);
}

/* The event buffer the object has: its ring buffer, or the perf event
 * array the compiler chose on a kernel without one (s->perf_pages per
 * CPU: by default 256, as much as the ring buffer holds in all, so a burst
 * from one CPU fits as well; BPFTRACE_PERF_RB_PAGES sets both). */

static int open_events(struct rt_session *s)
{
	for (uint32_t i = 0; i < s->pd->nmaps; i++) {
		enum pd_map_role role = s->pd->maps[i].role;
		int fd = s->map_fds[i];
		if (role != PD_MAP_RINGBUF && role != PD_MAP_PERFBUF)
			continue;
		if (fd < 0)
			return -EINVAL;
		if (role == PD_MAP_RINGBUF)
			s->rb = ring_buffer__new(fd, on_record, s, NULL);
		else
			s->pb = perf_buffer__new(fd, s->perf_pages, on_sample, on_lost, s, NULL);
		if (!s->rb && !s->pb) {
			int err = -errno;
			fprintf(stderr, "ERROR: cannot open the %s buffer: %s\n",
				role == PD_MAP_RINGBUF ? "ring" : "perf", strerror(-err));
			return err;
		}
		if (s->verbose && s->rb)
			fprintf(stderr, "events: ring buffer, %u KiB\n",
				s->pd->maps[i].max_entries / 1024);
		else if (s->verbose)
			fprintf(stderr, "events: perf buffer, %d KiB per CPU (no ring buffer: %s)\n",
				(int)s->perf_pages * (int)(sysconf(_SC_PAGESIZE) / 1024),
				rt_feature_reason(RT_FEAT_RINGBUF)[0] ? rt_feature_reason(RT_FEAT_RINGBUF)
								     : "not probed");
		return 0;
	}
	return -EINVAL;
}

/* Waits up to 100 ms for records, then reads them all. The kernel wakes
 * a ring buffer's reader when a record is committed at the position the
 * reader has reached, so a reader that catches up at once is woken for
 * nearly every record: an irq_work on the producing CPU and a context
 * switch here, more than half the cost of a printf. After a wake-up the
 * reader waits RING_PACE_NS before reading: records committed meanwhile
 * find it behind and wake nobody. At most one wake-up per pause, output
 * at most that much later, and a 1 MiB buffer does not fill in 1 ms. */
#define RING_PACE_NS 1000000
static int poll_ring(struct rt_session *s)
{
	struct epoll_event ev;
	int n = epoll_wait(ring_buffer__epoll_fd(s->rb), &ev, 1, 100);
	if (n < 0)
		return errno == EINTR ? -EINTR : -errno;
	if (n > 0) {
		struct timespec pace = { 0, RING_PACE_NS };
		nanosleep(&pace, NULL); /* a signal cuts it short: fine */
	}
	n = ring_buffer__consume(s->rb);
	return n < 0 ? n : 0;
}

/* Reads each iterator link to its end: the kernel runs the program once
 * per object (task, file, ...) as the reads walk them. The programs print
 * through the ring buffer, so the reads themselves return nothing. */
static int run_iters(struct rt_session *s)
{
	for (int i = 0; i < s->nlinks; i++) {
		const struct bpf_link *l = s->links[i];
		struct bpf_link_info info = { 0 };
		__u32 len = sizeof(info);
		if (bpf_obj_get_info_by_fd(bpf_link__fd(l), &info, &len) ||
		    info.type != BPF_LINK_TYPE_ITER)
			continue;
		int fd = bpf_iter_create(bpf_link__fd(l));
		if (fd < 0) {
			int err = -errno;
			fprintf(stderr, "ERROR: cannot start an iterator: %s\n", strerror(-err));
			return err;
		}
		char buf[4096];
		ssize_t n;
		while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
			if (n > 0)
				rt_output_text(&s->out, buf, (size_t)n);
		int err = n < 0 ? -errno : 0;
		close(fd);
		if (err) {
			fprintf(stderr, "ERROR: reading an iterator: %s\n", strerror(-err));
			return err;
		}
		drain(s);
	}
	return 0;
}

/* this process's CPU time (user + system), for -v */
static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int rt_run(struct rt_session *s, volatile sig_atomic_t *stop)
{
	int err = 0;
	if (!s->events_open)
		err = open_events(s);
	if (err)
		return err;
	if (!s->begun)
		err = run_special(s, PD_PROBE_BEGIN);
	if (!err)
		err = drain(s);
	if (!err && s->has_iter && !s->exiting) {
		/* iter probes run once, when their iterator is read; then trace
		 * ends as after exit() (bpftrace does the same) */
		err = run_iters(s);
		if (!err)
			err = drain(s);
		s->exiting = true;
	}
	if (s->child && !err && !s->exiting) /* -c: CMD runs now that the probes are attached */
		rt_child_release(s->child);
	for (unsigned tick = 1; !err && !s->exiting && !*stop; tick++) {
		note_target(s);
		if ((s->child || s->watch_pid) && rt_proc_gone(s->child, s->watch_pid)) {
			drain(s); /* what it sent before it ended */
			break;
		}
		int n = s->pb ? perf_buffer__poll(s->pb, 100) : poll_ring(s);
		if (n < 0 && n != -EINTR)
			err = n;
		if (tick % 10 == 0) /* losses are reported as they happen, as bpftrace does */
			rt_output_report_lost(&s->out);
		rt_output_flush(&s->out);
	}
	/* The trace is ending: a SIGINT from now on (during a long END or map
	 * printout) is the second one, which leaves at once (driver/main.c). */
	*stop = 1;
	/* Detach first, so END and the map printout see no new events. Records
	 * already sent are printed on Ctrl-C; after exit() they are dropped,
	 * as bpftrace drops them. */
	detach_all(s);
	drain(s);
	s->exiting = false;
	int end_err = run_special(s, PD_PROBE_END);
	drain(s);
	rt_output_report_lost(&s->out);
	double t_maps = now_ms(), cpu_maps = cpu_ms();
	rt_output_print_maps(&s->out);
	if (s->verbose)
		fprintf(stderr, "maps: printed in %.1f ms (CPU %.1f ms)\n", now_ms() - t_maps,
			cpu_ms() - cpu_maps);
	rt_output_report_map_full(&s->out);
	if (s->pb && s->verbose)
		fprintf(stderr, "perf buffer: the kernel reported %llu records lost, the programs "
				"counted %llu\n",
			(unsigned long long)s->out.lost_kernel,
			(unsigned long long)s->out.lost_reported);
	if (s->out.lost_reported && !s->no_warnings) /* the total, once more, where it cannot be missed */
		fprintf(stderr, "WARNING: %llu events lost: the %s buffer was full\n",
			(unsigned long long)s->out.lost_reported, s->pb ? "perf" : "ring");
	return err ? err : end_err;
}

void rt_close(struct rt_session *s)
{
	detach_all(s);
	free(s->links);
	s->links = NULL;
	s->nlinks = 0;
	free(s->link_fds);
	s->link_fds = NULL;
	if (s->rb)
		ring_buffer__free(s->rb);
	s->rb = NULL;
	if (s->pb)
		perf_buffer__free(s->pb);
	s->pb = NULL;
	if (s->output_ready)
		rt_output_fini(&s->out);
	s->output_ready = false;
	if (s->obj)
		bpf_object__close(s->obj);
	s->obj = NULL;
	free(s->map_fds);
	free(s->prog_fds);
	free(s->progs);
	free(s->log);
	s->progs = NULL;
	s->map_fds = s->prog_fds = NULL;
	s->log = NULL;
}
