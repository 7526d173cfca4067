/* bench/bench.c — the benchmark program: sets up its own data and runs every workload on each
 * available backend (PostgreSQL, SQLite, MariaDB), each through uvsql and through the raw
 * client library in the same run, and prints one JSON line per (backend, workload, side) with
 * the side's best seconds, rows/s, its spread, and, on the uvsql line, ratio = uvsql / raw of
 * the bests. Both sides of a workload must return the same rows and checksum
 * (bench/lib/bench.h), else the run stops with an error.
 *
 * Method (bench/README.md, "Method"): every workload alternates the sides within the run,
 * raw, uvsql, raw, uvsql, ... for --rounds rounds (default 3; one measured run per side per
 * round, after that side's warm-up), and keeps the best and the worst round of each side. The
 * 1-minute load average at the program's start is printed on every line; at or above 0.3 the
 * run is flagged (stderr, "quiet":false) as no figure. --check compares every ratio that has
 * a target (the `targets` table below) and exits 1 when one is over, printing PASS/FAIL lines.
 *
 *   bench [--only pg|sqlite|mariadb] [--workloads a,b,...] [--quick] [--rows N] [--lookups N]
 *         [--concurrent N] [--stream-rows N] [--authors N] [--books N] [--insert-rows N]
 *         [--copy-rows N] [--rounds N] [--check]
 *
 * `streaming` runs first, each measurement in a forked child (its peak RSS is its own).
 * PostgreSQL: UVSQL_BENCH_PG_URL, else UVSQL_TEST_PG_URL. MariaDB: UVSQL_BENCH_MARIADB_URL,
 * else UVSQL_TEST_MARIADB_URL (each skipped when unset). SQLite: a file at
 * UVSQL_BENCH_SQLITE_PATH, default /tmp/uvsql-bench.db. See bench/README.md. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
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

/* ------------------------------------------------------------------ targets and checks */

/* The targets of issue 16 (and 15: numeric/uuid), uvsql/raw ratio of the bests unless
 * `metric` says otherwise; backend NULL: every backend. One table: --check reads it. */
typedef struct {
  const char *backend;
  int w;
  const char *metric; /* "ratio" or "peak_growth" (streaming, uvsql side) */
  double max;
} target_t;
static const target_t targets[] = {
    {"sqlite", W_LARGE, "ratio", 1.25},
    {"mariadb", W_LARGE, "ratio", 1.25},
    {NULL, W_ORM_LARGE, "ratio", 2.0},
    {"sqlite", W_SHORT, "ratio", 2.0},
    {"sqlite", W_GET, "ratio", 2.0},
    {"postgresql", W_SHORT, "ratio", 1.1},
    {"postgresql", W_CONCURRENT, "ratio", 1.3}, /* vs 8 raw pipelined connections */
    {"postgresql", W_LARGE_NU, "ratio", 1.25},
    {NULL, W_STREAMING, "peak_growth", 1.05},
};

static const target_t *target_of(const char *backend, int w) {
  for (size_t k = 0; k < sizeof targets / sizeof targets[0]; k++)
    if (targets[k].w == w && (!targets[k].backend || strcmp(targets[k].backend, backend) == 0))
      return &targets[k];
  return NULL;
}

/* The verdicts of this run, printed (and turned into the exit status) by --check. */
static char verdicts[64][160];
static int nverdicts, nfailed, check_mode;

/* JSON members "target", "check" for value v of w on b (nothing without a target). */
static void judge(const char *backend, int w, double v, char *json, size_t size) {
  const target_t *t = target_of(backend, w);
  if (!t) {
    json[0] = '\0';
    return;
  }
  int pass = v <= t->max;
  snprintf(json, size, "\"target_metric\":\"%s\",\"target\":%.2f,\"check\":\"%s\"", t->metric,
           t->max, pass ? "PASS" : "FAIL");
  if (nverdicts < 64)
    snprintf(verdicts[nverdicts++], sizeof verdicts[0], "%s %-10s %-28s %s %.3f (target <= %.2f)",
             pass ? "PASS" : "FAIL", backend, workload_names[w], t->metric, v, t->max);
  nfailed += !pass;
}

/* ------------------------------------------------------------------ load average */

/* The 1-, 5- and 15-minute load averages. */
static void loadavg(double l[3]) {
  l[0] = l[1] = l[2] = -1;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf %lf %lf", &l[0], &l[1], &l[2]) != 3)
      l[0] = l[1] = l[2] = -1;
    fclose(f);
  }
}

/* A run is a figure only on a quiet machine: 1-minute load average below this at start. */
#define QUIET_LOAD 0.3
static double load_start[3]; /* at the program's start, before any setup */
static char run_id[48];      /* "<unix time at start>-<pid>": groups the lines of one run */

/* "run":id,"loadavg_start":[...],"quiet":..,"loadavg":[... now, at the workload's start] */
static void load_json(const double now[3], char *out, size_t size) {
  snprintf(out, size,
           "\"run\":\"%s\",\"loadavg_start\":[%.2f,%.2f,%.2f],\"quiet\":%s,"
           "\"loadavg\":[%.2f,%.2f,%.2f]",
           run_id, load_start[0], load_start[1], load_start[2],
           load_start[0] >= 0 && load_start[0] < QUIET_LOAD ? "true" : "false", now[0], now[1],
           now[2]);
}

/* ------------------------------------------------------------------ alternation */

/* Every workload runs `nrounds` rounds; each round runs every side once, in order (raw,
 * uvsql[, a third side]): raw, uvsql, raw, uvsql, ... so a busy machine slows both alike.
 * Each side reports its best round, its worst, and the spread worst/best; the ratio is of
 * the bests (per row, which is seconds when both sides did the same rows). */
static int nrounds = 3;
#define MAX_SIDES 3

typedef struct {
  bench_run_t best, worst; /* by seconds */
  int n;
} side_stat_t;

static void stat_add(side_stat_t *s, const bench_run_t *r) {
  if (s->n == 0 || r->seconds < s->best.seconds)
    s->best = *r;
  if (s->n == 0 || r->seconds > s->worst.seconds)
    s->worst = *r;
  s->n++;
}

static double per_row(const bench_run_t *r) {
  return r->seconds / (double)(r->rows > 0 ? r->rows : 1);
}

/* One JSON line for a side; against (the raw side's stats) gives the ratio and its check. */
static void report_side(const backend_t *b, int w, const char *side, const side_stat_t *s,
                        const side_stat_t *against, const double load[3], const char *extra) {
  char tail[400] = "", lj[320];
  const bench_run_t *r = &s->best;
  printf("{\"backend\":\"%s\",\"workload\":\"%s\",\"side\":\"%s\",\"seconds\":%.4f,"
         "\"rows\":%lld,\"rows_per_s\":%.0f,\"rounds\":%d,\"best\":%.4f,\"worst\":%.4f,"
         "\"spread\":%.3f",
         b->name, workload_names[w], side, r->seconds, (long long)r->rows,
         r->seconds > 0 ? (double)r->rows / r->seconds : 0.0, s->n, s->best.seconds,
         s->worst.seconds, s->best.seconds > 0 ? s->worst.seconds / s->best.seconds : 0.0);
  if (against && against->best.seconds > 0) {
    double ratio = per_row(r) / per_row(&against->best);
    printf(",\"ratio\":%.3f", ratio);
    const target_t *t = target_of(b->name, w);
    if (strcmp(side, "uvsql") == 0 && t && strcmp(t->metric, "ratio") == 0)
      judge(b->name, w, ratio, tail, sizeof tail);
  }
  if (tail[0])
    printf(",%s", tail);
  load_json(load, lj, sizeof lj);
  printf(",%s", lj);
  if (extra && *extra)
    printf(",%s", extra);
  printf("}\n");
  fflush(stdout);
}

/* One round of a workload: out[k] for side k. 0, or -1 (the side's own message printed). */
typedef int (*round_fn)(const backend_t *b, int w, bench_run_t *out);

/* Runs nrounds rounds of fn; in every round each side must agree with the raw side (rows,
 * checksum) when compare, else the run stops (exit 1). */
static void alternate(const backend_t *b, int w, int nsides, round_fn fn, int compare,
                      side_stat_t *st) {
  memset(st, 0, nsides * sizeof *st);
  for (int round = 0; round < nrounds; round++) {
    bench_run_t r[MAX_SIDES];
    memset(r, 0, sizeof r);
    if (fn(b, w, r) != 0)
      die(b->name, workload_names[w], "a side failed");
    for (int k = 0; k < nsides; k++) {
      if (compare && k > 0)
        check_same(b, workload_names[w], &r[k], &r[0]);
      stat_add(&st[k], &r[k]);
    }
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

/* Rounds of (small raw, small uvsql, big raw, big uvsql), each in a forked child; memory
 * growth per side = peak at the big size / peak at the small one, the worst round's. */
static void run_streaming(const backend_t *b) {
  side_stat_t big[2], small[2];
  memset(big, 0, sizeof big);
  memset(small, 0, sizeof small);
  long peak_big[2] = {0, 0}, peak_small[2] = {0, 0};
  double growth[2] = {0, 0}, load[3];
  long long sizes[2] = {nstream / 10, nstream};
  loadavg(load);
  for (int round = 0; round < nrounds; round++) {
    bench_run_t r[2][2]; /* [small, big][raw, uvsql] */
    long peak[2][2];
    for (int z = 0; z < 2; z++)
      for (int side = 0; side < 2; side++) {
        stream_arg_t a = {b, side, sizes[z]};
        if (bench_in_child(stream_fn, &a, &r[z][side], &peak[z][side]) != 0)
          die(b->name, "streaming", side ? "uvsql side failed" : "raw side failed");
      }
    check_same(b, "streaming", &r[1][1], &r[1][0]);
    check_same(b, "streaming (small)", &r[0][1], &r[0][0]);
    for (int side = 0; side < 2; side++) {
      double g = (double)peak[1][side] / (double)(peak[0][side] ? peak[0][side] : 1);
      if (g > growth[side]) {
        growth[side] = g;
        peak_big[side] = peak[1][side];
        peak_small[side] = peak[0][side];
      }
      stat_add(&big[side], &r[1][side]);
      stat_add(&small[side], &r[0][side]);
    }
  }
  for (int side = 0; side < 2; side++) {
    char extra[600], verdict[200] = "";
    if (side == 1)
      judge(b->name, W_STREAMING, growth[1], verdict, sizeof verdict);
    snprintf(extra, sizeof extra,
             "\"batch_rows\":%d,\"peak_rss_kb\":%ld,\"rows_small\":%lld,\"seconds_small\":%.4f,"
             "\"peak_rss_kb_small\":%ld,\"peak_growth\":%.3f%s%s",
             BENCH_STREAM_BATCH, peak_big[side], sizes[0], small[side].best.seconds,
             peak_small[side], growth[side], verdict[0] ? "," : "", verdict);
    report_side(b, W_STREAMING, side ? "uvsql" : "raw", &big[side], side ? &big[0] : NULL, load,
                extra);
  }
}

/* ------------------------------------------------------------------ one round per workload */

#define SIDE(call, side)                                                                           \
  do {                                                                                             \
    if ((call) != 0) {                                                                             \
      fprintf(stderr, "bench: %s %s: %s side failed\n", b->name, workload_names[w], side);         \
      return -1;                                                                                   \
    }                                                                                              \
  } while (0)

static int round_large(const backend_t *b, int w, bench_run_t *r) {
  SIDE(b->large(b->target, &r[0]), "raw");
  SIDE(uvsql_large_resultset(b->url, &r[1]), "uvsql");
  return 0;
}
static int round_orm_large(const backend_t *b, int w, bench_run_t *r) {
  SIDE(b->orm_large(b->target, &r[0]), "raw");
  SIDE(uvsql_orm_large_resultset(b->url, &r[1]), "uvsql");
  return 0;
}
static int round_short(const backend_t *b, int w, bench_run_t *r) {
  SIDE(b->short_selects(b->target, nlookups, nrows, &r[0]), "raw");
  SIDE(uvsql_short_selects(b->url, nlookups, nrows, &r[1]), "uvsql");
  return 0;
}
static int round_get(const backend_t *b, int w, bench_run_t *r) {
  SIDE(b->get(b->target, nlookups, nrows, &r[0]), "raw");
  SIDE(uvsql_orm_get(b->url, nlookups, nrows, &r[1]), "uvsql");
  return 0;
}
static int round_concurrent(const backend_t *b, int w, bench_run_t *r) {
  SIDE(b->concurrent(b->target, nconcurrent, 8, nrows, &r[0]), "raw");
  SIDE(uvsql_concurrent_selects(b->url, nconcurrent, 64, 8, nrows, &r[1]), "uvsql");
  return 0;
}
static int round_eager(const backend_t *b, int w, bench_run_t *r) {
  SIDE((w == W_SELECTIN ? b->selectin : b->joined)(b->target, &r[0]), "raw");
  SIDE((w == W_SELECTIN ? uvsql_eager_selectin : uvsql_eager_joined)(b->url, &r[1]), "uvsql");
  return 0;
}
static int round_insert(const backend_t *b, int w, bench_run_t *r) { /* fresh table per side */
  SIDE(b->insert_setup(b->target), "raw setup");
  SIDE(b->insert(b->target, ninsert, &r[0]), "raw");
  SIDE(b->insert_setup(b->target), "uvsql setup");
  SIDE(uvsql_bulk_insert(b->url, ninsert, &r[1]), "uvsql");
  return 0;
}
static int round_many(const backend_t *b, int w, bench_run_t *r) {
  SIDE(b->many_setup(b->target), "raw setup");
  SIDE(b->many(b->target, ninsert, &r[0]), "raw");
  SIDE(b->many_setup(b->target), "uvsql setup");
  SIDE(uvsql_many(b->url, ninsert, &r[1]), "uvsql");
  return 0;
}
/* copy_in (PostgreSQL): raw libpq binary COPY, uvsql_engine_copy_in, and uvsql's multi-row
 * INSERT path (use_insert). */
static int round_copy(const backend_t *b, int w, bench_run_t *r) {
  SIDE(pg_copy_in(b->target, ncopy, &r[0]), "raw");
  SIDE(uvsql_copy_in_bench(b->url, b->target, ncopy, 0, &r[1]), "uvsql");
  SIDE(uvsql_copy_in_bench(b->url, b->target, ncopy, 1, &r[2]), "uvsql_insert");
  for (int k = 0; k < 3; k++)
    if (r[k].rows != ncopy) {
      fprintf(stderr, "bench: %s copy_in: a side did not write every row\n", b->name);
      return -1;
    }
  return 0;
}
/* large_resultset_numeric_uuid (PostgreSQL): one call runs a warm-up of each side, then raw
 * and uvsql once each (bench/lib/numeric_uuid.c). */
static int round_nu(const backend_t *b, int w, bench_run_t *r) {
  SIDE(bench_pg_numeric_uuid(b->target, b->url, nrows, 1, &r[0], &r[1]), "raw or uvsql");
  return 0;
}

static void run_workload(const backend_t *b, int w) {
  static const round_fn rounds[W_COUNT] = {[W_LARGE] = round_large,
                                           [W_ORM_LARGE] = round_orm_large,
                                           [W_SHORT] = round_short,
                                           [W_GET] = round_get,
                                           [W_CONCURRENT] = round_concurrent,
                                           [W_SELECTIN] = round_eager,
                                           [W_JOINED] = round_eager,
                                           [W_INSERT] = round_insert,
                                           [W_MANY] = round_many,
                                           [W_COPY_IN] = round_copy,
                                           [W_LARGE_NU] = round_nu};
  const int pg = strcmp(b->name, "postgresql") == 0;
  if ((w == W_COPY_IN || w == W_LARGE_NU) && !pg)
    return; /* PostgreSQL's (COPY; its numeric and uuid columns) */
  if (w == W_COPY_IN && pg_copy_setup(b->target) != 0)
    die(b->name, "copy_in", "setup failed");
  side_stat_t st[MAX_SIDES];
  double load[3];
  char raw_extra[400] = "", uv_extra[400] = "";
  loadavg(load);
  /* concurrent_selects: keys differ between the sides, only rows (per-row ratio) compare */
  alternate(b, w, w == W_COPY_IN ? 3 : 2, rounds[w], w != W_CONCURRENT, st);
  switch (w) {
  case W_ORM_LARGE:
    snprintf(raw_extra, sizeof raw_extra, "\"note\":\"structs with strdup'd names\"");
    snprintf(uv_extra, sizeof uv_extra, "\"note\":\"AsyncSession select of the bench_row model\"");
    break;
  case W_GET:
    snprintf(raw_extra, sizeof raw_extra, "\"note\":\"prepared lookup filling one struct\"");
    snprintf(uv_extra, sizeof uv_extra, "\"note\":\"session.get, a fresh session every %d\"",
             BENCH_GET_SESSION);
    break;
  case W_CONCURRENT: {
    double tps = pg && pgbench_seconds > 0 ? pg_pgbench_tps(b->target, 8, pgbench_seconds) : -1;
    snprintf(raw_extra, sizeof raw_extra, "\"note\":\"%s\"", b->concurrent_note);
    snprintf(uv_extra, sizeof uv_extra, "\"note\":\"64 callers, pool of 8\"");
    if (tps > 0)
      snprintf(uv_extra, sizeof uv_extra,
               "\"note\":\"64 callers, pool of 8\",\"pgbench_S_prepared_c8_tps\":%.0f,"
               "\"vs_pgbench\":%.3f",
               tps, ((double)st[1].best.rows / st[1].best.seconds) / tps);
    break;
  }
  case W_SELECTIN:
  case W_JOINED:
    snprintf(raw_extra, sizeof raw_extra, "\"authors\":%d,\"books_per_author\":%d", nauthors,
             nbooks);
    snprintf(uv_extra, sizeof uv_extra, "%s", raw_extra);
    break;
  case W_INSERT:
    snprintf(raw_extra, sizeof raw_extra, "\"batch_rows\":%d", BENCH_INSERT_BATCH);
    snprintf(uv_extra, sizeof uv_extra, "%s", raw_extra);
    break;
  case W_COPY_IN:
    snprintf(raw_extra, sizeof raw_extra, "\"note\":\"binary COPY, 1000-row batches\"");
    snprintf(uv_extra, sizeof uv_extra, "%s", raw_extra);
    report_side(b, w, "raw", &st[0], NULL, load, raw_extra);
    report_side(b, w, "uvsql", &st[1], &st[0], load, uv_extra);
    report_side(b, w, "uvsql_insert", &st[2], &st[0], load,
                "\"note\":\"uvsql copy_in use_insert: 1000-row INSERTs, one transaction\"");
    return;
  }
  report_side(b, w, "raw", &st[0], NULL, load, raw_extra);
  report_side(b, w, "uvsql", &st[1], &st[0], load, uv_extra);
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
          "[--insert-rows N] [--copy-rows N] [--rounds N] [--check]\nworkloads:",
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
    if (strcmp(a, "--check") == 0) {
      check_mode = 1;
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
    else if (strcmp(a, "--rounds") == 0 && atoi(v) > 0)
      nrounds = atoi(v);
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

  loadavg(load_start);
  snprintf(run_id, sizeof run_id, "%lld-%ld", (long long)time(NULL), (long)getpid());
  if (load_start[0] >= QUIET_LOAD)
    fprintf(stderr,
            "bench: warning: load average %.2f (1 min) at start, >= %.1f: this run is no figure "
            "(every line says \"quiet\":false); run on a quiet machine\n",
            load_start[0], QUIET_LOAD);
  bench_reps = 1; /* one measured run per side per round: alternate() does the repeating */
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
  if (!check_mode)
    return 0;
  for (int k = 0; k < nverdicts; k++)
    fprintf(stderr, "%s\n", verdicts[k]);
  fprintf(stderr, "bench --check: %d of %d targets met%s\n", nverdicts - nfailed, nverdicts,
          load_start[0] >= QUIET_LOAD ? " (load at start too high: not a figure)" : "");
  return nfailed ? 1 : 0;
}
