/* src/dialects/postgresql/options.c — what a postgresql:// URL may say: validate_url.
 *
 * Invariants:
 *  1. A URL query option reaches libpq only if libpq 15 knows it; anything else is refused
 *     with UVSQL_EURL naming the option, before any connection is tried.
 *  2. client_encoding is always UTF8 (the results are UTF-8 text); replication connections
 *     speak another protocol. Both are refused in the URL.
 *  3. Multi-host URLs (h1:5432,h2:5433 in the authority, or ?host=h1,h2&port=5432,5433) name
 *     one port, or one per host; target_session_attrs is one of libpq's values. The hosts are
 *     given one way only: an authority list together with ?host= is refused.
 *  4. statement_cache_size=N is uvsql's own (not libpq's): named prepared statements kept per
 *     connection, 0 for none (unnamed statements only: what pgbouncer in transaction or
 *     statement pooling mode needs). It overrides the engine option of that name.
 *  5. shared_sync=on|off is uvsql's own too: off keeps every statement in a sync group of its
 *     own (exec.c invariant 9), for schemas whose SELECTs may write (a view over a function
 *     that writes: the scanner cannot see through it).
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
                                         "statement_cache_size",
                                         "shared_sync",
                                         NULL};

/* The entries of a comma-separated list. */
static size_t list_count(const char *v) {
  size_t n = 1;
  for (; *v; v++)
    n += *v == ',';
  return n;
}

static int check_ports(const char *v, size_t nhosts, uvsql_error_t *err) {
  size_t n = list_count(v);
  if (n != 1 && n != nhosts)
    return uvsql__error_set(err, UVSQL_EURL,
                            "URL option port=\"%s\" lists %zu ports for %zu hosts: give one port "
                            "for all of them, or one per host in the same order",
                            v, n, nhosts);
  for (const char *p = v; *p;) {
    size_t len = strcspn(p, ",");
    long port = 0;
    int ok = len > 0 && len <= 5;
    for (size_t i = 0; ok && i < len; i++) {
      ok = p[i] >= '0' && p[i] <= '9';
      port = port * 10 + (p[i] - '0');
    }
    if (!ok || port < 1 || port > 65535)
      return uvsql__error_set(err, UVSQL_EURL,
                              "URL option port=\"%s\": \"%.*s\" is not a port from 1 to 65535", v,
                              (int)(len > 20 ? 20 : len), p);
    p += len;
    if (*p == ',')
      p++;
  }
  return 0;
}

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
    if (strcmp(k, "host") == 0 && url->nhosts > 1)
      return uvsql__error_set(err, UVSQL_EURL,
                              "the URL names its hosts twice, in the authority (%zu hosts) and "
                              "in ?host=: give them one way (h1:5432,h2:5433 or "
                              "?host=h1,h2&port=5432,5433)",
                              url->nhosts);
    if (strcmp(k, "port") == 0) {
      const char *h = NULL;
      for (size_t m = 0; m < url->nquery; m++)
        if (strcmp(url->query[m].key, "host") == 0)
          h = url->query[m].value;
      int rc = check_ports(v, h ? list_count(h) : url->nhosts > 1 ? url->nhosts : 1, err);
      if (rc)
        return rc;
    }
    if (strcmp(k, "target_session_attrs") == 0) {
      static const char *const attrs[] = {"any",     "read-write",     "read-only", "primary",
                                          "standby", "prefer-standby", NULL};
      size_t a;
      for (a = 0; attrs[a]; a++)
        if (strcmp(v, attrs[a]) == 0)
          break;
      if (!attrs[a])
        return uvsql__error_set(err, UVSQL_EURL,
                                "URL option target_session_attrs=\"%s\" is not one of any, "
                                "read-write, read-only, primary, standby, prefer-standby",
                                v);
    }
    if (strcmp(k, "statement_cache_size") == 0) {
      char *end;
      long n = strtol(v, &end, 10);
      if (!*v || *end || n < 0 || n > 1000000)
        return uvsql__error_set(err, UVSQL_EURL,
                                "URL option statement_cache_size=\"%s\" is not a number from 0 "
                                "to 1000000 (0: no named prepared statements, as pgbouncer in "
                                "transaction mode needs)",
                                v);
    }
    int on;
    if (strcmp(k, "shared_sync") == 0 && uvsql__kit_parse_bool(v, &on) != 0)
      return uvsql__error_set(err, UVSQL_EURL,
                              "URL option shared_sync=\"%s\" is not on or off (off: every "
                              "statement gets a Sync of its own, for SELECTs that may write)",
                              v ? v : "");
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
