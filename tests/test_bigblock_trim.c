/* tests/test_bigblock_trim.c — the memory of freed large results goes back to the system:
 * the engine's housekeeping unmaps big blocks cached for memory_idle_timeout
 * (src/loop/bigblock.c, src/engine/pool.c invariant 6), also when the result is freed after
 * the pool went quiet; memory_idle_timeout <= 0 keeps them until uvsql_release_memory; bad
 * values are refused. On the three backends. Under AddressSanitizer and valgrind big blocks
 * are plain malloc (nothing is cached): the tests then check only that, saying so. */
#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include "backend.h"
#include "dialects/driver.h" /* uvsql__big_cached */

#define ROWS 60000

static long rss_kb(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f)
    return 0;
  if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
    resident = 0;
  fclose(f);
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static double ms_since(uint64_t start_ns) {
  return (double)(uv_hrtime() - start_ns) / 1e6;
}

/* 60,000 rows of an integer and a 45-byte text: ~5 MB of cells and text, in big blocks. */
static const char *large_sql(const char *url) {
  if (strncmp(url, "sqlite", 6) == 0)
    return "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < 60000) "
           "SELECT g, 'bigmem-' || substr(hex(zeroblob(16)), 1, 32) || printf('%06d', g) FROM s";
  if (strncmp(url, "postgres", 8) == 0)
    return "SELECT g, 'bigmem-' || repeat('0', 32) || lpad(g::text, 6, '0') "
           "FROM generate_series(1, 60000) g";
  /* MariaDB stops recursive CTEs at max_recursive_iterations (1000): five digits crossed */
  return "WITH d(n) AS (SELECT 0 UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 "
         "UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 "
         "UNION ALL SELECT 8 UNION ALL SELECT 9) "
         "SELECT g, CONCAT('bigmem-', REPEAT('0', 32), LPAD(g, 6, '0')) FROM "
         "(SELECT a.n + 10 * b.n + 100 * c.n + 1000 * e.n + 10000 * f.n + 1 AS g "
         "FROM d a, d b, d c, d e, d f) t WHERE g <= 60000 ORDER BY g";
}

static uvsql_result_t *large_result(fixture_t *fx, const char *url) {
  uvsql_result_t *r = query(fx, large_sql(url), NULL, 0);
  ASSERT_INT_EQ(uvsql_result_nrows(r), ROWS);
  int64_t g = 0;
  const char *t = NULL;
  size_t len = 0;
  ASSERT_OK(uvsql_result_int64(r, ROWS - 1, 0, &g), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(g, ROWS);
  ASSERT_OK(uvsql_result_text(r, ROWS - 1, 1, &t, &len), (uvsql_error_t *)NULL);
  ASSERT_STR_EQ(t, "bigmem-00000000000000000000000000000000060000");
  ASSERT_INT_EQ(len, 45);
  return r;
}

/* Runs the loop until nothing is cached, for at most 5 s; the milliseconds it took. */
static double wait_until_given_back(fixture_t *fx) {
  uint64_t start = uv_hrtime();
  while (uvsql__big_cached() > 0 && ms_since(start) < 5000)
    test_sleep(fx->loop, 10);
  return ms_since(start);
}

/* A result freed at once, and one freed after the pool has been quiet for twice the idle
 * period: each one's blocks are cached, then unmapped after memory_idle_timeout (0.3 s), and
 * the resident size drops by (at least half) of what was cached. */
static void freed_result_memory_is_given_back(const char *url) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  ASSERT(opt.memory_idle_timeout == 30.0);
  opt.memory_idle_timeout = 0.3;
  fixture_t fx = fixture_open(url, &opt);
  uvsql_release_memory();
  for (int late = 0; late < 2; late++) {
    uvsql_result_t *r = large_result(&fx, url);
    if (late)
      test_sleep(fx.loop, 650); /* the pool goes quiet with the result still alive */
    long rss_held = rss_kb();
    uvsql_result_free(r);
    uint64_t freed = uv_hrtime();
    size_t cached = uvsql__big_cached();
    if (cached == 0) {
      printf("SKIP (the rest): big blocks are plain malloc here (AddressSanitizer or valgrind): "
             "nothing is cached\n");
      ASSERT_INT_EQ(uvsql_release_memory(), 0);
      break;
    }
    ASSERT(cached >= ((size_t)4 << 20)); /* cells and text: 2 MB blocks */
    double ms = wait_until_given_back(&fx);
    if (uvsql__big_cached() != 0)
      FAILF("%zu bytes still cached %.0f ms after the result was freed (memory_idle_timeout "
            "0.3 s)",
            uvsql__big_cached(), ms);
    if (ms_since(freed) < 280 || ms > (late ? 1500 : 1000))
      FAILF("the cached blocks went %.0f ms after the result was freed: expected 300 ms "
            "(memory_idle_timeout)%s",
            ms, late ? " to 900 ms (freed after the pool went quiet)" : "");
    long rss_after = rss_kb();
    if (rss_held - rss_after < (long)(cached / 1024 / 2))
      FAILF("resident size %ld KB with the result, %ld KB after its %zu KB were given back",
            rss_held, rss_after, cached / 1024);
  }
  /* The engine still works, and a large result after the trim maps fresh blocks. */
  uvsql_result_free(large_result(&fx, url));
  fixture_close(&fx);
}
TEST(sqlite_freed_result_given_back_after_idle_timeout_memory_is_bounded) {
  freed_result_memory_is_given_back(test_sqlite_url());
}
TEST(pg_freed_result_given_back_after_idle_timeout_memory_is_bounded) {
  freed_result_memory_is_given_back(test_pg_url());
}
TEST(mariadb_freed_result_given_back_after_idle_timeout_memory_is_bounded) {
  freed_result_memory_is_given_back(test_mariadb_url());
}

/* memory_idle_timeout 0: the blocks stay cached (the next large result reuses them) until
 * uvsql_release_memory, which returns their bytes. */
static void idle_timeout_off_keeps_until_release(const char *url) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.memory_idle_timeout = 0;
  fixture_t fx = fixture_open(url, &opt);
  uvsql_release_memory();
  uvsql_result_free(large_result(&fx, url));
  size_t cached = uvsql__big_cached();
  test_sleep(fx.loop, 400);
  ASSERT_INT_EQ(uvsql__big_cached(), cached);
  uvsql_result_t *r = large_result(&fx, url); /* reuses the cached blocks */
  if (cached)
    ASSERT(uvsql__big_cached() < cached);
  uvsql_result_free(r);
  size_t cached2 = uvsql__big_cached(); /* its blocks, some reused, some grown */
  ASSERT(cached2 >= cached);
  ASSERT_INT_EQ(uvsql_release_memory(), cached2);
  ASSERT_INT_EQ(uvsql__big_cached(), 0);
  if (!cached)
    printf("SKIP (the caching part): big blocks are plain malloc here (AddressSanitizer or "
           "valgrind)\n");
  fixture_close(&fx);
}
TEST(sqlite_memory_idle_timeout_off_keeps_blocks_until_release_memory) {
  idle_timeout_off_keeps_until_release(test_sqlite_url());
}
TEST(pg_memory_idle_timeout_off_keeps_blocks_until_release_memory) {
  idle_timeout_off_keeps_until_release(test_pg_url());
}
TEST(mariadb_memory_idle_timeout_off_keeps_blocks_until_release_memory) {
  idle_timeout_off_keeps_until_release(test_mariadb_url());
}

TEST(engine_new_rejects_a_bad_memory_idle_timeout) {
  uv_loop_t *loop = test_loop();
  uvsql_engine_t *e = NULL;
  uvsql_error_t err;
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.memory_idle_timeout = NAN;
  ASSERT_ERR(uvsql_engine_new(&e, loop, "sqlite://", &opt, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(err.message,
                "memory_idle_timeout is nan: it must be a number of seconds (0 or less: off)");
  opt.memory_idle_timeout = INFINITY;
  ASSERT_ERR(uvsql_engine_new(&e, loop, "sqlite://", &opt, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(err.message,
                "memory_idle_timeout is inf: it must be a number of seconds (0 or less: off)");
  ASSERT(e == NULL);
  test_loop_close(loop);
}
