/* src/dialects/postgresql/options.c — what a postgresql:// URL may say: validate_url.
 *
 * Invariants:
 *  1. A URL query option reaches libpq only if libpq 15 knows it; anything else is refused
 *     with UVSQL_EURL naming the option, before any connection is tried.
 *  2. client_encoding is always UTF8 (the results are UTF-8 text); replication connections
 *     speak another protocol. Both are refused in the URL.
 */
#include <math.h>
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

int uvsql__pg_validate_url(const uvsql_url_t *url, uvsql_error_t *err) {
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
      if (!v || !*v || *end || !isfinite(t) || t < 0 || t > UVSQL__MAX_TIMEOUT_S)
        return uvsql__error_set(err, UVSQL_EURL,
                                "URL option connect_timeout=\"%s\" is not a number of seconds "
                                "from 0 to %g (0 for none)",
                                v ? v : "", UVSQL__MAX_TIMEOUT_S);
    }
  }
  return 0;
}
