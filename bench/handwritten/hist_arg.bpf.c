// SPDX-License-Identifier: GPL-2.0
/* tracepoint:raw_syscalls:sys_enter { @ = hist(args->args[0]); }
 * Buckets as bpftrace's: 0 negative, 1 zero, 2 + floor(log2(n)). */
#include "bench.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HIST_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hist SEC(".maps");

static __always_inline __u32 log2_slot(long long n)
{
	if (n < 0)
		return 0;
	if (n == 0)
		return 1;
	unsigned long long v = (unsigned long long)n;
	__u32 r = 0;
	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { r += 1; }
	return r + 2;
}

SEC("tracepoint/raw_syscalls/sys_enter")
int hist_arg(struct sys_enter_ctx *ctx)
{
	__u32 slot = log2_slot((long long)ctx->args[0]);
	__u64 *v = bpf_map_lookup_elem(&hist, &slot);
	if (v)
		*v += 1;
	return 0;
}
