/* loader: the user-space half of the hand-written baselines.
 *
 *   loader [-v] [-n] [-p PID] [-a CAT:GLOB] [-j THREADS] [-d SECONDS] OBJ.bpf.o
 *
 * What a careful engineer writes with libbpf to run one of the BPF objects
 * next to it, mirroring what trace does: open and load the object, print
 * "Attaching N probes...", attach every program by its SEC() name, run the
 * program named "begin" (if any) once with BPF_PROG_TEST_RUN, stream the
 * ring buffer "rb" (records in common.h), stop on an exit record, SIGINT,
 * SIGTERM or after -d SECONDS, detach, then print the maps and the loss
 * count ("Lost N events", from the per-CPU array "lost").
 *
 *   -p PID         stored in the object's .rodata (its only variable,
 *                  target_pid) before load
 *   -a CAT:GLOB    attach the program named "each" to every tracepoint
 *                  CAT:NAME with NAME matching GLOB, the index as BPF cookie
 *   -j THREADS     destroy the links from THREADS threads (default 64): each
 *                  last detach of a tracepoint waits for RCU grace periods
 *                  (tracepoint_synchronize_unregister); concurrent ones
 *                  overlap in part: 360 syscall tracepoints take ~27 s from
 *                  one thread, ~9.6 s from 64 here
 *   -n             do not load the "begin" program (the script without BEGIN)
 *   -v             libbpf messages and phase times on stderr
 *
 * Maps printed by name: counts (per-CPU hash, char[16] -> u64),
 * pcounts (per-CPU hash, cookie -> u64), count (per-CPU array[1]),
 * hist (per-CPU array of HIST_SLOTS log2 buckets). */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static volatile sig_atomic_t stop_sig;
static int stop_exit, verbose, ncpus;
static char **tp_names;
static int ntp;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!verbose && level != LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void on_signal(int sig)
{
	(void)sig;
	stop_sig = 1;
}

static int on_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	unsigned type = *(unsigned *)data;
	if (type == REC_EXIT) {
		stop_exit = 1;
		return 1; /* stop consuming: later records are dropped, as bpftrace does */
	}
	if (stop_exit)
		return 0;
	if (type == REC_SYSCALL && size >= sizeof(struct rec_syscall)) {
		const struct rec_syscall *r = data;
		printf("%.16s %u %lld\n", r->comm, r->pid, r->id);
	} else if (type == REC_OPENAT && size >= sizeof(struct rec_openat)) {
		const struct rec_openat *r = data;
		printf("%.16s %.64s\n", r->comm, r->filename);
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Tracepoint names CAT:GLOB, sorted, into tp_names. */
static int match_tracepoints(const char *spec, char *cat, size_t catsz)
{
	const char *colon = strchr(spec, ':');
	if (!colon || (size_t)(colon - spec) >= catsz)
		return -EINVAL;
	memcpy(cat, spec, (size_t)(colon - spec));
	cat[colon - spec] = 0;
	const char *glob = colon + 1;
	char dir[512];
	snprintf(dir, sizeof dir, "/sys/kernel/tracing/events/%s", cat);
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(dir, sizeof dir, "/sys/kernel/debug/tracing/events/%s", cat);
		d = opendir(dir);
	}
	if (!d)
		return -errno;
	struct dirent *e;
	int cap = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || e->d_type != DT_DIR || fnmatch(glob, e->d_name, 0))
			continue;
		if (ntp == cap) {
			cap = cap ? cap * 2 : 256;
			tp_names = realloc(tp_names, (size_t)cap * sizeof *tp_names);
		}
		tp_names[ntp++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(tp_names, (size_t)ntp, sizeof *tp_names, cmp_str);
	return ntp;
}

struct detach_job {
	struct bpf_link **links;
	int n, next;
	pthread_mutex_t mu;
};

static void *detach_worker(void *arg)
{
	struct detach_job *j = arg;
	for (;;) {
		pthread_mutex_lock(&j->mu);
		int i = j->next++;
		pthread_mutex_unlock(&j->mu);
		if (i >= j->n)
			return NULL;
		bpf_link__destroy(j->links[i]);
	}
}

static void detach_all(struct bpf_link **links, int n, int threads)
{
	struct detach_job j = { .links = links, .n = n };
	pthread_mutex_init(&j.mu, NULL);
	if (threads > n)
		threads = n;
	if (threads <= 1) {
		detach_worker(&j);
		return;
	}
	pthread_t *t = calloc((size_t)threads, sizeof *t);
	int started = 0;
	for (int i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, detach_worker, &j) == 0)
			started++;
		else
			break;
	if (!started)
		detach_worker(&j);
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	free(t);
}

static uint64_t percpu_sum(int fd, const void *key)
{
	uint64_t vals[ncpus], total = 0;
	if (bpf_map_lookup_elem(fd, key, vals))
		return 0;
	for (int c = 0; c < ncpus; c++)
		total += vals[c];
	return total;
}

struct kv {
	char key[64];
	uint64_t val;
};

static int cmp_kv(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	return x->val < y->val ? -1 : x->val > y->val;
}

static void print_hash(int fd, size_t ksize, int is_cookie)
{
	char key[16], next[16];
	struct kv *kvs = NULL;
	int n = 0, cap = 0;
	void *prev = NULL;
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, ksize);
		prev = key;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			kvs = realloc(kvs, (size_t)cap * sizeof *kvs);
		}
		if (is_cookie) {
			uint64_t c;
			memcpy(&c, key, 8);
			snprintf(kvs[n].key, sizeof kvs[n].key, "tracepoint:syscalls:%s",
				 c < (uint64_t)ntp ? tp_names[c] : "?");
		} else {
			snprintf(kvs[n].key, sizeof kvs[n].key, "%.16s", key);
		}
		kvs[n].val = percpu_sum(fd, key);
		n++;
	}
	qsort(kvs, (size_t)n, sizeof *kvs, cmp_kv);
	for (int i = 0; i < n; i++)
		printf("@[%s]: %llu\n", kvs[i].key, (unsigned long long)kvs[i].val);
	free(kvs);
}

static void print_hist(int fd)
{
	printf("@: \n");
	for (uint32_t s = 0; s < HIST_SLOTS; s++) {
		uint64_t v = percpu_sum(fd, &s);
		if (!v)
			continue;
		if (s == 0)
			printf("(..., 0)  %llu\n", (unsigned long long)v);
		else if (s == 1)
			printf("[0]  %llu\n", (unsigned long long)v);
		else
			printf("[2^%u, 2^%u)  %llu\n", s - 2, s - 1, (unsigned long long)v);
	}
}

int main(int argc, char **argv)
{
	const char *attach_spec = NULL;
	long pid = -1;
	int threads = 64, no_begin = 0, opt;
	double duration = 0;

	while ((opt = getopt(argc, argv, "vnp:a:j:d:")) != -1) {
		switch (opt) {
		case 'v': verbose = 1; break;
		case 'n': no_begin = 1; break;
		case 'p': pid = atol(optarg); break;
		case 'a': attach_spec = optarg; break;
		case 'j': threads = atoi(optarg); break;
		case 'd': duration = atof(optarg); break;
		default:
			fprintf(stderr, "usage: loader [-v] [-n] [-p PID] [-a CAT:GLOB] [-j N] [-d S] OBJ\n");
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: loader [-v] [-n] [-p PID] [-a CAT:GLOB] [-j N] [-d S] OBJ\n");
		return 2;
	}
	libbpf_set_print(print_fn);
	ncpus = libbpf_num_possible_cpus();

	double t0 = now_ms();
	struct bpf_object *obj = bpf_object__open_file(argv[optind], NULL);
	if (!obj) {
		fprintf(stderr, "loader: open %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	struct bpf_map *m;
	if (pid >= 0) {
		bpf_object__for_each_map(m, obj) {
			const char *n = bpf_map__name(m);
			size_t l = strlen(n);
			size_t sz;
			if (l >= 7 && strcmp(n + l - 7, ".rodata") == 0) {
				const void *cur = bpf_map__initial_value(m, &sz);
				if (cur && sz >= 4) {
					char *copy = malloc(sz);
					uint32_t v = (uint32_t)pid;
					memcpy(copy, cur, sz);
					memcpy(copy, &v, 4);
					bpf_map__set_initial_value(m, copy, sz);
					free(copy);
				}
			}
		}
	}
	struct bpf_program *prog, *begin = NULL;
	if (no_begin && (prog = bpf_object__find_program_by_name(obj, "begin")))
		bpf_program__set_autoload(prog, false);
	double t1 = now_ms();
	if (bpf_object__load(obj)) {
		fprintf(stderr, "loader: load failed\n");
		return 1;
	}
	double t2 = now_ms();

	char cat[128] = "";
	if (attach_spec && match_tracepoints(attach_spec, cat, sizeof cat) <= 0) {
		fprintf(stderr, "loader: no tracepoint matches %s\n", attach_spec);
		return 1;
	}

	int nprobes = 0;
	bpf_object__for_each_program(prog, obj) {
		const char *name = bpf_program__name(prog);
		if (!bpf_program__autoload(prog))
			continue;
		if (strcmp(name, "begin") == 0) {
			begin = prog;
			nprobes++;
		} else if (strcmp(name, "each") == 0) {
			nprobes += ntp;
		} else {
			nprobes++;
		}
	}
	printf("Attaching %d probe%s...\n", nprobes, nprobes == 1 ? "" : "s");
	fflush(stdout);

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	double t3 = now_ms();
	struct bpf_link **links = calloc((size_t)nprobes + 1, sizeof *links);
	int nlinks = 0;
	bpf_object__for_each_program(prog, obj) {
		const char *name = bpf_program__name(prog);
		if (prog == begin || !bpf_program__autoload(prog))
			continue;
		if (strcmp(name, "each") == 0) {
			for (int i = 0; i < ntp; i++) {
				LIBBPF_OPTS(bpf_tracepoint_opts, o, .bpf_cookie = (uint64_t)i);
				struct bpf_link *l = bpf_program__attach_tracepoint_opts(prog, cat, tp_names[i], &o);
				if (!l) {
					fprintf(stderr, "loader: attach %s:%s: %s\n", cat, tp_names[i], strerror(errno));
					continue;
				}
				links[nlinks++] = l;
			}
			continue;
		}
		struct bpf_link *l = bpf_program__attach(prog);
		if (!l) {
			fprintf(stderr, "loader: attach %s: %s\n", name, strerror(errno));
			return 1;
		}
		links[nlinks++] = l;
	}
	double t4 = now_ms();

	struct ring_buffer *rb = NULL;
	struct bpf_map *rbmap = bpf_object__find_map_by_name(obj, "rb");
	if (rbmap)
		rb = ring_buffer__new(bpf_map__fd(rbmap), on_record, NULL, NULL);
	if (begin) {
		LIBBPF_OPTS(bpf_test_run_opts, topts);
		if (bpf_prog_test_run_opts(bpf_program__fd(begin), &topts))
			fprintf(stderr, "loader: BEGIN: %s\n", strerror(errno));
	}
	double deadline = duration > 0 ? now_ms() + duration * 1e3 : 0;
	while (!stop_sig && !stop_exit && (!deadline || now_ms() < deadline)) {
		if (rb) {
			int r = ring_buffer__poll(rb, 100);
			if (r < 0 && r != -EINTR)
				break;
		} else {
			usleep(100000);
		}
	}
	double t5 = now_ms();
	detach_all(links, nlinks, threads);
	double t6 = now_ms();
	if (rb && !stop_exit)
		ring_buffer__consume(rb); /* what is still pending (not after exit) */
	fflush(stdout);

	uint64_t nlost = 0;
	bpf_object__for_each_map(m, obj) {
		const char *n = bpf_map__name(m);
		int fd = bpf_map__fd(m);
		uint32_t zero = 0;
		if (strcmp(n, "counts") == 0) {
			printf("\n");
			print_hash(fd, 16, 0);
		} else if (strcmp(n, "pcounts") == 0) {
			printf("\n");
			print_hash(fd, 8, 1);
		} else if (strcmp(n, "count") == 0) {
			printf("\n@: %llu\n", (unsigned long long)percpu_sum(fd, &zero));
		} else if (strcmp(n, "hist") == 0) {
			printf("\n");
			print_hist(fd);
		} else if (strcmp(n, "lost") == 0) {
			nlost = percpu_sum(fd, &zero);
		}
	}
	if (nlost)
		fprintf(stderr, "Lost %llu events\n", (unsigned long long)nlost);
	if (verbose)
		fprintf(stderr, "open %.1f ms, load %.1f ms, attach %d links in %.1f ms, detach %d links in %.1f ms (%d threads)\n",
			t1 - t0, t2 - t1, nlinks, t4 - t3, nlinks, t6 - t5, threads);
	ring_buffer__free(rb);
	bpf_object__close(obj);
	return 0;
}
