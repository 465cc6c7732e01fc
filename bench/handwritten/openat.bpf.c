// SPDX-License-Identifier: GPL-2.0
/* tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm, str(args->filename)); }
 * BEGIN { exit(); } */
#define WANT_RINGBUF
#define WANT_BEGIN
#include "bench.bpf.h"

SEC("tracepoint/syscalls/sys_enter_openat")
int openat(struct sys_enter_openat_ctx *ctx)
{
	struct rec_openat *r = bpf_ringbuf_reserve(&rb, sizeof *r, 0);
	if (!r) {
		count_lost();
		return 0;
	}
	r->type = REC_OPENAT;
	bpf_get_current_comm(r->comm, sizeof r->comm);
	if (bpf_probe_read_user_str(r->filename, sizeof r->filename, ctx->filename) < 0)
		r->filename[0] = 0;
	bpf_ringbuf_submit(r, RB_FLAGS());
	return 0;
}
