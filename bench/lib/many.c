/* bench/lib/many.c — the executemany workload (bench.h's contract): uvsql_engine_execute_many
 * against raw libpq (one pipeline: Parse, n Bind/Execute, one Sync) and raw sqlite3 (a
 * prepared statement bound, stepped and reset per row in one transaction). The raw Connector/C
 * side (bulk array binding) is in raw_mariadb.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "raw_pg.h"
#include "raw_sqlite.h"
#include "uvsql_env.h"

char (*bench_many_names_new(int n))[16] {
  char(*names)[16] = malloc((size_t)n * sizeof *names);
  for (int i = 0; i < n; i++)
    snprintf(names[i], sizeof names[i], "user%d", i);
  return names;
}

/* ------------------------------------------------------------------ uvsql */

int uvsql_many(const char *url, int n, bench_run_t *out) {
  bench_env_t env;
  if (bench_env_open(&env, url, 1) != 0)
    return -1;
  uvsql_future_t *f = uvsql_engine_execute_sql(env.engine, "SELECT 1", NULL, 0, NULL, NULL);
  if (bench_wait(f, "connect") != 0) /* the connection is open before the clock starts */
    return -1;
  char(*names)[16] = bench_many_names_new(n);
  uvsql_param_t *p = malloc((size_t)n * 3 * sizeof *p);
  for (int i = 0; i < n; i++) {
    p[3 * i] = (uvsql_param_t){"id", UVSQL_V_INT64(i + 1)};
    p[3 * i + 1] = (uvsql_param_t){"name", UVSQL_V_TEXT(names[i])};
    p[3 * i + 2] = (uvsql_param_t){"x", UVSQL_V_DOUBLE(i * 0.5)};
  }
  uvsql_stmt_t *st;
  uvsql_error_t err;
  if (uvsql_text(&st, BENCH_MANY_INSERT, &err) != 0)
    return -1;
  double t0 = bench_now();
  f = uvsql_engine_execute_many(env.engine, st, p, 3, (size_t)n, NULL, NULL);
  if (uvsql_future_wait(f) != 0)
    return bench_failed(f, "execute_many");
  out->seconds = bench_now() - t0;
  out->rows = uvsql_result_rows_affected(uvsql_future_value(f));
  out->checksum = (double)out->rows;
  uvsql_future_unref(f);
  uvsql_stmt_free(st);
  free(p);
  free(names);
  bench_env_close(&env);
  return 0;
}

/* ------------------------------------------------------------------ libpq */

int pg_many_setup(const char *conninfo) {
  PGconn *c = bench_pg_open(conninfo);
  if (!c)
    return -1;
  int rc = bench_pg_exec(c, "DROP TABLE IF EXISTS bench_many") ||
           bench_pg_exec(c, "CREATE TABLE bench_many (id bigint PRIMARY KEY, name varchar(30), "
                            "x double precision)");
  PQfinish(c);
  return rc ? -1 : 0;
}

static void put_be64(char *p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8)
    p[i] = (char)(v & 0xff);
}

/* One pipeline group, as uvsql sends it: Parse, n x Bind/Execute (binary int8 and float8,
 * text name), one Sync; the implicit transaction of the group makes it atomic. */
int pg_many(const char *conninfo, int n, bench_run_t *out) {
  PGconn *c = bench_pg_open(conninfo);
  if (!c)
    return -1;
  char(*names)[16] = bench_many_names_new(n);
  static const Oid types[3] = {20, 0, 701};
  static const int formats[3] = {1, 0, 1};
  int rc = -1;
  int64_t rows = 0;
  double t0 = bench_now();
  if (!PQenterPipelineMode(c) ||
      !PQsendPrepare(c, "many", "INSERT INTO bench_many (id, name, x) VALUES ($1, $2, $3)", 3,
                     types))
    goto done;
  for (int i = 0; i < n; i++) {
    char id[8], x[8];
    double xv = i * 0.5;
    uint64_t bits;
    memcpy(&bits, &xv, 8);
    put_be64(id, (uint64_t)(i + 1));
    put_be64(x, bits);
    const char *vals[3] = {id, names[i], x};
    int lens[3] = {8, (int)strlen(names[i]), 8};
    if (!PQsendQueryPrepared(c, "many", 3, vals, lens, formats, 0))
      goto done;
  }
  if (!PQpipelineSync(c))
    goto done;
  for (int k = 0; k <= n; k++) { /* the Parse, then each Execute: a result and a NULL */
    PGresult *r = PQgetResult(c);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      fprintf(stderr, "many: %s", PQresultErrorMessage(r));
      PQclear(r);
      goto done;
    }
    if (k)
      rows += atoll(PQcmdTuples(r));
    PQclear(r);
    PQclear(PQgetResult(c));
  }
  PGresult *sync = PQgetResult(c);
  int synced = PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  PQclear(sync);
  if (!synced)
    goto done;
  out->seconds = bench_now() - t0;
  out->rows = rows;
  out->checksum = (double)rows;
  rc = 0;
done:
  free(names);
  PQfinish(c);
  return rc;
}

/* ------------------------------------------------------------------ sqlite3 */

int sqlite_many_setup(const char *path) {
  sqlite3 *db = bench_sqlite_open(path);
  if (!db)
    return -1;
  int rc = bench_sqlite_exec(db, "DROP TABLE IF EXISTS bench_many;"
                                 "CREATE TABLE bench_many (id INTEGER PRIMARY KEY, name "
                                 "VARCHAR(30), x DOUBLE PRECISION)");
  sqlite3_close(db);
  return rc;
}

/* BEGIN, one prepared INSERT bound, stepped and reset per row, COMMIT. */
int sqlite_many(const char *path, int n, bench_run_t *out) {
  sqlite3 *db = bench_sqlite_open(path);
  if (!db)
    return -1;
  char(*names)[16] = bench_many_names_new(n);
  sqlite3_stmt *st = NULL;
  int rc = -1;
  int64_t rows = 0;
  double t0 = bench_now();
  if (bench_sqlite_exec(db, "BEGIN") != 0 ||
      !(st = bench_sqlite_prepare(db, "INSERT INTO bench_many (id, name, x) VALUES (?1, ?2, ?3)")))
    goto done;
  for (int i = 0; i < n; i++) {
    sqlite3_bind_int64(st, 1, i + 1);
    sqlite3_bind_text(st, 2, names[i], -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, i * 0.5);
    if (sqlite3_step(st) != SQLITE_DONE) {
      fprintf(stderr, "sqlite3 many: %s\n", sqlite3_errmsg(db));
      goto done;
    }
    rows += sqlite3_changes(db);
    sqlite3_reset(st);
  }
  if (bench_sqlite_exec(db, "COMMIT") != 0)
    goto done;
  out->seconds = bench_now() - t0;
  out->rows = rows;
  out->checksum = (double)rows;
  rc = 0;
done:
  sqlite3_finalize(st);
  free(names);
  sqlite3_close(db);
  return rc;
}
