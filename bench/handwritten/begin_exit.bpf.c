// SPDX-License-Identifier: GPL-2.0
/* BEGIN { exit(); } */
#define WANT_RINGBUF
#define WANT_BEGIN
#include "bench.bpf.h"
