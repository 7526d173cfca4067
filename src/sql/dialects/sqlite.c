/* src/sql/dialects/sqlite.c — how Core SQL is written for SQLite (3.39+): "quoted"
 * identifiers, ILIKE emulated, NULLS FIRST/LAST and FULL JOIN native, RETURNING everywhere,
 * ON CONFLICT upserts, autoincrement keys as an INTEGER primary key (the rowid). Column type
 * names are chosen so that the driver maps declared types back to uvsql types (BOOLEAN,
 * TIMESTAMPTZ, ...). Compound SELECT parts cannot be parenthesised. */
#include <string.h>
#include <strings.h>
#include "../dialect.h"

/* Declared types: names the driver maps back to uvsql types (BOOLEAN, TIMESTAMPTZ, ...). */
static uvsql__type_names_t sq_type_names = {
    [UVSQL_SQLT_INTEGER] = "INTEGER",     [UVSQL_SQLT_SMALLINT] = "SMALLINT",
    [UVSQL_SQLT_BIGINT] = "BIGINT",       [UVSQL_SQLT_BOOLEAN] = "BOOLEAN",
    [UVSQL_SQLT_FLOAT] = "FLOAT",         [UVSQL_SQLT_DOUBLE] = "DOUBLE",
    [UVSQL_SQLT_NUMERIC] = "NUMERIC",     [UVSQL_SQLT_STRING] = "VARCHAR",
    [UVSQL_SQLT_TEXT] = "TEXT",           [UVSQL_SQLT_BINARY] = "BLOB",
    [UVSQL_SQLT_DATE] = "DATE",           [UVSQL_SQLT_TIME] = "TIME",
    [UVSQL_SQLT_TIMESTAMP] = "TIMESTAMP", [UVSQL_SQLT_TIMESTAMPTZ] = "TIMESTAMPTZ",
    [UVSQL_SQLT_UUID] = "UUID",           [UVSQL_SQLT_JSON] = "JSON",
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
                  "sqlite has no ARRAY type: use JSON (UVSQL_SQL_JSON) for a list of values");
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
      {"INTEGER", UVSQL_SQLT_INTEGER},    {"SMALLINT", UVSQL_SQLT_SMALLINT},
      {"BIGINT", UVSQL_SQLT_BIGINT},      {"BOOLEAN", UVSQL_SQLT_BOOLEAN},
      {"FLOAT", UVSQL_SQLT_FLOAT},        {"REAL", UVSQL_SQLT_FLOAT},
      {"DOUBLE", UVSQL_SQLT_DOUBLE},      {"NUMERIC", UVSQL_SQLT_NUMERIC},
      {"DECIMAL", UVSQL_SQLT_NUMERIC},    {"VARCHAR", UVSQL_SQLT_STRING},
      {"CHAR", UVSQL_SQLT_STRING},        {"TEXT", UVSQL_SQLT_TEXT},
      {"BLOB", UVSQL_SQLT_BINARY},        {"DATE", UVSQL_SQLT_DATE},
      {"TIME", UVSQL_SQLT_TIME},          {"TIMESTAMP", UVSQL_SQLT_TIMESTAMP},
      {"DATETIME", UVSQL_SQLT_TIMESTAMP}, {"TIMESTAMPTZ", UVSQL_SQLT_TIMESTAMPTZ},
      {"UUID", UVSQL_SQLT_UUID},          {"JSON", UVSQL_SQLT_JSON},
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
    .type = sq_type,
    .autoinc = sq_autoinc,
    .excluded = sq_excluded,
    .reflect_sql = sq_reflect,
    .reflect_type = sq_reflect_type,
};
