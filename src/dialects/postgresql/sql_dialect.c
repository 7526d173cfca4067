/* src/dialects/postgresql/sql_dialect.c — how Core SQL is written for PostgreSQL: "quoted"
 * identifiers, native ILIKE, NULLS FIRST/LAST, FULL JOIN, RETURNING everywhere,
 * ON CONFLICT upserts, SERIAL/BIGSERIAL/SMALLSERIAL for autoincrement keys. Constant data. */
#include "../../sql/dialect.h"

static void pg_type(uvsql__compiler_t *c, uvsql_sqltype_t t, uvsql__type_use_t use) {
  switch (t.kind) {
  case UVSQL_SQLT_INTEGER:
    uvsql__c_puts(c, "INTEGER");
    return;
  case UVSQL_SQLT_SMALLINT:
    uvsql__c_puts(c, "SMALLINT");
    return;
  case UVSQL_SQLT_BIGINT:
    uvsql__c_puts(c, "BIGINT");
    return;
  case UVSQL_SQLT_BOOLEAN:
    uvsql__c_puts(c, "BOOLEAN");
    return;
  case UVSQL_SQLT_FLOAT:
    uvsql__c_puts(c, "REAL");
    return;
  case UVSQL_SQLT_DOUBLE:
    uvsql__c_puts(c, "DOUBLE PRECISION");
    return;
  case UVSQL_SQLT_NUMERIC:
    if (t.precision > 0)
      uvsql__c_printf(c, "NUMERIC(%d, %d)", t.precision, t.scale);
    else
      uvsql__c_puts(c, "NUMERIC");
    return;
  case UVSQL_SQLT_STRING:
    if (t.length > 0)
      uvsql__c_printf(c, "VARCHAR(%d)", t.length);
    else
      uvsql__c_puts(c, "VARCHAR");
    return;
  case UVSQL_SQLT_TEXT:
    uvsql__c_puts(c, "TEXT");
    return;
  case UVSQL_SQLT_BINARY:
    uvsql__c_puts(c, "BYTEA");
    return;
  case UVSQL_SQLT_DATE:
    uvsql__c_puts(c, "DATE");
    return;
  case UVSQL_SQLT_TIME:
    uvsql__c_puts(c, "TIME WITHOUT TIME ZONE");
    return;
  case UVSQL_SQLT_TIMESTAMP:
    uvsql__c_puts(c, "TIMESTAMP WITHOUT TIME ZONE");
    return;
  case UVSQL_SQLT_TIMESTAMPTZ:
    uvsql__c_puts(c, "TIMESTAMP WITH TIME ZONE");
    return;
  case UVSQL_SQLT_UUID:
    uvsql__c_puts(c, "UUID");
    return;
  case UVSQL_SQLT_JSON:
    uvsql__c_puts(c, "JSONB");
    return;
  }
  uvsql__c_fail(c, UVSQL_EINVALID_ARGUMENT, "unknown column type %d", (int)t.kind);
}

static void pg_autoinc(uvsql__compiler_t *c, const uvsql_column_t *col, int *inline_pk) {
  *inline_pk = 0;
  switch (col->type.kind) {
  case UVSQL_SQLT_SMALLINT:
    uvsql__c_puts(c, "SMALLSERIAL");
    return;
  case UVSQL_SQLT_BIGINT:
    uvsql__c_puts(c, "BIGSERIAL");
    return;
  default:
    uvsql__c_puts(c, "SERIAL");
  }
}

static void pg_excluded(uvsql__compiler_t *c, const char *col) {
  uvsql__c_puts(c, "excluded.");
  uvsql__c_ident(c, col);
}

const uvsql__sql_dialect_t uvsql__sql_dialect_postgresql = {
    .name = "postgresql",
    .index = 0,
    .quote = '"',
    .features = UVSQL__D_RETURNING_INSERT | UVSQL__D_RETURNING_UPDATE | UVSQL__D_RETURNING_DELETE |
                UVSQL__D_ILIKE | UVSQL__D_NULLS_ORDER | UVSQL__D_FULL_JOIN |
                UVSQL__D_PAREN_COMPOUND,
    .now_sql = "now()",
    .offset_only = NULL,
    .type = pg_type,
    .autoinc = pg_autoinc,
    .excluded = pg_excluded,
};
