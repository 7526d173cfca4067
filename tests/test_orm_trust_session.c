/* tests/test_orm_trust_session.c — session basics checked against the rows, on PostgreSQL,
 * MariaDB and SQLite:
 *  - a row deleted and a new object of the same key added: in two flushes the identity map
 *    answers the new object and the row is the new one; in one flush the result is either
 *    the new row or an error, never the old row or none;
 *  - refresh discards unflushed changes (nothing written by the next commit);
 *  - an after_insert / after_update listener that changes its object: the change is not
 *    marked clean without being written (it is written by the next flush).
 * Each behaviour is one function taking a URL; each backend one TEST. */
#include "orm_ev_fixture.h"

static void *await_obj(uvsql_future_t *f) {
  void *obj = AWAIT_OK(f);
  uvsql_future_unref(f);
  return obj;
}

static ev_item_t *item(evfx_t *e, int64_t id, const char *name, int64_t qty) {
  ev_item_t *it = uvsql_orm_new(e->items);
  ASSERT_OK(uvsql_orm_set_int64(it, &it->id, id), NULL);
  ASSERT_OK(uvsql_orm_set_text(it, &it->name, name), NULL);
  ASSERT_OK(uvsql_orm_set_int64(it, &it->qty, qty), NULL);
  return it;
}

static void delete_then_reinsert(const char *url) {
  evfx_t *e = evfx_open(url);
  evfx_fill(e, 3);
  uvsql_session_t *s = evsession(e);
  /* two flushes */
  ev_item_t *old = await_obj(uvsql_session_get_int(s, e->items, 2, NULL, NULL));
  ASSERT_OK(uvsql_session_delete(s, old), NULL);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_state(old), UVSQL_OBJ_DELETED);
  ev_item_t *nw = item(e, 2, "again", 20);
  ASSERT_OK(uvsql_session_add(s, nw), NULL);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  ASSERT(await_obj(uvsql_session_get_int(s, e->items, 2, NULL, NULL)) == nw);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, "id = 2 AND name = 'again' AND qty = 20"), 1);
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, NULL), 3);
  ASSERT_INT_EQ(uvsql_orm_state(old), UVSQL_OBJ_DETACHED);
  ASSERT_INT_EQ(uvsql_orm_state(nw), UVSQL_OBJ_PERSISTENT);
  ASSERT(await_obj(uvsql_session_get_int(s, e->items, 2, NULL, NULL)) == nw);
  ASSERT_STR_EQ(nw->name, "again");

  /* one flush: the delete of 3 and the new 3 together */
  ev_item_t *three = await_obj(uvsql_session_get_int(s, e->items, 3, NULL, NULL));
  ASSERT_OK(uvsql_session_delete(s, three), NULL);
  ev_item_t *n3 = item(e, 3, "three", 30);
  ASSERT_OK(uvsql_session_add(s, n3), NULL);
  uvsql_future_t *f = uvsql_session_commit(s, NULL, NULL);
  if (uvsql_future_wait(f) == 0) { /* the new row */
    uvsql_future_unref(f);
    ASSERT_INT_EQ(count_rows(&e->fx, e->ti, "id = 3 AND name = 'three' AND qty = 30"), 1);
    ASSERT_INT_EQ(uvsql_orm_state(n3), UVSQL_OBJ_PERSISTENT);
    ASSERT(await_obj(uvsql_session_get_int(s, e->items, 3, NULL, NULL)) == n3);
  } else { /* or an error, and the old row as it was */
    ASSERT_INT_EQ(uvsql_future_error(f)->code, UVSQL_EINTEGRITY);
    uvsql_future_unref(f);
    await_ok(uvsql_session_rollback(s, NULL, NULL));
    ASSERT_INT_EQ(count_rows(&e->fx, e->ti, "id = 3 AND name = 'n3' AND qty = 3"), 1);
    ASSERT_INT_EQ(uvsql_orm_state(n3), UVSQL_OBJ_TRANSIENT);
    ASSERT_INT_EQ(uvsql_orm_state(three), UVSQL_OBJ_PERSISTENT);
    ASSERT(await_obj(uvsql_session_get_int(s, e->items, 3, NULL, NULL)) == three);
    ASSERT_STR_EQ(three->name, "n3");
    uvsql_orm_free(n3);
  }
  evsession_close(s);
  evfx_close(e);
}

TEST(orm_trust_delete_then_reinsert_same_key_pg) {
  delete_then_reinsert(test_pg_url());
}
TEST(orm_trust_delete_then_reinsert_same_key_mariadb) {
  delete_then_reinsert(test_mariadb_url());
}
TEST(orm_trust_delete_then_reinsert_same_key_sqlite) {
  delete_then_reinsert(test_sqlite_url());
}

static void refresh_discards(const char *url) {
  evfx_t *e = evfx_open(url);
  evfx_fill(e, 2);
  uvsql_session_t *s = evsession(e);
  ev_item_t *x = await_obj(uvsql_session_get_int(s, e->items, 1, NULL, NULL));
  x->qty = 9;
  ASSERT_OK(uvsql_orm_set_text(x, &x->name, "unsaved"), NULL);
  char sql[160];
  snprintf(sql, sizeof sql, "UPDATE %s SET updated_at = 5 WHERE id = 1", e->ti);
  await_ok(uvsql_session_commit(s, NULL, NULL)); /* writes qty 9, name unsaved */
  exec_ok(&e->fx, sql);
  x->qty = 10; /* not flushed */
  log_clear(&e->log);
  ASSERT(await_obj(uvsql_session_refresh(s, x, NULL, NULL)) == x);
  ASSERT_INT_EQ(log_count(&e->log, "UPDATE"), 0); /* no autoflush before a refresh */
  ASSERT_INT_EQ(x->qty, 9);
  ASSERT_INT_EQ(x->updated_at, 5);
  ASSERT_STR_EQ(x->name, "unsaved");
  ASSERT_INT_EQ(uvsql_session_is_modified(s, x), 0);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(log_count(&e->log, "UPDATE"), 0);
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, "id = 1 AND qty = 9 AND updated_at = 5"), 1);
  evsession_close(s);
  evfx_close(e);
}

TEST(orm_trust_refresh_discards_unflushed_changes_pg) {
  refresh_discards(test_pg_url());
}
TEST(orm_trust_refresh_discards_unflushed_changes_mariadb) {
  refresh_discards(test_mariadb_url());
}
TEST(orm_trust_refresh_discards_unflushed_changes_sqlite) {
  refresh_discards(test_sqlite_url());
}

/* after_insert / after_update: stamps updated_at = 77 on its object */
static int late_stamp(uvsql_session_t *s, unsigned ev, void *obj, void *data, uvsql_error_t *err) {
  (void)s;
  (void)ev;
  (void)data;
  (void)err;
  ev_item_t *it = obj;
  return uvsql_orm_set_int64(it, &it->updated_at, 77);
}

static void after_events_change(const char *url) {
  evfx_t *e = evfx_open(url);
  evfx_fill(e, 1);
  uvsql_error_t err;
  ASSERT_OK(uvsql_mapper_on(e->items, UVSQL_EV_AFTER_INSERT | UVSQL_EV_AFTER_UPDATE, late_stamp,
                            NULL, &err),
            &err);
  uvsql_session_t *s = evsession(e);
  ev_item_t *n = item(e, 5, "five", 5);
  ASSERT_OK(uvsql_session_add(s, n), NULL);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  ASSERT_INT_EQ(n->updated_at, 77);
  /* the listener's value was not in the INSERT: it is pending, not lost */
  ASSERT_INT_EQ(uvsql_session_is_modified(s, n), 1);
  ev_item_t *x = await_obj(uvsql_session_get_int(s, e->items, 1, NULL, NULL)); /* autoflush */
  ASSERT_INT_EQ(uvsql_session_is_modified(s, n), 0);
  x->qty = 100;
  await_ok(uvsql_session_flush(s, NULL, NULL));
  ASSERT_INT_EQ(x->updated_at, 77);
  ASSERT_INT_EQ(uvsql_session_is_modified(s, x), 1); /* nor in the UPDATE */
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, "id = 5 AND qty = 5 AND updated_at = 77"), 1);
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, "id = 1 AND qty = 100 AND updated_at = 77"), 1);
  evsession_close(s);
  evfx_close(e);
}

TEST(orm_trust_after_insert_update_changes_are_written_pg) {
  after_events_change(test_pg_url());
}
TEST(orm_trust_after_insert_update_changes_are_written_mariadb) {
  after_events_change(test_mariadb_url());
}
TEST(orm_trust_after_insert_update_changes_are_written_sqlite) {
  after_events_change(test_sqlite_url());
}
