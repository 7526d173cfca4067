/* bench/worker_handoff.c — the floor of a short SQLite statement: the worker hand-off alone.
 * A loop submits N empty jobs to uvsql__worker (src/loop/worker.c) one after another, each
 * awaited the way uvsql_future_wait awaits a statement (uv_run(UV_RUN_ONCE) until its `after`
 * has run), and prints the round trip loop -> worker -> loop in microseconds: the best and the
 * median of 5 rounds, after 1,000 warm-up jobs.
 *   usage: bench_worker_handoff [N]     (N jobs per round, default 20000)
 * Issue 16 (bench/README.md, "Where the time goes"). */
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>
#include "loop/internal.h"

static void work_nothing(void *data) {
  (void)data;
}

static void after_done(void *data, int cancelled) {
  (void)cancelled;
  *(int *)data = 1;
}

static int one_job(uv_loop_t *loop, uvsql__worker_t *w) {
  int done = 0;
  if (uvsql__worker_submit(w, work_nothing, after_done, &done) != 0)
    return -1;
  while (!done)
    uv_run(loop, UV_RUN_ONCE);
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void on_closed(void *data) {
  *(int *)data = 1;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 20000;
  uv_loop_t loop;
  uvsql__worker_t *w;
  double us[5];
  if (n <= 0 || uv_loop_init(&loop) != 0 || uvsql__worker_new(&w, &loop, 1) != 0) {
    fprintf(stderr, "usage: bench_worker_handoff [N > 0]\n");
    return 2;
  }
  for (int i = 0; i < 1000; i++)
    if (one_job(&loop, w) != 0)
      return 1;
  for (int r = 0; r < 5; r++) {
    uint64_t t0 = uv_hrtime();
    for (long i = 0; i < n; i++)
      if (one_job(&loop, w) != 0)
        return 1;
    us[r] = (double)(uv_hrtime() - t0) / 1e3 / (double)n;
  }
  int closed = 0;
  uvsql__worker_close(w, on_closed, &closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  qsort(us, 5, sizeof us[0], cmp_double);
  double la[3];
  uv_loadavg(la);
  printf("{\"workload\":\"worker_handoff\",\"jobs\":%ld,\"best_us\":%.2f,\"median_us\":%.2f,"
         "\"worst_us\":%.2f,\"loadavg\":[%.2f,%.2f,%.2f]}\n",
         n, us[0], us[2], us[4], la[0], la[1], la[2]);
  return closed ? 0 : 1;
}
