/* examples/quickstart.c — uvsql in one page: an engine on an SQLite file, a table, inserts
 * with bound parameters inside a transaction, a query read with typed getters, and the same
 * query callback-style. Runs with no server: `bash scripts/quickstart.sh`.
 *
 * Usage: quickstart [URL]   (default sqlite:///quickstart.db; any postgresql:// URL works too)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <uvsql.h>

/* Waits for a future (runs the loop) and stops the program with its error if it failed. */
static void *must(uvsql_future_t *f, const char *what) {
  if (uvsql_future_wait(f) != 0) {
    const uvsql_error_t *e = uvsql_future_error(f);
    fprintf(stderr, "%s failed: %s: %s\n", what, uvsql_err_name(e->code), e->message);
    exit(1);
  }
  return uvsql_future_value(f);
}

static void on_count(uvsql_future_t *f, void *data) {
  (void)data;
  int64_t n = 0;
  if (uvsql_future_state(f) == UVSQL_FUTURE_RESOLVED)
    uvsql_result_int64(uvsql_future_value(f), 0, 0, &n);
  printf("callback style: %" PRId64 " users\n", n);
  /* The library owns f and releases it after this callback returns. */
}

int main(int argc, char **argv) {
  const char *url = argc > 1 ? argv[1] : "sqlite:///quickstart.db";
  uv_loop_t *loop = uv_default_loop();
  uvsql_engine_t *engine;
  uvsql_error_t err;
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.echo = getenv("UVSQL_ECHO") != NULL; /* log every statement and its parameters */

  if (uvsql_engine_new(&engine, loop, url, &opt, &err) != 0) {
    fprintf(stderr, "cannot create engine: %s\n", err.message);
    return 1;
  }
  printf("engine: %s\n", uvsql_engine_url(engine));

  uvsql_future_t *f;
  f = uvsql_engine_execute_sql(engine, "DROP TABLE IF EXISTS users", NULL, 0, NULL, NULL);
  must(f, "drop table");
  uvsql_future_unref(f);
  f = uvsql_engine_execute_sql(engine,
                               "CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL, "
                               "karma double precision, joined date)",
                               NULL, 0, NULL, NULL);
  must(f, "create table");
  uvsql_future_unref(f);

  /* A transaction on one checked-out connection; the statement is built once. */
  f = uvsql_engine_connect(engine, NULL, NULL);
  uvsql_conn_t *conn = must(f, "checkout");
  uvsql_future_unref(f);
  f = uvsql_conn_begin(conn, UVSQL_ISOLATION_DEFAULT, NULL, NULL);
  must(f, "begin");
  uvsql_future_unref(f);

  uvsql_stmt_t *insert;
  if (uvsql_text(&insert,
                 "INSERT INTO users (id, name, karma, joined) "
                 "VALUES (:id, :name, :karma, :joined)",
                 &err) != 0) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  const char *names[] = {"spongebob", "sandy", "patrick", "o'brien; DROP TABLE users; --"};
  for (int i = 0; i < 4; i++) {
    uvsql_param_t p[] = {
        UVSQL_P_INT64("id", i + 1),
        UVSQL_P_TEXT("name", names[i]),
        UVSQL_P_DOUBLE("karma", 1.5 * i),
        UVSQL_P_DATE("joined", uvsql_days_from_civil(2024, 1, 1 + i)),
    };
    f = uvsql_conn_execute(conn, insert, p, 4, NULL, NULL); /* queued in order */
    must(f, "insert");
    uvsql_future_unref(f);
  }
  uvsql_stmt_free(insert);
  f = uvsql_conn_commit(conn, NULL, NULL);
  must(f, "commit");
  uvsql_future_unref(f);
  uvsql_conn_release(conn);

  /* Future style: read typed values. */
  uvsql_param_t p[] = {UVSQL_P_DOUBLE("min", 1.0)};
  f = uvsql_engine_execute_sql(engine,
                               "SELECT id, name, karma, joined FROM users WHERE karma >= :min "
                               "ORDER BY id",
                               p, 1, NULL, NULL);
  uvsql_result_t *r = must(f, "select");
  for (size_t row = 0; row < uvsql_result_nrows(r); row++) {
    int64_t id, days;
    const char *name;
    double karma;
    int y, m, d;
    uvsql_result_int64(r, row, 0, &id);
    uvsql_result_text(r, row, 1, &name, NULL);
    uvsql_result_double(r, row, 2, &karma);
    uvsql_result_date(r, row, 3, &days);
    uvsql_civil_from_days(days, &y, &m, &d);
    printf("user %" PRId64 ": %-32s karma %.1f joined %04d-%02d-%02d\n", id, name, karma, y, m, d);
  }
  uvsql_future_unref(f); /* frees the result too */

  /* Callback style: nothing to free; the callback runs from the loop. */
  uvsql_engine_execute_sql(engine, "SELECT count(*) FROM users", NULL, 0, on_count, NULL);
  uv_run(loop, UV_RUN_DEFAULT);

  f = uvsql_engine_dispose(engine, NULL, NULL);
  must(f, "dispose");
  uvsql_future_unref(f);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
