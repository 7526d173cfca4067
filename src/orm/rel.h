/* src/orm/rel.h — relationships inside the ORM: the declaration (relationship.c), the
 * in-memory side (collections, references, back_populates), loading (loader.c, loader_*.c)
 * and the flush side (cascade.c).
 *
 * Invariants:
 *  1. Every relationship joins two mappers with a single INT64 primary key through INT64
 *     columns (fk), so keys are compared and hashed as int64_t.
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
  long fk;       /* MANY_TO_ONE: field of m; ONE_TO_MANY/ONE_TO_ONE: field of target; else -1 */
  unsigned flags;
  uvsql_loader_t lazy;
  long order_by; /* field of target, or -1 */
  uvsql_relationship_t *back;
  uvsql_table_t *secondary;
  char *sec_source, *sec_target;
  uvsql_core_stmt_t *sel; /* SELECT target ... WHERE key IN (:k ...), built on first use */
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
static inline int64_t *uvsql__i64(const uvsql_mapper_t *m, void *obj, size_t field) {
  return (int64_t *)((unsigned char *)obj + m->model->fields[field].offset);
}
/* The object's primary key (invariant 1). */
static inline int64_t uvsql__obj_id(const uvsql_mapper_t *m, void *obj) {
  return *uvsql__i64(m, obj, m->pk[0]);
}
void uvsql__rel_set_loaded(const uvsql_relationship_t *r, void *obj, int loaded);
int uvsql__coll_push(uvsql_collection_t *c, void *obj);
int uvsql__coll_has(const uvsql_collection_t *c, const void *obj);
/* Sorts a collection by r->order_by (stable). */
void uvsql__coll_sort(const uvsql_relationship_t *r, uvsql_collection_t *c);
/* The SELECT used by selectin and lazy loading: target's columns (then, for many-to-many,
 * the secondary's source column) WHERE the key IN (:k ...). */
uvsql_core_stmt_t *uvsql__rel_select(uvsql_relationship_t *r);

/* int64 -> pointer map (open addressing), for matching loaded rows to their parents. */
typedef struct {
  int64_t *keys;
  void **vals;
  size_t cap, n;
} uvsql__i64map_t;
int uvsql__i64map_put(uvsql__i64map_t *mp, int64_t k, void *v); /* 0 or ENOMEM; replaces */
void *uvsql__i64map_get(const uvsql__i64map_t *mp, int64_t k);
void uvsql__i64map_free(uvsql__i64map_t *mp);

/* Object from row `row` of r, reading m's fields from column col0 on, through the identity
 * map (an object the session has is returned as it is). *out NULL when the key column is
 * NULL (an outer join's missing side). 0 or an error code (err filled). */
int uvsql__load_row(uvsql_session_t *s, const uvsql_mapper_t *m, const uvsql_result_t *r,
                    size_t row, size_t col0, void **out, uvsql_error_t *err);

#endif
