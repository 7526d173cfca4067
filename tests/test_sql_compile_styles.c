/* tests/test_sql_compile_styles.c — what reaches the driver: a compiled Core statement in each
 * backend's placeholder style ($n, ?, ?n) with its values in placeholder order, and the
 * remaining compile cases (plain CTEs, nested set operations, quoting of odd names). No
 * server needed. */
#include "backend.h"
#include "engine/internal.h"
#include "sql/dialect.h"

static uvsql_table_t *table(uvsql_metadata_t *md) {
  uvsql_table_t *t = uvsql_table(md, "Items");
  uvsql_column(t, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY);
  uvsql_column(t, "select", UVSQL_SQL_TEXT, 0);
  uvsql_column(t, "we\"ird`", UVSQL_SQL_TEXT, 0);
  return t;
}

/* The final SQL for a paramstyle and the values bound to it, as "v1,v2" (ints or names). */
static void final_form(uvsql_core_stmt_t *s, const char *dialect, uvsql__paramstyle_t style,
                       const uvsql_param_t *user, size_t nuser, const char *want_sql,
                       const char *want_values) {
  const uvsql__core_compiled_t *cc;
  uvsql_error_t err;
  ASSERT_OK(uvsql__compiled(s, uvsql__sql_dialect_find(dialect), user, nuser, &cc, &err), &err);
  const uvsql__compiled_t *fc = uvsql__stmt_compile(cc->text, style);
  ASSERT(fc != NULL);
  ASSERT_STR_EQ(fc->sql, want_sql);
  uvsql_param_t all[16];
  size_t n = 0;
  for (size_t i = 0; i < cc->nvalues; i++)
    all[n++] = cc->values[i];
  for (size_t i = 0; i < nuser; i++)
    all[n++] = user[i];
  uvsql_value_t out[16];
  ASSERT_OK(uvsql__stmt_bind(cc->text, fc, all, n, out, &err), &err);
  char got[256] = "";
  for (int i = 0; i < fc->nplaceholders; i++) {
    char v[32];
    snprintf(v, sizeof v, "%s%" PRId64, i ? "," : "", out[i].u.i64);
    strcat(got, v);
  }
  ASSERT_STR_EQ(got, want_values);
}

TEST(placeholders_in_each_backend_style_keep_value_order) {
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *t = table(md);
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_expr_t *id = uvsql_col(t, "id");
  uvsql_select_cols(s, id);
  uvsql_where(s, uvsql_or(s, uvsql_eq(s, id, uvsql_bindparam(s, "x")),
                          uvsql_eq(s, id, uvsql_lit_int64(s, 7)),
                          uvsql_eq(s, id, uvsql_bindparam(s, "x"))));
  uvsql_param_t p[] = {UVSQL_P_INT64("x", 3)};
  final_form(s, "postgresql", UVSQL__PARAMSTYLE_DOLLAR, p, 1,
             "SELECT \"Items\".id FROM \"Items\" WHERE \"Items\".id = $1 OR \"Items\".id = $2 OR "
             "\"Items\".id = $1",
             "3,7");
  final_form(s, "mariadb", UVSQL__PARAMSTYLE_QMARK, p, 1,
             "SELECT `Items`.id FROM `Items` WHERE `Items`.id = ? OR `Items`.id = ? OR "
             "`Items`.id = ?",
             "3,7,3");
  final_form(s, "sqlite", UVSQL__PARAMSTYLE_NUMBERED, p, 1,
             "SELECT \"Items\".id FROM \"Items\" WHERE \"Items\".id = ?1 OR \"Items\".id = ?2 OR "
             "\"Items\".id = ?1",
             "3,7");
  uvsql_core_stmt_free(s);
  uvsql_metadata_free(md);
}

TEST(expanding_in_binds_each_value_in_order) {
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *t = table(md);
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(t, "id"));
  uvsql_where(s, uvsql_and(s, uvsql_gt(s, uvsql_col(t, "id"), uvsql_lit_int64(s, 1)),
                           uvsql_in_expanding(s, uvsql_col(t, "id"), "ids")));
  uvsql_param_t p[] = {UVSQL_P_INT64("ids", 5), UVSQL_P_INT64("ids", 6)};
  final_form(s, "mariadb", UVSQL__PARAMSTYLE_QMARK, p, 0,
             "SELECT `Items`.id FROM `Items` WHERE `Items`.id > ? AND 1 != 1", "1");
  const uvsql__core_compiled_t *cc;
  uvsql_error_t err;
  ASSERT_OK(uvsql__compiled(s, uvsql__sql_dialect_find("postgresql"), p, 2, &cc, &err), &err);
  ASSERT_STR_EQ(uvsql_stmt_sql(cc->text), "SELECT \"Items\".id FROM \"Items\" WHERE \"Items\".id > "
                                          ":param_1 AND \"Items\".id IN (:ids_1, :ids_2)");
  ASSERT_INT_EQ(cc->nvalues, 3);
  ASSERT_INT_EQ(cc->nexpanding, 1);
  uvsql_core_stmt_free(s);
  uvsql_metadata_free(md);
}

TEST(odd_names_are_quoted_with_the_quote_doubled) {
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *t = table(md);
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(t, "select"), uvsql_col(t, "we\"ird`"));
  const char *sql;
  uvsql_error_t err;
  ASSERT_OK(uvsql_core_compile(s, "postgresql", NULL, 0, &sql, NULL, NULL, &err), &err);
  ASSERT_STR_EQ(sql, "SELECT \"Items\".\"select\", \"Items\".\"we\"\"ird`\" FROM \"Items\"");
  ASSERT_OK(uvsql_core_compile(s, "mariadb", NULL, 0, &sql, NULL, NULL, &err), &err);
  ASSERT_STR_EQ(sql, "SELECT `Items`.`select`, `Items`.`we\"ird``` FROM `Items`");
  uvsql_core_stmt_free(s);
  uvsql_metadata_free(md);
}

TEST(plain_cte_and_nested_set_operations) {
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *t = table(md);
  uvsql_core_stmt_t *q = uvsql_select_new(), *sub = uvsql_select_new();
  uvsql_select_cols(sub, uvsql_col(t, "id"));
  uvsql_where(sub, uvsql_gt(sub, uvsql_col(t, "id"), uvsql_bindparam(sub, "min")));
  uvsql_from_t *big = uvsql_cte(q, sub, "big", 0);
  uvsql_core_stmt_free(sub);
  uvsql_select_cols(q, uvsql_count(q, uvsql_col(big, "id")));
  const char *sql;
  uvsql_error_t err;
  ASSERT_OK(uvsql_core_compile(q, "sqlite", NULL, 0, &sql, NULL, NULL, &err), &err);
  ASSERT_STR_EQ(sql, "WITH big AS (SELECT \"Items\".id FROM \"Items\" WHERE \"Items\".id > :min) "
                     "SELECT count(big.id) FROM big");
  uvsql_core_stmt_free(q);

  uvsql_core_stmt_t *a = uvsql_select_new(), *b = uvsql_select_new(), *c = uvsql_select_new();
  uvsql_select_cols(a, uvsql_col(t, "id"));
  uvsql_select_cols(b, uvsql_col(t, "id"));
  uvsql_select_cols(c, uvsql_col(t, "id"));
  uvsql_core_stmt_t *u = uvsql_union(a, b), *x = uvsql_intersect(u, c), *y = uvsql_except(c, u);
  ASSERT_OK(uvsql_core_compile(x, "postgresql", NULL, 0, &sql, NULL, NULL, &err), &err);
  ASSERT_STR_EQ(sql, "(SELECT \"Items\".id FROM \"Items\" UNION SELECT \"Items\".id FROM "
                     "\"Items\") INTERSECT SELECT \"Items\".id FROM \"Items\"");
  ASSERT_OK(uvsql_core_compile(x, "sqlite", NULL, 0, &sql, NULL, NULL, &err), &err);
  ASSERT_STR_EQ(sql, "SELECT \"Items\".id FROM \"Items\" UNION SELECT \"Items\".id FROM "
                     "\"Items\" INTERSECT SELECT \"Items\".id FROM \"Items\"");
  ASSERT_ERR(uvsql_core_compile(y, "sqlite", NULL, 0, &sql, NULL, NULL, &err),
             UVSQL_ENOT_SUPPORTED);
  ASSERT_OK(uvsql_core_compile(y, "mariadb", NULL, 0, &sql, NULL, NULL, &err), &err);
  ASSERT_STR_EQ(sql, "SELECT `Items`.id FROM `Items` EXCEPT (SELECT `Items`.id FROM `Items` UNION "
                     "SELECT `Items`.id FROM `Items`)");
  uvsql_core_stmt_free(x);
  uvsql_core_stmt_free(y);
  uvsql_core_stmt_free(u);
  uvsql_core_stmt_free(a);
  uvsql_core_stmt_free(b);
  uvsql_core_stmt_free(c);
  uvsql_metadata_free(md);
}
