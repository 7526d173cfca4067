/* tests/test_orm_cancel.c — uvsql_future_cancel of session operations, on PostgreSQL, MariaDB
 * and SQLite (src/orm/session.c invariant 7): a future never says "cancelled" for work that
 * was done. A commit cancelled before it started is withdrawn (nothing written, the object
 * still pending, a later commit writes it); one cancelled while its flush runs rolls back
 * before COMMIT is sent (UVSQL_ECANCELLED, nothing written, the session wants a rollback);
 * one cancelled after its COMMIT (from after_commit) resolves: the row is there. */
#include "orm_ev_fixture.h"

static ev_item_t *new_item(evfx_t *e, int64_t id, const char *name) {
  ev_item_t *it = uvsql_orm_new(e->items);
  ASSERT_OK(uvsql_orm_set_int64(it, &it->id, id), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_set_text(it, &it->name, name), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_set_int64(it, &it->qty, id), (uvsql_error_t *)NULL);
  return it;
}

static int64_t rows(evfx_t *e) {
  return count_rows(&e->fx, e->ti, NULL);
}

/* A listener that cancels the commit whose future is in *data, once. */
typedef struct {
  uvsql_future_t *f;
  int calls, rc;
} canceller_t;

static int cancel_it(uvsql_session_t *s, unsigned ev, void *obj, void *data, uvsql_error_t *err) {
  (void)s, (void)ev, (void)obj, (void)err;
  canceller_t *c = data;
  if (c->f && c->calls++ == 0)
    c->rc = uvsql_future_cancel(c->f);
  return 0;
}

static void cancelled_commits(const char *url) {
  evfx_t *e = evfx_open(url);
  uvsql_session_t *s = evsession(e);

  /* 1. cancelled before it started: withdrawn, nothing sent */
  ev_item_t *a = new_item(e, 1, "a");
  ASSERT_OK(uvsql_session_add(s, a), NULL);
  uvsql_future_t *f = uvsql_session_commit(s, NULL, NULL);
  ASSERT_INT_EQ(uvsql_future_cancel(f), 0);
  const uvsql_error_t *err = AWAIT_ERR(f, UVSQL_ECANCELLED);
  ASSERT_STR_EQ(err->message, "cancelled by the caller");
  uvsql_future_unref(f);
  ASSERT_INT_EQ(e->log.n, 0); /* not even BEGIN */
  ASSERT_INT_EQ(rows(e), 0);
  ASSERT(uvsql_session_is_modified(s, a)); /* still pending: the next commit writes it */
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(rows(e), 1);

  /* a queued operation behind a running one is withdrawn alone */
  ev_item_t *b = new_item(e, 2, "b");
  ASSERT_OK(uvsql_session_add(s, b), NULL);
  uvsql_future_t *fl = uvsql_session_flush(s, NULL, NULL);
  uvsql_future_t *cm = uvsql_session_commit(s, NULL, NULL);
  uvsql_future_t *cm2 = uvsql_session_commit(s, NULL, NULL);
  ASSERT_INT_EQ(uvsql_future_cancel(cm), 0);
  AWAIT_OK(fl);
  AWAIT_ERR(cm, UVSQL_ECANCELLED);
  AWAIT_OK(cm2);
  uvsql_future_unref(fl), uvsql_future_unref(cm), uvsql_future_unref(cm2);
  ASSERT_INT_EQ(rows(e), 2);

  /* 2. cancelled while its flush runs (from before_insert): rolled back before COMMIT */
  canceller_t c = {0};
  uvsql_error_t e2;
  ASSERT_OK(uvsql_session_on(s, UVSQL_EV_BEFORE_INSERT, cancel_it, &c, &e2), &e2);
  ev_item_t *d = new_item(e, 3, "c");
  ASSERT_OK(uvsql_session_add(s, d), NULL);
  log_clear(&e->log);
  c.f = uvsql_session_commit(s, NULL, NULL);
  err = AWAIT_ERR(c.f, UVSQL_ECANCELLED);
  ASSERT_INT_EQ(c.rc, 0);
  ASSERT_STR_EQ(err->message, "cancelled by the caller before COMMIT was sent: the transaction "
                              "was rolled back; call uvsql_session_rollback() before using the "
                              "session again");
  ASSERT_INT_EQ(log_count(&e->log, "COMMIT"), 0);
  ASSERT_INT_EQ(log_count(&e->log, "ROLLBACK"), 1);
  uvsql_future_unref(c.f);
  ASSERT_INT_EQ(rows(e), 2);
  f = uvsql_session_flush(s, NULL, NULL); /* SQLAlchemy's PendingRollbackError */
  err = AWAIT_ERR(f, UVSQL_EINTERFACE);
  ASSERT_STR_CONTAINS(err->message, "Call uvsql_session_rollback() first");
  uvsql_future_unref(f);
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  evsession_close(s);

  /* 3. cancelled after its COMMIT (from after_commit): the work was done, it resolves */
  s = evsession(e);
  canceller_t late = {0};
  ASSERT_OK(uvsql_session_on(s, UVSQL_EV_AFTER_COMMIT, cancel_it, &late, &e2), &e2);
  ev_item_t *g = new_item(e, 4, "d");
  ASSERT_OK(uvsql_session_add(s, g), NULL);
  late.f = uvsql_session_commit(s, NULL, NULL);
  AWAIT_OK(late.f);
  ASSERT_INT_EQ(late.calls, 1);
  ASSERT_INT_EQ(late.rc, 0);
  ASSERT_INT_EQ(uvsql_future_state(late.f), UVSQL_FUTURE_RESOLVED);
  uvsql_future_unref(late.f);
  ASSERT_INT_EQ(rows(e), 3);
  ASSERT_INT_EQ(evfx_col(e, "qty", 4), 4);
  evsession_close(s);
  evfx_close(e);
}

TEST(orm_cancel_commit_pg) {
  cancelled_commits(test_pg_url());
}
TEST(orm_cancel_commit_mariadb) {
  cancelled_commits(test_mariadb_url());
}
TEST(orm_cancel_commit_sqlite) {
  cancelled_commits(test_sqlite_url());
}
