/* tests/test_mariadb_rows.c — MariaDB binary-protocol rows read as they arrive (stream.c,
 * decode.c's row reader): a result many network buffers long with NULLs, BLOBs and values of
 * every length prefix, every column type decoded from the wire, and what ends a result in the
 * middle of its rows: a server error, a cancel, a killed connection. A real server
 * (UVSQL_TEST_MARIADB_URL). */
#include "backend.h"

#define EPOCH_2024_US 1704067200000000LL /* 2024-01-01 00:00:00 UTC in µs since 1970 */

static int64_t conn_int(uvsql_conn_t *c, const char *sql) {
  uvsql_future_t *f = uvsql_conn_execute_sql(c, sql, NULL, 0, NULL, NULL);
  int64_t v = 0;
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(f), 0, 0, &v), (uvsql_error_t *)NULL);
  uvsql_future_unref(f);
  return v;
}

TEST(rows_many_buffers_long_come_back_whole_with_nulls_blobs_and_long_values) {
  fixture_t fx = fixture_open(test_mariadb_url(), NULL);
  uvsql_param_t p[] = {UVSQL_P_INT64("n", 20000)};
  uvsql_result_t *r = query(&fx,
                            "SELECT seq, IF(seq % 3 = 0, NULL, CONCAT('n', seq)) AS name, "
                            "CAST(REPEAT('b', seq % 700) AS BINARY) AS bin, seq * 0.5e0 AS x, "
                            "TIMESTAMP'2024-01-01 00:00:00.5' + INTERVAL seq SECOND AS ts, "
                            "REPEAT('t', IF(seq = 7, 70000, 3)) AS lng "
                            "FROM seq_1_to_20000 WHERE seq <= :n ORDER BY seq",
                            p, 1);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 20000);
  ASSERT_INT_EQ(uvsql_result_coltype(r, 2), UVSQL_TYPE_BYTES);
  for (size_t i = 0; i < 20000; i++) {
    int64_t seq = (int64_t)i + 1, v, ts;
    double x;
    const char *s;
    size_t len;
    const void *b;
    ASSERT_OK(uvsql_result_int64(r, i, 0, &v), (uvsql_error_t *)NULL);
    ASSERT_INT_EQ(v, seq);
    if (seq % 3 == 0) {
      ASSERT(uvsql_result_is_null(r, i, 1));
    } else {
      char want[16];
      snprintf(want, sizeof want, "n%lld", (long long)seq);
      ASSERT_OK(uvsql_result_text(r, i, 1, &s, &len), (uvsql_error_t *)NULL);
      ASSERT_STR_EQ(s, want);
    }
    ASSERT_OK(uvsql_result_bytes(r, i, 2, &b, &len), (uvsql_error_t *)NULL);
    ASSERT_INT_EQ((int64_t)len, seq % 700); /* 1-byte and 3-byte length prefixes */
    ASSERT(len == 0 || (((const char *)b)[0] == 'b' && ((const char *)b)[len - 1] == 'b'));
    ASSERT_OK(uvsql_result_double(r, i, 3, &x), (uvsql_error_t *)NULL);
    ASSERT(x == (double)seq * 0.5);
    ASSERT_OK(uvsql_result_timestamp(r, i, 4, &ts), (uvsql_error_t *)NULL);
    ASSERT_INT_EQ(ts, EPOCH_2024_US + seq * 1000000 + 500000);
    ASSERT_OK(uvsql_result_text(r, i, 5, &s, &len), (uvsql_error_t *)NULL);
    ASSERT_INT_EQ((int64_t)len, seq == 7 ? 70000 : 3); /* 70000: a 4-byte length prefix */
    ASSERT(s[0] == 't' && s[len - 1] == 't' && s[len] == '\0');
  }
  uvsql_result_free(r);
  /* No row: the columns are still there. */
  r = query(&fx, "SELECT seq AS a, 'x' AS b FROM seq_1_to_3 WHERE seq > :n", p, 1);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 0);
  ASSERT_INT_EQ(uvsql_result_ncols(r), 2);
  ASSERT_STR_EQ(uvsql_result_colname(r, 1), "b");
  uvsql_result_free(r);
  fixture_close(&fx);
}

TEST(every_column_type_is_decoded_from_the_wire) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 1; /* one session: the sql_mode set below is the INSERT's */
  fixture_t fx = fixture_open(test_mariadb_url(), &opt);
  const char *t = test_unique_name("myrows_types");
  char sql[1024];
  snprintf(sql, sizeof sql,
           "CREATE TABLE %s (k INT PRIMARY KEY, b TINYINT(1), ti TINYINT, tu TINYINT UNSIGNED, "
           "si SMALLINT, su SMALLINT UNSIGNED, mi MEDIUMINT, i INT, iu INT UNSIGNED, "
           "bu BIGINT UNSIGNED, f FLOAT, d DOUBLE, dec_ DECIMAL(10,2), dt DATE, tm TIME(1), "
           "y YEAR, bits BIT(8), zd DATETIME)",
           t);
  exec_ok(&fx, sql);
  exec_ok(&fx, "SET SESSION sql_mode = ''"); /* a zero date is allowed */
  snprintf(sql, sizeof sql,
           "INSERT INTO %s VALUES (1, 1, -5, 250, -30000, 65000, -8000000, -2000000000, "
           "4000000000, 18446744073709551615, 1.5, -2.25, -12.50, '2024-02-29', "
           "'-100:00:01.5', 2024, b'10100101', '0000-00-00 00:00:00'), "
           "(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
           "NULL, NULL, NULL, NULL)",
           t);
  exec_ok(&fx, sql);
  snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE k >= :k ORDER BY k", t);
  uvsql_param_t p[] = {UVSQL_P_INT64("k", 1)};
  uvsql_result_t *r = query(&fx, sql, p, 1);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 2);
  int64_t v;
  int flag;
  double x;
  const char *s;
  const void *bytes;
  size_t len;
  ASSERT_OK(uvsql_result_bool(r, 0, 1, &flag), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(flag, 1);
  static const int64_t ints[] = {-5, 250, -30000, 65000, -8000000, -2000000000, 4000000000LL};
  for (int c = 0; c < 7; c++) {
    ASSERT_OK(uvsql_result_int64(r, 0, (size_t)c + 2, &v), (uvsql_error_t *)NULL);
    ASSERT_INT_EQ(v, ints[c]);
  }
  /* BIGINT UNSIGNED above INT64_MAX is the server's text */
  ASSERT_OK(uvsql_result_text(r, 0, 9, &s, NULL), (uvsql_error_t *)NULL);
  ASSERT_STR_EQ(s, "18446744073709551615");
  ASSERT_OK(uvsql_result_double(r, 0, 10, &x), (uvsql_error_t *)NULL);
  ASSERT(x == 1.5);
  ASSERT_OK(uvsql_result_double(r, 0, 11, &x), (uvsql_error_t *)NULL);
  ASSERT(x == -2.25);
  ASSERT_INT_EQ(uvsql_result_coltype(r, 12), UVSQL_TYPE_NUMERIC);
  ASSERT_STR_EQ(uvsql_result_value(r, 0, 12)->u.s.ptr, "-12.50");
  ASSERT_OK(uvsql_result_date(r, 0, 13, &v), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(v, 19782); /* 2024-02-29 in days since 1970-01-01 */
  ASSERT_OK(uvsql_result_time(r, 0, 14, &v), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(v, -(100LL * 3600 + 1) * 1000000 - 500000); /* days on the wire become hours */
  ASSERT_OK(uvsql_result_int64(r, 0, 15, &v), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(v, 2024);
  ASSERT_OK(uvsql_result_bytes(r, 0, 16, &bytes, &len), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ((int64_t)len, 1);
  ASSERT_INT_EQ(((const unsigned char *)bytes)[0], 0xA5);
  ASSERT_OK(uvsql_result_text(r, 0, 17, &s, NULL), (uvsql_error_t *)NULL);
  ASSERT_STR_EQ(s, "0000-00-00 00:00:00"); /* a zero date has no place on the calendar */
  for (size_t c = 1; c < uvsql_result_ncols(r); c++)
    ASSERT(uvsql_result_is_null(r, 1, c));
  uvsql_result_free(r);
  exec_ok(&fx, "SET SESSION sql_mode = DEFAULT");
  snprintf(sql, sizeof sql, "DROP TABLE %s", t);
  exec_ok(&fx, sql);
  fixture_close(&fx);
}

/* Row 15000's scalar subquery has two rows: the server has sent the rows before it when it
 * fails, so the error arrives in the middle of the result. */
#define FAILS_MIDWAY                                                                               \
  "SELECT s.seq, (SELECT t.seq FROM seq_1_to_2 t WHERE s.seq = 15000) AS bad, "                    \
  "REPEAT('r', 40) AS pad FROM seq_1_to_20000 s"

TEST(an_error_in_the_middle_of_the_rows_fails_that_statement_only) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 1;
  fixture_t fx = fixture_open(test_mariadb_url(), &opt);
  uvsql_conn_t *c = checkout(&fx);
  uvsql_future_t *bad = uvsql_conn_execute_sql(c, FAILS_MIDWAY, NULL, 0, NULL, NULL);
  uvsql_future_t *next = uvsql_conn_execute_sql(c, "SELECT 40 + 2", NULL, 0, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(bad, UVSQL_EOPERATIONAL);
  printf("%s\n", e->message);
  ASSERT_INT_EQ(e->native_code, 1242);
  ASSERT_STR_CONTAINS(e->message, "Subquery returns more than 1 row [SQL: SELECT s.seq");
  int64_t v;
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(next), 0, 0, &v), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(v, 42);
  uvsql_future_unref(bad);
  uvsql_future_unref(next);
  /* The same text again (its statement was dropped from the cache) fails the same way. */
  bad = uvsql_conn_execute_sql(c, FAILS_MIDWAY, NULL, 0, NULL, NULL);
  ASSERT_INT_EQ(AWAIT_ERR(bad, UVSQL_EOPERATIONAL)->native_code, 1242);
  uvsql_future_unref(bad);
  ASSERT_INT_EQ(conn_int(c, "SELECT 7"), 7);
  uvsql_conn_release(c);
  fixture_close(&fx);
}

/* Rows up to 3000 arrive, then the server sleeps inside the result. */
#define STALLS_MIDWAY                                                                              \
  "SELECT seq, IF(seq = 3000, SLEEP(20), 0) AS z, REPEAT('r', 40) AS pad FROM seq_1_to_6000"

TEST(cancel_in_the_middle_of_the_rows_settles_cancelled_within_a_second) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 1;
  fixture_t fx = fixture_open(test_mariadb_url(), &opt);
  uvsql_conn_t *c = checkout(&fx);
  uvsql_future_t *f = uvsql_conn_execute_sql(c, STALLS_MIDWAY, NULL, 0, NULL, NULL);
  test_sleep(fx.loop, 300); /* the first rows have been read */
  ASSERT_INT_EQ(uvsql_future_state(f), UVSQL_FUTURE_PENDING);
  uint64_t start = uv_hrtime();
  ASSERT_INT_EQ(uvsql_future_cancel(f), 0);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ECANCELLED);
  double ms = (double)(uv_hrtime() - start) / 1e6;
  printf("cancel settled in %.1f ms: %s\n", ms, e->message);
  ASSERT(ms < 1000);
  ASSERT_STR_CONTAINS(e->message, "the statement was cancelled (KILL QUERY ");
  uvsql_future_unref(f);
  ASSERT_INT_EQ(conn_int(c, "SELECT 6 * 7"), 42);
  uvsql_conn_release(c);
  fixture_close(&fx);
}

TEST(a_connection_killed_in_the_middle_of_the_rows_fails_with_disconnect) {
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 2;
  fixture_t fx = fixture_open(test_mariadb_url(), &opt);
  uvsql_conn_t *victim = checkout(&fx);
  uvsql_conn_t *killer = checkout(&fx);
  int64_t id = conn_int(victim, "SELECT CONNECTION_ID()");
  uvsql_future_t *f = uvsql_conn_execute_sql(victim, STALLS_MIDWAY, NULL, 0, NULL, NULL);
  uvsql_future_t *queued = uvsql_conn_execute_sql(victim, "SELECT 1", NULL, 0, NULL, NULL);
  test_sleep(fx.loop, 300);
  char sql[64];
  snprintf(sql, sizeof sql, "KILL CONNECTION %lld", (long long)id);
  conn_exec_ok(killer, sql);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EDISCONNECT);
  printf("victim: %s (native %d)\n", e->message, e->native_code);
  ASSERT(e->native_code == 1927 || e->native_code == 2013 || e->native_code == 2006);
  uvsql_future_unref(f);
  AWAIT_ERR(queued, UVSQL_EDISCONNECT);
  uvsql_future_unref(queued);
  uvsql_conn_release(victim);
  ASSERT_INT_EQ(conn_int(killer, "SELECT 5"), 5);
  uvsql_conn_release(killer);
  fixture_close(&fx);
}
