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

/* A versioned model: merge of an object read at version 1 after another transaction wrote
 * version 2 fails as SQLAlchemy's merge does (StaleDataError), rather than writing the old
 * read's values over the newer row; with the version left unset it updates the latest. */
#define VER_FIELDS(X)                                                                              \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(40), 0)                                                                           \
  X(version, INT64, UVSQL_VERSION_ID)
UVSQL_MODEL(ver_t, "otr_ver", VER_FIELDS)

static void merge_stale_version(const char *url) {
  fixture_t fx = fixture_open(url, NULL);
  char tv[64], sql[200];
  uvsql_error_t err;
  snprintf(tv, sizeof tv, "%s", test_unique_name("otr_ver"));
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_mapper_t *vm = uvsql_registry_map_table(reg, ver_t_model(), tv, &err);
  ASSERT(vm);
  await_ok(uvsql_metadata_create_all(uvsql_registry_metadata(reg), fx.engine, NULL, NULL));
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, fx.engine, reg, NULL), NULL);
  ver_t *v = uvsql_orm_new(vm);
  v->id = 1;
  ASSERT_OK(uvsql_orm_set_text(v, &v->name, "first"), NULL);
  ASSERT_OK(uvsql_session_add(s, v), NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(v->version, 1);
  /* read at version 1 (a detached copy), then someone else writes version 2 */
  await_obj(uvsql_session_refresh(s, v, NULL, NULL));
  ASSERT_OK(uvsql_session_expunge(s, v), NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL)); /* the next merge reads in a new transaction */
  snprintf(sql, sizeof sql, "UPDATE %s SET name = 'theirs', version = 2 WHERE id = 1", tv);
  exec_ok(&fx, sql);
  ASSERT_OK(uvsql_orm_set_text(v, &v->name, "mine"), NULL);
  uvsql_future_t *f = uvsql_session_merge(s, v, NULL, NULL);
  const uvsql_error_t *fe = AWAIT_ERR(f, UVSQL_ESTALE_DATA);
  ASSERT_STR_EQ(fe->message,
                "uvsql_session_merge: the merged ver_t has version 1 but its row has version 2 "
                "(written since the object was read): reload it and decide again, or leave the "
                "version field unset to update the latest version");
  uvsql_future_unref(f);
  await_ok(uvsql_session_commit(s, NULL, NULL)); /* the transaction is usable: no rollback */
  ASSERT_INT_EQ(count_rows(&fx, tv, "id = 1 AND name = 'theirs' AND version = 2"), 1);
  /* the version unset: the latest row is updated (and its version bumped) */
  ver_t *n = uvsql_orm_new(vm);
  n->id = 1;
  ASSERT_OK(uvsql_orm_set_text(n, &n->name, "mine"), NULL);
  ver_t *p = await_obj(uvsql_session_merge(s, n, NULL, NULL));
  uvsql_orm_free(n);
  ASSERT_INT_EQ(p->version, 2);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&fx, tv, "id = 1 AND name = 'mine' AND version = 3"), 1);
  uvsql_orm_free(v);
  await_ok(uvsql_session_close(s, NULL, NULL));
  await_ok(uvsql_metadata_drop_all(uvsql_registry_metadata(reg), fx.engine, NULL, NULL));
  uvsql_registry_free(reg);
  fixture_close(&fx);
}

TEST(orm_trust_merge_stale_version_fails_pg) {
  merge_stale_version(test_pg_url());
}
TEST(orm_trust_merge_stale_version_fails_mariadb) {
  merge_stale_version(test_mariadb_url());
}
TEST(orm_trust_merge_stale_version_fails_sqlite) {
  merge_stale_version(test_sqlite_url());
}
