/* src/loop/future.c — futures: settle once, callbacks in attach order, reference counted.
 *
 * States:   PENDING --resolve()--> RESOLVED
 *                   --fail()-----> FAILED | CANCELLED (err->code == UVSQL_ECANCELLED)
 * Invariants:
 *  1. A future leaves PENDING once; later resolve/fail calls are ignored (a late value is
 *     freed at once).
 *  2. Callbacks run on the loop thread, in the order attached; each exactly once. A callback
 *     attached with unref_after owns one reference, dropped right after it runs.
 *  3. The future stays alive while its callbacks run (dispatch holds a reference).
 *  4. The first callback slot is inline, so uvsql__future_return never allocates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

typedef struct cb_entry_s {
  uvsql_future_cb cb;
  void *data;
  int unref_after;
  struct cb_entry_s *next;
} cb_entry_t;

struct uvsql_future_s {
  uv_loop_t *loop;
  int refs;
  uvsql_future_state_t state;
  void *value;
  uvsql_value_free_cb value_free;
  uvsql__cancel_fn cancel;
  void *cancel_data;
  int inline_used;
  cb_entry_t first;
  cb_entry_t *head, *tail; /* attach order; may include &first */
  int waiting;             /* uvsql_future_wait calls running the loop for it */
  uvsql_error_t error;
};

uvsql_future_t *uvsql__future_new(uv_loop_t *loop) {
  uvsql_future_t *f = calloc(1, sizeof *f);
  if (!f)
    return NULL;
  f->loop = loop;
  f->refs = 1;
  return f;
}

uvsql_future_t *uvsql_future_ref(uvsql_future_t *f) {
  if (f)
    f->refs++;
  return f;
}

static void future_free(uvsql_future_t *f) {
  if (f->value && f->value_free)
    f->value_free(f->value);
  cb_entry_t *e = f->head;
  while (e) { /* only when freed while pending: entries never ran */
    cb_entry_t *next = e->next;
    if (e != &f->first)
      free(e);
    e = next;
  }
  free(f);
}

void uvsql_future_unref(uvsql_future_t *f) {
  if (f && --f->refs == 0)
    future_free(f);
}

uvsql_future_state_t uvsql_future_state(const uvsql_future_t *f) {
  return f->state;
}

uv_loop_t *uvsql_future_loop(const uvsql_future_t *f) {
  return f->loop;
}

void *uvsql_future_value(const uvsql_future_t *f) {
  return f->state == UVSQL_FUTURE_RESOLVED ? f->value : NULL;
}

void *uvsql_future_take(uvsql_future_t *f) {
  if (f->state != UVSQL_FUTURE_RESOLVED)
    return NULL;
  void *v = f->value;
  f->value = NULL;
  f->value_free = NULL;
  return v;
}

const uvsql_error_t *uvsql_future_error(const uvsql_future_t *f) {
  if (f->state == UVSQL_FUTURE_FAILED || f->state == UVSQL_FUTURE_CANCELLED)
    return &f->error;
  return NULL;
}

static void run_entry(uvsql_future_t *f, cb_entry_t *e) {
  uvsql_future_cb cb = e->cb;
  void *data = e->data;
  int unref_after = e->unref_after;
  if (e != &f->first)
    free(e);
  cb(f, data);
  if (unref_after)
    uvsql_future_unref(f);
}

static void dispatch(uvsql_future_t *f) {
  /* Settled from a timer or idle callback, uv_run(UV_RUN_ONCE) would still block in its poll
   * phase until some unrelated event: uv_stop makes that poll return at once. */
  if (f->waiting)
    uv_stop(f->loop);
  f->refs++;
  f->cancel = NULL;
  f->cancel_data = NULL;
  /* Callbacks attached while dispatching are appended and run in this same pass. */
  while (f->head) {
    cb_entry_t *e = f->head;
    f->head = e->next;
    if (!f->head)
      f->tail = NULL;
    run_entry(f, e);
  }
  uvsql_future_unref(f);
}

void uvsql__future_resolve(uvsql_future_t *f, void *value, uvsql_value_free_cb free_cb) {
  if (f->state != UVSQL_FUTURE_PENDING) {
    if (value && free_cb)
      free_cb(value);
    return;
  }
  f->state = UVSQL_FUTURE_RESOLVED;
  f->value = value;
  f->value_free = free_cb;
  dispatch(f);
}

void uvsql__future_fail(uvsql_future_t *f, const uvsql_error_t *err) {
  if (f->state != UVSQL_FUTURE_PENDING)
    return;
  if (err)
    f->error = *err;
  else
    uvsql__error_set(&f->error, UVSQL_EINTERNAL, "operation failed without an error");
  if (f->error.code == 0)
    f->error.code = UVSQL_EINTERNAL;
  f->state = f->error.code == UVSQL_ECANCELLED ? UVSQL_FUTURE_CANCELLED : UVSQL_FUTURE_FAILED;
  dispatch(f);
}

void uvsql__future_fail_code(uvsql_future_t *f, int code, const char *fmt, ...) {
  uvsql_error_t err;
  va_list ap;
  uvsql_error_clear(&err);
  err.code = code;
  va_start(ap, fmt);
  vsnprintf(err.message, sizeof err.message, fmt, ap);
  va_end(ap);
  uvsql__future_fail(f, &err);
}

typedef struct {
  uvsql_future_t *f;
  int failed;
  void *value;
  uvsql_value_free_cb free_cb;
  uvsql_error_t err;
} soon_t;

static void soon_run(void *data) {
  soon_t *s = data;
  if (s->failed)
    uvsql__future_fail(s->f, &s->err);
  else
    uvsql__future_resolve(s->f, s->value, s->free_cb);
  uvsql_future_unref(s->f);
  free(s);
}

static void settle_soon(uvsql_future_t *f, int failed, void *value, uvsql_value_free_cb free_cb,
                        const uvsql_error_t *err) {
  soon_t *s = malloc(sizeof *s);
  if (s) {
    s->f = uvsql_future_ref(f);
    s->failed = failed;
    s->value = value;
    s->free_cb = free_cb;
    if (err)
      s->err = *err;
    if (uvsql__defer(f->loop, soon_run, s) == 0)
      return;
    uvsql_future_unref(f);
    free(s);
  }
  /* No memory for deferring: settle now rather than lose the outcome. */
  if (failed)
    uvsql__future_fail(f, err);
  else
    uvsql__future_resolve(f, value, free_cb);
}

void uvsql__future_fail_soon(uvsql_future_t *f, const uvsql_error_t *err) {
  settle_soon(f, 1, NULL, NULL, err);
}

void uvsql__future_resolve_soon(uvsql_future_t *f, void *value, uvsql_value_free_cb free_cb) {
  settle_soon(f, 0, value, free_cb, NULL);
}

void uvsql__future_set_canceller(uvsql_future_t *f, uvsql__cancel_fn fn, void *data) {
  if (f->state != UVSQL_FUTURE_PENDING)
    return;
  f->cancel = fn;
  f->cancel_data = data;
}

static int attach(uvsql_future_t *f, uvsql_future_cb cb, void *data, int unref_after) {
  cb_entry_t *e;
  if (!f->inline_used) {
    f->inline_used = 1;
    e = &f->first;
  } else if (!(e = malloc(sizeof *e))) {
    return UVSQL_ENOMEM;
  }
  e->cb = cb;
  e->data = data;
  e->unref_after = unref_after;
  e->next = NULL;
  if (f->state != UVSQL_FUTURE_PENDING && !f->head) {
    run_entry(f, e);
    return 0;
  }
  if (f->tail)
    f->tail->next = e;
  else
    f->head = e;
  f->tail = e;
  return 0;
}

int uvsql_future_then(uvsql_future_t *f, uvsql_future_cb cb, void *data) {
  if (!f || !cb)
    return UVSQL_EINVALID_ARGUMENT;
  return attach(f, cb, data, 0);
}

uvsql_future_t *uvsql__future_return(uvsql_future_t *f, uvsql_future_cb cb, void *data) {
  if (cb && attach(f, cb, data, 1) != 0) {
    /* Only when the inline slot is taken and malloc fails: fail the future so the caller
     * learns of it, and keep the callback contract by handing the reference over anyway. */
    uvsql__future_fail_code(f, UVSQL_ENOMEM, "out of memory attaching a callback");
  }
  return f;
}

uvsql_future_t *uvsql__future_refused(uv_loop_t *loop, uvsql_future_cb cb, void *data, int code,
                                      const char *fmt, ...) {
  uvsql_future_t *f = uvsql__future_new(loop);
  if (!f)
    return NULL;
  uvsql_error_t err;
  va_list ap;
  uvsql_error_clear(&err);
  err.code = code;
  va_start(ap, fmt);
  vsnprintf(err.message, sizeof err.message, fmt, ap);
  va_end(ap);
  uvsql__future_fail_soon(f, &err);
  return uvsql__future_return(f, cb, data);
}

int uvsql_future_cancel(uvsql_future_t *f) {
  if (!f || f->state != UVSQL_FUTURE_PENDING)
    return UVSQL_EINVALID_ARGUMENT;
  uvsql__cancel_fn fn = f->cancel;
  if (fn) {
    f->refs++;
    int rc = fn(f->cancel_data);
    uvsql_future_unref(f);
    return rc;
  }
  uvsql__future_fail_code(f, UVSQL_ECANCELLED, "cancelled by the caller");
  return 0;
}

/* uv_run(UV_RUN_ONCE) runs due timers before it polls, then may block in the poll: a future
 * settled by a timer would leave it asleep while other handles (a server socket) keep the
 * loop alive. Stopping the loop when the future settles makes that poll return at once. */
static void wait_settled(uvsql_future_t *f, void *data) {
  (void)data;
  uv_stop(f->loop);
}

int uvsql_future_wait(uvsql_future_t *f) {
  if (!f)
    return UVSQL_EINVALID_ARGUMENT;
  if (f->state == UVSQL_FUTURE_PENDING)
    (void)uvsql_future_then(f, wait_settled, NULL); /* out of memory: waits as before */
  f->refs++;
  f->waiting++;
  while (f->state == UVSQL_FUTURE_PENDING) {
    if (uv_run(f->loop, UV_RUN_ONCE) == 0 && f->state == UVSQL_FUTURE_PENDING &&
        !uv_loop_alive(f->loop)) {
      f->waiting--;
      uvsql_future_unref(f);
      return UVSQL_EINTERFACE; /* nothing left on the loop can settle it */
    }
  }
  f->waiting--;
  int rc = f->state == UVSQL_FUTURE_RESOLVED ? 0 : f->error.code;
  uvsql_future_unref(f);
  return rc;
}

/* ------------------------------------------------------------------ uvsql_future_all
 * While inputs are being attached (some may have settled already), the outcome is only
 * recorded; the result settles from the loop afterwards, so a callback given to
 * uvsql_future_all never runs before it returns. After that, the first failure settles the
 * result at once and the last success resolves it. */

typedef struct {
  uvsql_future_t *result;
  size_t remaining, n;
  int attaching;
  int failed; /* first error recorded in err */
  uvsql_error_t err;
  uvsql_future_t *inputs[];
} all_t;

static void all_free(all_t *a) {
  for (size_t i = 0; i < a->n; i++)
    uvsql_future_unref(a->inputs[i]);
  uvsql_future_unref(a->result);
  free(a);
}

static void all_input_settled(uvsql_future_t *in, void *data) {
  all_t *a = data;
  if (in->state != UVSQL_FUTURE_RESOLVED && !a->failed) {
    a->failed = 1;
    a->err = in->error;
    if (!a->attaching)
      uvsql__future_fail(a->result, &a->err);
  }
  if (--a->remaining == 0 && !a->attaching) {
    if (a->failed) /* settles now if a deferred failure has not run yet */
      uvsql__future_fail(a->result, &a->err);
    else
      uvsql__future_resolve(a->result, NULL, NULL);
    all_free(a);
  }
}

static int all_cancel(void *data) {
  all_t *a = data;
  for (size_t i = 0; i < a->n; i++)
    if (a->inputs[i]->state == UVSQL_FUTURE_PENDING)
      uvsql_future_cancel(a->inputs[i]);
  return 0;
}

uvsql_future_t *uvsql_future_all(uv_loop_t *loop, uvsql_future_t **futures, size_t n,
                                 uvsql_future_cb cb, void *data) {
  uvsql_future_t *f = uvsql__future_new(loop);
  if (!f)
    return NULL;
  all_t *a = n ? calloc(1, sizeof *a + n * sizeof a->inputs[0]) : NULL;
  if (n == 0 || !a) {
    if (n == 0) {
      uvsql__future_resolve_soon(f, NULL, NULL);
    } else {
      uvsql_error_t err;
      uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory joining %zu futures", n);
      uvsql__future_fail_soon(f, &err);
    }
    return uvsql__future_return(f, cb, data);
  }
  a->result = uvsql_future_ref(f);
  a->remaining = n;
  a->n = n;
  a->attaching = 1;
  for (size_t i = 0; i < n; i++)
    a->inputs[i] = uvsql_future_ref(futures[i]);
  for (size_t i = 0; i < n; i++) {
    if (uvsql_future_then(a->inputs[i], all_input_settled, a) != 0) {
      if (!a->failed) { /* out of memory: count this input as failed */
        a->failed = 1;
        uvsql__error_set(&a->err, UVSQL_ENOMEM, "out of memory joining futures");
      }
      a->remaining--;
    }
  }
  a->attaching = 0;
  if (a->remaining == 0) { /* everything had settled already */
    if (a->failed)
      uvsql__future_fail_soon(f, &a->err);
    else
      uvsql__future_resolve_soon(f, NULL, NULL);
    all_free(a);
  } else if (a->failed) {
    uvsql__future_fail_soon(f, &a->err);
    uvsql__future_set_canceller(f, all_cancel, a);
  } else {
    uvsql__future_set_canceller(f, all_cancel, a);
  }
  return uvsql__future_return(f, cb, data);
}
