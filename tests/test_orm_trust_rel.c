/* tests/test_orm_trust_rel.c — relationships checked against the rows, on PostgreSQL, MariaDB
 * and SQLite (orm_rel_fixture.h: author.books with cascade delete and delete-orphan):
 *  - a book moved to another author (set_ref), then its old author deleted, in one flush: the
 *    book survives under its new author, the old author's other books are deleted; with the
 *    old author's books loaded before, and with them not loaded (the flush loads them: the
 *    moved book's row still names the old author then, yet it must not be deleted).
 * Each behaviour is one function taking a URL; each backend one TEST. */
#include "orm_rel_fixture.h"

static void *await_obj(uvsql_future_t *f) {
  void *obj = AWAIT_OK(f);
  uvsql_future_unref(f);
  return obj;
}

typedef struct {
  int64_t a, b, b1, b2, b3;
} kids_t;

/* Author A with books b1 and b2, author B with b3, committed; the session is closed. */
static kids_t two_authors(orm_t *o) {
  uvsql_session_t *s = session(o);
  author_t *a = named(o->authors, "A"), *b = named(o->authors, "B");
  book_t *b1 = named(o->books, "b1"), *b2 = named(o->books, "b2"), *b3 = named(o->books, "b3");
  ASSERT_OK(uvsql_orm_append(a, "books", b1), NOERR);
  ASSERT_OK(uvsql_orm_append(a, "books", b2), NOERR);
  ASSERT_OK(uvsql_orm_append(b, "books", b3), NOERR);
  ASSERT_OK(uvsql_session_add(s, a), NOERR);
  ASSERT_OK(uvsql_session_add(s, b), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  kids_t k = {a->id, b->id, b1->id, b2->id, b3->id};
  await_ok(uvsql_session_close(s, NULL, NULL));
  return k;
}

static int64_t where_count(orm_t *o, const char *table, const char *fmt, int64_t x, int64_t y) {
  char w[160];
  snprintf(w, sizeof w, fmt, (long long)x, (long long)y);
  return count_rows(&o->fx, table, w);
}

static void move_then_delete_old_parent(const char *url, int load_old_books) {
  orm_t *o = orm_open(url);
  kids_t k = two_authors(o);
  uvsql_session_t *s = session(o);
  author_t *a = await_obj(uvsql_session_get_int(s, o->authors, k.a, NULL, NULL));
  author_t *b = await_obj(uvsql_session_get_int(s, o->authors, k.b, NULL, NULL));
  if (load_old_books) {
    ASSERT(await_obj(uvsql_session_load(s, a, "books", NULL, NULL)) == a);
    ASSERT_INT_EQ(a->books.n, 2);
  }
  book_t *b1 = await_obj(uvsql_session_get_int(s, o->books, k.b1, NULL, NULL));
  ASSERT_OK(uvsql_orm_set_ref(b1, "author", b), NOERR);
  ASSERT(b1->author == b);
  ASSERT_OK(uvsql_session_delete(s, a), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  /* the rows */
  ASSERT_INT_EQ(where_count(o, o->ta, "id = %lld OR id = %lld", k.a, k.a), 0);
  ASSERT_INT_EQ(where_count(o, o->tb, "id = %lld AND author_id = %lld", k.b1, k.b), 1);
  ASSERT_INT_EQ(where_count(o, o->tb, "id = %lld OR id = %lld", k.b2, k.b2), 0);
  ASSERT_INT_EQ(where_count(o, o->tb, "id = %lld AND author_id = %lld", k.b3, k.b), 1);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tb, NULL), 2);
  /* the objects */
  ASSERT_INT_EQ(uvsql_orm_state(a), UVSQL_OBJ_DETACHED);
  ASSERT_INT_EQ(uvsql_orm_state(b1), UVSQL_OBJ_PERSISTENT);
  ASSERT(b1->author == b);
  ASSERT_INT_EQ(b1->author_id, k.b);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_trust_move_then_delete_old_parent_loaded_pg) {
  move_then_delete_old_parent(test_pg_url(), 1);
}
TEST(orm_trust_move_then_delete_old_parent_loaded_mariadb) {
  move_then_delete_old_parent(test_mariadb_url(), 1);
}
TEST(orm_trust_move_then_delete_old_parent_loaded_sqlite) {
  move_then_delete_old_parent(test_sqlite_url(), 1);
}
TEST(orm_trust_move_then_delete_old_parent_unloaded_pg) {
  move_then_delete_old_parent(test_pg_url(), 0);
}
TEST(orm_trust_move_then_delete_old_parent_unloaded_mariadb) {
  move_then_delete_old_parent(test_mariadb_url(), 0);
}
TEST(orm_trust_move_then_delete_old_parent_unloaded_sqlite) {
  move_then_delete_old_parent(test_sqlite_url(), 0);
}

/* expire of a parent with an unflushed change of its collection (SQLAlchemy: the new book,
 * added to the session by the append's cascade, keeps its author and is inserted; the
 * collection is read again from the rows) */
static void expire_with_collection_change(const char *url) {
  orm_t *o = orm_open(url);
  kids_t k = two_authors(o);
  uvsql_session_t *s = session(o);
  author_t *a = await_obj(uvsql_session_get_int(s, o->authors, k.a, NULL, NULL));
  ASSERT(await_obj(uvsql_session_load(s, a, "books", NULL, NULL)) == a);
  book_t *nb = named(o->books, "new");
  ASSERT_OK(uvsql_orm_append(a, "books", nb), NOERR);
  ASSERT_INT_EQ(uvsql_orm_state(nb), UVSQL_OBJ_PENDING);
  ASSERT_OK(uvsql_session_expire(s, a), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_state(nb), UVSQL_OBJ_PERSISTENT);
  ASSERT_INT_EQ(nb->author_id, k.a);
  ASSERT_INT_EQ(where_count(o, o->tb, "id = %lld AND author_id = %lld", nb->id, k.a), 1);
  ASSERT_INT_EQ(where_count(o, o->tb, "author_id = %lld OR author_id = %lld", k.a, k.a), 3);
  /* a's collection, read again: three books, the new one among them */
  author_t *again = await_obj(uvsql_session_get_int(s, o->authors, k.a, NULL, NULL));
  ASSERT(again == a);
  ASSERT(await_obj(uvsql_session_load(s, a, "books", NULL, NULL)) == a);
  ASSERT_INT_EQ(a->books.n, 3);
  ASSERT(a->books.items[2] == nb);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_trust_expire_parent_with_unflushed_append_pg) {
  expire_with_collection_change(test_pg_url());
}
TEST(orm_trust_expire_parent_with_unflushed_append_mariadb) {
  expire_with_collection_change(test_mariadb_url());
}
TEST(orm_trust_expire_parent_with_unflushed_append_sqlite) {
  expire_with_collection_change(test_sqlite_url());
}

/* refresh of a book whose author was changed (set_ref) and not flushed: as SQLAlchemy's
 * refresh, the change is discarded; the next commit writes nothing, the row keeps its author */
static void refresh_discards_ref_change(const char *url) {
  orm_t *o = orm_open(url);
  kids_t k = two_authors(o);
  uvsql_session_t *s = session(o);
  author_t *b = await_obj(uvsql_session_get_int(s, o->authors, k.b, NULL, NULL));
  book_t *b1 = await_obj(uvsql_session_get_int(s, o->books, k.b1, NULL, NULL));
  ASSERT_OK(uvsql_orm_set_ref(b1, "author", b), NOERR);
  ASSERT(await_obj(uvsql_session_refresh(s, b1, NULL, NULL)) == b1);
  ASSERT_INT_EQ(b1->author_id, k.a);
  ASSERT(b1->author == NULL); /* not loaded: the row says a, not b */
  ASSERT_INT_EQ(uvsql_session_is_modified(s, b1), 0);
  o->log = (sqllog_t){0};
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(o->log.updates, 0);
  ASSERT_INT_EQ(where_count(o, o->tb, "id = %lld AND author_id = %lld", k.b1, k.a), 1);
  /* loaded again: a's book; b's collection without it */
  ASSERT(await_obj(uvsql_session_load(s, b1, "author", NULL, NULL)) == b1);
  ASSERT_INT_EQ(b1->author->id, k.a);
  ASSERT(await_obj(uvsql_session_load(s, b, "books", NULL, NULL)) == b);
  ASSERT_INT_EQ(b->books.n, 1);
  ASSERT_INT_EQ(((book_t *)b->books.items[0])->id, k.b3);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_trust_refresh_discards_reference_change_pg) {
  refresh_discards_ref_change(test_pg_url());
}
TEST(orm_trust_refresh_discards_reference_change_mariadb) {
  refresh_discards_ref_change(test_mariadb_url());
}
TEST(orm_trust_refresh_discards_reference_change_sqlite) {
  refresh_discards_ref_change(test_sqlite_url());
}

/* expire of a book whose author was changed (set_ref) and not flushed: the change is
 * discarded (SQLAlchemy's expire), the next commit writes nothing */
static void expire_discards_ref_change(const char *url) {
  orm_t *o = orm_open(url);
  kids_t k = two_authors(o);
  uvsql_session_t *s = session(o);
  author_t *b = await_obj(uvsql_session_get_int(s, o->authors, k.b, NULL, NULL));
  book_t *b1 = await_obj(uvsql_session_get_int(s, o->books, k.b1, NULL, NULL));
  ASSERT_OK(uvsql_orm_set_ref(b1, "author", b), NOERR);
  ASSERT_OK(uvsql_session_expire(s, b1), NOERR);
  ASSERT_INT_EQ(b1->author_id, k.a);
  ASSERT_INT_EQ(uvsql_session_is_modified(s, b1), 0);
  o->log = (sqllog_t){0};
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(o->log.updates, 0);
  ASSERT_INT_EQ(where_count(o, o->tb, "id = %lld AND author_id = %lld", k.b1, k.a), 1);
  ASSERT(await_obj(uvsql_session_get_int(s, o->books, k.b1, NULL, NULL)) == b1);
  ASSERT_INT_EQ(b1->author_id, k.a);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_trust_expire_discards_reference_change_pg) {
  expire_discards_ref_change(test_pg_url());
}
TEST(orm_trust_expire_discards_reference_change_mariadb) {
  expire_discards_ref_change(test_mariadb_url());
}
TEST(orm_trust_expire_discards_reference_change_sqlite) {
  expire_discards_ref_change(test_sqlite_url());
}

/* a rolled-back reference change is not written by the next commit */
static void rollback_discards_ref_change(const char *url) {
  orm_t *o = orm_open(url);
  kids_t k = two_authors(o);
  uvsql_session_t *s = session(o);
  author_t *b = await_obj(uvsql_session_get_int(s, o->authors, k.b, NULL, NULL));
  book_t *b1 = await_obj(uvsql_session_get_int(s, o->books, k.b1, NULL, NULL));
  ASSERT_OK(uvsql_orm_set_ref(b1, "author", b), NOERR);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  ASSERT_INT_EQ(b1->author_id, k.a);
  o->log = (sqllog_t){0};
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(o->log.updates, 0);
  ASSERT_INT_EQ(where_count(o, o->tb, "id = %lld AND author_id = %lld", k.b1, k.a), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_trust_rollback_discards_reference_change_pg) {
  rollback_discards_ref_change(test_pg_url());
}
TEST(orm_trust_rollback_discards_reference_change_mariadb) {
  rollback_discards_ref_change(test_mariadb_url());
}
TEST(orm_trust_rollback_discards_reference_change_sqlite) {
  rollback_discards_ref_change(test_sqlite_url());
}
