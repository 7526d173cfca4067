/* src/dialects/postgresql/cancel.c — cancel a running query without blocking the loop.
 *
 * PQcancel opens a new connection to the server and waits for it: it must not run on the
 * loop thread. A job takes the connection's PGcancel (a copy of what it needs: address and
 * backend key), runs PQcancel on libuv's thread pool and frees itself when done.
 *
 * Invariants:
 *  1. The job owns its PGcancel; the PGconn may be finished while the job runs.
 *  2. The job never touches the connection or any request: the query's own result (57014,
 *     or its rows if it finished first) is what settles the request. It calls `done` once
 *     PQcancel returned, unless detached first (uvsql__pg_cancel_detach: the connection is
 *     closing), so a connection never waits for a job to free itself: a PQcancel that hangs
 *     on a silent network keeps only its thread and its own memory.
 */
#include <stdlib.h>
#include "pg.h"

struct uvsql__pg_cancel_job_s {
  uv_work_t work;
  PGcancel *cancel;
  void (*done)(void *data);
  void *data;
  int ok;
  char errbuf[256];
};
typedef uvsql__pg_cancel_job_t cancel_job_t;

static void cancel_work(uv_work_t *w) {
  cancel_job_t *job = w->data;
  job->ok = PQcancel(job->cancel, job->errbuf, (int)sizeof job->errbuf);
}

static void cancel_after(uv_work_t *w, int status) {
  cancel_job_t *job = w->data;
  (void)status; /* a failed cancel only means the query runs to its end */
  PQfreeCancel(job->cancel);
  if (job->done)
    job->done(job->data);
  free(job);
}

void uvsql__pg_cancel_detach(uvsql__pg_cancel_job_t *job) {
  if (job)
    job->done = NULL;
}

int uvsql__pg_cancel_on_server(uv_loop_t *loop, PGconn *pg, void (*done)(void *data), void *data,
                               uvsql__pg_cancel_job_t **out) {
  cancel_job_t *job = calloc(1, sizeof *job);
  if (out)
    *out = NULL;
  if (!job)
    return UVSQL_ENOMEM;
  job->done = done;
  job->data = data;
  job->cancel = PQgetCancel(pg);
  if (!job->cancel) {
    free(job);
    return UVSQL_EOPERATIONAL;
  }
  job->work.data = job;
  if (uv_queue_work(loop, &job->work, cancel_work, cancel_after) != 0) {
    PQfreeCancel(job->cancel);
    free(job);
    return UVSQL_EOPERATIONAL;
  }
  if (out)
    *out = job;
  return 0;
}
