/* tests/test_result_memory.c — where a result keeps its bytes (src/loop/result.c: the inline
 * bytes, chunks doubling to 4 MB, big blocks past 1 MB) and the big blocks themselves
 * (src/loop/bigblock.c: get, grow, put, the bounded cache, trim). Under AddressSanitizer and
 * valgrind big blocks are plain malloc (nothing is cached), which the tests allow for. */
#include <stdlib.h>
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
