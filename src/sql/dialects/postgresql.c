/* src/sql/dialects/postgresql.c — how Core SQL is written for PostgreSQL: "quoted"
 * identifiers, native ILIKE, NULLS FIRST/LAST, FULL JOIN, RETURNING everywhere,
 * ON CONFLICT upserts, SERIAL/BIGSERIAL/SMALLSERIAL for autoincrement keys. Constant data. */
#include <string.h>
#include "../dialect.h"

/* The keywords that are not "unreserved" (pg_get_keywords() catcode R reserved, T reserved
 * but allowed as a function or type name, C allowed as a column name but not a function or
 * type name: those of PostgreSQL 15, plus the words 16 and 17 added to these categories).
 * Every other keyword is an identifier to the grammar, and is written bare. Sorted (strcmp).
 * tests/test_sql_quoting.c checks this list against the server's pg_get_keywords(). */
static const char *const pg_reserved[] = {"all",
                                          "analyse",
                                          "analyze",
                                          "and",
                                          "any",
                                          "array",
                                          "as",
                                          "asc",
                                          "asymmetric",
                                          "authorization",
                                          "between",
                                          "bigint",
                                          "binary",
                                          "bit",
                                          "boolean",
                                          "both",
                                          "case",
                                          "cast",
                                          "char",
                                          "character",
                                          "check",
                                          "coalesce",
                                          "collate",
                                          "collation",
                                          "column",
                                          "concurrently",
                                          "constraint",
                                          "create",
                                          "cross",
                                          "current_catalog",
                                          "current_date",
                                          "current_role",
                                          "current_schema",
                                          "current_time",
                                          "current_timestamp",
                                          "current_user",
                                          "dec",
                                          "decimal",
                                          "default",
                                          "deferrable",
                                          "desc",
                                          "distinct",
                                          "do",
                                          "else",
                                          "end",
                                          "except",
                                          "exists",
                                          "extract",
                                          "false",
                                          "fetch",
                                          "float",
                                          "for",
                                          "foreign",
                                          "freeze",
                                          "from",
                                          "full",
                                          "grant",
                                          "greatest",
                                          "group",
                                          "grouping",
                                          "having",
                                          "ilike",
                                          "in",
                                          "initially",
                                          "inner",
                                          "inout",
                                          "int",
                                          "integer",
                                          "intersect",
                                          "interval",
                                          "into",
                                          "is",
                                          "isnull",
                                          "join",
                                          "json",
                                          "json_array",
                                          "json_arrayagg",
                                          "json_exists",
                                          "json_object",
                                          "json_objectagg",
                                          "json_query",
                                          "json_scalar",
                                          "json_serialize",
                                          "json_table",
                                          "json_value",
                                          "lateral",
                                          "leading",
                                          "least",
                                          "left",
                                          "like",
                                          "limit",
                                          "localtime",
                                          "localtimestamp",
                                          "merge_action",
                                          "national",
                                          "natural",
                                          "nchar",
                                          "none",
                                          "normalize",
                                          "not",
                                          "notnull",
                                          "null",
                                          "nullif",
                                          "numeric",
                                          "offset",
                                          "on",
                                          "only",
                                          "or",
                                          "order",
                                          "out",
                                          "outer",
                                          "overlaps",
                                          "overlay",
                                          "placing",
                                          "position",
                                          "precision",
                                          "primary",
                                          "real",
                                          "references",
                                          "returning",
                                          "right",
                                          "row",
                                          "select",
                                          "session_user",
                                          "setof",
                                          "similar",
                                          "smallint",
                                          "some",
                                          "substring",
                                          "symmetric",
                                          "system_user",
                                          "table",
                                          "tablesample",
                                          "then",
                                          "time",
                                          "timestamp",
                                          "to",
                                          "trailing",
                                          "treat",
                                          "trim",
                                          "true",
                                          "union",
                                          "unique",
                                          "user",
                                          "using",
                                          "values",
                                          "varchar",
                                          "variadic",
                                          "verbose",
                                          "when",
                                          "where",
                                          "window",
                                          "with",
                                          "xmlattributes",
                                          "xmlconcat",
                                          "xmlelement",
                                          "xmlexists",
                                          "xmlforest",
                                          "xmlnamespaces",
                                          "xmlparse",
                                          "xmlpi",
                                          "xmlroot",
                                          "xmlserialize",
                                          "xmltable"};

static int pg_is_reserved(const char *name) {
  return uvsql__word_in(name, pg_reserved, sizeof pg_reserved / sizeof pg_reserved[0]);
}

static uvsql__type_names_t pg_type_names = {
    [UVSQL_SQLT_INTEGER] = "INTEGER",
    [UVSQL_SQLT_SMALLINT] = "SMALLINT",
    [UVSQL_SQLT_BIGINT] = "BIGINT",
    [UVSQL_SQLT_BOOLEAN] = "BOOLEAN",
    [UVSQL_SQLT_FLOAT] = "REAL",
    [UVSQL_SQLT_DOUBLE] = "DOUBLE PRECISION",
    [UVSQL_SQLT_NUMERIC] = "NUMERIC",
    [UVSQL_SQLT_STRING] = "VARCHAR",
    [UVSQL_SQLT_TEXT] = "TEXT",
    [UVSQL_SQLT_BINARY] = "BYTEA",
    [UVSQL_SQLT_DATE] = "DATE",
    [UVSQL_SQLT_TIME] = "TIME WITHOUT TIME ZONE",
    [UVSQL_SQLT_TIMESTAMP] = "TIMESTAMP WITHOUT TIME ZONE",
    [UVSQL_SQLT_TIMESTAMPTZ] = "TIMESTAMP WITH TIME ZONE",
    [UVSQL_SQLT_UUID] = "UUID",
    [UVSQL_SQLT_JSON] = "JSONB",
    [UVSQL_SQLT_INTERVAL] = "INTERVAL",
};

static void pg_type(uvsql__compiler_t *c, uvsql_sqltype_t t, uvsql__type_use_t use) {
  (void)use;                       /* CREATE TABLE and CAST take the same names */
  if (t.kind == UVSQL_SQLT_ENUM) { /* the type create_all makes (ddl.c) */
    uvsql__c_ident(c, t.enum_type->name);
    return;
  }
  if (t.kind == UVSQL_SQLT_ARRAY) { /* BIGINT[], TEXT[], ... */
    uvsql_sqltype_t elem = {
        (uvsql_sqltype_kind_t)t.element, t.length, t.precision, t.scale, NULL, 0};
    uvsql__c_type_name(c, elem, pg_type_names);
    uvsql__c_puts(c, "[]");
    return;
  }
  uvsql__c_type_name(c, t, pg_type_names);
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

static uvsql_sqltype_t pg_reflect_type(const char *t, int length, int precision, int scale) {
  static const struct {
    const char *name;
    uvsql_sqltype_kind_t kind;
  } map[] = {
      {"integer", UVSQL_SQLT_INTEGER},
      {"smallint", UVSQL_SQLT_SMALLINT},
      {"bigint", UVSQL_SQLT_BIGINT},
      {"boolean", UVSQL_SQLT_BOOLEAN},
      {"real", UVSQL_SQLT_FLOAT},
      {"double precision", UVSQL_SQLT_DOUBLE},
      {"numeric", UVSQL_SQLT_NUMERIC},
      {"character varying", UVSQL_SQLT_STRING},
      {"character", UVSQL_SQLT_STRING},
      {"text", UVSQL_SQLT_TEXT},
      {"bytea", UVSQL_SQLT_BINARY},
      {"date", UVSQL_SQLT_DATE},
      {"time without time zone", UVSQL_SQLT_TIME},
      {"timestamp without time zone", UVSQL_SQLT_TIMESTAMP},
      {"timestamp with time zone", UVSQL_SQLT_TIMESTAMPTZ},
      {"uuid", UVSQL_SQLT_UUID},
      {"json", UVSQL_SQLT_JSON},
      {"jsonb", UVSQL_SQLT_JSON},
      {"interval", UVSQL_SQLT_INTERVAL},
  };
  uvsql_sqltype_t out = {UVSQL_SQLT_TEXT, 0, 0, 0, NULL, 0};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(t, map[i].name) == 0)
      out.kind = map[i].kind;
  if (out.kind == UVSQL_SQLT_STRING)
    out.length = length > 0 ? length : 0;
  if (out.kind == UVSQL_SQLT_NUMERIC && precision > 0) {
    out.precision = precision;
    out.scale = scale > 0 ? scale : 0;
  }
  return out;
}

/* doc -> key / doc ->> key; the key's type chosen by a CAST, as the parameter would else be
 * int8 (no jsonb -> int8 operator) or of unknown type. */
static void pg_json_get(uvsql__compiler_t *c, const uvsql_expr_t *doc, const uvsql_value_t *key,
                        int as_text) {
  uvsql__c_putn(c, "(", 1);
  uvsql__c_expr(c, doc);
  uvsql__c_puts(c, as_text ? " ->> CAST(" : " -> CAST(");
  uvsql__c_value(c, key);
  uvsql__c_puts(c, key->type == UVSQL_TYPE_INT64 ? " AS INTEGER))" : " AS TEXT))");
}

#define PG_TABLES                                                                                  \
  "JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = "        \
  "c.table_name AND t.table_type = 'BASE TABLE' WHERE c.table_schema = current_schema() "

static const char *const pg_reflect[5] = {
    "SELECT c.table_name, c.column_name, c.data_type, c.character_maximum_length, "
    "c.numeric_precision, c.numeric_scale, CASE WHEN c.is_nullable = 'NO' THEN 1 ELSE 0 END, "
    "c.column_default, CASE WHEN c.column_default LIKE 'nextval(%' OR c.is_identity = 'YES' THEN "
    "1 ELSE 0 END FROM information_schema.columns c " PG_TABLES
    "ORDER BY c.table_name, c.ordinal_position",
    "SELECT c.table_name, k.column_name FROM information_schema.table_constraints c JOIN "
    "information_schema.key_column_usage k ON k.constraint_schema = c.constraint_schema AND "
    "k.constraint_name = c.constraint_name AND k.table_name = c.table_name WHERE c.table_schema "
    "= current_schema() AND c.constraint_type = 'PRIMARY KEY' ORDER BY c.table_name, "
    "k.ordinal_position",
    "SELECT k.table_name, k.constraint_name, k.constraint_name, k.column_name, u.table_name, "
    "u.column_name, r.delete_rule, r.update_rule FROM information_schema.referential_constraints "
    "r JOIN information_schema.key_column_usage k ON k.constraint_schema = r.constraint_schema "
    "AND k.constraint_name = r.constraint_name JOIN information_schema.key_column_usage u ON "
    "u.constraint_schema = r.unique_constraint_schema AND u.constraint_name = "
    "r.unique_constraint_name AND u.ordinal_position = k.position_in_unique_constraint WHERE "
    "k.table_schema = current_schema() ORDER BY k.table_name, k.constraint_name, "
    "k.ordinal_position",
    "SELECT c.table_name, c.constraint_name, c.constraint_name, k.column_name FROM "
    "information_schema.table_constraints c JOIN information_schema.key_column_usage k ON "
    "k.constraint_schema = c.constraint_schema AND k.constraint_name = c.constraint_name AND "
    "k.table_name = c.table_name WHERE c.table_schema = current_schema() AND c.constraint_type = "
    "'UNIQUE' ORDER BY c.table_name, c.constraint_name, k.ordinal_position",
    "SELECT t.relname, i.relname, CASE WHEN x.indisunique THEN 1 ELSE 0 END, a.attname FROM "
    "pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid "
    "JOIN pg_namespace n ON n.oid = t.relnamespace CROSS JOIN generate_series(0, x.indnatts - 1) "
    "AS k(n) JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[k.n] WHERE "
    "n.nspname = current_schema() AND NOT x.indisprimary AND NOT EXISTS (SELECT 1 FROM "
    "pg_constraint c WHERE c.conindid = x.indexrelid AND c.contype IN ('p', 'u', 'x')) ORDER BY "
    "t.relname, i.relname, k.n",
};

const uvsql__sql_dialect_t uvsql__sql_dialect_postgresql = {
    .name = "postgresql",
    .index = 0,
    .quote = '"',
    .features = UVSQL__D_RETURNING_INSERT | UVSQL__D_RETURNING_UPDATE | UVSQL__D_RETURNING_DELETE |
                UVSQL__D_ILIKE | UVSQL__D_NULLS_ORDER | UVSQL__D_FULL_JOIN |
                UVSQL__D_PAREN_COMPOUND | UVSQL__D_ALTER_FK | UVSQL__D_ENUM_TYPE,
    .now_sql = "now()",
    .offset_only = NULL,
    .reserved = pg_is_reserved,
    .type = pg_type,
    .autoinc = pg_autoinc,
    .excluded = pg_excluded,
    .reflect_sql = pg_reflect,
    .reflect_type = pg_reflect_type,
    .json_get = pg_json_get,
};
