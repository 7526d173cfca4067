/* src/orm/identity_map.c — the session's identity map: one object per (mapper, primary key),
 * a chained hash table of object headers (h->hnext, h->hash), and the key helpers it is built
 * on (the key of an object body, key hashing, value equality).
 *
 * Invariants:
 *  1. The identity map holds an object iff its state is PERSISTENT (a flushed deletion
 *     leaves it; the journal puts it back on rollback). h->hash is valid while it is there.
 *  2. nbuckets is 0 or a power of two, and never below count once something was put: a put
 *     that would pass it doubles the table first (uvsql__idmap_reserve grows it at once).
 *  3. A chain holds objects of any mapper: a match needs the same hash, mapper and key; keys
 *     of a hierarchy hash by its base (root), and a find by the base matches a subclass object.
 * Who calls it: the loaders (rows into objects), the flush (new rows in, deleted rows out),
 * the session (get, expunge, rollback) and bulk_sync.c (FETCH keys). It owns only its bucket
 * array, never the objects.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static inline const void *fptr(const uvsql_mapper_t *m, const void *st, size_t i) {
  return (const unsigned char *)st + m->model->fields[i].offset;
}
static inline uint64_t nulls(const uvsql_mapper_t *m, const void *st) {
  return *(const uint64_t *)((const unsigned char *)st + m->model->nulls_offset);
}

static uint64_t mix(uint64_t h, uint64_t x) {
  h ^= x + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
  return h;
}

int uvsql__uuid_of_value(const uvsql_value_t *v, uvsql_uuid_t *out) {
  if (v->type == UVSQL_TYPE_UUID) {
    memcpy(out->b, v->u.uuid, 16);
    return 0;
  }
  if (v->type == UVSQL_TYPE_BYTES && v->u.s.len == 16) {
    memcpy(out->b, v->u.s.ptr, 16);
    return 0;
  }
  if (v->type == UVSQL_TYPE_TEXT && uvsql_uuid_parse(v->u.s.ptr, v->u.s.len, out) == 0)
    return 0;
  return -1;
}

/* A UUID key equals the same 16 bytes as BYTES (a SQLite BLOB read without its column's
 * declared type), and hashes the same (uvsql__pk_hash). */
int uvsql__value_equal(const uvsql_value_t *a, const uvsql_value_t *b) {
  if (a->type == UVSQL_TYPE_NULL || b->type == UVSQL_TYPE_NULL)
    return a->type == b->type;
  if (a->type == UVSQL_TYPE_UUID || b->type == UVSQL_TYPE_UUID) {
    uvsql_uuid_t x, y;
    return (a->type == UVSQL_TYPE_UUID || a->type == UVSQL_TYPE_BYTES) &&
           (b->type == UVSQL_TYPE_UUID || b->type == UVSQL_TYPE_BYTES) &&
           uvsql__uuid_of_value(a, &x) == 0 && uvsql__uuid_of_value(b, &y) == 0 &&
           memcmp(x.b, y.b, 16) == 0;
  }
  switch (a->type) {
  case UVSQL_TYPE_ARRAY: /* element by element (array_field.c) */
    return b->type == UVSQL_TYPE_ARRAY &&
           !uvsql__array_differs(a->u.arr.items, a->u.arr.n, b->u.arr.items, b->u.arr.n);
  case UVSQL_TYPE_TEXT:
  case UVSQL_TYPE_BYTES:
    return (b->type == UVSQL_TYPE_TEXT || b->type == UVSQL_TYPE_BYTES) &&
           a->u.s.len == b->u.s.len && memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len) == 0;
  case UVSQL_TYPE_DOUBLE:
    return b->type == UVSQL_TYPE_DOUBLE && a->u.f64 == b->u.f64;
  case UVSQL_TYPE_BOOL:
    return b->type == UVSQL_TYPE_BOOL && a->u.b == b->u.b;
  case UVSQL_TYPE_NUMERIC: { /* by value: text or the fixed-size form (loop/internal.h) */
    uvsql_numeric_t x, y;
    return b->type == UVSQL_TYPE_NUMERIC && uvsql__value_numeric(a, &x) == 0 &&
           uvsql__value_numeric(b, &y) == 0 && uvsql_numeric_cmp(&x, &y) == 0;
  }
  default:
    return b->type != UVSQL_TYPE_TEXT && b->type != UVSQL_TYPE_BYTES &&
           b->type != UVSQL_TYPE_DOUBLE && a->u.i64 == b->u.i64;
  }
}

uint64_t uvsql__pk_hash(const uvsql_mapper_t *m, const uvsql_value_t *pk) {
  return uvsql__key_hash((uint64_t)(uintptr_t)(m->root ? m->root : m), pk, m->npk);
}

uint64_t uvsql__key_hash(uint64_t h, const uvsql_value_t *pk, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const uvsql_value_t *v = &pk[i];
    if (v->type == UVSQL_TYPE_TEXT || v->type == UVSQL_TYPE_BYTES || v->type == UVSQL_TYPE_UUID) {
      const unsigned char *s =
          v->type == UVSQL_TYPE_UUID ? v->u.uuid : (const unsigned char *)v->u.s.ptr;
      size_t len = v->type == UVSQL_TYPE_UUID ? 16 : v->u.s.len;
      uint64_t x = 1469598103934665603u;
      for (size_t k = 0; k < len; k++)
        x = (x ^ s[k]) * 1099511628211u;
      h = mix(h, x);
    } else if (v->type == UVSQL_TYPE_BOOL) {
      h = mix(h, (uint64_t)v->u.b);
    } else if (v->type == UVSQL_TYPE_NUMERIC) { /* equal values, equal doubles: one bucket */
      uvsql_numeric_t num;
      double d = uvsql__value_numeric(v, &num) == 0 ? uvsql_numeric_to_double(&num) : 0;
      uint64_t bits;
      memcpy(&bits, &d, sizeof bits);
      h = mix(h, bits);
    } else if (v->type != UVSQL_TYPE_NULL) {
      h = mix(h, (uint64_t)v->u.i64);
    }
  }
  return h;
}

void uvsql__obj_pk(const uvsql_mapper_t *m, const void *st, uvsql_value_t *out) {
  uint64_t nl = nulls(m, st);
  for (size_t i = 0; i < m->npk; i++) {
    size_t k = m->pk[i];
    const uvsql_field_t *f = &m->model->fields[k];
    if (f->kind == UVSQL_FIELD_INT64 && !(nl & (UINT64_C(1) << k))) /* the usual key */
      out[i] = UVSQL_V_INT64(*(const int64_t *)fptr(m, st, k));
    else
      out[i] = uvsql__field_value(m, st, k);
  }
}

uvsql__obj_t *uvsql__idmap_find(const uvsql__idmap_t *map, const uvsql_mapper_t *m,
                                const uvsql_value_t *pk) {
  return map->nbuckets ? uvsql__idmap_find_hashed(map, m, pk, uvsql__pk_hash(m, pk)) : NULL;
}

uvsql__obj_t *uvsql__idmap_find_hashed(const uvsql__idmap_t *map, const uvsql_mapper_t *m,
                                       const uvsql_value_t *pk, uint64_t hash) {
  if (!map->nbuckets)
    return NULL;
  for (uvsql__obj_t *h = map->buckets[hash & (map->nbuckets - 1)]; h; h = h->hnext) {
    if (h->hash != hash || (h->mapper != m && !uvsql__mapper_isa(h->mapper, m)))
      continue; /* a class finds its subclasses' objects too (inherit.c), any depth */
    uvsql_value_t mine[UVSQL__MAX_PK];
    uvsql__obj_pk(m, h->body, mine);
    size_t i = 0;
    while (i < m->npk && uvsql__value_equal(&mine[i], &pk[i]))
      i++;
    if (i == m->npk)
      return h;
  }
  return NULL;
}

/* Rehashes into at least `want` buckets (a power of two, at least double the present). */
static int grow_to(uvsql__idmap_t *map, size_t want) {
  size_t n = map->nbuckets ? map->nbuckets * 2 : 64;
  while (n < want)
    n *= 2;
  uvsql__obj_t **b = calloc(n, sizeof *b);
  if (!b)
    return UVSQL_ENOMEM;
  for (size_t i = 0; i < map->nbuckets; i++) {
    uvsql__obj_t *h = map->buckets[i];
    while (h) {
      uvsql__obj_t *next = h->hnext;
      h->hnext = b[h->hash & (n - 1)];
      b[h->hash & (n - 1)] = h;
      h = next;
    }
  }
  free(map->buckets);
  map->buckets = b;
  map->nbuckets = n;
  return 0;
}

static int grow(uvsql__idmap_t *map) {
  return grow_to(map, 0);
}

int uvsql__idmap_reserve(uvsql__idmap_t *map, size_t count) {
  return count > map->nbuckets ? grow_to(map, count) : 0;
}

int uvsql__idmap_put(uvsql__idmap_t *map, uvsql__obj_t *h) {
  uvsql_value_t pk[UVSQL__MAX_PK];
  uvsql__obj_pk(h->mapper, h->body, pk);
  return uvsql__idmap_put_hashed(map, h, uvsql__pk_hash(h->mapper, pk));
}

int uvsql__idmap_put_hashed(uvsql__idmap_t *map, uvsql__obj_t *h, uint64_t hash) {
  if (map->count + 1 > map->nbuckets && grow(map))
    return UVSQL_ENOMEM;
  h->hash = hash;
  size_t b = h->hash & (map->nbuckets - 1);
  h->hnext = map->buckets[b];
  map->buckets[b] = h;
  map->count++;
  return 0;
}

void uvsql__idmap_remove(uvsql__idmap_t *map, uvsql__obj_t *h) {
  if (!map->nbuckets)
    return;
  uvsql__obj_t **p = &map->buckets[h->hash & (map->nbuckets - 1)];
  while (*p && *p != h)
    p = &(*p)->hnext;
  if (*p) {
    *p = h->hnext;
    h->hnext = NULL;
    map->count--;
  }
}

void uvsql__idmap_free(uvsql__idmap_t *map) {
  free(map->buckets);
  map->buckets = NULL;
  map->nbuckets = map->count = 0;
}
