/* btf.c: kernel types from BTF (libbpf's btf__* API) as struct type.
 *
 * In: kernel_info's vmlinux BTF, module BTF from /sys/kernel/btf on a
 * miss. Out: types.h values; see btf.h. Field offsets are the running
 * kernel's (we compile where the program runs: docs/architecture.md,
 * "Kernel types").
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "compiler/btf.h"

#define KBTF_MAX_MODS 512

struct rec_ent {
	const struct btf *btf;
	uint32_t id;
	struct type *t;
};

struct enum_ent {
	const char *name;
	int64_t value;
	const struct btf *btf;
	uint32_t type_id;
};

struct kbtf {
	struct arena *a;
	const struct btf *vmlinux;
	struct btf *mods[KBTF_MAX_MODS];
	int nmods;
	bool mods_loaded;
	double ms;
	struct rec_ent *recs; /* open addressing by (btf, id) */
	uint32_t rec_cap, nrecs;
	struct enum_ent *enums; /* open addressing by name */
	uint32_t enum_cap;
	bool enums_built;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct kbtf *kbtf_open(struct kernel_info *ki, struct arena *a, const char **why)
{
	double t0 = now_ms();
	const struct btf *v = ki->vmlinux_btf ? ki->vmlinux_btf(ki, why) : NULL;
	if (!v) {
		if (!ki->vmlinux_btf)
			*why = "no BTF source";
		return NULL;
	}
	struct kbtf *kb = arena_alloc(a, sizeof(*kb));
	kb->a = a;
	kb->vmlinux = v;
	kb->ms = now_ms() - t0;
	return kb;
}

double kbtf_load_ms(const struct kbtf *kb)
{
	return kb ? kb->ms : 0;
}

/* Module BTF, all of it, the first time a name is missing from vmlinux
 * (split BTF: module ids continue vmlinux's). */
static void load_mods(struct kbtf *kb)
{
	if (kb->mods_loaded)
		return;
	kb->mods_loaded = true;
	double t0 = now_ms();
	DIR *d = opendir("/sys/kernel/btf");
	if (!d)
		return;
	struct dirent *e;
	char path[512];
	while ((e = readdir(d)) && kb->nmods < KBTF_MAX_MODS) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "vmlinux"))
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/btf/%s", e->d_name);
		struct btf *m = btf__parse_split(path, (struct btf *)kb->vmlinux);
		if (m && !libbpf_get_error(m))
			kb->mods[kb->nmods++] = m;
	}
	closedir(d);
	kb->ms += now_ms() - t0;
}

/* The type `name` of `kind` in vmlinux, then in modules. */
static bool find(struct kbtf *kb, const char *name, int kind, const struct btf **btf, uint32_t *id)
{
	int r = btf__find_by_name_kind(kb->vmlinux, name, kind);
	if (r > 0) {
		*btf = kb->vmlinux;
		*id = (uint32_t)r;
		return true;
	}
	load_mods(kb);
	for (int i = 0; i < kb->nmods; i++) {
		r = btf__find_by_name_kind(kb->mods[i], name, kind);
		if (r > 0) {
			*btf = kb->mods[i];
			*id = (uint32_t)r;
			return true;
		}
	}
	return false;
}

/* Skips const/volatile/restrict/typedef/type tags; *user when a type tag
 * says "user" (kernels built with btf_type_tag mark __user pointers). */
static uint32_t skip_mods(const struct btf *btf, uint32_t id, bool *user)
{
	for (int i = 0; i < 64 && id; i++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!t)
			return 0;
		switch (btf_kind(t)) {
		case BTF_KIND_TYPE_TAG:
			if (user && !strcmp(btf__name_by_offset(btf, t->name_off), "user"))
				*user = true;
			/* fallthrough */
		case BTF_KIND_CONST:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPEDEF:
			id = t->type;
			continue;
		default:
			return id;
		}
	}
	return id;
}

static uint32_t rec_hash(const struct btf *btf, uint32_t id)
{
	return (uint32_t)(((uintptr_t)btf >> 4) * 2654435761u) ^ (id * 40503u);
}

static struct type *record(struct kbtf *kb, const struct btf *btf, uint32_t id)
{
	if ((kb->nrecs + 1) * 2 > kb->rec_cap) {
		struct rec_ent *old = kb->recs;
		uint32_t oc = kb->rec_cap;
		kb->rec_cap = oc ? oc * 2 : 256;
		kb->recs = arena_alloc(kb->a, kb->rec_cap * sizeof(*kb->recs));
		for (uint32_t i = 0; i < oc; i++) {
			if (!old[i].t)
				continue;
			uint32_t h = rec_hash(old[i].btf, old[i].id) & (kb->rec_cap - 1);
			while (kb->recs[h].t)
				h = (h + 1) & (kb->rec_cap - 1);
			kb->recs[h] = old[i];
		}
	}
	uint32_t h = rec_hash(btf, id) & (kb->rec_cap - 1);
	while (kb->recs[h].t) {
		if (kb->recs[h].btf == btf && kb->recs[h].id == id)
			return kb->recs[h].t;
		h = (h + 1) & (kb->rec_cap - 1);
	}
	const struct btf_type *bt = btf__type_by_id(btf, id);
	struct type *t = arena_alloc(kb->a, sizeof(*t));
	t->kind = TY_RECORD;
	t->size = bt->size;
	t->align = 8;
	t->is_union = btf_kind(bt) == BTF_KIND_UNION;
	t->name = arena_strdup(kb->a, btf__name_by_offset(btf, bt->name_off));
	t->btf = btf;
	t->btf_id = (int32_t)id;
	kb->recs[h] = (struct rec_ent){ btf, id, t };
	kb->nrecs++;
	return t;
}

struct type *kbtf_lazy_struct(struct arena *a, const char *name)
{
	struct type *t = arena_alloc(a, sizeof(*t));
	t->kind = TY_RECORD;
	t->align = 8;
	t->name = name;
	return t;
}

static bool is_char(const struct btf *btf, const struct btf_type *t)
{
	if (!btf_is_int(t) || t->size != 1)
		return false;
	const char *n = btf__name_by_offset(btf, t->name_off);
	return n && strstr(n, "char");
}

/* The type of BTF type id: NULL for void and functions. */
static struct type *conv(struct kbtf *kb, const struct btf *btf, uint32_t id)
{
	bool user = false;
	id = skip_mods(btf, id, NULL);
	const struct btf_type *t = id ? btf__type_by_id(btf, id) : NULL;
	if (!t)
		return NULL;
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		if (t->size == 1 || t->size == 2 || t->size == 4 || t->size == 8)
			return type_int((int)t->size * 8, (btf_int_encoding(t) & BTF_INT_SIGNED) != 0);
		return type_array(kb->a, &type_u8, t->size);
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		if (t->size == 1 || t->size == 2 || t->size == 4 || t->size == 8)
			return type_int((int)t->size * 8, btf_kflag(t));
		return &type_u32;
	case BTF_KIND_PTR: {
		uint32_t target = skip_mods(btf, t->type, &user);
		const struct btf_type *tt = target ? btf__type_by_id(btf, target) : NULL;
		struct type *elem = NULL;
		if (tt && btf_kind(tt) != BTF_KIND_FUNC_PROTO && btf_kind(tt) != BTF_KIND_FUNC)
			elem = conv(kb, btf, target);
		return type_ptr(kb->a, elem, user);
	}
	case BTF_KIND_ARRAY: {
		const struct btf_array *arr = btf_array(t);
		uint32_t eid = skip_mods(btf, arr->type, NULL);
		const struct btf_type *et = btf__type_by_id(btf, eid);
		if (et && is_char(btf, et) && arr->nelems)
			return type_str(kb->a, arr->nelems);
		struct type *elem = conv(kb, btf, eid);
		if (!elem)
			elem = &type_u8;
		return type_array(kb->a, elem, arr->nelems);
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return record(kb, btf, id);
	case BTF_KIND_FWD: {
		const struct btf *b2;
		uint32_t id2;
		const char *n = btf__name_by_offset(btf, t->name_off);
		if (find(kb, n, btf_kflag(t) ? BTF_KIND_UNION : BTF_KIND_STRUCT, &b2, &id2))
			return record(kb, b2, id2);
		struct type *r = kbtf_lazy_struct(kb->a, arena_strdup(kb->a, n));
		r->is_union = btf_kflag(t);
		return r;
	}
	case BTF_KIND_FLOAT:
		return type_array(kb->a, &type_u8, t->size);
	default:
		return NULL;
	}
}

struct type *kbtf_type(struct kbtf *kb, const char *name, bool is_struct)
{
	const struct btf *btf;
	uint32_t id;
	if (!is_struct && find(kb, name, BTF_KIND_TYPEDEF, &btf, &id))
		return conv(kb, btf, id);
	if (find(kb, name, BTF_KIND_STRUCT, &btf, &id) || find(kb, name, BTF_KIND_UNION, &btf, &id))
		return record(kb, btf, id);
	return NULL;
}

/* ---- fields ---- */

struct fields {
	struct type_field *v;
	uint32_t n, cap;
};

static void add_members(struct kbtf *kb, const struct btf *btf, const struct btf_type *t,
			uint32_t base_bits, struct fields *out)
{
	const struct btf_member *m = btf_members(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
		uint32_t bits = base_bits + btf_member_bit_offset(t, i);
		uint32_t bsz = btf_member_bitfield_size(t, i);
		const char *name = btf__name_by_offset(btf, m->name_off);
		if (!name || !*name) { /* anonymous struct/union: its members are ours */
			uint32_t mid = skip_mods(btf, m->type, NULL);
			const struct btf_type *mt = btf__type_by_id(btf, mid);
			if (mt && (btf_is_struct(mt) || btf_is_union(mt)))
				add_members(kb, btf, mt, bits, out);
			continue;
		}
		struct type *ft = conv(kb, btf, m->type);
		if (!ft)
			continue;
		ARENA_GROW(kb->a, out->v, out->n, out->cap);
		struct type_field *f = &out->v[out->n++];
		f->name = name;
		f->type = ft;
		f->offset = bits / 8;
		if (bsz && ft->kind == TY_INT) {
			f->bit_offset = (uint8_t)(bits % 8);
			f->bit_size = (uint8_t)bsz;
		}
	}
}

bool kbtf_fields(struct kbtf *kb, struct type *rec)
{
	if (rec->fields_loaded)
		return true;
	if (!rec->btf) {
		const struct btf *btf;
		uint32_t id;
		if (!find(kb, rec->name, rec->is_union ? BTF_KIND_UNION : BTF_KIND_STRUCT, &btf, &id))
			return false;
		const struct btf_type *bt = btf__type_by_id(btf, id);
		rec->btf = btf;
		rec->btf_id = (int32_t)id;
		rec->size = bt->size;
	}
	const struct btf *btf = rec->btf;
	const struct btf_type *t = btf__type_by_id(btf, (uint32_t)rec->btf_id);
	struct fields out = { 0 };
	add_members(kb, btf, t, 0, &out);
	rec->fields = out.v;
	rec->nfields = out.n;
	rec->fields_loaded = true;
	return true;
}

/* ---- enums ---- */

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void enum_put(struct kbtf *kb, const char *name, int64_t v, const struct btf *btf,
		     uint32_t tid)
{
	uint32_t h = str_hash(name) & (kb->enum_cap - 1);
	while (kb->enums[h].name) {
		if (!strcmp(kb->enums[h].name, name))
			return; /* the first definition wins */
		h = (h + 1) & (kb->enum_cap - 1);
	}
	kb->enums[h] = (struct enum_ent){ name, v, btf, tid };
}

static void build_enums(struct kbtf *kb)
{
	kb->enums_built = true;
	const struct btf *btf = kb->vmlinux;
	uint32_t n = btf__type_cnt(btf), total = 0;
	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (btf_is_any_enum(t))
			total += btf_vlen(t);
	}
	kb->enum_cap = 64;
	while (kb->enum_cap < total * 2)
		kb->enum_cap *= 2;
	kb->enums = arena_alloc(kb->a, kb->enum_cap * sizeof(*kb->enums));
	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (btf_is_enum(t)) {
			const struct btf_enum *e = btf_enum(t);
			for (uint16_t i = 0; i < btf_vlen(t); i++, e++)
				enum_put(kb, btf__name_by_offset(btf, e->name_off),
					 btf_kflag(t) ? (int64_t)e->val : (int64_t)(uint32_t)e->val, btf, id);
		} else if (btf_is_enum64(t)) {
			const struct btf_enum64 *e = btf_enum64(t);
			for (uint16_t i = 0; i < btf_vlen(t); i++, e++)
				enum_put(kb, btf__name_by_offset(btf, e->name_off),
					 (int64_t)btf_enum64_value(e), btf, id);
		}
	}
}

bool kbtf_enum_value(struct kbtf *kb, const char *name, int64_t *value, struct type **t)
{
	if (!kb->enums_built)
		build_enums(kb);
	uint32_t h = str_hash(name) & (kb->enum_cap - 1);
	while (kb->enums[h].name) {
		if (!strcmp(kb->enums[h].name, name)) {
			*value = kb->enums[h].value;
			*t = conv(kb, kb->enums[h].btf, kb->enums[h].type_id);
			if (!*t)
				*t = &type_s64;
			return true;
		}
		h = (h + 1) & (kb->enum_cap - 1);
	}
	return false;
}

/* ---- "did you mean" ---- */

int kbtf_closest_structs(struct kbtf *kb, const char *name, const char **out, int max)
{
	int len = (int)strlen(name), best[8], n = 0, limit = len >= 6 ? len / 4 + 1 : 1;
	if (max > 8)
		max = 8;
	uint32_t cnt = btf__type_cnt(kb->vmlinux);
	for (uint32_t id = 1; id < cnt; id++) {
		const struct btf_type *t = btf__type_by_id(kb->vmlinux, id);
		if (!btf_is_struct(t) && !btf_is_union(t))
			continue;
		const char *s = btf__name_by_offset(kb->vmlinux, t->name_off);
		if (!s || !*s)
			continue;
		/* the distance is at least the difference in length: most
		 * names are skipped without computing it (a long misspelt name
		 * against the kernel's 10,000 structs took 0.1 s, 3 s under ASan) */
		int diff = (int)strnlen(s, 128) - (len < 128 ? len : 128);
		if (diff > limit || -diff > limit)
			continue;
		int d = ki_edit_distance(name, s);
		if (d > limit || (n == max && d >= best[n - 1]))
			continue;
		bool dup = false;
		for (int i = 0; i < n; i++)
			dup |= !strcmp(out[i], s);
		if (dup)
			continue;
		int i = n < max ? n++ : n - 1;
		while (i > 0 && best[i - 1] > d) {
			best[i] = best[i - 1];
			out[i] = out[i - 1];
			i--;
		}
		best[i] = d;
		out[i] = s;
	}
	return n;
}

/* ---- function arguments ---- */

static struct type *proto_ctx(struct kbtf *kb, const struct btf *btf, const struct btf_type *proto,
			      int skip, struct type **ret)
{
	int n = btf_vlen(proto) - skip;
	if (n < 0)
		n = 0;
	struct type *t = arena_alloc(kb->a, sizeof(*t));
	t->kind = TY_CTX;
	t->align = 8;
	t->ctx_u64_args = true;
	t->fields = arena_alloc(kb->a, (n + 1) * sizeof(*t->fields));
	const struct btf_param *p = btf_params(proto) + skip;
	for (int i = 0; i < n; i++, p++) {
		const char *name = btf__name_by_offset(btf, p->name_off);
		struct type *pt = conv(kb, btf, p->type);
		if (!pt || type_is_aggregate(pt))
			pt = &type_u64; /* a struct passed by value: its first 8 bytes */
		struct type_field *f = &t->fields[t->nfields++];
		f->name = name && *name ? name : arena_printf(kb->a, "arg%d", i);
		f->type = pt;
		f->offset = (uint32_t)i * 8;
	}
	t->size = (uint32_t)n * 8;
	if (ret) {
		*ret = proto->type ? conv(kb, btf, proto->type) : &type_void;
		if (!*ret || type_is_aggregate(*ret))
			*ret = proto->type ? &type_u64 : &type_void;
	}
	return t;
}

struct type *kbtf_func_ctx(struct kbtf *kb, const char *func, struct type **ret, const char **why)
{
	const struct btf *btf;
	uint32_t id;
	if (!find(kb, func, BTF_KIND_FUNC, &btf, &id)) {
		*why = "it is not in the kernel's BTF";
		return NULL;
	}
	const struct btf_type *f = btf__type_by_id(btf, id);
	const struct btf_type *proto = btf__type_by_id(btf, f->type);
	if (!proto || !btf_is_func_proto(proto)) {
		*why = "its BTF has no prototype";
		return NULL;
	}
	return proto_ctx(kb, btf, proto, 0, ret);
}

struct type *kbtf_rawtp_ctx(struct kbtf *kb, const char *tp, const char **why)
{
	const struct btf *btf;
	uint32_t id;
	char name[256];
	/* __bpf_trace_TP, the function the raw tracepoint calls, has the
	 * argument names; btf_trace_TP only their types */
	snprintf(name, sizeof(name), "__bpf_trace_%s", tp);
	if (find(kb, name, BTF_KIND_FUNC, &btf, &id)) {
		const struct btf_type *f = btf__type_by_id(btf, id);
		const struct btf_type *proto = btf__type_by_id(btf, f->type);
		if (proto && btf_is_func_proto(proto) && btf_vlen(proto) >= 1)
			return proto_ctx(kb, btf, proto, 1, NULL);
	}
	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	if (!find(kb, name, BTF_KIND_TYPEDEF, &btf, &id)) {
		*why = "the kernel's BTF has no btf_trace_ typedef for it";
		return NULL;
	}
	const struct btf_type *t = btf__type_by_id(btf, id);
	t = btf__type_by_id(btf, t->type); /* pointer */
	const struct btf_type *proto = t && btf_is_ptr(t) ? btf__type_by_id(btf, t->type) : NULL;
	if (!proto || !btf_is_func_proto(proto)) {
		*why = "its btf_trace_ typedef is not a function pointer";
		return NULL;
	}
	return proto_ctx(kb, btf, proto, 1, NULL);
}

struct type *kbtf_tp_field_ptr(struct kbtf *kb, const char *tp_name, const char *field)
{
	const char *colon = strchr(tp_name, ':');
	char name[256];
	snprintf(name, sizeof(name), "trace_event_raw_%s", colon ? colon + 1 : tp_name);
	struct type *rec = kbtf_type(kb, name, true);
	if (!rec || !kbtf_fields(kb, rec))
		return NULL;
	for (uint32_t i = 0; i < rec->nfields; i++)
		if (!strcmp(rec->fields[i].name, field) && rec->fields[i].type->kind == TY_PTR)
			return rec->fields[i].type;
	return NULL;
}
