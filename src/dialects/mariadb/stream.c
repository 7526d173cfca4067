/* src/dialects/mariadb/stream.c — the rows of a binary-protocol request, fetched as they
 * arrive: streamed requests (UVSQL__REQ_STREAM), handed over in batches, and every other
 * statement with result columns, whose rows all go into its one result.
 *
 * After EXECUTE each row is fetched from the server with mysql_stmt_fetch_start/_cont (one
 * nonblocking call, UVSQL__MY_OP_STMT_FETCH, per row; most finish at once from Connector/C's
 * network buffer) and decoded once, inside the fetch, by the row reader (decode.c) into the
 * result being filled (st_batch); nothing is stored and copied first. A stream hands a full
 * batch to req->batch; a plain request's st_batch becomes its result at the end. The
 * connection is busy until MYSQL_NO_DATA or an error.
 *
 *   EXECUTE --(columns)--> uvsql__my_stream_step(first) --> FETCH --> step --> FETCH ...
 *                                                            | NO_DATA: last batch, END
 *                                                            | error: FAILED (mc->err)
 *
 * Invariants:
 *  1. Memory: a stream holds one batch plus Connector/C's network buffer; rows are read only
 *     as fast as the loop decodes them, so the server waits on TCP when the consumer is slow.
 *     A plain request holds its result (what store_result held before, without the copy).
 *  2. Stop: later rows are fetched and dropped; a KILL QUERY (cancel.c) shortens the rest. While
 *     the KILL runs no later request starts, so it can only reach the stream. The stream's
 *     end, error 1317 or NO_DATA, is reported as success (exec.c finish()).
 *  3. The row reader and the batch belong to `running`; uvsql__my_stream_reset frees them
 *     whenever the request ends (finish, fail_all, exec_free).
 *  4. The loop is never held for long by a stream: while the server sends faster than we
 *     decode, every fetch finishes at once from the buffer, so after each batch (handed over,
 *     or dropped after a stop) the finished fetch is resumed from the loop's next poll phase
 *     (st_resume: the watcher waits for the socket to be writable, which it is at once), so
 *     timers and other sockets get their turn. (A zero timer would not do: libuv runs timers
 *     started during its timer phase in that same phase.) A plain request reads on while
 *     rows are buffered, as mysql_stmt_store_result did.
 *  5. An error in the middle of the rows (a KILL, a lost server, a value that cannot be
 *     decoded) fails the request; the rows read so far are dropped with the batch.
 */
#include <stdlib.h>
#include "mariadb.h"

void uvsql__my_stream_reset(uvsql__my_conn_t *mc) {
  uvsql__my_rows_free(mc->st_rows);
  mc->st_rows = NULL;
  uvsql_result_free(mc->st_batch);
  mc->st_batch = NULL;
  mc->st_stop = 0;
  mc->st_dropped = 0;
  mc->st_resume = 0;
}

static void hand_over(uvsql__my_conn_t *mc, uvsql__request_t *req, int ended) {
  uvsql_result_t *b = mc->st_batch;
  mc->st_batch = NULL;
  int stop = req->batch(req, b);
  uvsql_result_free(b);
  if (!stop || mc->st_stop)
    return;
  mc->st_stop = 1;
  /* invariant 2; if the KILL cannot start, the rest is simply drained */
  if (!ended && !mc->kill && !mc->cancel_asked && !mc->guard.closing &&
      mc->state == UVSQL__MY_READY && mc->thread_id)
    (void)uvsql__my_kill_start(mc);
}

int uvsql__my_stream_step(uvsql__my_conn_t *mc, int first, int *outcome) {
  uvsql__request_t *req = mc->running;
  int whole = !(req->flags & UVSQL__REQ_STREAM); /* every row into the request's result */
  size_t cap = whole ? 0 : req->batch_rows;
  int yield = 0;
  *outcome = UVSQL__MY_STREAM_FAILED;
  if (whole && !first && mc->st_batch) {
    /* A plain request: fetch on while rows come from Connector/C's buffer, with none of the
     * per-batch bookkeeping below (nothing is handed over, nobody can stop it). */
    while (mc->ret_int == 0 && uvsql__my_rows_check(mc->st_rows, &mc->err) == 0) {
      int st;
      mc->op = UVSQL__MY_OP_STMT_FETCH;
      mc->op_stmt = mc->stmt;
      if ((st = mysql_stmt_fetch_start(&mc->ret_int, mc->stmt)) != 0) {
        *outcome = UVSQL__MY_STREAM_FETCHING;
        return st; /* waits for the socket; uvsql__my_run resumes it */
      }
      mc->op = UVSQL__MY_OP_NONE; /* it ended at once: as uvsql__my_run does before a step */
    }
    if (mc->ret_int == 0)
      return -1; /* invariant 5: a value could not be decoded (mc->err) */
  }
  if (first) {
    if (!(mc->st_rows = uvsql__my_rows_new(mc, mc->stmt, &mc->err)))
      return -1;
  } else if (mc->ret_int == MYSQL_NO_DATA) {
    if (whole) {
      uvsql_result_free(mc->result);
      mc->result = mc->st_batch; /* made before the first fetch: the columns even if no row */
      mc->st_batch = NULL;
    } else if (!mc->st_stop && mc->st_batch && uvsql_result_nrows(mc->st_batch) > 0) {
      hand_over(mc, req, 1);
    }
    *outcome = UVSQL__MY_STREAM_END;
    return -1;
  } else if (mc->ret_int == 1) {
    /* an error packet in the middle of the rows lands on the connection, not the statement */
    if (mysql_stmt_errno(mc->stmt))
      uvsql__my_error_set(&mc->err, mysql_stmt_errno(mc->stmt), mysql_stmt_sqlstate(mc->stmt),
                          mysql_stmt_error(mc->stmt), req->sql, req->sql_len);
    else
      uvsql__my_error_set(&mc->err, mysql_errno(mc->mysql), mysql_sqlstate(mc->mysql),
                          mysql_error(mc->mysql), req->sql, req->sql_len);
    return -1;
  } else if (uvsql__my_rows_check(mc->st_rows, &mc->err) != 0) {
    return -1; /* invariant 5 */
  } else if (!mc->st_stop) {
    if (!whole && uvsql_result_nrows(mc->st_batch) >= cap) {
      hand_over(mc, req, 0);
      yield = 1;
    }
  } else if (++mc->st_dropped % req->batch_rows == 0) {
    yield = 1;
  }
  *outcome = UVSQL__MY_STREAM_FETCHING;
  if (mc->guard.closing || mc->state != UVSQL__MY_READY)
    return -1; /* closed from on_batch: the close fails the request */
  if (uvsql__my_rows_target(mc->st_rows, mc->st_stop ? NULL : &mc->st_batch, cap, &mc->err) != 0) {
    *outcome = UVSQL__MY_STREAM_FAILED;
    return -1;
  }
  mc->op = UVSQL__MY_OP_STMT_FETCH;
  mc->op_stmt = mc->stmt;
  int st = mysql_stmt_fetch_start(&mc->ret_int, mc->stmt);
  if (st == 0 && yield &&
      uvsql__watcher_watch(mc->watcher, (int)mysql_get_socket(mc->mysql), UV_WRITABLE) == 0) {
    mc->st_resume = 1; /* invariant 4: my_on_watch resumes the finished fetch */
    return -1;
  }
  return st;
}
