/* tests/test_pg_formats.c — PostgreSQL results read in text format and in binary format give
 * the same answers. The driver asks for text results on a statement's first execution and for
 * binary ones afterwards (src/dialects/postgresql/exec.c), so a user must not be able to tell them
 * apart: every getter returns the same value, the same code and the same last_error message for the
 * same query in both formats, NULLs and type mismatches included. Each type is queried with edge
 * values (extremes, infinities, NaN, empty strings, NULL) and a few cells are also checked
 * against the value they must have, so that two equally wrong decoders cannot pass.
 */
#include <math.h>
#include <libpq-fe.h>
#include "harness.h"
#include "dialects/driver.h"
#include "dialects/postgresql/pg.h"

/* ------------------------------------------------------------------ helpers */

static uvsql_result_t *fetch(PGconn *c, const char *sql, int format) {
  PGresult *res = PQexecParams(c, sql, 0, NULL, NULL, NULL, NULL, format);
  if (PQresultStatus(res) != PGRES_TUPLES_OK)
    FAILF("%s: %s", sql, PQresultErrorMessage(res));
  ASSERT_INT_EQ(PQfformat(res, 0), format);
  uvsql_result_t *r = NULL;
  uvsql_error_t err;
  ASSERT_OK(uvsql__pg_decode(res, &r, &err), &err);
  return r;
}

typedef struct {
  int rc;
  int64_t i;
  double d;
  const void *p;
  size_t len;
  char error[256];
} got_t;

/* Calls getter number g on (row, col) and records what it said. */
static void get(const uvsql_result_t *r, int g, size_t row, size_t col, got_t *out) {
  const char *s = NULL;
  int b = 0;
  memset(out, 0, sizeof *out);
  switch (g) {
  case 0:
    out->rc = uvsql_result_int64(r, row, col, &out->i);
    break;
  case 1:
    out->rc = uvsql_result_double(r, row, col, &out->d);
    break;
  case 2:
    out->rc = uvsql_result_bool(r, row, col, &b);
    out->i = b;
    break;
  case 3:
    out->rc = uvsql_result_text(r, row, col, &s, &out->len);
    out->p = s;
    break;
  case 4:
    out->rc = uvsql_result_bytes(r, row, col, &out->p, &out->len);
    break;
  case 5:
    out->rc = uvsql_result_date(r, row, col, &out->i);
    break;
  case 6:
    out->rc = uvsql_result_time(r, row, col, &out->i);
    break;
  case 7:
    out->rc = uvsql_result_timestamp(r, row, col, &out->i);
    break;
  default:
    out->rc = uvsql_result_is_null(r, row, col);
    break;
  }
  if (out->rc != 0 && g != 8)
    snprintf(out->error, sizeof out->error, "%s", uvsql_result_last_error(r));
}

static const char *const getter_names[] = {"int64", "double", "bool",      "text",   "bytes",
                                           "date",  "time",   "timestamp", "is_null"};

/* Every getter on every cell of column 0 (and one past the last row) agrees in both formats. */
static void same_answers(const char *sql, const uvsql_result_t *t, const uvsql_result_t *b) {
  ASSERT_INT_EQ(uvsql_result_nrows(t), uvsql_result_nrows(b));
  ASSERT_INT_EQ(uvsql_result_coltype(t, 0), uvsql_result_coltype(b, 0));
  for (size_t row = 0; row <= uvsql_result_nrows(t); row++) {
    for (int g = 0; g < 9; g++) {
      got_t x, y;
      get(t, g, row, 0, &x);
      get(b, g, row, 0, &y);
      const char *what = getter_names[g];
      if (x.rc != y.rc)
        FAILF("%s, row %zu, %s: text gives %s, binary %s (%s | %s)", sql, row, what,
              uvsql_err_name(x.rc), uvsql_err_name(y.rc), x.error, y.error);
      if (strcmp(x.error, y.error) != 0)
        FAILF("%s, row %zu, %s: text says \"%s\", binary \"%s\"", sql, row, what, x.error, y.error);
      if (x.rc != 0 || g == 8)
        continue;
      if (x.i != y.i)
        FAILF("%s, row %zu, %s: text %lld, binary %lld", sql, row, what, (long long)x.i,
              (long long)y.i);
      if (memcmp(&x.d, &y.d, sizeof x.d) != 0)
        FAILF("%s, row %zu, %s: text %.17g, binary %.17g", sql, row, what, x.d, y.d);
      if (x.len != y.len || (x.len && memcmp(x.p, y.p, x.len) != 0))
        FAILF("%s, row %zu, %s: text \"%.*s\", binary \"%.*s\"", sql, row, what, (int)x.len,
              (const char *)x.p, (int)y.len, (const char *)y.p);
      if (g == 3)
        ASSERT(((const char *)y.p)[y.len] == '\0'); /* text cells are NUL-terminated */
    }
  }
}

typedef struct {
  const char *sql;
  void (*check)(const uvsql_result_t *r); /* what the values must be (either format) */
} case_t;

static int64_t i64_of(const uvsql_result_t *r, size_t row) {
  int64_t v = 0;
  ASSERT_INT_EQ(uvsql_result_int64(r, row, 0, &v), 0);
  return v;
}

static double dbl_of(const uvsql_result_t *r, size_t row) {
  double v = 0;
  ASSERT_INT_EQ(uvsql_result_double(r, row, 0, &v), 0);
  return v;
}

static int64_t ts_of(const uvsql_result_t *r, size_t row) {
  int64_t v = 0;
  ASSERT_INT_EQ(uvsql_result_timestamp(r, row, 0, &v), 0);
  return v;
}

static const char *text_of(const uvsql_result_t *r, size_t row) {
  const char *s = NULL;
  ASSERT_INT_EQ(uvsql_result_text(r, row, 0, &s, NULL), 0);
  return s;
}

static void check_bool(const uvsql_result_t *r) {
  int b = -1;
  ASSERT_INT_EQ(uvsql_result_bool(r, 0, 0, &b), 0);
  ASSERT_INT_EQ(b, 1);
  ASSERT_INT_EQ(uvsql_result_bool(r, 1, 0, &b), 0);
  ASSERT_INT_EQ(b, 0);
  ASSERT(uvsql_result_is_null(r, 2, 0));
  ASSERT_INT_EQ(i64_of(r, 0), 1); /* a bool reads as int64 too */
}

static void check_int2(const uvsql_result_t *r) {
  ASSERT_INT_EQ(i64_of(r, 0), -32768);
  ASSERT_INT_EQ(i64_of(r, 1), 32767);
  ASSERT_INT_EQ(i64_of(r, 2), 0);
  ASSERT(uvsql_result_is_null(r, 3, 0));
}

static void check_int4(const uvsql_result_t *r) {
  ASSERT_INT_EQ(i64_of(r, 0), INT32_MIN);
  ASSERT_INT_EQ(i64_of(r, 1), INT32_MAX);
  ASSERT_INT_EQ(i64_of(r, 2), 1);
  ASSERT(uvsql_result_is_null(r, 3, 0));
}

static void check_int8(const uvsql_result_t *r) {
  ASSERT_INT_EQ(i64_of(r, 0), INT64_MIN);
  ASSERT_INT_EQ(i64_of(r, 1), INT64_MAX);
  ASSERT_INT_EQ(i64_of(r, 2), -1);
  ASSERT(uvsql_result_is_null(r, 3, 0));
  ASSERT(dbl_of(r, 1) == (double)INT64_MAX); /* int64 reads as double */
}

static void check_oid(const uvsql_result_t *r) {
  ASSERT_INT_EQ(i64_of(r, 0), INT64_C(4294967295));
  ASSERT_INT_EQ(i64_of(r, 1), 0);
}

static void check_float4(const uvsql_result_t *r) {
  ASSERT(dbl_of(r, 0) == (double)1.1f); /* the float's own value, not 1.1 */
  ASSERT(dbl_of(r, 1) == (double)-3.4e38f);
  ASSERT(isnan(dbl_of(r, 2)));
  ASSERT(isinf(dbl_of(r, 3)) && dbl_of(r, 3) > 0);
  ASSERT(isinf(dbl_of(r, 4)) && dbl_of(r, 4) < 0);
  ASSERT(dbl_of(r, 5) == 0 && signbit(dbl_of(r, 5)));
  ASSERT(dbl_of(r, 6) == (double)1e-45f);
  ASSERT(uvsql_result_is_null(r, 7, 0));
}

static void check_float8(const uvsql_result_t *r) {
  ASSERT(dbl_of(r, 0) == 0.1);
  ASSERT(dbl_of(r, 1) == -1.7976931348623157e308);
  ASSERT(dbl_of(r, 2) == 4.9406564584124654e-324);
  ASSERT(isnan(dbl_of(r, 3)));
  ASSERT(isinf(dbl_of(r, 4)) && dbl_of(r, 4) > 0);
  ASSERT(isinf(dbl_of(r, 5)) && dbl_of(r, 5) < 0);
  ASSERT(dbl_of(r, 6) == 0 && signbit(dbl_of(r, 6)));
  ASSERT(uvsql_result_is_null(r, 7, 0));
}

static void check_text(const uvsql_result_t *r) {
  size_t len = 99;
  const char *s = NULL;
  ASSERT_INT_EQ(uvsql_result_text(r, 0, 0, &s, &len), 0);
  ASSERT_INT_EQ(len, 0); /* empty, not NULL */
  ASSERT_STR_EQ(s, "");
  ASSERT(!uvsql_result_is_null(r, 0, 0));
  ASSERT_STR_EQ(text_of(r, 1), "héllo wörld");
  ASSERT_STR_EQ(text_of(r, 2), " 42 ");
  ASSERT_STR_EQ(text_of(r, 3), "2024-01-02"); /* text that looks like a date */
  ASSERT(uvsql_result_is_null(r, 4, 0));
}

static void check_bpchar(const uvsql_result_t *r) {
  ASSERT_STR_EQ(text_of(r, 0), "a  ");
  ASSERT_STR_EQ(text_of(r, 1), "   ");
}

static void check_bytea(const uvsql_result_t *r) {
  const void *p = NULL;
  size_t len = 99;
  ASSERT_INT_EQ(uvsql_result_bytes(r, 0, 0, &p, &len), 0);
  ASSERT_INT_EQ(len, 0);
  ASSERT(p != NULL);
  ASSERT_INT_EQ(uvsql_result_bytes(r, 1, 0, &p, &len), 0);
  ASSERT_INT_EQ(len, 4);
  ASSERT(memcmp(p, "\x00\xff\\'", 4) == 0);
  ASSERT(uvsql_result_is_null(r, 2, 0));
}

static void check_date(const uvsql_result_t *r) {
  int64_t d = 0;
  ASSERT_INT_EQ(uvsql_result_date(r, 0, 0, &d), 0);
  ASSERT_INT_EQ(d, INT64_MAX);
  ASSERT_INT_EQ(uvsql_result_date(r, 1, 0, &d), 0);
  ASSERT_INT_EQ(d, INT64_MIN);
  ASSERT_INT_EQ(uvsql_result_date(r, 2, 0, &d), 0);
  ASSERT_INT_EQ(d, 0);
  ASSERT_INT_EQ(uvsql_result_date(r, 3, 0, &d), 0);
  ASSERT_INT_EQ(d, uvsql_days_from_civil(1, 1, 1));
  ASSERT_INT_EQ(uvsql_result_date(r, 4, 0, &d), 0);
  ASSERT_INT_EQ(d, uvsql_days_from_civil(9999, 12, 31));
  ASSERT_INT_EQ(uvsql_result_date(r, 5, 0, &d), 0);
  ASSERT_INT_EQ(d, uvsql_days_from_civil(1999, 12, 31));
}

static void check_time(const uvsql_result_t *r) {
  int64_t t = -1;
  ASSERT_INT_EQ(uvsql_result_time(r, 0, 0, &t), 0);
  ASSERT_INT_EQ(t, 0);
  ASSERT_INT_EQ(uvsql_result_time(r, 1, 0, &t), 0);
  ASSERT_INT_EQ(t, INT64_C(86399999999));
  ASSERT_INT_EQ(uvsql_result_time(r, 3, 0, &t), 0);
  ASSERT_INT_EQ(t, INT64_C(86400000000)); /* PostgreSQL's end of the day */
  ASSERT(uvsql_result_is_null(r, 4, 0));
}

static void check_timestamp(const uvsql_result_t *r) {
  const int64_t day = INT64_C(86400000000);
  ASSERT_INT_EQ(ts_of(r, 0), INT64_MAX);
  ASSERT_INT_EQ(ts_of(r, 1), INT64_MIN);
  ASSERT_INT_EQ(ts_of(r, 2), 0);
  ASSERT_INT_EQ(ts_of(r, 3), uvsql_days_from_civil(1999, 12, 31) * day + day - 1);
  ASSERT_INT_EQ(ts_of(r, 4), uvsql_days_from_civil(1, 1, 1) * day);
  ASSERT_INT_EQ(ts_of(r, 5), uvsql_days_from_civil(9999, 12, 31) * day + INT64_C(3600000000));
  ASSERT(uvsql_result_is_null(r, 6, 0));
}

static void check_timestamptz(const uvsql_result_t *r) {
  const int64_t day = INT64_C(86400000000);
  ASSERT_INT_EQ(ts_of(r, 0), INT64_MAX);
  ASSERT_INT_EQ(ts_of(r, 1), INT64_MIN);
  ASSERT_INT_EQ(ts_of(r, 2), -1); /* 1969-12-31 23:59:59.999999 UTC */
  ASSERT_INT_EQ(ts_of(r, 3), uvsql_days_from_civil(2024, 2, 29) * day + INT64_C(45296500000) -
                                 INT64_C(7200000000));
  ASSERT(uvsql_result_is_null(r, 4, 0));
}

static void check_uuid(const uvsql_result_t *r) {
  uvsql_uuid_t id;
  ASSERT_INT_EQ(uvsql_result_coltype(r, 0), UVSQL_TYPE_UUID);
  ASSERT_INT_EQ(uvsql_result_value(r, 0, 0)->type, UVSQL_TYPE_UUID); /* 16 bytes in the cell */
  ASSERT_INT_EQ(uvsql_result_uuid(r, 0, 0, &id), 0);
  ASSERT(memcmp(id.b, "\xa0\xee\xbc\x99\x9c\x0b\x4e\xf8\xbb\x6d\x6b\xb9\xbd\x38\x0a\x11", 16) == 0);
  ASSERT_STR_EQ(text_of(r, 0), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  ASSERT_STR_EQ(text_of(r, 1), "00000000-0000-0000-0000-000000000000");
}

static void check_json(const uvsql_result_t *r) {
  ASSERT_INT_EQ(uvsql_result_value(r, 0, 0)->type, UVSQL_TYPE_JSON);
  ASSERT_STR_EQ(text_of(r, 0), "{\"a\": [1, 2.5, null], \"b\": \"\\u00e9\"}"); /* as written */
}

static void check_jsonb(const uvsql_result_t *r) {
  ASSERT_INT_EQ(uvsql_result_value(r, 0, 0)->type, UVSQL_TYPE_JSON);
  ASSERT_STR_EQ(text_of(r, 0), "{\"a\": [1, 2.5, null], \"b\": \"é\"}"); /* normalised */
}

#define V(type, list) "SELECT v FROM (VALUES " list ") AS t(v) -- " type

static const case_t cases[] = {
    {V("bool", "(true), (false), (NULL::bool)"), check_bool},
    {V("int2", "('-32768'::int2), (32767::int2), (0::int2), (NULL::int2)"), check_int2},
    {V("int4", "('-2147483648'::int4), (2147483647::int4), (1::int4), (NULL::int4)"), check_int4},
    {V("int8", "('-9223372036854775808'::int8), (9223372036854775807::int8), (-1::int8), "
               "(NULL::int8)"),
     check_int8},
    {V("oid", "(4294967295::oid), (0::oid)"), check_oid},
    {V("float4", "(1.1::float4), (-3.4e38::float4), ('NaN'::float4), ('Infinity'::float4), "
                 "('-Infinity'::float4), ('-0'::float4), (1e-45::float4), (NULL::float4)"),
     check_float4},
    {V("float8", "(0.1::float8), (-1.7976931348623157e308::float8), (5e-324::float8), "
                 "('NaN'::float8), ('Infinity'::float8), ('-Infinity'::float8), ('-0'::float8), "
                 "(NULL::float8)"),
     check_float8},
    {V("text", "(''::text), ('héllo wörld'), (' 42 '), ('2024-01-02'), (NULL)"), check_text},
    {V("varchar", "(''::varchar), ('héllo wörld'), (' 42 '), ('2024-01-02'), (NULL)"), check_text},
    {V("name", "(''::name), ('héllo wörld'::name), (' 42 '::name), ('2024-01-02'::name), "
               "(NULL::name)"),
     check_text},
    {V("bpchar", "('a'::char(3)), (''::char(3)), (NULL::char(3))"), check_bpchar},
    {V("bytea", "(''::bytea), ('\\x00ff5c27'::bytea), (NULL::bytea)"), check_bytea},
    {V("date", "('infinity'::date), ('-infinity'::date), ('1970-01-01'::date), "
               "('0001-01-01'::date), ('9999-12-31'::date), ('1999-12-31'::date), (NULL::date)"),
     check_date},
    {V("time", "('00:00'::time), ('23:59:59.999999'::time), ('12:00:00.5'::time), "
               "('24:00:00'::time), (NULL::time)"),
     check_time},
    {V("timestamp", "('infinity'::timestamp), ('-infinity'::timestamp), "
                    "('1970-01-01'::timestamp), ('1999-12-31 23:59:59.999999'::timestamp), "
                    "('0001-01-01'::timestamp), ('9999-12-31 01:00'::timestamp), "
                    "(NULL::timestamp)"),
     check_timestamp},
    {V("timestamptz", "('infinity'::timestamptz), ('-infinity'::timestamptz), "
                      "('1969-12-31 23:59:59.999999+00'::timestamptz), "
                      "('2024-02-29 12:34:56.5+02'::timestamptz), (NULL::timestamptz)"),
     check_timestamptz},
    {V("uuid", "('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid), "
               "('00000000-0000-0000-0000-000000000000'::uuid), (NULL::uuid)"),
     check_uuid},
    {V("json", "('{\"a\": [1, 2.5, null], \"b\": \"\\u00e9\"}'::json), (NULL::json)"), check_json},
    {V("jsonb", "('{\"b\": \"\\u00e9\", \"a\": [1, 2.5, null]}'::jsonb), (NULL::jsonb)"),
     check_jsonb},
};

/* ------------------------------------------------------------------ tests */

TEST(every_getter_answers_the_same_in_text_and_binary) {
  PGconn *c = PQconnectdb(test_pg_url());
  ASSERT(PQstatus(c) == CONNECTION_OK);
  /* a session offset that is not UTC: text timestamptz carries it, binary does not */
  PQclear(PQexec(c, "SET TimeZone = 'America/St_Johns'"));
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uvsql_result_t *t = fetch(c, cases[i].sql, 0), *b = fetch(c, cases[i].sql, 1);
    cases[i].check(t);
    cases[i].check(b);
    same_answers(cases[i].sql, t, b);
    uvsql_result_free(t);
    uvsql_result_free(b);
  }
  PQfinish(c);
}

/* Many rows and columns of mixed types, with NULLs scattered: the decoder's per-column fast
 * paths keep every cell in its place. */
TEST(wide_result_with_nulls_decodes_the_same_in_both_formats) {
  static const char *sql =
      "SELECT i::int8 AS a, CASE WHEN i % 3 = 0 THEN NULL ELSE 'n' || i END AS b, "
      "CASE WHEN i % 5 = 0 THEN NULL ELSE i / 7.0::float8 END AS c, "
      "CASE WHEN i % 7 = 0 THEN NULL ELSE timestamptz '2000-01-01' + i * interval '1 s' END AS d, "
      "CASE WHEN i % 11 = 0 THEN NULL ELSE i % 2 = 0 END AS e, i::int4 AS f, "
      "CASE WHEN i % 4 = 0 THEN ''::text ELSE repeat('x', i % 9) END AS g "
      "FROM generate_series(1, 2000) AS s(i)";
  PGconn *c = PQconnectdb(test_pg_url());
  ASSERT(PQstatus(c) == CONNECTION_OK);
  uvsql_result_t *t = fetch(c, sql, 0), *b = fetch(c, sql, 1);
  ASSERT_INT_EQ(uvsql_result_nrows(b), 2000);
  ASSERT_INT_EQ(uvsql_result_ncols(b), 7);
  for (size_t row = 0; row < 2000; row++) {
    int64_t i = (int64_t)row + 1;
    for (size_t col = 0; col < 7; col++) {
      const uvsql_value_t *x = uvsql_result_value(t, row, col),
                          *y = uvsql_result_value(b, row, col);
      ASSERT_INT_EQ(x->type, y->type);
      ASSERT_INT_EQ(uvsql_result_is_null(b, row, col),
                    (col == 1 && i % 3 == 0) || (col == 2 && i % 5 == 0) ||
                        (col == 3 && i % 7 == 0) || (col == 4 && i % 11 == 0));
    }
    int64_t v;
    ASSERT_INT_EQ(uvsql_result_int64(b, row, 0, &v), 0);
    ASSERT_INT_EQ(v, i);
    ASSERT_INT_EQ(uvsql_result_int64(b, row, 5, &v), 0);
    ASSERT_INT_EQ(v, i);
    if (i % 7) {
      ASSERT_INT_EQ(uvsql_result_timestamp(b, row, 3, &v), 0);
      ASSERT_INT_EQ(v, INT64_C(946684800000000) + i * 1000000);
    }
    if (i % 5) {
      double d;
      ASSERT_INT_EQ(uvsql_result_double(b, row, 2, &d), 0);
      ASSERT(d == (double)i / 7.0);
    }
    if (i % 3) {
      char want[16];
      snprintf(want, sizeof want, "n%lld", (long long)i);
      ASSERT_STR_EQ(uvsql_result_value(b, row, 1)->u.s.ptr, want);
    }
    ASSERT_INT_EQ(uvsql_result_value(b, row, 6)->u.s.len, i % 4 == 0 ? 0 : i % 9);
  }
  uvsql_result_free(t);
  uvsql_result_free(b);
  PQfinish(c);
}

/* A binary value of the wrong size is refused (never read as something else), by the fast
 * paths as by the others; the message names the column, the type and the row. */
TEST(binary_value_of_the_wrong_size_fails_the_result) {
  PGconn *c = PQconnectdb(test_pg_url());
  ASSERT(PQstatus(c) == CONNECTION_OK);
  /* int4 data under an int8 OID: what a mixed-up format would look like */
  PGresult *res = PQexecParams(c, "SELECT 5::int4 AS x", 0, NULL, NULL, NULL, NULL, 1);
  ASSERT(PQresultStatus(res) == PGRES_TUPLES_OK);
  PGresult *fake = PQcopyResult(res, PG_COPYRES_EVENTS | PG_COPYRES_NOTICEHOOKS);
  PGresAttDesc att = {.name = "x", .typid = UVSQL__PG_INT8, .typlen = 8, .format = 1};
  ASSERT(PQsetResultAttrs(fake, 1, &att));
  ASSERT(PQsetvalue(fake, 0, 0, PQgetvalue(res, 0, 0), 4));
  PQclear(res);
  uvsql_result_t *r = NULL;
  uvsql_error_t err;
  ASSERT_ERR(uvsql__pg_decode(fake, &r, &err), UVSQL_EDATA);
  ASSERT(r == NULL);
  ASSERT_STR_EQ(err.message, "could not read column \"x\" (type oid 20, binary format) of row 1");
  PQfinish(c);
}
