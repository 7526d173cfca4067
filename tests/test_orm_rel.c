/* tests/test_orm_rel.c — ORM relationships on PostgreSQL, MariaDB and SQLite: 2,000 authors
 * x 10 books loaded with selectinload and with joinedload give the same object graph in
 * 1 + ceil(2000/500) and 1 statements; the not-loaded state and explicit lazy loading; a
 * many-to-one answered from the identity map without a query; a self-referential tree
 * loaded three levels deep with chained selectinload; many-to-many add / remove /
 * delete-orphan checked in the secondary table with Core queries; one-to-many cascades
 * (save-update, delete, also of collections not loaded, delete-orphan); one-to-one; loader defaults
 * and raiseload. Statements are counted through the engine's echo log. Each behaviour is one
 * function taking a URL; each backend one TEST. */
#include "backend.h"
#include "uvsql/orm.h"

#define AUTHOR_FIELDS(X)                                                                           \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(50), UVSQL_NOT_NULL)
#define AUTHOR_RELS(X) X(books, MANY(book_t)) X(profile, ONE(profile_t))
UVSQL_MODEL_REL(author_t, "author", AUTHOR_FIELDS, AUTHOR_RELS)

#define BOOK_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(title, STRING(100), UVSQL_NOT_NULL)                                                            \
  X(author_id, INT64, 0)
#define BOOK_RELS(X) X(author, ONE(author_t))
UVSQL_MODEL_REL(book_t, "book", BOOK_FIELDS, BOOK_RELS)

#define PROFILE_FIELDS(X)                                                                          \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(bio, STRING(50), UVSQL_NOT_NULL)                                                               \
  X(author_id, INT64, 0)
#define PROFILE_RELS(X) X(author, ONE(author_t))
UVSQL_MODEL_REL(profile_t, "profile", PROFILE_FIELDS, PROFILE_RELS)

#define CATEGORY_FIELDS(X)                                                                         \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(50), UVSQL_NOT_NULL)                                                              \
  X(parent_id, INT64, 0)
#define CATEGORY_RELS(X) X(parent, ONE(category_t)) X(children, MANY(category_t))
UVSQL_MODEL_REL(category_t, "category", CATEGORY_FIELDS, CATEGORY_RELS)

#define STUDENT_FIELDS(X)                                                                          \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(50), UVSQL_NOT_NULL)
#define STUDENT_RELS(X) X(courses, MANY(course_t))
UVSQL_MODEL_REL(student_t, "student", STUDENT_FIELDS, STUDENT_RELS)

#define COURSE_FIELDS(X)                                                                           \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(title, STRING(50), UVSQL_NOT_NULL)
#define COURSE_RELS(X) X(students, MANY(student_t))
UVSQL_MODEL_REL(course_t, "course", COURSE_FIELDS, COURSE_RELS)

#define NOERR (uvsql_error_t *)NULL

/* ------------------------------------------------------------------ SQL capture */

typedef struct {
  size_t selects, total;
} sqllog_t;

static void log_line(void *data, const char *line) {
  sqllog_t *log = data;
  if (strncmp(line, "[param", 6) == 0)
    return;
  log->total++;
  if (strncmp(line, "SELECT", 6) == 0)
    log->selects++;
}

/* ------------------------------------------------------------------ fixture */

typedef struct {
  fixture_t fx;
  sqllog_t log;
  uvsql_registry_t *reg;
  uvsql_mapper_t *authors, *books, *profiles, *cats, *students, *courses;
  uvsql_table_t *enroll;
  char ta[64], tb[64], tp[64], tc[64], ts[64], tco[64], te[64];
} orm_t;

static void await_ok(uvsql_future_t *f) {
  AWAIT_OK(f);
  uvsql_future_unref(f);
}

static char *ref(char *buf, const char *table) {
  sprintf(buf, "%s.id", table);
  return buf;
}

static orm_t *orm_open(const char *url) {
  orm_t *o = calloc(1, sizeof *o);
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  uvsql_error_t err;
  char fk[100];
  opt.echo = 1;
  opt.log_cb = log_line;
  opt.log_data = &o->log;
  o->fx = fixture_open(url, &opt);
  snprintf(o->ta, sizeof o->ta, "%s", test_unique_name("author"));
  snprintf(o->tb, sizeof o->tb, "%s", test_unique_name("book"));
  snprintf(o->tc, sizeof o->tc, "%s", test_unique_name("category"));
  snprintf(o->tp, sizeof o->tp, "%s", test_unique_name("profile"));
  snprintf(o->ts, sizeof o->ts, "%s", test_unique_name("student"));
  snprintf(o->tco, sizeof o->tco, "%s", test_unique_name("course"));
  snprintf(o->te, sizeof o->te, "%s", test_unique_name("enrollment"));
  o->reg = uvsql_registry_new(NULL);
  ASSERT(o->authors = uvsql_registry_map_table(o->reg, author_t_model(), o->ta, &err));
  ASSERT(o->books = uvsql_registry_map_table(o->reg, book_t_model(), o->tb, &err));
  ASSERT(o->profiles = uvsql_registry_map_table(o->reg, profile_t_model(), o->tp, &err));
  ASSERT(o->cats = uvsql_registry_map_table(o->reg, category_t_model(), o->tc, &err));
  ASSERT(o->students = uvsql_registry_map_table(o->reg, student_t_model(), o->ts, &err));
  ASSERT(o->courses = uvsql_registry_map_table(o->reg, course_t_model(), o->tco, &err));
  ASSERT(uvsql_mapper_references(o->books, "author_id", ref(fk, o->ta), UVSQL_FK_NO_ACTION));
  ASSERT(uvsql_mapper_references(o->profiles, "author_id", ref(fk, o->ta), UVSQL_FK_NO_ACTION));
  ASSERT(uvsql_mapper_references(o->cats, "parent_id", ref(fk, o->tc), UVSQL_FK_NO_ACTION));
  o->enroll = uvsql_table(uvsql_registry_metadata(o->reg), o->te);
  uvsql_column_references(uvsql_column(o->enroll, "student_id", UVSQL_SQL_BIGINT, UVSQL_NOT_NULL),
                          ref(fk, o->ts), UVSQL_FK_NO_ACTION, UVSQL_FK_NO_ACTION);
  uvsql_column_references(uvsql_column(o->enroll, "course_id", UVSQL_SQL_BIGINT, UVSQL_NOT_NULL),
                          ref(fk, o->tco), UVSQL_FK_NO_ACTION, UVSQL_FK_NO_ACTION);
  uvsql_primary_key(o->enroll, UVSQL_NAMES("student_id", "course_id"));

  /* author.books <-> book.author: delete and delete-orphan cascade */
  uvsql_relationship_t *ab = uvsql_mapper_relationship(
      o->authors, "books", UVSQL_ONE_TO_MANY, o->books, offsetof(author_t, books), "author_id",
      UVSQL_CASCADE_ALL | UVSQL_CASCADE_DELETE_ORPHAN, &err);
  ASSERT(ab);
  ASSERT(uvsql_relationship_order_by(ab, "id"));
  uvsql_relationship_t *ba =
      uvsql_mapper_relationship(o->books, "author", UVSQL_MANY_TO_ONE, o->authors,
                                offsetof(book_t, author), "author_id", 0, &err);
  ASSERT(ba);
  ASSERT(uvsql_relationship_back_populates(ab, ba));
  /* author.profile (one-to-one, the key in profile) <-> profile.author */
  uvsql_relationship_t *ap =
      uvsql_mapper_relationship(o->authors, "profile", UVSQL_ONE_TO_ONE, o->profiles,
                                offsetof(author_t, profile), "author_id", 0, &err);
  uvsql_relationship_t *pa =
      uvsql_mapper_relationship(o->profiles, "author", UVSQL_MANY_TO_ONE, o->authors,
                                offsetof(profile_t, author), "author_id", 0, &err);
  ASSERT(ap && pa && uvsql_relationship_back_populates(ap, pa));
  /* the adjacency list */
  uvsql_relationship_t *cc = uvsql_mapper_relationship(o->cats, "children", UVSQL_ONE_TO_MANY,
                                                       o->cats, offsetof(category_t, children),
                                                       "parent_id", UVSQL_CASCADE_ALL, &err);
  uvsql_relationship_t *cp =
      uvsql_mapper_relationship(o->cats, "parent", UVSQL_MANY_TO_ONE, o->cats,
                                offsetof(category_t, parent), "parent_id", 0, &err);
  ASSERT(cc && cp && uvsql_relationship_order_by(cc, "id"));
  ASSERT(uvsql_relationship_back_populates(cc, cp));
  /* student.courses (delete-orphan) <-> course.students, through the enrollment table */
  uvsql_relationship_t *sc = uvsql_mapper_relationship(o->students, "courses", UVSQL_MANY_TO_MANY,
                                                       o->courses, offsetof(student_t, courses),
                                                       NULL, UVSQL_CASCADE_DELETE_ORPHAN, &err);
  uvsql_relationship_t *cs =
      uvsql_mapper_relationship(o->courses, "students", UVSQL_MANY_TO_MANY, o->students,
                                offsetof(course_t, students), NULL, 0, &err);
  ASSERT(sc && cs);
  ASSERT(uvsql_relationship_secondary(sc, o->enroll, "student_id", "course_id"));
  ASSERT(uvsql_relationship_secondary(cs, o->enroll, "course_id", "student_id"));
  ASSERT(uvsql_relationship_order_by(sc, "id") && uvsql_relationship_order_by(cs, "id"));
  ASSERT(uvsql_relationship_back_populates(sc, cs));
  await_ok(uvsql_metadata_create_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  return o;
}

static void orm_close(orm_t *o) {
  await_ok(uvsql_metadata_drop_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  uvsql_registry_free(o->reg);
  fixture_close(&o->fx);
  free(o);
}

static uvsql_session_t *session(orm_t *o) {
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, o->fx.engine, o->reg, NULL), NOERR);
  return s;
}

static void *named(uvsql_mapper_t *m, char **field_of_new, const char *name) {
  (void)field_of_new;
  void *obj = uvsql_orm_new(m);
  /* every model here has `name` or `title` as field 1 */
  char **f = (char **)((unsigned char *)obj + uvsql_mapper_model(m)->fields[1].offset);
  ASSERT_OK(uvsql_orm_set_text(obj, f, name), NOERR);
  return obj;
}

static int64_t count_rows(orm_t *o, const char *table, const char *where) {
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s%s%s", table, where ? " WHERE " : "",
           where ? where : "");
  return query_int(&o->fx, sql);
}

/* Runs q and returns its result (taken: the caller frees it). */
static uvsql_orm_result_t *run_query(uvsql_session_t *s, uvsql_orm_query_t *q) {
  uvsql_future_t *f = uvsql_session_execute_query(s, q, NULL, 0, NULL, NULL);
  AWAIT_OK(f);
  uvsql_orm_result_t *r = uvsql_future_take(f);
  uvsql_future_unref(f);
  return r;
}

static uvsql_orm_query_t *query_of(uvsql_mapper_t *m, const uvsql_load_option_t *opts, size_t n) {
  uvsql_error_t err;
  uvsql_orm_query_t *q = uvsql_orm_query(m, opts, n, &err);
  ASSERT_OK(q ? 0 : err.code, &err);
  uvsql_select_order_by(uvsql_orm_query_stmt(q), uvsql_mapper_col(m, "id"));
  return q;
}

/* ------------------------------------------------------------------ eager loading */

#define NAUTHORS 2000
#define NBOOKS   10

static void seed_authors(orm_t *o) {
  uvsql_session_t *s = session(o);
  char name[64];
  for (int i = 0; i < NAUTHORS; i++) {
    snprintf(name, sizeof name, "author %d", i);
    author_t *a = named(o->authors, NULL, name);
    for (int k = 0; k < NBOOKS; k++) {
      snprintf(name, sizeof name, "book %d.%d", i, k);
      ASSERT_OK(uvsql_orm_append(a, "books", named(o->books, NULL, name)), NOERR);
    }
    ASSERT_OK(uvsql_session_add(s, a), NOERR); /* save-update: its books are added too */
  }
  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(o, o->tb, NULL), NAUTHORS * NBOOKS);
  ASSERT_INT_EQ(count_rows(o, o->tb, "author_id IS NULL"), 0);
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
    ASSERT_INT_EQ(a->id, b->id);
    ASSERT_STR_EQ(a->name, b->name);
    ASSERT_INT_EQ(uvsql_orm_is_loaded(a, "books"), 1);
    ASSERT_INT_EQ(uvsql_orm_is_loaded(b, "books"), 1);
    ASSERT_INT_EQ(a->books.n, NBOOKS);
    ASSERT_INT_EQ(b->books.n, NBOOKS);
    for (size_t k = 0; k < NBOOKS; k++) {
      book_t *x = a->books.items[k], *y = b->books.items[k];
      ASSERT_INT_EQ(x->id, y->id);
      ASSERT_STR_EQ(x->title, y->title);
      ASSERT(x->author == a && y->author == b); /* back_populates filled from the parent */
      ASSERT_INT_EQ(x->author_id, a->id);
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

TEST(orm_rel_eager_graphs_pg) {
  eager_graphs(test_pg_url());
}
TEST(orm_rel_eager_graphs_mariadb) {
  eager_graphs(test_mariadb_url());
}
TEST(orm_rel_eager_graphs_sqlite) {
  eager_graphs(test_sqlite_url());
}

/* ------------------------------------------------------------------ lazy loading */

static void lazy_and_identity(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  author_t *a = named(o->authors, NULL, "ann");
  author_t *b = named(o->authors, NULL, "bob");
  ASSERT_OK(uvsql_orm_append(a, "books", named(o->books, NULL, "a1")), NOERR);
  ASSERT_OK(uvsql_orm_append(a, "books", named(o->books, NULL, "a2")), NOERR);
  ASSERT_OK(uvsql_orm_append(b, "books", named(o->books, NULL, "b1")), NOERR);
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
  author_t *a = named(o->authors, NULL, "ann");
  ASSERT_OK(uvsql_orm_append(a, "books", named(o->books, NULL, "a1")), NOERR);
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
  ASSERT_STR_CONTAINS(err->message, "raiseload");
  uvsql_future_unref(f);
  ASSERT_INT_EQ(uvsql_orm_is_loaded(a, "books"), 0);
  uvsql_orm_result_free(r);
  await_ok(uvsql_session_close(s, NULL, NULL));
  uvsql_orm_query_free(q);
  uvsql_orm_query_free(ql);
  orm_close(o);
}

TEST(orm_rel_loader_defaults_pg) {
  loader_defaults(test_pg_url());
}
TEST(orm_rel_loader_defaults_mariadb) {
  loader_defaults(test_mariadb_url());
}
TEST(orm_rel_loader_defaults_sqlite) {
  loader_defaults(test_sqlite_url());
}

/* ------------------------------------------------------------------ one-to-one, joined many-to-one
 */

static void one_to_one(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  author_t *a = named(o->authors, NULL, "ann"), *b = named(o->authors, NULL, "bob");
  profile_t *p = named(o->profiles, NULL, "likes C");
  ASSERT_OK(uvsql_orm_set_ref(a, "profile", p), NOERR);
  ASSERT(p->author == a); /* back_populates */
  ASSERT_OK(uvsql_orm_append(a, "books", named(o->books, NULL, "a1")), NOERR);
  ASSERT_OK(uvsql_session_add(s, a), NOERR); /* save-update: the profile and the book too */
  ASSERT_OK(uvsql_session_add(s, b), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(p->author_id, a->id);
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
  book_t *lone = named(o->books, NULL, "lone");
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

TEST(orm_rel_one_to_one_pg) {
  one_to_one(test_pg_url());
}
TEST(orm_rel_one_to_one_mariadb) {
  one_to_one(test_mariadb_url());
}
TEST(orm_rel_one_to_one_sqlite) {
  one_to_one(test_sqlite_url());
}

TEST(orm_rel_lazy_and_identity_pg) {
  lazy_and_identity(test_pg_url());
}
TEST(orm_rel_lazy_and_identity_mariadb) {
  lazy_and_identity(test_mariadb_url());
}
TEST(orm_rel_lazy_and_identity_sqlite) {
  lazy_and_identity(test_sqlite_url());
}

/* ------------------------------------------------------------------ self-referential tree */

static void tree(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  char name[32];
  category_t *root = named(o->cats, NULL, "root");
  ASSERT_OK(uvsql_orm_set_null(root, &root->parent_id, 1), NOERR); /* a root has no parent */
  for (int i = 0; i < 3; i++) {
    snprintf(name, sizeof name, "c%d", i);
    category_t *c = named(o->cats, NULL, name);
    ASSERT_OK(uvsql_orm_append(root, "children", c), NOERR);
    for (int k = 0; k < 2; k++) {
      snprintf(name, sizeof name, "c%d.%d", i, k);
      category_t *g = named(o->cats, NULL, name);
      ASSERT_OK(uvsql_orm_set_ref(g, "parent", c), NOERR); /* the other side */
      snprintf(name, sizeof name, "c%d.%d.0", i, k);
      ASSERT_OK(uvsql_orm_append(g, "children", named(o->cats, NULL, name)), NOERR);
    }
    ASSERT_INT_EQ(c->children.n, 2);
  }
  ASSERT_OK(uvsql_session_add(s, root), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(o, o->tc, NULL), 1 + 3 + 6 + 6);
  ASSERT_INT_EQ(count_rows(o, o->tc, "parent_id IS NULL"), 1);

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

TEST(orm_rel_tree_pg) {
  tree(test_pg_url());
}
TEST(orm_rel_tree_mariadb) {
  tree(test_mariadb_url());
}
TEST(orm_rel_tree_sqlite) {
  tree(test_sqlite_url());
}

/* ------------------------------------------------------------------ many-to-many */

static int64_t enrolled(orm_t *o, int64_t student, int64_t course) {
  char where[96];
  snprintf(where, sizeof where, "student_id = %lld AND course_id = %lld", (long long)student,
           (long long)course);
  return count_rows(o, o->te, where);
}

static void many_to_many(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  student_t *s1 = named(o->students, NULL, "s1"), *s2 = named(o->students, NULL, "s2");
  course_t *c1 = named(o->courses, NULL, "c1"), *c2 = named(o->courses, NULL, "c2");
  course_t *c3 = named(o->courses, NULL, "c3");
  ASSERT_OK(uvsql_orm_append(s1, "courses", c1), NOERR);
  ASSERT_OK(uvsql_orm_append(s1, "courses", c2), NOERR);
  ASSERT_OK(uvsql_orm_append(s2, "courses", c2), NOERR);
  ASSERT_INT_EQ(c2->students.n, 2); /* back_populates */
  ASSERT_OK(uvsql_session_add(s, s1), NOERR);
  ASSERT_OK(uvsql_session_add(s, s2), NOERR);
  ASSERT_OK(uvsql_session_add(s, c3), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  int64_t id1 = s1->id, id2 = s2->id, k1 = c1->id, k2 = c2->id, k3 = c3->id;
  await_ok(uvsql_session_close(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(o, o->te, NULL), 3);
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
  ASSERT_INT_EQ(count_rows(o, o->tco, NULL), 3);
  /* delete-orphan (student.courses): removing c1 from s2 deletes the course and its rows */
  ASSERT_OK(uvsql_orm_remove(s2, "courses", c1), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_state(c1), UVSQL_OBJ_DETACHED);
  char where[64];
  snprintf(where, sizeof where, "id = %lld", (long long)k1);
  ASSERT_INT_EQ(count_rows(o, o->tco, where), 0);
  snprintf(where, sizeof where, "course_id = %lld", (long long)k1);
  ASSERT_INT_EQ(count_rows(o, o->te, where), 0);
  /* what is left, checked with a Core query */
  uvsql_core_stmt_t *cq = uvsql_select_new();
  uvsql_select_cols(cq, uvsql_col(o->enroll, "student_id"), uvsql_col(o->enroll, "course_id"));
  uvsql_select_order_by(cq, uvsql_col(o->enroll, "student_id"));
  f = uvsql_engine_execute_core(o->fx.engine, cq, NULL, 0, NULL, NULL);
  uvsql_result_t *rows = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_result_nrows(rows), 1);
  int64_t st, co;
  ASSERT_OK(uvsql_result_int64(rows, 0, 0, &st), NOERR);
  ASSERT_OK(uvsql_result_int64(rows, 0, 1, &co), NOERR);
  ASSERT_INT_EQ(st, id2);
  ASSERT_INT_EQ(co, k2);
  uvsql_future_unref(f);
  uvsql_core_stmt_free(cq);
  ASSERT_INT_EQ(count_rows(o, o->tco, NULL), 2);
  (void)k3;
  uvsql_orm_result_free(r);
  uvsql_orm_query_free(q);
  await_ok(uvsql_session_close(s, NULL, NULL));
  /* a rollback forgets what relationships held: they load again from the database */
  s = session(o);
  q = query_of(o->students, &opt, 1);
  r = run_query(s, q);
  s2 = uvsql_orm_result_at(r, 1);
  c3 = named(o->courses, NULL, "c4");
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
  ASSERT_INT_EQ(((course_t *)s2->courses.items[0])->id, k2);
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
  ASSERT_INT_EQ(((course_t *)s2->courses.items[0])->id, k2);
  uvsql_orm_result_free(r);
  uvsql_orm_query_free(q);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_rel_many_to_many_pg) {
  many_to_many(test_pg_url());
}
TEST(orm_rel_many_to_many_mariadb) {
  many_to_many(test_mariadb_url());
}
TEST(orm_rel_many_to_many_sqlite) {
  many_to_many(test_sqlite_url());
}

/* ------------------------------------------------------------------ one-to-many cascades */

static void cascades(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  author_t *a = named(o->authors, NULL, "ann"), *b = named(o->authors, NULL, "bob");
  for (int k = 0; k < 3; k++) {
    ASSERT_OK(uvsql_orm_append(a, "books", named(o->books, NULL, "a")), NOERR);
    ASSERT_OK(uvsql_orm_append(b, "books", named(o->books, NULL, "b")), NOERR);
  }
  ASSERT_OK(uvsql_session_add(s, a), NOERR);
  ASSERT_OK(uvsql_session_add(s, b), NOERR);
  /* save-update: a book appended to an author of the session joins the session */
  book_t *late = named(o->books, NULL, "late");
  ASSERT_OK(uvsql_orm_append(b, "books", late), NOERR);
  ASSERT_INT_EQ(uvsql_orm_state(late), UVSQL_OBJ_PENDING);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(late->author_id, b->id); /* the foreign key from the relationship */
  ASSERT_INT_EQ(count_rows(o, o->tb, NULL), 7);

  /* delete-orphan: a book removed from its author is deleted */
  book_t *gone = b->books.items[0];
  ASSERT_OK(uvsql_orm_remove(b, "books", gone), NOERR);
  ASSERT(gone->author == NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(o, o->tb, NULL), 6);
  ASSERT_INT_EQ(uvsql_orm_state(gone), UVSQL_OBJ_DETACHED);
  /* delete: deleting an author deletes its (loaded) books */
  int64_t aid = a->id;
  ASSERT_OK(uvsql_session_delete(s, a), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  char where[64];
  snprintf(where, sizeof where, "author_id = %lld", (long long)aid);
  ASSERT_INT_EQ(count_rows(o, o->tb, where), 0);
  ASSERT_INT_EQ(count_rows(o, o->tb, NULL), 3);
  ASSERT_INT_EQ(count_rows(o, o->ta, NULL), 1);
  /* moving a book between authors (set_ref) keeps both collections consistent */
  book_t *mv = b->books.items[0];
  author_t *c = named(o->authors, NULL, "cat");
  ASSERT_OK(uvsql_session_add(s, c), NOERR);
  ASSERT_OK(uvsql_orm_set_ref(mv, "author", c), NOERR);
  ASSERT_INT_EQ(b->books.n, 2);
  ASSERT_INT_EQ(c->books.n, 1);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(mv->author_id, c->id);
  snprintf(where, sizeof where, "author_id = %lld", (long long)c->id);
  ASSERT_INT_EQ(count_rows(o, o->tb, where), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));
  /* delete cascade over a collection that is not loaded: the flush loads it first */
  s = session(o);
  uvsql_orm_query_t *q = query_of(o->authors, NULL, 0);
  uvsql_orm_result_t *r = run_query(s, q);
  ASSERT_INT_EQ(uvsql_orm_result_count(r), 2);
  author_t *bob = uvsql_orm_result_first(r);
  ASSERT_STR_EQ(bob->name, "bob");
  ASSERT_INT_EQ(uvsql_orm_is_loaded(bob, "books"), 0);
  snprintf(where, sizeof where, "author_id = %lld", (long long)bob->id);
  ASSERT_INT_EQ(count_rows(o, o->tb, where), 2);
  ASSERT_OK(uvsql_session_delete(s, bob), NOERR);
  o->log.selects = 0;
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(o->log.selects, 1); /* bob's books */
  ASSERT_INT_EQ(count_rows(o, o->tb, where), 0);
  ASSERT_INT_EQ(count_rows(o, o->ta, NULL), 1);
  uvsql_orm_result_free(r);
  uvsql_orm_query_free(q);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_rel_cascades_pg) {
  cascades(test_pg_url());
}
TEST(orm_rel_cascades_mariadb) {
  cascades(test_mariadb_url());
}
TEST(orm_rel_cascades_sqlite) {
  cascades(test_sqlite_url());
}
