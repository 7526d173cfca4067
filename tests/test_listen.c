/* tests/test_listen.c — LISTEN/NOTIFY on PostgreSQL: every notification arrives, in order,
 * while the pool is busy; the listener connection comes back by itself after the server
 * terminates it, telling its listeners that notifications may have been missed; notifications
 * that arrive on pooled connections are delivered too; unlisten, bad arguments, dispose, and
 * the clear refusal on MariaDB and SQLite. Channel names are unique per test process. */
#include "backend.h"

typedef struct {
  int count;
  int reconnected;
  int from_pool;
  int out_of_order;
  int next; /* the payload the next notification must carry */
  int last_pid;
  unsigned last_flags;
  char last_channel[80];
  char last_payload[80];
  uint64_t reconnected_ms;
  uv_loop_t *loop;
} rx_t;

static void on_note(const uvsql_notification_t *n, void *data) {
  rx_t *rx = data;
  rx->last_pid = n->pid;
  rx->last_flags = n->flags;
  snprintf(rx->last_channel, sizeof rx->last_channel, "%s", n->channel);
  snprintf(rx->last_payload, sizeof rx->last_payload, "%s", n->payload);
  if (n->flags & UVSQL_NOTIFY_RECONNECTED) {
    rx->reconnected++;
    rx->reconnected_ms = uv_now(rx->loop);
    return;
  }
  if (n->flags & UVSQL_NOTIFY_FROM_POOL) {
    rx->from_pool++;
    return;
  }
  if (atoi(n->payload) != rx->next)
    rx->out_of_order++;
  rx->next = atoi(n->payload) + 1;
  rx->count++;
}

/* A channel name that needs quoting: upper case, a space and a double quote. */
static const char *channel_name(const char *what) {
  static char buf[64];
  snprintf(buf, sizeof buf, "Lc \"%s\" %d", what, (int)getpid());
  return buf;
}

static void wait_until(uv_loop_t *loop, const int *counter, int want, uint64_t max_ms) {
  uint64_t start = uv_now(loop);
  while (*counter < want && uv_now(loop) - start < max_ms)
    test_sleep(loop, 10);
}

static void listen_ok(fixture_t *fx, const char *ch, rx_t *rx) {
  uvsql_future_t *f = uvsql_engine_listen(fx->engine, ch, on_note, rx, NULL, NULL);
  ASSERT(AWAIT_OK(f) == NULL);
  uvsql_future_unref(f);
}

static void notify_ok(fixture_t *fx, const char *ch, const char *payload) {
  uvsql_future_t *f = uvsql_engine_notify(fx->engine, ch, payload, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
}

/* ------------------------------------------------------------------ 10,000 under load */

typedef struct {
  fixture_t *fx;
  int *stop;
  int *active;
  long *done;
  int failed;
} caller_t;

static void caller_go(caller_t *c);

static void caller_cb(uvsql_future_t *f, void *data) {
  caller_t *c = data;
  (*c->active)--;
  if (uvsql_future_state(f) != UVSQL_FUTURE_RESOLVED)
    c->failed++;
  (*c->done)++;
  if (!*c->stop)
    caller_go(c);
}

static void caller_go(caller_t *c) {
  (*c->active)++;
  uvsql_engine_execute_sql(c->fx->engine, "SELECT count(*) FROM generate_series(1, 200)", NULL, 0,
                           caller_cb, c);
}

TEST(pg_listener_gets_10000_notifications_in_order_while_64_callers_query) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 8;
  opt.max_overflow = 0;
  fixture_t fx = fixture_open(test_pg_url(), &opt);
  uvsql_engine_t *sender_engine;
  uvsql_error_t err;
  ASSERT_OK(uvsql_engine_new(&sender_engine, fx.loop, test_pg_url(), NULL, &err), &err);
  fixture_t sender = {fx.loop, sender_engine};
  const char *ch = channel_name("load");
  rx_t rx = {0};
  rx.loop = fx.loop;
  listen_ok(&fx, ch, &rx);
  ASSERT(uvsql_engine_listener_pid(fx.engine) > 0);

  int stop = 0, active = 0;
  long done = 0;
  caller_t callers[64];
  for (int i = 0; i < 64; i++) {
    callers[i] = (caller_t){&fx, &stop, &active, &done, 0};
    caller_go(&callers[i]);
  }

  uvsql_conn_t *sc = checkout(&sender);
  int64_t sender_pid;
  {
    uvsql_future_t *f = uvsql_conn_execute_sql(sc, "SELECT pg_backend_pid()", NULL, 0, NULL, NULL);
    ASSERT_OK(uvsql_result_int64(AWAIT_OK(f), 0, 0, &sender_pid), (uvsql_error_t *)NULL);
    uvsql_future_unref(f);
  }
  /* 10,000 pg_notify calls pipelined on one connection: each its own transaction, committed
   * in this order, so the listener must see them in this order */
  uvsql_stmt_t *st;
  ASSERT_OK(uvsql_text(&st, "SELECT pg_notify(:c, :p)", &err), &err);
  uvsql_future_t *last = NULL;
  for (int i = 0; i < 10000; i++) {
    char p[16];
    snprintf(p, sizeof p, "%d", i);
    uvsql_param_t params[] = {UVSQL_P_TEXT("c", ch), UVSQL_P_TEXT("p", p)};
    uvsql_future_unref(last);
    last = uvsql_conn_execute(sc, st, params, 2, NULL, NULL);
  }
  AWAIT_OK(last);
  uvsql_future_unref(last);
  uvsql_stmt_free(st);
  wait_until(fx.loop, &rx.count, 10000, 60000);
  stop = 1;
  while (active > 0)
    test_sleep(fx.loop, 5);

  ASSERT_INT_EQ(rx.count, 10000);
  ASSERT_INT_EQ(rx.out_of_order, 0);
  ASSERT_INT_EQ(rx.next, 10000);
  ASSERT_INT_EQ(rx.reconnected, 0);
  ASSERT_INT_EQ(rx.from_pool, 0);
  ASSERT_INT_EQ(rx.last_pid, sender_pid);
  ASSERT_STR_EQ(rx.last_channel, ch);
  ASSERT_STR_EQ(rx.last_payload, "9999");
  for (int i = 0; i < 64; i++)
    ASSERT_INT_EQ(callers[i].failed, 0);
  ASSERT(done >= 64); /* the callers ran all along */
  uvsql_conn_release(sc);
  uvsql_future_t *d = uvsql_engine_dispose(sender_engine, NULL, NULL);
  AWAIT_OK(d);
  uvsql_future_unref(d);
  fixture_close(&fx);
}

/* ------------------------------------------------------------------ reconnect */

TEST(pg_listener_is_back_within_a_second_after_terminate_backend) {
  fixture_t fx = fixture_open(test_pg_url(), NULL);
  uvsql_engine_t *admin_engine;
  uvsql_error_t err;
  ASSERT_OK(uvsql_engine_new(&admin_engine, fx.loop, test_pg_url(), NULL, &err), &err);
  fixture_t admin = {fx.loop, admin_engine};
  const char *ch = channel_name("reconnect");
  rx_t rx = {0};
  rx.loop = fx.loop;
  listen_ok(&fx, ch, &rx);
  notify_ok(&admin, ch, "0");
  wait_until(fx.loop, &rx.count, 1, 10000);
  ASSERT_INT_EQ(rx.count, 1);

  int pid = uvsql_engine_listener_pid(fx.engine);
  ASSERT(pid > 0);
  uvsql_param_t p[] = {UVSQL_P_INT64("pid", pid)};
  uv_update_time(fx.loop);
  uint64_t t0 = uv_now(fx.loop);
  uvsql_result_t *r = query(&admin, "SELECT pg_terminate_backend(CAST(:pid AS int))", p, 1);
  int b = 0;
  ASSERT_OK(uvsql_result_bool(r, 0, 0, &b), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(b, 1);
  uvsql_result_free(r);

  wait_until(fx.loop, &rx.reconnected, 1, 5000);
  ASSERT_INT_EQ(rx.reconnected, 1);
  ASSERT(rx.reconnected_ms - t0 < 1000);
  ASSERT(rx.last_flags == UVSQL_NOTIFY_RECONNECTED);
  ASSERT_STR_EQ(rx.last_channel, ch);
  ASSERT_STR_EQ(rx.last_payload, "");
  int pid2 = uvsql_engine_listener_pid(fx.engine);
  ASSERT(pid2 > 0 && pid2 != pid);
  ASSERT_INT_EQ(rx.last_pid, pid2);

  /* listening again: a NOTIFY sent now arrives */
  notify_ok(&admin, ch, "1");
  wait_until(fx.loop, &rx.count, 2, 10000);
  ASSERT_INT_EQ(rx.count, 2);
  ASSERT_INT_EQ(rx.out_of_order, 0);
  ASSERT_INT_EQ(rx.last_flags, 0);
  ASSERT_STR_EQ(rx.last_payload, "1");

  uvsql_future_t *d = uvsql_engine_dispose(admin_engine, NULL, NULL);
  AWAIT_OK(d);
  uvsql_future_unref(d);
  fixture_close(&fx);
}

/* ------------------------------------------------------------------ pooled connections */

TEST(pg_notification_on_a_pooled_connection_is_delivered) {
  fixture_t fx = fixture_open(test_pg_url(), NULL);
  const char *ch = "lc_pool_channel";
  char sql[128];
  rx_t rx = {0};
  rx.loop = fx.loop;
  listen_ok(&fx, ch, &rx);
  uvsql_conn_t *c = checkout(&fx);
  snprintf(sql, sizeof sql, "LISTEN %s", ch);
  conn_exec_ok(c, sql);
  /* notified from the same pooled connection: libpq hands the notification over after the
   * statement's result, on that connection */
  uvsql_param_t p[] = {UVSQL_P_TEXT("c", ch), UVSQL_P_TEXT("p", "7")};
  uvsql_future_t *f = uvsql_conn_execute_sql(c, "SELECT pg_notify(:c, :p)", p, 2, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  wait_until(fx.loop, &rx.from_pool, 1, 10000);
  wait_until(fx.loop, &rx.count, 1, 10000);
  ASSERT_INT_EQ(rx.from_pool, 1); /* from the pooled connection, flagged */
  ASSERT_INT_EQ(rx.count, 1);     /* and from the listener connection */
  ASSERT_STR_EQ(rx.last_payload, "7");
  snprintf(sql, sizeof sql, "UNLISTEN %s", ch);
  conn_exec_ok(c, sql);
  uvsql_conn_release(c);
  fixture_close(&fx);
}

/* ------------------------------------------------------------------ unlisten */

TEST(pg_unlisten_stops_the_callback) {
  fixture_t fx = fixture_open(test_pg_url(), NULL);
  const char *ch = channel_name("unlisten");
  rx_t rx = {0}, rx2 = {0};
  rx.loop = rx2.loop = fx.loop;
  listen_ok(&fx, ch, &rx);
  listen_ok(&fx, ch, &rx2); /* a second listener on the same channel: no second LISTEN */
  notify_ok(&fx, ch, "0");
  wait_until(fx.loop, &rx2.count, 1, 10000);
  wait_until(fx.loop, &rx.count, 1, 10000);
  ASSERT_INT_EQ(rx.count, 1);
  ASSERT_INT_EQ(rx2.count, 1);

  uvsql_future_t *f = uvsql_engine_unlisten(fx.engine, ch, on_note, &rx, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  notify_ok(&fx, ch, "1");
  wait_until(fx.loop, &rx2.count, 2, 10000);
  test_sleep(fx.loop, 100);
  ASSERT_INT_EQ(rx2.count, 2);
  ASSERT_INT_EQ(rx.count, 1); /* removed: not called again */

  f = uvsql_engine_unlisten(fx.engine, ch, on_note, &rx2, NULL, NULL); /* the last: UNLISTEN */
  AWAIT_OK(f);
  uvsql_future_unref(f);
  notify_ok(&fx, ch, "2");
  test_sleep(fx.loop, 200);
  ASSERT_INT_EQ(rx2.count, 2);

  f = uvsql_engine_unlisten(fx.engine, ch, on_note, &rx2, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(e->message, "no listener on channel");
  uvsql_future_unref(f);
  fixture_close(&fx);
}

/* ------------------------------------------------------------------ errors */

TEST(pg_listen_rejects_bad_arguments) {
  fixture_t fx = fixture_open(test_pg_url(), NULL);
  rx_t rx = {0};
  char longname[80];
  memset(longname, 'x', 64);
  longname[64] = '\0';
  uvsql_future_t *f = uvsql_engine_listen(fx.engine, longname, on_note, &rx, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(e->message, "is 64 bytes: a PostgreSQL channel name has 1 to 63 bytes");
  uvsql_future_unref(f);
  f = uvsql_engine_listen(fx.engine, "", on_note, &rx, NULL, NULL);
  e = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(e->message, "is 0 bytes");
  uvsql_future_unref(f);
  f = uvsql_engine_listen(fx.engine, "ok", NULL, &rx, NULL, NULL);
  e = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(e->message, "on_notify is NULL");
  uvsql_future_unref(f);
  f = uvsql_engine_notify(fx.engine, NULL, "x", NULL, NULL);
  e = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(e->message, "channel name NULL is 0 bytes");
  uvsql_future_unref(f);
  ASSERT_INT_EQ(uvsql_engine_listener_pid(fx.engine), 0);
  fixture_close(&fx);
}

TEST(pg_dispose_closes_the_listener_and_fails_a_pending_listen) {
  fixture_t fx = fixture_open(test_pg_url(), NULL);
  rx_t rx = {0};
  uvsql_future_t *f = uvsql_engine_listen(fx.engine, "lc_dispose", on_note, &rx, NULL, NULL);
  uvsql_future_t *d = uvsql_engine_dispose(fx.engine, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ECLOSED);
  ASSERT_STR_CONTAINS(e->message, "the engine is being disposed");
  uvsql_future_unref(f);
  AWAIT_OK(d);
  uvsql_future_unref(d);
  test_loop_close(fx.loop);
}

TEST(pg_dispose_closes_a_listening_connection) {
  fixture_t fx = fixture_open(test_pg_url(), NULL);
  rx_t rx = {0};
  listen_ok(&fx, "lc_dispose2", &rx);
  ASSERT(uvsql_engine_listener_pid(fx.engine) > 0);
  fixture_close(&fx); /* the loop closes clean: nothing of the listener is left */
}

static void not_supported(const char *url, const char *backend) {
  fixture_t fx = fixture_open(url, NULL);
  rx_t rx = {0};
  uvsql_future_t *f = uvsql_engine_listen(fx.engine, "lc", on_note, &rx, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ENOT_SUPPORTED);
  ASSERT_STR_CONTAINS(e->message, "LISTEN/NOTIFY is a PostgreSQL feature; this engine is");
  ASSERT_STR_CONTAINS(e->message, backend);
  uvsql_future_unref(f);
  f = uvsql_engine_notify(fx.engine, "lc", "x", NULL, NULL);
  e = AWAIT_ERR(f, UVSQL_ENOT_SUPPORTED);
  ASSERT_STR_CONTAINS(e->message, "uvsql_engine_notify: LISTEN/NOTIFY is a PostgreSQL feature");
  uvsql_future_unref(f);
  f = uvsql_engine_unlisten(fx.engine, "lc", on_note, &rx, NULL, NULL);
  AWAIT_ERR(f, UVSQL_ENOT_SUPPORTED);
  uvsql_future_unref(f);
  fixture_close(&fx);
}

TEST(mariadb_listen_is_not_supported) {
  not_supported(test_mariadb_url(), "mariadb");
}

TEST(sqlite_listen_is_not_supported) {
  not_supported(test_sqlite_url(), "sqlite");
}
