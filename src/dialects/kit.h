/* src/dialects/kit.h — the driver kit: the plumbing every backend shares.
 *
 * A backend folder holds its state machine, codecs and options; what is the same in each of
 * them lives here, once:
 *   - the call-frame guard (uvsql__kit_guard_t): frames on the stack, deferred calls that will
 *     come back, close() asked inside a frame, and a hook run when the outermost frame leaves;
 *   - deferred calls that hold the guard (uvsql__kit_deferred_t, embedded: never fail), and
 * deferred request failure (uvsql__kit_fail_later: contract 2, done never runs before submit
 * returns);
 *   - the request FIFO (uvsql__kit_queue_t), linked through uvsql__request_t.next;
 *   - the prepared-statement cache (uvsql__kit_lru_t): byte-keyed, least recently used first
 *     out, refcounted entries, an evict and a release callback;
 *   - deadlines (uvsql__kit_deadlines_t): a statement's timeout and a cancel's, one timer per
 *     connection, for every backend alike.
 *
 * Invariants:
 *  1. A connection that embeds a guard is freed only when uvsql__kit_guard_busy() is 0: no
 *     frame on the stack and no deferred call pending (each pending one holds the guard).
 *  2. on_last_leave runs exactly when the outermost frame leaves; it may free the owner (the
 *     caller of uvsql__kit_leave must not touch it after).
 *  3. A cache entry is freed when its last reference goes: the cache holds one while it is
 *     listed, each user (a request in flight, an evicted statement being closed) one more.
 *  4. Nothing here talks to a server or a client library: callbacks do that.
 * Loop thread only, except the FIFO and the cache, which are plain data (SQLite's worker uses
 * them under its own rules).
 */
#ifndef UVSQL_DIALECTS_KIT_H
#define UVSQL_DIALECTS_KIT_H

#include <stddef.h>
#include <stdint.h>
#include "driver.h"

/* The struct of type `type` whose member `member` is at ptr. */
#define UVSQL__KIT_OWNER(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* ------------------------------------------------------------------ call-frame guard */

typedef struct uvsql__kit_guard_s uvsql__kit_guard_t;
struct uvsql__kit_guard_s {
  int depth;   /* driver frames on the stack (callbacks may run inside them) */
  int holds;   /* deferred calls that will come back with this guard */
  int closing; /* close() was called */
  void (*closed_cb)(void *data);
  void *closed_data;
  /* The outermost frame left: finish a close asked inside a frame, or free what is done. */
  void (*on_last_leave)(uvsql__kit_guard_t *g);
};

void uvsql__kit_guard_init(uvsql__kit_guard_t *g, void (*on_last_leave)(uvsql__kit_guard_t *g));

static inline void uvsql__kit_enter(uvsql__kit_guard_t *g) {
  g->depth++;
}

/* Invariant 2: the owner may be gone when this returns. */
static inline void uvsql__kit_leave(uvsql__kit_guard_t *g) {
  if (--g->depth == 0)
    g->on_last_leave(g);
}

/* 1 while a frame is on the stack or a deferred call is pending (invariant 1). */
static inline int uvsql__kit_guard_busy(const uvsql__kit_guard_t *g) {
  return g->depth > 0 || g->holds > 0;
}

/* close(): records closed_cb once. Returns 1 when the caller finishes the close now (no frame
 * on the stack), 0 when it was closing already or the outermost leave will finish it. */
int uvsql__kit_guard_close(uvsql__kit_guard_t *g, void (*closed_cb)(void *data), void *data);

/* The owner is about to be freed: closed_cb (if any) runs from the loop's next iteration
 * (at once if that cannot be arranged: out of memory). */
void uvsql__kit_guard_closed(uvsql__kit_guard_t *g, uv_loop_t *loop);

/* ------------------------------------------------------------------ deferred calls */

/* fn(g) from the loop's next iteration, inside a frame, with the guard held meanwhile.
 * Scheduling it again while it is pending does nothing (one call serves both). The node is
 * embedded in its owner and needs no allocation: scheduling never fails, so work handed to
 * the loop (an idle connection's queue) is never lost to an out-of-memory error. Its zero
 * timer is closed after each call; the guard stays held until the close has ended (invariant
 * 1), and a schedule made meanwhile starts the timer again from the close callback. */
typedef struct uvsql__kit_deferred_s {
  uv_timer_t timer; /* initialised by schedule, closed after each call */
  uvsql__kit_guard_t *guard;
  void (*fn)(uvsql__kit_guard_t *g);
  int pending; /* scheduled, fn not called yet */
  int closing; /* fn called, the timer's close not ended yet */
  int again;   /* scheduled while closing */
} uvsql__kit_deferred_t;

void uvsql__kit_deferred_init(uvsql__kit_deferred_t *d, uvsql__kit_guard_t *g,
                              void (*fn)(uvsql__kit_guard_t *g));
/* Never fails (no allocation). */
void uvsql__kit_deferred_schedule(uvsql__kit_deferred_t *d, uv_loop_t *loop);

/* Fails req (done(req, NULL, err), err copied) from the loop's next iteration: contract 2,
 * never before submit returns. Out of memory twice over, it fails it at once. */
void uvsql__kit_fail_later(uv_loop_t *loop, uvsql__request_t *req, const uvsql_error_t *err);

/* Starts resolving host (TCP, any family, AI_ADDRCONFIG) with cb. 0, or UVSQL_ECONNECT with
 * err saying "could not connect to <where>: could not resolve ...". */
int uvsql__kit_resolve(uv_loop_t *loop, uv_getaddrinfo_t *gai, uv_getaddrinfo_cb cb,
                       const char *host, const char *port, const char *where, uvsql_error_t *err);

/* A URL option's yes/no value: on, true, 1, yes -> *out = 1; off, false, 0, no -> *out = 0
 * (any case). 0, or -1 (*out untouched) for anything else. */
int uvsql__kit_parse_bool(const char *v, int *out);

/* ------------------------------------------------------------------ request FIFO */

typedef struct uvsql__kit_queue_s {
  uvsql__request_t *head, *tail;
} uvsql__kit_queue_t;

static inline void uvsql__kit_queue_push(uvsql__kit_queue_t *q, uvsql__request_t *req) {
  req->next = NULL;
  if (q->tail)
    q->tail->next = req;
  else
    q->head = req;
  q->tail = req;
}

static inline void uvsql__kit_queue_push_front(uvsql__kit_queue_t *q, uvsql__request_t *req) {
  req->next = q->head;
  q->head = req;
  if (!q->tail)
    q->tail = req;
}

/* The head, unlinked (next cleared), or NULL. */
static inline uvsql__request_t *uvsql__kit_queue_pop(uvsql__kit_queue_t *q) {
  uvsql__request_t *req = q->head;
  if (req) {
    q->head = req->next;
    if (!q->head)
      q->tail = NULL;
    req->next = NULL;
  }
  return req;
}

/* Empties q and returns its old list (still linked through next). */
static inline uvsql__request_t *uvsql__kit_queue_take_all(uvsql__kit_queue_t *q) {
  uvsql__request_t *req = q->head;
  q->head = q->tail = NULL;
  return req;
}

/* Unlinks req: 1, or 0 when it is not in q. */
int uvsql__kit_queue_remove(uvsql__kit_queue_t *q, uvsql__request_t *req);
int uvsql__kit_queue_contains(const uvsql__kit_queue_t *q, const uvsql__request_t *req);

/* ------------------------------------------------------------------ statement cache (LRU) */

/* A cache entry is the first member of the backend's own struct (entry_size bytes in all);
 * the key's bytes follow that struct in the same allocation. */
typedef struct uvsql__kit_lru_entry_s uvsql__kit_lru_entry_t;
struct uvsql__kit_lru_entry_s {
  uvsql__kit_lru_entry_t *hnext;       /* bucket chain */
  uvsql__kit_lru_entry_t *prev, *next; /* use order, most recent first */
  uint64_t hash;
  const char *key; /* key1, NUL, key2 */
  size_t keylen;
  int refs;   /* invariant 3 */
  int listed; /* in the table and the use list */
};

typedef struct uvsql__kit_lru_s uvsql__kit_lru_t;
typedef void (*uvsql__kit_lru_fn)(uvsql__kit_lru_t *c, uvsql__kit_lru_entry_t *e);

struct uvsql__kit_lru_s {
  uvsql__kit_lru_entry_t **buckets; /* a power of two, made on first add */
  size_t nbuckets;
  uvsql__kit_lru_entry_t *mru, *lru;
  size_t count, cap; /* count <= cap; cap 0: the cache is off (nothing is ever listed) */
  size_t entry_size;
  /* add() made room: e is unlisted and the cache's reference is now the callback's, which
   * drops it (uvsql__kit_lru_unref) now or once it has closed the statement. NULL: dropped. */
  uvsql__kit_lru_fn evict;
  /* The last reference went: free what the entry holds (the entry itself is freed after). */
  uvsql__kit_lru_fn release;
  uint64_t hits, misses; /* for tests and stats */
};

/* cap < 0 counts as 0. entry_size >= sizeof(uvsql__kit_lru_entry_t). */
void uvsql__kit_lru_init(uvsql__kit_lru_t *c, int cap, size_t entry_size, uvsql__kit_lru_fn evict,
                         uvsql__kit_lru_fn release);
/* The listed entry for the key (key1, key2: key2 may be NULL with len2 0), made most recently
 * used; NULL if none. No reference is added. */
uvsql__kit_lru_entry_t *uvsql__kit_lru_get(uvsql__kit_lru_t *c, const void *key1, size_t len1,
                                           const void *key2, size_t len2);
/* Lists a new zeroed entry for the key (refs 1, the cache's) and returns it, or NULL when the
 * cache is off or out of memory. When full, the least recently used is evicted first. */
uvsql__kit_lru_entry_t *uvsql__kit_lru_add(uvsql__kit_lru_t *c, const void *key1, size_t len1,
                                           const void *key2, size_t len2);
/* Unlists the least recently used entry and returns it with the cache's reference, now the
 * caller's; NULL when empty. */
uvsql__kit_lru_entry_t *uvsql__kit_lru_evict(uvsql__kit_lru_t *c);
/* 1 when the next add evicts. */
static inline int uvsql__kit_lru_full(const uvsql__kit_lru_t *c) {
  return c->cap > 0 && c->count >= c->cap;
}
/* Unlists e and drops the cache's reference; no effect if it is not listed. */
void uvsql__kit_lru_remove(uvsql__kit_lru_t *c, uvsql__kit_lru_entry_t *e);
static inline void uvsql__kit_lru_ref(uvsql__kit_lru_entry_t *e) {
  e->refs++;
}
/* Drops a reference (accepts NULL); the last one releases and frees e. */
void uvsql__kit_lru_unref(uvsql__kit_lru_t *c, uvsql__kit_lru_entry_t *e);
/* Unlists everything (entries still referenced live on) and frees the table. */
void uvsql__kit_lru_free(uvsql__kit_lru_t *c);

/* ------------------------------------------------------------------ deadlines */

/* Every request that waits on the network gets a bound, written once here for all backends:
 *
 *   submit (req->timeout > 0) --timeout passes--> req->expired(req) (the owner settles its
 *     caller with UVSQL_ETIMEOUT), driver->cancel(req): withdrawn, or cancelled on the server
 *   cancel (timeout or uvsql__kit_deadlines_cancel) --cancel_timeout passes, no done yet-->
 *     driver->abort(dc): broken, every request fails with UVSQL_EDISCONNECT
 *   done (any time) --> untracked, the owner's done runs
 *
 * A tracked request's done goes through the kit (req->dl.done keeps the owner's), so the
 * driver needs no help: it only keeps contract 4 (nothing sent while its cancel is in flight).
 * One timer per connection, armed for the earliest due request (it may fire early: it then
 * re-arms); unreferenced, since a request in flight keeps the loop alive through its driver.
 * Tracking is O(1), a timer pass O(tracked). Loop thread only.
 * Owner: the engine's connection embeds one (zeroed = unused); it calls
 * uvsql__kit_deadlines_close once the driver connection is closed (nothing tracked). */
typedef struct uvsql__kit_deadlines_s {
  uv_loop_t *loop;
  uv_timer_t *timer;      /* made on first use; freed by its close callback */
  uvsql__request_t *head; /* tracked requests, unordered */
  uint64_t armed_ms;      /* when the timer fires, 0 when it is stopped */
  uint64_t cancel_ms;     /* how long a cancel may take */
  uvsql__dconn_t *dc;     /* the connection the tracked requests run on */
  int closed;
} uvsql__kit_deadlines_t;

/* cancel_timeout in seconds (<= 0: 5). */
void uvsql__kit_deadlines_init(uvsql__kit_deadlines_t *d, uv_loop_t *loop, double cancel_timeout);
/* Submits req to dc (driver->submit), tracking its deadline when req->timeout > 0. */
void uvsql__kit_deadlines_submit(uvsql__kit_deadlines_t *d, uvsql__dconn_t *dc,
                                 uvsql__request_t *req);
/* driver->cancel(dc, req) with a deadline on the cancel itself. Returns what cancel returned. */
int uvsql__kit_deadlines_cancel(uvsql__kit_deadlines_t *d, uvsql__dconn_t *dc,
                                uvsql__request_t *req);
/* Stops and frees the timer. Requests still tracked are untracked (their done is restored). */
void uvsql__kit_deadlines_close(uvsql__kit_deadlines_t *d);

#endif
