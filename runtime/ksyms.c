/* ksyms.c: /proc/kallsyms, loaded lazily once, sorted, binary-searched.
 *
 * In: kallsyms lines "ffffffff816d5370 T vfs_read\t[module]".
 * Out: the symbol containing an address, formatted as bpftrace 0.17 (which
 * uses bcc's symbol cache) prints it.
 * Does not: check symbol sizes (bcc does not either: an address past the
 * last symbol resolves to that symbol), or handle user space.
 *
 * Several symbols may share an address (_stext, _text, ...). bcc sorts with
 * an unstable sort, so which alias bpftrace prints is arbitrary; we print the
 * last one in file order, which is what bpftrace printed for most aliases we
 * tried.
 */
#include "runtime/ksyms.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct ksym {
	uint64_t addr;
	uint32_t name; /* offset into names */
	uint32_t seq;  /* file order, to break address ties */
};

struct rt_ksyms {
	struct ksym *syms;
	size_t nsyms, cap;
	char *names;
	size_t names_len, names_cap;
	bool loaded; /* tried to load (successfully or not) */
};

struct rt_ksyms *rt_ksyms_new(void)
{
	return calloc(1, sizeof(struct rt_ksyms));
}

void rt_ksyms_free(struct rt_ksyms *k)
{
	if (!k)
		return;
	free(k->syms);
	free(k->names);
	free(k);
}

static bool is_data_symbol(char type)
{
	return strchr("bBdDrR", type) != NULL;
}

static int add_name(struct rt_ksyms *k, const char *name, size_t len, uint32_t *off)
{
	if (k->names_len + len + 1 > k->names_cap) {
		size_t cap = k->names_cap ? k->names_cap * 2 : 1 << 20;
		char *p;

		while (cap < k->names_len + len + 1)
			cap *= 2;
		if (cap > UINT32_MAX)
			return -E2BIG;
		p = realloc(k->names, cap);
		if (!p)
			return -ENOMEM;
		k->names = p;
		k->names_cap = cap;
	}
	memcpy(k->names + k->names_len, name, len);
	k->names[k->names_len + len] = '\0';
	*off = (uint32_t)k->names_len;
	k->names_len += len + 1;
	return 0;
}

/* One kallsyms line: "addr type name[\t[module]]". */
static int add_line(struct rt_ksyms *k, const char *line)
{
	char *end;
	uint64_t addr = strtoull(line, &end, 16);
	const char *name;
	size_t len;
	int err;

	if (end == line || end[0] != ' ' || !end[1] || end[2] != ' ')
		return 0;
	if (is_data_symbol(end[1]))
		return 0;
	name = end + 3;
	len = strcspn(name, "\t\n ");
	if (!len)
		return 0;
	if (k->nsyms == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 4096;
		struct ksym *p = realloc(k->syms, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		k->syms = p;
		k->cap = cap;
	}
	err = add_name(k, name, len, &k->syms[k->nsyms].name);
	if (err)
		return err;
	k->syms[k->nsyms].addr = addr;
	k->syms[k->nsyms].seq = (uint32_t)k->nsyms;
	k->nsyms++;
	return 0;
}

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int rt_ksyms_load(struct rt_ksyms *k, FILE *f)
{
	char line[1024];
	int err = 0;

	k->loaded = true;
	while (fgets(line, sizeof(line), f)) {
		err = add_line(k, line);
		if (err)
			return err;
	}
	qsort(k->syms, k->nsyms, sizeof(*k->syms), cmp_ksym);
	return 0;
}

static void load_kallsyms(struct rt_ksyms *k)
{
	FILE *f = fopen("/proc/kallsyms", "re");

	k->loaded = true;
	if (!f)
		return;
	rt_ksyms_load(k, f);
	fclose(f);
}

const char *rt_ksym_lookup(struct rt_ksyms *k, uint64_t addr, uint64_t *off)
{
	size_t lo = 0, hi;

	if (!k->loaded)
		load_kallsyms(k);
	/* find the first symbol above addr; the one before it contains addr */
	hi = k->nsyms;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	*off = addr - k->syms[lo - 1].addr;
	return k->names + k->syms[lo - 1].name;
}

int rt_ksym_format(struct rt_ksyms *k, char *buf, size_t len, uint64_t addr, bool with_offset)
{
	uint64_t off = 0;
	const char *name = k ? rt_ksym_lookup(k, addr, &off) : NULL;

	if (name && with_offset)
		return snprintf(buf, len, "%s+%" PRIu64, name, off);
	if (name)
		return snprintf(buf, len, "%s", name);
	if (!addr)
		return snprintf(buf, len, "0");
	return snprintf(buf, len, "0x%" PRIx64, addr);
}
