/* tests/test_sql_compile.c — golden tests of Core: the SQL text and the order of the bound
 * values each construct compiles to on PostgreSQL, MariaDB and SQLite. No server needed.
 * Each TEST is one behaviour, checked on all three dialects. */
#include "backend.h"
#include "uvsql/sql.h"
#include "sql/internal.h"

typedef struct {
  uvsql_metadata_t *md;
  uvsql_table_t *orgs, *users, *orders;
} schema_t;

static schema_t schema(void) {
  schema_t s;
  s.md = uvsql_metadata_new();
  s.orgs = uvsql_table(s.md, "orgs");
  uvsql_column(s.orgs, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY);
  uvsql_column(s.orgs, "name", UVSQL_SQL_STRING(50), UVSQL_NOT_NULL | UVSQL_UNIQUE);
  s.users = uvsql_table(s.md, "users");
  uvsql_column(s.users, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY);
  uvsql_column_references(uvsql_column(s.users, "org_id", UVSQL_SQL_INTEGER, 0), "orgs.id",
                          UVSQL_FK_CASCADE, UVSQL_FK_NO_ACTION);
  uvsql_column(s.users, "name", UVSQL_SQL_STRING(50), UVSQL_NOT_NULL);
  uvsql_column(s.users, "email", UVSQL_SQL_STRING(100), UVSQL_UNIQUE);
  uvsql_column_server_default(uvsql_column(s.users, "active", UVSQL_SQL_BOOLEAN, UVSQL_NOT_NULL),
                              "1");
  uvsql_column(s.users, "Group", UVSQL_SQL_TEXT, 0);
  s.orders = uvsql_table(s.md, "orders");
  uvsql_column(s.orders, "id", UVSQL_SQL_BIGINT, UVSQL_PRIMARY_KEY);
  uvsql_column_references(uvsql_column(s.orders, "user_id", UVSQL_SQL_INTEGER, UVSQL_NOT_NULL),
                          "users.id", UVSQL_FK_NO_ACTION, UVSQL_FK_NO_ACTION);
  uvsql_column(s.orders, "amount", UVSQL_SQL_NUMERIC(10, 2), UVSQL_INDEX);
  uvsql_column(s.orders, "placed", UVSQL_SQL_TIMESTAMPTZ, 0);
  ASSERT(uvsql_metadata_error(s.md) == NULL);
  return s;
}

static const char *const dialects[3] = {"postgresql", "mariadb", "sqlite"};

/* Asserts the SQL for each dialect (NULL: same as PostgreSQL's) and the value names, in
 * order, as "param_1,param_2". */
static void expect(uvsql_core_stmt_t *s, const char *pg, const char *my, const char *sq,
                   const char *names) {
  const char *want[3] = {pg, my ? my : pg, sq ? sq : pg};
  for (int i = 0; i < 3; i++) {
    const char *sql;
    const uvsql_param_t *v;
    size_t n;
    uvsql_error_t err;
    ASSERT_OK(uvsql_core_compile(s, dialects[i], NULL, 0, &sql, &v, &n, &err), &err);
    if (strcmp(sql, want[i]) != 0)
      FAILF("%s:\n  got  %s\n  want %s", dialects[i], sql, want[i]);
    char got[512] = "";
    for (size_t k = 0; k < n; k++) {
      if (k)
        strcat(got, ",");
      strcat(got, v[k].name);
    }
    ASSERT_STR_EQ(got, names);
  }
  uvsql_core_stmt_free(s);
}

/* Asserts compiling s for dialect fails with code and a message containing text. */
static void expect_err(uvsql_core_stmt_t *s, const char *dialect, int code, const char *text) {
  uvsql_error_t err;
  const char *sql;
  ASSERT_ERR(uvsql_core_compile(s, dialect, NULL, 0, &sql, NULL, NULL, &err), code);
  ASSERT_STR_CONTAINS(err.message, text);
}

TEST(create_table_per_dialect) {
  schema_t db = schema();
  expect(uvsql_create_table(db.users),
         "CREATE TABLE IF NOT EXISTS users (id SERIAL NOT NULL, org_id INTEGER, name VARCHAR(50) "
         "NOT NULL, email VARCHAR(100), active BOOLEAN NOT NULL DEFAULT 1, \"Group\" TEXT, "
         "PRIMARY KEY (id), UNIQUE (email), FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE "
         "CASCADE)",
         "CREATE TABLE IF NOT EXISTS users (id INTEGER AUTO_INCREMENT NOT NULL, org_id INTEGER, "
         "name VARCHAR(50) NOT NULL, email VARCHAR(100), active BOOL NOT NULL DEFAULT 1, `Group` "
         "TEXT, PRIMARY KEY (id), UNIQUE (email), FOREIGN KEY (org_id) REFERENCES orgs (id) ON "
         "DELETE CASCADE)",
         "CREATE TABLE IF NOT EXISTS users (id INTEGER NOT NULL, org_id INTEGER, name VARCHAR(50) "
         "NOT NULL, email VARCHAR(100), active BOOLEAN NOT NULL DEFAULT 1, \"Group\" TEXT, "
         "PRIMARY KEY (id), UNIQUE (email), FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE "
         "CASCADE)",
         "");
  expect(uvsql_create_table(db.orders),
         "CREATE TABLE IF NOT EXISTS orders (id BIGSERIAL NOT NULL, user_id INTEGER NOT NULL, "
         "amount NUMERIC(10, 2), placed TIMESTAMP WITH TIME ZONE, PRIMARY KEY (id), FOREIGN KEY "
         "(user_id) REFERENCES users (id))",
         "CREATE TABLE IF NOT EXISTS orders (id BIGINT AUTO_INCREMENT NOT NULL, user_id INTEGER "
         "NOT NULL, amount DECIMAL(10, 2), placed DATETIME(6), PRIMARY KEY (id), FOREIGN KEY "
         "(user_id) REFERENCES users (id))",
         "CREATE TABLE IF NOT EXISTS orders (id INTEGER NOT NULL, user_id INTEGER NOT NULL, "
         "amount NUMERIC(10, 2), placed TIMESTAMPTZ, PRIMARY KEY (id), FOREIGN KEY (user_id) "
         "REFERENCES users (id))",
         "");
  uvsql_metadata_free(db.md);
}

TEST(every_type_has_a_ddl_name) {
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *t = uvsql_table(md, "all_types");
  uvsql_column(t, "a", UVSQL_SQL_INTEGER, 0);
  uvsql_column(t, "b", UVSQL_SQL_SMALLINT, 0);
  uvsql_column(t, "c", UVSQL_SQL_BIGINT, 0);
  uvsql_column(t, "d", UVSQL_SQL_BOOLEAN, 0);
  uvsql_column(t, "e", UVSQL_SQL_FLOAT, 0);
  uvsql_column(t, "f", UVSQL_SQL_DOUBLE, 0);
  uvsql_column(t, "g", UVSQL_SQL_NUMERIC(12, 3), 0);
  uvsql_column(t, "h", UVSQL_SQL_STRING(20), 0);
  uvsql_column(t, "i", UVSQL_SQL_TEXT, 0);
  uvsql_column(t, "j", UVSQL_SQL_BINARY, 0);
  uvsql_column(t, "k", UVSQL_SQL_DATE, 0);
  uvsql_column(t, "l", UVSQL_SQL_TIME, 0);
  uvsql_column(t, "m", UVSQL_SQL_TIMESTAMP, 0);
  uvsql_column(t, "n", UVSQL_SQL_TIMESTAMPTZ, 0);
  uvsql_column(t, "o", UVSQL_SQL_UUID, 0);
  uvsql_column(t, "p", UVSQL_SQL_JSON, 0);
  expect(uvsql_create_table(t),
         "CREATE TABLE IF NOT EXISTS all_types (a INTEGER, b SMALLINT, c BIGINT, d BOOLEAN, e "
         "REAL, f DOUBLE PRECISION, g NUMERIC(12, 3), h VARCHAR(20), i TEXT, j BYTEA, k DATE, l "
         "TIME WITHOUT TIME ZONE, m TIMESTAMP WITHOUT TIME ZONE, n TIMESTAMP WITH TIME ZONE, o "
         "UUID, p JSONB)",
         "CREATE TABLE IF NOT EXISTS all_types (a INTEGER, b SMALLINT, c BIGINT, d BOOL, e FLOAT, "
         "f DOUBLE, g DECIMAL(12, 3), h VARCHAR(20), i TEXT, j LONGBLOB, k DATE, l TIME(6), m "
         "DATETIME(6), n DATETIME(6), o UUID, p JSON)",
         "CREATE TABLE IF NOT EXISTS all_types (a INTEGER, b SMALLINT, c BIGINT, d BOOLEAN, e "
         "FLOAT, f DOUBLE, g NUMERIC(12, 3), h VARCHAR(20), i TEXT, j BLOB, k DATE, l TIME, m "
         "TIMESTAMP, n TIMESTAMPTZ, o UUID, p JSON)",
         "");
  uvsql_metadata_free(md);
}

TEST(composite_keys_checks_and_named_constraints) {
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *a = uvsql_table(md, "a");
  uvsql_column(a, "x", UVSQL_SQL_INTEGER, 0);
  uvsql_column(a, "y", UVSQL_SQL_INTEGER, 0);
  uvsql_primary_key(a, UVSQL_NAMES("x", "y"));
  uvsql_check(a, "ck_pos", "x > 0");
  uvsql_table_t *b = uvsql_table(md, "b");
  uvsql_column(b, "x", UVSQL_SQL_INTEGER, UVSQL_NOT_NULL);
  uvsql_column(b, "y", UVSQL_SQL_INTEGER, UVSQL_NOT_NULL);
  uvsql_foreign_key(b, "fk_b_a", UVSQL_NAMES("x", "y"), "a", NULL, UVSQL_FK_SET_NULL,
                    UVSQL_FK_CASCADE);
  uvsql_unique(b, "uq_b", UVSQL_NAMES("y", "x"));
  uvsql_index(b, "ix_b_xy", UVSQL_NAMES("x", "y"), 1);
  ASSERT(!uvsql_column_autoincrement(uvsql_table_column(a, "x")));
  expect(uvsql_create_table(a),
         "CREATE TABLE IF NOT EXISTS a (x INTEGER NOT NULL, y INTEGER NOT NULL, PRIMARY KEY (x, "
         "y), CONSTRAINT ck_pos CHECK (x > 0))",
         NULL, NULL, "");
  expect(uvsql_create_table(b),
         "CREATE TABLE IF NOT EXISTS b (x INTEGER NOT NULL, y INTEGER NOT NULL, CONSTRAINT uq_b "
         "UNIQUE (y, x), CONSTRAINT fk_b_a FOREIGN KEY (x, y) REFERENCES a (x, y) ON DELETE SET "
         "NULL ON UPDATE CASCADE)",
         NULL, NULL, "");
  expect(uvsql_create_index(b, 0), "CREATE UNIQUE INDEX IF NOT EXISTS ix_b_xy ON b (x, y)", NULL,
         NULL, "");
  expect(uvsql_drop_table(b), "DROP TABLE IF EXISTS b", NULL, NULL, "");
  uvsql_metadata_free(md);
}

TEST(index_flag_makes_a_named_index) {
  schema_t db = schema();
  ASSERT_INT_EQ(uvsql_table_nindexes(db.orders), 1);
  expect(uvsql_create_index(db.orders, 0),
         "CREATE INDEX IF NOT EXISTS ix_orders_amount ON orders (amount)", NULL, NULL, "");
  uvsql_metadata_free(db.md);
}

TEST(mariadb_refuses_a_string_without_length) {
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *t = uvsql_table(md, "t");
  uvsql_column(t, "s", UVSQL_SQL_STRING(0), 0);
  uvsql_core_stmt_t *s = uvsql_create_table(t);
  expect_err(s, "mariadb", UVSQL_ENOT_SUPPORTED, "needs a length");
  uvsql_core_stmt_free(s);
  uvsql_metadata_free(md);
}

TEST(schema_errors_are_recorded) {
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *t = uvsql_table(md, "t");
  ASSERT(uvsql_table(md, "t") == NULL);
  ASSERT_ERR(uvsql_metadata_error(md)->code, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(uvsql_metadata_error(md)->message, "already declared");
  uvsql_core_stmt_t *s = uvsql_create_table(t);
  expect_err(s, "sqlite", UVSQL_EINVALID_ARGUMENT, "already declared");
  uvsql_core_stmt_free(s);
  uvsql_metadata_free(md);
}

TEST(tables_sort_after_the_tables_they_reference) {
  schema_t db = schema();
  uvsql_metadata_t *md = uvsql_metadata_new();
  /* declared in reverse dependency order */
  uvsql_table_t *c = uvsql_table(md, "c"), *b = uvsql_table(md, "b"), *a = uvsql_table(md, "a");
  uvsql_column_references(uvsql_column(c, "b_id", UVSQL_SQL_INTEGER, 0), "b.id", 0, 0);
  uvsql_column_references(uvsql_column(c, "a_id", UVSQL_SQL_INTEGER, 0), "a.id", 0, 0);
  uvsql_column_references(uvsql_column(b, "a_id", UVSQL_SQL_INTEGER, 0), "a.id", 0, 0);
  uvsql_column(b, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY);
  uvsql_column(a, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY);
  uvsql_column_references(uvsql_column(a, "parent", UVSQL_SQL_INTEGER, 0), "a.id", 0, 0);
  uvsql_table_t **sorted;
  size_t n;
  uvsql_error_t err;
  ASSERT_OK(uvsql__sort_tables(md, &sorted, &n, &err), &err);
  ASSERT_INT_EQ(n, 3);
  ASSERT(sorted[0] == a && sorted[1] == b && sorted[2] == c);
  free(sorted);
  uvsql_metadata_free(md);
  uvsql_metadata_free(db.md);
}

TEST(foreign_key_cycle_is_refused_by_sort) {
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *a = uvsql_table(md, "a"), *b = uvsql_table(md, "b");
  uvsql_column_references(uvsql_column(a, "b_id", UVSQL_SQL_INTEGER, 0), "b.id", 0, 0);
  uvsql_column(a, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY);
  uvsql_column_references(uvsql_column(b, "a_id", UVSQL_SQL_INTEGER, 0), "a.id", 0, 0);
  uvsql_column(b, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY);
  uvsql_table_t **sorted;
  size_t n;
  uvsql_error_t err;
  ASSERT_ERR(uvsql__sort_tables(md, &sorted, &n, &err), UVSQL_ENOT_SUPPORTED);
  ASSERT_STR_CONTAINS(err.message, "form a cycle");
  uvsql_metadata_free(md);
}
