/* bench/lib/common.c — timing, peak memory, forked runs and the JSON line format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long bench_peak_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

void bench_report(const char *backend, const char *workload, const char *side,
                  const bench_run_t *run, double raw_seconds, const char *extra_json) {
  printf("{\"backend\":\"%s\",\"workload\":\"%s\",\"side\":\"%s\",\"seconds\":%.4f,"
         "\"rows\":%lld,\"rows_per_s\":%.0f",
         backend, workload, side, run->seconds, (long long)run->rows,
         run->seconds > 0 ? (double)run->rows / run->seconds : 0.0);
  if (raw_seconds > 0)
    printf(",\"ratio\":%.3f", run->seconds / raw_seconds);
  if (extra_json && *extra_json)
    printf(",%s", extra_json);
  printf("}\n");
  fflush(stdout);
}

int bench_in_child(bench_fn fn, const void *arg, bench_run_t *out, long *peak_rss_kb) {
  struct {
    int rc;
    bench_run_t run;
    long peak;
  } msg;
  int fds[2];
  fflush(NULL); /* nothing buffered is written twice */
  if (pipe(fds) != 0)
    return -1;
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    close(fds[0]);
    memset(&msg, 0, sizeof msg);
    msg.rc = fn(arg, &msg.run);
    msg.peak = bench_peak_rss_kb();
    ssize_t w = write(fds[1], &msg, sizeof msg);
    _exit(w == (ssize_t)sizeof msg ? 0 : 1);
  }
  close(fds[1]);
  ssize_t got = read(fds[0], &msg, sizeof msg);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != (ssize_t)sizeof msg || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return -1;
  *out = msg.run;
  *peak_rss_kb = msg.peak;
  return msg.rc;
}

bench_insert_row_t *bench_insert_rows_new(int n) {
  bench_insert_row_t *rows = calloc((size_t)n, sizeof *rows);
  char name[32];
  for (int i = 0; i < n; i++) {
    snprintf(name, sizeof name, "user%d", i);
    rows[i].name = strdup(name);
    rows[i].fullname = strdup("Full Name");
  }
  return rows;
}

void bench_insert_rows_free(bench_insert_row_t *rows, int n) {
  for (int i = 0; i < n; i++) {
    free(rows[i].name);
    free(rows[i].fullname);
  }
  free(rows);
}

/* Howard Hinnant's days_from_civil. */
int64_t bench_days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

int bench_reps = 0;

int bench_best_of(int reps, bench_once_fn once, void *ctx, bench_run_t *out) {
  bench_run_t run, best = {.seconds = 1e300};
  if (bench_reps > 0)
    reps = bench_reps;
  for (int i = 0; i <= reps; i++) {
    memset(&run, 0, sizeof run);
    if (once(ctx, &run) != 0)
      return -1;
    if (i > 0 && run.seconds < best.seconds)
      best = run;
  }
  *out = best;
  return 0;
}

int bench_lookups(int n, int64_t nkeys, bench_lookup_fn one, void *ctx, bench_run_t *out) {
  bench_run_t run = {0};
  double t0 = 0;
  for (int i = -100; i < n; i++) {
    if (i == 0) {
      memset(&run, 0, sizeof run);
      t0 = bench_now();
    }
    if (one(ctx, BENCH_KEY(i, nkeys), &run) != 0)
      return -1;
  }
  run.seconds = bench_now() - t0;
  *out = run;
  return 0;
}

void bench_raw_rows_sum(const bench_raw_row_t *rows, size_t n, bench_run_t *run) {
  for (size_t i = 0; i < n; i++)
    run->checksum +=
        BENCH_ROW_SUM(rows[i].id, rows[i].x, rows[i].flag, strlen(rows[i].name), rows[i].ts);
  run->rows += (int64_t)n;
}

void bench_raw_rows_free(bench_raw_row_t *rows, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(rows[i].name);
  free(rows);
}
