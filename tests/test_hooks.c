/* tests/test_hooks.c — connection hooks and instrumentation (uvsql/hooks.h): an on_connect
 * hook's session setting seen by every pooled connection under concurrent load, a failing hook
 * failing the checkout and discarding the connection, checkout/checkin hooks and pool events in
 * order, statement events with timings, rows, errors and hidden parameters, and the
 * slow-statement log. */
#include "backend.h"

/* ------------------------------------------------------------------ on_connect */

typedef struct {
  const char *sql; /* run by the hook */
  int calls;
} hook_t;

static uvsql_future_t *run_hook(uvsql_conn_t *c, void *data) {
  hook_t *h = data;
  h->calls++;
  return uvsql_conn_execute_sql(c, h->sql, NULL, 0, NULL, NULL);
}

typedef struct {
  int done, ok;
  int64_t want;
} load_t;

static void one_done(uvsql_future_t *f, void *data) {
  load_t *l = data;
  int64_t v = 0;
  l->done++;
  if (uvsql_future_state(f) == UVSQL_FUTURE_RESOLVED &&
      uvsql_result_int64(uvsql_future_value(f), 0, 0, &v) == 0 && v == l->want)
    l->ok++;
  else if (uvsql_future_error(f))
    fprintf(stderr, "load: %s\n", uvsql_future_error(f)->message);
}

/* hook_sql sets something per session; check_sql reads it back as want. */
static void every_pooled_connection_sees_the_hook(const char *url, const char *setup,
                                                  const char *hook_sql, const char *check_sql,
                                                  int64_t want, const char *teardown) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 4;
  opt.max_overflow = 0;
  fixture_t fx = fixture_open(url, &opt);
  if (setup)
    exec_ok(&fx, setup);
  uvsql_future_t *f = uvsql_engine_dispose(fx.engine, NULL, NULL); /* a fresh pool */
  AWAIT_OK(f);
  uvsql_future_unref(f);
  uvsql_error_t err;
  ASSERT_OK(uvsql_engine_new(&fx.engine, fx.loop, url, &opt, &err), &err);
  hook_t h = {hook_sql, 0};
  uvsql_engine_on_connect(fx.engine, run_hook, &h);

  /* 200 statements at once from 200 callers on a pool of 4 */
  enum { N = 200 };
  load_t l = {0, 0, want};
  for (int i = 0; i < N; i++)
    uvsql_engine_execute_sql(fx.engine, check_sql, NULL, 0, one_done, &l);
  while (l.done < N)
    uv_run(fx.loop, UV_RUN_ONCE);
  ASSERT_INT_EQ(l.ok, N);
  uvsql_pool_stats_t st;
  uvsql_pool_stats(fx.engine, &st);
  /* every statement ran after its connection's hook (connections still opening may not have
   * run theirs yet: their checkouts below wait for them) */
  ASSERT(h.calls >= 1 && h.calls <= (int)st.connects);

  /* the four connections at once, each asked */
  uvsql_conn_t *c[4];
  for (int i = 0; i < 4; i++)
    c[i] = checkout(&fx);
  for (int i = 0; i < 4; i++) {
    f = uvsql_conn_execute_sql(c[i], check_sql, NULL, 0, NULL, NULL);
    int64_t v = 0;
    ASSERT_OK(uvsql_result_int64(AWAIT_OK(f), 0, 0, &v), (uvsql_error_t *)NULL);
    ASSERT_INT_EQ(v, want);
    uvsql_future_unref(f);
  }
  for (int i = 0; i < 4; i++)
    uvsql_conn_release(c[i]);
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.connects, 4);
  ASSERT_INT_EQ(h.calls, 4);
  if (teardown)
    exec_ok(&fx, teardown);
  fixture_close(&fx);
}

TEST(on_connect_search_path_seen_by_every_pooled_connection_pg) {
  char setup[300], hook[100], check[100], teardown[100];
  const char *schema = test_unique_name("hooks_sp");
  snprintf(setup, sizeof setup,
           "CREATE SCHEMA %s; CREATE TABLE %s.hooks_t (x int); INSERT INTO %s.hooks_t "
           "VALUES (42)",
           schema, schema, schema);
  snprintf(hook, sizeof hook, "SET search_path TO %s, public", schema);
  snprintf(check, sizeof check, "SELECT x FROM hooks_t"); /* found only through the path */
  snprintf(teardown, sizeof teardown, "DROP SCHEMA %s CASCADE", schema);
  every_pooled_connection_sees_the_hook(test_pg_url(), setup, hook, check, 42, teardown);
}

TEST(on_connect_session_variable_seen_by_every_pooled_connection_mariadb) {
  every_pooled_connection_sees_the_hook(
      test_mariadb_url(), NULL, "SET SESSION sql_mode = 'ANSI_QUOTES', @hooks_tag = 42",
      "SELECT @hooks_tag + (@@SESSION.sql_mode = 'ANSI_QUOTES') - 1", 42, NULL);
}

TEST(on_connect_pragma_seen_by_every_pooled_connection_sqlite) {
  every_pooled_connection_sees_the_hook(test_sqlite_url(), NULL, "PRAGMA cache_size = -1234",
                                        "PRAGMA cache_size", -1234, NULL);
}

static void failing_hook_fails_the_checkout(const char *url) {
  fixture_t fx = fixture_open(url, NULL);
  hook_t h = {"SELECT * FROM hooks_no_such_table", 0};
  uvsql_engine_on_connect(fx.engine, run_hook, &h);
  uvsql_future_t *f = uvsql_engine_connect(fx.engine, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EPROGRAMMING);
  ASSERT(strncmp(e->message, "the on_connect hook failed: ", 28) == 0);
  ASSERT_STR_CONTAINS(e->message, "hooks_no_such_table");
  uvsql_future_unref(f);
  ASSERT_INT_EQ(h.calls, 1);
  uvsql_pool_stats_t st;
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.checkouts, 0);
  /* the connection was discarded: once the closing is done, nothing is open */
  test_sleep(fx.loop, 50);
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.size, 0);
  ASSERT_INT_EQ(st.idle, 0);

  /* a statement on the engine fails the same way; without the hook it runs */
  f = uvsql_engine_execute_sql(fx.engine, "SELECT 1", NULL, 0, NULL, NULL);
  e = AWAIT_ERR(f, UVSQL_EPROGRAMMING);
  ASSERT_STR_CONTAINS(e->message, "the on_connect hook failed: ");
  uvsql_future_unref(f);
  uvsql_engine_on_connect(fx.engine, NULL, NULL);
  exec_ok(&fx, "SELECT 1");
  ASSERT_INT_EQ(h.calls, 2);
  fixture_close(&fx);
}

TEST(on_connect_failure_fails_the_checkout_pg) {
  failing_hook_fails_the_checkout(test_pg_url());
}
TEST(on_connect_failure_fails_the_checkout_mariadb) {
  failing_hook_fails_the_checkout(test_mariadb_url());
}
TEST(on_connect_failure_fails_the_checkout_sqlite) {
  failing_hook_fails_the_checkout(test_sqlite_url());
}

/* ------------------------------------------------------------------ pool events */

typedef struct {
  char kinds[64];
  int n;
  int checkouts, checkins;
  /* the last AFTER_EXECUTE */
  double elapsed;
  int64_t rows, rows_affected;
  int error_code, params_hidden;
  size_t nparams, nsets;
  char sql[200];
  char param0[64];
} rec_t;

static void record(const uvsql_event_t *ev, void *data) {
  rec_t *r = data;
  static const char letters[] = "?BAcoiXT"; /* by kind */
  if (r->n < (int)sizeof r->kinds - 1)
    r->kinds[r->n++] = letters[ev->kind];
  if (ev->kind == UVSQL_EVENT_AFTER_EXECUTE) {
    r->elapsed = ev->elapsed;
    r->rows = ev->rows;
    r->rows_affected = ev->rows_affected;
    r->error_code = ev->error ? ev->error->code : 0;
    r->params_hidden = ev->params_hidden;
    r->nparams = ev->nparams;
    r->nsets = ev->nsets;
    snprintf(r->sql, sizeof r->sql, "%.*s", (int)ev->sql_len, ev->sql);
    r->param0[0] = '\0';
    if (ev->params && ev->nparams && ev->params[0].type == UVSQL_TYPE_TEXT)
      snprintf(r->param0, sizeof r->param0, "%.*s", (int)ev->params[0].u.s.len,
               ev->params[0].u.s.ptr);
  }
}

static void on_out(uvsql_conn_t *c, void *data) {
  ASSERT(c != NULL);
  ((rec_t *)data)->checkouts++;
}

static void on_in(uvsql_conn_t *c, void *data) {
  ASSERT(c != NULL);
  ((rec_t *)data)->checkins++;
}

static void pool_events_in_order(const char *url) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 1;
  opt.max_overflow = 0;
  fixture_t fx = fixture_open(url, &opt);
  rec_t r = {0};
  uvsql_engine_set_listener(fx.engine, record, &r);
  uvsql_engine_on_checkout(fx.engine, on_out, &r);
  uvsql_engine_on_checkin(fx.engine, on_in, &r);

  uvsql_conn_t *c = checkout(&fx); /* c o */
  conn_exec_ok(c, "SELECT 1");     /* B A */
  uvsql_conn_release(c);           /* i */
  c = checkout(&fx);               /* o (the same connection) */
  uvsql_conn_invalidate(c);        /* X */
  uvsql_conn_release(c);           /* i */
  exec_ok(&fx, "SELECT 2");        /* c o B A i (a new connection) */
  r.kinds[r.n] = '\0';
  ASSERT_STR_EQ(r.kinds, "coBAioXicoBAi");
  ASSERT_INT_EQ(r.checkouts, 3);
  ASSERT_INT_EQ(r.checkins, 3);
  ASSERT_STR_EQ(r.sql, "SELECT 2");
  ASSERT_INT_EQ(r.rows, 1);

  /* removed: nothing more is recorded */
  uvsql_engine_set_listener(fx.engine, NULL, NULL);
  uvsql_engine_on_checkout(fx.engine, NULL, NULL);
  uvsql_engine_on_checkin(fx.engine, NULL, NULL);
  exec_ok(&fx, "SELECT 3");
  ASSERT_INT_EQ(r.n, 13);
  ASSERT_INT_EQ(r.checkouts, 3);
  fixture_close(&fx);

  /* a checkout that waits pool_timeout in vain */
  opt.pool_timeout = 1.0; /* the first checkout connects within it, the second waits it out */
  fx = fixture_open(url, &opt);
  memset(&r, 0, sizeof r);
  uvsql_engine_set_listener(fx.engine, record, &r);
  c = checkout(&fx); /* c o */
  uvsql_future_t *f = uvsql_engine_connect(fx.engine, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EPOOL_TIMEOUT); /* T */
  ASSERT_STR_CONTAINS(e->message, "pool limit of size 1 overflow 0 reached");
  uvsql_future_unref(f);
  uvsql_conn_release(c); /* i */
  r.kinds[r.n] = '\0';
  ASSERT_STR_EQ(r.kinds, "coTi");
  fixture_close(&fx);
}

TEST(pool_events_in_order_pg) {
  pool_events_in_order(test_pg_url());
}
TEST(pool_events_in_order_mariadb) {
  pool_events_in_order(test_mariadb_url());
}
TEST(pool_events_in_order_sqlite) {
  pool_events_in_order(test_sqlite_url());
}

/* ------------------------------------------------------------------ statement events */

static void capture_log(void *data, const char *line) {
  char *buf = data;
  size_t len = strlen(buf);
  snprintf(buf + len, 4096 - len, "%s\n", line);
}

static void statement_events(const char *url, const char *sleep_sql) {
  static char log[4096];
  log[0] = '\0';
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.log_cb = capture_log;
  opt.log_data = log;
  fixture_t fx = fixture_open(url, &opt);
  rec_t r = {0};
  uvsql_engine_set_listener(fx.engine, record, &r);
  ASSERT_INT_EQ(uvsql_engine_set_slow_statement_threshold(fx.engine, 0.04), 0);
  ASSERT_INT_EQ(uvsql_engine_set_slow_statement_threshold(fx.engine, 0.0 / 0.0),
                UVSQL_EINVALID_ARGUMENT);

  /* rows and visible parameters */
  const char *t = test_unique_name("hooks_ev");
  char sql[200];
  snprintf(sql, sizeof sql, "CREATE TABLE %s (id INTEGER PRIMARY KEY, name VARCHAR(20))", t);
  exec_ok(&fx, sql);
  ASSERT_INT_EQ(r.rows_affected <= 0, 1);
  snprintf(sql, sizeof sql, "INSERT INTO %s (id, name) VALUES (1, :a), (2, :a), (3, 'c')", t);
  uvsql_param_t p[] = {UVSQL_P_TEXT("a", "secret-ish")};
  uvsql_result_free(query(&fx, sql, p, 1));
  ASSERT_INT_EQ(r.rows_affected, 3);
  ASSERT_INT_EQ(r.error_code, 0);
  ASSERT_STR_EQ(r.param0, "secret-ish");
  ASSERT_INT_EQ(r.params_hidden, 0);
  snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE name = :a OR id > 2", t);
  uvsql_result_free(query(&fx, sql, p, 1));
  ASSERT_INT_EQ(r.rows, 3);
  ASSERT(r.elapsed >= 0 && r.elapsed < 1.0);

  /* an error */
  uvsql_future_t *f =
      uvsql_engine_execute_sql(fx.engine, "SELECT * FROM hooks_no_such_table", NULL, 0, NULL, NULL);
  AWAIT_ERR(f, UVSQL_EPROGRAMMING);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(r.error_code, UVSQL_EPROGRAMMING);
  ASSERT_INT_EQ(r.rows, 0);

  /* executemany: one event, its sets counted */
  uvsql_stmt_t *st;
  uvsql_error_t err;
  snprintf(sql, sizeof sql, "UPDATE %s SET name = :a WHERE id = :id", t);
  ASSERT_OK(uvsql_text(&st, sql, &err), &err);
  uvsql_param_t sets[] = {UVSQL_P_TEXT("a", "x"), UVSQL_P_INT64("id", 1), UVSQL_P_TEXT("a", "y"),
                          UVSQL_P_INT64("id", 2)};
  int before = r.n;
  f = uvsql_engine_execute_many(fx.engine, st, sets, 2, 2, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  uvsql_stmt_free(st);
  r.kinds[r.n] = '\0';
  ASSERT_STR_EQ(r.kinds + before, "oBAi"); /* its own checkout, one statement event pair */
  ASSERT_INT_EQ(r.nsets, 2);
  ASSERT_INT_EQ(r.nparams, 2);
  ASSERT_INT_EQ(r.rows_affected, 2);

  /* timing and the slow log: a sleep of 50 ms reports at least 50 ms, well under a second */
  if (sleep_sql) {
    /* under a threshold of 10 s nothing is logged; under 40 ms the sleep is */
    ASSERT_INT_EQ(uvsql_engine_set_slow_statement_threshold(fx.engine, 10), 0);
    log[0] = '\0';
    exec_ok(&fx, sleep_sql);
    ASSERT_STR_EQ(log, "");
    ASSERT_INT_EQ(uvsql_engine_set_slow_statement_threshold(fx.engine, 0.04), 0);
    exec_ok(&fx, sleep_sql);
    ASSERT(r.elapsed >= 0.05);
    if (!test_under_valgrind())
      ASSERT(r.elapsed < 1.0);
    ASSERT_STR_CONTAINS(log, "slow statement (");
    ASSERT_STR_CONTAINS(log, "threshold 40.0 ms): ");
    ASSERT_STR_CONTAINS(log, sleep_sql);
  }

  snprintf(sql, sizeof sql, "DROP TABLE %s", t);
  exec_ok(&fx, sql);
  fixture_close(&fx);

  /* hidden parameters: the listener gets none, the slow log says so */
  log[0] = '\0';
  opt.echo_hide_parameters = 1;
  fx = fixture_open(url, &opt);
  memset(&r, 0, sizeof r);
  uvsql_engine_set_listener(fx.engine, record, &r);
  uvsql_engine_set_slow_statement_threshold(fx.engine, 1e-9);
  uvsql_result_free(query(&fx, "SELECT :a", p, 1));
  ASSERT_INT_EQ(r.params_hidden, 1);
  ASSERT_INT_EQ(r.nparams, 1);
  ASSERT_STR_EQ(r.param0, "");
  ASSERT_STR_CONTAINS(log, "slow statement (");
  ASSERT_STR_CONTAINS(log, "[parameters hidden]");
  ASSERT(strstr(log, "secret-ish") == NULL);
  fixture_close(&fx);
}

TEST(statement_events_timings_rows_and_hidden_parameters_pg) {
  statement_events(test_pg_url(), "SELECT pg_sleep(0.05)");
}
TEST(statement_events_timings_rows_and_hidden_parameters_mariadb) {
  statement_events(test_mariadb_url(), "SELECT SLEEP(0.05)");
}
TEST(statement_events_timings_rows_and_hidden_parameters_sqlite) {
  statement_events(test_sqlite_url(), NULL);
}
