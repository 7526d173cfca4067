/* bench/lib/bench.h — shared pieces of the benchmark program: timing, JSON output, and the
 * workloads of each side (uvsql, raw libpq, raw sqlite3; raw Connector/C in raw_mariadb.h).
 * Every workload returns the number of rows it touched and a checksum, so both sides provably
 * did the same work: main stops with an error when they disagree.
 *
 * ============================================================ THE CONTRACT (every side)
 *
 * --- bench_rows: the large_resultset / orm_large_resultset / short_selects / orm_get /
 *     concurrent_selects table. N rows (default 500,000), g = 1..N:
 *       id = g, name = 'name-' || g, x = g * 0.5, ts = 2024-01-01 00:00:00 UTC + g seconds,
 *       flag = (g % 2 = 0)
 *   PostgreSQL: CREATE TABLE bench_rows (id bigint PRIMARY KEY, name text,
 *                 x double precision, ts timestamptz, flag boolean)
 *   SQLite:     CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, name TEXT, x DOUBLE,
 *                 ts TIMESTAMPTZ, flag BOOLEAN)
 *               ts stored as text 'YYYY-MM-DD HH:MM:SS.SSS' (strftime %f), UTC
 *   MariaDB:    CREATE TABLE bench_rows (id BIGINT PRIMARY KEY, name TEXT, x DOUBLE,
 *                 ts DATETIME(6), flag BOOLEAN)
 *               ts = '2024-01-01 00:00:00' + INTERVAL g SECOND, read as UTC
 *   Setup keeps an existing table when it already has N rows.
 *
 * --- row checksum (BENCH_ROW_SUM): per row read,
 *       id + x + flag + strlen(name) + (ts_us - BENCH_TS_BASE_US) / 1e6
 *   where ts_us is the timestamp as microseconds since 1970-01-01 00:00:00 UTC, which every
 *   side must compute (libpq binary: int64 µs since 2000-01-01 + 946684800000000; SQLite: parse
 *   the text; MariaDB: MYSQL_TIME -> days-from-civil). flag is 0 or 1. A run's checksum is the
 *   sum over all rows it read; rows is the number of rows read.
 *
 * --- large_resultset: BENCH_SELECT_ALL fetched whole, every cell read (Core). Warm-up run,
 *   then best of 3 (seconds of the best; rows and checksum of one run).
 * --- orm_large_resultset: the same rows as objects. uvsql: an AsyncSession query of the
 *   bench_row model (bench_row_t below). Raw: the library fetch filling a malloc'd array of
 *   bench_raw_row_t with strdup'd names (freed after the clock stops); checksum computed from
 *   the structs. Warm-up, then best of 3.
 * --- short_selects: n lookups (default 10,000) one after another on one connection,
 *   BENCH_SELECT_ONE with key(i) = BENCH_KEY(i, nkeys), i = 0..n-1; 100 warm-up lookups
 *   (keys not counted) before the clock. Raw: prepared statement. Checksum as above.
 * --- orm_get: the same n keys as short_selects. uvsql: uvsql_session_get_int on the
 *   bench_row mapper, a fresh session every BENCH_GET_SESSION (1,000) gets. Raw: the prepared
 *   lookup filling one bench_raw_row_t (previous name freed, new one strdup'd); checksum from
 *   the struct after each lookup.
 * --- concurrent_selects: n lookups (default 20,000) spread over conns connections (raw) /
 *   64 callers on a pool of 8 (uvsql). Keys differ between the sides: only rows (n rounded
 *   down to a multiple of conns / callers) is reported; checksums are not compared.
 *
 * --- eager_load: nauthors (2,000) authors x nbooks (10) books each.
 *   PostgreSQL: CREATE TABLE bench_eager_author (id bigserial PRIMARY KEY,
 *                 name varchar(50) NOT NULL)
 *               CREATE TABLE bench_eager_book (id bigserial PRIMARY KEY,
 *                 title varchar(100) NOT NULL, author_id bigint REFERENCES bench_eager_author (id))
 *               CREATE INDEX ON bench_eager_book (author_id)
 *   SQLite:     id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL / id INTEGER PRIMARY KEY,
 *               title VARCHAR(100) NOT NULL, author_id INTEGER REFERENCES bench_eager_author (id),
 *               index on author_id
 *   MariaDB:    id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL /
 *               id BIGINT AUTO_INCREMENT PRIMARY KEY, title VARCHAR(100) NOT NULL,
 *               author_id BIGINT, FOREIGN KEY (author_id) REFERENCES bench_eager_author (id),
 *               INDEX (author_id)
 *   Data: author a = 1..A: id a, name 'author ' || a; book (a, k), k = 1..B, inserted in
 *   order of a then k: id (a-1)*B + k, title 'book ' || a || '.' || k, author_id a.
 *   Setup drops and recreates both tables.
 *   selectin: the authors ORDER BY id, then their books by author_id IN (chunks of
 *   BENCH_EAGER_CHUNK keys). joined: one authors LEFT OUTER JOIN books ORDER BY author id.
 *   Both fill structs (bench/lib/raw_eager.h: malloc'd authors and books, strdup'd strings,
 *   a growable array of book pointers per author). Connect/prepare before the clock; the
 *   function reports the best of BENCH_EAGER_RUNS (5) runs.
 *   rows = A * (1 + B); checksum = sum over authors of (id + sum over its books of
 *   (book id + strlen(title))).
 *
 * --- orm_bulk_insert: n (100,000) new rows into bench_orm_rows.
 *   PostgreSQL: CREATE TABLE bench_orm_rows (id bigserial PRIMARY KEY,
 *                 name varchar(30) NOT NULL, fullname text)
 *   SQLite:     (id INTEGER PRIMARY KEY, name VARCHAR(30) NOT NULL, fullname TEXT)
 *   MariaDB:    (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(30) NOT NULL,
 *                 fullname TEXT)
 *   *_bulk_insert_setup drops and recreates the table (so keys start at 1); main calls it
 *   before EVERY run of either side. Row i = 0..n-1: name 'user' || i, fullname 'Full Name',
 *   built in memory before the clock. The clock covers BEGIN .. COMMIT: multi-row INSERTs of
 *   BENCH_INSERT_BATCH (1,000) rows (RETURNING id where the backend has it), every generated
 *   key written into its struct. One run per call; main keeps the best of BENCH_INSERT_RUNS.
 *   rows = n; checksum = sum of the keys written back (= n (n + 1) / 2).
 *
 * --- executemany: n (--insert-rows, 100,000) rows into bench_many, one statement with n
 *   parameter sets. Row i = 0..n-1: id i + 1, name 'user' || i, x i * 0.5.
 *   PostgreSQL: CREATE TABLE bench_many (id bigint PRIMARY KEY, name varchar(30),
 *                 x double precision)   (SQLite: id INTEGER PRIMARY KEY; MariaDB: BIGINT)
 *   *_many_setup drops and recreates the table; main calls it before EVERY run of either side,
 *   and alternates the sides (raw, uvsql, raw, uvsql, ...). Parameters are built before the
 *   clock; the clock covers preparing and running: uvsql_engine_execute_many (its connection
 *   opened before the clock); raw libpq: one pipeline (Parse, n Bind/Execute, one Sync); raw
 *   sqlite3: BEGIN, one prepared INSERT bound/stepped/reset per row, COMMIT; raw Connector/C:
 *   one bulk execution (array binding). rows = rows affected; checksum = rows.
 *
 * --- streaming: see BENCH_STREAM_* below (checksum = sum of x + y). */
#ifndef UVSQL_BENCH_H
#define UVSQL_BENCH_H

#include <stdint.h>
#include <stdio.h>

#define BENCH_TABLE "bench_rows"

typedef struct {
  double seconds;
  int64_t rows;
  double checksum; /* see the contract above */
} bench_run_t;

/* 2024-01-01 00:00:00 UTC in µs since the epoch. */
#define BENCH_TS_BASE_US INT64_C(1704067200000000)
#define BENCH_ROW_SUM(id, x, flag, namelen, ts_us)                                                 \
  ((double)(id) + (x) + (double)(flag) + (double)(namelen) +                                       \
   (double)((ts_us)-BENCH_TS_BASE_US) / 1e6)
/* The i-th lookup key of short_selects / orm_get (i = -100..-1 are the warm-up keys). */
#define BENCH_KEY(i, nkeys) (1 + (int64_t)(((i) + 100) * 7919) % (nkeys))
#define BENCH_GET_SESSION   1000
#define BENCH_EAGER_CHUNK   500
#define BENCH_EAGER_RUNS    5
#define BENCH_INSERT_BATCH  1000
#define BENCH_INSERT_RUNS   3

/* The object shape of orm_large_resultset / orm_get on the raw sides. */
typedef struct {
  int64_t id;
  char *name; /* strdup'd */
  double x;
  int64_t ts; /* µs since the epoch, UTC */
  int flag;
} bench_raw_row_t;

/* The object shape of orm_bulk_insert on the raw sides. */
typedef struct {
  int64_t id; /* written back */
  char *name;
  char *fullname;
} bench_insert_row_t;

double bench_now(void); /* monotonic seconds */
long bench_peak_rss_kb(void);
/* Prints one JSON line; ratio is uvsql/raw when raw_seconds > 0, else omitted. */
void bench_report(const char *backend, const char *workload, const char *side,
                  const bench_run_t *run, double raw_seconds, const char *extra_json);
/* One measured run of a workload on ctx: fills run (zeroed before), seconds included. */
typedef int (*bench_once_fn)(void *ctx, bench_run_t *run);
/* once(ctx) for a warm-up, then reps times; *out = the fastest counted run. 0, or once's -1.
 * bench_reps > 0 replaces every caller's reps (bench.c sets 1: it alternates the sides itself,
 * one measured run per side per round, so each round's figure is one run, not a best-of). */
extern int bench_reps;
int bench_best_of(int reps, bench_once_fn once, void *ctx, bench_run_t *out);
/* One lookup of key on ctx, added to run (rows, checksum). */
typedef int (*bench_lookup_fn)(void *ctx, int64_t key, bench_run_t *run);
/* The short_selects / orm_get loop: 100 warm-up lookups, then keys BENCH_KEY(0..n-1) timed. */
int bench_lookups(int n, int64_t nkeys, bench_lookup_fn one, void *ctx, bench_run_t *out);
/* Adds the row checksum of n structs to run (and n to its rows); _free frees their names
 * and the array. */
void bench_raw_rows_sum(const bench_raw_row_t *rows, size_t n, bench_run_t *run);
void bench_raw_rows_free(bench_raw_row_t *rows, size_t n);
/* n rows of orm_bulk_insert (name 'user<i>', fullname 'Full Name'), and their release. */
bench_insert_row_t *bench_insert_rows_new(int n);
void bench_insert_rows_free(bench_insert_row_t *rows, int n);
/* Days from 1970-01-01 to the civil date y-m-d (proleptic Gregorian). */
int64_t bench_days_from_civil(int64_t y, unsigned m, unsigned d);

/* The same query text on every side; :id is the lookup key. */
#define BENCH_SELECT_ALL "SELECT id, name, x, ts, flag FROM " BENCH_TABLE
#define BENCH_SELECT_ONE "SELECT id, name, x, ts, flag FROM " BENCH_TABLE " WHERE id = :id"

/* large_resultset_numeric_uuid (bench/lib/numeric_uuid.c, PostgreSQL only): both sides,
 * alternated reps times after a warm-up of each; the best run of each side. 0 or -1. */
int bench_pg_numeric_uuid(const char *conninfo, const char *url, int64_t nrows, int reps,
                          bench_run_t *raw, bench_run_t *uv);

/* uvsql Core side (bench/lib/uvsql_side.c), for any URL. */
int uvsql_large_resultset(const char *url, bench_run_t *out);
int uvsql_short_selects(const char *url, int n, int64_t nkeys, bench_run_t *out);
int uvsql_concurrent_selects(const char *url, int n, int callers, int pool, int64_t nkeys,
                             bench_run_t *out);

/* uvsql ORM side (bench/lib/uvsql_orm.c), for any URL; the tables must exist. */
int uvsql_orm_large_resultset(const char *url, bench_run_t *out);
int uvsql_orm_get(const char *url, int n, int64_t nkeys, bench_run_t *out);
int uvsql_eager_selectin(const char *url, bench_run_t *out);
int uvsql_eager_joined(const char *url, bench_run_t *out);
int uvsql_bulk_insert(const char *url, int n, bench_run_t *out);

/* executemany (bench/lib/many.c; MariaDB's raw side in raw_mariadb.c). */
#define BENCH_MANY_INSERT "INSERT INTO bench_many (id, name, x) VALUES (:id, :name, :x)"
char (*bench_many_names_new(int n))[16]; /* 'user<i>', i = 0..n-1; free() */
int uvsql_many(const char *url, int n, bench_run_t *out);
int pg_many_setup(const char *conninfo);
int pg_many(const char *conninfo, int n, bench_run_t *out);
int sqlite_many_setup(const char *path);
int sqlite_many(const char *path, int n, bench_run_t *out);
int mariadb_many_setup(const char *url);
int mariadb_many(const char *url, int n, bench_run_t *out);

/* libpq side (bench/lib/raw_pg.c, raw_pg_orm.c). conninfo is a libpq URI. */
int pg_setup(const char *conninfo, int64_t nrows);
int pg_large_resultset(const char *conninfo, bench_run_t *out);
int pg_orm_large_resultset(const char *conninfo, bench_run_t *out);
int pg_short_selects(const char *conninfo, int n, int64_t nkeys, bench_run_t *out);
int pg_get_lookups(const char *conninfo, int n, int64_t nkeys, bench_run_t *out);
int pg_concurrent_selects(const char *conninfo, int n, int conns, int64_t nkeys, bench_run_t *out);
int pg_eager_setup(const char *conninfo, int nauthors, int nbooks);
int pg_eager_selectin(const char *conninfo, bench_run_t *out);
int pg_eager_joined(const char *conninfo, bench_run_t *out);
int pg_bulk_insert_setup(const char *conninfo);
int pg_bulk_insert(const char *conninfo, int n, bench_run_t *out);
/* copy_in (bench/lib/copy_in.c): the bench_copy table, raw binary COPY, and uvsql's
 * copy_in (use_insert: its multi-row INSERT path); conninfo reads the checksum back. */
int pg_copy_setup(const char *conninfo);
int pg_copy_in(const char *conninfo, int n, bench_run_t *out);
int uvsql_copy_in_bench(const char *url, const char *conninfo, int n, int use_insert,
                        bench_run_t *out);
/* tps of `pgbench -S -M prepared -c 8` for a few seconds, or -1 if pgbench is missing. */
double pg_pgbench_tps(const char *conninfo, int clients, int seconds);

/* sqlite3 side (bench/lib/raw_sqlite.c, raw_sqlite_orm.c). path is a file name. */
int sqlite_setup(const char *path, int64_t nrows);
int sqlite_large_resultset(const char *path, bench_run_t *out);
int sqlite_orm_large_resultset(const char *path, bench_run_t *out);
int sqlite_short_selects(const char *path, int n, int64_t nkeys, bench_run_t *out);
int sqlite_get_lookups(const char *path, int n, int64_t nkeys, bench_run_t *out);
/* 'YYYY-MM-DD HH:MM:SS.SSS' (the stored ts) -> µs since the epoch, UTC; 0 if not that shape. */
int64_t bench_sqlite_ts(const unsigned char *text, int len);
int sqlite_eager_setup(const char *path, int nauthors, int nbooks);
int sqlite_eager_selectin(const char *path, bench_run_t *out);
int sqlite_eager_joined(const char *path, bench_run_t *out);
int sqlite_bulk_insert_setup(const char *path);
int sqlite_bulk_insert(const char *path, int n, bench_run_t *out);

/* ------------------------------------------------------------------ streaming
 * N rows of (bigint x = 1..N, double y = x / 2) generated by the server, streamed in batches:
 * checksum = sum of x + y. Memory must not depend on N. */
#define BENCH_STREAM_PG                                                                            \
  "SELECT x, x * 0.5::float8 AS y FROM (SELECT generate_series(1, %lld)::bigint AS x) s"
#define BENCH_STREAM_SQLITE                                                                        \
  "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < %lld) "                \
  "SELECT x, x * 0.5 AS y FROM s"
#define BENCH_STREAM_MARIADB "SELECT seq AS x, seq * 0.5e0 AS y FROM seq_1_to_%lld"
#define BENCH_STREAM_BATCH   1000

/* Runs fn(arg, out) in a forked child, so that out->peak_rss_kb (the child's ru_maxrss) is
 * this run's own peak, not the process's; returns fn's result. */
typedef int (*bench_fn)(const void *arg, bench_run_t *out);
int bench_in_child(bench_fn fn, const void *arg, bench_run_t *out, long *peak_rss_kb);

/* uvsql side: uvsql_engine_stream of sql (already formatted) in batches of batch_rows. */
int uvsql_streaming(const char *url, const char *sql, size_t batch_rows, bench_run_t *out);
/* libpq single-row mode (text results, parsed as uvsql does). */
int pg_streaming(const char *conninfo, const char *sql, bench_run_t *out);
/* sqlite3_step over the statement. */
int sqlite_streaming(const char *path, const char *sql, bench_run_t *out);
/* Connector/C: prepared statement, mysql_stmt_fetch without mysql_stmt_store_result
 * (bench/lib/raw_mariadb.c). url is a mariadb:// URL. */
int mariadb_streaming(const char *url, const char *sql, bench_run_t *out);

#endif
