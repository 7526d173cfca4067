/* tests/test_orm_array.c — ORM ARRAY(e) fields (uvsql_array_t): PostgreSQL arrays of the
 * scalar kinds in a model.
 *   - PostgreSQL: insert (one object and a multi-row INSERT of many), load through Core and
 *     through the ORM (get, select), UPDATE on dirty detection (one element changed in place,
 *     an element made NULL, the empty array, the NULL array, a same-content set that is no
 *     change), refresh and expire re-reading a row changed behind the session's back, a cell
 *     of another element type refused naming the element; edge values: NULL elements, the
 *     empty array, int64 min/max, unicode text, text and bytes with commas, quotes, braces and
 *     NUL bytes, the NULL array;
 *   - the setter checks element types (message names the element and the kinds);
 *   - a model with an ARRAY of a kind that has no array form is refused by the registry;
 *   - MariaDB and SQLite refuse such a model at create_all, naming the backend and
 *     suggesting JSON, before creating anything.
 * Table names are unique per run (test_unique_name), so the servers can be shared. */
#include "orm_fixture.h"

#define ARR_FIELDS(X)                                                                              \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(ints, ARRAY(INT64), 0)                                                                         \
  X(texts, ARRAY(TEXT), 0)                                                                         \
  X(flags, ARRAY(BOOL), 0)                                                                         \
  X(xs, ARRAY(DOUBLE), 0)                                                                          \
  X(ids, ARRAY(UUID), 0)                                                                           \
  X(stamps, ARRAY(TIMESTAMPTZ), 0)                                                                 \
  X(blobs, ARRAY(BYTES), 0)                                                                        \
  X(note, TEXT, 0)
UVSQL_MODEL(arr_row_t, "orm_arr_row", ARR_FIELDS)

/* The same table read as if its text[] column held int64s: a mismatch on load. */
#define ARR_BAD_FIELDS(X)                                                                          \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(texts, ARRAY(INT64), 0)
UVSQL_MODEL(arr_bad_t, "orm_arr_row", ARR_BAD_FIELDS)

#define ARR_JSON_FIELDS(X)                                                                         \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(docs, ARRAY(JSON), 0)
UVSQL_MODEL(arr_json_t, "orm_arr_json", ARR_JSON_FIELDS)

static const char unicode[] = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac "
                              "\xf0\x9f\x98\x80";
static const char quoted[] = "a,b {\"q\"} back\\slash NULL";
static const unsigned char blob0[] = {0x00, 0xff, 0x00, 'x'};

/* ints: {1, NULL, INT64_MIN, INT64_MAX, 0}; texts: {unicode, NULL, "", quoted}; ... */
static void fill_full(arr_row_t *o) {
  uvsql_value_t ints[] = {UVSQL_V_INT64(1), UVSQL_V_NULL(), UVSQL_V_INT64(INT64_MIN),
                          UVSQL_V_INT64(INT64_MAX), UVSQL_V_INT64(0)};
  uvsql_value_t texts[] = {UVSQL_V_TEXT(unicode), UVSQL_V_NULL(), UVSQL_V_TEXT(""),
                           UVSQL_V_TEXT(quoted)};
  uvsql_value_t flags[] = {UVSQL_V_BOOL(1), UVSQL_V_BOOL(0), UVSQL_V_NULL()};
  uvsql_value_t xs[] = {UVSQL_V_DOUBLE(0.1), UVSQL_V_DOUBLE(-1e300), UVSQL_V_NULL()};
  uvsql_uuid_t nil, max;
  memset(nil.b, 0, 16);
  memset(max.b, 0xff, 16);
  uvsql_value_t ids[] = {uvsql_v_uuid(&nil), uvsql_v_uuid(&max), UVSQL_V_NULL()};
  uvsql_value_t stamps[] = {UVSQL_V_TIMESTAMPTZ(-86400000000), UVSQL_V_NULL(),
                            UVSQL_V_TIMESTAMPTZ(1700000000123456)};
  uvsql_value_t blobs[] = {UVSQL_V_BYTES(blob0, sizeof blob0), UVSQL_V_NULL(),
                           UVSQL_V_BYTES("", 0)};
  uvsql_error_t err;
  ASSERT_OK(uvsql_orm_set_array(o, &o->ints, ints, 5, &err), &err);
  ASSERT_OK(uvsql_orm_set_array(o, &o->texts, texts, 4, &err), &err);
  ASSERT_OK(uvsql_orm_set_array(o, &o->flags, flags, 3, &err), &err);
  ASSERT_OK(uvsql_orm_set_array(o, &o->xs, xs, 3, &err), &err);
  ASSERT_OK(uvsql_orm_set_array(o, &o->ids, ids, 3, &err), &err);
  ASSERT_OK(uvsql_orm_set_array(o, &o->stamps, stamps, 3, &err), &err);
  ASSERT_OK(uvsql_orm_set_array(o, &o->blobs, blobs, 3, &err), &err);
}

static void check_full(const arr_row_t *o) {
  ASSERT(o->ints.items != NULL);
  ASSERT_INT_EQ(o->ints.n, 5);
  ASSERT_INT_EQ(o->ints.items[0].type, UVSQL_TYPE_INT64);
  ASSERT_INT_EQ(o->ints.items[0].u.i64, 1);
  ASSERT_INT_EQ(o->ints.items[1].type, UVSQL_TYPE_NULL);
  ASSERT(o->ints.items[2].u.i64 == INT64_MIN);
  ASSERT(o->ints.items[3].u.i64 == INT64_MAX);
  ASSERT_INT_EQ(o->ints.items[4].u.i64, 0);
  ASSERT_INT_EQ(o->texts.n, 4);
  ASSERT_INT_EQ(o->texts.items[0].type, UVSQL_TYPE_TEXT);
  ASSERT_STR_EQ(o->texts.items[0].u.s.ptr, unicode);
  ASSERT_INT_EQ(o->texts.items[0].u.s.len, strlen(unicode));
  ASSERT_INT_EQ(o->texts.items[1].type, UVSQL_TYPE_NULL);
  ASSERT_INT_EQ(o->texts.items[2].type, UVSQL_TYPE_TEXT);
  ASSERT_INT_EQ(o->texts.items[2].u.s.len, 0);
  ASSERT_STR_EQ(o->texts.items[3].u.s.ptr, quoted);
  ASSERT_INT_EQ(o->flags.n, 3);
  ASSERT(o->flags.items[0].type == UVSQL_TYPE_BOOL && o->flags.items[0].u.b == 1);
  ASSERT(o->flags.items[1].type == UVSQL_TYPE_BOOL && o->flags.items[1].u.b == 0);
  ASSERT_INT_EQ(o->flags.items[2].type, UVSQL_TYPE_NULL);
  ASSERT_INT_EQ(o->xs.n, 3);
  ASSERT(o->xs.items[0].type == UVSQL_TYPE_DOUBLE && o->xs.items[0].u.f64 == 0.1);
  ASSERT(o->xs.items[1].u.f64 == -1e300);
  ASSERT_INT_EQ(o->xs.items[2].type, UVSQL_TYPE_NULL);
  ASSERT_INT_EQ(o->ids.n, 3);
  unsigned char max[16];
  memset(max, 0xff, 16);
  ASSERT_INT_EQ(o->ids.items[0].type, UVSQL_TYPE_UUID);
  ASSERT(memcmp(o->ids.items[0].u.uuid, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0);
  ASSERT(memcmp(o->ids.items[1].u.uuid, max, 16) == 0);
  ASSERT_INT_EQ(o->ids.items[2].type, UVSQL_TYPE_NULL);
  ASSERT_INT_EQ(o->stamps.n, 3);
  ASSERT_INT_EQ(o->stamps.items[0].type, UVSQL_TYPE_TIMESTAMPTZ);
  ASSERT(o->stamps.items[0].u.i64 == -86400000000);
  ASSERT_INT_EQ(o->stamps.items[1].type, UVSQL_TYPE_NULL);
  ASSERT(o->stamps.items[2].u.i64 == 1700000000123456);
  ASSERT_INT_EQ(o->blobs.n, 3);
  ASSERT_INT_EQ(o->blobs.items[0].type, UVSQL_TYPE_BYTES);
  ASSERT_INT_EQ(o->blobs.items[0].u.s.len, sizeof blob0);
  ASSERT(memcmp(o->blobs.items[0].u.s.ptr, blob0, sizeof blob0) == 0);
  ASSERT_INT_EQ(o->blobs.items[1].type, UVSQL_TYPE_NULL);
  ASSERT(o->blobs.items[2].type == UVSQL_TYPE_BYTES && o->blobs.items[2].u.s.len == 0);
}

typedef struct {
  fixture_t fx;
  sqllog_t log;
  uvsql_registry_t *reg;
  uvsql_mapper_t *m;
  char table[64];
} arr_fx_t;

static arr_fx_t *arr_open(const char *url) {
  arr_fx_t *a = calloc(1, sizeof *a);
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  uvsql_error_t err;
  opt.echo = 1;
  opt.log_cb = log_line;
  opt.log_data = &a->log;
  a->fx = fixture_open(url, &opt);
  snprintf(a->table, sizeof a->table, "%s", test_unique_name("orm_arr"));
  a->reg = uvsql_registry_new(NULL);
  a->m = uvsql_registry_map_table(a->reg, arr_row_t_model(), a->table, &err);
  if (!a->m)
    FAILF("map: %s", err.message);
  return a;
}

static void arr_close(arr_fx_t *a, int drop) {
  if (drop)
    await_ok(uvsql_metadata_drop_all(uvsql_registry_metadata(a->reg), a->fx.engine, NULL, NULL));
  uvsql_registry_free(a->reg);
  log_clear(&a->log);
  fixture_close(&a->fx);
  free(a);
}

static uvsql_session_t *arr_session(arr_fx_t *a) {
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, a->fx.engine, a->reg, NULL), (uvsql_error_t *)NULL);
  return s;
}

static arr_row_t *get_row(uvsql_session_t *s, arr_fx_t *a, int64_t id) {
  uvsql_future_t *f = uvsql_session_get_int(s, a->m, id, NULL, NULL);
  arr_row_t *o = AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT(o != NULL);
  return o;
}

static void close_session(uvsql_session_t *s) {
  await_ok(uvsql_session_close(s, NULL, NULL));
}

/* Rows 1 (every edge value), 2 (empty arrays), 3 (NULL arrays) in one commit. */
static void insert_three(arr_fx_t *a) {
  uvsql_session_t *s = arr_session(a);
  arr_row_t *o1 = uvsql_orm_new(a->m), *o2 = uvsql_orm_new(a->m), *o3 = uvsql_orm_new(a->m);
  o1->id = 1;
  o2->id = 2;
  o3->id = 3;
  fill_full(o1);
  uvsql_error_t err;
  ASSERT_OK(uvsql_orm_set_array(o2, &o2->ints, NULL, 0, &err), &err);
  ASSERT_OK(uvsql_orm_set_array(o2, &o2->texts, NULL, 0, &err), &err);
  ASSERT(o2->ints.items != NULL && o2->ints.n == 0); /* empty, not NULL */
  ASSERT_INT_EQ(uvsql_orm_is_null(o2, &o2->ints), 0);
  ASSERT_OK(uvsql_orm_set_null(o3, &o3->ints, 1), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_set_null(o3, &o3->texts, 1), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(uvsql_orm_is_null(o3, &o3->ints), 1);
  void *all[] = {o1, o2, o3};
  ASSERT_OK(uvsql_session_add_all(s, all, 3), (uvsql_error_t *)NULL);
  log_clear(&a->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(log_count(&a->log, "INSERT"), 1); /* one multi-row INSERT */
  close_session(s);
}

/* ------------------------------------------------------------------ PostgreSQL round trip */

TEST(orm_array_roundtrip_pg) {
  arr_fx_t *a = arr_open(test_pg_url());
  await_ok(uvsql_metadata_create_all(uvsql_registry_metadata(a->reg), a->fx.engine, NULL, NULL));
  insert_three(a);

  /* Core reads what the ORM wrote */
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT ints, texts, pg_typeof(ints)::text, pg_typeof(blobs)::text FROM %s ORDER BY id",
           a->table);
  uvsql_result_t *r = query(&a->fx, sql, NULL, 0);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 3);
  const uvsql_value_t *items;
  size_t n;
  ASSERT_OK(uvsql_result_array(r, 0, 0, &items, &n), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(n, 5);
  ASSERT(items[2].u.i64 == INT64_MIN && items[3].u.i64 == INT64_MAX);
  ASSERT_INT_EQ(items[1].type, UVSQL_TYPE_NULL);
  ASSERT_OK(uvsql_result_array(r, 0, 1, &items, &n), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(n, 4);
  ASSERT_STR_EQ(items[0].u.s.ptr, unicode);
  ASSERT_OK(uvsql_result_array(r, 1, 0, &items, &n), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(n, 0);
  ASSERT_INT_EQ(uvsql_result_is_null(r, 2, 0), 1);
  ASSERT_INT_EQ(uvsql_result_is_null(r, 2, 1), 1);
  const char *t;
  ASSERT_OK(uvsql_result_text(r, 0, 2, &t, NULL), (uvsql_error_t *)NULL);
  ASSERT_STR_EQ(t, "bigint[]");
  ASSERT_OK(uvsql_result_text(r, 0, 3, &t, NULL), (uvsql_error_t *)NULL);
  ASSERT_STR_EQ(t, "bytea[]");
  uvsql_result_free(r);

  /* the ORM reads them back (get), clean */
  uvsql_session_t *s = arr_session(a);
  arr_row_t *o1 = get_row(s, a, 1), *o2 = get_row(s, a, 2), *o3 = get_row(s, a, 3);
  check_full(o1);
  ASSERT(o2->ints.items != NULL && o2->ints.n == 0 && !uvsql_orm_is_null(o2, &o2->ints));
  ASSERT(o2->texts.items != NULL && o2->texts.n == 0);
  ASSERT_INT_EQ(uvsql_orm_is_null(o2, &o2->flags), 1); /* never set: NULL */
  ASSERT_INT_EQ(uvsql_orm_is_null(o3, &o3->ints), 1);
  ASSERT(o3->ints.items == NULL);
  ASSERT_INT_EQ(uvsql_session_is_modified(s, o1), 0);
  ASSERT_INT_EQ(uvsql_session_is_modified(s, o2), 0);
  ASSERT_INT_EQ(uvsql_session_is_modified(s, o3), 0);

  /* the same contents set again are no change */
  uvsql_value_t same[] = {UVSQL_V_INT64(1), UVSQL_V_NULL(), UVSQL_V_INT64(INT64_MIN),
                          UVSQL_V_INT64(INT64_MAX), UVSQL_V_INT64(0)};
  uvsql_error_t err;
  ASSERT_OK(uvsql_orm_set_array(o1, &o1->ints, same, 5, &err), &err);
  ASSERT_INT_EQ(uvsql_session_is_modified(s, o1), 0);

  /* changes: one element in place, an element made NULL (in place), empty -> values,
   * NULL -> empty, values -> NULL */
  o1->ints.items[0] = uvsql_v_int64(42);
  ASSERT_INT_EQ(uvsql_session_is_modified(s, o1), 1);
  o1->texts.items[0] = uvsql_v_null();
  uvsql_value_t two[] = {UVSQL_V_INT64(-5), UVSQL_V_NULL()};
  ASSERT_OK(uvsql_orm_set_array(o2, &o2->ints, two, 2, &err), &err);
  ASSERT_INT_EQ(uvsql_session_is_modified(s, o2), 1);
  ASSERT_OK(uvsql_orm_set_array(o3, &o3->ints, NULL, 0, &err), &err);
  ASSERT_INT_EQ(uvsql_session_is_modified(s, o3), 1);
  ASSERT_OK(uvsql_orm_set_null(o1, &o1->flags, 1), (uvsql_error_t *)NULL);
  ASSERT(o1->flags.items == NULL);
  log_clear(&a->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(log_count(&a->log, "UPDATE"), 3);
  const char *up = log_find(&a->log, "UPDATE");
  ASSERT(up && strstr(up, "note") == NULL); /* only the changed columns */
  close_session(s);

  snprintf(sql, sizeof sql,
           "SELECT ints, texts, flags IS NULL, cardinality(ints) FROM %s ORDER BY id", a->table);
  r = query(&a->fx, sql, NULL, 0);
  ASSERT_OK(uvsql_result_array(r, 0, 0, &items, &n), (uvsql_error_t *)NULL);
  ASSERT(n == 5 && items[0].u.i64 == 42 && items[2].u.i64 == INT64_MIN);
  ASSERT_OK(uvsql_result_array(r, 0, 1, &items, &n), (uvsql_error_t *)NULL);
  ASSERT(n == 4 && items[0].type == UVSQL_TYPE_NULL && strcmp(items[3].u.s.ptr, quoted) == 0);
  int b;
  ASSERT_OK(uvsql_result_bool(r, 0, 2, &b), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(b, 1);
  ASSERT_OK(uvsql_result_array(r, 1, 0, &items, &n), (uvsql_error_t *)NULL);
  ASSERT(n == 2 && items[0].u.i64 == -5 && items[1].type == UVSQL_TYPE_NULL);
  ASSERT_OK(uvsql_result_array(r, 2, 0, &items, &n), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(n, 0); /* empty, not NULL */
  int64_t card;
  ASSERT_OK(uvsql_result_int64(r, 2, 3, &card), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(card, 0);
  uvsql_result_free(r);

  /* an ORM select reads them the same */
  s = arr_session(a);
  uvsql_core_stmt_t *q = uvsql_orm_select(a->m);
  uvsql_select_order_by(q, uvsql_mapper_col(a->m, "id"));
  uvsql_future_t *f = uvsql_session_execute(s, a->m, q, NULL, 0, NULL, NULL);
  uvsql_orm_result_t *res = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_orm_result_count(res), 3);
  arr_row_t *x1 = uvsql_orm_result_at(res, 0), *x3 = uvsql_orm_result_at(res, 2);
  ASSERT(x1->ints.n == 5 && x1->ints.items[0].u.i64 == 42);
  ASSERT_INT_EQ(x1->texts.items[0].type, UVSQL_TYPE_NULL);
  ASSERT_INT_EQ(uvsql_orm_is_null(x1, &x1->flags), 1);
  ASSERT(x3->ints.items != NULL && x3->ints.n == 0);
  uvsql_future_unref(f);
  uvsql_core_stmt_free(q);

  /* refresh: a row changed behind the session's back is read again */
  snprintf(sql, sizeof sql,
           "UPDATE %s SET ints = ARRAY[7, NULL, 9]::bigint[], texts = '{}' WHERE id = 1", a->table);
  exec_ok(&a->fx, sql);
  ASSERT_INT_EQ(x1->ints.items[0].u.i64, 42); /* not yet */
  await_ok(uvsql_session_refresh(s, x1, NULL, NULL));
  ASSERT(x1->ints.n == 3 && x1->ints.items[0].u.i64 == 7 && x1->ints.items[2].u.i64 == 9);
  ASSERT_INT_EQ(x1->ints.items[1].type, UVSQL_TYPE_NULL);
  ASSERT(x1->texts.items != NULL && x1->texts.n == 0);
  ASSERT_INT_EQ(uvsql_session_is_modified(s, x1), 0);

  /* expire: an unflushed in-place change is dropped, the next get reads the row again */
  snprintf(sql, sizeof sql, "UPDATE %s SET ints = ARRAY[100]::bigint[] WHERE id = 1", a->table);
  exec_ok(&a->fx, sql);
  x1->ints.items[0] = uvsql_v_int64(-1);
  ASSERT_OK(uvsql_session_expire(s, x1), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(uvsql_orm_is_expired(x1), 1);
  arr_row_t *again = get_row(s, a, 1);
  ASSERT(again == x1);
  ASSERT(x1->ints.n == 1 && x1->ints.items[0].u.i64 == 100);
  ASSERT_INT_EQ(uvsql_session_is_modified(s, x1), 0);
  /* a rollback puts an in-place change back */
  x1->ints.items[0] = uvsql_v_int64(5);
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  x1 = get_row(s, a, 1);
  ASSERT(x1->ints.n == 1 && x1->ints.items[0].u.i64 == 100);
  close_session(s);

  /* a text[] column loaded into an ARRAY(INT64) field names the element */
  uvsql_registry_t *reg2 = uvsql_registry_new(NULL);
  uvsql_mapper_t *bad = uvsql_registry_map_table(reg2, arr_bad_t_model(), a->table, &err);
  ASSERT(bad != NULL);
  snprintf(sql, sizeof sql, "UPDATE %s SET texts = ARRAY['x', NULL] WHERE id = 2", a->table);
  exec_ok(&a->fx, sql);
  ASSERT_OK(uvsql_session_new(&s, a->fx.engine, reg2, NULL), (uvsql_error_t *)NULL);
  f = uvsql_session_get_int(s, bad, 2, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EDATA);
  ASSERT_STR_CONTAINS(e->message, "cannot load column \"texts\" (an array) into field "
                                  "arr_bad_t.texts of kind ARRAY(INT64): element 0 is text");
  uvsql_future_unref(f);
  await_ok(uvsql_session_rollback(s, NULL, NULL));  /* the failed load ended the transaction */
  f = uvsql_session_get_int(s, bad, 3, NULL, NULL); /* texts NULL: loads */
  arr_bad_t *b3 = AWAIT_OK(f);
  ASSERT(b3 && b3->texts.items == NULL && uvsql_orm_is_null(b3, &b3->texts));
  uvsql_future_unref(f);
  close_session(s);
  uvsql_registry_free(reg2);

  arr_close(a, 1);
}

/* Many objects with arrays in one flush: multi-row INSERTs, read back by Core. */
TEST(orm_array_bulk_insert_pg) {
  arr_fx_t *a = arr_open(test_pg_url());
  await_ok(uvsql_metadata_create_all(uvsql_registry_metadata(a->reg), a->fx.engine, NULL, NULL));
  uvsql_session_t *s = arr_session(a);
  enum { N = 300 };
  void *objs[N];
  uvsql_error_t err;
  for (int i = 0; i < N; i++) {
    arr_row_t *o = uvsql_orm_new(a->m);
    o->id = i + 1;
    uvsql_value_t ints[3] = {UVSQL_V_INT64(i), UVSQL_V_NULL(), UVSQL_V_INT64(-(int64_t)i)};
    char label[32];
    snprintf(label, sizeof label, "row %d \xc3\xa9", i);
    uvsql_value_t texts[1] = {UVSQL_V_TEXT(label)};
    ASSERT_OK(uvsql_orm_set_array(o, &o->ints, ints, (size_t)(i % 4), &err), &err);
    if (i % 5 != 0)
      ASSERT_OK(uvsql_orm_set_array(o, &o->texts, texts, 1, &err), &err);
    objs[i] = o;
  }
  ASSERT_OK(uvsql_session_add_all(s, objs, N), (uvsql_error_t *)NULL);
  log_clear(&a->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  size_t inserts = log_count(&a->log, "INSERT");
  ASSERT(inserts >= 1 && inserts < 10); /* batched, not one per row */
  close_session(s);
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT id, ints, texts FROM %s ORDER BY id", a->table);
  uvsql_result_t *r = query(&a->fx, sql, NULL, 0);
  ASSERT_INT_EQ(uvsql_result_nrows(r), N);
  for (int i = 0; i < N; i++) {
    const uvsql_value_t *items;
    size_t n;
    ASSERT_OK(uvsql_result_array(r, (size_t)i, 1, &items, &n), (uvsql_error_t *)NULL);
    ASSERT_INT_EQ(n, (size_t)(i % 4));
    if (n >= 1)
      ASSERT_INT_EQ(items[0].u.i64, i);
    if (n >= 2)
      ASSERT_INT_EQ(items[1].type, UVSQL_TYPE_NULL);
    if (n >= 3)
      ASSERT_INT_EQ(items[2].u.i64, -i);
    if (i % 5 == 0) {
      ASSERT_INT_EQ(uvsql_result_is_null(r, (size_t)i, 2), 1);
    } else {
      char label[32];
      snprintf(label, sizeof label, "row %d \xc3\xa9", i);
      ASSERT_OK(uvsql_result_array(r, (size_t)i, 2, &items, &n), (uvsql_error_t *)NULL);
      ASSERT(n == 1 && strcmp(items[0].u.s.ptr, label) == 0);
    }
  }
  uvsql_result_free(r);
  arr_close(a, 1);
}

/* ------------------------------------------------------------------ setter and registry */

TEST(orm_array_setter_checks_elements) {
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_error_t err;
  uvsql_mapper_t *m = uvsql_registry_map(reg, arr_row_t_model(), &err);
  ASSERT(m != NULL);
  arr_row_t *o = uvsql_orm_new(m);
  uvsql_value_t ok[] = {UVSQL_V_INT64(3)};
  ASSERT_OK(uvsql_orm_set_array(o, &o->ints, ok, 1, &err), &err);
  uvsql_value_t mixed[] = {UVSQL_V_INT64(1), UVSQL_V_TEXT("2")};
  ASSERT_ERR(uvsql_orm_set_array(o, &o->ints, mixed, 2, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(err.message, "arr_row_t.ints: element 1 is text: an ARRAY(INT64) holds int64 "
                             "values or NULL");
  ASSERT(o->ints.n == 1 && o->ints.items[0].u.i64 == 3); /* unchanged */
  /* TIMESTAMP is not TIMESTAMPTZ */
  uvsql_value_t ts[] = {UVSQL_V_TIMESTAMP(0)};
  ASSERT_ERR(uvsql_orm_set_array(o, &o->stamps, ts, 1, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(err.message, "arr_row_t.stamps: element 0 is timestamp: an "
                                   "ARRAY(TIMESTAMPTZ) holds timestamptz values or NULL");
  /* not an ARRAY field; items missing */
  ASSERT_ERR(uvsql_orm_set_array(o, (uvsql_array_t *)(void *)&o->note, ok, 1, &err),
             UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(err.message, "uvsql_orm_set_array: the field is not an ARRAY field of the object");
  ASSERT_ERR(uvsql_orm_set_array(o, &o->ints, NULL, 2, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(err.message, "arr_row_t.ints: an ARRAY of 2 items needs them");
  /* unset frees the array and makes the field unset */
  ASSERT_INT_EQ(uvsql_orm_is_set(o, &o->ints), 1);
  ASSERT_OK(uvsql_orm_unset(o, &o->ints), (uvsql_error_t *)NULL);
  ASSERT(o->ints.items == NULL && o->ints.n == 0);
  ASSERT_INT_EQ(uvsql_orm_is_set(o, &o->ints), 0);
  /* the array a text element points into is freed with the object (ASan/valgrind check) */
  uvsql_value_t texts[] = {UVSQL_V_TEXT(unicode), UVSQL_V_NULL()};
  ASSERT_OK(uvsql_orm_set_array(o, &o->texts, texts, 2, &err), &err);
  ASSERT(o->texts.items[0].u.s.ptr != unicode); /* a copy */
  uvsql_orm_free(o);
  uvsql_registry_free(reg);
}

TEST(orm_array_of_unsupported_kind_refused) {
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_error_t err;
  ASSERT(uvsql_registry_map(reg, arr_json_t_model(), &err) == NULL);
  ASSERT_INT_EQ(err.code, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(err.message, "arr_json_t.docs: an ARRAY field's elements are INT64, DOUBLE, BOOL, "
                             "TEXT, BYTES, DATE, TIME, TIMESTAMP, TIMESTAMPTZ, UUID or INTERVAL, "
                             "not JSON");
  uvsql_registry_free(reg);
}

/* ------------------------------------------------------------------ MariaDB and SQLite */

static void refused(const char *url, const char *dialect) {
  arr_fx_t *a = arr_open(url);
  uvsql_future_t *f =
      uvsql_metadata_create_all(uvsql_registry_metadata(a->reg), a->fx.engine, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ENOT_SUPPORTED);
  char want[160];
  snprintf(want, sizeof want, "%s has no ARRAY type: use JSON", dialect);
  ASSERT_STR_CONTAINS(e->message, want);
  ASSERT_STR_CONTAINS(e->message, "a JSON field of a model");
  uvsql_future_unref(f);
  /* nothing was created */
  char sql[160];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", a->table);
  f = uvsql_engine_execute_sql(a->fx.engine, sql, NULL, 0, NULL, NULL);
  AWAIT_ERR(f, UVSQL_EPROGRAMMING);
  uvsql_future_unref(f);
  arr_close(a, 0);
}

TEST(orm_array_refused_mariadb) {
  refused(test_mariadb_url(), "mariadb");
}
TEST(orm_array_refused_sqlite) {
  refused(test_sqlite_url(), "sqlite");
}
