/* test_usyms.c: runtime/usyms.c without root, on this process itself:
 * its own functions (PIE: the load bias), a libc function (a shared
 * library: dynsym or its debug file), an address in no mapping, and a
 * process that is gone; bpftrace's text for each. Exits non-zero if any
 * CHECK fails.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/usyms.h"

#include "tests/unit/check.h"

__attribute__((noinline, used)) int usyms_probe_target(int x);
__attribute__((noinline, used)) int usyms_probe_target(int x)
{
	__asm__ volatile("" ::: "memory");
	return x + 1;
}

static void test_self(struct rt_usyms *u)
{
	uint32_t pid = (uint32_t)getpid();
	uintptr_t fn = (uintptr_t)usyms_probe_target;
	const char *name, *module;
	uint64_t off;
	char buf[256];

	CHECK(rt_usym_lookup(u, pid, fn, &name, &off, &module) && !strcmp(name, "usyms_probe_target") &&
	      off == 0 && strstr(module, "test_usyms"));
	CHECK(rt_usym_lookup(u, pid, fn + 3, &name, &off, &module) && off == 3);
	rt_usym_format(u, buf, sizeof(buf), pid, fn + 3, true, false);
	CHECK(!strcmp(buf, "usyms_probe_target+3"));
	rt_usym_format(u, buf, sizeof(buf), pid, fn, false, false);
	CHECK(!strcmp(buf, "usyms_probe_target"));
	rt_usym_format(u, buf, sizeof(buf), pid, fn, true, true);
	CHECK(!strncmp(buf, "usyms_probe_target+0 (/", 23) && strstr(buf, "/test_usyms)"));
	/* libc: getpid is exported (.dynsym) */
	CHECK(rt_usym_lookup(u, pid, (uintptr_t)getpid, &name, &off, &module) && off == 0 &&
	      strstr(name, "getpid") && strstr(module, "libc"));
	/* the stack is no file mapping; 0x1234 is in none */
	rt_usym_format(u, buf, sizeof(buf), pid, 0x1234, true, false);
	CHECK(!strcmp(buf, "0x1234"));
	rt_usym_format(u, buf, sizeof(buf), pid, 0x1234, true, true);
	CHECK(!strcmp(buf, "0x1234 ([unknown])"));
	rt_usym_format(u, buf, sizeof(buf), pid, 0, false, false);
	CHECK(!strcmp(buf, "0"));
	/* cut to the buffer */
	CHECK(rt_usym_format(u, buf, 6, pid, fn, false, false) == 5 && !strcmp(buf, "usyms"));
}

/* A child noted while it lives is still resolved after it exited: it
 * runs this same binary, so usyms_probe_target is at the same address
 * (fork keeps the mappings). */
static void test_gone(struct rt_usyms *u)
{
	int pipefd[2];
	char c;
	const char *name, *module;
	uint64_t off;
	pid_t child;

	if (pipe(pipefd))
		return;
	child = fork();
	if (child == 0) {
		close(pipefd[1]);
		if (read(pipefd[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(pipefd[0]);
	rt_usyms_note_pid(u, (uint32_t)child);
	close(pipefd[1]);
	waitpid(child, NULL, 0);
	CHECK(rt_usym_lookup(u, (uint32_t)child, (uintptr_t)usyms_probe_target + 1, &name, &off,
			     &module) &&
	      !strcmp(name, "usyms_probe_target") && off == 1);
	/* a pid never seen and gone: nothing */
	CHECK(!rt_usym_lookup(u, 4194303, (uintptr_t)usyms_probe_target, &name, &off, &module));
}

int main(void)
{
	struct rt_usyms *u = rt_usyms_new();

	CHECK(u);
	if (u) {
		test_self(u);
		test_gone(u);
	}
	rt_usyms_free(u);
	if (failures)
		fprintf(stderr, "test_usyms: %d failures\n", failures);
	return failures != 0;
}
