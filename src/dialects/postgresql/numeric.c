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

/* "0000" .. "9999": a base-10000 group's four digits in one lookup (40 KB, built by the
 * compiler: D1 adds the last digit to a prefix of three, D2 the last two, D3 the last three). */
#define D0(a, b, c, d)                                                                             \
  { a, b, c, d }
#define D1(a, b, c)                                                                                \
  D0(a, b, c, '0'), D0(a, b, c, '1'), D0(a, b, c, '2'), D0(a, b, c, '3'), D0(a, b, c, '4'),        \
      D0(a, b, c, '5'), D0(a, b, c, '6'), D0(a, b, c, '7'), D0(a, b, c, '8'), D0(a, b, c, '9')
#define D2(a, b)                                                                                   \
  D1(a, b, '0'), D1(a, b, '1'), D1(a, b, '2'), D1(a, b, '3'), D1(a, b, '4'), D1(a, b, '5'),        \
      D1(a, b, '6'), D1(a, b, '7'), D1(a, b, '8'), D1(a, b, '9')
#define D3(a)                                                                                      \
  D2(a, '0'), D2(a, '1'), D2(a, '2'), D2(a, '3'), D2(a, '4'), D2(a, '5'), D2(a, '6'), D2(a, '7'),  \
      D2(a, '8'), D2(a, '9')
static const char digits4[10000][4] = {D3('0'), D3('1'), D3('2'), D3('3'), D3('4'),
                                       D3('5'), D3('6'), D3('7'), D3('8'), D3('9')};
#undef D0
#undef D1
#undef D2
#undef D3

static inline void put4(char *p, int g) { /* g is 0..9999 */
  memcpy(p, digits4[g], 4);
}

int uvsql__pg_numeric_text(uvsql_result_t *r, const char *s, size_t len, uvsql_value_t *cell) {
  uvsql__pg_textbuf_t b = {NULL, 0, 0};
  return uvsql__pg_numeric_text_buf(r, &b, s, len, cell);
}

int uvsql__pg_numeric_text_buf(uvsql_result_t *r, uvsql__pg_textbuf_t *b, const char *s, size_t len,
                               uvsql_value_t *cell) {
  if (len < 8)
    return UVSQL_EDATA;
  int ndigits = (int16_t)be16(s), weight = (int16_t)be16(s + 2), sign = be16(s + 4),
      dscale = (int16_t)be16(s + 6);
  if (sign != NUMERIC_POS && sign != NUMERIC_NEG) { /* one test on the common path */
    if (sign == NUMERIC_NAN)
      return special(cell, "NaN");
    if (sign == NUMERIC_PINF)
      return special(cell, "Infinity");
    if (sign == NUMERIC_NINF)
      return special(cell, "-Infinity");
    return UVSQL_EDATA;
  }
  if (ndigits < 0 || dscale < 0 || len != 8 + 2 * (size_t)ndigits)
    return UVSQL_EDATA;
  const char *d = s + 8;
  /* sign, the integer groups (at least "0"), '.', dscale digits (+3: the last group's spill),
   * NUL */
  size_t int_groups = weight >= 0 ? (size_t)weight + 1 : 0;
  size_t need = 1 + (int_groups ? int_groups * 4 : 1) + 1 + (size_t)dscale + 4;
  if (b->room < need) {
    size_t n = need > b->chunk ? need : b->chunk;
    if (!(b->p = uvsql__result_alloc(r, n))) {
      b->room = 0;
      return UVSQL_ENOMEM;
    }
    b->room = n;
  }
  char *out = b->p;
  char *p = out;
  if (sign == NUMERIC_NEG && ndigits > 0) /* PostgreSQL sends zero without digits */
    *p++ = '-';
  if (int_groups == 0) {
    *p++ = '0';
  } else {
    int g = ndigits > 0 ? be16(d) : 0; /* the first group without leading zeros */
    if (g > 9999)
      return UVSQL_EDATA;
    /* all four digits from tmp + skip, a fixed-size copy (a variable one is a memcpy call):
     * the bytes past the group's land in this group's room of out and are overwritten or
     * left past the NUL */
    char tmp[8] = {0};
    put4(tmp, g);
    int skip = g >= 1000 ? 0 : g >= 100 ? 1 : g >= 10 ? 2 : 3;
    memcpy(p, tmp + skip, 4);
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
  b->p = p + 1; /* the rest of the room (past the NUL) is the next value's */
  b->room -= (size_t)(b->p - out);
  cell->type = UVSQL_TYPE_NUMERIC;
  cell->u.s.ptr = out;
  cell->u.s.len = (size_t)(p - out);
  return 0;
}
