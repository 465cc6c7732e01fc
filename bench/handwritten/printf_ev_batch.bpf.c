// SPDX-License-Identifier: GPL-2.0
/* printf_ev.bpf.c with batched wake-ups (see RB_FLAGS in bench.bpf.h). */
#define RB_BATCH (256 * 1024)
#include "printf_ev.bpf.c"
