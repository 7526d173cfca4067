/* tests/test_orm_trust_inherit.c — joined-table inheritance checked against the rows, on
 * PostgreSQL, MariaDB and SQLite: an employee / engineer hierarchy (a table each).
 *  - merge of a detached engineer whose base and subclass fields changed writes both tables;
 *    merge of a new engineer object whose key exists changes only the fields it sets; merge
 *    through the base mapper finds the engineer;
 *  - a flush that fails in its second table (the engineer UPDATE, after the employee UPDATE
 *    and a new row's INSERT) leaves, after the rollback, the rows as before and the objects
 *    as SQLAlchemy leaves them: the new object transient with no key, the changed one with
 *    its loaded values, the one marked for delete persistent and no longer marked.
 * Each behaviour is one function taking a URL; each backend one TEST. */
#include "orm_fixture.h"

#define TEMP_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(40), UVSQL_NOT_NULL)                                                              \
  X(type, STRING(20), 0)
UVSQL_MODEL(temp_t, "otr_employee", TEMP_FIELDS)

#define TENG_FIELDS(X)                                                                             \
  X(info, TEXT, UVSQL_NOT_NULL)                                                                    \
  X(level, INT64, 0)
UVSQL_MODEL_INHERITS(teng_t, temp_t, "otr_engineer", TEMP_FIELDS, TENG_FIELDS)

typedef struct {
  fixture_t fx;
  sqllog_t log;
  uvsql_registry_t *reg;
  uvsql_mapper_t *emps, *engs;
  char te[64], tg[64];
  int64_t ann, cy; /* an employee, an engineer */
} tinh_t;

static void *await_obj(uvsql_future_t *f) {
  void *obj = AWAIT_OK(f);
  uvsql_future_unref(f);
  return obj;
}

static uvsql_session_t *tsession(tinh_t *o) {
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, o->fx.engine, o->reg, NULL), NULL);
  return s;
}

/* The hierarchy's tables, with ann (employee) and cy (engineer, info "c", level 3). */
static tinh_t *tinh_open(const char *url) {
  tinh_t *o = calloc(1, sizeof *o);
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  uvsql_error_t err;
  opt.echo = 1;
  opt.log_cb = log_line;
  opt.log_data = &o->log;
  o->fx = fixture_open(url, &opt);
  snprintf(o->te, sizeof o->te, "%s", test_unique_name("otr_employee"));
  snprintf(o->tg, sizeof o->tg, "%s", test_unique_name("otr_engineer"));
  o->reg = uvsql_registry_new(NULL);
  ASSERT(o->emps = uvsql_registry_map_table(o->reg, temp_t_model(), o->te, &err));
  ASSERT(uvsql_mapper_polymorphic_on(o->emps, "type", &err) == o->emps);
  ASSERT(o->engs =
             uvsql_registry_map_joined(o->reg, teng_t_model(), o->tg, o->emps, "engineer", &err));
  await_ok(uvsql_metadata_create_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  uvsql_session_t *s = tsession(o);
  temp_t *e = uvsql_orm_new(o->emps);
  ASSERT_OK(uvsql_orm_set_text(e, &e->name, "ann"), NULL);
  ASSERT_OK(uvsql_orm_set_text(e, &e->type, "employee"), NULL);
  teng_t *g = uvsql_orm_new(o->engs);
  ASSERT_OK(uvsql_orm_set_text(g, &g->base.name, "cy"), NULL);
  ASSERT_OK(uvsql_orm_set_text(g, &g->info, "c"), NULL);
  g->level = 3;
  ASSERT_OK(uvsql_session_add(s, e), NULL);
  ASSERT_OK(uvsql_session_add(s, g), NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  o->ann = e->id;
  o->cy = g->base.id;
  await_ok(uvsql_session_close(s, NULL, NULL));
  log_clear(&o->log);
  return o;
}

static void tinh_close(tinh_t *o) {
  await_ok(uvsql_metadata_drop_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  uvsql_registry_free(o->reg);
  log_clear(&o->log);
  fixture_close(&o->fx);
  free(o);
}

static int64_t rows_where(tinh_t *o, const char *table, const char *fmt, int64_t id) {
  char w[200];
  snprintf(w, sizeof w, fmt, (long long)id);
  return count_rows(&o->fx, table, w);
}

static void merge_subclass(const char *url) {
  tinh_t *o = tinh_open(url);
  /* loaded, expunged, changed in both tables, merged into another session */
  uvsql_session_t *s1 = tsession(o);
  teng_t *d = await_obj(uvsql_session_get_int(s1, o->emps, o->cy, NULL, NULL));
  ASSERT(uvsql_orm_mapper(d) == o->engs);
  ASSERT_OK(uvsql_session_expunge(s1, d), NULL);
  await_ok(uvsql_session_close(s1, NULL, NULL));
  ASSERT_OK(uvsql_orm_set_text(d, &d->base.name, "cyd"), NULL);
  d->level = 4;
  uvsql_session_t *s = tsession(o);
  teng_t *p = await_obj(uvsql_session_merge(s, d, NULL, NULL));
  uvsql_orm_free(d);
  ASSERT(uvsql_orm_mapper(p) == o->engs);
  ASSERT_STR_EQ(p->base.name, "cyd");
  ASSERT_STR_EQ(p->info, "c");
  ASSERT_INT_EQ(p->level, 4);
  log_clear(&o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(log_count(&o->log, "UPDATE"), 2);
  ASSERT_INT_EQ(log_count(&o->log, "INSERT"), 0);
  ASSERT_INT_EQ(rows_where(o, o->te, "id = %lld AND name = 'cyd' AND type = 'engineer'", o->cy), 1);
  ASSERT_INT_EQ(rows_where(o, o->tg, "id = %lld AND info = 'c' AND level = 4", o->cy), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));

  /* a new engineer object with cy's key and only level set: level changes, nothing else */
  s = tsession(o);
  teng_t *n = uvsql_orm_new(o->engs);
  n->base.id = o->cy;
  n->level = 5;
  p = await_obj(uvsql_session_merge(s, n, NULL, NULL));
  uvsql_orm_free(n);
  ASSERT_INT_EQ(uvsql_orm_state(p), UVSQL_OBJ_PERSISTENT);
  ASSERT_STR_EQ(p->base.name, "cyd");
  ASSERT_STR_EQ(p->base.type, "engineer");
  ASSERT_STR_EQ(p->info, "c");
  /* merged through the base mapper (a plain employee object with cy's key): the session's
   * engineer takes its name */
  temp_t *b = uvsql_orm_new(o->emps);
  b->id = o->cy;
  ASSERT_OK(uvsql_orm_set_text(b, &b->name, "cy2"), NULL);
  ASSERT(await_obj(uvsql_session_merge(s, b, NULL, NULL)) == p);
  uvsql_orm_free(b);
  ASSERT_STR_EQ(p->base.name, "cy2");
  ASSERT_STR_EQ(p->base.type, "engineer");
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(rows_where(o, o->te, "id = %lld AND name = 'cy2' AND type = 'engineer'", o->cy), 1);
  ASSERT_INT_EQ(rows_where(o, o->tg, "id = %lld AND info = 'c' AND level = 5", o->cy), 1);
  ASSERT_INT_EQ(count_rows(&o->fx, o->te, NULL), 2);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tg, NULL), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));
  tinh_close(o);
}

TEST(orm_trust_merge_joined_subclass_pg) {
  merge_subclass(test_pg_url());
}
TEST(orm_trust_merge_joined_subclass_mariadb) {
  merge_subclass(test_mariadb_url());
}
TEST(orm_trust_merge_joined_subclass_sqlite) {
  merge_subclass(test_sqlite_url());
}

static void failed_second_table(const char *url) {
  tinh_t *o = tinh_open(url);
  uvsql_session_t *s = tsession(o);
  temp_t *ann = await_obj(uvsql_session_get_int(s, o->emps, o->ann, NULL, NULL));
  teng_t *g = await_obj(uvsql_session_get_int(s, o->emps, o->cy, NULL, NULL));
  temp_t *z = uvsql_orm_new(o->emps);
  ASSERT_OK(uvsql_orm_set_text(z, &z->name, "zed"), NULL);
  ASSERT_OK(uvsql_orm_set_text(z, &z->type, "employee"), NULL);
  ASSERT_OK(uvsql_session_add(s, z), NULL);
  ASSERT_OK(uvsql_session_delete(s, ann), NULL);
  ASSERT_OK(uvsql_orm_set_text(g, &g->base.name, "changed"), NULL); /* employee table */
  ASSERT_OK(uvsql_orm_set_null(g, &g->info, 1), NULL);              /* engineer table: NOT NULL */
  log_clear(&o->log);
  uvsql_future_t *f = uvsql_session_flush(s, NULL, NULL);
  ASSERT(uvsql_future_wait(f) != 0);
  ASSERT_INT_EQ(uvsql_future_error(f)->code, UVSQL_EINTEGRITY);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(log_count(&o->log, "INSERT"), 1); /* zed's row was written, then rolled back */
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  /* the rows as before */
  ASSERT_INT_EQ(count_rows(&o->fx, o->te, NULL), 2);
  ASSERT_INT_EQ(count_rows(&o->fx, o->te, "name = 'zed' OR name = 'changed'"), 0);
  ASSERT_INT_EQ(rows_where(o, o->te, "id = %lld AND name = 'cy'", o->cy), 1);
  ASSERT_INT_EQ(rows_where(o, o->tg, "id = %lld AND info = 'c' AND level = 3", o->cy), 1);
  /* the objects as the database has them */
  ASSERT_INT_EQ(uvsql_orm_state(z), UVSQL_OBJ_TRANSIENT);
  ASSERT_INT_EQ(z->id, 0);
  ASSERT_INT_EQ(uvsql_orm_state(ann), UVSQL_OBJ_PERSISTENT);
  ASSERT_INT_EQ(uvsql_session_is_modified(s, ann), 0); /* no longer marked for delete */
  ASSERT_INT_EQ(uvsql_orm_state(g), UVSQL_OBJ_PERSISTENT);
  ASSERT_STR_EQ(g->base.name, "cy");
  ASSERT_INT_EQ(uvsql_orm_is_null(g, &g->info), 0);
  ASSERT_STR_EQ(g->info, "c");
  ASSERT_INT_EQ(uvsql_session_is_modified(s, g), 0);
  /* the session works on: a commit writes nothing; a get answers the same objects */
  log_clear(&o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(log_count(&o->log, "INSERT") + log_count(&o->log, "UPDATE") +
                    log_count(&o->log, "DELETE"),
                0);
  ASSERT(await_obj(uvsql_session_get_int(s, o->emps, o->cy, NULL, NULL)) == g);
  ASSERT_STR_EQ(g->info, "c");
  /* zed added again is inserted with a new key */
  ASSERT_OK(uvsql_session_add(s, z), NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT(z->id > 0 && z->id != o->ann && z->id != o->cy);
  ASSERT_INT_EQ(rows_where(o, o->te, "id = %lld AND name = 'zed'", z->id), 1);
  ASSERT_INT_EQ(count_rows(&o->fx, o->te, NULL), 3);
  await_ok(uvsql_session_close(s, NULL, NULL));
  tinh_close(o);
}

TEST(orm_trust_joined_failed_second_table_rolls_back_pg) {
  failed_second_table(test_pg_url());
}
TEST(orm_trust_joined_failed_second_table_rolls_back_mariadb) {
  failed_second_table(test_mariadb_url());
}
TEST(orm_trust_joined_failed_second_table_rolls_back_sqlite) {
  failed_second_table(test_sqlite_url());
}
