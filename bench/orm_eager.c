/* bench/orm_eager.c — orm_eager_selectin / orm_eager_joined: 2,000 authors x 10 books loaded
 * into structs with their book collections, through the ORM (uvsql_orm_query with
 * selectinload or joinedload, a fresh AsyncSession per run) against raw libpq doing the same
 * queries by hand (prepared, binary results; selectin: the authors, then the books WHERE
 * author_id IN (500 keys) pipelined; joined: one LEFT OUTER JOIN ordered by author) and
 * filling the same shape of structs (malloc'd objects, strdup'd strings, a growable array of
 * book pointers per author, matched through a hash of author ids).
 * Each side runs --runs times (default 5); the best run is reported. Both sides' checksums
 * (sum of ids and title lengths over the graph) must agree.
 *
 *   bench_orm_eager [--authors N] [--books N] [--runs N]
 *
 * PostgreSQL: UVSQL_BENCH_PG_URL, else UVSQL_TEST_PG_URL. Output: JSON lines (bench_report),
 * the uvsql lines with "ratio" = uvsql seconds / raw seconds. */
#include <arpa/inet.h>
#include <endian.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "uvsql.h"

#define CHUNK 500

#define AUTHOR_FIELDS(X)                                                                           \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(50), UVSQL_NOT_NULL)
#define AUTHOR_RELS(X) X(books, MANY(book_t))
UVSQL_MODEL_REL(author_t, "bench_eager_author", AUTHOR_FIELDS, AUTHOR_RELS)

#define BOOK_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(title, STRING(100), UVSQL_NOT_NULL)                                                            \
  X(author_id, INT64, 0)
#define BOOK_RELS(X) X(author, ONE(author_t))
UVSQL_MODEL_REL(book_t, "bench_eager_book", BOOK_FIELDS, BOOK_RELS)

static int nauthors = 2000, nbooks = 10, nruns = 5;

static void die(const char *what, const char *detail) {
  fprintf(stderr, "bench_orm_eager: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

static void pg_exec(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
    die(sql, PQerrorMessage(c));
  PQclear(r);
}

/* ------------------------------------------------------------------ raw libpq */

typedef struct raw_book_s {
  int64_t id, author_id;
  char *title;
  struct raw_author_s *author;
} raw_book_t;

typedef struct raw_author_s {
  int64_t id;
  char *name;
  raw_book_t **books;
  size_t n, cap;
} raw_author_t;

typedef struct {
  int64_t *keys;
  raw_author_t **vals;
  size_t cap;
} amap_t;

static void amap_init(amap_t *m, size_t n) {
  m->cap = 64;
  while (m->cap < 2 * n)
    m->cap *= 2;
  m->keys = malloc(m->cap * sizeof *m->keys);
  m->vals = calloc(m->cap, sizeof *m->vals);
}
static size_t amap_slot(const amap_t *m, int64_t k) {
  size_t j = (size_t)(((uint64_t)k * 0x9e3779b97f4a7c15u) >> 17) & (m->cap - 1);
  while (m->vals[j] && m->keys[j] != k)
    j = (j + 1) & (m->cap - 1);
  return j;
}
static void amap_put(amap_t *m, int64_t k, raw_author_t *a) {
  size_t j = amap_slot(m, k);
  m->keys[j] = k;
  m->vals[j] = a;
}
static raw_author_t *amap_get(const amap_t *m, int64_t k) {
  return m->vals[amap_slot(m, k)];
}

static int64_t get_i64(const PGresult *r, int row, int col) {
  uint64_t v;
  memcpy(&v, PQgetvalue(r, row, col), 8);
  return (int64_t)be64toh(v);
}
static char *get_text(const PGresult *r, int row, int col) {
  int len = PQgetlength(r, row, col);
  char *s = malloc((size_t)len + 1);
  memcpy(s, PQgetvalue(r, row, col), (size_t)len);
  s[len] = '\0';
  return s;
}

static raw_author_t *raw_author(const PGresult *r, int row) {
  raw_author_t *a = calloc(1, sizeof *a);
  a->id = get_i64(r, row, 0);
  a->name = get_text(r, row, 1);
  return a;
}
static void raw_push(raw_author_t *a, raw_book_t *b) {
  if (a->n == a->cap) {
    a->cap = a->cap ? a->cap * 2 : 4;
    a->books = realloc(a->books, a->cap * sizeof *a->books);
  }
  a->books[a->n++] = b;
  b->author = a;
}
static raw_book_t *raw_book(const PGresult *r, int row, int col) {
  raw_book_t *b = calloc(1, sizeof *b);
  b->id = get_i64(r, row, col);
  b->title = get_text(r, row, col + 1);
  b->author_id = get_i64(r, row, col + 2);
  return b;
}

static double checksum_raw(raw_author_t **as, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; i++) {
    sum += (double)as[i]->id;
    for (size_t k = 0; k < as[i]->n; k++)
      sum += (double)as[i]->books[k]->id + (double)strlen(as[i]->books[k]->title);
  }
  return sum;
}

static void free_raw(raw_author_t **as, size_t n) {
  for (size_t i = 0; i < n; i++) {
    for (size_t k = 0; k < as[i]->n; k++) {
      free(as[i]->books[k]->title);
      free(as[i]->books[k]);
    }
    free(as[i]->books);
    free(as[i]->name);
    free(as[i]);
  }
  free(as);
}

static void raw_prepare(PGconn *c) {
  char *sql = malloc(128 + CHUNK * 8);
  size_t len = (size_t)sprintf(sql, "SELECT bench_eager_book.id, bench_eager_book.title, "
                                    "bench_eager_book.author_id FROM bench_eager_book WHERE "
                                    "bench_eager_book.author_id IN (");
  for (int i = 0; i < CHUNK; i++)
    len += (size_t)sprintf(sql + len, "%s$%d", i ? ", " : "", i + 1);
  sprintf(sql + len, ")");
  PGresult *p = PQprepare(c, "books_in", sql, 0, NULL);
  if (PQresultStatus(p) != PGRES_COMMAND_OK)
    die("prepare", PQerrorMessage(c));
  PQclear(p);
  free(sql);
  const char *q[] = {
      "SELECT bench_eager_author.id, bench_eager_author.name FROM bench_eager_author ORDER BY "
      "bench_eager_author.id",
      "SELECT a.id, a.name, b.id, b.title, b.author_id FROM bench_eager_author a LEFT OUTER "
      "JOIN bench_eager_book b ON b.author_id = a.id ORDER BY a.id"};
  const char *names[] = {"authors", "joined"};
  for (int i = 0; i < 2; i++) {
    p = PQprepare(c, names[i], q[i], 0, NULL);
    if (PQresultStatus(p) != PGRES_COMMAND_OK)
      die("prepare", PQerrorMessage(c));
    PQclear(p);
  }
}

static double raw_selectin(PGconn *c, double *checksum) {
  double t0 = bench_now();
  PGresult *r = PQexecPrepared(c, "authors", 0, NULL, NULL, NULL, 1);
  if (PQresultStatus(r) != PGRES_TUPLES_OK)
    die("authors", PQresultErrorMessage(r));
  int n = PQntuples(r);
  raw_author_t **as = malloc((size_t)n * sizeof *as);
  amap_t map;
  amap_init(&map, (size_t)n);
  for (int i = 0; i < n; i++) {
    as[i] = raw_author(r, i);
    amap_put(&map, as[i]->id, as[i]);
  }
  PQclear(r);
  if (!PQenterPipelineMode(c))
    die("pipeline", PQerrorMessage(c));
  int nchunks = (n + CHUNK - 1) / CHUNK;
  int64_t keys[CHUNK];
  const char *vals[CHUNK];
  int lens[CHUNK], fmts[CHUNK];
  for (int ch = 0; ch < nchunks; ch++) {
    for (int k = 0; k < CHUNK; k++) { /* a short last chunk repeats its last key */
      int at = ch * CHUNK + k < n ? ch * CHUNK + k : n - 1;
      keys[k] = (int64_t)htobe64((uint64_t)as[at]->id);
      vals[k] = (const char *)&keys[k];
      lens[k] = 8;
      fmts[k] = 1;
    }
    if (!PQsendQueryPrepared(c, "books_in", CHUNK, vals, lens, fmts, 1))
      die("send", PQerrorMessage(c));
  }
  PQpipelineSync(c);
  for (int ch = 0; ch < nchunks; ch++) {
    r = PQgetResult(c);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
      die("books", PQresultErrorMessage(r));
    for (int i = 0; i < PQntuples(r); i++) {
      raw_book_t *b = raw_book(r, i, 0);
      raw_push(amap_get(&map, b->author_id), b);
    }
    PQclear(r);
    PQclear(PQgetResult(c));
  }
  PGresult *sync = PQgetResult(c);
  if (PQresultStatus(sync) != PGRES_PIPELINE_SYNC)
    die("sync", PQerrorMessage(c));
  PQclear(sync);
  PQexitPipelineMode(c);
  double t = bench_now() - t0;
  *checksum = checksum_raw(as, (size_t)n);
  free(map.keys);
  free(map.vals);
  free_raw(as, (size_t)n);
  return t;
}

static double raw_joined(PGconn *c, double *checksum) {
  double t0 = bench_now();
  PGresult *r = PQexecPrepared(c, "joined", 0, NULL, NULL, NULL, 1);
  if (PQresultStatus(r) != PGRES_TUPLES_OK)
    die("joined", PQresultErrorMessage(r));
  int rows = PQntuples(r);
  raw_author_t **as = malloc((size_t)(rows ? rows : 1) * sizeof *as);
  size_t n = 0;
  for (int i = 0; i < rows; i++) {
    int64_t id = get_i64(r, i, 0);
    if (!n || as[n - 1]->id != id) /* ordered by author: a new author starts */
      as[n++] = raw_author(r, i);
    if (!PQgetisnull(r, i, 2))
      raw_push(as[n - 1], raw_book(r, i, 2));
  }
  PQclear(r);
  double t = bench_now() - t0;
  *checksum = checksum_raw(as, n);
  free_raw(as, n);
  return t;
}

/* ------------------------------------------------------------------ uvsql ORM */

typedef struct {
  uv_loop_t loop;
  uvsql_engine_t *e;
  uvsql_registry_t *reg;
  uvsql_mapper_t *authors, *books;
  uvsql_orm_query_t *q[2];
} orm_t;

static void orm_open(orm_t *o, const char *url) {
  uvsql_error_t err;
  uv_loop_init(&o->loop);
  if (uvsql_engine_new(&o->e, &o->loop, url, NULL, &err))
    die("engine", err.message);
  o->reg = uvsql_registry_new(NULL);
  o->authors = uvsql_registry_map(o->reg, author_t_model(), &err);
  o->books = uvsql_registry_map(o->reg, book_t_model(), &err);
  if (!o->authors || !o->books)
    die("map", err.message);
  uvsql_relationship_t *ab =
      uvsql_mapper_relationship(o->authors, "books", UVSQL_ONE_TO_MANY, o->books,
                                offsetof(author_t, books), "author_id", 0, &err);
  uvsql_relationship_t *ba =
      uvsql_mapper_relationship(o->books, "author", UVSQL_MANY_TO_ONE, o->authors,
                                offsetof(book_t, author), "author_id", 0, &err);
  if (!ab || !ba || !uvsql_relationship_back_populates(ab, ba))
    die("relationship", err.message);
  uvsql_load_option_t opts[2] = {UVSQL_SELECTINLOAD("books"), UVSQL_JOINEDLOAD("books")};
  for (int i = 0; i < 2; i++) {
    if (!(o->q[i] = uvsql_orm_query(o->authors, &opts[i], 1, &err)))
      die("query", err.message);
    uvsql_select_order_by(uvsql_orm_query_stmt(o->q[i]), uvsql_mapper_col(o->authors, "id"));
  }
}

static void orm_close(orm_t *o) {
  uvsql_orm_query_free(o->q[0]);
  uvsql_orm_query_free(o->q[1]);
  uvsql_future_t *f = uvsql_engine_dispose(o->e, NULL, NULL);
  uvsql_future_wait(f);
  uvsql_future_unref(f);
  uvsql_registry_free(o->reg);
  uv_run(&o->loop, UV_RUN_DEFAULT);
  uv_loop_close(&o->loop);
}

static double orm_run(orm_t *o, int which, double *checksum) {
  uvsql_session_t *s;
  if (uvsql_session_new(&s, o->e, o->reg, NULL))
    die("session", NULL);
  double t0 = bench_now();
  uvsql_future_t *f = uvsql_session_execute_query(s, o->q[which], NULL, 0, NULL, NULL);
  if (uvsql_future_wait(f))
    die("execute", uvsql_future_error(f)->message);
  double t = bench_now() - t0;
  uvsql_orm_result_t *r = uvsql_future_value(f);
  *checksum = 0;
  for (size_t i = 0; i < uvsql_orm_result_count(r); i++) {
    author_t *a = uvsql_orm_result_at(r, i);
    *checksum += (double)a->id;
    for (size_t k = 0; k < a->books.n; k++) {
      book_t *b = a->books.items[k];
      *checksum += (double)b->id + (double)strlen(b->title);
    }
  }
  uvsql_future_unref(f);
  f = uvsql_session_close(s, NULL, NULL);
  uvsql_future_wait(f);
  uvsql_future_unref(f);
  return t;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--authors") == 0 && i + 1 < argc)
      nauthors = atoi(argv[++i]);
    else if (strcmp(argv[i], "--books") == 0 && i + 1 < argc)
      nbooks = atoi(argv[++i]);
    else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      nruns = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: %s [--authors N] [--books N] [--runs N]\n", argv[0]);
      return 2;
    }
  }
  const char *url = getenv("UVSQL_BENCH_PG_URL");
  if (!url || !*url)
    url = getenv("UVSQL_TEST_PG_URL");
  if (!url || !*url) {
    fprintf(stderr, "bench_orm_eager: postgresql skipped: set UVSQL_BENCH_PG_URL\n");
    return 0;
  }
  PGconn *c = PQconnectdb(url);
  if (PQstatus(c) != CONNECTION_OK)
    die("connect", PQerrorMessage(c));
  char sql[512];
  pg_exec(c, "DROP TABLE IF EXISTS bench_eager_book");
  pg_exec(c, "DROP TABLE IF EXISTS bench_eager_author");
  pg_exec(c, "CREATE TABLE bench_eager_author (id bigserial PRIMARY KEY, name varchar(50) NOT "
             "NULL)");
  pg_exec(c, "CREATE TABLE bench_eager_book (id bigserial PRIMARY KEY, title varchar(100) NOT "
             "NULL, author_id bigint REFERENCES bench_eager_author (id))");
  snprintf(sql, sizeof sql,
           "INSERT INTO bench_eager_author (name) SELECT 'author ' || g FROM "
           "generate_series(1, %d) g",
           nauthors);
  pg_exec(c, sql);
  snprintf(sql, sizeof sql,
           "INSERT INTO bench_eager_book (title, author_id) SELECT 'book ' || a || '.' || k, a "
           "FROM generate_series(1, %d) a, generate_series(1, %d) k ORDER BY a, k",
           nauthors, nbooks);
  pg_exec(c, sql);
  pg_exec(c, "CREATE INDEX ON bench_eager_book (author_id)");
  pg_exec(c, "ANALYZE bench_eager_author");
  pg_exec(c, "ANALYZE bench_eager_book");
  raw_prepare(c);
  orm_t o;
  orm_open(&o, url);
  const char *workloads[2] = {"orm_eager_selectin", "orm_eager_joined"};
  for (int w = 0; w < 2; w++) {
    double best_raw = 1e9, best_orm = 1e9, sum_raw = 0, sum_orm = 0;
    for (int run = 0; run < nruns; run++) {
      double t = w == 0 ? raw_selectin(c, &sum_raw) : raw_joined(c, &sum_raw);
      best_raw = t < best_raw ? t : best_raw;
      t = orm_run(&o, w, &sum_orm);
      best_orm = t < best_orm ? t : best_orm;
    }
    if (sum_raw != sum_orm)
      die("the two sides loaded different graphs", workloads[w]);
    int64_t rows = (int64_t)nauthors * (1 + nbooks);
    bench_run_t raw = {best_raw, rows, sum_raw}, orm = {best_orm, rows, sum_orm};
    char note[200];
    snprintf(note, sizeof note, "\"authors\":%d,\"books_per_author\":%d,\"note\":\"%s\"", nauthors,
             nbooks,
             w == 0 ? "libpq prepared binary, book chunks of 500 keys pipelined"
                    : "libpq prepared binary LEFT OUTER JOIN ordered by author");
    bench_report("postgresql", workloads[w], "raw", &raw, 0, note);
    snprintf(note, sizeof note, "\"authors\":%d,\"books_per_author\":%d,\"note\":\"%s\"", nauthors,
             nbooks,
             w == 0 ? "AsyncSession selectinload, fresh session per run (with BEGIN)"
                    : "AsyncSession joinedload, fresh session per run (with BEGIN)");
    bench_report("postgresql", workloads[w], "uvsql", &orm, best_raw, note);
  }
  orm_close(&o);
  pg_exec(c, "DROP TABLE bench_eager_book");
  pg_exec(c, "DROP TABLE bench_eager_author");
  PQfinish(c);
  return 0;
}
