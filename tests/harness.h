/* tests/harness.h — a small test harness: TEST(name) registers a test; each test runs in its
 * own process (ctest runs `test_x name`), so a crash or a hang fails one test, not the suite.
 * Assertions print the expression, both values and the location, then exit(1).
 * Every test that makes a loop ends with test_loop_close(), which asserts the loop closes
 * cleanly: nothing left open, nothing pending.
 */
#ifndef UVSQL_TEST_HARNESS_H
#define UVSQL_TEST_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include "uvsql.h"

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn);

#define TEST(name)                                                                                 \
  static void test_##name(void);                                                                   \
  __attribute__((constructor)) static void test_register_##name(void) {                            \
    test_register(#name, test_##name);                                                             \
  }                                                                                                \
  static void test_##name(void)

void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

#define FAILF(...) test_fail(__FILE__, __LINE__, __VA_ARGS__)
#define ASSERT(cond)                                                                               \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      FAILF("assertion failed: %s", #cond);                                                        \
  } while (0)
#define ASSERT_INT_EQ(a, b)                                                                        \
  do {                                                                                             \
    long long a_ = (long long)(a), b_ = (long long)(b);                                            \
    if (a_ != b_)                                                                                  \
      FAILF("%s == %s: %lld != %lld", #a, #b, a_, b_);                                             \
  } while (0)
#define ASSERT_STR_EQ(a, b)                                                                        \
  do {                                                                                             \
    const char *a_ = (a), *b_ = (b);                                                               \
    if (!a_ || !b_ || strcmp(a_, b_) != 0)                                                         \
      FAILF("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");         \
  } while (0)
/* Asserts that haystack contains needle. */
#define ASSERT_STR_CONTAINS(hay, needle)                                                           \
  do {                                                                                             \
    const char *h_ = (hay), *n_ = (needle);                                                        \
    if (!h_ || !strstr(h_, n_))                                                                    \
      FAILF("%s does not contain \"%s\": \"%s\"", #hay, n_, h_ ? h_ : "(null)");                   \
  } while (0)
static inline const char *test_err_message(const uvsql_error_t *e) {
  return e ? e->message : "";
}
/* Asserts rc == 0, printing the error's name and message otherwise. */
#define ASSERT_OK(rc, err)                                                                         \
  do {                                                                                             \
    int rc_ = (rc);                                                                                \
    if (rc_ != 0)                                                                                  \
      FAILF("%s failed: %s: %s", #rc, uvsql_err_name(rc_), test_err_message(err));                 \
  } while (0)
#define ASSERT_ERR(rc, code)                                                                       \
  do {                                                                                             \
    int rc_ = (rc);                                                                                \
    if (rc_ != (code))                                                                             \
      FAILF("%s: expected %s, got %s", #rc, uvsql_err_name(code), uvsql_err_name(rc_));            \
  } while (0)

/* Waits for f and asserts it resolved; returns its value (owned by f). */
void *test_await_ok(uvsql_future_t *f, const char *file, int line);
#define AWAIT_OK(f) test_await_ok((f), __FILE__, __LINE__)
/* Waits for f and asserts it failed with code; returns its error (owned by f). */
const uvsql_error_t *test_await_err(uvsql_future_t *f, int code, const char *file, int line);
#define AWAIT_ERR(f, code) test_await_err((f), (code), __FILE__, __LINE__)

/* Runs loop for ms milliseconds (other handles keep working meanwhile). */
void test_sleep(uv_loop_t *loop, uint64_t ms);
/* A fresh loop for the test (not the default loop). */
uv_loop_t *test_loop(void);
/* Runs the loop until nothing is left, then asserts uv_loop_close() == 0, listing any handle
 * still open. */
void test_loop_close(uv_loop_t *loop);

/* Database URLs for the tests. PostgreSQL and MariaDB come from UVSQL_TEST_PG_URL and
 * UVSQL_TEST_MARIADB_URL (scripts/test.sh sets them after starting throwaway servers); when
 * unset the test fails, naming the variable. test_sqlite_url makes a fresh file in a
 * temporary directory. */
const char *test_pg_url(void);
const char *test_mariadb_url(void);
const char *test_sqlite_url(void);
/* Skips the test (exit 77, which ctest counts as skipped) when this uvsql was built without the
 * backend ("postgresql", "mariadb", "sqlite": CMake UVSQL_WITH_<BACKEND>=OFF). The URL helpers
 * above do the same for their backend. */
void test_require_backend(const char *backend);
/* A unique name (for tables) built from prefix, the pid and a counter. */
const char *test_unique_name(const char *prefix);

/* 1 when the test runs under valgrind (its preload library is in LD_PRELOAD): timing checks
 * that valgrind's slowdown makes meaningless are skipped then. */
static inline int test_under_valgrind(void) {
  const char *p = getenv("LD_PRELOAD");
  return p && (strstr(p, "valgrind") || strstr(p, "vgpreload"));
}

/* 1 in a build with AddressSanitizer, where every allocation costs several times what it
 * costs otherwise (redzones, fill, quarantine): latency bounds there are scaled by
 * test_latency_factor(); the normal build keeps the bound itself. */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_UNDER_ASAN 1
#endif
#endif
#ifndef TEST_UNDER_ASAN
#define TEST_UNDER_ASAN 0
#endif
static inline int test_latency_factor(void) {
  return TEST_UNDER_ASAN ? 2 : 1;
}

#endif
