/* tests/test_orm_trust_events.c — listeners that change objects during a flush, checked
 * against the rows, on PostgreSQL, MariaDB and SQLite:
 *  - an after_insert listener reads the key the database generated for its object;
 *  - a before_update listener of one object that changes another object (one whose UPDATE
 *    was already planned with other columns, and one not changed at all) loses neither
 *    change: what this flush does not write stays pending and the next flush writes it
 *    (SQLAlchemy does not support it in the same flush; uvsql must never drop it silently).
 * Each behaviour is one function taking a URL; each backend one TEST. */
#include "orm_ev_fixture.h"

static void *await_obj(uvsql_future_t *f) {
  void *obj = AWAIT_OK(f);
  uvsql_future_unref(f);
  return obj;
}

/* ------------------------------------------------------------------ after_insert key */

#define GEN_FIELDS(X)                                                                              \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(40), 0)
UVSQL_MODEL(gen_t, "otr_gen", GEN_FIELDS)

typedef struct {
  int64_t seen[4];
  int n;
} keys_seen_t;

static int on_inserted(uvsql_session_t *s, unsigned ev, void *obj, void *data, uvsql_error_t *err) {
  (void)s;
  (void)err;
  keys_seen_t *k = data;
  ASSERT_INT_EQ(ev, UVSQL_EV_AFTER_INSERT);
  ASSERT(k->n < 4);
  k->seen[k->n++] = ((gen_t *)obj)->id;
  return 0;
}

static void after_insert_key(const char *url) {
  fixture_t fx = fixture_open(url, NULL);
  char tg[64];
  uvsql_error_t err;
  snprintf(tg, sizeof tg, "%s", test_unique_name("otr_gen"));
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_mapper_t *gens = uvsql_registry_map_table(reg, gen_t_model(), tg, &err);
  ASSERT(gens);
  keys_seen_t k = {{0}, 0};
  ASSERT_OK(uvsql_mapper_on(gens, UVSQL_EV_AFTER_INSERT, on_inserted, &k, &err), &err);
  await_ok(uvsql_metadata_create_all(uvsql_registry_metadata(reg), fx.engine, NULL, NULL));
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, fx.engine, reg, NULL), NULL);
  gen_t *a = uvsql_orm_new(gens), *b = uvsql_orm_new(gens);
  ASSERT_OK(uvsql_orm_set_text(a, &a->name, "a"), NULL);
  ASSERT_OK(uvsql_orm_set_text(b, &b->name, "b"), NULL);
  ASSERT_OK(uvsql_session_add(s, a), NULL);
  ASSERT_OK(uvsql_session_add(s, b), NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(k.n, 2);
  ASSERT(k.seen[0] > 0 && k.seen[1] > 0 && k.seen[0] != k.seen[1]);
  ASSERT_INT_EQ(k.seen[0], a->id);
  ASSERT_INT_EQ(k.seen[1], b->id);
  char w[80];
  snprintf(w, sizeof w, "id = %lld AND name = 'a'", (long long)k.seen[0]);
  ASSERT_INT_EQ(count_rows(&fx, tg, w), 1);
  snprintf(w, sizeof w, "id = %lld AND name = 'b'", (long long)k.seen[1]);
  ASSERT_INT_EQ(count_rows(&fx, tg, w), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));
  await_ok(uvsql_metadata_drop_all(uvsql_registry_metadata(reg), fx.engine, NULL, NULL));
  uvsql_registry_free(reg);
  fixture_close(&fx);
}

TEST(orm_trust_after_insert_reads_generated_key_pg) {
  after_insert_key(test_pg_url());
}
TEST(orm_trust_after_insert_reads_generated_key_mariadb) {
  after_insert_key(test_mariadb_url());
}
TEST(orm_trust_after_insert_reads_generated_key_sqlite) {
  after_insert_key(test_sqlite_url());
}

/* ------------------------------------------------------------------ changing others */

typedef struct {
  ev_item_t *trigger, *planned, *untouched;
  int fired;
} others_t;

/* When `trigger` is about to be UPDATEd: planned.qty = 42 (planned's UPDATE lists only its
 * name), untouched.qty = 43 (no UPDATE planned). */
static int change_others(uvsql_session_t *s, unsigned ev, void *obj, void *data,
                         uvsql_error_t *err) {
  (void)s;
  (void)ev;
  (void)err;
  others_t *o = data;
  if (obj != o->trigger)
    return 0;
  o->fired++;
  ASSERT_OK(uvsql_orm_set_int64(o->planned, &o->planned->qty, 42), NULL);
  ASSERT_OK(uvsql_orm_set_int64(o->untouched, &o->untouched->qty, 43), NULL);
  return 0;
}

static void before_update_changes_others(const char *url) {
  evfx_t *e = evfx_open(url);
  evfx_fill(e, 3);
  uvsql_session_t *s = evsession(e);
  others_t o = {0};
  uvsql_error_t err;
  ASSERT_OK(uvsql_session_on(s, UVSQL_EV_BEFORE_UPDATE, change_others, &o, &err), &err);
  /* the UPDATEs go in the order of their column sets: planned (name) before trigger (qty) */
  o.planned = await_obj(uvsql_session_get_int(s, e->items, 1, NULL, NULL));
  o.trigger = await_obj(uvsql_session_get_int(s, e->items, 2, NULL, NULL));
  o.untouched = await_obj(uvsql_session_get_int(s, e->items, 3, NULL, NULL));
  ASSERT_OK(uvsql_orm_set_text(o.planned, &o.planned->name, "p"), NULL);
  ASSERT_OK(uvsql_orm_set_int64(o.trigger, &o.trigger->qty, 7), NULL);
  ASSERT_OK(uvsql_orm_set_text(o.trigger, &o.trigger->name, "t"), NULL);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  ASSERT_INT_EQ(o.fired, 1);
  /* the objects still hold the listener's values: what the flush did not write is pending */
  ASSERT_INT_EQ(o.planned->qty, 42);
  ASSERT_INT_EQ(o.untouched->qty, 43);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, "id = 1 AND name = 'p' AND qty = 42"), 1);
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, "id = 2 AND name = 't' AND qty = 7"), 1);
  ASSERT_INT_EQ(count_rows(&e->fx, e->ti, "id = 3 AND name = 'n3' AND qty = 43"), 1);
  /* and the session agrees with the rows: nothing left to write, values as read back */
  ASSERT_INT_EQ(uvsql_session_is_modified(s, o.planned), 0);
  ASSERT_INT_EQ(uvsql_session_is_modified(s, o.untouched), 0);
  ev_item_t *p = await_obj(uvsql_session_get_int(s, e->items, 1, NULL, NULL));
  ASSERT(p == o.planned);
  ASSERT_INT_EQ(p->qty, 42);
  evsession_close(s);
  evfx_close(e);
}

TEST(orm_trust_before_update_changes_other_objects_pg) {
  before_update_changes_others(test_pg_url());
}
TEST(orm_trust_before_update_changes_other_objects_mariadb) {
  before_update_changes_others(test_mariadb_url());
}
TEST(orm_trust_before_update_changes_other_objects_sqlite) {
  before_update_changes_others(test_sqlite_url());
}
