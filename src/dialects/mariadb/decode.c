/* src/dialects/mariadb/decode.c — rows from the server as a uvsql_result_t.
 *
 * Column types:
 *   TINYINT(1)                         BOOL
 *   other integers, YEAR               INT64 (BIGINT UNSIGNED above INT64_MAX: a TEXT cell)
 *   FLOAT, DOUBLE                      DOUBLE
 *   DECIMAL, NEWDECIMAL                NUMERIC (the server's exact text: "-12.50")
 *   DATE / TIME / DATETIME, TIMESTAMP  DATE / TIME / TIMESTAMP (µs)
 *   binary strings and BLOBs (charsetnr 63), BIT, GEOMETRY     BYTES
 *   UUID (10.7+)                       UUID (16 bytes in the cell, parsed from the text)
 *   JSON                               JSON (the LONGTEXT the server keeps)
 *   other strings, ENUM, SET           TEXT
 * UUID and JSON columns are told apart by the extended metadata MariaDB 10.5+ sends to
 * Connector/C 3.3 (mariadb_field_attr: data type name "uuid", format name "json"); a server or
 * client without it gives them as TEXT.
 *   NULL                               a NULL cell
 * A zero date ("0000-00-00", allowed by lax sql_modes) has no place on the calendar: it is
 * kept as a TEXT cell holding the server's text.
 *
 * Invariants: every text and bytes cell is copied into the result's arena and NUL-terminated;
 * Connector/C's buffers are never referenced after decoding. Binary-protocol rows are decoded
 * from the wire format inside mysql_stmt_fetch (the row reader, below: no bound buffers, no
 * stored copy); text-protocol results were stored with mysql_store_result before. Decoding
 * does no I/O.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "mariadb.h"

/* The extended metadata's name for f (attr), compared with name. */
static int attr_is(const MYSQL_FIELD *f, enum mariadb_field_attr_t attr, const char *name) {
  MARIADB_CONST_STRING a = {NULL, 0};
  size_t n = strlen(name);
  return mariadb_field_attr(&a, f, attr) == 0 && a.str && a.length == n &&
         strncasecmp(a.str, name, n) == 0;
}

uvsql_type_t uvsql__my_field_type(const MYSQL_FIELD *f) {
  switch (f->type) {
  case MYSQL_TYPE_TINY:
    return f->length == 1 ? UVSQL_TYPE_BOOL : UVSQL_TYPE_INT64;
  case MYSQL_TYPE_SHORT:
  case MYSQL_TYPE_LONG:
  case MYSQL_TYPE_INT24:
  case MYSQL_TYPE_LONGLONG:
  case MYSQL_TYPE_YEAR:
    return UVSQL_TYPE_INT64;
  case MYSQL_TYPE_FLOAT:
  case MYSQL_TYPE_DOUBLE:
    return UVSQL_TYPE_DOUBLE;
  case MYSQL_TYPE_NULL:
    return UVSQL_TYPE_NULL;
  case MYSQL_TYPE_DECIMAL:
  case MYSQL_TYPE_NEWDECIMAL:
    return UVSQL_TYPE_NUMERIC;
  case MYSQL_TYPE_DATE:
  case MYSQL_TYPE_NEWDATE:
    return UVSQL_TYPE_DATE;
  case MYSQL_TYPE_TIME:
    return UVSQL_TYPE_TIME;
  case MYSQL_TYPE_DATETIME:
  case MYSQL_TYPE_TIMESTAMP:
    return UVSQL_TYPE_TIMESTAMP;
  case MYSQL_TYPE_BIT:
  case MYSQL_TYPE_GEOMETRY:
    return UVSQL_TYPE_BYTES;
  case MYSQL_TYPE_TINY_BLOB:
  case MYSQL_TYPE_MEDIUM_BLOB:
  case MYSQL_TYPE_LONG_BLOB:
  case MYSQL_TYPE_BLOB:
  case MYSQL_TYPE_VAR_STRING:
  case MYSQL_TYPE_STRING:
  case MYSQL_TYPE_VARCHAR:
    if (attr_is(f, MARIADB_FIELD_ATTR_DATA_TYPE_NAME, "uuid"))
      return UVSQL_TYPE_UUID;
    if (attr_is(f, MARIADB_FIELD_ATTR_FORMAT_NAME, "json"))
      return UVSQL_TYPE_JSON;
    return f->charsetnr == 63 ? UVSQL_TYPE_BYTES : UVSQL_TYPE_TEXT;
  default: /* JSON, ENUM, SET */
    return UVSQL_TYPE_TEXT;
  }
}

static int set_columns(uvsql_result_t *r, const MYSQL_FIELD *fields, unsigned n,
                       uvsql_type_t *types) {
  for (unsigned i = 0; i < n; i++) {
    types[i] = uvsql__my_field_type(&fields[i]);
    if (uvsql__result_set_column(r, i, fields[i].name, types[i]) != 0)
      return UVSQL_ENOMEM;
  }
  return 0;
}

static int set_bytes(uvsql_result_t *r, uvsql_value_t *cell, uvsql_type_t type, const char *p,
                     size_t len) {
  char *copy = uvsql__result_strndup(r, p, len);
  if (!copy)
    return UVSQL_ENOMEM;
  cell->type = type == UVSQL_TYPE_BYTES || type == UVSQL_TYPE_NUMERIC || type == UVSQL_TYPE_JSON
                   ? type
                   : UVSQL_TYPE_TEXT;
  cell->u.s.ptr = copy;
  cell->u.s.len = len;
  return 0;
}

/* A UUID column's text as a UUID cell: the server writes the canonical form. */
static int set_uuid(uvsql_value_t *cell, const char *s, size_t len) {
  uvsql_uuid_t id;
  if (uvsql_uuid_parse(s, len, &id) != 0)
    return UVSQL_EDATA;
  cell->type = UVSQL_TYPE_UUID;
  memcpy(cell->u.uuid, id.b, 16);
  return 0;
}

static int is_zero_date(const MYSQL_TIME *t) {
  return t->year == 0 && t->month == 0 && t->day == 0;
}

/* ------------------------------------------------------------------ binary protocol */

/* The binary protocol's rows are decoded straight from Connector/C's network buffer: the
 * statement's result is never bound (mysql_stmt_bind_result), so mysql_stmt_fetch hands each
 * column's wire value to on_column (STMT_ATTR_CB_RESULT), which decodes it once into the
 * result being filled; strings go into that result's arena. Rows are fetched as they arrive
 * (exec.c / stream.c: mysql_stmt_fetch_start/_cont), never stored and copied first. */
struct uvsql__my_rows_s {
  MYSQL_RES *meta;
  MYSQL_FIELD *fields;
  unsigned n;
  uvsql_type_t *types;
  unsigned char *fast;  /* per column: FAST_* when its values take a short path, else 0 */
  uvsql_result_t *into; /* where the next row goes; NULL: fetched rows are dropped */
  uvsql_value_t *row;   /* the row being filled, from its first column to its last */
  int rc;               /* the first decoding error of the row (0: none), at column rc_col */
  unsigned rc_col;
};

static uint64_t le(const unsigned char *p, int n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  uint64_t v = 0;
  memcpy(&v, p, (size_t)n); /* the wire is little-endian too */
  return v;
#else
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
#endif
}

/* The columns every large result is made of, decoded without the general switches. */
enum { FAST_NONE, FAST_INT64, FAST_BOOL, FAST_DOUBLE, FAST_TEXT, FAST_DATETIME };

static unsigned char fast_kind(const MYSQL_FIELD *f, uvsql_type_t type) {
  if (f->type == MYSQL_TYPE_LONGLONG && type == UVSQL_TYPE_INT64 && !(f->flags & UNSIGNED_FLAG))
    return FAST_INT64;
  if (f->type == MYSQL_TYPE_TINY && type == UVSQL_TYPE_BOOL)
    return FAST_BOOL;
  if (f->type == MYSQL_TYPE_DOUBLE)
    return FAST_DOUBLE;
  if ((f->type == MYSQL_TYPE_DATETIME || f->type == MYSQL_TYPE_TIMESTAMP) &&
      type == UVSQL_TYPE_TIMESTAMP)
    return FAST_DATETIME;
  if ((f->type == MYSQL_TYPE_VAR_STRING || f->type == MYSQL_TYPE_STRING ||
       f->type == MYSQL_TYPE_VARCHAR || f->type == MYSQL_TYPE_BLOB) &&
      (type == UVSQL_TYPE_TEXT || type == UVSQL_TYPE_BYTES || type == UVSQL_TYPE_JSON))
    return FAST_TEXT;
  return FAST_NONE;
}

/* The value at *p of a column of wire type ft: its bytes (after any length prefix) and their
 * count in *len; *p moves past it. */
static const unsigned char *wire_value(enum enum_field_types ft, unsigned char **p, size_t *len) {
  unsigned char *q = *p;
  size_t n;
  switch (ft) {
  case MYSQL_TYPE_NULL:
    n = 0;
    break;
  case MYSQL_TYPE_TINY:
    n = 1;
    break;
  case MYSQL_TYPE_SHORT:
  case MYSQL_TYPE_YEAR:
    n = 2;
    break;
  case MYSQL_TYPE_LONG:
  case MYSQL_TYPE_INT24:
  case MYSQL_TYPE_FLOAT:
    n = 4;
    break;
  case MYSQL_TYPE_LONGLONG:
  case MYSQL_TYPE_DOUBLE:
    n = 8;
    break;
  case MYSQL_TYPE_DATE:
  case MYSQL_TYPE_NEWDATE:
  case MYSQL_TYPE_DATETIME:
  case MYSQL_TYPE_TIMESTAMP:
  case MYSQL_TYPE_TIME:
    n = q[0]; /* 0, 4, 7 or 11 bytes (TIME: 0, 8 or 12) */
    q++;
    break;
  default: /* strings, BLOBs, DECIMAL, BIT, GEOMETRY, JSON, ENUM, SET: length-encoded */
    switch (q[0]) {
    case 252:
      n = (size_t)le(q + 1, 2);
      q += 3;
      break;
    case 253:
      n = (size_t)le(q + 1, 3);
      q += 4;
      break;
    case 254:
      n = (size_t)le(q + 1, 8);
      q += 9;
      break;
    default:
      n = q[0];
      q++;
      break;
    }
    break;
  }
  *p = q + n;
  *len = n;
  return q;
}

/* A temporal wire value (len bytes at q) as a MYSQL_TIME, as Connector/C would convert it. */
static void wire_time(enum enum_field_types ft, const unsigned char *q, size_t len, MYSQL_TIME *t) {
  memset(t, 0, sizeof *t);
  if (ft == MYSQL_TYPE_TIME) {
    if (len >= 8) {
      t->neg = q[0] != 0;
      t->hour = (unsigned)(le(q + 1, 4) * 24 + q[5]); /* days as hours, as Connector/C does */
      t->minute = q[6];
      t->second = q[7];
    }
    if (len >= 12)
      t->second_part = (unsigned long)le(q + 8, 4);
    return;
  }
  if (len >= 4) {
    t->year = (unsigned)le(q, 2);
    t->month = q[2];
    t->day = q[3];
  }
  if (len >= 7) {
    t->hour = q[4];
    t->minute = q[5];
    t->second = q[6];
  }
  if (len >= 11)
    t->second_part = (unsigned long)le(q + 7, 4);
}

/* One wire value (len bytes at q) of column f into cell, as the uvsql type `type`. */
static int decode_wire(uvsql_result_t *r, const MYSQL_FIELD *f, uvsql_type_t type,
                       const unsigned char *q, size_t len, uvsql_value_t *cell) {
  int uns = (f->flags & UNSIGNED_FLAG) != 0;
  uint64_t u;
  switch (f->type) {
  case MYSQL_TYPE_NULL:
    return 0;
  case MYSQL_TYPE_TINY:
    u = uns ? q[0] : (uint64_t)(int64_t)(int8_t)q[0];
    break;
  case MYSQL_TYPE_SHORT:
  case MYSQL_TYPE_YEAR:
    u = uns ? le(q, 2) : (uint64_t)(int64_t)(int16_t)le(q, 2);
    break;
  case MYSQL_TYPE_LONG:
  case MYSQL_TYPE_INT24:
    u = uns ? le(q, 4) : (uint64_t)(int64_t)(int32_t)le(q, 4);
    break;
  case MYSQL_TYPE_LONGLONG:
    u = le(q, 8);
    if (uns && u > (uint64_t)INT64_MAX) {
      char text[24];
      int n = snprintf(text, sizeof text, "%llu", (unsigned long long)u);
      return set_bytes(r, cell, UVSQL_TYPE_TEXT, text, (size_t)n);
    }
    break;
  case MYSQL_TYPE_FLOAT: {
    uint32_t b = (uint32_t)le(q, 4);
    float v;
    memcpy(&v, &b, sizeof v);
    cell->type = UVSQL_TYPE_DOUBLE;
    cell->u.f64 = (double)v;
    return 0;
  }
  case MYSQL_TYPE_DOUBLE: {
    uint64_t b = le(q, 8);
    cell->type = UVSQL_TYPE_DOUBLE;
    memcpy(&cell->u.f64, &b, sizeof cell->u.f64);
    return 0;
  }
  case MYSQL_TYPE_DATE:
  case MYSQL_TYPE_NEWDATE:
  case MYSQL_TYPE_DATETIME:
  case MYSQL_TYPE_TIMESTAMP:
  case MYSQL_TYPE_TIME: {
    MYSQL_TIME tm;
    wire_time(f->type, q, len, &tm);
    if (type != UVSQL_TYPE_TIME && is_zero_date(&tm)) {
      const char *z = type == UVSQL_TYPE_DATE ? "0000-00-00" : "0000-00-00 00:00:00";
      return set_bytes(r, cell, UVSQL_TYPE_TEXT, z, strlen(z));
    }
    cell->type = type;
    cell->u.i64 = uvsql__my_time_to(type, &tm);
    return 0;
  }
  default: /* TEXT, BYTES, JSON, NUMERIC (the server's text), UUID (its text) */
    if (type == UVSQL_TYPE_UUID)
      return set_uuid(cell, (const char *)q, len);
    return set_bytes(r, cell, type, (const char *)q, len);
  }
  if (type == UVSQL_TYPE_BOOL) {
    cell->type = UVSQL_TYPE_BOOL;
    cell->u.b = u != 0;
  } else {
    cell->type = UVSQL_TYPE_INT64;
    cell->u.i64 = (int64_t)u;
  }
  return 0;
}

/* Any column's value: the general path (wire_value, decode_wire). Kept out of line so that
 * on_column's fast cases stay small. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void
on_value(uvsql__my_rows_t *rr, unsigned int col, unsigned char **row) {
  size_t len;
  const unsigned char *q = wire_value(rr->fields[col].type, row, &len);
  if (rr->row) {
    int rc = decode_wire(rr->into, &rr->fields[col], rr->types[col], q, len, &rr->row[col]);
    if (rc && !rr->rc) {
      rr->rc = rc;
      rr->rc_col = col;
    }
  }
}

/* STMT_ATTR_CB_RESULT: column col of the row just fetched; row NULL for a NULL value, else
 * *row points at the wire value and must be moved past it. data: the connection (it outlives
 * its statements; its reader, st_rows, says where the row goes). */
static void on_column(void *data, unsigned int col, unsigned char **row) {
  uvsql__my_rows_t *rr = ((uvsql__my_conn_t *)data)->st_rows;
  if (!rr || col >= rr->n)
    return; /* cannot happen: every fetch has a reader made for its statement */
  if (col == 0) {
    rr->row = rr->into ? uvsql__result_add_row(rr->into) : NULL;
    if (rr->into && !rr->row && !rr->rc) {
      rr->rc = UVSQL_ENOMEM;
      rr->rc_col = 0;
    }
  }
  if (!row)
    return; /* the cell stays NULL */
  if (rr->row) {
    uvsql_value_t *cell = &rr->row[col];
    unsigned char *p = *row;
    switch (rr->fast[col]) {
    case FAST_INT64:
      *row = p + 8;
      cell->type = UVSQL_TYPE_INT64;
      cell->u.i64 = (int64_t)le(p, 8);
      return;
    case FAST_BOOL:
      *row = p + 1;
      cell->type = UVSQL_TYPE_BOOL;
      cell->u.b = p[0] != 0;
      return;
    case FAST_DOUBLE: {
      uint64_t b = le(p, 8);
      *row = p + 8;
      cell->type = UVSQL_TYPE_DOUBLE;
      memcpy(&cell->u.f64, &b, sizeof cell->u.f64);
      return;
    }
    case FAST_TEXT:
      if (p[0] < 251) { /* shorter than 251 bytes: a 1-byte length */
        size_t len = p[0];
        *row = p + 1 + len;
        if (set_bytes(rr->into, cell, rr->types[col], (const char *)p + 1, len) && !rr->rc) {
          rr->rc = UVSQL_ENOMEM;
          rr->rc_col = col;
        }
        return;
      }
      break;
    case FAST_DATETIME:
      if (p[0] >= 4 && (p[1] | p[2] | p[3] | p[4])) { /* not a zero date */
        int64_t days = uvsql_days_from_civil((int)le(p + 1, 2), p[3], p[4]), us = 0;
        if (p[0] >= 7)
          us = ((int64_t)p[5] * 3600 + (int64_t)p[6] * 60 + p[7]) * 1000000;
        if (p[0] >= 11)
          us += (int64_t)le(p + 8, 4);
        *row = p + 1 + p[0];
        cell->type = UVSQL_TYPE_TIMESTAMP;
        cell->u.i64 = days * 86400000000LL + us;
        return;
      }
      break;
    default:
      break;
    }
  }
  on_value(rr, col, row);
}

/* ------------------------------------------------------------------ text protocol */

static int digits(const char **p, const char *end, int max, int64_t *out) {
  int n = 0;
  int64_t v = 0;
  while (*p < end && **p >= '0' && **p <= '9' && n < max) {
    v = v * 10 + (**p - '0');
    (*p)++;
    n++;
  }
  *out = v;
  return n;
}

/* "[-]H+:MM:SS[.ffffff]" (hours may exceed 23 in a TIME). */
static int parse_time(const char *s, size_t len, int64_t *out) {
  const char *p = s, *end = s + len;
  int64_t h, m, sec, frac = 0;
  int neg = p < end && *p == '-';
  if (neg)
    p++;
  if (!digits(&p, end, 4, &h) || p >= end || *p++ != ':' || digits(&p, end, 2, &m) != 2 ||
      p >= end || *p++ != ':' || digits(&p, end, 2, &sec) != 2)
    return -1;
  if (p < end && *p == '.') {
    p++;
    int n = digits(&p, end, 6, &frac);
    for (; n < 6; n++)
      frac *= 10;
  }
  if (p != end)
    return -1;
  int64_t us = ((h * 60 + m) * 60 + sec) * INT64_C(1000000) + frac;
  *out = neg ? -us : us;
  return 0;
}

static int decode_text_cell(uvsql_result_t *r, const MYSQL_FIELD *f, uvsql_type_t type,
                            const char *s, size_t len, uvsql_value_t *cell) {
  char num[64];
  char *end;
  int64_t t;
  if (!s)
    return 0; /* NULL */
  switch (type) {
  case UVSQL_TYPE_BOOL:
  case UVSQL_TYPE_INT64:
  case UVSQL_TYPE_DOUBLE:
    if (len >= sizeof num)
      break;
    memcpy(num, s, len);
    num[len] = '\0';
    if (type == UVSQL_TYPE_DOUBLE) {
      cell->type = UVSQL_TYPE_DOUBLE;
      cell->u.f64 = strtod(num, &end);
    } else {
      errno = 0;
      long long v = strtoll(num, &end, 10);
      if (*end || errno == ERANGE)
        break; /* out of int64's range (BIGINT UNSIGNED): keep the digits */
      cell->type = type;
      if (type == UVSQL_TYPE_BOOL)
        cell->u.b = v != 0;
      else
        cell->u.i64 = v;
    }
    return 0;
  case UVSQL_TYPE_DATE:
  case UVSQL_TYPE_TIMESTAMP:
    if (uvsql_parse_temporal(type, s, len, &t) != 0)
      break; /* a zero date */
    cell->type = type;
    cell->u.i64 = t;
    return 0;
  case UVSQL_TYPE_TIME:
    if (parse_time(s, len, &t) != 0)
      break;
    cell->type = type;
    cell->u.i64 = t;
    return 0;
  case UVSQL_TYPE_BYTES:
  case UVSQL_TYPE_NUMERIC:
    return set_bytes(r, cell, type, s, len);
  case UVSQL_TYPE_JSON:
    return set_bytes(r, cell, type, s, len);
  case UVSQL_TYPE_UUID:
    return set_uuid(cell, s, len);
  default:
    break;
  }
  return set_bytes(r, cell, UVSQL_TYPE_TEXT, s, len);
}

int uvsql__my_decode_text(MYSQL_RES *res, uvsql_result_t **out, uvsql_error_t *err) {
  unsigned n = mysql_num_fields(res);
  MYSQL_FIELD *fields = mysql_fetch_fields(res);
  uvsql_result_t *r = uvsql__result_new(n);
  uvsql_type_t *types = calloc(n ? n : 1, sizeof *types);
  MYSQL_ROW row;
  int rc = 0;

  *out = NULL;
  if (!r || !types || set_columns(r, fields, n, types) != 0 ||
      uvsql__result_reserve(r, (size_t)mysql_num_rows(res)) != 0) {
    rc = uvsql__error_set(err, UVSQL_ENOMEM, "out of memory reading a result");
    goto done;
  }
  while ((row = mysql_fetch_row(res)) != NULL) { /* local: the result is stored */
    unsigned long *lens = mysql_fetch_lengths(res);
    uvsql_value_t *cells = uvsql__result_add_row(r);
    if (!cells) {
      rc = uvsql__error_set(err, UVSQL_ENOMEM, "out of memory reading a result");
      goto done;
    }
    for (unsigned i = 0; i < n; i++) {
      int c = decode_text_cell(r, &fields[i], types[i], row[i], lens[i], &cells[i]);
      if (c != 0) {
        rc = c == UVSQL_ENOMEM
                 ? uvsql__error_set(err, c, "out of memory reading a result")
                 : uvsql__error_set(err, c, "could not read column \"%s\" of a result row",
                                    fields[i].name);
        goto done;
      }
    }
  }
done:
  free(types);
  if (rc) {
    uvsql_result_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

/* ------------------------------------------------------------------ the row reader */

void uvsql__my_rows_free(uvsql__my_rows_t *rr) {
  if (!rr)
    return;
  if (rr->meta)
    mysql_free_result(rr->meta);
  free(rr->types);
  free(rr->fast);
  free(rr);
}

uvsql__my_rows_t *uvsql__my_rows_new(uvsql__my_conn_t *mc, MYSQL_STMT *stmt, uvsql_error_t *err) {
  uvsql__my_rows_t *rr = calloc(1, sizeof *rr);
  if (!rr || !(rr->meta = mysql_stmt_result_metadata(stmt))) {
    uvsql__my_rows_free(rr);
    uvsql__error_set(err, UVSQL_ENOMEM, "out of memory reading a result");
    return NULL;
  }
  rr->n = mysql_num_fields(rr->meta);
  rr->fields = mysql_fetch_fields(rr->meta);
  if (!(rr->types = calloc(rr->n ? rr->n : 1, sizeof *rr->types)) ||
      !(rr->fast = calloc(rr->n ? rr->n : 1, sizeof *rr->fast))) {
    uvsql__my_rows_free(rr);
    uvsql__error_set(err, UVSQL_ENOMEM, "out of memory reading a result");
    return NULL;
  }
  for (unsigned i = 0; i < rr->n; i++) {
    rr->types[i] = uvsql__my_field_type(&rr->fields[i]);
    rr->fast[i] = fast_kind(&rr->fields[i], rr->types[i]);
  }
  if (mysql_stmt_attr_set(stmt, STMT_ATTR_CB_USER_DATA, mc) != 0 ||
      mysql_stmt_attr_set(stmt, STMT_ATTR_CB_RESULT, (const void *)on_column) != 0) {
    uvsql__my_error_set(err, mysql_stmt_errno(stmt), mysql_stmt_sqlstate(stmt),
                        mysql_stmt_error(stmt), NULL, 0);
    uvsql__my_rows_free(rr);
    return NULL;
  }
  return rr;
}

int uvsql__my_rows_target(uvsql__my_rows_t *rr, uvsql_result_t **into, size_t cap,
                          uvsql_error_t *err) {
  if (!into) {
    rr->into = NULL;
    return 0;
  }
  if (!*into) {
    uvsql_result_t *r = uvsql__result_new(rr->n);
    if (!r || set_columns(r, rr->fields, rr->n, rr->types) != 0 ||
        (cap && uvsql__result_reserve(r, cap) != 0)) {
      uvsql_result_free(r);
      return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory reading a result");
    }
    *into = r;
  }
  rr->into = *into;
  return 0;
}

int uvsql__my_rows_check(uvsql__my_rows_t *rr, uvsql_error_t *err) {
  int rc = rr->rc;
  rr->row = NULL;
  if (!rc)
    return 0;
  rr->rc = 0;
  if (rc == UVSQL_ENOMEM)
    return uvsql__error_set(err, rc, "out of memory reading a result");
  return uvsql__error_set(err, rc, "could not read column \"%s\" of a result row",
                          rr->fields[rr->rc_col].name);
}
