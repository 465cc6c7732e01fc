/* proc.c: the -c child and the -p process (proc.h).
 *
 * The child is forked before the script is compiled (cpid is a constant
 * in the generated code, as in bpftrace) and blocks reading a pipe; the
 * runtime writes one byte after attaching and running BEGIN, and the
 * child then execs. If trace fails first, the pipe closes without a byte
 * and the child exits without running CMD.
 */
#include "runtime/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wordexp.h>

int rt_pid_parse(const char *s, pid_t *pid)
{
	long max = 4194304; /* PID_MAX_LIMIT, bpftrace's bound */
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || *end || end == s) {
		fprintf(stderr, "ERROR: pid '%s' is not a valid decimal number\n", s);
		return -1;
	}
	if (errno == ERANGE) {
		fprintf(stderr, "ERROR: pid '%s' outside of integer range\n", s);
		return -1;
	}
	if (v < 1 || v > max) {
		fprintf(stderr, "ERROR: pid '%s' out of valid pid range [1,%ld]\n", s, max);
		return -1;
	}
	if (kill((pid_t)v, 0) && errno == ESRCH) {
		fprintf(stderr, "ERROR: pid %ld does not exist\n", v);
		return -1;
	}
	*pid = (pid_t)v;
	return 0;
}

/* Is NAME (with a '/': as given) an executable file, searched in PATH? */
static bool find_program(const char *name)
{
	struct stat st;
	if (strchr(name, '/'))
		return !stat(name, &st) && S_ISREG(st.st_mode) && !access(name, X_OK);
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		char full[4096];
		if (snprintf(full, sizeof(full), "%.*s/%s", (int)n, n ? path : ".", name) <
			    (int)sizeof(full) &&
		    !stat(full, &st) && S_ISREG(st.st_mode) && !access(full, X_OK))
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

static void child_main(int rd, char **argv)
{
	char go;
	prctl(PR_SET_PDEATHSIG, SIGTERM); /* trace died while holding it */
	if (read(rd, &go, 1) != 1)
		_exit(127); /* trace gave up: CMD never runs */
	close(rd);
	execvp(argv[0], argv);
	fprintf(stderr, "ERROR: cannot run '%s': %s\n", argv[0], strerror(errno));
	_exit(127);
}

int rt_child_spawn(const char *cmd, struct rt_child *c)
{
	wordexp_t w;
	int fds[2], err;
	memset(c, 0, sizeof(*c));
	c->release = -1;
	if (wordexp(cmd, &w, WRDE_NOCMD)) {
		fprintf(stderr, "ERROR: cannot parse command '%s'\n", cmd);
		return -EINVAL;
	}
	if (!w.we_wordc) {
		fprintf(stderr, "ERROR: empty command for -c\n");
		wordfree(&w);
		return -EINVAL;
	}
	if (!find_program(w.we_wordv[0])) {
		fprintf(stderr, "ERROR: failed to find executable '%s' for -c\n", w.we_wordv[0]);
		wordfree(&w);
		return -ENOENT;
	}
	if (pipe2(fds, O_CLOEXEC)) {
		err = -errno;
		wordfree(&w);
		return err;
	}
	fflush(NULL);
	c->pid = fork();
	if (c->pid == 0) {
		close(fds[1]);
		child_main(fds[0], w.we_wordv);
	}
	err = c->pid < 0 ? -errno : 0;
	close(fds[0]);
	wordfree(&w);
	if (err) {
		close(fds[1]);
		c->pid = 0;
		fprintf(stderr, "ERROR: cannot start '%s': %s\n", cmd, strerror(-err));
		return err;
	}
	c->release = fds[1];
	return 0;
}

void rt_child_release(struct rt_child *c)
{
	if (c->release < 0)
		return;
	ssize_t n = write(c->release, "g", 1);
	(void)n; /* a child that died already is noticed by rt_proc_gone */
	close(c->release);
	c->release = -1;
}

bool rt_proc_gone(struct rt_child *c, pid_t pid)
{
	if (c && c->pid) {
		if (!c->reaped && waitpid(c->pid, &c->status, WNOHANG) == c->pid)
			c->reaped = true;
		return c->reaped;
	}
	return pid > 0 && kill(pid, 0) && errno == ESRCH;
}

void rt_child_stop(struct rt_child *c)
{
	if (!c->pid)
		return;
	if (c->release >= 0) { /* never released: it exits without running CMD */
		close(c->release);
		c->release = -1;
	}
	if (!c->reaped && waitpid(c->pid, &c->status, WNOHANG) != c->pid) {
		kill(c->pid, SIGTERM);
		waitpid(c->pid, &c->status, 0);
	}
	c->reaped = true;
}
