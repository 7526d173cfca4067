/* src/orm/loader_selectin.c — selectin loading, level by level, and explicit lazy loading
 * (uvsql_session_load), which is a selectin load of one relationship for one object.
 *
 * States of a load (uvsql__load_t):
 *
 *   start_level: each job picks its parents that are not loaded, marks them loaded and
 *   sends SELECT ... WHERE key IN (<= 500 keys) per chunk, all jobs' chunks at once
 *        --every result back (rows -> objects -> parents' relationships)--> end_level:
 *   many-to-one references resolved, collections sorted; the jobs' children in the plan
 *   become the next level's jobs (parents: the objects just loaded) --> start_level ...
 *        --no jobs left--> done(NULL);   a statement fails --> (rest back) --> done(err)
 *
 * Invariants:
 *  1. A many-to-one whose target is in the identity map is set from it: no key is sent.
 *  2. Keys are distinct within a job; a parent is filled by exactly one job per load.
 *  3. The load's jobs array changes only between levels (chunk callbacks index into it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loader.h"

typedef struct {
  uvsql_relationship_t *r;
  const uvsql__plan_t *node;
  void **parents; /* being filled by this job */
  size_t np;
  uvsql__kmap_t pmap;    /* key -> parent (collections, one-to-one); key set (many-to-one) */
  uvsql__i64map_t merge; /* parents whose collection held objects before (by pointer) */
  uvsql_value_t *keys;   /* nkeys keys of r->nkey parts each (borrowed from the parents) */
  size_t nkeys;
  uvsql__objset_t out; /* objects loaded or found: the next level's parents */
} job_t;

struct uvsql__load_s {
  uvsql_session_t *s;
  uvsql__load_done done;
  void *data;
  job_t *jobs;
  size_t njobs;
  int outstanding, sending, failed;
  uvsql_error_t err;
};

typedef struct {
  uvsql__load_t *ld;
  size_t job;
  uvsql_core_stmt_t *st; /* composite keys: this chunk's own statement (owned), else NULL */
  char **names;          /* its bind names (one malloc'd block), or NULL */
} chunk_t;

static void start_level(uvsql__load_t *ld);

/* n bind names "k0", "k1", ... in one malloc'd block (the array, then the strings). */
static char **key_names(size_t n) {
  char **v = malloc(n * (sizeof *v + 24));
  if (!v)
    return NULL;
  char *at = (char *)(v + n);
  for (size_t i = 0; i < n; i++, at += 24) {
    snprintf(at, 24, "k%zu", i);
    v[i] = at;
  }
  return v;
}

/* A many-to-many row's source key: the secondary's columns after the target's (rel_select):
 * 1, or 0 when a part is NULL. The values are borrowed from the result. */
static int sec_key(const uvsql_relationship_t *r, const uvsql_result_t *res, size_t row,
                   size_t col0, uvsql_value_t *key) {
  for (size_t i = 0; i < r->nkey; i++) {
    const uvsql_value_t *v = uvsql_result_value(res, row, col0 + i);
    if (!v || v->type == UVSQL_TYPE_NULL)
      return 0;
    key[i] = *v;
    if (v->type != UVSQL_TYPE_INT64 && r->m->model->fields[r->m->pk[i]].kind == UVSQL_FIELD_INT64) {
      int64_t x; /* a driver that sends integers as text (or bool) */
      if (uvsql_result_int64(res, row, col0 + i, &x))
        return 0;
      key[i] = UVSQL_V_INT64(x);
    }
  }
  return 1;
}

void *uvsql__load_data(uvsql__load_t *ld) {
  return ld->data;
}

static void ld_fail(uvsql__load_t *ld, const uvsql_error_t *err) {
  if (!ld->failed) {
    ld->failed = 1;
    ld->err = *err;
  }
}

static void ld_oom(uvsql__load_t *ld) {
  uvsql_error_t err;
  uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory loading relationships");
  ld_fail(ld, &err);
}

static void jobs_free(job_t *jobs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(jobs[i].parents);
    free(jobs[i].keys);
    uvsql__kmap_free(&jobs[i].pmap);
    uvsql__i64map_free(&jobs[i].merge);
    uvsql__objset_free(&jobs[i].out);
  }
  free(jobs);
}

/* Jobs for node's selectin children over parents; appended to *jobs. */
static int add_jobs(job_t **jobs, size_t *njobs, const uvsql__plan_t *node, void *const *parents,
                    size_t np) {
  for (size_t k = 0; k < node->nkids; k++) {
    const uvsql__plan_t *kid = node->kids[k];
    if (kid->how != UVSQL_LOAD_SELECTIN || !np)
      continue;
    job_t *v = realloc(*jobs, (*njobs + 1) * sizeof *v);
    if (!v)
      return UVSQL_ENOMEM;
    *jobs = v;
    job_t *j = &v[(*njobs)++];
    memset(j, 0, sizeof *j);
    j->r = kid->r;
    j->node = kid;
    uvsql__kmap_init(&j->pmap, kid->r->nkey);
    if (!(j->parents = malloc(np * sizeof *j->parents)) ||
        !(j->keys = malloc(np * kid->r->nkey * sizeof *j->keys)))
      return UVSQL_ENOMEM;
    memcpy(j->parents, parents, np * sizeof *parents); /* filtered in prepare() */
    j->np = np;
  }
  return 0;
}

/* Picks the parents to fill, marks them loaded, computes the keys (invariants 1, 2). */
static int prepare(uvsql__load_t *ld, job_t *j) {
  uvsql_relationship_t *r = j->r;
  const uvsql_mapper_t *m = r->m, *t = r->target;
  size_t keep = 0;
  for (size_t i = 0; i < j->np; i++) {
    void *p = j->parents[i];
    uvsql__obj_t *h = uvsql__hdr(p);
    if (h->rel_loaded >> r->index & 1) { /* keeps what it has; its objects go on down */
      if (!j->node->nkids)
        continue; /* (when there is a next level) */
      if (uvsql__rel_many(r)) {
        uvsql_collection_t *c = uvsql__rel_coll(r, p);
        for (size_t k = 0; k < c->n; k++)
          if (uvsql__objset_add(&j->out, t, c->items[k]))
            return UVSQL_ENOMEM;
      } else if (*uvsql__rel_ref(r, p) && uvsql__objset_add(&j->out, t, *uvsql__rel_ref(r, p))) {
        return UVSQL_ENOMEM;
      }
      continue;
    }
    if (r->kind == UVSQL_MANY_TO_ONE) {
      uvsql__rel_set_loaded(r, p, 1);
      uvsql_value_t *fk = j->keys + j->nkeys * r->nkey;
      if (!uvsql__rel_fk_values(r, p, fk)) {
        *uvsql__rel_ref(r, p) = NULL;
        continue;
      }
      uvsql__obj_t *have = uvsql__idmap_find(&ld->s->idmap, t, fk);
      if (have) {
        *uvsql__rel_ref(r, p) = have->body;
        if (j->node->nkids && uvsql__objset_add(&j->out, t, have->body))
          return UVSQL_ENOMEM;
        continue;
      }
      j->parents[keep++] = p; /* resolved at the end of the level */
      if (!uvsql__kmap_get(&j->pmap, fk)) {
        if (uvsql__kmap_put(&j->pmap, fk, p))
          return UVSQL_ENOMEM;
        j->nkeys++; /* fk stays where it was written */
      }
      continue;
    }
    uvsql_value_t *id = j->keys + j->nkeys * r->nkey;
    uvsql__obj_pk(m, p, id);
    if (uvsql__kmap_get(&j->pmap, id))
      continue; /* the same parent twice */
    if (uvsql__begin_fill(r, p) && uvsql__i64map_put(&j->merge, uvsql__ptr_key(p), p))
      return UVSQL_ENOMEM;
    if (uvsql__kmap_put(&j->pmap, id, p))
      return UVSQL_ENOMEM;
    j->parents[keep++] = p;
    j->nkeys++;
  }
  j->np = keep;
  return 0;
}

static void rows_into(uvsql__load_t *ld, job_t *j, const uvsql_result_t *res) {
  uvsql_relationship_t *r = j->r;
  const uvsql_mapper_t *t = r->target;
  size_t n = uvsql_result_nrows(res), nf = uvsql__select_width(t); /* loader.c */
  uvsql_error_t err;
  for (size_t row = 0; row < n && !ld->failed; row++) {
    void *child; /* a hierarchy's row as the class its discriminator names (inherit.c) */
    if (uvsql__load_row(ld->s, uvsql__poly_mapper(t, res, row), res, row, 0, &child, &err)) {
      ld_fail(ld, &err);
      return;
    }
    if (!child)
      continue;
    if (j->node->nkids && uvsql__objset_add(&j->out, t, child)) { /* only a next level reads it */
      ld_oom(ld);
      return;
    }
    if (r->kind == UVSQL_MANY_TO_ONE)
      continue; /* end_level */
    uvsql_value_t key[UVSQL__MAX_PK];
    if (r->kind == UVSQL_MANY_TO_MANY) {
      if (!sec_key(r, res, row, nf, key))
        continue;
    } else if (!uvsql__rel_fk_values(r, child, key)) {
      continue;
    }
    void *parent = uvsql__kmap_get(&j->pmap, key);
    if (parent && uvsql__attach(r, parent, child,
                                uvsql__i64map_get(&j->merge, uvsql__ptr_key(parent)) != NULL)) {
      ld_oom(ld);
      return;
    }
  }
}

static void end_level(uvsql__load_t *ld) {
  if (ld->failed) {
    uvsql_error_t err = ld->err;
    uvsql__load_done done = ld->done;
    jobs_free(ld->jobs, ld->njobs);
    ld->jobs = NULL;
    ld->njobs = 0;
    done(ld, &err);
    free(ld);
    return;
  }
  job_t *next = NULL;
  size_t nnext = 0;
  for (size_t i = 0; i < ld->njobs; i++) {
    job_t *j = &ld->jobs[i];
    uvsql_relationship_t *r = j->r;
    for (size_t k = 0; k < j->np; k++) {
      void *p = j->parents[k];
      if (r->kind == UVSQL_MANY_TO_ONE) {
        uvsql_value_t v[UVSQL__MAX_PK];
        uvsql__obj_t *have =
            uvsql__rel_fk_values(r, p, v) ? uvsql__idmap_find(&ld->s->idmap, r->target, v) : NULL;
        *uvsql__rel_ref(r, p) = have ? have->body : NULL;
      } else if (uvsql__rel_many(r)) {
        uvsql__coll_sort(r, uvsql__rel_coll(r, p));
      }
    }
    if (!ld->failed && add_jobs(&next, &nnext, j->node, j->out.v, j->out.n))
      ld_oom(ld);
  }
  jobs_free(ld->jobs, ld->njobs);
  ld->jobs = next;
  ld->njobs = nnext;
  if (ld->failed || !nnext) {
    uvsql_error_t err = ld->err;
    int failed = ld->failed;
    jobs_free(ld->jobs, ld->njobs);
    ld->done(ld, failed ? &err : NULL);
    free(ld);
    return;
  }
  start_level(ld);
}

static void chunk_done(uvsql_future_t *f, void *data) {
  chunk_t *c = data;
  uvsql__load_t *ld = c->ld;
  const uvsql_error_t *err = uvsql_future_error(f);
  if (err)
    ld_fail(ld, err);
  else if (!ld->failed)
    rows_into(ld, &ld->jobs[c->job], uvsql_future_value(f));
  uvsql_core_stmt_free(c->st);
  free(c->names);
  free(c);
  if (--ld->outstanding == 0 && !ld->sending)
    end_level(ld);
}

static void start_level(uvsql__load_t *ld) {
  ld->sending = 1;
  uvsql_param_t *p = malloc(UVSQL__SELECTIN_CHUNK * UVSQL__MAX_PK * sizeof *p);
  if (!p)
    ld_oom(ld);
  for (size_t i = 0; i < ld->njobs && !ld->failed; i++) {
    job_t *j = &ld->jobs[i];
    if (prepare(ld, j)) {
      ld_oom(ld);
      break;
    }
    size_t nk = j->r->nkey;
    uvsql_core_stmt_t *st = j->nkeys && nk == 1 ? uvsql__rel_select(j->r) : NULL;
    if (j->nkeys && nk == 1 && !st) {
      ld_oom(ld);
      break;
    }
    size_t chunk = UVSQL__SELECTIN_CHUNK; /* keys per statement, within the params a statement
                                             may have */
    if (chunk * nk > (size_t)ld->s->param_limit)
      chunk = (size_t)ld->s->param_limit / nk;
    for (size_t at = 0; at < j->nkeys; at += chunk) {
      size_t n = j->nkeys - at < chunk ? j->nkeys - at : chunk;
      chunk_t *c = malloc(sizeof *c);
      if (!c) {
        ld_oom(ld);
        break;
      }
      c->ld = ld;
      c->job = i;
      c->st = NULL;
      c->names = NULL;
      if (nk == 1) {
        for (size_t k = 0; k < n; k++)
          p[k] = UVSQL_P("k", j->keys[at + k]);
      } else if (!(c->names = key_names(n * nk)) ||
                 !(c->st = uvsql__rel_select_rows(j->r, n, c->names))) {
        free(c->names);
        free(c);
        ld_oom(ld);
        break;
      } else {
        for (size_t k = 0; k < n * nk; k++)
          p[k] = UVSQL_P(c->names[k], j->keys[at * nk + k]);
      }
      ld->outstanding++;
      ld->s->nstatements++;
      uvsql_conn_execute_core(ld->s->conn, c->st ? c->st : st, p, n * nk, chunk_done, c);
    }
  }
  free(p);
  ld->sending = 0;
  if (ld->outstanding == 0)
    end_level(ld);
}

void uvsql__selectin(uvsql_session_t *s, const uvsql__plan_t *node, void *const *parents,
                     size_t nparents, uvsql__load_done done, void *data) {
  uvsql__load_t *ld = calloc(1, sizeof *ld);
  if (!ld) {
    uvsql_error_t err;
    uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory loading relationships");
    uvsql__load_t dummy = {.data = data};
    done(&dummy, &err);
    return;
  }
  ld->s = s;
  ld->done = done;
  ld->data = data;
  if (add_jobs(&ld->jobs, &ld->njobs, node, parents, nparents))
    ld_oom(ld);
  if (!ld->njobs || ld->failed) {
    end_level(ld);
    return;
  }
  start_level(ld);
}

/* ------------------------------------------------------------------ explicit lazy loading */

typedef struct {
  uvsql__obj_t *h;
  uvsql__plan_t root, node; /* a one-relationship plan */
  uvsql__plan_t *kids[1];
} lazy_t;

static void lazy_done(uvsql__load_t *ld, const uvsql_error_t *err) {
  lazy_t *lz = uvsql__load_data(ld);
  uvsql__session_custom_done(lz->h->session, err ? NULL : uvsql__body(lz->h), NULL, err);
}

static void lazy_run(uvsql_session_t *s, void *ctx) {
  lazy_t *lz = ctx;
  void *obj = uvsql__body(lz->h);
  uvsql__selectin(s, &lz->root, &obj, 1, lazy_done, lz);
}

static void lazy_start(uvsql_session_t *s, void *ctx) {
  lazy_t *lz = ctx;
  uvsql__obj_t *h = lz->h;
  uvsql_relationship_t *r = lz->node.r;
  uvsql_error_t err;
  if (h->session != s || h->state != UVSQL_OBJ_PERSISTENT) {
    uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT,
                     "uvsql_session_load: the %s is %s, not persistent in this "
                     "session: add and flush it first, or load it in its own session",
                     h->mapper->model->type_name, uvsql_orm_state_name(h->state));
    uvsql__session_custom_done(s, NULL, NULL, &err);
    return;
  }
  void *obj = uvsql__body(h);
  int simple = (h->rel_loaded >> r->index & 1) != 0;
  if (!simple && r->kind == UVSQL_MANY_TO_ONE) { /* invariant 1: maybe no query at all */
    uvsql_value_t v[UVSQL__MAX_PK];
    simple = !uvsql__rel_fk_values(r, obj, v) || uvsql__idmap_find(&s->idmap, r->target, v) != NULL;
  }
  if (simple) {
    uvsql__selectin(s, &lz->root, &obj, 1, lazy_done, lz); /* sends nothing */
    return;
  }
  uvsql__session_custom_tx(s);
}

uvsql_future_t *uvsql_session_load(uvsql_session_t *s, void *obj, const char *name,
                                   uvsql_future_cb cb, void *data) {
  if (!s)
    return NULL;
  uvsql__obj_t *h = uvsql__obj_check(obj);
  uvsql_relationship_t *r = h ? uvsql_mapper_get_relationship(h->mapper, name) : NULL;
  lazy_t *lz = r && r->lazy != UVSQL_LOAD_RAISE ? calloc(1, sizeof *lz) : NULL;
  if (!lz) {
    uvsql_future_t *f = uvsql__future_new(s->loop);
    if (!f)
      return NULL;
    uvsql_error_t err;
    if (r && r->lazy != UVSQL_LOAD_RAISE)
      uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory");
    else if (r)
      uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT,
                       "relationship %s.%s is raiseload: it is never loaded; load it "
                       "with a UVSQL_SELECTINLOAD or UVSQL_JOINEDLOAD option on the query",
                       h->mapper->model->type_name, name);
    else
      uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT,
                       "uvsql_session_load: %s has no relationship \"%s\"",
                       h ? h->mapper->model->type_name : "the object", name ? name : "(null)");
    uvsql__future_fail_soon(f, &err);
    return uvsql__future_return(f, cb, data);
  }
  lz->h = h;
  lz->node.r = r;
  lz->node.how = UVSQL_LOAD_SELECTIN;
  lz->node.depth = 1;
  lz->kids[0] = &lz->node;
  lz->root.kids = lz->kids;
  lz->root.nkids = 1;
  return uvsql__session_custom(s, lazy_start, lazy_run, free, lz, cb, data);
}
