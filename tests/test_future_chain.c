/* tests/test_future_chain.c — the callback-style helpers of future.h: uvsql_chain runs a
 * transaction (checkout, begin, insert, commit) step by step on PostgreSQL, MariaDB and
 * SQLite, each step getting the previous value, and ends in done; a failing statement in the
 * middle ends it in the one fail handler with the step's index and the server's message,
 * running no later step; uvsql_future_on splits a future into ok / fail; NULL futures, a step
 * that returns NULL and missing callbacks are reported, never crash or leak. */
#include "backend.h"

typedef struct {
  fixture_t *fx;
  const char *table;
  uvsql_conn_t *conn;
  int ran[8]; /* steps that ran, in order */
  int nran;
  int done, failed; /* how many times each end ran */
  size_t fail_step;
  int fail_code;
  char fail_message[600];
  int64_t last_rows; /* rows affected by the last statement, read in done */
  const char *insert_sql;
} tx_t;

static uvsql_future_t *s_begin(void *conn, void *data) {
  tx_t *t = data;
  t->ran[t->nran++] = 1;
  t->conn = conn; /* the checkout's value: the connection */
  return uvsql_conn_begin(t->conn, UVSQL_ISOLATION_DEFAULT, NULL, NULL);
}

static uvsql_future_t *s_insert(void *unused, void *data) {
  tx_t *t = data;
  (void)unused;
  t->ran[t->nran++] = 2;
  char sql[256];
  snprintf(sql, sizeof sql, t->insert_sql, t->table);
  return uvsql_conn_execute_sql(t->conn, sql, NULL, 0, NULL, NULL);
}

static uvsql_future_t *s_commit(void *result, void *data) {
  tx_t *t = data;
  t->ran[t->nran++] = 3;
  t->last_rows = uvsql_result_rows_affected(result); /* the insert's result, borrowed */
  return uvsql_conn_commit(t->conn, NULL, NULL);
}

static const uvsql_step_fn transfer[] = {s_begin, s_insert, s_commit};

static void on_done(void *value, void *data) {
  tx_t *t = data;
  (void)value;
  t->done++;
  uvsql_conn_release(t->conn);
}

static void on_fail(const uvsql_error_t *e, size_t step, void *data) {
  tx_t *t = data;
  t->failed++;
  t->fail_step = step;
  t->fail_code = e->code;
  snprintf(t->fail_message, sizeof t->fail_message, "%s", e->message);
  if (t->conn)
    uvsql_conn_release(t->conn); /* rolls back */
}

/* Runs the loop until the chain ended. */
static void run_until_ended(tx_t *t) {
  while (!t->done && !t->failed)
    uv_run(t->fx->loop, UV_RUN_ONCE);
}

static void chain_runs_a_transaction(const char *url) {
  fixture_t fx = fixture_open(url, NULL);
  const char *table = test_unique_name("chain_note");
  char sql[256];
  snprintf(sql, sizeof sql, "CREATE TABLE %s (name varchar(40))", table);
  exec_ok(&fx, sql);

  /* every step, in order, each with the previous value; then done, once */
  tx_t t = {.fx = &fx, .table = table, .insert_sql = "INSERT INTO %s (name) VALUES ('a'), ('b')"};
  ASSERT_INT_EQ(
      uvsql_chain(uvsql_engine_connect(fx.engine, NULL, NULL), transfer, 3, on_done, on_fail, &t),
      0);
  run_until_ended(&t);
  ASSERT_INT_EQ(t.done, 1);
  ASSERT_INT_EQ(t.failed, 0);
  ASSERT_INT_EQ(t.nran, 3);
  ASSERT_INT_EQ(t.ran[0] * 100 + t.ran[1] * 10 + t.ran[2], 123);
  ASSERT_INT_EQ(t.last_rows, 2);
  ASSERT_INT_EQ(count_rows(&fx, table, NULL), 2);

  /* a failing statement: fail once, with its step and the server's message; commit never
   * runs, and the release rolls the transaction back */
  tx_t u = {.fx = &fx, .table = table, .insert_sql = "INSERT INTO %s (nme) VALUES ('c')"};
  ASSERT_INT_EQ(
      uvsql_chain(uvsql_engine_connect(fx.engine, NULL, NULL), transfer, 3, on_done, on_fail, &u),
      0);
  run_until_ended(&u);
  ASSERT_INT_EQ(u.failed, 1);
  ASSERT_INT_EQ(u.done, 0);
  ASSERT_INT_EQ(u.fail_step, 2); /* 0: the checkout, 1: begin, 2: the insert */
  ASSERT_INT_EQ(u.nran, 2);      /* begin, insert; not commit */
  ASSERT_INT_EQ(u.fail_code, UVSQL_EPROGRAMMING);
  ASSERT_STR_CONTAINS(u.fail_message, "nme");
  ASSERT_STR_CONTAINS(u.fail_message, "[SQL: INSERT INTO");
  ASSERT_INT_EQ(count_rows(&fx, table, NULL), 2);

  snprintf(sql, sizeof sql, "DROP TABLE %s", table);
  exec_ok(&fx, sql);
  fixture_close(&fx);
}

TEST(future_chain_runs_a_transaction_pg) {
  chain_runs_a_transaction(test_pg_url());
}
TEST(future_chain_runs_a_transaction_mariadb) {
  chain_runs_a_transaction(test_mariadb_url());
}
TEST(future_chain_runs_a_transaction_sqlite) {
  chain_runs_a_transaction(test_sqlite_url());
}

typedef struct {
  int ok, fail;
  int64_t value;
  int code;
  char message[600];
} on_t;

static void on_ok(void *value, void *data) {
  on_t *o = data;
  o->ok++;
  if (value)
    uvsql_result_int64(value, 0, 0, &o->value);
}

static void on_error(const uvsql_error_t *e, void *data) {
  on_t *o = data;
  o->fail++;
  o->code = e->code;
  snprintf(o->message, sizeof o->message, "%s", e->message);
}

static void future_on_splits(const char *url) {
  fixture_t fx = fixture_open(url, NULL);
  on_t a = {0}, b = {0};
  ASSERT_INT_EQ(
      uvsql_future_on(uvsql_engine_execute_sql(fx.engine, "SELECT 6 * 7", NULL, 0, NULL, NULL),
                      on_ok, on_error, &a),
      0);
  ASSERT_INT_EQ(uvsql_future_on(uvsql_engine_execute_sql(fx.engine, "SELEC 1", NULL, 0, NULL, NULL),
                                on_ok, on_error, &b),
                0);
  while (a.ok + a.fail == 0 || b.ok + b.fail == 0)
    uv_run(fx.loop, UV_RUN_ONCE);
  ASSERT_INT_EQ(a.ok, 1);
  ASSERT_INT_EQ(a.fail, 0);
  ASSERT_INT_EQ(a.value, 42);
  ASSERT_INT_EQ(b.ok, 0);
  ASSERT_INT_EQ(b.fail, 1);
  ASSERT_INT_EQ(b.code, UVSQL_EPROGRAMMING);
  ASSERT_STR_CONTAINS(b.message, "SELEC");
  /* a future that has already settled: ok runs before uvsql_future_on returns */
  on_t c = {0};
  uvsql_future_t *done = uvsql_engine_execute_sql(fx.engine, "SELECT 7", NULL, 0, NULL, NULL);
  ASSERT_INT_EQ(uvsql_future_wait(done), 0);
  ASSERT_INT_EQ(uvsql_future_on(done, on_ok, on_error, &c), 0);
  ASSERT_INT_EQ(c.ok, 1);
  ASSERT_INT_EQ(c.fail, 0);
  ASSERT_INT_EQ(c.value, 7);
  fixture_close(&fx);
}

TEST(future_on_splits_ok_and_fail_pg) {
  future_on_splits(test_pg_url());
}
TEST(future_on_splits_ok_and_fail_mariadb) {
  future_on_splits(test_mariadb_url());
}
TEST(future_on_splits_ok_and_fail_sqlite) {
  future_on_splits(test_sqlite_url());
}

static uvsql_future_t *s_no_future(void *value, void *data) {
  (void)value;
  (void)data;
  return NULL; /* as a call that could not make its future */
}
static const uvsql_step_fn broken[] = {s_no_future};

typedef struct {
  int done, failed;
  size_t step;
  int code;
  char message[600];
} end_t;

static void end_done(void *value, void *data) {
  end_t *e = data;
  e->done++;
  if (value)
    uvsql_result_int64(value, 0, 0, &(int64_t){0});
}

static void end_fail(const uvsql_error_t *err, size_t step, void *data) {
  end_t *e = data;
  e->failed++;
  e->step = step;
  e->code = err->code;
  snprintf(e->message, sizeof e->message, "%s", err->message);
}

/* Out-of-memory stand-ins and misuse: reported through the one handler, or refused. */
TEST(future_chain_reports_missing_futures_and_misuse) {
  fixture_t fx = fixture_open(test_sqlite_url(), NULL);

  /* first NULL (its call could not make it): fail at step 0, before uvsql_chain returns */
  end_t e = {0};
  ASSERT_INT_EQ(uvsql_chain(NULL, broken, 1, end_done, end_fail, &e), 0);
  ASSERT_INT_EQ(e.failed, 1);
  ASSERT_INT_EQ(e.done, 0);
  ASSERT_INT_EQ(e.step, 0);
  ASSERT_INT_EQ(e.code, UVSQL_ENOMEM);
  ASSERT_STR_EQ(e.message, "out of memory: the chain's first call could not make its future");

  /* a step that returns NULL: fail at its index + 1 */
  end_t g = {0};
  ASSERT_INT_EQ(uvsql_chain(uvsql_engine_execute_sql(fx.engine, "SELECT 1", NULL, 0, NULL, NULL),
                            broken, 1, end_done, end_fail, &g),
                0);
  while (!g.done && !g.failed)
    uv_run(fx.loop, UV_RUN_ONCE);
  ASSERT_INT_EQ(g.failed, 1);
  ASSERT_INT_EQ(g.step, 1);
  ASSERT_INT_EQ(g.code, UVSQL_ENOMEM);
  ASSERT_STR_EQ(g.message, "out of memory: a step of the chain could not make its future");

  /* no steps: done with the first future's value */
  end_t h = {0};
  ASSERT_INT_EQ(uvsql_chain(uvsql_engine_execute_sql(fx.engine, "SELECT 1", NULL, 0, NULL, NULL),
                            NULL, 0, end_done, end_fail, &h),
                0);
  while (!h.done && !h.failed)
    uv_run(fx.loop, UV_RUN_ONCE);
  ASSERT_INT_EQ(h.done, 1);
  ASSERT_INT_EQ(h.failed, 0);

  /* a missing callback: refused, nothing runs, the future is released (ASan/valgrind: no leak) */
  end_t k = {0};
  ASSERT_INT_EQ(uvsql_chain(uvsql_engine_execute_sql(fx.engine, "SELECT 1", NULL, 0, NULL, NULL),
                            broken, 1, NULL, end_fail, &k),
                UVSQL_EINVALID_ARGUMENT);
  ASSERT_INT_EQ(uvsql_chain(uvsql_engine_execute_sql(fx.engine, "SELECT 1", NULL, 0, NULL, NULL),
                            NULL, 2, end_done, end_fail, &k),
                UVSQL_EINVALID_ARGUMENT);
  ASSERT_INT_EQ(k.done + k.failed, 0);

  /* uvsql_future_on: NULL future -> fail with UVSQL_ENOMEM at once; no ok -> refused */
  on_t o = {0};
  ASSERT_INT_EQ(uvsql_future_on(NULL, on_ok, on_error, &o), UVSQL_ENOMEM);
  ASSERT_INT_EQ(o.fail, 1);
  ASSERT_INT_EQ(o.code, UVSQL_ENOMEM);
  ASSERT_STR_EQ(o.message, "out of memory: the call could not make its future");
  ASSERT_INT_EQ(
      uvsql_future_on(uvsql_engine_execute_sql(fx.engine, "SELECT 1", NULL, 0, NULL, NULL), NULL,
                      on_error, &o),
      UVSQL_EINVALID_ARGUMENT);
  ASSERT_INT_EQ(o.ok + o.fail, 1);
  fixture_close(&fx);
}
