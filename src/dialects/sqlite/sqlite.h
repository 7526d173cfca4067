/* src/dialects/sqlite/sqlite.h — what the files of the SQLite driver share.
 *
 * The driver's files, each with one job:
 *   options.c      the URL: database path and ?mode, timeout, journal_mode, foreign_keys
 *   driver.c       the driver table, BEGIN statements
 *   conn.c         the connection state machine on the loop thread (connect, submit, close)
 *   exec.c         one request on the worker thread: prepare, bind, step, build the result
 *   stream.c       a streamed request: the worker steps a batch ahead of the loop, no more
 *   cancel.c       cancel(): withdraw a queued request, interrupt the running one
 *   params.c       uvsql values -> SQLite parameters
 *   decode.c       SQLite cells -> uvsql values, declared types -> uvsql types
 *   errors.c       SQLite result codes -> uvsql error codes and messages
 *   sqlscan.c      does a request's SQL write? (read on the loop thread at submit)
 *   wlock.c        the file's write lock on the loop: writers take turns, FIFO, with deadlines
 *
 * Threads: the sqlite3 handle and the statement cache are touched only on the connection's
 * worker thread (see src/loop/worker.c), one job at a time; the loop thread only calls
 * sqlite3_interrupt, under uvsql__sq_conn_t.mu while the worker says a request is executing.
 * Only this folder includes sqlite3.h.
 */
#ifndef UVSQL_DIALECTS_SQLITE_H
#define UVSQL_DIALECTS_SQLITE_H

#include <sqlite3.h>
#include <stdatomic.h>
#include "../kit.h"

extern const uvsql__driver_t uvsql__sqlite_driver; /* driver.c */

/* conn.c: the driver's entry points (driver.h contracts). */
int uvsql__sq_connect(uvsql__dconn_t **out, uv_loop_t *loop, const uvsql_url_t *url,
                      const uvsql__dconn_options_t *opt, uvsql__connect_cb cb, void *data,
                      uvsql_error_t *err);
void uvsql__sq_submit(uvsql__dconn_t *dc, uvsql__request_t *req);
int uvsql__sq_cancel(uvsql__dconn_t *dc, uvsql__request_t *req); /* cancel.c */
void uvsql__sq_close(uvsql__dconn_t *dc, void (*closed_cb)(void *data), void *data);
/* Hands req its outcome (loop thread): clears its driver state, then calls done. */
void uvsql__sq_finish(uvsql__request_t *req, uvsql_result_t *result, const uvsql_error_t *err);

/* ------------------------------------------------------------------ options (options.c) */

typedef struct uvsql__sq_options_s {
  char *path;     /* owned; ":memory:" when the URL names no file */
  int open_flags; /* SQLITE_OPEN_READONLY / READWRITE [| CREATE] */
  int busy_timeout_ms;
  char journal_mode[16]; /* "" to leave SQLite's default; else validated, upper-case */
  int foreign_keys;      /* 1 or 0 */
  int busy_poll;         /* 1 or 0: the worker may spin and the loop busy-poll (worker.c) */
} uvsql__sq_options_t;

/* Reads the URL into opt (caller frees with uvsql__sq_options_free). 0, UVSQL_EURL or UVSQL_ENOMEM.
 */
int uvsql__sq_options_parse(uvsql__sq_options_t *opt, const uvsql_url_t *url, uvsql_error_t *err);
void uvsql__sq_options_free(uvsql__sq_options_t *opt);
int uvsql__sq_validate_url(const uvsql_url_t *url, uvsql_error_t *err);

/* ------------------------------------------------------------------ sqlscan.c, wlock.c */

/* 1 when some statement of sql may write (or takes SQLite's write lock: BEGIN IMMEDIATE), so
 * the request waits for the file's write lock; 0 for reads and transaction control. */
int uvsql__sq_sql_writes(const char *sql, size_t len);

typedef struct uvsql__sq_conn_s uvsql__sq_conn_t;
typedef struct uvsql__sq_wlock_s uvsql__sq_wlock_t;
/* The lock of the file at path (a full path) on loop, made on first use; NULL out of memory. */
uvsql__sq_wlock_t *uvsql__sq_wlock_get(uv_loop_t *loop, const char *path);
void uvsql__sq_wlock_put(uvsql__sq_wlock_t *l);
/* c takes the lock if it is free (or c's already): 1; else 0 and nothing changes. */
int uvsql__sq_wlock_try(uvsql__sq_wlock_t *l, uvsql__sq_conn_t *c);
/* c queues for the lock (FIFO): later uvsql__sq_wlock_granted(c), or, timeout_ms after now,
 * uvsql__sq_wlock_timed_out(c). Both are conn.c's, called from the loop. */
void uvsql__sq_wlock_wait(uvsql__sq_wlock_t *l, uvsql__sq_conn_t *c, int timeout_ms);
void uvsql__sq_wlock_withdraw(uvsql__sq_wlock_t *l, uvsql__sq_conn_t *c);
/* c gives the lock back; the first waiter gets it (granted is called before this returns). */
void uvsql__sq_wlock_release(uvsql__sq_wlock_t *l, uvsql__sq_conn_t *c);
void uvsql__sq_wlock_granted(uvsql__sq_conn_t *c);
void uvsql__sq_wlock_timed_out(uvsql__sq_conn_t *c);
/* conn.c: hands held requests to the worker as far as the write lock allows (loop thread). */
void uvsql__sq_drain(uvsql__sq_conn_t *c);

/* ------------------------------------------------------------------ statement cache */

/* A prepared statement in the connection's cache (the kit's LRU, keyed by the exact SQL text),
 * used on the worker thread only. A cached statement is always reset with its bindings
 * cleared when it is not in use (exec.c), so evicting (finalizing) one is safe. */
/* A cached statement and its result shape, kept by exec.c so that a cached statement's run
 * does not look at its declared types and SQL again: valid (shape_ok) while SQLite has not
 * re-prepared the statement since (its SQLITE_STMTSTATUS_REPREPARE count is shape_gen) and
 * while it has ncols columns; only for ncols <= UVSQL__SQ_SHAPE_MAX. */
#define UVSQL__SQ_SHAPE_MAX 16
typedef struct uvsql__sq_stmt_s {
  uvsql__kit_lru_entry_t entry; /* first */
  sqlite3_stmt *stmt;
  int shape_ok, ncols, dml, shape_gen;
  uvsql_type_t types[UVSQL__SQ_SHAPE_MAX]; /* declared types (uvsql__sq_decltype_to_type) */
} uvsql__sq_stmt_t;

/* exec.c. The cached statement for exactly this text (now most recently used), or NULL; it
 * stays the cache's. */
sqlite3_stmt *uvsql__sq_cache_get(uvsql__kit_lru_t *c, const char *sql, size_t len);
/* Hands stmt to the cache (the least recently used is finalized when full): 1. Out of memory
 * or with the cache off, stmt is finalized: 0. Either way the caller no longer owns it (with
 * 1 it may use it until its next cache call). */
int uvsql__sq_cache_put(uvsql__kit_lru_t *c, const char *sql, size_t len, sqlite3_stmt *stmt);
/* The cache's release: finalizes. */
void uvsql__sq_stmt_release(uvsql__kit_lru_t *c, uvsql__kit_lru_entry_t *e);

/* ------------------------------------------------------------------ connection */

enum {
  UVSQL__SQ_CANCEL_NONE = 0,
  UVSQL__SQ_CANCEL_USER,  /* cancel(): fails with UVSQL_ECANCELLED */
  UVSQL__SQ_CANCEL_CLOSE, /* close(): fails with UVSQL_ECLOSED */
};

typedef enum {
  UVSQL__SQ_CONNECTING = 0, /* open job queued or running on the worker */
  UVSQL__SQ_OPEN,           /* requests flow */
  UVSQL__SQ_CLOSING,        /* close job queued; then the worker closes */
  UVSQL__SQ_FAILED,         /* open failed: cb told; waits for close() */
} uvsql__sq_state_t;

/* Where a request is (uvsql__request_t.state), written under mu. */
enum {
  UVSQL__SQ_REQ_QUEUED = 1, /* in the connection's queue: can be withdrawn */
  UVSQL__SQ_REQ_RUNNING,    /* taken by the worker (`current`) */
  UVSQL__SQ_REQ_COMPLETED,  /* ran; its done comes with the worker's next wakeup */
  UVSQL__SQ_REQ_HELD,       /* on the loop (`held`), not yet handed to the worker: waits for
                               the open to finish or for the file's write lock */
};

struct uvsql__sq_conn_s {
  uvsql__dconn_t base; /* first: the engine's view */
  uvsql__sq_state_t state;
  uvsql__worker_t *worker;
  uvsql__sq_options_t opt;
  /* Loop thread only. */
  uvsql__connect_cb connect_cb;
  void *connect_data;
  void (*closed_cb)(void *data);
  void *closed_data;
  /* The write lock (wlock.c; conn.c invariant 8). Loop thread only. `held` keeps submitted
   * requests, in order, until they may go to the worker; `nworker` counts the request jobs
   * handed to the worker and not yet back; `txn` is sqlite3_txn_state after the last request
   * came back (SQLITE_TXN_NONE, READ or WRITE). */
  uvsql__sq_wlock_t *wlock; /* NULL: in-memory or read-only (no lock) */
  int wl_holds, wl_waiting;
  uvsql__sq_conn_t *wl_next; /* the lock's FIFO */
  uint64_t wl_deadline;      /* uv_now() ms when the wait fails with "database is locked" */
  uvsql__kit_queue_t held;
  int nworker;
  int txn;
  /* Whether an SQL text writes (uvsql__sq_sql_writes), remembered for the last texts that had
   * to be scanned (conn.c sql_writes): owned copies. */
  struct {
    char *sql;
    size_t len;
    int writes;
  } wmemo[4];
  unsigned wmemo_next;
  char *lock_path; /* written by the open job (the file's full path), taken by open_after */
  int wal;         /* written by the open job: the file is in WAL mode */
  /* Shared with the worker, under mu. The queue holds requests submitted and not yet taken by
   * the worker; `current` is the one it took and runs; `executing` says it is inside SQLite
   * (only then may sqlite3_interrupt be called). `cancel` (UVSQL__SQ_CANCEL_*) concerns
   * `current`; it is also read without the lock by the progress handler. */
  uv_mutex_t mu;
  uvsql__kit_queue_t queue;
  uvsql__request_t *current;
  int executing;
  atomic_int cancel;
  /* A stream's flow control (stream.c): batches posted to the loop and not yet consumed, and
   * whether the consumer stopped; the worker waits on st_cond, which cancel and close signal. */
  int st_inflight;
  int st_stop;
  uv_cond_t st_cond;
  /* Worker thread only. */
  sqlite3 *db;
  uvsql__kit_lru_t cache; /* of uvsql__sq_stmt_t */
  int fatal;              /* a request found the file unusable: fail the rest */
  uvsql_result_t *result; /* scratch of uvsql__sq_execute, moved into the job */
  uvsql_error_t err;
  /* Written by the open job only, read by its after. */
  uvsql_error_t open_err;
};

/* ------------------------------------------------------------------ exec.c (worker) */

/* Opens conn->db with conn->opt and applies the pragmas. Fills conn->err on failure (code
 * UVSQL_ECONNECT), with conn->db closed again. */
void uvsql__sq_open(uvsql__sq_conn_t *conn);
/* Runs req to completion: conn->result, or conn->err set. */
void uvsql__sq_execute(uvsql__sq_conn_t *conn, const uvsql__request_t *req);
/* Finalizes cached statements and closes conn->db. */
void uvsql__sq_close_db(uvsql__sq_conn_t *conn);

/* ------------------------------------------------------------------ stream.c (worker) */

/* Runs a UVSQL__REQ_STREAM request: its batches go to the loop (req->batch) as they fill;
 * on return conn->err is set or the stream succeeded (conn->result stays NULL). */
void uvsql__sq_stream(uvsql__sq_conn_t *conn, uvsql__request_t *req);

/* ------------------------------------------------------------------ params.c and decode.c (worker)
 */

/* Binds params to stmt's parameters 1..n (n = what stmt takes, at most nparams). Text and
 * blobs are copied by SQLite (SQLITE_TRANSIENT). Returns a SQLite code. */
int uvsql__sq_bind_params(sqlite3_stmt *stmt, const uvsql_value_t *params, int nparams);
/* The uvsql type a declared column type names ("BIGINT" -> INT64), or UVSQL_TYPE_NULL when it
 * says nothing (no declared type, NUMERIC, ...). */
uvsql_type_t uvsql__sq_decltype_to_type(const char *decltype);
/* For tests: the full keyword scan that uvsql__sq_decltype_to_type falls back on, and entry i
 * of its table of common declared types (*name set; (uvsql_type_t)-1 past the end). */
uvsql_type_t uvsql__sq_decltype_scan(const char *decltype);
uvsql_type_t uvsql__sq_decltype_common(size_t i, const char **name);
/* Copies the current row of stmt into a new row of r. 0 or UVSQL_ENOMEM. coltypes[i] is
 * column i's type so far: BOOL (declared) turns integer 0/1 cells into BOOL; NULL (nothing
 * declared, no value seen yet) is replaced by this row's cell type when the cell is not NULL. */
int uvsql__sq_read_row(uvsql_result_t *r, sqlite3_stmt *stmt, int ncols, uvsql_type_t *coltypes);

/* ------------------------------------------------------------------ errors.c */

/* The uvsql code for a SQLite (extended) result code. at_prepare: SQLITE_ERROR while
 * preparing is the statement's fault (syntax, no such table) -> UVSQL_EPROGRAMMING. */
int uvsql__sq_error_code(int rc, int at_prepare);
/* Fills err from db's last error (or rc's string when db is NULL), adding what the statement
 * was and, where known, what to do. Returns err->code. For SQLITE_INTERRUPT, cancel_reason
 * (UVSQL__SQ_CANCEL_*) says who asked: close gives UVSQL_ECLOSED, anything else UVSQL_ECANCELLED.
 */
int uvsql__sq_error_set(uvsql_error_t *err, sqlite3 *db, int rc, int at_prepare, const char *sql,
                        size_t sql_len, int busy_timeout_ms, int cancel_reason);
/* The retryable UVSQL_ESERIALIZATION for sql, which could not run in its transaction because
 * another connection wrote since it read (rc: SQLite's code, or SQLITE_BUSY when the write
 * lock was seen taken on the loop). Returns err->code. */
int uvsql__sq_error_serialization(uvsql_error_t *err, int rc, const char *sql, size_t sql_len);
/* SQLite failures that leave the connection unusable (corruption, I/O errors). */
int uvsql__sq_error_is_fatal(int rc);

#endif
