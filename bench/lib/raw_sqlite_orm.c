/* bench/lib/raw_sqlite_orm.c — the raw sqlite3 sides of the ORM workloads eager_load and
 * orm_bulk_insert (contract: bench.h), and their tables: prepared statements, stepped, the
 * same struct shapes and checksums as the libpq sides. Opening happens before the clock. */
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "raw_eager.h"
#include "raw_sqlite.h"

/* ------------------------------------------------------------------ eager_load */

int sqlite_eager_setup(const char *path, int nauthors, int nbooks) {
  sqlite3 *db = bench_sqlite_open(path);
  if (!db)
    return -1;
  char sql[1400];
  snprintf(sql, sizeof sql,
           "DROP TABLE IF EXISTS bench_eager_book; DROP TABLE IF EXISTS bench_eager_author;"
           "CREATE TABLE bench_eager_author (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);"
           "CREATE TABLE bench_eager_book (id INTEGER PRIMARY KEY, title VARCHAR(100) NOT NULL, "
           "author_id INTEGER REFERENCES bench_eager_author (id));"
           "BEGIN;"
           "WITH RECURSIVE g(a) AS (SELECT 1 UNION ALL SELECT a + 1 FROM g WHERE a < %d) "
           "INSERT INTO bench_eager_author (id, name) SELECT a, 'author ' || a FROM g;"
           "WITH RECURSIVE g(a) AS (SELECT 1 UNION ALL SELECT a + 1 FROM g WHERE a < %d), "
           "h(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM h WHERE k < %d) "
           "INSERT INTO bench_eager_book (id, title, author_id) "
           "SELECT (a - 1) * %d + k, 'book ' || a || '.' || k, a FROM g, h ORDER BY a, k;"
           "COMMIT;"
           "CREATE INDEX bench_eager_book_author_id ON bench_eager_book (author_id);"
           "ANALYZE;",
           nauthors, nauthors, nbooks, nbooks);
  int rc = bench_sqlite_exec(db, sql);
  sqlite3_close(db);
  return rc;
}

static raw_author_t *author_at(sqlite3_stmt *st, int col) {
  return raw_author_new(sqlite3_column_int64(st, col),
                        (const char *)sqlite3_column_text(st, col + 1),
                        (size_t)sqlite3_column_bytes(st, col + 1));
}

static raw_book_t *book_at(sqlite3_stmt *st, int col) {
  return raw_book_new(sqlite3_column_int64(st, col), (const char *)sqlite3_column_text(st, col + 1),
                      (size_t)sqlite3_column_bytes(st, col + 1), sqlite3_column_int64(st, col + 2));
}

typedef struct {
  sqlite3 *db;
  sqlite3_stmt *authors, *books_in, *joined;
} eager_t;

static int eager_open(eager_t *e, const char *path) {
  memset(e, 0, sizeof *e);
  if (!(e->db = bench_sqlite_open(path)))
    return -1;
  char *sql = malloc(160 + BENCH_EAGER_CHUNK * 8);
  size_t len = (size_t)sprintf(sql, "SELECT bench_eager_book.id, bench_eager_book.title, "
                                    "bench_eager_book.author_id FROM bench_eager_book WHERE "
                                    "bench_eager_book.author_id IN (");
  for (int i = 0; i < BENCH_EAGER_CHUNK; i++)
    len += (size_t)sprintf(sql + len, "%s?%d", i ? ", " : "", i + 1);
  sprintf(sql + len, ")");
  e->books_in = bench_sqlite_prepare(e->db, sql);
  free(sql);
  e->authors = bench_sqlite_prepare(e->db, "SELECT bench_eager_author.id, "
                                           "bench_eager_author.name FROM bench_eager_author "
                                           "ORDER BY bench_eager_author.id");
  e->joined = bench_sqlite_prepare(e->db, "SELECT a.id, a.name, b.id, b.title, b.author_id "
                                          "FROM bench_eager_author a LEFT OUTER JOIN "
                                          "bench_eager_book b ON b.author_id = a.id ORDER BY a.id");
  return e->books_in && e->authors && e->joined ? 0 : -1;
}

static void eager_close(eager_t *e) {
  sqlite3_finalize(e->authors);
  sqlite3_finalize(e->books_in);
  sqlite3_finalize(e->joined);
  sqlite3_close(e->db);
}

/* selectin: the authors, then their books by chunks of keys. */
static int selectin_once(void *ctx, bench_run_t *run) {
  eager_t *e = ctx;
  double t0 = bench_now();
  size_t n = 0, cap = 256;
  raw_author_t **as = malloc(cap * sizeof *as);
  int rc;
  while ((rc = sqlite3_step(e->authors)) == SQLITE_ROW) {
    if (n == cap)
      as = realloc(as, (cap *= 2) * sizeof *as);
    as[n++] = author_at(e->authors, 0);
  }
  sqlite3_reset(e->authors);
  if (rc != SQLITE_DONE)
    return -1;
  raw_amap_t map;
  raw_amap_init(&map, n);
  for (size_t i = 0; i < n; i++)
    raw_amap_put(&map, as[i]->id, as[i]);
  int64_t rows = (int64_t)n;
  for (size_t at = 0; at < n; at += BENCH_EAGER_CHUNK) {
    for (size_t k = 0; k < BENCH_EAGER_CHUNK; k++) /* a short last chunk repeats its last key */
      sqlite3_bind_int64(e->books_in, (int)k + 1, as[at + k < n ? at + k : n - 1]->id);
    while ((rc = sqlite3_step(e->books_in)) == SQLITE_ROW) {
      raw_book_t *b = book_at(e->books_in, 0);
      raw_author_push(raw_amap_get(&map, b->author_id), b);
      rows++;
    }
    sqlite3_reset(e->books_in);
    if (rc != SQLITE_DONE)
      return -1;
  }
  run->seconds = bench_now() - t0;
  run->rows = rows;
  run->checksum = raw_authors_checksum(as, n);
  raw_amap_free(&map);
  raw_authors_free(as, n);
  return 0;
}

/* joined: one LEFT OUTER JOIN ordered by author; a new author starts when the id changes. */
static int joined_once(void *ctx, bench_run_t *run) {
  eager_t *e = ctx;
  double t0 = bench_now();
  size_t n = 0, cap = 256;
  raw_author_t **as = malloc(cap * sizeof *as);
  int64_t books = 0;
  int rc;
  while ((rc = sqlite3_step(e->joined)) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(e->joined, 0);
    if (!n || as[n - 1]->id != id) {
      if (n == cap)
        as = realloc(as, (cap *= 2) * sizeof *as);
      as[n++] = author_at(e->joined, 0);
    }
    if (sqlite3_column_type(e->joined, 2) != SQLITE_NULL) {
      raw_author_push(as[n - 1], book_at(e->joined, 2));
      books++;
    }
  }
  sqlite3_reset(e->joined);
  if (rc != SQLITE_DONE)
    return -1;
  run->seconds = bench_now() - t0;
  run->rows = (int64_t)n + books;
  run->checksum = raw_authors_checksum(as, n);
  raw_authors_free(as, n);
  return 0;
}

/* A warm-up run, then the best of BENCH_EAGER_RUNS. */
static int eager(const char *path, bench_once_fn once, bench_run_t *out) {
  eager_t e;
  int rc = eager_open(&e, path) == 0 ? bench_best_of(BENCH_EAGER_RUNS, once, &e, out) : -1;
  if (rc != 0 && e.db)
    fprintf(stderr, "sqlite3 eager_load: %s\n", sqlite3_errmsg(e.db));
  eager_close(&e);
  return rc;
}

int sqlite_eager_selectin(const char *path, bench_run_t *out) {
  return eager(path, selectin_once, out);
}

int sqlite_eager_joined(const char *path, bench_run_t *out) {
  return eager(path, joined_once, out);
}

/* ------------------------------------------------------------------ orm_bulk_insert */

int sqlite_bulk_insert_setup(const char *path) {
  sqlite3 *db = bench_sqlite_open(path);
  if (!db)
    return -1;
  int rc = bench_sqlite_exec(db, "DROP TABLE IF EXISTS bench_orm_rows;"
                                 "CREATE TABLE bench_orm_rows (id INTEGER PRIMARY KEY, name "
                                 "VARCHAR(30) NOT NULL, fullname TEXT)");
  sqlite3_close(db);
  return rc;
}

static sqlite3_stmt *prepare_insert(sqlite3 *db, int rows) {
  char *sql = malloc(64 + (size_t)rows * 16);
  size_t len = (size_t)sprintf(sql, "INSERT INTO bench_orm_rows (name, fullname) VALUES ");
  for (int r = 0; r < rows; r++)
    len += (size_t)sprintf(sql + len, "%s(?%d, ?%d)", r ? ", " : "", 2 * r + 1, 2 * r + 2);
  sprintf(sql + len, " RETURNING id");
  sqlite3_stmt *st = bench_sqlite_prepare(db, sql);
  free(sql);
  return st;
}

/* One transaction of prepared multi-row INSERT ... RETURNING id (SQLite >= 3.35), the keys
 * written into the structs. Preparing is inside the clock, as uvsql's is. */
int sqlite_bulk_insert(const char *path, int n, bench_run_t *out) {
  sqlite3 *db = bench_sqlite_open(path);
  if (!db)
    return -1;
  enum { B = BENCH_INSERT_BATCH };
  bench_insert_row_t *rows = bench_insert_rows_new(n);
  sqlite3_stmt *full = NULL, *last = NULL;
  int rc = -1;
  double t0 = bench_now();
  if (bench_sqlite_exec(db, "BEGIN") != 0 || (n >= B && !(full = prepare_insert(db, B))) ||
      (n % B && !(last = prepare_insert(db, n % B))))
    goto done;
  for (int at = 0; at < n; at += B) {
    int m = n - at < B ? n - at : B;
    sqlite3_stmt *st = m == B ? full : last;
    for (int r = 0; r < m; r++) {
      sqlite3_bind_text(st, 2 * r + 1, rows[at + r].name, -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 2 * r + 2, rows[at + r].fullname, -1, SQLITE_STATIC);
    }
    int got = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW && got < m)
      rows[at + got++].id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (step != SQLITE_DONE || got != m) {
      fprintf(stderr, "sqlite3 insert: %s\n", sqlite3_errmsg(db));
      goto done;
    }
  }
  if (bench_sqlite_exec(db, "COMMIT") != 0)
    goto done;
  out->seconds = bench_now() - t0;
  out->rows = n;
  out->checksum = 0;
  for (int i = 0; i < n; i++)
    out->checksum += (double)rows[i].id;
  rc = 0;
done:
  sqlite3_finalize(full);
  sqlite3_finalize(last);
  bench_insert_rows_free(rows, n);
  sqlite3_close(db);
  return rc;
}
