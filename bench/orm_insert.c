/* bench/orm_insert.c — orm_bulk_insert: 100,000 new objects added to an AsyncSession, flushed
 * and committed with every generated key written back into its struct, against raw libpq
 * doing the same multi-row INSERT ... RETURNING id (1,000 rows per statement, prepared,
 * pipelined, binary results, keys written into an array of structs) in one transaction.
 * Both sides start from objects already built in memory and end when COMMIT has returned.
 * Each side runs --runs times (default 3) on a truncated table; the best run is reported.
 *
 *   bench_orm_insert [--rows N] [--runs N] [--batch ROWS_PER_INSERT]
 *
 * PostgreSQL: UVSQL_BENCH_PG_URL, else UVSQL_TEST_PG_URL. Output: JSON lines as bench.c
 * (bench_report), the uvsql line with "ratio" = uvsql seconds / raw seconds. */
#include <arpa/inet.h>
#include <endian.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "uvsql.h"

static int BATCH = 1000; /* rows per INSERT on both sides (--batch) */

#define ROW_FIELDS(X)                                                                              \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(30), UVSQL_NOT_NULL)                                                              \
  X(fullname, TEXT, 0)
UVSQL_MODEL(row_t, "bench_orm_rows", ROW_FIELDS)

typedef struct {
  int64_t id;
  char *name;
  char *fullname;
} raw_row_t;

static int nrows = 100000, nruns = 3;

static void die(const char *what, const char *detail) {
  fprintf(stderr, "bench_orm_insert: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

static void pg_exec(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
    die(sql, PQerrorMessage(c));
  PQclear(r);
}

/* ------------------------------------------------------------------ raw libpq */

static double raw_run(PGconn *c, raw_row_t *rows, int n, double *checksum) {
  char *sql = malloc(64 + (size_t)BATCH * 16);
  pg_exec(c, "TRUNCATE bench_orm_raw RESTART IDENTITY");
  double t0 = bench_now();
  pg_exec(c, "BEGIN");
  int nbatches = (n + BATCH - 1) / BATCH;
  /* Prepare the full and the last statement shapes. */
  int sizes[2] = {BATCH, n % BATCH};
  for (int k = 0; k < 2; k++) {
    if (!sizes[k])
      continue;
    size_t len = (size_t)sprintf(sql, "INSERT INTO bench_orm_raw (name, fullname) VALUES ");
    for (int r = 0; r < sizes[k]; r++)
      len += (size_t)sprintf(sql + len, "%s($%d, $%d)", r ? ", " : "", 2 * r + 1, 2 * r + 2);
    sprintf(sql + len, " RETURNING id");
    PGresult *p = PQprepare(c, k ? "ins_last" : "ins_full", sql, 0, NULL);
    if (PQresultStatus(p) != PGRES_COMMAND_OK)
      die("prepare", PQerrorMessage(c));
    PQclear(p);
  }
  if (!PQenterPipelineMode(c))
    die("pipeline", PQerrorMessage(c));
  const char **vals = malloc(2 * BATCH * sizeof *vals);
  int fmt1 = 1;
  for (int b = 0; b < nbatches; b++) {
    int at = b * BATCH, m = n - at < BATCH ? n - at : BATCH;
    for (int r = 0; r < m; r++) {
      vals[2 * r] = rows[at + r].name;
      vals[2 * r + 1] = rows[at + r].fullname;
    }
    if (!PQsendQueryPrepared(c, m == BATCH ? "ins_full" : "ins_last", 2 * m, vals, NULL, NULL,
                             fmt1))
      die("send", PQerrorMessage(c));
  }
  PQpipelineSync(c);
  for (int b = 0; b < nbatches; b++) {
    PGresult *r = PQgetResult(c);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
      die("insert", PQresultErrorMessage(r));
    int at = b * BATCH;
    for (int i = 0; i < PQntuples(r); i++) {
      uint64_t v;
      memcpy(&v, PQgetvalue(r, i, 0), 8);
      rows[at + i].id = (int64_t)be64toh(v);
    }
    PQclear(r);
    PQclear(PQgetResult(c)); /* the NULL after each query */
  }
  PGresult *sync = PQgetResult(c);
  if (PQresultStatus(sync) != PGRES_PIPELINE_SYNC)
    die("sync", PQerrorMessage(c));
  PQclear(sync);
  PQexitPipelineMode(c);
  pg_exec(c, "COMMIT");
  double t = bench_now() - t0;
  free(vals);
  free(sql);
  pg_exec(c, "DEALLOCATE ALL");
  *checksum = 0;
  for (int i = 0; i < n; i++)
    *checksum += (double)rows[i].id;
  return t;
}

/* ------------------------------------------------------------------ uvsql ORM */

static double orm_run(const char *url, int n, double *checksum) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  uvsql_engine_t *e;
  uvsql_error_t err;
  if (uvsql_engine_new(&e, &loop, url, NULL, &err))
    die("engine", err.message);
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_mapper_t *m = uvsql_registry_map(reg, row_t_model(), &err);
  if (!m)
    die("map", err.message);
  uvsql_future_t *f =
      uvsql_engine_execute_sql(e, "TRUNCATE bench_orm_rows RESTART IDENTITY", NULL, 0, NULL, NULL);
  if (uvsql_future_wait(f))
    die("truncate", uvsql_future_error(f)->message);
  uvsql_future_unref(f);
  /* objects built before the clock starts, as the raw side's structs are */
  row_t **objs = malloc((size_t)n * sizeof *objs);
  char name[32];
  for (int i = 0; i < n; i++) {
    objs[i] = uvsql_orm_new(m);
    snprintf(name, sizeof name, "user%d", i);
    uvsql_orm_set_text(objs[i], &objs[i]->name, name);
    uvsql_orm_set_text(objs[i], &objs[i]->fullname, "Full Name");
  }
  uvsql_session_t *s;
  uvsql_session_options_t so = UVSQL_SESSION_OPTIONS_INIT;
  so.insert_batch_rows = BATCH;
  if (uvsql_session_new(&s, e, reg, &so))
    die("session", NULL);
  double t0 = bench_now();
  if (uvsql_session_add_all(s, (void *const *)objs, (size_t)n))
    die("add_all", NULL);
  f = uvsql_session_commit(s, NULL, NULL);
  if (uvsql_future_wait(f))
    die("commit", uvsql_future_error(f)->message);
  double t = bench_now() - t0;
  uvsql_future_unref(f);
  *checksum = 0;
  for (int i = 0; i < n; i++)
    *checksum += (double)objs[i]->id;
  free(objs);
  f = uvsql_session_close(s, NULL, NULL);
  uvsql_future_wait(f);
  uvsql_future_unref(f);
  f = uvsql_engine_dispose(e, NULL, NULL);
  uvsql_future_wait(f);
  uvsql_future_unref(f);
  uvsql_registry_free(reg);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return t;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc)
      nrows = atoi(argv[++i]);
    else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      nruns = atoi(argv[++i]);
    else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
      BATCH = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: %s [--rows N] [--runs N] [--batch N]\n", argv[0]);
      return 2;
    }
  }
  const char *url = getenv("UVSQL_BENCH_PG_URL");
  if (!url || !*url)
    url = getenv("UVSQL_TEST_PG_URL");
  if (!url || !*url) {
    fprintf(stderr, "bench_orm_insert: postgresql skipped: set UVSQL_BENCH_PG_URL\n");
    return 0;
  }
  PGconn *c = PQconnectdb(url);
  if (PQstatus(c) != CONNECTION_OK)
    die("connect", PQerrorMessage(c));
  pg_exec(c, "DROP TABLE IF EXISTS bench_orm_raw");
  pg_exec(c, "DROP TABLE IF EXISTS bench_orm_rows");
  pg_exec(c, "CREATE TABLE bench_orm_raw (id bigserial PRIMARY KEY, name varchar(30) NOT NULL, "
             "fullname text)");
  pg_exec(c, "CREATE TABLE bench_orm_rows (id bigserial PRIMARY KEY, name varchar(30) NOT NULL, "
             "fullname text)");
  raw_row_t *rows = calloc((size_t)nrows, sizeof *rows);
  char name[32];
  for (int i = 0; i < nrows; i++) {
    snprintf(name, sizeof name, "user%d", i);
    rows[i].name = strdup(name);
    rows[i].fullname = strdup("Full Name");
  }
  double best_raw = 1e9, best_orm = 1e9, sum_raw = 0, sum_orm = 0;
  for (int run = 0; run < nruns; run++) {
    double t = raw_run(c, rows, nrows, &sum_raw);
    best_raw = t < best_raw ? t : best_raw;
    t = orm_run(url, nrows, &sum_orm);
    best_orm = t < best_orm ? t : best_orm;
  }
  /* same keys on both sides: 1..n after RESTART IDENTITY */
  if (sum_raw != sum_orm)
    die("the two sides disagree on the generated keys", NULL);
  bench_run_t raw = {best_raw, nrows, sum_raw}, orm = {best_orm, nrows, sum_orm};
  char note[160];
  snprintf(note, sizeof note,
           "\"batch_rows\":%d,\"note\":\"libpq pipelined multi-row INSERT RETURNING\"", BATCH);
  bench_report("postgresql", "orm_bulk_insert", "raw", &raw, 0, note);
  snprintf(note, sizeof note,
           "\"batch_rows\":%d,\"note\":\"AsyncSession add_all + commit, keys back in structs\"",
           BATCH);
  bench_report("postgresql", "orm_bulk_insert", "uvsql", &orm, best_raw, note);
  for (int i = 0; i < nrows; i++) {
    free(rows[i].name);
    free(rows[i].fullname);
  }
  free(rows);
  pg_exec(c, "DROP TABLE bench_orm_raw");
  pg_exec(c, "DROP TABLE bench_orm_rows");
  PQfinish(c);
  return 0;
}
