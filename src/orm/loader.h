/* src/orm/loader.h — the loading machinery shared by loader.c (plans, queries, joined
 * rows), loader_joined.c and loader_selectin.c (selectin levels, explicit lazy loads).
 *
 * A load (uvsql__load_t) runs inside one session operation (uvsql__session_custom), on the
 * session's connection: level by level, each level a set of jobs (one relationship for a set
 * of parents), every statement of a level sent before any result is read.
 */
#ifndef UVSQL_ORM_LOADER_H
#define UVSQL_ORM_LOADER_H

#include "rel.h"

#define UVSQL__SELECTIN_CHUNK 500

typedef struct uvsql__plan_s uvsql__plan_t;
struct uvsql__plan_s {
  uvsql_relationship_t *r; /* NULL for the root */
  uvsql_loader_t how;
  unsigned flags;        /* UVSQL_REL_INNERJOIN from the option */
  size_t depth;          /* root 0 */
  size_t col0;           /* JOINED: the target's first column in the row */
  uvsql_from_t *from;    /* JOINED: the target's alias in the query */
  uvsql__plan_t *parent; /* JOINED: the node whose objects it fills */
  size_t jindex;         /* JOINED: its index in the query's joined[] */
  char *path;            /* as given in the options, or NULL */
  uvsql__plan_t **kids;
  size_t nkids;
};

struct uvsql_orm_query_s {
  const uvsql_mapper_t *m;
  uvsql_core_stmt_t *stmt;
  uvsql__plan_t root;
  uvsql__plan_t **joined; /* every JOINED node, parents before children */
  size_t njoined;
  int populate; /* uvsql_orm_query_populate_existing */
};

/* A growable list of distinct objects. */
typedef struct {
  void **v;
  size_t n, cap;
  uvsql__i64map_t seen; /* by object pointer (one object per key in a session) */
} uvsql__objset_t;
int uvsql__objset_add(uvsql__objset_t *o, const uvsql_mapper_t *m, void *obj);
void uvsql__objset_free(uvsql__objset_t *o);

typedef struct uvsql__load_s uvsql__load_t;
typedef void (*uvsql__load_done)(uvsql__load_t *ld, const uvsql_error_t *err);

/* Starts loading node's children (and theirs) for parents (copied). done runs once, from a
 * statement callback, or before this returns when there is nothing to send. */
void uvsql__selectin(uvsql_session_t *s, const uvsql__plan_t *node, void *const *parents,
                     size_t nparents, uvsql__load_done done, void *data);
void *uvsql__load_data(uvsql__load_t *ld);
/* Adds one more (relationship, parents) job to a load about to start (lazy loading). */

/* Fills the joined relationships (q->joined) from r's rows; res gets the distinct roots in
 * order of first appearance. For each joined node q->joined[k] that has children, outs[k]
 * gets the distinct objects loaded into it (the parents of its selectin children). */
int uvsql__joined_rows(uvsql_session_t *s, const uvsql_orm_query_t *q, const uvsql_result_t *r,
                       uvsql_orm_result_t *res, uvsql__objset_t *outs, uvsql_error_t *err);

/* Puts child into parent.r (a collection: appended unless merge says it may be there
 * already; a reference: set), and sets child's back reference if that is not loaded. */
int uvsql__attach(const uvsql_relationship_t *r, void *parent, void *child, int merge);
/* Marks parent.r loaded before it is filled: a reference becomes NULL; returns whether the
 * collection already holds objects (appended by the program: merge them). */
int uvsql__begin_fill(const uvsql_relationship_t *r, void *parent);

#endif
