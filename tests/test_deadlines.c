/* tests/test_deadlines.c — deadlines on everything that waits on the network, and cancels
 * that never reach another statement, on PostgreSQL and MariaDB (SQLite where it applies).
 *
 * A silent network is made with a tiny TCP proxy on 127.0.0.1 (libuv, in this process): it
 * forwards both ways until stalled; stalled, it keeps every socket open and forwards nothing
 * (new connections are accepted and left hanging); resumed, it drops what was accepted while
 * stalled and forwards again. It never talks to anything but 127.0.0.1.
 * Latency tests carry "deadline" in their names (skipped under valgrind); bounds are generous.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "backend.h"

/* ------------------------------------------------------------------ the proxy */

typedef struct proxy_s proxy_t;
typedef struct pair_s {
  proxy_t *px;
  uv_tcp_t client, upstream;
  uv_connect_t creq;
  int open_handles; /* handles not yet closed */
  int forwarding;   /* upstream connected and reads started */
  int closing;
  struct pair_s *next;
} pair_t;

struct proxy_s {
  uv_loop_t *loop;
  uv_tcp_t server;
  int port, target_port;
  int stalled;
  pair_t *pairs;
};

static void pair_handle_closed(uv_handle_t *h) {
  pair_t *p = h->data;
  if (--p->open_handles > 0)
    return;
  proxy_t *px = p->px;
  for (pair_t **pp = &px->pairs; *pp; pp = &(*pp)->next)
    if (*pp == p) {
      *pp = p->next;
      break;
    }
  free(p);
}

static void pair_close(pair_t *p) {
  if (p->closing)
    return;
  p->closing = 1;
  uv_close((uv_handle_t *)&p->client, pair_handle_closed);
  uv_close((uv_handle_t *)&p->upstream, pair_handle_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  buf->base = malloc(suggested);
  buf->len = buf->base ? suggested : 0;
}

typedef struct {
  uv_write_t w;
  char *data;
} wreq_t;

static void on_written(uv_write_t *w, int status) {
  wreq_t *wr = (wreq_t *)w;
  (void)status;
  free(wr->data);
  free(wr);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  pair_t *p = s->data;
  uv_stream_t *to =
      s == (uv_stream_t *)&p->client ? (uv_stream_t *)&p->upstream : (uv_stream_t *)&p->client;
  if (n < 0) {
    free(buf->base);
    pair_close(p);
    return;
  }
  if (n == 0) {
    free(buf->base);
    return;
  }
  wreq_t *wr = malloc(sizeof *wr);
  ASSERT(wr != NULL);
  wr->data = buf->base;
  uv_buf_t out = uv_buf_init(buf->base, (unsigned)n);
  if (uv_write(&wr->w, to, &out, 1, on_written) != 0) {
    free(wr->data);
    free(wr);
    pair_close(p);
  }
}

static void pair_start(pair_t *p) {
  uv_read_start((uv_stream_t *)&p->client, on_alloc, on_read);
  uv_read_start((uv_stream_t *)&p->upstream, on_alloc, on_read);
}

static void on_upstream(uv_connect_t *req, int status) {
  pair_t *p = req->data;
  if (p->closing)
    return;
  if (status != 0) {
    pair_close(p);
    return;
  }
  p->forwarding = 1;
  if (!p->px->stalled)
    pair_start(p);
}

static void pair_connect(pair_t *p) {
  struct sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", p->px->target_port, &addr);
  p->creq.data = p;
  if (uv_tcp_connect(&p->creq, &p->upstream, (const struct sockaddr *)&addr, on_upstream) != 0)
    pair_close(p);
}

static void on_accept(uv_stream_t *server, int status) {
  proxy_t *px = server->data;
  ASSERT_INT_EQ(status, 0);
  pair_t *p = calloc(1, sizeof *p);
  ASSERT(p != NULL);
  p->px = px;
  p->open_handles = 2;
  uv_tcp_init(px->loop, &p->client);
  uv_tcp_init(px->loop, &p->upstream);
  p->client.data = p->upstream.data = p;
  p->next = px->pairs;
  px->pairs = p;
  ASSERT_INT_EQ(uv_accept(server, (uv_stream_t *)&p->client), 0);
  if (!px->stalled)
    pair_connect(p); /* stalled: accepted, then silence */
}

static void proxy_open(proxy_t *px, uv_loop_t *loop, int target_port) {
  struct sockaddr_in addr;
  struct sockaddr_storage bound;
  int len = sizeof bound;
  memset(px, 0, sizeof *px);
  px->loop = loop;
  px->target_port = target_port;
  uv_tcp_init(loop, &px->server);
  px->server.data = px;
  uv_ip4_addr("127.0.0.1", 0, &addr); /* loopback only, a free port */
  ASSERT_INT_EQ(uv_tcp_bind(&px->server, (const struct sockaddr *)&addr, 0), 0);
  ASSERT_INT_EQ(uv_listen((uv_stream_t *)&px->server, 64, on_accept), 0);
  ASSERT_INT_EQ(uv_tcp_getsockname(&px->server, (struct sockaddr *)&bound, &len), 0);
  px->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
}

static void proxy_stall(proxy_t *px) {
  px->stalled = 1;
  for (pair_t *p = px->pairs; p; p = p->next)
    if (p->forwarding && !p->closing) {
      uv_read_stop((uv_stream_t *)&p->client);
      uv_read_stop((uv_stream_t *)&p->upstream);
    }
}

static void proxy_resume(proxy_t *px) {
  px->stalled = 0;
  for (pair_t *p = px->pairs, *next; p; p = next) {
    next = p->next;
    if (p->closing)
      continue;
    if (p->forwarding)
      pair_start(p);
    else
      pair_close(p); /* accepted while stalled: its client has given up on it */
  }
}

static void proxy_close(proxy_t *px) {
  for (pair_t *p = px->pairs; p; p = p->next)
    pair_close(p);
  uv_close((uv_handle_t *)&px->server, NULL);
}

/* url with its host:port replaced by 127.0.0.1:port (the URLs of the test servers). */
static const char *url_via(const char *url, int port) {
  static char out[512];
  const char *at = strrchr(url, '@');
  const char *hostpart = at ? at + 1 : strstr(url, "://") + 3;
  const char *slash = strchr(hostpart, '/');
  ASSERT(slash != NULL);
  snprintf(out, sizeof out, "%.*s127.0.0.1:%d%s", (int)(hostpart - url), url, port, slash);
  return out;
}

static int url_port(const char *url) {
  const char *at = strrchr(url, '@');
  const char *hostpart = at ? at + 1 : strstr(url, "://") + 3;
  const char *colon = strchr(hostpart, ':');
  ASSERT(colon != NULL);
  return atoi(colon + 1);
}

static double secs_since(uint64_t t0) {
  return (double)(uv_hrtime() - t0) / 1e9;
}

/* ------------------------------------------------------------------ silent network */

typedef struct {
  const char *url;
  const char *sleep_sql; /* a statement that runs for a while */
} backend_t;

static backend_t pg_backend(void) {
  backend_t b = {test_pg_url(), "SELECT pg_sleep(30)"};
  return b;
}

static backend_t my_backend(void) {
  backend_t b = {test_mariadb_url(), "SELECT SLEEP(30)"};
  return b;
}

static fixture_t open_via(proxy_t *px, const backend_t *b, double command_timeout) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 1;
  opt.max_overflow = 0;
  opt.pipeline_depth = 1;
  opt.connect_timeout = 3;
  opt.command_timeout = command_timeout;
  opt.cancel_timeout = 1.0;
  opt.dispose_timeout = 1.0;
  fixture_t fx;
  fx.loop = test_loop();
  proxy_open(px, fx.loop, url_port(b->url));
  uvsql_error_t err;
  ASSERT_OK(uvsql_engine_new(&fx.engine, fx.loop, url_via(b->url, px->port), &opt, &err), &err);
  ASSERT_INT_EQ(query_int(&fx, "SELECT 1"), 1); /* the connection is open, through the proxy */
  return fx;
}

static void close_via(fixture_t *fx, proxy_t *px) {
  uvsql_future_t *f = uvsql_engine_dispose(fx->engine, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  proxy_close(px); /* a PQcancel still blocked on it returns now */
  test_loop_close(fx->loop);
}

/* A statement with a 500 ms timeout fails in < 1 s; the connection, whose cancel cannot reach
 * the server, is closed after cancel_timeout; once the proxy forwards again the next statement
 * runs on a new connection. */
static void statement_timeout_case(backend_t b) {
  proxy_t px;
  fixture_t fx = open_via(&px, &b, 0.5);
  proxy_stall(&px);
  uint64_t t0 = uv_hrtime();
  uvsql_future_t *f = uvsql_engine_execute_sql(fx.engine, "SELECT 42", NULL, 0, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ETIMEOUT);
  double took = secs_since(t0);
  printf("statement timeout settled in %.3f s\n", took);
  ASSERT(took >= 0.45 && took < 1.0);
  ASSERT_STR_CONTAINS(e->message, "did not finish within its timeout of 0.5 s (command_timeout)");
  ASSERT_STR_CONTAINS(e->message, "[SQL: SELECT 42]");
  uvsql_future_unref(f);
  /* the cancel cannot get through: after cancel_timeout (1 s) the connection is dropped */
  uvsql_pool_stats_t st;
  for (int i = 0; i < 60; i++) {
    uvsql_pool_stats(fx.engine, &st);
    if (st.invalidated >= 1 && st.checked_out == 0)
      break;
    test_sleep(fx.loop, 50);
  }
  printf("connection dropped %.3f s after the statement started\n", secs_since(t0));
  ASSERT(st.invalidated >= 1);
  ASSERT_INT_EQ(st.checked_out, 0);
  proxy_resume(&px);
  ASSERT_INT_EQ(query_int(&fx, "SELECT 7"), 7);
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.connects, 2); /* a new connection */
  close_via(&fx, &px);
}

TEST(pg_statement_timeout_on_a_silent_network_deadline) {
  statement_timeout_case(pg_backend());
}

TEST(mariadb_statement_timeout_on_a_silent_network_deadline) {
  statement_timeout_case(my_backend());
}

/* uvsql_future_cancel of a statement the server never answers settles within cancel_timeout,
 * with UVSQL_EDISCONNECT; a statement queued behind it on the same connection too. */
static void cancel_case(backend_t b) {
  proxy_t px;
  fixture_t fx = open_via(&px, &b, 0);
  uvsql_conn_t *c = checkout(&fx);
  proxy_stall(&px);
  uvsql_future_t *f = uvsql_conn_execute_sql(c, "SELECT 1", NULL, 0, NULL, NULL);
  uvsql_future_t *behind = uvsql_conn_execute_sql(c, "SELECT 2", NULL, 0, NULL, NULL);
  test_sleep(fx.loop, 200);
  ASSERT_INT_EQ(uvsql_future_state(f), UVSQL_FUTURE_PENDING);
  uint64_t t0 = uv_hrtime();
  ASSERT_INT_EQ(uvsql_future_cancel(f), 0);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EDISCONNECT);
  double took = secs_since(t0);
  printf("cancel settled in %.3f s\n", took);
  ASSERT(took >= 0.9 && took < 2.5);
  ASSERT_STR_CONTAINS(e->message, "did not answer a cancel request within 1 s");
  e = AWAIT_ERR(behind, UVSQL_EDISCONNECT);
  ASSERT_STR_CONTAINS(e->message, "did not answer a cancel request within 1 s");
  uvsql_future_unref(f);
  uvsql_future_unref(behind);
  uvsql_conn_release(c);
  proxy_resume(&px);
  ASSERT_INT_EQ(query_int(&fx, "SELECT 8"), 8);
  close_via(&fx, &px);
}

TEST(pg_cancel_on_a_silent_network_settles_deadline) {
  cancel_case(pg_backend());
}

TEST(mariadb_cancel_on_a_silent_network_settles_deadline) {
  cancel_case(my_backend());
}

/* dispose settles within dispose_timeout while a statement (no timeout) hangs on a silent
 * network; the statement fails saying why. */
static void dispose_case(backend_t b) {
  proxy_t px;
  fixture_t fx = open_via(&px, &b, 0);
  proxy_stall(&px);
  uvsql_future_t *f = uvsql_engine_execute_sql(fx.engine, b.sleep_sql, NULL, 0, NULL, NULL);
  test_sleep(fx.loop, 100);
  uint64_t t0 = uv_hrtime();
  uvsql_future_t *d = uvsql_engine_dispose(fx.engine, NULL, NULL);
  AWAIT_OK(d);
  double took = secs_since(t0);
  printf("dispose settled in %.3f s\n", took);
  ASSERT(took >= 0.9 && took < 2.5);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EDISCONNECT);
  ASSERT_STR_CONTAINS(e->message, "still busy after dispose_timeout (1 s): it was closed");
  uvsql_future_unref(f);
  uvsql_future_unref(d);
  proxy_close(&px);
  test_loop_close(fx.loop);
}

TEST(pg_dispose_on_a_silent_network_settles_deadline) {
  dispose_case(pg_backend());
}

TEST(mariadb_dispose_on_a_silent_network_settles_deadline) {
  dispose_case(my_backend());
}

/* ------------------------------------------------------------------ timeouts, plainly */

/* A statement that runs too long fails with UVSQL_ETIMEOUT; the server confirms the cancel
 * and the same connection runs the next statement (per-checkout timeout). */
static void conn_timeout_case(const char *url, const char *sleep_sql) {
  fixture_t fx = fixture_open(url, NULL);
  uvsql_conn_t *c = checkout(&fx);
  ASSERT_ERR(uvsql_conn_set_timeout(c, 0.0 / 0.0), UVSQL_EINVALID_ARGUMENT);
  ASSERT_INT_EQ(uvsql_conn_set_timeout(c, 0.3), 0);
  uint64_t t0 = uv_hrtime();
  uvsql_future_t *f = uvsql_conn_execute_sql(c, sleep_sql, NULL, 0, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ETIMEOUT);
  double took = secs_since(t0);
  printf("timed out in %.3f s\n", took);
  ASSERT(took >= 0.25 && took < 2.0);
  ASSERT_STR_CONTAINS(e->message, "timeout of 0.3 s (uvsql_conn_set_timeout): it was cancelled");
  uvsql_future_unref(f);
  conn_exec_ok(c, "SELECT 1"); /* same connection, after the server confirmed the cancel */
  uvsql_pool_stats_t st;
  uvsql_pool_stats(fx.engine, &st);
  ASSERT_INT_EQ(st.invalidated, 0);
  ASSERT_INT_EQ(st.connects, 1);
  uvsql_conn_release(c);
  fixture_close(&fx);
}

TEST(pg_conn_timeout_cancels_on_the_server_deadline) {
  conn_timeout_case(test_pg_url(), "SELECT pg_sleep(20)");
}

TEST(mariadb_conn_timeout_cancels_on_the_server_deadline) {
  conn_timeout_case(test_mariadb_url(), "SELECT SLEEP(20)");
}

TEST(sqlite_conn_timeout_interrupts_deadline) {
  conn_timeout_case(test_sqlite_url(),
                    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                    "SELECT count(*) FROM c");
}

TEST(engine_rejects_bad_timeouts) {
  uv_loop_t *loop = test_loop();
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  uvsql_engine_t *e;
  uvsql_error_t err;
  opt.command_timeout = -1;
  ASSERT_ERR(uvsql_engine_new(&e, loop, "sqlite://", &opt, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(err.message, "command_timeout is -1");
  opt.command_timeout = 0;
  opt.cancel_timeout = 1.0 / 0.0;
  ASSERT_ERR(uvsql_engine_new(&e, loop, "sqlite://", &opt, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(err.message, "cancel_timeout inf");
  test_loop_close(loop);
}

/* ------------------------------------------------------------------ cancel, then next */

/* Keeps libuv's thread pool busy: each job sleeps 3 ms and queues the next. */
typedef struct {
  uv_work_t w;
  int *stop;
} busy_t;

static void busy_work(uv_work_t *w) {
  (void)w;
  usleep(3000);
}

static void busy_after(uv_work_t *w, int status) {
  busy_t *b = (busy_t *)w;
  (void)status;
  if (*b->stop) {
    free(b);
    return;
  }
  uv_queue_work(w->loop, &b->w, busy_work, busy_after);
}

typedef struct {
  uvsql_conn_t *conn;
  uvsql_future_t *target;
  uvsql_future_t *next;
  int i;
} cn_t;

static void cancel_and_next(uv_timer_t *t) {
  cn_t *cn = t->data;
  char sql[64];
  (void)uvsql_future_cancel(cn->target);
  snprintf(sql, sizeof sql, "SELECT %d", cn->i);
  cn->next = uvsql_conn_execute_sql(cn->conn, sql, NULL, 0, NULL, NULL);
}

static void cancel_then_next_case(const char *url, const char *short_sql) {
  fixture_t fx = fixture_open(url, NULL);
  int stop = 0, n = test_under_valgrind() ? 50 : 1000, cancelled = 0;
  for (int k = 0; k < 8; k++) {
    busy_t *b = calloc(1, sizeof *b);
    b->stop = &stop;
    uv_queue_work(fx.loop, &b->w, busy_work, busy_after);
  }
  uvsql_conn_t *c = checkout(&fx);
  uv_timer_t timer;
  uv_timer_init(fx.loop, &timer);
  cn_t cn = {c, NULL, NULL, 0};
  timer.data = &cn;
  for (int i = 0; i < n; i++) {
    cn.i = i;
    cn.next = NULL;
    cn.target = uvsql_conn_execute_sql(c, short_sql, NULL, 0, NULL, NULL);
    uv_timer_start(&timer, cancel_and_next, (uint64_t)(i % 4), 0);
    while (!cn.next)
      uv_run(fx.loop, UV_RUN_ONCE);
    int rc = uvsql_future_wait(cn.target);
    if (rc == UVSQL_ECANCELLED)
      cancelled++;
    else if (rc != 0)
      FAILF("iteration %d: the cancelled statement failed with %s: %s", i, uvsql_err_name(rc),
            uvsql_future_error(cn.target)->message);
    if (uvsql_future_wait(cn.next) != 0)
      FAILF("iteration %d: the next statement failed with %s: %s", i,
            uvsql_err_name(uvsql_future_error(cn.next)->code),
            uvsql_future_error(cn.next)->message);
    int64_t v = -1;
    ASSERT_INT_EQ(uvsql_result_int64(uvsql_future_value(cn.next), 0, 0, &v), 0);
    ASSERT_INT_EQ(v, i);
    uvsql_future_unref(cn.target);
    uvsql_future_unref(cn.next);
  }
  printf("%d iterations, %d cancelled on the server, 0 next statements hit\n", n, cancelled);
  ASSERT(cancelled > 0);
  stop = 1;
  uv_close((uv_handle_t *)&timer, NULL);
  uvsql_conn_release(c);
  fixture_close(&fx);
}

TEST(pg_cancel_then_next_never_hits_the_next) {
  cancel_then_next_case(test_pg_url(), "SELECT pg_sleep(0.005)");
}

TEST(mariadb_cancel_then_next_never_hits_the_next) {
  cancel_then_next_case(test_mariadb_url(), "SELECT SLEEP(0.01)");
}

TEST(sqlite_cancel_then_next_never_hits_the_next) {
  cancel_then_next_case(test_sqlite_url(),
                        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                        "WHERE x < 20000) SELECT count(*) FROM c");
}

/* ------------------------------------------------------------------ socket timeouts */

TEST(mariadb_url_rejects_bad_socket_timeouts) {
  uv_loop_t *loop = test_loop();
  uvsql_engine_t *e;
  uvsql_error_t err;
  ASSERT_ERR(uvsql_engine_new(&e, loop, "mariadb://u@127.0.0.1/db?read_timeout=abc", NULL, &err),
             UVSQL_EURL);
  ASSERT_STR_CONTAINS(err.message,
                      "mariadb URL option read_timeout=abc: expected a number of seconds >= 0");
  ASSERT_ERR(uvsql_engine_new(&e, loop, "mariadb://u@127.0.0.1/db?tcp_user_timeout=-5", NULL, &err),
             UVSQL_EURL);
  ASSERT_STR_CONTAINS(err.message, "tcp_user_timeout=-5: expected a number of milliseconds");
  ASSERT_OK(uvsql_engine_new(&e, loop,
                             "mariadb://u@127.0.0.1/db?read_timeout=5&write_timeout=5&tcp_"
                             "keepalive=30&tcp_user_timeout=10000",
                             NULL, &err),
            &err);
  uvsql_future_t *f = uvsql_engine_dispose(e, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  test_loop_close(loop);
}

/* read_timeout: a server that goes silent mid-statement drops the connection by itself. */
TEST(mariadb_read_timeout_drops_a_silent_connection_deadline) {
  char url[600];
  backend_t b = my_backend();
  snprintf(url, sizeof url, "%s%sread_timeout=1", b.url, strchr(b.url, '?') ? "&" : "?");
  b.url = url;
  proxy_t px;
  fixture_t fx = open_via(&px, &b, 0);
  proxy_stall(&px);
  uint64_t t0 = uv_hrtime();
  uvsql_future_t *f = uvsql_engine_execute_sql(fx.engine, "SELECT 5", NULL, 0, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EDISCONNECT);
  double took = secs_since(t0);
  printf("read_timeout dropped the connection in %.3f s: %s\n", took, e->message);
  ASSERT(took >= 0.9 && took < 3.0);
  uvsql_future_unref(f);
  proxy_resume(&px);
  ASSERT_INT_EQ(query_int(&fx, "SELECT 6"), 6);
  close_via(&fx, &px);
}
