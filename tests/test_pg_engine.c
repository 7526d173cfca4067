/* tests/test_pg_engine.c — PostgreSQL through the engine: cancel on the server, a terminated
 * backend, pipelined statements on one connection, pre-ping. A real server (UVSQL_TEST_PG_URL). */
#include "backend.h"

TEST(cancel_of_pg_sleep_settles_within_a_second_and_connection_works_after) {
  fixture_t fx = fixture_open(test_pg_url(), NULL);
  uvsql_conn_t *c = checkout(&fx);
  uvsql_future_t *f = uvsql_conn_execute_sql(c, "SELECT pg_sleep(20)", NULL, 0, NULL, NULL);
  /* Let the query reach the server, then cancel. */
  test_sleep(fx.loop, 100);
  uint64_t start = uv_hrtime();
  ASSERT_INT_EQ(uvsql_future_cancel(f), 0);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ECANCELLED);
  double ms = (double)(uv_hrtime() - start) / 1e6;
  printf("cancel settled in %.1f ms\n", ms);
  ASSERT(ms < 1000);
  ASSERT_STR_EQ(e->sqlstate, "57014");
  ASSERT_STR_CONTAINS(e->message, "cancel");
  ASSERT_INT_EQ(uvsql_future_state(f), UVSQL_FUTURE_CANCELLED);
  uvsql_future_unref(f);
  f = uvsql_conn_execute_sql(c, "SELECT 41 + 1", NULL, 0, NULL, NULL);
  int64_t v;
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(f), 0, 0, &v), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(v, 42);
  uvsql_future_unref(f);
  uvsql_conn_release(c);
  fixture_close(&fx);
}

TEST(terminated_backend_fails_query_with_disconnect_and_pool_replaces_it) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 2;
  fixture_t fx = fixture_open(test_pg_url(), &opt);
  uvsql_conn_t *victim = checkout(&fx);
  uvsql_conn_t *killer = checkout(&fx);
  uvsql_future_t *f =
      uvsql_conn_execute_sql(victim, "SELECT pg_backend_pid()", NULL, 0, NULL, NULL);
  int64_t pid;
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(f), 0, 0, &pid), (uvsql_error_t *)NULL);
  uvsql_future_unref(f);
  uvsql_future_t *slow = uvsql_conn_execute_sql(victim, "SELECT pg_sleep(10)", NULL, 0, NULL, NULL);
  uvsql_param_t p[] = {UVSQL_P_INT64("pid", pid)};
  f = uvsql_conn_execute_sql(killer, "SELECT pg_terminate_backend(:pid::int)", p, 1, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  const uvsql_error_t *e = AWAIT_ERR(slow, UVSQL_EDISCONNECT);
  /* The server's FATAL 57P01, or (when it arrives with the end of the stream) the lost
   * connection as libpq or the socket reports it: both are disconnects. */
  if (strstr(e->message, "terminat") == NULL)
    ASSERT_STR_CONTAINS(e->message, "connection to the server was lost");
  ASSERT_INT_EQ(uvsql_err_family(e->code), UVSQL_FAMILY_OPERATIONAL);
  uvsql_future_unref(slow);
  /* Later statements on the dead connection fail the same way, at once. */
  f = uvsql_conn_execute_sql(victim, "SELECT 1", NULL, 0, NULL, NULL);
  AWAIT_ERR(f, UVSQL_EDISCONNECT);
  uvsql_future_unref(f);
  uvsql_conn_release(victim);
  uvsql_conn_release(killer);
  uvsql_pool_stats_t before, after;
  uvsql_pool_stats(fx.engine, &before);
  f = uvsql_engine_execute_sql(fx.engine, "SELECT pg_backend_pid()", NULL, 0, NULL, NULL);
  int64_t fresh;
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(f), 0, 0, &fresh), (uvsql_error_t *)NULL);
  uvsql_future_unref(f);
  uvsql_pool_stats(fx.engine, &after);
  ASSERT(fresh != pid);
  ASSERT_INT_EQ(after.connects, before.connects + 1); /* the invalidated ones were replaced */
  ASSERT(after.invalidated >= 1);
  fixture_close(&fx);
}

TEST(statements_queued_on_one_connection_resolve_in_order) {
  fixture_t fx = fixture_open(test_pg_url(), NULL);
  uvsql_conn_t *c = checkout(&fx);
  enum { N = 200 };
  uvsql_future_t *fs[N];
  uvsql_stmt_t *st;
  uvsql_error_t err;
  ASSERT_OK(uvsql_text(&st, "SELECT :i::bigint", &err), &err);
  for (int i = 0; i < N; i++) {
    uvsql_param_t p[] = {UVSQL_P_INT64("i", i)};
    fs[i] = uvsql_conn_execute(c, st, p, 1, NULL, NULL);
  }
  /* One failing statement in the middle fails alone. */
  uvsql_future_t *bad = uvsql_conn_execute_sql(c, "SELECT 1/0", NULL, 0, NULL, NULL);
  uvsql_param_t p[] = {UVSQL_P_INT64("i", 7)};
  uvsql_future_t *after = uvsql_conn_execute(c, st, p, 1, NULL, NULL);
  ASSERT_STR_EQ(AWAIT_ERR(bad, UVSQL_EDATA)->sqlstate, "22012");
  int64_t v;
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(after), 0, 0, &v), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(v, 7);
  for (int i = 0; i < N; i++) {
    ASSERT_INT_EQ(uvsql_future_state(fs[i]), UVSQL_FUTURE_RESOLVED);
    ASSERT_OK(uvsql_result_int64(uvsql_future_value(fs[i]), 0, 0, &v), (uvsql_error_t *)NULL);
    ASSERT_INT_EQ(v, i);
    uvsql_future_unref(fs[i]);
  }
  uvsql_future_unref(bad);
  uvsql_future_unref(after);
  uvsql_stmt_free(st);
  uvsql_conn_release(c);
  fixture_close(&fx);
}

TEST(pre_ping_replaces_a_connection_the_server_closed) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 1;
  opt.max_overflow = 1;
  opt.pool_pre_ping = 1;
  fixture_t fx = fixture_open(test_pg_url(), &opt);
  int64_t pid = query_int(&fx, "SELECT pg_backend_pid()"); /* now idle in the pool */
  /* Kill it from an overflow connection. */
  uvsql_conn_t *a = checkout(&fx);
  uvsql_conn_t *b = checkout(&fx);
  uvsql_conn_release(a);
  uvsql_param_t p[] = {UVSQL_P_INT64("pid", pid)};
  uvsql_future_t *f =
      uvsql_conn_execute_sql(b, "SELECT pg_terminate_backend(:pid::int)", p, 1, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  uvsql_conn_release(b);
  /* Give the server a moment to close the socket. */
  test_sleep(fx.loop, 100);
  int64_t fresh = query_int(&fx, "SELECT pg_backend_pid()");
  ASSERT(fresh != pid);
  fixture_close(&fx);
}

static int64_t cb_value;
static int cb_calls;
static void on_rows(uvsql_future_t *f, void *data) {
  ASSERT(data == &cb_value);
  ASSERT_INT_EQ(uvsql_future_state(f), UVSQL_FUTURE_RESOLVED);
  ASSERT_OK(uvsql_result_int64(uvsql_future_value(f), 0, 0, &cb_value), (uvsql_error_t *)NULL);
  cb_calls++;
}

TEST(callback_style_execute_runs_callback_once_and_owns_the_future) {
  fixture_t fx = fixture_open(test_pg_url(), NULL);
  cb_calls = 0;
  uvsql_param_t p[] = {UVSQL_P_INT64("x", 20)};
  ASSERT(uvsql_engine_execute_sql(fx.engine, "SELECT :x::bigint + 1", p, 1, on_rows, &cb_value) !=
         NULL);
  ASSERT_INT_EQ(cb_calls, 0); /* never before the call returns */
  while (cb_calls == 0)
    uv_run(fx.loop, UV_RUN_ONCE);
  ASSERT_INT_EQ(cb_value, 21);
  fixture_close(&fx); /* the library released the future: ASan would report a leak */
  ASSERT_INT_EQ(cb_calls, 1);
}

/* ------------------------------------------------------------------ shared syncs: faults */

/* A plain SELECT (it shares a Sync with its neighbours) that runs for many seconds. */
#define SG_SLOW "SELECT count(*) FROM generate_series(1, 30000) a, generate_series(1, 30000) b"

/* 24 plain SELECTs pipelined on one connection (one shared Sync), the 4th running for
 * seconds, when its backend is terminated: every future settles, the ones after the running
 * one with the lost connection; the pool then serves a query on a new connection. */
TEST(terminated_backend_fails_pipelined_plain_selects_and_pool_replaces_it) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 2;
  fixture_t fx = fixture_open(test_pg_url(), &opt);
  uvsql_conn_t *victim = checkout(&fx);
  uvsql_conn_t *killer = checkout(&fx);
  uvsql_future_t *f =
      uvsql_conn_execute_sql(victim, "SELECT pg_backend_pid()", NULL, 0, NULL, NULL);
  int64_t pid, v;
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(f), 0, 0, &pid), (uvsql_error_t *)NULL);
  uvsql_future_unref(f);
  enum { N = 24, SLOW = 3 };
  uvsql_future_t *fs[N];
  for (int i = 0; i < N; i++) {
    uvsql_param_t p[] = {UVSQL_P_INT64("i", i)};
    fs[i] = i == SLOW ? uvsql_conn_execute_sql(victim, SG_SLOW, NULL, 0, NULL, NULL)
                      : uvsql_conn_execute_sql(victim, "SELECT :i::int8", p, 1, NULL, NULL);
  }
  test_sleep(fx.loop, 500); /* all sent; the slow one runs */
  uint64_t t0 = uv_hrtime();
  uvsql_param_t p[] = {UVSQL_P_INT64("pid", pid)};
  f = uvsql_conn_execute_sql(killer, "SELECT pg_terminate_backend(:pid::int)", p, 1, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  for (int i = 0; i < N; i++) {
    while (uvsql_future_state(fs[i]) == UVSQL_FUTURE_PENDING)
      uv_run(fx.loop, UV_RUN_ONCE);
    if (i < SLOW && uvsql_future_state(fs[i]) == UVSQL_FUTURE_RESOLVED) {
      ASSERT_OK(uvsql_result_int64(uvsql_future_value(fs[i]), 0, 0, &v), (uvsql_error_t *)NULL);
      ASSERT_INT_EQ(v, i);
    } else {
      const uvsql_error_t *e = AWAIT_ERR(fs[i], UVSQL_EDISCONNECT);
      if (i != SLOW || strstr(e->message, "terminat") == NULL)
        ASSERT_STR_CONTAINS(e->message, "connection to the server was lost");
      ASSERT_INT_EQ(uvsql_err_family(e->code), UVSQL_FAMILY_OPERATIONAL);
    }
    uvsql_future_unref(fs[i]);
  }
  ASSERT((double)(uv_hrtime() - t0) / 1e9 < 20.0); /* not when the slow one would have ended */
  f = uvsql_conn_execute_sql(victim, "SELECT 1", NULL, 0, NULL, NULL);
  ASSERT_STR_CONTAINS(AWAIT_ERR(f, UVSQL_EDISCONNECT)->message,
                      "connection to the server was lost");
  uvsql_future_unref(f);
  uvsql_conn_release(victim);
  uvsql_conn_release(killer);
  uvsql_pool_stats_t before, after;
  uvsql_pool_stats(fx.engine, &before);
  int64_t fresh = query_int(&fx, "SELECT pg_backend_pid()");
  uvsql_pool_stats(fx.engine, &after);
  ASSERT(fresh != pid);
  ASSERT_INT_EQ(after.connects, before.connects + 1);
  ASSERT(after.invalidated >= 1);
  ASSERT_INT_EQ(query_int(&fx, "SELECT 40 + 2"), 42);
  fixture_close(&fx);
}

/* uvsql_future_cancel of a slow plain SELECT pipelined between quick ones (one shared Sync):
 * it alone is cancelled, soon; the others resolve with their rows; the connection goes on. */
TEST(cancel_of_a_pipelined_plain_select_fails_it_alone_within_seconds) {
  fixture_t fx = fixture_open(test_pg_url(), NULL);
  uvsql_conn_t *c = checkout(&fx);
  enum { N = 8, SLOW = 3 };
  uvsql_future_t *fs[N];
  int64_t v;
  for (int i = 0; i < N; i++) {
    uvsql_param_t p[] = {UVSQL_P_INT64("i", i)};
    fs[i] = i == SLOW ? uvsql_conn_execute_sql(c, SG_SLOW, NULL, 0, NULL, NULL)
                      : uvsql_conn_execute_sql(c, "SELECT :i::int8", p, 1, NULL, NULL);
  }
  test_sleep(fx.loop, 500);
  uint64_t t0 = uv_hrtime();
  ASSERT_INT_EQ(uvsql_future_cancel(fs[SLOW]), 0);
  const uvsql_error_t *e = AWAIT_ERR(fs[SLOW], UVSQL_ECANCELLED);
  ASSERT((double)(uv_hrtime() - t0) / 1e9 < 10.0);
  ASSERT_STR_EQ(e->sqlstate, "57014");
  ASSERT_STR_CONTAINS(e->message, "canceling statement due to user request");
  for (int i = 0; i < N; i++) {
    if (i != SLOW) {
      ASSERT_OK(uvsql_result_int64(AWAIT_OK(fs[i]), 0, 0, &v), (uvsql_error_t *)NULL);
      ASSERT_INT_EQ(v, i);
    }
    uvsql_future_unref(fs[i]);
  }
  uvsql_future_t *f = uvsql_conn_execute_sql(c, "SELECT 41 + 1", NULL, 0, NULL, NULL);
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(f), 0, 0, &v), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(v, 42);
  uvsql_future_unref(f);
  uvsql_conn_release(c);
  fixture_close(&fx);
}

/* command_timeout with quick plain SELECTs pipelined around a slow one (one shared Sync): the
 * quick ones before it get their rows in time (the server does not hold their answers for the
 * group's Sync); the slow one times out, and its cancel reaches the server at once, so the
 * connection is kept (the ones after it waited behind it: their rows, or their own timeout). */
TEST(command_timeout_in_a_shared_sync_group_spares_the_members_before_it) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.command_timeout = 2.0;
  fixture_t fx = fixture_open(test_pg_url(), &opt);
  uvsql_conn_t *c = checkout(&fx);
  uvsql_future_t *f = uvsql_conn_execute_sql(c, "SELECT pg_backend_pid()", NULL, 0, NULL, NULL);
  int64_t pid, v;
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(f), 0, 0, &pid), (uvsql_error_t *)NULL);
  uvsql_future_unref(f);
  enum { N = 8, SLOW = 3 };
  uvsql_future_t *fs[N];
  for (int i = 0; i < N; i++) {
    uvsql_param_t p[] = {UVSQL_P_INT64("i", i)};
    fs[i] = i == SLOW ? uvsql_conn_execute_sql(c, SG_SLOW, NULL, 0, NULL, NULL)
                      : uvsql_conn_execute_sql(c, "SELECT :i::int8", p, 1, NULL, NULL);
  }
  const uvsql_error_t *e = AWAIT_ERR(fs[SLOW], UVSQL_ETIMEOUT);
  ASSERT_STR_CONTAINS(e->message, "did not finish within its timeout of 2 s (command_timeout)");
  for (int i = 0; i < N; i++) {
    while (uvsql_future_state(fs[i]) == UVSQL_FUTURE_PENDING)
      uv_run(fx.loop, UV_RUN_ONCE);
    if (i < SLOW || uvsql_future_state(fs[i]) == UVSQL_FUTURE_RESOLVED) {
      ASSERT_OK(uvsql_result_int64(AWAIT_OK(fs[i]), 0, 0, &v), (uvsql_error_t *)NULL);
      ASSERT_INT_EQ(v, i);
    } else if (i > SLOW) { /* it waited behind the slow one as long as its timeout */
      e = AWAIT_ERR(fs[i], UVSQL_ETIMEOUT);
      ASSERT_STR_CONTAINS(e->message, "did not finish within its timeout of 2 s");
    }
    uvsql_future_unref(fs[i]);
  }
  f = uvsql_conn_execute_sql(c, "SELECT pg_backend_pid()", NULL, 0, NULL, NULL);
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(f), 0, 0, &v), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(v, pid); /* the same connection */
  uvsql_future_unref(f);
  uvsql_conn_release(c);
  uvsql_pool_stats_t st;
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.invalidated, 0);
  fixture_close(&fx);
}
