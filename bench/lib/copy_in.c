/* bench/lib/copy_in.c — the copy_in workload (PostgreSQL): n rows into bench_copy
 *     CREATE TABLE bench_copy (id bigint, name text, x double precision, ts timestamptz,
 *                              flag boolean)
 * row i = 0..n-1: id i + 1, name 'name-' || i, x i * 0.5, ts BENCH_TS_BASE + i s,
 * flag (i % 2 = 0); both sides build each batch of 1,000 rows as they go (no row array made
 * before the clock). The clock covers the copy from its first byte to the server's "COPY n".
 * Raw: libpq, blocking, COPY ... FROM STDIN (FORMAT binary), one PQputCopyData per batch.
 * uvsql: uvsql_engine_copy_in (binary COPY), or with use_insert its multi-row INSERT path
 * (1,000 rows per INSERT, one transaction). rows = n; checksum = count(*) + sum(id) read
 * back after the clock, so every side provably wrote the same rows. The table is truncated
 * before each run.
 */
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "uvsql_env.h"

#define COPY_BATCH  1000
#define PG_EPOCH_US INT64_C(946684800000000)

static int pg_exec_ok(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  if (!ok)
    fprintf(stderr, "bench copy_in: %s: %s", sql, PQerrorMessage(c));
  PQclear(r);
  return ok ? 0 : -1;
}

static int checksum(PGconn *c, bench_run_t *out) {
  PGresult *r = PQexec(c, "SELECT count(*), sum(id) FROM bench_copy");
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    PQclear(r);
    return -1;
  }
  out->rows = atoll(PQgetvalue(r, 0, 0));
  out->checksum = (double)out->rows + atof(PQgetvalue(r, 0, 1));
  PQclear(r);
  return 0;
}

int pg_copy_setup(const char *conninfo) {
  PGconn *c = PQconnectdb(conninfo);
  int rc = PQstatus(c) == CONNECTION_OK ? 0 : -1;
  if (rc == 0)
    rc = pg_exec_ok(c, "DROP TABLE IF EXISTS bench_copy");
  if (rc == 0)
    rc = pg_exec_ok(c, "CREATE TABLE bench_copy (id bigint, name text, x double precision, "
                       "ts timestamptz, flag boolean)");
  PQfinish(c);
  return rc;
}

/* ------------------------------------------------------------------ raw libpq */

static void be16(char *p, uint16_t v) {
  p[0] = (char)(v >> 8);
  p[1] = (char)v;
}

static void be32(char *p, uint32_t v) {
  for (int i = 3; i >= 0; i--, v >>= 8)
    p[i] = (char)v;
}

static void be64(char *p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8)
    p[i] = (char)v;
}

int pg_copy_in(const char *conninfo, int n, bench_run_t *out) {
  PGconn *c = PQconnectdb(conninfo);
  char *buf = malloc((size_t)COPY_BATCH * 80 + 32);
  int rc = -1;
  if (PQstatus(c) != CONNECTION_OK || !buf || pg_exec_ok(c, "TRUNCATE bench_copy") != 0)
    goto done;
  double t0 = bench_now();
  PGresult *r = PQexec(c, "COPY bench_copy (id, name, x, ts, flag) FROM STDIN (FORMAT binary)");
  if (PQresultStatus(r) != PGRES_COPY_IN) {
    PQclear(r);
    goto done;
  }
  PQclear(r);
  size_t len = 0;
  memcpy(buf, "PGCOPY\n\377\r\n\0", 11);
  memset(buf + 11, 0, 8);
  len = 19;
  for (int i = 0; i < n;) {
    for (int k = 0; k < COPY_BATCH && i < n; k++, i++) {
      char *p = buf + len;
      uint64_t bits;
      double x = i * 0.5;
      be16(p, 5);
      be32(p + 2, 8);
      be64(p + 6, (uint64_t)i + 1);
      int nl = snprintf(p + 18, 32, "name-%d", i);
      be32(p + 14, (uint32_t)nl);
      p += 18 + nl;
      memcpy(&bits, &x, 8);
      be32(p, 8);
      be64(p + 4, bits);
      be32(p + 12, 8);
      be64(p + 16, (uint64_t)(BENCH_TS_BASE_US + (int64_t)i * 1000000 - PG_EPOCH_US));
      be32(p + 24, 1);
      p[28] = i % 2 == 0;
      len = (size_t)(p + 29 - buf);
    }
    if (i >= n) {
      be16(buf + len, 0xffff);
      len += 2;
    }
    if (PQputCopyData(c, buf, (int)len) != 1)
      goto done;
    len = 0;
  }
  if (PQputCopyEnd(c, NULL) != 1)
    goto done;
  r = PQgetResult(c);
  rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
  if (rc != 0)
    fprintf(stderr, "bench copy_in raw: %s", PQerrorMessage(c));
  PQclear(r);
  while ((r = PQgetResult(c)))
    PQclear(r);
  out->seconds = bench_now() - t0;
  if (rc == 0)
    rc = checksum(c, out);
done:
  free(buf);
  PQfinish(c);
  return rc;
}

/* ------------------------------------------------------------------ uvsql */

typedef struct {
  int n, next;
  uvsql_value_t v[COPY_BATCH * 5];
  char names[COPY_BATCH][24];
} src_t;

static int source(size_t max_rows, const uvsql_value_t **rows, size_t *nrows, void *data) {
  src_t *s = data;
  size_t k = 0;
  while (k < max_rows && k < COPY_BATCH && s->next < s->n) {
    int i = s->next++;
    uvsql_value_t *v = &s->v[k * 5];
    int nl = snprintf(s->names[k], sizeof s->names[k], "name-%d", i);
    v[0] = UVSQL_V_INT64((int64_t)i + 1);
    v[1] = UVSQL_V_TEXTN(s->names[k], (size_t)nl);
    v[2] = UVSQL_V_DOUBLE(i * 0.5);
    v[3] = UVSQL_V_TIMESTAMPTZ(BENCH_TS_BASE_US + (int64_t)i * 1000000);
    v[4] = UVSQL_V_BOOL(i % 2 == 0);
    k++;
  }
  *rows = s->v;
  *nrows = k;
  return 0;
}

int uvsql_copy_in_bench(const char *url, const char *conninfo, int n, int use_insert,
                        bench_run_t *out) {
  static const char *const cols[] = {"id", "name", "x", "ts", "flag"};
  bench_env_t env;
  src_t *s = calloc(1, sizeof *s);
  int rc = -1;
  if (!s || bench_env_open(&env, url, 1) != 0) {
    free(s);
    return -1;
  }
  if (bench_wait(uvsql_engine_execute_sql(env.engine, "TRUNCATE bench_copy", NULL, 0, NULL, NULL),
                 "truncate") != 0)
    goto done;
  s->n = n;
  uvsql_copy_options_t opt = UVSQL_COPY_OPTIONS_INIT;
  opt.batch_rows = COPY_BATCH;
  opt.use_insert = use_insert;
  double t0 = bench_now();
  uvsql_future_t *f =
      uvsql_engine_copy_in(env.engine, "bench_copy", cols, 5, source, s, &opt, NULL, NULL);
  if (uvsql_future_wait(f) != 0) {
    bench_failed(f, "copy_in");
    goto done;
  }
  out->seconds = bench_now() - t0;
  uvsql_future_unref(f);
  PGconn *c = PQconnectdb(conninfo);
  rc = PQstatus(c) == CONNECTION_OK ? checksum(c, out) : -1;
  PQfinish(c);
done:
  bench_env_close(&env);
  free(s);
  return rc;
}
