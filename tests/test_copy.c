/* tests/test_copy.c — bulk copy: uvsql_engine_copy_in / copy_out.
 * PostgreSQL: binary COPY of 1,000,000 rows of five columns (int8, text, float8, timestamp,
 * bool, with NULLs) in and out again with the process's memory bounded (RSS growth checked,
 * not just completion), cancel and a source's stop (nothing written), values of the wrong kind,
 * a missing table, a consumer's stop; MariaDB and SQLite: the same call through multi-row
 * INSERTs (100,000 rows, counts and sums verified) and copy_out as a stream. */
#include <unistd.h>
#include "backend.h"

/* ------------------------------------------------------------------ rows */

#define T0 INT64_C(1700000000000000) /* 2023-11-14, in microseconds since 1970 */

/* Row i (0-based): id i+1, name "n<i>" (NULL when i % 7 == 3), score i * 0.5, at T0 + i s,
 * ok i % 2 == 0 (NULL when i % 11 == 5). */
typedef struct {
  uint64_t total; /* rows to give; UINT64_MAX: never ends */
  uint64_t next;
  uint64_t calls;
  int stop_at_call; /* return 1 at this call (1-based); 0: never */
  uvsql_future_t **cancel_f;
  int cancel_at_call;
  uvsql_value_t buf[1000 * 5];
  char text[1000][24];
  long peak_rss_kb;
} source_t;

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

static int source_cb(size_t max_rows, const uvsql_value_t **rows, size_t *nrows, void *data) {
  source_t *s = data;
  size_t n = 0;
  s->calls++;
  if (s->stop_at_call && s->calls == (uint64_t)s->stop_at_call)
    return 1;
  if (s->cancel_f && s->calls == (uint64_t)s->cancel_at_call)
    ASSERT_INT_EQ(uvsql_future_cancel(*s->cancel_f), 0);
  if (max_rows > 1000)
    max_rows = 1000;
  while (n < max_rows && s->next < s->total) {
    uint64_t i = s->next++;
    uvsql_value_t *v = &s->buf[n * 5];
    int len = snprintf(s->text[n], sizeof s->text[n], "n%" PRIu64, i);
    v[0] = UVSQL_V_INT64((int64_t)i + 1);
    v[1] = i % 7 == 3 ? UVSQL_V_NULL() : UVSQL_V_TEXTN(s->text[n], (size_t)len);
    v[2] = UVSQL_V_DOUBLE((double)i * 0.5);
    v[3] = UVSQL_V_TIMESTAMP(T0 + (int64_t)i * 1000000);
    v[4] = i % 11 == 5 ? UVSQL_V_NULL() : UVSQL_V_BOOL(i % 2 == 0);
    n++;
  }
  *rows = s->buf;
  *nrows = n;
  long r = rss_kb();
  if (r > s->peak_rss_kb)
    s->peak_rss_kb = r;
  return 0;
}

static const char *const cols[] = {"id", "Name", "score", "at", "ok"};

/* Checks row i of a copied-out batch. */
static void check_row(const uvsql_result_t *b, size_t r, uint64_t i) {
  int64_t id = 0, at = 0;
  double score = 0;
  int ok = 0;
  ASSERT_OK(uvsql_result_int64(b, r, 0, &id), (uvsql_error_t *)NULL);
  if ((uint64_t)id != i + 1)
    FAILF("row %" PRIu64 ": id %" PRId64, i, id);
  if (i % 7 == 3) {
    ASSERT(uvsql_result_is_null(b, r, 1));
  } else {
    char want[24];
    const uvsql_value_t *v = uvsql_result_value(b, r, 1);
    snprintf(want, sizeof want, "n%" PRIu64, i);
    ASSERT(v->type == UVSQL_TYPE_TEXT && v->u.s.len == strlen(want) &&
           memcmp(v->u.s.ptr, want, v->u.s.len) == 0);
  }
  ASSERT_OK(uvsql_result_double(b, r, 2, &score), (uvsql_error_t *)NULL);
  ASSERT(score == (double)i * 0.5);
  const uvsql_value_t *tv = uvsql_result_value(b, r, 3);
  ASSERT(tv->type == UVSQL_TYPE_TIMESTAMP || tv->type == UVSQL_TYPE_TEXT);
  if (tv->type == UVSQL_TYPE_TIMESTAMP) {
    at = tv->u.i64;
    ASSERT_INT_EQ(at, T0 + (int64_t)i * 1000000);
  }
  if (i % 11 == 5) {
    ASSERT(uvsql_result_is_null(b, r, 4));
  } else {
    int64_t o = 0;
    if (uvsql_result_bool(b, r, 4, &ok) != 0) { /* MariaDB and SQLite: an integer */
      ASSERT_OK(uvsql_result_int64(b, r, 4, &o), (uvsql_error_t *)NULL);
      ok = (int)o;
    }
    ASSERT_INT_EQ(ok, i % 2 == 0);
  }
}

typedef struct {
  uint64_t next;
  uint64_t batches;
  int stop_after;
  long peak_rss_kb;
  uvsql_future_t **cancel_f; /* cancelled after cancel_after batches */
  int cancel_after;
} sink_t;

static int sink_cb(const uvsql_result_t *b, void *data) {
  sink_t *s = data;
  ASSERT_INT_EQ(uvsql_result_ncols(b), 5);
  ASSERT_STR_EQ(uvsql_result_colname(b, 1), "Name");
  for (size_t r = 0; r < uvsql_result_nrows(b); r++)
    check_row(b, r, s->next++);
  s->batches++;
  if (s->cancel_f && s->batches == (uint64_t)s->cancel_after)
    ASSERT_INT_EQ(uvsql_future_cancel(*s->cancel_f), 0);
  long rss = rss_kb();
  if (rss > s->peak_rss_kb)
    s->peak_rss_kb = rss;
  return s->stop_after && s->batches >= (uint64_t)s->stop_after;
}

static void create_table(fixture_t *fx, const char *table, const char *dialect) {
  char sql[512];
  snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", table);
  exec_ok(fx, sql);
  if (strcmp(dialect, "mariadb") == 0)
    snprintf(sql, sizeof sql,
             "CREATE TABLE %s (id BIGINT PRIMARY KEY, `Name` TEXT, score DOUBLE, at DATETIME(6), "
             "ok BOOLEAN)",
             table);
  else if (strcmp(dialect, "sqlite") == 0)
    snprintf(sql, sizeof sql,
             "CREATE TABLE %s (id INTEGER PRIMARY KEY, \"Name\" TEXT, score REAL, at TIMESTAMP, "
             "ok BOOLEAN)",
             table);
  else
    snprintf(sql, sizeof sql,
             "CREATE TABLE %s (id int8 PRIMARY KEY, \"Name\" text, score float8, at timestamp, "
             "ok bool)",
             table);
  exec_ok(fx, sql);
}

static void drop_table(fixture_t *fx, const char *table) {
  char sql[128];
  snprintf(sql, sizeof sql, "DROP TABLE %s", table);
  exec_ok(fx, sql);
}

static uvsql_copy_summary_t copy_in_ok(fixture_t *fx, const char *table, source_t *s,
                                       const uvsql_copy_options_t *opt) {
  uvsql_future_t *f =
      uvsql_engine_copy_in(fx->engine, table, cols, 5, source_cb, s, opt, NULL, NULL);
  uvsql_copy_summary_t sum = *(uvsql_copy_summary_t *)AWAIT_OK(f);
  uvsql_future_unref(f);
  return sum;
}

/* Counts, NULLs and sums of rows 0..n-1 as the server sees them. */
static void verify_table(fixture_t *fx, const char *table, int64_t n) {
  char where[64];
  ASSERT_INT_EQ(count_rows(fx, table, NULL), n);
  int64_t nulls = 0, onulls = 0, sum = 0;
  for (int64_t i = 0; i < n; i++) {
    nulls += i % 7 == 3;
    onulls += i % 11 == 5;
    sum += i + 1;
  }
  snprintf(where, sizeof where, "%s IS NULL",
           strcmp(uvsql_engine_dialect(fx->engine), "mariadb") ? "\"Name\"" : "`Name`");
  ASSERT_INT_EQ(count_rows(fx, table, where), nulls);
  ASSERT_INT_EQ(count_rows(fx, table, "ok IS NULL"), onulls);
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT CAST(sum(id) AS BIGINT) FROM %s", table);
  if (strcmp(uvsql_engine_dialect(fx->engine), "mariadb") == 0)
    snprintf(sql, sizeof sql, "SELECT CAST(sum(id) AS SIGNED) FROM %s", table);
  ASSERT_INT_EQ(query_int(fx, sql), sum);
}

/* ------------------------------------------------------------------ PostgreSQL */

TEST(pg_copy_in_and_out_1m_rows_memory_is_bounded) {
  fixture_t fx = fixture_open(test_pg_url(), NULL);
  const char *table = test_unique_name("lc_copy_big");
  create_table(&fx, table, "postgresql");
  static source_t s;
  memset(&s, 0, sizeof s);
  s.total = 1000000;
  long base = rss_kb();
  uvsql_copy_summary_t sum = copy_in_ok(&fx, table, &s, NULL);
  ASSERT_INT_EQ(sum.rows, 1000000);
  ASSERT_INT_EQ(sum.batches, 1000);
  verify_table(&fx, table, 1000000);
  /* 1,000,000 rows are ~45 MB in COPY format: growth by much less means nothing piled up */
  fprintf(stderr, "copy_in: RSS %ld kB before, peak %ld kB\n", base, s.peak_rss_kb);
#if !defined(__SANITIZE_ADDRESS__) /* ASan keeps freed memory in quarantine: RSS says nothing */
  if (s.peak_rss_kb - base > 16 * 1024)
    FAILF("copy_in: RSS grew by %ld kB (from %ld kB)", s.peak_rss_kb - base, base);
#endif
  {
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT id FROM %s WHERE \"Name\" = 'n123456' AND score = 61728 AND ok AND "
             "extract(epoch FROM at) = 1700123456",
             table);
    ASSERT_INT_EQ(query_int(&fx, sql), 123457);
  }

  sink_t k = {0};
  base = rss_kb();
  uvsql_copy_options_t opt = UVSQL_COPY_OPTIONS_INIT;
  opt.batch_rows = 5000;
  char q[160];
  snprintf(q, sizeof q, "SELECT id, \"Name\", score, at, ok FROM %s ORDER BY id", table);
  uvsql_future_t *f = uvsql_engine_copy_out(fx.engine, q, sink_cb, &k, &opt, NULL, NULL);
  uvsql_stream_summary_t *ss = AWAIT_OK(f);
  ASSERT_INT_EQ(ss->rows, 1000000);
  ASSERT_INT_EQ(ss->batches, 200);
  ASSERT_INT_EQ(ss->stopped, 0);
  ASSERT_INT_EQ(k.next, 1000000);
  uvsql_future_unref(f);
  fprintf(stderr, "copy_out: RSS %ld kB before, peak %ld kB\n", base, k.peak_rss_kb);
#if !defined(__SANITIZE_ADDRESS__) /* ASan keeps freed memory in quarantine: RSS says nothing */
  if (k.peak_rss_kb - base > 16 * 1024)
    FAILF("copy_out: RSS grew by %ld kB (from %ld kB)", k.peak_rss_kb - base, base);
#endif
  drop_table(&fx, table);
  fixture_close(&fx);
}

TEST(pg_copy_out_of_a_table_name_and_a_consumer_stop) {
  fixture_t fx = fixture_open(test_pg_url(), NULL);
  const char *table = test_unique_name("lc_copy_out");
  create_table(&fx, table, "postgresql");
  static source_t s;
  memset(&s, 0, sizeof s);
  s.total = 30000;
  copy_in_ok(&fx, table, &s, NULL);
  sink_t k = {0};
  k.stop_after = 2;
  uvsql_copy_options_t opt = UVSQL_COPY_OPTIONS_INIT;
  opt.batch_rows = 1000;
  /* a table name: copied in its physical order, which here is the insertion order */
  uvsql_future_t *f = uvsql_engine_copy_out(fx.engine, table, sink_cb, &k, &opt, NULL, NULL);
  uvsql_stream_summary_t *ss = AWAIT_OK(f);
  ASSERT_INT_EQ(ss->stopped, 1);
  ASSERT_INT_EQ(ss->batches, 2);
  ASSERT_INT_EQ(ss->rows, 2000);
  ASSERT_INT_EQ(k.next, 2000);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(count_rows(&fx, table, NULL), 30000); /* the pool goes on */

  /* cancelled from the consumer: UVSQL_ECANCELLED, and the pool goes on */
  sink_t k2 = {0};
  uvsql_future_t *cf = NULL;
  k2.cancel_f = &cf;
  k2.cancel_after = 2;
  cf = uvsql_engine_copy_out(fx.engine, table, sink_cb, &k2, &opt, NULL, NULL);
  AWAIT_ERR(cf, UVSQL_ECANCELLED);
  uvsql_future_unref(cf);
  ASSERT(k2.batches >= 2 && k2.batches < 30);
  ASSERT_INT_EQ(count_rows(&fx, table, NULL), 30000);
  drop_table(&fx, table);
  fixture_close(&fx);
}

TEST(pg_copy_in_cancelled_while_running_writes_nothing) {
  uvsql_engine_options_t eo = UVSQL_ENGINE_OPTIONS_INIT;
  eo.pool_size = 1;
  eo.max_overflow = 0;
  fixture_t fx = fixture_open(test_pg_url(), &eo);
  const char *table = test_unique_name("lc_copy_cancel");
  create_table(&fx, table, "postgresql");
  static source_t s;
  memset(&s, 0, sizeof s);
  s.total = UINT64_MAX; /* never ends by itself */
  uvsql_future_t *f = NULL;
  s.cancel_f = &f;
  s.cancel_at_call = 50;
  f = uvsql_engine_copy_in(fx.engine, table, cols, 5, source_cb, &s, NULL, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ECANCELLED);
  ASSERT_STR_CONTAINS(e->message, "the copy was cancelled: nothing was written");
  uvsql_future_unref(f);
  ASSERT(s.calls >= 50 && s.calls <= 52);         /* the source is not asked again */
  ASSERT_INT_EQ(count_rows(&fx, table, NULL), 0); /* on the same (only) connection */
  drop_table(&fx, table);
  fixture_close(&fx);
}

TEST(pg_copy_in_source_stop_and_bad_values_write_nothing) {
  fixture_t fx = fixture_open(test_pg_url(), NULL);
  const char *table = test_unique_name("lc_copy_stop");
  create_table(&fx, table, "postgresql");
  static source_t s;
  memset(&s, 0, sizeof s);
  s.total = 100000;
  s.stop_at_call = 3;
  uvsql_future_t *f =
      uvsql_engine_copy_in(fx.engine, table, cols, 5, source_cb, &s, NULL, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ECANCELLED);
  ASSERT_STR_CONTAINS(e->message,
                      "the row source returned 1 after 2000 rows: the copy was abandoned and "
                      "nothing was written");
  uvsql_future_unref(f);
  ASSERT_INT_EQ(count_rows(&fx, table, NULL), 0);

  /* a source with no rows at all: a valid, empty copy */
  static const char *const two[] = {"Name", "id"};
  memset(&s, 0, sizeof s);
  f = uvsql_engine_copy_in(fx.engine, table, two, 2, source_cb, &s, NULL, NULL, NULL);
  AWAIT_OK(f); /* zero rows: a valid, empty copy */
  ASSERT_INT_EQ(((uvsql_copy_summary_t *)uvsql_future_value(f))->rows, 0);
  uvsql_future_unref(f);
  drop_table(&fx, table);
  fixture_close(&fx);
}

typedef struct {
  const uvsql_value_t *row;
  int calls;
} one_t;

static int one_row_cb(size_t max_rows, const uvsql_value_t **rows, size_t *nrows, void *data) {
  one_t *o = data;
  ASSERT(max_rows >= 1);
  *rows = o->row;
  *nrows = o->calls++ == 0 ? 1 : 0;
  return 0;
}

TEST(pg_copy_in_value_of_the_wrong_kind_names_row_and_column) {
  fixture_t fx = fixture_open(test_pg_url(), NULL);
  const char *table = test_unique_name("lc_copy_kind");
  create_table(&fx, table, "postgresql");
  static const char *const two[] = {"Name", "id"};
  uvsql_value_t row[2] = {UVSQL_V_TEXT("x"), UVSQL_V_TEXT("1")};
  one_t o = {row, 0};
  uvsql_future_t *f =
      uvsql_engine_copy_in(fx.engine, table, two, 2, one_row_cb, &o, NULL, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(e->message, "row 1, column \"id\": a text value cannot be copied into a "
                                  "column of type oid 20: give a value of the column's type");
  uvsql_future_unref(f);

  /* the right kinds: written */
  uvsql_value_t good[2] = {UVSQL_V_TEXT("solo"), UVSQL_V_INT64(42)};
  one_t o2 = {good, 0};
  f = uvsql_engine_copy_in(fx.engine, table, two, 2, one_row_cb, &o2, NULL, NULL, NULL);
  ASSERT_INT_EQ(((uvsql_copy_summary_t *)AWAIT_OK(f))->rows, 1);
  uvsql_future_unref(f);
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE \"Name\" = 'solo'", table);
  ASSERT_INT_EQ(query_int(&fx, sql), 42);

  /* a table that does not exist: the server's error */
  o2.calls = 0;
  f = uvsql_engine_copy_in(fx.engine, "lc_no_such_table", two, 2, one_row_cb, &o2, NULL, NULL,
                           NULL);
  e = AWAIT_ERR(f, UVSQL_EPROGRAMMING);
  ASSERT_STR_CONTAINS(e->message, "relation \"lc_no_such_table\" does not exist");
  uvsql_future_unref(f);

  /* bad arguments */
  f = uvsql_engine_copy_in(fx.engine, table, two, 0, one_row_cb, &o2, NULL, NULL, NULL);
  e = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(e->message, "a table name, at least one column and a row source");
  uvsql_future_unref(f);
  f = uvsql_engine_copy_out(fx.engine, table, NULL, NULL, NULL, NULL, NULL);
  e = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(e->message, "on_batch are required");
  uvsql_future_unref(f);

  /* a column copy_out cannot decode in binary: refused, naming it and the cast */
  sink_t k = {0};
  f = uvsql_engine_copy_out(fx.engine, "SELECT '(1,2)'::point AS amount", sink_cb, &k, NULL, NULL,
                            NULL);
  e = AWAIT_ERR(f, UVSQL_ENOT_SUPPORTED);
  ASSERT_STR_CONTAINS(e->message, "column \"amount\" has type oid 600, which uvsql cannot read "
                                  "from a binary COPY: cast it to text");
  uvsql_future_unref(f);
  ASSERT_INT_EQ(k.batches, 0);
  ASSERT_INT_EQ(query_int(&fx, "SELECT 7"), 7); /* the pool goes on */

  /* COPY as a plain statement is refused, pointing at the copy calls */
  snprintf(sql, sizeof sql, "COPY %s FROM STDIN", table);
  f = uvsql_engine_execute_sql(fx.engine, sql, NULL, 0, NULL, NULL);
  e = AWAIT_ERR(f, UVSQL_ENOT_SUPPORTED);
  ASSERT_STR_CONTAINS(e->message, "use uvsql_engine_copy_in / uvsql_engine_copy_out");
  uvsql_future_unref(f);
  drop_table(&fx, table);
  fixture_close(&fx);
}

TEST(pg_copy_in_through_inserts) {
  fixture_t fx = fixture_open(test_pg_url(), NULL);
  const char *table = test_unique_name("lc_copy_ins");
  create_table(&fx, table, "postgresql");
  static source_t s;
  memset(&s, 0, sizeof s);
  s.total = 20000;
  uvsql_copy_options_t opt = UVSQL_COPY_OPTIONS_INIT;
  opt.use_insert = 1;
  uvsql_copy_summary_t sum = copy_in_ok(&fx, table, &s, &opt);
  ASSERT_INT_EQ(sum.rows, 20000);
  verify_table(&fx, table, 20000);
  drop_table(&fx, table);
  fixture_close(&fx);
}

/* ------------------------------------------------------------------ MariaDB, SQLite */

static void copy_other(const char *url, const char *dialect) {
  fixture_t fx = fixture_open(url, NULL);
  const char *table = test_unique_name("lc_copy");
  create_table(&fx, table, dialect);
  static source_t s;
  memset(&s, 0, sizeof s);
  s.total = 100000;
  uvsql_copy_summary_t sum = copy_in_ok(&fx, table, &s, NULL);
  ASSERT_INT_EQ(sum.rows, 100000);
  ASSERT_INT_EQ(sum.batches, 100);
  verify_table(&fx, table, 100000);

  sink_t k = {0};
  char q[160];
  const char *qn = strcmp(dialect, "mariadb") == 0 ? "`Name`" : "\"Name\"";
  snprintf(q, sizeof q, "SELECT id, %s, score, at, ok FROM %s ORDER BY id", qn, table);
  uvsql_future_t *f = uvsql_engine_copy_out(fx.engine, q, sink_cb, &k, NULL, NULL, NULL);
  uvsql_stream_summary_t *ss = AWAIT_OK(f);
  ASSERT_INT_EQ(ss->rows, 100000);
  ASSERT_INT_EQ(k.next, 100000);
  uvsql_future_unref(f);

  /* a stopping source: all or nothing (one transaction) */
  char sql[128];
  snprintf(sql, sizeof sql, "DELETE FROM %s", table);
  exec_ok(&fx, sql);
  memset(&s, 0, sizeof s);
  s.total = 100000;
  s.stop_at_call = 5;
  f = uvsql_engine_copy_in(fx.engine, table, cols, 5, source_cb, &s, NULL, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ECANCELLED);
  ASSERT_STR_CONTAINS(e->message, "the row source returned 1 after 4000 rows");
  uvsql_future_unref(f);
  ASSERT_INT_EQ(count_rows(&fx, table, NULL), 0);

  /* a duplicate key: the server's error, nothing written */
  memset(&s, 0, sizeof s);
  s.total = 10;
  copy_in_ok(&fx, table, &s, NULL);
  memset(&s, 0, sizeof s);
  s.total = 2000;
  f = uvsql_engine_copy_in(fx.engine, table, cols, 5, source_cb, &s, NULL, NULL, NULL);
  AWAIT_ERR(f, UVSQL_EINTEGRITY);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(count_rows(&fx, table, NULL), 10);
  drop_table(&fx, table);
  fixture_close(&fx);
}

TEST(mariadb_copy_in_100k_rows_through_inserts) {
  copy_other(test_mariadb_url(), "mariadb");
}

TEST(sqlite_copy_in_100k_rows_in_one_transaction) {
  copy_other(test_sqlite_url(), "sqlite");
}
