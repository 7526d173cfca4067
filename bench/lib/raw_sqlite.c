/* bench/lib/raw_sqlite.c — the workloads done directly with sqlite3: one prepared statement,
 * step and read columns. */
#include "raw_sqlite.h"
#include <stdlib.h>
#include <string.h>
#include "bench.h"

sqlite3 *bench_sqlite_open(const char *path) {
  sqlite3 *db;
  if (sqlite3_open(path, &db) != SQLITE_OK) {
    fprintf(stderr, "sqlite3_open %s: %s\n", path, sqlite3_errmsg(db));
    sqlite3_close(db);
    return NULL;
  }
  return db;
}

int bench_sqlite_exec(sqlite3 *db, const char *sql) {
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
    return 0;
  fprintf(stderr, "sqlite3: %s: %s\n", sql, msg);
  sqlite3_free(msg);
  return -1;
}

sqlite3_stmt *bench_sqlite_prepare(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    fprintf(stderr, "sqlite3 prepare: %s\n", sqlite3_errmsg(db));
  return st;
}

int sqlite_setup(const char *path, int64_t nrows) {
  sqlite3 *db = bench_sqlite_open(path);
  if (!db)
    return -1;
  char sql[600];
  sqlite3_stmt *st;
  int64_t have = -1;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM " BENCH_TABLE, -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    have = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  int rc = 0;
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
    rc = bench_sqlite_exec(db, sql);
  }
  sqlite3_close(db);
  return rc;
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

static void fill_row(sqlite3_stmt *st, bench_raw_row_t *o) {
  o->id = sqlite3_column_int64(st, 0);
  o->name = strdup((const char *)sqlite3_column_text(st, 1));
  o->x = sqlite3_column_double(st, 2);
  o->ts = bench_sqlite_ts(sqlite3_column_text(st, 3), sqlite3_column_bytes(st, 3));
  o->flag = sqlite3_column_int(st, 4);
}

static int large_once(void *st, bench_run_t *run) {
  double t0 = bench_now();
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    read_row(st, run);
  sqlite3_reset(st);
  run->seconds = bench_now() - t0;
  return rc == SQLITE_DONE ? 0 : -1;
}

/* The rows into a growing malloc'd array of structs with strdup'd names; the checksum is read
 * from the structs; they are freed after the clock stops. */
static int orm_large_once(void *st, bench_run_t *run) {
  size_t n = 0, cap = 1024;
  double t0 = bench_now();
  bench_raw_row_t *rows = malloc(cap * sizeof *rows);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == cap)
      rows = realloc(rows, (cap *= 2) * sizeof *rows);
    fill_row(st, &rows[n++]);
  }
  sqlite3_reset(st);
  bench_raw_rows_sum(rows, n, run);
  run->seconds = bench_now() - t0;
  bench_raw_rows_free(rows, n);
  return rc == SQLITE_DONE ? 0 : -1;
}

typedef struct {
  sqlite3 *db;
  sqlite3_stmt *st;
  bench_raw_row_t o; /* orm_get's one struct */
} stmt_t;

static int stmt_open(stmt_t *s, const char *path, const char *sql) {
  memset(s, 0, sizeof *s);
  if (!(s->db = bench_sqlite_open(path)))
    return -1;
  return (s->st = bench_sqlite_prepare(s->db, sql)) ? 0 : -1;
}

static void stmt_close(stmt_t *s) {
  free(s->o.name);
  sqlite3_finalize(s->st);
  sqlite3_close(s->db);
}

/* once on BENCH_SELECT_ALL, the best of 3 after a warm-up. */
static int best_of_all(const char *path, bench_once_fn once, bench_run_t *out) {
  stmt_t s;
  int rc = stmt_open(&s, path, BENCH_SELECT_ALL) == 0 ? bench_best_of(3, once, s.st, out) : -1;
  stmt_close(&s);
  return rc;
}

int sqlite_large_resultset(const char *path, bench_run_t *out) {
  return best_of_all(path, large_once, out);
}

int sqlite_orm_large_resultset(const char *path, bench_run_t *out) {
  return best_of_all(path, orm_large_once, out);
}

static int short_one(void *ctx, int64_t key, bench_run_t *run) {
  sqlite3_stmt *st = ((stmt_t *)ctx)->st;
  sqlite3_bind_int64(st, 1, key);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    read_row(st, run);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? 0 : -1;
}

/* orm_get's raw side: the prepared lookup filling one struct (its name replaced each time). */
static int get_one(void *ctx, int64_t key, bench_run_t *run) {
  stmt_t *s = ctx;
  sqlite3_bind_int64(s->st, 1, key);
  if (sqlite3_step(s->st) != SQLITE_ROW)
    return -1;
  free(s->o.name);
  fill_row(s->st, &s->o);
  sqlite3_reset(s->st);
  bench_raw_rows_sum(&s->o, 1, run);
  return 0;
}

static int lookups(const char *path, int n, int64_t nkeys, bench_lookup_fn one, bench_run_t *out) {
  stmt_t s;
  int rc = stmt_open(&s, path, "SELECT id, name, x, ts, flag FROM " BENCH_TABLE " WHERE id = ?1");
  if (rc == 0)
    rc = bench_lookups(n, nkeys, one, &s, out);
  stmt_close(&s);
  return rc;
}

int sqlite_short_selects(const char *path, int n, int64_t nkeys, bench_run_t *out) {
  return lookups(path, n, nkeys, short_one, out);
}

int sqlite_get_lookups(const char *path, int n, int64_t nkeys, bench_run_t *out) {
  return lookups(path, n, nkeys, get_one, out);
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
