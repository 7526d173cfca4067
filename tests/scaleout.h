/* tests/scaleout.h — the scale-out servers scripts/test.sh starts next to its PostgreSQL: a
 * streaming standby (UVSQL_TEST_PG_STANDBY_URL) and pgbouncer in transaction pooling mode
 * (UVSQL_TEST_PGBOUNCER_URL). A test that needs one and finds the variable unset fails, naming
 * it: it never skips silently. */
#ifndef UVSQL_TEST_SCALEOUT_H
#define UVSQL_TEST_SCALEOUT_H

#include "harness.h"

static inline const char *test_env_url(const char *var) {
  test_require_backend("postgresql");
  const char *u = getenv(var);
  if (!u || !*u)
    FAILF("%s is not set: run the tests through scripts/test.sh without UVSQL_TEST_PG_URL (it "
          "then starts PostgreSQL with a streaming standby and pgbouncer), or set it to such a "
          "server",
          var);
  return u;
}
static inline const char *test_pg_standby_url(void) {
  return test_env_url("UVSQL_TEST_PG_STANDBY_URL");
}
static inline const char *test_pgbouncer_url(void) {
  return test_env_url("UVSQL_TEST_PGBOUNCER_URL");
}
/* "host:port" of a postgresql://user@host:port/db URL, into buf. */
static inline const char *test_url_hostport(const char *url, char *buf, size_t size) {
  const char *at = strrchr(url, '@');
  const char *h = at ? at + 1 : strstr(url, "://") + 3;
  size_t n = strcspn(h, "/?");
  snprintf(buf, size, "%.*s", (int)n, h);
  return buf;
}

#endif
