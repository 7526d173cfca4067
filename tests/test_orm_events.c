/* tests/test_orm_events.c — ORM events on PostgreSQL, MariaDB and SQLite: an audit column set
 * by a before_update listener is written by every UPDATE (checked in the database); a
 * listener that fails leaves no row written, the caller sees its message, and the session
 * wants a rollback; the order of before_flush, before/after_insert/update/delete,
 * after_commit and after_rollback is SQLAlchemy's (recorded and compared); registration
 * errors. Each behaviour is one function taking a URL; each backend one TEST. */
#include "orm_ev_fixture.h"

/* ------------------------------------------------------------------ audit column */

typedef struct {
  int64_t clock; /* the "time" the listeners stamp */
  int updates;
} audit_t;

static int stamp(uvsql_session_t *s, unsigned ev, void *obj, void *data, uvsql_error_t *err) {
  (void)s;
  (void)err;
  ev_item_t *it = obj;
  audit_t *a = data;
  if (ev == UVSQL_EV_BEFORE_UPDATE)
    a->updates++;
  return uvsql_orm_set_int64(it, &it->updated_at, a->clock);
}

static ev_item_t *new_item(evfx_t *e, int64_t id, const char *name, int64_t qty) {
  ev_item_t *it = uvsql_orm_new(e->items);
  ASSERT_OK(uvsql_orm_set_int64(it, &it->id, id), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_set_text(it, &it->name, name), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_set_int64(it, &it->qty, qty), (uvsql_error_t *)NULL);
  return it;
}

static void audit_column(const char *url) {
  evfx_t *e = evfx_open(url);
  audit_t a = {1000, 0};
  uvsql_error_t err;
  ASSERT_OK(
      uvsql_mapper_on(e->items, UVSQL_EV_BEFORE_INSERT | UVSQL_EV_BEFORE_UPDATE, stamp, &a, &err),
      &err);
  uvsql_session_t *s = evsession(e);
  ev_item_t *x = new_item(e, 1, "x", 1), *y = new_item(e, 2, "y", 2);
  ASSERT_OK(uvsql_session_add(s, x), NULL);
  ASSERT_OK(uvsql_session_add(s, y), NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(evfx_col(e, "updated_at", 1), 1000); /* before_insert stamped both */
  ASSERT_INT_EQ(evfx_col(e, "updated_at", 2), 1000);
  ASSERT_INT_EQ(a.updates, 0);

  a.clock = 2000; /* one object changed: one UPDATE, which writes the stamp too */
  log_clear(&e->log);
  ASSERT_OK(uvsql_orm_set_int64(x, &x->qty, 10), NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(a.updates, 1);
  ASSERT_INT_EQ(log_count(&e->log, "UPDATE"), 1);
  ASSERT_STR_CONTAINS(log_find(&e->log, "UPDATE"), "updated_at");
  ASSERT_INT_EQ(evfx_col(e, "qty", 1), 10);
  ASSERT_INT_EQ(evfx_col(e, "updated_at", 1), 2000);
  ASSERT_INT_EQ(evfx_col(e, "updated_at", 2), 1000); /* not updated: not stamped */

  a.clock = 3000; /* both changed (a text and an int): two UPDATEs, both stamped */
  ASSERT_OK(uvsql_orm_set_text(x, &x->name, "x2"), NULL);
  ASSERT_OK(uvsql_orm_set_int64(y, &y->qty, 20), NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(a.updates, 3);
  ASSERT_INT_EQ(evfx_col(e, "updated_at", 1), 3000);
  ASSERT_INT_EQ(evfx_col(e, "updated_at", 2), 3000);
  ASSERT_INT_EQ(evfx_col(e, "qty", 2), 20);

  a.clock = 4000; /* a flush with nothing changed calls no before_update */
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(a.updates, 3);
  ASSERT_INT_EQ(evfx_col(e, "updated_at", 1), 3000);
  evsession_close(s);
  evfx_close(e);
}

TEST(orm_events_audit_column_pg) {
  audit_column(test_pg_url());
}
TEST(orm_events_audit_column_mariadb) {
  audit_column(test_mariadb_url());
}
TEST(orm_events_audit_column_sqlite) {
  audit_column(test_sqlite_url());
}

/* ------------------------------------------------------------------ a failing listener */

typedef struct {
  int rollbacks;
} fails_t;

static int validate(uvsql_session_t *s, unsigned ev, void *obj, void *data, uvsql_error_t *err) {
  (void)s;
  (void)ev;
  (void)data;
  ev_item_t *it = obj;
  if (it->qty < 0) {
    snprintf(err->message, sizeof err->message, "qty of %s must not be negative (%lld)", it->name,
             (long long)it->qty);
    return UVSQL_EINVALID_ARGUMENT;
  }
  return 0;
}

static int count_rollback(uvsql_session_t *s, unsigned ev, void *obj, void *data,
                          uvsql_error_t *err) {
  (void)s;
  (void)obj;
  (void)err;
  ASSERT_INT_EQ(ev, UVSQL_EV_AFTER_ROLLBACK);
  ((fails_t *)data)->rollbacks++;
  return 0;
}

static void failing_listener(const char *url) {
  evfx_t *e = evfx_open(url);
  fails_t fl = {0};
  uvsql_error_t err;
  ASSERT_OK(uvsql_mapper_on(e->items, UVSQL_EV_BEFORE_INSERT | UVSQL_EV_BEFORE_UPDATE, validate,
                            NULL, &err),
            &err);
  uvsql_session_t *s = evsession(e);
  ASSERT_OK(uvsql_session_on(s, UVSQL_EV_AFTER_ROLLBACK, count_rollback, &fl, &err), &err);
  /* the first object is valid and its INSERT goes first: it is not left in the database */
  ev_item_t *good = new_item(e, 1, "good", 1), *bad = new_item(e, 2, "bad", -5);
  ASSERT_OK(uvsql_session_add(s, good), NULL);
  ASSERT_OK(uvsql_session_add(s, bad), NULL);
  uvsql_future_t *f = uvsql_session_commit(s, NULL, NULL);
  const uvsql_error_t *fe = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(fe->message,
                "before_insert event of ev_item_t failed: qty of bad must not be negative (-5)");
  uvsql_future_unref(f);
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, NULL), 0);
  ASSERT_INT_EQ(fl.rollbacks, 1);         /* the failed flush's ROLLBACK */
  f = uvsql_session_flush(s, NULL, NULL); /* the session wants a rollback first */
  fe = AWAIT_ERR(f, UVSQL_EINTERFACE);
  ASSERT_STR_CONTAINS(fe->message, "Call uvsql_session_rollback() first. Original error "
                                   "(UVSQL_EINVALID_ARGUMENT): before_insert event of ev_item_t "
                                   "failed: qty of bad must not be negative (-5)");
  uvsql_future_unref(f);
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_state(bad), UVSQL_OBJ_TRANSIENT);

  /* fixed, added again: both INSERTed; then an UPDATE that the listener refuses */
  ASSERT_OK(uvsql_orm_set_int64(bad, &bad->qty, 5), NULL);
  ASSERT_OK(uvsql_session_add(s, good), NULL);
  ASSERT_OK(uvsql_session_add(s, bad), NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, NULL), 2);
  ASSERT_OK(uvsql_orm_set_text(good, &good->name, "renamed"), NULL);
  ASSERT_OK(uvsql_orm_set_int64(bad, &bad->qty, -7), NULL);
  f = uvsql_session_commit(s, NULL, NULL);
  fe = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(fe->message,
                "before_update event of ev_item_t failed: qty of bad must not be negative (-7)");
  uvsql_future_unref(f);
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  ASSERT_INT_EQ(evfx_col(e, "qty", 2), 5); /* nothing of that flush was written */
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, "name = 'renamed'"), 0);
  ASSERT_INT_EQ(fl.rollbacks, 2);
  evsession_close(s);
  evfx_close(e);
}

TEST(orm_events_failing_listener_pg) {
  failing_listener(test_pg_url());
}
TEST(orm_events_failing_listener_mariadb) {
  failing_listener(test_mariadb_url());
}
TEST(orm_events_failing_listener_sqlite) {
  failing_listener(test_sqlite_url());
}

/* ------------------------------------------------------------------ order */

typedef struct {
  char buf[2048];
} trace_t;

static int record(uvsql_session_t *s, unsigned ev, void *obj, void *data, uvsql_error_t *err) {
  (void)s;
  (void)err;
  trace_t *t = data;
  size_t len = strlen(t->buf);
  const char *who = "";
  int64_t id = 0;
  if (obj && uvsql_orm_mapper(obj) &&
      strcmp(uvsql_mapper_model(uvsql_orm_mapper(obj))->type_name, "user_t") == 0) {
    who = ((user_t *)obj)->name;
    id = ((user_t *)obj)->id;
  } else if (obj) {
    who = ((address_t *)obj)->email_address;
    id = ((address_t *)obj)->user_id;
  }
  if (obj)
    snprintf(t->buf + len, sizeof t->buf - len, "%s:%s:%lld ", uvsql_event_name(ev), who,
             (long long)id);
  else
    snprintf(t->buf + len, sizeof t->buf - len, "%s ", uvsql_event_name(ev));
  return 0;
}

static void order(const char *url) {
  orm_t *o = orm_open(url);
  trace_t t = {{0}};
  uvsql_error_t err;
  unsigned objev = UVSQL_EV_OBJECT_EVENTS;
  ASSERT_OK(uvsql_mapper_on(o->users, objev, record, &t, &err), &err);
  ASSERT_OK(uvsql_mapper_on(o->addrs, objev, record, &t, &err), &err);
  uvsql_session_t *s = session(o);
  ASSERT_OK(
      uvsql_session_on(s, UVSQL_EV_BEFORE_FLUSH | UVSQL_EV_AFTER_COMMIT | UVSQL_EV_AFTER_ROLLBACK,
                       record, &t, &err),
      &err);
  /* the child is added first; the parent's rows still go (and fire) first */
  address_t *ad = uvsql_orm_new(o->addrs);
  ASSERT_OK(uvsql_orm_set_text(ad, &ad->email_address, "ann@x"), NULL);
  user_t *ann = new_user(o, "ann", "Ann"), *bob = new_user(o, "bob", "Bob");
  ASSERT_OK(uvsql_orm_link(ad, &ad->user_id, ann), NULL);
  ASSERT_OK(uvsql_session_add(s, ad), NULL);
  ASSERT_OK(uvsql_session_add(s, ann), NULL);
  ASSERT_OK(uvsql_session_add(s, bob), NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  char want[1024];
  /* before_insert sees the child's key already copied from its parent; after_insert the
   * generated keys */
  snprintf(want, sizeof want,
           "before_flush before_insert:ann:0 before_insert:bob:0 after_insert:ann:%lld "
           "after_insert:bob:%lld before_insert:ann@x:%lld after_insert:ann@x:%lld "
           "after_commit ",
           (long long)ann->id, (long long)bob->id, (long long)ann->id, (long long)ann->id);
  ASSERT_STR_EQ(t.buf, want);

  t.buf[0] = '\0'; /* an update and a delete in one flush */
  ASSERT_OK(uvsql_orm_set_text(bob, &bob->fullname, "Robert"), NULL);
  ASSERT_OK(uvsql_session_delete(s, ad), NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  snprintf(want, sizeof want,
           "before_flush before_update:bob:%lld before_delete:ann@x:%lld after_update:bob:%lld "
           "after_delete:ann@x:%lld after_commit ",
           (long long)bob->id, (long long)ann->id, (long long)bob->id, (long long)ann->id);
  ASSERT_STR_EQ(t.buf, want);

  t.buf[0] = '\0'; /* a flush, then a rollback of the database transaction */
  ASSERT_OK(uvsql_orm_set_text(ann, &ann->fullname, "Annie"), NULL);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  snprintf(want, sizeof want,
           "before_flush before_update:ann:%lld after_update:ann:%lld "
           "after_rollback ",
           (long long)ann->id, (long long)ann->id);
  ASSERT_STR_EQ(t.buf, want);

  t.buf[0] = '\0'; /* nothing to flush: no before_flush; no transaction: no after_* */
  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  ASSERT_STR_EQ(t.buf, "");
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_events_order_pg) {
  order(test_pg_url());
}
TEST(orm_events_order_mariadb) {
  order(test_mariadb_url());
}
TEST(orm_events_order_sqlite) {
  order(test_sqlite_url());
}

/* ------------------------------------------------------------------ before_flush may add */

static int add_one(uvsql_session_t *s, unsigned ev, void *obj, void *data, uvsql_error_t *err) {
  (void)ev;
  (void)obj;
  (void)err;
  evfx_t *e = data;
  static int done;
  if (done++)
    return 0;
  return uvsql_session_add(s, new_item(e, 99, "added by before_flush", 1));
}

static void before_flush_adds(const char *url) {
  evfx_t *e = evfx_open(url);
  uvsql_error_t err;
  uvsql_session_t *s = evsession(e);
  ASSERT_OK(uvsql_session_on(s, UVSQL_EV_BEFORE_FLUSH, add_one, e, &err), &err);
  ASSERT_OK(uvsql_session_add(s, new_item(e, 1, "one", 1)), NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, NULL), 2); /* in the same flush */
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, "id = 99"), 1);
  /* registration errors */
  ASSERT_ERR(uvsql_mapper_on(e->items, UVSQL_EV_AFTER_COMMIT, add_one, e, &err),
             UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(err.message, "uvsql_mapper_on: events it cannot fire (mask 0x80): give a "
                                   "function and a mask of per-object events");
  ASSERT_STR_CONTAINS(err.message, "register before_flush, after_commit and after_rollback with "
                                   "uvsql_session_on");
  ASSERT_ERR(uvsql_session_on(s, UVSQL_EV_BEFORE_FLUSH, NULL, NULL, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(err.message, "uvsql_session_on: no listener function (mask 0x1): give a function "
                             "and a mask of UVSQL_EV_* events");
  ASSERT_ERR(uvsql_session_on(s, 0x200, add_one, NULL, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(uvsql_event_name(0x200), "unknown");
  ASSERT_STR_EQ(uvsql_event_name(UVSQL_EV_AFTER_DELETE), "after_delete");
  evsession_close(s);
  evfx_close(e);
}

TEST(orm_events_before_flush_adds_pg) {
  before_flush_adds(test_pg_url());
}
TEST(orm_events_before_flush_adds_mariadb) {
  before_flush_adds(test_mariadb_url());
}
TEST(orm_events_before_flush_adds_sqlite) {
  before_flush_adds(test_sqlite_url());
}
