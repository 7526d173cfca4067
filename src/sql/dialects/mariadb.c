/* src/sql/dialects/mariadb.c — how Core SQL is written for MariaDB (10.5+):
 * `backquoted` identifiers, CONCAT() (|| is OR there), ILIKE and NULLS FIRST/LAST emulated,
 * no FULL JOIN, RETURNING for INSERT and DELETE only, ON DUPLICATE KEY UPDATE upserts,
 * AUTO_INCREMENT keys, DATETIME(6)/TIME(6) for microseconds, LONGTEXT for TEXT and LONGBLOB for
 * BINARY (up to 4 GB, as much as the other backends hold, so that what a user stores fits:
 * MariaDB's TEXT stops at 64 KB; the packet limit, max_allowed_packet, is the server's own),
 * VARCHAR(n) for STRING(n).
 * CAST accepts only a few target types here (SIGNED, DOUBLE, DECIMAL, CHAR, ...). */
#include <string.h>
#include "../dialect.h"

/* The reserved words: those of MariaDB 10.11 (every word of information_schema.KEYWORDS that
 * cannot stand unquoted as a column or table name, or an alias: the docs' "Reserved Words"
 * list), plus GENERAL, IGNORE_SERVER_IDS and MASTER_HEARTBEAT_PERIOD that older versions
 * reserve. Words reserved only under sql_mode=ORACLE (BODY, ELSIF, GOTO, ...) are not here:
 * uvsql's connections use the default mode. Sorted (strcmp). tests/test_sql_quoting.c walks
 * the server's whole KEYWORDS table through Core. */
static const char *const my_reserved[] = {"accessible",
                                          "add",
                                          "all",
                                          "alter",
                                          "analyze",
                                          "and",
                                          "as",
                                          "asc",
                                          "asensitive",
                                          "before",
                                          "between",
                                          "bigint",
                                          "binary",
                                          "blob",
                                          "both",
                                          "by",
                                          "call",
                                          "cascade",
                                          "case",
                                          "change",
                                          "char",
                                          "character",
                                          "check",
                                          "collate",
                                          "column",
                                          "condition",
                                          "constraint",
                                          "continue",
                                          "convert",
                                          "create",
                                          "cross",
                                          "current_date",
                                          "current_role",
                                          "current_time",
                                          "current_timestamp",
                                          "current_user",
                                          "cursor",
                                          "databases",
                                          "day_hour",
                                          "day_microsecond",
                                          "day_minute",
                                          "day_second",
                                          "dec",
                                          "decimal",
                                          "declare",
                                          "default",
                                          "delayed",
                                          "delete",
                                          "delete_domain_id",
                                          "desc",
                                          "describe",
                                          "deterministic",
                                          "distinct",
                                          "distinctrow",
                                          "div",
                                          "do_domain_ids",
                                          "double",
                                          "drop",
                                          "dual",
                                          "each",
                                          "else",
                                          "elseif",
                                          "enclosed",
                                          "escaped",
                                          "except",
                                          "exists",
                                          "exit",
                                          "explain",
                                          "false",
                                          "fetch",
                                          "float",
                                          "float4",
                                          "float8",
                                          "for",
                                          "force",
                                          "foreign",
                                          "from",
                                          "fulltext",
                                          "general",
                                          "grant",
                                          "group",
                                          "having",
                                          "high_priority",
                                          "hour_microsecond",
                                          "hour_minute",
                                          "hour_second",
                                          "if",
                                          "ignore",
                                          "ignore_domain_ids",
                                          "ignore_server_ids",
                                          "in",
                                          "index",
                                          "infile",
                                          "inner",
                                          "inout",
                                          "insensitive",
                                          "insert",
                                          "int",
                                          "int1",
                                          "int2",
                                          "int3",
                                          "int4",
                                          "int8",
                                          "integer",
                                          "intersect",
                                          "interval",
                                          "into",
                                          "is",
                                          "iterate",
                                          "join",
                                          "key",
                                          "keys",
                                          "kill",
                                          "leading",
                                          "leave",
                                          "left",
                                          "like",
                                          "limit",
                                          "linear",
                                          "lines",
                                          "load",
                                          "localtime",
                                          "localtimestamp",
                                          "lock",
                                          "long",
                                          "longblob",
                                          "longtext",
                                          "loop",
                                          "low_priority",
                                          "master_demote_to_replica",
                                          "master_demote_to_slave",
                                          "master_heartbeat_period",
                                          "master_ssl_verify_server_cert",
                                          "match",
                                          "maxvalue",
                                          "mediumblob",
                                          "mediumint",
                                          "mediumtext",
                                          "middleint",
                                          "minute_microsecond",
                                          "minute_second",
                                          "mod",
                                          "modifies",
                                          "natural",
                                          "no_write_to_binlog",
                                          "not",
                                          "null",
                                          "numeric",
                                          "offset",
                                          "on",
                                          "optimize",
                                          "optionally",
                                          "or",
                                          "order",
                                          "out",
                                          "outer",
                                          "outfile",
                                          "over",
                                          "page_checksum",
                                          "parse_vcol_expr",
                                          "partition",
                                          "portion",
                                          "precision",
                                          "primary",
                                          "procedure",
                                          "purge",
                                          "range",
                                          "read",
                                          "read_write",
                                          "reads",
                                          "real",
                                          "recursive",
                                          "ref_system_id",
                                          "references",
                                          "regexp",
                                          "release",
                                          "rename",
                                          "repeat",
                                          "replace",
                                          "require",
                                          "resignal",
                                          "restrict",
                                          "return",
                                          "returning",
                                          "revoke",
                                          "right",
                                          "rlike",
                                          "row_number",
                                          "rows",
                                          "schemas",
                                          "second_microsecond",
                                          "select",
                                          "sensitive",
                                          "separator",
                                          "set",
                                          "show",
                                          "signal",
                                          "smallint",
                                          "spatial",
                                          "specific",
                                          "sql",
                                          "sql_big_result",
                                          "sql_calc_found_rows",
                                          "sql_small_result",
                                          "sqlexception",
                                          "sqlstate",
                                          "sqlwarning",
                                          "ssl",
                                          "starting",
                                          "stats_auto_recalc",
                                          "stats_persistent",
                                          "stats_sample_pages",
                                          "straight_join",
                                          "table",
                                          "terminated",
                                          "then",
                                          "tinyblob",
                                          "tinyint",
                                          "tinytext",
                                          "to",
                                          "trailing",
                                          "trigger",
                                          "true",
                                          "undo",
                                          "union",
                                          "unique",
                                          "unlock",
                                          "unsigned",
                                          "update",
                                          "usage",
                                          "use",
                                          "using",
                                          "utc_date",
                                          "utc_time",
                                          "utc_timestamp",
                                          "value",
                                          "values",
                                          "varbinary",
                                          "varchar",
                                          "varcharacter",
                                          "varying",
                                          "when",
                                          "where",
                                          "while",
                                          "with",
                                          "write",
                                          "xor",
                                          "year_month",
                                          "zerofill"};

static int my_is_reserved(const char *name) {
  return uvsql__word_in(name, my_reserved, sizeof my_reserved / sizeof my_reserved[0]);
}

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
    uvsql__c_puts(c, cast ? "CHAR" : t.kind == UVSQL_SQLT_TEXT ? "LONGTEXT" : "JSON");
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
  case UVSQL_SQLT_ENUM:
    if (cast) {
      uvsql__c_puts(c, "CHAR");
    } else {
      uvsql__c_puts(c, "ENUM");
      uvsql__c_enum_labels(c, t.enum_type, 1);
    }
    return;
  case UVSQL_SQLT_INTERVAL: /* no interval type: ISO 8601 duration text (uvsql_format_interval) */
    uvsql__c_puts(c, cast ? "CHAR(64)" : "VARCHAR(64)");
    return;
  case UVSQL_SQLT_ARRAY:
    uvsql__c_fail(c, UVSQL_ENOT_SUPPORTED,
                  "mariadb has no ARRAY type: use JSON (UVSQL_SQL_JSON, or a JSON field of a "
                  "model) for a list of values");
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

static int starts(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* t is COLUMN_TYPE ("int(11)", "tinyint(1)", "decimal(10,2)", "varchar(50)", ...). */
static uvsql_sqltype_t my_reflect_type(const char *t, int length, int precision, int scale) {
  uvsql_sqltype_t out = {UVSQL_SQLT_TEXT, 0, 0, 0, NULL, 0};
  if (starts(t, "tinyint(1)"))
    out.kind = UVSQL_SQLT_BOOLEAN;
  else if (starts(t, "int") || starts(t, "mediumint"))
    out.kind = UVSQL_SQLT_INTEGER;
  else if (starts(t, "smallint") || starts(t, "tinyint"))
    out.kind = UVSQL_SQLT_SMALLINT;
  else if (starts(t, "bigint"))
    out.kind = UVSQL_SQLT_BIGINT;
  else if (starts(t, "float"))
    out.kind = UVSQL_SQLT_FLOAT;
  else if (starts(t, "double"))
    out.kind = UVSQL_SQLT_DOUBLE;
  else if (starts(t, "decimal")) {
    out.kind = UVSQL_SQLT_NUMERIC;
    out.precision = precision > 0 ? precision : 0;
    out.scale = scale > 0 ? scale : 0;
  } else if (starts(t, "varchar") || starts(t, "char")) {
    out.kind = UVSQL_SQLT_STRING;
    out.length = length > 0 ? length : 0;
  } else if (strstr(t, "blob") || starts(t, "varbinary") || starts(t, "binary"))
    out.kind = UVSQL_SQLT_BINARY;
  else if (starts(t, "datetime") || starts(t, "timestamp"))
    out.kind = UVSQL_SQLT_TIMESTAMP;
  else if (starts(t, "date"))
    out.kind = UVSQL_SQLT_DATE;
  else if (starts(t, "time"))
    out.kind = UVSQL_SQLT_TIME;
  else if (starts(t, "uuid"))
    out.kind = UVSQL_SQLT_UUID;
  else if (starts(t, "json"))
    out.kind = UVSQL_SQLT_JSON;
  return out;
}

/* JSON_EXTRACT(doc, path) (JSON_UNQUOTE of it as text), the path a bound parameter. */
static void my_json_get(uvsql__compiler_t *c, const uvsql_expr_t *doc, const uvsql_value_t *key,
                        int as_text) {
  const char *path = uvsql__c_json_path(c, key, 0);
  if (!path)
    return;
  uvsql_value_t v = UVSQL_V_TEXT(path);
  uvsql__c_puts(c, as_text ? "JSON_UNQUOTE(JSON_EXTRACT(" : "JSON_EXTRACT(");
  uvsql__c_expr(c, doc);
  uvsql__c_putn(c, ", ", 2);
  uvsql__c_value(c, &v);
  uvsql__c_puts(c, as_text ? "))" : ")");
}

static const char *const my_reflect[5] = {
    /* a JSON column is a LONGTEXT with the CHECK (json_valid(`col`)) the server adds: "json" */
    "SELECT c.table_name, c.column_name, CASE WHEN c.data_type = 'longtext' AND EXISTS (SELECT 1 "
    "FROM information_schema.check_constraints k WHERE k.constraint_schema = c.table_schema AND "
    "k.table_name = c.table_name AND k.check_clause = CONCAT('json_valid(`', c.column_name, "
    "'`)')) THEN 'json' ELSE c.column_type END, c.character_maximum_length, "
    "c.numeric_precision, c.numeric_scale, c.is_nullable = 'NO', CASE WHEN c.column_default = "
    "'NULL' THEN NULL ELSE c.column_default END, c.extra LIKE '%auto_increment%' FROM "
    "information_schema.columns c JOIN information_schema.tables t ON t.table_schema = "
    "c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' WHERE "
    "c.table_schema = DATABASE() ORDER BY c.table_name, c.ordinal_position",
    "SELECT k.table_name, k.column_name FROM information_schema.key_column_usage k WHERE "
    "k.table_schema = DATABASE() AND k.constraint_name = 'PRIMARY' ORDER BY k.table_name, "
    "k.ordinal_position",
    "SELECT k.table_name, k.constraint_name, k.constraint_name, k.column_name, "
    "k.referenced_table_name, k.referenced_column_name, "
    /* InnoDB reports its default (NO ACTION, which it treats as RESTRICT) as RESTRICT */
    "CASE r.delete_rule WHEN 'RESTRICT' THEN 'NO ACTION' ELSE r.delete_rule END, "
    "CASE r.update_rule WHEN 'RESTRICT' THEN 'NO ACTION' ELSE r.update_rule END FROM "
    "information_schema.key_column_usage k JOIN information_schema.referential_constraints r ON "
    "r.constraint_schema = k.constraint_schema AND r.constraint_name = k.constraint_name AND "
    "r.table_name = k.table_name WHERE k.table_schema = DATABASE() AND k.referenced_table_name "
    "IS NOT NULL ORDER BY k.table_name, k.constraint_name, k.ordinal_position",
    "SELECT c.table_name, c.constraint_name, c.constraint_name, k.column_name FROM "
    "information_schema.table_constraints c JOIN information_schema.key_column_usage k ON "
    "k.constraint_schema = c.constraint_schema AND k.constraint_name = c.constraint_name AND "
    "k.table_name = c.table_name WHERE c.table_schema = DATABASE() AND c.constraint_type = "
    "'UNIQUE' ORDER BY c.table_name, c.constraint_name, k.ordinal_position",
    "SELECT s.table_name, s.index_name, s.non_unique = 0, s.column_name FROM "
    "information_schema.statistics s WHERE s.table_schema = DATABASE() AND s.index_name != "
    "'PRIMARY' AND NOT EXISTS (SELECT 1 FROM information_schema.table_constraints c WHERE "
    "c.table_schema = s.table_schema AND c.table_name = s.table_name AND c.constraint_name = "
    "s.index_name) "
    /* nor the index InnoDB makes for a foreign key, named after its first column */
    "AND NOT (s.non_unique = 1 AND EXISTS (SELECT 1 FROM information_schema.key_column_usage f "
    "WHERE f.table_schema = s.table_schema AND f.table_name = s.table_name AND "
    "f.referenced_table_name IS NOT NULL AND f.ordinal_position = 1 AND f.column_name = "
    "s.index_name)) ORDER BY s.table_name, s.index_name, s.seq_in_index",
};

const uvsql__sql_dialect_t uvsql__sql_dialect_mariadb = {
    .name = "mariadb",
    .index = 1,
    .quote = '`',
    .features = UVSQL__D_RETURNING_INSERT | UVSQL__D_RETURNING_DELETE | UVSQL__D_CONCAT_FUNC |
                UVSQL__D_ON_DUPLICATE | UVSQL__D_PAREN_COMPOUND | UVSQL__D_EMPTY_VALUES |
                UVSQL__D_ALTER_FK,
    .now_sql = "NOW(6)",
    .offset_only = "18446744073709551615",
    .reserved = my_is_reserved,
    .type = my_type,
    .autoinc = my_autoinc,
    .excluded = my_excluded,
    .reflect_sql = my_reflect,
    .reflect_type = my_reflect_type,
    .json_get = my_json_get,
};
