/* tests/test_sqlite_concurrency.c — many sessions and connections on one SQLite file engine,
 * as a server runs them: writers wait their turn on the loop (the file's write lock,
 * src/dialects/sqlite/wlock.c) instead of failing with "database is locked"; a transaction
 * whose snapshot went stale fails with the retryable UVSQL_ESERIALIZATION; versioned rows
 * give UVSQL_ESTALE_DATA; the loop stays responsive meanwhile. The read-modify-write workload
 * also runs on PostgreSQL and MariaDB at SERIALIZABLE, where the same retry on
 * UVSQL_ESERIALIZATION (40001, 40P01, 1213) keeps the counts exact. */
#include <sqlite3.h>
#include "orm_fixture.h"

#define COUNTER_FIELDS(X)                                                                          \
  X(id, INT64, UVSQL_PRIMARY_KEY | UVSQL_NO_AUTOINCREMENT)                                         \
  X(n, INT64, UVSQL_NOT_NULL)
UVSQL_MODEL(counter_t, "counter", COUNTER_FIELDS)

#define NSESSIONS 16
#define NCOUNTERS 3

/* ------------------------------------------------------------------ ORM read-modify-write */

typedef struct rmw_s rmw_t;
typedef struct {
  rmw_t *run;
  int idx;
  int done; /* increments committed */
  uvsql_session_t *s;
} worker_t;

struct rmw_s {
  uvsql_engine_t *engine;
  uvsql_registry_t *reg;
  uvsql_mapper_t *m;
  uvsql_isolation_t isolation;
  int begin_write; /* uvsql_session_options_t.begin_write */
  int per_worker;
  int finished;     /* workers done with all their increments (or stopped by an error) */
  int retries;      /* attempts that failed with UVSQL_ESERIALIZATION and ran again */
  int other_errors; /* anything else: the test fails */
  uvsql_error_t first_other;
  char first_retry_msg[UVSQL_ERROR_MESSAGE_MAX];
  worker_t w[NSESSIONS];
};

static void attempt(worker_t *w);

static void closed(uvsql_future_t *f, void *data) {
  worker_t *w = data;
  (void)f;
  w->s = NULL;
  if (w->done < w->run->per_worker && w->run->other_errors == 0)
    attempt(w);
  else
    w->run->finished++;
}

/* An attempt ends: committed (err NULL), to be run again (serialization), or failed. */
static void end_attempt(worker_t *w, const uvsql_error_t *err) {
  rmw_t *run = w->run;
  if (!err) {
    w->done++;
  } else if (err->code == UVSQL_ESERIALIZATION) {
    if (run->retries++ == 0)
      snprintf(run->first_retry_msg, sizeof run->first_retry_msg, "%s", err->message);
  } else if (run->other_errors++ == 0) {
    run->first_other = *err;
  }
  /* close rolls back what the failed transaction left (the session is FAILED or ACTIVE) */
  uvsql_session_close(w->s, closed, w);
}

static void committed(uvsql_future_t *f, void *data) {
  end_attempt(data, uvsql_future_error(f));
}

static void got(uvsql_future_t *f, void *data) {
  worker_t *w = data;
  const uvsql_error_t *err = uvsql_future_error(f);
  counter_t *c = err ? NULL : uvsql_future_value(f);
  if (err || !c) {
    uvsql_error_t none;
    uvsql_error_clear(&none);
    none.code = UVSQL_EINTERFACE;
    snprintf(none.message, sizeof none.message, "counter row missing");
    end_attempt(w, err ? err : &none);
    return;
  }
  c->n++;                                   /* read, modify ... */
  uvsql_session_commit(w->s, committed, w); /* ... write */
}

static void attempt(worker_t *w) {
  uvsql_session_options_t opt = UVSQL_SESSION_OPTIONS_INIT;
  opt.isolation = w->run->isolation;
  opt.begin_write = w->run->begin_write;
  ASSERT_OK(uvsql_session_new(&w->s, w->run->engine, w->run->reg, &opt), (uvsql_error_t *)NULL);
  uvsql_session_get_int(w->s, w->run->m, 1 + (w->idx + w->done) % NCOUNTERS, got, w);
}

typedef struct {
  uv_timer_t t;
  uint64_t last_ns, max_gap_ns;
  int ticks;
} ticker_t;

static void tick(uv_timer_t *t) {
  ticker_t *k = (ticker_t *)t;
  uint64_t now = uv_hrtime();
  if (k->last_ns && now - k->last_ns > k->max_gap_ns)
    k->max_gap_ns = now - k->last_ns;
  k->last_ns = now;
  k->ticks++;
}

/* 16 sessions on one engine, each adding 1 to a counter per_worker times by reading it and
 * writing it back, retrying on UVSQL_ESERIALIZATION. Returns the milliseconds it took; with
 * k, a 10 ms timer runs meanwhile. */
static double sixteen_sessions(const char *url, uvsql_isolation_t iso, int begin_write,
                               int per_worker, ticker_t *k) {
  uvsql_engine_options_t eopt = UVSQL_ENGINE_OPTIONS_INIT;
  uvsql_error_t err;
  char table[64], sql[256];
  rmw_t *run = calloc(1, sizeof *run);
  eopt.pool_size = NSESSIONS;
  fixture_t fx = fixture_open(url, &eopt);
  snprintf(table, sizeof table, "%s", test_unique_name("counter"));
  run->engine = fx.engine;
  run->isolation = iso;
  run->begin_write = begin_write;
  run->per_worker = per_worker;
  run->reg = uvsql_registry_new(NULL);
  run->m = uvsql_registry_map_table(run->reg, counter_t_model(), table, &err);
  ASSERT(run->m);
  await_ok(uvsql_metadata_create_all(uvsql_registry_metadata(run->reg), fx.engine, NULL, NULL));
  for (int i = 1; i <= NCOUNTERS; i++) {
    snprintf(sql, sizeof sql, "INSERT INTO %s (id, n) VALUES (%d, 0)", table, i);
    exec_ok(&fx, sql);
  }

  if (k) {
    memset(k, 0, sizeof *k);
    uv_timer_init(fx.loop, &k->t);
    uv_timer_start(&k->t, tick, 10, 10);
  }
  uint64_t t0 = uv_hrtime();
  for (int i = 0; i < NSESSIONS; i++) {
    run->w[i].run = run;
    run->w[i].idx = i;
    attempt(&run->w[i]);
  }
  while (run->finished < NSESSIONS)
    uv_run(fx.loop, UV_RUN_ONCE);
  double ms = (double)(uv_hrtime() - t0) / 1e6;
  if (k) {
    uv_timer_stop(&k->t);
    uv_close((uv_handle_t *)&k->t, NULL);
  }

  if (run->other_errors)
    FAILF("%d attempts failed with something else than a serialization failure; the first: "
          "%s: %s",
          run->other_errors, uvsql_err_name(run->first_other.code), run->first_other.message);
  int64_t total = 0;
  for (int i = 0; i < NSESSIONS; i++)
    ASSERT_INT_EQ(run->w[i].done, per_worker);
  for (int i = 1; i <= NCOUNTERS; i++) {
    int expect = 0; /* increments worker w made on counter i */
    for (int w = 0; w < NSESSIONS; w++)
      for (int d = 0; d < per_worker; d++)
        expect += 1 + (w + d) % NCOUNTERS == i;
    snprintf(sql, sizeof sql, "SELECT n FROM %s WHERE id = %d", table, i);
    int64_t n = query_int(&fx, sql);
    ASSERT_INT_EQ(n, expect); /* nothing lost, nothing doubled */
    total += n;
  }
  ASSERT_INT_EQ(total, NSESSIONS * per_worker);
  if (begin_write && strncmp(url, "sqlite:", 7) == 0)
    ASSERT_INT_EQ(run->retries, 0); /* each waited its turn at BEGIN: nothing to retry */
  if (run->retries) /* what a user sees: the backend's own words, or SQLite's from uvsql */
    ASSERT(strlen(run->first_retry_msg) > 20);
  fprintf(stderr, "%s: %d sessions x %d increments in %.0f ms, %d retries\n", url, NSESSIONS,
          per_worker, ms, run->retries);
  await_ok(uvsql_metadata_drop_all(uvsql_registry_metadata(run->reg), fx.engine, NULL, NULL));
  uvsql_registry_free(run->reg);
  fixture_close(&fx);
  free(run);
  return ms;
}

TEST(orm_sixteen_sessions_read_modify_write_count_exactly_sqlite) {
  sixteen_sessions(test_sqlite_url(), UVSQL_ISOLATION_DEFAULT, 0, 10, NULL);
}

TEST(orm_sixteen_sessions_that_begin_for_write_never_retry_sqlite) {
  sixteen_sessions(test_sqlite_url(), UVSQL_ISOLATION_DEFAULT, 1, 10, NULL);
}

TEST(orm_sixteen_sessions_read_modify_write_count_exactly_with_journal_mode_delete) {
  char url[512];
  /* Rollback-journal mode: a reader's SHARED lock would block the writer's commit, so a
   * transaction that read never waits for the write lock: it fails at once, and retries. */
  snprintf(url, sizeof url, "%s?journal_mode=delete", test_sqlite_url());
  sixteen_sessions(url, UVSQL_ISOLATION_DEFAULT, 0, 5, NULL);
}

TEST(orm_sixteen_sessions_read_modify_write_count_exactly_pg) {
  sixteen_sessions(test_pg_url(), UVSQL_ISOLATION_SERIALIZABLE, 0, 5, NULL);
}

TEST(orm_sixteen_sessions_read_modify_write_count_exactly_mariadb) {
  sixteen_sessions(test_mariadb_url(), UVSQL_ISOLATION_SERIALIZABLE, 0, 5, NULL);
}

TEST(orm_sixteen_sqlite_sessions_the_loop_stays_on_time) {
  ticker_t k;
  double ms = sixteen_sessions(test_sqlite_url(), UVSQL_ISOLATION_DEFAULT, 0, 20, &k);
  fprintf(stderr, "timer: %d ticks, largest gap %.1f ms\n", k.ticks, k.max_gap_ns / 1e6);
  ASSERT(k.ticks >= (int)(ms / 10) / 4);   /* it kept firing (generous: loaded machine) */
  ASSERT(k.max_gap_ns < 250 * 1000000ull); /* never held up by SQLite work */
}

/* ------------------------------------------------------------------ ORM: stale versioned row */

TEST(orm_a_stale_versioned_row_is_estale_data_on_sqlite) {
  orm_t *o = orm_open(test_sqlite_url());
  uvsql_session_t *s1 = session(o), *s2 = session(o);
  doc_t *d = uvsql_orm_new(o->docs);
  ASSERT_OK(uvsql_orm_set_text(d, &d->title, "draft"), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_session_add(s1, d), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s1, NULL, NULL));
  uvsql_future_t *f = uvsql_session_get_int(s2, o->docs, d->id, NULL, NULL);
  doc_t *d2 = AWAIT_OK(f);
  uvsql_future_unref(f);
  await_ok(uvsql_session_commit(s2, NULL, NULL)); /* s2 read it, as a form shown to a user */
  f = uvsql_session_refresh(s1, d, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(d->version, 1);
  ASSERT_INT_EQ(d2->version, 1);

  /* Both write at once, from the same loop tick: s1 takes the file's write lock first, s2's
   * transaction waits its turn (it does not fail "database is locked"), then finds the row's
   * version moved on. */
  ASSERT_OK(uvsql_orm_set_text(d, &d->title, "first"), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_set_text(d2, &d2->title, "second"), (uvsql_error_t *)NULL);
  uvsql_future_t *f1 = uvsql_session_commit(s1, NULL, NULL);
  uvsql_future_t *f2 = uvsql_session_commit(s2, NULL, NULL);
  AWAIT_OK(f1);
  uvsql_future_unref(f1);
  const uvsql_error_t *err = AWAIT_ERR(f2, UVSQL_ESTALE_DATA);
  ASSERT_STR_CONTAINS(err->message, o->td);
  ASSERT_STR_CONTAINS(err->message, "expected to update 1 row(s); 0 were matched");
  uvsql_future_unref(f2);
  await_ok(uvsql_session_rollback(s2, NULL, NULL));
  ASSERT_STR_EQ(d2->title, "draft");

  /* Read and write in one transaction while another commits in between: its snapshot is
   * stale, which SQLite cannot upgrade: the retryable serialization failure, not a lock
   * timeout. */
  f = uvsql_session_refresh(s2, d2, NULL, NULL); /* s2's transaction reads (version 2) */
  AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(d2->version, 2);
  ASSERT_OK(uvsql_orm_set_text(d, &d->title, "third"), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s1, NULL, NULL)); /* version 3 committed meanwhile */
  ASSERT_OK(uvsql_orm_set_text(d2, &d2->title, "fourth"), (uvsql_error_t *)NULL);
  f = uvsql_session_commit(s2, NULL, NULL);
  err = AWAIT_ERR(f, UVSQL_ESERIALIZATION);
  ASSERT_INT_EQ(uvsql_err_family(err->code), UVSQL_FAMILY_OPERATIONAL);
  ASSERT_INT_EQ(err->native_code, SQLITE_BUSY_SNAPSHOT);
  ASSERT_STR_CONTAINS(err->message, "could not serialize the transaction");
  ASSERT_STR_CONTAINS(err->message, "roll back and run the whole transaction again");
  uvsql_future_unref(f);
  await_ok(uvsql_session_rollback(s2, NULL, NULL));
  /* run again: it reads version 3 and wins */
  f = uvsql_session_refresh(s2, d2, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT_OK(uvsql_orm_set_text(d2, &d2->title, "fourth"), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s2, NULL, NULL));
  ASSERT_INT_EQ(d2->version, 4);
  await_ok(uvsql_session_close(s1, NULL, NULL));
  await_ok(uvsql_session_close(s2, NULL, NULL));
  orm_close(o);
}

/* ------------------------------------------------------------------ Core: connections */

static fixture_t sqlite_fixture(const char *query, const char *table) {
  char url[512], sql[256];
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = NSESSIONS;
  snprintf(url, sizeof url, "%s%s", test_sqlite_url(), query);
  fixture_t fx = fixture_open(url, &opt);
  snprintf(sql, sizeof sql, "CREATE TABLE %s (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)", table);
  exec_ok(&fx, sql);
  snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (1, 0)", table);
  exec_ok(&fx, sql);
  return fx;
}

static void exec_on(uvsql_conn_t *c, const char *fmt, const char *table) {
  char sql[256];
  snprintf(sql, sizeof sql, fmt, table);
  conn_exec_ok(c, sql);
}

TEST(a_second_writer_waits_for_the_first_to_commit) {
  const char *t = "w";
  fixture_t fx = sqlite_fixture("", t);
  uvsql_conn_t *a = checkout(&fx), *b = checkout(&fx);
  await_ok(uvsql_conn_begin(a, UVSQL_ISOLATION_DEFAULT, NULL, NULL));
  exec_on(a, "UPDATE %s SET n = n + 1", t); /* a writes: it holds the file's write lock */
  await_ok(uvsql_conn_begin(b, UVSQL_ISOLATION_DEFAULT, NULL, NULL));
  uvsql_future_t *fb =
      uvsql_conn_execute_sql(b, "INSERT INTO w VALUES (2, 0)", NULL, 0, NULL, NULL);
  test_sleep(fx.loop, 300);
  ASSERT_INT_EQ(uvsql_future_state(fb), UVSQL_FUTURE_PENDING); /* waiting, not failed */
  await_ok(uvsql_conn_commit(a, NULL, NULL));
  uvsql_result_t *r = AWAIT_OK(fb); /* its turn came */
  ASSERT_INT_EQ(uvsql_result_rows_affected(r), 1);
  uvsql_future_unref(fb);
  await_ok(uvsql_conn_commit(b, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&fx, t, NULL), 2);
  ASSERT_INT_EQ(query_int(&fx, "SELECT n FROM w WHERE id = 1"), 1);
  uvsql_conn_release(a);
  uvsql_conn_release(b);
  fixture_close(&fx);
}

TEST(a_waiting_writer_fails_after_the_timeout_saying_the_database_is_locked) {
  const char *t = "w";
  fixture_t fx = sqlite_fixture("?timeout=0.3", t);
  uvsql_conn_t *a = checkout(&fx), *b = checkout(&fx);
  await_ok(uvsql_conn_begin_write(a, UVSQL_ISOLATION_DEFAULT, NULL, NULL));
  uint64_t t0 = uv_hrtime();
  uvsql_future_t *f = uvsql_conn_execute_sql(b, "UPDATE w SET n = 5", NULL, 0, NULL, NULL);
  const uvsql_error_t *err = AWAIT_ERR(f, UVSQL_EOPERATIONAL);
  uint64_t ms = (uv_hrtime() - t0) / 1000000;
  ASSERT(ms >= 250 && ms < 3000); /* the URL's timeout, on the loop */
  ASSERT_INT_EQ(err->native_code, SQLITE_BUSY);
  ASSERT_STR_CONTAINS(err->message, "database is locked");
  ASSERT_STR_CONTAINS(err->message, "busy timeout (0.3 s)");
  ASSERT_STR_CONTAINS(err->message, "[SQL: UPDATE w SET n = 5]");
  uvsql_future_unref(f);
  /* b's next statement does not wait for anything: reads never take the lock */
  ASSERT_INT_EQ(query_int(&fx, "SELECT n FROM w"), 0);
  await_ok(uvsql_conn_rollback(a, NULL, NULL));
  conn_exec_ok(b, "UPDATE w SET n = 5");
  ASSERT_INT_EQ(query_int(&fx, "SELECT n FROM w"), 5);
  uvsql_conn_release(a);
  uvsql_conn_release(b);
  fixture_close(&fx);
}

/* b's transaction read, a writes. In WAL mode b's write waits its turn; a's commit makes
 * b's snapshot stale: the retryable serialization failure, as soon as a committed. In
 * rollback-journal mode b's read lock would block a's commit: b fails at once. */
static void read_then_write_while_another_writes(const char *query, int wal) {
  const char *t = "w";
  fixture_t fx = sqlite_fixture(query, t);
  uvsql_conn_t *a = checkout(&fx), *b = checkout(&fx);
  await_ok(uvsql_conn_begin(b, UVSQL_ISOLATION_DEFAULT, NULL, NULL));
  uvsql_future_t *f = uvsql_conn_execute_sql(b, "SELECT n FROM w", NULL, 0, NULL, NULL);
  AWAIT_OK(f); /* b's transaction has a snapshot now */
  uvsql_future_unref(f);
  await_ok(uvsql_conn_begin_write(a, UVSQL_ISOLATION_DEFAULT, NULL, NULL));
  exec_on(a, "UPDATE %s SET n = 7", t);
  uint64_t t0 = uv_hrtime();
  f = uvsql_conn_execute_sql(b, "UPDATE w SET n = n + 1", NULL, 0, NULL, NULL);
  if (wal) {
    test_sleep(fx.loop, 200);
    ASSERT_INT_EQ(uvsql_future_state(f), UVSQL_FUTURE_PENDING); /* its turn has not come */
    t0 = uv_hrtime();
    await_ok(uvsql_conn_commit(a, NULL, NULL));
  }
  const uvsql_error_t *err = AWAIT_ERR(f, UVSQL_ESERIALIZATION);
  ASSERT((uv_hrtime() - t0) / 1000000 < 1000); /* at once, not after the 5 s timeout */
  ASSERT_STR_EQ(uvsql_err_name(err->code), "UVSQL_ESERIALIZATION");
  ASSERT_INT_EQ(uvsql_err_family(err->code), UVSQL_FAMILY_OPERATIONAL);
  ASSERT_INT_EQ(err->native_code, wal ? SQLITE_BUSY_SNAPSHOT : SQLITE_BUSY);
  ASSERT_STR_CONTAINS(err->message, "could not serialize the transaction: it read the database");
  ASSERT_STR_CONTAINS(err->message, "uvsql_conn_begin_write");
  ASSERT_STR_CONTAINS(err->message, "[SQL: UPDATE w SET n = n + 1]");
  uvsql_future_unref(f);
  await_ok(uvsql_conn_rollback(b, NULL, NULL));
  if (!wal)
    await_ok(uvsql_conn_commit(a, NULL, NULL));
  /* run again, b reads what a wrote and wins */
  await_ok(uvsql_conn_begin(b, UVSQL_ISOLATION_DEFAULT, NULL, NULL));
  ASSERT_INT_EQ(query_int(&fx, "SELECT n FROM w"), 7);
  conn_exec_ok(b, "UPDATE w SET n = n + 1");
  await_ok(uvsql_conn_commit(b, NULL, NULL));
  ASSERT_INT_EQ(query_int(&fx, "SELECT n FROM w"), 8);
  uvsql_conn_release(a);
  uvsql_conn_release(b);
  fixture_close(&fx);
}

TEST(a_transaction_that_read_gets_a_serialization_failure_once_another_commits) {
  read_then_write_while_another_writes("", 1);
}

TEST(a_transaction_that_read_fails_at_once_in_rollback_journal_mode) {
  read_then_write_while_another_writes("?journal_mode=delete", 0);
}

/* 16 connections, each: BEGIN (for write), SELECT n, UPDATE n = that + 1, COMMIT, 10 times:
 * each transaction waits for its turn at BEGIN, so none fails and none loses an update. */
typedef struct core_run_s core_run_t;
typedef struct {
  core_run_t *run;
  uvsql_conn_t *c;
  int done, step;
  int64_t n;
} core_worker_t;
struct core_run_s {
  const char *table;
  int per_worker, finished, errors;
  uvsql_error_t first;
  core_worker_t w[NSESSIONS];
};

static void core_step(uvsql_future_t *f, void *data) {
  core_worker_t *w = data;
  const uvsql_error_t *err = f ? uvsql_future_error(f) : NULL;
  char sql[128];
  if (err) {
    if (w->run->errors++ == 0)
      w->run->first = *err;
    w->run->finished++;
    return;
  }
  switch (w->step) {
  case 0: /* start (f NULL), or a COMMIT came back */
    if (f && ++w->done == w->run->per_worker) {
      w->run->finished++;
      return;
    }
    w->step = 1;
    uvsql_conn_begin_write(w->c, UVSQL_ISOLATION_DEFAULT, core_step, w);
    return;
  case 1:
    w->step = 2;
    snprintf(sql, sizeof sql, "SELECT n FROM %s WHERE id = 1", w->run->table);
    uvsql_conn_execute_sql(w->c, sql, NULL, 0, core_step, w);
    return;
  case 2:
    ASSERT_OK(uvsql_result_int64(uvsql_future_value(f), 0, 0, &w->n), (uvsql_error_t *)NULL);
    w->step = 3;
    snprintf(sql, sizeof sql, "UPDATE %s SET n = %lld WHERE id = 1", w->run->table,
             (long long)w->n + 1);
    uvsql_conn_execute_sql(w->c, sql, NULL, 0, core_step, w);
    return;
  default:
    w->step = 0;
    uvsql_conn_commit(w->c, core_step, w);
    return;
  }
}

TEST(core_connections_that_begin_for_write_wait_and_lose_nothing) {
  const char *t = "w";
  fixture_t fx = sqlite_fixture("", t);
  core_run_t run = {.table = t, .per_worker = 10};
  for (int i = 0; i < NSESSIONS; i++) {
    run.w[i].run = &run;
    run.w[i].c = checkout(&fx);
  }
  uint64_t t0 = uv_hrtime();
  for (int i = 0; i < NSESSIONS; i++)
    core_step(NULL, &run.w[i]);
  while (run.finished < NSESSIONS)
    uv_run(fx.loop, UV_RUN_ONCE);
  if (run.errors)
    FAILF("%d failed; the first: %s: %s", run.errors, uvsql_err_name(run.first.code),
          run.first.message);
  fprintf(stderr, "16 connections x 10 transactions: %.0f ms\n", (double)(uv_hrtime() - t0) / 1e6);
  for (int i = 0; i < NSESSIONS; i++)
    uvsql_conn_release(run.w[i].c);
  ASSERT_INT_EQ(query_int(&fx, "SELECT n FROM w WHERE id = 1"), NSESSIONS * 10);
  fixture_close(&fx);
}

typedef struct {
  int ok, failed;
  uvsql_error_t first;
} tally_t;

static void tally(uvsql_future_t *f, void *data) {
  tally_t *t = data;
  const uvsql_error_t *err = uvsql_future_error(f);
  if (!err)
    t->ok++;
  else if (t->failed++ == 0)
    t->first = *err;
}

TEST(engine_autocommit_writers_all_succeed) {
  fixture_t fx = sqlite_fixture("?timeout=30", "w");
  tally_t t = {0};
  for (int i = 0; i < 500; i++)
    uvsql_engine_execute_sql(fx.engine, "UPDATE w SET n = n + 1 WHERE id = 1", NULL, 0, tally, &t);
  while (t.ok + t.failed < 500)
    uv_run(fx.loop, UV_RUN_ONCE);
  if (t.failed)
    FAILF("%d failed; the first: %s", t.failed, t.first.message);
  ASSERT_INT_EQ(query_int(&fx, "SELECT n FROM w WHERE id = 1"), 500);
  fixture_close(&fx);
}

TEST(file_databases_use_wal_by_default_and_the_url_can_say_otherwise) {
  fixture_t fx = sqlite_fixture("", "w");
  uvsql_result_t *r = query(&fx, "PRAGMA journal_mode", NULL, 0);
  const char *s;
  size_t n;
  ASSERT_OK(uvsql_result_text(r, 0, 0, &s, &n), (uvsql_error_t *)NULL);
  ASSERT_STR_EQ(s, "wal");
  uvsql_result_free(r);
  fixture_close(&fx);
  fx = sqlite_fixture("?journal_mode=delete", "w");
  r = query(&fx, "PRAGMA journal_mode", NULL, 0);
  ASSERT_OK(uvsql_result_text(r, 0, 0, &s, &n), (uvsql_error_t *)NULL);
  ASSERT_STR_EQ(s, "delete");
  uvsql_result_free(r);
  fixture_close(&fx);
  fx = fixture_open("sqlite://", NULL); /* in memory: nothing to share, mode stays memory */
  r = query(&fx, "PRAGMA journal_mode", NULL, 0);
  ASSERT_OK(uvsql_result_text(r, 0, 0, &s, &n), (uvsql_error_t *)NULL);
  ASSERT_STR_EQ(s, "memory");
  uvsql_result_free(r);
  fixture_close(&fx);
}

TEST(the_statement_scan_knows_reads_from_writes) {
  /* b's transaction reads while a holds the write lock: reads never wait; every kind of write
   * is seen as one (it fails at once: rollback-journal mode, b has read). */
  const char *t = "w";
  fixture_t fx = sqlite_fixture("?journal_mode=delete", t); /* b's writes fail at once */
  uvsql_conn_t *a = checkout(&fx), *b = checkout(&fx);
  await_ok(uvsql_conn_begin_write(a, UVSQL_ISOLATION_DEFAULT, NULL, NULL));
  await_ok(uvsql_conn_begin(b, UVSQL_ISOLATION_DEFAULT, NULL, NULL));
  static const char *const reads[] = {"SELECT n FROM w",
                                      "  /* c */ SELECT n -- UPDATE\n FROM w",
                                      "WITH x AS (SELECT n FROM w) SELECT * FROM x",
                                      "SELECT 'INSERT' AS \"UPDATE\" FROM w",
                                      "PRAGMA table_info(w)",
                                      "VALUES (1)",
                                      "SAVEPOINT s; RELEASE s"};
  for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
    uvsql_future_t *f = uvsql_conn_execute_sql(b, reads[i], NULL, 0, NULL, NULL);
    AWAIT_OK(f);
    uvsql_future_unref(f);
  }
  static const char *const writes[] = {"WITH x AS (SELECT 1) UPDATE w SET n = 2",
                                       "SELECT 1; DELETE FROM w", "PRAGMA user_version = 3",
                                       "insert into w values (9, 9)"};
  for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
    uvsql_future_t *f = uvsql_conn_execute_sql(b, writes[i], NULL, 0, NULL, NULL);
    AWAIT_ERR(f, UVSQL_ESERIALIZATION); /* b read, a holds the lock: a write fails at once */
    uvsql_future_unref(f);
  }
  await_ok(uvsql_conn_rollback(b, NULL, NULL));
  await_ok(uvsql_conn_rollback(a, NULL, NULL));
  uvsql_conn_release(a);
  uvsql_conn_release(b);
  fixture_close(&fx);
}

TEST(a_writer_waiting_on_one_file_does_not_hold_up_another_file) {
  fixture_t fx = sqlite_fixture("", "w");
  uvsql_engine_t *other;
  uvsql_error_t err;
  ASSERT_OK(uvsql_engine_new(&other, fx.loop, test_sqlite_url(), NULL, &err), &err);
  uvsql_conn_t *a = checkout(&fx), *b = checkout(&fx);
  await_ok(uvsql_conn_begin_write(a, UVSQL_ISOLATION_DEFAULT, NULL, NULL));
  uvsql_future_t *fb = uvsql_conn_execute_sql(b, "UPDATE w SET n = 1", NULL, 0, NULL, NULL);
  /* b waits for a; the other file's writes and this file's reads go on meanwhile */
  uint64_t t0 = uv_hrtime();
  uvsql_future_t *f =
      uvsql_engine_execute_sql(other, "CREATE TABLE o (x INTEGER)", NULL, 0, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  f = uvsql_engine_execute_sql(other, "INSERT INTO o VALUES (1)", NULL, 0, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(query_int(&fx, "SELECT n FROM w"), 0);
  ASSERT((uv_hrtime() - t0) / 1000000 < 2000);
  ASSERT_INT_EQ(uvsql_future_state(fb), UVSQL_FUTURE_PENDING);
  await_ok(uvsql_conn_commit(a, NULL, NULL));
  AWAIT_OK(fb);
  uvsql_future_unref(fb);
  ASSERT_INT_EQ(query_int(&fx, "SELECT n FROM w"), 1);
  uvsql_conn_release(a);
  uvsql_conn_release(b);
  f = uvsql_engine_dispose(other, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  fixture_close(&fx);
}
