/* config.c: the settings of config = { } blocks and BPFTRACE_* variables.
 *
 * One table row per setting: its environment names (0.17's first), the
 * names a config block may use besides those, its range and default.
 * Where each takes effect: STRLEN and MAP_KEYS_MAX in sema (string and
 * map sizes), STACK_MODE in sema (kstack/ustack types), PERF_RB_PAGES in
 * codegen (ring buffer size) and the runtime (perf buffer pages),
 * MAX_PROBES in the driver after the probes are expanded, CAT_BYTES_MAX
 * in the runtime's cat(), NO_USER_SYMBOLS in the runtime.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compiler/config.h"
#include "compiler/kernel_info.h"
#include "runtime/progdesc.h"

enum cfg_kind { CK_INT, CK_POW2, CK_BOOL, CK_STACK_MODE };

static const struct cfg_def {
	const char *env[2];   /* BPFTRACE_* names: 0.17's, a later one */
	const char *names[3]; /* further names in a config block */
	enum cfg_kind kind;
	uint64_t lo, hi, def;
} defs[CFG__COUNT] = {
	[CFG_STRLEN] = { { "BPFTRACE_STRLEN", "BPFTRACE_MAX_STRLEN" }, { "strlen", "max_strlen" },
			 CK_INT, 1, 200, 64 },
	[CFG_MAP_KEYS_MAX] = { { "BPFTRACE_MAP_KEYS_MAX", "BPFTRACE_MAX_MAP_KEYS" },
			       { "map_keys_max", "max_map_keys" }, CK_INT, 1, 1u << 24, 4096 },
	[CFG_PERF_RB_PAGES] = { { "BPFTRACE_PERF_RB_PAGES" }, { "perf_rb_pages" }, CK_POW2, 1,
				1u << 16, 256 },
	[CFG_MAX_PROBES] = { { "BPFTRACE_MAX_PROBES" }, { "max_probes" }, CK_INT, 1, 1u << 20, 0 },
	[CFG_CAT_BYTES_MAX] = { { "BPFTRACE_CAT_BYTES_MAX", "BPFTRACE_MAX_CAT_BYTES" },
				{ "cat_bytes_max", "max_cat_bytes" }, CK_INT, 1, 1u << 30, 10240 },
	[CFG_STACK_MODE] = { { "BPFTRACE_STACK_MODE" }, { "stack_mode" }, CK_STACK_MODE, 0, 0,
			     PD_STACK_BPFTRACE },
	[CFG_NO_USER_SYMBOLS] = { { "BPFTRACE_NO_USER_SYMBOLS" }, { "no_user_symbols" }, CK_BOOL,
				  0, 1, 0 },
};

const char *config_env_name(enum config_key k)
{
	return defs[k].env[0];
}

uint64_t config_get(const struct trace_config *c, enum config_key k)
{
	return c->set[k] ? c->value[k] : defs[k].def;
}

/* The setting a config block's key names: an environment name or one
 * of the others, case-insensitive, the BPFTRACE_ prefix optional. */
static int find_key(const char *key)
{
	const char *bare = strncasecmp(key, "BPFTRACE_", 9) ? key : key + 9;
	for (int k = 0; k < CFG__COUNT; k++) {
		for (int i = 0; i < 2; i++)
			if (defs[k].env[i] && !strcasecmp(bare, defs[k].env[i] + 9))
				return k;
		for (int i = 0; i < 3; i++)
			if (defs[k].names[i] && !strcasecmp(bare, defs[k].names[i]))
				return k;
	}
	return -1;
}

/* The closest known name, for "did you mean" */
static const char *closest_key(const char *key)
{
	const char *bare = strncasecmp(key, "BPFTRACE_", 9) ? key : key + 9;
	const char *best = NULL;
	int bd = (int)strlen(bare) / 3 + 1;
	for (int k = 0; k < CFG__COUNT; k++)
		for (int i = 0; i < 3; i++) {
			const char *n = defs[k].names[i];
			if (!n)
				continue;
			char low[64];
			size_t j = 0;
			for (; bare[j] && j < sizeof(low) - 1; j++)
				low[j] = (char)(bare[j] >= 'A' && bare[j] <= 'Z' ? bare[j] + 32 : bare[j]);
			low[j] = 0;
			int d = ki_edit_distance(low, n);
			if (d < bd) {
				best = n;
				bd = d;
			}
		}
	return best;
}

/* parse_value's reason for a number out of range, worded by range_msg */
static const char out_of_range[] = "out of range";

/* Parses text as setting k's value; NULL or the reason it is not one. */
static const char *parse_value(enum config_key k, const char *text, uint64_t *out)
{
	const struct cfg_def *d = &defs[k];
	switch (d->kind) {
	case CK_STACK_MODE:
		if (!strcmp(text, "bpftrace"))
			*out = PD_STACK_BPFTRACE;
		else if (!strcmp(text, "perf"))
			*out = PD_STACK_PERF;
		else if (!strcmp(text, "raw"))
			*out = PD_STACK_RAW;
		else
			return "expected bpftrace, perf or raw";
		return NULL;
	case CK_BOOL:
		if (!strcmp(text, "1") || !strcasecmp(text, "true"))
			*out = 1;
		else if (!strcmp(text, "0") || !strcasecmp(text, "false"))
			*out = 0;
		else
			return "expected 0, 1, true or false";
		return NULL;
	default: {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(text, &end, 0);
		if (errno || *end || !*text || text[0] == '-' || n < d->lo || n > d->hi)
			return out_of_range;
		if (d->kind == CK_POW2 && (n & (n - 1)))
			return "expected a power of 2";
		*out = n;
		return NULL;
	}
	}
}

static void range_msg(enum config_key k, const char *why, char *buf, size_t len)
{
	if (why == out_of_range)
		snprintf(buf, len, "expected a number from %llu to %llu",
			 (unsigned long long)defs[k].lo, (unsigned long long)defs[k].hi);
	else
		snprintf(buf, len, "%s", why);
}

int config_from_env(struct trace_config *c)
{
	for (int k = 0; k < CFG__COUNT; k++)
		for (int i = 0; i < 2; i++) {
			const char *name = defs[k].env[i];
			const char *v = name ? getenv(name) : NULL;
			if (!v || !*v)
				continue;
			const char *why = parse_value(k, v, &c->value[k]);
			if (why) {
				char msg[96];
				range_msg(k, why, msg, sizeof(msg));
				fprintf(stderr, "ERROR: %s=%s: %s\n", name, v, msg);
				return -1;
			}
			c->set[k] = true;
		}
	return 0;
}

int config_from_script(struct trace_config *c, const struct node *program, struct diag *d)
{
	const struct node *blk = program ? program->program.config : NULL;
	int errors = 0;
	for (const struct node *st = blk ? blk->block.stmts : NULL; st; st = st->next) {
		const struct node *t = st->kind == N_ASSIGN ? st->assign.target : NULL;
		if (!t || t->kind != N_IDENT || st->assign.compound) {
			diag_error(d, st->span, "a config block holds settings, KEY = value;");
			errors++;
			continue;
		}
		int k = find_key(t->ident.name);
		if (k < 0) {
			diag_error(d, t->span, "unknown config key '%s'", t->ident.name);
			const char *best = closest_key(t->ident.name);
			if (best)
				diag_hint(d, "did you mean '%s'?", best);
			else
				diag_hint(d, "known keys: max_strlen, max_map_keys, perf_rb_pages, "
					     "max_probes, cat_bytes_max, stack_mode, no_user_symbols");
			errors++;
			continue;
		}
		const struct node *v = st->assign.value;
		char text[32];
		const char *s = NULL;
		if (v->kind == N_INT) {
			snprintf(text, sizeof(text), "%llu", (unsigned long long)v->num.value);
			s = text;
		} else if (v->kind == N_STR) {
			s = v->str.value;
		} else if (v->kind == N_IDENT) {
			s = v->ident.name;
		} else if (v->kind == N_UNOP && v->unop.op == UOP_NEG &&
			   v->unop.operand->kind == N_INT) { /* out of every range */
			snprintf(text, sizeof(text), "-%llu",
				 (unsigned long long)v->unop.operand->num.value);
			s = text;
		}
		const char *why = s ? parse_value(k, s, &c->value[k]) : "expected a number or a name";
		if (why) {
			char msg[96];
			range_msg(k, why, msg, sizeof(msg));
			diag_error(d, v->span, "bad value for %s: %s", t->ident.name, msg);
			errors++;
			continue;
		}
		c->set[k] = true;
	}
	return errors ? -1 : 0;
}
