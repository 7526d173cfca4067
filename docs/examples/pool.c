/* docs/examples/pool.c — the tutorial's "The pool" section: its knobs, overflow, a checkout
 * that times out, and the counters.
 *
 * Usage: pool [URL]   (default sqlite:///pool.db; an in-memory sqlite:// URL would force
 * pool_size 1 and max_overflow 0: the database lives in its one connection)
 */
#include <inttypes.h>
#include <stdio.h>
#include <uvsql.h>

static void print_stats(const char *when, uvsql_engine_t *engine) {
  /* snippet:pool.2 */
  uvsql_pool_stats_t s;
  uvsql_pool_stats(engine, &s);
  /* end snippet */
  printf("%-26s size %d, checked out %d, idle %d, overflow %d, waiting %d; "
         "connects %" PRIu64 ", checkouts %" PRIu64 ", timeouts %" PRIu64 "\n",
         when, s.size, s.checked_out, s.idle, s.overflow, s.waiting, s.connects, s.checkouts,
         s.timeouts);
}

int main(int argc, char **argv) {
  const char *url = argc > 1 ? argv[1] : "sqlite:///pool.db";
  uv_loop_t *loop = uv_default_loop();
  /* snippet:pool.1 */
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 2;             /* connections kept open */
  opt.max_overflow = 1;          /* one more under load, closed when released */
  opt.pool_timeout = 2.0;        /* seconds a checkout waits before UVSQL_EPOOL_TIMEOUT */
  opt.pool_recycle = 3600;       /* replace connections older than an hour */
  opt.pool_pre_ping = 1;         /* test a connection with a round trip at checkout */
  opt.pool_reset_on_return = 1;  /* roll back what a released connection left open */
  opt.pool_use_lifo = 1;         /* reuse the most recently used connection first */
  opt.pipeline_depth = 1;        /* never share a pooled connection between statements */
  opt.statement_cache_size = 50; /* prepared statements kept per connection */
  opt.pipeline_max_busy = 0.05;  /* share only behind a statement younger than 50 ms */
  opt.leak_threshold = 60;       /* report a connection checked out for more than a minute */
  opt.idle_timeout = 600;        /* close idle connections beyond min_idle after 10 minutes */
  opt.min_idle = 1;              /* keep one idle connection open, re-opened in the background */
  opt.keepalive_interval = 120;  /* ping idle connections every 2 minutes; drop dead ones */
  /* end snippet */
  uvsql_engine_t *engine;
  uvsql_error_t err;
  if (uvsql_engine_new(&engine, loop, url, &opt, &err) != 0) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }

  /* Check out pool_size + max_overflow connections, then one more. */
  uvsql_conn_t *held[3];
  for (int i = 0; i < 3; i++) {
    uvsql_future_t *f = uvsql_engine_connect(engine, NULL, NULL);
    if (uvsql_future_wait(f) != 0) {
      fprintf(stderr, "checkout: %s\n", uvsql_future_error(f)->message);
      return 1;
    }
    held[i] = uvsql_future_value(f);
    uvsql_future_unref(f);
  }
  print_stats("three checked out:", engine);
  uvsql_future_t *f = uvsql_engine_connect(engine, NULL, NULL);
  if (uvsql_future_wait(f) != 0)
    printf("fourth checkout: %s: %s\n", uvsql_err_name(uvsql_future_error(f)->code),
           uvsql_future_error(f)->message);
  uvsql_future_unref(f);

  for (int i = 0; i < 3; i++)
    uvsql_conn_release(held[i]);
  print_stats("all released:", engine);

  f = uvsql_engine_dispose(engine, NULL, NULL);
  uvsql_future_wait(f);
  uvsql_future_unref(f);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
