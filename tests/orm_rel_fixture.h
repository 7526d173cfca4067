/* tests/orm_rel_fixture.h — the models and fixture of the ORM relationship tests
 * (test_orm_rel.c, test_orm_rel_cascade.c): authors/books/profiles, a self-referential
 * category tree, students/courses through an enrollment table; each test gets its own tables,
 * an engine whose echo log counts SELECT statements, and helpers to run ORM queries. */
#ifndef UVSQL_TEST_ORM_REL_FIXTURE_H
#define UVSQL_TEST_ORM_REL_FIXTURE_H

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
  size_t selects, inserts, updates, deletes;
} sqllog_t;

static inline void log_line(void *data, const char *line) {
  sqllog_t *log = data;
  if (strncmp(line, "[param", 6) == 0)
    return;
  if (strncmp(line, "SELECT", 6) == 0)
    log->selects++;
  else if (strncmp(line, "INSERT", 6) == 0)
    log->inserts++;
  else if (strncmp(line, "UPDATE", 6) == 0)
    log->updates++;
  else if (strncmp(line, "DELETE", 6) == 0)
    log->deletes++;
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

static inline void await_ok(uvsql_future_t *f) {
  AWAIT_OK(f);
  uvsql_future_unref(f);
}

static inline char *ref(char *buf, const char *table) {
  sprintf(buf, "%s.id", table);
  return buf;
}

static inline orm_t *orm_open(const char *url) {
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

static inline void orm_close(orm_t *o) {
  await_ok(uvsql_metadata_drop_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  uvsql_registry_free(o->reg);
  fixture_close(&o->fx);
  free(o);
}

static inline uvsql_session_t *session(orm_t *o) {
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, o->fx.engine, o->reg, NULL), NOERR);
  return s;
}

static inline void *named(uvsql_mapper_t *m, const char *name) {
  void *obj = uvsql_orm_new(m);
  /* every model here has `name` or `title` as field 1 */
  char **f = (char **)((unsigned char *)obj + uvsql_mapper_model(m)->fields[1].offset);
  ASSERT_OK(uvsql_orm_set_text(obj, f, name), NOERR);
  return obj;
}

/* Runs q and returns its result (taken: the caller frees it). */
static inline uvsql_orm_result_t *run_query(uvsql_session_t *s, uvsql_orm_query_t *q) {
  uvsql_future_t *f = uvsql_session_execute_query(s, q, NULL, 0, NULL, NULL);
  AWAIT_OK(f);
  uvsql_orm_result_t *r = uvsql_future_take(f);
  uvsql_future_unref(f);
  return r;
}

static inline uvsql_orm_query_t *query_of(uvsql_mapper_t *m, const uvsql_load_option_t *opts,
                                          size_t n) {
  uvsql_error_t err;
  uvsql_orm_query_t *q = uvsql_orm_query(m, opts, n, &err);
  ASSERT_OK(q ? 0 : err.code, &err);
  uvsql_select_order_by(uvsql_orm_query_stmt(q), uvsql_mapper_col(m, "id"));
  return q;
}

#endif
