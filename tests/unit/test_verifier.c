/* test_verifier.c: verifier logs -> failing instruction, reason, rule.
 * The logs are shaped like the kernel's (6.x) level-1 logs. The rejection
 * that no tracing program of trace can get (a helper reading unwritten
 * stack, docs/kernel.md) is covered only here, in both wordings (before
 * and since 6.14); the others also by tests/runtime/verifier.test. */
#include <stdio.h>
#include <string.h>

#include "runtime/verifier.h"

#include "tests/unit/check.h"

struct log_case {
	const char *log;
	int insn;
	const char *reason_prefix;
	const char *rule;
};

static const struct log_case cases[] = {
	{ "0: R1=ctx() R10=fp0\n0: (b7) r1 = 0\n1: (7b) *(u64 *)(r10 -8) = r1\n"
	  "2: (bf) r2 = r10\n3: (07) r2 += -16\n4: (18) r1 = 0xffff888100000000\n"
	  "6: (85) call bpf_map_lookup_elem#1\ninvalid indirect read from stack R2 off -16+0 size 16\n"
	  "processed 6 insns (limit 1000000) max_states_per_insn 0 total_states 0\n",
	  6, "invalid indirect read from stack", "uninitialized-stack" },
	/* captured on 6.18 as root: a raw_tp program using a dynptr's stack
	 * slots as a map key (trace never makes dynptrs) */
	{ "15: (18) r1 = 0xffff88812b90c800      ; R1=map_ptr(map=k16,ks=16,vs=8)\n"
	  "17: (bf) r2 = r10                     ; R2=fp0 R10=fp0\n"
	  "18: (07) r2 += -16                    ; R2=fp-16\n"
	  "19: (85) call bpf_map_lookup_elem#1\n"
	  "invalid read from stack R2 off -16+0 size 16\n"
	  "processed 16 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0\n",
	  19, "invalid read from stack R2 off -16", "uninitialized-stack" },
	{ "6: (85) call bpf_map_lookup_elem#1\ninvalid read from stack R2 var_off (0x0; 0x8)+0 size 8\n",
	  6, "invalid read from stack R2 var_off", "uninitialized-stack" },
	/* out of the 512-byte frame: 6.18 and pre-6.14 wordings */
	{ "1: (7b) *(u64 *)(r10 -824) = r1\ninvalid write to stack R10 off=-824 size=8\n", 1,
	  "invalid write to stack R10 off=-824", "stack-limit" },
	{ "9: (85) call bpf_map_lookup_elem#1\ninvalid read from stack R2 off=-600 size=8\n", 9,
	  "invalid read from stack R2 off=-600", "stack-limit" },
	{ "9: (85) call bpf_map_lookup_elem#1\ninvalid indirect access to stack R2 off=-600 size=8\n", 9,
	  "invalid indirect access to stack", "stack-limit" },
	{ "39: (85) call bpf_probe_read_kernel_str#115\ninvalid write to stack R1 off=-256 size=1024\n", 39,
	  "invalid write to stack R1 off=-256", "length-overrun" },
	{ "4: (85) call bpf_probe_read_kernel#113\ninvalid write to stack R1 off=-8 size=16\n", 4,
	  "invalid write to stack R1 off=-8", "length-overrun" },
	{ "4: (85) call bpf_probe_read_kernel#113\ninvalid variable-offset write to stack R1 var_off=(0x0; 0xff) off=-8 size=8\n",
	  4, "invalid variable-offset", "mem-bounds" },
	{ "12: (0f) r0 += r1\nR0 unbounded memory access, make sure to bounds check any such access\n"
	  "processed 13 insns\n", 12, "R0 unbounded memory access", "unbounded-access" },
	{ "30: (85) call bpf_probe_read_kernel#113\nR2 min value is negative, either use unsigned or 'var &= const'\n",
	  30, "R2 min value is negative", "negative-offset" },
	{ "combined stack size of 2 calls is 544. Too large\n", -1, "combined stack size", "stack-limit" },
	{ "BPF program is too large. Processed 1000001 insn\nprocessed 1000001 insns (limit 1000000)\n",
	  -1, "BPF program is too large", "too-complex" },
	{ "7: (61) r2 = *(u32 *)(r1 +0)\nR1 invalid mem access 'scalar'\n", 7, "R1 invalid mem access",
	  "direct-deref" },
	{ "9: (85) call bpf_map_lookup_elem#1\nR2 type=ctx expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_\n",
	  9, "R2 type=ctx expected=", "wrong-arg-type" },
	{ "jump out of range from insn 4 to 900\n", 4, "jump out of range", "bad-jump" },
	{ "insn 2115 cannot be patched due to 16-bit range\n", -1, "insn 2115 cannot", "bad-jump" },
	{ "0: (85) call bpf_skb_cgroup_id#79\nprogram of this type cannot use helper bpf_skb_cgroup_id#79\n",
	  0, "program of this type cannot use helper", "helper-not-allowed" },
	{ "13: (85) call bpf_map_lookup_elem#1\nR2 min value is negative, either use unsigned or 'var &= const'\n",
	  13, "R2 min value is negative", "negative-offset" },
	{ "20: (0f) r1 += r0\nmath between map_value pointer and register with unbounded min value is not allowed\n",
	  20, "math between map_value pointer", "negative-offset" },
	{ "3: (85) call bpf_skb_load_bytes#26\nunknown func bpf_skb_load_bytes#26\n", 3,
	  "unknown func", "helper-not-allowed" },
	{ "17: (95) exit\nUnreleased reference id=2 alloc_insn=8\n", 8, "Unreleased reference",
	  "unreleased-reference" },
	{ "11: (79) r1 = *(u64 *)(r0 +0)\nR0 invalid mem access 'map_value_or_null'\n", 11,
	  "R0 invalid mem access 'map_value_or_null'", "null-check" },
	{ "5: (bf) r1 = r2\nR2 !read_ok\n", 5, "R2 !read_ok", "uninitialized-register" },
	{ "", -1, "", "other" },
};

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rt_verifier_error e;
		rt_verifier_parse(cases[i].log, &e);
		if (e.insn != cases[i].insn || strncmp(e.reason, cases[i].reason_prefix,
						       strlen(cases[i].reason_prefix)) ||
		    strcmp(e.rule, cases[i].rule))
			fprintf(stderr, "case %zu: insn %d reason '%s' rule %s\n", i, e.insn, e.reason,
				e.rule);
		CHECK(e.insn == cases[i].insn);
		CHECK(!strncmp(e.reason, cases[i].reason_prefix, strlen(cases[i].reason_prefix)));
		CHECK(!strcmp(e.rule, cases[i].rule));
		CHECK(e.explain && e.explain[0]);
	}
	struct rt_verifier_error e;
	rt_verifier_parse(NULL, &e);
	CHECK(e.insn == -1 && !strcmp(e.rule, "other"));
	uint32_t line, col;
	CHECK(rt_btf_line_of("not an elf", 10, "p0", 3, &line, &col) < 0);
	if (failures)
		fprintf(stderr, "test_verifier: %d check(s) failed\n", failures);
	else
		printf("test_verifier: ok\n");
	return failures != 0;
}
