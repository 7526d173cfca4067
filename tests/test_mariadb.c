/* tests/test_mariadb.c — MariaDB through the engine: cancel with KILL QUERY, the loop kept
 * free while a query runs and while connecting, a killed connection, error numbers and
 * SQLSTATEs, connect failures, URL options, the statement cache, multi-statement text, queued
 * statements. A real server (UVSQL_TEST_MARIADB_URL). */
#include "backend.h"

static double ms_since(uint64_t start_ns) {
  return (double)(uv_hrtime() - start_ns) / 1e6;
}

static int64_t conn_int(uvsql_conn_t *c, const char *sql) {
  uvsql_future_t *f = uvsql_conn_execute_sql(c, sql, NULL, 0, NULL, NULL);
  int64_t v = 0;
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(f), 0, 0, &v), (uvsql_error_t *)NULL);
  uvsql_future_unref(f);
  return v;
}

TEST(cancel_of_sleep_settles_within_a_second_and_connection_works_after) {
  fixture_t fx = fixture_open(test_mariadb_url(), NULL);
  uvsql_conn_t *c = checkout(&fx);
  uvsql_future_t *f = uvsql_conn_execute_sql(c, "SELECT SLEEP(20)", NULL, 0, NULL, NULL);
  test_sleep(fx.loop, 100); /* let the query reach the server */
  uint64_t start = uv_hrtime();
  ASSERT_INT_EQ(uvsql_future_cancel(f), 0);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ECANCELLED);
  double ms = ms_since(start);
  printf("cancel settled in %.1f ms\n", ms);
  ASSERT(ms < 1000);
  printf("%s\n", e->message);
  ASSERT_STR_CONTAINS(e->message, "the statement was cancelled (KILL QUERY ");
  ASSERT_INT_EQ(uvsql_future_state(f), UVSQL_FUTURE_CANCELLED);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(conn_int(c, "SELECT 41 + 1"), 42);
  uvsql_conn_release(c);
  fixture_close(&fx);
}

TEST(cancel_of_sleep_sent_as_text_settles_as_cancelled) {
  /* Two statements in one text go through the text protocol. Some servers end a killed
   * SLEEP() with the row 1 instead of error 1317; either way the request settles cancelled
   * (exec.c invariant 2). */
  fixture_t fx = fixture_open(test_mariadb_url(), NULL);
  uvsql_conn_t *c = checkout(&fx);
  uvsql_future_t *f = uvsql_conn_execute_sql(c, "DO 1; SELECT SLEEP(20) AS s", NULL, 0, NULL, NULL);
  test_sleep(fx.loop, 100);
  uint64_t start = uv_hrtime();
  ASSERT_INT_EQ(uvsql_future_cancel(f), 0);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ECANCELLED);
  double ms = ms_since(start);
  printf("cancel settled in %.1f ms: %s\n", ms, e->message);
  ASSERT(ms < 1000);
  ASSERT_STR_CONTAINS(e->message, "the statement was cancelled (KILL QUERY ");
  uvsql_future_unref(f);
  ASSERT_INT_EQ(conn_int(c, "SELECT 6 * 7"), 42);
  uvsql_conn_release(c);
  fixture_close(&fx);
}

TEST(cancel_of_a_long_update_reports_query_interrupted) {
  /* A statement that is not SLEEP: the server answers 1317 "Query execution was interrupted". */
  fixture_t fx = fixture_open(test_mariadb_url(), NULL);
  uvsql_conn_t *c = checkout(&fx);
  uvsql_future_t *f = uvsql_conn_execute_sql(
      c, "SELECT count(*) FROM seq_1_to_100000000 a WHERE a.seq % 7 = 3", NULL, 0, NULL, NULL);
  test_sleep(fx.loop, 100);
  uint64_t start = uv_hrtime();
  ASSERT_INT_EQ(uvsql_future_cancel(f), 0);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ECANCELLED);
  printf("cancel settled in %.1f ms\n", ms_since(start));
  ASSERT_INT_EQ(e->native_code, 1317);
  ASSERT_STR_EQ(e->sqlstate, "70100");
  ASSERT_STR_CONTAINS(e->message, "the statement was cancelled (KILL QUERY ");
  ASSERT_STR_CONTAINS(e->message, "): Query execution was interrupted [SQL: SELECT count(*)");
  uvsql_future_unref(f);
  ASSERT_INT_EQ(conn_int(c, "SELECT 7"), 7);
  uvsql_conn_release(c);
  fixture_close(&fx);
}

TEST(cancel_of_a_queued_statement_withdraws_it_and_the_running_one_finishes) {
  fixture_t fx = fixture_open(test_mariadb_url(), NULL);
  uvsql_conn_t *c = checkout(&fx);
  uvsql_future_t *slow = uvsql_conn_execute_sql(c, "SELECT SLEEP(0.2), 1", NULL, 0, NULL, NULL);
  uvsql_future_t *queued = uvsql_conn_execute_sql(c, "SELECT 2", NULL, 0, NULL, NULL);
  uvsql_future_t *after = uvsql_conn_execute_sql(c, "SELECT 3", NULL, 0, NULL, NULL);
  ASSERT_INT_EQ(uvsql_future_cancel(queued), 0);
  ASSERT_INT_EQ(uvsql_future_state(queued), UVSQL_FUTURE_CANCELLED);
  ASSERT_STR_CONTAINS(uvsql_future_error(queued)->message, "cancelled before it was sent");
  int64_t v;
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(slow), 0, 1, &v), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(v, 1);
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(after), 0, 0, &v), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(v, 3);
  uvsql_future_unref(slow);
  uvsql_future_unref(queued);
  uvsql_future_unref(after);
  uvsql_conn_release(c);
  fixture_close(&fx);
}

/* ------------------------------------------------------------- the loop is never blocked */

typedef struct {
  uint64_t last_ms, max_late_ms;
  int fired;
} ticker_t;

static void tick(uv_timer_t *t) {
  ticker_t *k = t->data;
  uint64_t now = uv_hrtime() / 1000000;
  if (k->last_ms && now - k->last_ms > 10 && now - k->last_ms - 10 > k->max_late_ms)
    k->max_late_ms = now - k->last_ms - 10;
  k->last_ms = now;
  k->fired++;
}

TEST(a_10ms_timer_stays_on_time_while_connecting_and_while_a_query_runs) {
  fixture_t fx = fixture_open(test_mariadb_url(), NULL);
  ticker_t k = {0};
  uv_timer_t timer;
  uv_timer_init(fx.loop, &timer);
  timer.data = &k;
  uv_timer_start(&timer, tick, 10, 10);
  /* The first query opens the connection (resolve, TCP, handshake, auth) on the loop. */
  uint64_t start = uv_hrtime();
  uvsql_future_t *f =
      uvsql_engine_execute_sql(fx.engine, "SELECT SLEEP(0.5), 5", NULL, 0, NULL, NULL);
  int64_t v;
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(f), 0, 1, &v), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(v, 5);
  uvsql_future_unref(f);
  double ms = ms_since(start);
  uv_close((uv_handle_t *)&timer, NULL);
  printf("connect + SLEEP(0.5) took %.1f ms; timer fired %d times, at most %llu ms late\n", ms,
         k.fired, (unsigned long long)k.max_late_ms);
  ASSERT(ms >= 500);
  ASSERT(k.fired >= 40);
  ASSERT(k.max_late_ms <= 50);
  fixture_close(&fx);
}

/* ------------------------------------------------------------- disconnects */

TEST(killed_connection_fails_with_disconnect_and_pool_hands_out_a_fresh_one) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 2;
  fixture_t fx = fixture_open(test_mariadb_url(), &opt);
  uvsql_conn_t *victim = checkout(&fx);
  uvsql_conn_t *killer = checkout(&fx);
  int64_t id = conn_int(victim, "SELECT CONNECTION_ID()");
  uvsql_future_t *slow = uvsql_conn_execute_sql(victim, "SELECT SLEEP(10)", NULL, 0, NULL, NULL);
  uvsql_future_t *queued = uvsql_conn_execute_sql(victim, "SELECT 1", NULL, 0, NULL, NULL);
  test_sleep(fx.loop, 50);
  char sql[64];
  snprintf(sql, sizeof sql, "KILL CONNECTION %lld", (long long)id);
  conn_exec_ok(killer, sql);
  const uvsql_error_t *e = AWAIT_ERR(slow, UVSQL_EDISCONNECT);
  printf("victim: %s (native %d)\n", e->message, e->native_code);
  ASSERT(e->native_code == 1927 || e->native_code == 2013 || e->native_code == 2006);
  ASSERT_INT_EQ(uvsql_err_family(e->code), UVSQL_FAMILY_OPERATIONAL);
  uvsql_future_unref(slow);
  /* The statement queued behind it fails the same way, and so does a later one. */
  AWAIT_ERR(queued, UVSQL_EDISCONNECT);
  uvsql_future_unref(queued);
  uvsql_future_t *f = uvsql_conn_execute_sql(victim, "SELECT 1", NULL, 0, NULL, NULL);
  ASSERT_STR_CONTAINS(AWAIT_ERR(f, UVSQL_EDISCONNECT)->message, "was lost earlier");
  uvsql_future_unref(f);
  uvsql_conn_release(victim);
  uvsql_conn_release(killer);
  uvsql_pool_stats_t before, after;
  uvsql_pool_stats(fx.engine, &before);
  f = uvsql_engine_execute_sql(fx.engine, "SELECT CONNECTION_ID()", NULL, 0, NULL, NULL);
  int64_t fresh;
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(f), 0, 0, &fresh), (uvsql_error_t *)NULL);
  uvsql_future_unref(f);
  uvsql_pool_stats(fx.engine, &after);
  ASSERT(fresh != id);
  ASSERT_INT_EQ(after.connects, before.connects + 1);
  ASSERT(after.invalidated >= 1);
  fixture_close(&fx);
}

/* ------------------------------------------------------------- errors */

TEST(duplicate_key_is_an_integrity_error_with_1062_and_sqlstate_23000) {
  fixture_t fx = fixture_open(test_mariadb_url(), NULL);
  const char *t = test_unique_name("dup");
  char sql[256];
  snprintf(sql, sizeof sql, "CREATE TABLE %s (id integer PRIMARY KEY, v text NOT NULL)", t);
  exec_ok(&fx, sql);
  snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (:id, :v)", t);
  uvsql_param_t p[] = {UVSQL_P_INT64("id", 5), UVSQL_P_TEXT("v", "x")};
  uvsql_result_free(query(&fx, sql, p, 2));
  uvsql_future_t *f = uvsql_engine_execute_sql(fx.engine, sql, p, 2, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EINTEGRITY);
  ASSERT_INT_EQ(e->native_code, 1062);
  ASSERT_STR_EQ(e->sqlstate, "23000");
  ASSERT_STR_CONTAINS(e->message, "Duplicate entry '5' for key 'PRIMARY' [SQL: INSERT INTO ");
  ASSERT_INT_EQ(uvsql_err_family(e->code), UVSQL_FAMILY_INTEGRITY);
  uvsql_future_unref(f);
  uvsql_param_t n[] = {UVSQL_P_INT64("id", 6), UVSQL_P_NULL("v")};
  f = uvsql_engine_execute_sql(fx.engine, sql, n, 2, NULL, NULL);
  e = AWAIT_ERR(f, UVSQL_EINTEGRITY);
  ASSERT_INT_EQ(e->native_code, 1048);
  ASSERT_STR_CONTAINS(e->message, "Column 'v' cannot be null");
  uvsql_future_unref(f);
  f = uvsql_engine_execute_sql(fx.engine, "SELECT no_such_column FROM dual", NULL, 0, NULL, NULL);
  e = AWAIT_ERR(f, UVSQL_EPROGRAMMING);
  ASSERT_INT_EQ(e->native_code, 1054);
  ASSERT_STR_EQ(e->sqlstate, "42S22");
  uvsql_future_unref(f);
  fixture_close(&fx);
}

TEST(closed_port_fails_with_connect_error_naming_host_port_and_reason) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.connect_timeout = 5;
  fixture_t fx = fixture_open("mysql://nobody:pw@127.0.0.1:1/none", &opt);
  uint64_t start = uv_hrtime();
  uvsql_future_t *f = uvsql_engine_execute_sql(fx.engine, "SELECT 1", NULL, 0, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ECONNECT);
  printf("%s (after %.1f ms)\n", e->message, ms_since(start));
  ASSERT_STR_CONTAINS(e->message, "could not connect to 127.0.0.1:1: ");
  ASSERT_STR_CONTAINS(e->message, "Can't connect to server on '127.0.0.1'");
  ASSERT_INT_EQ(e->native_code, 2002);
  ASSERT(strstr(e->message, "pw") == NULL);
  uvsql_future_unref(f);
  fixture_close(&fx);
}

TEST(missing_unix_socket_fails_with_connect_error_naming_the_path) {
  fixture_t fx =
      fixture_open("mariadb://u:pw@localhost/db?unix_socket=/nonexistent/mysqld.sock", NULL);
  uvsql_future_t *f = uvsql_engine_execute_sql(fx.engine, "SELECT 1", NULL, 0, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ECONNECT);
  ASSERT_STR_CONTAINS(e->message, "could not connect to /nonexistent/mysqld.sock: ");
  uvsql_future_unref(f);
  fixture_close(&fx);
}

TEST(unknown_url_option_is_rejected_naming_it_and_the_accepted_ones) {
  uv_loop_t *loop = test_loop();
  uvsql_engine_t *e = NULL;
  uvsql_error_t err;
  ASSERT_ERR(uvsql_engine_new(&e, loop, "mariadb://u:pw@h/db?sslmode=require", NULL, &err),
             UVSQL_EURL);
  ASSERT_STR_EQ(
      err.message,
      "unknown mariadb URL option \"sslmode\": the accepted options are charset, "
      "unix_socket, connect_timeout, ssl, ssl_mode, ssl_ca, ssl_cert, ssl_key, read_timeout, "
      "write_timeout, tcp_keepalive, tcp_user_timeout");
  ASSERT_ERR(uvsql_engine_new(&e, loop, "mysql://u@h/db?ssl_mode=maybe", NULL, &err), UVSQL_EURL);
  ASSERT_STR_CONTAINS(err.message, "ssl_mode=maybe: expected disabled, required");
  ASSERT_ERR(uvsql_engine_new(&e, loop, "mysql://u@h/db?connect_timeout=soon", NULL, &err),
             UVSQL_EURL);
  ASSERT_ERR(uvsql_engine_new(&e, loop, "mysql://u@h/db?charset=utf8;drop", NULL, &err),
             UVSQL_EURL);
  ASSERT_OK(uvsql_engine_new(&e, loop, "mysql://u@h:3307/db?charset=latin1&ssl=false", NULL, &err),
            &err);
  ASSERT_STR_EQ(uvsql_engine_dialect(e), "mariadb");
  uvsql_future_t *d = uvsql_engine_dispose(e, NULL, NULL);
  AWAIT_OK(d);
  uvsql_future_unref(d);
  test_loop_close(loop);
}

/* ------------------------------------------------------------- statements */

TEST(statement_cache_evicts_least_recently_used_and_results_stay_right) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 1;
  opt.statement_cache_size = 2;
  fixture_t fx = fixture_open(test_mariadb_url(), &opt);
  uvsql_conn_t *c = checkout(&fx);
  char sql[64];
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 5; i++) {
      snprintf(sql, sizeof sql, "SELECT %d + :x", i);
      uvsql_param_t p[] = {UVSQL_P_INT64("x", round * 100)};
      uvsql_future_t *f = uvsql_conn_execute_sql(c, sql, p, 1, NULL, NULL);
      int64_t v;
      ASSERT_OK(uvsql_result_int64(AWAIT_OK(f), 0, 0, &v), (uvsql_error_t *)NULL);
      ASSERT_INT_EQ(v, i + round * 100);
      uvsql_future_unref(f);
    }
  }
  /* The server holds at most the cache's worth of prepared statements for this session. */
  uvsql_future_t *f =
      uvsql_conn_execute_sql(c,
                             "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS "
                             "WHERE VARIABLE_NAME = 'COM_STMT_CLOSE'",
                             NULL, 0, NULL, NULL);
  const char *closed;
  ASSERT_OK(uvsql_result_text(AWAIT_OK(f), 0, 0, &closed, NULL), (uvsql_error_t *)NULL);
  ASSERT(atoi(closed) >= 12); /* 15 prepares, 2 kept, the status query itself was prepared */
  uvsql_future_unref(f);
  uvsql_conn_release(c);
  fixture_close(&fx);
}

TEST(several_statements_in_one_text_run_as_one_request) {
  fixture_t fx = fixture_open(test_mariadb_url(), NULL);
  uvsql_result_t *r = query(&fx, "SET @a = 20; SELECT @a + 1 AS n, 'two' AS s; -- done", NULL, 0);
  int64_t v;
  const char *s;
  ASSERT_INT_EQ(uvsql_result_nrows(r), 1);
  ASSERT_STR_EQ(uvsql_result_colname(r, 0), "n");
  ASSERT_OK(uvsql_result_int64(r, 0, 0, &v), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(v, 21);
  ASSERT_OK(uvsql_result_text(r, 0, 1, &s, NULL), (uvsql_error_t *)NULL);
  ASSERT_STR_EQ(s, "two");
  uvsql_result_free(r);
  /* A ';' inside a string is not a second statement. */
  r = query(&fx, "SELECT 'a;b' AS s", NULL, 0);
  ASSERT_OK(uvsql_result_text(r, 0, 0, &s, NULL), (uvsql_error_t *)NULL);
  ASSERT_STR_EQ(s, "a;b");
  uvsql_result_free(r);
  uvsql_future_t *f = uvsql_engine_execute_sql(fx.engine, "SELECT 1; SELEC 2", NULL, 0, NULL, NULL);
  ASSERT_INT_EQ(AWAIT_ERR(f, UVSQL_EPROGRAMMING)->native_code, 1064);
  uvsql_future_unref(f);
  fixture_close(&fx);
}

TEST(every_isolation_level_opens_a_transaction) {
  fixture_t fx = fixture_open(test_mariadb_url(), NULL);
  uvsql_conn_t *c = checkout(&fx);
  static const struct {
    uvsql_isolation_t level;
    const char *name;
  } levels[] = {{UVSQL_ISOLATION_READ_UNCOMMITTED, "READ-UNCOMMITTED"},
                {UVSQL_ISOLATION_READ_COMMITTED, "READ-COMMITTED"},
                {UVSQL_ISOLATION_REPEATABLE_READ, "REPEATABLE-READ"},
                {UVSQL_ISOLATION_SERIALIZABLE, "SERIALIZABLE"}};
  for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
    uvsql_future_t *f = uvsql_conn_begin(c, levels[i].level, NULL, NULL);
    AWAIT_OK(f);
    uvsql_future_unref(f);
    ASSERT_INT_EQ(conn_int(c, "SELECT @@in_transaction"), 1);
    f = uvsql_conn_rollback(c, NULL, NULL);
    AWAIT_OK(f);
    uvsql_future_unref(f);
    ASSERT_INT_EQ(conn_int(c, "SELECT @@in_transaction"), 0);
  }
  uvsql_conn_release(c);
  fixture_close(&fx);
}

TEST(column_types_decimal_tinyint1_unsigned_and_zero_rows) {
  fixture_t fx = fixture_open(test_mariadb_url(), NULL);
  uvsql_result_t *r =
      query(&fx,
            "SELECT CAST(12.50 AS DECIMAL(10,2)) AS d, CAST(1 AS UNSIGNED) = 1 AS t, "
            "18446744073709551615 AS big, CAST('x' AS BINARY) AS bin, CAST(NULL AS CHAR) AS nul",
            NULL, 0);
  const char *s;
  const void *b;
  size_t n;
  ASSERT_INT_EQ(uvsql_result_coltype(r, 0), UVSQL_TYPE_NUMERIC); /* exact decimal text */
  ASSERT_OK(uvsql_result_text(r, 0, 0, &s, NULL), (uvsql_error_t *)NULL);
  ASSERT_STR_EQ(s, "12.50");
  ASSERT_OK(uvsql_result_text(r, 0, 2, &s, NULL), (uvsql_error_t *)NULL);
  ASSERT_STR_EQ(s, "18446744073709551615");
  ASSERT_INT_EQ(uvsql_result_coltype(r, 3), UVSQL_TYPE_BYTES);
  ASSERT_OK(uvsql_result_bytes(r, 0, 3, &b, &n), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(n, 1);
  ASSERT(uvsql_result_is_null(r, 0, 4));
  uvsql_result_free(r);
  r = query(&fx, "SELECT 1 AS x FROM dual WHERE 1 = 0", NULL, 0);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 0);
  ASSERT_INT_EQ(uvsql_result_ncols(r), 1);
  ASSERT_INT_EQ(uvsql_result_rows_affected(r), -1);
  uvsql_result_free(r);
  fixture_close(&fx);
}

TEST(long_text_and_blob_values_come_back_whole) {
  fixture_t fx = fixture_open(test_mariadb_url(), NULL);
  size_t len = 300000;
  char *big = malloc(len);
  for (size_t i = 0; i < len; i++)
    big[i] = (char)('a' + i % 26);
  uvsql_param_t p[] = {UVSQL_P_TEXTN("t", big, len), UVSQL_P_BYTES("b", big, len)};
  uvsql_result_t *r = query(&fx, "SELECT :t, :b, LENGTH(:t)", p, 2);
  const char *s;
  const void *b;
  size_t n;
  int64_t l;
  ASSERT_OK(uvsql_result_text(r, 0, 0, &s, &n), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(n, len);
  ASSERT(memcmp(s, big, len) == 0 && s[n] == '\0');
  ASSERT_OK(uvsql_result_bytes(r, 0, 1, &b, &n), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(n, len);
  ASSERT(memcmp(b, big, len) == 0);
  ASSERT_OK(uvsql_result_int64(r, 0, 2, &l), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(l, (int64_t)len);
  uvsql_result_free(r);
  free(big);
  fixture_close(&fx);
}

TEST(statements_queued_on_one_connection_resolve_in_order) {
  fixture_t fx = fixture_open(test_mariadb_url(), NULL);
  uvsql_conn_t *c = checkout(&fx);
  enum { N = 200 };
  uvsql_future_t *fs[N];
  uvsql_stmt_t *st;
  uvsql_error_t err;
  ASSERT_OK(uvsql_text(&st, "SELECT CAST(:i AS SIGNED)", &err), &err);
  for (int i = 0; i < N; i++) {
    uvsql_param_t p[] = {UVSQL_P_INT64("i", i)};
    fs[i] = uvsql_conn_execute(c, st, p, 1, NULL, NULL);
  }
  for (int i = 0; i < N; i++) {
    int64_t v;
    ASSERT_OK(uvsql_result_int64(AWAIT_OK(fs[i]), 0, 0, &v), (uvsql_error_t *)NULL);
    ASSERT_INT_EQ(v, i);
    if (i > 0) /* when i settled, every earlier one had */
      ASSERT_INT_EQ(uvsql_future_state(fs[i - 1]), UVSQL_FUTURE_RESOLVED);
  }
  for (int i = 0; i < N; i++)
    uvsql_future_unref(fs[i]);
  uvsql_stmt_free(st);
  uvsql_conn_release(c);
  fixture_close(&fx);
}

TEST(rows_affected_counts_matched_rows) {
  fixture_t fx = fixture_open(test_mariadb_url(), NULL);
  const char *t = test_unique_name("ra");
  char sql[256];
  snprintf(sql, sizeof sql, "CREATE TABLE %s (id integer PRIMARY KEY, v integer)", t);
  exec_ok(&fx, sql);
  snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (1, 0), (2, 0), (3, 1)", t);
  uvsql_result_t *r = query(&fx, sql, NULL, 0);
  ASSERT_INT_EQ(uvsql_result_rows_affected(r), 3);
  uvsql_result_free(r);
  /* CLIENT_FOUND_ROWS: rows matched, as PostgreSQL and SQLite count, not rows changed. */
  snprintf(sql, sizeof sql, "UPDATE %s SET v = 1 WHERE id <= :n", t);
  uvsql_param_t p[] = {UVSQL_P_INT64("n", 3)};
  r = query(&fx, sql, p, 1);
  ASSERT_INT_EQ(uvsql_result_rows_affected(r), 3);
  uvsql_result_free(r);
  fixture_close(&fx);
}

TEST(pre_ping_replaces_a_connection_killed_while_idle) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 2;
  opt.pool_pre_ping = 1;
  fixture_t fx = fixture_open(test_mariadb_url(), &opt);
  uvsql_conn_t *a = checkout(&fx);
  uvsql_conn_t *b = checkout(&fx);
  int64_t id = conn_int(a, "SELECT CONNECTION_ID()");
  uvsql_conn_release(a);
  char sql[64];
  snprintf(sql, sizeof sql, "KILL CONNECTION %lld", (long long)id);
  conn_exec_ok(b, sql);
  test_sleep(fx.loop, 50);
  /* b stays checked out: the next checkout gets a, whose ping fails, and a fresh one. */
  uvsql_conn_t *c = checkout(&fx);
  int64_t fresh = conn_int(c, "SELECT CONNECTION_ID()");
  ASSERT(fresh != id);
  uvsql_pool_stats_t st;
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.connects, 3);
  uvsql_conn_release(c);
  uvsql_conn_release(b);
  fixture_close(&fx);
}

/* ------------------------------------------------------------- the driver itself */

#include "dialects/driver.h"

extern const uvsql__driver_t uvsql__mariadb_driver;

typedef struct {
  int connected, closed, done;
  uvsql_error_t err;
} drv_state_t;

static void drv_connected(uvsql__dconn_t *dc, const uvsql_error_t *err, void *data) {
  drv_state_t *s = data;
  (void)dc;
  s->connected = err ? -1 : 1;
}

static void drv_done(uvsql__request_t *req, uvsql_result_t *result, const uvsql_error_t *err) {
  drv_state_t *s = req->data;
  s->done++;
  if (err)
    s->err = *err;
  uvsql_result_free(result);
}

static void drv_closed(void *data) {
  ((drv_state_t *)data)->closed = 1;
}

TEST(driver_close_during_a_running_query_fails_it_closed_without_waiting) {
  uv_loop_t *loop = test_loop();
  uvsql_url_t *url;
  uvsql_error_t err;
  ASSERT_OK(uvsql_url_parse(&url, test_mariadb_url(), &err), &err);
  uvsql__dconn_options_t dopt = {5.0, 10};
  drv_state_t s = {0};
  uvsql__dconn_t *dc;
  ASSERT_OK(uvsql__mariadb_driver.connect(&dc, loop, url, &dopt, drv_connected, &s, &err), &err);
  while (!s.connected)
    uv_run(loop, UV_RUN_ONCE);
  ASSERT_INT_EQ(s.connected, 1);
  uvsql__request_t req = {0}, queued = {0};
  req.sql = "SELECT SLEEP(5)";
  req.sql_len = strlen(req.sql);
  req.flags = UVSQL__REQ_NO_PREPARE;
  req.done = drv_done;
  req.data = &s;
  queued = req;
  uvsql__mariadb_driver.submit(dc, &req);
  uvsql__mariadb_driver.submit(dc, &queued);
  ASSERT_INT_EQ(s.done, 0); /* never inside submit */
  test_sleep(loop, 100);
  uint64_t start = uv_hrtime();
  uvsql__mariadb_driver.close(dc, drv_closed, &s);
  ASSERT_INT_EQ(s.done, 2);
  ASSERT_INT_EQ(s.err.code, UVSQL_ECLOSED);
  while (!s.closed)
    uv_run(loop, UV_RUN_ONCE);
  printf("closed in %.1f ms\n", ms_since(start));
  ASSERT(ms_since(start) < 500);
  uvsql_url_free(url);
  test_loop_close(loop);
}

TEST(cached_statement_whose_table_changed_is_prepared_again) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 1;
  fixture_t fx = fixture_open(test_mariadb_url(), &opt);
  const char *t = test_unique_name("alt");
  char sql[256], sel[128], ins[128];
  snprintf(sql, sizeof sql, "CREATE TABLE %s (id integer PRIMARY KEY)", t);
  exec_ok(&fx, sql);
  snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (1)", t);
  exec_ok(&fx, sql);
  snprintf(sel, sizeof sel, "SELECT * FROM %s WHERE id = :id", t);
  snprintf(ins, sizeof ins, "INSERT INTO %s (id) VALUES (:id) RETURNING *", t);
  uvsql_param_t p[] = {UVSQL_P_INT64("id", 1)};
  uvsql_param_t p2[] = {UVSQL_P_INT64("id", 2)};
  uvsql_param_t p3[] = {UVSQL_P_INT64("id", 3)};
  uvsql_result_t *r = query(&fx, sel, p, 1);
  ASSERT_INT_EQ(uvsql_result_ncols(r), 1);
  uvsql_result_free(r);
  r = query(&fx, ins, p2, 1);
  ASSERT_INT_EQ(uvsql_result_ncols(r), 1);
  uvsql_result_free(r);
  snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN v text DEFAULT 'new'", t);
  exec_ok(&fx, sql);
  /* The cached query's columns changed: it is prepared again and run once more, at once. */
  r = query(&fx, sel, p, 1);
  const char *s;
  ASSERT_INT_EQ(uvsql_result_ncols(r), 2);
  ASSERT_OK(uvsql_result_text(r, 0, 1, &s, NULL), (uvsql_error_t *)NULL);
  ASSERT_STR_EQ(s, "new");
  uvsql_result_free(r);
  /* A write has run on the server already: it is not run again for us; the error says so and
   * the next run is prepared afresh. */
  uvsql_future_t *f = uvsql_engine_execute_sql(fx.engine, ins, p3, 1, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EOPERATIONAL);
  ASSERT_INT_EQ(e->native_code, 2057);
  ASSERT_STR_CONTAINS(e->message, "the result columns of a cached prepared statement changed: a "
                                  "table it reads was changed since this connection prepared "
                                  "it: the statement was dropped from the cache; run it again");
  uvsql_future_unref(f);
  ASSERT_INT_EQ(count_rows(&fx, t, "id = 3"), 1); /* it did run */
  p3[0].value.u.i64 = 4;
  r = query(&fx, ins, p3, 1);
  ASSERT_INT_EQ(uvsql_result_ncols(r), 2);
  ASSERT_OK(uvsql_result_text(r, 0, 1, &s, NULL), (uvsql_error_t *)NULL);
  ASSERT_STR_EQ(s, "new");
  uvsql_result_free(r);
  fixture_close(&fx);
}
