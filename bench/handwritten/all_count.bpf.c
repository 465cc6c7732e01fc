// SPDX-License-Identifier: GPL-2.0
/* tracepoint:syscalls:sys_enter_* { @ = count(); } BEGIN { exit(); }
 * One program, attached to every tracepoint the loader's -a pattern matches. */
#define WANT_RINGBUF
#define WANT_BEGIN
#include "bench.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} count SEC(".maps");

SEC("tracepoint")
int each(void *ctx)
{
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(&count, &zero);
	if (v)
		*v += 1;
	return 0;
}
