/* src/orm/events.c — ORM events (SQLAlchemy's before_flush, before/after_insert/update/delete,
 * after_commit, after_rollback): the listener lists of mappers and sessions, and firing them.
 * The flush (flush.c) and the session (session.c) call uvsql__events_fire at the points
 * orm.h's "events" section names; nothing here sends SQL.
 *
 * Invariants:
 *  1. A listener list is owned by its mapper (freed with the registry) or session (freed
 *     with it); entries keep their registration order and are never removed.
 *  2. Firing calls the mapper's listeners, then the session's, and stops at the first that
 *     fails; its message is wrapped once as "<event> event of <type> failed: <message>".
 *  3. uvsql__events_has is O(1): each list keeps the union of its masks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

typedef struct {
  unsigned mask;
  uvsql_event_fn fn;
  void *data;
} listener_t;

typedef struct {
  unsigned all; /* the union of the masks (invariant 3) */
  size_t n, cap;
  listener_t *v;
} evlist_t;

const char *uvsql_event_name(unsigned event) {
  switch (event) {
  case UVSQL_EV_BEFORE_FLUSH:
    return "before_flush";
  case UVSQL_EV_BEFORE_INSERT:
    return "before_insert";
  case UVSQL_EV_AFTER_INSERT:
    return "after_insert";
  case UVSQL_EV_BEFORE_UPDATE:
    return "before_update";
  case UVSQL_EV_AFTER_UPDATE:
    return "after_update";
  case UVSQL_EV_BEFORE_DELETE:
    return "before_delete";
  case UVSQL_EV_AFTER_DELETE:
    return "after_delete";
  case UVSQL_EV_AFTER_COMMIT:
    return "after_commit";
  case UVSQL_EV_AFTER_ROLLBACK:
    return "after_rollback";
  default:
    return "unknown";
  }
}

#define ALL_EVENTS 0x1ffu

static int add(void **slot, unsigned allowed, const char *who, unsigned mask, uvsql_event_fn fn,
               void *data, uvsql_error_t *err) {
  if (!fn || !mask || (mask & ~allowed)) {
    uvsql_error_t tmp;
    return uvsql__error_set(err ? err : &tmp, UVSQL_EINVALID_ARGUMENT,
                            "%s: %s (mask 0x%x): give a function and a mask of %s", who,
                            !fn ? "no listener function" : "events it cannot fire", mask,
                            allowed == ALL_EVENTS
                                ? "UVSQL_EV_* events"
                                : "per-object events (UVSQL_EV_BEFORE_INSERT .. "
                                  "UVSQL_EV_AFTER_DELETE); register before_flush, after_commit "
                                  "and after_rollback with uvsql_session_on");
  }
  evlist_t *l = *slot;
  if (!l && !(l = calloc(1, sizeof *l)))
    goto oom;
  *slot = l;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 4;
    listener_t *v = realloc(l->v, cap * sizeof *v);
    if (!v)
      goto oom;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = (listener_t){mask, fn, data};
  l->all |= mask;
  return 0;
oom:;
  uvsql_error_t tmp;
  return uvsql__error_set(err ? err : &tmp, UVSQL_ENOMEM, "%s: out of memory", who);
}

int uvsql_mapper_on(uvsql_mapper_t *m, unsigned mask, uvsql_event_fn fn, void *data,
                    uvsql_error_t *err) {
  if (!m) {
    uvsql_error_t tmp;
    return uvsql__error_set(err ? err : &tmp, UVSQL_EINVALID_ARGUMENT,
                            "uvsql_mapper_on: no mapper (NULL)");
  }
  return add(&m->events, UVSQL_EV_OBJECT_EVENTS, "uvsql_mapper_on", mask, fn, data, err);
}

int uvsql_session_on(uvsql_session_t *s, unsigned mask, uvsql_event_fn fn, void *data,
                     uvsql_error_t *err) {
  if (!s) {
    uvsql_error_t tmp;
    return uvsql__error_set(err ? err : &tmp, UVSQL_EINVALID_ARGUMENT,
                            "uvsql_session_on: no session (NULL)");
  }
  return add(&s->events, ALL_EVENTS, "uvsql_session_on", mask, fn, data, err);
}

int uvsql__events_has(const uvsql_session_t *s, const uvsql_mapper_t *m, unsigned ev) {
  const evlist_t *a = m ? m->events : NULL, *b = s->events;
  return (a && (a->all & ev)) || (b && (b->all & ev));
}

static int fire_list(const evlist_t *l, uvsql_session_t *s, const uvsql_mapper_t *m, unsigned ev,
                     void *obj, uvsql_error_t *err) {
  for (size_t i = 0; l && i < l->n; i++) {
    if (!(l->v[i].mask & ev))
      continue;
    uvsql_error_t e;
    uvsql_error_clear(&e);
    int rc = l->v[i].fn(s, ev, obj, l->v[i].data, &e);
    if (rc == 0)
      continue;
    if (rc > 0 || !uvsql_err_name(rc) || strcmp(uvsql_err_name(rc), "UVSQL_UNKNOWN") == 0)
      rc = UVSQL_EINVALID_ARGUMENT; /* not a UVSQL_E* code */
    size_t len = strnlen(e.message, sizeof e.message);
    if (len == sizeof e.message)
      e.message[--len] = '\0';
    uvsql__error_set(err, rc, "%s event of %s failed: %s", uvsql_event_name(ev),
                     m ? m->model->type_name : "the session",
                     len ? e.message : "the listener returned an error without a message");
    return rc;
  }
  return 0;
}

int uvsql__events_fire(uvsql_session_t *s, const uvsql_mapper_t *m, unsigned ev, void *obj,
                       uvsql_error_t *err) {
  if (!uvsql__events_has(s, m, ev))
    return 0;
  int rc = fire_list(m ? m->events : NULL, s, m, ev, obj, err);
  return rc ? rc : fire_list(s->events, s, m, ev, obj, err);
}

void uvsql__events_free(void *events) {
  evlist_t *l = events;
  if (l) {
    free(l->v);
    free(l);
  }
}
