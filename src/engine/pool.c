/* src/engine/pool.c — the connection pool (SQLAlchemy's QueuePool, on the loop).
 *
 * Connection states (uvsql__conn_state_t) and who moves them:
 *
 *   open_conn()        connected()           checkout: pump()
 *   ----------> CONNECTING -----> IDLE ------------------------> CHECKED_OUT
 *                  |               |  ^  pre_ping: ping_done()      |
 *                  | failed        |  +-------- PINGING <----------+ (pump, with pre_ping)
 *                  v               |                                |
 *               CLOSING <----------+ stale/overflow/dispose         | uvsql__pool_release()
 *                  ^                                                v
 *                  +---- invalid/broken ------------ RESETTING (ROLLBACK) --> IDLE / given
 *
 * Invariants:
 *  1. nopen counts CONNECTING, IDLE, PINGING, CHECKED_OUT and RESETTING connections; it never
 *     exceeds pool_size + max_overflow. CLOSING ones are counted in nclosing only.
 *  2. Waiters are served strictly in FIFO order; a waiter's callback runs exactly once (with a
 *     connection, or with POOL_TIMEOUT / CONNECT / CLOSED / CANCELLED), never before
 *     uvsql__pool_checkout returned.
 *  3. Deadlines are nondecreasing along the queue (same timeout, FIFO), so one timer armed for
 *     the head's deadline serves them all.
 *  4. A connection whose serial is below invalidated_below, or that is broken, invalid or past
 *     pool_recycle, is never handed out: it is closed and replaced.
 *  5. No head-of-line blocking: a waiter shares a busy connection (pipeline_depth) only when
 *     nopen has reached pool_size + max_overflow, and only one whose running request started
 *     less than pipeline_max_busy ago. Below the limit it gets an idle connection or a new
 *     one (or waits for one already opening for it).
 *  7. An on_connect hook (hooks.h) runs between CONNECTING and IDLE, in HOOKING (still counted
 *     in nconnecting): the hook may run statements on the connection; the pool waits for its
 *     future and gives the connection out only once it resolved (a failure closes it and fails
 *     the head waiter, as a failed connect does). Dispose does not close a HOOKING connection
 *     (its statements are running): hook_done closes it; dispose_timeout aborts them.
 *     Pool events (UVSQL__POOL_EVENT) fire at connect, checkout, checkin, invalidation and
 *     pool timeout; the checkout/checkin hooks run with them.
 *  6. Housekeeping runs on maint_timer (unreferenced: it never keeps the loop alive), armed by
 *     maint_arm() for the earliest of: a checkout reaching leak_threshold (reported once), an
 *     idle connection above min_idle reaching idle_timeout (closed), an idle connection due a
 *     keepalive ping (PINGING with keepalive set: a failure closes it), a min_idle refill
 *     (background CONNECTING; a failed one delays the next by REFILL_BACKOFF_MS), a freed
 *     large result's memory kept unused for memory_idle_timeout (unmapped: loop/bigblock.c;
 *     while big blocks are handed out but none is kept, it looks again every
 *     memory_idle_timeout, so memory freed after the pool went quiet is still given back).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define REFILL_BACKOFF_MS 1000

static void pump(uvsql_engine_t *e);
static void maint_arm(uvsql_engine_t *e);

static uint64_t secs_ms(double s) {
  return s > 0 ? (uint64_t)(s * 1000.0 + 0.5) : 0;
}

/* ------------------------------------------------------------------ lists */

static void idle_push(uvsql_engine_t *e, uvsql_conn_t *c) {
  c->idle_next = NULL;
  c->idle_prev = e->idle_tail;
  if (e->idle_tail)
    e->idle_tail->idle_next = c;
  else
    e->idle_head = c;
  e->idle_tail = c;
  c->state = UVSQL__CONN_IDLE;
  c->pinged_ms = uv_now(e->loop);
  e->nidle++;
}

static void idle_remove(uvsql_engine_t *e, uvsql_conn_t *c) {
  if (c->idle_prev)
    c->idle_prev->idle_next = c->idle_next;
  else
    e->idle_head = c->idle_next;
  if (c->idle_next)
    c->idle_next->idle_prev = c->idle_prev;
  else
    e->idle_tail = c->idle_prev;
  c->idle_prev = c->idle_next = NULL;
  e->nidle--;
}

static void waiter_remove(uvsql_engine_t *e, uvsql__waiter_t *w) {
  if (w->prev)
    w->prev->next = w->next;
  else
    e->wait_head = w->next;
  if (w->next)
    w->next->prev = w->prev;
  else
    e->wait_tail = w->prev;
  w->prev = w->next = NULL;
  w->queued = 0;
  e->nwaiting--;
}

static void conn_unlink(uvsql_engine_t *e, uvsql_conn_t *c) {
  if (c->prev)
    c->prev->next = c->next;
  else
    e->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
}

/* ------------------------------------------------------------------ closing */

static void conn_closed(void *data) {
  uvsql_conn_t *c = data;
  uvsql_engine_t *e = c->engine;
  conn_unlink(e, c);
  e->nclosing--;
  uvsql__kit_deadlines_close(&c->dl);
  free(c);
  if (e->disposing)
    uvsql__engine_maybe_disposed(e);
  else
    pump(e);
}

/* Takes c out of the pool's counts, whatever its state, and closes it. */
static void close_conn(uvsql_conn_t *c) {
  uvsql_engine_t *e = c->engine;
  switch (c->state) {
  case UVSQL__CONN_CLOSING:
    return;
  case UVSQL__CONN_CONNECTING:
  case UVSQL__CONN_HOOKING:
    e->nconnecting--;
    break;
  case UVSQL__CONN_IDLE:
    idle_remove(e, c);
    break;
  case UVSQL__CONN_PINGING:
    e->npinging--;
    break;
  case UVSQL__CONN_CHECKED_OUT:
  case UVSQL__CONN_RESETTING:
    e->nchecked_out--;
    break;
  }
  c->state = UVSQL__CONN_CLOSING;
  e->nopen--;
  e->nclosing++;
  if (c->dc)
    e->driver->close(c->dc, conn_closed, c);
  else if (uvsql__defer(e->loop, conn_closed, c) != 0)
    conn_closed(c);
}

static const char *stale_why(uvsql_engine_t *e, uvsql_conn_t *c) {
  if (c->dc && c->dc->broken)
    return "the connection to the server was lost";
  if (c->serial < e->invalidated_below)
    return "a connection of the pool lost its server: older connections are replaced";
  return "older than pool_recycle";
}

static int is_stale(uvsql_engine_t *e, uvsql_conn_t *c) {
  if (c->invalid || (c->dc && c->dc->broken) || c->serial < e->invalidated_below)
    return 1;
  return e->opt.pool_recycle > 0 &&
         uv_now(e->loop) - c->created_ms >= (uint64_t)(e->opt.pool_recycle * 1000.0);
}

/* ------------------------------------------------------------------ waiters and timer */

static void on_timer(uv_timer_t *t);

/* Writes "host:port" of the server (no credentials) into buf, for messages. */
static const char *server_address(uvsql_engine_t *e, char *buf, size_t size) {
  const uvsql_url_t *u = e->url;
  const char *host = u->host ? u->host : "localhost";
  int v6 = strchr(host, ':') != NULL;
  if (u->port)
    snprintf(buf, size, "%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", u->port);
  else
    snprintf(buf, size, "%s", host);
  return buf;
}

static void arm_timer(uvsql_engine_t *e) {
  if (e->disposing)
    return;
  maint_arm(e);
  if (!e->wait_head) {
    uv_timer_stop(&e->wait_timer);
    return;
  }
  uint64_t now = uv_now(e->loop), d = e->wait_head->deadline_ms;
  uv_timer_start(&e->wait_timer, on_timer, d > now ? d - now : 0, 0);
}

static void give(uvsql_engine_t *e, uvsql_conn_t *c) {
  uvsql__waiter_t *w = e->wait_head;
  waiter_remove(e, w);
  c->shared = w->shareable;
  c->state = UVSQL__CONN_CHECKED_OUT;
  c->checkout_ms = uv_now(e->loop);
  c->leak_reported = 0;
  c->labelled = 0;
  c->where[0] = '\0';
  e->nchecked_out++;
  e->stats.checkouts++;
  UVSQL__POOL_EVENT(e, UVSQL_EVENT_POOL_CHECKOUT, c, "checkout");
  w->cb(w, c, NULL);
}

static void fail_head(uvsql_engine_t *e, const uvsql_error_t *err) {
  uvsql__waiter_t *w = e->wait_head;
  if (!w)
    return;
  waiter_remove(e, w);
  w->cb(w, NULL, err);
}

static void on_timer(uv_timer_t *t) {
  uvsql_engine_t *e = t->data;
  uint64_t now = uv_now(e->loop);
  while (e->wait_head && e->wait_head->deadline_ms <= now) {
    uvsql_error_t err;
    if (e->nconnecting > 0 && e->nopen - e->nconnecting < e->opt.pool_size + e->opt.max_overflow) {
      /* Not an exhausted pool: the connection opened for this checkout never completed. */
      char where[300];
      uvsql__error_set(&err, UVSQL_ETIMEOUT,
                       "could not connect to %s: no answer within %.2f s (pool_timeout); "
                       "check that the server runs and answers there, or raise pool_timeout",
                       server_address(e, where, sizeof where), e->opt.pool_timeout);
      e->stats.timeouts++;
      UVSQL__POOL_EVENT(e, UVSQL_EVENT_POOL_TIMEOUT, NULL, err.message);
      fail_head(e, &err);
      continue;
    }
    uvsql__error_set(&err, UVSQL_EPOOL_TIMEOUT,
                     "pool limit of size %d overflow %d reached (%d checked out): no connection "
                     "within %.2f s; release connections sooner, or raise pool_size, "
                     "max_overflow or pool_timeout",
                     e->opt.pool_size, e->opt.max_overflow, e->nchecked_out, e->opt.pool_timeout);
    e->stats.timeouts++;
    UVSQL__POOL_EVENT(e, UVSQL_EVENT_POOL_TIMEOUT, NULL, err.message);
    fail_head(e, &err);
  }
  pump(e);
}

/* ------------------------------------------------------------------ opening */

/* A connection could not be opened (or its on_connect hook failed): close it, and tell the
 * checkout first in line (SQLAlchemy raises the connect error likewise) or, for a background
 * one, log and retry later. */
static void open_failed(uvsql_engine_t *e, uvsql_conn_t *c, const uvsql_error_t *err) {
  uvsql_error_t copy = *err;
  int background = c->background;
  close_conn(c);
  if (background) { /* nobody waits on it: log, and try again later */
    uvsql__engine_log(e,
                      "opening a connection to keep min_idle %d failed (%s): retrying in "
                      "%d ms",
                      e->opt.min_idle, copy.message, REFILL_BACKOFF_MS);
    e->refill_after_ms = uv_now(e->loop) + REFILL_BACKOFF_MS;
  } else {
    fail_head(e, &copy);
  }
  pump(e);
}

/* The connection is open (and its hook, if any, done): into the pool. */
static void opened(uvsql_engine_t *e, uvsql_conn_t *c) {
  c->state = UVSQL__CONN_CONNECTING;
  if (e->disposing) {
    close_conn(c);
    return;
  }
  e->nconnecting--;
  c->created_ms = c->idle_since_ms = uv_now(e->loop);
  idle_push(e, c);
  pump(e);
}

static void hook_done(uvsql_future_t *f, void *data) {
  uvsql_conn_t *c = data;
  uvsql_engine_t *e = c->engine;
  if (uvsql_future_state(f) == UVSQL_FUTURE_RESOLVED) {
    uvsql_future_unref(f);
    opened(e, c);
    return;
  }
  uvsql_error_t err;
  const uvsql_error_t *why = uvsql_future_error(f);
  uvsql__error_set(&err, why ? why->code : UVSQL_EINTERNAL, "the on_connect hook failed: %.460s",
                   why ? why->message : "(no error)");
  if (why)
    snprintf(err.sqlstate, sizeof err.sqlstate, "%s", why->sqlstate);
  uvsql_future_unref(f);
  c->state = UVSQL__CONN_CONNECTING;
  open_failed(e, c, &err);
}

static void connected(uvsql__dconn_t *dc, const uvsql_error_t *err, void *data) {
  uvsql_conn_t *c = data;
  uvsql_engine_t *e = c->engine;
  (void)dc;
  if (err) {
    open_failed(e, c, err);
    return;
  }
  UVSQL__POOL_EVENT(e, UVSQL_EVENT_POOL_CONNECT, c, "connect");
  if (e->hooks && e->hooks->on_connect && !e->disposing) { /* invariant 7 */
    c->state = UVSQL__CONN_HOOKING;
    uvsql_future_t *f = e->hooks->on_connect(c, e->hooks->on_connect_data);
    if (f) {
      if (uvsql_future_then(f, hook_done, c) != 0) {
        uvsql_error_t nomem;
        uvsql_future_unref(f);
        uvsql__error_set(&nomem, UVSQL_ENOMEM, "out of memory waiting for the on_connect hook");
        c->state = UVSQL__CONN_CONNECTING;
        open_failed(e, c, &nomem);
      }
      return;
    }
  }
  opened(e, c);
}

static void open_conn(uvsql_engine_t *e, int background) {
  uvsql_error_t err;
  uvsql_conn_t *c = calloc(1, sizeof *c);
  if (!c) {
    uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory opening a connection");
    if (background)
      e->refill_after_ms = uv_now(e->loop) + REFILL_BACKOFF_MS;
    else
      fail_head(e, &err);
    return;
  }
  c->engine = e;
  c->background = background;
  c->serial = e->next_serial++;
  c->created_ms = uv_now(e->loop);
  c->state = UVSQL__CONN_CONNECTING;
  c->next = e->conns;
  if (e->conns)
    e->conns->prev = c;
  e->conns = c;
  e->nopen++;
  e->nconnecting++;
  e->stats.connects++;
  if (e->driver->connect(&c->dc, e->loop, e->url, &e->dopt, connected, c, &err) == 0) {
    uvsql__listen_attach(e, c->dc);
  } else {
    c->dc = NULL;
    close_conn(c);
    if (background) {
      uvsql__engine_log(e, "opening a connection to keep min_idle %d failed (%s)", e->opt.min_idle,
                        err.message);
      e->refill_after_ms = uv_now(e->loop) + REFILL_BACKOFF_MS;
    } else {
      fail_head(e, &err);
    }
  }
}

/* ------------------------------------------------------------------ pre-ping and reset */

static void ping_done(uvsql__request_t *req, uvsql_result_t *result, const uvsql_error_t *err) {
  uvsql_conn_t *c = req->data;
  uvsql_engine_t *e = c->engine;
  uvsql_result_free(result);
  c->inflight--;
  if (c->state != UVSQL__CONN_PINGING)
    return; /* closing meanwhile */
  if (err) {
    uvsql__engine_log(e, "%s failed (%s): replacing the connection",
                      c->keepalive ? "keepalive ping of an idle connection" : "pre-ping",
                      err->message);
    c->invalid = 1;
    e->stats.invalidated++;
    UVSQL__POOL_EVENT(e, UVSQL_EVENT_POOL_INVALIDATE, c, err->message);
    if (err->code == UVSQL_EDISCONNECT)
      e->invalidated_below = e->next_serial;
    close_conn(c);
    pump(e);
    return;
  }
  e->npinging--;
  c->keepalive = 0;
  if (e->wait_head)
    give(e, c);
  else
    idle_push(e, c);
  arm_timer(e);
}

static void submit_internal(uvsql_conn_t *c, const char *sql, uvsql__request_done_cb done) {
  memset(&c->internal, 0, sizeof c->internal);
  c->internal.sql = sql;
  c->internal.sql_len = strlen(sql);
  c->internal.flags = UVSQL__REQ_NO_PREPARE;
  c->internal.done = done;
  c->internal.data = c;
  c->internal.timeout = c->engine->opt.command_timeout; /* a silent server fails it: replaced */
  c->inflight++;
  uvsql__engine_echo(c->engine, sql, NULL, 0);
  uvsql__conn_driver_submit(c, &c->internal);
}

/* Takes the freshest usable idle connection (by LIFO/FIFO), closing stale ones on the way. */
static uvsql_conn_t *take_idle(uvsql_engine_t *e) {
  while (e->nidle > 0) {
    uvsql_conn_t *c = e->opt.pool_use_lifo ? e->idle_tail : e->idle_head;
    if (!is_stale(e, c)) {
      idle_remove(e, c);
      return c;
    }
    if (!c->invalid) { /* an invalid one was counted when it was marked */
      e->stats.invalidated++;
      UVSQL__POOL_EVENT(e, UVSQL_EVENT_POOL_INVALIDATE, c, stale_why(e, c));
    }
    close_conn(c);
  }
  return NULL;
}

/* The engine-shared connection with the fewest requests in flight, if one has room. */
static uvsql_conn_t *find_shared(uvsql_engine_t *e) {
  uvsql_conn_t *best = NULL;
  uint64_t now = uv_now(e->loop), max_busy = secs_ms(e->opt.pipeline_max_busy);
  for (uvsql_conn_t *c = e->conns; c; c = c->next)
    if (c->state == UVSQL__CONN_CHECKED_OUT && c->shared > 0 && !c->release_pending &&
        !is_stale(e, c) && c->inflight < e->opt.pipeline_depth &&
        (c->inflight == 0 || now - c->busy_since_ms < max_busy) &&
        (!best || c->inflight < best->inflight))
      best = c;
  return best;
}

/* Serves waiters, in order, from idle connections; opens new ones while below the limit (or
 * waits for those opening); only at the limit queues engine-level statements on connections
 * other such statements hold, behind a request that started less than pipeline_max_busy ago
 * (invariant 5). */
static void pump(uvsql_engine_t *e) {
  if (e->disposing)
    return;
  while (e->wait_head) {
    if (e->opt.pool_pre_ping && e->npinging >= e->nwaiting)
      break;
    uvsql_conn_t *c = take_idle(e);
    if (c && e->opt.pool_pre_ping) {
      c->state = UVSQL__CONN_PINGING;
      e->npinging++;
      submit_internal(c, "SELECT 1", ping_done);
    } else if (c) {
      give(e, c);
    } else if (e->nopen < e->opt.pool_size + e->opt.max_overflow) {
      if (e->nwaiting <= e->nconnecting + e->npinging)
        break; /* enough are on their way: never share while the pool can still grow */
      open_conn(e, 0);
    } else if (e->wait_head->shareable && (c = find_shared(e))) {
      uvsql__waiter_t *w = e->wait_head;
      waiter_remove(e, w);
      c->shared++;
      w->cb(w, c, NULL);
    } else {
      break;
    }
  }
  arm_timer(e);
}

/* ------------------------------------------------------------------ housekeeping */

static int refill_wanted(uvsql_engine_t *e) {
  return e->nidle + e->nconnecting < e->opt.min_idle && e->nopen < e->opt.pool_size;
}

static void report_leak(uvsql_engine_t *e, uvsql_conn_t *c, uint64_t now) {
  c->leak_reported = 1;
  e->stats.leaks++;
  uvsql__engine_warn(e,
                     "connection leak? a connection has been checked out for %.1f s "
                     "(leak_threshold %.1f s) by %s; release it with uvsql_conn_release%s",
                     (double)(now - c->checkout_ms) / 1000.0, e->opt.leak_threshold,
                     c->where[0] ? c->where : "code that ran no statement on it",
                     c->labelled ? "" : " (uvsql_conn_set_label names a checkout)");
}

static void keepalive_ping(uvsql_engine_t *e, uvsql_conn_t *c) {
  idle_remove(e, c);
  c->state = UVSQL__CONN_PINGING;
  c->keepalive = 1;
  e->npinging++;
  e->stats.keepalives++;
  submit_internal(c, "SELECT 1", ping_done);
}

static void on_maint(uv_timer_t *t) {
  uvsql_engine_t *e = t->data;
  uint64_t now = uv_now(e->loop);
  uint64_t leak = secs_ms(e->opt.leak_threshold), idle = secs_ms(e->opt.idle_timeout),
           ka = secs_ms(e->opt.keepalive_interval);
  for (uvsql_conn_t *c = e->conns, *next; c; c = next) {
    next = c->next;
    if (leak && c->state == UVSQL__CONN_CHECKED_OUT && !c->leak_reported &&
        now - c->checkout_ms >= leak)
      report_leak(e, c, now);
  }
  /* Oldest returned first, so the ones closed are those least used lately. */
  for (uvsql_conn_t *c = e->idle_head, *next; c; c = next) {
    next = c->idle_next;
    if (idle && e->nidle > e->opt.min_idle && now - c->idle_since_ms >= idle) {
      uvsql__engine_log(e, "closing a connection idle for %.1f s (idle_timeout %.1f s)",
                        (double)(now - c->idle_since_ms) / 1000.0, e->opt.idle_timeout);
      close_conn(c);
    } else if (ka && now - c->pinged_ms >= ka) {
      keepalive_ping(e, c);
    }
  }
  while (!e->disposing && refill_wanted(e) && now >= e->refill_after_ms)
    open_conn(e, 1);
  uvsql__big_trim_idle(secs_ms(e->opt.memory_idle_timeout));
  pump(e); /* re-arms both timers */
}

/* Arms maint_timer for the earliest housekeeping due (invariant 6), or stops it. */
static void maint_arm(uvsql_engine_t *e) {
  if (e->disposing)
    return;
  uint64_t now = uv_now(e->loop), due = UINT64_MAX;
  uint64_t leak = secs_ms(e->opt.leak_threshold), idle = secs_ms(e->opt.idle_timeout),
           ka = secs_ms(e->opt.keepalive_interval);
#define DUE(t) due = (t) < due ? (t) : due
  for (uvsql_conn_t *c = e->conns; c; c = c->next) {
    if (leak && c->state == UVSQL__CONN_CHECKED_OUT && !c->leak_reported)
      DUE(c->checkout_ms + leak);
    if (c->state == UVSQL__CONN_IDLE) {
      if (idle && e->nidle > e->opt.min_idle)
        DUE(c->idle_since_ms + idle);
      if (ka)
        DUE(c->pinged_ms + ka);
    }
  }
  if (refill_wanted(e))
    DUE(e->refill_after_ms);
  uint64_t mem = uvsql__big_idle_due(secs_ms(e->opt.memory_idle_timeout));
  if (mem != UINT64_MAX)
    DUE(now + mem);
#undef DUE
  if (due == UINT64_MAX)
    uv_timer_stop(&e->maint_timer);
  else
    uv_timer_start(&e->maint_timer, on_maint, due > now ? due - now : 0, 0);
}

/* ------------------------------------------------------------------ entry points */

void uvsql__pool_init(uvsql_engine_t *e) {
  uv_timer_init(e->loop, &e->wait_timer);
  e->wait_timer.data = e;
  uv_timer_init(e->loop, &e->maint_timer);
  e->maint_timer.data = e;
  uv_unref((uv_handle_t *)&e->maint_timer);
  e->next_serial = 1;
  maint_arm(e); /* min_idle: open the first ones from the loop */
}

static void fail_closed_soon(void *data) {
  uvsql__waiter_t *w = data;
  uvsql_error_t err;
  uvsql__error_set(&err, UVSQL_ECLOSED, "the engine is disposed: make a new engine");
  w->cb(w, NULL, &err);
}

void uvsql__pool_checkout(uvsql_engine_t *e, uvsql__waiter_t *w) {
  w->prev = w->next = NULL;
  w->queued = 0;
  if (e->disposing) {
    if (uvsql__defer(e->loop, fail_closed_soon, w) != 0)
      fail_closed_soon(w);
    return;
  }
  double timeout = e->opt.pool_timeout > 0 ? e->opt.pool_timeout : 0;
  w->deadline_ms = uv_now(e->loop) + (uint64_t)(timeout * 1000.0 + 0.5);
  w->queued = 1;
  w->prev = e->wait_tail;
  if (e->wait_tail)
    e->wait_tail->next = w;
  else
    e->wait_head = w;
  e->wait_tail = w;
  e->nwaiting++;
  /* Served from the loop (the timer at 0 ms runs pump), never inside this call. */
  uv_timer_start(&e->wait_timer, on_timer, 0, 0);
}

int uvsql__pool_withdraw(uvsql_engine_t *e, uvsql__waiter_t *w) {
  if (!w->queued)
    return 0;
  waiter_remove(e, w);
  arm_timer(e);
  return 1;
}

static void finish_release(uvsql_conn_t *c);

static void reset_done(uvsql__request_t *req, uvsql_result_t *result, const uvsql_error_t *err) {
  uvsql_conn_t *c = req->data;
  uvsql_result_free(result);
  c->inflight--;
  if (c->state != UVSQL__CONN_RESETTING)
    return;
  c->in_tx = 0;
  c->state = UVSQL__CONN_CHECKED_OUT;
  if (err) {
    uvsql__engine_log(c->engine, "rollback on return failed (%s): closing the connection",
                      err->message);
    c->invalid = 1;
    c->engine->stats.invalidated++;
    UVSQL__POOL_EVENT(c->engine, UVSQL_EVENT_POOL_INVALIDATE, c, err->message);
  }
  finish_release(c);
}

static void finish_release(uvsql_conn_t *c) {
  uvsql_engine_t *e = c->engine;
  c->release_pending = 0;
  if (e->disposing || is_stale(e, c)) {
    if (!e->disposing && !c->invalid) { /* an invalid one was counted when it was marked */
      e->stats.invalidated++;
      UVSQL__POOL_EVENT(e, UVSQL_EVENT_POOL_INVALIDATE, c, stale_why(e, c));
    }
    close_conn(c);
    return;
  }
  if (c->in_tx && e->opt.pool_reset_on_return) {
    c->state = UVSQL__CONN_RESETTING;
    submit_internal(c, "ROLLBACK", reset_done);
    return;
  }
  if (e->nopen > e->opt.pool_size && !e->wait_head) {
    close_conn(c); /* overflow connections do not stay */
    return;
  }
  e->nchecked_out--;
  c->idle_since_ms = uv_now(e->loop);
  idle_push(e, c);
  pump(e);
}

void uvsql__pool_release(uvsql_conn_t *c) {
  if (c->state != UVSQL__CONN_CHECKED_OUT || c->release_pending)
    return; /* released twice: ignore rather than corrupt the counts */
  if (c->leak_reported && c->shared <= 1) {
    c->leak_reported = 0;
    uvsql__engine_warn(c->engine,
                       "the connection reported as leaked (checked out by %s) was released "
                       "after %.1f s",
                       c->where[0] ? c->where : "unknown code",
                       (double)(uv_now(c->engine->loop) - c->checkout_ms) / 1000.0);
  }
  if (c->shared > 1) { /* other engine-level statements still hold it */
    c->shared--;
    if (c->engine->wait_head)
      pump(c->engine); /* it has room for one more */
    return;
  }
  c->shared = 0;
  UVSQL__POOL_EVENT(c->engine, UVSQL_EVENT_POOL_CHECKIN, c, "checkin");
  if (c->inflight > 0) {
    c->release_pending = 1;
    return;
  }
  finish_release(c);
}

void uvsql__pool_after_request(uvsql_conn_t *c) {
  if (c->inflight == 0 && c->release_pending && c->state == UVSQL__CONN_CHECKED_OUT)
    finish_release(c);
}

void uvsql__pool_disconnected(uvsql_conn_t *c) {
  uvsql_engine_t *e = c->engine;
  if (!c->invalid) {
    c->invalid = 1;
    e->stats.invalidated++;
    UVSQL__POOL_EVENT(e, UVSQL_EVENT_POOL_INVALIDATE, c, "the connection to the server was lost");
  }
  /* Like SQLAlchemy's pool invalidation: every connection made so far is suspect (the server
   * may have restarted), so each is replaced at its next checkout or release. */
  e->invalidated_below = e->next_serial;
}

void uvsql__pool_invalidate_all(uvsql_engine_t *e, const char *why) {
  e->invalidated_below = e->next_serial;
  for (uvsql_conn_t *c = e->conns, *next; c; c = next) {
    next = c->next;
    if (c->state == UVSQL__CONN_IDLE) {
      e->stats.invalidated++;
      UVSQL__POOL_EVENT(e, UVSQL_EVENT_POOL_INVALIDATE, c, why);
      close_conn(c);
    }
  }
}

static void timer_closed(uv_handle_t *h) {
  uvsql_engine_t *e = h->data;
  if (++e->ntimers_closed < 2)
    return;
  e->timer_closed = 1;
  uvsql__engine_maybe_disposed(e);
}

void uvsql__pool_dispose(uvsql_engine_t *e) {
  uvsql_error_t err;
  uvsql__error_set(&err, UVSQL_ECLOSED,
                   "the engine was disposed (uvsql_engine_dispose) while this "
                   "waited for a connection: nothing was run");
  e->disposing = 1;
  while (e->wait_head)
    fail_head(e, &err);
  uv_timer_stop(&e->wait_timer);
  uv_close((uv_handle_t *)&e->wait_timer, timer_closed);
  uv_timer_stop(&e->maint_timer);
  uv_close((uv_handle_t *)&e->maint_timer, timer_closed);
  for (uvsql_conn_t *c = e->conns, *next; c; c = next) {
    next = c->next;
    if (c->state == UVSQL__CONN_IDLE || c->state == UVSQL__CONN_CONNECTING ||
        c->state == UVSQL__CONN_PINGING)
      close_conn(c);
  }
}

void uvsql__pool_close_all(uvsql_engine_t *e) {
  char why[160];
  snprintf(why, sizeof why,
           "the engine was disposed and this connection was still busy after dispose_timeout "
           "(%.3g s): it was closed",
           e->opt.dispose_timeout);
  for (uvsql_conn_t *c = e->conns, *next; c; c = next) {
    next = c->next;
    if (c->state == UVSQL__CONN_CHECKED_OUT || c->state == UVSQL__CONN_RESETTING ||
        c->state == UVSQL__CONN_HOOKING) {
      /* the user may still release it: fail what runs on it, and it closes on release */
      if (c->dc && e->driver->abort)
        e->driver->abort(c->dc, why);
    } else {
      close_conn(c);
    }
  }
}

void uvsql_pool_stats(const uvsql_engine_t *e, uvsql_pool_stats_t *out) {
  *out = e->stats;
  out->size = e->nopen;
  out->checked_out = e->nchecked_out;
  out->idle = e->nidle;
  out->overflow = e->nopen > e->opt.pool_size ? e->nopen - e->opt.pool_size : 0;
  out->waiting = e->nwaiting;
}
