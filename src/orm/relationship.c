/* src/orm/relationship.c — declaring relationships on mappers, and their in-memory side:
 * the loaded state, collections, uvsql_orm_append / remove / set_ref keeping both sides of a
 * back_populates pair consistent, and the save-update cascade when an object is added.
 *
 * Invariants: those of rel.h. Nothing here sends SQL: foreign keys are recorded as links
 * (uvsql_orm_link) that the flush applies, many-to-many changes as pending secondary rows
 * (cascade.c), deletions as session deletions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rel.h"

void uvsql__cascade_m2m_note(uvsql_session_t *s, uvsql_relationship_t *r, void *parent, void *child,
                             int add); /* cascade.c */
/* cascade.c: child left a parent of r (delete-orphan): the flush deletes it if it has no parent
 * then. 0 or UVSQL_ENOMEM. */
int uvsql__cascade_orphan_note(uvsql_session_t *s, uvsql_relationship_t *r, void *child);
void uvsql__cascade_orphan_forget(uvsql_session_t *s, uvsql_relationship_t *r, void *child);

/* Splits "a" / "a,b" / "a, b" into at most max malloc'd names: their count, or -1 (too
 * many, an empty name, out of memory: nothing is left allocated). */
static long split_names(const char *list, char **out, size_t max) {
  size_t n = 0;
  const char *p = list;
  while (p) {
    while (*p == ' ')
      p++;
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    while (len && p[len - 1] == ' ')
      len--;
    if (!len || n == max || !(out[n] = strndup(p, len))) {
      while (n)
        free(out[--n]);
      return -1;
    }
    n++;
    p = comma ? comma + 1 : NULL;
  }
  return (long)n;
}

/* The kinds of two fields match for a key: the same kind (TEXT of any length). */
static int same_kind(const uvsql_field_t *a, const uvsql_field_t *b) {
  return a->kind == b->kind;
}

/* The holder's fields named in fk, one per part of keyed's primary key, into r (invariant 1).
 * 0, or an error code with err filled. */
static int resolve_fk(uvsql_relationship_t *r, const char *fk, uvsql_error_t *err) {
  const uvsql_mapper_t *h = uvsql__rel_holder(r), *k = uvsql__rel_keyed(r);
  char *names[UVSQL__MAX_PK];
  long n = fk ? split_names(fk, names, UVSQL__MAX_PK) : -1;
  char want[256] = "";
  for (size_t i = 0; i < k->npk; i++) {
    const uvsql_field_t *pf = &k->model->fields[k->pk[i]];
    char kb[32];
    snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s %s", i ? ", " : "", pf->name,
             uvsql__field_kind_name(pf, kb, sizeof kb));
  }
  if (n != (long)k->npk) {
    if (n > 0)
      while (n)
        free(names[--n]);
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "relationship %s.%s: the foreign key \"%s\" must name %zu field%s "
                            "of %s, one per part of %s's primary key (%s), in that order, "
                            "separated by commas",
                            r->m->model->type_name, r->name, fk ? fk : "(null)", k->npk,
                            k->npk == 1 ? "" : "s", h->model->type_name, k->model->type_name, want);
  }
  int rc = 0;
  for (size_t i = 0; i < (size_t)n; i++) {
    long f = uvsql__field_index(h, names[i]);
    const uvsql_field_t *pf = &k->model->fields[k->pk[i]];
    if (!rc && (f < 0 || !same_kind(&h->model->fields[f], pf))) {
      char kb[32];
      rc = uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "relationship %s.%s: %s is not a field of %s of kind %s (it holds "
                            "%s.%s; %s's primary key is %s)",
                            r->m->model->type_name, r->name, names[i], h->model->type_name,
                            uvsql__field_kind_name(pf, kb, sizeof kb), k->model->type_name,
                            pf->name, k->model->type_name, want);
    }
    if (!rc) {
      r->fks[i] = f;
      int in_pk = 0;
      for (size_t j = 0; j < h->npk; j++)
        in_pk |= h->pk[j] == (size_t)f;
      if (!in_pk)
        r->fkmask |= UINT64_C(1) << f;
    }
    free(names[i]);
  }
  r->nkey = k->npk;
  r->fk = r->fks[0];
  return rc;
}

uvsql_relationship_t *uvsql_mapper_relationship(uvsql_mapper_t *m, const char *name,
                                                uvsql_rel_kind_t kind, uvsql_mapper_t *target,
                                                size_t offset, const char *fk, unsigned flags,
                                                uvsql_error_t *err) {
  if (!m || !target || !name || kind < UVSQL_MANY_TO_ONE || kind > UVSQL_MANY_TO_MANY) {
    uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                     "uvsql_mapper_relationship: a mapper, a name, a kind and a target are "
                     "required");
    return NULL;
  }
  if (!m->npk || !target->npk) {
    uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                     "relationship %s.%s: both models need a primary key", m->model->type_name,
                     name);
    return NULL;
  }
  if (m->inherits) { /* its subclasses share the root's relationships (uvsql__rels_share) */
    uvsql__error_set(err, UVSQL_ENOT_SUPPORTED,
                     "relationship %s.%s: %s is a subclass of %s: declare the relationship on "
                     "the hierarchy's root %s (every subclass object has it)",
                     m->model->type_name, name, m->model->type_name, m->inherits->model->type_name,
                     m->root->model->type_name);
    return NULL;
  }
  if (uvsql_mapper_get_relationship(m, name)) {
    uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                     "relationship %s.%s is already declared: give the new one another name",
                     m->model->type_name, name);
    return NULL;
  }
  if (m->nrels == UVSQL__MAX_RELS) {
    uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                     "relationship %s.%s: %s already has %d relationships, the most a model "
                     "can have",
                     m->model->type_name, name, m->model->type_name, UVSQL__MAX_RELS);
    return NULL;
  }
  uvsql_relationship_t probe = {.m = m, .target = target, .kind = kind, .name = (char *)name};
  if (kind != UVSQL_MANY_TO_MANY && resolve_fk(&probe, fk, err))
    return NULL;
  if (kind == UVSQL_MANY_TO_MANY) {
    probe.fk = -1;
    probe.nkey = m->npk;
  }
  if ((flags & UVSQL_REL_POST_UPDATE) && kind == UVSQL_MANY_TO_MANY) {
    uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                     "relationship %s.%s: UVSQL_REL_POST_UPDATE needs a foreign key, and a "
                     "many-to-many relationship has none (its rows go to the secondary table)",
                     m->model->type_name, name);
    return NULL;
  }
  uvsql_relationship_t *r = calloc(1, sizeof *r);
  uvsql_relationship_t **v = realloc(m->rels, (m->nrels + 1) * sizeof *v);
  if (v)
    m->rels = v;
  if (!r || !v || !(r->name = strdup(name))) {
    free(r);
    uvsql__error_set(err, UVSQL_ENOMEM, "out of memory declaring relationship %s", name);
    return NULL;
  }
  char *nm = r->name;
  *r = probe;
  r->name = nm;
  r->offset = offset;
  r->flags = (flags & UVSQL_CASCADE_NONE) ? (flags & ~0xffu) : (flags | UVSQL_CASCADE_SAVE_UPDATE);
  r->lazy = UVSQL_LOAD_LAZY;
  r->order_by = -1;
  r->index = m->nrels;
  m->rels[m->nrels++] = r;
  if (flags & UVSQL_REL_POST_UPDATE) /* the mapper holding the key (flush.c) */
    (kind == UVSQL_MANY_TO_ONE ? m : target)->post_update |= r->fkmask;
  m->reg->has_rels = 1;
  uvsql__rels_share(m);
  return r;
}

void uvsql__rels_share(uvsql_mapper_t *root) {
  uvsql_registry_t *reg = root->reg;
  for (size_t k = 0; k < reg->n; k++) {
    uvsql_mapper_t *o = reg->mappers[k];
    if (o == root || o->root != root)
      continue;
    o->rels = root->rels; /* borrowed: the root frees them */
    o->nrels = root->nrels;
    o->rels_borrowed = 1;
    o->post_update = root->post_update;
  }
}

static void free_names(char **v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(v[i]);
    v[i] = NULL;
  }
}

uvsql_relationship_t *uvsql_relationship_secondary(uvsql_relationship_t *r,
                                                   uvsql_table_t *secondary, const char *source_col,
                                                   const char *target_col) {
  if (!r || r->kind != UVSQL_MANY_TO_MANY || !secondary || !source_col || !target_col)
    return NULL;
  char *src[UVSQL__MAX_PK] = {0}, *tgt[UVSQL__MAX_PK] = {0};
  long ns = split_names(source_col, src, UVSQL__MAX_PK);
  long nt = split_names(target_col, tgt, UVSQL__MAX_PK);
  int ok = ns == (long)r->m->npk && nt == (long)r->target->npk;
  for (long i = 0; ok && i < ns; i++)
    ok = uvsql_table_column(secondary, src[i]) != NULL;
  for (long i = 0; ok && i < nt; i++)
    ok = uvsql_table_column(secondary, tgt[i]) != NULL;
  if (!ok) {
    free_names(src, ns > 0 ? (size_t)ns : 0);
    free_names(tgt, nt > 0 ? (size_t)nt : 0);
    return NULL;
  }
  free_names(r->sec_src, UVSQL__MAX_PK);
  free_names(r->sec_tgt, UVSQL__MAX_PK);
  memcpy(r->sec_src, src, sizeof src);
  memcpy(r->sec_tgt, tgt, sizeof tgt);
  free(r->sec_source);
  free(r->sec_target);
  r->sec_source = strdup(source_col);
  r->sec_target = strdup(target_col);
  r->secondary = secondary;
  return r->sec_source && r->sec_target ? r : NULL;
}

uvsql_relationship_t *uvsql_relationship_back_populates(uvsql_relationship_t *a,
                                                        uvsql_relationship_t *b) {
  if (!a || !b || a->m != b->target || b->m != a->target)
    return NULL;
  a->back = b;
  b->back = a;
  return a;
}

uvsql_relationship_t *uvsql_relationship_loader(uvsql_relationship_t *r, uvsql_loader_t how) {
  if (r)
    r->lazy = how;
  return r;
}

uvsql_relationship_t *uvsql_relationship_order_by(uvsql_relationship_t *r, const char *field) {
  long f = r ? uvsql__field_index(r->target, field) : -1;
  if (f < 0)
    return NULL;
  r->order_by = f;
  return r;
}

uvsql_relationship_t *uvsql_mapper_get_relationship(const uvsql_mapper_t *m, const char *name) {
  for (size_t i = 0; m && name && i < m->nrels; i++)
    if (strcmp(m->rels[i]->name, name) == 0)
      return m->rels[i];
  return NULL;
}

void uvsql__mapper_free_rels(uvsql_mapper_t *m) {
  if (m->rels_borrowed)
    return; /* its root's (uvsql__rels_share) */
  for (size_t i = 0; i < m->nrels; i++) {
    uvsql_relationship_t *r = m->rels[i];
    uvsql_core_stmt_free(r->sel);
    uvsql_core_stmt_free(r->sec_ins);
    uvsql_core_stmt_free(r->sec_del);
    uvsql_core_stmt_free(r->sec_del_by[0]);
    uvsql_core_stmt_free(r->sec_del_by[1]);
    free(r->sec_source);
    free(r->sec_target);
    free_names(r->sec_src, UVSQL__MAX_PK);
    free_names(r->sec_tgt, UVSQL__MAX_PK);
    free(r->name);
    free(r);
  }
  free(m->rels);
  m->rels = NULL;
  m->nrels = 0;
}

void uvsql__obj_free_rels(uvsql__obj_t *h) {
  const uvsql_mapper_t *m = h->mapper;
  for (size_t i = 0; i < m->nrels; i++)
    if (uvsql__rel_many(m->rels[i])) {
      uvsql_collection_t *c = uvsql__rel_coll(m->rels[i], h->body);
      free(c->items);
      memset(c, 0, sizeof *c);
    }
}

/* ------------------------------------------------------------------ loaded state */

void uvsql__rel_set_loaded(const uvsql_relationship_t *r, void *obj, int loaded) {
  uvsql__obj_t *h = uvsql__hdr(obj);
  if (loaded)
    h->rel_loaded |= UINT64_C(1) << r->index;
  else
    h->rel_loaded &= ~(UINT64_C(1) << r->index);
  if (uvsql__rel_many(r))
    uvsql__rel_coll(r, obj)->loaded = loaded;
}

int uvsql_orm_is_loaded(const void *obj, const char *name) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  uvsql_relationship_t *r = h ? uvsql_mapper_get_relationship(h->mapper, name) : NULL;
  if (!r)
    return -1;
  if (h->state == UVSQL_OBJ_TRANSIENT || h->state == UVSQL_OBJ_PENDING)
    return 1; /* an object the program made: it has no rows to load */
  return (h->rel_loaded >> r->index) & 1;
}

void uvsql_orm_assert_loaded(const void *obj, const char *name, const char *file, int line) {
  if (uvsql_orm_is_loaded(obj, name) != 1) {
    fprintf(stderr,
            "%s:%d: relationship %s is not loaded (use a loader option or "
            "uvsql_session_load)\n",
            file, line, name);
    abort();
  }
}

/* ------------------------------------------------------------------ collections */

int uvsql__coll_push(uvsql_collection_t *c, void *obj) {
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 4;
    void **v = realloc(c->items, cap * sizeof *v);
    if (!v)
      return UVSQL_ENOMEM;
    c->items = v;
    c->cap = cap;
  }
  c->items[c->n++] = obj;
  return 0;
}

int uvsql__coll_has(const uvsql_collection_t *c, const void *obj) {
  for (size_t i = 0; i < c->n; i++)
    if (c->items[i] == obj)
      return 1;
  return 0;
}

static int coll_remove(uvsql_collection_t *c, const void *obj) {
  for (size_t i = 0; i < c->n; i++)
    if (c->items[i] == obj) {
      memmove(c->items + i, c->items + i + 1, (c->n - i - 1) * sizeof *c->items);
      c->n--;
      return 1;
    }
  return 0;
}

/* Whether a sorts after b: two values of one field (so of one type, or NULL); NULLs first,
 * as SQLite and MariaDB order them. */
static int value_after(const uvsql_value_t *a, const uvsql_value_t *b) {
  if (a->type == UVSQL_TYPE_NULL || b->type == UVSQL_TYPE_NULL)
    return b->type == UVSQL_TYPE_NULL && a->type != UVSQL_TYPE_NULL;
  switch (a->type) {
  case UVSQL_TYPE_TEXT:
    return strcmp(a->u.s.ptr, b->u.s.ptr) > 0;
  case UVSQL_TYPE_BYTES: {
    size_t n = a->u.s.len < b->u.s.len ? a->u.s.len : b->u.s.len;
    int c = n ? memcmp(a->u.s.ptr, b->u.s.ptr, n) : 0;
    return c > 0 || (c == 0 && a->u.s.len > b->u.s.len);
  }
  case UVSQL_TYPE_DOUBLE:
    return a->u.f64 > b->u.f64;
  case UVSQL_TYPE_BOOL:
    return a->u.b > b->u.b;
  case UVSQL_TYPE_NUMERIC: {
    uvsql_numeric_t x, y;
    return uvsql__value_numeric(a, &x) == 0 && uvsql__value_numeric(b, &y) == 0 &&
           uvsql_numeric_cmp(&x, &y) > 0;
  }
  case UVSQL_TYPE_UUID: /* as PostgreSQL orders them: bytewise */
    return memcmp(a->u.uuid, b->u.uuid, 16) > 0;
  default: /* INT64 and the temporal types */
    return a->u.i64 > b->u.i64;
  }
}

void uvsql__coll_sort(const uvsql_relationship_t *r, uvsql_collection_t *c) {
  if (r->order_by < 0 || c->n < 2)
    return;
  const uvsql_mapper_t *t = r->target;
  size_t f = (size_t)r->order_by;
  for (size_t i = 1; i < c->n; i++) { /* insertion sort: stable, and loads are mostly sorted */
    void *x = c->items[i];
    uvsql_value_t vx = uvsql__field_value(t, x, f);
    size_t j = i;
    while (j > 0) {
      uvsql_value_t vy = uvsql__field_value(t, c->items[j - 1], f);
      if (!value_after(&vy, &vx))
        break;
      c->items[j] = c->items[j - 1];
      j--;
    }
    c->items[j] = x;
  }
}

/* ------------------------------------------------------------------ changing links */

/* The foreign key of `holder` points at `parent` from the next flush on (one link per key
 * part); parent NULL: the key becomes NULL (its parts outside holder's own primary key). */
static int set_fk(const uvsql_relationship_t *r, void *holder, void *parent) {
  const uvsql_mapper_t *hm = uvsql__rel_holder(r);
  int rc = 0;
  for (size_t i = 0; !rc && i < r->nkey; i++) {
    size_t f = (size_t)r->fks[i];
    rc = uvsql__link_part(holder, f, parent, i);
    if (rc == 0 && !parent && (r->fkmask >> f & 1))
      rc = uvsql_orm_set_null(holder, (unsigned char *)holder + hm->model->fields[f].offset, 1);
  }
  return rc;
}

/* The parent holder's key fields of r are linked to, or NULL when they are not linked. */
static void *linked_to(const uvsql_relationship_t *r, void *holder) {
  uvsql__obj_t *h = uvsql__hdr(holder);
  for (size_t k = 0; k < h->nlinks; k++)
    if (h->links[k].field == (size_t)r->fk)
      return h->links[k].parent;
  return NULL;
}

/* holder no longer belongs to parent through r: its key becomes NULL, unless it was linked to
 * another parent meanwhile (appended there before being removed here). */
static int unset_fk(const uvsql_relationship_t *r, void *holder, void *parent) {
  void *p = linked_to(r, holder);
  return p && p != parent ? 0 : set_fk(r, holder, NULL);
}

/* child left parent's r (one-to-many, one-to-one or many-to-many): noted for delete-orphan. */
static int left_parent(uvsql_relationship_t *r, void *child) {
  uvsql__obj_t *ch = uvsql__hdr(child);
  if (!(r->flags & UVSQL_CASCADE_DELETE_ORPHAN) || !ch->session)
    return 0;
  return uvsql__cascade_orphan_note(ch->session, r, child);
}

static int cascade_add_to(void *owner, const uvsql_relationship_t *r, void *other) {
  uvsql__obj_t *h = uvsql__hdr(owner), *o = uvsql__hdr(other);
  if (!h->session || o->session || !(r->flags & UVSQL_CASCADE_SAVE_UPDATE))
    return 0;
  return uvsql_session_add(h->session, other);
}

static uvsql_relationship_t *find(void *obj, const char *name, int many) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  uvsql_relationship_t *r = h ? uvsql_mapper_get_relationship(h->mapper, name) : NULL;
  if (!r || uvsql__rel_many(r) != many)
    return NULL;
  return r;
}

/* The in-memory "other side" of parent.r gaining (add) or losing child. */
static int back_side(uvsql_relationship_t *r, void *parent, void *child, int add) {
  uvsql_relationship_t *b = r->back;
  if (!b)
    return 0;
  if (uvsql__rel_many(b)) {
    uvsql_collection_t *c = uvsql__rel_coll(b, child);
    if (!add)
      return coll_remove(c, parent), 0;
    return uvsql__coll_has(c, parent) ? 0 : uvsql__coll_push(c, parent);
  }
  void **ref = uvsql__rel_ref(b, child);
  if (add) {
    void *old = *ref;
    if (old && old != parent && uvsql__rel_many(r))
      coll_remove(uvsql__rel_coll(r, old), child); /* it moves from old to parent */
    *ref = parent;
    uvsql__hdr(child)->rel_loaded |= UINT64_C(1) << b->index;
  } else if (*ref == parent) {
    *ref = NULL;
  }
  return 0;
}

int uvsql_orm_append(void *parent, const char *name, void *child) {
  uvsql_relationship_t *r = find(parent, name, 1);
  uvsql__obj_t *ch = uvsql__obj_check(child);
  if (!r || !ch || !uvsql__mapper_isa(ch->mapper, r->target)) /* a subclass's object too */
    return UVSQL_EINVALID_ARGUMENT;
  uvsql_collection_t *c = uvsql__rel_coll(r, parent);
  if (uvsql__coll_has(c, child))
    return 0;
  int rc = uvsql__coll_push(c, child);
  if (!rc)
    rc = back_side(r, parent, child, 1);
  if (!rc && r->kind == UVSQL_ONE_TO_MANY)
    rc = set_fk(r, child, parent);
  uvsql_session_t *s = uvsql__hdr(parent)->session;
  if (!rc && r->kind == UVSQL_MANY_TO_MANY && s)
    uvsql__cascade_m2m_note(s, r, parent, child, 1);
  if (!rc && r->kind == UVSQL_MANY_TO_MANY && ch->session) { /* it has a parent again */
    uvsql__cascade_orphan_forget(ch->session, r, child);
    if (r->back)
      uvsql__cascade_orphan_forget(ch->session, r->back, parent);
  }
  if (!rc)
    rc = cascade_add_to(parent, r, child);
  return rc;
}

int uvsql_orm_remove(void *parent, const char *name, void *child) {
  uvsql_relationship_t *r = find(parent, name, 1);
  uvsql__obj_t *ch = uvsql__obj_check(child);
  if (!r || !ch || !uvsql__mapper_isa(ch->mapper, r->target))
    return UVSQL_EINVALID_ARGUMENT;
  if (!coll_remove(uvsql__rel_coll(r, parent), child))
    return 0;
  back_side(r, parent, child, 0);
  uvsql_session_t *s = uvsql__hdr(parent)->session;
  if (r->kind == UVSQL_MANY_TO_MANY && s)
    uvsql__cascade_m2m_note(s, r, parent, child, 0);
  int rc = r->kind == UVSQL_ONE_TO_MANY ? unset_fk(r, child, parent) : 0;
  return rc ? rc : left_parent(r, child); /* deleted at flush if it has no parent then */
}

int uvsql_orm_set_ref(void *obj, const char *name, void *target) {
  uvsql_relationship_t *r = find(obj, name, 0);
  uvsql__obj_t *t = target ? uvsql__obj_check(target) : NULL;
  if (!r || (target && (!t || !uvsql__mapper_isa(t->mapper, r->target))))
    return UVSQL_EINVALID_ARGUMENT;
  void **ref = uvsql__rel_ref(r, obj), *old = *ref;
  int rc = 0;
  *ref = target;
  uvsql__hdr(obj)->rel_loaded |= UINT64_C(1) << r->index;
  if (r->kind == UVSQL_MANY_TO_ONE) {
    rc = set_fk(r, obj, target);
    if (!rc && old && old != target && r->back) /* obj left old: an orphan if no parent */
      rc = left_parent(r->back, obj);
  } else { /* one-to-one: the key is in the target */
    if (old && old != target)
      rc = unset_fk(r, old, obj);
    if (!rc && old && old != target)
      rc = left_parent(r, old);
    if (!rc && target)
      rc = set_fk(r, target, obj);
  }
  if (!rc && r->back && old && old != target) { /* obj leaves old's side */
    if (uvsql__rel_many(r->back))
      coll_remove(uvsql__rel_coll(r->back, old), obj);
    else if (*uvsql__rel_ref(r->back, old) == obj)
      *uvsql__rel_ref(r->back, old) = NULL;
  }
  if (!rc && r->back && target) {
    if (uvsql__rel_many(r->back)) {
      uvsql_collection_t *c = uvsql__rel_coll(r->back, target);
      if (!uvsql__coll_has(c, obj))
        rc = uvsql__coll_push(c, obj);
    } else {
      *uvsql__rel_ref(r->back, target) = obj;
    }
  }
  if (!rc && target)
    rc = cascade_add_to(obj, r, target);
  return rc;
}

/* ------------------------------------------------------------------ save-update cascade */

int uvsql__rel_cascade_add(uvsql_session_t *s, uvsql__obj_t *h) {
  const uvsql_mapper_t *m = h->mapper;
  if (h->state == UVSQL_OBJ_PENDING) { /* made by the program: what it holds is complete */
    h->rel_loaded = m->nrels == 64 ? ~UINT64_C(0) : (UINT64_C(1) << m->nrels) - 1;
    for (size_t i = 0; i < m->nrels; i++)
      if (uvsql__rel_many(m->rels[i]))
        uvsql__rel_coll(m->rels[i], h->body)->loaded = 1;
  }
  for (size_t i = 0; i < m->nrels; i++) {
    uvsql_relationship_t *r = m->rels[i];
    if (uvsql__rel_many(r)) {
      uvsql_collection_t *c = uvsql__rel_coll(r, h->body);
      for (size_t k = 0; k < c->n; k++) {
        int rc = 0;
        if (r->kind == UVSQL_ONE_TO_MANY && uvsql__hdr(c->items[k])->state != UVSQL_OBJ_PERSISTENT)
          rc = set_fk(r, c->items[k], h->body);
        if (!rc && r->kind == UVSQL_MANY_TO_MANY && h->state == UVSQL_OBJ_PENDING)
          uvsql__cascade_m2m_note(s, r, h->body, c->items[k], 1);
        if (!rc && !uvsql__hdr(c->items[k])->session && (r->flags & UVSQL_CASCADE_SAVE_UPDATE))
          rc = uvsql_session_add(s, c->items[k]);
        if (rc)
          return rc;
      }
    } else {
      void *t = *uvsql__rel_ref(r, h->body);
      if (!t)
        continue;
      int rc = 0;
      if (h->state == UVSQL_OBJ_PENDING)
        rc = r->kind == UVSQL_MANY_TO_ONE ? set_fk(r, h->body, t) : set_fk(r, t, h->body);
      if (!rc && !uvsql__hdr(t)->session && (r->flags & UVSQL_CASCADE_SAVE_UPDATE))
        rc = uvsql_session_add(s, t);
      if (rc)
        return rc;
    }
  }
  return 0;
}

/* ------------------------------------------------------------------ int64 map */

static size_t slot(int64_t k, size_t cap) {
  uint64_t x = (uint64_t)k * 0x9e3779b97f4a7c15u;
  return (size_t)(x >> 17) & (cap - 1);
}

int uvsql__i64map_put(uvsql__i64map_t *mp, int64_t k, void *v) {
  if ((mp->n + 1) * 2 > mp->cap) {
    size_t cap = mp->cap ? mp->cap * 2 : 64;
    int64_t *keys = malloc(cap * sizeof *keys);
    void **vals = calloc(cap, sizeof *vals);
    if (!keys || !vals) {
      free(keys);
      free(vals);
      return UVSQL_ENOMEM;
    }
    for (size_t i = 0; i < mp->cap; i++) {
      if (!mp->vals[i])
        continue;
      size_t j = slot(mp->keys[i], cap);
      while (vals[j])
        j = (j + 1) & (cap - 1);
      keys[j] = mp->keys[i];
      vals[j] = mp->vals[i];
    }
    free(mp->keys);
    free(mp->vals);
    mp->keys = keys;
    mp->vals = vals;
    mp->cap = cap;
  }
  size_t j = slot(k, mp->cap);
  while (mp->vals[j] && mp->keys[j] != k)
    j = (j + 1) & (mp->cap - 1);
  if (!mp->vals[j])
    mp->n++;
  mp->keys[j] = k;
  mp->vals[j] = v;
  return 0;
}

void *uvsql__i64map_get(const uvsql__i64map_t *mp, int64_t k) {
  if (!mp->cap)
    return NULL;
  for (size_t j = slot(k, mp->cap); mp->vals[j]; j = (j + 1) & (mp->cap - 1))
    if (mp->keys[j] == k)
      return mp->vals[j];
  return NULL;
}

void uvsql__i64map_free(uvsql__i64map_t *mp) {
  free(mp->keys);
  free(mp->vals);
  memset(mp, 0, sizeof *mp);
}

/* ------------------------------------------------------------------ keys of any kinds */

int uvsql__rel_fk_values(const uvsql_relationship_t *r, const void *holder, uvsql_value_t *out) {
  const uvsql_mapper_t *hm = uvsql__rel_holder(r);
  for (size_t i = 0; i < r->nkey; i++) {
    out[i] = uvsql__field_value(hm, holder, (size_t)r->fks[i]);
    if (out[i].type == UVSQL_TYPE_NULL)
      return 0;
  }
  return 1;
}

int uvsql__key_equal(const uvsql_value_t *a, const uvsql_value_t *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!uvsql__value_equal(&a[i], &b[i]))
      return 0;
  return 1;
}

void uvsql__kmap_init(uvsql__kmap_t *mp, size_t nk) {
  memset(mp, 0, sizeof *mp);
  mp->nk = nk;
}

static size_t kslot(uint64_t h, size_t cap) {
  return (size_t)(h * 0x9e3779b97f4a7c15u >> 17) & (cap - 1);
}

int uvsql__kmap_put(uvsql__kmap_t *mp, const uvsql_value_t *k, void *v) {
  size_t nk = mp->nk;
  if ((mp->n + 1) * 2 > mp->cap) {
    size_t cap = mp->cap ? mp->cap * 2 : 64;
    uvsql_value_t *keys = malloc(cap * nk * sizeof *keys);
    uint64_t *hash = malloc(cap * sizeof *hash);
    void **vals = calloc(cap, sizeof *vals);
    if (!keys || !hash || !vals) {
      free(keys);
      free(hash);
      free(vals);
      return UVSQL_ENOMEM;
    }
    for (size_t i = 0; i < mp->cap; i++) {
      if (!mp->vals[i])
        continue;
      size_t j = kslot(mp->hash[i], cap);
      while (vals[j])
        j = (j + 1) & (cap - 1);
      memcpy(keys + j * nk, mp->keys + i * nk, nk * sizeof *keys);
      hash[j] = mp->hash[i];
      vals[j] = mp->vals[i];
    }
    free(mp->keys);
    free(mp->hash);
    free(mp->vals);
    mp->keys = keys;
    mp->hash = hash;
    mp->vals = vals;
    mp->cap = cap;
  }
  uint64_t h = uvsql__key_hash(0, k, nk);
  size_t j = kslot(h, mp->cap);
  while (mp->vals[j] && !(mp->hash[j] == h && uvsql__key_equal(mp->keys + j * nk, k, nk)))
    j = (j + 1) & (mp->cap - 1);
  if (!mp->vals[j])
    mp->n++;
  memcpy(mp->keys + j * nk, k, nk * sizeof *k);
  mp->hash[j] = h;
  mp->vals[j] = v;
  return 0;
}

void *uvsql__kmap_get(const uvsql__kmap_t *mp, const uvsql_value_t *k) {
  if (!mp->cap)
    return NULL;
  uint64_t h = uvsql__key_hash(0, k, mp->nk);
  for (size_t j = kslot(h, mp->cap); mp->vals[j]; j = (j + 1) & (mp->cap - 1))
    if (mp->hash[j] == h && uvsql__key_equal(mp->keys + j * mp->nk, k, mp->nk))
      return mp->vals[j];
  return NULL;
}

void uvsql__kmap_free(uvsql__kmap_t *mp) {
  free(mp->keys);
  free(mp->hash);
  free(mp->vals);
  size_t nk = mp->nk;
  memset(mp, 0, sizeof *mp);
  mp->nk = nk;
}
