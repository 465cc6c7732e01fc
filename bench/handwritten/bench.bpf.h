/* Maps and helpers shared by the hand-written BPF programs: what a careful
 * engineer writes with libbpf's bpf_helpers.h, no vmlinux.h. Tracepoint
 * contexts are declared from /sys/kernel/tracing/events/.../format. */
#ifndef BENCH_BPF_H
#define BENCH_BPF_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "common.h"

char LICENSE[] SEC("license") = "GPL";

/* raw_syscalls:sys_enter */
struct sys_enter_ctx {
	unsigned long long common; /* common_type, flags, preempt_count, pid */
	long id;
	unsigned long args[6];
};

/* syscalls:sys_enter_openat */
struct sys_enter_openat_ctx {
	unsigned long long common;
	int nr;
	int pad;
	long dfd;
	const char *filename;
	long flags;
	long mode;
};

#ifdef WANT_RINGBUF
/* Same size as trace's ring buffer (1 MiB). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* Wake-up policy for records: by default (RB_BATCH unset) as trace does,
 * libbpf's default: the kernel wakes the consumer whenever it has caught
 * up, so a fast consumer costs the producer a wake-up (irq_work) for
 * nearly every record. With RB_BATCH: no wake-up until RB_BATCH bytes are
 * waiting; the consumer's 100 ms poll timeout picks up the rest. */
#ifdef RB_BATCH
#define RB_FLAGS() (bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA) >= (RB_BATCH) ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP)
#else
#define RB_FLAGS() 0
#endif

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(&lost, &zero);
	if (v)
		*v += 1;
}

#endif

#ifdef WANT_BEGIN
/* BEGIN { exit(); }: run once by the loader with BPF_PROG_TEST_RUN. */
SEC("raw_tp")
int begin(void *ctx)
{
	struct rec_exit r = { .type = REC_EXIT };
	if (bpf_ringbuf_output(&rb, &r, sizeof r, 0))
		count_lost();
	return 0;
}
#endif

/* Per-CPU increment of a per-CPU hash entry, inserting it on a miss. */
#define PERCPU_HASH_INC(map, key)                                            \
	do {                                                                  \
		__u64 *v_ = bpf_map_lookup_elem(&(map), (key));               \
		if (v_) {                                                     \
			*v_ += 1;                                             \
		} else {                                                      \
			__u64 one_ = 1;                                       \
			if (bpf_map_update_elem(&(map), (key), &one_, BPF_NOEXIST)) { \
				v_ = bpf_map_lookup_elem(&(map), (key));      \
				if (v_)                                       \
					*v_ += 1;                             \
			}                                                     \
		}                                                             \
	} while (0)

#endif
