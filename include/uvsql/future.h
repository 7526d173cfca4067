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
 * was accepted, UVSQL_EINVALID_ARGUMENT if the future has already settled.
 * Session operations (uvsql/orm.h): one still queued is withdrawn (cancelled at once, nothing
 * of it ran); a running one settles with what really happened: a commit whose COMMIT is not
 * sent yet rolls back and fails with UVSQL_ECANCELLED; a stream stops before its next batch
 * (UVSQL_ECANCELLED); any other runs to its end and settles with its result. */
int uvsql_future_cancel(uvsql_future_t *future);

/* Runs the future's loop until the future settles. For scripts, tests and examples, never for
 * code that runs inside a loop callback. Returns 0 if resolved, else the error code. */
int uvsql_future_wait(uvsql_future_t *future);

/* A future that resolves when all n futures have settled successfully (value: NULL), or fails
 * with the first error among them. Each input gains a reference held until it settles.
 * Ownership of the returned future follows the rule above (cb may be NULL). */
uvsql_future_t *uvsql_future_all(uv_loop_t *loop, uvsql_future_t **futures, size_t n,
                                 uvsql_future_cb cb, void *data);

/* ---------------------------------------------------------------- callback-style helpers
 *
 * Two helpers so that a handler written with callbacks reads top to bottom, each step once,
 * with every error going to one place. They only use the calls above: a chain is futures and
 * uvsql_future_then, nothing more.
 *
 * uvsql_future_on: when f resolves, ok(value, data) (the value is borrowed until ok returns;
 * uvsql_future_take is not available through it); when it fails or is cancelled,
 * fail(error, data) (borrowed likewise). Exactly one of them runs, once, on the loop thread.
 * f must be a future the caller owns (made with cb NULL): uvsql_future_on takes that
 * reference and releases it after the callback. Returns 0; UVSQL_ENOMEM when f is NULL (its
 * call could not make it) or the callback could not be attached: fail has then already run
 * (with UVSQL_ENOMEM) and f is released; UVSQL_EINVALID_ARGUMENT when ok or fail is NULL
 * (nothing runs; f is released).
 */
typedef void (*uvsql_ok_cb)(void *value, void *data);
typedef void (*uvsql_fail_cb)(const uvsql_error_t *error, void *data);
int uvsql_future_on(uvsql_future_t *f, uvsql_ok_cb ok, uvsql_fail_cb fail, void *data);

/* A step of a chain: called with the value of the previous future (borrowed until the step
 * returns) and data; returns the next future, made with cb NULL (the chain owns it and
 * releases it), or NULL when its call could not make one (out of memory: the chain fails). */
typedef uvsql_future_t *(*uvsql_step_fn)(void *value, void *data);
/* The chain's end: done(value of the last future, borrowed until done returns, data), or
 * fail(error, index of the step whose future failed: 0 for `first`, i + 1 for steps[i]). */
typedef void (*uvsql_chain_done_cb)(void *value, void *data);
typedef void (*uvsql_chain_fail_cb)(const uvsql_error_t *error, size_t step, void *data);

/* Runs first, then steps[0], steps[1], ... each started when the previous future resolved,
 * with its value; then done. The first failure (a failed or cancelled future, a step that
 * returns NULL) calls fail and no further step. Exactly one of done / fail runs, once, on the
 * loop thread (before this returns when every future has already settled). The chain owns
 * first (made with cb NULL) and every future a step returns; steps must stay valid until the
 * chain ends (a static array). first NULL: fail runs with UVSQL_ENOMEM at step 0. Returns 0,
 * or UVSQL_ENOMEM / UVSQL_EINVALID_ARGUMENT (no fail or done callback, steps NULL with n > 0)
 * when the chain could not start: then neither callback has run and first is released.
 *
 *   static uvsql_future_t *begin(void *conn, void *data) {
 *     req_t *q = data;
 *     q->conn = conn;
 *     return uvsql_conn_begin(q->conn, UVSQL_ISOLATION_DEFAULT, NULL, NULL);
 *   }
 *   static uvsql_future_t *insert(void *unused, void *data) { ... uvsql_conn_execute ... }
 *   static uvsql_future_t *commit(void *unused, void *data) { ... uvsql_conn_commit ... }
 *   static const uvsql_step_fn transfer[] = {begin, insert, commit};
 *   uvsql_chain(uvsql_engine_connect(engine, NULL, NULL), transfer, 3, reply_ok, reply_error, q);
 */
int uvsql_chain(uvsql_future_t *first, const uvsql_step_fn *steps, size_t n,
                uvsql_chain_done_cb done, uvsql_chain_fail_cb fail, void *data);

UVSQL__EXPORTS_END
#ifdef __cplusplus
}
#endif
#endif
