/* docs/examples/transactions.c — the tutorial's "Connections and transactions" and
 * "Savepoints" sections: checkout and release, begin/commit/rollback, savepoints, and what a
 * failed statement inside a transaction leaves behind (nothing, after rollback). Its table
 * (accounts) is dropped at the end; it exits 1 when a balance is not what it should be.
 *
 * Usage: transactions [URL]   (default sqlite:///transactions.db)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <uvsql.h>

/* snippet:transactions.helpers */
/* Waits for f, reports a failure, frees f. Returns 0 or the error code. */
static int step(uvsql_future_t *f, const char *what) {
  int rc = uvsql_future_wait(f);
  if (rc != 0)
    printf("%s failed: %s: %s\n", what, uvsql_err_name(rc), uvsql_future_error(f)->message);
  uvsql_future_unref(f);
  return rc;
}

static int64_t balance(uvsql_conn_t *conn, const char *who) {
  int64_t v = -1;
  uvsql_param_t p[] = {UVSQL_P_TEXT("who", who)};
  uvsql_future_t *f = uvsql_conn_execute_sql(conn, "SELECT amount FROM accounts WHERE owner = :who",
                                             p, 1, NULL, NULL);
  if (uvsql_future_wait(f) == 0)
    uvsql_result_int64(uvsql_future_value(f), 0, 0, &v);
  uvsql_future_unref(f);
  return v;
}
/* end snippet */

int main(int argc, char **argv) {
  const char *url = argc > 1 ? argv[1] : "sqlite:///transactions.db";
  uv_loop_t *loop = uv_default_loop();
  uvsql_engine_t *engine;
  uvsql_error_t err;
  if (uvsql_engine_new(&engine, loop, url, NULL, &err) != 0) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  int rc =
      step(uvsql_engine_execute_sql(engine, "DROP TABLE IF EXISTS accounts", NULL, 0, NULL, NULL),
           "drop");
  rc = rc ? rc
          : step(uvsql_engine_execute_sql(engine,
                                          "CREATE TABLE accounts (owner varchar(20) PRIMARY KEY, "
                                          "amount bigint NOT NULL CHECK (amount >= 0))",
                                          NULL, 0, NULL, NULL),
                 "create");
  if (rc != 0)
    return 1;

  /* Check a connection out of the pool; it is ours until uvsql_conn_release. */
  /* snippet:transactions.1 */
  uvsql_future_t *f = uvsql_engine_connect(engine, NULL, NULL);
  if (uvsql_future_wait(f) != 0) {
    fprintf(stderr, "checkout: %s\n", uvsql_future_error(f)->message);
    return 1;
  }
  uvsql_conn_t *conn = uvsql_future_value(f); /* owned by the pool, not by the future */
  uvsql_future_unref(f);
  /* end snippet */

  /* A transaction: statements queued on one connection run in order. */
  step(uvsql_conn_begin(conn, UVSQL_ISOLATION_DEFAULT, NULL, NULL), "begin");
  step(uvsql_conn_execute_sql(conn,
                              "INSERT INTO accounts (owner, amount) VALUES ('alice', 100), "
                              "('bob', 50)",
                              NULL, 0, NULL, NULL),
       "insert");
  step(uvsql_conn_commit(conn, NULL, NULL), "commit");

  /* A failed statement inside a transaction: roll back, and nothing of it remains. */
  /* snippet:transactions.2 */
  step(uvsql_conn_begin(conn, UVSQL_ISOLATION_DEFAULT, NULL, NULL), "begin");
  uvsql_stmt_t *move;
  uvsql_text(&move, "UPDATE accounts SET amount = amount + :delta WHERE owner = :who", &err);
  uvsql_param_t to_bob[] = {UVSQL_P_INT64("delta", 70), UVSQL_P_TEXT("who", "bob")};
  uvsql_param_t from_alice[] = {UVSQL_P_INT64("delta", -70), UVSQL_P_TEXT("who", "alice")};
  rc = step(uvsql_conn_execute(conn, move, to_bob, 2, NULL, NULL), "credit bob");
  rc = rc ? rc : step(uvsql_conn_execute(conn, move, from_alice, 2, NULL, NULL), "debit alice");
  /* 100 - 70 - 70 < 0: the CHECK constraint refuses the second debit. */
  rc = rc ? rc : step(uvsql_conn_execute(conn, move, from_alice, 2, NULL, NULL), "debit alice");
  uvsql_stmt_free(move);
  if (rc != 0)
    step(uvsql_conn_rollback(conn, NULL, NULL), "rollback");
  else
    step(uvsql_conn_commit(conn, NULL, NULL), "commit");
  /* end snippet */
  printf("after the rollback: alice %" PRId64 ", bob %" PRId64 "\n", balance(conn, "alice"),
         balance(conn, "bob"));

  /* Savepoints: undo part of a transaction and keep the rest. */
  step(uvsql_conn_begin(conn, UVSQL_ISOLATION_DEFAULT, NULL, NULL), "begin");
  step(uvsql_conn_execute_sql(conn, "UPDATE accounts SET amount = amount + 1 WHERE owner = 'bob'",
                              NULL, 0, NULL, NULL),
       "bonus");
  /* snippet:transactions.3 */
  step(uvsql_conn_savepoint(conn, "risky", NULL, NULL), "savepoint");
  step(
      uvsql_conn_execute_sql(conn, "DELETE FROM accounts WHERE owner = 'bob'", NULL, 0, NULL, NULL),
      "delete bob");
  printf("inside the savepoint: bob %" PRId64 "\n", balance(conn, "bob"));
  step(uvsql_conn_rollback_to_savepoint(conn, "risky", NULL, NULL), "rollback to savepoint");
  step(uvsql_conn_release_savepoint(conn, "risky", NULL, NULL), "release savepoint");
  step(uvsql_conn_commit(conn, NULL, NULL), "commit");
  /* end snippet */
  int64_t bob = balance(conn, "bob");
  printf("after the savepoint: bob %" PRId64 ", in a transaction: %d\n", bob,
         uvsql_conn_in_transaction(conn));
  rc = bob == 51 ? 0 : 1;

  uvsql_conn_release(conn); /* back to the pool (an open transaction would be rolled back) */
  if (step(uvsql_engine_execute_sql(engine, "DROP TABLE accounts", NULL, 0, NULL, NULL), "drop"))
    rc = 1;

  f = uvsql_engine_dispose(engine, NULL, NULL);
  uvsql_future_wait(f);
  uvsql_future_unref(f);
  return uv_loop_close(loop) == 0 && rc == 0 ? 0 : 1;
}
