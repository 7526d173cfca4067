/* tests/test_mariadb_tls.c — MariaDB TLS modes mean what they say: ssl_mode=required against a
 * server without TLS fails (the plain throwaway server, UVSQL_TEST_MARIADB_URL), and against
 * one with a self-signed certificate (UVSQL_TEST_MARIADB_TLS_URL, whose CA and an unrelated CA
 * are ca.pem and wrong-ca.pem in UVSQL_TEST_TLS_DIR; scripts/test.sh makes them and starts that
 * server) required, verify_ca and verify_identity connect encrypted with the right CA and
 * fail with the wrong one. A test whose server is not named fails, naming the variable. */
#include "backend.h"

static const char *need_env(const char *var) {
  const char *v = getenv(var);
  test_require_backend("mariadb");
  if (!v || !*v)
    FAILF("%s is not set: run the suite with scripts/test.sh, which starts a throwaway MariaDB "
          "with a self-signed certificate, or set UVSQL_TEST_MARIADB_TLS_URL and "
          "UVSQL_TEST_TLS_DIR (holding ca.pem and wrong-ca.pem)",
          var);
  return v;
}

/* The TLS server's URL with query appended (static buffer). */
static const char *tls_url(const char *query) {
  static char url[1024];
  const char *base = need_env("UVSQL_TEST_MARIADB_TLS_URL");
  snprintf(url, sizeof url, "%s%s%s", base, strchr(base, '?') ? "&" : "?", query);
  return url;
}

static const char *tls_file(const char *name) {
  static char path[2][512];
  static int which;
  which ^= 1;
  snprintf(path[which], sizeof path[which], "%s/%s", need_env("UVSQL_TEST_TLS_DIR"), name);
  return path[which];
}

/* Connects with url, returns the session's Ssl_cipher (static buffer; "" when unencrypted). */
static const char *cipher_of(const char *url) {
  static char cipher[128];
  fixture_t fx = fixture_open(url, NULL);
  uvsql_result_t *r = query(&fx, "SHOW SESSION STATUS LIKE 'Ssl_cipher'", NULL, 0);
  const char *s;
  size_t n;
  ASSERT_INT_EQ(uvsql_result_nrows(r), 1);
  ASSERT_OK(uvsql_result_text(r, 0, 1, &s, &n), (uvsql_error_t *)NULL);
  snprintf(cipher, sizeof cipher, "%.*s", (int)n, s);
  uvsql_result_free(r);
  fixture_close(&fx);
  return cipher;
}

/* Connecting with url fails with UVSQL_ECONNECT; asserts the message contains want. */
static void connect_fails(const char *url, const char *want) {
  fixture_t fx = fixture_open(url, NULL);
  uvsql_future_t *f = uvsql_engine_execute_sql(fx.engine, "SELECT 1", NULL, 0, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ECONNECT);
  printf("%s\n", e->message);
  ASSERT_STR_CONTAINS(e->message, want);
  uvsql_future_unref(f);
  fixture_close(&fx);
}

TEST(ssl_mode_required_against_a_server_without_tls_fails_instead_of_connecting_unencrypted) {
  char url[1024];
  snprintf(url, sizeof url, "%s?ssl_mode=required", test_mariadb_url());
  ASSERT_STR_EQ(cipher_of(test_mariadb_url()), ""); /* the plain server: really no TLS */
  connect_fails(url, "ssl_mode=required needs TLS but the server does not offer it, and uvsql "
                     "does not fall back to an unencrypted connection; enable TLS on the server");
  snprintf(url, sizeof url, "%s?ssl=true", test_mariadb_url());
  connect_fails(url, "ssl_mode=required needs TLS but the server does not offer it");
  snprintf(url, sizeof url, "%s?ssl_ca=%s", test_mariadb_url(), tls_file("ca.pem"));
  connect_fails(url, "ssl_mode=required (implied by ssl_ca, ssl_cert or ssl_key) needs TLS but "
                     "the server does not offer it");
}

TEST(ssl_mode_required_against_a_tls_server_is_encrypted) {
  const char *c = cipher_of(tls_url("ssl_mode=required"));
  printf("cipher %s\n", c);
  ASSERT(c[0] != '\0');
  ASSERT_STR_EQ(cipher_of(tls_url("ssl_mode=disabled")), "");
}

TEST(verify_ca_with_the_right_ca_connects_encrypted_and_with_a_wrong_ca_fails) {
  char q[700];
  snprintf(q, sizeof q, "ssl_mode=verify_ca&ssl_ca=%s", tls_file("ca.pem"));
  ASSERT(cipher_of(tls_url(q))[0] != '\0');
  snprintf(q, sizeof q, "ssl_mode=verify_ca&ssl_ca=%s", tls_file("wrong-ca.pem"));
  connect_fails(tls_url(q), "certificate");
  connect_fails(tls_url(q), "(the server's certificate was refused: ssl_ca must name the "
                            "authority that signed it");
}

TEST(verify_identity_with_the_right_ca_connects_encrypted_and_with_a_wrong_ca_fails) {
  char q[700];
  snprintf(q, sizeof q, "ssl_mode=verify_identity&ssl_ca=%s", tls_file("ca.pem"));
  ASSERT(cipher_of(tls_url(q))[0] != '\0');
  snprintf(q, sizeof q, "ssl_mode=verify_identity&ssl_ca=%s", tls_file("wrong-ca.pem"));
  connect_fails(tls_url(q), "TLS/SSL error: self-signed certificate in certificate chain (the "
                            "server's certificate was refused: ssl_ca must name the authority");
}

TEST(verify_identity_without_ssl_ca_refuses_a_self_signed_certificate) {
  connect_fails(tls_url("ssl_mode=verify_identity"),
                "(the server's certificate was refused: give ssl_ca=<file> naming the "
                "authority that signed it)");
}
