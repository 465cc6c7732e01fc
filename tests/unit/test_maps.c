/* test_maps.c: maps.c against real BPF maps (per-CPU hashes, a hash, a
 * per-CPU array of hist buckets).
 *
 * Creates maps with bpf_map_create, fills them from user space the way the
 * programs would (one value per possible CPU), and checks what print(),
 * clear(), zero() and the exit printout do. Needs CAP_BPF (root); without
 * it the test says SKIP and passes, since test_output.c covers the
 * formatting without fds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "runtime/maps.h"
#include "runtime/output.h"

#include "tests/unit/check.h"

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

#define CHECK_STR(got, want)                                                                    \
	do {                                                                                    \
		const char *g_ = or_empty(got), *w_ = (want);                                   \
		if (strcmp(g_, w_)) {                                                           \
			fprintf(stderr, "%s:%d: got:\n[%s]\nwant:\n[%s]\n", __FILE__, __LINE__, \
				g_, w_);                                                        \
			failures++;                                                             \
		}                                                                               \
	} while (0)

enum { M_COUNT, M_HIST, M_SCALAR, M_STR, M_EMPTY, NMAPS };

static struct pd_map maps[NMAPS] = {
	[M_COUNT] = { .name = "@c",
		      .role = PD_MAP_USER,
		      .agg = PD_AGG_COUNT,
		      .bpf_type = BPF_MAP_TYPE_PERCPU_HASH,
		      .max_entries = 16,
		      .key_size = 8,
		      .value_size = 8,
		      .key = { .kind = PD_INT, .size = 8, .is_signed = true } },
	[M_HIST] = { .name = "@h",
		     .role = PD_MAP_USER,
		     .agg = PD_AGG_HIST,
		     .bpf_type = BPF_MAP_TYPE_PERCPU_HASH,
		     .max_entries = 16,
		     .key_size = 8,
		     .value_size = 66 * 8,
		     .key = { .kind = PD_NONE, .size = 8 },
		     .nbuckets = 66 },
	[M_SCALAR] = { .name = "@a",
		       .role = PD_MAP_USER,
		       .bpf_type = BPF_MAP_TYPE_HASH,
		       .max_entries = 1,
		       .key_size = 8,
		       .value_size = 8,
		       .key = { .kind = PD_NONE, .size = 8 },
		       .value = { .kind = PD_INT, .size = 8, .is_signed = true } },
	[M_STR] = { .name = "@s",
		    .role = PD_MAP_USER,
		    .bpf_type = BPF_MAP_TYPE_HASH,
		    .max_entries = 16,
		    .key_size = 8,
		    .value_size = 16,
		    .key = { .kind = PD_INT, .size = 8, .is_signed = true },
		    .value = { .kind = PD_STR, .size = 16 } },
	[M_EMPTY] = { .name = "@z",
		      .role = PD_MAP_USER,
		      .agg = PD_AGG_AVG,
		      .bpf_type = BPF_MAP_TYPE_PERCPU_HASH,
		      .max_entries = 1,
		      .key_size = 8,
		      .value_size = 16,
		      .key = { .kind = PD_NONE, .size = 8 } },
};

static int fds[NMAPS];
static int ncpus;

static int create_maps(void)
{
	for (int i = 0; i < NMAPS; i++) {
		fds[i] = bpf_map_create(maps[i].bpf_type, NULL, maps[i].key_size,
					maps[i].value_size, maps[i].max_entries, NULL);
		if (fds[i] < 0)
			return -errno;
	}
	return 0;
}

/* Runs f(o) and returns what it printed (malloc'd). */
static char *capture(int (*f)(struct rt_output *o, int map), int map, int *err)
{
	struct progdesc pd = { .maps = maps, .nmaps = NMAPS };
	struct rt_output o;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	CHECK(rt_output_init(&o, out, &pd, fds) == 0);
	*err = f(&o, map);
	rt_output_fini(&o);
	fclose(out);
	return text;
}

static int print_all(struct rt_output *o, int map)
{
	(void)map;
	return rt_maps_print_all(&o->ctx, &o->w);
}

static int print_one(struct rt_output *o, int map)
{
	return rt_map_print(&o->ctx, &o->w, map, 0, 0);
}

static int zero_one(struct rt_output *o, int map)
{
	return rt_map_zero(&o->ctx, map);
}

static int clear_one(struct rt_output *o, int map)
{
	return rt_map_clear(&o->ctx, map);
}

static void fill(void)
{
	size_t stride = 8;
	uint64_t *v = calloc((size_t)ncpus, 66 * 8);
	uint64_t key = 0;
	int64_t a = -5;

	/* @c[1]: 1 on each CPU; @c[2]: 10 on the last CPU only */
	for (int c = 0; c < ncpus; c++)
		v[c * stride / 8] = 1;
	key = 1;
	CHECK(bpf_map_update_elem(fds[M_COUNT], &key, v, BPF_ANY) == 0);
	memset(v, 0, (size_t)ncpus * 8);
	v[ncpus - 1] = 10 + (uint64_t)ncpus;
	key = 2;
	CHECK(bpf_map_update_elem(fds[M_COUNT], &key, v, BPF_ANY) == 0);
	/* @h = hist(1) on CPU 0, hist(2) on the last CPU */
	memset(v, 0, (size_t)ncpus * 66 * 8);
	v[2] += 1;
	v[(ncpus - 1) * 66 + 3] += 1;
	key = 0;
	CHECK(bpf_map_update_elem(fds[M_HIST], &key, v, BPF_ANY) == 0);
	CHECK(bpf_map_update_elem(fds[M_SCALAR], &key, &a, BPF_ANY) == 0);
	key = 3;
	CHECK(bpf_map_update_elem(fds[M_STR], &key, "three\0\0\0\0\0\0\0\0\0\0", BPF_ANY) == 0);
	key = 1;
	CHECK(bpf_map_update_elem(fds[M_STR], &key, "one\0\0\0\0\0\0\0\0\0\0\0\0", BPF_ANY) == 0);
	free(v);
}

static void test_print(void)
{
	char want[1024];
	char *t;
	int err;

	t = capture(print_one, M_COUNT, &err);
	snprintf(want, sizeof(want), "@c[1]: %d\n@c[2]: %d\n", ncpus, 10 + ncpus);
	CHECK(err == 0);
	CHECK_STR(t, want);
	free(t);

	t = capture(print_all, 0, &err);
	snprintf(want, sizeof(want),
		 "\n\n"
		 "@a: -5\n"
		 "@c[1]: %d\n@c[2]: %d\n"
		 "@h: \n"
		 "[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
		 "[2, 4)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
		 "\n"
		 "@s[1]: one\n@s[3]: three\n"
		 "\n\n",
		 ncpus, 10 + ncpus);
	CHECK(err == 0);
	CHECK_STR(t, want);
	free(t);
}

static void test_zero_clear(void)
{
	char *t;
	int err;

	t = capture(zero_one, M_COUNT, &err);
	CHECK(err == 0);
	CHECK_STR(t, "");
	free(t);
	t = capture(print_one, M_COUNT, &err);
	CHECK_STR(t, "@c[1]: 0\n@c[2]: 0\n");
	free(t);

	t = capture(zero_one, M_HIST, &err);
	free(t);
	t = capture(print_one, M_HIST, &err);
	CHECK_STR(t, "@h: \n\n");
	free(t);

	t = capture(clear_one, M_STR, &err);
	CHECK(err == 0);
	free(t);
	t = capture(print_one, M_STR, &err);
	CHECK_STR(t, "\n");
	free(t);
}

/* A keyless lhist(0, 0, 3, 1) as codegen lays it out: a per-CPU array of
 * one u64 per bucket (5) and the marker element zero() sets. */
static struct pd_map bucket_map = { .name = "@b",
				    .role = PD_MAP_USER,
				    .agg = PD_AGG_LHIST,
				    .bpf_type = BPF_MAP_TYPE_PERCPU_ARRAY,
				    .max_entries = 6,
				    .key_size = 4,
				    .value_size = 5 * 8,
				    .key = { .kind = PD_NONE, .size = 4 },
				    .nbuckets = 5,
				    .lhist_min = 0,
				    .lhist_max = 3,
				    .lhist_step = 1 };

static char *capture_buckets(int (*f)(struct rt_output *o, int map), int fd, int *err)
{
	struct progdesc pd = { .maps = &bucket_map, .nmaps = 1 };
	struct rt_output o;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	CHECK(rt_output_init(&o, out, &pd, &fd) == 0);
	*err = f(&o, 0);
	rt_output_fini(&o);
	fclose(out);
	return text;
}

static uint64_t bucket_on(int fd, uint32_t bucket, int cpu)
{
	uint64_t *v = calloc((size_t)ncpus, 8), x;

	CHECK(bpf_map_lookup_elem(fd, &bucket, v) == 0);
	x = v[cpu];
	free(v);
	return x;
}

/* runs f (print, zero or clear) on the bucket array; want: the text it
 * must print, or NULL for any */
static void expect_buckets(int (*f)(struct rt_output *o, int map), int fd, const char *want)
{
	int err;
	char *t = capture_buckets(f, fd, &err);
	CHECK(err == 0);
	if (want)
		CHECK_STR(t, want);
	free(t);
}

static void test_bucket_array(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, NULL, 4, 8, 6, NULL);
	uint64_t *v = calloc((size_t)ncpus, 8);
	uint32_t key;

	CHECK(fd >= 0);
	/* nothing counted: no entry; zero() keeps it so */
	expect_buckets(print_one, fd, "\n");
	expect_buckets(zero_one, fd, NULL);
	CHECK(bucket_on(fd, 5, 0) == 0);
	expect_buckets(print_one, fd, "\n");
	/* bucket 1 ([0, 1)) twice on CPU 0, bucket 4 ([3, ...)) on the last */
	v[0] = 2;
	key = 1;
	CHECK(bpf_map_update_elem(fd, &key, v, BPF_ANY) == 0);
	v[0] = 0;
	v[ncpus - 1] = 1;
	key = 4;
	CHECK(bpf_map_update_elem(fd, &key, v, BPF_ANY) == 0);
	expect_buckets(print_one, fd,
		       "@b: \n"
		       "[0, 1)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
		       "[1, 2)                 0 |                                                    |\n"
		       "[2, 3)                 0 |                                                    |\n"
		       "[3, ...)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
		       "\n");
	/* zero(): counts gone, the marker keeps the entry */
	expect_buckets(zero_one, fd, NULL);
	CHECK(bucket_on(fd, 1, 0) == 0 && bucket_on(fd, 4, ncpus - 1) == 0);
	CHECK(bucket_on(fd, 5, 0) == 1);
	expect_buckets(print_one, fd, "@b: \n\n");
	/* clear(): no entry, marker reset */
	expect_buckets(clear_one, fd, NULL);
	CHECK(bucket_on(fd, 5, 0) == 0);
	expect_buckets(print_one, fd, "\n");
	free(v);
	close(fd);
}

int main(void)
{
	int err;

	ncpus = libbpf_num_possible_cpus();
	err = create_maps();
	if (err) {
		printf("SKIP: test_maps: cannot create BPF maps (%s); run as root\n",
		       strerror(-err));
		return 0;
	}
	fill();
	test_print();
	test_zero_clear();
	test_bucket_array();
	for (int i = 0; i < NMAPS; i++)
		close(fds[i]);
	if (failures) {
		fprintf(stderr, "test_maps: %d failure(s)\n", failures);
		return 1;
	}
	printf("test_maps: ok (%d possible CPUs)\n", ncpus);
	return 0;
}
