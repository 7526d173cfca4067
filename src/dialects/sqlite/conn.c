/* src/dialects/sqlite/conn.c — a SQLite connection as the engine sees it: the state
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
 *               +------------+  uvsql__sq_submit: request HELD on the loop until it may run
 *                     |         (invariant 8), then queued (QUEUED) + one worker job;
 *               |    OPEN    |  request_work takes the queue's head (RUNNING), runs it
 *               +------------+  (uvsql__sq_execute), marks it COMPLETED; request_after: done.
 *                     |         uvsql__sq_cancel: QUEUED -> withdrawn, done(ECANCELLED) at
 *                     |         once; RUNNING -> sqlite3_interrupt, done(ECANCELLED) later.
 *                     | uvsql__sq_close (from any state above; from CONNECTING the connect
 *                     v  cb is then never called: open_after sees CLOSING)
 *               +------------+  queued requests done(ECLOSED); the running one interrupted
 *               |  CLOSING   |  (done ECLOSED); close job queued behind every other job
 *               +------------+  (close_work: uvsql__sq_close_db)
 *                     | close_after: uvsql__worker_close
 *                     v
 *               on_worker_closed: thread joined, handle closed; free; closed_cb
 *
 * Invariants:
 *  1. Requests wait in the connection's queue (under `mu`), not in the worker's: the worker
 *     pulls the head when it is free, so queued requests run back to back with no trip through
 *     the loop between them, and a queued one can still be withdrawn at once. Each submit adds
 *     one worker job; a job runs whatever heads the queue then (or nothing, if withdrawals
 *     emptied it). Requests run, and complete, in submission order; done follows that order.
 *  2. sqlite3_interrupt is called only under `mu`, and only while the worker says (`executing`,
 *     set and cleared under `mu`) that it is inside SQLite for `current`, the request the
 *     cancel names: so it never reaches a later request and never races sqlite3_close. The
 *     worker resets `cancel` when it takes a request; the progress handler (exec.c) sees
 *     `cancel` even where SQLite forgets an interrupt (between prepare and the first step).
 *  3. req->done is called exactly once, from the loop, never before uvsql__sq_submit returns:
 *     a submit refused at once is failed through uvsql__defer. req->state (QUEUED, RUNNING,
 *     COMPLETED) and req->driver_data (this connection) say where it is until then.
 *  4. A request's result and error travel in its job record, never in shared fields: done may
 *     run while the worker already executes the next request.
 *  5. uvsql__sq_close is safe inside a done or connect callback: nothing is freed before the
 *     worker has closed, which is always at least one loop iteration later.
 *  6. After a connect callback that reported an error, dc stays (FAILED) until the engine
 *     calls close(), as contract 1 says; close() may come from inside that callback.
 *  7. SQLite has no server, so dc->broken is set only when SQLite says the file is unusable
 *     (SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_IOERR): that request and every later one fail with
 *     UVSQL_EDISCONNECT (the worker stops running them at once: `fatal`), so the pool
 *     replaces the connection.
 *  8. The write lock (wlock.c): every submitted request first waits on the loop in `held`
 *     (while CONNECTING, or behind a request that waits for the lock), in order. uvsql__sq_drain
 *     hands held requests to the worker; one that writes (sqlscan.c) goes only once this
 *     connection holds the file's write lock. Taking it: free -> taken at once; taken by
 *     another connection -> wait in the lock's FIFO (on the loop, no thread sleeps) for at
 *     most ?timeout, then fail "database is locked" as SQLite would. A transaction that has
 *     read already (txn READ) holds a snapshot: in WAL mode it waits too, and when its turn
 *     comes SQLite tells whether another commit made the snapshot stale (SQLITE_BUSY_SNAPSHOT:
 *     the retryable UVSQL_ESERIALIZATION), so a retry starts only after the winner committed
 *     and reads what it wrote (failing at once instead made the losers spin: 200 retries per
 *     commit with 16 sessions). In rollback-journal mode its SHARED lock would block the
 *     holder's commit (a deadlock until the busy timeout), so there it fails at once with
 *     UVSQL_ESERIALIZATION. Whether it has read is known only when no request of its own is
 *     on the worker (`nworker` 0), so a write waits in `held` until then. The lock is given
 *     back when the transaction is over (txn NONE, nothing on the worker, nothing held), and
 *     at close. A write that sqlscan.c misses is guarded by SQLite's busy timeout, as before.
 *     The scan's answer is remembered for the connection's last 4 SQL texts (`wmemo`, compared
 *     by content): a program runs the same statements again and again, and scanning a 60-byte
 *     SELECT cost 1,700 instructions per statement, a fifth of the loop's share of a lookup.
 */
#include <stdlib.h>
#include <string.h>
#include "sqlite.h"

#define DEFAULT_CACHE_SIZE 100

/* ------------------------------------------------------------------ helpers */

void uvsql__sq_finish(uvsql__request_t *req, uvsql_result_t *result, const uvsql_error_t *err) {
  req->driver_data = NULL;
  req->state = 0;
  req->next = NULL;
  req->done(req, result, err);
}

/* Takes every request the worker has not taken yet (then every held one) and fails it. */
static void fail_queued(uvsql__sq_conn_t *conn, const uvsql_error_t *err) {
  uv_mutex_lock(&conn->mu);
  uvsql__request_t *req = uvsql__kit_queue_take_all(&conn->queue);
  uv_mutex_unlock(&conn->mu);
  while (req) {
    uvsql__request_t *next = req->next;
    uvsql__sq_finish(req, NULL, err);
    req = next;
  }
  req = uvsql__kit_queue_take_all(&conn->held);
  while (req) {
    uvsql__request_t *next = req->next;
    uvsql__sq_finish(req, NULL, err);
    req = next;
  }
}

/* Leaves the lock's FIFO and gives the lock back, if this connection is on it or holds it. */
static void drop_wlock(uvsql__sq_conn_t *conn) {
  if (!conn->wlock)
    return;
  if (conn->wl_waiting)
    uvsql__sq_wlock_withdraw(conn->wlock, conn);
  if (conn->wl_holds)
    uvsql__sq_wlock_release(conn->wlock, conn);
}

/* ------------------------------------------------------------------ close */

static void wmemo_free(uvsql__sq_conn_t *conn);

static void on_worker_closed(void *arg) {
  uvsql__sq_conn_t *conn = arg;
  void (*closed_cb)(void *) = conn->closed_cb;
  void *closed_data = conn->closed_data;
  /* The thread is joined: if the close job never ran (out of memory), the handle is ours. */
  uvsql__sq_close_db(conn);
  uvsql__sq_options_free(&conn->opt);
  free(conn->lock_path);
  wmemo_free(conn);
  uv_cond_destroy(&conn->st_cond);
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

void uvsql__sq_close(uvsql__dconn_t *dc, void (*closed_cb)(void *data), void *data) {
  uvsql__sq_conn_t *conn = (uvsql__sq_conn_t *)dc;
  uvsql_error_t err;

  if (conn->state == UVSQL__SQ_CLOSING)
    return; /* already on its way */
  conn->closed_cb = closed_cb;
  conn->closed_data = data;
  conn->state = UVSQL__SQ_CLOSING;

  uvsql__error_set(&err, UVSQL_ECLOSED, "the connection was closed before the statement ran");
  fail_queued(conn, &err);
  if (conn->wlock) {
    drop_wlock(conn);
    uvsql__sq_wlock_put(conn->wlock);
    conn->wlock = NULL;
  }

  uv_mutex_lock(&conn->mu);
  if (conn->current && atomic_load(&conn->cancel) == UVSQL__SQ_CANCEL_NONE) {
    atomic_store(&conn->cancel, UVSQL__SQ_CANCEL_CLOSE);
    if (conn->executing)
      sqlite3_interrupt(conn->db);
    uv_cond_signal(&conn->st_cond); /* a stream waiting for its consumer */
  }
  uv_mutex_unlock(&conn->mu);

  /* The close job runs after every job already queued (the open, the requests'). */
  if (uvsql__worker_submit(conn->worker, close_work, close_after, conn) != 0)
    uvsql__worker_close(conn->worker, on_worker_closed, conn);
}

/* ------------------------------------------------------------------ requests */

/* One per submitted request. The job runs whichever request heads the queue when the worker
 * reaches it (the one it was made for, unless that was withdrawn: then a later one, and the
 * last jobs find the queue empty and do nothing), so a withdrawal never has to reach into the
 * worker's own queue. */
typedef struct {
  uvsql__sq_conn_t *conn;
  uvsql__request_t *req; /* the request it ran, or NULL */
  uvsql_result_t *result;
  uvsql_error_t err;
  int txn; /* sqlite3_txn_state after it ran */
} request_job_t;

static void request_work(void *arg) {
  request_job_t *job = arg;
  uvsql__sq_conn_t *conn = job->conn;
  uvsql__request_t *req;

  uv_mutex_lock(&conn->mu);
  req = uvsql__kit_queue_pop(&conn->queue);
  if (req) {
    req->state = UVSQL__SQ_REQ_RUNNING;
    conn->current = req;
    conn->st_inflight = 0;
    conn->st_stop = 0;
    atomic_store(&conn->cancel, UVSQL__SQ_CANCEL_NONE);
    conn->executing = conn->db != NULL && !conn->fatal;
  }
  uv_mutex_unlock(&conn->mu);
  if (!req)
    return;
  job->req = req;

  if (!conn->db) {
    uvsql__error_set(&job->err, UVSQL_ECONNECT,
                     "the SQLite database %s could not be opened: check the path and its "
                     "permissions, then connect again",
                     conn->opt.path);
  } else if (conn->fatal) {
    uvsql__error_set(&job->err, UVSQL_EDISCONNECT,
                     "the SQLite connection is unusable after an earlier error (corrupt file or "
                     "I/O error); open a new one");
  } else {
    if (req->flags & UVSQL__REQ_STREAM)
      uvsql__sq_stream(conn, req);
    else
      uvsql__sq_execute(conn, req);
    job->result = conn->result;
    job->err = conn->err;
    conn->result = NULL;
    if (job->err.code && uvsql__sq_error_is_fatal(job->err.native_code))
      conn->fatal = 1;
    job->txn = conn->fatal ? SQLITE_TXN_NONE : sqlite3_txn_state(conn->db, NULL);
  }

  uv_mutex_lock(&conn->mu);
  conn->executing = 0;
  conn->current = NULL;
  req->state = UVSQL__SQ_REQ_COMPLETED;
  uv_mutex_unlock(&conn->mu);
}

static void request_after(void *arg, int cancelled) {
  request_job_t *job = arg;
  uvsql__sq_conn_t *conn = job->conn;
  uvsql__request_t *req = job->req;

  conn->nworker--;
  if (req)
    conn->txn = job->txn;
  if (conn->wlock && conn->txn == SQLITE_TXN_WRITE && !conn->wl_holds && !conn->wl_waiting)
    (void)uvsql__sq_wlock_try(conn->wlock, conn); /* a write sqlscan.c missed: own up to it */
  if (req) {
    if (job->err.code && uvsql__sq_error_is_fatal(job->err.native_code)) {
      uvsql_error_t later;
      conn->base.broken = 1;
      job->err.code = UVSQL_EDISCONNECT;
      uvsql__error_set(&later, UVSQL_EDISCONNECT,
                       "the SQLite connection is unusable after an earlier error: %s",
                       job->err.message);
      fail_queued(conn, &later);
      conn->txn = SQLITE_TXN_NONE;
    }
  }
  /* Before done: the next request (or the next connection's turn) goes to work at once. */
  uvsql__sq_drain(conn);
  if (req) {
    if (job->err.code)
      uvsql__sq_finish(req, NULL, &job->err);
    else
      uvsql__sq_finish(req, job->result, NULL);
  }
  free(job);
}

void uvsql__sq_submit(uvsql__dconn_t *dc, uvsql__request_t *req) {
  uvsql__sq_conn_t *conn = (uvsql__sq_conn_t *)dc;
  uvsql_error_t err;

  req->next = NULL;
  if (conn->state == UVSQL__SQ_CLOSING) {
    uvsql__error_set(&err, UVSQL_ECLOSED, "the SQLite connection is closed");
    uvsql__kit_fail_later(dc->loop, req, &err);
    return;
  }
  if (conn->state == UVSQL__SQ_FAILED) {
    uvsql__error_set(&err, UVSQL_ECONNECT,
                     "the SQLite database %s could not be opened: check the path and its "
                     "permissions, then connect again",
                     conn->opt.path);
    uvsql__kit_fail_later(dc->loop, req, &err);
    return;
  }
  if (dc->broken) {
    uvsql__error_set(&err, UVSQL_EDISCONNECT,
                     "the SQLite connection is unusable after an earlier error (corrupt file or "
                     "I/O error); open a new one");
    uvsql__kit_fail_later(dc->loop, req, &err);
    return;
  }
  req->driver_data = conn;
  req->state = UVSQL__SQ_REQ_HELD;
  uvsql__kit_queue_push(&conn->held, req);
  uvsql__sq_drain(conn);
}

/* Hands req to the worker: queued (QUEUED) + one job. Failure is reported later (contract 2).
 */
static void to_worker(uvsql__sq_conn_t *conn, uvsql__request_t *req) {
  uvsql_error_t err;
  request_job_t *job;
  int rc;

  job = calloc(1, sizeof *job);
  if (!job) {
    req->driver_data = NULL;
    uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory queueing a statement");
    uvsql__kit_fail_later(conn->base.loop, req, &err);
    return;
  }
  job->conn = conn;
  req->state = UVSQL__SQ_REQ_QUEUED;
  uv_mutex_lock(&conn->mu);
  uvsql__kit_queue_push(&conn->queue, req);
  uv_mutex_unlock(&conn->mu);

  rc = uvsql__worker_submit(conn->worker, request_work, request_after, job);
  if (rc != 0) {
    /* No job will take it: take it back (it is still queued, or a job queued earlier for a
     * withdrawn request took it, which is fine: then leave it). */
    int taken = 0;
    uv_mutex_lock(&conn->mu);
    if (req->state == UVSQL__SQ_REQ_QUEUED)
      taken = uvsql__kit_queue_remove(&conn->queue, req);
    uv_mutex_unlock(&conn->mu);
    free(job);
    if (taken) {
      req->driver_data = NULL;
      uvsql__error_set(&err, rc, "could not hand the statement to the SQLite worker thread");
      uvsql__kit_fail_later(conn->base.loop, req, &err);
    }
    return;
  }
  conn->nworker++;
}

/* Takes the head of `held` off and fails it later (contract 2: drain runs inside submit). */
static void fail_head_later(uvsql__sq_conn_t *conn, const uvsql_error_t *err) {
  uvsql__request_t *req = uvsql__kit_queue_pop(&conn->held);
  req->driver_data = NULL;
  req->state = 0;
  uvsql__kit_fail_later(conn->base.loop, req, err);
}

/* uvsql__sq_sql_writes through the connection's memo (invariant 8). Out of memory: the text
 * is scanned and not remembered. */
static int sql_writes(uvsql__sq_conn_t *conn, const char *sql, size_t len) {
  for (size_t i = 0; i < sizeof conn->wmemo / sizeof conn->wmemo[0]; i++)
    if (conn->wmemo[i].sql && conn->wmemo[i].len == len &&
        memcmp(conn->wmemo[i].sql, sql, len) == 0)
      return conn->wmemo[i].writes;
  int writes = uvsql__sq_sql_writes(sql, len);
  char *copy = malloc(len ? len : 1);
  if (copy) {
    unsigned k = conn->wmemo_next++ % (sizeof conn->wmemo / sizeof conn->wmemo[0]);
    free(conn->wmemo[k].sql);
    memcpy(copy, sql, len);
    conn->wmemo[k].sql = copy;
    conn->wmemo[k].len = len;
    conn->wmemo[k].writes = writes;
  }
  return writes;
}

static void wmemo_free(uvsql__sq_conn_t *conn) {
  for (size_t i = 0; i < sizeof conn->wmemo / sizeof conn->wmemo[0]; i++)
    free(conn->wmemo[i].sql);
}

void uvsql__sq_drain(uvsql__sq_conn_t *conn) {
  uvsql__request_t *req;
  uvsql_error_t err;

  if (conn->state != UVSQL__SQ_OPEN)
    return; /* CONNECTING: open_after drains; CLOSING/FAILED: held ones were failed */
  while ((req = conn->held.head) != NULL) {
    if (conn->wlock && !conn->wl_holds && sql_writes(conn, req->sql, req->sql_len)) {
      if (conn->wl_waiting || conn->nworker > 0)
        return; /* its turn comes (granted), or its transaction's state comes back first */
      if (!uvsql__sq_wlock_try(conn->wlock, conn)) {
        if (conn->txn == SQLITE_TXN_READ && !conn->wal) {
          uvsql__sq_error_serialization(&err, SQLITE_BUSY, req->sql, req->sql_len);
          fail_head_later(conn, &err);
          continue;
        }
        if (conn->opt.busy_timeout_ms <= 0) {
          uvsql__sq_error_set(&err, NULL, SQLITE_BUSY, 0, req->sql, req->sql_len, 0, 0);
          fail_head_later(conn, &err);
          continue;
        }
        uvsql__sq_wlock_wait(conn->wlock, conn, conn->opt.busy_timeout_ms);
        return;
      }
    }
    to_worker(conn, uvsql__kit_queue_pop(&conn->held));
  }
  if (conn->wl_waiting) /* the write that waited was cancelled */
    uvsql__sq_wlock_withdraw(conn->wlock, conn);
  if (conn->wl_holds && conn->nworker == 0 && conn->txn == SQLITE_TXN_NONE)
    uvsql__sq_wlock_release(conn->wlock, conn); /* its transaction is over */
}

void uvsql__sq_wlock_granted(uvsql__sq_conn_t *conn) {
  uvsql__sq_drain(conn);
}

void uvsql__sq_wlock_timed_out(uvsql__sq_conn_t *conn) {
  uvsql__request_t *req = conn->held.head;
  uvsql_error_t err;
  if (req) {
    uvsql__sq_error_set(&err, NULL, SQLITE_BUSY, 0, req->sql, req->sql_len,
                        conn->opt.busy_timeout_ms, 0);
    fail_head_later(conn, &err);
  }
  uvsql__sq_drain(conn);
}

/* ------------------------------------------------------------------ connect */

static void open_work(void *arg) {
  uvsql__sq_conn_t *conn = arg;
  uvsql__sq_open(conn);
  conn->open_err = conn->err; /* request jobs may reuse conn->err before open_after runs */
  if (conn->db && sqlite3_db_readonly(conn->db, "main") == 0) {
    const char *path = sqlite3_db_filename(conn->db, "main");
    if (path && *path) /* "" for in-memory and temporary databases: nobody shares them */
      conn->lock_path = strdup(path); /* out of memory: no lock, the busy timeout guards */
  }
}

static void open_after(void *arg, int cancelled) {
  uvsql__sq_conn_t *conn = arg;
  uvsql_error_t err = conn->open_err;

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
  if (conn->lock_path)
    conn->wlock = uvsql__sq_wlock_get(conn->base.loop, conn->lock_path);
  uvsql__sq_drain(conn); /* what was submitted while the open ran */
  conn->connect_cb(&conn->base, NULL, conn->connect_data);
}

int uvsql__sq_connect(uvsql__dconn_t **out, uv_loop_t *loop, const uvsql_url_t *url,
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
  uvsql__kit_lru_init(&conn->cache, opt ? opt->statement_cache_size : DEFAULT_CACHE_SIZE,
                      sizeof(uvsql__sq_stmt_t), NULL, uvsql__sq_stmt_release);
  if (uv_mutex_init(&conn->mu) != 0) {
    rc = uvsql__error_set(err, UVSQL_ENOMEM, "out of memory");
    goto fail_cache;
  }
  if (uv_cond_init(&conn->st_cond) != 0) {
    rc = uvsql__error_set(err, UVSQL_ENOMEM, "out of memory");
    uv_mutex_destroy(&conn->mu);
    goto fail_cache;
  }
  rc = uvsql__worker_new(&conn->worker, loop, conn->opt.busy_poll);
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
  uv_cond_destroy(&conn->st_cond);
  uv_mutex_destroy(&conn->mu);
fail_cache:
  uvsql__kit_lru_free(&conn->cache);
fail_opt:
  uvsql__sq_options_free(&conn->opt);
  free(conn);
  return rc;
}
