/* src/dialects/sqlite/params.c — uvsql values to SQLite parameters (how each type travels:
 * the table at the top of decode.c). Worker thread only. Text and blobs are copied by SQLite
 * (SQLITE_TRANSIENT), so the engine's values may go once the statement has been bound. */
#include <stdio.h>
#include <string.h>
#include "sqlite.h"

static int bind_one(sqlite3_stmt *stmt, int i, const uvsql_value_t *v) {
  char buf[72];
  size_t n;
  switch (v->type) {
  case UVSQL_TYPE_NULL:
    return sqlite3_bind_null(stmt, i);
  case UVSQL_TYPE_BOOL:
    return sqlite3_bind_int(stmt, i, v->u.b ? 1 : 0);
  case UVSQL_TYPE_INT64:
    return sqlite3_bind_int64(stmt, i, (sqlite3_int64)v->u.i64);
  case UVSQL_TYPE_DOUBLE:
    return sqlite3_bind_double(stmt, i, v->u.f64);
  case UVSQL_TYPE_TEXT:
    return sqlite3_bind_text64(stmt, i, v->u.s.ptr ? v->u.s.ptr : "", v->u.s.len, SQLITE_TRANSIENT,
                               SQLITE_UTF8);
  case UVSQL_TYPE_BYTES:
    if (v->u.s.len == 0)
      return sqlite3_bind_zeroblob(stmt, i, 0);
    return sqlite3_bind_blob64(stmt, i, v->u.s.ptr, v->u.s.len, SQLITE_TRANSIENT);
  case UVSQL_TYPE_DATE:
  case UVSQL_TYPE_TIME:
  case UVSQL_TYPE_TIMESTAMP:
    n = uvsql_format_temporal(v->type, v->u.i64, buf, sizeof buf);
    if (n == 0 || n >= sizeof buf)
      return SQLITE_RANGE;
    return sqlite3_bind_text(stmt, i, buf, (int)n, SQLITE_TRANSIENT);
  case UVSQL_TYPE_TIMESTAMPTZ:
    /* Formatted as a plain timestamp (the value is UTC) with an explicit offset. */
    n = uvsql_format_temporal(UVSQL_TYPE_TIMESTAMP, v->u.i64, buf, sizeof buf - 8);
    if (n == 0 || n >= sizeof buf - 8)
      return SQLITE_RANGE;
    memcpy(buf + n, "+00:00", 6);
    return sqlite3_bind_text(stmt, i, buf, (int)n + 6, SQLITE_TRANSIENT);
  case UVSQL_TYPE_NUMERIC:
  case UVSQL_TYPE_JSON:
  case UVSQL_TYPE_ENUM:
    return sqlite3_bind_text64(stmt, i, v->u.s.ptr ? v->u.s.ptr : "", v->u.s.len, SQLITE_TRANSIENT,
                               SQLITE_UTF8);
  case UVSQL_TYPE_UUID:
    return sqlite3_bind_blob(stmt, i, v->u.uuid, 16, SQLITE_TRANSIENT);
  case UVSQL_TYPE_INTERVAL: /* ISO 8601 duration text; decode.c reads it back */
    n = uvsql_format_interval(&v->u.iv, buf, sizeof buf);
    return sqlite3_bind_text(stmt, i, buf, (int)n, SQLITE_TRANSIENT);
  case UVSQL_TYPE_ARRAY: /* refused before binding (exec.c) */
    break;
  }
  return SQLITE_MISMATCH;
}

int uvsql__sq_bind_params(sqlite3_stmt *stmt, const uvsql_value_t *params, int nparams) {
  int n = sqlite3_bind_parameter_count(stmt);
  if (n > nparams)
    n = nparams;
  for (int i = 0; i < n; i++) {
    int rc = bind_one(stmt, i + 1, &params[i]);
    if (rc != SQLITE_OK)
      return rc;
  }
  return SQLITE_OK;
}
