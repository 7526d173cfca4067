/* uvsql/listen_copy.h — PostgreSQL LISTEN/NOTIFY, and bulk copy in and out of tables.
 *
 * Threading: as engine.h (the engine's loop thread only; nothing is locked).
 *
 * Ownership:
 *   listeners        the engine: a listener lives from uvsql_engine_listen until
 *                    uvsql_engine_unlisten (or the engine's dispose); its callback's data stays
 *                    the caller's
 *   notifications    borrowed by the callback for the duration of the call
 *   copy rows        copy_in: the source's (valid until it is called again or the copy's
 *                    future settles); copy_out: the library's, borrowed by on_batch
 *   futures          as in future.h (a callback given: the library's; none: the caller's)
 */
#ifndef UVSQL_LISTEN_COPY_H
#define UVSQL_LISTEN_COPY_H

#include <stddef.h>
#include <stdint.h>
#include "engine.h"

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif
UVSQL__EXPORTS_BEGIN

/* ---------------------------------------------------------------- LISTEN / NOTIFY */

/* uvsql_notification_t.flags */
/* The listener's connection was lost and is back, LISTENing again: notifications sent while
 * it was away are gone. channel is the listener's channel, payload "", pid the new backend. */
#define UVSQL_NOTIFY_RECONNECTED 1u
/* It arrived on a pooled connection (one that ran LISTEN itself), not on the engine's
 * listener connection: if the listener LISTENs on the channel too, it hears it twice. */
#define UVSQL_NOTIFY_FROM_POOL 2u

typedef struct uvsql_notification_s {
  const char *channel; /* as given to NOTIFY / pg_notify (case kept) */
  const char *payload; /* "" when none */
  int pid;             /* the notifying backend's process id (RECONNECTED: the listener's) */
  unsigned flags;      /* UVSQL_NOTIFY_* */
} uvsql_notification_t;

/* Called on the loop thread for each notification on the channel, in the order the server
 * sent them. n is borrowed for the call. It may call any uvsql function, unlisten included. */
typedef void (*uvsql_notify_cb)(const uvsql_notification_t *n, void *data);

/* Calls on_notify(n, notify_data) for every notification on channel (a name as NOTIFY takes
 * it: quoted, so case and any character are kept; 1 to 63 bytes) from now until
 * uvsql_engine_unlisten with the same channel, on_notify and notify_data.
 * PostgreSQL only. The engine keeps one connection of its own for listening (not from the
 * pool; opened with the engine's URL and options on the first listen). When it is lost, it is
 * opened again in the background (at once, then after 0.1, 0.2, ... up to 5 s between tries),
 * its LISTENs are issued again and each listener is called once with UVSQL_NOTIFY_RECONNECTED.
 * Notifications that arrive on pooled connections (after a LISTEN run on them) are delivered
 * too, with UVSQL_NOTIFY_FROM_POOL. The listener connection does not keep the loop alive.
 * The future resolves with NULL once the server confirmed the LISTEN (at once when the channel
 * was listened to already), or fails: UVSQL_ENOT_SUPPORTED (MariaDB, SQLite), UVSQL_ECONNECT
 * (the first connect failed: the listener is removed), UVSQL_EINVALID_ARGUMENT (NULL
 * arguments, a bad channel name), UVSQL_ECLOSED (the engine is being disposed). Cancelling
 * the future removes the listener. */
uvsql_future_t *uvsql_engine_listen(uvsql_engine_t *engine, const char *channel,
                                    uvsql_notify_cb on_notify, void *notify_data,
                                    uvsql_future_cb cb, void *data);

/* Removes the listener (channel, on_notify, notify_data): on_notify is never called for it
 * again, from the moment this returns. The last listener of a channel sends UNLISTEN. The
 * future resolves with NULL (once UNLISTEN is confirmed, or at once), or fails with
 * UVSQL_EINVALID_ARGUMENT when no such listener exists. */
uvsql_future_t *uvsql_engine_unlisten(uvsql_engine_t *engine, const char *channel,
                                      uvsql_notify_cb on_notify, void *notify_data,
                                      uvsql_future_cb cb, void *data);

/* Sends a notification: SELECT pg_notify(:channel, :payload) on a pooled connection, as
 * uvsql_engine_execute (payload NULL means ""). Resolves with the statement's result.
 * UVSQL_ENOT_SUPPORTED on MariaDB and SQLite. */
uvsql_future_t *uvsql_engine_notify(uvsql_engine_t *engine, const char *channel,
                                    const char *payload, uvsql_future_cb cb, void *data);

/* The backend process id of the engine's listener connection, 0 while it has none. */
int uvsql_engine_listener_pid(const uvsql_engine_t *engine);

/* ---------------------------------------------------------------- COPY */

typedef struct uvsql_copy_options_s {
  /* copy_in: the most rows asked of the source per call; copy_out: rows per batch. 0: 1000.
   * (MariaDB and SQLite copy_in: also bounded by the backend's parameters per statement.) */
  size_t batch_rows;
  /* copy_in on PostgreSQL: multi-row INSERTs in one transaction instead of COPY, the path
   * MariaDB and SQLite always take (for comparisons; COPY is faster). */
  int use_insert;
} uvsql_copy_options_t;

#define UVSQL_COPY_OPTIONS_INIT                                                                    \
  { 0, 0 }

/* The rows of a copy_in, pulled batch by batch (memory stays bounded by one batch): set *rows
 * to nrows rows of ncolumns values each, row after row (rows[r * ncolumns + c]), with
 * 1 <= nrows <= max_rows, or *nrows = 0 at the end. The values (and their text and bytes) stay
 * the source's; they must stay valid until the source is called again or the copy's future
 * settles. Return 0, or non-zero to abandon the copy (it fails with UVSQL_ECANCELLED and
 * writes nothing). Called on the loop thread; it must not block. */
typedef int (*uvsql_copy_source_cb)(size_t max_rows, const uvsql_value_t **rows, size_t *nrows,
                                    void *data);

/* What a copy_in resolves with (owned by the future). */
typedef struct uvsql_copy_summary_s {
  uint64_t rows;    /* rows written */
  uint64_t batches; /* source calls that gave rows */
} uvsql_copy_summary_t;

/* Appends the source's rows to table (a name, or "schema.name"; each part is quoted, so case
 * is kept) into the ncolumns columns named in columns (quoted the same way), as fast as the
 * backend allows, all or nothing:
 *   PostgreSQL  COPY table (columns) FROM STDIN in binary format, streamed as the socket takes
 *               it; each value is encoded for its column's type (integers of any width,
 *               float4/8, bool, text types, bytea, json/jsonb, uuid, date, time, timestamps);
 *               a value of another kind fails with UVSQL_EINVALID_ARGUMENT naming the row and
 *               column, out of range with UVSQL_EDATA
 *   MariaDB, SQLite  multi-row INSERT statements inside one transaction
 * On a pooled connection of its own. Resolves with a uvsql_copy_summary_t*. Fails with the
 * server's error (UVSQL_EINTEGRITY for a duplicate key, ...), UVSQL_ECANCELLED when the
 * source returned non-zero or the future was cancelled (uvsql_future_cancel: the copy stops
 * at once; nothing is written), UVSQL_EINVALID_ARGUMENT for NULL or empty arguments.
 * opt may be NULL. */
uvsql_future_t *uvsql_engine_copy_in(uvsql_engine_t *engine, const char *table,
                                     const char *const *columns, size_t ncolumns,
                                     uvsql_copy_source_cb source, void *source_data,
                                     const uvsql_copy_options_t *opt, uvsql_future_cb cb,
                                     void *data);

/* Streams the rows of `from` to on_batch (as uvsql_engine_stream: batches of batch_rows,
 * borrowed for the call, return non-zero to stop) with memory bounded by a batch. `from` is
 * a table name (quoted as for copy_in) or a query (text that starts with SELECT, WITH, VALUES
 * or TABLE). PostgreSQL: COPY (query) TO STDOUT in binary format, each value decoded as a
 * result's; MariaDB and SQLite: the query streamed. Resolves with a uvsql_stream_summary_t*
 * (as uvsql_engine_stream); cancel stops it on the server (UVSQL_ECANCELLED). opt may be
 * NULL (use_insert is ignored). */
uvsql_future_t *uvsql_engine_copy_out(uvsql_engine_t *engine, const char *from,
                                      uvsql_batch_cb on_batch, void *batch_data,
                                      const uvsql_copy_options_t *opt, uvsql_future_cb cb,
                                      void *data);

UVSQL__EXPORTS_END
#ifdef __cplusplus
}
#endif
#endif
