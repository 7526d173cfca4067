/* src/dialects/sqlite/stream.c — a streamed request (UVSQL__REQ_STREAM) on the worker thread.
 *
 * The worker prepares and binds as exec.c does, then steps rows into a batch; a full batch
 * is posted to the loop (uvsql__worker_post), where on_posted hands it to req->batch and frees
 * it. Flow control, under conn->mu:
 *
 *   worker: fill batch k+1 while the loop consumes batch k
 *           wait (st_cond) until st_inflight == 0, or st_stop, or a cancel/close
 *           st_inflight = 1, post batch k+1
 *   loop:   on_posted: req->batch(...) -> st_inflight = 0, st_stop if it returned non-zero,
 *           signal st_cond
 *
 * Invariants:
 *  1. At most two batches exist at once (one posted, one filling): memory is bounded by
 *     2 * batch_rows rows whatever the result's size. The loop never waits for the worker.
 *  2. Before the job returns, the worker waits until its last posted batch was consumed, so
 *     no message of this stream is left when the next request resets st_inflight/st_stop.
 *  3. A stop (st_stop) ends the statement quietly: success, no further batch. A cancel or close
 *     seen while waiting ends it as SQLITE_INTERRUPT would (ECANCELLED / ECLOSED); a cancel
 *     while stepping interrupts the step itself (conn.c, invariant 2).
 *  4. Only single statements stream; the statement is cached like any other and reset after.
 */
#include <limits.h>
#include <stdlib.h>
#include "sqlite.h"

typedef struct {
  uvsql__sq_conn_t *conn;
  uvsql__request_t *req;
  uvsql_result_t *batch;
} posted_t;

/* Loop thread. */
static void on_posted(void *data, int cancelled) {
  posted_t *p = data;
  uvsql__sq_conn_t *conn = p->conn;
  int stop = 0;
  (void)cancelled;
  if (conn->state != UVSQL__SQ_CLOSING)
    stop = p->req->batch(p->req, p->batch);
  uvsql_result_free(p->batch);
  uv_mutex_lock(&conn->mu);
  conn->st_inflight--;
  if (stop)
    conn->st_stop = 1;
  uv_cond_signal(&conn->st_cond);
  uv_mutex_unlock(&conn->mu);
  free(p);
}

static int fail(uvsql__sq_conn_t *conn, const uvsql__request_t *req, int rc, int at_prepare) {
  return uvsql__sq_error_set(&conn->err, conn->db, rc, at_prepare, req->sql, req->sql_len,
                             conn->opt.busy_timeout_ms, atomic_load(&conn->cancel));
}

enum { GO_ON = 0, STOPPED, INTERRUPTED, NOMEM };

/* Worker: waits for room, then posts *batch (taken). */
static int hand_over(uvsql__sq_conn_t *conn, uvsql__request_t *req, uvsql_result_t **batch) {
  int outcome = GO_ON;
  uv_mutex_lock(&conn->mu);
  while (conn->st_inflight > 0 && !conn->st_stop &&
         atomic_load(&conn->cancel) == UVSQL__SQ_CANCEL_NONE)
    uv_cond_wait(&conn->st_cond, &conn->mu);
  if (conn->st_stop)
    outcome = STOPPED;
  else if (atomic_load(&conn->cancel) != UVSQL__SQ_CANCEL_NONE)
    outcome = INTERRUPTED;
  else
    conn->st_inflight++;
  uv_mutex_unlock(&conn->mu);
  if (outcome != GO_ON) {
    uvsql_result_free(*batch);
    *batch = NULL;
    return outcome;
  }
  posted_t *p = malloc(sizeof *p);
  if (p) {
    p->conn = conn;
    p->req = req;
    p->batch = *batch;
  }
  if (!p || uvsql__worker_post(conn->worker, on_posted, p) != 0) {
    free(p);
    uvsql_result_free(*batch);
    *batch = NULL;
    uv_mutex_lock(&conn->mu);
    conn->st_inflight--;
    uv_mutex_unlock(&conn->mu);
    return NOMEM;
  }
  *batch = NULL;
  return GO_ON;
}

/* Invariant 2. */
static void wait_consumed(uvsql__sq_conn_t *conn) {
  uv_mutex_lock(&conn->mu);
  while (conn->st_inflight > 0)
    uv_cond_wait(&conn->st_cond, &conn->mu);
  uv_mutex_unlock(&conn->mu);
}

static int only_space(const char *s, const char *end) {
  for (; s < end; s++)
    if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != ';')
      return 0;
  return 1;
}

/* Prepares (or takes from the cache) req's one statement. NULL with conn->err set, or with no
 * error for text holding no statement. */
static sqlite3_stmt *prepare(uvsql__sq_conn_t *conn, const uvsql__request_t *req, int *cached) {
  const char *end = req->sql + req->sql_len, *tail = NULL;
  int cacheable = !(req->flags & UVSQL__REQ_NO_PREPARE) && conn->cache.cap > 0;
  sqlite3_stmt *stmt;
  *cached = 0;
  if (req->sql_len > INT_MAX) {
    uvsql__error_set(&conn->err, UVSQL_EDATA,
                     "the statement is %zu bytes long, more than SQLite accepts (2 GB): pass "
                     "large values as bound parameters",
                     req->sql_len);
    return NULL;
  }
  if (cacheable && (stmt = uvsql__sq_cache_get(&conn->cache, req->sql, req->sql_len)) != NULL) {
    *cached = 1;
    return stmt;
  }
  for (int attempt = 0; attempt < 2; attempt++) {
    int rc = sqlite3_prepare_v3(conn->db, req->sql, (int)req->sql_len,
                                cacheable ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, &tail);
    if (rc != SQLITE_OK) {
      fail(conn, req, sqlite3_extended_errcode(conn->db), 1);
      return NULL;
    }
    if (!stmt)
      return NULL;
    if (!only_space(tail, end)) {
      sqlite3_finalize(stmt);
      uvsql__error_set(
          &conn->err, UVSQL_EINVALID_ARGUMENT,
          "only a single statement can be streamed; this text holds several: stream one "
          "statement and execute the others separately");
      return NULL;
    }
    if (!cacheable)
      return stmt;
    if (uvsql__sq_cache_put(&conn->cache, req->sql, req->sql_len, stmt)) {
      *cached = 1;
      return stmt;
    }
    cacheable = 0; /* the cache could not keep it and finalized it: prepare it for this once */
  }
  return NULL;
}

/* Steps stmt to its end (or a stop), handing batches over. Returns 0 or a uvsql code. */
static int run(uvsql__sq_conn_t *conn, uvsql__request_t *req, sqlite3_stmt *stmt) {
  uvsql_type_t types_small[16], *types = types_small;
  uvsql_result_t *batch = NULL;
  int rc, ncols, code = 0, outcome = GO_ON;

  if (sqlite3_bind_parameter_count(stmt) > req->nparams)
    return uvsql__error_set(&conn->err, UVSQL_EPROGRAMMING,
                            "the statement takes %d parameters but %d were given",
                            sqlite3_bind_parameter_count(stmt), req->nparams);
  if ((rc = uvsql__sq_bind_params(stmt, req->params, req->nparams)) != SQLITE_OK)
    return fail(conn, req, rc, 0);
  rc = sqlite3_step(stmt);
  ncols = sqlite3_column_count(stmt);
  if (ncols > (int)(sizeof types_small / sizeof types_small[0]) &&
      !(types = malloc((size_t)ncols * sizeof *types)))
    return uvsql__error_set(&conn->err, UVSQL_ENOMEM, "out of memory reading a result");
  for (int i = 0; i < ncols; i++)
    types[i] = uvsql__sq_decltype_to_type(sqlite3_column_decltype(stmt, i));

  for (; rc == SQLITE_ROW && outcome == GO_ON; rc = sqlite3_step(stmt)) {
    if (!batch && ((batch = uvsql__result_new((size_t)ncols)) == NULL ||
                   uvsql__result_reserve(batch, req->batch_rows) != 0)) {
      outcome = NOMEM;
      break;
    }
    if (uvsql__sq_read_row(batch, stmt, ncols, types) != 0) {
      outcome = NOMEM;
      break;
    }
    if (uvsql_result_nrows(batch) < req->batch_rows)
      continue;
    /* Column types as far as the rows so far tell (a column with no declared type takes the
     * type of its first non-NULL value). */
    for (int i = 0; i < ncols && outcome == GO_ON; i++)
      if (uvsql__result_set_column(batch, (size_t)i, sqlite3_column_name(stmt, i), types[i]))
        outcome = NOMEM;
    if (outcome == GO_ON)
      outcome = hand_over(conn, req, &batch);
    if (outcome != GO_ON)
      break;
  }
  if (outcome == GO_ON && rc != SQLITE_DONE && rc != SQLITE_ROW)
    code = fail(conn, req, sqlite3_extended_errcode(conn->db), 0);
  else if (outcome == GO_ON && batch && uvsql_result_nrows(batch) > 0) {
    for (int i = 0; i < ncols && outcome == GO_ON; i++)
      if (uvsql__result_set_column(batch, (size_t)i, sqlite3_column_name(stmt, i), types[i]))
        outcome = NOMEM;
    if (outcome == GO_ON)
      outcome = hand_over(conn, req, &batch);
  }
  if (outcome == INTERRUPTED)
    code = fail(conn, req, SQLITE_INTERRUPT, 0);
  else if (outcome == NOMEM)
    code = uvsql__error_set(&conn->err, UVSQL_ENOMEM, "out of memory reading a result");
  uvsql_result_free(batch);
  if (types != types_small)
    free(types);
  return code;
}

void uvsql__sq_stream(uvsql__sq_conn_t *conn, uvsql__request_t *req) {
  int cached;
  uvsql_error_clear(&conn->err);
  conn->result = NULL;
  sqlite3_stmt *stmt = prepare(conn, req, &cached);
  if (stmt) {
    (void)run(conn, req, stmt);
    if (cached) {
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
    } else {
      sqlite3_finalize(stmt);
    }
  }
  wait_consumed(conn);
}
