/* test_uelf.c: compiler/uelf.c without root: USDT argument specs (x86-64
 * operands), the provider table's lookups, and the ELF reader on the test
 * binary itself (its main, with a size and a file offset). Exits non-zero
 * if any CHECK fails.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "compiler/uelf.h"
#include "runtime/provider.h"

#include "tests/unit/check.h"

static void test_usdt_args(void)
{
	struct uelf_usdt_arg a;
	const char *why;
	const char *spec = "-4@%edi 8@-8(%rbp) -2@$-5 1@16(%rax,%rbx,8) 8@(%r12) 4@sym(%rip)";
	CHECK(uelf_usdt_arg(spec, 0, &a, &why) == 0 && a.kind == UELF_ARG_REG && a.reg == 112 &&
	      a.size == 4 && a.is_signed);
	CHECK(uelf_usdt_arg(spec, 1, &a, &why) == 0 && a.kind == UELF_ARG_MEM && a.reg == 32 &&
	      a.index == -1 && a.value == -8 && a.size == 8 && !a.is_signed);
	CHECK(uelf_usdt_arg(spec, 2, &a, &why) == 0 && a.kind == UELF_ARG_IMM && a.value == -5 &&
	      a.size == 2);
	CHECK(uelf_usdt_arg(spec, 3, &a, &why) == 0 && a.kind == UELF_ARG_MEM && a.reg == 80 &&
	      a.index == 40 && a.scale == 8 && a.value == 16 && a.size == 1);
	CHECK(uelf_usdt_arg(spec, 4, &a, &why) == 0 && a.kind == UELF_ARG_MEM && a.reg == 24 &&
	      a.value == 0);
	CHECK(uelf_usdt_arg(spec, 5, &a, &why) == -EINVAL && strstr(why, "rip"));
	CHECK(uelf_usdt_arg(spec, 6, &a, &why) == -ENOENT);
	CHECK(uelf_usdt_arg("%r15", 0, &a, &why) == 0 && a.reg == 0 && a.size == 8); /* no size */
	CHECK(uelf_usdt_arg("-4@%xyz", 0, &a, &why) == -EINVAL);
	CHECK(uelf_usdt_arg("3@%rax", 0, &a, &why) == -EINVAL);
	CHECK(uelf_usdt_arg("", 0, &a, &why) == -ENOENT);
}

static void test_providers(void)
{
	CHECK(pv_by_name("U") == pv_by_name("usdt") && pv_by_name("u") == pv_by_name("uprobe"));
	CHECK(pv_by_name("kfunc")->kind == PD_PROBE_FENTRY);
	CHECK(!pv_by_name("kprobx"));
	CHECK(pv_is_path_provider("ur", 2) && !pv_is_path_provider("k", 1));
	CHECK(!strcmp(pv_spelling(0), "BEGIN") && !strcmp(pv_spelling(1), "begin"));
	CHECK(pv_by_kind(PD_PROBE_URETPROBE)->builtins & PV_B_RETURN);
	CHECK(!strcmp(pv_by_kind(PD_PROBE_USDT)->section, "uprobe"));
}

static void test_own_symbols(void)
{
	struct arena a = { 0 };
	struct uelf_sym *syms;
	int n = uelf_functions(&a, "/proc/self/exe", &syms), found = 0;
	CHECK(n > 0);
	for (int i = 0; i < n; i++)
		if (!strcmp(syms[i].name, "main")) {
			found++;
			CHECK(syms[i].size > 0 && syms[i].file_off > 0);
			CHECK(uelf_sym_matches(&syms[i], "ma*n"));
			uint64_t prev = 0;
			CHECK(uelf_insn_boundary(&syms[i], "/proc/self/exe", 0, &prev) == 1);
			CHECK(uelf_insn_boundary(&syms[i], "/proc/self/exe", syms[i].size, &prev) <
			      0);
		}
	CHECK(found == 1);
	CHECK(uelf_functions(&a, "/nonexistent", &syms) == -ENOENT);
	const char *why;
	CHECK(!uelf_resolve_target(&a, "/nonexistent/x", 0, &why) && *why);
	CHECK(uelf_resolve_target(&a, "libc", 0, &why) != NULL);
	arena_free(&a);
}

int main(void)
{
	test_usdt_args();
	test_providers();
	test_own_symbols();
	if (failures)
		fprintf(stderr, "test_uelf: %d failures\n", failures);
	return failures != 0;
}
