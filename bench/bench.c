/* bench/bench.c — runs each workload through uvsql and through the raw client library in the
 * same run, and prints one JSON line per (backend, workload, side) with the ratio uvsql/raw.
 *
 *   bench_bench [--only pg|sqlite] [--rows N] [--lookups N] [--concurrent N]
 *
 * PostgreSQL: UVSQL_BENCH_PG_URL, else UVSQL_TEST_PG_URL (skipped when neither is set).
 * SQLite: a file at UVSQL_BENCH_SQLITE_PATH, default /tmp/uvsql-bench.db. The data is made on
 * first use and kept for later runs. See bench/README.md. */
#include <stdlib.h>
#include <string.h>
#include "bench.h"

static int64_t nrows = 500000;
static int nlookups = 10000, nconcurrent = 20000;

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
    else {
      fprintf(stderr, "usage: %s [--only pg|sqlite] [--rows N] [--lookups N] [--concurrent N]\n",
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
