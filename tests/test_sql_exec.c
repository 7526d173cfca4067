/* tests/test_sql_exec.c — the same Core programs run on PostgreSQL, MariaDB and SQLite, with
 * the same results: create_all/drop_all, multi-row INSERT ... RETURNING keys in order, joins
 * and GROUP BY, a recursive CTE walking a tree, window ranking, upsert twice, UPDATE/DELETE,
 * expanding IN, and create_all -> reflect -> compare. Each behaviour is one function; each
 * backend one TEST. Table names are unique per run, so servers can be shared. */
#include "backend.h"
#include "uvsql/sql.h"
#include "sql/internal.h" /* unique constraints, to compare reflected ones */

typedef struct {
  uvsql_metadata_t *md;
  uvsql_table_t *orgs, *users, *orders, *node;
  char names[4][64];
} db_t;

static db_t make_schema(void) {
  db_t db;
  char fk[80];
  snprintf(db.names[0], 64, "%s", test_unique_name("orgs"));
  snprintf(db.names[1], 64, "%s", test_unique_name("users"));
  snprintf(db.names[2], 64, "%s", test_unique_name("orders"));
  snprintf(db.names[3], 64, "%s", test_unique_name("node"));
  db.md = uvsql_metadata_new();
  db.orgs = uvsql_table(db.md, db.names[0]);
  uvsql_column(db.orgs, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY);
  uvsql_column(db.orgs, "name", UVSQL_SQL_STRING(50), UVSQL_NOT_NULL | UVSQL_UNIQUE);
  db.users = uvsql_table(db.md, db.names[1]);
  uvsql_column(db.users, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY);
  snprintf(fk, sizeof fk, "%s.id", db.names[0]);
  uvsql_column_references(uvsql_column(db.users, "org_id", UVSQL_SQL_INTEGER, UVSQL_INDEX), fk,
                          UVSQL_FK_CASCADE, UVSQL_FK_NO_ACTION);
  uvsql_column(db.users, "name", UVSQL_SQL_STRING(50), UVSQL_NOT_NULL);
  uvsql_column(db.users, "email", UVSQL_SQL_STRING(100), UVSQL_UNIQUE);
  uvsql_column(db.users, "visits", UVSQL_SQL_INTEGER, 0);
  db.orders = uvsql_table(db.md, db.names[2]);
  uvsql_column(db.orders, "id", UVSQL_SQL_BIGINT, UVSQL_PRIMARY_KEY);
  snprintf(fk, sizeof fk, "%s.id", db.names[1]);
  uvsql_column_references(uvsql_column(db.orders, "user_id", UVSQL_SQL_INTEGER, UVSQL_NOT_NULL), fk,
                          UVSQL_FK_NO_ACTION, UVSQL_FK_NO_ACTION);
  uvsql_column(db.orders, "amount", UVSQL_SQL_INTEGER, UVSQL_NOT_NULL);
  db.node = uvsql_table(db.md, db.names[3]);
  uvsql_column(db.node, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY | UVSQL_NO_AUTOINCREMENT);
  snprintf(fk, sizeof fk, "%s.id", db.names[3]);
  uvsql_column_references(uvsql_column(db.node, "parent_id", UVSQL_SQL_INTEGER, 0), fk, 0, 0);
  uvsql_column(db.node, "name", UVSQL_SQL_TEXT, 0);
  ASSERT(uvsql_metadata_error(db.md) == NULL);
  return db;
}

static void await_free(uvsql_future_t *f) {
  AWAIT_OK(f);
  uvsql_future_unref(f);
}

/* Runs s (consumed) and returns its rows as "a|b;c|d" (malloc'd). */
static char *rows(fixture_t *fx, uvsql_core_stmt_t *s, const uvsql_param_t *p, size_t n) {
  uvsql_future_t *f = uvsql_engine_execute_core(fx->engine, s, p, n, NULL, NULL);
  uvsql_core_stmt_free(s);
  uvsql_result_t *r = AWAIT_OK(f);
  size_t cap = 4096, len = 0;
  char *out = malloc(cap);
  out[0] = '\0';
  for (size_t i = 0; i < uvsql_result_nrows(r); i++) {
    for (size_t j = 0; j < uvsql_result_ncols(r); j++) {
      char cell[128];
      const uvsql_value_t *v = uvsql_result_value(r, i, j);
      const char *t;
      int64_t x;
      if (uvsql_result_is_null(r, i, j))
        snprintf(cell, sizeof cell, "NULL");
      else if (v->type == UVSQL_TYPE_DOUBLE)
        snprintf(cell, sizeof cell, "%g", v->u.f64);
      else if (uvsql_result_int64(r, i, j, &x) == 0)
        snprintf(cell, sizeof cell, "%" PRId64, x);
      else if (uvsql_result_text(r, i, j, &t, NULL) == 0)
        snprintf(cell, sizeof cell, "%s", t);
      else
        snprintf(cell, sizeof cell, "?");
      len += (size_t)snprintf(out + len, cap - len, "%s%s", j ? "|" : (i ? ";" : ""), cell);
    }
  }
  uvsql_future_unref(f);
  return out;
}

static void expect_rows(fixture_t *fx, uvsql_core_stmt_t *s, const uvsql_param_t *p, size_t n,
                        const char *want) {
  char *got = rows(fx, s, p, n);
  ASSERT_STR_EQ(got, want);
  free(got);
}

static void run(fixture_t *fx, uvsql_core_stmt_t *s, const uvsql_param_t *p, size_t n) {
  uvsql_future_t *f = uvsql_engine_execute_core(fx->engine, s, p, n, NULL, NULL);
  uvsql_core_stmt_free(s);
  await_free(f);
}

/* Fills orgs (a, b), users (ann, bob in a; cy in b), orders. */
static void fill(fixture_t *fx, db_t *db) {
  uvsql_core_stmt_t *s = uvsql_insert(db->orgs);
  uvsql_insert_columns(s, UVSQL_NAMES("name"));
  uvsql_insert_values(s, uvsql_lit_text(s, "a"));
  uvsql_insert_values(s, uvsql_lit_text(s, "b"));
  run(fx, s, NULL, 0);
  uvsql_core_stmt_t *ins = uvsql_insert(db->users); /* built once, run three times */
  uvsql_insert_columns(ins, UVSQL_NAMES("org_id", "name", "email"));
  uvsql_insert_values(ins, uvsql_bindparam(ins, "org"), uvsql_bindparam(ins, "name"),
                      uvsql_bindparam(ins, "email"));
  const char *people[3][2] = {{"ann", "ann@x"}, {"bob", "bob@x"}, {"cy", "cy@x"}};
  for (int i = 0; i < 3; i++) {
    uvsql_param_t p[] = {UVSQL_P_INT64("org", i < 2 ? 1 : 2), UVSQL_P_TEXT("name", people[i][0]),
                         UVSQL_P_TEXT("email", people[i][1])};
    await_free(uvsql_engine_execute_core(fx->engine, ins, p, 3, NULL, NULL));
  }
  uvsql_core_stmt_free(ins);
  s = uvsql_insert(db->orders);
  uvsql_insert_columns(s, UVSQL_NAMES("user_id", "amount"));
  int data[5][2] = {{1, 10}, {1, 20}, {2, 5}, {3, 7}, {3, 1}};
  for (int i = 0; i < 5; i++)
    uvsql_insert_values(s, uvsql_lit_int64(s, data[i][0]), uvsql_lit_int64(s, data[i][1]));
  run(fx, s, NULL, 0);
}

static fixture_t setup(const char *url, db_t *db) {
  fixture_t fx = fixture_open(url, NULL);
  *db = make_schema();
  await_free(uvsql_metadata_create_all(db->md, fx.engine, NULL, NULL));
  return fx;
}

static void teardown(fixture_t *fx, db_t *db) {
  await_free(uvsql_metadata_drop_all(db->md, fx->engine, NULL, NULL));
  uvsql_metadata_free(db->md);
  fixture_close(fx);
}

/* ------------------------------------------------------------------ behaviours */

static void create_all_is_idempotent_and_drop_all_drops(const char *url) {
  db_t db;
  fixture_t fx = setup(url, &db);
  await_free(uvsql_metadata_create_all(db.md, fx.engine, NULL, NULL)); /* again: IF NOT EXISTS */
  fill(&fx, &db);
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_count(s, NULL));
  uvsql_select_from(s, db.orders);
  expect_rows(&fx, s, NULL, 0, "5");
  await_free(uvsql_metadata_drop_all(db.md, fx.engine, NULL, NULL));
  s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_count(s, NULL));
  uvsql_select_from(s, db.orders);
  uvsql_future_t *f = uvsql_engine_execute_core(fx.engine, s, NULL, 0, NULL, NULL);
  uvsql_core_stmt_free(s);
  ASSERT(uvsql_future_wait(f) != 0); /* the table is gone (the code differs per backend) */
  ASSERT_STR_CONTAINS(uvsql_future_error(f)->message, db.names[2]);
  uvsql_future_unref(f);
  teardown(&fx, &db);
}

static void multi_row_insert_returns_keys_in_order(const char *url) {
  db_t db;
  fixture_t fx = setup(url, &db);
  uvsql_core_stmt_t *s = uvsql_insert(db.orgs);
  uvsql_insert_columns(s, UVSQL_NAMES("name"));
  const char *names[] = {"z", "y", "x", "w"};
  for (int i = 0; i < 4; i++)
    uvsql_insert_values(s, uvsql_lit_text(s, names[i]));
  uvsql_returning(s, uvsql_col(db.orgs, "id"), uvsql_col(db.orgs, "name"));
  expect_rows(&fx, s, NULL, 0, "1|z;2|y;3|x;4|w");
  teardown(&fx, &db);
}

static void joins_and_group_by(const char *url) {
  db_t db;
  fixture_t fx = setup(url, &db);
  fill(&fx, &db);
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_expr_t *total = uvsql_label(s, uvsql_sum(s, uvsql_col(db.orders, "amount")), "total");
  uvsql_select_cols(s, uvsql_col(db.orgs, "name"), uvsql_label(s, uvsql_count(s, NULL), "n"),
                    total);
  uvsql_select_from(s, db.orgs);
  uvsql_select_join(s, db.users, NULL);
  uvsql_select_join(s, db.orders, NULL);
  uvsql_where(s, uvsql_gt(s, uvsql_col(db.orders, "amount"), uvsql_bindparam(s, "min")));
  uvsql_select_group_by(s, uvsql_col(db.orgs, "name"));
  uvsql_select_having(s, uvsql_gt(s, uvsql_count(s, NULL), uvsql_lit_int64(s, 0)));
  uvsql_select_order_by(s, uvsql_desc(s, total));
  uvsql_param_t p[] = {UVSQL_P_INT64("min", 1)};
  expect_rows(&fx, s, p, 1, "a|3|35;b|1|7");
  /* LEFT OUTER JOIN keeps users without orders; ILIKE and IN lists */
  s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(db.users, "name"),
                    uvsql_label(s, uvsql_count(s, uvsql_col(db.orders, "id")), "n"));
  uvsql_select_from(s, db.users);
  uvsql_select_outerjoin(
      s, db.orders,
      uvsql_and(s, uvsql_eq(s, uvsql_col(db.orders, "user_id"), uvsql_col(db.users, "id")),
                uvsql_gt(s, uvsql_col(db.orders, "amount"), uvsql_lit_int64(s, 6))));
  uvsql_where(s, uvsql_or(s, uvsql_ilike(s, uvsql_col(db.users, "email"), uvsql_lit_text(s, "%X")),
                          uvsql_in_expanding(s, uvsql_col(db.users, "id"), "ids")));
  uvsql_select_group_by(s, uvsql_col(db.users, "name"));
  uvsql_select_order_by(s, uvsql_col(db.users, "name"));
  expect_rows(&fx, s, NULL, 0, "ann|2;bob|0;cy|1");
  teardown(&fx, &db);
}

static void expanding_in_and_subqueries(const char *url) {
  db_t db;
  fixture_t fx = setup(url, &db);
  fill(&fx, &db);
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(db.users, "name"));
  uvsql_where(s, uvsql_in_expanding(s, uvsql_col(db.users, "id"), "ids"));
  uvsql_select_order_by(s, uvsql_col(db.users, "id"));
  uvsql_param_t p[] = {UVSQL_P_INT64("ids", 3), UVSQL_P_INT64("ids", 1)};
  uvsql_future_t *f = uvsql_engine_execute_core(fx.engine, s, p, 2, NULL, NULL);
  uvsql_result_t *r = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 2);
  uvsql_future_unref(f);
  expect_rows(&fx, s, NULL, 0, ""); /* no values: IN () is false, not an error */
  /* correlated scalar subquery and EXISTS */
  s = uvsql_select_new();
  uvsql_core_stmt_t *big = uvsql_select_new();
  uvsql_select_cols(big, uvsql_max(big, uvsql_col(db.orders, "amount")));
  uvsql_where(big, uvsql_eq(big, uvsql_col(db.orders, "user_id"), uvsql_col(db.users, "id")));
  uvsql_select_cols(s, uvsql_col(db.users, "name"), uvsql_label(s, uvsql_scalar(s, big), "top"));
  uvsql_where(s, uvsql_exists(s, big));
  uvsql_select_order_by(s, uvsql_col(db.users, "name"));
  uvsql_core_stmt_free(big);
  expect_rows(&fx, s, NULL, 0, "ann|20;bob|5;cy|7");
  teardown(&fx, &db);
}

static void recursive_cte_walks_a_tree(const char *url) {
  db_t db;
  fixture_t fx = setup(url, &db);
  uvsql_core_stmt_t *s = uvsql_insert(db.node);
  uvsql_insert_columns(s, UVSQL_NAMES("id", "parent_id", "name"));
  int tree[6][2] = {{1, 0}, {2, 1}, {3, 1}, {4, 2}, {5, 4}, {6, 0}};
  for (int i = 0; i < 6; i++) {
    char name[8];
    snprintf(name, sizeof name, "n%d", tree[i][0]);
    uvsql_insert_values(s, uvsql_lit_int64(s, tree[i][0]),
                        tree[i][1] ? uvsql_lit_int64(s, tree[i][1]) : uvsql_lit_null(s),
                        uvsql_lit_text(s, name));
  }
  run(&fx, s, NULL, 0);
  s = uvsql_select_new();
  uvsql_core_stmt_t *anchor = uvsql_select_new();
  uvsql_select_cols(anchor, uvsql_col(db.node, "id"),
                    uvsql_label(anchor,
                                uvsql_cast(anchor, uvsql_lit_int64(anchor, 0), UVSQL_SQL_BIGINT),
                                "depth"));
  uvsql_where(anchor, uvsql_eq(anchor, uvsql_col(db.node, "id"), uvsql_bindparam(anchor, "root")));
  uvsql_from_t *t = uvsql_cte(s, anchor, "tree", UVSQL_CTE_RECURSIVE);
  uvsql_core_stmt_t *step = uvsql_select_new();
  uvsql_select_cols(step, uvsql_col(db.node, "id"),
                    uvsql_add(step, uvsql_col(t, "depth"), uvsql_lit_int64(step, 1)));
  uvsql_select_from(step, db.node);
  uvsql_select_join(step, t, uvsql_eq(step, uvsql_col(db.node, "parent_id"), uvsql_col(t, "id")));
  uvsql_cte_union(t, step, 1);
  uvsql_core_stmt_free(anchor);
  uvsql_core_stmt_free(step);
  uvsql_select_cols(s, uvsql_col(t, "id"), uvsql_col(t, "depth"));
  uvsql_select_order_by(s, uvsql_col(t, "id"));
  uvsql_param_t p[] = {UVSQL_P_INT64("root", 1)};
  expect_rows(&fx, s, p, 1, "1|0;2|1;3|1;4|2;5|3");
  teardown(&fx, &db);
}

static void window_ranking(const char *url) {
  db_t db;
  fixture_t fx = setup(url, &db);
  fill(&fx, &db);
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_expr_t *uid = uvsql_col(db.orders, "user_id"), *amount = uvsql_col(db.orders, "amount");
  uvsql_select_cols(
      s, uid, amount,
      uvsql_label(
          s, uvsql_over(s, uvsql_rank(s), UVSQL_EXPRS(uid), UVSQL_EXPRS(uvsql_desc(s, amount))),
          "r"),
      uvsql_label(s, uvsql_over(s, uvsql_sum(s, amount), UVSQL_EXPRS(uid), UVSQL_NO_EXPRS), "t"));
  uvsql_select_order_by(s, uid, uvsql_label(s, amount, "amount"));
  expect_rows(&fx, s, NULL, 0, "1|10|2|30;1|20|1|30;2|5|1|5;3|1|2|8;3|7|1|8");
  teardown(&fx, &db);
}

static void upsert_twice_leaves_one_row_updated(const char *url) {
  db_t db;
  fixture_t fx = setup(url, &db);
  fill(&fx, &db);
  uvsql_core_stmt_t *s = uvsql_insert(db.users);
  uvsql_insert_columns(s, UVSQL_NAMES("org_id", "name", "email", "visits"));
  uvsql_insert_values(s, uvsql_lit_int64(s, 2), uvsql_bindparam(s, "name"),
                      uvsql_lit_text(s, "dee@x"), uvsql_lit_int64(s, 1));
  uvsql_on_conflict_do_update(s, UVSQL_NAMES("email"));
  uvsql_on_conflict_set(s, "name", uvsql_excluded(s, "name"));
  uvsql_on_conflict_set(
      s, "visits",
      uvsql_add(s, uvsql_coalesce(s, uvsql_col(db.users, "visits"), uvsql_lit_int64(s, 0)),
                uvsql_lit_int64(s, 1)));
  uvsql_param_t p1[] = {UVSQL_P_TEXT("name", "dee")}, p2[] = {UVSQL_P_TEXT("name", "DEE")};
  await_free(uvsql_engine_execute_core(fx.engine, s, p1, 1, NULL, NULL));
  await_free(uvsql_engine_execute_core(fx.engine, s, p2, 1, NULL, NULL));
  uvsql_core_stmt_free(s);
  s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(db.users, "name"), uvsql_col(db.users, "visits"));
  uvsql_where(s, uvsql_eq(s, uvsql_col(db.users, "email"), uvsql_lit_text(s, "dee@x")));
  expect_rows(&fx, s, NULL, 0, "DEE|2");
  /* DO NOTHING leaves the row alone */
  s = uvsql_insert(db.orgs);
  uvsql_insert_columns(s, UVSQL_NAMES("name"));
  uvsql_insert_values(s, uvsql_lit_text(s, "a"));
  uvsql_on_conflict_do_nothing(s, UVSQL_NAMES("name"));
  run(&fx, s, NULL, 0);
  s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_count(s, NULL));
  uvsql_select_from(s, db.orgs);
  expect_rows(&fx, s, NULL, 0, "2");
  teardown(&fx, &db);
}

static void update_and_delete(const char *url, int update_returning) {
  db_t db;
  fixture_t fx = setup(url, &db);
  fill(&fx, &db);
  uvsql_core_stmt_t *s = uvsql_update(db.orders);
  uvsql_update_set(s, "amount",
                   uvsql_mul(s, uvsql_col(db.orders, "amount"), uvsql_lit_int64(s, 10)));
  uvsql_where(s, uvsql_eq(s, uvsql_col(db.orders, "user_id"), uvsql_bindparam(s, "u")));
  uvsql_param_t p[] = {UVSQL_P_INT64("u", 3)};
  if (update_returning) {
    uvsql_returning(s, uvsql_col(db.orders, "amount"));
    char *got = rows(&fx, s, p, 1);
    ASSERT(strcmp(got, "70;10") == 0 || strcmp(got, "10;70") == 0);
    free(got);
  } else {
    run(&fx, s, p, 1);
  }
  s = uvsql_delete(db.orders);
  uvsql_where(s, uvsql_lt(s, uvsql_col(db.orders, "amount"), uvsql_lit_int64(s, 10)));
  uvsql_returning(s, uvsql_col(db.orders, "id"));
  expect_rows(&fx, s, NULL, 0, "3");
  s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_sum(s, uvsql_col(db.orders, "amount")));
  expect_rows(&fx, s, NULL, 0, "110");
  teardown(&fx, &db);
}

static void conn_execute_core_runs_inside_a_transaction(const char *url) {
  db_t db;
  fixture_t fx = setup(url, &db);
  fill(&fx, &db);
  uvsql_conn_t *c = checkout(&fx);
  await_free(uvsql_conn_begin(c, UVSQL_ISOLATION_DEFAULT, NULL, NULL));
  uvsql_core_stmt_t *del = uvsql_delete(db.orders);
  await_free(uvsql_conn_execute_core(c, del, NULL, 0, NULL, NULL));
  uvsql_core_stmt_free(del);
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_count(s, NULL));
  uvsql_select_from(s, db.orders);
  uvsql_future_t *f = uvsql_conn_execute_core(c, s, NULL, 0, NULL, NULL);
  int64_t n = -1;
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(f), 0, 0, &n), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(n, 0);
  uvsql_future_unref(f);
  await_free(uvsql_conn_rollback(c, NULL, NULL));
  uvsql_conn_release(c);
  expect_rows(&fx, s, NULL, 0, "5"); /* the same compiled statement, on the engine */
  teardown(&fx, &db);
}

static uvsql_sqltype_kind_t normal_kind(const char *dialect, const uvsql_column_t *c) {
  uvsql_sqltype_kind_t k = uvsql_column_type(c).kind;
  if (!strcmp(dialect, "mariadb") && k == UVSQL_SQLT_TIMESTAMPTZ)
    return UVSQL_SQLT_TIMESTAMP; /* DATETIME(6) holds both */
  if (!strcmp(dialect, "sqlite") && uvsql_column_autoincrement(c))
    return UVSQL_SQLT_INTEGER; /* the rowid key is declared INTEGER whatever its size */
  return k;
}

static void same_table(const char *dialect, uvsql_table_t *a, uvsql_table_t *b) {
  const char *tn = uvsql_table_name(a);
  ASSERT(b != NULL);
  ASSERT_INT_EQ(uvsql_table_ncolumns(b), uvsql_table_ncolumns(a));
  for (size_t i = 0; i < uvsql_table_ncolumns(a); i++) {
    uvsql_column_t *x = uvsql_table_column_at(a, i), *y = uvsql_table_column_at(b, i);
    uvsql_sqltype_t tx = uvsql_column_type(x), ty = uvsql_column_type(y);
    if (strcmp(uvsql_column_name(x), uvsql_column_name(y)) != 0 ||
        normal_kind(dialect, x) != normal_kind(dialect, y) || tx.length != ty.length ||
        tx.precision != ty.precision || tx.scale != ty.scale ||
        (uvsql_column_flags(x) & UVSQL_NOT_NULL) != (uvsql_column_flags(y) & UVSQL_NOT_NULL))
      FAILF("%s.%s: reflected as %s %s(%d,%d,%d) flags %x, declared %s(%d,%d,%d) flags %x", tn,
            uvsql_column_name(x), uvsql_column_name(y), uvsql_sqltype_name(ty.kind), ty.length,
            ty.precision, ty.scale, uvsql_column_flags(y), uvsql_sqltype_name(tx.kind), tx.length,
            tx.precision, tx.scale, uvsql_column_flags(x));
    if (strcmp(dialect, "sqlite") != 0) /* SQLite's INTEGER key is always the rowid */
      ASSERT_INT_EQ(uvsql_column_autoincrement(y), uvsql_column_autoincrement(x));
  }
  ASSERT_INT_EQ(uvsql_table_npk(b), uvsql_table_npk(a));
  for (size_t i = 0; i < uvsql_table_npk(a); i++)
    ASSERT_STR_EQ(uvsql_table_pk_at(b, i), uvsql_table_pk_at(a, i));
  ASSERT_INT_EQ(uvsql_table_nfks(b), uvsql_table_nfks(a));
  for (size_t i = 0; i < uvsql_table_nfks(a); i++) {
    uvsql_fk_info_t x, y;
    uvsql_table_fk_at(a, i, &x);
    uvsql_table_fk_at(b, i, &y);
    ASSERT_INT_EQ(y.ncols, x.ncols);
    ASSERT_STR_EQ(y.cols[0], x.cols[0]);
    ASSERT_STR_EQ(y.reftable, x.reftable);
    ASSERT_STR_EQ(y.refcols[0], x.refcols[0]);
    ASSERT_INT_EQ(y.on_delete, x.on_delete);
    ASSERT_INT_EQ(y.on_update, x.on_update);
  }
  /* MariaDB keeps a unique index as a UNIQUE constraint: it reflects as one. */
  int my = !strcmp(dialect, "mariadb");
  size_t want_indexes = 0, want_uniques = a->uniques.n;
  for (size_t i = 0; i < uvsql_table_nindexes(a); i++) {
    uvsql_index_info_t x, y;
    uvsql_table_index_at(a, i, &x);
    if (my && x.unique) {
      want_uniques++;
      continue;
    }
    want_indexes++;
    size_t k = 0;
    for (; k < uvsql_table_nindexes(b); k++)
      if (uvsql_table_index_at(b, k, &y) == 0 && !strcmp(y.name, x.name))
        break;
    if (k == uvsql_table_nindexes(b))
      FAILF("%s: index %s was not reflected", tn, x.name);
    ASSERT_INT_EQ(y.ncols, x.ncols);
    for (size_t c = 0; c < x.ncols; c++)
      ASSERT_STR_EQ(y.cols[c], x.cols[c]);
    ASSERT_INT_EQ(y.unique, x.unique);
  }
  ASSERT_INT_EQ(uvsql_table_nindexes(b), want_indexes);
  ASSERT_INT_EQ(b->uniques.n, want_uniques);
  for (uint32_t i = 0; i < a->uniques.n; i++) {
    const uvsql__constraint_t *x = a->uniques.items[i];
    uint32_t k = 0;
    for (; k < b->uniques.n; k++) {
      const uvsql__constraint_t *y = b->uniques.items[k];
      if (y->ncols == x->ncols && !strcmp(y->cols[0], x->cols[0]))
        break;
    }
    if (k == b->uniques.n)
      FAILF("%s: unique (%s) was not reflected", tn, x->cols[0]);
  }
}

static void create_all_then_reflect_gives_the_same_metadata(const char *url) {
  db_t db;
  fixture_t fx = fixture_open(url, NULL);
  db = make_schema();
  char name[64];
  snprintf(name, sizeof name, "%s", test_unique_name("kinds"));
  uvsql_table_t *k = uvsql_table(db.md, name);
  uvsql_column(k, "a", UVSQL_SQL_SMALLINT, 0);
  uvsql_column(k, "b", UVSQL_SQL_STRING(20), 0);
  uvsql_column(k, "flag", UVSQL_SQL_BOOLEAN, UVSQL_NOT_NULL);
  uvsql_column(k, "f", UVSQL_SQL_FLOAT, 0);
  uvsql_column(k, "d", UVSQL_SQL_DOUBLE, 0);
  uvsql_column(k, "n", UVSQL_SQL_NUMERIC(10, 2), 0);
  uvsql_column(k, "t", UVSQL_SQL_TEXT, 0);
  uvsql_column(k, "bin", UVSQL_SQL_BINARY, 0);
  uvsql_column(k, "day", UVSQL_SQL_DATE, 0);
  uvsql_column(k, "tm", UVSQL_SQL_TIME, 0);
  uvsql_column(k, "ts", UVSQL_SQL_TIMESTAMP, 0);
  uvsql_column(k, "tz", UVSQL_SQL_TIMESTAMPTZ, 0);
  uvsql_column(k, "u", UVSQL_SQL_UUID, 0);
  uvsql_column_server_default(uvsql_column(k, "cnt", UVSQL_SQL_INTEGER, UVSQL_NOT_NULL), "0");
  uvsql_primary_key(k, UVSQL_NAMES("a", "b"));
  uvsql_index(k, "ix_kinds_multi", UVSQL_NAMES("d", "n"), 1);
  await_free(uvsql_metadata_create_all(db.md, fx.engine, NULL, NULL));

  uvsql_metadata_t *md = uvsql_metadata_new();
  const char *names[] = {db.names[0], db.names[1], db.names[2], db.names[3], name, NULL};
  await_free(uvsql_metadata_reflect(md, fx.engine, names, NULL, NULL));
  ASSERT_INT_EQ(uvsql_metadata_ntables(md), 5);
  const char *dialect = uvsql_engine_dialect(fx.engine);
  for (size_t i = 0; i < uvsql_metadata_ntables(db.md); i++) {
    uvsql_table_t *t = uvsql_metadata_table_at(db.md, i);
    same_table(dialect, t, uvsql_metadata_table(md, uvsql_table_name(t)));
  }
  /* the reflected metadata works: its own DDL and a query through it */
  uvsql_table_t *orders = uvsql_metadata_table(md, db.names[2]);
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_count(s, NULL));
  uvsql_select_from(s, orders);
  uvsql_select_join(s, uvsql_metadata_table(md, db.names[1]), NULL);
  expect_rows(&fx, s, NULL, 0, "0");
  /* reflecting a table the metadata already has fails */
  uvsql_future_t *f = uvsql_metadata_reflect(md, fx.engine, names, NULL, NULL);
  AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  uvsql_future_unref(f);
  uvsql_metadata_free(md);
  teardown(&fx, &db);
}

TEST(create_all_is_idempotent_and_drop_all_drops_sqlite) {
  create_all_is_idempotent_and_drop_all_drops(test_sqlite_url());
}

TEST(create_all_is_idempotent_and_drop_all_drops_pg) {
  create_all_is_idempotent_and_drop_all_drops(test_pg_url());
}

TEST(create_all_is_idempotent_and_drop_all_drops_mariadb) {
  create_all_is_idempotent_and_drop_all_drops(test_mariadb_url());
}

TEST(multi_row_insert_returns_keys_in_order_sqlite) {
  multi_row_insert_returns_keys_in_order(test_sqlite_url());
}

TEST(multi_row_insert_returns_keys_in_order_pg) {
  multi_row_insert_returns_keys_in_order(test_pg_url());
}

TEST(multi_row_insert_returns_keys_in_order_mariadb) {
  multi_row_insert_returns_keys_in_order(test_mariadb_url());
}

TEST(joins_and_group_by_sqlite) {
  joins_and_group_by(test_sqlite_url());
}

TEST(joins_and_group_by_pg) {
  joins_and_group_by(test_pg_url());
}

TEST(joins_and_group_by_mariadb) {
  joins_and_group_by(test_mariadb_url());
}

TEST(expanding_in_and_subqueries_sqlite) {
  expanding_in_and_subqueries(test_sqlite_url());
}

TEST(expanding_in_and_subqueries_pg) {
  expanding_in_and_subqueries(test_pg_url());
}

TEST(expanding_in_and_subqueries_mariadb) {
  expanding_in_and_subqueries(test_mariadb_url());
}

TEST(recursive_cte_walks_a_tree_sqlite) {
  recursive_cte_walks_a_tree(test_sqlite_url());
}

TEST(recursive_cte_walks_a_tree_pg) {
  recursive_cte_walks_a_tree(test_pg_url());
}

TEST(recursive_cte_walks_a_tree_mariadb) {
  recursive_cte_walks_a_tree(test_mariadb_url());
}

TEST(window_ranking_sqlite) {
  window_ranking(test_sqlite_url());
}

TEST(window_ranking_pg) {
  window_ranking(test_pg_url());
}

TEST(window_ranking_mariadb) {
  window_ranking(test_mariadb_url());
}

TEST(upsert_twice_leaves_one_row_updated_sqlite) {
  upsert_twice_leaves_one_row_updated(test_sqlite_url());
}

TEST(upsert_twice_leaves_one_row_updated_pg) {
  upsert_twice_leaves_one_row_updated(test_pg_url());
}

TEST(upsert_twice_leaves_one_row_updated_mariadb) {
  upsert_twice_leaves_one_row_updated(test_mariadb_url());
}

TEST(update_and_delete_sqlite) {
  update_and_delete(test_sqlite_url(), 1);
}

TEST(update_and_delete_pg) {
  update_and_delete(test_pg_url(), 1);
}

TEST(update_and_delete_mariadb) {
  update_and_delete(test_mariadb_url(), 0);
}

TEST(create_all_then_reflect_gives_the_same_metadata_sqlite) {
  create_all_then_reflect_gives_the_same_metadata(test_sqlite_url());
}

TEST(create_all_then_reflect_gives_the_same_metadata_pg) {
  create_all_then_reflect_gives_the_same_metadata(test_pg_url());
}

TEST(create_all_then_reflect_gives_the_same_metadata_mariadb) {
  create_all_then_reflect_gives_the_same_metadata(test_mariadb_url());
}

TEST(conn_execute_core_runs_inside_a_transaction_sqlite) {
  conn_execute_core_runs_inside_a_transaction(test_sqlite_url());
}

TEST(conn_execute_core_runs_inside_a_transaction_pg) {
  conn_execute_core_runs_inside_a_transaction(test_pg_url());
}

TEST(conn_execute_core_runs_inside_a_transaction_mariadb) {
  conn_execute_core_runs_inside_a_transaction(test_mariadb_url());
}
