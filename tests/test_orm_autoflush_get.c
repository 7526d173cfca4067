/* tests/test_orm_autoflush_get.c — session.get and autoflush, on PostgreSQL, MariaDB and SQLite:
 * a get answered by the identity map sends no SQL and flushes nothing (as SQLAlchemy's), a get
 * that queries flushes first, and the autoflush check (uvsql__obj_modified) sees fields edited
 * directly in the struct, not through the setters: a character of a text changed in place, a
 * text pointer replaced by another with different (or the same) content, a text set to NULL.
 * Each behaviour is one function taking a URL; each backend one TEST. */
#include "orm_fixture.h"

static user_t *get_user(uvsql_session_t *s, orm_t *o, int64_t id) {
  uvsql_future_t *f = uvsql_session_get_int(s, o->users, id, NULL, NULL);
  user_t *u = AWAIT_OK(f);
  uvsql_future_unref(f);
  return u;
}

/* Index of the first logged line starting with prefix, or -1. */
static long log_index(const sqllog_t *log, const char *prefix) {
  for (size_t i = 0; i < log->n; i++)
    if (strncmp(log->lines[i], prefix, strlen(prefix)) == 0)
      return (long)i;
  return -1;
}

/* The value of column col of the row with this id, read by a Core select in the session's
 * transaction (NULL: SQL NULL); the caller frees it. */
static char *db_text(uvsql_session_t *s, orm_t *o, const char *col, int64_t id) {
  uvsql_core_stmt_t *q = uvsql_select_new();
  uvsql_select_cols(q, uvsql_mapper_col(o->users, col));
  uvsql_where(q, uvsql_eq(q, uvsql_mapper_col(o->users, "id"), uvsql_bindparam(q, "id")));
  uvsql_param_t p = UVSQL_P("id", UVSQL_V_INT64(id));
  uvsql_future_t *f = uvsql_session_scalar(s, q, &p, 1, NULL, NULL);
  const uvsql_value_t *v = AWAIT_OK(f);
  char *text = v && v->type != UVSQL_TYPE_NULL ? strndup(v->u.s.ptr, v->u.s.len) : NULL;
  uvsql_future_unref(f);
  uvsql_core_stmt_free(q);
  return text;
}

static void direct_edits(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  const char *names[] = {"alice", "bob", "carol", "dave"};
  int64_t id[4];
  user_t *u[4];
  for (int i = 0; i < 4; i++) {
    u[i] = new_user(o, names[i], "Full Name");
    ASSERT_OK(uvsql_session_add(s, u[i]), (uvsql_error_t *)NULL);
  }
  await_ok(uvsql_session_commit(s, NULL, NULL));
  for (int i = 0; i < 4; i++)
    id[i] = u[i]->id;
  await_ok(uvsql_session_close(s, NULL, NULL));

  s = session(o);
  user_t *a = get_user(s, o, id[0]); /* a miss: one SELECT */
  ASSERT(a);
  ASSERT_STR_EQ(a->name, "alice");

  /* A hit: no SQL at all, even with a change waiting (SQLAlchemy's get does not flush). */
  a->name[0] = 'Z'; /* in place, no setter */
  log_clear(&o->log);
  ASSERT(get_user(s, o, id[0]) == a);
  ASSERT_INT_EQ((int)o->log.n, 0);

  /* A miss: the in-place edit is flushed before the SELECT of the other key. */
  user_t *b = get_user(s, o, id[1]);
  ASSERT(b);
  ASSERT_STR_EQ(b->name, "bob");
  ASSERT_INT_EQ((int)log_count(&o->log, "UPDATE"), 1);
  ASSERT(log_index(&o->log, "UPDATE") >= 0);
  ASSERT(log_index(&o->log, "UPDATE") < log_index(&o->log, "SELECT"));
  char *t = db_text(s, o, "name", id[0]);
  ASSERT_STR_EQ(t, "Zlice");
  free(t);

  /* A text pointer replaced by a copy of the same text: nothing to flush. */
  free(b->fullname);
  b->fullname = strdup("Full Name");
  log_clear(&o->log);
  user_t *c = get_user(s, o, id[2]);
  ASSERT(c);
  ASSERT_INT_EQ((int)log_count(&o->log, "UPDATE"), 0);
  ASSERT_INT_EQ((int)log_count(&o->log, "SELECT"), 1);

  /* Replaced by a different text: flushed, before a get that finds no row. */
  free(c->fullname);
  c->fullname = strdup("Carol C.");
  log_clear(&o->log);
  ASSERT(get_user(s, o, id[3] + 1000) == NULL);
  ASSERT_INT_EQ((int)log_count(&o->log, "UPDATE"), 1);
  ASSERT(log_index(&o->log, "UPDATE") < log_index(&o->log, "SELECT"));
  t = db_text(s, o, "fullname", id[2]);
  ASSERT_STR_EQ(t, "Carol C.");
  free(t);

  /* Set to NULL directly (the pointer, not the null flag): flushed as NULL. */
  free(b->fullname);
  b->fullname = NULL;
  log_clear(&o->log);
  user_t *d = get_user(s, o, id[3]);
  ASSERT(d);
  ASSERT_STR_EQ(d->name, "dave");
  ASSERT_INT_EQ((int)log_count(&o->log, "UPDATE"), 1);
  ASSERT(log_index(&o->log, "UPDATE") < log_index(&o->log, "SELECT"));
  t = db_text(s, o, "fullname", id[1]);
  ASSERT(t == NULL);

  /* Nothing changed since: a miss flushes nothing. */
  log_clear(&o->log);
  ASSERT(get_user(s, o, id[3] + 2000) == NULL);
  ASSERT_INT_EQ((int)log_count(&o->log, "UPDATE"), 0);
  ASSERT_INT_EQ((int)log_count(&o->log, "SELECT"), 1);

  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_autoflush_get_sees_direct_edits_pg) {
  direct_edits(test_pg_url());
}
TEST(orm_autoflush_get_sees_direct_edits_mariadb) {
  direct_edits(test_mariadb_url());
}
TEST(orm_autoflush_get_sees_direct_edits_sqlite) {
  direct_edits(test_sqlite_url());
}
