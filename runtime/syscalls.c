/* syscalls.c: syscall event name -> the kernel's syscall number.
 *
 * ftrace builds syscalls:sys_enter_NAME/sys_exit_NAME from the
 * SYSCALL_DEFINE metadata of each entry of the 64-bit syscall table and
 * fires them only for that entry's number, so on x86_64 the number is the
 * ABI's. The kernel's own table (`syscalls_metadata`, `sys_call_table`) is
 * not reachable here: the section of metadata pointers named in kallsyms
 * (__start_syscalls_metadata) is init memory, freed after boot (a
 * bpf_probe_read_kernel of it faults), and data symbols are not in kallsyms
 * (no CONFIG_KALLSYMS_ALL). So the numbers come from a table compiled in
 * (syscall_table_x86_64.h), checked against this kernel (docs/kernel.md).
 * A name the table lacks (a syscall newer than the table) is -ENOENT and
 * the caller attaches that tracepoint the old way.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/syscalls.h"

struct sc_entry {
	const char *name;
	int nr;
};

#if defined(__x86_64__)
#include "runtime/syscall_table_x86_64.h"
#define TABLE_SIZE (sizeof(syscall_table) / sizeof(syscall_table[0]))
#endif

static int by_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct sc_entry *)elem)->name);
}

int rt_syscall_nr(const char *name)
{
#if defined(__x86_64__)
	const struct sc_entry *e = bsearch(name, syscall_table, TABLE_SIZE, sizeof(*e), by_name);
	return e ? e->nr : -ENOENT;
#else
	(void)name;
	(void)by_name;
	return -EOPNOTSUPP; /* the raw tracepoint filter reads x86_64 pt_regs */
#endif
}
