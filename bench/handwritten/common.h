/* Shared by the hand-written BPF programs and loader.c. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define REC_EXIT 1    /* exit(): stop the loader */
#define REC_SYSCALL 2 /* printf("%s %d %ld\n", comm, pid, args->id) */
#define REC_OPENAT 3  /* printf("%s %s\n", comm, str(args->filename)) */

#define STR_LEN 64 /* bpftrace's default str() size */
#define HIST_SLOTS 66

struct rec_exit {
	unsigned int type;
};

struct rec_syscall {
	unsigned int type;
	unsigned int pid;
	long long id;
	char comm[16];
};

struct rec_openat {
	unsigned int type;
	char comm[16];
	char filename[STR_LEN];
};

#endif
