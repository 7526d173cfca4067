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
 * the statement's or MYSQL_RES's buffers are never referenced after decoding, so they can be
 * freed (or the statement re-executed) at once. Decoding does no I/O: the result was stored
 * with mysql_stmt_store_result / mysql_store_result before — except for streams
 * (uvsql__my_rows_*), where exec.c fetches each row from the server (mysql_stmt_fetch_start)
 * and this file decodes the row just fetched; mysql_stmt_fetch_column on that row is local.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "mariadb.h"

#define INLINE_BUF 256 /* bytes fetched with the row; longer values are fetched by column */

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

typedef struct {
  union {
    long long i;
    double d;
    MYSQL_TIME tm;
    char buf[INLINE_BUF];
  } v;
  unsigned long len;
  my_bool is_null;
  my_bool error;
} col_t;

static enum enum_field_types fetch_type(uvsql_type_t t) {
  switch (t) {
  case UVSQL_TYPE_BOOL:
  case UVSQL_TYPE_INT64:
    return MYSQL_TYPE_LONGLONG;
  case UVSQL_TYPE_DOUBLE:
    return MYSQL_TYPE_DOUBLE;
  case UVSQL_TYPE_DATE:
    return MYSQL_TYPE_DATE;
  case UVSQL_TYPE_TIME:
    return MYSQL_TYPE_TIME;
  case UVSQL_TYPE_TIMESTAMP:
    return MYSQL_TYPE_DATETIME;
  case UVSQL_TYPE_BYTES:
    return MYSQL_TYPE_BLOB;
  default:
    return MYSQL_TYPE_STRING;
  }
}

/* One stored row's column i (already fetched into cols[i]) into cell. */
static int decode_cell(MYSQL_STMT *stmt, uvsql_result_t *r, const MYSQL_FIELD *f, uvsql_type_t type,
                       MYSQL_BIND *b, col_t *c, unsigned i, uvsql_value_t *cell) {
  char text[48];
  if (c->is_null)
    return 0;
  switch (type) {
  case UVSQL_TYPE_NULL:
    return 0;
  case UVSQL_TYPE_BOOL:
    cell->type = UVSQL_TYPE_BOOL;
    cell->u.b = c->v.i != 0;
    return 0;
  case UVSQL_TYPE_INT64:
    if ((f->flags & UNSIGNED_FLAG) && (unsigned long long)c->v.i > (unsigned long long)LLONG_MAX) {
      int n = snprintf(text, sizeof text, "%llu", (unsigned long long)c->v.i);
      return set_bytes(r, cell, UVSQL_TYPE_TEXT, text, (size_t)n);
    }
    cell->type = UVSQL_TYPE_INT64;
    cell->u.i64 = (int64_t)c->v.i;
    return 0;
  case UVSQL_TYPE_DOUBLE:
    cell->type = UVSQL_TYPE_DOUBLE;
    cell->u.f64 = c->v.d;
    return 0;
  case UVSQL_TYPE_DATE:
  case UVSQL_TYPE_TIME:
  case UVSQL_TYPE_TIMESTAMP:
    if (type != UVSQL_TYPE_TIME && is_zero_date(&c->v.tm)) {
      const char *z = type == UVSQL_TYPE_DATE ? "0000-00-00" : "0000-00-00 00:00:00";
      return set_bytes(r, cell, UVSQL_TYPE_TEXT, z, strlen(z));
    }
    cell->type = type;
    cell->u.i64 = uvsql__my_time_to(type, &c->v.tm);
    return 0;
  case UVSQL_TYPE_UUID:
    return set_uuid(cell, c->v.buf, c->len);
  default: { /* TEXT, BYTES, JSON, NUMERIC (fetched as its text) */
    size_t len = c->len;
    if (len <= INLINE_BUF)
      return set_bytes(r, cell, type, c->v.buf, len);
    /* Longer than the row buffer: fetch the whole value straight into the arena. */
    char *p = uvsql__result_alloc(r, len + 1);
    if (!p)
      return UVSQL_ENOMEM;
    MYSQL_BIND one = *b;
    unsigned long got = 0;
    one.buffer = p;
    one.buffer_length = (unsigned long)len;
    one.length = &got;
    if (mysql_stmt_fetch_column(stmt, &one, i, 0) != 0)
      return UVSQL_EINTERFACE;
    p[len] = '\0';
    cell->type = type == UVSQL_TYPE_BYTES || type == UVSQL_TYPE_NUMERIC || type == UVSQL_TYPE_JSON
                     ? type
                     : UVSQL_TYPE_TEXT;
    cell->u.s.ptr = p;
    cell->u.s.len = len;
    return 0;
  }
  }
}

int uvsql__my_decode_stmt(MYSQL_STMT *stmt, uvsql_result_t **out, uvsql_error_t *err) {
  MYSQL_RES *meta = mysql_stmt_result_metadata(stmt);
  unsigned n = meta ? mysql_num_fields(meta) : 0;
  MYSQL_FIELD *fields = meta ? mysql_fetch_fields(meta) : NULL;
  uvsql_result_t *r = uvsql__result_new(n);
  uvsql_type_t *types = calloc(n ? n : 1, sizeof *types);
  MYSQL_BIND *binds = calloc(n ? n : 1, sizeof *binds);
  col_t *cols = calloc(n ? n : 1, sizeof *cols);
  int rc = 0;

  *out = NULL;
  if (!meta || !r || !types || !binds || !cols) {
    rc = uvsql__error_set(err, UVSQL_ENOMEM, "out of memory reading a result");
    goto done;
  }
  if ((rc = set_columns(r, fields, n, types)) != 0) {
    uvsql__error_set(err, rc, "out of memory reading a result");
    goto done;
  }
  for (unsigned i = 0; i < n; i++) {
    binds[i].buffer_type = fetch_type(types[i]);
    binds[i].buffer = &cols[i].v;
    binds[i].buffer_length =
        binds[i].buffer_type == MYSQL_TYPE_STRING || binds[i].buffer_type == MYSQL_TYPE_BLOB
            ? INLINE_BUF
            : 0;
    binds[i].is_unsigned = (fields[i].flags & UNSIGNED_FLAG) != 0;
    binds[i].length = &cols[i].len;
    binds[i].is_null = &cols[i].is_null;
    binds[i].error = &cols[i].error;
  }
  if (n && mysql_stmt_bind_result(stmt, binds) != 0) {
    rc = uvsql__my_error_set(err, mysql_stmt_errno(stmt), mysql_stmt_sqlstate(stmt),
                             mysql_stmt_error(stmt), NULL, 0);
    goto done;
  }
  if (uvsql__result_reserve(r, (size_t)mysql_stmt_num_rows(stmt)) != 0) {
    rc = uvsql__error_set(err, UVSQL_ENOMEM, "out of memory reading a result");
    goto done;
  }
  for (;;) {
    int f = mysql_stmt_fetch(stmt); /* local: the result is stored */
    if (f == MYSQL_NO_DATA)
      break;
    if (f == 1) {
      rc = uvsql__my_error_set(err, mysql_stmt_errno(stmt), mysql_stmt_sqlstate(stmt),
                               mysql_stmt_error(stmt), NULL, 0);
      goto done;
    }
    /* 0, or MYSQL_DATA_TRUNCATED for values longer than INLINE_BUF: decode_cell fetches them */
    uvsql_value_t *row = uvsql__result_add_row(r);
    if (!row) {
      rc = uvsql__error_set(err, UVSQL_ENOMEM, "out of memory reading a result");
      goto done;
    }
    for (unsigned i = 0; i < n; i++) {
      if ((rc = decode_cell(stmt, r, &fields[i], types[i], &binds[i], &cols[i], i, &row[i]))) {
        uvsql__error_set(err, rc, "could not read column \"%s\" of a result row", fields[i].name);
        goto done;
      }
    }
  }
done:
  if (meta)
    mysql_free_result(meta);
  free(types);
  free(binds);
  free(cols);
  if (rc) {
    uvsql_result_free(r);
    return rc;
  }
  *out = r;
  return 0;
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

/* ------------------------------------------------------------------ streams: row by row */

struct uvsql__my_rows_s {
  MYSQL_RES *meta;
  MYSQL_FIELD *fields;
  unsigned n;
  uvsql_type_t *types;
  MYSQL_BIND *binds;
  col_t *cols;
};

void uvsql__my_rows_free(uvsql__my_rows_t *rr) {
  if (!rr)
    return;
  if (rr->meta)
    mysql_free_result(rr->meta);
  free(rr->types);
  free(rr->binds);
  free(rr->cols);
  free(rr);
}

uvsql__my_rows_t *uvsql__my_rows_new(MYSQL_STMT *stmt, uvsql_error_t *err) {
  uvsql__my_rows_t *rr = calloc(1, sizeof *rr);
  if (!rr || !(rr->meta = mysql_stmt_result_metadata(stmt))) {
    uvsql__my_rows_free(rr);
    uvsql__error_set(err, UVSQL_ENOMEM, "out of memory reading a result");
    return NULL;
  }
  rr->n = mysql_num_fields(rr->meta);
  rr->fields = mysql_fetch_fields(rr->meta);
  rr->types = calloc(rr->n ? rr->n : 1, sizeof *rr->types);
  rr->binds = calloc(rr->n ? rr->n : 1, sizeof *rr->binds);
  rr->cols = calloc(rr->n ? rr->n : 1, sizeof *rr->cols);
  if (!rr->types || !rr->binds || !rr->cols) {
    uvsql__my_rows_free(rr);
    uvsql__error_set(err, UVSQL_ENOMEM, "out of memory reading a result");
    return NULL;
  }
  for (unsigned i = 0; i < rr->n; i++) {
    MYSQL_BIND *b = &rr->binds[i];
    rr->types[i] = uvsql__my_field_type(&rr->fields[i]);
    b->buffer_type = fetch_type(rr->types[i]);
    b->buffer = &rr->cols[i].v;
    b->buffer_length =
        b->buffer_type == MYSQL_TYPE_STRING || b->buffer_type == MYSQL_TYPE_BLOB ? INLINE_BUF : 0;
    b->is_unsigned = (rr->fields[i].flags & UNSIGNED_FLAG) != 0;
    b->length = &rr->cols[i].len;
    b->is_null = &rr->cols[i].is_null;
    b->error = &rr->cols[i].error;
  }
  if (rr->n && mysql_stmt_bind_result(stmt, rr->binds) != 0) {
    uvsql__my_error_set(err, mysql_stmt_errno(stmt), mysql_stmt_sqlstate(stmt),
                        mysql_stmt_error(stmt), NULL, 0);
    uvsql__my_rows_free(rr);
    return NULL;
  }
  return rr;
}

int uvsql__my_rows_append(uvsql__my_rows_t *rr, MYSQL_STMT *stmt, uvsql_result_t **batch,
                          size_t cap, uvsql_error_t *err) {
  uvsql_result_t *r = *batch;
  int rc;
  if (!r) {
    r = uvsql__result_new(rr->n);
    if (!r || set_columns(r, rr->fields, rr->n, rr->types) != 0 ||
        uvsql__result_reserve(r, cap) != 0) {
      uvsql_result_free(r);
      return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory reading a result");
    }
    *batch = r;
  }
  uvsql_value_t *row = uvsql__result_add_row(r);
  if (!row)
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory reading a result");
  for (unsigned i = 0; i < rr->n; i++) {
    rc =
        decode_cell(stmt, r, &rr->fields[i], rr->types[i], &rr->binds[i], &rr->cols[i], i, &row[i]);
    if (rc)
      return uvsql__error_set(err, rc, "could not read column \"%s\" of a result row",
                              rr->fields[i].name);
  }
  return 0;
}
