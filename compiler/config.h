/* config.h: bpftrace's settings, from a script's `config = { KEY = value; }`
 * block (bpftrace >= 0.20) and from BPFTRACE_* environment variables,
 * which take precedence over the script, as in bpftrace.
 *
 * Keys are case-insensitive, with or without the BPFTRACE_ prefix, in
 * 0.17's spelling (BPFTRACE_STRLEN, map_keys_max, cat_bytes_max) or
 * the later one (max_strlen, max_map_keys, max_cat_bytes).
 */
#ifndef TRACE_CONFIG_H
#define TRACE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler/ast.h"
#include "compiler/diag.h"

enum config_key {
	CFG_STRLEN,	     /* bytes of a string, with its NUL (sema_opts.strlen) */
	CFG_MAP_KEYS_MAX,    /* entries of a keyed map (sema_opts.map_keys_max) */
	CFG_PERF_RB_PAGES,   /* pages of the ring buffer, or of each CPU's perf buffer */
	CFG_MAX_PROBES,	     /* attach points a script may have (unset: no limit) */
	CFG_CAT_BYTES_MAX,   /* bytes cat() prints of a file */
	CFG_STACK_MODE,	     /* kstack/ustack without a mode: enum pd_stack_mode */
	CFG_NO_USER_SYMBOLS, /* user addresses are not symbolized */
	CFG__COUNT
};

struct trace_config {
	uint64_t value[CFG__COUNT];
	bool set[CFG__COUNT];
};

/* Reads program->program.config into c; errors (unknown key, bad value)
 * go to d. Returns 0, or -1 after an error. */
int config_from_script(struct trace_config *c, const struct node *program, struct diag *d);
/* The BPFTRACE_* variables of the environment, over what is in c; a bad
 * value is reported on stderr. Returns 0 or -1. */
int config_from_env(struct trace_config *c);
/* The setting's value, or its default when neither source set it. */
uint64_t config_get(const struct trace_config *c, enum config_key k);
/* The canonical name (bpftrace's environment variable). */
const char *config_env_name(enum config_key k);

#endif
