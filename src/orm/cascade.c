/* src/orm/cascade.c — the flush side of relationships, as the dependency processors the
 * flush calls at its phase boundaries (internal.h, uvsql__depprocs; flush.c drives them, and
 * nothing here calls into the flush but through uvsql__uow_*):
 *
 *   cascades      presort_deletes: delete to loaded children, delete-orphan;
 *                 presort_saves: save-update of what objects refer to, foreign keys linked
 *   one_to_many   preload: selectin of the unloaded collections that a deletion cascades to
 *                 or nulls the key of (repeated down the levels, one load per call);
 *                 presort_deletes: the children of a deleted parent without delete cascade
 *                 get a NULL key
 *   many_to_many  before_rows: secondary-table DELETEs (removed pairs, rows of deleted
 *                 objects); after_rows: secondary INSERTs (they need the generated keys)
 *
 * It also keeps the session's relationship state between flushes (s->rel: pending
 * secondary-table changes, orphan notes), which the processors' finish clears.
 *
 * Invariants:
 *  1. A pending secondary change is kept once, in canonical form: of a back_populates pair
 *     the relationship with the lower address, so both sides never insert the same row.
 *  2. Adding then removing the same pair before a flush cancels out.
 *  3. Delete-orphan is decided at flush, never at uvsql_orm_remove: a child that left a
 *     parent is noted (orphan_t), and the cascade pass deletes it only if no live parent
 *     holds it then (a link of its key to a parent not being deleted; for many-to-many a
 *     collection that holds it). So a child moved between parents keeps its row.
 *  4. The cascade pass changes nothing before it knows it can do everything: the NOT NULL
 *     check of a deleted parent's children comes before any key is set to NULL.
 *  5. The delete cascade of a deleted parent skips a child whose key the program linked to
 *     another parent (or to none) since it was loaded: a collection the flush loads (preload)
 *     is read from rows that still name the old parent, so it holds children moved away
 *     before the flush; deleting them would delete a moved child's row.
 *  6. A refresh or expire discards the object's unflushed relationship changes as SQLAlchemy's
 *     does (a rollback or expire_all those of every persistent object, uvsql__rel_expire): its
 *     links go (its keys are the row's), its relationships become not loaded, and so does
 *     every loaded collection / reference of the session that holds it (it may be held
 *     where the row no longer says so: reloaded when asked, never left wrong).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "loader.h"

typedef struct {
  uvsql_relationship_t *r;
  void *parent, *child;
  int add;
} note_t;

typedef struct {
  uvsql_relationship_t *r;
  void *child;
} orphan_t;

typedef struct {
  note_t *v;
  size_t n, cap;
  orphan_t *orph; /* children that left a parent of a delete-orphan relationship (inv. 3) */
  size_t norph, caporph;
} relstate_t;

static relstate_t *relstate(uvsql_session_t *s) {
  if (!s->rel)
    s->rel = calloc(1, sizeof(relstate_t));
  return s->rel;
}

int uvsql__cascade_orphan_note(uvsql_session_t *s, uvsql_relationship_t *r, void *child);
int uvsql__cascade_orphan_note(uvsql_session_t *s, uvsql_relationship_t *r, void *child) {
  relstate_t *st = relstate(s);
  if (!st)
    return UVSQL_ENOMEM;
  for (size_t i = 0; i < st->norph; i++)
    if (st->orph[i].r == r && st->orph[i].child == child)
      return 0;
  if (st->norph == st->caporph) {
    size_t cap = st->caporph ? st->caporph * 2 : 16;
    orphan_t *v = realloc(st->orph, cap * sizeof *v);
    if (!v)
      return UVSQL_ENOMEM;
    st->orph = v;
    st->caporph = cap;
  }
  st->orph[st->norph++] = (orphan_t){r, child};
  return 0;
}

void uvsql__cascade_orphan_forget(uvsql_session_t *s, uvsql_relationship_t *r, void *child);
void uvsql__cascade_orphan_forget(uvsql_session_t *s, uvsql_relationship_t *r, void *child) {
  relstate_t *st = s->rel;
  for (size_t i = 0; st && i < st->norph; i++)
    if (st->orph[i].r == r && st->orph[i].child == child) {
      st->orph[i] = st->orph[--st->norph];
      return;
    }
}

void uvsql__cascade_m2m_note(uvsql_session_t *s, uvsql_relationship_t *r, void *parent, void *child,
                             int add);

void uvsql__cascade_m2m_note(uvsql_session_t *s, uvsql_relationship_t *r, void *parent, void *child,
                             int add) {
  if (r->back && (uintptr_t)r->back < (uintptr_t)r) { /* invariant 1 */
    void *t = parent;
    r = r->back;
    parent = child;
    child = t;
  }
  relstate_t *st = relstate(s);
  if (!st)
    return; /* out of memory: the change is lost, as an allocation failure must not abort */
  for (size_t i = 0; i < st->n; i++) {
    note_t *e = &st->v[i];
    if (e->r != r || e->parent != parent || e->child != child)
      continue;
    if (e->add != add) /* invariant 2 */
      st->v[i] = st->v[--st->n];
    return;
  }
  if (st->n == st->cap) {
    size_t cap = st->cap ? st->cap * 2 : 16;
    note_t *v = realloc(st->v, cap * sizeof *v);
    if (!v)
      return;
    st->v = v;
    st->cap = cap;
  }
  st->v[st->n++] = (note_t){r, parent, child, add};
}

void uvsql__rel_session_free(uvsql_session_t *s) {
  relstate_t *st = s->rel;
  if (st) {
    free(st->v);
    free(st->orph);
  }
  free(st);
  s->rel = NULL;
}

void uvsql__rel_forget(uvsql_session_t *s, uvsql__obj_t *h) {
  relstate_t *st = s->rel;
  void *obj = uvsql__body(h);
  for (size_t i = 0; st && i < st->n;)
    if (st->v[i].parent == obj || st->v[i].child == obj)
      st->v[i] = st->v[--st->n];
    else
      i++;
  for (size_t i = 0; st && i < st->norph;)
    if (st->orph[i].child == obj)
      st->orph[i] = st->orph[--st->norph];
    else
      i++;
}

/* Invariant 6. Whether relationship r of holder o holds obj (loaded collection or reference). */
static int holds(uvsql_relationship_t *r, uvsql__obj_t *o, void *obj) {
  if (!uvsql__rel_many(r))
    return *uvsql__rel_ref(r, o->body) == obj;
  uvsql_collection_t *c = uvsql__rel_coll(r, o->body);
  for (size_t k = 0; k < c->n; k++)
    if (c->items[k] == obj)
      return 1;
  return 0;
}

static void unload(uvsql_relationship_t *r, uvsql__obj_t *o, size_t i) {
  if (uvsql__rel_many(r)) {
    uvsql_collection_t *c = uvsql__rel_coll(r, o->body);
    c->n = 0;
    c->loaded = 0;
  } else {
    *uvsql__rel_ref(r, o->body) = NULL;
  }
  o->rel_loaded &= ~(UINT64_C(1) << i);
}

void uvsql__rel_refresh(uvsql_session_t *s, uvsql__obj_t *h, int holders) {
  void *obj = uvsql__body(h);
  h->nlinks = 0; /* its keys are the row's: no reference change is pending any more */
  uvsql__rel_forget(s, h);
  for (size_t i = 0; i < h->mapper->nrels; i++)
    unload(h->mapper->rels[i], h, i);
  for (uvsql__obj_t *o = holders ? s->owned : NULL; o; o = o->next) /* may hold it wrongly */
    for (size_t i = 0; o != h && i < o->mapper->nrels; i++)
      if (holds(o->mapper->rels[i], o, obj))
        unload(o->mapper->rels[i], o, i);
}

void uvsql__rel_expire(uvsql_session_t *s) {
  relstate_t *st = s->rel;
  if (st)
    st->n = st->norph = 0;
  for (uvsql__obj_t *h = s->owned; h; h = h->next) {
    const uvsql_mapper_t *m = h->mapper;
    if (h->state != UVSQL_OBJ_PERSISTENT || !m->nrels)
      continue;
    h->rel_loaded = 0;
    h->nlinks = 0; /* reference changes rolled back / expired: the keys are the row's */
    for (size_t i = 0; i < m->nrels; i++) {
      if (uvsql__rel_many(m->rels[i])) {
        uvsql_collection_t *c = uvsql__rel_coll(m->rels[i], h->body);
        c->n = 0;
        c->loaded = 0;
      } else {
        *uvsql__rel_ref(m->rels[i], h->body) = NULL;
      }
    }
  }
}

/* ------------------------------------------------------------------ the cascade pass */

#define DELETES_CHILDREN (UVSQL_CASCADE_DELETE | UVSQL_CASCADE_DELETE_ORPHAN)

/* Whether child, in a collection / reference of r of parent h, was given another parent (or
 * none) by the program: its key is linked elsewhere (invariant 5). */
static int linked_elsewhere(const uvsql_relationship_t *r, uvsql__obj_t *h, void *child) {
  uvsql__obj_t *ch = uvsql__hdr(child);
  for (size_t k = 0; r->kind != UVSQL_MANY_TO_MANY && k < ch->nlinks; k++)
    if (ch->links[k].field == (size_t)r->fk)
      return ch->links[k].parent != uvsql__body(h);
  return 0;
}

static int cascade_delete(uvsql_session_t *s, uvsql__obj_t *h, int depth) {
  const uvsql_mapper_t *m = h->mapper;
  for (size_t i = 0; depth < 100 && i < m->nrels; i++) {
    uvsql_relationship_t *r = m->rels[i];
    if (!(r->flags & DELETES_CHILDREN) || r->kind == UVSQL_MANY_TO_ONE)
      continue;
    if (r->kind == UVSQL_MANY_TO_MANY && !(r->flags & UVSQL_CASCADE_DELETE))
      continue; /* delete-orphan alone: the pass decides once the secondary rows are gone */
    size_t n = 1;
    void **items = uvsql__rel_ref(r, h->body);
    if (uvsql__rel_many(r)) {
      n = uvsql__rel_coll(r, h->body)->n;
      items = uvsql__rel_coll(r, h->body)->items;
    }
    for (size_t k = 0; k < n; k++) {
      uvsql__obj_t *c = items[k] ? uvsql__hdr(items[k]) : NULL;
      if (!c || c->session != s || (c->flags & UVSQL__OF_MARK_DELETE) ||
          linked_elsewhere(r, h, items[k]))
        continue;
      if (c->state == UVSQL_OBJ_PERSISTENT || c->state == UVSQL_OBJ_PENDING) {
        int persistent = c->state == UVSQL_OBJ_PERSISTENT;
        int rc = uvsql_session_delete(s, items[k]);
        if (rc == 0 && persistent)
          rc = cascade_delete(s, c, depth + 1);
        if (rc)
          return rc;
      }
    }
  }
  return 0;
}

/* Whether obj is a live object of s: pending or persistent, not being deleted. */
static int live(uvsql_session_t *s, void *obj) {
  uvsql__obj_t *h = obj ? uvsql__obj_check(obj) : NULL;
  return h && h->session == s && !(h->flags & UVSQL__OF_MARK_DELETE) &&
         (h->state == UVSQL_OBJ_PENDING || h->state == UVSQL_OBJ_PERSISTENT);
}

/* Whether child, which left a parent of r, has a parent at this flush (invariant 3): its key
 * linked to a live parent. Many-to-many, as SQLAlchemy's single_parent: the last change
 * counts, and an append forgets the note (uvsql__cascade_orphan_forget). */
static int has_parent(uvsql_session_t *s, uvsql_relationship_t *r, void *child) {
  uvsql__obj_t *ch = uvsql__hdr(child);
  for (size_t k = 0; r->kind != UVSQL_MANY_TO_MANY && k < ch->nlinks; k++)
    if (ch->links[k].field == (size_t)r->fk && live(s, ch->links[k].parent))
      return 1;
  return 0;
}

static int delete_orphans(uvsql_session_t *s) {
  relstate_t *st = s->rel;
  for (size_t i = 0; st && i < st->norph; i++) {
    void *child = st->orph[i].child;
    uvsql__obj_t *ch = uvsql__hdr(child);
    if (!live(s, child) || has_parent(s, st->orph[i].r, child))
      continue;
    int persistent = ch->state == UVSQL_OBJ_PERSISTENT;
    int rc = uvsql_session_delete(s, child); /* pending: it is not inserted at all */
    if (rc == 0 && persistent)
      rc = cascade_delete(s, ch, 1);
    if (rc)
      return rc;
  }
  return 0;
}

/* The key of r (one-to-many / one-to-one) in child points at parent h: linked to it, or not
 * linked and holding h's key. */
static int points_at(const uvsql_relationship_t *r, uvsql__obj_t *h, void *child) {
  uvsql__obj_t *ch = uvsql__hdr(child);
  for (size_t k = 0; k < ch->nlinks; k++)
    if (ch->links[k].field == (size_t)r->fk)
      return ch->links[k].parent == uvsql__body(h);
  uvsql_value_t fk[UVSQL__MAX_PK], pk[UVSQL__MAX_PK];
  if (!uvsql__rel_fk_values(r, child, fk))
    return 0;
  uvsql__obj_pk(h->mapper, h->body, pk);
  return uvsql__key_equal(fk, pk, r->nkey);
}

/* Relationships of a deleted parent whose children keep their rows with a NULL key. */
static int nulls_children(const uvsql_relationship_t *r) {
  return (r->kind == UVSQL_ONE_TO_MANY || r->kind == UVSQL_ONE_TO_ONE) &&
         !(r->flags & (DELETES_CHILDREN | UVSQL_REL_PASSIVE_DELETES));
}

/* The children of the deleted parents, through relationships without delete cascade, lose
 * their key: checked first (NOT NULL), then set (invariant 4). */
static int null_children(uvsql_session_t *s, uvsql_error_t *err) {
  for (int apply = 0; apply < 2; apply++)
    for (uvsql__obj_t *h = s->owned; h; h = h->next) {
      if (!(h->flags & UVSQL__OF_MARK_DELETE) || h->state != UVSQL_OBJ_PERSISTENT)
        continue;
      const uvsql_mapper_t *m = h->mapper;
      for (size_t i = 0; i < m->nrels; i++) {
        uvsql_relationship_t *r = m->rels[i];
        if (!nulls_children(r))
          continue;
        size_t n = 1;
        void **items = uvsql__rel_ref(r, h->body);
        if (uvsql__rel_many(r)) {
          n = uvsql__rel_coll(r, h->body)->n;
          items = uvsql__rel_coll(r, h->body)->items;
        }
        for (size_t k = 0; k < n; k++) {
          void *c = items[k];
          if (!live(s, c) || !points_at(r, h, c))
            continue;
          long nn = -1; /* a part that cannot become NULL */
          for (size_t p = 0; p < r->nkey; p++)
            if ((r->fkmask >> r->fks[p] & 1) &&
                (uvsql_column_flags(r->target->cols[r->fks[p]]) & UVSQL_NOT_NULL))
              nn = r->fks[p];
          const uvsql_field_t *f = &r->target->model->fields[nn >= 0 ? nn : r->fk];
          if (!apply && nn >= 0)
            return uvsql__error_set(
                err, UVSQL_EINTEGRITY,
                "deleting a %s would set %s.%s of its %s (relationship %s.%s) to NULL, but "
                "that column is NOT NULL: give the relationship UVSQL_CASCADE_DELETE to "
                "delete the children with it, or UVSQL_REL_PASSIVE_DELETES to leave them to "
                "the database's ON DELETE",
                m->model->type_name, uvsql_table_name(r->target->table), f->name,
                r->target->model->type_name, m->model->type_name, r->name);
          if (!apply)
            continue;
          int rc = 0;
          for (size_t p = 0; !rc && p < r->nkey; p++) {
            const uvsql_field_t *pf = &r->target->model->fields[r->fks[p]];
            rc = uvsql__link_part(c, (size_t)r->fks[p], NULL, 0);
            if (!rc && (r->fkmask >> r->fks[p] & 1))
              rc = uvsql_orm_set_null(c, (unsigned char *)c + pf->offset, 1);
          }
          if (!rc && r->back && !uvsql__rel_many(r->back) && *uvsql__rel_ref(r->back, c) == h->body)
            *uvsql__rel_ref(r->back, c) = NULL;
          if (rc)
            return uvsql__error_set(err, rc, "out of memory cascading a deletion");
        }
      }
    }
  return 0;
}

/* cascades: presort_deletes. Delete cascades to the collections of objects marked for
 * deletion, then delete-orphan (invariant 3). */
static int cascade_deletes(uvsql_session_t *s, uvsql_error_t *err) {
  for (uvsql__obj_t *h = s->owned; h; h = h->next)
    if ((h->flags & UVSQL__OF_MARK_DELETE) && h->mapper->nrels) {
      int rc = cascade_delete(s, h, 0);
      if (rc)
        return uvsql__error_set(err, rc, "cascade before a flush failed (out of memory)");
    }
  int rc = delete_orphans(s);
  if (rc)
    return uvsql__error_set(err, rc, "cascade before a flush failed (out of memory)");
  return 0;
}

/* cascades: presort_saves. Save-update adds what live objects refer to and links their
 * foreign keys (relationship.c). */
static int cascade_saves(uvsql_session_t *s, uvsql_error_t *err) {
  for (uvsql__obj_t *h = s->owned; h; h = h->next) {
    if (!h->mapper->nrels || (h->flags & UVSQL__OF_MARK_DELETE) ||
        (h->state != UVSQL_OBJ_PENDING && h->state != UVSQL_OBJ_PERSISTENT))
      continue;
    int rc = uvsql__rel_cascade_add(s, h);
    if (rc)
      return uvsql__error_set(err, rc, "cascade before a flush failed (out of memory)");
  }
  return 0;
}

/* ------------------------------------------------------------------ secondary rows */

/* Bind names of the secondary statements: "a0".. for the source's key parts, "b0".. for the
 * target's. */
static const char *const a_names[UVSQL__MAX_PK] = {"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"};
static const char *const b_names[UVSQL__MAX_PK] = {"b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7"};

/* col_i = :name_i AND ... for n parts. */
static uvsql_expr_t *key_match(uvsql_core_stmt_t *st, uvsql_from_t *sf, char *const *cols, size_t n,
                               const char *const *names) {
  uvsql_expr_t *e[UVSQL__MAX_PK];
  for (size_t i = 0; i < n; i++)
    e[i] = uvsql_eq(st, uvsql_from_col(sf, cols[i]), uvsql_bindparam(st, names[i]));
  return n == 1 ? e[0] : uvsql_and_n(st, e, n);
}

/* Whether the secondary's column for part i of the target's key is also one of the source's
 * ("tenant_id" in both keys): the INSERT lists it once, with the source's value. */
static int sec_shared(const uvsql_relationship_t *r, size_t i) {
  for (size_t k = 0; k < r->m->npk; k++)
    if (strcmp(r->sec_src[k], r->sec_tgt[i]) == 0)
      return 1;
  return 0;
}

static uvsql_core_stmt_t *sec_stmt(uvsql_relationship_t *r, int which) {
  uvsql_core_stmt_t **slot = which == 0   ? &r->sec_ins
                             : which == 1 ? &r->sec_del
                                          : &r->sec_del_by[which - 2];
  if (*slot)
    return *slot;
  uvsql_core_stmt_t *st;
  uvsql_from_t *sf = uvsql_table_from(r->secondary);
  size_t na = r->m->npk, nb = r->target->npk;
  if (which == 0) {
    st = uvsql_insert(r->secondary);
    if (st) {
      const char *cols[2 * UVSQL__MAX_PK + 1];
      uvsql_expr_t *vals[2 * UVSQL__MAX_PK];
      for (size_t i = 0; i < na; i++) {
        cols[i] = r->sec_src[i];
        vals[i] = uvsql_bindparam(st, a_names[i]);
      }
      size_t n = na;
      for (size_t i = 0; i < nb; i++) {
        if (sec_shared(r, i))
          continue;
        cols[n] = r->sec_tgt[i];
        vals[n++] = uvsql_bindparam(st, b_names[i]);
      }
      cols[n] = NULL;
      uvsql_insert_columns(st, cols);
      uvsql_insert_row(st, vals, n);
    }
  } else {
    st = uvsql_delete(r->secondary);
    if (st && which == 1)
      uvsql_where(st, uvsql_and(st, key_match(st, sf, r->sec_src, na, a_names),
                                key_match(st, sf, r->sec_tgt, nb, b_names)));
    else if (st)
      uvsql_where(st, which == 2 ? key_match(st, sf, r->sec_src, na, a_names)
                                 : key_match(st, sf, r->sec_tgt, nb, a_names));
  }
  *slot = st;
  return st;
}

/* which 0 (INSERT) / 1 (DELETE of a pair): a is the source object, b the target; 2 / 3
 * (DELETE every row of a as source / as target): b is NULL. */
static void sec_send(uvsql__uow_t *u, uvsql_relationship_t *r, int which, void *a, void *b) {
  uvsql_param_t p[2 * UVSQL__MAX_PK];
  uvsql_value_t ka[UVSQL__MAX_PK], kb[UVSQL__MAX_PK];
  const uvsql_mapper_t *ma = which == 3 ? r->target : r->m;
  size_t n = 0;
  uvsql__obj_pk(ma, a, ka);
  for (size_t i = 0; i < ma->npk; i++)
    p[n++] = UVSQL_P(a_names[i], ka[i]);
  if (b) {
    uvsql__obj_pk(r->target, b, kb);
    for (size_t i = 0; i < r->target->npk; i++)
      if (which != 0 || !sec_shared(r, i))
        p[n++] = UVSQL_P(b_names[i], kb[i]);
  }
  uvsql__uow_execute(u, sec_stmt(r, which), p, n, "a secondary-table statement");
}

static int has_key(void *obj) {
  uvsql__obj_t *h = uvsql__hdr(obj);
  return h->state == UVSQL_OBJ_PERSISTENT;
}

/* many_to_many: before_rows. Removed pairs, and every row of the objects marked for deletion
 * (the rows they remove may hold keys of objects being deleted). */
static void m2m_before_rows(uvsql__uow_t *u) {
  uvsql_session_t *s = uvsql__uow_session(u);
  relstate_t *st = s->rel;
  for (size_t i = 0; st && i < st->n && !uvsql__uow_failed(u); i++) {
    note_t *e = &st->v[i];
    if (!e->add && has_key(e->parent) && has_key(e->child))
      sec_send(u, e->r, 1, e->parent, e->child);
  }
  uvsql_registry_t *reg = s->reg;
  for (uvsql__obj_t *h = s->owned; h && !uvsql__uow_failed(u); h = h->next) {
    if (!(h->flags & UVSQL__OF_MARK_DELETE) || h->state != UVSQL_OBJ_PERSISTENT)
      continue;
    for (size_t mi = 0; mi < reg->n; mi++)
      for (size_t ri = 0; !reg->mappers[mi]->rels_borrowed && ri < reg->mappers[mi]->nrels; ri++) {
        uvsql_relationship_t *r = reg->mappers[mi]->rels[ri];
        if (r->kind != UVSQL_MANY_TO_MANY || !r->secondary ||
            (r->back && (uintptr_t)r->back < (uintptr_t)r))
          continue;
        if (uvsql__mapper_isa(h->mapper, r->m)) /* a subclass object has its root's */
          sec_send(u, r, 2, h->body, NULL);
        if (r->target == h->mapper)
          sec_send(u, r, 3, h->body, NULL);
      }
  }
}

/* many_to_many: after_rows. Added pairs (they need the keys the flush generated). */
static void m2m_after_rows(uvsql__uow_t *u) {
  relstate_t *st = uvsql__uow_session(u)->rel;
  for (size_t i = 0; st && i < st->n && !uvsql__uow_failed(u); i++) {
    note_t *e = &st->v[i];
    if (e->add && has_key(e->parent) && has_key(e->child) &&
        !(uvsql__hdr(e->parent)->flags & UVSQL__OF_MARK_DELETE) &&
        !(uvsql__hdr(e->child)->flags & UVSQL__OF_MARK_DELETE))
      sec_send(u, e->r, 0, e->parent, e->child);
  }
}

static int m2m_needed(uvsql_session_t *s) {
  relstate_t *st = s->rel;
  return st && st->n > 0;
}

/* The flush ended (done or failed): the pending secondary changes and orphan notes are
 * forgotten (after a failure the session must be rolled back anyway). */
static void m2m_finish(uvsql_session_t *s) {
  relstate_t *st = s->rel;
  if (st)
    st->n = 0;
}
static void cascades_finish(uvsql_session_t *s) {
  relstate_t *st = s->rel;
  if (st)
    st->norph = 0;
}

/* ------------------------------------------------------------------ preloading for delete */

typedef struct {
  uvsql__uow_t *u;
  uvsql__plan_t root, nodes[UVSQL__MAX_RELS];
  uvsql__plan_t *kids[UVSQL__MAX_RELS];
  void **parents;
} preload_t;

static void preloaded(uvsql__load_t *ld, const uvsql_error_t *err) {
  preload_t *pl = uvsql__load_data(ld);
  uvsql__uow_t *u = pl->u;
  free(pl->parents);
  free(pl);
  uvsql__uow_resume(u, err);
}

/* one_to_many: preload. Deleting an object deletes the objects of its DELETE-cascading
 * collections, or sets their key NULL: those not loaded yet are loaded first, unless passive
 * (one mapper at a time; the flush calls it again after each load, and it ends as every round
 * loads at least one relationship that was not loaded). */
static int o2m_preload(uvsql__uow_t *u, uvsql_error_t *err) {
  uvsql_session_t *s = uvsql__uow_session(u);
  uvsql_registry_t *reg = s->reg;
  int rc = delete_orphans(s); /* orphans first: their children are loaded too */
  for (uvsql__obj_t *h = s->owned; h && !rc; h = h->next) /* mark what loaded ones hold */
    if ((h->flags & UVSQL__OF_MARK_DELETE) && h->mapper->nrels)
      rc = cascade_delete(s, h, 0);
  if (rc)
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory cascading a deletion");
  for (size_t mi = 0; mi < reg->n; mi++) {
    uvsql_mapper_t *m = reg->mappers[mi];
    uint64_t want = 0; /* one-to-many / one-to-one: their children are deleted or nulled */
    for (size_t i = 0; i < m->nrels; i++)
      if (m->rels[i]->kind != UVSQL_MANY_TO_ONE && m->rels[i]->kind != UVSQL_MANY_TO_MANY &&
          !(m->rels[i]->flags & UVSQL_REL_PASSIVE_DELETES))
        want |= UINT64_C(1) << i;
    if (!want)
      continue;
    size_t n = 0;
    for (uvsql__obj_t *h = s->owned; h; h = h->next)
      n += h->mapper == m && (h->flags & UVSQL__OF_MARK_DELETE) && (want & ~h->rel_loaded);
    if (!n)
      continue;
    preload_t *pl = calloc(1, sizeof *pl);
    if (pl && !(pl->parents = malloc(n * sizeof *pl->parents))) {
      free(pl);
      pl = NULL;
    }
    if (!pl)
      return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory cascading a deletion");
    pl->u = u;
    n = 0;
    for (uvsql__obj_t *h = s->owned; h; h = h->next)
      if (h->mapper == m && (h->flags & UVSQL__OF_MARK_DELETE) && (want & ~h->rel_loaded))
        pl->parents[n++] = uvsql__body(h);
    for (size_t i = 0; i < m->nrels; i++)
      if (want >> i & 1) {
        uvsql__plan_t *k = &pl->nodes[pl->root.nkids];
        k->r = m->rels[i];
        k->how = UVSQL_LOAD_SELECTIN;
        k->depth = 1;
        pl->kids[pl->root.nkids++] = k;
      }
    pl->root.kids = pl->kids;
    uvsql__selectin(s, &pl->root, pl->parents, n, preloaded, pl);
    return 1;
  }
  return 0;
}

/* ------------------------------------------------------------------ the processors */

/* Session-level cascades (SQLAlchemy's cascade_iterator before its flush): delete and
 * delete-orphan along every kind, then save-update. */
static const uvsql__depproc_t cascades = {
    .name = "cascades",
    .presort_deletes = cascade_deletes,
    .presort_saves = cascade_saves,
    .finish = cascades_finish,
};
/* One-to-many / one-to-one: the children of a deleted parent (loaded first) lose their key. */
static const uvsql__depproc_t one_to_many = {
    .name = "one_to_many",
    .preload = o2m_preload,
    .presort_deletes = null_children,
};
/* Many-to-many: the secondary table's rows around the mappers' rows. */
static const uvsql__depproc_t many_to_many = {
    .name = "many_to_many",
    .before_rows = m2m_before_rows,
    .after_rows = m2m_after_rows,
    .needed = m2m_needed,
    .finish = m2m_finish,
};

/* Many-to-one: post_update (post_update.c). Its keys themselves are synced by the flush
 * before each INSERT/UPDATE (uvsql_orm_link records them on the child; flush.c apply_links). */
const uvsql__depproc_t *const uvsql__depprocs[] = {&cascades, &one_to_many, &uvsql__dep_many_to_one,
                                                   &many_to_many, NULL};
