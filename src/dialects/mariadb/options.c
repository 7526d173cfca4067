/* src/dialects/mariadb/options.c — what a mariadb:// or mysql:// URL may say, checked before
 * connecting, and how it is applied to a Connector/C handle.
 *
 *   mariadb://user:password@host:port/database?option=value&...
 *
 *   charset=<name>          connection character set (default utf8mb4)
 *   unix_socket=/path       connect through this Unix socket (so does a host starting with '/')
 *   connect_timeout=<s>     seconds for resolve + connect + handshake (default: the engine's)
 *   ssl=true|false          shorthand for ssl_mode=required|disabled
 *   ssl_mode=disabled|required|verify_ca|verify_identity
 *                           required: encrypted or no connection (conn.c checks the session
 *                           really is encrypted: Connector/C 3.3 alone does not refuse a server
 *                           without TLS); verify_ca: and the certificate chains to ssl_ca;
 *                           verify_identity: and names the host (ssl_ca, or the system's CAs)
 *   ssl_ca, ssl_cert, ssl_key=<file>   TLS files (any of them alone turns TLS on, as required)
 *   read_timeout=<s>        a read that waits longer closes the connection (default 0: none,
 *                           since a long statement reads nothing until it ends: bound
 *                           statements with the engine's command_timeout instead)
 *   write_timeout=<s>       a write that makes no progress this long closes it (default 30)
 *   tcp_keepalive=<s>       idle seconds before TCP keepalive probes (default 60; 0: off);
 *                           probes every 10 s, 6 of them: a dead peer is noticed in ~2 min
 *   tcp_user_timeout=<ms>   sent data unacknowledged this long closes the connection
 *                           (TCP_USER_TIMEOUT, Linux; default 30000; 0: the system's)
 *
 * Invariants:
 *  1. Every option is validated here; an unknown one is an error that names it and lists the
 *     accepted ones (a typo must not pass silently).
 *  2. A host of "localhost" (or none) keeps MySQL's meaning: the server's default Unix socket.
 *     Any other name is resolved by conn.c with uv_getaddrinfo, never by Connector/C.
 *  3. The handle always gets MYSQL_OPT_NONBLOCK and the session runs with time_zone '+00:00',
 *     so TIMESTAMP columns and TIMESTAMPTZ parameters are both UTC.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include "mariadb.h"

#define UVSQL__MY_ACCEPTED                                                                         \
  "charset, unix_socket, connect_timeout, ssl, ssl_mode, ssl_ca, ssl_cert, ssl_key, "              \
  "read_timeout, write_timeout, tcp_keepalive, tcp_user_timeout"

static int dup_to(char **dst, const char *src) {
  free(*dst);
  *dst = NULL;
  if (src && !(*dst = strdup(src)))
    return UVSQL_ENOMEM;
  return 0;
}

static int parse_one(uvsql__my_options_t *opt, const char *key, const char *v, uvsql_error_t *err) {
  if (!v)
    v = "";
  if (!strcmp(key, "charset")) {
    size_t n = strlen(v);
    int ok = n > 0 && n < sizeof opt->charset;
    for (size_t i = 0; ok && i < n; i++)
      ok = isalnum((unsigned char)v[i]) || v[i] == '_';
    if (!ok)
      return uvsql__error_set(err, UVSQL_EURL,
                              "mariadb URL option charset=%s: expected a character set name "
                              "such as utf8mb4",
                              v);
    memcpy(opt->charset, v, n + 1);
    return 0;
  }
  if (!strcmp(key, "unix_socket")) {
    if (v[0] != '/')
      return uvsql__error_set(err, UVSQL_EURL,
                              "mariadb URL option unix_socket=%s: expected an absolute path", v);
    return dup_to(&opt->unix_socket, v) ? uvsql__error_set(err, UVSQL_ENOMEM, "out of memory") : 0;
  }
  if (!strcmp(key, "connect_timeout")) {
    char *end;
    double s = strtod(v, &end);
    if (!*v || *end || !isfinite(s) || s < 0 || s > 86400)
      return uvsql__error_set(err, UVSQL_EURL,
                              "mariadb URL option connect_timeout=%s: expected a number of "
                              "seconds >= 0 (0 for none)",
                              v);
    opt->connect_timeout = s;
    return 0;
  }
  double *num = !strcmp(key, "read_timeout")       ? &opt->read_timeout
                : !strcmp(key, "write_timeout")    ? &opt->write_timeout
                : !strcmp(key, "tcp_keepalive")    ? &opt->tcp_keepalive
                : !strcmp(key, "tcp_user_timeout") ? &opt->tcp_user_timeout
                                                   : NULL;
  if (num) {
    char *end;
    double s = strtod(v, &end);
    int ms = num == &opt->tcp_user_timeout;
    if (!*v || *end || !isfinite(s) || s < 0 || s > (ms ? 86400000.0 : 86400.0))
      return uvsql__error_set(err, UVSQL_EURL,
                              "mariadb URL option %s=%s: expected a number of %s >= 0 (0 for "
                              "none)",
                              key, v, ms ? "milliseconds" : "seconds");
    *num = s;
    return 0;
  }
  if (!strcmp(key, "ssl")) {
    if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "on"))
      opt->ssl_mode = UVSQL__MY_SSL_REQUIRED;
    else if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "off"))
      opt->ssl_mode = UVSQL__MY_SSL_DISABLED;
    else
      return uvsql__error_set(err, UVSQL_EURL, "mariadb URL option ssl=%s: expected true or false",
                              v);
    return 0;
  }
  if (!strcmp(key, "ssl_mode")) {
    static const struct {
      const char *name;
      int mode;
    } modes[] = {{"disabled", UVSQL__MY_SSL_DISABLED},
                 {"required", UVSQL__MY_SSL_REQUIRED},
                 {"verify_ca", UVSQL__MY_SSL_VERIFY_CA},
                 {"verify_identity", UVSQL__MY_SSL_VERIFY_IDENTITY}};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
      if (!strcasecmp(v, modes[i].name)) {
        opt->ssl_mode = modes[i].mode;
        return 0;
      }
    }
    return uvsql__error_set(err, UVSQL_EURL,
                            "mariadb URL option ssl_mode=%s: expected disabled, required, "
                            "verify_ca or verify_identity",
                            v);
  }
  char **file = !strcmp(key, "ssl_ca")     ? &opt->ssl_ca
                : !strcmp(key, "ssl_cert") ? &opt->ssl_cert
                : !strcmp(key, "ssl_key")  ? &opt->ssl_key
                                           : NULL;
  if (file) {
    if (!*v)
      return uvsql__error_set(err, UVSQL_EURL, "mariadb URL option %s: expected a file path", key);
    return dup_to(file, v) ? uvsql__error_set(err, UVSQL_ENOMEM, "out of memory") : 0;
  }
  return uvsql__error_set(
      err, UVSQL_EURL,
      "unknown mariadb URL option \"%s\": the accepted options are " UVSQL__MY_ACCEPTED, key);
}

int uvsql__my_options_parse(uvsql__my_options_t *opt, const uvsql_url_t *url, uvsql_error_t *err) {
  memset(opt, 0, sizeof *opt);
  strcpy(opt->charset, "utf8mb4");
  opt->connect_timeout = -1;
  opt->read_timeout = 0;
  opt->write_timeout = 30;
  opt->tcp_keepalive = 60;
  opt->tcp_user_timeout = 30000;
  opt->port = url->port > 0 ? url->port : UVSQL__MY_DEFAULT_PORT;
  for (size_t i = 0; i < url->nquery; i++) {
    int rc = parse_one(opt, url->query[i].key, url->query[i].value, err);
    if (rc != 0)
      return rc;
  }
  if (url->host && url->host[0] == '/' && !opt->unix_socket &&
      dup_to(&opt->unix_socket, url->host) != 0)
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory");
  if (url->host && url->host[0] != '/' && dup_to(&opt->host, url->host) != 0)
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory");
  if (dup_to(&opt->user, url->user) || dup_to(&opt->password, url->password) ||
      dup_to(&opt->database, url->database))
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory");
  if (opt->ssl_mode == UVSQL__MY_SSL_VERIFY_CA && !opt->ssl_ca)
    return uvsql__error_set(err, UVSQL_EURL,
                            "mariadb URL option ssl_mode=verify_ca needs ssl_ca=<file> naming "
                            "the certificate authority to check the server against");
  return 0;
}

void uvsql__my_options_free(uvsql__my_options_t *opt) {
  char **all[] = {&opt->host,     &opt->unix_socket, &opt->user,     &opt->password,
                  &opt->database, &opt->ssl_ca,      &opt->ssl_cert, &opt->ssl_key};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    if (*all[i] == opt->password && opt->password) /* do not leave it in freed memory */
      memset(opt->password, 0, strlen(opt->password));
    free(*all[i]);
    *all[i] = NULL;
  }
}

int uvsql__my_tls_wanted(const uvsql__my_options_t *opt) {
  if (opt->ssl_mode == UVSQL__MY_SSL_DISABLED)
    return 0;
  return opt->ssl_mode != UVSQL__MY_SSL_DEFAULT || opt->ssl_ca || opt->ssl_cert || opt->ssl_key;
}

const char *uvsql__my_ssl_mode_name(int mode) {
  switch (mode) {
  case UVSQL__MY_SSL_DISABLED:
    return "disabled";
  case UVSQL__MY_SSL_VERIFY_CA:
    return "verify_ca";
  case UVSQL__MY_SSL_VERIFY_IDENTITY:
    return "verify_identity";
  case UVSQL__MY_SSL_REQUIRED:
    return "required";
  default:
    return "required (implied by ssl_ca, ssl_cert or ssl_key)";
  }
}

int uvsql__my_validate_url(const uvsql_url_t *url, uvsql_error_t *err) {
  uvsql__my_options_t opt;
  if (url && url->nhosts > 1)
    return uvsql__error_set(err, UVSQL_EURL,
                            "a MariaDB/MySQL URL names one host, this one names %zu: the "
                            "multi-host form (h1:3306,h2:3306) is PostgreSQL's (libpq); for "
                            "replicas make one engine per server (uvsql/routing.h)",
                            url->nhosts);
  int rc = uvsql__my_options_parse(&opt, url, err);
  uvsql__my_options_free(&opt);
  return rc;
}

/* Rounded up (no libm: the static library's users link without -lm). */
static unsigned whole_seconds(double s) {
  unsigned t = (unsigned)s;
  return (double)t < s ? t + 1 : t;
}

int uvsql__my_options_apply(const uvsql__my_options_t *opt, MYSQL *mysql) {
  int rc = 0;
  my_bool on = 1;
  rc |= mysql_options(mysql, MYSQL_OPT_NONBLOCK, 0);
  rc |= mysql_options(mysql, MYSQL_SET_CHARSET_NAME, opt->charset);
  rc |= mysql_options(mysql, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'");
  if (opt->read_timeout > 0) { /* Connector/C counts whole seconds */
    unsigned t = whole_seconds(opt->read_timeout);
    rc |= mysql_options(mysql, MYSQL_OPT_READ_TIMEOUT, &t);
  }
  if (opt->write_timeout > 0) {
    unsigned t = whole_seconds(opt->write_timeout);
    rc |= mysql_options(mysql, MYSQL_OPT_WRITE_TIMEOUT, &t);
  }
  if (uvsql__my_tls_wanted(opt)) {
    /* Connector/C checks the chain whenever ssl_ca is given (verify_ca requires it, see
     * uvsql__my_options_parse); MYSQL_OPT_SSL_VERIFY_SERVER_CERT adds the host name check
     * (and the chain against the system's CAs when there is no ssl_ca). */
    my_bool verify = opt->ssl_mode == UVSQL__MY_SSL_VERIFY_IDENTITY;
    rc |= mysql_ssl_set(mysql, opt->ssl_key, opt->ssl_cert, opt->ssl_ca, NULL, NULL);
    rc |= mysql_options(mysql, MYSQL_OPT_SSL_ENFORCE, &on);
    rc |= mysql_options(mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
  }
  return rc ? -1 : 0;
}

void uvsql__my_options_socket(const uvsql__my_options_t *opt, int fd) {
  int on = opt->tcp_keepalive > 0;
  if (fd < 0 || opt->unix_socket)
    return;
  /* best effort: a socket option the system refuses leaves the connection as it was */
  (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  if (on) {
    int idle = (int)whole_seconds(opt->tcp_keepalive), intvl = 10, cnt = 6;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
  }
#ifdef TCP_USER_TIMEOUT
  if (opt->tcp_user_timeout > 0) {
    unsigned ms = (unsigned)opt->tcp_user_timeout;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof ms);
  }
#endif
}
