/* uvsql/hooks.h — executemany, connection hooks and instrumentation events of an engine.
 *
 * What SQLAlchemy users reach for through `executemany`, `event.listen(engine, "connect")`,
 * `before_cursor_execute` / `after_cursor_execute` and the pool events, for uvsql engines
 * (uvsql/engine.h). Same rules as there: every object belongs to its loop's thread; every
 * asynchronous call returns a future at once and takes an optional callback (future.h says who
 * owns the future).
 */
#ifndef UVSQL_HOOKS_H
#define UVSQL_HOOKS_H

#include <stdint.h>
#include "engine.h"

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif
UVSQL__EXPORTS_BEGIN

/* ---------------------------------------------------------------- executemany */

/* Runs one statement once per parameter set: params holds nsets runs of nparams_per_set
 * parameters (set i is params[i * nparams_per_set ...]), each bound by :name as in
 * uvsql_engine_execute. Parameters are copied before the call returns.
 *
 *   PostgreSQL: one pipeline group: one Parse (or the cached statement), nsets Bind/Execute,
 *               one Sync.
 *   MariaDB:    one bulk execution (array binding, COM_STMT_BULK_EXECUTE); every set must
 *               give each parameter the same value type (or NULL), else the call fails with
 *               UVSQL_EINVALID_ARGUMENT naming the parameter and the set.
 *   SQLite:     one call on the worker: the prepared statement is bound, stepped and reset
 *               once per set.
 *
 * Resolves with a uvsql_result_t* without rows whose uvsql_result_rows_affected is the sum over
 * the sets (rows a statement returns are discarded). nsets == 0 resolves at once with 0.
 *
 * Atomicity: outside a transaction the call is atomic: every set is written, or (on any
 * error) none is (PostgreSQL: the group's implicit transaction; MariaDB: one statement;
 * SQLite: a transaction of its own around the sets). A MySQL server (no bulk operations) gets
 * one execute per set instead, atomic only inside a transaction: open one there. Inside a
 * transaction of the caller's, the sets before a failed one stay written in that transaction
 * (PostgreSQL: the transaction is aborted): roll back, or to a savepoint, as after any failed
 * statement. A failure says which set failed: "executemany: parameter set K of N failed ...", K
 * counted from 0 (MariaDB's bulk execution does not tell: "one of the N parameter sets failed").
 *
 * The engine form runs on a pooled connection of its own (never shared, see pipeline_depth);
 * the connection form queues on conn like uvsql_conn_execute. Cancel and command_timeout
 * apply to the whole call. */
uvsql_future_t *uvsql_engine_execute_many(uvsql_engine_t *engine, uvsql_stmt_t *stmt,
                                          const uvsql_param_t *params, size_t nparams_per_set,
                                          size_t nsets, uvsql_future_cb cb, void *data);
uvsql_future_t *uvsql_conn_execute_many(uvsql_conn_t *conn, uvsql_stmt_t *stmt,
                                        const uvsql_param_t *params, size_t nparams_per_set,
                                        size_t nsets, uvsql_future_cb cb, void *data);

/* ---------------------------------------------------------------- connection hooks */

/* Runs on every new connection before the pool hands it out (SQLAlchemy's "connect" event):
 * set session state (SET search_path, SET SESSION sql_mode, PRAGMA ...), register things.
 * conn may be used with the uvsql_conn_* calls (execute, begin/commit, ...) but must not be
 * released or invalidated by the hook. The hook returns a future (from such a call, or one
 * joining several with uvsql_future_all) whose reference passes to the pool, or NULL when
 * there is nothing to wait for. The pool hands the connection out once that future resolved;
 * if it fails, the connection is closed and the checkout waiting for it fails with the hook's
 * error code, its message starting "the on_connect hook failed: " (a connection opened in the
 * background for min_idle is retried a second later). The hook must leave no transaction
 * open. While a hook runs, the connection counts as one being opened (pool_timeout applies). */
typedef uvsql_future_t *(*uvsql_on_connect_hook)(uvsql_conn_t *conn, void *data);
/* Sets (or with NULL removes) the engine's on-connect hook; connections already open are not
 * affected. data is passed to the hook as given. */
void uvsql_engine_on_connect(uvsql_engine_t *engine, uvsql_on_connect_hook hook, void *data);

/* Synchronous hooks around a pool checkout: on_checkout runs when the pool hands a connection
 * out (uvsql_engine_connect, and the connection an engine-level statement takes), before the
 * caller gets it; on_checkin when it is handed back (uvsql_conn_release, or the end of an
 * engine-level statement), before the rollback on return. They must not release, invalidate
 * or run statements on conn (queue work elsewhere). NULL removes. */
typedef void (*uvsql_conn_hook)(uvsql_conn_t *conn, void *data);
void uvsql_engine_on_checkout(uvsql_engine_t *engine, uvsql_conn_hook hook, void *data);
void uvsql_engine_on_checkin(uvsql_engine_t *engine, uvsql_conn_hook hook, void *data);

/* ---------------------------------------------------------------- instrumentation */

typedef enum {
  UVSQL_EVENT_BEFORE_EXECUTE = 1, /* a statement goes to the driver */
  UVSQL_EVENT_AFTER_EXECUTE,      /* ... and its result or error came back */
  UVSQL_EVENT_POOL_CONNECT,       /* a new connection is open (before the on_connect hook) */
  UVSQL_EVENT_POOL_CHECKOUT,      /* the pool handed a connection out */
  UVSQL_EVENT_POOL_CHECKIN,       /* a connection was handed back */
  UVSQL_EVENT_POOL_INVALIDATE,    /* a connection was found unusable and will be closed */
  UVSQL_EVENT_POOL_TIMEOUT        /* a checkout waited pool_timeout in vain (conn is NULL) */
} uvsql_event_kind_t;

/* What a listener is told. Everything is borrowed for the duration of the call. */
typedef struct uvsql_event_s {
  uvsql_event_kind_t kind;
  uvsql_engine_t *engine;
  uvsql_conn_t *conn; /* the connection concerned; NULL for POOL_TIMEOUT */
  /* statement events */
  const char *sql; /* as sent to the server (the backend's placeholder style) */
  size_t sql_len;
  /* The bound values, in placeholder order: nparams per set, nsets sets (executemany; else
   * nsets is 1). NULL with params_hidden = 1 when echo_hide_parameters is set. */
  const uvsql_value_t *params;
  size_t nparams;
  size_t nsets;
  int params_hidden;
  /* AFTER_EXECUTE only */
  double elapsed;             /* seconds from handing the statement to the driver to done */
  int64_t rows;               /* rows returned (0 when none, or on error) */
  int64_t rows_affected;      /* as uvsql_result_rows_affected; -1 when not applicable */
  const uvsql_error_t *error; /* NULL on success */
  /* pool events: what happened, e.g. why a connection was invalidated */
  const char *message;
} uvsql_event_t;

typedef void (*uvsql_event_cb)(const uvsql_event_t *event, void *data);

/* Sets (or with NULL removes) the engine's one event listener. It runs on the loop thread,
 * synchronously, for every statement (transaction commands included) and pool event; it must
 * not release, invalidate or run statements on the connection it is told about. Unused, the
 * events cost one test of a NULL pointer per statement. */
void uvsql_engine_set_listener(uvsql_engine_t *engine, uvsql_event_cb cb, void *data);

/* Logs every statement slower than seconds (from driver submit to done) through the engine's
 * log_cb (stderr when it is NULL), even without echo: "slow statement (123.4 ms, threshold
 * 100.0 ms): <SQL>", then its parameters as echo shows them (or "[parameters hidden]").
 * <= 0 (the default) turns it off. Returns 0, or UVSQL_EINVALID_ARGUMENT for NaN. */
int uvsql_engine_set_slow_statement_threshold(uvsql_engine_t *engine, double seconds);

UVSQL__EXPORTS_END
#ifdef __cplusplus
}
#endif
#endif
