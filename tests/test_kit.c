/* tests/test_kit.c — the driver kit (src/dialects/kit.c) on its own: the statement LRU
 * (eviction order, the evict and release callbacks, references that outlive an eviction, the
 * two-part key), the request FIFO, the call-frame guard's last-leave hook and close, deferred
 * calls that hold the guard, and deferred request failure (never before the call returns). */
#include <stdlib.h>
#include "harness.h"
#include "dialects/kit.h"

/* ------------------------------------------------------------------ statement LRU */

typedef struct {
  uvsql__kit_lru_entry_t entry; /* first */
  int id;
} stmt_t;

static int released[16], nreleased;
static stmt_t *evicted;

static void on_release(uvsql__kit_lru_t *c, uvsql__kit_lru_entry_t *e) {
  (void)c;
  released[nreleased++] = ((stmt_t *)e)->id;
}

static void on_evict(uvsql__kit_lru_t *c, uvsql__kit_lru_entry_t *e) {
  (void)c;
  evicted = (stmt_t *)e; /* keeps the cache's reference, as a driver closing it would */
}

static stmt_t *add(uvsql__kit_lru_t *c, const char *sql, int id) {
  stmt_t *s = (stmt_t *)uvsql__kit_lru_add(c, sql, strlen(sql), NULL, 0);
  ASSERT(s != NULL);
  s->id = id;
  return s;
}

static stmt_t *get(uvsql__kit_lru_t *c, const char *sql) {
  return (stmt_t *)uvsql__kit_lru_get(c, sql, strlen(sql), NULL, 0);
}

TEST(lru_evicts_the_least_recently_used_through_the_evict_callback) {
  uvsql__kit_lru_t c;
  nreleased = 0;
  evicted = NULL;
  uvsql__kit_lru_init(&c, 2, sizeof(stmt_t), on_evict, on_release);
  add(&c, "SELECT 1", 1);
  add(&c, "SELECT 2", 2);
  ASSERT(uvsql__kit_lru_full(&c));
  ASSERT_INT_EQ(get(&c, "SELECT 1")->id, 1); /* now the most recent: 2 goes next */
  add(&c, "SELECT 3", 3);
  ASSERT(evicted != NULL);
  ASSERT_INT_EQ(evicted->id, 2);
  ASSERT_INT_EQ(evicted->entry.listed, 0);
  ASSERT_INT_EQ(evicted->entry.refs, 1); /* the callback's now */
  ASSERT(get(&c, "SELECT 2") == NULL);
  ASSERT_INT_EQ(nreleased, 0);
  uvsql__kit_lru_unref(&c, &evicted->entry);
  ASSERT_INT_EQ(nreleased, 1);
  ASSERT_INT_EQ(released[0], 2);
  ASSERT_INT_EQ((int)c.count, 2);
  ASSERT_INT_EQ((int)c.hits, 1);
  ASSERT_INT_EQ((int)c.misses, 1);
  uvsql__kit_lru_free(&c);
  ASSERT_INT_EQ(nreleased, 3);
}

TEST(lru_entry_held_by_a_request_outlives_its_removal) {
  uvsql__kit_lru_t c;
  nreleased = 0;
  uvsql__kit_lru_init(&c, 4, sizeof(stmt_t), NULL, on_release);
  stmt_t *s = add(&c, "SELECT :a", 7);
  uvsql__kit_lru_ref(&s->entry); /* a request in flight */
  uvsql__kit_lru_remove(&c, &s->entry);
  ASSERT(get(&c, "SELECT :a") == NULL);
  ASSERT_INT_EQ(nreleased, 0);
  ASSERT_INT_EQ(s->id, 7);
  uvsql__kit_lru_remove(&c, &s->entry); /* not listed: no effect */
  ASSERT_INT_EQ(s->entry.refs, 1);
  uvsql__kit_lru_free(&c);
  ASSERT_INT_EQ(nreleased, 0);
  uvsql__kit_lru_unref(&c, &s->entry);
  ASSERT_INT_EQ(nreleased, 1);
  ASSERT_INT_EQ(released[0], 7);
}

TEST(lru_without_evict_callback_releases_at_once_and_cap_zero_keeps_nothing) {
  uvsql__kit_lru_t c;
  nreleased = 0;
  uvsql__kit_lru_init(&c, 1, sizeof(stmt_t), NULL, on_release);
  add(&c, "a", 1);
  add(&c, "b", 2);
  ASSERT_INT_EQ(nreleased, 1);
  ASSERT_INT_EQ(released[0], 1);
  ASSERT_INT_EQ(get(&c, "b")->id, 2);
  uvsql__kit_lru_free(&c);
  uvsql__kit_lru_init(&c, 0, sizeof(stmt_t), NULL, on_release);
  ASSERT(uvsql__kit_lru_add(&c, "a", 1, NULL, 0) == NULL);
  ASSERT(!uvsql__kit_lru_full(&c));
  ASSERT(get(&c, "a") == NULL);
  uvsql__kit_lru_free(&c);
}

TEST(lru_key_is_both_parts_byte_for_byte) {
  uvsql__kit_lru_t c;
  unsigned t1[1] = {23}, t2[1] = {20}, t12[2] = {23, 20};
  uvsql__kit_lru_init(&c, 8, sizeof(stmt_t), NULL, NULL);
  ((stmt_t *)uvsql__kit_lru_add(&c, "SELECT $1", 9, t1, sizeof t1))->id = 1;
  ((stmt_t *)uvsql__kit_lru_add(&c, "SELECT $1", 9, t2, sizeof t2))->id = 2;
  ((stmt_t *)uvsql__kit_lru_add(&c, "SELECT $1", 9, NULL, 0))->id = 3;
  ASSERT_INT_EQ(((stmt_t *)uvsql__kit_lru_get(&c, "SELECT $1", 9, t1, sizeof t1))->id, 1);
  ASSERT_INT_EQ(((stmt_t *)uvsql__kit_lru_get(&c, "SELECT $1", 9, t2, sizeof t2))->id, 2);
  ASSERT_INT_EQ(((stmt_t *)uvsql__kit_lru_get(&c, "SELECT $1", 9, NULL, 0))->id, 3);
  ASSERT(uvsql__kit_lru_get(&c, "SELECT $1", 9, t12, sizeof t12) == NULL);
  ASSERT(uvsql__kit_lru_get(&c, "SELECT $2", 9, t1, sizeof t1) == NULL);
  ASSERT(uvsql__kit_lru_get(&c, "SELECT $", 8, NULL, 0) == NULL);
  uvsql__kit_lru_free(&c);
}

/* ------------------------------------------------------------------ request FIFO */

TEST(queue_keeps_order_and_withdraws_from_anywhere) {
  uvsql__kit_queue_t q = {NULL, NULL};
  uvsql__request_t r[4];
  memset(r, 0, sizeof r);
  for (int i = 0; i < 3; i++)
    uvsql__kit_queue_push(&q, &r[i]);
  uvsql__kit_queue_push_front(&q, &r[3]);
  ASSERT(uvsql__kit_queue_remove(&q, &r[2])); /* the tail */
  ASSERT(!uvsql__kit_queue_remove(&q, &r[2]));
  ASSERT(q.tail == &r[1]);
  ASSERT(uvsql__kit_queue_contains(&q, &r[0]));
  ASSERT(!uvsql__kit_queue_contains(&q, &r[2]));
  ASSERT(uvsql__kit_queue_pop(&q) == &r[3]);
  ASSERT(uvsql__kit_queue_pop(&q) == &r[0]);
  ASSERT(r[0].next == NULL);
  uvsql__kit_queue_push(&q, &r[2]);
  uvsql__request_t *all = uvsql__kit_queue_take_all(&q);
  ASSERT(all == &r[1] && all->next == &r[2] && r[2].next == NULL);
  ASSERT(q.head == NULL && q.tail == NULL);
  ASSERT(uvsql__kit_queue_pop(&q) == NULL);
}

/* ------------------------------------------------------------------ guard and deferred calls */

typedef struct {
  uvsql__kit_guard_t guard;
  uvsql__kit_deferred_t later;
  int last_leaves, deferred_runs, depth_in_fn, closed, reschedule;
  uv_loop_t *loop;
} owner_t;

static void on_last_leave(uvsql__kit_guard_t *g) {
  UVSQL__KIT_OWNER(g, owner_t, guard)->last_leaves++;
}

static void deferred_fn(uvsql__kit_guard_t *g) {
  owner_t *o = UVSQL__KIT_OWNER(g, owner_t, guard);
  o->deferred_runs++;
  o->depth_in_fn = g->depth;
  if (o->reschedule-- > 0)
    uvsql__kit_deferred_schedule(&o->later, o->loop); /* while its timer is closing */
}

static void on_closed(void *data) {
  ((owner_t *)data)->closed++;
}

TEST(guard_runs_its_hook_on_the_outermost_leave_only) {
  owner_t o;
  memset(&o, 0, sizeof o);
  uvsql__kit_guard_init(&o.guard, on_last_leave);
  uvsql__kit_enter(&o.guard);
  uvsql__kit_enter(&o.guard);
  ASSERT_INT_EQ(uvsql__kit_guard_close(&o.guard, on_closed, &o), 0); /* inside a frame */
  ASSERT_INT_EQ(uvsql__kit_guard_close(&o.guard, on_closed, &o), 0); /* once only */
  uvsql__kit_leave(&o.guard);
  ASSERT_INT_EQ(o.last_leaves, 0);
  ASSERT(uvsql__kit_guard_busy(&o.guard));
  uvsql__kit_leave(&o.guard);
  ASSERT_INT_EQ(o.last_leaves, 1);
  ASSERT(!uvsql__kit_guard_busy(&o.guard));
  ASSERT_INT_EQ(o.guard.closing, 1);

  uv_loop_t *loop = test_loop();
  uvsql__kit_guard_closed(&o.guard, loop);
  ASSERT_INT_EQ(o.closed, 0); /* from the loop, not now */
  uv_run(loop, UV_RUN_DEFAULT);
  ASSERT_INT_EQ(o.closed, 1);
  test_loop_close(loop);

  owner_t idle;
  memset(&idle, 0, sizeof idle);
  uvsql__kit_guard_init(&idle.guard, on_last_leave);
  ASSERT_INT_EQ(uvsql__kit_guard_close(&idle.guard, NULL, NULL), 1); /* no frame: close now */
}

TEST(deferred_call_coalesces_holds_the_guard_and_runs_inside_a_frame) {
  owner_t o;
  uv_loop_t *loop = test_loop();
  memset(&o, 0, sizeof o);
  uvsql__kit_guard_init(&o.guard, on_last_leave);
  uvsql__kit_deferred_init(&o.later, &o.guard, deferred_fn);
  uvsql__kit_deferred_schedule(&o.later, loop); /* embedded: nothing to allocate, no error */
  uvsql__kit_deferred_schedule(&o.later, loop);
  ASSERT_INT_EQ(o.guard.holds, 1);
  ASSERT(uvsql__kit_guard_busy(&o.guard));
  ASSERT_INT_EQ(o.deferred_runs, 0);
  uv_run(loop, UV_RUN_DEFAULT);
  ASSERT_INT_EQ(o.deferred_runs, 1);
  ASSERT_INT_EQ(o.depth_in_fn, 1);
  ASSERT_INT_EQ(o.guard.holds, 0);
  ASSERT_INT_EQ(o.last_leaves, 2); /* after fn, and when its timer's close gave the hold back */
  ASSERT_INT_EQ(o.later.pending, 0);

  /* Scheduled again from fn (its timer is closing): runs once more, the guard held between. */
  o.deferred_runs = 0;
  o.reschedule = 2;
  o.loop = loop;
  uvsql__kit_deferred_schedule(&o.later, loop);
  uv_run(loop, UV_RUN_DEFAULT);
  ASSERT_INT_EQ(o.deferred_runs, 3);
  ASSERT_INT_EQ(o.guard.holds, 0);
  ASSERT(!uvsql__kit_guard_busy(&o.guard));
  test_loop_close(loop); /* every timer closed */
}

/* ------------------------------------------------------------------ deferred failure */

static int done_calls;
static uvsql_error_t done_err;

static void on_done(uvsql__request_t *req, uvsql_result_t *result, const uvsql_error_t *err) {
  (void)req;
  ASSERT(result == NULL);
  done_calls++;
  done_err = *err;
}

TEST(fail_later_fails_the_request_from_the_loop_with_a_copy_of_the_error) {
  uv_loop_t *loop = test_loop();
  uvsql__request_t req;
  uvsql_error_t err;
  memset(&req, 0, sizeof req);
  req.done = on_done;
  done_calls = 0;
  uvsql__error_set(&err, UVSQL_ECLOSED, "the connection is closed: check out another");
  uvsql__kit_fail_later(loop, &req, &err);
  uvsql__error_set(&err, UVSQL_EINTERNAL, "changed after the call"); /* it was copied */
  ASSERT_INT_EQ(done_calls, 0);
  uv_run(loop, UV_RUN_DEFAULT);
  ASSERT_INT_EQ(done_calls, 1);
  ASSERT_INT_EQ(done_err.code, UVSQL_ECLOSED);
  ASSERT_STR_EQ(done_err.message, "the connection is closed: check out another");
  test_loop_close(loop);
}
