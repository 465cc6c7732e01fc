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

static struct type *read_type(struct arena *a, Dwarf_Die *die)
{
	Dwarf_Die t, p;
	struct type *it;

	if (!type_die(die, &t) || !strip(&t))
		return &type_u64;
	if ((it = int_type(&t)))
		return it;
	if (dwarf_tag(&t) != DW_TAG_pointer_type)
		return &type_u64; /* structs by value, floats: the register */
	if (type_die(&t, &p) && strip(&p) && (it = int_type(&p)))
		return type_ptr(a, it, true);
	return type_ptr(a, &type_u8, true);
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
		if (n == cap) {
			int nc = cap ? cap * 2 : 8;
			struct udwarf_param *np = arena_alloc(a, (size_t)nc * sizeof(*np));

			if (n)
				memcpy(np, *out, (size_t)n * sizeof(*np));
			*out = np;
			cap = nc;
		}
		struct udwarf_param *p = &(*out)[n++];
		Dwarf_Die t;
		const char *name = dwarf_diename(&child);

		p->name = arena_strdup(a, name ? name : "");
		p->type_name = type_die(&child, &t) ? type_name(a, &t, 0) : "<unknown type>";
		p->type_name = arena_strdup(a, p->type_name);
		p->type = read_type(a, &child);
	} while (dwarf_siblingof(&child, &child) == 0);
out:
	dwarf_end(dw);
	close(fd);
	return n;
}
