/* tests/backend.h — helpers for tests that run the same behaviour on several backends:
 * engine creation on a fresh loop, and short synchronous wrappers used only in tests. */
#ifndef UVSQL_TEST_BACKEND_H
#define UVSQL_TEST_BACKEND_H

#include "harness.h"

typedef struct {
  uv_loop_t *loop;
  uvsql_engine_t *engine;
} fixture_t;

static inline fixture_t fixture_open(const char *url, const uvsql_engine_options_t *opt) {
  fixture_t fx;
  uvsql_error_t err;
  fx.loop = test_loop();
  ASSERT_OK(uvsql_engine_new(&fx.engine, fx.loop, url, opt, &err), &err);
  return fx;
}

static inline void fixture_close(fixture_t *fx) {
  uvsql_future_t *f = uvsql_engine_dispose(fx->engine, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  test_loop_close(fx->loop);
}

/* Runs sql on the engine and asserts success; the result is freed. */
static inline void exec_ok(fixture_t *fx, const char *sql) {
  uvsql_future_t *f = uvsql_engine_execute_sql(fx->engine, sql, NULL, 0, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
}

static inline void conn_exec_ok(uvsql_conn_t *c, const char *sql) {
  uvsql_future_t *f = uvsql_conn_execute_sql(c, sql, NULL, 0, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
}

/* Runs sql with params; returns the result (caller frees with uvsql_result_free). */
static inline uvsql_result_t *query(fixture_t *fx, const char *sql, const uvsql_param_t *p,
                                    size_t n) {
  uvsql_future_t *f = uvsql_engine_execute_sql(fx->engine, sql, p, n, NULL, NULL);
  AWAIT_OK(f);
  uvsql_result_t *r = uvsql_future_take(f);
  uvsql_future_unref(f);
  return r;
}

static inline int64_t query_int(fixture_t *fx, const char *sql) {
  uvsql_result_t *r = query(fx, sql, NULL, 0);
  int64_t v = 0;
  ASSERT_INT_EQ(uvsql_result_nrows(r), 1);
  ASSERT_OK(uvsql_result_int64(r, 0, 0, &v), (uvsql_error_t *)NULL);
  uvsql_result_free(r);
  return v;
}

/* SELECT count(*) FROM table [WHERE where]. */
static inline int64_t count_rows(fixture_t *fx, const char *table, const char *where) {
  char sql[1024]; /* table names and conditions of any test: no truncation */
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s%s%s", table, where ? " WHERE " : "",
           where ? where : "");
  return query_int(fx, sql);
}

static inline uvsql_conn_t *checkout(fixture_t *fx) {
  uvsql_future_t *f = uvsql_engine_connect(fx->engine, NULL, NULL);
  uvsql_conn_t *c = AWAIT_OK(f);
  uvsql_future_unref(f);
  return c;
}

#endif
