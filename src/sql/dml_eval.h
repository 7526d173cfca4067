/* src/sql/dml_eval.h — what the ORM's bulk UPDATE/DELETE (synchronize_session) needs to know
 * of a Core statement: its kind, table, SET list and WHERE, evaluated in memory against one
 * row's values, and two derived statements (the same DML with extra RETURNING columns; a
 * SELECT of columns with the same WHERE). The ORM includes this header and no other part of
 * Core's internals: the statement stays opaque to it.
 *
 * Evaluation follows SQL's three-valued logic (a comparison with NULL is unknown, and an
 * unknown WHERE does not match). It never allocates: text and bytes results point into the
 * statement, the params or the row.
 */
#ifndef UVSQL_SQL_DML_EVAL_H
#define UVSQL_SQL_DML_EVAL_H

#include "uvsql/sql.h"

typedef enum { UVSQL__DML_OTHER = 0, UVSQL__DML_UPDATE, UVSQL__DML_DELETE } uvsql__dml_kind_t;

/* The value of column col of the row being checked: 0 and *out, or -1 (not a column the
 * caller knows: the evaluation fails saying so). */
typedef int (*uvsql__colval_fn)(void *ctx, const uvsql_column_t *col, uvsql_value_t *out);

/* s's kind, its table (UPDATE/DELETE, else NULL), the number of SET items, and whether it
 * has a RETURNING list. */
uvsql__dml_kind_t uvsql__dml_info(const uvsql_core_stmt_t *s, uvsql_table_t **table, size_t *nsets,
                                  int *has_returning);
uvsql_column_t *uvsql__dml_set_column(const uvsql_core_stmt_t *s, size_t i);

/* Whether the WHERE of s holds for the row fn reads (no WHERE: it does). fn NULL checks only
 * that it can be evaluated (every column reads as NULL). 0 and *match, or
 * UVSQL_ENOT_SUPPORTED with err naming the construct that cannot be checked in memory. */
int uvsql__dml_eval_where(const uvsql_core_stmt_t *s, const uvsql_param_t *params, size_t n,
                          uvsql__colval_fn fn, void *ctx, int *match, uvsql_error_t *err);
/* The value SET item i of s gives the row fn reads (fn NULL: only check). 0 or
 * UVSQL_ENOT_SUPPORTED (err filled). */
int uvsql__dml_eval_set(const uvsql_core_stmt_t *s, size_t i, const uvsql_param_t *params, size_t n,
                        uvsql__colval_fn fn, void *ctx, uvsql_value_t *out, uvsql_error_t *err);

/* A new statement (caller owns it) that is s plus cols at the end of its RETURNING list; it
 * keeps a reference on s. NULL when out of memory or s is not an UPDATE/DELETE. */
uvsql_core_stmt_t *uvsql__dml_returning(uvsql_core_stmt_t *s, uvsql_column_t *const *cols,
                                        size_t ncols);
/* SELECT cols FROM s's table WHERE s's WHERE (caller owns it; keeps a reference on s). */
uvsql_core_stmt_t *uvsql__dml_select(uvsql_core_stmt_t *s, uvsql_column_t *const *cols,
                                     size_t ncols);

#endif
