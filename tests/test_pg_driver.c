/* tests/test_pg_driver.c — the PostgreSQL driver through the driver interface (driver.h),
 * against a real server (UVSQL_TEST_PG_URL). Each test is one behaviour a user relies on:
 * values, error codes, SQLSTATEs and messages as the engine will see them.
 */
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <libpq-fe.h>
#include "harness.h"
#include "engine/stmt_api.h"
#include "dialects/driver.h"
#include "dialects/postgresql/pg.h"

/* ------------------------------------------------------------------ helpers */

typedef struct {
  uvsql__request_t req; /* first */
  int done;
  int order;
  uvsql_result_t *result;
  uvsql_error_t err;
  uvsql_value_t params[16];
  void (*then)(uvsql__request_t *req);
  void *ctx;
} treq_t;

static int done_counter;

static void on_done(uvsql__request_t *req, uvsql_result_t *result, const uvsql_error_t *err) {
  treq_t *t = (treq_t *)req;
  ASSERT(!t->done); /* exactly once */
  t->done = 1;
  t->order = done_counter++;
  t->result = result;
  if (err)
    t->err = *err;
  if (t->then)
    t->then(req);
}

static const uvsql__driver_t *pg_driver(void) {
  const uvsql__driver_t *d = uvsql__backend_find("postgresql")->driver;
  ASSERT(d != NULL);
  return d;
}

typedef struct {
  int called;
  uvsql_error_t err;
} connect_out_t;

static void on_connect(uvsql__dconn_t *dc, const uvsql_error_t *err, void *data) {
  connect_out_t *o = data;
  (void)dc;
  ASSERT(!o->called);
  o->called = 1;
  if (err)
    o->err = *err;
}

static void run_until(uv_loop_t *loop, const int *flag) {
  while (!*flag)
    uv_run(loop, UV_RUN_ONCE);
}

/* Connects with url (and cache size), runs the loop until connect's callback; *err gets the
 * callback's error. Returns the dconn (also when cb reported an error). */
static uvsql__dconn_t *try_open(uv_loop_t *loop, const char *text, int cache, uvsql_error_t *err) {
  uvsql_url_t *url;
  uvsql__dconn_t *dc = NULL;
  uvsql__dconn_options_t opt = {30.0, cache};
  static connect_out_t out;
  memset(&out, 0, sizeof out);
  ASSERT_OK(uvsql_url_parse(&url, text, err), err);
  ASSERT_OK(pg_driver()->connect(&dc, loop, url, &opt, on_connect, &out, err), err);
  ASSERT(dc != NULL);
  uvsql_url_free(url); /* the driver keeps what it needs */
  ASSERT(!out.called); /* never before connect returns */
  run_until(loop, &out.called);
  *err = out.err;
  return dc;
}

static uvsql__dconn_t *open_pg(uv_loop_t *loop, int cache) {
  uvsql_error_t err;
  uvsql__dconn_t *dc = try_open(loop, test_pg_url(), cache, &err);
  ASSERT_OK(err.code, &err);
  return dc;
}

static treq_t *submit(uvsql__dconn_t *dc, const char *sql, const uvsql_value_t *params, int n) {
  treq_t *t = calloc(1, sizeof *t);
  ASSERT(t && n <= 16);
  for (int i = 0; i < n; i++)
    t->params[i] = params[i];
  t->req.sql = sql;
  t->req.sql_len = strlen(sql);
  t->req.params = t->params;
  t->req.nparams = n;
  t->req.done = on_done;
  dc->driver->submit(dc, &t->req);
  ASSERT(!t->done); /* never before submit returns */
  return t;
}

static void wait_req(uv_loop_t *loop, treq_t *t) {
  run_until(loop, &t->done);
}

/* Runs sql and asserts it succeeded; returns the request (result in t->result). */
static treq_t *exec_ok(uv_loop_t *loop, uvsql__dconn_t *dc, const char *sql,
                       const uvsql_value_t *params, int n) {
  treq_t *t = submit(dc, sql, params, n);
  wait_req(loop, t);
  if (t->err.code)
    FAILF("%s: %s: %s (sqlstate %s)", sql, uvsql_err_name(t->err.code), t->err.message,
          t->err.sqlstate);
  ASSERT(t->result != NULL);
  return t;
}

static void treq_free(treq_t *t) {
  uvsql_result_free(t->result);
  free(t);
}

static int closed_flag;
static void on_closed(void *data) {
  *(int *)data = 1;
}

static void close_wait(uv_loop_t *loop, uvsql__dconn_t *dc) {
  int closed = 0;
  dc->driver->close(dc, on_closed, &closed);
  run_until(loop, &closed);
}

static int64_t cell_i64(const uvsql_result_t *r, size_t row, size_t col) {
  int64_t v = 0;
  int rc = uvsql_result_int64(r, row, col, &v);
  if (rc)
    FAILF("column %zu: %s: %s", col, uvsql_err_name(rc), uvsql_result_last_error(r));
  return v;
}

static const char *cell_text(const uvsql_result_t *r, size_t row, size_t col) {
  const char *s = NULL;
  int rc = uvsql_result_text(r, row, col, &s, NULL);
  if (rc)
    FAILF("column %zu: %s: %s", col, uvsql_err_name(rc), uvsql_result_last_error(r));
  return s;
}

static const uvsql_value_t *cell(const uvsql_result_t *r, size_t col, uvsql_type_t type) {
  const uvsql_value_t *v = uvsql_result_value(r, 0, col);
  ASSERT(v != NULL);
  if (v->type != type)
    FAILF("column %zu (%s): type %s, expected %s", col, uvsql_result_colname(r, col),
          uvsql_type_name(v->type), uvsql_type_name(type));
  return v;
}

/* ------------------------------------------------------------------ connect */

TEST(connect_and_select_one) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  ASSERT_INT_EQ(dc->broken, 0);
  ASSERT_STR_EQ(dc->driver->name, "postgresql");
  treq_t *t = exec_ok(loop, dc, "SELECT 1 AS one, 'x' AS letter", NULL, 0);
  ASSERT_INT_EQ(uvsql_result_nrows(t->result), 1);
  ASSERT_INT_EQ(uvsql_result_ncols(t->result), 2);
  ASSERT_STR_EQ(uvsql_result_colname(t->result, 0), "one");
  ASSERT_INT_EQ(uvsql_result_coltype(t->result, 0), UVSQL_TYPE_INT64);
  ASSERT_INT_EQ(cell_i64(t->result, 0, 0), 1);
  ASSERT_STR_EQ(cell_text(t->result, 0, 1), "x");
  treq_free(t);
  close_wait(loop, dc);
  test_loop_close(loop);
}

TEST(connect_refused_names_the_server) {
  uv_loop_t *loop = test_loop();
  uvsql_error_t err;
  uvsql__dconn_t *dc = try_open(loop, "postgresql://postgres@127.0.0.1:5999/postgres", 100, &err);
  ASSERT_ERR(err.code, UVSQL_ECONNECT);
  ASSERT_STR_CONTAINS(err.message, "could not connect to 127.0.0.1:5999");
  ASSERT_STR_CONTAINS(err.message, "Connection refused");
  ASSERT_STR_CONTAINS(err.message, "is the server running");
  close_wait(loop, dc); /* contract 1: the engine closes a dconn whose connect failed */
  test_loop_close(loop);
}

/* "localhost" goes through uv_getaddrinfo; the server listens on 127.0.0.1 only, so libpq may
 * first try ::1 and move to another socket: the driver must follow the fd. */
TEST(connect_resolves_a_host_name) {
  uv_loop_t *loop = test_loop();
  uvsql_url_t *u;
  uvsql_error_t err;
  char text[512];
  ASSERT_OK(uvsql_url_parse(&u, test_pg_url(), &err), &err);
  snprintf(text, sizeof text, "postgresql://%s@localhost:%d/%s", u->user ? u->user : "postgres",
           u->port ? u->port : 5432, u->database ? u->database : "postgres");
  uvsql_url_free(u);
  uvsql__dconn_t *dc = try_open(loop, text, 100, &err);
  ASSERT_OK(err.code, &err);
  treq_t *t = exec_ok(loop, dc, "SELECT current_setting('application_name')", NULL, 0);
  ASSERT_STR_EQ(cell_text(t->result, 0, 0), "uvsql");
  treq_free(t);
  close_wait(loop, dc);
  test_loop_close(loop);
}

TEST(connect_unknown_host_fails_with_resolver_message) {
  uv_loop_t *loop = test_loop();
  uvsql_error_t err;
  uvsql__dconn_t *dc =
      try_open(loop, "postgresql://postgres@no-such-host.invalid:5432/x", 100, &err);
  ASSERT_ERR(err.code, UVSQL_ECONNECT);
  ASSERT_STR_CONTAINS(err.message, "could not resolve \"no-such-host.invalid\"");
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* A server that accepts TCP but never answers: only our timer can end the wait. */
TEST(connect_timeout_fires) {
  uv_loop_t *loop = test_loop();
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  char text[256];
  uvsql_error_t err;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT(s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(s, 4) == 0);
  ASSERT(getsockname(s, (struct sockaddr *)&sa, &len) == 0);
  snprintf(text, sizeof text, "postgresql://postgres@127.0.0.1:%d/x?connect_timeout=0.3",
           ntohs(sa.sin_port));
  uint64_t t0 = uv_hrtime();
  uvsql__dconn_t *dc = try_open(loop, text, 100, &err);
  double secs = (double)(uv_hrtime() - t0) / 1e9;
  ASSERT_ERR(err.code, UVSQL_ETIMEOUT);
  ASSERT_STR_CONTAINS(err.message, "timed out");
  ASSERT_STR_CONTAINS(err.message, "127.0.0.1:");
  ASSERT(secs >= 0.25 && secs < 2.0);
  close_wait(loop, dc);
  close(s);
  test_loop_close(loop);
}

TEST(close_during_connect_never_calls_connect_cb) {
  uv_loop_t *loop = test_loop();
  uvsql_url_t *url;
  uvsql_error_t err;
  uvsql__dconn_t *dc = NULL;
  connect_out_t out = {0};
  uvsql__dconn_options_t opt = {30.0, 100};
  int closed = 0;
  ASSERT_OK(uvsql_url_parse(&url, test_pg_url(), &err), &err);
  ASSERT_OK(pg_driver()->connect(&dc, loop, url, &opt, on_connect, &out, &err), &err);
  uvsql_url_free(url);
  treq_t *t = submit(dc, "SELECT 1", NULL, 0);
  dc->driver->close(dc, on_closed, &closed);
  run_until(loop, &closed);
  ASSERT_INT_EQ(out.called, 0);
  ASSERT_INT_EQ(t->done, 1);
  ASSERT_ERR(t->err.code, UVSQL_ECLOSED);
  treq_free(t);
  test_loop_close(loop);
}

TEST(validate_url_checks_options) {
  const uvsql__driver_t *d = pg_driver();
  uvsql_url_t *url;
  uvsql_error_t err;
  ASSERT_OK(uvsql_url_parse(&url,
                            "postgresql://u@h/db?sslmode=disable&application_name=app&"
                            "connect_timeout=5&target_session_attrs=any",
                            &err),
            &err);
  ASSERT_OK(d->validate_url(url, &err), &err);
  uvsql_url_free(url);
  ASSERT_OK(uvsql_url_parse(&url, "postgresql://u@h/db?sslmode=disable&bogus_option=1", &err),
            &err);
  ASSERT_ERR(d->validate_url(url, &err), UVSQL_EURL);
  ASSERT_STR_CONTAINS(err.message, "\"bogus_option\"");
  uvsql_url_free(url);
  ASSERT_OK(uvsql_url_parse(&url, "postgresql://u@h/db?client_encoding=LATIN1", &err), &err);
  ASSERT_ERR(d->validate_url(url, &err), UVSQL_EURL);
  ASSERT_STR_CONTAINS(err.message, "client_encoding");
  uvsql_url_free(url);
}

TEST(begin_sql_for_each_isolation_level) {
  const uvsql__driver_t *d = pg_driver();
  uvsql_error_t err;
  ASSERT_INT_EQ(d->paramstyle, UVSQL__PARAMSTYLE_DOLLAR);
  ASSERT_INT_EQ(d->max_params, 65535);
  ASSERT_STR_EQ(d->begin_sql(UVSQL_ISOLATION_DEFAULT, &err), "BEGIN");
  ASSERT_STR_EQ(d->begin_sql(UVSQL_ISOLATION_READ_UNCOMMITTED, &err),
                "BEGIN ISOLATION LEVEL READ UNCOMMITTED");
  ASSERT_STR_EQ(d->begin_sql(UVSQL_ISOLATION_READ_COMMITTED, &err),
                "BEGIN ISOLATION LEVEL READ COMMITTED");
  ASSERT_STR_EQ(d->begin_sql(UVSQL_ISOLATION_REPEATABLE_READ, &err),
                "BEGIN ISOLATION LEVEL REPEATABLE READ");
  ASSERT_STR_EQ(d->begin_sql(UVSQL_ISOLATION_SERIALIZABLE, &err),
                "BEGIN ISOLATION LEVEL SERIALIZABLE");
}

/* ------------------------------------------------------------------ types */

#define TYPES_SQL                                                                                  \
  "SELECT true AS b, 7::int2 AS i2, 70000::int4 AS i4, 9000000000::int8 AS i8, 26::oid AS o, "     \
  "1.5::float4 AS f4, 2.25::float8 AS f8, 'txt'::text AS t, 'vc'::varchar AS vc, "                 \
  "'bp'::char(3) AS bp, 'nm'::name AS nm, '\\x00ff41'::bytea AS by, '2024-02-29'::date AS d, "     \
  "'12:34:56.789012'::time AS tm, '2024-02-29 12:34:56.5'::timestamp AS ts, "                      \
  "'2024-02-29 12:34:56.5+02'::timestamptz AS tz, '{\"a\":1}'::json AS js, "                       \
  "'{\"a\": 1}'::jsonb AS jb, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, "                 \
  "NULL::int4 AS n, 'NaN'::float8 AS nan, '-Infinity'::float8 AS ninf, "                           \
  "'infinity'::date AS dinf, '1999-12-31 23:59:59'::timestamp AS pre2000"

static void check_types(const uvsql_result_t *r) {
  const int64_t day = INT64_C(86400000000);
  int64_t feb29 = uvsql_days_from_civil(2024, 2, 29);
  const uvsql_value_t *v;
  ASSERT_INT_EQ(uvsql_result_nrows(r), 1);
  ASSERT_INT_EQ(cell(r, 0, UVSQL_TYPE_BOOL)->u.b, 1);
  ASSERT_INT_EQ(cell(r, 1, UVSQL_TYPE_INT64)->u.i64, 7);
  ASSERT_INT_EQ(cell(r, 2, UVSQL_TYPE_INT64)->u.i64, 70000);
  ASSERT_INT_EQ(cell(r, 3, UVSQL_TYPE_INT64)->u.i64, INT64_C(9000000000));
  ASSERT_INT_EQ(cell(r, 4, UVSQL_TYPE_INT64)->u.i64, 26);
  ASSERT(cell(r, 5, UVSQL_TYPE_DOUBLE)->u.f64 == 1.5);
  ASSERT(cell(r, 6, UVSQL_TYPE_DOUBLE)->u.f64 == 2.25);
  ASSERT_STR_EQ(cell(r, 7, UVSQL_TYPE_TEXT)->u.s.ptr, "txt");
  ASSERT_STR_EQ(cell(r, 8, UVSQL_TYPE_TEXT)->u.s.ptr, "vc");
  ASSERT_STR_EQ(cell(r, 9, UVSQL_TYPE_TEXT)->u.s.ptr, "bp ");
  ASSERT_STR_EQ(cell(r, 10, UVSQL_TYPE_TEXT)->u.s.ptr, "nm");
  v = cell(r, 11, UVSQL_TYPE_BYTES);
  ASSERT_INT_EQ(v->u.s.len, 3);
  ASSERT(memcmp(v->u.s.ptr, "\x00\xff\x41", 3) == 0);
  ASSERT_INT_EQ(cell(r, 12, UVSQL_TYPE_DATE)->u.i64, feb29);
  ASSERT_INT_EQ(cell(r, 13, UVSQL_TYPE_TIME)->u.i64, INT64_C(45296789012));
  ASSERT_INT_EQ(cell(r, 14, UVSQL_TYPE_TIMESTAMP)->u.i64, feb29 * day + INT64_C(45296500000));
  ASSERT_INT_EQ(cell(r, 15, UVSQL_TYPE_TIMESTAMPTZ)->u.i64,
                feb29 * day + INT64_C(45296500000) - INT64_C(7200000000));
  ASSERT_STR_EQ(cell(r, 16, UVSQL_TYPE_JSON)->u.s.ptr, "{\"a\":1}");
  ASSERT_STR_EQ(cell(r, 17, UVSQL_TYPE_JSON)->u.s.ptr, "{\"a\": 1}");
  ASSERT(memcmp(cell(r, 18, UVSQL_TYPE_UUID)->u.uuid,
                "\xa0\xee\xbc\x99\x9c\x0b\x4e\xf8\xbb\x6d\x6b\xb9\xbd\x38\x0a\x11", 16) == 0);
  ASSERT(uvsql_result_is_null(r, 0, 19));
  ASSERT_INT_EQ(uvsql_result_coltype(r, 19), UVSQL_TYPE_INT64);
  v = cell(r, 20, UVSQL_TYPE_DOUBLE);
  ASSERT(v->u.f64 != v->u.f64); /* NaN */
  ASSERT(cell(r, 21, UVSQL_TYPE_DOUBLE)->u.f64 < -1e308);
  ASSERT_INT_EQ(cell(r, 22, UVSQL_TYPE_DATE)->u.i64, INT64_MAX);
  ASSERT_INT_EQ(cell(r, 23, UVSQL_TYPE_TIMESTAMP)->u.i64,
                uvsql_days_from_civil(1999, 12, 31) * day + INT64_C(86399000000));
}

/* First execution: text results (the types are not known yet); second: binary. */
TEST(every_type_round_trips_in_text_then_binary) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  for (int pass = 0; pass < 3; pass++) {
    treq_t *t = exec_ok(loop, dc, TYPES_SQL, NULL, 0);
    check_types(t->result);
    treq_free(t);
  }
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* The decoder on PGresults fetched (blocking, in the test) in each format. */
TEST(decoder_reads_both_formats) {
  PGconn *c = PQconnectdb(test_pg_url());
  ASSERT(PQstatus(c) == CONNECTION_OK);
  for (int fmt = 0; fmt < 2; fmt++) {
    PGresult *res = PQexecParams(c, TYPES_SQL, 0, NULL, NULL, NULL, NULL, fmt);
    ASSERT(PQresultStatus(res) == PGRES_TUPLES_OK);
    ASSERT_INT_EQ(PQfformat(res, 0), fmt);
    uvsql_result_t *r = NULL;
    uvsql_error_t err;
    ASSERT_OK(uvsql__pg_decode(res, &r, &err), &err);
    check_types(r);
    uvsql_result_free(r);
  }
  PQfinish(c);
}

TEST(numeric_is_numeric_and_unknown_types_are_text) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  for (int pass = 0; pass < 2; pass++) {
    treq_t *t =
        exec_ok(loop, dc, "SELECT 1.50::numeric AS n, 7 AS i, '(1,2)'::point AS p", NULL, 0);
    ASSERT_INT_EQ(uvsql_result_coltype(t->result, 0), UVSQL_TYPE_NUMERIC);
    ASSERT_INT_EQ(uvsql_result_value(t->result, 0, 0)->type, UVSQL_TYPE_NUMERIC);
    ASSERT_STR_EQ(cell_text(t->result, 0, 0), "1.50");
    ASSERT_INT_EQ(uvsql_result_coltype(t->result, 2), UVSQL_TYPE_TEXT);
    ASSERT_INT_EQ(cell_i64(t->result, 0, 1), 7);
    ASSERT_STR_EQ(cell_text(t->result, 0, 2), "(1,2)");
    treq_free(t);
  }
  close_wait(loop, dc);
  test_loop_close(loop);
}

TEST(params_of_every_type) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  int64_t d = uvsql_days_from_civil(1969, 7, 20);
  int64_t ts = d * INT64_C(86400000000) + INT64_C(72000000001);
  uvsql_value_t p[] = {UVSQL_V_INT64(-9000000000),
                       UVSQL_V_DOUBLE(-0.125),
                       UVSQL_V_BOOL(1),
                       UVSQL_V_TEXTN("héllo, world", 13),
                       UVSQL_V_BYTES("\0\1\2", 3),
                       UVSQL_V_DATE(d),
                       UVSQL_V_TIME(1),
                       UVSQL_V_TIMESTAMP(ts),
                       UVSQL_V_TIMESTAMPTZ(ts),
                       UVSQL_V_NULL(),
                       UVSQL_V_TEXT("41"),
                       UVSQL_V_BYTES("", 0)};
  for (int pass = 0; pass < 2; pass++) {
    treq_t *t = exec_ok(loop, dc,
                        "SELECT $1 AS i, $2 AS f, $3 AS b, $4 AS t, $5 AS by, $6 AS d, $7 AS tm, "
                        "$8 AS ts, $9 AS tz, $10 AS n, $11::int4 + 1 AS inferred, $12 AS empty",
                        p, 12);
    const uvsql_result_t *r = t->result;
    ASSERT_INT_EQ(cell(r, 0, UVSQL_TYPE_INT64)->u.i64, INT64_C(-9000000000));
    ASSERT(cell(r, 1, UVSQL_TYPE_DOUBLE)->u.f64 == -0.125);
    ASSERT_INT_EQ(cell(r, 2, UVSQL_TYPE_BOOL)->u.b, 1);
    ASSERT_STR_EQ(cell(r, 3, UVSQL_TYPE_TEXT)->u.s.ptr, "héllo, world");
    const uvsql_value_t *v = cell(r, 4, UVSQL_TYPE_BYTES);
    ASSERT(v->u.s.len == 3 && memcmp(v->u.s.ptr, "\0\1\2", 3) == 0);
    ASSERT_INT_EQ(cell(r, 5, UVSQL_TYPE_DATE)->u.i64, d);
    ASSERT_INT_EQ(cell(r, 6, UVSQL_TYPE_TIME)->u.i64, 1);
    ASSERT_INT_EQ(cell(r, 7, UVSQL_TYPE_TIMESTAMP)->u.i64, ts);
    ASSERT_INT_EQ(cell(r, 8, UVSQL_TYPE_TIMESTAMPTZ)->u.i64, ts);
    ASSERT(uvsql_result_is_null(r, 0, 9));
    ASSERT_INT_EQ(cell(r, 10, UVSQL_TYPE_INT64)->u.i64, 42);
    ASSERT_INT_EQ(cell(r, 11, UVSQL_TYPE_BYTES)->u.s.len, 0);
    treq_free(t);
  }
  close_wait(loop, dc);
  test_loop_close(loop);
}

TEST(rows_affected_from_command_tag) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  treq_t *t = exec_ok(loop, dc, "CREATE TEMP TABLE ra (a int)", NULL, 0);
  ASSERT_INT_EQ(uvsql_result_rows_affected(t->result), -1);
  treq_free(t);
  uvsql_value_t p[] = {UVSQL_V_INT64(3)};
  t = exec_ok(loop, dc, "INSERT INTO ra SELECT generate_series(1, $1::int)", p, 1);
  ASSERT_INT_EQ(uvsql_result_rows_affected(t->result), 3);
  ASSERT_INT_EQ(uvsql_result_ncols(t->result), 0);
  treq_free(t);
  t = exec_ok(loop, dc, "UPDATE ra SET a = a + 1 WHERE a > 1 RETURNING a", NULL, 0);
  ASSERT_INT_EQ(uvsql_result_rows_affected(t->result), 2);
  ASSERT_INT_EQ(uvsql_result_nrows(t->result), 2);
  treq_free(t);
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* ------------------------------------------------------------------ pipelining */

TEST(pipeline_of_100_answered_in_order) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  treq_t *t[100];
  done_counter = 0;
  for (int i = 0; i < 100; i++) {
    uvsql_value_t p[] = {UVSQL_V_INT64(i)};
    t[i] =
        submit(dc, i % 2 ? "SELECT $1::int8 * 2 AS v" : "SELECT $1::int8 * 2 AS v, 'even'", p, 1);
  }
  wait_req(loop, t[99]);
  for (int i = 0; i < 100; i++) {
    ASSERT(t[i]->done);
    ASSERT_OK(t[i]->err.code, &t[i]->err);
    ASSERT_INT_EQ(t[i]->order, i);
    ASSERT_INT_EQ(cell_i64(t[i]->result, 0, 0), 2 * i);
    treq_free(t[i]);
  }
  close_wait(loop, dc);
  test_loop_close(loop);
}

TEST(error_in_pipeline_does_not_affect_next) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  treq_t *a = submit(dc, "SELECT 1", NULL, 0);
  treq_t *b = submit(dc, "SELECT 1/0", NULL, 0);
  treq_t *c = submit(dc, "SELECT 3", NULL, 0);
  treq_t *d = submit(dc, "SELEC 4", NULL, 0); /* fails at Parse of a new cached statement */
  treq_t *e = submit(dc, "SELECT 5", NULL, 0);
  wait_req(loop, e);
  ASSERT_OK(a->err.code, &a->err);
  ASSERT_INT_EQ(cell_i64(a->result, 0, 0), 1);
  ASSERT_ERR(b->err.code, UVSQL_EDATA);
  ASSERT_STR_EQ(b->err.sqlstate, "22012");
  ASSERT_STR_CONTAINS(b->err.message, "division by zero");
  ASSERT_OK(c->err.code, &c->err);
  ASSERT_INT_EQ(cell_i64(c->result, 0, 0), 3);
  ASSERT_ERR(d->err.code, UVSQL_EPROGRAMMING);
  ASSERT_OK(e->err.code, &e->err);
  ASSERT_INT_EQ(cell_i64(e->result, 0, 0), 5);
  treq_free(a), treq_free(b), treq_free(c), treq_free(d), treq_free(e);
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* Identical requests pipelined behind a new statement's Parse run that statement without
 * waiting for it (one Parse for all); if the Parse fails, each reports the Parse's error. */
TEST(identical_requests_behind_a_failed_parse_report_its_error) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  treq_t *t[3];
  for (int i = 0; i < 3; i++)
    t[i] = submit(dc, "SELEC 4", NULL, 0);
  treq_t *ok = submit(dc, "SELECT 5", NULL, 0);
  wait_req(loop, ok);
  for (int i = 0; i < 3; i++) {
    ASSERT_ERR(t[i]->err.code, UVSQL_EPROGRAMMING);
    ASSERT_STR_EQ(t[i]->err.sqlstate, "42601");
    ASSERT_STR_CONTAINS(t[i]->err.message, "syntax error");
    treq_free(t[i]);
  }
  ASSERT_INT_EQ(cell_i64(ok->result, 0, 0), 5);
  treq_free(ok);
  close_wait(loop, dc);
  test_loop_close(loop);
}

TEST(identical_requests_behind_a_parse_share_it) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  treq_t *t[5];
  for (int i = 0; i < 5; i++) {
    uvsql_value_t p[] = {UVSQL_V_INT64(i)};
    t[i] = submit(dc, "SELECT $1::int8 * 2", p, 1);
  }
  wait_req(loop, t[4]);
  for (int i = 0; i < 5; i++) {
    ASSERT_OK(t[i]->err.code, &t[i]->err);
    ASSERT_INT_EQ(cell_i64(t[i]->result, 0, 0), 2 * i);
    treq_free(t[i]);
  }
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* Another statement between two identical ones may change how the text parses: the second
 * then gets its own Parse, and succeeds where the first failed. */
TEST(a_statement_between_identical_requests_gets_them_parsed_apart) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  treq_t *a = submit(dc, "SELECT count(*) FROM parsed_apart", NULL, 0);
  treq_t *mk = submit(dc, "CREATE TEMP TABLE parsed_apart (x int)", NULL, 0);
  treq_t *b = submit(dc, "SELECT count(*) FROM parsed_apart", NULL, 0);
  wait_req(loop, b);
  ASSERT_ERR(a->err.code, UVSQL_EPROGRAMMING);
  ASSERT_STR_EQ(a->err.sqlstate, "42P01");
  ASSERT_OK(mk->err.code, &mk->err);
  ASSERT_OK(b->err.code, &b->err);
  ASSERT_INT_EQ(cell_i64(b->result, 0, 0), 0);
  treq_free(a), treq_free(mk), treq_free(b);
  close_wait(loop, dc);
  test_loop_close(loop);
}

TEST(multi_statement_text_between_pipelined_requests) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  treq_t *a = submit(dc, "SELECT 1", NULL, 0);
  treq_t *m = submit(dc,
                     "CREATE TEMP TABLE ms (a int); -- a comment; with a semicolon\n"
                     "INSERT INTO ms VALUES (1), (2); SELECT count(*) AS n, ';' AS s FROM ms;",
                     NULL, 0);
  treq_t *b = submit(dc, "SELECT 2", NULL, 0);
  treq_t *bad = submit(dc, "SELECT 1; SELECT 1/0; SELECT 3", NULL, 0);
  treq_t *c = submit(dc, "SELECT 3", NULL, 0);
  wait_req(loop, c);
  ASSERT_INT_EQ(cell_i64(a->result, 0, 0), 1);
  ASSERT_OK(m->err.code, &m->err);
  ASSERT_INT_EQ(cell_i64(m->result, 0, 0), 2);
  ASSERT_STR_EQ(cell_text(m->result, 0, 1), ";");
  ASSERT_INT_EQ(cell_i64(b->result, 0, 0), 2);
  ASSERT_ERR(bad->err.code, UVSQL_EDATA);
  ASSERT_STR_EQ(bad->err.sqlstate, "22012");
  ASSERT_OK(c->err.code, &c->err);
  ASSERT_INT_EQ(cell_i64(c->result, 0, 0), 3);
  ASSERT(a->order < m->order && m->order < b->order && b->order < bad->order &&
         bad->order < c->order);
  treq_free(a), treq_free(m), treq_free(b), treq_free(bad), treq_free(c);
  close_wait(loop, dc);
  test_loop_close(loop);
}

TEST(multi_statement_scanner) {
  ASSERT_INT_EQ(uvsql__pg_sql_is_multi("SELECT 1", 8), 0);
  ASSERT_INT_EQ(uvsql__pg_sql_is_multi("SELECT 1; ", 10), 0);
  ASSERT_INT_EQ(uvsql__pg_sql_is_multi("SELECT 1;;  -- x\n /* y; z */", 28), 0);
  ASSERT_INT_EQ(uvsql__pg_sql_is_multi("SELECT 1; SELECT 2", 18), 1);
  const char *q[] = {"SELECT ';x'",     "SELECT \"a;b\" FROM t",
                     "SELECT $$;x$$",   "SELECT $f$ ; $$ ; $f$",
                     "SELECT E'\\';x'", "SELECT 1 /* ; /* ; */ x; */"};
  for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
    if (uvsql__pg_sql_is_multi(q[i], strlen(q[i])))
      FAILF("\"%s\" taken for several statements", q[i]);
  ASSERT_INT_EQ(uvsql__pg_sql_is_multi("SELECT 'a''b'; SELECT 2", 23), 1);
}

/* ------------------------------------------------------------------ errors */

TEST(syntax_error_is_programming_42601) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  treq_t *t = submit(dc, "SELEC 1", NULL, 0);
  wait_req(loop, t);
  ASSERT_ERR(t->err.code, UVSQL_EPROGRAMMING);
  ASSERT_STR_EQ(t->err.sqlstate, "42601");
  ASSERT_STR_CONTAINS(t->err.message, "syntax error at or near \"SELEC\"");
  treq_free(t);
  t = submit(dc, "SELECT * FROM no_such_table_here", NULL, 0);
  wait_req(loop, t);
  ASSERT_ERR(t->err.code, UVSQL_EPROGRAMMING);
  ASSERT_STR_EQ(t->err.sqlstate, "42P01");
  ASSERT_STR_CONTAINS(t->err.message, "relation \"no_such_table_here\" does not exist");
  treq_free(t);
  close_wait(loop, dc);
  test_loop_close(loop);
}

TEST(unique_violation_is_integrity_23505) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  uvsql_value_t p[] = {UVSQL_V_INT64(1)};
  treq_free(exec_ok(loop, dc, "CREATE TEMP TABLE uq (id int PRIMARY KEY)", NULL, 0));
  treq_free(exec_ok(loop, dc, "INSERT INTO uq VALUES ($1)", p, 1));
  treq_t *t = submit(dc, "INSERT INTO uq VALUES ($1)", p, 1);
  wait_req(loop, t);
  ASSERT_ERR(t->err.code, UVSQL_EINTEGRITY);
  ASSERT_STR_EQ(t->err.sqlstate, "23505");
  ASSERT_STR_CONTAINS(t->err.message, "duplicate key value violates unique constraint \"uq_pkey\"");
  ASSERT_STR_CONTAINS(t->err.message, "DETAIL: Key (id)=(1) already exists.");
  treq_free(t);
  close_wait(loop, dc);
  test_loop_close(loop);
}

TEST(statement_cache_evicts_and_deallocates) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 2);
  static const char *sql[] = {"SELECT 1 + $1::int8", "SELECT 2 + $1::int8", "SELECT 3 + $1::int8",
                              "SELECT 4 + $1::int8", "SELECT 5 + $1::int8"};
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 5; i++) {
      uvsql_value_t p[] = {UVSQL_V_INT64(10)};
      treq_t *t = exec_ok(loop, dc, sql[i], p, 1);
      ASSERT_INT_EQ(cell_i64(t->result, 0, 0), 11 + i);
      treq_free(t);
    }
  }
  treq_t *t = submit(dc, "SELECT count(*) FROM pg_prepared_statements", NULL, 0);
  t->req.flags = UVSQL__REQ_NO_PREPARE;
  wait_req(loop, t);
  ASSERT_OK(t->err.code, &t->err);
  ASSERT(cell_i64(t->result, 0, 0) <= 2);
  treq_free(t);
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* ------------------------------------------------------------------ cancel */

static uvsql__dconn_t *cancel_dc;
static treq_t *cancel_target;
static uint64_t cancel_at;
static void cancel_timer_cb(uv_timer_t *timer) {
  cancel_at = uv_hrtime();
  ASSERT_OK(cancel_dc->driver->cancel(cancel_dc, &cancel_target->req), NULL);
  uv_close((uv_handle_t *)timer, NULL);
}

TEST(cancel_of_running_query_settles_fast) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  uv_timer_t timer;
  treq_t *t = submit(dc, "SELECT pg_sleep(20)", NULL, 0);
  cancel_dc = dc;
  cancel_target = t;
  uv_timer_init(loop, &timer);
  uv_timer_start(&timer, cancel_timer_cb, 300, 0);
  wait_req(loop, t);
  double secs = (double)(uv_hrtime() - cancel_at) / 1e9;
  ASSERT(cancel_at != 0);
  ASSERT(secs < 1.0);
  ASSERT_ERR(t->err.code, UVSQL_ECANCELLED);
  ASSERT_STR_EQ(t->err.sqlstate, "57014");
  ASSERT_STR_CONTAINS(t->err.message, "canceling statement due to user request");
  treq_free(t);
  ASSERT_INT_EQ(dc->broken, 0);
  t = exec_ok(loop, dc, "SELECT 1", NULL, 0);
  ASSERT_INT_EQ(cell_i64(t->result, 0, 0), 1);
  treq_free(t);
  close_wait(loop, dc);
  test_loop_close(loop);
}

TEST(cancel_of_queued_request_withdraws_it) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  treq_t *a = submit(dc, "SELECT 1", NULL, 0);
  treq_t *b = submit(dc, "SELECT 2", NULL, 0);
  ASSERT_OK(dc->driver->cancel(dc, &b->req), NULL);
  ASSERT_INT_EQ(b->done, 1);
  ASSERT_ERR(b->err.code, UVSQL_ECANCELLED);
  ASSERT_ERR(dc->driver->cancel(dc, &b->req), UVSQL_EINVALID_ARGUMENT);
  wait_req(loop, a);
  ASSERT_INT_EQ(cell_i64(a->result, 0, 0), 1);
  treq_free(a), treq_free(b);
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* ------------------------------------------------------------------ connection loss */

static uvsql__dconn_t *killer_dc;
static int64_t victim_pid;
static treq_t *kill_req;
static void kill_timer_cb(uv_timer_t *timer) {
  uvsql_value_t p[] = {UVSQL_V_INT64(victim_pid)};
  kill_req = submit(killer_dc, "SELECT pg_terminate_backend($1::int4)", p, 1);
  uv_close((uv_handle_t *)timer, NULL);
}

TEST(terminated_backend_breaks_the_connection) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *victim = open_pg(loop, 100);
  killer_dc = open_pg(loop, 100);
  uv_timer_t timer;
  treq_t *t = exec_ok(loop, victim, "SELECT pg_backend_pid()", NULL, 0);
  victim_pid = cell_i64(t->result, 0, 0);
  treq_free(t);
  treq_t *sleep = submit(victim, "SELECT pg_sleep(20)", NULL, 0);
  treq_t *behind = submit(victim, "SELECT 2", NULL, 0);
  uv_timer_init(loop, &timer);
  uv_timer_start(&timer, kill_timer_cb, 300, 0);
  wait_req(loop, behind);
  ASSERT(sleep->done);
  ASSERT_ERR(sleep->err.code, UVSQL_EDISCONNECT);
  /* libpq usually reads the server's FATAL 57P01 before the end of the stream; when both
   * arrive in one read it may report only the lost connection. Either is a disconnect. */
  if (sleep->err.sqlstate[0]) {
    ASSERT_STR_EQ(sleep->err.sqlstate, "57P01");
    ASSERT_STR_CONTAINS(sleep->err.message, "terminating connection due to administrator command");
  } else {
    ASSERT_STR_CONTAINS(sleep->err.message, "connection to the server was lost");
  }
  ASSERT_ERR(behind->err.code, UVSQL_EDISCONNECT);
  ASSERT_STR_CONTAINS(behind->err.message, "connection to the server was lost");
  ASSERT_INT_EQ(victim->broken, 1);
  /* later submits fail the same way, asynchronously */
  treq_t *late = submit(victim, "SELECT 3", NULL, 0);
  wait_req(loop, late);
  ASSERT_ERR(late->err.code, UVSQL_EDISCONNECT);
  wait_req(loop, kill_req);
  ASSERT_OK(kill_req->err.code, &kill_req->err);
  ASSERT_INT_EQ(uvsql_result_value(kill_req->result, 0, 0)->u.b, 1);
  treq_free(sleep), treq_free(behind), treq_free(late), treq_free(kill_req);
  close_wait(loop, victim);
  close_wait(loop, killer_dc);
  test_loop_close(loop);
}

/* ------------------------------------------------------------------ close */

TEST(close_fails_queued_requests_and_loop_closes) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  treq_t *sent = submit(dc, "SELECT pg_sleep(5)", NULL, 0);
  uv_run(loop, UV_RUN_NOWAIT); /* let it go out */
  treq_t *queued = submit(dc, "SELECT 2", NULL, 0);
  uint64_t t0 = uv_hrtime();
  close_wait(loop, dc);
  ASSERT(sent->done && queued->done);
  ASSERT_ERR(sent->err.code, UVSQL_ECLOSED);
  ASSERT_ERR(queued->err.code, UVSQL_ECLOSED);
  ASSERT((double)(uv_hrtime() - t0) / 1e9 < 1.0);
  treq_free(sent), treq_free(queued);
  test_loop_close(loop);
}

static void close_in_done(uvsql__request_t *req) {
  treq_t *t = (treq_t *)req;
  uvsql__dconn_t *dc = t->ctx;
  dc->driver->close(dc, on_closed, &closed_flag);
}

TEST(close_from_inside_a_done_callback) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  treq_t *a = submit(dc, "SELECT 1", NULL, 0);
  treq_t *b = submit(dc, "SELECT 2", NULL, 0);
  a->then = close_in_done;
  a->ctx = dc;
  closed_flag = 0;
  run_until(loop, &closed_flag);
  ASSERT_OK(a->err.code, &a->err);
  ASSERT_INT_EQ(cell_i64(a->result, 0, 0), 1);
  ASSERT(b->done); /* either its answer had arrived, or it was failed by the close */
  ASSERT(b->err.code == 0 || b->err.code == UVSQL_ECLOSED);
  treq_free(a), treq_free(b);
  test_loop_close(loop);
}

/* ------------------------------------------------------------------ more paths */

/* The cache learns the result types on the first execution and asks for binary after. */
TEST(statement_switches_to_binary_after_first_execution) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  uvsql__pg_conn_t *pc = (uvsql__pg_conn_t *)dc;
  treq_t *t = exec_ok(loop, dc, TYPES_SQL, NULL, 0);
  uvsql__pg_stmt_t *s = (uvsql__pg_stmt_t *)pc->cache.mru;
  ASSERT(s != NULL);
  ASSERT_INT_EQ(s->prepared, 1);
  ASSERT_INT_EQ(s->binary, 1);
  treq_free(t);
  t = exec_ok(loop, dc, "SELECT '(1,2)'::point, 2", NULL, 0);
  ASSERT(pc->cache.mru != &s->entry);
  ASSERT_INT_EQ(((uvsql__pg_stmt_t *)pc->cache.mru)->binary, -1); /* point stays text */
  treq_free(t);
  t = exec_ok(loop, dc, "SELECT -1234.5000::numeric, 2", NULL, 0);
  ASSERT_INT_EQ(((uvsql__pg_stmt_t *)pc->cache.mru)->binary, 1); /* numeric is binary */
  ASSERT_INT_EQ(uvsql_result_value(t->result, 0, 0)->type, UVSQL_TYPE_NUMERIC);
  ASSERT_STR_EQ(cell_text(t->result, 0, 0), "-1234.5000");
  treq_free(t);
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* Text-format timestamps carry the session's offset; text dates need ISO DateStyle (the driver
 * sets it when the server says otherwise). Also checks that `options` reaches the server. */
TEST(session_time_zone_and_date_style_do_not_change_values) {
  uv_loop_t *loop = test_loop();
  char text[512];
  uvsql_error_t err;
  snprintf(text, sizeof text,
           "%s?options=-c%%20TimeZone%%3DAsia/Kathmandu%%20-c%%20DateStyle%%3DGerman",
           test_pg_url());
  uvsql__dconn_t *dc = try_open(loop, text, 100, &err);
  ASSERT_OK(err.code, &err);
  for (int pass = 0; pass < 2; pass++) {
    treq_t *t = exec_ok(loop, dc,
                        "SELECT current_setting('TimeZone'), current_setting('DateStyle'), "
                        "'2024-02-29 12:34:56.5+02'::timestamptz, '2024-02-29'::date",
                        NULL, 0);
    ASSERT_STR_EQ(cell_text(t->result, 0, 0), "Asia/Kathmandu");
    ASSERT_STR_CONTAINS(cell_text(t->result, 0, 1), "ISO");
    ASSERT_INT_EQ(cell(t->result, 2, UVSQL_TYPE_TIMESTAMPTZ)->u.i64,
                  uvsql_days_from_civil(2024, 2, 29) * INT64_C(86400000000) + INT64_C(45296500000) -
                      INT64_C(7200000000));
    ASSERT_INT_EQ(cell(t->result, 3, UVSQL_TYPE_DATE)->u.i64, uvsql_days_from_civil(2024, 2, 29));
    treq_free(t);
  }
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* 8 MB each way: libpq cannot write it at once (PQflush returns 1, the driver waits for
 * writable) and the result arrives in many reads. */
TEST(large_parameter_and_result) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  size_t n = 8u << 20;
  char *big = malloc(n);
  for (size_t i = 0; i < n; i++)
    big[i] = (char)(i * 7);
  uvsql_value_t p[] = {UVSQL_V_BYTES(big, n)};
  treq_t *t = exec_ok(loop, dc, "SELECT $1::bytea AS b, length($1) AS n", p, 1);
  const uvsql_value_t *v = cell(t->result, 0, UVSQL_TYPE_BYTES);
  ASSERT_INT_EQ(v->u.s.len, n);
  ASSERT(memcmp(v->u.s.ptr, big, n) == 0);
  ASSERT_INT_EQ(cell_i64(t->result, 0, 1), n);
  treq_free(t);
  t = exec_ok(loop, dc, "SELECT g, 'row ' || g FROM generate_series(1, 100000) g", NULL, 0);
  ASSERT_INT_EQ(uvsql_result_nrows(t->result), 100000);
  ASSERT_INT_EQ(cell_i64(t->result, 99999, 0), 100000);
  treq_free(t);
  free(big);
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* A request sent behind another one is cancelled when its turn comes. */
TEST(cancel_of_request_waiting_in_the_pipeline) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  treq_t *first = submit(dc, "SELECT pg_sleep(0.3), 1", NULL, 0);
  treq_t *second = submit(dc, "SELECT pg_sleep(20)", NULL, 0);
  uv_run(loop, UV_RUN_NOWAIT); /* both go out */
  uint64_t t0 = uv_hrtime();
  ASSERT_OK(dc->driver->cancel(dc, &second->req), NULL);
  wait_req(loop, second);
  ASSERT((double)(uv_hrtime() - t0) / 1e9 < 1.5);
  ASSERT_OK(first->err.code, &first->err);
  ASSERT_INT_EQ(cell_i64(first->result, 0, 1), 1);
  ASSERT_ERR(second->err.code, UVSQL_ECANCELLED);
  treq_free(first), treq_free(second);
  treq_t *t = exec_ok(loop, dc, "SELECT 1", NULL, 0);
  treq_free(t);
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* An idle connection (say, in a pool) does not keep uv_run() from returning. */
TEST(idle_connection_does_not_hold_the_loop) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  treq_free(exec_ok(loop, dc, "SELECT 1", NULL, 0));
  uint64_t t0 = uv_hrtime();
  uv_run(loop, UV_RUN_DEFAULT);
  ASSERT((double)(uv_hrtime() - t0) / 1e9 < 0.5);
  treq_free(exec_ok(loop, dc, "SELECT 2", NULL, 0)); /* and it still works */
  close_wait(loop, dc);
  test_loop_close(loop);
}

TEST(requests_submitted_while_connecting_run_after_connect) {
  uv_loop_t *loop = test_loop();
  uvsql_url_t *url;
  uvsql_error_t err;
  uvsql__dconn_t *dc = NULL;
  connect_out_t out = {0};
  uvsql__dconn_options_t opt = {30.0, 100};
  ASSERT_OK(uvsql_url_parse(&url, test_pg_url(), &err), &err);
  ASSERT_OK(pg_driver()->connect(&dc, loop, url, &opt, on_connect, &out, &err), &err);
  uvsql_url_free(url);
  treq_t *t = submit(dc, "SELECT 41 + 1", NULL, 0);
  wait_req(loop, t);
  ASSERT_INT_EQ(out.called, 1);
  ASSERT_OK(t->err.code, &t->err);
  ASSERT_INT_EQ(cell_i64(t->result, 0, 0), 42);
  treq_free(t);
  close_wait(loop, dc);
  test_loop_close(loop);
}

TEST(connect_through_unix_socket_directory) {
  uv_loop_t *loop = test_loop();
  uvsql_url_t *u;
  uvsql_error_t err;
  char text[512];
  ASSERT_OK(uvsql_url_parse(&u, test_pg_url(), &err), &err);
  const char *dir = getenv("UVSQL_TEST_PG_SOCKET_DIR");
  snprintf(text, sizeof text, "postgresql://%s@localhost/%s?host=%s&port=%d",
           u->user ? u->user : "postgres", u->database ? u->database : "postgres",
           dir && *dir ? dir : "/tmp", u->port ? u->port : 5432);
  uvsql_url_free(u);
  uvsql__dconn_t *dc = try_open(loop, text, 100, &err);
  if (err.code == UVSQL_ECONNECT && strstr(err.message, "No such file")) {
    printf("skipped: no server socket in %s (set UVSQL_TEST_PG_SOCKET_DIR)\n", dir ? dir : "/tmp");
    close_wait(loop, dc);
    test_loop_close(loop);
    return;
  }
  ASSERT_OK(err.code, &err);
  treq_t *t = exec_ok(loop, dc, "SELECT inet_server_addr() IS NULL", NULL, 0);
  ASSERT_INT_EQ(uvsql_result_value(t->result, 0, 0)->u.b, 1); /* NULL address: a unix socket */
  treq_free(t);
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* After DISCARD ALL the server has no prepared statements: the cache must not use its own. */
TEST(discard_all_clears_the_statement_cache) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  uvsql_value_t p[] = {UVSQL_V_INT64(1)};
  for (int i = 0; i < 2; i++)
    treq_free(exec_ok(loop, dc, "SELECT $1::int8 + 1", p, 1));
  treq_t *t = submit(dc, "DISCARD ALL", NULL, 0);
  t->req.flags = UVSQL__REQ_NO_PREPARE;
  wait_req(loop, t);
  ASSERT_OK(t->err.code, &t->err);
  treq_free(t);
  t = exec_ok(loop, dc, "SELECT $1::int8 + 1", p, 1);
  ASSERT_INT_EQ(cell_i64(t->result, 0, 0), 2);
  treq_free(t);
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* The cancel job owns its PGcancel: closing the connection meanwhile is safe. */
TEST(close_right_after_cancel) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  treq_t *t = submit(dc, "SELECT pg_sleep(5)", NULL, 0);
  uv_run(loop, UV_RUN_NOWAIT);
  ASSERT_OK(dc->driver->cancel(dc, &t->req), NULL);
  close_wait(loop, dc);
  ASSERT(t->done);
  ASSERT(t->err.code == UVSQL_ECLOSED || t->err.code == UVSQL_ECANCELLED);
  treq_free(t);
  test_loop_close(loop);
}

/* ------------------------------------------------------------------ shared sync groups */

TEST(plain_select_scanner) {
  const char *yes[] = {"SELECT 1",
                       "select id, name FROM t WHERE id = $1",
                       "  /* c */ SELECT count(*), coalesce(max(x), 0) FROM t -- note\n",
                       "SELECT a FROM t WHERE id IN ($1, $2) AND (b > 1 OR c < 2)",
                       "SELECT x FROM (SELECT 1 AS x) AS s",
                       "SELECT 'nextval(x)', \"for\" FROM t",
                       "SELECT $1::int8 * 2 AS v",
                       "SELECT 1/0",
                       "SELECT E'a\\'for(', $$into$$",
                       "SELECT row_number() OVER (ORDER BY x), Char_Length(name) FROM t"};
  const char *no[] = {"INSERT INTO t VALUES (1)",
                      "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x",
                      "SELECT nextval('s')",
                      "SELECT pg_notify('c', 'x')",
                      "SELECT * FROM t FOR UPDATE",
                      "SELECT 1 INTO newtable",
                      "SELECT my_schema.count(x) FROM t",
                      "SELECT \"count\"(x) FROM t",
                      "SELECT set_config('a.b', 'c', false)",
                      "SELECT pg_advisory_lock(1)",
                      "SELECT pg_sleep(1)",
                      "SELECT now()",
                      "SELECT CURRENT_TIMESTAMP",
                      "VALUES (1)",
                      "UPDATE t SET x = 1",
                      "",
                      "-- only a comment"};
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
    if (!uvsql__pg_sql_is_plain_select(yes[i], strlen(yes[i])))
      FAILF("\"%s\" not taken for a plain SELECT", yes[i]);
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
    if (uvsql__pg_sql_is_plain_select(no[i], strlen(no[i])))
      FAILF("\"%s\" taken for a plain SELECT", no[i]);
}

/* Sends what is pending without reading (no PQconsumeInput in the pump): the groups that went
 * out can be looked at before any answer is read. */
static uvsql__pg_conn_t *send_now(uvsql__dconn_t *dc) {
  uvsql__pg_conn_t *pc = (uvsql__pg_conn_t *)dc;
  uvsql__pg_pump(pc);
  return pc;
}

/* Plain SELECTs sent together share one Sync; one of them failing fails only itself: those
 * before it keep their rows, those after it (which the server skipped) are sent again. */
TEST(failing_select_in_a_shared_sync_group_fails_alone) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  enum { N = 12, BAD = 4 };
  treq_t *t[N];
  done_counter = 0;
  for (int i = 0; i < N; i++) {
    uvsql_value_t p[] = {UVSQL_V_INT64(i == BAD ? 0 : i)};
    t[i] = submit(dc, i == BAD ? "SELECT 10 / $1::int8 AS v" : "SELECT $1::int8 * 3 AS v", p, 1);
  }
  uvsql__pg_conn_t *pc = send_now(dc);
  ASSERT_INT_EQ(pc->groups_inflight, 1); /* one group, one Sync */
  ASSERT(t[0]->req.state & UVSQL__PG_RS_NOSYNC);
  ASSERT(t[N - 1]->req.state & UVSQL__PG_RS_GROUP_END);
  wait_req(loop, t[N - 1]);
  for (int i = 0; i < N; i++) {
    ASSERT(t[i]->done);
    ASSERT_INT_EQ(t[i]->order, i);
    if (i == BAD) {
      ASSERT_ERR(t[i]->err.code, UVSQL_EDATA);
      ASSERT_STR_EQ(t[i]->err.sqlstate, "22012");
      ASSERT_STR_EQ(t[i]->err.message, "division by zero");
      ASSERT(t[i]->result == NULL);
    } else {
      ASSERT_OK(t[i]->err.code, &t[i]->err);
      ASSERT_INT_EQ(cell_i64(t[i]->result, 0, 0), 3 * i);
    }
    treq_free(t[i]);
  }
  ASSERT_INT_EQ(pc->groups_inflight, 0);
  /* the statements whose Parse the failure skipped were prepared anew: they run again */
  for (int i = 0; i < 3; i++) {
    uvsql_value_t p[] = {UVSQL_V_INT64(i)};
    treq_t *r = exec_ok(loop, dc, "SELECT $1::int8 * 3 AS v", p, 1);
    ASSERT_INT_EQ(cell_i64(r->result, 0, 0), 3 * i);
    treq_free(r);
  }
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* A Parse error in a shared group: the statement fails with it; an identical one later in the
 * group fails with the same error; a different one after it still runs. */
TEST(parse_error_in_a_shared_sync_group_fails_only_that_statement) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  uvsql_value_t p[] = {UVSQL_V_INT64(7)};
  treq_t *a = submit(dc, "SELECT $1::int8 + 1 AS v", p, 1);
  treq_t *b = submit(dc, "SELECT sg_no_such_column FROM pg_class", NULL, 0);
  treq_t *c = submit(dc, "SELECT $1::int8 + 1 AS v", p, 1);
  treq_t *d = submit(dc, "SELECT sg_no_such_column FROM pg_class", NULL, 0);
  treq_t *e = submit(dc, "SELECT 'e' AS v", NULL, 0);
  ASSERT_INT_EQ(send_now(dc)->groups_inflight, 1);
  wait_req(loop, e);
  ASSERT_OK(a->err.code, &a->err);
  ASSERT_INT_EQ(cell_i64(a->result, 0, 0), 8);
  ASSERT_OK(c->err.code, &c->err);
  ASSERT_INT_EQ(cell_i64(c->result, 0, 0), 8);
  for (int i = 0; i < 2; i++) {
    treq_t *bad = i ? d : b;
    ASSERT_ERR(bad->err.code, UVSQL_EPROGRAMMING);
    ASSERT_STR_EQ(bad->err.sqlstate, "42703");
    ASSERT_STR_EQ(bad->err.message, "column \"sg_no_such_column\" does not exist");
  }
  ASSERT_OK(e->err.code, &e->err);
  ASSERT_STR_EQ(cell_text(e->result, 0, 0), "e");
  ASSERT(a->order < b->order && b->order < c->order && c->order < d->order && d->order < e->order);
  treq_free(a), treq_free(b), treq_free(c), treq_free(d), treq_free(e);
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* Inside a transaction block, the statements after the failing one get the server's own
 * "current transaction is aborted" error, as without groups; a ROLLBACK submitted with them
 * runs after them and the connection is usable again. */
TEST(failing_select_in_a_shared_sync_group_inside_a_transaction) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  treq_free(exec_ok(loop, dc, "BEGIN", NULL, 0));
  treq_free(exec_ok(loop, dc, "CREATE TEMP TABLE sg_tx (x int)", NULL, 0));
  treq_free(exec_ok(loop, dc, "INSERT INTO sg_tx VALUES (1), (2)", NULL, 0));
  treq_t *a = submit(dc, "SELECT count(*) FROM sg_tx", NULL, 0);
  treq_t *b = submit(dc, "SELECT 1 / (count(*) - 2) FROM sg_tx", NULL, 0);
  treq_t *c = submit(dc, "SELECT max(x) FROM sg_tx", NULL, 0);
  treq_t *rb = submit(dc, "ROLLBACK", NULL, 0);
  ASSERT_INT_EQ(send_now(dc)->groups_inflight, 1);
  wait_req(loop, rb);
  ASSERT_OK(a->err.code, &a->err);
  ASSERT_INT_EQ(cell_i64(a->result, 0, 0), 2);
  ASSERT_ERR(b->err.code, UVSQL_EDATA);
  ASSERT_STR_EQ(b->err.sqlstate, "22012");
  ASSERT_ERR(c->err.code, UVSQL_EINTERNAL);
  ASSERT_STR_EQ(c->err.sqlstate, "25P02");
  ASSERT_STR_EQ(c->err.message,
                "current transaction is aborted, commands ignored until end of transaction block");
  ASSERT_OK(rb->err.code, &rb->err);
  ASSERT(a->order < b->order && b->order < c->order && c->order < rb->order);
  treq_t *after =
      exec_ok(loop, dc, "SELECT count(*) FROM pg_class WHERE relname = 'sg_tx'", NULL, 0);
  ASSERT_INT_EQ(cell_i64(after->result, 0, 0), 0); /* rolled back */
  treq_free(a), treq_free(b), treq_free(c), treq_free(rb), treq_free(after);
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* A write submitted behind a shared group waits for it: a SELECT sent again after a
 * neighbour's failure still reads what it would have read in its place. */
TEST(write_behind_a_shared_sync_group_runs_after_its_reruns) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  treq_free(exec_ok(loop, dc, "CREATE TEMP TABLE sg_order (x int)", NULL, 0));
  treq_t *a = submit(dc, "SELECT count(*) FROM sg_order", NULL, 0);
  treq_t *b = submit(dc, "SELECT x / 0 FROM sg_order", NULL, 0); /* no rows: no error */
  treq_t *bad = submit(dc, "SELECT 1/0", NULL, 0);
  treq_t *c = submit(dc, "SELECT count(*) FROM sg_order", NULL, 0);
  treq_t *w = submit(dc, "INSERT INTO sg_order VALUES (1)", NULL, 0);
  treq_t *d = submit(dc, "SELECT count(*) FROM sg_order", NULL, 0);
  uvsql__pg_conn_t *pc = send_now(dc);
  ASSERT_INT_EQ(pc->groups_inflight, 1);
  ASSERT(pc->pending.head == &w->req); /* the write waits for the group */
  wait_req(loop, d);
  ASSERT_INT_EQ(cell_i64(a->result, 0, 0), 0);
  ASSERT_OK(b->err.code, &b->err);
  ASSERT_INT_EQ((long long)uvsql_result_nrows(b->result), 0);
  ASSERT_ERR(bad->err.code, UVSQL_EDATA);
  ASSERT_STR_EQ(bad->err.sqlstate, "22012");
  ASSERT_OK(c->err.code, &c->err);
  ASSERT_INT_EQ(cell_i64(c->result, 0, 0), 0); /* sent again, still before the INSERT */
  ASSERT_OK(w->err.code, &w->err);
  ASSERT_INT_EQ(cell_i64(d->result, 0, 0), 1);
  ASSERT(a->order < b->order && b->order < bad->order && bad->order < c->order &&
         c->order < w->order && w->order < d->order);
  treq_free(a), treq_free(b), treq_free(bad), treq_free(c), treq_free(w), treq_free(d);
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* Statements that may change something never share a Sync: a failure next to them cannot
 * undo them. */
TEST(statements_with_side_effects_keep_their_own_sync) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  treq_free(exec_ok(loop, dc, "CREATE TEMP TABLE sg_fx (x int)", NULL, 0));
  treq_t *a = submit(dc, "SELECT set_config('sg.fx', 'kept', false)", NULL, 0);
  treq_t *b = submit(dc, "INSERT INTO sg_fx VALUES (1)", NULL, 0);
  treq_t *bad = submit(dc, "SELECT 1/0", NULL, 0);
  uvsql__pg_conn_t *pc = send_now(dc);
  ASSERT_INT_EQ(pc->groups_inflight, 0);
  wait_req(loop, bad);
  ASSERT_OK(a->err.code, &a->err);
  ASSERT_OK(b->err.code, &b->err);
  ASSERT_ERR(bad->err.code, UVSQL_EDATA);
  treq_t *r =
      exec_ok(loop, dc, "SELECT current_setting('sg.fx'), (SELECT count(*) FROM sg_fx)", NULL, 0);
  ASSERT_STR_EQ(cell_text(r->result, 0, 0), "kept");
  ASSERT_INT_EQ(cell_i64(r->result, 0, 1), 1);
  treq_free(a), treq_free(b), treq_free(bad), treq_free(r);
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* A statement cancelled while a neighbour's failure holds it back reports the cancel. */
TEST(cancel_of_a_statement_held_back_by_a_failed_neighbour) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  treq_t *bad = submit(dc, "SELECT 1/0", NULL, 0);
  treq_t *a = submit(dc, "SELECT 2 AS v", NULL, 0);
  treq_t *b = submit(dc, "SELECT 3 AS v", NULL, 0);
  ASSERT_INT_EQ(send_now(dc)->groups_inflight, 1);
  ASSERT_OK(dc->driver->cancel(dc, &a->req), NULL);
  wait_req(loop, b);
  ASSERT_ERR(bad->err.code, UVSQL_EDATA);
  ASSERT_ERR(a->err.code, UVSQL_ECANCELLED);
  ASSERT_OK(b->err.code, &b->err);
  ASSERT_INT_EQ(cell_i64(b->result, 0, 0), 3);
  treq_free(bad), treq_free(a), treq_free(b);
  treq_free(exec_ok(loop, dc, "SELECT 1", NULL, 0));
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* Two shared groups in flight, each with a failure: what each kept from running is sent again
 * in the order it was submitted. */
TEST(statements_held_back_in_two_groups_run_again_in_order) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  done_counter = 0;
  treq_t *a = submit(dc, "SELECT 'a' AS v", NULL, 0);
  treq_t *bad1 = submit(dc, "SELECT 1/0", NULL, 0);
  treq_t *b = submit(dc, "SELECT 'b' AS v", NULL, 0);
  ASSERT_INT_EQ(send_now(dc)->groups_inflight, 1);
  treq_t *c = submit(dc, "SELECT 'c' AS v", NULL, 0);
  treq_t *bad2 = submit(dc, "SELECT 2/0", NULL, 0);
  treq_t *d = submit(dc, "SELECT 'd' AS v", NULL, 0);
  ASSERT_INT_EQ(send_now(dc)->groups_inflight, 2);
  wait_req(loop, d);
  wait_req(loop, b);
  ASSERT_ERR(bad1->err.code, UVSQL_EDATA);
  ASSERT_ERR(bad2->err.code, UVSQL_EDATA);
  ASSERT_STR_EQ(bad2->err.message, "division by zero");
  treq_t *ok[] = {a, b, c, d};
  for (int i = 0; i < 4; i++) {
    char want[2] = {(char)('a' + i), 0};
    ASSERT_OK(ok[i]->err.code, &ok[i]->err);
    ASSERT_STR_EQ(cell_text(ok[i]->result, 0, 0), want);
  }
  ASSERT(a->order < bad1->order && bad1->order < c->order && c->order < bad2->order);
  ASSERT(bad2->order < b->order && b->order < d->order); /* sent again, in submission order */
  treq_free(a), treq_free(bad1), treq_free(b), treq_free(c), treq_free(bad2), treq_free(d);
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* ------------------------------------------------------------------ shared sync groups: faults */

/* A plain SELECT (it shares a Sync) that runs for many seconds: pg_sleep is not plain. */
#define SG_SLOW "SELECT count(*) AS v FROM generate_series(1, 30000) a, generate_series(1, 30000) b"

/* Runs the loop until every one of n requests has settled (on_done asserts once each). */
static void wait_all(uv_loop_t *loop, treq_t **t, int n) {
  for (int i = 0; i < n; i++)
    wait_req(loop, t[i]);
}

static void kill_now(uvsql__request_t *req) {
  uvsql_value_t p[] = {UVSQL_V_INT64(victim_pid)};
  (void)req;
  kill_req = submit(killer_dc, "SELECT pg_terminate_backend($1::int4)", p, 1);
}

static int64_t backend_pid(uv_loop_t *loop, uvsql__dconn_t *dc) {
  treq_t *t = exec_ok(loop, dc, "SELECT pg_backend_pid()", NULL, 0);
  int64_t pid = cell_i64(t->result, 0, 0);
  treq_free(t);
  return pid;
}

/* The request the server was running when it was terminated: its FATAL 57P01, or (when it
 * came with the end of the stream) the lost connection. */
static void assert_terminated(const treq_t *t) {
  ASSERT(t->done);
  ASSERT_ERR(t->err.code, UVSQL_EDISCONNECT);
  if (t->err.sqlstate[0]) {
    ASSERT_STR_EQ(t->err.sqlstate, "57P01");
    ASSERT_STR_CONTAINS(t->err.message, "terminating connection due to administrator command");
  } else {
    ASSERT_STR_CONTAINS(t->err.message, "connection to the server was lost");
  }
  ASSERT(t->result == NULL);
}

static void assert_lost(const treq_t *t) {
  ASSERT(t->done);
  ASSERT_ERR(t->err.code, UVSQL_EDISCONNECT);
  ASSERT_STR_CONTAINS(t->err.message, "connection to the server was lost: ");
  ASSERT_STR_EQ(t->err.sqlstate, "");
  ASSERT(t->result == NULL);
}

static void finish_kill(uv_loop_t *loop) {
  wait_req(loop, kill_req);
  ASSERT_OK(kill_req->err.code, &kill_req->err);
  ASSERT_INT_EQ(uvsql_result_value(kill_req->result, 0, 0)->u.b, 1);
  treq_free(kill_req);
  kill_req = NULL;
}

/* The backend is terminated while a shared group of 24 plain SELECTs is in flight, its 4th
 * member running for seconds: every member settles exactly once; those the server finished
 * before keep their rows, the running one gets the server's FATAL (or the lost connection),
 * every later one "connection to the server was lost"; later submits fail the same way. */
TEST(terminated_backend_fails_every_member_of_a_shared_sync_group_once) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *victim = open_pg(loop, 100);
  killer_dc = open_pg(loop, 100);
  victim_pid = backend_pid(loop, victim);
  enum { N = 24, SLOW = 3 };
  treq_t *t[N];
  uv_timer_t timer;
  done_counter = 0;
  for (int i = 0; i < N; i++) {
    uvsql_value_t p[] = {UVSQL_V_INT64(i)};
    t[i] =
        i == SLOW ? submit(victim, SG_SLOW, NULL, 0) : submit(victim, "SELECT $1::int8 AS v", p, 1);
  }
  uvsql__pg_conn_t *pc = send_now(victim);
  ASSERT_INT_EQ(pc->groups_inflight, 1);
  ASSERT(t[N - 1]->req.state & UVSQL__PG_RS_GROUP_END);
  uv_timer_init(loop, &timer);
  uv_timer_start(&timer, kill_timer_cb, 500, 0);
  uint64_t t0 = uv_hrtime();
  wait_all(loop, t, N);
  ASSERT((double)(uv_hrtime() - t0) / 1e9 < 20.0); /* not after the slow one's end */
  for (int i = 0; i < N; i++) {
    ASSERT(i == 0 || t[i]->order > t[i - 1]->order);
    if (i < SLOW && !t[i]->err.code)
      ASSERT_INT_EQ(cell_i64(t[i]->result, 0, 0), i);
    else if (i < SLOW)
      assert_lost(t[i]);
    else if (i == SLOW)
      assert_terminated(t[i]);
    else
      assert_lost(t[i]);
  }
  ASSERT_INT_EQ(victim->broken, 1);
  ASSERT_INT_EQ(pc->groups_inflight, 0);
  ASSERT(pc->sent.head == NULL && pc->rerun.head == NULL && pc->pending.head == NULL);
  treq_t *late = submit(victim, "SELECT 1", NULL, 0);
  wait_req(loop, late);
  assert_lost(late);
  finish_kill(loop);
  for (int i = 0; i < N; i++)
    treq_free(t[i]);
  treq_free(late);
  close_wait(loop, victim);
  close_wait(loop, killer_dc);
  test_loop_close(loop);
}

/* A member fails (division by zero), the members after it are sent again each alone, and the
 * backend is terminated while one of those runs: the failed one keeps its own error, the ones
 * that ran again keep their rows, the running one and all behind it fail with the lost
 * connection, each exactly once. */
TEST(terminated_backend_while_members_of_a_failed_group_run_again) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *victim = open_pg(loop, 100);
  killer_dc = open_pg(loop, 100);
  victim_pid = backend_pid(loop, victim);
  done_counter = 0;
  treq_t *a = submit(victim, "SELECT 'a' AS v", NULL, 0);
  treq_t *bad = submit(victim, "SELECT 1/0", NULL, 0);
  treq_t *b = submit(victim, "SELECT 'b' AS v", NULL, 0);
  treq_t *slow = submit(victim, SG_SLOW, NULL, 0);
  treq_t *c = submit(victim, "SELECT 'c' AS v", NULL, 0);
  treq_t *d = submit(victim, "SELECT 'd' AS v", NULL, 0);
  uvsql__pg_conn_t *pc = send_now(victim);
  ASSERT_INT_EQ(pc->groups_inflight, 1);
  b->then = kill_now; /* b ran again alone: the slow one is next */
  treq_t *all[] = {a, bad, b, slow, c, d};
  uint64_t t0 = uv_hrtime();
  wait_all(loop, all, 6);
  ASSERT((double)(uv_hrtime() - t0) / 1e9 < 20.0);
  ASSERT_OK(a->err.code, &a->err);
  ASSERT_STR_EQ(cell_text(a->result, 0, 0), "a");
  ASSERT_ERR(bad->err.code, UVSQL_EDATA);
  ASSERT_STR_EQ(bad->err.sqlstate, "22012");
  ASSERT_STR_EQ(bad->err.message, "division by zero");
  ASSERT_OK(b->err.code, &b->err);
  ASSERT_STR_EQ(cell_text(b->result, 0, 0), "b");
  assert_terminated(slow);
  assert_lost(c);
  assert_lost(d);
  ASSERT(a->order < bad->order && bad->order < b->order && b->order < slow->order &&
         slow->order < c->order && c->order < d->order);
  ASSERT_INT_EQ(victim->broken, 1);
  ASSERT(pc->sent.head == NULL && pc->rerun.head == NULL && pc->pending.head == NULL);
  finish_kill(loop);
  for (int i = 0; i < 6; i++)
    treq_free(all[i]);
  close_wait(loop, victim);
  close_wait(loop, killer_dc);
  test_loop_close(loop);
}

/* The backend is terminated while the members held back by a failure wait for their group's
 * end (in `rerun`) behind a second group whose first member runs for seconds. */
TEST(terminated_backend_while_members_wait_to_run_again) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *victim = open_pg(loop, 100);
  killer_dc = open_pg(loop, 100);
  victim_pid = backend_pid(loop, victim);
  uv_timer_t timer;
  done_counter = 0;
  treq_t *bad = submit(victim, "SELECT 1/0", NULL, 0);
  treq_t *a = submit(victim, "SELECT 'a' AS v", NULL, 0);
  treq_t *b = submit(victim, "SELECT 'b' AS v", NULL, 0);
  uvsql__pg_conn_t *pc = send_now(victim);
  treq_t *slow = submit(victim, SG_SLOW, NULL, 0);
  treq_t *c = submit(victim, "SELECT 'c' AS v", NULL, 0);
  ASSERT_INT_EQ(send_now(victim)->groups_inflight, 2);
  uv_timer_init(loop, &timer);
  uv_timer_start(&timer, kill_timer_cb, 500, 0);
  treq_t *all[] = {bad, a, b, slow, c};
  wait_all(loop, all, 5);
  ASSERT_ERR(bad->err.code, UVSQL_EDATA);
  ASSERT_STR_EQ(bad->err.message, "division by zero");
  /* a and b were held back; they go out again only after the second group: lost with it */
  assert_lost(a);
  assert_lost(b);
  assert_terminated(slow);
  assert_lost(c);
  ASSERT(pc->sent.head == NULL && pc->rerun.head == NULL && pc->pending.head == NULL);
  ASSERT_INT_EQ(pc->groups_inflight, 0);
  finish_kill(loop);
  for (int i = 0; i < 5; i++)
    treq_free(all[i]);
  close_wait(loop, victim);
  close_wait(loop, killer_dc);
  test_loop_close(loop);
}

/* Cancel of a member running for seconds in the middle of a shared group: it alone fails with
 * the cancel (soon, not when it would have ended); the others return their rows. */
TEST(cancel_of_a_slow_member_of_a_shared_sync_group_fails_it_alone) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  uv_timer_t timer;
  done_counter = 0;
  treq_t *a = submit(dc, "SELECT 'a' AS v", NULL, 0);
  treq_t *b = submit(dc, "SELECT 'b' AS v", NULL, 0);
  treq_t *slow = submit(dc, SG_SLOW, NULL, 0);
  treq_t *c = submit(dc, "SELECT 'c' AS v", NULL, 0);
  treq_t *d = submit(dc, "SELECT 'd' AS v", NULL, 0);
  ASSERT_INT_EQ(send_now(dc)->groups_inflight, 1);
  cancel_dc = dc;
  cancel_target = slow;
  cancel_at = 0;
  uv_timer_init(loop, &timer);
  uv_timer_start(&timer, cancel_timer_cb, 500, 0);
  treq_t *all[] = {a, b, slow, c, d};
  wait_all(loop, all, 5);
  ASSERT(cancel_at != 0);
  ASSERT((double)(uv_hrtime() - cancel_at) / 1e9 < 10.0);
  ASSERT_ERR(slow->err.code, UVSQL_ECANCELLED);
  ASSERT_STR_EQ(slow->err.sqlstate, "57014");
  ASSERT_STR_CONTAINS(slow->err.message, "canceling statement due to user request");
  treq_t *ok[] = {a, b, c, d};
  const char *want[] = {"a", "b", "c", "d"};
  for (int i = 0; i < 4; i++) {
    ASSERT_OK(ok[i]->err.code, &ok[i]->err);
    ASSERT_STR_EQ(cell_text(ok[i]->result, 0, 0), want[i]);
  }
  ASSERT(a->order < b->order && b->order < slow->order && slow->order < c->order &&
         c->order < d->order);
  ASSERT_INT_EQ(dc->broken, 0);
  for (int i = 0; i < 5; i++)
    treq_free(all[i]);
  treq_t *r = exec_ok(loop, dc, "SELECT 7 AS v", NULL, 0);
  ASSERT_INT_EQ(cell_i64(r->result, 0, 0), 7);
  treq_free(r);
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* Cancel of a quick member that the server finished while a later member of its group runs
 * for seconds: the cancel cannot stop what already ran (the member reports its rows or the
 * cancel), and it must not fail the slow neighbour, which returns its rows. */
TEST(cancel_of_a_finished_member_of_a_shared_sync_group_spares_its_neighbours) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  uv_timer_t timer;
  done_counter = 0;
  treq_t *a = submit(dc, "SELECT 'a' AS v", NULL, 0);
  treq_t *target = submit(dc, "SELECT 't' AS v", NULL, 0);
  treq_t *slow = submit(dc,
                        "SELECT count(*) AS v FROM generate_series(1, 5000) a, "
                        "generate_series(1, 5000) b",
                        NULL, 0);
  treq_t *c = submit(dc, "SELECT 'c' AS v", NULL, 0);
  ASSERT_INT_EQ(send_now(dc)->groups_inflight, 1);
  cancel_dc = dc;
  cancel_target = target;
  cancel_at = 0;
  uv_timer_init(loop, &timer);
  uv_timer_start(&timer, cancel_timer_cb, 100, 0);
  treq_t *all[] = {a, target, slow, c};
  wait_all(loop, all, 4);
  ASSERT(cancel_at != 0);
  ASSERT_OK(a->err.code, &a->err);
  ASSERT_STR_EQ(cell_text(a->result, 0, 0), "a");
  if (target->err.code) {
    ASSERT_ERR(target->err.code, UVSQL_ECANCELLED);
    ASSERT(target->result == NULL);
  } else {
    ASSERT_STR_EQ(cell_text(target->result, 0, 0), "t");
  }
  printf("the cancelled member: %s\n", target->err.code ? target->err.message : "its rows");
  ASSERT_OK(slow->err.code, &slow->err);
  ASSERT_INT_EQ(cell_i64(slow->result, 0, 0), 25000000);
  ASSERT_OK(c->err.code, &c->err);
  ASSERT_STR_EQ(cell_text(c->result, 0, 0), "c");
  ASSERT_INT_EQ(dc->broken, 0);
  for (int i = 0; i < 4; i++)
    treq_free(all[i]);
  close_wait(loop, dc);
  test_loop_close(loop);
}

/* Cancel of a slow member of the second of two shared groups in flight, asked while the first
 * group still runs: it goes to the server once the first group is read, so the member stops
 * soon after (not when it would have ended); every other member returns its rows. */
TEST(cancel_of_a_member_of_a_later_shared_sync_group_stops_it_once_its_group_runs) {
  uv_loop_t *loop = test_loop();
  uvsql__dconn_t *dc = open_pg(loop, 100);
  uv_timer_t timer;
  done_counter = 0;
  treq_t *first = submit(dc,
                         "SELECT count(*) AS v FROM generate_series(1, 5000) a, "
                         "generate_series(1, 5000) b",
                         NULL, 0);
  treq_t *x = submit(dc, "SELECT 'x' AS v", NULL, 0);
  ASSERT_INT_EQ(send_now(dc)->groups_inflight, 1);
  treq_t *a = submit(dc, "SELECT 'a' AS v", NULL, 0);
  treq_t *slow = submit(dc, SG_SLOW, NULL, 0);
  treq_t *b = submit(dc, "SELECT 'b' AS v", NULL, 0);
  ASSERT_INT_EQ(send_now(dc)->groups_inflight, 2);
  cancel_dc = dc;
  cancel_target = slow;
  cancel_at = 0;
  uv_timer_init(loop, &timer);
  uv_timer_start(&timer, cancel_timer_cb, 200, 0);
  treq_t *all[] = {first, x, a, slow, b};
  wait_all(loop, all, 5);
  ASSERT(cancel_at != 0);
  ASSERT((double)(uv_hrtime() - cancel_at) / 1e9 < 20.0);
  ASSERT_OK(first->err.code, &first->err);
  ASSERT_INT_EQ(cell_i64(first->result, 0, 0), 25000000);
  ASSERT_ERR(slow->err.code, UVSQL_ECANCELLED);
  ASSERT_STR_EQ(slow->err.sqlstate, "57014");
  ASSERT_STR_CONTAINS(slow->err.message, "canceling statement due to user request");
  treq_t *ok[] = {x, a, b};
  const char *want[] = {"x", "a", "b"};
  for (int i = 0; i < 3; i++) {
    ASSERT_OK(ok[i]->err.code, &ok[i]->err);
    ASSERT_STR_EQ(cell_text(ok[i]->result, 0, 0), want[i]);
  }
  ASSERT_INT_EQ(dc->broken, 0);
  for (int i = 0; i < 5; i++)
    treq_free(all[i]);
  close_wait(loop, dc);
  test_loop_close(loop);
}
