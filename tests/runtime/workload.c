/* workload.c: deterministic events for the runtime tests.
 *
 *   trace_workload getppid N      N getppid() calls
 *   trace_workload faults N       N read faults and N write faults on fresh pages
 *   trace_workload open PATH      open and close PATH once
 *   trace_workload sleep MS       sleep MS milliseconds
 *   trace_workload comm NAME MODE ARG...
 *                                 set the comm to NAME (prctl, at most 15
 *                                 bytes), then run MODE: a comm of its own
 *                                 keeps a case's events apart from the
 *                                 dynamic loader's and other workloads'
 *   trace_workload opens PATH...  open and close each PATH once, in order
 *   trace_workload pread PATH COUNT N
 *                                 open PATH, then N pread(fd, buf, COUNT, 0)
 *                                 calls (COUNT at most 4096): vfs_read's
 *                                 count is COUNT, its return the bytes read
 *   trace_workload sysargs N      N getppid() calls with the six syscall
 *                                 arguments 10, 11, 12, 13, 14, 15 (seen by
 *                                 raw_syscalls:sys_enter as args->args[])
 *   trace_workload uprobe N       N calls of workload_target(&v, "hello
 *                                 uprobe", i) for i = 0..N-1, v = 1000 + i
 *                                 (a uprobe target with user pointers)
 *   trace_workload struct N       N calls of workload_struct(&r, i) with a
 *                                 struct of known values (struct_decl.test)
 *   trace_workload sysmix N       N rounds of syscalls that fail, with
 *                                 known arguments: read(-1, NULL, 7),
 *                                 write(-1, NULL, 9), close(-1),
 *                                 fadvise64(-1, 3, 5, 0) (EBADF, -9: fd is
 *                                 an unsigned int in the first three, an
 *                                 int in fadvise64), sendto(-1, 0x10, 11,
 *                                 12, 0x13, 14) (EBADF), access(SYSMIX_PATH,
 *                                 4) and faccessat(AT_FDCWD, SYSMIX_PATH, 2)
 *                                 (ENOENT, -2)
 *   trace_workload kinsn FUNC     print two offsets into kernel function FUNC
 *                                 (its code read from /proc/kcore): the
 *                                 first instruction after the ftrace call
 *                                 (and endbr64, with IBT), and one inside
 *                                 that call: kprobe:FUNC+OFF cases
 *   trace_workload int80 N        N 32-bit (ia32) getppid calls through
 *                                 int $0x80 (ia32 number 64, which is semget
 *                                 in the 64-bit table): the kernel's
 *                                 syscalls:* events ignore them
 *
 * Its comm is "trace_workload" (unless renamed with `comm`), which the
 * tests filter on.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SYSMIX_PATH "/nonexistent/trace-sysmix"

static void faults(long n)
{
	long page = sysconf(_SC_PAGESIZE);
	volatile char *p = mmap(NULL, 2 * n * page, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	/* One fault per page also where transparent huge pages are "always"
	 * (Debian's 6.1 and 6.12 kernels; this machine's 6.18 says "madvise"):
	 * a 2 MB page would take 512 pages' faults at once. */
	madvise((void *)p, 2 * n * page, MADV_NOHUGEPAGE);
	long sum = 0;
	for (long i = 0; i < n; i++) {
		sum += p[2 * i * page];
		p[(2 * i + 1) * page] = 1;
	}
	munmap((void *)p, 2 * n * page);
	(void)sum;
}

/* The uprobe target: not inlined, not static, so its symbol stays. */
long workload_target(long *p, const char *s, long i);
__attribute__((noinline, used)) long workload_target(long *p, const char *s, long i)
{
	__asm__ volatile("" : : "r"(p), "r"(s), "r"(i) : "memory");
	return *p + i;
}

/* The struct uprobe target (mode "struct"): a C struct with mixed sizes,
 * padding, an array, a nested struct, a union and bit-fields, read by
 * struct_decl.test through a script struct declaring the same layout. */
struct wl_inner {
	short s;
	long long ll;
};
struct wl_rec {
	char c;			     /* 0, then 3 bytes of padding */
	int i;			     /* 4 */
	unsigned char u8;	     /* 8 */
	short arr[3];		     /* 10 */
	char name[12];		     /* 16 */
	struct wl_inner in;	     /* 32: s at 32, ll at 40 */
	unsigned int b1 : 3, b2 : 9; /* 48 */
	int b3 : 20;		     /* 49, bit 4 */
	union {
		unsigned int w;
		unsigned char bytes[4];
	} un;		     /* 52 */
	struct wl_rec *next; /* 56 */
};			     /* 64 */
long workload_struct(struct wl_rec *r, long i);
__attribute__((noinline, used)) long workload_struct(struct wl_rec *r, long i)
{
	__asm__ volatile("" : : "r"(r), "r"(i) : "memory");
	return r->i + i;
}

/* Reads n bytes of kernel memory at addr from /proc/kcore (an ELF core
 * whose PT_LOAD segments map kernel addresses). */
static int kcore_read(unsigned long long addr, unsigned char *buf, size_t n)
{
	int fd = open("/proc/kcore", O_RDONLY);
	Elf64_Ehdr eh;
	if (fd < 0 || pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
		return -1;
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != (ssize_t)sizeof(ph))
			break;
		if (ph.p_type == PT_LOAD && addr >= ph.p_vaddr && addr + n <= ph.p_vaddr + ph.p_memsz) {
			ssize_t r = pread(fd, buf, n, (off_t)(ph.p_offset + (addr - ph.p_vaddr)));
			close(fd);
			return r == (ssize_t)n ? 0 : -1;
		}
	}
	close(fd);
	return -1;
}

static int kinsn(const char *func)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[512], type, name[256];
	unsigned long long addr = 0, a;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %255s", &a, &type, name) == 3 && (type == 't' || type == 'T') &&
		    !strcmp(name, func)) {
			addr = a;
			break;
		}
	if (f)
		fclose(f);
	unsigned char code[9];
	if (!addr || kcore_read(addr, code, sizeof(code))) {
		fprintf(stderr, "kinsn: cannot read the code of %s\n", func);
		return 1;
	}
	int off = 0;
	if ((code[0] == 0xf3 && code[1] == 0x0f && code[2] == 0x1e && code[3] == 0xfa) ||
	    (code[0] == 0x66 && code[1] == 0x0f && code[2] == 0x1f && code[3] == 0x00))
		off = 4; /* endbr64, or the 4-byte nop it becomes on CPUs without IBT */
	/* the ftrace site: a 5-byte nop (0f 1f 44 00 00) or call rel32 (e8) */
	if (!(code[off] == 0xe8 || (code[off] == 0x0f && code[off + 1] == 0x1f))) {
		fprintf(stderr, "kinsn: %s does not start with an ftrace call:", func);
		for (size_t i = 0; i < sizeof(code); i++)
			fprintf(stderr, " %02x", code[i]);
		fprintf(stderr, "\n");
		return 1;
	}
	printf("%d %d\n", off + 5, off + 2);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "comm")) {
		if (prctl(PR_SET_NAME, argv[2], 0, 0, 0)) {
			perror("prctl");
			return 1;
		}
		argv += 2;
		argc -= 2;
	}
	if (argc >= 3 && !strcmp(argv[1], "opens")) {
		for (int i = 2; i < argc; i++) {
			int fd = open(argv[i], O_RDONLY);
			if (fd >= 0)
				close(fd);
		}
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "pread")) {
		static char buf[4096];
		long count = atol(argv[3]), n = atol(argv[4]);
		int fd = open(argv[2], O_RDONLY);
		if (fd < 0 || count < 0 || count > (long)sizeof(buf))
			return 1;
		for (long i = 0; i < n; i++)
			if (pread(fd, buf, (size_t)count, 0) < 0)
				return 1;
		close(fd);
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr,
			"usage: trace_workload getppid|faults|open|sleep|sysargs|sysmix|uprobe|struct|int80 ARG\n"
			"       trace_workload opens PATH...\n"
			"       trace_workload pread PATH COUNT N\n"
			"       trace_workload comm NAME MODE ARG...\n");
		return 2;
	}
	const char *mode = argv[1];
	long n = atol(argv[2]);
	if (!strcmp(mode, "kinsn"))
		return kinsn(argv[2]);
	if (!strcmp(mode, "getppid")) {
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
	} else if (!strcmp(mode, "faults")) {
		faults(n);
	} else if (!strcmp(mode, "open")) {
		int fd = open(argv[2], O_RDONLY);
		if (fd >= 0)
			close(fd);
	} else if (!strcmp(mode, "sleep")) {
		struct timespec ts = { n / 1000, (n % 1000) * 1000000 };
		nanosleep(&ts, NULL);
	} else if (!strcmp(mode, "sysargs")) {
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid, 10L, 11L, 12L, 13L, 14L, 15L);
	} else if (!strcmp(mode, "sysmix")) {
		for (long i = 0; i < n; i++) {
			syscall(SYS_read, -1, NULL, 7);
			syscall(SYS_write, -1, NULL, 9);
			syscall(SYS_close, -1);
			syscall(SYS_fadvise64, -1, 3L, 5L, 0);
			syscall(SYS_sendto, -1, (void *)0x10, 11L, 12, (void *)0x13, 14);
			syscall(SYS_access, SYSMIX_PATH, 4);
			syscall(SYS_faccessat, AT_FDCWD, SYSMIX_PATH, 2);
		}
	} else if (!strcmp(mode, "int80")) {
#if defined(__x86_64__)
		for (long i = 0; i < n; i++) {
			long ret = 64; /* __NR_getppid in the ia32 table */
			__asm__ volatile("int $0x80" : "+a"(ret) : : "memory", "r8", "r9", "r10", "r11");
		}
#endif
	} else if (!strcmp(mode, "struct")) {
		long sum = 0;
		for (long i = 0; i < n; i++) {
			struct wl_rec r = { .c = 'A',
					    .i = -123456,
					    .u8 = 200,
					    .arr = { -1, 2, 30000 },
					    .name = "struct rec",
					    .in = { -7, 1234567890123LL },
					    .b1 = 5,
					    .b2 = 300,
					    .b3 = -70000,
					    .un.w = 0x04030201,
					    .next = NULL };
			_Static_assert(sizeof(struct wl_rec) == 64, "wl_rec layout");
			r.next = &r;
			sum += workload_struct(&r, i);
		}
		(void)sum;
	} else if (!strcmp(mode, "uprobe")) {
		long sum = 0;
		for (long i = 0; i < n; i++) {
			long v = 1000 + i;
			sum += workload_target(&v, "hello uprobe", i);
		}
		(void)sum;
	} else {
		fprintf(stderr, "trace_workload: unknown mode %s\n", mode);
		return 2;
	}
	return 0;
}
