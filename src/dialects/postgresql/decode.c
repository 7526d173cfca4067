/* src/dialects/postgresql/decode.c — a PGresult as a uvsql_result_t.
 *
 * Types decoded (OID -> uvsql type), in text and in binary format:
 *   bool -> BOOL; int2, int4, int8, oid -> INT64; float4, float8 -> DOUBLE;
 *   text, varchar, bpchar, name -> TEXT; json, jsonb (binary: version byte 1, then text) ->
 *   JSON; uuid (binary: the 16 bytes; text: 8-4-4-4-12) -> UUID, inline in the cell;
 *   bytea -> BYTES (text: \x hex or the old
 *   escape format); date -> DATE; time -> TIME; timestamp -> TIMESTAMP; timestamptz ->
 *   TIMESTAMPTZ (the binary forms count from 2000-01-01; converted to 1970-01-01);
 *   numeric -> NUMERIC, its canonical text (binary: base-10000 groups turned into the text
 *   numeric_out writes, numeric.c); uuid -> UUID (16 bytes inline); json, jsonb -> JSON;
 *   interval -> INTERVAL (binary: int64 us, int32 days, int32 months; text: IntervalStyle
 *   postgres "1 year 2 mons -3 days -04:05:06.5", or iso_8601); one-dimensional arrays of the
 *   types above -> ARRAY (binary, and text "{1,NULL,\"a,b\"}"; items in the result's arena,
 *   a multi-dimensional array is UVSQL_EDATA saying so).
 *   Enums and every other type -> TEXT, and only in text format: uvsql__pg_binary_known() says
 *   no, so a statement returning one never asks for binary results.
 *
 * Invariants:
 *  1. Text and bytes cells point into the PGresult (libpq NUL-terminates every value), which
 *     becomes the result's backing: no copy, no per-value allocation. Only hex-decoded bytea
 *     goes to the result's arena (a uuid is 16 bytes inside the cell itself).
 *  2. A text value of a temporal type that uvsql cannot represent (BC dates, years past 9999)
 *     is kept as a TEXT cell rather than failing the whole result.
 *  3. A binary value of the wrong length fails the result with UVSQL_EDATA: it means the
 *     format was not what was asked for, and guessing would hand back wrong data.
 *  4. uvsql__pg_decode_append (streaming) is the exception to 1: it copies text and bytes into
 *     the batch's arena, so each single-row PGresult is cleared at once and a batch never
 *     holds PGresults.
 *  5. An ARRAY's items and their text and bytes are always in the result's arena (text
 *     NUL-terminated), never in the PGresult: so a streamed array needs no second copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "pg.h"

uvsql_type_t uvsql__pg_type_of(Oid oid) {
  switch (oid) {
  case UVSQL__PG_BOOL:
    return UVSQL_TYPE_BOOL;
  case UVSQL__PG_INT2:
  case UVSQL__PG_INT4:
  case UVSQL__PG_INT8:
  case UVSQL__PG_OID:
    return UVSQL_TYPE_INT64;
  case UVSQL__PG_FLOAT4:
  case UVSQL__PG_FLOAT8:
    return UVSQL_TYPE_DOUBLE;
  case UVSQL__PG_BYTEA:
    return UVSQL_TYPE_BYTES;
  case UVSQL__PG_DATE:
    return UVSQL_TYPE_DATE;
  case UVSQL__PG_TIME:
    return UVSQL_TYPE_TIME;
  case UVSQL__PG_TIMESTAMP:
    return UVSQL_TYPE_TIMESTAMP;
  case UVSQL__PG_TIMESTAMPTZ:
    return UVSQL_TYPE_TIMESTAMPTZ;
  case UVSQL__PG_NUMERIC:
    return UVSQL_TYPE_NUMERIC;
  case UVSQL__PG_UUID:
    return UVSQL_TYPE_UUID;
  case UVSQL__PG_JSON:
  case UVSQL__PG_JSONB:
    return UVSQL_TYPE_JSON;
  case UVSQL__PG_INTERVAL:
    return UVSQL_TYPE_INTERVAL;
  default:
    return uvsql__pg_array_elem(oid) ? UVSQL_TYPE_ARRAY : UVSQL_TYPE_TEXT;
  }
}

Oid uvsql__pg_array_elem(Oid oid) {
  switch (oid) {
  case UVSQL__PG_BOOL_ARRAY:
    return UVSQL__PG_BOOL;
  case UVSQL__PG_BYTEA_ARRAY:
    return UVSQL__PG_BYTEA;
  case UVSQL__PG_INT2_ARRAY:
    return UVSQL__PG_INT2;
  case UVSQL__PG_INT4_ARRAY:
    return UVSQL__PG_INT4;
  case UVSQL__PG_TEXT_ARRAY:
    return UVSQL__PG_TEXT;
  case UVSQL__PG_BPCHAR_ARRAY:
    return UVSQL__PG_BPCHAR;
  case UVSQL__PG_VARCHAR_ARRAY:
    return UVSQL__PG_VARCHAR;
  case UVSQL__PG_INT8_ARRAY:
    return UVSQL__PG_INT8;
  case UVSQL__PG_FLOAT4_ARRAY:
    return UVSQL__PG_FLOAT4;
  case UVSQL__PG_FLOAT8_ARRAY:
    return UVSQL__PG_FLOAT8;
  case UVSQL__PG_TIMESTAMP_ARRAY:
    return UVSQL__PG_TIMESTAMP;
  case UVSQL__PG_DATE_ARRAY:
    return UVSQL__PG_DATE;
  case UVSQL__PG_TIME_ARRAY:
    return UVSQL__PG_TIME;
  case UVSQL__PG_TIMESTAMPTZ_ARRAY:
    return UVSQL__PG_TIMESTAMPTZ;
  case UVSQL__PG_INTERVAL_ARRAY:
    return UVSQL__PG_INTERVAL;
  case UVSQL__PG_UUID_ARRAY:
    return UVSQL__PG_UUID;
  default:
    return 0;
  }
}

int uvsql__pg_binary_known(Oid oid) {
  switch (oid) {
  case UVSQL__PG_BOOL:
  case UVSQL__PG_INT2:
  case UVSQL__PG_INT4:
  case UVSQL__PG_INT8:
  case UVSQL__PG_OID:
  case UVSQL__PG_FLOAT4:
  case UVSQL__PG_FLOAT8:
  case UVSQL__PG_TEXT:
  case UVSQL__PG_VARCHAR:
  case UVSQL__PG_BPCHAR:
  case UVSQL__PG_NAME:
  case UVSQL__PG_BYTEA:
  case UVSQL__PG_DATE:
  case UVSQL__PG_TIME:
  case UVSQL__PG_TIMESTAMP:
  case UVSQL__PG_TIMESTAMPTZ:
  case UVSQL__PG_JSON:
  case UVSQL__PG_JSONB:
  case UVSQL__PG_UUID:
  case UVSQL__PG_NUMERIC:
  case UVSQL__PG_INTERVAL:
    return 1;
  default:
    return uvsql__pg_array_elem(oid) != 0; /* every element type above is */
  }
}

static inline uint32_t be32(const char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return __builtin_bswap32(v);
#else
  const unsigned char *u = (const unsigned char *)p;
  return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
#endif
}

static inline uint64_t be64(const char *p) {
  return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* A binary timestamp (microseconds from 2000-01-01) as microseconds from 1970-01-01. Infinity
 * stays INT64_MAX / INT64_MIN, as uvsql_parse_temporal gives it; a value whose shift overflows
 * is no timestamp PostgreSQL writes (its range ends in 294276 AD), so it is UVSQL_EDATA. */
static int pg_timestamp_to_unix(int64_t t, int64_t *out) {
  if (t == INT64_MAX || t == INT64_MIN) {
    *out = t;
    return 0;
  }
  return __builtin_add_overflow(t, (int64_t)UVSQL__PG_EPOCH_US, out) ? UVSQL_EDATA : 0;
}

/* bytea in text format: "\x0a1b..." (bytea_output = hex, the default) or the escape format. */
static int bytea_from_text(uvsql_result_t *r, const char *s, size_t len, uvsql_value_t *cell) {
  unsigned char *out;
  size_t o = 0;
  if (len >= 2 && s[0] == '\\' && s[1] == 'x') {
    if ((len - 2) % 2)
      return UVSQL_EDATA;
    out = uvsql__result_alloc(r, (len - 2) / 2 + 1);
    if (!out)
      return UVSQL_ENOMEM;
    for (size_t i = 2; i < len; i += 2) {
      int hi = hexval(s[i]), lo = hexval(s[i + 1]);
      if (hi < 0 || lo < 0)
        return UVSQL_EDATA;
      out[o++] = (unsigned char)(hi << 4 | lo);
    }
  } else {
    out = uvsql__result_alloc(r, len + 1);
    if (!out)
      return UVSQL_ENOMEM;
    for (size_t i = 0; i < len; i++) {
      if (s[i] != '\\') {
        out[o++] = (unsigned char)s[i];
      } else if (i + 1 < len && s[i + 1] == '\\') {
        out[o++] = '\\';
        i++;
      } else if (i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
                 s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
        out[o++] =
            (unsigned char)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 | (s[i + 3] - '0'));
        i += 3;
      } else {
        return UVSQL_EDATA;
      }
    }
  }
  cell->type = UVSQL_TYPE_BYTES;
  cell->u.s.ptr = (const char *)out;
  cell->u.s.len = o;
  return 0;
}

static void set_text(uvsql_value_t *cell, const char *s, size_t len) {
  cell->type = UVSQL_TYPE_TEXT;
  cell->u.s.ptr = s;
  cell->u.s.len = len;
}

static int array_from_text(uvsql_result_t *r, Oid elem, const char *s, size_t len,
                           uvsql_value_t *cell);

/* An interval in IntervalStyle postgres (the default): "1 year 2 mons -3 days -04:05:06.5",
 * "00:00:00", "-1 days +02:03:00"; or iso_8601 ("P1Y2M-3DT-4H-5M-6.5S"). */
static int interval_from_text(const char *s, size_t len, uvsql_interval_t *iv) {
  int64_t months = 0, days = 0, us = 0;
  size_t i = 0;
  if (len && (s[0] == 'P' || (len > 1 && s[0] == '-' && s[1] == 'P')))
    return uvsql_parse_interval(s, len, iv);
  while (i < len) {
    while (i < len && s[i] == ' ')
      i++;
    if (i == len)
      break;
    size_t t = i;
    while (t < len && s[t] != ' ' && s[t] != ':')
      t++;
    if (t < len && s[t] == ':') { /* [+-]H+:MM:SS[.ffffff] */
      int neg = s[i] == '-';
      uint64_t h = 0, m, sec, frac = 0;
      if (s[i] == '-' || s[i] == '+')
        i++;
      if (i == t)
        return UVSQL_EDATA;
      for (; i < t; i++) {
        if (s[i] < '0' || s[i] > '9' || h > UINT64_C(3000000000))
          return UVSQL_EDATA;
        h = h * 10 + (uint64_t)(s[i] - '0');
      }
      if (len - i < 6 || s[i + 3] != ':')
        return UVSQL_EDATA;
      m = (uint64_t)(s[i + 1] - '0') * 10 + (uint64_t)(s[i + 2] - '0');
      sec = (uint64_t)(s[i + 4] - '0') * 10 + (uint64_t)(s[i + 5] - '0');
      if (m > 59 || sec > 59)
        return UVSQL_EDATA;
      i += 6;
      if (i < len && s[i] == '.') {
        int nd = 0;
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
          if (++nd <= 6)
            frac = frac * 10 + (uint64_t)(s[i] - '0');
        for (; nd < 6; nd++)
          frac *= 10;
      }
      uint64_t mag = ((h * 60 + m) * 60 + sec) * 1000000u + frac;
      if (mag > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
        return UVSQL_EDATA;
      us = neg ? (int64_t)((uint64_t)0 - mag) : (int64_t)mag;
      continue;
    }
    char *end;
    long long n = strtoll(s + i, &end, 10);
    if (end == s + i || (size_t)(end - s) >= len || *end != ' ')
      return UVSQL_EDATA;
    i = (size_t)(end - s) + 1;
    size_t w = i;
    while (i < len && s[i] != ' ')
      i++;
    size_t wl = i - w;
    int64_t *acc = NULL, mul = 1;
    if ((wl == 4 || wl == 5) && memcmp(s + w, "year", 4) == 0)
      acc = &months, mul = 12;
    else if ((wl == 3 || wl == 4) && memcmp(s + w, "mon", 3) == 0)
      acc = &months;
    else if ((wl == 3 || wl == 4) && memcmp(s + w, "day", 3) == 0)
      acc = &days;
    if (!acc || __builtin_mul_overflow((int64_t)n, mul, &n) ||
        __builtin_add_overflow(*acc, (int64_t)n, acc) || *acc < INT32_MIN || *acc > INT32_MAX)
      return UVSQL_EDATA;
  }
  iv->months = (int32_t)months;
  iv->days = (int32_t)days;
  iv->us = us;
  return 0;
}

static int decode_text(uvsql_result_t *r, Oid oid, const char *s, size_t len, uvsql_value_t *cell) {
  char *end;
  switch (oid) {
  case UVSQL__PG_INTERVAL:
    if (interval_from_text(s, len, &cell->u.iv) == 0)
      cell->type = UVSQL_TYPE_INTERVAL;
    else
      set_text(cell, s, len); /* another IntervalStyle (sql_standard): as the server wrote it */
    return 0;
  case UVSQL__PG_BOOL:
    cell->type = UVSQL_TYPE_BOOL;
    cell->u.b = s[0] == 't';
    return 0;
  case UVSQL__PG_INT2:
  case UVSQL__PG_INT4:
  case UVSQL__PG_INT8:
  case UVSQL__PG_OID:
    cell->type = UVSQL_TYPE_INT64;
    cell->u.i64 = strtoll(s, &end, 10);
    return end == s + len && len ? 0 : UVSQL_EDATA;
  case UVSQL__PG_FLOAT4:
    /* Read as the float it is, as the binary format gives it: "1.1" is 1.1f, not 1.1. */
    cell->type = UVSQL_TYPE_DOUBLE;
    cell->u.f64 = strtof(s, &end);
    return end == s + len && len ? 0 : UVSQL_EDATA;
  case UVSQL__PG_FLOAT8:
    /* strtod reads "NaN", "Infinity" and "-Infinity" as PostgreSQL writes them. */
    cell->type = UVSQL_TYPE_DOUBLE;
    cell->u.f64 = strtod(s, &end);
    return end == s + len && len ? 0 : UVSQL_EDATA;
  case UVSQL__PG_BYTEA:
    return bytea_from_text(r, s, len, cell);
  case UVSQL__PG_NUMERIC: /* numeric_out's text is canonical already */
    set_text(cell, s, len);
    cell->type = UVSQL_TYPE_NUMERIC;
    return 0;
  case UVSQL__PG_DATE:
  case UVSQL__PG_TIME:
  case UVSQL__PG_TIMESTAMP:
  case UVSQL__PG_TIMESTAMPTZ: {
    uvsql_type_t t = uvsql__pg_type_of(oid);
    if (uvsql_parse_temporal(t, s, len, &cell->u.i64) == 0)
      cell->type = t;
    else
      set_text(cell, s, len); /* invariant 2 */
    return 0;
  }
  case UVSQL__PG_UUID: {
    uvsql_uuid_t id;
    if (uvsql_uuid_parse(s, len, &id) != 0)
      return UVSQL_EDATA;
    cell->type = UVSQL_TYPE_UUID;
    memcpy(cell->u.uuid, id.b, 16);
    return 0;
  }
  case UVSQL__PG_JSON:
  case UVSQL__PG_JSONB:
    set_text(cell, s, len);
    cell->type = UVSQL_TYPE_JSON;
    return 0;
  default:
    if (uvsql__pg_array_elem(oid))
      return array_from_text(r, uvsql__pg_array_elem(oid), s, len, cell);
    set_text(cell, s, len);
    return 0;
  }
}

static int array_from_binary(uvsql_result_t *r, const char *s, size_t len, uvsql_value_t *cell);

static int decode_binary(uvsql_result_t *r, Oid oid, const char *s, size_t len,
                         uvsql_value_t *cell) {
  switch (oid) {
  case UVSQL__PG_BOOL:
    if (len != 1)
      return UVSQL_EDATA;
    cell->type = UVSQL_TYPE_BOOL;
    cell->u.b = s[0] != 0;
    return 0;
  case UVSQL__PG_INT2:
    if (len != 2)
      return UVSQL_EDATA;
    cell->type = UVSQL_TYPE_INT64;
    cell->u.i64 = (int16_t)(uint16_t)((unsigned char)s[0] << 8 | (unsigned char)s[1]);
    return 0;
  case UVSQL__PG_INT4:
    if (len != 4)
      return UVSQL_EDATA;
    cell->type = UVSQL_TYPE_INT64;
    cell->u.i64 = (int32_t)be32(s);
    return 0;
  case UVSQL__PG_OID:
    if (len != 4)
      return UVSQL_EDATA;
    cell->type = UVSQL_TYPE_INT64;
    cell->u.i64 = be32(s);
    return 0;
  case UVSQL__PG_INT8:
  case UVSQL__PG_TIME:
    if (len != 8)
      return UVSQL_EDATA;
    cell->type = uvsql__pg_type_of(oid);
    cell->u.i64 = (int64_t)be64(s);
    return 0;
  case UVSQL__PG_FLOAT4: {
    uint32_t bits;
    float f;
    if (len != 4)
      return UVSQL_EDATA;
    bits = be32(s);
    memcpy(&f, &bits, 4);
    cell->type = UVSQL_TYPE_DOUBLE;
    cell->u.f64 = f;
    return 0;
  }
  case UVSQL__PG_FLOAT8: {
    uint64_t bits;
    if (len != 8)
      return UVSQL_EDATA;
    bits = be64(s);
    cell->type = UVSQL_TYPE_DOUBLE;
    memcpy(&cell->u.f64, &bits, 8);
    return 0;
  }
  case UVSQL__PG_BYTEA:
    cell->type = UVSQL_TYPE_BYTES;
    cell->u.s.ptr = s;
    cell->u.s.len = len;
    return 0;
  case UVSQL__PG_DATE: {
    int32_t d;
    if (len != 4)
      return UVSQL_EDATA;
    d = (int32_t)be32(s);
    cell->type = UVSQL_TYPE_DATE;
    cell->u.i64 = d == INT32_MAX   ? INT64_MAX
                  : d == INT32_MIN ? INT64_MIN
                                   : (int64_t)d + UVSQL__PG_EPOCH_DAYS;
    return 0;
  }
  case UVSQL__PG_TIMESTAMP:
  case UVSQL__PG_TIMESTAMPTZ: {
    int64_t t;
    if (len != 8)
      return UVSQL_EDATA;
    if (pg_timestamp_to_unix((int64_t)be64(s), &t) != 0)
      return UVSQL_EDATA;
    cell->type = uvsql__pg_type_of(oid);
    cell->u.i64 = t;
    return 0;
  }
  case UVSQL__PG_NUMERIC:
    return uvsql__pg_numeric_text(r, s, len, cell);
  case UVSQL__PG_JSONB:
    if (len < 1 || s[0] != 1)
      return UVSQL_EDATA;
    set_text(cell, s + 1, len - 1);
    cell->type = UVSQL_TYPE_JSON;
    return 0;
  case UVSQL__PG_JSON: /* the binary form is the text */
    set_text(cell, s, len);
    cell->type = UVSQL_TYPE_JSON;
    return 0;
  case UVSQL__PG_UUID:
    if (len != 16)
      return UVSQL_EDATA;
    cell->type = UVSQL_TYPE_UUID;
    memcpy(cell->u.uuid, s, 16);
    return 0;
  case UVSQL__PG_INTERVAL:
    if (len != 16)
      return UVSQL_EDATA;
    cell->type = UVSQL_TYPE_INTERVAL;
    cell->u.iv.us = (int64_t)be64(s);
    cell->u.iv.days = (int32_t)be32(s + 8);
    cell->u.iv.months = (int32_t)be32(s + 12);
    return 0;
  default: /* text, varchar, bpchar, name: the binary form is the text */
    if (uvsql__pg_array_elem(oid))
      return array_from_binary(r, s, len, cell);
    set_text(cell, s, len);
    return 0;
  }
}

/* ------------------------------------------------------------------ arrays (invariant 5) */

/* Moves an item's text or bytes that still points into the server's buffer to the arena. */
static int own_item(uvsql_result_t *r, uvsql_value_t *item, const char *s, size_t len) {
  if ((item->type == UVSQL_TYPE_TEXT || item->type == UVSQL_TYPE_BYTES) && item->u.s.ptr >= s &&
      item->u.s.ptr <= s + len) {
    char *copy = uvsql__result_strndup(r, item->u.s.ptr, item->u.s.len);
    if (!copy)
      return UVSQL_ENOMEM;
    item->u.s.ptr = copy;
  }
  return 0;
}

static uvsql_value_t *new_items(uvsql_result_t *r, size_t n) {
  uvsql_value_t *items = uvsql__result_alloc(r, (n ? n : 1) * sizeof *items);
  if (items)
    memset(items, 0, (n ? n : 1) * sizeof *items);
  return items;
}

/* int32 ndim, int32 flags, Oid elem, ndim x (int32 size, int32 lbound), then per element an
 * int32 length (-1: NULL) and the element's binary form. */
static int array_from_binary(uvsql_result_t *r, const char *s, size_t len, uvsql_value_t *cell) {
  if (len < 12)
    return UVSQL_EDATA;
  int32_t ndim = (int32_t)be32(s);
  Oid elem = be32(s + 8);
  uint32_t n = 0;
  if (ndim < 0 || ndim > 1 || elem == 0 || uvsql__pg_array_elem(elem) != 0)
    return UVSQL_EDATA; /* why_failed() says "multi-dimensional" for ndim > 1 */
  if (ndim == 1) {
    if (len < 20)
      return UVSQL_EDATA;
    n = be32(s + 12);
    if (n > (len - 20) / 4)
      return UVSQL_EDATA;
  }
  uvsql_value_t *items = new_items(r, n);
  if (!items)
    return UVSQL_ENOMEM;
  size_t at = ndim ? 20 : 12;
  for (uint32_t k = 0; k < n; k++) {
    if (len - at < 4)
      return UVSQL_EDATA;
    int32_t el = (int32_t)be32(s + at);
    at += 4;
    if (el == -1)
      continue; /* NULL: items are zeroed */
    if (el < 0 || (size_t)el > len - at)
      return UVSQL_EDATA;
    int rc = decode_binary(r, elem, s + at, (size_t)el, &items[k]);
    if (rc == 0)
      rc = own_item(r, &items[k], s, len);
    if (rc)
      return rc;
    at += (size_t)el;
  }
  if (at != len)
    return UVSQL_EDATA;
  cell->type = UVSQL_TYPE_ARRAY;
  cell->u.arr.items = items;
  cell->u.arr.n = n;
  cell->u.arr.elem = (uint32_t)uvsql__pg_type_of(elem);
  return 0;
}

/* "{1,NULL,\"a,b\",\"x\\\"y\"}": elements separated by ',', quoted with '"' (backslash escapes
 * inside) when they hold a delimiter, quote, backslash, blank or the word NULL; an unquoted
 * NULL is SQL NULL. A "[lo:hi]=" prefix (lower bound not 1) is skipped. */
static int array_from_text(uvsql_result_t *r, Oid elem, const char *s, size_t len,
                           uvsql_value_t *cell) {
  size_t i = 0, n = 0, cap = 0;
  uvsql_value_t *items = NULL;
  if (len && s[0] == '[') {
    while (i < len && s[i] != '=')
      i++;
    i++;
  }
  if (i >= len || s[i] != '{' || s[len - 1] != '}')
    return UVSQL_EDATA;
  if (i + 1 < len && s[i + 1] == '{')
    return UVSQL_EDATA;                        /* multi-dimensional */
  char *buf = uvsql__result_alloc(r, len + 1); /* every element's unescaped text, NUL after each */
  if (!buf)
    return UVSQL_ENOMEM;
  size_t o = 0;
  i++;
  int empty = i == len - 1;
  while (!empty && i < len - 1) {
    size_t start = o;
    int quoted = s[i] == '"', is_null = 0;
    if (quoted) {
      for (i++; i < len - 1 && s[i] != '"'; i++) {
        if (s[i] == '\\' && i + 1 < len - 1)
          i++;
        buf[o++] = s[i];
      }
      if (i >= len - 1)
        return UVSQL_EDATA;
      i++; /* the closing quote */
    } else {
      if (s[i] == '{')
        return UVSQL_EDATA;
      for (; i < len - 1 && s[i] != ','; i++)
        buf[o++] = s[i];
      is_null = o - start == 4 && strncasecmp(buf + start, "NULL", 4) == 0;
    }
    buf[o++] = '\0';
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 8;
      uvsql_value_t *grown = new_items(r, ncap);
      if (!grown)
        return UVSQL_ENOMEM;
      if (n)
        memcpy(grown, items, n * sizeof *items);
      items = grown;
      cap = ncap;
    }
    if (!is_null) {
      int rc = decode_text(r, elem, buf + start, o - 1 - start, &items[n]);
      if (rc)
        return rc;
    }
    n++;
    if (i < len - 1) {
      if (s[i] != ',')
        return UVSQL_EDATA;
      i++;
    }
  }
  cell->type = UVSQL_TYPE_ARRAY;
  cell->u.arr.items = n ? items : new_items(r, 0);
  cell->u.arr.n = (uint32_t)n;
  cell->u.arr.elem = (uint32_t)uvsql__pg_type_of(elem);
  return cell->u.arr.items ? 0 : UVSQL_ENOMEM;
}

/* Why a cell could not be read, for the messages below: "" or ": ..." (what a user can do). */
static const char *why_failed(Oid oid, const char *s, size_t len, int binary) {
  if (!uvsql__pg_array_elem(oid))
    return "";
  if ((binary && len >= 4 && (int32_t)be32(s) > 1) ||
      (!binary && ((len > 1 && s[0] == '{' && s[1] == '{') || (len && s[0] == '['))))
    return ": a multi-dimensional array; uvsql reads one-dimensional arrays only (unnest it, or "
           "select one slice: col[1])";
  return "";
}

static void clear_backing(void *res) {
  PQclear(res);
}

/* How the hot loop of uvsql__pg_decode reads a column: the common binary types inline, every
 * other column through decode_binary / decode_text. */
typedef enum {
  K_TEXT_FORMAT = 0, /* decode_text */
  K_BINARY,          /* decode_binary */
  K_BIN_STR,         /* text, varchar, bpchar, name: the bytes are the text */
  K_BIN_INT8,
  K_BIN_INT4,
  K_BIN_FLOAT8,
  K_BIN_BOOL,
  K_BIN_TS,      /* timestamp, timestamptz */
  K_BIN_NUMERIC, /* numeric: its text (numeric.c) */
  K_BIN_UUID,    /* uuid: the 16 bytes inline */
} col_kind_t;

static col_kind_t kind_of(Oid oid, int binary) {
  if (!binary)
    return K_TEXT_FORMAT;
  switch (oid) {
  case UVSQL__PG_TEXT:
  case UVSQL__PG_VARCHAR:
  case UVSQL__PG_BPCHAR:
  case UVSQL__PG_NAME:
    return K_BIN_STR;
  case UVSQL__PG_INT8:
    return K_BIN_INT8;
  case UVSQL__PG_INT4:
    return K_BIN_INT4;
  case UVSQL__PG_FLOAT8:
    return K_BIN_FLOAT8;
  case UVSQL__PG_BOOL:
    return K_BIN_BOOL;
  case UVSQL__PG_TIMESTAMP:
  case UVSQL__PG_TIMESTAMPTZ:
    return K_BIN_TS;
  case UVSQL__PG_NUMERIC:
    return K_BIN_NUMERIC;
  case UVSQL__PG_UUID:
    return K_BIN_UUID;
  default:
    return K_BINARY;
  }
}

/* One cell; the inline cases give exactly what decode_binary gives (invariant 3 included). */
static inline int decode_cell(uvsql_result_t *r, uvsql__pg_textbuf_t *nb, col_kind_t kind, Oid oid,
                              const char *s, size_t len, uvsql_value_t *cell) {
  switch (kind) {
  case K_BIN_STR:
    *cell = (uvsql_value_t){.type = UVSQL_TYPE_TEXT, .u.s = {s, len}};
    return 0;
  case K_BIN_INT8:
    if (len != 8)
      return UVSQL_EDATA;
    *cell = (uvsql_value_t){.type = UVSQL_TYPE_INT64, .u.i64 = (int64_t)be64(s)};
    return 0;
  case K_BIN_INT4:
    if (len != 4)
      return UVSQL_EDATA;
    *cell = (uvsql_value_t){.type = UVSQL_TYPE_INT64, .u.i64 = (int32_t)be32(s)};
    return 0;
  case K_BIN_FLOAT8: {
    uint64_t bits;
    if (len != 8)
      return UVSQL_EDATA;
    bits = be64(s);
    *cell = (uvsql_value_t){.type = UVSQL_TYPE_DOUBLE};
    memcpy(&cell->u.f64, &bits, 8);
    return 0;
  }
  case K_BIN_BOOL:
    if (len != 1)
      return UVSQL_EDATA;
    *cell = (uvsql_value_t){.type = UVSQL_TYPE_BOOL, .u.b = s[0] != 0};
    return 0;
  case K_BIN_TS: {
    int64_t t;
    if (len != 8)
      return UVSQL_EDATA;
    if (pg_timestamp_to_unix((int64_t)be64(s), &t) != 0)
      return UVSQL_EDATA;
    *cell = (uvsql_value_t){.type = oid == UVSQL__PG_TIMESTAMP ? UVSQL_TYPE_TIMESTAMP
                                                               : UVSQL_TYPE_TIMESTAMPTZ,
                            .u.i64 = t};
    return 0;
  }
  case K_BIN_NUMERIC:
    return uvsql__pg_numeric_text_buf(r, nb, s, len, cell); /* sets every field read back */
  case K_BIN_UUID:
    if (len != 16)
      return UVSQL_EDATA;
    cell->type = UVSQL_TYPE_UUID;
    memcpy(cell->u.uuid, s, 16);
    return 0;
  case K_BINARY:
    *cell = (uvsql_value_t){.type = UVSQL_TYPE_NULL};
    return decode_binary(r, oid, s, len, cell);
  default:
    *cell = (uvsql_value_t){.type = UVSQL_TYPE_NULL};
    return decode_text(r, oid, s, len, cell);
  }
}

int uvsql__pg_decode(PGresult *res, uvsql_result_t **out, uvsql_error_t *err) {
  int nf = PQnfields(res), nt = PQntuples(res), rc = 0;
  const char *ct;
  uvsql_result_t *r = uvsql__result_new((size_t)nf);
  /* Column facts once, not per cell: this loop is the hot path of every large result. */
  struct {
    Oid oid;
    col_kind_t kind;
  } cols_small[32], *cols = cols_small;

  if (!r) {
    PQclear(res);
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory reading a result");
  }
  if (nf > 32 && !(cols = malloc((size_t)nf * sizeof *cols)))
    rc = UVSQL_ENOMEM;
  for (int c = 0; c < nf && rc == 0; c++) {
    cols[c].oid = PQftype(res, c);
    cols[c].kind = kind_of(cols[c].oid, PQfformat(res, c) == 1);
    rc = uvsql__result_set_column(r, (size_t)c, PQfname(res, c), uvsql__pg_type_of(cols[c].oid));
  }
  uvsql_value_t *cell = NULL;
  uvsql__pg_textbuf_t nb = {NULL, 0, 1024}; /* numeric texts: one arena call per 1 KB */
  if (rc == 0 && nf > 0 && nt > 0 && !(cell = uvsql__result_add_rows(r, (size_t)nt)))
    rc = UVSQL_ENOMEM;
  for (int row = 0; row < nt && rc == 0 && nf > 0; row++) {
    for (int c = 0; c < nf; c++, cell++) {
      /* a value with bytes is not NULL: PQgetisnull only for the empty ones */
      size_t len = (size_t)PQgetlength(res, row, c);
      const char *s = PQgetvalue(res, row, c);
      if (len == 0 && PQgetisnull(res, row, c)) {
        *cell = (uvsql_value_t){.type = UVSQL_TYPE_NULL};
        continue;
      }
      rc = decode_cell(r, &nb, cols[c].kind, cols[c].oid, s, len, cell);
      if (rc != 0) {
        if (rc == UVSQL_ENOMEM)
          uvsql__error_set(err, rc, "out of memory reading a result");
        else
          uvsql__error_set(err, rc,
                           "could not read column \"%s\" (type oid %u, %s format) of row %d%s",
                           PQfname(res, c), (unsigned)cols[c].oid,
                           cols[c].kind == K_TEXT_FORMAT ? "text" : "binary", row + 1,
                           why_failed(cols[c].oid, s, len, cols[c].kind != K_TEXT_FORMAT));
        /* the cells not filled yet must not be read by anybody: the result is freed below */
        break;
      }
    }
  }
  if (cols != cols_small)
    free(cols);
  if (rc != 0) {
    if (rc == UVSQL_ENOMEM)
      uvsql__error_set(err, rc, "out of memory reading a result");
    uvsql_result_free(r);
    PQclear(res);
    return rc;
  }
  ct = PQcmdTuples(res);
  uvsql__result_set_rows_affected(r, ct && *ct ? strtoll(ct, NULL, 10) : -1);
  if (nt > 0 && nf > 0)
    uvsql__result_set_backing(r, res, clear_backing);
  else
    PQclear(res);
  *out = r;
  return 0;
}

int uvsql__pg_decode_value(uvsql_result_t *r, Oid oid, int binary, const char *s, size_t len,
                           uvsql_value_t *cell) {
  int rc = binary ? decode_binary(r, oid, s, len, cell) : decode_text(r, oid, s, len, cell);
  if (rc == 0 && (cell->type == UVSQL_TYPE_TEXT || cell->type == UVSQL_TYPE_BYTES) &&
      cell->u.s.ptr >= s && cell->u.s.ptr <= s + len) {
    char *copy = uvsql__result_strndup(r, cell->u.s.ptr, cell->u.s.len);
    if (!copy)
      return UVSQL_ENOMEM;
    cell->u.s.ptr = copy;
  }
  return rc;
}

int uvsql__pg_decode_append(PGresult *res, int row, uvsql_result_t **batch, size_t cap,
                            uvsql_error_t *err) {
  int nf = PQnfields(res), rc = 0;
  uvsql_result_t *r = *batch;
  if (!r) {
    r = uvsql__result_new((size_t)nf);
    for (int c = 0; r && c < nf && rc == 0; c++)
      rc = uvsql__result_set_column(r, (size_t)c, PQfname(res, c),
                                    uvsql__pg_type_of(PQftype(res, c)));
    if (!r || rc != 0 || (nf > 0 && uvsql__result_reserve(r, cap) != 0)) {
      uvsql_result_free(r);
      return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory reading a result");
    }
    *batch = r;
  }
  if ((int)uvsql_result_ncols(r) != nf)
    return uvsql__error_set(err, UVSQL_EINTERNAL,
                            "a streamed row has %d columns where the stream had %zu", nf,
                            uvsql_result_ncols(r));
  if (nf == 0)
    return 0;
  uvsql_value_t *cells = uvsql__result_add_row(r);
  if (!cells)
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory reading a result");
  for (int c = 0; c < nf; c++) {
    if (PQgetisnull(res, row, c))
      continue;
    const char *s = PQgetvalue(res, row, c);
    size_t len = (size_t)PQgetlength(res, row, c);
    Oid oid = PQftype(res, c);
    int bin = PQfformat(res, c) == 1;
    rc = bin ? decode_binary(r, oid, s, len, &cells[c]) : decode_text(r, oid, s, len, &cells[c]);
    if (rc == UVSQL_ENOMEM)
      return uvsql__error_set(err, rc, "out of memory reading a result");
    if (rc != 0)
      return uvsql__error_set(err, rc, "could not read column \"%s\" (type oid %u, %s format)%s",
                              PQfname(res, c), (unsigned)oid, bin ? "binary" : "text",
                              why_failed(oid, s, len, bin));
    /* invariant 4: what still points into res moves to the batch */
    if (uvsql__type_is_str(cells[c].type) && cells[c].u.s.ptr >= s && cells[c].u.s.ptr <= s + len) {
      char *copy = uvsql__result_strndup(r, cells[c].u.s.ptr, cells[c].u.s.len);
      if (!copy)
        return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory reading a result");
      cells[c].u.s.ptr = copy;
    }
  }
  return 0;
}
