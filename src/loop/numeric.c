/* src/loop/numeric.c — exact decimals (uvsql_numeric_t, value.h): text both ways, int64 and
 * double, and rescaling. Never through a double on the way in; to_double is the one rounding.
 *
 * Representation: (-1)^negative * coefficient * 10^-scale, the coefficient an unsigned 128-bit
 * integer below 10^38 (coef_hi * 2^64 + coef_lo), scale 0..38; special is NaN or ±Infinity
 * (then every other field is 0). Zero is never negative.
 *
 * Text read (uvsql_numeric_parse), case-insensitive for the words:
 *   [+-] digits [. digits] [e [+-] digits]    "12.50", "-0.001", ".5", "5.", "1e3", "1.5E-3"
 *   NaN, [+-]Infinity, [+-]inf                as PostgreSQL reads them
 * An exponent is applied exactly: "1e3" is 1000 (scale 0), "1.5e-3" is 0.0015 (scale 4);
 * the scale is the number of digits after the point after the exponent (so "12.50" keeps
 * scale 2: trailing zeros are part of a NUMERIC's value as SQL shows it).
 * UVSQL_EDATA when: the text is empty or not of that form (blanks included); the coefficient
 * needs more than 38 digits (leading zeros do not count, trailing ones after the point do:
 * NUMERIC(38, s) is the widest the three backends share); the scale would exceed 38.
 *
 * Text written (uvsql_numeric_format): the canonical form every backend reads and PostgreSQL
 * and MariaDB write: "-" when negative, the integer digits (at least "0"), then "." and exactly
 * `scale` digits when scale > 0: "-0.0010", "1000", "NaN", "Infinity", "-Infinity". At most
 * 41 characters (UVSQL_NUMERIC_TEXT_SIZE with the NUL).
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "uvsql/error.h"
#include "uvsql/value.h"

__extension__ typedef unsigned __int128 u128;

#define MAX_DIGITS 38

static u128 pow10_128(int n) {
  u128 p = 1;
  while (n-- > 0)
    p *= 10;
  return p;
}

static u128 coef_of(const uvsql_numeric_t *n) {
  return (u128)n->coef_hi << 64 | n->coef_lo;
}

static void set_coef(uvsql_numeric_t *n, u128 c) {
  n->coef_hi = (uint64_t)(c >> 64);
  n->coef_lo = (uint64_t)c;
}

static int word(const char *s, size_t len, const char *w) {
  size_t n = strlen(w);
  if (len != n)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
    if (c != w[i])
      return 0;
  }
  return 1;
}

int uvsql_numeric_parse(const char *s, size_t len, uvsql_numeric_t *out) {
  uvsql_numeric_t n;
  memset(&n, 0, sizeof n);
  if (!s || !out || len == 0)
    return UVSQL_EDATA;
  size_t i = 0;
  int neg = 0;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    i = 1;
  }
  if (word(s, len, "nan")) {
    n.special = UVSQL_NUMERIC_NAN;
    *out = n;
    return 0;
  }
  if (word(s + i, len - i, "infinity") || word(s + i, len - i, "inf")) {
    n.special = neg ? UVSQL_NUMERIC_NINF : UVSQL_NUMERIC_PINF;
    *out = n;
    return 0;
  }
  u128 c = 0;
  int ndig = 0, scale = 0, any = 0, point = 0;
  for (; i < len; i++) {
    char ch = s[i];
    if (ch == '.' && !point) {
      point = 1;
      continue;
    }
    if (ch < '0' || ch > '9')
      break;
    any = 1;
    if (point)
      scale++;
    if (scale > 100000)
      return UVSQL_EDATA;    /* the scale check below refuses it anyway; no int overflow */
    if (c == 0 && ch == '0') /* a leading zero: no digit of the coefficient */
      continue;
    if (++ndig > MAX_DIGITS)
      return UVSQL_EDATA;
    c = c * 10 + (u128)(ch - '0');
  }
  if (!any)
    return UVSQL_EDATA;
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    int eneg = 0;
    long e = 0;
    i++;
    if (i < len && (s[i] == '+' || s[i] == '-'))
      eneg = s[i++] == '-';
    if (i == len)
      return UVSQL_EDATA;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
      if ((e = e * 10 + (s[i] - '0')) > 1000)
        return UVSQL_EDATA;
    long sc = (long)scale + (eneg ? e : -e);
    if (sc < 0) { /* "1e3": multiply the coefficient */
      if (c != 0) {
        if (ndig - sc > MAX_DIGITS)
          return UVSQL_EDATA;
        c *= pow10_128((int)-sc);
        ndig += (int)-sc;
      }
      sc = 0;
    }
    scale = (int)sc;
  }
  if (i != len || scale > MAX_DIGITS)
    return UVSQL_EDATA;
  set_coef(&n, c);
  n.scale = scale;
  n.negative = (uint8_t)(neg && c != 0);
  *out = n;
  return 0;
}

size_t uvsql_numeric_format(const uvsql_numeric_t *n, char *buf, size_t size) {
  char tmp[UVSQL_NUMERIC_TEXT_SIZE + 8];
  size_t len = 0;
  if (!n || n->special == UVSQL_NUMERIC_NAN) {
    memcpy(tmp, "NaN", 4);
    len = 3;
  } else if (n->special == UVSQL_NUMERIC_PINF || n->special == UVSQL_NUMERIC_NINF) {
    len = n->special == UVSQL_NUMERIC_NINF ? 9 : 8;
    memcpy(tmp, n->special == UVSQL_NUMERIC_NINF ? "-Infinity" : "Infinity", len + 1);
  } else {
    char dig[48];
    int nd = 0, scale = n->scale < 0 ? 0 : n->scale > MAX_DIGITS ? MAX_DIGITS : n->scale;
    u128 c = coef_of(n);
    do { /* least significant first */
      dig[nd++] = (char)('0' + (int)(c % 10));
      c /= 10;
    } while (c != 0 && nd < 40);
    while (nd <= scale) /* at least one digit before the point */
      dig[nd++] = '0';
    if (n->negative && (n->coef_hi | n->coef_lo))
      tmp[len++] = '-';
    for (int k = nd - 1; k >= 0; k--) {
      tmp[len++] = dig[k];
      if (k == scale && scale > 0)
        tmp[len++] = '.';
    }
    tmp[len] = '\0';
  }
  if (size > 0) {
    size_t c = len < size ? len : size - 1;
    memcpy(buf, tmp, c);
    buf[c] = '\0';
  }
  return len;
}

uvsql_numeric_t uvsql_numeric_from_int64(int64_t v) {
  uvsql_numeric_t n;
  memset(&n, 0, sizeof n);
  n.negative = v < 0;
  n.coef_lo = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  return n;
}

int uvsql_numeric_to_int64(const uvsql_numeric_t *n, int64_t *out) {
  if (!n || n->special || n->scale < 0 || n->scale > MAX_DIGITS)
    return UVSQL_EDATA;
  u128 c = coef_of(n), p = pow10_128(n->scale);
  if (c % p != 0)
    return UVSQL_EDATA; /* a fraction */
  c /= p;
  if (n->negative ? c > (u128)INT64_MAX + 1 : c > (u128)INT64_MAX)
    return UVSQL_EDATA;
  if (out)
    *out = n->negative ? (int64_t)(0 - (uint64_t)c) : (int64_t)(uint64_t)c;
  return 0;
}

double uvsql_numeric_to_double(const uvsql_numeric_t *n) {
  char buf[UVSQL_NUMERIC_TEXT_SIZE];
  if (n && n->special == UVSQL_NUMERIC_PINF)
    return strtod("inf", NULL);
  if (n && n->special == UVSQL_NUMERIC_NINF)
    return strtod("-inf", NULL);
  if (!n || n->special)
    return strtod("nan", NULL);
  /* strtod rounds the decimal text correctly (to nearest), which arithmetic on the
   * coefficient would not do for 38 digits. */
  uvsql_numeric_format(n, buf, sizeof buf);
  return strtod(buf, NULL);
}

int uvsql_numeric_rescale(uvsql_numeric_t *n, int scale) {
  if (!n || scale < 0 || scale > MAX_DIGITS || n->scale < 0 || n->scale > MAX_DIGITS)
    return UVSQL_EDATA;
  if (n->special || scale == n->scale)
    return 0;
  u128 c = coef_of(n);
  if (scale < n->scale) {
    u128 p = pow10_128(n->scale - scale);
    if (c % p != 0)
      return UVSQL_EDATA; /* digits would be lost */
    c /= p;
  } else {
    u128 p = pow10_128(scale - n->scale);
    if (c != 0 && c > (pow10_128(MAX_DIGITS) - 1) / p)
      return UVSQL_EDATA; /* more than 38 digits */
    c *= p;
  }
  set_coef(n, c);
  n->scale = scale;
  return 0;
}

int uvsql_numeric_cmp(const uvsql_numeric_t *a, const uvsql_numeric_t *b) {
  /* NaN sorts above everything and equals itself (PostgreSQL's order); then ±Infinity. */
  int ra = a->special == UVSQL_NUMERIC_NAN    ? 3
           : a->special == UVSQL_NUMERIC_PINF ? 2
           : a->special == UVSQL_NUMERIC_NINF ? -2
                                              : 0;
  int rb = b->special == UVSQL_NUMERIC_NAN    ? 3
           : b->special == UVSQL_NUMERIC_PINF ? 2
           : b->special == UVSQL_NUMERIC_NINF ? -2
                                              : 0;
  if (ra || rb)
    return ra < rb ? -1 : ra > rb;
  u128 ca = coef_of(a), cb = coef_of(b);
  int sa = ca == 0 ? 0 : a->negative ? -1 : 1, sb = cb == 0 ? 0 : b->negative ? -1 : 1;
  if (sa != sb)
    return sa < sb ? -1 : 1;
  if (sa == 0)
    return 0;
  /* Same sign: compare magnitudes at the larger scale, in 256 bits' worth of two steps. */
  int s = a->scale > b->scale ? a->scale : b->scale;
  u128 pa = pow10_128(s - a->scale), pb = pow10_128(s - b->scale);
  /* ca * pa may overflow 128 bits (38 + 38 digits); compare the integer parts first. */
  u128 ia = ca / pow10_128(a->scale), ib = cb / pow10_128(b->scale);
  int mag;
  if (ia != ib) {
    mag = ia < ib ? -1 : 1;
  } else {
    u128 fa = (ca % pow10_128(a->scale)) * pa, fb = (cb % pow10_128(b->scale)) * pb;
    mag = fa < fb ? -1 : fa > fb;
  }
  return sa < 0 ? -mag : mag;
}

int uvsql__value_numeric(const uvsql_value_t *v, uvsql_numeric_t *out) {
  if (v->type == UVSQL_TYPE_NUMERIC && v->u.s.len == UVSQL__NUMERIC_BINARY) {
    memcpy(out, v->u.s.ptr, sizeof *out);
    return 0;
  }
  if (v->type == UVSQL_TYPE_INT64) {
    *out = uvsql_numeric_from_int64(v->u.i64);
    return 0;
  }
  if (v->type == UVSQL_TYPE_NUMERIC || v->type == UVSQL_TYPE_TEXT)
    return uvsql_numeric_parse(v->u.s.ptr, v->u.s.len, out);
  return UVSQL_ETYPE;
}
