/* bench/lib/raw_sqlite.c — the workloads done directly with sqlite3: one prepared statement,
 * step and read columns. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

static sqlite3 *sq_open(const char *path) {
  sqlite3 *db;
  if (sqlite3_open(path, &db) != SQLITE_OK) {
    fprintf(stderr, "sqlite3_open %s: %s\n", path, sqlite3_errmsg(db));
    return NULL;
  }
  return db;
}

int sqlite_setup(const char *path, int64_t nrows) {
  sqlite3 *db = sq_open(path);
  if (!db)
    return -1;
  char sql[600];
  sqlite3_stmt *st;
  int64_t have = -1;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM " BENCH_TABLE, -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    have = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  int rc = SQLITE_OK;
  if (have != nrows) {
    snprintf(sql, sizeof sql,
             "DROP TABLE IF EXISTS " BENCH_TABLE ";"
             "CREATE TABLE " BENCH_TABLE " (id INTEGER PRIMARY KEY, name TEXT, x DOUBLE, "
             "ts TIMESTAMPTZ, flag BOOLEAN);"
             "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < %lld) "
             "INSERT INTO " BENCH_TABLE " SELECT i, 'name-' || i, i * 0.5, "
             "strftime('%%Y-%%m-%%d %%H:%%M:%%f', 1704067200 + i, 'unixepoch'), i %% 2 = 0 "
             "FROM g;",
             (long long)nrows);
    char *msg = NULL;
    rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
      fprintf(stderr, "sqlite setup: %s\n", msg);
    sqlite3_free(msg);
  }
  sqlite3_close(db);
  return rc == SQLITE_OK ? 0 : -1;
}

static unsigned digits(const unsigned char *p, int n) {
  unsigned v = 0;
  for (int i = 0; i < n; i++)
    v = v * 10 + (unsigned)(p[i] - '0');
  return v;
}

/* The stored format exactly: 'YYYY-MM-DD HH:MM:SS.SSS' (UTC) -> µs since the epoch; 0
 * for anything else (the checksums then disagree). */
int64_t bench_sqlite_ts(const unsigned char *p, int len) {
  if (!p || len != 23 || p[4] != '-' || p[7] != '-' || p[10] != ' ' || p[13] != ':' ||
      p[16] != ':' || p[19] != '.')
    return 0;
  int64_t days = bench_days_from_civil(digits(p, 4), digits(p + 5, 2), digits(p + 8, 2));
  int64_t s = days * 86400 + digits(p + 11, 2) * 3600 + digits(p + 14, 2) * 60 + digits(p + 17, 2);
  return s * 1000000 + digits(p + 20, 3) * 1000;
}

static void read_row(sqlite3_stmt *st, bench_run_t *run) {
  int64_t id = sqlite3_column_int64(st, 0);
  const unsigned char *name = sqlite3_column_text(st, 1);
  int len = sqlite3_column_bytes(st, 1);
  double x = sqlite3_column_double(st, 2);
  int64_t ts = bench_sqlite_ts(sqlite3_column_text(st, 3), sqlite3_column_bytes(st, 3));
  int flag = sqlite3_column_int(st, 4);
  (void)name;
  run->checksum += BENCH_ROW_SUM(id, x, flag, len, ts);
  run->rows++;
}

int sqlite_large_resultset(const char *path, bench_run_t *out) {
  sqlite3 *db = sq_open(path);
  sqlite3_stmt *st;
  if (!db || sqlite3_prepare_v2(db, BENCH_SELECT_ALL, -1, &st, NULL) != SQLITE_OK)
    return -1;
  double best = 1e9;
  bench_run_t run = {0};
  for (int rep = 0; rep < 4; rep++) {
    memset(&run, 0, sizeof run);
    double t0 = bench_now();
    while (sqlite3_step(st) == SQLITE_ROW)
      read_row(st, &run);
    sqlite3_reset(st);
    run.seconds = bench_now() - t0;
    if (rep > 0 && run.seconds < best)
      best = run.seconds;
  }
  run.seconds = best;
  *out = run;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return 0;
}

int sqlite_short_selects(const char *path, int n, int64_t nkeys, bench_run_t *out) {
  sqlite3 *db = sq_open(path);
  sqlite3_stmt *st;
  if (!db ||
      sqlite3_prepare_v2(db, "SELECT id, name, x, ts, flag FROM " BENCH_TABLE " WHERE id = ?1", -1,
                         &st, NULL) != SQLITE_OK)
    return -1;
  bench_run_t run = {0};
  double t0 = bench_now();
  for (int i = 0; i < n; i++) {
    sqlite3_bind_int64(st, 1, 1 + (int64_t)((i + 100) * 7919) % nkeys);
    while (sqlite3_step(st) == SQLITE_ROW)
      read_row(st, &run);
    sqlite3_reset(st);
  }
  run.seconds = bench_now() - t0;
  *out = run;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return 0;
}

/* ------------------------------------------------------------------ streaming */

int sqlite_streaming(const char *path, const char *sql, bench_run_t *out) {
  sqlite3 *db;
  sqlite3_stmt *st;
  if (sqlite3_open(path, &db) != SQLITE_OK)
    return -1;
  memset(out, 0, sizeof *out);
  double t0 = bench_now();
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "sqlite3 streaming: %s\n", sqlite3_errmsg(db));
    sqlite3_close(db);
    return -1;
  }
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    out->checksum += (double)sqlite3_column_int64(st, 0) + sqlite3_column_double(st, 1);
    out->rows++;
  }
  out->seconds = bench_now() - t0;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rc == SQLITE_DONE ? 0 : -1;
}
