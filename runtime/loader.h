/* loader.h: a program description -> loaded, attached, running probes.
 *
 * In: a struct progdesc (the BPF object bytes and the tables). Out: the
 * object loaded through the kernel verifier, programs attached, BEGIN run,
 * event records (ring buffer, or perf buffer before 5.8) formatted until exit() or a signal, then END, the
 * maps printed and everything detached and closed.
 * Does not: know anything about the script's syntax or types.
 */
#ifndef TRACE_RUNTIME_LOADER_H
#define TRACE_RUNTIME_LOADER_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "runtime/output.h"
#include "runtime/proc.h"
#include "runtime/progdesc.h"
#include "runtime/verifier.h"

struct bpf_object;
struct bpf_link;
struct ring_buffer;
struct perf_buffer;

struct rt_session {
	const struct progdesc *pd;
	struct bpf_object *obj;
	int *map_fds; /* per pd->maps[i] */
	int *prog_fds; /* per pd->probes[i] */
	struct bpf_program **progs; /* per pd->probes[i], found once (index_programs) */
	struct bpf_link **links;
	int nlinks, cap_links;
	int *link_fds; /* links libbpf cannot make (uprobe_multi), by fd */
	int nlink_fds;
	struct ring_buffer *rb;	 /* the events: a ring buffer (>= 5.8) */
	struct perf_buffer *pb;	 /* or per-CPU perf buffers (PD_MAP_PERFBUF) */
	struct rt_output out;
	bool output_ready;
	bool exiting;
	bool events_open; /* the ring/perf buffer is open (rt_attach) */
	int exit_status; /* exit(status) of the script, 0 without one */
	bool begun;	  /* BEGIN has run (rt_attach runs it before attaching) */
	bool has_iter; /* iter probes attached: read them after BEGIN, then end */
	struct rt_child *child; /* -c: released after BEGIN; its exit ends the trace */
	pid_t watch_pid;	/* -p: its exit ends the trace */
	bool usyms;		/* the program prints user symbols (ustack, usym) */
	bool child_execed;	/* -c: CMD has replaced the forked trace */
	int verbose;
	uint32_t perf_pages; /* rt_options.perf_pages */
	bool no_warnings; /* --no-warnings */
	char *log; /* verifier log of the last load */
	char log_prog[64]; /* the program it is of, as libbpf names it */
	/* the probe whose program the verifier rejected, or -1; then where in
	 * the script (0 if unknown) and why, for the driver to print */
	int failed_probe;
	uint32_t fail_line, fail_col;
	struct rt_verifier_error verr;
};

struct rt_options {
	int verbose;
	bool no_warnings;		/* --no-warnings: no WARNING lines on stderr */
	FILE *out;			/* program output (-o FILE), stdout if NULL */
	struct rt_output_opts output; /* -f, -B, -q */
	struct rt_child *child; /* -c CMD, held (runtime/proc.h), or NULL */
	pid_t pid;		/* -p PID, or 0 */
	uint32_t perf_pages;	/* BPFTRACE_PERF_RB_PAGES: pages of each CPU's perf
				   buffer (a power of 2), 0 for the default */
};

/* Opens and loads the object (the kernel verifier runs here). On failure
 * returns -errno with the reason printed to stderr, except for a verifier
 * rejection (failed_probe >= 0, s->verr, fail_line/col and the log in
 * s->log), which the caller reports in the script's terms. */
int rt_load(struct rt_session *s, const struct progdesc *pd, const struct rt_options *opts);
/* Runs BEGIN, then attaches every probe but BEGIN/END; prints
 * "Attaching N probes..." (the writer's attached_probes record; nothing
 * with -q), then BEGIN's output. */
int rt_attach(struct rt_session *s);
/* -v: how the tracepoints will be attached (raw syscall tracepoints with a
 * number filter, or one perf event each). */
void rt_describe_attach(const struct progdesc *pd, FILE *f);
/* Runs BEGIN unless rt_attach did, then polls the event buffer until exit()
 * or *stop; then detaches, runs
 * END and prints the maps. Returns 0 or -errno. */
int rt_run(struct rt_session *s, volatile sig_atomic_t *stop);
/* Detaches and frees everything; safe on a partly set-up session. */
void rt_close(struct rt_session *s);

#endif
