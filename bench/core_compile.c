/* bench/core_compile.c — how long Core takes to build and compile a statement: a 3-table
 * join (ON inferred from foreign keys) with 5 WHERE conditions, compiled for PostgreSQL.
 *   fresh:  build the statement and compile it, every iteration (nothing reused)
 *   cached: compile a statement already compiled (the per-dialect cache on the statement)
 * Target (issue 4): fresh under 10 µs. Prints one line per figure. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "uvsql.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uvsql_core_stmt_t *build(uvsql_table_t *orgs, uvsql_table_t *users, uvsql_table_t *orders) {
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(orgs, "name"), uvsql_col(users, "name"),
                    uvsql_col(orders, "amount"));
  uvsql_select_from(s, orgs);
  uvsql_select_join(s, users, NULL);
  uvsql_select_join(s, orders, NULL);
  uvsql_where(s, uvsql_and(s, uvsql_eq(s, uvsql_col(orgs, "name"), uvsql_bindparam(s, "org")),
                           uvsql_gt(s, uvsql_col(orders, "amount"), uvsql_lit_int64(s, 100)),
                           uvsql_like(s, uvsql_col(users, "email"), uvsql_lit_text(s, "%@x.org")),
                           uvsql_is_not_null(s, uvsql_col(users, "name")),
                           uvsql_le(s, uvsql_col(orders, "id"), uvsql_bindparam(s, "max_id"))));
  return s;
}

int main(int argc, char **argv) {
  long iters = argc > 1 ? atol(argv[1]) : 200000;
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *orgs = uvsql_table(md, "orgs");
  uvsql_column(orgs, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY);
  uvsql_column(orgs, "name", UVSQL_SQL_STRING(50), UVSQL_NOT_NULL);
  uvsql_table_t *users = uvsql_table(md, "users");
  uvsql_column(users, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY);
  uvsql_column_references(uvsql_column(users, "org_id", UVSQL_SQL_INTEGER, 0), "orgs.id", 0, 0);
  uvsql_column(users, "name", UVSQL_SQL_STRING(50), 0);
  uvsql_column(users, "email", UVSQL_SQL_STRING(100), 0);
  uvsql_table_t *orders = uvsql_table(md, "orders");
  uvsql_column(orders, "id", UVSQL_SQL_BIGINT, UVSQL_PRIMARY_KEY);
  uvsql_column_references(uvsql_column(orders, "user_id", UVSQL_SQL_INTEGER, 0), "users.id", 0, 0);
  uvsql_column(orders, "amount", UVSQL_SQL_INTEGER, 0);

  const char *sql;
  uvsql_error_t err;
  uvsql_core_stmt_t *s = build(orgs, users, orders);
  if (uvsql_core_compile(s, "postgresql", NULL, 0, &sql, NULL, NULL, &err) != 0) {
    fprintf(stderr, "compile failed: %s\n", err.message);
    return 1;
  }
  printf("sql: %s\n", sql);

  double t0 = now_s();
  for (long i = 0; i < iters; i++) {
    uvsql_core_stmt_t *x = build(orgs, users, orders);
    if (uvsql_core_compile(x, "postgresql", NULL, 0, &sql, NULL, NULL, &err) != 0)
      return 1;
    uvsql_core_stmt_free(x);
  }
  double fresh = (now_s() - t0) / (double)iters * 1e6;

  t0 = now_s();
  long citers = iters * 20;
  for (long i = 0; i < citers; i++)
    if (uvsql_core_compile(s, "postgresql", NULL, 0, &sql, NULL, NULL, &err) != 0)
      return 1;
  double cached = (now_s() - t0) / (double)citers * 1e9;

  printf("build + compile, 3-table join, 5 conditions: %.2f us per statement (%ld iterations)\n",
         fresh, iters);
  printf("compile once cached: %.1f ns per call\n", cached);
  uvsql_core_stmt_free(s);
  uvsql_metadata_free(md);
  return fresh < 10.0 ? 0 : 2;
}
