/* tests/test_stmt_cache_schema.c — the prepared-statement cache when the schema changes under
 * it, on PostgreSQL, MariaDB and SQLite:
 *  - a table dropped and made again with other column types: the same statement text on the
 *    same connection runs (PostgreSQL answers the cached statement with 0A000 "cached plan
 *    must not change result type", MariaDB's client 2057 "new result columns": outside a
 *    transaction the driver drops it, prepares it again and runs it once more; SQLite
 *    re-prepares by itself);
 *  - the same inside a transaction, the table changed by another connection: on PostgreSQL
 *    and MariaDB the statement fails with UVSQL_ESERIALIZATION saying to roll back and retry
 *    the transaction, and in the next transaction it runs (SQLite runs it at once);
 *  - parameter types follow the values given: one text run with an INT64, then a TEXT, then
 *    an INT64 again for the same placeholder.
 * Table names are unique per run. */
#include "backend.h"

static uvsql_result_t *conn_query(uvsql_conn_t *c, const char *sql, const uvsql_param_t *p,
                                  size_t n) {
  uvsql_future_t *f = uvsql_conn_execute_sql(c, sql, p, n, NULL, NULL);
  AWAIT_OK(f);
  uvsql_result_t *r = uvsql_future_take(f);
  uvsql_future_unref(f);
  return r;
}

static void await_free(uvsql_future_t *f) {
  AWAIT_OK(f);
  uvsql_future_unref(f);
}

static const char *text_at(const uvsql_result_t *r, size_t row, size_t col) {
  const char *t = NULL;
  ASSERT_OK(uvsql_result_text(r, row, col, &t, NULL), (uvsql_error_t *)NULL);
  return t;
}

static int64_t int_at(const uvsql_result_t *r, size_t row, size_t col) {
  int64_t v = -1;
  ASSERT_OK(uvsql_result_int64(r, row, col, &v), (uvsql_error_t *)NULL);
  return v;
}

static void remake(uvsql_conn_t *c, const char *t, const char *cols, const char *values) {
  char sql[256];
  snprintf(sql, sizeof sql, "DROP TABLE %s", t);
  conn_exec_ok(c, sql);
  snprintf(sql, sizeof sql, "CREATE TABLE %s (%s)", t, cols);
  conn_exec_ok(c, sql);
  snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (%s)", t, values);
  conn_exec_ok(c, sql);
}

enum { PG, MARIADB, SQLITE };

static void schema_change(const char *url, int backend) {
  fixture_t fx = fixture_open(url, NULL);
  uvsql_conn_t *c = checkout(&fx);
  uvsql_conn_t *other = checkout(&fx);
  char t[64], sql[256], sel[128];
  snprintf(t, sizeof t, "%s", test_unique_name("sc_t"));
  snprintf(sql, sizeof sql, "CREATE TABLE %s (id INTEGER, v INTEGER)", t);
  conn_exec_ok(c, sql);
  snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (1, 10)", t);
  conn_exec_ok(c, sql);
  snprintf(sel, sizeof sel, "SELECT * FROM %s WHERE id = :id", t);
  uvsql_param_t id[] = {UVSQL_P_INT64("id", 1)};
  for (int i = 0; i < 2; i++) { /* the second run uses the cached statement */
    uvsql_result_t *r = conn_query(c, sel, id, 1);
    ASSERT_INT_EQ(uvsql_result_ncols(r), 2);
    ASSERT_INT_EQ(int_at(r, 0, 1), 10);
    uvsql_result_free(r);
  }

  /* outside a transaction: the same text runs against the new table */
  remake(c, t, "id INTEGER, v VARCHAR(10), w VARCHAR(10)", "1, 'ten', 'x'");
  uvsql_result_t *r = conn_query(c, sel, id, 1);
  ASSERT_INT_EQ(uvsql_result_ncols(r), 3);
  ASSERT_STR_EQ(uvsql_result_colname(r, 1), "v");
  ASSERT_STR_EQ(text_at(r, 0, 1), "ten");
  ASSERT_STR_EQ(text_at(r, 0, 2), "x");
  uvsql_result_free(r);

  /* inside a transaction, the table changed by another connection */
  await_free(uvsql_conn_begin(c, UVSQL_ISOLATION_DEFAULT, NULL, NULL));
  remake(other, t, "id INTEGER, v BIGINT", "1, 77");
  uvsql_future_t *f = uvsql_conn_execute_sql(c, sel, id, 1, NULL, NULL);
  if (backend != SQLITE) {
    const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ESERIALIZATION);
    if (backend == PG) {
      ASSERT_STR_EQ(e->sqlstate, "0A000");
      ASSERT_STR_CONTAINS(e->message, "cached plan must not change result type");
    } else {
      ASSERT_INT_EQ(e->native_code, 2057);
      ASSERT_STR_CONTAINS(e->message, "the result columns of a cached prepared statement changed");
    }
    ASSERT_STR_CONTAINS(e->message,
                        "a table it reads was changed since this connection prepared it: the "
                        "statement was dropped from the cache; roll back and retry the "
                        "transaction (it prepares the statement anew)");
    uvsql_future_unref(f);
    await_free(uvsql_conn_rollback(c, NULL, NULL));
    /* the retry: a new transaction prepares it again */
    await_free(uvsql_conn_begin(c, UVSQL_ISOLATION_DEFAULT, NULL, NULL));
    f = uvsql_conn_execute_sql(c, sel, id, 1, NULL, NULL);
  }
  r = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_result_ncols(r), 2);
  ASSERT_INT_EQ(int_at(r, 0, 1), 77);
  uvsql_future_unref(f);
  await_free(uvsql_conn_commit(c, NULL, NULL));

  /* and once more outside, to see the cache is sound */
  r = conn_query(c, sel, id, 1);
  ASSERT_INT_EQ(int_at(r, 0, 1), 77);
  uvsql_result_free(r);
  snprintf(sql, sizeof sql, "DROP TABLE %s", t);
  conn_exec_ok(c, sql);
  uvsql_conn_release(other);
  uvsql_conn_release(c);
  fixture_close(&fx);
}

TEST(a_remade_table_runs_under_the_same_statement_text_pg) {
  schema_change(test_pg_url(), PG);
}

TEST(a_remade_table_runs_under_the_same_statement_text_mariadb) {
  schema_change(test_mariadb_url(), MARIADB);
}

TEST(a_remade_table_runs_under_the_same_statement_text_sqlite) {
  schema_change(test_sqlite_url(), SQLITE);
}

/* Parameter types follow the values: INT64, then TEXT, then INT64 for one placeholder. */
static void param_types_follow_values(const char *url, const char *sql) {
  fixture_t fx = fixture_open(url, NULL);
  uvsql_conn_t *c = checkout(&fx);
  uvsql_param_t as_int[] = {UVSQL_P_INT64("x", 5)};
  uvsql_param_t as_text[] = {UVSQL_P_TEXT("x", "abc")};
  for (int round = 0; round < 2; round++) {
    uvsql_result_t *r = conn_query(c, sql, as_int, 1);
    ASSERT_STR_EQ(text_at(r, 0, 0), "5");
    uvsql_result_free(r);
    r = conn_query(c, sql, as_text, 1);
    ASSERT_STR_EQ(text_at(r, 0, 0), "abc");
    uvsql_result_free(r);
  }
  uvsql_conn_release(c);
  fixture_close(&fx);
}

TEST(param_types_follow_the_values_pg) {
  param_types_follow_values(test_pg_url(), "SELECT CAST(:x AS TEXT)");
}

TEST(param_types_follow_the_values_mariadb) {
  param_types_follow_values(test_mariadb_url(), "SELECT CAST(:x AS CHAR)");
}

TEST(param_types_follow_the_values_sqlite) {
  param_types_follow_values(test_sqlite_url(), "SELECT CAST(:x AS TEXT)");
}
