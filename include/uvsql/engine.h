/* uvsql/engine.h — URLs, text statements, results, engines, pools, connections, transactions.
 *
 * Threading: every object here belongs to the loop it was made on and is used only from that
 * loop's thread. Nothing is locked.
 *
 * Ownership, summarised (each function says it again):
 *   uvsql_url_t        caller (uvsql_url_parse -> uvsql_url_free)
 *   uvsql_stmt_t       caller (uvsql_text -> uvsql_stmt_free); reference counted, so a statement
 *                      freed while a query using it is in flight stays alive until it finishes
 *   uvsql_result_t     the future that delivered it, or the caller after uvsql_future_take()
 *                      (then uvsql_result_free)
 *   uvsql_engine_t     caller (uvsql_engine_new -> uvsql_engine_dispose, asynchronous)
 *   uvsql_conn_t       the engine's pool; the caller holds it between a checkout
 *                      (uvsql_engine_connect) and uvsql_conn_release
 */
#ifndef UVSQL_ENGINE_H
#define UVSQL_ENGINE_H

#include <stdint.h>
#include <uv.h>
#include "error.h"
#include "future.h"
#include "value.h"

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif
UVSQL__EXPORTS_BEGIN

/* ---------------------------------------------------------------- URLs */

typedef struct uvsql_url_query_s {
  char *key;
  char *value;
} uvsql_url_query_t;

/* One host of a multi-host URL (libpq's failover list). */
typedef struct uvsql_url_host_s {
  char *host; /* without brackets for IPv6 */
  int port;   /* 0 when absent */
} uvsql_url_host_t;

/* A parsed database URL: scheme://user:password@host:port/database?key=value&...
 * Strings are decoded (%-escapes), NUL-terminated, owned by the URL; absent parts are NULL.
 * host is without brackets for IPv6 ("::1"). port is 0 when absent. For sqlite, database is
 * the file path ("app.db", "/abs/app.db") or NULL for an in-memory database. */
typedef struct uvsql_url_s {
  char
      *scheme; /* as written, lower-cased: "postgresql", "postgres", "mariadb", "mysql", "sqlite" */
  char *driver; /* the canonical backend: "postgresql", "mariadb" or "sqlite" */
  char *user;
  char *password;
  char *host;
  int port;
  char *database;
  uvsql_url_query_t *query;
  size_t nquery;
  /* Every host of the authority, in order, for the multi-host form libpq and SQLAlchemy users
   * write (postgresql://u@h1:5432,h2:5433/db, PostgreSQL only): nhosts is 0 without a host,
   * 1 for one, and hosts[0] is host/port above. The query form (?host=h1,h2&port=5432,5433)
   * stays in query, validated when an engine is made. Owned by the URL. */
  uvsql_url_host_t *hosts;
  size_t nhosts;
} uvsql_url_t;

/* Parses text into *out (caller owns, free with uvsql_url_free). Returns 0, or UVSQL_EURL with
 * err naming the problem (err may be NULL), or UVSQL_ENOMEM. */
int uvsql_url_parse(uvsql_url_t **out, const char *text, uvsql_error_t *err);
void uvsql_url_free(uvsql_url_t *url); /* accepts NULL */
/* The value of ?key=..., or NULL. */
const char *uvsql_url_query_get(const uvsql_url_t *url, const char *key);
/* Writes the URL with the password and every secret option value (uvsql_url_option_is_secret)
 * masked as "***" into buf (always NUL-terminated when size > 0). Returns the length the full
 * text needs, like snprintf. */
size_t uvsql_url_render(const uvsql_url_t *url, char *buf, size_t size);
/* 1 when the value of the URL query option named key is masked wherever uvsql shows a URL
 * (uvsql_url_render, uvsql_engine_url, error messages, echo): a name that contains, in any
 * case, "password", "passwd", "pwd", "secret", "passphrase", "token" or "credential", or
 * that ends in "key" (sslkey, ssl_key, api_key: the path to a private key tells an attacker
 * where to look, and masking it costs nothing). 0 otherwise, and for NULL. */
int uvsql_url_option_is_secret(const char *key);

/* ---------------------------------------------------------------- text statements */

typedef struct uvsql_stmt_s uvsql_stmt_t;

/* Builds a statement from SQL text with :name placeholders. `::` (PostgreSQL casts), quoted
 * strings, quoted identifiers and comments are left alone; `\:` writes a literal colon.
 * The text is copied. Returns 0, UVSQL_EINVALID_ARGUMENT (err says where), or UVSQL_ENOMEM.
 * The caller owns *out and frees it with uvsql_stmt_free. */
int uvsql_text(uvsql_stmt_t **out, const char *sql, uvsql_error_t *err);
void uvsql_stmt_free(uvsql_stmt_t *stmt); /* accepts NULL; in-flight queries keep it alive */
const char *uvsql_stmt_sql(const uvsql_stmt_t *stmt);    /* the text as given */
size_t uvsql_stmt_param_count(const uvsql_stmt_t *stmt); /* distinct :names */
const char *uvsql_stmt_param_name(const uvsql_stmt_t *stmt, size_t i);

/* ---------------------------------------------------------------- results */

typedef struct uvsql_result_s uvsql_result_t;

void uvsql_result_free(uvsql_result_t *result); /* accepts NULL; only for taken results */
size_t uvsql_result_nrows(const uvsql_result_t *result);
size_t uvsql_result_ncols(const uvsql_result_t *result);
/* Rows changed by INSERT/UPDATE/DELETE (as the server reports it), or -1 if not applicable. */
int64_t uvsql_result_rows_affected(const uvsql_result_t *result);
const char *uvsql_result_colname(const uvsql_result_t *result,
                                 size_t col); /* NULL if out of range */
/* Index of the column with that name, or -1. */
long uvsql_result_colindex(const uvsql_result_t *result, const char *name);
/* Declared type of the column (for SQLite: of the first non-NULL value). */
uvsql_type_t uvsql_result_coltype(const uvsql_result_t *result, size_t col);

/* The raw cell (borrowed, valid until the result is freed), or NULL if out of range. */
const uvsql_value_t *uvsql_result_value(const uvsql_result_t *result, size_t row, size_t col);
int uvsql_result_is_null(const uvsql_result_t *result, size_t row, size_t col);

/* Typed getters. Each returns 0 and writes *out, or an error code without touching *out:
 *   UVSQL_EINVALID_ARGUMENT  row or column out of range
 *   UVSQL_EDATA              the value is NULL (check uvsql_result_is_null first), or it is of
 *                            an accepted type but its value does not fit (below)
 *   UVSQL_ETYPE              the value cannot be read as that type
 * uvsql_result_last_error() then says which column, what type it has and, for UVSQL_EDATA of a
 * value that does not fit, the value.
 *
 * What each getter accepts: the cell's value type (uvsql_result_value()->type), the same on
 * PostgreSQL, MariaDB and SQLite (what each backend gives for each column type:
 * docs/backends.md). Anything not listed is UVSQL_ETYPE.
 *
 *   getter     value types read                       how
 *   int64      INT64, BOOL                            as is (true is 1)
 *              NUMERIC                                exact: an integral value in int64's range
 *                                                     ("42.00" is 42; `SELECT sum(bigint_col)`
 *                                                     is NUMERIC on PostgreSQL and MariaDB);
 *                                                     a fraction or a value out of range is
 *                                                     UVSQL_EDATA naming the column and value
 *   double     DOUBLE, INT64                          INT64 beyond 2^53 rounds
 *              NUMERIC                                ROUNDED to the nearest double (0.1 is
 *                                                     0.1000000000000000055...); NaN/±Infinity
 *   bool       BOOL, INT64 0 or 1                     as is
 *   numeric    NUMERIC, INT64                         exact
 *              TEXT that is a decimal                 exact (uvsql_numeric_parse); other text
 *                                                     is UVSQL_EDATA; a DOUBLE is UVSQL_ETYPE:
 *                                                     it was rounded already
 *   text       TEXT, NUMERIC                          the text in the result (NUMERIC's is
 *                                                     canonical: "-12.50")
 *   bytes      BYTES, TEXT                            the bytes
 *   date, time, timestamp   DATE / TIME / TIMESTAMP (timestamp also TIMESTAMPTZ), and ISO 8601
 *              TEXT (SQLite stores them so; uvsql_parse_temporal) */
int uvsql_result_int64(const uvsql_result_t *r, size_t row, size_t col, int64_t *out);
int uvsql_result_double(const uvsql_result_t *r, size_t row, size_t col, double *out);
int uvsql_result_bool(const uvsql_result_t *r, size_t row, size_t col, int *out);
int uvsql_result_numeric(const uvsql_result_t *r, size_t row, size_t col, uvsql_numeric_t *out);
/* Text: pointer into the result, NUL-terminated, *len (may be NULL) without the NUL. */
int uvsql_result_text(const uvsql_result_t *r, size_t row, size_t col, const char **out,
                      size_t *len);
int uvsql_result_bytes(const uvsql_result_t *r, size_t row, size_t col, const void **out,
                       size_t *len);
int uvsql_result_date(const uvsql_result_t *r, size_t row, size_t col, int64_t *days);
int uvsql_result_time(const uvsql_result_t *r, size_t row, size_t col, int64_t *us);
int uvsql_result_timestamp(const uvsql_result_t *r, size_t row, size_t col, int64_t *us);
/* A UUID from a UUID cell, a 16-byte BYTES cell or a TEXT cell in either form
 * uvsql_uuid_parse reads; other text or lengths are UVSQL_EDATA. uvsql_result_text on a UUID
 * cell gives its canonical text (formatted into the result's memory at each call, freed with
 * the result), and uvsql_result_bytes its 16 bytes. uvsql_result_text reads JSON cells too. */
int uvsql_result_uuid(const uvsql_result_t *r, size_t row, size_t col, uvsql_uuid_t *out);
/* ENUM: the index in e->labels of the cell's label (an ENUM or TEXT cell: PostgreSQL sends
 * enum columns as text, MariaDB and SQLite store the label). A label that is not one of e's
 * is UVSQL_EDATA naming the label, the column and the type. */
int uvsql_result_enum(const uvsql_result_t *r, size_t row, size_t col, const uvsql_enum_type_t *e,
                      int *index);
/* INTERVAL: an INTERVAL cell (PostgreSQL), or text in ISO 8601 duration form (how MariaDB and
 * SQLite store intervals: uvsql_parse_interval); other text is UVSQL_ETYPE. */
int uvsql_result_interval(const uvsql_result_t *r, size_t row, size_t col, uvsql_interval_t *out);
/* ARRAY (PostgreSQL): *items points at *n values owned by the result (an element may be
 * UVSQL_TYPE_NULL; text elements are NUL-terminated); an empty array gives *n == 0. */
int uvsql_result_array(const uvsql_result_t *r, size_t row, size_t col, const uvsql_value_t **items,
                       size_t *n);
const char *uvsql_result_last_error(const uvsql_result_t *result);

/* ---------------------------------------------------------------- engine */

typedef struct uvsql_engine_s uvsql_engine_t;
typedef struct uvsql_conn_s uvsql_conn_t;

typedef void (*uvsql_log_cb)(void *data, const char *line);

typedef struct uvsql_engine_options_s {
  int pool_size;            /* connections kept open; default 5 */
  int max_overflow;         /* extra connections opened under load, closed on release; default 10 */
  double pool_timeout;      /* seconds a checkout waits for a connection; default 30 */
  double pool_recycle;      /* close connections older than this many seconds; <= 0: never */
  int pool_pre_ping;        /* test a connection with a round trip at checkout; default 0 */
  int pool_reset_on_return; /* roll back an open transaction on release; default 1 */
  int pool_use_lifo;        /* hand out the most recently used connection first; default 0 */
  double connect_timeout;   /* seconds; default 30 */
  int echo;                 /* log each statement and its parameters */
  int echo_hide_parameters; /* log statements, but "[parameters hidden]" for their values */
  uvsql_log_cb log_cb;      /* where echo lines go; NULL: stderr */
  void *log_data;
  int statement_cache_size; /* prepared statements kept per connection (LRU); default 100 */
  /* When the pool is exhausted, uvsql_engine_execute may queue up to this many statements
   * from different callers on one pooled connection (pipelined on PostgreSQL) instead of
   * waiting for a connection of its own. Each still runs in its own implicit transaction;
   * statements on a connection you checked out are never shared. 1 disables; default 16. */
  int pipeline_depth;
  /* ---- the pool's housekeeping (seconds; each <= 0 turns its feature off unless said) ----
   * A statement is queued behind another on a shared connection (pipeline_depth) only when the
   * pool is at pool_size + max_overflow, and only while the statement running there has run for
   * less than pipeline_max_busy; otherwise it waits for a connection of its own. Default 0.05:
   * ordinary statements finish within a few milliseconds, so one still running after 50 ms is
   * likely a long one (durations are heavy-tailed) and queuing behind it could cost seconds. */
  double pipeline_max_busy;
  /* A connection checked out for longer than this is reported once, through log_cb (stderr
   * when log_cb is NULL), naming its uvsql_conn_set_label label or the first statement it
   * ran. Default 0 (off). */
  double leak_threshold;
  /* Idle connections beyond min_idle are closed after this long unused. Default 600. */
  double idle_timeout;
  /* Idle connections the pool keeps open, opening them in the background (at most pool_size;
   * a failed background connect is retried after a second). Default 0. */
  int min_idle;
  /* Idle connections are tested with a round trip (SELECT 1) this often; a dead one is closed
   * (and replaced up to min_idle), never handed out. Default 0 (off). */
  double keepalive_interval;
  /* Deadlines, in seconds. */
  /* Each statement's timeout (engine, connection, and so ORM session statements; streams are
   * not bounded by it): when it passes, the statement's future fails with UVSQL_ETIMEOUT and
   * the statement is cancelled on the server; the connection is used again once the server
   * confirms the cancel. 0 (the default, as in SQLAlchemy and asyncpg): no timeout.
   * uvsql_conn_set_timeout overrides it for one checkout. */
  double command_timeout;
  /* How long a cancel (a timeout's, or uvsql_future_cancel's) may wait for the server: after
   * it the connection is closed and every future on it fails with UVSQL_EDISCONNECT.
   * Default 5. */
  double cancel_timeout;
  /* How long uvsql_engine_dispose waits for connections to finish and close: after it the
   * rest are closed at once (their statements fail with UVSQL_ECLOSED) and the dispose future
   * resolves. Default 10. */
  double dispose_timeout;
  /* Memory. The memory of freed large results (past 1 MB) and of large ORM loads' objects is
   * kept for the next large result, process-wide, up to 256 MB (reusing it spares the page
   * faults of fresh memory; the kernel may take it back under memory pressure). Kept blocks
   * unused for this many seconds are given back to the system by this engine's housekeeping
   * (a timer that never keeps the loop alive). Default 30; 0 or less: kept until
   * uvsql_release_memory or uvsql_engine_dispose. */
  double memory_idle_timeout;
} uvsql_engine_options_t;

#define UVSQL_ENGINE_OPTIONS_INIT                                                                  \
  {                                                                                                \
    5, 10, 30.0, -1.0, 0, 1, 0, 30.0, 0, 0, NULL, NULL, 100, 16, 0.05, 0.0, 600.0, 0, 0.0, 0.0,    \
        5.0, 10.0, 30.0                                                                            \
  }

/* Creates an engine for url on loop. Does not connect: the pool opens connections on demand.
 * Returns 0, or UVSQL_EURL / UVSQL_EINVALID_ARGUMENT / UVSQL_ENOT_SUPPORTED / UVSQL_ENOMEM with
 * err saying why. The caller owns *out and must end it with uvsql_engine_dispose. opt may be
 * NULL for the defaults. */
int uvsql_engine_new(uvsql_engine_t **out, uv_loop_t *loop, const char *url,
                     const uvsql_engine_options_t *opt, uvsql_error_t *err);

/* Closes every connection and frees the engine. Pending checkouts and queries fail with
 * UVSQL_ECLOSED; connections checked out are closed when released (release stays valid).
 * The future resolves when everything is closed, or after dispose_timeout seconds at the
 * latest: connections still open then are closed at once (what runs on them fails with
 * UVSQL_ECLOSED) and the engine is freed when the last of them is gone. The engine must not
 * be used after this call. Future ownership as in future.h. */
uvsql_future_t *uvsql_engine_dispose(uvsql_engine_t *engine, uvsql_future_cb cb, void *data);

/* Gives back to the system, now, the memory kept from freed large results and large ORM
 * loads for reuse (see memory_idle_timeout); returns the bytes given back. The kept memory is
 * process-wide (shared by every engine), so this empties it for all of them; memory that
 * results and objects still alive use is not touched. Any thread, any time. */
size_t uvsql_release_memory(void);

uv_loop_t *uvsql_engine_loop(const uvsql_engine_t *engine);
const char *uvsql_engine_dialect(const uvsql_engine_t *engine); /* "postgresql", ... */
/* The URL with its password masked (owned by the engine). */
const char *uvsql_engine_url(const uvsql_engine_t *engine);

/* Runs stmt with params on a pooled connection (checked out and released around it; when
 * the pool is exhausted, possibly shared with other uvsql_engine_execute calls, see
 * pipeline_depth).
 * Resolves with a uvsql_result_t* (owned by the future). Parameters are copied before the
 * call returns. Missing or unknown :names fail the future with UVSQL_EINVALID_ARGUMENT.
 * Cancel withdraws the query if it is still queued, or cancels it on the server. */
uvsql_future_t *uvsql_engine_execute(uvsql_engine_t *engine, uvsql_stmt_t *stmt,
                                     const uvsql_param_t *params, size_t nparams,
                                     uvsql_future_cb cb, void *data);
/* Convenience: uvsql_text + uvsql_engine_execute in one call. */
uvsql_future_t *uvsql_engine_execute_sql(uvsql_engine_t *engine, const char *sql,
                                         const uvsql_param_t *params, size_t nparams,
                                         uvsql_future_cb cb, void *data);

/* ---------------------------------------------------------------- pool */

typedef struct uvsql_pool_stats_s {
  int size; /* open connections, checked out or idle */
  int checked_out;
  int idle;
  int overflow;      /* open connections beyond pool_size */
  int waiting;       /* checkouts queued for a connection */
  uint64_t connects; /* connections opened since the engine was made */
  uint64_t checkouts;
  uint64_t timeouts; /* checkouts that failed with UVSQL_EPOOL_TIMEOUT */
  uint64_t invalidated;
  uint64_t leaks;      /* checkouts reported as held past leak_threshold */
  uint64_t keepalives; /* keepalive pings sent to idle connections */
} uvsql_pool_stats_t;

void uvsql_pool_stats(const uvsql_engine_t *engine, uvsql_pool_stats_t *out);

/* ---------------------------------------------------------------- connections */

/* Checks a connection out of the pool. Resolves with a uvsql_conn_t* that stays owned by the
 * pool: the caller must hand it back with uvsql_conn_release. Fails with UVSQL_EPOOL_TIMEOUT
 * after pool_timeout seconds when the pool is exhausted, or UVSQL_ECONNECT. Cancel withdraws
 * the checkout. */
uvsql_future_t *uvsql_engine_connect(uvsql_engine_t *engine, uvsql_future_cb cb, void *data);

/* Hands a checked-out connection back to the pool (after rolling back an open transaction
 * when pool_reset_on_return is set). Queries still queued on it complete first. */
void uvsql_conn_release(uvsql_conn_t *conn);

/* Marks the connection unusable: the pool closes it on release and opens a fresh one. */
void uvsql_conn_invalidate(uvsql_conn_t *conn);

/* Names this checkout for leak reports (leak_threshold): "checked out by <label>". The label
 * is copied (its first 93 bytes) and forgotten at the next checkout; NULL clears it. */
void uvsql_conn_set_label(uvsql_conn_t *conn, const char *label);

/* The timeout, in seconds, of the statements (and transaction commands) queued on conn from
 * now until it is released; 0 for none, < 0 for the engine's command_timeout again (the
 * default at each checkout). A statement whose timeout passes fails with UVSQL_ETIMEOUT and
 * is cancelled on the server (see command_timeout). Returns 0, or UVSQL_EINVALID_ARGUMENT
 * for a NULL conn or a NaN/infinite timeout. */
int uvsql_conn_set_timeout(uvsql_conn_t *conn, double seconds);

/* Runs stmt on this connection. Statements queued on one connection run in order (pipelined
 * on PostgreSQL). Resolves with a uvsql_result_t*, as uvsql_engine_execute. */
uvsql_future_t *uvsql_conn_execute(uvsql_conn_t *conn, uvsql_stmt_t *stmt,
                                   const uvsql_param_t *params, size_t nparams, uvsql_future_cb cb,
                                   void *data);
uvsql_future_t *uvsql_conn_execute_sql(uvsql_conn_t *conn, const char *sql,
                                       const uvsql_param_t *params, size_t nparams,
                                       uvsql_future_cb cb, void *data);

typedef enum {
  UVSQL_ISOLATION_DEFAULT = 0,
  UVSQL_ISOLATION_READ_UNCOMMITTED,
  UVSQL_ISOLATION_READ_COMMITTED,
  UVSQL_ISOLATION_REPEATABLE_READ,
  UVSQL_ISOLATION_SERIALIZABLE
} uvsql_isolation_t;

/* Transactions. Each resolves with NULL. begin fails with UVSQL_EINTERFACE if a transaction
 * is already open; commit/rollback with UVSQL_EINTERFACE if none is. An isolation level the
 * backend cannot give fails with UVSQL_ENOT_SUPPORTED. */
uvsql_future_t *uvsql_conn_begin(uvsql_conn_t *conn, uvsql_isolation_t isolation,
                                 uvsql_future_cb cb, void *data);
/* As uvsql_conn_begin, for a transaction that will write. On SQLite it takes the file's write
 * lock at BEGIN (BEGIN IMMEDIATE), waiting its turn behind other writers of the file on this
 * loop (at most ?timeout), so the transaction never fails with UVSQL_ESERIALIZATION for
 * reading before it writes; it serializes the file's writers, so keep it short. On
 * PostgreSQL and MariaDB it is uvsql_conn_begin (they lock rows, not the database). */
uvsql_future_t *uvsql_conn_begin_write(uvsql_conn_t *conn, uvsql_isolation_t isolation,
                                       uvsql_future_cb cb, void *data);
uvsql_future_t *uvsql_conn_commit(uvsql_conn_t *conn, uvsql_future_cb cb, void *data);
uvsql_future_t *uvsql_conn_rollback(uvsql_conn_t *conn, uvsql_future_cb cb, void *data);
int uvsql_conn_in_transaction(const uvsql_conn_t *conn);

/* Savepoints inside a transaction. name: letters, digits and '_' (UVSQL_EINVALID_ARGUMENT
 * otherwise). Each resolves with NULL. */
uvsql_future_t *uvsql_conn_savepoint(uvsql_conn_t *conn, const char *name, uvsql_future_cb cb,
                                     void *data);
uvsql_future_t *uvsql_conn_release_savepoint(uvsql_conn_t *conn, const char *name,
                                             uvsql_future_cb cb, void *data);
uvsql_future_t *uvsql_conn_rollback_to_savepoint(uvsql_conn_t *conn, const char *name,
                                                 uvsql_future_cb cb, void *data);

uvsql_engine_t *uvsql_conn_engine(const uvsql_conn_t *conn);

/* ---------------------------------------------------------------- streaming */

/* Called for each batch of a streamed result, on the loop thread, in result order. The batch
 * holds 1 to batch_rows rows (only the last one may hold fewer) and the same columns every
 * time. It is borrowed: valid only until on_batch returns; copy what you keep. Return 0 to go
 * on, non-zero to stop: the rest of the result is discarded (cancelled on the server where
 * the backend allows it) and the future resolves, with `stopped` set, once the connection is
 * ready for its next statement. on_batch may queue statements and call uvsql_future_cancel;
 * it must not release the connection it streams on (queue that for after the future). */
typedef int (*uvsql_batch_cb)(const uvsql_result_t *batch, void *data);

/* What a stream resolves with (owned by the future). */
typedef struct uvsql_stream_summary_s {
  uint64_t rows;    /* rows handed to on_batch */
  uint64_t batches; /* calls of on_batch */
  int stopped;      /* on_batch returned non-zero */
} uvsql_stream_summary_t;

/* Runs stmt on conn and hands its rows to on_batch in batches of batch_rows (0: 1000), with
 * memory bounded by a batch or two whatever the size of the result: PostgreSQL reads in
 * single-row mode, MariaDB fetches row by row from the server without storing the result,
 * SQLite's worker steps one batch ahead of the loop and waits for it to be consumed.
 * The connection is busy until the stream ends: statements queued behind it wait.
 * The future (ownership as in future.h) resolves with a uvsql_stream_summary_t* after the last
 * batch, or fails with the statement's error; when the error came after some batches were
 * delivered, its message starts "after N batches (M rows):", and the rows read after the last
 * delivered batch are discarded. Cancel stops the statement on the server (PQcancel, KILL
 * QUERY, sqlite3_interrupt) and fails the future with UVSQL_ECANCELLED. If the call itself
 * fails (bad arguments, out of memory), on_batch is never called. Parameters are copied
 * before the call returns. Only single statements stream (several statements in one text
 * fail with UVSQL_EINVALID_ARGUMENT). */
uvsql_future_t *uvsql_conn_stream(uvsql_conn_t *conn, uvsql_stmt_t *stmt,
                                  const uvsql_param_t *params, size_t nparams, size_t batch_rows,
                                  uvsql_batch_cb on_batch, void *batch_data, uvsql_future_cb cb,
                                  void *data);
/* The same on a pooled connection of its own (checked out, never shared with other statements,
 * released when the stream ends). */
uvsql_future_t *uvsql_engine_stream(uvsql_engine_t *engine, uvsql_stmt_t *stmt,
                                    const uvsql_param_t *params, size_t nparams, size_t batch_rows,
                                    uvsql_batch_cb on_batch, void *batch_data, uvsql_future_cb cb,
                                    void *data);

UVSQL__EXPORTS_END
#ifdef __cplusplus
}
#endif
#endif
