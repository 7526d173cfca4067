/* bench/lib/uvsql_side.c — the workloads through uvsql: engine, pool, text statements and the
 * typed getters, as a user would write them. Each function makes its own loop and engine,
 * warms up (connect, prepare, learn result types) and then times the work. */
#include <stdlib.h>
#include <string.h>
#include <uvsql.h>
#include "bench.h"
#include "uvsql_env.h"

/* UVSQL_BENCH_LISTENER=1: every engine gets an event listener that counts (what
 * instrumentation costs when used; unset, the events cost one NULL test). */
static void count_event(const uvsql_event_t *ev, void *data) {
  (void)ev;
  (*(uint64_t *)data)++;
}
static uint64_t bench_events;

int bench_env_open(bench_env_t *env, const char *url, int pool) {
  uvsql_error_t err;
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = pool;
  opt.max_overflow = 0;
  uv_loop_init(&env->loop);
  if (uvsql_engine_new(&env->engine, &env->loop, url, &opt, &err) != 0) {
    fprintf(stderr, "engine: %s\n", err.message);
    return -1;
  }
  const char *l = getenv("UVSQL_BENCH_LISTENER");
  if (l && *l && strcmp(l, "0") != 0)
    uvsql_engine_set_listener(env->engine, count_event, &bench_events);
  return 0;
}

void bench_env_close(bench_env_t *env) {
  uvsql_future_t *f = uvsql_engine_dispose(env->engine, NULL, NULL);
  uvsql_future_wait(f);
  uvsql_future_unref(f);
  uv_run(&env->loop, UV_RUN_DEFAULT);
  uv_loop_close(&env->loop);
}

int bench_failed(uvsql_future_t *f, const char *what) {
  const uvsql_error_t *e = uvsql_future_error(f);
  fprintf(stderr, "%s: %s\n", what, e ? e->message : "?");
  uvsql_future_unref(f);
  return -1;
}

int bench_wait(uvsql_future_t *f, const char *what) {
  if (uvsql_future_wait(f) != 0)
    return bench_failed(f, what);
  uvsql_future_unref(f);
  return 0;
}

/* Reads every row the way an application would; adds to the run's checksum. */
static void consume(const uvsql_result_t *r, bench_run_t *run) {
  size_t n = uvsql_result_nrows(r);
  for (size_t i = 0; i < n; i++) {
    int64_t id, ts;
    double x;
    int flag;
    const char *name;
    size_t len;
    uvsql_result_int64(r, i, 0, &id);
    uvsql_result_text(r, i, 1, &name, &len);
    uvsql_result_double(r, i, 2, &x);
    uvsql_result_timestamp(r, i, 3, &ts);
    uvsql_result_bool(r, i, 4, &flag);
    run->checksum += BENCH_ROW_SUM(id, x, flag, len, ts);
  }
  run->rows += (int64_t)n;
}

typedef struct {
  bench_env_t env;
  uvsql_stmt_t *st;
  uvsql_conn_t *conn; /* short_selects: one connection for every lookup */
} core_t;

static int large_once(void *ctx, bench_run_t *run) {
  core_t *c = ctx;
  double t0 = bench_now();
  uvsql_future_t *f = uvsql_engine_execute(c->env.engine, c->st, NULL, 0, NULL, NULL);
  if (uvsql_future_wait(f) != 0)
    return bench_failed(f, "large_resultset");
  consume(uvsql_future_value(f), run);
  uvsql_future_unref(f);
  run->seconds = bench_now() - t0;
  return 0;
}

int uvsql_large_resultset(const char *url, bench_run_t *out) {
  core_t c = {0};
  if (bench_env_open(&c.env, url, 1) != 0 || uvsql_text(&c.st, BENCH_SELECT_ALL, NULL) != 0 ||
      bench_best_of(3, large_once, &c, out) != 0)
    return -1;
  uvsql_stmt_free(c.st);
  bench_env_close(&c.env);
  return 0;
}

static int short_one(void *ctx, int64_t key, bench_run_t *run) {
  core_t *c = ctx;
  uvsql_param_t p[] = {UVSQL_P_INT64("id", key)};
  uvsql_future_t *f = uvsql_conn_execute(c->conn, c->st, p, 1, NULL, NULL);
  if (uvsql_future_wait(f) != 0)
    return bench_failed(f, "short_selects");
  consume(uvsql_future_value(f), run);
  uvsql_future_unref(f);
  return 0;
}

int uvsql_short_selects(const char *url, int n, int64_t nkeys, bench_run_t *out) {
  core_t c = {0};
  if (bench_env_open(&c.env, url, 1) != 0 || uvsql_text(&c.st, BENCH_SELECT_ONE, NULL) != 0)
    return -1;
  uvsql_future_t *f = uvsql_engine_connect(c.env.engine, NULL, NULL);
  if (uvsql_future_wait(f) != 0)
    return bench_failed(f, "connect");
  c.conn = uvsql_future_value(f);
  uvsql_future_unref(f);
  if (bench_lookups(n, nkeys, short_one, &c, out) != 0)
    return -1;
  uvsql_conn_release(c.conn);
  uvsql_stmt_free(c.st);
  bench_env_close(&c.env);
  return 0;
}

typedef struct caller_s {
  bench_env_t *env;
  uvsql_stmt_t *st;
  int left;
  int64_t key, nkeys;
  bench_run_t *run;
  int *active;
} caller_t;

static void caller_next(caller_t *c);

static void caller_done(uvsql_future_t *f, void *data) {
  caller_t *c = data;
  if (uvsql_future_state(f) != UVSQL_FUTURE_RESOLVED) {
    fprintf(stderr, "concurrent_selects: %s\n", uvsql_future_error(f)->message);
    exit(1);
  }
  consume(uvsql_future_value(f), c->run);
  caller_next(c);
}

static void caller_next(caller_t *c) {
  if (c->left-- == 0) {
    (*c->active)--;
    return;
  }
  c->key = 1 + (c->key * 7919 + 13) % c->nkeys;
  uvsql_param_t p[] = {UVSQL_P_INT64("id", c->key)};
  uvsql_engine_execute(c->env->engine, c->st, p, 1, caller_done, c);
}

int uvsql_concurrent_selects(const char *url, int n, int ncallers, int pool, int64_t nkeys,
                             bench_run_t *out) {
  bench_env_t env;
  uvsql_stmt_t *st;
  if (bench_env_open(&env, url, pool) != 0 || uvsql_text(&st, BENCH_SELECT_ONE, NULL) != 0)
    return -1;
  caller_t *callers = calloc((size_t)ncallers, sizeof *callers);
  bench_run_t run = {0};
  int active = 0;
  for (int pass = 0; pass < 2; pass++) { /* pass 0 warms up every pooled connection */
    memset(&run, 0, sizeof run);
    int per = pass == 0 ? 20 : n / ncallers;
    double t0 = bench_now();
    for (int i = 0; i < ncallers; i++) {
      callers[i] = (caller_t){&env, st, per, i, nkeys, &run, &active};
      active++;
      caller_next(&callers[i]);
    }
    while (active > 0)
      uv_run(&env.loop, UV_RUN_ONCE);
    run.seconds = bench_now() - t0;
  }
  *out = run;
  free(callers);
  uvsql_stmt_free(st);
  bench_env_close(&env);
  return 0;
}

/* ------------------------------------------------------------------ streaming */

static int add_batch(const uvsql_result_t *b, void *data) {
  bench_run_t *run = data;
  size_t n = uvsql_result_nrows(b);
  for (size_t i = 0; i < n; i++) {
    int64_t x;
    double y;
    uvsql_result_int64(b, i, 0, &x);
    uvsql_result_double(b, i, 1, &y);
    run->checksum += (double)x + y;
  }
  run->rows += (int64_t)n;
  return 0;
}

int uvsql_streaming(const char *url, const char *sql, size_t batch_rows, bench_run_t *out) {
  bench_env_t env;
  uvsql_stmt_t *st;
  uvsql_error_t err;
  if (bench_env_open(&env, url, 1) != 0)
    return -1;
  if (uvsql_text(&st, sql, &err) != 0) {
    fprintf(stderr, "%s\n", err.message);
    return -1;
  }
  memset(out, 0, sizeof *out);
  uvsql_future_t *f = uvsql_engine_execute_sql(env.engine, "SELECT 1", NULL, 0, NULL, NULL);
  if (uvsql_future_wait(f) != 0) /* warm up: the connection is open before the clock starts */
    return bench_failed(f, "uvsql streaming warm-up");
  uvsql_future_unref(f);
  double t0 = bench_now();
  f = uvsql_engine_stream(env.engine, st, NULL, 0, batch_rows, add_batch, out, NULL, NULL);
  if (uvsql_future_wait(f) != 0)
    return bench_failed(f, "uvsql streaming");
  out->seconds = bench_now() - t0;
  uvsql_future_unref(f);
  uvsql_stmt_free(st);
  bench_env_close(&env);
  return 0;
}
