/* src/orm/loader.c — rows into session objects, and ORM queries with loader options.
 *
 * Every place where a result row becomes an object of a session is here, through the
 * identity map (identity_map.c) and object.c's constructor uvsql__obj_load:
 * uvsql__load_row (one row at a column offset: the joined and selectin loaders) and
 * uvsql__session_load (the rows of a plain ORM select, a get, a refresh: session.c). Then
 * the plan (a tree of relationships to load, from the options and the relationships'
 * defaults), the Core select with the LEFT OUTER JOINs of joined loading, and
 * uvsql_session_execute_query, which runs the select, de-duplicates joined rows into their
 * parents, and hands the selectin levels to loader_selectin.c.
 *
 * Invariants:
 *  1. A plan node's relationship belongs to its parent node's target mapper (the root's is
 *     the query's mapper). JOINED is honoured under the root and under JOINED nodes (a chain
 *     of LEFT OUTER JOINs); a JOINED node under a SELECTIN one loads as SELECTIN.
 *  2. A joined node's columns are the target's fields, in order, from column col0 of the
 *     row; the root's are columns 0 .. nfields-1.
 *  3. A parent's relationship is filled only if it was not loaded when the query saw the
 *     parent first (identity map: an object the session has keeps what it holds).
 *  5. uvsql__session_load and the root rows of uvsql_session_execute_query make each row an
 *     object of the class its discriminator names (inheritance, inherit.c: the query's select
 *     lists the hierarchy's columns, so joined columns start after uvsql__select_width);
 *     uvsql__load_row loads the class it is given.
 *  6. A relationship whose target is in an inheritance hierarchy loads with the target's
 *     own select (rel_select_new: uvsql_orm_select of the target), each row as its class
 *     (loader_selectin.c); joined loading of it is demoted to selectin (demote_joins).
 *  4. A row whose key the identity map holds yields that object: its fields are overwritten
 *     only when it is expired or the load populates existing objects (expire.c's
 *     uvsql__obj_repopulate); a new object becomes PERSISTENT and owned by the session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loader.h"

/* ------------------------------------------------------------------ rows into objects */

int uvsql__load_row(uvsql_session_t *s, const uvsql_mapper_t *m, const uvsql_result_t *r,
                    size_t row, size_t col0, void **out, uvsql_error_t *err) {
  *out = NULL;
  for (size_t i = 0; i < m->npk; i++)
    if (uvsql_result_is_null(r, row, col0 + m->pk[i]))
      return 0; /* an outer join's missing side */
  uvsql__obj_t *have = NULL, *h = NULL;
  int rc;
  if (m->npk == 1 && m->model->fields[m->pk[0]].kind == UVSQL_FIELD_INT64) {
    int64_t id; /* the usual key: looked up before anything is built */
    if (uvsql_result_int64(r, row, col0 + m->pk[0], &id))
      return uvsql__error_set(err, UVSQL_EDATA, "cannot load the key of %s: %s",
                              m->model->type_name, uvsql_result_last_error(r));
    uvsql_value_t v = UVSQL_V_INT64(id);
    have = uvsql__idmap_find(&s->idmap, m, &v);
  } else { /* a key of other kinds or several parts: the row's object gives it */
    if ((rc = uvsql__obj_load(m, r, row, col0, &h, err)) != 0)
      return rc;
    uvsql_value_t pk[UVSQL__MAX_PK];
    uvsql__obj_pk(m, h->body, pk);
    have = uvsql__idmap_find(&s->idmap, m, pk);
    if (have && !(s->populate || (have->flags & UVSQL__OF_EXPIRED))) {
      uvsql__obj_destroy(h);
      h = NULL;
    }
  }
  if (have && (s->populate || (have->flags & UVSQL__OF_EXPIRED))) { /* expire.c */
    if (h || (rc = uvsql__obj_load(m, r, row, col0, &h, err)) == 0) {
      rc = uvsql__obj_repopulate(have, h, s->populate, err);
      uvsql__obj_destroy(h);
    }
    if (rc)
      return rc < 0 ? uvsql__error_set(err, UVSQL_ENOMEM, "out of memory loading a row") : rc;
  }
  if (have) {
    *out = have->body;
    return 0;
  }
  rc = h ? 0 : uvsql__obj_load(m, r, row, col0, &h, err);
  if (rc == 0 && uvsql__idmap_put(&s->idmap, h)) /* else err says what went wrong */
    rc = uvsql__error_set(err, UVSQL_ENOMEM, "out of memory loading a row");
  if (rc) {
    if (h)
      uvsql__obj_destroy(h);
    return rc;
  }
  h->state = UVSQL_OBJ_PERSISTENT;
  uvsql__session_own(s, h);
  *out = h->body;
  return 0;
}

/* The rows of an ORM select (the mapper's columns first) as objects, for uvsql_session_execute,
 * get and refresh (session.c). */
int uvsql__session_load(uvsql_session_t *s, const uvsql_mapper_t *m, const uvsql_result_t *r,
                        void ***out, size_t *nout, int overwrite, uvsql_error_t *err) {
  return uvsql__session_load_at(s, m, r, 0, out, nout, overwrite, err);
}

int uvsql__session_load_at(uvsql_session_t *s, const uvsql_mapper_t *m, const uvsql_result_t *r,
                           size_t col0, void ***out, size_t *nout, int overwrite,
                           uvsql_error_t *err) {
  size_t n = uvsql_result_nrows(r), nf = m->colmap ? m->ncolsel : m->model->nfields;
  void **objs = malloc((n ? n : 1) * sizeof *objs);
  if (!objs)
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory loading %zu rows", n);
  if (uvsql_result_ncols(r) < col0 + nf) {
    free(objs);
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "an ORM select of %s must select its %zu columns first (use "
                            "uvsql_orm_select)",
                            m->model->type_name, nf);
  }
  (void)uvsql__idmap_reserve(&s->idmap, s->idmap.count + n); /* out of memory: grows as it goes */
  uvsql__slabs_t slabs;                                      /* a large load's objects (slab.c) */
  uvsql__slabs_begin(&slabs, n);
  for (size_t row = 0; row < n; row++) {
    uvsql__obj_t *h = NULL;
    const uvsql_mapper_t *pm = uvsql__poly_mapper_at(m, r, row, col0); /* inherit.c */
    int rc = pm->colmap && uvsql_result_ncols(r) < col0 + pm->ncolsel
                 ? uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                                    "an ORM select of %s must select every column of its table "
                                    "(a row is a %s: use uvsql_orm_select)",
                                    m->model->type_name, pm->model->type_name)
                 : uvsql__obj_load_in(pm, r, row, col0, &slabs, &h, err); /* err says why */
    uvsql_value_t pk[UVSQL__MAX_PK];
    uvsql__obj_t *have = NULL;
    uint64_t hash = 0;
    if (rc == 0) {
      uvsql__obj_pk(m, h->body, pk);
      hash = uvsql__pk_hash(m, pk);
      have = uvsql__idmap_find_hashed(&s->idmap, m, pk, hash);
    }
    if (rc == 0 && have) { /* a class changed under a session's object: it stays as it is */
      if (have->mapper == pm)
        rc = uvsql__obj_repopulate(have, h, overwrite || s->populate, err); /* expire.c */
      uvsql__obj_destroy(h);
      h = have;
    } else if (rc == 0) {
      if (uvsql__idmap_put_hashed(&s->idmap, h, hash)) /* h has its snapshot */
        rc = uvsql__error_set(err, UVSQL_ENOMEM, "out of memory loading a row");
      else {
        h->state = UVSQL_OBJ_PERSISTENT;
        uvsql__session_own(s, h);
      }
    }
    if (rc) {
      if (h && !h->session)
        uvsql__obj_destroy(h);
      uvsql__slabs_end(&slabs);
      free(objs);
      return rc;
    }
    objs[row] = h->body;
  }
  uvsql__slabs_end(&slabs);
  *out = objs;
  *nout = n;
  return 0;
}

/* ------------------------------------------------------------------ the selectin statement */

static void add_columns(uvsql_core_stmt_t *st, const uvsql_mapper_t *m, uvsql_from_t *from) {
  for (size_t i = 0; i < m->model->nfields; i++) {
    uvsql_expr_t *c = uvsql_from_col(from, m->model->fields[i].name);
    uvsql_select_columns(st, &c, 1);
  }
}

/* A target in an inheritance hierarchy (inherit.c) is selected with its class's select
 * (uvsql_orm_select: the hierarchy's columns and tables, a subclass's discriminator filter),
 * so each row loads as the class its discriminator names; its columns are named through
 * uvsql_mapper_col (the table a field lives in). */
static int rel_poly(const uvsql_relationship_t *r) {
  return uvsql__poly_all_columns(r->target);
}

static uvsql_core_stmt_t *rel_select_new(const uvsql_relationship_t *r) {
  return rel_poly(r) ? uvsql_orm_select(r->target) : uvsql_select_new();
}

static uvsql_expr_t *target_col(const uvsql_relationship_t *r, uvsql_from_t *tf, long field) {
  const char *name = r->target->model->fields[field].name;
  return tf ? uvsql_from_col(tf, name) : uvsql_mapper_col(r->target, name);
}

/* The columns compared with the keys sent: the target's primary key (many-to-one), the
 * secondary's source columns (many-to-many, which joins the target), else the target's
 * foreign key fields. Builds the FROM and the select list into st (rel_select_new); key[]
 * gets r->nkey columns (nkey: the key's parts for this select). */
static void rel_select_base(uvsql_relationship_t *r, uvsql_core_stmt_t *st, uvsql_expr_t **key) {
  const uvsql_mapper_t *t = r->target;
  uvsql_from_t *tf = NULL;
  if (!rel_poly(r)) {
    tf = uvsql_table_from(t->table);
    add_columns(st, t, tf);
    uvsql_select_from_item(st, tf);
  }
  switch (r->kind) {
  case UVSQL_MANY_TO_ONE:
    for (size_t i = 0; i < r->nkey; i++)
      key[i] = target_col(r, tf, (long)t->pk[i]);
    break;
  case UVSQL_MANY_TO_MANY: {
    uvsql_from_t *sf = uvsql_table_from(r->secondary);
    uvsql_expr_t *on[UVSQL__MAX_PK];
    for (size_t i = 0; i < r->nkey; i++) {
      key[i] = uvsql_from_col(sf, r->sec_src[i]);
      uvsql_select_columns(st, &key[i], 1);
    }
    for (size_t i = 0; i < t->npk; i++)
      on[i] = uvsql_eq(st, uvsql_from_col(sf, r->sec_tgt[i]), target_col(r, tf, (long)t->pk[i]));
    uvsql_select_join_item(st, sf, t->npk == 1 ? on[0] : uvsql_and_n(st, on, t->npk),
                           UVSQL_JOIN_INNER);
    break;
  }
  default:
    for (size_t i = 0; i < r->nkey; i++)
      key[i] = target_col(r, tf, r->fks[i]);
  }
}

uvsql_core_stmt_t *uvsql__rel_select(uvsql_relationship_t *r) {
  if (r->sel)
    return r->sel;
  uvsql_core_stmt_t *st = rel_select_new(r);
  if (!st)
    return NULL;
  uvsql_expr_t *key[UVSQL__MAX_PK];
  rel_select_base(r, st, key);
  uvsql_where(st, uvsql_in_expanding(st, key[0], "k"));
  r->sel = st;
  return st;
}

/* Composite keys: WHERE (a = :k<i>_0 AND b = :k<i>_1) OR ... for nrows keys, with the names
 * the caller's params use (loader_selectin.c key_names). The caller owns the statement. */
uvsql_core_stmt_t *uvsql__rel_select_rows(uvsql_relationship_t *r, size_t nrows,
                                          char *const *names) {
  uvsql_core_stmt_t *st = rel_select_new(r);
  if (!st)
    return NULL;
  uvsql_expr_t *key[UVSQL__MAX_PK], *part[UVSQL__MAX_PK];
  rel_select_base(r, st, key);
  uvsql_expr_t **rows = malloc(nrows * sizeof *rows);
  if (!rows) {
    uvsql_core_stmt_free(st);
    return NULL;
  }
  for (size_t i = 0; i < nrows; i++) {
    for (size_t k = 0; k < r->nkey; k++)
      part[k] = uvsql_eq(st, key[k], uvsql_bindparam(st, names[i * r->nkey + k]));
    rows[i] = uvsql_and_n(st, part, r->nkey);
  }
  uvsql_where(st, uvsql_or_n(st, rows, nrows));
  free(rows);
  return st;
}

/* ------------------------------------------------------------------ plans and queries */

static void plan_free(uvsql__plan_t *p) {
  for (size_t i = 0; i < p->nkids; i++) {
    plan_free(p->kids[i]);
    free(p->kids[i]);
  }
  free(p->kids);
  free(p->path);
}

static uvsql__plan_t *plan_kid(uvsql__plan_t *p, uvsql_relationship_t *r, uvsql_loader_t how) {
  for (size_t i = 0; i < p->nkids; i++)
    if (p->kids[i]->r == r)
      return p->kids[i];
  uvsql__plan_t **v = realloc(p->kids, (p->nkids + 1) * sizeof *v);
  uvsql__plan_t *k = calloc(1, sizeof *k);
  if (v)
    p->kids = v;
  if (!v || !k) {
    free(k);
    return NULL;
  }
  k->r = r;
  k->how = how;
  k->depth = p->depth + 1;
  p->kids[p->nkids++] = k;
  return k;
}

/* Relationships loaded by default (non-LAZY) under p, not already in the plan, down to
 * three levels and never back into a mapper of the path (self-references stop). */
static int add_defaults(uvsql__plan_t *p, const uvsql_mapper_t *m, const uvsql_mapper_t **path) {
  if (p->depth >= 3)
    return 0;
  path[p->depth] = m;
  for (size_t i = 0; i < m->nrels; i++) {
    uvsql_relationship_t *r = m->rels[i];
    int seen = 0;
    for (size_t k = 0; k <= p->depth; k++)
      seen |= path[k] == r->target;
    if (r->lazy != UVSQL_LOAD_SELECTIN && r->lazy != UVSQL_LOAD_JOINED)
      continue;
    int present = 0;
    for (size_t k = 0; k < p->nkids; k++)
      present |= p->kids[k]->r == r;
    if (present || seen)
      continue;
    if (!plan_kid(p, r, r->lazy))
      return UVSQL_ENOMEM;
  }
  for (size_t k = 0; k < p->nkids; k++)
    if (p->kids[k]->how != UVSQL_LOAD_LAZY && p->kids[k]->how != UVSQL_LOAD_RAISE &&
        add_defaults(p->kids[k], p->kids[k]->r->target, path))
      return UVSQL_ENOMEM;
  return 0;
}

static int add_option(uvsql_orm_query_t *q, const uvsql_load_option_t *o, uvsql_error_t *err) {
  const char *p = o->path;
  uvsql__plan_t *node = &q->root;
  const uvsql_mapper_t *m = q->m;
  while (p && *p) {
    const char *dot = strchr(p, '.');
    size_t len = dot ? (size_t)(dot - p) : strlen(p);
    char name[128];
    snprintf(name, sizeof name, "%.*s", (int)len, p);
    uvsql_relationship_t *r = uvsql_mapper_get_relationship(m, name);
    if (!r)
      return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                              "loader option \"%s\": %s has no relationship \"%s\"", o->path,
                              m->model->type_name, name);
    /* a link of a longer path loads by its default, or selectin if that is lazy */
    uvsql_loader_t how =
        dot ? (r->lazy == UVSQL_LOAD_JOINED ? r->lazy : UVSQL_LOAD_SELECTIN) : o->how;
    int existed = 0;
    for (size_t k = 0; k < node->nkids; k++)
      existed |= node->kids[k]->r == r;
    uvsql__plan_t *kid = plan_kid(node, r, how);
    if (!kid)
      return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory building a query");
    if (!dot || !existed)
      kid->how = how;
    if (!dot)
      kid->flags = o->flags;
    if (!kid->path && !(kid->path = strndup(o->path, (size_t)(p - o->path) + len)))
      return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory building a query");
    node = kid;
    m = r->target;
    p = dot ? dot + 1 : NULL;
  }
  return 0;
}

/* LEFT OUTER JOIN (INNER with UVSQL_REL_INNERJOIN on a many-to-one) of each joined child of
 * p, whose rows come from `from` (mapper m), its columns appended to the select list; then
 * the same for its own joined children (a chain "books.reviews" joins twice). */
static int add_joins(uvsql_orm_query_t *q, uvsql__plan_t *p, uvsql_from_t *from,
                     const uvsql_mapper_t *m, size_t *col) {
  uvsql_core_stmt_t *st = q->stmt;
  for (size_t i = 0; i < p->nkids; i++) {
    uvsql__plan_t *k = p->kids[i];
    if (k->how != UVSQL_LOAD_JOINED)
      continue;
    uvsql__plan_t **v = realloc(q->joined, (q->njoined + 1) * sizeof *v);
    if (!v)
      return UVSQL_ENOMEM;
    q->joined = v;
    k->parent = p;
    k->jindex = q->njoined;
    q->joined[q->njoined++] = k;
    uvsql_relationship_t *r = k->r;
    const uvsql_mapper_t *t = r->target;
    char alias[40];
    snprintf(alias, sizeof alias, "uvsql_j%zu", q->njoined);
    k->from = uvsql_alias(st, t->table, alias);
    k->col0 = *col;
    add_columns(st, t, k->from);
    *col += t->model->nfields;
    uvsql_join_t type = UVSQL_JOIN_LEFT;
    uvsql_expr_t *on, *eq[UVSQL__MAX_PK];
    size_t nk = r->nkey;
    if (r->kind == UVSQL_MANY_TO_ONE) {
      for (size_t x = 0; x < nk; x++)
        eq[x] = uvsql_eq(st, uvsql_from_col(from, m->model->fields[r->fks[x]].name),
                         uvsql_from_col(k->from, t->model->fields[t->pk[x]].name));
      if (((r->flags | k->flags) & UVSQL_REL_INNERJOIN) && p->depth == 0)
        type = UVSQL_JOIN_INNER;
    } else if (r->kind == UVSQL_MANY_TO_MANY) {
      snprintf(alias, sizeof alias, "uvsql_s%zu", q->njoined);
      uvsql_from_t *sec = uvsql_alias(st, r->secondary, alias);
      for (size_t x = 0; x < m->npk; x++)
        eq[x] = uvsql_eq(st, uvsql_from_col(sec, r->sec_src[x]),
                         uvsql_from_col(from, m->model->fields[m->pk[x]].name));
      uvsql_select_join_item(st, sec, m->npk == 1 ? eq[0] : uvsql_and_n(st, eq, m->npk),
                             UVSQL_JOIN_LEFT);
      nk = t->npk;
      for (size_t x = 0; x < nk; x++)
        eq[x] = uvsql_eq(st, uvsql_from_col(k->from, t->model->fields[t->pk[x]].name),
                         uvsql_from_col(sec, r->sec_tgt[x]));
    } else {
      for (size_t x = 0; x < nk; x++)
        eq[x] = uvsql_eq(st, uvsql_from_col(k->from, t->model->fields[r->fks[x]].name),
                         uvsql_from_col(from, m->model->fields[m->pk[x]].name));
    }
    on = nk == 1 ? eq[0] : uvsql_and_n(st, eq, nk);
    uvsql_select_join_item(st, k->from, on, type);
    if (add_joins(q, k, k->from, t, col))
      return UVSQL_ENOMEM;
  }
  return 0;
}

/* JOINED only under the root or another JOINED node (invariant 1), and not to a target in
 * an inheritance hierarchy; elsewhere SELECTIN. */
static void demote_joins(uvsql__plan_t *p) {
  for (size_t i = 0; i < p->nkids; i++) {
    if (p->depth >= 1 && p->how != UVSQL_LOAD_JOINED && p->kids[i]->how == UVSQL_LOAD_JOINED)
      p->kids[i]->how = UVSQL_LOAD_SELECTIN;
    /* a target in an inheritance hierarchy has a select of its own (rel_select_new) */
    if (p->kids[i]->how == UVSQL_LOAD_JOINED && uvsql__poly_all_columns(p->kids[i]->r->target))
      p->kids[i]->how = UVSQL_LOAD_SELECTIN;
    demote_joins(p->kids[i]);
  }
}

uvsql_orm_query_t *uvsql_orm_query(const uvsql_mapper_t *m, const uvsql_load_option_t *opts,
                                   size_t nopts, uvsql_error_t *err) {
  if (!m || (nopts && !opts)) {
    uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT, "uvsql_orm_query: a mapper is required");
    return NULL;
  }
  uvsql_orm_query_t *q = calloc(1, sizeof *q);
  if (!q) {
    uvsql__error_set(err, UVSQL_ENOMEM, "out of memory building a query");
    return NULL;
  }
  q->m = m;
  for (size_t i = 0; i < nopts; i++)
    if (add_option(q, &opts[i], err))
      goto fail;
  const uvsql_mapper_t *path[4];
  if (add_defaults(&q->root, m, path)) {
    uvsql__error_set(err, UVSQL_ENOMEM, "out of memory building a query");
    goto fail;
  }
  demote_joins(&q->root);
  if (!(q->stmt = uvsql_orm_select(m))) {
    uvsql__error_set(err, UVSQL_ENOMEM, "out of memory building a query");
    goto fail;
  }
  /* a hierarchy's select (inherit.c) lists all its classes' columns; the relationships are
   * the root's, their keys in the root's table */
  size_t col = uvsql__select_width(m);
  if (add_joins(q, &q->root, uvsql_table_from(m->root->table), m, &col)) {
    uvsql__error_set(err, UVSQL_ENOMEM, "out of memory building a query");
    goto fail;
  }
  const uvsql_error_t *se = uvsql_core_stmt_error(q->stmt);
  if (se) {
    if (err)
      *err = *se;
    goto fail;
  }
  return q;
fail:
  uvsql_orm_query_free(q);
  return NULL;
}

uvsql_orm_query_t *uvsql_orm_query_populate_existing(uvsql_orm_query_t *q, int on) {
  if (q)
    q->populate = on != 0;
  return q;
}

uvsql_core_stmt_t *uvsql_orm_query_stmt(uvsql_orm_query_t *q) {
  return q ? q->stmt : NULL;
}

uvsql_from_t *uvsql_orm_query_from(uvsql_orm_query_t *q, const char *path) {
  for (size_t i = 0; q && path && i < q->njoined; i++)
    if (q->joined[i]->path && strcmp(q->joined[i]->path, path) == 0)
      return q->joined[i]->from;
  return NULL;
}

void uvsql_orm_query_free(uvsql_orm_query_t *q) {
  if (!q)
    return;
  plan_free(&q->root);
  free(q->joined);
  uvsql_core_stmt_free(q->stmt);
  free(q);
}
