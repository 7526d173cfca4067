/* tests/test_url.c — database URLs: what uvsql_url_parse accepts, what it refuses and says, and
 * that the password never shows in a message or a rendering. */
#include "harness.h"

#define SECRET "s3cr3t-Pw"

static uvsql_url_t *parse_ok(const char *text) {
  uvsql_url_t *url = NULL;
  uvsql_error_t err, *e = &err; /* a pointer: ASSERT_OK tests it for NULL */
  uvsql_error_clear(&err);
  ASSERT_OK(uvsql_url_parse(&url, text, &err), e);
  ASSERT(url != NULL);
  return url;
}

/* Parses text expecting UVSQL_EURL; returns the message (static storage). */
static const char *parse_fails(const char *text) {
  static uvsql_error_t err;
  uvsql_url_t *url = (uvsql_url_t *)1;
  uvsql_error_clear(&err);
  ASSERT_ERR(uvsql_url_parse(&url, text, &err), UVSQL_EURL);
  ASSERT_INT_EQ(err.code, UVSQL_EURL);
  ASSERT(url == NULL);
  ASSERT(err.message[0] != '\0');
  return err.message;
}

static const char *render(const uvsql_url_t *url) {
  static char buf[512];
  size_t n = uvsql_url_render(url, buf, sizeof buf);
  ASSERT_INT_EQ(n, strlen(buf));
  return buf;
}

#define ASSERT_NULL(p) ASSERT((p) == NULL)

/* ------------------------------------------------------------------ accepted forms */

TEST(postgresql_full) {
  uvsql_url_t *u = parse_ok("postgresql://app:" SECRET "@db.example.com:6543/appdb?sslmode=require"
                            "&application_name=web");
  ASSERT_STR_EQ(u->scheme, "postgresql");
  ASSERT_STR_EQ(u->driver, "postgresql");
  ASSERT_STR_EQ(u->user, "app");
  ASSERT_STR_EQ(u->password, SECRET);
  ASSERT_STR_EQ(u->host, "db.example.com");
  ASSERT_INT_EQ(u->port, 6543);
  ASSERT_STR_EQ(u->database, "appdb");
  ASSERT_INT_EQ(u->nquery, 2);
  ASSERT_STR_EQ(u->query[0].key, "sslmode");
  ASSERT_STR_EQ(u->query[0].value, "require");
  ASSERT_STR_EQ(u->query[1].key, "application_name");
  ASSERT_STR_EQ(u->query[1].value, "web");
  uvsql_url_free(u);
}

TEST(postgres_alias_means_postgresql_driver) {
  uvsql_url_t *u = parse_ok("postgres://localhost/db");
  ASSERT_STR_EQ(u->scheme, "postgres");
  ASSERT_STR_EQ(u->driver, "postgresql");
  uvsql_url_free(u);
}

TEST(mysql_and_mariadb_mean_mariadb_driver) {
  uvsql_url_t *a = parse_ok("mysql://root@127.0.0.1:3306/test");
  uvsql_url_t *b = parse_ok("mariadb://root@127.0.0.1/test");
  ASSERT_STR_EQ(a->scheme, "mysql");
  ASSERT_STR_EQ(a->driver, "mariadb");
  ASSERT_INT_EQ(a->port, 3306);
  ASSERT_STR_EQ(b->scheme, "mariadb");
  ASSERT_STR_EQ(b->driver, "mariadb");
  ASSERT_INT_EQ(b->port, 0);
  uvsql_url_free(a);
  uvsql_url_free(b);
}

TEST(scheme_is_case_insensitive_and_stored_lower_case) {
  uvsql_url_t *u = parse_ok("PostgreSQL://h/db");
  ASSERT_STR_EQ(u->scheme, "postgresql");
  ASSERT_STR_EQ(u->driver, "postgresql");
  uvsql_url_free(u);
}

TEST(absent_parts_are_null_and_port_zero) {
  uvsql_url_t *u = parse_ok("postgresql://");
  ASSERT_NULL(u->user);
  ASSERT_NULL(u->password);
  ASSERT_NULL(u->host);
  ASSERT_INT_EQ(u->port, 0);
  ASSERT_NULL(u->database);
  ASSERT_INT_EQ(u->nquery, 0);
  uvsql_url_free(u);
}

TEST(no_host_means_unix_socket_default) {
  uvsql_url_t *u = parse_ok("postgresql:///appdb");
  ASSERT_NULL(u->host);
  ASSERT_STR_EQ(u->database, "appdb");
  uvsql_url_free(u);
}

TEST(host_query_option_is_just_an_option) {
  uvsql_url_t *u = parse_ok("postgresql://app@/appdb?host=/var/run/postgresql");
  ASSERT_NULL(u->host);
  ASSERT_STR_EQ(u->user, "app");
  ASSERT_STR_EQ(uvsql_url_query_get(u, "host"), "/var/run/postgresql");
  uvsql_url_free(u);
}

TEST(user_without_password) {
  uvsql_url_t *u = parse_ok("postgresql://app@localhost/db");
  ASSERT_STR_EQ(u->user, "app");
  ASSERT_NULL(u->password);
  uvsql_url_free(u);
}

TEST(empty_password_is_present_but_empty) {
  uvsql_url_t *u = parse_ok("postgresql://app:@localhost/db");
  ASSERT_STR_EQ(u->user, "app");
  ASSERT_STR_EQ(u->password, "");
  uvsql_url_free(u);
}

TEST(host_without_port) {
  uvsql_url_t *u = parse_ok("postgresql://u@db.internal/x");
  ASSERT_STR_EQ(u->host, "db.internal");
  ASSERT_INT_EQ(u->port, 0);
  uvsql_url_free(u);
}

TEST(port_without_host) {
  uvsql_url_t *u = parse_ok("postgresql://:5433/x");
  ASSERT_NULL(u->host);
  ASSERT_INT_EQ(u->port, 5433);
  uvsql_url_free(u);
}

TEST(at_sign_in_password_last_at_separates_host) {
  uvsql_url_t *u = parse_ok("postgresql://u:p@ss@host/db");
  ASSERT_STR_EQ(u->user, "u");
  ASSERT_STR_EQ(u->password, "p@ss");
  ASSERT_STR_EQ(u->host, "host");
  ASSERT_STR_EQ(u->database, "db");
  uvsql_url_free(u);
}

TEST(percent_escapes_decoded_in_every_part) {
  static const struct {
    const char *url;
    const char *user, *password, *host, *database, *key, *value;
  } cases[] = {
      {"postgresql://us%40er:pa%3Ass%2Fw@h/d", "us@er", "pa:ss/w", "h", "d", NULL, NULL},
      {"postgresql://u@%2Fvar%2Frun%2Fpostgresql/d", "u", NULL, "/var/run/postgresql", "d", NULL,
       NULL},
      {"postgresql://u@h/my%20db", "u", NULL, "h", "my db", NULL, NULL},
      {"postgresql://u@h/d?app%5Fname=a%26b%3Dc", "u", NULL, "h", "d", "app_name", "a&b=c"},
      {"postgresql://u@h/d?opt=%C3%A9t%c3%a9", "u", NULL, "h", "d", "opt", "\xc3\xa9t\xc3\xa9"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uvsql_url_t *u = parse_ok(cases[i].url);
    ASSERT_STR_EQ(u->user, cases[i].user);
    if (cases[i].password)
      ASSERT_STR_EQ(u->password, cases[i].password);
    else
      ASSERT_NULL(u->password);
    ASSERT_STR_EQ(u->host, cases[i].host);
    ASSERT_STR_EQ(u->database, cases[i].database);
    if (cases[i].key)
      ASSERT_STR_EQ(uvsql_url_query_get(u, cases[i].key), cases[i].value);
    uvsql_url_free(u);
  }
}

TEST(plus_stays_plus) {
  uvsql_url_t *u = parse_ok("postgresql://a+b:c+d@h/e+f?g+h=i+j");
  ASSERT_STR_EQ(u->user, "a+b");
  ASSERT_STR_EQ(u->password, "c+d");
  ASSERT_STR_EQ(u->database, "e+f");
  ASSERT_STR_EQ(uvsql_url_query_get(u, "g+h"), "i+j");
  uvsql_url_free(u);
}

TEST(ipv6_host_in_brackets_with_port) {
  uvsql_url_t *u = parse_ok("postgresql://u@[::1]:5432/db");
  ASSERT_STR_EQ(u->host, "::1");
  ASSERT_INT_EQ(u->port, 5432);
  ASSERT_STR_EQ(u->database, "db");
  uvsql_url_free(u);
}

TEST(ipv6_host_in_brackets_without_port) {
  uvsql_url_t *u = parse_ok("mariadb://[2001:db8::7]/db");
  ASSERT_STR_EQ(u->host, "2001:db8::7");
  ASSERT_INT_EQ(u->port, 0);
  uvsql_url_free(u);
}

TEST(port_bounds_1_and_65535_accepted) {
  uvsql_url_t *a = parse_ok("postgresql://h:1/db");
  uvsql_url_t *b = parse_ok("postgresql://h:65535/db");
  ASSERT_INT_EQ(a->port, 1);
  ASSERT_INT_EQ(b->port, 65535);
  uvsql_url_free(a);
  uvsql_url_free(b);
}

TEST(query_without_database) {
  uvsql_url_t *u = parse_ok("postgresql://h?connect_timeout=5");
  ASSERT_STR_EQ(u->host, "h");
  ASSERT_NULL(u->database);
  ASSERT_STR_EQ(uvsql_url_query_get(u, "connect_timeout"), "5");
  uvsql_url_free(u);
}

TEST(query_flag_without_value_is_empty_string) {
  uvsql_url_t *u = parse_ok("postgresql://h/d?flag&k=v");
  ASSERT_STR_EQ(uvsql_url_query_get(u, "flag"), "");
  ASSERT_STR_EQ(uvsql_url_query_get(u, "k"), "v");
  uvsql_url_free(u);
}

TEST(query_value_may_contain_equals) {
  uvsql_url_t *u = parse_ok("postgresql://h/d?options=-c%20search_path=app");
  ASSERT_STR_EQ(uvsql_url_query_get(u, "options"), "-c search_path=app");
  uvsql_url_free(u);
}

TEST(query_empty_segments_are_skipped) {
  uvsql_url_t *u = parse_ok("postgresql://h/d?a=1&&b=2&");
  ASSERT_INT_EQ(u->nquery, 2);
  ASSERT_STR_EQ(uvsql_url_query_get(u, "a"), "1");
  ASSERT_STR_EQ(uvsql_url_query_get(u, "b"), "2");
  uvsql_url_free(u);
}

TEST(query_repeated_key_last_wins) {
  uvsql_url_t *u = parse_ok("postgresql://h/d?sslmode=disable&sslmode=require");
  ASSERT_INT_EQ(u->nquery, 2);
  ASSERT_STR_EQ(uvsql_url_query_get(u, "sslmode"), "require");
  uvsql_url_free(u);
}

TEST(query_get_missing_key_is_null) {
  uvsql_url_t *u = parse_ok("postgresql://h/d?a=1");
  ASSERT_NULL(uvsql_url_query_get(u, "b"));
  ASSERT_NULL(uvsql_url_query_get(u, "A"));
  ASSERT_NULL(uvsql_url_query_get(NULL, "a"));
  uvsql_url_free(u);
}

/* ------------------------------------------------------------------ sqlite */

TEST(sqlite_forms) {
  static const struct {
    const char *url;
    const char *database; /* NULL: in memory */
  } cases[] = {
      {"sqlite:///relative.db", "relative.db"},
      {"sqlite:///dir/relative.db", "dir/relative.db"},
      {"sqlite:////abs/path.db", "/abs/path.db"},
      {"sqlite://", NULL},
      {"sqlite:///:memory:", NULL},
      {"sqlite:///", NULL},
      {"SQLite:///x.db", "x.db"},
      {"sqlite:///my%20file.db", "my file.db"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uvsql_url_t *u = parse_ok(cases[i].url);
    ASSERT_STR_EQ(u->driver, "sqlite");
    if (cases[i].database)
      ASSERT_STR_EQ(u->database, cases[i].database);
    else if (u->database)
      FAILF("%s: database should be NULL (memory), is \"%s\"", cases[i].url, u->database);
    ASSERT_NULL(u->host);
    ASSERT_NULL(u->user);
    uvsql_url_free(u);
  }
}

TEST(sqlite_query_options) {
  uvsql_url_t *u = parse_ok("sqlite:///app.db?mode=ro&cache=shared");
  ASSERT_STR_EQ(u->database, "app.db");
  ASSERT_STR_EQ(uvsql_url_query_get(u, "mode"), "ro");
  ASSERT_STR_EQ(uvsql_url_query_get(u, "cache"), "shared");
  uvsql_url_free(u);
}

TEST(sqlite_memory_with_query) {
  uvsql_url_t *u = parse_ok("sqlite://?cache=shared");
  ASSERT_NULL(u->database);
  ASSERT_STR_EQ(uvsql_url_query_get(u, "cache"), "shared");
  uvsql_url_free(u);
}

/* ------------------------------------------------------------------ errors */

TEST(null_url_is_refused) {
  uvsql_url_t *url = NULL;
  uvsql_error_t err;
  ASSERT_ERR(uvsql_url_parse(&url, NULL, &err), UVSQL_EURL);
  ASSERT_STR_CONTAINS(err.message, "NULL");
  ASSERT(url == NULL);
}

TEST(empty_url_is_refused) {
  const char *m = parse_fails("");
  ASSERT_STR_CONTAINS(m, "empty");
  ASSERT_STR_CONTAINS(m, "postgresql://");
}

TEST(err_may_be_null) {
  uvsql_url_t *url = NULL;
  ASSERT_ERR(uvsql_url_parse(&url, "nonsense", NULL), UVSQL_EURL);
  ASSERT(url == NULL);
}

TEST(missing_scheme_separator) {
  const char *m = parse_fails("localhost:5432/db");
  ASSERT_STR_CONTAINS(m, "missing \"://\"");
  ASSERT_STR_CONTAINS(m, "\"localhost:5432/db\"");
}

TEST(missing_scheme_separator_masks_password) {
  const char *m = parse_fails("postgresql:u:" SECRET "@host/db");
  ASSERT_STR_CONTAINS(m, "missing \"://\"");
  ASSERT_STR_CONTAINS(m, "***@host/db");
  ASSERT(strstr(m, SECRET) == NULL);
}

TEST(empty_scheme) {
  const char *m = parse_fails("://host/db");
  ASSERT_STR_CONTAINS(m, "scheme");
  ASSERT_STR_CONTAINS(m, "postgresql://, postgres://, mariadb://, mysql://, sqlite://");
}

TEST(unknown_scheme_lists_supported_ones) {
  const char *m = parse_fails("oracle://scott:" SECRET "@h/orcl");
  ASSERT_STR_CONTAINS(m, "unknown scheme \"oracle\"");
  ASSERT_STR_CONTAINS(m, "supported: postgresql://, postgres://, mariadb://, mysql://, sqlite://");
  ASSERT_STR_CONTAINS(m, "\"oracle://scott:***@h/orcl\"");
  ASSERT(strstr(m, SECRET) == NULL);
}

TEST(sqlalchemy_driver_suffix_is_an_unknown_scheme) {
  const char *m = parse_fails("postgresql+asyncpg://h/db");
  ASSERT_STR_CONTAINS(m, "unknown scheme \"postgresql+asyncpg\"");
}

TEST(bad_percent_escape_in_user_quotes_it) {
  const char *m = parse_fails("postgresql://us%zzer@h/db");
  ASSERT_STR_CONTAINS(m, "bad %-escape \"%zz\" in the user name");
  ASSERT_STR_CONTAINS(m, "%25");
}

TEST(bad_percent_escape_at_end_of_database) {
  const char *m = parse_fails("postgresql://h/db%4");
  ASSERT_STR_CONTAINS(m, "bad %-escape \"%4\" in the database name");
}

TEST(percent_00_is_refused) {
  const char *m = parse_fails("postgresql://h/db%00x");
  ASSERT_STR_CONTAINS(m, "bad %-escape \"%00\"");
}

TEST(bad_percent_escape_in_password_is_not_quoted) {
  const char *m = parse_fails("postgresql://u:" SECRET "%g1@h/db");
  ASSERT_STR_CONTAINS(m, "bad %-escape in the password");
  ASSERT_STR_CONTAINS(m, "\"postgresql://u:***@h/db\"");
  ASSERT(strstr(m, SECRET) == NULL);
  ASSERT(strstr(m, "%g1") == NULL);
}

TEST(bad_percent_escape_in_query) {
  const char *m = parse_fails("postgresql://h/db?k=%2");
  ASSERT_STR_CONTAINS(m, "bad %-escape \"%2\" in the query option value");
}

TEST(port_not_a_number) {
  const char *m = parse_fails("postgresql://u:" SECRET "@h:54x2/db");
  ASSERT_STR_CONTAINS(m, "port \"54x2\" is not a number from 1 to 65535");
  ASSERT_STR_CONTAINS(m, "\"postgresql://u:***@h:54x2/db\"");
  ASSERT(strstr(m, SECRET) == NULL);
}

TEST(port_out_of_range) {
  static const char *const urls[] = {"postgresql://h:0/db", "postgresql://h:65536/db",
                                     "postgresql://h:99999999999/db", "postgresql://h:-1/db"};
  static const char *const shown[] = {"\"0\"", "\"65536\"", "\"99999999999\"", "\"-1\""};
  for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
    const char *m = parse_fails(urls[i]);
    ASSERT_STR_CONTAINS(m, shown[i]);
    ASSERT_STR_CONTAINS(m, "not a number from 1 to 65535");
  }
}

TEST(port_empty) {
  const char *m = parse_fails("postgresql://h:/db");
  ASSERT_STR_CONTAINS(m, "port after ':' is empty");
}

TEST(password_with_unescaped_slash_fails_without_showing_it) {
  /* The authority ends at the first '/', so "p/ss" splits; the message must still hide it. */
  const char *m = parse_fails("postgresql://u:pa/" SECRET "@h/db");
  ASSERT_STR_CONTAINS(m, "%2F");
  ASSERT(strstr(m, SECRET) == NULL);
  ASSERT(strstr(m, "\"pa\"") == NULL); /* not even the part taken for a port */
  ASSERT_STR_CONTAINS(m, "port \"***\"");
}

TEST(ipv6_unterminated_bracket) {
  const char *m = parse_fails("postgresql://u@[::1:5432/db");
  ASSERT_STR_CONTAINS(m, "unterminated '['");
  ASSERT_STR_CONTAINS(m, "\"[::1:5432\"");
}

TEST(ipv6_without_brackets_is_refused_with_a_hint) {
  const char *m = parse_fails("postgresql://::1:5432/db");
  ASSERT_STR_CONTAINS(m, "more than one ':'");
  ASSERT_STR_CONTAINS(m, "brackets");
}

TEST(ipv6_garbage_after_bracket) {
  const char *m = parse_fails("postgresql://[::1]x/db");
  ASSERT_STR_CONTAINS(m, "unexpected text \"x\" after the IPv6 address");
}

TEST(sqlite_with_host_explains_three_slashes) {
  const char *m = parse_fails("sqlite://host/x.db");
  ASSERT_STR_CONTAINS(m, "no host");
  ASSERT_STR_CONTAINS(m, "\"host\"");
  ASSERT_STR_CONTAINS(m, "three slashes");
  ASSERT_STR_CONTAINS(m, "sqlite:///app.db");
  ASSERT_STR_CONTAINS(m, "\"sqlite://host/x.db\"");
}

TEST(sqlite_relative_path_with_two_slashes_is_a_host) {
  const char *m = parse_fails("sqlite://app.db");
  ASSERT_STR_CONTAINS(m, "\"app.db\" is written where the host goes");
}

TEST(sqlite_with_userinfo_hides_password) {
  const char *m = parse_fails("sqlite://u:" SECRET "@host/x.db");
  ASSERT_STR_CONTAINS(m, "three slashes");
  ASSERT(strstr(m, SECRET) == NULL);
}

TEST(empty_query_key) {
  const char *m = parse_fails("postgresql://h/db?=v");
  ASSERT_STR_CONTAINS(m, "empty name");
  ASSERT_STR_CONTAINS(m, "\"=v\"");
}

TEST(error_message_names_the_url_masked) {
  const char *m = parse_fails("mysql://root:" SECRET "@h:70000/db");
  ASSERT_STR_CONTAINS(m, "(in database URL \"mysql://root:***@h:70000/db\")");
  ASSERT(strstr(m, SECRET) == NULL);
}

TEST(very_long_url_is_cut_in_messages) {
  char text[2000];
  memcpy(text, "oracle://", 9);
  memset(text + 9, 'a', sizeof text - 10);
  text[sizeof text - 1] = '\0';
  const char *m = parse_fails(text);
  ASSERT_STR_CONTAINS(m, "...");
  ASSERT(strlen(m) < UVSQL_ERROR_MESSAGE_MAX);
}

/* ------------------------------------------------------------------ rendering */

TEST(render_masks_password) {
  uvsql_url_t *u = parse_ok("postgresql://app:" SECRET "@db:6543/appdb?sslmode=require");
  ASSERT_STR_EQ(render(u), "postgresql://app:***@db:6543/appdb?sslmode=require");
  uvsql_url_free(u);
}

TEST(render_round_trips_without_password) {
  static const char *const urls[] = {
      "postgresql://app@db.example.com:5432/appdb?sslmode=require&application_name=web",
      "postgres://h/d",
      "mariadb://root@127.0.0.1:3306/test",
      "mysql://h",
      "postgresql://",
      "postgresql:///appdb?host=/var/run/postgresql",
      "sqlite:///relative.db",
      "sqlite:////abs/path.db",
      "sqlite://",
      "sqlite://?cache=shared",
      "postgresql://u@[::1]:5432/db",
  };
  for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
    uvsql_url_t *u = parse_ok(urls[i]);
    ASSERT_STR_EQ(render(u), urls[i]);
    uvsql_url_free(u);
  }
}

TEST(render_masks_empty_password_too) {
  uvsql_url_t *u = parse_ok("postgresql://app:@h/d");
  ASSERT_STR_EQ(render(u), "postgresql://app:***@h/d");
  uvsql_url_free(u);
}

TEST(render_lower_cases_scheme_and_drops_memory_marker) {
  uvsql_url_t *u = parse_ok("SQLITE:///:memory:");
  ASSERT_STR_EQ(render(u), "sqlite://");
  uvsql_url_free(u);
}

TEST(render_reescapes_special_characters) {
  uvsql_url_t *u =
      parse_ok("postgresql://us%40er%3Ax:" SECRET "@%2Ftmp%2Fsock/my%20db%3F?k%3D%26=v%26%23%25");
  ASSERT_STR_EQ(u->user, "us@er:x");
  ASSERT_STR_EQ(u->host, "/tmp/sock");
  ASSERT_STR_EQ(u->database, "my db?");
  ASSERT_STR_EQ(uvsql_url_query_get(u, "k=&"), "v&#%");
  const char *r = render(u);
  ASSERT_STR_EQ(r, "postgresql://us%40er%3Ax:***@%2Ftmp%2Fsock/my%20db%3F?k%3D%26=v%26%23%25");
  /* and what was rendered parses back to the same parts */
  uvsql_url_t *v = parse_ok(r);
  ASSERT_STR_EQ(v->user, "us@er:x");
  ASSERT_STR_EQ(v->host, "/tmp/sock");
  ASSERT_STR_EQ(v->database, "my db?");
  ASSERT_STR_EQ(uvsql_url_query_get(v, "k=&"), "v&#%");
  uvsql_url_free(u);
  uvsql_url_free(v);
}

TEST(render_escapes_non_ascii_and_controls) {
  uvsql_url_t *u = parse_ok("postgresql://h/caf%C3%A9%0A");
  ASSERT_STR_EQ(render(u), "postgresql://h/caf%C3%A9%0A");
  uvsql_url_free(u);
}

TEST(render_never_shows_password_with_at_sign) {
  uvsql_url_t *u = parse_ok("postgresql://u:p@ss" SECRET "@host/db");
  ASSERT_STR_EQ(u->password, "p@ss" SECRET);
  const char *r = render(u);
  ASSERT_STR_EQ(r, "postgresql://u:***@host/db");
  ASSERT(strstr(r, SECRET) == NULL);
  uvsql_url_free(u);
}

TEST(render_truncates_like_snprintf) {
  uvsql_url_t *u = parse_ok("postgresql://app:" SECRET "@db:6543/appdb");
  const char *full = "postgresql://app:***@db:6543/appdb";
  char small[10];
  size_t n = uvsql_url_render(u, small, sizeof small);
  ASSERT_INT_EQ(n, strlen(full));
  ASSERT_STR_EQ(small, "postgresq");
  ASSERT_INT_EQ(uvsql_url_render(u, NULL, 0), strlen(full));
  uvsql_url_free(u);
}

TEST(free_accepts_null) {
  uvsql_url_free(NULL);
}
