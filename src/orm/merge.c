/* src/orm/merge.c — uvsql_session_merge (SQLAlchemy's Session.merge): the state of an object
 * the session does not own is copied onto the session's object of the same primary key,
 * loading that object first (one SELECT, asynchronously) when the identity map lacks it, or
 * onto a new PENDING object when the database has no such row.
 *
 * A merge is a custom session operation (session.c): start() answers from the identity map
 * without a transaction; otherwise run() (transaction open, autoflush done) sends the SELECT.
 *
 * Invariants:
 *  1. The caller's object is read only inside uvsql_session_merge: its fields (those to copy,
 *     `mask`) are copied into ctx->copy, a struct of its own (one block, free()).
 *  2. Only fields whose value differs are written into the target (and marked given), so the
 *     next flush UPDATEs exactly those; key fields of a found object are never written.
 *  3. An expired source (a commit or expire marked its values out of date, then it was
 *     expunged or belongs to another session) contributes only the fields the program changed
 *     since the expiry (those differing from its snapshot, or set by a setter): its other
 *     values may be older than the row, and SQLAlchemy merges no expired attribute either.
 *     Copying them would write the stale values back over a newer row, silently.
 *  4. A copy with a version counter (UVSQL_VERSION_ID, given or loaded) merges only onto the
 *     row of that version: otherwise UVSQL_ESTALE_DATA and nothing is copied (SQLAlchemy's
 *     StaleDataError), as the flush would not notice (it checks the session object's version).
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

typedef struct {
  uvsql_session_t *s;
  uvsql_mapper_t *m;
  void *copy;    /* invariant 1 */
  uint64_t mask; /* the fields to copy */
  int haskey;    /* the copy has a whole primary key (not NULL, not a generated 0) */
  uvsql_value_t pk[UVSQL__MAX_PK]; /* borrowed from copy */
  uvsql__obj_t *own;               /* the object is the session's own: the answer */
} merge_t;

static void merge_free(void *p) {
  merge_t *x = p;
  free(x->copy);
  free(x);
}

/* Writes the fields of mask that differ from the copy into h (invariant 2). */
static int copy_fields(merge_t *x, uvsql__obj_t *h, uint64_t mask, uvsql_error_t *err) {
  const uvsql_mapper_t *m = x->m;
  for (size_t i = 0; i < m->model->nfields; i++) {
    if (!(mask >> i & 1))
      continue;
    uvsql_value_t want = uvsql__field_value(m, x->copy, i),
                  have = uvsql__field_value(m, h->body, i);
    if (uvsql__value_equal(&want, &have))
      continue;
    int rc = uvsql__field_set_value(m, h->body, i, &want);
    if (rc) {
      char kind[32];
      return uvsql__error_set(
          err, rc,
          rc == UVSQL_ENOMEM ? "uvsql_session_merge: out of memory copying %s.%s%s%s"
                             : "uvsql_session_merge: cannot copy %s.%s (kind %s)%s",
          m->model->type_name, m->model->fields[i].name,
          rc == UVSQL_ENOMEM ? "" : uvsql__field_kind_name(&m->model->fields[i], kind, sizeof kind),
          rc == UVSQL_ENOMEM ? "" : ": merge does not handle this kind yet");
    }
    h->given |= UINT64_C(1) << i;
  }
  return 0;
}

static uint64_t key_mask(const uvsql_mapper_t *m) {
  uint64_t k = 0;
  for (size_t i = 0; i < m->npk; i++)
    k |= UINT64_C(1) << m->pk[i];
  return k;
}

static void done(merge_t *x, uvsql__obj_t *h, const uvsql_error_t *err) {
  uvsql__session_custom_done(x->s, err ? NULL : h->body, NULL, err);
}

/* Invariant 4: the copy's version counter, when it has one, is the row's. 0 or ESTALE_DATA. */
static int check_version(merge_t *x, uvsql__obj_t *h, uvsql_error_t *err) {
  int vf = x->m->root->version;
  if (vf < 0 || !(x->mask >> vf & 1))
    return 0;
  uvsql_value_t mine = uvsql__field_value(x->m, x->copy, (size_t)vf),
                row = uvsql__field_value(x->m, h->body, (size_t)vf);
  if (uvsql__value_equal(&mine, &row))
    return 0;
  return uvsql__error_set(
      err, UVSQL_ESTALE_DATA,
      "uvsql_session_merge: the merged %s has version %lld but its row has version %lld "
      "(written since the object was read): reload it and decide again, or leave the version "
      "field unset to update the latest version",
      x->m->model->type_name, (long long)mine.u.i64, (long long)row.u.i64);
}

/* The session's object h takes the copy's state; or, h NULL, a new pending one does. */
static void merge_into(merge_t *x, uvsql__obj_t *h) {
  uvsql_error_t err;
  if (h) {
    if (check_version(x, h, &err)) {
      uvsql__session_custom_soft(x->s); /* nothing changed: the transaction goes on */
      done(x, NULL, &err);
    } else if (copy_fields(x, h, x->mask & ~key_mask(x->m), &err))
      done(x, NULL, &err);
    else
      done(x, h, NULL);
    return;
  }
  h = uvsql__obj_alloc(x->m);
  int rc = h ? copy_fields(x, h, x->mask, &err)
             : uvsql__error_set(&err, UVSQL_ENOMEM, "uvsql_session_merge: out of memory");
  if (rc == 0 && (rc = uvsql_session_add(x->s, h->body)) != 0)
    uvsql__error_set(&err, rc, "uvsql_session_merge: cannot add the new %s to the session (%s)",
                     x->m->model->type_name, uvsql_err_name(rc));
  if (rc && h)
    uvsql__obj_destroy(h);
  done(x, rc ? NULL : h, rc ? &err : NULL);
}

static uvsql__obj_t *in_map(merge_t *x) {
  uvsql__obj_t *h = x->haskey ? uvsql__idmap_find(&x->s->idmap, x->m, x->pk) : NULL;
  return h && !(h->flags & UVSQL__OF_EXPIRED) ? h : NULL;
}

static void selected(uvsql_future_t *f, void *data) {
  merge_t *x = data;
  const uvsql_error_t *ferr = uvsql_future_error(f);
  uvsql_error_t err;
  void **objs;
  size_t n;
  if (ferr) {
    done(x, NULL, ferr);
    return;
  }
  if (uvsql__session_load(x->s, x->m, uvsql_future_value(f), &objs, &n, 0, &err)) {
    done(x, NULL, &err);
    return;
  }
  uvsql__obj_t *h = n ? uvsql__hdr(objs[0]) : NULL;
  free(objs);
  merge_into(x, h);
}

static void run(uvsql_session_t *s, void *ctx) {
  merge_t *x = ctx;
  uvsql__obj_t *h = in_map(x); /* the autoflush may have made it persistent */
  if (h) {
    merge_into(x, h);
    return;
  }
  uvsql_param_t p[UVSQL__MAX_PK];
  for (size_t i = 0; i < x->m->npk; i++)
    p[i] = UVSQL_P(uvsql__key_names[i], x->pk[i]);
  uvsql_core_stmt_t *st = uvsql__stmt_select_pk(x->m);
  if (!st) {
    uvsql_error_t err;
    uvsql__error_set(&err, UVSQL_ENOMEM, "uvsql_session_merge: out of memory building a SELECT");
    done(x, NULL, &err);
    return;
  }
  s->nstatements++;
  uvsql_conn_execute_core(s->conn, st, p, x->m->npk, selected, x);
}

static void start(uvsql_session_t *s, void *ctx) {
  merge_t *x = ctx;
  uvsql__obj_t *h = in_map(x);
  if (h || !x->haskey)
    merge_into(x, h); /* no SQL: in the identity map, or new (no key to look for) */
  else
    uvsql__session_custom_tx(s); /* autobegin, autoflush, then run() */
}

static void own_start(uvsql_session_t *s, void *ctx) {
  merge_t *x = ctx;
  (void)s;
  done(x, x->own, NULL);
}

static uvsql_future_t *refuse(uvsql_session_t *s, const char *msg, uvsql_future_cb cb, void *data) {
  return uvsql__future_refused(s->loop, cb, data, UVSQL_EINVALID_ARGUMENT, "%s", msg);
}

uvsql_future_t *uvsql_session_merge(uvsql_session_t *s, const void *obj, uvsql_future_cb cb,
                                    void *data) {
  if (!s)
    return NULL;
  uvsql__obj_t *src = uvsql__obj_check(obj);
  if (!src)
    return refuse(s, "uvsql_session_merge: not an ORM object (make it with uvsql_orm_new)", cb,
                  data);
  uvsql_mapper_t *m = (uvsql_mapper_t *)src->mapper;
  if (m->reg != s->reg)
    return refuse(s,
                  "uvsql_session_merge: the object's mapper belongs to another registry than the "
                  "session's: merge objects of the session's own mappers",
                  cb, data);
  merge_t *x = calloc(1, sizeof *x);
  if (x && !(x->copy = uvsql__struct_copy(m, src->body))) {
    free(x);
    x = NULL;
  }
  if (!x)
    return uvsql__future_refused(s->loop, cb, data, UVSQL_ENOMEM,
                                 "uvsql_session_merge: out of memory");
  x->s = s;
  x->m = m;
  size_t nf = m->model->nfields;
  if (src->snap && (src->flags & UVSQL__OF_EXPIRED)) { /* invariant 3 */
    x->mask = uvsql__obj_changes(src) | src->given;
  } else if (src->snap) { /* it was loaded: every field holds the row's value (or a change) */
    x->mask = nf == 64 ? ~UINT64_C(0) : (UINT64_C(1) << nf) - 1;
  } else {
    for (size_t i = 0; i < nf; i++)
      if (uvsql__field_given(src, i))
        x->mask |= UINT64_C(1) << i;
  }
  uvsql__obj_pk(m, x->copy, x->pk);
  x->haskey = 1;
  for (size_t i = 0; i < m->npk; i++)
    if (uvsql__field_is_null(m, x->copy, m->pk[i]) ||
        (m->autoinc && x->pk[i].type == UVSQL_TYPE_INT64 && x->pk[i].u.i64 == 0))
      x->haskey = 0;
  if (src->session == s) { /* the session's own: nothing to copy */
    free(x->copy);
    x->copy = NULL;
    x->own = src;
  }
  return uvsql__session_custom(s, src->session == s ? own_start : start, run, merge_free, x, cb,
                               data);
}
