/* tests/test_bad_timeouts.c — a timeout must be a finite number of seconds: nan, inf and
 * 1e308 are refused with a clear error, as engine options (UVSQL_EINVALID_ARGUMENT) and as the
 * connect_timeout URL option of each server backend (UVSQL_EURL), before anything connects. */
#include <math.h>
#include "backend.h"

static const char *const bad[] = {"nan", "inf", "-inf", "1e308", "604801"};

TEST(engine_timeouts_nan_inf_or_huge_are_invalid_arguments) {
  uv_loop_t *loop = test_loop();
  const double values[] = {NAN, INFINITY, 1e308, 604801};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
    uvsql_engine_t *e = NULL;
    uvsql_error_t err;
    char want[160];
    opt.connect_timeout = values[i];
    ASSERT_ERR(uvsql_engine_new(&e, loop, "sqlite://", &opt, &err), UVSQL_EINVALID_ARGUMENT);
    ASSERT(e == NULL);
    snprintf(want, sizeof want,
             "connect_timeout is %g: it must be a finite number of seconds from 0 to 604800 "
             "(0 for none)",
             values[i]);
    ASSERT_STR_EQ(err.message, want);
    opt = (uvsql_engine_options_t)UVSQL_ENGINE_OPTIONS_INIT;
    opt.pool_timeout = values[i];
    ASSERT_ERR(uvsql_engine_new(&e, loop, "sqlite://", &opt, &err), UVSQL_EINVALID_ARGUMENT);
    ASSERT_STR_CONTAINS(err.message, "pool_timeout is ");
    ASSERT_STR_CONTAINS(err.message, ": it must be a finite number of seconds from 0 to 604800");
  }
  test_loop_close(loop);
}

TEST(postgresql_url_connect_timeout_nan_inf_or_huge_is_refused) {
  test_require_backend("postgresql");
  uv_loop_t *loop = test_loop();
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char url[128], want[160];
    uvsql_engine_t *e;
    uvsql_error_t err;
    snprintf(url, sizeof url, "postgresql://u@h/db?connect_timeout=%s", bad[i]);
    ASSERT_ERR(uvsql_engine_new(&e, loop, url, NULL, &err), UVSQL_EURL);
    snprintf(want, sizeof want,
             "URL option connect_timeout=\"%s\" is not a number of seconds from 0 to 604800 (0 "
             "for none)",
             bad[i]);
    ASSERT_STR_EQ(err.message, want);
  }
  test_loop_close(loop);
}

TEST(mariadb_url_connect_timeout_nan_inf_or_huge_is_refused) {
  test_require_backend("mariadb");
  uv_loop_t *loop = test_loop();
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char url[128], want[160];
    uvsql_engine_t *e;
    uvsql_error_t err;
    snprintf(url, sizeof url, "mariadb://u@h/db?connect_timeout=%s", bad[i]);
    ASSERT_ERR(uvsql_engine_new(&e, loop, url, NULL, &err), UVSQL_EURL);
    snprintf(want, sizeof want,
             "mariadb URL option connect_timeout=%s: expected a number of seconds >= 0 (0 for "
             "none)",
             bad[i]);
    ASSERT_STR_EQ(err.message, want);
  }
  test_loop_close(loop);
}
