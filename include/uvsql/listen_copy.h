/* uvsql/listen_copy.h — PostgreSQL LISTEN/NOTIFY, and bulk copy in and out of tables.
 *
 * Threading: as engine.h (the engine's loop thread only; nothing is locked).
 *
 * Ownership:
 *   listeners        the engine: a listener lives from uvsql_engine_listen until
 *                    uvsql_engine_unlisten (or the engine's dispose); its callback's data stays
 *                    the caller's
 *   notifications    borrowed by the callback for the duration of the call
 *   copy rows        the source's: values handed over stay valid until the source is called
 *                    again or the copy ends
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

UVSQL__EXPORTS_END
#ifdef __cplusplus
}
#endif
#endif
