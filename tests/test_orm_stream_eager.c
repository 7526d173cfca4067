/* tests/test_orm_stream_eager.c — uvsql_session_stream_query (yield_per with selectin eager
 * loaders) on PostgreSQL, MariaDB and SQLite: 250 authors x 3 books streamed in batches of
 * 100 with selectinload("books") come in order with every author's books loaded when the
 * batch callback sees them, in 1 + 3 x (1 fetch + 1 selectin) + 1 statements, the identity map
 * bounded by a batch and its books, a kept author keeping its books; books streamed with
 * selectinload("author") (many-to-one) and stopped after two batches; a query without eager
 * loaders streams as uvsql_session_stream; joined eager loading refused with a message; a
 * failing selectin statement fails the stream with its error, before on_batch sees the batch;
 * rows of every common field kind come through the cursor unchanged, in the select's order
 * (a descending order that is not the table's).
 * Each behaviour is one function taking a URL; each backend one TEST. */
#include "orm_rel_fixture.h"

#define NAUTHORS 250
#define NBOOKS   3
#define BATCH    100

static void seed(orm_t *o) {
  uvsql_session_t *s = session(o);
  char name[64];
  for (int i = 0; i < NAUTHORS; i++) {
    snprintf(name, sizeof name, "author %03d", i);
    author_t *a = named(o->authors, name);
    for (int k = 0; k < NBOOKS; k++) {
      snprintf(name, sizeof name, "book %03d.%d", i, k);
      ASSERT_OK(uvsql_orm_append(a, "books", named(o->books, name)), NOERR);
    }
    ASSERT_OK(uvsql_session_add(s, a), NOERR);
  }
  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&o->fx, o->tb, NULL), NAUTHORS * NBOOKS);
}

typedef struct {
  uvsql_session_t *s;
  size_t next, batches, max_map, stop_after, cap; /* cap: rows per batch (0: BATCH) */
  author_t *kept;
} st_t;

static int author_batch(uvsql_session_t *s, void *const *objs, size_t n, void *data) {
  st_t *t = data;
  char want[64];
  ASSERT(n >= 1 && n <= (t->cap ? t->cap : BATCH));
  t->batches++;
  for (size_t i = 0; i < n; i++) {
    author_t *a = objs[i];
    snprintf(want, sizeof want, "author %03zu", t->next);
    ASSERT_STR_EQ(a->name, want); /* in the select's order */
    ASSERT_INT_EQ(uvsql_orm_is_loaded(a, "books"), 1);
    ASSERT_INT_EQ(a->books.n, NBOOKS);
    for (size_t k = 0; k < NBOOKS; k++) {
      book_t *b = a->books.items[k];
      snprintf(want, sizeof want, "book %03zu.%zu", t->next, k);
      ASSERT_STR_EQ(b->title, want);
      ASSERT(b->author == a); /* back-populated */
    }
    if (t->next == 120) {
      ASSERT_OK(uvsql_session_keep(s, a), NOERR);
      t->kept = a;
    }
    t->next++;
  }
  size_t in_map = uvsql_session_identity_count(s);
  if (in_map > t->max_map)
    t->max_map = in_map;
  return 0;
}

static void selectin_per_batch(const char *url, int fetch_is_select) {
  orm_t *o = orm_open(url);
  seed(o);
  uvsql_load_option_t opt = UVSQL_SELECTINLOAD("books");
  uvsql_orm_query_t *q = query_of(o->authors, &opt, 1);
  uvsql_session_t *s = session(o);
  st_t t = {.s = s};
  uint64_t c0 = uvsql_session_statement_count(s);
  o->log.selects = 0;
  uvsql_future_t *f =
      uvsql_session_stream_query(s, q, NULL, 0, BATCH, author_batch, &t, NULL, NULL);
  uvsql_stream_summary_t *sum = AWAIT_OK(f);
  ASSERT_INT_EQ(sum->rows, NAUTHORS);
  ASSERT_INT_EQ(sum->batches, 3);
  ASSERT_INT_EQ(sum->stopped, 0);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(t.next, NAUTHORS);
  ASSERT_INT_EQ(t.batches, 3);
  /* BEGIN, open the cursor, 3 x (fetch + selectin of the batch's books), close it */
  ASSERT_INT_EQ(uvsql_session_statement_count(s) - c0, 1 + 1 + 3 * 2 + 1);
  /* the selectins are SELECTs; the fetches too except PostgreSQL's FETCH */
  ASSERT_INT_EQ(o->log.selects, fetch_is_select ? 3 + 3 : 3);
  /* bounded: a batch of authors and their books, and the kept author with its books */
  ASSERT(t.max_map <= BATCH * (1 + NBOOKS) + 1 + NBOOKS);
  ASSERT(t.max_map >= BATCH * (1 + NBOOKS));
  /* afterwards: the kept author and, reachable from it, its books */
  ASSERT_INT_EQ(uvsql_session_identity_count(s), 1 + NBOOKS);
  ASSERT_STR_EQ(t.kept->name, "author 120");
  ASSERT_INT_EQ(uvsql_orm_state(t.kept), UVSQL_OBJ_PERSISTENT);
  ASSERT_INT_EQ(t.kept->books.n, NBOOKS);
  for (size_t k = 0; k < NBOOKS; k++) {
    book_t *b = t.kept->books.items[k];
    char want[64];
    snprintf(want, sizeof want, "book 120.%zu", k);
    ASSERT_STR_EQ(b->title, want);
    ASSERT_INT_EQ(uvsql_orm_state(b), UVSQL_OBJ_PERSISTENT);
  }
  /* a second stream in the same transaction (the cursor's name is free again) */
  st_t t2 = {.s = s, .cap = 1000};
  f = uvsql_session_stream_query(s, q, NULL, 0, 1000, author_batch, &t2, NULL, NULL);
  sum = AWAIT_OK(f);
  ASSERT_INT_EQ(sum->rows, NAUTHORS);
  ASSERT_INT_EQ(sum->batches, 1);
  uvsql_future_unref(f);
  ASSERT(t2.kept == t.kept); /* the identity map's object */
  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));
  uvsql_orm_query_free(q);
  orm_close(o);
}

TEST(orm_stream_eager_selectin_per_batch_pg) {
  selectin_per_batch(test_pg_url(), 0);
}
TEST(orm_stream_eager_selectin_per_batch_mariadb) {
  selectin_per_batch(test_mariadb_url(), 1);
}
TEST(orm_stream_eager_selectin_per_batch_sqlite) {
  selectin_per_batch(test_sqlite_url(), 1);
}

static int book_batch(uvsql_session_t *s, void *const *objs, size_t n, void *data) {
  st_t *t = data;
  char want[64];
  t->batches++;
  for (size_t i = 0; i < n; i++) {
    book_t *b = objs[i];
    size_t a = t->next / NBOOKS, k = t->next % NBOOKS;
    snprintf(want, sizeof want, "book %03zu.%zu", a, k);
    ASSERT_STR_EQ(b->title, want);
    ASSERT_INT_EQ(uvsql_orm_is_loaded(b, "author"), 1);
    ASSERT(b->author != NULL);
    snprintf(want, sizeof want, "author %03zu", a);
    ASSERT_STR_EQ(b->author->name, want);
    t->next++;
  }
  size_t in_map = uvsql_session_identity_count(s);
  if (in_map > t->max_map)
    t->max_map = in_map;
  return t->stop_after && t->batches == t->stop_after;
}

static int count_batch(uvsql_session_t *s, void *const *objs, size_t n, void *data) {
  (void)s;
  (void)objs;
  *(size_t *)data += n;
  return 0;
}

static void many_to_one_and_stop(const char *url) {
  orm_t *o = orm_open(url);
  seed(o);
  uvsql_load_option_t opt = UVSQL_SELECTINLOAD("author");
  uvsql_orm_query_t *q = query_of(o->books, &opt, 1);
  uvsql_session_t *s = session(o);
  st_t t = {.s = s, .stop_after = 2};
  uint64_t c0 = uvsql_session_statement_count(s);
  uvsql_future_t *f = uvsql_session_stream_query(s, q, NULL, 0, BATCH, book_batch, &t, NULL, NULL);
  uvsql_stream_summary_t *sum = AWAIT_OK(f);
  ASSERT_INT_EQ(sum->batches, 2);
  ASSERT_INT_EQ(sum->rows, 2 * BATCH);
  ASSERT_INT_EQ(sum->stopped, 1);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(t.next, 2 * BATCH);
  ASSERT_INT_EQ(uvsql_session_statement_count(s) - c0, 1 + 1 + 2 * 2 + 1);
  /* 100 books of 34 authors at most in the map at a time; nothing kept */
  ASSERT(t.max_map <= BATCH + BATCH / NBOOKS + 1);
  ASSERT_INT_EQ(uvsql_session_identity_count(s), 0);

  /* parameters reach the cursor's select; a query without eager loaders is a plain stream
   * (one statement) */
  uvsql_orm_query_t *plain = uvsql_orm_query(o->books, NULL, 0, NULL);
  ASSERT(plain);
  uvsql_core_stmt_t *ps = uvsql_orm_query_stmt(plain);
  uvsql_select_where(ps,
                     uvsql_gt(ps, uvsql_mapper_col(o->books, "title"), uvsql_bindparam(ps, "t")));
  uvsql_param_t p[] = {UVSQL_P_TEXT("t", "book 200")};
  size_t n = 0;
  c0 = uvsql_session_statement_count(s);
  f = uvsql_session_stream_query(s, plain, p, 1, BATCH, count_batch, &n, NULL, NULL);
  sum = AWAIT_OK(f);
  ASSERT_INT_EQ(sum->rows, 50 * NBOOKS);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(n, 50 * NBOOKS);
  ASSERT_INT_EQ(uvsql_session_statement_count(s) - c0, 1);
  uvsql_orm_query_free(plain);

  uvsql_orm_query_t *qp = query_of(o->books, &opt, 1);
  ps = uvsql_orm_query_stmt(qp);
  uvsql_select_where(ps,
                     uvsql_gt(ps, uvsql_mapper_col(o->books, "title"), uvsql_bindparam(ps, "t")));
  st_t t2 = {.s = s, .next = 200 * NBOOKS};
  f = uvsql_session_stream_query(s, qp, p, 1, BATCH, book_batch, &t2, NULL, NULL);
  sum = AWAIT_OK(f);
  ASSERT_INT_EQ(sum->rows, 50 * NBOOKS); /* "book 200.0" > "book 200": from author 200 */
  ASSERT_INT_EQ(t2.next, NAUTHORS * NBOOKS);
  uvsql_future_unref(f);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));
  uvsql_orm_query_free(qp);
  uvsql_orm_query_free(q);
  orm_close(o);
}

TEST(orm_stream_eager_many_to_one_and_stop_pg) {
  many_to_one_and_stop(test_pg_url());
}
TEST(orm_stream_eager_many_to_one_and_stop_mariadb) {
  many_to_one_and_stop(test_mariadb_url());
}
TEST(orm_stream_eager_many_to_one_and_stop_sqlite) {
  many_to_one_and_stop(test_sqlite_url());
}

static void refused_and_failing(const char *url) {
  orm_t *o = orm_open(url);
  seed(o);
  uvsql_session_t *s = session(o);
  size_t n = 0;
  /* joined eager loading: refused before anything is sent */
  uvsql_load_option_t join = UVSQL_JOINEDLOAD("books");
  uvsql_orm_query_t *qj = query_of(o->authors, &join, 1);
  uint64_t c0 = uvsql_session_statement_count(s);
  uvsql_future_t *f =
      uvsql_session_stream_query(s, qj, NULL, 0, BATCH, count_batch, &n, NULL, NULL);
  const uvsql_error_t *fe = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(fe->message,
                "uvsql_session_stream_query: joined eager loading of \"books\" cannot be streamed "
                "(a batch could end inside a parent's joined rows): load it with "
                "UVSQL_SELECTINLOAD(\"books\")");
  uvsql_future_unref(f);
  ASSERT_INT_EQ(uvsql_session_statement_count(s), c0);
  f = uvsql_session_stream_query(s, NULL, NULL, 0, BATCH, count_batch, &n, NULL, NULL);
  fe = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(fe->message, "uvsql_session_stream_query: a query (uvsql_orm_query) and a batch "
                             "callback are required");
  uvsql_future_unref(f);
  uvsql_orm_query_free(qj);

  /* the selectin statement fails (its table is gone): the stream fails with its error and
   * on_batch never sees the batch; the batch's objects are released */
  char sql[128];
  snprintf(sql, sizeof sql, "DROP TABLE %s", o->tb);
  exec_ok(&o->fx, sql);
  uvsql_load_option_t sel = UVSQL_SELECTINLOAD("books");
  uvsql_orm_query_t *q = query_of(o->authors, &sel, 1);
  f = uvsql_session_stream_query(s, q, NULL, 0, BATCH, count_batch, &n, NULL, NULL);
  fe = AWAIT_ERR(f, UVSQL_EPROGRAMMING);
  ASSERT_STR_CONTAINS(fe->message, o->tb);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(n, 0);
  ASSERT_INT_EQ(uvsql_session_identity_count(s), 0);
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  /* the session goes on */
  uvsql_orm_query_t *qa = uvsql_orm_query(o->authors, NULL, 0, NULL);
  f = uvsql_session_stream_query(s, qa, NULL, 0, BATCH, count_batch, &n, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(n, NAUTHORS);
  await_ok(uvsql_session_close(s, NULL, NULL));
  uvsql_orm_query_free(qa);
  uvsql_orm_query_free(q);
  await_ok(uvsql_metadata_create_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  orm_close(o);
}

TEST(orm_stream_eager_refused_and_failing_pg) {
  refused_and_failing(test_pg_url());
}
TEST(orm_stream_eager_refused_and_failing_mariadb) {
  refused_and_failing(test_mariadb_url());
}
TEST(orm_stream_eager_refused_and_failing_sqlite) {
  refused_and_failing(test_sqlite_url());
}

/* ------------------------------------------------------------------ kinds and order */

#define SKIND_FIELDS(X)                                                                            \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(x, DOUBLE, 0)                                                                                  \
  X(lit, BOOL, 0)                                                                                  \
  X(d, DATE, 0)                                                                                    \
  X(at, TIMESTAMP, 0)                                                                              \
  X(note, TEXT, 0)                                                                                 \
  X(data, BYTES, 0)                                                                                \
  X(author_id, INT64, 0)
#define SKIND_RELS(X) X(author, ONE(author_t))
UVSQL_MODEL_REL(skind_t, "skind", SKIND_FIELDS, SKIND_RELS)

#define NKINDS 30

static int kinds_batch(uvsql_session_t *s, void *const *objs, size_t n, void *data) {
  (void)s;
  size_t *seen = data;
  for (size_t i = 0; i < n; i++, (*seen)++) {
    skind_t *k = objs[i];
    int64_t v = NKINDS - (int64_t)*seen; /* x descending: ids NKINDS .. 1 */
    ASSERT_INT_EQ(k->id, v);
    ASSERT(k->x == (double)v + 0.25);
    ASSERT_INT_EQ(k->lit, v % 2);
    ASSERT_INT_EQ(k->d, 19000 + v);
    ASSERT_INT_EQ(k->at, INT64_C(1700000000000000) + v * 1000001);
    char want[32];
    snprintf(want, sizeof want, "n%lld", (long long)v);
    ASSERT_STR_EQ(k->note, want);
    ASSERT(k->data.len == 3 && memcmp(k->data.ptr, "\x00\xff\x01", 3) == 0);
    ASSERT(k->author != NULL);
    snprintf(want, sizeof want, "author %03lld", (long long)(v % NAUTHORS));
    ASSERT_STR_EQ(k->author->name, want);
  }
  return 0;
}

static void kinds_and_order(const char *url) {
  orm_t *o = orm_open(url);
  seed(o);
  uvsql_error_t err;
  char table[64], fk[100];
  snprintf(table, sizeof table, "%s", test_unique_name("skind"));
  uvsql_mapper_t *m = uvsql_registry_map_table(o->reg, skind_t_model(), table, &err);
  ASSERT(m);
  ASSERT(uvsql_mapper_references(m, "author_id", ref(fk, o->ta), UVSQL_FK_NO_ACTION));
  ASSERT(uvsql_mapper_relationship(m, "author", UVSQL_MANY_TO_ONE, o->authors,
                                   offsetof(skind_t, author), ORM_FKS("author_id"), 0, &err));
  await_ok(uvsql_metadata_create_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  uvsql_session_t *s = session(o);
  /* the authors' keys, by name */
  uvsql_orm_query_t *qa = query_of(o->authors, NULL, 0);
  uvsql_orm_result_t *ra = run_query(s, qa);
  ASSERT_INT_EQ(uvsql_orm_result_count(ra), NAUTHORS);
  for (int64_t v = 1; v <= NKINDS; v++) {
    skind_t *k = uvsql_orm_new(m);
    ASSERT_OK(uvsql_orm_set_int64(k, &k->id, v), NOERR);
    ASSERT_OK(uvsql_orm_set_double(k, &k->x, (double)v + 0.25), NOERR);
    ASSERT_OK(uvsql_orm_set_bool(k, &k->lit, (int)(v % 2)), NOERR);
    ASSERT_OK(uvsql_orm_set_int64(k, &k->d, 19000 + v), NOERR);
    ASSERT_OK(uvsql_orm_set_int64(k, &k->at, INT64_C(1700000000000000) + v * 1000001), NOERR);
    char note[32];
    snprintf(note, sizeof note, "n%lld", (long long)v);
    ASSERT_OK(uvsql_orm_set_text(k, &k->note, note), NOERR);
    ASSERT_OK(uvsql_orm_set_bytes(k, &k->data, "\x00\xff\x01", 3), NOERR);
    ASSERT_OK(uvsql_orm_set_ref(k, "author", uvsql_orm_result_at(ra, (size_t)(v % NAUTHORS))),
              NOERR);
    ASSERT_OK(uvsql_session_add(s, k), NOERR);
  }
  await_ok(uvsql_session_commit(s, NULL, NULL));
  uvsql_orm_result_free(ra);
  uvsql_orm_query_free(qa);
  await_ok(uvsql_session_close(s, NULL, NULL));

  s = session(o);
  uvsql_load_option_t opt = UVSQL_SELECTINLOAD("author");
  uvsql_orm_query_t *q = uvsql_orm_query(m, &opt, 1, &err);
  ASSERT(q);
  uvsql_core_stmt_t *qs = uvsql_orm_query_stmt(q);
  uvsql_select_order_by(qs, uvsql_desc(qs, uvsql_mapper_col(m, "x")));
  size_t seen = 0;
  uvsql_future_t *f = uvsql_session_stream_query(s, q, NULL, 0, 7, kinds_batch, &seen, NULL, NULL);
  uvsql_stream_summary_t *sum = AWAIT_OK(f);
  ASSERT_INT_EQ(sum->rows, NKINDS);
  ASSERT_INT_EQ(sum->batches, (NKINDS + 6) / 7);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(seen, NKINDS);
  await_ok(uvsql_session_close(s, NULL, NULL));
  uvsql_orm_query_free(q);
  orm_close(o);
}

TEST(orm_stream_eager_kinds_and_order_pg) {
  kinds_and_order(test_pg_url());
}
TEST(orm_stream_eager_kinds_and_order_mariadb) {
  kinds_and_order(test_mariadb_url());
}
TEST(orm_stream_eager_kinds_and_order_sqlite) {
  kinds_and_order(test_sqlite_url());
}
