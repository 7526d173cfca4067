/* src/dialects/mariadb/stmt_cache.c — the per-connection cache of prepared statements.
 *
 * Keyed by the SQL text alone (MySQL prepares without parameter types). A hash table finds an
 * entry; a doubly-linked list keeps them in use order, most recent first.
 *
 * Invariants:
 *  1. count <= cap; cap == 0 means the cache is off (nothing is ever listed).
 *  2. The cache never talks to the server: closing a statement (COM_STMT_CLOSE, which is I/O)
 *     is the caller's, done through mysql_stmt_close_start on the connection (exec.c).
 *     Evicting happens before a new statement is prepared, and only one statement runs at a
 *     time on a connection, so an evicted statement is never in use.
 */
#include <stdlib.h>
#include <string.h>
#include "mariadb.h"

static uint64_t hash_sql(const char *sql, size_t len) {
  uint64_t h = UINT64_C(14695981039346656037);
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)sql[i]) * UINT64_C(1099511628211);
  return h;
}

void uvsql__my_cache_init(uvsql__my_cache_t *c, int cap) {
  memset(c, 0, sizeof *c);
  c->cap = cap > 0 ? cap : 0;
}

static void lru_unlink(uvsql__my_cache_t *c, uvsql__my_cached_t *e) {
  if (e->lru_prev)
    e->lru_prev->lru_next = e->lru_next;
  else
    c->mru = e->lru_next;
  if (e->lru_next)
    e->lru_next->lru_prev = e->lru_prev;
  else
    c->lru = e->lru_prev;
  e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(uvsql__my_cache_t *c, uvsql__my_cached_t *e) {
  e->lru_prev = NULL;
  e->lru_next = c->mru;
  if (c->mru)
    c->mru->lru_prev = e;
  c->mru = e;
  if (!c->lru)
    c->lru = e;
}

static uvsql__my_cached_t *find(uvsql__my_cache_t *c, const char *sql, size_t len) {
  if (!c->buckets)
    return NULL;
  uint64_t h = hash_sql(sql, len);
  for (uvsql__my_cached_t *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->hnext)
    if (e->hash == h && e->len == len && memcmp(e->sql, sql, len) == 0)
      return e;
  return NULL;
}

MYSQL_STMT *uvsql__my_cache_get(uvsql__my_cache_t *c, const char *sql, size_t len) {
  uvsql__my_cached_t *e = find(c, sql, len);
  if (!e)
    return NULL;
  if (c->mru != e) {
    lru_unlink(c, e);
    lru_push_front(c, e);
  }
  return e->stmt;
}

int uvsql__my_cache_full(const uvsql__my_cache_t *c) {
  return c->cap > 0 && c->count >= c->cap;
}

/* Unlists e and frees the entry (not its statement). */
static void unlist(uvsql__my_cache_t *c, uvsql__my_cached_t *e) {
  uvsql__my_cached_t **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
  while (*pp != e)
    pp = &(*pp)->hnext;
  *pp = e->hnext;
  lru_unlink(c, e);
  c->count--;
  free(e->sql);
  free(e);
}

MYSQL_STMT *uvsql__my_cache_evict(uvsql__my_cache_t *c) {
  uvsql__my_cached_t *e = c->lru;
  if (!e)
    return NULL;
  MYSQL_STMT *stmt = e->stmt;
  unlist(c, e);
  return stmt;
}

int uvsql__my_cache_put(uvsql__my_cache_t *c, const char *sql, size_t len, MYSQL_STMT *stmt) {
  if (c->cap == 0 || c->count >= c->cap)
    return -1;
  if (!c->buckets) {
    size_t nb = 8;
    while (nb < (size_t)c->cap * 2)
      nb *= 2;
    if (!(c->buckets = calloc(nb, sizeof *c->buckets)))
      return -1;
    c->nbuckets = nb;
  }
  uvsql__my_cached_t *e = calloc(1, sizeof *e);
  if (!e || !(e->sql = malloc(len + 1))) {
    free(e);
    return -1;
  }
  memcpy(e->sql, sql, len);
  e->sql[len] = '\0';
  e->len = len;
  e->hash = hash_sql(sql, len);
  e->stmt = stmt;
  size_t b = e->hash & (c->nbuckets - 1);
  e->hnext = c->buckets[b];
  c->buckets[b] = e;
  lru_push_front(c, e);
  c->count++;
  return 0;
}

void uvsql__my_cache_forget(uvsql__my_cache_t *c, MYSQL_STMT *stmt) {
  for (uvsql__my_cached_t *e = c->mru; e; e = e->lru_next) {
    if (e->stmt == stmt) {
      unlist(c, e);
      return;
    }
  }
}

void uvsql__my_cache_clear(uvsql__my_cache_t *c, void (*close_fn)(MYSQL_STMT *stmt)) {
  while (c->mru) {
    MYSQL_STMT *stmt = c->mru->stmt;
    unlist(c, c->mru);
    if (close_fn)
      close_fn(stmt);
  }
  free(c->buckets);
  c->buckets = NULL;
  c->nbuckets = 0;
}
