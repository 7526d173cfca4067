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
 * SQLite: a transaction of its own around the sets). Inside a transaction of the caller's,
 * the sets before a failed one stay written in that transaction (PostgreSQL: the transaction
 * is aborted): roll back, or to a savepoint, as after any failed statement.
 * A failure says which set failed: "executemany: parameter set K of N failed ...", K counted
 * from 0 (MariaDB's bulk execution does not tell: "one of the N parameter sets failed").
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

UVSQL__EXPORTS_END
#ifdef __cplusplus
}
#endif
#endif
