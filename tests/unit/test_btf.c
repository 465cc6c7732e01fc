/* test_btf.c: kernel types from BTF (compiler/btf.c), without root.
 *
 * A small BTF built in memory with libbpf's writer API stands in for
 * vmlinux: a struct with ints, bitfields, an anonymous union, a char
 * array, a pointer to itself and an array; a typedef; an enum; a kernel
 * function and a raw tracepoint typedef. A fake kernel_info hands it out.
 */
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>

#include "compiler/btf.h"

#include "tests/unit/check.h"

static struct btf *fake;

static const struct btf *fake_btf(struct kernel_info *ki, const char **why)
{
	(void)ki;
	*why = fake ? "" : "none here";
	return fake;
}

static void build(void)
{
	struct btf *b = btf__new_empty();
	int i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	int u32 = btf__add_int(b, "unsigned int", 4, 0);
	int i64 = btf__add_int(b, "long", 8, BTF_INT_SIGNED);
	int chr = btf__add_int(b, "char", 1, BTF_INT_SIGNED);
	int u64 = btf__add_int(b, "unsigned long", 8, 0);
	int name_arr = btf__add_array(b, i32, chr, 8);
	int u64_arr = btf__add_array(b, i32, u64, 1);
	int un = btf__add_union(b, NULL, 8);
	btf__add_field(b, "l", i64, 0, 0);
	btf__add_field(b, "c", chr, 0, 0);
	/* struct node { int a; unsigned flag:1; int neg:3; union { long l; char c; };
	 *               char name[8]; struct node *next; unsigned long arr[1]; } */
	int node = btf__add_struct(b, "node", 40);
	int node_ptr = node + 1; /* the next type added, right after the fields */
	btf__add_field(b, "a", i32, 0, 0);
	btf__add_field(b, "flag", u32, 32, 1);
	btf__add_field(b, "neg", i32, 33, 3);
	btf__add_field(b, NULL, un, 64, 0);
	btf__add_field(b, "name", name_arr, 128, 0);
	btf__add_field(b, "next", node_ptr, 192, 0);
	btf__add_field(b, "arr", u64_arr, 256, 0);
	CHECK(btf__add_ptr(b, node) == node_ptr);
	btf__add_typedef(b, "node_t", node);
	btf__add_enum(b, "color", 4);
	btf__add_enum_value(b, "RED", 1);
	btf__add_enum_value(b, "BLUE", 7);
	int proto = btf__add_func_proto(b, i32);
	btf__add_func_param(b, "n", node_ptr);
	btf__add_func_param(b, "count", u64);
	btf__add_func(b, "do_node", BTF_FUNC_GLOBAL, proto);
	/* a raw tracepoint: void (*)(void *__data, int) */
	int vptr = btf__add_ptr(b, 0);
	int tproto = btf__add_func_proto(b, 0);
	btf__add_func_param(b, "", vptr);
	btf__add_func_param(b, "", i32);
	btf__add_typedef(b, "btf_trace_node_event", btf__add_ptr(b, tproto));
	fake = b;
}

int main(void)
{
	struct arena a = { 0 };
	struct kernel_info ki = { .vmlinux_btf = fake_btf };
	const char *why = NULL;
	CHECK(!kbtf_open(&ki, &a, &why) && why && !strcmp(why, "none here"));

	build();
	struct kbtf *kb = kbtf_open(&ki, &a, &why);
	CHECK(kb != NULL);
	if (!kb)
		return 1;

	struct type *n = kbtf_type(kb, "node", true);
	CHECK(n && n->kind == TY_RECORD && n->size == 40 && !strcmp(n->name, "node"));
	CHECK(!n->fields_loaded);
	CHECK(kbtf_type(kb, "node_t", false) == n); /* typedef, same record */
	CHECK(kbtf_type(kb, "nope", true) == NULL);
	CHECK(kbtf_fields(kb, n));
	const char *names[] = { "a", "flag", "neg", "l", "c", "name", "next", "arr" };
	uint32_t offs[] = { 0, 4, 4, 8, 8, 16, 24, 32 };
	CHECK(n->nfields == 8);
	for (uint32_t i = 0; i < n->nfields && i < 8; i++) {
		CHECK(!strcmp(n->fields[i].name, names[i]));
		CHECK(n->fields[i].offset == offs[i]);
	}
	if (n->nfields == 8) {
		CHECK(n->fields[0].type->kind == TY_INT && n->fields[0].type->size == 4 &&
		      n->fields[0].type->is_signed);
		CHECK(n->fields[1].bit_offset == 0 && n->fields[1].bit_size == 1 &&
		      !n->fields[1].type->is_signed);
		CHECK(n->fields[2].bit_offset == 1 && n->fields[2].bit_size == 3 &&
		      n->fields[2].type->is_signed);
		CHECK(n->fields[3].type->size == 8);
		CHECK(n->fields[5].type->kind == TY_STR && n->fields[5].type->size == 8);
		CHECK(n->fields[6].type->kind == TY_PTR && n->fields[6].type->elem == n);
		CHECK(n->fields[7].type->kind == TY_ARRAY && n->fields[7].type->len == 1);
	}

	/* a struct known by name first (curtask's), resolved on use */
	struct type *lazy = kbtf_lazy_struct(&a, "node");
	CHECK(lazy->size == 0 && kbtf_fields(kb, lazy) && lazy->size == 40 && lazy->nfields == 8);
	CHECK(!kbtf_fields(kb, kbtf_lazy_struct(&a, "missing")));

	int64_t v = 0;
	struct type *et = NULL;
	CHECK(kbtf_enum_value(kb, "BLUE", &v, &et) && v == 7 && et && et->size == 4);
	CHECK(!kbtf_enum_value(kb, "GREEN", &v, &et));

	const char *near[3];
	CHECK(kbtf_closest_structs(kb, "nodd", near, 3) == 1 && !strcmp(near[0], "node"));

	struct type *ret = NULL;
	struct type *ctx = kbtf_func_ctx(kb, "do_node", &ret, &why);
	CHECK(ctx && ctx->kind == TY_CTX && ctx->ctx_u64_args && ctx->nfields == 2 && ctx->size == 16);
	if (ctx && ctx->nfields == 2) {
		CHECK(!strcmp(ctx->fields[0].name, "n") && ctx->fields[0].offset == 0 &&
		      ctx->fields[0].type->kind == TY_PTR && ctx->fields[0].type->elem == n);
		CHECK(!strcmp(ctx->fields[1].name, "count") && ctx->fields[1].offset == 8);
	}
	CHECK(ret && ret->kind == TY_INT && ret->size == 4);
	CHECK(!kbtf_func_ctx(kb, "no_func", &ret, &why) && why && *why);

	struct type *rt = kbtf_rawtp_ctx(kb, "node_event", &why);
	CHECK(rt && rt->nfields == 1 && rt->fields[0].offset == 0 &&
	      !strcmp(rt->fields[0].name, "arg0") && rt->fields[0].type->size == 4);

	btf__free(fake);
	arena_free(&a);
	if (failures) {
		fprintf(stderr, "test_btf: %d failure(s)\n", failures);
		return 1;
	}
	printf("test_btf: ok\n");
	return 0;
}
