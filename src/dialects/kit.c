/* src/dialects/kit.c — the driver kit (kit.h): call-frame guard, deferred calls and request
 * failure, the request FIFO, the prepared-statement LRU. Invariants in kit.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "kit.h"

/* ------------------------------------------------------------------ call-frame guard */

void uvsql__kit_guard_init(uvsql__kit_guard_t *g, void (*on_last_leave)(uvsql__kit_guard_t *g)) {
  memset(g, 0, sizeof *g);
  g->on_last_leave = on_last_leave;
}

int uvsql__kit_guard_close(uvsql__kit_guard_t *g, void (*closed_cb)(void *data), void *data) {
  if (g->closing)
    return 0;
  g->closing = 1;
  g->closed_cb = closed_cb;
  g->closed_data = data;
  return g->depth == 0;
}

void uvsql__kit_guard_closed(uvsql__kit_guard_t *g, uv_loop_t *loop) {
  void (*cb)(void *data) = g->closed_cb;
  g->closed_cb = NULL;
  if (cb && uvsql__defer(loop, cb, g->closed_data) != 0)
    cb(g->closed_data); /* out of memory: late is worse than early here */
}

/* ------------------------------------------------------------------ deferred calls */

void uvsql__kit_deferred_init(uvsql__kit_deferred_t *d, uvsql__kit_guard_t *g,
                              void (*fn)(uvsql__kit_guard_t *g)) {
  d->guard = g;
  d->fn = fn;
  d->pending = d->closing = d->again = 0;
}

static void deferred_fire(uv_timer_t *t);

static void deferred_start(uvsql__kit_deferred_t *d, uv_loop_t *loop) {
  uv_timer_init(loop, &d->timer); /* cannot fail */
  d->timer.data = d;
  uv_timer_start(&d->timer, deferred_fire, 0, 0);
  d->pending = 1;
}

/* The timer is closed: give the guard back, or start it again for a schedule made meanwhile. */
static void deferred_closed(uv_handle_t *h) {
  uvsql__kit_deferred_t *d = h->data;
  uvsql__kit_guard_t *g = d->guard;
  d->closing = 0;
  if (d->again) {
    d->again = 0;
    deferred_start(d, h->loop); /* the guard stays held */
    return;
  }
  g->holds--;
  uvsql__kit_enter(g); /* the last hold may have gone: on_last_leave frees what is done */
  uvsql__kit_leave(g);
}

static void deferred_fire(uv_timer_t *t) {
  uvsql__kit_deferred_t *d = t->data;
  uvsql__kit_guard_t *g = d->guard;
  d->pending = 0;
  d->closing = 1;
  uv_close((uv_handle_t *)&d->timer, deferred_closed);
  uvsql__kit_enter(g);
  d->fn(g);
  uvsql__kit_leave(g); /* the hold keeps the owner until deferred_closed */
}

void uvsql__kit_deferred_schedule(uvsql__kit_deferred_t *d, uv_loop_t *loop) {
  if (d->pending || d->again)
    return;
  if (d->closing) {
    d->again = 1; /* deferred_closed starts it */
    return;
  }
  d->guard->holds++;
  deferred_start(d, loop);
}

typedef struct {
  uvsql__request_t *req;
  uvsql_error_t err;
} late_failure_t;

static void on_late_failure(void *arg) {
  late_failure_t *lf = arg;
  lf->req->done(lf->req, NULL, &lf->err);
  free(lf);
}

void uvsql__kit_fail_later(uv_loop_t *loop, uvsql__request_t *req, const uvsql_error_t *err) {
  late_failure_t *lf = malloc(sizeof *lf);
  if (lf) {
    lf->req = req;
    lf->err = *err;
    if (uvsql__defer(loop, on_late_failure, lf) == 0)
      return;
    free(lf);
  }
  req->done(req, NULL, err); /* out of memory twice over: failing now beats never */
}

int uvsql__kit_resolve(uv_loop_t *loop, uv_getaddrinfo_t *gai, uv_getaddrinfo_cb cb,
                       const char *host, const char *port, const char *where, uvsql_error_t *err) {
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  int rc = uv_getaddrinfo(loop, gai, cb, host, port, &hints);
  if (rc != 0)
    return uvsql__error_set(err, UVSQL_ECONNECT,
                            "could not connect to %s: could not resolve \"%s\": %s", where, host,
                            uv_strerror(rc));
  return 0;
}

int uvsql__kit_parse_bool(const char *v, int *out) {
  if (!v)
    return -1;
  if (!strcasecmp(v, "on") || !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes")) {
    *out = 1;
    return 0;
  }
  if (!strcasecmp(v, "off") || !strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no")) {
    *out = 0;
    return 0;
  }
  return -1;
}

/* ------------------------------------------------------------------ request FIFO */

int uvsql__kit_queue_remove(uvsql__kit_queue_t *q, uvsql__request_t *req) {
  uvsql__request_t *prev = NULL;
  for (uvsql__request_t *r = q->head; r; prev = r, r = r->next) {
    if (r != req)
      continue;
    if (prev)
      prev->next = r->next;
    else
      q->head = r->next;
    if (q->tail == r)
      q->tail = prev;
    r->next = NULL;
    return 1;
  }
  return 0;
}

int uvsql__kit_queue_contains(const uvsql__kit_queue_t *q, const uvsql__request_t *req) {
  for (const uvsql__request_t *r = q->head; r; r = r->next)
    if (r == req)
      return 1;
  return 0;
}

/* ------------------------------------------------------------------ statement cache (LRU) */

/* One part of the key into h, eight bytes a step (SQL texts are tens to thousands of bytes):
 * each word is mixed in with a multiply, and the high half folded down, since buckets take
 * the low bits. */
static uint64_t hash_part(uint64_t h, const unsigned char *p, size_t len) {
  const uint64_t m = UINT64_C(0x9E3779B97F4A7C15);
  uint64_t w;
  for (; len >= 8; p += 8, len -= 8) {
    memcpy(&w, p, 8);
    h = (h ^ w) * m;
    h ^= h >> 32;
  }
  w = 0;
  memcpy(&w, p, len);
  h = (h ^ w ^ ((uint64_t)len << 56)) * m;
  return h ^ (h >> 29);
}

static uint64_t key_hash(const void *key1, size_t len1, const void *key2, size_t len2) {
  uint64_t h = hash_part(UINT64_C(14695981039346656037), key1, len1);
  return len2 ? hash_part(h, key2, len2) : h;
}

void uvsql__kit_lru_init(uvsql__kit_lru_t *c, int cap, size_t entry_size, uvsql__kit_lru_fn evict,
                         uvsql__kit_lru_fn release) {
  memset(c, 0, sizeof *c);
  c->cap = cap > 0 ? (size_t)cap : 0;
  c->entry_size = entry_size;
  c->evict = evict;
  c->release = release;
}

static void lru_unlink(uvsql__kit_lru_t *c, uvsql__kit_lru_entry_t *e) {
  if (e->prev)
    e->prev->next = e->next;
  else
    c->mru = e->next;
  if (e->next)
    e->next->prev = e->prev;
  else
    c->lru = e->prev;
  e->prev = e->next = NULL;
}

static void lru_push_front(uvsql__kit_lru_t *c, uvsql__kit_lru_entry_t *e) {
  e->prev = NULL;
  e->next = c->mru;
  if (c->mru)
    c->mru->prev = e;
  c->mru = e;
  if (!c->lru)
    c->lru = e;
}

uvsql__kit_lru_entry_t *uvsql__kit_lru_get(uvsql__kit_lru_t *c, const void *key1, size_t len1,
                                           const void *key2, size_t len2) {
  if (!c->buckets)
    return NULL;
  uint64_t h = key_hash(key1, len1, key2, len2);
  size_t keylen = len1 + 1 + len2;
  for (uvsql__kit_lru_entry_t *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->hnext) {
    if (e->hash == h && e->keylen == keylen && memcmp(e->key, key1, len1) == 0 &&
        (len2 == 0 || memcmp(e->key + len1 + 1, key2, len2) == 0)) {
      if (c->mru != e) {
        lru_unlink(c, e);
        lru_push_front(c, e);
      }
      c->hits++;
      return e;
    }
  }
  c->misses++;
  return NULL;
}

void uvsql__kit_lru_unref(uvsql__kit_lru_t *c, uvsql__kit_lru_entry_t *e) {
  if (e && --e->refs == 0) {
    if (c->release)
      c->release(c, e);
    free(e);
  }
}

/* Unlists e; the cache's reference is the caller's. */
static void unlist(uvsql__kit_lru_t *c, uvsql__kit_lru_entry_t *e) {
  uvsql__kit_lru_entry_t **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
  while (*pp != e)
    pp = &(*pp)->hnext;
  *pp = e->hnext;
  e->hnext = NULL;
  lru_unlink(c, e);
  e->listed = 0;
  c->count--;
}

void uvsql__kit_lru_remove(uvsql__kit_lru_t *c, uvsql__kit_lru_entry_t *e) {
  if (!e || !e->listed)
    return;
  unlist(c, e);
  uvsql__kit_lru_unref(c, e);
}

uvsql__kit_lru_entry_t *uvsql__kit_lru_evict(uvsql__kit_lru_t *c) {
  uvsql__kit_lru_entry_t *e = c->lru;
  if (e)
    unlist(c, e);
  return e;
}

uvsql__kit_lru_entry_t *uvsql__kit_lru_add(uvsql__kit_lru_t *c, const void *key1, size_t len1,
                                           const void *key2, size_t len2) {
  if (c->cap == 0)
    return NULL;
  if (!c->buckets) {
    size_t nb = 8;
    while (nb < c->cap * 2)
      nb *= 2;
    if (!(c->buckets = calloc(nb, sizeof *c->buckets)))
      return NULL;
    c->nbuckets = nb;
  }
  size_t keylen = len1 + 1 + len2;
  uvsql__kit_lru_entry_t *e = calloc(1, c->entry_size + keylen);
  if (!e)
    return NULL;
  char *key = (char *)e + c->entry_size;
  memcpy(key, key1, len1);
  key[len1] = '\0';
  if (len2)
    memcpy(key + len1 + 1, key2, len2);
  e->key = key;
  e->keylen = keylen;
  e->hash = key_hash(key1, len1, key2, len2);
  if (c->count >= c->cap) {
    uvsql__kit_lru_entry_t *old = uvsql__kit_lru_evict(c);
    if (c->evict)
      c->evict(c, old);
    else
      uvsql__kit_lru_unref(c, old);
  }
  size_t b = e->hash & (c->nbuckets - 1);
  e->hnext = c->buckets[b];
  c->buckets[b] = e;
  lru_push_front(c, e);
  e->listed = 1;
  e->refs = 1;
  c->count++;
  return e;
}

void uvsql__kit_lru_free(uvsql__kit_lru_t *c) {
  while (c->mru)
    uvsql__kit_lru_remove(c, c->mru);
  free(c->buckets);
  c->buckets = NULL;
  c->nbuckets = 0;
}

/* ------------------------------------------------------------------ deadlines */

void uvsql__kit_deadlines_init(uvsql__kit_deadlines_t *d, uv_loop_t *loop, double cancel_timeout) {
  memset(d, 0, sizeof *d);
  d->loop = loop;
  d->cancel_ms = (uint64_t)((cancel_timeout > 0 ? cancel_timeout : 5.0) * 1000.0 + 0.5);
  if (d->cancel_ms == 0)
    d->cancel_ms = 1;
}

static void dl_unlink(uvsql__kit_deadlines_t *d, uvsql__request_t *req) {
  if (req->dl.prev)
    req->dl.prev->dl.next = req->dl.next;
  else
    d->head = req->dl.next;
  if (req->dl.next)
    req->dl.next->dl.prev = req->dl.prev;
  req->dl.prev = req->dl.next = NULL;
  req->dl.list = NULL;
  req->done = req->dl.done;
}

/* The kit's done for tracked requests: untrack, then the owner's. */
static void dl_done(uvsql__request_t *req, uvsql_result_t *result, const uvsql_error_t *err) {
  dl_unlink(req->dl.list, req);
  req->done(req, result, err);
}

static void dl_fire(uv_timer_t *t);

static void dl_arm(uvsql__kit_deadlines_t *d, uint64_t due) {
  uint64_t now;
  if (d->closed)
    return;
  if (!d->timer) {
    if (!(d->timer = malloc(sizeof *d->timer)))
      return; /* out of memory: the request keeps no deadline (as before deadlines existed) */
    uv_timer_init(d->loop, d->timer);
    uv_unref((uv_handle_t *)d->timer);
    d->timer->data = d;
  }
  if (d->armed_ms && d->armed_ms <= due)
    return;
  now = uv_now(d->loop);
  d->armed_ms = due;
  uv_timer_start(d->timer, dl_fire, due > now ? due - now : 0, 0);
}

static void dl_track(uvsql__kit_deadlines_t *d, uvsql__request_t *req, uint64_t due, int phase) {
  if (!req->dl.list) {
    req->dl.done = req->done;
    req->done = dl_done;
    req->dl.list = d;
    req->dl.prev = NULL;
    req->dl.next = d->head;
    if (d->head)
      d->head->dl.prev = req;
    d->head = req;
  }
  req->dl.due_ms = due;
  req->dl.phase = phase;
  dl_arm(d, due);
}

static void dl_fire(uv_timer_t *t) {
  uvsql__kit_deadlines_t *d = t->data;
  uint64_t now = uv_now(d->loop), next = 0;
  d->armed_ms = 0;
restart:
  for (uvsql__request_t *req = d->head; req && !d->closed; req = req->dl.next) {
    if (req->dl.phase >= 2)
      continue;
    if (req->dl.due_ms > now) {
      if (!next || req->dl.due_ms < next)
        next = req->dl.due_ms;
      continue;
    }
    uvsql__dconn_t *dc = d->dc;
    if (req->dl.phase == 0) {
      req->dl.phase = 1;
      req->dl.due_ms = now + d->cancel_ms;
      if (req->expired)
        req->expired(req);               /* the owner settles its caller; req lives until done */
      (void)dc->driver->cancel(dc, req); /* may call done now: untracked */
    } else {
      char why[160];
      req->dl.phase = 2;
      snprintf(why, sizeof why,
               "the server did not answer a cancel request within %.3g s: the connection was "
               "closed",
               (double)d->cancel_ms / 1000.0);
      if (dc->driver->abort)
        dc->driver->abort(dc, why); /* fails every request: all untracked */
    }
    next = 0;
    goto restart; /* callbacks may have changed the list */
  }
  if (next && !d->closed)
    dl_arm(d, next);
}

void uvsql__kit_deadlines_submit(uvsql__kit_deadlines_t *d, uvsql__dconn_t *dc,
                                 uvsql__request_t *req) {
  req->dl.list = NULL;
  req->dl.phase = 0;
  d->dc = dc;
  if (req->timeout > 0 && !d->closed)
    dl_track(d, req, uv_now(d->loop) + (uint64_t)(req->timeout * 1000.0 + 0.5), 0);
  dc->driver->submit(dc, req);
}

int uvsql__kit_deadlines_cancel(uvsql__kit_deadlines_t *d, uvsql__dconn_t *dc,
                                uvsql__request_t *req) {
  d->dc = dc;
  int tracked = !d->closed && (!req->dl.list || req->dl.phase == 0);
  if (tracked)
    dl_track(d, req, uv_now(d->loop) + d->cancel_ms, 1); /* before cancel: it may call done */
  int rc = dc->driver->cancel(dc, req);
  if (rc != 0 && tracked && req->dl.list == d && req->timeout <= 0)
    dl_unlink(d, req); /* not on this connection after all */
  return rc;
}

static void dl_timer_closed(uv_handle_t *h) {
  free(h);
}

void uvsql__kit_deadlines_close(uvsql__kit_deadlines_t *d) {
  while (d->head)
    dl_unlink(d, d->head);
  d->closed = 1;
  if (d->timer) {
    uv_timer_stop(d->timer);
    uv_close((uv_handle_t *)d->timer, dl_timer_closed);
    d->timer = NULL;
  }
}
