/* src/dialects/postgresql/stream.c — streamed requests (UVSQL__REQ_STREAM) in pipeline mode.
 *
 * A stream is an ordinary sync group (exec.c) whose main statement is read in libpq's
 * single-row mode: each row arrives as its own PGRES_SINGLE_TUPLE result, is decoded (copied)
 * into the batch being filled and cleared at once; a full batch goes to req->batch. The group
 * then ends as any other: a TUPLES_OK with no rows (or the error), NULL, PIPELINE_SYNC.
 *
 *   uvsql__pg_stream_arm   before each PQisBusy/PQgetResult for the head: once libpq has made
 *                          the main statement current (asyncStatus BUSY, nothing parsed yet),
 *                          PQsetSingleRowMode succeeds and RS_SINGLE is set. In pipeline mode
 *                          that is after the previous group's PIPELINE_SYNC, or after the NULL
 *                          that ends the statement's own Parse.
 *   uvsql__pg_stream_row   one row: append; full batch -> hand over
 *   uvsql__pg_stream_end   the group ended: the last (short) batch, unless it failed or stopped
 *
 * Invariants:
 *  1. Memory: at most one batch (batch_rows rows, copied) plus libpq's input buffer; no
 *     PGresult outlives the row it carries. Rows do not count in rd_count, so exec.c's
 *     cancel logic ("has the statement ended?") holds for streams.
 *  2. Stop (batch returned non-zero): later rows are cleared unread; when nothing else is in
 *     the pipeline, a PQcancel shortens the rest, and `cancel_job` keeps anything submitted
 *     meanwhile from being sent until PQcancel has returned (the backend has its signal by
 *     then), so the cancel can only hit the stream. The cancel's 57014 is then no error: done
 *     reports success.
 *  3. If single-row mode could not be set (libpq had already parsed the result), the whole
 *     result arrives as one TUPLES_OK and uvsql__pg_stream_end slices it into batches:
 *     correct, but not bounded. Not expected; kept as a fallback rather than an error.
 */
#include <stdlib.h>
#include "pg.h"

void uvsql__pg_stream_arm(uvsql__pg_conn_t *pc, uvsql__request_t *req, int main_idx) {
  if (!(req->flags & UVSQL__REQ_STREAM) ||
      (req->state & (UVSQL__PG_RS_SINGLE | UVSQL__PG_RS_MULTI | UVSQL__PG_RS_PREFAILED)) ||
      pc->rd_count != main_idx)
    return;
  if (PQsetSingleRowMode(pc->pg))
    req->state |= UVSQL__PG_RS_SINGLE;
}

void uvsql__pg_stream_reset(uvsql__pg_conn_t *pc) {
  uvsql_result_free(pc->st_batch);
  pc->st_batch = NULL;
  pc->st_stop = 0;
}

/* Invariant 2. */
static void stop_on_server(uvsql__pg_conn_t *pc, uvsql__request_t *req) {
  if (pc->guard.closing || pc->state != UVSQL__PG_READY || pc->sent.head != req || req->next ||
      pc->pending.head || pc->cancel_job ||
      (req->state & (UVSQL__PG_RS_CANCEL | UVSQL__PG_RS_CANCEL_SENT)))
    return; /* draining is always correct; the cancel only saves time */
  (void)uvsql__pg_cancel_hold(pc);
}

/* Gives the batch being filled to the consumer. */
static void hand_over(uvsql__pg_conn_t *pc, uvsql__request_t *req, int ended) {
  uvsql_result_t *b = pc->st_batch;
  pc->st_batch = NULL;
  int stop = req->batch(req, b);
  uvsql_result_free(b);
  if (stop && !pc->st_stop) {
    pc->st_stop = 1;
    if (!ended)
      stop_on_server(pc, req);
  }
}

/* Appends row i of res; hands the batch over when full. 0, or -1 with err set. */
static int add_row(uvsql__pg_conn_t *pc, uvsql__request_t *req, PGresult *res, int i, int ended,
                   uvsql_error_t *err) {
  if (uvsql__pg_decode_append(res, i, &pc->st_batch, req->batch_rows, err) != 0)
    return -1;
  if (uvsql_result_nrows(pc->st_batch) >= req->batch_rows)
    hand_over(pc, req, ended);
  return 0;
}

int uvsql__pg_stream_row(uvsql__pg_conn_t *pc, uvsql__request_t *req, PGresult *res,
                         uvsql_error_t *err) {
  int rc = 0;
  if (!pc->st_stop && !pc->rd_err.code && PQntuples(res) > 0)
    rc = add_row(pc, req, res, 0, 0, err);
  PQclear(res);
  if (rc != 0) { /* the rest is drained unread (rd_err is set by the caller) */
    uvsql_result_free(pc->st_batch);
    pc->st_batch = NULL;
  }
  return rc;
}

void uvsql__pg_stream_end(uvsql__pg_conn_t *pc, uvsql__request_t *req, PGresult *res,
                          uvsql_error_t *err) {
  if (pc->st_stop) {
    if (err->code != UVSQL_EDISCONNECT)
      uvsql_error_clear(err); /* invariant 2: the cancel's error, or a late one, is not news */
  } else if (!err->code) {
    int n = res && PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res) : 0;
    for (int i = 0; i < n && !pc->st_stop && !err->code; i++) /* invariant 3 */
      (void)add_row(pc, req, res, i, 1, err);
    if (!err->code && !pc->st_stop && pc->st_batch && uvsql_result_nrows(pc->st_batch) > 0)
      hand_over(pc, req, 1);
  }
  uvsql__pg_stream_reset(pc);
}
