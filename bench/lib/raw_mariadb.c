/* bench/lib/raw_mariadb.c — the workloads done directly with Connector/C (its blocking API, as
 * fast as the library goes): for streaming, a prepared statement whose rows are fetched one by
 * one from the server with mysql_stmt_fetch and no mysql_stmt_store_result, so the client
 * never holds more than a row. The URL is uvsql's (mariadb://user:pass@host:port/db). */
#include <mysql.h>
#include <stdlib.h>
#include <string.h>
#include <uvsql.h>
#include "bench.h"

static MYSQL *my_open(const char *url) {
  uvsql_url_t *u;
  uvsql_error_t err;
  if (uvsql_url_parse(&u, url, &err) != 0) {
    fprintf(stderr, "mariadb url: %s\n", err.message);
    return NULL;
  }
  MYSQL *m = mysql_init(NULL);
  const char *sock = uvsql_url_query_get(u, "unix_socket");
  if (!m || !mysql_real_connect(m, u->host, u->user, u->password, u->database,
                                (unsigned)(u->port ? u->port : 3306), sock, 0)) {
    fprintf(stderr, "mariadb connect: %s\n", m ? mysql_error(m) : "out of memory");
    if (m)
      mysql_close(m);
    m = NULL;
  }
  uvsql_url_free(u);
  return m;
}

int mariadb_streaming(const char *url, const char *sql, bench_run_t *out) {
  MYSQL *m = my_open(url);
  if (!m)
    return -1;
  memset(out, 0, sizeof *out);
  double t0 = bench_now();
  MYSQL_STMT *st = mysql_stmt_init(m);
  long long x = 0;
  double y = 0;
  MYSQL_BIND b[2];
  memset(b, 0, sizeof b);
  b[0].buffer_type = MYSQL_TYPE_LONGLONG;
  b[0].buffer = &x;
  b[1].buffer_type = MYSQL_TYPE_DOUBLE;
  b[1].buffer = &y;
  int rc = -1;
  if (!st || mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)) != 0 ||
      mysql_stmt_execute(st) != 0 || mysql_stmt_bind_result(st, b) != 0) {
    fprintf(stderr, "mariadb streaming: %s\n", st ? mysql_stmt_error(st) : mysql_error(m));
    goto out;
  }
  int f;
  while ((f = mysql_stmt_fetch(st)) == 0) {
    out->checksum += (double)x + y;
    out->rows++;
  }
  if (f != MYSQL_NO_DATA) {
    fprintf(stderr, "mariadb streaming fetch: %s\n", mysql_stmt_error(st));
    goto out;
  }
  rc = 0;
out:
  out->seconds = bench_now() - t0;
  if (st)
    mysql_stmt_close(st);
  mysql_close(m);
  return rc;
}
