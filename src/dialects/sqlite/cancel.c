/* src/dialects/sqlite/cancel.c — cancel() for SQLite: a request the worker has not taken yet
 * is withdrawn at once (done with UVSQL_ECANCELLED); the running one is interrupted with
 * sqlite3_interrupt, only under `mu` and only while the worker is inside SQLite for it (conn.c
 * invariant 2), and reports UVSQL_ECANCELLED when the worker hands it back; a completed one
 * is too late (its result is on its way). A request still held on the loop (waiting for the
 * open or for the file's write lock, conn.c invariant 8) is withdrawn the same way, and the
 * connection drains again (leaving the lock's queue if nothing else waits for it). */
#include "sqlite.h"

int uvsql__sq_cancel(uvsql__dconn_t *dc, uvsql__request_t *req) {
  uvsql__sq_conn_t *conn = (uvsql__sq_conn_t *)dc;
  int withdrawn = 0;

  if (req->driver_data != conn)
    return UVSQL_EINVALID_ARGUMENT;
  uv_mutex_lock(&conn->mu);
  switch (req->state) {
  case UVSQL__SQ_REQ_QUEUED: /* not taken by the worker: withdraw it */
    withdrawn = uvsql__kit_queue_remove(&conn->queue, req);
    break;
  case UVSQL__SQ_REQ_HELD: /* on the loop: the worker never saw it */
    withdrawn = uvsql__kit_queue_remove(&conn->held, req);
    break;
  case UVSQL__SQ_REQ_RUNNING:
    if (conn->current == req && atomic_load(&conn->cancel) == UVSQL__SQ_CANCEL_NONE) {
      atomic_store(&conn->cancel, UVSQL__SQ_CANCEL_USER);
      if (conn->executing)
        sqlite3_interrupt(conn->db);  /* allowed from any thread; conn.c invariant 2 */
      uv_cond_signal(&conn->st_cond); /* a stream waiting for its consumer */
    }
    break;
  default: /* COMPLETED: too late, its result is on its way */
    break;
  }
  uv_mutex_unlock(&conn->mu);
  if (withdrawn) {
    uvsql_error_t err;
    uvsql__error_set(&err, UVSQL_ECANCELLED, "the statement was cancelled before it ran");
    uvsql__sq_finish(req, NULL, &err);
    uvsql__sq_drain(conn);
  }
  return 0;
}
