/* tests/test_orm_rel.c — ORM relationship loading on PostgreSQL, MariaDB and SQLite: 2,000
 * authors x 10 books loaded with selectinload and with joinedload give the same object graph
 * in 1 + ceil(2000/500) and 1 statements; the not-loaded state and explicit lazy loading; a
 * many-to-one answered from the identity map without a query; loader defaults and
 * raiseload; a self-referential tree loaded three levels deep with chained selectinload (and
 * chained joinedload). Statements are counted through the engine's echo log. Each behaviour
 * is one function taking a URL; each backend one TEST. (Cascades, many-to-many and
 * one-to-one: test_orm_rel_cascade.c.) */
#include "orm_rel_fixture.h"

/* ------------------------------------------------------------------ eager loading */

#define NAUTHORS 2000
#define NBOOKS   10

static void seed_authors(orm_t *o) {
  uvsql_session_t *s = session(o);
  char name[64];
  for (int i = 0; i < NAUTHORS; i++) {
    snprintf(name, sizeof name, "author %d", i);
    author_t *a = named(o->authors, name);
    for (int k = 0; k < NBOOKS; k++) {
      snprintf(name, sizeof name, "book %d.%d", i, k);
      ASSERT_OK(uvsql_orm_append(a, "books", named(o->books, name)), NOERR);
    }
    ASSERT_OK(uvsql_session_add(s, a), NOERR); /* save-update: its books are added too */
  }
  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&o->fx, o->tb, NULL), NAUTHORS * NBOOKS);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tb, "author_id IS NULL"), 0);
}

static void eager_graphs(const char *url) {
  orm_t *o = orm_open(url);
  seed_authors(o);
  uvsql_load_option_t sel = UVSQL_SELECTINLOAD("books"), join = UVSQL_JOINEDLOAD("books");
  uvsql_orm_query_t *qs = query_of(o->authors, &sel, 1), *qj = query_of(o->authors, &join, 1);
  uvsql_session_t *s1 = session(o), *s2 = session(o);

  o->log.selects = 0;
  uvsql_orm_result_t *r1 = run_query(s1, qs);
  ASSERT_INT_EQ(o->log.selects, 1 + (NAUTHORS + 499) / 500);
  o->log.selects = 0;
  uvsql_orm_result_t *r2 = run_query(s2, qj);
  ASSERT_INT_EQ(o->log.selects, 1);

  ASSERT_INT_EQ(uvsql_orm_result_count(r1), NAUTHORS);
  ASSERT_INT_EQ(uvsql_orm_result_count(r2), NAUTHORS);
  for (size_t i = 0; i < NAUTHORS; i++) {
    author_t *a = uvsql_orm_result_at(r1, i), *b = uvsql_orm_result_at(r2, i);
    ASSERT(a != b); /* two sessions, two graphs */
    ASSERT_KEY_EQ(a->id, b->id);
    ASSERT_STR_EQ(a->name, b->name);
    ASSERT_INT_EQ(uvsql_orm_is_loaded(a, "books"), 1);
    ASSERT_INT_EQ(uvsql_orm_is_loaded(b, "books"), 1);
    ASSERT_INT_EQ(a->books.n, NBOOKS);
    ASSERT_INT_EQ(b->books.n, NBOOKS);
    for (size_t k = 0; k < NBOOKS; k++) {
      book_t *x = a->books.items[k], *y = b->books.items[k];
      ASSERT_KEY_EQ(x->id, y->id);
      ASSERT_STR_EQ(x->title, y->title);
      ASSERT(x->author == a && y->author == b); /* back_populates filled from the parent */
      ASSERT_KEY_EQ(x->author_id, a->id);
    }
  }
  /* one object per row in each session: loading again reuses them (identity map) */
  uvsql_orm_result_t *r3 = run_query(s1, qj);
  ASSERT(uvsql_orm_result_at(r3, 7) == uvsql_orm_result_at(r1, 7));
  ASSERT_INT_EQ(((author_t *)uvsql_orm_result_at(r3, 7))->books.n, NBOOKS);
  uvsql_orm_result_free(r1);
  uvsql_orm_result_free(r2);
  uvsql_orm_result_free(r3);
  await_ok(uvsql_session_close(s1, NULL, NULL));
  await_ok(uvsql_session_close(s2, NULL, NULL));
  uvsql_orm_query_free(qs);
  uvsql_orm_query_free(qj);
  orm_close(o);
}

#if ORM_REL_KEYS == 0 /* the key variants name their own tests */
TEST(orm_rel_eager_graphs_pg) {
  eager_graphs(test_pg_url());
}
TEST(orm_rel_eager_graphs_mariadb) {
  eager_graphs(test_mariadb_url());
}
TEST(orm_rel_eager_graphs_sqlite) {
  eager_graphs(test_sqlite_url());
}
#endif

/* ------------------------------------------------------------------ lazy loading */

static void lazy_and_identity(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  author_t *a = named(o->authors, "ann");
  author_t *b = named(o->authors, "bob");
  ASSERT_OK(uvsql_orm_append(a, "books", named(o->books, "a1")), NOERR);
  ASSERT_OK(uvsql_orm_append(a, "books", named(o->books, "a2")), NOERR);
  ASSERT_OK(uvsql_orm_append(b, "books", named(o->books, "b1")), NOERR);
  ASSERT_OK(uvsql_session_add(s, a), NOERR);
  ASSERT_OK(uvsql_session_add(s, b), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));

  s = session(o);
  /* no loader option: the relationships are reported not loaded */
  uvsql_orm_query_t *qa = query_of(o->authors, NULL, 0), *qb = query_of(o->books, NULL, 0);
  uvsql_orm_result_t *ra = run_query(s, qa);
  author_t *ann = uvsql_orm_result_at(ra, 0);
  ASSERT_STR_EQ(ann->name, "ann");
  ASSERT_INT_EQ(uvsql_orm_is_loaded(ann, "books"), 0);
  ASSERT_INT_EQ(ann->books.loaded, 0);
  ASSERT_INT_EQ(uvsql_orm_is_loaded(ann, "nope"), -1);

  /* explicit lazy load: one SELECT, then loaded */
  o->log.selects = 0;
  uvsql_future_t *f = uvsql_session_load(s, ann, "books", NULL, NULL);
  ASSERT(AWAIT_OK(f) == ann);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(o->log.selects, 1);
  ASSERT_INT_EQ(uvsql_orm_is_loaded(ann, "books"), 1);
  ASSERT_INT_EQ(ann->books.n, 2);
  ASSERT_STR_EQ(((book_t *)ann->books.items[1])->title, "a2");
  /* loading again: nothing to do */
  f = uvsql_session_load(s, ann, "books", NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(o->log.selects, 1);

  /* many-to-one whose target is in the identity map: no query */
  uvsql_orm_result_t *rb = run_query(s, qb);
  book_t *b1 = uvsql_orm_result_at(rb, 2);
  ASSERT_STR_EQ(b1->title, "b1");
  ASSERT_INT_EQ(uvsql_orm_is_loaded(b1, "author"), 0);
  ASSERT(b1->author == NULL);
  o->log.selects = 0;
  f = uvsql_session_load(s, b1, "author", NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(o->log.selects, 0);
  ASSERT(b1->author == uvsql_orm_result_at(ra, 1));
  ASSERT_INT_EQ(uvsql_orm_is_loaded(b1, "author"), 1);
  /* a book loaded through ann.books had its author set from the parent */
  ASSERT(((book_t *)ann->books.items[0])->author == ann);

  /* unknown relationship */
  f = uvsql_session_load(s, ann, "nope", NULL, NULL);
  const uvsql_error_t *err = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(err->message, "no relationship \"nope\"");
  uvsql_future_unref(f);
  /* a relationship declared twice */
  uvsql_error_t derr;
  ASSERT(!uvsql_mapper_relationship(o->authors, "books", UVSQL_ONE_TO_MANY, o->books,
                                    offsetof(author_t, books), "author_id", 0, &derr));
  ASSERT_INT_EQ(derr.code, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(derr.message,
                "relationship author_t.books is already declared: give the new one another name");
  uvsql_orm_result_free(ra);
  uvsql_orm_result_free(rb);
  await_ok(uvsql_session_close(s, NULL, NULL));

  /* many-to-one not in the identity map: one SELECT */
  s = session(o);
  rb = run_query(s, qb);
  o->log.selects = 0;
  b1 = uvsql_orm_result_at(rb, 0);
  f = uvsql_session_load(s, b1, "author", NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(o->log.selects, 1);
  ASSERT_STR_EQ(b1->author->name, "ann");
  uvsql_orm_result_free(rb);
  await_ok(uvsql_session_close(s, NULL, NULL));
  uvsql_orm_query_free(qa);
  uvsql_orm_query_free(qb);
  orm_close(o);
}

static void loader_defaults(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  author_t *a = named(o->authors, "ann");
  ASSERT_OK(uvsql_orm_append(a, "books", named(o->books, "a1")), NOERR);
  ASSERT_OK(uvsql_session_add(s, a), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));
  uvsql_relationship_t *books = uvsql_mapper_get_relationship(o->authors, "books");
  /* a default of selectin: a query without options loads the books */
  ASSERT(uvsql_relationship_loader(books, UVSQL_LOAD_SELECTIN));
  uvsql_orm_query_t *q = query_of(o->authors, NULL, 0);
  uvsql_load_option_t lazy = UVSQL_LAZYLOAD("books");
  uvsql_orm_query_t *ql = query_of(o->authors, &lazy, 1); /* an option overrides the default */
  s = session(o);
  o->log.selects = 0;
  uvsql_orm_result_t *r = run_query(s, q);
  ASSERT_INT_EQ(o->log.selects, 2);
  a = uvsql_orm_result_first(r);
  ASSERT_INT_EQ(uvsql_orm_is_loaded(a, "books"), 1);
  ASSERT_INT_EQ(a->books.n, 1);
  uvsql_orm_result_free(r);
  await_ok(uvsql_session_close(s, NULL, NULL));
  s = session(o);
  r = run_query(s, ql);
  a = uvsql_orm_result_first(r);
  ASSERT_INT_EQ(uvsql_orm_is_loaded(a, "books"), 0);
  /* raiseload: never loaded, and asking says so */
  ASSERT(uvsql_relationship_loader(books, UVSQL_LOAD_RAISE));
  uvsql_future_t *f = uvsql_session_load(s, a, "books", NULL, NULL);
  const uvsql_error_t *err = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(err->message,
                "relationship author_t.books is raiseload: it is never loaded; load "
                "it with a UVSQL_SELECTINLOAD or UVSQL_JOINEDLOAD option on the query");
  uvsql_future_unref(f);
  ASSERT_INT_EQ(uvsql_orm_is_loaded(a, "books"), 0);
  uvsql_orm_result_free(r);
  await_ok(uvsql_session_close(s, NULL, NULL));
  uvsql_orm_query_free(q);
  uvsql_orm_query_free(ql);
  orm_close(o);
}

#if ORM_REL_KEYS == 0 /* the key variants name their own tests */
TEST(orm_rel_loader_defaults_pg) {
  loader_defaults(test_pg_url());
}
TEST(orm_rel_loader_defaults_mariadb) {
  loader_defaults(test_mariadb_url());
}
TEST(orm_rel_loader_defaults_sqlite) {
  loader_defaults(test_sqlite_url());
}
#endif

#if ORM_REL_KEYS == 0 /* the key variants name their own tests */
TEST(orm_rel_lazy_and_identity_pg) {
  lazy_and_identity(test_pg_url());
}
TEST(orm_rel_lazy_and_identity_mariadb) {
  lazy_and_identity(test_mariadb_url());
}
TEST(orm_rel_lazy_and_identity_sqlite) {
  lazy_and_identity(test_sqlite_url());
}
#endif

/* ------------------------------------------------------------------ self-referential tree */

static void tree(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  char name[32];
  category_t *root = named(o->cats, "root");
  ASSERT_OK(uvsql_orm_set_null(root, &root->parent_id, 1), NOERR); /* a root has no parent */
  for (int i = 0; i < 3; i++) {
    snprintf(name, sizeof name, "c%d", i);
    category_t *c = named(o->cats, name);
    ASSERT_OK(uvsql_orm_append(root, "children", c), NOERR);
    for (int k = 0; k < 2; k++) {
      snprintf(name, sizeof name, "c%d.%d", i, k);
      category_t *g = named(o->cats, name);
      ASSERT_OK(uvsql_orm_set_ref(g, "parent", c), NOERR); /* the other side */
      snprintf(name, sizeof name, "c%d.%d.0", i, k);
      ASSERT_OK(uvsql_orm_append(g, "children", named(o->cats, name)), NOERR);
    }
    ASSERT_INT_EQ(c->children.n, 2);
  }
  ASSERT_OK(uvsql_session_add(s, root), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&o->fx, o->tc, NULL), 1 + 3 + 6 + 6);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tc, "parent_id IS NULL"), 1);

  /* the same three levels with chained selectin (3 statements) and chained joins (1) */
  uvsql_load_option_t opts[2][2] = {
      {UVSQL_SELECTINLOAD("children"), UVSQL_SELECTINLOAD("children.children")},
      {UVSQL_JOINEDLOAD("children"), UVSQL_JOINEDLOAD("children.children")}};
  for (int way = 0; way < 2; way++) {
    s = session(o);
    uvsql_orm_query_t *q = query_of(o->cats, opts[way], 2);
    uvsql_where(uvsql_orm_query_stmt(q),
                uvsql_is_null(uvsql_orm_query_stmt(q), uvsql_mapper_col(o->cats, "parent_id")));
    o->log.selects = 0;
    uvsql_orm_result_t *r = run_query(s, q);
    ASSERT_INT_EQ(o->log.selects, way == 0 ? 3 : 1); /* roots, children, grandchildren */
    ASSERT_INT_EQ(uvsql_orm_result_count(r), 1);
    category_t *top = uvsql_orm_result_first(r);
    ASSERT_STR_EQ(top->name, "root");
    ASSERT_INT_EQ(uvsql_orm_is_loaded(top, "children"), 1);
    ASSERT_INT_EQ(top->children.n, 3);
    for (int i = 0; i < 3; i++) {
      category_t *c = top->children.items[i];
      snprintf(name, sizeof name, "c%d", i);
      ASSERT_STR_EQ(c->name, name);
      ASSERT(c->parent == top);
      ASSERT_INT_EQ(uvsql_orm_is_loaded(c, "children"), 1);
      ASSERT_INT_EQ(c->children.n, 2);
      for (int k = 0; k < 2; k++) {
        category_t *g = c->children.items[k];
        snprintf(name, sizeof name, "c%d.%d", i, k);
        ASSERT_STR_EQ(g->name, name);
        ASSERT(g->parent == c);
        /* the fourth level was not asked for */
        ASSERT_INT_EQ(uvsql_orm_is_loaded(g, "children"), 0);
      }
    }
    uvsql_orm_result_free(r);
    uvsql_orm_query_free(q);
    await_ok(uvsql_session_close(s, NULL, NULL));
  }
  orm_close(o);
}

#if ORM_REL_KEYS == 0 /* the key variants name their own tests */
TEST(orm_rel_tree_pg) {
  tree(test_pg_url());
}
TEST(orm_rel_tree_mariadb) {
  tree(test_mariadb_url());
}
TEST(orm_rel_tree_sqlite) {
  tree(test_sqlite_url());
}
#endif
