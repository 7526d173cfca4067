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
 *   numeric_out writes, numeric.c).
 *   Every other type -> TEXT, and only in text format: uvsql__pg_binary_known() says no, so a
 *   statement returning one never asks for binary results.
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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
  default:
    return UVSQL_TYPE_TEXT;
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
    return 1;
  default:
    return 0;
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

static int decode_text(uvsql_result_t *r, Oid oid, const char *s, size_t len, uvsql_value_t *cell) {
  char *end;
  switch (oid) {
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
    set_text(cell, s, len);
    return 0;
  }
}

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
  default: /* text, varchar, bpchar, name: the binary form is the text */
    set_text(cell, s, len);
    return 0;
  }
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
  K_BIN_TS, /* timestamp, timestamptz */
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
  default:
    return K_BINARY;
  }
}

/* One cell; the inline cases give exactly what decode_binary gives (invariant 3 included). */
static inline int decode_cell(uvsql_result_t *r, col_kind_t kind, Oid oid, const char *s,
                              size_t len, uvsql_value_t *cell) {
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
      rc = decode_cell(r, cols[c].kind, cols[c].oid, s, len, cell);
      if (rc != 0) {
        if (rc == UVSQL_ENOMEM)
          uvsql__error_set(err, rc, "out of memory reading a result");
        else
          uvsql__error_set(err, rc,
                           "could not read column \"%s\" (type oid %u, %s format) of row %d",
                           PQfname(res, c), (unsigned)cols[c].oid,
                           cols[c].kind == K_TEXT_FORMAT ? "text" : "binary", row + 1);
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
      return uvsql__error_set(err, rc, "could not read column \"%s\" (type oid %u, %s format)",
                              PQfname(res, c), (unsigned)oid, bin ? "binary" : "text");
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
