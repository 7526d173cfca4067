/* src/dialects/postgresql/stmt_cache.c — the per-connection cache of prepared statements.
 *
 * Keyed by the SQL text and the parameter OIDs (the same text bound with other types is
 * another server-side statement). A hash table finds an entry; a doubly-linked list keeps
 * them in use order, and the least recently used goes when the cache is full.
 *
 * Invariants:
 *  1. count <= cap; cap == 0 means the cache is off (nothing is ever listed).
 *  2. An entry is freed when its last reference goes: the cache holds one while it is listed,
 *     each request in flight holds one, so an entry evicted under a running request lives
 *     until that request is done.
 *  3. Names are "uvsql_<n>" with n never reused on the connection, so a DEALLOCATE still in
 *     the pipeline can never close a newer statement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pg.h"

static uint64_t key_hash(const char *sql, size_t len, const Oid *types, int n) {
  uint64_t h = UINT64_C(14695981039346656037);
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)sql[i]) * UINT64_C(1099511628211);
  for (int i = 0; i < n; i++)
    h = (h ^ types[i]) * UINT64_C(1099511628211);
  return h;
}

static int key_equal(const uvsql__pg_stmt_t *s, uint64_t h, const char *sql, size_t len,
                     const Oid *types, int n) {
  return s->hash == h && s->keylen == len + 1 + (size_t)n * sizeof(Oid) &&
         memcmp(s->key, sql, len) == 0 && s->key[len] == '\0' &&
         (n == 0 || memcmp(s->key + len + 1, types, (size_t)n * sizeof(Oid)) == 0);
}

void uvsql__pg_cache_init(uvsql__pg_cache_t *c, size_t cap) {
  memset(c, 0, sizeof *c);
  c->cap = cap;
}

static void lru_unlink(uvsql__pg_cache_t *c, uvsql__pg_stmt_t *s) {
  if (s->lru_prev)
    s->lru_prev->lru_next = s->lru_next;
  else
    c->mru = s->lru_next;
  if (s->lru_next)
    s->lru_next->lru_prev = s->lru_prev;
  else
    c->lru = s->lru_prev;
  s->lru_prev = s->lru_next = NULL;
}

static void lru_push_front(uvsql__pg_cache_t *c, uvsql__pg_stmt_t *s) {
  s->lru_prev = NULL;
  s->lru_next = c->mru;
  if (c->mru)
    c->mru->lru_prev = s;
  c->mru = s;
  if (!c->lru)
    c->lru = s;
}

uvsql__pg_stmt_t *uvsql__pg_cache_get(uvsql__pg_cache_t *c, const char *sql, size_t len,
                                      const Oid *types, int n) {
  if (!c->buckets)
    return NULL;
  uint64_t h = key_hash(sql, len, types, n);
  for (uvsql__pg_stmt_t *s = c->buckets[h & (c->nbuckets - 1)]; s; s = s->hnext) {
    if (key_equal(s, h, sql, len, types, n)) {
      if (c->mru != s) {
        lru_unlink(c, s);
        lru_push_front(c, s);
      }
      return s;
    }
  }
  return NULL;
}

void uvsql__pg_stmt_unref(uvsql__pg_stmt_t *s) {
  if (s && --s->refs == 0) {
    free(s->parse_err);
    free(s->key);
    free(s);
  }
}

void uvsql__pg_cache_remove(uvsql__pg_cache_t *c, uvsql__pg_stmt_t *s) {
  if (!s || !s->listed)
    return;
  uvsql__pg_stmt_t **pp = &c->buckets[s->hash & (c->nbuckets - 1)];
  while (*pp != s)
    pp = &(*pp)->hnext;
  *pp = s->hnext;
  s->hnext = NULL;
  lru_unlink(c, s);
  s->listed = 0;
  c->count--;
  uvsql__pg_stmt_unref(s);
}

uvsql__pg_stmt_t *uvsql__pg_cache_add(uvsql__pg_cache_t *c, const char *sql, size_t len,
                                      const Oid *types, int n, uvsql__pg_stmt_t **evicted) {
  uvsql__pg_stmt_t *s;
  *evicted = NULL;
  if (c->cap == 0)
    return NULL;
  if (!c->buckets) {
    size_t nb = 8;
    while (nb < c->cap * 2)
      nb *= 2;
    c->buckets = calloc(nb, sizeof *c->buckets);
    if (!c->buckets)
      return NULL;
    c->nbuckets = nb;
  }
  s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->keylen = len + 1 + (size_t)n * sizeof(Oid);
  s->key = malloc(s->keylen);
  if (!s->key) {
    free(s);
    return NULL;
  }
  memcpy(s->key, sql, len);
  s->key[len] = '\0';
  if (n)
    memcpy(s->key + len + 1, types, (size_t)n * sizeof(Oid));
  s->hash = key_hash(sql, len, types, n);
  snprintf(s->name, sizeof s->name, "uvsql_%lu", ++c->next_id);
  if (c->count >= c->cap) {
    uvsql__pg_stmt_t *old = c->lru;
    old->refs++; /* the caller's, to close it on the server */
    uvsql__pg_cache_remove(c, old);
    *evicted = old;
  }
  size_t b = s->hash & (c->nbuckets - 1);
  s->hnext = c->buckets[b];
  c->buckets[b] = s;
  lru_push_front(c, s);
  s->listed = 1;
  s->refs = 1;
  c->count++;
  return s;
}

void uvsql__pg_cache_free(uvsql__pg_cache_t *c) {
  while (c->mru)
    uvsql__pg_cache_remove(c, c->mru);
  free(c->buckets);
  c->buckets = NULL;
  c->nbuckets = 0;
}
