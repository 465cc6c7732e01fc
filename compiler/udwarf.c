/* udwarf.c: function parameters from DWARF through libdw (udwarf.h).
 *
 * The function is found with dwarf_getfuncs over every compile unit (its
 * DW_AT_name, or DW_AT_linkage_name for C++); its DW_TAG_formal_parameter
 * children are the parameters, in order. Type names follow bpftrace
 * 0.17's Dwarf::get_type_name: base types and typedefs by name, "struct
 * X", "union X", "enum X", "const T", "T*" (no space), "void*" for a
 * pointer without a target, "<unknown type>" for anything else
 * (function types).
 */
#include "compiler/udwarf.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "compiler/types.h"

static bool type_die(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Attribute at;

	return dwarf_attr_integrate(die, DW_AT_type, &at) && dwarf_formref_die(&at, out);
}

static const char *type_name(struct arena *a, Dwarf_Die *t, int depth)
{
	Dwarf_Die inner;
	const char *name = dwarf_diename(t);
	bool has_inner = depth < 16 && type_die(t, &inner);

	switch (dwarf_tag(t)) {
	case DW_TAG_base_type:
	case DW_TAG_typedef:
		return name ? name : "<unknown type>";
	case DW_TAG_structure_type:
		return arena_printf(a, "struct %s", name ? name : "");
	case DW_TAG_union_type:
		return arena_printf(a, "union %s", name ? name : "");
	case DW_TAG_enumeration_type:
		return arena_printf(a, "enum %s", name ? name : "");
	case DW_TAG_const_type:
		return arena_printf(a, "const %s", has_inner ? type_name(a, &inner, depth + 1) : "void");
	case DW_TAG_volatile_type:
		return arena_printf(a, "volatile %s",
				    has_inner ? type_name(a, &inner, depth + 1) : "void");
	case DW_TAG_pointer_type:
		return arena_printf(a, "%s*", has_inner ? type_name(a, &inner, depth + 1) : "void");
	default:
		return "<unknown type>";
	}
}

/* Through typedefs and qualifiers to the type that says how to read it */
static bool strip(Dwarf_Die *t)
{
	for (int i = 0; i < 16; i++) {
		int tag = dwarf_tag(t);

		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type &&
		    tag != DW_TAG_volatile_type && tag != DW_TAG_restrict_type)
			return true;
		if (!type_die(t, t))
			return false; /* const void */
	}
	return false;
}

static struct type *int_type(Dwarf_Die *t)
{
	Dwarf_Attribute at;
	Dwarf_Word enc = DW_ATE_unsigned;
	int size = dwarf_bytesize(t);

	if (size != 1 && size != 2 && size != 4 && size != 8)
		return NULL;
	if (dwarf_tag(t) == DW_TAG_base_type) {
		if (dwarf_attr(t, DW_AT_encoding, &at))
			dwarf_formudata(&at, &enc);
		if (enc == DW_ATE_float || enc == DW_ATE_complex_float)
			return NULL;
	} else if (dwarf_tag(t) != DW_TAG_enumeration_type) {
		return NULL;
	}
	return type_int(size * 8, enc == DW_ATE_signed || enc == DW_ATE_signed_char);
}

/* ---- trace types of DWARF types: structs, unions, arrays, pointers ---- */

/* Records already made, by DIE offset: a struct that points to itself
 * (a list node) is made once, and its pointer member finds it here. */
struct dconv {
	struct arena *a;
	struct made {
		Dwarf_Off off;
		struct type *rec;
	} *made;
	size_t n, cap;
};

static struct type *conv(struct dconv *c, Dwarf_Die *t, int depth);

static struct type *dw_record(struct dconv *c, Dwarf_Die *t, int depth);

static bool die_udata(Dwarf_Die *d, unsigned name, Dwarf_Word *v)
{
	Dwarf_Attribute at;

	return dwarf_attr_integrate(d, name, &at) && dwarf_formudata(&at, v) == 0;
}

/* elements of an array: DW_AT_count, or DW_AT_upper_bound + 1 */
static bool subrange_len(Dwarf_Die *sr, uint32_t *len)
{
	Dwarf_Word v;

	if (die_udata(sr, DW_AT_count, &v) && v <= UINT32_MAX) {
		*len = (uint32_t)v;
		return true;
	}
	if (die_udata(sr, DW_AT_upper_bound, &v) && v < UINT32_MAX) {
		*len = (uint32_t)v + 1;
		return true;
	}
	return false; /* a flexible array member: [] */
}

/* T[a][b]...: the subranges are the array DIE's children, outermost first */
static struct type *dw_array(struct dconv *c, Dwarf_Die *t, int depth)
{
	Dwarf_Die et, sr;
	uint32_t lens[8], n = 0;

	if (!type_die(t, &et) || dwarf_child(t, &sr) != 0)
		return NULL;
	do {
		if (dwarf_tag(&sr) != DW_TAG_subrange_type)
			continue;
		if (n == 8 || !subrange_len(&sr, &lens[n]))
			return NULL;
		n++;
	} while (dwarf_siblingof(&sr, &sr) == 0);
	if (!n)
		return NULL;
	Dwarf_Die base = et;
	bool is_char = strip(&base) && dwarf_tag(&base) == DW_TAG_base_type &&
		       dwarf_bytesize(&base) == 1 && dwarf_diename(&base) &&
		       strstr(dwarf_diename(&base), "char");
	struct type *elem;
	if (is_char && lens[n - 1])
		elem = type_str(c->a, lens[--n]);
	else if (!(elem = conv(c, &et, depth + 1)))
		elem = &type_u8;
	while (n)
		elem = type_array(c->a, elem, lens[--n]);
	return elem;
}

/* The trace type of DWARF type t: NULL for void, functions and anything
 * without a layout (a declaration-only struct). */
static struct type *conv(struct dconv *c, Dwarf_Die *t, int depth)
{
	Dwarf_Die in = *t, p;
	struct type *it;

	if (depth > 32 || !strip(&in))
		return NULL;
	if ((it = int_type(&in)))
		return it;
	switch (dwarf_tag(&in)) {
	case DW_TAG_base_type:
	case DW_TAG_enumeration_type: { /* floats, odd sizes: their bytes */
		int size = dwarf_bytesize(&in);
		return size > 0 ? type_array(c->a, &type_u8, (uint32_t)size) : NULL;
	}
	case DW_TAG_pointer_type:
		return type_ptr(c->a, type_die(&in, &p) ? conv(c, &p, depth + 1) : NULL, true);
	case DW_TAG_array_type:
		return dw_array(c, &in, depth);
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
	case DW_TAG_class_type:
		return dw_record(c, &in, depth);
	default:
		return NULL;
	}
}

static void add_field(struct dconv *c, struct type *rec, uint32_t *cap, struct type_field f)
{
	ARENA_GROW(c->a, rec->fields, rec->nfields, *cap);
	rec->fields[rec->nfields++] = f;
}

/* The members of struct/union t at bit base_bits of rec; an anonymous
 * struct or union member's members are rec's own, as in C. */
static void add_members(struct dconv *c, struct type *rec, uint32_t *cap, Dwarf_Die *t,
			uint64_t base_bits, int depth)
{
	Dwarf_Die m, mt;

	if (dwarf_child(t, &m) != 0)
		return;
	do {
		if (dwarf_tag(&m) != DW_TAG_member || !type_die(&m, &mt))
			continue;
		Dwarf_Word loc = 0, bsz = 0, bit = 0, bytes = 0;
		uint64_t bits;
		die_udata(&m, DW_AT_data_member_location, &loc);
		die_udata(&m, DW_AT_bit_size, &bsz);
		if (die_udata(&m, DW_AT_data_bit_offset, &bit)) /* DWARF 4+ */
			bits = bit;
		else if (bsz && die_udata(&m, DW_AT_bit_offset, &bit)) { /* DWARF 2/3, big end first */
			if (!die_udata(&m, DW_AT_byte_size, &bytes))
				bytes = (Dwarf_Word)dwarf_bytesize(&mt);
			bits = loc * 8 + bytes * 8 - bit - bsz;
		} else
			bits = loc * 8;
		bits += base_bits;
		const char *name = dwarf_diename(&m);
		if (!name) {
			Dwarf_Die in = mt;
			if (strip(&in) && (dwarf_tag(&in) == DW_TAG_structure_type ||
					   dwarf_tag(&in) == DW_TAG_union_type))
				add_members(c, rec, cap, &in, bits, depth + 1);
			continue;
		}
		struct type *ft = conv(c, &mt, depth + 1);
		if (!ft || bits / 8 > UINT32_MAX)
			continue;
		struct type_field f = { .name = arena_strdup(c->a, name), .type = ft,
					.offset = (uint32_t)(bits / 8) };
		if (bsz && ft->kind == TY_INT) {
			f.bit_offset = (uint8_t)(bits % 8);
			f.bit_size = (uint8_t)bsz;
		}
		add_field(c, rec, cap, f);
	} while (dwarf_siblingof(&m, &m) == 0);
}

static struct type *dw_record(struct dconv *c, Dwarf_Die *t, int depth)
{
	Dwarf_Attribute at;
	bool decl = false;
	Dwarf_Off off = dwarf_dieoffset(t);

	if (dwarf_attr(t, DW_AT_declaration, &at))
		dwarf_formflag(&at, &decl);
	if (decl || dwarf_bytesize(t) < 0)
		return NULL;
	for (size_t i = 0; i < c->n; i++)
		if (c->made[i].off == off)
			return c->made[i].rec;
	ARENA_GROW(c->a, c->made, c->n, c->cap);
	struct type *r = arena_alloc(c->a, sizeof(*r));
	const char *name = dwarf_diename(t);
	r->kind = TY_RECORD;
	r->size = (uint32_t)dwarf_bytesize(t);
	r->align = 8;
	r->is_union = dwarf_tag(t) == DW_TAG_union_type;
	r->name = arena_strdup(c->a, name ? name : "");
	r->fields_loaded = true; /* never looked up in the kernel's BTF */
	c->made[c->n++] = (struct made){ off, r };
	uint32_t cap = 0;
	add_members(c, r, &cap, t, 0, depth);
	return r;
}

/* A parameter: integers and pointers (to anything conv knows, void * as
 * a pointer to bytes) as themselves; structs by value, floats: the
 * register's u64. */
static struct type *read_type(struct dconv *c, Dwarf_Die *die)
{
	Dwarf_Die t, p;
	struct type *it;

	if (!type_die(die, &t) || !strip(&t))
		return &type_u64;
	if ((it = int_type(&t)))
		return it;
	if (dwarf_tag(&t) != DW_TAG_pointer_type)
		return &type_u64;
	struct type *elem = type_die(&t, &p) ? conv(c, &p, 1) : NULL;
	return type_ptr(c->a, elem ? elem : &type_u8, true);
}

struct find {
	const char *func;
	Dwarf_Die die;
	bool found;
};

static int on_func(Dwarf_Die *die, void *arg)
{
	struct find *f = arg;
	Dwarf_Attribute at;
	const char *name = dwarf_diename(die), *link = NULL;

	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &at))
		link = dwarf_formstring(&at);
	if ((name && !strcmp(name, f->func)) || (link && !strcmp(link, f->func))) {
		f->die = *die;
		f->found = true;
		return DWARF_CB_ABORT;
	}
	return DWARF_CB_OK;
}

int udwarf_params(struct arena *a, const char *path, const char *func,
		  struct udwarf_param **out, const char **why)
{
	struct find f = { .func = func };
	struct dconv dc = { .a = a };
	Dwarf_Off off = 0, next;
	size_t hsize;
	int fd, n = 0;
	Dwarf *dw;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dw = dwarf_begin(fd, DWARF_C_READ);
	if (!dw) {
		close(fd);
		*why = "it has no DWARF debug information (built without -g?)";
		return -ENOENT;
	}
	while (!f.found && dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;

		if (dwarf_offdie(dw, off + hsize, &cu))
			dwarf_getfuncs(&cu, on_func, &f, 0);
		off = next;
	}
	if (!f.found) {
		*why = "its DWARF debug information does not define it";
		n = -ENOENT;
		goto out;
	}
	Dwarf_Die child;
	int cap = 0;

	if (dwarf_child(&f.die, &child) != 0)
		goto out;
	do {
		if (dwarf_tag(&child) != DW_TAG_formal_parameter)
			continue;
		ARENA_GROW(a, *out, n, cap);
		struct udwarf_param *p = &(*out)[n++];
		Dwarf_Die t;
		const char *name = dwarf_diename(&child);

		p->name = arena_strdup(a, name ? name : "");
		p->type_name = type_die(&child, &t) ? type_name(a, &t, 0) : "<unknown type>";
		p->type_name = arena_strdup(a, p->type_name);
		p->type = read_type(&dc, &child);
	} while (dwarf_siblingof(&child, &child) == 0);
out:
	dwarf_end(dw);
	close(fd);
	return n;
}
