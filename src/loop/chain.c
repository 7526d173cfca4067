/* src/loop/chain.c — callback-style helpers on top of futures (future.h): uvsql_future_on
 * (split a future's outcome into an ok and a fail callback) and uvsql_chain (a sequence of
 * steps, each started with the previous future's value, with one error handler).
 *
 * Invariants: built only on the public future calls (then, value, error, unref); each helper
 * owns the futures it was given or that its steps returned, holds exactly one reference to
 * the current one, and releases it after the callback that reads its value has returned;
 * exactly one of the end callbacks runs, once; the helper's own state is freed before (on)
 * or right after (chain) that callback, never touched again.
 */
#include <stdlib.h>
#include "internal.h"

typedef struct on_s {
  uvsql_ok_cb ok;
  uvsql_fail_cb fail;
  void *data;
} on_t;

static void on_settled(uvsql_future_t *f, void *d) {
  on_t o = *(on_t *)d;
  free(d);
  if (uvsql_future_state(f) == UVSQL_FUTURE_RESOLVED)
    o.ok(uvsql_future_value(f), o.data);
  else
    o.fail(uvsql_future_error(f), o.data);
  uvsql_future_unref(f);
}

static void fail_now(uvsql_fail_cb fail, void *data, const char *what) {
  uvsql_error_t e;
  uvsql_error_clear(&e);
  uvsql__error_set(&e, UVSQL_ENOMEM, "%s", what);
  fail(&e, data);
}

int uvsql_future_on(uvsql_future_t *f, uvsql_ok_cb ok, uvsql_fail_cb fail, void *data) {
  if (!ok || !fail) {
    uvsql_future_unref(f);
    return UVSQL_EINVALID_ARGUMENT;
  }
  if (!f) {
    fail_now(fail, data, "out of memory: the call could not make its future");
    return UVSQL_ENOMEM;
  }
  on_t *o = malloc(sizeof *o);
  if (o) { /* filled before then(): a settled future runs on_settled inside it */
    o->ok = ok;
    o->fail = fail;
    o->data = data;
  }
  if (!o || uvsql_future_then(f, on_settled, o) != 0) {
    free(o);
    uvsql_future_unref(f);
    fail_now(fail, data, "out of memory attaching a callback (uvsql_future_on)");
    return UVSQL_ENOMEM;
  }
  return 0;
}

typedef struct chain_s {
  const uvsql_step_fn *steps;
  size_t n;
  size_t at; /* index of the future being waited for: 0 first, i + 1 steps[i]'s */
  uvsql_chain_done_cb done;
  uvsql_chain_fail_cb fail;
  void *data;
} chain_t;

static void chain_fail_code(chain_t *c, size_t step, const char *what) {
  uvsql_error_t e;
  uvsql_error_clear(&e);
  uvsql__error_set(&e, UVSQL_ENOMEM, "%s", what);
  uvsql_chain_fail_cb fail = c->fail;
  void *data = c->data;
  free(c);
  fail(&e, step, data);
}

static void chain_settled(uvsql_future_t *f, void *d) {
  chain_t *c = d;
  if (uvsql_future_state(f) != UVSQL_FUTURE_RESOLVED) {
    uvsql_chain_fail_cb fail = c->fail;
    void *data = c->data;
    size_t at = c->at;
    free(c);
    fail(uvsql_future_error(f), at, data);
    uvsql_future_unref(f);
    return;
  }
  if (c->at == c->n) {
    uvsql_chain_done_cb done = c->done;
    void *data = c->data;
    free(c);
    done(uvsql_future_value(f), data);
    uvsql_future_unref(f);
    return;
  }
  size_t i = c->at++;
  uvsql_future_t *next = c->steps[i](uvsql_future_value(f), c->data);
  uvsql_future_unref(f); /* after the step: the value was borrowed until it returned */
  if (!next) {
    chain_fail_code(c, i + 1, "out of memory: a step of the chain could not make its future");
    return;
  }
  if (uvsql_future_then(next, chain_settled, c) != 0) {
    uvsql_future_unref(next);
    chain_fail_code(c, i + 1, "out of memory attaching a callback (uvsql_chain)");
  }
}

int uvsql_chain(uvsql_future_t *first, const uvsql_step_fn *steps, size_t n,
                uvsql_chain_done_cb done, uvsql_chain_fail_cb fail, void *data) {
  if (!done || !fail || (n && !steps)) {
    uvsql_future_unref(first);
    return UVSQL_EINVALID_ARGUMENT;
  }
  chain_t *c = calloc(1, sizeof *c);
  if (!c) {
    uvsql_future_unref(first);
    return UVSQL_ENOMEM;
  }
  c->steps = steps;
  c->n = n;
  c->done = done;
  c->fail = fail;
  c->data = data;
  if (!first) {
    chain_fail_code(c, 0, "out of memory: the chain's first call could not make its future");
    return 0;
  }
  if (uvsql_future_then(first, chain_settled, c) != 0) {
    free(c);
    uvsql_future_unref(first);
    return UVSQL_ENOMEM;
  }
  return 0;
}
