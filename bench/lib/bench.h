/* bench/lib/bench.h — shared pieces of the benchmark programs: timing, JSON output, and the
 * workloads of each side (uvsql, raw libpq, raw sqlite3). Every workload returns the number
 * of rows it touched and a checksum, so both sides provably did the same work. */
#ifndef UVSQL_BENCH_H
#define UVSQL_BENCH_H

#include <stdint.h>
#include <stdio.h>

#define BENCH_TABLE "bench_rows"

typedef struct {
  double seconds;
  int64_t rows;
  double checksum; /* sum of id + x + flag + len(name) over the rows read */
} bench_run_t;

double bench_now(void); /* monotonic seconds */
long bench_peak_rss_kb(void);
/* Prints one JSON line; ratio is uvsql/raw when raw_seconds > 0, else omitted. */
void bench_report(const char *backend, const char *workload, const char *side,
                  const bench_run_t *run, double raw_seconds, const char *extra_json);

/* The same query text on every side; :id is the lookup key. */
#define BENCH_SELECT_ALL "SELECT id, name, x, ts, flag FROM " BENCH_TABLE
#define BENCH_SELECT_ONE "SELECT id, name, x, ts, flag FROM " BENCH_TABLE " WHERE id = :id"

/* uvsql side (bench/lib/uvsql_side.c), for any URL. */
int uvsql_large_resultset(const char *url, bench_run_t *out);
int uvsql_short_selects(const char *url, int n, int64_t nkeys, bench_run_t *out);
int uvsql_concurrent_selects(const char *url, int n, int callers, int pool, int64_t nkeys,
                             bench_run_t *out);

/* libpq side (bench/lib/raw_pg.c). conninfo is a libpq URI. */
int pg_setup(const char *conninfo, int64_t nrows);
int pg_large_resultset(const char *conninfo, bench_run_t *out);
int pg_short_selects(const char *conninfo, int n, int64_t nkeys, bench_run_t *out);
int pg_concurrent_selects(const char *conninfo, int n, int conns, int64_t nkeys, bench_run_t *out);
/* tps of `pgbench -S -M prepared -c 8` for a few seconds, or -1 if pgbench is missing. */
double pg_pgbench_tps(const char *conninfo, int clients, int seconds);

/* sqlite3 side (bench/lib/raw_sqlite.c). path is a file name. */
int sqlite_setup(const char *path, int64_t nrows);
int sqlite_large_resultset(const char *path, bench_run_t *out);
int sqlite_short_selects(const char *path, int n, int64_t nkeys, bench_run_t *out);

#endif
