/* tests/test_orm_inherit_joined.c — joined-table inheritance on PostgreSQL, MariaDB and SQLite:
 * an employee / manager / engineer hierarchy with a table per class (manager and engineer
 * rows keyed by, and referencing, the employee row), and an executive under manager (three
 * levels). A flush INSERTs the base row first (generated key) then the subclass's; a
 * polymorphic select of the base is one LEFT OUTER JOIN statement returning each row as its
 * class with its columns; a subclass select returns only its rows; an UPDATE touches only
 * the tables whose columns changed; a DELETE removes the subclass row, then the base row
 * (checked with the captured SQL and by reading the tables with Core); bad declarations are
 * refused with a message. Each behaviour is one function taking a URL; each backend a TEST. */
#include "orm_fixture.h"

#define EMPLOYEE_FIELDS(X)                                                                         \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(40), UVSQL_NOT_NULL)                                                              \
  X(type, STRING(20), 0)
UVSQL_MODEL(employee_t, "oinj_employee", EMPLOYEE_FIELDS)

#define MANAGER_FIELDS(X) X(manager_data, TEXT, 0)
UVSQL_MODEL_INHERITS(manager_t, employee_t, "oinj_manager", EMPLOYEE_FIELDS, MANAGER_FIELDS)

#define ENGINEER_FIELDS(X)                                                                         \
  X(engineer_info, TEXT, UVSQL_NOT_NULL)                                                           \
  X(level, INT64, 0)
UVSQL_MODEL_INHERITS(engineer_t, employee_t, "oinj_engineer", EMPLOYEE_FIELDS, ENGINEER_FIELDS)

/* three levels: an executive is a manager */
#define EXECUTIVE_FIELDS(X) X(perks, TEXT, 0)
UVSQL_MODEL_INHERITS2(executive_t, manager_t, "oinj_executive", EMPLOYEE_FIELDS, MANAGER_FIELDS,
                      EXECUTIVE_FIELDS)

typedef struct {
  fixture_t fx;
  sqllog_t log;
  uvsql_registry_t *reg;
  uvsql_mapper_t *emps, *mgrs, *engs, *execs;
  char te[64], tm[64], tg[64], tx[64];
} inj_t;

static void *await_obj(uvsql_future_t *f) {
  void *obj = AWAIT_OK(f);
  uvsql_future_unref(f);
  return obj;
}

static inj_t *inj_open(const char *url) {
  inj_t *o = calloc(1, sizeof *o);
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  uvsql_error_t err;
  opt.echo = 1;
  opt.log_cb = log_line;
  opt.log_data = &o->log;
  o->fx = fixture_open(url, &opt);
  snprintf(o->te, sizeof o->te, "%s", test_unique_name("oinj_employee"));
  snprintf(o->tm, sizeof o->tm, "%s", test_unique_name("oinj_manager"));
  snprintf(o->tg, sizeof o->tg, "%s", test_unique_name("oinj_engineer"));
  snprintf(o->tx, sizeof o->tx, "%s", test_unique_name("oinj_executive"));
  o->reg = uvsql_registry_new(NULL);
  o->emps = uvsql_registry_map_table(o->reg, employee_t_model(), o->te, &err);
  ASSERT(o->emps);
  ASSERT(uvsql_mapper_polymorphic_on(o->emps, "type", &err) == o->emps);
  o->mgrs = uvsql_registry_map_joined(o->reg, manager_t_model(), o->tm, o->emps, "manager", &err);
  ASSERT(o->mgrs);
  o->engs = uvsql_registry_map_joined(o->reg, engineer_t_model(), o->tg, o->emps, "engineer", &err);
  ASSERT(o->engs);
  o->execs =
      uvsql_registry_map_joined(o->reg, executive_t_model(), o->tx, o->mgrs, "executive", &err);
  ASSERT(o->execs);
  /* a table per class: the key and the class's own columns */
  ASSERT_INT_EQ(uvsql_table_ncolumns(uvsql_mapper_table(o->emps)), 3);
  ASSERT_INT_EQ(uvsql_table_ncolumns(uvsql_mapper_table(o->mgrs)), 2);
  ASSERT_INT_EQ(uvsql_table_ncolumns(uvsql_mapper_table(o->engs)), 3);
  ASSERT_INT_EQ(uvsql_table_ncolumns(uvsql_mapper_table(o->execs)), 2);
  uvsql_fk_info_t fk;
  ASSERT_INT_EQ(uvsql_table_nfks(uvsql_mapper_table(o->execs)), 1);
  ASSERT_OK(uvsql_table_fk_at(uvsql_mapper_table(o->execs), 0, &fk), NULL);
  ASSERT_STR_EQ(fk.reftable, o->tm); /* an executive row references its manager row */
  ASSERT_STR_EQ(fk.cols[0], "id");
  await_ok(uvsql_metadata_create_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  log_clear(&o->log);
  return o;
}

static void inj_close(inj_t *o) {
  await_ok(uvsql_metadata_drop_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  uvsql_registry_free(o->reg);
  log_clear(&o->log);
  fixture_close(&o->fx);
  free(o);
}

static uvsql_session_t *inj_session(inj_t *o) {
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, o->fx.engine, o->reg, NULL), (uvsql_error_t *)NULL);
  return s;
}

/* The position in the log of the first line starting with prefix and containing table, or -1. */
static long log_pos(const sqllog_t *log, const char *prefix, const char *table) {
  for (size_t i = 0; i < log->n; i++)
    if (strncmp(log->lines[i], prefix, strlen(prefix)) == 0 && strstr(log->lines[i], table))
      return (long)i;
  return -1;
}
static size_t log_count_on(const sqllog_t *log, const char *prefix, const char *table) {
  size_t k = 0;
  for (size_t i = 0; i < log->n; i++)
    if (strncmp(log->lines[i], prefix, strlen(prefix)) == 0 && strstr(log->lines[i], table))
      k++;
  return k;
}

typedef struct {
  int64_t ann, bob, cy, di, eve;
} ids_t;

/* Through the ORM, keys generated by the employee table: a plain employee "ann", a manager
 * "bob" (data "budget"), engineers "cy" (info "c", level 3) and "di" (info "rust", level 2),
 * an executive "eve" (data "board", perks "car"). */
static ids_t fill(inj_t *o) {
  uvsql_session_t *s = inj_session(o);
  employee_t *e = uvsql_orm_new(o->emps);
  ASSERT_OK(uvsql_orm_set_text(e, &e->name, "ann"), NULL);
  ASSERT_OK(uvsql_orm_set_text(e, &e->type, "employee"), NULL);
  manager_t *m = uvsql_orm_new(o->mgrs);
  ASSERT_STR_EQ(m->base.type, "manager"); /* set by uvsql_orm_new */
  ASSERT_OK(uvsql_orm_set_text(m, &m->base.name, "bob"), NULL);
  ASSERT_OK(uvsql_orm_set_text(m, &m->manager_data, "budget"), NULL);
  engineer_t *g1 = uvsql_orm_new(o->engs), *g2 = uvsql_orm_new(o->engs);
  g1->level = 3;
  ASSERT_OK(uvsql_orm_set_text(g1, &g1->base.name, "cy"), NULL);
  ASSERT_OK(uvsql_orm_set_text(g1, &g1->engineer_info, "c"), NULL);
  g2->level = 2;
  ASSERT_OK(uvsql_orm_set_text(g2, &g2->base.name, "di"), NULL);
  ASSERT_OK(uvsql_orm_set_text(g2, &g2->engineer_info, "rust"), NULL);
  executive_t *x = uvsql_orm_new(o->execs);
  ASSERT_STR_EQ(x->base.base.type, "executive");
  ASSERT_OK(uvsql_orm_set_text(x, &x->base.base.name, "eve"), NULL);
  ASSERT_OK(uvsql_orm_set_text(x, &x->base.manager_data, "board"), NULL);
  ASSERT_OK(uvsql_orm_set_text(x, &x->perks, "car"), NULL);
  ASSERT_OK(uvsql_session_add(s, e), NULL);
  ASSERT_OK(uvsql_session_add(s, m), NULL);
  ASSERT_OK(uvsql_session_add(s, g1), NULL);
  ASSERT_OK(uvsql_session_add(s, g2), NULL);
  ASSERT_OK(uvsql_session_add(s, x), NULL);
  log_clear(&o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  /* the base rows first (their keys are generated), then each subclass table's rows */
  ASSERT(log_pos(&o->log, "INSERT", o->te) >= 0);
  ASSERT(log_pos(&o->log, "INSERT", o->te) < log_pos(&o->log, "INSERT", o->tm));
  ASSERT(log_pos(&o->log, "INSERT", o->te) < log_pos(&o->log, "INSERT", o->tg));
  ASSERT(log_pos(&o->log, "INSERT", o->tm) < log_pos(&o->log, "INSERT", o->tx));
  ASSERT_INT_EQ(log_count(&o->log, "INSERT"), 4); /* one statement per table */
  ids_t ids = {e->id, m->base.id, g1->base.id, g2->base.id, x->base.base.id};
  ASSERT(ids.ann > 0 && ids.bob > 0 && ids.cy > 0 && ids.di > 0 && ids.eve > 0);
  ASSERT(ids.bob != ids.ann && ids.cy != ids.bob && ids.di != ids.cy && ids.eve != ids.di);
  await_ok(uvsql_session_close(s, NULL, NULL));
  /* the rows, as SQL sees them */
  char w[120];
  ASSERT_INT_EQ(count_rows(&o->fx, o->te, NULL), 5);
  snprintf(w, sizeof w, "id = %lld AND name = 'bob' AND type = 'manager'", (long long)ids.bob);
  ASSERT_INT_EQ(count_rows(&o->fx, o->te, w), 1);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tm, NULL), 2); /* bob and eve */
  snprintf(w, sizeof w, "id = %lld AND manager_data = 'budget'", (long long)ids.bob);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tm, w), 1);
  snprintf(w, sizeof w, "id = %lld AND engineer_info = 'c' AND level = 3", (long long)ids.cy);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tg, w), 1);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tg, NULL), 2);
  snprintf(w, sizeof w, "id = %lld AND perks = 'car'", (long long)ids.eve);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tx, w), 1);
  snprintf(w, sizeof w, "id = %lld AND manager_data = 'board'", (long long)ids.eve);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tm, w), 1);
  log_clear(&o->log);
  return ids;
}

static void polymorphic_select(const char *url) {
  inj_t *o = inj_open(url);
  ids_t ids = fill(o);
  uvsql_session_t *s = inj_session(o);
  uvsql_core_stmt_t *q = uvsql_orm_select(o->emps);
  uvsql_select_order_by(q, uvsql_mapper_col(o->emps, "id"));
  uvsql_future_t *f = uvsql_session_execute(s, o->emps, q, NULL, 0, NULL, NULL);
  uvsql_orm_result_t *r = AWAIT_OK(f);
  /* one statement, joining every subclass table */
  ASSERT_INT_EQ(log_count(&o->log, "SELECT"), 1);
  ASSERT_STR_CONTAINS(log_find(&o->log, "SELECT"), "LEFT OUTER JOIN");
  ASSERT_INT_EQ(uvsql_orm_result_count(r), 5);
  employee_t *e = uvsql_orm_result_at(r, 0);
  manager_t *m = uvsql_orm_result_at(r, 1);
  engineer_t *g1 = uvsql_orm_result_at(r, 2), *g2 = uvsql_orm_result_at(r, 3);
  executive_t *x = uvsql_orm_result_at(r, 4);
  ASSERT(uvsql_orm_mapper(e) == o->emps);
  ASSERT(uvsql_orm_mapper(m) == o->mgrs);
  ASSERT(uvsql_orm_mapper(g1) == o->engs && uvsql_orm_mapper(g2) == o->engs);
  ASSERT(uvsql_orm_mapper(x) == o->execs);
  ASSERT_INT_EQ(e->id, ids.ann);
  ASSERT_STR_EQ(e->name, "ann");
  ASSERT_STR_EQ(m->base.name, "bob");
  ASSERT_STR_EQ(m->base.type, "manager");
  ASSERT_STR_EQ(m->manager_data, "budget");
  ASSERT_STR_EQ(g1->base.type, "engineer");
  ASSERT_STR_EQ(g1->engineer_info, "c");
  ASSERT_INT_EQ(g1->level, 3);
  ASSERT_STR_EQ(g2->base.name, "di");
  ASSERT_STR_EQ(g2->engineer_info, "rust");
  ASSERT_INT_EQ(g2->level, 2);
  ASSERT_STR_EQ(x->base.base.name, "eve");
  ASSERT_STR_EQ(x->base.manager_data, "board");
  ASSERT_STR_EQ(x->perks, "car");
  ASSERT_INT_EQ(uvsql_session_is_modified(s, g2), 0);
  ASSERT_INT_EQ(uvsql_session_is_modified(s, x), 0);
  uvsql_future_unref(f);
  uvsql_core_stmt_free(q);
  /* identity map per base key: gets give the loaded objects, no SQL */
  log_clear(&o->log);
  ASSERT(await_obj(uvsql_session_get_int(s, o->emps, ids.cy, NULL, NULL)) == g1);
  ASSERT(await_obj(uvsql_session_get_int(s, o->engs, ids.cy, NULL, NULL)) == g1);
  ASSERT(await_obj(uvsql_session_get_int(s, o->mgrs, ids.eve, NULL, NULL)) == x);
  ASSERT_INT_EQ(log_count(&o->log, "SELECT"), 0);
  await_ok(uvsql_session_close(s, NULL, NULL));

  /* a fresh session: a get on the base loads the row as its subclass */
  s = inj_session(o);
  executive_t *x2 = await_obj(uvsql_session_get_int(s, o->emps, ids.eve, NULL, NULL));
  ASSERT(x2 && uvsql_orm_mapper(x2) == o->execs);
  ASSERT_STR_EQ(x2->perks, "car");
  ASSERT_STR_EQ(x2->base.manager_data, "board");
  ASSERT(await_obj(uvsql_session_get_int(s, o->mgrs, ids.eve, NULL, NULL)) == x2);
  ASSERT(await_obj(uvsql_session_get_int(s, o->engs, ids.bob, NULL, NULL)) == NULL);
  await_ok(uvsql_session_close(s, NULL, NULL));
  inj_close(o);
}
TEST(orm_inherit_joined_polymorphic_select_pg) {
  polymorphic_select(test_pg_url());
}
TEST(orm_inherit_joined_polymorphic_select_mariadb) {
  polymorphic_select(test_mariadb_url());
}
TEST(orm_inherit_joined_polymorphic_select_sqlite) {
  polymorphic_select(test_sqlite_url());
}

static void subclass_select(const char *url) {
  inj_t *o = inj_open(url);
  ids_t ids = fill(o);
  uvsql_session_t *s = inj_session(o);
  uvsql_core_stmt_t *q = uvsql_orm_select(o->engs);
  uvsql_select_order_by(q, uvsql_mapper_col(o->engs, "id"));
  uvsql_where(q, uvsql_gt(q, uvsql_mapper_col(o->engs, "level"), uvsql_lit(q, UVSQL_V_INT64(0))));
  uvsql_future_t *f = uvsql_session_execute(s, o->engs, q, NULL, 0, NULL, NULL);
  uvsql_orm_result_t *r = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_orm_result_count(r), 2);
  engineer_t *g1 = uvsql_orm_result_at(r, 0), *g2 = uvsql_orm_result_at(r, 1);
  ASSERT(uvsql_orm_mapper(g1) == o->engs && uvsql_orm_mapper(g2) == o->engs);
  ASSERT_INT_EQ(g1->base.id, ids.cy);
  ASSERT_STR_EQ(g1->base.name, "cy");
  ASSERT_STR_EQ(g1->engineer_info, "c");
  ASSERT_INT_EQ(g2->base.id, ids.di);
  ASSERT_INT_EQ(g2->level, 2);
  uvsql_future_unref(f);
  uvsql_core_stmt_free(q);
  /* the managers' select: bob and the executive eve (a manager too), each as its class */
  q = uvsql_orm_select(o->mgrs);
  uvsql_select_order_by(q, uvsql_mapper_col(o->mgrs, "id"));
  f = uvsql_session_execute(s, o->mgrs, q, NULL, 0, NULL, NULL);
  r = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_orm_result_count(r), 2);
  manager_t *m = uvsql_orm_result_at(r, 0);
  executive_t *x = uvsql_orm_result_at(r, 1);
  ASSERT(uvsql_orm_mapper(m) == o->mgrs && uvsql_orm_mapper(x) == o->execs);
  ASSERT_INT_EQ(m->base.id, ids.bob);
  ASSERT_STR_EQ(m->manager_data, "budget");
  ASSERT_STR_EQ(x->perks, "car");
  uvsql_future_unref(f);
  uvsql_core_stmt_free(q);
  /* the executives' select: eve only */
  q = uvsql_orm_select(o->execs);
  f = uvsql_session_execute(s, o->execs, q, NULL, 0, NULL, NULL);
  r = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_orm_result_count(r), 1);
  ASSERT(uvsql_orm_result_at(r, 0) == x);
  uvsql_future_unref(f);
  uvsql_core_stmt_free(q);
  await_ok(uvsql_session_close(s, NULL, NULL));
  inj_close(o);
}
TEST(orm_inherit_joined_subclass_select_filters_pg) {
  subclass_select(test_pg_url());
}
TEST(orm_inherit_joined_subclass_select_filters_mariadb) {
  subclass_select(test_mariadb_url());
}
TEST(orm_inherit_joined_subclass_select_filters_sqlite) {
  subclass_select(test_sqlite_url());
}

static void update_delete(const char *url) {
  inj_t *o = inj_open(url);
  ids_t ids = fill(o);
  char w[120];
  uvsql_session_t *s = inj_session(o);
  manager_t *m = await_obj(uvsql_session_get_int(s, o->emps, ids.bob, NULL, NULL));
  engineer_t *g = await_obj(uvsql_session_get_int(s, o->emps, ids.cy, NULL, NULL));
  executive_t *x = await_obj(uvsql_session_get_int(s, o->emps, ids.eve, NULL, NULL));
  ASSERT(uvsql_orm_mapper(m) == o->mgrs && uvsql_orm_mapper(g) == o->engs);
  /* a subclass column only: one UPDATE, of the manager table */
  ASSERT_OK(uvsql_orm_set_text(m, &m->manager_data, "bigger budget"), NULL);
  ASSERT_INT_EQ(uvsql_session_is_modified(s, m), 1);
  log_clear(&o->log);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  ASSERT_INT_EQ(log_count(&o->log, "UPDATE"), 1);
  ASSERT_INT_EQ(log_count_on(&o->log, "UPDATE", o->tm), 1);
  ASSERT_STR_CONTAINS(log_find(&o->log, "UPDATE"), "manager_data");
  /* a base column and a subclass column: one UPDATE per table */
  ASSERT_OK(uvsql_orm_set_text(g, &g->base.name, "cyd"), NULL);
  g->level = 4;
  log_clear(&o->log);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  ASSERT_INT_EQ(log_count(&o->log, "UPDATE"), 2);
  ASSERT_INT_EQ(log_count_on(&o->log, "UPDATE", o->te), 1);
  ASSERT_INT_EQ(log_count_on(&o->log, "UPDATE", o->tg), 1);
  /* three levels: a middle table's column only */
  ASSERT_OK(uvsql_orm_set_text(x, &x->base.manager_data, "the board"), NULL);
  log_clear(&o->log);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  ASSERT_INT_EQ(log_count(&o->log, "UPDATE"), 1);
  ASSERT_INT_EQ(log_count_on(&o->log, "UPDATE", o->tm), 1);
  /* a DELETE of an engineer: its engineer row, then its employee row */
  ASSERT_OK(uvsql_session_delete(s, g), NULL);
  ASSERT_OK(uvsql_session_delete(s, x), NULL);
  log_clear(&o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(log_count(&o->log, "DELETE"), 4);
  ASSERT(log_pos(&o->log, "DELETE", o->tg) >= 0);
  ASSERT(log_pos(&o->log, "DELETE", o->tg) < log_pos(&o->log, "DELETE", o->te));
  ASSERT(log_pos(&o->log, "DELETE", o->tx) < log_pos(&o->log, "DELETE", o->tm));
  ASSERT(log_pos(&o->log, "DELETE", o->tm) < log_pos(&o->log, "DELETE", o->te));
  ASSERT_INT_EQ(uvsql_orm_state(g), UVSQL_OBJ_DETACHED);
  await_ok(uvsql_session_close(s, NULL, NULL));
  /* the tables, read with Core */
  ASSERT_INT_EQ(count_rows(&o->fx, o->te, NULL), 3);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tg, NULL), 1);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tm, NULL), 1);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tx, NULL), 0);
  snprintf(w, sizeof w, "id = %lld", (long long)ids.cy);
  ASSERT_INT_EQ(count_rows(&o->fx, o->te, w), 0);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tg, w), 0);
  snprintf(w, sizeof w, "id = %lld AND manager_data = 'bigger budget'", (long long)ids.bob);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tm, w), 1);
  snprintf(w, sizeof w, "id = %lld AND name = 'bob' AND type = 'manager'", (long long)ids.bob);
  ASSERT_INT_EQ(count_rows(&o->fx, o->te, w), 1);
  snprintf(w, sizeof w, "id = %lld AND engineer_info = 'rust' AND level = 2", (long long)ids.di);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tg, w), 1);
  inj_close(o);
}
TEST(orm_inherit_joined_update_delete_touch_their_tables_pg) {
  update_delete(test_pg_url());
}
TEST(orm_inherit_joined_update_delete_touch_their_tables_mariadb) {
  update_delete(test_mariadb_url());
}
TEST(orm_inherit_joined_update_delete_touch_their_tables_sqlite) {
  update_delete(test_sqlite_url());
}

/* A failed subclass INSERT (its NOT NULL column left NULL) writes no base row either. */
static void failed_insert(const char *url) {
  inj_t *o = inj_open(url);
  uvsql_session_t *s = inj_session(o);
  engineer_t *g = uvsql_orm_new(o->engs);
  ASSERT_OK(uvsql_orm_set_text(g, &g->base.name, "nobody"), NULL);
  ASSERT_OK(uvsql_orm_set_null(g, &g->engineer_info, 1), NULL);
  ASSERT_OK(uvsql_session_add(s, g), NULL);
  uvsql_future_t *f = uvsql_session_commit(s, NULL, NULL);
  ASSERT(uvsql_future_wait(f) != 0);
  ASSERT_INT_EQ(uvsql_future_error(f)->code, UVSQL_EINTEGRITY);
  uvsql_future_unref(f);
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_state(g), UVSQL_OBJ_TRANSIENT); /* orm.h: a rolled-back addition */
  await_ok(uvsql_session_close(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&o->fx, o->te, NULL), 0);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tg, NULL), 0);
  inj_close(o);
}
TEST(orm_inherit_joined_failed_subclass_insert_leaves_no_base_row_pg) {
  failed_insert(test_pg_url());
}
TEST(orm_inherit_joined_failed_subclass_insert_leaves_no_base_row_mariadb) {
  failed_insert(test_mariadb_url());
}
TEST(orm_inherit_joined_failed_subclass_insert_leaves_no_base_row_sqlite) {
  failed_insert(test_sqlite_url());
}

/* Declarations only: no database. */
#define OTHER_FIELDS(X)                                                                            \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(title, TEXT, 0)
UVSQL_MODEL(other_t, "oinj_other", OTHER_FIELDS)
#define KEYED_FIELDS(X) X(code, INT64, UVSQL_PRIMARY_KEY)
UVSQL_MODEL_INHERITS(keyed_t, employee_t, "oinj_keyed", EMPLOYEE_FIELDS, KEYED_FIELDS)
#define SINGLE_FIELDS(X) X(extra, TEXT, 0)
UVSQL_MODEL_INHERITS(single_t, employee_t, "oinj_employee", EMPLOYEE_FIELDS, SINGLE_FIELDS)

TEST(orm_inherit_joined_bad_declarations) {
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_error_t err;
  uvsql_mapper_t *emps = uvsql_registry_map(reg, employee_t_model(), &err);
  ASSERT(emps);
  /* no discriminator yet */
  ASSERT(!uvsql_registry_map_joined(reg, engineer_t_model(), NULL, emps, "engineer", &err));
  ASSERT_INT_EQ(err.code, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(err.message,
                      "uvsql_registry_map_joined: engineer_t: base employee_t's hierarchy has no "
                      "discriminator: call uvsql_mapper_polymorphic_on(employee_t, \"field\") "
                      "first");
  ASSERT(uvsql_mapper_polymorphic_on(emps, "type", &err) == emps);
  /* a model that does not begin with the base's fields */
  ASSERT(!uvsql_registry_map_joined(reg, other_t_model(), NULL, emps, "other", &err));
  ASSERT_INT_EQ(err.code, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(err.message, "other_t: its model does not begin with base employee_t's "
                                   "struct and fields: declare it with UVSQL_MODEL_INHERITS");
  /* an own key */
  ASSERT(!uvsql_registry_map_joined(reg, keyed_t_model(), NULL, emps, "keyed", &err));
  ASSERT_STR_CONTAINS(err.message, "keyed_t: its own field code is a key or a version counter");
  /* the base's table */
  ASSERT(!uvsql_registry_map_joined(reg, single_t_model(), NULL, emps, "single", &err));
  ASSERT_STR_CONTAINS(err.message, "single_t: table \"oinj_employee\" is mapped already");
  /* a duplicate value */
  ASSERT(uvsql_registry_map_joined(reg, engineer_t_model(), NULL, emps, "engineer", &err));
  ASSERT(!uvsql_registry_map_joined(reg, manager_t_model(), NULL, emps, "engineer", &err));
  ASSERT_STR_CONTAINS(err.message,
                      "manager_t: discriminator value \"engineer\" is taken by engineer_t");
  /* single-table and joined in one hierarchy */
  uvsql_mapper_t *single = uvsql_registry_map(reg, single_t_model(), &err);
  ASSERT(single);
  ASSERT(!uvsql_mapper_inherits(single, emps, "single", &err));
  ASSERT_STR_CONTAINS(err.message, "single_t: base employee_t is in a joined-table hierarchy: a "
                                   "hierarchy is single-table or joined, not both");
  ASSERT(!uvsql_registry_map_joined(reg, NULL, NULL, emps, "x", &err));
  ASSERT_STR_CONTAINS(err.message, "a registry, a model, a base mapper and a discriminator value "
                                   "are required");
  uvsql_registry_free(reg);
}
