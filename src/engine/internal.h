/* src/engine/internal.h — the engine layer's internal types: statements, pool, connections
 * and the execution context that carries one statement through checkout, driver and release.
 * Everything here lives on the loop thread. Only the engine's own files include it: Core
 * (src/sql/) reaches the engine through stmt_api.h, the ORM through the public headers.
 */
#ifndef UVSQL_ENGINE_INTERNAL_H
#define UVSQL_ENGINE_INTERNAL_H

#include "uvsql/engine.h"
#include "uvsql/hooks.h"
#include "../dialects/kit.h"
#include "stmt_api.h"
#include "../loop/internal.h"

/* ------------------------------------------------------------------ statements (stmt.c) */

typedef struct {
  char *sql; /* in the style's placeholder syntax */
  size_t len;
  int *order; /* placeholder i takes the value of distinct name order[i] */
  int nplaceholders;
} uvsql__compiled_t;

struct uvsql_stmt_s {
  int refs;
  char *sql;    /* as given */
  char **names; /* distinct :names in order of first use */
  size_t nnames;
  char *literal;             /* the text between placeholders, escapes resolved */
  struct uvsql__seg_s *segs; /* each: a run of literal, then a placeholder (or none) */
  size_t nsegs;
  uvsql__compiled_t compiled[UVSQL__PARAMSTYLE_COUNT]; /* filled on first use per style */
};

uvsql_stmt_t *uvsql__stmt_ref(uvsql_stmt_t *stmt);
/* uvsql__text_marked (for Core): stmt_api.h */
/* The statement compiled for style (cached on the statement). NULL on OOM. */
const uvsql__compiled_t *uvsql__stmt_compile(uvsql_stmt_t *stmt, uvsql__paramstyle_t style);
/* Orders params for the compiled form into out[c->nplaceholders] (values borrowed from params).
 * Returns 0 or UVSQL_EINVALID_ARGUMENT with err naming the missing or unknown :name. */
int uvsql__stmt_bind(const uvsql_stmt_t *stmt, const uvsql__compiled_t *c,
                     const uvsql_param_t *params, size_t nparams, uvsql_value_t *out,
                     uvsql_error_t *err);

/* ------------------------------------------------------------------ pool (pool.c) */

typedef struct uvsql__waiter_s uvsql__waiter_t;
/* conn is checked out to the waiter on success; err is set (conn NULL) on failure. */
typedef void (*uvsql__waiter_cb)(uvsql__waiter_t *w, uvsql_conn_t *conn, const uvsql_error_t *err);
struct uvsql__waiter_s {
  uvsql__waiter_cb cb;
  uint64_t deadline_ms;
  uvsql__waiter_t *prev, *next;
  int queued;
  int shareable; /* an engine-level statement: may share a connection (pipeline_depth) */
};

typedef enum {
  UVSQL__CONN_CONNECTING,
  UVSQL__CONN_IDLE,
  UVSQL__CONN_PINGING,
  UVSQL__CONN_CHECKED_OUT,
  UVSQL__CONN_RESETTING, /* rolling back on its way back to the pool */
  UVSQL__CONN_HOOKING,   /* open, its on_connect hook running (counted in nconnecting) */
  UVSQL__CONN_CLOSING
} uvsql__conn_state_t;

struct uvsql_conn_s {
  uvsql_engine_t *engine;
  uvsql__dconn_t *dc;
  uvsql__conn_state_t state;
  uint64_t created_ms;
  uint64_t serial;     /* order of creation: "older" means a smaller serial */
  int in_tx;           /* a transaction is open (as far as this connection's calls know) */
  int invalid;         /* closed on release instead of pooled */
  int inflight;        /* requests submitted to the driver and not yet done */
  int release_pending; /* released while requests were in flight */
  int shared;          /* engine-level statements holding this checkout (0: a user's checkout) */
  uvsql_conn_t *prev, *next; /* engine's list of all connections */
  uvsql_conn_t *idle_prev, *idle_next;
  uvsql__request_t internal; /* pre-ping or rollback-on-return, never both at once */
  uint64_t busy_since_ms;    /* when the request now running on it started (inflight > 0) */
  uint64_t checkout_ms;      /* when it was last checked out */
  uint64_t idle_since_ms;    /* when it was last returned (or opened) */
  uint64_t pinged_ms;        /* when it last proved alive (keepalive) */
  int leak_reported;         /* this checkout was reported by leak detection */
  int labelled;              /* where[] holds a uvsql_conn_set_label label */
  int background;            /* opened for min_idle, not for a waiter */
  int keepalive;             /* PINGING for keepalive, not for a checkout's pre-ping */
  char where[96];            /* who checked it out: a label or its first statement */
  uvsql__kit_deadlines_t dl; /* statement and cancel deadlines (zeroed until first used) */
  int timeout_set;           /* uvsql_conn_set_timeout was called for this checkout */
  double timeout;            /* its value */
};

/* ------------------------------------------------------------------ hooks (hooks.c) */

/* The engine's hooks and listener (uvsql/hooks.h); allocated by the first setter, so an
 * engine that uses none pays one NULL test per statement and pool event. */
typedef struct uvsql__hooks_s {
  uvsql_on_connect_hook on_connect;
  void *on_connect_data;
  uvsql_conn_hook on_checkout;
  void *checkout_data;
  uvsql_conn_hook on_checkin;
  void *checkin_data;
  uvsql_event_cb listener;
  void *listener_data;
  uint64_t slow_ns; /* 0: no slow-statement log */
} uvsql__hooks_t;

/* A pool event to the listener, and the checkout/checkin hooks for those kinds. c may be NULL
 * (timeout). Call through UVSQL__POOL_EVENT. */
void uvsql__hooks_pool(uvsql_engine_t *e, uvsql_event_kind_t kind, uvsql_conn_t *c,
                       const char *message);
#define UVSQL__POOL_EVENT(e, kind, c, message)                                                     \
  do {                                                                                             \
    if ((e)->hooks)                                                                                \
      uvsql__hooks_pool((e), (kind), (c), (message));                                              \
  } while (0)
/* BEFORE_EXECUTE; returns the start time (uv_hrtime) for uvsql__hooks_after. e->hooks != NULL. */
uint64_t uvsql__hooks_before(uvsql_engine_t *e, uvsql_conn_t *c, const uvsql__request_t *req);
/* AFTER_EXECUTE and the slow-statement log. e->hooks != NULL. */
void uvsql__hooks_after(uvsql_engine_t *e, uvsql_conn_t *c, const uvsql__request_t *req,
                        const uvsql_result_t *result, const uvsql_error_t *err, uint64_t start_ns);
void uvsql__hooks_free(uvsql_engine_t *e);
typedef struct uvsql__listener_s uvsql__listener_t; /* listen.c */

struct uvsql_engine_s {
  uv_loop_t *loop;
  uvsql_url_t *url;
  char *url_masked;
  const uvsql__driver_t *driver;
  uvsql_engine_options_t opt;
  uvsql__dconn_options_t dopt;
  uvsql_conn_t *conns;                    /* all open or opening connections */
  uvsql_conn_t *idle_head, *idle_tail;    /* idle: head is the oldest returned */
  uvsql__waiter_t *wait_head, *wait_tail; /* FIFO of checkouts */
  int nopen; /* connections counted against size + overflow (not closing) */
  int nidle, nchecked_out, nconnecting, npinging, nwaiting, nclosing;
  uint64_t next_serial;
  uint64_t invalidated_below; /* connections with serial < this are stale */
  uvsql_pool_stats_t stats;
  uv_timer_t wait_timer;
  int disposing;
  uvsql_future_t *dispose_future;
  int timer_closed;          /* both of the pool's timers have closed */
  int ntimers_closed;        /* of wait_timer and maint_timer */
  uv_timer_t maint_timer;    /* leaks, idle timeout, min_idle, keepalive; unreferenced */
  uint64_t refill_after_ms;  /* min_idle: no background connect before this */
  uv_timer_t *dispose_timer; /* dispose_timeout; freed by its close callback */
  int dispose_settled;       /* the dispose future settled before everything closed */
  int dispose_timer_closing;
  uvsql__hooks_t *hooks;       /* NULL until a hook or listener is set (hooks.c) */
  uvsql__listener_t *listener; /* LISTEN/NOTIFY (listen.c); NULL until the first listen */
};

void uvsql__pool_init(uvsql_engine_t *e);
/* Queues w for a connection; w->cb runs exactly once, never before this returns. */
void uvsql__pool_checkout(uvsql_engine_t *e, uvsql__waiter_t *w);
/* Withdraws a queued waiter without calling it. Returns 1 if it was queued. */
int uvsql__pool_withdraw(uvsql_engine_t *e, uvsql__waiter_t *w);
void uvsql__pool_release(uvsql_conn_t *conn);
/* After each request on conn is done: finishes a release that waited for it. */
void uvsql__pool_after_request(uvsql_conn_t *conn);
/* The connection lost its server: invalidate it and every older connection. */
void uvsql__pool_disconnected(uvsql_conn_t *conn);
/* Failover (routing.c): no connection opened so far is handed out again (checked-out ones
 * close on release); idle ones close now. why goes to the pool event. */
void uvsql__pool_invalidate_all(uvsql_engine_t *e, const char *why);
/* dispose: fail waiters, close idle connections; calls back engine_maybe_disposed. */
void uvsql__pool_dispose(uvsql_engine_t *e);
/* dispose_timeout passed: closes every connection still open, whatever it is doing. */
void uvsql__pool_close_all(uvsql_engine_t *e);
/* Called by the pool whenever something closed while disposing. */
void uvsql__engine_maybe_disposed(uvsql_engine_t *e);

/* ------------------------------------------------------------------ execution (execute.c) */

/* Submits sql (already compiled, with ordered params) to conn with the engine's echo logging,
 * tracking inflight. done is req->done. */
void uvsql__conn_submit(uvsql_conn_t *conn, uvsql__request_t *req);
/* Hands req to the driver through conn's deadlines (req->timeout: see kit.h). */
void uvsql__conn_driver_submit(uvsql_conn_t *conn, uvsql__request_t *req);
/* Runs a fixed SQL command (BEGIN, COMMIT, ...) on conn; the future resolves with NULL. */
uvsql_future_t *uvsql__conn_command(uvsql_conn_t *conn, const char *sql, int tx_effect,
                                    uvsql_future_cb cb, void *data);

/* ------------------------------------------------------------------ streaming (stream.c) */

/* A stream's consumer and its counts; lives inside the exec that runs the statement. */
typedef struct uvsql__stream_s {
  uvsql_batch_cb on_batch;
  void *data;
  size_t batch_rows;
  uvsql_stream_summary_t sum;
} uvsql__stream_t;

/* execute.c: runs stmt on conn (conn != NULL) or on a pooled connection of its own (engine),
 * streaming into *stream (copied) when stream is not NULL. Ownership as uvsql_conn_execute. */
uvsql_future_t *uvsql__exec_start(uvsql_engine_t *e, uvsql_conn_t *conn, uvsql_stmt_t *stmt,
                                  const uvsql_param_t *params, size_t nparams,
                                  const uvsql__stream_t *stream, uvsql_future_cb cb, void *data);
/* stream.c: one batch from the driver; returns non-zero when the consumer stops. */
int uvsql__stream_batch(uvsql__stream_t *s, const uvsql_result_t *rows);
/* stream.c: settles f at the stream's end (err NULL: with a summary). */
void uvsql__stream_settle(uvsql__stream_t *s, uvsql_future_t *f, const uvsql_error_t *err);

/* listen.c: every pooled connection's notifications go to the engine's listeners. */
void uvsql__listen_attach(uvsql_engine_t *e, uvsql__dconn_t *dc);
/* dispose: closes the listener connection (counted in e->nclosing until closed). */
void uvsql__listen_dispose(uvsql_engine_t *e);

/* engine.c */
void uvsql__engine_log(uvsql_engine_t *e, const char *fmt, ...) UVSQL__PRINTF(2, 3);
/* The same, but to stderr when there is no log_cb even without echo (leak reports). */
void uvsql__engine_warn(uvsql_engine_t *e, const char *fmt, ...) UVSQL__PRINTF(2, 3);
void uvsql__engine_echo(uvsql_engine_t *e, const char *sql, const uvsql_value_t *params,
                        int nparams);
/* The parameters line of echo ("[parameters: (...)]", or "[parameters hidden]") into buf. */
void uvsql__engine_format_params(uvsql_engine_t *e, const uvsql_value_t *params, int nparams,
                                 char *buf, size_t size);

#endif
