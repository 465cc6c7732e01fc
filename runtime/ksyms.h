/* ksyms.h: kernel addresses to symbol names, for ksym() and kstack.
 *
 * In: /proc/kallsyms (or any stream in its format), read once on first use.
 * Out: "name", "name+off" or "0x<hex>" the way bpftrace 0.17 prints them.
 * Does not: resolve user-space addresses (usym/ustack), or reload when
 * modules come and go during a run.
 */
#ifndef TRACE_RUNTIME_KSYMS_H
#define TRACE_RUNTIME_KSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct rt_ksyms;

/* An empty table; /proc/kallsyms is read on the first lookup. NULL on ENOMEM. */
struct rt_ksyms *rt_ksyms_new(void);
void rt_ksyms_free(struct rt_ksyms *k);

/* Load symbols from a kallsyms-format stream instead (tests). Data symbols
 * (types b B d D r R) are skipped, as bcc does. Returns 0 or -errno. */
int rt_ksyms_load(struct rt_ksyms *k, FILE *f);

/* The symbol at or below addr, and addr's offset into it; NULL if addr is
 * below every symbol or the table could not be read. */
const char *rt_ksym_lookup(struct rt_ksyms *k, uint64_t addr, uint64_t *off);

/* "name" or "name+off" (with_offset), else "0x<hex>" ("0" for address 0,
 * libstdc++'s spelling of a null pointer). Returns snprintf's length. */
int rt_ksym_format(struct rt_ksyms *k, char *buf, size_t len, uint64_t addr, bool with_offset);

#endif
