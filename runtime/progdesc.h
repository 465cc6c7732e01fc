/* progdesc.h: the program description, codegen's table for the runtime.
 *
 * Everything the runtime needs to know about a compiled script, as plain
 * data: the BPF object bytes, which program attaches where, every map's key
 * and value layout and aggregation kind, and the formats of the records the
 * programs send through the ring buffer. The runtime never sees the AST;
 * the compiler fills this in and never reads it back.
 *
 * All memory is owned by whoever built the description (the compiler's
 * arena); the runtime treats it as read-only for the whole run.
 */
#ifndef TRACE_PROGDESC_H
#define TRACE_PROGDESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a value stored in a key, a map value or a record is shown. */
enum pd_kind {
	PD_NONE,     /* no value (key of a scalar map: 8 zero bytes) */
	PD_INT,	     /* integer of `size` bytes (1, 2, 4, 8), is_signed */
	PD_STR,	     /* NUL-padded char[size] */
	PD_TUPLE,    /* fields[] at their offsets; printed "(a, b)" */
	PD_KSTACK,   /* u64 stack id into the stack map `stack_map` */
	PD_USTACK,   /* u64 stack id (user) into `stack_map`, then u64 pid */
	PD_KSYM,     /* u64 kernel address, printed symbolized */
	PD_USYM,     /* u64 user address, then u64 pid */
	PD_PROBE,    /* u64 index into progdesc.probes, printed as its name */
	PD_BUF,	     /* u8 len, then bytes: buf() */
	PD_USERNAME, /* u64 uid printed as user name */
	PD_INET,     /* ntop(): u64 family, then 16 address bytes */
	PD_TIMESTAMP, /* strftime(): u64 ns since boot, fmt in `fmt` */
	PD_RECORD,    /* a kernel struct: fields[] with names, printed
			 "{ .a = 1, .b = { .c = x } }" */
	PD_ARRAY,     /* `count` elements laid out as fields[0], one after
			 the other: "[1, 2, 3]" ("[1,2,3]" when compact) */
	PD_STRERROR,  /* u64 errno, printed as strerror() says */
	PD_MACADDR,   /* 6 bytes, printed "AA:BB:CC:DD:EE:FF" */
	PD_CGROUP_PATH, /* u64 cgroup id, printed as "hierarchy:/path,..."
			   found under the mounted cgroup file systems; fmt:
			   the hierarchy filter (NULL: all) */
};

/* kstack(mode): how each frame is printed (bpftrace 0.17 has two modes). */
enum pd_stack_mode {
	PD_STACK_BPFTRACE, /* "        sym+off" (default, 0) */
	PD_STACK_PERF,	   /* "\tffffffff81234567 sym+off" */
	PD_STACK_RAW,	   /* "ffffffff81234567": addresses only (bpftrace >= 0.20) */
};

struct pd_layout {
	enum pd_kind kind;
	uint32_t size;	 /* bytes occupied */
	uint32_t offset; /* from the start of the enclosing key/value/record */
	bool is_signed;	 /* PD_INT */
	uint32_t nfields;
	struct pd_layout *fields; /* PD_TUPLE */
	int stack_map;		  /* PD_KSTACK/PD_USTACK: index in progdesc.maps */
	uint32_t stack_depth;	  /* frames kept in the stack map */
	const char *fmt;	  /* PD_TIMESTAMP: strftime format */
	enum pd_stack_mode stack_mode; /* PD_KSTACK/PD_USTACK: kstack(perf) */
	const char *name;	  /* a PD_RECORD field's name */
	uint32_t count;		  /* PD_ARRAY: elements */
	uint8_t bit_offset, bit_size; /* PD_INT bitfield of a record: bits */
	bool is_ptr;		  /* PD_INT: a pointer, printed in hex */
	bool compact;		  /* PD_ARRAY: no space after the commas (an
				     int array outside a struct: pton()) */
};

/* Aggregation kinds; each is a per-CPU map merged in user space.
 * Per-CPU value layouts (all little-endian, 8-byte aligned):
 *   COUNT, SUM: int64 (sum is signed; count is never negative); a
 *               keyless sum has a uint64 "updated" after it (value_size 16)
 *   MIN, MAX:   { int64 value; uint64 is_set; }
 *   AVG, STATS: { int64 total; uint64 count; }
 *   HIST:       uint64 buckets[nbuckets]  (see rt_hist_bucket in stdlib)
 *   LHIST:      uint64 buckets[nbuckets]  (below min, min.., >= max)
 * Keyed aggregations are BPF_MAP_TYPE_PERCPU_HASH. Keyless ones are
 * PERCPU_ARRAY (key u32, key_size 4), unless a delete() names them
 * (PERCPU_HASH of one key of 8 zero bytes): COUNT has one element, the
 * value; HIST and LHIST one u64 element per bucket (value_size is still
 * nbuckets * 8, the value the runtime gathers) and a marker after them;
 * the others the value and a marker (runtime/maps.c, "keyless arrays").
 */
enum pd_agg {
	PD_AGG_NONE, /* plain value of `value` layout, not per-CPU */
	PD_AGG_COUNT,
	PD_AGG_SUM,
	PD_AGG_MIN,
	PD_AGG_MAX,
	PD_AGG_AVG,
	PD_AGG_STATS,
	PD_AGG_HIST,
	PD_AGG_LHIST,
};

enum pd_map_role {
	PD_MAP_USER,	/* a script map: printed at exit */
	PD_MAP_RINGBUF, /* the event ring buffer */
	PD_MAP_PERFBUF, /* the event perf buffer, when there is no ring buffer */
	PD_MAP_STACKS,	/* BPF_MAP_TYPE_STACK_TRACE */
	PD_MAP_SCRATCH, /* per-CPU scratch space; nothing to read */
	PD_MAP_LOST,	/* array[1] of u64 (.bss; per-CPU if PERCPU_ARRAY): records the event buffer refused */
	PD_MAP_COUNTERS, /* array[1] of u64[] (.bss.map_full): dropped updates per map */
};

struct pd_map {
	const char *name;     /* as in the script: "@faults", "@" */
	const char *obj_name; /* the map's name in the BPF object */
	enum pd_map_role role;
	enum pd_agg agg;
	uint32_t bpf_type;    /* BPF_MAP_TYPE_* */
	uint32_t max_entries;
	uint32_t key_size, value_size; /* value_size per CPU for aggregations */
	struct pd_layout key;	       /* PD_NONE for a scalar map */
	struct pd_layout value;	       /* PD_AGG_NONE: what is stored */
	/* histograms */
	uint32_t nbuckets;
	int64_t lhist_min, lhist_max, lhist_step;
	uint32_t hist_k; /* hist(x, k): 2^k sub-buckets per power of 2 (0: plain) */
};

/* Event records (ring buffer or perf buffer) start with this header. */
struct pd_record_hdr {
	uint32_t kind; /* enum pd_record_kind */
	uint32_t id;   /* index into the table the kind names */
};

enum pd_record_kind {
	PD_REC_PRINTF,	    /* id: printfs[]; payload: args at their offsets */
	PD_REC_PRINT_MAP,   /* id: prints[] */
	PD_REC_PRINT_VALUE, /* id: values[]; payload: the value */
	PD_REC_CLEAR,	    /* id: maps[] */
	PD_REC_ZERO,	    /* id: maps[] */
	PD_REC_TIME,	    /* id: time_fmts[] (user space reads the clock) */
	PD_REC_EXIT,	    /* id unused */
	PD_REC_CAT,	    /* id: printfs[] (file name format) */
	PD_REC_SYSTEM,	    /* id: printfs[] (command format) */
	PD_REC_HELPER_ERROR, /* id: helper_errors[]; payload: int64 return value */
	PD_REC_JOIN,	    /* id: printfs[], whose fmt is the separator and size
			       the payload's: strings of size / 16 bytes, printed
			       up to the first empty one (join()) */
	PD_REC_PID,	    /* id unused; payload: u64 pid whose user addresses
			       were recorded (read its mappings while it lives) */
};

/* A helper call checked by -k/-kk: which helper, and where in the script
 * (0.17's location, "NAME:LINE:COL-END", with the source line and a '~'
 * line under the span, as its text output prints them). */
struct pd_helper_error {
	const char *helper;  /* "map_update_elem" */
	uint32_t line, col;  /* 1-based, of the span's start */
	const char *where;   /* "stdin:1:37-38" */
	const char *context; /* "<source line>\n<spaces>~~~\n" */
};

/* join(): strings per record (bpftrace 0.17's join_argnum) */
#define PD_JOIN_ARGS 16

/* printf("fmt", args): args[i] describes the i-th argument's bytes in the
 * payload that follows the record header. */
struct pd_printf {
	const char *fmt; /* as written, escapes decoded */
	uint32_t nargs;
	struct pd_layout *args;
	uint32_t size; /* payload bytes */
};

/* print(@map [, top [, div]]) */
struct pd_print {
	int map; /* index into maps */
	int64_t top, div; /* 0 when not given */
};

enum pd_probe_kind {
	PD_PROBE_BEGIN,
	PD_PROBE_END,
	PD_PROBE_TRACEPOINT, /* target: category, func: name */
	PD_PROBE_RAWTP,	     /* func: tracepoint name */
	PD_PROBE_INTERVAL,   /* period_ns */
	PD_PROBE_PROFILE,    /* period_ns or freq (one perf event per CPU) */
	PD_PROBE_SOFTWARE,   /* perf_config, period (sample count) */
	PD_PROBE_HARDWARE,
	PD_PROBE_KPROBE,   /* func, offset */
	PD_PROBE_KRETPROBE,
	PD_PROBE_UPROBE,   /* target: binary path, func, offset */
	PD_PROBE_URETPROBE,
	PD_PROBE_USDT,	   /* target: path, func: probe, provider */
	PD_PROBE_FENTRY,   /* func */
	PD_PROBE_FEXIT,
	PD_PROBE_ITER,	   /* func: the iterator ("task", "task_file") */
};

struct pd_probe {
	enum pd_probe_kind kind;
	const char *prog_name; /* the program's function name in the object */
	const char *name;      /* full expanded probe name, e.g.
				  "tracepoint:syscalls:sys_enter_openat" */
	const char *target;
	const char *func;
	const char *provider; /* usdt */
	uint64_t offset;
	uint64_t period_ns; /* interval, profile:{s,ms,us} */
	uint64_t freq;	    /* profile:hz */
	uint64_t sample_period; /* software/hardware */
	uint32_t perf_config;	/* software/hardware event config */
	uint32_t line, col;	/* of the attach point, for errors */
	/* PD_PROBE_TRACEPOINT of a syscall: when set ("sys_enter"/"sys_exit"),
	 * the program is attached once to this raw tracepoint for all the
	 * probes that share it, and filters on the syscall number itself */
	const char *raw_tp;
	/* PD_PROBE_KPROBE/KRETPROBE: the probes sharing this program are
	 * attached as one kprobe_multi link, made for the first of them.
	 * Kprobes sharing a program get their probe index as attach cookie. */
	bool multi;
	/* PD_PROBE_UPROBE/URETPROBE: offset is the file offset of the code
	 * (the compiler resolved the function); func only names it */
	bool file_offset;
	/* PD_PROBE_USDT: file offset of the probe's semaphore (0: none); the
	 * kernel counts it up in every process mapping the file while the
	 * uprobe is attached (uprobe ref_ctr_offset, 4.20) */
	uint64_t ref_ctr_off;
	/* run by an earlier probe's program (prog_name), after that probe's
	 * block: many blocks on one tracepoint share a few programs. Not
	 * attached itself. */
	bool chained;
};

struct progdesc {
	const void *obj; /* the BPF ELF object */
	size_t obj_size;

	struct pd_probe *probes;
	uint32_t nprobes;
	struct pd_map *maps;
	uint32_t nmaps;
	struct pd_printf *printfs;
	uint32_t nprintfs;
	struct pd_print *prints;
	uint32_t nprints;
	struct pd_layout *values; /* print(value) */
	uint32_t nvalues;
	const char **time_fmts;
	uint32_t ntime_fmts;
	struct pd_helper_error *helper_errors; /* -k, -kk */
	uint32_t nhelper_errors;
	/* updates dropped because a map was full (-E2BIG): the array map
	 * maps[map_full_map] (one element, in .bss.map_full) holds nmap_full
	 * u64 counters; counter i counts the drops of maps[map_full_pd[i]] */
	uint32_t nmap_full;
	int map_full_map;
	const int *map_full_pd;
};

#endif
