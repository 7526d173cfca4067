/* docs/examples/core.c — the tutorial's "Core" section: a schema declared once, create_all,
 * INSERT (one statement run with many params, multi-row with RETURNING), a SELECT with a join,
 * the SQL each dialect gets, and drop_all.
 *
 * Usage: core [URL]   (default sqlite:///core.db)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <uvsql.h>

/* snippet:core.wait_ok */
static void *wait_ok(uvsql_future_t *f, const char *what) {
  if (uvsql_future_wait(f) != 0) {
    const uvsql_error_t *e = uvsql_future_error(f);
    fprintf(stderr, "%s: %s: %s\n", what, uvsql_err_name(e->code), e->message);
    exit(1);
  }
  return uvsql_future_value(f);
}
/* end snippet */

int main(int argc, char **argv) {
  const char *url = argc > 1 ? argv[1] : "sqlite:///core.db";
  uv_loop_t *loop = uv_default_loop();
  uvsql_engine_t *engine;
  uvsql_error_t err;
  if (uvsql_engine_new(&engine, loop, url, NULL, &err) != 0) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }

  /* The schema, declared once. The metadata owns the tables and columns. */
  /* snippet:core.2 */
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *users = uvsql_table(md, "user_account");
  uvsql_column(users, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY);
  uvsql_column(users, "name", UVSQL_SQL_STRING(30), UVSQL_NOT_NULL | UVSQL_UNIQUE);
  uvsql_column(users, "fullname", UVSQL_SQL_STRING(100), 0);
  uvsql_table_t *addresses = uvsql_table(md, "address");
  uvsql_column(addresses, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY);
  uvsql_column_references(uvsql_column(addresses, "user_id", UVSQL_SQL_INTEGER, UVSQL_NOT_NULL),
                          "user_account.id", UVSQL_FK_CASCADE, UVSQL_FK_NO_ACTION);
  uvsql_column(addresses, "email", UVSQL_SQL_STRING(100), UVSQL_NOT_NULL);
  if (uvsql_metadata_error(md)) {
    fprintf(stderr, "schema: %s\n", uvsql_metadata_error(md)->message);
    return 1;
  }
  /* end snippet */

  /* Start from scratch: drop_all (reverse dependency order), then create_all. */
  uvsql_future_t *f = uvsql_metadata_drop_all(md, engine, NULL, NULL);
  wait_ok(f, "drop_all");
  uvsql_future_unref(f);
  /* snippet:core.3 */
  f = uvsql_metadata_create_all(md, engine, NULL, NULL);
  wait_ok(f, "create_all");
  uvsql_future_unref(f);
  /* end snippet */

  /* INSERT without values binds :name and :fullname: one statement, many executions. */
  /* snippet:core.4 */
  uvsql_core_stmt_t *ins = uvsql_insert(users);
  uvsql_insert_columns(ins, UVSQL_NAMES("name", "fullname"));
  const char *people[][2] = {{"spongebob", "Spongebob Squarepants"}, {"sandy", "Sandy Cheeks"}};
  for (int i = 0; i < 2; i++) {
    uvsql_param_t p[] = {UVSQL_P_TEXT("name", people[i][0]),
                         UVSQL_P_TEXT("fullname", people[i][1])};
    f = uvsql_engine_execute_core(engine, ins, p, 2, NULL, NULL);
    wait_ok(f, "insert user");
    uvsql_future_unref(f);
  }
  uvsql_core_stmt_free(ins);
  /* end snippet */

  /* A multi-row INSERT with RETURNING; the values travel as bound parameters. */
  /* snippet:core.5 */
  ins = uvsql_insert(addresses);
  uvsql_insert_columns(ins, UVSQL_NAMES("user_id", "email"));
  uvsql_insert_values(ins, uvsql_lit_int64(ins, 1),
                      uvsql_lit_text(ins, "spongebob@sqlalchemy.org"));
  uvsql_insert_values(ins, uvsql_lit_int64(ins, 2), uvsql_lit_text(ins, "sandy@sqlalchemy.org"));
  uvsql_insert_values(ins, uvsql_lit_int64(ins, 2), uvsql_lit_text(ins, "sandy@squirrelpower.org"));
  uvsql_returning(ins, uvsql_col(addresses, "id"));
  f = uvsql_engine_execute_core(engine, ins, NULL, 0, NULL, NULL);
  printf("new address ids: %zu rows returned\n", uvsql_result_nrows(wait_ok(f, "insert")));
  uvsql_future_unref(f);
  uvsql_core_stmt_free(ins);
  /* end snippet */

  /* SELECT ... JOIN (ON from the foreign key) WHERE name ILIKE :who ORDER BY ... */
  /* snippet:core.6 */
  uvsql_core_stmt_t *sel = uvsql_select_new();
  uvsql_select_cols(sel, uvsql_col(users, "name"), uvsql_col(addresses, "email"));
  uvsql_select_join(sel, addresses, NULL);
  uvsql_where(sel, uvsql_ilike(sel, uvsql_col(users, "name"), uvsql_bindparam(sel, "who")));
  uvsql_select_order_by(sel, uvsql_asc(sel, uvsql_col(addresses, "email")));
  /* end snippet */

  const char *dialects[] = {"sqlite", "postgresql", "mariadb"};
  for (int i = 0; i < 3; i++) {
    const char *sql;
    if (uvsql_core_compile(sel, dialects[i], NULL, 0, &sql, NULL, NULL, &err) == 0)
      printf("%s: %s\n", dialects[i], sql);
  }

  /* snippet:core.7 */
  uvsql_param_t who[] = {UVSQL_P_TEXT("who", "SANDY")};
  f = uvsql_engine_execute_core(engine, sel, who, 1, NULL, NULL);
  uvsql_result_t *r = wait_ok(f, "select");
  for (size_t row = 0; row < uvsql_result_nrows(r); row++) {
    const char *name, *email;
    uvsql_result_text(r, row, 0, &name, NULL);
    uvsql_result_text(r, row, 1, &email, NULL);
    printf("%s <%s>\n", name, email);
  }
  uvsql_future_unref(f);
  uvsql_core_stmt_free(sel);
  /* end snippet */

  f = uvsql_metadata_drop_all(md, engine, NULL, NULL);
  wait_ok(f, "drop_all");
  uvsql_future_unref(f);
  uvsql_metadata_free(md); /* after the statements built on it */

  f = uvsql_engine_dispose(engine, NULL, NULL);
  uvsql_future_wait(f);
  uvsql_future_unref(f);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
