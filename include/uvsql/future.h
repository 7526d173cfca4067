/* uvsql/future.h — the one asynchronous result type.
 *
 * A future settles exactly once: resolved with a value, failed with an error, or cancelled.
 * Any number of callbacks may be attached; they run on the loop thread, in the order they were
 * attached, when the future settles (or at once, from uvsql_future_then, if it has already
 * settled). A future is reference counted; its value is owned by the future and freed with it
 * unless taken with uvsql_future_take().
 *
 * Ownership of futures returned by asynchronous calls (every uvsql_*(..., cb, data) call):
 *   - cb == NULL: the caller owns the one reference and must uvsql_future_unref() it.
 *   - cb != NULL: the library owns the future and releases it after cb returns; the returned
 *     pointer is borrowed (use uvsql_future_ref() to keep it beyond cb). cb runs exactly once,
 *     and never before the call that registered it has returned.
 *   - Either way, a call returns NULL only when it could not even make its future (out of
 *     memory); cb then never runs, and the caller cleans up as for a failure.
 * A value handed to a callback is valid until the callback returns, unless taken.
 */
#ifndef UVSQL_FUTURE_H
#define UVSQL_FUTURE_H

#include <uv.h>
#include "error.h"

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif
UVSQL__EXPORTS_BEGIN

typedef struct uvsql_future_s uvsql_future_t;

typedef enum {
  UVSQL_FUTURE_PENDING = 0,
  UVSQL_FUTURE_RESOLVED,
  UVSQL_FUTURE_FAILED,
  UVSQL_FUTURE_CANCELLED
} uvsql_future_state_t;

/* Called when the future settles. The future is valid for the duration of the call. */
typedef void (*uvsql_future_cb)(uvsql_future_t *future, void *data);

/* Releases what a value owns; called once when the future is freed (unless the value was taken). */
typedef void (*uvsql_value_free_cb)(void *value);

uvsql_future_t *uvsql_future_ref(uvsql_future_t *future);
void uvsql_future_unref(uvsql_future_t *future); /* accepts NULL */

uvsql_future_state_t uvsql_future_state(const uvsql_future_t *future);
uv_loop_t *uvsql_future_loop(const uvsql_future_t *future);

/* The value of a resolved future (borrowed: owned by the future), NULL otherwise. */
void *uvsql_future_value(const uvsql_future_t *future);
/* Moves the value out: the caller now owns it and must free it with its own destructor
 * (e.g. uvsql_result_free). Returns NULL if the future did not resolve or was already taken. */
void *uvsql_future_take(uvsql_future_t *future);
/* The error of a failed or cancelled future (borrowed), NULL when pending or resolved. */
const uvsql_error_t *uvsql_future_error(const uvsql_future_t *future);

/* Attaches a callback. Returns 0, or UVSQL_ENOMEM (then cb will never be called).
 * If the future has already settled, cb runs before this call returns. */
int uvsql_future_then(uvsql_future_t *future, uvsql_future_cb cb, void *data);

/* Requests cancellation. A pending operation is withdrawn if it has not started, or cancelled
 * on the server (PQcancel, KILL QUERY, sqlite3_interrupt) if it has; the future then settles
 * as cancelled (or with its result, if the server finished first). Returns 0 if the request
 * was accepted, UVSQL_EINVALID_ARGUMENT if the future has already settled. */
int uvsql_future_cancel(uvsql_future_t *future);

/* Runs the future's loop until the future settles. For scripts, tests and examples, never for
 * code that runs inside a loop callback. Returns 0 if resolved, else the error code. */
int uvsql_future_wait(uvsql_future_t *future);

/* A future that resolves when all n futures have settled successfully (value: NULL), or fails
 * with the first error among them. Each input gains a reference held until it settles.
 * Ownership of the returned future follows the rule above (cb may be NULL). */
uvsql_future_t *uvsql_future_all(uv_loop_t *loop, uvsql_future_t **futures, size_t n,
                                 uvsql_future_cb cb, void *data);

UVSQL__EXPORTS_END
#ifdef __cplusplus
}
#endif
#endif
