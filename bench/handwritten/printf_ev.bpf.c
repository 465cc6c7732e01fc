// SPDX-License-Identifier: GPL-2.0
/* tracepoint:raw_syscalls:sys_enter /pid == X/ { printf("%s %d %ld\n", comm, pid, args->id); } */
#define WANT_RINGBUF
#include "bench.bpf.h"

const volatile __u32 target_pid = 0;

SEC("tracepoint/raw_syscalls/sys_enter")
int printf_ev(struct sys_enter_ctx *ctx)
{
	__u64 pt = bpf_get_current_pid_tgid();
	if ((__u32)(pt >> 32) != target_pid)
		return 0;
	struct rec_syscall *r = bpf_ringbuf_reserve(&rb, sizeof *r, 0);
	if (!r) {
		count_lost();
		return 0;
	}
	r->type = REC_SYSCALL;
	r->pid = (__u32)(pt >> 32);
	r->id = ctx->id;
	bpf_get_current_comm(r->comm, sizeof r->comm);
	bpf_ringbuf_submit(r, RB_FLAGS());
	return 0;
}
