/* tests/test_pg_tls.c — PostgreSQL sslmode means what it says: require against a server
 * without TLS (the plain throwaway server, UVSQL_TEST_PG_URL) fails, and against one with a
 * self-signed certificate (UVSQL_TEST_PG_TLS_URL; its CA and an unrelated CA are ca.pem and
 * wrong-ca.pem in UVSQL_TEST_TLS_DIR; scripts/test.sh makes them and starts that server)
 * require, verify-ca and verify-full connect encrypted with the right CA and fail with the
 * wrong one. A test whose server is not named fails, naming the variable. */
#include "backend.h"

static const char *need_env(const char *var) {
  const char *v = getenv(var);
  test_require_backend("postgresql");
  if (!v || !*v)
    FAILF("%s is not set: run the suite with scripts/test.sh, which starts a throwaway "
          "PostgreSQL with a self-signed certificate, or set UVSQL_TEST_PG_TLS_URL and "
          "UVSQL_TEST_TLS_DIR (holding ca.pem and wrong-ca.pem)",
          var);
  return v;
}

/* base with "?query" appended, then the path of file in UVSQL_TEST_TLS_DIR if file is not NULL
 * (static buffer). */
static const char *url_with(const char *base, const char *query, const char *file) {
  static char url[1024];
  char path[512] = "";
  if (file)
    snprintf(path, sizeof path, "%s/%s", need_env("UVSQL_TEST_TLS_DIR"), file);
  snprintf(url, sizeof url, "%s%s%s%s", base, strchr(base, '?') ? "&" : "?", query, path);
  return url;
}

/* Connects with url; returns "true <cipher>" or "false " from pg_stat_ssl (static buffer). */
static const char *ssl_of(const char *url) {
  static char out[160];
  fixture_t fx = fixture_open(url, NULL);
  uvsql_result_t *r = query(&fx,
                            "SELECT ssl::text || ' ' || coalesce(cipher, '') FROM pg_stat_ssl "
                            "WHERE pid = pg_backend_pid()",
                            NULL, 0);
  const char *s;
  size_t n;
  ASSERT_INT_EQ(uvsql_result_nrows(r), 1);
  ASSERT_OK(uvsql_result_text(r, 0, 0, &s, &n), (uvsql_error_t *)NULL);
  snprintf(out, sizeof out, "%.*s", (int)n, s);
  uvsql_result_free(r);
  fixture_close(&fx);
  printf("%s\n", out);
  return out;
}

static void connect_fails(const char *url, const char *want) {
  fixture_t fx = fixture_open(url, NULL);
  uvsql_future_t *f = uvsql_engine_execute_sql(fx.engine, "SELECT 1", NULL, 0, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ECONNECT);
  printf("%s\n", e->message);
  ASSERT_STR_CONTAINS(e->message, want);
  uvsql_future_unref(f);
  fixture_close(&fx);
}

TEST(sslmode_require_against_a_server_without_tls_fails) {
  connect_fails(url_with(test_pg_url(), "sslmode=require", NULL),
                "server does not support SSL, but SSL was required");
  connect_fails(url_with(test_pg_url(), "sslmode=verify-full&sslrootcert=", "ca.pem"),
                "server does not support SSL, but SSL was required");
}

TEST(sslmode_require_against_a_tls_server_is_encrypted_and_disable_is_not) {
  const char *tls = need_env("UVSQL_TEST_PG_TLS_URL");
  ASSERT(strncmp(ssl_of(url_with(tls, "sslmode=require", NULL)), "true TLS", 8) == 0);
  ASSERT_STR_EQ(ssl_of(url_with(tls, "sslmode=disable", NULL)), "false ");
}

TEST(sslmode_verify_ca_with_the_right_ca_connects_and_with_a_wrong_ca_fails) {
  const char *tls = need_env("UVSQL_TEST_PG_TLS_URL");
  ASSERT(strncmp(ssl_of(url_with(tls, "sslmode=verify-ca&sslrootcert=", "ca.pem")), "true TLS",
                 8) == 0);
  connect_fails(url_with(tls, "sslmode=verify-ca&sslrootcert=", "wrong-ca.pem"),
                "SSL error: certificate verify failed");
}

TEST(sslmode_verify_full_with_the_right_ca_connects_and_with_a_wrong_ca_fails) {
  const char *tls = need_env("UVSQL_TEST_PG_TLS_URL");
  ASSERT(strncmp(ssl_of(url_with(tls, "sslmode=verify-full&sslrootcert=", "ca.pem")), "true TLS",
                 8) == 0);
  connect_fails(url_with(tls, "sslmode=verify-full&sslrootcert=", "wrong-ca.pem"),
                "SSL error: certificate verify failed");
}
