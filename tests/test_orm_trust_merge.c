/* tests/test_orm_trust_merge.c — merge and NULL handling checked against the rows, on
 * PostgreSQL, MariaDB and SQLite (SQLAlchemy's Session.merge and expire semantics):
 *  - a detached object whose values expired (a commit expired it, then it was expunged) merges
 *    only what the program changed after the expiry: a change another transaction made to
 *    the row in between is kept, not silently written back to the stale value;
 *  - NULL and unset differ through merge (explicit NULL is written, unset keeps the row's value)
 *    and through refresh (a row's NULL becomes NULL, a value clears the NULL mark).
 * Each behaviour is one function taking a URL; each backend one TEST. */
#include "orm_ev_fixture.h"

static void *await_obj(uvsql_future_t *f) {
  void *obj = AWAIT_OK(f);
  uvsql_future_unref(f);
  return obj;
}

static void merge_expired_detached(const char *url) {
  evfx_t *e = evfx_open(url);
  evfx_fill(e, 3);
  uvsql_session_t *s1 = evsession(e);
  ev_item_t *x = await_obj(uvsql_session_get_int(s1, e->items, 1, NULL, NULL));
  await_ok(uvsql_session_commit(s1, NULL, NULL)); /* expire_on_commit: x's values expired */
  ASSERT_INT_EQ(uvsql_orm_is_expired(x), 1);
  ASSERT_OK(uvsql_session_expunge(s1, x), NULL);
  evsession_close(s1);
  /* another transaction changes the row meanwhile */
  char sql[160];
  snprintf(sql, sizeof sql, "UPDATE %s SET name = 'other', qty = 20 WHERE id = 1", e->ti);
  exec_ok(&e->fx, sql);
  x->updated_at = 99; /* the program's own change, after the expiry */
  uvsql_session_t *s = evsession(e);
  ev_item_t *p = await_obj(uvsql_session_merge(s, x, NULL, NULL));
  uvsql_orm_free(x);
  ASSERT_INT_EQ(uvsql_orm_state(p), UVSQL_OBJ_PERSISTENT);
  ASSERT_STR_EQ(p->name, "other"); /* the row's: x's "n1" had expired */
  ASSERT_INT_EQ(p->qty, 20);
  ASSERT_INT_EQ(p->updated_at, 99);
  log_clear(&e->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(log_count(&e->log, "UPDATE"), 1);
  const char *up = log_find(&e->log, "UPDATE");
  ASSERT_STR_CONTAINS(up, "SET updated_at = ");
  ASSERT(!strstr(up, "name") && !strstr(up, "qty"));
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti,
                           "id = 1 AND name = 'other' AND qty = 20 AND "
                           "updated_at = 99"),
                1);
  evsession_close(s);
  evfx_close(e);
}

TEST(orm_trust_merge_expired_detached_keeps_newer_row_pg) {
  merge_expired_detached(test_pg_url());
}
TEST(orm_trust_merge_expired_detached_keeps_newer_row_mariadb) {
  merge_expired_detached(test_mariadb_url());
}
TEST(orm_trust_merge_expired_detached_keeps_newer_row_sqlite) {
  merge_expired_detached(test_sqlite_url());
}

static void null_vs_unset(const char *url) {
  evfx_t *e = evfx_open(url);
  evfx_fill(e, 3);
  uvsql_session_t *s = evsession(e);
  /* a new object with key 2: qty explicitly NULL, name unset */
  ev_item_t *d = uvsql_orm_new(e->items);
  d->id = 2;
  ASSERT_OK(uvsql_orm_set_null(d, &d->qty, 1), NULL);
  ev_item_t *p = await_obj(uvsql_session_merge(s, d, NULL, NULL));
  uvsql_orm_free(d);
  ASSERT_STR_EQ(p->name, "n2");
  ASSERT_INT_EQ(uvsql_orm_is_null(p, &p->qty), 1);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, "id = 2 AND name = 'n2' AND qty IS NULL"), 1);
  /* merged again with qty unset: the NULL stays */
  d = uvsql_orm_new(e->items);
  d->id = 2;
  ASSERT_OK(uvsql_orm_set_text(d, &d->name, "two"), NULL);
  p = await_obj(uvsql_session_merge(s, d, NULL, NULL));
  uvsql_orm_free(d);
  ASSERT_STR_EQ(p->name, "two");
  ASSERT_INT_EQ(uvsql_orm_is_null(p, &p->qty), 1);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, "id = 2 AND name = 'two' AND qty IS NULL"), 1);
  /* a value from the database clears the NULL mark on refresh, and a NULL sets it */
  char sql[160];
  snprintf(sql, sizeof sql, "UPDATE %s SET qty = 0 WHERE id = 2", e->ti);
  exec_ok(&e->fx, sql);
  await_obj(uvsql_session_refresh(s, p, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_is_null(p, &p->qty), 0);
  ASSERT_INT_EQ(p->qty, 0);
  snprintf(sql, sizeof sql, "UPDATE %s SET qty = NULL WHERE id = 2", e->ti);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  exec_ok(&e->fx, sql);
  await_obj(uvsql_session_refresh(s, p, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_is_null(p, &p->qty), 1);
  /* setting 0 on the NULL field writes 0, not NULL; setting NULL on 3 writes NULL */
  ASSERT_OK(uvsql_orm_set_int64(p, &p->qty, 0), NULL);
  ASSERT_INT_EQ(uvsql_orm_is_null(p, &p->qty), 0);
  ev_item_t *t = await_obj(uvsql_session_get_int(s, e->items, 3, NULL, NULL));
  ASSERT_OK(uvsql_orm_set_null(t, &t->qty, 1), NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, "id = 2 AND qty = 0"), 1);
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, "id = 3 AND qty IS NULL AND name = 'n3'"), 1);
  evsession_close(s);
  evfx_close(e);
}

TEST(orm_trust_null_vs_unset_merge_refresh_pg) {
  null_vs_unset(test_pg_url());
}
TEST(orm_trust_null_vs_unset_merge_refresh_mariadb) {
  null_vs_unset(test_mariadb_url());
}
TEST(orm_trust_null_vs_unset_merge_refresh_sqlite) {
  null_vs_unset(test_sqlite_url());
}
