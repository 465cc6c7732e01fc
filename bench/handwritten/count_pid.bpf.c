// SPDX-License-Identifier: GPL-2.0
/* tracepoint:raw_syscalls:sys_enter /pid == X/ { @ = count(); }
 * X is set by the loader (-p) before load; a frozen .rodata constant, so the
 * verifier and JIT see a literal, as in a compiled script. */
#include "bench.bpf.h"

const volatile __u32 target_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} count SEC(".maps");

SEC("tracepoint/raw_syscalls/sys_enter")
int count_pid(void *ctx)
{
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_pid)
		return 0;
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(&count, &zero);
	if (v)
		*v += 1;
	return 0;
}
