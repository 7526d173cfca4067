/* tests/test_orm_inherit.c — single-table inheritance on PostgreSQL, MariaDB and SQLite: an
 * employee / manager / engineer hierarchy on one table with a TEXT discriminator `type`.
 * A polymorphic select and get of the base return objects of the right subclass with their
 * columns; a select of the engineer mapper returns engineers only; an UPDATE of a manager's
 * column and a DELETE of an engineer change the right rows (checked with SQL); bad
 * declarations are refused with a message. Each behaviour is one function taking a URL;
 * each backend one TEST. */
#include "orm_fixture.h"

#define EMPLOYEE_FIELDS(X)                                                                         \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(40), UVSQL_NOT_NULL)                                                              \
  X(type, STRING(20), 0)
UVSQL_MODEL(employee_t, "oinh_employee", EMPLOYEE_FIELDS)

#define MANAGER_FIELDS(X) X(manager_data, TEXT, 0)
UVSQL_MODEL_INHERITS(manager_t, employee_t, "oinh_employee", EMPLOYEE_FIELDS, MANAGER_FIELDS)

#define ENGINEER_FIELDS(X)                                                                         \
  X(engineer_info, TEXT, 0)                                                                        \
  X(level, INT64, 0)
UVSQL_MODEL_INHERITS(engineer_t, employee_t, "oinh_employee", EMPLOYEE_FIELDS, ENGINEER_FIELDS)

/* Bad declarations */
#define NN_FIELDS(X) X(badge, TEXT, UVSQL_NOT_NULL)
UVSQL_MODEL_INHERITS(nn_t, employee_t, "oinh_employee", EMPLOYEE_FIELDS, NN_FIELDS)
#define OTHER_FIELDS(X)                                                                            \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(price, DOUBLE, 0)
UVSQL_MODEL(other_t, "oinh_other", OTHER_FIELDS)

typedef struct {
  fixture_t fx;
  sqllog_t log;
  uvsql_registry_t *reg;
  uvsql_mapper_t *emps, *mgrs, *engs;
  char te[64];
} inh_t;

static void *await_obj(uvsql_future_t *f) {
  void *obj = AWAIT_OK(f);
  uvsql_future_unref(f);
  return obj;
}

static inh_t *inh_open(const char *url) {
  inh_t *o = calloc(1, sizeof *o);
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  uvsql_error_t err;
  opt.echo = 1;
  opt.log_cb = log_line;
  opt.log_data = &o->log;
  o->fx = fixture_open(url, &opt);
  snprintf(o->te, sizeof o->te, "%s", test_unique_name("oinh_employee"));
  o->reg = uvsql_registry_new(NULL);
  o->emps = uvsql_registry_map_table(o->reg, employee_t_model(), o->te, &err);
  ASSERT(o->emps);
  o->mgrs = uvsql_registry_map_table(o->reg, manager_t_model(), o->te, &err);
  ASSERT(o->mgrs);
  o->engs = uvsql_registry_map_table(o->reg, engineer_t_model(), o->te, &err);
  ASSERT(o->engs);
  ASSERT(uvsql_mapper_polymorphic_on(o->emps, "type", &err) == o->emps);
  ASSERT(uvsql_mapper_inherits(o->mgrs, o->emps, "manager", &err) == o->mgrs);
  ASSERT(uvsql_mapper_inherits(o->engs, o->emps, "engineer", &err) == o->engs);
  /* one table with every column of the hierarchy */
  ASSERT_INT_EQ(uvsql_table_ncolumns(uvsql_mapper_table(o->emps)), 6);
  ASSERT(uvsql_mapper_table(o->engs) == uvsql_mapper_table(o->emps));
  await_ok(uvsql_metadata_create_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  log_clear(&o->log);
  return o;
}

static void inh_close(inh_t *o) {
  await_ok(uvsql_metadata_drop_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  uvsql_registry_free(o->reg);
  log_clear(&o->log);
  fixture_close(&o->fx);
  free(o);
}

static uvsql_session_t *inh_session(inh_t *o) {
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, o->fx.engine, o->reg, NULL), (uvsql_error_t *)NULL);
  return s;
}

/* Through the ORM: 1 plain employee "ann", 2 manager "bob" (data "budget"), 3 engineer "cy"
 * (info "c", level 3), 4 engineer "di" (info "rust", level 2). */
static void fill(inh_t *o) {
  uvsql_session_t *s = inh_session(o);
  employee_t *e = uvsql_orm_new(o->emps);
  e->id = 1;
  ASSERT_OK(uvsql_orm_set_text(e, &e->name, "ann"), NULL);
  ASSERT_OK(uvsql_orm_set_text(e, &e->type, "employee"), NULL);
  manager_t *m = uvsql_orm_new(o->mgrs);
  m->base.id = 2;
  ASSERT_STR_EQ(m->base.type, "manager"); /* set by uvsql_orm_new */
  ASSERT_OK(uvsql_orm_set_text(m, &m->base.name, "bob"), NULL);
  ASSERT_OK(uvsql_orm_set_text(m, &m->manager_data, "budget"), NULL);
  engineer_t *g1 = uvsql_orm_new(o->engs);
  g1->base.id = 3;
  g1->level = 3;
  ASSERT_OK(uvsql_orm_set_text(g1, &g1->base.name, "cy"), NULL);
  ASSERT_OK(uvsql_orm_set_text(g1, &g1->engineer_info, "c"), NULL);
  engineer_t *g2 = uvsql_orm_new(o->engs);
  g2->base.id = 4;
  g2->level = 2;
  ASSERT_OK(uvsql_orm_set_text(g2, &g2->base.name, "di"), NULL);
  ASSERT_OK(uvsql_orm_set_text(g2, &g2->engineer_info, "rust"), NULL);
  ASSERT_OK(uvsql_session_add(s, e), NULL);
  ASSERT_OK(uvsql_session_add(s, m), NULL);
  ASSERT_OK(uvsql_session_add(s, g1), NULL);
  ASSERT_OK(uvsql_session_add(s, g2), NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));
  /* the rows, as SQL sees them: discriminators written, other classes' columns NULL */
  ASSERT_INT_EQ(count_rows(&o->fx, o->te,
                           "id = 1 AND type = 'employee' AND manager_data IS "
                           "NULL AND engineer_info IS NULL AND level IS NULL"),
                1);
  ASSERT_INT_EQ(count_rows(&o->fx, o->te,
                           "id = 2 AND name = 'bob' AND type = 'manager' AND "
                           "manager_data = 'budget' AND engineer_info IS NULL"),
                1);
  ASSERT_INT_EQ(count_rows(&o->fx, o->te,
                           "id = 3 AND name = 'cy' AND type = 'engineer' AND "
                           "engineer_info = 'c' AND level = 3 AND manager_data "
                           "IS NULL"),
                1);
  ASSERT_INT_EQ(count_rows(&o->fx, o->te, "id = 4 AND type = 'engineer' AND level = 2"), 1);
  log_clear(&o->log);
}

static void polymorphic_select(const char *url) {
  inh_t *o = inh_open(url);
  fill(o);
  uvsql_session_t *s = inh_session(o);
  uvsql_core_stmt_t *q = uvsql_orm_select(o->emps);
  uvsql_select_order_by(q, uvsql_mapper_col(o->emps, "id"));
  uvsql_future_t *f = uvsql_session_execute(s, o->emps, q, NULL, 0, NULL, NULL);
  uvsql_orm_result_t *r = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_orm_result_count(r), 4);
  employee_t *e = uvsql_orm_result_at(r, 0);
  manager_t *m = uvsql_orm_result_at(r, 1);
  engineer_t *g1 = uvsql_orm_result_at(r, 2), *g2 = uvsql_orm_result_at(r, 3);
  ASSERT(uvsql_orm_mapper(e) == o->emps);
  ASSERT(uvsql_orm_mapper(m) == o->mgrs);
  ASSERT(uvsql_orm_mapper(g1) == o->engs && uvsql_orm_mapper(g2) == o->engs);
  ASSERT_STR_EQ(e->name, "ann");
  ASSERT_STR_EQ(e->type, "employee");
  ASSERT_STR_EQ(m->base.name, "bob");
  ASSERT_STR_EQ(m->base.type, "manager");
  ASSERT_STR_EQ(m->manager_data, "budget");
  ASSERT_STR_EQ(g1->base.type, "engineer");
  ASSERT_STR_EQ(g1->engineer_info, "c");
  ASSERT_INT_EQ(g1->level, 3);
  ASSERT_STR_EQ(g2->base.name, "di");
  ASSERT_STR_EQ(g2->engineer_info, "rust");
  ASSERT_INT_EQ(g2->level, 2);
  ASSERT_INT_EQ(uvsql_session_is_modified(s, g2), 0);
  uvsql_future_unref(f);
  uvsql_core_stmt_free(q);
  /* identity map per base key: a get on the base gives the engineer object, no SQL */
  log_clear(&o->log);
  ASSERT(await_obj(uvsql_session_get_int(s, o->emps, 3, NULL, NULL)) == g1);
  ASSERT(await_obj(uvsql_session_get_int(s, o->engs, 3, NULL, NULL)) == g1);
  ASSERT_INT_EQ(log_count(&o->log, "SELECT"), 0);
  /* a subclass get of another class's key: none */
  ASSERT(await_obj(uvsql_session_get_int(s, o->engs, 2, NULL, NULL)) == NULL);
  await_ok(uvsql_session_close(s, NULL, NULL));

  /* a fresh session: a get on the base loads the row as its subclass */
  s = inh_session(o);
  manager_t *m2 = await_obj(uvsql_session_get_int(s, o->emps, 2, NULL, NULL));
  ASSERT(m2 && uvsql_orm_mapper(m2) == o->mgrs);
  ASSERT_STR_EQ(m2->manager_data, "budget");
  ASSERT(await_obj(uvsql_session_get_int(s, o->mgrs, 2, NULL, NULL)) == m2);
  ASSERT(await_obj(uvsql_session_get_int(s, o->mgrs, 4, NULL, NULL)) == NULL);
  await_ok(uvsql_session_close(s, NULL, NULL));
  inh_close(o);
}
TEST(orm_inherit_polymorphic_select_pg) {
  polymorphic_select(test_pg_url());
}
TEST(orm_inherit_polymorphic_select_mariadb) {
  polymorphic_select(test_mariadb_url());
}
TEST(orm_inherit_polymorphic_select_sqlite) {
  polymorphic_select(test_sqlite_url());
}

static void subclass_select(const char *url) {
  inh_t *o = inh_open(url);
  fill(o);
  uvsql_session_t *s = inh_session(o);
  uvsql_core_stmt_t *q = uvsql_orm_select(o->engs);
  uvsql_select_order_by(q, uvsql_mapper_col(o->engs, "id"));
  uvsql_future_t *f = uvsql_session_execute(s, o->engs, q, NULL, 0, NULL, NULL);
  uvsql_orm_result_t *r = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_orm_result_count(r), 2);
  engineer_t *g1 = uvsql_orm_result_at(r, 0), *g2 = uvsql_orm_result_at(r, 1);
  ASSERT(uvsql_orm_mapper(g1) == o->engs && uvsql_orm_mapper(g2) == o->engs);
  ASSERT_INT_EQ(g1->base.id, 3);
  ASSERT_STR_EQ(g1->engineer_info, "c");
  ASSERT_INT_EQ(g2->base.id, 4);
  ASSERT_INT_EQ(g2->level, 2);
  uvsql_future_unref(f);
  uvsql_core_stmt_free(q);
  /* the managers' select: one */
  q = uvsql_orm_select(o->mgrs);
  f = uvsql_session_execute(s, o->mgrs, q, NULL, 0, NULL, NULL);
  r = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_orm_result_count(r), 1);
  manager_t *m = uvsql_orm_result_at(r, 0);
  ASSERT_INT_EQ(m->base.id, 2);
  ASSERT_STR_EQ(m->manager_data, "budget");
  uvsql_future_unref(f);
  uvsql_core_stmt_free(q);
  await_ok(uvsql_session_close(s, NULL, NULL));
  inh_close(o);
}
TEST(orm_inherit_subclass_select_filters_pg) {
  subclass_select(test_pg_url());
}
TEST(orm_inherit_subclass_select_filters_mariadb) {
  subclass_select(test_mariadb_url());
}
TEST(orm_inherit_subclass_select_filters_sqlite) {
  subclass_select(test_sqlite_url());
}

static void update_delete(const char *url) {
  inh_t *o = inh_open(url);
  fill(o);
  uvsql_session_t *s = inh_session(o);
  uvsql_core_stmt_t *q = uvsql_orm_select(o->emps);
  uvsql_future_t *f = uvsql_session_execute(s, o->emps, q, NULL, 0, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  uvsql_core_stmt_free(q);
  manager_t *m = await_obj(uvsql_session_get_int(s, o->emps, 2, NULL, NULL));
  engineer_t *g = await_obj(uvsql_session_get_int(s, o->emps, 3, NULL, NULL));
  ASSERT(uvsql_orm_mapper(m) == o->mgrs && uvsql_orm_mapper(g) == o->engs);
  /* a rollback puts a subclass's own fields back too (they follow base.uvsql_nulls) */
  ASSERT_OK(uvsql_orm_set_text(m, &m->manager_data, "temp"), NULL);
  g->level = 9;
  ASSERT_INT_EQ(uvsql_session_is_modified(s, g), 1);
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  ASSERT_STR_EQ(m->manager_data, "budget");
  ASSERT_INT_EQ(g->level, 3);
  m = await_obj(uvsql_session_get_int(s, o->emps, 2, NULL, NULL));
  g = await_obj(uvsql_session_get_int(s, o->emps, 3, NULL, NULL));
  ASSERT_OK(uvsql_orm_set_text(m, &m->manager_data, "bigger budget"), NULL);
  ASSERT_INT_EQ(uvsql_session_is_modified(s, m), 1); /* a field after base.uvsql_nulls */
  ASSERT_OK(uvsql_session_delete(s, g), NULL);
  log_clear(&o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(log_count(&o->log, "UPDATE"), 1);
  ASSERT_STR_CONTAINS(log_find(&o->log, "UPDATE"), "manager_data");
  ASSERT_INT_EQ(log_count(&o->log, "DELETE"), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&o->fx, o->te, NULL), 3);
  ASSERT_INT_EQ(count_rows(&o->fx, o->te, "id = 3"), 0);
  ASSERT_INT_EQ(count_rows(&o->fx, o->te,
                           "id = 2 AND type = 'manager' AND manager_data = "
                           "'bigger budget' AND name = 'bob'"),
                1);
  ASSERT_INT_EQ(count_rows(&o->fx, o->te, "id = 4 AND engineer_info = 'rust' AND level = 2"), 1);
  ASSERT_INT_EQ(count_rows(&o->fx, o->te, "id = 1 AND type = 'employee' AND name = 'ann'"), 1);
  inh_close(o);
}
TEST(orm_inherit_update_delete_subclass_rows_pg) {
  update_delete(test_pg_url());
}
TEST(orm_inherit_update_delete_subclass_rows_mariadb) {
  update_delete(test_mariadb_url());
}
TEST(orm_inherit_update_delete_subclass_rows_sqlite) {
  update_delete(test_sqlite_url());
}

/* Declarations only: no database needed, but the three backends' test runs share it. */
TEST(orm_inherit_bad_declarations) {
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_error_t err;
  uvsql_mapper_t *emps = uvsql_registry_map(reg, employee_t_model(), &err);
  uvsql_mapper_t *engs = uvsql_registry_map(reg, engineer_t_model(), &err);
  uvsql_mapper_t *mgrs = uvsql_registry_map(reg, manager_t_model(), &err);
  uvsql_mapper_t *other = uvsql_registry_map(reg, other_t_model(), &err);
  uvsql_mapper_t *nn = uvsql_registry_map(reg, nn_t_model(), &err);
  ASSERT(emps && engs && mgrs && other && nn);
  /* no discriminator yet */
  ASSERT(!uvsql_mapper_inherits(engs, emps, "engineer", &err));
  ASSERT_INT_EQ(err.code, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(err.message, "engineer_t: base employee_t has no discriminator: call "
                                   "uvsql_mapper_polymorphic_on(base, \"field\") first");
  /* unknown field, wrong kind */
  ASSERT(!uvsql_mapper_polymorphic_on(emps, "kind", &err));
  ASSERT_INT_EQ(err.code, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(err.message, "employee_t has no field \"kind\"");
  ASSERT(!uvsql_mapper_polymorphic_on(other, "price", &err));
  ASSERT_STR_CONTAINS(err.message,
                      "discriminator other_t.price is of kind DOUBLE: it must be TEXT, "
                      "STRING(n) or INT64");
  ASSERT(uvsql_mapper_polymorphic_on(emps, "type", &err) == emps);
  /* another table */
  ASSERT(!uvsql_mapper_inherits(other, emps, "other", &err));
  ASSERT_INT_EQ(err.code, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(err.message, "other_t: it maps table \"oinh_other\", its base another "
                                   "(\"oinh_employee\")");
  /* a NOT NULL subclass column */
  ASSERT(!uvsql_mapper_inherits(nn, emps, "nn", &err));
  ASSERT_STR_CONTAINS(err.message, "nn_t: its column badge is NOT NULL or a key: a subclass's "
                                   "columns must be nullable");
  /* a duplicate value */
  ASSERT(uvsql_mapper_inherits(engs, emps, "engineer", &err) == engs);
  ASSERT(!uvsql_mapper_inherits(mgrs, emps, "engineer", &err));
  ASSERT_INT_EQ(err.code, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(err.message,
                      "manager_t: discriminator value \"engineer\" is taken by engineer_t");
  /* twice; a discriminator on a subclass */
  ASSERT(!uvsql_mapper_inherits(engs, emps, "eng2", &err));
  ASSERT_STR_CONTAINS(err.message, "engineer_t: it is a base or a subclass already");
  ASSERT(!uvsql_mapper_polymorphic_on(engs, "type", &err));
  ASSERT_STR_CONTAINS(err.message, "uvsql_mapper_polymorphic_on: engineer_t is a subclass of "
                                   "employee_t: a hierarchy has one discriminator; declare it on "
                                   "its root employee_t");
  ASSERT(uvsql_mapper_inherits(mgrs, emps, "manager", &err) == mgrs);
  /* a relationship to a hierarchy is declared like any other (test_orm_inherit_rel.c) */
  ASSERT(uvsql_mapper_relationship(other, "boss", UVSQL_MANY_TO_ONE, emps, 0, "id", 0, &err));
  uvsql_registry_free(reg);
}

/* An INT64 discriminator: a value that is not an integer is refused. */
#define KIND_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(kind, INT64, 0)
UVSQL_MODEL(kbase_t, "oinh_kind", KIND_FIELDS)
#define KSUB_FIELDS(X) X(extra, TEXT, 0)
UVSQL_MODEL_INHERITS(ksub_t, kbase_t, "oinh_kind", KIND_FIELDS, KSUB_FIELDS)

TEST(orm_inherit_int_discriminator_must_be_integer) {
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_error_t err;
  uvsql_mapper_t *b = uvsql_registry_map(reg, kbase_t_model(), &err);
  uvsql_mapper_t *k = uvsql_registry_map(reg, ksub_t_model(), &err);
  ASSERT(b && k);
  ASSERT(uvsql_mapper_polymorphic_on(b, "kind", &err) == b);
  ASSERT(!uvsql_mapper_inherits(k, b, "two", &err));
  ASSERT_INT_EQ(err.code, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(err.message,
                      "discriminator value \"two\" is not an integer, but discriminator kind "
                      "is INT64");
  ASSERT(uvsql_mapper_inherits(k, b, "2", &err) == k);
  ksub_t *x = uvsql_orm_new(k);
  ASSERT_INT_EQ(x->base.kind, 2);
  uvsql_orm_free(x);
  uvsql_registry_free(reg);
}

/* Three levels on one table: a senior engineer is an engineer (UVSQL_MODEL_INHERITS2). A
 * select of the base returns each row as its class; a select of the engineers returns the
 * engineers and the senior engineers; a get of the middle class finds the senior's object. */
#define SENIOR_FIELDS(X) X(mentees, INT64, 0)
UVSQL_MODEL_INHERITS2(senior_t, engineer_t, "oinh_employee", EMPLOYEE_FIELDS, ENGINEER_FIELDS,
                      SENIOR_FIELDS)

static void three_levels(const char *url) {
  inh_t *o = calloc(1, sizeof *o);
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  uvsql_error_t err;
  o->fx = fixture_open(url, &opt);
  snprintf(o->te, sizeof o->te, "%s", test_unique_name("oinh_employee"));
  o->reg = uvsql_registry_new(NULL);
  o->emps = uvsql_registry_map_table(o->reg, employee_t_model(), o->te, &err);
  o->engs = uvsql_registry_map_table(o->reg, engineer_t_model(), o->te, &err);
  uvsql_mapper_t *seniors = uvsql_registry_map_table(o->reg, senior_t_model(), o->te, &err);
  ASSERT(o->emps && o->engs && seniors);
  ASSERT(uvsql_mapper_polymorphic_on(o->emps, "type", &err) == o->emps);
  ASSERT(uvsql_mapper_inherits(o->engs, o->emps, "engineer", &err) == o->engs);
  ASSERT(uvsql_mapper_inherits(seniors, o->engs, "senior", &err) == seniors);
  ASSERT_INT_EQ(uvsql_table_ncolumns(uvsql_mapper_table(o->emps)), 6);
  await_ok(uvsql_metadata_create_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  uvsql_session_t *s = inh_session(o);
  engineer_t *g = uvsql_orm_new(o->engs);
  g->base.id = 1;
  ASSERT_OK(uvsql_orm_set_text(g, &g->base.name, "cy"), NULL);
  ASSERT_OK(uvsql_orm_set_text(g, &g->engineer_info, "c"), NULL);
  senior_t *x = uvsql_orm_new(seniors);
  ASSERT_STR_EQ(x->base.base.type, "senior"); /* the root's discriminator */
  x->base.base.id = 2;
  x->base.level = 7;
  x->mentees = 3;
  ASSERT_OK(uvsql_orm_set_text(x, &x->base.base.name, "sue"), NULL);
  ASSERT_OK(uvsql_orm_set_text(x, &x->base.engineer_info, "lisp"), NULL);
  ASSERT_OK(uvsql_session_add(s, g), NULL);
  ASSERT_OK(uvsql_session_add(s, x), NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&o->fx, o->te,
                           "id = 2 AND type = 'senior' AND level = 7 AND mentees = 3 AND "
                           "engineer_info = 'lisp'"),
                1);
  s = inh_session(o);
  uvsql_core_stmt_t *q = uvsql_orm_select(o->engs);
  uvsql_select_order_by(q, uvsql_mapper_col(o->engs, "id"));
  uvsql_future_t *f = uvsql_session_execute(s, o->engs, q, NULL, 0, NULL, NULL);
  uvsql_orm_result_t *r = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_orm_result_count(r), 2);
  ASSERT(uvsql_orm_mapper(uvsql_orm_result_at(r, 0)) == o->engs);
  senior_t *x2 = uvsql_orm_result_at(r, 1);
  ASSERT(uvsql_orm_mapper(x2) == seniors);
  ASSERT_INT_EQ(x2->mentees, 3);
  ASSERT_INT_EQ(x2->base.level, 7);
  ASSERT_STR_EQ(x2->base.base.name, "sue");
  uvsql_future_unref(f);
  uvsql_core_stmt_free(q);
  ASSERT(await_obj(uvsql_session_get_int(s, o->engs, 2, NULL, NULL)) == x2);
  ASSERT(await_obj(uvsql_session_get_int(s, seniors, 1, NULL, NULL)) == NULL);
  /* an update of the third level's column */
  x2->mentees = 4;
  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&o->fx, o->te, "id = 2 AND mentees = 4 AND type = 'senior'"), 1);
  inh_close(o);
}
TEST(orm_inherit_three_levels_pg) {
  three_levels(test_pg_url());
}
TEST(orm_inherit_three_levels_mariadb) {
  three_levels(test_mariadb_url());
}
TEST(orm_inherit_three_levels_sqlite) {
  three_levels(test_sqlite_url());
}
