/* format.c: values and printf records to bpftrace 0.17's text.
 *
 * In: value bytes laid out as progdesc.h says. Out: text appended to an
 * rt_sbuf. Kernel symbols come from ksyms.c.
 *
 * printf: each pd_printf format is split once, at init, into literal text
 * and conversions ("%-10s", "%lu"). Per record we run the C library's
 * snprintf on each conversion with the argument converted to the C type
 * the length modifier names, which is what bpftrace 0.17 did (it passed
 * every integer as a 64-bit value to snprintf with the user's format): "%d"
 * prints the low 32 bits, "%ld" all 64. A record is formatted into a reused
 * buffer; there is no per-record malloc once the buffers have grown to the
 * largest record.
 *
 * Does not: write to a FILE (writer.h), print maps (writer_text.c), decode
 * records (output.c). User symbols come from usyms.c.
 */
#include "runtime/format.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "runtime/cgroup.h"
#include "runtime/ksyms.h"
#include "runtime/usyms.h"

/* bpftrace formats time() and strftime() into a 64-byte buffer; longer
 * results are an error ("strftime returned 0"). */
#define TIME_BUF_SIZE	 64
#define MAX_STACK_FRAMES 1024

/* Like rt_sbuf_printf for a conversion that came from the script (checked
 * at parse time, so it has exactly one conversion of the given type); no
 * format attribute, on purpose. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void sbuf_spec(struct rt_sbuf *b, const char *spec, ...)
{
	va_list ap;

	va_start(ap, spec);
	rt_sbuf_vprintf(b, spec, ap);
	va_end(ap);
}
#pragma GCC diagnostic pop

/* ---- reading little-endian values ------------------------------------- */

static uint64_t read_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* An integer of 1, 2, 4 or 8 bytes, sign- or zero-extended to 64 bits. */
static uint64_t read_int(const uint8_t *p, uint32_t size, bool is_signed)
{
	switch (size) {
	case 1:
		return is_signed ? (uint64_t)(int64_t)(int8_t)p[0] : p[0];
	case 2: {
		uint16_t v;

		memcpy(&v, p, 2);
		return is_signed ? (uint64_t)(int64_t)(int16_t)v : v;
	}
	case 4: {
		uint32_t v;

		memcpy(&v, p, 4);
		return is_signed ? (uint64_t)(int64_t)(int32_t)v : v;
	}
	default:
		return read_u64(p);
	}
}

/* ---- values ----------------------------------------------------------- */

static struct rt_usyms *usyms(struct rt_ctx *c)
{
	if (!c->usyms) {
		c->usyms = rt_usyms_new();
		if (c->usyms && c->no_user_symbols)
			rt_usyms_disable(c->usyms);
	}
	return c->usyms;
}

/* "name+off" without printf: a 10,000-stack map has 300,000 frames */
static void put_sym_off(struct rt_sbuf *b, const char *name, uint64_t off)
{
	char digits[24];
	int i = (int)sizeof(digits);

	rt_sbuf_puts(b, name);
	do {
		digits[--i] = (char)('0' + off % 10);
		off /= 10;
	} while (off);
	digits[--i] = '+';
	rt_sbuf_put(b, digits + i, sizeof(digits) - (size_t)i);
}

/* Kernel frames (pid 0) or the user frames of pid. perf mode prints the
 * address before the symbol, and a user frame's file after it. */
static void format_frames(struct rt_ctx *c, struct rt_sbuf *b, const uint64_t *ips, uint32_t n,
			  enum pd_stack_mode mode, int indent, bool user, uint32_t pid)
{
	static const char spaces[] = "        ";
	bool perf = mode == PD_STACK_PERF;
	const char *name, *module;
	char sym[4096];
	uint64_t off;

	rt_sbuf_puts(b, "\n");
	for (uint32_t i = 0; i < n && ips[i]; i++) {
		if (mode == PD_STACK_RAW) { /* bpftrace: the address in hex, no indent */
			rt_sbuf_printf(b, "%" PRIx64 "\n", ips[i]);
			continue;
		}
		if (user && !perf && indent <= 8 &&
		    rt_usym_lookup(usyms(c), pid, ips[i], &name, &off, &module)) {
			rt_sbuf_put(b, spaces, (size_t)indent);
			put_sym_off(b, name, off);
			rt_sbuf_put(b, "\n", 1);
			continue;
		}
		if (user) {
			rt_usym_format(usyms(c), sym, sizeof(sym), pid, ips[i], true, perf);
		} else {
			if (!c->ksyms)
				c->ksyms = rt_ksyms_new();
			rt_ksym_format(c->ksyms, sym, sizeof(sym), ips[i], true);
		}
		if (perf)
			rt_sbuf_printf(b, "\t%" PRIx64 " %s\n", ips[i], sym);
		else
			rt_sbuf_printf(b, "%*s%s\n", indent, "", sym);
	}
}

void rt_format_stack(struct rt_ctx *c, struct rt_sbuf *b, const uint64_t *ips, uint32_t n,
		     enum pd_stack_mode mode, int indent)
{
	format_frames(c, b, ips, n, mode, indent, false, 0);
}

/* kstack/ustack: the stack id indexes the stack map named by the layout.
 * A failed lookup prints nothing (bpftrace: empty string, and a message
 * unless the id is -EFAULT, "no stack"). */
static void format_stack_id(struct rt_ctx *c, struct rt_sbuf *b, const struct pd_layout *l,
			    uint64_t id, uint32_t pid, int indent)
{
	uint64_t ips[MAX_STACK_FRAMES];
	int32_t sid = (int32_t)(uint32_t)id;
	uint32_t n;
	int fd = -1;

	if (l->stack_map >= 0 && (uint32_t)l->stack_map < c->pd->nmaps && c->map_fds)
		fd = c->map_fds[l->stack_map];
	if (fd < 0)
		return;
	n = c->pd->maps[l->stack_map].value_size / 8;
	if (n > MAX_STACK_FRAMES)
		n = MAX_STACK_FRAMES;
	memset(ips, 0, n * sizeof(ips[0]));
	if (sid < 0 || bpf_map_lookup_elem(fd, &sid, ips)) {
		if (sid != -EFAULT)
			fprintf(stderr, "ERROR: failed to look up stack id %d (pid %d): %d\n", sid,
				(int)(id >> 32), -errno);
		return;
	}
	format_frames(c, b, ips, n, l->stack_mode, indent, l->kind == PD_USTACK, pid);
}

/* buf(): printable ASCII as is, anything else as \xNN (bpftrace's
 * hex_format_buffer); printf's %rx writes every byte as \xNN, %rh as
 * "61 62" (mode 'x', 'h'). */
static void format_buf_as(struct rt_sbuf *b, const uint8_t *p, uint32_t size, char mode)
{
	uint32_t len = p[0];

	if (len > size - 1)
		len = size - 1;
	for (uint32_t i = 0; i < len; i++) {
		uint8_t c = p[1 + i];

		if (mode == 'h')
			rt_sbuf_printf(b, "%s%02x", i ? " " : "", c);
		else if (c >= 32 && c <= 126 && mode != 'x')
			rt_sbuf_put(b, (const char *)&c, 1);
		else
			rt_sbuf_printf(b, "\\x%02x", c);
	}
}

static void format_buf(struct rt_sbuf *b, const uint8_t *p, uint32_t size)
{
	format_buf_as(b, p, size, 'r');
}

static void format_username(struct rt_sbuf *b, uint64_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) == 0 && res)
		rt_sbuf_puts(b, res->pw_name);
}

static void format_inet(struct rt_sbuf *b, const uint8_t *p)
{
	char text[INET6_ADDRSTRLEN];
	uint64_t family = read_u64(p);
	int af = family == AF_INET ? AF_INET : family == AF_INET6 ? AF_INET6 : -1;

	if (af < 0) {
		fprintf(stderr, "ntop() got unsupported AF type: %" PRIu64 "\n", family);
		return;
	}
	if (inet_ntop(af, p + 8, text, sizeof(text)))
		rt_sbuf_puts(b, text);
}

/* strftime with a format from the script; -Wformat-nonliteral cannot check
 * it, and the C library copes with any format. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static size_t script_strftime(char *buf, size_t len, const char *fmt, const struct tm *tm)
{
	return strftime(buf, len, fmt, tm);
}
#pragma GCC diagnostic pop

/* strftime() of ns since boot, with bpftrace's %f (microseconds). */
static void format_timestamp(struct rt_ctx *c, struct rt_sbuf *b, const char *fmt, uint64_t ns)
{
	/* any u64 may come from a script (strftime(fmt, -1)): the sum wraps
	 * instead of overflowing, and the split is floored so that the
	 * microseconds are 0..999999 before 1970 too */
	int64_t real = (int64_t)(ns + (uint64_t)c->boot_to_real_ns);
	int64_t sub = real % 1000000000;
	time_t secs = (time_t)(real / 1000000000 - (sub < 0));
	if (sub < 0)
		sub += 1000000000;
	char us[8], expanded[512], out[TIME_BUF_SIZE];
	size_t j = 0;
	struct tm tm;

	snprintf(us, sizeof(us), "%06ld", (long)(sub / 1000));
	for (size_t i = 0; fmt && fmt[i] && j + 8 < sizeof(expanded); i++) {
		if (fmt[i] == '%' && fmt[i + 1] == 'f') {
			memcpy(expanded + j, us, 6);
			j += 6;
			i++;
			continue;
		}
		if (fmt[i] == '%' && fmt[i + 1])
			expanded[j++] = fmt[i++];
		expanded[j++] = fmt[i];
	}
	expanded[j] = '\0';
	if (!localtime_r(&secs, &tm) || !script_strftime(out, sizeof(out), expanded, &tm)) {
		fprintf(stderr, "ERROR: strftime returned 0\n");
		rt_sbuf_puts(b, "(?)");
		return;
	}
	rt_sbuf_puts(b, out);
}

static int format_tuple(struct rt_ctx *c, struct rt_sbuf *b, const struct pd_layout *l,
			const uint8_t *p, bool in_key)
{
	int err = 0;

	rt_sbuf_puts(b, "(");
	for (uint32_t i = 0; i < l->nfields && !err; i++) {
		if (i)
			rt_sbuf_puts(b, ", ");
		err = rt_format_value(c, b, &l->fields[i], p, l->size, in_key);
	}
	rt_sbuf_puts(b, ")");
	return err;
}

/* A bitfield member f of the struct at p (size bytes) */
static int format_bitfield(struct rt_sbuf *b, const struct pd_layout *f, const uint8_t *p,
			   uint32_t size)
{
	uint64_t v = 0;
	uint32_t n = (f->bit_offset + f->bit_size + 7) / 8;

	if (n > 8)
		n = 8;
	if (f->offset > size || n > size - f->offset)
		return -EINVAL;
	memcpy(&v, p + f->offset, n); /* little-endian */
	v >>= f->bit_offset;
	if (f->bit_size < 64)
		v &= (1ull << f->bit_size) - 1;
	if (f->is_signed && f->bit_size < 64 && (v >> (f->bit_size - 1)) & 1)
		rt_sbuf_printf(b, "%" PRId64, (int64_t)(v | ~((1ull << f->bit_size) - 1)));
	else
		rt_sbuf_printf(b, "%" PRIu64, v);
	return 0;
}

/* { .a = 1, .b = { .c = 2 }, .d = [1, 2] }: a kernel struct's value */
static int format_record(struct rt_ctx *c, struct rt_sbuf *b, const struct pd_layout *l,
			 const uint8_t *p)
{
	int err = 0;

	rt_sbuf_puts(b, "{ ");
	for (uint32_t i = 0; i < l->nfields && !err; i++) {
		const struct pd_layout *f = &l->fields[i];
		rt_sbuf_printf(b, "%s.%s = ", i ? ", " : "", f->name ? f->name : "?");
		if (f->kind == PD_INT && f->bit_size) {
			err = format_bitfield(b, f, p, l->size);
			continue;
		}
		err = rt_format_value(c, b, f, p, l->size, false);
	}
	rt_sbuf_puts(b, l->nfields ? " }" : "}");
	return err;
}

static int format_array(struct rt_ctx *c, struct rt_sbuf *b, const struct pd_layout *l,
			const uint8_t *p)
{
	const struct pd_layout *e = &l->fields[0];
	int err = 0;

	if (!l->nfields || (l->count && e->size > l->size / l->count))
		return -EINVAL;
	rt_sbuf_puts(b, "[");
	for (uint32_t i = 0; i < l->count && !err; i++) {
		if (i)
			rt_sbuf_puts(b, l->compact ? "," : ", ");
		err = rt_format_value(c, b, e, p + (size_t)i * e->size, e->size, false);
	}
	rt_sbuf_puts(b, "]");
	return err;
}

static uint32_t min_size(enum pd_kind kind)
{
	switch (kind) {
	case PD_NONE:
	case PD_STR:
	case PD_TUPLE:
	case PD_RECORD:
	case PD_ARRAY:
		return 0;
	case PD_INT:
	case PD_BUF:
		return 1;
	case PD_USTACK:
	case PD_USYM:
		return 16;
	case PD_INET:
		return 24;
	case PD_MACADDR:
		return 6;
	default:
		return 8;
	}
}

int rt_format_value(struct rt_ctx *c, struct rt_sbuf *b, const struct pd_layout *l,
		    const void *data, size_t size, bool in_key)
{
	const uint8_t *p = (const uint8_t *)data + l->offset;
	char sym[512];

	if (l->offset > size || l->size > size - l->offset || l->size < min_size(l->kind))
		return -EINVAL;
	switch (l->kind) {
	case PD_NONE:
		break;
	case PD_INT:
		if (l->size != 1 && l->size != 2 && l->size != 4 && l->size != 8)
			return -EINVAL;
		if (l->is_ptr)
			rt_sbuf_printf(b, "0x%" PRIx64, read_int(p, l->size, false));
		else if (l->is_signed)
			rt_sbuf_printf(b, "%" PRId64, (int64_t)read_int(p, l->size, true));
		else
			rt_sbuf_printf(b, "%" PRIu64, read_int(p, l->size, false));
		break;
	case PD_STR:
		rt_sbuf_put(b, (const char *)p, strnlen((const char *)p, l->size));
		break;
	case PD_TUPLE:
		return format_tuple(c, b, l, p, in_key);
	case PD_KSTACK:
		format_stack_id(c, b, l, read_u64(p), 0, in_key ? 4 : 8);
		break;
	case PD_USTACK:
		format_stack_id(c, b, l, read_u64(p), (uint32_t)read_u64(p + 8), in_key ? 4 : 8);
		break;
	case PD_KSYM:
		if (!c->ksyms)
			c->ksyms = rt_ksyms_new();
		rt_ksym_format(c->ksyms, sym, sizeof(sym), read_u64(p), false);
		rt_sbuf_puts(b, sym);
		break;
	case PD_USYM:
		rt_usym_format(usyms(c), sym, sizeof(sym), (uint32_t)read_u64(p + 8), read_u64(p),
			       false, false);
		rt_sbuf_puts(b, sym);
		break;
	case PD_PROBE:
		if (read_u64(p) < c->pd->nprobes && c->pd->probes[read_u64(p)].name)
			rt_sbuf_puts(b, c->pd->probes[read_u64(p)].name);
		break;
	case PD_BUF:
		format_buf(b, p, l->size);
		break;
	case PD_USERNAME:
		format_username(b, read_u64(p));
		break;
	case PD_INET:
		format_inet(b, p);
		break;
	case PD_TIMESTAMP:
		format_timestamp(c, b, l->fmt, read_u64(p));
		break;
	case PD_RECORD:
		return format_record(c, b, l, p);
	case PD_ARRAY:
		return format_array(c, b, l, p);
	case PD_STRERROR:
		rt_sbuf_puts(b, strerror((int)read_u64(p)));
		break;
	case PD_MACADDR:
		rt_sbuf_printf(b, "%02X:%02X:%02X:%02X:%02X:%02X", p[0], p[1], p[2], p[3], p[4], p[5]);
		break;
	case PD_CGROUP_PATH:
		rt_cgroup_path(b, read_u64(p), l->fmt);
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/* ---- printf ----------------------------------------------------------- */

enum conv {
	CONV_NONE, /* the literal tail after the last conversion */
	CONV_INT,  /* d i c */
	CONV_UINT, /* u o x X */
	CONV_PTR,  /* p */
	CONV_STR,  /* s, and r rx rh (buf) printed as s */
};

struct fmt_piece {
	uint32_t lit, lit_len; /* literal text before the conversion, in rt_fmt.text */
	char spec[32];	       /* the conversion as written, r/rx/rh turned to s */
	uint8_t conv;
	bool is_long; /* l ll j z t: the argument is 64-bit */
	bool plain;   /* exactly "%s": copy the text, no snprintf */
	bool decimal; /* %d %i %u with no flags, width or precision: fast path */
	char rmode;   /* buffers: 'r' (\xNN for non-printables), 'x' (\xNN
			 for every byte), 'h' ("61 62"); 0 for the others */
};

struct rt_fmt {
	struct fmt_piece *pieces; /* nconv conversions, then the tail */
	uint32_t nconv;
	char *text; /* literal text with "%%" folded to "%" */
};

/* Matches one conversion at s (just after '%'):
 * [-+ #0]* digits* (.digits*)? (hh|h|ll|l|j|z|t)? [diouxXcsp] | r[xh]?
 * Returns its length after the '%', or 0 if s starts no conversion. */
static size_t match_conv(const char *s, struct fmt_piece *pc)
{
	size_t i = strspn(s, "-+ #0");
	char c;

	i += strspn(s + i, "0123456789");
	if (s[i] == '.')
		i += 1 + strspn(s + i + 1, "0123456789");
	pc->is_long = s[i] == 'l' || s[i] == 'j' || s[i] == 'z' || s[i] == 't';
	if (s[i] == 'h' || s[i] == 'l')
		i += s[i + 1] == s[i] ? 2 : 1;
	else if (pc->is_long)
		i++;
	c = s[i];
	if (c && strchr("dic", c))
		pc->conv = CONV_INT;
	else if (c && strchr("uoxX", c))
		pc->conv = CONV_UINT;
	else if (c == 'p')
		pc->conv = CONV_PTR;
	else if (c == 's' || c == 'r')
		pc->conv = CONV_STR;
	else
		return 0;
	if (i + 3 > sizeof(pc->spec))
		return 0;
	pc->spec[0] = '%';
	memcpy(pc->spec + 1, s, i);
	pc->spec[i + 1] = c == 'r' ? 's' : c;
	pc->spec[i + 2] = '\0';
	pc->plain = !strcmp(pc->spec, "%s");
	pc->decimal = s[0] != 'h' && strspn(s, "-+ #0123456789.") == 0 && strchr("diu", c);
	pc->rmode = c == 'r' ? 'r' : 0;
	if (c == 'r' && (s[i + 1] == 'x' || s[i + 1] == 'h'))
		pc->rmode = s[++i];
	return i + 1;
}

/* bpftrace 0.17 ran snprintf on the text up to and including each
 * conversion, and printed the text after the last conversion as it is: a
 * "%%" there stays "%%" (printf("a%%b") prints "a%%b"). We do the same. */
static int fmt_parse(struct rt_fmt *f, const char *fmt)
{
	size_t len = strlen(fmt), n = 0, t = 0, lit = 0, tail = 0, tail_t = 0;

	f->text = malloc(len + 1);
	f->pieces = calloc(len / 2 + 1, sizeof(*f->pieces)); /* each conversion is >= 2 chars */
	if (!f->text || !f->pieces)
		return -ENOMEM;
	for (size_t i = 0; i < len;) {
		struct fmt_piece *pc = &f->pieces[n];
		size_t m;

		if (fmt[i] == '%' && fmt[i + 1] == '%') {
			f->text[t++] = '%';
			i += 2;
			continue;
		}
		m = fmt[i] == '%' ? match_conv(fmt + i + 1, pc) : 0;
		if (!m) {
			f->text[t++] = fmt[i++];
			continue;
		}
		pc->lit = (uint32_t)lit;
		pc->lit_len = (uint32_t)(t - lit);
		lit = tail_t = t;
		n++;
		i += m + 1;
		tail = i;
	}
	/* the tail, unfolded */
	t = tail_t + (len - tail);
	memcpy(f->text + tail_t, fmt + tail, len - tail);
	f->pieces[n].lit = (uint32_t)lit;
	f->pieces[n].lit_len = (uint32_t)(t - lit);
	f->pieces[n].conv = CONV_NONE;
	f->text[t] = '\0';
	f->nconv = (uint32_t)n;
	return 0;
}

static void fmt_free(struct rt_fmt *f)
{
	free(f->pieces);
	free(f->text);
}

/* One integer argument under its conversion: the C type the length
 * modifier names gets the (sign- or zero-extended) 64-bit value. */
/* v in decimal, without snprintf (the hot path of printf("%d")). */
static void put_decimal(struct rt_sbuf *b, uint64_t v, bool neg)
{
	char buf[24], *p = buf + sizeof(buf);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (neg)
		*--p = '-';
	rt_sbuf_put(b, p, (size_t)(buf + sizeof(buf) - p));
}

/* bpftrace 0.17 kept each formatted piece as a C string, so %c of 0 ends
 * the piece there: printf("[%c]x", 0) prints "[]x", "%5c" of 0 "    ". */
static void cut_at_nul(struct rt_sbuf *b, size_t start)
{
	if (b->err || b->len <= start)
		return;
	b->len = start + strnlen(b->s + start, b->len - start);
	b->s[b->len] = '\0';
}

static void printf_int(struct rt_sbuf *b, const struct fmt_piece *pc, uint64_t v)
{
	size_t start = b->len;

	if (pc->decimal) {
		if (!pc->is_long)
			v = pc->conv == CONV_INT ? (uint64_t)(int64_t)(int32_t)v : (uint32_t)v;
		if (pc->conv == CONV_INT && (int64_t)v < 0)
			put_decimal(b, -v, true);
		else
			put_decimal(b, v, false);
		return;
	}
	switch (pc->conv) {
	case CONV_INT:
		if (pc->is_long)
			sbuf_spec(b, pc->spec, (long)v);
		else
			sbuf_spec(b, pc->spec, (int)v);
		cut_at_nul(b, start);
		break;
	case CONV_UINT:
		if (pc->is_long)
			sbuf_spec(b, pc->spec, (unsigned long)v);
		else
			sbuf_spec(b, pc->spec, (unsigned int)v);
		break;
	case CONV_PTR:
		sbuf_spec(b, pc->spec, (void *)(uintptr_t)v);
		break;
	default: { /* %s of an integer: its decimal text */
		char num[32];

		snprintf(num, sizeof(num), "%" PRIu64, v);
		sbuf_spec(b, pc->spec, num);
	}
	}
}

static int printf_arg(struct rt_ctx *c, struct rt_sbuf *b, const struct fmt_piece *pc,
		      const struct pd_layout *a, const uint8_t *payload, size_t size)
{
	int err;

	if (a->kind == PD_INT) {
		if (a->offset > size || a->size > size - a->offset ||
		    (a->size != 1 && a->size != 2 && a->size != 4 && a->size != 8))
			return -EINVAL;
		printf_int(b, pc, read_int(payload + a->offset, a->size, a->is_signed));
		return 0;
	}
	if (a->kind == PD_BUF && (pc->rmode == 'x' || pc->rmode == 'h')) {
		if (a->offset > size || a->size > size - a->offset || !a->size)
			return -EINVAL;
		format_buf_as(b, payload + a->offset, a->size, pc->rmode);
		return 0;
	}
	if (pc->plain) /* the common "%s": straight into the line */
		return rt_format_value(c, b, a, payload, size, false);
	c->arg.len = 0;
	rt_sbuf_put(&c->arg, "", 0);
	err = rt_format_value(c, &c->arg, a, payload, size, false);
	if (err)
		return err;
	if (c->arg.err)
		return c->arg.err;
	if (pc->conv == CONV_STR)
		sbuf_spec(b, pc->spec, c->arg.s ? c->arg.s : "");
	else
		rt_sbuf_put(b, c->arg.s, c->arg.len);
	return 0;
}

int rt_printf_format(struct rt_ctx *c, struct rt_sbuf *b, uint32_t id, const void *payload,
		     size_t size)
{
	const struct pd_printf *p;
	const struct rt_fmt *f;
	int err = 0;

	if (id >= c->pd->nprintfs)
		return -EINVAL;
	p = &c->pd->printfs[id];
	f = &c->fmts[id];
	if (size < p->size)
		return -EINVAL;
	for (uint32_t i = 0; i < f->nconv && !err; i++) {
		const struct fmt_piece *pc = &f->pieces[i];

		rt_sbuf_put(b, f->text + pc->lit, pc->lit_len);
		if (i < p->nargs)
			err = printf_arg(c, b, pc, &p->args[i], payload, p->size);
	}
	if (!err)
		rt_sbuf_put(b, f->text + f->pieces[f->nconv].lit, f->pieces[f->nconv].lit_len);
	return err ?: b->err;
}

/* ---- time ------------------------------------------------------------- */

int rt_format_time(struct rt_ctx *c, struct rt_sbuf *b, uint32_t id)
{
	char buf[TIME_BUF_SIZE];
	time_t t = time(NULL);
	struct tm tm;

	if (id >= c->pd->ntime_fmts)
		return -EINVAL;
	if (!localtime_r(&t, &tm))
		return -errno;
	if (!script_strftime(buf, sizeof(buf), c->pd->time_fmts[id] ?: "%H:%M:%S\n", &tm))
		return -ERANGE;
	rt_sbuf_puts(b, buf);
	return 0;
}

/* ---- JSON values ------------------------------------------------------ */

/* bpftrace 0.17's JsonOutput::value_to_str: integers bare, tuples as
 * "[" fields joined by "," "]", the rest quoted (0.17 left a strftime
 * timestamp unquoted, which is not JSON: we quote it). */
int rt_format_value_json(struct rt_ctx *c, struct rt_sbuf *b, const struct pd_layout *l,
			 const void *data, size_t size)
{
	const uint8_t *p = (const uint8_t *)data + l->offset;
	int err = 0;

	if (l->offset > size || l->size > size - l->offset)
		return -EINVAL;
	/* no value is null, not nothing: `"data": }` or `[1,]` is not JSON
	 * (no script makes one; the fuzzer's layouts do) */
	if (l->kind == PD_NONE) {
		rt_sbuf_puts(b, "null");
		return 0;
	}
	if (l->kind == PD_INT && !l->is_ptr) /* a pointer's 0x... is a string */
		return rt_format_value(c, b, l, data, size, false);
	if (l->kind == PD_TUPLE) {
		rt_sbuf_puts(b, "[");
		for (uint32_t i = 0; i < l->nfields && !err; i++) {
			if (i)
				rt_sbuf_puts(b, ",");
			err = rt_format_value_json(c, b, &l->fields[i], p, l->size);
		}
		rt_sbuf_puts(b, "]");
		return err;
	}
	if (l->kind == PD_ARRAY) { /* [1,2,3,4] (pton()'s array, as 0.17) */
		const struct pd_layout *e = &l->fields[0];

		if (!l->nfields || (l->count && e->size > l->size / l->count))
			return -EINVAL;
		rt_sbuf_puts(b, "[");
		for (uint32_t i = 0; i < l->count && !err; i++) {
			if (i)
				rt_sbuf_puts(b, ",");
			err = rt_format_value_json(c, b, e, p + (size_t)i * e->size, e->size);
		}
		rt_sbuf_puts(b, "]");
		return err;
	}
	/* { "a": 1, "b": 2 }: 0.17's JSON of a kernel struct (bitfields as
	 * their text, which is a number) */
	if (l->kind == PD_RECORD) {
		rt_sbuf_puts(b, "{ ");
		for (uint32_t i = 0; i < l->nfields && !err; i++) {
			const struct pd_layout *f = &l->fields[i];

			rt_sbuf_printf(b, "%s\"", i ? ", " : "");
			rt_json_escape(b, f->name ? f->name : "?", strlen(f->name ? f->name : "?"));
			rt_sbuf_puts(b, "\": ");
			if (f->kind == PD_INT && f->bit_size) {
				err = format_bitfield(b, f, p, l->size);
				continue;
			}
			err = rt_format_value_json(c, b, f, p, l->size);
		}
		rt_sbuf_puts(b, l->nfields ? " }" : "}");
		return err;
	}
	c->tmp.len = 0;
	rt_sbuf_put(&c->tmp, "", 0);
	err = rt_format_value(c, &c->tmp, l, data, size, false);
	if (err)
		return err;
	if (c->tmp.err)
		return c->tmp.err;
	rt_sbuf_puts(b, "\"");
	rt_json_escape(b, c->tmp.s, c->tmp.len);
	rt_sbuf_puts(b, "\"");
	return 0;
}

/* ---- init/fini -------------------------------------------------------- */

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int rt_ctx_init(struct rt_ctx *c, const struct progdesc *pd, const int *map_fds)
{
	int ncpus, err = 0;

	memset(c, 0, sizeof(*c));
	c->pd = pd;
	c->map_fds = map_fds;
	ncpus = libbpf_num_possible_cpus();
	c->ncpus = ncpus > 0 ? (uint32_t)ncpus : 1;
	c->boot_to_real_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
	c->fmts = calloc(pd->nprintfs + 1, sizeof(*c->fmts));
	if (!c->fmts)
		return -ENOMEM;
	for (uint32_t i = 0; i < pd->nprintfs && !err; i++)
		err = fmt_parse(&c->fmts[i], pd->printfs[i].fmt ?: "");
	if (err)
		rt_ctx_fini(c);
	return err;
}

void rt_ctx_fini(struct rt_ctx *c)
{
	if (c->fmts)
		for (uint32_t i = 0; i < c->pd->nprintfs; i++)
			fmt_free(&c->fmts[i]);
	free(c->fmts);
	c->fmts = NULL;
	rt_ksyms_free(c->ksyms);
	c->ksyms = NULL;
	rt_usyms_free(c->usyms);
	c->usyms = NULL;
	rt_sbuf_free(&c->arg);
	rt_sbuf_free(&c->tmp);
}
