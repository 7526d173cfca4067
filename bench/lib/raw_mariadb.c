/* bench/lib/raw_mariadb.c — the workloads done directly with Connector/C, as fast as its
 * blocking API goes: every query a server-side prepared statement (binary protocol, prepared
 * once before the clock), parameters bound once and refilled in place, results bound with
 * mysql_stmt_bind_result into typed buffers and fetched row by row from the socket (no
 * mysql_stmt_store_result, which copies every row once more: 500k rows took ~25% longer with
 * it; the text protocol took twice as long), multi-row INSERT ... RETURNING for the bulk
 * insert. The contract each function follows (tables, data, keys, checksums) is at the top of
 * bench.h. concurrent_selects uses one blocking connection per thread: Connector/C has no
 * pipelining, and one thread driving the connections through its nonblocking API
 * (mysql_stmt_execute_start/_cont under poll) was slower here.
 *
 * Invariants: a statement's result is read to MYSQL_NO_DATA before it is executed again; a
 * name longer than its bound buffer is fetched whole with mysql_stmt_fetch_column (its length
 * is always the full one); every function closes what it opened. */
#include <mysql.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uvsql.h>
#include "raw_eager.h"
#include "raw_mariadb.h"

#define NAME_BUF      64  /* bytes of bench_rows.name fetched with the row */
#define TEXT_BUF      512 /* VARCHAR(100) in utf8mb4: at most 400 bytes, never truncated */
#define SELECT_ONE_MY "SELECT id, name, x, ts, flag FROM " BENCH_TABLE " WHERE id = ?"

/* ------------------------------------------------------------------ connection helpers */

static MYSQL *my_open(const char *url) {
  uvsql_url_t *u;
  uvsql_error_t err;
  if (uvsql_url_parse(&u, url, &err) != 0) {
    fprintf(stderr, "mariadb url: %s\n", err.message);
    return NULL;
  }
  MYSQL *m = mysql_init(NULL);
  const char *sock = uvsql_url_query_get(u, "unix_socket");
  if (!m || !mysql_real_connect(m, u->host, u->user, u->password, u->database,
                                (unsigned)(u->port ? u->port : 3306), sock, 0)) {
    fprintf(stderr, "mariadb connect: %s\n", m ? mysql_error(m) : "out of memory");
    if (m)
      mysql_close(m);
    m = NULL;
  }
  uvsql_url_free(u);
  return m;
}

/* A text-protocol statement; any result it returns is read and dropped. */
static int my_exec(MYSQL *m, const char *sql) {
  if (mysql_real_query(m, sql, (unsigned long)strlen(sql)) != 0) {
    fprintf(stderr, "mariadb: %s: %s\n", sql, mysql_error(m));
    return -1;
  }
  do {
    MYSQL_RES *r = mysql_store_result(m);
    if (r)
      mysql_free_result(r);
  } while (mysql_next_result(m) == 0);
  return 0;
}

/* The first column of the first row of sql as an integer, or -1. */
static long long my_scalar(MYSQL *m, const char *sql) {
  if (mysql_real_query(m, sql, (unsigned long)strlen(sql)) != 0) {
    fprintf(stderr, "mariadb: %s: %s\n", sql, mysql_error(m));
    return -1;
  }
  MYSQL_RES *r = mysql_store_result(m);
  MYSQL_ROW row = r ? mysql_fetch_row(r) : NULL;
  long long v = row && row[0] ? atoll(row[0]) : -1;
  if (r)
    mysql_free_result(r);
  return v;
}

static MYSQL_STMT *my_prepare(MYSQL *m, const char *sql) {
  MYSQL_STMT *st = mysql_stmt_init(m);
  if (!st || mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)) != 0) {
    fprintf(stderr, "mariadb prepare: %s\n", st ? mysql_stmt_error(st) : mysql_error(m));
    if (st)
      mysql_stmt_close(st);
    return NULL;
  }
  return st;
}

static int stmt_fail(MYSQL_STMT *st, const char *what) {
  fprintf(stderr, "mariadb %s: %s\n", what, mysql_stmt_error(st));
  return -1;
}

/* mysql_stmt_fetch: 1 a row, 0 the end, -1 an error. A truncated string is still a row. */
static int my_fetch(MYSQL_STMT *st) {
  int f = mysql_stmt_fetch(st);
  if (f == 0 || f == MYSQL_DATA_TRUNCATED)
    return 1;
  if (f == MYSQL_NO_DATA)
    return 0;
  stmt_fail(st, "fetch");
  return -1;
}

static void bind_out(MYSQL_BIND *b, enum enum_field_types type, void *buf, unsigned long size,
                     unsigned long *len, my_bool *is_null) {
  memset(b, 0, sizeof *b);
  b->buffer_type = type;
  b->buffer = buf;
  b->buffer_length = size;
  b->length = len;
  b->is_null = is_null;
}

/* ------------------------------------------------------------------ bench_rows */

/* One bench_rows row as Connector/C writes it (bound to a statement's result). */
typedef struct {
  long long id;
  char name[NAME_BUF];
  unsigned long name_len; /* the full length, even when name was truncated */
  double x;
  MYSQL_TIME ts;
  signed char flag;
  MYSQL_BIND b[5];
} row_buf_t;

static int row_bind(MYSQL_STMT *st, row_buf_t *r) {
  bind_out(&r->b[0], MYSQL_TYPE_LONGLONG, &r->id, 0, NULL, NULL);
  bind_out(&r->b[1], MYSQL_TYPE_STRING, r->name, NAME_BUF, &r->name_len, NULL);
  bind_out(&r->b[2], MYSQL_TYPE_DOUBLE, &r->x, 0, NULL, NULL);
  bind_out(&r->b[3], MYSQL_TYPE_DATETIME, &r->ts, sizeof r->ts, NULL, NULL);
  bind_out(&r->b[4], MYSQL_TYPE_TINY, &r->flag, 0, NULL, NULL);
  return mysql_stmt_bind_result(st, r->b) ? stmt_fail(st, "bind result") : 0;
}

static int64_t ts_us(const MYSQL_TIME *t) {
  int64_t s = bench_days_from_civil(t->year, t->month, t->day) * 86400 + t->hour * 3600 +
              t->minute * 60 + t->second;
  return s * 1000000 + (int64_t)t->second_part;
}

static double row_sum(const row_buf_t *r) {
  return BENCH_ROW_SUM(r->id, r->x, r->flag != 0, r->name_len, ts_us(&r->ts));
}

/* The fetched row's name, whole, in a new string. */
static char *row_name(MYSQL_STMT *st, const row_buf_t *r) {
  char *s = malloc(r->name_len + 1);
  if (r->name_len < NAME_BUF) {
    memcpy(s, r->name, r->name_len);
  } else {
    MYSQL_BIND b;
    bind_out(&b, MYSQL_TYPE_STRING, s, r->name_len + 1, NULL, NULL);
    mysql_stmt_fetch_column(st, &b, 1, 0);
  }
  s[r->name_len] = '\0';
  return s;
}

static void row_to_obj(MYSQL_STMT *st, const row_buf_t *r, bench_raw_row_t *o) {
  o->id = r->id;
  o->name = row_name(st, r);
  o->x = r->x;
  o->ts = ts_us(&r->ts);
  o->flag = r->flag != 0;
}

int mariadb_setup(const char *url, int64_t nrows) {
  MYSQL *m = my_open(url);
  if (!m)
    return -1;
  int rc = 0;
  long long have = my_scalar(m, "SELECT COUNT(*) FROM information_schema.tables WHERE "
                                "table_schema = DATABASE() AND table_name = '" BENCH_TABLE "'");
  if (have == 1)
    have = my_scalar(m, "SELECT COUNT(*) FROM " BENCH_TABLE);
  else
    have = -1;
  if (have != nrows) {
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO " BENCH_TABLE " SELECT seq, CONCAT('name-', seq), seq * 0.5e0, "
             "TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND, seq %% 2 = 0 "
             "FROM seq_1_to_%lld",
             (long long)nrows);
    rc = my_exec(m, "DROP TABLE IF EXISTS " BENCH_TABLE) ||
         my_exec(m, "CREATE TABLE " BENCH_TABLE " (id BIGINT PRIMARY KEY, name TEXT, x DOUBLE, "
                    "ts DATETIME(6), flag BOOLEAN)") ||
         my_exec(m, sql) || my_exec(m, "ANALYZE TABLE " BENCH_TABLE);
  }
  mysql_close(m);
  return rc ? -1 : 0;
}

/* A prepared statement with bench_rows' columns bound to r (and for lookups, key to ?). */
typedef struct {
  MYSQL *m;
  MYSQL_STMT *st;
  long long key;
  MYSQL_BIND param;
  row_buf_t r;
  bench_raw_row_t o; /* orm_get's one struct */
} rows_t;

static int rows_open(rows_t *l, const char *url, const char *sql, int keyed) {
  memset(l, 0, sizeof *l);
  if (!(l->m = my_open(url)) || !(l->st = my_prepare(l->m, sql)))
    return -1;
  l->param.buffer_type = MYSQL_TYPE_LONGLONG;
  l->param.buffer = &l->key;
  if (keyed && mysql_stmt_bind_param(l->st, &l->param) != 0)
    return stmt_fail(l->st, "bind param");
  return row_bind(l->st, &l->r);
}

static void rows_close(rows_t *l) {
  free(l->o.name);
  if (l->st)
    mysql_stmt_close(l->st);
  if (l->m)
    mysql_close(l->m);
}

/* Core: BENCH_SELECT_ALL, every row read from the typed buffers. */
static int large_once(void *ctx, bench_run_t *run) {
  rows_t *l = ctx;
  double t0 = bench_now();
  if (mysql_stmt_execute(l->st) != 0)
    return stmt_fail(l->st, "execute");
  int f;
  while ((f = my_fetch(l->st)) == 1) {
    run->checksum += row_sum(&l->r);
    run->rows++;
  }
  run->seconds = bench_now() - t0;
  return f;
}

/* ORM shape: the rows into a malloc'd array of structs with strdup'd names; the checksum is
 * read from the structs; they are freed after the clock stops. */
static int orm_large_once(void *ctx, bench_run_t *run) {
  rows_t *l = ctx;
  bench_raw_row_t *objs = NULL;
  size_t n = 0, cap = 0;
  double t0 = bench_now();
  if (mysql_stmt_execute(l->st) != 0)
    return stmt_fail(l->st, "execute");
  int f;
  while ((f = my_fetch(l->st)) == 1) {
    if (n == cap) {
      cap = cap ? cap * 2 : 1024;
      objs = realloc(objs, cap * sizeof *objs);
    }
    row_to_obj(l->st, &l->r, &objs[n++]);
  }
  bench_raw_rows_sum(objs, n, run);
  run->seconds = bench_now() - t0;
  bench_raw_rows_free(objs, n);
  return f;
}

/* once on one connection, the best of 3 after a warm-up. */
static int large(const char *url, bench_once_fn once, bench_run_t *out) {
  rows_t l;
  int rc = rows_open(&l, url, BENCH_SELECT_ALL, 0) == 0 ? bench_best_of(3, once, &l, out) : -1;
  rows_close(&l);
  return rc;
}

int mariadb_large_resultset(const char *url, bench_run_t *out) {
  return large(url, large_once, out);
}

int mariadb_orm_large_resultset(const char *url, bench_run_t *out) {
  return large(url, orm_large_once, out);
}

/* Executes the lookup of key and fetches its one row. */
static int lookup(rows_t *l, int64_t key) {
  l->key = key;
  if (mysql_stmt_execute(l->st) != 0)
    return stmt_fail(l->st, "execute");
  if (my_fetch(l->st) != 1 || my_fetch(l->st) != 0) {
    fprintf(stderr, "mariadb lookup %lld: not one row\n", (long long)key);
    return -1;
  }
  return 0;
}

static int short_one(void *ctx, int64_t key, bench_run_t *run) {
  rows_t *l = ctx;
  if (lookup(l, key) != 0)
    return -1;
  run->checksum += row_sum(&l->r);
  run->rows++;
  return 0;
}

/* orm_get's raw side: the prepared lookup filling one struct (its name replaced each time). */
static int get_one(void *ctx, int64_t key, bench_run_t *run) {
  rows_t *l = ctx;
  if (lookup(l, key) != 0)
    return -1;
  free(l->o.name);
  row_to_obj(l->st, &l->r, &l->o);
  bench_raw_rows_sum(&l->o, 1, run);
  return 0;
}

static int lookups(const char *url, int n, int64_t nkeys, bench_lookup_fn one, bench_run_t *out) {
  rows_t l;
  int rc = rows_open(&l, url, SELECT_ONE_MY, 1) == 0 ? bench_lookups(n, nkeys, one, &l, out) : -1;
  rows_close(&l);
  return rc;
}

int mariadb_short_selects(const char *url, int n, int64_t nkeys, bench_run_t *out) {
  return lookups(url, n, nkeys, short_one, out);
}

int mariadb_get_lookups(const char *url, int n, int64_t nkeys, bench_run_t *out) {
  return lookups(url, n, nkeys, get_one, out);
}

/* One thread of concurrent_selects: its own connection and its share of the keys. */
typedef struct {
  rows_t l;
  const int64_t *keys;
  int n;
  pthread_barrier_t *start;
  bench_run_t run;
  int rc;
} worker_t;

static void *worker_main(void *arg) {
  worker_t *w = arg;
  mysql_thread_init();
  pthread_barrier_wait(w->start);
  for (int i = 0; i < w->n && w->rc == 0; i++)
    w->rc = short_one(&w->l, w->keys[i], &w->run);
  mysql_thread_end();
  return NULL;
}

/* The keys are libpq's (raw_pg.c): key = 1 + (key * 7919 + 13) % nkeys from key = 1, the
 * first (n / conns) * conns of them, each connection a contiguous share. */
int mariadb_concurrent_selects(const char *url, int n, int conns, int64_t nkeys, bench_run_t *out) {
  int per = n / conns;
  int64_t *keys = malloc((size_t)(per * conns) * sizeof *keys);
  int64_t key = 1;
  for (int i = 0; i < per * conns; i++)
    keys[i] = key = 1 + (key * 7919 + 13) % nkeys;
  worker_t *ws = calloc((size_t)conns, sizeof *ws);
  pthread_t *th = calloc((size_t)conns, sizeof *th);
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)conns + 1);
  mysql_library_init(0, NULL, NULL);
  int rc = 0;
  for (int i = 0; i < conns && rc == 0; i++) { /* connect, prepare, 20 warm-up lookups */
    rc = rows_open(&ws[i].l, url, SELECT_ONE_MY, 1);
    for (int k = 0; k < 20 && rc == 0; k++)
      rc = short_one(&ws[i].l, BENCH_KEY(k, nkeys), &ws[i].run);
    ws[i].keys = keys + (size_t)i * (size_t)per;
    ws[i].n = per;
    ws[i].start = &start;
    memset(&ws[i].run, 0, sizeof ws[i].run);
  }
  bench_run_t run = {0};
  if (rc == 0) {
    for (int i = 0; i < conns; i++)
      pthread_create(&th[i], NULL, worker_main, &ws[i]);
    pthread_barrier_wait(&start);
    double t0 = bench_now();
    for (int i = 0; i < conns; i++) {
      pthread_join(th[i], NULL);
      rc |= ws[i].rc;
      run.rows += ws[i].run.rows;
      run.checksum += ws[i].run.checksum;
    }
    run.seconds = bench_now() - t0;
  }
  *out = run;
  for (int i = 0; i < conns; i++)
    rows_close(&ws[i].l);
  pthread_barrier_destroy(&start);
  free(th);
  free(ws);
  free(keys);
  return rc ? -1 : 0;
}

/* ------------------------------------------------------------------ eager_load */

int mariadb_eager_setup(const char *url, int nauthors, int nbooks) {
  MYSQL *m = my_open(url);
  if (!m)
    return -1;
  char authors[256], books[400];
  snprintf(authors, sizeof authors,
           "INSERT INTO bench_eager_author (id, name) SELECT seq, CONCAT('author ', seq) FROM "
           "seq_1_to_%d",
           nauthors);
  snprintf(books, sizeof books,
           "INSERT INTO bench_eager_book (id, title, author_id) SELECT (a.seq - 1) * %d + k.seq, "
           "CONCAT('book ', a.seq, '.', k.seq), a.seq FROM seq_1_to_%d a, seq_1_to_%d k "
           "ORDER BY a.seq, k.seq",
           nbooks, nauthors, nbooks);
  int rc = my_exec(m, "DROP TABLE IF EXISTS bench_eager_book") ||
           my_exec(m, "DROP TABLE IF EXISTS bench_eager_author") ||
           my_exec(m, "CREATE TABLE bench_eager_author (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                      "name VARCHAR(50) NOT NULL)") ||
           my_exec(m, "CREATE TABLE bench_eager_book (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                      "title VARCHAR(100) NOT NULL, author_id BIGINT, FOREIGN KEY (author_id) "
                      "REFERENCES bench_eager_author (id), INDEX (author_id))") ||
           my_exec(m, authors) || (nbooks > 0 && my_exec(m, books)) ||
           my_exec(m, "ANALYZE TABLE bench_eager_author, bench_eager_book");
  mysql_close(m);
  return rc ? -1 : 0;
}

/* The columns of an author and of a book as bound to a result. */
typedef struct {
  long long id;
  char text[TEXT_BUF];
  unsigned long len;
  my_bool null;
} cell_t;

typedef struct {
  MYSQL *m;
  MYSQL_STMT *authors, *books_in, *joined;
  long long keys[BENCH_EAGER_CHUNK];
  MYSQL_BIND params[BENCH_EAGER_CHUNK];
  cell_t a_id, a_name, b_id, b_title, b_author; /* a_name also holds joined's author name */
} eager_t;

static void eager_close(eager_t *e) {
  if (e->authors)
    mysql_stmt_close(e->authors);
  if (e->books_in)
    mysql_stmt_close(e->books_in);
  if (e->joined)
    mysql_stmt_close(e->joined);
  if (e->m)
    mysql_close(e->m);
  free(e);
}

static void bind_cell(MYSQL_BIND *b, cell_t *c, int text) {
  if (text)
    bind_out(b, MYSQL_TYPE_STRING, c->text, TEXT_BUF, &c->len, &c->null);
  else
    bind_out(b, MYSQL_TYPE_LONGLONG, &c->id, 0, NULL, &c->null);
}

static eager_t *eager_open(const char *url) {
  eager_t *e = calloc(1, sizeof *e);
  char *in = malloc(200 + BENCH_EAGER_CHUNK * 3);
  size_t len = (size_t)sprintf(in, "SELECT bench_eager_book.id, bench_eager_book.title, "
                                   "bench_eager_book.author_id FROM bench_eager_book WHERE "
                                   "bench_eager_book.author_id IN (");
  for (int i = 0; i < BENCH_EAGER_CHUNK; i++)
    len += (size_t)sprintf(in + len, "%s?", i ? ", " : "");
  sprintf(in + len, ")");
  int ok = (e->m = my_open(url)) &&
           (e->authors = my_prepare(e->m, "SELECT bench_eager_author.id, bench_eager_author.name "
                                          "FROM bench_eager_author ORDER BY "
                                          "bench_eager_author.id")) &&
           (e->books_in = my_prepare(e->m, in)) &&
           (e->joined = my_prepare(e->m, "SELECT a.id, a.name, b.id, b.title, b.author_id FROM "
                                         "bench_eager_author a LEFT OUTER JOIN bench_eager_book "
                                         "b ON b.author_id = a.id ORDER BY a.id"));
  free(in);
  if (!ok) {
    eager_close(e);
    return NULL;
  }
  for (int i = 0; i < BENCH_EAGER_CHUNK; i++) {
    e->params[i].buffer_type = MYSQL_TYPE_LONGLONG;
    e->params[i].buffer = &e->keys[i];
  }
  MYSQL_BIND a[2], b[3], j[5];
  bind_cell(&a[0], &e->a_id, 0);
  bind_cell(&a[1], &e->a_name, 1);
  bind_cell(&b[0], &e->b_id, 0);
  bind_cell(&b[1], &e->b_title, 1);
  bind_cell(&b[2], &e->b_author, 0);
  j[0] = a[0], j[1] = a[1], j[2] = b[0], j[3] = b[1], j[4] = b[2];
  if (mysql_stmt_bind_result(e->authors, a) || mysql_stmt_bind_param(e->books_in, e->params) ||
      mysql_stmt_bind_result(e->books_in, b) || mysql_stmt_bind_result(e->joined, j)) {
    fprintf(stderr, "mariadb eager bind: %s\n", mysql_error(e->m));
    eager_close(e);
    return NULL;
  }
  return e;
}

static void authors_push(raw_author_t ***as, size_t *n, size_t *cap, raw_author_t *a) {
  if (*n == *cap) {
    *cap = *cap ? *cap * 2 : 256;
    *as = realloc(*as, *cap * sizeof **as);
  }
  (*as)[(*n)++] = a;
}

static int selectin_fetch(eager_t *e, raw_author_t ***as, size_t *n) {
  size_t cap = 0;
  if (mysql_stmt_execute(e->authors) != 0)
    return stmt_fail(e->authors, "authors");
  int f;
  while ((f = my_fetch(e->authors)) == 1)
    authors_push(as, n, &cap, raw_author_new(e->a_id.id, e->a_name.text, e->a_name.len));
  if (f < 0)
    return -1;
  raw_amap_t map;
  raw_amap_init(&map, *n);
  for (size_t i = 0; i < *n; i++)
    raw_amap_put(&map, (*as)[i]->id, (*as)[i]);
  for (size_t at = 0; at < *n && f == 0; at += BENCH_EAGER_CHUNK) {
    for (size_t k = 0; k < BENCH_EAGER_CHUNK; k++) /* a short last chunk repeats its last key */
      e->keys[k] = (*as)[at + k < *n ? at + k : *n - 1]->id;
    if (mysql_stmt_execute(e->books_in) != 0) {
      f = stmt_fail(e->books_in, "books");
      break;
    }
    while ((f = my_fetch(e->books_in)) == 1)
      raw_author_push(raw_amap_get(&map, e->b_author.id),
                      raw_book_new(e->b_id.id, e->b_title.text, e->b_title.len, e->b_author.id));
  }
  raw_amap_free(&map);
  return f;
}

static int joined_fetch(eager_t *e, raw_author_t ***as, size_t *n) {
  size_t cap = 0;
  if (mysql_stmt_execute(e->joined) != 0)
    return stmt_fail(e->joined, "joined");
  int f;
  while ((f = my_fetch(e->joined)) == 1) {
    if (!*n || (*as)[*n - 1]->id != e->a_id.id) /* ordered by author: a new author starts */
      authors_push(as, n, &cap, raw_author_new(e->a_id.id, e->a_name.text, e->a_name.len));
    if (!e->b_id.null)
      raw_author_push((*as)[*n - 1],
                      raw_book_new(e->b_id.id, e->b_title.text, e->b_title.len, e->b_author.id));
  }
  return f;
}

/* One run of a loader, timed; the graph is summed and freed after the clock stops. */
static int eager_once(eager_t *e, int joined, bench_run_t *run) {
  raw_author_t **as = NULL;
  size_t n = 0;
  double t0 = bench_now();
  int rc = joined ? joined_fetch(e, &as, &n) : selectin_fetch(e, &as, &n);
  run->seconds = bench_now() - t0;
  run->rows = (int64_t)n;
  for (size_t i = 0; i < n; i++)
    run->rows += (int64_t)as[i]->n;
  run->checksum = raw_authors_checksum(as, n);
  raw_authors_free(as, n);
  return rc;
}

static int selectin_once(void *e, bench_run_t *run) {
  return eager_once(e, 0, run);
}

static int joined_once(void *e, bench_run_t *run) {
  return eager_once(e, 1, run);
}

/* A warm-up run, then the best of BENCH_EAGER_RUNS. */
static int eager_run(const char *url, bench_once_fn once, bench_run_t *out) {
  eager_t *e = eager_open(url);
  if (!e)
    return -1;
  int rc = bench_best_of(BENCH_EAGER_RUNS, once, e, out);
  eager_close(e);
  return rc;
}

int mariadb_eager_selectin(const char *url, bench_run_t *out) {
  return eager_run(url, selectin_once, out);
}

int mariadb_eager_joined(const char *url, bench_run_t *out) {
  return eager_run(url, joined_once, out);
}

/* ------------------------------------------------------------------ orm_bulk_insert */

int mariadb_bulk_insert_setup(const char *url) {
  MYSQL *m = my_open(url);
  if (!m)
    return -1;
  int rc = my_exec(m, "DROP TABLE IF EXISTS bench_orm_rows") ||
           my_exec(m, "CREATE TABLE bench_orm_rows (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                      "name VARCHAR(30) NOT NULL, fullname TEXT)");
  mysql_close(m);
  return rc ? -1 : 0;
}

/* INSERT ... VALUES (?, ?) x rows ... RETURNING id, prepared. */
static MYSQL_STMT *prepare_insert(MYSQL *m, int rows) {
  char *sql = malloc(100 + (size_t)rows * 8);
  size_t len = (size_t)sprintf(sql, "INSERT INTO bench_orm_rows (name, fullname) VALUES ");
  for (int r = 0; r < rows; r++)
    len += (size_t)sprintf(sql + len, "%s(?, ?)", r ? ", " : "");
  sprintf(sql + len, " RETURNING id");
  MYSQL_STMT *st = my_prepare(m, sql);
  free(sql);
  return st;
}

/* One batch: the rows' strings bound in place, executed, the keys read back in order. */
static int insert_batch(MYSQL_STMT *st, MYSQL_BIND *params, bench_insert_row_t *rows, int m,
                        long long *id) {
  for (int r = 0; r < m; r++) {
    MYSQL_BIND *p = &params[2 * r];
    p[0].buffer = rows[r].name;
    p[0].buffer_length = (unsigned long)strlen(rows[r].name);
    p[1].buffer = rows[r].fullname;
    p[1].buffer_length = (unsigned long)strlen(rows[r].fullname);
  }
  /* The server describes RETURNING's column only once executed: bound after execute. */
  MYSQL_BIND b;
  bind_out(&b, MYSQL_TYPE_LONGLONG, id, 0, NULL, NULL);
  if (mysql_stmt_bind_param(st, params) != 0 || mysql_stmt_execute(st) != 0 ||
      mysql_stmt_bind_result(st, &b) != 0)
    return stmt_fail(st, "insert");
  int got = 0, f;
  while ((f = my_fetch(st)) == 1)
    if (got < m)
      rows[got++].id = *id;
  if (f == 0 && got != m) {
    fprintf(stderr, "mariadb insert: %d keys back for %d rows\n", got, m);
    return -1;
  }
  return f;
}

int mariadb_bulk_insert(const char *url, int nrows, bench_run_t *out) {
  MYSQL *m = my_open(url);
  if (!m)
    return -1;
  bench_insert_row_t *rows = bench_insert_rows_new(nrows);
  MYSQL_BIND *params = calloc(2 * BENCH_INSERT_BATCH, sizeof *params);
  for (int i = 0; i < 2 * BENCH_INSERT_BATCH; i++)
    params[i].buffer_type = MYSQL_TYPE_STRING;
  MYSQL_STMT *full = NULL, *last = NULL;
  long long id = 0;
  int tail = nrows % BENCH_INSERT_BATCH;
  double t0 = bench_now();
  int rc = my_exec(m, "BEGIN");
  if (rc == 0 && nrows >= BENCH_INSERT_BATCH && !(full = prepare_insert(m, BENCH_INSERT_BATCH)))
    rc = -1;
  if (rc == 0 && tail && !(last = prepare_insert(m, tail)))
    rc = -1;
  for (int at = 0; at < nrows && rc == 0; at += BENCH_INSERT_BATCH) {
    int k = nrows - at < BENCH_INSERT_BATCH ? nrows - at : BENCH_INSERT_BATCH;
    rc = insert_batch(k == BENCH_INSERT_BATCH ? full : last, params, rows + at, k, &id);
  }
  if (rc == 0 && mysql_commit(m) != 0) {
    fprintf(stderr, "mariadb commit: %s\n", mysql_error(m));
    rc = -1;
  }
  out->seconds = bench_now() - t0;
  out->rows = nrows;
  out->checksum = 0;
  for (int i = 0; i < nrows; i++)
    out->checksum += (double)rows[i].id;
  if (full)
    mysql_stmt_close(full);
  if (last)
    mysql_stmt_close(last);
  free(params);
  bench_insert_rows_free(rows, nrows);
  mysql_close(m);
  return rc;
}

/* ------------------------------------------------------------------ streaming */

int mariadb_streaming(const char *url, const char *sql, bench_run_t *out) {
  MYSQL *m = my_open(url);
  if (!m)
    return -1;
  memset(out, 0, sizeof *out);
  double t0 = bench_now();
  MYSQL_STMT *st = mysql_stmt_init(m);
  long long x = 0;
  double y = 0;
  MYSQL_BIND b[2];
  memset(b, 0, sizeof b);
  b[0].buffer_type = MYSQL_TYPE_LONGLONG;
  b[0].buffer = &x;
  b[1].buffer_type = MYSQL_TYPE_DOUBLE;
  b[1].buffer = &y;
  int rc = -1;
  if (!st || mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)) != 0 ||
      mysql_stmt_execute(st) != 0 || mysql_stmt_bind_result(st, b) != 0) {
    fprintf(stderr, "mariadb streaming: %s\n", st ? mysql_stmt_error(st) : mysql_error(m));
    goto out;
  }
  int f;
  while ((f = mysql_stmt_fetch(st)) == 0) {
    out->checksum += (double)x + y;
    out->rows++;
  }
  if (f != MYSQL_NO_DATA) {
    fprintf(stderr, "mariadb streaming fetch: %s\n", mysql_stmt_error(st));
    goto out;
  }
  rc = 0;
out:
  out->seconds = bench_now() - t0;
  if (st)
    mysql_stmt_close(st);
  mysql_close(m);
  return rc;
}

/* ------------------------------------------------------------------ executemany */

int mariadb_many_setup(const char *url) {
  MYSQL *m = my_open(url);
  if (!m)
    return -1;
  int rc = my_exec(m, "DROP TABLE IF EXISTS bench_many") ||
           my_exec(m, "CREATE TABLE bench_many (id BIGINT PRIMARY KEY, name VARCHAR(30), x "
                      "DOUBLE PRECISION)");
  mysql_close(m);
  return rc ? -1 : 0;
}

/* One prepared INSERT, executed once in bulk (column-wise array binding, STMT_ATTR_ARRAY_SIZE),
 * autocommit. */
int mariadb_many(const char *url, int n, bench_run_t *out) {
  MYSQL *m = my_open(url);
  if (!m)
    return -1;
  char(*names)[16] = bench_many_names_new(n);
  long long *ids = malloc((size_t)n * sizeof *ids);
  double *xs = malloc((size_t)n * sizeof *xs);
  char **ptrs = malloc((size_t)n * sizeof *ptrs);
  unsigned long *lens = malloc((size_t)n * sizeof *lens);
  for (int i = 0; i < n; i++) {
    ids[i] = i + 1;
    xs[i] = i * 0.5;
    ptrs[i] = names[i];
    lens[i] = (unsigned long)strlen(names[i]);
  }
  MYSQL_BIND b[3];
  memset(b, 0, sizeof b);
  b[0].buffer_type = MYSQL_TYPE_LONGLONG;
  b[0].buffer = ids;
  b[1].buffer_type = MYSQL_TYPE_STRING;
  b[1].buffer = ptrs;
  b[1].length = lens;
  b[2].buffer_type = MYSQL_TYPE_DOUBLE;
  b[2].buffer = xs;
  unsigned int size = (unsigned int)n;
  int rc = -1;
  double t0 = bench_now();
  MYSQL_STMT *st = my_prepare(m, "INSERT INTO bench_many (id, name, x) VALUES (?, ?, ?)");
  if (st) {
    if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &size) != 0 ||
        mysql_stmt_bind_param(st, b) != 0 || mysql_stmt_execute(st) != 0) {
      rc = stmt_fail(st, "many");
    } else {
      out->seconds = bench_now() - t0;
      out->rows = (int64_t)mysql_stmt_affected_rows(st);
      out->checksum = (double)out->rows;
      rc = 0;
    }
    mysql_stmt_close(st);
  }
  free(ids);
  free(xs);
  free(ptrs);
  free(lens);
  free(names);
  mysql_close(m);
  return rc;
}
