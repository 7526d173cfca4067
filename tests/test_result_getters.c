/* tests/test_result_getters.c — the typed getters of uvsql_result_t (src/loop/result.c) on
 * results built cell by cell, as a driver builds them: each getter's fast path (cell in range,
 * of the type asked for, or canonical timestamp text) gives what its general path gives, and
 * every refusal keeps its code and message. */
#include <stdlib.h>
#include "harness.h"
#include "dialects/driver.h"

/* A one-column result ("c") with one row per value. */
static uvsql_result_t *column_of(const uvsql_value_t *vals, size_t n) {
  uvsql_result_t *r = uvsql__result_new(1);
  ASSERT(r != NULL);
  ASSERT_INT_EQ(uvsql__result_set_column(r, 0, "c", vals[0].type), 0);
  for (size_t i = 0; i < n; i++) {
    uvsql_value_t *cell = uvsql__result_add_row(r);
    ASSERT(cell != NULL);
    *cell = vals[i];
  }
  return r;
}

static uvsql_value_t text(const char *s) {
  uvsql_value_t v = {.type = UVSQL_TYPE_TEXT};
  v.u.s.ptr = s;
  v.u.s.len = strlen(s);
  return v;
}

/* What reading text as a timestamp must give: uvsql_parse_temporal as a TIMESTAMP, else as a
 * TIMESTAMPTZ (result.c's general path), else the error with its message. */
static void check_timestamp_text(const char *s) {
  uvsql_value_t v = text(s);
  uvsql_result_t *r = column_of(&v, 1);
  int64_t want = 0, got = -7;
  int want_rc = uvsql_parse_temporal(UVSQL_TYPE_TIMESTAMP, s, strlen(s), &want) == 0 ||
                        uvsql_parse_temporal(UVSQL_TYPE_TIMESTAMPTZ, s, strlen(s), &want) == 0
                    ? 0
                    : UVSQL_ETYPE;
  int rc = uvsql_result_timestamp(r, 0, 0, &got);
  if (rc != want_rc)
    FAILF("\"%s\": %s, expected %s", s, uvsql_err_name(rc), uvsql_err_name(want_rc));
  if (rc == 0 && got != want)
    FAILF("\"%s\": %lld, expected %lld", s, (long long)got, (long long)want);
  if (rc != 0) {
    char msg[256];
    snprintf(msg, sizeof msg,
             "column \"c\" holds text \"%.60s\", which is not an ISO 8601 timestamp", s);
    ASSERT_STR_EQ(uvsql_result_last_error(r), msg);
    ASSERT_INT_EQ(got, -7); /* untouched */
  }
  uvsql_result_free(r);
}

TEST(timestamp_text_reads_as_uvsql_parse_temporal_reads_it) {
  static const char *const fixed[] = {
      "2024-01-01 00:00:01",
      "2024-01-01 00:00:01.5",
      "2024-01-01 00:00:01.123456",
      "2024-01-01 00:00:01.1234567",
      "2024-01-01 00:00:01.",
      "2024-02-29 23:59:59",
      "2023-02-29 12:00:00",
      "2100-02-29 12:00:00",
      "2000-02-29 12:00:00",
      "1900-02-28 00:00:00",
      "0001-01-01 00:00:00",
      "0000-01-01 00:00:00",
      "9999-12-31 23:59:59.999999",
      "2024-04-31 00:00:00",
      "2024-13-01 00:00:00",
      "2024-00-10 00:00:00",
      "2024-01-00 00:00:00",
      "2024-01-01 24:00:00",
      "2024-01-01 23:60:00",
      "2024-01-01 23:59:60",
      "2024-01-01T10:00:00",
      "2024-01-01 10:00:00+02",
      "2024-01-01 10:00:00Z",
      "2024-01-01 10:00:00.5-03:30",
      "2024-01-01 10:00",
      "2024-01-01",
      "infinity",
      "-infinity",
      "2024-1-01 10:00:00",
      " 2024-01-01 10:00:00",
      "2024-01-01 10:00:00 ",
      "2024/01/01 10:00:00",
      "",
      "2024-01-01 1a:00:00",
      "2024-01-01 10:00:00.12x",
      "+024-01-01 10:00:00",
  };
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    check_timestamp_text(fixed[i]);
  /* Canonical strings with one character replaced, and cut short: the fast path must refuse
   * exactly what the parser refuses. */
  static const char alphabet[] = "0123456789-: .T+Za";
  unsigned seed = 12345;
  for (int k = 0; k < 20000; k++) {
    char s[40];
    seed = seed * 1103515245u + 12345u;
    int y = 1 + (int)(seed >> 8) % 9999, mo = 1 + (int)(seed >> 4) % 12;
    seed = seed * 1103515245u + 12345u;
    int d = 1 + (int)(seed >> 8) % 31, h = (int)(seed >> 3) % 24, mi = (int)(seed >> 13) % 60;
    seed = seed * 1103515245u + 12345u;
    int se = (int)(seed >> 8) % 60, fr = (int)(seed >> 2) % 1000000;
    int n = snprintf(s, sizeof s, "%04d-%02d-%02d %02d:%02d:%02d.%06d", y, mo, d, h, mi, se, fr);
    seed = seed * 1103515245u + 12345u;
    int cut = 19 + (int)(seed >> 8) % 9; /* 19..27: with 0..7 fraction characters */
    if (cut < n)
      s[cut] = '\0';
    if ((seed >> 20) % 3 == 0) {
      seed = seed * 1103515245u + 12345u;
      size_t at = (seed >> 8) % strlen(s);
      s[at] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
    }
    check_timestamp_text(s);
  }
}

/* Each getter on each kind of cell: the fast path's answer where it applies, the general
 * path's conversions and messages everywhere else. */
TEST(getters_convert_and_refuse_as_documented) {
  uvsql_value_t vals[] = {
      {.type = UVSQL_TYPE_INT64, .u.i64 = 1},
      {.type = UVSQL_TYPE_BOOL, .u.b = 1},
      {.type = UVSQL_TYPE_DOUBLE, .u.f64 = 2.5},
      {.type = UVSQL_TYPE_NULL},
      text("hi"),
      {.type = UVSQL_TYPE_INT64, .u.i64 = 7},
      {.type = UVSQL_TYPE_TIMESTAMPTZ, .u.i64 = 42},
  };
  uvsql_result_t *r = column_of(vals, sizeof vals / sizeof vals[0]);
  int64_t i = 0;
  double d = 0;
  int b = 0;
  const char *s = NULL;
  size_t len = 0;

  ASSERT_INT_EQ(uvsql_result_int64(r, 0, 0, &i), 0);
  ASSERT_INT_EQ(i, 1);
  ASSERT_INT_EQ(uvsql_result_int64(r, 1, 0, &i), 0); /* bool as int64 */
  ASSERT_INT_EQ(i, 1);
  ASSERT_INT_EQ(uvsql_result_double(r, 5, 0, &d), 0); /* int64 as double */
  ASSERT(d == 7.0);
  ASSERT_INT_EQ(uvsql_result_double(r, 2, 0, &d), 0);
  ASSERT(d == 2.5);
  ASSERT_INT_EQ(uvsql_result_bool(r, 0, 0, &b), 0); /* int64 1 as bool */
  ASSERT_INT_EQ(b, 1);
  ASSERT_INT_EQ(uvsql_result_bool(r, 5, 0, &b), UVSQL_ETYPE); /* 7 is no bool */
  ASSERT_STR_EQ(uvsql_result_last_error(r),
                "column \"c\" holds int64, which cannot be read as bool");
  ASSERT_INT_EQ(uvsql_result_text(r, 4, 0, &s, &len), 0);
  ASSERT_STR_EQ(s, "hi");
  ASSERT_INT_EQ(len, 2);
  ASSERT_INT_EQ(uvsql_result_text(r, 0, 0, &s, &len), UVSQL_ETYPE);
  ASSERT_STR_EQ(uvsql_result_last_error(r),
                "column \"c\" holds int64, which cannot be read as text");
  ASSERT_INT_EQ(uvsql_result_int64(r, 2, 0, &i), UVSQL_ETYPE);
  ASSERT_STR_EQ(uvsql_result_last_error(r),
                "column \"c\" holds double, which cannot be read as int64");
  ASSERT_INT_EQ(uvsql_result_double(r, 4, 0, &d), UVSQL_ETYPE);
  ASSERT_STR_EQ(uvsql_result_last_error(r),
                "column \"c\" holds text, which cannot be read as double");
  ASSERT_INT_EQ(uvsql_result_timestamp(r, 6, 0, &i), 0);
  ASSERT_INT_EQ(i, 42);
  ASSERT_INT_EQ(uvsql_result_timestamp(r, 0, 0, &i), UVSQL_ETYPE);
  ASSERT_STR_EQ(uvsql_result_last_error(r),
                "column \"c\" holds int64, which cannot be read as timestamp");
  /* NULL and out of range, for every getter */
  for (int g = 0; g < 5; g++) {
    for (int pass = 0; pass < 2; pass++) {
      size_t row = pass == 0 ? 3 : 99;
      int rc = g == 0   ? uvsql_result_int64(r, row, 0, &i)
               : g == 1 ? uvsql_result_double(r, row, 0, &d)
               : g == 2 ? uvsql_result_bool(r, row, 0, &b)
               : g == 3 ? uvsql_result_text(r, row, 0, &s, &len)
                        : uvsql_result_timestamp(r, row, 0, &i);
      if (pass == 0) {
        ASSERT_INT_EQ(rc, UVSQL_EDATA);
        ASSERT_STR_EQ(uvsql_result_last_error(r),
                      "column \"c\" is NULL in row 3: check uvsql_result_is_null first");
      } else {
        ASSERT_INT_EQ(rc, UVSQL_EINVALID_ARGUMENT);
        ASSERT_STR_EQ(uvsql_result_last_error(r),
                      "cell (99, 0) is out of range: the result has 7 rows and 1 columns");
      }
    }
  }
  ASSERT_INT_EQ(uvsql_result_int64(NULL, 0, 0, &i), UVSQL_EINVALID_ARGUMENT);
  ASSERT_INT_EQ(uvsql_result_timestamp(NULL, 0, 0, &i), UVSQL_EINVALID_ARGUMENT);
  uvsql_result_free(r);
}

/* NUMERIC cells: the getters of engine.h's table, exact where it says so. */
TEST(numeric_cells_follow_the_getter_table) {
  uvsql_value_t vals[] = {text("42.00"), text("-0.5"), text("99999999999999999999"), text("x")};
  for (int i = 0; i < 4; i++)
    vals[i].type = UVSQL_TYPE_NUMERIC;
  uvsql_result_t *r = column_of(vals, 4);
  int64_t i = 0;
  double d = 0;
  const char *s = NULL;
  size_t len = 0;
  uvsql_numeric_t n;
  ASSERT_INT_EQ(uvsql_result_int64(r, 0, 0, &i), 0);
  ASSERT_INT_EQ(i, 42);
  ASSERT_INT_EQ(uvsql_result_int64(r, 1, 0, &i), UVSQL_EDATA);
  ASSERT_STR_EQ(uvsql_result_last_error(r),
                "column \"c\" holds numeric -0.5, which is not an integer in int64's range: read "
                "it with uvsql_result_numeric (exact) or uvsql_result_double (rounded)");
  ASSERT_INT_EQ(uvsql_result_int64(r, 2, 0, &i), UVSQL_EDATA);
  ASSERT_INT_EQ(i, 42); /* untouched */
  ASSERT_INT_EQ(uvsql_result_double(r, 1, 0, &d), 0);
  ASSERT(d == -0.5);
  ASSERT_INT_EQ(uvsql_result_text(r, 1, 0, &s, &len), 0);
  ASSERT_STR_EQ(s, "-0.5");
  ASSERT_INT_EQ(len, 4);
  ASSERT_INT_EQ(uvsql_result_numeric(r, 2, 0, &n), 0);
  ASSERT(n.coef_hi != 0);
  ASSERT_INT_EQ(uvsql_result_numeric(r, 3, 0, &n), UVSQL_EDATA);
  ASSERT_STR_EQ(uvsql_result_last_error(r),
                "column \"c\" holds numeric \"x\", which is not a decimal number (or has more "
                "than 38 digits)");
  ASSERT_INT_EQ(uvsql_result_double(r, 3, 0, &d), UVSQL_EDATA);
  int b = 0;
  ASSERT_INT_EQ(uvsql_result_bool(r, 0, 0, &b), UVSQL_ETYPE);
  ASSERT_STR_EQ(uvsql_result_last_error(r),
                "column \"c\" holds numeric, which cannot be read as bool");
  uvsql_result_free(r);
}

/* uvsql__result_add_rows: room for n rows at once, the cells the caller's to fill. */
TEST(add_rows_appends_after_existing_rows) {
  uvsql_result_t *r = uvsql__result_new(2);
  ASSERT_INT_EQ(uvsql__result_set_column(r, 0, "a", UVSQL_TYPE_INT64), 0);
  ASSERT_INT_EQ(uvsql__result_set_column(r, 1, "b", UVSQL_TYPE_INT64), 0);
  uvsql_value_t *row = uvsql__result_add_row(r);
  row[0] = (uvsql_value_t){.type = UVSQL_TYPE_INT64, .u.i64 = 1};
  uvsql_value_t *cells = uvsql__result_add_rows(r, 1000);
  ASSERT(cells != NULL);
  for (int k = 0; k < 2000; k++)
    cells[k] = (uvsql_value_t){.type = UVSQL_TYPE_INT64, .u.i64 = 100 + k};
  ASSERT(uvsql__result_add_rows(r, 0) == NULL);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 1001);
  int64_t v = 0;
  ASSERT_INT_EQ(uvsql_result_int64(r, 0, 0, &v), 0);
  ASSERT_INT_EQ(v, 1);
  ASSERT(uvsql_result_is_null(r, 0, 1));
  ASSERT_INT_EQ(uvsql_result_int64(r, 1000, 1, &v), 0);
  ASSERT_INT_EQ(v, 100 + 1999);
  uvsql_result_free(r);
}
