/* src/loop/interval.c — INTERVAL values as ISO 8601 durations (uvsql_format_interval,
 * uvsql_parse_interval; the forms are specified in uvsql/value.h).
 *
 * An interval is three independent signed counts (months, days, microseconds), as PostgreSQL
 * keeps them: a month is not a number of days and a day is not 24 hours across a DST change,
 * so no part is ever folded into another. The text form keeps them apart too: years and
 * months come from months, days from days (weeks on input), hours, minutes and seconds from
 * the microseconds.
 *
 * Invariants:
 *  1. Round trip: for every uvsql_interval_t v, parse(format(v)) == v (INT32_MIN months and
 *     days and INT64_MIN microseconds included: magnitudes are computed unsigned).
 *  2. The parser never overflows: each part is accumulated with checked arithmetic and a part
 *     out of range is UVSQL_EDATA.
 */
#include <stdio.h>
#include <string.h>
#include "uvsql/error.h"
#include "uvsql/value.h"

#define US_PER_SEC  UINT64_C(1000000)
#define US_PER_MIN  (60 * US_PER_SEC)
#define US_PER_HOUR (60 * US_PER_MIN)

static uint64_t mag(int64_t v) {
  return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

/* Writes "[-]n<unit>" when n (a magnitude with its sign) is not zero. */
static size_t part(char *p, int neg, uint64_t n, char unit) {
  if (n == 0)
    return 0;
  return (size_t)sprintf(p, "%s%llu%c", neg ? "-" : "", (unsigned long long)n, unit);
}

size_t uvsql_format_interval(const uvsql_interval_t *iv, char *buf, size_t size) {
  char tmp[96];
  size_t n = 0;
  uint64_t m = mag(iv->months), d = mag(iv->days), us = mag(iv->us);
  tmp[n++] = 'P';
  n += part(tmp + n, iv->months < 0, m / 12, 'Y');
  n += part(tmp + n, iv->months < 0, m % 12, 'M');
  n += part(tmp + n, iv->days < 0, d, 'D');
  if (us != 0) {
    int neg = iv->us < 0;
    uint64_t secs = us % US_PER_MIN / US_PER_SEC, frac = us % US_PER_SEC;
    tmp[n++] = 'T';
    n += part(tmp + n, neg, us / US_PER_HOUR, 'H');
    n += part(tmp + n, neg, us % US_PER_HOUR / US_PER_MIN, 'M');
    if (secs || frac) {
      n += (size_t)sprintf(tmp + n, "%s%llu", neg ? "-" : "", (unsigned long long)secs);
      if (frac) {
        int digits = 6;
        while (frac % 10 == 0) {
          frac /= 10;
          digits--;
        }
        n += (size_t)sprintf(tmp + n, ".%0*llu", digits, (unsigned long long)frac);
      }
      tmp[n++] = 'S';
    }
  } else if (n == 1) {
    memcpy(tmp + n, "T0S", 3);
    n += 3;
  }
  tmp[n] = '\0';
  if (size > 0) {
    size_t c = n < size ? n : size - 1;
    memcpy(buf, tmp, c);
    buf[c] = '\0';
  }
  return n;
}

/* One signed integer part: [+-]digits. *frac gets the microseconds of a ".ffffff" fraction
 * when frac is not NULL (the seconds), else a fraction is refused. */
static int number(const char *s, size_t len, size_t *pos, int *neg, uint64_t *out, uint64_t *frac) {
  size_t i = *pos, start;
  uint64_t v = 0;
  *neg = 0;
  if (i < len && (s[i] == '-' || s[i] == '+'))
    *neg = s[i++] == '-';
  start = i;
  for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
    if (v > (UINT64_MAX - 9) / 10)
      return UVSQL_EDATA;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (i == start)
    return UVSQL_EDATA;
  if (frac) {
    *frac = 0;
    if (i < len && (s[i] == '.' || s[i] == ',')) {
      size_t nd = 0;
      for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, nd++) {
        if (nd >= 6)
          return UVSQL_EDATA; /* finer than a microsecond */
        *frac = *frac * 10 + (uint64_t)(s[i] - '0');
      }
      if (nd == 0)
        return UVSQL_EDATA;
      for (; nd < 6; nd++)
        *frac *= 10;
    }
  }
  *pos = i;
  *out = v;
  return 0;
}

/* acc += sign * n * unit, in [lo, hi]; UVSQL_EDATA when it does not fit. */
static int add(int64_t *acc, int neg, uint64_t n, uint64_t unit, int64_t lo, int64_t hi) {
  int64_t x;
  if (n > (uint64_t)INT64_MAX / unit + (neg ? 1 : 0))
    return UVSQL_EDATA;
  uint64_t p = n * unit;
  if (p > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
    return UVSQL_EDATA;
  x = neg ? (int64_t)((uint64_t)0 - p) : (int64_t)p;
  if (__builtin_add_overflow(*acc, x, acc) || *acc < lo || *acc > hi)
    return UVSQL_EDATA;
  return 0;
}

int uvsql_parse_interval(const char *s, size_t len, uvsql_interval_t *out) {
  static const char date_units[] = "YMWD", time_units[] = "HMS";
  size_t i = 0;
  int all_neg = 0, in_time = 0, parts = 0, order = 0;
  int64_t months = 0, days = 0, us = 0;
  if (!s || !out)
    return UVSQL_EDATA;
  if (i < len && (s[i] == '-' || s[i] == '+'))
    all_neg = s[i++] == '-';
  if (i >= len || (s[i] != 'P' && s[i] != 'p'))
    return UVSQL_EDATA;
  i++;
  while (i < len) {
    int neg, rc;
    uint64_t n, frac = 0;
    if (s[i] == 'T' || s[i] == 't') {
      if (in_time || i + 1 >= len)
        return UVSQL_EDATA;
      in_time = 1;
      order = 0;
      i++;
      continue;
    }
    /* only the seconds take a fraction: look ahead for the designator */
    size_t j = i;
    while (j < len && ((s[j] >= '0' && s[j] <= '9') || s[j] == '-' || s[j] == '+' || s[j] == '.' ||
                       s[j] == ','))
      j++;
    int seconds = in_time && j < len && (s[j] == 'S' || s[j] == 's');
    if ((rc = number(s, len, &i, &neg, &n, seconds ? &frac : NULL)) != 0 || i >= len)
      return UVSQL_EDATA;
    char u = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 'a' + 'A') : s[i];
    const char *units = in_time ? time_units : date_units;
    const char *at = strchr(units, u);
    if (!u || !at || (int)(at - units) < order)
      return UVSQL_EDATA; /* unknown designator, or out of order */
    order = (int)(at - units) + 1;
    i++;
    parts++;
    neg ^= all_neg;
    if (!in_time) {
      if (u == 'Y')
        rc = add(&months, neg, n, 12, INT32_MIN, INT32_MAX);
      else if (u == 'M')
        rc = add(&months, neg, n, 1, INT32_MIN, INT32_MAX);
      else if (u == 'W')
        rc = add(&days, neg, n, 7, INT32_MIN, INT32_MAX);
      else
        rc = add(&days, neg, n, 1, INT32_MIN, INT32_MAX);
    } else if (u == 'H') {
      rc = add(&us, neg, n, US_PER_HOUR, INT64_MIN, INT64_MAX);
    } else if (u == 'M') {
      rc = add(&us, neg, n, US_PER_MIN, INT64_MIN, INT64_MAX);
    } else {
      rc = add(&us, neg, n, US_PER_SEC, INT64_MIN, INT64_MAX);
      if (rc == 0)
        rc = add(&us, neg, frac, 1, INT64_MIN, INT64_MAX);
    }
    if (rc)
      return UVSQL_EDATA;
  }
  if (parts == 0)
    return UVSQL_EDATA;
  out->months = (int32_t)months;
  out->days = (int32_t)days;
  out->us = us;
  return 0;
}
