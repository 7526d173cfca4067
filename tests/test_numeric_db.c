/* tests/test_numeric_db.c — NUMERIC on the three backends: parameters, results (PostgreSQL's
 * text and binary formats), the getters that follow the value (the table in engine.h), Core
 * DDL and reflection, and NUMERIC(p, s) fields of the ORM; exact all the way. */
#include <stdlib.h>
#include "backend.h"

#define EXTREME     "9999999999999999999999999999.9999999999"
#define NEG_EXTREME "-9999999999999999999999999999.9999999999"
#define TOO_LONG    "199999999999999999999999999999.99999999999"

#define NUMX_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY | UVSQL_NO_AUTOINCREMENT)                                         \
  X(amt, NUMERIC(38, 10), 0)                                                                       \
  X(money, NUMERIC(12, 2), 0)
UVSQL_MODEL(numx_t, "numx", NUMX_FIELDS)

static void done(uvsql_future_t *f) {
  AWAIT_OK(f);
  uvsql_future_unref(f);
}

static int is_sqlite(const char *url) {
  return strncmp(url, "sqlite", 6) == 0;
}

static int is_mariadb(const char *url) {
  return strncmp(url, "mariadb", 7) == 0;
}

static uvsql_numeric_t num(const char *s) {
  uvsql_numeric_t n;
  if (uvsql_numeric_parse(s, strlen(s), &n) != 0)
    FAILF("parsing \"%s\"", s);
  return n;
}

static const char *fmt(const uvsql_numeric_t *n) {
  static char buf[4][UVSQL_NUMERIC_TEXT_SIZE];
  static int k;
  char *b = buf[k++ & 3];
  uvsql_numeric_format(n, b, UVSQL_NUMERIC_TEXT_SIZE);
  return b;
}

/* The NUMERIC cell (row, col): its type, its text and the numeric getter's value. */
static void expect_numeric(const uvsql_result_t *r, size_t row, size_t col, const char *text) {
  const uvsql_value_t *v = uvsql_result_value(r, row, col);
  ASSERT(v != NULL);
  if (v->type != UVSQL_TYPE_NUMERIC)
    FAILF("cell (%zu, %zu) is %s, expected numeric \"%s\"", row, col, uvsql_type_name(v->type),
          text);
  const char *s;
  size_t len;
  ASSERT_INT_EQ(uvsql_result_text(r, row, col, &s, &len), 0);
  ASSERT_STR_EQ(s, text);
  ASSERT_INT_EQ(len, strlen(text));
  uvsql_numeric_t n;
  ASSERT_INT_EQ(uvsql_result_numeric(r, row, col, &n), 0);
  ASSERT_STR_EQ(fmt(&n), text);
}

static char table[64];

static uvsql_metadata_t *make_table(fixture_t *fx) {
  snprintf(table, sizeof table, "%s", test_unique_name("numt"));
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *t = uvsql_table(md, table);
  uvsql_column(t, "id", UVSQL_SQL_BIGINT, UVSQL_PRIMARY_KEY | UVSQL_NO_AUTOINCREMENT);
  uvsql_column(t, "amt", UVSQL_SQL_NUMERIC(38, 10), 0);
  uvsql_column(t, "money", UVSQL_SQL_NUMERIC(12, 2), 0);
  uvsql_column(t, "big", UVSQL_SQL_BIGINT, 0);
  uvsql_column(t, "d", UVSQL_SQL_DOUBLE, 0);
  done(uvsql_metadata_create_all(md, fx->engine, NULL, NULL));
  return md;
}

static void insert(fixture_t *fx, int64_t id, const char *amt, const char *money, int64_t big) {
  char sql[256];
  snprintf(sql, sizeof sql,
           "INSERT INTO %s (id, amt, money, big, d) VALUES (:id, :amt, :money, :big, 0.5)", table);
  uvsql_param_t p[] = {UVSQL_P_INT64("id", id), UVSQL_P_NUMERIC("amt", amt),
                       UVSQL_P_NUMERIC("money", money), UVSQL_P_INT64("big", big)};
  uvsql_result_free(query(fx, sql, p, 4));
}

static uvsql_result_t *select_where(fixture_t *fx, const char *cols, const char *where) {
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT %s FROM %s%s%s", cols, table, where ? " WHERE " : "",
           where ? where : "");
  return query(fx, sql, NULL, 0);
}

/* ------------------------------------------------------------------ Core */

static void core_round_trip(const char *url) {
  fixture_t fx = fixture_open(url, NULL);
  int sqlite = is_sqlite(url);
  uvsql_metadata_t *md = make_table(&fx);
  /* extremes of NUMERIC(38, 10), zero, the smallest steps either side of it */
  static const struct {
    const char *in, *server, *sqlite;
  } cases[] = {
      {EXTREME, EXTREME, EXTREME},
      {NEG_EXTREME, NEG_EXTREME, NEG_EXTREME},
      {"0", "0.0000000000", "0"},
      {"-0.0000000001", "-0.0000000001", "-0.0000000001"},
      {"0.0000000001", "0.0000000001", "0.0000000001"},
      {"1e3", "1000.0000000000", "1000"},
      {"-12.50", "-12.5000000000", "-12.50"},
  };
  size_t n = sizeof cases / sizeof cases[0];
  for (size_t i = 0; i < n; i++)
    insert(&fx, (int64_t)i + 1, cases[i].in, "0.10", INT64_C(4000000000000000000));
  uvsql_result_t *r = select_where(&fx, "amt, money", "1 = 1 ORDER BY id");
  ASSERT_INT_EQ(uvsql_result_nrows(r), n);
  ASSERT_INT_EQ(uvsql_result_coltype(r, 0), UVSQL_TYPE_NUMERIC);
  ASSERT_INT_EQ(uvsql_result_coltype(r, 1), UVSQL_TYPE_NUMERIC);
  for (size_t i = 0; i < n; i++) {
    /* SQLite keeps the text as sent (canonical); the servers write the column's scale */
    expect_numeric(r, i, 0, sqlite ? cases[i].sqlite : cases[i].server);
    uvsql_numeric_t got, want = num(cases[i].in);
    ASSERT_INT_EQ(uvsql_result_numeric(r, i, 0, &got), 0);
    ASSERT_INT_EQ(uvsql_numeric_cmp(&got, &want), 0);
    expect_numeric(r, i, 1, "0.10");
  }
  uvsql_result_free(r);

  /* money: 0.10 + 0.10 is 0.20; on SQLite read back exact and added in C */
  if (!sqlite) {
    r = select_where(&fx, "sum(money)", "id <= 2");
    expect_numeric(r, 0, 0, "0.20");
    uvsql_result_free(r);
  } else {
    r = select_where(&fx, "money", "id <= 2 ORDER BY id");
    uvsql_numeric_t a, b;
    ASSERT_INT_EQ(uvsql_result_numeric(r, 0, 0, &a), 0);
    ASSERT_INT_EQ(uvsql_result_numeric(r, 1, 0, &b), 0);
    a.coef_lo += b.coef_lo; /* same scale, small */
    ASSERT_STR_EQ(fmt(&a), "0.20");
    uvsql_result_free(r);
  }

  /* sum(bigint) is NUMERIC on PostgreSQL and MariaDB: the int64 getter reads it */
  r = select_where(&fx, "sum(big)", "id <= 2");
  int64_t i64 = 0;
  ASSERT_OK(uvsql_result_int64(r, 0, 0, &i64), (uvsql_error_t *)NULL);
  ASSERT(i64 == INT64_C(8000000000000000000));
  if (!sqlite) {
    ASSERT_INT_EQ(uvsql_result_value(r, 0, 0)->type, UVSQL_TYPE_NUMERIC);
    uvsql_result_free(r);
    /* past int64: UVSQL_EDATA naming the column and the value */
    r = select_where(&fx, "sum(big) AS total", "id <= 3");
    i64 = 7;
    ASSERT_INT_EQ(uvsql_result_int64(r, 0, 0, &i64), UVSQL_EDATA);
    ASSERT_INT_EQ(i64, 7);
    ASSERT_STR_EQ(uvsql_result_last_error(r),
                  "column \"total\" holds numeric 12000000000000000000, which is not an integer "
                  "in int64's range: read it with uvsql_result_numeric (exact) or "
                  "uvsql_result_double (rounded)");
  }
  uvsql_result_free(r);

  /* a fraction with the int64 getter: UVSQL_EDATA and the same words on every backend */
  r = select_where(&fx, "money, big, d", "id = 1");
  i64 = 7;
  ASSERT_INT_EQ(uvsql_result_int64(r, 0, 0, &i64), UVSQL_EDATA);
  ASSERT_INT_EQ(i64, 7);
  ASSERT_STR_EQ(uvsql_result_last_error(r),
                "column \"money\" holds numeric 0.10, which is not an integer in int64's range: "
                "read it with uvsql_result_numeric (exact) or uvsql_result_double (rounded)");
  /* the rest of the getter table (engine.h) on a NUMERIC, an INT64 and a DOUBLE cell */
  double dbl = 0;
  ASSERT_INT_EQ(uvsql_result_double(r, 0, 0, &dbl), 0);
  ASSERT(dbl == 0.1);
  int b = 0;
  ASSERT_INT_EQ(uvsql_result_bool(r, 0, 0, &b), UVSQL_ETYPE);
  ASSERT_STR_EQ(uvsql_result_last_error(r),
                "column \"money\" holds numeric, which cannot be read as bool");
  const void *bytes;
  ASSERT_INT_EQ(uvsql_result_bytes(r, 0, 0, &bytes, NULL), UVSQL_ETYPE);
  int64_t day;
  ASSERT_INT_EQ(uvsql_result_date(r, 0, 0, &day), UVSQL_ETYPE);
  uvsql_numeric_t nm;
  ASSERT_INT_EQ(uvsql_result_numeric(r, 0, 1, &nm), 0); /* INT64 exact */
  ASSERT_STR_EQ(fmt(&nm), "4000000000000000000");
  ASSERT_INT_EQ(uvsql_result_numeric(r, 0, 2, &nm), UVSQL_ETYPE); /* a double: rounded already */
  ASSERT_STR_EQ(uvsql_result_last_error(r),
                "column \"d\" holds double 0.5, which is not exact: read it with "
                "uvsql_result_double, or keep exact decimals in a NUMERIC column (on SQLite, one "
                "that Core creates: NUMERIC(p, s) is stored as text there)");
  uvsql_result_free(r);

  /* a parameter that is no decimal, or too long: UVSQL_EDATA before anything is sent */
  static const char *const bad[] = {"12,5", TOO_LONG, ""};
  for (int k = 0; k < 3; k++) {
    char want[256];
    uvsql_param_t p[] = {UVSQL_P_NUMERIC("a", bad[k])};
    uvsql_future_t *f = uvsql_engine_execute_sql(fx.engine, "SELECT :a", p, 1, NULL, NULL);
    snprintf(want, sizeof want,
             "parameter :a: \"%s\" is not a decimal number of at most 38 digits "
             "(uvsql_numeric_parse): write it as \"-123.45\"",
             bad[k]);
    ASSERT_STR_EQ(AWAIT_ERR(f, UVSQL_EDATA)->message, want);
    uvsql_future_unref(f);
  }

  /* reflection maps the column back to NUMERIC(p, s) */
  uvsql_metadata_t *md2 = uvsql_metadata_new();
  const char *names[] = {table, NULL};
  done(uvsql_metadata_reflect(md2, fx.engine, names, NULL, NULL));
  uvsql_table_t *t2 = uvsql_metadata_table(md2, table);
  ASSERT(t2 != NULL);
  uvsql_sqltype_t ty = uvsql_column_type(uvsql_table_column(t2, "amt"));
  ASSERT_INT_EQ(ty.kind, UVSQL_SQLT_NUMERIC);
  ASSERT_INT_EQ(ty.precision, 38);
  ASSERT_INT_EQ(ty.scale, 10);
  uvsql_metadata_free(md2);

  done(uvsql_metadata_drop_all(md, fx.engine, NULL, NULL));
  uvsql_metadata_free(md);
  fixture_close(&fx);
}

TEST(numeric_core_round_trip_pg) {
  core_round_trip(test_pg_url());
}
TEST(numeric_core_round_trip_mariadb) {
  core_round_trip(test_mariadb_url());
}
TEST(numeric_core_round_trip_sqlite) {
  core_round_trip(test_sqlite_url());
}

/* 0.1 + 0.2 is 0.3: computed by the server on PostgreSQL and MariaDB; stored and read back
 * exact on SQLite (whose arithmetic is on doubles). */
static void tenths(const char *url) {
  fixture_t fx = fixture_open(url, NULL);
  uvsql_param_t p[] = {UVSQL_P_NUMERIC("a", "0.1"), UVSQL_P_NUMERIC("b", "0.2")};
  if (is_sqlite(url)) {
    uvsql_metadata_t *md = make_table(&fx);
    insert(&fx, 1, "0.1", "0.10", 0);
    insert(&fx, 2, "0.2", "0.20", 0);
    uvsql_result_t *r = select_where(&fx, "amt, money", "1 = 1 ORDER BY id");
    expect_numeric(r, 0, 0, "0.1");
    expect_numeric(r, 1, 0, "0.2");
    uvsql_numeric_t a, b, want = num("0.3");
    ASSERT_INT_EQ(uvsql_result_numeric(r, 0, 0, &a), 0);
    ASSERT_INT_EQ(uvsql_result_numeric(r, 1, 0, &b), 0);
    a.coef_lo += b.coef_lo;
    ASSERT_INT_EQ(uvsql_numeric_cmp(&a, &want), 0);
    uvsql_result_free(r);
    done(uvsql_metadata_drop_all(md, fx.engine, NULL, NULL));
    uvsql_metadata_free(md);
  } else {
    const char *sql = is_mariadb(url) ? "SELECT CAST(:a AS DECIMAL(10,2)) + :b AS s"
                                      : "SELECT CAST(:a AS NUMERIC(10,2)) + :b AS s";
    uvsql_result_t *r = query(&fx, sql, p, 2);
    expect_numeric(r, 0, 0, "0.30");
    uvsql_numeric_t got, want = num("0.3");
    ASSERT_INT_EQ(uvsql_result_numeric(r, 0, 0, &got), 0);
    ASSERT_INT_EQ(uvsql_numeric_cmp(&got, &want), 0);
    uvsql_result_free(r);
  }
  fixture_close(&fx);
}

TEST(numeric_tenths_add_up_exactly_pg) {
  tenths(test_pg_url());
}
TEST(numeric_tenths_add_up_exactly_mariadb) {
  tenths(test_mariadb_url());
}
TEST(numeric_tenths_add_up_exactly_sqlite) {
  tenths(test_sqlite_url());
}

/* PostgreSQL's binary numeric (the driver asks for binary results when every column decodes
 * so) gives the text its text format gives, for values around each base-10000 group edge. */
TEST(numeric_pg_binary_and_text_formats_agree) {
  fixture_t fx = fixture_open(test_pg_url(), NULL);
  static const char *const vals[] = {"0",
                                     "0.00",
                                     "1",
                                     "-1",
                                     "9999",
                                     "10000",
                                     "10000.5",
                                     "0.0001",
                                     "0.00001",
                                     "-0.000012",
                                     "123456789.987654321",
                                     EXTREME,
                                     NEG_EXTREME,
                                     "NaN",
                                     "Infinity",
                                     "-Infinity",
                                     "100000000",
                                     "1e-20",
                                     "12.50",
                                     "0.1000",
                                     "99999999999999999999999999999999999999"};
  for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
    uvsql_param_t p[] = {UVSQL_P_NUMERIC("v", vals[i])};
    /* binary: numeric and int8 columns only; text: a point column makes the statement text */
    uvsql_result_t *bin = query(&fx, "SELECT CAST(:v AS NUMERIC), 1::int8", p, 1);
    uvsql_result_t *txt = query(&fx, "SELECT CAST(:v AS NUMERIC), '(1,2)'::point", p, 1);
    const char *a, *b;
    ASSERT_INT_EQ(uvsql_result_value(bin, 0, 0)->type, UVSQL_TYPE_NUMERIC);
    ASSERT_INT_EQ(uvsql_result_value(txt, 0, 0)->type, UVSQL_TYPE_NUMERIC);
    ASSERT_INT_EQ(uvsql_result_text(bin, 0, 0, &a, NULL), 0);
    ASSERT_INT_EQ(uvsql_result_text(txt, 0, 0, &b, NULL), 0);
    if (strcmp(a, b) != 0)
      FAILF("%s: binary \"%s\", text \"%s\"", vals[i], a, b);
    uvsql_numeric_t x, want = num(vals[i]);
    ASSERT_INT_EQ(uvsql_result_numeric(bin, 0, 0, &x), 0);
    ASSERT_INT_EQ(uvsql_numeric_cmp(&x, &want), 0);
    uvsql_result_free(bin);
    uvsql_result_free(txt);
  }
  fixture_close(&fx);
}

/* Many numerics in one binary result (their texts share the decoder's arena chunks; the
 * statement reads binary from its second execution) read the same as in text format: every
 * weight and scale from 1e-8 to 1e4 steps, signs, zero, NULLs between them. */
TEST(numeric_pg_many_rows_binary_and_text_agree) {
  fixture_t fx = fixture_open(test_pg_url(), NULL);
  const char *vals = "SELECT CASE WHEN g % 17 = 0 THEN NULL ELSE "
                     "((g::bigint * 7919) % 2000003 - 1000000)::numeric * "
                     "power(10::numeric, g % 13 - 8) END";
  char bsql[400], tsql[400];
  snprintf(bsql, sizeof bsql, "%s, 1::int8 FROM generate_series(1, 3000) g ORDER BY g", vals);
  snprintf(tsql, sizeof tsql, "%s, '(1,2)'::point FROM generate_series(1, 3000) g ORDER BY g",
           vals);
  uvsql_result_free(query(&fx, bsql, NULL, 0)); /* learns the types: binary from now on */
  uvsql_result_t *bin = query(&fx, bsql, NULL, 0);
  uvsql_result_t *txt = query(&fx, tsql, NULL, 0);
  ASSERT_INT_EQ(uvsql_result_nrows(bin), 3000);
  ASSERT_INT_EQ(uvsql_result_nrows(txt), 3000);
  size_t nulls = 0;
  for (size_t i = 0; i < 3000; i++) {
    const uvsql_value_t *a = uvsql_result_value(bin, i, 0), *b = uvsql_result_value(txt, i, 0);
    ASSERT_INT_EQ(a->type, b->type);
    if (a->type == UVSQL_TYPE_NULL) {
      nulls++;
      continue;
    }
    ASSERT_INT_EQ(a->type, UVSQL_TYPE_NUMERIC);
    ASSERT_INT_EQ(a->u.s.len, strlen(a->u.s.ptr));
    if (a->u.s.len != b->u.s.len || memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len) != 0)
      FAILF("row %zu: binary \"%s\", text \"%.*s\"", i + 1, a->u.s.ptr, (int)b->u.s.len,
            b->u.s.ptr);
  }
  ASSERT_INT_EQ(nulls, 3000 / 17);
  uvsql_result_free(bin);
  uvsql_result_free(txt);
  fixture_close(&fx);
}

/* ------------------------------------------------------------------ ORM */

static void orm_round_trip(const char *url) {
  fixture_t fx = fixture_open(url, NULL);
  uvsql_error_t err;
  char name[64];
  snprintf(name, sizeof name, "%s", test_unique_name("numx"));
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_mapper_t *m = uvsql_registry_map_table(reg, numx_t_model(), name, &err);
  ASSERT(m != NULL);
  ASSERT(uvsql_mapper_default(m, "money", uvsql_v_numeric("1.5"), &err) != NULL);
  /* a default that does not fit the field is refused when declared */
  ASSERT(uvsql_mapper_default(m, "money", uvsql_v_numeric("0.125"), &err) == NULL);
  ASSERT_STR_EQ(err.message, "uvsql_mapper_default: a numeric value does not fit numx_t.money, "
                             "a field of kind NUMERIC(12, 2)");
  ASSERT(uvsql_mapper_default(m, "money", uvsql_v_text("1.5"), &err) == NULL);
  ASSERT_STR_EQ(err.message, "uvsql_mapper_default: a text value does not fit numx_t.money, a "
                             "field of kind NUMERIC(12, 2)");
  done(uvsql_metadata_create_all(uvsql_registry_metadata(reg), fx.engine, NULL, NULL));

  static const char *const amts[] = {EXTREME, NEG_EXTREME, "0", "-0.0000000001", "0.1"};
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, fx.engine, reg, NULL), (uvsql_error_t *)NULL);
  for (int i = 0; i < 5; i++) {
    numx_t *o = uvsql_orm_new(m);
    o->id = i + 1;
    uvsql_numeric_t a = num(amts[i]);
    ASSERT_INT_EQ(uvsql_orm_set_numeric(o, &o->amt, &a), 0);
    if (i == 0) {
      uvsql_numeric_t mo = num("0.1"); /* stored at the field's scale: 0.10 */
      ASSERT_INT_EQ(uvsql_orm_set_numeric(o, &o->money, &mo), 0);
      ASSERT_STR_EQ(fmt(&o->money), "0.10");
      mo = num("0.125"); /* would lose a digit */
      ASSERT_INT_EQ(uvsql_orm_set_numeric(o, &o->money, &mo), UVSQL_EDATA);
      mo = num("12345678901"); /* 11 digits before the point: NUMERIC(12, 2) holds 10 */
      ASSERT_INT_EQ(uvsql_orm_set_numeric(o, &o->money, &mo), UVSQL_EDATA);
      ASSERT_STR_EQ(fmt(&o->money), "0.10"); /* unchanged */
    }
    ASSERT_INT_EQ(uvsql_session_add(s, o), 0);
  }
  done(uvsql_session_commit(s, NULL, NULL));
  done(uvsql_session_close(s, NULL, NULL));

  ASSERT_OK(uvsql_session_new(&s, fx.engine, reg, NULL), (uvsql_error_t *)NULL);
  for (int i = 0; i < 5; i++) {
    uvsql_future_t *f = uvsql_session_get_int(s, m, i + 1, NULL, NULL);
    numx_t *o = AWAIT_OK(f);
    uvsql_future_unref(f);
    ASSERT(o != NULL);
    uvsql_numeric_t want = num(amts[i]);
    if (uvsql_numeric_cmp(&o->amt, &want) != 0)
      FAILF("row %d: amt %s, expected %s", i + 1, fmt(&o->amt), amts[i]);
    uvsql_numeric_t money = i == 0 ? num("0.10") : num("1.50"); /* set, or the default */
    ASSERT_INT_EQ(uvsql_numeric_cmp(&o->money, &money), 0);
    ASSERT_INT_EQ(o->money.scale, 2); /* every backend gives the column's scale back */
    if (i == 4) {                     /* change it: a flush UPDATEs it, exactly */
      uvsql_numeric_t sum = o->money; /* 1.50 + 0.10 */
      sum.coef_lo += 10;
      ASSERT_INT_EQ(uvsql_orm_set_numeric(o, &o->money, &sum), 0);
      ASSERT(uvsql_session_is_modified(s, o));
    }
  }
  done(uvsql_session_commit(s, NULL, NULL));
  done(uvsql_session_close(s, NULL, NULL));

  char sql[128];
  snprintf(sql, sizeof sql, "SELECT money FROM %s WHERE id = 5", name);
  uvsql_result_t *r = query(&fx, sql, NULL, 0);
  expect_numeric(r, 0, 0, "1.60");
  uvsql_result_free(r);

  done(uvsql_metadata_drop_all(uvsql_registry_metadata(reg), fx.engine, NULL, NULL));
  uvsql_registry_free(reg);
  fixture_close(&fx);
}

TEST(numeric_orm_round_trip_pg) {
  orm_round_trip(test_pg_url());
}
TEST(numeric_orm_round_trip_mariadb) {
  orm_round_trip(test_mariadb_url());
}
TEST(numeric_orm_round_trip_sqlite) {
  orm_round_trip(test_sqlite_url());
}
