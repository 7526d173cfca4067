/* src/dialects/sqlite/wlock.c — the write lock of one SQLite file on one loop: writers take
 * turns on the loop instead of colliding inside SQLite.
 *
 * Why: SQLite lets one connection write at a time. Without this, connections of one engine
 * (or of several engines on one loop) that write at once meet SQLite's lock: the loser's
 * worker thread sleeps in SQLite's busy handler (polling, up to ?timeout), and a transaction
 * that read and then wants to write gets SQLITE_BUSY at once (SQLite refuses to wait: it
 * would deadlock). Here, a request that writes (sqlscan.c) waits for the file's lock on the
 * loop, in FIFO order, before it is handed to its worker; no thread sleeps and the loop stays
 * free. conn.c decides when a connection takes and gives back the lock (it holds it from its
 * first write until its transaction ends: sqlite3_txn_state is NONE again); this file only
 * keeps the holder, the FIFO of waiters and their deadlines.
 *
 * One lock per (loop, file): connections find theirs by the file's full path, as SQLite
 * reports it after opening (sqlite3_db_filename), in a registry shared by all loops (under a
 * mutex: engines on other threads have locks of their own, on their own loops). In-memory and
 * read-only databases have none. Another process, another loop, or a second spelling of the
 * same file through a symlink is not covered: SQLite's busy timeout still guards those.
 *
 * Invariants:
 *  1. Loop thread only, except the registry list (under reg_mu).
 *  2. holder is NULL or the one connection with wl_holds; each waiter has wl_waiting and is
 *     on the FIFO exactly once; a connection is never both.
 *  3. A waiter leaves the FIFO by grant (uvsql__sq_wlock_granted: it holds the lock), by its
 *     deadline (uvsql__sq_wlock_timed_out), or by withdraw; the timer runs exactly while there
 *     are waiters, set to the earliest deadline.
 *  4. The lock is freed when its last connection puts it (after its timer handle closed).
 */
#include <stdlib.h>
#include <string.h>
#include "sqlite.h"

struct uvsql__sq_wlock_s {
  uv_loop_t *loop;
  char *path;
  int refs; /* connections that got it */
  uvsql__sq_conn_t *holder;
  uvsql__sq_conn_t *head, *tail; /* waiters, linked through wl_next */
  uv_timer_t timer;
  uvsql__sq_wlock_t *next; /* registry */
};

static uv_once_t reg_once = UV_ONCE_INIT;
static uv_mutex_t reg_mu;
static uvsql__sq_wlock_t *reg_head;

static void reg_init(void) {
  if (uv_mutex_init(&reg_mu) != 0)
    abort(); /* as libuv does when a mutex cannot be made */
}

uvsql__sq_wlock_t *uvsql__sq_wlock_get(uv_loop_t *loop, const char *path) {
  uvsql__sq_wlock_t *l;
  uv_once(&reg_once, reg_init);
  uv_mutex_lock(&reg_mu);
  for (l = reg_head; l; l = l->next)
    if (l->loop == loop && strcmp(l->path, path) == 0)
      break;
  if (l) {
    l->refs++;
  } else if ((l = calloc(1, sizeof *l)) != NULL) {
    l->path = strdup(path);
    if (!l->path || uv_timer_init(loop, &l->timer) != 0) {
      free(l->path);
      free(l);
      l = NULL;
    } else {
      l->loop = loop;
      l->refs = 1;
      l->next = reg_head;
      reg_head = l;
    }
  }
  uv_mutex_unlock(&reg_mu);
  return l;
}

static void on_timer_closed(uv_handle_t *h) {
  uvsql__sq_wlock_t *l = h->data;
  free(l->path);
  free(l);
}

void uvsql__sq_wlock_put(uvsql__sq_wlock_t *l) {
  int last;
  uv_mutex_lock(&reg_mu);
  last = --l->refs == 0;
  if (last) {
    uvsql__sq_wlock_t **pp = &reg_head;
    while (*pp != l)
      pp = &(*pp)->next;
    *pp = l->next;
  }
  uv_mutex_unlock(&reg_mu);
  if (last) {
    l->timer.data = l;
    uv_close((uv_handle_t *)&l->timer, on_timer_closed);
  }
}

int uvsql__sq_wlock_try(uvsql__sq_wlock_t *l, uvsql__sq_conn_t *c) {
  if (l->holder && l->holder != c)
    return 0;
  l->holder = c;
  c->wl_holds = 1;
  return 1;
}

static void unlink_waiter(uvsql__sq_wlock_t *l, uvsql__sq_conn_t *c) {
  uvsql__sq_conn_t **pp = &l->head, *prev = NULL;
  while (*pp && *pp != c) {
    prev = *pp;
    pp = &(*pp)->wl_next;
  }
  if (!*pp)
    return;
  *pp = c->wl_next;
  if (l->tail == c)
    l->tail = prev;
  c->wl_next = NULL;
  c->wl_waiting = 0;
}

static void on_timer(uv_timer_t *t);

static void arm(uvsql__sq_wlock_t *l) {
  uint64_t first = UINT64_MAX, now = uv_now(l->loop);
  for (uvsql__sq_conn_t *c = l->head; c; c = c->wl_next)
    if (c->wl_deadline < first)
      first = c->wl_deadline;
  if (first == UINT64_MAX)
    uv_timer_stop(&l->timer);
  else
    uv_timer_start(&l->timer, on_timer, first > now ? first - now : 0, 0);
}

static void on_timer(uv_timer_t *t) {
  uvsql__sq_wlock_t *l = (uvsql__sq_wlock_t *)((char *)t - offsetof(uvsql__sq_wlock_t, timer));
  uint64_t now = uv_now(l->loop);
  uvsql__sq_conn_t *c;
  uv_mutex_lock(&reg_mu);
  l->refs++; /* a timed-out connection may put the lock: keep it until we are done */
  uv_mutex_unlock(&reg_mu);
  for (;;) {
    for (c = l->head; c && c->wl_deadline > now; c = c->wl_next)
      ;
    if (!c)
      break;
    unlink_waiter(l, c);
    uvsql__sq_wlock_timed_out(c); /* may wait again, with a later deadline */
  }
  arm(l);
  uvsql__sq_wlock_put(l);
}

void uvsql__sq_wlock_wait(uvsql__sq_wlock_t *l, uvsql__sq_conn_t *c, int timeout_ms) {
  c->wl_waiting = 1;
  c->wl_next = NULL;
  c->wl_deadline = uv_now(l->loop) + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
  if (l->tail)
    l->tail->wl_next = c;
  else
    l->head = c;
  l->tail = c;
  arm(l);
}

void uvsql__sq_wlock_withdraw(uvsql__sq_wlock_t *l, uvsql__sq_conn_t *c) {
  if (!c->wl_waiting)
    return;
  unlink_waiter(l, c);
  arm(l);
}

void uvsql__sq_wlock_release(uvsql__sq_wlock_t *l, uvsql__sq_conn_t *c) {
  uvsql__sq_conn_t *next;
  if (l->holder != c)
    return;
  c->wl_holds = 0;
  l->holder = NULL;
  next = l->head;
  if (!next)
    return;
  unlink_waiter(l, next);
  arm(l);
  l->holder = next;
  next->wl_holds = 1;
  uvsql__sq_wlock_granted(next); /* hands its held requests to its worker */
}
