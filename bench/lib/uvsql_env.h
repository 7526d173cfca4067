/* bench/lib/uvsql_env.h — a loop and an engine for one uvsql workload (uvsql_side.c,
 * uvsql_orm.c): opened before the clock, disposed after it. */
#ifndef UVSQL_BENCH_UVSQL_ENV_H
#define UVSQL_BENCH_UVSQL_ENV_H

#include <uvsql.h>

typedef struct {
  uv_loop_t loop;
  uvsql_engine_t *engine;
} bench_env_t;

/* A loop and an engine on url with a pool of pool connections; 0, or -1 after printing why. */
int bench_env_open(bench_env_t *env, const char *url, int pool);
void bench_env_close(bench_env_t *env);
/* Prints what's error and the future's error, drops f; returns -1. */
int bench_failed(uvsql_future_t *f, const char *what);
/* Waits for f (a future resolving with NULL or a value not needed) and drops it; 0 or -1. */
int bench_wait(uvsql_future_t *f, const char *what);

#endif
