/* tests/test_pool.c — the pool: deadlines, FIFO waiters, overflow, LIFO, recycle, cancel,
 * dispose, and engine creation errors. Runs on real SQLite files, a real PostgreSQL and a real
 * MariaDB. */
#include "backend.h"

static double ms_since(uint64_t start_ns) {
  return (double)(uv_hrtime() - start_ns) / 1e6;
}

static void fourth_checkout_times_out_at_deadline(const char *url) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 3;
  opt.max_overflow = 0;
  opt.pool_timeout = 2.0;
  fixture_t fx = fixture_open(url, &opt);
  uvsql_conn_t *c[3];
  for (int i = 0; i < 3; i++)
    c[i] = checkout(&fx);
  uint64_t start = uv_hrtime();
  uvsql_future_t *f = uvsql_engine_connect(fx.engine, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EPOOL_TIMEOUT);
  double waited = ms_since(start);
  printf("4th checkout failed after %.1f ms\n", waited);
  ASSERT(waited >= 1800 && waited <= 2200);
  ASSERT_STR_CONTAINS(e->message, "pool limit of size 3 overflow 0 reached (3 checked out)");
  ASSERT_STR_CONTAINS(e->message, "raise pool_size");
  uvsql_future_unref(f);
  for (int i = 0; i < 3; i++) {
    uvsql_future_t *q = uvsql_conn_execute_sql(c[i], "SELECT 1", NULL, 0, NULL, NULL);
    AWAIT_OK(q);
    uvsql_future_unref(q);
  }
  uvsql_pool_stats_t st;
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.timeouts, 1);
  ASSERT_INT_EQ(st.checked_out, 3);
  ASSERT_INT_EQ(st.size, 3);
  ASSERT_INT_EQ(st.waiting, 0);
  for (int i = 0; i < 3; i++)
    uvsql_conn_release(c[i]);
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.idle, 3);
  ASSERT_INT_EQ(st.checked_out, 0);
  fixture_close(&fx);
}
TEST(pg_fourth_checkout_of_three_fails_at_its_deadline) {
  fourth_checkout_times_out_at_deadline(test_pg_url());
}
TEST(sqlite_fourth_checkout_of_three_fails_at_its_deadline) {
  fourth_checkout_times_out_at_deadline(test_sqlite_url());
}
TEST(mariadb_fourth_checkout_of_three_fails_at_its_deadline) {
  fourth_checkout_times_out_at_deadline(test_mariadb_url());
}

static uvsql_conn_t *served[4];
static int nserved;
static void on_checkout(uvsql_future_t *f, void *data) {
  (void)data;
  ASSERT_INT_EQ(uvsql_future_state(f), UVSQL_FUTURE_RESOLVED);
  served[nserved++] = uvsql_future_value(f);
  ASSERT(data == (void *)(intptr_t)nserved);
}

static void waiters_are_served_in_fifo_order(const char *url) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 1;
  opt.max_overflow = 0;
  fixture_t fx = fixture_open(url, &opt);
  uvsql_conn_t *c = checkout(&fx);
  nserved = 0;
  uvsql_engine_connect(fx.engine, on_checkout, (void *)1); /* callback style: borrowed */
  uvsql_engine_connect(fx.engine, on_checkout, (void *)2);
  uvsql_engine_connect(fx.engine, on_checkout, (void *)3);
  uv_run(fx.loop, UV_RUN_NOWAIT);
  ASSERT_INT_EQ(nserved, 0);
  uvsql_conn_release(c);
  uv_run(fx.loop, UV_RUN_NOWAIT);
  ASSERT_INT_EQ(nserved, 1);
  ASSERT(served[0] == c);
  uvsql_conn_release(served[0]);
  ASSERT_INT_EQ(nserved, 2);
  uvsql_conn_release(served[1]);
  ASSERT_INT_EQ(nserved, 3);
  uvsql_conn_release(served[2]);
  uvsql_pool_stats_t st;
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.connects, 1);
  ASSERT_INT_EQ(st.checkouts, 4);
  fixture_close(&fx);
}
TEST(sqlite_waiters_are_served_in_fifo_order) {
  waiters_are_served_in_fifo_order(test_sqlite_url());
}
TEST(mariadb_waiters_are_served_in_fifo_order) {
  waiters_are_served_in_fifo_order(test_mariadb_url());
}

static void overflow_connections_close_on_release(const char *url) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 1;
  opt.max_overflow = 1;
  fixture_t fx = fixture_open(url, &opt);
  uvsql_conn_t *a = checkout(&fx), *b = checkout(&fx);
  uvsql_pool_stats_t st;
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.size, 2);
  ASSERT_INT_EQ(st.overflow, 1);
  uvsql_conn_release(a);
  uvsql_conn_release(b);
  uv_run(fx.loop, UV_RUN_NOWAIT);
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.size, 1);
  ASSERT_INT_EQ(st.idle, 1);
  ASSERT_INT_EQ(st.overflow, 0);
  fixture_close(&fx);
}
TEST(sqlite_overflow_connections_close_on_release) {
  overflow_connections_close_on_release(test_sqlite_url());
}
TEST(mariadb_overflow_connections_close_on_release) {
  overflow_connections_close_on_release(test_mariadb_url());
}

static void lifo_or_fifo(const char *url, int lifo) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 2;
  opt.pool_use_lifo = lifo;
  fixture_t fx = fixture_open(url, &opt);
  uvsql_conn_t *a = checkout(&fx), *b = checkout(&fx);
  uvsql_conn_release(a);
  uvsql_conn_release(b); /* b returned last */
  uvsql_conn_t *c = checkout(&fx);
  ASSERT(c == (lifo ? b : a));
  uvsql_conn_release(c);
  fixture_close(&fx);
}
TEST(sqlite_fifo_pool_hands_out_least_recently_returned) {
  lifo_or_fifo(test_sqlite_url(), 0);
}
TEST(sqlite_lifo_pool_hands_out_most_recently_returned) {
  lifo_or_fifo(test_sqlite_url(), 1);
}
TEST(mariadb_fifo_pool_hands_out_least_recently_returned) {
  lifo_or_fifo(test_mariadb_url(), 0);
}
TEST(mariadb_lifo_pool_hands_out_most_recently_returned) {
  lifo_or_fifo(test_mariadb_url(), 1);
}

static void recycle_replaces_old_connections(const char *url) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_recycle = 0.05;
  fixture_t fx = fixture_open(url, &opt);
  uvsql_conn_release(checkout(&fx));
  test_sleep(fx.loop, 80);
  uvsql_conn_release(checkout(&fx));
  uvsql_pool_stats_t st;
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.connects, 2);
  ASSERT_INT_EQ(st.invalidated, 1);
  fixture_close(&fx);
}
TEST(sqlite_recycle_replaces_old_connections) {
  recycle_replaces_old_connections(test_sqlite_url());
}
TEST(mariadb_recycle_replaces_old_connections) {
  recycle_replaces_old_connections(test_mariadb_url());
}

static void cancelled_checkout_leaves_the_queue(const char *url) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 1;
  opt.max_overflow = 0;
  fixture_t fx = fixture_open(url, &opt);
  uvsql_conn_t *c = checkout(&fx);
  uvsql_future_t *f = uvsql_engine_connect(fx.engine, NULL, NULL);
  uv_run(fx.loop, UV_RUN_NOWAIT);
  uvsql_pool_stats_t st;
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.waiting, 1);
  ASSERT_INT_EQ(uvsql_future_cancel(f), 0);
  ASSERT_INT_EQ(uvsql_future_state(f), UVSQL_FUTURE_CANCELLED);
  ASSERT_STR_CONTAINS(uvsql_future_error(f)->message, "cancelled while waiting");
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.waiting, 0);
  uvsql_future_unref(f);
  uvsql_conn_release(c);
  fixture_close(&fx);
}
TEST(sqlite_cancelled_checkout_leaves_the_queue) {
  cancelled_checkout_leaves_the_queue(test_sqlite_url());
}
TEST(mariadb_cancelled_checkout_leaves_the_queue) {
  cancelled_checkout_leaves_the_queue(test_mariadb_url());
}

static void dispose_fails_waiting_checkouts_and_queries(const char *url) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 1;
  opt.max_overflow = 0;
  fixture_t fx = fixture_open(url, &opt);
  uvsql_conn_t *c = checkout(&fx);
  uvsql_future_t *w = uvsql_engine_connect(fx.engine, NULL, NULL);
  uvsql_future_t *q = uvsql_engine_execute_sql(fx.engine, "SELECT 1", NULL, 0, NULL, NULL);
  uv_run(fx.loop, UV_RUN_NOWAIT);
  uvsql_future_t *d = uvsql_engine_dispose(fx.engine, NULL, NULL);
  ASSERT_STR_EQ(AWAIT_ERR(w, UVSQL_ECLOSED)->message,
                "the engine was disposed (uvsql_engine_dispose) while this waited for a "
                "connection: nothing was run");
  AWAIT_ERR(q, UVSQL_ECLOSED);
  /* disposing twice says so */
  uvsql_future_t *d2 = uvsql_engine_dispose(fx.engine, NULL, NULL);
  ASSERT_STR_EQ(AWAIT_ERR(d2, UVSQL_EINTERFACE)->message,
                "uvsql_engine_dispose: the engine is already being disposed: call it once and "
                "wait for that future");
  uvsql_future_unref(d2);
  ASSERT_INT_EQ(uvsql_future_state(d), UVSQL_FUTURE_PENDING); /* c is still checked out */
  uvsql_conn_release(c);
  AWAIT_OK(d);
  uvsql_future_unref(w);
  uvsql_future_unref(q);
  uvsql_future_unref(d);
  test_loop_close(fx.loop);
}
TEST(sqlite_dispose_fails_waiting_checkouts_and_queries) {
  dispose_fails_waiting_checkouts_and_queries(test_sqlite_url());
}
TEST(mariadb_dispose_fails_waiting_checkouts_and_queries) {
  dispose_fails_waiting_checkouts_and_queries(test_mariadb_url());
}

TEST(engine_new_rejects_bad_urls_and_options) {
  test_require_backend("postgresql");
  test_require_backend("sqlite");
  uv_loop_t *loop = test_loop();
  uvsql_engine_t *e = NULL;
  uvsql_error_t err;
  ASSERT_ERR(uvsql_engine_new(&e, loop, "postgresql//nope", NULL, &err), UVSQL_EURL);
  ASSERT(e == NULL);
  ASSERT(err.message[0] != '\0');
  ASSERT_ERR(uvsql_engine_new(&e, loop, "oracle://u:hunter2@h/db", NULL, &err), UVSQL_EURL);
  ASSERT(strstr(err.message, "hunter2") == NULL);
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 0;
  ASSERT_ERR(uvsql_engine_new(&e, loop, "sqlite://", &opt, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(err.message, "pool_size is 0: it must be at least 1");
  opt = (uvsql_engine_options_t)UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_timeout = -1;
  ASSERT_ERR(uvsql_engine_new(&e, loop, "sqlite://", &opt, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(err.message, "pool_timeout is -1 and connect_timeout 30: neither may be "
                             "negative (seconds; 0 for none)");
  opt = (uvsql_engine_options_t)UVSQL_ENGINE_OPTIONS_INIT;
  opt.statement_cache_size = -2;
  ASSERT_ERR(uvsql_engine_new(&e, loop, "sqlite://", &opt, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(
      err.message,
      "statement_cache_size is -2: it must be 0 or more (0 keeps no prepared statements)");
  ASSERT_ERR(uvsql_engine_new(&e, loop, "postgresql://u@h/db?no_such_option=1", NULL, &err),
             UVSQL_EURL);
  ASSERT_STR_CONTAINS(err.message, "no_such_option");
  test_loop_close(loop);
}

TEST(engine_url_masks_the_password) {
  test_require_backend("postgresql");
  uv_loop_t *loop = test_loop();
  uvsql_engine_t *e;
  uvsql_error_t err;
  ASSERT_OK(
      uvsql_engine_new(&e, loop, "postgresql://app:s%40cret@127.0.0.1:5999/appdb", NULL, &err),
      &err);
  ASSERT_STR_EQ(uvsql_engine_url(e), "postgresql://app:***@127.0.0.1:5999/appdb");
  ASSERT_STR_EQ(uvsql_engine_dialect(e), "postgresql");
  uvsql_future_t *d = uvsql_engine_dispose(e, NULL, NULL);
  AWAIT_OK(d);
  uvsql_future_unref(d);
  test_loop_close(loop);
}

TEST(pg_unreachable_server_fails_checkout_with_connect_error) {
  test_require_backend("postgresql");
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.connect_timeout = 5;
  fixture_t fx = fixture_open("postgresql://nobody@127.0.0.1:1/none", &opt);
  uvsql_future_t *f = uvsql_engine_execute_sql(fx.engine, "SELECT 1", NULL, 0, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ECONNECT);
  ASSERT_STR_CONTAINS(e->message, "127.0.0.1");
  uvsql_future_unref(f);
  uvsql_pool_stats_t st;
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.size, 0);
  fixture_close(&fx);
}

TEST(mariadb_unreachable_server_fails_checkout_with_connect_error) {
  test_require_backend("mariadb");
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.connect_timeout = 5;
  fixture_t fx = fixture_open("mariadb://nobody:pw@127.0.0.1:1/none", &opt);
  uvsql_future_t *f = uvsql_engine_execute_sql(fx.engine, "SELECT 1", NULL, 0, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ECONNECT);
  ASSERT_STR_CONTAINS(e->message, "could not connect to 127.0.0.1:1: ");
  ASSERT_STR_CONTAINS(e->message, "Can't connect to server on '127.0.0.1'");
  ASSERT_INT_EQ(e->native_code, 2002);
  uvsql_future_unref(f);
  uvsql_pool_stats_t st;
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.size, 0);
  fixture_close(&fx);
}

TEST(sqlite_memory_database_is_shared_by_every_checkout) {
  fixture_t fx = fixture_open("sqlite://", NULL);
  exec_ok(&fx, "CREATE TABLE m (x integer)");
  exec_ok(&fx, "INSERT INTO m VALUES (5)");
  ASSERT_INT_EQ(query_int(&fx, "SELECT x FROM m"), 5);
  fixture_close(&fx);
}
