/* src/loop/worker.c — a thread of its own that runs blocking jobs one at a time, for a client
 * library with no nonblocking API (SQLite), and brings their completions back to the loop.
 *
 * Shape: one uv_thread_t, a FIFO of jobs guarded by a mutex, a semaphore that counts the
 * thread's wake-ups (one post per submitted job, one for close), and one uv_async_t that wakes
 * the loop when jobs complete. A job's `work` runs on the worker thread; its `after` runs on
 * the loop thread, from the async callback.
 *
 * Why a semaphore and not a condition variable: a thread woken from pthread_cond_wait takes the
 * mutex back marked as contended, so its next unlock always makes a futex call, and a signal
 * sent under the mutex wakes it only to block on the mutex. Each job would pay one or three
 * futex calls more than the minimum; with the semaphore, a job costs one wake-up (sem_post
 * calls the kernel only when the thread sleeps) and one sleep.
 *
 * Invariants:
 *  1. Jobs run one at a time, in submission order; `after` runs in submission order too (the
 *     thread appends to `completed` in the order it ran them, and the loop drains that list
 *     front to back). Jobs withdrawn by close() get after(data, 1) after every job submitted
 *     before them, so the order holds across close as well.
 *  2. uv_async_send coalesces: several completions may produce one callback, and a callback
 *     may find nothing new. So every wakeup takes the whole `completed` list at once, and no
 *     completion is ever left behind on the list once the loop has looked.
 *  3. `pending`, `completed`, `stop` and `exited` are shared and touched only under `mu`.
 *     `wake` holds at least one count for each job in `pending` and one once `stop` is set;
 *     the thread may find nothing to do on a wake-up (the job was withdrawn) and then waits
 *     again.
 *     Everything else (`closing`, `outstanding`, `withdrawn`, the callbacks) is the loop
 *     thread's alone. `work` never touches the worker.
 *  4. The thread is joined only after it has said, under `mu`, that it is exiting; it then
 *     only sends the async and returns, so the join on the loop thread waits microseconds.
 *     The join happens before uv_close, so no uv_async_send can race the close.
 *  5. The async handle is referenced (keeps the loop alive) only while some job has not had
 *     its `after` yet, or while the worker is closing: an idle worker, like an idle socket,
 *     does not hold the loop open. It is still an open handle: uv_loop_close fails until
 *     uvsql__worker_close has completed.
 *  6. Memory is freed once both handles are closed (the idle handle is closed from the async
 *     handle's close callback), then closed_cb(data) runs.
 *  7. A running job may post messages to the loop (uvsql__worker_post: a streamed batch). They
 *     go through `completed` like completions, so each runs on the loop before its job's
 *     `after`, in the order posted; they do not count in `outstanding` (their job does).
 *  8. After a job, the thread spins for up to SPIN_NS (checking the semaphore, never the
 *     mutex) before it sleeps, and only while at most CPUs - 1 workers of the process spin
 *     (one at a time on two CPUs; none on one): a program that awaits each statement submits the
 * next one a few microseconds after the previous one completes, and finding it while spinning saves
 * the kernel wake-up (sem_post then makes no system call). The hand-off is otherwise two wake-ups
 * per statement (this thread's and the loop's), measured at about 20 us on a loaded 2-CPU machine:
 * the floor of short_selects (bench/README.md). An idle worker costs nothing: it spins once per
 * job. Never under valgrind, which runs one thread at a time. A spin that found nothing turns
 * spinning off for the next 2, 4, ... 64 jobs (doubling while spins keep failing; a spin that
 * finds its job resets it), so a busy machine does not lose a CPU to it, and one preemption
 * does not cost 64 slow hand-offs. A worker made with busy_poll 0 (SQLite's URL option
 * busy_poll=off) never spins nor polls: it trades that latency for idle CPUs.
 *  9. The loop busy-polls for completions, bounded (POLL_NS): while a job is in flight, the
 *     `poll` idle handle is active, so libuv polls with timeout 0 (the loop keeps iterating and
 *     serves every other handle, timer and socket each iteration: it is never blocked), and its
 *     callback takes completions as soon as the thread flags `ready`, with no eventfd wake-up.
 *     While `polling` is set the thread does not uv_async_send. The poll stops when no job is
 *     outstanding, on close, or after POLL_NS without a completion (a long job; that counts as
 *     a failed spin for the back-off of invariant 8, so a loop that waits on slow jobs polls
 *     only now and then). Same conditions as the spin: at most CPUs - 1 polling workers in the
 *     process, none on one CPU, never under valgrind. This is busy-polling: the loop thread
 *     uses a CPU for up to POLL_NS per job instead of sleeping in epoll_wait (one system call
 *     per iteration). The hand-off from the thread: it appends to `completed`, stores `ready`,
 *     then loads `polling`; the loop stores `polling` = 0, then loads `ready` (all seq_cst):
 *     one of the two sees the other's store, so a completion is either found by the loop or
 *     signalled by the async, never neither.
 *
 * States (loop side):
 *
 *      uvsql__worker_new        uvsql__worker_close        thread said `exited`,
 *   ----------------> RUNNING ----------------------> CLOSING -------------------------> gone
 *                     (submit ok)  pending jobs         (submit       joined; uv_close;
 *                                  withdrawn, thread    -> ECLOSED)   on_close: free,
 *                                  told to stop                       closed_cb
 */
#include <stdatomic.h>
#include <stdlib.h>
#include "internal.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#define SPIN_NS          30000 /* invariant 8 */
#define SPIN_BACKOFF_MAX 6     /* a failed spin skips up to 2^6 = 64 jobs */
#define POLL_NS          50000 /* invariant 9 */

/* Workers spinning now, in the whole process: at most one fewer than the CPUs (invariant 8),
 * so that sixteen connections' workers never keep the loop thread from a CPU. */
static atomic_uint spinning;
/* Workers whose loop busy-polls for their completions now (invariant 9), with the same limit. */
static atomic_uint polling_workers;

#if defined(__x86_64__) || defined(__i386__)
#define CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

typedef struct uvsql__job_s uvsql__job_t;
struct uvsql__job_s {
  uvsql__job_t *next;
  uvsql__work_fn work;
  uvsql__after_fn after;
  void *data;
  int post; /* a message from a running job (uvsql__worker_post), not a job */
};

typedef struct {
  uvsql__job_t *head;
  uvsql__job_t *tail;
} uvsql__jobq_t;

struct uvsql__worker_s {
  uv_loop_t *loop;
  uv_async_t async;
  uv_idle_t poll; /* invariant 9: active while the loop busy-polls */
  uv_thread_t thread;
  uv_mutex_t mu;
  uv_sem_t wake;
  /* Shared, under mu. */
  uvsql__jobq_t pending;   /* submitted, not started */
  uvsql__jobq_t completed; /* work done, after not yet run */
  int stop;                /* the loop asks the thread to exit once idle */
  int exited;              /* the thread has left its loop and touches nothing more */
  /* Shared, lock-free (invariant 9). */
  atomic_int ready;   /* the thread appended to `completed` since the loop last took it */
  atomic_int polling; /* the loop is polling: the thread need not uv_async_send */
  /* Loop thread only. */
  int closing;
  int joined;
  unsigned spin;           /* invariant 8: how many workers may spin at once (0: never); set once */
  unsigned outstanding;    /* jobs whose after has not run yet */
  uvsql__jobq_t withdrawn; /* not started when close was called: after(data, 1) at the end */
  int poll_on;             /* `poll` active, counted in polling_workers */
  unsigned poll_skip;      /* submissions left before the loop may poll again */
  unsigned poll_misses;    /* polls in a row that ended with nothing (back-off exponent) */
  uint64_t poll_t0;        /* start of the current poll window */
  uint64_t polled, woken;  /* takings by the poll and by the async (uvsql__worker_counts) */
  void (*closed_cb)(void *data);
  void *closed_data;
};

static void jobq_push(uvsql__jobq_t *q, uvsql__job_t *job) {
  job->next = NULL;
  if (q->tail)
    q->tail->next = job;
  else
    q->head = job;
  q->tail = job;
}

static uvsql__job_t *jobq_take_all(uvsql__jobq_t *q) {
  uvsql__job_t *all = q->head;
  q->head = q->tail = NULL;
  return all;
}

/* After a spin or a poll that found nothing: how many chances to skip (2, 4, ... 64 for
 * failures in a row). A success resets *misses to 0. */
static unsigned backoff(unsigned *misses) {
  if (*misses < SPIN_BACKOFF_MAX)
    ++*misses;
  return 1u << *misses;
}

typedef struct {
  unsigned skip;   /* jobs left before the thread may spin again */
  unsigned misses; /* spins in a row that found nothing */
} spin_state_t;

/* Waits for a count of `wake`; after a job (ran), spinning first (invariant 8). A spin that
 * ends with nothing found (the loop thread was slow: a loaded machine, or a program that does
 * not await each statement) turns spinning off for the next few jobs (backoff). */
static void wait_for_work(uvsql__worker_t *w, int ran, spin_state_t *st) {
  if (ran && w->spin && (st->skip == 0 || --st->skip == 0)) {
    int found = 0;
    if (atomic_fetch_add(&spinning, 1) < w->spin) {
      uint64_t t0 = uv_hrtime();
      for (unsigned i = 1;; i++) {
        if (uv_sem_trywait(&w->wake) == 0) {
          found = 1;
          break;
        }
        CPU_RELAX();
        if ((i & 63) == 0 && uv_hrtime() - t0 > SPIN_NS)
          break;
      }
      if (found)
        st->misses = 0;
      else
        st->skip = backoff(&st->misses);
    }
    atomic_fetch_sub(&spinning, 1);
    if (found)
      return;
  }
  uv_sem_wait(&w->wake);
}

/* The thread, after appending to `completed`: wake the loop unless it is polling (invariant 9). */
static void notify_loop(uvsql__worker_t *w) {
  atomic_store(&w->ready, 1);
  if (!atomic_load(&w->polling))
    uv_async_send(&w->async);
}

static void worker_thread(void *arg) {
  uvsql__worker_t *w = arg;
  int ran = 0;
  spin_state_t st = {0, 0};
  for (;;) {
    wait_for_work(w, ran, &st);
    ran = 0;
    uv_mutex_lock(&w->mu);
    uvsql__job_t *job = w->pending.head;
    if (!job) {
      if (w->stop)
        break; /* stop, and nothing left to run */
      uv_mutex_unlock(&w->mu);
      continue; /* a withdrawn job's count */
    }
    w->pending.head = job->next;
    if (!w->pending.head)
      w->pending.tail = NULL;
    uv_mutex_unlock(&w->mu);

    job->work(job->data);
    ran = 1;

    uv_mutex_lock(&w->mu);
    jobq_push(&w->completed, job);
    uv_mutex_unlock(&w->mu);
    notify_loop(w);
  }
  w->exited = 1;
  uv_mutex_unlock(&w->mu);
  uv_async_send(&w->async);
}

/* Freeing waits for both handles: libuv finishes the handles closed in one iteration last
 * closed first (and reads the next one after the callback), so `poll` is closed only from the
 * async's close callback (invariant 6). */
static void on_poll_closed(uv_handle_t *h) {
  uvsql__worker_t *w = h->data;
  void (*closed_cb)(void *) = w->closed_cb;
  void *closed_data = w->closed_data;
  uv_sem_destroy(&w->wake);
  uv_mutex_destroy(&w->mu);
  free(w);
  if (closed_cb)
    closed_cb(closed_data);
}

static void on_async_closed(uv_handle_t *h) {
  uvsql__worker_t *w = h->data;
  uv_close((uv_handle_t *)&w->poll, on_poll_closed);
}

static void job_finished(uvsql__worker_t *w) {
  if (--w->outstanding == 0 && !w->closing)
    uv_unref((uv_handle_t *)&w->async);
}

static void on_poll(uv_idle_t *h);

/* Invariant 9: called on submit. */
static void poll_start(uvsql__worker_t *w) {
  if (w->poll_on || !w->spin || w->closing)
    return;
  if (w->poll_skip) {
    w->poll_skip--;
    return;
  }
  if (atomic_fetch_add(&polling_workers, 1) >= w->spin) {
    atomic_fetch_sub(&polling_workers, 1);
    return;
  }
  w->poll_on = 1;
  atomic_store(&w->polling, 1);
  w->poll_t0 = uv_hrtime();
  uv_idle_start(&w->poll, on_poll);
}

/* Stops polling; a completion the thread flagged meanwhile without sending the async (it saw
 * `polling`) is signalled now, so on_async takes it. `found`: the poll ended because the jobs
 * were done, not because it timed out (back-off). */
static void poll_stop(uvsql__worker_t *w, int found) {
  if (!w->poll_on)
    return;
  w->poll_on = 0;
  uv_idle_stop(&w->poll);
  atomic_fetch_sub(&polling_workers, 1);
  atomic_store(&w->polling, 0);
  if (atomic_load(&w->ready))
    uv_async_send(&w->async);
  if (found)
    w->poll_misses = 0;
  else
    w->poll_skip = backoff(&w->poll_misses);
}

/* Runs what the thread completed or posted (invariant 2), from the async or from the poll. */
static void drain(uvsql__worker_t *w) {
  uvsql__job_t *job, *next;
  int exited;

  if (w->joined)
    return; /* a send that raced the final drain: nothing is left */
  /* Cleared before the take: an append after the take sets it again. */
  atomic_store(&w->ready, 0);
  uv_mutex_lock(&w->mu);
  job = jobq_take_all(&w->completed);
  exited = w->exited;
  uv_mutex_unlock(&w->mu);

  /* An after may call uvsql__worker_close or submit; neither touches this detached list. */
  for (; job; job = next) {
    int post = job->post;
    next = job->next;
    job->after(job->data, 0);
    free(job);
    if (!post)
      job_finished(w);
  }

  if (w->poll_on) {
    if (w->outstanding == 0)
      poll_stop(w, 1);
    else
      w->poll_t0 = uv_hrtime(); /* a new window for the next job */
  }

  /* Only once the thread has said it is exiting: by then it had appended its last completion
   * (under the same lock that we read `exited` under), so nothing can follow. */
  if (!exited)
    return;
  for (job = jobq_take_all(&w->withdrawn); job; job = next) {
    next = job->next;
    job->after(job->data, 1);
    free(job);
    job_finished(w);
  }
  uv_thread_join(&w->thread);
  w->joined = 1;
  uv_close((uv_handle_t *)&w->async, on_async_closed);
}

static void on_async(uv_async_t *async) {
  uvsql__worker_t *w = async->data;
  w->woken++;
  drain(w);
}

/* Invariant 9: takes what the thread flagged; otherwise ends a poll that waited too long. */
static void on_poll(uv_idle_t *h) {
  uvsql__worker_t *w = h->data;
  if (atomic_load_explicit(&w->ready, memory_order_relaxed)) {
    w->polled++;
    drain(w);
  } else if (uv_hrtime() - w->poll_t0 > POLL_NS)
    poll_stop(w, 0);
}

static void on_failed_poll_closed(uv_handle_t *h) {
  uvsql__worker_t *w = h->data;
  uv_sem_destroy(&w->wake);
  uv_mutex_destroy(&w->mu);
  free(w);
}

static void on_failed_async_closed(uv_handle_t *h) {
  uvsql__worker_t *w = h->data;
  uv_close((uv_handle_t *)&w->poll, on_failed_poll_closed);
}

int uvsql__worker_busy_polls(const uvsql__worker_t *w) {
  return w->spin > 0;
}

int uvsql__worker_new(uvsql__worker_t **out, uv_loop_t *loop, int busy_poll) {
  uvsql__worker_t *w = calloc(1, sizeof *w);
  *out = NULL;
  if (!w)
    return UVSQL_ENOMEM;
  w->loop = loop;
  /* valgrind runs one thread at a time: there a spin only waits for its own time slice */
  w->spin = RUNNING_ON_VALGRIND || !busy_poll ? 0 : uv_available_parallelism() - 1;
  if (uv_mutex_init(&w->mu) != 0) {
    free(w);
    return UVSQL_ENOMEM;
  }
  if (uv_sem_init(&w->wake, 0) != 0) {
    uv_mutex_destroy(&w->mu);
    free(w);
    return UVSQL_ENOMEM;
  }
  uv_idle_init(loop, &w->poll); /* cannot fail */
  w->poll.data = w;
  uv_unref((uv_handle_t *)&w->poll); /* the async holds the loop open while jobs run */
  if (uv_async_init(loop, &w->async, on_async) != 0) {
    uv_close((uv_handle_t *)&w->poll, on_failed_poll_closed);
    return UVSQL_ENOMEM;
  }
  w->async.data = w;
  uv_unref((uv_handle_t *)&w->async); /* idle: see invariant 5 */
  if (uv_thread_create(&w->thread, worker_thread, w) != 0) {
    /* The handle is initialised, so it can only be freed once libuv has closed it. */
    uv_close((uv_handle_t *)&w->async, on_failed_async_closed);
    return UVSQL_ENOMEM;
  }
  *out = w;
  return 0;
}

int uvsql__worker_submit(uvsql__worker_t *w, uvsql__work_fn work, uvsql__after_fn after,
                         void *data) {
  if (w->closing)
    return UVSQL_ECLOSED;
  uvsql__job_t *job = malloc(sizeof *job);
  if (!job)
    return UVSQL_ENOMEM;
  job->work = work;
  job->after = after;
  job->data = data;
  job->post = 0;
  if (w->outstanding++ == 0)
    uv_ref((uv_handle_t *)&w->async);
  poll_start(w);
  uv_mutex_lock(&w->mu);
  jobq_push(&w->pending, job);
  uv_mutex_unlock(&w->mu);
  uv_sem_post(&w->wake); /* after the unlock: the thread it wakes takes `mu` at once */
  return 0;
}

int uvsql__worker_post(uvsql__worker_t *w, uvsql__after_fn fn, void *data) {
  uvsql__job_t *job = malloc(sizeof *job);
  if (!job)
    return UVSQL_ENOMEM;
  job->work = NULL;
  job->after = fn;
  job->data = data;
  job->post = 1;
  uv_mutex_lock(&w->mu);
  jobq_push(&w->completed, job); /* before the running job's own completion: invariant 1 */
  uv_mutex_unlock(&w->mu);
  notify_loop(w);
  return 0;
}

void uvsql__worker_close(uvsql__worker_t *w, void (*closed_cb)(void *data), void *data) {
  if (!w || w->closing)
    return;
  poll_stop(w, 1);
  w->closing = 1;
  w->closed_cb = closed_cb;
  w->closed_data = data;
  uv_ref((uv_handle_t *)&w->async); /* the close must finish before the loop may end */
  uv_mutex_lock(&w->mu);
  w->withdrawn.head = w->pending.head;
  w->withdrawn.tail = w->pending.tail;
  w->pending.head = w->pending.tail = NULL;
  w->stop = 1;
  uv_mutex_unlock(&w->mu);
  uv_sem_post(&w->wake);
  /* The thread finishes the job it is running (if any), sees `stop`, says `exited` and sends
   * the async; on_async then runs the remaining afters, joins and closes. */
}

void uvsql__worker_counts(const uvsql__worker_t *w, uint64_t *polled, uint64_t *woken) {
  *polled = w->polled;
  *woken = w->woken;
}
