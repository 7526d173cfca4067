/* bench/lib/raw_pg_orm.c — the raw libpq sides of the ORM workloads eager_load and
 * orm_bulk_insert (contract: bench.h), and their tables. As fast as libpq allows: prepared
 * statements, binary results, pipeline mode. Connecting happens before the clock. */
#include <arpa/inet.h>
#include <stdlib.h>
#include "bench.h"
#include "raw_eager.h"
#include "raw_pg.h"

/* ------------------------------------------------------------------ eager_load */

int pg_eager_setup(const char *conninfo, int nauthors, int nbooks) {
  PGconn *c = bench_pg_open(conninfo);
  if (!c)
    return -1;
  char authors[256], books[400];
  snprintf(authors, sizeof authors,
           "INSERT INTO bench_eager_author (name) SELECT 'author ' || g FROM "
           "generate_series(1, %d) g",
           nauthors);
  snprintf(books, sizeof books,
           "INSERT INTO bench_eager_book (title, author_id) SELECT 'book ' || a || '.' || k, a "
           "FROM generate_series(1, %d) a, generate_series(1, %d) k ORDER BY a, k",
           nauthors, nbooks);
  int rc = bench_pg_exec(c, "DROP TABLE IF EXISTS bench_eager_book") ||
           bench_pg_exec(c, "DROP TABLE IF EXISTS bench_eager_author") ||
           bench_pg_exec(c, "CREATE TABLE bench_eager_author (id bigserial PRIMARY KEY, "
                            "name varchar(50) NOT NULL)") ||
           bench_pg_exec(c, "CREATE TABLE bench_eager_book (id bigserial PRIMARY KEY, title "
                            "varchar(100) NOT NULL, author_id bigint REFERENCES "
                            "bench_eager_author (id))") ||
           bench_pg_exec(c, authors) || bench_pg_exec(c, books) ||
           bench_pg_exec(c, "CREATE INDEX ON bench_eager_book (author_id)") ||
           bench_pg_exec(c, "ANALYZE bench_eager_author") ||
           bench_pg_exec(c, "ANALYZE bench_eager_book");
  PQfinish(c);
  return rc ? -1 : 0;
}

static raw_author_t *author_at(const PGresult *r, int row, int col) {
  return raw_author_new((int64_t)bench_be64(PQgetvalue(r, row, col)), PQgetvalue(r, row, col + 1),
                        (size_t)PQgetlength(r, row, col + 1));
}

static raw_book_t *book_at(const PGresult *r, int row, int col) {
  return raw_book_new((int64_t)bench_be64(PQgetvalue(r, row, col)), PQgetvalue(r, row, col + 1),
                      (size_t)PQgetlength(r, row, col + 1),
                      (int64_t)bench_be64(PQgetvalue(r, row, col + 2)));
}

static int prepare_eager(PGconn *c) {
  char *sql = malloc(160 + BENCH_EAGER_CHUNK * 8);
  size_t len = (size_t)sprintf(sql, "SELECT bench_eager_book.id, bench_eager_book.title, "
                                    "bench_eager_book.author_id FROM bench_eager_book WHERE "
                                    "bench_eager_book.author_id IN (");
  for (int i = 0; i < BENCH_EAGER_CHUNK; i++)
    len += (size_t)sprintf(sql + len, "%s$%d", i ? ", " : "", i + 1);
  sprintf(sql + len, ")");
  int rc = bench_pg_prepare(c, "books_in", sql, 0, NULL) ||
           bench_pg_prepare(c, "authors",
                            "SELECT bench_eager_author.id, bench_eager_author.name FROM "
                            "bench_eager_author ORDER BY bench_eager_author.id",
                            0, NULL) ||
           bench_pg_prepare(c, "joined",
                            "SELECT a.id, a.name, b.id, b.title, b.author_id FROM "
                            "bench_eager_author a LEFT OUTER JOIN bench_eager_book b ON "
                            "b.author_id = a.id ORDER BY a.id",
                            0, NULL);
  free(sql);
  return rc ? -1 : 0;
}

/* selectin: the authors, then their books by chunks of keys, the chunks pipelined. */
static int selectin_once(void *c, bench_run_t *run) {
  double t0 = bench_now();
  PGresult *r = PQexecPrepared(c, "authors", 0, NULL, NULL, NULL, 1);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    fprintf(stderr, "authors: %s", PQresultErrorMessage(r));
    return -1;
  }
  int n = PQntuples(r);
  raw_author_t **as = malloc((size_t)(n ? n : 1) * sizeof *as);
  raw_amap_t map;
  raw_amap_init(&map, (size_t)n);
  for (int i = 0; i < n; i++) {
    as[i] = author_at(r, i, 0);
    raw_amap_put(&map, as[i]->id, as[i]);
  }
  PQclear(r);
  int64_t rows = n;
  if (!PQenterPipelineMode(c))
    return -1;
  int nchunks = (n + BENCH_EAGER_CHUNK - 1) / BENCH_EAGER_CHUNK;
  int64_t keys[BENCH_EAGER_CHUNK];
  const char *vals[BENCH_EAGER_CHUNK];
  int lens[BENCH_EAGER_CHUNK], fmts[BENCH_EAGER_CHUNK];
  for (int ch = 0; ch < nchunks; ch++) {
    for (int k = 0; k < BENCH_EAGER_CHUNK; k++) { /* a short last chunk repeats its last key */
      int at = ch * BENCH_EAGER_CHUNK + k < n ? ch * BENCH_EAGER_CHUNK + k : n - 1;
      keys[k] = (int64_t)htobe64((uint64_t)as[at]->id);
      vals[k] = (const char *)&keys[k];
      lens[k] = 8;
      fmts[k] = 1;
    }
    if (!PQsendQueryPrepared(c, "books_in", BENCH_EAGER_CHUNK, vals, lens, fmts, 1))
      return -1;
  }
  PQpipelineSync(c);
  for (int ch = 0; ch < nchunks; ch++) {
    r = PQgetResult(c);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      fprintf(stderr, "books: %s", PQresultErrorMessage(r));
      PQclear(r);
      return -1;
    }
    for (int i = 0; i < PQntuples(r); i++) {
      raw_book_t *b = book_at(r, i, 0);
      raw_author_push(raw_amap_get(&map, b->author_id), b);
    }
    rows += PQntuples(r);
    PQclear(r);
    PQclear(PQgetResult(c));
  }
  PGresult *sync = PQgetResult(c);
  int synced = PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  PQclear(sync);
  PQexitPipelineMode(c);
  run->seconds = bench_now() - t0;
  run->rows = rows;
  run->checksum = raw_authors_checksum(as, (size_t)n);
  raw_amap_free(&map);
  raw_authors_free(as, (size_t)n);
  return synced ? 0 : -1;
}

/* joined: one LEFT OUTER JOIN ordered by author; a new author starts when the id changes. */
static int joined_once(void *c, bench_run_t *run) {
  double t0 = bench_now();
  PGresult *r = PQexecPrepared(c, "joined", 0, NULL, NULL, NULL, 1);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    fprintf(stderr, "joined: %s", PQresultErrorMessage(r));
    return -1;
  }
  int nrows = PQntuples(r);
  raw_author_t **as = malloc((size_t)(nrows ? nrows : 1) * sizeof *as);
  size_t n = 0;
  int64_t books = 0;
  for (int i = 0; i < nrows; i++) {
    int64_t id = (int64_t)bench_be64(PQgetvalue(r, i, 0));
    if (!n || as[n - 1]->id != id)
      as[n++] = author_at(r, i, 0);
    if (!PQgetisnull(r, i, 2)) {
      raw_author_push(as[n - 1], book_at(r, i, 2));
      books++;
    }
  }
  PQclear(r);
  run->seconds = bench_now() - t0;
  run->rows = (int64_t)n + books;
  run->checksum = raw_authors_checksum(as, n);
  raw_authors_free(as, n);
  return 0;
}

/* A warm-up run, then the best of BENCH_EAGER_RUNS. */
static int eager(const char *conninfo, bench_once_fn once, bench_run_t *out) {
  PGconn *c = bench_pg_open(conninfo);
  int rc = c && prepare_eager(c) == 0 ? bench_best_of(BENCH_EAGER_RUNS, once, c, out) : -1;
  PQfinish(c);
  return rc;
}

int pg_eager_selectin(const char *conninfo, bench_run_t *out) {
  return eager(conninfo, selectin_once, out);
}

int pg_eager_joined(const char *conninfo, bench_run_t *out) {
  return eager(conninfo, joined_once, out);
}

/* ------------------------------------------------------------------ orm_bulk_insert */

int pg_bulk_insert_setup(const char *conninfo) {
  PGconn *c = bench_pg_open(conninfo);
  if (!c)
    return -1;
  int rc = bench_pg_exec(c, "DROP TABLE IF EXISTS bench_orm_rows") ||
           bench_pg_exec(c, "CREATE TABLE bench_orm_rows (id bigserial PRIMARY KEY, name "
                            "varchar(30) NOT NULL, fullname text)");
  PQfinish(c);
  return rc ? -1 : 0;
}

/* One transaction of prepared, pipelined multi-row INSERT ... RETURNING id, binary results,
 * the keys written into the structs. Preparing is inside the clock, as uvsql's is. */
int pg_bulk_insert(const char *conninfo, int n, bench_run_t *out) {
  PGconn *c = bench_pg_open(conninfo);
  if (!c)
    return -1;
  enum { B = BENCH_INSERT_BATCH };
  bench_insert_row_t *rows = bench_insert_rows_new(n);
  char *sql = malloc(64 + (size_t)B * 16);
  const char **vals = malloc(2 * B * sizeof *vals);
  int rc = -1;
  double t0 = bench_now();
  if (bench_pg_exec(c, "BEGIN") != 0)
    goto done;
  int sizes[2] = {B, n % B}; /* the full and the last statement shapes */
  for (int k = 0; k < 2; k++) {
    if (!sizes[k])
      continue;
    size_t len = (size_t)sprintf(sql, "INSERT INTO bench_orm_rows (name, fullname) VALUES ");
    for (int r = 0; r < sizes[k]; r++)
      len += (size_t)sprintf(sql + len, "%s($%d, $%d)", r ? ", " : "", 2 * r + 1, 2 * r + 2);
    sprintf(sql + len, " RETURNING id");
    if (bench_pg_prepare(c, k ? "ins_last" : "ins_full", sql, 0, NULL) != 0)
      goto done;
  }
  if (!PQenterPipelineMode(c))
    goto done;
  int nbatches = (n + B - 1) / B;
  for (int b = 0; b < nbatches; b++) {
    int at = b * B, m = n - at < B ? n - at : B;
    for (int r = 0; r < m; r++) {
      vals[2 * r] = rows[at + r].name;
      vals[2 * r + 1] = rows[at + r].fullname;
    }
    if (!PQsendQueryPrepared(c, m == B ? "ins_full" : "ins_last", 2 * m, vals, NULL, NULL, 1))
      goto done;
  }
  PQpipelineSync(c);
  for (int b = 0; b < nbatches; b++) {
    PGresult *r = PQgetResult(c);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      fprintf(stderr, "insert: %s", PQresultErrorMessage(r));
      PQclear(r);
      goto done;
    }
    for (int i = 0; i < PQntuples(r); i++)
      rows[b * B + i].id = (int64_t)bench_be64(PQgetvalue(r, i, 0));
    PQclear(r);
    PQclear(PQgetResult(c)); /* the NULL after each query */
  }
  PGresult *sync = PQgetResult(c);
  int synced = PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  PQclear(sync);
  PQexitPipelineMode(c);
  if (!synced || bench_pg_exec(c, "COMMIT") != 0)
    goto done;
  out->seconds = bench_now() - t0;
  out->rows = n;
  out->checksum = 0;
  for (int i = 0; i < n; i++)
    out->checksum += (double)rows[i].id;
  rc = 0;
done:
  free(vals);
  free(sql);
  bench_insert_rows_free(rows, n);
  PQfinish(c);
  return rc;
}
