/* ast.h: the syntax tree.
 *
 * One struct for every node, with a union member per kind (n->binop.lhs).
 * Every node has a kind, a span into the source and, after sema, a type.
 * Lists (probes, statements, arguments, keys, tuple elements) are chained
 * through `next`, in source order. Nodes live in the compilation's arena.
 *
 * The parser builds nodes only; it checks nothing that sema can check.
 */
#ifndef TRACE_AST_H
#define TRACE_AST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "compiler/arena.h"
#include "compiler/source.h"

struct type;

enum node_kind {
	/* top level */
	N_PROGRAM,     /* probes and struct declarations */
	N_PROBE,       /* attach points, optional predicate, body */
	N_ATTACH,      /* one attach point: provider:parts */
	N_STRUCT_DECL, /* struct NAME { fields } */
	N_FIELD_DECL,  /* TYPE NAME[N]; inside a struct declaration */
	N_TYPENAME,    /* int8, uint64, struct task_struct *, char[16] */
	N_MACRO,       /* macro NAME(params) { body } */
	/* statements */
	N_BLOCK,     /* { stmt; stmt; } */
	N_EXPR_STMT, /* expr; */
	N_ASSIGN,    /* target = value, target op= value */
	N_IF,	     /* if (cond) then else els */
	N_UNROLL,    /* unroll (count) body */
	N_WHILE,     /* while (cond) body */
	N_FOR,	     /* for ($v : @map) body, for ($v : lo..hi) body */
	N_RETURN,    /* return [expr] */
	N_BREAK,     /* break */
	N_CONTINUE,  /* continue */
	N_LET,	     /* let $x [: type] [= value] */
	/* expressions */
	N_INT,	     /* 42, 0x2a, 'c' */
	N_STR,	     /* "text" (escapes already decoded) */
	N_IDENT,     /* bare identifier: builtin (pid, comm, args) or name */
	N_VAR,	     /* $name */
	N_POSPARAM,  /* $1 .. $N */
	N_POSCOUNT,  /* $# */
	N_MAP,	     /* @name, @name[keys], @, @[keys] */
	N_BINOP,     /* lhs op rhs */
	N_UNOP,	     /* op operand */
	N_INCDEC,    /* ++x, x++, --x, x-- */
	N_TERNARY,   /* cond ? then : els */
	N_CALL,	     /* name(args) */
	N_FIELD,     /* base.name, base->name, tuple.0 */
	N_INDEX,     /* base[index] */
	N_TUPLE,     /* (a, b, ...) with at least two elements */
	N_CAST,	     /* (type) expr */
	N_SIZEOF,    /* sizeof(type) or sizeof(expr) */
	N_OFFSETOF,  /* offsetof(struct X, field) */
	N_BLOCK_EXPR, /* { stmts; value }: a macro's expansion used as a value */
	N__COUNT
};

enum binop {
	OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD,
	OP_BAND, OP_BOR, OP_BXOR, OP_SHL, OP_SHR,
	OP_LAND, OP_LOR,
	OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
	OP__COUNT
};

enum unop {
	UOP_NEG,   /* -x */
	UOP_PLUS,  /* +x */
	UOP_BNOT,  /* ~x */
	UOP_LNOT,  /* !x */
	UOP_DEREF, /* *p */
	UOP_ADDR,  /* &x */
};

struct node {
	enum node_kind kind;
	struct span span;
	struct type *type; /* set by sema; NULL before */
	struct node *next; /* next in the enclosing list */
	void *sym;	   /* sema's annotation: the variable, map, builtin or
			      function entry this node refers to */
	union {
		struct { /* N_PROGRAM */
			struct node *structs; /* N_STRUCT_DECL list */
			struct node *probes;  /* N_PROBE list */
			struct node *config;  /* config = { } block: N_BLOCK of
						 N_ASSIGN (KEY = value), or NULL */
			struct node *map_decls; /* let @m = hash(N);: N_ASSIGN of
						   N_MAP and N_CALL */
			struct node *macros;	/* N_MACRO list (expanded by macro.c) */
		} program;
		struct { /* N_PROBE */
			struct node *attach; /* N_ATTACH list, at least one */
			struct node *pred;   /* expression or NULL */
			struct node *body;   /* N_BLOCK */
			int index;	     /* position in the program, from 0 */
		} probe;
		struct { /* N_ATTACH */
			const char *raw;      /* exactly as written */
			const char *provider; /* canonical long name: "BEGIN",
						 "END", "tracepoint", "kprobe",
						 "kretprobe", "uprobe", "uretprobe",
						 "usdt", "rawtracepoint", "fentry",
						 "fexit", "profile", "interval",
						 "software", "hardware", "iter",
						 "watchpoint", "asyncwatchpoint" */
			const char *parts[4]; /* the ':'-separated fields after the
						 provider, as written (wildcards
						 kept); "+OFF" is split off */
			int nparts;
			uint64_t offset; /* FUNC+OFF */
			bool has_offset;
		} attach;
		struct { /* N_STRUCT_DECL */
			const char *name;     /* "Foo" of struct Foo */
			struct node *fields;  /* N_FIELD_DECL list */
			bool is_union;	      /* written "union NAME { ... }" */
		} struct_decl;
		struct { /* N_FIELD_DECL */
			struct node *type_name; /* N_TYPENAME */
			const char *name;
			int bits;	     /* bit-field width + 1 ("int x : 3;"), 0 if none */
			uint32_t offset;     /* set by sema (shown by -d types) */
			uint32_t bit_offset; /* bit-fields: first bit (0..7) at offset */
		} field_decl;
		struct { /* N_TYPENAME */
			const char *name; /* "int", "uint16", "task_struct" */
			bool is_struct;	  /* written "struct name" */
			int ptr_depth;	  /* number of '*' */
			int64_t array_len; /* -1 unless "name[N]" */
		} type_name;
		struct { /* N_BLOCK */
			struct node *stmts;
			/* the last statement is an expression without ';' (a
			   macro body's value) */
			bool ends_in_value;
		} block;
		struct { /* N_MACRO */
			const char *name;
			struct node *params; /* N_VAR ($a), N_MAP (@b), N_IDENT (c) */
			int nparams;
			struct node *body;   /* N_BLOCK */
		} macro;
		struct { /* N_BLOCK_EXPR */
			struct node *stmts; /* statements run first */
			struct node *value; /* then this expression */
		} block_expr;
		struct { /* N_EXPR_STMT, N_RETURN (expr may be NULL) */
			struct node *expr;
		} stmt;
		struct { /* N_ASSIGN */
			struct node *target; /* N_MAP, N_VAR (or any lvalue form) */
			struct node *value;
			bool compound;	     /* op= form */
			enum binop op;	     /* when compound */
		} assign;
		struct { /* N_IF */
			struct node *cond;
			struct node *then; /* N_BLOCK */
			struct node *els;  /* N_BLOCK, N_IF (else if) or NULL */
		} if_;
		struct { /* N_UNROLL, N_WHILE */
			struct node *cond; /* count for unroll */
			struct node *body; /* N_BLOCK */
		} loop;
		struct { /* N_FOR */
			struct node *var;  /* N_VAR */
			struct node *map;  /* N_MAP, or NULL for a range */
			struct node *lo, *hi; /* range bounds when map is NULL */
			struct node *body; /* N_BLOCK */
		} for_;
		struct { /* N_LET */
			struct node *var;	/* N_VAR */
			struct node *type_name; /* N_TYPENAME or NULL */
			struct node *value;	/* expression or NULL */
		} let;
		struct { /* N_INT */
			uint64_t value;
			bool is_char; /* written as 'c' */
		} num;
		struct { /* N_STR */
			const char *value; /* decoded, NUL-terminated */
			uint32_t len;	   /* bytes, without the NUL */
		} str;
		struct { /* N_IDENT, N_VAR ($ included in name: "$x") */
			const char *name;
		} ident;
		struct { /* N_POSPARAM */
			int index; /* 1 for $1 */
		} posparam;
		struct { /* N_MAP */
			const char *name; /* "@name", or "@" for the anonymous map */
			struct node *keys; /* expression list or NULL */
			int nkeys;
		} map;
		struct { /* N_BINOP */
			enum binop op;
			struct node *lhs, *rhs;
		} binop;
		struct { /* N_UNOP */
			enum unop op;
			struct node *operand;
		} unop;
		struct { /* N_INCDEC */
			struct node *operand;
			bool is_inc;	/* ++ rather than -- */
			bool is_prefix; /* ++x rather than x++ */
		} incdec;
		struct { /* N_TERNARY */
			struct node *cond, *then, *els;
		} ternary;
		struct { /* N_CALL */
			const char *name;
			struct node *args;
			int nargs;
			uint64_t value; /* folded by sema (kaddr) */
		} call;
		struct { /* N_FIELD */
			struct node *base;
			const char *name; /* "0" for tuple.0 */
			bool is_arrow;	  /* -> rather than . */
		} field;
		struct { /* N_INDEX */
			struct node *base, *index;
		} index;
		struct { /* N_TUPLE */
			struct node *elems;
			int n;
		} tuple;
		struct { /* N_CAST */
			struct node *type_name; /* N_TYPENAME */
			struct node *expr;
		} cast;
		struct { /* N_SIZEOF: exactly one of the two is set */
			struct node *type_name;
			struct node *expr;
			uint64_t value; /* set by sema */
		} size_of;
		struct { /* N_OFFSETOF */
			struct node *type_name;
			const char *field; /* "a.b" for nested members */
			uint64_t value;	   /* set by sema */
		} offset_of;
	};
};

/* Allocates a zeroed node of this kind and span in the arena. */
struct node *ast_new(struct arena *a, enum node_kind kind, struct span sp);
/* Appends `item` (which may itself be a list) to list *head. */
void ast_append(struct node **head, struct node *item);
int ast_list_len(const struct node *list);

const char *ast_kind_name(enum node_kind kind); /* "binop" */
const char *ast_binop_str(enum binop op);	 /* "+" */
const char *ast_unop_str(enum unop op);		 /* "-" */

/* Canonical provider name for a written one ("t" -> "tracepoint",
 * "kfunc" -> "fentry", "begin" -> "BEGIN"), or NULL if unknown. */
const char *ast_canonical_provider(const char *written);

/* Indented tree, one node per line: kind, names/values, span as
 * LINE:COL-LINE:COL; with types when with_types (the -d types dump). */
void ast_dump(FILE *out, const struct node *n, const struct source *src, bool with_types);

/* Added by the front end (parser helper and sema desugaring). */
struct node *ast_new_int(struct arena *a, struct span sp, uint64_t value);
/* N_IDENT or N_VAR with this name. */
struct node *ast_new_name(struct arena *a, enum node_kind kind, struct span sp, const char *name);
struct node *ast_new_binop(struct arena *a, struct span sp, enum binop op, struct node *lhs,
			   struct node *rhs);
struct node *ast_new_unop(struct arena *a, struct span sp, enum unop op, struct node *operand);
struct node *ast_new_call(struct arena *a, struct span sp, const char *name, struct node *args);

/* The child lists of n in source order, each a head to follow through
 * `next` (a single child is a one-element list); unset children are NULL
 * entries. Returns the number of entries written. */
#define AST_MAX_CHILDREN 5
int ast_children(const struct node *n, struct node *out[AST_MAX_CHILDREN]);

/* Provided by sema (types.c): a short type name for dumps ("uint64",
 * "string[16]"). NULL-safe. */
const char *type_name_str(const struct type *t, char *buf, size_t len);

#endif
