/* src/orm/loader_joined.c — uvsql_session_execute_query: one session operation that runs an
 * ORM query's select, turns its rows into objects with joined relationships de-duplicated
 * into their parents (collections filled in row order, then sorted by the relationship's
 * order_by), and then runs the selectin loaders (loader_selectin.c) before it settles.
 *
 * Invariants:
 *  1. Each root object appears once in the result, at its first row; its joined
 *     relationships are filled only if they were not loaded when that row was read
 *     (loader.c invariant 3), and marked loaded even when the outer join found nothing.
 *  2. The operation holds the session's queue from its start to its end: nothing else runs
 *     on the connection in between, and the statements of one selectin level are all
 *     queued before the first result is read.
 */
#include <stdlib.h>
#include <string.h>
#include "loader.h"

/* ------------------------------------------------------------------ helpers */

int uvsql__objset_add(uvsql__objset_t *o, const uvsql_mapper_t *m, void *obj) {
  int64_t id = uvsql__obj_id(m, obj);
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

int uvsql__joined_rows(uvsql_session_t *s, const uvsql_orm_query_t *q, const uvsql_result_t *r,
                       uvsql_orm_result_t *res, uvsql__objset_t *outs, uvsql_error_t *err) {
  const uvsql_mapper_t *m = q->m;
  size_t n = uvsql_result_nrows(r), nk = q->root.nkids;
  uint64_t joined = 0;
  for (size_t k = 0; k < nk; k++)
    if (q->root.kids[k]->how == UVSQL_LOAD_JOINED)
      joined |= UINT64_C(1) << k;
  if (uvsql_result_ncols(r) < m->model->nfields)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "an ORM query of %s must select its %zu columns first",
                            m->model->type_name, m->model->nfields);
  res->objs = malloc((n ? n : 1) * sizeof *res->objs);
  uint64_t *fill = joined ? malloc((n ? n : 1) * 2 * sizeof *fill) : NULL; /* fill, merge */
  uvsql__i64map_t idx = {0};
  int rc = res->objs && (fill || !joined)
               ? 0
               : uvsql__error_set(err, UVSQL_ENOMEM, "out of memory loading %zu rows", n);
  for (size_t row = 0; rc == 0 && row < n; row++) {
    void *obj;
    if ((rc = uvsql__load_row(s, m, r, row, 0, &obj, err)))
      break;
    if (!obj)
      continue;
    if (!joined) {
      res->objs[res->n++] = obj;
      continue;
    }
    int64_t id = uvsql__obj_id(m, obj);
    size_t at = (size_t)(uintptr_t)uvsql__i64map_get(&idx, id);
    if (!at) {
      at = ++res->n;
      res->objs[at - 1] = obj;
      if ((rc = uvsql__i64map_put(&idx, id, (void *)(uintptr_t)at))) {
        uvsql__error_set(err, rc, "out of memory loading rows");
        break;
      }
      fill[2 * (at - 1)] = fill[2 * (at - 1) + 1] = 0;
      uvsql__obj_t *h = uvsql__hdr(obj);
      for (size_t k = 0; k < nk; k++) {
        const uvsql_relationship_t *rel = q->root.kids[k]->r;
        if (!(joined >> k & 1) || (h->rel_loaded >> rel->index & 1))
          continue;
        fill[2 * (at - 1)] |= UINT64_C(1) << k;
        if (uvsql__begin_fill(rel, obj))
          fill[2 * (at - 1) + 1] |= UINT64_C(1) << k;
      }
    }
    for (size_t k = 0; rc == 0 && k < nk; k++) {
      if (!(fill[2 * (at - 1)] >> k & 1))
        continue;
      const uvsql__plan_t *kid = q->root.kids[k];
      void *child;
      if ((rc = uvsql__load_row(s, kid->r->target, r, row, kid->col0, &child, err)) || !child)
        continue;
      if ((rc = uvsql__attach(kid->r, obj, child, (int)(fill[2 * (at - 1) + 1] >> k & 1))) ||
          (kid->nkids && (rc = uvsql__objset_add(&outs[k], kid->r->target, child))))
        uvsql__error_set(err, rc, "out of memory loading rows");
    }
  }
  for (size_t i = 0; rc == 0 && joined && i < res->n; i++)
    for (size_t k = 0; k < nk; k++)
      if ((fill[2 * i] >> k & 1) && uvsql__rel_many(q->root.kids[k]->r))
        uvsql__coll_sort(q->root.kids[k]->r, uvsql__rel_coll(q->root.kids[k]->r, res->objs[i]));
  free(fill);
  uvsql__i64map_free(&idx);
  return rc;
}

/* ------------------------------------------------------------------ the operation */

typedef struct {
  uvsql_session_t *s;
  uvsql_orm_query_t *q;
  uvsql_param_t *params;
  size_t nparams;
  uvsql_orm_result_t *res;
  uvsql__objset_t *outs; /* per root child */
  int loads;             /* selectin loads running */
  int failed;
  uvsql_error_t err;
} xq_t;

static void xq_free(void *p) {
  xq_t *x = p;
  if (x->outs)
    for (size_t k = 0; k < x->q->root.nkids; k++)
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
  size_t nk = x->q->root.nkids;
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
  for (size_t k = 0; k < nk; k++) {
    const uvsql__plan_t *kid = x->q->root.kids[k];
    if (kid->how != UVSQL_LOAD_JOINED || !kid->nkids || !x->outs[k].n)
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
  s->nstatements++;
  uvsql_conn_execute_core(s->conn, x->q->stmt, x->params, x->nparams, xq_rows, x);
}

/* One block: the params, then their names and text values. */
static uvsql_param_t *copy_params(const uvsql_param_t *params, size_t n) {
  size_t len = n * sizeof(uvsql_param_t);
  for (size_t i = 0; i < n; i++) {
    len += (params[i].name ? strlen(params[i].name) : 0) + 1;
    if (params[i].value.type == UVSQL_TYPE_TEXT || params[i].value.type == UVSQL_TYPE_BYTES)
      len += params[i].value.u.s.len + 1;
  }
  uvsql_param_t *out = malloc(len ? len : 1);
  if (!out)
    return NULL;
  char *p = (char *)(out + n);
  for (size_t i = 0; i < n; i++) {
    out[i] = params[i];
    size_t k = params[i].name ? strlen(params[i].name) : 0;
    memcpy(p, params[i].name ? params[i].name : "", k + 1);
    out[i].name = p;
    p += k + 1;
    uvsql_value_t *v = &out[i].value;
    if (v->type == UVSQL_TYPE_TEXT || v->type == UVSQL_TYPE_BYTES) {
      memcpy(p, v->u.s.ptr, v->u.s.len);
      p[v->u.s.len] = '\0';
      v->u.s.ptr = p;
      p += v->u.s.len + 1;
    }
  }
  return out;
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
    x->nparams = nparams;
    if (!q || (nparams && !params) || !(x->params = copy_params(params, nparams))) {
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
