/* src/orm/objects_api.c — the session's synchronous side: taking and giving back ownership
 * of objects (add, delete, expunge), the journal's storage, and ORM results (rows become
 * objects in loader.c).
 *
 * Invariants: those of session.c (every object with h->session == s is on s->owned, in the
 * order it was added; the identity map holds exactly the PERSISTENT ones). Nothing here
 * sends SQL or touches the operation queue.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* ------------------------------------------------------------------ ownership */

void uvsql__session_own(uvsql_session_t *s, uvsql__obj_t *h) {
  h->session = s;
  h->flags |= UVSQL__OF_OWNED;
  h->next = NULL; /* appended: a flush inserts in the order objects were added */
  h->prev = s->owned_tail;
  if (s->owned_tail)
    s->owned_tail->next = h;
  else
    s->owned = h;
  s->owned_tail = h;
}

void uvsql__session_disown(uvsql_session_t *s, uvsql__obj_t *h) {
  if (h->prev)
    h->prev->next = h->next;
  else
    s->owned = h->next;
  if (h->next)
    h->next->prev = h->prev;
  else
    s->owned_tail = h->prev;
  h->prev = h->next = NULL;
  h->session = NULL;
  h->flags &= (uint8_t)~UVSQL__OF_OWNED;
}

int uvsql__journal_add(uvsql_session_t *s, uvsql__obj_t *h, uvsql__jkind_t kind, void *old) {
  if (s->njournal == s->capjournal) {
    size_t cap = s->capjournal ? s->capjournal * 2 : 256;
    uvsql__jentry_t *j = realloc(s->journal, cap * sizeof *j);
    if (!j)
      return UVSQL_ENOMEM;
    s->journal = j;
    s->capjournal = cap;
  }
  s->journal[s->njournal++] = (uvsql__jentry_t){h, kind, old};
  return 0;
}

int uvsql_session_new(uvsql_session_t **out, uvsql_engine_t *engine, uvsql_registry_t *reg,
                      const uvsql_session_options_t *opt) {
  static const uvsql_session_options_t defaults = UVSQL_SESSION_OPTIONS_INIT;
  if (!out || !engine || !reg)
    return UVSQL_EINVALID_ARGUMENT;
  uvsql_session_t *s = calloc(1, sizeof *s);
  if (!s)
    return UVSQL_ENOMEM;
  s->engine = engine;
  s->loop = uvsql_engine_loop(engine);
  s->reg = reg;
  s->opt = opt ? *opt : defaults;
  if (s->opt.insert_batch_rows <= 0)
    s->opt.insert_batch_rows = defaults.insert_batch_rows;
  s->dialect = uvsql_engine_dialect(engine);
  s->param_limit = strcmp(s->dialect, "sqlite") == 0 ? 32766 : 65535;
  *out = s;
  return 0;
}

int uvsql_session_new_routed(uvsql_session_t **out, uvsql_router_t *router, uvsql_registry_t *reg,
                             const uvsql_session_options_t *opt) {
  uvsql_engine_t *e = router ? uvsql_router_engine(router, UVSQL_ROUTE_REPLICA) : NULL;
  int rc = uvsql_session_new(out, e, reg, opt); /* any node: they share loop and dialect */
  if (rc == 0)
    (*out)->router = router;
  return rc;
}

int uvsql_session_set_route(uvsql_session_t *s, uvsql_route_t route) {
  if (!s || !s->router || route < UVSQL_ROUTE_AUTO || route > UVSQL_ROUTE_REPLICA)
    return UVSQL_EINVALID_ARGUMENT;
  s->route = route;
  return 0;
}

int uvsql_session_on_replica(const uvsql_session_t *s) {
  return s && s->state == UVSQL__S_ACTIVE && s->tx_on_replica;
}

int uvsql_session_add(uvsql_session_t *s, void *obj) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  if (!s || !h || (h->session && h->session != s) || s->closing)
    return UVSQL_EINVALID_ARGUMENT;
  if (h->session == s) {
    h->flags &= (uint8_t)~UVSQL__OF_MARK_DELETE;
    if (h->state == UVSQL_OBJ_TRANSIENT)
      h->state = UVSQL_OBJ_PENDING;
    return h->state == UVSQL_OBJ_DETACHED || h->state == UVSQL_OBJ_DELETED ? UVSQL_EINVALID_ARGUMENT
                                                                           : 0;
  }
  if (h->state == UVSQL_OBJ_DETACHED) { /* expunged elsewhere: it has a row, attach it */
    uvsql_value_t pk[UVSQL__MAX_PK];
    uvsql__obj_pk(h->mapper, h->body, pk);
    if (uvsql__idmap_find(&s->idmap, h->mapper, pk))
      return UVSQL_EINVALID_ARGUMENT; /* the session has that row already */
    if ((!h->snap && uvsql__obj_snapshot(h)) || uvsql__idmap_put(&s->idmap, h))
      return UVSQL_ENOMEM;
    h->state = UVSQL_OBJ_PERSISTENT;
  } else {
    h->state = UVSQL_OBJ_PENDING;
  }
  uvsql__session_own(s, h);
  return h->mapper->nrels ? uvsql__rel_cascade_add(s, h) : 0;
}

int uvsql_session_add_all(uvsql_session_t *s, void *const *objs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int rc = uvsql_session_add(s, objs[i]);
    if (rc)
      return rc;
  }
  return 0;
}

int uvsql_session_delete(uvsql_session_t *s, void *obj) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  if (!s || !h || h->session != s)
    return UVSQL_EINVALID_ARGUMENT;
  if (h->state == UVSQL_OBJ_PENDING) {
    h->state = UVSQL_OBJ_TRANSIENT;
    return 0;
  }
  if (h->state != UVSQL_OBJ_PERSISTENT)
    return UVSQL_EINVALID_ARGUMENT;
  h->flags |= UVSQL__OF_MARK_DELETE;
  return 0;
}

int uvsql_session_expunge(uvsql_session_t *s, void *obj) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  if (!s || !h || h->session != s)
    return UVSQL_EINVALID_ARGUMENT;
  if (h->state == UVSQL_OBJ_PERSISTENT)
    uvsql__idmap_remove(&s->idmap, h);
  for (size_t i = 0; i < s->njournal; i++) /* the journal must not outlive its objects */
    if (s->journal[i].obj == h) {
      uvsql__snap_free(h, s->journal[i].old);
      s->journal[i].obj = NULL;
      s->journal[i].old = NULL;
    }
  if (s->rel)
    uvsql__rel_forget(s, h); /* pending secondary rows must not outlive it either */
  h->flags &= (uint8_t)~UVSQL__OF_MARK_DELETE;
  h->state = h->state == UVSQL_OBJ_PENDING || h->state == UVSQL_OBJ_TRANSIENT ? UVSQL_OBJ_TRANSIENT
                                                                              : UVSQL_OBJ_DETACHED;
  uvsql__session_disown(s, h);
  return 0;
}

int uvsql_session_is_modified(const uvsql_session_t *s, const void *obj) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  if (!h || h->session != s)
    return 0;
  return h->state == UVSQL_OBJ_PENDING || (h->flags & UVSQL__OF_MARK_DELETE) ||
         (h->state == UVSQL_OBJ_PERSISTENT && uvsql__obj_modified(h));
}

uint64_t uvsql_session_statement_count(const uvsql_session_t *s) {
  return s ? s->nstatements : 0;
}

/* ------------------------------------------------------------------ results */

size_t uvsql_orm_result_count(const uvsql_orm_result_t *r) {
  return r ? r->n : 0;
}
void *uvsql_orm_result_at(const uvsql_orm_result_t *r, size_t i) {
  return r && i < r->n ? r->objs[i] : NULL;
}
void *uvsql_orm_result_first(const uvsql_orm_result_t *r) {
  return uvsql_orm_result_at(r, 0);
}
/* The model name of a result's objects, for messages. */
static const char *result_model(const uvsql_orm_result_t *r) {
  uvsql__obj_t *h = r && r->n ? uvsql__obj_check(r->objs[0]) : NULL;
  return h ? h->mapper->model->type_name : "objects";
}

int uvsql_orm_result_one_or_none(const uvsql_orm_result_t *r, void **out, uvsql_error_t *err) {
  *out = NULL;
  if (r && r->n > 1)
    return uvsql__error_set(err, UVSQL_EINTERFACE,
                            "Multiple rows were found when one or none was required (%zu %s "
                            "rows): narrow the query's WHERE, or use uvsql_orm_result_first",
                            r->n, result_model(r));
  *out = uvsql_orm_result_first(r);
  return 0;
}
int uvsql_orm_result_one(const uvsql_orm_result_t *r, void **out, uvsql_error_t *err) {
  *out = NULL;
  if (!r || r->n == 0)
    return uvsql__error_set(err, UVSQL_EINTERFACE,
                            "No row was found when one was required: use "
                            "uvsql_orm_result_one_or_none when none is an answer");
  if (r->n > 1)
    return uvsql__error_set(err, UVSQL_EINTERFACE,
                            "Multiple rows were found when exactly one was required (%zu %s "
                            "rows): narrow the query's WHERE, or use uvsql_orm_result_first",
                            r->n, result_model(r));
  *out = r->objs[0];
  return 0;
}
void uvsql_orm_result_free(uvsql_orm_result_t *r) {
  if (r) {
    free(r->objs);
    free(r);
  }
}
