/* docs/examples/results.c — the tutorial's "Text statements" and "Results" sections: :name
 * parameters, a statement built once and run many times, typed getters, NULLs, column names.
 * Its table (books) is dropped at the end, and on a failure too.
 *
 * Usage: results [URL]   (default sqlite:///results.db)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <uvsql.h>

/* snippet:results.wait_ok */
static uvsql_engine_t *engine; /* for the cleanup of a failed run */

/* Runs the loop until f settles; exits with the error if it failed (dropping the example's
 * table first). Returns the value. */
static void *wait_ok(uvsql_future_t *f, const char *what) {
  if (uvsql_future_wait(f) != 0) {
    const uvsql_error_t *e = uvsql_future_error(f);
    fprintf(stderr, "%s: %s: %s\n", what, uvsql_err_name(e->code), e->message);
    uvsql_future_t *drop =
        uvsql_engine_execute_sql(engine, "DROP TABLE IF EXISTS books", NULL, 0, NULL, NULL);
    uvsql_future_wait(drop);
    uvsql_future_unref(drop);
    exit(1);
  }
  return uvsql_future_value(f);
}
/* end snippet */

static void exec_ok(const char *sql) {
  uvsql_future_t *f = uvsql_engine_execute_sql(engine, sql, NULL, 0, NULL, NULL);
  wait_ok(f, sql);
  uvsql_future_unref(f);
}

int main(int argc, char **argv) {
  const char *url = argc > 1 ? argv[1] : "sqlite:///results.db";
  uv_loop_t *loop = uv_default_loop();
  uvsql_error_t err;
  if (uvsql_engine_new(&engine, loop, url, NULL, &err) != 0) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  exec_ok("DROP TABLE IF EXISTS books");
  exec_ok("CREATE TABLE books (id integer PRIMARY KEY, title text NOT NULL, "
          "price double precision, published date, in_stock boolean)");

  /* Build a statement once; run it with different parameters. */
  /* snippet:results.1 */
  uvsql_stmt_t *insert;
  if (uvsql_text(&insert,
                 "INSERT INTO books (id, title, price, published, in_stock) "
                 "VALUES (:id, :title, :price, :published, :in_stock)",
                 &err) != 0) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  /* end snippet */
  /* snippet:results.2 */
  uvsql_param_t rows[][5] = {
      {UVSQL_P_INT64("id", 1), UVSQL_P_TEXT("title", "Dune"), UVSQL_P_DOUBLE("price", 9.5),
       UVSQL_P_DATE("published", uvsql_days_from_civil(1965, 8, 1)), UVSQL_P_BOOL("in_stock", 1)},
      {UVSQL_P_INT64("id", 2), UVSQL_P_TEXT("title", "Solaris"), UVSQL_P_NULL("price"),
       UVSQL_P_DATE("published", uvsql_days_from_civil(1961, 1, 1)), UVSQL_P_BOOL("in_stock", 0)},
  };
  for (int i = 0; i < 2; i++) {
    uvsql_future_t *f = uvsql_engine_execute(engine, insert, rows[i], 5, NULL, NULL);
    uvsql_result_t *r = wait_ok(f, "insert");
    printf("inserted %" PRId64 " row\n", uvsql_result_rows_affected(r));
    uvsql_future_unref(f);
  }
  uvsql_stmt_free(insert);
  /* end snippet */

  /* snippet:results.select */
  uvsql_param_t p[] = {UVSQL_P_INT64("min_id", 1)};
  uvsql_future_t *f = uvsql_engine_execute_sql(
      engine,
      "SELECT id, title, price, published, in_stock FROM books WHERE id >= :min_id ORDER BY id", p,
      1, NULL, NULL);
  /* end snippet */
  /* snippet:results.3 */
  uvsql_result_t *r = wait_ok(f, "select");
  printf("%zu rows of %zu columns:", uvsql_result_nrows(r), uvsql_result_ncols(r));
  for (size_t c = 0; c < uvsql_result_ncols(r); c++)
    printf(" %s", uvsql_result_colname(r, c));
  printf("\n");
  long price_col = uvsql_result_colindex(r, "price");
  /* end snippet */
  for (size_t row = 0; row < uvsql_result_nrows(r); row++) {
    /* snippet:results.4 */
    int64_t id, days;
    const char *title;
    size_t title_len;
    int in_stock, y, m, d;
    uvsql_result_int64(r, row, 0, &id);
    uvsql_result_text(r, row, 1, &title, &title_len);
    uvsql_result_date(r, row, 3, &days);
    uvsql_result_bool(r, row, 4, &in_stock);
    uvsql_civil_from_days(days, &y, &m, &d);
    /* end snippet */
    printf("%" PRId64 " %.*s (%04d) %s", id, (int)title_len, title, y,
           in_stock ? "in stock" : "sold out");
    double price;
    if (uvsql_result_is_null(r, row, (size_t)price_col))
      printf(", no price\n");
    else if (uvsql_result_double(r, row, (size_t)price_col, &price) == 0)
      printf(", %.2f\n", price);
  }
  /* A getter never guesses: a NULL or a value of another type is an error code. */
  /* snippet:results.5 */
  double price;
  int rc = uvsql_result_double(r, 1, (size_t)price_col, &price);
  printf("price of Solaris: %s (%s)\n", uvsql_err_name(rc), uvsql_result_last_error(r));
  /* end snippet */
  rc = uvsql_result_int64(r, 0, 1, &(int64_t){0});
  printf("title as int64: %s (%s)\n", uvsql_err_name(rc), uvsql_result_last_error(r));
  uvsql_future_unref(f); /* frees the result too */
  exec_ok("DROP TABLE books");

  f = uvsql_engine_dispose(engine, NULL, NULL);
  uvsql_future_wait(f);
  uvsql_future_unref(f);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
