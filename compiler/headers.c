/* headers.c: C headers through libclang (the clang-c API), loaded at need.
 *
 * In: the preprocessor's prelude, C text such as
 *     #define _GNU_SOURCE 1
 *     #include "/usr/include/linux/fcntl.h"
 * Out: the headers' macros (as struct cpp_macro, read from the
 * translation unit's preprocessing record when the script first uses a
 * name), their enum constants, and the layout of their named structs and
 * unions (hdr_struct_lookup).
 *
 * libclang-19 is dlopen'ed (RTLD_LAZY: binding its and libLLVM's symbols up front
 * cost ~50 ms more) at the first parse: linking it would cost every
 * run its relocations (~10 ms), and most scripts include no header. The
 * headers are parsed for the host (x86-64, glibc), as a C compiler on this
 * machine sees them, with function bodies skipped. Any error in them is
 * the script's error, reported with clang's own message.
 *
 * Not here: turning struct layouts into trace types (that is the type
 * system's; see hdr_struct_lookup in headers.h).
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <clang-c/Index.h>

#include "compiler/headers.h"

/* The clang-c functions used, each found with dlsym. */
/* clang-format off */
#define LIBCLANG_FUNCTIONS(X) \
	X(clang_createIndex) \
	X(clang_disposeIndex) \
	X(clang_parseTranslationUnit2) \
	X(clang_disposeTranslationUnit) \
	X(clang_getTranslationUnitCursor) \
	X(clang_visitChildren) \
	X(clang_getCursorKind) \
	X(clang_getCursorSpelling) \
	X(clang_getCString) \
	X(clang_disposeString) \
	X(clang_Cursor_isMacroFunctionLike) \
	X(clang_Cursor_isMacroBuiltin) \
	X(clang_getCursorLocation) \
	X(clang_Location_isFromMainFile) \
	X(clang_getFileLocation) \
	X(clang_getCursorExtent) \
	X(clang_tokenize) \
	X(clang_getTokenSpelling) \
	X(clang_disposeTokens) \
	X(clang_getEnumConstantDeclValue) \
	X(clang_getNumDiagnostics) \
	X(clang_getDiagnostic) \
	X(clang_getDiagnosticSeverity) \
	X(clang_formatDiagnostic) \
	X(clang_disposeDiagnostic) \
	X(clang_getCursorType) \
	X(clang_Type_getSizeOf) \
	X(clang_Type_getAlignOf) \
	X(clang_getTypeSpelling) \
	X(clang_Cursor_getOffsetOfField) \
	X(clang_Cursor_isBitField) \
	X(clang_getFieldDeclBitWidth) \
	X(clang_getCanonicalType) \
	X(clang_getTypeDeclaration) \
	X(clang_Cursor_isAnonymous) \
	X(clang_isInvalidDeclaration) \
	X(clang_getDiagnosticLocation) \
	X(clang_getExpansionLocation)
/* clang-format on */

#define FN(name) __typeof__(name) *name;
static struct {
	void *dl;
	LIBCLANG_FUNCTIONS(FN)
} lc;
#undef FN

struct entry {
	char *name;
	CXCursor cur;
	int64_t value;		 /* enum constants */
	struct cpp_macro *macro; /* built at the first lookup */
	struct hdr_struct *st;	 /* built at the first lookup */
};

struct table {
	struct entry *v;
	size_t cap, n;
};

static struct {
	CXIndex index;
	CXTranslationUnit tu;
	struct table macros, enums, structs, values;
	/* macro probes of the current parse: names[k] is __trace_c_k */
	const char *const *names;
	size_t nnames;
	bool *bad;	     /* probe k had an error: its macro has no value */
	unsigned probe_line; /* first line of the probes in the main file */
	struct hdr_stats stats;
	bool load_failed;
} h;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- loading libclang ---- */

static int load(char *err, size_t errlen)
{
	static const char *const names[] = { "libclang-19.so.19",
					     "libclang-19.so.1",
					     "libclang.so.19",
					     "/usr/lib/llvm-19/lib/libclang.so.1",
					     "/usr/lib/llvm-19/lib/libclang-19.so",
					     NULL };
	if (lc.dl)
		return 0;
	if (h.load_failed)
		goto fail;
	double t0 = now_ms();
	for (int i = 0; names[i] && !lc.dl; i++)
		lc.dl = dlopen(names[i], RTLD_LAZY | RTLD_LOCAL);
	if (!lc.dl)
		goto fail;
#define SYM(name) { #name, (void **)&lc.name },
	static const struct {
		const char *name;
		void **slot;
	} syms[] = { LIBCLANG_FUNCTIONS(SYM) };
#undef SYM
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
		if (!(*syms[i].slot = dlsym(lc.dl, syms[i].name)))
			goto fail;
	h.stats.ms_load = now_ms() - t0;
	return 0;
fail:
	snprintf(err, errlen,
		 "cannot read C headers: libclang 19 could not be loaded (%s); install "
		 "libclang-19-dev (scripts/deps.sh)",
		 lc.dl ? "a symbol is missing" : "libclang-19.so.19 not found");
	if (lc.dl)
		dlclose(lc.dl);
	memset(&lc, 0, sizeof(lc));
	h.load_failed = true;
	return -1;
}

/* ---- name tables ---- */

static uint64_t hash(const char *s)
{
	uint64_t x = 1469598103934665603ull;
	for (; *s; s++)
		x = (x ^ (unsigned char)*s) * 1099511628211ull;
	return x;
}

static struct entry *find(const struct table *t, const char *name)
{
	if (!t->cap)
		return NULL;
	for (size_t i = hash(name) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (!t->v[i].name)
			return NULL;
		if (!strcmp(t->v[i].name, name))
			return &t->v[i];
	}
}

/* The entry for name, new or the one there (a later definition wins). */
static struct entry *put(struct table *t, const char *name)
{
	if ((t->n + 1) * 2 > t->cap) {
		struct table nt = { calloc(t->cap ? t->cap * 2 : 1024, sizeof(struct entry)),
				    t->cap ? t->cap * 2 : 1024, 0 };
		if (!nt.v)
			return NULL;
		for (size_t i = 0; i < t->cap; i++)
			if (t->v[i].name) {
				size_t j = hash(t->v[i].name) & (nt.cap - 1);
				while (nt.v[j].name)
					j = (j + 1) & (nt.cap - 1);
				nt.v[j] = t->v[i];
				nt.n++;
			}
		free(t->v);
		*t = nt;
	}
	size_t i = hash(name) & (t->cap - 1);
	for (; t->v[i].name; i = (i + 1) & (t->cap - 1))
		if (!strcmp(t->v[i].name, name))
			return &t->v[i];
	t->v[i].name = strdup(name);
	if (!t->v[i].name)
		return NULL;
	t->n++;
	return &t->v[i];
}

static void free_struct(struct hdr_struct *st)
{
	if (!st)
		return;
	for (int i = 0; i < st->nfields; i++) {
		free((char *)st->fields[i].name);
		free((char *)st->fields[i].type);
	}
	free(st->fields);
	free((char *)st->name);
	free(st);
}

static void free_macro(struct cpp_macro *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->nparams; i++)
		free((char *)m->params[i]);
	free(m->params);
	free((char *)m->body);
	free(m);
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->cap; i++) {
		free(t->v[i].name);
		free_macro(t->v[i].macro);
		free_struct(t->v[i].st);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* ---- reading the translation unit ---- */

static char *spelling(CXCursor c)
{
	CXString s = lc.clang_getCursorSpelling(c);
	char *r = strdup(lc.clang_getCString(s) ? lc.clang_getCString(s) : "");
	lc.clang_disposeString(s);
	return r;
}

#define PROBE "__trace_c_"

/* enum { __trace_c_K = (NAME) }: NAME's value, unless clang said no. */
static void record_probe(CXCursor c, const char *name)
{
	char *end;
	unsigned long k = strtoul(name + strlen(PROBE), &end, 10);
	if (*end || k >= h.nnames || h.bad[k] || lc.clang_isInvalidDeclaration(c))
		return;
	struct entry *e = put(&h.values, h.names[k]);
	if (e)
		e->value = lc.clang_getEnumConstantDeclValue(c);
}

static bool in_header(CXCursor c)
{
	CXSourceLocation loc = lc.clang_getCursorLocation(c);
	CXFile file = NULL;
	lc.clang_getFileLocation(loc, &file, NULL, NULL, NULL);
	return file && !lc.clang_Location_isFromMainFile(loc);
}

static enum CXChildVisitResult visit(CXCursor c, CXCursor parent, CXClientData data)
{
	(void)parent;
	(void)data;
	enum CXCursorKind k = lc.clang_getCursorKind(c);
	struct table *t =
		k == CXCursor_MacroDefinition  ? &h.macros :
		k == CXCursor_EnumConstantDecl ? &h.enums :
		(k == CXCursor_StructDecl || k == CXCursor_UnionDecl || k == CXCursor_TypedefDecl) ?
						 &h.structs :
						 NULL;
	/* the script's own #defines (the prelude is the main file) are the
	 * preprocessor's; builtins and predefined macros (__GNUC__, but also
	 * `linux` and `unix`, which would eat script identifiers) are no
	 * header's */
	if (k == CXCursor_MacroDefinition && (lc.clang_Cursor_isMacroBuiltin(c) || !in_header(c)))
		return CXChildVisit_Continue;
	char *name = t ? spelling(c) : NULL;
	if (name && k == CXCursor_EnumConstantDecl && !strncmp(name, PROBE, strlen(PROBE))) {
		record_probe(c, name);
		free(name);
		return CXChildVisit_Continue;
	}
	if (name && name[0] && !strchr(name, ' ')) {
		struct entry *e = put(t, name);
		if (e) {
			free_macro(e->macro);
			e->macro = NULL;
			e->cur = c;
			if (k == CXCursor_EnumConstantDecl)
				e->value = lc.clang_getEnumConstantDeclValue(c);
		}
	}
	free(name);
	/* enum constants are file-scope even inside structs */
	if (k == CXCursor_EnumDecl || k == CXCursor_StructDecl || k == CXCursor_UnionDecl)
		return CXChildVisit_Recurse;
	return CXChildVisit_Continue;
}

/* The first error clang reported, as "file:line:col: message". */
static bool first_error(char *err, size_t errlen)
{
	unsigned n = lc.clang_getNumDiagnostics(h.tu);
	for (unsigned i = 0; i < n; i++) {
		CXDiagnostic d = lc.clang_getDiagnostic(h.tu, i);
		bool bad = lc.clang_getDiagnosticSeverity(d) >= CXDiagnostic_Error;
		CXSourceLocation loc = lc.clang_getDiagnosticLocation(d);
		CXFile file = NULL;
		unsigned line = 0;
		lc.clang_getExpansionLocation(loc, &file, &line, NULL, NULL);
		if (bad && file && lc.clang_Location_isFromMainFile(loc) && line >= h.probe_line) {
			/* a macro that is no integer constant: it expands as text */
			if ((line - h.probe_line) / 3 < h.nnames)
				h.bad[(line - h.probe_line) / 3] = true;
			bad = false;
		} else if (bad) {
			CXString s = lc.clang_formatDiagnostic(
				d, CXDiagnostic_DisplaySourceLocation | CXDiagnostic_DisplayColumn);
			snprintf(err, errlen, "in C headers: %s", lc.clang_getCString(s));
			lc.clang_disposeString(s);
		}
		lc.clang_disposeDiagnostic(d);
		if (bad)
			return true;
	}
	return false;
}

static void drop_tu(void)
{
	table_free(&h.macros);
	table_free(&h.enums);
	table_free(&h.structs);
	table_free(&h.values);
	free(h.bad);
	h.bad = NULL;
	if (h.tu)
		lc.clang_disposeTranslationUnit(h.tu);
	h.tu = NULL;
}

/* The prelude, then for every script identifier that is a macro there
 * a probe of three lines whose enum constant clang evaluates:
 *   #ifdef NAME / enum { __trace_c_K = (NAME) }; / #endif */
static char *with_probes(const char *prelude, const char *const *names, size_t nnames)
{
	size_t len = strlen(prelude) + 2, lines = 1;
	for (size_t k = 0; k < nnames; k++)
		len += 2 * strlen(names[k]) + 64;
	char *text = malloc(len), *p = text;
	if (!text)
		return NULL;
	p += sprintf(p, "%s\n", prelude);
	for (const char *q = text; *q; q++)
		lines += *q == '\n';
	h.probe_line = (unsigned)lines;
	for (size_t k = 0; k < nnames; k++)
		p += sprintf(p, "#ifdef %s\nenum { " PROBE "%zu = (%s) };\n#endif\n", names[k], k,
			     names[k]);
	return text;
}

static int parse(void *ctx, const char *prelude, const char *const *names, size_t nnames,
		 const char *const *incdirs, int nincdirs, char *err, size_t errlen)
{
	(void)ctx;
	if (load(err, errlen))
		return -1;
	double t0 = now_ms();
	drop_tu();
	char *text = with_probes(prelude, names, nnames);
	h.bad = calloc(nnames + 1, sizeof(*h.bad));
	h.names = names;
	h.nnames = nnames;
	if (!text || !h.bad) {
		free(text);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!h.index)
		h.index = lc.clang_createIndex(0, 0);
	const char *args[64 + 8] = { "-x", "c", "-std=gnu11", "-ferror-limit=0", "-w" };
	int nargs = 5;
	char *dirs[64];
	int ndirs = 0;
	for (int i = 0; i < nincdirs && ndirs < 64; i++)
		if ((dirs[ndirs] = malloc(strlen(incdirs[i]) + 3)))
			sprintf(dirs[ndirs], "-I%s", incdirs[i]), args[nargs++] = dirs[ndirs++];
	if (access("/usr/lib/llvm-19/lib/clang/19/include", R_OK) == 0) {
		args[nargs++] = "-resource-dir";
		args[nargs++] = "/usr/lib/llvm-19/lib/clang/19";
	}
	struct CXUnsavedFile uf = { "/trace-script-headers.c", text, (unsigned long)strlen(text) };
	enum CXErrorCode ec = lc.clang_parseTranslationUnit2(
		h.index, uf.Filename, args, nargs, &uf, 1,
		CXTranslationUnit_DetailedPreprocessingRecord |
			CXTranslationUnit_SkipFunctionBodies | CXTranslationUnit_Incomplete,
		&h.tu);
	for (int i = 0; i < ndirs; i++)
		free(dirs[i]);
	free(text);
	int rc = 0;
	if (ec != CXError_Success || !h.tu) {
		snprintf(err, errlen, "in C headers: libclang could not parse them (error %d)", ec);
		h.tu = NULL;
		rc = -1;
	} else if (first_error(err, errlen)) {
		rc = -1;
	} else {
		lc.clang_visitChildren(lc.clang_getTranslationUnitCursor(h.tu), visit, NULL);
		h.stats.nmacros = (int)h.macros.n;
		h.stats.nenums = (int)h.enums.n;
		h.stats.nstructs = (int)h.structs.n;
	}
	h.names = NULL; /* the caller's; the values table has copies */
	h.nnames = 0;
	h.stats.nparses++;
	h.stats.ms_parse += now_ms() - t0;
	return rc;
}

/* ---- macros ---- */

static bool tok_is(CXToken t, CXTranslationUnit tu, const char *s, char **spell_out)
{
	CXString sp = lc.clang_getTokenSpelling(tu, t);
	const char *c = lc.clang_getCString(sp);
	bool r = c && !strcmp(c, s);
	if (spell_out)
		*spell_out = strdup(c ? c : "");
	lc.clang_disposeString(sp);
	return r;
}

/* A macro definition's tokens: NAME [( params )] body. */
static struct cpp_macro *build_macro(struct entry *e)
{
	CXToken *toks = NULL;
	unsigned n = 0, i = 1;
	struct cpp_macro *m = calloc(1, sizeof(*m));
	size_t blen = 0, bcap = 64;
	char *body = malloc(bcap), *sp;

	if (!m || !body)
		goto fail;
	body[0] = '\0';
	m->name = e->name;
	m->nparams = -1;
	lc.clang_tokenize(h.tu, lc.clang_getCursorExtent(e->cur), &toks, &n);
	if (lc.clang_Cursor_isMacroFunctionLike(e->cur)) {
		m->nparams = 0;
		m->params = calloc(n, sizeof(*m->params));
		if (!m->params)
			goto fail;
		for (i = 2; i < n; i++) {
			if (tok_is(toks[i], h.tu, ")", NULL)) {
				i++;
				break;
			}
			if (tok_is(toks[i], h.tu, ",", NULL))
				continue;
			if (tok_is(toks[i], h.tu, "...", NULL)) {
				m->variadic = true;
				m->params[m->nparams++] = strdup("__VA_ARGS__");
				continue;
			}
			tok_is(toks[i], h.tu, "", &sp);
			m->params[m->nparams++] = sp;
		}
	}
	for (; i < n; i++) {
		tok_is(toks[i], h.tu, "", &sp);
		size_t l = sp ? strlen(sp) : 0;
		if (blen + l + 2 > bcap) {
			while (blen + l + 2 > bcap)
				bcap *= 2;
			char *nb = realloc(body, bcap);
			if (!nb) {
				free(sp);
				goto fail;
			}
			body = nb;
		}
		if (blen)
			body[blen++] = ' ';
		memcpy(body + blen, sp ? sp : "", l);
		blen += l;
		body[blen] = '\0';
		free(sp);
	}
	if (toks)
		lc.clang_disposeTokens(h.tu, toks, n);
	m->body = body;
	return m;
fail:
	if (toks)
		lc.clang_disposeTokens(h.tu, toks, n);
	free(body);
	if (m)
		m->name = NULL;
	free_macro(m);
	return NULL;
}

static const struct cpp_macro *macro(void *ctx, const char *name)
{
	(void)ctx;
	struct entry *e = find(&h.macros, name);
	if (!e || !h.tu)
		return NULL;
	if (!e->macro)
		e->macro = build_macro(e);
	return e->macro;
}

static bool macro_value(void *ctx, const char *name, int64_t *value)
{
	(void)ctx;
	struct entry *e = find(&h.values, name);
	if (!e)
		return false;
	*value = e->value;
	return true;
}

static bool enum_value(void *ctx, const char *name, int64_t *value)
{
	(void)ctx;
	struct entry *e = find(&h.enums, name);
	if (!e)
		return false;
	*value = e->value;
	return true;
}

/* ---- structs ---- */

static char *type_spelling(CXType t)
{
	CXString s = lc.clang_getTypeSpelling(t);
	char *r = strdup(lc.clang_getCString(s) ? lc.clang_getCString(s) : "");
	lc.clang_disposeString(s);
	return r;
}

struct fields_ctx {
	struct hdr_struct *st;
	CXType parent;
	int cap;
};

static enum CXChildVisitResult visit_field(CXCursor c, CXCursor parent, CXClientData data)
{
	(void)parent;
	struct fields_ctx *fc = data;
	if (lc.clang_getCursorKind(c) != CXCursor_FieldDecl)
		return CXChildVisit_Continue;
	struct hdr_struct *st = fc->st;
	if (st->nfields == fc->cap) {
		int cap = fc->cap ? fc->cap * 2 : 8;
		struct hdr_field *f = realloc(st->fields, (size_t)cap * sizeof(*f));
		if (!f)
			return CXChildVisit_Break;
		st->fields = f;
		fc->cap = cap;
	}
	struct hdr_field *f = &st->fields[st->nfields++];
	CXType ft = lc.clang_getCursorType(c);
	long long bits = lc.clang_Cursor_getOffsetOfField(c);
	long long size = lc.clang_Type_getSizeOf(ft);
	memset(f, 0, sizeof(*f));
	f->name = spelling(c);
	f->type = type_spelling(ft);
	f->offset = bits >= 0 ? (uint64_t)bits / 8 : 0;
	f->size = size >= 0 ? (uint64_t)size : 0;
	if (lc.clang_Cursor_isBitField(c)) {
		f->bit_offset = bits >= 0 ? (unsigned)(bits % 8) : 0;
		f->bit_size = (unsigned)lc.clang_getFieldDeclBitWidth(c);
	}
	return CXChildVisit_Continue;
}

static struct hdr_struct *build_struct(struct entry *e)
{
	CXType t = lc.clang_getCanonicalType(lc.clang_getCursorType(e->cur));
	CXCursor decl = lc.clang_getTypeDeclaration(t);
	enum CXCursorKind k = lc.clang_getCursorKind(decl);
	if (k != CXCursor_StructDecl && k != CXCursor_UnionDecl)
		return NULL;
	long long size = lc.clang_Type_getSizeOf(t);
	if (size < 0) /* incomplete */
		return NULL;
	struct hdr_struct *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->name = strdup(e->name);
	st->is_union = k == CXCursor_UnionDecl;
	st->size = (uint64_t)size;
	long long al = lc.clang_Type_getAlignOf(t);
	st->align = al > 0 ? (uint64_t)al : 1;
	struct fields_ctx fc = { st, t, 0 };
	lc.clang_visitChildren(decl, visit_field, &fc);
	return st;
}

const struct hdr_struct *hdr_struct_lookup(const char *name)
{
	struct entry *e = h.tu ? find(&h.structs, name) : NULL;
	if (!e)
		return NULL;
	if (!e->st)
		e->st = build_struct(e);
	return e->st;
}

/* ---- the provider ---- */

const struct cpp_header_ops *hdr_ops(void)
{
	static const struct cpp_header_ops ops = { parse, macro, enum_value, macro_value, NULL };
	return &ops;
}

void hdr_close(void)
{
	if (!lc.dl)
		return;
	drop_tu();
	if (h.index)
		lc.clang_disposeIndex(h.index);
	h.index = NULL;
}

void hdr_get_stats(struct hdr_stats *s)
{
	*s = h.stats;
}
