/* bench/bench.c — the benchmark program: sets up its own data and runs every workload on each
 * available backend (PostgreSQL, SQLite, MariaDB), each through uvsql and through the raw
 * client library in the same run, and prints one JSON line per (backend, workload, side) with
 * seconds, rows/s and, on the uvsql line, ratio = uvsql seconds / raw seconds. Both sides of a
 * workload must return the same rows and checksum (bench/lib/bench.h), else the run stops
 * with an error.
 *
 *   bench [--only pg|sqlite|mariadb] [--workloads a,b,...] [--quick] [--rows N] [--lookups N]
 *         [--concurrent N] [--stream-rows N] [--authors N] [--books N] [--insert-rows N]
 *         [--copy-rows N]
 *
 * `streaming` runs first, each measurement in a forked child (its peak RSS is its own).
 * PostgreSQL: UVSQL_BENCH_PG_URL, else UVSQL_TEST_PG_URL. MariaDB: UVSQL_BENCH_MARIADB_URL,
 * else UVSQL_TEST_MARIADB_URL (each skipped when unset). SQLite: a file at
 * UVSQL_BENCH_SQLITE_PATH, default /tmp/uvsql-bench.db. See bench/README.md. */
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "raw_mariadb.h"

static int64_t nrows = 500000;
static int nlookups = 10000, nconcurrent = 20000, nauthors = 2000, nbooks = 10, ninsert = 100000;
static long long nstream = 5000000;
static int ncopy = 1000000;
static int pgbench_seconds = 5;

enum {
  W_STREAMING,
  W_LARGE,
  W_ORM_LARGE,
  W_SHORT,
  W_GET,
  W_CONCURRENT,
  W_SELECTIN,
  W_JOINED,
  W_INSERT,
  W_MANY,
  W_COPY_IN,
  W_LARGE_NU,
  W_COUNT
};
static const char *const workload_names[W_COUNT] = {
    "streaming",           "large_resultset",   "orm_large_resultset",
    "short_selects",       "orm_get",           "concurrent_selects",
    "eager_load_selectin", "eager_load_joined", "orm_bulk_insert",
    "executemany",         "copy_in",           "large_resultset_numeric_uuid"};
static int selected[W_COUNT];

typedef struct {
  const char *name;   /* as printed: postgresql, sqlite, mariadb */
  const char *url;    /* uvsql's */
  const char *target; /* the raw library's: conninfo, path or URL */
  const char *stream_fmt;
  int (*stream)(const char *, const char *, bench_run_t *);
  int (*setup)(const char *, int64_t);
  int (*large)(const char *, bench_run_t *);
  int (*orm_large)(const char *, bench_run_t *);
  int (*short_selects)(const char *, int, int64_t, bench_run_t *);
  int (*get)(const char *, int, int64_t, bench_run_t *);
  int (*concurrent)(const char *, int, int, int64_t, bench_run_t *);
  const char *concurrent_note;
  int (*eager_setup)(const char *, int, int);
  int (*selectin)(const char *, bench_run_t *);
  int (*joined)(const char *, bench_run_t *);
  int (*insert_setup)(const char *);
  int (*insert)(const char *, int, bench_run_t *);
  int (*many_setup)(const char *);
  int (*many)(const char *, int, bench_run_t *);
} backend_t;

static void die(const char *backend, const char *workload, const char *what) {
  fprintf(stderr, "bench: %s %s: %s\n", backend, workload, what);
  exit(1);
}

static void check_same(const backend_t *b, const char *workload, const bench_run_t *u,
                       const bench_run_t *r) {
  double tol = 1e-9 * (r->checksum > 0 ? r->checksum : -r->checksum) + 1e-6;
  if (u->rows != r->rows || u->checksum - r->checksum > tol || r->checksum - u->checksum > tol) {
    fprintf(stderr,
            "bench: %s %s: uvsql and raw disagree (uvsql %lld rows, checksum %.6f; raw %lld "
            "rows, checksum %.6f)\n",
            b->name, workload, (long long)u->rows, u->checksum, (long long)r->rows, r->checksum);
    exit(1);
  }
}

/* ------------------------------------------------------------------ streaming */

typedef struct {
  const backend_t *b;
  int uvsql; /* which side */
  long long n;
} stream_arg_t;

static int stream_fn(const void *arg, bench_run_t *out) {
  const stream_arg_t *a = arg;
  char sql[400];
  snprintf(sql, sizeof sql, a->b->stream_fmt, a->n);
  if (a->uvsql)
    return uvsql_streaming(a->b->url, sql, BENCH_STREAM_BATCH, out);
  return a->b->stream(a->b->target, sql, out);
}

static void run_streaming(const backend_t *b) {
  bench_run_t r[2][2]; /* [small, big][raw, uvsql] */
  long peak[2][2];
  long long sizes[2] = {nstream / 10, nstream};
  for (int z = 0; z < 2; z++)
    for (int side = 0; side < 2; side++) {
      stream_arg_t a = {b, side, sizes[z]};
      if (bench_in_child(stream_fn, &a, &r[z][side], &peak[z][side]) != 0)
        die(b->name, "streaming", side ? "uvsql side failed" : "raw side failed");
    }
  check_same(b, "streaming", &r[1][1], &r[1][0]);
  check_same(b, "streaming (small)", &r[0][1], &r[0][0]);
  for (int side = 0; side < 2; side++) {
    char extra[400];
    snprintf(extra, sizeof extra,
             "\"batch_rows\":%d,\"peak_rss_kb\":%ld,\"rows_small\":%lld,\"seconds_small\":%.4f,"
             "\"peak_rss_kb_small\":%ld,\"peak_growth\":%.3f",
             BENCH_STREAM_BATCH, peak[1][side], sizes[0], r[0][side].seconds, peak[0][side],
             (double)peak[1][side] / (double)(peak[0][side] ? peak[0][side] : 1));
    bench_report(b->name, "streaming", side ? "uvsql" : "raw", &r[1][side],
                 side ? r[1][0].seconds : 0, extra);
  }
}

/* ------------------------------------------------------------------ the other workloads */

/* Prints the pair; the checksums must agree unless compare is 0. */
static void report_pair(const backend_t *b, int w, const bench_run_t *u, const bench_run_t *r,
                        int compare, const char *raw_extra, const char *uvsql_extra) {
  if (compare)
    check_same(b, workload_names[w], u, r);
  bench_report(b->name, workload_names[w], "raw", r, 0, raw_extra);
  bench_report(b->name, workload_names[w], "uvsql", u, r->seconds, uvsql_extra);
}

#define SIDE(call, side)                                                                           \
  do {                                                                                             \
    if ((call) != 0)                                                                               \
      die(b->name, workload_names[w], side " side failed");                                        \
  } while (0)

/* The 1-, 5- and 15-minute load averages as JSON members (the machine may be busy). */
static void loadavg_json(char *out, size_t size) {
  double l1 = -1, l5 = -1, l15 = -1;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf %lf %lf", &l1, &l5, &l15) != 3)
      l1 = l5 = l15 = -1;
    fclose(f);
  }
  snprintf(out, size, "\"loadavg\":[%.2f,%.2f,%.2f]", l1, l5, l15);
}

/* copy_in (PostgreSQL): raw libpq binary COPY, uvsql_engine_copy_in, and uvsql's multi-row
 * INSERT path (use_insert), alternated (the order flips every round), best of 3 each. */
static void run_copy_in(const backend_t *b) {
  bench_run_t best[3] = {{.seconds = 1e9}, {.seconds = 1e9}, {.seconds = 1e9}};
  char extra[300], load[96];
  const int w = W_COPY_IN;
  if (strcmp(b->name, "postgresql") != 0)
    return; /* COPY is PostgreSQL's; the other backends' copy_in is their INSERT path */
  if (pg_copy_setup(b->target) != 0)
    die(b->name, "copy_in", "setup failed");
  for (int round = 0; round < 3; round++) {
    for (int k = 0; k < 3; k++) {
      int side = round % 2 ? 2 - k : k;
      bench_run_t r = {0};
      if (side == 0)
        SIDE(pg_copy_in(b->target, ncopy, &r), "raw");
      else
        SIDE(uvsql_copy_in_bench(b->url, b->target, ncopy, side == 2, &r), "uvsql");
      if (r.rows != ncopy)
        die(b->name, "copy_in", "a side did not write every row");
      if (r.seconds < best[side].seconds)
        best[side] = r;
    }
  }
  check_same(b, "copy_in", &best[1], &best[0]);
  check_same(b, "copy_in", &best[2], &best[0]);
  loadavg_json(load, sizeof load);
  snprintf(extra, sizeof extra, "\"note\":\"binary COPY, 1000-row batches\",%s", load);
  bench_report(b->name, workload_names[w], "raw", &best[0], 0, extra);
  bench_report(b->name, workload_names[w], "uvsql", &best[1], best[0].seconds, extra);
  snprintf(extra, sizeof extra,
           "\"note\":\"uvsql copy_in use_insert: 1000-row INSERTs, one transaction\",%s", load);
  bench_report(b->name, workload_names[w], "uvsql_insert", &best[2], best[0].seconds, extra);
}

static void run_workload(const backend_t *b, int w) {
  bench_run_t u = {0}, r = {0};
  char extra[300] = "";
  switch (w) {
  case W_LARGE:
    SIDE(b->large(b->target, &r), "raw");
    SIDE(uvsql_large_resultset(b->url, &u), "uvsql");
    report_pair(b, w, &u, &r, 1, NULL, NULL);
    break;
  case W_ORM_LARGE:
    SIDE(b->orm_large(b->target, &r), "raw");
    SIDE(uvsql_orm_large_resultset(b->url, &u), "uvsql");
    report_pair(b, w, &u, &r, 1, "\"note\":\"structs with strdup'd names\"",
                "\"note\":\"AsyncSession select of the bench_row model\"");
    break;
  case W_SHORT:
    SIDE(b->short_selects(b->target, nlookups, nrows, &r), "raw");
    SIDE(uvsql_short_selects(b->url, nlookups, nrows, &u), "uvsql");
    report_pair(b, w, &u, &r, 1, NULL, NULL);
    break;
  case W_GET:
    SIDE(b->get(b->target, nlookups, nrows, &r), "raw");
    SIDE(uvsql_orm_get(b->url, nlookups, nrows, &u), "uvsql");
    snprintf(extra, sizeof extra, "\"note\":\"session.get, a fresh session every %d\"",
             BENCH_GET_SESSION);
    report_pair(b, w, &u, &r, 1, "\"note\":\"prepared lookup filling one struct\"", extra);
    break;
  case W_CONCURRENT: {
    SIDE(b->concurrent(b->target, nconcurrent, 8, nrows, &r), "raw");
    SIDE(uvsql_concurrent_selects(b->url, nconcurrent, 64, 8, nrows, &u), "uvsql");
    double tps = strcmp(b->name, "postgresql") == 0 && pgbench_seconds > 0
                     ? pg_pgbench_tps(b->target, 8, pgbench_seconds)
                     : -1;
    snprintf(extra, sizeof extra, "\"note\":\"64 callers, pool of 8\"");
    if (tps > 0)
      snprintf(extra, sizeof extra,
               "\"note\":\"64 callers, pool of 8\",\"pgbench_S_prepared_c8_tps\":%.0f,"
               "\"vs_pgbench\":%.3f",
               tps, ((double)u.rows / u.seconds) / tps);
    char note[160];
    snprintf(note, sizeof note, "\"note\":\"%s\"", b->concurrent_note);
    report_pair(b, w, &u, &r, 0, note, extra);
    break;
  }
  case W_SELECTIN:
  case W_JOINED:
    SIDE((w == W_SELECTIN ? b->selectin : b->joined)(b->target, &r), "raw");
    SIDE((w == W_SELECTIN ? uvsql_eager_selectin : uvsql_eager_joined)(b->url, &u), "uvsql");
    snprintf(extra, sizeof extra, "\"authors\":%d,\"books_per_author\":%d", nauthors, nbooks);
    report_pair(b, w, &u, &r, 1, extra, extra);
    break;
  case W_COPY_IN:
    run_copy_in(b);
    break;
  case W_INSERT: {
    bench_run_t best_r = {.seconds = 1e9}, best_u = {.seconds = 1e9};
    for (int run = 0; run < BENCH_INSERT_RUNS; run++) {
      SIDE(b->insert_setup(b->target), "raw setup");
      SIDE(b->insert(b->target, ninsert, &r), "raw");
      SIDE(b->insert_setup(b->target), "uvsql setup");
      SIDE(uvsql_bulk_insert(b->url, ninsert, &u), "uvsql");
      check_same(b, workload_names[w], &u, &r);
      best_r = r.seconds < best_r.seconds ? r : best_r;
      best_u = u.seconds < best_u.seconds ? u : best_u;
    }
    snprintf(extra, sizeof extra, "\"batch_rows\":%d,\"runs\":%d", BENCH_INSERT_BATCH,
             BENCH_INSERT_RUNS);
    report_pair(b, w, &best_u, &best_r, 1, extra, extra);
    break;
  }
  case W_MANY: {
    bench_run_t best_r = {.seconds = 1e9}, best_u = {.seconds = 1e9};
    for (int run = 0; run < BENCH_INSERT_RUNS; run++) {
      SIDE(b->many_setup(b->target), "raw setup");
      SIDE(b->many(b->target, ninsert, &r), "raw");
      SIDE(b->many_setup(b->target), "uvsql setup");
      SIDE(uvsql_many(b->url, ninsert, &u), "uvsql");
      check_same(b, workload_names[w], &u, &r);
      best_r = r.seconds < best_r.seconds ? r : best_r;
      best_u = u.seconds < best_u.seconds ? u : best_u;
    }
    snprintf(extra, sizeof extra, "\"runs\":%d,\"note\":\"sides alternated\"", BENCH_INSERT_RUNS);
    report_pair(b, w, &best_u, &best_r, 1, extra, extra);
    break;
  }
  case W_LARGE_NU: /* PostgreSQL only: its numeric and uuid columns (bench/lib/numeric_uuid.c) */
    if (strcmp(b->name, "postgresql") != 0)
      break;
    SIDE(bench_pg_numeric_uuid(b->target, b->url, nrows, 5, &r, &u), "raw or uvsql");
    report_pair(b, w, &u, &r, 1, "\"note\":\"sides alternated, best of 5\"",
                "\"note\":\"sides alternated, best of 5\"");
    break;
  }
}

static void run_backend(const backend_t *b) {
  int rows_setup = 0, eager_setup = 0;
  for (int w = W_LARGE; w < W_COUNT; w++) {
    if (!selected[w])
      continue;
    if (w <= W_CONCURRENT && !rows_setup) {
      if (b->setup(b->target, nrows) != 0)
        die(b->name, "bench_rows", "setup failed");
      rows_setup = 1;
    }
    if ((w == W_SELECTIN || w == W_JOINED) && !eager_setup) {
      if (b->eager_setup(b->target, nauthors, nbooks) != 0)
        die(b->name, "eager_load", "setup failed");
      eager_setup = 1;
    }
    run_workload(b, w);
  }
}

/* SQLite has one writer: its "concurrent" raw side is the sequential lookups. */
static int sqlite_concurrent(const char *path, int n, int conns, int64_t nkeys, bench_run_t *out) {
  (void)conns;
  return sqlite_short_selects(path, n, nkeys, out);
}

static int select_workloads(const char *list) {
  char *copy = strdup(list), *save = NULL;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    int found = 0;
    for (int w = 0; w < W_COUNT; w++)
      if (strcmp(t, workload_names[w]) == 0 ||
          (strcmp(t, "eager_load") == 0 && (w == W_SELECTIN || w == W_JOINED)))
        selected[w] = found = 1;
    if (!found) {
      fprintf(stderr, "bench: unknown workload %s\n", t);
      free(copy);
      return -1;
    }
  }
  free(copy);
  return 0;
}

static const char *env(const char *a, const char *b) {
  const char *v = getenv(a);
  if ((!v || !*v) && b)
    v = getenv(b);
  return v && *v ? v : NULL;
}

static int usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s [--only pg|sqlite|mariadb] [--workloads a,b,...] [--quick] [--rows N] "
          "[--lookups N] [--concurrent N] [--stream-rows N] [--authors N] [--books N] "
          "[--insert-rows N] [--copy-rows N]\nworkloads:",
          argv0);
  for (int w = 0; w < W_COUNT; w++)
    fprintf(stderr, " %s", workload_names[w]);
  fprintf(stderr, " (eager_load = both eager ones)\n");
  return 2;
}

int main(int argc, char **argv) {
  const char *only = NULL, *list = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--quick") == 0) {
      nrows = 20000, nlookups = 1000, nconcurrent = 2000, nstream = 200000;
      nauthors = 200, ninsert = 5000, pgbench_seconds = 1, ncopy = 50000;
      continue;
    }
    if (!v)
      return usage(argv[0]);
    i++;
    if (strcmp(a, "--only") == 0)
      only = v;
    else if (strcmp(a, "--workloads") == 0)
      list = v;
    else if (strcmp(a, "--rows") == 0)
      nrows = atoll(v);
    else if (strcmp(a, "--lookups") == 0)
      nlookups = atoi(v);
    else if (strcmp(a, "--concurrent") == 0)
      nconcurrent = atoi(v);
    else if (strcmp(a, "--stream-rows") == 0)
      nstream = atoll(v);
    else if (strcmp(a, "--authors") == 0)
      nauthors = atoi(v);
    else if (strcmp(a, "--books") == 0)
      nbooks = atoi(v);
    else if (strcmp(a, "--insert-rows") == 0)
      ninsert = atoi(v);
    else if (strcmp(a, "--copy-rows") == 0)
      ncopy = atoi(v);
    else
      return usage(argv[0]);
  }
  if (only && strcmp(only, "pg") != 0 && strcmp(only, "sqlite") != 0 &&
      strcmp(only, "mariadb") != 0)
    return usage(argv[0]);
  if (!list)
    for (int w = 0; w < W_COUNT; w++)
      selected[w] = 1;
  else if (select_workloads(list) != 0)
    return usage(argv[0]);

  const char *sq = env("UVSQL_BENCH_SQLITE_PATH", NULL);
  char sqlite_url[600];
  snprintf(sqlite_url, sizeof sqlite_url, "sqlite:///%s", sq ? sq : "/tmp/uvsql-bench.db");
  backend_t backends[3] = {
      {"postgresql", env("UVSQL_BENCH_PG_URL", "UVSQL_TEST_PG_URL"), NULL, BENCH_STREAM_PG,
       pg_streaming, pg_setup, pg_large_resultset, pg_orm_large_resultset, pg_short_selects,
       pg_get_lookups, pg_concurrent_selects, "8 connections, pipelined", pg_eager_setup,
       pg_eager_selectin, pg_eager_joined, pg_bulk_insert_setup, pg_bulk_insert, pg_many_setup,
       pg_many},
      {"sqlite", sqlite_url, sq ? sq : "/tmp/uvsql-bench.db", BENCH_STREAM_SQLITE, sqlite_streaming,
       sqlite_setup, sqlite_large_resultset, sqlite_orm_large_resultset, sqlite_short_selects,
       sqlite_get_lookups, sqlite_concurrent, "one connection, sequential", sqlite_eager_setup,
       sqlite_eager_selectin, sqlite_eager_joined, sqlite_bulk_insert_setup, sqlite_bulk_insert,
       sqlite_many_setup, sqlite_many},
      {"mariadb", env("UVSQL_BENCH_MARIADB_URL", "UVSQL_TEST_MARIADB_URL"), NULL,
       BENCH_STREAM_MARIADB, mariadb_streaming, mariadb_setup, mariadb_large_resultset,
       mariadb_orm_large_resultset, mariadb_short_selects, mariadb_get_lookups,
       mariadb_concurrent_selects, "8 connections", mariadb_eager_setup, mariadb_eager_selectin,
       mariadb_eager_joined, mariadb_bulk_insert_setup, mariadb_bulk_insert, mariadb_many_setup,
       mariadb_many}};
  const char *flags[3] = {"pg", "sqlite", "mariadb"};
  /* sqlite always has a URL (a default file); its variable is named for a complete table */
  const char *envs[3] = {"UVSQL_BENCH_PG_URL", "UVSQL_BENCH_SQLITE_PATH",
                         "UVSQL_BENCH_MARIADB_URL"};
  int use[3];
  for (int k = 0; k < 3; k++) {
    backends[k].target = backends[k].target ? backends[k].target : backends[k].url;
    use[k] = !only || strcmp(only, flags[k]) == 0;
    if (use[k] && !backends[k].url) {
      fprintf(stderr, "bench: %s skipped: set %s\n", backends[k].name, envs[k]);
      use[k] = 0;
    }
  }
  /* Streaming first: forked children inherit the parent's resident size, so it is measured
   * before the other workloads have grown it. */
  if (selected[W_STREAMING])
    for (int k = 0; k < 3; k++)
      if (use[k])
        run_streaming(&backends[k]);
  for (int k = 0; k < 3; k++)
    if (use[k])
      run_backend(&backends[k]);
  return 0;
}
