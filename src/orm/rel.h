/* src/orm/rel.h — relationships inside the ORM: the declaration (relationship.c), the
 * in-memory side (collections, references, back_populates), loading (loader.c, loader_*.c)
 * and the flush side (cascade.c).
 *
 * Invariants:
 *  1. A relationship joins the primary key of one mapper (the "keyed" side: the target of a
 *     many-to-one, the source of a one-to-many / one-to-one) to nkey fields of the other (the
 *     "holder": fks[i] holds part i of that key, pk order), of the same kinds (INT64, TEXT,
 *     any kind a key may have). Keys are compared and hashed as value arrays
 *     (uvsql__kmap_t, identity_map.c's hashing); a reference whose fk has a NULL part is NULL.
 *     A many-to-many's secondary table has m->npk source and target->npk target columns.
 *  2. Bit r->index of an object's header rel_loaded is set iff the relationship holds what
 *     the database holds as far as the session knows (loaded, or set by the program on an
 *     object the program made). A collection's `loaded` mirrors that bit.
 *  3. Collections hold borrowed pointers to objects of r->target; an object is in a
 *     collection at most once.
 */
#ifndef UVSQL_ORM_REL_H
#define UVSQL_ORM_REL_H

#include "internal.h"

#define UVSQL__MAX_RELS 64

struct uvsql_relationship_s {
  uvsql_mapper_t *m, *target;
  char *name;
  uvsql_rel_kind_t kind;
  size_t offset; /* of the field in m's struct */
  size_t index;  /* in m->rels, bit in rel_loaded */
  long fk;       /* MANY_TO_ONE: field of m; ONE_TO_MANY/ONE_TO_ONE: field of target; else -1
                    (fks[0]) */
  size_t nkey;   /* parts of the key: the keyed side's npk */
  long fks[UVSQL__MAX_PK]; /* the holder's fields, one per part of the keyed side's pk */
  uint64_t fkmask;         /* bits of fks that are not in the holder's own primary key: the
                              ones set to NULL when the reference is cleared */
  unsigned flags;
  uvsql_loader_t lazy;
  long order_by; /* field of target, or -1 */
  uvsql_relationship_t *back;
  uvsql_table_t *secondary;
  char *sec_source, *sec_target; /* as given: "a" or "a,b" (one column per key part) */
  char *sec_src[UVSQL__MAX_PK], *sec_tgt[UVSQL__MAX_PK]; /* split; nkey and target->npk */
  uvsql_core_stmt_t *sel; /* SELECT target ... WHERE key IN (:k ...), built on first use
                             (single-column keys; composite: built per chunk, loader.c) */
  uvsql_core_stmt_t *sec_ins, *sec_del; /* secondary INSERT / DELETE of one (a, b) row */
  uvsql_core_stmt_t *sec_del_by[2];     /* DELETE WHERE source (0) / target (1) column = :a */
};

static inline int uvsql__rel_many(const uvsql_relationship_t *r) {
  return r->kind == UVSQL_ONE_TO_MANY || r->kind == UVSQL_MANY_TO_MANY;
}
static inline uvsql_collection_t *uvsql__rel_coll(const uvsql_relationship_t *r, void *obj) {
  return (uvsql_collection_t *)((unsigned char *)obj + r->offset);
}
static inline void **uvsql__rel_ref(const uvsql_relationship_t *r, void *obj) {
  return (void **)((unsigned char *)obj + r->offset);
}
/* The mapper holding r's foreign key fields, and the one whose primary key they hold. */
static inline const uvsql_mapper_t *uvsql__rel_holder(const uvsql_relationship_t *r) {
  return r->kind == UVSQL_MANY_TO_ONE ? r->m : r->target;
}
static inline const uvsql_mapper_t *uvsql__rel_keyed(const uvsql_relationship_t *r) {
  return r->kind == UVSQL_MANY_TO_ONE ? r->target : r->m;
}
/* r's foreign key in holder (an object body of uvsql__rel_holder(r)) into out[r->nkey]
 * (borrowed): 1, or 0 when a part is NULL (no reference). */
int uvsql__rel_fk_values(const uvsql_relationship_t *r, const void *holder, uvsql_value_t *out);
/* Whether the key values a and b (n parts each) are equal. */
int uvsql__key_equal(const uvsql_value_t *a, const uvsql_value_t *b, size_t n);
void uvsql__rel_set_loaded(const uvsql_relationship_t *r, void *obj, int loaded);
int uvsql__coll_push(uvsql_collection_t *c, void *obj);
int uvsql__coll_has(const uvsql_collection_t *c, const void *obj);
/* Sorts a collection by r->order_by (stable). */
void uvsql__coll_sort(const uvsql_relationship_t *r, uvsql_collection_t *c);
/* The SELECT used by selectin and lazy loading: target's columns (then, for many-to-many,
 * the secondary's source column) WHERE the key IN (:k ...). */
uvsql_core_stmt_t *uvsql__rel_select(uvsql_relationship_t *r);
/* The same for a composite key (r->nkey > 1): WHERE (a = :n0 AND b = :n1) OR ... for nrows
 * keys, bind names names[row * nkey + part]. The caller owns the statement (NULL: OOM). */
uvsql_core_stmt_t *uvsql__rel_select_rows(uvsql_relationship_t *r, size_t nrows,
                                          char *const *names);

/* int64 -> pointer map (open addressing): object pointers as keys (distinct objects). */
typedef struct {
  int64_t *keys;
  void **vals;
  size_t cap, n;
} uvsql__i64map_t;
int uvsql__i64map_put(uvsql__i64map_t *mp, int64_t k, void *v); /* 0 or ENOMEM; replaces */
void *uvsql__i64map_get(const uvsql__i64map_t *mp, int64_t k);
void uvsql__i64map_free(uvsql__i64map_t *mp);
static inline int64_t uvsql__ptr_key(const void *obj) {
  return (int64_t)(intptr_t)obj;
}

/* Key (nk values, borrowed: they must outlive the map) -> pointer map, for matching loaded
 * rows to their parents by key of any kinds (relationship.c). */
typedef struct {
  size_t nk;
  uvsql_value_t *keys; /* cap * nk */
  uint64_t *hash;
  void **vals;
  size_t cap, n;
} uvsql__kmap_t;
void uvsql__kmap_init(uvsql__kmap_t *mp, size_t nk);
int uvsql__kmap_put(uvsql__kmap_t *mp, const uvsql_value_t *k, void *v); /* 0 or ENOMEM */
void *uvsql__kmap_get(const uvsql__kmap_t *mp, const uvsql_value_t *k);
void uvsql__kmap_free(uvsql__kmap_t *mp);

/* Object from row `row` of r, reading m's fields from column col0 on, through the identity
 * map (an object the session has is returned as it is). *out NULL when the key column is
 * NULL (an outer join's missing side). 0 or an error code (err filled). */
int uvsql__load_row(uvsql_session_t *s, const uvsql_mapper_t *m, const uvsql_result_t *r,
                    size_t row, size_t col0, void **out, uvsql_error_t *err);

#endif
