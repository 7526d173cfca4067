/* src/loop/internal.h — the bottom layer's internal interface: error helpers, arenas,
 * futures (the settling side), deferred calls, the socket watcher and the worker thread
 * (the result builder, also on this floor, is result.h). Everything here runs on the loop thread
 * except the `work` functions given to a worker.
 */
#ifndef UVSQL_LOOP_INTERNAL_H
#define UVSQL_LOOP_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "uvsql/error.h"
#include "uvsql/future.h"
#include "uvsql/value.h"

#if defined(__GNUC__)
#define UVSQL__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define UVSQL__PRINTF(a, b)
#endif

/* ------------------------------------------------------------------ errors (error.c) */

/* Fills err (if not NULL) with code and a printf-style message; returns code. */
int uvsql__error_set(uvsql_error_t *err, int code, const char *fmt, ...) UVSQL__PRINTF(3, 4);
/* Same, also copying a SQLSTATE (may be NULL) and a native code. */
int uvsql__error_set_db(uvsql_error_t *err, int code, const char *sqlstate, int native_code,
                        const char *fmt, ...) UVSQL__PRINTF(5, 6);
/* Maps a SQLSTATE to a code (23xxx integrity, 42xxx programming, 22xxx data, 08xxx disconnect,
 * 57014 cancelled, 57P01..03 disconnect, 0A000 not supported, XX internal, else operational). */
int uvsql__error_from_sqlstate(const char *sqlstate);

/* Whether a value of type t keeps its data in u.s (a pointer and a length the value does not
 * own): TEXT, BYTES, NUMERIC, JSON and ENUM. Whoever keeps such a value past the call copies
 * those bytes. */
static inline int uvsql__type_is_str(uvsql_type_t t) {
  return t == UVSQL_TYPE_TEXT || t == UVSQL_TYPE_BYTES || t == UVSQL_TYPE_NUMERIC ||
         t == UVSQL_TYPE_JSON || t == UVSQL_TYPE_ENUM;
}

/* Whether every driver binds a parameter of type t (the kinds still being filled in are
 * refused before a statement is queued, never sent as something else). */
static inline int uvsql__type_known(uvsql_type_t t) {
  return (unsigned)t <= UVSQL_TYPE_ARRAY;
}

/* ------------------------------------------------------------------ arena (arena.c) */

/* A bump allocator: many small allocations, freed together. Not thread-safe. */
typedef struct uvsql__arena_block_s uvsql__arena_block_t;
typedef struct uvsql__arena_s {
  uvsql__arena_block_t *head;
  size_t block_size;
} uvsql__arena_t;

void uvsql__arena_init(uvsql__arena_t *a, size_t block_size);
void *uvsql__arena_alloc(uvsql__arena_t *a, size_t size); /* 8-byte aligned; NULL on OOM */
char *uvsql__arena_strndup(uvsql__arena_t *a, const char *s, size_t len); /* adds a NUL */
void uvsql__arena_free(uvsql__arena_t *a);                                /* all at once */

/* ------------------------------------------------------------------ futures (future.c) */

/* A new pending future with one reference, owned by the caller. NULL on OOM. */
uvsql_future_t *uvsql__future_new(uv_loop_t *loop);
/* Settles: value (may be NULL) with its destructor (may be NULL). No effect if already
 * settled (then value is freed with free_cb at once). Runs the callbacks now. */
void uvsql__future_resolve(uvsql_future_t *f, void *value, uvsql_value_free_cb free_cb);
/* Settles as failed, or as cancelled when err->code == UVSQL_ECANCELLED. */
void uvsql__future_fail(uvsql_future_t *f, const uvsql_error_t *err);
void uvsql__future_fail_code(uvsql_future_t *f, int code, const char *fmt, ...) UVSQL__PRINTF(3, 4);
/* Like fail, but the callbacks run from the loop on its next iteration: for errors found
 * before an asynchronous call has returned. */
void uvsql__future_fail_soon(uvsql_future_t *f, const uvsql_error_t *err);
/* Resolve on the next loop iteration. */
void uvsql__future_resolve_soon(uvsql_future_t *f, void *value, uvsql_value_free_cb free_cb);
/* What uvsql_future_cancel calls while the future is pending. Returns 0 if accepted. The
 * canceller is dropped when the future settles. */
typedef int (*uvsql__cancel_fn)(void *data);
void uvsql__future_set_canceller(uvsql_future_t *f, uvsql__cancel_fn fn, void *data);
/* Applies the ownership rule of future.h to a future an API call is about to return:
 * cb == NULL: returns f (the caller's reference); otherwise attaches cb so that the library's
 * reference is dropped after cb has run, and returns f (borrowed). Never fails. */
uvsql_future_t *uvsql__future_return(uvsql_future_t *f, uvsql_future_cb cb, void *data);
/* What an API call returns when it refuses before starting (bad argument, no memory for its
 * state): a new future failed soon (uvsql__future_fail_soon: cb never runs inside the call)
 * with code and the message, under the rule of uvsql__future_return. NULL only when the future
 * itself cannot be allocated. */
uvsql_future_t *uvsql__future_refused(uv_loop_t *loop, uvsql_future_cb cb, void *data, int code,
                                      const char *fmt, ...) UVSQL__PRINTF(5, 6);

/* ------------------------------------------------------------------ deferred calls (defer.c) */

/* Calls fn(data) from the loop on its next iteration (a zero timer). Returns 0 or UV error. */
int uvsql__defer(uv_loop_t *loop, void (*fn)(void *data), void *data);

/* The longest timeout, in seconds, an option may give (a week): more is a mistake, and
 * seconds * 1000 must stay far inside uint64_t milliseconds. */
#define UVSQL__MAX_TIMEOUT_S 604800.0

/* ------------------------------------------------------------------ socket watcher (watcher.c) */

/* One per driver connection: a uv_poll_t for the driver's socket, a uv_timer_t for its
 * deadlines and a uv_prepare_t for uvsql__watcher_soon. The driver tells it which fd and which
 * events it waits for, after every step, because the fd can change (libpq during connect,
 * Connector/C on reconnect). events passed to the callback: UV_READABLE | UV_WRITABLE bits,
 * UVSQL__WATCH_TIMEOUT when the timer fired, UVSQL__WATCH_ERROR (status in `status`) when polling
 * failed, or UVSQL__WATCH_SOON for a uvsql__watcher_soon request. */
#define UVSQL__WATCH_TIMEOUT 0x100
#define UVSQL__WATCH_ERROR   0x200
#define UVSQL__WATCH_SOON    0x400

typedef struct uvsql__watcher_s uvsql__watcher_t;
typedef void (*uvsql__watcher_cb)(uvsql__watcher_t *w, int events, int status, void *data);

/* Creates a watcher (heap; freed by uvsql__watcher_close). Returns 0 or a UVSQL_E code. */
int uvsql__watcher_new(uvsql__watcher_t **out, uv_loop_t *loop, uvsql__watcher_cb cb, void *data);
/* Waits for events (UV_READABLE|UV_WRITABLE) on fd. If fd differs from the last one, the old
 * poll handle is stopped and closed and a new one made. events == 0 stops polling.
 * Returns 0 or a UVSQL_E code (err filled if not NULL). */
int uvsql__watcher_watch(uvsql__watcher_t *w, int fd, int events);
/* Whether the watcher keeps the loop alive (default: yes). A driver turns this off while its
 * connection is idle in the pool, so an idle pool does not keep uv_run() from returning, and
 * on again while a request or connect is under way. */
void uvsql__watcher_keepalive(uvsql__watcher_t *w, int on);
/* Stops polling; call before the client library closes the socket. */
void uvsql__watcher_stop(uvsql__watcher_t *w);
/* Arms the timer for ms milliseconds (0 disarms it). */
void uvsql__watcher_timeout(uvsql__watcher_t *w, uint64_t ms);
/* The callback gets UVSQL__WATCH_SOON once, just before the loop next waits for I/O (its
 * prepare phase): what was submitted during this iteration (callbacks, timers, code outside
 * uv_run) goes out together, with no epoll_ctl/epoll_wait round for writability. Asking again
 * before it came does nothing more. No-op after close. */
void uvsql__watcher_soon(uvsql__watcher_t *w);
/* Stops both and frees the watcher once libuv has closed its handles. Safe to call from the
 * watcher's own callback; the callback is never called again. Accepts NULL. */
void uvsql__watcher_close(uvsql__watcher_t *w);

/* ------------------------------------------------------------------ worker thread (worker.c) */

/* A thread of its own that runs jobs one at a time in FIFO order, for a client library that
 * has no nonblocking API (SQLite). Each job's `work` runs on the worker thread; its `after`
 * runs on the loop thread once work has returned, in submission order. */
typedef struct uvsql__worker_s uvsql__worker_t;
typedef void (*uvsql__work_fn)(void *data);
typedef void (*uvsql__after_fn)(void *data, int cancelled);

/* busy_poll 0: the thread never spins after a job and the loop never busy-polls for its
 * completions (worker.c invariants 8 and 9): each hand-off sleeps and wakes instead. */
int uvsql__worker_new(uvsql__worker_t **out, uv_loop_t *loop, int busy_poll);
/* 1 if w may spin and busy-poll (busy_poll given and neither one CPU nor valgrind), else 0. */
int uvsql__worker_busy_polls(const uvsql__worker_t *w);
/* Queues a job. Returns 0 or UVSQL_ENOMEM / UVSQL_ECLOSED (then neither function runs). */
int uvsql__worker_submit(uvsql__worker_t *w, uvsql__work_fn work, uvsql__after_fn after,
                         void *data);
/* From inside a job's `work` (the worker thread): runs fn(data, 0) on the loop thread, in the
 * order posted and before that job's `after`. Returns 0 or UVSQL_ENOMEM (then fn never runs).
 * The loop runs posted messages even while the worker is closing. */
int uvsql__worker_post(uvsql__worker_t *w, uvsql__after_fn fn, void *data);
/* Jobs not yet started get after(data, 1) without running work; the running one finishes
 * (after(data, 0)); then the thread is joined (it is idle by then, so this does not block
 * for long), the async handle closed, and closed_cb(data) runs from the loop. */
void uvsql__worker_close(uvsql__worker_t *w, void (*closed_cb)(void *data), void *data);
/* How many times the loop took completions by busy-polling (worker.c, invariant 9) and after
 * an async wake-up (tests, benchmarks). */
void uvsql__worker_counts(const uvsql__worker_t *w, uint64_t *polled, uint64_t *woken);

/* ------------------------------------------------------------------ numeric values */

/* Inside the library a NUMERIC value may carry its fixed-size form instead of its text: then
 * u.s.len is UVSQL__NUMERIC_BINARY and u.s.ptr points at a uvsql_numeric_t (the ORM hands its
 * NUMERIC fields so, without a buffer for their text). The engine turns every such parameter
 * into text when it copies a statement's parameters (engine/execute.c), so drivers and users
 * never see one. */
#define UVSQL__NUMERIC_BINARY SIZE_MAX
static inline uvsql_value_t uvsql__v_numeric_bin(const uvsql_numeric_t *n) {
  return uvsql_v_bytes_of(UVSQL_TYPE_NUMERIC, n, UVSQL__NUMERIC_BINARY);
}
/* Whether v carries text or bytes of its own at u.s (uvsql__type_is_str), the fixed-size
 * NUMERIC form excepted: code that copies a value's bytes asks this, and copies a fixed-size
 * NUMERIC as the value it is (its pointer), as it copies an INT64. */
static inline int uvsql__value_is_str(const uvsql_value_t *v) {
  return uvsql__type_is_str(v->type) &&
         !(v->type == UVSQL_TYPE_NUMERIC && v->u.s.len == UVSQL__NUMERIC_BINARY);
}
/* The exact decimal of v: a NUMERIC (either form), INT64, or TEXT that parses
 * (uvsql_numeric_parse). 0, UVSQL_EDATA (text that is no decimal) or UVSQL_ETYPE. */
int uvsql__value_numeric(const uvsql_value_t *v, uvsql_numeric_t *out);
/* ------------------------------------------------------------------ owned values (value_copy.c) */

/* Copying a value so that it owns what it points to (a parameter queued past the caller's
 * call): uvsql__value_extra gives the bytes the pointed-to data takes (0 for values that point
 * to nothing; text, bytes and ENUM labels get a NUL; an ARRAY its items, 8-aligned, and their
 * data); uvsql__value_own copies that data to *store (which advances by exactly that much)
 * and repoints v. The two must be called on the same value. */
size_t uvsql__value_extra(const uvsql_value_t *v);
void uvsql__value_own(uvsql_value_t *v, char **store);
/* 1 if v's pointer, if any, is usable: no NULL pointer with a length, no ARRAY with n items
 * but no items, no element of another type. Else 0 with a message in why (size 160). */
int uvsql__value_check(const uvsql_value_t *v, char *why, size_t size);

/* ------------------------------------------------------------------ time */

static inline uint64_t uvsql__now_ms(uv_loop_t *loop) {
  return uv_now(loop);
}

#endif
