/* src/dialects/mariadb/params.c — uvsql values as MYSQL_BIND parameters, and MYSQL_TIME.
 *
 *   NULL        MYSQL_TYPE_NULL
 *   BOOL        MYSQL_TYPE_TINY (0/1)
 *   INT64       MYSQL_TYPE_LONGLONG
 *   DOUBLE      MYSQL_TYPE_DOUBLE
 *   TEXT        MYSQL_TYPE_STRING (the connection's charset, utf8mb4 by default)
 *   NUMERIC     MYSQL_TYPE_NEWDECIMAL, its canonical text (exact: the server reads the digits)
 *   BYTES       MYSQL_TYPE_BLOB (binary)
 *   DATE        MYSQL_TYPE_DATE
 *   TIME        MYSQL_TYPE_TIME (negative values set `neg`)
 *   TIMESTAMP   MYSQL_TYPE_DATETIME, as written
 *   TIMESTAMPTZ MYSQL_TYPE_DATETIME in UTC (the session's time_zone is '+00:00', options.c)
 *   UUID        MYSQL_TYPE_STRING, the canonical text (a UUID column of 10.7+ parses it; the
 *               binary protocol has no uuid type of its own)
 *   JSON        MYSQL_TYPE_STRING (a JSON column is LONGTEXT with a json_valid CHECK)
 *               (a DATETIME(6) column is never shifted by the session's time_zone anyway)
 *   ENUM        MYSQL_TYPE_STRING, the label
 *   INTERVAL    MYSQL_TYPE_STRING, ISO 8601 duration text (uvsql_format_interval): MariaDB has
 *               no interval type, Core declares the column VARCHAR(64)
 *   ARRAY       refused: UVSQL_ENOT_SUPPORTED (MariaDB has no ARRAY type: use JSON)
 *
 * Invariants: text and bytes are borrowed from the request (the engine keeps them until done),
 * never copied; numbers and times live in mc->bind_store, which is only grown between
 * requests, so the pointers handed to mysql_stmt_bind_param stay valid until the execute ends.
 */
#include <stdlib.h>
#include <string.h>
#include "mariadb.h"

#define US_PER_SEC INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US_PER_SEC)

typedef struct {
  union {
    long long i;
    double d;
    signed char t;
    MYSQL_TIME tm;
    char uuid[37];
    char iso[64]; /* INTERVAL */
  } v;
  unsigned long len;
  my_bool is_null;
} slot_t;

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void uvsql__my_time_from(uvsql_type_t type, int64_t v, MYSQL_TIME *t) {
  int y, m, d;
  memset(t, 0, sizeof *t);
  if (type == UVSQL_TYPE_DATE) {
    uvsql_civil_from_days(v, &y, &m, &d);
    t->year = (unsigned)y;
    t->month = (unsigned)m;
    t->day = (unsigned)d;
    t->time_type = MYSQL_TIMESTAMP_DATE;
    return;
  }
  if (type == UVSQL_TYPE_TIME) {
    uint64_t us = v < 0 ? (uint64_t) - (v + 1) + 1 : (uint64_t)v;
    t->neg = v < 0;
    t->hour = (unsigned)(us / (uint64_t)(3600 * US_PER_SEC));
    t->minute = (unsigned)(us / (uint64_t)(60 * US_PER_SEC) % 60);
    t->second = (unsigned)(us / (uint64_t)US_PER_SEC % 60);
    t->second_part = (unsigned long)(us % (uint64_t)US_PER_SEC);
    t->time_type = MYSQL_TIMESTAMP_TIME;
    return;
  }
  int64_t days = floor_div(v, US_PER_DAY);
  int64_t rem = v - days * US_PER_DAY;
  uvsql_civil_from_days(days, &y, &m, &d);
  t->year = (unsigned)y;
  t->month = (unsigned)m;
  t->day = (unsigned)d;
  t->hour = (unsigned)(rem / (3600 * US_PER_SEC));
  t->minute = (unsigned)(rem / (60 * US_PER_SEC) % 60);
  t->second = (unsigned)(rem / US_PER_SEC % 60);
  t->second_part = (unsigned long)(rem % US_PER_SEC);
  t->time_type = MYSQL_TIMESTAMP_DATETIME;
}

int64_t uvsql__my_time_to(uvsql_type_t type, const MYSQL_TIME *t) {
  int64_t tod = ((int64_t)t->hour * 3600 + (int64_t)t->minute * 60 + t->second) * US_PER_SEC +
                (int64_t)t->second_part;
  if (type == UVSQL_TYPE_TIME)
    return t->neg ? -tod : tod;
  int64_t days = uvsql_days_from_civil((int)t->year, (int)t->month, (int)t->day);
  if (type == UVSQL_TYPE_DATE)
    return days;
  return days * US_PER_DAY + tod;
}

int uvsql__my_bind_params(uvsql__my_conn_t *mc, const uvsql__request_t *req) {
  size_t n = (size_t)req->nparams;
  if (n == 0)
    return 0;
  if (n > mc->bind_cap) {
    MYSQL_BIND *b = realloc(mc->binds, n * sizeof *b);
    if (!b)
      return UVSQL_ENOMEM;
    mc->binds = b;
    slot_t *s = realloc(mc->bind_store, n * sizeof *s);
    if (!s)
      return UVSQL_ENOMEM;
    mc->bind_store = s;
    mc->bind_cap = n;
  }
  MYSQL_BIND *b = mc->binds;
  slot_t *s = mc->bind_store;
  memset(b, 0, n * sizeof *b);
  memset(s, 0, n * sizeof *s);
  for (size_t i = 0; i < n; i++) {
    const uvsql_value_t *v = &req->params[i];
    b[i].is_null = &s[i].is_null;
    b[i].length = &s[i].len;
    switch (v->type) {
    case UVSQL_TYPE_BOOL:
      s[i].v.t = (signed char)(v->u.b != 0);
      b[i].buffer_type = MYSQL_TYPE_TINY;
      b[i].buffer = &s[i].v.t;
      break;
    case UVSQL_TYPE_INT64:
      s[i].v.i = (long long)v->u.i64;
      b[i].buffer_type = MYSQL_TYPE_LONGLONG;
      b[i].buffer = &s[i].v.i;
      break;
    case UVSQL_TYPE_DOUBLE:
      s[i].v.d = v->u.f64;
      b[i].buffer_type = MYSQL_TYPE_DOUBLE;
      b[i].buffer = &s[i].v.d;
      break;
    case UVSQL_TYPE_UUID:
      s[i].len = (unsigned long)uvsql_uuid_format((const uvsql_uuid_t *)(const void *)v->u.uuid,
                                                  s[i].v.uuid);
      b[i].buffer_type = MYSQL_TYPE_STRING;
      b[i].buffer = s[i].v.uuid;
      b[i].buffer_length = s[i].len;
      break;
    case UVSQL_TYPE_ENUM:
    case UVSQL_TYPE_TEXT:
    case UVSQL_TYPE_JSON:
    case UVSQL_TYPE_BYTES:
    case UVSQL_TYPE_NUMERIC:
      b[i].buffer_type = v->type == UVSQL_TYPE_BYTES     ? MYSQL_TYPE_BLOB
                         : v->type == UVSQL_TYPE_NUMERIC ? MYSQL_TYPE_NEWDECIMAL
                                                         : MYSQL_TYPE_STRING;
      b[i].buffer = (void *)(v->u.s.ptr ? v->u.s.ptr : "");
      b[i].buffer_length = (unsigned long)v->u.s.len;
      s[i].len = (unsigned long)v->u.s.len;
      break;
    case UVSQL_TYPE_DATE:
    case UVSQL_TYPE_TIME:
    case UVSQL_TYPE_TIMESTAMP:
    case UVSQL_TYPE_TIMESTAMPTZ:
      uvsql__my_time_from(v->type, v->u.i64, &s[i].v.tm);
      b[i].buffer_type = v->type == UVSQL_TYPE_DATE   ? MYSQL_TYPE_DATE
                         : v->type == UVSQL_TYPE_TIME ? MYSQL_TYPE_TIME
                                                      : MYSQL_TYPE_DATETIME;
      b[i].buffer = &s[i].v.tm;
      b[i].buffer_length = sizeof(MYSQL_TIME);
      break;
    case UVSQL_TYPE_INTERVAL:
      s[i].len = (unsigned long)uvsql_format_interval(&v->u.iv, s[i].v.iso, sizeof s[i].v.iso);
      b[i].buffer_type = MYSQL_TYPE_STRING;
      b[i].buffer = s[i].v.iso;
      b[i].buffer_length = s[i].len;
      break;
    case UVSQL_TYPE_ARRAY:
      return UVSQL_ENOT_SUPPORTED;
    case UVSQL_TYPE_NULL:
    default:
      s[i].is_null = 1;
      b[i].buffer_type = MYSQL_TYPE_NULL;
      break;
    }
  }
  return 0;
}

/* executemany as one bulk execution (array binding, column-wise): parameter i of set s is
 * element s of bind[i]'s arrays; a NULL is its indicator (STMT_INDICATOR_NULL). Every set must
 * give a parameter the same value type (or NULL): Connector/C sends one type per column.
 * The arrays live in mc->bulk_store until the request ends (uvsql__my_bulk_free); text and
 * bytes stay borrowed from the request. Returns 0, UVSQL_ENOMEM, or UVSQL_EINVALID_ARGUMENT
 * with mc->err set and the set named in req->many_failed. */
int uvsql__my_bulk_can(const uvsql__request_t *req) {
  size_t n = (size_t)req->nparams * req->nsets;
  for (size_t i = 0; i < n; i++)
    if (req->params[i].type == UVSQL_TYPE_UUID || req->params[i].type == UVSQL_TYPE_INTERVAL ||
        req->params[i].type == UVSQL_TYPE_ARRAY)
      return 0; /* formatted per value (or refused): the loop of executes binds them */
  return 1;
}

int uvsql__my_bind_bulk(uvsql__my_conn_t *mc, uvsql__request_t *req) {
  size_t n = (size_t)req->nparams, sets = req->nsets, size = 0;
  uvsql_type_t small[32], *types = small;
  if (n > 32 && !(types = malloc(n * sizeof *types)))
    return UVSQL_ENOMEM;
  for (size_t i = 0; i < n; i++)
    types[i] = UVSQL_TYPE_NULL;
  for (size_t s = 0; s < sets; s++) {
    const uvsql_value_t *v = req->params + s * n;
    for (size_t i = 0; i < n; i++) {
      if (v[i].type == UVSQL_TYPE_NULL)
        continue;
      if (types[i] == UVSQL_TYPE_NULL) {
        types[i] = v[i].type;
      } else if (types[i] != v[i].type) {
        req->many_failed = (long)s;
        uvsql__error_set(&mc->err, UVSQL_EINVALID_ARGUMENT,
                         "parameter %zu has a different value type than in an earlier set: "
                         "MariaDB's bulk execution takes one type per parameter (or NULL)",
                         i + 1);
        if (types != small)
          free(types);
        return UVSQL_EINVALID_ARGUMENT;
      }
    }
  }
  /* per parameter: indicators, then its values (8-aligned) */
  for (size_t i = 0; i < n; i++) {
    size_t elem;
    switch (types[i]) {
    case UVSQL_TYPE_BOOL:
      elem = 1;
      break;
    case UVSQL_TYPE_TEXT:
    case UVSQL_TYPE_BYTES:
    case UVSQL_TYPE_NUMERIC:
    case UVSQL_TYPE_JSON:
    case UVSQL_TYPE_ENUM:
      elem = sizeof(char *) + sizeof(unsigned long);
      break;
    case UVSQL_TYPE_DATE:
    case UVSQL_TYPE_TIME:
    case UVSQL_TYPE_TIMESTAMP:
    case UVSQL_TYPE_TIMESTAMPTZ:
      elem = sizeof(MYSQL_TIME);
      break;
    default:
      elem = 8;
      break;
    }
    size += ((sets + 7) & ~(size_t)7) + ((sets * elem + 7) & ~(size_t)7);
  }
  free(mc->bulk_store);
  mc->bulk_store = NULL;
  char *store = malloc(size + n * sizeof(MYSQL_BIND));
  if (!store) {
    if (types != small)
      free(types);
    return UVSQL_ENOMEM;
  }
  mc->bulk_store = store;
  MYSQL_BIND *b = (MYSQL_BIND *)(void *)store;
  char *p = store + n * sizeof(MYSQL_BIND);
  memset(b, 0, n * sizeof *b);
  for (size_t i = 0; i < n; i++) {
    char *ind = p;
    void *vals = p + ((sets + 7) & ~(size_t)7);
    const uvsql_value_t *v = req->params + i;
    b[i].u.indicator = ind;
    switch (types[i]) {
    case UVSQL_TYPE_BOOL:
      b[i].buffer_type = MYSQL_TYPE_TINY;
      for (size_t s = 0; s < sets; s++, v += n)
        ((signed char *)vals)[s] = (signed char)(v->type != UVSQL_TYPE_NULL && v->u.b != 0);
      p = (char *)vals + ((sets + 7) & ~(size_t)7);
      break;
    case UVSQL_TYPE_DOUBLE:
      b[i].buffer_type = MYSQL_TYPE_DOUBLE;
      for (size_t s = 0; s < sets; s++, v += n)
        ((double *)vals)[s] = v->type == UVSQL_TYPE_NULL ? 0 : v->u.f64;
      p = (char *)vals + sets * 8;
      break;
    case UVSQL_TYPE_TEXT:
    case UVSQL_TYPE_BYTES:
    case UVSQL_TYPE_NUMERIC:
    case UVSQL_TYPE_JSON:
    case UVSQL_TYPE_ENUM: {
      char **ptrs = vals;
      unsigned long *lens = (unsigned long *)(void *)(ptrs + sets);
      b[i].buffer_type = types[i] == UVSQL_TYPE_BYTES     ? MYSQL_TYPE_BLOB
                         : types[i] == UVSQL_TYPE_NUMERIC ? MYSQL_TYPE_NEWDECIMAL
                                                          : MYSQL_TYPE_STRING;
      b[i].length = lens;
      for (size_t s = 0; s < sets; s++, v += n) {
        int null = v->type == UVSQL_TYPE_NULL;
        ptrs[s] = null || !v->u.s.ptr ? (char *)"" : (char *)v->u.s.ptr;
        lens[s] = null ? 0 : (unsigned long)v->u.s.len;
      }
      p = (char *)(lens + sets);
      p += (size_t)(-(uintptr_t)p & 7);
      break;
    }
    case UVSQL_TYPE_DATE:
    case UVSQL_TYPE_TIME:
    case UVSQL_TYPE_TIMESTAMP:
    case UVSQL_TYPE_TIMESTAMPTZ: {
      MYSQL_TIME *tm = vals;
      b[i].buffer_type = types[i] == UVSQL_TYPE_DATE   ? MYSQL_TYPE_DATE
                         : types[i] == UVSQL_TYPE_TIME ? MYSQL_TYPE_TIME
                                                       : MYSQL_TYPE_DATETIME;
      for (size_t s = 0; s < sets; s++, v += n) {
        memset(&tm[s], 0, sizeof tm[s]);
        if (v->type != UVSQL_TYPE_NULL)
          uvsql__my_time_from(v->type, v->u.i64, &tm[s]);
      }
      p = (char *)(tm + sets);
      p += (size_t)(-(uintptr_t)p & 7);
      break;
    }
    default: /* INT64, and a parameter NULL in every set */
      b[i].buffer_type = MYSQL_TYPE_LONGLONG;
      for (size_t s = 0; s < sets; s++, v += n)
        ((long long *)vals)[s] = v->type == UVSQL_TYPE_INT64 ? (long long)v->u.i64 : 0;
      p = (char *)vals + sets * 8;
      break;
    }
    b[i].buffer = vals;
    v = req->params + i;
    for (size_t s = 0; s < sets; s++, v += n)
      ind[s] = v->type == UVSQL_TYPE_NULL ? (char)STMT_INDICATOR_NULL : (char)STMT_INDICATOR_NONE;
  }
  if (types != small)
    free(types);
  return 0;
}
