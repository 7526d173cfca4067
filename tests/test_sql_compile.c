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
         "LONGTEXT, PRIMARY KEY (id), UNIQUE (email), FOREIGN KEY (org_id) REFERENCES orgs (id) ON "
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
         "amount NUMERIC_TEXT(10, 2), placed TIMESTAMPTZ, PRIMARY KEY (id), FOREIGN KEY (user_id) "
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
         "f DOUBLE, g DECIMAL(12, 3), h VARCHAR(20), i LONGTEXT, j LONGBLOB, k DATE, l TIME(6), m "
         "DATETIME(6), n DATETIME(6), o UUID, p JSON)",
         "CREATE TABLE IF NOT EXISTS all_types (a INTEGER, b SMALLINT, c BIGINT, d BOOLEAN, e "
         "FLOAT, f DOUBLE, g NUMERIC_TEXT(12, 3), h VARCHAR(20), i TEXT, j BLOB, k DATE, l TIME, m "
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

/* ------------------------------------------------------------------ SELECT */

TEST(select_where_with_bound_values_and_quoted_names) {
  schema_t db = schema();
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(db.users, "id"), uvsql_col(db.users, "Group"));
  uvsql_where(s, uvsql_and(s, uvsql_eq(s, uvsql_col(db.users, "name"), uvsql_lit_text(s, "ann")),
                           uvsql_gt(s, uvsql_col(db.users, "id"), uvsql_lit_int64(s, 5)),
                           uvsql_is_not_null(s, uvsql_col(db.users, "email"))));
  expect(s,
         "SELECT users.id, users.\"Group\" FROM users WHERE users.name = :param_1 AND users.id > "
         ":param_2 AND users.email IS NOT NULL",
         "SELECT users.id, users.`Group` FROM users WHERE users.name = :param_1 AND users.id > "
         ":param_2 AND users.email IS NOT NULL",
         NULL, "param_1,param_2");
  uvsql_metadata_free(db.md);
}

TEST(embedded_values_keep_their_values) {
  schema_t db = schema();
  uvsql_core_stmt_t *s = uvsql_select_new();
  char text[] = "o'brien; DROP TABLE users";
  uvsql_select_cols(s, uvsql_col(db.users, "id"));
  uvsql_where(s, uvsql_eq(s, uvsql_col(db.users, "name"), uvsql_lit_text(s, text)));
  text[0] = 'X'; /* copied when built */
  const char *sql;
  const uvsql_param_t *v;
  size_t n;
  uvsql_error_t err;
  ASSERT_OK(uvsql_core_compile(s, "postgresql", NULL, 0, &sql, &v, &n, &err), &err);
  ASSERT_INT_EQ(n, 1);
  ASSERT_INT_EQ(v[0].value.type, UVSQL_TYPE_TEXT);
  ASSERT_STR_EQ(v[0].value.u.s.ptr, "o'brien; DROP TABLE users");
  ASSERT(strstr(sql, "brien") == NULL);
  uvsql_core_stmt_free(s);
  uvsql_metadata_free(db.md);
}

TEST(join_infers_on_from_the_foreign_key) {
  schema_t db = schema();
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(db.orgs, "name"), uvsql_col(db.users, "name"),
                    uvsql_col(db.orders, "amount"));
  uvsql_select_from(s, db.orgs);
  uvsql_select_join(s, db.users, NULL);
  uvsql_select_outerjoin(s, db.orders, NULL);
  expect(s,
         "SELECT orgs.name, users.name, orders.amount FROM orgs JOIN users ON users.org_id = "
         "orgs.id LEFT OUTER JOIN orders ON orders.user_id = users.id",
         NULL, NULL, "");
  uvsql_metadata_free(db.md);
}

TEST(join_without_from_starts_at_the_first_column) {
  schema_t db = schema();
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(db.users, "name"), uvsql_col(db.orgs, "name"));
  uvsql_select_join(s, db.orgs, NULL);
  expect(s, "SELECT users.name, orgs.name FROM users JOIN orgs ON users.org_id = orgs.id", NULL,
         NULL, "");
  uvsql_metadata_free(db.md);
}

TEST(join_without_a_foreign_key_needs_on) {
  schema_t db = schema();
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(db.orgs, "name"));
  uvsql_select_from(s, db.orgs);
  uvsql_select_join(s, db.orders, NULL);
  expect_err(s, "postgresql", UVSQL_EINVALID_ARGUMENT, "no foreign keys link orders");
  uvsql_core_stmt_free(s);
  uvsql_metadata_free(db.md);
}

TEST(self_join_through_aliases) {
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *node = uvsql_table(md, "node");
  uvsql_column(node, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY);
  uvsql_column_references(uvsql_column(node, "parent_id", UVSQL_SQL_INTEGER, 0), "node.id", 0, 0);
  uvsql_column(node, "name", UVSQL_SQL_TEXT, 0);
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_from_t *child = uvsql_alias(s, node, "child"), *parent = uvsql_alias(s, node, "parent");
  uvsql_select_cols(s, uvsql_label(s, uvsql_col(child, "name"), "child"),
                    uvsql_label(s, uvsql_col(parent, "name"), "parent"));
  uvsql_select_from(s, child);
  uvsql_select_join(s, parent, uvsql_eq(s, uvsql_col(child, "parent_id"), uvsql_col(parent, "id")));
  uvsql_select_order_by(s, uvsql_col(child, "id"));
  expect(s,
         "SELECT child.name AS child, parent.name AS parent FROM node AS child JOIN node AS parent "
         "ON child.parent_id = parent.id ORDER BY child.id",
         NULL, NULL, "");
  uvsql_metadata_free(md);
}

TEST(group_by_having_order_limit_offset_distinct) {
  schema_t db = schema();
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_expr_t *n = uvsql_label(s, uvsql_count(s, NULL), "n");
  uvsql_select_cols(s, uvsql_col(db.orders, "user_id"), n,
                    uvsql_label(s, uvsql_sum(s, uvsql_col(db.orders, "amount")), "total"));
  uvsql_select_group_by(s, uvsql_col(db.orders, "user_id"));
  uvsql_select_having(s, uvsql_gt(s, uvsql_count(s, NULL), uvsql_lit_int64(s, 1)));
  uvsql_select_order_by(s, uvsql_desc(s, n), uvsql_col(db.orders, "user_id"));
  uvsql_select_limit(s, 10);
  uvsql_select_offset(s, 20);
  uvsql_select_distinct(s);
  expect(s,
         "SELECT DISTINCT orders.user_id, count(*) AS n, sum(orders.amount) AS total FROM orders "
         "GROUP BY orders.user_id HAVING count(*) > :param_1 ORDER BY n DESC, orders.user_id "
         "LIMIT :param_2 OFFSET :param_3",
         NULL, NULL, "param_1,param_2,param_3");
  uvsql_metadata_free(db.md);
}

TEST(offset_without_limit_per_dialect) {
  schema_t db = schema();
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(db.orgs, "id"));
  uvsql_select_offset(s, 5);
  expect(s, "SELECT orgs.id FROM orgs OFFSET :param_1",
         "SELECT orgs.id FROM orgs LIMIT 18446744073709551615 OFFSET :param_1",
         "SELECT orgs.id FROM orgs LIMIT -1 OFFSET :param_1", "param_1");
  uvsql_metadata_free(db.md);
}

TEST(order_nulls_first_last_emulated_on_mariadb) {
  schema_t db = schema();
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(db.users, "id"));
  uvsql_select_order_by(s, uvsql_order(s, uvsql_col(db.users, "email"), UVSQL_NULLS_FIRST),
                        uvsql_order(s, uvsql_col(db.users, "name"), UVSQL_DESC | UVSQL_NULLS_LAST));
  expect(s,
         "SELECT users.id FROM users ORDER BY users.email NULLS FIRST, users.name DESC NULLS LAST",
         "SELECT users.id FROM users ORDER BY users.email IS NULL DESC, users.email, users.name IS "
         "NULL, users.name DESC",
         NULL, "");
  uvsql_metadata_free(db.md);
}

TEST(operators_and_precedence) {
  schema_t db = schema();
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_expr_t *id = uvsql_col(db.users, "id");
  uvsql_select_cols(
      s,
      uvsql_label(s, uvsql_mul(s, uvsql_add(s, id, uvsql_lit_int64(s, 1)), uvsql_lit_int64(s, 2)),
                  "a"),
      uvsql_label(s, uvsql_sub(s, id, uvsql_sub(s, id, id)), "b"),
      uvsql_label(s, uvsql_neg(s, uvsql_mod(s, id, uvsql_lit_int64(s, 3))), "c"));
  uvsql_where(s, uvsql_and(s,
                           uvsql_or(s, uvsql_eq(s, id, uvsql_bindparam(s, "a")),
                                    uvsql_ne(s, id, uvsql_bindparam(s, "b"))),
                           uvsql_not(s, uvsql_le(s, id, uvsql_bindparam(s, "a")))));
  expect(s,
         "SELECT (users.id + :param_1) * :param_2 AS a, users.id - (users.id - users.id) AS b, "
         "-(users.id % :param_3) AS c FROM users WHERE (users.id = :a OR users.id != :b) AND NOT "
         "users.id <= :a",
         NULL, NULL, "param_1,param_2,param_3");
  uvsql_metadata_free(db.md);
}

TEST(in_between_like_ilike) {
  schema_t db = schema();
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_expr_t *id = uvsql_col(db.users, "id"), *name = uvsql_col(db.users, "name");
  uvsql_select_cols(s, id);
  uvsql_where(s, uvsql_and(s, uvsql_in_list(s, id, uvsql_lit_int64(s, 1), uvsql_lit_int64(s, 2)),
                           uvsql_between(s, id, uvsql_lit_int64(s, 0), uvsql_bindparam(s, "hi")),
                           uvsql_like(s, name, uvsql_lit_text(s, "a%")),
                           uvsql_ilike(s, uvsql_col(db.users, "email"), uvsql_bindparam(s, "pat")),
                           uvsql_in_list_n(s, id, NULL, 0)));
  expect(s,
         "SELECT users.id FROM users WHERE users.id IN (:param_1, :param_2) AND users.id BETWEEN "
         ":param_3 AND :hi AND users.name LIKE :param_4 AND users.email ILIKE :pat AND 1 != 1",
         "SELECT users.id FROM users WHERE users.id IN (:param_1, :param_2) AND users.id BETWEEN "
         ":param_3 AND :hi AND users.name LIKE :param_4 AND lower(users.email) LIKE lower(:pat) "
         "AND 1 != 1",
         "SELECT users.id FROM users WHERE users.id IN (:param_1, :param_2) AND users.id BETWEEN "
         ":param_3 AND :hi AND users.name LIKE :param_4 AND lower(users.email) LIKE lower(:pat) "
         "AND 1 != 1",
         "param_1,param_2,param_3,param_4");
  uvsql_metadata_free(db.md);
}

TEST(in_expanding_takes_its_values_at_execute_time) {
  schema_t db = schema();
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(db.users, "id"));
  uvsql_where(s, uvsql_and(s, uvsql_in_expanding(s, uvsql_col(db.users, "id"), "ids"),
                           uvsql_eq(s, uvsql_col(db.users, "name"), uvsql_lit_text(s, "x"))));
  uvsql_param_t p[] = {UVSQL_P_INT64("ids", 4), UVSQL_P_INT64("ids", 9), UVSQL_P_INT64("ids", 1)};
  const char *sql;
  const uvsql_param_t *v;
  size_t n;
  uvsql_error_t err;
  ASSERT_OK(uvsql_core_compile(s, "mariadb", p, 3, &sql, &v, &n, &err), &err);
  ASSERT_STR_EQ(sql, "SELECT users.id FROM users WHERE users.id IN (:ids_1, :ids_2, :ids_3) AND "
                     "users.name = :param_4");
  ASSERT_INT_EQ(n, 4);
  ASSERT_STR_EQ(v[1].name, "ids_2");
  ASSERT_INT_EQ(v[1].value.u.i64, 9);
  ASSERT_OK(uvsql_core_compile(s, "mariadb", NULL, 0, &sql, &v, &n, &err), &err);
  ASSERT_STR_EQ(sql, "SELECT users.id FROM users WHERE 1 != 1 AND users.name = :param_1");
  uvsql_core_stmt_free(s);
  uvsql_metadata_free(db.md);
}

TEST(subqueries_scalar_from_exists_in_and_correlated) {
  schema_t db = schema();
  /* correlated: orders of the outer user */
  uvsql_core_stmt_t *cnt = uvsql_select_new();
  uvsql_select_cols(cnt, uvsql_count(cnt, NULL));
  uvsql_select_from(cnt, db.orders);
  uvsql_where(cnt, uvsql_eq(cnt, uvsql_col(db.orders, "user_id"), uvsql_col(db.users, "id")));
  uvsql_core_stmt_t *big = uvsql_select_new();
  uvsql_select_cols(big, uvsql_col(db.orders, "user_id"));
  uvsql_where(big, uvsql_gt(big, uvsql_col(db.orders, "amount"), uvsql_lit_int64(big, 100)));
  uvsql_core_stmt_t *orgsq = uvsql_select_new();
  uvsql_select_cols(orgsq, uvsql_col(db.orgs, "id"),
                    uvsql_label(orgsq, uvsql_upper(orgsq, uvsql_col(db.orgs, "name")), "uname"));
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_from_t *o = uvsql_subquery(s, orgsq, "o");
  uvsql_select_cols(s, uvsql_col(db.users, "name"), uvsql_label(s, uvsql_scalar(s, cnt), "n"),
                    uvsql_col(o, "uname"));
  uvsql_select_from(s, db.users);
  uvsql_select_join(s, o, uvsql_eq(s, uvsql_col(o, "id"), uvsql_col(db.users, "org_id")));
  uvsql_where(s,
              uvsql_and(s, uvsql_exists(s, cnt), uvsql_in_select(s, uvsql_col(db.users, "id"), big),
                        uvsql_not_in_select(s, uvsql_col(db.users, "id"), big)));
  uvsql_core_stmt_free(cnt);
  uvsql_core_stmt_free(big);
  uvsql_core_stmt_free(orgsq);
  expect(s,
         "SELECT users.name, (SELECT count(*) FROM orders WHERE orders.user_id = users.id) AS n, "
         "o.uname FROM users JOIN (SELECT orgs.id, upper(orgs.name) AS uname FROM orgs) AS o ON "
         "o.id = users.org_id WHERE EXISTS (SELECT count(*) FROM orders WHERE orders.user_id = "
         "users.id) AND users.id IN (SELECT orders.user_id FROM orders WHERE orders.amount > "
         ":param_1) AND users.id NOT IN (SELECT orders.user_id FROM orders WHERE orders.amount > "
         ":param_2)",
         NULL, NULL, "param_1,param_2");
  uvsql_metadata_free(db.md);
}

TEST(case_cast_functions_labels) {
  schema_t db = schema();
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_expr_t *id = uvsql_col(db.users, "id");
  uvsql_select_cols(
      s,
      uvsql_label(s,
                  uvsql_case(s, uvsql_lit_text(s, "other"), uvsql_lt(s, id, uvsql_lit_int64(s, 10)),
                             uvsql_lit_text(s, "small"), uvsql_lt(s, id, uvsql_lit_int64(s, 100)),
                             uvsql_lit_text(s, "mid")),
                  "size"),
      uvsql_label(s, uvsql_cast(s, id, UVSQL_SQL_STRING(10)), "sid"),
      uvsql_label(s,
                  uvsql_coalesce(s, uvsql_col(db.users, "email"),
                                 uvsql_lower(s, uvsql_col(db.users, "name"))),
                  "contact"),
      uvsql_label(s, uvsql_func(s, "abs", id), "a"), uvsql_label(s, uvsql_now(s), "t"),
      uvsql_label(s, uvsql_concat(s, uvsql_col(db.users, "name"), uvsql_lit_text(s, "!")), "x"),
      uvsql_label(s, uvsql_count_distinct(s, uvsql_col(db.users, "org_id")), "orgs"));
  uvsql_select_group_by(s, id);
  expect(s,
         "SELECT CASE WHEN users.id < :param_1 THEN :param_2 WHEN users.id < :param_3 THEN "
         ":param_4 ELSE :param_5 END AS size, CAST(users.id AS VARCHAR(10)) AS sid, "
         "coalesce(users.email, lower(users.name)) AS contact, abs(users.id) AS a, now() AS t, "
         "users.name || :param_6 AS x, count(DISTINCT users.org_id) AS orgs FROM users GROUP BY "
         "users.id",
         "SELECT CASE WHEN users.id < :param_1 THEN :param_2 WHEN users.id < :param_3 THEN "
         ":param_4 ELSE :param_5 END AS size, CAST(users.id AS CHAR(10)) AS sid, "
         "coalesce(users.email, lower(users.name)) AS contact, abs(users.id) AS a, NOW(6) AS t, "
         "CONCAT(users.name, :param_6) AS x, count(DISTINCT users.org_id) AS orgs FROM users "
         "GROUP BY users.id",
         "SELECT CASE WHEN users.id < :param_1 THEN :param_2 WHEN users.id < :param_3 THEN "
         ":param_4 ELSE :param_5 END AS size, CAST(users.id AS TEXT) AS sid, "
         "coalesce(users.email, lower(users.name)) AS contact, abs(users.id) AS a, "
         "CURRENT_TIMESTAMP AS t, users.name || :param_6 AS x, count(DISTINCT users.org_id) AS "
         "orgs FROM users GROUP BY users.id",
         "param_1,param_2,param_3,param_4,param_5,param_6");
  uvsql_metadata_free(db.md);
}

TEST(full_join_is_not_supported_on_mariadb) {
  schema_t db = schema();
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(db.users, "id"), uvsql_col(db.orgs, "id"));
  uvsql_select_from(s, db.users);
  uvsql_select_fulljoin(s, db.orgs, NULL);
  expect_err(s, "mariadb", UVSQL_ENOT_SUPPORTED, "no FULL OUTER JOIN");
  const char *sql;
  uvsql_error_t err;
  ASSERT_OK(uvsql_core_compile(s, "sqlite", NULL, 0, &sql, NULL, NULL, &err), &err);
  ASSERT_STR_EQ(sql, "SELECT users.id, orgs.id FROM users FULL OUTER JOIN orgs ON users.org_id = "
                     "orgs.id");
  uvsql_core_stmt_free(s);
  uvsql_metadata_free(db.md);
}

TEST(builder_errors_surface_at_compile) {
  schema_t db = schema();
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(db.users, "nmae"));
  ASSERT(uvsql_core_stmt_error(s) != NULL);
  expect_err(s, "sqlite", UVSQL_EINVALID_ARGUMENT, "table users has no column nmae");
  uvsql_core_stmt_free(s);
  s = uvsql_select_new();
  uvsql_core_stmt_t *other = uvsql_select_new();
  uvsql_select_cols(s, uvsql_lit_int64(other, 1));
  expect_err(s, "sqlite", UVSQL_EINVALID_ARGUMENT, "built for another statement");
  uvsql_core_stmt_free(s);
  uvsql_core_stmt_free(other);
  s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_bindparam(s, "param_1"), uvsql_lit_int64(s, 2));
  expect_err(s, "postgresql", UVSQL_EINVALID_ARGUMENT, "clashes with a generated name");
  uvsql_core_stmt_free(s);
  /* each message names the statement or table and what to call instead */
  s = uvsql_update(db.users);
  expect_err(s, "sqlite", UVSQL_EINVALID_ARGUMENT,
             "UPDATE users sets no column: call uvsql_update_set");
  uvsql_select_limit(s, 1);
  expect_err(s, "sqlite", UVSQL_EINVALID_ARGUMENT,
             "uvsql_select_limit: not for an UPDATE statement");
  uvsql_core_stmt_free(s);
  s = uvsql_select_new();
  uvsql_update_set(s, "name", uvsql_lit_text(s, "x"));
  expect_err(s, "sqlite", UVSQL_EINVALID_ARGUMENT,
             "uvsql_update_set: for UPDATE statements, not a SELECT");
  uvsql_core_stmt_free(s);
  s = uvsql_create_index(db.users, 7);
  expect_err(s, "sqlite", UVSQL_EINVALID_ARGUMENT, "uvsql_create_index: table users has ");
  expect_err(s, "sqlite", UVSQL_EINVALID_ARGUMENT,
             "so no index 7 (indexes count from 0 in declaration order)");
  uvsql_core_stmt_free(s);
  s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_excluded(s, "name"));
  expect_err(s, "postgresql", UVSQL_EINVALID_ARGUMENT,
             "uvsql_excluded: only for the ON CONFLICT clause of an INSERT statement");
  uvsql_core_stmt_free(s);
  s = uvsql_create_table(uvsql_table(db.md, "empty_table"));
  expect_err(s, "sqlite", UVSQL_EINVALID_ARGUMENT,
             "table empty_table has no columns: declare them with uvsql_column");
  uvsql_core_stmt_free(s);
  s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_over(s, uvsql_col(db.users, "id"), NULL, 0, NULL, 0));
  expect_err(s, "sqlite", UVSQL_EINVALID_ARGUMENT,
             "uvsql_over: the first argument must be a function call (uvsql_func)");
  uvsql_core_stmt_free(s);
  s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(db.users, "id"));
  uvsql_where(s, uvsql_in_expanding(s, uvsql_col(db.users, "id"), "1ids"));
  expect_err(s, "sqlite", UVSQL_EINVALID_ARGUMENT,
             "uvsql_in_expanding: \"1ids\" is not a parameter name (letters, digits and '_', not "
             "starting with a digit)");
  uvsql_core_stmt_free(s);
  uvsql_table_t *bad = uvsql_table(db.md, "bad_fk");
  uvsql_column(bad, "a", UVSQL_SQL_INTEGER, 0);
  uvsql_foreign_key(bad, NULL, UVSQL_NAMES("a"), "users", UVSQL_NAMES("id", "org_id"),
                    UVSQL_FK_NO_ACTION, UVSQL_FK_NO_ACTION);
  ASSERT_STR_EQ(uvsql_metadata_error(db.md)->message,
                "foreign key of bad_fk: 1 columns reference 2 columns (name one referenced column "
                "per column, or none for the primary key)");
  uvsql_metadata_free(db.md);
}

TEST(a_compiled_statement_is_frozen_and_cached) {
  schema_t db = schema();
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(db.users, "id"));
  const char *a, *b;
  uvsql_error_t err;
  ASSERT_OK(uvsql_core_compile(s, "sqlite", NULL, 0, &a, NULL, NULL, &err), &err);
  ASSERT_OK(uvsql_core_compile(s, "sqlite", NULL, 0, &b, NULL, NULL, &err), &err);
  ASSERT(a == b);
  uvsql_where(s, uvsql_eq(s, uvsql_col(db.users, "id"), uvsql_bindparam(s, "id")));
  expect_err(s, "sqlite", UVSQL_EINVALID_ARGUMENT, "already compiled");
  uvsql_core_stmt_free(s);
  uvsql_metadata_free(db.md);
}

/* ------------------------------------------------------------------ INSERT, UPDATE, DELETE */

TEST(insert_without_values_binds_each_column) {
  schema_t db = schema();
  expect(uvsql_insert(db.orders),
         "INSERT INTO orders (user_id, amount, placed) VALUES (:user_id, :amount, :placed)", NULL,
         NULL, "");
  expect(uvsql_insert(db.users),
         "INSERT INTO users (org_id, name, email, \"Group\") VALUES (:org_id, :name, :email, "
         ":Group)",
         "INSERT INTO users (org_id, name, email, `Group`) VALUES (:org_id, :name, :email, "
         ":Group)",
         NULL, "");
  uvsql_metadata_free(db.md);
}

TEST(insert_multi_row_with_client_default_and_returning) {
  schema_t db = schema();
  uvsql_column_default(uvsql_table_column(db.users, "Group"), UVSQL_V_TEXT("staff"));
  uvsql_core_stmt_t *s = uvsql_insert(db.users);
  uvsql_insert_columns(s, UVSQL_NAMES("name", "org_id"));
  uvsql_insert_values(s, uvsql_lit_text(s, "ann"), uvsql_lit_int64(s, 1));
  uvsql_insert_values(s, uvsql_lit_text(s, "bob"), uvsql_bindparam(s, "org"));
  uvsql_returning(s, uvsql_col(db.users, "id"), uvsql_label(s, uvsql_col(db.users, "name"), "n"));
  expect(s,
         "INSERT INTO users (name, org_id, \"Group\") VALUES (:param_1, :param_2, :param_3), "
         "(:param_4, :org, :param_5) RETURNING id, name AS n",
         "INSERT INTO users (name, org_id, `Group`) VALUES (:param_1, :param_2, :param_3), "
         "(:param_4, :org, :param_5) RETURNING id, name AS n",
         NULL, "param_1,param_2,param_3,param_4,param_5");
  uvsql_metadata_free(db.md);
}

TEST(insert_from_select) {
  schema_t db = schema();
  uvsql_core_stmt_t *sel = uvsql_select_new();
  uvsql_select_cols(sel, uvsql_col(db.users, "id"), uvsql_lit_int64(sel, 0));
  uvsql_where(sel, uvsql_is_null(sel, uvsql_col(db.users, "email")));
  uvsql_core_stmt_t *s = uvsql_insert(db.orders);
  uvsql_insert_columns(s, UVSQL_NAMES("user_id", "amount"));
  uvsql_insert_from_select(s, sel);
  uvsql_core_stmt_free(sel);
  expect(s,
         "INSERT INTO orders (user_id, amount) SELECT users.id, :param_1 FROM users WHERE "
         "users.email IS NULL",
         NULL, NULL, "param_1");
  uvsql_metadata_free(db.md);
}

TEST(upsert_do_nothing_and_do_update_per_dialect) {
  schema_t db = schema();
  uvsql_core_stmt_t *s = uvsql_insert(db.orgs);
  uvsql_insert_columns(s, UVSQL_NAMES("name"));
  uvsql_insert_values(s, uvsql_bindparam(s, "name"));
  uvsql_on_conflict_do_nothing(s, UVSQL_NAMES("name"));
  expect(s, "INSERT INTO orgs (name) VALUES (:name) ON CONFLICT (name) DO NOTHING",
         "INSERT INTO orgs (name) VALUES (:name) ON DUPLICATE KEY UPDATE name = name", NULL, "");
  s = uvsql_insert(db.users);
  uvsql_insert_columns(s, UVSQL_NAMES("email", "name"));
  uvsql_insert_values(s, uvsql_bindparam(s, "email"), uvsql_bindparam(s, "name"));
  uvsql_on_conflict_do_update(s, UVSQL_NAMES("email"));
  uvsql_on_conflict_set(s, "name",
                        uvsql_concat(s, uvsql_col(db.users, "name"), uvsql_excluded(s, "name")));
  expect(s,
         "INSERT INTO users (email, name) VALUES (:email, :name) ON CONFLICT (email) DO UPDATE "
         "SET name = users.name || excluded.name",
         "INSERT INTO users (email, name) VALUES (:email, :name) ON DUPLICATE KEY UPDATE name = "
         "CONCAT(users.name, VALUES(name))",
         NULL, "");
  uvsql_metadata_free(db.md);
}

TEST(update_and_delete_with_where_and_returning) {
  schema_t db = schema();
  uvsql_core_stmt_t *s = uvsql_update(db.users);
  uvsql_update_set(s, "name", uvsql_upper(s, uvsql_col(db.users, "name")));
  uvsql_update_set(s, "email", uvsql_lit_null(s));
  uvsql_where(s, uvsql_eq(s, uvsql_col(db.users, "id"), uvsql_bindparam(s, "id")));
  uvsql_returning(s, uvsql_col(db.users, "id"));
  expect_err(s, "mariadb", UVSQL_ENOT_SUPPORTED, "no RETURNING for UPDATE");
  const char *sql;
  uvsql_error_t err;
  ASSERT_OK(uvsql_core_compile(s, "postgresql", NULL, 0, &sql, NULL, NULL, &err), &err);
  ASSERT_STR_EQ(sql, "UPDATE users SET name = upper(users.name), email = :param_1 WHERE users.id "
                     "= :id RETURNING id");
  uvsql_core_stmt_free(s);

  uvsql_core_stmt_t *sub = uvsql_select_new();
  uvsql_select_cols(sub, uvsql_col(db.orders, "user_id"));
  s = uvsql_delete(db.users);
  uvsql_where(s, uvsql_not_in_select(s, uvsql_col(db.users, "id"), sub));
  uvsql_returning(s, uvsql_col(db.users, "id"), uvsql_col(db.users, "Group"));
  uvsql_core_stmt_free(sub);
  expect(s,
         "DELETE FROM users WHERE users.id NOT IN (SELECT orders.user_id FROM orders) RETURNING "
         "id, \"Group\"",
         "DELETE FROM users WHERE users.id NOT IN (SELECT orders.user_id FROM orders) RETURNING "
         "id, `Group`",
         NULL, "");
  s = uvsql_update(db.orders);
  uvsql_update_set(s, "amount",
                   uvsql_mul(s, uvsql_col(db.orders, "amount"), uvsql_lit_int64(s, 2)));
  expect(s, "UPDATE orders SET amount = orders.amount * :param_1", NULL, NULL, "param_1");
  uvsql_metadata_free(db.md);
}

/* ------------------------------------------------------------------ CTEs, set ops, windows */

TEST(recursive_cte_walks_a_tree) {
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *node = uvsql_table(md, "node");
  uvsql_column(node, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY);
  uvsql_column_references(uvsql_column(node, "parent_id", UVSQL_SQL_INTEGER, 0), "node.id", 0, 0);
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_core_stmt_t *anchor = uvsql_select_new();
  uvsql_select_cols(anchor, uvsql_col(node, "id"),
                    uvsql_label(anchor, uvsql_lit_int64(anchor, 0), "depth"));
  uvsql_where(anchor, uvsql_eq(anchor, uvsql_col(node, "id"), uvsql_bindparam(anchor, "root")));
  uvsql_from_t *tree = uvsql_cte(s, anchor, "tree", UVSQL_CTE_RECURSIVE);
  uvsql_core_stmt_t *step = uvsql_select_new();
  uvsql_select_cols(step, uvsql_col(node, "id"),
                    uvsql_add(step, uvsql_col(tree, "depth"), uvsql_lit_int64(step, 1)));
  uvsql_select_from(step, node);
  uvsql_select_join(step, tree,
                    uvsql_eq(step, uvsql_col(node, "parent_id"), uvsql_col(tree, "id")));
  uvsql_cte_union(tree, step, 1);
  uvsql_core_stmt_free(anchor);
  uvsql_core_stmt_free(step);
  uvsql_select_cols(s, uvsql_col(tree, "id"), uvsql_col(tree, "depth"));
  uvsql_select_order_by(s, uvsql_col(tree, "id"));
  expect(s,
         "WITH RECURSIVE tree AS (SELECT node.id, :param_1 AS depth FROM node WHERE node.id = "
         ":root UNION ALL SELECT node.id, tree.depth + :param_2 FROM node JOIN tree ON "
         "node.parent_id = tree.id) SELECT tree.id, tree.depth FROM tree ORDER BY tree.id",
         NULL, NULL, "param_1,param_2");
  uvsql_metadata_free(md);
}

TEST(set_operations_and_their_limits) {
  schema_t db = schema();
  uvsql_core_stmt_t *a = uvsql_select_new(), *b = uvsql_select_new(), *c = uvsql_select_new();
  uvsql_select_cols(a, uvsql_label(a, uvsql_col(db.users, "name"), "n"));
  uvsql_select_cols(b, uvsql_col(db.orgs, "name"));
  uvsql_select_cols(c, uvsql_col(db.orgs, "name"));
  uvsql_where(c, uvsql_gt(c, uvsql_col(db.orgs, "id"), uvsql_lit_int64(c, 5)));
  uvsql_core_stmt_t *u = uvsql_union(a, b);
  uvsql_core_stmt_t *x = uvsql_except(u, c);
  uvsql_select_order_by(x, uvsql_desc(x, uvsql_name(x, "n")));
  uvsql_select_limit(x, 3);
  expect(x,
         "SELECT users.name AS n FROM users UNION SELECT orgs.name FROM orgs EXCEPT SELECT "
         "orgs.name FROM orgs WHERE orgs.id > :param_1 ORDER BY n DESC LIMIT :param_2",
         NULL, NULL, "param_1,param_2");
  uvsql_core_stmt_t *ua = uvsql_union_all(a, b), *i = uvsql_intersect(a, b);
  expect(ua, "SELECT users.name AS n FROM users UNION ALL SELECT orgs.name FROM orgs", NULL, NULL,
         "");
  expect(i, "SELECT users.name AS n FROM users INTERSECT SELECT orgs.name FROM orgs", NULL, NULL,
         "");
  /* a part with its own LIMIT: parenthesised where allowed, refused on SQLite */
  uvsql_select_limit(b, 1);
  uvsql_core_stmt_t *p = uvsql_union(a, b);
  expect_err(p, "sqlite", UVSQL_ENOT_SUPPORTED, "cannot nest a compound");
  uvsql_core_stmt_free(p);
  p = uvsql_union(a, b);
  const char *sql;
  uvsql_error_t err;
  ASSERT_OK(uvsql_core_compile(p, "postgresql", NULL, 0, &sql, NULL, NULL, &err), &err);
  ASSERT_STR_EQ(sql, "SELECT users.name AS n FROM users UNION (SELECT orgs.name FROM orgs LIMIT "
                     ":param_1)");
  uvsql_core_stmt_free(p);
  uvsql_core_stmt_free(u);
  uvsql_core_stmt_free(a);
  uvsql_core_stmt_free(b);
  uvsql_core_stmt_free(c);
  uvsql_metadata_free(db.md);
}

TEST(window_functions) {
  schema_t db = schema();
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_expr_t *uid = uvsql_col(db.orders, "user_id"), *amount = uvsql_col(db.orders, "amount");
  uvsql_select_cols(
      s, uid,
      uvsql_label(
          s, uvsql_over(s, uvsql_rank(s), UVSQL_EXPRS(uid), UVSQL_EXPRS(uvsql_desc(s, amount))),
          "r"),
      uvsql_label(s, uvsql_over(s, uvsql_sum(s, amount), UVSQL_NO_EXPRS, UVSQL_NO_EXPRS), "total"),
      uvsql_label(s,
                  uvsql_over(s, uvsql_row_number(s), UVSQL_NO_EXPRS,
                             UVSQL_EXPRS(uvsql_col(db.orders, "id"))),
                  "rn"));
  expect(s,
         "SELECT orders.user_id, rank() OVER (PARTITION BY orders.user_id ORDER BY orders.amount "
         "DESC) AS r, sum(orders.amount) OVER () AS total, row_number() OVER (ORDER BY orders.id) "
         "AS rn FROM orders",
         NULL, NULL, "");
  uvsql_metadata_free(db.md);
}

/* A use_alter foreign key: out of CREATE TABLE where the dialect can ALTER TABLE it in
 * (PostgreSQL, MariaDB: re-runnable ADD, DROP IF EXISTS), inline on SQLite, which cannot. */
TEST(use_alter_foreign_key_per_dialect) {
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *u = uvsql_table(md, "u");
  uvsql_column(u, "id", UVSQL_SQL_BIGINT, UVSQL_PRIMARY_KEY);
  ASSERT(uvsql_column_references_use_alter(uvsql_column(u, "fav_id", UVSQL_SQL_BIGINT, 0), "a.id",
                                           UVSQL_FK_SET_NULL, UVSQL_FK_NO_ACTION));
  uvsql_table_t *a = uvsql_table(md, "a");
  uvsql_column(a, "id", UVSQL_SQL_BIGINT, UVSQL_PRIMARY_KEY);
  uvsql_column_references(uvsql_column(a, "u_id", UVSQL_SQL_BIGINT, 0), "u.id", UVSQL_FK_NO_ACTION,
                          UVSQL_FK_NO_ACTION);
  expect(uvsql_create_table(u),
         "CREATE TABLE IF NOT EXISTS u (id BIGSERIAL NOT NULL, fav_id BIGINT, PRIMARY KEY (id))",
         "CREATE TABLE IF NOT EXISTS u (id BIGINT AUTO_INCREMENT NOT NULL, fav_id BIGINT, PRIMARY "
         "KEY (id))",
         "CREATE TABLE IF NOT EXISTS u (id INTEGER NOT NULL, fav_id BIGINT, PRIMARY KEY (id), "
         "FOREIGN KEY (fav_id) REFERENCES a (id) ON DELETE SET NULL)",
         "");
  const char *want[2][2] = {
      {"ALTER TABLE u DROP CONSTRAINT IF EXISTS fk_u_fav_id, ADD CONSTRAINT fk_u_fav_id FOREIGN "
       "KEY (fav_id) REFERENCES a (id) ON DELETE SET NULL",
       "ALTER TABLE IF EXISTS u DROP CONSTRAINT IF EXISTS fk_u_fav_id"},
      {"ALTER TABLE u ADD CONSTRAINT fk_u_fav_id FOREIGN KEY IF NOT EXISTS (fav_id) REFERENCES "
       "a (id) ON DELETE SET NULL",
       "ALTER TABLE IF EXISTS u DROP FOREIGN KEY IF EXISTS fk_u_fav_id"}};
  for (int add = 0; add < 2; add++) {
    uvsql_core_stmt_t *st = uvsql__alter_fk(u, 0, add);
    for (int d = 0; d < 2; d++) {
      const char *sql;
      uvsql_error_t err;
      ASSERT_OK(uvsql_core_compile(st, dialects[d], NULL, 0, &sql, NULL, NULL, &err), &err);
      ASSERT_STR_EQ(sql, want[d][!add]);
    }
    expect_err(st, "sqlite", UVSQL_ENOT_SUPPORTED, "the sqlite dialect cannot ALTER TABLE it");
    uvsql_core_stmt_free(st);
  }
  /* a long generated name: 51 characters and a hash, the same each time */
  uvsql_table_t *t = uvsql_table(md, "a_table_with_a_name_long_enough_for_the_limit");
  uvsql_column(t, "id", UVSQL_SQL_BIGINT, UVSQL_PRIMARY_KEY);
  uvsql_column_references_use_alter(uvsql_column(t, "the_key_column", UVSQL_SQL_BIGINT, 0), "a.id",
                                    UVSQL_FK_NO_ACTION, UVSQL_FK_NO_ACTION);
  uvsql_core_stmt_t *st = uvsql__alter_fk(t, 0, 0);
  const char *sql;
  uvsql_error_t err;
  ASSERT_OK(uvsql_core_compile(st, "postgresql", NULL, 0, &sql, NULL, NULL, &err), &err);
  ASSERT_STR_EQ(sql, "ALTER TABLE IF EXISTS a_table_with_a_name_long_enough_for_the_limit DROP "
                     "CONSTRAINT IF EXISTS fk_a_table_with_a_name_long_enough_for_the_limit_th_"
                     "2b1cb3b3");
  uvsql_core_stmt_free(st);
  uvsql_fk_info_t info;
  ASSERT_OK(uvsql_table_fk_at(u, 0, &info), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(info.use_alter, 1);
  ASSERT_OK(uvsql_table_fk_at(a, 0, &info), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(info.use_alter, 0);
  uvsql_metadata_free(md);
}
