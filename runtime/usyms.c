/* usyms.c: per-process mappings and per-file ELF symbol tables.
 *
 * A process is a sorted array of its file-backed mappings (start, end,
 * file offset, file), read from /proc/PID/maps. A file is identified by
 * the device and inode the maps line names, so every process running
 * one binary shares its symbol table, read once through libelf on the
 * first lookup. An address becomes a file offset (addr - start + offset),
 * then an ELF virtual address through the PT_LOAD segment holding that
 * offset: one rule for executables, PIE and shared libraries.
 *
 * As in bcc (bpftrace 0.17), only executable mappings and function
 * symbols count: usym() of a variable's address prints the address.
 * Symbols: every defined function with a size of .symtab and .dynsym,
 * and of the debug file. Aliases (several names at
 * one address: glibc's free/__libc_free/cfree) keep one name: global
 * before weak before local, then the shortest, then the first in byte
 * order. bcc (bpftrace 0.17) keeps whichever its unstable sort leaves
 * last, which is usually but not always the same name.
 *
 * A lookup walks back from the first symbol after the address as bcc
 * does, so a symbol nested in a larger one (a local label with a size)
 * does not hide the function around it.
 */
#include "runtime/usyms.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* libstdc++'s demangler (the binary links libstdc++ for LLVM) */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

#define REREAD_NS   (50 * 1000000ull) /* mappings re-read at most this often */
#define DEBUG_DIR   "/usr/lib/debug"

struct usym {
	uint64_t addr, size;
	uint32_t name;	 /* offset in usym_file.names */
	uint8_t rank;	 /* 0 global, 1 weak, 2 local */
	bool dm_tried;
	char *dm; /* demangled name (C++), NULL if none */
};

struct usym_seg {
	uint64_t off, vaddr, filesz;
};

struct usym_file {
	unsigned long major, minor;
	uint64_t ino;
	char *path;
	bool loaded;
	struct usym *syms;
	size_t nsyms, cap;
	char *names;
	size_t names_len, names_cap;
	struct usym_seg *segs;
	size_t nsegs;
	struct usym_file *next;
};

struct usym_map {
	uint64_t start, end, pgoff;
	struct usym_file *file;
};

struct usym_proc {
	uint32_t pid;
	bool gone; /* /proc/PID/maps could not be read any more */
	struct usym_map *maps;
	size_t nmaps;
	uint64_t read_ns;
};

struct rt_usyms {
	struct usym_proc **procs; /* open addressing by pid */
	size_t nprocs, cap;
	struct usym_file *files;
	bool off; /* rt_usyms_disable: every lookup fails */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct rt_usyms *rt_usyms_new(void)
{
	return calloc(1, sizeof(struct rt_usyms));
}

static void free_file(struct usym_file *f)
{
	for (size_t i = 0; i < f->nsyms; i++)
		free(f->syms[i].dm);
	free(f->syms);
	free(f->names);
	free(f->segs);
	free(f->path);
	free(f);
}

void rt_usyms_free(struct rt_usyms *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->cap; i++) {
		if (u->procs[i]) {
			free(u->procs[i]->maps);
			free(u->procs[i]);
		}
	}
	free(u->procs);
	while (u->files) {
		struct usym_file *f = u->files;

		u->files = f->next;
		free_file(f);
	}
	free(u);
}

/* ---- symbol tables ---------------------------------------------------- */

static int add_sym(struct usym_file *f, const char *name, uint64_t addr, uint64_t size,
		   uint8_t rank)
{
	size_t len = strlen(name) + 1;

	if (f->nsyms == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 256;
		struct usym *p = realloc(f->syms, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		f->syms = p;
		f->cap = cap;
	}
	if (f->names_len + len > f->names_cap) {
		size_t cap = f->names_cap ? f->names_cap * 2 : 4096;
		char *p;

		while (cap < f->names_len + len)
			cap *= 2;
		p = realloc(f->names, cap);
		if (!p)
			return -ENOMEM;
		f->names = p;
		f->names_cap = cap;
	}
	memcpy(f->names + f->names_len, name, len);
	f->syms[f->nsyms++] = (struct usym){ .addr = addr, .size = size,
					     .name = (uint32_t)f->names_len, .rank = rank };
	f->names_len += len;
	return 0;
}

static void read_symtabs(struct usym_file *f, Elf *e)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		if (!sh.sh_entsize || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *name;
			int type;

			if (!gelf_getsym(d, (int)i, &s) || !s.st_value || !s.st_size ||
			    s.st_shndx == SHN_UNDEF)
				continue;
			type = GELF_ST_TYPE(s.st_info);
			if (type != STT_FUNC && type != STT_GNU_IFUNC)
				continue;
			name = elf_strptr(e, sh.sh_link, s.st_name);
			if (!name || !*name)
				continue;
			if (add_sym(f, name, s.st_value, s.st_size,
				    GELF_ST_BIND(s.st_info) == STB_GLOBAL ? 0 :
				    GELF_ST_BIND(s.st_info) == STB_WEAK	  ? 1 :
									    2))
				return;
		}
	}
}

static void read_segments(struct usym_file *f, Elf *e)
{
	size_t n;

	if (elf_getphdrnum(e, &n) || !n)
		return;
	f->segs = calloc(n, sizeof(*f->segs));
	if (!f->segs)
		return;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD)
			f->segs[f->nsegs++] = (struct usym_seg){ ph.p_offset, ph.p_vaddr, ph.p_filesz };
	}
}

static Elf_Scn *section_named(Elf *e, const char *want)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(e, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (gelf_getshdr(scn, &sh) && (name = elf_strptr(e, shstrndx, sh.sh_name)) &&
		    !strcmp(name, want))
			return scn;
	}
	return NULL;
}

/* The build id's hex digits from .note.gnu.build-id, or false. */
static bool build_id(Elf *e, char *hex, size_t len)
{
	Elf_Scn *scn = section_named(e, ".note.gnu.build-id");
	Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	if (!d)
		return false;
	while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
		const uint8_t *desc = (const uint8_t *)d->d_buf + desc_off;

		if (nh.n_type != NT_GNU_BUILD_ID || !nh.n_descsz || nh.n_descsz * 2 + 1 > len)
			continue;
		for (size_t i = 0; i < nh.n_descsz; i++)
			snprintf(hex + 2 * i, 3, "%02x", desc[i]);
		return true;
	}
	return false;
}

static int open_debug_file(Elf *e, const char *path)
{
	char hex[129], buf[4096];
	Elf_Scn *scn;
	Elf_Data *d;
	int fd;

	if (build_id(e, hex, sizeof(hex)) && strlen(hex) > 2) {
		snprintf(buf, sizeof(buf), DEBUG_DIR "/.build-id/%.2s/%s.debug", hex, hex + 2);
		if ((fd = open(buf, O_RDONLY | O_CLOEXEC)) >= 0)
			return fd;
	}
	scn = section_named(e, ".gnu_debuglink");
	d = scn ? elf_getdata(scn, NULL) : NULL;
	if (d && d->d_size && memchr(d->d_buf, 0, d->d_size)) {
		const char *link = d->d_buf, *slash = strrchr(path, '/');
		int dir = slash ? (int)(slash - path) : 0;
		const char *dirs[] = { DEBUG_DIR, "", "" }, *subs[] = { "", "", "/.debug" };

		for (size_t i = 0; i < 3; i++) {
			snprintf(buf, sizeof(buf), "%s%.*s%s/%s", dirs[i], dir, path, subs[i], link);
			if (strcmp(buf, path) && (fd = open(buf, O_RDONLY | O_CLOEXEC)) >= 0)
				return fd;
		}
	}
	return -1;
}

/* Aliases: the better name first (see the top of the file). */
static int cmp_sym(const void *a, const void *b, void *names)
{
	const struct usym *x = a, *y = b;
	const char *nx = (const char *)names + x->name, *ny = (const char *)names + y->name;
	size_t lx, ly;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank - y->rank;
	lx = strlen(nx);
	ly = strlen(ny);
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(nx, ny);
}

static void load_file(struct usym_file *f, uint32_t pid)
{
	char buf[4096];
	Elf *e, *de = NULL;
	int fd, dfd = -1;
	size_t n = 0;

	f->loaded = true;
	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && pid) { /* another mount namespace: through the process's root */
		snprintf(buf, sizeof(buf), "/proc/%" PRIu32 "/root%s", pid, f->path);
		fd = open(buf, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF)
		goto out;
	read_segments(f, e);
	read_symtabs(f, e);
	dfd = open_debug_file(e, f->path);
	if (dfd >= 0 && (de = elf_begin(dfd, ELF_C_READ_MMAP, NULL)) && elf_kind(de) == ELF_K_ELF)
		read_symtabs(f, de);
	if (!f->nsyms)
		goto out;
	qsort_r(f->syms, f->nsyms, sizeof(*f->syms), cmp_sym, f->names);
	for (size_t i = 0; i < f->nsyms; i++) /* one name per address */
		if (!n || f->syms[i].addr != f->syms[n - 1].addr)
			f->syms[n++] = f->syms[i];
	f->nsyms = n;
out:
	if (de)
		elf_end(de);
	if (dfd >= 0)
		close(dfd);
	if (e)
		elf_end(e);
	close(fd);
}

/* The symbol holding vaddr, walking back over nested symbols (bcc's
 * ProcSyms::Module::find_addr). */
static struct usym *find_sym(struct usym_file *f, uint64_t vaddr)
{
	size_t lo = 0, hi = f->nsyms;
	uint64_t limit;

	while (lo < hi) { /* first symbol starting after vaddr */
		size_t mid = lo + (hi - lo) / 2;

		if (f->syms[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	limit = lo < f->nsyms ? f->syms[lo].addr : UINT64_MAX;
	while (lo > 0) {
		struct usym *s = &f->syms[--lo];

		if (vaddr >= s->addr && vaddr - s->addr < s->size)
			return s;
		if (limit > s->addr + s->size)
			break;
		limit = s->addr + s->size;
	}
	return NULL;
}

static const char *sym_name(struct usym_file *f, struct usym *s)
{
	const char *name = f->names + s->name;

	if (!s->dm_tried) {
		s->dm_tried = true;
		if (name[0] == '_' && name[1] == 'Z') {
			int st = 0;

			s->dm = __cxa_demangle(name, NULL, NULL, &st);
			if (st) {
				free(s->dm);
				s->dm = NULL;
			}
		}
	}
	return s->dm ? s->dm : name;
}

/* ---- processes -------------------------------------------------------- */

static struct usym_file *find_file(struct rt_usyms *u, unsigned long major, unsigned long minor,
				   uint64_t ino, const char *path)
{
	struct usym_file *f;

	for (f = u->files; f; f = f->next)
		if (f->ino == ino && f->major == major && f->minor == minor)
			return f;
	f = calloc(1, sizeof(*f));
	if (!f || !(f->path = strdup(path))) {
		free(f);
		return NULL;
	}
	f->major = major;
	f->minor = minor;
	f->ino = ino;
	f->next = u->files;
	u->files = f;
	return f;
}

/* (Re)reads p's mappings; keeps the old ones if the process is gone. */
static void read_maps(struct rt_usyms *u, struct usym_proc *p)
{
	char path[64], line[4096 + 128];
	struct usym_map *maps = NULL;
	size_t n = 0, cap = 0;
	FILE *fp;

	p->read_ns = now_ns();
	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/maps", p->pid);
	fp = fopen(path, "re");
	if (!fp) {
		p->gone = true;
		return;
	}
	while (fgets(line, sizeof(line), fp)) {
		unsigned long long start, end, pgoff, ino;
		unsigned long major, minor;
		int name_at = 0;
		char *name, *nl;

		char perm[5];

		if (sscanf(line, "%llx-%llx %4s %llx %lx:%lx %llu %n", &start, &end, perm, &pgoff,
			   &major, &minor, &ino, &name_at) < 7 || !ino || !name_at ||
		    line[name_at] != '/' || perm[2] != 'x')
			continue;
		name = line + name_at;
		if ((nl = strchr(name, '\n')))
			*nl = '\0';
		if (n == cap) {
			size_t c = cap ? cap * 2 : 32;
			struct usym_map *m = realloc(maps, c * sizeof(*m));

			if (!m)
				break;
			maps = m;
			cap = c;
		}
		maps[n].file = find_file(u, major, minor, ino, name);
		if (!maps[n].file)
			continue;
		maps[n].start = start;
		maps[n].end = end;
		maps[n].pgoff = pgoff;
		n++;
	}
	fclose(fp);
	if (!n && p->nmaps) { /* exited between open and read */
		free(maps);
		p->gone = true;
		return;
	}
	free(p->maps);
	p->maps = maps;
	p->nmaps = n;
}

static struct usym_proc *get_proc(struct rt_usyms *u, uint32_t pid)
{
	size_t i;

	if (u->cap) {
		for (i = pid & (u->cap - 1); u->procs[i]; i = (i + 1) & (u->cap - 1))
			if (u->procs[i]->pid == pid)
				return u->procs[i];
	}
	if (2 * (u->nprocs + 1) > u->cap) { /* grow: at most half full */
		size_t cap = u->cap ? u->cap * 2 : 64;
		struct usym_proc **t = calloc(cap, sizeof(*t));

		if (!t)
			return NULL;
		for (size_t j = 0; j < u->cap; j++) {
			struct usym_proc *q = u->procs[j];

			if (!q)
				continue;
			for (i = q->pid & (cap - 1); t[i]; i = (i + 1) & (cap - 1))
				;
			t[i] = q;
		}
		free(u->procs);
		u->procs = t;
		u->cap = cap;
	}
	struct usym_proc *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->pid = pid;
	for (i = pid & (u->cap - 1); u->procs[i]; i = (i + 1) & (u->cap - 1))
		;
	u->procs[i] = p;
	u->nprocs++;
	read_maps(u, p);
	return p;
}

void rt_usyms_note_pid(struct rt_usyms *u, uint32_t pid)
{
	struct usym_proc *p = u && pid ? get_proc(u, pid) : NULL;

	if (p && !p->gone && now_ns() - p->read_ns > REREAD_NS)
		read_maps(u, p);
}

static struct usym_map *find_map(struct usym_proc *p, uint64_t addr)
{
	size_t lo = 0, hi = p->nmaps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < p->maps[mid].start)
			hi = mid;
		else if (addr >= p->maps[mid].end)
			lo = mid + 1;
		else
			return &p->maps[mid];
	}
	return NULL;
}

void rt_usyms_disable(struct rt_usyms *u)
{
	u->off = true;
}

bool rt_usym_lookup(struct rt_usyms *u, uint32_t pid, uint64_t addr, const char **name,
		    uint64_t *off, const char **module)
{
	struct usym_proc *p = u && !u->off && pid ? get_proc(u, pid) : NULL;
	struct usym_map *m;
	struct usym_file *f;
	struct usym *s;
	uint64_t foff;

	*module = NULL;
	if (!p)
		return false;
	m = find_map(p, addr);
	if (!m && !p->gone && now_ns() - p->read_ns > REREAD_NS) {
		read_maps(u, p); /* a library loaded since (dlopen) */
		m = find_map(p, addr);
	}
	if (!m)
		return false;
	f = m->file;
	*module = f->path;
	if (!f->loaded)
		load_file(f, pid);
	foff = addr - m->start + m->pgoff;
	for (size_t i = 0; i < f->nsegs; i++) {
		const struct usym_seg *sg = &f->segs[i];

		if (foff < sg->off || foff - sg->off >= sg->filesz)
			continue;
		s = find_sym(f, foff - sg->off + sg->vaddr);
		if (!s)
			return false;
		*name = sym_name(f, s);
		*off = foff - sg->off + sg->vaddr - s->addr;
		return true;
	}
	return false;
}

int rt_usym_format(struct rt_usyms *u, char *buf, size_t len, uint32_t pid, uint64_t addr,
		   bool with_offset, bool with_module)
{
	const char *name, *module;
	uint64_t off;
	int n;

	if (!rt_usym_lookup(u, pid, addr, &name, &off, &module)) {
		/* C++'s ostream << (void *) of bpftrace: "0x7f..", 0 as "0" */
		if (addr)
			n = snprintf(buf, len, "0x%" PRIx64 "%s", addr, with_module ? " ([unknown])" : "");
		else
			n = snprintf(buf, len, "0%s", with_module ? " ([unknown])" : "");
	} else if (with_offset && with_module) {
		n = snprintf(buf, len, "%s+%" PRIu64 " (%s)", name, off, module);
	} else if (with_offset) {
		n = snprintf(buf, len, "%s+%" PRIu64, name, off);
	} else {
		n = snprintf(buf, len, "%s", name);
	}
	return n < 0 ? 0 : (size_t)n >= len ? (int)len - 1 : n;
}
