/* src/engine/execute.c — carrying one statement through checkout, the driver and release.
 *
 * An exec_t owns: its request (given to the driver), a copy of the parameters (values and
 * their text/bytes in one allocation; a NUMERIC is checked and copied as canonical text, so a
 * driver only ever sees that form), a reference on the statement, and one reference on
 * the future it settles.
 *
 *   engine-level:  WAITING (pool checkout) --got conn--> RUNNING --done--> release, settle, free
 *   conn-level:                                          RUNNING --done--> settle, free
 *
 * A streaming exec (stream.c) is the same, with UVSQL__REQ_STREAM on its request: batches go
 * through exec_batch to the user while RUNNING, and done settles with a summary. An
 * engine-level stream takes a connection of its own (never shared: see pipeline_depth).
 *
 * Deadlines (command_timeout, uvsql_conn_set_timeout; the kit's deadlines, kit.h): when the
 * statement's timeout passes, exec_expired settles the future with UVSQL_ETIMEOUT at once and
 * the kit cancels the statement; the exec stays RUNNING until the driver's done (the real
 * result, discarded), so the connection is released only once the server is done with it.
 *
 * Invariants: the future settles exactly once (done, checkout failure, cancel while WAITING,
 * or the timeout); the exec is freed after done (or right after a failed checkout or a
 * withdrawal); the driver never sees an exec after done.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

typedef enum { EXEC_WAITING, EXEC_RUNNING } exec_stage_t;

typedef struct exec_s {
  uvsql__request_t req; /* first: the driver hands it back */
  uvsql__waiter_t waiter;
  uvsql_engine_t *engine;
  uvsql_conn_t *conn;
  uvsql_future_t *f;
  uvsql_stmt_t *stmt; /* NULL for commands */
  exec_stage_t stage;
  int auto_release;  /* engine-level: release the connection when done */
  int resolve_null;  /* commands resolve with NULL */
  int tx_on_error;   /* in_tx to restore if the command fails: -1 none */
  int streaming;     /* rows go to stream, the future gets a summary */
  int timed_out;     /* the future already failed with UVSQL_ETIMEOUT */
  uint64_t start_ns; /* instrumentation (hooks.c): when it went to the driver, 0 untimed */
  uvsql__stream_t stream;
  uvsql_value_t values[];
} exec_t;

static void exec_free(exec_t *x) {
  uvsql_stmt_free(x->stmt);
  uvsql_future_unref(x->f);
  free(x);
}

void uvsql__conn_driver_submit(uvsql_conn_t *c, uvsql__request_t *req) {
  if (!c->dl.loop)
    uvsql__kit_deadlines_init(&c->dl, c->engine->loop, c->engine->opt.cancel_timeout);
  uvsql__kit_deadlines_submit(&c->dl, c->dc, req);
}

void uvsql__conn_submit(uvsql_conn_t *c, uvsql__request_t *req) {
  if (c->inflight++ == 0)
    c->busy_since_ms = uv_now(c->engine->loop); /* the pool shares only recently busy ones */
  if (!c->where[0]) /* leak reports name the first statement of a checkout */
    snprintf(c->where, sizeof c->where, "the code whose first statement was \"%.*s%s\"",
             req->sql_len > 50 ? 50 : (int)req->sql_len, req->sql, req->sql_len > 50 ? "..." : "");
  uvsql__engine_echo(c->engine, req->sql, req->params, req->nparams);
  if ((req->flags & UVSQL__REQ_MANY) && req->nsets > 1 && c->engine->opt.echo) {
    uvsql__engine_log(c->engine, "[... and %zu more parameter sets]", req->nsets - 1);
  }
  uvsql__conn_driver_submit(c, req);
}

/* The statement's timeout passed (the kit cancels it next): its caller hears now. */
static void exec_expired(uvsql__request_t *req) {
  exec_t *x = (exec_t *)req;
  uvsql_error_t err;
  size_t n = x->req.sql_len;
  x->timed_out = 1;
  uvsql__error_set(&err, UVSQL_ETIMEOUT,
                   "the statement did not finish within its timeout of %.3g s (%s): it was "
                   "cancelled [SQL: %.*s%s]",
                   x->req.timeout,
                   x->conn && x->conn->timeout_set ? "uvsql_conn_set_timeout" : "command_timeout",
                   n > 200 ? 200 : (int)n, x->req.sql, n > 200 ? "..." : "");
  uvsql__future_fail(x->f, &err);
}

/* A database error names the statement it answers, as SQLAlchemy's do: "... [SQL: ...]" (the
 * text as sent, never the parameters' values). Errors about the connection, the pool or a
 * cancel are not about the statement and stay as they are, as does a message the driver has
 * already annotated (SQLite's). */
static const uvsql_error_t *with_statement(const uvsql_error_t *err, const char *sql, size_t n,
                                           uvsql_error_t *buf) {
  switch (err->code) {
  case UVSQL_EPROGRAMMING:
  case UVSQL_EINTEGRITY:
  case UVSQL_EDATA:
  case UVSQL_EDATABASE:
  case UVSQL_EOPERATIONAL:
  case UVSQL_EINTERNAL:
  case UVSQL_ENOT_SUPPORTED:
  case UVSQL_EINVALID_ARGUMENT:
    break;
  default:
    return err;
  }
  if (!sql || strstr(err->message, "[SQL: "))
    return err;
  *buf = *err;
  size_t len = strlen(buf->message), room = sizeof buf->message - len;
  if (room > 16)
    snprintf(buf->message + len, room, " [SQL: %.*s%s]", n > 200 ? 200 : (int)n, sql,
             n > 200 ? "..." : "");
  return buf;
}

static void exec_done(uvsql__request_t *req, uvsql_result_t *result, const uvsql_error_t *err) {
  exec_t *x = (exec_t *)req;
  uvsql_conn_t *c = x->conn;
  if (--c->inflight > 0)
    c->busy_since_ms = uv_now(c->engine->loop); /* the next request in line starts now */
  if (err) {
    if (err->code == UVSQL_EDISCONNECT) {
      c->in_tx = 0;
      uvsql__pool_disconnected(c);
    } else if (x->tx_on_error >= 0) {
      c->in_tx = x->tx_on_error;
    }
  }
  uvsql_error_t annotated, which;
  if (err && (x->req.flags & UVSQL__REQ_MANY) && x->req.many_failed != -2 &&
      err->code != UVSQL_ETIMEOUT && err->code != UVSQL_ECANCELLED &&
      err->code != UVSQL_EDISCONNECT && err->code != UVSQL_ECLOSED) {
    which = *err;
    if (x->req.many_failed >= 0)
      snprintf(which.message, sizeof which.message,
               "executemany: parameter set %ld of %zu failed (sets are counted from 0; outside a "
               "transaction none was written): %.380s",
               x->req.many_failed, x->req.nsets, err->message);
    else
      snprintf(which.message, sizeof which.message,
               "executemany: one of the %zu parameter sets failed (%s does not say which; "
               "outside a transaction none was written): %.380s",
               x->req.nsets, c->engine->driver->name, err->message);
    err = &which;
  }
  if (err)
    err = with_statement(err, x->req.sql, x->req.sql_len, &annotated);
  if (c->engine->hooks) /* after_execute, before the connection goes back (checkin) */
    uvsql__hooks_after(c->engine, c, &x->req, result, err, x->start_ns);
  if (x->auto_release)
    uvsql__pool_release(c);
  else
    uvsql__pool_after_request(c);
  if (x->timed_out) {
    uvsql_result_free(result); /* the caller was told at the timeout */
  } else if (x->streaming) {
    uvsql_result_free(result);
    uvsql__stream_settle(&x->stream, x->f, err);
  } else if (err) {
    uvsql__future_fail(x->f, err);
  } else if (x->resolve_null) {
    uvsql_result_free(result);
    uvsql__future_resolve(x->f, NULL, NULL);
  } else {
    uvsql__future_resolve(x->f, result, (uvsql_value_free_cb)uvsql_result_free);
  }
  exec_free(x);
}

static int exec_batch(uvsql__request_t *req, uvsql_result_t *rows) {
  exec_t *x = (exec_t *)req;
  return uvsql__stream_batch(&x->stream, rows);
}

static void exec_run(exec_t *x, uvsql_conn_t *c) {
  x->conn = c;
  x->stage = EXEC_RUNNING;
  if (!x->streaming) { /* a stream's length is its consumer's business */
    x->req.timeout = c->timeout_set ? c->timeout : c->engine->opt.command_timeout;
    x->req.expired = exec_expired;
  }
  if (c->engine->hooks)
    x->start_ns = uvsql__hooks_before(c->engine, c, &x->req);
  uvsql__conn_submit(c, &x->req);
}

static void exec_got_conn(uvsql__waiter_t *w, uvsql_conn_t *c, const uvsql_error_t *err) {
  exec_t *x = (exec_t *)((char *)w - offsetof(exec_t, waiter));
  if (err) {
    uvsql__future_fail(x->f, err);
    exec_free(x);
    return;
  }
  exec_run(x, c);
}

static int exec_cancel(void *data) {
  exec_t *x = data;
  if (x->stage == EXEC_WAITING) {
    if (uvsql__pool_withdraw(x->engine, &x->waiter)) {
      uvsql__future_fail_code(x->f, UVSQL_ECANCELLED,
                              "cancelled while waiting for a pooled connection");
      exec_free(x);
    }
    return 0;
  }
  return uvsql__kit_deadlines_cancel(&x->conn->dl, x->conn->dc, &x->req);
}

/* Builds an exec for stmt (compiled for the engine's dialect) or for a fixed command. nsets > 1
 * (executemany): params holds nsets runs of nparams, bound one after the other. */
static exec_t *exec_new(uvsql_engine_t *e, uvsql_stmt_t *stmt, const char *command,
                        const uvsql_param_t *params, size_t nparams, size_t nsets,
                        uvsql_error_t *err) {
  const uvsql__compiled_t *cp = NULL;
  size_t nph = 0, bytes = 0, many = nsets; /* 0: an ordinary statement */
  if (nsets == 0)
    nsets = 1;
  if (stmt) {
    cp = uvsql__stmt_compile(stmt, e->driver->paramstyle);
    if (!cp) {
      uvsql__error_set(err, UVSQL_ENOMEM, "out of memory compiling a statement");
      return NULL;
    }
    nph = (size_t)cp->nplaceholders;
    if (nph > (size_t)e->driver->max_params) {
      uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                       "the statement has %zu placeholders; %s allows at most %d: split it", nph,
                       e->driver->name, e->driver->max_params);
      return NULL;
    }
  }
  if (nph && nsets > (SIZE_MAX / 2 / sizeof(uvsql_value_t)) / nph) {
    uvsql__error_set(err, UVSQL_ENOMEM, "out of memory queuing %zu parameter sets", nsets);
    return NULL;
  }
  for (size_t i = 0; i < nparams * nsets; i++) {
    uvsql_type_t t = params[i].value.type;
    char why[160];
    if (!uvsql__type_known(t)) {
      uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                       "parameter :%s has an unknown value type %d: build "
                       "values with the UVSQL_V_* macros (value.h)",
                       params[i].name ? params[i].name : "?", (int)t);
      return NULL;
    }
    if (!uvsql__value_check(&params[i].value, why, sizeof why)) {
      uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT, "parameter :%s: %s",
                       params[i].name ? params[i].name : "?", why);
      return NULL;
    }
    if (t == UVSQL_TYPE_NUMERIC) {
      /* checked here, sent as canonical text (uvsql_numeric_format), the same to every backend */
      uvsql_numeric_t n;
      const uvsql_value_t *v = &params[i].value;
      if (!v->u.s.ptr || uvsql__value_numeric(v, &n) != 0) {
        uvsql__error_set(err, UVSQL_EDATA,
                         "parameter :%s: \"%.*s\" is not a decimal number of at most 38 digits "
                         "(uvsql_numeric_parse): write it as \"-123.45\"",
                         params[i].name ? params[i].name : "?",
                         v->u.s.ptr ? (int)(v->u.s.len > 60 ? 60 : v->u.s.len) : 0,
                         v->u.s.ptr ? v->u.s.ptr : "");
        return NULL;
      }
      bytes += UVSQL_NUMERIC_TEXT_SIZE;
    } else {
      bytes += uvsql__value_extra(&params[i].value);
    }
  }
  if (command)
    bytes += strlen(command) + 1;
  exec_t *x = calloc(1, sizeof *x + nsets * nph * sizeof x->values[0] + bytes);
  if (!x) {
    uvsql__error_set(err, UVSQL_ENOMEM, "out of memory queuing a statement");
    return NULL;
  }
  x->engine = e;
  x->tx_on_error = -1;
  if (stmt) {
    /* Copy borrowed text and bytes into the exec: the caller's buffers may go away now. With
     * ? placeholders a name can stand several times: its value is copied once and shared
     * (first[] maps a name to its first placeholder; other styles never repeat one). */
    int repeats = e->driver->paramstyle == UVSQL__PARAMSTYLE_QMARK && (size_t)nph > stmt->nnames;
    int stack_first[64], *first = NULL;
    if (repeats) {
      first = stmt->nnames <= 64 ? stack_first : malloc(stmt->nnames * sizeof *first);
      if (!first) {
        uvsql__error_set(err, UVSQL_ENOMEM, "out of memory queuing a statement");
        free(x);
        return NULL;
      }
    }
    char *store = (char *)(x->values + nsets * nph);
    for (size_t set = 0; set < nsets; set++) {
      uvsql_value_t *vals = x->values + set * nph;
      if (uvsql__stmt_bind(stmt, cp, params + set * nparams, nparams, vals, err) != 0) {
        if (nsets > 1) {
          char msg[sizeof err->message];
          snprintf(msg, sizeof msg, "%s", err->message);
          uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT, "parameter set %zu of %zu: %s", set, nsets,
                           msg);
        }
        if (first != stack_first)
          free(first);
        free(x);
        return NULL;
      }
      /* A JSON value is checked here, the one door every statement passes, so that a broken
       * document never reaches a server (SQLite would store it as it is). */
      for (size_t i = 0; i < nph; i++) {
        const uvsql_value_t *v = &vals[i];
        uvsql_error_t jerr;
        if (v->type == UVSQL_TYPE_JSON && uvsql_json_validate(v->u.s.ptr, v->u.s.len, &jerr) != 0) {
          if (nsets > 1)
            uvsql__error_set(err, jerr.code,
                             "parameter set %zu of %zu: parameter %zu is not a JSON document: %s",
                             set, nsets, i + 1, jerr.message);
          else
            uvsql__error_set(err, jerr.code, "parameter %zu is not a JSON document: %s", i + 1,
                             jerr.message);
          if (first != stack_first)
            free(first);
          free(x);
          return NULL;
        }
      }
      for (size_t k = 0; repeats && k < stmt->nnames; k++)
        first[k] = -1;
      for (size_t i = 0; i < nph; i++) {
        uvsql_value_t *v = &vals[i];
        if (!uvsql__value_is_str(v) && v->type != UVSQL_TYPE_ARRAY && v->type != UVSQL_TYPE_NUMERIC)
          continue;
        if (repeats) {
          int name = cp->order[i];
          if (first[name] >= 0) {
            *v = vals[first[name]];
            continue;
          }
          first[name] = (int)i;
        }
        if (v->type == UVSQL_TYPE_NUMERIC) { /* parsed above: it parses */
          uvsql_numeric_t n;
          (void)uvsql__value_numeric(v, &n);
          v->u.s.len = uvsql_numeric_format(&n, store, UVSQL_NUMERIC_TEXT_SIZE);
          v->u.s.ptr = store;
          store += v->u.s.len + 1;
          continue;
        }
        uvsql__value_own(v, &store);
      }
    }
    if (first != stack_first)
      free(first);
    x->stmt = uvsql__stmt_ref(stmt);
    x->req.sql = cp->sql;
    x->req.sql_len = cp->len;
    x->req.params = x->values;
    x->req.nparams = (int)nph;
    if (many) {
      x->req.flags |= UVSQL__REQ_MANY;
      x->req.nsets = nsets;
      x->req.many_failed = -1;
    }
  } else if (command) { /* always, without a statement (said so for gcc -O3's -Wnonnull) */
    char *copy = (char *)(x->values + nph); /* the caller's text may be on its stack */
    x->req.sql_len = strlen(command);
    memcpy(copy, command, x->req.sql_len + 1);
    x->req.sql = copy;
    x->req.flags = UVSQL__REQ_NO_PREPARE;
    x->resolve_null = 1;
  }
  x->req.done = exec_done;
  x->req.data = x;
  x->f = uvsql__future_new(e->loop);
  if (!x->f) {
    uvsql__error_set(err, UVSQL_ENOMEM, "out of memory queuing a statement");
    uvsql_stmt_free(x->stmt);
    free(x);
    return NULL;
  }
  uvsql__future_set_canceller(x->f, exec_cancel, x);
  return x;
}

/* A future already failed with err, settled from the loop. */
static uvsql_future_t *failed(uv_loop_t *loop, const uvsql_error_t *err, uvsql_future_cb cb,
                              void *data) {
  uvsql_future_t *f = uvsql__future_new(loop);
  if (!f)
    return NULL;
  uvsql__future_fail_soon(f, err);
  return uvsql__future_return(f, cb, data);
}

static int conn_usable(uvsql_conn_t *c, uvsql_error_t *err) {
  if ((c->state != UVSQL__CONN_CHECKED_OUT && c->state != UVSQL__CONN_HOOKING) ||
      c->release_pending)
    return uvsql__error_set(err, UVSQL_ECLOSED,
                            "the connection was released to the pool: check out another one "
                            "with uvsql_engine_connect");
  return 0;
}

/* nsets: 0 for one statement, else executemany's parameter sets (>= 1). */
static uvsql_future_t *exec_start(uvsql_engine_t *e, uvsql_conn_t *c, uvsql_stmt_t *stmt,
                                  const uvsql_param_t *params, size_t nparams, size_t nsets,
                                  const uvsql__stream_t *stream, uvsql_future_cb cb, void *data) {
  uvsql_error_t err;
  uv_loop_t *loop = e->loop;
  if (!stmt || (nparams && !params)) {
    uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT,
                     "%s: a statement is required (and params when nparams > 0)",
                     nsets ? (c ? "uvsql_conn_execute_many" : "uvsql_engine_execute_many")
                           : (c ? "uvsql_conn_execute" : "uvsql_engine_execute"));
    return failed(loop, &err, cb, data);
  }
  if (c && conn_usable(c, &err) != 0)
    return failed(loop, &err, cb, data);
  exec_t *x = exec_new(e, stmt, NULL, params, nparams, nsets, &err);
  if (!x)
    return failed(loop, &err, cb, data);
  if (stream) {
    x->streaming = 1;
    x->stream = *stream;
    x->req.flags |= UVSQL__REQ_STREAM;
    x->req.batch = exec_batch;
    x->req.batch_rows = stream->batch_rows;
  }
  uvsql_future_t *f = uvsql_future_ref(x->f); /* the caller's (or cb's) reference */
  if (c) {
    exec_run(x, c);
  } else {
    x->auto_release = 1;
    x->stage = EXEC_WAITING;
    x->waiter.cb = exec_got_conn;
    /* a stream holds its connection to itself: nothing else may wait behind its rows */
    x->waiter.shareable = !stream && !nsets && e->opt.pipeline_depth > 1;
    uvsql__pool_checkout(e, &x->waiter);
  }
  return uvsql__future_return(f, cb, data);
}

uvsql_future_t *uvsql__exec_start(uvsql_engine_t *e, uvsql_conn_t *c, uvsql_stmt_t *stmt,
                                  const uvsql_param_t *params, size_t nparams,
                                  const uvsql__stream_t *stream, uvsql_future_cb cb, void *data) {
  return exec_start(e, c, stmt, params, nparams, 0, stream, cb, data);
}

/* executemany of no sets: nothing to run, a result of 0 rows affected. */
static uvsql_future_t *many_of_none(uv_loop_t *loop, uvsql_stmt_t *stmt, uvsql_future_cb cb,
                                    void *data) {
  uvsql_error_t err;
  uvsql_result_t *r;
  if (!stmt) {
    uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT, "executemany: a statement is required");
    return failed(loop, &err, cb, data);
  }
  uvsql_future_t *f = uvsql__future_new(loop);
  if (!f)
    return NULL;
  if (!(r = uvsql__result_new(0))) {
    uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory");
    uvsql__future_fail_soon(f, &err);
  } else {
    uvsql__result_set_rows_affected(r, 0);
    uvsql__future_resolve_soon(f, r, (uvsql_value_free_cb)uvsql_result_free);
  }
  return uvsql__future_return(f, cb, data);
}

uvsql_future_t *uvsql_engine_execute_many(uvsql_engine_t *e, uvsql_stmt_t *stmt,
                                          const uvsql_param_t *params, size_t nparams_per_set,
                                          size_t nsets, uvsql_future_cb cb, void *data) {
  if (!e)
    return NULL;
  if (nsets == 0)
    return many_of_none(e->loop, stmt, cb, data);
  return exec_start(e, NULL, stmt, params, nparams_per_set, nsets, NULL, cb, data);
}

uvsql_future_t *uvsql_conn_execute_many(uvsql_conn_t *c, uvsql_stmt_t *stmt,
                                        const uvsql_param_t *params, size_t nparams_per_set,
                                        size_t nsets, uvsql_future_cb cb, void *data) {
  uvsql_error_t err;
  if (!c)
    return NULL;
  if (conn_usable(c, &err) != 0)
    return failed(c->engine->loop, &err, cb, data);
  if (nsets == 0)
    return many_of_none(c->engine->loop, stmt, cb, data);
  return exec_start(c->engine, c, stmt, params, nparams_per_set, nsets, NULL, cb, data);
}

uvsql_future_t *uvsql_engine_execute(uvsql_engine_t *e, uvsql_stmt_t *stmt,
                                     const uvsql_param_t *params, size_t nparams,
                                     uvsql_future_cb cb, void *data) {
  if (!e)
    return NULL;
  return uvsql__exec_start(e, NULL, stmt, params, nparams, NULL, cb, data);
}

uvsql_future_t *uvsql_engine_execute_sql(uvsql_engine_t *e, const char *sql,
                                         const uvsql_param_t *params, size_t nparams,
                                         uvsql_future_cb cb, void *data) {
  uvsql_error_t err;
  uvsql_stmt_t *stmt;
  if (!e)
    return NULL;
  if (uvsql_text(&stmt, sql, &err) != 0)
    return failed(e->loop, &err, cb, data);
  uvsql_future_t *f = uvsql_engine_execute(e, stmt, params, nparams, cb, data);
  uvsql_stmt_free(stmt); /* the exec holds its own reference */
  return f;
}

uvsql_future_t *uvsql_conn_execute(uvsql_conn_t *c, uvsql_stmt_t *stmt, const uvsql_param_t *params,
                                   size_t nparams, uvsql_future_cb cb, void *data) {
  if (!c)
    return NULL;
  return uvsql__exec_start(c->engine, c, stmt, params, nparams, NULL, cb, data);
}

uvsql_future_t *uvsql_conn_execute_sql(uvsql_conn_t *c, const char *sql,
                                       const uvsql_param_t *params, size_t nparams,
                                       uvsql_future_cb cb, void *data) {
  uvsql_error_t err;
  uvsql_stmt_t *stmt;
  if (!c)
    return NULL;
  if (uvsql_text(&stmt, sql, &err) != 0)
    return failed(c->engine->loop, &err, cb, data);
  uvsql_future_t *f = uvsql_conn_execute(c, stmt, params, nparams, cb, data);
  uvsql_stmt_free(stmt);
  return f;
}

/* tx_effect: in_tx after submission (0 or 1), or -1 to leave it; on failure in_tx returns
 * to its old value (a failed COMMIT on PostgreSQL has ended the transaction, which the
 * driver's error tells; we keep it simple: failed BEGIN -> 0, failed COMMIT/ROLLBACK -> 0). */
uvsql_future_t *uvsql__conn_command(uvsql_conn_t *c, const char *sql, int tx_effect,
                                    uvsql_future_cb cb, void *data) {
  uvsql_error_t err;
  if (conn_usable(c, &err) != 0)
    return failed(c->engine->loop, &err, cb, data);
  exec_t *x = exec_new(c->engine, NULL, sql, NULL, 0, 0, &err);
  if (!x)
    return failed(c->engine->loop, &err, cb, data);
  if (tx_effect >= 0) {
    x->tx_on_error = 0;
    c->in_tx = tx_effect;
  }
  uvsql_future_t *f = uvsql_future_ref(x->f);
  exec_run(x, c);
  return uvsql__future_return(f, cb, data);
}
