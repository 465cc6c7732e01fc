/* kernel_info.c: the running kernel's tracepoints, read from tracefs.
 *
 * In:  tracefs (at /sys/kernel/tracing, or /sys/kernel/debug/tracing; we
 *      mount it at the former when it is missing and we are root), its
 *      events/CAT/ directories and events/CAT/NAME/format files.
 * Out: sorted "cat:name" lists, parsed formats (struct tp_format), and
 *      "did you mean" suggestions, all in the caller's arena.
 * Not here: BTF and feature probes (later), attaching, anything needing a
 * BPF fd. ki_parse_tp_format() works on text alone, so the unit tests feed
 * it copies of real format files and need no root. docs/kernel.md records
 * what the format files on this machine look like and what listing costs.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "compiler/kernel_info.h"

#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif

#define TRACEFS_DIR	    "/sys/kernel/tracing"
#define DEBUGFS_TRACING_DIR "/sys/kernel/debug/tracing"

/* ---- tracefs mount --------------------------------------------------- */

static bool is_tracefs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == TRACEFS_MAGIC;
}

/* The answer is cached, failure included: a compilation asks many times
 * and the mount state does not change under us in a meaningful way. */
const char *ki_tracefs_path(void)
{
	static const char *path;
	static int saved_errno;

	if (path)
		return path;
	if (saved_errno) {
		errno = saved_errno;
		return NULL;
	}
	/* statfs on /sys/kernel/debug/tracing triggers debugfs' automount of
	 * tracefs there, so a plain statfs is the whole test. */
	if (is_tracefs(TRACEFS_DIR))
		path = TRACEFS_DIR;
	else if (is_tracefs(DEBUGFS_TRACING_DIR))
		path = DEBUGFS_TRACING_DIR;
	else if (mount("nodev", TRACEFS_DIR, "tracefs", 0, NULL) == 0)
		path = TRACEFS_DIR;
	else
		saved_errno = errno; /* EPERM: needs CAP_SYS_ADMIN */
	if (!path)
		errno = saved_errno;
	return path;
}

/* ---- format files ------------------------------------------------------ */

/* Size of one element of an array whose length tracefs printed as an
 * expression ("char comm[TASK_COMM_LEN]", seen on some older kernels);
 * 0 when unknown. */
static uint32_t elem_size(const char *base, size_t len)
{
	static const struct {
		const char *name;
		uint32_t size;
	} types[] = {
		{ "char", 1 },
		{ "signed char", 1 },
		{ "unsigned char", 1 },
		{ "u8", 1 },
		{ "__u8", 1 },
		{ "s8", 1 },
		{ "__s8", 1 },
		{ "bool", 1 },
		{ "short", 2 },
		{ "unsigned short", 2 },
		{ "u16", 2 },
		{ "__u16", 2 },
		{ "int", 4 },
		{ "unsigned int", 4 },
		{ "u32", 4 },
		{ "__u32", 4 },
		{ "s32", 4 },
		{ "long", sizeof(long) },
		{ "unsigned long", sizeof(long) },
		{ "u64", 8 },
		{ "__u64", 8 },
		{ "s64", 8 },
		{ "long long", 8 },
	};

	if (len && base[len - 1] == '*')
		return sizeof(void *);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].name) == len && !memcmp(types[i].name, base, len))
			return types[i].size;
	return 0;
}

/* The dimensions after a field's name: "[16]" -> 16, "[]" -> 0 (a
 * flexible array), "[2][3]" -> 6. A length written as an expression
 * ("[TASK_COMM_LEN]") is worked out from the field's size instead. */
static int parse_array_len(const char *lb, const char *end, const char *base, size_t blen,
			   uint32_t size, int32_t *out)
{
	unsigned long total = 1;
	uint32_t esz;
	char *e;

	if (end - lb == 2) {
		*out = 0;
		return 0;
	}
	for (const char *p = lb; p < end && total <= INT32_MAX; p = e + 1) {
		unsigned long n = strtoul(p + 1, &e, 0);

		if (*p != '[' || *e != ']' || e == p + 1 || n > INT32_MAX)
			goto expr;
		total *= n;
	}
	if (total <= INT32_MAX) {
		*out = (int32_t)total;
		return 0;
	}
expr:
	esz = elem_size(base, blen);
	if (!esz)
		return -EINVAL;
	*out = (int32_t)(size / esz);
	return 0;
}

static bool is_ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static const char *trim_left(const char *b, const char *e)
{
	while (b < e && isspace((unsigned char)*b))
		b++;
	return b;
}

static const char *trim_right(const char *b, const char *e)
{
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	return e;
}

/* A pointer, possibly itself qualified: "void *", "const void *const". */
static bool is_pointer_type(const char *b, const char *e)
{
	static const char *const quals[] = { "const", "volatile", "restrict" };
	bool again = true;

	while (again) {
		again = false;
		e = trim_right(b, e);
		for (int i = 0; i < 3; i++) {
			size_t n = strlen(quals[i]);
			if ((size_t)(e - b) > n && !memcmp(e - n, quals[i], n) &&
			    !is_ident_char(*(e - n - 1))) {
				e -= n;
				again = true;
			}
		}
	}
	return e > b && e[-1] == '*';
}

/* The declaration between "field:" and ';', e.g. "char prev_comm[16]",
 * "__data_loc char[] filename", "const char *const * argv". f->size must
 * already be set (an array length written as an expression needs it). */
static int parse_decl(const char *b, const char *e, struct arena *a, struct tp_field *f)
{
	const char *lb = NULL, *dims_end, *name;
	int err;

	b = trim_left(b, e);
	e = dims_end = trim_right(b, e);
	while (e > b && e[-1] == ']') { /* peel "[N]" groups off the end */
		for (lb = e - 1; lb > b && *lb != '['; lb--)
			;
		if (*lb != '[')
			return -EINVAL;
		e = lb;
	}
	for (name = e; name > b && is_ident_char(name[-1]); name--)
		;
	if (name == e)
		return -EINVAL;
	f->name = arena_strndup(a, name, e - name);
	e = trim_right(b, name);
	if (e == b)
		return -EINVAL;
	f->is_data_loc = e - b > 11 && !memcmp(b, "__data_loc", 10) &&
			 isspace((unsigned char)b[10]);
	f->is_pointer = !lb && !f->is_data_loc && is_pointer_type(b, e);
	f->is_common = !strncmp(f->name, "common_", 7);
	f->array_len = -1;
	if (!lb) {
		f->ctype = arena_strndup(a, b, e - b);
		return 0;
	}
	err = parse_array_len(lb, dims_end, b, e - b, f->size, &f->array_len);
	f->ctype = arena_printf(a, "%.*s%.*s", (int)(e - b), b, (int)(dims_end - lb), lb);
	return err;
}

/* "\toffset:24;\tsize:8;\tsigned:0;" after the declaration. */
static int parse_attrs(const char *p, const char *eol, struct tp_field *f)
{
	bool has_offset = false, has_size = false;

	while ((p = trim_left(p, eol)) < eol) {
		const char *colon = memchr(p, ':', eol - p);
		const char *semi = colon ? memchr(colon, ';', eol - colon) : NULL;
		char *end;
		unsigned long v;

		if (!semi)
			return -EINVAL;
		v = strtoul(colon + 1, &end, 10);
		if (end != semi || v > UINT32_MAX)
			return -EINVAL;
		if (colon - p == 6 && !memcmp(p, "offset", 6)) {
			f->offset = v;
			has_offset = true;
		} else if (colon - p == 4 && !memcmp(p, "size", 4)) {
			f->size = v;
			has_size = true;
		} else if (colon - p == 6 && !memcmp(p, "signed", 6)) {
			f->is_signed = v != 0;
		}
		p = semi + 1;
	}
	return has_offset && has_size ? 0 : -EINVAL;
}

/* "\tfield:DECL;\toffset:N;\tsize:N;\tsigned:N;" (old kernels also wrote
 * "field special:" for some fields; the word before ':' is not checked). */
static int parse_field_line(const char *p, const char *eol, struct arena *a, struct tp_field *f)
{
	const char *colon = memchr(p, ':', eol - p);
	const char *semi = colon ? memchr(colon, ';', eol - colon) : NULL;
	int err;

	if (!semi)
		return -EINVAL;
	memset(f, 0, sizeof(*f));
	err = parse_attrs(semi + 1, eol, f);
	return err ?: parse_decl(colon + 1, semi, a, f);
}

/* Field lines are "\tfield..."; the field list ends at "print fmt:", whose
 * string may itself span lines (ext4_fc_stats), so nothing after it is
 * looked at. Returns the line's first non-blank character or NULL. */
static const char *field_line(const char *line, const char *eol, bool *done)
{
	const char *p = trim_left(line, eol);

	if (p == line && !strncmp(line, "print fmt:", 10))
		*done = true;
	if (*done || p == line || eol - p < 6 || memcmp(p, "field", 5))
		return NULL;
	return p;
}

static const char *line_end(const char *l)
{
	const char *nl = strchr(l, '\n');

	return nl ? nl : l + strlen(l);
}

static int count_fields(const char *text)
{
	bool done = false;
	int n = 0;

	for (const char *l = text, *eol; *l && !done; l = *eol ? eol + 1 : eol) {
		eol = line_end(l);
		n += field_line(l, eol, &done) != NULL;
	}
	return n;
}

int ki_parse_tp_format(const char *text, struct arena *a, struct tp_format *out)
{
	int n = count_fields(text), err = 0;
	bool done = false;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return -EINVAL;
	out->fields = arena_alloc(a, n * sizeof(*out->fields));
	for (const char *l = text, *eol; *l && !done && !err; l = *eol ? eol + 1 : eol) {
		const char *p;

		eol = line_end(l);
		p = field_line(l, eol, &done);
		if (!p)
			continue;
		struct tp_field *f = &out->fields[out->nfields++];
		uint64_t end;

		err = parse_field_line(p, eol, a, f);
		end = (uint64_t)f->offset + f->size;
		if (!err && end > UINT32_MAX)
			err = -EINVAL;
		else if (end > out->size)
			out->size = end;
	}
	if (err) /* no half-parsed format for a caller that ignores err */
		memset(out, 0, sizeof(*out));
	return err;
}

/* ---- the system kernel_info ---------------------------------------------- */

/* A category or event name as one path component; anything else cannot
 * name a tracepoint. */
static bool is_valid_component(const char *s)
{
	return *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

/* tracefs files report st_size 0: read until EOF. */
static int read_file(const char *path, char **out)
{
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	ssize_t r;

	if (fd < 0 || !buf) {
		err = fd < 0 ? -errno : -ENOMEM;
		goto out;
	}
	while ((r = read(fd, buf + len, cap - len - 1)) != 0) {
		if (r < 0) {
			err = -errno;
			goto out;
		}
		len += r;
		if (cap - len < 2) {
			char *nbuf = realloc(buf, cap *= 2);
			if (!nbuf) {
				err = -ENOMEM;
				goto out;
			}
			buf = nbuf;
		}
	}
	buf[len] = '\0';
out:
	if (fd >= 0)
		close(fd);
	if (err)
		free(buf);
	*out = err ? NULL : buf;
	return err;
}

static int sys_tracepoint_format(struct kernel_info *ki, const char *cat, const char *name,
				 struct arena *a, struct tp_format *out)
{
	const char *root = ki_tracefs_path();
	char path[PATH_MAX], *text;
	int err;

	(void)ki;
	memset(out, 0, sizeof(*out));
	if (!root)
		return -errno;
	if (!is_valid_component(cat) || !is_valid_component(name))
		return -ENOENT;
	if (snprintf(path, sizeof(path), "%s/events/%s/%s/format", root, cat, name) >=
	    (int)sizeof(path))
		return -ENOENT;
	err = read_file(path, &text);
	if (err == -ENOTDIR) /* "sched:enable": a file where a directory should be */
		err = -ENOENT;
	if (err)
		return err;
	err = ki_parse_tp_format(text, a, out);
	free(text);
	return err;
}

/* ---- listing ------------------------------------------------------------- */

struct name_vec {
	const char **v;
	int n, cap;
};

static int vec_push(struct name_vec *nv, const char *s)
{
	if (nv->n == nv->cap) {
		int cap = nv->cap ? nv->cap * 2 : 512;
		const char **v = realloc(nv->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		nv->v = v;
		nv->cap = cap;
	}
	nv->v[nv->n++] = s;
	return 0;
}

static bool is_dir_entry(int dirfd, const struct dirent *de)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR && strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	return de->d_name[0] != '.' && !fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) &&
	       S_ISDIR(st.st_mode);
}

/* Adds "cat:name" for each event directory of one category. A category
 * without an "enable" file ("ftrace": function, print, ...) holds ftrace's
 * own record formats, not tracepoints; perf and BPF cannot attach there,
 * and available_events leaves them out too. */
static int list_category(int events_fd, const char *cat, const char *name_glob, struct arena *a,
			 struct name_vec *nv)
{
	int fd = openat(events_fd, cat, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;
	struct dirent *de;
	DIR *dir;

	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	if (faccessat(fd, "enable", F_OK, 0) || !(dir = fdopendir(fd))) {
		close(fd);
		return 0;
	}
	while (!err && (de = readdir(dir)))
		if (is_dir_entry(fd, de) && !fnmatch(name_glob, de->d_name, 0))
			err = vec_push(nv, arena_printf(a, "%s:%s", cat, de->d_name));
	closedir(dir);
	return err;
}

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[\\") != NULL;
}

/* Reads events/ itself only when the category is a pattern: the common
 * case ("syscalls:sys_enter_*") is one directory. */
static int list_all(int events_fd, const char *cat_glob, const char *name_glob, struct arena *a,
		    struct name_vec *nv)
{
	int fd, err = 0;
	struct dirent *de;
	DIR *dir;

	if (!has_glob(cat_glob)) {
		if (!is_valid_component(cat_glob))
			return 0;
		return list_category(events_fd, cat_glob, name_glob, a, nv);
	}
	fd = openat(events_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(dir = fdopendir(fd))) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	while (!err && (de = readdir(dir)))
		if (is_dir_entry(fd, de) && !fnmatch(cat_glob, de->d_name, 0))
			err = list_category(events_fd, de->d_name, name_glob, a, nv);
	closedir(dir);
	return err;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* *out is NULL-terminated as well as counted. NULL globs mean "*". */
static int sys_tracepoint_list(struct kernel_info *ki, const char *cat_glob, const char *name_glob,
			       struct arena *a, const char ***out)
{
	const char *root = ki_tracefs_path();
	struct name_vec nv = { 0 };
	char path[PATH_MAX];
	int events_fd, err;

	(void)ki;
	*out = NULL;
	if (!root)
		return -errno;
	snprintf(path, sizeof(path), "%s/events", root);
	events_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (events_fd < 0)
		return -errno;
	err = list_all(events_fd, cat_glob ?: "*", name_glob ?: "*", a, &nv);
	close(events_fd);
	if (!err) {
		*out = arena_alloc(a, (nv.n + 1) * sizeof(**out));
		if (nv.n) { /* nv.v is NULL when nothing matched */
			qsort(nv.v, nv.n, sizeof(*nv.v), cmp_str);
			memcpy(*out, nv.v, nv.n * sizeof(**out));
		}
	}
	free(nv.v);
	return err ?: nv.n;
}

int ki_kernel_function_exists(const char *name);
static int sys_function_list(struct kernel_info *ki, const char *glob, struct arena *a,
			     const char ***out);

static int sys_function_exists(struct kernel_info *ki, const char *name)
{
	(void)ki;
	return ki_kernel_function_exists(name);
}

/* TRACE_BTF or /sys/kernel/btf/vmlinux, parsed once (the driver plugs in
 * the runtime's copy instead, parsed once for feature probes and types). */
static const struct btf *sys_vmlinux_btf(struct kernel_info *ki, const char **why)
{
	static struct btf *btf;
	static char reason[300];
	(void)ki;
	if (!btf && !reason[0]) {
		const char *p = getenv("TRACE_BTF");
		p = p && *p ? p : "/sys/kernel/btf/vmlinux";
		btf = btf__parse(p, NULL);
		if (libbpf_get_error(btf)) {
			snprintf(reason, sizeof(reason), "%s: %s", p, strerror(errno));
			btf = NULL;
		}
	}
	*why = reason;
	return btf;
}

struct kernel_info *ki_system(void)
{
	static struct kernel_info system_ki = {
		.tracepoint_format = sys_tracepoint_format,
		.tracepoint_list = sys_tracepoint_list,
		.function_exists = sys_function_exists,
		.function_list = sys_function_list,
		.vmlinux_btf = sys_vmlinux_btf,
	};

	return &system_ki;
}

/* ---- "did you mean" ------------------------------------------------------ */

#define MAX_DIST_LEN 128 /* longer names are compared on their first 128 bytes */

static int clamp_len_n(const char *s, size_t n)
{
	size_t len = strnlen(s, n);

	return len < MAX_DIST_LEN ? (int)len : MAX_DIST_LEN;
}

static int clamp_len(const char *s)
{
	return clamp_len_n(s, MAX_DIST_LEN);
}

/* Optimal string alignment distance: Levenshtein plus adjacent
 * transpositions, the commonest typo ("sched_swtich"). */
static int edit_distance(const char *s, int m, const char *t, int n)
{
	int rows[3][MAX_DIST_LEN + 1];
	int *pp = rows[0], *prev = rows[1], *cur = rows[2];

	for (int j = 0; j <= n; j++)
		prev[j] = j;
	for (int i = 1; i <= m; i++) {
		cur[0] = i;
		for (int j = 1; j <= n; j++) {
			int cost = s[i - 1] != t[j - 1];
			int d = prev[j - 1] + cost;

			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (i > 1 && j > 1 && s[i - 1] == t[j - 2] && s[i - 2] == t[j - 1] &&
			    pp[j - 2] + 1 < d)
				d = pp[j - 2] + 1;
			cur[j] = d;
		}
		int *tmp = pp;
		pp = prev, prev = cur, cur = tmp;
	}
	return prev[n];
}

int ki_edit_distance(const char *s, const char *t)
{
	return edit_distance(s, clamp_len(s), t, clamp_len(t));
}

struct candidate {
	const char *full; /* "cat:name" */
	int dist;	  /* edit distance of the names */
	int cat_dist;	  /* of the categories; breaks ties across categories */
};

static int cmp_candidate(const void *x, const void *y)
{
	const struct candidate *p = x, *q = y;

	if (p->dist != q->dist)
		return p->dist - q->dist;
	if (p->cat_dist != q->cat_dist)
		return p->cat_dist - q->cat_dist;
	return strcmp(p->full, q->full);
}

/* A name is close if it is within a third of its length in edits (at
 * least 2), or if the typed name is part of it ("openat" for
 * "sys_enter_openat"; the distance then ranks it after closer ones). */
static bool score(const char *cat, const char *name, const char *full, struct candidate *c)
{
	const char *colon = strchr(full, ':');
	int len = clamp_len(name), limit = len / 3 > 2 ? len / 3 : 2;

	if (!colon)
		return false;
	c->full = full;
	c->dist = edit_distance(name, len, colon + 1, clamp_len(colon + 1));
	if (c->dist > limit && (len < 3 || !strstr(colon + 1, name)))
		return false;
	c->cat_dist = edit_distance(cat, clamp_len(cat), full, clamp_len_n(full, colon - full));
	return true;
}

static int rank(const char *cat, const char *name, const char **list, int n, struct arena *a,
		const char ***out, int max)
{
	struct candidate *c = malloc((n ? n : 1) * sizeof(*c));
	int nc = 0;

	if (!c)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		nc += score(cat, name, list[i], &c[nc]);
	qsort(c, nc, sizeof(*c), cmp_candidate);
	/* Only offer names about as close as the best: "sys_enter_opn" gets
	 * sys_enter_open (1 edit), not also sys_enter_bpf (2), which is
	 * within the limit but plainly not what was meant. */
	for (int i = 1, slack = nc && c[0].dist > 1; i < nc; i++)
		if (c[i].dist > c[0].dist + slack) {
			nc = i;
			break;
		}
	if (nc > max)
		nc = max;
	*out = arena_alloc(a, (nc + 1) * sizeof(**out));
	for (int i = 0; i < nc; i++)
		(*out)[i] = c[i].full;
	free(c);
	return nc;
}

int ki_closest_tracepoints(struct kernel_info *ki, const char *cat, const char *name,
			   struct arena *a, const char ***out, int max)
{
	const char **list;
	int n, found;

	*out = NULL;
	if (max <= 0)
		return 0;
	n = ki->tracepoint_list(ki, cat, "*", a, &list);
	if (n < 0)
		return n;
	found = rank(cat, name, list, n, a, out, max);
	if (found != 0) /* a hit within the category, or an error */
		return found;
	n = ki->tracepoint_list(ki, "*", "*", a, &list);
	return n < 0 ? n : rank(cat, name, list, n, a, out, max);
}

/* ---- kernel functions (/proc/kallsyms) ----------------------------------- */

static struct {
	char **names; /* sorted text symbols, module suffixes dropped */
	size_t n;
	int err;
	bool loaded;
} ksyms;

static int cmp_name(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static void load_kallsyms(void)
{
	ksyms.loaded = true;
	FILE *f = fopen("/proc/kallsyms", "re");
	if (!f) {
		ksyms.err = -errno;
		return;
	}
	char line[512];
	size_t cap = 0;
	while (fgets(line, sizeof(line), f)) {
		char *type = strchr(line, ' ');
		if (!type || (type[1] != 't' && type[1] != 'T') || type[2] != ' ')
			continue;
		char *name = type + 3;
		name[strcspn(name, " \t\n")] = 0; /* drop "\t[module]" */
		/* padding and split-off cold parts are no place to attach */
		if (!strncmp(name, "__pfx_", 6) || strstr(name, ".cold"))
			continue;
		if (ksyms.n == cap) {
			size_t nc = cap ? cap * 2 : 65536;
			char **nn = realloc(ksyms.names, nc * sizeof(*nn));
			if (!nn)
				break;
			ksyms.names = nn;
			cap = nc;
		}
		if (!(ksyms.names[ksyms.n] = strdup(name)))
			break;
		ksyms.n++;
	}
	fclose(f);
	if (ksyms.n)
		qsort(ksyms.names, ksyms.n, sizeof(*ksyms.names), cmp_name);
}

int ki_kernel_function_exists(const char *name)
{
	if (!ksyms.loaded)
		load_kallsyms();
	if (ksyms.err)
		return ksyms.err;
	return bsearch(&name, ksyms.names, ksyms.n, sizeof(*ksyms.names), cmp_name) != NULL;
}

int ki_closest_kernel_functions(const char *name, struct arena *a, const char ***out, int max)
{
	*out = NULL;
	if (!ksyms.loaded)
		load_kallsyms();
	if (ksyms.err)
		return ksyms.err;
	int len = clamp_len(name), limit = len / 3 > 2 ? len / 3 : 2;
	struct candidate *c = malloc(64 * sizeof(*c));
	int nc = 0;
	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < ksyms.n; i++) {
		const char *s = ksyms.names[i];
		int sl = clamp_len(s);
		if (abs(sl - len) > limit && !strstr(s, name))
			continue;
		int d = edit_distance(name, len, s, sl);
		if (d > limit && !(len >= 4 && strstr(s, name)))
			continue;
		if (nc == 64) { /* keep the 64 best */
			qsort(c, nc, sizeof(*c), cmp_candidate);
			if (d >= c[nc - 1].dist)
				continue;
			nc--;
		}
		c[nc++] = (struct candidate){ s, d, 0 };
	}
	qsort(c, nc, sizeof(*c), cmp_candidate);
	if (nc > max)
		nc = max;
	*out = arena_alloc(a, (nc + 1) * sizeof(**out));
	for (int i = 0; i < nc; i++)
		(*out)[i] = arena_strdup(a, c[i].full);
	free(c);
	return nc;
}

int64_t ki_kernel_function_size(const char *name)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	if (!f)
		return -errno;
	char line[512];
	unsigned long long start = 0, next = ~0ULL;
	bool found = false;
	/* two passes: the symbol's address, then the closest one above it */
	for (int pass = 0; pass < 2; pass++) {
		rewind(f);
		while (fgets(line, sizeof(line), f)) {
			char type, sym[256];
			unsigned long long addr;
			if (sscanf(line, "%llx %c %255s", &addr, &type, sym) != 3)
				continue;
			if (pass == 0) {
				if ((type == 't' || type == 'T') && !strcmp(sym, name)) {
					start = addr;
					found = true;
					break;
				}
			} else if (addr > start && addr < next) {
				next = addr;
			}
		}
		if (!found)
			break;
	}
	fclose(f);
	if (!found)
		return 0;
	if (!start)
		return -EPERM; /* addresses hidden (kptr_restrict) */
	return next == ~0ULL ? 0 : (int64_t)(next - start);
}

bool ki_kretprobe_banned(const char *name)
{
	/* not marked notrace, yet a return probe on them can deadlock: the
	 * kretprobe handler itself takes these locks (bpftrace's list) */
	static const char *const banned[] = { "_raw_spin_lock", "_raw_spin_lock_irqsave",
					      "_raw_spin_unlock_irqrestore",
					      "queued_spin_lock_slowpath" };
	for (size_t i = 0; i < sizeof(banned) / sizeof(banned[0]); i++)
		if (!strcmp(name, banned[i]))
			return true;
	return false;
}

/* ---- traceable functions (available_filter_functions) --------------------- */

static struct {
	char **names; /* sorted, unique, blacklisted ones removed */
	size_t n;
	int err;
	bool loaded;
} tfuncs;

static char **read_names(const char *path, bool blacklist_format, size_t *n, int *err)
{
	FILE *f = fopen(path, "re");
	char **v = NULL, line[512];
	size_t cap = 0;
	*n = 0;
	if (!f) {
		*err = -errno;
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		char *name = line;
		if (blacklist_format) { /* "0xstart-0xend\tname" */
			name = strchr(line, '\t');
			if (!name)
				continue;
			name++;
		}
		name[strcspn(name, " \t\n")] = 0; /* drop " [module]" */
		if (!*name || !strncmp(name, "__ftrace_invalid_address__", 26))
			continue;
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 65536;
			char **nv = realloc(v, nc * sizeof(*nv));
			if (!nv)
				break;
			v = nv;
			cap = nc;
		}
		if (!(v[*n] = strdup(name)))
			break;
		(*n)++;
	}
	fclose(f);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_name);
	return v;
}

static void load_traceable(void)
{
	tfuncs.loaded = true;
	const char *root = ki_tracefs_path();
	char path[PATH_MAX];
	if (!root) {
		tfuncs.err = -errno;
		return;
	}
	snprintf(path, sizeof(path), "%s/available_filter_functions", root);
	size_t n, nb = 0;
	int berr = 0;
	char **v = read_names(path, false, &n, &tfuncs.err);
	if (!v && tfuncs.err != -ENOENT) {
		/* unreadable (EPERM in some sandboxes): the text symbols of
		 * kallsyms, a superset (notrace functions fail at attach) */
		if (!ksyms.loaded)
			load_kallsyms();
		if (!ksyms.err && (v = malloc((ksyms.n ? ksyms.n : 1) * sizeof(*v)))) {
			tfuncs.err = 0;
			for (n = 0; n < ksyms.n && (v[n] = strdup(ksyms.names[n])); n++)
				;
		}
	}
	if (!v)
		return;
	/* The kprobe blacklist is in debugfs; mount it if we may. */
	static const char bl[] = "/sys/kernel/debug/kprobes/blacklist";
	if (access(bl, R_OK) && errno == ENOENT)
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	char **b = read_names(bl, true, &nb, &berr);
	size_t out = 0, j = 0;
	for (size_t i = 0; i < n; i++) {
		if (out && !strcmp(v[out - 1], v[i])) { /* static functions share names */
			free(v[i]);
			continue;
		}
		while (j < nb && strcmp(b[j], v[i]) < 0)
			j++;
		if (j < nb && !strcmp(b[j], v[i])) {
			free(v[i]);
			continue;
		}
		v[out++] = v[i];
	}
	for (size_t i = 0; i < nb; i++)
		free(b[i]);
	free(b);
	tfuncs.names = v;
	tfuncs.n = out;
}

int ki_kernel_function_list(const char *glob, struct arena *a, const char ***out)
{
	*out = NULL;
	if (!tfuncs.loaded)
		load_traceable();
	if (tfuncs.err)
		return tfuncs.err;
	size_t k = 0;
	for (size_t i = 0; i < tfuncs.n; i++)
		k += fnmatch(glob, tfuncs.names[i], 0) == 0;
	*out = arena_alloc(a, (k + 1) * sizeof(**out));
	k = 0;
	for (size_t i = 0; i < tfuncs.n; i++)
		if (fnmatch(glob, tfuncs.names[i], 0) == 0)
			(*out)[k++] = tfuncs.names[i];
	return (int)k;
}

static int sys_function_list(struct kernel_info *ki, const char *glob, struct arena *a,
			     const char ***out)
{
	(void)ki;
	return ki_kernel_function_list(glob, a, out);
}
