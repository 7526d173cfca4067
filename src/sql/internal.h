/* src/sql/internal.h — the Core layer's internal types: metadata, expression nodes, FROM
 * items, statements, and the compiler that turns them into SQL text per dialect.
 *
 * Memory:
 *  1. The metadata owns one arena: tables, columns, constraints and every string in them.
 *  2. A statement owns one arena: its nodes, lists, copied values and cached compiled forms.
 *     A statement embedded in another is referenced (uvsql__stmt_keep), never copied.
 *  3. Lists grow by doubling inside the arena (the old storage is simply abandoned).
 * Errors: the first error of a builder is kept in s->err / md->err; every later builder call
 * on a failed statement is a no-op, and compile reports the error.
 * Nothing here touches a socket or a driver: dialect differences come through dialect.h.
 */
#ifndef UVSQL_SQL_INTERNAL_H
#define UVSQL_SQL_INTERNAL_H

#include <stdint.h>
#include "uvsql/sql.h"
#include "../loop/internal.h"

/* ------------------------------------------------------------------ lists */

typedef struct {
  void **items;
  uint32_t n, cap;
} uvsql__vec_t;

/* Appends p to v in arena a. 0 or UVSQL_ENOMEM. */
int uvsql__vec_push(uvsql__arena_t *a, uvsql__vec_t *v, void *p);
/* Copies a NULL-terminated name list into the arena; *n gets the count. NULL on OOM. */
const char **uvsql__names_dup(uvsql__arena_t *a, const char *const *names, size_t *n);
/* [A-Za-z_][A-Za-z0-9_]* */
int uvsql__valid_param_name(const char *name);

/* ------------------------------------------------------------------ expressions */

typedef enum {
  UVSQL__N_COLUMN,   /* col (of a table or table alias: from) */
  UVSQL__N_FROMCOL,  /* name of a subquery/CTE from */
  UVSQL__N_NAME,     /* bare identifier */
  UVSQL__N_STAR,     /* * or from.* */
  UVSQL__N_VALUE,    /* bound literal */
  UVSQL__N_BIND,     /* :name */
  UVSQL__N_BINARY,   /* a op b */
  UVSQL__N_BOOL,     /* list joined by AND / OR */
  UVSQL__N_UNARY,    /* NOT a, -a, a IS NULL, a IS NOT NULL */
  UVSQL__N_IN_LIST,  /* a IN (list) */
  UVSQL__N_IN_EXP,   /* a IN (:name_1...) */
  UVSQL__N_IN_SEL,   /* a [NOT] IN (sub) */
  UVSQL__N_EXISTS,   /* EXISTS (sub) */
  UVSQL__N_SCALAR,   /* (sub) */
  UVSQL__N_BETWEEN,  /* a BETWEEN b AND c */
  UVSQL__N_CASE,     /* list of pairs, a = else */
  UVSQL__N_CAST,     /* a, type */
  UVSQL__N_FUNC,     /* name(list) */
  UVSQL__N_OVER,     /* a OVER (PARTITION BY list ORDER BY list2) */
  UVSQL__N_LABEL,    /* a AS name */
  UVSQL__N_ORDER,    /* a, flags */
  UVSQL__N_EXCLUDED, /* excluded.name */
  UVSQL__N_ERROR,    /* name: message */
  UVSQL__N_JSON_GET  /* a -> u.value (op 0: JSON) or a ->> u.value (op 1: text); dialect.h */
} uvsql__node_kind_t;

typedef enum {
  UVSQL__OP_EQ,
  UVSQL__OP_NE,
  UVSQL__OP_LT,
  UVSQL__OP_LE,
  UVSQL__OP_GT,
  UVSQL__OP_GE,
  UVSQL__OP_ADD,
  UVSQL__OP_SUB,
  UVSQL__OP_MUL,
  UVSQL__OP_DIV,
  UVSQL__OP_MOD,
  UVSQL__OP_CONCAT,
  UVSQL__OP_LIKE,
  UVSQL__OP_ILIKE,
  UVSQL__OP_AND,
  UVSQL__OP_OR,
  UVSQL__OP_NOT,
  UVSQL__OP_NEG,
  UVSQL__OP_IS_NULL,
  UVSQL__OP_IS_NOT_NULL
} uvsql__op_t;

/* Node flags */
#define UVSQL__F_NEGATE   0x01u /* IN_SEL: NOT IN */
#define UVSQL__F_DISTINCT 0x02u /* FUNC: f(DISTINCT a) */
#define UVSQL__F_NOW      0x04u /* FUNC: the dialect's current timestamp */

struct uvsql_expr_s {
  uint8_t kind, op;
  uint16_t flags;
  uint32_t n, n2;
  uvsql_core_stmt_t *owner; /* NULL: a shareable leaf (metadata or from-item column) */
  uvsql_expr_t *a, *b, *c;
  uvsql_expr_t **list, **list2;
  const char *name;
  union {
    uvsql_value_t value;
    uvsql_sqltype_t type;
    uvsql_core_stmt_t *sub;
    struct {
      uvsql_column_t *col;
      uvsql_from_t *from;
    } ref;
  } u;
};

/* ------------------------------------------------------------------ FROM items */

typedef enum { UVSQL__F_TABLE, UVSQL__F_ALIAS, UVSQL__F_SUBQUERY, UVSQL__F_CTE } uvsql__from_kind_t;

struct uvsql_from_s {
  uvsql__from_kind_t kind;
  uvsql_table_t *table;     /* TABLE, ALIAS */
  const char *name;         /* the name it is referred to by */
  uvsql_core_stmt_t *owner; /* the statement it was made in (NULL for tables) */
  uvsql_core_stmt_t *sub;   /* SUBQUERY, CTE: the body (anchor for recursive) */
  uvsql_core_stmt_t *rec;   /* CTE: the recursive part, or NULL */
  int rec_all, recursive;
  uvsql_expr_t *cols; /* ALIAS: one COLUMN node per table column; SUBQUERY/CTE: FROMCOL */
  size_t ncols;
  int plain; /* name has an unquoted shape (uvsql__ident_plain), computed once */
};

/* ------------------------------------------------------------------ schema */

typedef struct {
  const char *name;
  const char **cols;
  size_t ncols;
  const char *reftable;
  const char **refcols; /* NULL: the referenced primary key */
  uvsql_fk_action_t on_delete, on_update;
  int use_alter; /* created by ALTER TABLE after the tables where the dialect can (ddl.c) */
} uvsql__fk_t;

typedef struct {
  const char *name;
  const char **cols;
  size_t ncols;
  int unique;
  const char *check; /* for checks: the SQL */
} uvsql__constraint_t;

struct uvsql_column_s {
  uvsql_expr_t ref; /* kind COLUMN: what uvsql_col returns for the table */
  uvsql_table_t *table;
  const char *name;
  uvsql_sqltype_t type;
  unsigned flags;
  size_t index;
  const char *server_default;
  int has_default;
  uvsql_value_t client_default;
  int plain; /* name has an unquoted shape (uvsql__ident_plain) */
};

struct uvsql_table_s {
  uvsql_from_t from; /* kind TABLE */
  uvsql_metadata_t *md;
  const char *name;
  uvsql__vec_t columns; /* uvsql_column_t* */
  uvsql__vec_t pk;      /* uvsql_column_t*, in key order */
  uvsql__vec_t fks;     /* uvsql__fk_t* */
  uvsql__vec_t uniques; /* uvsql__constraint_t* */
  uvsql__vec_t checks;  /* uvsql__constraint_t* */
  uvsql__vec_t indexes; /* uvsql__constraint_t* (declared, then UVSQL_INDEX columns) */
};

struct uvsql_metadata_s {
  uvsql__arena_t arena;
  uvsql__vec_t tables;
  uvsql_error_t err;
};

/* Records err in md unless one is recorded. Returns code. */
int uvsql__md_fail(uvsql_metadata_t *md, int code, const char *fmt, ...) UVSQL__PRINTF(3, 4);
/* Whether c is an autoincrement column (a lone integer primary key, not opted out). */
int uvsql__column_autoinc(const uvsql_column_t *c);

/* ------------------------------------------------------------------ statements */

typedef enum {
  UVSQL__S_SELECT,
  UVSQL__S_COMPOUND,
  UVSQL__S_INSERT,
  UVSQL__S_UPDATE,
  UVSQL__S_DELETE,
  UVSQL__S_DDL
} uvsql__stmt_kind_t;

/* "SELECT", "compound SELECT", "INSERT", "UPDATE", "DELETE", "DDL": for messages. */
const char *uvsql__stmt_kind_name(uvsql__stmt_kind_t kind);

typedef struct {
  uvsql_from_t *target;
  uvsql_expr_t *on; /* NULL only while not yet inferred: filled at build time */
  uvsql_join_t type;
} uvsql__join_t;

typedef struct {
  uvsql_from_t *item;
  uvsql__vec_t joins; /* uvsql__join_t* */
} uvsql__from_entry_t;

typedef struct {
  uvsql_column_t *col;
  uvsql_expr_t *e;
} uvsql__set_t;

typedef enum {
  UVSQL__DDL_CREATE_TABLE,
  UVSQL__DDL_CREATE_INDEX,
  UVSQL__DDL_DROP_TABLE,
  UVSQL__DDL_ADD_FK,      /* ALTER TABLE ... ADD CONSTRAINT of use_alter foreign key ddl_index */
  UVSQL__DDL_DROP_FK,     /* ALTER TABLE IF EXISTS ... DROP of it */
  UVSQL__DDL_CREATE_TYPE, /* PostgreSQL CREATE TYPE of the ENUM of column ddl_index */
  UVSQL__DDL_DROP_TYPE    /* DROP TYPE IF EXISTS of it */
} uvsql__ddl_t;

typedef enum {
  UVSQL__CONFLICT_NONE,
  UVSQL__CONFLICT_NOTHING,
  UVSQL__CONFLICT_UPDATE
} uvsql__conflict_t;

#define UVSQL__NDIALECTS 3

/* One compiled form: SQL with :names turned into an engine text statement, plus the values
 * the statement embeds. */
typedef struct {
  uvsql_stmt_t *text;
  uvsql_param_t *values;
  size_t nvalues;
  const char **expanding; /* names of expanded IN lists (their params are in values) */
  size_t nexpanding;
} uvsql__core_compiled_t;

struct uvsql_core_stmt_s {
  int refs;
  uvsql__stmt_kind_t kind;
  int frozen; /* compiled once: builders refuse */
  int has_expanding;
  uvsql__arena_t arena;
  uvsql_error_t err;
  uvsql__vec_t keep; /* embedded statements we hold a reference on */
  /* SELECT */
  uvsql__vec_t columns, froms, group, order, ctes; /* froms: uvsql__from_entry_t*; ctes: from */
  uvsql_expr_t *where, *having, *limit, *offset;
  int distinct;
  /* COMPOUND */
  uvsql_setop_t setop;
  uvsql_core_stmt_t *left, *right;
  /* INSERT / UPDATE / DELETE / DDL */
  uvsql_table_t *table;
  uvsql__vec_t icols; /* INSERT: uvsql_column_t* */
  uvsql__vec_t rows;  /* INSERT: uvsql_expr_t** (icols.n each) */
  uvsql_core_stmt_t *from_select;
  uvsql__vec_t sets; /* UPDATE: uvsql__set_t* */
  uvsql__vec_t returning;
  uvsql__conflict_t conflict;
  const char **conflict_target;
  size_t nconflict_target;
  uvsql__vec_t conflict_sets; /* uvsql__set_t* */
  uvsql__ddl_t ddl;
  size_t ddl_index;
  /* Compiled forms per dialect (index from dialect.h), and one for the last expansion. */
  uvsql__core_compiled_t compiled[UVSQL__NDIALECTS];
  uvsql__core_compiled_t expanded;
  uvsql__arena_t exp_arena; /* the expanded form's values and names */
};

/* select.c */
uvsql_core_stmt_t *uvsql__stmt_new(uvsql__stmt_kind_t kind);
/* Records an error on s unless one is recorded. Returns code. */
int uvsql__fail(uvsql_core_stmt_t *s, int code, const char *fmt, ...) UVSQL__PRINTF(3, 4);
/* 0 if s may still be built on; otherwise records why and returns the code. */
int uvsql__building(uvsql_core_stmt_t *s, const char *fn);
/* Takes a reference on sub for the life of s. */
int uvsql__stmt_keep(uvsql_core_stmt_t *s, uvsql_core_stmt_t *sub);
/* Checks that e may be used in s (not NULL, not an error node, not another statement's). */
int uvsql__check_expr(uvsql_core_stmt_t *s, const uvsql_expr_t *e, const char *fn);
/* The select list's output names (labels, column names); NULL entries when unnamed. */
int uvsql__select_names(uvsql_core_stmt_t *s, const char ***names, size_t *n);
/* The first SELECT of a compound (or s itself). */
uvsql_core_stmt_t *uvsql__first_select(uvsql_core_stmt_t *s);

/* expr.c */
uvsql_expr_t *uvsql__node(uvsql_core_stmt_t *s, uvsql__node_kind_t kind);
/* An error node in arena a (owner NULL) saying msg. */
uvsql_expr_t *uvsql__error_node(uvsql__arena_t *a, const char *fmt, ...) UVSQL__PRINTF(2, 3);

/* ------------------------------------------------------------------ compiling */

typedef struct uvsql__sql_dialect_s uvsql__sql_dialect_t;

typedef struct {
  uvsql_from_t **items;
  size_t n;
} uvsql__scope_t;

typedef struct uvsql__compiler_s {
  const uvsql__sql_dialect_t *d;
  uvsql__arena_t *arena; /* where generated names go */
  char *buf; /* starts on the caller's stack (buf_heap 0), moves to the heap when it grows */
  size_t len, cap;
  uvsql_param_t *values; /* likewise (values_heap) */
  size_t nvalues, capvalues;
  int buf_heap, values_heap;
  size_t *marks; /* offset of each placeholder's ':' in buf (stack first, like buf) */
  size_t nmarks, capmarks;
  int marks_heap;
  const uvsql_param_t *user; /* execute-time params, for expanding IN */
  size_t nuser;
  int rc;
  uvsql_error_t *err;
  int unqualified; /* write columns of `dml_table` without their table */
  uvsql_table_t *dml_table;
  uvsql__scope_t scopes[16]; /* FROM items of enclosing queries, innermost last */
  int nscopes;
  const char *bindnames[32]; /* user :names seen, to catch clashes with generated ones */
  int nbind;
  uvsql__vec_t expnames; /* names of the IN lists expanded (in arena) */
} uvsql__compiler_t;

/* compile.c */
void uvsql__c_fail(uvsql__compiler_t *c, int code, const char *fmt, ...) UVSQL__PRINTF(3, 4);
void uvsql__c_putn(uvsql__compiler_t *c, const char *s, size_t n);
void uvsql__c_puts(uvsql__compiler_t *c, const char *s);
void uvsql__c_printf(uvsql__compiler_t *c, const char *fmt, ...) UVSQL__PRINTF(2, 3);
void uvsql__c_ident(uvsql__compiler_t *c, const char *name); /* quoted when needed */
/* The same, when the caller already knows whether name is plain. */
void uvsql__c_ident_known(uvsql__compiler_t *c, const char *name, int plain);
/* 1 if name has the shape of an unquoted identifier ([a-z_][a-z0-9_]*, under 64 bytes);
 * whether it is a reserved word is the dialect's question, asked at compile time. */
int uvsql__ident_plain(const char *name);
void uvsql__c_value(uvsql__compiler_t *c, const uvsql_value_t *v); /* :param_N */
void uvsql__c_placeholder(uvsql__compiler_t *c, const char *name); /* :name */
void uvsql__c_expr(uvsql__compiler_t *c, const uvsql_expr_t *e);
void uvsql__c_expr_list(uvsql__compiler_t *c, uvsql_expr_t *const *e, size_t n);
/* Writes ORDER BY items (uvsql_order nodes or plain expressions). */
void uvsql__c_order_list(uvsql__compiler_t *c, uvsql_expr_t *const *e, size_t n);
void uvsql__c_type(uvsql__compiler_t *c, uvsql_sqltype_t t, int cast);
/* Writes the statement (any kind). */
void uvsql__c_stmt(uvsql__compiler_t *c, uvsql_core_stmt_t *s);
/* Compiles s for d into out (values and names in arena). 0 or error (err filled). */
int uvsql__compile(uvsql_core_stmt_t *s, const uvsql__sql_dialect_t *d, const uvsql_param_t *user,
                   size_t nuser, uvsql__arena_t *arena, uvsql__core_compiled_t *out,
                   uvsql_error_t *err);
/* The compiled form of s for dialect d, cached on s unless s expands IN lists. 0 or error. */
int uvsql__compiled(uvsql_core_stmt_t *s, const uvsql__sql_dialect_t *d, const uvsql_param_t *user,
                    size_t nuser, const uvsql__core_compiled_t **out, uvsql_error_t *err);

/* compile_stmt.c */
void uvsql__c_select(uvsql__compiler_t *c, uvsql_core_stmt_t *s);
void uvsql__c_compound(uvsql__compiler_t *c, uvsql_core_stmt_t *s);
void uvsql__c_insert(uvsql__compiler_t *c, uvsql_core_stmt_t *s);
void uvsql__c_update(uvsql__compiler_t *c, uvsql_core_stmt_t *s);
void uvsql__c_delete(uvsql__compiler_t *c, uvsql_core_stmt_t *s);

/* ddl.c */
void uvsql__c_ddl(uvsql__compiler_t *c, uvsql_core_stmt_t *s);
/* Tables of md sorted so that each comes after the tables it references. *out malloc'd. */
int uvsql__sort_tables(uvsql_metadata_t *md, uvsql_table_t ***out, size_t *n, uvsql_error_t *err);
/* ddl.c: the ALTER TABLE adding (add 1) or dropping (add 0) foreign key i of t, which is a
 * use_alter one (caller owns it; NULL when out of memory). */
uvsql_core_stmt_t *uvsql__alter_fk(uvsql_table_t *t, size_t i, int add);
/* Number of indexes create_index accepts for t (declared + UVSQL_INDEX columns). */
size_t uvsql__index_count(const uvsql_table_t *t);

#endif
