/* src/orm/flush.c — the unit of work: turns the session's pending, dirty and deleted objects
 * into batched statements on the session's connection, in foreign-key order. It is the one
 * driver of a flush (SQLAlchemy's UOWTransaction): the relationship steps are dependency
 * processors (cascade.c, uvsql__depprocs) that step() calls at its phase boundaries; they
 * send their statements through uvsql__uow_execute and end a preload with uvsql__uow_resume.
 *
 * Phases (one flush_t = uvsql__uow_t, driven by statement callbacks; PH_*):
 *
 *   PRELOAD (processors' loads, while any starts one) --> presort_deletes, presort_saves
 *   (processors) --> COLLECT --> ORDER --> before_rows (processors' statements) --all back-->
 *   INSERT(mapper 0, level 0) --all batches back--> INSERT(mapper 0, level 1) ... -->
 *   INSERT(mapper k, ...) --> WRITE (processors' after_inserts: the post-update UPDATEs of
 *   the new rows; every UPDATE; processors' before_deletes: the post-update clearing UPDATEs;
 *   then every DELETE, children's mappers first) --all back-->
 *   AFTER_ROWS (objects change state, journal; then the processors' after_rows statements)
 *   --all back--> processors' finish --> done(NULL)
 *   any statement fails --> (wait for the rest in flight) --> finish --> done(err); objects
 *   unchanged (but after AFTER_ROWS began: the session must be rolled back, as after any
 *   failed flush)
 *   no relationships in the registry: no processor is called (the path of a plain flush)
 *
 * Why this shape: statements queued on one connection run in order (pipelined on
 * PostgreSQL), so the only reason to wait between statements is a generated key that a later
 * row needs (a child's foreign key). Inserts therefore go out one dependency level at a time
 * (a mapper, or a level of rows inside a self-referential mapper), every batch of the level
 * at once; updates and deletes need no keys and go out together.
 *
 * Invariants:
 *  1. Mappers are ordered parents first (Kahn over the tables' foreign keys; self references
 *     are ordered by row through uvsql_orm_link levels). Deletes run in the reverse order.
 *     Post-update keys (mapper->post_update) are no edges. When the tables form a cycle, the
 *     rows decide: a mapper goes next when none of its new rows waits for the key of a new
 *     row of another mapper left; when every one waits, the flush fails naming two of them.
 *  2. A multi-row INSERT has at most min(insert_batch_rows, param_limit / columns) rows, all
 *     listing the same columns (h->dirty: the fields given or defaulted, defaults.c); rows of
 *     one shape keep the order they were added in. Its RETURNING rows (generated key, server
 *     defaults left out) come back in VALUES order (as Core's tests check on all three
 *     backends) and are written into the objects of the batch in that order.
 *  3. Nothing about an object's state changes before every statement of the rows has
 *     succeeded; generated keys (and bumped versions) written meanwhile are undone by the
 *     session's rollback. (The processors' after_rows statements come after the state change:
 *     when one fails, the flush fails and the session must be rolled back, as before.)
 *  4. An UPDATE or DELETE must match exactly its rows (MariaDB reports matched rows:
 *     CLIENT_FOUND_ROWS), else UVSQL_ESTALE_DATA.
 *  5. A post-update key is NULL in the INSERT and set by an UPDATE after every INSERT; a
 *     deleted row's non-NULL post-update key is set NULL by an UPDATE before every DELETE.
 *     Neither bumps a version counter (the DELETE matches the version loaded). Those UPDATEs
 *     are the many-to-one processor's (post_update.c); the NULL in the INSERT is the flush's.
 *  7. A joined subclass's object (inherit_joined.c) is a row in each table of its chain: it
 *     is in the insert/delete vector of each chain mapper (root first in the order, as the
 *     tables' foreign keys say), each of which writes its table's part of the fields
 *     (uvsql__joined_part): the root's INSERT generates the key, the levels after it send
 *     it; DELETEs go deepest table first; an UPDATE goes to each table whose fields changed.
 *     Its state changes, journal entry and events happen once, in its own mapper's turn
 *     (before_insert with the root's level).
 *  6. Events (events.c, orm.h "events"): before_flush before the flush_t exists; before_insert
 *     per row as its level is built (before defaults); before_update of every changed row,
 *     then the changes and onupdates are computed again; before_delete of every deleted row
 *     (children first); after_* per row when its statement came back ('P' post-update and
 *     'S' statements fire none). A failing listener fails the flush like a statement.
 *  9. After an UPDATE, an object's snapshot takes only what the UPDATE wrote (h->dirty and the
 *     version counter): a field a listener changed after the object's UPDATE was planned
 *     (another object's before_update, an after_update) keeps its old snapshot value, so it
 *     stays changed and the next flush writes it; never marked clean without being written.
 * 10. An after_insert / after_update listener that changes its object: the values its
 *     statement wrote are kept (fl->late, the object flagged OF_LATE) and become the
 *     snapshot, so the listener's changes stay pending for the next flush (SQLAlchemy does
 *     not write them either, but they must not be marked clean unwritten). The copy is made
 *     only when the mapper or session has such a listener.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

typedef struct {
  uvsql__obj_t **v;
  size_t n, cap;
} objvec_t;

typedef struct uvsql__uow_s flush_t;
typedef struct batch_s {
  flush_t *fl;
  uvsql_mapper_t *m;
  uvsql__obj_t **objs; /* into the flush's vectors, which live as long as the flush */
  size_t n;
  int kind;     /* 'I' insert, 'U', 'D'; 'P' a processor's UPDATE; 'S' a processor's (m NULL) */
  uint64_t ret; /* 'I': the fields its RETURNING brings back (generated key, server defaults) */
  struct batch_s *next;
  int quiet; /* 'U' of a joined subclass's other table: its after_update fires elsewhere */
} batch_t;

enum { PH_PRELOAD, PH_INSERT, PH_WRITE, PH_AFTER_ROWS, PH_DONE };

struct uvsql__uow_s {
  uvsql_session_t *s;
  uvsql__flush_done done;
  void *data;
  int deps; /* the registry has relationships: the dependency processors take part */
  size_t nm;
  uvsql_mapper_t **order;
  objvec_t *ins, *upd, *del; /* by mapper index */
  size_t mi;                 /* insert phase: position in order */
  uint32_t level, maxlevel;  /* insert phase: level of rows within order[mi] */
  int phase;                 /* PH_* */
  int outstanding, sending;
  int failed;
  uvsql_error_t err;
  batch_t *batches;
  uvsql__obj_t **late; /* invariant 10: objects an after_* listener changed, */
  void **late_vals;    /* and their values as written (uvsql__struct_copy) */
  size_t nlate, caplate;
};

static int push(objvec_t *v, uvsql__obj_t *h) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 16;
    uvsql__obj_t **p = realloc(v->v, cap * sizeof *p);
    if (!p)
      return UVSQL_ENOMEM;
    v->v = p;
    v->cap = cap;
  }
  v->v[v->n++] = h;
  return 0;
}

/* fl->late and fl->late_vals with room for one more: 0 or ENOMEM (both still valid). */
static int grow_late(flush_t *fl) {
  size_t cap = fl->caplate ? fl->caplate * 2 : 16;
  uvsql__obj_t **l = realloc(fl->late, cap * sizeof *l);
  if (!l)
    return UVSQL_ENOMEM;
  fl->late = l;
  void **v = realloc(fl->late_vals, cap * sizeof *v);
  if (!v)
    return UVSQL_ENOMEM;
  fl->late_vals = v;
  fl->caplate = cap;
  return 0;
}

/* h into the vector of each mapper whose table its row spans (invariant 7). */
static int push_chain(objvec_t *by_mapper, uvsql__obj_t *h) {
  if (!h->mapper->joined)
    return push(&by_mapper[h->mapper->index], h);
  uvsql_mapper_t *chain[UVSQL__MAX_CHAIN];
  for (size_t k = 0, n = uvsql__joined_chain(h->mapper, chain); k < n; k++)
    if (push(&by_mapper[chain[k]->index], h))
      return UVSQL_ENOMEM;
  return 0;
}

static void *field_ptr(uvsql__obj_t *h, size_t i) {
  return h->body + h->mapper->model->fields[i].offset;
}

/* A linked parent that has no key yet (pending, autoincrement), or NULL. */
static uvsql__obj_t *keyless(const uvsql__link_t *l) {
  uvsql__obj_t *p = uvsql__obj_check(l->parent);
  if (!p)
    return NULL;
  const uvsql_mapper_t *pm = p->mapper;
  return p->state == UVSQL_OBJ_PENDING && pm->autoinc &&
                 *(int64_t *)(p->body + pm->model->fields[pm->pk[0]].offset) == 0
             ? p
             : NULL;
}

/* Copies linked parents' keys into h's foreign-key fields, except the fields in skip. Returns
 * 1 if a parent still has no key (pending), 0 otherwise. */
static int apply_links_except(uvsql__obj_t *h, uint64_t skip) {
  int waiting = 0;
  for (size_t k = 0; k < h->nlinks; k++) {
    uvsql__obj_t *p = uvsql__obj_check(h->links[k].parent);
    if (!p || (skip >> h->links[k].field & 1))
      continue;
    const uvsql_mapper_t *pm = p->mapper;
    if (p->state == UVSQL_OBJ_PENDING && pm->autoinc && *(int64_t *)field_ptr(p, pm->pk[0]) == 0) {
      waiting = 1;
      continue;
    }
    size_t f = h->links[k].field, pf = pm->pk[h->links[k].pkpos < pm->npk ? h->links[k].pkpos : 0];
    if (h->mapper->model->fields[f].kind == UVSQL_FIELD_INT64 &&
        pm->model->fields[pf].kind == UVSQL_FIELD_INT64) {
      *(int64_t *)field_ptr(h, f) = *(int64_t *)field_ptr(p, pf);
      uvsql__field_set_null(h->mapper, h->body, f, 0);
      h->given |= UINT64_C(1) << f; /* the relationship gave it */
    } else if (h->mapper->model->fields[f].kind == pm->model->fields[pf].kind) {
      /* a key of another kind (TEXT...): copied unless it already holds that value */
      uvsql_value_t want = uvsql__field_value(pm, p->body, pf);
      uvsql_value_t have = uvsql__field_value(h->mapper, h->body, f);
      if (!uvsql__value_equal(&want, &have) && uvsql__field_set_value(h->mapper, h->body, f, &want))
        continue; /* out of memory: the field keeps its value (the flush sends what it has) */
      h->given |= UINT64_C(1) << f;
    }
  }
  return waiting;
}

static int apply_links(uvsql__obj_t *h) {
  return apply_links_except(h, 0);
}

/* The dependency processors' decisions (both presorts, every processor). */
static int presort(uvsql_session_t *s, uvsql_error_t *err) {
  for (const uvsql__depproc_t *const *d = uvsql__depprocs; *d; d++)
    if ((*d)->presort_deletes && (*d)->presort_deletes(s, err))
      return 1;
  for (const uvsql__depproc_t *const *d = uvsql__depprocs; *d; d++)
    if ((*d)->presort_saves && (*d)->presort_saves(s, err))
      return 1;
  return 0;
}

int uvsql__flush_needed(uvsql_session_t *s) {
  if (s->reg->has_rels) {
    uvsql_error_t err;
    if (presort(s, &err))
      return 1; /* the flush itself reports it */
    for (const uvsql__depproc_t *const *d = uvsql__depprocs; *d; d++)
      if ((*d)->needed && (*d)->needed(s))
        return 1;
  }
  for (uvsql__obj_t *h = s->owned; h; h = h->next) {
    if (h->state == UVSQL_OBJ_PENDING || (h->flags & UVSQL__OF_MARK_DELETE))
      return 1;
    if (h->state == UVSQL_OBJ_PERSISTENT) {
      if (h->nlinks)
        apply_links(h);
      if (uvsql__obj_modified(h))
        return 1;
    }
  }
  return 0;
}

/* ------------------------------------------------------------------ ordering */

static void fl_fail_early(flush_t *fl, const uvsql_mapper_t *a, const uvsql_mapper_t *b);

/* Whether a new row of mapper a waits, through a key that is not post-update, for the key of
 * a new row of mapper b (invariant 1). */
static int waits_on(flush_t *fl, size_t a, size_t b) {
  objvec_t *v = &fl->ins[a];
  for (size_t i = 0; i < v->n; i++) {
    uvsql__obj_t *h = v->v[i];
    for (size_t k = 0; k < h->nlinks; k++) {
      uvsql__obj_t *p =
          (h->mapper->post_update >> h->links[k].field & 1) ? NULL : keyless(&h->links[k]);
      if (p && p->mapper->index == b && p->session == fl->s)
        return 1;
    }
  }
  return 0;
}

/* A table-level cycle: the first mapper left none of whose new rows waits for another one
 * left (with no new rows, the first left); -1 when each waits (the flush fails naming one of
 * them and the mapper it waits for). */
static long break_cycle(flush_t *fl, const int *placed) {
  uvsql_registry_t *reg = fl->s->reg;
  long a = -1, b = -1;
  for (size_t i = 0; i < reg->n; i++) {
    if (placed[i])
      continue;
    long on = -1;
    for (size_t j = 0; on < 0 && j < reg->n; j++)
      if (!placed[j] && j != i && waits_on(fl, i, j))
        on = (long)j;
    if (on < 0)
      return (long)i;
    if (a < 0) {
      a = (long)i;
      b = on;
    }
  }
  fl_fail_early(fl, reg->mappers[a], reg->mappers[b]);
  return -1;
}

static int sort_mappers(flush_t *fl) {
  uvsql_registry_t *reg = fl->s->reg;
  size_t n = reg->n;
  fl->order = malloc((n ? n : 1) * sizeof *fl->order);
  int *placed = calloc(n ? n : 1, sizeof *placed);
  if (!fl->order || !placed) {
    free(placed);
    return UVSQL_ENOMEM;
  }
  size_t k = 0;
  while (k < n) {
    size_t before = k;
    for (size_t i = 0; i < n; i++) {
      if (placed[i])
        continue;
      uvsql_mapper_t *m = reg->mappers[i];
      int ready = 1;
      for (size_t f = 0; ready && f < uvsql_table_nfks(m->table); f++) {
        uvsql_fk_info_t fk;
        if (uvsql_table_fk_at(m->table, f, &fk))
          continue;
        uvsql_mapper_t *p = uvsql__mapper_for_table(reg, fk.reftable);
        long fi = fk.ncols == 1 ? uvsql__field_index(m, fk.cols[0]) : -1;
        if (fi >= 0 && (m->post_update >> fi & 1))
          continue; /* a post-update key: set after the inserts (invariant 5) */
        if (p && p != m && !placed[p->index])
          ready = 0;
      }
      if (ready) {
        placed[i] = 1;
        fl->order[k++] = m;
      }
    }
    if (k == before) { /* a cycle between tables: the rows decide (invariant 1) */
      long i = break_cycle(fl, placed);
      if (i < 0)
        break;
      placed[i] = 1;
      fl->order[k++] = reg->mappers[i];
    }
  }
  free(placed);
  fl->nm = n;
  return 0;
}

/* Depth of h among this flush's pending rows of its own mapper (self-referential links). */
static uint32_t level_of(uvsql__obj_t *h, int depth) {
  if (h->level != UINT32_MAX)
    return h->level;
  uint32_t lv = 0;
  for (size_t k = 0; depth < 1000 && k < h->nlinks; k++) {
    uvsql__obj_t *p = uvsql__obj_check(h->links[k].parent);
    if (h->mapper->post_update >> h->links[k].field & 1)
      continue; /* set after every insert (invariant 5) */
    if (p && p != h && p->mapper == h->mapper && p->state == UVSQL_OBJ_PENDING &&
        p->session == h->session) {
      uint32_t pl = level_of(p, depth + 1) + 1;
      if (pl > lv)
        lv = pl;
    }
  }
  h->level = lv;
  return lv;
}

/* ------------------------------------------------------------------ statements */

static void step(flush_t *fl);

static void fl_fail(flush_t *fl, int code, const char *fmt, ...) UVSQL__PRINTF(3, 4);
static void fl_fail(flush_t *fl, int code, const char *fmt, ...) {
  if (fl->failed)
    return;
  fl->failed = 1;
  char msg[UVSQL_ERROR_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  uvsql__error_set(&fl->err, code, "%s", msg);
}

/* New rows of a and b wait for each other's keys (invariant 1). */
static void fl_fail_early(flush_t *fl, const uvsql_mapper_t *a, const uvsql_mapper_t *b) {
  fl_fail(fl, UVSQL_EINVALID_ARGUMENT,
          "%s and %s reference each other (a cycle between tables %s and %s) and new objects "
          "of both are linked to each other, so neither can be inserted first: declare one of "
          "the relationships between them with UVSQL_REL_POST_UPDATE (its key is then set by an "
          "UPDATE after both INSERTs)",
          a->model->type_name, b->model->type_name, uvsql_table_name(a->table),
          uvsql_table_name(b->table));
}

/* The object events of h (events.c): a failing listener fails the flush. */
static int fire(flush_t *fl, uvsql__obj_t *h, unsigned ev) {
  if (uvsql__events_fire(fl->s, h->mapper, ev, h->body, &fl->err) == 0)
    return 0;
  fl->failed = 1;
  return 1;
}

/* An after_insert / after_update event of h; a change the listener makes is kept pending
 * (invariant 10). */
static int fire_written(flush_t *fl, uvsql__obj_t *h, unsigned ev) {
  if (ev == UVSQL_EV_AFTER_DELETE || (h->flags & UVSQL__OF_LATE))
    return fire(fl, h, ev);
  void *written = uvsql__struct_copy(h->mapper, h->body);
  if (!written || (fl->nlate == fl->caplate && grow_late(fl))) { /* no OOM after the event */
    free(written);
    fl_fail(fl, UVSQL_ENOMEM, "out of memory before an %s event", uvsql_event_name(ev));
    return 1;
  }
  int rc = fire(fl, h, ev);
  void *snap = h->snap;
  h->snap = written; /* compared against what was written */
  uint64_t changed = uvsql__obj_changes(h);
  h->snap = snap;
  if (rc || !changed) {
    free(written);
    return rc;
  }
  h->flags |= UVSQL__OF_LATE;
  fl->late[fl->nlate] = h;
  fl->late_vals[fl->nlate++] = written;
  return 0;
}

/* The values h's statement wrote, taken from fl->late (invariant 10), or NULL. */
static void *take_late(flush_t *fl, uvsql__obj_t *h) {
  if (!(h->flags & UVSQL__OF_LATE))
    return NULL;
  h->flags &= (uint8_t)~UVSQL__OF_LATE;
  for (size_t i = 0; i < fl->nlate; i++)
    if (fl->late[i] == h) {
      void *w = fl->late_vals[i];
      fl->late[i] = NULL;
      fl->late_vals[i] = NULL;
      return w;
    }
  return NULL;
}

/* A joined subclass's row spans several tables (invariant 7): after_insert fires with the
 * INSERT of its own table (the last), after_delete with the root's DELETE (the last),
 * after_update with its first UPDATE; events.c looks the listeners up by the object's own
 * mapper (events of a base fire for its subclasses' objects there too, or not: as declared). */
static void fire_after(flush_t *fl, const batch_t *b) {
  unsigned ev = b->kind == 'I'   ? UVSQL_EV_AFTER_INSERT
                : b->kind == 'U' ? UVSQL_EV_AFTER_UPDATE
                                 : UVSQL_EV_AFTER_DELETE;
  if (b->quiet || (b->kind == 'D' && b->m->joined))
    return;
  if (!b->m->root->has_joined) { /* every row's mapper is b->m */
    if (uvsql__events_has(fl->s, b->m, ev))
      for (size_t i = 0; i < b->n && !fire_written(fl, b->objs[i], ev); i++)
        ;
    return;
  }
  for (size_t i = 0; i < b->n; i++) {
    uvsql__obj_t *h = b->objs[i];
    if (b->kind == 'I' && h->mapper != b->m)
      continue;
    if (uvsql__events_has(fl->s, h->mapper, ev) && fire_written(fl, h, ev))
      return;
  }
}

static void stmt_done(uvsql_future_t *f, void *data) {
  batch_t *b = data;
  flush_t *fl = b->fl;
  const uvsql_error_t *err = uvsql_future_error(f);
  const char *table = b->m ? uvsql_table_name(b->m->table) : NULL;
  if (err) {
    if (!fl->failed) {
      fl->failed = 1;
      fl->err = *err;
    }
  } else if (!fl->failed && b->kind != 'S') {
    uvsql_result_t *r = uvsql_future_value(f);
    int64_t affected = uvsql_result_rows_affected(r);
    if (b->kind == 'I' && b->ret) {
      if (uvsql_result_nrows(r) != b->n) {
        fl_fail(fl, UVSQL_EINTERNAL,
                "INSERT into %s returned %zu keys for %zu rows (a trigger or "
                "rule changed the rows?): roll back the session",
                table, uvsql_result_nrows(r), b->n);
      } else { /* the RETURNING columns, in field order, into each row's object */
        for (size_t i = 0; i < b->n && !fl->failed; i++) {
          size_t col = 0;
          for (uint64_t bits = b->ret; bits && !fl->failed; bits &= bits - 1, col++)
            if (uvsql__field_load(b->m, b->objs[i]->body, (size_t)__builtin_ctzll(bits), r, i, col,
                                  &fl->err))
              fl->failed = 1;
        }
      }
    } else if ((b->kind == 'U' || b->kind == 'P') && affected >= 0 && affected != 1) {
      fl_fail(fl, UVSQL_ESTALE_DATA,
              "UPDATE statement on table '%s' expected to update 1 row(s); %lld were matched "
              "(the row was changed or deleted by someone else): roll back the session, reload "
              "the object and decide again",
              table, (long long)affected);
    } else if (b->kind == 'D' && affected >= 0 && (size_t)affected != b->n) {
      fl_fail(fl, UVSQL_ESTALE_DATA,
              "DELETE statement on table '%s' expected to delete %zu row(s); only %lld were "
              "matched (changed or deleted by someone else): roll back the session and reload",
              table, b->n, (long long)affected);
    }
    if (!fl->failed && (b->kind == 'I' || b->kind == 'U' || b->kind == 'D'))
      fire_after(fl, b); /* events.c: after_insert/update/delete of the batch's rows */
  }
  if (--fl->outstanding == 0 && !fl->sending)
    step(fl);
}

static void send_stmt(flush_t *fl, uvsql_mapper_t *m, uvsql__obj_t **objs, size_t n, int kind,
                      uint64_t ret, uvsql_core_stmt_t *st, const uvsql_param_t *p, size_t np) {
  batch_t *b = st ? malloc(sizeof *b) : NULL;
  if (!b) {
    fl_fail(fl, UVSQL_ENOMEM, "out of memory building a statement for %s",
            m ? uvsql_table_name(m->table) : "a relationship");
    return;
  }
  *b = (batch_t){fl, m, objs, n, kind, ret, fl->batches, 0};
  fl->batches = b;
  fl->outstanding++;
  fl->s->nstatements++;
  uvsql_conn_execute_core(fl->s->conn, st, p, np, stmt_done, b);
}

/* Pending rows by level, then by the set of columns their INSERT lists (h->dirty). */
static int cmp_level(const void *a, const void *b) {
  const uvsql__obj_t *x = *(uvsql__obj_t *const *)a, *y = *(uvsql__obj_t *const *)b;
  return x->level == y->level ? 0 : (x->level < y->level ? -1 : 1);
}
static int cmp_ins(const void *a, const void *b) {
  const uvsql__obj_t *x = *(uvsql__obj_t *const *)a, *y = *(uvsql__obj_t *const *)b;
  if (x->level != y->level)
    return x->level < y->level ? -1 : 1;
  return x->dirty == y->dirty ? 0 : (x->dirty < y->dirty ? -1 : 1);
}

/* A stable sort (merge sort), so rows of one shape go out in the order they were added;
 * qsort (unstable, still correct) when there is no memory for the buffer. */
static void sort_stable(uvsql__obj_t **v, size_t n, int (*cmp)(const void *, const void *)) {
  uvsql__obj_t **tmp = n > 1 ? malloc(n * sizeof *tmp) : NULL;
  if (!tmp) {
    if (n > 1)
      qsort(v, n, sizeof *v, cmp);
    return;
  }
  uvsql__obj_t **src = v, **dst = tmp;
  for (size_t width = 1; width < n; width *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * width) {
      size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
      size_t a = lo, b = mid, k = lo;
      while (a < mid && b < hi)
        dst[k++] = cmp(&src[b], &src[a]) < 0 ? src[b++] : src[a++];
      while (a < mid)
        dst[k++] = src[a++];
      while (b < hi)
        dst[k++] = src[b++];
    }
    uvsql__obj_t **t = src;
    src = dst;
    dst = t;
  }
  if (src != v)
    memcpy(v, src, n * sizeof *v);
  free(tmp);
}

static int cmp_dirty(const void *a, const void *b) {
  const uvsql__obj_t *x = *(uvsql__obj_t *const *)a, *y = *(uvsql__obj_t *const *)b;
  return x->dirty == y->dirty ? 0 : (x->dirty < y->dirty ? -1 : 1);
}

/* Levels and shapes of the mapper's pending rows; sorted so each level is contiguous. */
static void prepare_mapper(flush_t *fl, uvsql_mapper_t *m) {
  objvec_t *v = &fl->ins[m->index];
  fl->maxlevel = 0;
  for (size_t i = 0; i < v->n; i++)
    v->v[i]->level = UINT32_MAX;
  for (size_t i = 0; i < v->n; i++) {
    uvsql__obj_t *h = v->v[i];
    uint32_t lv = level_of(h, 0);
    if (lv > fl->maxlevel)
      fl->maxlevel = lv;
  }
  if (fl->maxlevel && v->n > 1) /* rows of one level in one run; shapes are sorted per level */
    sort_stable(v->v, v->n, cmp_level);
}

static void send_level(flush_t *fl, uvsql_mapper_t *m) {
  objvec_t *v = &fl->ins[m->index];
  size_t nf = m->model->nfields, lo = 0, hi;
  uint64_t all = uvsql__joined_part(m); /* every field, or a joined table's (invariant 7) */
  uint64_t pkbit = UINT64_C(1) << m->pk[0];
  uvsql__defplan_t plan;
  uvsql__defaults_plan(m, &plan);
  plan.client &= all;
  plan.omit &= all;
  plan.server &= all;
  int defaults = (plan.client | plan.omit) != 0;
  while (lo < v->n && v->v[lo]->level < fl->level)
    lo++;
  for (hi = lo; hi < v->n && v->v[hi]->level == fl->level; hi++) {
    uvsql__obj_t *h = v->v[hi];
    if (apply_links_except(h, m->post_update)) {
      uvsql__obj_t *p = NULL;
      for (size_t k = 0; !p && k < h->nlinks; k++)
        if (!(m->post_update >> h->links[k].field & 1))
          p = keyless(&h->links[k]);
      if (p && p->session == fl->s && p->mapper != m)
        fl_fail_early(fl, m, p->mapper);
      else if (p && p->session == fl->s)
        fl_fail(fl, UVSQL_EINVALID_ARGUMENT,
                "new objects of %s are linked to each other in a cycle (table %s), so none can "
                "be inserted first: declare the relationship with UVSQL_REL_POST_UPDATE",
                m->model->type_name, uvsql_table_name(m->table));
      else
        fl_fail(fl, UVSQL_EINVALID_ARGUMENT,
                "a %s is linked to a parent that is not being flushed: add the parent to the "
                "session",
                m->model->type_name);
      return;
    }
    if (!m->joined && fire(fl, h, UVSQL_EV_BEFORE_INSERT)) /* events.c: may change h */
      return;
    for (size_t k = 0; m->post_update && k < h->nlinks; k++) /* set after (invariant 5) */
      if (m->post_update >> h->links[k].field & 1)
        uvsql__field_set_null(m, h->body, h->links[k].field, 1);
    if (m->version >= 0 && *(int64_t *)field_ptr(h, (size_t)m->version) == 0)
      *(int64_t *)field_ptr(h, (size_t)m->version) = 1;
    uint64_t mask = all; /* the columns this row's INSERT lists */
    uint64_t filled = m->joined && (h->flags & UVSQL__OF_FILLED) ? h->filled : 0;
    if (defaults && uvsql__defaults_insert(h, &plan, &mask, &fl->err)) {
      fl->failed = 1;
      return;
    }
    h->filled |= filled; /* a joined level adds to what the levels before it filled */
    mask &= all;
    if (m->autoinc &&
        (uvsql__field_is_null(m, h->body, m->pk[0]) || *(int64_t *)field_ptr(h, m->pk[0]) == 0))
      mask &= ~pkbit;                        /* generated */
    if (!mask && (plan.omit & ~plan.server)) /* a NULL foreign key rather than no column */
      mask = (plan.omit & ~plan.server) & -(plan.omit & ~plan.server);
    h->dirty = mask;
  }
  size_t sorted = lo + 1;
  while (sorted < hi && cmp_ins(&v->v[sorted - 1], &v->v[sorted]) <= 0)
    sorted++;
  if (sorted < hi) /* usually all rows have one shape: no sort needed */
    sort_stable(v->v + lo, hi - lo, cmp_ins);
  fl->sending = 1;
  for (size_t at = lo; at < hi && !fl->failed;) {
    uint64_t mask = v->v[at]->dirty;
    size_t end = at;
    while (end < hi && v->v[end]->dirty == mask)
      end++;
    int gen = m->autoinc && !(mask & pkbit);
    uint64_t ret = (gen ? pkbit : 0) | (plan.server & ~mask); /* eager defaults */
    size_t ncols = (size_t)__builtin_popcountll(mask);
    size_t per = (size_t)fl->s->param_limit / (ncols ? ncols : 1);
    if (per > (size_t)fl->s->opt.insert_batch_rows)
      per = (size_t)fl->s->opt.insert_batch_rows;
    per = per && ncols ? per : 1; /* no columns: one DEFAULT VALUES row per statement */
    uvsql_param_t *params = malloc(per * (ncols ? ncols : 1) * sizeof *params);
    if (!params) {
      fl_fail(fl, UVSQL_ENOMEM, "out of memory");
      break;
    }
    for (; at < end && !fl->failed; at += per) {
      size_t n = end - at < per ? end - at : per;
      const char *const *names;
      uvsql_core_stmt_t *st = uvsql__stmt_insert(m, mask, n, ret, &names);
      size_t k = 0;
      for (size_t r = 0; st && r < n; r++)
        for (size_t i = 0; i < nf; i++)
          if (mask & (UINT64_C(1) << i)) {
            params[k] = UVSQL_P(names[k], uvsql__field_value(m, v->v[at + r]->body, i));
            k++;
          }
      send_stmt(fl, m, v->v + at, n, 'I', ret, st, params, k);
    }
    at = end;
    free(params);
  }
  fl->sending = 0;
}

static void send_update(flush_t *fl, uvsql_mapper_t *m, uvsql__obj_t **hp, uint64_t dirty) {
  uvsql__obj_t *h = *hp;
  uvsql_param_t p[64 + UVSQL__MAX_PK + 1];
  size_t n = 0;
  uint64_t mask = dirty;
  if (m->version >= 0) {
    int64_t old = *(int64_t *)((unsigned char *)h->snap + m->model->fields[m->version].offset);
    *(int64_t *)field_ptr(h, (size_t)m->version) = old + 1;
    mask |= UINT64_C(1) << m->version;
    p[n++] = UVSQL_P_INT64("v", old);
  }
  for (size_t i = 0; i < m->model->nfields; i++)
    if (mask & (UINT64_C(1) << i))
      p[n++] = UVSQL_P(uvsql__set_names[i], uvsql__field_value(m, h->body, i));
  for (size_t i = 0; i < m->npk; i++) /* the row as loaded, even if the key was changed */
    p[n++] = UVSQL_P(uvsql__key_names[i], uvsql__field_value(m, h->snap, m->pk[i]));
  send_stmt(fl, m, hp, 1, 'U', 0, uvsql__stmt_update(m, dirty), p, n);
}

/* A joined subclass's UPDATE: one per table whose fields changed (invariant 7). */
static void send_update_chain(flush_t *fl, uvsql_mapper_t *m, uvsql__obj_t **hp) {
  uvsql_mapper_t *chain[UVSQL__MAX_CHAIN];
  int sent = 0;
  for (size_t k = 0, n = uvsql__joined_chain(m, chain); k < n && !fl->failed; k++) {
    uvsql_mapper_t *level = chain[k];
    uint64_t part = uvsql__joined_part(level), key = 0;
    for (size_t i = 0; i < level->npk; i++)
      key |= UINT64_C(1) << level->pk[i];
    if (level->joined)
      part &= ~key; /* a changed key is the root's UPDATE */
    /* the root's version counter is bumped and checked by every UPDATE of the object, also
     * one that changes only a subclass's table (inherit_joined.c invariant 5) */
    int bump = k == 0 && level->version >= 0 && (*hp)->dirty;
    if (!((*hp)->dirty & part) && !bump)
      continue;
    size_t before = fl->outstanding;
    send_update(fl, level, hp, (*hp)->dirty & part);
    if (sent && (size_t)fl->outstanding > before)
      fl->batches->quiet = 1; /* its after_update fired with the first */
    sent = 1;
  }
}

static void send_deletes(flush_t *fl, uvsql_mapper_t *m, objvec_t *v) {
  if (m->version >= 0 || m->npk > 1) {
    for (size_t r = 0; r < v->n && !fl->failed; r++) {
      uvsql_param_t p[UVSQL__MAX_PK + 1];
      size_t n = 0;
      for (size_t i = 0; i < m->npk; i++)
        p[n++] = UVSQL_P(uvsql__key_names[i], uvsql__field_value(m, v->v[r]->snap, m->pk[i]));
      if (m->version >= 0)
        p[n++] = UVSQL_P("v", uvsql__field_value(m, v->v[r]->snap, (size_t)m->version));
      send_stmt(fl, m, v->v + r, 1, 'D', 0, uvsql__stmt_delete(m, 1), p, n);
    }
    return;
  }
  size_t per = (size_t)fl->s->param_limit;
  uvsql_param_t *p = malloc((v->n < per ? v->n : per) * sizeof *p);
  if (!p) {
    fl_fail(fl, UVSQL_ENOMEM, "out of memory");
    return;
  }
  for (size_t at = 0; at < v->n && !fl->failed; at += per) {
    size_t n = v->n - at < per ? v->n - at : per;
    for (size_t r = 0; r < n; r++)
      p[r] = UVSQL_P("k0", uvsql__field_value(m, v->v[at + r]->snap, m->pk[0]));
    send_stmt(fl, m, v->v + at, n, 'D', 0, uvsql__stmt_delete(m, 0), p, n);
  }
  free(p);
}

/* The fields of persistent h to UPDATE (a version counter is the flush's own). */
static uint64_t changes_of(uvsql__obj_t *h) {
  uint64_t changes = uvsql__obj_changes(h);
  if (h->mapper->version >= 0)
    changes &= ~(UINT64_C(1) << h->mapper->version);
  return changes;
}

static void send_writes(flush_t *fl) {
  uvsql_session_t *s = fl->s;
  for (uvsql__obj_t *h = s->owned; h && !fl->failed; h = h->next) {
    if (h->state != UVSQL_OBJ_PERSISTENT)
      continue;
    objvec_t *v = NULL;
    if (h->flags & UVSQL__OF_MARK_DELETE) {
      if (push_chain(fl->del, h))
        fl_fail(fl, UVSQL_ENOMEM, "out of memory");
      continue;
    } else {
      if (h->nlinks)
        apply_links(h);
      if (changes_of(h))
        v = &fl->upd[h->mapper->index];
    }
    if (v && push(v, h))
      fl_fail(fl, UVSQL_ENOMEM, "out of memory");
  }
  /* before_update (events.c) may change its object; then the changes and onupdates */
  for (size_t k = 0; k < fl->nm && !fl->failed; k++) {
    objvec_t *v = &fl->upd[fl->order[k]->index];
    int ev = uvsql__events_has(s, fl->order[k], UVSQL_EV_BEFORE_UPDATE);
    for (size_t i = 0; i < v->n && !fl->failed; i++) {
      uvsql__obj_t *h = v->v[i];
      uint64_t changes, onupdate = 0;
      if (ev && fire(fl, h, UVSQL_EV_BEFORE_UPDATE))
        break;
      changes = changes_of(h); /* 0: the listener undid the change, nothing is sent */
      if (changes && h->mapper->fdefs && uvsql__defaults_update(h, changes, &onupdate, &fl->err))
        fl->failed = 1;
      h->dirty = changes | onupdate;
    }
  }
  for (size_t k = fl->nm; k-- > 0 && !fl->failed;) {
    objvec_t *v = &fl->del[fl->order[k]->index];
    if (uvsql__events_has(s, fl->order[k], UVSQL_EV_BEFORE_DELETE))
      for (size_t i = 0; i < v->n; i++)
        if (v->v[i]->mapper == fl->order[k] && fire(fl, v->v[i], UVSQL_EV_BEFORE_DELETE))
          break; /* a joined subclass's object fires once, in its own mapper's turn */
  }
  if (fl->failed)
    return;
  fl->sending = 1;
  for (const uvsql__depproc_t *const *d = uvsql__depprocs; fl->deps && *d && !fl->failed; d++)
    if ((*d)->after_inserts)
      (*d)->after_inserts(fl);
  for (size_t k = 0; k < fl->nm && !fl->failed; k++) {
    uvsql_mapper_t *m = fl->order[k];
    objvec_t *v = &fl->upd[m->index];
    if (v->n > 1) /* one statement per set of changed columns, sent together */
      qsort(v->v, v->n, sizeof *v->v, cmp_dirty);
    for (size_t i = 0; i < v->n && !fl->failed; i++)
      if (v->v[i]->dirty && m->joined)
        send_update_chain(fl, m, &v->v[i]);
      else if (v->v[i]->dirty)
        send_update(fl, m, &v->v[i], v->v[i]->dirty);
  }
  for (const uvsql__depproc_t *const *d = uvsql__depprocs; fl->deps && *d && !fl->failed; d++)
    if ((*d)->before_deletes)
      (*d)->before_deletes(fl);
  for (size_t k = fl->nm; k-- > 0 && !fl->failed;)
    if (fl->del[fl->order[k]->index].n)
      send_deletes(fl, fl->order[k], &fl->del[fl->order[k]->index]);
  fl->sending = 0;
}

/* Every statement succeeded: objects change state; the journal remembers how to undo it. */
static void apply(flush_t *fl) {
  uvsql_session_t *s = fl->s;
  for (size_t k = 0; k < fl->nm; k++) {
    size_t mi = fl->order[k]->index;
    for (size_t i = 0; i < fl->ins[mi].n; i++) {
      uvsql__obj_t *h = fl->ins[mi].v[i];
      if (h->mapper->index != mi)
        continue; /* a joined subclass's object in a base's vector: its own turn comes */
      if (h->state == UVSQL_OBJ_TRANSIENT) /* deleted while its INSERT was in flight */
        h->flags |= UVSQL__OF_MARK_DELETE;
      h->state = UVSQL_OBJ_PERSISTENT;
      void *written = take_late(fl, h); /* invariant 10 */
      if (written) {
        uvsql__snap_free(h, h->snap);
        h->snap = written;
        h->given = 0;
      }
      if ((!written && uvsql__obj_snapshot(h)) || uvsql__idmap_put(&s->idmap, h) ||
          uvsql__journal_add(s, h, UVSQL__J_INSERTED, NULL))
        fl_fail(fl, UVSQL_ENOMEM, "out of memory after a flush");
    }
    for (size_t i = 0; i < fl->upd[mi].n; i++) {
      uvsql__obj_t *h = fl->upd[mi].v[i];
      const uvsql_mapper_t *m = h->mapper;
      void *written = take_late(fl, h), *now = NULL; /* invariant 10: snapshot what was */
      if (written &&
          (!(now = uvsql__struct_copy(m, h->body)) || uvsql__struct_assign(m, h->body, written)))
        fl_fail(fl, UVSQL_ENOMEM, "out of memory after a flush");
      uint64_t unwritten = changes_of(h) & ~h->dirty; /* invariant 9 */
      if (m->root->version >= 0)
        unwritten &= ~(UINT64_C(1) << m->root->version);
      void *old = h->snap;
      h->snap = NULL;
      if (uvsql__obj_snapshot_except(h, old, unwritten) ||
          uvsql__journal_add(s, h, UVSQL__J_UPDATED, old))
        fl_fail(fl, UVSQL_ENOMEM, "out of memory after a flush");
      if (now && uvsql__struct_assign(m, h->body, now)) /* the listener's values back */
        fl_fail(fl, UVSQL_ENOMEM, "out of memory after a flush");
      free(now);
      free(written);
    }
    for (size_t i = 0; i < fl->del[mi].n; i++) {
      uvsql__obj_t *h = fl->del[mi].v[i];
      if (h->mapper->index != mi)
        continue;
      uvsql__idmap_remove(&s->idmap, h);
      h->state = UVSQL_OBJ_DELETED;
      h->flags &= (uint8_t)~UVSQL__OF_MARK_DELETE;
      if (uvsql__journal_add(s, h, UVSQL__J_DELETED, NULL))
        fl_fail(fl, UVSQL_ENOMEM, "out of memory after a flush");
    }
  }
}

static void fl_free(flush_t *fl) {
  for (size_t i = 0; i < fl->nlate; i++) /* a failed flush: nothing was applied */
    if (fl->late[i]) {
      fl->late[i]->flags &= (uint8_t)~UVSQL__OF_LATE;
      free(fl->late_vals[i]);
    }
  free(fl->late);
  free(fl->late_vals);
  for (size_t i = 0; i < fl->nm; i++) {
    free(fl->ins[i].v);
    free(fl->upd[i].v);
    free(fl->del[i].v);
  }
  while (fl->batches) {
    batch_t *b = fl->batches->next;
    free(fl->batches);
    fl->batches = b;
  }
  free(fl->ins);
  free(fl->upd);
  free(fl->del);
  free(fl->order);
  free(fl);
}

static void fl_end(flush_t *fl) {
  uvsql_session_t *s = fl->s;
  uvsql__flush_done done = fl->done;
  void *data = fl->data;
  uvsql_error_t err = fl->err;
  int failed = fl->failed;
  for (const uvsql__depproc_t *const *d = uvsql__depprocs; fl->deps && *d; d++)
    if ((*d)->finish)
      (*d)->finish(s);
  fl_free(fl);
  done(s, failed ? &err : NULL, data);
}

/* The pending objects, after the presorts decided which are inserted; then the order. */
static void collect(flush_t *fl) {
  for (uvsql__obj_t *h = fl->s->owned; h; h = h->next) {
    if (h->state == UVSQL_OBJ_PENDING && push_chain(fl->ins, h)) {
      fl_fail(fl, UVSQL_ENOMEM, "out of memory");
      return;
    }
  }
  if (sort_mappers(fl))
    fl_fail(fl, UVSQL_ENOMEM, "out of memory starting a flush");
}

/* Runs every dependency processor's before_rows or after_rows, in the flush's pipeline. */
static void send_deps(flush_t *fl, int after) {
  fl->sending = 1;
  for (const uvsql__depproc_t *const *d = uvsql__depprocs; *d && !fl->failed; d++)
    if (after ? (*d)->after_rows != NULL : (*d)->before_rows != NULL)
      (after ? (*d)->after_rows : (*d)->before_rows)(fl);
  fl->sending = 0;
}

/* The phases, top-down (internal.h). Each statement's callback steps again when it is the
 * last one in flight; so does a preload's resume. */
static void step(flush_t *fl) {
  if (fl->failed) {
    if (fl->outstanding == 0)
      fl_end(fl);
    return;
  }
  if (fl->phase == PH_PRELOAD) {
    for (const uvsql__depproc_t *const *d = uvsql__depprocs; fl->deps && *d; d++) {
      int rc = (*d)->preload ? (*d)->preload(fl, &fl->err) : 0;
      if (rc == 1)
        return; /* uvsql__uow_resume steps again */
      if (rc) {
        fl->failed = 1;
        fl_end(fl);
        return;
      }
    }
    fl->phase = PH_INSERT;
    if (fl->deps && presort(fl->s, &fl->err))
      fl->failed = 1;
    if (!fl->failed)
      collect(fl);
    if (!fl->failed && fl->deps)
      send_deps(fl, 0);
    if (fl->outstanding)
      return; /* the last callback steps again */
    if (fl->failed) {
      fl_end(fl);
      return;
    }
  }
  while (fl->phase == PH_INSERT) {
    if (fl->mi == fl->nm) {
      fl->phase = PH_WRITE;
      break;
    }
    uvsql_mapper_t *m = fl->order[fl->mi];
    if (fl->level == 0)
      prepare_mapper(fl, m);
    if (fl->ins[m->index].n == 0 || fl->level > fl->maxlevel) {
      fl->mi++;
      fl->level = 0;
      continue;
    }
    send_level(fl, m);
    fl->level++;
    if (fl->outstanding)
      return; /* the last callback steps again */
    if (fl->failed)
      break;
  }
  if (fl->phase == PH_WRITE && !fl->failed) {
    fl->phase = PH_AFTER_ROWS;
    send_writes(fl);
    if (fl->outstanding)
      return; /* the last callback steps again */
  }
  if (fl->phase == PH_AFTER_ROWS && !fl->failed) {
    fl->phase = PH_DONE;
    apply(fl);
    if (!fl->failed && fl->deps)
      send_deps(fl, 1);
    if (fl->outstanding)
      return; /* the last callback steps again */
  }
  fl_end(fl);
}

uvsql_session_t *uvsql__uow_session(const uvsql__uow_t *u) {
  return u->s;
}

int uvsql__uow_failed(const uvsql__uow_t *u) {
  return u->failed;
}

void uvsql__uow_resume(uvsql__uow_t *u, const uvsql_error_t *err) {
  if (err && !u->failed) {
    u->failed = 1;
    u->err = *err;
  }
  step(u);
}

void uvsql__uow_execute(uvsql__uow_t *u, uvsql_core_stmt_t *stmt, const uvsql_param_t *params,
                        size_t n, const char *what) {
  if (!stmt) {
    fl_fail(u, UVSQL_ENOMEM, "out of memory building %s", what);
    return;
  }
  send_stmt(u, NULL, NULL, 0, 'S', 0, stmt, params, n);
}

size_t uvsql__uow_nmappers(const uvsql__uow_t *u) {
  return u->nm;
}

uvsql_mapper_t *uvsql__uow_mapper(const uvsql__uow_t *u, size_t k) {
  return u->order[k];
}

uvsql__obj_t **uvsql__uow_rows(uvsql__uow_t *u, const uvsql_mapper_t *m, int kind, size_t *n) {
  objvec_t *v = kind == 'I' ? &u->ins[m->index] : &u->del[m->index];
  *n = v->n;
  return v->v;
}

void uvsql__uow_update(uvsql__uow_t *u, uvsql_mapper_t *m, uvsql__obj_t **hp, uint64_t mask,
                       const uvsql_param_t *params, size_t n) {
  send_stmt(u, m, hp, 1, 'P', 0, uvsql__stmt_update(m, mask), params, n);
}

int uvsql__uow_sync_keys(uvsql__uow_t *u, uvsql__obj_t *h) {
  if (!apply_links(h))
    return 0;
  fl_fail(u, UVSQL_EINVALID_ARGUMENT,
          "a %s is linked to a parent that is not being flushed: add the parent to the session",
          h->mapper->model->type_name);
  return 1;
}

/* Every JSON field a flush would send (all of a new object's, the changed ones of a loaded
 * object) must be a JSON document: checked before any statement goes out, so that a broken
 * one fails the flush with the object's field named and nothing written. */
static int check_json(uvsql_session_t *s, uvsql_error_t *err) {
  for (uvsql__obj_t *h = s->owned; h; h = h->next) {
    if (h->state != UVSQL_OBJ_PENDING && h->state != UVSQL_OBJ_PERSISTENT)
      continue;
    const uvsql_model_t *md = h->mapper->model;
    int known = h->state == UVSQL_OBJ_PENDING || !h->snap; /* then every field counts */
    uint64_t changed = known ? ~UINT64_C(0) : 0;
    for (size_t i = 0; i < md->nfields; i++) {
      if (md->fields[i].kind != UVSQL_FIELD_JSON || uvsql__field_is_null(h->mapper, h->body, i))
        continue;
      if (!known) {
        changed = uvsql__obj_changes(h);
        known = 1;
      }
      if (!(changed & (UINT64_C(1) << i)))
        continue;
      const char *doc = *(char *const *)(h->body + md->fields[i].offset);
      uvsql_error_t e;
      if (uvsql_json_validate(doc, strlen(doc), &e) != 0)
        return uvsql__error_set(err, e.code, "flush: %s.%s is not a JSON document: %s",
                                md->type_name, md->fields[i].name, e.message);
    }
  }
  return 0;
}

void uvsql__flush(uvsql_session_t *s, uvsql__flush_done done, void *data) {
  uvsql_error_t err;
  /* before_flush listeners first (they may add or change objects), then the JSON check */
  if ((uvsql__events_has(s, NULL, UVSQL_EV_BEFORE_FLUSH) && uvsql__flush_needed(s) &&
       uvsql__events_fire(s, NULL, UVSQL_EV_BEFORE_FLUSH, NULL, &err)) || /* events.c */
      check_json(s, &err) != 0) {
    done(s, &err, data);
    return;
  }
  flush_t *fl = calloc(1, sizeof *fl);
  size_t n = s->reg->n ? s->reg->n : 1;
  if (!fl || !(fl->ins = calloc(n, sizeof *fl->ins)) || !(fl->upd = calloc(n, sizeof *fl->upd)) ||
      !(fl->del = calloc(n, sizeof *fl->del))) {
    if (fl)
      fl_free(fl);
    uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory starting a flush");
    done(s, &err, data);
    return;
  }
  fl->s = s;
  fl->done = done;
  fl->data = data;
  fl->deps = s->reg->has_rels;
  fl->nm = s->reg->n; /* fl_free's bound, also when the order fails */
  step(fl);
}
