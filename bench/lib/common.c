/* bench/lib/common.c — timing, peak memory and the JSON line format. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
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
