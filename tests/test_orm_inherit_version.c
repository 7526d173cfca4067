/* tests/test_orm_inherit_version.c — a version counter (UVSQL_VERSION_ID) on the root of a
 * joined-table hierarchy, on PostgreSQL, MariaDB and SQLite: an INSERT starts it at 1 in the
 * root's table; an UPDATE of only a subclass column UPDATEs the root's row too (bumping and
 * checking the counter) and then the subclass table; an UPDATE of a root column is one
 * statement; a stale object (changed meanwhile by another session) fails the flush with
 * UVSQL_ESTALE_DATA and the message of any versioned object, rolls back to its loaded state,
 * and a stale DELETE fails the same way with both rows still there after the rollback.
 * Each backend one TEST. */
#include "orm_fixture.h"

#define ACCT_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(40), UVSQL_NOT_NULL)                                                              \
  X(type, STRING(20), 0)                                                                           \
  X(version, INT64, UVSQL_VERSION_ID)
UVSQL_MODEL(acct_t, "oinv_acct", ACCT_FIELDS)

#define SAVINGS_FIELDS(X) X(rate, TEXT, 0)
UVSQL_MODEL_INHERITS(savings_t, acct_t, "oinv_savings", ACCT_FIELDS, SAVINGS_FIELDS)

typedef struct {
  fixture_t fx;
  sqllog_t log;
  uvsql_registry_t *reg;
  uvsql_mapper_t *accts, *savs;
  char ta[64], ts[64];
} inv_t;

static inv_t *inv_open(const char *url) {
  inv_t *o = calloc(1, sizeof *o);
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  uvsql_error_t err;
  opt.echo = 1;
  opt.log_cb = log_line;
  opt.log_data = &o->log;
  o->fx = fixture_open(url, &opt);
  snprintf(o->ta, sizeof o->ta, "%s", test_unique_name("oinv_acct"));
  snprintf(o->ts, sizeof o->ts, "%s", test_unique_name("oinv_savings"));
  o->reg = uvsql_registry_new(NULL);
  o->accts = uvsql_registry_map_table(o->reg, acct_t_model(), o->ta, &err);
  ASSERT(o->accts);
  ASSERT(uvsql_mapper_polymorphic_on(o->accts, "type", &err) == o->accts);
  o->savs = uvsql_registry_map_joined(o->reg, savings_t_model(), o->ts, o->accts, "savings", &err);
  ASSERT_OK(o->savs ? 0 : err.code, &err);
  /* the counter is a column of the root's table only */
  ASSERT_INT_EQ(uvsql_table_ncolumns(uvsql_mapper_table(o->accts)), 4);
  ASSERT_INT_EQ(uvsql_table_ncolumns(uvsql_mapper_table(o->savs)), 2);
  await_ok(uvsql_metadata_create_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  log_clear(&o->log);
  return o;
}

static void inv_close(inv_t *o) {
  await_ok(uvsql_metadata_drop_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  uvsql_registry_free(o->reg);
  log_clear(&o->log);
  fixture_close(&o->fx);
  free(o);
}

static uvsql_session_t *inv_session(inv_t *o) {
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, o->fx.engine, o->reg, NULL), (uvsql_error_t *)NULL);
  return s;
}

/* UPDATE lines of the log naming table. */
static size_t updates_of(const sqllog_t *log, const char *table) {
  size_t n = 0;
  for (size_t i = 0; i < log->n; i++)
    if (strncmp(log->lines[i], "UPDATE", 6) == 0 && strstr(log->lines[i], table))
      n++;
  return n;
}

static int64_t col_of(inv_t *o, const char *sql_fmt, const char *table, int64_t id) {
  char sql[256];
  snprintf(sql, sizeof sql, sql_fmt, table, (long long)id);
  return query_int(&o->fx, sql);
}

static void joined_version(const char *url) {
  inv_t *o = inv_open(url);
  uvsql_session_t *s1 = inv_session(o), *s2 = inv_session(o);
  savings_t *a = uvsql_orm_new(o->savs);
  ASSERT_OK(uvsql_orm_set_text(a, &a->base.name, "ann"), NULL);
  ASSERT_OK(uvsql_orm_set_text(a, &a->rate, "1.5"), NULL);
  ASSERT_OK(uvsql_session_add(s1, a), NULL);
  await_ok(uvsql_session_commit(s1, NULL, NULL));
  int64_t id = a->base.id;
  ASSERT_INT_EQ(a->base.version, 1);
  ASSERT_INT_EQ(col_of(o, "SELECT version FROM %s WHERE id = %lld", o->ta, id), 1);

  /* s2 loads it (as its class) before s1 changes it */
  uvsql_future_t *f = uvsql_session_get_int(s2, o->accts, id, NULL, NULL);
  savings_t *b = AWAIT_OK(f);
  uvsql_future_unref(f);
  await_ok(uvsql_session_commit(s2, NULL, NULL)); /* ends s2's read transaction */
  ASSERT(uvsql_orm_mapper(b) == o->savs);
  ASSERT_INT_EQ(b->base.version, 1);
  ASSERT_STR_EQ(b->rate, "1.5");

  /* only a subclass column: the root's row is UPDATEd too (the counter), then the subclass's */
  log_clear(&o->log);
  ASSERT_OK(uvsql_orm_set_text(a, &a->rate, "2.0"), NULL);
  await_ok(uvsql_session_commit(s1, NULL, NULL));
  ASSERT_INT_EQ(a->base.version, 2);
  ASSERT_INT_EQ(log_count(&o->log, "UPDATE"), 2);
  ASSERT_INT_EQ(updates_of(&o->log, o->ta), 1);
  ASSERT_INT_EQ(updates_of(&o->log, o->ts), 1);
  ASSERT_STR_CONTAINS(log_find(&o->log, "UPDATE"), o->ta); /* the root's first */
  ASSERT_INT_EQ(col_of(o, "SELECT version FROM %s WHERE id = %lld", o->ta, id), 2);
  /* only a root column: one UPDATE */
  log_clear(&o->log);
  ASSERT_OK(uvsql_orm_set_text(a, &a->base.name, "anne"), NULL);
  await_ok(uvsql_session_commit(s1, NULL, NULL));
  ASSERT_INT_EQ(a->base.version, 3);
  ASSERT_INT_EQ(log_count(&o->log, "UPDATE"), 1);
  ASSERT_INT_EQ(updates_of(&o->log, o->ta), 1);

  /* s2's copy is stale: changing its subclass column fails on the root's counter */
  ASSERT_OK(uvsql_orm_set_text(b, &b->rate, "9.9"), NULL);
  f = uvsql_session_commit(s2, NULL, NULL);
  const uvsql_error_t *err = AWAIT_ERR(f, UVSQL_ESTALE_DATA);
  ASSERT_STR_CONTAINS(err->message, o->ta);
  ASSERT_STR_CONTAINS(err->message,
                      "' expected to update 1 row(s); 0 were matched (the row was changed or "
                      "deleted by someone else): roll back the session, reload the object and "
                      "decide again");
  uvsql_future_unref(f);
  await_ok(uvsql_session_rollback(s2, NULL, NULL));
  ASSERT_STR_EQ(b->rate, "1.5"); /* back to what it was loaded as */
  ASSERT_INT_EQ(b->base.version, 1);
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s WHERE id = %lld AND rate = '2.0'", o->ts,
           (long long)id);
  ASSERT_INT_EQ(query_int(&o->fx, sql), 1); /* s1's value stays */

  /* a stale DELETE fails the same way; the rollback keeps both rows */
  ASSERT_OK(uvsql_session_delete(s2, b), NULL);
  f = uvsql_session_commit(s2, NULL, NULL);
  err = AWAIT_ERR(f, UVSQL_ESTALE_DATA);
  ASSERT_STR_CONTAINS(err->message, o->ta);
  ASSERT_STR_CONTAINS(err->message, "' expected to delete 1 row(s); only 0 were matched (changed "
                                    "or deleted by someone else): roll back the session and "
                                    "reload");
  uvsql_future_unref(f);
  await_ok(uvsql_session_rollback(s2, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&o->fx, o->ta, NULL), 1);
  ASSERT_INT_EQ(count_rows(&o->fx, o->ts, NULL), 1);

  /* the fresh copy updates and deletes fine */
  ASSERT_OK(uvsql_orm_set_text(a, &a->rate, "3.0"), NULL);
  await_ok(uvsql_session_commit(s1, NULL, NULL));
  ASSERT_INT_EQ(a->base.version, 4);
  ASSERT_OK(uvsql_session_delete(s1, a), NULL);
  await_ok(uvsql_session_commit(s1, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&o->fx, o->ta, NULL), 0);
  ASSERT_INT_EQ(count_rows(&o->fx, o->ts, NULL), 0);
  await_ok(uvsql_session_close(s1, NULL, NULL));
  await_ok(uvsql_session_close(s2, NULL, NULL));
  inv_close(o);
}

TEST(orm_inherit_version_joined_pg) {
  joined_version(test_pg_url());
}
TEST(orm_inherit_version_joined_mariadb) {
  joined_version(test_mariadb_url());
}
TEST(orm_inherit_version_joined_sqlite) {
  joined_version(test_sqlite_url());
}
