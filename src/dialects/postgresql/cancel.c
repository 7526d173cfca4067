/* src/dialects/postgresql/cancel.c — cancel a running query without blocking the loop.
 *
 * PQcancel opens a new connection to the server and waits for it: it must not run on the
 * loop thread. A job takes the connection's PGcancel (a copy of what it needs: address and
 * backend key), runs PQcancel on libuv's thread pool and frees itself when done.
 *
 * Invariants:
 *  1. The job owns its PGcancel; the PGconn may be finished while the job runs.
 *  2. The job never touches the connection or any request: the query's own result (57014,
 *     or its rows if it finished first) is what settles the request.
 */
#include <stdlib.h>
#include "pg.h"

typedef struct {
  uv_work_t work;
  PGcancel *cancel;
  void (*done)(void *data);
  void *data;
  int ok;
  char errbuf[256];
} cancel_job_t;

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

int uvsql__pg_cancel_on_server(uv_loop_t *loop, PGconn *pg, void (*done)(void *data), void *data) {
  cancel_job_t *job = calloc(1, sizeof *job);
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
  return 0;
}
