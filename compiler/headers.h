/* headers.h: C headers through libclang, for the preprocessor (cpp.h).
 *
 * libclang (Debian's libclang-19) is dlopen'ed at the first #include, so
 * scripts without headers never load it. A parse takes the preprocessor's
 * prelude (the script's #define/#undef/#include lines, in order) and keeps
 * the translation unit until hdr_close(): macros are read from it only when
 * the script uses them. Also recorded: enum constants, and the layout of
 * named structs and unions (hdr_struct_lookup), for the type system.
 */
#ifndef TRACE_HEADERS_H
#define TRACE_HEADERS_H

#include <stdint.h>

#include "compiler/cpp.h"

/* The provider for cpp_opts.hdr; libclang is loaded at its first parse. */
const struct cpp_header_ops *hdr_ops(void);
/* Frees the translation unit and the tables (libclang stays loaded). */
void hdr_close(void);

struct hdr_stats {
	double ms_load;	 /* dlopen + symbols */
	double ms_parse; /* all parses, with reading the macro/enum tables */
	int nparses;
	int nmacros; /* macro definitions in the headers */
	int nenums;  /* enum constants */
	int nstructs;
};
void hdr_get_stats(struct hdr_stats *s);

/* A struct or union from the headers, by tag ("sockaddr_in") or typedef
 * name. Offsets and sizes in bytes; bit-fields have bit_size > 0 and
 * offset/bit_offset of their first bit. Valid until hdr_close(). */
struct hdr_field {
	const char *name; /* "" for an anonymous member */
	const char *type; /* C spelling: "unsigned short", "struct in_addr" */
	uint64_t offset, size;
	unsigned bit_offset, bit_size;
};
struct hdr_struct {
	const char *name;
	bool is_union;
	uint64_t size, align;
	int nfields;
	struct hdr_field *fields;
};
const struct hdr_struct *hdr_struct_lookup(const char *name);

#endif
