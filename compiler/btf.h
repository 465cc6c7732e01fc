/* btf.h: kernel types from BTF, for sema.
 *
 * In: the running kernel's BTF (/sys/kernel/btf/vmlinux, through
 * kernel_info's vmlinux_btf hook, and module BTF from /sys/kernel/btf/MOD
 * when a name is not in vmlinux), opened only when a script needs a kernel
 * type. Out: struct type values (types.h) for structs, unions, enums,
 * typedefs, arrays, pointers and bitfields; enum constants; the argument
 * lists of kernel functions (fentry/fexit) and raw tracepoints.
 *
 * Records are converted lazily: a pointer to a struct is a TY_RECORD shell
 * (name, size, BTF id) whose fields are filled in by kbtf_fields on first
 * use, so that typing `curtask` does not convert the kernel's type graph.
 * Anonymous struct and union members are flattened into their parent's
 * field list, at their offsets, as C lets a program name them.
 */
#ifndef TRACE_BTF_H
#define TRACE_BTF_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler/arena.h"
#include "compiler/kernel_info.h"
#include "compiler/types.h"

struct kbtf;

/* Opens the kernel's BTF (once per compilation). NULL with *why set
 * ("no /sys/kernel/btf/vmlinux: ENOENT") when there is none. */
struct kbtf *kbtf_open(struct kernel_info *ki, struct arena *a, const char **why);
/* Milliseconds spent loading BTF (vmlinux and modules), for -v. */
double kbtf_load_ms(const struct kbtf *kb);

/* `struct NAME` / `union NAME` (is_struct) or a typedef NAME (else a
 * struct of that name); NULL if the kernel has none. */
struct type *kbtf_type(struct kbtf *kb, const char *name, bool is_struct);
/* Up to max struct names closest to a missing one, best first. */
int kbtf_closest_structs(struct kbtf *kb, const char *name, const char **out, int max);
/* Fills in a record's fields (and resolves a shell known only by name).
 * false if the struct is not in BTF. */
bool kbtf_fields(struct kbtf *kb, struct type *rec);
/* An enumerator of any enum: its value and the enum's type. */
bool kbtf_enum_value(struct kbtf *kb, const char *name, int64_t *value, struct type **t);

/* A TY_CTX of u64 argument slots for kernel function `func` (fentry/
 * fexit: skip 0) or raw tracepoint `tp` (skip 1: btf_trace_TP's first
 * argument is the tracepoint's __data). *ret is the return type (fexit's
 * retval), the void type for void functions. NULL, *why set, if not found. */
struct type *kbtf_func_ctx(struct kbtf *kb, const char *func, struct type **ret, const char **why);
struct type *kbtf_rawtp_ctx(struct kbtf *kb, const char *tp, const char **why);
/* The BTF type of field `field` of struct trace_event_raw_NAME (the
 * tracepoint's record), when it is a pointer: NULL otherwise. */
struct type *kbtf_tp_field_ptr(struct kbtf *kb, const char *tp_name, const char *field);

/* A record shell for `struct name` resolved on first use (curtask). */
struct type *kbtf_lazy_struct(struct arena *a, const char *name);

#endif
