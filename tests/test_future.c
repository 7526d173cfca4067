/* tests/test_future.c — futures: settle once, callbacks in order, ownership, wait, all, cancel. */
#include "harness.h"
#include "loop/internal.h"

static int order[8], norder;
static void record(uvsql_future_t *f, void *data) {
  (void)f;
  order[norder++] = (int)(intptr_t)data;
}

TEST(callbacks_run_once_in_attach_order) {
  uv_loop_t *loop = test_loop();
  uvsql_future_t *f = uvsql__future_new(loop);
  norder = 0;
  ASSERT_OK(uvsql_future_then(f, record, (void *)1), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_future_then(f, record, (void *)2), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_future_then(f, record, (void *)3), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(norder, 0);
  uvsql__future_resolve(f, NULL, NULL);
  uvsql__future_resolve(f, NULL, NULL); /* ignored: settles once */
  ASSERT_INT_EQ(norder, 3);
  ASSERT_INT_EQ(order[0], 1);
  ASSERT_INT_EQ(order[1], 2);
  ASSERT_INT_EQ(order[2], 3);
  ASSERT_INT_EQ(uvsql_future_state(f), UVSQL_FUTURE_RESOLVED);
  uvsql_future_unref(f);
  test_loop_close(loop);
}

TEST(then_on_settled_future_runs_at_once) {
  uv_loop_t *loop = test_loop();
  uvsql_future_t *f = uvsql__future_new(loop);
  uvsql__future_fail_code(f, UVSQL_EDATA, "bad value %d", 7);
  norder = 0;
  ASSERT_OK(uvsql_future_then(f, record, (void *)9), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(norder, 1);
  ASSERT_INT_EQ(uvsql_future_state(f), UVSQL_FUTURE_FAILED);
  ASSERT_INT_EQ(uvsql_future_error(f)->code, UVSQL_EDATA);
  ASSERT_STR_EQ(uvsql_future_error(f)->message, "bad value 7");
  ASSERT(uvsql_future_value(f) == NULL);
  uvsql_future_unref(f);
  test_loop_close(loop);
}

static int freed;
static void free_value(void *v) {
  freed++;
  free(v);
}

TEST(value_is_freed_with_future_unless_taken) {
  uv_loop_t *loop = test_loop();
  freed = 0;
  uvsql_future_t *f = uvsql__future_new(loop);
  uvsql__future_resolve(f, malloc(4), free_value);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(freed, 1);
  f = uvsql__future_new(loop);
  uvsql__future_resolve(f, malloc(4), free_value);
  void *v = uvsql_future_take(f);
  ASSERT(v != NULL);
  ASSERT(uvsql_future_take(f) == NULL);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(freed, 0 + 1);
  free(v);
  /* A value arriving after the future settled is freed at once, never leaked. */
  f = uvsql__future_new(loop);
  uvsql__future_fail_code(f, UVSQL_ECANCELLED, "cancelled");
  uvsql__future_resolve(f, malloc(4), free_value);
  ASSERT_INT_EQ(freed, 2);
  ASSERT_INT_EQ(uvsql_future_state(f), UVSQL_FUTURE_CANCELLED);
  uvsql_future_unref(f);
  test_loop_close(loop);
}

static int cb_ran;
static void on_settled_check_pending_later(uvsql_future_t *f, void *data) {
  (void)data;
  ASSERT_INT_EQ(uvsql_future_state(f), UVSQL_FUTURE_FAILED);
  cb_ran++;
}

TEST(fail_soon_runs_callback_from_the_loop_not_the_call) {
  uv_loop_t *loop = test_loop();
  uvsql_future_t *f = uvsql__future_new(loop);
  uvsql_error_t err;
  uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT, "nope");
  uvsql__future_fail_soon(f, &err);
  cb_ran = 0;
  uvsql__future_return(f, on_settled_check_pending_later, NULL); /* library owns f now */
  ASSERT_INT_EQ(cb_ran, 0);
  uv_run(loop, UV_RUN_DEFAULT);
  ASSERT_INT_EQ(cb_ran, 1);
  test_loop_close(loop); /* f was released after its callback: nothing leaks (ASan checks) */
}

static void resolve_later(uv_timer_t *t) {
  uvsql__future_resolve(t->data, (void *)0x1, NULL);
  uv_close((uv_handle_t *)t, NULL);
}

TEST(wait_runs_loop_until_settled) {
  uv_loop_t *loop = test_loop();
  uvsql_future_t *f = uvsql__future_new(loop);
  uv_timer_t t;
  uv_timer_init(loop, &t);
  t.data = f;
  /* The timer counts from the loop's cached time: bring it up to date first, or under valgrind
   * (slow to get here) the 20 ms would partly have passed already. */
  uint64_t start = uv_hrtime();
  uv_update_time(loop);
  uv_timer_start(&t, resolve_later, 20, 0);
  ASSERT_INT_EQ(uvsql_future_wait(f), 0);
  ASSERT((uv_hrtime() - start) / 1000000 >= 15);
  ASSERT(uvsql_future_value(f) == (void *)0x1);
  uvsql_future_unref(f);
  test_loop_close(loop);
}

TEST(wait_on_future_nothing_can_settle_returns_interface_error) {
  uv_loop_t *loop = test_loop();
  uvsql_future_t *f = uvsql__future_new(loop);
  ASSERT_ERR(uvsql_future_wait(f), UVSQL_EINTERFACE);
  ASSERT_INT_EQ(uvsql_future_state(f), UVSQL_FUTURE_PENDING);
  uvsql_future_unref(f);
  test_loop_close(loop);
}

TEST(all_resolves_when_every_input_resolves) {
  uv_loop_t *loop = test_loop();
  uvsql_future_t *in[3];
  for (int i = 0; i < 3; i++)
    in[i] = uvsql__future_new(loop);
  uvsql_future_t *all = uvsql_future_all(loop, in, 3, NULL, NULL);
  uvsql__future_resolve(in[1], NULL, NULL);
  uvsql__future_resolve(in[0], NULL, NULL);
  ASSERT_INT_EQ(uvsql_future_state(all), UVSQL_FUTURE_PENDING);
  uvsql__future_resolve(in[2], NULL, NULL);
  ASSERT_INT_EQ(uvsql_future_state(all), UVSQL_FUTURE_RESOLVED);
  for (int i = 0; i < 3; i++)
    uvsql_future_unref(in[i]);
  uvsql_future_unref(all);
  test_loop_close(loop);
}

TEST(all_fails_with_first_error) {
  uv_loop_t *loop = test_loop();
  uvsql_future_t *in[2] = {uvsql__future_new(loop), uvsql__future_new(loop)};
  uvsql_future_t *all = uvsql_future_all(loop, in, 2, NULL, NULL);
  uvsql__future_fail_code(in[1], UVSQL_EINTEGRITY, "duplicate key");
  uvsql__future_fail_code(in[0], UVSQL_EDATA, "second error");
  ASSERT_INT_EQ(uvsql_future_wait(all), UVSQL_EINTEGRITY);
  ASSERT_STR_EQ(uvsql_future_error(all)->message, "duplicate key");
  uvsql_future_unref(in[0]);
  uvsql_future_unref(in[1]);
  uvsql_future_unref(all);
  test_loop_close(loop);
}

TEST(all_of_nothing_resolves_from_the_loop) {
  uv_loop_t *loop = test_loop();
  uvsql_future_t *all = uvsql_future_all(loop, NULL, 0, NULL, NULL);
  ASSERT_INT_EQ(uvsql_future_state(all), UVSQL_FUTURE_PENDING);
  ASSERT_INT_EQ(uvsql_future_wait(all), 0);
  uvsql_future_unref(all);
  test_loop_close(loop);
}

static int cancels;
static int count_cancel(void *data) {
  cancels++;
  uvsql__future_fail_code(data, UVSQL_ECANCELLED, "cancelled on the server");
  return 0;
}

TEST(cancel_calls_canceller_once_then_refuses) {
  uv_loop_t *loop = test_loop();
  uvsql_future_t *f = uvsql__future_new(loop);
  cancels = 0;
  uvsql__future_set_canceller(f, count_cancel, f);
  ASSERT_INT_EQ(uvsql_future_cancel(f), 0);
  ASSERT_INT_EQ(cancels, 1);
  ASSERT_INT_EQ(uvsql_future_state(f), UVSQL_FUTURE_CANCELLED);
  ASSERT_ERR(uvsql_future_cancel(f), UVSQL_EINVALID_ARGUMENT);
  ASSERT_INT_EQ(cancels, 1);
  ASSERT_INT_EQ(uvsql_future_error(f)->code, UVSQL_ECANCELLED);
  uvsql_future_unref(f);
  test_loop_close(loop);
}

TEST(error_table_names_codes_and_families) {
  ASSERT_STR_EQ(uvsql_err_name(UVSQL_EPOOL_TIMEOUT), "UVSQL_EPOOL_TIMEOUT");
  ASSERT_STR_EQ(uvsql_err_name(12345), "UVSQL_UNKNOWN");
  ASSERT_INT_EQ(uvsql_err_family(UVSQL_EDISCONNECT), UVSQL_FAMILY_OPERATIONAL);
  ASSERT_STR_EQ(uvsql_family_name(uvsql_err_family(UVSQL_EINTEGRITY)), "IntegrityError");
  ASSERT_INT_EQ(uvsql__error_from_sqlstate("23505"), UVSQL_EINTEGRITY);
  ASSERT_INT_EQ(uvsql__error_from_sqlstate("42P01"), UVSQL_EPROGRAMMING);
  ASSERT_INT_EQ(uvsql__error_from_sqlstate("57014"), UVSQL_ECANCELLED);
  ASSERT_INT_EQ(uvsql__error_from_sqlstate("57P01"), UVSQL_EDISCONNECT);
  ASSERT_INT_EQ(uvsql__error_from_sqlstate("22P02"), UVSQL_EDATA);
  ASSERT_STR_CONTAINS(uvsql_strerror(UVSQL_EINTEGRITY), "constraint");
}

static int all_cb_runs;
static void count_all(uvsql_future_t *f, void *data) {
  (void)data;
  ASSERT_INT_EQ(uvsql_future_state(f), UVSQL_FUTURE_FAILED);
  ASSERT_STR_EQ(uvsql_future_error(f)->message, "first");
  all_cb_runs++;
}

TEST(all_of_settled_inputs_calls_back_from_the_loop_not_the_call) {
  uv_loop_t *loop = test_loop();
  uvsql_future_t *in[3] = {uvsql__future_new(loop), uvsql__future_new(loop),
                           uvsql__future_new(loop)};
  uvsql__future_resolve(in[0], NULL, NULL);
  uvsql__future_fail_code(in[1], UVSQL_EDATA, "first");
  uvsql__future_fail_code(in[2], UVSQL_EDATA, "second");
  all_cb_runs = 0;
  uvsql_future_all(loop, in, 3, count_all, NULL);
  ASSERT_INT_EQ(all_cb_runs, 0);
  uv_run(loop, UV_RUN_DEFAULT);
  ASSERT_INT_EQ(all_cb_runs, 1);
  for (int i = 0; i < 3; i++)
    uvsql_future_unref(in[i]);
  test_loop_close(loop);
}

TEST(all_with_an_early_failure_fails_once_even_when_the_rest_resolve_later) {
  uv_loop_t *loop = test_loop();
  uvsql_future_t *in[2] = {uvsql__future_new(loop), uvsql__future_new(loop)};
  uvsql__future_fail_code(in[0], UVSQL_EDATA, "first");
  all_cb_runs = 0;
  uvsql_future_all(loop, in, 2, count_all, NULL);
  uvsql__future_resolve(in[1], NULL, NULL); /* before the deferred failure ran */
  ASSERT_INT_EQ(all_cb_runs, 1);
  uv_run(loop, UV_RUN_DEFAULT);
  ASSERT_INT_EQ(all_cb_runs, 1);
  uvsql_future_unref(in[0]);
  uvsql_future_unref(in[1]);
  test_loop_close(loop);
}
