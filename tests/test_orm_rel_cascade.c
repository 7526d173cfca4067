/* tests/test_orm_rel_cascade.c — ORM relationships at flush on PostgreSQL, MariaDB and
 * SQLite: many-to-many add / remove / delete-orphan checked in the secondary table with Core
 * queries (and joinedload through it, and what a rollback leaves); one-to-many cascades
 * (save-update, delete, also of collections not loaded, delete-orphan, moving a child);
 * one-to-one and joined many-to-one (outer and inner). Each behaviour is one function taking
 * a URL; each backend one TEST. */
#include "orm_rel_fixture.h"

/* ------------------------------------------------------------------ one-to-one, joined many-to-one
 */

static void one_to_one(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  author_t *a = named(o->authors, "ann"), *b = named(o->authors, "bob");
  profile_t *p = named(o->profiles, "likes C");
  ASSERT_OK(uvsql_orm_set_ref(a, "profile", p), NOERR);
  ASSERT(p->author == a); /* back_populates */
  ASSERT_OK(uvsql_orm_append(a, "books", named(o->books, "a1")), NOERR);
  ASSERT_OK(uvsql_session_add(s, a), NOERR); /* save-update: the profile and the book too */
  ASSERT_OK(uvsql_session_add(s, b), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_KEY_EQ(p->author_id, a->id);
  await_ok(uvsql_session_close(s, NULL, NULL));

  uvsql_load_option_t opts[2] = {UVSQL_JOINEDLOAD("profile"), UVSQL_SELECTINLOAD("profile")};
  for (int k = 0; k < 2; k++) {
    uvsql_orm_query_t *q = query_of(o->authors, &opts[k], 1);
    s = session(o);
    o->log.selects = 0;
    uvsql_orm_result_t *r = run_query(s, q);
    ASSERT_INT_EQ(o->log.selects, k == 0 ? 1 : 2);
    ASSERT_INT_EQ(uvsql_orm_result_count(r), 2);
    a = uvsql_orm_result_at(r, 0);
    b = uvsql_orm_result_at(r, 1);
    ASSERT_STR_EQ(a->profile->bio, "likes C");
    ASSERT(a->profile->author == a);
    ASSERT_INT_EQ(uvsql_orm_is_loaded(b, "profile"), 1);
    ASSERT(b->profile == NULL);
    uvsql_orm_result_free(r);
    await_ok(uvsql_session_close(s, NULL, NULL));
    uvsql_orm_query_free(q);
  }
  /* joined many-to-one: books with their author, one statement */
  uvsql_load_option_t ja = UVSQL_JOINEDLOAD("author");
  uvsql_orm_query_t *q = query_of(o->books, &ja, 1);
  s = session(o);
  o->log.selects = 0;
  uvsql_orm_result_t *r = run_query(s, q);
  ASSERT_INT_EQ(o->log.selects, 1);
  book_t *bk = uvsql_orm_result_first(r);
  ASSERT_STR_EQ(bk->author->name, "ann");
  ASSERT_INT_EQ(uvsql_orm_is_loaded(bk->author, "books"), 0); /* the other side: not loaded */
  /* a book without an author: there with the outer join, not with innerjoin */
  book_t *lone = named(o->books, "lone");
  ASSERT_OK(uvsql_orm_set_null(lone, &lone->author_id, 1), NOERR);
  ASSERT_OK(uvsql_session_add(s, lone), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  uvsql_orm_result_free(r);
  r = run_query(s, q);
  ASSERT_INT_EQ(uvsql_orm_result_count(r), 2);
  ASSERT(((book_t *)uvsql_orm_result_at(r, 1))->author == NULL);
  uvsql_orm_result_free(r);
  uvsql_orm_query_free(q);
  uvsql_load_option_t inner = UVSQL_JOINEDLOAD_INNER("author");
  q = query_of(o->books, &inner, 1);
  r = run_query(s, q);
  ASSERT_INT_EQ(uvsql_orm_result_count(r), 1);
  ASSERT(((book_t *)uvsql_orm_result_first(r))->author != NULL);
  uvsql_orm_result_free(r);
  await_ok(uvsql_session_close(s, NULL, NULL));
  uvsql_orm_query_free(q);
  orm_close(o);
}

#if ORM_REL_KEYS == 0 /* the key variants name their own tests */
TEST(orm_rel_one_to_one_pg) {
  one_to_one(test_pg_url());
}
TEST(orm_rel_one_to_one_mariadb) {
  one_to_one(test_mariadb_url());
}
TEST(orm_rel_one_to_one_sqlite) {
  one_to_one(test_sqlite_url());
}
#endif

/* ------------------------------------------------------------------ many-to-many */

static int64_t enrolled(orm_t *o, okey_t student, okey_t course) {
  char where[128];
  snprintf(where, sizeof where, "student_id = %s AND course_id = %s", key_sql(student),
           key_sql(course));
  return count_rows(&o->fx, o->te, where);
}

static void many_to_many(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  student_t *s1 = named(o->students, "s1"), *s2 = named(o->students, "s2");
  course_t *c1 = named(o->courses, "c1"), *c2 = named(o->courses, "c2");
  course_t *c3 = named(o->courses, "c3");
  ASSERT_OK(uvsql_orm_append(s1, "courses", c1), NOERR);
  ASSERT_OK(uvsql_orm_append(s1, "courses", c2), NOERR);
  ASSERT_OK(uvsql_orm_append(s2, "courses", c2), NOERR);
  ASSERT_INT_EQ(c2->students.n, 2); /* back_populates */
  ASSERT_OK(uvsql_session_add(s, s1), NOERR);
  ASSERT_OK(uvsql_session_add(s, s2), NOERR);
  ASSERT_OK(uvsql_session_add(s, c3), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  okey_t id1 = KEY(s1->id), id2 = KEY(s2->id), k1 = KEY(c1->id), k2 = KEY(c2->id);
  okey_t k3 = KEY(c3->id);
  await_ok(uvsql_session_close(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&o->fx, o->te, NULL), 3);
  ASSERT_INT_EQ(enrolled(o, id1, k1) + enrolled(o, id1, k2) + enrolled(o, id2, k2), 3);

  s = session(o);
  uvsql_load_option_t opt = UVSQL_SELECTINLOAD("courses");
  uvsql_orm_query_t *q = query_of(o->students, &opt, 1);
  uvsql_orm_result_t *r = run_query(s, q);
  s1 = uvsql_orm_result_at(r, 0);
  s2 = uvsql_orm_result_at(r, 1);
  ASSERT_INT_EQ(s1->courses.n, 2);
  ASSERT_INT_EQ(s2->courses.n, 1);
  c1 = s1->courses.items[0];
  c2 = s1->courses.items[1];
  ASSERT_STR_EQ(c1->title, "c1");
  ASSERT(s2->courses.items[0] == c2); /* one object per row */
  /* add: s2 takes c1 */
  ASSERT_OK(uvsql_orm_append(s2, "courses", c1), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(enrolled(o, id2, k1), 1);
  /* remove from the course's side (no delete-orphan there): only the row goes */
  uvsql_future_t *f = uvsql_session_load(s, c2, "students", NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(c2->students.n, 2);
  ASSERT_OK(uvsql_orm_remove(c2, "students", s1), NOERR);
  ASSERT_INT_EQ(s1->courses.n, 1); /* and from s1's side */
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(enrolled(o, id1, k2), 0);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tco, NULL), 3);
  /* delete-orphan (student.courses): removing c1 from s2 deletes the course and its rows */
  ASSERT_OK(uvsql_orm_remove(s2, "courses", c1), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_state(c1), UVSQL_OBJ_DETACHED);
  char where[64];
  snprintf(where, sizeof where, "id = %s", key_sql(k1));
  ASSERT_INT_EQ(count_rows(&o->fx, o->tco, where), 0);
  snprintf(where, sizeof where, "course_id = %s", key_sql(k1));
  ASSERT_INT_EQ(count_rows(&o->fx, o->te, where), 0);
  /* what is left, checked with a Core query */
  uvsql_core_stmt_t *cq = uvsql_select_new();
  uvsql_select_cols(cq, uvsql_col(o->enroll, "student_id"), uvsql_col(o->enroll, "course_id"));
  uvsql_select_order_by(cq, uvsql_col(o->enroll, "student_id"));
  f = uvsql_engine_execute_core(o->fx.engine, cq, NULL, 0, NULL, NULL);
  uvsql_result_t *rows = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_result_nrows(rows), 1);
  ASSERT_STR_EQ(key_cell(rows, 0, 0).s, id2.s);
  ASSERT_STR_EQ(key_cell(rows, 0, 1).s, k2.s);
  uvsql_future_unref(f);
  uvsql_core_stmt_free(cq);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tco, NULL), 2);
  (void)k3;
  uvsql_orm_result_free(r);
  uvsql_orm_query_free(q);
  await_ok(uvsql_session_close(s, NULL, NULL));
  /* a rollback forgets what relationships held: they load again from the database */
  s = session(o);
  q = query_of(o->students, &opt, 1);
  r = run_query(s, q);
  s2 = uvsql_orm_result_at(r, 1);
  c3 = named(o->courses, "c4");
  ASSERT_OK(uvsql_orm_append(s2, "courses", c3), NOERR);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  ASSERT_INT_EQ(s2->courses.n, 2);
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_is_loaded(s2, "courses"), 0);
  ASSERT_INT_EQ(s2->courses.n, 0);
  f = uvsql_session_load(s, s2, "courses", NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(s2->courses.n, 1);
  ASSERT_KEY_IS(((course_t *)s2->courses.items[0])->id, k2);
  uvsql_orm_result_free(r);
  uvsql_orm_query_free(q);
  await_ok(uvsql_session_close(s, NULL, NULL));
  /* joinedload through the secondary table: the same graph in one statement */
  s = session(o);
  uvsql_load_option_t jopt = UVSQL_JOINEDLOAD("courses");
  q = query_of(o->students, &jopt, 1);
  o->log.selects = 0;
  r = run_query(s, q);
  ASSERT_INT_EQ(o->log.selects, 1);
  ASSERT_INT_EQ(uvsql_orm_result_count(r), 2);
  s1 = uvsql_orm_result_at(r, 0);
  s2 = uvsql_orm_result_at(r, 1);
  ASSERT_INT_EQ(uvsql_orm_is_loaded(s1, "courses"), 1);
  ASSERT_INT_EQ(s1->courses.n, 0);
  ASSERT_INT_EQ(s2->courses.n, 1);
  ASSERT_KEY_IS(((course_t *)s2->courses.items[0])->id, k2);
  uvsql_orm_result_free(r);
  uvsql_orm_query_free(q);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

#if ORM_REL_KEYS == 0 /* the key variants name their own tests */
TEST(orm_rel_many_to_many_pg) {
  many_to_many(test_pg_url());
}
TEST(orm_rel_many_to_many_mariadb) {
  many_to_many(test_mariadb_url());
}
TEST(orm_rel_many_to_many_sqlite) {
  many_to_many(test_sqlite_url());
}
#endif

/* ------------------------------------------------------------------ one-to-many cascades */

static void cascades(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  author_t *a = named(o->authors, "ann"), *b = named(o->authors, "bob");
  for (int k = 0; k < 3; k++) {
    ASSERT_OK(uvsql_orm_append(a, "books", named(o->books, "a")), NOERR);
    ASSERT_OK(uvsql_orm_append(b, "books", named(o->books, "b")), NOERR);
  }
  ASSERT_OK(uvsql_session_add(s, a), NOERR);
  ASSERT_OK(uvsql_session_add(s, b), NOERR);
  /* save-update: a book appended to an author of the session joins the session */
  book_t *late = named(o->books, "late");
  ASSERT_OK(uvsql_orm_append(b, "books", late), NOERR);
  ASSERT_INT_EQ(uvsql_orm_state(late), UVSQL_OBJ_PENDING);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_KEY_EQ(late->author_id, b->id); /* the foreign key from the relationship */
  ASSERT_INT_EQ(count_rows(&o->fx, o->tb, NULL), 7);

  /* delete-orphan: a book removed from its author is deleted */
  book_t *gone = b->books.items[0];
  ASSERT_OK(uvsql_orm_remove(b, "books", gone), NOERR);
  ASSERT(gone->author == NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&o->fx, o->tb, NULL), 6);
  ASSERT_INT_EQ(uvsql_orm_state(gone), UVSQL_OBJ_DETACHED);
  /* delete: deleting an author deletes its (loaded) books */
  okey_t aid = KEY(a->id);
  ASSERT_OK(uvsql_session_delete(s, a), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  char where[64];
  snprintf(where, sizeof where, "author_id = %s", key_sql(aid));
  ASSERT_INT_EQ(count_rows(&o->fx, o->tb, where), 0);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tb, NULL), 3);
  ASSERT_INT_EQ(count_rows(&o->fx, o->ta, NULL), 1);
  /* moving a book between authors (set_ref) keeps both collections consistent */
  book_t *mv = b->books.items[0];
  author_t *c = named(o->authors, "cat");
  ASSERT_OK(uvsql_session_add(s, c), NOERR);
  ASSERT_OK(uvsql_orm_set_ref(mv, "author", c), NOERR);
  ASSERT_INT_EQ(b->books.n, 2);
  ASSERT_INT_EQ(c->books.n, 1);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_KEY_EQ(mv->author_id, c->id);
  snprintf(where, sizeof where, "author_id = %s", key_sql(KEY(c->id)));
  ASSERT_INT_EQ(count_rows(&o->fx, o->tb, where), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));
  /* delete cascade over a collection that is not loaded: the flush loads it first */
  s = session(o);
  uvsql_orm_query_t *q = query_of(o->authors, NULL, 0);
  uvsql_orm_result_t *r = run_query(s, q);
  ASSERT_INT_EQ(uvsql_orm_result_count(r), 2);
  author_t *bob = uvsql_orm_result_first(r);
  ASSERT_STR_EQ(bob->name, "bob");
  ASSERT_INT_EQ(uvsql_orm_is_loaded(bob, "books"), 0);
  snprintf(where, sizeof where, "author_id = %s", key_sql(KEY(bob->id)));
  ASSERT_INT_EQ(count_rows(&o->fx, o->tb, where), 2);
  ASSERT_OK(uvsql_session_delete(s, bob), NOERR);
  o->log.selects = 0;
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(o->log.selects, 2); /* bob's books (deleted), his profile (key set NULL) */
  ASSERT_INT_EQ(count_rows(&o->fx, o->tb, where), 0);
  ASSERT_INT_EQ(count_rows(&o->fx, o->ta, NULL), 1);
  uvsql_orm_result_free(r);
  uvsql_orm_query_free(q);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

#if ORM_REL_KEYS == 0 /* the key variants name their own tests */
TEST(orm_rel_cascades_pg) {
  cascades(test_pg_url());
}
TEST(orm_rel_cascades_mariadb) {
  cascades(test_mariadb_url());
}
TEST(orm_rel_cascades_sqlite) {
  cascades(test_sqlite_url());
}
#endif

/* ------------------------------------------------------------------ moves, nulled keys, identity
 */

/* The key of a as uvsql_session_get takes it (its parts in field order). */
static size_t key_values(const author_t *a, uvsql_value_t *v) {
#if ORM_REL_KEYS == 1
  v[0] = uvsql_v_text(a->id);
  return 1;
#elif ORM_REL_KEYS == 2
  v[0] = uvsql_v_int64(a->tenant_id);
  v[1] = uvsql_v_int64(a->id);
  return 2;
#else
  v[0] = uvsql_v_int64(a->id);
  return 1;
#endif
}

/* A child moved between parents is one UPDATE of its foreign key, from either side; a parent
 * deleted without delete cascade leaves its one-to-one child with a NULL key (for a composite
 * key: the part outside the child's own primary key); get by the full key answers from the
 * identity map. */
static void moves_and_nulls(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  author_t *a = named(o->authors, "ann"), *b = named(o->authors, "bob");
  book_t *bk = named(o->books, "moving");
  profile_t *p = named(o->profiles, "bob's");
  ASSERT_OK(uvsql_orm_append(a, "books", bk), NOERR);
  ASSERT_OK(uvsql_orm_set_ref(b, "profile", p), NOERR);
  ASSERT_OK(uvsql_session_add(s, a), NOERR);
  ASSERT_OK(uvsql_session_add(s, b), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_KEY_EQ(bk->author_id, a->id);
  ASSERT_KEY_EQ(p->author_id, b->id);

  /* remove + append under delete-orphan: one UPDATE, nothing deleted */
  ASSERT_OK(uvsql_orm_remove(a, "books", bk), NOERR);
  ASSERT_OK(uvsql_orm_append(b, "books", bk), NOERR);
  memset(&o->log, 0, sizeof o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(o->log.updates, 1);
  ASSERT_INT_EQ(o->log.deletes, 0);
  ASSERT_INT_EQ(o->log.inserts, 0);
  ASSERT_KEY_EQ(bk->author_id, b->id);
  char where[96];
  snprintf(where, sizeof where, "author_id = %s AND title = 'moving'", key_sql(KEY(b->id)));
  ASSERT_INT_EQ(count_rows(&o->fx, o->tb, where), 1);
  /* the many-to-one side moves it back */
  ASSERT_OK(uvsql_orm_set_ref(bk, "author", a), NOERR);
  ASSERT(a->books.n == 1 && a->books.items[0] == bk && b->books.n == 0);
  memset(&o->log, 0, sizeof o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(o->log.updates, 1);
  ASSERT_INT_EQ(o->log.deletes, 0);
  snprintf(where, sizeof where, "author_id = %s AND title = 'moving'", key_sql(KEY(a->id)));
  ASSERT_INT_EQ(count_rows(&o->fx, o->tb, where), 1);

  /* get by the full key: the object the session has, no SELECT */
  memset(&o->log, 0, sizeof o->log);
  await_ok(uvsql_session_refresh(s, a, NULL, NULL)); /* not expired any more */
  uvsql_value_t kv[2];
  size_t nk = key_values(a, kv); /* (borrows a's key: taken after the refresh rewrote it) */
  uvsql_future_t *f = uvsql_session_get(s, o->authors, kv, nk, NULL, NULL);
  ASSERT(AWAIT_OK(f) == a);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(o->log.selects, 1); /* the refresh's */

  /* deleting bob (author.profile has no delete cascade): the profile's key becomes NULL */
  okey_t pid = KEY(p->id);
  ASSERT_OK(uvsql_session_delete(s, b), NOERR);
  memset(&o->log, 0, sizeof o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(o->log.updates, 1);
  ASSERT_INT_EQ(o->log.deletes, 1);
  ASSERT_INT_EQ(uvsql_orm_is_null(p, &p->author_id), 1);
  snprintf(where, sizeof where, "id = %s AND author_id IS NULL", key_sql(pid));
  ASSERT_INT_EQ(count_rows(&o->fx, o->tp, where), 1);
#if ORM_REL_KEYS == 2
  ASSERT_INT_EQ(p->tenant_id, 7); /* its own key's part of the foreign key stays */
  ASSERT_INT_EQ(count_rows(&o->fx, o->tp, "tenant_id = 7 AND author_id IS NULL"), 1);
#endif
  ASSERT_INT_EQ(count_rows(&o->fx, o->ta, NULL), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

/* UVSQL_REL_PASSIVE_DELETES over the variant's key: deleting a parent whose children are not
 * loaded sends no SELECT and no UPDATE; the schema's ON DELETE CASCADE removes them. */
static void passive_deletes(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_error_t err;
  char ta[64], tb[64];
  snprintf(ta, sizeof ta, "%s", test_unique_name("pauthor"));
  snprintf(tb, sizeof tb, "%s", test_unique_name("pbook"));
  uvsql_mapper_t *ma = uvsql_registry_map_table(reg, author_t_model(), ta, &err);
  uvsql_mapper_t *mb = uvsql_registry_map_table(reg, book_t_model(), tb, &err);
  ASSERT(ma && mb);
#if ORM_REL_KEYS == 2
  ASSERT(uvsql_foreign_key(uvsql_mapper_table(mb), NULL, UVSQL_NAMES("tenant_id", "author_id"), ta,
                           UVSQL_NAMES("tenant_id", "id"), UVSQL_FK_CASCADE, UVSQL_FK_NO_ACTION));
#else
  char fk[100];
  ASSERT(uvsql_mapper_references(mb, "author_id", ref(fk, ta), UVSQL_FK_CASCADE));
#endif
  ASSERT(uvsql_mapper_relationship(ma, "books", UVSQL_ONE_TO_MANY, mb, offsetof(author_t, books),
                                   ORM_FKS("author_id"), UVSQL_REL_PASSIVE_DELETES, &err));
  await_ok(uvsql_metadata_create_all(uvsql_registry_metadata(reg), o->fx.engine, NULL, NULL));
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, o->fx.engine, reg, NULL), NOERR);
  author_t *a = named(ma, "ann"), *b = named(ma, "bob");
  for (int i = 0; i < 2; i++) {
    ASSERT_OK(uvsql_orm_append(a, "books", named(mb, "a")), NOERR);
    ASSERT_OK(uvsql_orm_append(b, "books", named(mb, "b")), NOERR);
  }
  ASSERT_OK(uvsql_session_add(s, a), NOERR);
  ASSERT_OK(uvsql_session_add(s, b), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  okey_t aid = KEY(a->id);
  await_ok(uvsql_session_close(s, NULL, NULL));

  ASSERT_OK(uvsql_session_new(&s, o->fx.engine, reg, NULL), NOERR);
  uvsql_orm_query_t *q = query_of(ma, NULL, 0);
  uvsql_orm_result_t *r = run_query(s, q);
  a = uvsql_orm_result_first(r);
  ASSERT_KEY_IS(a->id, aid);
  ASSERT_INT_EQ(uvsql_orm_is_loaded(a, "books"), 0);
  ASSERT_OK(uvsql_session_delete(s, a), NOERR);
  memset(&o->log, 0, sizeof o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(o->log.selects, 0);
  ASSERT_INT_EQ(o->log.updates, 0);
  ASSERT_INT_EQ(o->log.deletes, 1);
  char where[96];
  snprintf(where, sizeof where, "author_id = %s", key_sql(aid));
  ASSERT_INT_EQ(count_rows(&o->fx, tb, where), 0);
  ASSERT_INT_EQ(count_rows(&o->fx, tb, NULL), 2);
  uvsql_orm_result_free(r);
  uvsql_orm_query_free(q);
  await_ok(uvsql_session_close(s, NULL, NULL));
  await_ok(uvsql_metadata_drop_all(uvsql_registry_metadata(reg), o->fx.engine, NULL, NULL));
  uvsql_registry_free(reg);
  orm_close(o);
}

#if ORM_REL_KEYS == 0 /* the key variants name their own tests */
TEST(orm_rel_moves_and_nulls_pg) {
  moves_and_nulls(test_pg_url());
}
TEST(orm_rel_moves_and_nulls_mariadb) {
  moves_and_nulls(test_mariadb_url());
}
TEST(orm_rel_moves_and_nulls_sqlite) {
  moves_and_nulls(test_sqlite_url());
}
TEST(orm_rel_passive_deletes_pg) {
  passive_deletes(test_pg_url());
}
TEST(orm_rel_passive_deletes_mariadb) {
  passive_deletes(test_mariadb_url());
}
TEST(orm_rel_passive_deletes_sqlite) {
  passive_deletes(test_sqlite_url());
}
#endif
