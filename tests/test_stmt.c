/* tests/test_stmt.c — text statements: placeholder parsing and per-dialect compilation. */
#include <time.h>
#include "harness.h"
#include "engine/internal.h"

static const char *compile(uvsql_stmt_t *st, uvsql__paramstyle_t style) {
  const uvsql__compiled_t *c = uvsql__stmt_compile(st, style);
  ASSERT(c != NULL);
  return c->sql;
}

TEST(named_placeholders_compile_to_each_style) {
  uvsql_stmt_t *st;
  uvsql_error_t err;
  ASSERT_OK(uvsql_text(&st, "SELECT * FROM t WHERE a = :a AND b = :b OR a2 = :a", &err), &err);
  ASSERT_INT_EQ(uvsql_stmt_param_count(st), 2);
  ASSERT_STR_EQ(uvsql_stmt_param_name(st, 0), "a");
  ASSERT_STR_EQ(uvsql_stmt_param_name(st, 1), "b");
  ASSERT_STR_EQ(compile(st, UVSQL__PARAMSTYLE_DOLLAR),
                "SELECT * FROM t WHERE a = $1 AND b = $2 OR a2 = $1");
  ASSERT_STR_EQ(compile(st, UVSQL__PARAMSTYLE_NUMBERED),
                "SELECT * FROM t WHERE a = ?1 AND b = ?2 OR a2 = ?1");
  ASSERT_STR_EQ(compile(st, UVSQL__PARAMSTYLE_QMARK),
                "SELECT * FROM t WHERE a = ? AND b = ? OR a2 = ?");
  const uvsql__compiled_t *q = uvsql__stmt_compile(st, UVSQL__PARAMSTYLE_QMARK);
  ASSERT_INT_EQ(q->nplaceholders, 3);
  ASSERT_INT_EQ(q->order[0], 0);
  ASSERT_INT_EQ(q->order[1], 1);
  ASSERT_INT_EQ(q->order[2], 0);
  uvsql_stmt_free(st);
}

TEST(quotes_comments_casts_and_escapes_are_not_placeholders) {
  uvsql_stmt_t *st;
  uvsql_error_t err;
  ASSERT_OK(uvsql_text(&st,
                       "SELECT ':x', \":y\", `:z`, $q$ :w $q$, x::int, '2020-01-01 10:00' "
                       "-- :c\n/* :d */ FROM t WHERE a = :real AND b = 'it''s :no' AND c = \\:lit",
                       &err),
            &err);
  ASSERT_INT_EQ(uvsql_stmt_param_count(st), 1);
  ASSERT_STR_EQ(uvsql_stmt_param_name(st, 0), "real");
  ASSERT_STR_EQ(compile(st, UVSQL__PARAMSTYLE_DOLLAR),
                "SELECT ':x', \":y\", `:z`, $q$ :w $q$, x::int, '2020-01-01 10:00' "
                "-- :c\n/* :d */ FROM t WHERE a = $1 AND b = 'it''s :no' AND c = :lit");
  uvsql_stmt_free(st);
}

TEST(bind_orders_values_and_names_missing_ones) {
  uvsql_stmt_t *st;
  uvsql_error_t err;
  ASSERT_OK(uvsql_text(&st, "SELECT :b, :a, :b", &err), &err);
  const uvsql__compiled_t *c = uvsql__stmt_compile(st, UVSQL__PARAMSTYLE_QMARK);
  uvsql_value_t out[3];
  uvsql_param_t p[] = {UVSQL_P_INT64("a", 1), UVSQL_P_INT64("b", 2)};
  ASSERT_OK(uvsql__stmt_bind(st, c, p, 2, out, &err), &err);
  ASSERT_INT_EQ(out[0].u.i64, 2);
  ASSERT_INT_EQ(out[1].u.i64, 1);
  ASSERT_INT_EQ(out[2].u.i64, 2);
  ASSERT_ERR(uvsql__stmt_bind(st, c, p, 1, out, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(err.message, "no value for parameter :b: pass a uvsql_param_t named \"b\"");
  uvsql_param_t extra[] = {UVSQL_P_INT64("a", 1), UVSQL_P_INT64("b", 2), UVSQL_P_INT64("zz", 3)};
  ASSERT_ERR(uvsql__stmt_bind(st, c, extra, 3, out, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(err.message, "the statement has no parameter :zz");
  uvsql_param_t twice[] = {UVSQL_P_INT64("a", 1), UVSQL_P_INT64("b", 2), UVSQL_P_INT64("a", 3)};
  ASSERT_ERR(uvsql__stmt_bind(st, c, twice, 3, out, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(err.message, "parameter :a was given twice: pass each name once");
  uvsql_stmt_free(st);
}

TEST(statement_without_params_compiles_unchanged) {
  uvsql_stmt_t *st;
  uvsql_error_t err;
  ASSERT_OK(uvsql_text(&st, "CREATE TABLE t (a int); INSERT INTO t VALUES (1)", &err), &err);
  ASSERT_INT_EQ(uvsql_stmt_param_count(st), 0);
  ASSERT_STR_EQ(compile(st, UVSQL__PARAMSTYLE_DOLLAR),
                "CREATE TABLE t (a int); INSERT INTO t VALUES (1)");
  ASSERT_STR_EQ(uvsql_stmt_sql(st), "CREATE TABLE t (a int); INSERT INTO t VALUES (1)");
  uvsql_stmt_free(st);
}

TEST(null_sql_is_an_invalid_argument) {
  uvsql_stmt_t *st = (uvsql_stmt_t *)0x1;
  uvsql_error_t err;
  ASSERT_ERR(uvsql_text(&st, NULL, &err), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(err.message, "sql must not be NULL");
}

/* AddressSanitizer makes every allocation and memory access several times dearer: the bound
 * is the 100 ms in a normal build, and scaled in the ASan pass. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_SLOWDOWN 4
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER_SLOWDOWN 4
#endif
#endif
#ifndef SANITIZER_SLOWDOWN
#define SANITIZER_SLOWDOWN 1
#endif

TEST(eighty_thousand_distinct_names_parse_within_a_second_in_under_100_ms) {
  /* Was quadratic: 80,000 names took 8.6 s, on the loop thread. */
  enum { N = 80000 };
  size_t cap = (size_t)N * 16 + 64, len = 0;
  char *sql = malloc(cap);
  ASSERT(sql != NULL);
  len += (size_t)sprintf(sql + len, "SELECT ");
  for (int i = 0; i < N; i++)
    len += (size_t)sprintf(sql + len, "%s:n%d", i ? ", " : "", i);
  len += (size_t)sprintf(sql + len, ", :n0, :n79999"); /* repeats are one parameter */
  uvsql_stmt_t *st;
  uvsql_error_t err;
  /* The thread's CPU time: what the parse costs the loop thread, whatever else the machine
   * runs meanwhile (the wall clock gets a generous bound of its own). */
  struct timespec c0, c1;
  uint64_t start = uv_hrtime();
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
  ASSERT_OK(uvsql_text(&st, sql, &err), &err);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
  double ms = (double)(uv_hrtime() - start) / 1e6;
  double cpu_ms = (double)(c1.tv_sec - c0.tv_sec) * 1e3 + (double)(c1.tv_nsec - c0.tv_nsec) / 1e6;
  printf("%d distinct names parsed in %.1f ms of CPU (%.1f ms wall)\n", N, cpu_ms, ms);
  ASSERT(cpu_ms < 100 * SANITIZER_SLOWDOWN);
  ASSERT(ms < 1000);
  ASSERT_INT_EQ(uvsql_stmt_param_count(st), N);
  ASSERT_STR_EQ(uvsql_stmt_param_name(st, 0), "n0");
  ASSERT_STR_EQ(uvsql_stmt_param_name(st, N - 1), "n79999");
  const char *c = compile(st, UVSQL__PARAMSTYLE_DOLLAR);
  ASSERT(strncmp(c, "SELECT $1, $2, $3,", 18) == 0);
  ASSERT_STR_CONTAINS(c, ", $80000, $1, $80000");
  uvsql_stmt_free(st);
  free(sql);
}
