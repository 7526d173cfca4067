/* tests/test_orm_merge.c — uvsql_session_merge on PostgreSQL, MariaDB and SQLite: a detached
 * object with one changed field costs one SELECT when the session lacks its row and none when
 * the identity map has it, and the flush sends exactly one UPDATE of that field (the other
 * fields, unset on the detached object, are left alone); an expunged object merges all its
 * fields but changes only those that differ; a key without a row becomes a pending INSERT;
 * bad input is refused with a message. Each behaviour is one function taking a URL; each
 * backend one TEST. */
#include "orm_ev_fixture.h"

static void *await_obj(uvsql_future_t *f) {
  void *obj = AWAIT_OK(f);
  uvsql_future_unref(f);
  return obj;
}

/* A detached object with key id and one field set: name. */
static ev_item_t *detached(evfx_t *e, int64_t id, const char *name) {
  ev_item_t *d = uvsql_orm_new(e->items);
  d->id = id;
  ASSERT_OK(uvsql_orm_set_text(d, &d->name, name), NULL);
  return d;
}

static void not_in_session(const char *url) {
  evfx_t *e = evfx_open(url);
  evfx_fill(e, 3);
  uvsql_session_t *s = evsession(e);
  ev_item_t *d = detached(e, 2, "renamed");
  uint64_t n0 = uvsql_session_statement_count(s);
  ev_item_t *p = await_obj(uvsql_session_merge(s, d, NULL, NULL));
  uvsql_orm_free(d); /* only read at the call */
  ASSERT(p != d);
  ASSERT_INT_EQ(uvsql_orm_state(p), UVSQL_OBJ_PERSISTENT);
  ASSERT_INT_EQ(log_count(&e->log, "SELECT"), 1);          /* loaded once */
  ASSERT_INT_EQ(uvsql_session_statement_count(s) - n0, 2); /* BEGIN + that SELECT */
  ASSERT_STR_EQ(p->name, "renamed");
  ASSERT_INT_EQ(p->qty, 2); /* not set on the detached object: the row's value */
  ASSERT_INT_EQ(uvsql_session_is_modified(s, p), 1);
  log_clear(&e->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(log_count(&e->log, "UPDATE"), 1);
  ASSERT_INT_EQ(log_count(&e->log, "INSERT"), 0);
  const char *up = log_find(&e->log, "UPDATE");
  ASSERT_STR_CONTAINS(up, "SET name = ");
  ASSERT(!strstr(up, "qty") && !strstr(up, "updated_at")); /* that field only */
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, "id = 2 AND name = 'renamed' AND qty = 2"), 1);
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, "name = 'n1' OR name = 'n3'"), 2);
  evsession_close(s);
  evfx_close(e);
}

TEST(orm_merge_not_in_session_one_select_pg) {
  not_in_session(test_pg_url());
}
TEST(orm_merge_not_in_session_one_select_mariadb) {
  not_in_session(test_mariadb_url());
}
TEST(orm_merge_not_in_session_one_select_sqlite) {
  not_in_session(test_sqlite_url());
}

static void in_session(const char *url) {
  evfx_t *e = evfx_open(url);
  evfx_fill(e, 3);
  uvsql_session_t *s = evsession(e);
  ev_item_t *have = await_obj(uvsql_session_get_int(s, e->items, 3, NULL, NULL));
  ASSERT_STR_EQ(have->name, "n3");
  log_clear(&e->log);
  uint64_t n0 = uvsql_session_statement_count(s);
  ev_item_t *d = detached(e, 3, "merged");
  ev_item_t *p = await_obj(uvsql_session_merge(s, d, NULL, NULL));
  ASSERT(p == have);                                   /* the identity map's object */
  ASSERT_INT_EQ(uvsql_session_statement_count(s), n0); /* no SQL at all */
  ASSERT_INT_EQ(e->log.n, 0);
  ASSERT_STR_EQ(p->name, "merged");
  ASSERT_STR_EQ(d->name, "merged"); /* the caller's object is its own */
  ASSERT_INT_EQ(uvsql_orm_state(d), UVSQL_OBJ_TRANSIENT);
  /* merging the same state again changes nothing more */
  p = await_obj(uvsql_session_merge(s, d, NULL, NULL));
  ASSERT(p == have);
  uvsql_orm_free(d);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(log_count(&e->log, "UPDATE"), 1);
  ASSERT_INT_EQ(log_count(&e->log, "SELECT"), 0);
  ASSERT_STR_CONTAINS(log_find(&e->log, "UPDATE"), "SET name = ");
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, "id = 3 AND name = 'merged' AND qty = 3"), 1);
  /* an object of the session merges to itself */
  ASSERT(await_obj(uvsql_session_merge(s, have, NULL, NULL)) == have);
  evsession_close(s);
  evfx_close(e);
}

TEST(orm_merge_in_session_no_select_pg) {
  in_session(test_pg_url());
}
TEST(orm_merge_in_session_no_select_mariadb) {
  in_session(test_mariadb_url());
}
TEST(orm_merge_in_session_no_select_sqlite) {
  in_session(test_sqlite_url());
}

typedef struct {
  ev_item_t *got;
  int calls;
} merged_t;

static void on_merged(uvsql_future_t *f, void *data) {
  merged_t *m = data;
  m->calls++;
  ASSERT(!uvsql_future_error(f));
  m->got = uvsql_future_value(f);
}

static void expunged_and_new(const char *url) {
  evfx_t *e = evfx_open(url);
  evfx_fill(e, 2);
  /* loaded in one session, expunged, changed, merged into another: every field is copied,
   * only the changed one differs */
  uvsql_session_t *s1 = evsession(e);
  ev_item_t *x = await_obj(uvsql_session_get_int(s1, e->items, 1, NULL, NULL));
  ASSERT_OK(uvsql_session_expunge(s1, x), NULL);
  evsession_close(s1);
  x->qty = 0; /* assigned directly, even zero: a loaded object's fields all count */
  uvsql_session_t *s = evsession(e);
  log_clear(&e->log);
  merged_t m = {0};
  uvsql_future_t *f = uvsql_session_merge(s, x, on_merged, &m); /* callback style */
  ASSERT(f != NULL);
  uvsql_orm_free(x);
  test_sleep(e->fx.loop, 0);
  while (m.calls == 0)
    uv_run(e->fx.loop, UV_RUN_ONCE);
  ASSERT_INT_EQ(m.calls, 1);
  ASSERT_INT_EQ(m.got->qty, 0);
  ASSERT_STR_EQ(m.got->name, "n1");
  ASSERT_INT_EQ(log_count(&e->log, "SELECT"), 1);
  log_clear(&e->log);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  ASSERT_INT_EQ(log_count(&e->log, "UPDATE"), 1);
  ASSERT_STR_CONTAINS(log_find(&e->log, "UPDATE"), "SET qty = ");
  ASSERT(!strstr(log_find(&e->log, "UPDATE"), "name ="));

  /* a key with no row: a new pending object, INSERTed by the flush */
  log_clear(&e->log);
  ev_item_t *d = detached(e, 50, "fifty");
  ev_item_t *p = await_obj(uvsql_session_merge(s, d, NULL, NULL));
  uvsql_orm_free(d);
  ASSERT_INT_EQ(log_count(&e->log, "SELECT"), 1);
  ASSERT_INT_EQ(uvsql_orm_state(p), UVSQL_OBJ_PENDING);
  ASSERT_INT_EQ(p->id, 50);
  ASSERT_STR_EQ(p->name, "fifty");
  /* no key (an autoincrement 0): pending at once, no SELECT */
  log_clear(&e->log);
  d = uvsql_orm_new(e->items);
  ASSERT_OK(uvsql_orm_set_text(d, &d->name, "keyless"), NULL);
  ev_item_t *q = await_obj(uvsql_session_merge(s, d, NULL, NULL));
  uvsql_orm_free(d);
  ASSERT_INT_EQ(e->log.n, 0);
  ASSERT_INT_EQ(uvsql_orm_state(q), UVSQL_OBJ_PENDING);
  ASSERT_STR_EQ(q->name, "keyless");
  ASSERT_OK(uvsql_session_expunge(s, q), NULL); /* (the rows above took the keys by hand) */
  uvsql_orm_free(q);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(log_count(&e->log, "INSERT"), 1);
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, "id = 50 AND name = 'fifty'"), 1);
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, "id = 1 AND qty = 0 AND name = 'n1'"), 1);

  /* bad input */
  /* not made by uvsql_orm_new: zeroed memory around it, so the header check reads only
   * initialised bytes (a bare stack int would make it read its neighbours) */
  static char notobj[4096];
  f = uvsql_session_merge(s, notobj + 2048, NULL, NULL);
  const uvsql_error_t *fe = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(fe->message, "uvsql_session_merge: not an ORM object (make it with uvsql_orm_new)");
  uvsql_future_unref(f);
  uvsql_registry_t *other = uvsql_registry_new(NULL);
  uvsql_error_t err;
  uvsql_mapper_t *om = uvsql_registry_map(other, ev_item_t_model(), &err);
  ASSERT(om);
  d = uvsql_orm_new(om);
  f = uvsql_session_merge(s, d, NULL, NULL);
  fe = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(fe->message, "the object's mapper belongs to another registry than the "
                                   "session's: merge objects of the session's own mappers");
  uvsql_future_unref(f);
  uvsql_orm_free(d);
  uvsql_registry_free(other);
  evsession_close(s);
  evfx_close(e);
}

TEST(orm_merge_expunged_and_new_pg) {
  expunged_and_new(test_pg_url());
}
TEST(orm_merge_expunged_and_new_mariadb) {
  expunged_and_new(test_mariadb_url());
}
TEST(orm_merge_expunged_and_new_sqlite) {
  expunged_and_new(test_sqlite_url());
}
