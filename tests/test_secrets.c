/* tests/test_secrets.c — no secret of a URL is ever shown: the password and every secret
 * query option (password=, sslpassword=, sslkey=, ...) are masked as "***" in
 * uvsql_url_render, uvsql_engine_url, URL parse errors, echo log lines and the errors of a
 * failing connect, on PostgreSQL, MariaDB and SQLite. */
#include "backend.h"

#define SECRET "Hunter2xyzzy"

typedef struct {
  char text[16384];
  size_t len;
} seen_t;

static void see(seen_t *s, const char *line) {
  size_t n = strlen(line);
  if (s->len + n + 2 < sizeof s->text) {
    memcpy(s->text + s->len, line, n);
    s->len += n;
    s->text[s->len++] = '\n';
    s->text[s->len] = '\0';
  }
}

static void on_log(void *data, const char *line) {
  see(data, line);
}

static void assert_no_secret(const seen_t *s) {
  printf("%s", s->text);
  if (strstr(s->text, SECRET) || strstr(s->text, "Hunter2"))
    FAILF("a secret was shown: %s", s->text);
}

static const char *render(const char *text) {
  static char out[1024];
  uvsql_url_t *u;
  uvsql_error_t err;
  ASSERT_OK(uvsql_url_parse(&u, text, &err), &err);
  size_t n = uvsql_url_render(u, out, sizeof out);
  ASSERT_INT_EQ(n, strlen(out));
  uvsql_url_free(u);
  return out;
}

TEST(url_render_masks_the_password_and_every_secret_option) {
  ASSERT_STR_EQ(render("postgresql://app:" SECRET "@h:5432/db?password=" SECRET
                       "&sslpassword=" SECRET "&sslkey=/etc/k.pem&sslmode=require"),
                "postgresql://app:***@h:5432/db?password=***&sslpassword=***&sslkey=***&"
                "sslmode=require");
  ASSERT_STR_EQ(render("mariadb://app@h/db?ssl_key=/k.pem&ssl_ca=/ca.pem&API_TOKEN=" SECRET
                       "&Client_Secret=" SECRET "&passphrase=" SECRET "&charset=utf8mb4"),
                "mariadb://app@h/db?ssl_key=***&ssl_ca=/ca.pem&API_TOKEN=***&"
                "Client_Secret=***&passphrase=***&charset=utf8mb4");
}

TEST(url_option_is_secret_names_passwords_secrets_and_keys) {
  const char *secret[] = {"password", "sslpassword",   "PassWord",   "passwd", "db_pwd",
                          "secret",   "client_secret", "passphrase", "token",  "credentials",
                          "sslkey",   "ssl_key",       "api_key",    "KEY"};
  const char *plain[] = {
      "sslmode",    "ssl_ca",          "sslrootcert", "sslcert",          "host",
      "keepalives", "keepalives_idle", "user",        "application_name", "timeout"};
  for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
    if (!uvsql_url_option_is_secret(secret[i]))
      FAILF("%s should be secret", secret[i]);
  for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
    if (uvsql_url_option_is_secret(plain[i]))
      FAILF("%s should not be secret", plain[i]);
  ASSERT_INT_EQ(uvsql_url_option_is_secret(NULL), 0);
}

TEST(url_parse_errors_never_quote_a_secret_option) {
  uvsql_url_t *u;
  uvsql_error_t err;
  seen_t s = {.len = 0};
  ASSERT_ERR(uvsql_url_parse(&u, "postgresql://u@h:99999/db?password=" SECRET, &err), UVSQL_EURL);
  see(&s, err.message);
  ASSERT_STR_CONTAINS(err.message, "port \"99999\" is not a number from 1 to 65535 (in database "
                                   "URL \"postgresql://u@h:99999/db?password=***\")");
  ASSERT_ERR(uvsql_url_parse(&u, "postgresql://u@h/db?sslpassword=Hunter2%zz", &err), UVSQL_EURL);
  see(&s, err.message);
  ASSERT_STR_CONTAINS(err.message, "bad %-escape in the query option value: '%' must be");
  ASSERT_STR_CONTAINS(err.message, "?sslpassword=***\")");
  ASSERT_ERR(uvsql_url_parse(&u, "postgresql://u:" SECRET "@h:x/db?password=" SECRET, &err),
             UVSQL_EURL);
  see(&s, err.message);
  ASSERT_STR_CONTAINS(err.message, "postgresql://u:***@h:x/db?password=***");
  assert_no_secret(&s);
}

/* Connects to url (echo on, logged into s), runs SELECT 1 expecting code, and adds the engine's
 * URL, every log line and the error's message to s. */
static void failing_connect(seen_t *s, const char *url, int code) {
  uv_loop_t *loop = test_loop();
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.echo = 1;
  opt.log_cb = on_log;
  opt.log_data = s;
  opt.connect_timeout = 5;
  uvsql_engine_t *e;
  uvsql_error_t err;
  int rc = uvsql_engine_new(&e, loop, url, &opt, &err);
  if (rc != 0) { /* refused before connecting: the message is what the user sees */
    ASSERT_ERR(rc, code);
    see(s, err.message);
    test_loop_close(loop);
    return;
  }
  see(s, uvsql_engine_url(e));
  uvsql_param_t p[] = {UVSQL_P_TEXT("x", "not secret")};
  uvsql_future_t *f = uvsql_engine_execute_sql(e, "SELECT :x", p, 1, NULL, NULL);
  const uvsql_error_t *fe = AWAIT_ERR(f, code);
  see(s, fe->message);
  uvsql_future_unref(f);
  f = uvsql_engine_dispose(e, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  test_loop_close(loop);
}

/* base with "user:password@" put after "://" (replacing any userinfo), then more appended. */
static const char *with_secret(const char *base, const char *more) {
  static char out[1024];
  const char *auth = strstr(base, "://") + 3;
  const char *at = strchr(auth, '@');
  const char *rest = at ? at + 1 : auth;
  size_t ulen = at ? strcspn(auth, ":@") : 0;
  snprintf(out, sizeof out, "%.*s%.*s:" SECRET "@%s%s", (int)(auth - base), base, (int)ulen, auth,
           rest, more);
  return out;
}

TEST(postgresql_failing_connect_shows_no_password_anywhere) {
  seen_t s = {.len = 0};
  failing_connect(&s, "postgresql://app:" SECRET "@127.0.0.1:1/db?password=" SECRET,
                  UVSQL_ECONNECT);
  ASSERT_STR_CONTAINS(s.text, "postgresql://app:***@127.0.0.1:1/db?password=***\n");
  /* A real server: the database does not exist. */
  failing_connect(&s, with_secret(test_pg_url(), "_no_such_db?sslpassword=" SECRET),
                  UVSQL_ECONNECT);
  ASSERT_STR_CONTAINS(s.text, "sslpassword=***\n");
  ASSERT_STR_CONTAINS(s.text, "does not exist");
  /* A connect that works (the throwaway server trusts 127.0.0.1), echoing its statement. */
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.echo = 1;
  opt.log_cb = on_log;
  opt.log_data = &s;
  fixture_t fx = fixture_open(with_secret(test_pg_url(), "?password=" SECRET), &opt);
  see(&s, uvsql_engine_url(fx.engine));
  uvsql_param_t p[] = {UVSQL_P_TEXT("x", "shown")};
  uvsql_result_free(query(&fx, "SELECT :x", p, 1));
  fixture_close(&fx);
  ASSERT_STR_CONTAINS(s.text, "SELECT $1\n[parameters: ('shown')]\n");
  ASSERT_STR_CONTAINS(s.text, ":***@127.0.0.1:");
  assert_no_secret(&s);
}

TEST(mariadb_failing_connect_shows_no_password_anywhere) {
  seen_t s = {.len = 0};
  /* A real server, a wrong password. */
  failing_connect(&s, with_secret(test_mariadb_url(), ""), UVSQL_ECONNECT);
  ASSERT_STR_CONTAINS(s.text, "Access denied for user 'uvsql'");
  ASSERT_STR_CONTAINS(s.text, ":***@127.0.0.1:");
  failing_connect(&s, "mariadb://app:" SECRET "@127.0.0.1:1/db", UVSQL_ECONNECT);
  failing_connect(&s, "mariadb://app@127.0.0.1:1/db?password=" SECRET, UVSQL_EURL);
  ASSERT_STR_CONTAINS(s.text, "unknown mariadb URL option \"password\"");
  assert_no_secret(&s);
}

TEST(sqlite_refused_url_shows_no_password) {
  seen_t s = {.len = 0};
  test_require_backend("sqlite");
  failing_connect(&s, "sqlite:///nonexistent-dir-uvsql/x.db?password=" SECRET, UVSQL_EURL);
  ASSERT_STR_CONTAINS(s.text, "\"password\"");
  assert_no_secret(&s);
}
