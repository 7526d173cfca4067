/* docs/examples/errors.c — docs/errors.md's patterns: reading an error (code, family,
 * SQLSTATE, native code, message), deciding by family, and an error from a synchronous call.
 * Its table (tags) is dropped at the end.
 *
 * Usage: errors [URL]   (default sqlite:///errors.db)
 */
#include <stdio.h>
#include <uvsql.h>

static void report(const uvsql_error_t *e) {
  printf("%s (%s), SQLSTATE '%s', native %d:\n  %s\n", uvsql_err_name(e->code),
         uvsql_family_name(uvsql_err_family(e->code)), e->sqlstate, e->native_code, e->message);
}

/* What a server loop might do with a failed statement. */
static const char *advice(const uvsql_error_t *e) {
  /* snippet:errors.2 */
  switch (uvsql_err_family(e->code)) {
  case UVSQL_FAMILY_INTEGRITY:
    return "tell the client: 409 Conflict";
  case UVSQL_FAMILY_OPERATIONAL:
  case UVSQL_FAMILY_TIMEOUT:
    return "retry later, or 503 Service Unavailable";
  case UVSQL_FAMILY_CANCELLED:
    return "nothing: we cancelled it";
  default:
    return "a bug: log it, 500 Internal Server Error";
  }
  /* end snippet */
}

static void run(uvsql_engine_t *engine, const char *sql) {
  uvsql_future_t *f = uvsql_engine_execute_sql(engine, sql, NULL, 0, NULL, NULL);
  if (uvsql_future_wait(f) != 0) {
    /* snippet:errors.1 */
    uvsql_error_t copy = *uvsql_future_error(f); /* plain data: copy it to keep it */
    /* end snippet */
    report(&copy);
    printf("  -> %s\n", advice(&copy));
  }
  uvsql_future_unref(f); /* the borrowed error goes with the future */
}

int main(int argc, char **argv) {
  const char *url = argc > 1 ? argv[1] : "sqlite:///errors.db";
  uv_loop_t *loop = uv_default_loop();
  uvsql_engine_t *engine;
  uvsql_error_t err;

  /* Synchronous calls fill an uvsql_error_t the caller provides. */
  if (uvsql_engine_new(&engine, loop, "oracle://scott:tiger@db/orcl", NULL, &err) != 0)
    report(&err);

  if (uvsql_engine_new(&engine, loop, url, NULL, &err) != 0) {
    report(&err);
    return 1;
  }
  run(engine, "DROP TABLE IF EXISTS tags");
  run(engine, "CREATE TABLE tags (name varchar(20) PRIMARY KEY)");
  run(engine, "INSERT INTO tags (name) VALUES ('c'), ('c')"); /* a duplicate key */
  run(engine, "SELECT nme FROM tags");                        /* a typo */
  run(engine, "DROP TABLE tags");

  uvsql_future_t *f = uvsql_engine_dispose(engine, NULL, NULL);
  uvsql_future_wait(f);
  uvsql_future_unref(f);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
