/* src/orm/loader_joined.c — uvsql_session_execute_query: one session operation that runs an
 * ORM query's select, turns its rows into objects with joined relationships de-duplicated
 * into their parents (collections filled in row order, then sorted by the relationship's
 * order_by), and then runs the selectin loaders (loader_selectin.c) before it settles.
 *
 * Invariants:
 *  1. Each root object appears once in the result, at its first row; an object's joined
 *     relationships (at any depth of a joined chain) are filled only if they were not loaded
 *     when the query met the object first (loader.c invariant 3), and marked loaded even
 *     when the outer join found nothing.
 *  2. The operation holds the session's queue from its start to its end: nothing else runs
 *     on the connection in between, and the statements of one selectin level are all
 *     queued before the first result is read.
 */
#include <stdlib.h>
#include <string.h>
#include "loader.h"

/* ------------------------------------------------------------------ helpers */

int uvsql__objset_add(uvsql__objset_t *o, const uvsql_mapper_t *m, void *obj) {
  (void)m; /* one object per key in a session: distinct objects are distinct pointers */
  int64_t id = uvsql__ptr_key(obj);
  if (uvsql__i64map_get(&o->seen, id))
    return 0;
  if (o->n == o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 64;
    void **v = realloc(o->v, cap * sizeof *v);
    if (!v)
      return UVSQL_ENOMEM;
    o->v = v;
    o->cap = cap;
  }
  o->v[o->n++] = obj;
  return uvsql__i64map_put(&o->seen, id, obj);
}

void uvsql__objset_free(uvsql__objset_t *o) {
  free(o->v);
  uvsql__i64map_free(&o->seen);
  memset(o, 0, sizeof *o);
}

int uvsql__begin_fill(const uvsql_relationship_t *r, void *parent) {
  uvsql__rel_set_loaded(r, parent, 1);
  if (!uvsql__rel_many(r)) {
    *uvsql__rel_ref(r, parent) = NULL;
    return 0;
  }
  return uvsql__rel_coll(r, parent)->n > 0;
}

int uvsql__attach(const uvsql_relationship_t *r, void *parent, void *child, int merge) {
  if (uvsql__rel_many(r)) {
    uvsql_collection_t *c = uvsql__rel_coll(r, parent);
    if (merge && uvsql__coll_has(c, child))
      return 0;
    int rc = uvsql__coll_push(c, child);
    if (rc)
      return rc;
  } else {
    *uvsql__rel_ref(r, parent) = child;
  }
  /* the back reference is complete too (a back collection would only be partial) */
  uvsql_relationship_t *b = r->back;
  if (b && !uvsql__rel_many(b) && !((uvsql__hdr(child)->rel_loaded >> b->index) & 1)) {
    *uvsql__rel_ref(b, child) = parent;
    uvsql__hdr(child)->rel_loaded |= UINT64_C(1) << b->index;
  }
  return 0;
}

/* Per joined node: which parents it fills (decided when the query meets a parent first). */
typedef struct {
  uvsql__i64map_t state; /* parent (pointer) -> FILL, FILL|MERGE, or SKIP (as a pointer value) */
  void **filled;         /* parents being filled, for the final sort */
  size_t n, cap;
  uvsql__i64map_t kids; /* one-to-many children attached (several joined nodes repeat rows) */
} jstate_t;

#define J_FILL  1u
#define J_MERGE 2u
#define J_SKIP  4u

static unsigned decide(jstate_t *js, const uvsql_relationship_t *r, void *parent, int *rc) {
  int64_t id = uvsql__ptr_key(parent);
  unsigned st = (unsigned)(uintptr_t)uvsql__i64map_get(&js->state, id);
  if (st)
    return st;
  if (uvsql__hdr(parent)->rel_loaded >> r->index & 1) {
    st = J_SKIP;
  } else {
    st = J_FILL | (uvsql__begin_fill(r, parent) ? J_MERGE : 0u);
    if (js->n == js->cap) {
      size_t cap = js->cap ? js->cap * 2 : 64;
      void **v = realloc(js->filled, cap * sizeof *v);
      if (!v) {
        *rc = UVSQL_ENOMEM;
        return J_SKIP;
      }
      js->filled = v;
      js->cap = cap;
    }
    js->filled[js->n++] = parent;
  }
  if (uvsql__i64map_put(&js->state, id, (void *)(uintptr_t)st))
    *rc = UVSQL_ENOMEM;
  return st;
}

/* The objects of joined node k and of its joined children in this row, under parent. */
static int fill_node(uvsql_session_t *s, const uvsql_orm_query_t *q, const uvsql__plan_t *k,
                     jstate_t *js, uvsql__objset_t *outs, const uvsql_result_t *r, size_t row,
                     void *parent, uvsql_error_t *err) {
  int rc = 0;
  unsigned st = decide(&js[k->jindex], k->r, parent, &rc);
  void *child;
  if (rc)
    return uvsql__error_set(err, rc, "out of memory loading rows");
  if ((rc = uvsql__load_row(s, k->r->target, r, row, k->col0, &child, err)) || !child)
    return rc;
  int merge = (st & J_MERGE) != 0;
  if ((st & J_FILL) && q->njoined > 1 && uvsql__rel_many(k->r)) {
    /* another joined node multiplies the rows: attach each child once */
    if (k->r->kind == UVSQL_MANY_TO_MANY) {
      merge = 1;
    } else {
      int64_t id = uvsql__ptr_key(child);
      if (uvsql__i64map_get(&js[k->jindex].kids, id))
        st = J_SKIP;
      else if (uvsql__i64map_put(&js[k->jindex].kids, id, child))
        return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory loading rows");
    }
  }
  if ((st & J_FILL) && uvsql__attach(k->r, parent, child, merge))
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory loading rows");
  if (k->nkids && uvsql__objset_add(&outs[k->jindex], k->r->target, child))
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory loading rows");
  for (size_t i = 0; rc == 0 && i < k->nkids; i++)
    if (k->kids[i]->how == UVSQL_LOAD_JOINED)
      rc = fill_node(s, q, k->kids[i], js, outs, r, row, child, err);
  return rc;
}

int uvsql__joined_rows(uvsql_session_t *s, const uvsql_orm_query_t *q, const uvsql_result_t *r,
                       uvsql_orm_result_t *res, uvsql__objset_t *outs, uvsql_error_t *err) {
  const uvsql_mapper_t *m = q->m;
  size_t n = uvsql_result_nrows(r), nj = q->njoined;
  if (uvsql_result_ncols(r) < m->model->nfields)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "an ORM query of %s must select its %zu columns first (build it "
                            "with uvsql_orm_query)",
                            m->model->type_name, m->model->nfields);
  res->objs = malloc((n ? n : 1) * sizeof *res->objs);
  jstate_t *js = nj ? calloc(nj, sizeof *js) : NULL;
  uvsql__i64map_t seen = {0};
  int rc = res->objs && (js || !nj)
               ? 0
               : uvsql__error_set(err, UVSQL_ENOMEM, "out of memory loading %zu rows", n);
  for (size_t row = 0; rc == 0 && row < n; row++) {
    void *obj;
    /* the row's class (inherit.c): a hierarchy's select places each class's columns */
    if ((rc = uvsql__load_row(s, uvsql__poly_mapper(m, r, row), r, row, 0, &obj, err)) || !obj)
      continue;
    if (nj) { /* each root once (invariant 1) */
      int64_t id = uvsql__ptr_key(obj);
      if (!uvsql__i64map_get(&seen, id)) {
        if (uvsql__i64map_put(&seen, id, obj)) {
          rc = uvsql__error_set(err, UVSQL_ENOMEM, "out of memory loading rows");
          break;
        }
        res->objs[res->n++] = obj;
      }
    } else {
      res->objs[res->n++] = obj;
    }
    for (size_t i = 0; rc == 0 && i < q->root.nkids; i++)
      if (q->root.kids[i]->how == UVSQL_LOAD_JOINED)
        rc = fill_node(s, q, q->root.kids[i], js, outs, r, row, obj, err);
  }
  for (size_t k = 0; k < nj; k++) {
    const uvsql_relationship_t *rel = q->joined[k]->r;
    for (size_t i = 0; rc == 0 && uvsql__rel_many(rel) && i < js[k].n; i++)
      uvsql__coll_sort(rel, uvsql__rel_coll(rel, js[k].filled[i]));
    free(js[k].filled);
    uvsql__i64map_free(&js[k].state);
    uvsql__i64map_free(&js[k].kids);
  }
  free(js);
  uvsql__i64map_free(&seen);
  return rc;
}

/* ------------------------------------------------------------------ the operation */

typedef struct {
  uvsql_session_t *s;
  uvsql_orm_query_t *q;
  uvsql_param_t *params;
  size_t nparams;
  uvsql_orm_result_t *res;
  uvsql__objset_t *outs; /* per joined node */
  int loads;             /* selectin loads running */
  int failed;
  int populate; /* the query's populate_existing when it was issued */
  uvsql_error_t err;
} xq_t;

static void xq_free(void *p) {
  xq_t *x = p;
  if (x->outs)
    for (size_t k = 0; k < x->q->njoined; k++)
      uvsql__objset_free(&x->outs[k]);
  free(x->outs);
  uvsql_orm_result_free(x->res);
  free(x->params);
  free(x);
}

static void result_free_cb(void *v) {
  uvsql_orm_result_free(v);
}

static void xq_finish(xq_t *x) {
  if (x->failed) {
    uvsql_error_t err = x->err;
    uvsql__session_custom_done(x->s, NULL, NULL, &err);
    return;
  }
  uvsql_orm_result_t *res = x->res;
  x->res = NULL;
  uvsql__session_custom_done(x->s, res, result_free_cb, NULL);
}

static void load_done(uvsql__load_t *ld, const uvsql_error_t *err) {
  xq_t *x = uvsql__load_data(ld);
  if (err && !x->failed) {
    x->failed = 1;
    x->err = *err;
  }
  if (--x->loads == 0)
    xq_finish(x);
}

static void xq_rows(uvsql_future_t *f, void *data) {
  xq_t *x = data;
  const uvsql_error_t *ferr = uvsql_future_error(f);
  if (ferr) {
    uvsql__session_custom_done(x->s, NULL, NULL, ferr);
    return;
  }
  size_t nk = x->q->njoined;
  x->res = calloc(1, sizeof *x->res);
  x->outs = calloc(nk ? nk : 1, sizeof *x->outs);
  if (!x->res || !x->outs) {
    uvsql_error_t err;
    uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory loading rows");
    uvsql__session_custom_done(x->s, NULL, NULL, &err);
    return;
  }
  if (uvsql__joined_rows(x->s, x->q, uvsql_future_value(f), x->res, x->outs, &x->err)) {
    uvsql_error_t err = x->err;
    uvsql__session_custom_done(x->s, NULL, NULL, &err);
    return;
  }
  /* selectin: the root's own selectin children, and those under each joined child; all
   * loads run side by side on the connection. One extra count keeps x alive meanwhile. */
  x->loads = 1;
  x->loads++;
  uvsql__selectin(x->s, &x->q->root, x->res->objs, x->res->n, load_done, x);
  for (size_t k = 0; k < nk; k++) { /* joined nodes' selectin children (joined ones: done) */
    const uvsql__plan_t *kid = x->q->joined[k];
    if (!x->outs[k].n)
      continue;
    x->loads++;
    uvsql__selectin(x->s, kid, x->outs[k].v, x->outs[k].n, load_done, x);
  }
  if (--x->loads == 0)
    xq_finish(x);
}

static void xq_start(uvsql_session_t *s, void *ctx) {
  (void)ctx;
  uvsql__session_custom_tx(s);
}

static void xq_run(uvsql_session_t *s, void *ctx) {
  xq_t *x = ctx;
  s->populate = x->populate; /* for every row this op loads, selectin levels too */
  s->nstatements++;
  uvsql_conn_execute_core(s->conn, x->q->stmt, x->params, x->nparams, xq_rows, x);
}

uvsql_future_t *uvsql_session_execute_query(uvsql_session_t *s, uvsql_orm_query_t *q,
                                            const uvsql_param_t *params, size_t nparams,
                                            uvsql_future_cb cb, void *data) {
  if (!s)
    return NULL;
  xq_t *x = calloc(1, sizeof *x);
  if (x) {
    x->s = s;
    x->q = q;
    x->populate = q ? q->populate : 0;
    x->nparams = nparams;
    if (!q || (nparams && !params) || !(x->params = uvsql__params_copy(params, nparams))) {
      free(x);
      x = NULL;
    }
  }
  if (!x) { /* bad arguments or out of memory: a failed custom op reports it */
    uvsql_future_t *f = uvsql__future_new(s->loop);
    if (!f)
      return NULL;
    uvsql_error_t err;
    uvsql__error_set(&err, q ? UVSQL_ENOMEM : UVSQL_EINVALID_ARGUMENT,
                     "uvsql_session_execute_query: %s",
                     q ? "out of memory" : "a query (uvsql_orm_query) is required");
    uvsql__future_fail_soon(f, &err);
    return uvsql__future_return(f, cb, data);
  }
  return uvsql__session_custom(s, xq_start, xq_run, xq_free, x, cb, data);
}
