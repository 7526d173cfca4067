/* bench/lib/raw_pg.c — the workloads done directly with libpq, as fast as libpq allows:
 * binary results, prepared statements, and pipeline mode for the concurrent workload. */
#include <arpa/inet.h>
#include <endian.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

/* timestamptz binary: µs since 2000-01-01 UTC; + this = µs since 1970-01-01. */
#define PG_EPOCH_US INT64_C(946684800000000)

static PGconn *pg_open(const char *conninfo) {
  PGconn *c = PQconnectdb(conninfo);
  if (PQstatus(c) != CONNECTION_OK) {
    fprintf(stderr, "libpq connect: %s", PQerrorMessage(c));
    PQfinish(c);
    return NULL;
  }
  return c;
}

static int pg_ok(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  if (!ok)
    fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
  PQclear(r);
  return ok ? 0 : -1;
}

int pg_setup(const char *conninfo, int64_t nrows) {
  PGconn *c = pg_open(conninfo);
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
    rc = pg_ok(c, "DROP TABLE IF EXISTS " BENCH_TABLE) ||
         pg_ok(c, "CREATE TABLE " BENCH_TABLE " (id bigint PRIMARY KEY, name text, "
                  "x double precision, ts timestamptz, flag boolean)") ||
         pg_ok(c, sql) || pg_ok(c, "VACUUM ANALYZE " BENCH_TABLE);
  }
  PQfinish(c);
  return rc ? -1 : 0;
}

static uint64_t be64(const char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return be64toh(v);
}

static void consume(const PGresult *r, bench_run_t *run) {
  int n = PQntuples(r);
  for (int i = 0; i < n; i++) {
    int64_t id = (int64_t)be64(PQgetvalue(r, i, 0));
    int len = PQgetlength(r, i, 1);
    uint64_t xb = be64(PQgetvalue(r, i, 2));
    double x;
    memcpy(&x, &xb, 8);
    int64_t ts = (int64_t)be64(PQgetvalue(r, i, 3)) + PG_EPOCH_US;
    int flag = PQgetvalue(r, i, 4)[0];
    run->checksum += BENCH_ROW_SUM(id, x, flag, len, ts);
  }
  run->rows += n;
}

int pg_large_resultset(const char *conninfo, bench_run_t *out) {
  PGconn *c = pg_open(conninfo);
  if (!c)
    return -1;
  double best = 1e9;
  bench_run_t run = {0};
  for (int rep = 0; rep < 4; rep++) {
    memset(&run, 0, sizeof run);
    double t0 = bench_now();
    PGresult *r = PQexecParams(c, BENCH_SELECT_ALL, 0, NULL, NULL, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      fprintf(stderr, "%s", PQerrorMessage(c));
      return -1;
    }
    consume(r, &run);
    PQclear(r);
    run.seconds = bench_now() - t0;
    if (rep > 0 && run.seconds < best)
      best = run.seconds;
  }
  run.seconds = best;
  *out = run;
  PQfinish(c);
  return 0;
}

static int prepare_lookup(PGconn *c) {
  PGresult *r =
      PQprepare(c, "lookup", "SELECT id, name, x, ts, flag FROM " BENCH_TABLE " WHERE id = $1", 1,
                (Oid[]){20});
  int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  return ok ? 0 : -1;
}

int pg_short_selects(const char *conninfo, int n, int64_t nkeys, bench_run_t *out) {
  PGconn *c = pg_open(conninfo);
  if (!c || prepare_lookup(c) != 0)
    return -1;
  bench_run_t run = {0};
  double t0 = 0;
  for (int i = -100; i < n; i++) {
    if (i == 0) {
      memset(&run, 0, sizeof run);
      t0 = bench_now();
    }
    uint64_t key = htobe64((uint64_t)(1 + (int64_t)((i + 100) * 7919) % nkeys));
    const char *vals[] = {(const char *)&key};
    int lens[] = {8}, fmts[] = {1};
    PGresult *r = PQexecPrepared(c, "lookup", 1, vals, lens, fmts, 1);
    consume(r, &run);
    PQclear(r);
  }
  run.seconds = bench_now() - t0;
  *out = run;
  PQfinish(c);
  return 0;
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
    if (!(cs[i] = pg_open(conninfo)) || prepare_lookup(cs[i]) != 0)
      return -1;
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
  PGconn *c = pg_open(conninfo);
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
