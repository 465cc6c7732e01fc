/* test_features.c: runtime/features.c against the real kernel.
 *
 * The facts checked are those of the development machine and of CI (the
 * same kind of VM): Linux 6.18 without CONFIG_KPROBES and CONFIG_FPROBE,
 * fentry loads refused with EPERM, everything else a 6.18 kernel has. The
 * probes load BPF programs, so most checks need root; without it the test
 * checks only what needs no privilege and prints SKIP for the rest.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/features.h"

#include "tests/unit/check.h"

static char *report(const struct rt_features *f)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (!out)
		return NULL;
	rt_features_print(out, f);
	fclose(out);
	return text;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, line, n) && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

static bool has_prefix_line(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, n))
			return true;
	return false;
}

/* Open fds: a probe that leaks one leaves a program, map or link behind. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Overrides for tests, and the cache: needs no privilege. */
static void test_overrides(void)
{
	setenv("TRACE_BTF", "/nonexistent", 1);
	setenv("TRACE_NO_RINGBUF", "1", 1);
	rt_features_reset();
	CHECK(!rt_feature_btf());
	CHECK(strstr(rt_feature_reason(RT_FEAT_BTF), "TRACE_BTF=/nonexistent: ENOENT"));
	CHECK(rt_feature_vmlinux_btf() == NULL);
	CHECK(!rt_feature_ringbuf());
	CHECK(!strcmp(rt_feature_reason(RT_FEAT_RINGBUF), "TRACE_NO_RINGBUF is set"));
	CHECK(!rt_feature(RT_FEAT_TP_BTF));
	CHECK(!strncmp(rt_feature_reason(RT_FEAT_TP_BTF), "no BTF: ", 8));
	CHECK(!rt_feature_fentry());

	/* cached: changing the environment alone changes nothing */
	unsetenv("TRACE_BTF");
	unsetenv("TRACE_NO_RINGBUF");
	CHECK(!rt_feature_btf());
	CHECK(!rt_feature_ringbuf());

	struct rt_features f;
	setenv("TRACE_BTF", "/nonexistent", 1);
	setenv("TRACE_NO_RINGBUF", "1", 1);
	rt_features_reset();
	CHECK(rt_features_probe(&f) == 0);
	CHECK(!f.btf && !f.ringbuf && !f.tp_btf && !f.fentry);
	CHECK(!strcmp(f.btf_path, "/nonexistent"));
	char *text = report(&f);
	CHECK(text && has_line(text, "  btf: no (TRACE_BTF=/nonexistent: ENOENT)"));
	CHECK(text && has_line(text, "  btf_path: /nonexistent"));
	CHECK(text && has_line(text, "  ringbuf: no (TRACE_NO_RINGBUF is set)"));
	CHECK(text && !has_prefix_line(text, "  LLVM: "));
	free(text);
	snprintf(f.llvm_version, sizeof(f.llvm_version), "19.1.7");
	text = report(&f);
	CHECK(text && has_line(text, "  LLVM: 19.1.7"));
	free(text);

	unsetenv("TRACE_BTF");
	unsetenv("TRACE_NO_RINGBUF");
	rt_features_reset();
}

static void test_this_kernel(void)
{
	struct rt_features f;
	int fds = count_fds();

	CHECK(rt_features_probe(&f) == 0);
	CHECK(count_fds() == fds);
	printf("features probed in %.1f ms\n", f.probe_ms);
	CHECK(f.probe_ms > 0 && f.probe_ms < 2000);
	CHECK(!strncmp(f.kernel_release, "6.", 2));

	/* what any 6.18 kernel has, as root */
	CHECK(f.btf && !strcmp(f.btf_path, "/sys/kernel/btf/vmlinux"));
	CHECK(rt_feature_vmlinux_btf() != NULL);
	CHECK(f.ringbuf && f.perf_buffer && f.percpu_array);
	CHECK(f.raw_tp && f.tp_btf && f.uprobes && f.perf_sw);
	CHECK(f.bounded_loops && f.bpf_loop && f.attach_cookie && f.isa_v4);
	for (int i = 0; i < RT_FEAT_COUNT; i++)
		CHECK(rt_feature((enum rt_feature)i) == !f.reason[i][0]); /* a reason iff no */

	/* what this kernel's config lacks */
	CHECK(!f.kprobes && !f.kretprobes);
	CHECK(strstr(f.reason[RT_FEAT_KPROBES], "/sys/bus/event_source/devices/kprobe missing"));
	CHECK(!f.kprobe_multi);
	CHECK(strstr(f.reason[RT_FEAT_KPROBE_MULTI], "EOPNOTSUPP"));
	CHECK(!f.fentry);
	CHECK(!strcmp(f.reason[RT_FEAT_FENTRY], "BPF_PROG_LOAD fentry vfs_read: EPERM"));

	/* the individual probes answer from the same cache */
	CHECK(rt_feature_kprobes() == f.kprobes && rt_feature_fentry() == f.fentry);
	CHECK(rt_feature_ringbuf() == f.ringbuf && rt_feature_btf() == f.btf);
	CHECK(!strcmp(rt_feature_reason(RT_FEAT_KPROBES), f.reason[RT_FEAT_KPROBES]));
	CHECK(!rt_feature(RT_FEAT_COUNT) && !strcmp(rt_feature_reason(RT_FEAT_COUNT), ""));

	char *text = report(&f);
	CHECK(text != NULL);
	if (!text)
		return;
	CHECK(has_line(text, "System") && has_prefix_line(text, "  OS: Linux 6."));
	CHECK(has_line(text, "Kernel features") && has_line(text, "Map types") &&
	      has_line(text, "Probe types"));
	CHECK(has_line(text, "  btf: yes") &&
	      has_line(text, "  btf_path: /sys/kernel/btf/vmlinux"));
	CHECK(has_line(text, "  ringbuf: yes") && has_line(text, "  raw_tp: yes") &&
	      has_line(text, "  perf_sw: yes") && has_line(text, "  tp_btf: yes"));
	CHECK(has_line(text, "  fentry: no (BPF_PROG_LOAD fentry vfs_read: EPERM)"));
	CHECK(has_prefix_line(text, "  kprobes: no (") &&
	      has_prefix_line(text, "  kprobe_multi: no (BPF_LINK_CREATE kprobe_multi vfs_read: "));
	CHECK(has_prefix_line(text, "Features probed in "));
	free(text);
	rt_features_reset();
}

int main(void)
{
	test_overrides();
	if (geteuid() != 0)
		printf("SKIP: test_features: probing the kernel needs root (loads BPF programs)\n");
	else
		test_this_kernel();
	if (failures)
		fprintf(stderr, "test_features: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
