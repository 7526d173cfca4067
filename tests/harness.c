/* tests/harness.c — the harness's runner: `test_x` lists tests, `test_x NAME` runs one. */
#include "harness.h"
#include <stdarg.h>
#include <unistd.h>

#define MAX_TESTS 256
static struct {
  const char *name;
  test_fn fn;
} tests[MAX_TESTS];
static int ntests;
static const char *current = "?";

void test_register(const char *name, test_fn fn) {
  if (ntests == MAX_TESTS) {
    fprintf(stderr, "too many tests in one file\n");
    exit(2);
  }
  tests[ntests].name = name;
  tests[ntests].fn = fn;
  ntests++;
}

void test_fail(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "FAIL %s (%s:%d): ", current, file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  fflush(stderr);
  exit(1);
}

void *test_await_ok(uvsql_future_t *f, const char *file, int line) {
  if (!f)
    test_fail(file, line, "future is NULL");
  int rc = uvsql_future_wait(f);
  if (rc != 0) {
    const uvsql_error_t *e = uvsql_future_error(f);
    test_fail(file, line, "future failed: %s: %s (sqlstate %s)", uvsql_err_name(rc),
              e ? e->message : "", e ? e->sqlstate : "");
  }
  return uvsql_future_value(f);
}

const uvsql_error_t *test_await_err(uvsql_future_t *f, int code, const char *file, int line) {
  if (!f)
    test_fail(file, line, "future is NULL");
  int rc = uvsql_future_wait(f);
  const uvsql_error_t *e = uvsql_future_error(f);
  if (rc != code || !e || e->code != code)
    test_fail(file, line, "expected %s, got %s: %s", uvsql_err_name(code), uvsql_err_name(rc),
              e ? e->message : "(no error)");
  if (e->message[0] == '\0')
    test_fail(file, line, "error %s has no message", uvsql_err_name(code));
  return e;
}

uv_loop_t *test_loop(void) {
  uv_loop_t *loop = malloc(sizeof *loop);
  if (!loop || uv_loop_init(loop) != 0)
    FAILF("uv_loop_init failed");
  return loop;
}

static void sleep_done(uv_timer_t *t) {
  *(int *)t->data = 1;
}

void test_sleep(uv_loop_t *loop, uint64_t ms) {
  uv_timer_t t;
  int done = 0;
  uv_timer_init(loop, &t);
  t.data = &done;
  uv_timer_start(&t, sleep_done, ms, 0);
  while (!done)
    uv_run(loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
}

static void print_handle(uv_handle_t *h, void *arg) {
  (void)arg;
  fprintf(stderr, "  open handle: %s%s\n", uv_handle_type_name(uv_handle_get_type(h)),
          uv_is_closing(h) ? " (closing)" : "");
}

void test_loop_close(uv_loop_t *loop) {
  uv_run(loop, UV_RUN_DEFAULT);
  int rc = uv_loop_close(loop);
  if (rc != 0) {
    uv_walk(loop, print_handle, NULL);
    FAILF("uv_loop_close: %s: the test left handles open", uv_err_name(rc));
  }
  free(loop);
}

static const char *env_url(const char *var) {
  const char *v = getenv(var);
  if (!v || !*v)
    FAILF("%s is not set: run the suite with scripts/test.sh, which starts throwaway servers, "
          "or set it to a server's URL",
          var);
  return v;
}

/* A backend this build left out (CMake UVSQL_WITH_<BACKEND>=OFF): the test is skipped (ctest
 * reads exit status 77 as "skipped"). */
static void skip_left_out(const char *backend, const char *option) {
  printf("SKIP: this uvsql is built without the %s backend (%s=OFF)\n", backend, option);
  fflush(stdout);
  exit(77);
}

void test_require_backend(const char *backend) {
#if defined(UVSQL_WITH_POSTGRESQL) && !UVSQL_WITH_POSTGRESQL
  if (strcmp(backend, "postgresql") == 0)
    skip_left_out("postgresql", "UVSQL_WITH_POSTGRESQL");
#endif
#if defined(UVSQL_WITH_MARIADB) && !UVSQL_WITH_MARIADB
  if (strcmp(backend, "mariadb") == 0)
    skip_left_out("mariadb", "UVSQL_WITH_MARIADB");
#endif
#if defined(UVSQL_WITH_SQLITE) && !UVSQL_WITH_SQLITE
  if (strcmp(backend, "sqlite") == 0)
    skip_left_out("sqlite", "UVSQL_WITH_SQLITE");
#endif
  (void)backend;
}

const char *test_pg_url(void) {
  test_require_backend("postgresql");
  return env_url("UVSQL_TEST_PG_URL");
}

const char *test_mariadb_url(void) {
  test_require_backend("mariadb");
  return env_url("UVSQL_TEST_MARIADB_URL");
}

static char tmpdir[256];
static void remove_tmpdir(void) {
  char cmd[300];
  if (tmpdir[0]) {
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
      fprintf(stderr, "could not remove %s\n", tmpdir);
  }
}

const char *test_sqlite_url(void) {
  static char url[400];
  static int n;
  test_require_backend("sqlite");
  if (!tmpdir[0]) {
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/uvsql-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir))
      FAILF("mkdtemp failed");
    atexit(remove_tmpdir);
  }
  snprintf(url, sizeof url, "sqlite:///%s/t%d.db", tmpdir, n++);
  return url;
}

const char *test_unique_name(const char *prefix) {
  static char buf[8][64];
  static int n;
  char *b = buf[n % 8];
  snprintf(b, 64, "%s_%ld_%d", prefix, (long)getpid(), n);
  n++;
  return b;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    for (int i = 0; i < ntests; i++)
      printf("%s\n", tests[i].name);
    return 0;
  }
  for (int i = 0; i < ntests; i++) {
    if (strcmp(tests[i].name, argv[1]) == 0) {
      current = tests[i].name;
      setvbuf(stdout, NULL, _IONBF, 0);
      tests[i].fn();
      printf("ok %s\n", current);
      return 0;
    }
  }
  fprintf(stderr, "no test named %s\n", argv[1]);
  return 2;
}
