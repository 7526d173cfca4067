/* tests/test_orm_uow.c — the ORM's unit of work on PostgreSQL, MariaDB and SQLite: a flush of
 * 100,000 new objects gets every generated key back in the right struct, in bounded batches;
 * a unique violation in the middle of a flush leaves none of its rows and the session
 * demanding a rollback; dirty tracking and rollback restoring database values; savepoints;
 * optimistic concurrency (stale version); queued session operations running in order.
 * Each behaviour is one function taking a URL; each backend one TEST. */
#include "orm_fixture.h"

/* ------------------------------------------------------------------ bulk insert */

#define NBULK 100000

static void bulk_insert(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  user_t **us = malloc(NBULK * sizeof *us);
  char name[32], sql[128];
  for (int i = 0; i < NBULK; i++) {
    snprintf(name, sizeof name, "u%d", i);
    us[i] = new_user(o, name, i % 3 ? "Full Name" : NULL);
    ASSERT_OK(uvsql_session_add(s, us[i]), (uvsql_error_t *)NULL);
  }
  log_clear(&o->log);
  uint64_t before = uvsql_session_statement_count(s);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  /* batches of insert_batch_rows (1000 rows, 2000 parameters): 100 INSERTs, plus the BEGIN */
  ASSERT_INT_EQ(log_count(&o->log, "INSERT"), NBULK / 1000);
  ASSERT_INT_EQ(uvsql_session_statement_count(s) - before, NBULK / 1000 + 1);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  /* every key is in the right struct: the database's id of "u<i>" is us[i]->id */
  snprintf(sql, sizeof sql, "SELECT id, name FROM %s", o->tu);
  uvsql_result_t *r = query(&o->fx, sql, NULL, 0);
  ASSERT_INT_EQ(uvsql_result_nrows(r), NBULK);
  for (size_t row = 0; row < NBULK; row++) {
    int64_t id;
    const char *n;
    ASSERT_OK(uvsql_result_int64(r, row, 0, &id), (uvsql_error_t *)NULL);
    ASSERT_OK(uvsql_result_text(r, row, 1, &n, NULL), (uvsql_error_t *)NULL);
    int i = atoi(n + 1);
    if (us[i]->id != id)
      FAILF("row %s has id %lld, its struct %lld", n, (long long)id, (long long)us[i]->id);
  }
  uvsql_result_free(r);
  ASSERT_INT_EQ(uvsql_orm_state(us[NBULK - 1]), UVSQL_OBJ_PERSISTENT);
  free(us);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_bulk_insert_pg) {
  bulk_insert(test_pg_url());
}
TEST(orm_bulk_insert_mariadb) {
  bulk_insert(test_mariadb_url());
}
TEST(orm_bulk_insert_sqlite) {
  bulk_insert(test_sqlite_url());
}

/* ------------------------------------------------------------------ failed flush */

static void unique_violation(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  ASSERT_OK(uvsql_session_add(s, new_user(o, "taken", NULL)), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));

  /* 3 rows per INSERT: batches 1 and 2 succeed, batch 3 holds the duplicate, batch 4 follows */
  uvsql_session_options_t opt = UVSQL_SESSION_OPTIONS_INIT;
  opt.insert_batch_rows = 3;
  ASSERT_OK(uvsql_session_new(&s, o->fx.engine, o->reg, &opt), (uvsql_error_t *)NULL);
  user_t *us[12];
  char name[32];
  for (int i = 0; i < 12; i++) {
    snprintf(name, sizeof name, "new%d", i);
    us[i] = new_user(o, i == 7 ? "taken" : name, NULL);
    ASSERT_OK(uvsql_session_add(s, us[i]), (uvsql_error_t *)NULL);
  }
  log_clear(&o->log);
  uvsql_future_t *f = uvsql_session_commit(s, NULL, NULL);
  const uvsql_error_t *err = AWAIT_ERR(f, UVSQL_EINTEGRITY);
  uvsql_future_unref(f);
  ASSERT(log_count(&o->log, "INSERT") >= 3);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tu, NULL), 1); /* nothing of the flush is left */
  ASSERT_INT_EQ(uvsql_orm_state(us[0]), UVSQL_OBJ_PENDING);

  /* the session now demands a rollback */
  f = uvsql_session_flush(s, NULL, NULL);
  err = AWAIT_ERR(f, UVSQL_EINTERFACE);
  ASSERT_STR_CONTAINS(err->message,
                      "This session's transaction has been rolled back due to a previous error. "
                      "Call uvsql_session_rollback() first. Original error (UVSQL_EINTEGRITY): ");
  uvsql_future_unref(f);
  f = uvsql_session_get_int(s, o->users, 1, NULL, NULL);
  AWAIT_ERR(f, UVSQL_EINTERFACE);
  uvsql_future_unref(f);
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_state(us[0]), UVSQL_OBJ_TRANSIENT);
  ASSERT_INT_EQ(us[0]->id, 0); /* the key of the rolled-back INSERT is gone */
  /* fixed, the objects can be added again */
  ASSERT_OK(uvsql_orm_set_text(us[7], &us[7]->name, "new7"), (uvsql_error_t *)NULL);
  void *objs[12];
  memcpy(objs, us, sizeof objs);
  ASSERT_OK(uvsql_session_add_all(s, objs, 12), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&o->fx, o->tu, NULL), 13);
  ASSERT(us[11]->id > 0);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_unique_violation_pg) {
  unique_violation(test_pg_url());
}
TEST(orm_unique_violation_mariadb) {
  unique_violation(test_mariadb_url());
}
TEST(orm_unique_violation_sqlite) {
  unique_violation(test_sqlite_url());
}

/* ------------------------------------------------------------------ dirty tracking, rollback */

static void dirty_and_rollback(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  user_t *u = new_user(o, "mr_krabs", "Eugene Krabs");
  ASSERT_OK(uvsql_session_add(s, u), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));

  /* an unchanged object sends nothing; a value set back to the original sends nothing */
  log_clear(&o->log);
  ASSERT_OK(uvsql_orm_set_text(u, &u->fullname, "Eugene Harold Krabs"), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_set_text(u, &u->fullname, "Eugene Krabs"), (uvsql_error_t *)NULL);
  ASSERT(!uvsql_session_is_modified(s, u));
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(log_count(&o->log, "UPDATE"), 0);

  /* flushed changes, a flushed addition and a flushed deletion are all undone by rollback */
  user_t *plankton = new_user(o, "plankton", "Sheldon J. Plankton");
  ASSERT_OK(uvsql_session_add(s, plankton), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_set_text(u, &u->fullname, "Mr. Krabs"), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_set_null(u, &u->fullname, 0), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  ASSERT(plankton->id > 0);
  ASSERT_INT_EQ(uvsql_orm_state(plankton), UVSQL_OBJ_PERSISTENT);
  ASSERT_OK(uvsql_orm_set_text(u, &u->name, "unflushed"), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  ASSERT_STR_EQ(u->fullname, "Eugene Krabs");
  ASSERT_STR_EQ(u->name, "mr_krabs");
  ASSERT(!uvsql_session_is_modified(s, u));
  ASSERT_INT_EQ(uvsql_orm_state(plankton), UVSQL_OBJ_TRANSIENT);
  ASSERT_INT_EQ(plankton->id, 0);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tu, NULL), 1);

  ASSERT_OK(uvsql_session_delete(s, u), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_state(u), UVSQL_OBJ_DELETED);
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_state(u), UVSQL_OBJ_PERSISTENT);
  uvsql_future_t *f = uvsql_session_get_int(s, o->users, u->id, NULL, NULL);
  ASSERT(AWAIT_OK(f) == u);
  uvsql_future_unref(f);

  /* refresh reads the row again, dropping unflushed changes */
  ASSERT_OK(uvsql_orm_set_text(u, &u->fullname, "scribble"), (uvsql_error_t *)NULL);
  f = uvsql_session_refresh(s, u, NULL, NULL);
  ASSERT(AWAIT_OK(f) == u);
  uvsql_future_unref(f);
  ASSERT_STR_EQ(u->fullname, "Eugene Krabs");

  /* savepoints: the inner rollback undoes only what came after begin_nested */
  user_t *gary = new_user(o, "gary", "Gary the Snail");
  ASSERT_OK(uvsql_session_add(s, gary), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_begin_nested(s, NULL, NULL)); /* flushes gary first */
  ASSERT(gary->id > 0);
  user_t *larry = new_user(o, "larry", "Larry the Lobster");
  ASSERT_OK(uvsql_session_add(s, larry), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_set_text(gary, &gary->fullname, "Gary"), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  await_ok(uvsql_session_rollback(s, NULL, NULL)); /* to the savepoint */
  ASSERT_INT_EQ(uvsql_orm_state(larry), UVSQL_OBJ_TRANSIENT);
  ASSERT_INT_EQ(uvsql_orm_state(gary), UVSQL_OBJ_PERSISTENT);
  ASSERT_STR_EQ(gary->fullname, "Gary the Snail");
  await_ok(uvsql_session_commit(s, NULL, NULL)); /* the outer transaction */
  ASSERT_INT_EQ(count_rows(&o->fx, o->tu, NULL), 2);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_dirty_rollback_pg) {
  dirty_and_rollback(test_pg_url());
}
TEST(orm_dirty_rollback_mariadb) {
  dirty_and_rollback(test_mariadb_url());
}
TEST(orm_dirty_rollback_sqlite) {
  dirty_and_rollback(test_sqlite_url());
}

/* ------------------------------------------------------------------ optimistic concurrency */

static void stale_version(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s1 = session(o), *s2 = session(o);
  doc_t *d = uvsql_orm_new(o->docs);
  ASSERT_OK(uvsql_orm_set_text(d, &d->title, "draft"), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_session_add(s1, d), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s1, NULL, NULL));
  ASSERT_INT_EQ(d->version, 1);
  uvsql_future_t *f = uvsql_session_get_int(s2, o->docs, d->id, NULL, NULL);
  doc_t *d2 = AWAIT_OK(f);
  uvsql_future_unref(f);
  await_ok(uvsql_session_commit(s2, NULL, NULL)); /* ends s2's read transaction */
  ASSERT_INT_EQ(d2->version, 1);

  ASSERT_OK(uvsql_orm_set_text(d, &d->title, "first"), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s1, NULL, NULL));
  ASSERT_INT_EQ(d->version, 2);

  ASSERT_OK(uvsql_orm_set_text(d2, &d2->title, "second"), (uvsql_error_t *)NULL);
  f = uvsql_session_commit(s2, NULL, NULL);
  const uvsql_error_t *err = AWAIT_ERR(f, UVSQL_ESTALE_DATA);
  ASSERT_STR_CONTAINS(err->message, o->td);
  ASSERT_STR_CONTAINS(err->message,
                      "' expected to update 1 row(s); 0 were matched (the row was changed or "
                      "deleted by someone else): roll back the session, reload the object and "
                      "decide again");
  uvsql_future_unref(f);
  await_ok(uvsql_session_rollback(s2, NULL, NULL));
  ASSERT_STR_EQ(d2->title, "draft"); /* back to what it was loaded as */
  ASSERT_INT_EQ(d2->version, 1);

  /* a stale delete fails the same way */
  ASSERT_OK(uvsql_session_delete(s2, d2), (uvsql_error_t *)NULL);
  f = uvsql_session_commit(s2, NULL, NULL);
  err = AWAIT_ERR(f, UVSQL_ESTALE_DATA);
  ASSERT_STR_CONTAINS(err->message, o->td);
  ASSERT_STR_CONTAINS(err->message, "' expected to delete 1 row(s); only 0 were matched (changed "
                                    "or deleted by someone else): roll back the session and "
                                    "reload");
  uvsql_future_unref(f);
  await_ok(uvsql_session_rollback(s2, NULL, NULL));
  /* the fresh copy deletes fine */
  ASSERT_OK(uvsql_session_delete(s1, d), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s1, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&o->fx, o->td, NULL), 0);
  await_ok(uvsql_session_close(s1, NULL, NULL));
  await_ok(uvsql_session_close(s2, NULL, NULL));
  orm_close(o);
}

TEST(orm_stale_version_pg) {
  stale_version(test_pg_url());
}
TEST(orm_stale_version_mariadb) {
  stale_version(test_mariadb_url());
}
TEST(orm_stale_version_sqlite) {
  stale_version(test_sqlite_url());
}

/* ------------------------------------------------------------------ queued operations */

typedef struct {
  int order[8];
  int n;
  int code[8];
} trace_t;

typedef struct {
  trace_t *t;
  int id;
} step_t;

static void traced(uvsql_future_t *f, void *data) {
  step_t *st = data;
  st->t->code[st->t->n] = uvsql_future_error(f) ? uvsql_future_error(f)->code : 0;
  st->t->order[st->t->n++] = st->id;
}

static void queued_in_order(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  trace_t t = {{0}, 0, {0}};
  step_t st[6] = {{&t, 1}, {&t, 2}, {&t, 3}, {&t, 4}, {&t, 5}, {&t, 6}};
  user_t *u = new_user(o, "karen", "Karen Plankton");
  ASSERT_OK(uvsql_session_add(s, u), (uvsql_error_t *)NULL);
  uvsql_core_stmt_t *q = uvsql_orm_select(o->users);
  /* issued at once, without waiting: each runs after the previous one settled */
  uvsql_session_flush(s, traced, &st[0]);
  uvsql_session_execute(s, o->users, q, NULL, 0, traced, &st[1]);
  uvsql_session_get_int(s, o->users, 424242, traced, &st[2]);
  uvsql_session_commit(s, traced, &st[3]);
  uvsql_session_rollback(s, traced, &st[4]);
  uvsql_future_t *last = uvsql_session_commit(s, traced, &st[5]);
  ASSERT_INT_EQ(t.n, 0); /* no callback before the calls return */
  uvsql_future_ref(last);
  AWAIT_OK(last);
  uvsql_future_unref(last);
  ASSERT_INT_EQ(t.n, 6);
  for (int i = 0; i < 6; i++) {
    ASSERT_INT_EQ(t.order[i], i + 1);
    ASSERT_INT_EQ(t.code[i], 0);
  }
  ASSERT(u->id > 0);
  uvsql_core_stmt_free(q);
  /* after close, operations fail with UVSQL_ECLOSED */
  uvsql_future_t *c = uvsql_session_close(s, NULL, NULL);
  uvsql_future_t *late = uvsql_session_flush(s, NULL, NULL);
  AWAIT_ERR(late, UVSQL_ECLOSED);
  uvsql_future_unref(late);
  await_ok(c);
  orm_close(o);
}

TEST(orm_queued_in_order_pg) {
  queued_in_order(test_pg_url());
}
TEST(orm_queued_in_order_mariadb) {
  queued_in_order(test_mariadb_url());
}
TEST(orm_queued_in_order_sqlite) {
  queued_in_order(test_sqlite_url());
}

/* ------------------------------------------------------------------ close from a callback */

/* A server closes a request's session from the callback of its last operation: the close is
 * queued while the commit's callback runs, runs at once after it, and frees the session;
 * nothing may touch the session afterwards (a deferred run of the queue did: ASan and
 * valgrind caught it). */
typedef struct {
  uvsql_session_t *s;
  int committed, closed;
} close_cb_t;

static void closed_in_cb(uvsql_future_t *f, void *data) {
  close_cb_t *c = data;
  ASSERT_INT_EQ(uvsql_future_state(f), UVSQL_FUTURE_RESOLVED);
  c->closed++;
}

static void commit_then_close(uvsql_future_t *f, void *data) {
  close_cb_t *c = data;
  ASSERT_INT_EQ(uvsql_future_state(f), UVSQL_FUTURE_RESOLVED);
  c->committed++;
  uvsql_session_close(c->s, closed_in_cb, c);
}

static void close_from_callback(const char *url) {
  orm_t *o = orm_open(url);
  close_cb_t c = {session(o), 0, 0};
  ASSERT_OK(uvsql_session_add(c.s, new_user(o, "sandy", "Sandy Cheeks")), (uvsql_error_t *)NULL);
  uvsql_session_commit(c.s, commit_then_close, &c);
  while (!c.closed)
    uv_run(o->fx.loop, UV_RUN_ONCE);
  uv_run(o->fx.loop, UV_RUN_NOWAIT); /* whatever was deferred runs now */
  ASSERT_INT_EQ(c.committed, 1);
  ASSERT_INT_EQ(c.closed, 1);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tu, NULL), 1);
  orm_close(o);
}

TEST(orm_close_from_commit_callback_pg) {
  close_from_callback(test_pg_url());
}
TEST(orm_close_from_commit_callback_mariadb) {
  close_from_callback(test_mariadb_url());
}
TEST(orm_close_from_commit_callback_sqlite) {
  close_from_callback(test_sqlite_url());
}
