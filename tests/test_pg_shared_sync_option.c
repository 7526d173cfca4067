/* tests/test_pg_shared_sync_option.c — the PostgreSQL URL option shared_sync.
 *
 * Plain SELECTs pipelined on one connection share one Sync (src/dialects/postgresql/exec.c
 * invariant 9), chosen by a scanner that cannot see through a view: a view over a function
 * that writes passes for a plain SELECT, and when a neighbour in its group fails, the group's
 * implicit transaction (and the write) is rolled back although the SELECT reported its rows.
 * shared_sync=off gives every statement its own Sync: the write then stays. */
#include <string.h>
#include "backend.h"

static const char *with_option(char *buf, size_t len, const char *url, const char *opt) {
  snprintf(buf, len, "%s%c%s", url, strchr(url, '?') ? '&' : '?', opt);
  return buf;
}

/* Runs [SELECT from the writing view, a failing SELECT, SELECT 2] pipelined on one pooled
 * connection; returns how many rows the view's function wrote. */
static int64_t writes_kept(const char *url) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 1;
  opt.max_overflow = 0;
  opt.pool_timeout = 30;
  fixture_t fx = fixture_open(url, &opt);
  exec_ok(&fx, "DELETE FROM ss_opt_log");
  ASSERT_INT_EQ(query_int(&fx, "SELECT 1"), 1); /* connected: the three go out together */
  uvsql_future_t *view =
      uvsql_engine_execute_sql(fx.engine, "SELECT v FROM ss_opt_view", NULL, 0, NULL, NULL);
  uvsql_future_t *bad = uvsql_engine_execute_sql(fx.engine, "SELECT 1 / 0", NULL, 0, NULL, NULL);
  uvsql_future_t *two = uvsql_engine_execute_sql(fx.engine, "SELECT 2", NULL, 0, NULL, NULL);
  int64_t v;
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(view), 0, 0, &v), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(v, 7);
  const uvsql_error_t *e = AWAIT_ERR(bad, UVSQL_EDATA);
  ASSERT_STR_EQ(e->sqlstate, "22012");
  ASSERT_STR_EQ(e->message, "division by zero [SQL: SELECT 1 / 0]");
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(two), 0, 0, &v), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(v, 2);
  uvsql_future_unref(view), uvsql_future_unref(bad), uvsql_future_unref(two);
  int64_t n = count_rows(&fx, "ss_opt_log", NULL);
  fixture_close(&fx);
  return n;
}

TEST(pg_shared_sync_off_keeps_the_write_of_a_view_over_a_writing_function) {
  fixture_t fx = fixture_open(test_pg_url(), NULL);
  exec_ok(&fx, "DROP VIEW IF EXISTS ss_opt_view");
  exec_ok(&fx, "DROP FUNCTION IF EXISTS ss_opt_note()");
  exec_ok(&fx, "DROP TABLE IF EXISTS ss_opt_log");
  exec_ok(&fx, "CREATE TABLE ss_opt_log (x int)");
  exec_ok(&fx, "CREATE FUNCTION ss_opt_note() RETURNS int VOLATILE LANGUAGE sql AS "
               "'INSERT INTO ss_opt_log VALUES (1); SELECT 7'");
  exec_ok(&fx, "CREATE VIEW ss_opt_view AS SELECT ss_opt_note() AS v");
  fixture_close(&fx);

  char url[1024];
  /* shared_sync=off: the view's SELECT had a Sync of its own; its write stays */
  ASSERT_INT_EQ(writes_kept(with_option(url, sizeof url, test_pg_url(), "shared_sync=off")), 1);
  /* the default shares the Sync: the neighbour's failure rolled the write back (the limit
   * docs/backends.md describes, and the reason for the option) */
  ASSERT_INT_EQ(writes_kept(test_pg_url()), 0);
  ASSERT_INT_EQ(writes_kept(with_option(url, sizeof url, test_pg_url(), "shared_sync=on")), 0);

  fx = fixture_open(test_pg_url(), NULL);
  exec_ok(&fx, "DROP VIEW ss_opt_view");
  exec_ok(&fx, "DROP FUNCTION ss_opt_note()");
  exec_ok(&fx, "DROP TABLE ss_opt_log");
  fixture_close(&fx);
}

TEST(pg_shared_sync_takes_on_or_off) {
  uv_loop_t *loop = test_loop();
  uvsql_engine_t *engine = NULL;
  uvsql_error_t err;
  char url[1024];
  ASSERT_ERR(uvsql_engine_new(&engine, loop,
                              with_option(url, sizeof url, test_pg_url(), "shared_sync=sometimes"),
                              NULL, &err),
             UVSQL_EURL);
  ASSERT(engine == NULL);
  ASSERT_STR_EQ(err.message, "URL option shared_sync=\"sometimes\" is not on or off (off: every "
                             "statement gets a Sync of its own, for SELECTs that may write)");
  test_loop_close(loop);
  fixture_t fx = fixture_open(with_option(url, sizeof url, test_pg_url(), "shared_sync=no"), NULL);
  ASSERT_INT_EQ(query_int(&fx, "SELECT 5"), 5);
  fixture_close(&fx);
}
