/* src/engine/hooks.c — the engine's connection hooks and instrumentation (uvsql/hooks.h):
 * the setters, pool events with the checkout/checkin hooks, statement events with their
 * timing, and the slow-statement log. The on_connect hook itself is run by the pool (pool.c:
 * run_on_connect), which owns the connection's state while it runs.
 *
 * Invariants:
 *  1. e->hooks stays NULL until a setter runs: an engine without hooks or listener pays one
 *     NULL test per statement and per pool event, and never reads the clock for them.
 *  2. Statements are timed with uv_hrtime from the driver submit to its done callback; only
 *     when a listener or a slow threshold is set.
 *  3. Parameters reach a listener only when echo_hide_parameters is unset.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "internal.h"

static uvsql__hooks_t *hooks_of(uvsql_engine_t *e) {
  if (!e->hooks)
    e->hooks = calloc(1, sizeof *e->hooks);
  return e->hooks;
}

void uvsql__hooks_free(uvsql_engine_t *e) {
  free(e->hooks);
  e->hooks = NULL;
}

void uvsql_engine_on_connect(uvsql_engine_t *e, uvsql_on_connect_hook hook, void *data) {
  uvsql__hooks_t *h;
  if (!e || !(h = hooks_of(e)))
    return;
  h->on_connect = hook;
  h->on_connect_data = data;
}

void uvsql_engine_on_checkout(uvsql_engine_t *e, uvsql_conn_hook hook, void *data) {
  uvsql__hooks_t *h;
  if (!e || !(h = hooks_of(e)))
    return;
  h->on_checkout = hook;
  h->checkout_data = data;
}

void uvsql_engine_on_checkin(uvsql_engine_t *e, uvsql_conn_hook hook, void *data) {
  uvsql__hooks_t *h;
  if (!e || !(h = hooks_of(e)))
    return;
  h->on_checkin = hook;
  h->checkin_data = data;
}

void uvsql_engine_set_listener(uvsql_engine_t *e, uvsql_event_cb cb, void *data) {
  uvsql__hooks_t *h;
  if (!e || !(h = hooks_of(e)))
    return;
  h->listener = cb;
  h->listener_data = data;
}

int uvsql_engine_set_slow_statement_threshold(uvsql_engine_t *e, double seconds) {
  uvsql__hooks_t *h;
  if (!e || isnan(seconds))
    return UVSQL_EINVALID_ARGUMENT;
  if (!(h = hooks_of(e)))
    return UVSQL_ENOMEM;
  h->slow_ns = seconds > 0 ? (isinf(seconds) ? UINT64_MAX : (uint64_t)(seconds * 1e9)) : 0;
  return 0;
}

void uvsql__hooks_pool(uvsql_engine_t *e, uvsql_event_kind_t kind, uvsql_conn_t *c,
                       const char *message) {
  uvsql__hooks_t *h = e->hooks;
  if (kind == UVSQL_EVENT_POOL_CHECKOUT && h->on_checkout)
    h->on_checkout(c, h->checkout_data);
  if (kind == UVSQL_EVENT_POOL_CHECKIN && h->on_checkin)
    h->on_checkin(c, h->checkin_data);
  if (!h->listener)
    return;
  uvsql_event_t ev = {0};
  ev.kind = kind;
  ev.engine = e;
  ev.conn = c;
  ev.nsets = 1;
  ev.rows_affected = -1;
  ev.message = message;
  h->listener(&ev, h->listener_data);
}

static void fill_statement(uvsql_event_t *ev, uvsql_engine_t *e, uvsql_conn_t *c,
                           const uvsql__request_t *req) {
  ev->engine = e;
  ev->conn = c;
  ev->sql = req->sql;
  ev->sql_len = req->sql_len;
  ev->nparams = (size_t)req->nparams;
  ev->nsets = (req->flags & UVSQL__REQ_MANY) ? req->nsets : 1;
  ev->rows_affected = -1;
  if (e->opt.echo_hide_parameters && req->nparams > 0)
    ev->params_hidden = 1;
  else
    ev->params = req->params;
}

uint64_t uvsql__hooks_before(uvsql_engine_t *e, uvsql_conn_t *c, const uvsql__request_t *req) {
  uvsql__hooks_t *h = e->hooks;
  if (h->listener) {
    uvsql_event_t ev = {0};
    ev.kind = UVSQL_EVENT_BEFORE_EXECUTE;
    fill_statement(&ev, e, c, req);
    h->listener(&ev, h->listener_data);
  }
  return h->listener || h->slow_ns ? uv_hrtime() : 0;
}

void uvsql__hooks_after(uvsql_engine_t *e, uvsql_conn_t *c, const uvsql__request_t *req,
                        const uvsql_result_t *result, const uvsql_error_t *err, uint64_t start_ns) {
  uvsql__hooks_t *h = e->hooks;
  if (!start_ns || (!h->listener && !h->slow_ns))
    return; /* set after the statement started: it was not timed */
  uint64_t ns = uv_hrtime() - start_ns;
  if (h->slow_ns && ns >= h->slow_ns) {
    char params[1024];
    size_t n = req->sql_len;
    uvsql__engine_warn(e, "slow statement (%.1f ms, threshold %.1f ms%s): %.*s%s", (double)ns / 1e6,
                       (double)h->slow_ns / 1e6, err ? ", failed" : "", n > 500 ? 500 : (int)n,
                       req->sql, n > 500 ? "..." : "");
    if (req->nparams > 0) {
      uvsql__engine_format_params(e, req->params, req->nparams, params, sizeof params);
      uvsql__engine_warn(e, "%s", params);
    }
  }
  if (h->listener) {
    uvsql_event_t ev = {0};
    ev.kind = UVSQL_EVENT_AFTER_EXECUTE;
    fill_statement(&ev, e, c, req);
    ev.elapsed = (double)ns / 1e9;
    ev.error = err;
    if (result) {
      ev.rows = (int64_t)uvsql_result_nrows(result);
      ev.rows_affected = uvsql_result_rows_affected(result);
    }
    h->listener(&ev, h->listener_data);
  }
}
