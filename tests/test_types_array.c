/* tests/test_types_array.c — ARRAY columns: PostgreSQL only (BIGINT[], TEXT[], ... from
 * UVSQL_SQL_ARRAY(kind)); MariaDB and SQLite refuse the column at compile time and an ARRAY
 * parameter at execute time, saying to use JSON.
 *   - parameters go in binary (NULL elements, empty arrays, text with commas, quotes,
 *     backslashes, braces, blanks and the word NULL) and come back the same in text and in
 *     binary results, as UVSQL_TYPE_ARRAY cells whose items the result owns;
 *   - a multi-dimensional array is UVSQL_EDATA saying so, in both formats;
 *   - a streamed result's arrays stay valid after their row's PGresult is gone (the items are
 *     in the batch).
 * Table names are unique per run, so the server can be shared. */
#include <libpq-fe.h>
#include "backend.h"
#include "uvsql/sql.h"
#include "dialects/postgresql/pg.h" /* uvsql__pg_decode: a result in a chosen format */

static const char *const texts[] = {"a,b", "q\"uote", "back\\slash", "", "NULL", " sp ", "{x}"};
#define NTEXTS 7

/* The text items: each of texts[], with a NULL after the second. */
static size_t text_items(uvsql_value_t *out) {
  size_t n = 0;
  for (size_t i = 0; i < NTEXTS; i++) {
    out[n++] = uvsql_v_text(texts[i]);
    if (i == 1)
      out[n++] = uvsql_v_null();
  }
  return n;
}

static void check_text_items(const uvsql_value_t *items, size_t n, const char *what) {
  ASSERT_INT_EQ(n, NTEXTS + 1);
  for (size_t i = 0, k = 0; i < n; i++) {
    if (i == 2) {
      if (items[i].type != UVSQL_TYPE_NULL)
        FAILF("%s: item 2 is %s, not NULL", what, uvsql_type_name(items[i].type));
      continue;
    }
    if (items[i].type != UVSQL_TYPE_TEXT || strcmp(items[i].u.s.ptr, texts[k]) != 0 ||
        items[i].u.s.len != strlen(texts[k]))
      FAILF("%s: item %zu is \"%s\", not \"%s\"", what, i,
            items[i].type == UVSQL_TYPE_TEXT ? items[i].u.s.ptr : "(not text)", texts[k]);
    k++;
  }
}

static const int64_t ints[] = {1, 0, INT64_MIN, INT64_MAX, -7};

static void check_int_items(const uvsql_value_t *items, size_t n, const char *what) {
  ASSERT_INT_EQ(n, 6); /* ints with a NULL in the middle */
  for (size_t i = 0, k = 0; i < n; i++) {
    if (i == 3) {
      ASSERT_INT_EQ(items[i].type, UVSQL_TYPE_NULL);
      continue;
    }
    if (items[i].type != UVSQL_TYPE_INT64 || items[i].u.i64 != ints[k])
      FAILF("%s: item %zu: %" PRId64 " != %" PRId64, what, i, items[i].u.i64, ints[k]);
    k++;
  }
}

typedef struct {
  fixture_t fx;
  uvsql_metadata_t *md;
  char name[64];
} arr_t;

static void await_free(uvsql_future_t *f) {
  AWAIT_OK(f);
  uvsql_future_unref(f);
}

/* ------------------------------------------------------------------ PostgreSQL round trip */

TEST(array_roundtrip_pg) {
  arr_t a;
  a.fx = fixture_open(test_pg_url(), NULL);
  snprintf(a.name, sizeof a.name, "%s", test_unique_name("arr_t"));
  a.md = uvsql_metadata_new();
  uvsql_table_t *t = uvsql_table(a.md, a.name);
  uvsql_column(t, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY | UVSQL_NO_AUTOINCREMENT);
  uvsql_column(t, "ints", UVSQL_SQL_ARRAY(BIGINT), 0);
  uvsql_column(t, "texts", UVSQL_SQL_ARRAY(TEXT), 0);
  uvsql_column(t, "flags", UVSQL_SQL_ARRAY(BOOLEAN), 0);
  uvsql_column(t, "xs", UVSQL_SQL_ARRAY(DOUBLE), 0);
  uvsql_column(t, "days", UVSQL_SQL_ARRAY(DATE), 0);
  uvsql_column(t, "stamps", UVSQL_SQL_ARRAY(TIMESTAMPTZ), 0);
  uvsql_column(t, "ivs", UVSQL_SQL_ARRAY(INTERVAL), 0);
  ASSERT(uvsql_metadata_error(a.md) == NULL);
  uvsql_core_stmt_t *ddl = uvsql_create_table(t);
  const char *sql;
  uvsql_error_t err;
  ASSERT_OK(uvsql_core_compile(ddl, "postgresql", NULL, 0, &sql, NULL, NULL, &err), &err);
  ASSERT_STR_CONTAINS(sql, "ints BIGINT[], texts TEXT[], flags BOOLEAN[], xs DOUBLE PRECISION[], "
                           "days DATE[], stamps TIMESTAMP WITH TIME ZONE[], ivs INTERVAL[]");
  uvsql_core_stmt_free(ddl);
  await_free(uvsql_metadata_create_all(a.md, a.fx.engine, NULL, NULL));

  uvsql_value_t iv[6], tv[NTEXTS + 1], bv[3], dv[2], fv[2], sv[3], vv[2];
  for (size_t i = 0, k = 0; i < 6; i++)
    iv[i] = i == 3 ? uvsql_v_null() : UVSQL_V_INT64(ints[k++]);
  size_t ntv = text_items(tv);
  bv[0] = UVSQL_V_BOOL(1), bv[1] = uvsql_v_null(), bv[2] = UVSQL_V_BOOL(0);
  dv[0] = UVSQL_V_DOUBLE(0.5), dv[1] = UVSQL_V_DOUBLE(-1e300);
  fv[0] = UVSQL_V_DATE(-1), fv[1] = UVSQL_V_DATE(19000);
  sv[0] = UVSQL_V_TIMESTAMPTZ(-1), sv[1] = UVSQL_V_TIMESTAMPTZ(0), sv[2] = uvsql_v_null();
  vv[0] = uvsql_v_interval(14, -3, -1), vv[1] = uvsql_v_interval(0, 0, 0);
  char ins[256];
  snprintf(ins, sizeof ins,
           "INSERT INTO %s (id, ints, texts, flags, xs, days, stamps, ivs) VALUES (:id, :ints, "
           ":texts, :flags, :xs, :days, :stamps, :ivs)",
           a.name);
  uvsql_param_t p1[] = {
      UVSQL_P_INT64("id", 1),
      UVSQL_P("ints", uvsql_v_array(UVSQL_TYPE_INT64, iv, 6)),
      UVSQL_P("texts", uvsql_v_array(UVSQL_TYPE_TEXT, tv, ntv)),
      UVSQL_P("flags", uvsql_v_array(UVSQL_TYPE_BOOL, bv, 3)),
      UVSQL_P("xs", uvsql_v_array(UVSQL_TYPE_DOUBLE, dv, 2)),
      UVSQL_P("days", uvsql_v_array(UVSQL_TYPE_DATE, fv, 2)),
      UVSQL_P("stamps", uvsql_v_array(UVSQL_TYPE_TIMESTAMPTZ, sv, 3)),
      UVSQL_P("ivs", uvsql_v_array(UVSQL_TYPE_INTERVAL, vv, 2)),
  };
  uvsql_result_free(query(&a.fx, ins, p1, 8));
  /* empty arrays, and a NULL array */
  uvsql_param_t p2[] = {
      UVSQL_P_INT64("id", 2),
      UVSQL_P("ints", uvsql_v_array(UVSQL_TYPE_INT64, NULL, 0)),
      UVSQL_P("texts", uvsql_v_array(UVSQL_TYPE_TEXT, NULL, 0)),
      UVSQL_P_NULL("flags"),
      UVSQL_P_NULL("xs"),
      UVSQL_P_NULL("days"),
      UVSQL_P_NULL("stamps"),
      UVSQL_P_NULL("ivs"),
  };
  uvsql_result_free(query(&a.fx, ins, p2, 8));
  /* the server's own view of the text array */
  char sel[256];
  snprintf(sel, sizeof sel,
           "SELECT array_length(texts, 1), texts[3] IS NULL, texts[1], texts[6] FROM %s WHERE "
           "id = 1",
           a.name);
  uvsql_result_t *r = query(&a.fx, sel, NULL, 0);
  int64_t len;
  int isnull;
  const char *s;
  ASSERT_OK(uvsql_result_int64(r, 0, 0, &len), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(len, NTEXTS + 1);
  ASSERT_OK(uvsql_result_bool(r, 0, 1, &isnull), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(isnull, 1);
  ASSERT_OK(uvsql_result_text(r, 0, 2, &s, NULL), (uvsql_error_t *)NULL);
  ASSERT_STR_EQ(s, "a,b");
  ASSERT_OK(uvsql_result_text(r, 0, 3, &s, NULL), (uvsql_error_t *)NULL);
  ASSERT_STR_EQ(s, "NULL"); /* the word, not SQL NULL */
  uvsql_result_free(r);

  snprintf(sel, sizeof sel, "SELECT ints, texts, flags, xs, days, stamps, ivs FROM %s ORDER BY id",
           a.name);
  for (int pass = 0; pass < 2; pass++) { /* the engine asks for text, then for binary */
    const char *what = pass ? "binary" : "text";
    r = query(&a.fx, sel, NULL, 0);
    ASSERT_INT_EQ(uvsql_result_nrows(r), 2);
    ASSERT_INT_EQ(uvsql_result_coltype(r, 0), UVSQL_TYPE_ARRAY);
    const uvsql_value_t *items;
    size_t n;
    ASSERT_OK(uvsql_result_array(r, 0, 0, &items, &n), (uvsql_error_t *)NULL);
    check_int_items(items, n, what);
    ASSERT_OK(uvsql_result_array(r, 0, 1, &items, &n), (uvsql_error_t *)NULL);
    check_text_items(items, n, what);
    ASSERT_OK(uvsql_result_array(r, 0, 2, &items, &n), (uvsql_error_t *)NULL);
    ASSERT_INT_EQ(n, 3);
    ASSERT(items[0].type == UVSQL_TYPE_BOOL && items[0].u.b == 1);
    ASSERT_INT_EQ(items[1].type, UVSQL_TYPE_NULL);
    ASSERT(items[2].type == UVSQL_TYPE_BOOL && items[2].u.b == 0);
    ASSERT_OK(uvsql_result_array(r, 0, 3, &items, &n), (uvsql_error_t *)NULL);
    ASSERT(n == 2 && items[0].u.f64 == 0.5 && items[1].u.f64 == -1e300);
    ASSERT_OK(uvsql_result_array(r, 0, 4, &items, &n), (uvsql_error_t *)NULL);
    ASSERT(n == 2 && items[0].type == UVSQL_TYPE_DATE && items[0].u.i64 == -1 &&
           items[1].u.i64 == 19000);
    ASSERT_OK(uvsql_result_array(r, 0, 5, &items, &n), (uvsql_error_t *)NULL);
    ASSERT(n == 3 && items[0].type == UVSQL_TYPE_TIMESTAMPTZ && items[0].u.i64 == -1 &&
           items[1].u.i64 == 0 && items[2].type == UVSQL_TYPE_NULL);
    ASSERT_OK(uvsql_result_array(r, 0, 6, &items, &n), (uvsql_error_t *)NULL);
    ASSERT(n == 2 && items[0].type == UVSQL_TYPE_INTERVAL && items[0].u.iv.months == 14 &&
           items[0].u.iv.days == -3 && items[0].u.iv.us == -1 && items[1].u.iv.months == 0);
    /* row 2: empty arrays, then NULL */
    ASSERT_OK(uvsql_result_array(r, 1, 0, &items, &n), (uvsql_error_t *)NULL);
    ASSERT_INT_EQ(n, 0);
    ASSERT_OK(uvsql_result_array(r, 1, 1, &items, &n), (uvsql_error_t *)NULL);
    ASSERT_INT_EQ(n, 0);
    ASSERT_INT_EQ(uvsql_result_value(r, 1, 1)->u.arr.elem, UVSQL_TYPE_TEXT);
    ASSERT_ERR(uvsql_result_array(r, 1, 2, &items, &n), UVSQL_EDATA);
    ASSERT_STR_CONTAINS(uvsql_result_last_error(r), "column \"flags\" is NULL in row 1");
    /* an array is no text */
    ASSERT_ERR(uvsql_result_text(r, 0, 0, &s, NULL), UVSQL_ETYPE);
    ASSERT_STR_CONTAINS(uvsql_result_last_error(r),
                        "column \"ints\" holds array, which cannot be read as text");
    uvsql_result_free(r);
  }

  /* an element of another type is refused before anything is sent */
  uvsql_value_t mixed[] = {UVSQL_V_INT64(1), UVSQL_V_TEXT("two")};
  uvsql_param_t p3[] = {UVSQL_P("a", uvsql_v_array(UVSQL_TYPE_INT64, mixed, 2))};
  uvsql_future_t *f = uvsql_engine_execute_sql(a.fx.engine, "SELECT :a", p3, 1, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(e->message, "parameter :a: element 1 of an ARRAY of int64 is text: every "
                                  "element must be of the array's type");
  uvsql_future_unref(f);

  await_free(uvsql_metadata_drop_all(a.md, a.fx.engine, NULL, NULL));
  uvsql_metadata_free(a.md);
  fixture_close(&a.fx);
}

/* ------------------------------------------------------------------ formats and dimensions */

static uvsql_result_t *pg_fetch(PGconn *pg, const char *sql, int format, uvsql_error_t *err,
                                int *rc) {
  PGresult *res = PQexecParams(pg, sql, 0, NULL, NULL, NULL, NULL, format);
  if (PQresultStatus(res) != PGRES_TUPLES_OK)
    FAILF("%s: %s", sql, PQresultErrorMessage(res));
  ASSERT_INT_EQ(PQfformat(res, 0), format);
  uvsql_result_t *r = NULL;
  *rc = uvsql__pg_decode(res, &r, err);
  return r;
}

TEST(array_pg_text_and_binary_formats) {
  PGconn *pg = PQconnectdb(test_pg_url());
  ASSERT(PQstatus(pg) == CONNECTION_OK);
  static const char *const sql =
      "SELECT ARRAY['a,b', 'q\"uote', NULL, 'back\\slash', '', 'NULL', ' sp ', '{x}']::text[], "
      "ARRAY[1, NULL, -2]::int4[], '{}'::int8[], '[0:1]={7,8}'::int2[], "
      "ARRAY['\\x00ff'::bytea, NULL], ARRAY['1 day'::interval]";
  for (int format = 0; format < 2; format++) {
    uvsql_error_t err;
    int rc;
    uvsql_result_t *r = pg_fetch(pg, sql, format, &err, &rc);
    ASSERT_OK(rc, &err);
    const uvsql_value_t *items;
    size_t n;
    ASSERT_OK(uvsql_result_array(r, 0, 0, &items, &n), (uvsql_error_t *)NULL);
    ASSERT_INT_EQ(n, 8);
    ASSERT_STR_EQ(items[0].u.s.ptr, "a,b");
    ASSERT_STR_EQ(items[1].u.s.ptr, "q\"uote");
    ASSERT_INT_EQ(items[2].type, UVSQL_TYPE_NULL);
    ASSERT_STR_EQ(items[3].u.s.ptr, "back\\slash");
    ASSERT(items[4].type == UVSQL_TYPE_TEXT && items[4].u.s.len == 0);
    ASSERT(items[5].type == UVSQL_TYPE_TEXT && strcmp(items[5].u.s.ptr, "NULL") == 0);
    ASSERT_STR_EQ(items[6].u.s.ptr, " sp ");
    ASSERT_STR_EQ(items[7].u.s.ptr, "{x}");
    ASSERT_OK(uvsql_result_array(r, 0, 1, &items, &n), (uvsql_error_t *)NULL);
    ASSERT(n == 3 && items[0].u.i64 == 1 && items[1].type == UVSQL_TYPE_NULL &&
           items[2].u.i64 == -2);
    ASSERT_OK(uvsql_result_array(r, 0, 2, &items, &n), (uvsql_error_t *)NULL);
    ASSERT_INT_EQ(n, 0);
    ASSERT_INT_EQ(uvsql_result_value(r, 0, 2)->u.arr.elem, UVSQL_TYPE_INT64);
    ASSERT_OK(uvsql_result_array(r, 0, 3, &items, &n), (uvsql_error_t *)NULL);
    ASSERT(n == 2 && items[0].u.i64 == 7 && items[1].u.i64 == 8); /* lower bound 0: kept order */
    ASSERT_OK(uvsql_result_array(r, 0, 4, &items, &n), (uvsql_error_t *)NULL);
    ASSERT(n == 2 && items[0].type == UVSQL_TYPE_BYTES && items[0].u.s.len == 2 &&
           (unsigned char)items[0].u.s.ptr[1] == 0xff && items[1].type == UVSQL_TYPE_NULL);
    ASSERT_OK(uvsql_result_array(r, 0, 5, &items, &n), (uvsql_error_t *)NULL);
    ASSERT(n == 1 && items[0].type == UVSQL_TYPE_INTERVAL && items[0].u.iv.days == 1);
    uvsql_result_free(r);

    /* more than one dimension: an error that says so */
    r = pg_fetch(pg, "SELECT ARRAY[[1, 2], [3, 4]] AS grid", format, &err, &rc);
    ASSERT_ERR(rc, UVSQL_EDATA);
    ASSERT(r == NULL);
    ASSERT_STR_CONTAINS(err.message, "could not read column \"grid\"");
    ASSERT_STR_CONTAINS(err.message, "a multi-dimensional array; uvsql reads one-dimensional "
                                     "arrays only");
  }
  PQfinish(pg);
}

/* Streaming copies each row out of its PGresult: the arrays' items must be in the batch. */
typedef struct {
  size_t rows;
} stream_check_t;

static int on_batch(const uvsql_result_t *b, void *data) {
  stream_check_t *c = data;
  for (size_t i = 0; i < uvsql_result_nrows(b); i++) {
    const uvsql_value_t *items;
    size_t n;
    int64_t id;
    ASSERT_OK(uvsql_result_int64(b, i, 0, &id), (uvsql_error_t *)NULL);
    ASSERT_OK(uvsql_result_array(b, i, 1, &items, &n), (uvsql_error_t *)NULL);
    check_text_items(items, n, "stream");
    ASSERT_OK(uvsql_result_array(b, i, 2, &items, &n), (uvsql_error_t *)NULL);
    ASSERT(n == 2 && items[0].u.i64 == id && items[1].type == UVSQL_TYPE_NULL);
    c->rows++;
  }
  return 0;
}

TEST(array_pg_streamed) {
  fixture_t fx = fixture_open(test_pg_url(), NULL);
  uvsql_value_t tv[NTEXTS + 1];
  size_t ntv = text_items(tv);
  uvsql_param_t p[] = {UVSQL_P("t", uvsql_v_array(UVSQL_TYPE_TEXT, tv, ntv))};
  for (int pass = 0; pass < 2; pass++) { /* text results, then binary */
    uvsql_stmt_t *st;
    uvsql_error_t err;
    ASSERT_OK(uvsql_text(&st,
                         "SELECT g, CAST(:t AS text[]), ARRAY[g, NULL]::int8[] FROM "
                         "generate_series(1, 2500) AS g",
                         &err),
              &err);
    stream_check_t c = {0};
    uvsql_future_t *f = uvsql_engine_stream(fx.engine, st, p, 1, 100, on_batch, &c, NULL, NULL);
    uvsql_stmt_free(st);
    const uvsql_stream_summary_t *sum = AWAIT_OK(f);
    ASSERT_INT_EQ(sum->rows, 2500);
    ASSERT_INT_EQ(c.rows, 2500);
    uvsql_future_unref(f);
  }
  fixture_close(&fx);
}

/* ------------------------------------------------------------------ MariaDB and SQLite */

static void array_refused(const char *url, const char *dialect) {
  fixture_t fx = fixture_open(url, NULL);
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *t = uvsql_table(md, test_unique_name("arr_no"));
  uvsql_column(t, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY);
  uvsql_column(t, "tags", UVSQL_SQL_ARRAY(TEXT), 0);
  ASSERT(uvsql_metadata_error(md) == NULL);
  char want[120];
  snprintf(want, sizeof want, "%s has no ARRAY type: use JSON", dialect);
  /* at compile time */
  uvsql_core_stmt_t *s = uvsql_create_table(t);
  const char *sql;
  uvsql_error_t err;
  ASSERT_ERR(uvsql_core_compile(s, dialect, NULL, 0, &sql, NULL, NULL, &err), UVSQL_ENOT_SUPPORTED);
  ASSERT_STR_CONTAINS(err.message, want);
  uvsql_core_stmt_free(s);
  /* create_all fails before it creates anything */
  uvsql_future_t *f = uvsql_metadata_create_all(md, fx.engine, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ENOT_SUPPORTED);
  ASSERT_STR_CONTAINS(e->message, want);
  uvsql_future_unref(f);
  /* an ARRAY parameter */
  uvsql_value_t items[] = {UVSQL_V_INT64(1)};
  uvsql_param_t p[] = {UVSQL_P("a", uvsql_v_array(UVSQL_TYPE_INT64, items, 1))};
  f = uvsql_engine_execute_sql(fx.engine, "SELECT :a", p, 1, NULL, NULL);
  e = AWAIT_ERR(f, UVSQL_ENOT_SUPPORTED);
  ASSERT_STR_CONTAINS(e->message, "is an ARRAY: ");
  ASSERT_STR_CONTAINS(e->message, want);
  uvsql_future_unref(f);
  uvsql_metadata_free(md);
  fixture_close(&fx);
}

TEST(array_refused_mariadb) {
  array_refused(test_mariadb_url(), "mariadb");
}
TEST(array_refused_sqlite) {
  array_refused(test_sqlite_url(), "sqlite");
}

/* A column of an ARRAY of something that is no scalar is refused when declared. */
TEST(array_of_array_refused) {
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *t = uvsql_table(md, "arr_bad");
  uvsql_column(t, "x", UVSQL_SQL_ARRAY(ARRAY), 0);
  const uvsql_error_t *e = uvsql_metadata_error(md);
  ASSERT(e != NULL);
  ASSERT_INT_EQ(e->code, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(e->message, "arr_bad.x: an ARRAY's elements must be of a scalar type "
                                  "(UVSQL_SQL_ARRAY(BIGINT), ...), not array");
  uvsql_metadata_free(md);
}
