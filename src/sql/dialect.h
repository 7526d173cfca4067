/* src/sql/dialect.h — the hook table through which the generic compiler (src/sql/) learns
 * what a backend's SQL looks like. One table per backend, each in src/sql/dialects/<name>.c,
 * named by the backend's row in src/engine/backends.c; uvsql__sql_dialect_find looks them
 * up by name.
 *
 * The hooks write into the compiler's buffer with uvsql__c_puts and friends (internal.h) and
 * report what they cannot express with uvsql__c_fail(c, UVSQL_ENOT_SUPPORTED, ...).
 * A table is constant data: no state, no allocation, nothing that touches a driver.
 */
#ifndef UVSQL_SQL_DIALECT_H
#define UVSQL_SQL_DIALECT_H

#include "internal.h"

/* Feature bits */
#define UVSQL__D_RETURNING_INSERT 0x0001u
#define UVSQL__D_RETURNING_UPDATE 0x0002u
#define UVSQL__D_RETURNING_DELETE 0x0004u
#define UVSQL__D_ILIKE            0x0008u /* native ILIKE */
#define UVSQL__D_NULLS_ORDER      0x0010u /* NULLS FIRST / NULLS LAST */
#define UVSQL__D_FULL_JOIN        0x0020u
#define UVSQL__D_CONCAT_FUNC      0x0040u /* CONCAT(a, b) instead of a || b */
#define UVSQL__D_ON_DUPLICATE     0x0080u /* upsert as ON DUPLICATE KEY UPDATE */
#define UVSQL__D_PAREN_COMPOUND   0x0100u /* (SELECT ... LIMIT n) UNION (...) is accepted */
#define UVSQL__D_EMPTY_VALUES     0x0200u /* INSERT INTO t () VALUES (), not DEFAULT VALUES */
#define UVSQL__D_ALTER_FK         0x0400u /* ALTER TABLE ADD/DROP of a FOREIGN KEY constraint */
#define UVSQL__D_ENUM_TYPE        0x0800u /* ENUM columns use a CREATE TYPE'd type (PostgreSQL) */
#define UVSQL__D_ENUM_CHECK       0x1000u /* ENUM columns are text with a CHECK (SQLite) */

typedef enum {
  UVSQL__TYPE_DDL, /* a column type in CREATE TABLE */
  UVSQL__TYPE_CAST /* the target of CAST(x AS ...) */
} uvsql__type_use_t;

struct uvsql__sql_dialect_s {
  const char *name; /* "postgresql", "mariadb", "sqlite" */
  int index;        /* 0..UVSQL__NDIALECTS-1: the statement's cache slot */
  char quote;       /* identifier quote: '"' or '`' */
  unsigned features;
  const char *now_sql;     /* the current timestamp */
  const char *offset_only; /* LIMIT to write when there is only an OFFSET, or NULL */
  /* 1 when name (already of the plain shape [a-z_][a-z0-9_]*) is a word the dialect reserves,
   * so that it must be quoted as an identifier. Quoting more than needed is harmless
   * (a plain name is lower case, which quoting keeps); quoting less is a syntax error. */
  int (*reserved)(const char *name);
  /* Writes the type t. */
  void (*type)(uvsql__compiler_t *c, uvsql_sqltype_t t, uvsql__type_use_t use);
  /* Writes the type and the autoincrement clause of column col (an autoincrement primary
   * key). *inline_pk: set to 1 when the clause already says PRIMARY KEY. */
  void (*autoinc)(uvsql__compiler_t *c, const uvsql_column_t *col, int *inline_pk);
  /* Writes the excluded/proposed value of col in an upsert. */
  void (*excluded)(uvsql__compiler_t *c, const char *col);
  /* Reflection: one query per UVSQL__R_* (see reflect.c for the columns each returns), over
   * every table of the current schema/database, ordered by table. */
  const char *const *reflect_sql; /* 5 queries */
  /* The generic type of a reflected column type; length/precision/scale are -1 when the
   * catalog did not give them (reflect.c then parses "(n, m)" out of type). */
  uvsql_sqltype_t (*reflect_type)(const char *type, int length, int precision, int scale);
  /* Writes the member key (TEXT) or array element key (INT64) of the JSON document doc: as
   * JSON, or as text when as_text (a JSON string unquoted). The key travels as a bound
   * parameter (uvsql__c_value; a path built from it goes to c->arena), never in the SQL. */
  void (*json_get)(uvsql__compiler_t *c, const uvsql_expr_t *doc, const uvsql_value_t *key,
                   int as_text);
};

/* src/sql/dialect.c: the JSON path of key in c->arena, or NULL after uvsql__c_fail. A member
 * is $."key", quoted so that dots, '$' and blanks in it are plain characters; an index is
 * $[n], and from the end $[last-k] (MariaDB) or $[#-k] (SQLite). MariaDB reads \" and \\
 * in a quoted key; SQLite's paths have no escapes, so there a key holding '"' or '\' is
 * UVSQL_ENOT_SUPPORTED. */
const char *uvsql__c_json_path(uvsql__compiler_t *c, const uvsql_value_t *key, int sqlite);

/* Reflection queries, in the order they run. Rows:
 *   COLUMNS  table, column, type, length, precision, scale, not_null (0/1), default, autoinc (0/1)
 *   PK       table, column                                  (in key order)
 *   FK       table, key, name, column, reftable, refcolumn, on_delete, on_update (rule names)
 *   UNIQUE   table, key, name, column
 *   INDEX    table, name, unique (0/1), column              (not those backing constraints) */
enum { UVSQL__R_COLUMNS, UVSQL__R_PK, UVSQL__R_FK, UVSQL__R_UNIQUE, UVSQL__R_INDEX };

/* src/sql/dialect.c: the dialect called name, or NULL. */
const uvsql__sql_dialect_t *uvsql__sql_dialect_find(const char *name);

/* A dialect's DDL type names, indexed by uvsql_sqltype_kind_t (index 0 unused). */
#define UVSQL__SQLT_NKINDS (UVSQL_SQLT_ARRAY + 1)
typedef const char *const uvsql__type_names_t[UVSQL__SQLT_NKINDS];

/* Writes names[t.kind], then "(length)" for a STRING with a length and "(precision, scale)"
 * for a NUMERIC with a precision; fails the compile for a kind the table does not name. */
void uvsql__c_type_name(uvsql__compiler_t *c, uvsql_sqltype_t t, uvsql__type_names_t names);

/* 1 if word is in sorted[0..n-1] (strcmp order). */
int uvsql__word_in(const char *word, const char *const *sorted, size_t n);
/* Writes the labels of e as a list of SQL string literals, "('a', 'b')" (quotes doubled;
 * backslashes too when backslash_escapes, for MariaDB); fails the compile for a type without
 * labels or with a NULL label. */
void uvsql__c_enum_labels(uvsql__compiler_t *c, const uvsql_enum_type_t *e, int backslash_escapes);
/* The length of e's longest label (for SQLite's VARCHAR(n)); at least 1. */
int uvsql__enum_max_len(const uvsql_enum_type_t *e);
/* src/sql/ddl.c: CREATE TYPE / DROP TYPE of the ENUM type of column col of t (PostgreSQL). */
uvsql_core_stmt_t *uvsql__enum_type_ddl(uvsql_table_t *t, size_t col, int create);

extern const uvsql__sql_dialect_t uvsql__sql_dialect_postgresql;
extern const uvsql__sql_dialect_t uvsql__sql_dialect_mariadb;
extern const uvsql__sql_dialect_t uvsql__sql_dialect_sqlite;

#endif
