/* tests/test_executemany.c — uvsql_engine_execute_many / uvsql_conn_execute_many on the three
 * backends: every set written and counted, NULLs and text, an error in the middle (which set,
 * and nothing left outside a transaction; the earlier sets left inside one until rollback),
 * bad sets refused before anything runs, and no sets at all. */
#include "backend.h"

#define NSETS 1000

typedef struct {
  char id_name[NSETS][24]; /* text values the sets borrow */
  uvsql_param_t p[NSETS * 3];
} sets_t;

/* Set i: id i + base, name "n<i>" (NULL for every 7th), score i / 2.0. */
static sets_t *make_sets(size_t n, int64_t base) {
  sets_t *s = calloc(1, sizeof *s);
  ASSERT(s != NULL);
  for (size_t i = 0; i < n; i++) {
    snprintf(s->id_name[i], sizeof s->id_name[i], "n%zu", i);
    s->p[i * 3] = (uvsql_param_t){"id", UVSQL_V_INT64((int64_t)i + base)};
    s->p[i * 3 + 1] =
        (uvsql_param_t){"name", i % 7 == 3 ? UVSQL_V_NULL() : UVSQL_V_TEXT(s->id_name[i])};
    s->p[i * 3 + 2] = (uvsql_param_t){"score", UVSQL_V_DOUBLE((double)i / 2.0)};
  }
  return s;
}

static const char *make_table(fixture_t *fx) {
  const char *t = test_unique_name("hooks_many");
  char sql[256];
  snprintf(sql, sizeof sql,
           "CREATE TABLE %s (id INTEGER PRIMARY KEY, name VARCHAR(50), score DOUBLE PRECISION)", t);
  exec_ok(fx, sql);
  return t;
}

static void drop_table(fixture_t *fx, const char *t) {
  char sql[128];
  snprintf(sql, sizeof sql, "DROP TABLE %s", t);
  exec_ok(fx, sql);
}

static uvsql_stmt_t *insert_stmt(const char *t) {
  char sql[256];
  uvsql_stmt_t *st;
  uvsql_error_t err;
  snprintf(sql, sizeof sql, "INSERT INTO %s (id, name, score) VALUES (:id, :name, :score)", t);
  ASSERT_OK(uvsql_text(&st, sql, &err), &err);
  return st;
}

static void writes_and_counts_every_set(const char *url) {
  fixture_t fx = fixture_open(url, NULL);
  const char *t = make_table(&fx);
  uvsql_stmt_t *st = insert_stmt(t);
  sets_t *s = make_sets(NSETS, 0);

  uvsql_future_t *f = uvsql_engine_execute_many(fx.engine, st, s->p, 3, NSETS, NULL, NULL);
  memset(s, 0, sizeof *s); /* parameters were copied before the call returned */
  uvsql_result_t *r = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_result_rows_affected(r), NSETS);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 0);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(count_rows(&fx, t, NULL), NSETS);
  ASSERT_INT_EQ(count_rows(&fx, t, "name IS NULL"), NSETS / 7 + (NSETS % 7 > 3));
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT name, score FROM %s WHERE id = 998", t);
  r = query(&fx, sql, NULL, 0);
  const char *name;
  size_t len;
  double score;
  ASSERT_OK(uvsql_result_text(r, 0, 0, &name, &len), (uvsql_error_t *)NULL);
  ASSERT_STR_EQ(name, "n998");
  ASSERT_OK(uvsql_result_double(r, 0, 1, &score), (uvsql_error_t *)NULL);
  ASSERT(score == 499.0);
  uvsql_result_free(r);

  /* UPDATE: rows affected summed over the sets (one set matches nothing) */
  uvsql_stmt_t *up;
  uvsql_error_t err;
  snprintf(sql, sizeof sql, "UPDATE %s SET score = :score WHERE id >= :lo AND id < :hi", t);
  ASSERT_OK(uvsql_text(&up, sql, &err), &err);
  uvsql_param_t u[] = {
      {"lo", UVSQL_V_INT64(0)},    {"hi", UVSQL_V_INT64(10)},   {"score", UVSQL_V_DOUBLE(-1)},
      {"lo", UVSQL_V_INT64(100)},  {"hi", UVSQL_V_INT64(105)},  {"score", UVSQL_V_DOUBLE(-2)},
      {"lo", UVSQL_V_INT64(5000)}, {"hi", UVSQL_V_INT64(6000)}, {"score", UVSQL_V_DOUBLE(-3)},
  };
  /* on a checked-out connection, inside a transaction of the caller's */
  uvsql_conn_t *c = checkout(&fx);
  f = uvsql_conn_begin(c, UVSQL_ISOLATION_DEFAULT, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  f = uvsql_conn_execute_many(c, up, u, 3, 3, NULL, NULL);
  r = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_result_rows_affected(r), 15);
  uvsql_future_unref(f);
  f = uvsql_conn_commit(c, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  uvsql_conn_release(c);
  ASSERT_INT_EQ(count_rows(&fx, t, "score < 0"), 15);

  /* no sets: nothing runs, 0 rows */
  f = uvsql_engine_execute_many(fx.engine, up, NULL, 3, 0, NULL, NULL);
  r = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_result_rows_affected(r), 0);
  uvsql_future_unref(f);

  uvsql_stmt_free(up);
  uvsql_stmt_free(st);
  free(s);
  drop_table(&fx, t);
  fixture_close(&fx);
}

/* Set 5 repeats set 2's key. */
static void error_in_the_middle(const char *url, int bulk_says_which) {
  fixture_t fx = fixture_open(url, NULL);
  const char *t = make_table(&fx);
  uvsql_stmt_t *st = insert_stmt(t);
  sets_t *s = make_sets(10, 0);
  s->p[5 * 3].value = UVSQL_V_INT64(2);

  /* outside a transaction: atomic, nothing is written */
  uvsql_future_t *f = uvsql_engine_execute_many(fx.engine, st, s->p, 3, 10, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EINTEGRITY);
  if (bulk_says_which)
    ASSERT_STR_CONTAINS(e->message, "executemany: parameter set 5 of 10 failed");
  else
    ASSERT_STR_CONTAINS(e->message, "executemany: one of the 10 parameter sets failed");
  ASSERT_STR_CONTAINS(e->message, "outside a transaction none was written");
  ASSERT_STR_CONTAINS(e->message, "[SQL: INSERT INTO");
  uvsql_future_unref(f);
  ASSERT_INT_EQ(count_rows(&fx, t, NULL), 0);

  /* inside the caller's transaction: roll back, and nothing is left */
  uvsql_conn_t *c = checkout(&fx);
  f = uvsql_conn_begin(c, UVSQL_ISOLATION_DEFAULT, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  f = uvsql_conn_execute_many(c, st, s->p, 3, 10, NULL, NULL);
  AWAIT_ERR(f, UVSQL_EINTEGRITY);
  uvsql_future_unref(f);
  f = uvsql_conn_rollback(c, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  uvsql_conn_release(c);
  ASSERT_INT_EQ(count_rows(&fx, t, NULL), 0);

  /* the connection and the cached statement serve again */
  s->p[5 * 3].value = UVSQL_V_INT64(5);
  f = uvsql_engine_execute_many(fx.engine, st, s->p, 3, 10, NULL, NULL);
  uvsql_result_t *r = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_result_rows_affected(r), 10);
  uvsql_future_unref(f);
  uvsql_param_t one[] = {
      {"id", UVSQL_V_INT64(77)}, {"name", UVSQL_V_TEXT("x")}, {"score", UVSQL_V_DOUBLE(1)}};
  f = uvsql_engine_execute(fx.engine, st, one, 3, NULL, NULL);
  r = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_result_rows_affected(r), 1);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(count_rows(&fx, t, NULL), 11);

  uvsql_stmt_free(st);
  free(s);
  drop_table(&fx, t);
  fixture_close(&fx);
}

/* Sets the engine cannot bind fail before anything runs, naming the set. */
static void bad_sets_are_refused(const char *url) {
  fixture_t fx = fixture_open(url, NULL);
  const char *t = make_table(&fx);
  uvsql_stmt_t *st = insert_stmt(t);
  sets_t *s = make_sets(4, 0);
  s->p[3 * 3 + 2].name = "scor"; /* set 3 misspells :score */
  uvsql_future_t *f = uvsql_engine_execute_many(fx.engine, st, s->p, 3, 4, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(e->message, "parameter set 3 of 4: ");
  ASSERT_STR_CONTAINS(e->message, "score");
  uvsql_future_unref(f);

  f = uvsql_engine_execute_many(fx.engine, NULL, s->p, 3, 4, NULL, NULL);
  e = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(e->message, "uvsql_engine_execute_many: a statement is required");
  uvsql_future_unref(f);
  ASSERT_INT_EQ(count_rows(&fx, t, NULL), 0);

  /* several statements in one text */
  uvsql_stmt_t *two;
  uvsql_error_t err;
  char sql[200];
  snprintf(sql, sizeof sql, "DELETE FROM %s; DELETE FROM %s", t, t);
  ASSERT_OK(uvsql_text(&two, sql, &err), &err);
  f = uvsql_engine_execute_many(fx.engine, two, NULL, 0, 2, NULL, NULL);
  e = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(e->message, "executemany runs a single statement; this text holds several");
  uvsql_future_unref(f);
  uvsql_stmt_free(two);

  uvsql_stmt_free(st);
  free(s);
  drop_table(&fx, t);
  fixture_close(&fx);
}

TEST(executemany_writes_and_counts_every_set_pg) {
  writes_and_counts_every_set(test_pg_url());
}
TEST(executemany_writes_and_counts_every_set_mariadb) {
  writes_and_counts_every_set(test_mariadb_url());
}
TEST(executemany_writes_and_counts_every_set_sqlite) {
  writes_and_counts_every_set(test_sqlite_url());
}
TEST(executemany_error_in_the_middle_pg) {
  error_in_the_middle(test_pg_url(), 1);
}
TEST(executemany_error_in_the_middle_mariadb) {
  error_in_the_middle(test_mariadb_url(), 0);
}
TEST(executemany_error_in_the_middle_sqlite) {
  error_in_the_middle(test_sqlite_url(), 1);
}
TEST(executemany_bad_sets_are_refused_pg) {
  bad_sets_are_refused(test_pg_url());
}
TEST(executemany_bad_sets_are_refused_mariadb) {
  bad_sets_are_refused(test_mariadb_url());
}
TEST(executemany_bad_sets_are_refused_sqlite) {
  bad_sets_are_refused(test_sqlite_url());
}

/* A timeout cancels the whole call on the server, wherever it is among the sets (the cancel
 * reaches a later set's Execute too), and the connection serves again. */
TEST(executemany_timeout_cancels_the_rest_pg) {
  fixture_t fx = fixture_open(test_pg_url(), NULL);
  uvsql_conn_t *c = checkout(&fx);
  ASSERT_INT_EQ(uvsql_conn_set_timeout(c, 0.5), 0);
  uvsql_stmt_t *st;
  uvsql_error_t err;
  ASSERT_OK(uvsql_text(&st, "SELECT pg_sleep(:s)", &err), &err);
  uvsql_param_t p[5];
  for (int i = 0; i < 5; i++)
    p[i] = (uvsql_param_t){"s", UVSQL_V_DOUBLE(0.3)};
  uint64_t t0 = uv_hrtime();
  uvsql_future_t *f = uvsql_conn_execute_many(c, st, p, 1, 5, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_ETIMEOUT);
  ASSERT_STR_CONTAINS(e->message, "did not finish within its timeout of 0.5 s");
  uvsql_future_unref(f);
  /* the next statement waits for the cancelled group: it must not take the 1.5 s of sleeps */
  conn_exec_ok(c, "SELECT 1");
  double took = (double)(uv_hrtime() - t0) / 1e9;
  if (!test_under_valgrind())
    ASSERT(took < 1.4);
  uvsql_conn_release(c);
  uvsql_stmt_free(st);
  fixture_close(&fx);
}
