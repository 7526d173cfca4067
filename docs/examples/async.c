/* docs/examples/async.c — the tutorial's "Async patterns" section: uvsql inside a program that
 * already runs a libuv loop (a timer keeps ticking while queries run), callbacks versus
 * futures and who owns each, joining futures, a chain of callbacks for a transaction, cancel.
 * Nothing here waits: the loop runs once, from main, until everything is done. The table
 * it makes (notes) is dropped at the end; a part that fails makes the program exit 1.
 *
 * Usage: async [URL]   (default sqlite:///async.db)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uvsql.h>

/* snippet:async.app */
typedef struct app_s {
  uv_loop_t loop;
  uv_timer_t ticker;
  int ticks;
  uvsql_engine_t *engine;
  uvsql_future_t *counted; /* future style: ours until we unref it */
  uvsql_conn_t *conn;      /* held by the transaction chain */
  int pending;             /* parts still running */
  int failed;              /* a part that should have worked did not */
} app_t;
/* end snippet */

static void finish_part(app_t *app);

/* snippet:async.tick */
static void on_tick(uv_timer_t *t) {
  app_t *app = t->data;
  app->ticks++;
}
/* end snippet */

/* Callback style: the library owns the future and frees it after this returns. */
/* snippet:async.1 */
static void on_rows(uvsql_future_t *f, void *data) {
  app_t *app = data;
  if (uvsql_future_state(f) == UVSQL_FUTURE_RESOLVED) {
    uvsql_result_t *r = uvsql_future_value(f); /* valid until this callback returns */
    printf("callback: %zu rows\n", uvsql_result_nrows(r));
  } else {
    printf("callback: %s\n", uvsql_future_error(f)->message);
    app->failed = 1;
  }
  finish_part(app);
}
/* end snippet */

/* snippet:async.counted */
/* Future style with then(): we made the call without a callback, so we own app->counted. */
static void on_counted(uvsql_future_t *f, void *data) {
  app_t *app = data;
  int64_t n = -1;
  if (uvsql_future_value(f))
    uvsql_result_int64(uvsql_future_value(f), 0, 0, &n);
  else
    app->failed = 1;
  printf("then: count is %" PRId64 "\n", n);
  finish_part(app);
}
/* end snippet */

/* snippet:async.all */
/* uvsql_future_all resolves with NULL; the parts hold the results. */
static void on_all(uvsql_future_t *f, void *data) {
  app_t *app = data;
  printf("all: %s\n", uvsql_future_state(f) == UVSQL_FUTURE_RESOLVED
                          ? "every part resolved"
                          : uvsql_future_error(f)->message);
  if (uvsql_future_state(f) != UVSQL_FUTURE_RESOLVED)
    app->failed = 1;
  finish_part(app);
}
/* end snippet */

/* snippet:async.tx */
/* A transaction as a chain: each step gets the value of the one before and returns the next
 * future (made without a callback: the chain owns it); uvsql_chain runs them in order, then
 * tx_done, or, at the first failure, tx_failed and nothing more. */
static uvsql_future_t *tx_begin(void *conn, void *data) {
  app_t *app = data;
  app->conn = conn; /* the checkout's value: ours until uvsql_conn_release */
  return uvsql_conn_begin(app->conn, UVSQL_ISOLATION_DEFAULT, NULL, NULL);
}

static uvsql_future_t *tx_insert(void *begun, void *data) {
  app_t *app = data;
  (void)begun;
  uvsql_param_t p[] = {UVSQL_P_TEXT("name", "from a callback chain")};
  return uvsql_conn_execute_sql(app->conn, "INSERT INTO notes (name) VALUES (:name)", p, 1, NULL,
                                NULL);
}

static uvsql_future_t *tx_commit(void *inserted, void *data) {
  app_t *app = data;
  (void)inserted;
  return uvsql_conn_commit(app->conn, NULL, NULL);
}

static const uvsql_step_fn tx_steps[] = {tx_begin, tx_insert, tx_commit};

static void tx_done(void *committed, void *data) {
  app_t *app = data;
  (void)committed;
  printf("transaction: committed\n");
  uvsql_conn_release(app->conn);
  app->conn = NULL;
  finish_part(app);
}

/* Every step's failure comes here: step 0 is the checkout, 1 begin, 2 the insert, 3 commit. */
static void tx_failed(const uvsql_error_t *e, size_t step, void *data) {
  app_t *app = data;
  printf("transaction: step %zu failed: %s\n", step, e->message);
  app->failed = 1;
  if (app->conn)
    uvsql_conn_release(app->conn); /* rolls back (pool_reset_on_return) */
  app->conn = NULL;
  finish_part(app);
}
/* end snippet */

/* snippet:async.slow */
/* Cancel: a long query, cancelled 50 ms after it started. */
static void on_slow(uvsql_future_t *f, void *data) {
  app_t *app = data;
  int cancelled = uvsql_future_state(f) == UVSQL_FUTURE_CANCELLED;
  printf("slow query: %s\n",
         cancelled ? "cancelled"
                   : uvsql_err_name(uvsql_future_error(f) ? uvsql_future_error(f)->code : 0));
  if (!cancelled)
    app->failed = 1;
  finish_part(app);
}
/* end snippet */
/* snippet:async.5 */
static void on_cancel_timer(uv_timer_t *t) {
  uvsql_future_cancel(t->data);
  uvsql_future_unref(t->data);
  uv_close((uv_handle_t *)t, (uv_close_cb)free);
}
/* end snippet */

/* snippet:async.7 */
static void on_disposed(uvsql_future_t *f, void *data) {
  app_t *app = data;
  uv_close((uv_handle_t *)&app->ticker, NULL); /* the last handle: uv_run returns */
}
/* end snippet */

/* snippet:async.finish */
/* The example's table goes when everything is done; then the engine. */
static void on_dropped(uvsql_future_t *f, void *data) {
  app_t *app = data;
  if (uvsql_future_state(f) != UVSQL_FUTURE_RESOLVED) {
    printf("drop: %s\n", uvsql_future_error(f)->message);
    app->failed = 1;
  }
  uvsql_engine_dispose(app->engine, on_disposed, app);
}
/* end snippet */

/* snippet:async.finish_part */
static void finish_part(app_t *app) {
  if (--app->pending == 0)
    uvsql_engine_execute_sql(app->engine, "DROP TABLE notes", NULL, 0, on_dropped, app);
}
/* end snippet */

/* snippet:async.slow_sql */
/* A query that runs long enough to be cancelled, in each backend's words. */
static const char *slow_sql(uvsql_engine_t *engine) {
  const char *dialect = uvsql_engine_dialect(engine);
  if (strcmp(dialect, "postgresql") == 0)
    return "SELECT pg_sleep(30)";
  if (strcmp(dialect, "mariadb") == 0)
    return "SELECT SLEEP(30)";
  return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) "
         "SELECT count(*) FROM c";
}
/* end snippet */

int main(int argc, char **argv) {
  const char *url = argc > 1 ? argv[1] : "sqlite:///async.db";
  app_t app = {0};
  uvsql_error_t err;

  /* snippet:async.6 */
  /* The program's own loop, with its own work on it (here a timer). */
  uv_loop_init(&app.loop);
  uv_timer_init(&app.loop, &app.ticker);
  app.ticker.data = &app;
  uv_timer_start(&app.ticker, on_tick, 10, 10);

  if (uvsql_engine_new(&app.engine, &app.loop, url, NULL, &err) != 0) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  /* end snippet */
  /* snippet:async.setup */
  /* Setup the simple way: wait (this runs the loop; fine here, before the server starts). */
  const char *setup[] = {"DROP TABLE IF EXISTS notes", "CREATE TABLE notes (name varchar(100))",
                         "INSERT INTO notes (name) VALUES ('from the setup')"};
  for (int i = 0; i < 3; i++) {
    uvsql_future_t *f = uvsql_engine_execute_sql(app.engine, setup[i], NULL, 0, NULL, NULL);
    if (uvsql_future_wait(f) != 0) {
      fprintf(stderr, "%s\n", uvsql_future_error(f)->message);
      return 1;
    }
    uvsql_future_unref(f);
  }
  /* end snippet */

  /* From here on nothing waits: every call returns at once. */
  app.pending = 5;

  /* snippet:async.2 */
  /* 1. A callback: the returned future is borrowed; ignore it or uvsql_future_ref it. */
  uvsql_engine_execute_sql(app.engine, "SELECT name FROM notes WHERE name = 'from the setup'", NULL,
                           0, on_rows, &app);

  /* 2. A future we own, with a callback attached later. */
  app.counted = uvsql_engine_execute_sql(
      app.engine, "SELECT count(*) FROM notes WHERE name = 'from the setup'", NULL, 0, NULL, NULL);
  uvsql_future_then(app.counted, on_counted, &app);
  /* end snippet */

  /* snippet:async.tx_start */
  /* 3. A transaction driven by a chain of steps, started by a checkout. */
  uvsql_chain(uvsql_engine_connect(app.engine, NULL, NULL), tx_steps, 3, tx_done, tx_failed, &app);
  /* end snippet */

  /* 4. Several statements at once, joined: resolves when all have, fails with the first error. */
  /* snippet:async.3 */
  uvsql_future_t *parts[3];
  for (int i = 0; i < 3; i++) {
    uvsql_param_t p[] = {UVSQL_P_INT64("i", i)};
    parts[i] = uvsql_engine_execute_sql(app.engine, "SELECT :i * 10", p, 1, NULL, NULL);
  }
  uvsql_future_t *all = uvsql_future_all(&app.loop, parts, 3, NULL, NULL);
  uvsql_future_then(all, on_all, &app);
  /* end snippet */

  /* snippet:async.cancel */
  /* 5. Cancel: a query that would run for long, stopped on the server (PostgreSQL's cancel
   * request, MariaDB's KILL QUERY, SQLite's sqlite3_interrupt). */
  uvsql_future_t *slow =
      uvsql_engine_execute_sql(app.engine, slow_sql(app.engine), NULL, 0, on_slow, &app);
  uv_timer_t *cancel_timer = malloc(sizeof *cancel_timer);
  uv_timer_init(&app.loop, cancel_timer);
  cancel_timer->data = uvsql_future_ref(slow); /* borrowed: keep it alive for the timer */
  uv_timer_start(cancel_timer, on_cancel_timer, 50, 0);

  uv_run(&app.loop, UV_RUN_DEFAULT); /* the program's one loop run */
  /* end snippet */

  /* snippet:async.end */
  printf("the timer ticked %s meanwhile\n", app.ticks > 0 ? "on" : "NOT");
  if (app.ticks == 0)
    app.failed = 1;
  for (int i = 0; i < 3; i++) {
    int64_t v = -1;
    if (uvsql_future_value(parts[i]))
      uvsql_result_int64(uvsql_future_value(parts[i]), 0, 0, &v);
    printf("part %d: %" PRId64 "\n", i, v);
    if (v != i * 10)
      app.failed = 1;
  }
  uvsql_future_unref(app.counted);
  uvsql_future_unref(all);
  for (int i = 0; i < 3; i++)
    uvsql_future_unref(parts[i]);
  if (uv_loop_close(&app.loop) != 0)
    app.failed = 1;
  return app.failed ? 1 : 0;
}
/* end snippet */
