/* src/dialects/driver.h — the seam between the engine and a backend.
 *
 * A backend is one folder under src/dialects/ that defines one uvsql__driver_t, its SQL hooks
 * in Core (src/sql/dialects/<name>.c), and one row naming both in src/engine/backends.c. The
 * engine never includes a client library's header; it sees only this. Drivers build their
 * results with the builder in src/loop/result.h.
 *
 * Contract (every driver keeps it; the engine relies on it):
 *  1. connect() returns 0 and later calls cb exactly once from the loop (never before connect
 *     returns), or returns an error code and never calls cb. On failure the driver has already
 *     freed what it made: the engine does not call close(). If connect() failed asynchronously
 *     (cb with err), the engine still calls close() to free the dconn. If close() is called
 *     before cb ran, cb is never called.
 *  2. submit() queues a request; requests on one connection run in submission order, one at a
 *     time on the wire or pipelined, never interleaved. req->done is called exactly once, from
 *     the loop, never before submit() returns. After done, the driver never touches req.
 *  3. A lost connection sets dc->broken = 1 and fails the request in flight and every queued one
 *     with UVSQL_EDISCONNECT (message says what the client library said). Later submits fail
 *     the same way (asynchronously).
 *  4. cancel(): a request not yet sent is withdrawn (done with UVSQL_ECANCELLED, may be called
 *     before cancel returns); a running one is cancelled on the server without blocking the
 *     loop, and done reports UVSQL_ECANCELLED when the server confirms. Returns 0, or
 *     UVSQL_EINVALID_ARGUMENT if req is not on this connection.
 *     Nothing new is sent on a connection while a cancel request for it is in flight, so a
 *     cancel can only ever reach the statement it was meant for.
 *  5. close() fails queued requests with UVSQL_ECLOSED, stops the watcher before the socket is
 *     closed, and frees everything; closed_cb (may be NULL) runs from the loop afterwards.
 *     Safe to call from inside a done callback.
 */
#ifndef UVSQL_DIALECTS_DRIVER_H
#define UVSQL_DIALECTS_DRIVER_H

#include <stdint.h>
#include <uv.h>
#include "uvsql/engine.h"
#include "../loop/internal.h"
#include "../loop/result.h"

typedef enum {
  UVSQL__PARAMSTYLE_DOLLAR = 0, /* $1, $2 ... (PostgreSQL) */
  UVSQL__PARAMSTYLE_QMARK,      /* ? ? ... (MariaDB); a repeated name is bound again */
  UVSQL__PARAMSTYLE_NUMBERED,   /* ?1, ?2 ... (SQLite) */
  UVSQL__PARAMSTYLE_COUNT
} uvsql__paramstyle_t;

typedef struct uvsql__request_s uvsql__request_t;
typedef struct uvsql__dconn_s uvsql__dconn_t;
typedef struct uvsql__driver_s uvsql__driver_t;

/* result: owned by the callee from here on (NULL when err is set). err: borrowed. */
typedef void (*uvsql__request_done_cb)(uvsql__request_t *req, uvsql_result_t *result,
                                       const uvsql_error_t *err);

#define UVSQL__REQ_NO_PREPARE 1u /* run once (BEGIN, COMMIT, ...): do not cache a prepared form */
#define UVSQL__REQ_STREAM     2u /* hand rows over in batches (below) */
#define UVSQL__REQ_MANY       4u /* executemany (below) */

/* executemany (UVSQL__REQ_MANY; one statement, never a stream or NO_PREPARE): params holds
 * nsets runs of nparams values, one run per parameter set, all for the same statement. The
 * driver runs the statement once per set, in order, as one unit: PostgreSQL one sync group
 * (a Parse, nsets Bind/Execute, one Sync), MariaDB one bulk execution (array binding) or a
 * loop of executes, SQLite one worker call. Result rows are discarded; done gets a result
 * without columns whose rows_affected is the sum over the sets. Outside a transaction the
 * unit is atomic (all sets or none). On failure the driver sets many_failed to the index of
 * the set that failed, -1 when the backend does not say (MariaDB's bulk execution), or -2
 * when the statement itself failed (it does not parse). */
#define UVSQL__REQ_COPY_IN  8u  /* PostgreSQL COPY ... FROM STDIN: rows from source (below) */
#define UVSQL__REQ_COPY_OUT 16u /* PostgreSQL COPY ... TO STDOUT: rows to batch (below) */

/* COPY (PostgreSQL only; other drivers never see these flags). sql is two statements without
 * parameters: a probe "SELECT <the columns> ... LIMIT 0" whose result gives the columns'
 * names and types, then "COPY ... FROM STDIN (FORMAT binary)" or "COPY ... TO STDOUT (FORMAT
 * binary)" over the same columns.
 *   COPY_IN: the driver calls source(req, &rows, &nrows, err) whenever it can send more: 0
 *     with nrows rows of ncolumns values (row-major, borrowed until the next call; nrows 0:
 *     the end), or non-zero with err set: the copy is abandoned (CopyFail, nothing written)
 *     and done reports err. Cancel abandons it the same way (UVSQL_ECANCELLED). done's result
 *     has no rows; its rows_affected is the number of rows copied.
 *   COPY_OUT: rows go to batch(req, rows) as for UVSQL__REQ_STREAM (batch_rows, stop, done
 *     (NULL, NULL) at the end), decoded with the probe's column types. */
typedef int (*uvsql__request_source_cb)(uvsql__request_t *req, const uvsql_value_t **rows,
                                        size_t *nrows, uvsql_error_t *err);

/* Streaming (UVSQL__REQ_STREAM; single statements only, else done fails with
 * UVSQL_EINVALID_ARGUMENT): the driver calls batch(req, rows) from the loop for each run of
 * 1..batch_rows rows, in order, with the same columns each time; rows stays the driver's (it
 * frees it when batch returns). Memory is bounded: the driver reads at most a batch or two
 * ahead of what batch() has consumed, and never blocks the loop to wait. A non-zero return
 * means stop: the driver discards the rest (cancelling it on the server if it can, without
 * the cancel reaching any later request), never calls batch again, and calls done(req, NULL,
 * NULL) once the connection is ready for the next request. Otherwise done is called once at
 * the end: (NULL, NULL) on success, or (NULL, err) with the rows after the last delivered
 * batch discarded. Contracts 2-5 hold as for any request. */
typedef int (*uvsql__request_batch_cb)(uvsql__request_t *req, uvsql_result_t *rows);

struct uvsql__request_s {
  /* Set by the engine; valid until done is called. */
  const char *sql; /* in the driver's parameter style, NUL-terminated */
  size_t sql_len;
  const uvsql_value_t *params; /* one per placeholder, in order; text/bytes owned by the engine */
  int nparams;
  unsigned flags; /* UVSQL__REQ_* */
  uvsql__request_done_cb done;
  void *data;                      /* the engine's */
  uvsql__request_batch_cb batch;   /* UVSQL__REQ_STREAM only */
  size_t batch_rows;               /* UVSQL__REQ_STREAM and COPY_OUT only; >= 1 */
  size_t nsets;                    /* UVSQL__REQ_MANY only; >= 1 */
  long many_failed;                /* UVSQL__REQ_MANY only: set by the driver (above) */
  uvsql__request_source_cb source; /* UVSQL__REQ_COPY_IN only */
  size_t ncolumns;                 /* UVSQL__REQ_COPY_IN only: values per row */
  /* The driver's: queue link and state, untouched by the engine. */
  uvsql__request_t *next;
  int state;
  void *driver_data;
  /* Deadlines (kit.h, uvsql__kit_deadlines_submit). Set by the owner before submit:
   * timeout: seconds, <= 0 for none. expired: called once when the timeout passes, before the
   * driver is asked to cancel; the owner may settle its caller then (req stays alive until
   * done). NULL: the owner just waits for done. */
  double timeout;
  void (*expired)(uvsql__request_t *req);
  /* The kit's own, while it tracks the request. */
  struct {
    void *list; /* the uvsql__kit_deadlines_t tracking it, NULL when untracked */
    uvsql__request_t *prev, *next;
    uvsql__request_done_cb done; /* the owner's done, called through the kit's */
    uint64_t due_ms;
    int phase; /* 0 statement deadline, 1 cancel deadline, 2 aborted */
  } dl;
};

/* Server events outside any request (listen.c in the engine). Set by the connection's owner
 * once connect() has returned 0 (both may stay NULL); called from the loop inside a driver
 * frame, so they may submit or close (close is finished when the frame leaves).
 *   on_notify: a notification arrived (PostgreSQL NOTIFY; strings valid during the call).
 *   on_lost:   the connection was just marked broken (after its requests were failed). */
typedef void (*uvsql__notify_cb)(uvsql__dconn_t *dc, const char *channel, const char *payload,
                                 int pid, void *data);

struct uvsql__dconn_s {
  const uvsql__driver_t *driver;
  uv_loop_t *loop;
  int broken; /* set by the driver when the connection is lost */
  uvsql__notify_cb on_notify;
  void (*on_lost)(uvsql__dconn_t *dc, void *data);
  void *event_data;
};

typedef struct uvsql__dconn_options_s {
  double connect_timeout;   /* seconds, <= 0 for none */
  int statement_cache_size; /* prepared statements kept (LRU); 0 disables the cache */
} uvsql__dconn_options_t;

typedef void (*uvsql__connect_cb)(uvsql__dconn_t *dc, const uvsql_error_t *err, void *data);

struct uvsql__driver_s {
  const char *name; /* "postgresql", "mariadb", "sqlite" */
  uvsql__paramstyle_t paramstyle;
  int max_params; /* the backend's limit per statement */
  /* Checks the URL without connecting (unknown options, missing parts). 0 or UVSQL_EURL. */
  int (*validate_url)(const uvsql_url_t *url, uvsql_error_t *err);
  /* See contract 1. On success *out is set at once (before cb), so close() can abort. */
  int (*connect)(uvsql__dconn_t **out, uv_loop_t *loop, const uvsql_url_t *url,
                 const uvsql__dconn_options_t *opt, uvsql__connect_cb cb, void *data,
                 uvsql_error_t *err);
  void (*submit)(uvsql__dconn_t *dc, uvsql__request_t *req);
  int (*cancel)(uvsql__dconn_t *dc, uvsql__request_t *req);
  void (*close)(uvsql__dconn_t *dc, void (*closed_cb)(void *data), void *data);
  /* The server did not answer a cancel in time (kit.h deadlines): the connection cannot be
   * trusted. Marks it broken and fails every request on it with UVSQL_EDISCONNECT, the message
   * saying why; nothing is sent on it again. NULL when a cancel always completes (SQLite). */
  void (*abort)(uvsql__dconn_t *dc, const char *why);
  /* SQL that opens a transaction at that isolation level, or NULL with err set
   * (UVSQL_ENOT_SUPPORTED). Static strings. */
  const char *(*begin_sql)(uvsql_isolation_t isolation, uvsql_error_t *err);
  /* SQL that opens a transaction which will write, taking the write lock at once (SQLite's
   * BEGIN IMMEDIATE), for uvsql_conn_begin_write once begin_sql accepted the level; NULL when
   * begin_sql's statement serves (servers lock rows, not the database). */
  const char *begin_write_sql;
  /* Non-zero when the client library says word[0..len) is a keyword of the backend's SQL
   * (Core quotes it as an identifier; stmt_api.h uvsql__backend_keyword). NULL when the
   * library keeps no list (Core's dialect file then holds one). */
  int (*is_keyword)(const char *word, size_t len);
};

#endif
