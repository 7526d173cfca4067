/* src/orm/stream.c — uvsql_session_stream (SQLAlchemy's AsyncSession.stream with yield_per):
 * an ORM select whose rows come from the engine's streamed results (uvsql_conn_stream_core)
 * batch by batch, become objects through the identity map, go to the caller's callback, and
 * are released again (expunged and freed) unless the caller kept them.
 *
 * A stream is a custom session operation (session.c): start() asks for the transaction
 * (autobegin, autoflush), run() starts the engine stream on the session's connection, and
 * the engine future's callback ends the operation.
 *
 * Invariants:
 *  1. The objects a batch brought into the session are exactly those appended to s->owned
 *     while the batch loaded (uvsql__session_own appends): the ones after the tail before the
 *     load, listed in `fresh` before on_batch runs. Objects the session had before are never
 *     released.
 *  2. After on_batch returns, each of them that is still the session's is released unless it
 *     is marked UVSQL__OF_KEEP, modified or marked for deletion; the KEEP marks are cleared.
 *     (One on_batch expunged is the caller's: it must not free it before returning.) So the
 *     identity map grows only by kept objects: memory is bounded by a batch plus what the
 *     caller keeps.
 *  3. Once a batch fails to load (or on_batch asks to stop), no batch is delivered again;
 *     the operation ends when the engine's future settles, with the load error if any.
 *  4. Once the caller cancelled the stream's future (uvsql__session_custom_abandoned), on_batch
 *     is never called again: the engine stream is stopped (or never started).
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

typedef struct {
  uvsql_session_t *s;
  uvsql_mapper_t *m;
  uvsql_core_stmt_t *select; /* borrowed from the caller */
  uvsql_param_t *params;     /* one block (uvsql__params_copy) */
  size_t nparams, batch_rows;
  uvsql_orm_batch_cb on_batch;
  void *batch_data;
  int failed; /* a batch could not be loaded: err (invariant 3) */
  uvsql_error_t err;
  uvsql__obj_t **fresh; /* the batch's new objects (invariant 1), room for batch_rows */
  size_t cap;
} stream_t;

static void stream_free(void *p) {
  stream_t *x = p;
  free(x->params);
  free(x->fresh);
  free(x);
}

/* Invariant 2: the batch's own objects that nobody kept leave the session. */
static void release(uvsql_session_t *s, uvsql__obj_t **fresh, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uvsql__obj_t *h = fresh[i];
    if (h->session != s) /* expunged by on_batch: the caller's */
      continue;
    if (h->flags & UVSQL__OF_KEEP)
      h->flags &= (uint8_t)~UVSQL__OF_KEEP;
    else if (!uvsql_session_is_modified(s, h->body) && uvsql_session_expunge(s, h->body) == 0)
      uvsql__obj_destroy(h);
  }
}

/* The objects owned after mark (the tail before the load) into x->fresh; their count. */
static size_t list_fresh(stream_t *x, uvsql__obj_t *mark) {
  size_t n = 0;
  for (uvsql__obj_t *h = mark ? mark->next : x->s->owned; h; h = h->next)
    n++;
  if (n > x->cap) {
    uvsql__obj_t **v = realloc(x->fresh, n * sizeof *v);
    if (!v)
      return SIZE_MAX;
    x->fresh = v;
    x->cap = n;
  }
  n = 0;
  for (uvsql__obj_t *h = mark ? mark->next : x->s->owned; h; h = h->next)
    x->fresh[n++] = h;
  return n;
}

static int on_rows(const uvsql_result_t *rows, void *data) {
  stream_t *x = data;
  uvsql_session_t *s = x->s;
  if (x->failed || uvsql__session_custom_abandoned(s))
    return 1;                         /* invariants 3 and 4 */
  uvsql__obj_t *mark = s->owned_tail; /* invariant 1 */
  void **objs;
  size_t n;
  int rc = uvsql__session_load(s, x->m, rows, &objs, &n, s->populate, &x->err);
  size_t nfresh = list_fresh(x, mark);
  if (nfresh == SIZE_MAX) { /* out of memory: the batch's objects cannot be told apart */
    if (rc == 0)
      free(objs);
    x->failed = 1;
    uvsql__error_set(&x->err, UVSQL_ENOMEM, "uvsql_session_stream: out of memory");
    return 1;
  }
  if (rc) {
    x->failed = 1;
    release(s, x->fresh, nfresh);
    return 1;
  }
  int stop = x->on_batch(s, objs, n, x->batch_data);
  free(objs);
  release(s, x->fresh, nfresh);
  return stop || uvsql__session_custom_abandoned(s); /* invariant 4 */
}

static void streamed(uvsql_future_t *f, void *data) {
  stream_t *x = data;
  const uvsql_error_t *ferr = uvsql_future_error(f);
  if (x->failed) {
    uvsql_error_t err = x->err;
    uvsql__session_custom_done(x->s, NULL, NULL, &err);
  } else if (ferr) {
    uvsql__session_custom_done(x->s, NULL, NULL, ferr);
  } else {
    uvsql__session_custom_done(x->s, uvsql_future_take(f), free, NULL);
  }
}

static void run(uvsql_session_t *s, void *ctx) {
  stream_t *x = ctx;
  if (uvsql__session_custom_abandoned(s)) { /* invariant 4: cancelled while BEGIN ran */
    uvsql__session_custom_done(s, NULL, NULL, NULL);
    return;
  }
  s->nstatements++;
  if (!uvsql_conn_stream_core(s->conn, x->select, x->params, x->nparams, x->batch_rows, on_rows, x,
                              streamed, x)) {
    uvsql_error_t err;
    uvsql__error_set(&err, UVSQL_ENOMEM, "uvsql_session_stream: out of memory starting the stream");
    uvsql__session_custom_done(s, NULL, NULL, &err);
  }
}

static void start(uvsql_session_t *s, void *ctx) {
  (void)ctx; /* cancelled while queued: withdrawn, never started (session.c invariant 7) */
  uvsql__session_custom_tx(s);
}

uvsql_future_t *uvsql_session_stream(uvsql_session_t *s, const uvsql_mapper_t *m,
                                     uvsql_core_stmt_t *select, const uvsql_param_t *params,
                                     size_t nparams, size_t batch_rows, uvsql_orm_batch_cb on_batch,
                                     void *batch_data, uvsql_future_cb cb, void *data) {
  if (!s)
    return NULL;
  if (!m || !select || !on_batch || (nparams && !params)) {
    uvsql_future_t *f = uvsql__future_new(s->loop);
    if (!f)
      return NULL;
    uvsql_error_t err;
    uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT,
                     "uvsql_session_stream: a mapper, a select (uvsql_orm_select) and a batch "
                     "callback are required%s",
                     nparams && !params ? " (and params when nparams > 0)" : "");
    uvsql__future_fail_soon(f, &err);
    return uvsql__future_return(f, cb, data);
  }
  stream_t *x = calloc(1, sizeof *x);
  if (x && nparams && !(x->params = uvsql__params_copy(params, nparams))) {
    free(x);
    x = NULL;
  }
  if (!x)
    return uvsql__future_refused(s->loop, cb, data, UVSQL_ENOMEM,
                                 "uvsql_session_stream: out of memory");
  x->s = s;
  x->m = (uvsql_mapper_t *)m;
  x->select = select;
  x->nparams = nparams;
  x->batch_rows = batch_rows;
  x->on_batch = on_batch;
  x->batch_data = batch_data;
  return uvsql__session_custom(s, start, run, stream_free, x, cb, data);
}

int uvsql_session_keep(uvsql_session_t *s, void *obj) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  if (!s || !h || h->session != s)
    return UVSQL_EINVALID_ARGUMENT;
  h->flags |= UVSQL__OF_KEEP;
  return 0;
}

size_t uvsql_session_identity_count(const uvsql_session_t *s) {
  return s ? s->idmap.count : 0;
}
