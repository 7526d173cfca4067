/* tests/test_worker.c — the worker thread bridge (src/loop/worker.c): jobs run one at a time in
 * FIFO order on a thread of their own, `after` runs on the loop thread in submission order, and
 * close withdraws what has not started, lets the running job finish, and frees everything. */
#include <stdatomic.h>
#include "harness.h"
#include "loop/internal.h"

#define NJOBS 2000

typedef struct {
  uv_thread_t loop_thread;
  int work_order[NJOBS]; /* written by the worker thread */
  atomic_int nworked;
  int after_order[NJOBS]; /* written on the loop thread */
  int after_cancelled[NJOBS];
  int nafter;
  int work_on_loop_thread;
  int after_off_loop_thread;
  int closed;
  int after_when_closed; /* nafter when closed_cb ran */
  uvsql__worker_t *w;
} ctx_t;

typedef struct {
  ctx_t *ctx;
  int i;
  int sleep_ms;
  uv_sem_t *started; /* posted when work begins, if set */
  int spin_us;       /* busy work of about this long (a short statement) */
} job_t;

static ctx_t ctx;
static job_t jobs[NJOBS];

static void work(void *data) {
  job_t *j = data;
  uv_thread_t self = uv_thread_self();
  if (uv_thread_equal(&self, &j->ctx->loop_thread))
    j->ctx->work_on_loop_thread = 1;
  if (j->started)
    uv_sem_post(j->started);
  if (j->sleep_ms)
    uv_sleep(j->sleep_ms);
  if (j->spin_us) {
    uint64_t t0 = uv_hrtime();
    while (uv_hrtime() - t0 < (uint64_t)j->spin_us * 1000)
      ;
  }
  int n = atomic_fetch_add(&j->ctx->nworked, 1);
  j->ctx->work_order[n] = j->i;
}

static void after(void *data, int cancelled) {
  job_t *j = data;
  uv_thread_t self = uv_thread_self();
  if (!uv_thread_equal(&self, &j->ctx->loop_thread))
    j->ctx->after_off_loop_thread = 1;
  j->ctx->after_cancelled[j->ctx->nafter] = cancelled;
  j->ctx->after_order[j->ctx->nafter++] = j->i;
}

static void closed(void *data) {
  ctx_t *c = data;
  c->closed++;
  c->after_when_closed = c->nafter;
}

static uv_loop_t *setup(void) {
  memset(&ctx, 0, sizeof ctx);
  ctx.loop_thread = uv_thread_self();
  uv_loop_t *loop = test_loop();
  ASSERT_OK(uvsql__worker_new(&ctx.w, loop, 1), NULL);
  return loop;
}

static void submit(int i, int sleep_ms, uv_sem_t *started) {
  jobs[i] = (job_t){&ctx, i, sleep_ms, started, 0};
  ASSERT_OK(uvsql__worker_submit(ctx.w, work, after, &jobs[i]), NULL);
}

TEST(jobs_run_in_fifo_order_and_after_runs_on_the_loop_thread) {
  uv_loop_t *loop = setup();
  for (int i = 0; i < NJOBS; i++)
    submit(i, 0, NULL);
  while (ctx.nafter < NJOBS)
    uv_run(loop, UV_RUN_ONCE);
  ASSERT_INT_EQ(atomic_load(&ctx.nworked), NJOBS);
  for (int i = 0; i < NJOBS; i++) {
    ASSERT_INT_EQ(ctx.work_order[i], i);
    ASSERT_INT_EQ(ctx.after_order[i], i);
    ASSERT_INT_EQ(ctx.after_cancelled[i], 0);
  }
  ASSERT_INT_EQ(ctx.work_on_loop_thread, 0);
  ASSERT_INT_EQ(ctx.after_off_loop_thread, 0);
  uvsql__worker_close(ctx.w, closed, &ctx);
  test_loop_close(loop);
  ASSERT_INT_EQ(ctx.closed, 1);
}

TEST(one_job_at_a_time) {
  /* Three sleeping jobs: if they overlapped they would finish in about 50 ms, not 150. */
  uv_loop_t *loop = setup();
  uint64_t t0 = uv_hrtime();
  for (int i = 0; i < 3; i++)
    submit(i, 50, NULL);
  while (ctx.nafter < 3)
    uv_run(loop, UV_RUN_ONCE);
  uint64_t ms = (uv_hrtime() - t0) / 1000000;
  ASSERT(ms >= 145);
  uvsql__worker_close(ctx.w, closed, &ctx);
  test_loop_close(loop);
}

TEST(close_withdraws_jobs_not_started_and_lets_the_running_one_finish) {
  uv_loop_t *loop = setup();
  uv_sem_t started;
  ASSERT_INT_EQ(uv_sem_init(&started, 0), 0);
  submit(0, 100, &started);
  for (int i = 1; i < 5; i++)
    submit(i, 0, NULL);
  uv_sem_wait(&started); /* job 0 is running on the worker */
  uvsql__worker_close(ctx.w, closed, &ctx);
  ASSERT_INT_EQ(ctx.nafter, 0); /* nothing runs before close returns */
  test_loop_close(loop);
  uv_sem_destroy(&started);

  ASSERT_INT_EQ(atomic_load(&ctx.nworked), 1); /* only job 0 ran */
  ASSERT_INT_EQ(ctx.work_order[0], 0);
  ASSERT_INT_EQ(ctx.nafter, 5);
  for (int i = 0; i < 5; i++) {
    ASSERT_INT_EQ(ctx.after_order[i], i);                  /* still submission order */
    ASSERT_INT_EQ(ctx.after_cancelled[i], i == 0 ? 0 : 1); /* withdrawn: after(data, 1) */
  }
  ASSERT_INT_EQ(ctx.closed, 1);
  ASSERT_INT_EQ(ctx.after_when_closed, 5); /* closed_cb comes last */
}

TEST(close_when_idle_runs_closed_cb_from_the_loop) {
  uv_loop_t *loop = setup();
  uvsql__worker_close(ctx.w, closed, &ctx);
  ASSERT_INT_EQ(ctx.closed, 0);
  test_loop_close(loop);
  ASSERT_INT_EQ(ctx.closed, 1);
}

TEST(submit_after_close_fails_with_eclosed) {
  uv_loop_t *loop = setup();
  uvsql__worker_close(ctx.w, closed, &ctx);
  jobs[0] = (job_t){&ctx, 0, 0, NULL, 0};
  ASSERT_ERR(uvsql__worker_submit(ctx.w, work, after, &jobs[0]), UVSQL_ECLOSED);
  test_loop_close(loop);
  ASSERT_INT_EQ(ctx.nafter, 0);
  ASSERT_INT_EQ(ctx.closed, 1);
}

/* An after that submits the next job, and a last one that closes the worker from inside its
 * own after: the worker must survive its callbacks. */
static int chain_left;
static void chain_after(void *data, int cancelled) {
  job_t *j = data;
  after(data, cancelled);
  if (--chain_left > 0) {
    jobs[j->i + 1] = (job_t){&ctx, j->i + 1, 0, NULL, 0};
    ASSERT_OK(uvsql__worker_submit(ctx.w, work, chain_after, &jobs[j->i + 1]), NULL);
  } else {
    uvsql__worker_close(ctx.w, closed, &ctx);
  }
}

TEST(after_may_submit_and_close) {
  uv_loop_t *loop = setup();
  chain_left = 50;
  jobs[0] = (job_t){&ctx, 0, 0, NULL, 0};
  ASSERT_OK(uvsql__worker_submit(ctx.w, work, chain_after, &jobs[0]), NULL);
  test_loop_close(loop);
  ASSERT_INT_EQ(ctx.nafter, 50);
  for (int i = 0; i < 50; i++)
    ASSERT_INT_EQ(ctx.after_order[i], i);
  ASSERT_INT_EQ(ctx.closed, 1);
}

TEST(an_idle_worker_does_not_keep_the_loop_running) {
  uv_loop_t *loop = setup();
  ASSERT_INT_EQ(uv_run(loop, UV_RUN_DEFAULT), 0); /* returns at once: nothing outstanding */
  submit(0, 20, NULL);
  uv_run(loop, UV_RUN_DEFAULT); /* but a job in flight does */
  ASSERT_INT_EQ(ctx.nafter, 1);
  uvsql__worker_close(ctx.w, closed, &ctx);
  test_loop_close(loop);
  ASSERT_INT_EQ(ctx.closed, 1);
}

static uint64_t last_tick, max_gap;
static int ticks;
static void on_tick(uv_timer_t *t) {
  uint64_t now = uv_hrtime();
  if (last_tick && now - last_tick > max_gap)
    max_gap = now - last_tick;
  last_tick = now;
  ticks++;
  if (ctx.nafter == 1)
    uv_close((uv_handle_t *)t, NULL);
}

TEST(a_long_job_does_not_block_the_loop) {
  uv_loop_t *loop = setup();
  uv_timer_t timer;
  uv_timer_init(loop, &timer);
  uv_timer_start(&timer, on_tick, 10, 10);
  submit(0, 300, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  printf("timer: %d ticks, largest gap %.1f ms during a 300 ms job\n", ticks, max_gap / 1e6);
  ASSERT(ticks >= 20);
  ASSERT(max_gap < 50 * 1000000ull);
  uvsql__worker_close(ctx.w, closed, &ctx);
  test_loop_close(loop);
}

/* ---- The loop busy-polls for completions while a job is in flight (worker.c, invariant 9):
 * bounded, never blocking the loop, never losing a completion at the end of a poll window. */

/* Each job awaited before the next, as uvsql_future_wait awaits a statement. */
static void run_awaited(uv_loop_t *loop, int i, int spin_us) {
  jobs[i] = (job_t){&ctx, i, 0, NULL, spin_us};
  ASSERT_OK(uvsql__worker_submit(ctx.w, work, after, &jobs[i]), NULL);
  while (ctx.nafter < i + 1)
    uv_run(loop, UV_RUN_ONCE);
}

TEST(short_jobs_awaited_one_by_one_are_taken_by_polling) {
  uv_loop_t *loop = setup();
  for (int i = 0; i < NJOBS; i++)
    run_awaited(loop, i, 0);
  uint64_t polled, woken;
  uvsql__worker_counts(ctx.w, &polled, &woken);
  printf("%d jobs: %llu taken by polling, %llu after a wake-up\n", NJOBS,
         (unsigned long long)polled, (unsigned long long)woken);
  for (int i = 0; i < NJOBS; i++)
    ASSERT_INT_EQ(ctx.after_order[i], i);
  /* Polling needs a second CPU and is off under valgrind (one thread at a time; the library
   * knows it only when built with valgrind.h, so nothing is asserted there). */
  if (uv_available_parallelism() >= 2 && !test_under_valgrind())
    ASSERT(polled > 0);
  else if (uv_available_parallelism() < 2)
    ASSERT_INT_EQ((int)polled, 0);
  ASSERT(polled + woken >= 1);
  uvsql__worker_close(ctx.w, closed, &ctx);
  test_loop_close(loop);
  ASSERT_INT_EQ(ctx.closed, 1);
}

TEST(jobs_around_the_poll_window_all_complete_in_order) {
  /* Jobs of 0 to 120 us, around the 50 us poll window, awaited one by one: some end after the
   * loop stopped polling (then the async must bring them), some while it polls. Then a burst
   * submitted at once, and streamed posts from a job while the loop may poll. */
  uv_loop_t *loop = setup();
  int n = 600;
  for (int i = 0; i < n; i++)
    run_awaited(loop, i, (i * 37) % 121);
  for (int i = n; i < n + 400; i++)
    submit(i, 0, NULL);
  while (ctx.nafter < n + 400)
    uv_run(loop, UV_RUN_ONCE);
  ASSERT_INT_EQ(atomic_load(&ctx.nworked), n + 400);
  for (int i = 0; i < n + 400; i++) {
    ASSERT_INT_EQ(ctx.work_order[i], i);
    ASSERT_INT_EQ(ctx.after_order[i], i);
    ASSERT_INT_EQ(ctx.after_cancelled[i], 0);
  }
  uvsql__worker_close(ctx.w, closed, &ctx);
  test_loop_close(loop);
  ASSERT_INT_EQ(ctx.closed, 1);
}

static int posts_seen, post_after_seen_before;
static void on_post(void *data, int cancelled) {
  (void)data;
  ASSERT_INT_EQ(cancelled, 0);
  posts_seen++;
}
static void posting_work(void *data) {
  job_t *j = data;
  for (int k = 0; k < 10; k++) {
    ASSERT_OK(uvsql__worker_post(ctx.w, on_post, NULL), NULL);
    uint64_t t0 = uv_hrtime();
    while (uv_hrtime() - t0 < (uint64_t)(k * 15) * 1000) /* 0 to 135 us between posts */
      ;
  }
  work(j);
}
static void posting_after(void *data, int cancelled) {
  post_after_seen_before = posts_seen;
  after(data, cancelled);
}

TEST(posts_from_a_job_arrive_before_its_after_while_the_loop_polls) {
  uv_loop_t *loop = setup();
  posts_seen = 0;
  for (int i = 0; i < 20; i++) {
    jobs[i] = (job_t){&ctx, i, 0, NULL, 0};
    ASSERT_OK(uvsql__worker_submit(ctx.w, posting_work, posting_after, &jobs[i]), NULL);
    while (ctx.nafter < i + 1)
      uv_run(loop, UV_RUN_ONCE);
    ASSERT_INT_EQ(post_after_seen_before, 10 * (i + 1)); /* every post ran before the after */
  }
  ASSERT_INT_EQ(posts_seen, 200);
  uvsql__worker_close(ctx.w, closed, &ctx);
  test_loop_close(loop);
  ASSERT_INT_EQ(ctx.closed, 1);
}

/* A timer and a stream of short jobs, each submitted from the previous one's after, with the
 * loop run by uv_run(UV_RUN_DEFAULT): the loop polls nearly all the time, yet timers fire. */
static int stream_left, stream_done;
static atomic_int stream_worked;
static job_t stream_job;
static void stream_work(void *data) {
  (void)data;
  uint64_t t0 = uv_hrtime();
  while (uv_hrtime() - t0 < 5000) /* a 5 us statement */
    ;
  atomic_fetch_add(&stream_worked, 1);
}
static void stream_after(void *data, int cancelled) {
  ASSERT_INT_EQ(cancelled, 0);
  stream_done++;
  if (--stream_left > 0)
    ASSERT_OK(uvsql__worker_submit(ctx.w, stream_work, stream_after, data), NULL);
}
static void on_stream_tick(uv_timer_t *t) {
  uint64_t now = uv_hrtime();
  if (last_tick && now - last_tick > max_gap)
    max_gap = now - last_tick;
  last_tick = now;
  if (++ticks == 40) {
    stream_left = 0; /* the running job is the last */
    uv_close((uv_handle_t *)t, NULL);
  }
}

TEST(a_timer_stays_on_time_while_short_jobs_run_back_to_back) {
  uv_loop_t *loop = setup();
  uv_timer_t timer;
  last_tick = max_gap = 0;
  ticks = 0;
  uv_timer_init(loop, &timer);
  uv_timer_start(&timer, on_stream_tick, 5, 5);
  stream_left = 1 << 30;
  stream_done = 0;
  ASSERT_OK(uvsql__worker_submit(ctx.w, stream_work, stream_after, &stream_job), NULL);
  uint64_t t0 = uv_hrtime();
  uv_run(loop, UV_RUN_DEFAULT);
  uint64_t ms = (uv_hrtime() - t0) / 1000000;
  int jobs_run = atomic_load(&stream_worked);
  printf("40 ticks of 5 ms in %llu ms, largest gap %.1f ms, %d jobs of 5 us meanwhile\n",
         (unsigned long long)ms, max_gap / 1e6, jobs_run);
  ASSERT_INT_EQ(ticks, 40);
  ASSERT(max_gap < 100 * 1000000ull); /* generous: the machine may be loaded */
  ASSERT(ms < 2000);
  ASSERT(jobs_run > 40); /* the jobs did run back to back meanwhile */
  ASSERT_INT_EQ(stream_done, jobs_run);
  uvsql__worker_close(ctx.w, closed, &ctx);
  test_loop_close(loop);
  ASSERT_INT_EQ(ctx.closed, 1);
}
