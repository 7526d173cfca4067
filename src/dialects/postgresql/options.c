/* src/dialects/postgresql/driver.c — the PostgreSQL driver as the engine sees it.
 *
 * Defines uvsql__postgresql_driver: "$n" parameters, at most 65535 per statement (the wire
 * protocol's 16-bit count), URL checking and BEGIN statements. The connection itself lives
 * in conn.c (state machine) and pipeline.c (requests).
 *
 * Invariants:
 *  1. A URL query option reaches libpq only if libpq 15 knows it; anything else is refused
 *     with UVSQL_EURL naming the option, before any connection is tried.
 *  2. client_encoding is always UTF8 (the results are UTF-8 text); replication connections
 *     speak another protocol. Both are refused in the URL.
 */
#include <stdlib.h>
#include <string.h>
#include "pg.h"

/* libpq 15's connection keywords that make sense in a URL query. */
static const char *const pg_options[] = {"host",
                                         "hostaddr",
                                         "port",
                                         "dbname",
                                         "user",
                                         "password",
                                         "passfile",
                                         "channel_binding",
                                         "connect_timeout",
                                         "options",
                                         "application_name",
                                         "fallback_application_name",
                                         "keepalives",
                                         "keepalives_idle",
                                         "keepalives_interval",
                                         "keepalives_count",
                                         "tcp_user_timeout",
                                         "sslmode",
                                         "requiressl",
                                         "sslcompression",
                                         "sslcert",
                                         "sslkey",
                                         "sslpassword",
                                         "sslrootcert",
                                         "sslcrl",
                                         "sslcrldir",
                                         "sslsni",
                                         "requirepeer",
                                         "ssl_min_protocol_version",
                                         "ssl_max_protocol_version",
                                         "gssencmode",
                                         "krbsrvname",
                                         "gsslib",
                                         "service",
                                         "target_session_attrs",
                                         NULL};

static int pg_validate_url(const uvsql_url_t *url, uvsql_error_t *err) {
  if (!url || !url->driver || strcmp(url->driver, "postgresql") != 0)
    return uvsql__error_set(err, UVSQL_EURL, "not a PostgreSQL URL (scheme \"%s\")",
                            url && url->scheme ? url->scheme : "");
  for (size_t i = 0; i < url->nquery; i++) {
    const char *k = url->query[i].key, *v = url->query[i].value;
    size_t j;
    if (strcmp(k, "client_encoding") == 0)
      return uvsql__error_set(err, UVSQL_EURL,
                              "URL option \"client_encoding\" cannot be set: uvsql always "
                              "talks UTF8 to PostgreSQL");
    for (j = 0; pg_options[j]; j++)
      if (strcmp(k, pg_options[j]) == 0)
        break;
    if (!pg_options[j])
      return uvsql__error_set(err, UVSQL_EURL,
                              "unknown PostgreSQL connection option \"%s\" in the URL (libpq "
                              "knows sslmode, application_name, options, connect_timeout, "
                              "target_session_attrs, ...)",
                              k);
    if (strcmp(k, "connect_timeout") == 0) {
      char *end;
      double t = strtod(v ? v : "", &end);
      if (!v || !*v || *end || t < 0)
        return uvsql__error_set(err, UVSQL_EURL,
                                "URL option connect_timeout=\"%s\" is not a number of seconds",
                                v ? v : "");
    }
  }
  return 0;
}

static const char *pg_begin_sql(uvsql_isolation_t isolation, uvsql_error_t *err) {
  switch (isolation) {
  case UVSQL_ISOLATION_DEFAULT:
    return "BEGIN";
  case UVSQL_ISOLATION_READ_UNCOMMITTED:
    return "BEGIN ISOLATION LEVEL READ UNCOMMITTED";
  case UVSQL_ISOLATION_READ_COMMITTED:
    return "BEGIN ISOLATION LEVEL READ COMMITTED";
  case UVSQL_ISOLATION_REPEATABLE_READ:
    return "BEGIN ISOLATION LEVEL REPEATABLE READ";
  case UVSQL_ISOLATION_SERIALIZABLE:
    return "BEGIN ISOLATION LEVEL SERIALIZABLE";
  }
  uvsql__error_set(err, UVSQL_ENOT_SUPPORTED,
                   "unknown isolation level %d: use a UVSQL_ISOLATION_* value", (int)isolation);
  return NULL;
}

const uvsql__driver_t uvsql__postgresql_driver = {
    .name = "postgresql",
    .paramstyle = UVSQL__PARAMSTYLE_DOLLAR,
    .max_params = 65535,
    .validate_url = pg_validate_url,
    .connect = uvsql__pg_connect,
    .submit = uvsql__pg_submit,
    .cancel = uvsql__pg_cancel,
    .close = uvsql__pg_close,
    .begin_sql = pg_begin_sql,
};
