/* tests/install/hello.c — the smallest real program built against an installed uvsql
 * (tests/install/run.sh builds it through pkg-config and through find_package(uvsql)).
 *
 * Usage: hello URL   e.g. hello sqlite:///tmp/x/hello.db
 * Prints "uvsql on sqlite: 40 + 2 = 42" and exits 0, or says what failed and exits 1.
 */
#include <inttypes.h>
#include <stdio.h>
#include <uvsql.h>

static int run(uvsql_engine_t *engine, const char *sql, const uvsql_param_t *p, size_t n,
               int64_t *out) {
  uvsql_future_t *f = uvsql_engine_execute_sql(engine, sql, p, n, NULL, NULL);
  int rc = uvsql_future_wait(f);
  if (rc != 0)
    fprintf(stderr, "hello: %s: %s\n", sql, uvsql_future_error(f)->message);
  else if (out)
    rc = uvsql_result_int64(uvsql_future_value(f), 0, 0, out);
  uvsql_future_unref(f);
  return rc;
}

int main(int argc, char **argv) {
  uv_loop_t loop;
  uvsql_engine_t *engine;
  uvsql_error_t err;
  int64_t sum = 0;
  if (argc != 2) {
    fprintf(stderr, "usage: hello URL\n");
    return 2;
  }
  uv_loop_init(&loop);
  if (uvsql_engine_new(&engine, &loop, argv[1], NULL, &err) != 0) {
    fprintf(stderr, "hello: %s\n", err.message);
    return 1;
  }
  uvsql_param_t a[] = {UVSQL_P_INT64("n", 40)}, b[] = {UVSQL_P_INT64("n", 2)};
  int rc = run(engine, "CREATE TABLE answers (n integer NOT NULL)", NULL, 0, NULL);
  if (rc == 0)
    rc = run(engine, "INSERT INTO answers (n) VALUES (:n)", a, 1, NULL);
  if (rc == 0)
    rc = run(engine, "INSERT INTO answers (n) VALUES (:n)", b, 1, NULL);
  if (rc == 0)
    rc = run(engine, "SELECT sum(n) FROM answers", NULL, 0, &sum);
  if (rc == 0)
    printf("uvsql on %s: 40 + 2 = %" PRId64 "\n", uvsql_engine_dialect(engine), sum);

  uvsql_future_t *f = uvsql_engine_dispose(engine, NULL, NULL);
  uvsql_future_wait(f);
  uvsql_future_unref(f);
  if (uv_loop_close(&loop) != 0) {
    fprintf(stderr, "hello: the loop still has open handles after dispose\n");
    return 1;
  }
  return rc == 0 ? 0 : 1;
}
