/* tests/orm_rel_fixture.h — the models and fixture of the ORM relationship tests
 * (test_orm_rel.c, test_orm_rel_cascade.c, and both again over text and composite keys:
 * test_orm_rel_text_keys.c, test_orm_rel_composite_keys.c): authors/books/profiles, a
 * self-referential category tree, students/courses through an enrollment table; each test gets its
 * own tables, an engine whose echo log counts SELECT statements, and helpers to run ORM queries. */
#ifndef UVSQL_TEST_ORM_REL_FIXTURE_H
#define UVSQL_TEST_ORM_REL_FIXTURE_H

#include "backend.h"
#include "uvsql/orm.h"

/* The keys of the models: ORM_REL_KEYS 0 (the default) a single INT64 id the database
 * generates; 1 a TEXT id ("k000001", given by named()); 2 a composite key (tenant_id, id), both
 * INT64, given by named() (tenant 7), with foreign keys (tenant_id, author_id) that share the
 * tenant column with the row's own key. test_orm_rel_text_keys.c / _composite_keys.c run the
 * tests of test_orm_rel.c and test_orm_rel_cascade.c over 1 and 2. */
#ifndef ORM_REL_KEYS
#define ORM_REL_KEYS 0
#endif
#if ORM_REL_KEYS == 0
#define ORM_PK(X)       X(id, INT64, UVSQL_PRIMARY_KEY)
#define ORM_FK(X, name) X(name, INT64, 0)
#define ORM_FKS(name)   name
#define ORM_KEY_SQLTYPE UVSQL_SQL_BIGINT
#elif ORM_REL_KEYS == 1
#define ORM_PK(X)       X(id, STRING(24), UVSQL_PRIMARY_KEY)
#define ORM_FK(X, name) X(name, STRING(24), 0)
#define ORM_FKS(name)   name
#define ORM_KEY_SQLTYPE UVSQL_SQL_STRING(24)
#else
#define ORM_PK(X)                                                                                  \
  X(tenant_id, INT64, UVSQL_PRIMARY_KEY | UVSQL_NO_AUTOINCREMENT)                                  \
  X(id, INT64, UVSQL_PRIMARY_KEY | UVSQL_NO_AUTOINCREMENT)
#define ORM_FK(X, name) X(name, INT64, 0)
#define ORM_FKS(name)   "tenant_id," name
#define ORM_KEY_SQLTYPE UVSQL_SQL_BIGINT
#endif

#define AUTHOR_FIELDS(X)                                                                           \
  ORM_PK(X)                                                                                        \
  X(name, STRING(50), UVSQL_NOT_NULL)
#define AUTHOR_RELS(X) X(books, MANY(book_t)) X(profile, ONE(profile_t))
UVSQL_MODEL_REL(author_t, "author", AUTHOR_FIELDS, AUTHOR_RELS)

#define BOOK_FIELDS(X)                                                                             \
  ORM_PK(X)                                                                                        \
  X(title, STRING(100), UVSQL_NOT_NULL)                                                            \
  ORM_FK(X, author_id)
#define BOOK_RELS(X) X(author, ONE(author_t))
UVSQL_MODEL_REL(book_t, "book", BOOK_FIELDS, BOOK_RELS)

#define PROFILE_FIELDS(X)                                                                          \
  ORM_PK(X)                                                                                        \
  X(bio, STRING(50), UVSQL_NOT_NULL)                                                               \
  ORM_FK(X, author_id)
#define PROFILE_RELS(X) X(author, ONE(author_t))
UVSQL_MODEL_REL(profile_t, "profile", PROFILE_FIELDS, PROFILE_RELS)

#define CATEGORY_FIELDS(X)                                                                         \
  ORM_PK(X)                                                                                        \
  X(name, STRING(50), UVSQL_NOT_NULL)                                                              \
  ORM_FK(X, parent_id)
#define CATEGORY_RELS(X) X(parent, ONE(category_t)) X(children, MANY(category_t))
UVSQL_MODEL_REL(category_t, "category", CATEGORY_FIELDS, CATEGORY_RELS)

#define STUDENT_FIELDS(X)                                                                          \
  ORM_PK(X)                                                                                        \
  X(name, STRING(50), UVSQL_NOT_NULL)
#define STUDENT_RELS(X) X(courses, MANY(course_t))
UVSQL_MODEL_REL(student_t, "student", STUDENT_FIELDS, STUDENT_RELS)

#define COURSE_FIELDS(X)                                                                           \
  ORM_PK(X)                                                                                        \
  X(title, STRING(50), UVSQL_NOT_NULL)
#define COURSE_RELS(X) X(students, MANY(student_t))
UVSQL_MODEL_REL(course_t, "course", COURSE_FIELDS, COURSE_RELS)

/* A key as the tests keep and compare it, whatever its kind (for a composite key: its id;
 * every row has tenant 7). KEY(field) of an object's key field; key_sql(k) as an SQL literal
 * (one of four rotating buffers); key_cell(r, row, col) from a result. */
typedef struct {
  char s[32];
} okey_t;
static inline okey_t okey_i64(int64_t v) {
  okey_t k;
  snprintf(k.s, sizeof k.s, "%lld", (long long)v);
  return k;
}
static inline okey_t okey_text(const char *v) {
  okey_t k;
  snprintf(k.s, sizeof k.s, "'%s'", v ? v : "(null)");
  return k;
}
#if ORM_REL_KEYS == 1
#define KEY(field) okey_text(field)
#else
#define KEY(field) okey_i64(field)
#endif
static inline const char *key_sql(okey_t k) {
  static char buf[4][32];
  static int at;
  at = (at + 1) % 4;
  snprintf(buf[at], sizeof buf[at], "%s", k.s);
  return buf[at];
}
#define ASSERT_KEY_IS(field, okey) ASSERT_STR_EQ(KEY(field).s, (okey).s)
#define ASSERT_KEY_EQ(a, b)        ASSERT_STR_EQ(KEY(a).s, KEY(b).s)
static inline okey_t key_cell(uvsql_result_t *r, size_t row, size_t col) {
#if ORM_REL_KEYS == 1
  const char *t;
  ASSERT_OK(uvsql_result_text(r, row, col, &t, NULL), (uvsql_error_t *)NULL);
  return okey_text(t);
#else
  int64_t v;
  ASSERT_OK(uvsql_result_int64(r, row, col, &v), (uvsql_error_t *)NULL);
  return okey_i64(v);
#endif
}

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
#if ORM_REL_KEYS == 2
  uvsql_fk_action_t na = UVSQL_FK_NO_ACTION;
  (void)fk;
  ASSERT(uvsql_foreign_key(uvsql_mapper_table(o->books), NULL,
                           UVSQL_NAMES("tenant_id", "author_id"), o->ta,
                           UVSQL_NAMES("tenant_id", "id"), na, na));
  ASSERT(uvsql_foreign_key(uvsql_mapper_table(o->profiles), NULL,
                           UVSQL_NAMES("tenant_id", "author_id"), o->ta,
                           UVSQL_NAMES("tenant_id", "id"), na, na));
  /* the foreign keys are indexed, as they should be: a composite key's selectin sends
   * (tenant_id = ? AND author_id = ?) OR ..., which SQLite and MariaDB answer from an index */
  char ix[3][80];
  snprintf(ix[0], sizeof ix[0], "ix_%s_fk", o->tb);
  snprintf(ix[1], sizeof ix[1], "ix_%s_fk", o->tp);
  snprintf(ix[2], sizeof ix[2], "ix_%s_fk", o->tc);
  ASSERT(
      uvsql_index(uvsql_mapper_table(o->books), ix[0], UVSQL_NAMES("tenant_id", "author_id"), 0));
  ASSERT(uvsql_index(uvsql_mapper_table(o->profiles), ix[1], UVSQL_NAMES("tenant_id", "author_id"),
                     0));
  ASSERT(uvsql_index(uvsql_mapper_table(o->cats), ix[2], UVSQL_NAMES("tenant_id", "parent_id"), 0));
  ASSERT(uvsql_foreign_key(uvsql_mapper_table(o->cats), NULL, UVSQL_NAMES("tenant_id", "parent_id"),
                           o->tc, UVSQL_NAMES("tenant_id", "id"), na, na));
  o->enroll = uvsql_table(uvsql_registry_metadata(o->reg), o->te);
  uvsql_column(o->enroll, "tenant_id", UVSQL_SQL_BIGINT, UVSQL_NOT_NULL);
  uvsql_column(o->enroll, "student_id", UVSQL_SQL_BIGINT, UVSQL_NOT_NULL);
  uvsql_column(o->enroll, "course_id", UVSQL_SQL_BIGINT, UVSQL_NOT_NULL);
  ASSERT(uvsql_foreign_key(o->enroll, NULL, UVSQL_NAMES("tenant_id", "student_id"), o->ts,
                           UVSQL_NAMES("tenant_id", "id"), na, na));
  ASSERT(uvsql_foreign_key(o->enroll, NULL, UVSQL_NAMES("tenant_id", "course_id"), o->tco,
                           UVSQL_NAMES("tenant_id", "id"), na, na));
  uvsql_primary_key(o->enroll, UVSQL_NAMES("tenant_id", "student_id", "course_id"));
#else
  ASSERT(uvsql_mapper_references(o->books, "author_id", ref(fk, o->ta), UVSQL_FK_NO_ACTION));
  ASSERT(uvsql_mapper_references(o->profiles, "author_id", ref(fk, o->ta), UVSQL_FK_NO_ACTION));
  ASSERT(uvsql_mapper_references(o->cats, "parent_id", ref(fk, o->tc), UVSQL_FK_NO_ACTION));
  o->enroll = uvsql_table(uvsql_registry_metadata(o->reg), o->te);
  uvsql_column_references(uvsql_column(o->enroll, "student_id", ORM_KEY_SQLTYPE, UVSQL_NOT_NULL),
                          ref(fk, o->ts), UVSQL_FK_NO_ACTION, UVSQL_FK_NO_ACTION);
  uvsql_column_references(uvsql_column(o->enroll, "course_id", ORM_KEY_SQLTYPE, UVSQL_NOT_NULL),
                          ref(fk, o->tco), UVSQL_FK_NO_ACTION, UVSQL_FK_NO_ACTION);
  uvsql_primary_key(o->enroll, UVSQL_NAMES("student_id", "course_id"));
#endif

  /* author.books <-> book.author: delete and delete-orphan cascade */
  uvsql_relationship_t *ab = uvsql_mapper_relationship(
      o->authors, "books", UVSQL_ONE_TO_MANY, o->books, offsetof(author_t, books),
      ORM_FKS("author_id"), UVSQL_CASCADE_ALL | UVSQL_CASCADE_DELETE_ORPHAN, &err);
  ASSERT(ab);
  ASSERT(uvsql_relationship_order_by(ab, "id"));
  uvsql_relationship_t *ba =
      uvsql_mapper_relationship(o->books, "author", UVSQL_MANY_TO_ONE, o->authors,
                                offsetof(book_t, author), ORM_FKS("author_id"), 0, &err);
  ASSERT(ba);
  ASSERT(uvsql_relationship_back_populates(ab, ba));
  /* author.profile (one-to-one, the key in profile) <-> profile.author */
  uvsql_relationship_t *ap =
      uvsql_mapper_relationship(o->authors, "profile", UVSQL_ONE_TO_ONE, o->profiles,
                                offsetof(author_t, profile), ORM_FKS("author_id"), 0, &err);
  uvsql_relationship_t *pa =
      uvsql_mapper_relationship(o->profiles, "author", UVSQL_MANY_TO_ONE, o->authors,
                                offsetof(profile_t, author), ORM_FKS("author_id"), 0, &err);
  ASSERT(ap && pa && uvsql_relationship_back_populates(ap, pa));
  /* the adjacency list */
  uvsql_relationship_t *cc = uvsql_mapper_relationship(
      o->cats, "children", UVSQL_ONE_TO_MANY, o->cats, offsetof(category_t, children),
      ORM_FKS("parent_id"), UVSQL_CASCADE_ALL, &err);
  uvsql_relationship_t *cp =
      uvsql_mapper_relationship(o->cats, "parent", UVSQL_MANY_TO_ONE, o->cats,
                                offsetof(category_t, parent), ORM_FKS("parent_id"), 0, &err);
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
  ASSERT(uvsql_relationship_secondary(sc, o->enroll, ORM_FKS("student_id"), ORM_FKS("course_id")));
  ASSERT(uvsql_relationship_secondary(cs, o->enroll, ORM_FKS("course_id"), ORM_FKS("student_id")));
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

/* A new object of m called name (its first TEXT field that is not its key: name, title...); with
 * ORM_REL_KEYS 1 or 2 it gets the next key ("k000001" / tenant 7 and 1, 2, ...: increasing, as
 * generated keys would be). */
static inline void *named(uvsql_mapper_t *m, const char *name) {
  void *obj = uvsql_orm_new(m);
  const uvsql_model_t *md = uvsql_mapper_model(m);
  for (size_t i = 0; i < md->nfields; i++) /* its first text field but a key */
    if (md->fields[i].kind == UVSQL_FIELD_TEXT && strcmp(md->fields[i].name, "id") != 0) {
      ASSERT_OK(
          uvsql_orm_set_text(obj, (char **)((unsigned char *)obj + md->fields[i].offset), name),
          NOERR);
      break;
    }
#if ORM_REL_KEYS != 0
  static int64_t next_key;
  next_key++;
  for (size_t i = 0; i < md->nfields; i++) {
    void *f = (unsigned char *)obj + md->fields[i].offset;
#if ORM_REL_KEYS == 1
    char key[24];
    snprintf(key, sizeof key, "k%06lld", (long long)next_key);
    if (strcmp(md->fields[i].name, "id") == 0)
      ASSERT_OK(uvsql_orm_set_text(obj, (char **)f, key), NOERR);
#else
    if (strcmp(md->fields[i].name, "id") == 0)
      ASSERT_OK(uvsql_orm_set_int64(obj, (int64_t *)f, next_key), NOERR);
    if (strcmp(md->fields[i].name, "tenant_id") == 0)
      ASSERT_OK(uvsql_orm_set_int64(obj, (int64_t *)f, 7), NOERR);
#endif
  }
#endif
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
