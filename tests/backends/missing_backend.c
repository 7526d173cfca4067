/* tests/backends/missing_backend.c — run by tests/backends/run.sh against a uvsql built with
 * only the SQLite driver: a URL for a backend left out is refused at once, with
 * UVSQL_ENOT_SUPPORTED and a message naming the backend and the CMake option that builds it
 * (the mysql:// alias included), while sqlite:// works. Prints what it checked; exit 0 if
 * everything held. */
#include <stdio.h>
#include <string.h>
#include <uvsql.h>

static int failures;

static void expect_refused(uv_loop_t *loop, const char *url, const char *message) {
  uvsql_engine_t *e = NULL;
  uvsql_error_t err;
  memset(&err, 0, sizeof err);
  int rc = uvsql_engine_new(&e, loop, url, NULL, &err);
  if (rc != UVSQL_ENOT_SUPPORTED || err.code != UVSQL_ENOT_SUPPORTED || e != NULL ||
      strcmp(err.message, message) != 0) {
    printf("FAIL %s: rc %d, code %d, message \"%s\"; wanted %d and \"%s\"\n", url, rc, err.code,
           err.message, UVSQL_ENOT_SUPPORTED, message);
    failures++;
    return;
  }
  printf("ok %s: %s\n", url, err.message);
}

int main(void) {
  uv_loop_t *loop = uv_default_loop();
  expect_refused(loop, "postgresql://app@127.0.0.1/appdb",
                 "the postgresql backend is not built into this uvsql: rebuild it with "
                 "-DUVSQL_WITH_POSTGRESQL=ON (CMake)");
  expect_refused(loop, "mysql://app@127.0.0.1/appdb",
                 "the mariadb backend is not built into this uvsql: rebuild it with "
                 "-DUVSQL_WITH_MARIADB=ON (CMake)");

  uvsql_engine_t *e;
  uvsql_error_t err;
  if (uvsql_engine_new(&e, loop, "sqlite://", NULL, &err) != 0) {
    printf("FAIL sqlite://: %s\n", err.message);
    return 1;
  }
  uvsql_future_t *f = uvsql_engine_execute_sql(e, "SELECT 6 * 7", NULL, 0, NULL, NULL);
  int64_t v = 0;
  if (uvsql_future_wait(f) != 0 || uvsql_result_int64(uvsql_future_value(f), 0, 0, &v) != 0 ||
      v != 42) {
    printf("FAIL sqlite://: SELECT 6 * 7 gave %lld\n", (long long)v);
    failures++;
  } else {
    printf("ok sqlite://: SELECT 6 * 7 = %lld\n", (long long)v);
  }
  uvsql_future_unref(f);
  f = uvsql_engine_dispose(e, NULL, NULL);
  uvsql_future_wait(f);
  uvsql_future_unref(f);
  return failures ? 1 : 0;
}
