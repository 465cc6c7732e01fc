/* main.c: the trace command line.
 *
 * The only file that includes both compiler/ and runtime/: it reads the
 * script, runs the compiler passes (parse, sema, codegen), stopping between
 * passes on errors (exit 2), then hands the program description to the
 * runtime (load, attach, run; exit 1 on a runtime error).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "compiler/ast.h"
#include "compiler/btf.h"
#include "compiler/codegen.h"
#include "compiler/cpp.h"
#include "compiler/config.h"
#include "compiler/diag.h"
#include "compiler/headers.h"
#include "compiler/parse.h"
#include "compiler/sema.h"
#include "driver/list.h"
#include "runtime/features.h"
#include "runtime/loader.h"
#include "runtime/syscalls.h"

#include <llvm-c/Core.h>

#ifndef TRACE_VERSION
#define TRACE_VERSION "0.1.0"
#endif

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

struct cli {
	const char *program;	  /* -e text */
	const char *file;	  /* script path, or "-" */
	const char **params;
	int nparams;
	bool dump_ast, dump_types, dump_ir, dump_ir_raw, dump_bpf;
	bool dump_all; /* bpftrace 0.17's -d, -dd: every stage, then exit */
	bool dry_run;
	bool unsafe;
	bool list;
	bool info;
	const char *break_rule; /* --debug-break: tests only */
	const char **incdirs;	/* -I DIR */
	int nincdirs;
	const char **includes;	/* --include FILE */
	int nincludes;
	int verbose;
	const char *cmd;     /* -c CMD */
	const char *pid_arg; /* -p PID as written */
	pid_t pid;
	/* output (issue 15) */
	const char *output_file; /* -o */
	enum rt_format format;	 /* -f */
	enum rt_buffering buffering; /* -B */
	bool quiet;		 /* -q */
	bool no_warnings;	 /* --no-warnings */
	int helper_checks;	 /* -k: 1, -kk: 2 (compiler/checks.c) */
	const char *emit_elf;	 /* --emit-elf FILE */
	const char *emit_llvm;	 /* --emit-llvm FILE */
};

/* getopt values of long options without a short form */
enum {
	OPT_DEBUG_BREAK = 256,
	OPT_NO_WARNINGS,
	OPT_EMIT_ELF,
	OPT_EMIT_LLVM,
	OPT_BTF,
	OPT_USDT_FILE_ACTIVATION,
	OPT_INFO,
	OPT_INCLUDE,
};

static struct rt_child child; /* -c CMD, started right before code generation */

static volatile sig_atomic_t stop_requested;

/* SIGINT, SIGTERM, SIGHUP: end the trace (drain, detach, END, maps). A
 * second SIGINT once the trace is ending (a long END, a big map being
 * printed) leaves at once: the kernel detaches and unloads everything when
 * the process's descriptors close, so nothing stays attached. */
static void on_signal(int sig)
{
	if (stop_requested && sig == SIGINT)
		_exit(128 + SIGINT);
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fputs("USAGE:\n"
	      "    trace [options] FILE [ARGS...]\n"
	      "    trace [options] -e 'PROGRAM' [ARGS...]\n"
	      "    trace [options] 'PROGRAM' [ARGS...]\n"
	      "    trace [options] - [ARGS...]        (program on stdin)\n"
	      "\n"
	      "OPTIONS:\n"
	      "    -e PROGRAM      trace this program\n"
	      "    -l [PATTERN]    list probes matching PATTERN (-lv: with arguments)\n"
	      "    -c CMD          run CMD once the probes are attached (`cpid`); end when\n"
	      "                    it exits\n"
	      "    -p PID          end when process PID exits\n"
	      "    -d STAGE        print a stage and exit: ast, types, ir, ir-raw, bpf\n"
	      "    -d, -dd         (bpftrace 0.17's form, before another option) print the\n"
	      "                    AST, the typed AST and the IR before and after the\n"
	      "                    optimizer, then exit\n"
	      "    --dry-run       compile and load through the verifier, do not attach\n"
	      "    -v              verbose: verifier log on errors, load statistics\n"
	      "    -o, --output FILE\n"
	      "                    write the program's output to FILE (diagnostics stay on\n"
	      "                    stderr)\n"
	      "    -f FORMAT       output format: text (default), json (one object a line)\n"
	      "    -B MODE         output buffering: none, line, full\n"
	      "    -q              quiet: no \"Attaching N probes...\"\n"
	      "    --no-warnings   no warning messages\n"
	      "    -k              report failed BPF helper calls (map updates and deletes)\n"
	      "                    with the script line\n"
	      "    -kk             also failed reads (probe_read*) and map lookups\n"
	      "    --emit-elf FILE write the BPF object to FILE and exit (no load)\n"
	      "    --emit-llvm FILE\n"
	      "                    write the LLVM IR to FILE.original.ll (before the\n"
	      "                    optimizer) and FILE.optimized.ll, then run\n"
	      "    --btf           accepted (BTF is used whenever the kernel has it)\n"
	      "    --unsafe        allow functions with side effects: system()\n"
	      "    --info          print the kernel's BPF features and exit\n"
	      "    -I DIR          search DIR for #include files (before the system's)\n"
	      "    --include FILE  #include FILE before the script\n"
	      "    --debug-break RULE\n"
	      "                    debug only, for tests of verifier errors: turn off one\n"
	      "                    verifier-safe convention so that the kernel rejects\n"
	      "                    the program. RULE: null-check, clamp, signed-clamp,\n"
	      "                    probe-read, stack-limit, key-pointer, helper-type,\n"
	      "                    ringbuf-output, long-jump, zero-fill (docs/kernel.md)\n"
	      "    -h, --help      show this help\n"
	      "    -V, --version   show the version\n"
	      "\n"
	      "ARGS are the positional parameters $1, $2, ... ($# is their count).\n"
	      "\n"
	      "EXAMPLES:\n"
	      "    trace -e 'tracepoint:syscalls:sys_enter_openat { printf(\"%s %s\\n\", comm, "
	      "str(args->filename)); }'\n"
	      "    trace 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }'\n",
	      f);
}

static bool looks_like_program(const char *s)
{
	return strpbrk(s, "{}") != NULL || !strcmp(s, "BEGIN") || !strcmp(s, "END");
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

static int parse_debug(struct cli *c, const char *what)
{
	if (!strcmp(what, "ast"))
		c->dump_ast = true;
	else if (!strcmp(what, "types"))
		c->dump_types = true;
	else if (!strcmp(what, "ir"))
		c->dump_ir = true;
	else if (!strcmp(what, "ir-raw"))
		c->dump_ir_raw = true;
	else if (!strcmp(what, "bpf"))
		c->dump_bpf = true;
	else {
		fprintf(stderr, "trace: unknown debug stage '%s' (ast, types, ir, ir-raw, bpf)\n", what);
		return -1;
	}
	return 0;
}

static int parse_break(struct cli *c, const char *rule)
{
	const char *all = CG_BREAK_RULES, *p = all;
	size_t n = strlen(rule);
	for (; n && (p = strstr(p, rule)); p += n)
		if ((p == all || p[-1] == ' ') && (p[n] == ',' || !p[n])) {
			c->break_rule = rule;
			return 0;
		}
	fprintf(stderr, "trace: unknown --debug-break rule '%s' (%s)\n", rule, CG_BREAK_RULES);
	return -1;
}

static int add_arg(const char ***v, int *n, const char *a)
{
	const char **nv = realloc(*v, (size_t)(*n + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	nv[(*n)++] = a;
	*v = nv;
	return 0;
}

/* -f text|json */
static int parse_format(struct cli *c, const char *what)
{
	if (!strcmp(what, "text"))
		c->format = RT_FORMAT_TEXT;
	else if (!strcmp(what, "json"))
		c->format = RT_FORMAT_JSON;
	else {
		fprintf(stderr, "trace: unknown output format '%s' (text, json)\n", what);
		return -1;
	}
	return 0;
}

/* -B none|line|full */
static int parse_buffering(struct cli *c, const char *what)
{
	if (!strcmp(what, "none"))
		c->buffering = RT_BUF_NONE;
	else if (!strcmp(what, "line"))
		c->buffering = RT_BUF_LINE;
	else if (!strcmp(what, "full"))
		c->buffering = RT_BUF_FULL;
	else {
		fprintf(stderr, "trace: unknown buffering mode '%s' (none, line, full)\n", what);
		return -1;
	}
	return 0;
}

/* Returns 0 to go on, 1 when done (help, version), -1 on a usage error. */
static int parse_args(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "unsafe", no_argument, NULL, 'u' },
		{ "debug-break", required_argument, NULL, OPT_DEBUG_BREAK },
		{ "output", required_argument, NULL, 'o' },
		{ "no-warnings", no_argument, NULL, OPT_NO_WARNINGS },
		{ "emit-elf", required_argument, NULL, OPT_EMIT_ELF },
		{ "emit-llvm", required_argument, NULL, OPT_EMIT_LLVM },
		{ "btf", no_argument, NULL, OPT_BTF },
		{ "usdt-file-activation", no_argument, NULL, OPT_USDT_FILE_ACTIVATION },
		{ "info", no_argument, NULL, OPT_INFO },
		{ "include", required_argument, NULL, OPT_INCLUDE },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	opterr = 0;
	/* '+': stop at the first positional, the rest are parameters;
	 * ':': a missing argument is ':', not '?' */
	while ((ch = getopt_long(argc, argv, "+:he:d:vlVqkf:o:B:p:c:I:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h': usage(stdout); return 1;
		case 'V': printf("trace %s\n", TRACE_VERSION); return 1;
		case 'e': c->program = optarg; break;
		case 'd':
			/* 0.17's -d and -dd take no argument: "-dd", or "-d"
			 * followed by another option, which is parsed again */
			if (!strcmp(optarg, "d")) {
				c->dump_all = true;
			} else if (optarg[0] == '-' && optarg == argv[optind - 1]) {
				c->dump_all = true;
				optind--;
			} else if (parse_debug(c, optarg)) {
				return -1;
			}
			break;
		case 'v': c->verbose++; break;
		case 'l': c->list = true; break;
		case 'n': c->dry_run = true; break;
		case 'u': c->unsafe = true; break;
		case OPT_DEBUG_BREAK: if (parse_break(c, optarg)) return -1; break;
		case 'o': c->output_file = optarg; break;
		case 'f': if (parse_format(c, optarg)) return -1; break;
		case 'B': if (parse_buffering(c, optarg)) return -1; break;
		case 'q': c->quiet = true; break;
		case 'k': c->helper_checks++; break;
		case OPT_NO_WARNINGS: c->no_warnings = true; break;
		case OPT_EMIT_ELF: c->emit_elf = optarg; break;
		case OPT_EMIT_LLVM: c->emit_llvm = optarg; break;
		case OPT_BTF: break;
		case 'c': c->cmd = optarg; break;
		case 'p': c->pid_arg = optarg; break;
		/* semaphores are always set: the kernel counts them up in every
		 * process mapping the file (docs/user-space.md) */
		case OPT_USDT_FILE_ACTIVATION: break;
		case OPT_INFO: c->info = true; return 0;
		case 'I': if (add_arg(&c->incdirs, &c->nincdirs, optarg)) return -1; break;
		case OPT_INCLUDE: if (add_arg(&c->includes, &c->nincludes, optarg)) return -1; break;
		case ':':
			if (optopt == 'd') { /* 0.17's -d, last on the line */
				c->dump_all = true;
				break;
			}
			fprintf(stderr, "trace: option '%s' needs an argument\n\n", argv[optind - 1]);
			usage(stderr);
			return -1;
		default:
			if (optopt > 0 && optopt < OPT_DEBUG_BREAK && optopt != '?')
				fprintf(stderr, "trace: unknown option -%c\n\n", optopt);
			else
				fprintf(stderr, "trace: unknown option '%s'\n\n", argv[optind - 1]);
			usage(stderr);
			return -1;
		}
	}
	int i = optind;
	if (c->list) {
		c->file = i < argc ? argv[i] : NULL;
		return 0;
	}
	if (!c->program) {
		if (i >= argc) {
			fprintf(stderr, "trace: no program given\n\n");
			usage(stderr);
			return -1;
		}
		const char *a = argv[i++];
		if (!strcmp(a, "-") || is_file(a) || !looks_like_program(a))
			c->file = a;
		else
			c->program = a;
	}
	c->params = (const char **)&argv[i];
	c->nparams = argc - i;
	return 0;
}

static struct source *read_source(const struct cli *c)
{
	if (c->program) {
		struct source *s = src_new("stdin", c->program, strlen(c->program));
		if (!s)
			fprintf(stderr, "trace: out of memory\n");
		return s;
	}
	const char *display = !strcmp(c->file, "-") ? "stdin" : c->file;
	struct source *s = src_read_file(c->file, display);
	if (!s)
		fprintf(stderr, "trace: cannot read %s: %s\n", display, strerror(errno));
	return s;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* BPF ISA v4 (signed division, sign extension, 32-bit jumps that long
 * programs need) arrived in Linux 6.6; older kernels get v3. */
static const char *bpf_cpu_for_kernel(void)
{
	/* TRACE_BPF_CPU=v3: what an older kernel gets, built here (debugging) */
	const char *force = getenv("TRACE_BPF_CPU");
	if (force && (!strcmp(force, "v3") || !strcmp(force, "v4")))
		return force;
	struct utsname u;
	int major = 0, minor = 0;
	if (uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
	    (major > 6 || (major == 6 && minor >= 6)))
		return "v4";
	return "v3";
}

/* The widest node that starts at byte `off`: the statement a verifier
 * error's line info points at. */
static void widest_at(const struct node *n, uint32_t off, struct span *best)
{
	for (; n; n = n->next) {
		if (n->span.begin == off && n->span.end - n->span.begin > best->end - best->begin)
			*best = n->span;
		if (n->span.begin <= off && off < n->span.end) {
			struct node *kids[AST_MAX_CHILDREN];
			int k = ast_children(n, kids);
			for (int i = 0; i < k; i++)
				widest_at(kids[i], off, best);
		}
	}
}

/* "FILE:LINE:COL: error: the kernel verifier rejected this probe: ..." */
static void report_rejection(const struct cli *c, const struct rt_session *s,
			     const struct node *prog, struct diag *d)
{
	const struct pd_probe *p = &s->pd->probes[s->failed_probe];
	const struct source *src = d->src;
	if (s->fail_line >= 1 && s->fail_line <= src->nlines) {
		uint32_t off = src->line_starts[s->fail_line - 1] + (s->fail_col ? s->fail_col - 1 : 0);
		struct span sp = { 0, off, off + 1 };
		widest_at(prog, off, &sp);
		diag_error(d, sp, "the kernel verifier rejected this probe: %s", s->verr.explain);
	} else {
		diag_error_nospan(d, "the kernel verifier rejected probe %s: %s", p->name,
				  s->verr.explain);
	}
	fprintf(stderr, "note: verifier: %s (instruction %d of %s; rule: %s)\n",
		s->verr.reason[0] ? s->verr.reason : "?", s->verr.insn, p->name, s->verr.rule);
	if (!c->verbose) {
		fprintf(stderr, "hint: run with -v for the verifier's log\n");
		return;
	}
	const char *log = s->log, *start = log + strlen(log);
	for (int lines = 0; start > log && lines < 40;)
		if (*--start == '\n')
			lines++;
	fprintf(stderr, "verifier log (last lines):\n%s%s", start == log ? "" : "...\n", start);
}

/* trace --info: kernel and features, each found by trying it */
static int print_info(void)
{
	struct rt_features f;
	int err = rt_features_probe(&f);
	if (err) {
		fprintf(stderr, "ERROR: cannot read the kernel version: %s\n", strerror(-err));
		return EXIT_RUNTIME;
	}
	unsigned a, b, v;
	LLVMGetVersion(&a, &b, &v);
	snprintf(f.llvm_version, sizeof(f.llvm_version), "%u.%u.%u", a, b, v);
	rt_features_print(stdout, &f);
	return 0;
}

/* The compiler asks about kernel features through kernel_info; the
 * answers come from the runtime's probes (lazy and cached). */
static bool has_feature(struct kernel_info *ki, enum ki_feature f)
{
	(void)ki;
	switch (f) {
	case KI_KPROBES: return rt_feature_kprobes();
	case KI_FENTRY: return rt_feature_fentry();
	case KI_BTF: return rt_feature_btf();
	case KI_RINGBUF: return rt_feature_ringbuf();
	case KI_KPROBE_MULTI: return rt_feature(RT_FEAT_KPROBE_MULTI);
	case KI_ATTACH_COOKIE: return rt_feature(RT_FEAT_ATTACH_COOKIE);
	case KI_FOR_EACH: return rt_feature(RT_FEAT_FOR_EACH);
	case KI_KPROBE_OVERRIDE: return rt_feature(RT_FEAT_KPROBE_OVERRIDE);
	case KI_UPROBE_MULTI: return rt_feature(RT_FEAT_UPROBE_MULTI);
	}
	return true;
}

static int syscall_nr(struct kernel_info *ki, const char *name)
{
	(void)ki;
	return rt_syscall_nr(name);
}

static const char *feature_reason(struct kernel_info *ki, enum ki_feature f)
{
	(void)ki;
	switch (f) {
	case KI_KPROBES: return rt_feature_reason(RT_FEAT_KPROBES);
	case KI_FENTRY: return rt_feature_reason(RT_FEAT_FENTRY);
	case KI_BTF: return rt_feature_reason(RT_FEAT_BTF);
	case KI_RINGBUF: return rt_feature_reason(RT_FEAT_RINGBUF);
	case KI_KPROBE_MULTI: return rt_feature_reason(RT_FEAT_KPROBE_MULTI);
	case KI_ATTACH_COOKIE: return rt_feature_reason(RT_FEAT_ATTACH_COOKIE);
	case KI_FOR_EACH: return rt_feature_reason(RT_FEAT_FOR_EACH);
	case KI_KPROBE_OVERRIDE: return rt_feature_reason(RT_FEAT_KPROBE_OVERRIDE);
	case KI_UPROBE_MULTI: return rt_feature_reason(RT_FEAT_UPROBE_MULTI);
	}
	return "";
}

static const struct btf *vmlinux_btf(struct kernel_info *ki, const char **why)
{
	(void)ki;
	const struct btf *b = rt_feature_vmlinux_btf();
	*why = b ? "" : rt_feature_reason(RT_FEAT_BTF);
	return b;
}

/* bpftrace's settings (compiler/config.h): the script's config block,
 * then the BPFTRACE_* environment over it. A bad value is an error
 * (exit 2). */
static struct trace_config settings;

static int read_settings(const struct node *prog, struct diag *d, struct sema_opts *so)
{
	if (config_from_script(&settings, prog, d) || config_from_env(&settings))
		return -1;
	so->strlen = (uint32_t)config_get(&settings, CFG_STRLEN);
	so->map_keys_max = (uint32_t)config_get(&settings, CFG_MAP_KEYS_MAX);
	so->stack_mode = (enum pd_stack_mode)config_get(&settings, CFG_STACK_MODE);
	return 0;
}

/* BPFTRACE_MAX_PROBES: bpftrace's refusal, when the script has more
 * attach points (after wildcards) than it allows */
static int check_max_probes(const struct sema *s)
{
	if (!settings.set[CFG_MAX_PROBES] || (uint64_t)s->nprobes <= settings.value[CFG_MAX_PROBES])
		return 0;
	fprintf(stderr,
		"ERROR: Can't attach to %d probes because it exceeds the current limit of %llu "
		"probes.\nYou can increase the limit through the BPFTRACE_MAX_PROBES environment "
		"variable, but BE CAREFUL since a high number of probes attached can cause your "
		"system to crash.\n",
		s->nprobes, (unsigned long long)settings.value[CFG_MAX_PROBES]);
	return -1;
}


/* --no-warnings: the compiler's diagnostics go through this stream, which
 * drops each warning with the source lines, notes and hints after it, up
 * to the next error (the compiler itself always reports warnings). */
struct warning_filter {
	FILE *to;
	char line[4096];
	size_t len;
	bool skipping;
};

static void filter_line(struct warning_filter *f)
{
	const char *l = f->line;
	if (strstr(l, ": warning: ") || !strncmp(l, "warning: ", 9))
		f->skipping = true;
	else if (strstr(l, ": error: ") || !strncmp(l, "error: ", 7))
		f->skipping = false;
	if (!f->skipping)
		fwrite(l, 1, f->len, f->to);
	f->len = 0;
}

static ssize_t filter_write(void *cookie, const char *buf, size_t n)
{
	struct warning_filter *f = cookie;
	for (size_t i = 0; i < n; i++) {
		if (f->len < sizeof(f->line) - 1)
			f->line[f->len++] = buf[i];
		if (buf[i] == '\n' || f->len == sizeof(f->line) - 1) {
			f->line[f->len] = '\0';
			filter_line(f);
		}
	}
	return (ssize_t)n;
}

static int filter_close(void *cookie)
{
	struct warning_filter *f = cookie;
	if (f->len) {
		f->line[f->len] = '\0';
		filter_line(f);
	}
	fflush(f->to);
	return 0;
}

static FILE *open_warning_filter(struct warning_filter *f)
{
	cookie_io_functions_t io = { .write = filter_write, .close = filter_close };
	FILE *s;
	memset(f, 0, sizeof(*f));
	f->to = stderr;
	s = fopencookie(f, "w", io);
	if (s)
		setvbuf(s, NULL, _IONBF, 0);
	return s ? s : stderr;
}

/* Every map, program and link is a file descriptor: a script of a few
 * hundred blocks needs more than the usual soft limit of 1024. The soft
 * limit goes up to the hard one; a script that needs more still is a
 * clear error, not a load failure that looks like the verifier's. */
static int raise_fd_limit(const struct progdesc *pd)
{
	struct rlimit rl;
	/* at most a program and a link per probe; at least one of them. A
	 * chained probe has neither (it runs in another's program). */
	uint32_t nprobes = 0;
	for (uint32_t i = 0; i < pd->nprobes; i++)
		nprobes += !pd->probes[i].chained;
	rlim_t need = (rlim_t)pd->nmaps + 2 * (rlim_t)nprobes + 64;
	rlim_t least = (rlim_t)pd->nmaps + nprobes + 16;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	if (rl.rlim_cur < rl.rlim_max && rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < least) {
		fprintf(stderr, "ERROR: the script needs at least %llu file descriptors (%u maps, %u "
				"programs), more than the limit of %llu; raise it (ulimit -n) or use "
				"fewer probe blocks\n",
			(unsigned long long)least, pd->nmaps, nprobes,
			(unsigned long long)rl.rlim_cur);
		return -1;
	}
	return 0;
}

static int run_session(const struct cli *c, struct rt_session *s, const struct rt_options *ro,
		       const struct progdesc *pd, const struct node *prog, struct diag *d)
{
	if (raise_fd_limit(pd))
		return EXIT_RUNTIME;
	int err = rt_load(s, pd, ro);
	if (err && s->failed_probe >= 0)
		report_rejection(c, s, prog, d);
	if (!err && c->dry_run) {
		rt_close(s);
		return 0;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (!err)
		err = rt_attach(s);
	if (!err)
		err = rt_run(s, &stop_requested);
	int status = s->exit_status;
	rt_close(s);
	return err ? EXIT_RUNTIME : status;
}

static bool kernel_has_btf(void)
{
	return rt_feature_btf();
}

/* The C preprocessor (compiler/cpp.c); headers go to libclang, loaded
 * only now (compiler/headers.c). Returns non-zero on errors. */
static int preprocess(const struct cli *c, const struct source *src, struct diag *d,
		      struct cpp_result *pp)
{
	struct cpp_opts o = { .incdirs = c->incdirs, .nincdirs = c->nincdirs,
			      .includes = c->includes, .nincludes = c->nincludes,
			      .has_btf = kernel_has_btf, .hdr = hdr_ops() };
	double t0 = now_ms();
	int err = cpp_run(src, &o, d, pp);
	if (c->verbose) {
		struct hdr_stats hs;
		hdr_get_stats(&hs);
		fprintf(stderr, "preprocess: %.2f ms", now_ms() - t0);
		if (pp->nheaders)
			fprintf(stderr, " (headers: %d, libclang load %.1f ms, parse %.1f ms, "
					"%d macros, %d enum constants)",
				pp->nheaders, hs.ms_load, hs.ms_parse, hs.nmacros, hs.nenums);
		fputc('\n', stderr);
	}
	return err || diag_has_errors(d);
}

/* --emit-elf FILE, --emit-llvm FILE */
static int write_file(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "we");
	if (!f || fwrite(data, 1, size, f) != size) {
		fprintf(stderr, "trace: cannot write %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	if (fclose(f)) {
		fprintf(stderr, "trace: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* --emit-llvm FILE: FILE.original.ll (before the optimizer) and
 * FILE.optimized.ll, as bpftrace 0.17 writes them */
static int emit_llvm(const struct cli *c, const struct cg_result *res)
{
	size_t n = strlen(c->emit_llvm) + sizeof(".optimized.ll");
	char *path = malloc(n);
	int err = -1;
	if (path && res->ir && res->ir_raw) {
		snprintf(path, n, "%s.original.ll", c->emit_llvm);
		err = write_file(path, res->ir_raw, strlen(res->ir_raw));
		snprintf(path, n, "%s.optimized.ll", c->emit_llvm);
		err = err ?: write_file(path, res->ir, strlen(res->ir));
	}
	free(path);
	return err;
}

static int run(const struct cli *c, const struct progdesc *pd, const struct node *prog,
	       struct diag *d)
{
	struct rt_options ro = { .verbose = c->verbose,
				 .no_warnings = c->no_warnings,
				 .out = stdout,
				 .output = { .format = c->format,
					     .buffering = c->buffering,
					     .quiet = c->quiet,
					     .no_warnings = c->no_warnings,
					     .no_user_symbols = config_get(&settings,
									   CFG_NO_USER_SYMBOLS) != 0,
					     .cat_bytes_max = (uint32_t)config_get(
						     &settings, CFG_CAT_BYTES_MAX) },
				 .perf_pages = settings.set[CFG_PERF_RB_PAGES]
						       ? (uint32_t)settings.value[CFG_PERF_RB_PAGES]
						       : 0,
				 .child = child.pid ? &child : NULL,
				 .pid = c->pid };
	struct rt_session s;
	if (c->output_file && !(ro.out = fopen(c->output_file, "we"))) {
		fprintf(stderr, "ERROR: cannot open the output file %s: %s\n", c->output_file,
			strerror(errno));
		return EXIT_RUNTIME;
	}
	int rc = run_session(c, &s, &ro, pd, prog, d);
	if (ro.out != stdout && fclose(ro.out) && !rc) {
		fprintf(stderr, "ERROR: cannot write the output file %s: %s\n", c->output_file,
			strerror(errno));
		rc = EXIT_RUNTIME;
	}
	return rc;
}

static int compile_and_run(const struct cli *c, struct source *src)
{
	struct arena arena = { 0 };
	struct diag diag;
	int rc = EXIT_USAGE;
	struct warning_filter wf;
	FILE *dout = c->no_warnings ? open_warning_filter(&wf) : stderr;
	diag_init(&diag, src, dout);
	double t0 = now_ms();
	struct cpp_result pp = { 0 };
	bool use_pp = cpp_needed(src) || c->nincludes;
	if (use_pp && preprocess(c, src, &diag, &pp))
		goto out;
	struct node *prog = parse_program_pp(src, use_pp ? &pp : NULL, &arena, &diag);
	double t_parse = now_ms() - t0;
	if (!prog || diag_has_errors(&diag))
		goto out;
	if (c->dump_ast || c->dump_all) {
		if (c->dump_all)
			printf("AST after: parser\n-------------------\n");
		ast_dump(stdout, prog, src, false);
		rc = 0;
		if (!c->dump_all)
			goto out;
		rc = EXIT_USAGE;
	}
	if (geteuid() != 0 && !c->dump_types) {
		/* tracefs formats, BTF and the bpf() syscall all need it */
		fprintf(stderr, "ERROR: trace needs root (CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN) "
				"to read tracepoint formats and load BPF programs\n");
		rc = EXIT_RUNTIME;
		goto out;
	}
	struct sema sema;
	struct sema_opts so = { .hdr_struct = hdr_struct_lookup,
				.params = c->params,
				.nparams = c->nparams,
				.unsafe = c->unsafe,
				.will_attach = !c->dump_types && !c->dump_ir && !c->dump_ir_raw &&
					       !c->dump_bpf && !c->dump_all && !c->dry_run,
				.has_child = c->cmd != NULL,
				.pid = c->pid };
	if (read_settings(prog, &diag, &so))
		goto out;
	t0 = now_ms();
	int bad = sema_check(&sema, prog, ki_system(), &diag, &arena, &so);
	if (c->verbose)
		fprintf(stderr, "front end: parse %.2f ms, check %.2f ms (%u lines)\n", t_parse,
			now_ms() - t0, src->nlines);
	if (c->verbose && sema.btf)
		fprintf(stderr, "kernel BTF: loaded in %.2f ms (part of check)\n",
			kbtf_load_ms(sema.btf));
	if (bad || check_max_probes(&sema))
		goto out;
	if (c->dump_types || c->dump_all) {
		if (c->dump_all)
			printf("\nAST after: semantic analysis\n-------------------\n");
		ast_dump(stdout, prog, src, true);
		rc = 0;
		if (!c->dump_all)
			goto out;
		rc = EXIT_USAGE;
	}
	/* -c: the child exists before code generation, `cpid` being a
	 * constant; it waits for rt_run to release it (runtime/proc.c) */
	if (c->cmd && so.will_attach && rt_child_spawn(c->cmd, &child)) {
		rc = EXIT_RUNTIME;
		goto out;
	}
	struct cg_options co = { .print_ir = c->dump_ir || c->emit_llvm || c->dump_all,
				 .print_ir_raw = c->dump_ir_raw || c->emit_llvm || c->dump_all,
				 .cpid = (uint32_t)child.pid,
				 .print_bpf = c->dump_bpf, .start_ns = monotonic_ns(),
				 .cpu = bpf_cpu_for_kernel(), .break_rule = c->break_rule,
				 .helper_checks = c->helper_checks > 2 ? 2 : c->helper_checks,
				 .ringbuf_pages = settings.set[CFG_PERF_RB_PAGES]
							  ? (uint32_t)settings.value[CFG_PERF_RB_PAGES]
							  : 0 };
	struct cg_result res;
	if (cg_compile(&sema, src, &arena, &co, &diag, &res)) {
		if ((c->dump_ir || c->dump_ir_raw) && res.ir) /* what failed to build */
			fputs(res.ir, stdout);
		if (c->emit_llvm)
			emit_llvm(c, &res);
		if (c->dump_bpf && res.bpf_asm)
			fputs(res.bpf_asm, stdout);
		goto out;
	}
	if (c->verbose)
		fprintf(stderr, "compile: IR %.1f ms, optimize %.1f ms, emit %.1f ms, object %zu bytes\n",
			res.ms_ir, res.ms_opt, res.ms_emit, res.pd->obj_size);
	if (c->verbose)
		rt_describe_attach(res.pd, stderr);
	if (c->emit_llvm && emit_llvm(c, &res)) {
		rc = EXIT_RUNTIME;
	} else if (c->emit_elf) {
		rc = write_file(c->emit_elf, res.pd->obj, res.pd->obj_size) ? EXIT_RUNTIME : 0;
	} else if (c->dump_all) {
		printf("\nLLVM IR before optimization\n-------------------\n%s", res.ir_raw);
		printf("\nLLVM IR after optimization\n-------------------\n%s", res.ir);
		rc = 0;
	} else if (c->dump_ir || c->dump_ir_raw || c->dump_bpf) {
		fputs(c->dump_bpf ? res.bpf_asm : res.ir, stdout);
		rc = 0;
	} else {
		rc = run(c, res.pd, prog, &diag);
	}
	cg_result_free(&res);
out:
	rt_child_stop(&child);
	cpp_result_free(&pp);
	hdr_close();
	diag_finish(&diag);
	if (dout != stderr)
		fclose(dout);
	arena_free(&arena);
	return rc;
}

int main(int argc, char **argv)
{
	struct cli c = { 0 };
	int r = parse_args(&c, argc, argv);
	if (r)
		return r > 0 ? 0 : EXIT_USAGE;
	if (c.list)
		return list_probes(c.file, c.verbose > 0);
	if (c.info)
		return print_info();
	ki_system()->has_feature = has_feature;
	ki_system()->syscall_nr = syscall_nr;
	ki_system()->feature_reason = feature_reason;
	ki_system()->vmlinux_btf = vmlinux_btf;
	if (c.cmd && c.pid_arg) {
		fprintf(stderr, "ERROR: -c and -p cannot be used together\n");
		return EXIT_USAGE;
	}
	if (c.pid_arg && rt_pid_parse(c.pid_arg, &c.pid))
		return EXIT_USAGE;
	struct source *src = read_source(&c);
	if (!src)
		return EXIT_USAGE;
	int rc = compile_and_run(&c, src);
	src_free(src);
	free(c.incdirs);
	free(c.includes);
	return rc;
}
