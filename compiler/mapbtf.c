/* mapbtf.c: the BTF of the `.maps` definitions, added to the object after
 * LLVM emitted it.
 *
 * In: the maps object.c declared (cg_btf_map: name, type, max_entries, key
 * and value sizes) and the ELF LLVM wrote, whose map globals carry no
 * debug info. Out: the same ELF with a .BTF section that also holds, per
 * map, the struct { type, max_entries, key, value } libbpf parses, a VAR
 * and the `.maps` DATASEC, built with libbpf's btf__add_* (hashed strings).
 *
 * Why not LLVM's debug info, as for everything else: LLVM 19's BTF writer
 * (BTFDebug) is cubic in the number of maps and functions. At the start of
 * every function it completes every type entry again, and a VAR's
 * completion always looks its name up in the string table, a linear walk
 * of a std::map (BTFStringTable::addString): programs x maps x strings.
 * 1,600 probe blocks of one map each spent 16 s of 17 in it. Programs
 * (func_info, line_info) stay LLVM's: their cost is a few string lookups
 * per function.
 *
 * Not done here: data sections (.rodata, .bss), whose few variables keep
 * LLVM's debug info.
 *
 * Also here: the texts of line info (line_texts below), for the same
 * reason.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "compiler/codegen.h"

void cg_btf_map(struct cg *g, const char *name, uint32_t type, uint32_t max_entries,
		uint32_t key_size, uint32_t value_size, bool sizes_as_numbers)
{
	ARENA_GROW(g->arena, g->btf_maps, g->nbtf_maps, g->cap_btf_maps);
	g->btf_maps[g->nbtf_maps++] = (struct cg_btf_map){
		.name = name, .type = type, .max_entries = max_entries, .key_size = key_size,
		.value_size = value_size, .sizes_as_numbers = sizes_as_numbers, .offset = UINT64_MAX,
	};
}

/* ---- a small open-addressing table: 64-bit key -> BTF type id ---- */

struct id_table {
	uint64_t *keys;
	int *ids; /* 0: empty */
	uint32_t mask;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static int *id_slot(struct id_table *t, uint64_t key)
{
	for (uint32_t i = (uint32_t)mix(key) & t->mask;; i = (i + 1) & t->mask)
		if (!t->ids[i] || t->keys[i] == key) {
			t->keys[i] = key;
			return &t->ids[i];
		}
}

static int id_table_init(struct id_table *t, uint32_t entries)
{
	uint32_t n = 64;
	while (n < 2 * entries)
		n *= 2;
	t->mask = n - 1;
	t->keys = calloc(n, sizeof(*t->keys));
	t->ids = calloc(n, sizeof(*t->ids));
	return t->keys && t->ids ? 0 : -ENOMEM;
}

static void id_table_free(struct id_table *t)
{
	free(t->keys);
	free(t->ids);
}

/* ---- types ---- */

struct builder {
	struct btf *btf;
	int int_id, uint_id, uchar_id;
	struct id_table ptrs;	 /* (element is uchar, n) -> ptr to array */
	struct id_table structs; /* map definition hash -> struct */
	uint32_t *first;	 /* per structs slot: the map it was made for */
};

/* a pointer to elem[n]: how BTF map definitions encode numbers (int[n])
 * and key/value sizes (unsigned char[n]) */
static int ptr_to_array(struct builder *b, bool bytes, uint32_t n)
{
	int *slot = id_slot(&b->ptrs, (uint64_t)bytes << 32 | n);
	if (!*slot) {
		int arr = btf__add_array(b->btf, b->uint_id, bytes ? b->uchar_id : b->int_id, n);
		*slot = arr < 0 ? arr : btf__add_ptr(b->btf, arr);
	}
	return *slot;
}

static int add_member(struct builder *b, const char *name, int type, unsigned i)
{
	return type < 0 ? type : btf__add_field(b->btf, name, type, i * 64, 0);
}

static uint64_t def_key(const struct cg_btf_map *m)
{
	uint64_t h = mix(m->type ^ (uint64_t)m->max_entries << 32);
	h = mix(h ^ m->key_size ^ (uint64_t)m->value_size << 32);
	return h ^ m->sizes_as_numbers;
}

static bool same_def(const struct cg_btf_map *a, const struct cg_btf_map *b)
{
	return a->type == b->type && a->max_entries == b->max_entries &&
	       a->key_size == b->key_size && a->value_size == b->value_size &&
	       a->sizes_as_numbers == b->sizes_as_numbers;
}

/* struct { int (*type)[T]; int (*max_entries)[N]; key; value; }, the
 * members libbpf reads (key_size/value_size as numbers for stack maps;
 * array maps want a 32-bit integer key type in their BTF, or the kernel
 * refuses it and libbpf retries without BTF) */
static int def_struct(struct builder *b, const struct cg_btf_map *m)
{
	int key = 0, value = 0, err;
	bool array = m->type == BPF_MAP_TYPE_ARRAY || m->type == BPF_MAP_TYPE_PERCPU_ARRAY;
	unsigned n = 2;
	if (m->sizes_as_numbers) {
		key = ptr_to_array(b, false, m->key_size);
		value = ptr_to_array(b, false, m->value_size);
		n = 4;
	} else if (m->key_size) {
		key = array ? btf__add_ptr(b->btf, b->uint_id) : ptr_to_array(b, true, m->key_size);
		value = ptr_to_array(b, true, m->value_size);
		n = 4;
	}
	int type = ptr_to_array(b, false, m->type);
	int max = ptr_to_array(b, false, m->max_entries);
	if (key < 0 || value < 0 || type < 0 || max < 0)
		return -ENOMEM;
	int id = btf__add_struct(b->btf, "", n * 8);
	err = id < 0 ? id : add_member(b, "type", type, 0) ?: add_member(b, "max_entries", max, 1);
	if (!err && n == 4 && m->sizes_as_numbers)
		err = add_member(b, "key_size", key, 2) ?: add_member(b, "value_size", value, 3);
	else if (!err && n == 4)
		err = add_member(b, "key", key, 2) ?: add_member(b, "value", value, 3);
	return err ? err : id;
}

static int builder_init(struct builder *b, struct btf *btf, uint32_t nmaps)
{
	b->btf = btf;
	b->int_id = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	b->uint_id = btf__add_int(btf, "unsigned int", 4, 0);
	b->uchar_id = btf__add_int(btf, "unsigned char", 1, 0);
	if (b->int_id < 0 || b->uint_id < 0 || b->uchar_id < 0)
		return -ENOMEM;
	int err = id_table_init(&b->ptrs, 4 * nmaps + 16) ?: id_table_init(&b->structs, nmaps + 16);
	if (!err && !(b->first = calloc(b->structs.mask + 1, sizeof(*b->first))))
		err = -ENOMEM;
	return err;
}

/* ---- the ELF ---- */

struct elf_view {
	const uint8_t *data;
	size_t size;
	Elf64_Ehdr eh;
	int btf_sec, ext_sec, maps_sec, symtab_sec;
};

static bool elf_shdr(const struct elf_view *e, unsigned i, Elf64_Shdr *sh)
{
	uint64_t at = e->eh.e_shoff + (uint64_t)i * e->eh.e_shentsize;
	if (i >= e->eh.e_shnum || at + sizeof(*sh) > e->size)
		return false;
	memcpy(sh, e->data + at, sizeof(*sh));
	return sh->sh_type == SHT_NOBITS || sh->sh_offset + sh->sh_size <= e->size;
}

static int elf_open(struct elf_view *e, const uint8_t *data, size_t size)
{
	Elf64_Shdr names, sh;
	e->data = data;
	e->size = size;
	e->btf_sec = e->ext_sec = e->maps_sec = e->symtab_sec = -1;
	if (size < sizeof(e->eh))
		return -EINVAL;
	memcpy(&e->eh, data, sizeof(e->eh));
	if (e->eh.e_shentsize != sizeof(Elf64_Shdr) || !elf_shdr(e, e->eh.e_shstrndx, &names))
		return -EINVAL;
	for (unsigned i = 1; i < e->eh.e_shnum; i++) {
		if (!elf_shdr(e, i, &sh) || sh.sh_name >= names.sh_size)
			return -EINVAL;
		const char *name = (const char *)data + names.sh_offset + sh.sh_name;
		size_t room = names.sh_size - sh.sh_name;
		if (!strncmp(name, ".BTF", room) && !name[4])
			e->btf_sec = (int)i;
		else if (!strncmp(name, ".BTF.ext", room) && !name[8])
			e->ext_sec = (int)i;
		else if (!strncmp(name, ".maps", room) && !name[5])
			e->maps_sec = (int)i;
		else if (sh.sh_type == SHT_SYMTAB)
			e->symtab_sec = (int)i;
	}
	return e->btf_sec < 0 || e->symtab_sec < 0 ? -ENOENT : 0;
}

/* The offset of every map's symbol in .maps: one pass over the symbols,
 * names found through a hash of the maps' names (a lookup per map would
 * be maps x symbols). */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ULL;
	return h | 1;
}

static int find_offsets(struct cg *g, const struct elf_view *e)
{
	Elf64_Shdr symtab, strtab;
	struct id_table names;
	if (!elf_shdr(e, (unsigned)e->symtab_sec, &symtab) ||
	    !elf_shdr(e, symtab.sh_link, &strtab) || id_table_init(&names, g->nbtf_maps))
		return -EINVAL;
	/* ids are map index + 1; names hashing alike chain through the
	 * probe sequence, told apart by strcmp */
	for (uint32_t i = 0; i < g->nbtf_maps; i++) {
		uint64_t h = name_hash(g->btf_maps[i].name);
		uint32_t s = (uint32_t)mix(h) & names.mask;
		while (names.ids[s])
			s = (s + 1) & names.mask;
		names.keys[s] = h;
		names.ids[s] = (int)i + 1;
	}
	const char *strs = (const char *)e->data + strtab.sh_offset;
	for (uint64_t off = 0; off + sizeof(Elf64_Sym) <= symtab.sh_size; off += sizeof(Elf64_Sym)) {
		Elf64_Sym sym;
		memcpy(&sym, e->data + symtab.sh_offset + off, sizeof(sym));
		if (sym.st_shndx != e->maps_sec || sym.st_name >= strtab.sh_size ||
		    !memchr(strs + sym.st_name, 0, strtab.sh_size - sym.st_name))
			continue;
		const char *name = strs + sym.st_name;
		uint64_t h = name_hash(name);
		for (uint32_t s = (uint32_t)mix(h) & names.mask; names.ids[s]; s = (s + 1) & names.mask) {
			struct cg_btf_map *m = &g->btf_maps[names.ids[s] - 1];
			if (names.keys[s] == h && !strcmp(m->name, name)) {
				m->offset = sym.st_value;
				break;
			}
		}
	}
	id_table_free(&names);
	return 0;
}

static int by_offset(const void *a, const void *b)
{
	const struct cg_btf_map *x = a, *y = b;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Types, VARs and the DATASEC of every map, appended to btf. The VARs are
 * static and the DATASEC has its size and offsets: libbpf then matches no
 * VAR to its ELF symbol (a walk of the symbol table per VAR). */
static int add_maps(struct cg *g, struct btf *btf, uint64_t maps_size)
{
	struct builder b = { 0 };
	int err = builder_init(&b, btf, g->nbtf_maps);
	int *vars = calloc(g->nbtf_maps, sizeof(*vars));
	if (!vars)
		err = -ENOMEM;
	qsort(g->btf_maps, g->nbtf_maps, sizeof(*g->btf_maps), by_offset);
	for (uint32_t i = 0; !err && i < g->nbtf_maps; i++) {
		const struct cg_btf_map *m = &g->btf_maps[i];
		int *slot = id_slot(&b.structs, def_key(m));
		uint32_t *first = &b.first[slot - b.structs.ids];
		int st;
		if (!*slot) {
			st = *slot = def_struct(&b, m);
			*first = i;
		} else if (same_def(&g->btf_maps[*first], m)) {
			st = *slot;
		} else { /* two definitions hashing alike: a struct of its own */
			st = def_struct(&b, m);
		}
		vars[i] = st < 0 ? st : btf__add_var(btf, m->name, BTF_VAR_GLOBAL_ALLOCATED, st);
		if (vars[i] < 0)
			err = vars[i];
	}
	int sec = err ? err : btf__add_datasec(btf, ".maps", (uint32_t)maps_size);
	if (sec < 0)
		err = sec;
	for (uint32_t i = 0; !err && i < g->nbtf_maps; i++) {
		const struct cg_btf_map *m = &g->btf_maps[i];
		uint32_t nfields = m->sizes_as_numbers || m->key_size ? 4 : 2;
		err = btf__add_datasec_var_info(btf, vars[i], (uint32_t)m->offset, nfields * 8);
	}
	free(vars);
	id_table_free(&b.ptrs);
	id_table_free(&b.structs);
	free(b.first);
	return err;
}

/* ---- line info: the script's file name and line texts ---- */

/* LLVM's BTF writer adds the text of every line a program's instructions
 * come from to the string table with BTFStringTable::addString, a linear
 * walk of every string so far: quadratic in probe blocks (4,000 blocks:
 * a sixth of the compile). object.c names the DIFile so that the writer
 * finds no file to read (it then leaves line_off 0), and the name and the
 * texts are set here, in .BTF.ext's bpf_line_info records, with
 * btf__add_str (hashed). The verifier prints them in its log
 * ("; @[comm] = count(); @ script.bt:3"). */
struct patch {
	size_t at; /* byte offset in the ELF */
	uint32_t value;
};

struct patches {
	struct patch *v;
	size_t n, cap;
};

static int patch_add(struct patches *p, size_t at, uint32_t value)
{
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 256;
		struct patch *nv = realloc(p->v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		p->v = nv;
		p->cap = nc;
	}
	p->v[p->n++] = (struct patch){ at, value };
	return 0;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static int line_texts(struct cg *g, const struct elf_view *e, struct btf *btf, struct patches *out)
{
	Elf64_Shdr sh;
	if (e->ext_sec < 0 || !elf_shdr(e, (unsigned)e->ext_sec, &sh) || sh.sh_size < 24)
		return 0;
	const uint8_t *x = e->data + sh.sh_offset;
	uint32_t hdr_len = rd32(x + 4), li_off = rd32(x + 16), li_len = rd32(x + 20);
	if ((x[0] | x[1] << 8) != 0xeB9F || (uint64_t)hdr_len + li_off + li_len > sh.sh_size ||
	    li_len < 4)
		return 0;
	const uint8_t *p = x + hdr_len + li_off, *end = p + li_len;
	uint32_t rec = rd32(p);
	p += 4;
	if (rec < 16)
		return 0;
	int file = btf__add_str(btf, g->src->name);
	if (file < 0)
		return file;
	const struct source *src = g->src;
	int *text = calloc((size_t)src->nlines + 1, sizeof(*text)); /* 0: not added yet */
	if (!text)
		return -ENOMEM;
	int err = 0;
	char *line = NULL;
	size_t line_cap = 0;
	while (!err && p + 8 <= end) {
		uint32_t n = rd32(p + 4);
		p += 8;
		for (uint32_t i = 0; !err && i < n && p + rec <= end; i++, p += rec) {
			uint32_t ln = rd32(p + 12) >> 10;
			size_t at = (size_t)(p - e->data);
			err = patch_add(out, at + 4, (uint32_t)file);
			if (err || ln < 1 || ln > src->nlines)
				continue;
			if (!text[ln]) {
				size_t len;
				const char *s = src_line(src, ln, &len);
				if (len + 1 > line_cap) {
					char *nl = realloc(line, len + 1);
					if (!nl) {
						err = -ENOMEM;
						break;
					}
					line = nl;
					line_cap = len + 1;
				}
				memcpy(line, s, len);
				line[len] = 0;
				text[ln] = btf__add_str(btf, line);
				if (text[ln] < 0) {
					err = text[ln];
					break;
				}
			}
			err = patch_add(out, at + 8, (uint32_t)text[ln]);
		}
	}
	free(line);
	free(text);
	return err;
}

/* The object with .BTF replaced: the new BTF is appended after the old
 * bytes (8-byte aligned) and the section header points at it; the old
 * section's bytes stay, unreferenced. libbpf ignores .rel.BTF, whose
 * offsets (into the type section, which only grew at its end) still hold.
 * The patches (line info's string offsets) are applied to the copy. */
static LLVMMemoryBufferRef with_btf(const struct elf_view *e, const void *btf, uint32_t btf_size,
				    const struct patches *pt)
{
	size_t at = (e->size + 7) & ~(size_t)7;
	uint8_t *buf = calloc(1, at + btf_size);
	if (!buf)
		return NULL;
	memcpy(buf, e->data, e->size);
	for (size_t i = 0; i < pt->n; i++)
		memcpy(buf + pt->v[i].at, &pt->v[i].value, 4);
	memcpy(buf + at, btf, btf_size);
	Elf64_Shdr sh;
	uint64_t sh_at = e->eh.e_shoff + (uint64_t)e->btf_sec * e->eh.e_shentsize;
	memcpy(&sh, buf + sh_at, sizeof(sh));
	sh.sh_offset = at;
	sh.sh_size = btf_size;
	memcpy(buf + sh_at, &sh, sizeof(sh));
	LLVMMemoryBufferRef out =
		LLVMCreateMemoryBufferWithMemoryRangeCopy((const char *)buf, at + btf_size, "trace.o");
	free(buf);
	return out;
}

int cg_btf_add_maps(struct cg *g, LLVMMemoryBufferRef *obj)
{
	struct elf_view e;
	Elf64_Shdr btf_sh, maps_sh;
	const uint8_t *data = (const uint8_t *)LLVMGetBufferStart(*obj);
	int err = elf_open(&e, data, LLVMGetBufferSize(*obj));
	if (err || !elf_shdr(&e, (unsigned)e.btf_sec, &btf_sh))
		return err ? err : -ENOENT;
	memset(&maps_sh, 0, sizeof(maps_sh));
	if (g->nbtf_maps && (e.maps_sec < 0 || !elf_shdr(&e, (unsigned)e.maps_sec, &maps_sh)))
		return -ENOENT;
	err = g->nbtf_maps ? find_offsets(g, &e) : 0;
	for (uint32_t i = 0; !err && i < g->nbtf_maps; i++)
		if (g->btf_maps[i].offset == UINT64_MAX)
			err = -ENOENT; /* LLVM dropped a map global */
	if (err)
		return err;
	struct btf *btf = btf__new(data + btf_sh.sh_offset, (uint32_t)btf_sh.sh_size);
	if (!btf)
		return -errno;
	struct patches pt = { 0 };
	err = g->nbtf_maps ? add_maps(g, btf, maps_sh.sh_size) : 0;
	err = err ?: line_texts(g, &e, btf, &pt);
	uint32_t size = 0;
	const void *raw = err ? NULL : btf__raw_data(btf, &size);
	LLVMMemoryBufferRef out = raw ? with_btf(&e, raw, size, &pt) : NULL;
	free(pt.v);
	btf__free(btf);
	if (!out)
		return err ? err : -ENOMEM;
	LLVMDisposeMemoryBuffer(*obj);
	*obj = out;
	return 0;
}
