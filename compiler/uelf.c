/* uelf.c: uprobe targets and their functions (uelf.h). */
#include "compiler/uelf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <glob.h>
#include <libelf.h>
#include <limits.h>
#include <llvm-c/Disassembler.h>
#include <llvm-c/Target.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* libstdc++'s demangler (the binary links libstdc++ for LLVM) */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

static bool is_file(const char *p)
{
	struct stat st;
	return !stat(p, &st) && S_ISREG(st.st_mode);
}

/* "c" -> "libc.so.6" matches, so does "libc", "libc.so", "libc.so.6". */
static bool lib_name_matches(const char *base, const char *name)
{
	size_t n = strlen(name);
	if (!strcmp(base, name))
		return true;
	if (!strncmp(base, name, n) && !strncmp(base + n, ".so", 3))
		return true;
	return !strncmp(base, "lib", 3) && !strncmp(base + 3, name, n) &&
	       !strncmp(base + 3 + n, ".so", 3);
}

/* /proc/PID/maps: the first mapped file whose name matches. */
static const char *from_maps(struct arena *a, const char *name, pid_t pid)
{
	char path[64], line[PATH_MAX + 128];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	const char *found = NULL;
	if (!f)
		return NULL;
	while (!found && fgets(line, sizeof(line), f)) {
		char *file = strchr(line, '/');
		if (!file)
			continue;
		file[strcspn(file, "\n")] = 0;
		const char *base = strrchr(file, '/') + 1;
		if (lib_name_matches(base, name))
			found = arena_printf(a, "/proc/%d/root%s", (int)pid, file);
	}
	fclose(f);
	return found;
}

/* /etc/ld.so.cache, glibc's "glibc-ld.so.cache1.1" format: a header, then
 * entries { int32 flags; uint32 key, value; uint32 osversion; uint64
 * hwcap }, key and value being offsets of the soname and path from the
 * header's start. */
static const char *from_ld_cache(struct arena *a, const char *name)
{
	static const char magic[] = "glibc-ld.so.cache1.1";
	FILE *f = fopen("/etc/ld.so.cache", "re");
	const char *found = NULL;
	char *buf = NULL;
	long len;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 48 || fseek(f, 0, SEEK_SET))
		goto out;
	buf = malloc((size_t)len + 1);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len)
		goto out;
	buf[len] = 0;
	/* an old-format cache may come first; the new one follows it */
	char *hdr = memmem(buf, (size_t)len, magic, sizeof(magic) - 1);
	if (!hdr || hdr + 48 > buf + len)
		goto out;
	uint32_t nlibs;
	memcpy(&nlibs, hdr + 20, 4);
	for (uint32_t i = 0; i < nlibs && !found; i++) {
		const char *e = hdr + 48 + (size_t)i * 24;
		uint32_t key, value;
		int32_t flags;
		if (e + 24 > buf + len)
			break;
		memcpy(&flags, e, 4);
		memcpy(&key, e + 4, 4);
		memcpy(&value, e + 8, 4);
		if ((flags & 0xff00) != 0x0300 && (flags & 0xff00) != 0) /* x86-64 libc6 */
			continue;
		if (hdr + key >= buf + len || hdr + value >= buf + len)
			continue;
		if (lib_name_matches(hdr + key, name) && is_file(hdr + value))
			found = arena_strdup(a, hdr + value);
	}
out:
	free(buf);
	fclose(f);
	return found;
}

static const char *from_dirs(struct arena *a, const char *name)
{
	static const char *const dirs[] = { "/lib/x86_64-linux-gnu",
					    "/usr/lib/x86_64-linux-gnu",
					    "/lib64",
					    "/usr/lib64",
					    "/lib",
					    "/usr/lib",
					    "/usr/local/lib" };
	const char *found = NULL;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && !found; i++) {
		for (int j = 0; j < 3 && !found; j++) {
			char pat[PATH_MAX];
			glob_t g;
			snprintf(pat, sizeof(pat), "%s/%s%s%s", dirs[i], j == 2 ? "lib" : "", name,
				 j ? ".so*" : "");
			if (glob(pat, 0, NULL, &g))
				continue;
			for (size_t k = 0; k < g.gl_pathc && !found; k++)
				if (is_file(g.gl_pathv[k]))
					found = arena_strdup(a, g.gl_pathv[k]);
			globfree(&g);
		}
	}
	return found;
}

static const char *from_path(struct arena *a, const char *name)
{
	const char *path = getenv("PATH");
	if (!path)
		return NULL;
	while (*path) {
		size_t n = strcspn(path, ":");
		char full[PATH_MAX];
		if (n &&
		    snprintf(full, sizeof(full), "%.*s/%s", (int)n, path, name) <
			    (int)sizeof(full) &&
		    is_file(full) && !access(full, X_OK))
			return arena_strdup(a, full);
		path += n + (path[n] == ':');
	}
	return NULL;
}

const char *uelf_resolve_target(struct arena *a, const char *target, pid_t pid, const char **why)
{
	const char *p = NULL;
	*why = "";
	if (strchr(target, '/')) {
		if (pid > 0 && target[0] == '/' && strncmp(target, "/proc/", 6))
			p = arena_printf(a, "/proc/%d/root%s", (int)pid, target);
		else if (target[0] == '/')
			p = target;
		else {
			char *r = realpath(target, NULL);
			if (r) {
				p = arena_strdup(a, r);
				free(r);
			}
		}
		if (!p || !is_file(p)) {
			*why = "does not exist or is not a file";
			return NULL;
		}
		return p;
	}
	if (pid > 0)
		p = from_maps(a, target, pid);
	if (!p)
		p = from_path(a, target);
	if (!p)
		p = from_ld_cache(a, target);
	if (!p)
		p = from_dirs(a, target);
	if (!p)
		*why = "is no file, program in PATH or library (ld.so.cache, standard "
		       "directories)";
	return p;
}

static int load_segments(Elf *e, GElf_Phdr **out, size_t *n)
{
	if (elf_getphdrnum(e, n))
		return -ENOEXEC;
	*out = calloc(*n ? *n : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++)
		if (!gelf_getphdr(e, (int)i, &(*out)[i]))
			(*out)[i].p_type = PT_NULL;
	return 0;
}

static bool vaddr_off_in(const GElf_Phdr *ph, size_t n, uint64_t va, uint64_t *off, bool code)
{
	for (size_t i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && (!code || (ph[i].p_flags & PF_X)) &&
		    va >= ph[i].p_vaddr && va < ph[i].p_vaddr + ph[i].p_filesz) {
			*off = va - ph[i].p_vaddr + ph[i].p_offset;
			return true;
		}
	return false;
}

static bool vaddr_off(const GElf_Phdr *ph, size_t n, uint64_t va, uint64_t *off)
{
	return vaddr_off_in(ph, n, va, off, true);
}

static int cmp_sym(const void *x, const void *y)
{
	const struct uelf_sym *a = x, *b = y;
	int c = strcmp(a->name, b->name);
	return c ? c : (a->addr > b->addr) - (a->addr < b->addr);
}

static void add_syms(struct arena *a, Elf *e, Elf_Scn *scn, const GElf_Phdr *ph, size_t nph,
		     struct uelf_sym **v, int *n, int *cap)
{
	GElf_Shdr sh;
	Elf_Data *d = elf_getdata(scn, NULL);
	if (!gelf_getshdr(scn, &sh) || !d || !sh.sh_entsize)
		return;
	size_t count = sh.sh_size / sh.sh_entsize;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym s;
		if (!gelf_getsym(d, (int)i, &s))
			continue;
		int t = GELF_ST_TYPE(s.st_info);
		if ((t != STT_FUNC && t != STT_GNU_IFUNC) || s.st_shndx == SHN_UNDEF || !s.st_value)
			continue;
		const char *name = elf_strptr(e, sh.sh_link, s.st_name);
		uint64_t off;
		if (!name || !*name || !vaddr_off(ph, nph, s.st_value, &off))
			continue;
		if (*n == *cap) {
			int nc = *cap ? *cap * 2 : 256;
			struct uelf_sym *nv = arena_alloc(a, (size_t)nc * sizeof(*nv));
			if (*n)
				memcpy(nv, *v, (size_t)*n * sizeof(*nv));
			*v = nv;
			*cap = nc;
		}
		struct uelf_sym *u = &(*v)[(*n)++];
		u->name = arena_strdup(a, name);
		u->demangled = NULL;
		if (!strncmp(name, "_Z", 2)) {
			int st = 0;
			char *dm = __cxa_demangle(name, NULL, NULL, &st);
			if (dm && !st)
				u->demangled = arena_strdup(a, dm);
			free(dm);
		}
		u->addr = s.st_value;
		u->size = s.st_size;
		u->file_off = off;
	}
}

static int open_elf(const char *path, int *fd, Elf **e)
{
	elf_version(EV_CURRENT);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	*e = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
	if (!*e || elf_kind(*e) != ELF_K_ELF) {
		if (*e)
			elf_end(*e);
		close(*fd);
		return -ENOEXEC;
	}
	return 0;
}

int uelf_functions(struct arena *a, const char *path, struct uelf_sym **out)
{
	int fd, n = 0, cap = 0, err;
	Elf *e;
	GElf_Phdr *ph = NULL;
	size_t nph = 0;
	struct uelf_sym *v = NULL;
	if ((err = open_elf(path, &fd, &e)))
		return err;
	err = load_segments(e, &ph, &nph);
	for (Elf_Scn *scn = NULL; !err && (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;
		if (gelf_getshdr(scn, &sh) &&
		    (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM))
			add_syms(a, e, scn, ph, nph, &v, &n, &cap);
	}
	free(ph);
	elf_end(e);
	close(fd);
	if (err)
		return err;
	if (n)
		qsort(v, (size_t)n, sizeof(*v), cmp_sym);
	int m = 0; /* .symtab and .dynsym name the same functions */
	for (int i = 0; i < n; i++)
		if (!m || strcmp(v[m - 1].name, v[i].name))
			v[m++] = v[i];
	*out = v;
	return m;
}

int uelf_symbol(const char *path, const char *name, uint64_t *addr, uint64_t *size, bool *pie)
{
	GElf_Ehdr eh;
	int fd, err = -ENOENT;
	Elf *e;

	if ((err = open_elf(path, &fd, &e)))
		return err;
	err = -ENOENT;
	*pie = gelf_getehdr(e, &eh) && eh.e_type == ET_DYN;
	for (Elf_Scn *scn = NULL; err && (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;
		Elf_Data *d;
		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; err && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *n;
			if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF || !sym.st_value)
				continue;
			n = elf_strptr(e, sh.sh_link, sym.st_name);
			if (n && !strcmp(n, name)) {
				*addr = sym.st_value;
				*size = sym.st_size;
				err = 0;
			}
		}
	}
	elf_end(e);
	close(fd);
	return err;
}

int uelf_load_bias(pid_t pid, const char *path, uint64_t *bias)
{
	char maps[64], line[4352], *name;
	struct stat want, got;
	FILE *f;
	int err = -ENOENT;

	if (stat(path, &want))
		return -errno;
	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	if (!(f = fopen(maps, "re")))
		return -errno;
	while (err && fgets(line, sizeof(line), f)) {
		unsigned long long start, pgoff, ino;
		int at = 0;
		if (sscanf(line, "%llx-%*x %*s %llx %*s %llu %n", &start, &pgoff, &ino, &at) < 3 ||
		    ino != (unsigned long long)want.st_ino || !at)
			continue;
		name = line + at;
		name[strcspn(name, "\n")] = '\0';
		if (stat(name, &got) || got.st_dev != want.st_dev || got.st_ino != want.st_ino)
			continue;
		*bias = start - pgoff;
		err = 0;
	}
	fclose(f);
	return err;
}

int uelf_sym_matches(const struct uelf_sym *sym, const char *pattern)
{
	if (!fnmatch(pattern, sym->name, 0))
		return 1;
	if (!sym->demangled)
		return 0;
	if (!fnmatch(pattern, sym->demangled, 0))
		return 1;
	/* "ns::f(int)" also as "ns::f" */
	const char *paren = strchr(sym->demangled, '(');
	if (!paren)
		return 0;
	char buf[1024];
	snprintf(buf, sizeof(buf), "%.*s", (int)(paren - sym->demangled), sym->demangled);
	return !fnmatch(pattern, buf, 0);
}

int uelf_vaddr_to_off(const char *path, uint64_t vaddr, uint64_t *off)
{
	int fd, err;
	Elf *e;
	GElf_Phdr *ph = NULL;
	size_t nph = 0;
	if ((err = open_elf(path, &fd, &e)))
		return err;
	err = load_segments(e, &ph, &nph);
	if (!err && !vaddr_off(ph, nph, vaddr, off))
		err = -ERANGE;
	free(ph);
	elf_end(e);
	close(fd);
	return err;
}

/* Decodes the function's code from its start (LLVM's X86 disassembler)
 * until it reaches or passes off: a uprobe in the middle of an
 * instruction would corrupt it. Returns 1 at a boundary, 0 inside an
 * instruction (*prev: the boundary before it), -errno if the code cannot
 * be read or decoded. */
int uelf_insn_boundary(const struct uelf_sym *sym, const char *path, uint64_t off, uint64_t *prev)
{
	static bool inited;
	if (!inited) {
		LLVMInitializeX86TargetInfo();
		LLVMInitializeX86TargetMC();
		LLVMInitializeX86Disassembler();
		inited = true;
	}
	if (!sym->size || off >= sym->size)
		return -ERANGE;
	uint8_t *code = malloc(sym->size);
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = -EIO;
	LLVMDisasmContextRef dc = NULL;
	if (!code || fd < 0 ||
	    pread(fd, code, sym->size, (off_t)sym->file_off) != (ssize_t)sym->size)
		goto out;
	dc = LLVMCreateDisasm("x86_64-pc-linux-gnu", NULL, 0, NULL, NULL);
	if (!dc)
		goto out;
	uint64_t pos = 0;
	char text[128];
	while (pos < off) {
		size_t n = LLVMDisasmInstruction(dc, code + pos, sym->size - pos, sym->addr + pos,
						 text, sizeof(text));
		if (!n) {
			ret = -EILSEQ;
			goto out;
		}
		*prev = pos;
		pos += n;
	}
	ret = pos == off;
out:
	if (dc)
		LLVMDisasmDispose(dc);
	if (fd >= 0)
		close(fd);
	free(code);
	return ret;
}

/* .note.stapsdt: notes named "stapsdt" of type 3, whose descriptor is
 * { u64 pc, base, semaphore; provider\0 name\0 args\0 }. pc and semaphore
 * are link-time addresses; when the file was prelinked they move by the
 * distance between .stapsdt.base's address and `base`. */
static void read_notes(struct arena *a, Elf *e, Elf_Scn *scn, uint64_t base_addr,
		       const GElf_Phdr *ph, size_t nph, struct uelf_usdt **v, int *n, int *cap)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	GElf_Nhdr nh;
	size_t off = 0, name_off, desc_off, next;
	while (d && (next = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
		off = next;
		const char *desc = (const char *)d->d_buf + desc_off;
		if (nh.n_type != 3 || nh.n_namesz != 8 ||
		    memcmp((const char *)d->d_buf + name_off, "stapsdt", 8) || nh.n_descsz < 27)
			continue;
		uint64_t pc, base, sema;
		memcpy(&pc, desc, 8);
		memcpy(&base, desc + 8, 8);
		memcpy(&sema, desc + 16, 8);
		const char *end = desc + nh.n_descsz, *prov = desc + 24;
		const char *name = memchr(prov, 0, (size_t)(end - prov));
		const char *args = name ? memchr(name + 1, 0, (size_t)(end - name - 1)) : NULL;
		if (!name || !args || !memchr(args + 1, 0, (size_t)(end - args - 1)))
			continue;
		name++, args++;
		if (base_addr) {
			pc += base_addr - base;
			if (sema)
				sema += base_addr - base;
		}
		uint64_t foff, soff = 0;
		if (!vaddr_off(ph, nph, pc, &foff) ||
		    (sema && !vaddr_off_in(ph, nph, sema, &soff, false)))
			continue;
		if (*n == *cap) {
			int nc = *cap ? *cap * 2 : 32;
			struct uelf_usdt *nv = arena_alloc(a, (size_t)nc * sizeof(*nv));
			if (*n)
				memcpy(nv, *v, (size_t)*n * sizeof(*nv));
			*v = nv;
			*cap = nc;
		}
		struct uelf_usdt *u = &(*v)[(*n)++];
		u->provider = arena_strdup(a, prov);
		u->name = arena_strdup(a, name);
		u->args = arena_strdup(a, args);
		u->file_off = foff;
		u->sema_off = soff;
	}
	(void)e;
}

int uelf_usdt_notes(struct arena *a, const char *path, struct uelf_usdt **out)
{
	int fd, n = 0, cap = 0, err;
	Elf *e;
	GElf_Phdr *ph = NULL;
	size_t nph = 0, shstr;
	struct uelf_usdt *v = NULL;
	uint64_t base_addr = 0;
	if ((err = open_elf(path, &fd, &e)))
		return err;
	err = load_segments(e, &ph, &nph);
	if (!err && elf_getshdrstrndx(e, &shstr))
		err = -ENOEXEC;
	for (Elf_Scn *scn = NULL; !err && (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;
		const char *sn;
		if (gelf_getshdr(scn, &sh) && (sn = elf_strptr(e, shstr, sh.sh_name)) &&
		    !strcmp(sn, ".stapsdt.base"))
			base_addr = sh.sh_addr;
	}
	for (Elf_Scn *scn = NULL; !err && (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;
		const char *sn;
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_NOTE &&
		    (sn = elf_strptr(e, shstr, sh.sh_name)) && !strcmp(sn, ".note.stapsdt"))
			read_notes(a, e, scn, base_addr, ph, nph, &v, &n, &cap);
	}
	free(ph);
	elf_end(e);
	close(fd);
	if (err)
		return err;
	*out = v;
	return n;
}

/* x86-64 register names (any width) -> offset in struct pt_regs */
static int pt_regs_off(const char *r, size_t n)
{
	static const struct {
		const char *names[4];
		int off;
	} regs[] = {
		{ { "rax", "eax", "ax", "al" }, 80 },
		{ { "rbx", "ebx", "bx", "bl" }, 40 },
		{ { "rcx", "ecx", "cx", "cl" }, 88 },
		{ { "rdx", "edx", "dx", "dl" }, 96 },
		{ { "rsi", "esi", "si", "sil" }, 104 },
		{ { "rdi", "edi", "di", "dil" }, 112 },
		{ { "rbp", "ebp", "bp", "bpl" }, 32 },
		{ { "rsp", "esp", "sp", "spl" }, 152 },
		{ { "r8", "r8d", "r8w", "r8b" }, 72 },
		{ { "r9", "r9d", "r9w", "r9b" }, 64 },
		{ { "r10", "r10d", "r10w", "r10b" }, 56 },
		{ { "r11", "r11d", "r11w", "r11b" }, 48 },
		{ { "r12", "r12d", "r12w", "r12b" }, 24 },
		{ { "r13", "r13d", "r13w", "r13b" }, 16 },
		{ { "r14", "r14d", "r14w", "r14b" }, 8 },
		{ { "r15", "r15d", "r15w", "r15b" }, 0 },
	};
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		for (int j = 0; j < 4; j++)
			if (strlen(regs[i].names[j]) == n && !strncmp(regs[i].names[j], r, n))
				return regs[i].off;
	return -1;
}

/* "%reg" at *p; advances *p */
static int parse_reg(const char **p)
{
	if (**p != '%')
		return -1;
	const char *r = ++*p;
	while (isalnum((unsigned char)**p))
		++*p;
	return pt_regs_off(r, (size_t)(*p - r));
}

int uelf_usdt_arg(const char *args, int i, struct uelf_usdt_arg *out, const char **why)
{
	const char *p = args;
	*why = "";
	for (int k = 0;; k++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return -ENOENT;
		if (k == i)
			break;
		p += strcspn(p, " ");
	}
	size_t len = strcspn(p, " ");
	char op[128];
	snprintf(op, sizeof(op), "%.*s", (int)len, p);
	memset(out, 0, sizeof(*out));
	out->size = 8;
	out->reg = out->index = -1;
	const char *q = op, *at = strchr(op, '@');
	if (at) {
		int sz = atoi(op);
		out->is_signed = sz < 0;
		out->size = abs(sz);
		q = at + 1;
		if (out->size != 1 && out->size != 2 && out->size != 4 && out->size != 8) {
			*why = "bad size";
			return -EINVAL;
		}
	}
	if (*q == '$') { /* constant */
		char *end;
		out->kind = UELF_ARG_IMM;
		out->value = strtoll(q + 1, &end, 0);
		if (*end) {
			*why = "a constant that is not a number";
			return -EINVAL;
		}
		return 0;
	}
	if (*q == '%') { /* register */
		out->kind = UELF_ARG_REG;
		out->reg = parse_reg(&q);
		if (out->reg < 0 || *q) {
			*why = "an unknown register";
			return -EINVAL;
		}
		return 0;
	}
	/* memory: [disp](%base[,%index[,scale]]) */
	char *end;
	out->kind = UELF_ARG_MEM;
	out->value = *q == '(' ? 0 : strtoll(q, &end, 0);
	if (*q != '(') {
		if (end == q) {
			*why = "a symbol operand (%rip-relative)";
			return -EINVAL;
		}
		q = end;
	}
	if (*q++ != '(' || (out->reg = parse_reg(&q)) < 0) {
		*why = "an operand it cannot decode";
		return -EINVAL;
	}
	out->scale = 1;
	if (*q == ',') {
		q++;
		out->index = parse_reg(&q);
		if (*q == ',')
			out->scale = (int)strtol(q + 1, (char **)&q, 10);
	}
	if (*q != ')' || (out->index < 0 && strchr(op, ',')) ||
	    (out->scale != 1 && out->scale != 2 && out->scale != 4 && out->scale != 8)) {
		*why = "an operand it cannot decode";
		return -EINVAL;
	}
	return 0;
}
