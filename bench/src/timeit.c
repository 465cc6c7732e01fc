/* timeit: run a command, report its wall time, the time at which a marker
 * line appeared on its stdout, its peak RSS and CPU time.
 *
 *   timeit [-o OUT] [-e ERR] [-m MARK] [-t SECONDS] -- CMD [ARGS...]
 *
 * The command's stdout goes through a pipe (copied to OUT, default
 * /dev/null) so the moment a line containing MARK (default "Attaching")
 * arrives can be timed; stderr goes to ERR (default /dev/null). After
 * SECONDS (default 0: none) the command gets SIGKILL and the status reads
 * "timeout". Prints one line on stdout:
 *   wall_ms ready_ms maxrss_kb user_ms sys_ms status
 * ready_ms is -1 when MARK never appeared. maxrss_kb is ru_maxrss from
 * wait4(2), what GNU time's %M reports. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

int main(int argc, char **argv)
{
	const char *out = "/dev/null", *err = "/dev/null", *mark = "Attaching";
	double timeout_s = 0;
	int opt;

	while ((opt = getopt(argc, argv, "+o:e:m:t:")) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 'e': err = optarg; break;
		case 'm': mark = optarg; break;
		case 't': timeout_s = atof(optarg); break;
		default:
			fprintf(stderr, "usage: timeit [-o OUT] [-e ERR] [-m MARK] [-t S] -- CMD...\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "timeit: no command\n");
		return 2;
	}
	int ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int efd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int p[2];
	if (ofd < 0 || efd < 0 || pipe(p)) {
		perror("timeit");
		return 2;
	}
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(efd, 2);
		close(p[0]);
		close(p[1]);
		close(ofd);
		close(efd);
		execvp(argv[optind], argv + optind);
		perror("exec");
		_exit(127);
	}
	close(p[1]);
	close(efd);

	char buf[65536], tail[256] = "";
	size_t mlen = strlen(mark);
	double ready = -1;
	int timed_out = 0;
	for (;;) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		int left = -1;
		if (timeout_s > 0) {
			double rem = timeout_s * 1e3 - (now_ms() - t0);
			if (rem <= 0) {
				kill(pid, SIGKILL);
				timed_out = 1;
				break;
			}
			left = (int)rem + 1;
		}
		int r = poll(&pf, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			continue;
		ssize_t n = read(p[0], buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (ready < 0 && mlen > 0) {
			/* search tail + buf for the marker */
			size_t tl = strlen(tail);
			char *s = malloc(tl + (size_t)n + 1);
			memcpy(s, tail, tl);
			memcpy(s + tl, buf, (size_t)n);
			s[tl + (size_t)n] = 0;
			if (memmem(s, tl + (size_t)n, mark, mlen))
				ready = now_ms() - t0;
			size_t keep = mlen < sizeof tail ? mlen : sizeof tail - 1;
			size_t tot = tl + (size_t)n;
			if (keep > tot)
				keep = tot;
			memcpy(tail, s + tot - keep, keep);
			tail[keep] = 0;
			free(s);
		}
		for (ssize_t w = 0; w < n;) {
			ssize_t k = write(ofd, buf + w, (size_t)(n - w));
			if (k <= 0)
				break;
			w += k;
		}
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	double wall = now_ms() - t0;
	char st[32];
	if (timed_out)
		snprintf(st, sizeof st, "timeout");
	else if (WIFEXITED(status))
		snprintf(st, sizeof st, "%d", WEXITSTATUS(status));
	else
		snprintf(st, sizeof st, "sig%d", WTERMSIG(status));
	printf("%.2f %.2f %ld %.1f %.1f %s\n", wall, ready, ru.ru_maxrss,
	       (double)ru.ru_utime.tv_sec * 1e3 + (double)ru.ru_utime.tv_usec / 1e3,
	       (double)ru.ru_stime.tv_sec * 1e3 + (double)ru.ru_stime.tv_usec / 1e3, st);
	return 0;
}
