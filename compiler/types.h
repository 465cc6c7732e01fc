/* types.h: the types sema gives to expressions, and their byte layouts.
 *
 * A type says how a value is held while a probe runs: a scalar in a
 * register (TY_INT, TY_PTR, and the u64-sized "tagged" kinds such as
 * TY_KSYM or TY_PROBE), or an aggregate in a fixed-size zero-filled slot
 * (TY_STR, TY_TUPLE, TY_RECORD, TY_ARRAY, TY_KSTACK, ...). Layouts of keys,
 * values and records follow C struct rules: integers 8-byte aligned,
 * strings byte-aligned, the whole rounded up to 8.
 */
#ifndef TRACE_TYPES_H
#define TRACE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler/arena.h"
#include "runtime/progdesc.h"

enum type_kind {
	TY_NONE,      /* unknown: an error was reported; suppresses cascades */
	TY_VOID,      /* no value (statements, printf) */
	TY_INT,	      /* bits 8..64, is_signed */
	TY_STR,	      /* char[size], NUL-padded */
	TY_TUPLE,     /* fields */
	TY_PTR,	      /* elem (NULL: void *), is_user */
	TY_RECORD,    /* struct: name, fields at offsets (BTF or script) */
	TY_ARRAY,     /* elem[len] */
	TY_CTX,	      /* `args`: the tracepoint record, fields from tracefs */
	TY_KSTACK,    /* u64 stack id */
	TY_USTACK,    /* u64 stack id, u64 pid */
	TY_KSYM,      /* u64 kernel address printed as a symbol */
	TY_USYM,      /* u64 user address, u64 pid */
	TY_PROBE,     /* u64 probe index, printed as the probe's name */
	TY_USERNAME,  /* u64 uid printed as a user name */
	TY_TIMESTAMP, /* strftime(): u64 ns, printed with a format */
	TY_INET,      /* ntop(): u64 family, 16 address bytes */
	TY_BUF,	      /* buf(): u8 length, then the bytes */
	TY_STRERROR,  /* strerror(): u64 errno printed as its message */
	TY_MACADDR,   /* macaddr(): 6 bytes printed as XX:XX:XX:XX:XX:XX */
	TY_CGROUP_PATH, /* cgroup_path(): u64 cgroup id, resolved when printed;
			   fmt: the hierarchy filter (NULL: all) */
	TY_AGG,	      /* the value of count(), hist(), ...: only a map value */
};

struct type_field {
	const char *name; /* "0", "1" for tuples */
	struct type *type;
	uint32_t offset;
	/* TY_CTX fields */
	bool is_data_loc;
	const char *ctype; /* tracepoint fields: the C type the format gives */
	/* TY_RECORD bitfields: bit_size bits from bit bit_offset (0..7) of the
	 * bytes at offset; bit_size 0 for ordinary fields */
	uint8_t bit_offset, bit_size;
};

struct type {
	enum type_kind kind;
	uint32_t size;	/* bytes in a slot or record */
	uint32_t align; /* 1 or 8 */
	bool is_signed; /* TY_INT */
	bool is_user;	/* TY_PTR: points into user memory */
	struct type *elem;	    /* TY_PTR, TY_ARRAY */
	uint32_t len;		    /* TY_ARRAY */
	struct type_field *fields;  /* TY_TUPLE, TY_RECORD, TY_CTX */
	uint32_t nfields;
	const char *name;	    /* TY_RECORD */
	enum pd_agg agg;	    /* TY_AGG */
	const char *fmt;	    /* TY_TIMESTAMP */
	uint32_t stack_depth;	    /* TY_KSTACK, TY_USTACK: frames kept */
	enum pd_stack_mode stack_mode; /* TY_KSTACK, TY_USTACK: how printed */
	/* TY_RECORD from the kernel's BTF (compiler/btf.c): fields are
	 * filled in on first use (kbtf_fields), so that a pointer to a struct
	 * costs nothing until a field of it is read; btf NULL and btf_id 0
	 * for a struct known only by name so far (curtask's task_struct) */
	const void *btf;
	int32_t btf_id;
	bool is_union;
	bool fields_loaded;
	/* TY_CTX of fentry/fexit/rawtracepoint: every argument is a u64 slot
	 * of the context, loaded as 8 bytes and cut to the argument's type */
	bool ctx_u64_args;
	/* TY_CTX of a tracepoint: its "category:name" (pointer fields are
	 * typed through BTF's struct trace_event_raw_NAME) */
	const char *tp_name;
};

extern struct type type_none, type_void, type_u64, type_s64, type_u32, type_s32, type_u16,
	type_s16, type_u8, type_s8, type_kstack, type_ustack, type_ksym, type_usym, type_probe,
	type_username;

struct type *type_int(int bits, bool is_signed);
struct type *type_str(struct arena *a, uint32_t size);
struct type *type_ptr(struct arena *a, struct type *elem, bool is_user);
struct type *type_array(struct arena *a, struct type *elem, uint32_t len);
struct type *type_agg(struct arena *a, enum pd_agg agg);
struct type *type_stack(struct arena *a, bool user, uint32_t depth, enum pd_stack_mode mode);
/* A tuple of n fields laid out with C alignment; the types are copied. */
struct type *type_tuple(struct arena *a, struct type **elems, uint32_t n);

static inline bool type_is_int(const struct type *t)
{
	return t->kind == TY_INT;
}
/* Values held in one register (and stored as 8 bytes in keys/records). */
bool type_is_scalar(const struct type *t);
/* Values that live in a slot and move by memcpy. */
bool type_is_aggregate(const struct type *t);
bool type_equal(const struct type *a, const struct type *b);
/* The type both a and b convert to (strings: the larger; ints: 64-bit,
 * signed if either is; tuples: field by field), or NULL if none. */
struct type *type_unify(struct arena *a, struct type *x, struct type *y);
/* C's usual arithmetic conversion for two integers widened to 64 bits:
 * unsigned when either is an unsigned 64-bit value (or both are
 * unsigned), signed otherwise. */
bool type_arith_signed(const struct type *a, const struct type *b);
/* The form a value takes when stored in a map key, value or record:
 * integers widen to 64 bits (as bpftrace stores them). */
struct type *type_storage(struct arena *a, struct type *t);
/* Describes t for the runtime; offset is filled in by the caller. */
void type_to_layout(struct arena *a, const struct type *t, struct pd_layout *out);

/* "uint64", "string[16]", "(uint64, string[16])", "count" */
const char *type_name_str(const struct type *t, char *buf, size_t len);

#endif
