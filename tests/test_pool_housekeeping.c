/* tests/test_pool_housekeeping.c — what the pool does on its own between statements: leak
 * reports, idle timeout, min_idle (kept open, re-opened in the background), keepalive pings
 * that discard dead idle connections, and a connect that never completes (a listener on
 * 127.0.0.1 that never accepts) failing with UVSQL_ETIMEOUT and the server's address. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include "backend.h"

static double ms_since(uint64_t start_ns) {
  return (double)(uv_hrtime() - start_ns) / 1e6;
}

/* Runs the loop until cond holds (st refreshed each 10 ms), for at most 10 s: background
 * connects are slow under valgrind, so tests wait for states, not for fixed times. */
#define WAIT_UNTIL(fx, st, cond)                                                                   \
  do {                                                                                             \
    for (int i_ = 0; i_ < 1000; i_++) {                                                            \
      uvsql_pool_stats((fx).engine, &(st));                                                        \
      if (cond)                                                                                    \
        break;                                                                                     \
      test_sleep((fx).loop, 10);                                                                   \
    }                                                                                              \
    ASSERT(cond);                                                                                  \
  } while (0)

/* ------------------------------------------------------------------ log capture */

typedef struct {
  int n;
  char lines[8][1024];
} log_t;

static void on_log(void *data, const char *line) {
  log_t *log = data;
  if (log->n < 8)
    snprintf(log->lines[log->n], sizeof log->lines[0], "%s", line);
  log->n++;
}

/* Lines that contain needle. */
static int log_count(const log_t *log, const char *needle) {
  int n = 0;
  for (int i = 0; i < log->n && i < 8; i++)
    n += strstr(log->lines[i], needle) != NULL;
  return n;
}

/* ------------------------------------------------------------------ leak detection */

static void held_connection_is_reported_once(const char *url) {
  log_t log = {0};
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.leak_threshold = 0.2;
  opt.log_cb = on_log;
  opt.log_data = &log;
  fixture_t fx = fixture_open(url, &opt);

  uvsql_conn_t *c = checkout(&fx);
  uvsql_conn_set_label(c, "nightly-report");
  uvsql_pool_stats_t st;
  uint64_t start = uv_hrtime();
  test_sleep(fx.loop, 100);
  ASSERT_INT_EQ(log.n, 0); /* not yet past the threshold */
  WAIT_UNTIL(fx, st, log.n == 1);
  /* Not early: the threshold counts from the loop's time at checkout, which valgrind's
   * slowdown can leave far behind the clock (the 100 ms check above still holds there). */
  if (!test_under_valgrind())
    ASSERT(ms_since(start) >= 190);
  test_sleep(fx.loop, 300);
  ASSERT_INT_EQ(log.n, 1); /* once, however long it stays out */
  ASSERT_STR_CONTAINS(log.lines[0], "connection leak? a connection has been checked out for ");
  ASSERT_STR_CONTAINS(log.lines[0], " s (leak_threshold 0.2 s) by \"nightly-report\"");
  ASSERT_STR_CONTAINS(log.lines[0], "release it with uvsql_conn_release");
  ASSERT(strstr(log.lines[0], "set_label") == NULL);
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.leaks, 1);
  uvsql_conn_release(c);
  ASSERT_INT_EQ(log.n, 2);
  ASSERT_STR_CONTAINS(log.lines[1], "the connection reported as leaked (checked out by "
                                    "\"nightly-report\") was released after ");

  /* Without a label, the first statement run on the checkout names it. */
  c = checkout(&fx);
  conn_exec_ok(c, "SELECT 42");
  conn_exec_ok(c, "SELECT 43");
  WAIT_UNTIL(fx, st, log.n == 3);
  ASSERT_STR_CONTAINS(log.lines[2],
                      "by the code whose first statement was \"SELECT 42\"; release it with "
                      "uvsql_conn_release (uvsql_conn_set_label names a checkout)");
  uvsql_conn_release(c);

  /* A checkout released in time is never reported. */
  c = checkout(&fx);
  test_sleep(fx.loop, 50);
  uvsql_conn_release(c);
  test_sleep(fx.loop, 300);
  ASSERT_INT_EQ(log.n, 4);
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.leaks, 2);
  fixture_close(&fx);
}
TEST(sqlite_connection_held_past_leak_threshold_is_reported_once) {
  held_connection_is_reported_once(test_sqlite_url());
}
TEST(pg_connection_held_past_leak_threshold_is_reported_once) {
  held_connection_is_reported_once(test_pg_url());
}
TEST(mariadb_connection_held_past_leak_threshold_is_reported_once) {
  held_connection_is_reported_once(test_mariadb_url());
}

/* ------------------------------------------------------------------ idle timeout, min_idle */

static void idle_connections_above_min_idle_close(const char *url) {
  log_t log = {0};
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.idle_timeout = 0.3;
  opt.min_idle = 1;
  opt.log_cb = on_log;
  opt.log_data = &log;
  fixture_t fx = fixture_open(url, &opt);
  uvsql_pool_stats_t st;
  /* min_idle: one is opened in the background, without a statement */
  WAIT_UNTIL(fx, st, st.idle == 1);
  ASSERT_INT_EQ(st.connects, 1);

  uvsql_conn_t *c[3];
  for (int i = 0; i < 3; i++)
    c[i] = checkout(&fx);
  /* min_idle holds while all three are checked out: a fourth is opened, idle. */
  WAIT_UNTIL(fx, st, st.idle == 1 && st.checked_out == 3);
  for (int i = 0; i < 3; i++)
    uvsql_conn_release(c[i]);
  uint64_t released = uv_hrtime();
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.idle, 4);
  ASSERT_INT_EQ(st.connects, 4);
  WAIT_UNTIL(fx, st, st.idle == 1);  /* min_idle stays */
  ASSERT(ms_since(released) >= 280); /* the released ones stayed idle_timeout */
  test_sleep(fx.loop, 400);
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.idle, 1);
  ASSERT_INT_EQ(st.size, 1);
  ASSERT_INT_EQ(log_count(&log, "closing a connection idle for 0."), 3);
  ASSERT_INT_EQ(log_count(&log, "(idle_timeout 0.3 s)"), 3);

  /* One invalidated and closed on release is re-opened in the background. */
  uvsql_conn_t *one = checkout(&fx);
  uvsql_conn_invalidate(one);
  uvsql_conn_release(one); /* closed: min_idle has one opening again */
  WAIT_UNTIL(fx, st, st.idle == 1 && st.connects == 5);
  ASSERT_INT_EQ(st.invalidated, 1);
  ASSERT_INT_EQ(st.size, 1);
  ASSERT_INT_EQ(query_int(&fx, "SELECT 7"), 7);
  fixture_close(&fx);
}
TEST(sqlite_idle_connections_above_min_idle_close_after_idle_timeout) {
  idle_connections_above_min_idle_close(test_sqlite_url());
}
TEST(pg_idle_connections_above_min_idle_close_after_idle_timeout) {
  idle_connections_above_min_idle_close(test_pg_url());
}
TEST(mariadb_idle_connections_above_min_idle_close_after_idle_timeout) {
  idle_connections_above_min_idle_close(test_mariadb_url());
}

/* ------------------------------------------------------------------ keepalive */

/* Kills the idle connection's session from another engine: the keepalive ping finds it dead,
 * the pool closes it, and the next statement gets a new, live one. */
static void dead_idle_connection_is_discarded(const char *url, const char *id_sql,
                                              const char *kill_fmt) {
  log_t log = {0};
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.keepalive_interval = 0.1;
  opt.log_cb = on_log;
  opt.log_data = &log;
  fixture_t fx = fixture_open(url, &opt);
  int64_t id = query_int(&fx, id_sql);
  uvsql_pool_stats_t st;
  WAIT_UNTIL(fx, st, st.keepalives >= 2);
  ASSERT_INT_EQ(st.invalidated, 0);
  ASSERT_INT_EQ(log.n, 0);

  uvsql_engine_t *killer;
  uvsql_error_t err;
  ASSERT_OK(uvsql_engine_new(&killer, fx.loop, url, NULL, &err), &err);
  char sql[128];
  snprintf(sql, sizeof sql, kill_fmt, (long long)id);
  uvsql_future_t *f = uvsql_engine_execute_sql(killer, sql, NULL, 0, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  f = uvsql_engine_dispose(killer, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);

  WAIT_UNTIL(fx, st, st.invalidated == 1 && st.size == 0);
  ASSERT_INT_EQ(st.connects, 1);
  ASSERT_INT_EQ(st.idle, 0);
  ASSERT_INT_EQ(st.size, 0);
  ASSERT_INT_EQ(log_count(&log, "keepalive ping of an idle connection failed ("), 1);
  ASSERT_INT_EQ(log_count(&log, "): replacing the connection"), 1);
  int64_t id2 = query_int(&fx, id_sql); /* no error: the dead one was never handed out */
  ASSERT(id2 != id);
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.connects, 2);
  fixture_close(&fx);
}
TEST(pg_keepalive_discards_a_dead_idle_connection) {
  dead_idle_connection_is_discarded(test_pg_url(), "SELECT pg_backend_pid()",
                                    "SELECT pg_terminate_backend(%lld)");
}
TEST(mariadb_keepalive_discards_a_dead_idle_connection) {
  dead_idle_connection_is_discarded(test_mariadb_url(), "SELECT CONNECTION_ID()", "KILL %lld");
}
TEST(sqlite_keepalive_pings_idle_connections_and_keeps_them) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.keepalive_interval = 0.05;
  fixture_t fx = fixture_open(test_sqlite_url(), &opt);
  ASSERT_INT_EQ(query_int(&fx, "SELECT 5"), 5);
  uvsql_pool_stats_t st;
  WAIT_UNTIL(fx, st, st.keepalives >= 3 && st.idle == 1); /* not while it is pinged */
  ASSERT_INT_EQ(st.invalidated, 0);
  ASSERT_INT_EQ(st.connects, 1);
  ASSERT_INT_EQ(st.idle, 1);
  fixture_close(&fx);
}

/* ------------------------------------------------------------------ a connect that hangs */

/* A listener on 127.0.0.1 that never accepts: the kernel completes the TCP handshake from
 * its backlog, and nothing ever answers. */
static int silent_listener(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT(fd >= 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_INT_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  ASSERT_INT_EQ(listen(fd, 16), 0);
  socklen_t len = sizeof a;
  ASSERT_INT_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  *port = ntohs(a.sin_port);
  return fd;
}

static void connect_that_never_completes(const char *scheme, double connect_timeout,
                                         double pool_timeout, const char *want) {
  int port;
  int fd = silent_listener(&port);
  char url[160], where[64];
  snprintf(url, sizeof url, "%s://uvsql:secret@127.0.0.1:%d/db", scheme, port);
  snprintf(where, sizeof where, "could not connect to 127.0.0.1:%d", port);
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.connect_timeout = connect_timeout;
  opt.pool_timeout = pool_timeout;
  fixture_t fx = fixture_open(url, &opt);
  uint64_t start = uv_hrtime();
  uvsql_future_t *f = uvsql_engine_execute_sql(fx.engine, "SELECT 1", NULL, 0, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ETIMEOUT);
  double took = ms_since(start);
  printf("%s: failed after %.0f ms: %s\n", scheme, took, e->message);
  ASSERT(took >= 250 && took < 1500);
  ASSERT_STR_CONTAINS(e->message, where);
  ASSERT_STR_CONTAINS(e->message, want);
  ASSERT(strstr(e->message, "secret") == NULL);
  uvsql_future_unref(f);
  fixture_close(&fx);
  close(fd);
}
TEST(pg_connect_that_never_completes_fails_with_etimeout_naming_the_server) {
  connect_that_never_completes("postgresql", 0.3, 30, ": timed out after 0.3 s");
  connect_that_never_completes("postgresql", 30, 0.3, ": no answer within 0.30 s (pool_timeout)");
}
TEST(mariadb_connect_that_never_completes_fails_with_etimeout_naming_the_server) {
  connect_that_never_completes("mariadb", 0.3, 30, ": timed out after 0.3 s");
  connect_that_never_completes("mariadb", 30, 0.3, ": no answer within 0.30 s (pool_timeout)");
}

/* ------------------------------------------------------------------ options */

TEST(engine_new_rejects_bad_housekeeping_options) {
  uv_loop_t *loop = test_loop();
  uvsql_engine_t *e;
  uvsql_error_t err;
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.min_idle = 6;
  ASSERT_ERR(uvsql_engine_new(&e, loop, "sqlite://", &opt, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(err.message, "min_idle is 6: it must be between 0 and pool_size (5)");
  opt = (uvsql_engine_options_t)UVSQL_ENGINE_OPTIONS_INIT;
  opt.leak_threshold = NAN;
  ASSERT_ERR(uvsql_engine_new(&e, loop, "sqlite://", &opt, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(err.message,
                "leak_threshold is nan: it must be a number of seconds (0 or less: off)");
  opt = (uvsql_engine_options_t)UVSQL_ENGINE_OPTIONS_INIT;
  opt.keepalive_interval = INFINITY;
  ASSERT_ERR(uvsql_engine_new(&e, loop, "sqlite://", &opt, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(err.message,
                "keepalive_interval is inf: it must be a number of seconds (0 or less: off)");
  opt = (uvsql_engine_options_t)UVSQL_ENGINE_OPTIONS_INIT;
  ASSERT_INT_EQ(opt.idle_timeout, 600);
  ASSERT(opt.pipeline_max_busy == 0.05);
  ASSERT_INT_EQ(opt.min_idle, 0);
  test_loop_close(loop);
}
