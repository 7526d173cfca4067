/* tests/test_result_memory.c — where a result keeps its bytes (src/loop/result.c: the inline
 * bytes, chunks doubling to 4 MB, big blocks past 1 MB) and the big blocks themselves
 * (src/loop/bigblock.c: get, grow, put, the bounded cache, trim, the idle trim, MADV_FREE on
 * the cached blocks and their reuse without faults). Under AddressSanitizer and
 * valgrind big blocks are plain malloc (nothing is cached), which the tests allow for. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include "harness.h"
#include "dialects/driver.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

/* Whether big blocks are mappings and freed ones are cached (not ASan, valgrind, or off Linux). */
static int caching(void) {
  size_t size = 0;
  uvsql__big_trim();
  void *p = uvsql__big_get(1, &size);
  ASSERT(p != NULL);
  uvsql__big_put(p, size);
  int cached = uvsql__big_cached() > 0;
  uvsql__big_trim();
  return cached;
}

/* Texts of every length from 0 to 9,000 bytes, then 300 of 40 KB: they cross the inline bytes,
 * every chunk size up to the big ones, and each lands whole in one place with its NUL. */
TEST(texts_of_every_length_stay_whole_across_chunks) {
  uvsql_result_t *r = uvsql__result_new(1);
  ASSERT(r != NULL);
  ASSERT_INT_EQ(uvsql__result_set_column(r, 0, "t", UVSQL_TYPE_TEXT), 0);
  static char src[40000];
  for (size_t i = 0; i < sizeof src; i++)
    src[i] = (char)('a' + i % 26);
  enum { SHORT = 9001, LONG = 300 };
  for (size_t i = 0; i < SHORT + LONG; i++) {
    size_t len = i < SHORT ? i : sizeof src - (i - SHORT);
    uvsql_value_t *cell = uvsql__result_add_row(r);
    ASSERT(cell != NULL);
    char *copy = uvsql__result_strndup(r, src + i % 7, len - (len >= 7 ? i % 7 : 0));
    ASSERT(copy != NULL);
    ASSERT_INT_EQ((uintptr_t)copy % 8, 0);
    cell->type = UVSQL_TYPE_TEXT;
    cell->u.s.ptr = copy;
    cell->u.s.len = len - (len >= 7 ? i % 7 : 0);
  }
  /* a zero-size allocation and a 2 MB one (a big chunk of its own) */
  ASSERT(uvsql__result_alloc(r, 0) != NULL);
  unsigned char *big = uvsql__result_alloc(r, (size_t)2 << 20);
  ASSERT(big != NULL);
  memset(big, 0xab, (size_t)2 << 20);
  ASSERT_INT_EQ(uvsql_result_nrows(r), SHORT + LONG);
  for (size_t i = 0; i < SHORT + LONG; i++) {
    const char *t = NULL;
    size_t len = 0, want = i < SHORT ? i : sizeof src - (i - SHORT);
    want -= want >= 7 ? i % 7 : 0;
    ASSERT_OK(uvsql_result_text(r, i, 0, &t, &len), NULL);
    if (len != want || memcmp(t, src + i % 7, len) != 0 || t[len] != '\0')
      FAILF("row %zu: %zu bytes, expected %zu, or other bytes", i, len, want);
  }
  ASSERT(big[0] == 0xab && big[((size_t)2 << 20) - 1] == 0xab);
  uvsql_result_free(r);
}

/* Cells past 1 MB move to a big block and keep every row written before, at every growth. */
TEST(cells_keep_their_rows_when_they_move_to_big_blocks) {
  uvsql_result_t *r = uvsql__result_new(3);
  ASSERT(r != NULL);
  for (size_t i = 0; i < 3; i++)
    ASSERT_INT_EQ(uvsql__result_set_column(r, i,
                                           i == 0   ? "a"
                                           : i == 1 ? "b"
                                                    : "c",
                                           UVSQL_TYPE_INT64),
                  0);
  const size_t n = 200000; /* 14 MB of cells */
  for (size_t i = 0; i < n; i++) {
    uvsql_value_t *row = i % 2 ? uvsql__result_add_row(r) : uvsql__result_add_rows(r, 1);
    ASSERT(row != NULL);
    for (int k = 0; k < 3; k++) {
      row[k].type = k == 2 && i % 11 == 0 ? UVSQL_TYPE_NULL : UVSQL_TYPE_INT64;
      row[k].u.i64 = (int64_t)(i * 3 + (size_t)k);
    }
  }
  ASSERT_INT_EQ(uvsql_result_nrows(r), n);
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < 3; k++) {
      int64_t v = -1;
      if (k == 2 && i % 11 == 0) {
        ASSERT(uvsql_result_is_null(r, i, k));
        continue;
      }
      ASSERT_OK(uvsql_result_int64(r, i, k, &v), NULL);
      if (v != (int64_t)(i * 3 + k))
        FAILF("cell (%zu, %zu): %lld", i, k, (long long)v);
    }
  ASSERT_STR_EQ(uvsql_result_colname(r, 2), "c");
  uvsql_result_free(r);
}

/* get, grow (contents kept), put into the cache, a get that reuses it, and trim. */
TEST(big_blocks_grow_in_place_and_freed_ones_are_reused) {
  int cache = caching();
  size_t size = 0;
  unsigned char *p = uvsql__big_get(1500000, &size);
  ASSERT(p != NULL);
  ASSERT(size >= 1500000);
  if (cache)
    ASSERT_INT_EQ(size % ((size_t)2 << 20), 0);
  for (size_t i = 0; i < 1500000; i++)
    p[i] = (unsigned char)(i * 7);
  size_t size2 = 0;
  unsigned char *q = uvsql__big_grow(p, size, 1500000, 9000000, &size2);
  ASSERT(q != NULL);
  ASSERT(size2 >= 9000000);
  for (size_t i = 0; i < 1500000; i++)
    if (q[i] != (unsigned char)(i * 7))
      FAILF("byte %zu lost in the growth", i);
  q[8999999] = 1;
  uvsql__big_put(q, size2);
  ASSERT_INT_EQ(uvsql__big_cached(), cache ? size2 : 0);
  size_t size3 = 0;
  void *r = uvsql__big_get(4000000, &size3); /* the cached block fits: it comes back */
  ASSERT(r != NULL);
  if (cache) {
    ASSERT(r == q);
    ASSERT_INT_EQ(size3, size2);
    ASSERT_INT_EQ(uvsql__big_cached(), 0);
  }
  uvsql__big_put(r, size3);
  uvsql__big_trim();
  ASSERT_INT_EQ(uvsql__big_cached(), 0);
}

/* The cache never holds more than 256 MB: eight freed 40 MB blocks leave at most six. */
TEST(big_block_cache_is_bounded) {
  int cache = caching();
  void *p[8];
  size_t size[8];
  for (int i = 0; i < 8; i++) {
    p[i] = uvsql__big_get((size_t)40 << 20, &size[i]);
    ASSERT(p[i] != NULL);
  }
  for (int i = 0; i < 8; i++) {
    uvsql__big_put(p[i], size[i]);
    ASSERT(uvsql__big_cached() <= ((size_t)256 << 20));
  }
  ASSERT_INT_EQ(uvsql__big_cached(), cache ? (size_t)6 * (40 << 20) : 0);
  uvsql__big_trim();
  ASSERT_INT_EQ(uvsql__big_cached(), 0);
  (void)RUNNING_ON_VALGRIND;
}

/* The LazyFree line of /proc/self/smaps_rollup in KB (-1 when the kernel has none). */
static long lazyfree_kb(void) {
  FILE *f = fopen("/proc/self/smaps_rollup", "r");
  char line[256];
  long kb = -1;
  if (!f)
    return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "LazyFree: %ld kB", &kb) == 1)
      break;
  fclose(f);
  return kb;
}

static long minor_faults(void) {
  struct rusage ru;
  ASSERT_INT_EQ(getrusage(RUSAGE_SELF, &ru), 0);
  return ru.ru_minflt;
}

/* 1 unless transparent huge pages are off ([never]) or unknown: bigblock.c then skips the
 * MADV_FREE advice (rewriting an advised block would trap once per 4 KB page). */
static int thp_on(void) {
  FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  char line[128] = "";
  if (!f)
    return 0;
  if (!fgets(line, sizeof line, f))
    line[0] = '\0';
  fclose(f);
  return line[0] && !strstr(line, "[never]");
}

/* A block put in the cache is advised MADV_FREE (smaps_rollup counts it as LazyFree), and the
 * next get that takes it writes all of it again without a page fault: the kernel had no reason
 * to take the pages back. Without transparent huge pages it is not advised at all. */
TEST(cached_block_is_lazily_freed_and_reused_without_faults) {
  if (!caching()) {
    printf("SKIP: big blocks are plain malloc here (AddressSanitizer, valgrind or not Linux)\n");
    return;
  }
  const size_t want = (size_t)32 << 20;
  size_t size = 0;
  unsigned char *p = uvsql__big_get(want, &size);
  ASSERT(p != NULL);
  memset(p, 0x5a, size);
  long lazy0 = lazyfree_kb();
  uvsql__big_put(p, size);
  ASSERT_INT_EQ(uvsql__big_cached(), size);
  long lazy1 = lazyfree_kb();
  if (lazy0 >= 0 && !thp_on() && lazy1 - lazy0 > 64)
    FAILF("LazyFree grew by %ld KB with transparent huge pages off (no advice expected)",
          lazy1 - lazy0);
  if (lazy0 >= 0 && thp_on()) /* every page of the block is lazily free now */
    if (lazy1 - lazy0 < (long)(size / 1024))
      FAILF("LazyFree grew by %ld KB after the put of a %zu KB block (from %ld KB)", lazy1 - lazy0,
            size / 1024, lazy0);
  size_t size2 = 0;
  unsigned char *q = uvsql__big_get(want, &size2);
  ASSERT(q == p);
  ASSERT_INT_EQ(size2, size);
  long f0 = minor_faults();
  memset(q, 0xa5, size2);
  long f1 = minor_faults();
  if (f1 - f0 > 4)
    FAILF("%ld page faults writing a reused %zu KB block (expected none)", f1 - f0, size2 / 1024);
  ASSERT_INT_EQ(q[0], 0xa5);
  ASSERT_INT_EQ(q[size2 - 1], 0xa5);
  if (lazy0 >= 0 && lazyfree_kb() > lazy0 + 64) /* written again: no longer lazily free */
    FAILF("LazyFree still %ld KB after the block was written again (was %ld KB)", lazyfree_kb(),
          lazy0);
  uvsql__big_put(q, size2);
  ASSERT_INT_EQ(uvsql_release_memory(), size2);
  ASSERT_INT_EQ(uvsql__big_cached(), 0);
  ASSERT_INT_EQ(uvsql_release_memory(), 0);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* uvsql__big_trim_idle unmaps only the blocks cached for the idle period; uvsql__big_idle_due
 * says when the next one is due, "a period" while blocks are out but none is cached, and never
 * when no block is mapped. */
TEST(idle_trim_unmaps_only_blocks_cached_for_the_idle_period) {
  if (!caching()) {
    printf("SKIP: big blocks are plain malloc here (AddressSanitizer, valgrind or not Linux)\n");
    ASSERT_INT_EQ(uvsql__big_idle_due(100), UINT64_MAX);
    ASSERT_INT_EQ(uvsql__big_trim_idle(100), 0);
    return;
  }
  ASSERT_INT_EQ(uvsql__big_idle_due(100), UINT64_MAX); /* nothing mapped */
  size_t sa = 0, sb = 0;
  void *a = uvsql__big_get((size_t)3 << 20, &sa), *b = uvsql__big_get((size_t)5 << 20, &sb);
  ASSERT(a != NULL && b != NULL);
  ASSERT_INT_EQ(uvsql__big_idle_due(100), 100);      /* out, none cached: look again in a period */
  ASSERT_INT_EQ(uvsql__big_idle_due(0), UINT64_MAX); /* 0: off */
  uvsql__big_put(a, sa);
  uint64_t due = uvsql__big_idle_due(100);
  ASSERT(due > 50 && due <= 100);
  ASSERT_INT_EQ(uvsql__big_trim_idle(100), 0); /* too young */
  sleep_ms(60);
  uvsql__big_put(b, sb);
  due = uvsql__big_idle_due(100); /* a, the oldest, is due first */
  ASSERT(due <= 41);
  sleep_ms(50);
  ASSERT_INT_EQ(uvsql__big_trim_idle(100), sa); /* a went, b stays */
  ASSERT_INT_EQ(uvsql__big_cached(), sb);
  due = uvsql__big_idle_due(100);
  ASSERT(due > 0 && due <= 50);
  sleep_ms(60);
  ASSERT_INT_EQ(uvsql__big_idle_due(100), 0);
  ASSERT_INT_EQ(uvsql__big_trim_idle(100), sb);
  ASSERT_INT_EQ(uvsql__big_cached(), 0);
  ASSERT_INT_EQ(uvsql__big_idle_due(100), UINT64_MAX); /* nothing mapped any more */
}
