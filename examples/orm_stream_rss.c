/* examples/orm_stream_rss.c — streams millions of ORM objects with uvsql_session_stream
 * (yield_per) and prints the peak resident memory of each run: it stays flat however many
 * rows come, because each batch's objects leave the session once its callback returns.
 *
 *   orm_stream_rss [--max-growth R] [URL [N ...]]
 *                                  default: sqlite:///orm_stream_rss.db 500000 5000000
 *
 * For each N, one child process fills the table orm_stream_rss with N rows (one INSERT ...
 * SELECT), then another child streams them as ORM objects in batches of 1,000, touching each
 * object, and reports its peak RSS (getrusage ru_maxrss), so each figure is that run's own.
 * The last line compares the last run with the first; the table is dropped at the end.
 *
 * With --max-growth R it is also a check (exit status 1, with a line saying what failed) that
 * every run streamed exactly its N rows, that the identity map never held more than one batch,
 * and that the last run's peak RSS is at most R times the first's. The test command runs it so
 * on each backend (examples.orm_stream_rss_memory_is_bounded.<backend>: 500,000 then
 * 5,000,000 rows, R = 1.1; ~10 s on SQLite, ~30 s on PostgreSQL, ~60 s on MariaDB, fill
 * included). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "uvsql.h"

#define BATCH 1000 /* objects per batch of the stream */

#define ROW_FIELDS(X)                                                                              \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(40), UVSQL_NOT_NULL)                                                              \
  X(qty, INT64, 0)                                                                                 \
  X(note, TEXT, 0)
UVSQL_MODEL(row_t, "orm_stream_rss", ROW_FIELDS)

static void *await(uvsql_future_t *f, const char *what) {
  if (uvsql_future_wait(f) != 0) {
    const uvsql_error_t *e = uvsql_future_error(f);
    fprintf(stderr, "%s: %s: %s\n", what, uvsql_err_name(e->code), e->message);
    exit(1);
  }
  return uvsql_future_value(f);
}

static void run(uvsql_future_t *f, const char *what) {
  await(f, what);
  uvsql_future_unref(f);
}

typedef struct {
  uvsql_engine_t *engine;
  uvsql_registry_t *reg;
  uvsql_mapper_t *rows;
} db_t;

static void db_open(db_t *db, const char *url) {
  uvsql_error_t err;
  if (uvsql_engine_new(&db->engine, uv_default_loop(), url, NULL, &err)) {
    fprintf(stderr, "%s\n", err.message);
    exit(1);
  }
  db->reg = uvsql_registry_new(NULL);
  if (!(db->rows = uvsql_registry_map(db->reg, row_t_model(), &err))) {
    fprintf(stderr, "%s\n", err.message);
    exit(1);
  }
}

static void db_close(db_t *db) {
  run(uvsql_engine_dispose(db->engine, NULL, NULL), "dispose");
  uvsql_registry_free(db->reg);
  uv_loop_close(uv_default_loop());
}

/* Rows 1..n from a 1000-row recursive CTE joined three times (MariaDB allows 1000 steps). */
static void fill(const char *url, long n) {
  db_t db;
  db_open(&db, url);
  run(uvsql_metadata_drop_all(uvsql_registry_metadata(db.reg), db.engine, NULL, NULL), "drop");
  run(uvsql_metadata_create_all(uvsql_registry_metadata(db.reg), db.engine, NULL, NULL), "create");
  int maria = strcmp(uvsql_engine_dialect(db.engine), "mariadb") == 0;
  const char *num = "(a.n + 1000 * b.n + 1000000 * d.n + 1)";
  char name[160], sql[1024];
  snprintf(name, sizeof name, maria ? "CONCAT('row ', %s)" : "'row ' || %s", num);
  snprintf(sql, sizeof sql,
           "INSERT INTO orm_stream_rss (id, name, qty, note) WITH RECURSIVE c(n) AS (SELECT 0 "
           "UNION ALL SELECT n + 1 FROM c WHERE n < 999) SELECT %s, %s, %s, 'a note of some "
           "length, so that each object holds two strings' FROM c a, c b, c d WHERE b.n <= %ld "
           "AND d.n <= %ld AND %s <= %ld",
           num, name, num, n / 1000, n / 1000000, num, n);
  run(uvsql_engine_execute_sql(db.engine, sql, NULL, 0, NULL, NULL), "fill");
  db_close(&db);
}

static void drop(const char *url, long unused) {
  (void)unused;
  db_t db;
  db_open(&db, url);
  run(uvsql_metadata_drop_all(uvsql_registry_metadata(db.reg), db.engine, NULL, NULL), "drop");
  db_close(&db);
}

typedef struct {
  uint64_t rows, sum;
  size_t max_map;
} count_t;

static int on_batch(uvsql_session_t *s, void *const *objs, size_t n, void *data) {
  count_t *c = data;
  for (size_t i = 0; i < n; i++) {
    const row_t *r = objs[i];
    c->sum += (uint64_t)r->qty + strlen(r->name) + strlen(r->note);
  }
  c->rows += n;
  size_t in_map = uvsql_session_identity_count(s);
  if (in_map > c->max_map)
    c->max_map = in_map;
  return 0;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Streams the table; writes "rows peak_kb seconds max_identity_map" to fd. */
static void stream(const char *url, int fd) {
  db_t db;
  db_open(&db, url);
  uvsql_session_t *s;
  if (uvsql_session_new(&s, db.engine, db.reg, NULL)) {
    fprintf(stderr, "no session\n");
    exit(1);
  }
  uvsql_core_stmt_t *sel = uvsql_orm_select(db.rows);
  count_t c = {0};
  double t0 = now();
  uvsql_future_t *f =
      uvsql_session_stream(s, db.rows, sel, NULL, 0, BATCH, on_batch, &c, NULL, NULL);
  uvsql_stream_summary_t *sum = await(f, "stream");
  if (sum->rows != c.rows) {
    fprintf(stderr, "stream: %" PRIu64 " rows in the summary, %" PRIu64 " seen\n", sum->rows,
            c.rows);
    exit(1);
  }
  uvsql_future_unref(f);
  double secs = now() - t0;
  run(uvsql_session_close(s, NULL, NULL), "close");
  uvsql_core_stmt_free(sel);
  db_close(&db);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  dprintf(fd, "%" PRIu64 " %ld %.2f %zu\n", c.rows, ru.ru_maxrss, secs, c.max_map);
}

/* Runs fn(url, n or fd) in a child; returns what it wrote to the pipe. */
static int in_child(void (*fn)(const char *, long), const char *url, long arg, char *out,
                    size_t len) {
  int p[2];
  if (pipe(p))
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    fn(url, arg < 0 ? p[1] : arg);
    _exit(0);
  }
  close(p[1]);
  ssize_t k = read(p[0], out, len - 1);
  out[k > 0 ? k : 0] = '\0';
  close(p[0]);
  int status;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void stream_fd(const char *url, long fd) {
  stream(url, (int)fd);
}

int main(int argc, char **argv) {
  double max_growth = 0; /* 0: report only */
  int a = 1;
  if (a + 1 < argc && strcmp(argv[a], "--max-growth") == 0) {
    char *end;
    max_growth = strtod(argv[a + 1], &end);
    if (*end || max_growth < 1) {
      fprintf(stderr, "--max-growth wants a ratio of at least 1 (like 1.1), not \"%s\"\n",
              argv[a + 1]);
      return 2;
    }
    a += 2;
  }
  const char *url = argc > a ? argv[a] : "sqlite:///orm_stream_rss.db";
  long sizes[16] = {500000, 5000000};
  int nsizes = 2;
  if (argc > a + 1) {
    nsizes = 0;
    for (int i = a + 1; i < argc && nsizes < 16; i++) {
      char *end;
      sizes[nsizes] = strtol(argv[i], &end, 10);
      if (*end || sizes[nsizes] < 1 || sizes[nsizes] > 999999999) {
        fprintf(stderr, "row counts are whole numbers from 1 to 999999999, not \"%s\"\n", argv[i]);
        return 2;
      }
      nsizes++;
    }
  }
  int failed = 0;
  long first_kb = 0, last_kb = 0;
  printf("%10s %10s %12s %8s %14s\n", "rows", "batch", "peak RSS kB", "seconds", "max id. map");
  fflush(stdout);
  for (int i = 0; i < nsizes; i++) {
    char out[256];
    if (in_child(fill, url, sizes[i], out, sizeof out)) {
      fprintf(stderr, "filling %ld rows failed\n", sizes[i]);
      return 1;
    }
    if (in_child(stream_fd, url, -1, out, sizeof out)) {
      fprintf(stderr, "streaming %ld rows failed\n", sizes[i]);
      return 1;
    }
    unsigned long long rows;
    long kb;
    double secs;
    size_t map;
    if (sscanf(out, "%llu %ld %lf %zu", &rows, &kb, &secs, &map) != 4) {
      fprintf(stderr, "no figures from the stream of %ld rows\n", sizes[i]);
      return 1;
    }
    printf("%10llu %10d %12ld %8.2f %14zu\n", rows, BATCH, kb, secs, map);
    fflush(stdout);
    if (max_growth > 0 && rows != (unsigned long long)sizes[i]) {
      fprintf(stderr, "FAILED: the stream of the %ld-row table gave %llu objects\n", sizes[i],
              rows);
      failed = 1;
    }
    if (max_growth > 0 && map > BATCH) {
      fprintf(stderr,
              "FAILED: the identity map held %zu objects while streaming %ld rows; released "
              "batches must leave it (at most %d)\n",
              map, sizes[i], BATCH);
      failed = 1;
    }
    if (i == 0)
      first_kb = kb;
    last_kb = kb;
  }
  char out[8];
  if (in_child(drop, url, 0, out, sizeof out))
    fprintf(stderr, "dropping the table failed\n");
  if (nsizes > 1) {
    double growth = (double)last_kb / (double)first_kb;
    printf("peak RSS of the last run / the first: %.3f\n", growth);
    if (max_growth > 0 && growth > max_growth) {
      fprintf(stderr, "FAILED: peak RSS grew %.3fx from %ld to %ld rows (at most %.3fx)\n", growth,
              sizes[0], sizes[nsizes - 1], max_growth);
      failed = 1;
    }
  }
  if (max_growth > 0)
    printf(failed ? "memory check failed\n" : "memory check passed\n");
  return failed;
}
