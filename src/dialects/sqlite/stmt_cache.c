/* src/dialects/sqlite/stmt_cache.c — a connection's prepared statements, kept by SQL text.
 *
 * A hash table (chained, FNV-1a over the exact SQL bytes) for lookup plus a doubly linked list
 * in recency order for eviction: get and put are O(1), the least recently used statement is
 * finalized when the cache is full.
 *
 * Invariants:
 *  1. Used on the connection's worker thread only (statements belong to its sqlite3 handle).
 *  2. count <= capacity; capacity 0 means disabled: nothing is kept.
 *  3. A cached statement is always reset with its bindings cleared when it is not in use (the
 *     executor resets it before the next request, see execute.c), so evicting one is safe.
 *  4. Keys are copies of the SQL text: the request's text is the engine's and goes away.
 */
#include <stdlib.h>
#include <string.h>
#include "sqlite.h"

struct uvsql__sq_cached_s {
  uvsql__sq_cached_t *hnext;       /* bucket chain */
  uvsql__sq_cached_t *prev, *next; /* recency list, head = most recent */
  uint64_t hash;
  size_t len;
  sqlite3_stmt *stmt;
  char sql[]; /* len bytes + NUL */
};

static uint64_t hash_sql(const char *s, size_t len) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ull;
  }
  return h;
}

int uvsql__sq_cache_init(uvsql__sq_cache_t *c, int capacity) {
  memset(c, 0, sizeof *c);
  if (capacity <= 0)
    return 0;
  size_t n = 8;
  while (n < (size_t)capacity * 2)
    n *= 2;
  c->buckets = calloc(n, sizeof *c->buckets);
  if (!c->buckets)
    return UVSQL_ENOMEM;
  c->nbuckets = n;
  c->capacity = capacity;
  return 0;
}

static void lru_unlink(uvsql__sq_cache_t *c, uvsql__sq_cached_t *e) {
  if (e->prev)
    e->prev->next = e->next;
  else
    c->lru_head = e->next;
  if (e->next)
    e->next->prev = e->prev;
  else
    c->lru_tail = e->prev;
  e->prev = e->next = NULL;
}

static void lru_push_front(uvsql__sq_cache_t *c, uvsql__sq_cached_t *e) {
  e->prev = NULL;
  e->next = c->lru_head;
  if (c->lru_head)
    c->lru_head->prev = e;
  else
    c->lru_tail = e;
  c->lru_head = e;
}

static void hash_unlink(uvsql__sq_cache_t *c, uvsql__sq_cached_t *e) {
  uvsql__sq_cached_t **p = &c->buckets[e->hash & (c->nbuckets - 1)];
  while (*p != e)
    p = &(*p)->hnext;
  *p = e->hnext;
}

sqlite3_stmt *uvsql__sq_cache_get(uvsql__sq_cache_t *c, const char *sql, size_t len) {
  if (!c->nbuckets)
    return NULL;
  uint64_t h = hash_sql(sql, len);
  for (uvsql__sq_cached_t *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->hnext) {
    if (e->hash == h && e->len == len && memcmp(e->sql, sql, len) == 0) {
      if (c->lru_head != e) {
        lru_unlink(c, e);
        lru_push_front(c, e);
      }
      c->hits++;
      return e->stmt;
    }
  }
  c->misses++;
  return NULL;
}

int uvsql__sq_cache_put(uvsql__sq_cache_t *c, const char *sql, size_t len, sqlite3_stmt *stmt) {
  if (!c->nbuckets) {
    sqlite3_finalize(stmt);
    return 0;
  }
  uvsql__sq_cached_t *e = malloc(sizeof *e + len + 1);
  if (!e) {
    sqlite3_finalize(stmt);
    return 0;
  }
  if (c->count == c->capacity) {
    uvsql__sq_cached_t *old = c->lru_tail;
    lru_unlink(c, old);
    hash_unlink(c, old);
    sqlite3_finalize(old->stmt);
    free(old);
    c->count--;
  }
  e->hash = hash_sql(sql, len);
  e->len = len;
  e->stmt = stmt;
  memcpy(e->sql, sql, len);
  e->sql[len] = '\0';
  size_t b = e->hash & (c->nbuckets - 1);
  e->hnext = c->buckets[b];
  c->buckets[b] = e;
  lru_push_front(c, e);
  c->count++;
  return 1;
}

void uvsql__sq_cache_free(uvsql__sq_cache_t *c) {
  uvsql__sq_cached_t *e = c->lru_head;
  while (e) {
    uvsql__sq_cached_t *next = e->next;
    sqlite3_finalize(e->stmt);
    free(e);
    e = next;
  }
  free(c->buckets);
  memset(c, 0, sizeof *c);
}
