/* tests/test_orm_faults.c — session operations of the newest paths when the server connection
 * fails, on PostgreSQL, MariaDB and SQLite where it applies (SQLite has no connection to kill).
 * uvsql_session_stream_query (selectin loaders per batch, through a cursor: PostgreSQL
 * DECLARE/FETCH, MariaDB and SQLite a temporary table): the session's connection killed between
 * two batches (PostgreSQL pg_terminate_backend, MariaDB KILL CONNECTION, from a second engine)
 * fails the stream's future with the lost connection, on_batch is not called again, the
 * batch's objects are released, and the session is rolled back and used again on a new
 * connection (or closed); on_batch stopping the stream leaves no cursor or temporary table on
 * the session's connection; the session closed while a stream runs settles both.
 * uvsql_session_merge that must load the object on a killed connection fails with the lost
 * connection, and after a rollback merges on a new one.
 * Each behaviour is one function taking a URL; each backend one TEST. */
#include "orm_rel_fixture.h"

#define NAUTHORS 120
#define NBOOKS   2
#define BATCH    50

static void seed(orm_t *o) {
  uvsql_session_t *s = session(o);
  char name[64];
  for (int i = 0; i < NAUTHORS; i++) {
    snprintf(name, sizeof name, "author %03d", i);
    author_t *a = named(o->authors, name);
    for (int k = 0; k < NBOOKS; k++) {
      snprintf(name, sizeof name, "book %03d.%d", i, k);
      ASSERT_OK(uvsql_orm_append(a, "books", named(o->books, name)), NOERR);
    }
    ASSERT_OK(uvsql_session_add(s, a), NOERR);
  }
  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));
}

static int is_pg(const char *url) {
  return strncmp(url, "postgres", 8) == 0;
}

/* The id of the session's connection (it opens the session's transaction). */
static int64_t session_backend(uvsql_session_t *s, const char *url) {
  uvsql_future_t *f = uvsql_session_execute_sql(
      s, is_pg(url) ? "SELECT pg_backend_pid()" : "SELECT CONNECTION_ID()", NULL, 0, NULL, NULL);
  int64_t id = 0;
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(f), 0, 0, &id), (uvsql_error_t *)NULL);
  uvsql_future_unref(f);
  return id;
}

typedef struct {
  const char *url;
  int64_t victim;
  fixture_t *killer; /* its own engine on its own loop: run to the end from inside on_batch */
  size_t batches, rows, kill_at, stop_at;
  size_t map_after_kill;
} ks_t;

/* Kills the victim's connection and waits until the server has ended it: the next statement
 * on it meets a closed connection. Runs the killer's own loop (not the session's). */
static void kill_backend(ks_t *k) {
  char sql[160];
  if (is_pg(k->url)) {
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld)", (long long)k->victim);
    uvsql_result_t *r = query(k->killer, sql, NULL, 0);
    ASSERT_INT_EQ(uvsql_result_value(r, 0, 0)->u.b, 1);
    uvsql_result_free(r);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE pid = %lld",
             (long long)k->victim);
  } else {
    snprintf(sql, sizeof sql, "KILL CONNECTION %lld", (long long)k->victim);
    exec_ok(k->killer, sql);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM information_schema.PROCESSLIST WHERE ID = %lld",
             (long long)k->victim);
  }
  for (int i = 0; query_int(k->killer, sql) != 0; i++) {
    ASSERT(i < 300); /* 30 s: generous on a loaded machine */
    test_sleep(k->killer->loop, 100);
  }
}

static int kill_batch(uvsql_session_t *s, void *const *objs, size_t n, void *data) {
  ks_t *k = data;
  ASSERT(n >= 1 && n <= BATCH);
  for (size_t i = 0; i < n; i++) {
    author_t *a = objs[i];
    char want[64];
    snprintf(want, sizeof want, "author %03zu", k->rows + i);
    ASSERT_STR_EQ(a->name, want);
    ASSERT_INT_EQ(a->books.n, NBOOKS);
  }
  k->batches++;
  k->rows += n;
  if (k->batches == k->kill_at)
    kill_backend(k);
  k->map_after_kill = uvsql_session_identity_count(s);
  return k->stop_at && k->batches == k->stop_at;
}

/* The connection is killed while on_batch runs (between the first and the second batch). */
static void killed_between_batches(const char *url) {
  orm_t *o = orm_open(url);
  seed(o);
  fixture_t killer = fixture_open(url, NULL);
  uvsql_load_option_t opt = UVSQL_SELECTINLOAD("books");
  uvsql_orm_query_t *q = query_of(o->authors, &opt, 1);
  uvsql_session_t *s = session(o);
  ks_t k = {.url = url, .killer = &killer, .kill_at = 1};
  k.victim = session_backend(s, url);
  uvsql_future_t *f = uvsql_session_stream_query(s, q, NULL, 0, BATCH, kill_batch, &k, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EDISCONNECT);
  printf("the stream failed with: %s\n", e->message);
  /* PostgreSQL: the server's FATAL 57P01, or the lost connection; MariaDB: the lost one */
  if (!strstr(e->message, "terminating connection due to administrator command"))
    ASSERT(strstr(e->message, "connection to the server was lost") ||
           strstr(e->message, "server has gone away") || strstr(e->message, "Lost connection"));
  ASSERT_INT_EQ(uvsql_err_family(e->code), UVSQL_FAMILY_OPERATIONAL);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(k.batches, 1); /* on_batch is not called again */
  ASSERT_INT_EQ(k.rows, BATCH);
  ASSERT_INT_EQ(uvsql_session_identity_count(s), 0); /* the batch's objects were released */
  /* the transaction is gone with its connection: the session says so until rolled back */
  f = uvsql_session_execute_sql(s, "SELECT 1", NULL, 0, NULL, NULL);
  e = AWAIT_ERR(f, UVSQL_EINTERFACE);
  ASSERT_STR_CONTAINS(e->message, "Call uvsql_session_rollback() first");
  uvsql_future_unref(f);
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  /* the session goes on, on a new connection: the same stream runs to its end */
  int64_t fresh = session_backend(s, url);
  ASSERT(fresh != k.victim);
  ks_t k2 = {.url = url};
  f = uvsql_session_stream_query(s, q, NULL, 0, BATCH, kill_batch, &k2, NULL, NULL);
  uvsql_stream_summary_t *sum = AWAIT_OK(f);
  ASSERT_INT_EQ(sum->rows, NAUTHORS);
  ASSERT_INT_EQ(sum->batches, 3);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(k2.rows, NAUTHORS);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  /* killed again, then the session closed without a rollback: the close settles */
  ks_t k3 = {.url = url, .killer = &killer, .kill_at = 1};
  k3.victim = session_backend(s, url);
  f = uvsql_session_stream_query(s, q, NULL, 0, BATCH, kill_batch, &k3, NULL, NULL);
  AWAIT_ERR(f, UVSQL_EDISCONNECT);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(k3.batches, 1);
  await_ok(uvsql_session_close(s, NULL, NULL));
  uvsql_orm_query_free(q);
  fixture_close(&killer);
  orm_close(o);
}

TEST(orm_faults_stream_killed_between_batches_pg) {
  killed_between_batches(test_pg_url());
}
TEST(orm_faults_stream_killed_between_batches_mariadb) {
  killed_between_batches(test_mariadb_url());
}

/* The session's connection holds no stream cursor (PostgreSQL) or temporary table (MariaDB,
 * SQLite), asked in the session's transaction. */
static void assert_no_cursor(uvsql_session_t *s, const char *dialect) {
  uvsql_future_t *f;
  if (strcmp(dialect, "postgresql") == 0) {
    f = uvsql_session_execute_sql(
        s, "SELECT count(*) FROM pg_cursors WHERE name = 'uvsql_orm_stream'", NULL, 0, NULL, NULL);
  } else if (strcmp(dialect, "sqlite") == 0) {
    f = uvsql_session_execute_sql(
        s, "SELECT count(*) FROM temp.sqlite_master WHERE name = 'uvsql_orm_stream'", NULL, 0, NULL,
        NULL);
  } else {
    /* MariaDB 10.11 lists no temporary tables: the name is free again on this connection */
    await_ok(uvsql_session_execute_sql(s, "CREATE TEMPORARY TABLE uvsql_orm_stream (x INT)", NULL,
                                       0, NULL, NULL));
    await_ok(
        uvsql_session_execute_sql(s, "DROP TEMPORARY TABLE uvsql_orm_stream", NULL, 0, NULL, NULL));
    f = uvsql_session_execute_sql(s, "SELECT 0", NULL, 0, NULL, NULL);
  }
  int64_t left = -1;
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(f), 0, 0, &left), NOERR);
  ASSERT_INT_EQ(left, 0);
  uvsql_future_unref(f);
}

/* on_batch stops after the first batch: the cursor (PostgreSQL) or the temporary table
 * (MariaDB, SQLite) is gone from the session's connection, in the same transaction, and the
 * session runs its next statements there. */
static void stop_leaves_nothing_behind(const char *url) {
  orm_t *o = orm_open(url);
  seed(o);
  uvsql_load_option_t opt = UVSQL_SELECTINLOAD("books");
  uvsql_orm_query_t *q = query_of(o->authors, &opt, 1);
  uvsql_session_t *s = session(o);
  const char *dialect = uvsql_engine_dialect(o->fx.engine);
  int64_t id0 = strcmp(dialect, "sqlite") == 0 ? 0 : session_backend(s, url);
  ks_t k = {.url = url, .stop_at = 1};
  uvsql_future_t *f = uvsql_session_stream_query(s, q, NULL, 0, BATCH, kill_batch, &k, NULL, NULL);
  uvsql_stream_summary_t *sum = AWAIT_OK(f);
  ASSERT_INT_EQ(sum->stopped, 1);
  ASSERT_INT_EQ(sum->batches, 1);
  ASSERT_INT_EQ(sum->rows, BATCH);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(k.batches, 1);
  ASSERT_INT_EQ(uvsql_session_identity_count(s), 0);
  if (strcmp(dialect, "sqlite") != 0)
    ASSERT_INT_EQ(session_backend(s, url), id0); /* the same connection, the same transaction */
  assert_no_cursor(s, dialect);
  /* a normal query in the same transaction */
  f = uvsql_session_execute_sql(s, "SELECT 40 + 2", NULL, 0, NULL, NULL);
  int64_t v = 0;
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(f), 0, 0, &v), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(v, 42);
  uvsql_future_unref(f);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));
  uvsql_orm_query_free(q);
  orm_close(o);
}

TEST(orm_faults_stream_stop_leaves_nothing_behind_pg) {
  stop_leaves_nothing_behind(test_pg_url());
}
TEST(orm_faults_stream_stop_leaves_nothing_behind_mariadb) {
  stop_leaves_nothing_behind(test_mariadb_url());
}
TEST(orm_faults_stream_stop_leaves_nothing_behind_sqlite) {
  stop_leaves_nothing_behind(test_sqlite_url());
}

typedef struct {
  uvsql_session_t *s;
  uvsql_future_t *close, *late;
  size_t batches, rows;
} cl_t;

static int close_batch(uvsql_session_t *s, void *const *objs, size_t n, void *data) {
  cl_t *c = data;
  (void)objs;
  c->batches++;
  c->rows += n;
  if (c->batches == 1 && !c->close) {
    c->close = uvsql_session_close(s, NULL, NULL); /* queued behind the running stream */
    ASSERT(c->close != NULL);
    c->late = uvsql_session_execute_sql(s, "SELECT 1", NULL, 0, NULL, NULL);
  }
  return 0;
}

/* The session is closed while a stream runs (right after it was started, and from inside
 * on_batch): the stream runs to its end, then the close; an operation issued after the close
 * fails with UVSQL_ECLOSED. */
static void closed_while_streaming(const char *url) {
  orm_t *o = orm_open(url);
  seed(o);
  uvsql_load_option_t opt = UVSQL_SELECTINLOAD("books");
  uvsql_orm_query_t *q = query_of(o->authors, &opt, 1);
  for (int inside = 0; inside < 2; inside++) {
    cl_t c = {.s = session(o)};
    uvsql_future_t *f =
        uvsql_session_stream_query(c.s, q, NULL, 0, BATCH, close_batch, &c, NULL, NULL);
    if (!inside) { /* else the close comes from on_batch */
      c.close = uvsql_session_close(c.s, NULL, NULL);
      c.late = uvsql_session_execute_sql(c.s, "SELECT 1", NULL, 0, NULL, NULL);
    }
    uvsql_stream_summary_t *sum = AWAIT_OK(f);
    ASSERT_INT_EQ(sum->rows, NAUTHORS);
    ASSERT_INT_EQ(sum->batches, 3);
    ASSERT_INT_EQ(sum->stopped, 0);
    uvsql_future_unref(f);
    ASSERT_INT_EQ(c.rows, NAUTHORS);
    const uvsql_error_t *e = AWAIT_ERR(c.late, UVSQL_ECLOSED);
    ASSERT_STR_CONTAINS(e->message, "closed");
    uvsql_future_unref(c.late);
    await_ok(c.close);
  }
  /* the pool got its connection back: nothing is left checked out */
  uvsql_pool_stats_t st;
  uvsql_pool_stats(o->fx.engine, &st);
  ASSERT_INT_EQ(st.checked_out, 0);
  uvsql_orm_query_free(q);
  orm_close(o);
}

TEST(orm_faults_stream_closed_while_streaming_pg) {
  closed_while_streaming(test_pg_url());
}
TEST(orm_faults_stream_closed_while_streaming_mariadb) {
  closed_while_streaming(test_mariadb_url());
}
TEST(orm_faults_stream_closed_while_streaming_sqlite) {
  closed_while_streaming(test_sqlite_url());
}

/* ------------------------------------------------------------------ merge */

/* uvsql_session_merge of an object the identity map lacks: its SELECT meets a killed
 * connection. */
static void merge_on_a_killed_connection(const char *url) {
  orm_t *o = orm_open(url);
  seed(o);
  fixture_t killer = fixture_open(url, NULL);
  uvsql_session_t *s = session(o);
  ks_t k = {.url = url, .killer = &killer};
  k.victim = session_backend(s, url); /* the session's transaction is open on it */
  kill_backend(&k);
  author_t *d = named(o->authors, "merged");
  d->id = 1; /* "author 000": generated keys count from 1 */
  ASSERT_INT_EQ(count_rows(&o->fx, o->ta, "id = 1 AND name = 'author 000'"), 1);
  uvsql_future_t *f = uvsql_session_merge(s, d, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EDISCONNECT);
  printf("the merge failed with: %s\n", e->message);
  if (!strstr(e->message, "terminating connection due to administrator command"))
    ASSERT(strstr(e->message, "connection to the server was lost") ||
           strstr(e->message, "server has gone away") || strstr(e->message, "Lost connection"));
  uvsql_future_unref(f);
  ASSERT_INT_EQ(uvsql_session_identity_count(s), 0);
  f = uvsql_session_merge(s, d, NULL, NULL);
  ASSERT_STR_CONTAINS(AWAIT_ERR(f, UVSQL_EINTERFACE)->message,
                      "Call uvsql_session_rollback() first");
  uvsql_future_unref(f);
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  f = uvsql_session_merge(s, d, NULL, NULL);
  author_t *p = AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT(p != d);
  ASSERT_INT_EQ(p->id, 1);
  ASSERT_STR_EQ(p->name, "merged");
  ASSERT_INT_EQ(uvsql_orm_state(p), UVSQL_OBJ_PERSISTENT);
  ASSERT(session_backend(s, url) != k.victim);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&o->fx, o->ta, "id = 1 AND name = 'merged'"), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));
  uvsql_orm_free(d);
  fixture_close(&killer);
  orm_close(o);
}

TEST(orm_faults_merge_on_a_killed_connection_pg) {
  merge_on_a_killed_connection(test_pg_url());
}
TEST(orm_faults_merge_on_a_killed_connection_mariadb) {
  merge_on_a_killed_connection(test_mariadb_url());
}

/* ------------------------------------------------------------------ cancel */

typedef struct {
  uvsql_future_t *f;
  size_t batches, cancel_at;
} cn_t;

static int cancel_batch(uvsql_session_t *s, void *const *objs, size_t n, void *data) {
  cn_t *c = data;
  (void)s;
  (void)objs;
  ASSERT(n >= 1 && n <= BATCH);
  c->batches++;
  if (c->batches == c->cancel_at)
    ASSERT_INT_EQ(uvsql_future_cancel(c->f), 0);
  return 0;
}

/* uvsql_future_cancel of a stream's future (stream_query with selectin loaders, and a plain
 * uvsql_session_stream): it settles as cancelled and on_batch is never called after that (the
 * caller may free what on_batch uses); the cursor or temporary table is gone and the session
 * goes on in the same transaction. */
static void cancelled_stream(const char *url) {
  orm_t *o = orm_open(url);
  seed(o);
  const char *dialect = uvsql_engine_dialect(o->fx.engine);
  uvsql_load_option_t opt = UVSQL_SELECTINLOAD("books");
  uvsql_orm_query_t *qs[2] = {query_of(o->authors, &opt, 1), query_of(o->authors, NULL, 0)};
  uvsql_session_t *s = session(o);
  for (int i = 0; i < 2; i++) {
    for (size_t at = 0; at < 2; at++) { /* before the first batch, and from inside on_batch */
      cn_t c = {.cancel_at = at};
      c.f = uvsql_session_stream_query(s, qs[i], NULL, 0, BATCH, cancel_batch, &c, NULL, NULL);
      if (at == 0)
        ASSERT_INT_EQ(uvsql_future_cancel(c.f), 0);
      const uvsql_error_t *e = AWAIT_ERR(c.f, UVSQL_ECANCELLED);
      ASSERT_STR_EQ(e->message, "cancelled by the caller");
      ASSERT_INT_EQ(uvsql_future_state(c.f), UVSQL_FUTURE_CANCELLED);
      /* a statement queued now runs after whatever the stream still had to do */
      assert_no_cursor(s, dialect);
      ASSERT_INT_EQ(c.batches, at); /* never after the cancel */
      ASSERT_INT_EQ(uvsql_session_identity_count(s), 0);
      uvsql_future_unref(c.f);
    }
  }
  /* the same transaction goes on: a whole stream after the cancelled ones */
  ks_t k = {.url = url};
  uvsql_future_t *f =
      uvsql_session_stream_query(s, qs[0], NULL, 0, BATCH, kill_batch, &k, NULL, NULL);
  uvsql_stream_summary_t *sum = AWAIT_OK(f);
  ASSERT_INT_EQ(sum->rows, NAUTHORS);
  uvsql_future_unref(f);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));
  uvsql_orm_query_free(qs[0]);
  uvsql_orm_query_free(qs[1]);
  orm_close(o);
}

TEST(orm_faults_stream_cancelled_pg) {
  cancelled_stream(test_pg_url());
}
TEST(orm_faults_stream_cancelled_mariadb) {
  cancelled_stream(test_mariadb_url());
}
TEST(orm_faults_stream_cancelled_sqlite) {
  cancelled_stream(test_sqlite_url());
}
