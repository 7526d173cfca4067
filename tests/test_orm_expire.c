/* tests/test_orm_expire.c — expiry on PostgreSQL, MariaDB and SQLite: after a commit
 * (expire_on_commit) a re-query shows what another connection wrote; a get of an expired
 * object SELECTs it again; a Core UPDATE in the same transaction shows up through
 * populate_existing (execute and ORM query) or through uvsql_session_expire; expire discards
 * unflushed changes, changes made after the expiry survive the reload as pending changes;
 * the queue of 100,000 gets answered by the identity map runs in a loop, not on the stack.
 * Each behaviour is one function taking a URL; each backend one TEST. */
#include <time.h>
#include "orm_fixture.h"

static void *await_val(uvsql_future_t *f) {
  void *v = AWAIT_OK(f);
  uvsql_future_unref(f);
  return v;
}

/* Runs an ORM select of all users ordered by id (opt may be NULL); returns the first. */
static user_t *query_first(orm_t *o, uvsql_session_t *s, const uvsql_exec_options_t *opt) {
  uvsql_core_stmt_t *sel = uvsql_orm_select(o->users);
  uvsql_select_order_by(sel, uvsql_mapper_col(o->users, "id"));
  uvsql_future_t *f = uvsql_session_execute_opts(s, o->users, sel, NULL, 0, opt, NULL, NULL);
  uvsql_orm_result_t *r = AWAIT_OK(f);
  user_t *u = uvsql_orm_result_first(r);
  uvsql_future_unref(f);
  uvsql_core_stmt_free(sel);
  return u;
}

/* ------------------------------------------------------------------ after a commit */

static void stale_after_commit(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  user_t *u = new_user(o, "spongebob", "Spongebob Squarepants");
  ASSERT_OK(uvsql_session_add(s, u), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_is_expired(u), 1);
  ASSERT_STR_EQ(u->fullname, "Spongebob Squarepants"); /* the last values, until loaded */

  /* another connection changes the row */
  char sql[200];
  snprintf(sql, sizeof sql, "UPDATE %s SET fullname = 'Sponge Bob' WHERE id = %lld", o->tu,
           (long long)u->id);
  exec_ok(&o->fx, sql);
  ASSERT(query_first(o, s, NULL) == u); /* the same object, re-read */
  ASSERT_STR_EQ(u->fullname, "Sponge Bob");
  ASSERT_INT_EQ(uvsql_orm_is_expired(u), 0);
  ASSERT_INT_EQ(uvsql_session_is_modified(s, u), 0);
  await_ok(uvsql_session_close(s, NULL, NULL));

  /* expire_on_commit off: the object keeps what it had (SQLAlchemy's expire_on_commit=False) */
  uvsql_session_options_t opt = UVSQL_SESSION_OPTIONS_INIT;
  opt.expire_on_commit = 0;
  ASSERT_OK(uvsql_session_new(&s, o->fx.engine, o->reg, &opt), (uvsql_error_t *)NULL);
  u = query_first(o, s, NULL);
  ASSERT_STR_EQ(u->fullname, "Sponge Bob");
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_is_expired(u), 0);
  snprintf(sql, sizeof sql, "UPDATE %s SET fullname = 'Third' WHERE id = %lld", o->tu,
           (long long)u->id);
  exec_ok(&o->fx, sql);
  ASSERT(query_first(o, s, NULL) == u);
  ASSERT_STR_EQ(u->fullname, "Sponge Bob");
  /* ... until populate_existing asks for the row's values */
  uvsql_exec_options_t xo = UVSQL_EXEC_OPTIONS_INIT;
  xo.populate_existing = 1;
  ASSERT(query_first(o, s, &xo) == u);
  ASSERT_STR_EQ(u->fullname, "Third");
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_expire_stale_after_commit_pg) {
  stale_after_commit(test_pg_url());
}
TEST(orm_expire_stale_after_commit_mariadb) {
  stale_after_commit(test_mariadb_url());
}
TEST(orm_expire_stale_after_commit_sqlite) {
  stale_after_commit(test_sqlite_url());
}

/* ------------------------------------------------------------------ get of an expired object */

static void get_reselects(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  user_t *u = new_user(o, "sandy", "Sandy Cheeks");
  ASSERT_OK(uvsql_session_add(s, u), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  char sql[200];
  snprintf(sql, sizeof sql, "UPDATE %s SET fullname = 'Sandy C.' WHERE id = %lld", o->tu,
           (long long)u->id);
  exec_ok(&o->fx, sql);
  log_clear(&o->log);
  ASSERT(await_val(uvsql_session_get_int(s, o->users, u->id, NULL, NULL)) == u);
  ASSERT_INT_EQ(log_count(&o->log, "SELECT"), 1); /* expired: read again */
  ASSERT_STR_EQ(u->fullname, "Sandy C.");
  ASSERT(await_val(uvsql_session_get_int(s, o->users, u->id, NULL, NULL)) == u);
  ASSERT_INT_EQ(log_count(&o->log, "SELECT"), 1); /* loaded now: the identity map answers */

  /* the row is gone: the get says so */
  await_ok(uvsql_session_commit(s, NULL, NULL));
  snprintf(sql, sizeof sql, "DELETE FROM %s WHERE id = %lld", o->tu, (long long)u->id);
  exec_ok(&o->fx, sql);
  ASSERT(await_val(uvsql_session_get_int(s, o->users, u->id, NULL, NULL)) == NULL);

  /* a rollback expires too (what the database holds is read again) */
  user_t *p = new_user(o, "patrick", "Patrick Star");
  ASSERT_OK(uvsql_session_add(s, p), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT(await_val(uvsql_session_get_int(s, o->users, p->id, NULL, NULL)) == p);
  ASSERT_INT_EQ(uvsql_orm_is_expired(p), 0);
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_is_expired(p), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_expire_get_reselects_pg) {
  get_reselects(test_pg_url());
}
TEST(orm_expire_get_reselects_mariadb) {
  get_reselects(test_mariadb_url());
}
TEST(orm_expire_get_reselects_sqlite) {
  get_reselects(test_sqlite_url());
}

/* ------------------------------------------------------------------ a Core UPDATE in the same
 * transaction */

static void core_update_same_tx(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  ASSERT_OK(uvsql_session_add(s, new_user(o, "squidward", "Squidward Tentacles")),
            (uvsql_error_t *)NULL);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  user_t *u = query_first(o, s, NULL);
  ASSERT_STR_EQ(u->fullname, "Squidward Tentacles");

  /* a Core UPDATE in the session's transaction, objects left alone */
  uvsql_core_stmt_t *up = uvsql_update(uvsql_mapper_table(o->users));
  uvsql_update_set(up, "fullname", uvsql_bindparam(up, "f"));
  uvsql_where(up, uvsql_eq(up, uvsql_mapper_col(o->users, "id"), uvsql_lit_int64(up, u->id)));
  uvsql_exec_options_t none = UVSQL_EXEC_OPTIONS_INIT;
  none.synchronize_session = UVSQL_SYNC_NONE;
  uvsql_param_t p = UVSQL_P("f", UVSQL_V_TEXT("Mr. Tentacles"));
  uvsql_future_t *f = uvsql_session_execute_core(s, up, &p, 1, &none, NULL, NULL);
  uvsql_result_t *r = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_result_rows_affected(r), 1);
  uvsql_future_unref(f);
  ASSERT_STR_EQ(u->fullname, "Squidward Tentacles");
  ASSERT(query_first(o, s, NULL) == u);
  ASSERT_STR_EQ(u->fullname, "Squidward Tentacles"); /* not expired: kept as it is */

  /* populate_existing on an ORM query */
  uvsql_error_t err;
  uvsql_orm_query_t *q = uvsql_orm_query(o->users, NULL, 0, &err);
  ASSERT(q);
  ASSERT(uvsql_orm_query_populate_existing(q, 1) == q);
  f = uvsql_session_execute_query(s, q, NULL, 0, NULL, NULL);
  ASSERT(uvsql_orm_result_first(AWAIT_OK(f)) == u);
  uvsql_future_unref(f);
  ASSERT_STR_EQ(u->fullname, "Mr. Tentacles");
  ASSERT_INT_EQ(uvsql_session_is_modified(s, u), 0);

  /* expire, then a get in the same transaction re-selects */
  p = UVSQL_P("f", UVSQL_V_TEXT("Squiddy"));
  f = uvsql_session_execute_core(s, up, &p, 1, &none, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT_OK(uvsql_session_expire(s, u), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(uvsql_orm_is_expired(u), 1);
  ASSERT(await_val(uvsql_session_get_int(s, o->users, u->id, NULL, NULL)) == u);
  ASSERT_STR_EQ(u->fullname, "Squiddy");

  /* expire_all + the ORM query without populate_existing: expired objects are overwritten */
  p = UVSQL_P("f", UVSQL_V_TEXT("Squidward Q. Tentacles"));
  f = uvsql_session_execute_core(s, up, &p, 1, &none, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT_OK(uvsql_session_expire_all(s), (uvsql_error_t *)NULL);
  ASSERT(uvsql_orm_query_populate_existing(q, 0) == q);
  f = uvsql_session_execute_query(s, q, NULL, 0, NULL, NULL);
  ASSERT(uvsql_orm_result_first(AWAIT_OK(f)) == u);
  uvsql_future_unref(f);
  ASSERT_STR_EQ(u->fullname, "Squidward Q. Tentacles");
  uvsql_orm_query_free(q);
  uvsql_core_stmt_free(up);

  /* only persistent objects expire */
  user_t *t = new_user(o, "transient", NULL);
  ASSERT_ERR(uvsql_session_expire(s, t), UVSQL_EINVALID_ARGUMENT);
  ASSERT_INT_EQ(uvsql_orm_is_expired(t), 0);
  uvsql_orm_free(t);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_expire_core_update_same_tx_pg) {
  core_update_same_tx(test_pg_url());
}
TEST(orm_expire_core_update_same_tx_mariadb) {
  core_update_same_tx(test_mariadb_url());
}
TEST(orm_expire_core_update_same_tx_sqlite) {
  core_update_same_tx(test_sqlite_url());
}

/* ------------------------------------------------------------------ changes and expiry */

static void changes_and_expiry(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_options_t opt = UVSQL_SESSION_OPTIONS_INIT;
  opt.autoflush = 0; /* so that the reload meets the pending change */
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, o->fx.engine, o->reg, &opt), (uvsql_error_t *)NULL);
  user_t *u = new_user(o, "gary", "Gary the Snail");
  ASSERT_OK(uvsql_session_add(s, u), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT(await_val(uvsql_session_get_int(s, o->users, u->id, NULL, NULL)) == u);

  /* expire discards unflushed changes */
  ASSERT_OK(uvsql_orm_set_text(u, &u->fullname, "unflushed"), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(uvsql_session_is_modified(s, u), 1);
  ASSERT_OK(uvsql_session_expire(s, u), (uvsql_error_t *)NULL);
  ASSERT_STR_EQ(u->fullname, "Gary the Snail");
  ASSERT_INT_EQ(uvsql_session_is_modified(s, u), 0);
  await_ok(uvsql_session_rollback(s, NULL, NULL)); /* ends the get's transaction */
  ASSERT_STR_EQ(u->fullname, "Gary the Snail");

  /* a change after the expiry is pending: the reload keeps it, takes the other fields */
  ASSERT_OK(uvsql_orm_set_text(u, &u->fullname, "Gary (after expiry)"), (uvsql_error_t *)NULL);
  char sql[200], where[100];
  snprintf(sql, sizeof sql,
           "UPDATE %s SET name = 'gary2', fullname = 'by the other one' WHERE id = %lld", o->tu,
           (long long)u->id);
  exec_ok(&o->fx, sql); /* outside the session's transaction (there is none open) */
  ASSERT(query_first(o, s, NULL) == u);
  ASSERT_STR_EQ(u->name, "gary2");
  ASSERT_STR_EQ(u->fullname, "Gary (after expiry)");
  ASSERT_INT_EQ(uvsql_orm_is_expired(u), 0);
  ASSERT_INT_EQ(uvsql_session_is_modified(s, u), 1);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  snprintf(where, sizeof where, "id = %lld AND name = 'gary2' AND fullname = 'Gary (after expiry)'",
           (long long)u->id);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tu, where), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_expire_changes_pg) {
  changes_and_expiry(test_pg_url());
}
TEST(orm_expire_changes_mariadb) {
  changes_and_expiry(test_mariadb_url());
}
TEST(orm_expire_changes_sqlite) {
  changes_and_expiry(test_sqlite_url());
}

/* ------------------------------------------------------------------ 100,000 queued gets */

#define NGETS 100000

typedef struct {
  size_t done, right;
  user_t **us;
  uintptr_t lo, hi; /* the range of stack addresses the callbacks ran at */
} gets_t;

static void got_one(uvsql_future_t *f, void *data) {
  gets_t *g = data;
  volatile char here = 0;
  uintptr_t at = (uintptr_t)&here;
  g->lo = g->lo && g->lo < at ? g->lo : at;
  g->hi = g->hi > at ? g->hi : at;
  user_t *u = uvsql_future_value(f);
  if (u && u == g->us[g->done % 10])
    g->right++;
  g->done++;
}

static void many_gets(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  user_t *us[10];
  char name[32];
  for (int i = 0; i < 10; i++) {
    snprintf(name, sizeof name, "g%d", i);
    us[i] = new_user(o, name, NULL);
    ASSERT_OK(uvsql_session_add(s, us[i]), (uvsql_error_t *)NULL);
  }
  await_ok(uvsql_session_flush(s, NULL, NULL)); /* persistent, not expired: in the map */
  log_clear(&o->log);
  gets_t g = {0, 0, us, 0, 0};
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < NGETS; i++) /* queued before any runs: one deferred kick runs them all */
    ASSERT(uvsql_session_get_int(s, o->users, us[i % 10]->id, got_one, &g));
  uvsql_future_t *last = uvsql_session_flush(s, NULL, NULL);
  await_ok(last);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  ASSERT_INT_EQ(g.done, NGETS);
  ASSERT_INT_EQ(g.right, NGETS);
  ASSERT_INT_EQ(log_count(&o->log, "SELECT"), 0);
  if (g.hi - g.lo > 64 * 1024) /* one op after the other, not one inside the other */
    FAILF("the callbacks ran %zu bytes of stack apart", (size_t)(g.hi - g.lo));
  if (secs > 5.0) /* about 0.6 s in a release build, mostly queueing; generous for sanitizers */
    FAILF("100,000 identity-map gets took %.2f s", secs);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_expire_queue_of_100000_gets_ends_quickly_pg) {
  many_gets(test_pg_url());
}
TEST(orm_expire_queue_of_100000_gets_ends_quickly_mariadb) {
  many_gets(test_mariadb_url());
}
TEST(orm_expire_queue_of_100000_gets_ends_quickly_sqlite) {
  many_gets(test_sqlite_url());
}
