/* tests/test_orm_stream.c — uvsql_session_stream (yield_per) on PostgreSQL, MariaDB and
 * SQLite: 100,000 rows in batches of 1,000 come in order, the identity map never holds more
 * than a batch plus the kept objects (asserted at every batch), kept and changed objects stay
 * in the session and stay valid (a change is flushed later), one expunged in its batch is
 * the caller's, objects the session had before are reused and not released; stopping early; a
 * select that cannot load fails the transaction with a message. Each behaviour is one function
 * taking a URL; each backend one TEST. */
#include "orm_ev_fixture.h"

#define NROWS 100000
#define BATCH 1000

typedef struct {
  uvsql_session_t *s;
  ev_item_t *before; /* loaded before the stream (id 5) */
  int64_t next_id;   /* ids come in order */
  size_t batches, rows, max_map, kept;
  size_t stop_after; /* return 1 after this many batches (0: never) */
  ev_item_t *kept_objs[16];
  ev_item_t *changed; /* id 500: changed in its batch */
  ev_item_t *taken;   /* id 777: expunged in its batch, so the test's */
} st_t;

static int on_batch(uvsql_session_t *s, void *const *objs, size_t n, void *data) {
  st_t *t = data;
  ASSERT(s == t->s);
  ASSERT(n >= 1 && n <= BATCH);
  t->batches++;
  for (size_t i = 0; i < n; i++) {
    ev_item_t *it = objs[i];
    ASSERT_INT_EQ(it->id, t->next_id);
    ASSERT_INT_EQ(it->qty, it->id);
    t->next_id++;
    t->rows++;
    if (it->id == 5 && t->before)
      ASSERT(it == t->before); /* the identity map's object */
    if (it->id % 10000 == 0) {
      ASSERT_OK(uvsql_session_keep(s, it), NULL);
      t->kept_objs[t->kept++] = it;
    }
    if (it->id == 777) {
      ASSERT_OK(uvsql_session_expunge(s, it), NULL);
      t->taken = it;
    }
    if (it->id == 500) {
      ASSERT_OK(uvsql_orm_set_int64(it, &it->qty, -500), NULL);
      t->changed = it;
    }
  }
  size_t in_map = uvsql_session_identity_count(s);
  if (in_map > t->max_map)
    t->max_map = in_map;
  return t->stop_after && t->batches == t->stop_after;
}

static uvsql_stream_summary_t *await_summary(uvsql_future_t *f) {
  uvsql_stream_summary_t *sum = AWAIT_OK(f);
  return sum;
}

static void bounded(const char *url) {
  evfx_t *e = evfx_open(url);
  evfx_fill(e, NROWS);
  uvsql_session_t *s = evsession(e);
  st_t t = {.s = s, .next_id = 1};
  uvsql_future_t *g = uvsql_session_get_int(s, e->items, 5, NULL, NULL);
  t.before = AWAIT_OK(g);
  uvsql_future_unref(g);
  uvsql_core_stmt_t *sel = uvsql_orm_select(e->items);
  uvsql_select_order_by(sel, uvsql_mapper_col(e->items, "id"));
  log_clear(&e->log);
  uvsql_future_t *f =
      uvsql_session_stream(s, e->items, sel, NULL, 0, BATCH, on_batch, &t, NULL, NULL);
  uvsql_stream_summary_t *sum = await_summary(f);
  ASSERT_INT_EQ(sum->rows, NROWS);
  ASSERT_INT_EQ(sum->batches, NROWS / BATCH);
  ASSERT_INT_EQ(sum->stopped, 0);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(log_count(&e->log, "SELECT"), 1); /* one statement, streamed */
  ASSERT_INT_EQ(t.rows, NROWS);
  ASSERT_INT_EQ(t.batches, NROWS / BATCH);
  /* bounded: the object loaded before, the kept ones and a batch at most */
  ASSERT(t.max_map <= 1 + 10 + 1 + BATCH);
  ASSERT_INT_EQ(t.kept, 10);
  /* afterwards: exactly the object from before, the kept ones and the changed one */
  ASSERT_INT_EQ(uvsql_session_identity_count(s), 1 + 10 + 1);
  for (size_t i = 0; i < t.kept; i++) {
    ASSERT_INT_EQ(uvsql_orm_state(t.kept_objs[i]), UVSQL_OBJ_PERSISTENT);
    ASSERT_INT_EQ(t.kept_objs[i]->id, (int64_t)(i + 1) * 10000);
  }
  ASSERT_INT_EQ(uvsql_orm_state(t.before), UVSQL_OBJ_PERSISTENT);
  ASSERT_INT_EQ(t.changed->qty, -500);
  ASSERT_INT_EQ(uvsql_orm_state(t.taken), UVSQL_OBJ_DETACHED); /* ours, still valid */
  ASSERT_STR_EQ(t.taken->name, "n777");
  uvsql_orm_free(t.taken);
  log_clear(&e->log);
  await_ok(uvsql_session_commit(s, NULL, NULL)); /* the change made in a batch is written */
  ASSERT_INT_EQ(log_count(&e->log, "UPDATE"), 1);
  ASSERT_INT_EQ(evfx_col(e, "qty", 500), -500);
  /* a get of a kept object answers from the identity map (after commit it is expired:
   * it reloads; a released one is SELECTed as any other) */
  uvsql_core_stmt_free(sel);
  evsession_close(s);
  evfx_close(e);
}

TEST(orm_stream_identity_map_bounded_pg) {
  bounded(test_pg_url());
}
TEST(orm_stream_identity_map_bounded_mariadb) {
  bounded(test_mariadb_url());
}
TEST(orm_stream_identity_map_bounded_sqlite) {
  bounded(test_sqlite_url());
}

static int count_only(uvsql_session_t *s, void *const *objs, size_t n, void *data) {
  (void)s;
  (void)objs;
  *(size_t *)data += n;
  return 0;
}

static void stop_and_fail(const char *url) {
  evfx_t *e = evfx_open(url);
  evfx_fill(e, 5000);
  uvsql_session_t *s = evsession(e);
  st_t t = {.s = s, .next_id = 1, .stop_after = 3};
  uvsql_core_stmt_t *sel = uvsql_orm_select(e->items);
  uvsql_select_where(sel,
                     uvsql_gt(sel, uvsql_mapper_col(e->items, "id"), uvsql_bindparam(sel, "lo")));
  uvsql_select_order_by(sel, uvsql_mapper_col(e->items, "id"));
  uvsql_param_t p[] = {UVSQL_P_INT64("lo", 0)};
  uvsql_future_t *f = uvsql_session_stream(s, e->items, sel, p, 1, 100, on_batch, &t, NULL, NULL);
  uvsql_stream_summary_t *sum = await_summary(f);
  ASSERT_INT_EQ(sum->batches, 3);
  ASSERT_INT_EQ(sum->rows, 300);
  ASSERT_INT_EQ(sum->stopped, 1);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(uvsql_session_identity_count(s), 0);
  /* the session goes on: a parameterized stream from id 4900 */
  size_t n = 0;
  p[0] = UVSQL_P_INT64("lo", 4900);
  f = uvsql_session_stream(s, e->items, sel, p, 1, 0, count_only, &n, NULL, NULL);
  sum = await_summary(f);
  ASSERT_INT_EQ(sum->rows, 100);
  ASSERT_INT_EQ(sum->batches, 1); /* batch_rows 0: 1000 */
  uvsql_future_unref(f);
  ASSERT_INT_EQ(n, 100);

  /* a select that is not the mapper's columns: the first batch fails to load */
  uvsql_core_stmt_t *bad = uvsql_select_new();
  uvsql_select_cols(bad, uvsql_mapper_col(e->items, "id"));
  uvsql_select_from(bad, uvsql_mapper_table(e->items));
  n = 0;
  f = uvsql_session_stream(s, e->items, bad, NULL, 0, 100, count_only, &n, NULL, NULL);
  const uvsql_error_t *fe = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(
      fe->message,
      "an ORM select of ev_item_t must select its 4 columns first (use uvsql_orm_select)");
  uvsql_future_unref(f);
  ASSERT_INT_EQ(n, 0);
  f = uvsql_session_flush(s, NULL, NULL);
  fe = AWAIT_ERR(f, UVSQL_EINTERFACE);
  ASSERT_STR_CONTAINS(fe->message, "Call uvsql_session_rollback() first");
  uvsql_future_unref(f);
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  /* bad arguments */
  f = uvsql_session_stream(s, e->items, sel, NULL, 0, 100, NULL, NULL, NULL, NULL);
  fe = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(fe->message, "uvsql_session_stream: a mapper, a select (uvsql_orm_select) and a "
                             "batch callback are required");
  uvsql_future_unref(f);
  static char notobj[4096]; /* zeroed around it: the header check reads initialised bytes */
  ASSERT_ERR(uvsql_session_keep(s, notobj + 2048), UVSQL_EINVALID_ARGUMENT);
  uvsql_core_stmt_free(bad);
  uvsql_core_stmt_free(sel);
  evsession_close(s);
  evfx_close(e);
}

TEST(orm_stream_stop_and_fail_pg) {
  stop_and_fail(test_pg_url());
}
TEST(orm_stream_stop_and_fail_mariadb) {
  stop_and_fail(test_mariadb_url());
}
TEST(orm_stream_stop_and_fail_sqlite) {
  stop_and_fail(test_sqlite_url());
}
