/* tests/test_sqlite_driver.c — the SQLite driver through the driver interface (driver.h), on
 * real database files (test_sqlite_url makes a fresh one each time). What a user of the engine
 * would see: values, error codes, messages, cancellation, and a loop that never blocks. */
#include <sqlite3.h>
#include "harness.h"
#include "engine/stmt_api.h"
#include "dialects/driver.h"
#include "dialects/sqlite/sqlite.h"

/* ------------------------------------------------------------------ helpers */

typedef struct {
  uv_loop_t *loop;
  const uvsql__driver_t *drv;
  uvsql__dconn_t *dc;
  uvsql_url_t *url;
} db_t;

typedef struct {
  int called;
  uvsql_error_t err;
} connect_state_t;

static void on_connected(uvsql__dconn_t *dc, const uvsql_error_t *err, void *data) {
  connect_state_t *cs = data;
  (void)dc;
  cs->called++;
  if (err)
    cs->err = *err;
}

static void on_closed(void *data) {
  ++*(int *)data;
}

/* Connects and waits; returns 0 or the error code (err filled). */
static int db_try_open(db_t *db, uv_loop_t *loop, const char *url, int cache_size,
                       uvsql_error_t *err) {
  connect_state_t cs = {0};
  uvsql__dconn_options_t opt = {0, cache_size};
  uvsql_error_t perr;
  memset(db, 0, sizeof *db);
  db->loop = loop;
  db->drv = uvsql__backend_find("sqlite")->driver;
  ASSERT(db->drv != NULL);
  ASSERT_OK(uvsql_url_parse(&db->url, url, &perr), &perr);
  ASSERT_OK(db->drv->connect(&db->dc, loop, db->url, &opt, on_connected, &cs, &perr), &perr);
  ASSERT(db->dc != NULL);
  ASSERT_INT_EQ(cs.called, 0); /* never before connect returns */
  while (!cs.called)
    uv_run(loop, UV_RUN_ONCE);
  ASSERT_INT_EQ(cs.called, 1);
  *err = cs.err;
  return cs.err.code;
}

static db_t db_open_cache(uv_loop_t *loop, const char *url, int cache_size) {
  db_t db;
  uvsql_error_t err;
  ASSERT_OK(db_try_open(&db, loop, url, cache_size, &err), &err);
  return db;
}

static db_t db_open(uv_loop_t *loop, const char *url) {
  return db_open_cache(loop, url, 100);
}

static void db_close(db_t *db) {
  int closed = 0;
  db->drv->close(db->dc, on_closed, &closed);
  while (!closed)
    uv_run(db->loop, UV_RUN_ONCE);
  ASSERT_INT_EQ(closed, 1);
  uvsql_url_free(db->url);
}

typedef struct {
  uvsql__request_t req;
  int done;
  uvsql_result_t *result;
  uvsql_error_t err;
  uint64_t done_ns;
  uv_thread_t thread;
} call_t;

static void on_done(uvsql__request_t *req, uvsql_result_t *result, const uvsql_error_t *err) {
  call_t *c = req->data;
  c->done++;
  c->result = result;
  c->done_ns = uv_hrtime();
  c->thread = uv_thread_self();
  if (err)
    c->err = *err;
}

static void call_start(db_t *db, call_t *c, const char *sql, const uvsql_value_t *params, int n) {
  memset(c, 0, sizeof *c);
  c->req.sql = sql;
  c->req.sql_len = strlen(sql);
  c->req.params = params;
  c->req.nparams = n;
  c->req.done = on_done;
  c->req.data = c;
  db->drv->submit(db->dc, &c->req);
  ASSERT_INT_EQ(c->done, 0); /* never before submit returns */
}

static void call_wait(db_t *db, call_t *c) {
  while (!c->done)
    uv_run(db->loop, UV_RUN_ONCE);
  ASSERT_INT_EQ(c->done, 1);
}

/* Runs sql and asserts success; the caller frees the result. */
static uvsql_result_t *run_ok(db_t *db, const char *sql, const uvsql_value_t *params, int n) {
  call_t c;
  call_start(db, &c, sql, params, n);
  call_wait(db, &c);
  if (c.err.code)
    FAILF("%s failed: %s: %s", sql, uvsql_err_name(c.err.code), c.err.message);
  ASSERT(c.result != NULL);
  return c.result;
}

static void exec_ok(db_t *db, const char *sql) {
  uvsql_result_free(run_ok(db, sql, NULL, 0));
}

/* Runs sql and asserts it fails with code; returns the error. */
static uvsql_error_t run_err(db_t *db, const char *sql, const uvsql_value_t *params, int n,
                             int code) {
  call_t c;
  call_start(db, &c, sql, params, n);
  call_wait(db, &c);
  if (c.err.code != code)
    FAILF("%s: expected %s, got %s: %s", sql, uvsql_err_name(code), uvsql_err_name(c.err.code),
          c.err.message);
  ASSERT(c.result == NULL);
  ASSERT(c.err.message[0] != '\0');
  return c.err;
}

static int64_t query_int(db_t *db, const char *sql) {
  uvsql_result_t *r = run_ok(db, sql, NULL, 0);
  int64_t v = 0;
  ASSERT_INT_EQ(uvsql_result_nrows(r), 1);
  ASSERT_OK(uvsql_result_int64(r, 0, 0, &v), NULL);
  uvsql_result_free(r);
  return v;
}

/* Counting to a billion takes minutes: only a cancel or close ends it. */
#define LONG_QUERY                                                                                 \
  "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) "          \
  "SELECT count(*) FROM c"

/* ------------------------------------------------------------------ the driver and its URL */

TEST(driver_is_registered_with_numbered_parameters) {
  const uvsql__driver_t *d = uvsql__backend_find("sqlite")->driver;
  ASSERT(d != NULL);
  ASSERT_STR_EQ(d->name, "sqlite");
  ASSERT_INT_EQ(d->paramstyle, UVSQL__PARAMSTYLE_NUMBERED);
  ASSERT_INT_EQ(d->max_params, 32766);
}

static int validate(const char *text, uvsql_error_t *err) {
  uvsql_url_t *url;
  ASSERT_OK(uvsql_url_parse(&url, text, err), err);
  int rc = uvsql__backend_find("sqlite")->driver->validate_url(url, err);
  uvsql_url_free(url);
  return rc;
}

TEST(url_options_are_accepted) {
  uvsql_error_t err;
  ASSERT_OK(
      validate("sqlite:///app.db?mode=ro&timeout=0.5&journal_mode=WAL&foreign_keys=off", &err),
      &err);
  ASSERT_OK(validate("sqlite:///app.db?busy_poll=off", &err), &err);
  ASSERT_OK(validate("sqlite:///app.db?busy_poll=yes", &err), &err);
  ASSERT_OK(validate("sqlite:///app.db?mode=rwc&timeout=30&journal_mode=delete", &err), &err);
  ASSERT_OK(validate("sqlite://", &err), &err);
}

TEST(unknown_url_option_is_named_with_the_accepted_ones) {
  uvsql_error_t err;
  ASSERT_ERR(validate("sqlite:///app.db?cache=shared", &err), UVSQL_EURL);
  ASSERT_INT_EQ(err.code, UVSQL_EURL);
  ASSERT_STR_CONTAINS(err.message, "unknown sqlite URL option \"cache\"");
  ASSERT_STR_CONTAINS(err.message, "mode, timeout, journal_mode, foreign_keys, busy_poll");
}

TEST(bad_url_option_values_say_what_is_expected) {
  uvsql_error_t err;
  ASSERT_ERR(validate("sqlite:///app.db?mode=rx", &err), UVSQL_EURL);
  ASSERT_STR_CONTAINS(err.message, "mode=rx: expected ro, rw or rwc");
  ASSERT_ERR(validate("sqlite:///app.db?timeout=soon", &err), UVSQL_EURL);
  ASSERT_STR_CONTAINS(err.message, "timeout=soon");
  ASSERT_ERR(validate("sqlite:///app.db?journal_mode=fast", &err), UVSQL_EURL);
  ASSERT_STR_CONTAINS(err.message, "journal_mode=fast");
  ASSERT_ERR(validate("sqlite:///app.db?foreign_keys=maybe", &err), UVSQL_EURL);
  ASSERT_STR_CONTAINS(err.message, "foreign_keys=maybe: expected on or off");
  ASSERT_ERR(validate("sqlite:///app.db?busy_poll=sometimes", &err), UVSQL_EURL);
  ASSERT_STR_EQ(err.message, "sqlite URL option busy_poll=sometimes: expected on or off (off: the "
                             "worker thread and the loop sleep between statements)");
}

/* ------------------------------------------------------------------ connecting */

TEST(open_failure_names_the_path_and_sqlites_reason) {
  uv_loop_t *loop = test_loop();
  db_t db;
  uvsql_error_t err;
  ASSERT_ERR(db_try_open(&db, loop, "sqlite:////nonexistent/dir/x.db", 100, &err), UVSQL_ECONNECT);
  ASSERT_STR_CONTAINS(err.message, "unable to open database file /nonexistent/dir/x.db: ");
  ASSERT_STR_CONTAINS(err.message, "(no such file or directory)");
  /* Not "use ?mode=rwc": rwc is the default, and it does not create directories. */
  ASSERT_STR_CONTAINS(err.message, "; the directory /nonexistent/dir does not exist: create it "
                                   "first (SQLite creates the database file, never its "
                                   "directory)");
  ASSERT(strstr(err.message, "mode=rwc") == NULL);
  ASSERT_INT_EQ(err.native_code & 0xff, SQLITE_CANTOPEN);
  db_close(&db); /* contract 1: after a failed connect cb the engine still closes */
  test_loop_close(loop);
}

TEST(read_only_mode_does_not_create_the_file) {
  uv_loop_t *loop = test_loop();
  char url[512];
  db_t db;
  uvsql_error_t err;
  snprintf(url, sizeof url, "%s?mode=ro", test_sqlite_url());
  ASSERT_ERR(db_try_open(&db, loop, url, 100, &err), UVSQL_ECONNECT);
  ASSERT_STR_CONTAINS(err.message, "unable to open database file");
  ASSERT_STR_CONTAINS(err.message, ": use mode=rwc (the default) to create it");
  db_close(&db);
  test_loop_close(loop);
}

TEST(read_only_mode_refuses_writes) {
  uv_loop_t *loop = test_loop();
  const char *url = test_sqlite_url();
  char ro[512];
  db_t db = db_open(loop, url);
  exec_ok(&db, "CREATE TABLE t (x INTEGER)");
  db_close(&db);
  snprintf(ro, sizeof ro, "%s?mode=ro", url);
  db = db_open(loop, ro);
  uvsql_error_t err = run_err(&db, "INSERT INTO t VALUES (1)", NULL, 0, UVSQL_EOPERATIONAL);
  ASSERT_STR_CONTAINS(err.message, "attempt to write a readonly database");
  ASSERT_INT_EQ(query_int(&db, "SELECT count(*) FROM t"), 0);
  db_close(&db);
  test_loop_close(loop);
}

TEST(a_file_that_is_not_a_database_fails_at_connect) {
  uv_loop_t *loop = test_loop();
  const char *url = test_sqlite_url();
  const char *path = url + strlen("sqlite:///");
  FILE *f = fopen(path, "w");
  ASSERT(f != NULL);
  for (int i = 0; i < 200; i++)
    fputs("this is not a database file\n", f);
  fclose(f);
  db_t db;
  uvsql_error_t err;
  ASSERT_ERR(db_try_open(&db, loop, url, 100, &err), UVSQL_ECONNECT);
  ASSERT_STR_CONTAINS(err.message, "file is not a database");
  ASSERT_STR_CONTAINS(err.message, path);
  db_close(&db);
  test_loop_close(loop);
}

TEST(in_memory_database) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, "sqlite://");
  exec_ok(&db, "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (41), (1)");
  ASSERT_INT_EQ(query_int(&db, "SELECT sum(x) FROM t"), 42);
  db_close(&db);
  test_loop_close(loop);
}

TEST(pragmas_from_the_url_are_applied) {
  uv_loop_t *loop = test_loop();
  char url[512];
  snprintf(url, sizeof url, "%s?journal_mode=wal&foreign_keys=off&timeout=2.5", test_sqlite_url());
  db_t db = db_open(loop, url);
  uvsql_result_t *r = run_ok(&db, "PRAGMA journal_mode", NULL, 0);
  const char *s;
  ASSERT_OK(uvsql_result_text(r, 0, 0, &s, NULL), NULL);
  ASSERT_STR_EQ(s, "wal");
  uvsql_result_free(r);
  ASSERT_INT_EQ(query_int(&db, "PRAGMA foreign_keys"), 0);
  ASSERT_INT_EQ(query_int(&db, "PRAGMA busy_timeout"), 2500);
  db_close(&db);
  test_loop_close(loop);
}

TEST(defaults_are_foreign_keys_on_and_a_five_second_busy_timeout) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  ASSERT_INT_EQ(query_int(&db, "PRAGMA foreign_keys"), 1);
  ASSERT_INT_EQ(query_int(&db, "PRAGMA busy_timeout"), 5000);
  db_close(&db);
  test_loop_close(loop);
}

TEST(close_while_connecting_never_calls_the_connect_cb) {
  uv_loop_t *loop = test_loop();
  uvsql_url_t *url;
  uvsql_error_t err;
  connect_state_t cs = {0};
  uvsql__dconn_t *dc;
  uvsql__dconn_options_t opt = {0, 100};
  int closed = 0;
  const uvsql__driver_t *d = uvsql__backend_find("sqlite")->driver;
  ASSERT_OK(uvsql_url_parse(&url, test_sqlite_url(), &err), &err);
  ASSERT_OK(d->connect(&dc, loop, url, &opt, on_connected, &cs, &err), &err);
  d->close(dc, on_closed, &closed);
  test_loop_close(loop);
  ASSERT_INT_EQ(cs.called, 0);
  ASSERT_INT_EQ(closed, 1);
  uvsql_url_free(url);
}

/* ------------------------------------------------------------------ values */

TEST(every_type_round_trips) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  static const char utf8[] = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac";
  static const char bin[] = {'\0', 'a', '\0', '\xff', '\0'};
  int64_t day = uvsql_days_from_civil(2024, 5, 1);
  int64_t tod = ((12 * 60 + 30) * 60) * INT64_C(1000000) + 123;
  int64_t ts = day * INT64_C(86400000000) + tod;
  exec_ok(&db, "CREATE TABLE t (id INTEGER PRIMARY KEY, b BOOLEAN, i BIGINT, d DOUBLE PRECISION,"
               " s TEXT, bin BLOB, dt DATE, tm TIME, ts TIMESTAMP, tz TIMESTAMPTZ, n INTEGER)");
  uvsql_value_t row1[] = {
      UVSQL_V_INT64(1),        UVSQL_V_BOOL(1),    UVSQL_V_INT64(INT64_MAX),
      UVSQL_V_DOUBLE(3.25),    UVSQL_V_TEXT(utf8), UVSQL_V_BYTES(bin, sizeof bin),
      UVSQL_V_DATE(day),       UVSQL_V_TIME(tod),  UVSQL_V_TIMESTAMP(ts),
      UVSQL_V_TIMESTAMPTZ(ts), UVSQL_V_NULL()};
  uvsql_value_t row2[] = {UVSQL_V_INT64(2),       UVSQL_V_BOOL(0),  UVSQL_V_INT64(INT64_MIN),
                          UVSQL_V_DOUBLE(-1e300), UVSQL_V_TEXT(""), UVSQL_V_BYTES("", 0),
                          UVSQL_V_NULL(),         UVSQL_V_NULL(),   UVSQL_V_NULL(),
                          UVSQL_V_NULL(),         UVSQL_V_NULL()};
  const char *ins = "INSERT INTO t (id, b, i, d, s, bin, dt, tm, ts, tz, n) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
  uvsql_result_t *r = run_ok(&db, ins, row1, 11);
  ASSERT_INT_EQ(uvsql_result_rows_affected(r), 1);
  uvsql_result_free(r);
  uvsql_result_free(run_ok(&db, ins, row2, 11));

  r = run_ok(&db, "SELECT b, i, d, s, bin, dt, tm, ts, tz, n FROM t ORDER BY id", NULL, 0);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 2);
  ASSERT_INT_EQ(uvsql_result_ncols(r), 10);
  ASSERT_INT_EQ(uvsql_result_rows_affected(r), -1);
  static const uvsql_type_t want[] = {UVSQL_TYPE_BOOL, UVSQL_TYPE_INT64,     UVSQL_TYPE_DOUBLE,
                                      UVSQL_TYPE_TEXT, UVSQL_TYPE_BYTES,     UVSQL_TYPE_DATE,
                                      UVSQL_TYPE_TIME, UVSQL_TYPE_TIMESTAMP, UVSQL_TYPE_TIMESTAMPTZ,
                                      UVSQL_TYPE_INT64};
  for (size_t c = 0; c < 10; c++)
    ASSERT_INT_EQ(uvsql_result_coltype(r, c), want[c]);
  ASSERT_STR_EQ(uvsql_result_colname(r, 5), "dt");

  /* Row 1. */
  const uvsql_value_t *v = uvsql_result_value(r, 0, 0);
  ASSERT_INT_EQ(v->type, UVSQL_TYPE_BOOL); /* declared BOOLEAN: 1 reads as true */
  ASSERT_INT_EQ(v->u.b, 1);
  int64_t i64;
  double f;
  const char *s;
  const void *p;
  size_t len;
  ASSERT_OK(uvsql_result_int64(r, 0, 1, &i64), NULL);
  ASSERT(i64 == INT64_MAX);
  ASSERT_OK(uvsql_result_double(r, 0, 2, &f), NULL);
  ASSERT(f == 3.25);
  ASSERT_OK(uvsql_result_text(r, 0, 3, &s, &len), NULL);
  ASSERT_INT_EQ(len, strlen(utf8));
  ASSERT_STR_EQ(s, utf8);
  ASSERT_INT_EQ(uvsql_result_value(r, 0, 4)->type, UVSQL_TYPE_BYTES);
  ASSERT_OK(uvsql_result_bytes(r, 0, 4, &p, &len), NULL);
  ASSERT_INT_EQ(len, sizeof bin);
  ASSERT(memcmp(p, bin, sizeof bin) == 0);
  /* Dates are stored as ISO text (cells stay TEXT) and read back through the getters. */
  ASSERT_INT_EQ(uvsql_result_value(r, 0, 5)->type, UVSQL_TYPE_TEXT);
  ASSERT_OK(uvsql_result_text(r, 0, 5, &s, NULL), NULL);
  ASSERT_STR_EQ(s, "2024-05-01");
  ASSERT_OK(uvsql_result_date(r, 0, 5, &i64), NULL);
  ASSERT_INT_EQ(i64, day);
  ASSERT_OK(uvsql_result_text(r, 0, 6, &s, NULL), NULL);
  ASSERT_STR_EQ(s, "12:30:00.000123");
  ASSERT_OK(uvsql_result_time(r, 0, 6, &i64), NULL);
  ASSERT_INT_EQ(i64, tod);
  ASSERT_OK(uvsql_result_text(r, 0, 7, &s, NULL), NULL);
  ASSERT_STR_EQ(s, "2024-05-01 12:30:00.000123");
  ASSERT_OK(uvsql_result_timestamp(r, 0, 7, &i64), NULL);
  ASSERT_INT_EQ(i64, ts);
  ASSERT_OK(uvsql_result_text(r, 0, 8, &s, NULL), NULL);
  ASSERT_STR_EQ(s, "2024-05-01 12:30:00.000123+00:00");
  ASSERT_OK(uvsql_result_timestamp(r, 0, 8, &i64), NULL);
  ASSERT_INT_EQ(i64, ts);
  ASSERT(uvsql_result_is_null(r, 0, 9));
  ASSERT_INT_EQ(uvsql_result_value(r, 0, 9)->type, UVSQL_TYPE_NULL);

  /* Row 2: false, INT64_MIN, empty text and blob, NULLs. */
  v = uvsql_result_value(r, 1, 0);
  ASSERT_INT_EQ(v->type, UVSQL_TYPE_BOOL);
  ASSERT_INT_EQ(v->u.b, 0);
  ASSERT_OK(uvsql_result_int64(r, 1, 1, &i64), NULL);
  ASSERT(i64 == INT64_MIN);
  ASSERT_OK(uvsql_result_double(r, 1, 2, &f), NULL);
  ASSERT(f == -1e300);
  ASSERT_INT_EQ(uvsql_result_value(r, 1, 3)->type, UVSQL_TYPE_TEXT);
  ASSERT_OK(uvsql_result_text(r, 1, 3, &s, &len), NULL);
  ASSERT_INT_EQ(len, 0);
  ASSERT_STR_EQ(s, "");
  ASSERT_INT_EQ(uvsql_result_value(r, 1, 4)->type, UVSQL_TYPE_BYTES);
  ASSERT_OK(uvsql_result_bytes(r, 1, 4, &p, &len), NULL);
  ASSERT_INT_EQ(len, 0);
  ASSERT(p != NULL);
  for (size_t c = 5; c < 10; c++)
    ASSERT(uvsql_result_is_null(r, 1, c));
  uvsql_result_free(r);
  db_close(&db);
  test_loop_close(loop);
}

TEST(injection_payload_is_stored_verbatim) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  static const char payload[] = "'; DROP TABLE t; --";
  exec_ok(&db, "CREATE TABLE t (s TEXT)");
  uvsql_value_t p[] = {UVSQL_V_TEXT(payload)};
  uvsql_result_free(run_ok(&db, "INSERT INTO t (s) VALUES (?1)", p, 1));
  uvsql_result_t *r = run_ok(&db, "SELECT s FROM t WHERE s = ?1", p, 1);
  const char *s;
  size_t len;
  ASSERT_INT_EQ(uvsql_result_nrows(r), 1);
  ASSERT_OK(uvsql_result_text(r, 0, 0, &s, &len), NULL);
  ASSERT_INT_EQ(len, strlen(payload));
  ASSERT(memcmp(s, payload, len) == 0);
  uvsql_result_free(r);
  ASSERT_INT_EQ(query_int(&db, "SELECT count(*) FROM sqlite_master WHERE name = 't'"), 1);
  db_close(&db);
  test_loop_close(loop);
}

TEST(column_type_without_a_declaration_comes_from_the_first_non_null_value) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  uvsql_result_t *r = run_ok(&db,
                             "SELECT NULL AS a, 1 AS b, NULL AS c UNION ALL "
                             "SELECT 'x', 2.5, NULL",
                             NULL, 0);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 2);
  ASSERT_INT_EQ(uvsql_result_coltype(r, 0), UVSQL_TYPE_TEXT);
  ASSERT_INT_EQ(uvsql_result_coltype(r, 1), UVSQL_TYPE_INT64);
  ASSERT_INT_EQ(uvsql_result_coltype(r, 2), UVSQL_TYPE_NULL);
  ASSERT_INT_EQ(uvsql_result_value(r, 1, 1)->type, UVSQL_TYPE_DOUBLE); /* cells as stored */
  ASSERT_STR_EQ(uvsql_result_colname(r, 1), "b");
  uvsql_result_free(r);
  db_close(&db);
  test_loop_close(loop);
}

/* Declared types: the table of common names (the fast path) gives what the full keyword scan
 * gives, in any case and with a size; other names still go through the scan. */
TEST(declared_types_map_the_same_through_the_fast_path_and_the_scan) {
  const char *name;
  uvsql_type_t want;
  size_t n = 0;
  for (; (int)(want = uvsql__sq_decltype_common(n, &name)) != -1; n++) {
    char lower[64], sized[80];
    size_t k;
    for (k = 0; name[k]; k++)
      lower[k] = (char)(name[k] >= 'A' && name[k] <= 'Z' ? name[k] - 'A' + 'a' : name[k]);
    lower[k] = '\0';
    snprintf(sized, sizeof sized, "%s (10, 2)", lower);
    ASSERT_INT_EQ(want, uvsql__sq_decltype_scan(name));
    ASSERT_INT_EQ(uvsql__sq_decltype_to_type(name), want);
    ASSERT_INT_EQ(uvsql__sq_decltype_to_type(lower), want);
    ASSERT_INT_EQ(uvsql__sq_decltype_to_type(sized), want);
  }
  ASSERT(n >= 20);
  static const struct {
    const char *decl;
    uvsql_type_t type;
  } others[] = {
      {"VARCHAR(255)", UVSQL_TYPE_TEXT},
      {"unsigned big int", UVSQL_TYPE_INT64},
      {"timestamp with time zone", UVSQL_TYPE_TIMESTAMPTZ},
      {"NATIVE CHARACTER(70)", UVSQL_TYPE_TEXT},
      {"double(", UVSQL_TYPE_DOUBLE},
      {"INT(abc)", UVSQL_TYPE_INT64},
      {"json", UVSQL_TYPE_JSON},
      {"uuid", UVSQL_TYPE_UUID},
      {"uuid_text", UVSQL_TYPE_UUID},
      {"bytea", UVSQL_TYPE_BYTES},
      {"POINT", UVSQL_TYPE_INT64}, /* SQLite's rule: any name holding INT */
      {"MONEY", UVSQL_TYPE_NULL},
      {"", UVSQL_TYPE_NULL},
  };
  for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
    ASSERT_INT_EQ(uvsql__sq_decltype_to_type(others[i].decl), others[i].type);
    ASSERT_INT_EQ(uvsql__sq_decltype_scan(others[i].decl), others[i].type);
  }
  ASSERT_INT_EQ(uvsql__sq_decltype_to_type(NULL), UVSQL_TYPE_NULL);
}

TEST(rows_affected_counts_only_inserts_updates_and_deletes) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  uvsql_result_t *r = run_ok(&db, "CREATE TABLE t (x INTEGER)", NULL, 0);
  ASSERT_INT_EQ(uvsql_result_rows_affected(r), -1);
  ASSERT_INT_EQ(uvsql_result_ncols(r), 0);
  uvsql_result_free(r);
  r = run_ok(&db, "INSERT INTO t VALUES (1), (2), (3)", NULL, 0);
  ASSERT_INT_EQ(uvsql_result_rows_affected(r), 3);
  uvsql_result_free(r);
  r = run_ok(&db, "UPDATE t SET x = x + 1 WHERE x >= 2", NULL, 0);
  ASSERT_INT_EQ(uvsql_result_rows_affected(r), 2);
  uvsql_result_free(r);
  r = run_ok(&db, "CREATE INDEX t_x ON t (x)", NULL, 0); /* would wrongly report 2 */
  ASSERT_INT_EQ(uvsql_result_rows_affected(r), -1);
  uvsql_result_free(r);
  r = run_ok(&db, "SELECT x FROM t", NULL, 0);
  ASSERT_INT_EQ(uvsql_result_rows_affected(r), -1);
  uvsql_result_free(r);
  r = run_ok(&db, "  -- a comment\n DELETE FROM t RETURNING x", NULL, 0);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 3);
  ASSERT_INT_EQ(uvsql_result_rows_affected(r), 3);
  uvsql_result_free(r);
  db_close(&db);
  test_loop_close(loop);
}

/* ------------------------------------------------------------------ statements */

TEST(cached_statement_gives_fresh_results_each_time) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  exec_ok(&db, "CREATE TABLE t (k INTEGER, v TEXT)");
  const char *ins = "INSERT INTO t (k, v) VALUES (?1, ?2)";
  for (int i = 0; i < 5; i++) {
    char s[16];
    snprintf(s, sizeof s, "v%d", i);
    uvsql_value_t p[] = {UVSQL_V_INT64(i), UVSQL_V_TEXT(s)};
    uvsql_result_free(run_ok(&db, ins, p, 2));
  }
  const char *sel = "SELECT v FROM t WHERE k = ?1";
  for (int i = 4; i >= 0; i--) { /* the same SQL again and again: cached, reset, rebound */
    uvsql_value_t p[] = {UVSQL_V_INT64(i)};
    uvsql_result_t *r = run_ok(&db, sel, p, 1);
    char want[16];
    const char *s;
    snprintf(want, sizeof want, "v%d", i);
    ASSERT_INT_EQ(uvsql_result_nrows(r), 1);
    ASSERT_OK(uvsql_result_text(r, 0, 0, &s, NULL), NULL);
    ASSERT_STR_EQ(s, want);
    uvsql_result_free(r);
  }
  /* A NULL binding must not linger into the next use of the statement. */
  uvsql_value_t none[] = {UVSQL_V_NULL()};
  uvsql_result_t *r = run_ok(&db, sel, none, 1);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 0);
  uvsql_result_free(r);
  db_close(&db);
  test_loop_close(loop);
}

TEST(a_tiny_cache_evicts_and_still_answers_right) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open_cache(loop, test_sqlite_url(), 1);
  for (int i = 0; i < 20; i++) {
    uvsql_value_t p[] = {UVSQL_V_INT64(i)};
    ASSERT_INT_EQ(query_int(&db, i % 2 ? "SELECT 1000 + 0" : "SELECT 2000 + 0"),
                  i % 2 ? 1000 : 2000);
    uvsql_result_t *r = run_ok(&db, "SELECT ?1 * 2", p, 1);
    int64_t v;
    ASSERT_OK(uvsql_result_int64(r, 0, 0, &v), NULL);
    ASSERT_INT_EQ(v, i * 2);
    uvsql_result_free(r);
  }
  db_close(&db);
  test_loop_close(loop);
}

TEST(cache_disabled_still_runs_statements) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open_cache(loop, test_sqlite_url(), 0);
  for (int i = 0; i < 3; i++)
    ASSERT_INT_EQ(query_int(&db, "SELECT 7"), 7);
  db_close(&db);
  test_loop_close(loop);
}

TEST(schema_change_between_uses_of_a_cached_statement) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  exec_ok(&db, "CREATE TABLE t (a INTEGER)");
  exec_ok(&db, "INSERT INTO t VALUES (1)");
  uvsql_result_t *r = run_ok(&db, "SELECT * FROM t", NULL, 0);
  ASSERT_INT_EQ(uvsql_result_ncols(r), 1);
  uvsql_result_free(r);
  exec_ok(&db, "ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'");
  r = run_ok(&db, "SELECT * FROM t", NULL, 0);
  ASSERT_INT_EQ(uvsql_result_ncols(r), 2);
  ASSERT_STR_EQ(uvsql_result_colname(r, 1), "b");
  uvsql_result_free(r);
  db_close(&db);
  test_loop_close(loop);
}

TEST(multi_statement_script_runs_every_statement_and_returns_the_last) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  uvsql_result_t *r = run_ok(&db,
                             "CREATE TABLE a (x INTEGER);\n"
                             "CREATE TABLE b (y TEXT); -- a comment\n"
                             "INSERT INTO a VALUES (1);\n"
                             "INSERT INTO a VALUES (2);\n"
                             "SELECT count(*) AS n FROM a;\n"
                             "/* trailing comment */",
                             NULL, 0);
  int64_t n;
  ASSERT_INT_EQ(uvsql_result_nrows(r), 1);
  ASSERT_STR_EQ(uvsql_result_colname(r, 0), "n");
  ASSERT_OK(uvsql_result_int64(r, 0, 0, &n), NULL);
  ASSERT_INT_EQ(n, 2);
  uvsql_result_free(r);
  ASSERT_INT_EQ(query_int(&db, "SELECT count(*) FROM sqlite_master WHERE name = 'b'"), 1);
  db_close(&db);
  test_loop_close(loop);
}

TEST(script_stops_at_the_first_failing_statement) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  uvsql_error_t err = run_err(&db,
                              "CREATE TABLE a (x INTEGER); INSERT INTO nope VALUES (1); "
                              "CREATE TABLE c (z INTEGER)",
                              NULL, 0, UVSQL_EPROGRAMMING);
  ASSERT_STR_CONTAINS(err.message, "no such table: nope");
  ASSERT_INT_EQ(query_int(&db, "SELECT count(*) FROM sqlite_master WHERE name = 'a'"), 1);
  ASSERT_INT_EQ(query_int(&db, "SELECT count(*) FROM sqlite_master WHERE name = 'c'"), 0);
  db_close(&db);
  test_loop_close(loop);
}

TEST(empty_sql_gives_an_empty_result) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  uvsql_result_t *r = run_ok(&db, "  -- nothing here\n", NULL, 0);
  ASSERT_INT_EQ(uvsql_result_ncols(r), 0);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 0);
  uvsql_result_free(r);
  db_close(&db);
  test_loop_close(loop);
}

/* ------------------------------------------------------------------ errors */

TEST(syntax_error_is_a_programming_error_with_sqlites_message) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  uvsql_error_t err = run_err(&db, "SELEC 1", NULL, 0, UVSQL_EPROGRAMMING);
  ASSERT_STR_CONTAINS(err.message, "near \"SELEC\": syntax error");
  ASSERT_STR_CONTAINS(err.message, "[SQL: SELEC 1]");
  ASSERT_STR_EQ(err.sqlstate, "");
  ASSERT_INT_EQ(err.native_code, SQLITE_ERROR);
  err = run_err(&db, "SELECT nope FROM sqlite_master", NULL, 0, UVSQL_EPROGRAMMING);
  ASSERT_STR_CONTAINS(err.message, "no such column: nope");
  ASSERT_INT_EQ(query_int(&db, "SELECT 1"), 1); /* the connection carries on */
  db_close(&db);
  test_loop_close(loop);
}

TEST(unique_violation_is_an_integrity_error) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  exec_ok(&db, "CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL)");
  exec_ok(&db, "INSERT INTO t VALUES (1, 'a@example.com')");
  uvsql_value_t p[] = {UVSQL_V_INT64(2), UVSQL_V_TEXT("a@example.com")};
  uvsql_error_t err = run_err(&db, "INSERT INTO t VALUES (?1, ?2)", p, 2, UVSQL_EINTEGRITY);
  ASSERT_STR_CONTAINS(err.message, "UNIQUE constraint failed: t.email");
  ASSERT_INT_EQ(err.native_code, SQLITE_CONSTRAINT_UNIQUE);
  err = run_err(&db, "INSERT INTO t VALUES (1, 'b@example.com')", NULL, 0, UVSQL_EINTEGRITY);
  ASSERT_INT_EQ(err.native_code, SQLITE_CONSTRAINT_PRIMARYKEY);
  err = run_err(&db, "INSERT INTO t VALUES (3, NULL)", NULL, 0, UVSQL_EINTEGRITY);
  ASSERT_STR_CONTAINS(err.message, "NOT NULL constraint failed: t.email");
  ASSERT_INT_EQ(query_int(&db, "SELECT count(*) FROM t"), 1);
  db_close(&db);
  test_loop_close(loop);
}

TEST(foreign_keys_are_enforced_by_default) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  exec_ok(&db, "CREATE TABLE p (id INTEGER PRIMARY KEY);"
               "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id))");
  uvsql_error_t err =
      run_err(&db, "INSERT INTO c (id, p_id) VALUES (1, 99)", NULL, 0, UVSQL_EINTEGRITY);
  ASSERT_STR_CONTAINS(err.message, "FOREIGN KEY constraint failed");
  ASSERT_INT_EQ(err.native_code, SQLITE_CONSTRAINT_FOREIGNKEY);
  db_close(&db);
  test_loop_close(loop);
}

TEST(missing_parameters_are_a_programming_error) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  uvsql_value_t p[] = {UVSQL_V_INT64(1)};
  uvsql_error_t err = run_err(&db, "SELECT ?1 + ?2", p, 1, UVSQL_EPROGRAMMING);
  ASSERT_STR_CONTAINS(err.message, "the statement takes 2 parameters but 1 were given");
  db_close(&db);
  test_loop_close(loop);
}

TEST(a_locked_database_says_so_and_suggests_the_timeout) {
  uv_loop_t *loop = test_loop();
  const char *url = test_sqlite_url();
  char url2[512];
  db_t a = db_open(loop, url);
  exec_ok(&a, "CREATE TABLE t (x INTEGER)");
  exec_ok(&a, "BEGIN IMMEDIATE"); /* a holds the write lock */
  snprintf(url2, sizeof url2, "%s?timeout=0.2", url);
  db_t b = db_open(loop, url2);
  uint64_t t0 = uv_hrtime();
  uvsql_error_t err = run_err(&b, "INSERT INTO t VALUES (1)", NULL, 0, UVSQL_EOPERATIONAL);
  uint64_t ms = (uv_hrtime() - t0) / 1000000;
  ASSERT_STR_CONTAINS(err.message, "database is locked");
  ASSERT_STR_CONTAINS(err.message, "?timeout=");
  ASSERT_INT_EQ(err.native_code & 0xff, SQLITE_BUSY);
  ASSERT(ms >= 150 && ms < 2000); /* it waited for the busy timeout, not the default 5 s */
  exec_ok(&a, "COMMIT");
  uvsql_result_free(run_ok(&b, "INSERT INTO t VALUES (1)", NULL, 0));
  db_close(&b);
  db_close(&a);
  test_loop_close(loop);
}

TEST(begin_sql_knows_sqlite_is_always_serializable) {
  const uvsql__driver_t *d = uvsql__backend_find("sqlite")->driver;
  uvsql_error_t err;
  ASSERT_STR_EQ(d->begin_sql(UVSQL_ISOLATION_DEFAULT, &err), "BEGIN");
  ASSERT_STR_EQ(d->begin_sql(UVSQL_ISOLATION_SERIALIZABLE, &err), "BEGIN");
  ASSERT(d->begin_sql(UVSQL_ISOLATION_READ_COMMITTED, &err) == NULL);
  ASSERT_INT_EQ(err.code, UVSQL_ENOT_SUPPORTED);
  ASSERT_STR_CONTAINS(err.message, "always serializable");
}

/* ------------------------------------------------------------------ order, cancel, close */

TEST(requests_run_in_order_and_done_runs_on_the_loop_thread) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  enum { N = 50 };
  static call_t calls[N];
  static uvsql_value_t params[N][1];
  uv_thread_t self = uv_thread_self();
  exec_ok(&db, "CREATE TABLE t (seq INTEGER)");
  for (int i = 0; i < N; i++) {
    params[i][0] = UVSQL_V_INT64(i);
    call_start(&db, &calls[i], "INSERT INTO t VALUES (?1)", params[i], 1);
  }
  call_wait(&db, &calls[N - 1]);
  for (int i = 0; i < N; i++) {
    ASSERT_INT_EQ(calls[i].done, 1);
    ASSERT_INT_EQ(calls[i].err.code, 0);
    ASSERT(uv_thread_equal(&calls[i].thread, &self));
    if (i)
      ASSERT(calls[i].done_ns >= calls[i - 1].done_ns);
    uvsql_result_free(calls[i].result);
  }
  uvsql_result_t *r = run_ok(&db, "SELECT seq FROM t ORDER BY rowid", NULL, 0);
  for (int i = 0; i < N; i++) {
    int64_t v;
    ASSERT_OK(uvsql_result_int64(r, (size_t)i, 0, &v), NULL);
    ASSERT_INT_EQ(v, i);
  }
  uvsql_result_free(r);
  db_close(&db);
  test_loop_close(loop);
}

typedef struct {
  db_t *db;
  call_t *call;
  uint64_t cancel_ns;
} cancel_ctx_t;

static void cancel_now(uv_timer_t *t) {
  cancel_ctx_t *cc = t->data;
  cc->cancel_ns = uv_hrtime();
  ASSERT_OK(cc->db->drv->cancel(cc->db->dc, &cc->call->req), NULL);
  uv_close((uv_handle_t *)t, NULL);
}

TEST(cancel_interrupts_a_long_query_within_a_second) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  call_t c;
  uv_timer_t timer;
  cancel_ctx_t cc = {&db, &c, 0};
  call_start(&db, &c, LONG_QUERY, NULL, 0);
  uv_timer_init(loop, &timer);
  timer.data = &cc;
  uv_timer_start(&timer, cancel_now, 200, 0);
  call_wait(&db, &c);
  double latency_ms = (c.done_ns - cc.cancel_ns) / 1e6;
  printf("cancel settled %.3f ms after cancel() was called\n", latency_ms);
  ASSERT_INT_EQ(c.err.code, UVSQL_ECANCELLED);
  ASSERT_STR_CONTAINS(c.err.message, "cancelled");
  ASSERT_INT_EQ(c.err.native_code, SQLITE_INTERRUPT);
  ASSERT(c.result == NULL);
  ASSERT(latency_ms < 1000.0);
  ASSERT_INT_EQ(query_int(&db, "SELECT 1"), 1); /* the connection answers afterwards */
  ASSERT_INT_EQ(db.dc->broken, 0);
  db_close(&db);
  test_loop_close(loop);
}

TEST(cancel_of_a_queued_request_withdraws_only_that_one) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  call_t a, b, c;
  call_start(&db, &a, LONG_QUERY, NULL, 0); /* keeps b and c queued */
  call_start(&db, &b, "SELECT 2", NULL, 0);
  call_start(&db, &c, "SELECT 3", NULL, 0);
  ASSERT_OK(db.drv->cancel(db.dc, &b.req), NULL);
  ASSERT_INT_EQ(b.done, 1); /* withdrawn at once */
  ASSERT_INT_EQ(b.err.code, UVSQL_ECANCELLED);
  ASSERT_STR_CONTAINS(b.err.message, "cancelled before it ran");
  ASSERT_INT_EQ(a.done, 0);
  ASSERT_OK(db.drv->cancel(db.dc, &a.req), NULL);
  call_wait(&db, &c);
  ASSERT_INT_EQ(a.err.code, UVSQL_ECANCELLED);
  ASSERT_INT_EQ(c.err.code, 0);
  int64_t v;
  ASSERT_OK(uvsql_result_int64(c.result, 0, 0, &v), NULL);
  ASSERT_INT_EQ(v, 3);
  uvsql_result_free(c.result);
  ASSERT_INT_EQ(b.done, 1);
  db_close(&db);
  test_loop_close(loop);
}

TEST(cancel_of_a_request_not_on_the_connection_is_refused) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  call_t a;
  call_start(&db, &a, "SELECT 1", NULL, 0);
  call_wait(&db, &a);
  uvsql_result_free(a.result);
  ASSERT_ERR(db.drv->cancel(db.dc, &a.req), UVSQL_EINVALID_ARGUMENT); /* already done */
  db_close(&db);
  test_loop_close(loop);
}

TEST(cancel_reaches_only_the_request_it_names) {
  /* Cancel the long query, then at once queue a short one: the interrupt must not leak. */
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  for (int round = 0; round < 20; round++) {
    call_t a, b;
    call_start(&db, &a, LONG_QUERY, NULL, 0);
    call_start(&db, &b, "SELECT 42", NULL, 0);
    uv_sleep(round % 3); /* vary where the worker is when the cancel lands */
    ASSERT_OK(db.drv->cancel(db.dc, &a.req), NULL);
    call_wait(&db, &b);
    ASSERT_INT_EQ(a.err.code, UVSQL_ECANCELLED);
    ASSERT_INT_EQ(b.err.code, 0);
    uvsql_result_free(b.result);
  }
  db_close(&db);
  test_loop_close(loop);
}

static uint64_t last_tick, max_gap;
static int ticks;
static call_t *watched;
static void on_tick(uv_timer_t *t) {
  uint64_t now = uv_hrtime();
  if (last_tick && now - last_tick > max_gap)
    max_gap = now - last_tick;
  last_tick = now;
  if (++ticks == 50) { /* half a second in: enough, cancel it */
    db_t *db = t->data;
    ASSERT_OK(db->drv->cancel(db->dc, &watched->req), NULL);
  }
  if (watched->done)
    uv_close((uv_handle_t *)t, NULL);
}

TEST(the_loop_keeps_running_while_a_long_query_runs) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  call_t c;
  uv_timer_t timer;
  watched = &c;
  call_start(&db, &c, LONG_QUERY, NULL, 0);
  uv_timer_init(loop, &timer);
  timer.data = &db;
  uv_timer_start(&timer, on_tick, 10, 10);
  uv_run(loop, UV_RUN_DEFAULT);
  printf("10 ms timer: %d ticks while the query ran, largest gap %.2f ms\n", ticks, max_gap / 1e6);
  ASSERT_INT_EQ(c.err.code, UVSQL_ECANCELLED);
  ASSERT(ticks >= 50);
  ASSERT(max_gap < 40 * 1000000ull);
  db_close(&db);
  test_loop_close(loop);
}

TEST(close_fails_queued_requests_and_interrupts_the_running_one) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  call_t a, b, c;
  int closed = 0;
  call_start(&db, &a, LONG_QUERY, NULL, 0);
  call_start(&db, &b, "SELECT 1", NULL, 0);
  call_start(&db, &c, "SELECT 2", NULL, 0);
  uv_sleep(50); /* the long query is running */
  uint64_t t0 = uv_hrtime();
  db.drv->close(db.dc, on_closed, &closed);
  ASSERT_INT_EQ(b.done, 1);
  ASSERT_INT_EQ(b.err.code, UVSQL_ECLOSED);
  ASSERT_INT_EQ(c.err.code, UVSQL_ECLOSED);
  ASSERT_INT_EQ(closed, 0); /* closed_cb comes from the loop */
  test_loop_close(loop);
  double ms = (uv_hrtime() - t0) / 1e6;
  printf("close with a running query took %.2f ms\n", ms);
  ASSERT_INT_EQ(a.done, 1);
  ASSERT_INT_EQ(a.err.code, UVSQL_ECLOSED);
  ASSERT_STR_CONTAINS(a.err.message, "closed while the statement ran");
  ASSERT_INT_EQ(closed, 1);
  ASSERT(ms < 1000.0);
  uvsql_url_free(db.url);
}

static db_t *close_from_done_db;
static int close_from_done_closed;
static void done_then_close(uvsql__request_t *req, uvsql_result_t *result,
                            const uvsql_error_t *err) {
  on_done(req, result, err);
  close_from_done_db->drv->close(close_from_done_db->dc, on_closed, &close_from_done_closed);
}

TEST(close_from_inside_a_done_callback) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  call_t a, b, c;
  close_from_done_db = &db;
  call_start(&db, &a, "SELECT 1", NULL, 0);
  a.req.done = done_then_close;
  call_start(&db, &b, LONG_QUERY, NULL, 0); /* running or queued when a's done closes */
  call_start(&db, &c, "SELECT 3", NULL, 0);
  test_loop_close(loop);
  ASSERT_INT_EQ(a.done, 1);
  ASSERT_INT_EQ(a.err.code, 0);
  uvsql_result_free(a.result);
  ASSERT_INT_EQ(b.done, 1);
  ASSERT_INT_EQ(b.err.code, UVSQL_ECLOSED);
  ASSERT_INT_EQ(c.done, 1);
  ASSERT_INT_EQ(c.err.code, UVSQL_ECLOSED);
  ASSERT_INT_EQ(close_from_done_closed, 1);
  uvsql_url_free(db.url);
}

TEST(submit_after_close_fails_later_with_eclosed) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  int closed = 0;
  call_t a;
  db.drv->close(db.dc, on_closed, &closed);
  call_start(&db, &a, "SELECT 1", NULL, 0); /* done must not run inside submit */
  test_loop_close(loop);
  ASSERT_INT_EQ(a.done, 1);
  ASSERT_INT_EQ(a.err.code, UVSQL_ECLOSED);
  ASSERT_INT_EQ(closed, 1);
  uvsql_url_free(db.url);
}

TEST(transactions_commit_and_roll_back) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  uvsql_error_t err;
  exec_ok(&db, "CREATE TABLE t (x INTEGER)");
  exec_ok(&db, db.drv->begin_sql(UVSQL_ISOLATION_DEFAULT, &err));
  exec_ok(&db, "INSERT INTO t VALUES (1)");
  exec_ok(&db, "ROLLBACK");
  ASSERT_INT_EQ(query_int(&db, "SELECT count(*) FROM t"), 0);
  exec_ok(&db, "BEGIN");
  exec_ok(&db, "INSERT INTO t VALUES (2)");
  exec_ok(&db, "COMMIT");
  ASSERT_INT_EQ(query_int(&db, "SELECT sum(x) FROM t"), 2);
  db_close(&db);
  test_loop_close(loop);
}

/* busy_poll=off: the worker neither spins nor has the loop busy-poll (the default does, with
 * more than one CPU, outside valgrind); statements awaited one by one still all answer. */
TEST(busy_poll_off_sleeps_between_statements_and_still_answers) {
  uv_loop_t *loop = test_loop();
  db_t def = db_open(loop, test_sqlite_url());
  ASSERT_INT_EQ(uvsql__worker_busy_polls(((uvsql__sq_conn_t *)def.dc)->worker),
                uv_available_parallelism() > 1 && !test_under_valgrind());
  db_close(&def);
  char url[512];
  snprintf(url, sizeof url, "%s?busy_poll=off", test_sqlite_url());
  db_t db = db_open(loop, url);
  ASSERT_INT_EQ(uvsql__worker_busy_polls(((uvsql__sq_conn_t *)db.dc)->worker), 0);
  for (int i = 0; i < 500; i++) {
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT %d + 1", i);
    ASSERT_INT_EQ(query_int(&db, sql), i + 1);
  }
  db_close(&db);
  test_loop_close(loop);
}

TEST(ten_thousand_queued_requests_complete_in_order) {
  enum { N = 10000 };
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  static call_t calls[N];
  static uvsql_value_t params[N][1];
  uint64_t t0 = uv_hrtime();
  for (int i = 0; i < N; i++) {
    params[i][0] = UVSQL_V_INT64(i);
    call_start(&db, &calls[i], "SELECT ?1 + 1", params[i], 1);
  }
  call_wait(&db, &calls[N - 1]);
  double s = (uv_hrtime() - t0) / 1e9;
  printf("%d queued SELECTs in %.3f s: %.0f per second\n", N, s, N / s);
  for (int i = 0; i < N; i++) {
    int64_t v;
    ASSERT_INT_EQ(calls[i].done, 1);
    ASSERT_OK(uvsql_result_int64(calls[i].result, 0, 0, &v), NULL);
    ASSERT_INT_EQ(v, i + 1);
    if (i)
      ASSERT(calls[i].done_ns >= calls[i - 1].done_ns);
    uvsql_result_free(calls[i].result);
  }
  db_close(&db);
  test_loop_close(loop);
}

TEST(a_corrupt_file_breaks_the_connection) {
  uv_loop_t *loop = test_loop();
  const char *url = test_sqlite_url();
  const char *path = url + strlen("sqlite:///");
  db_t db = db_open(loop, url);
  exec_ok(&db, "CREATE TABLE t (x TEXT); WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 "
               "FROM c WHERE n < 2000) INSERT INTO t SELECT printf('%0200d', n) FROM c");
  db_close(&db);
  /* Keep the header page (page 1) and overwrite the table's pages with garbage. */
  FILE *f = fopen(path, "r+b");
  ASSERT(f != NULL);
  ASSERT_INT_EQ(fseek(f, 4096, SEEK_SET), 0);
  for (int i = 0; i < 4096 * 8; i++)
    fputc(0xA5, f);
  fclose(f);

  db = db_open(loop, url);
  call_t a, b;
  call_start(&db, &a, "SELECT count(*), max(x) FROM t", NULL, 0);
  call_start(&db, &b, "SELECT 1", NULL, 0);
  call_wait(&db, &b);
  ASSERT_INT_EQ(a.err.code, UVSQL_EDISCONNECT);
  ASSERT_STR_CONTAINS(a.err.message, "malformed");
  ASSERT_INT_EQ(a.err.native_code & 0xff, SQLITE_CORRUPT);
  ASSERT_INT_EQ(db.dc->broken, 1);
  ASSERT_INT_EQ(b.err.code, UVSQL_EDISCONNECT); /* queued behind it */
  ASSERT_STR_CONTAINS(b.err.message, "unusable");
  uvsql_error_t err = run_err(&db, "SELECT 1", NULL, 0, UVSQL_EDISCONNECT); /* and later ones */
  ASSERT_STR_CONTAINS(err.message, "open a new one");
  db_close(&db);
  test_loop_close(loop);
}

/* ------------------------------------------------------------------ large results (result.c's
 * chunks and big blocks, bigblock.c) and cached result shapes */

/* 120,000 rows: the cells (4 columns) pass 1 MB and become a big block, grown several times;
 * the text passes the first chunks and fills several big chunks, so texts sit on every kind
 * of chunk boundary; every seventh text is NULL, every blob's length is i % 5 (zero-length
 * blobs included), and one 5,000-byte text is larger than the first chunk. Every cell is
 * read back; then the same query again (its blocks may come from the cache now). */
TEST(large_result_keeps_every_text_blob_and_null_across_chunks) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  const char *sql =
      "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 120000) "
      "SELECT i, CASE WHEN i % 7 = 0 THEN NULL WHEN i = 777 THEN printf('%.5000c', 'x') "
      "ELSE printf('text-%d-%.*c', i, i % 40 + 1, 'y') END, zeroblob(i % 5), i * 0.5 FROM g";
  for (int pass = 0; pass < 2; pass++) {
    uvsql_result_t *r = run_ok(&db, sql, NULL, 0);
    ASSERT_INT_EQ(uvsql_result_nrows(r), 120000);
    ASSERT_INT_EQ(uvsql_result_ncols(r), 4);
    for (size_t row = 0; row < 120000; row++) {
      int64_t i = (int64_t)row + 1, id = 0;
      ASSERT_OK(uvsql_result_int64(r, row, 0, &id), NULL);
      if (id != i)
        FAILF("row %zu: id %lld, expected %lld", row, (long long)id, (long long)i);
      const char *t = NULL;
      size_t len = 0;
      if (i % 7 == 0) {
        ASSERT(uvsql_result_is_null(r, row, 1));
        ASSERT_ERR(uvsql_result_text(r, row, 1, &t, &len), UVSQL_EDATA);
      } else if (i == 777) {
        ASSERT_OK(uvsql_result_text(r, row, 1, &t, &len), NULL);
        ASSERT_INT_EQ(len, 5000);
        ASSERT(t[0] == 'x' && t[4999] == 'x' && t[5000] == '\0');
      } else {
        char want[64];
        int n = snprintf(want, sizeof want, "text-%lld-%.*s", (long long)i, (int)(i % 40 + 1),
                         "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
        ASSERT_OK(uvsql_result_text(r, row, 1, &t, &len), NULL);
        if (len != (size_t)n || strcmp(t, want) != 0)
          FAILF("row %zu: text \"%s\" (%zu), expected \"%s\"", row, t, len, want);
      }
      const void *b = NULL;
      size_t blen = 99;
      ASSERT_OK(uvsql_result_bytes(r, row, 2, &b, &blen), NULL);
      ASSERT(b != NULL);
      ASSERT_INT_EQ(blen, i % 5);
      for (size_t k = 0; k < blen; k++)
        ASSERT(((const unsigned char *)b)[k] == 0);
      double x = 0;
      ASSERT_OK(uvsql_result_double(r, row, 3, &x), NULL);
      ASSERT(x == (double)i * 0.5);
    }
    uvsql_result_free(r);
  }
  db_close(&db);
  test_loop_close(loop);
}

/* A result that is empty but has its columns, and one whose single text is 3 MB (a chunk of
 * its own, larger than the largest chunk). */
TEST(empty_and_single_huge_text_results_are_whole) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  uvsql_result_t *r = run_ok(&db, "SELECT 1 AS a, 'x' AS b WHERE 0", NULL, 0);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 0);
  ASSERT_INT_EQ(uvsql_result_ncols(r), 2);
  ASSERT_STR_EQ(uvsql_result_colname(r, 0), "a");
  ASSERT_STR_EQ(uvsql_result_colname(r, 1), "b");
  int64_t v;
  ASSERT_ERR(uvsql_result_int64(r, 0, 0, &v), UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(uvsql_result_last_error(r),
                "cell (0, 0) is out of range: the result has 0 rows and 2 columns");
  uvsql_result_free(r);
  r = run_ok(&db, "SELECT 'a' || printf('%.3000000c', 'z') || 'b', 42", NULL, 0);
  const char *t = NULL;
  size_t len = 0;
  ASSERT_OK(uvsql_result_text(r, 0, 0, &t, &len), NULL);
  ASSERT_INT_EQ(len, 3000002);
  ASSERT(t[0] == 'a' && t[1] == 'z' && t[3000000] == 'z' && t[3000001] == 'b' && t[len] == 0);
  ASSERT_OK(uvsql_result_int64(r, 0, 1, &v), NULL);
  ASSERT_INT_EQ(v, 42);
  uvsql_result_free(r);
  db_close(&db);
  test_loop_close(loop);
}

/* An error after 60,000 rows have been read into the result (abs() of the smallest integer
 * overflows): the rows read so far are dropped, the error is SQLite's, and the connection and
 * its cached statement work on. */
TEST(error_after_many_rows_drops_them_and_the_connection_goes_on) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  const char *sql =
      "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 70000) "
      "SELECT i, CASE WHEN i <= 60000 OR ?1 = 0 THEN 'row ' || i "
      "ELSE abs(-9223372036854775807 - 1) END FROM g";
  uvsql_value_t bad = uvsql_v_int64(1), good = uvsql_v_int64(0);
  uvsql_error_t err = run_err(&db, sql, &bad, 1, UVSQL_EDATABASE);
  ASSERT_STR_CONTAINS(err.message, "integer overflow [SQL: WITH RECURSIVE g(i)");
  uvsql_result_t *r = run_ok(&db, sql, &good, 1);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 70000);
  const char *t;
  ASSERT_OK(uvsql_result_text(r, 69999, 1, &t, NULL), NULL);
  ASSERT_STR_EQ(t, "row 70000");
  uvsql_result_free(r);
  db_close(&db);
  test_loop_close(loop);
}

/* A cached statement keeps its declared types only until SQLite re-prepares it: after the
 * table is made again with v BOOLEAN, the same SQL reads 1 as a bool, not an integer, and
 * SELECT * sees the new column. */
TEST(cached_statement_shape_follows_a_schema_change) {
  uv_loop_t *loop = test_loop();
  db_t db = db_open(loop, test_sqlite_url());
  exec_ok(&db, "CREATE TABLE shape_t (v INTEGER)");
  exec_ok(&db, "INSERT INTO shape_t VALUES (1)");
  for (int i = 0; i < 2; i++) { /* the second run takes the cached shape */
    uvsql_result_t *r = run_ok(&db, "SELECT * FROM shape_t", NULL, 0);
    ASSERT_INT_EQ(uvsql_result_ncols(r), 1);
    ASSERT_INT_EQ(uvsql_result_coltype(r, 0), UVSQL_TYPE_INT64);
    ASSERT_INT_EQ(uvsql_result_value(r, 0, 0)->type, UVSQL_TYPE_INT64);
    uvsql_result_free(r);
  }
  exec_ok(&db, "DROP TABLE shape_t");
  exec_ok(&db, "CREATE TABLE shape_t (v BOOLEAN, w TEXT)");
  exec_ok(&db, "INSERT INTO shape_t VALUES (1, 'w')");
  uvsql_result_t *r = run_ok(&db, "SELECT * FROM shape_t", NULL, 0);
  ASSERT_INT_EQ(uvsql_result_ncols(r), 2);
  ASSERT_INT_EQ(uvsql_result_coltype(r, 0), UVSQL_TYPE_BOOL);
  ASSERT_INT_EQ(uvsql_result_value(r, 0, 0)->type, UVSQL_TYPE_BOOL);
  ASSERT_STR_EQ(uvsql_result_colname(r, 1), "w");
  uvsql_result_free(r);
  /* a DML statement's count comes from its cached flag too */
  for (int i = 0; i < 2; i++) {
    r = run_ok(&db, "UPDATE shape_t SET w = 'x'", NULL, 0);
    ASSERT_INT_EQ(uvsql_result_rows_affected(r), 1);
    uvsql_result_free(r);
    r = run_ok(&db, "SELECT w FROM shape_t", NULL, 0);
    ASSERT_INT_EQ(uvsql_result_rows_affected(r), -1);
    uvsql_result_free(r);
  }
  db_close(&db);
  test_loop_close(loop);
}
