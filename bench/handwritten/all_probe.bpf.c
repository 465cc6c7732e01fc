// SPDX-License-Identifier: GPL-2.0
/* tracepoint:syscalls:sys_enter_* { @[probe] = count(); } BEGIN { exit(); }
 * One program for all tracepoints: the loader attaches it with the index
 * of the tracepoint as BPF cookie, which is the key. */
#define WANT_RINGBUF
#define WANT_BEGIN
#include "bench.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} pcounts SEC(".maps");

SEC("tracepoint")
int each(void *ctx)
{
	__u64 key = bpf_get_attach_cookie(ctx);
	PERCPU_HASH_INC(pcounts, &key);
	return 0;
}
