/* tests/test_numeric.c — exact decimals (uvsql_numeric_t, value.h): what the parser reads and
 * refuses, the canonical text, int64 and double conversions, rescaling and ordering. */
#include <math.h>
#include "harness.h"

#define MAX38 "99999999999999999999999999999999999999"

/* parse -> format gives `canon` */
static void round_trip(const char *in, const char *canon) {
  uvsql_numeric_t n;
  char buf[UVSQL_NUMERIC_TEXT_SIZE];
  int rc = uvsql_numeric_parse(in, strlen(in), &n);
  if (rc != 0)
    FAILF("parsing \"%s\": %s", in, uvsql_err_name(rc));
  size_t len = uvsql_numeric_format(&n, buf, sizeof buf);
  ASSERT_INT_EQ(len, strlen(buf));
  if (strcmp(buf, canon) != 0)
    FAILF("\"%s\" formats as \"%s\", expected \"%s\"", in, buf, canon);
  uvsql_numeric_t again;
  ASSERT_INT_EQ(uvsql_numeric_parse(buf, len, &again), 0);
  ASSERT(memcmp(&again, &n, sizeof n) == 0 || uvsql_numeric_cmp(&again, &n) == 0);
}

static void refused(const char *in) {
  uvsql_numeric_t n = {7, 7, 7, 1, 0};
  int rc = uvsql_numeric_parse(in, strlen(in), &n);
  if (rc != UVSQL_EDATA)
    FAILF("parsing \"%s\": expected UVSQL_EDATA, got %s", in, uvsql_err_name(rc));
  ASSERT_INT_EQ(n.coef_lo, 7); /* untouched */
}

static uvsql_numeric_t num(const char *s) {
  uvsql_numeric_t n;
  if (uvsql_numeric_parse(s, strlen(s), &n) != 0)
    FAILF("parsing \"%s\"", s);
  return n;
}

TEST(parse_keeps_scale_and_sign) {
  round_trip("12.50", "12.50");
  round_trip("-12.50", "-12.50");
  round_trip("+7", "7");
  round_trip("0", "0");
  round_trip("-0", "0"); /* zero is never negative */
  round_trip("-0.00", "0.00");
  round_trip(".5", "0.5");
  round_trip("5.", "5");
  round_trip("007.0100", "7.0100");
  round_trip("-0.0000000001", "-0.0000000001");
  uvsql_numeric_t n = num("-12.50");
  ASSERT_INT_EQ(n.coef_lo, 1250);
  ASSERT_INT_EQ(n.coef_hi, 0);
  ASSERT_INT_EQ(n.scale, 2);
  ASSERT_INT_EQ(n.negative, 1);
  ASSERT_INT_EQ(n.special, 0);
}

TEST(parse_applies_an_exponent_exactly) {
  round_trip("1e3", "1000");
  round_trip("1E+3", "1000");
  round_trip("1.5e-3", "0.0015");
  round_trip("-2.50e1", "-25.0");
  round_trip("12e-2", "0.12");
  round_trip("0e50", "0");
  refused("1e");
  refused("1e+");
  refused("1e39"); /* 40 digits */
  refused("1e-39");
}

TEST(parse_38_digits_at_every_scale) {
  round_trip(MAX38, MAX38);
  round_trip("-" MAX38, "-" MAX38);
  round_trip("9999999999999999999999999999.9999999999", "9999999999999999999999999999.9999999999");
  round_trip("-9999999999999999999999999999.9999999999",
             "-9999999999999999999999999999.9999999999");
  round_trip("0." MAX38, "0." MAX38);
  round_trip("0.00000000000000000000000000000000000001",
             "0.00000000000000000000000000000000000001");
  uvsql_numeric_t n = num(MAX38);
  ASSERT(n.coef_hi != 0); /* really past 64 bits */
}

TEST(parse_refuses_more_than_38_digits_and_junk) {
  refused("1" MAX38); /* 39 digits */
  refused("1."
          "00000000000000000000000000000000000000");    /* 39 significant with the zeros */
  refused("0.000000000000000000000000000000000000001"); /* scale 39 */
  refused("");
  refused("-");
  refused(".");
  refused("+.");
  refused(" 1");
  refused("1 ");
  refused("1.2.3");
  refused("0x10");
  refused("12abc");
  refused("--1");
  refused("nan1");
  refused("1,5");
  /* leading zeros do not count */
  round_trip("0000000000" MAX38, MAX38);
}

TEST(parse_nan_and_infinity_as_postgresql_writes_them) {
  round_trip("NaN", "NaN");
  round_trip("nan", "NaN");
  round_trip("Infinity", "Infinity");
  round_trip("-Infinity", "-Infinity");
  round_trip("+inf", "Infinity");
  round_trip("-INF", "-Infinity");
  uvsql_numeric_t n = num("-Infinity");
  ASSERT_INT_EQ(n.special, UVSQL_NUMERIC_NINF);
  ASSERT_INT_EQ(n.coef_lo, 0);
  refused("-NaN");
}

TEST(format_truncates_like_snprintf) {
  uvsql_numeric_t n = num("-123.45");
  char small[5];
  ASSERT_INT_EQ(uvsql_numeric_format(&n, small, sizeof small), 7);
  ASSERT_STR_EQ(small, "-123");
  ASSERT_INT_EQ(uvsql_numeric_format(&n, NULL, 0), 7);
}

TEST(int64_round_trip_and_limits) {
  int64_t v = 0;
  uvsql_numeric_t n = uvsql_numeric_from_int64(INT64_MIN);
  char buf[UVSQL_NUMERIC_TEXT_SIZE];
  uvsql_numeric_format(&n, buf, sizeof buf);
  ASSERT_STR_EQ(buf, "-9223372036854775808");
  ASSERT_INT_EQ(uvsql_numeric_to_int64(&n, &v), 0);
  ASSERT(v == INT64_MIN);
  n = uvsql_numeric_from_int64(INT64_MAX);
  ASSERT_INT_EQ(uvsql_numeric_to_int64(&n, &v), 0);
  ASSERT(v == INT64_MAX);
  n = num("5.00");
  ASSERT_INT_EQ(uvsql_numeric_to_int64(&n, &v), 0);
  ASSERT_INT_EQ(v, 5);
  n = num("-42");
  ASSERT_INT_EQ(uvsql_numeric_to_int64(&n, &v), 0);
  ASSERT_INT_EQ(v, -42);
  v = 99;
  n = num("5.01");
  ASSERT_INT_EQ(uvsql_numeric_to_int64(&n, &v), UVSQL_EDATA);
  n = num("9223372036854775808"); /* INT64_MAX + 1 */
  ASSERT_INT_EQ(uvsql_numeric_to_int64(&n, &v), UVSQL_EDATA);
  n = num("-9223372036854775809");
  ASSERT_INT_EQ(uvsql_numeric_to_int64(&n, &v), UVSQL_EDATA);
  n = num("NaN");
  ASSERT_INT_EQ(uvsql_numeric_to_int64(&n, &v), UVSQL_EDATA);
  ASSERT_INT_EQ(v, 99); /* untouched */
}

TEST(to_double_rounds_to_nearest) {
  uvsql_numeric_t n = num("0.1");
  ASSERT(uvsql_numeric_to_double(&n) == 0.1);
  n = num("-12.50");
  ASSERT(uvsql_numeric_to_double(&n) == -12.5);
  n = num(MAX38);
  ASSERT(uvsql_numeric_to_double(&n) == 1e38);
  n = num("Infinity");
  ASSERT(isinf(uvsql_numeric_to_double(&n)) && uvsql_numeric_to_double(&n) > 0);
  n = num("-Infinity");
  ASSERT(isinf(uvsql_numeric_to_double(&n)) && uvsql_numeric_to_double(&n) < 0);
  n = num("NaN");
  ASSERT(isnan(uvsql_numeric_to_double(&n)));
}

TEST(rescale_is_exact_or_refused) {
  char buf[UVSQL_NUMERIC_TEXT_SIZE];
  uvsql_numeric_t n = num("0.1");
  ASSERT_INT_EQ(uvsql_numeric_rescale(&n, 2), 0);
  uvsql_numeric_format(&n, buf, sizeof buf);
  ASSERT_STR_EQ(buf, "0.10");
  n = num("12.500");
  ASSERT_INT_EQ(uvsql_numeric_rescale(&n, 1), 0);
  uvsql_numeric_format(&n, buf, sizeof buf);
  ASSERT_STR_EQ(buf, "12.5");
  n = num("0.125");
  ASSERT_INT_EQ(uvsql_numeric_rescale(&n, 2), UVSQL_EDATA);
  uvsql_numeric_format(&n, buf, sizeof buf);
  ASSERT_STR_EQ(buf, "0.125"); /* unchanged */
  n = num(MAX38);
  ASSERT_INT_EQ(uvsql_numeric_rescale(&n, 1), UVSQL_EDATA);
  n = num("0");
  ASSERT_INT_EQ(uvsql_numeric_rescale(&n, 38), 0);
  ASSERT_INT_EQ(uvsql_numeric_rescale(&n, 39), UVSQL_EDATA);
}

TEST(cmp_orders_by_value) {
  uvsql_numeric_t a = num("1.0"), b = num("1.00");
  ASSERT_INT_EQ(uvsql_numeric_cmp(&a, &b), 0);
  a = num("0.3");
  b = num("0.30000000000000000000000000000000000001");
  ASSERT_INT_EQ(uvsql_numeric_cmp(&a, &b), -1);
  ASSERT_INT_EQ(uvsql_numeric_cmp(&b, &a), 1);
  a = num("-2");
  b = num("-10.5");
  ASSERT_INT_EQ(uvsql_numeric_cmp(&a, &b), 1);
  a = num(MAX38);
  b = num("0." MAX38);
  ASSERT_INT_EQ(uvsql_numeric_cmp(&a, &b), 1);
  a = num("NaN");
  b = num("Infinity");
  ASSERT_INT_EQ(uvsql_numeric_cmp(&a, &b), 1);
  ASSERT_INT_EQ(uvsql_numeric_cmp(&a, &a), 0);
  a = num("-Infinity");
  b = num("-" MAX38);
  ASSERT_INT_EQ(uvsql_numeric_cmp(&a, &b), -1);
  a = num("0");
  b = num("-0.000");
  ASSERT_INT_EQ(uvsql_numeric_cmp(&a, &b), 0);
}

TEST(sum_of_tenths_is_exact) {
  /* what the C side can do with the coefficient: 0.1 + 0.2 at scale 1 is 0.3, exactly */
  uvsql_numeric_t a = num("0.1"), b = num("0.2"), want = num("0.3");
  uvsql_numeric_t s = a;
  s.coef_lo = a.coef_lo + b.coef_lo;
  ASSERT_INT_EQ(uvsql_numeric_cmp(&s, &want), 0);
  ASSERT(uvsql_numeric_to_double(&a) + uvsql_numeric_to_double(&b) != 0.3); /* the double way */
}
