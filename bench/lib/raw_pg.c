/* bench/lib/raw_pg.c — the workloads done directly with libpq, as fast as libpq allows:
 * binary results, prepared statements, and pipeline mode for the concurrent workload. */
#include "raw_pg.h"
#include <arpa/inet.h>
#include <poll.h>
#include <stdlib.h>
#include "bench.h"

static void quiet(void *arg, const char *message) { /* NOTICEs of DROP ... IF EXISTS */
  (void)arg;
  (void)message;
}

PGconn *bench_pg_open(const char *conninfo) {
  PGconn *c = PQconnectdb(conninfo);
  if (PQstatus(c) != CONNECTION_OK) {
    fprintf(stderr, "libpq connect: %s", PQerrorMessage(c));
    PQfinish(c);
    return NULL;
  }
  PQsetNoticeProcessor(c, quiet, NULL);
  return c;
}

int bench_pg_exec(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  if (!ok)
    fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
  PQclear(r);
  return ok ? 0 : -1;
}

int bench_pg_prepare(PGconn *c, const char *name, const char *sql, int nparams, const Oid *types) {
  PGresult *r = PQprepare(c, name, sql, nparams, types);
  int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  if (!ok)
    fprintf(stderr, "prepare %s: %s", name, PQerrorMessage(c));
  PQclear(r);
  return ok ? 0 : -1;
}

int pg_setup(const char *conninfo, int64_t nrows) {
  PGconn *c = bench_pg_open(conninfo);
  if (!c)
    return -1;
  char sql[512];
  PGresult *r = PQexec(c, "SELECT count(*) FROM pg_class WHERE relname = '" BENCH_TABLE "'");
  int exists = PQresultStatus(r) == PGRES_TUPLES_OK && atoi(PQgetvalue(r, 0, 0)) == 1;
  PQclear(r);
  if (exists) {
    r = PQexec(c, "SELECT count(*) FROM " BENCH_TABLE);
    exists = PQresultStatus(r) == PGRES_TUPLES_OK && atoll(PQgetvalue(r, 0, 0)) == nrows;
    PQclear(r);
  }
  int rc = 0;
  if (!exists) {
    snprintf(sql, sizeof sql,
             "INSERT INTO " BENCH_TABLE " SELECT g, 'name-' || g, g * 0.5, "
             "timestamptz '2024-01-01' + g * interval '1 second', g %% 2 = 0 "
             "FROM generate_series(1, %lld) g",
             (long long)nrows);
    rc = bench_pg_exec(c, "DROP TABLE IF EXISTS " BENCH_TABLE) ||
         bench_pg_exec(c, "CREATE TABLE " BENCH_TABLE " (id bigint PRIMARY KEY, name text, "
                          "x double precision, ts timestamptz, flag boolean)") ||
         bench_pg_exec(c, sql) || bench_pg_exec(c, "VACUUM ANALYZE " BENCH_TABLE);
  }
  PQfinish(c);
  return rc ? -1 : 0;
}

static void consume(const PGresult *r, bench_run_t *run) {
  int n = PQntuples(r);
  for (int i = 0; i < n; i++) {
    int64_t id = (int64_t)bench_be64(PQgetvalue(r, i, 0));
    int len = PQgetlength(r, i, 1);
    uint64_t xb = bench_be64(PQgetvalue(r, i, 2));
    double x;
    memcpy(&x, &xb, 8);
    int64_t ts = (int64_t)bench_be64(PQgetvalue(r, i, 3)) + PG_EPOCH_US;
    int flag = PQgetvalue(r, i, 4)[0];
    run->checksum += BENCH_ROW_SUM(id, x, flag, len, ts);
  }
  run->rows += n;
}

/* BENCH_SELECT_ALL with binary results, or NULL after printing the error. */
static PGresult *select_all(PGconn *c) {
  PGresult *r = PQexecParams(c, BENCH_SELECT_ALL, 0, NULL, NULL, NULL, NULL, 1);
  if (PQresultStatus(r) == PGRES_TUPLES_OK)
    return r;
  fprintf(stderr, "%s", PQresultErrorMessage(r));
  PQclear(r);
  return NULL;
}

static int large_once(void *c, bench_run_t *run) {
  double t0 = bench_now();
  PGresult *r = select_all(c);
  if (!r)
    return -1;
  consume(r, run);
  PQclear(r);
  run->seconds = bench_now() - t0;
  return 0;
}

/* Row i of a binary result of BENCH_SELECT_ALL's columns into o (o->name strdup'd). */
static void fill_row(const PGresult *r, int i, bench_raw_row_t *o) {
  o->id = (int64_t)bench_be64(PQgetvalue(r, i, 0));
  o->name = strdup(PQgetvalue(r, i, 1));
  uint64_t xb = bench_be64(PQgetvalue(r, i, 2));
  memcpy(&o->x, &xb, 8);
  o->ts = (int64_t)bench_be64(PQgetvalue(r, i, 3)) + PG_EPOCH_US;
  o->flag = PQgetvalue(r, i, 4)[0];
}

/* The rows into a malloc'd array of structs with strdup'd names, as the ORM makes objects;
 * the checksum is read from the structs; they are freed after the clock stops. */
static int orm_large_once(void *c, bench_run_t *run) {
  double t0 = bench_now();
  PGresult *r = select_all(c);
  if (!r)
    return -1;
  int n = PQntuples(r);
  bench_raw_row_t *rows = malloc((size_t)(n ? n : 1) * sizeof *rows);
  for (int i = 0; i < n; i++)
    fill_row(r, i, &rows[i]);
  PQclear(r);
  bench_raw_rows_sum(rows, (size_t)n, run);
  run->seconds = bench_now() - t0;
  bench_raw_rows_free(rows, (size_t)n);
  return 0;
}

/* once on one connection, the best of 3 after a warm-up. */
static int best_on_conn(const char *conninfo, bench_once_fn once, bench_run_t *out) {
  PGconn *c = bench_pg_open(conninfo);
  if (!c)
    return -1;
  int rc = bench_best_of(3, once, c, out);
  PQfinish(c);
  return rc;
}

int pg_large_resultset(const char *conninfo, bench_run_t *out) {
  return best_on_conn(conninfo, large_once, out);
}

int pg_orm_large_resultset(const char *conninfo, bench_run_t *out) {
  return best_on_conn(conninfo, orm_large_once, out);
}

static int prepare_lookup(PGconn *c) {
  return bench_pg_prepare(c, "lookup",
                          "SELECT id, name, x, ts, flag FROM " BENCH_TABLE " WHERE id = $1", 1,
                          (Oid[]){20});
}

typedef struct {
  PGconn *c;
  bench_raw_row_t o; /* orm_get's one struct */
} lookup_t;

static PGresult *lookup(PGconn *c, int64_t key) {
  uint64_t k = htobe64((uint64_t)key);
  const char *vals[] = {(const char *)&k};
  int lens[] = {8}, fmts[] = {1};
  PGresult *r = PQexecPrepared(c, "lookup", 1, vals, lens, fmts, 1);
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
    return r;
  fprintf(stderr, "lookup %lld: %s", (long long)key, PQresultErrorMessage(r));
  PQclear(r);
  return NULL;
}

static int short_one(void *ctx, int64_t key, bench_run_t *run) {
  PGresult *r = lookup(((lookup_t *)ctx)->c, key);
  if (!r)
    return -1;
  consume(r, run);
  PQclear(r);
  return 0;
}

/* orm_get's raw side: the prepared lookup filling one struct (its name replaced each time). */
static int get_one(void *ctx, int64_t key, bench_run_t *run) {
  lookup_t *l = ctx;
  PGresult *r = lookup(l->c, key);
  if (!r)
    return -1;
  free(l->o.name);
  fill_row(r, 0, &l->o);
  PQclear(r);
  bench_raw_rows_sum(&l->o, 1, run);
  return 0;
}

static int lookups(const char *conninfo, int n, int64_t nkeys, bench_lookup_fn one,
                   bench_run_t *out) {
  lookup_t l = {bench_pg_open(conninfo), {0}};
  if (!l.c || prepare_lookup(l.c) != 0) {
    PQfinish(l.c);
    return -1;
  }
  int rc = bench_lookups(n, nkeys, one, &l, out);
  free(l.o.name);
  PQfinish(l.c);
  return rc;
}

int pg_short_selects(const char *conninfo, int n, int64_t nkeys, bench_run_t *out) {
  return lookups(conninfo, n, nkeys, short_one, out);
}

int pg_get_lookups(const char *conninfo, int n, int64_t nkeys, bench_run_t *out) {
  return lookups(conninfo, n, nkeys, get_one, out);
}

/* Eight connections in pipeline mode, each sending its share as fast as the socket takes it,
 * with at most `window` lookups outstanding, reading results as they arrive. */
int pg_concurrent_selects(const char *conninfo, int n, int nconns, int64_t nkeys,
                          bench_run_t *out) {
  enum { WINDOW = 64 };
  PGconn **cs = calloc((size_t)nconns, sizeof *cs);
  int *sent = calloc((size_t)nconns, sizeof *sent), *got = calloc((size_t)nconns, sizeof *got);
  struct pollfd *pfd = calloc((size_t)nconns, sizeof *pfd);
  int per = n / nconns;
  for (int i = 0; i < nconns; i++) {
    if (!(cs[i] = bench_pg_open(conninfo)) || prepare_lookup(cs[i]) != 0)
      return -1;
    for (int k = 0; k < 20; k++) /* warm the backend up, as the uvsql side does */
      PQclear(lookup(cs[i], BENCH_KEY(k, nkeys)));
    PQsetnonblocking(cs[i], 1);
    PQenterPipelineMode(cs[i]);
  }
  bench_run_t run = {0};
  double t0 = bench_now();
  int done = 0;
  int64_t key = 1;
  while (done < nconns) {
    for (int i = 0; i < nconns; i++) {
      while (sent[i] < per && sent[i] - got[i] < WINDOW) {
        key = 1 + (key * 7919 + 13) % nkeys;
        uint64_t k = htobe64((uint64_t)key);
        const char *vals[] = {(const char *)&k};
        int lens[] = {8}, fmts[] = {1};
        PQsendQueryPrepared(cs[i], "lookup", 1, vals, lens, fmts, 1);
        sent[i]++;
        if (sent[i] == per || sent[i] - got[i] == WINDOW)
          PQpipelineSync(cs[i]);
      }
      pfd[i].fd = PQsocket(cs[i]);
      pfd[i].events = POLLIN | (PQflush(cs[i]) == 1 ? POLLOUT : 0);
    }
    poll(pfd, (nfds_t)nconns, 1000);
    done = 0;
    for (int i = 0; i < nconns; i++) {
      if (pfd[i].revents & POLLIN)
        PQconsumeInput(cs[i]);
      int nulls = 0;
      while (got[i] < sent[i] && !PQisBusy(cs[i])) {
        PGresult *r = PQgetResult(cs[i]);
        if (!r) { /* end of one query's results; two in a row: nothing more yet */
          if (++nulls == 2)
            break;
          continue;
        }
        nulls = 0;
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_TUPLES_OK) {
          consume(r, &run);
          got[i]++;
        } else if (st != PGRES_PIPELINE_SYNC) {
          fprintf(stderr, "pipeline: %s", PQresultErrorMessage(r));
          return -1;
        }
        PQclear(r);
      }
      done += got[i] == per;
    }
  }
  run.seconds = bench_now() - t0;
  *out = run;
  for (int i = 0; i < nconns; i++)
    PQfinish(cs[i]);
  free(cs);
  free(sent);
  free(got);
  free(pfd);
  return 0;
}

double pg_pgbench_tps(const char *conninfo, int clients, int seconds) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "command -v pgbench >/dev/null && pgbench -i -q -s 1 '%s' >/dev/null 2>&1 && "
           "pgbench -S -M prepared -n -c %d -j 2 -T %d '%s' 2>/dev/null | "
           "sed -n 's/^tps = \\([0-9.]*\\).*/\\1/p' | tail -1",
           conninfo, clients, seconds, conninfo);
  FILE *p = popen(cmd, "r");
  if (!p)
    return -1;
  double tps = -1;
  if (fscanf(p, "%lf", &tps) != 1)
    tps = -1;
  pclose(p);
  return tps;
}

/* ------------------------------------------------------------------ streaming */

int pg_streaming(const char *conninfo, const char *sql, bench_run_t *out) {
  PGconn *c = bench_pg_open(conninfo);
  if (!c)
    return -1;
  memset(out, 0, sizeof *out);
  double t0 = bench_now();
  if (!PQsendQueryParams(c, sql, 0, NULL, NULL, NULL, NULL, 0) || !PQsetSingleRowMode(c)) {
    fprintf(stderr, "libpq streaming: %s", PQerrorMessage(c));
    PQfinish(c);
    return -1;
  }
  int rc = 0;
  PGresult *r;
  while ((r = PQgetResult(c)) != NULL) {
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_SINGLE_TUPLE) {
      out->checksum +=
          (double)strtoll(PQgetvalue(r, 0, 0), NULL, 10) + strtod(PQgetvalue(r, 0, 1), NULL);
      out->rows++;
    } else if (st != PGRES_TUPLES_OK) {
      fprintf(stderr, "libpq streaming: %s", PQresultErrorMessage(r));
      rc = -1;
    }
    PQclear(r);
  }
  out->seconds = bench_now() - t0;
  PQfinish(c);
  return rc;
}
