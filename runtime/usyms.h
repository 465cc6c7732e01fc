/* usyms.h: user-space addresses to symbol names, for usym() and ustack.
 *
 * In: a pid and an address in that process. Out: the symbol, the offset
 * into it and the mapped file ("ulib_mul+0 (/tmp/libx.so)"), as bpftrace
 * 0.17 prints them through bcc.
 *
 * A process's mappings (/proc/PID/maps) are read when the pid is noted
 * (rt_usyms_note_pid: the BPF programs send a record the first time a pid
 * records a user address; the loop notes the -c/-p process every round)
 * or first resolved, so a stack kept in a map is still symbolized after
 * its process exited. They are read again when an address falls outside
 * them and the process still lives (dlopen), at most every 50 ms. Symbol tables are read once per file
 * (by device and inode), lazily: .symtab and .dynsym, and those of the
 * debug file found by build id (/usr/lib/debug/.build-id/xx/rest.debug)
 * or .gnu_debuglink (/usr/lib/debug/DIR, DIR, DIR/.debug).
 *
 * Does not: read DWARF (line numbers, inlined frames), follow a pid that
 * was reused by another program between noting and printing.
 */
#ifndef TRACE_RUNTIME_USYMS_H
#define TRACE_RUNTIME_USYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rt_usyms;

struct rt_usyms *rt_usyms_new(void);
/* BPFTRACE_NO_USER_SYMBOLS: no lookup succeeds; addresses print as numbers */
void rt_usyms_disable(struct rt_usyms *u);
void rt_usyms_free(struct rt_usyms *u);

/* Read pid's mappings now, unless they were read in the last 50 ms. A
 * process that is gone keeps the mappings read last. */
void rt_usyms_note_pid(struct rt_usyms *u, uint32_t pid);

/* The symbol holding addr in pid: its name (C++ demangled), the offset
 * from its start and the path of the mapped file. Returns false when
 * the address is in no mapping or no symbol covers it (*module is still
 * set when a mapping holds it). The strings live as long as u. */
bool rt_usym_lookup(struct rt_usyms *u, uint32_t pid, uint64_t addr, const char **name,
		    uint64_t *off, const char **module);

/* bpftrace's text: "name", "name+off", "name+off (module)"; unknown
 * addresses as "0x7f12..." (" ([unknown])" with the module). Returns the
 * length written (cut to len - 1). */
int rt_usym_format(struct rt_usyms *u, char *buf, size_t len, uint32_t pid, uint64_t addr,
		   bool with_offset, bool with_module);

#endif
