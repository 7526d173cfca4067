/* src/sql/dialects/sqlite.c — how Core SQL is written for SQLite (3.39+): "quoted"
 * identifiers, ILIKE emulated, NULLS FIRST/LAST and FULL JOIN native, RETURNING everywhere,
 * ON CONFLICT upserts, autoincrement keys as an INTEGER primary key (the rowid). Column type
 * names are chosen so that the driver maps declared types back to uvsql types (BOOLEAN,
 * TIMESTAMPTZ, ...). Compound SELECT parts cannot be parenthesised.
 *
 * NUMERIC(p, s) is declared NUMERIC_TEXT(p, s). A column declared NUMERIC or DECIMAL has
 * NUMERIC affinity in SQLite, which stores '0.10' as the REAL 0.1 (and 0.10 + 0.10 then reads
 * 0.20000000000000001): the digits are lost on the way in. The name holds "TEXT", so the
 * column has TEXT affinity and keeps the decimal's text exactly as bound (uvsql sends it
 * canonical, engine/execute.c); it holds no "INT" (which would win); and the driver and
 * reflection read it back as NUMERIC (dialects/sqlite/decode.c, sq_reflect_type below). The
 * cost: SQL in SQLite sees text. Arithmetic (a + b, sum()) converts the text to a double, so
 * compute exact sums in C (uvsql_numeric_t) or on a server backend; comparisons and ORDER BY
 * on the column compare text ('10.00' < '9.00'), so cast (CAST(x AS REAL)) where order
 * matters. A NUMERIC column of a table made elsewhere keeps its NUMERIC affinity: integers
 * and decimal text read as NUMERIC, REALs as DOUBLE. */
#include <string.h>
#include <strings.h>
#include "../dialect.h"
#include "../../engine/stmt_api.h" /* uvsql__backend_keyword */

/* SQLite's keywords (sqlite3_keyword_name() of 3.40, lower case, sorted): used only when
 * this uvsql was built without the SQLite driver. With the driver, the linked library
 * answers (sqlite3_keyword_check, through the backend row), so a newer SQLite's new keywords
 * are quoted too. SQLite accepts many keywords as bare identifiers, but not all, and which
 * ones depends on the position: every keyword is quoted. */
static const char *const sq_keywords[] = {"abort",
                                          "action",
                                          "add",
                                          "after",
                                          "all",
                                          "alter",
                                          "always",
                                          "analyze",
                                          "and",
                                          "as",
                                          "asc",
                                          "attach",
                                          "autoincrement",
                                          "before",
                                          "begin",
                                          "between",
                                          "by",
                                          "cascade",
                                          "case",
                                          "cast",
                                          "check",
                                          "collate",
                                          "column",
                                          "commit",
                                          "conflict",
                                          "constraint",
                                          "create",
                                          "cross",
                                          "current",
                                          "current_date",
                                          "current_time",
                                          "current_timestamp",
                                          "database",
                                          "default",
                                          "deferrable",
                                          "deferred",
                                          "delete",
                                          "desc",
                                          "detach",
                                          "distinct",
                                          "do",
                                          "drop",
                                          "each",
                                          "else",
                                          "end",
                                          "escape",
                                          "except",
                                          "exclude",
                                          "exclusive",
                                          "exists",
                                          "explain",
                                          "fail",
                                          "filter",
                                          "first",
                                          "following",
                                          "for",
                                          "foreign",
                                          "from",
                                          "full",
                                          "generated",
                                          "glob",
                                          "group",
                                          "groups",
                                          "having",
                                          "if",
                                          "ignore",
                                          "immediate",
                                          "in",
                                          "index",
                                          "indexed",
                                          "initially",
                                          "inner",
                                          "insert",
                                          "instead",
                                          "intersect",
                                          "into",
                                          "is",
                                          "isnull",
                                          "join",
                                          "key",
                                          "last",
                                          "left",
                                          "like",
                                          "limit",
                                          "match",
                                          "materialized",
                                          "natural",
                                          "no",
                                          "not",
                                          "nothing",
                                          "notnull",
                                          "null",
                                          "nulls",
                                          "of",
                                          "offset",
                                          "on",
                                          "or",
                                          "order",
                                          "others",
                                          "outer",
                                          "over",
                                          "partition",
                                          "plan",
                                          "pragma",
                                          "preceding",
                                          "primary",
                                          "query",
                                          "raise",
                                          "range",
                                          "recursive",
                                          "references",
                                          "regexp",
                                          "reindex",
                                          "release",
                                          "rename",
                                          "replace",
                                          "restrict",
                                          "returning",
                                          "right",
                                          "rollback",
                                          "row",
                                          "rows",
                                          "savepoint",
                                          "select",
                                          "set",
                                          "table",
                                          "temp",
                                          "temporary",
                                          "then",
                                          "ties",
                                          "to",
                                          "transaction",
                                          "trigger",
                                          "unbounded",
                                          "union",
                                          "unique",
                                          "update",
                                          "using",
                                          "vacuum",
                                          "values",
                                          "view",
                                          "virtual",
                                          "when",
                                          "where",
                                          "window",
                                          "with",
                                          "without"};

static int sq_is_reserved(const char *name) {
  int r = uvsql__backend_keyword("sqlite", name);
  if (r >= 0)
    return r;
  return uvsql__word_in(name, sq_keywords, sizeof sq_keywords / sizeof sq_keywords[0]);
}

/* Declared types: names the driver maps back to uvsql types (BOOLEAN, TIMESTAMPTZ, ...). */
static uvsql__type_names_t sq_type_names = {
    [UVSQL_SQLT_INTEGER] = "INTEGER",
    [UVSQL_SQLT_SMALLINT] = "SMALLINT",
    [UVSQL_SQLT_BIGINT] = "BIGINT",
    [UVSQL_SQLT_BOOLEAN] = "BOOLEAN",
    [UVSQL_SQLT_FLOAT] = "FLOAT",
    [UVSQL_SQLT_DOUBLE] = "DOUBLE",
    [UVSQL_SQLT_NUMERIC] = "NUMERIC_TEXT",
    [UVSQL_SQLT_STRING] = "VARCHAR",
    [UVSQL_SQLT_TEXT] = "TEXT",
    [UVSQL_SQLT_BINARY] = "BLOB",
    [UVSQL_SQLT_DATE] = "DATE",
    [UVSQL_SQLT_TIME] = "TIME",
    [UVSQL_SQLT_TIMESTAMP] = "TIMESTAMP",
    [UVSQL_SQLT_TIMESTAMPTZ] = "TIMESTAMPTZ",
    [UVSQL_SQLT_UUID] = "UUID",
    [UVSQL_SQLT_JSON] = "JSON",
    [UVSQL_SQLT_INTERVAL] = "INTERVAL", /* ISO 8601 duration text; the driver reads it back */
};

static void sq_type(uvsql__compiler_t *c, uvsql_sqltype_t t, uvsql__type_use_t use) {
  if (use == UVSQL__TYPE_CAST) {
    switch (t.kind) {
    case UVSQL_SQLT_INTEGER:
    case UVSQL_SQLT_SMALLINT:
    case UVSQL_SQLT_BIGINT:
    case UVSQL_SQLT_BOOLEAN:
      uvsql__c_puts(c, "INTEGER");
      return;
    case UVSQL_SQLT_FLOAT:
    case UVSQL_SQLT_DOUBLE:
      uvsql__c_puts(c, "REAL");
      return;
    case UVSQL_SQLT_NUMERIC:
      uvsql__c_puts(c, "NUMERIC");
      return;
    case UVSQL_SQLT_BINARY:
      uvsql__c_puts(c, "BLOB");
      return;
    default:
      uvsql__c_puts(c, "TEXT");
      return;
    }
  }
  if (t.kind == UVSQL_SQLT_ENUM) { /* the CHECK (col IN (...)) follows (ddl.c) */
    uvsql__c_printf(c, "VARCHAR(%d)", uvsql__enum_max_len(t.enum_type));
    return;
  }
  if (t.kind == UVSQL_SQLT_ARRAY) {
    uvsql__c_fail(c, UVSQL_ENOT_SUPPORTED,
                  "sqlite has no ARRAY type: use JSON (UVSQL_SQL_JSON, or a JSON field of a model) "
                  "for a list of values");
    return;
  }
  uvsql__c_type_name(c, t, sq_type_names);
}

/* Only a column declared exactly INTEGER becomes the rowid: BIGINT/SMALLINT keys too. */
static void sq_autoinc(uvsql__compiler_t *c, const uvsql_column_t *col, int *inline_pk) {
  *inline_pk = 0;
  uvsql__c_puts(c, "INTEGER");
}

static void sq_excluded(uvsql__compiler_t *c, const char *col) {
  uvsql__c_puts(c, "excluded.");
  uvsql__c_ident(c, col);
}

/* t is the declared type as written in CREATE TABLE ("VARCHAR(50)", "NUMERIC(10, 2)"). */
static uvsql_sqltype_t sq_reflect_type(const char *t, int length, int precision, int scale) {
  static const struct {
    const char *name;
    uvsql_sqltype_kind_t kind;
  } map[] = {
      {"INTEGER", UVSQL_SQLT_INTEGER},
      {"SMALLINT", UVSQL_SQLT_SMALLINT},
      {"BIGINT", UVSQL_SQLT_BIGINT},
      {"BOOLEAN", UVSQL_SQLT_BOOLEAN},
      {"FLOAT", UVSQL_SQLT_FLOAT},
      {"REAL", UVSQL_SQLT_FLOAT},
      {"DOUBLE", UVSQL_SQLT_DOUBLE},
      {"NUMERIC", UVSQL_SQLT_NUMERIC},
      {"DECIMAL", UVSQL_SQLT_NUMERIC},
      {"VARCHAR", UVSQL_SQLT_STRING},
      {"NUMERIC_TEXT", UVSQL_SQLT_NUMERIC},
      {"CHAR", UVSQL_SQLT_STRING},
      {"TEXT", UVSQL_SQLT_TEXT},
      {"BLOB", UVSQL_SQLT_BINARY},
      {"DATE", UVSQL_SQLT_DATE},
      {"TIME", UVSQL_SQLT_TIME},
      {"TIMESTAMP", UVSQL_SQLT_TIMESTAMP},
      {"DATETIME", UVSQL_SQLT_TIMESTAMP},
      {"TIMESTAMPTZ", UVSQL_SQLT_TIMESTAMPTZ},
      {"UUID", UVSQL_SQLT_UUID},
      {"JSON", UVSQL_SQLT_JSON},
      {"INTERVAL", UVSQL_SQLT_INTERVAL},
  };
  uvsql_sqltype_t out = {UVSQL_SQLT_TEXT, 0, 0, 0, NULL, 0};
  size_t n = strcspn(t, "( ");
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strlen(map[i].name) == n && strncasecmp(t, map[i].name, n) == 0)
      out.kind = map[i].kind;
  if (out.kind == UVSQL_SQLT_STRING)
    out.length = length > 0 ? length : 0;
  if (out.kind == UVSQL_SQLT_NUMERIC && precision > 0) {
    out.precision = precision;
    out.scale = scale > 0 ? scale : 0;
  }
  return out;
}

/* doc -> path / doc ->> path (SQLite 3.38+), the path a bound parameter: a bare key would be
 * read as a path when it starts with '$'. ->> gives SQL values: a JSON number is an INTEGER
 * or REAL cell, true/false 1/0. */
static void sq_json_get(uvsql__compiler_t *c, const uvsql_expr_t *doc, const uvsql_value_t *key,
                        int as_text) {
  const char *path = uvsql__c_json_path(c, key, 1);
  if (!path)
    return;
  uvsql_value_t v = UVSQL_V_TEXT(path);
  uvsql__c_putn(c, "(", 1);
  uvsql__c_expr(c, doc);
  uvsql__c_puts(c, as_text ? " ->> " : " -> ");
  uvsql__c_value(c, &v);
  uvsql__c_putn(c, ")", 1);
}

static const char *const sq_reflect[5] = {
    "SELECT m.name, p.name, p.type, NULL, NULL, NULL, p.\"notnull\", p.dflt_value, p.pk = 1 AND "
    "upper(p.type) = 'INTEGER' AND (SELECT count(*) FROM pragma_table_info(m.name) q WHERE q.pk > "
    "0) = 1 FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND "
    "m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid",
    "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = "
    "'table' AND m.name NOT LIKE 'sqlite_%' AND p.pk > 0 ORDER BY m.name, p.pk",
    "SELECT m.name, f.id, NULL, f.\"from\", f.\"table\", f.\"to\", f.on_delete, f.on_update FROM "
    "sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table' AND m.name NOT "
    "LIKE 'sqlite_%' ORDER BY m.name, f.id, f.seq",
    "SELECT m.name, l.name, NULL, i.name FROM sqlite_master m JOIN pragma_index_list(m.name) l "
    "JOIN pragma_index_info(l.name) i WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND "
    "l.origin = 'u' ORDER BY m.name, l.name, i.seqno",
    "SELECT m.name, l.name, l.\"unique\", i.name FROM sqlite_master m JOIN "
    "pragma_index_list(m.name) l JOIN pragma_index_info(l.name) i WHERE m.type = 'table' AND "
    "m.name NOT LIKE 'sqlite_%' AND l.origin = 'c' ORDER BY m.name, l.name, i.seqno",
};

const uvsql__sql_dialect_t uvsql__sql_dialect_sqlite = {
    .name = "sqlite",
    .index = 2,
    .quote = '"',
    .features = UVSQL__D_RETURNING_INSERT | UVSQL__D_RETURNING_UPDATE | UVSQL__D_RETURNING_DELETE |
                UVSQL__D_NULLS_ORDER | UVSQL__D_FULL_JOIN | UVSQL__D_ENUM_CHECK,
    .now_sql = "CURRENT_TIMESTAMP",
    .offset_only = "-1",
    .reserved = sq_is_reserved,
    .type = sq_type,
    .autoinc = sq_autoinc,
    .excluded = sq_excluded,
    .reflect_sql = sq_reflect,
    .reflect_type = sq_reflect_type,
    .json_get = sq_json_get,
};
