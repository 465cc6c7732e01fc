/* proc.h: the processes a trace follows: the -c child, held before exec
 * until the probes are attached, and the -p process. Either ends the
 * trace when it exits (rt_run polls rt_proc_gone()).
 */
#ifndef TRACE_PROC_H
#define TRACE_PROC_H

#include <stdbool.h>
#include <sys/types.h>

struct rt_child {
	pid_t pid;   /* 0: none */
	int release; /* write end of the pipe the child waits on, or -1 */
	bool reaped; /* waited for */
	int status;  /* its wait status, once reaped */
};

/* -p: parses a pid and checks the process exists, printing bpftrace's
 * messages ("pid 'x' is not a valid decimal number", ...). 0 or -1. */
int rt_pid_parse(const char *s, pid_t *pid);
/* -c: splits CMD like a shell (wordexp, no command substitution), finds
 * the program in PATH and forks a child that waits before exec. 0 or
 * -errno with the reason printed. */
int rt_child_spawn(const char *cmd, struct rt_child *c);
/* Lets the child exec. */
void rt_child_release(struct rt_child *c);
/* Has the process ended? For a child, reaps it. */
bool rt_proc_gone(struct rt_child *c, pid_t pid);
/* Ends a child that still runs (SIGTERM, as bpftrace) and reaps it; a
 * held child is killed without having run. */
void rt_child_stop(struct rt_child *c);

#endif
