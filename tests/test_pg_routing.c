/* tests/test_pg_routing.c — the router (uvsql/routing.h) over the suite's PostgreSQL and its
 * streaming standby (scripts/test.sh starts both): reads to the standby and writes to the
 * primary, checked with pg_is_in_recovery() per statement; transactions and ORM sessions on the
 * primary, reading their own writes; ORM sessions that read on a replica until they write;
 * per-call overrides; a lagging or dead replica taken out; bad arguments. The failover under
 * load is tests/test_pg_failover.c. */
#include "orm_fixture.h"
#include "scaleout.h"
#include "uvsql/routing.h"

typedef struct {
  uv_loop_t *loop;
  uvsql_router_t *r;
} rfx_t;

static rfx_t router_open(const char *primary, const char *replica,
                         const uvsql_router_options_t *ro) {
  rfx_t x;
  uvsql_error_t err;
  const char *urls[] = {primary, replica};
  x.loop = test_loop();
  ASSERT_OK(uvsql_router_new(&x.r, x.loop, urls, 2, NULL, ro, &err), &err);
  uvsql_future_t *f = uvsql_router_check(x.r, NULL, NULL); /* roles known before the test */
  AWAIT_OK(f);
  uvsql_future_unref(f);
  return x;
}

static void router_close(rfx_t *x) {
  uvsql_future_t *f = uvsql_router_dispose(x->r, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  test_loop_close(x->loop);
}

/* The first column of the first row, a bool, of sql run through the router. */
static int routed_bool(rfx_t *x, const char *sql, uvsql_route_t route) {
  uvsql_future_t *f = uvsql_router_execute_sql(x->r, sql, NULL, 0, route, NULL, NULL);
  int v = -1;
  ASSERT_OK(uvsql_result_bool(AWAIT_OK(f), 0, 0, &v), (uvsql_error_t *)NULL);
  uvsql_future_unref(f);
  return v;
}

static void routed_ok(rfx_t *x, const char *sql, uvsql_route_t route) {
  uvsql_future_t *f = uvsql_router_execute_sql(x->r, sql, NULL, 0, route, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
}

TEST(read_only_statements_are_told_from_writes) {
  ASSERT_INT_EQ(uvsql_sql_is_read_only("SELECT 1"), 1);
  ASSERT_INT_EQ(uvsql_sql_is_read_only("  -- c\n/* c */ (select a from t where b = 'insert')"), 1);
  ASSERT_INT_EQ(uvsql_sql_is_read_only("WITH x AS (SELECT 1) SELECT * FROM x"), 1);
  ASSERT_INT_EQ(uvsql_sql_is_read_only("VALUES (1), (2)"), 1);
  ASSERT_INT_EQ(uvsql_sql_is_read_only("SHOW server_version;"), 1);
  ASSERT_INT_EQ(uvsql_sql_is_read_only("select \"update\" from t"), 1);
  ASSERT_INT_EQ(uvsql_sql_is_read_only("INSERT INTO t VALUES (1)"), 0);
  ASSERT_INT_EQ(uvsql_sql_is_read_only("SELECT * FROM t FOR UPDATE"), 0);
  ASSERT_INT_EQ(uvsql_sql_is_read_only("SELECT * FROM t FOR SHARE"), 0);
  ASSERT_INT_EQ(uvsql_sql_is_read_only("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d"), 0);
  ASSERT_INT_EQ(uvsql_sql_is_read_only("SELECT * INTO t2 FROM t"), 0);
  ASSERT_INT_EQ(uvsql_sql_is_read_only("SELECT nextval('s')"), 0);
  ASSERT_INT_EQ(uvsql_sql_is_read_only("SELECT 1; DELETE FROM t"), 0);
  ASSERT_INT_EQ(uvsql_sql_is_read_only("BEGIN"), 0);
  ASSERT_INT_EQ(uvsql_sql_is_read_only("select 'unterminated"), 0);
  ASSERT_INT_EQ(uvsql_sql_is_read_only(""), 0);
  ASSERT_INT_EQ(uvsql_sql_is_read_only(NULL), 0);
}

TEST(reads_go_to_the_standby_and_writes_to_the_primary) {
  rfx_t x = router_open(test_pg_url(), test_pg_standby_url(), NULL);
  ASSERT_INT_EQ(uvsql_router_primary_index(x.r), 0);
  ASSERT_INT_EQ(uvsql_router_node_healthy(x.r, 1), 1);
  const char *t = test_unique_name("routing_rw");
  char sql[256];
  snprintf(sql, sizeof sql, "CREATE TABLE %s (id int PRIMARY KEY, on_standby bool)", t);
  routed_ok(&x, sql, UVSQL_ROUTE_AUTO);
  for (int i = 0; i < 10; i++) {
    ASSERT_INT_EQ(routed_bool(&x, "SELECT pg_is_in_recovery()", UVSQL_ROUTE_AUTO), 1);
    snprintf(sql, sizeof sql,
             "INSERT INTO %s VALUES (%d, pg_is_in_recovery()) RETURNING pg_is_in_recovery()", t, i);
    ASSERT_INT_EQ(routed_bool(&x, sql, UVSQL_ROUTE_AUTO), 0);
    ASSERT_INT_EQ(routed_bool(&x, "SELECT pg_is_in_recovery()", UVSQL_ROUTE_PRIMARY), 0);
    ASSERT_INT_EQ(routed_bool(&x, "SELECT pg_is_in_recovery()", UVSQL_ROUTE_REPLICA), 1);
  }
  uvsql_router_stats_t st;
  uvsql_router_stats(x.r, &st);
  ASSERT_INT_EQ(st.on_replicas, 20);
  ASSERT_INT_EQ(st.on_primary, 21);
  ASSERT_INT_EQ(st.failovers, 0);
  /* The rows arrive on the standby (streaming); each was written on the primary. */
  snprintf(sql, sizeof sql, "SELECT count(*) = 10 AND NOT bool_or(on_standby) FROM %s", t);
  int seen = 0;
  for (int k = 0; k < 100 && !seen; k++) {
    uvsql_future_t *f =
        uvsql_router_execute_sql(x.r, sql, NULL, 0, UVSQL_ROUTE_REPLICA, NULL, NULL);
    if (uvsql_future_wait(f) == 0 && uvsql_future_error(f) == NULL)
      uvsql_result_bool(uvsql_future_value(f), 0, 0, &seen);
    uvsql_future_unref(f);
    if (!seen)
      test_sleep(x.loop, 50);
  }
  ASSERT_INT_EQ(seen, 1);
  snprintf(sql, sizeof sql, "DROP TABLE %s", t);
  routed_ok(&x, sql, UVSQL_ROUTE_AUTO);
  router_close(&x);
}

TEST(a_transaction_runs_on_the_primary_and_reads_its_own_write) {
  rfx_t x = router_open(test_pg_url(), test_pg_standby_url(), NULL);
  const char *t = test_unique_name("routing_tx");
  char sql[256];
  snprintf(sql, sizeof sql, "CREATE TABLE %s (id int PRIMARY KEY)", t);
  routed_ok(&x, sql, UVSQL_ROUTE_AUTO);
  uvsql_future_t *f = uvsql_router_connect(x.r, UVSQL_ROUTE_AUTO, NULL, NULL);
  uvsql_conn_t *c = AWAIT_OK(f);
  uvsql_future_unref(f);
  await_ok(uvsql_conn_begin(c, UVSQL_ISOLATION_DEFAULT, NULL, NULL));
  snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (7)", t);
  conn_exec_ok(c, sql);
  snprintf(sql, sizeof sql, "SELECT count(*) = 1 AND NOT pg_is_in_recovery() FROM %s", t);
  f = uvsql_conn_execute_sql(c, sql, NULL, 0, NULL, NULL);
  int v = 0;
  ASSERT_OK(uvsql_result_bool(AWAIT_OK(f), 0, 0, &v), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(v, 1);
  uvsql_future_unref(f);
  await_ok(uvsql_conn_commit(c, NULL, NULL));
  uvsql_conn_release(c);
  /* A read that must see the write just committed asks for the primary. */
  snprintf(sql, sizeof sql, "SELECT count(*) = 1 FROM %s WHERE id = 7", t);
  ASSERT_INT_EQ(routed_bool(&x, sql, UVSQL_ROUTE_PRIMARY), 1);
  /* A read-only transaction may ask for a replica. */
  f = uvsql_router_connect(x.r, UVSQL_ROUTE_REPLICA, NULL, NULL);
  c = AWAIT_OK(f);
  uvsql_future_unref(f);
  f = uvsql_conn_execute_sql(c, "SELECT pg_is_in_recovery()", NULL, 0, NULL, NULL);
  ASSERT_OK(uvsql_result_bool(AWAIT_OK(f), 0, 0, &v), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(v, 1);
  uvsql_future_unref(f);
  uvsql_conn_release(c);
  snprintf(sql, sizeof sql, "DROP TABLE %s", t);
  routed_ok(&x, sql, UVSQL_ROUTE_AUTO);
  router_close(&x);
}

TEST(an_orm_session_on_a_router_writes_on_the_primary_and_reads_its_own_write) {
  orm_t *o = orm_open(test_pg_url());
  rfx_t x = router_open(test_pg_url(), test_pg_standby_url(), NULL);
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new_routed(&s, x.r, o->reg, NULL), (uvsql_error_t *)NULL);
  user_t *u = new_user(o, "routed", "Routed User");
  ASSERT_OK(uvsql_session_add(s, u), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  /* in the same transaction: the primary, where the row is */
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT count(*) = 1 AND NOT pg_is_in_recovery() FROM %s", o->tu);
  uvsql_future_t *f = uvsql_session_execute_sql(s, sql, NULL, 0, NULL, NULL);
  int v = 0;
  ASSERT_OK(uvsql_result_bool(AWAIT_OK(f), 0, 0, &v), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(v, 1);
  uvsql_future_unref(f);
  int64_t id = u->id;
  ASSERT(id > 0);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  /* a new transaction of the session reads it (expired on commit: loaded again) */
  f = uvsql_session_get_int(s, o->users, id, NULL, NULL);
  user_t *back = AWAIT_OK(f);
  ASSERT(back != NULL);
  ASSERT_STR_EQ(back->name, "routed");
  uvsql_future_unref(f);
  f = uvsql_session_execute_sql(s, "SELECT pg_is_in_recovery()", NULL, 0, NULL, NULL);
  ASSERT_OK(uvsql_result_bool(AWAIT_OK(f), 0, 0, &v), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(v, 0);
  uvsql_future_unref(f);
  await_ok(uvsql_session_close(s, NULL, NULL));
  router_close(&x);
  orm_close(o);
}

TEST(a_lagging_replica_is_taken_out_and_comes_back) {
  uvsql_router_options_t ro = UVSQL_ROUTER_OPTIONS_INIT;
  ro.max_replica_lag = 0.3;
  ro.retry_after = 0.2;
  ro.health_interval = 0.1;
  rfx_t x = router_open(test_pg_url(), test_pg_standby_url(), &ro);
  const char *t = test_unique_name("routing_lag");
  char sql[256];
  ASSERT_INT_EQ(routed_bool(&x, "SELECT pg_is_in_recovery()", UVSQL_ROUTE_AUTO), 1);
  /* replay paused on the standby, a write on the primary: the standby falls behind */
  routed_ok(&x, "SELECT pg_wal_replay_pause()", UVSQL_ROUTE_REPLICA);
  snprintf(sql, sizeof sql, "CREATE TABLE %s (id int)", t);
  routed_ok(&x, sql, UVSQL_ROUTE_PRIMARY);
  int out = 0;
  for (int k = 0; k < 60 && !out; k++) {
    test_sleep(x.loop, 100);
    await_ok(uvsql_router_check(x.r, NULL, NULL));
    out = !uvsql_router_node_healthy(x.r, 1);
  }
  /* resume before asserting, so that a failure leaves the shared standby replaying */
  uvsql_engine_t *standby;
  uvsql_error_t err;
  ASSERT_OK(uvsql_engine_new(&standby, x.loop, test_pg_standby_url(), NULL, &err), &err);
  await_ok(uvsql_engine_execute_sql(standby, "SELECT pg_wal_replay_resume()", NULL, 0, NULL, NULL));
  await_ok(uvsql_engine_dispose(standby, NULL, NULL));
  ASSERT_INT_EQ(out, 1);
  uvsql_router_stats_t st;
  uvsql_router_stats(x.r, &st);
  ASSERT(st.replicas_out >= 1);
  /* taken out: reads go to the primary */
  ASSERT_INT_EQ(routed_bool(&x, "SELECT pg_is_in_recovery()", UVSQL_ROUTE_AUTO), 0);
  int back = 0;
  for (int k = 0; k < 100 && !back; k++) {
    test_sleep(x.loop, 100);
    back = uvsql_router_node_healthy(x.r, 1);
  }
  ASSERT_INT_EQ(back, 1);
  ASSERT_INT_EQ(routed_bool(&x, "SELECT pg_is_in_recovery()", UVSQL_ROUTE_AUTO), 1);
  snprintf(sql, sizeof sql, "DROP TABLE %s", t);
  routed_ok(&x, sql, UVSQL_ROUTE_PRIMARY);
  router_close(&x);
}

TEST(a_dead_replica_is_taken_out_and_reads_go_on) {
  uvsql_router_options_t ro = UVSQL_ROUTER_OPTIONS_INIT;
  ro.retry_reads = 1;
  /* port 1: nothing listens there, connects are refused at once */
  rfx_t x = router_open(test_pg_url(), "postgresql://postgres@127.0.0.1:1/postgres", &ro);
  ASSERT_INT_EQ(uvsql_router_node_healthy(x.r, 1), 0);
  ASSERT_INT_EQ(uvsql_router_primary_index(x.r), 0);
  for (int i = 0; i < 5; i++)
    ASSERT_INT_EQ(routed_bool(&x, "SELECT pg_is_in_recovery()", UVSQL_ROUTE_AUTO), 0);
  uvsql_router_stats_t st;
  uvsql_router_stats(x.r, &st);
  ASSERT_INT_EQ(st.on_replicas, 0);
  ASSERT(st.replicas_out >= 1);
  router_close(&x);
}

TEST(a_read_that_fails_on_a_replica_is_retried_elsewhere_only_when_allowed) {
  for (int retry = 0; retry <= 1; retry++) {
    uvsql_router_options_t ro = UVSQL_ROUTER_OPTIONS_INIT;
    ro.retry_reads = retry;
    ro.health_interval = 1000; /* no check but the first: the replica dies after it */
    rfx_t x = router_open(test_pg_url(), test_pg_standby_url(), &ro);
    ASSERT_INT_EQ(routed_bool(&x, "SELECT pg_is_in_recovery()", UVSQL_ROUTE_AUTO), 1);
    /* A read on the standby, killed while it runs, from another engine. (Killing an idle
     * connection instead would race with the pool noticing the closed socket and opening a
     * fresh one: under valgrind it did.) */
    uvsql_future_t *f =
        uvsql_router_execute_sql(x.r, "SELECT pg_is_in_recovery() FROM pg_sleep(3) AS kill_me",
                                 NULL, 0, UVSQL_ROUTE_AUTO, NULL, NULL);
    uvsql_engine_t *killer;
    uvsql_error_t err;
    ASSERT_OK(uvsql_engine_new(&killer, x.loop, test_pg_standby_url(), NULL, &err), &err);
    int64_t killed = 0;
    for (int i = 0; i < 200 && killed == 0; i++) { /* until the read is running (4 s at most) */
      uvsql_future_t *k = uvsql_engine_execute_sql(
          killer,
          "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
          "WHERE pid <> pg_backend_pid() AND query LIKE '%pg_sleep(3) AS kill_me%'",
          NULL, 0, NULL, NULL);
      ASSERT_OK(uvsql_result_int64(AWAIT_OK(k), 0, 0, &killed), (uvsql_error_t *)NULL);
      uvsql_future_unref(k);
      if (killed == 0)
        test_sleep(x.loop, 20);
    }
    ASSERT_INT_EQ(killed, 1);
    await_ok(uvsql_engine_dispose(killer, NULL, NULL));
    if (retry) {
      int v = -1;
      ASSERT_OK(uvsql_result_bool(AWAIT_OK(f), 0, 0, &v), (uvsql_error_t *)NULL);
      ASSERT_INT_EQ(v, 0); /* answered by the primary */
    } else {
      const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EDISCONNECT);
      ASSERT(e->message[0] != '\0');
    }
    uvsql_future_unref(f);
    uvsql_router_stats_t st;
    uvsql_router_stats(x.r, &st);
    ASSERT_INT_EQ(st.read_retries, retry);
    ASSERT_INT_EQ(uvsql_router_node_healthy(x.r, 1), 0); /* taken out on the failure */
    router_close(&x);
  }
}

TEST(bad_router_arguments_are_refused_with_a_message) {
  uv_loop_t *loop = test_loop();
  uvsql_router_t *r = (uvsql_router_t *)1;
  uvsql_error_t err;
  const char *none[] = {NULL};
  ASSERT_ERR(uvsql_router_new(&r, loop, none, 0, NULL, NULL, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(err.message, "there must be 1 to 64 URLs (the primary first, then its "
                                   "replicas); there are 0");
  const char *sqlite[] = {test_pg_url(), "sqlite://"};
  ASSERT_ERR(uvsql_router_new(&r, loop, sqlite, 2, NULL, NULL, &err), UVSQL_ENOT_SUPPORTED);
  ASSERT_STR_EQ(err.message, "router URL 1 (a replica): the router follows PostgreSQL's "
                             "replication (pg_is_in_recovery); this URL is sqlite");
  const char *bad[] = {"postgresql://u:s3cret@h:99999/db"};
  ASSERT_ERR(uvsql_router_new(&r, loop, bad, 1, NULL, NULL, &err), UVSQL_EURL);
  ASSERT_STR_CONTAINS(err.message, "router URL 0 (the primary): port \"99999\"");
  ASSERT(strstr(err.message, "s3cret") == NULL);
  uvsql_router_options_t ro = UVSQL_ROUTER_OPTIONS_INIT;
  ro.health_interval = 0;
  const char *one[] = {test_pg_url()};
  ASSERT_ERR(uvsql_router_new(&r, loop, one, 1, NULL, &ro, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(err.message, "health_interval (0) and check_timeout (2) must be seconds "
                                   "above 0");
  test_loop_close(loop);
}

/* Polls the replica until sql (a bool) is true; returns it. */
static int replica_sees(rfx_t *x, const char *sql) {
  int seen = 0;
  for (int k = 0; k < 100 && !seen; k++) {
    uvsql_future_t *f =
        uvsql_router_execute_sql(x->r, sql, NULL, 0, UVSQL_ROUTE_REPLICA, NULL, NULL);
    if (uvsql_future_wait(f) == 0 && uvsql_future_error(f) == NULL)
      uvsql_result_bool(uvsql_future_value(f), 0, 0, &seen);
    uvsql_future_unref(f);
    if (!seen)
      test_sleep(x->loop, 50);
  }
  return seen;
}

TEST(an_orm_session_routed_to_replicas_reads_there_until_it_writes) {
  orm_t *o = orm_open(test_pg_url());
  rfx_t x = router_open(test_pg_url(), test_pg_standby_url(), NULL);
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new_routed(&s, x.r, o->reg, NULL), (uvsql_error_t *)NULL);
  user_t *u = new_user(o, "replicated", "Before");
  ASSERT_OK(uvsql_session_add(s, u), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  int64_t id = u->id;
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT count(*) = 1 FROM %s WHERE id = %" PRId64, o->tu, id);
  ASSERT_INT_EQ(replica_sees(&x, sql), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));

  ASSERT_OK(uvsql_session_new_routed(&s, x.r, o->reg, NULL), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_session_set_route(s, UVSQL_ROUTE_REPLICA), (uvsql_error_t *)NULL);
  uvsql_router_stats_t before, after;
  uvsql_router_stats(x.r, &before);
  uvsql_future_t *f = uvsql_session_get_int(s, o->users, id, NULL, NULL);
  user_t *got = AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT(got != NULL);
  ASSERT_STR_EQ(got->fullname, "Before");
  ASSERT_INT_EQ(uvsql_session_on_replica(s), 1); /* the transaction began with a read */
  ASSERT_OK(uvsql_orm_set_text(got, &got->fullname, "After"), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_flush(s, NULL, NULL)); /* moves the transaction to the primary */
  ASSERT_INT_EQ(uvsql_session_on_replica(s), 0);
  snprintf(sql, sizeof sql,
           "SELECT fullname = 'After' AND NOT pg_is_in_recovery() FROM %s "
           "WHERE id = %" PRId64,
           o->tu, id);
  f = uvsql_session_execute_sql(s, sql, NULL, 0, NULL, NULL);
  int v = 0;
  ASSERT_OK(uvsql_result_bool(AWAIT_OK(f), 0, 0, &v), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(v, 1); /* the session reads its own write, on the primary */
  uvsql_future_unref(f);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  uvsql_router_stats(x.r, &after);
  ASSERT_INT_EQ(after.on_replicas - before.on_replicas, 1);
  ASSERT_INT_EQ(after.on_primary - before.on_primary, 1);
  snprintf(sql, sizeof sql, "SELECT fullname = 'After' FROM %s WHERE id = %" PRId64, o->tu, id);
  ASSERT_INT_EQ(routed_bool(&x, sql, UVSQL_ROUTE_PRIMARY), 1);
  /* the next transaction begins with a read again: a replica again */
  f = uvsql_session_get_int(s, o->users, id, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(uvsql_session_on_replica(s), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));

  uvsql_session_t *plain = session(o); /* not routed: no route to set */
  ASSERT_ERR(uvsql_session_set_route(plain, UVSQL_ROUTE_REPLICA), UVSQL_EINVALID_ARGUMENT);
  ASSERT_INT_EQ(uvsql_session_on_replica(plain), 0);
  await_ok(uvsql_session_close(plain, NULL, NULL));
  router_close(&x);
  orm_close(o);
}
