/* tests/test_pool_sharing.c — pipeline_depth: engine-level statements share pooled
 * connections once the pool is exhausted; a user's checkout is never shared. */
#include "backend.h"

static void concurrent_statements_share_one_connection(const char *url) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 1;
  opt.max_overflow = 0;
  opt.pool_timeout = 30; /* generous: valgrind makes connecting slow */
  fixture_t fx = fixture_open(url, &opt);
  enum { N = 40 };
  uvsql_future_t *fs[N];
  for (int i = 0; i < N; i++) {
    uvsql_param_t p[] = {UVSQL_P_INT64("i", i)};
    fs[i] = uvsql_engine_execute_sql(fx.engine, "SELECT :i + 1", p, 1, NULL, NULL);
  }
  for (int i = 0; i < N; i++) {
    int64_t v;
    ASSERT_OK(uvsql_result_int64(AWAIT_OK(fs[i]), 0, 0, &v), (uvsql_error_t *)NULL);
    ASSERT_INT_EQ(v, i + 1);
    uvsql_future_unref(fs[i]);
  }
  uvsql_pool_stats_t st;
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.connects, 1);
  ASSERT_INT_EQ(st.timeouts, 0);
  ASSERT_INT_EQ(st.checked_out, 0);
  ASSERT_INT_EQ(st.idle, 1);
  fixture_close(&fx);
}
TEST(pg_concurrent_engine_statements_share_one_connection) {
  concurrent_statements_share_one_connection(test_pg_url());
}
TEST(sqlite_concurrent_engine_statements_share_one_connection) {
  concurrent_statements_share_one_connection(test_sqlite_url());
}
TEST(mariadb_concurrent_engine_statements_share_one_connection) {
  concurrent_statements_share_one_connection(test_mariadb_url());
}

TEST(sqlite_a_users_checkout_is_never_shared) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 1;
  opt.max_overflow = 0;
  opt.pool_timeout = 2; /* the first checkout also connects: slow under valgrind */
  fixture_t fx = fixture_open(test_sqlite_url(), &opt);
  uvsql_conn_t *c = checkout(&fx);
  uvsql_future_t *f = uvsql_engine_execute_sql(fx.engine, "SELECT 1", NULL, 0, NULL, NULL);
  AWAIT_ERR(f, UVSQL_EPOOL_TIMEOUT);
  uvsql_future_unref(f);
  uvsql_conn_release(c);
  fixture_close(&fx);
}

#define SLOW_SQLITE                                                                                \
  "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) "             \
  "SELECT count(*) FROM c"

/* While a slow statement holds the only connection, is a second one waiting or sharing? */
static int second_statement_waits(int depth) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 1;
  opt.max_overflow = 0;
  opt.pipeline_depth = depth;
  opt.pipeline_max_busy = 60; /* share even behind the slow one (valgrind slows it down) */
  opt.pool_timeout = 300;
  fixture_t fx = fixture_open(test_sqlite_url(), &opt);
  /* The connection is opened first (on a loaded machine opening the file can take longer
   * than the sleeps below), so that the slow statement holds it from its first moment. */
  uvsql_future_t *warm = uvsql_engine_execute_sql(fx.engine, "SELECT 1", NULL, 0, NULL, NULL);
  AWAIT_OK(warm);
  uvsql_future_unref(warm);
  uvsql_future_t *a = uvsql_engine_execute_sql(fx.engine, SLOW_SQLITE, NULL, 0, NULL, NULL);
  uvsql_pool_stats_t st;
  for (int i = 0; i < 200; i++) { /* until the slow one has the connection (2 s at most) */
    uvsql_pool_stats(fx.engine, &st);
    if (st.checked_out == 1)
      break;
    test_sleep(fx.loop, 10);
  }
  uvsql_future_t *b = uvsql_engine_execute_sql(fx.engine, "SELECT 2", NULL, 0, NULL, NULL);
  test_sleep(fx.loop, 30);
  ASSERT_INT_EQ(uvsql_future_state(a), UVSQL_FUTURE_PENDING); /* still running */
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.checked_out, 1);
  ASSERT_INT_EQ(st.connects, 1);
  AWAIT_OK(a);
  AWAIT_OK(b);
  uvsql_future_unref(a);
  uvsql_future_unref(b);
  fixture_close(&fx);
  return st.waiting;
}

TEST(sqlite_pipeline_depth_one_makes_a_statement_wait_while_another_keeps_running) {
  ASSERT_INT_EQ(second_statement_waits(1), 1);
  ASSERT_INT_EQ(second_statement_waits(16), 0);
  uv_loop_t *loop = test_loop();
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pipeline_depth = 0;
  uvsql_engine_t *e;
  uvsql_error_t err;
  ASSERT_ERR(uvsql_engine_new(&e, loop, "sqlite://", &opt, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(err.message, "pipeline_depth is 0");
  test_loop_close(loop);
}
