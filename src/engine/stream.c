/* src/engine/stream.c — streamed results: the public entry points, the hand-over of each batch
 * to the user's on_batch, and the summary the future resolves with.
 *
 * A stream is an ordinary exec (execute.c) whose request carries UVSQL__REQ_STREAM: the driver
 * calls the request's batch callback per batch and done once at the end (driver.h). This file
 * only counts and forwards.
 *
 * Invariants:
 *  1. on_batch is never called again once it returned non-zero (the driver promises it; the
 *     `stopped` flag here makes sure a late batch is dropped all the same).
 *  2. The future settles once, from done: with a summary the future owns, or with the error,
 *     prefixed "after N batches (M rows):" when some batches had been delivered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define DEFAULT_BATCH_ROWS 1000

int uvsql__stream_batch(uvsql__stream_t *s, const uvsql_result_t *rows) {
  if (s->sum.stopped)
    return 1; /* invariant 1 */
  s->sum.batches++;
  s->sum.rows += uvsql_result_nrows(rows);
  if (s->on_batch(rows, s->data) != 0)
    s->sum.stopped = 1;
  return s->sum.stopped;
}

void uvsql__stream_settle(uvsql__stream_t *s, uvsql_future_t *f, const uvsql_error_t *err) {
  if (err) {
    if (s->sum.batches == 0) {
      uvsql__future_fail(f, err);
      return;
    }
    uvsql_error_t e = *err;
    char prefix[96];
    int n = snprintf(prefix, sizeof prefix,
                     "after %llu batches (%llu rows): ", (unsigned long long)s->sum.batches,
                     (unsigned long long)s->sum.rows);
    size_t plen = n > 0 && (size_t)n < sizeof prefix ? (size_t)n : 0;
    size_t mlen = strnlen(err->message, sizeof e.message - 1);
    if (plen + mlen > sizeof e.message - 1)
      mlen = sizeof e.message - 1 - plen; /* the end of a long message gives way */
    memcpy(e.message, prefix, plen);
    memcpy(e.message + plen, err->message, mlen);
    e.message[plen + mlen] = '\0';
    uvsql__future_fail(f, &e);
    return;
  }
  uvsql_stream_summary_t *sum = malloc(sizeof *sum);
  if (!sum) {
    uvsql__future_fail_code(f, UVSQL_ENOMEM, "out of memory at the end of a stream of %llu rows",
                            (unsigned long long)s->sum.rows);
    return;
  }
  *sum = s->sum;
  uvsql__future_resolve(f, sum, free);
}

static uvsql_future_t *start(uvsql_engine_t *e, uvsql_conn_t *c, uvsql_stmt_t *stmt,
                             const uvsql_param_t *params, size_t nparams, size_t batch_rows,
                             uvsql_batch_cb on_batch, void *batch_data, uvsql_future_cb cb,
                             void *data) {
  uvsql__stream_t s;
  if (!on_batch) {
    uvsql_error_t err;
    uvsql_future_t *f = uvsql__future_new(e->loop);
    if (!f)
      return NULL;
    uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT, "%s: on_batch is required",
                     c ? "uvsql_conn_stream" : "uvsql_engine_stream");
    uvsql__future_fail_soon(f, &err);
    return uvsql__future_return(f, cb, data);
  }
  memset(&s, 0, sizeof s);
  s.on_batch = on_batch;
  s.data = batch_data;
  s.batch_rows = batch_rows ? batch_rows : DEFAULT_BATCH_ROWS;
  return uvsql__exec_start(e, c, stmt, params, nparams, &s, cb, data);
}

uvsql_future_t *uvsql_conn_stream(uvsql_conn_t *c, uvsql_stmt_t *stmt, const uvsql_param_t *params,
                                  size_t nparams, size_t batch_rows, uvsql_batch_cb on_batch,
                                  void *batch_data, uvsql_future_cb cb, void *data) {
  if (!c)
    return NULL;
  return start(c->engine, c, stmt, params, nparams, batch_rows, on_batch, batch_data, cb, data);
}

uvsql_future_t *uvsql_engine_stream(uvsql_engine_t *e, uvsql_stmt_t *stmt,
                                    const uvsql_param_t *params, size_t nparams, size_t batch_rows,
                                    uvsql_batch_cb on_batch, void *batch_data, uvsql_future_cb cb,
                                    void *data) {
  if (!e)
    return NULL;
  return start(e, NULL, stmt, params, nparams, batch_rows, on_batch, batch_data, cb, data);
}
