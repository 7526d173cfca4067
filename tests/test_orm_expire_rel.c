/* tests/test_orm_expire_rel.c — expiry through the eager loaders on PostgreSQL, MariaDB and
 * SQLite: after a commit, a joinedload query re-reads the expired parent and the children of
 * its rows (another connection changed them); a selectinload of a collection that is still
 * loaded leaves its children expired (a get reads them), of one not loaded yet reads them;
 * populate_existing on an ORM query overwrites objects that are not expired, children
 * included, and without it they are kept. One function taking a URL; each backend one TEST. */
#include "orm_rel_fixture.h"

/* Runs q (:n is the author's name), which must return one object. */
static void run_one(uvsql_session_t *s, uvsql_orm_query_t *q) {
  uvsql_param_t p = UVSQL_P("n", UVSQL_V_TEXT("J.R.R. Tolkien"));
  uvsql_future_t *f = uvsql_session_execute_query(s, q, &p, 1, NULL, NULL);
  AWAIT_OK(f);
  uvsql_orm_result_t *r = uvsql_future_take(f);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(uvsql_orm_result_count(r), 1);
  uvsql_orm_result_free(r);
}

static void outside(orm_t *o, const char *table, const char *set, int64_t id) {
  char sql[256];
  snprintf(sql, sizeof sql, "UPDATE %s SET %s WHERE id = %lld", table, set, (long long)id);
  exec_ok(&o->fx, sql);
}

static void through_loaders(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  author_t *a = uvsql_orm_new(o->authors);
  ASSERT_OK(uvsql_orm_set_text(a, &a->name, "Tolkien"), NOERR);
  book_t *b1 = uvsql_orm_new(o->books), *b2 = uvsql_orm_new(o->books);
  ASSERT_OK(uvsql_orm_set_text(b1, &b1->title, "The Hobbit"), NOERR);
  ASSERT_OK(uvsql_orm_set_text(b2, &b2->title, "Silmarillion"), NOERR);
  ASSERT_OK(uvsql_session_add(s, a), NOERR);
  ASSERT_OK(uvsql_orm_append(a, "books", b1), NOERR);
  ASSERT_OK(uvsql_orm_append(a, "books", b2), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT(uvsql_orm_is_expired(a) && uvsql_orm_is_expired(b1) && uvsql_orm_is_expired(b2));

  /* joinedload: the parent and the children of the joined rows are read again */
  outside(o, o->ta, "name = 'J.R.R. Tolkien'", a->id);
  outside(o, o->tb, "title = 'The Hobbit, or There and Back Again'", b1->id);
  uvsql_error_t err;
  uvsql_load_option_t jo = UVSQL_JOINEDLOAD("books");
  uvsql_orm_query_t *qj = uvsql_orm_query(o->authors, &jo, 1, &err);
  ASSERT(qj);
  uvsql_core_stmt_t *qjs = uvsql_orm_query_stmt(qj);
  uvsql_where(qjs, uvsql_eq(qjs, uvsql_mapper_col(o->authors, "name"), uvsql_bindparam(qjs, "n")));
  run_one(s, qj);
  ASSERT_STR_EQ(a->name, "J.R.R. Tolkien");
  ASSERT_STR_EQ(b1->title, "The Hobbit, or There and Back Again");
  ASSERT_STR_EQ(b2->title, "Silmarillion");
  ASSERT(!uvsql_orm_is_expired(a) && !uvsql_orm_is_expired(b1) && !uvsql_orm_is_expired(b2));
  ASSERT_INT_EQ(a->books.n, 2);
  await_ok(uvsql_session_commit(s, NULL, NULL));

  /* selectinload: a loaded collection is not loaded again (relationships do not expire), so
   * its children stay expired until something loads them: a get here */
  outside(o, o->tb, "title = 'The Silmarillion'", b2->id);
  uvsql_load_option_t so = UVSQL_SELECTINLOAD("books");
  uvsql_orm_query_t *qs = uvsql_orm_query(o->authors, &so, 1, &err);
  ASSERT(qs);
  uvsql_core_stmt_t *qss = uvsql_orm_query_stmt(qs);
  uvsql_where(qss, uvsql_eq(qss, uvsql_mapper_col(o->authors, "name"), uvsql_bindparam(qss, "n")));
  run_one(s, qs);
  ASSERT(!uvsql_orm_is_expired(a));
  ASSERT(uvsql_orm_is_expired(b2));
  ASSERT_STR_EQ(b2->title, "Silmarillion");
  uvsql_future_t *f = uvsql_session_get_int(s, o->books, b2->id, NULL, NULL);
  ASSERT(AWAIT_OK(f) == b2);
  uvsql_future_unref(f);
  ASSERT_STR_EQ(b2->title, "The Silmarillion");
  ASSERT(!uvsql_orm_is_expired(b2));

  /* a collection not loaded yet: selectin reads the expired children's rows */
  await_ok(uvsql_session_commit(s, NULL, NULL));
  char sql[256];
  snprintf(sql, sizeof sql, "INSERT INTO %s (name) VALUES ('Le Guin')", o->ta);
  exec_ok(&o->fx, sql);
  snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE name = 'Le Guin'", o->ta);
  int64_t a2id = query_int(&o->fx, sql);
  snprintf(sql, sizeof sql, "UPDATE %s SET author_id = %lld, title = 'Earthsea' WHERE id = %lld",
           o->tb, (long long)a2id, (long long)b1->id);
  exec_ok(&o->fx, sql);
  uvsql_orm_query_t *qs2 = uvsql_orm_query(o->authors, &so, 1, &err);
  uvsql_where(uvsql_orm_query_stmt(qs2),
              uvsql_eq(uvsql_orm_query_stmt(qs2), uvsql_mapper_col(o->authors, "id"),
                       uvsql_lit_int64(uvsql_orm_query_stmt(qs2), a2id)));
  uvsql_orm_result_t *r2 = run_query(s, qs2);
  author_t *a2 = uvsql_orm_result_first(r2);
  uvsql_orm_result_free(r2);
  ASSERT(a2 && a2 != a);
  ASSERT_INT_EQ(a2->books.n, 1);
  ASSERT(a2->books.items[0] == b1);
  ASSERT_STR_EQ(b1->title, "Earthsea"); /* b1 was expired by the commit: read again */
  uvsql_orm_query_free(qs2);

  /* not expired (same transaction): kept, unless the query asks for populate_existing */
  run_one(s, qj); /* b2, expired by the last commit, read again */
  ASSERT_STR_EQ(b2->title, "The Silmarillion");
  ASSERT(!uvsql_orm_is_expired(b2));
  snprintf(sql, sizeof sql, "UPDATE %s SET title = 'Unfinished Tales' WHERE id = %lld", o->tb,
           (long long)b2->id);
  f = uvsql_session_execute_sql(s, sql, NULL, 0, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  run_one(s, qj);
  ASSERT_STR_EQ(b2->title, "The Silmarillion");
  ASSERT(uvsql_orm_query_populate_existing(qj, 1) == qj);
  run_one(s, qj);
  ASSERT_STR_EQ(b2->title, "Unfinished Tales");
  ASSERT_INT_EQ(uvsql_session_is_modified(s, b2), 0);
  uvsql_orm_query_free(qj);
  uvsql_orm_query_free(qs);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_expire_through_loaders_pg) {
  through_loaders(test_pg_url());
}
TEST(orm_expire_through_loaders_mariadb) {
  through_loaders(test_mariadb_url());
}
TEST(orm_expire_through_loaders_sqlite) {
  through_loaders(test_sqlite_url());
}
