/* src/dialects/postgresql/numeric.c — PostgreSQL's binary numeric as decimal text.
 *
 * The wire form (numeric_send in PostgreSQL's numeric.c), big-endian int16s:
 *   ndigits, weight, sign, dscale, then ndigits base-10000 digits (each 0..9999)
 * value = sum(digit[i] * 10000^(weight - i)); sign 0x0000 positive, 0x4000 negative, 0xC000 NaN,
 * 0xD000 +Infinity, 0xF000 -Infinity (PostgreSQL 14+); dscale is the number of decimal digits
 * shown after the point. The text is what numeric_out writes for the same value ("-12.50",
 * "0.0001", "NaN", "Infinity"), so a column reads the same in text and binary format.
 *
 * Invariants: the text goes to the result's arena, NUL-terminated; a digit above 9999, a
 * negative dscale or ndigits, or a length that does not match ndigits is UVSQL_EDATA (never a
 * read past the value).
 */
#include <string.h>
#include "pg.h"

#define NUMERIC_POS  0x0000
#define NUMERIC_NEG  0x4000
#define NUMERIC_NAN  0xC000
#define NUMERIC_PINF 0xD000
#define NUMERIC_NINF 0xF000

static inline int be16(const char *p) {
  return (int)((unsigned)(unsigned char)p[0] << 8 | (unsigned char)p[1]);
}

static int special(uvsql_value_t *cell, const char *text) {
  cell->type = UVSQL_TYPE_NUMERIC;
  cell->u.s.ptr = text; /* static: never freed */
  cell->u.s.len = strlen(text);
  return 0;
}

/* "00" .. "99": two digits per lookup (a 4-digit group is two of them). */
static const char pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

static inline void put4(char *p, int g) {
  memcpy(p, pairs + 2 * (g / 100), 2);
  memcpy(p + 2, pairs + 2 * (g % 100), 2);
}

int uvsql__pg_numeric_text(uvsql_result_t *r, const char *s, size_t len, uvsql_value_t *cell) {
  if (len < 8)
    return UVSQL_EDATA;
  int ndigits = (int16_t)be16(s), weight = (int16_t)be16(s + 2), sign = be16(s + 4),
      dscale = (int16_t)be16(s + 6);
  if (sign == NUMERIC_NAN)
    return special(cell, "NaN");
  if (sign == NUMERIC_PINF)
    return special(cell, "Infinity");
  if (sign == NUMERIC_NINF)
    return special(cell, "-Infinity");
  if ((sign != NUMERIC_POS && sign != NUMERIC_NEG) || ndigits < 0 || dscale < 0 ||
      len != 8 + 2 * (size_t)ndigits)
    return UVSQL_EDATA;
  const char *d = s + 8;
  /* sign, the integer groups (at least "0"), '.', dscale digits (+3: the last group's spill),
   * NUL */
  size_t int_groups = weight >= 0 ? (size_t)weight + 1 : 0;
  char *out =
      uvsql__result_alloc(r, 1 + (int_groups ? int_groups * 4 : 1) + 1 + (size_t)dscale + 4);
  if (!out)
    return UVSQL_ENOMEM;
  char *p = out;
  if (sign == NUMERIC_NEG && ndigits > 0) /* PostgreSQL sends zero without digits */
    *p++ = '-';
  if (int_groups == 0) {
    *p++ = '0';
  } else {
    int g = ndigits > 0 ? be16(d) : 0; /* the first group without leading zeros */
    if (g > 9999)
      return UVSQL_EDATA;
    char tmp[4];
    put4(tmp, g);
    int skip = g >= 1000 ? 0 : g >= 100 ? 1 : g >= 10 ? 2 : 3;
    memcpy(p, tmp + skip, (size_t)(4 - skip));
    p += 4 - skip;
    for (int i = 1; i <= weight; i++) {
      g = i < ndigits ? be16(d + 2 * i) : 0;
      if (g > 9999)
        return UVSQL_EDATA;
      put4(p, g);
      p += 4;
    }
  }
  if (dscale > 0) {
    *p++ = '.';
    char *frac = p;
    /* group i (from weight + 1) holds the fraction's digits 4(i - weight - 1) .. +3 */
    for (int i = weight + 1; p - frac < dscale; i++) {
      int g = i >= 0 && i < ndigits ? be16(d + 2 * i) : 0;
      if (g > 9999)
        return UVSQL_EDATA;
      put4(p, g);
      p += 4;
    }
    p = frac + dscale;
  }
  *p = '\0';
  cell->type = UVSQL_TYPE_NUMERIC;
  cell->u.s.ptr = out;
  cell->u.s.len = (size_t)(p - out);
  return 0;
}
