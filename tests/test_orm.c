/* tests/test_orm.c — the ORM on PostgreSQL, MariaDB and SQLite: the SQLAlchemy ORM quickstart
 * in C (exactly one UPDATE of the changed column, seen through the echo log) and the identity
 * map. The unit of work has tests/test_orm_uow.c. Each behaviour is one function taking a URL;
 * each backend one TEST. Table names are unique per run, so servers can be shared. */
#include "orm_fixture.h"

static address_t *new_address(orm_t *o, user_t *u, const char *email) {
  address_t *a = uvsql_orm_new(o->addrs);
  ASSERT_OK(uvsql_orm_set_text(a, &a->email_address, email), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_link(a, &a->user_id, u), (uvsql_error_t *)NULL);
  return a;
}

static uvsql_orm_result_t *run_select(uvsql_session_t *s, const uvsql_mapper_t *m,
                                      uvsql_core_stmt_t *q, const uvsql_param_t *p, size_t n,
                                      uvsql_future_t **fout) {
  uvsql_future_t *f = uvsql_session_execute(s, m, q, p, n, NULL, NULL);
  uvsql_orm_result_t *r = AWAIT_OK(f);
  *fout = f;
  return r;
}

/* ------------------------------------------------------------------ the quickstart */

static void quickstart(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  /* add users with addresses, commit */
  user_t *spongebob = new_user(o, "spongebob", "Spongebob Squarepants");
  user_t *sandy = new_user(o, "sandy", "Sandy Cheeks");
  user_t *patrick = new_user(o, "patrick", "Patrick Star");
  address_t *a1 = new_address(o, spongebob, "spongebob@sqlalchemy.org");
  address_t *a2 = new_address(o, sandy, "sandy@sqlalchemy.org");
  address_t *a3 = new_address(o, sandy, "sandy@squirrelpower.org");
  void *all[] = {a1, a2, a3, spongebob, sandy, patrick}; /* children first: flush orders them */
  ASSERT_OK(uvsql_session_add_all(s, all, 6), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(uvsql_orm_state(sandy), UVSQL_OBJ_PENDING);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_state(sandy), UVSQL_OBJ_PERSISTENT);
  ASSERT(spongebob->id > 0 && sandy->id > 0 && patrick->id > 0);
  ASSERT(spongebob->id != sandy->id && sandy->id != patrick->id);
  ASSERT_INT_EQ(a1->user_id, spongebob->id);
  ASSERT_INT_EQ(a2->user_id, sandy->id);
  ASSERT_INT_EQ(a3->user_id, sandy->id);
  ASSERT_INT_EQ(log_count(&o->log, "INSERT"), 2);             /* one multi-row INSERT per table */
  ASSERT(strstr(log_find(&o->log, "INSERT"), o->tu) != NULL); /* parents first */
  ASSERT_INT_EQ(count_rows(&o->fx, o->ta, NULL), 3);

  /* select by name, in a new session: objects come back typed */
  uvsql_session_t *s2 = session(o);
  uvsql_core_stmt_t *q = uvsql_orm_select(o->users);
  uvsql_where(q, uvsql_in_expanding(q, uvsql_mapper_col(o->users, "name"), "names"));
  uvsql_select_order_by(q, uvsql_mapper_col(o->users, "id"));
  uvsql_param_t names[] = {UVSQL_P_TEXT("names", "spongebob"), UVSQL_P_TEXT("names", "sandy")};
  uvsql_future_t *f;
  uvsql_orm_result_t *r = run_select(s2, o->users, q, names, 2, &f);
  ASSERT_INT_EQ(uvsql_orm_result_count(r), 2);
  user_t *u0 = uvsql_orm_result_at(r, 0), *u1 = uvsql_orm_result_at(r, 1);
  ASSERT_STR_EQ(u0->name, "spongebob");
  ASSERT_STR_EQ(u0->fullname, "Spongebob Squarepants");
  ASSERT_INT_EQ(u0->id, spongebob->id);
  ASSERT_STR_EQ(u1->name, "sandy");
  uvsql_error_t err;
  void *one;
  ASSERT_ERR(uvsql_orm_result_one(r, &one, &err), UVSQL_EINTERFACE);
  ASSERT_STR_EQ(err.message, "Multiple rows were found when exactly one was required (2 user_t "
                             "rows): narrow the query's WHERE, or use uvsql_orm_result_first");
  ASSERT_ERR(uvsql_orm_result_one_or_none(r, &one, &err), UVSQL_EINTERFACE);
  ASSERT_STR_CONTAINS(err.message, "when one or none was required (2 user_t rows)");
  uvsql_future_unref(f);
  uvsql_core_stmt_free(q);

  q = uvsql_orm_select(o->users);
  uvsql_where(q, uvsql_eq(q, uvsql_mapper_col(o->users, "name"), uvsql_bindparam(q, "name")));
  uvsql_param_t p = UVSQL_P_TEXT("name", "sandy");
  r = run_select(s2, o->users, q, &p, 1, &f);
  ASSERT_OK(uvsql_orm_result_one(r, &one, &err), &err);
  ASSERT(one == u1); /* the identity map: the same row is the same object */
  uvsql_future_unref(f);
  p = UVSQL_P_TEXT("name", "nobody");
  r = run_select(s2, o->users, q, &p, 1, &f);
  ASSERT_ERR(uvsql_orm_result_one(r, &one, &err), UVSQL_EINTERFACE);
  ASSERT_STR_EQ(err.message, "No row was found when one was required: use "
                             "uvsql_orm_result_one_or_none when none is an answer");
  ASSERT_OK(uvsql_orm_result_one_or_none(r, &one, &err), &err);
  ASSERT(one == NULL);
  uvsql_future_unref(f);
  uvsql_core_stmt_free(q);

  /* change a field and commit: one UPDATE with that column only */
  user_t *sandy2 = u1;
  ASSERT(!uvsql_session_is_modified(s2, sandy2));
  ASSERT_OK(uvsql_orm_set_text(sandy2, &sandy2->fullname, "Sandy Squirrel"), (uvsql_error_t *)NULL);
  ASSERT(uvsql_session_is_modified(s2, sandy2));
  log_clear(&o->log);
  await_ok(uvsql_session_commit(s2, NULL, NULL));
  ASSERT_INT_EQ(log_count(&o->log, "UPDATE"), 1);
  const char *upd = log_find(&o->log, "UPDATE");
  const char *set = strstr(upd, " SET "), *where = strstr(upd, " WHERE ");
  ASSERT(set && where && set < where);
  char setcl[128];
  snprintf(setcl, sizeof setcl, "%.*s", (int)(where - set), set);
  ASSERT_STR_CONTAINS(setcl, "fullname");
  ASSERT(strchr(setcl, ',') == NULL); /* only that column */
  {
    char where_sql[64];
    snprintf(where_sql, sizeof where_sql, "fullname = 'Sandy Squirrel' AND id = %lld",
             (long long)sandy->id);
    ASSERT_INT_EQ(count_rows(&o->fx, o->tu, where_sql), 1);
  }

  /* delete and commit (the addresses go with ON DELETE CASCADE) */
  uvsql_future_t *g = uvsql_session_get_int(s2, o->users, patrick->id, NULL, NULL);
  user_t *patrick2 = AWAIT_OK(g);
  uvsql_future_unref(g);
  ASSERT(patrick2 && patrick2->id == patrick->id);
  ASSERT_OK(uvsql_session_delete(s2, patrick2), (uvsql_error_t *)NULL);
  log_clear(&o->log);
  await_ok(uvsql_session_commit(s2, NULL, NULL));
  ASSERT_INT_EQ(log_count(&o->log, "DELETE"), 1);
  ASSERT_INT_EQ(uvsql_orm_state(patrick2), UVSQL_OBJ_DETACHED);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tu, NULL), 2);

  await_ok(uvsql_session_close(s2, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_quickstart_pg) {
  quickstart(test_pg_url());
}
TEST(orm_quickstart_mariadb) {
  quickstart(test_mariadb_url());
}
TEST(orm_quickstart_sqlite) {
  quickstart(test_sqlite_url());
}

/* ------------------------------------------------------------------ identity map */

static void identity_map(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  user_t *u = new_user(o, "squidward", "Squidward Tentacles");
  ASSERT_OK(uvsql_session_add(s, u), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  int64_t id = u->id;
  await_ok(uvsql_session_close(s, NULL, NULL));

  s = session(o);
  log_clear(&o->log);
  uvsql_future_t *f1 = uvsql_session_get_int(s, o->users, id, NULL, NULL);
  user_t *a = AWAIT_OK(f1);
  ASSERT_INT_EQ(log_count(&o->log, "SELECT"), 1);
  uvsql_future_t *f2 = uvsql_session_get_int(s, o->users, id, NULL, NULL);
  user_t *b = AWAIT_OK(f2);
  ASSERT(a && a == b);
  ASSERT_INT_EQ(log_count(&o->log, "SELECT"), 1); /* no second query */
  ASSERT_STR_EQ(b->fullname, "Squidward Tentacles");
  uvsql_future_unref(f1);
  uvsql_future_unref(f2);
  /* a key of the wrong width fails and says what the model's key is */
  uvsql_value_t two[] = {UVSQL_V_INT64(id), UVSQL_V_INT64(id)};
  f1 = uvsql_session_get(s, o->users, two, 2, NULL, NULL);
  ASSERT_STR_EQ(AWAIT_ERR(f1, UVSQL_EINVALID_ARGUMENT)->message,
                "uvsql_session_get: user_t has 1 primary key field(s) but 2 value(s) were given: "
                "give one value per primary key field, in field order");
  uvsql_future_unref(f1);
  /* a missing key resolves with NULL */
  f1 = uvsql_session_get_int(s, o->users, id + 1000, NULL, NULL);
  ASSERT(AWAIT_OK(f1) == NULL);
  uvsql_future_unref(f1);
  /* expunge hands the object back; the next get loads a new one */
  ASSERT_OK(uvsql_session_expunge(s, a), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(uvsql_orm_state(a), UVSQL_OBJ_DETACHED);
  f1 = uvsql_session_get_int(s, o->users, id, NULL, NULL);
  b = AWAIT_OK(f1);
  ASSERT(b && b != a && b->id == a->id);
  uvsql_future_unref(f1);
  uvsql_orm_free(a);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_identity_map_pg) {
  identity_map(test_pg_url());
}
TEST(orm_identity_map_mariadb) {
  identity_map(test_mariadb_url());
}
TEST(orm_identity_map_sqlite) {
  identity_map(test_sqlite_url());
}

/* ------------------------------------------------------------------ change detection */

#define GAUGE_FIELDS(X)                                                                            \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(x, DOUBLE, 0)                                                                                  \
  X(lit, BOOL, 0)                                                                                  \
  X(note, TEXT, 0)                                                                                 \
  X(data, BYTES, 0)                                                                                \
  X(d, DATE, 0)
UVSQL_MODEL(gauge_t, "gauge", GAUGE_FIELDS)

static size_t log_index(const sqllog_t *log, const char *prefix) {
  for (size_t i = 0; i < log->n; i++)
    if (strncmp(log->lines[i], prefix, strlen(prefix)) == 0)
      return i;
  return log->n;
}

/* Direct writes into a loaded object's struct, of every field kind, are seen as changes
 * (and writes that keep the value are not); a get that queries flushes them first. A loaded
 * object's snapshot survives flushes, savepoints, rollbacks, expunge and close. */
static void change_detection(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_error_t err;
  char table[64];
  snprintf(table, sizeof table, "%s", test_unique_name("gauge"));
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_mapper_t *m = uvsql_registry_map_table(reg, gauge_t_model(), table, &err);
  ASSERT(m);
  await_ok(uvsql_metadata_create_all(uvsql_registry_metadata(reg), o->fx.engine, NULL, NULL));
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, o->fx.engine, reg, NULL), (uvsql_error_t *)NULL);
  gauge_t *g = uvsql_orm_new(m);
  g->x = 1.5;
  g->lit = 1;
  g->d = 100;
  ASSERT_OK(uvsql_orm_set_text(g, &g->note, "abc"), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_set_bytes(g, &g->data, "\x00\x01", 2), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_session_add(s, g), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  int64_t id = g->id;
  await_ok(uvsql_session_close(s, NULL, NULL));

  ASSERT_OK(uvsql_session_new(&s, o->fx.engine, reg, NULL), (uvsql_error_t *)NULL);
  uvsql_future_t *f = uvsql_session_get_int(s, m, id, NULL, NULL);
  g = AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT(g && g->x == 1.5 && g->lit == 1 && g->d == 100 && strcmp(g->note, "abc") == 0);
  ASSERT(g->data.len == 2 && memcmp(g->data.ptr, "\x00\x01", 2) == 0);
  ASSERT(!uvsql_session_is_modified(s, g));
  g->lit = 2; /* still true */
  ASSERT(!uvsql_session_is_modified(s, g));
  g->lit = 0;
  ASSERT(uvsql_session_is_modified(s, g));
  g->lit = 1;
  g->x = 2.0;
  ASSERT(uvsql_session_is_modified(s, g));
  g->x = 1.5;
  g->d = 101;
  ASSERT(uvsql_session_is_modified(s, g));
  g->d = 100;
  ASSERT(!uvsql_session_is_modified(s, g));
  g->note[1] = 'X'; /* in place */
  ASSERT(uvsql_session_is_modified(s, g));
  g->note[1] = 'b';
  ASSERT_OK(uvsql_orm_set_text(g, &g->note, "abc"), (uvsql_error_t *)NULL); /* same text */
  ASSERT(!uvsql_session_is_modified(s, g));
  free(g->note);
  g->note = NULL; /* NULL by its pointer */
  ASSERT(uvsql_session_is_modified(s, g));
  ASSERT_OK(uvsql_orm_set_text(g, &g->note, "abc"), (uvsql_error_t *)NULL);
  ((unsigned char *)g->data.ptr)[0] = 7;
  ASSERT(uvsql_session_is_modified(s, g));
  ((unsigned char *)g->data.ptr)[0] = 0;
  g->data.len = 1;
  ASSERT(uvsql_session_is_modified(s, g));
  g->data.len = 2;
  ASSERT(!uvsql_session_is_modified(s, g));
  ASSERT_OK(uvsql_orm_set_null(g, &g->d, 1), (uvsql_error_t *)NULL);
  ASSERT(uvsql_session_is_modified(s, g));
  ASSERT_OK(uvsql_orm_set_null(g, &g->d, 0), (uvsql_error_t *)NULL);
  ASSERT(!uvsql_session_is_modified(s, g));

  /* a get that queries flushes a direct write first; one that finds nothing to flush does not */
  g->x = 2.5;
  log_clear(&o->log);
  f = uvsql_session_get_int(s, m, id + 1000, NULL, NULL);
  ASSERT(AWAIT_OK(f) == NULL);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(log_count(&o->log, "UPDATE"), 1);
  ASSERT_INT_EQ(log_count(&o->log, "SELECT"), 1);
  ASSERT(log_index(&o->log, "UPDATE") < log_index(&o->log, "SELECT"));
  ASSERT(!uvsql_session_is_modified(s, g));
  f = uvsql_session_get_int(s, m, id + 1001, NULL, NULL);
  ASSERT(AWAIT_OK(f) == NULL);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(log_count(&o->log, "UPDATE"), 1);
  ASSERT_INT_EQ(log_count(&o->log, "SELECT"), 2);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE x = 2.5", table);
  ASSERT_INT_EQ(query_int(&o->fx, sql), 1);

  /* a loaded object's snapshot shares its allocation: flushes, savepoints, rollbacks, expunge
   * and close hand it over and give it back right (the ASan run checks the memory) */
  ASSERT_OK(uvsql_session_new(&s, o->fx.engine, reg, NULL), (uvsql_error_t *)NULL);
  f = uvsql_session_get_int(s, m, id, NULL, NULL);
  g = AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT_OK(uvsql_orm_set_text(g, &g->note, "one"), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  await_ok(uvsql_session_begin_nested(s, NULL, NULL));
  ASSERT_OK(uvsql_orm_set_text(g, &g->note, "two"), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  await_ok(uvsql_session_rollback(s, NULL, NULL)); /* to the savepoint */
  ASSERT_STR_EQ(g->note, "one");
  ASSERT(!uvsql_session_is_modified(s, g));
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  ASSERT_STR_EQ(g->note, "abc");
  ASSERT(g->x == 2.5);
  ASSERT(!uvsql_session_is_modified(s, g));
  ASSERT_OK(uvsql_orm_set_text(g, &g->note, "three"), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  ASSERT_OK(uvsql_session_expunge(s, g), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(uvsql_orm_state(g), UVSQL_OBJ_DETACHED);
  uvsql_orm_free(g);
  f = uvsql_session_get_int(s, m, id, NULL, NULL);
  g = AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT_STR_EQ(g->note, "three"); /* flushed, not committed */
  ASSERT_OK(uvsql_orm_set_text(g, &g->note, "four"), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL)); /* rolls back */
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE note = 'abc'", table);
  ASSERT_INT_EQ(query_int(&o->fx, sql), 1);

  await_ok(uvsql_metadata_drop_all(uvsql_registry_metadata(reg), o->fx.engine, NULL, NULL));
  uvsql_registry_free(reg);
  orm_close(o);
}

TEST(orm_change_detection_pg) {
  change_detection(test_pg_url());
}
TEST(orm_change_detection_mariadb) {
  change_detection(test_mariadb_url());
}
TEST(orm_change_detection_sqlite) {
  change_detection(test_sqlite_url());
}
