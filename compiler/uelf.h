/* uelf.h: user binaries for uprobes: where a target is, and its functions.
 *
 * In: a target as written in `uprobe:TARGET:FUNC` (a path, relative or
 * absolute, a program in PATH, or a library name such as "libc" or
 * "libc.so.6") and optionally a process (-p) whose mappings and root
 * directory are searched first. Out: a path the kernel can open, and the
 * ELF's function symbols (.symtab and .dynsym) with their sizes and file
 * offsets, C++ names demangled.
 *
 * Not here: attaching (runtime/loader.c), symbolizing stacks.
 */
#ifndef TRACE_UELF_H
#define TRACE_UELF_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "compiler/arena.h"

struct uelf_sym {
	const char *name;      /* as in the symbol table (mangled) */
	const char *demangled; /* C++ names; NULL for C ones */
	uint64_t addr, size;   /* st_value, st_size */
	uint64_t file_off;     /* where the code is in the file (the uprobe offset) */
};

/* The path of a uprobe target, or NULL with *why set. With pid > 0, a
 * bare name is looked up in /proc/PID/maps first and absolute paths go
 * through /proc/PID/root (another mount namespace). */
const char *uelf_resolve_target(struct arena *a, const char *target, pid_t pid, const char **why);

/* Function symbols of path, sorted by name, one per name. Returns the
 * count or -errno (-ENOEXEC: not an ELF file). */
int uelf_functions(struct arena *a, const char *path, struct uelf_sym **out);

/* Does sym match the written name or glob (mangled name, demangled name,
 * or the demangled name without its parameter list)? */
int uelf_sym_matches(const struct uelf_sym *sym, const char *pattern);

/* Is off (from the function's start, < its size) at an instruction
 * boundary? 1 yes, 0 no (*prev: the boundary before), -errno when the
 * code cannot be read or decoded (LLVM's X86 disassembler). */
int uelf_insn_boundary(const struct uelf_sym *sym, const char *path, uint64_t off, uint64_t *prev);

/* One location of a USDT probe (.note.stapsdt). */
struct uelf_usdt {
	const char *provider, *name, *args; /* args: "-4@%edi 8@-8(%rbp)" */
	uint64_t file_off;		    /* of the probe's nop */
	uint64_t sema_off;		    /* file offset of the semaphore, 0 if none */
};

/* The USDT probe locations of path, in note order. Count or -errno. */
int uelf_usdt_notes(struct arena *a, const char *path, struct uelf_usdt **out);

/* One argument of a USDT location, from its spec ("-4@%edi",
 * "8@-8(%rbp)", "-4@$5", "8@16(%rax,%rbx,8)"); register operands are
 * byte offsets in x86-64's struct pt_regs, -1 when absent. */
struct uelf_usdt_arg {
	enum { UELF_ARG_REG, UELF_ARG_IMM, UELF_ARG_MEM } kind;
	int size; /* 1, 2, 4 or 8 */
	bool is_signed;
	int reg;	  /* REG; MEM: the base */
	int index, scale; /* MEM */
	int64_t value;	  /* IMM: the constant; MEM: the displacement */
};

/* Argument i (from 0) of a spec string. 0, -ENOENT when the location has
 * fewer arguments, -EINVAL for an operand it cannot decode (why set). */
int uelf_usdt_arg(const char *args, int i, struct uelf_usdt_arg *out, const char **why);

/* Any defined symbol of path named name (functions, objects: uaddr()):
 * its st_value and st_size; *pie is set for an ET_DYN file (addresses
 * move by the load bias). 0, -ENOENT, or -errno. */
int uelf_symbol(const char *path, const char *name, uint64_t *addr, uint64_t *size, bool *pie);

/* The load bias of path in process pid: where its first mapping starts,
 * minus that mapping's file offset. 0, or -ENOENT when pid does not map
 * it. */
int uelf_load_bias(pid_t pid, const char *path, uint64_t *bias);

/* The file offset of a virtual address (PT_LOAD segments); -errno. */
int uelf_vaddr_to_off(const char *path, uint64_t vaddr, uint64_t *off);

#endif
