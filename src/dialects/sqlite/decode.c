/* src/dialects/sqlite/decode.c — SQLite cells to uvsql values, declared types to uvsql types
 * (binding parameters: params.c; the table below says how they travel).
 *
 * SQLite stores five kinds of value (NULL, INTEGER, REAL, TEXT, BLOB); the rest travel as those:
 *   parameter        bound as
 *   BOOL             INTEGER 0 / 1
 *   DATE             TEXT 'YYYY-MM-DD'
 *   TIME             TEXT 'HH:MM:SS[.ffffff]'
 *   TIMESTAMP        TEXT 'YYYY-MM-DD HH:MM:SS[.ffffff]'
 *   TIMESTAMPTZ      TEXT 'YYYY-MM-DD HH:MM:SS[.ffffff]+00:00' (always UTC)
 *   UUID             BLOB of 16 bytes
 *   JSON             TEXT (the document)
 *   ENUM             TEXT, the label (Core's DDL adds CHECK (col IN (...)))
 *   INTERVAL         TEXT, ISO 8601 duration 'P1Y2M-3DT-4H-5M-6.5S' (uvsql_format_interval);
 *                    in a column declared INTERVAL it is read back as an INTERVAL cell
 * as uvsql_format_temporal writes them (six fraction digits, only when not zero): the forms
 * SQLite's own date functions read, and text that sorts like the values. A UUID is 16 bytes
 * where SQLAlchemy's Uuid keeps CHAR(32) hex text: half the size, compared and sorted bytewise
 * as PostgreSQL orders uuids, and safe from the NUMERIC affinity of a column declared UUID,
 * which would store the text "00000000000000000000000000000000" as the integer 0.
 *
 * Cells keep the kind SQLite stored them as (INTEGER -> INT64, REAL -> DOUBLE, TEXT -> TEXT,
 * BLOB -> BYTES, NULL -> NULL): a date column's cells stay TEXT and the result getters parse
 * them. The exceptions: in a column declared BOOL/BOOLEAN, integer cells 0 and 1 become
 * BOOL; in a column declared NUMERIC or DECIMAL (also Core's NUMERIC_TEXT, see
 * src/sql/dialects/sqlite.c), integer cells and text cells that are decimals become NUMERIC
 * (canonical text: "1e3" reads as "1000"), while REAL cells stay DOUBLE: the value was rounded
 * when SQLite stored it (NUMERIC affinity turns '0.10' into 0.1), and no text brings the
 * digits back; in a column declared UUID, a 16-byte BLOB or a text UUID becomes a UUID cell; in
 * a column declared JSON, a TEXT cell becomes JSON, and so does a number (the column's NUMERIC
 * affinity stores the document "12" as the integer 12). Column types come from the declared
 * type (see uvsql__sq_decltype_to_type), else from the first non-NULL cell (exec.c).
 *
 * Invariants: every text and blob cell is copied into the result's arena before the statement
 * moves on (SQLite's pointers die at the next step or reset); text cells end with a NUL; a
 * zero-length blob gets a valid pointer. Parameters are bound SQLITE_TRANSIENT (SQLite copies
 * them), so the engine's parameter memory is not borrowed past the bind.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "sqlite.h"

/* s is upper-cased already (or, when too long for the buffer, searched without case). */
static int has_upper(const char *s, const char *word) {
  return strstr(s, word) != NULL;
}

static int has_nocase(const char *s, const char *word) {
  return strcasestr(s, word) != NULL;
}

static uvsql_type_t decltype_upper(const char *t, int (*has)(const char *, const char *));

/* The declared types schemas use most, upper-cased, with what the full scan below gives for
 * each (a test checks that they agree): one length check and memcmp each instead of the scan's
 * dozen strstr calls, for every column of every result. */
static const struct {
  const char *name;
  size_t len;
  uvsql_type_t type;
} common_types[] = {
#define T(name, type)                                                                              \
  { name, sizeof name - 1, type }
    T("INTEGER", UVSQL_TYPE_INT64),
    T("INT", UVSQL_TYPE_INT64),
    T("BIGINT", UVSQL_TYPE_INT64),
    T("SMALLINT", UVSQL_TYPE_INT64),
    T("TEXT", UVSQL_TYPE_TEXT),
    T("VARCHAR", UVSQL_TYPE_TEXT),
    T("CHAR", UVSQL_TYPE_TEXT),
    T("REAL", UVSQL_TYPE_DOUBLE),
    T("DOUBLE", UVSQL_TYPE_DOUBLE),
    T("DOUBLE PRECISION", UVSQL_TYPE_DOUBLE),
    T("FLOAT", UVSQL_TYPE_DOUBLE),
    T("BOOLEAN", UVSQL_TYPE_BOOL),
    T("BOOL", UVSQL_TYPE_BOOL),
    T("BLOB", UVSQL_TYPE_BYTES),
    T("DATE", UVSQL_TYPE_DATE),
    T("TIME", UVSQL_TYPE_TIME),
    T("DATETIME", UVSQL_TYPE_TIMESTAMP),
    T("TIMESTAMP", UVSQL_TYPE_TIMESTAMP),
    T("TIMESTAMPTZ", UVSQL_TYPE_TIMESTAMPTZ),
    T("NUMERIC", UVSQL_TYPE_NUMERIC),
    T("DECIMAL", UVSQL_TYPE_NUMERIC),
    T("NUMERIC_TEXT", UVSQL_TYPE_NUMERIC),
    T("UUID", UVSQL_TYPE_UUID),
    T("JSON", UVSQL_TYPE_JSON),
#undef T
};

uvsql_type_t uvsql__sq_decltype_common(size_t i, const char **name) {
  if (i >= sizeof common_types / sizeof common_types[0])
    return (uvsql_type_t)-1;
  *name = common_types[i].name;
  return common_types[i].type;
}

/* Length of up without a "(digits[, digits])" size and the blanks before it: "VARCHAR(30)" is
 * looked up as "VARCHAR". The size holds no letter, so the full scan gives both the same type. */
static size_t base_len(const char *up, size_t n) {
  size_t i = n;
  if (n == 0 || up[n - 1] != ')')
    return n;
  for (i = n - 1; i > 0 && up[i - 1] != '('; i--)
    if (!((up[i - 1] >= '0' && up[i - 1] <= '9') || up[i - 1] == ',' || up[i - 1] == ' '))
      return n;
  if (i == 0)
    return n;
  i--; /* at '(' */
  while (i > 0 && up[i - 1] == ' ')
    i--;
  return i;
}

uvsql_type_t uvsql__sq_decltype_to_type(const char *t) {
  char up[64];
  size_t n;
  if (!t || !*t)
    return UVSQL_TYPE_NULL;
  for (n = 0; t[n] && n < sizeof up - 1; n++)
    up[n] = t[n] >= 'a' && t[n] <= 'z' ? (char)(t[n] - 'a' + 'A') : t[n];
  if (t[n])
    return decltype_upper(t, has_nocase);
  up[n] = '\0';
  size_t len = base_len(up, n);
  for (size_t i = 0; i < sizeof common_types / sizeof common_types[0]; i++)
    if (common_types[i].len == len && memcmp(common_types[i].name, up, len) == 0)
      return common_types[i].type;
  return decltype_upper(up, has_upper);
}

uvsql_type_t uvsql__sq_decltype_scan(const char *t) {
  return t && *t ? decltype_upper(t, has_nocase) : UVSQL_TYPE_NULL;
}

static uvsql_type_t decltype_upper(const char *t, int (*has)(const char *, const char *)) {
  /* Most specific first: "DATETIME" holds "DATE" and "TIME", "TIMESTAMPTZ" holds "TIMESTAMP".
   * Then SQLite's own affinity rules (INT, then CHAR/CLOB/TEXT, BLOB, REAL/FLOA/DOUB). */
  if (has(t, "BOOL"))
    return UVSQL_TYPE_BOOL;
  if (has(t, "TIMESTAMPTZ") || has(t, "WITH TIME ZONE"))
    return UVSQL_TYPE_TIMESTAMPTZ;
  if (has(t, "TIMESTAMP") || has(t, "DATETIME"))
    return UVSQL_TYPE_TIMESTAMP;
  if (has(t, "DATE"))
    return UVSQL_TYPE_DATE;
  if (has(t, "TIME"))
    return UVSQL_TYPE_TIME;
  if (has(t, "INTERVAL")) /* before INT */
    return UVSQL_TYPE_INTERVAL;
  if (has(t, "UUID"))
    return UVSQL_TYPE_UUID;
  if (has(t, "JSON"))
    return UVSQL_TYPE_JSON;
  if (has(t, "INT"))
    return UVSQL_TYPE_INT64;
  if (has(t, "NUMERIC") || has(t, "DECIMAL")) /* before TEXT: NUMERIC_TEXT is Core's NUMERIC */
    return UVSQL_TYPE_NUMERIC;
  if (has(t, "CHAR") || has(t, "CLOB") || has(t, "TEXT"))
    return UVSQL_TYPE_TEXT;
  if (has(t, "BLOB") || has(t, "BINARY") || has(t, "BYTEA"))
    return UVSQL_TYPE_BYTES;
  if (has(t, "REAL") || has(t, "FLOA") || has(t, "DOUB"))
    return UVSQL_TYPE_DOUBLE;
  return UVSQL_TYPE_NULL; /* nothing said: whatever the values are */
}

/* A NUMERIC cell of num's canonical text, in r's arena. 0 or UVSQL_ENOMEM. */
static int numeric_from(uvsql_result_t *r, const uvsql_numeric_t *num, uvsql_value_t *v) {
  char buf[UVSQL_NUMERIC_TEXT_SIZE];
  size_t n = uvsql_numeric_format(num, buf, sizeof buf);
  char *copy = uvsql__result_strndup(r, buf, n);
  if (!copy)
    return UVSQL_ENOMEM;
  v->type = UVSQL_TYPE_NUMERIC;
  v->u.s.ptr = copy;
  v->u.s.len = n;
  return 0;
}

/* Text of a NUMERIC column: a NUMERIC cell when it is a decimal (0), else -1 (the caller keeps
 * it as TEXT) or UVSQL_ENOMEM. */
static int numeric_cell(uvsql_result_t *r, const char *p, size_t n, uvsql_value_t *v) {
  uvsql_numeric_t num;
  if (uvsql_numeric_parse(p, n, &num) != 0)
    return -1;
  return numeric_from(r, &num, v);
}

/* A cell of a column declared UUID or JSON as that type, where it is one (see the top).
 * 0, or UVSQL_ENOMEM. */
static int retype(uvsql_result_t *r, uvsql_type_t col, uvsql_value_t *v) {
  if (col == UVSQL_TYPE_UUID) {
    uvsql_uuid_t id;
    if ((v->type == UVSQL_TYPE_BYTES && v->u.s.len == 16) ||
        (v->type == UVSQL_TYPE_TEXT && uvsql_uuid_parse(v->u.s.ptr, v->u.s.len, &id) == 0)) {
      if (v->type == UVSQL_TYPE_BYTES)
        memcpy(id.b, v->u.s.ptr, 16);
      v->type = UVSQL_TYPE_UUID;
      memcpy(v->u.uuid, id.b, 16);
    }
    return 0;
  }
  if (v->type == UVSQL_TYPE_TEXT) {
    v->type = UVSQL_TYPE_JSON;
  } else if (v->type == UVSQL_TYPE_INT64 || v->type == UVSQL_TYPE_DOUBLE) {
    char buf[32];
    int n = v->type == UVSQL_TYPE_INT64 ? snprintf(buf, sizeof buf, "%lld", (long long)v->u.i64)
                                        : snprintf(buf, sizeof buf, "%.17g", v->u.f64);
    char *copy = uvsql__result_strndup(r, buf, (size_t)n);
    if (!copy)
      return UVSQL_ENOMEM;
    v->type = UVSQL_TYPE_JSON;
    v->u.s.ptr = copy;
    v->u.s.len = (size_t)n;
  }
  return 0;
}

int uvsql__sq_read_row(uvsql_result_t *r, sqlite3_stmt *stmt, int ncols, uvsql_type_t *coltypes) {
  uvsql_value_t *row = uvsql__result_add_row(r);
  if (!row)
    return UVSQL_ENOMEM;
  for (int i = 0; i < ncols; i++) {
    uvsql_value_t *v = &row[i];
    const void *p;
    size_t n;
    char *copy;
    /* One column lookup per cell, then the value's own accessors: sqlite3_column_type and
     * sqlite3_column_int64 would each look the column up again. The value is "unprotected"
     * (SQLite's word): only the thread that owns the connection may read it, which is this
     * one, and only until the next step, which is before we return. */
    sqlite3_value *cv = sqlite3_column_value(stmt, i);
    switch (sqlite3_value_type(cv)) {
    case SQLITE_INTEGER:
      v->type = UVSQL_TYPE_INT64;
      v->u.i64 = sqlite3_value_int64(cv);
      if (coltypes[i] == UVSQL_TYPE_NUMERIC) {
        uvsql_numeric_t num = uvsql_numeric_from_int64(v->u.i64);
        if (numeric_from(r, &num, v) != 0)
          return UVSQL_ENOMEM;
      } else if (coltypes[i] == UVSQL_TYPE_BOOL && (v->u.i64 == 0 || v->u.i64 == 1)) {
        int b = (int)v->u.i64;
        v->type = UVSQL_TYPE_BOOL;
        v->u.b = b;
      }
      break;
    case SQLITE_FLOAT:
      v->type = UVSQL_TYPE_DOUBLE;
      v->u.f64 = sqlite3_value_double(cv);
      break;
    case SQLITE_TEXT:
      p = sqlite3_value_text(cv); /* before value_bytes: see SQLite's docs */
      n = (size_t)sqlite3_value_bytes(cv);
      if (!p && n == 0)
        p = "";
      if (!p)
        return UVSQL_ENOMEM;
      if (coltypes[i] == UVSQL_TYPE_NUMERIC && numeric_cell(r, p, n, v) == 0)
        break;
      copy = uvsql__result_strndup(r, p, n);
      if (!copy)
        return UVSQL_ENOMEM;
      v->type = UVSQL_TYPE_TEXT;
      v->u.s.ptr = copy;
      v->u.s.len = n;
      if (coltypes[i] == UVSQL_TYPE_INTERVAL) { /* else it stays the text it is */
        uvsql_interval_t iv;
        if (uvsql_parse_interval(copy, n, &iv) == 0) {
          v->type = UVSQL_TYPE_INTERVAL;
          v->u.iv = iv;
        }
      }
      break;
    case SQLITE_BLOB:
      p = sqlite3_value_blob(cv);
      n = (size_t)sqlite3_value_bytes(cv);
      copy = uvsql__result_alloc(r, n ? n : 1);
      if (!copy)
        return UVSQL_ENOMEM;
      if (n)
        memcpy(copy, p, n);
      v->type = UVSQL_TYPE_BYTES;
      v->u.s.ptr = copy;
      v->u.s.len = n;
      break;
    default:
      v->type = UVSQL_TYPE_NULL;
      break;
    }
    if ((coltypes[i] == UVSQL_TYPE_UUID || coltypes[i] == UVSQL_TYPE_JSON) &&
        v->type != UVSQL_TYPE_NULL && retype(r, coltypes[i], v) != 0)
      return UVSQL_ENOMEM;
    if (coltypes[i] == UVSQL_TYPE_NULL)
      coltypes[i] = v->type;
  }
  return 0;
}
