/* src/engine/engine.c — the engine: a URL, a driver, options and a pool; its creation,
 * asynchronous disposal, and SQL echo logging.
 *
 * Lifecycle: uvsql_engine_new -> (use) -> uvsql_engine_dispose -> [pool closes idle
 * connections; checked-out ones close on release] -> dispose future resolves, engine freed.
 * If dispose_timeout passes first (dispose_expired), what is still open is closed at once
 * (busy connections through driver->abort) and the future resolves then; the engine is freed
 * when the last connection has closed.
 * Invariant: the engine is freed exactly once, when disposing and nothing is open or closing
 * and the pool's timer handle has closed; the dispose future settles exactly once.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static int check_options(const uvsql_engine_options_t *o, uvsql_error_t *err) {
  if (o->pool_size < 1)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT, "pool_size is %d: it must be at least 1",
                            o->pool_size);
  if (o->max_overflow < 0)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "max_overflow is %d: it must be 0 or more", o->max_overflow);
  if (o->pool_timeout < 0 || o->connect_timeout < 0)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "pool_timeout is %g and connect_timeout %g: neither may be negative "
                            "(seconds; 0 for none)",
                            o->pool_timeout, o->connect_timeout);
  const struct {
    const char *name;
    double s;
  } secs[] = {{"pool_timeout", o->pool_timeout}, {"connect_timeout", o->connect_timeout}};
  for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++)
    if (!isfinite(secs[i].s) || secs[i].s > UVSQL__MAX_TIMEOUT_S)
      return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                              "%s is %g: it must be a finite number of seconds from 0 to %g "
                              "(0 for none)",
                              secs[i].name, secs[i].s, UVSQL__MAX_TIMEOUT_S);
  if (o->pipeline_depth < 1)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "pipeline_depth is %d: it must be at least 1 (1 disables sharing)",
                            o->pipeline_depth);
  const struct {
    const char *name;
    double v;
  } pool_secs[] = {{"pipeline_max_busy", o->pipeline_max_busy},
                   {"leak_threshold", o->leak_threshold},
                   {"idle_timeout", o->idle_timeout},
                   {"keepalive_interval", o->keepalive_interval},
                   {"memory_idle_timeout", o->memory_idle_timeout}};
  for (size_t i = 0; i < sizeof pool_secs / sizeof pool_secs[0]; i++)
    if (!(pool_secs[i].v > -1e9 && pool_secs[i].v < 1e9)) /* NaN, infinities, absurd values */
      return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                              "%s is %g: it must be a number of seconds (0 or less: off)",
                              pool_secs[i].name, pool_secs[i].v);
  if (o->min_idle < 0 || o->min_idle > o->pool_size)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "min_idle is %d: it must be between 0 and pool_size (%d)", o->min_idle,
                            o->pool_size);
  if (!(o->command_timeout >= 0 && o->command_timeout < 1e9) ||
      !(o->cancel_timeout >= 0 && o->cancel_timeout < 1e9) ||
      !(o->dispose_timeout >= 0 && o->dispose_timeout < 1e9))
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "command_timeout is %g, cancel_timeout %g and dispose_timeout %g: "
                            "each must be a number of seconds from 0 (0: none, or the default "
                            "for cancel_timeout and dispose_timeout) up to 1e9",
                            o->command_timeout, o->cancel_timeout, o->dispose_timeout);
  if (o->statement_cache_size < 0)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "statement_cache_size is %d: it must be 0 or more (0 keeps no "
                            "prepared statements)",
                            o->statement_cache_size);
  return 0;
}

int uvsql_engine_new(uvsql_engine_t **out, uv_loop_t *loop, const char *url,
                     const uvsql_engine_options_t *opt, uvsql_error_t *err) {
  static const uvsql_engine_options_t defaults = UVSQL_ENGINE_OPTIONS_INIT;
  if (!out || !loop)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "uvsql_engine_new: out and loop must not be NULL");
  *out = NULL;
  uvsql_engine_t *e = calloc(1, sizeof *e);
  if (!e)
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory creating an engine");
  e->opt = opt ? *opt : defaults;
  int rc = check_options(&e->opt, err);
  if (rc == 0)
    rc = uvsql_url_parse(&e->url, url, err);
  if (rc == 0) {
    const uvsql__backend_t *b = uvsql__backend_find(e->url->driver);
    e->driver = b ? b->driver : NULL;
    if (!e->driver)
      rc = uvsql__error_set(err, UVSQL_ENOT_SUPPORTED,
                            "the %s backend is not built into this uvsql: rebuild it with "
                            "-D%s=ON (CMake)",
                            e->url->driver, b ? b->option : "its UVSQL_WITH_ option");
  }
  if (rc == 0)
    rc = e->driver->validate_url(e->url, err);
  if (rc == 0) {
    size_t n = uvsql_url_render(e->url, NULL, 0);
    if (!(e->url_masked = malloc(n + 1)))
      rc = uvsql__error_set(err, UVSQL_ENOMEM, "out of memory creating an engine");
    else
      uvsql_url_render(e->url, e->url_masked, n + 1);
  }
  if (rc != 0) {
    uvsql_url_free(e->url);
    free(e);
    return rc;
  }
  /* An in-memory SQLite database lives in one connection: every checkout must share it. */
  if (strcmp(e->driver->name, "sqlite") == 0 && !e->url->database) {
    e->opt.pool_size = 1;
    e->opt.max_overflow = 0;
    e->opt.idle_timeout = 0; /* closing that connection would drop the database */
    e->opt.min_idle = e->opt.min_idle > 0;
  }
  e->loop = loop;
  e->dopt.connect_timeout = e->opt.connect_timeout;
  e->dopt.statement_cache_size = e->opt.statement_cache_size;
  if (e->opt.cancel_timeout <= 0)
    e->opt.cancel_timeout = 5.0;
  if (e->opt.dispose_timeout <= 0)
    e->opt.dispose_timeout = 10.0;
  uvsql__pool_init(e);
  *out = e;
  return 0;
}

size_t uvsql_release_memory(void) {
  return uvsql__big_trim();
}

uv_loop_t *uvsql_engine_loop(const uvsql_engine_t *e) {
  return e->loop;
}

const char *uvsql_engine_dialect(const uvsql_engine_t *e) {
  return e->driver->name;
}

const char *uvsql_engine_url(const uvsql_engine_t *e) {
  return e->url_masked;
}

/* The engine is not freed while its dispose timer is open (maybe_disposed), so e is valid. */
static void dispose_timer_closed(uv_handle_t *h) {
  uvsql_engine_t *e = h->data;
  free(h);
  e->dispose_timer = NULL;
  uvsql__engine_maybe_disposed(e);
}

/* dispose_timeout passed: close what is still open, and settle (the engine is freed when the
 * last connection has closed). */
static void dispose_expired(uv_timer_t *t) {
  uvsql_engine_t *e = t->data;
  uvsql__engine_log(e,
                    "dispose: %d connection(s) still open after dispose_timeout (%.3g s): "
                    "closing them now",
                    e->nopen + e->nclosing, e->opt.dispose_timeout);
  uvsql_future_t *f = uvsql_future_ref(e->dispose_future);
  e->dispose_timer_closing = 1;
  uv_close((uv_handle_t *)t, dispose_timer_closed);
  e->dispose_settled = 1;
  uvsql__pool_close_all(e); /* the engine lives on until the timer has closed */
  uvsql__future_resolve(f, NULL, NULL);
  uvsql_future_unref(f);
}

uvsql_future_t *uvsql_engine_dispose(uvsql_engine_t *e, uvsql_future_cb cb, void *data) {
  if (!e)
    return NULL;
  if (e->disposing) {
    uvsql_future_t *f = uvsql__future_new(e->loop);
    if (!f)
      return NULL;
    uvsql_error_t err;
    uvsql__error_set(&err, UVSQL_EINTERFACE,
                     "uvsql_engine_dispose: the engine is already being disposed: call it "
                     "once and wait for that future");
    uvsql__future_fail_soon(f, &err);
    return uvsql__future_return(f, cb, data);
  }
  uvsql_future_t *f = uvsql__future_new(e->loop);
  if (!f)
    return NULL;
  e->dispose_future = uvsql_future_ref(f);
  uvsql__future_return(f, cb, data);
  if ((e->dispose_timer = malloc(sizeof *e->dispose_timer))) {
    uv_timer_init(e->loop, e->dispose_timer);
    e->dispose_timer->data = e;
    uv_timer_start(e->dispose_timer, dispose_expired,
                   (uint64_t)(e->opt.dispose_timeout * 1000.0 + 0.5), 0);
  } /* out of memory: dispose waits for every connection, as before deadlines */
  uvsql__listen_dispose(e);
  uvsql__pool_dispose(e); /* the timer closes asynchronously, so nothing settles in here */
  return f;
}

void uvsql__engine_maybe_disposed(uvsql_engine_t *e) {
  if (!e->disposing || !e->timer_closed || e->nopen > 0 || e->nclosing > 0)
    return;
  if (e->dispose_timer) { /* closed first, so the loop can close once the future settles */
    if (!e->dispose_timer_closing) {
      e->dispose_timer_closing = 1;
      uv_close((uv_handle_t *)e->dispose_timer, dispose_timer_closed);
    }
    return;
  }
  uvsql_future_t *f = e->dispose_future;
  int settled = e->dispose_settled;
  uvsql_url_free(e->url);
  free(e->url_masked);
  uvsql__hooks_free(e);
  uvsql__big_trim(); /* the freed large results' memory kept for reuse (loop/bigblock.c) */
  free(e);
  if (!settled)
    uvsql__future_resolve(f, NULL, NULL);
  uvsql_future_unref(f);
}

/* ------------------------------------------------------------------ logging */

void uvsql__engine_log(uvsql_engine_t *e, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (e->opt.log_cb)
    e->opt.log_cb(e->opt.log_data, line);
  else if (e->opt.echo)
    fprintf(stderr, "[uvsql] %s\n", line);
}

/* Like uvsql__engine_log, but for what a user must see (leaks): stderr when there is no
 * log_cb, even without echo. */
void uvsql__engine_warn(uvsql_engine_t *e, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (e->opt.log_cb)
    e->opt.log_cb(e->opt.log_data, line);
  else
    fprintf(stderr, "[uvsql] %s\n", line);
}

/* Appends one parameter, as SQL-ish text, truncated for long values. */
static size_t format_value(const uvsql_value_t *v, char *buf, size_t size) {
  switch (v->type) {
  case UVSQL_TYPE_NULL:
    return (size_t)snprintf(buf, size, "NULL");
  case UVSQL_TYPE_BOOL:
    return (size_t)snprintf(buf, size, "%s", v->u.b ? "true" : "false");
  case UVSQL_TYPE_INT64:
    return (size_t)snprintf(buf, size, "%" PRId64, v->u.i64);
  case UVSQL_TYPE_DOUBLE:
    return (size_t)snprintf(buf, size, "%.17g", v->u.f64);
  case UVSQL_TYPE_UUID: {
    char t[37];
    uvsql_uuid_format((const uvsql_uuid_t *)(const void *)v->u.uuid, t);
    return (size_t)snprintf(buf, size, "'%s'", t);
  }
  case UVSQL_TYPE_TEXT:
  case UVSQL_TYPE_JSON: {
    int n = v->u.s.len > 60 ? 57 : (int)v->u.s.len;
    return (size_t)snprintf(buf, size, "'%.*s%s'", n, v->u.s.ptr, v->u.s.len > 60 ? "..." : "");
  }
  case UVSQL_TYPE_BYTES:
    return (size_t)snprintf(buf, size, "<%zu bytes>", v->u.s.len);
  case UVSQL_TYPE_NUMERIC: /* canonical text by now (execute.c), at most 41 characters */
    return (size_t)snprintf(buf, size, "%.*s", (int)v->u.s.len, v->u.s.ptr);
  case UVSQL_TYPE_ENUM: {
    int n = v->u.s.len > 60 ? 57 : (int)v->u.s.len;
    return (size_t)snprintf(buf, size, "'%.*s%s'", n, v->u.s.ptr, v->u.s.len > 60 ? "..." : "");
  }
  case UVSQL_TYPE_INTERVAL: {
    char t[72];
    uvsql_format_interval(&v->u.iv, t, sizeof t);
    return (size_t)snprintf(buf, size, "'%s'", t);
  }
  case UVSQL_TYPE_ARRAY:
    return (size_t)snprintf(buf, size, "<array of %u %s>", (unsigned)v->u.arr.n,
                            uvsql_type_name((uvsql_type_t)v->u.arr.elem));
  default: {
    char t[48];
    uvsql_format_temporal(v->type, v->u.i64, t, sizeof t);
    return (size_t)snprintf(buf, size, "'%s'", t);
  }
  }
}

void uvsql__engine_format_params(uvsql_engine_t *e, const uvsql_value_t *params, int nparams,
                                 char *line, size_t size) {
  if (e->opt.echo_hide_parameters) {
    snprintf(line, size, "[parameters hidden]");
    return;
  }
  size_t len = (size_t)snprintf(line, size, "[parameters: (");
  for (int i = 0; i < nparams && len < size - 8; i++) {
    if (i)
      len += (size_t)snprintf(line + len, size - len, ", ");
    if (len < size)
      len += format_value(&params[i], line + len, size - len);
  }
  if (len < size - 3)
    snprintf(line + len, size - len, ")]");
}

void uvsql__engine_echo(uvsql_engine_t *e, const char *sql, const uvsql_value_t *params,
                        int nparams) {
  if (!e->opt.echo)
    return;
  uvsql__engine_log(e, "%s", sql);
  if (nparams == 0)
    return;
  char line[1024];
  uvsql__engine_format_params(e, params, nparams, line, sizeof line);
  uvsql__engine_log(e, "%s", line);
}
