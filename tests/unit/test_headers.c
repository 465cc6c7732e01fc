/* test_headers.c: compiler/headers.c against the real libclang-19.
 *
 * Parses a header the test writes (and <linux/fcntl.h>) and checks what
 * the preprocessor and the type system get from it: object- and
 * function-like macros with their parameters and bodies, enum constants,
 * struct and union layouts (offsets, sizes, bit-fields, typedef names),
 * clang's first error for a broken header, and that the tables are gone
 * after hdr_close(). Skips (exit 0, with a note) when libclang cannot be
 * loaded. Exits non-zero if any CHECK fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler/headers.h"

#include "tests/unit/check.h"

static const char header[] =
	"#define MY_CONST 42\n"
	"#define MY_ADD(a, b) ((a) + (b))\n"
	"#define MY_LOG(fmt, ...) printf(fmt, __VA_ARGS__)\n"
	"#define MY_CAST ((unsigned char)0x1ff + sizeof(int))\n"
	"#define MY_STRING \"text\"\n"
	"enum color { RED, GREEN = 5, BLUE };\n"
	"struct point { char tag; int x; long y; unsigned flags : 3, more : 5; };\n"
	"typedef union { int i; char c[6]; } small_t;\n"
	"struct outer { struct point p; short s[3]; };\n";

static const struct hdr_field *field(const struct hdr_struct *st, const char *name)
{
	for (int i = 0; st && i < st->nfields; i++)
		if (!strcmp(st->fields[i].name, name))
			return &st->fields[i];
	return NULL;
}

static void test_header(const struct cpp_header_ops *ops, const char *path)
{
	char prelude[512], err[1024] = "";
	snprintf(prelude, sizeof(prelude),
		 "#define BEFORE 1\n#include \"%s\"\n"
		 "#include <linux/fcntl.h>\n",
		 path);
	static const char *const names[] = { "BEFORE",	  "MY_ADD",  "MY_CAST", "MY_CONST",
					     "MY_STRING", "O_CREAT", "int",	"pid" };
	CHECK(ops->parse(ops->ctx, prelude, names, 8, NULL, 0, err, sizeof(err)) == 0);
	if (err[0])
		fprintf(stderr, "parse: %s\n", err);

	const struct cpp_macro *m = ops->macro(ops->ctx, "MY_CONST");
	CHECK(m && m->nparams == -1 && !strcmp(m->body, "42"));
	m = ops->macro(ops->ctx, "MY_ADD");
	CHECK(m && m->nparams == 2 && !strcmp(m->params[0], "a") && !strcmp(m->params[1], "b") &&
	      !strcmp(m->body, "( ( a ) + ( b ) )"));
	m = ops->macro(ops->ctx, "MY_LOG");
	CHECK(m && m->variadic && m->nparams == 2 && !strcmp(m->params[1], "__VA_ARGS__"));
	m = ops->macro(ops->ctx, "O_CREAT");
	CHECK(m && !strcmp(m->body, "00000100"));
	/* the prelude's own #define is the script's, not the headers' */
	CHECK(ops->macro(ops->ctx, "BEFORE") == NULL);
	CHECK(ops->macro(ops->ctx, "__STDC__") == NULL); /* predefined */
	CHECK(ops->macro(ops->ctx, "linux") == NULL);

	int64_t v = 0;
	/* clang's values of the named object-like macros that have one */
	bool has_cast = ops->value(ops->ctx, "MY_CAST", &v);
	if (!has_cast || v != 255 + 4)
		fprintf(stderr, "MY_CAST: %d %lld\n", has_cast, (long long)v);
	CHECK(has_cast && v == 255 + 4);
	CHECK(ops->value(ops->ctx, "MY_CONST", &v) && v == 42);
	CHECK(ops->value(ops->ctx, "O_CREAT", &v) && v == 64);
	CHECK(!ops->value(ops->ctx, "MY_STRING", &v));
	CHECK(!ops->value(ops->ctx, "MY_ADD", &v));	      /* function-like */
	CHECK(!ops->value(ops->ctx, "BEFORE", &v) || v == 1); /* the script's */
	CHECK(!ops->value(ops->ctx, "MY_LOG", &v));	      /* not in names */
	CHECK(ops->enum_value(ops->ctx, "GREEN", &v) && v == 5);
	CHECK(ops->enum_value(ops->ctx, "BLUE", &v) && v == 6);
	CHECK(!ops->enum_value(ops->ctx, "PURPLE", &v));

	const struct hdr_struct *st = hdr_struct_lookup("point");
	CHECK(st && !st->is_union && st->size == 24 && st->align == 8 && st->nfields == 5);
	const struct hdr_field *f = field(st, "x");
	CHECK(f && f->offset == 4 && f->size == 4 && !strcmp(f->type, "int"));
	f = field(st, "y");
	CHECK(f && f->offset == 8 && f->size == 8 && !strcmp(f->type, "long"));
	f = field(st, "more");
	CHECK(f && f->offset == 16 && f->bit_offset == 3 && f->bit_size == 5);
	st = hdr_struct_lookup("small_t");
	CHECK(st && st->is_union && st->size == 8 && st->nfields == 2);
	st = hdr_struct_lookup("outer");
	f = field(st, "s");
	CHECK(st && st->size == 32 && f && f->offset == 24 && f->size == 6 &&
	      !strcmp(f->type, "short[3]"));
	CHECK(hdr_struct_lookup("nothing") == NULL);

	struct hdr_stats s;
	hdr_get_stats(&s);
	CHECK(s.nparses >= 1 && s.nmacros > 3 && s.nenums >= 3);
	hdr_close();
	CHECK(hdr_struct_lookup("point") == NULL);
}

static void test_error(const struct cpp_header_ops *ops, const char *path)
{
	char prelude[512], err[1024] = "";
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs("int broken(;\n", f);
	fclose(f);
	snprintf(prelude, sizeof(prelude), "#include \"%s\"\n", path);
	CHECK(ops->parse(ops->ctx, prelude, NULL, 0, NULL, 0, err, sizeof(err)) != 0);
	CHECK(strstr(err, "in C headers: ") && strstr(err, "error:"));
	hdr_close();
}

int main(void)
{
	const struct cpp_header_ops *ops = hdr_ops();
	char path[] = "/tmp/test_headers.XXXXXX", err[256] = "";
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, header, sizeof(header) - 1) != (ssize_t)sizeof(header) - 1) {
		perror("test header");
		return 1;
	}
	close(fd);
	if (ops->parse(ops->ctx, "", NULL, 0, NULL, 0, err, sizeof(err)) &&
	    strstr(err, "libclang 19")) {
		printf("SKIP: %s\n", err);
		unlink(path);
		return 0;
	}
	hdr_close();
	test_header(ops, path);
	test_error(ops, path);
	unlink(path);
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures != 0;
}
