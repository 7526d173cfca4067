/* docs/examples/backends.c — docs/backends.md's URLs: what each backend's URL may say. An
 * engine checks its URL when it is made and connects only when used, so this runs with no
 * server; then it opens an SQLite file with options and reads them back.
 *
 * Given a URL, it also connects to that database and says which backend answered.
 *
 * Usage: backends [URL]
 */
#include <stdio.h>
#include <uvsql.h>

static void try_url(uv_loop_t *loop, const char *url) {
  uvsql_engine_t *engine;
  uvsql_error_t err;
  if (uvsql_engine_new(&engine, loop, url, NULL, &err) != 0) {
    printf("refused: %s\n  %s: %s\n", url, uvsql_err_name(err.code), err.message);
    return;
  }
  printf("accepted: %s\n", uvsql_engine_url(engine));
  uvsql_future_t *f = uvsql_engine_dispose(engine, NULL, NULL);
  uvsql_future_wait(f);
  uvsql_future_unref(f);
}

int main(int argc, char **argv) {
  uv_loop_t *loop = uv_default_loop();
  /* snippet:backends.1 */
  try_url(loop, "postgresql://app:secret@db.internal:5432/shop"
                "?sslmode=require&application_name=web&target_session_attrs=read-write");
  try_url(loop, "postgresql:///shop?host=/var/run/postgresql"); /* a Unix socket directory */
  try_url(loop, "postgresql://app@db.internal/shop?client_encoding=latin1");
  /* end snippet */
  /* snippet:backends.2 */
  try_url(loop, "mariadb://app:secret@db.internal:3306/shop?ssl_mode=verify_ca&ssl_ca=/etc/ca.pem");
  try_url(loop, "mysql://app@localhost/shop?unix_socket=/run/mysqld/mysqld.sock");
  try_url(loop, "mariadb://app@db.internal/shop?sslmode=require"); /* a PostgreSQL spelling */
  /* end snippet */
  /* snippet:backends.3 */
  try_url(loop, "sqlite:///app.db?journal_mode=wal&timeout=10&foreign_keys=on");
  try_url(loop, "sqlite://"); /* in memory: one connection, shared by every checkout */
  try_url(loop, "sqlite:///app.db?journal=wal");
  /* end snippet */

  /* SQLite options are applied when the file is opened. */
  uvsql_engine_t *engine;
  uvsql_error_t err;
  if (uvsql_engine_new(&engine, loop, "sqlite:///backends.db?journal_mode=wal", NULL, &err) != 0)
    return 1;
  uvsql_future_t *f = uvsql_engine_execute_sql(engine, "PRAGMA journal_mode", NULL, 0, NULL, NULL);
  if (uvsql_future_wait(f) == 0) {
    const char *mode;
    uvsql_result_text(uvsql_future_value(f), 0, 0, &mode, NULL);
    printf("journal_mode is %s\n", mode);
  }
  uvsql_future_unref(f);
  f = uvsql_engine_dispose(engine, NULL, NULL);
  uvsql_future_wait(f);
  uvsql_future_unref(f);

  /* The URL given: a round trip to the server it names. */
  int rc = 0;
  if (argc > 1) {
    if (uvsql_engine_new(&engine, loop, argv[1], NULL, &err) != 0) {
      fprintf(stderr, "%s\n", err.message);
      return 1;
    }
    f = uvsql_engine_execute_sql(engine, "SELECT 1", NULL, 0, NULL, NULL);
    rc = uvsql_future_wait(f);
    if (rc == 0)
      printf("%s answered SELECT 1\n", uvsql_engine_dialect(engine));
    else
      fprintf(stderr, "%s\n", uvsql_future_error(f)->message);
    uvsql_future_unref(f);
    f = uvsql_engine_dispose(engine, NULL, NULL);
    uvsql_future_wait(f);
    uvsql_future_unref(f);
  }
  return uv_loop_close(loop) == 0 && rc == 0 ? 0 : 1;
}
