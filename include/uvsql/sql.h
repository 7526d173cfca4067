/* uvsql/sql.h — Core: schema metadata, DDL, and the SQL expression language.
 *
 * A program describes its schema once (uvsql_metadata_t: tables, columns, constraints,
 * indexes), builds statements from it (select, insert, update, delete, compound selects,
 * CTEs), and executes them on an engine or a connection. A statement is compiled per dialect
 * on first use and the compiled form is cached on the statement: build once, execute many.
 * User values always travel as bound parameters, never as SQL literals; identifiers are quoted
 * by the dialect when they need it (reserved words, upper case, other characters).
 *
 * Ownership, summarised:
 *   uvsql_metadata_t   caller (uvsql_metadata_new -> uvsql_metadata_free). It owns its tables,
 *                      columns and constraints; it must outlive every statement built on them.
 *   uvsql_core_stmt_t  caller (uvsql_select_new, uvsql_insert, ... -> uvsql_core_stmt_free);
 *                      reference counted: a statement embedded in another (subquery, CTE,
 *                      UNION part, INSERT ... SELECT) is kept alive by it, so the caller may
 *                      free its own reference at once.
 *   uvsql_expr_t,      allocated in the arena of the statement passed as first argument and
 *   uvsql_from_t       freed with it. They may be used only in that statement (or, for the
 *                      column nodes of an alias/subquery/CTE, in statements that statement
 *                      embeds). Column references of tables (uvsql_col(table, ...)) belong to
 *                      the metadata and may be used anywhere.
 *
 * Errors: builders never abort and never return an error code. A builder that fails (out of
 * memory, unknown column, wrong argument) records the first error in the statement (or the
 * metadata) and returns NULL or its argument; compiling or executing the statement then fails
 * with that error. uvsql_core_stmt_error() / uvsql_metadata_error() read it earlier.
 * A construct that a dialect cannot express fails at compile time with UVSQL_ENOT_SUPPORTED.
 *
 * Statements are immutable once compiled (or executed): a builder called afterwards records
 * UVSQL_EINVALID_ARGUMENT.
 *
 * Lists: functions taking several expressions come as NAME_n(stmt, array, count) plus a
 * variadic macro NAME(stmt, e1, e2, ...). Names of columns are given as NULL-terminated lists,
 * UVSQL_NAMES("a", "b").
 */
#ifndef UVSQL_SQL_H
#define UVSQL_SQL_H

#include <stdint.h>
#include "engine.h"
#include "error.h"
#include "future.h"
#include "value.h"

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif
UVSQL__EXPORTS_BEGIN

typedef struct uvsql_metadata_s uvsql_metadata_t;
typedef struct uvsql_table_s uvsql_table_t;
typedef struct uvsql_column_s uvsql_column_t;
typedef struct uvsql_expr_s uvsql_expr_t;
typedef struct uvsql_from_s uvsql_from_t;
typedef struct uvsql_core_stmt_s uvsql_core_stmt_t;

/* ---------------------------------------------------------------- types */

typedef enum {
  UVSQL_SQLT_INTEGER = 1,
  UVSQL_SQLT_SMALLINT,
  UVSQL_SQLT_BIGINT,
  UVSQL_SQLT_BOOLEAN,
  UVSQL_SQLT_FLOAT,
  UVSQL_SQLT_DOUBLE,
  UVSQL_SQLT_NUMERIC, /* precision, scale */
  UVSQL_SQLT_STRING,  /* length (0: none, which MariaDB refuses) */
  UVSQL_SQLT_TEXT,
  UVSQL_SQLT_BINARY,
  UVSQL_SQLT_DATE,
  UVSQL_SQLT_TIME,
  UVSQL_SQLT_TIMESTAMP,
  UVSQL_SQLT_TIMESTAMPTZ,
  UVSQL_SQLT_UUID,
  UVSQL_SQLT_JSON,
  UVSQL_SQLT_ENUM, /* enum_type */
  UVSQL_SQLT_INTERVAL,
  UVSQL_SQLT_ARRAY /* element: the kind of the elements (a scalar kind; PostgreSQL only) */
} uvsql_sqltype_kind_t;

/* uvsql_enum_type_t (an ENUM type: name and labels) is declared in uvsql/value.h, beside the
 * result getter that reads it (uvsql_result_enum). How each dialect writes it:
 *   PostgreSQL  CREATE TYPE name AS ENUM ('a', 'b') before the first table that uses it
 *               (create_all; skipped when the type exists), DROP TYPE IF EXISTS after the
 *               tables (drop_all); the column's type is the quoted name
 *   MariaDB     ENUM('a', 'b') (strict mode refuses any other label: error 1265)
 *   SQLite      VARCHAR(longest label) CHECK (column IN ('a', 'b'))
 * Labels are written as SQL string literals (quotes doubled; on MariaDB backslashes too).
 * Values travel as the label's text (UVSQL_P_ENUM / uvsql_v_enum). */

typedef struct uvsql_sqltype_s {
  uvsql_sqltype_kind_t kind;
  int length;
  int precision;
  int scale;
  const uvsql_enum_type_t *enum_type; /* ENUM */
  int element;                        /* ARRAY: a uvsql_sqltype_kind_t */
} uvsql_sqltype_t;

#define UVSQL__T(k, l, p, s)                                                                       \
  (UVSQL__COMPOUND(uvsql_sqltype_t){UVSQL_SQLT_##k, (l), (p), (s), NULL, 0})
#define UVSQL_SQL_INTEGER       UVSQL__T(INTEGER, 0, 0, 0)
#define UVSQL_SQL_SMALLINT      UVSQL__T(SMALLINT, 0, 0, 0)
#define UVSQL_SQL_BIGINT        UVSQL__T(BIGINT, 0, 0, 0)
#define UVSQL_SQL_BOOLEAN       UVSQL__T(BOOLEAN, 0, 0, 0)
#define UVSQL_SQL_FLOAT         UVSQL__T(FLOAT, 0, 0, 0)
#define UVSQL_SQL_DOUBLE        UVSQL__T(DOUBLE, 0, 0, 0)
#define UVSQL_SQL_NUMERIC(p, s) UVSQL__T(NUMERIC, 0, (p), (s))
#define UVSQL_SQL_STRING(n)     UVSQL__T(STRING, (n), 0, 0)
#define UVSQL_SQL_TEXT          UVSQL__T(TEXT, 0, 0, 0)
#define UVSQL_SQL_BINARY        UVSQL__T(BINARY, 0, 0, 0)
#define UVSQL_SQL_DATE          UVSQL__T(DATE, 0, 0, 0)
#define UVSQL_SQL_TIME          UVSQL__T(TIME, 0, 0, 0)
#define UVSQL_SQL_TIMESTAMP     UVSQL__T(TIMESTAMP, 0, 0, 0)
#define UVSQL_SQL_TIMESTAMPTZ   UVSQL__T(TIMESTAMPTZ, 0, 0, 0)
#define UVSQL_SQL_UUID          UVSQL__T(UUID, 0, 0, 0)
#define UVSQL_SQL_JSON          UVSQL__T(JSON, 0, 0, 0)
#define UVSQL_SQL_INTERVAL      UVSQL__T(INTERVAL, 0, 0, 0)
#define UVSQL_SQL_ENUM(e)       (UVSQL__COMPOUND(uvsql_sqltype_t){UVSQL_SQLT_ENUM, 0, 0, 0, (e), 0})
#define UVSQL_SQL_ARRAY(elem_kind)                                                                 \
  (UVSQL__COMPOUND(uvsql_sqltype_t){UVSQL_SQLT_ARRAY, 0, 0, 0, NULL, UVSQL_SQLT_##elem_kind})

const char *uvsql_sqltype_name(uvsql_sqltype_kind_t kind); /* "integer", "string", ... */

/* ---------------------------------------------------------------- schema */

/* Column flags. A single-column primary key of an integer type is autoincrementing (SERIAL,
 * AUTO_INCREMENT, INTEGER PRIMARY KEY) unless UVSQL_NO_AUTOINCREMENT is given. */
#define UVSQL_PRIMARY_KEY      0x01u
#define UVSQL_NOT_NULL         0x02u /* implied by UVSQL_PRIMARY_KEY */
#define UVSQL_UNIQUE           0x04u
#define UVSQL_INDEX            0x08u /* a one-column index named ix_<table>_<column> */
#define UVSQL_NO_AUTOINCREMENT 0x10u

typedef enum {
  UVSQL_FK_NO_ACTION = 0, /* the default: nothing is written */
  UVSQL_FK_RESTRICT,
  UVSQL_FK_CASCADE,
  UVSQL_FK_SET_NULL,
  UVSQL_FK_SET_DEFAULT
} uvsql_fk_action_t;

#ifndef __cplusplus
#define UVSQL_NAMES(...) ((const char *[]){__VA_ARGS__, NULL})
#else /* an array temporary that lives to the end of the full expression, as the C literal */
#define UVSQL_NAMES(...) (uvsql__list_of<const char *>(__VA_ARGS__, nullptr).ptr())
#endif

/* A new, empty registry, or NULL when out of memory. The caller owns it. */
uvsql_metadata_t *uvsql_metadata_new(void);
void uvsql_metadata_free(uvsql_metadata_t *md); /* accepts NULL; frees every table */
/* The first error recorded by a schema builder, or NULL. */
const uvsql_error_t *uvsql_metadata_error(const uvsql_metadata_t *md);
size_t uvsql_metadata_ntables(const uvsql_metadata_t *md);
uvsql_table_t *uvsql_metadata_table_at(const uvsql_metadata_t *md, size_t i); /* in order made */
uvsql_table_t *uvsql_metadata_table(const uvsql_metadata_t *md, const char *name);

/* Declares a table (name copied). NULL if the name is taken or empty (error recorded). */
uvsql_table_t *uvsql_table(uvsql_metadata_t *md, const char *name);
/* Declares a column (name copied) at the end of the table. NULL on error (recorded). */
uvsql_column_t *uvsql_column(uvsql_table_t *t, const char *name, uvsql_sqltype_t type,
                             unsigned flags);
/* A foreign key from this column to target "table.column" (the table may be declared later). */
uvsql_column_t *uvsql_column_references(uvsql_column_t *c, const char *target,
                                        uvsql_fk_action_t on_delete, uvsql_fk_action_t on_update);
/* The same, for a foreign key that closes a cycle between tables (SQLAlchemy's use_alter):
 * create_all creates it with ALTER TABLE ... ADD CONSTRAINT after every table, and drop_all
 * drops it (ALTER TABLE IF EXISTS ... DROP) before any table; the table order of both then
 * ignores it. The constraint is named fk_<table>_<column> (shortened with a hash past 60
 * characters). SQLite cannot add a constraint to a table: there it stays in CREATE TABLE,
 * which SQLite allows to reference a table made later (it checks keys only on writes); as
 * SQLite's DROP TABLE first deletes the rows, drop_all there fails while rows of the cycle
 * reference each other (set the key NULL first). */
uvsql_column_t *uvsql_column_references_use_alter(uvsql_column_t *c, const char *target,
                                                  uvsql_fk_action_t on_delete,
                                                  uvsql_fk_action_t on_update);
/* DEFAULT <sql> in DDL: sql is schema text written as is ("0", "CURRENT_TIMESTAMP"). */
uvsql_column_t *uvsql_column_server_default(uvsql_column_t *c, const char *sql);
/* A value INSERT binds when the statement does not set the column (text/bytes copied). */
uvsql_column_t *uvsql_column_default(uvsql_column_t *c, uvsql_value_t value);

/* Table constraints; cols/refcols are NULL-terminated lists (UVSQL_NAMES). name may be NULL
 * (the database names it). Each returns t, or NULL on error (recorded). */
uvsql_table_t *uvsql_primary_key(uvsql_table_t *t, const char *const *cols);
uvsql_table_t *uvsql_foreign_key(uvsql_table_t *t, const char *name, const char *const *cols,
                                 const char *reftable, const char *const *refcols,
                                 uvsql_fk_action_t on_delete, uvsql_fk_action_t on_update);
uvsql_table_t *uvsql_unique(uvsql_table_t *t, const char *name, const char *const *cols);
uvsql_table_t *uvsql_check(uvsql_table_t *t, const char *name, const char *sql);
uvsql_table_t *uvsql_index(uvsql_table_t *t, const char *name, const char *const *cols, int unique);

/* Reading the schema (for reflection and tools). Strings are owned by the metadata. */
const char *uvsql_table_name(const uvsql_table_t *t);
size_t uvsql_table_ncolumns(const uvsql_table_t *t);
uvsql_column_t *uvsql_table_column_at(const uvsql_table_t *t, size_t i);
uvsql_column_t *uvsql_table_column(const uvsql_table_t *t, const char *name);
const char *uvsql_column_name(const uvsql_column_t *c);
uvsql_sqltype_t uvsql_column_type(const uvsql_column_t *c);
unsigned uvsql_column_flags(const uvsql_column_t *c); /* UVSQL_PRIMARY_KEY|UVSQL_NOT_NULL|... */
int uvsql_column_autoincrement(const uvsql_column_t *c);
/* The DEFAULT of uvsql_column_server_default, or NULL when it has none. */
const char *uvsql_column_server_default_sql(const uvsql_column_t *c);
/* 1 and *out (text/bytes owned by the metadata) when the column has a uvsql_column_default,
 * else 0. out may be NULL. */
int uvsql_column_client_default(const uvsql_column_t *c, uvsql_value_t *out);
size_t uvsql_table_npk(const uvsql_table_t *t);
const char *uvsql_table_pk_at(const uvsql_table_t *t, size_t i);
typedef struct uvsql_fk_info_s {
  const char *name; /* may be NULL */
  const char *const *cols;
  const char *reftable;
  const char *const *refcols; /* NULL: the referenced table's primary key */
  size_t ncols;
  uvsql_fk_action_t on_delete, on_update;
  int use_alter; /* declared with uvsql_column_references_use_alter */
} uvsql_fk_info_t;
size_t uvsql_table_nfks(const uvsql_table_t *t);
int uvsql_table_fk_at(const uvsql_table_t *t, size_t i, uvsql_fk_info_t *out);
typedef struct uvsql_index_info_s {
  const char *name;
  const char *const *cols;
  size_t ncols;
  int unique;
} uvsql_index_info_t;
size_t uvsql_table_nindexes(const uvsql_table_t *t);
int uvsql_table_index_at(const uvsql_table_t *t, size_t i, uvsql_index_info_t *out);

/* ---------------------------------------------------------------- statements */

void uvsql_core_stmt_free(uvsql_core_stmt_t *s); /* accepts NULL; drops one reference */
/* The first error recorded by a builder on s, or NULL. */
const uvsql_error_t *uvsql_core_stmt_error(const uvsql_core_stmt_t *s);

/* ---------------------------------------------------------------- from-items and columns */

/* A table as a FROM item (no allocation). */
uvsql_from_t *uvsql_table_from(uvsql_table_t *t);
/* The column `name` of a table, alias, subquery or CTE: uvsql_col(users, "id"). An unknown
 * name gives an error node: the statement using it fails with a message naming it. */
uvsql_expr_t *uvsql_from_col(uvsql_from_t *from, const char *name);
#ifndef __cplusplus
#define UVSQL_FROM(x)                                                                              \
  _Generic((x), uvsql_table_t * : uvsql_table_from, default : uvsql__from_self)(x)
#else /* C++ has overloads where C has _Generic */
#define UVSQL_FROM(x) uvsql__from(x)
#endif
#define uvsql_col(x, name) uvsql_from_col(UVSQL_FROM(x), (name))
static inline uvsql_from_t *uvsql__from_self(uvsql_from_t *f) {
  return f;
}

/* `table AS name`, for self-joins. */
uvsql_from_t *uvsql_alias(uvsql_core_stmt_t *s, uvsql_table_t *t, const char *name);
/* `(SELECT ...) AS name`; its columns are the subquery's select list (labels or names). */
uvsql_from_t *uvsql_subquery(uvsql_core_stmt_t *s, uvsql_core_stmt_t *sub, const char *name);
/* `WITH name AS (sub)` on s. UVSQL_CTE_RECURSIVE makes it `WITH RECURSIVE`: then sub is the
 * anchor, and uvsql_cte_union adds the recursive part, which may refer to the CTE. */
#define UVSQL_CTE_RECURSIVE 1
uvsql_from_t *uvsql_cte(uvsql_core_stmt_t *s, uvsql_core_stmt_t *sub, const char *name, int flags);
uvsql_from_t *uvsql_cte_union(uvsql_from_t *cte, uvsql_core_stmt_t *recursive_part, int all);

/* ---------------------------------------------------------------- expressions */

#ifndef __cplusplus
#define UVSQL__LIST(T, ...) (T[]){__VA_ARGS__}, sizeof((T[]){__VA_ARGS__}) / sizeof(T)
#else /* the arguments are evaluated once: decltype does not evaluate them */
#define UVSQL__LIST(T, ...)                                                                        \
  uvsql__list_of<T>(__VA_ARGS__).ptr(), decltype(uvsql__list_of<T>(__VA_ARGS__))::n
#endif
/* An array and its count, for the *_n functions and uvsql_over: UVSQL_EXPRS(a, b). */
#define UVSQL_EXPRS(...) UVSQL__LIST(uvsql_expr_t *, __VA_ARGS__)
#define UVSQL_NO_EXPRS   NULL, 0

/* Values, bound as parameters (:param_1, ...). Text and bytes are copied. */
uvsql_expr_t *uvsql_lit(uvsql_core_stmt_t *s, uvsql_value_t v);
uvsql_expr_t *uvsql_lit_null(uvsql_core_stmt_t *s);
uvsql_expr_t *uvsql_lit_bool(uvsql_core_stmt_t *s, int b);
uvsql_expr_t *uvsql_lit_int64(uvsql_core_stmt_t *s, int64_t i);
uvsql_expr_t *uvsql_lit_double(uvsql_core_stmt_t *s, double d);
uvsql_expr_t *uvsql_lit_text(uvsql_core_stmt_t *s, const char *text);
/* A placeholder :name filled at execute time from the caller's params. */
uvsql_expr_t *uvsql_bindparam(uvsql_core_stmt_t *s, const char *name);
/* An unqualified identifier, e.g. a label in ORDER BY of a UNION. */
uvsql_expr_t *uvsql_name(uvsql_core_stmt_t *s, const char *name);
/* `*`, or `from.*` when from is not NULL. */
uvsql_expr_t *uvsql_star(uvsql_core_stmt_t *s, uvsql_from_t *from);

uvsql_expr_t *uvsql_eq(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_expr_t *b);
uvsql_expr_t *uvsql_ne(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_expr_t *b);
uvsql_expr_t *uvsql_lt(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_expr_t *b);
uvsql_expr_t *uvsql_le(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_expr_t *b);
uvsql_expr_t *uvsql_gt(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_expr_t *b);
uvsql_expr_t *uvsql_ge(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_expr_t *b);
uvsql_expr_t *uvsql_add(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_expr_t *b);
uvsql_expr_t *uvsql_sub(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_expr_t *b);
uvsql_expr_t *uvsql_mul(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_expr_t *b);
uvsql_expr_t *uvsql_div(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_expr_t *b);
uvsql_expr_t *uvsql_mod(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_expr_t *b);
/* String concatenation: a || b, or CONCAT(a, b) on MariaDB. */
uvsql_expr_t *uvsql_concat(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_expr_t *b);
uvsql_expr_t *uvsql_neg(uvsql_core_stmt_t *s, uvsql_expr_t *a);

uvsql_expr_t *uvsql_and_n(uvsql_core_stmt_t *s, uvsql_expr_t *const *e, size_t n);
uvsql_expr_t *uvsql_or_n(uvsql_core_stmt_t *s, uvsql_expr_t *const *e, size_t n);
#define uvsql_and(s, ...) uvsql_and_n((s), UVSQL_EXPRS(__VA_ARGS__))
#define uvsql_or(s, ...)  uvsql_or_n((s), UVSQL_EXPRS(__VA_ARGS__))
uvsql_expr_t *uvsql_not(uvsql_core_stmt_t *s, uvsql_expr_t *a);
uvsql_expr_t *uvsql_is_null(uvsql_core_stmt_t *s, uvsql_expr_t *a);
uvsql_expr_t *uvsql_is_not_null(uvsql_core_stmt_t *s, uvsql_expr_t *a);
uvsql_expr_t *uvsql_between(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_expr_t *lo,
                            uvsql_expr_t *hi);
uvsql_expr_t *uvsql_like(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_expr_t *pattern);
/* Case-insensitive LIKE: ILIKE on PostgreSQL, lower(a) LIKE lower(pattern) elsewhere. */
uvsql_expr_t *uvsql_ilike(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_expr_t *pattern);

/* a IN (e1, e2, ...); an empty list is false (never an SQL error). */
uvsql_expr_t *uvsql_in_list_n(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_expr_t *const *e,
                              size_t n);
#define uvsql_in_list(s, a, ...) uvsql_in_list_n((s), (a), UVSQL_EXPRS(__VA_ARGS__))
/* a IN (:name_1, ..., :name_k), where k is the number of params named `name` passed at
 * execute time (give the same name once per value; none: the test is false). */
uvsql_expr_t *uvsql_in_expanding(uvsql_core_stmt_t *s, uvsql_expr_t *a, const char *name);
uvsql_expr_t *uvsql_in_select(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_core_stmt_t *sub);
uvsql_expr_t *uvsql_not_in_select(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_core_stmt_t *sub);
uvsql_expr_t *uvsql_exists(uvsql_core_stmt_t *s, uvsql_core_stmt_t *sub);
/* (SELECT ...) as a value; sub must select one column. */
uvsql_expr_t *uvsql_scalar(uvsql_core_stmt_t *s, uvsql_core_stmt_t *sub);

/* CASE WHEN w1 THEN t1 ... ELSE otherwise END; pairs = {w1, t1, w2, t2, ...}, npairs*2
 * entries; otherwise may be NULL. */
uvsql_expr_t *uvsql_case_n(uvsql_core_stmt_t *s, uvsql_expr_t *const *pairs, size_t npairs,
                           uvsql_expr_t *otherwise);
#define uvsql_case(s, otherwise, ...)                                                              \
  uvsql_case_n((s), (uvsql_expr_t *[]){__VA_ARGS__},                                               \
               sizeof((uvsql_expr_t *[]){__VA_ARGS__}) / sizeof(uvsql_expr_t *) / 2, (otherwise))
uvsql_expr_t *uvsql_cast(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_sqltype_t type);

/* JSON access: the member key (UVSQL_V_TEXT("name")) or array element (UVSQL_V_INT64(i); a
 * negative i counts from the end) of the JSON document doc. json_get gives JSON (a string
 * keeps its quotes); json_get_text gives text (a string unquoted). SQL NULL where there is no
 * such member. The key is a bound parameter, never SQL text; any key works (dots, quotes, '$'),
 * except on SQLite a key holding '"' or '\\' (UVSQL_ENOT_SUPPORTED: its paths cannot name it).
 *   postgresql  doc -> CAST(:k AS TEXT)          doc ->> ...        (INTEGER for an index)
 *   mariadb     JSON_EXTRACT(doc, :path)         JSON_UNQUOTE(JSON_EXTRACT(doc, :path))
 *   sqlite      doc -> :path                     doc ->> :path      (a number stays a number)
 * where :path is $."key" (MariaDB: '"' and '\\' escaped), $[i] or, from the end, $[last-k]
 * (MariaDB) and $[#-k] (SQLite). */
uvsql_expr_t *uvsql_json_get(uvsql_core_stmt_t *s, uvsql_expr_t *doc, uvsql_value_t key);
uvsql_expr_t *uvsql_json_get_text(uvsql_core_stmt_t *s, uvsql_expr_t *doc, uvsql_value_t key);

/* name(args...): name is written as given (letters, digits, '_', '.'). */
uvsql_expr_t *uvsql_func_n(uvsql_core_stmt_t *s, const char *name, uvsql_expr_t *const *args,
                           size_t n);
#define uvsql_func(s, name, ...) uvsql_func_n((s), (name), UVSQL_EXPRS(__VA_ARGS__))
uvsql_expr_t *uvsql_count(uvsql_core_stmt_t *s, uvsql_expr_t *a); /* a NULL: count(*) */
uvsql_expr_t *uvsql_count_distinct(uvsql_core_stmt_t *s, uvsql_expr_t *a);
uvsql_expr_t *uvsql_sum(uvsql_core_stmt_t *s, uvsql_expr_t *a);
uvsql_expr_t *uvsql_avg(uvsql_core_stmt_t *s, uvsql_expr_t *a);
uvsql_expr_t *uvsql_min(uvsql_core_stmt_t *s, uvsql_expr_t *a);
uvsql_expr_t *uvsql_max(uvsql_core_stmt_t *s, uvsql_expr_t *a);
uvsql_expr_t *uvsql_lower(uvsql_core_stmt_t *s, uvsql_expr_t *a);
uvsql_expr_t *uvsql_upper(uvsql_core_stmt_t *s, uvsql_expr_t *a);
uvsql_expr_t *uvsql_now(uvsql_core_stmt_t *s); /* the current timestamp, per dialect */
uvsql_expr_t *uvsql_coalesce_n(uvsql_core_stmt_t *s, uvsql_expr_t *const *e, size_t n);
#define uvsql_coalesce(s, ...) uvsql_coalesce_n((s), UVSQL_EXPRS(__VA_ARGS__))
/* Window functions: f OVER (PARTITION BY ... ORDER BY ...); either list may be empty
 * (UVSQL_NO_EXPRS). Order items may be uvsql_asc/uvsql_desc/uvsql_order nodes. */
uvsql_expr_t *uvsql_over(uvsql_core_stmt_t *s, uvsql_expr_t *f, uvsql_expr_t *const *partition,
                         size_t npartition, uvsql_expr_t *const *order, size_t norder);
uvsql_expr_t *uvsql_row_number(uvsql_core_stmt_t *s);
uvsql_expr_t *uvsql_rank(uvsql_core_stmt_t *s);
uvsql_expr_t *uvsql_dense_rank(uvsql_core_stmt_t *s);

/* expr AS name. */
uvsql_expr_t *uvsql_label(uvsql_core_stmt_t *s, uvsql_expr_t *a, const char *name);

/* Ordering: flags are UVSQL_DESC and at most one of UVSQL_NULLS_FIRST / UVSQL_NULLS_LAST
 * (emulated with `a IS NULL` on MariaDB). */
#define UVSQL_ASC         0u
#define UVSQL_DESC        1u
#define UVSQL_NULLS_FIRST 2u
#define UVSQL_NULLS_LAST  4u
uvsql_expr_t *uvsql_order(uvsql_core_stmt_t *s, uvsql_expr_t *a, unsigned flags);
uvsql_expr_t *uvsql_asc(uvsql_core_stmt_t *s, uvsql_expr_t *a);
uvsql_expr_t *uvsql_desc(uvsql_core_stmt_t *s, uvsql_expr_t *a);

/* ---------------------------------------------------------------- SELECT */

/* A new empty SELECT; the caller owns it. NULL only when out of memory. */
uvsql_core_stmt_t *uvsql_select_new(void);
/* Appends to the select list. The FROM clause is what select_from/join give, plus every
 * other table the statement refers to that an enclosing query does not (correlation). */
uvsql_core_stmt_t *uvsql_select_columns(uvsql_core_stmt_t *s, uvsql_expr_t *const *e, size_t n);
#define uvsql_select_cols(s, ...) uvsql_select_columns((s), UVSQL_EXPRS(__VA_ARGS__))
uvsql_core_stmt_t *uvsql_select_from_item(uvsql_core_stmt_t *s, uvsql_from_t *from);
#define uvsql_select_from(s, x) uvsql_select_from_item((s), UVSQL_FROM(x))
typedef enum { UVSQL_JOIN_INNER = 0, UVSQL_JOIN_LEFT, UVSQL_JOIN_FULL } uvsql_join_t;
/* Joins target to the last FROM item (or, when there is none yet, to the table of the first
 * selected column). on NULL: the ON clause is inferred from the one foreign key between
 * target and the tables joined so far (an error when there is none or more than one). */
uvsql_core_stmt_t *uvsql_select_join_item(uvsql_core_stmt_t *s, uvsql_from_t *target,
                                          uvsql_expr_t *on, uvsql_join_t type);
#define uvsql_select_join(s, x, on)                                                                \
  uvsql_select_join_item((s), UVSQL_FROM(x), (on), UVSQL_JOIN_INNER)
#define uvsql_select_outerjoin(s, x, on)                                                           \
  uvsql_select_join_item((s), UVSQL_FROM(x), (on), UVSQL_JOIN_LEFT)
#define uvsql_select_fulljoin(s, x, on)                                                            \
  uvsql_select_join_item((s), UVSQL_FROM(x), (on), UVSQL_JOIN_FULL)
/* WHERE (select, update, delete): called twice, the conditions are ANDed. */
uvsql_core_stmt_t *uvsql_where(uvsql_core_stmt_t *s, uvsql_expr_t *cond);
#define uvsql_select_where uvsql_where
uvsql_core_stmt_t *uvsql_select_group_by_n(uvsql_core_stmt_t *s, uvsql_expr_t *const *e, size_t n);
#define uvsql_select_group_by(s, ...) uvsql_select_group_by_n((s), UVSQL_EXPRS(__VA_ARGS__))
uvsql_core_stmt_t *uvsql_select_having(uvsql_core_stmt_t *s, uvsql_expr_t *cond);
/* ORDER BY (also on compound selects). */
uvsql_core_stmt_t *uvsql_select_order_by_n(uvsql_core_stmt_t *s, uvsql_expr_t *const *e, size_t n);
#define uvsql_select_order_by(s, ...) uvsql_select_order_by_n((s), UVSQL_EXPRS(__VA_ARGS__))
/* LIMIT / OFFSET, bound as parameters (also on compound selects). */
uvsql_core_stmt_t *uvsql_select_limit(uvsql_core_stmt_t *s, int64_t n);
uvsql_core_stmt_t *uvsql_select_offset(uvsql_core_stmt_t *s, int64_t n);
uvsql_core_stmt_t *uvsql_select_distinct(uvsql_core_stmt_t *s);

/* Set operations: a new statement embedding a and b (each gains a reference). */
typedef enum { UVSQL_UNION = 0, UVSQL_UNION_ALL, UVSQL_INTERSECT, UVSQL_EXCEPT } uvsql_setop_t;
uvsql_core_stmt_t *uvsql_compound(uvsql_setop_t op, uvsql_core_stmt_t *a, uvsql_core_stmt_t *b);
#define uvsql_union(a, b)     uvsql_compound(UVSQL_UNION, (a), (b))
#define uvsql_union_all(a, b) uvsql_compound(UVSQL_UNION_ALL, (a), (b))
#define uvsql_intersect(a, b) uvsql_compound(UVSQL_INTERSECT, (a), (b))
#define uvsql_except(a, b)    uvsql_compound(UVSQL_EXCEPT, (a), (b))

/* ---------------------------------------------------------------- INSERT, UPDATE, DELETE */

/* INSERT INTO t. Without values rows it binds :column for each listed column (or, with no
 * list, for every column that is not autoincrement and has no default), so one statement
 * runs with different params each time. */
uvsql_core_stmt_t *uvsql_insert(uvsql_table_t *t);
uvsql_core_stmt_t *uvsql_insert_columns(uvsql_core_stmt_t *s, const char *const *cols);
/* One row of values for the listed columns (several calls: a multi-row insert). */
uvsql_core_stmt_t *uvsql_insert_row(uvsql_core_stmt_t *s, uvsql_expr_t *const *e, size_t n);
#define uvsql_insert_values(s, ...) uvsql_insert_row((s), UVSQL_EXPRS(__VA_ARGS__))
/* INSERT INTO t (listed columns) SELECT ... */
uvsql_core_stmt_t *uvsql_insert_from_select(uvsql_core_stmt_t *s, uvsql_core_stmt_t *sub);
/* Upsert. PostgreSQL and SQLite: ON CONFLICT (target) DO NOTHING / DO UPDATE SET ...;
 * MariaDB: ON DUPLICATE KEY UPDATE (any unique key; the target is not written). target is a
 * NULL-terminated list of column names (required for DO UPDATE). */
uvsql_core_stmt_t *uvsql_on_conflict_do_nothing(uvsql_core_stmt_t *s, const char *const *target);
uvsql_core_stmt_t *uvsql_on_conflict_do_update(uvsql_core_stmt_t *s, const char *const *target);
/* SET col = e of the DO UPDATE. */
uvsql_core_stmt_t *uvsql_on_conflict_set(uvsql_core_stmt_t *s, const char *col, uvsql_expr_t *e);
/* The value the insert proposed for col: excluded.col, or VALUES(col) on MariaDB. */
uvsql_expr_t *uvsql_excluded(uvsql_core_stmt_t *s, const char *col);

uvsql_core_stmt_t *uvsql_update(uvsql_table_t *t);
uvsql_core_stmt_t *uvsql_update_set(uvsql_core_stmt_t *s, const char *col, uvsql_expr_t *e);
uvsql_core_stmt_t *uvsql_delete(uvsql_table_t *t);
/* RETURNING for insert, update, delete: not supported for UPDATE on MariaDB. */
uvsql_core_stmt_t *uvsql_returning_n(uvsql_core_stmt_t *s, uvsql_expr_t *const *e, size_t n);
#define uvsql_returning(s, ...) uvsql_returning_n((s), UVSQL_EXPRS(__VA_ARGS__))

/* ---------------------------------------------------------------- DDL */

/* CREATE TABLE IF NOT EXISTS, CREATE [UNIQUE] INDEX IF NOT EXISTS (index i of t: the
 * declared indexes, then one per UVSQL_INDEX column), DROP TABLE IF EXISTS. */
uvsql_core_stmt_t *uvsql_create_table(uvsql_table_t *t);
uvsql_core_stmt_t *uvsql_create_index(uvsql_table_t *t, size_t i);
uvsql_core_stmt_t *uvsql_drop_table(uvsql_table_t *t);

/* ---------------------------------------------------------------- compiling and executing */

/* Compiles s for dialect ("postgresql", "mariadb", "sqlite"). *sql_out: the SQL text with
 * :name placeholders; *values_out and *nvalues_out: the values s embeds (uvsql_lit...), named
 * param_1, param_2, ... in the order they appear. Both are owned by s (valid until it is
 * freed, or, for a statement with uvsql_in_expanding, until it is compiled again). params
 * (may be NULL) are the execute-time params: only uvsql_in_expanding reads them.
 * Returns 0 or the statement's error (err filled). */
int uvsql_core_compile(uvsql_core_stmt_t *s, const char *dialect, const uvsql_param_t *params,
                       size_t nparams, const char **sql_out, const uvsql_param_t **values_out,
                       size_t *nvalues_out, uvsql_error_t *err);

/* Compiles s for the engine's dialect (cached on s), adds the values it embeds to params
 * (which fill its uvsql_bindparam placeholders), and runs it as uvsql_engine_execute does:
 * resolves with a uvsql_result_t* owned by the future. A compile error fails the future
 * (never synchronously). Future ownership as in future.h. s may be freed after the call. */
uvsql_future_t *uvsql_engine_execute_core(uvsql_engine_t *e, uvsql_core_stmt_t *s,
                                          const uvsql_param_t *params, size_t nparams,
                                          uvsql_future_cb cb, void *data);
uvsql_future_t *uvsql_conn_execute_core(uvsql_conn_t *c, uvsql_core_stmt_t *s,
                                        const uvsql_param_t *params, size_t nparams,
                                        uvsql_future_cb cb, void *data);
/* Compiles s as uvsql_conn_execute_core does and streams its rows with uvsql_conn_stream
 * (engine.h: batches of batch_rows to on_batch; the future resolves with a
 * uvsql_stream_summary_t*). A compile error fails the future; on_batch is then never called. */
uvsql_future_t *uvsql_conn_stream_core(uvsql_conn_t *c, uvsql_core_stmt_t *s,
                                       const uvsql_param_t *params, size_t nparams,
                                       size_t batch_rows, uvsql_batch_cb on_batch, void *batch_data,
                                       uvsql_future_cb cb, void *data);

/* Creates every table of md that does not exist yet, and their indexes, in foreign-key
 * dependency order, on one connection, then adds the use_alter foreign keys (ALTER TABLE;
 * re-running it leaves one of each). Resolves with NULL; fails with the first error (the
 * tables made before it stay), and with UVSQL_ENOT_SUPPORTED naming a table when foreign keys
 * form a cycle that no use_alter key breaks. drop_all drops the use_alter foreign keys, then
 * the tables in the reverse order (IF EXISTS). */
uvsql_future_t *uvsql_metadata_create_all(uvsql_metadata_t *md, uvsql_engine_t *e,
                                          uvsql_future_cb cb, void *data);
uvsql_future_t *uvsql_metadata_drop_all(uvsql_metadata_t *md, uvsql_engine_t *e, uvsql_future_cb cb,
                                        void *data);

/* Reads tables (columns, primary keys, foreign keys, indexes) of the database into md, which
 * must not already hold tables of those names. names: a NULL-terminated list of tables, or
 * NULL for every table of the current schema/database. Resolves with NULL. md must stay
 * alive (and untouched) until the future settles. */
uvsql_future_t *uvsql_metadata_reflect(uvsql_metadata_t *md, uvsql_engine_t *e,
                                       const char *const *names, uvsql_future_cb cb, void *data);

#ifdef __cplusplus
/* C++ forms of the macros above that C writes with _Generic and array compound literals. */
extern "C++" {
static inline uvsql_from_t *uvsql__from(uvsql_table_t *t) {
  return uvsql_table_from(t);
}
static inline uvsql_from_t *uvsql__from(uvsql_from_t *f) {
  return f;
}
/* N values of type T in a temporary that lives to the end of the full expression. */
template <typename T, size_t N> struct uvsql__list {
  T v[N];
  static constexpr size_t n = N;
  const T *ptr() const {
    return v;
  }
};
template <typename T, typename... A>
static inline uvsql__list<T, sizeof...(A)> uvsql__list_of(A... a) {
  return {{a...}};
}
}
#endif

UVSQL__EXPORTS_END
#ifdef __cplusplus
}
#endif
#endif
