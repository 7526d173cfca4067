/* tests/test_stream.c — streamed results on PostgreSQL, MariaDB and SQLite: every row arrives,
 * in order, in exact batches; a consumer can stop early and the connection goes on; an error
 * mid-stream fails the future after the batches before it; cancel reaches the server; memory
 * stays bounded by the batch, not by the result.
 *
 * Each behaviour is one function over a backend_t (the SQL that generates rows server-side
 * differs per backend) and one TEST per backend. PostgreSQL and MariaDB need real servers
 * (UVSQL_TEST_PG_URL, UVSQL_TEST_MARIADB_URL); SQLite uses a fresh file. */
#include <sys/resource.h>
#include "backend.h"

typedef struct {
  const char *(*url)(void);
  const char *seq_fmt;  /* one bigint column x = 1..%d, in order */
  const char *wide_fmt; /* x = 1..%d and 100 bytes of text per row */
  const char *err_sql;  /* fails at row 50,000 of 100,000 */
  const char *err_text; /* what the error message says */
} backend_t;

static const backend_t pg = {
    test_pg_url,
    /* in the select list, generate_series streams; in FROM, it is materialized first */
    "SELECT generate_series(1, %d) AS x",
    "SELECT x, repeat('x', 100) AS pad FROM (SELECT generate_series(1, %d) AS x) s",
    "SELECT 1/(x-50000) FROM generate_series(1,100000) x",
    "division by zero",
};

static const backend_t sqlite = {
    test_sqlite_url,
    "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < %d) SELECT x FROM s",
    "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < %d) "
    "SELECT x, hex(zeroblob(50)) AS pad FROM s",
    "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 100000) "
    "SELECT abs(CASE WHEN x = 50000 THEN -9223372036854775807 - 1 ELSE x END) FROM s",
    "integer overflow",
};

static const backend_t mariadb = {
    test_mariadb_url,
    "SELECT seq AS x FROM seq_1_to_%d",
    "SELECT seq AS x, REPEAT('x', 100) AS pad FROM seq_1_to_%d",
    /* correlated, so evaluated per row, and only where seq = 50000 */
    "SELECT seq, IF(seq = 50000, (SELECT seq UNION ALL SELECT seq + 1), seq) FROM seq_1_to_100000",
    "more than 1 row",
};

/* ------------------------------------------------------------------ a consumer */

typedef struct {
  int64_t next; /* the value the next row must hold */
  uint64_t batches, rows;
  size_t max_batch, short_batches, ncols;
  uint64_t stop_after;            /* stop (return 1) after this many batches; 0: never */
  uvsql_future_t *cancel_after_f; /* cancel this future after cancel_after batches */
  uint64_t cancel_after;
  int out_of_order;
} consumer_t;

static int on_batch(const uvsql_result_t *b, void *data) {
  consumer_t *c = data;
  size_t n = uvsql_result_nrows(b);
  if (c->stop_after && c->batches >= c->stop_after)
    FAILF("on_batch called after it asked to stop");
  c->batches++;
  c->rows += n;
  if (n > c->max_batch)
    c->max_batch = n;
  if (c->ncols && uvsql_result_ncols(b) != c->ncols)
    FAILF("batch %llu has %zu columns, the first had %zu", (unsigned long long)c->batches,
          uvsql_result_ncols(b), c->ncols);
  c->ncols = uvsql_result_ncols(b);
  for (size_t i = 0; i < n; i++) {
    int64_t v;
    if (uvsql_result_int64(b, i, 0, &v) != 0 || v != c->next)
      c->out_of_order++;
    c->next++;
  }
  if (c->cancel_after_f && c->batches == c->cancel_after)
    ASSERT_INT_EQ(uvsql_future_cancel(c->cancel_after_f), 0);
  return c->stop_after && c->batches >= c->stop_after;
}

static uvsql_future_t *stream_sql(uvsql_conn_t *conn, fixture_t *fx, const char *sql,
                                  size_t batch_rows, consumer_t *c) {
  uvsql_stmt_t *st;
  uvsql_error_t err;
  ASSERT_OK(uvsql_text(&st, sql, &err), &err);
  c->next = 1;
  uvsql_future_t *f =
      conn ? uvsql_conn_stream(conn, st, NULL, 0, batch_rows, on_batch, c, NULL, NULL)
           : uvsql_engine_stream(fx->engine, st, NULL, 0, batch_rows, on_batch, c, NULL, NULL);
  uvsql_stmt_free(st);
  return f;
}

static const char *fmt(const char *f, int n) {
  static char buf[512];
  snprintf(buf, sizeof buf, f, n);
  return buf;
}

/* ------------------------------------------------------------------ behaviours */

/* Streaming is for one statement: a text holding two fails at once and says so. */
static void several_statements_cannot_be_streamed(const backend_t *be) {
  fixture_t fx = fixture_open(be->url(), NULL);
  consumer_t c = {0};
  uvsql_future_t *f = stream_sql(NULL, &fx, "SELECT 1; SELECT 2", 1000, &c);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(e->message, "only a single statement can be streamed; this text holds "
                                  "several");
  ASSERT_STR_CONTAINS(e->message, ": stream one statement and execute the others separately "
                                  "[SQL: SELECT 1; SELECT 2]");
  ASSERT_INT_EQ(c.batches, 0);
  uvsql_future_unref(f);
  fixture_close(&fx);
}

static void all_rows_in_order_in_exact_batches(const backend_t *be) {
  fixture_t fx = fixture_open(be->url(), NULL);
  consumer_t c = {0};
  uvsql_future_t *f = stream_sql(NULL, &fx, fmt(be->seq_fmt, 100000), 1000, &c);
  const uvsql_stream_summary_t *sum = AWAIT_OK(f);
  ASSERT_INT_EQ(c.batches, 100);
  ASSERT_INT_EQ(c.rows, 100000);
  ASSERT_INT_EQ(c.max_batch, 1000);
  ASSERT_INT_EQ(c.out_of_order, 0);
  ASSERT_INT_EQ(c.next, 100001);
  ASSERT_INT_EQ(sum->rows, 100000);
  ASSERT_INT_EQ(sum->batches, 100);
  ASSERT_INT_EQ(sum->stopped, 0);
  uvsql_future_unref(f);
  /* A last short batch: 2,500 rows in batches of 1,000 are 1,000 + 1,000 + 500. */
  consumer_t d = {0};
  f = stream_sql(NULL, &fx, fmt(be->seq_fmt, 2500), 1000, &d);
  AWAIT_OK(f);
  ASSERT_INT_EQ(d.batches, 3);
  ASSERT_INT_EQ(d.rows, 2500);
  ASSERT_INT_EQ(d.out_of_order, 0);
  uvsql_future_unref(f);
  /* The pool got its connection back. */
  uvsql_pool_stats_t ps;
  uvsql_pool_stats(fx.engine, &ps);
  ASSERT_INT_EQ(ps.checked_out, 0);
  fixture_close(&fx);
}

static void stop_early_leaves_connection_usable(const backend_t *be) {
  fixture_t fx = fixture_open(be->url(), NULL);
  uvsql_conn_t *conn = checkout(&fx);
  consumer_t c = {0};
  c.stop_after = 3;
  uint64_t t0 = uv_hrtime();
  uvsql_future_t *f = stream_sql(conn, &fx, fmt(be->seq_fmt, 1000000), 1000, &c);
  /* Queued behind the stream: runs once the stream has given the connection back. */
  uvsql_future_t *next = uvsql_conn_execute_sql(conn, "SELECT 41 + 1", NULL, 0, NULL, NULL);
  const uvsql_stream_summary_t *sum = AWAIT_OK(f);
  printf("stopped after 3 of 1000 batches in %.1f ms\n", (double)(uv_hrtime() - t0) / 1e6);
  ASSERT_INT_EQ(sum->stopped, 1);
  ASSERT_INT_EQ(sum->batches, 3);
  ASSERT_INT_EQ(sum->rows, 3000);
  ASSERT_INT_EQ(c.batches, 3);
  uvsql_future_unref(f);
  int64_t v = 0;
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(next), 0, 0, &v), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(v, 42);
  uvsql_future_unref(next);
  /* And a second stream on the same connection reads from its start. */
  consumer_t d = {0};
  f = stream_sql(conn, &fx, fmt(be->seq_fmt, 5000), 1000, &d);
  AWAIT_OK(f);
  ASSERT_INT_EQ(d.rows, 5000);
  ASSERT_INT_EQ(d.out_of_order, 0);
  uvsql_future_unref(f);
  uvsql_conn_release(conn);
  fixture_close(&fx);
}

/* With nothing queued behind it, a stop ends the statement on the server: 100 million rows
 * are not read to their end. */
static void stop_early_on_a_huge_result_ends_quickly(const backend_t *be) {
  fixture_t fx = fixture_open(be->url(), NULL);
  uvsql_conn_t *conn = checkout(&fx);
  consumer_t c = {0};
  c.stop_after = 2;
  uint64_t t0 = uv_hrtime();
  uvsql_future_t *f = stream_sql(conn, &fx, fmt(be->seq_fmt, 100000000), 1000, &c);
  const uvsql_stream_summary_t *sum = AWAIT_OK(f);
  double ms = (double)(uv_hrtime() - t0) / 1e6;
  printf("stopped after 2 batches of 100M rows in %.1f ms\n", ms);
  ASSERT_INT_EQ(sum->stopped, 1);
  ASSERT_INT_EQ(sum->rows, 2000);
  ASSERT(ms < 5000);
  uvsql_future_unref(f);
  conn_exec_ok(conn, "SELECT 1");
  consumer_t d = {0};
  f = stream_sql(conn, &fx, fmt(be->seq_fmt, 3000), 1000, &d);
  AWAIT_OK(f);
  ASSERT_INT_EQ(d.rows, 3000);
  ASSERT_INT_EQ(d.out_of_order, 0);
  uvsql_future_unref(f);
  uvsql_conn_release(conn);
  fixture_close(&fx);
}

static void error_mid_stream_fails_after_earlier_batches(const backend_t *be) {
  fixture_t fx = fixture_open(be->url(), NULL);
  uvsql_conn_t *conn = checkout(&fx);
  consumer_t c = {0};
  uvsql_stmt_t *st;
  uvsql_error_t err;
  ASSERT_OK(uvsql_text(&st, be->err_sql, &err), &err);
  uvsql_future_t *f = uvsql_conn_stream(conn, st, NULL, 0, 1000, on_batch, &c, NULL, NULL);
  uvsql_stmt_free(st);
  uvsql_future_wait(f);
  ASSERT_INT_EQ(uvsql_future_state(f), UVSQL_FUTURE_FAILED);
  const uvsql_error_t *e = uvsql_future_error(f);
  printf("%s: %s\n", uvsql_err_name(e->code), e->message);
  /* Rows 1..49,999 are good: 49 whole batches; the 999 rows after them are dropped. */
  ASSERT_INT_EQ(c.batches, 49);
  ASSERT_INT_EQ(c.rows, 49000);
  ASSERT_STR_CONTAINS(e->message, "after 49 batches (49000 rows): ");
  ASSERT_STR_CONTAINS(e->message, be->err_text);
  uvsql_future_unref(f);
  conn_exec_ok(conn, "SELECT 1");
  uvsql_conn_release(conn);
  fixture_close(&fx);
}

static void cancel_stops_the_stream_on_the_server(const backend_t *be) {
  /* This checks that the cancel reaches the server, not the cancel deadline (test_deadlines
   * does): under ASan on a loaded machine, draining the rows already sent before the server's
   * answer took longer than the default 5 s once. */
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.cancel_timeout = 60;
  fixture_t fx = fixture_open(be->url(), &opt);
  uvsql_conn_t *conn = checkout(&fx);
  consumer_t c = {0};
  uvsql_stmt_t *st;
  uvsql_error_t err;
  /* 100 million rows: only a cancel that reaches the server ends this in time. */
  ASSERT_OK(uvsql_text(&st, fmt(be->seq_fmt, 100000000), &err), &err);
  uvsql_future_t *f = uvsql_conn_stream(conn, st, NULL, 0, 1000, on_batch, &c, NULL, NULL);
  uvsql_stmt_free(st);
  c.next = 1;
  c.cancel_after_f = f;
  c.cancel_after = 5;
  uint64_t t0 = uv_hrtime();
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ECANCELLED);
  double ms = (double)(uv_hrtime() - t0) / 1e6;
  printf("cancelled after %llu batches in %.1f ms: %s\n", (unsigned long long)c.batches, ms,
         e->message);
  ASSERT(c.batches >= 5);
  ASSERT(c.rows < 50000000);
  ASSERT_INT_EQ(c.out_of_order, 0);
  ASSERT_INT_EQ(uvsql_future_state(f), UVSQL_FUTURE_CANCELLED);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(query_int(&fx, "SELECT 7"), 7);
  conn_exec_ok(conn, "SELECT 1");
  uvsql_conn_release(conn);
  fixture_close(&fx);
}

static long maxrss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

/* ru_maxrss only grows: after a 100,000-row stream has set the level, a 1,000,000-row stream
 * of the same rows may add little. Unbounded buffering would add > 100 MB (100 bytes of text
 * per row alone); the bound allows allocator noise. */
static void memory_is_bounded_by_the_batch(const backend_t *be) {
  fixture_t fx = fixture_open(be->url(), NULL);
  consumer_t a = {0}, b = {0};
  uvsql_future_t *f = stream_sql(NULL, &fx, fmt(be->wide_fmt, 100000), 1000, &a);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  long before = maxrss_kb();
  f = stream_sql(NULL, &fx, fmt(be->wide_fmt, 1000000), 1000, &b);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  long after = maxrss_kb();
  printf("peak RSS %ld kB after 100k rows, %ld kB after 1M rows (+%ld kB)\n", before, after,
         after - before);
  ASSERT_INT_EQ(b.rows, 1000000);
  ASSERT_INT_EQ(b.out_of_order, 0);
  ASSERT_INT_EQ(b.max_batch, 1000);
#if defined(__SANITIZE_ADDRESS__)
  (void)before; /* ASan keeps freed memory in quarantine: RSS says nothing here */
#else
  ASSERT(after - before < 16 * 1024);
#endif
  fixture_close(&fx);
}

static void on_tick(uv_timer_t *h) {
  (*(int *)h->data)++;
}

/* The loop is never blocked: a 1 ms timer keeps firing while a million rows stream. */
static void loop_keeps_running_during_a_stream(const backend_t *be) {
  fixture_t fx = fixture_open(be->url(), NULL);
  consumer_t c = {0};
  uv_timer_t t;
  int ticks = 0;
  uv_timer_init(fx.loop, &t);
  t.data = &ticks;
  uv_timer_start(&t, on_tick, 1, 1);
  uvsql_future_t *f = stream_sql(NULL, &fx, fmt(be->seq_fmt, 1000000), 1000, &c);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  uv_close((uv_handle_t *)&t, NULL);
  printf("%d timer ticks during the stream\n", ticks);
  ASSERT(ticks > 10);
  fixture_close(&fx);
}

/* ------------------------------------------------------------------ per backend */

TEST(pg_several_statements_cannot_be_streamed) {
  several_statements_cannot_be_streamed(&pg);
}

TEST(mariadb_several_statements_cannot_be_streamed) {
  several_statements_cannot_be_streamed(&mariadb);
}

TEST(sqlite_several_statements_cannot_be_streamed) {
  several_statements_cannot_be_streamed(&sqlite);
}

TEST(pg_all_rows_in_order_in_exact_batches) {
  all_rows_in_order_in_exact_batches(&pg);
}

TEST(pg_stop_early_leaves_connection_usable) {
  stop_early_leaves_connection_usable(&pg);
}

TEST(pg_stop_early_on_a_huge_result_ends_quickly) {
  stop_early_on_a_huge_result_ends_quickly(&pg);
}

TEST(pg_error_mid_stream_fails_after_earlier_batches) {
  error_mid_stream_fails_after_earlier_batches(&pg);
}

TEST(pg_cancel_stops_the_stream_on_the_server) {
  cancel_stops_the_stream_on_the_server(&pg);
}

TEST(pg_memory_is_bounded_by_the_batch) {
  memory_is_bounded_by_the_batch(&pg);
}

TEST(pg_loop_keeps_running_during_a_stream) {
  loop_keeps_running_during_a_stream(&pg);
}

TEST(mariadb_all_rows_in_order_in_exact_batches) {
  all_rows_in_order_in_exact_batches(&mariadb);
}

TEST(mariadb_stop_early_leaves_connection_usable) {
  stop_early_leaves_connection_usable(&mariadb);
}

TEST(mariadb_stop_early_on_a_huge_result_ends_quickly) {
  stop_early_on_a_huge_result_ends_quickly(&mariadb);
}

TEST(mariadb_error_mid_stream_fails_after_earlier_batches) {
  error_mid_stream_fails_after_earlier_batches(&mariadb);
}

TEST(mariadb_cancel_stops_the_stream_on_the_server) {
  cancel_stops_the_stream_on_the_server(&mariadb);
}

TEST(mariadb_memory_is_bounded_by_the_batch) {
  memory_is_bounded_by_the_batch(&mariadb);
}

TEST(mariadb_loop_keeps_running_during_a_stream) {
  loop_keeps_running_during_a_stream(&mariadb);
}

TEST(sqlite_all_rows_in_order_in_exact_batches) {
  all_rows_in_order_in_exact_batches(&sqlite);
}

TEST(sqlite_stop_early_leaves_connection_usable) {
  stop_early_leaves_connection_usable(&sqlite);
}

TEST(sqlite_stop_early_on_a_huge_result_ends_quickly) {
  stop_early_on_a_huge_result_ends_quickly(&sqlite);
}

TEST(sqlite_error_mid_stream_fails_after_earlier_batches) {
  error_mid_stream_fails_after_earlier_batches(&sqlite);
}

TEST(sqlite_cancel_stops_the_stream_on_the_server) {
  cancel_stops_the_stream_on_the_server(&sqlite);
}

TEST(sqlite_memory_is_bounded_by_the_batch) {
  memory_is_bounded_by_the_batch(&sqlite);
}

TEST(sqlite_loop_keeps_running_during_a_stream) {
  loop_keeps_running_during_a_stream(&sqlite);
}
