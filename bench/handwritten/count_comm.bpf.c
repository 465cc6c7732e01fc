// SPDX-License-Identifier: GPL-2.0
/* tracepoint:raw_syscalls:sys_enter { @[comm] = count(); } */
#include "bench.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, char[16]);
	__type(value, __u64);
} counts SEC(".maps");

SEC("tracepoint/raw_syscalls/sys_enter")
int count_comm(void *ctx)
{
	char comm[16];
	bpf_get_current_comm(comm, sizeof comm); /* zero-pads to 16 bytes */
	PERCPU_HASH_INC(counts, comm);
	return 0;
}
