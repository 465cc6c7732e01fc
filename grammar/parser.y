/* parser.y: tokens -> AST.
 *
 * In: tokens from lexer.l. Out: the probes and struct declarations in
 * parse_ctx (parse.c wraps them in the N_PROGRAM node), and syntax errors
 * in the diag. The actions only build nodes; the few
 * checks here are those the tree cannot represent (an empty predicate, a
 * `for` over something that is neither a map nor a range, a struct field
 * without a name) plus attach point splitting (parse.c).
 *
 * Error recovery: a bad statement is skipped up to the next ';' or over
 * the next { block }, a bad block or probe up to its closing brace (the
 * lexer marks the brace that returns to the top level as TOP_CLOSE), so
 * one run reports several errors. Messages are written by
 * yyreport_syntax_error() in words ("expected ';' after statement").
 *
 * Conflicts: none. The one ambiguity, `@m[k]` (map keys) against
 * `@m` followed by `[i]` (indexing the value), is settled by precedence:
 * a map name takes the '[' that follows it.
 *
 * Lists are built with a tail pointer (struct node_list), never by
 * walking, so long scripts parse in linear time.
 */
%define api.pure full
%define api.location.type {struct span}
%define parse.error custom
%define parse.lac full
%locations
%parse-param {void *scanner} {struct parse_ctx *p}
%lex-param {void *scanner}

%code requires {
#include <stdbool.h>
#include <stdint.h>

#include "compiler/ast.h"
#include "compiler/cpp.h"
#include "compiler/diag.h"

/* A list under construction: head, tail and length. */
struct node_list {
	struct node *head, *tail;
	int n;
};

/* State shared by the lexer, the grammar actions and parse.c. */
struct parse_ctx {
	const struct source *src;
	struct arena *arena;
	struct diag *diag;
	uint32_t len;		/* of the source text */
	/* lexer */
	uint32_t pos;		/* offset of the next unread byte */
	int depth;		/* brace depth; 0 at the top level */
	int last_token;		/* kind of the last token returned */
	uint32_t last_end;	/* end of the last token returned */
	uint32_t prev_end;	/* end of the token before that one */
	bool stop;		/* return end of file from now on */
	bool top_decl;		/* in a top-level `let @m = ...;` */
	bool eof_reported;	/* a lexer error already explained the EOF */
	int lex_errors;		/* errors the lexer reported */
	int lex_errors_seen;	/* lex_errors when the last token was returned */
	bool cur_lex_error;	/* the lexer reported an error in or before
				   the last token... */
	bool prev_lex_error;	/* ...or in or before the one before it */
	/* parser */
	struct node_list structs, probes;
	struct node *config;	/* the config = { } block (N_BLOCK), or NULL */
	struct node_list map_decls; /* let @m = hash(N); (N_ASSIGN) */
	struct node_list macros;    /* macro NAME(...) { } (N_MACRO) */
	/* preprocessor (compiler/cpp.c): the lexer reads its output; spans are
	   mapped back to the script through it. NULL: the script itself. */
	const struct cpp_result *pp;
	uint32_t tok_begin;	/* output offset of the token being matched */
};

/* parse.c */
struct node *parse_attach(struct parse_ctx *p, const char *raw, struct span sp);
void parse_list_add(struct node_list *l, struct node *n);
}

%union {
	struct node *node;
	const char *str;
	uint64_t num;
	enum binop op;
	struct node_list list;
}

%code {
#include "lexer.h"

#define YYLLOC_DEFAULT(cur, rhs, n)                                                               \
	do {                                                                                       \
		if (n) {                                                                           \
			(cur).file = YYRHSLOC(rhs, 1).file;                                        \
			(cur).begin = YYRHSLOC(rhs, 1).begin;                                      \
			(cur).end = YYRHSLOC(rhs, n).end;                                          \
		} else {                                                                           \
			(cur).file = YYRHSLOC(rhs, 0).file;                                        \
			(cur).begin = (cur).end = YYRHSLOC(rhs, 0).end;                            \
		}                                                                                  \
	} while (0)

static void yyerror(struct span *loc, void *scanner, struct parse_ctx *p, const char *msg);
static struct node *new_node(struct parse_ctx *p, enum node_kind kind, struct span sp);
static struct node_list list1(struct node *n);
static struct node *new_binop(struct parse_ctx *p, struct span sp, enum binop op,
			      struct node *l, struct node *r);
static struct node *new_unop(struct parse_ctx *p, struct span sp, enum unop op, struct node *x);
static struct node *new_incdec(struct parse_ctx *p, struct span sp, struct node *x, bool inc,
			       bool prefix);
static struct node *new_map(struct parse_ctx *p, struct span sp, const char *name,
			    struct node_list keys);
static struct node *new_typename(struct parse_ctx *p, struct span sp, const char *name,
				 bool is_struct, int ptr_depth, int64_t array_len);
static struct node *new_field_decl(struct parse_ctx *p, struct span sp, struct node_list words,
				   int ptr_depth, int64_t array_len, const char *name);
static struct node *new_for(struct parse_ctx *p, struct span sp, struct node *var,
			    struct node *lo, struct node *hi, struct node *body);
static const char *token_text(struct parse_ctx *p, struct span sp);
static struct node *new_let(struct parse_ctx *p, struct span sp, struct span var_sp,
			    const char *name, struct node *type, struct node *value);
}

%initial-action {
	@$.file = 0;
	@$.begin = @$.end = 0;
}

%token <str> IDENT "identifier" VAR "variable" MAP "map" ATTACH "attach point" TYPE "type name"
%token <node> INT "number" STRING "string"
%token <num> POSPARAM "positional parameter"
%token POSCOUNT "'$#'"
%token <op> COMPOUND_ASSIGN "compound assignment"
%token IF "'if'" ELSE "'else'" UNROLL "'unroll'" WHILE "'while'" FOR "'for'"
%token RETURN "'return'" BREAK "'break'" CONTINUE "'continue'" LET "'let'"
%token SIZEOF "'sizeof'" OFFSETOF "'offsetof'" STRUCT "'struct'" UNION "'union'"
%token EQ "'=='" NE "'!='" LE "'<='" GE "'>='" SHL "'<<'" SHR "'>>'" AND "'&&'" OR "'||'"
%token INC "'++'" DEC "'--'" ARROW "'->'" DOTDOT "'..'"
%token ENDPRED "'/' before '{'" TOP_CLOSE "closing '}'" CONFIG "'config'" MACRO "'macro'"

%type <node> probe struct_decl pred body block simple_stmt compound_stmt if_stmt
%type <node> expr unary postfix primary type field
%type <list> attach_list stmts expr_list words fields macro_params macro_plist
%type <node> macro_param
%type <num> ptrs
%type <str> field_name field_path

/* Lowest first. MAP_ALONE < '[' lets `@m[...]` take its keys. */
%precedence MAP_ALONE
%right '?' ':'
%left OR
%left AND
%left '|'
%left '^'
%left '&'
%left EQ NE
%left '<' '>' LE GE
%left SHL SHR
%left '+' '-'
%left '*' '/' '%'
%precedence '['

%%

/* program = { probe | struct_decl | ';' }; parse.c makes the N_PROGRAM
 * node from p->structs and p->probes, also when the parse gave up. */
program
	: items
	;

items
	: %empty
	| items probe { $2->probe.index = p->probes.n; parse_list_add(&p->probes, $2); }
	| items struct_decl { parse_list_add(&p->structs, $2); }
	| items macro_def
	| items map_decl
	| items config_block
	| items ';'
	| items error TOP_CLOSE { yyerrok; }
	;

/* probe = attach_list [ '/' expr '/' ] body */
probe
	: attach_list pred body {
		$$ = new_node(p, N_PROBE, @$);
		$$->probe.attach = $1.head;
		$$->probe.pred = $2;
		$$->probe.body = $3;
	}
	;

attach_list
	: ATTACH { $$ = list1(parse_attach(p, $1, @1)); }
	| attach_list ',' ATTACH { $$ = $1; parse_list_add(&$$, parse_attach(p, $3, @3)); }
	;

pred
	: %empty { $$ = NULL; }
	| '/' expr ENDPRED { $$ = $2; }
	| '/' ENDPRED {
		diag_error(p->diag, span_join(@1, @2), "empty predicate: expected an expression between the slashes");
		$$ = NULL;
	}
	;

/* A probe's body: its closing brace is the lexer's TOP_CLOSE. */
body
	: '{' stmts TOP_CLOSE { $$ = new_node(p, N_BLOCK, @$); $$->block.stmts = $2.head; }
	| '{' stmts simple_stmt TOP_CLOSE {
		$$ = new_node(p, N_BLOCK, @$);
		parse_list_add(&$2, $3);
		$$->block.stmts = $2.head;
		$$->block.ends_in_value = $3->kind == N_EXPR_STMT;
	}
	| '{' stmts error TOP_CLOSE {
		$$ = new_node(p, N_BLOCK, @$);
		$$->block.stmts = $2.head;
		yyerrok;
	}
	;

/* A nested block: if, loops, bare { }. */
block
	: '{' stmts '}' { $$ = new_node(p, N_BLOCK, @$); $$->block.stmts = $2.head; }
	| '{' stmts simple_stmt '}' {
		$$ = new_node(p, N_BLOCK, @$);
		parse_list_add(&$2, $3);
		$$->block.stmts = $2.head;
	}
	| '{' stmts error '}' {
		$$ = new_node(p, N_BLOCK, @$);
		$$->block.stmts = $2.head;
		yyerrok;
	}
	;

/* stmts = { simple_stmt ';' | compound_stmt | ';' }; the last simple
 * statement of a block may omit its ';' (see body and block). */
stmts
	: %empty { $$ = (struct node_list){ 0 }; }
	| stmts ';' { $$ = $1; }
	| stmts simple_stmt ';' { $$ = $1; parse_list_add(&$$, $2); }
	| stmts compound_stmt { $$ = $1; parse_list_add(&$$, $2); }
	| stmts error ';' { $$ = $1; yyerrok; }
	| stmts error block { $$ = $1; yyerrok; }
	;

simple_stmt
	: expr { $$ = new_node(p, N_EXPR_STMT, @$); $$->stmt.expr = $1; }
	| unary '=' expr {
		$$ = new_node(p, N_ASSIGN, @$);
		$$->assign.target = $1;
		$$->assign.value = $3;
	}
	| unary COMPOUND_ASSIGN expr {
		$$ = new_node(p, N_ASSIGN, @$);
		$$->assign.target = $1;
		$$->assign.value = $3;
		$$->assign.compound = true;
		$$->assign.op = $2;
	}
	| RETURN { $$ = new_node(p, N_RETURN, @$); }
	| RETURN expr { $$ = new_node(p, N_RETURN, @$); $$->stmt.expr = $2; }
	| BREAK { $$ = new_node(p, N_BREAK, @$); }
	/* let $x [: type] [= value] */
	| LET VAR { $$ = new_let(p, @$, @2, $2, NULL, NULL); }
	| LET VAR ':' type { $$ = new_let(p, @$, @2, $2, $4, NULL); }
	| LET VAR '=' expr { $$ = new_let(p, @$, @2, $2, NULL, $4); }
	| LET VAR ':' type '=' expr { $$ = new_let(p, @$, @2, $2, $4, $6); }
	| CONTINUE { $$ = new_node(p, N_CONTINUE, @$); }
	;

compound_stmt
	: if_stmt { $$ = $1; }
	| UNROLL '(' expr ')' block {
		$$ = new_node(p, N_UNROLL, @$);
		$$->loop.cond = $3;
		$$->loop.body = $5;
	}
	| WHILE expr block {
		$$ = new_node(p, N_WHILE, @$);
		$$->loop.cond = $2;
		$$->loop.body = $3;
	}
	/* for ($kv : @map) { } */
	| FOR '(' VAR ':' expr ')' block {
		$$ = new_for(p, @$, new_node(p, N_VAR, @3), $5, NULL, $7);
		$$->for_.var->ident.name = $3;
	}
	/* for ($i : lo..hi) { } */
	| FOR '(' VAR ':' expr DOTDOT expr ')' block {
		$$ = new_for(p, @$, new_node(p, N_VAR, @3), $5, $7, $9);
		$$->for_.var->ident.name = $3;
	}
	| block { $$ = $1; }
	;

/* if_stmt = 'if' expr block (the parentheses are the expression's own) [ 'else' ( block | if_stmt ) ] */
if_stmt
	: IF expr block {
		$$ = new_node(p, N_IF, @$);
		$$->if_.cond = $2;
		$$->if_.then = $3;
	}
	| IF expr block ELSE block {
		$$ = new_node(p, N_IF, @$);
		$$->if_.cond = $2;
		$$->if_.then = $3;
		$$->if_.els = $5;
	}
	| IF expr block ELSE if_stmt {
		$$ = new_node(p, N_IF, @$);
		$$->if_.cond = $2;
		$$->if_.then = $3;
		$$->if_.els = $5;
	}
	;

/* Binary operators by precedence (see the table above); ?: binds right. */
expr
	: expr '?' expr ':' expr {
		$$ = new_node(p, N_TERNARY, @$);
		$$->ternary.cond = $1;
		$$->ternary.then = $3;
		$$->ternary.els = $5;
	}
	| expr OR expr { $$ = new_binop(p, @$, OP_LOR, $1, $3); }
	| expr AND expr { $$ = new_binop(p, @$, OP_LAND, $1, $3); }
	| expr '|' expr { $$ = new_binop(p, @$, OP_BOR, $1, $3); }
	| expr '^' expr { $$ = new_binop(p, @$, OP_BXOR, $1, $3); }
	| expr '&' expr { $$ = new_binop(p, @$, OP_BAND, $1, $3); }
	| expr EQ expr { $$ = new_binop(p, @$, OP_EQ, $1, $3); }
	| expr NE expr { $$ = new_binop(p, @$, OP_NE, $1, $3); }
	| expr '<' expr { $$ = new_binop(p, @$, OP_LT, $1, $3); }
	| expr '>' expr { $$ = new_binop(p, @$, OP_GT, $1, $3); }
	| expr LE expr { $$ = new_binop(p, @$, OP_LE, $1, $3); }
	| expr GE expr { $$ = new_binop(p, @$, OP_GE, $1, $3); }
	| expr SHL expr { $$ = new_binop(p, @$, OP_SHL, $1, $3); }
	| expr SHR expr { $$ = new_binop(p, @$, OP_SHR, $1, $3); }
	| expr '+' expr { $$ = new_binop(p, @$, OP_ADD, $1, $3); }
	| expr '-' expr { $$ = new_binop(p, @$, OP_SUB, $1, $3); }
	| expr '*' expr { $$ = new_binop(p, @$, OP_MUL, $1, $3); }
	| expr '/' expr { $$ = new_binop(p, @$, OP_DIV, $1, $3); }
	| expr '%' expr { $$ = new_binop(p, @$, OP_MOD, $1, $3); }
	| unary { $$ = $1; }
	;

/* unary = postfix | op unary | '(' type ')' unary */
unary
	: postfix { $$ = $1; }
	| '-' unary { $$ = new_unop(p, @$, UOP_NEG, $2); }
	| '+' unary { $$ = new_unop(p, @$, UOP_PLUS, $2); }
	| '!' unary { $$ = new_unop(p, @$, UOP_LNOT, $2); }
	| '~' unary { $$ = new_unop(p, @$, UOP_BNOT, $2); }
	| '*' unary { $$ = new_unop(p, @$, UOP_DEREF, $2); }
	| '&' unary { $$ = new_unop(p, @$, UOP_ADDR, $2); }
	| INC unary { $$ = new_incdec(p, @$, $2, true, true); }
	| DEC unary { $$ = new_incdec(p, @$, $2, false, true); }
	| '(' type ')' unary {
		$$ = new_node(p, N_CAST, @$);
		$$->cast.type_name = $2;
		$$->cast.expr = $4;
	}
	;

postfix
	: primary { $$ = $1; }
	| postfix INC { $$ = new_incdec(p, @$, $1, true, false); }
	| postfix DEC { $$ = new_incdec(p, @$, $1, false, false); }
	| postfix '.' field_name {
		$$ = new_node(p, N_FIELD, @$);
		$$->field.base = $1;
		$$->field.name = $3;
	}
	/* tuple.0 */
	| postfix '.' INT {
		$$ = new_node(p, N_FIELD, @$);
		$$->field.base = $1;
		$$->field.name = token_text(p, @3);
	}
	| postfix ARROW field_name {
		$$ = new_node(p, N_FIELD, @$);
		$$->field.base = $1;
		$$->field.name = $3;
		$$->field.is_arrow = true;
	}
	| postfix '[' expr ']' {
		$$ = new_node(p, N_INDEX, @$);
		$$->index.base = $1;
		$$->index.index = $3;
	}
	;

primary
	: INT { $$ = $1; }
	| STRING { $$ = $1; }
	| IDENT { $$ = ast_new_name(p->arena, N_IDENT, @$, $1); }
	| VAR { $$ = ast_new_name(p->arena, N_VAR, @$, $1); }
	| POSPARAM { $$ = new_node(p, N_POSPARAM, @$); $$->posparam.index = (int)$1; }
	| POSCOUNT { $$ = new_node(p, N_POSCOUNT, @$); }
	| MAP %prec MAP_ALONE { $$ = new_map(p, @$, $1, (struct node_list){ 0 }); }
	| MAP '[' expr_list ']' { $$ = new_map(p, @$, $1, $3); }
	| IDENT '(' ')' { $$ = ast_new_call(p->arena, @$, $1, NULL); }
	| IDENT '(' expr_list ')' { $$ = ast_new_call(p->arena, @$, $1, $3.head); }
	| '(' expr ')' { $$ = $2; }
	| '(' expr ',' expr_list ')' {
		$$ = new_node(p, N_TUPLE, @$);
		$$->tuple.elems = $2;
		$2->next = $4.head;
		$$->tuple.n = $4.n + 1;
	}
	| SIZEOF '(' type ')' { $$ = new_node(p, N_SIZEOF, @$); $$->size_of.type_name = $3; }
	| SIZEOF '(' expr ')' { $$ = new_node(p, N_SIZEOF, @$); $$->size_of.expr = $3; }
	| OFFSETOF '(' type ',' field_path ')' {
		$$ = new_node(p, N_OFFSETOF, @$);
		$$->offset_of.type_name = $3;
		$$->offset_of.field = $5;
	}
	/* offsetof(typedef_name, field) */
	| OFFSETOF '(' IDENT ',' field_path ')' {
		$$ = new_node(p, N_OFFSETOF, @$);
		$$->offset_of.type_name = new_typename(p, @3, $3, false, 0, -1);
		$$->offset_of.field = $5;
	}
	;

expr_list
	: expr { $$ = list1($1); }
	| expr_list ',' expr { $$ = $1; parse_list_add(&$$, $3); }
	;

/* After '.' or '->' any word is a field name, keywords included. */
field_name
	: IDENT { $$ = $1; }
	| TYPE { $$ = $1; }
	| IF { $$ = token_text(p, @1); }
	| ELSE { $$ = token_text(p, @1); }
	| UNROLL { $$ = token_text(p, @1); }
	| WHILE { $$ = token_text(p, @1); }
	| FOR { $$ = token_text(p, @1); }
	| LET { $$ = token_text(p, @1); }
	| RETURN { $$ = token_text(p, @1); }
	| BREAK { $$ = token_text(p, @1); }
	| CONTINUE { $$ = token_text(p, @1); }
	| SIZEOF { $$ = token_text(p, @1); }
	| OFFSETOF { $$ = token_text(p, @1); }
	| STRUCT { $$ = token_text(p, @1); }
	| UNION { $$ = token_text(p, @1); }
	;

field_path
	: field_name { $$ = $1; }
	| field_path '.' field_name { $$ = arena_printf(p->arena, "%s.%s", $1, $3); }
	;

/* type = ( TYPE | 'struct' IDENT ) { '*' } [ '[' INT ']' ] */
type
	: TYPE ptrs { $$ = new_typename(p, @$, $1, false, (int)$2, -1); }
	| TYPE ptrs '[' INT ']' {
		$$ = new_typename(p, @$, $1, false, (int)$2, (int64_t)$4->num.value);
	}
	| STRUCT IDENT ptrs { $$ = new_typename(p, @$, $2, true, (int)$3, -1); }
	| UNION IDENT ptrs { $$ = new_typename(p, @$, $2, true, (int)$3, -1); }
	| UNION TYPE ptrs { $$ = new_typename(p, @$, $2, true, (int)$3, -1); }
	/* the lexer makes NAME in `(struct NAME *)` a TYPE (pointer casts) */
	| STRUCT TYPE ptrs { $$ = new_typename(p, @$, $2, true, (int)$3, -1); }
	| STRUCT IDENT ptrs '[' INT ']' {
		$$ = new_typename(p, @$, $2, true, (int)$3, (int64_t)$5->num.value);
	}
	;

ptrs
	: %empty { $$ = 0; }
	| ptrs '*' { $$ = $1 + 1; }
	;

/* struct_decl = 'struct' IDENT '{' { field } '}' */
struct_decl
	: STRUCT IDENT '{' fields TOP_CLOSE {
		$$ = new_node(p, N_STRUCT_DECL, @$);
		$$->struct_decl.name = $2;
		$$->struct_decl.fields = $4.head;
	}
	| UNION IDENT '{' fields TOP_CLOSE {
		$$ = new_node(p, N_STRUCT_DECL, @$);
		$$->struct_decl.name = $2;
		$$->struct_decl.fields = $4.head;
		$$->struct_decl.is_union = true;
	}
	;

fields
	: %empty { $$ = (struct node_list){ 0 }; }
	| fields field { $$ = $1; if ($2) parse_list_add(&$$, $2); }
	| fields error ';' { $$ = $1; yyerrok; }
	;

/* field = words [ '*'... NAME ] [ '[' INT ']' ] ';'   ("unsigned long x;")
 *       | 'struct' IDENT { '*' } NAME [ '[' INT ']' ] ';' */
field
	: words ';' { $$ = new_field_decl(p, @1, $1, 0, -1, NULL); }
	| words ':' INT ';' {
		$$ = new_field_decl(p, @1, $1, 0, -1, NULL);
		if ($$)
			$$->field_decl.bits = (int)($3->num.value > 255 ? 255 : $3->num.value) + 1;
	}
	| words '[' INT ']' ';' {
		$$ = new_field_decl(p, span_join(@1, @4), $1, 0, (int64_t)$3->num.value, NULL);
	}
	| words '*' ptrs IDENT ';' { $$ = new_field_decl(p, span_join(@1, @4), $1, (int)$3 + 1, -1, $4); }
	| words '*' ptrs IDENT '[' INT ']' ';' {
		$$ = new_field_decl(p, span_join(@1, @7), $1, (int)$3 + 1, (int64_t)$6->num.value, $4);
	}
	| UNION IDENT ptrs IDENT ';' {
		$$ = new_node(p, N_FIELD_DECL, span_join(@1, @4));
		$$->field_decl.type_name = new_typename(p, span_join(@1, @3), $2, true, (int)$3, -1);
		$$->field_decl.name = $4;
	}
	| STRUCT IDENT ptrs IDENT ';' {
		$$ = new_node(p, N_FIELD_DECL, span_join(@1, @4));
		$$->field_decl.type_name = new_typename(p, span_join(@1, @3), $2, true, (int)$3, -1);
		$$->field_decl.name = $4;
	}
	| STRUCT IDENT ptrs IDENT '[' INT ']' ';' {
		$$ = new_node(p, N_FIELD_DECL, span_join(@1, @7));
		$$->field_decl.type_name = new_typename(p, span_join(@1, @3), $2, true, (int)$3,
							 (int64_t)$6->num.value);
		$$->field_decl.name = $4;
	}
	;

words
	: IDENT { $$ = list1(ast_new_name(p->arena, N_IDENT, @1, $1)); }
	| TYPE { $$ = list1(ast_new_name(p->arena, N_IDENT, @1, $1)); }
	| words IDENT { $$ = $1; parse_list_add(&$$, ast_new_name(p->arena, N_IDENT, @2, $2)); }
	| words TYPE { $$ = $1; parse_list_add(&$$, ast_new_name(p->arena, N_IDENT, @2, $2)); }
	;

/* macro NAME(params) { body } */
macro_def
	: MACRO IDENT '(' macro_params ')' body {
		struct node *n = new_node(p, N_MACRO, span_join(@1, @6));
		n->macro.name = $2;
		n->macro.params = $4.head;
		n->macro.nparams = $4.n;
		n->macro.body = $6;
		parse_list_add(&p->macros, n);
	}
	;

/* let @m = lruhash(100); */
map_decl
	: LET MAP '=' IDENT '(' expr_list ')' ';' {
		struct node *n = new_node(p, N_ASSIGN, span_join(@1, @8));
		n->assign.target = new_map(p, @2, $2, (struct node_list){ 0 });
		n->assign.value = ast_new_call(p->arena, span_join(@4, @7), $4, $6.head);
		parse_list_add(&p->map_decls, n);
	}
	| LET MAP '=' IDENT '(' ')' ';' {
		struct node *n = new_node(p, N_ASSIGN, span_join(@1, @7));
		n->assign.target = new_map(p, @2, $2, (struct node_list){ 0 });
		n->assign.value = ast_new_call(p->arena, span_join(@4, @6), $4, NULL);
		parse_list_add(&p->map_decls, n);
	}
	;

/* config = { KEY = value; ... } (compiler/config.c reads it) */
config_block
	: CONFIG '=' body {
		if (p->config)
			diag_error(p->diag, span_join(@1, @2), "a script has one config block; this is a second one");
		else if (p->probes.n || p->structs.n)
			diag_error(p->diag, span_join(@1, @2), "the config block must come first, before any probe or struct");
		else
			p->config = $3;
	}
	;

macro_params
	: %empty { $$ = (struct node_list){ 0 }; }
	| macro_plist { $$ = $1; }
	;

macro_plist
	: macro_param { $$ = list1($1); }
	| macro_plist ',' macro_param { $$ = $1; parse_list_add(&$$, $3); }
	;

macro_param
	: VAR { $$ = ast_new_name(p->arena, N_VAR, @$, $1); }
	| IDENT { $$ = ast_new_name(p->arena, N_IDENT, @$, $1); }
	| MAP { $$ = new_map(p, @$, $1, (struct node_list){ 0 }); }
	;

%%

static struct node *new_node(struct parse_ctx *p, enum node_kind kind, struct span sp)
{
	return ast_new(p->arena, kind, sp);
}

static struct node_list list1(struct node *n)
{
	struct node_list l = { n, n, 1 };

	return l;
}

static struct node *new_binop(struct parse_ctx *p, struct span sp, enum binop op,
			      struct node *l, struct node *r)
{
	return ast_new_binop(p->arena, sp, op, l, r);
}

static struct node *new_unop(struct parse_ctx *p, struct span sp, enum unop op, struct node *x)
{
	return ast_new_unop(p->arena, sp, op, x);
}

static struct node *new_incdec(struct parse_ctx *p, struct span sp, struct node *x, bool inc,
			       bool prefix)
{
	struct node *n = new_node(p, N_INCDEC, sp);

	n->incdec.operand = x;
	n->incdec.is_inc = inc;
	n->incdec.is_prefix = prefix;
	return n;
}

static struct node *new_map(struct parse_ctx *p, struct span sp, const char *name,
			    struct node_list keys)
{
	struct node *n = new_node(p, N_MAP, sp);

	n->map.name = name;
	n->map.keys = keys.head;
	n->map.nkeys = keys.n;
	return n;
}

static struct node *new_typename(struct parse_ctx *p, struct span sp, const char *name,
				 bool is_struct, int ptr_depth, int64_t array_len)
{
	struct node *n = new_node(p, N_TYPENAME, sp);

	n->type_name.name = name;
	n->type_name.is_struct = is_struct;
	n->type_name.ptr_depth = ptr_depth;
	n->type_name.array_len = array_len;
	return n;
}

/* Words that combine into one C type name: "unsigned long long". */
static bool is_c_type_word(const char *w)
{
	static const char *const words[] = { "unsigned", "signed", "short", "long",
					     "int",	 "char",   "const", "volatile" };
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(w, words[i]) == 0)
			return true;
	return false;
}

/* A field written as words ("unsigned long x", "char name[16]"): without
 * a '*', the last word is the field's name and the others its type. In a
 * type of several words all but the last must be C type words, so that
 * `int x int y;` is a missing ';' rather than a type "int x int". */
static struct node *new_field_decl(struct parse_ctx *p, struct span sp, struct node_list words,
				   int ptr_depth, int64_t array_len, const char *name)
{
	struct node *n = new_node(p, N_FIELD_DECL, sp), *w, *type_end = NULL;
	struct span tsp = words.head->span;
	char *tname;

	if (!name) {
		if (words.n < 2) {
			diag_error(p->diag, words.head->span, "missing field name after '%s'",
				   words.head->ident.name);
			return NULL;
		}
		name = words.tail->ident.name;
		type_end = words.tail;
	}
	for (w = words.head; w->next && w->next != type_end; w = w->next) {
		if (!is_c_type_word(w->ident.name)) {
			struct span after = { w->span.file, w->span.end, w->span.end };

			diag_error(p->diag, after, "expected ';' after field '%s'", w->ident.name);
			return NULL;
		}
	}
	tname = arena_strdup(p->arena, words.head->ident.name);
	for (w = words.head->next; w != type_end; w = w->next) {
		tname = arena_printf(p->arena, "%s %s", tname, w->ident.name);
		tsp = span_join(tsp, w->span);
	}
	n->field_decl.type_name = new_typename(p, tsp, tname, false, ptr_depth, array_len);
	n->field_decl.name = name;
	return n;
}

static struct node *new_let(struct parse_ctx *p, struct span sp, struct span var_sp,
			    const char *name, struct node *type, struct node *value)
{
	struct node *n = new_node(p, N_LET, sp);
	n->let.var = ast_new_name(p->arena, N_VAR, var_sp, name);
	n->let.type_name = type;
	n->let.value = value;
	return n;
}

static struct node *new_for(struct parse_ctx *p, struct span sp, struct node *var,
			    struct node *lo, struct node *hi, struct node *body)
{
	struct node *n = new_node(p, N_FOR, sp);

	n->for_.var = var;
	n->for_.body = body;
	if (hi) {
		n->for_.lo = lo;
		n->for_.hi = hi;
	} else if (lo->kind == N_MAP) {
		n->for_.map = lo;
	} else {
		diag_error(p->diag, lo->span,
			   "a for loop iterates over a map ('for ($kv : @m)') or a range "
			   "('for ($i : 0..10)')");
	}
	return n;
}

/* The source text of a span, as a string in the arena. */
static const char *token_text(struct parse_ctx *p, struct span sp)
{
	return arena_strndup(p->arena, p->src->text + sp.begin, sp.end - sp.begin);
}

/* Bison's own messages: only "memory exhausted" (the parser stack) can
 * reach here with parse.error custom. */
static void yyerror(struct span *loc, void *scanner, struct parse_ctx *p, const char *msg)
{
	(void)scanner;
	if (strcmp(msg, "memory exhausted") == 0)
		diag_error(p->diag, *loc, "program is nested too deeply");
	else
		diag_error(p->diag, *loc, "%s", msg);
	p->stop = true;
}

/* Syntax error messages, in words.
 *
 * The expected-token set (exact, thanks to LAC) is summarized: all the
 * tokens that start an expression become "expression", those that start
 * a statement "statement", and binary operators are left out (a user who
 * forgot one knows it). A few common shapes get their own message: a
 * missing ';' or '{', a predicate without its closing '/', an 'else'
 * without an 'if', a missing '}' at the end of the file. "missing"
 * messages point just past the previous token, as clang does.
 */

/* The symbol kind of a one-character token such as ';'. */
static int char_sym(int c)
{
	return YYTRANSLATE(c);
}

static bool is_expr_start(int k)
{
	static const int toks[] = { '(', '-', '+', '!', '~', '*', '&' };
	size_t i;

	if (k == YYSYMBOL_INT || k == YYSYMBOL_STRING || k == YYSYMBOL_IDENT ||
	    k == YYSYMBOL_VAR || k == YYSYMBOL_MAP || k == YYSYMBOL_POSPARAM ||
	    k == YYSYMBOL_POSCOUNT || k == YYSYMBOL_SIZEOF || k == YYSYMBOL_OFFSETOF ||
	    k == YYSYMBOL_INC || k == YYSYMBOL_DEC)
		return true;
	for (i = 0; i < sizeof(toks) / sizeof(toks[0]); i++)
		if (k == char_sym(toks[i]))
			return true;
	return false;
}

static bool is_stmt_start(int k)
{
	return k == YYSYMBOL_IF || k == YYSYMBOL_UNROLL || k == YYSYMBOL_WHILE ||
	       k == YYSYMBOL_FOR || k == YYSYMBOL_LET || k == YYSYMBOL_RETURN ||
	       k == YYSYMBOL_BREAK || k == YYSYMBOL_CONTINUE || k == char_sym('{') ||
	       k == char_sym(';') || is_expr_start(k);
}

static bool is_operator(int k)
{
	static const char ops[] = "|^&<>+-*/%?.[=";
	const char *c;

	if (k == YYSYMBOL_OR || k == YYSYMBOL_AND || k == YYSYMBOL_EQ || k == YYSYMBOL_NE ||
	    k == YYSYMBOL_LE || k == YYSYMBOL_GE || k == YYSYMBOL_SHL || k == YYSYMBOL_SHR ||
	    k == YYSYMBOL_ARROW || k == YYSYMBOL_INC || k == YYSYMBOL_DEC ||
	    k == YYSYMBOL_COMPOUND_ASSIGN)
		return true;
	for (c = ops; *c; c++)
		if (k == char_sym(*c))
			return true;
	return false;
}

/* A token kind in words: "';'", "identifier", "end of file". */
static const char *symbol_words(struct parse_ctx *p, int k)
{
	const char *name = yysymbol_name((yysymbol_kind_t)k);
	size_t len = strlen(name);

	if (k == YYSYMBOL_YYEOF)
		return "end of file";
	if (k == YYSYMBOL_TOP_CLOSE)
		return "'}'";
	if (k == YYSYMBOL_ENDPRED)
		return "'/'";
	if (len >= 2 && name[0] == '"' && name[len - 1] == '"')
		return arena_strndup(p->arena, name + 1, len - 2);
	return name;
}

/* The unexpected token in words: its text, quoted and cut short. */
static const char *token_words(struct parse_ctx *p, int k, struct span sp)
{
	const unsigned char *s = (const unsigned char *)p->src->text + sp.begin;
	uint32_t i, n = sp.end - sp.begin;
	char buf[160];
	size_t len = 0;

	if (k == YYSYMBOL_YYEOF)
		return "end of file";
	if (k == YYSYMBOL_STRING)
		return "string literal";
	buf[len++] = '\'';
	for (i = 0; i < n && i < 32; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f)
			buf[len++] = (char)s[i];
		else
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "\\x%02x", s[i]);
	}
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s'", i < n ? "..." : "");
	return arena_strndup(p->arena, buf, len);
}

/* "A, B or C" from the expected set, or NULL when it says nothing. */
static const char *expected_words(struct parse_ctx *p, const bool *expect)
{
	/* Only an expression can start with a variable; only a field name
	 * (after '.' or '->') may be a keyword such as 'else'. */
	bool expr = expect[YYSYMBOL_VAR] && expect[YYSYMBOL_INT];
	bool stmt = expr && expect[YYSYMBOL_IF];
	bool field = !expr && expect[YYSYMBOL_ELSE] && expect[YYSYMBOL_IDENT];
	const char *items[8];
	char *out;
	int k, n = 0, i;

	if (field)
		return "field name";
	if (expect[YYSYMBOL_ATTACH] && expect[YYSYMBOL_STRUCT])
		return "a probe or a struct declaration";
	if (stmt)
		items[n++] = "statement";
	else if (expr)
		items[n++] = "expression";
	for (k = 0; k < YYNTOKENS && n < 8; k++) {
		if (!expect[k] || k == YYSYMBOL_YYerror || k == YYSYMBOL_YYUNDEF)
			continue;
		if ((stmt && is_stmt_start(k)) || (expr && is_expr_start(k)))
			continue;
		if (is_operator(k) || (k == char_sym('}') && expect[YYSYMBOL_TOP_CLOSE]))
			continue;
		items[n++] = symbol_words(p, k);
	}
	/* Outside an expression, '(' is only wanted for a call: `if (x y)`
	 * would say "expected '(' or ')'". Keep it when it is all there is
	 * (`unroll {`). */
	for (i = 0; i < n && n > 1 && !expr; i++) {
		if (strcmp(items[i], "'('") == 0) {
			memmove(&items[i], &items[i + 1], (size_t)(n - i - 1) * sizeof(items[0]));
			n--;
			break;
		}
	}
	if (n == 0 || n > 5)
		return NULL;
	out = arena_strdup(p->arena, items[0]);
	for (i = 1; i < n; i++)
		out = arena_printf(p->arena, "%s%s%s", out, i == n - 1 ? " or " : ", ", items[i]);
	return out;
}

static struct span point(struct parse_ctx *p, uint32_t off)
{
	struct span sp = { 0, off, off };

	(void)p;
	return sp;
}

/* The special shapes; returns false when none applies. */
static bool report_special(struct parse_ctx *p, int tok, const bool *expect, struct span loc)
{
	bool in_block = expect[char_sym('}')] || expect[YYSYMBOL_TOP_CLOSE];

	if (p->cur_lex_error || p->prev_lex_error) {
		/* Next to a lexical error (`1 ` 2`, an unterminated string):
		 * a consequence of it, already reported. */
	} else if (tok == char_sym('{') && expect[YYSYMBOL_ATTACH]) {
		diag_error(p->diag, loc, "missing attach point before '{'");
	} else if (tok == YYSYMBOL_ELSE && !expect[YYSYMBOL_ELSE]) {
		diag_error(p->diag, loc, "'else' without a matching 'if'");
	} else if (tok == YYSYMBOL_YYEOF && in_block) {
		diag_error(p->diag, loc, "unexpected end of file: missing '}'");
	} else if (expect[char_sym('{')] && expect[char_sym(',')] &&
		   expect[char_sym('/')]) {
		if (tok == YYSYMBOL_ATTACH)
			diag_error(p->diag, loc, "expected ',' or '{' after attach point, got %s",
				   token_words(p, tok, loc));
		else
			diag_error(p->diag, point(p, p->prev_end), "missing '{' after attach point");
	} else if (expect[YYSYMBOL_ENDPRED] && tok == char_sym('{')) {
		diag_error(p->diag, point(p, p->prev_end), "missing '/' at the end of the predicate");
	} else if (expect[char_sym(';')] && in_block && !expect[YYSYMBOL_INT]) {
		diag_error(p->diag, point(p, p->prev_end), "expected ';' after statement");
	} else {
		return false;
	}
	return true;
}

static int yyreport_syntax_error(const yypcontext_t *ctx, void *scanner, struct parse_ctx *p)
{
	yysymbol_kind_t kinds[YYNTOKENS];
	bool expect[YYNTOKENS] = { false };
	int tok = yypcontext_token(ctx), n, i;
	struct span loc = *yypcontext_location(ctx);
	const char *what;

	(void)scanner;
	if (p->stop || (tok == YYSYMBOL_YYEOF && p->eof_reported))
		return 0;
	n = yypcontext_expected_tokens(ctx, kinds, YYNTOKENS);
	for (i = 0; i < n; i++)
		expect[kinds[i]] = true;
	if (report_special(p, tok, expect, loc))
		return 0;
	what = expected_words(p, expect);
	if (what)
		diag_error(p->diag, loc, "unexpected %s, expected %s", token_words(p, tok, loc), what);
	else
		diag_error(p->diag, loc, "unexpected %s", token_words(p, tok, loc));
	/* In a condition or a predicate, '=' was probably meant as '=='. */
	if (tok == char_sym('=') && (expect[YYSYMBOL_ENDPRED] || expect[char_sym(')')]))
		diag_hint(p->diag, "'=' assigns; use '==' to compare");
	return 0;
}
