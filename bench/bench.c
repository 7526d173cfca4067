/* bench/bench.c — runs each workload through uvsql and through the raw client library in the
 * same run, and prints one JSON line per (backend, workload, side) with the ratio uvsql/raw.
 *
 *   bench_bench [--only pg|sqlite|mariadb] [--rows N] [--lookups N] [--concurrent N]
 *               [--stream-rows N] [--streaming-only]
 *
 * `streaming` runs first, each measurement in a forked child (its peak RSS is its own), at
 * --stream-rows (default 5,000,000) and at a tenth of that, on every backend.
 * MariaDB (streaming only, so far): UVSQL_BENCH_MARIADB_URL, else UVSQL_TEST_MARIADB_URL.
 *
 * PostgreSQL: UVSQL_BENCH_PG_URL, else UVSQL_TEST_PG_URL (skipped when neither is set).
 * SQLite: a file at UVSQL_BENCH_SQLITE_PATH, default /tmp/uvsql-bench.db. The data is made on
 * first use and kept for later runs. See bench/README.md. */
#include <stdlib.h>
#include <string.h>
#include "bench.h"

static int64_t nrows = 500000;
static int nlookups = 10000, nconcurrent = 20000;
static long long nstream = 5000000;
static int streaming_only;

static void die_if(int rc, const char *what) {
  if (rc != 0) {
    fprintf(stderr, "bench: %s failed\n", what);
    exit(1);
  }
}

static void check_same(const char *what, const bench_run_t *a, const bench_run_t *b) {
  if (a->rows != b->rows || (a->checksum - b->checksum) > 1e-6 * (a->checksum + 1) ||
      (b->checksum - a->checksum) > 1e-6 * (a->checksum + 1)) {
    fprintf(stderr, "bench: %s: uvsql and raw disagree (%lld rows / %.1f vs %lld / %.1f)\n", what,
            (long long)a->rows, a->checksum, (long long)b->rows, b->checksum);
    exit(1);
  }
}

/* ------------------------------------------------------------------ streaming */

typedef struct {
  const char *backend;
  const char *url;    /* uvsql's */
  const char *target; /* the raw library's: conninfo, path or URL */
  const char *fmt;    /* SQL with %lld for the row count */
  int uvsql;          /* which side */
  long long n;
} stream_arg_t;

static int stream_fn(const void *arg, bench_run_t *out) {
  const stream_arg_t *a = arg;
  char sql[400];
  snprintf(sql, sizeof sql, a->fmt, a->n);
  if (a->uvsql)
    return uvsql_streaming(a->url, sql, BENCH_STREAM_BATCH, out);
  if (strcmp(a->backend, "postgresql") == 0)
    return pg_streaming(a->target, sql, out);
  if (strcmp(a->backend, "sqlite") == 0)
    return sqlite_streaming(a->target, sql, out);
  return mariadb_streaming(a->target, sql, out);
}

static void run_streaming(const char *backend, const char *url, const char *target,
                          const char *fmt) {
  bench_run_t r[2][2]; /* [small, big][raw, uvsql] */
  long peak[2][2];
  long long sizes[2] = {nstream / 10, nstream};
  for (int z = 0; z < 2; z++)
    for (int side = 0; side < 2; side++) {
      stream_arg_t a = {backend, url, target, fmt, side, sizes[z]};
      if (bench_in_child(stream_fn, &a, &r[z][side], &peak[z][side]) != 0) {
        fprintf(stderr, "bench: %s streaming (%s, %lld rows) failed\n", backend,
                side ? "uvsql" : "raw", sizes[z]);
        exit(1);
      }
    }
  check_same("streaming", &r[1][1], &r[1][0]);
  check_same("streaming (small)", &r[0][1], &r[0][0]);
  for (int side = 0; side < 2; side++) {
    char extra[400];
    snprintf(extra, sizeof extra,
             "\"batch_rows\":%d,\"peak_rss_kb\":%ld,\"rows_small\":%lld,\"seconds_small\":%.4f,"
             "\"peak_rss_kb_small\":%ld,\"peak_growth\":%.3f,\"note\":\"each run in a forked "
             "child; peak_growth = peak at %lld rows / peak at %lld rows\"",
             BENCH_STREAM_BATCH, peak[1][side], sizes[0], r[0][side].seconds, peak[0][side],
             (double)peak[1][side] / (double)(peak[0][side] ? peak[0][side] : 1), sizes[1],
             sizes[0]);
    bench_report(backend, "streaming", side ? "uvsql" : "raw", &r[1][side],
                 side ? r[1][0].seconds : 0, extra);
  }
}

static void run_pg(const char *url) {
  bench_run_t u, r;
  die_if(pg_setup(url, nrows), "postgresql setup");

  die_if(pg_large_resultset(url, &r), "libpq large_resultset");
  die_if(uvsql_large_resultset(url, &u), "uvsql large_resultset");
  check_same("large_resultset", &u, &r);
  bench_report("postgresql", "large_resultset", "raw", &r, 0, NULL);
  bench_report("postgresql", "large_resultset", "uvsql", &u, r.seconds, NULL);

  die_if(pg_short_selects(url, nlookups, nrows, &r), "libpq short_selects");
  die_if(uvsql_short_selects(url, nlookups, nrows, &u), "uvsql short_selects");
  check_same("short_selects", &u, &r);
  bench_report("postgresql", "short_selects", "raw", &r, 0, NULL);
  bench_report("postgresql", "short_selects", "uvsql", &u, r.seconds, NULL);

  die_if(pg_concurrent_selects(url, nconcurrent, 8, nrows, &r), "libpq concurrent_selects");
  die_if(uvsql_concurrent_selects(url, nconcurrent, 64, 8, nrows, &u), "uvsql concurrent_selects");
  bench_report("postgresql", "concurrent_selects", "raw", &r, 0, "\"note\":\"8 conns pipelined\"");
  double tps = pg_pgbench_tps(url, 8, 5);
  char extra[128] = "";
  if (tps > 0)
    snprintf(extra, sizeof extra, "\"pgbench_S_prepared_c8_tps\":%.0f,\"vs_pgbench\":%.3f", tps,
             ((double)u.rows / u.seconds) / tps);
  bench_report("postgresql", "concurrent_selects", "uvsql", &u, r.seconds, extra);
}

static void run_sqlite(const char *path) {
  bench_run_t u, r;
  char url[600];
  snprintf(url, sizeof url, "sqlite:///%s", path);
  die_if(sqlite_setup(path, nrows), "sqlite setup");

  die_if(sqlite_large_resultset(path, &r), "sqlite3 large_resultset");
  die_if(uvsql_large_resultset(url, &u), "uvsql large_resultset");
  check_same("large_resultset", &u, &r);
  bench_report("sqlite", "large_resultset", "raw", &r, 0, NULL);
  bench_report("sqlite", "large_resultset", "uvsql", &u, r.seconds, NULL);

  die_if(sqlite_short_selects(path, nlookups, nrows, &r), "sqlite3 short_selects");
  die_if(uvsql_short_selects(url, nlookups, nrows, &u), "uvsql short_selects");
  check_same("short_selects", &u, &r);
  bench_report("sqlite", "short_selects", "raw", &r, 0, NULL);
  bench_report("sqlite", "short_selects", "uvsql", &u, r.seconds, NULL);

  die_if(sqlite_short_selects(path, nconcurrent, nrows, &r), "sqlite3 concurrent_selects");
  die_if(uvsql_concurrent_selects(url, nconcurrent, 64, 8, nrows, &u), "uvsql concurrent_selects");
  bench_report("sqlite", "concurrent_selects", "raw", &r, 0,
               "\"note\":\"raw: one connection, sequential\"");
  bench_report("sqlite", "concurrent_selects", "uvsql", &u, r.seconds, NULL);
}

int main(int argc, char **argv) {
  const char *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
      only = argv[++i];
    else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc)
      nrows = atoll(argv[++i]);
    else if (strcmp(argv[i], "--lookups") == 0 && i + 1 < argc)
      nlookups = atoi(argv[++i]);
    else if (strcmp(argv[i], "--concurrent") == 0 && i + 1 < argc)
      nconcurrent = atoi(argv[++i]);
    else if (strcmp(argv[i], "--stream-rows") == 0 && i + 1 < argc)
      nstream = atoll(argv[++i]);
    else if (strcmp(argv[i], "--streaming-only") == 0)
      streaming_only = 1;
    else {
      fprintf(stderr,
              "usage: %s [--only pg|sqlite|mariadb] [--rows N] [--lookups N] [--concurrent N] "
              "[--stream-rows N] [--streaming-only]\n",
              argv[0]);
      return 2;
    }
  }
  const char *pg = getenv("UVSQL_BENCH_PG_URL");
  if (!pg || !*pg)
    pg = getenv("UVSQL_TEST_PG_URL");
  const char *sq = getenv("UVSQL_BENCH_SQLITE_PATH");
  if (!sq || !*sq)
    sq = "/tmp/uvsql-bench.db";
  const char *my = getenv("UVSQL_BENCH_MARIADB_URL");
  if (!my || !*my)
    my = getenv("UVSQL_TEST_MARIADB_URL");
  /* Streaming first: forked children inherit the parent's resident size, so it is measured
   * before the other workloads have grown it. */
  if ((!only || strcmp(only, "pg") == 0) && pg && *pg)
    run_streaming("postgresql", pg, pg, BENCH_STREAM_PG);
  if (!only || strcmp(only, "sqlite") == 0) {
    char url[600];
    snprintf(url, sizeof url, "sqlite:///%s", sq);
    run_streaming("sqlite", url, sq, BENCH_STREAM_SQLITE);
  }
  if (!only || strcmp(only, "mariadb") == 0) {
    if (my && *my)
      run_streaming("mariadb", my, my, BENCH_STREAM_MARIADB);
    else
      fprintf(stderr, "bench: mariadb skipped: set UVSQL_BENCH_MARIADB_URL\n");
  }
  if (streaming_only)
    return 0;
  if (!only || strcmp(only, "pg") == 0) {
    if (pg && *pg)
      run_pg(pg);
    else
      fprintf(stderr, "bench: postgresql skipped: set UVSQL_BENCH_PG_URL\n");
  }
  if (!only || strcmp(only, "sqlite") == 0)
    run_sqlite(sq);
  return 0;
}
