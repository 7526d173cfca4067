/* src/dialects/sqlite/connection.c — a SQLite connection as the engine sees it: the state
 * machine on the loop thread, over a worker thread of its own (src/loop/worker.c) that does
 * every sqlite3_* call except sqlite3_interrupt.
 *
 *              uvsql__sq_connect: worker made, open job queued (open_work: uvsql__sq_open)
 *                     |
 *                     v
 *               +------------+  open_after: open failed;     +--------+
 *               | CONNECTING |------------------------------>| FAILED |  (queued requests
 *               +------------+  connect cb(err)              +--------+   fail ECONNECT)
 *                     | open_after: ok; connect cb(NULL)          |
 *                     v                                           |
 *               +------------+  uvsql__sq_submit: queue; start_next hands the head request
 *               |    OPEN    |  to the worker (request_work: uvsql__sq_execute);
 *               +------------+  request_after: done, then start_next again.
 *                     |         uvsql__sq_cancel: withdraw a queued one, or interrupt.
 *                     |                                           |
 *                     | uvsql__sq_close (from any state above; from CONNECTING the connect
 *                     v  cb is then never called: open_after sees CLOSING)
 *               +------------+  queued requests done(ECLOSED); the running one interrupted;
 *               |  CLOSING   |  close job queued behind it (close_work: uvsql__sq_close_db)
 *               +------------+
 *                     | close_after: uvsql__worker_close
 *                     v
 *               on_worker_closed: thread joined, handle closed; free; closed_cb
 *
 * Invariants:
 *  1. At most one request is with the worker at a time (`running`); the rest wait in the
 *     driver's own queue, so a queued request can be withdrawn at once and the request that
 *     is executing is always `running`: an interrupt can never reach a later request.
 *  2. sqlite3_interrupt is called only under `mu`, and only while the worker says (`executing`,
 *     set and cleared under `mu`) that it is inside SQLite for `current`. So it never races
 *     sqlite3_close. `cancel` is reset for each request before it is handed over; the worker
 *     skips a request cancelled before it started, and the progress handler (execute.c) sees
 *     `cancel` even when SQLite forgot the interrupt.
 *  3. req->done is called exactly once, from the loop, never before uvsql__sq_submit returns: a
 *     submit refused at once is failed through uvsql__defer.
 *  4. The worker's results (conn->result, conn->err) are copied out before done runs, since
 *     done may submit the next request, whose work overwrites them on the worker thread.
 *  5. uvsql__sq_close is safe inside a done or connect callback: nothing is freed before the worker
 *     has closed, which is always at least one loop iteration later.
 *  6. After a connect callback that reported an error, dc stays (FAILED) until the engine
 *     calls close(), as contract 1 says; close() may come from inside that callback.
 *  7. SQLite has no server, so dc->broken is set only when SQLite says the file is unusable
 *     (SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_IOERR): that request and every later one fail with
 *     UVSQL_EDISCONNECT, so the pool replaces the connection.
 */
#include <stdlib.h>
#include <string.h>
#include "sqlite.h"

#define DEFAULT_CACHE_SIZE 100

/* ------------------------------------------------------------------ helpers */

typedef struct {
  uvsql__request_t *req;
  uvsql_error_t err;
} late_failure_t;

static void on_late_failure(void *arg) {
  late_failure_t *lf = arg;
  lf->req->done(lf->req, NULL, &lf->err);
  free(lf);
}

/* Fails req from the loop's next iteration (contract 2: never before submit returns). */
static void fail_later(uv_loop_t *loop, uvsql__request_t *req, const uvsql_error_t *err) {
  late_failure_t *lf = malloc(sizeof *lf);
  if (lf) {
    lf->req = req;
    lf->err = *err;
    if (uvsql__defer(loop, on_late_failure, lf) == 0)
      return;
    free(lf);
  }
  /* Out of memory twice over: failing now is better than never. */
  req->done(req, NULL, err);
}

static void fail_queued(uvsql__sq_conn_t *conn, const uvsql_error_t *err) {
  uvsql__request_t *req = conn->queue_head;
  conn->queue_head = conn->queue_tail = NULL;
  while (req) {
    uvsql__request_t *next = req->next;
    req->next = NULL;
    req->done(req, NULL, err);
    req = next;
  }
}

/* ------------------------------------------------------------------ close */

static void on_worker_closed(void *arg) {
  uvsql__sq_conn_t *conn = arg;
  void (*closed_cb)(void *) = conn->closed_cb;
  void *closed_data = conn->closed_data;
  /* The thread is joined: if the close job never ran (out of memory), the handle is ours. */
  uvsql__sq_close_db(conn);
  uvsql__sq_options_free(&conn->opt);
  uv_mutex_destroy(&conn->mu);
  free(conn);
  if (closed_cb)
    closed_cb(closed_data);
}

static void close_work(void *arg) {
  uvsql__sq_close_db(arg);
}

static void close_after(void *arg, int cancelled) {
  uvsql__sq_conn_t *conn = arg;
  uvsql__worker_close(conn->worker, on_worker_closed, conn);
}

static void uvsql__sq_close(uvsql__dconn_t *dc, void (*closed_cb)(void *data), void *data) {
  uvsql__sq_conn_t *conn = (uvsql__sq_conn_t *)dc;
  uvsql_error_t err;

  if (conn->state == UVSQL__SQ_CLOSING)
    return; /* already on its way */
  conn->closed_cb = closed_cb;
  conn->closed_data = data;
  conn->state = UVSQL__SQ_CLOSING;

  uvsql__error_set(&err, UVSQL_ECLOSED, "the connection was closed before the statement ran");
  fail_queued(conn, &err);

  uv_mutex_lock(&conn->mu);
  if (conn->running && conn->current == conn->running &&
      atomic_load(&conn->cancel) == UVSQL__SQ_CANCEL_NONE) {
    atomic_store(&conn->cancel, UVSQL__SQ_CANCEL_CLOSE);
    if (conn->executing)
      sqlite3_interrupt(conn->db);
  }
  uv_mutex_unlock(&conn->mu);

  /* The close job runs after whatever the worker is doing (the open, or the running request). */
  if (uvsql__worker_submit(conn->worker, close_work, close_after, conn) != 0)
    uvsql__worker_close(conn->worker, on_worker_closed, conn);
}

/* ------------------------------------------------------------------ requests */

static void start_next(uvsql__sq_conn_t *conn);

static void request_work(void *arg) {
  uvsql__sq_conn_t *conn = arg;
  uvsql__request_t *req;
  int reason;

  uv_mutex_lock(&conn->mu);
  req = conn->current;
  reason = atomic_load(&conn->cancel);
  conn->executing = reason == UVSQL__SQ_CANCEL_NONE;
  uv_mutex_unlock(&conn->mu);

  if (reason != UVSQL__SQ_CANCEL_NONE) { /* cancelled after it was handed over, before it started */
    conn->result = NULL;
    uvsql__sq_error_set(&conn->err, NULL, SQLITE_INTERRUPT, 0, req->sql, req->sql_len,
                        conn->opt.busy_timeout_ms, reason);
    return;
  }
  uvsql__sq_execute(conn, req);

  uv_mutex_lock(&conn->mu);
  conn->executing = 0;
  uv_mutex_unlock(&conn->mu);
}

static void request_after(void *arg, int cancelled) {
  uvsql__sq_conn_t *conn = arg;
  uvsql__request_t *req = conn->running;
  uvsql_result_t *result = conn->result;
  uvsql_error_t err = conn->err; /* invariant 4 */

  conn->running = NULL;
  conn->result = NULL;
  if (cancelled) { /* only when the close job could not be queued */
    uvsql__error_set(&err, UVSQL_ECLOSED, "the connection was closed before the statement ran");
    result = NULL;
  }
  if (err.code && uvsql__sq_error_is_fatal(err.native_code)) {
    uvsql_error_t later;
    conn->base.broken = 1;
    err.code = UVSQL_EDISCONNECT;
    uvsql__error_set(&later, UVSQL_EDISCONNECT,
                     "the SQLite connection is unusable after an earlier error: %s", err.message);
    fail_queued(conn, &later);
  }
  req->done(req, err.code ? NULL : result, err.code ? &err : NULL);
  start_next(conn);
}

static void start_next(uvsql__sq_conn_t *conn) {
  while (conn->state == UVSQL__SQ_OPEN && !conn->running && conn->queue_head) {
    uvsql__request_t *req = conn->queue_head;
    conn->queue_head = req->next;
    if (!conn->queue_head)
      conn->queue_tail = NULL;
    req->next = NULL;

    uv_mutex_lock(&conn->mu);
    conn->current = req;
    atomic_store(&conn->cancel, UVSQL__SQ_CANCEL_NONE);
    uv_mutex_unlock(&conn->mu);
    conn->running = req;
    int rc = uvsql__worker_submit(conn->worker, request_work, request_after, conn);
    if (rc != 0) {
      uvsql_error_t err;
      conn->running = NULL;
      uvsql__error_set(&err, rc, "could not hand the statement to the SQLite worker thread");
      fail_later(conn->base.loop, req, &err);
    }
  }
}

static void uvsql__sq_submit(uvsql__dconn_t *dc, uvsql__request_t *req) {
  uvsql__sq_conn_t *conn = (uvsql__sq_conn_t *)dc;
  uvsql_error_t err;

  req->next = NULL;
  if (conn->state == UVSQL__SQ_CLOSING) {
    uvsql__error_set(&err, UVSQL_ECLOSED, "the SQLite connection is closed");
    fail_later(dc->loop, req, &err);
    return;
  }
  if (conn->state == UVSQL__SQ_FAILED) {
    uvsql__error_set(&err, UVSQL_ECONNECT, "the SQLite database could not be opened");
    fail_later(dc->loop, req, &err);
    return;
  }
  if (dc->broken) {
    uvsql__error_set(&err, UVSQL_EDISCONNECT,
                     "the SQLite connection is unusable after an earlier error (corrupt file or "
                     "I/O error); open a new one");
    fail_later(dc->loop, req, &err);
    return;
  }
  if (conn->queue_tail)
    conn->queue_tail->next = req;
  else
    conn->queue_head = req;
  conn->queue_tail = req;
  start_next(conn); /* the first request runs at once; done still comes from the worker */
}

static int uvsql__sq_cancel(uvsql__dconn_t *dc, uvsql__request_t *req) {
  uvsql__sq_conn_t *conn = (uvsql__sq_conn_t *)dc;
  uvsql__request_t *prev = NULL;

  for (uvsql__request_t *q = conn->queue_head; q; prev = q, q = q->next) {
    if (q == req) { /* not started: withdraw it */
      uvsql_error_t err;
      if (prev)
        prev->next = req->next;
      else
        conn->queue_head = req->next;
      if (conn->queue_tail == req)
        conn->queue_tail = prev;
      req->next = NULL;
      uvsql__error_set(&err, UVSQL_ECANCELLED, "the statement was cancelled before it ran");
      req->done(req, NULL, &err);
      return 0;
    }
  }
  if (req != conn->running)
    return UVSQL_EINVALID_ARGUMENT;
  uv_mutex_lock(&conn->mu);
  if (conn->current == req && atomic_load(&conn->cancel) == UVSQL__SQ_CANCEL_NONE) {
    atomic_store(&conn->cancel, UVSQL__SQ_CANCEL_USER);
    if (conn->executing)
      sqlite3_interrupt(conn->db); /* allowed from any thread; see invariant 2 */
  }
  uv_mutex_unlock(&conn->mu);
  return 0;
}

/* ------------------------------------------------------------------ connect */

static void open_work(void *arg) {
  uvsql__sq_open(arg);
}

static void open_after(void *arg, int cancelled) {
  uvsql__sq_conn_t *conn = arg;
  uvsql_error_t err = conn->err;

  if (conn->state == UVSQL__SQ_CLOSING || cancelled)
    return; /* close() came first: cb is never called (contract 1); the close job cleans up */
  if (err.code) {
    /* The engine still calls close() (contract 1): the worker stays until then. */
    conn->state = UVSQL__SQ_FAILED;
    fail_queued(conn, &err);
    conn->connect_cb(&conn->base, &err, conn->connect_data);
    return;
  }
  conn->state = UVSQL__SQ_OPEN;
  conn->connect_cb(&conn->base, NULL, conn->connect_data);
  start_next(conn); /* requests submitted while opening */
}

static int uvsql__sq_connect(uvsql__dconn_t **out, uv_loop_t *loop, const uvsql_url_t *url,
                             const uvsql__dconn_options_t *opt, uvsql__connect_cb cb, void *data,
                             uvsql_error_t *err) {
  uvsql__sq_conn_t *conn;
  int rc;

  *out = NULL;
  conn = calloc(1, sizeof *conn);
  if (!conn)
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory");
  rc = uvsql__sq_options_parse(&conn->opt, url, err);
  if (rc != 0)
    goto fail_opt;
  conn->cache_size = opt ? opt->statement_cache_size : DEFAULT_CACHE_SIZE;
  if (uvsql__sq_cache_init(&conn->cache, conn->cache_size) != 0 || uv_mutex_init(&conn->mu) != 0) {
    rc = uvsql__error_set(err, UVSQL_ENOMEM, "out of memory");
    goto fail_cache;
  }
  rc = uvsql__worker_new(&conn->worker, loop);
  if (rc != 0) {
    uvsql__error_set(err, rc, "could not start the SQLite worker thread");
    goto fail_mutex;
  }
  conn->base.driver = &uvsql__sqlite_driver;
  conn->base.loop = loop;
  conn->state = UVSQL__SQ_CONNECTING;
  conn->connect_cb = cb;
  conn->connect_data = data;
  atomic_init(&conn->cancel, UVSQL__SQ_CANCEL_NONE);
  rc = uvsql__worker_submit(conn->worker, open_work, open_after, conn);
  if (rc != 0) {
    uvsql__error_set(err, rc, "could not start opening the SQLite database");
    conn->state = UVSQL__SQ_FAILED;
    /* Nothing ran on the worker; it frees conn once its handle has closed, and nobody is told
     * (contract 1: connect returned an error). */
    uvsql__worker_close(conn->worker, on_worker_closed, conn);
    return rc;
  }
  *out = &conn->base;
  return 0;

fail_mutex:
  uv_mutex_destroy(&conn->mu);
fail_cache:
  uvsql__sq_cache_free(&conn->cache);
fail_opt:
  uvsql__sq_options_free(&conn->opt);
  free(conn);
  return rc;
}

/* ------------------------------------------------------------------ transactions */

static const char *uvsql__sq_begin_sql(uvsql_isolation_t isolation, uvsql_error_t *err) {
  if (isolation == UVSQL_ISOLATION_DEFAULT || isolation == UVSQL_ISOLATION_SERIALIZABLE)
    return "BEGIN";
  uvsql__error_set(err, UVSQL_ENOT_SUPPORTED,
                   "SQLite transactions are always serializable: use the default isolation "
                   "level or UVSQL_ISOLATION_SERIALIZABLE");
  return NULL;
}

const uvsql__driver_t uvsql__sqlite_driver = {
    .name = "sqlite",
    .paramstyle = UVSQL__PARAMSTYLE_NUMBERED,
    .max_params = 32766, /* SQLITE_MAX_VARIABLE_NUMBER's default since 3.32 */
    .validate_url = uvsql__sq_validate_url,
    .connect = uvsql__sq_connect,
    .submit = uvsql__sq_submit,
    .cancel = uvsql__sq_cancel,
    .close = uvsql__sq_close,
    .begin_sql = uvsql__sq_begin_sql,
};
