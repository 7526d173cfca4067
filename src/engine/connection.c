/* src/engine/connection.c — checkout and release of a connection, and the transaction verbs
 * on it (begin/commit/rollback, savepoints).
 *
 * in_tx is this connection's own record of whether a transaction is open: set when BEGIN is
 * queued, cleared when COMMIT/ROLLBACK is queued, and restored if the command fails. The pool
 * uses it to roll back on return.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

typedef struct {
  uvsql__waiter_t waiter;
  uvsql_engine_t *engine;
  uvsql_future_t *f;
} checkout_t;

static void checkout_done(uvsql__waiter_t *w, uvsql_conn_t *c, const uvsql_error_t *err) {
  checkout_t *co = (checkout_t *)w;
  if (err) {
    uvsql__future_fail(co->f, err);
  } else if (uvsql_future_state(co->f) != UVSQL_FUTURE_PENDING) {
    uvsql__pool_release(c); /* nobody wants it any more */
  } else {
    c->timeout_set = 0; /* each checkout starts with the engine's command_timeout */
    uvsql__future_resolve(co->f, c, (uvsql_value_free_cb)NULL);
  }
  uvsql_future_unref(co->f);
  free(co);
}

static int checkout_cancel(void *data) {
  checkout_t *co = data;
  if (uvsql__pool_withdraw(co->engine, &co->waiter)) {
    uvsql__future_fail_code(co->f, UVSQL_ECANCELLED,
                            "cancelled while waiting for a pooled connection");
    uvsql_future_unref(co->f);
    free(co);
  }
  return 0;
}

uvsql_future_t *uvsql_engine_connect(uvsql_engine_t *e, uvsql_future_cb cb, void *data) {
  if (!e)
    return NULL;
  uvsql_future_t *f = uvsql__future_new(e->loop);
  checkout_t *co = calloc(1, sizeof *co);
  if (!f || !co) {
    free(co);
    if (f) {
      uvsql_error_t err;
      uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory checking out a connection");
      uvsql__future_fail_soon(f, &err);
      return uvsql__future_return(f, cb, data);
    }
    return NULL;
  }
  co->engine = e;
  co->f = uvsql_future_ref(f);
  co->waiter.cb = checkout_done;
  uvsql__future_set_canceller(f, checkout_cancel, co);
  uvsql__pool_checkout(e, &co->waiter);
  return uvsql__future_return(f, cb, data);
}

void uvsql_conn_release(uvsql_conn_t *c) {
  if (c)
    uvsql__pool_release(c);
}

void uvsql_conn_invalidate(uvsql_conn_t *c) {
  if (c && !c->invalid) {
    c->invalid = 1;
    c->engine->stats.invalidated++;
    UVSQL__POOL_EVENT(c->engine, UVSQL_EVENT_POOL_INVALIDATE, c, "uvsql_conn_invalidate");
  }
}

void uvsql_conn_set_label(uvsql_conn_t *c, const char *label) {
  if (!c)
    return;
  c->labelled = label != NULL;
  if (label)
    snprintf(c->where, sizeof c->where, "\"%s\"", label);
  else
    c->where[0] = '\0';
}

int uvsql_conn_set_timeout(uvsql_conn_t *c, double seconds) {
  if (!c || seconds != seconds || seconds > 1e9 || seconds < -1e9)
    return UVSQL_EINVALID_ARGUMENT;
  c->timeout_set = seconds >= 0;
  c->timeout = seconds >= 0 ? seconds : 0;
  return 0;
}

uvsql_engine_t *uvsql_conn_engine(const uvsql_conn_t *c) {
  return c->engine;
}

int uvsql_conn_in_transaction(const uvsql_conn_t *c) {
  return c && c->in_tx;
}

static uvsql_future_t *fail_soon(uvsql_conn_t *c, uvsql_future_cb cb, void *data, int code,
                                 const char *fmt, const char *arg) {
  uvsql_future_t *f = uvsql__future_new(c->engine->loop);
  if (!f)
    return NULL;
  uvsql_error_t err;
  uvsql__error_set(&err, code, fmt, arg);
  uvsql__future_fail_soon(f, &err);
  return uvsql__future_return(f, cb, data);
}

static uvsql_future_t *begin(uvsql_conn_t *c, uvsql_isolation_t iso, int for_write,
                             uvsql_future_cb cb, void *data) {
  if (!c)
    return NULL;
  if (c->in_tx)
    return fail_soon(c, cb, data, UVSQL_EINTERFACE,
                     "a transaction is already open on this connection%s: commit or roll it "
                     "back first, or use a savepoint",
                     "");
  uvsql_error_t err;
  const char *sql = c->engine->driver->begin_sql(iso, &err);
  if (!sql) {
    uvsql_future_t *f = uvsql__future_new(c->engine->loop);
    if (!f)
      return NULL;
    uvsql__future_fail_soon(f, &err);
    return uvsql__future_return(f, cb, data);
  }
  if (for_write && c->engine->driver->begin_write_sql)
    sql = c->engine->driver->begin_write_sql; /* the level was checked just above */
  return uvsql__conn_command(c, sql, 1, cb, data);
}

uvsql_future_t *uvsql_conn_begin(uvsql_conn_t *c, uvsql_isolation_t iso, uvsql_future_cb cb,
                                 void *data) {
  return begin(c, iso, 0, cb, data);
}

uvsql_future_t *uvsql_conn_begin_write(uvsql_conn_t *c, uvsql_isolation_t iso, uvsql_future_cb cb,
                                       void *data) {
  return begin(c, iso, 1, cb, data);
}

static uvsql_future_t *end_tx(uvsql_conn_t *c, const char *sql, uvsql_future_cb cb, void *data) {
  if (!c)
    return NULL;
  if (!c->in_tx)
    return fail_soon(c, cb, data, UVSQL_EINTERFACE,
                     "no transaction is open on this connection: nothing to %s", sql);
  return uvsql__conn_command(c, sql, 0, cb, data);
}

uvsql_future_t *uvsql_conn_commit(uvsql_conn_t *c, uvsql_future_cb cb, void *data) {
  return end_tx(c, "COMMIT", cb, data);
}

uvsql_future_t *uvsql_conn_rollback(uvsql_conn_t *c, uvsql_future_cb cb, void *data) {
  return end_tx(c, "ROLLBACK", cb, data);
}

static uvsql_future_t *savepoint_cmd(uvsql_conn_t *c, const char *verb, const char *name,
                                     uvsql_future_cb cb, void *data) {
  if (!c)
    return NULL;
  size_t n = name ? strlen(name) : 0;
  int ok = n > 0 && n <= 63 && (isalpha((unsigned char)name[0]) || name[0] == '_');
  for (size_t i = 0; ok && i < n; i++)
    ok = isalnum((unsigned char)name[i]) || name[i] == '_';
  if (!ok)
    return fail_soon(c, cb, data, UVSQL_EINVALID_ARGUMENT,
                     "savepoint name \"%s\" is not valid: use 1-63 letters, digits and '_', "
                     "starting with a letter or '_'",
                     name ? name : "(null)");
  if (!c->in_tx)
    return fail_soon(c, cb, data, UVSQL_EINTERFACE,
                     "savepoint %s needs an open transaction: call uvsql_conn_begin first", name);
  char sql[128];
  snprintf(sql, sizeof sql, "%s %s", verb, name);
  return uvsql__conn_command(c, sql, -1, cb, data);
}

uvsql_future_t *uvsql_conn_savepoint(uvsql_conn_t *c, const char *name, uvsql_future_cb cb,
                                     void *data) {
  return savepoint_cmd(c, "SAVEPOINT", name, cb, data);
}

uvsql_future_t *uvsql_conn_release_savepoint(uvsql_conn_t *c, const char *name, uvsql_future_cb cb,
                                             void *data) {
  return savepoint_cmd(c, "RELEASE SAVEPOINT", name, cb, data);
}

uvsql_future_t *uvsql_conn_rollback_to_savepoint(uvsql_conn_t *c, const char *name,
                                                 uvsql_future_cb cb, void *data) {
  return savepoint_cmd(c, "ROLLBACK TO SAVEPOINT", name, cb, data);
}
