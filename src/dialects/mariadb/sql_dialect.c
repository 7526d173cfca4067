/* src/dialects/mariadb/sql_dialect.c — how Core SQL is written for MariaDB (10.5+):
 * `backquoted` identifiers, CONCAT() (|| is OR there), ILIKE and NULLS FIRST/LAST emulated,
 * no FULL JOIN, RETURNING for INSERT and DELETE only, ON DUPLICATE KEY UPDATE upserts,
 * AUTO_INCREMENT keys, DATETIME(6)/TIME(6) for microseconds, LONGBLOB for binary.
 * CAST accepts only a few target types here (SIGNED, DOUBLE, DECIMAL, CHAR, ...). */
#include "../../sql/dialect.h"

static void my_type(uvsql__compiler_t *c, uvsql_sqltype_t t, uvsql__type_use_t use) {
  int cast = use == UVSQL__TYPE_CAST;
  switch (t.kind) {
  case UVSQL_SQLT_INTEGER:
  case UVSQL_SQLT_SMALLINT:
  case UVSQL_SQLT_BIGINT:
  case UVSQL_SQLT_BOOLEAN:
    if (cast)
      uvsql__c_puts(c, "SIGNED");
    else
      uvsql__c_puts(c, t.kind == UVSQL_SQLT_INTEGER    ? "INTEGER"
                       : t.kind == UVSQL_SQLT_SMALLINT ? "SMALLINT"
                       : t.kind == UVSQL_SQLT_BIGINT   ? "BIGINT"
                                                       : "BOOL");
    return;
  case UVSQL_SQLT_FLOAT:
    uvsql__c_puts(c, cast ? "DOUBLE" : "FLOAT");
    return;
  case UVSQL_SQLT_DOUBLE:
    uvsql__c_puts(c, "DOUBLE");
    return;
  case UVSQL_SQLT_NUMERIC:
    if (t.precision > 0)
      uvsql__c_printf(c, "DECIMAL(%d, %d)", t.precision, t.scale);
    else
      uvsql__c_puts(c, "DECIMAL");
    return;
  case UVSQL_SQLT_STRING:
    if (cast) {
      if (t.length > 0)
        uvsql__c_printf(c, "CHAR(%d)", t.length);
      else
        uvsql__c_puts(c, "CHAR");
    } else if (t.length > 0) {
      uvsql__c_printf(c, "VARCHAR(%d)", t.length);
    } else {
      uvsql__c_fail(c, UVSQL_ENOT_SUPPORTED,
                    "mariadb: a string column needs a length: use UVSQL_SQL_STRING(n) with n > 0, "
                    "or UVSQL_SQL_TEXT");
    }
    return;
  case UVSQL_SQLT_TEXT:
  case UVSQL_SQLT_JSON:
    uvsql__c_puts(c, cast ? "CHAR" : t.kind == UVSQL_SQLT_TEXT ? "TEXT" : "JSON");
    return;
  case UVSQL_SQLT_UUID:
    uvsql__c_puts(c, cast ? "CHAR(36)" : "UUID");
    return;
  case UVSQL_SQLT_BINARY:
    uvsql__c_puts(c, cast ? "BINARY" : "LONGBLOB");
    return;
  case UVSQL_SQLT_DATE:
    uvsql__c_puts(c, "DATE");
    return;
  case UVSQL_SQLT_TIME:
    uvsql__c_puts(c, "TIME(6)");
    return;
  case UVSQL_SQLT_TIMESTAMP:
  case UVSQL_SQLT_TIMESTAMPTZ: /* stored as UTC: MariaDB has no zoned datetime */
    uvsql__c_puts(c, "DATETIME(6)");
    return;
  }
  uvsql__c_fail(c, UVSQL_EINVALID_ARGUMENT, "unknown column type %d", (int)t.kind);
}

static void my_autoinc(uvsql__compiler_t *c, const uvsql_column_t *col, int *inline_pk) {
  *inline_pk = 0;
  my_type(c, col->type, UVSQL__TYPE_DDL);
  uvsql__c_puts(c, " AUTO_INCREMENT");
}

static void my_excluded(uvsql__compiler_t *c, const char *col) {
  uvsql__c_puts(c, "VALUES(");
  uvsql__c_ident(c, col);
  uvsql__c_puts(c, ")");
}

const uvsql__sql_dialect_t uvsql__sql_dialect_mariadb = {
    .name = "mariadb",
    .index = 1,
    .quote = '`',
    .features = UVSQL__D_RETURNING_INSERT | UVSQL__D_RETURNING_DELETE | UVSQL__D_CONCAT_FUNC |
                UVSQL__D_ON_DUPLICATE | UVSQL__D_PAREN_COMPOUND | UVSQL__D_EMPTY_VALUES,
    .now_sql = "NOW(6)",
    .offset_only = "18446744073709551615",
    .type = my_type,
    .autoinc = my_autoinc,
    .excluded = my_excluded,
};
