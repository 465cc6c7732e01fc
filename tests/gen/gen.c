/* tests/gen/gen.c: a seeded random program generator for trace.
 *
 *   trace_gen SEED [--kind dry|run] [--expect FILE] [--comm NAME] [--c-layout]
 *
 * writes one well-typed script to stdout. The same SEED gives the same
 * script on every machine (splitmix64; every random draw is sequenced).
 *
 * --kind dry (default): several probes (BEGIN, END, interval, profile,
 *   tracepoints with args, str() of user pointers, predicates) mixing the
 *   tier-1 language; meant for `trace --dry-run` (must compile and load).
 * --kind run: BEGIN (ending in exit()), sometimes END and a tracepoint
 *   that never fires; every value is computable, so --expect FILE receives
 *   the exact output trace must print (Attaching line, printf/print
 *   records, maps at exit, all in bpftrace 0.17's format,
 *   docs/output-format.md). --comm is what `comm` is in BEGIN/END (the
 *   basename of the trace binary, default "trace").
 *
 * The program is built as a small AST, printed, and (run kind) executed by
 * the interpreter below, which models trace's documented semantics:
 * integer literals are int64, binary integer operators give 64 bits,
 * signed if an operand is signed (run programs never mix signedness: an
 * unsigned operand next to a signed one is cast to int64 first, so trace's
 * and bpftrace's rules agree), casts truncate and extend, comparisons give
 * 0/1, division truncates toward 0, map operations print/clear/zero act
 * when user space reads their record (after the probe returned).
 *
 * Run programs avoid what cannot be predicted or what bpftrace and trace
 * define differently: divisors are non-zero literals, shift counts literals,
 * expressions have no side effects, builtins appear only as known facts
 * ((pid > 0), comm == "trace"), print(@m, top, div) only on int-valued maps.
 * Dry programs keep compile time in check (2000 of them run in a few
 * minutes): long literals (65-300 bytes) in about a quarter of the probes and
 * never inside unroll, at most 4 probes besides BEGIN and END.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The generator never frees (it is a short-lived process): no leak reports
 * when it is built with the sanitizers. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

/* ---- utilities ------------------------------------------------------- */

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p) {
		fprintf(stderr, "trace_gen: out of memory\n");
		exit(2);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s);
	char *p = xcalloc(n + 1, 1);
	memcpy(p, s, n);
	return p;
}

struct sb {
	char *p;
	size_t n, cap;
};

static void sb_putn(struct sb *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			fprintf(stderr, "trace_gen: out of memory\n");
			exit(2);
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = 0;
}

static void sb_puts(struct sb *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sb *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		sb_putn(b, tmp, (size_t)n);
		return;
	}
	char *big = xcalloc((size_t)n + 1, 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb_putn(b, big, (size_t)n);
	free(big);
}

/* ---- deterministic PRNG (splitmix64) ------------------------------------ */

static uint64_t rng;

static uint64_t next64(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* 0 .. n-1 */
static int rnd(int n)
{
	return n <= 1 ? 0 : (int)(next64() % (uint64_t)n);
}

static int range(int lo, int hi) /* lo .. hi inclusive */
{
	return lo + rnd(hi - lo + 1);
}

static bool chance(int pct)
{
	return rnd(100) < pct;
}

/* ---- types --------------------------------------------------------------- */

enum kind { K_INT, K_STR, K_TUP };
#define MAXTUP 8

typedef struct Type {
	enum kind k;
	int bits;
	bool sgn;
	int n;
	struct Type *el[MAXTUP];
} Type;

static Type int_types[4][2]; /* [log2(bits/8)][sgn] */
static Type t_str = { .k = K_STR };

static Type *tint(int bits, bool sgn)
{
	int i = bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : 3;
	Type *t = &int_types[i][sgn];
	t->k = K_INT;
	t->bits = bits;
	t->sgn = sgn;
	return t;
}

#define T_S64 tint(64, true)
#define T_U64 tint(64, false)

static const char *cast_name(const Type *t)
{
	static const char *names[4][2] = { { "uint8", "int8" },
					   { "uint16", "int16" },
					   { "uint32", "int32" },
					   { "uint64", "int64" } };
	int i = t->bits == 8 ? 0 : t->bits == 16 ? 1 : t->bits == 32 ? 2 : 3;
	return names[i][t->sgn];
}

static Type *random_cast_type(void)
{
	int bits = 8 << rnd(4);
	bool sgn = chance(50);
	return tint(bits, sgn);
}

/* ---- values (interpreter) ------------------------------------------------ */

typedef struct Val {
	enum kind k;
	uint64_t i; /* integers: the 64-bit register value, extended per type */
	bool sgn;
	char *s;
	int n;
	struct Val *el;
} Val;

static uint64_t normalize(uint64_t v, int bits, bool sgn)
{
	if (bits >= 64)
		return v;
	uint64_t mask = (1ull << bits) - 1;
	v &= mask;
	if (sgn && (v >> (bits - 1)) & 1)
		v |= ~mask;
	return v;
}

static Val vint(uint64_t i, bool sgn)
{
	Val v = { .k = K_INT, .i = i, .sgn = sgn };
	return v;
}

static Val vstr(const char *s)
{
	Val v = { .k = K_STR, .s = xstrdup(s) };
	return v;
}

static Val vzero(const Type *t)
{
	Val v = { .k = t->k };
	if (t->k == K_INT)
		v.sgn = t->sgn;
	else if (t->k == K_STR)
		v.s = xstrdup("");
	else {
		v.n = t->n;
		v.el = xcalloc((size_t)t->n, sizeof(Val));
		for (int i = 0; i < t->n; i++)
			v.el[i] = vzero(t->el[i]);
	}
	return v;
}

static void val_text(struct sb *b, const Val *v)
{
	if (v->k == K_INT) {
		if (v->sgn)
			sb_printf(b, "%" PRId64, (int64_t)v->i);
		else
			sb_printf(b, "%" PRIu64, v->i);
	} else if (v->k == K_STR) {
		sb_puts(b, v->s);
	} else {
		sb_puts(b, "(");
		for (int i = 0; i < v->n; i++) {
			if (i)
				sb_puts(b, ", ");
			val_text(b, &v->el[i]);
		}
		sb_puts(b, ")");
	}
}

/* ---- AST ----------------------------------------------------------------- */

enum xop {
	X_INT,
	X_STR,
	X_VAR,
	X_MAP,
	X_BIN,
	X_NEG,
	X_BNOT,
	X_LNOT,
	X_TERN,
	X_CAST,
	X_TUPLE,
	X_FIELD,
	X_RAW,
	X_STRCONTAINS, /* strcontains(a, b) */
	X_LEN,	       /* len(@m) */
	X_HASKEY,      /* has_key(@m, key) */
	X_BSWAP,       /* bswap(a) */
	X_DELETE,      /* delete(@m, key): only as an if condition (a side effect) */
	X_KVF, /* $kv.0 or $kv.1 of a for ($kv : @m) loop (n), as 64 bits */
	X_MACRO /* gm<iv>(a): a macro call (macro_text) */
};

/* The macros a program may call, defined at its top when it does:
 * gm0(x) is x + 3, gm1(x) is 2x - 1 through a variable of its own. */
static const char *const macro_text[] = {
	"macro gm0(x) { x + 3 }\n",
	"macro gm1(x) { let $t = x; $t * 2 - 1 }\n",
};
static bool macros_used;
enum bop {
	B_ADD,
	B_SUB,
	B_MUL,
	B_DIV,
	B_MOD,
	B_AND,
	B_OR,
	B_XOR,
	B_SHL,
	B_SHR,
	B_EQ,
	B_NE,
	B_LT,
	B_LE,
	B_GT,
	B_GE,
	B_LAND,
	B_LOR,
	B_SEQ,
	B_SNE,
	B_NBOPS
};
static const char *bop_text[B_NBOPS] = { "+",  "-",  "*", "/",	"%", "&",  "|",	 "^",  "<<", ">>",
					 "==", "!=", "<", "<=", ">", ">=", "&&", "||", "==", "!=" };

struct Map;
struct Var;

typedef struct Expr {
	enum xop op;
	Type *t;
	int64_t iv;
	char *s;
	int bop;
	struct Expr *a, *b, *c;
	struct Expr **el;
	int n;
	struct Map *map;
	struct Var *var;
	bool known; /* X_RAW: value known in BEGIN/END (run kind) */
	Val kv;
} Expr;

typedef struct Var {
	char name[24];
	Type *t;
	Val cur;
	uint64_t kv[2]; /* a for ($kv : @m) variable: this element's key, value */
} Var;

enum vkind { V_INT, V_STR, V_TUP, V_COUNT, V_SUM, V_MIN, V_MAX, V_AVG, V_STATS, V_HIST, V_LHIST };
static const char *agg_name[] = { "",	 "",	"",	 "count", "sum",  "min",
				  "max", "avg", "stats", "hist",  "lhist" };

typedef struct Ent {
	Val *key;
	Val v;	      /* V_INT/V_STR/V_TUP */
	uint64_t cnt; /* count, avg/stats count */
	int64_t sum;  /* sum, min, max, avg/stats total */
	bool set;     /* min/max */
	uint64_t *b;  /* hist/lhist buckets */
	int nb;
	bool live;
} Ent;

#define MAXK 3
typedef struct Map {
	char name[16];
	int nk;
	Type *key[MAXK];
	enum vkind vk;
	Type *vt; /* V_INT, V_STR, V_TUP */
	int64_t lmin, lmax, lstep;
	bool declared;
	bool deleted; /* a delete() names it (keyless count(): stays a hash map) */
	Ent *ents;
	int nents, capents;
} Map;

enum sop {
	S_VASSIGN,
	S_VCOMPOUND,
	S_VINC,
	S_MASSIGN,
	S_MCOMPOUND,
	S_MINC,
	S_AGG,
	S_PRINTF,
	S_PRINTV,
	S_PRINTM,
	S_DELETE,
	S_CLEAR,
	S_ZERO,
	S_IF,
	S_UNROLL,
	S_EXIT,
	S_RETURN,
	S_FORR,	    /* for ($var : e..e2) then */
	S_FORM,	    /* for ($var : @map) then */
	S_BREAK,
	S_CONTINUE
};

struct Block;
typedef struct Stmt {
	enum sop op;
	Var *var;
	Map *map;
	Expr **keys;
	Expr *e, *e2;
	int bop;
	bool inc, pre;
	int top, div; /* print(@m, top, div): -1 when absent */
	/* printf: text[0] conv[0] text[1] conv[1] ... text[n] */
	char **text, **conv;
	Expr **args;
	int nargs;
	struct Block *then, *els;
	int count;
	bool let; /* S_VASSIGN of a new variable written as `let` */
	struct Stmt *next;
} Stmt;

typedef struct Block {
	Stmt *first, *last;
} Block;

static void block_add(Block *b, Stmt *s)
{
	if (b->last)
		b->last->next = s;
	else
		b->first = s;
	b->last = s;
}

/* ---- probes -------------------------------------------------------------- */

enum pkind {
	P_BEGIN,
	P_END,
	P_INTERVAL,
	P_PROFILE,
	P_GETPPID,
	P_SCHED,
	P_RAWSYS,
	P_OPENAT,
	P_EXECVE,
	P_NPROBES
};

struct raw {
	const char *text;
	enum kind k;
};

static const struct raw raw_common_int[] = {
	{ "pid", K_INT },    { "tid", K_INT },	   { "uid", K_INT },	 { "gid", K_INT },
	{ "cpu", K_INT },    { "nsecs", K_INT },   { "elapsed", K_INT }, { "rand", K_INT },
	{ "cgroup", K_INT }, { "jiffies", K_INT }, { "numaid", K_INT },
	/* kernel struct field chains (BTF) */
	{ "(uint64)curtask->pid", K_INT }, { "(uint64)curtask->tgid", K_INT },
	{ "(uint64)curtask->real_parent->tgid", K_INT }, { "(uint64)curtask.real_parent.pid", K_INT },
	{ "(uint64)curtask->comm[1]", K_INT }, { "(uint64)curtask->signal->nr_threads", K_INT }
};
static const struct raw raw_openat[] = { { "args->dfd", K_INT },
					 { "args->flags", K_INT },
					 { "args->mode", K_INT },
					 { "str(args->filename)", K_STR },
					 { "str(args->filename)", K_STR },
					 { "str(args->filename, 8)", K_STR },
					 { "str(args->filename, 100)", K_STR } };
static const struct raw raw_execve[] = { { "str(args->filename)", K_STR },
					 { "str(args->filename, 16)", K_STR },
					 { "str(args->filename)", K_STR } };
static const struct raw raw_sched[] = { { "args->prev_comm", K_STR },  { "args->next_comm", K_STR },
					{ "args->prev_pid", K_INT },   { "args->prev_prio", K_INT },
					{ "args->prev_state", K_INT }, { "args->next_pid", K_INT },
					{ "args->next_prio", K_INT } };
static const struct raw raw_rawsys[] = { { "args->id", K_INT },	     { "args->args[0]", K_INT },
					 { "args->args[1]", K_INT }, { "args->args[2]", K_INT },
					 { "args->args[5]", K_INT }, { "args->id", K_INT } };

/* ---- generator state ------------------------------------------------------ */

static bool run_kind;
static const char *comm_name = "trace";

#define MAXMAPS 24
static Map *maps[MAXMAPS];
static int nmaps;

#define MAXSHAPES 4
static Type *shapes[MAXSHAPES];
static int nshapes;

#define MAXVARS 256
struct ctx {
	enum pkind pk;
	bool live;	    /* run kind: this probe executes (BEGIN/END) */
	Var *vars[MAXVARS]; /* in scope */
	int nvars;
	int nvar_names;
	int unroll_depth;
	int block_depth;
	int loop_depth;	   /* for loops around the statement */
	bool in_map_loop;  /* the innermost one is a for ($kv : @m) */
};

static Var *new_var(struct ctx *c, Type *t)
{
	Var *v = xcalloc(1, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "$v%d", c->nvar_names++);
	v->t = t->k == K_INT ? tint(64, t->sgn) : t;
	if (c->nvars < MAXVARS)
		c->vars[c->nvars++] = v;
	return v;
}

static Var *pick_var(struct ctx *c, Type *want /* kind or exact shape */)
{
	Var *cand[MAXVARS];
	int n = 0;
	for (int i = 0; i < c->nvars; i++) {
		Type *t = c->vars[i]->t;
		if (t->k != want->k)
			continue;
		if (t->k == K_TUP && t != want)
			continue;
		cand[n++] = c->vars[i];
	}
	return n ? cand[rnd(n)] : NULL;
}

static Map *pick_map(bool (*ok)(const Map *, const void *), const void *arg)
{
	Map *cand[MAXMAPS];
	int n = 0;
	for (int i = 0; i < nmaps; i++)
		if (maps[i]->declared && ok(maps[i], arg))
			cand[n++] = maps[i];
	return n ? cand[rnd(n)] : NULL;
}

static bool map_readable(const Map *m, const void *arg)
{
	const Type *want = arg;
	if (want->k == K_INT)
		return m->vk == V_INT;
	if (want->k == K_STR)
		return m->vk == V_STR;
	return m->vk == V_TUP && m->vt == want;
}

static const char *const map_names[] = {
	"@",   "@a",	"@b",	 "@c",	   "@cnt",  "@d",   "@e",   "@f",  "@g",  "@h", "@hits",
	"@k",  "@keys", "@lat",	 "@m",	   "@n",    "@p",   "@q",   "@r",  "@s",  "@t", "@u",
	"@v",  "@w",	"@x",	 "@y",	   "@z",    "@A",   "@B",   "@Z",  "@_u", "@_", "@by_comm",
	"@m2", "@tbl",	"@seen", "@total", "@last", "@big", "@str", "@tup"
};

static Map *new_map(void)
{
	if (nmaps >= MAXMAPS)
		return NULL;
	Map *m = xcalloc(1, sizeof(*m));
	for (;;) {
		const char *nm = map_names[rnd((int)(sizeof(map_names) / sizeof(map_names[0])))];
		bool used = false;
		for (int i = 0; i < nmaps; i++)
			if (!strcmp(maps[i]->name, nm))
				used = true;
		if (!used) {
			snprintf(m->name, sizeof(m->name), "%s", nm);
			break;
		}
	}
	int r = rnd(100);
	m->nk = r < 30 ? 0 : r < 75 ? 1 : r < 92 ? 2 : 3;
	for (int i = 0; i < m->nk; i++) {
		int q = rnd(100);
		m->key[i] = q < 40 ? T_S64 : q < 55 ? random_cast_type() : q < 60 ? T_U64 : &t_str;
	}
	r = rnd(100);
	if (r < 22) {
		m->vk = V_INT;
		m->vt = chance(80) ? T_S64 : T_U64;
	} else if (r < 32) {
		m->vk = V_STR;
		m->vt = &t_str;
	} else if (r < 40 && nshapes) {
		m->vk = V_TUP;
		m->vt = shapes[rnd(nshapes)];
	} else {
		static const enum vkind aggs[] = { V_COUNT, V_COUNT, V_SUM,  V_MIN,  V_MAX,
						   V_AVG,   V_STATS, V_HIST, V_LHIST };
		m->vk = aggs[rnd((int)(sizeof(aggs) / sizeof(aggs[0])))];
		if (m->vk == V_LHIST) {
			m->lmin = chance(70) ? 0 : range(1, 50);
			m->lstep = range(1, 20);
			int nb = range(1, 15);
			int odd = chance(20) ? range(1, 3) :
					       0; /* max - min not a multiple of step */
			m->lmax = m->lmin + m->lstep * nb + odd;
		}
	}
	maps[nmaps++] = m;
	return m;
}

/* ---- expression constructors ------------------------------------------------ */

static Expr *mk(enum xop op, Type *t)
{
	Expr *e = xcalloc(1, sizeof(*e));
	e->op = op;
	e->t = t;
	return e;
}

static Expr *mk_int(int64_t v)
{
	Expr *e = mk(X_INT, T_S64);
	e->iv = v;
	return e;
}

static Expr *mk_cast(Type *t, Expr *a)
{
	Expr *e = mk(X_CAST, t);
	e->a = a;
	return e;
}

/* Give an integer expression the signedness `sgn` (64-bit) if it lacks it. */
static Expr *with_sign(Expr *e, bool sgn)
{
	if (e->t->sgn == sgn)
		return e;
	return mk_cast(tint(64, sgn), e);
}

/* An integer of exactly type t (casts for narrow types). */
static Expr *as_type(Expr *e, Type *t)
{
	if (t->bits < 64)
		return e->t == t ? e : mk_cast(t, e);
	return with_sign(e, t->sgn);
}

static Expr *mk_bin(int op, Expr *a, Expr *b)
{
	if (op != B_SEQ && op != B_SNE && a->t->sgn != b->t->sgn) {
		/* never mix signedness: cast the unsigned side to int64 */
		if (!a->t->sgn)
			a = mk_cast(T_S64, a);
		else
			b = mk_cast(T_S64, b);
	}
	Type *t = op >= B_EQ ? T_S64 : tint(64, a->t->sgn || b->t->sgn);
	Expr *e = mk(X_BIN, t);
	e->bop = op;
	e->a = a;
	e->b = b;
	return e;
}

/* ---- random literals ------------------------------------------------------ */

static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789_-.:/";

static char *rand_word(int len)
{
	char *s = xcalloc((size_t)len + 1, 1);
	for (int i = 0; i < len; i++) {
		if (i > 0 && i < len - 1 && chance(8))
			s[i] = ' ';
		else
			s[i] = alpha[rnd((int)sizeof(alpha) - 1)];
	}
	return s;
}

static int gen_unroll_depth; /* dry: no long literals inside unroll (compile time) */
/* --short-jumps: kernels before 6.6 (BPF ISA v3) jump at most 32767
 * instructions; run programs' unrolled loops stay shorter (run seed 8 of
 * the 6.1 guest: "Branch target out of insn range") */
static bool gen_short_jumps;
static bool gen_allow_long;  /* dry: long literals in about a quarter of the probes */

static int rand_str_len(void)
{
	int r = rnd(100);
	if (!run_kind && (gen_unroll_depth || !gen_allow_long) && r >= 78)
		return range(13, 64);
	if (r < 50)
		return range(0, 12);
	if (r < 78)
		return range(13, 64);
	if (r < (run_kind ? 88 : 95))
		return range(65, 99);
	return range(100, 300);
}

static int64_t rand_lit(void)
{
	int r = rnd(100);
	if (r < 55)
		return range(0, 20);
	if (r < 75)
		return range(-20, 300);
	if (r < 90) {
		int64_t a = range(0, 100000);
		int64_t b = range(1, 1000);
		return a * b;
	}
	int sh = range(1, 40);
	int64_t v = (int64_t)(next64() >> sh);
	return chance(30) ? -v : v;
}

/* ---- expression generation ------------------------------------------------ */

static Expr *gen_int(struct ctx *c, int d);
static Expr *gen_str(struct ctx *c, int d);
static Expr *gen_tup(struct ctx *c, Type *shape, int d);

static Expr *gen_typed(struct ctx *c, Type *t, int d)
{
	if (t->k == K_INT)
		return as_type(gen_int(c, d), t);
	if (t->k == K_STR)
		return gen_str(c, d);
	return gen_tup(c, t, d);
}

static Expr **gen_keys(struct ctx *c, Map *m, int d)
{
	Expr **k = xcalloc(MAXK, sizeof(*k));
	for (int i = 0; i < m->nk; i++)
		k[i] = gen_typed(c, m->key[i], d);
	return k;
}

static Expr *gen_map_read(struct ctx *c, Type *want, int d)
{
	Map *m = pick_map(map_readable, want);
	if (!m)
		return NULL;
	Expr *e = mk(X_MAP, m->vt);
	e->map = m;
	e->el = gen_keys(c, m, d - 1 < 0 ? 0 : d - 1);
	e->n = m->nk;
	return e;
}

static bool raw_list(enum pkind pk, const struct raw **list, int *n)
{
	switch (pk) {
	case P_OPENAT:
		*list = raw_openat;
		*n = (int)(sizeof(raw_openat) / sizeof(raw_openat[0]));
		return true;
	case P_EXECVE:
		*list = raw_execve;
		*n = (int)(sizeof(raw_execve) / sizeof(raw_execve[0]));
		return true;
	case P_SCHED:
		*list = raw_sched;
		*n = (int)(sizeof(raw_sched) / sizeof(raw_sched[0]));
		return true;
	case P_RAWSYS:
		*list = raw_rawsys;
		*n = (int)(sizeof(raw_rawsys) / sizeof(raw_rawsys[0]));
		return true;
	default:
		return false;
	}
}

/* ---- script structs (issue 12) -------------------------------------------------
 *
 * A program may start with struct declarations: mixed integer sizes, char
 * arrays, integer arrays, nested structs (declared earlier), pointers,
 * bit-fields and unions. The generator lays them out with the C rules (the
 * x86-64/BPF SysV ABI: every member at a multiple of its alignment, a
 * bit-field in the unsigned int unit it starts in unless it would cross its
 * end, the size a multiple of the largest alignment; a union at 0), so
 * sizeof and offsetof are known values. Reads through them:
 *  - run kind, known: a struct placed over curtask so that one of its
 *    members lands on task_struct's pid, tgid, comm or real_parent:
 *    (struct S *)((uint64)curtask + offsetof(struct task_struct, pid) - K)
 *    with K the member's offset in S computed here, compared with the
 *    builtin or the BTF read (`->pid == tid`); the address arithmetic keeps
 *    the program the same on every kernel and checks trace's layout of S
 *    (a wrong K reads another member);
 *  - dry kind: any member, through casts of curtask, of a tracepoint's user
 *    pointer or of an integer argument: constant array indexes in bounds,
 *    `.` into nested structs, `->` through pointer members.
 */
enum sfk { SF_INT, SF_CHARS, SF_IARR, SF_NEST, SF_PTR, SF_BITS };
#define MAXSF 8
#define MAXSD 4

struct sdecl;
struct sfield {
	char name[12];
	enum sfk k;
	int ti;		    /* SF_INT, SF_IARR: index into sf_ints */
	int n;		    /* arrays: the element count; SF_BITS: the width */
	struct sdecl *sub;  /* SF_NEST: the member's struct; SF_PTR: the pointee */
	int off;	    /* byte offset (SF_BITS: of the bit-field's unit) */
	const char *mirror; /* a task_struct member this one lands on, or NULL */
};

struct sdecl {
	char name[12];
	bool is_union;
	int nf;
	struct sfield f[MAXSF];
	int size, align;
};

static const struct {
	const char *c;
	int bytes;
	bool sgn;
} sf_ints[] = { { "char", 1, true },	     { "unsigned char", 1, false },
		{ "short", 2, true },	     { "unsigned short", 2, false },
		{ "int", 4, true },	     { "unsigned int", 4, false },
		{ "long", 8, true },	     { "unsigned long", 8, false },
		{ "long long", 8, true },    { "unsigned long long", 8, false } };
#define NSF_INTS ((int)(sizeof(sf_ints) / sizeof(sf_ints[0])))

static struct sdecl sdecls[MAXSD + 1];
static int nsdecls;
static int sd_wrap_field = -1; /* run kind: sdecls[nsdecls - 1].f[this] nests the mirror */

static int align_up(int v, int a)
{
	return (v + a - 1) / a * a;
}

static void sf_size_align(const struct sfield *f, int *size, int *align)
{
	*size = *align = 4;
	switch (f->k) {
	case SF_INT:
		*size = *align = sf_ints[f->ti].bytes;
		return;
	case SF_IARR:
		*align = sf_ints[f->ti].bytes;
		*size = *align * f->n;
		return;
	case SF_CHARS:
		*align = 1;
		*size = f->n;
		return;
	case SF_NEST:
		*size = f->sub->size;
		*align = f->sub->align;
		return;
	case SF_PTR:
		*size = *align = 8;
		return;
	case SF_BITS:
		*size = *align = 4;
		return;
	}
}

/* C layout of s (members already chosen): offsets, size, alignment */
static void sd_layout(struct sdecl *s)
{
	int bit = 0, align = 1, end = 0;
	for (int i = 0; i < s->nf; i++) {
		struct sfield *f = &s->f[i];
		int sz, al;
		sf_size_align(f, &sz, &al);
		if (al > align)
			align = al;
		if (s->is_union) {
			f->off = 0;
			if (sz > end)
				end = sz;
			continue;
		}
		if (f->k == SF_BITS) {
			if (bit % 32 + f->n > 32)
				bit = align_up(bit, 32);
			f->off = bit / 32 * 4;
			bit += f->n;
			continue;
		}
		bit = align_up(bit, al * 8);
		f->off = bit / 8;
		bit += sz * 8;
	}
	if (!s->is_union)
		end = (bit + 7) / 8;
	s->align = align;
	s->size = align_up(end, align);
}

static void sd_add(struct sdecl *s, enum sfk k, int ti, int n, struct sdecl *sub)
{
	struct sfield *f = &s->f[s->nf];
	snprintf(f->name, sizeof(f->name), "m%d", s->nf % 10);
	f->k = k;
	f->ti = ti;
	f->n = n;
	f->sub = sub;
	s->nf++;
}

/* one random member (never a nested struct that is s itself) */
static void sd_add_random(struct sdecl *s, int idx)
{
	int r = rnd(100);
	if (r < 35)
		sd_add(s, SF_INT, rnd(NSF_INTS), 0, NULL);
	else if (r < 48)
		sd_add(s, SF_CHARS, 0, range(1, 20), NULL);
	else if (r < 60)
		sd_add(s, SF_IARR, rnd(NSF_INTS), range(1, 5), NULL);
	else if (r < 72 && idx > 0)
		sd_add(s, SF_NEST, 0, 0, &sdecls[rnd(idx)]);
	else if (r < 82)
		sd_add(s, SF_PTR, 0, 0, &sdecls[rnd(idx + 1)]);
	else if (!s->is_union)
		sd_add(s, SF_BITS, 0, range(1, 31), NULL);
	else
		sd_add(s, SF_INT, rnd(NSF_INTS), 0, NULL);
}

/* run kind, the last struct: members over task_struct's pid, tgid, comm
 * and real_parent, after a random prefix */
static void sd_add_mirror(struct sdecl *s)
{
	static const char *const mirrors[] = { "pid", "tgid", "comm", "real_parent" };
	int pre = range(0, 3);
	for (int i = 0; i < pre; i++)
		sd_add_random(s, nsdecls);
	int first = rnd(4);
	for (int i = 0; i < 4 && s->nf < MAXSF; i++) {
		const char *m = mirrors[(first + i) % 4];
		if (!strcmp(m, "comm"))
			sd_add(s, SF_CHARS, 0, 16, NULL);
		else if (!strcmp(m, "real_parent"))
			sd_add(s, SF_PTR, 0, 0, s);
		else
			sd_add(s, SF_INT, 4, 0, NULL);
		s->f[s->nf - 1].mirror = m;
		if (s->nf < MAXSF && chance(40))
			sd_add_random(s, nsdecls);
	}
}

static void gen_sdecls(void)
{
	if (!chance(run_kind ? 70 : 45))
		return;
	int n = range(1, MAXSD);
	for (int i = 0; i < n; i++) {
		struct sdecl *s = &sdecls[i];
		snprintf(s->name, sizeof(s->name), "S%d", i % 10);
		bool mirror = run_kind && i == n - 1;
		s->is_union = !mirror && chance(15);
		nsdecls = i;
		if (mirror) {
			sd_add_mirror(s);
		} else {
			int nf = range(1, MAXSF);
			for (int j = 0; j < nf; j++)
				sd_add_random(s, i);
		}
		sd_layout(s);
	}
	nsdecls = n;
	if (run_kind && chance(50)) {
		/* the mirror nested in another struct: S.mW.mN over the task */
		struct sdecl *w = &sdecls[n];
		snprintf(w->name, sizeof(w->name), "S%d", n % 10);
		int pre = range(0, 2);
		for (int j = 0; j < pre; j++)
			sd_add_random(w, n);
		sd_add(w, SF_NEST, 0, 0, &sdecls[n - 1]);
		sd_wrap_field = w->nf - 1;
		if (chance(50))
			sd_add_random(w, n);
		sd_layout(w);
		nsdecls = n + 1;
	}
}

static void pr_sdecls(struct sb *b, bool c_syntax)
{
	for (int i = 0; i < nsdecls; i++) {
		const struct sdecl *s = &sdecls[i];
		sb_printf(b, "%s %s {\n", s->is_union ? "union" : "struct", s->name);
		for (int j = 0; j < s->nf; j++) {
			const struct sfield *f = &s->f[j];
			switch (f->k) {
			case SF_INT:
				sb_printf(b, "\t%s %s;\n", sf_ints[f->ti].c, f->name);
				break;
			case SF_IARR:
				sb_printf(b, "\t%s %s[%d];\n", sf_ints[f->ti].c, f->name, f->n);
				break;
			case SF_CHARS:
				sb_printf(b, "\tchar %s[%d];\n", f->name, f->n);
				break;
			case SF_NEST:
			case SF_PTR:
				sb_printf(b, "\t%s %s %s%s;\n", f->sub->is_union ? "union" : "struct",
					  f->sub->name, f->k == SF_PTR ? "*" : "", f->name);
				break;
			case SF_BITS:
				sb_printf(b, "\tunsigned int %s : %d;\n", f->name, f->n);
				break;
			}
		}
		sb_puts(b, c_syntax ? "};\n" : "}\n");
	}
}

static const char *sd_kw(const struct sdecl *s)
{
	return s->is_union ? "union" : "struct";
}

/* a member path from s to an integer or char-array leaf through nested
 * members and constant in-bounds indexes: "m2.m0[1]"; *off its offset
 * (when is_off: only nested names, usable in offsetof) */
static bool sd_path(const struct sdecl *s, struct sb *b, int *off, bool want_str, bool is_off,
		    int depth)
{
	const struct sfield *f = &s->f[rnd(s->nf)];
	if (depth > 3 && (f->k == SF_NEST || f->k == SF_PTR))
		return false;
	switch (f->k) {
	case SF_INT:
		if (want_str)
			return false;
		sb_puts(b, f->name);
		*off += f->off;
		return true;
	case SF_CHARS:
		sb_puts(b, f->name);
		*off += f->off;
		if (want_str || is_off)
			return true;
		sb_printf(b, "[%d]", rnd(f->n));
		return true;
	case SF_IARR:
		if (want_str)
			return false;
		sb_puts(b, f->name);
		*off += f->off;
		if (!is_off)
			sb_printf(b, "[%d]", rnd(f->n));
		return true;
	case SF_NEST:
		sb_printf(b, "%s.", f->name);
		*off += f->off;
		return sd_path(f->sub, b, off, want_str, is_off, depth + 1);
	case SF_PTR:
		if (is_off)
			return false;
		sb_printf(b, "%s->", f->name);
		return sd_path(f->sub, b, off, want_str, is_off, depth + 1);
	case SF_BITS:
		if (want_str || is_off)
			return false;
		sb_puts(b, f->name);
		return true;
	}
	return false;
}

/* (int64)sizeof(struct S) or (int64)offsetof(struct S, a.b): known */
static Expr *gen_sd_layout_expr(void)
{
	const struct sdecl *s = &sdecls[rnd(nsdecls)];
	struct sb b = { 0 };
	int v = s->size;
	if (chance(40)) {
		sb_printf(&b, "(int64)sizeof(%s %s)", sd_kw(s), s->name);
	} else {
		struct sb p = { 0 };
		int off = 0;
		bool ok = false;
		for (int tries = 0; tries < 6 && !ok; tries++) {
			free(p.p);
			p = (struct sb){ 0 };
			off = 0;
			ok = sd_path(s, &p, &off, false, true, 0);
		}
		if (!ok)
			return NULL;
		sb_printf(&b, "(int64)offsetof(%s %s, %s)", sd_kw(s), s->name, p.p);
		v = off;
	}
	Expr *e = mk(X_RAW, T_S64);
	e->s = b.p;
	e->known = true;
	e->kv = vint((uint64_t)v, true);
	return e;
}

/* run kind: a fact read through the mirror struct over a known task */
static Expr *gen_sd_mirror(enum kind k)
{
	const struct sdecl *w = NULL;
	const struct sdecl *s = &sdecls[nsdecls - 1];
	if (sd_wrap_field >= 0) {
		w = s;
		s = w->f[sd_wrap_field].sub;
		if (chance(50))
			w = NULL;
	}
	const struct sfield *cand[MAXSF];
	int nc = 0;
	for (int i = 0; i < s->nf; i++)
		if (s->f[i].mirror && (k == K_INT || !strcmp(s->f[i].mirror, "comm")))
			cand[nc++] = &s->f[i];
	if (!nc)
		return NULL;
	const struct sfield *f = cand[rnd(nc)];
	bool parent = k == K_INT && strcmp(f->mirror, "comm") && chance(30);
	const char *task = parent ? "curtask->real_parent" : "curtask";
	struct sb b = { 0 };
	const char *acc = chance(25) ? "." : "->"; /* `.` on a pointer, as bpftrace >= 0.25 */
	struct sb base = { 0 };
	if (w) {
		const struct sfield *wf = &w->f[sd_wrap_field];
		sb_printf(&base,
			  "((%s %s *)((uint64)%s + offsetof(struct task_struct, %s) - %d))%s%s.%s",
			  sd_kw(w), w->name, task, f->mirror, wf->off + f->off, acc, wf->name,
			  f->name);
	} else {
		sb_printf(&base, "((%s %s *)((uint64)%s + offsetof(struct task_struct, %s) - %d))%s%s",
			  sd_kw(s), s->name, task, f->mirror, f->off, acc, f->name);
	}
	Expr *e;
	if (k == K_STR) {
		e = mk(X_RAW, &t_str);
		e->s = base.p;
		e->known = true;
		e->kv = vstr(comm_name);
		return e;
	}
	if (!strcmp(f->mirror, "pid"))
		sb_printf(&b, "(%s == %s)", base.p, parent ? "curtask->real_parent->pid" : "tid");
	else if (!strcmp(f->mirror, "tgid"))
		sb_printf(&b, "(%s == %s)", base.p, parent ? "curtask->real_parent->tgid" : "pid");
	else if (!strcmp(f->mirror, "comm"))
		sb_printf(&b, "(%s == comm)", base.p);
	else
		sb_printf(&b, "((uint64)%s == (uint64)%s->real_parent)", base.p, task);
	e = mk(X_RAW, T_S64);
	e->s = b.p;
	e->known = true;
	e->kv = vint(1, true);
	return e;
}

/* dry kind: a member read through a cast of some pointer of the probe */
static Expr *gen_sd_read(struct ctx *c, enum kind k)
{
	const struct sdecl *s = &sdecls[rnd(nsdecls)];
	const char *ptr = "curtask";
	int r = rnd(100);
	if (r < 30 && (c->pk == P_OPENAT || c->pk == P_EXECVE))
		ptr = "args->filename";
	else if (r < 45 && c->pk == P_RAWSYS)
		ptr = "args->args[1]";
	else if (r < 60)
		ptr = "curtask->real_parent";
	else if (r < 70)
		ptr = "(uint64)curtask";
	struct sb p = { 0 };
	int off = 0;
	bool ok = false;
	for (int tries = 0; tries < 6 && !ok; tries++) {
		free(p.p);
		p = (struct sb){ 0 };
		ok = sd_path(s, &p, &off, k == K_STR, false, 0);
	}
	if (!ok)
		return NULL;
	struct sb b = { 0 };
	if (k == K_STR)
		sb_printf(&b, "((%s %s *)%s)->%s", sd_kw(s), s->name, ptr, p.p);
	else
		sb_printf(&b, "(uint64)((%s %s *)%s)->%s", sd_kw(s), s->name, ptr, p.p);
	Expr *e = mk(X_RAW, k == K_INT ? T_U64 : &t_str);
	e->s = b.p;
	return e;
}

/* --c-layout: the declarations as C with the layout computed here
 * asserted (sizeof, alignment, every member's offset but bit-fields'),
 * for a C compiler to check the generator's layout rules
 * (tests/gen/check_layout.sh) */
static void pr_sdecls_c(struct sb *b)
{
	sb_puts(b, "#include <stddef.h>\n");
	pr_sdecls(b, true);
	for (int i = 0; i < nsdecls; i++) {
		const struct sdecl *s = &sdecls[i];
		sb_printf(b, "_Static_assert(sizeof(%s %s) == %d, \"%s size\");\n", sd_kw(s),
			  s->name, s->size, s->name);
		sb_printf(b, "_Static_assert(_Alignof(%s %s) == %d, \"%s align\");\n", sd_kw(s),
			  s->name, s->align, s->name);
		for (int j = 0; j < s->nf; j++)
			if (s->f[j].k != SF_BITS)
				sb_printf(b,
					  "_Static_assert(offsetof(%s %s, %s) == %d, \"%s.%s\");\n",
					  sd_kw(s), s->name, s->f[j].name, s->f[j].off, s->name,
					  s->f[j].name);
	}
}

/* a script-struct expression of kind k for gen_raw, or NULL */
static Expr *gen_sd_raw(struct ctx *c, enum kind k)
{
	if (!nsdecls)
		return NULL;
	if (c->live) {
		if (k == K_INT && chance(50))
			return gen_sd_layout_expr();
		return run_kind ? gen_sd_mirror(k) : NULL;
	}
	if (k == K_INT && chance(30))
		return gen_sd_layout_expr();
	return gen_sd_read(c, k);
}

static Expr *gen_raw(struct ctx *c, enum kind k)
{
	if (nsdecls && chance(run_kind ? 30 : 20)) {
		Expr *se = gen_sd_raw(c, k);
		if (se)
			return se;
	}
	if (c->live) {
		/* run kind: only builtins whose value is known in BEGIN/END */
		if (k == K_STR) {
			Expr *e = mk(X_RAW, &t_str);
			e->s = xstrdup(chance(30) ? "curtask->comm" : "comm"); /* the same in BEGIN */
			e->known = true;
			e->kv = vstr(comm_name);
			return e;
		}
		/* facts, kernel struct chains (BTF) among them: curtask is
		 * trace itself in BEGIN and END */
		static const char *facts[] = { "pid > 0",    "tid > 0",	 "nsecs > 0",
					       "cpu < 4096", "uid == 0", "elapsed >= 0",
					       "curtask->pid == tid", "curtask->tgid == pid",
					       "curtask.tgid == pid", "curtask->real_parent->tgid > 0",
					       "curtask->real_parent->real_parent->tgid >= 0",
					       "curtask->comm == comm", "curtask->signal->nr_threads >= 1",
					       "curtask->mm->mm_users.counter > 0" };
		const int nf = (int)(sizeof(facts) / sizeof(facts[0]));
		int i = rnd(nf + 2);
		Expr *e = mk(X_RAW, T_S64);
		struct sb b = { 0 };
		if (i < nf) {
			sb_printf(&b, "(%s)", facts[i]);
			e->kv = vint(1, true);
		} else {
			char *w = chance(50) ? xstrdup(comm_name) : rand_word(range(1, 10));
			bool eq = i == nf;
			sb_printf(&b, "(comm %s \"%s\")", eq ? "==" : "!=", w);
			e->kv = vint((uint64_t)((strcmp(w, comm_name) == 0) == eq), true);
		}
		e->s = b.p;
		e->known = true;
		return e;
	}
	const struct raw *list;
	int n;
	if (raw_list(c->pk, &list, &n) && chance(65)) {
		for (int tries = 0; tries < 8; tries++) {
			const struct raw *r = &list[rnd(n)];
			if (r->k == k) {
				Expr *e = mk(X_RAW, k == K_INT ? T_U64 : &t_str);
				e->s = xstrdup(r->text);
				return e;
			}
		}
	}
	Expr *e;
	if (k == K_STR) {
		e = mk(X_RAW, &t_str);
		e->s = xstrdup("comm");
	} else {
		int nc = (int)(sizeof(raw_common_int) / sizeof(raw_common_int[0]));
		e = mk(X_RAW, T_U64);
		e->s = xstrdup(raw_common_int[rnd(nc)].text);
	}
	return e;
}

static Expr *gen_int_leaf(struct ctx *c, int d)
{
	for (;;) {
		int r = rnd(100);
		if (r < 35)
			return mk_int(rand_lit());
		if (r < 58) {
			Var *v = pick_var(c, T_S64);
			if (v) {
				Expr *e = mk(X_VAR, v->t);
				e->var = v;
				return e;
			}
			continue;
		}
		if (r < 70) {
			Expr *e = gen_map_read(c, T_S64, d);
			if (e)
				return e;
			continue;
		}
		if (r < 78) {
			/* .N of a tuple variable or map */
			for (int i = 0; i < nshapes; i++) {
				Type *sh = shapes[(i + r) % nshapes];
				int idx = -1;
				for (int j = 0; j < sh->n; j++)
					if (sh->el[j]->k == K_INT)
						idx = j;
				if (idx < 0)
					continue;
				Expr *t = NULL;
				Var *v = pick_var(c, sh);
				if (v) {
					t = mk(X_VAR, v->t);
					t->var = v;
				} else {
					t = gen_map_read(c, sh, d);
				}
				if (!t)
					continue;
				Expr *e = mk(X_FIELD,
					     tint(64, sh->el[idx]->sgn)); /* stored as 64 bits */
				e->a = t;
				e->n = idx;
				return e;
			}
			continue;
		}
		return gen_raw(c, K_INT);
	}
}

static bool map_keyed(const Map *m, const void *arg);

/* strcontains, len, has_key, bswap: functions that compute integers */
static Expr *gen_int_fn(struct ctx *c, int d)
{
	int r = rnd(4);
	if (r == 0) {
		/* short strings only: the verifier walks strcontains() over
		 * every (haystack, needle) byte pair, and long literals (up to
		 * 300 bytes) inside unroll exceed its million instructions */
		Expr *e = mk(X_STRCONTAINS, T_U64);
		if (chance(40)) {
			e->a = gen_raw(c, K_STR);
		} else {
			e->a = mk(X_STR, &t_str);
			e->a->s = rand_word(range(0, 20));
		}
		/* a needle cut from a literal haystack now and then, so that
		 * some calls find it */
		e->b = mk(X_STR, &t_str);
		if (e->a->op == X_STR && e->a->s[0] && chance(50)) {
			size_t n = strlen(e->a->s);
			size_t from = (size_t)rnd((int)n), len = (size_t)range(0, (int)(n - from));
			e->b->s = xcalloc(len + 1, 1);
			memcpy(e->b->s, e->a->s + from, len);
		} else {
			e->b->s = rand_word(range(0, 4));
		}
		return e;
	}
	if (r == 3) {
		/* an explicit width: bswap() swaps the bytes of its argument's
		 * type, and a tuple field keeps its width in trace where this
		 * model widens it to 64 bits */
		Expr *a = mk_cast(random_cast_type(), gen_int(c, d - 1));
		Expr *e = mk(X_BSWAP, a->t->bits == 8 ? a->t : tint(a->t->bits, false));
		e->a = a;
		return e;
	}
	Map *m = pick_map(map_keyed, NULL);
	if (!m)
		return NULL;
	Expr *e = mk(r == 1 ? X_LEN : X_HASKEY, r == 1 ? T_S64 : T_U64);
	e->map = m;
	if (r == 2) {
		e->el = gen_keys(c, m, d - 1 < 0 ? 0 : d - 1);
		e->n = m->nk;
	}
	return e;
}

static Expr *gen_int(struct ctx *c, int d)
{
	if (d <= 0 || chance(30))
		return gen_int_leaf(c, d);
	if (chance(8)) {
		Expr *e = gen_int_fn(c, d);
		if (e)
			return e;
	}
	if (chance(2)) { /* a macro call */
		Expr *e = mk(X_MACRO, T_S64);
		e->a = with_sign(gen_int(c, d - 1), true);
		e->iv = rnd(2);
		macros_used = true;
		return e;
	}
	int r = rnd(100);
	if (r < 30) {
		static const int ops[] = { B_ADD, B_ADD, B_SUB, B_MUL, B_DIV, B_MOD,
					   B_AND, B_OR,	 B_XOR, B_SHL, B_SHR };
		int op = ops[rnd((int)(sizeof(ops) / sizeof(ops[0])))];
		Expr *a = gen_int(c, d - 1);
		Expr *b;
		if (op == B_DIV || op == B_MOD) {
			int64_t v = range(1, 20);
			if (chance(25))
				v = -v;
			b = mk_int(v);
			if (!run_kind && chance(40))
				b = gen_int(c, d - 1);
		} else if (op == B_SHL || op == B_SHR) {
			b = mk_int(range(0, 63));
			if (!run_kind && chance(30))
				b = gen_int(c, d - 1);
		} else {
			b = gen_int(c, d - 1);
		}
		return mk_bin(op, a, b);
	}
	if (r < 45) {
		int op = B_EQ + rnd(6);
		Expr *a = gen_int(c, d - 1);
		Expr *b = gen_int(c, d - 1);
		return mk_bin(op, a, b);
	}
	if (r < 55) {
		int op = chance(50) ? B_SEQ : B_SNE;
		Expr *a = gen_str(c, d - 1);
		Expr *b = gen_str(c, d - 1);
		return mk_bin(op, a, b);
	}
	if (r < 63) {
		int op = chance(50) ? B_LAND : B_LOR;
		Expr *a = gen_int(c, d - 1);
		Expr *b = gen_int(c, d - 1);
		return mk_bin(op, a, b);
	}
	if (r < 71) {
		int u = rnd(3);
		Expr *a = gen_int(c, d - 1);
		Expr *e;
		if (u == 0) {
			e = mk(X_NEG, T_S64);
			a = with_sign(a, true);
		} else if (u == 1) {
			/* .N of a narrow tuple element keeps its width in trace
			 * (and bpftrace): ~ of a uint16 element is 16 bits; the
			 * cast makes the 64 bits modelled here explicit */
			if (a->op == X_FIELD)
				a = mk_cast(a->t, a);
			e = mk(X_BNOT, a->t);
		} else {
			e = mk(X_LNOT, T_S64);
		}
		e->a = a;
		return e;
	}
	if (r < 86) {
		Expr *e = mk(X_TERN, NULL);
		e->a = gen_int(c, d - 1);
		e->b = gen_int(c, d - 1);
		e->c = gen_int(c, d - 1);
		if (e->b->t->sgn != e->c->t->sgn) {
			e->b = with_sign(e->b, true);
			e->c = with_sign(e->c, true);
		}
		e->t = tint(64, e->b->t->sgn);
		return e;
	}
	Type *t = random_cast_type();
	return mk_cast(t, gen_int(c, d - 1));
}

static Expr *gen_str(struct ctx *c, int d)
{
	for (;;) {
		int r = rnd(100);
		if (r < 40) {
			Expr *e = mk(X_STR, &t_str);
			e->s = rand_word(rand_str_len());
			return e;
		}
		if (r < 55) {
			Var *v = pick_var(c, &t_str);
			if (v) {
				Expr *e = mk(X_VAR, v->t);
				e->var = v;
				return e;
			}
			continue;
		}
		if (r < 63) {
			Expr *e = gen_map_read(c, &t_str, d);
			if (e)
				return e;
			continue;
		}
		if (r < 68) {
			for (int i = 0; i < nshapes; i++) {
				Type *sh = shapes[(i + r) % nshapes];
				int idx = -1;
				for (int j = 0; j < sh->n; j++)
					if (sh->el[j]->k == K_STR)
						idx = j;
				if (idx < 0)
					continue;
				Var *v = pick_var(c, sh);
				if (!v)
					continue;
				Expr *t = mk(X_VAR, v->t);
				t->var = v;
				Expr *e = mk(X_FIELD, &t_str);
				e->a = t;
				e->n = idx;
				return e;
			}
			continue;
		}
		if (r < 80)
			return gen_raw(c, K_STR);
		if (d <= 0)
			continue;
		Expr *e = mk(X_TERN, &t_str);
		e->a = gen_int(c, d - 1);
		e->b = gen_str(c, d - 1);
		e->c = gen_str(c, d - 1);
		return e;
	}
}

static Expr *gen_tup(struct ctx *c, Type *shape, int d)
{
	for (;;) {
		int r = rnd(100);
		if (r < 45 || d <= 0) {
			Expr *e = mk(X_TUPLE, shape);
			e->n = shape->n;
			e->el = xcalloc((size_t)shape->n, sizeof(Expr *));
			for (int i = 0; i < shape->n; i++)
				e->el[i] = gen_typed(c, shape->el[i], d - 1 < 0 ? 0 : d - 1);
			return e;
		}
		if (r < 65) {
			Var *v = pick_var(c, shape);
			if (v) {
				Expr *e = mk(X_VAR, v->t);
				e->var = v;
				return e;
			}
			continue;
		}
		if (r < 75) {
			Expr *e = gen_map_read(c, shape, d);
			if (e)
				return e;
			continue;
		}
		Expr *e = mk(X_TERN, shape);
		e->a = gen_int(c, d - 1);
		e->b = gen_tup(c, shape, d - 1);
		e->c = gen_tup(c, shape, d - 1);
		return e;
	}
}

/* ---- statement generation -------------------------------------------------- */

static void gen_block(struct ctx *c, Block *b, int n, int d);

static Stmt *mk_stmt(enum sop op)
{
	Stmt *s = xcalloc(1, sizeof(*s));
	s->op = op;
	s->top = -1;
	s->div = -1;
	return s;
}

static Type *random_value_type(void)
{
	int r = rnd(100);
	if (r < 45)
		return chance(85) ? T_S64 : T_U64;
	if (r < 80 || !nshapes)
		return &t_str;
	return shapes[rnd(nshapes)];
}

static void new_shape(void)
{
	if (nshapes >= MAXSHAPES)
		return;
	Type *t = xcalloc(1, sizeof(*t));
	t->k = K_TUP;
	bool strs = chance(35); /* "several strings": overflows the stack */
	t->n = strs ? range(3, 6) : range(2, 5);
	for (int i = 0; i < t->n; i++) {
		if (strs ? chance(80) : chance(45))
			t->el[i] = &t_str;
		else
			t->el[i] = chance(70) ? T_S64 : random_cast_type();
	}
	shapes[nshapes++] = t;
}

static void printf_conv(struct sb *b, bool is_str)
{
	if (is_str) {
		static const char *s[] = { "%s",   "%s",   "%s",     "%-12s",
					   "%20s", "%.5s", "%-8.3s", "%3s" };
		sb_puts(b, s[rnd(8)]);
	} else {
		static const char *s[] = { "%d",     "%d",   "%5d",  "%-6d", "%u",  "%x",
					   "%08x",   "%lld", "%llu", "%ld",  "%lu", "%lx",
					   "%-4lld", "%03d", "%X",   "%o" };
		sb_puts(b, s[rnd(16)]);
	}
}

static Stmt *gen_printf(struct ctx *c, int d)
{
	Stmt *s = mk_stmt(S_PRINTF);
	int r = rnd(100);
	int n = r < 15 ? 0 : r < 75 ? range(1, 5) : r < 90 ? range(6, 10) : range(11, 15);
	s->nargs = n;
	s->args = xcalloc((size_t)n + 1, sizeof(Expr *));
	s->text = xcalloc((size_t)n + 1, sizeof(char *));
	s->conv = xcalloc((size_t)n + 1, sizeof(char *));
	for (int i = 0; i <= n; i++) {
		int len = rnd(4) ? range(0, 6) : range(7, 20);
		char *w = rand_word(len);
		for (char *p = w; *p; p++)
			if (*p == ':' && chance(50))
				*p = '|';
		if (i == 0 && len == 0 && n == 0) {
			free(w);
			w = rand_word(range(1, 10));
		}
		s->text[i] = w;
		if (i < n) {
			bool is_str = chance(40);
			s->args[i] = is_str ? gen_str(c, d) : gen_int(c, d);
			struct sb cb = { 0 };
			printf_conv(&cb, is_str);
			s->conv[i] = cb.p;
		}
	}
	return s;
}

static bool map_keyed(const Map *m, const void *arg)
{
	(void)arg;
	return m->nk > 0;
}

static bool map_any(const Map *m, const void *arg)
{
	(void)m;
	(void)arg;
	return true;
}

static bool map_top_div(const Map *m, const void *arg)
{
	(void)arg;
	return m->vk == V_INT || m->vk == V_COUNT || m->vk == V_SUM || m->vk == V_MIN ||
	       m->vk == V_MAX;
}

/* An assignment or aggregation into a map: an existing one or a new one. */
static Stmt *gen_map_write(struct ctx *c, int d)
{
	Map *m = NULL;
	if (nmaps && chance(70)) {
		for (int tries = 0; tries < 4 && !m; tries++)
			m = maps[rnd(nmaps)];
	}
	if (!m)
		m = new_map();
	if (!m)
		m = maps[rnd(nmaps)];
	Stmt *s;
	switch (m->vk) {
	case V_INT: {
		int r = rnd(100);
		if (r < 55 || !m->declared) {
			s = mk_stmt(S_MASSIGN);
			s->e = as_type(gen_int(c, d), m->vt);
		} else if (r < 80) {
			s = mk_stmt(S_MCOMPOUND);
			static const int ops[] = { B_ADD, B_ADD, B_SUB, B_MUL, B_DIV, B_MOD,
						   B_AND, B_OR,	 B_XOR, B_SHL, B_SHR };
			s->bop = ops[rnd((int)(sizeof(ops) / sizeof(ops[0])))];
			if (s->bop == B_DIV || s->bop == B_MOD)
				s->e = mk_int(chance(80) ? range(1, 9) : -range(1, 9));
			else if (s->bop == B_SHL || s->bop == B_SHR)
				s->e = mk_int(range(0, 20));
			else
				s->e = gen_int(c, d);
			s->e = with_sign(s->e, m->vt->sgn);
		} else {
			s = mk_stmt(S_MINC);
			s->inc = chance(70);
			s->pre = chance(30);
		}
		break;
	}
	case V_STR:
		s = mk_stmt(S_MASSIGN);
		s->e = gen_str(c, d);
		break;
	case V_TUP:
		s = mk_stmt(S_MASSIGN);
		s->e = gen_tup(c, m->vt, d);
		break;
	default:
		s = mk_stmt(S_AGG);
		if (m->vk != V_COUNT)
			s->e = with_sign(gen_int(c, d), true);
		break;
	}
	s->map = m;
	s->keys = gen_keys(c, m, d - 1 < 0 ? 0 : d - 1);
	m->declared = true;
	return s;
}

/* for ($i : lo..hi) { ... }: literal bounds (sometimes an empty range);
 * $i is an int64 of the body's scope */
static Stmt *gen_for_range(struct ctx *c, int d)
{
	Stmt *s = mk_stmt(S_FORR);
	int lo = range(-3, 3);
	s->e = mk_int(lo);
	s->e2 = mk_int(chance(10) ? lo - range(0, 2) : lo + range(1, run_kind ? 5 : 4));
	s->then = xcalloc(1, sizeof(Block));
	int saved = c->nvars;
	bool saved_map = c->in_map_loop;
	s->var = new_var(c, T_S64);
	c->block_depth++;
	c->loop_depth++;
	c->in_map_loop = false;
	/* small bodies: a range loop multiplies what the verifier walks */
	gen_block(c, s->then, range(1, 2), d > 0 ? d - 1 : 0);
	c->in_map_loop = saved_map;
	c->loop_depth--;
	c->block_depth--;
	c->nvars = saved;
	return s;
}

static bool map_iterable(const Map *m, const void *arg)
{
	(void)arg;
	return m->nk >= 1 && ((m->vk == V_INT) || m->vk == V_COUNT || m->vk == V_SUM ||
			      m->vk == V_MIN || m->vk == V_MAX || m->vk == V_AVG);
}

/* $kv.0 (an integer key) or $kv.1 as a signed 64-bit value */
static Expr *kv_field(Var *kv, const Map *m, int n)
{
	bool sgn = n == 0 ? m->key[0]->sgn : m->vk == V_INT ? m->vt->sgn : m->vk != V_COUNT;
	Expr *f = mk(X_KVF, tint(64, sgn));
	f->var = kv;
	f->n = n;
	return sgn ? f : mk_cast(T_S64, f);
}

/* for ($kv : @m) { ... } over a map of integers or count/sum/min/max/avg.
 * The elements come in hash order, so a run program's body only adds
 * (commutative) functions of the element to a variable declared before
 * the loop, and may skip elements (continue); a dry program's body also
 * holds any statements. */
static Stmt *gen_for_map(struct ctx *c, int d)
{
	Map *m = pick_map(map_iterable, NULL);
	Var *acc = pick_var(c, T_S64);
	if (!m || !acc)
		return NULL;
	Stmt *s = mk_stmt(S_FORM);
	s->map = m;
	s->then = xcalloc(1, sizeof(Block));
	Var *kv = xcalloc(1, sizeof(*kv));
	snprintf(kv->name, sizeof(kv->name), "$kv%d", c->nvar_names++);
	s->var = kv;
	int saved = c->nvars;
	bool saved_map = c->in_map_loop;
	c->block_depth++;
	c->loop_depth++;
	c->in_map_loop = true;
	bool int_key = m->nk == 1 && m->key[0]->k == K_INT;
	if (chance(30)) {
		Stmt *skip = mk_stmt(S_IF);
		skip->e = mk_bin(chance(50) ? B_GT : B_LT, kv_field(kv, m, 1), mk_int(range(-2, 6)));
		skip->then = xcalloc(1, sizeof(Block));
		block_add(skip->then, mk_stmt(S_CONTINUE));
		block_add(s->then, skip);
	}
	int n = range(1, 2);
	for (int i = 0; i < n; i++) {
		Stmt *a = mk_stmt(S_VCOMPOUND);
		a->var = acc;
		a->bop = B_ADD;
		Expr *e = kv_field(kv, m, int_key && chance(40) ? 0 : 1);
		if (chance(50))
			e = mk_bin(B_MUL, e, mk_int(range(-3, 7)));
		if (chance(30))
			e = mk_bin(B_ADD, e, mk_int(range(-5, 5)));
		a->e = with_sign(e, acc->t->sgn);
		block_add(s->then, a);
	}
	if (!run_kind)
		gen_block(c, s->then, range(0, 3), d);
	c->in_map_loop = saved_map;
	c->loop_depth--;
	c->block_depth--;
	c->nvars = saved;
	return s;
}

static Stmt *gen_stmt(struct ctx *c, int d)
{
	for (;;) {
		int r = rnd(100);
		if (r < 14) { /* variable assignment */
			Stmt *s = mk_stmt(S_VASSIGN);
			Var *v = NULL;
			if (chance(35)) {
				Type *want = random_value_type();
				v = pick_var(c, want);
			}
			if (v) {
				s->e = gen_typed(c, v->t, d);
			} else {
				Type *t = random_value_type();
				s->e = gen_typed(c, t, d);
				/* int variables are 64-bit (a narrow first value would make a
				 * narrow variable, which wraps at its width) */
				if (t->k == K_INT && (s->e->t->bits < 64 || s->e->t->sgn != t->sgn))
					s->e = mk_cast(tint(64, t->sgn), s->e);
				/* declared after its value is generated: `$v = $v` is an error */
				v = new_var(c, s->e->t->k == K_INT ? s->e->t : t);
				s->let = chance(25);
			}
			s->var = v;
			return s;
		}
		if (r < 20) { /* compound assignment or ++/-- on an int variable */
			Var *v = pick_var(c, T_S64);
			if (!v)
				continue;
			Stmt *s;
			if (chance(60)) {
				s = mk_stmt(S_VCOMPOUND);
				static const int ops[] = { B_ADD, B_SUB, B_MUL, B_DIV, B_MOD,
							   B_AND, B_OR,	 B_XOR, B_SHL, B_SHR };
				s->bop = ops[rnd((int)(sizeof(ops) / sizeof(ops[0])))];
				if (s->bop == B_DIV || s->bop == B_MOD)
					s->e = mk_int(chance(80) ? range(1, 9) : -range(1, 9));
				else if (s->bop == B_SHL || s->bop == B_SHR)
					s->e = mk_int(range(0, 20));
				else
					s->e = gen_int(c, d);
				s->e = with_sign(s->e, v->t->sgn);
			} else {
				s = mk_stmt(S_VINC);
				s->inc = chance(70);
				s->pre = chance(30);
			}
			s->var = v;
			return s;
		}
		if (r < 45)
			return gen_map_write(c, d);
		if (r < 57)
			return gen_printf(c, d);
		if (r < 61) {
			Stmt *s = mk_stmt(S_PRINTV);
			int q = rnd(3);
			if (q == 0 || !nshapes)
				s->e = chance(50) ? gen_int(c, d) : gen_str(c, d);
			else
				s->e = gen_tup(c, shapes[rnd(nshapes)], d);
			if (s->e->op == X_MAP && s->e->map->nk == 0) {
				/* print(@scalar) prints the map, not a value */
				s->op = S_PRINTM;
				s->map = s->e->map;
			}
			return s;
		}
		if (r < 65) {
			Map *m = pick_map(map_any, NULL);
			if (!m)
				continue;
			Stmt *s = mk_stmt(S_PRINTM);
			s->map = m;
			if (map_top_div(m, NULL) && chance(40)) {
				s->top = rnd(4);
				if (chance(50))
					s->div = rnd(4);
			}
			return s;
		}
		if (r < 70) {
			Map *m = pick_map(chance(80) ? map_keyed : map_any, NULL);
			if (!m)
				continue;
			Stmt *s = mk_stmt(S_DELETE);
			s->map = m;
			m->deleted = true;
			s->keys = gen_keys(c, m, d - 1 < 0 ? 0 : d - 1);
			if (m->nk && c->block_depth < 3 && chance(30)) {
				/* if (delete(@m, key)) { ... }: 1 when the key was there */
				Expr *e = mk(X_DELETE, T_U64);
				e->map = m;
				e->el = s->keys;
				e->n = m->nk;
				s->op = S_IF;
				s->e = e;
				s->then = xcalloc(1, sizeof(Block));
				c->block_depth++;
				gen_block(c, s->then, range(1, 2), d);
				c->block_depth--;
			}
			return s;
		}
		if (r < 73) {
			Map *m = pick_map(map_any, NULL);
			if (!m)
				continue;
			Stmt *s = mk_stmt(chance(50) ? S_CLEAR : S_ZERO);
			s->map = m;
			return s;
		}
		if (r < 86) {
			if (c->block_depth >= 3)
				continue;
			Stmt *s = mk_stmt(S_IF);
			s->e = gen_int(c, d);
			s->then = xcalloc(1, sizeof(Block));
			c->block_depth++;
			gen_block(c, s->then, range(1, 4), d);
			if (chance(55)) {
				s->els = xcalloc(1, sizeof(Block));
				if (chance(40)) {
					Stmt *e2 = mk_stmt(S_IF);
					e2->e = gen_int(c, d);
					e2->then = xcalloc(1, sizeof(Block));
					gen_block(c, e2->then, range(1, 3), d);
					if (chance(50)) {
						e2->els = xcalloc(1, sizeof(Block));
						gen_block(c, e2->els, range(1, 3), d);
					}
					block_add(s->els, e2);
				} else {
					gen_block(c, s->els, range(1, 4), d);
				}
			}
			c->block_depth--;
			return s;
		}
		if (r < 94) {
			if (c->unroll_depth >= 2 || c->block_depth >= 3)
				continue;
			Stmt *s = mk_stmt(S_UNROLL);
			s->count = c->unroll_depth ? range(1, 2) :
				   run_kind	   ? range(1, gen_short_jumps ? 3 : 6) :
						     range(1, 4);
			s->then = xcalloc(1, sizeof(Block));
			/* a counter declared before the loop, incremented at its end */
			Var *iv = NULL;
			Stmt *init = NULL;
			if (chance(75)) {
				init = mk_stmt(S_VASSIGN);
				init->e = mk_int(range(-3, 5));
				iv = new_var(c, T_S64);
				init->var = iv;
			}
			c->unroll_depth++;
			gen_unroll_depth = c->unroll_depth;
			c->block_depth++;
			gen_block(c, s->then, range(1, 5), d);
			if (iv) {
				Stmt *inc = mk_stmt(S_VINC);
				inc->var = iv;
				inc->inc = true;
				block_add(s->then, inc);
			}
			c->block_depth--;
			c->unroll_depth--;
			gen_unroll_depth = c->unroll_depth;
			if (init) {
				/* emitted as: init; unroll { ... } */
				init->next = s;
				Stmt *wrap = mk_stmt(S_IF);
				wrap->e = NULL; /* marker: a sequence, see gen_block */
				wrap->then = xcalloc(1, sizeof(Block));
				wrap->then->first = init;
				wrap->then->last = s;
				return wrap;
			}
			return s;
		}
		if (!c->live && r < 96) {
			return mk_stmt(chance(50) ? S_EXIT : S_RETURN);
		}
		if (r >= 96 && c->loop_depth && chance(40)) {
			/* if (cond) { break; } or continue; no break in a run
			 * program's map loop: which elements came before would
			 * decide the output */
			bool brk = chance(50) && !(run_kind && c->in_map_loop);
			Stmt *s = mk_stmt(S_IF);
			s->e = gen_int(c, d);
			s->then = xcalloc(1, sizeof(Block));
			block_add(s->then, mk_stmt(brk ? S_BREAK : S_CONTINUE));
			return s;
		}
		if (r >= 96 && c->block_depth < 3 && c->unroll_depth == 0 && c->loop_depth == 0) {
			/* map loops with any statements in their callback: only
			 * run programs' accumulating bodies (a dry body's stack
			 * can pass the callback's 512 bytes: seed 74, open) */
			Stmt *s = r < 98 ? gen_for_range(c, d) : gen_for_map(c, d);
			if (s)
				return s;
		}
	}
}

/* A block: its variables go out of scope at its end. A statement "sequence"
 * (an S_IF with e == NULL) is spliced into the block. */
static void gen_block(struct ctx *c, Block *b, int n, int d)
{
	int saved = c->nvars;
	for (int i = 0; i < n; i++) {
		Stmt *s = gen_stmt(c, d);
		if (s->op == S_IF && !s->e) {
			for (Stmt *x = s->then->first; x;) {
				Stmt *nx = x == s->then->last ? NULL : x->next;
				x->next = NULL;
				block_add(b, x);
				x = nx;
			}
		} else {
			block_add(b, s);
		}
	}
	c->nvars = saved;
}

/* ---- printing ----------------------------------------------------------------- */

static void pr_expr(struct sb *b, const Expr *e);

static void pr_keys(struct sb *b, const Map *m, Expr **k)
{
	sb_puts(b, m->name);
	if (!m->nk)
		return;
	sb_puts(b, "[");
	for (int i = 0; i < m->nk; i++) {
		if (i)
			sb_puts(b, ", ");
		pr_expr(b, k[i]);
	}
	sb_puts(b, "]");
}

static void pr_expr(struct sb *b, const Expr *e)
{
	switch (e->op) {
	case X_INT:
		if (e->iv < 0)
			sb_printf(b, "(%" PRId64 ")", e->iv);
		else
			sb_printf(b, "%" PRId64, e->iv);
		break;
	case X_STR:
		sb_printf(b, "\"%s\"", e->s);
		break;
	case X_VAR:
		sb_puts(b, e->var->name);
		break;
	case X_MAP:
		pr_keys(b, e->map, e->el);
		break;
	case X_RAW:
		sb_puts(b, e->s);
		break;
	case X_KVF:
		sb_printf(b, "%s.%d", e->var->name, e->n);
		break;
	case X_MACRO:
		sb_printf(b, "gm%d(", (int)e->iv);
		pr_expr(b, e->a);
		sb_puts(b, ")");
		break;
	case X_BIN:
		sb_puts(b, "(");
		pr_expr(b, e->a);
		sb_printf(b, " %s ", bop_text[e->bop]);
		pr_expr(b, e->b);
		sb_puts(b, ")");
		break;
	case X_NEG:
		sb_puts(b, "-(");
		pr_expr(b, e->a);
		sb_puts(b, ")");
		break;
	case X_BNOT:
		sb_puts(b, "~(");
		pr_expr(b, e->a);
		sb_puts(b, ")");
		break;
	case X_LNOT:
		sb_puts(b, "!(");
		pr_expr(b, e->a);
		sb_puts(b, ")");
		break;
	case X_TERN:
		sb_puts(b, "(");
		pr_expr(b, e->a);
		sb_puts(b, " ? ");
		pr_expr(b, e->b);
		sb_puts(b, " : ");
		pr_expr(b, e->c);
		sb_puts(b, ")");
		break;
	case X_CAST:
		sb_printf(b, "(%s)(", cast_name(e->t));
		pr_expr(b, e->a);
		sb_puts(b, ")");
		break;
	case X_TUPLE:
		sb_puts(b, "(");
		for (int i = 0; i < e->n; i++) {
			if (i)
				sb_puts(b, ", ");
			pr_expr(b, e->el[i]);
		}
		sb_puts(b, ")");
		break;
	case X_STRCONTAINS:
		sb_puts(b, "strcontains(");
		pr_expr(b, e->a);
		sb_puts(b, ", ");
		pr_expr(b, e->b);
		sb_puts(b, ")");
		break;
	case X_LEN:
		sb_printf(b, "len(%s)", e->map->name);
		break;
	case X_BSWAP:
		sb_puts(b, "bswap(");
		pr_expr(b, e->a);
		sb_puts(b, ")");
		break;
	case X_HASKEY:
	case X_DELETE:
		sb_printf(b, "%s(%s, ", e->op == X_HASKEY ? "has_key" : "delete", e->map->name);
		if (e->n > 1)
			sb_puts(b, "(");
		for (int i = 0; i < e->n; i++) {
			if (i)
				sb_puts(b, ", ");
			pr_expr(b, e->el[i]);
		}
		sb_puts(b, e->n > 1 ? "))" : ")");
		break;
	case X_FIELD:
		if (e->a->op == X_VAR || e->a->op == X_MAP) {
			pr_expr(b, e->a);
		} else {
			sb_puts(b, "(");
			pr_expr(b, e->a);
			sb_puts(b, ")");
		}
		sb_printf(b, ".%d", e->n);
		break;
	}
}

static void indent(struct sb *b, int n)
{
	for (int i = 0; i < n; i++)
		sb_puts(b, "  ");
}

static void pr_block(struct sb *b, const Block *blk, int ind);

static void pr_stmt(struct sb *b, const Stmt *s, int ind)
{
	indent(b, ind);
	switch (s->op) {
	case S_VASSIGN:
		if (s->let && s->var->t->k == K_INT)
			sb_printf(b, "let %s: %s = ", s->var->name, s->var->t->sgn ? "int64" : "uint64");
		else
			sb_printf(b, "%s%s = ", s->let ? "let " : "", s->var->name);
		pr_expr(b, s->e);
		sb_puts(b, ";\n");
		break;
	case S_FORR:
		sb_printf(b, "for (%s : ", s->var->name);
		pr_expr(b, s->e);
		sb_puts(b, "..");
		pr_expr(b, s->e2);
		sb_puts(b, ") {\n");
		pr_block(b, s->then, ind + 1);
		indent(b, ind);
		sb_puts(b, "}\n");
		break;
	case S_FORM:
		sb_printf(b, "for (%s : %s) {\n", s->var->name, s->map->name);
		pr_block(b, s->then, ind + 1);
		indent(b, ind);
		sb_puts(b, "}\n");
		break;
	case S_BREAK:
		sb_puts(b, "break;\n");
		break;
	case S_CONTINUE:
		sb_puts(b, "continue;\n");
		break;
	case S_VCOMPOUND:
		sb_printf(b, "%s %s= ", s->var->name, bop_text[s->bop]);
		pr_expr(b, s->e);
		sb_puts(b, ";\n");
		break;
	case S_VINC:
		if (s->pre)
			sb_printf(b, "%s%s;\n", s->inc ? "++" : "--", s->var->name);
		else
			sb_printf(b, "%s%s;\n", s->var->name, s->inc ? "++" : "--");
		break;
	case S_MASSIGN:
		pr_keys(b, s->map, s->keys);
		sb_puts(b, " = ");
		pr_expr(b, s->e);
		sb_puts(b, ";\n");
		break;
	case S_MCOMPOUND:
		pr_keys(b, s->map, s->keys);
		sb_printf(b, " %s= ", bop_text[s->bop]);
		pr_expr(b, s->e);
		sb_puts(b, ";\n");
		break;
	case S_MINC:
		if (s->pre) {
			sb_puts(b, s->inc ? "++" : "--");
			pr_keys(b, s->map, s->keys);
		} else {
			pr_keys(b, s->map, s->keys);
			sb_puts(b, s->inc ? "++" : "--");
		}
		sb_puts(b, ";\n");
		break;
	case S_AGG:
		pr_keys(b, s->map, s->keys);
		sb_printf(b, " = %s(", agg_name[s->map->vk]);
		if (s->e)
			pr_expr(b, s->e);
		if (s->map->vk == V_LHIST)
			sb_printf(b, ", %" PRId64 ", %" PRId64 ", %" PRId64, s->map->lmin,
				  s->map->lmax, s->map->lstep);
		sb_puts(b, ");\n");
		break;
	case S_PRINTF:
		sb_puts(b, "printf(\"");
		for (int i = 0; i <= s->nargs; i++) {
			sb_puts(b, s->text[i]);
			if (i < s->nargs)
				sb_puts(b, s->conv[i]);
		}
		sb_puts(b, "\\n\"");
		for (int i = 0; i < s->nargs; i++) {
			sb_puts(b, ", ");
			pr_expr(b, s->args[i]);
		}
		sb_puts(b, ");\n");
		break;
	case S_PRINTV:
		sb_puts(b, "print(");
		pr_expr(b, s->e);
		sb_puts(b, ");\n");
		break;
	case S_PRINTM:
		sb_printf(b, "print(%s", s->map->name);
		if (s->top >= 0)
			sb_printf(b, ", %d", s->top);
		if (s->div >= 0)
			sb_printf(b, ", %d", s->div);
		sb_puts(b, ");\n");
		break;
	case S_DELETE:
		sb_puts(b, "delete(");
		pr_keys(b, s->map, s->keys);
		sb_puts(b, ");\n");
		break;
	case S_CLEAR:
		sb_printf(b, "clear(%s);\n", s->map->name);
		break;
	case S_ZERO:
		sb_printf(b, "zero(%s);\n", s->map->name);
		break;
	case S_EXIT:
		sb_puts(b, "exit();\n");
		break;
	case S_RETURN:
		sb_puts(b, "return;\n");
		break;
	case S_UNROLL:
		sb_printf(b, "unroll(%d) {\n", s->count);
		pr_block(b, s->then, ind + 1);
		indent(b, ind);
		sb_puts(b, "}\n");
		break;
	case S_IF: {
		const Stmt *x = s;
		sb_puts(b, "if (");
		for (;;) {
			pr_expr(b, x->e);
			sb_puts(b, ") {\n");
			pr_block(b, x->then, ind + 1);
			indent(b, ind);
			sb_puts(b, "}");
			if (!x->els)
				break;
			if (x->els->first && x->els->first == x->els->last &&
			    x->els->first->op == S_IF) {
				x = x->els->first;
				sb_puts(b, " else if (");
				continue;
			}
			sb_puts(b, " else {\n");
			pr_block(b, x->els, ind + 1);
			indent(b, ind);
			sb_puts(b, "}");
			break;
		}
		sb_puts(b, "\n");
		break;
	}
	}
}

static void pr_block(struct sb *b, const Block *blk, int ind)
{
	for (const Stmt *s = blk->first; s; s = s->next)
		pr_stmt(b, s, ind);
}

/* ---- interpreter (run kind) ------------------------------------------------- */

static Val eval(const Expr *e);

static Val *eval_keys(const Map *m, Expr **k)
{
	Val *v = xcalloc(MAXK, sizeof(Val));
	for (int i = 0; i < m->nk; i++)
		v[i] = eval(k[i]);
	return v;
}

static bool key_eq(const Map *m, const Val *a, const Val *b)
{
	for (int i = 0; i < m->nk; i++) {
		if (a[i].k == K_INT) {
			if (a[i].i != b[i].i)
				return false;
		} else if (strcmp(a[i].s, b[i].s)) {
			return false;
		}
	}
	return true;
}

static Ent *map_find(Map *m, const Val *key)
{
	for (int i = 0; i < m->nents; i++)
		if (m->ents[i].live && key_eq(m, m->ents[i].key, key))
			return &m->ents[i];
	return NULL;
}

static int lhist_nb(const Map *m)
{
	return (int)((m->lmax - m->lmin) / m->lstep + 2);
}

static Ent *map_get(Map *m, Val *key)
{
	Ent *e = map_find(m, key);
	if (e)
		return e;
	if (m->nents == m->capents) {
		m->capents = m->capents ? m->capents * 2 : 16;
		Ent *n = realloc(m->ents, (size_t)m->capents * sizeof(Ent));
		if (!n)
			exit(2);
		m->ents = n;
	}
	e = &m->ents[m->nents++];
	memset(e, 0, sizeof(*e));
	e->key = key;
	e->live = true;
	if (m->vt)
		e->v = vzero(m->vt);
	if (m->vk == V_HIST || m->vk == V_LHIST) {
		e->nb = m->vk == V_HIST ? 66 : lhist_nb(m);
		e->b = xcalloc((size_t)e->nb, sizeof(uint64_t));
	}
	return e;
}

static Val conv_to(Val v, const Type *t)
{
	if (t->k == K_INT) {
		v.i = normalize(v.i, t->bits, t->sgn);
		v.sgn = t->sgn;
	}
	return v;
}

static uint64_t divmod(bool is_div, bool sgn, uint64_t l, uint64_t r)
{
	if (r == 0)
		return 0;
	if (!sgn)
		return is_div ? l / r : l % r;
	bool ln = (int64_t)l < 0, rn = (int64_t)r < 0;
	uint64_t la = ln ? -l : l, ra = rn ? -r : r;
	uint64_t q = is_div ? la / ra : la % ra;
	bool neg = is_div ? ln != rn : ln;
	return neg ? -q : q;
}

static uint64_t binop_int(int op, bool sgn, uint64_t l, uint64_t r)
{
	switch (op) {
	case B_ADD:
		return l + r;
	case B_SUB:
		return l - r;
	case B_MUL:
		return l * r;
	case B_DIV:
		return divmod(true, sgn, l, r);
	case B_MOD:
		return divmod(false, sgn, l, r);
	case B_AND:
		return l & r;
	case B_OR:
		return l | r;
	case B_XOR:
		return l ^ r;
	case B_SHL:
		return l << (r & 63);
	case B_SHR:
		return sgn ? (uint64_t)((int64_t)l >> (r & 63)) : l >> (r & 63);
	case B_EQ:
		return l == r;
	case B_NE:
		return l != r;
	case B_LT:
		return sgn ? (int64_t)l < (int64_t)r : l < r;
	case B_LE:
		return sgn ? (int64_t)l <= (int64_t)r : l <= r;
	case B_GT:
		return sgn ? (int64_t)l > (int64_t)r : l > r;
	case B_GE:
		return sgn ? (int64_t)l >= (int64_t)r : l >= r;
	case B_LAND:
		return l && r;
	case B_LOR:
		return l || r;
	}
	return 0;
}

static Val eval(const Expr *e)
{
	switch (e->op) {
	case X_INT:
		return vint((uint64_t)e->iv, true);
	case X_STR:
		return vstr(e->s);
	case X_VAR:
		return e->var->cur;
	case X_RAW:
		return e->kv;
	case X_MAP: {
		Val *k = eval_keys(e->map, e->el);
		Ent *en = map_find(e->map, k);
		return en ? en->v : vzero(e->map->vt);
	}
	case X_BIN: {
		Val a = eval(e->a), b = eval(e->b);
		if (e->bop == B_SEQ || e->bop == B_SNE)
			return vint((uint64_t)((strcmp(a.s, b.s) == 0) == (e->bop == B_SEQ)), true);
		bool sgn = e->a->t->sgn || e->b->t->sgn;
		return vint(binop_int(e->bop, sgn, a.i, b.i), e->t->sgn);
	}
	case X_NEG:
		return vint(-eval(e->a).i, true);
	case X_BNOT: {
		Val a = eval(e->a);
		return vint(normalize(~a.i, e->t->bits, e->t->sgn), e->t->sgn);
	}
	case X_LNOT:
		return vint(eval(e->a).i == 0, true);
	case X_TERN: {
		Val c = eval(e->a);
		Val v = c.i ? eval(e->b) : eval(e->c);
		return e->t->k == K_INT ? conv_to(v, e->t) : v;
	}
	case X_CAST:
		return conv_to(eval(e->a), e->t);
	case X_TUPLE: {
		Val v = { .k = K_TUP, .n = e->n };
		v.el = xcalloc((size_t)e->n, sizeof(Val));
		for (int i = 0; i < e->n; i++)
			v.el[i] = conv_to(eval(e->el[i]), e->t->el[i]);
		return v;
	}
	case X_FIELD: {
		Val t = eval(e->a);
		return t.el[e->n];
	}
	case X_STRCONTAINS: {
		Val a = eval(e->a), b = eval(e->b);
		return vint(strstr(a.s, b.s) != NULL, false);
	}
	case X_LEN: {
		int64_t n = 0;
		for (int i = 0; i < e->map->nents; i++)
			n += e->map->ents[i].live;
		return vint((uint64_t)n, true);
	}
	case X_HASKEY:
		return vint(map_find(e->map, eval_keys(e->map, e->el)) != NULL, false);
	case X_DELETE: {
		Ent *en = map_find(e->map, eval_keys(e->map, e->el));
		if (en)
			en->live = false;
		return vint(en != NULL, false);
	}
	case X_BSWAP: {
		Val a = eval(e->a);
		int bits = e->a->t->bits;
		uint64_t v = normalize(a.i, bits, false), r = 0;
		for (int i = 0; i < bits / 8; i++)
			r = (r << 8) | ((v >> (8 * i)) & 0xff);
		return vint(normalize(r, bits, e->t->sgn), e->t->sgn);
	}
	case X_KVF:
		return vint(e->var->kv[e->n], e->t->sgn);
	case X_MACRO: {
		uint64_t a = eval(e->a).i;
		return vint(e->iv ? a * 2 - 1 : a + 3, true);
	}
	}
	return vint(0, true);
}

/* records of the probe being run, processed when it returns */
enum rkind { R_TEXT, R_PRINTM, R_CLEAR, R_ZERO };
struct rec {
	enum rkind k;
	char *text;
	Map *map;
	int top, div;
};
static struct rec *recs;
static int nrecs, caprecs;
static bool exited;

static void add_rec(struct rec r)
{
	if (nrecs == caprecs) {
		caprecs = caprecs ? caprecs * 2 : 64;
		struct rec *n = realloc(recs, (size_t)caprecs * sizeof(*n));
		if (!n)
			exit(2);
		recs = n;
	}
	recs[nrecs++] = r;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
/* One printf conversion, as bpftrace 0.17 does it: snprintf with the
 * conversion as written; %d/%u/%x/%X/%o take a C int, %l../%ll.. 64 bits. */
static void fmt_conv(struct sb *b, const char *conv, const Val *v)
{
	char out[2048];
	size_t n = strlen(conv);
	char c = conv[n - 1];
	bool is_long = strchr(conv, 'l') != NULL;
	if (c == 's')
		snprintf(out, sizeof(out), conv, v->s);
	else if (is_long && c == 'd')
		snprintf(out, sizeof(out), conv, (long long)v->i);
	else if (is_long)
		snprintf(out, sizeof(out), conv, (unsigned long long)v->i);
	else if (c == 'd')
		snprintf(out, sizeof(out), conv, (int)(uint32_t)v->i);
	else
		snprintf(out, sizeof(out), conv, (unsigned)(uint32_t)v->i);
	sb_puts(b, out); /* strings are at most 300 bytes, widths at most 20 */
}
#pragma GCC diagnostic pop

static void map_clear(Map *m)
{
	for (int i = 0; i < m->nents; i++)
		m->ents[i].live = false;
}

static void map_zero(Map *m)
{
	for (int i = 0; i < m->nents; i++) {
		Ent *e = &m->ents[i];
		if (!e->live)
			continue;
		if (m->vt)
			e->v = vzero(m->vt);
		e->cnt = 0;
		e->sum = 0;
		e->set = false;
		if (e->b)
			memset(e->b, 0, (size_t)e->nb * sizeof(uint64_t));
	}
}

static void exec_block(const Block *b);
static int loop_ctl; /* a break (1) or continue (2) is leaving its loop */

/* The value $kv.1 holds for a map element: the integer, or an
 * aggregation's total as trace reads it in a probe (avg: total / count,
 * truncated toward zero) */
static uint64_t element_value(const Map *m, const Ent *e)
{
	switch (m->vk) {
	case V_INT: return e->v.i;
	case V_COUNT: return e->cnt;
	case V_AVG: {
		int64_t q = e->cnt ? e->sum / (int64_t)e->cnt : 0;
		return (uint64_t)q;
	}
	default: return (uint64_t)e->sum;
	}
}

static void exec_for_map(const Stmt *s)
{
	Map *m = s->map;
	for (int i = 0; i < m->nents && !exited; i++) {
		Ent *e = &m->ents[i];
		if (!e->live)
			continue;
		s->var->kv[0] = e->key[0].i;
		s->var->kv[1] = element_value(m, e);
		exec_block(s->then);
		if (loop_ctl == 1) {
			loop_ctl = 0;
			break;
		}
		loop_ctl = 0;
	}
}

static int hist_index(int64_t n)
{
	if (n < 0)
		return 0;
	if (n == 0)
		return 1;
	int l = 0;
	uint64_t u = (uint64_t)n;
	while (u >>= 1)
		l++;
	return 2 + l;
}

static int lhist_index(const Map *m, int64_t v)
{
	if (v < m->lmin)
		return 0;
	if (v > m->lmax)
		return 1 + (int)((m->lmax - m->lmin) / m->lstep);
	return 1 + (int)((v - m->lmin) / m->lstep);
}

static void exec_stmt(const Stmt *s)
{
	switch (s->op) {
	case S_VASSIGN:
		s->var->cur = conv_to(eval(s->e), s->var->t);
		break;
	case S_VCOMPOUND: {
		Val r = eval(s->e);
		bool sgn = s->var->t->sgn || s->e->t->sgn;
		s->var->cur.i = binop_int(s->bop, sgn, s->var->cur.i, r.i);
		break;
	}
	case S_VINC:
		s->var->cur.i += s->inc ? 1 : (uint64_t)-1;
		break;
	case S_MASSIGN: {
		Val v = eval(s->e);
		Val *k = eval_keys(s->map, s->keys);
		Ent *e = map_get(s->map, k);
		e->v = s->map->vt->k == K_INT ? conv_to(v, s->map->vt) : v;
		break;
	}
	case S_MCOMPOUND: {
		Val r = eval(s->e);
		Val *k = eval_keys(s->map, s->keys);
		Ent *e = map_get(s->map, k);
		bool sgn = s->map->vt->sgn || s->e->t->sgn;
		e->v.i = binop_int(s->bop, sgn, e->v.i, r.i);
		break;
	}
	case S_MINC: {
		Val *k = eval_keys(s->map, s->keys);
		Ent *e = map_get(s->map, k);
		e->v.i += s->inc ? 1 : (uint64_t)-1;
		break;
	}
	case S_AGG: {
		int64_t v = s->e ? (int64_t)eval(s->e).i : 0;
		Val *k = eval_keys(s->map, s->keys);
		Ent *e = map_get(s->map, k);
		switch (s->map->vk) {
		case V_COUNT:
			e->cnt++;
			break;
		case V_SUM:
			e->sum = (int64_t)((uint64_t)e->sum + (uint64_t)v);
			break;
		case V_MIN:
			if (!e->set || v < e->sum)
				e->sum = v;
			e->set = true;
			break;
		case V_MAX:
			if (!e->set || v > e->sum)
				e->sum = v;
			e->set = true;
			break;
		case V_AVG:
		case V_STATS:
			e->sum = (int64_t)((uint64_t)e->sum + (uint64_t)v);
			e->cnt++;
			break;
		case V_HIST:
			e->b[hist_index(v)]++;
			break;
		case V_LHIST:
			e->b[lhist_index(s->map, v)]++;
			break;
		default:
			break;
		}
		break;
	}
	case S_PRINTF: {
		struct sb b = { 0 };
		for (int i = 0; i <= s->nargs; i++) {
			sb_puts(&b, s->text[i]);
			if (i < s->nargs) {
				Val v = eval(s->args[i]);
				fmt_conv(&b, s->conv[i], &v);
			}
		}
		sb_puts(&b, "\n");
		add_rec((struct rec){ .k = R_TEXT, .text = b.p });
		break;
	}
	case S_PRINTV: {
		struct sb b = { 0 };
		Val v = eval(s->e);
		val_text(&b, &v);
		sb_puts(&b, "\n");
		add_rec((struct rec){ .k = R_TEXT, .text = b.p });
		break;
	}
	case S_PRINTM:
		add_rec((struct rec){ .k = R_PRINTM, .map = s->map, .top = s->top, .div = s->div });
		break;
	case S_CLEAR:
		add_rec((struct rec){ .k = R_CLEAR, .map = s->map });
		break;
	case S_ZERO:
		add_rec((struct rec){ .k = R_ZERO, .map = s->map });
		break;
	case S_DELETE: {
		Val *k = eval_keys(s->map, s->keys);
		Ent *e = map_find(s->map, k);
		if (e)
			e->live = false;
		break;
	}
	case S_IF:
		if (eval(s->e).i)
			exec_block(s->then);
		else if (s->els)
			exec_block(s->els);
		break;
	case S_UNROLL:
		for (int i = 0; i < s->count && !exited && !loop_ctl; i++)
			exec_block(s->then);
		break;
	case S_EXIT:
		exited = true;
		break;
	case S_RETURN:
		break;
	case S_FORR:
		for (int64_t i = s->e->iv; i < s->e2->iv && !exited; i++) {
			s->var->cur = vint((uint64_t)i, true);
			exec_block(s->then);
			if (loop_ctl == 1) {
				loop_ctl = 0;
				break;
			}
			loop_ctl = 0;
		}
		break;
	case S_FORM:
		exec_for_map(s);
		break;
	case S_BREAK:
		loop_ctl = 1;
		break;
	case S_CONTINUE:
		loop_ctl = 2;
		break;
	}
}

static void exec_block(const Block *b)
{
	for (const Stmt *s = b->first; s && !exited && !loop_ctl; s = s->next)
		exec_stmt(s);
}

/* ---- map printing (docs/output-format.md) ------------------------------------ */

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_s64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static const Map *sort_map;

static int key_order(const Val *a, const Val *b)
{
	for (int i = 0; i < sort_map->nk; i++) {
		int c = a[i].k == K_INT ? cmp_u64(a[i].i, b[i].i) : strcmp(a[i].s, b[i].s);
		if (c)
			return c < 0 ? -1 : 1;
	}
	return 0;
}

static int key_bytes(const Val *a, const Val *b)
{
	for (int i = 0; i < sort_map->nk; i++) {
		int c = 0;
		if (a[i].k == K_INT) {
			for (int j = 0; j < 8 && !c; j++)
				c = cmp_u64((a[i].i >> (8 * j)) & 0xff, (b[i].i >> (8 * j)) & 0xff);
		} else {
			c = strcmp(a[i].s, b[i].s);
		}
		if (c)
			return c < 0 ? -1 : 1;
	}
	return 0;
}

static int64_t ent_avg(const Ent *e)
{
	return e->cnt ? (int64_t)divmod(true, true, (uint64_t)e->sum, e->cnt) : 0;
}

static uint64_t ent_total(const Ent *e)
{
	uint64_t t = 0;
	for (int i = 0; i < e->nb; i++)
		t += e->b[i];
	return t;
}

static int ent_cmp(const void *pa, const void *pb)
{
	const Ent *a = *(Ent *const *)pa, *b = *(Ent *const *)pb;
	int c = 0;
	switch (sort_map->vk) {
	case V_COUNT:
		c = cmp_u64(a->cnt, b->cnt);
		break;
	case V_SUM:
	case V_MIN:
	case V_MAX:
		c = cmp_s64(a->sum, b->sum);
		break;
	case V_INT:
		c = sort_map->vt->sgn ? cmp_s64((int64_t)a->v.i, (int64_t)b->v.i) :
					cmp_u64(a->v.i, b->v.i);
		break;
	case V_AVG:
	case V_STATS:
		return (c = cmp_s64(ent_avg(a), ent_avg(b))) ? c : key_bytes(a->key, b->key);
	case V_HIST:
	case V_LHIST:
		return (c = cmp_u64(ent_total(a), ent_total(b))) ? c : key_bytes(a->key, b->key);
	default:
		break;
	}
	return c ? c : key_order(a->key, b->key);
}

static void hist_label(char *out, size_t n, int p)
{
	static const char *suf[] = { "", "K", "M", "G", "T", "P", "E" };
	snprintf(out, n, "%d%s", 1 << (p % 10), suf[p / 10]);
}

static void lhist_bound(char *out, size_t n, int64_t v)
{
	if (v == 0)
		snprintf(out, n, "0");
	else if (v % 1048576 == 0)
		snprintf(out, n, "%" PRId64 "M", v / 1048576);
	else if (v % 1024 == 0)
		snprintf(out, n, "%" PRId64 "K", v / 1024);
	else
		snprintf(out, n, "%" PRId64, v);
}

static void render_table(struct sb *b, const Map *m, const Ent *e, int div)
{
	int first = -1, last = -1;
	uint64_t maxc = 0;
	for (int i = 0; i < e->nb; i++) {
		if (!e->b[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (e->b[i] > maxc)
			maxc = e->b[i];
	}
	if (first < 0)
		return;
	for (int i = first; i <= last; i++) {
		char label[96], lo[32], hi[32];
		if (m->vk == V_HIST) {
			if (i == 0)
				snprintf(label, sizeof(label), "(..., 0)");
			else if (i == 1)
				snprintf(label, sizeof(label), "[0]");
			else if (i == 2)
				snprintf(label, sizeof(label), "[1]");
			else {
				hist_label(lo, sizeof(lo), i - 2);
				hist_label(hi, sizeof(hi), i - 1);
				snprintf(label, sizeof(label), "[%s, %s)", lo, hi);
			}
		} else {
			if (i == 0) {
				lhist_bound(lo, sizeof(lo), m->lmin);
				snprintf(label, sizeof(label), "(..., %s)", lo);
			} else if (i == e->nb - 1) {
				lhist_bound(lo, sizeof(lo), m->lmax);
				snprintf(label, sizeof(label), "[%s, ...)", lo);
			} else {
				lhist_bound(lo, sizeof(lo), m->lmin + (i - 1) * m->lstep);
				lhist_bound(hi, sizeof(hi), m->lmin + i * m->lstep);
				snprintf(label, sizeof(label), "[%s, %s)", lo, hi);
			}
		}
		uint64_t cnt = e->b[i];
		int bar = (int)((float)cnt / (float)maxc * 52);
		if (m->vk == V_HIST && div > 1)
			cnt /= (uint64_t)div;
		char bars[64];
		memset(bars, '@', (size_t)bar);
		bars[bar] = 0;
		sb_printf(b, "%-16s%8llu |%-52s|\n", label, (unsigned long long)cnt, bars);
	}
}

static void render_map(struct sb *b, const Map *m, int top, int div)
{
	Ent **v = xcalloc((size_t)m->nents + 1, sizeof(Ent *));
	int n = 0;
	for (int i = 0; i < m->nents; i++)
		if (m->ents[i].live)
			v[n++] = &m->ents[i];
	/* a keyless count() no delete() names is a per-CPU array, as in
	 * bpftrace 0.17: its one element always exists (0 before the first
	 * count and after clear()) */
	static Ent zero_ent;
	if (!n && m->vk == V_COUNT && !m->nk && !m->deleted)
		v[n++] = &zero_ent;
	sort_map = m;
	qsort(v, (size_t)n, sizeof(Ent *), ent_cmp);
	int start = top > 0 && top < n ? n - top : 0;
	if (div == 0)
		div = 1;
	for (int i = start; i < n; i++) {
		const Ent *e = v[i];
		if (i > start)
			sb_puts(b, "\n");
		sb_puts(b, m->name);
		if (m->nk) {
			sb_puts(b, "[");
			for (int j = 0; j < m->nk; j++) {
				if (j)
					sb_puts(b, ", ");
				val_text(b, &e->key[j]);
			}
			sb_puts(b, "]");
		}
		sb_puts(b, ": ");
		int64_t dv = div > 0 ? div : 1;
		switch (m->vk) {
		case V_INT:
		case V_STR:
		case V_TUP:
			if (m->vk == V_INT && dv > 1) {
				Val x = e->v;
				x.i = divmod(true, m->vt->sgn, x.i, (uint64_t)dv);
				val_text(b, &x);
			} else {
				val_text(b, &e->v);
			}
			break;
		case V_COUNT:
			sb_printf(b, "%" PRIu64, e->cnt / (uint64_t)dv);
			break;
		case V_SUM:
		case V_MIN:
		case V_MAX:
			sb_printf(b, "%" PRId64,
				  (int64_t)divmod(true, true, (uint64_t)e->sum, (uint64_t)dv));
			break;
		case V_AVG:
			sb_printf(b, "%" PRId64, ent_avg(e));
			break;
		case V_STATS:
			sb_printf(b, "count %" PRIu64 ", average %" PRId64 ", total %" PRId64,
				  e->cnt, ent_avg(e), e->sum);
			break;
		case V_HIST:
		case V_LHIST:
			sb_puts(b, "\n");
			render_table(b, m, e, div);
			break;
		}
	}
	sb_puts(b, "\n");
	if (m->vk == V_AVG || m->vk == V_STATS)
		sb_puts(b, "\n");
	free(v);
}

static void process_records(struct sb *out)
{
	for (int i = 0; i < nrecs; i++) {
		struct rec *r = &recs[i];
		switch (r->k) {
		case R_TEXT:
			sb_puts(out, r->text);
			break;
		case R_PRINTM:
			render_map(out, r->map, r->top, r->div);
			break;
		case R_CLEAR:
			map_clear(r->map);
			break;
		case R_ZERO:
			map_zero(r->map);
			break;
		}
	}
	nrecs = 0;
}

static int map_name_cmp(const void *a, const void *b)
{
	return strcmp((*(Map *const *)a)->name, (*(Map *const *)b)->name);
}

/* ---- whole programs ------------------------------------------------------------- */

struct probe {
	enum pkind pk;
	const char *spec;
	Expr *pred;
	Block body;
	bool live;
};

static const char *probe_spec(enum pkind pk)
{
	static char buf[64];
	switch (pk) {
	case P_BEGIN:
		return "BEGIN";
	case P_END:
		return "END";
	case P_INTERVAL:
		snprintf(buf, sizeof(buf), "interval:ms:%d", range(10, 5000));
		return buf;
	case P_PROFILE:
		snprintf(buf, sizeof(buf), "profile:hz:%d", range(1, 99));
		return buf;
	case P_GETPPID:
		return "tracepoint:syscalls:sys_enter_getppid";
	case P_SCHED:
		return "tracepoint:sched:sched_switch";
	case P_RAWSYS:
		return "tracepoint:raw_syscalls:sys_enter";
	case P_OPENAT:
		return "tracepoint:syscalls:sys_enter_openat";
	case P_EXECVE:
		return "tracepoint:syscalls:sys_enter_execve";
	default:
		return "BEGIN";
	}
}

static void gen_probe(struct probe *p, enum pkind pk, bool live, int nstmts, int depth)
{
	struct ctx c = { .pk = pk, .live = live };
	gen_allow_long = run_kind || chance(25);
	p->pk = pk;
	p->spec = xstrdup(probe_spec(pk));
	p->live = live;
	if (!live && pk != P_BEGIN && pk != P_END && chance(run_kind ? 100 : 55)) {
		/* predicates: comm filters, pid filters, && || */
		Expr *pred;
		if (run_kind) {
			Expr *cm = mk(X_RAW, &t_str);
			cm->s = xstrdup("comm");
			Expr *lit = mk(X_STR, &t_str);
			lit->s = xstrdup("trace_gen_none");
			pred = mk_bin(B_SEQ, cm, lit);
			if (chance(50))
				pred = mk_bin(B_LAND, pred, gen_int(&c, 1));
		} else {
			pred = gen_int(&c, 2);
			if (chance(40)) {
				Expr *cm = mk(X_RAW, &t_str);
				cm->s = xstrdup("comm");
				Expr *lit = mk(X_STR, &t_str);
				lit->s = rand_word(range(1, 15));
				Expr *a = mk_bin(chance(70) ? B_SEQ : B_SNE, cm, lit);
				pred = mk_bin(chance(50) ? B_LAND : B_LOR, a, pred);
			}
		}
		p->pred = pred;
	}
	gen_block(&c, &p->body, nstmts, depth);
}

/* gen_probe with a statement count and a depth drawn in a fixed order */
static void gen_probe_r(struct probe *p, enum pkind pk, bool live, int ns_lo, int ns_hi, int d_lo,
			int d_hi)
{
	int ns = range(ns_lo, ns_hi);
	int d = range(d_lo, d_hi);
	gen_probe(p, pk, live, ns, d);
}

static void pr_probe(struct sb *b, const struct probe *p)
{
	sb_puts(b, p->spec);
	if (p->pred) {
		sb_puts(b, " /");
		pr_expr(b, p->pred);
		sb_puts(b, "/");
	}
	sb_puts(b, " {\n");
	pr_block(b, &p->body, 1);
	sb_puts(b, "}\n");
}

static void usage(void)
{
	fprintf(stderr, "usage: trace_gen SEED [--kind dry|run] [--expect FILE] [--comm NAME] [--c-layout] [--short-jumps]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *expect = NULL;
	const char *kind = "dry";
	bool c_layout = false;
	if (argc < 2)
		usage();
	char *end;
	uint64_t seed = strtoull(argv[1], &end, 0);
	if (*end)
		usage();
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--kind") && i + 1 < argc)
			kind = argv[++i];
		else if (!strcmp(argv[i], "--expect") && i + 1 < argc)
			expect = argv[++i];
		else if (!strcmp(argv[i], "--comm") && i + 1 < argc)
			comm_name = argv[++i];
		else if (!strcmp(argv[i], "--c-layout"))
			c_layout = true;
		else if (!strcmp(argv[i], "--short-jumps"))
			gen_short_jumps = true;
		else
			usage();
	}
	if (strcmp(kind, "dry") && strcmp(kind, "run"))
		usage();
	run_kind = !strcmp(kind, "run");
	rng = seed * 0x2545f4914f6cdd1dull + (run_kind ? 77 : 13);

	int ns = range(1, 3);
	for (int i = 0; i < ns; i++)
		new_shape();

	gen_sdecls();
	if (c_layout) {
		struct sb c = { 0 };
		pr_sdecls_c(&c);
		fputs(c.p ? c.p : "", stdout);
		return 0;
	}

	struct probe probes[8] = { 0 };
	int np = 0;
	struct sb prog = { 0 };
	if (run_kind) {
		/* BEGIN { ... exit(); } [dead tracepoint] [END { ... }] */
		gen_probe_r(&probes[np], P_BEGIN, true, 4, 22, 1, 3);
		Stmt *ex = mk_stmt(S_EXIT);
		if (chance(20)) {
			/* exit() inside a condition that holds; what follows must not run */
			Stmt *iff = mk_stmt(S_IF);
			iff->e = mk_bin(B_GT, mk_int(range(1, 9)), mk_int(0));
			iff->then = xcalloc(1, sizeof(Block));
			block_add(iff->then, ex);
			block_add(&probes[np].body, iff);
			struct ctx c = { .pk = P_BEGIN, .live = true };
			block_add(&probes[np].body, gen_printf(&c, 1));
		} else {
			block_add(&probes[np].body, ex);
		}
		np++;
		if (chance(30)) {
			static const enum pkind dead[] = { P_GETPPID, P_OPENAT, P_SCHED, P_RAWSYS };
			enum pkind pk = dead[rnd(4)];
			gen_probe_r(&probes[np++], pk, false, 1, 6, 2, 2);
		}
		if (chance(50))
			gen_probe_r(&probes[np++], P_END, true, 1, 8, 1, 3);
	} else {
		int n = range(1, 4);
		if (chance(50))
			gen_probe_r(&probes[np++], P_BEGIN, false, 2, 6, 1, 2);
		for (int i = 0; i < n && np < 7; i++) {
			static const enum pkind kinds[] = { P_INTERVAL, P_PROFILE, P_GETPPID,
							    P_SCHED,	P_RAWSYS,  P_OPENAT,
							    P_OPENAT,	P_EXECVE };
			enum pkind pk = kinds[rnd(8)];
			gen_probe_r(&probes[np++], pk, false, 1, 4, 1, 2);
		}
		if (chance(40))
			gen_probe_r(&probes[np++], P_END, false, 1, 3, 1, 2);
	}
	pr_sdecls(&prog, false);
	if (macros_used)
		for (size_t i = 0; i < sizeof(macro_text) / sizeof(macro_text[0]); i++)
			sb_puts(&prog, macro_text[i]);
	/* map declarations of some keyed maps, as large as the default: the
	 * same behaviour, through `let @m = KIND(N);` */
	for (int i = 0; i < nmaps; i++) {
		Map *m = maps[i];
		if (!m->declared || !m->nk || !chance(25))
			continue;
		bool agg = m->vk >= V_COUNT;
		static const char *const kinds[2][2] = { { "hash", "lruhash" },
							 { "percpuhash", "percpulruhash" } };
		sb_printf(&prog, "let %s = %s(4096);\n", m->name, kinds[agg][rnd(2)]);
	}
	for (int i = 0; i < np; i++)
		pr_probe(&prog, &probes[i]);
	fputs(prog.p, stdout);

	if (!expect)
		return 0;
	FILE *f = fopen(expect, "w");
	if (!f) {
		perror(expect);
		return 2;
	}
	if (!run_kind) {
		fclose(f);
		return 0;
	}
	struct sb out = { 0 };
	sb_printf(&out, "Attaching %d probe%s...\n", np, np == 1 ? "" : "s");
	for (int i = 0; i < np; i++) {
		if (!probes[i].live)
			continue;
		exited = false;
		exec_block(&probes[i].body);
		process_records(&out);
	}
	sb_puts(&out, "\n\n");
	Map *sorted[MAXMAPS];
	memcpy(sorted, maps, sizeof(Map *) * (size_t)nmaps);
	qsort(sorted, (size_t)nmaps, sizeof(Map *), map_name_cmp);
	for (int i = 0; i < nmaps; i++)
		if (sorted[i]->declared)
			render_map(&out, sorted[i], 0, 1);
	fputs(out.p, f);
	fclose(f);
	return 0;
}
