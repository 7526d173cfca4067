/* tests/test_orm_inherit_rel.c — relationships on the root of an inheritance hierarchy, used
 * from subclass objects, on PostgreSQL, MariaDB and SQLite, for a joined-table and a
 * single-table hierarchy: staff (root: a many-to-one `dept`, a one-to-many `tasks` with
 * delete cascade) and engineer (a subclass). A subclass object links, cascades save-update
 * and delete through the root's relationships; a query of the root or of the subclass loads
 * them with selectin (one IN query) and joined (a LEFT OUTER JOIN in the same statement)
 * loading, each row as its class. Relationships whose target is the hierarchy (task.owner and
 * dept.staff to the root, task.eng to the subclass) load each object as its class with
 * selectin loading, joined loading (which loads them with selectin) and uvsql_session_load,
 * and take subclass objects in set_ref / append. */
#include "orm_fixture.h"

#define DEPT_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(40), 0)
#define DEPT_RELS(X) X(staff, MANY(staff_t))
UVSQL_MODEL_REL(dept_t, "oinr_dept", DEPT_FIELDS, DEPT_RELS)

#define TASK_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(title, STRING(40), 0)                                                                          \
  X(emp_id, INT64, 0)
#define TASK_RELS(X) X(owner, ONE(staff_t)) X(eng, ONE(eng_t))
UVSQL_MODEL_REL(task_t, "oinr_task", TASK_FIELDS, TASK_RELS)

#define STAFF_FIELDS(X)                                                                            \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(40), UVSQL_NOT_NULL)                                                              \
  X(type, STRING(20), 0)                                                                           \
  X(dept_id, INT64, 0)
#define STAFF_RELS(X) X(dept, ONE(dept_t)) X(tasks, MANY(task_t))
UVSQL_MODEL_REL(staff_t, "oinr_staff", STAFF_FIELDS, STAFF_RELS)

#define ENG_FIELDS(X) X(lang, TEXT, 0)
UVSQL_MODEL_INHERITS(eng_t, staff_t, "oinr_eng", STAFF_FIELDS, ENG_FIELDS)

typedef struct {
  fixture_t fx;
  sqllog_t log;
  uvsql_registry_t *reg;
  uvsql_mapper_t *depts, *tasks, *staff, *engs;
  char td[64], tt[64], ts[64], tg[64];
} inr_t;

static inr_t *inr_open(const char *url, int joined) {
  inr_t *o = calloc(1, sizeof *o);
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  uvsql_error_t err;
  char fk[100];
  opt.echo = 1;
  opt.log_cb = log_line;
  opt.log_data = &o->log;
  o->fx = fixture_open(url, &opt);
  snprintf(o->td, sizeof o->td, "%s", test_unique_name("oinr_dept"));
  snprintf(o->tt, sizeof o->tt, "%s", test_unique_name("oinr_task"));
  snprintf(o->ts, sizeof o->ts, "%s", test_unique_name("oinr_staff"));
  snprintf(o->tg, sizeof o->tg, "%s", test_unique_name("oinr_eng"));
  o->reg = uvsql_registry_new(NULL);
  o->depts = uvsql_registry_map_table(o->reg, dept_t_model(), o->td, &err);
  o->tasks = uvsql_registry_map_table(o->reg, task_t_model(), o->tt, &err);
  o->staff = uvsql_registry_map_table(o->reg, staff_t_model(), o->ts, &err);
  ASSERT(o->depts && o->tasks && o->staff);
  snprintf(fk, sizeof fk, "%s.id", o->td);
  ASSERT(uvsql_mapper_references(o->staff, "dept_id", fk, UVSQL_FK_NO_ACTION));
  snprintf(fk, sizeof fk, "%s.id", o->ts);
  ASSERT(uvsql_mapper_references(o->tasks, "emp_id", fk, UVSQL_FK_NO_ACTION));
  /* one relationship declared before the subclass, one after: both are the subclass's */
  ASSERT(uvsql_mapper_relationship(o->staff, "dept", UVSQL_MANY_TO_ONE, o->depts,
                                   offsetof(staff_t, dept), "dept_id", 0, &err));
  ASSERT(uvsql_mapper_polymorphic_on(o->staff, "type", &err) == o->staff);
  if (joined) {
    o->engs = uvsql_registry_map_joined(o->reg, eng_t_model(), o->tg, o->staff, "engineer", &err);
  } else {
    o->engs = uvsql_registry_map_table(o->reg, eng_t_model(), o->ts, &err);
    ASSERT(o->engs);
    ASSERT(uvsql_mapper_inherits(o->engs, o->staff, "engineer", &err) == o->engs);
  }
  ASSERT(o->engs);
  ASSERT(uvsql_mapper_relationship(o->staff, "tasks", UVSQL_ONE_TO_MANY, o->tasks,
                                   offsetof(staff_t, tasks), "emp_id", UVSQL_CASCADE_ALL, &err));
  /* declared on a subclass: refused */
  ASSERT(!uvsql_mapper_relationship(o->engs, "boss", UVSQL_MANY_TO_ONE, o->depts, 0, "dept_id", 0,
                                    &err));
  ASSERT_INT_EQ(err.code, UVSQL_ENOT_SUPPORTED);
  ASSERT_STR_CONTAINS(err.message, "relationship eng_t.boss: eng_t is a subclass of staff_t: "
                                   "declare the relationship on the hierarchy's root staff_t");
  /* to a hierarchy: its root (task.owner, dept.staff) or a subclass (task.eng) */
  ASSERT(uvsql_mapper_relationship(o->tasks, "owner", UVSQL_MANY_TO_ONE, o->staff,
                                   offsetof(task_t, owner), "emp_id", 0, &err));
  ASSERT(uvsql_mapper_relationship(o->tasks, "eng", UVSQL_MANY_TO_ONE, o->engs,
                                   offsetof(task_t, eng), "emp_id", 0, &err));
  uvsql_relationship_t *ds = uvsql_mapper_relationship(
      o->depts, "staff", UVSQL_ONE_TO_MANY, o->staff, offsetof(dept_t, staff), "dept_id", 0, &err);
  ASSERT(ds && uvsql_relationship_order_by(ds, "name"));
  await_ok(uvsql_metadata_create_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  log_clear(&o->log);
  return o;
}

static void inr_close(inr_t *o) {
  await_ok(uvsql_metadata_drop_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  uvsql_registry_free(o->reg);
  log_clear(&o->log);
  fixture_close(&o->fx);
  free(o);
}

static uvsql_session_t *inr_session(inr_t *o) {
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, o->fx.engine, o->reg, NULL), (uvsql_error_t *)NULL);
  return s;
}

static task_t *new_task(inr_t *o, const char *title) {
  task_t *t = uvsql_orm_new(o->tasks);
  ASSERT_OK(uvsql_orm_set_text(t, &t->title, title), NULL);
  return t;
}

static void rels_from_subclass(const char *url, int joined) {
  inr_t *o = inr_open(url, joined);
  char w[120];
  /* an engineer and a plain staff member, linked through the root's relationships; adding
   * them adds the department and the tasks (save-update) */
  uvsql_session_t *s = inr_session(o);
  dept_t *d = uvsql_orm_new(o->depts);
  ASSERT_OK(uvsql_orm_set_text(d, &d->name, "compilers"), NULL);
  eng_t *g = uvsql_orm_new(o->engs);
  ASSERT_OK(uvsql_orm_set_text(g, &g->base.name, "cy"), NULL);
  ASSERT_OK(uvsql_orm_set_text(g, &g->lang, "c"), NULL);
  ASSERT_OK(uvsql_orm_set_ref(g, "dept", d), NULL);
  ASSERT_OK(uvsql_orm_append(g, "tasks", new_task(o, "parser")), NULL);
  ASSERT_OK(uvsql_orm_append(g, "tasks", new_task(o, "codegen")), NULL);
  staff_t *p = uvsql_orm_new(o->staff);
  ASSERT_OK(uvsql_orm_set_text(p, &p->name, "ann"), NULL);
  ASSERT_OK(uvsql_orm_set_text(p, &p->type, "staff"), NULL);
  ASSERT_OK(uvsql_orm_set_ref(p, "dept", d), NULL);
  ASSERT_OK(uvsql_session_add(s, g), NULL);
  ASSERT_OK(uvsql_session_add(s, p), NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  int64_t gid = g->base.id, did = d->id;
  ASSERT(gid > 0 && did > 0);
  await_ok(uvsql_session_close(s, NULL, NULL));
  snprintf(w, sizeof w, "emp_id = %lld", (long long)gid);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tt, w), 2);
  snprintf(w, sizeof w, "id = %lld AND dept_id = %lld AND type = 'engineer'", (long long)gid,
           (long long)did);
  ASSERT_INT_EQ(count_rows(&o->fx, o->ts, w), 1);

  /* a query of the root with selectin and joined loading: each row as its class, the
   * engineer's relationships filled; one statement plus one IN query */
  s = inr_session(o);
  uvsql_load_option_t opts[] = {UVSQL_SELECTINLOAD("tasks"), UVSQL_JOINEDLOAD("dept")};
  uvsql_error_t err;
  uvsql_orm_query_t *q = uvsql_orm_query(o->staff, opts, 2, &err);
  ASSERT(q);
  uvsql_select_order_by(uvsql_orm_query_stmt(q), uvsql_mapper_col(o->staff, "name"));
  log_clear(&o->log);
  uvsql_future_t *f = uvsql_session_execute_query(s, q, NULL, 0, NULL, NULL);
  uvsql_orm_result_t *r = AWAIT_OK(f);
  ASSERT_INT_EQ(log_count(&o->log, "SELECT"), 2);
  ASSERT_STR_CONTAINS(log_find(&o->log, "SELECT"), "LEFT OUTER JOIN");
  ASSERT_INT_EQ(uvsql_orm_result_count(r), 2);
  staff_t *p2 = uvsql_orm_result_at(r, 0);
  eng_t *g2 = uvsql_orm_result_at(r, 1);
  ASSERT(uvsql_orm_mapper(p2) == o->staff && uvsql_orm_mapper(g2) == o->engs);
  ASSERT_STR_EQ(g2->lang, "c");
  ASSERT_INT_EQ(uvsql_orm_is_loaded(g2, "dept"), 1);
  ASSERT(g2->base.dept && g2->base.dept == p2->dept);
  ASSERT_STR_EQ(g2->base.dept->name, "compilers");
  ASSERT_INT_EQ(uvsql_orm_is_loaded(g2, "tasks"), 1);
  ASSERT_INT_EQ(g2->base.tasks.n, 2);
  ASSERT_INT_EQ(p2->tasks.n, 0);
  ASSERT_INT_EQ(p2->tasks.loaded, 1);
  uvsql_future_unref(f);
  uvsql_orm_query_free(q);
  await_ok(uvsql_session_close(s, NULL, NULL));

  /* a query of the subclass with the same options */
  s = inr_session(o);
  q = uvsql_orm_query(o->engs, opts, 2, &err);
  ASSERT(q);
  f = uvsql_session_execute_query(s, q, NULL, 0, NULL, NULL);
  r = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_orm_result_count(r), 1);
  g2 = uvsql_orm_result_at(r, 0);
  ASSERT(uvsql_orm_mapper(g2) == o->engs);
  ASSERT_INT_EQ(g2->base.id, gid);
  ASSERT_STR_EQ(g2->base.dept->name, "compilers");
  ASSERT_INT_EQ(g2->base.tasks.n, 2);
  task_t *t0 = g2->base.tasks.items[0];
  ASSERT_INT_EQ(t0->emp_id, gid);
  uvsql_future_unref(f);
  uvsql_orm_query_free(q);

  /* delete cascade through the root's relationship of a subclass object */
  ASSERT_OK(uvsql_session_delete(s, g2), NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&o->fx, o->tt, NULL), 0);
  ASSERT_INT_EQ(count_rows(&o->fx, o->ts, NULL), 1);
  if (joined)
    ASSERT_INT_EQ(count_rows(&o->fx, o->tg, NULL), 0);
  inr_close(o);
}
TEST(orm_inherit_rel_joined_from_subclass_pg) {
  rels_from_subclass(test_pg_url(), 1);
}
TEST(orm_inherit_rel_joined_from_subclass_mariadb) {
  rels_from_subclass(test_mariadb_url(), 1);
}
TEST(orm_inherit_rel_joined_from_subclass_sqlite) {
  rels_from_subclass(test_sqlite_url(), 1);
}
TEST(orm_inherit_rel_single_from_subclass_pg) {
  rels_from_subclass(test_pg_url(), 0);
}
TEST(orm_inherit_rel_single_from_subclass_mariadb) {
  rels_from_subclass(test_mariadb_url(), 0);
}
TEST(orm_inherit_rel_single_from_subclass_sqlite) {
  rels_from_subclass(test_sqlite_url(), 0);
}

/* ------------------------------------------------------------------ to a hierarchy */

static void *await_obj(uvsql_future_t *f) {
  void *obj = AWAIT_OK(f);
  uvsql_future_unref(f);
  return obj;
}

static uvsql_orm_result_t *run_q(uvsql_session_t *s, uvsql_mapper_t *m,
                                 const uvsql_load_option_t *opts, size_t n, const char *order) {
  uvsql_error_t err;
  uvsql_orm_query_t *q = uvsql_orm_query(m, opts, n, &err);
  ASSERT_OK(q ? 0 : err.code, &err);
  uvsql_select_order_by(uvsql_orm_query_stmt(q), uvsql_mapper_col(m, order));
  uvsql_future_t *f = uvsql_session_execute_query(s, q, NULL, 0, NULL, NULL);
  AWAIT_OK(f);
  uvsql_orm_result_t *r = uvsql_future_take(f);
  uvsql_future_unref(f);
  uvsql_orm_query_free(q);
  return r;
}

static void rels_to_hierarchy(const char *url, int joined) {
  inr_t *o = inr_open(url, joined);
  char w[160];
  /* a department with an engineer (cy) and a plain staff member (ann); a task of each */
  uvsql_session_t *s = inr_session(o);
  dept_t *d = uvsql_orm_new(o->depts);
  ASSERT_OK(uvsql_orm_set_text(d, &d->name, "compilers"), NULL);
  eng_t *g = uvsql_orm_new(o->engs);
  ASSERT_OK(uvsql_orm_set_text(g, &g->base.name, "cy"), NULL);
  ASSERT_OK(uvsql_orm_set_text(g, &g->lang, "c"), NULL);
  staff_t *p = uvsql_orm_new(o->staff);
  ASSERT_OK(uvsql_orm_set_text(p, &p->name, "ann"), NULL);
  ASSERT_OK(uvsql_orm_set_text(p, &p->type, "staff"), NULL);
  /* a subclass object into a collection of the root's class, and as a reference to it */
  ASSERT_OK(uvsql_orm_append(d, "staff", g), NULL);
  ASSERT_OK(uvsql_orm_append(d, "staff", p), NULL);
  task_t *t1 = new_task(o, "parser"), *t2 = new_task(o, "review");
  ASSERT_OK(uvsql_orm_set_ref(t1, "owner", g), NULL);
  ASSERT_OK(uvsql_orm_set_ref(t2, "owner", p), NULL);
  /* a root object where the subclass is the target: refused */
  ASSERT_ERR(uvsql_orm_set_ref(t2, "eng", p), UVSQL_EINVALID_ARGUMENT);
  ASSERT_ERR(uvsql_orm_append(d, "staff", t1), UVSQL_EINVALID_ARGUMENT);
  ASSERT_OK(uvsql_session_add(s, d), NULL);
  ASSERT_OK(uvsql_session_add(s, t1), NULL);
  ASSERT_OK(uvsql_session_add(s, t2), NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  int64_t gid = g->base.id, pid = p->id;
  await_ok(uvsql_session_close(s, NULL, NULL));
  snprintf(w, sizeof w, "title = 'parser' AND emp_id = %lld", (long long)gid);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tt, w), 1);
  snprintf(w, sizeof w, "title = 'review' AND emp_id = %lld", (long long)pid);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tt, w), 1);
  ASSERT_INT_EQ(count_rows(&o->fx, o->ts, "dept_id IS NOT NULL"), 2);

  /* tasks with selectin owner (root target) and eng (subclass target): each owner as its
   * class with its columns; eng only for the engineer's task */
  for (int how = 0; how < 2; how++) {
    s = inr_session(o);
    uvsql_load_option_t sel[] = {UVSQL_SELECTINLOAD("owner"), UVSQL_SELECTINLOAD("eng")};
    uvsql_load_option_t join[] = {UVSQL_JOINEDLOAD("owner"), UVSQL_JOINEDLOAD("eng")};
    log_clear(&o->log);
    uvsql_orm_result_t *r = run_q(s, o->tasks, how ? join : sel, 2, "title");
    /* joined loading of a hierarchy target loads it with selectin: the tasks, then one
     * query per relationship (owner found cy and ann; eng is cy, from the identity map or
     * its own query) */
    ASSERT(log_count(&o->log, "SELECT") >= 2 && log_count(&o->log, "SELECT") <= 3);
    ASSERT_INT_EQ(uvsql_orm_result_count(r), 2);
    task_t *a = uvsql_orm_result_at(r, 0), *b = uvsql_orm_result_at(r, 1);
    ASSERT_STR_EQ(a->title, "parser");
    ASSERT(a->owner && uvsql_orm_mapper(a->owner) == o->engs);
    ASSERT_STR_EQ(a->owner->name, "cy");
    ASSERT_STR_EQ(((eng_t *)a->owner)->lang, "c");
    ASSERT((void *)a->eng == (void *)a->owner); /* one object per key */
    ASSERT_STR_EQ(b->title, "review");
    ASSERT(b->owner && uvsql_orm_mapper(b->owner) == o->staff);
    ASSERT_STR_EQ(b->owner->name, "ann");
    ASSERT_INT_EQ(uvsql_orm_is_loaded(b, "eng"), 1);
    ASSERT(b->eng == NULL); /* ann is not an engineer */
    uvsql_orm_result_free(r);
    await_ok(uvsql_session_close(s, NULL, NULL));
  }

  /* a department's staff (one-to-many to the root): each member as its class */
  s = inr_session(o);
  uvsql_load_option_t ds = UVSQL_SELECTINLOAD("staff");
  uvsql_orm_result_t *r = run_q(s, o->depts, &ds, 1, "name");
  ASSERT_INT_EQ(uvsql_orm_result_count(r), 1);
  dept_t *d2 = uvsql_orm_result_at(r, 0);
  ASSERT_INT_EQ(d2->staff.n, 2);
  staff_t *m0 = d2->staff.items[0], *m1 = d2->staff.items[1];
  ASSERT_STR_EQ(m0->name, "ann");
  ASSERT(uvsql_orm_mapper(m0) == o->staff);
  ASSERT_STR_EQ(m1->name, "cy");
  ASSERT(uvsql_orm_mapper(m1) == o->engs);
  ASSERT_STR_EQ(((eng_t *)m1)->lang, "c");
  uvsql_orm_result_free(r);
  await_ok(uvsql_session_close(s, NULL, NULL));

  /* explicit lazy load of a task's owner: the engineer */
  s = inr_session(o);
  r = run_q(s, o->tasks, NULL, 0, "title");
  task_t *a = uvsql_orm_result_at(r, 0);
  ASSERT_INT_EQ(uvsql_orm_is_loaded(a, "owner"), 0);
  ASSERT(await_obj(uvsql_session_load(s, a, "owner", NULL, NULL)) == a);
  ASSERT(a->owner && uvsql_orm_mapper(a->owner) == o->engs);
  ASSERT_STR_EQ(((eng_t *)a->owner)->lang, "c");
  /* moving the task to ann through the reference: one UPDATE of its key */
  task_t *b = uvsql_orm_result_at(r, 1);
  ASSERT(await_obj(uvsql_session_load(s, b, "owner", NULL, NULL)) == b);
  ASSERT_OK(uvsql_orm_set_ref(a, "owner", b->owner), NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  snprintf(w, sizeof w, "emp_id = %lld", (long long)pid);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tt, w), 2);
  uvsql_orm_result_free(r);
  await_ok(uvsql_session_close(s, NULL, NULL));
  inr_close(o);
}
TEST(orm_inherit_rel_joined_to_hierarchy_pg) {
  rels_to_hierarchy(test_pg_url(), 1);
}
TEST(orm_inherit_rel_joined_to_hierarchy_mariadb) {
  rels_to_hierarchy(test_mariadb_url(), 1);
}
TEST(orm_inherit_rel_joined_to_hierarchy_sqlite) {
  rels_to_hierarchy(test_sqlite_url(), 1);
}
TEST(orm_inherit_rel_single_to_hierarchy_pg) {
  rels_to_hierarchy(test_pg_url(), 0);
}
TEST(orm_inherit_rel_single_to_hierarchy_mariadb) {
  rels_to_hierarchy(test_mariadb_url(), 0);
}
TEST(orm_inherit_rel_single_to_hierarchy_sqlite) {
  rels_to_hierarchy(test_sqlite_url(), 0);
}
