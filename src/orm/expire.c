/* src/orm/expire.c — expiry: objects whose values may be out of date (after a commit with
 * expire_on_commit, after uvsql_session_expire/expire_all, after a rollback) and what a row
 * that loads one of them, or any object under populate_existing, does to it.
 *
 * Invariants:
 *  1. UVSQL__OF_EXPIRED is set only on PERSISTENT objects of a session and cleared when a row
 *     loads the object; it means something only while the object is PERSISTENT (an object
 *     that leaves the identity map and comes back, by a rollback of its DELETE or by being
 *     added again after expunge, is still expired, as its values may well be).
 *  2. An expired object's fields keep their last values; its snapshot keeps the values last
 *     loaded/flushed. A field that differs from the snapshot was changed by the program after
 *     the expiry (uvsql_session_expire puts unflushed changes back to the snapshot): the row
 *     that loads the object overwrites every other field and leaves that one (a pending change,
 *     flushed next), and the snapshot becomes the row.
 *  3. Nothing here sends SQL: the next get / query / refresh re-reads the row.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

int uvsql_orm_is_expired(const void *obj) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  return h && h->state == UVSQL_OBJ_PERSISTENT && (h->flags & UVSQL__OF_EXPIRED) ? 1 : 0;
}

/* holders: also unload the session's relationships that hold it (one object's expire; all
 * objects' relationships are unloaded at once by expire_all). */
static int expire_one(uvsql_session_t *s, uvsql__obj_t *h, int holders) {
  /* unflushed changes are discarded, as SQLAlchemy's expire() does (invariant 2), those of
   * its relationships too (cascade.c invariant 6) */
  if (h->snap && uvsql__obj_changes(h) && uvsql__struct_assign(h->mapper, h->body, h->snap))
    return UVSQL_ENOMEM;
  if (s->reg->has_rels && holders)
    uvsql__rel_refresh(s, h, 1);
  h->flags |= UVSQL__OF_EXPIRED;
  return 0;
}

int uvsql_session_expire(uvsql_session_t *s, void *obj) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  if (!s || !h || h->session != s || h->state != UVSQL_OBJ_PERSISTENT)
    return UVSQL_EINVALID_ARGUMENT;
  return expire_one(s, h, 1);
}

int uvsql_session_expire_all(uvsql_session_t *s) {
  if (!s)
    return UVSQL_EINVALID_ARGUMENT;
  int rc = 0;
  for (uvsql__obj_t *h = s->owned; h; h = h->next)
    if (h->state == UVSQL_OBJ_PERSISTENT && expire_one(s, h, 0))
      rc = UVSQL_ENOMEM; /* that object keeps its changes, not expired; the others are */
  if (s->reg->has_rels)
    uvsql__rel_expire(s);
  return rc;
}

void uvsql__session_expire_flag_all(uvsql_session_t *s) {
  for (uvsql__obj_t *h = s->owned; h; h = h->next)
    if (h->state == UVSQL_OBJ_PERSISTENT)
      h->flags |= UVSQL__OF_EXPIRED;
}

/* Copies field i of src into dst (dst's old string freed, src's duplicated). 0 or ENOMEM. */
static int field_copy(const uvsql_mapper_t *m, void *dst, const void *src, size_t i) {
  const uvsql_field_t *f = &m->model->fields[i];
  unsigned char *pd = (unsigned char *)dst + f->offset;
  const unsigned char *ps = (const unsigned char *)src + f->offset;
  int null = uvsql__field_is_null(m, src, i);
  if (f->kind == UVSQL_FIELD_ARRAY) {
    const uvsql_array_t *a = (const void *)ps;
    uvsql_array_t copy = {NULL, 0};
    if (!null && uvsql__array_dup(a->items, a->n, &copy) != 0)
      return UVSQL_ENOMEM;
    free(((uvsql_array_t *)(void *)pd)->items);
    *(uvsql_array_t *)(void *)pd = copy;
  } else if (f->kind == UVSQL_FIELD_TEXT || f->kind == UVSQL_FIELD_JSON ||
             f->kind == UVSQL_FIELD_BYTES) {
    uvsql_value_t v = uvsql__field_value(m, src, i);
    char *copy = NULL;
    if (!null) {
      if (!(copy = malloc(v.u.s.len + 1)))
        return UVSQL_ENOMEM;
      memcpy(copy, v.u.s.ptr, v.u.s.len);
      copy[v.u.s.len] = '\0';
    }
    if (f->kind != UVSQL_FIELD_BYTES) {
      free(*(char **)pd);
      *(char **)pd = copy;
    } else {
      uvsql_bytes_t *b = (uvsql_bytes_t *)pd;
      free(b->ptr);
      b->ptr = copy;
      b->len = null ? 0 : v.u.s.len;
    }
  } else {
    size_t size = f->kind == UVSQL_FIELD_DOUBLE                                ? sizeof(double)
                  : f->kind == UVSQL_FIELD_BOOL || f->kind == UVSQL_FIELD_ENUM ? sizeof(int)
                  : f->kind == UVSQL_FIELD_INTERVAL ? sizeof(uvsql_interval_t)
                  : f->kind == UVSQL_FIELD_NUMERIC  ? sizeof(uvsql_numeric_t)
                  : f->kind == UVSQL_FIELD_UUID     ? sizeof(uvsql_uuid_t)
                                                    : sizeof(int64_t);
    memcpy(pd, ps, size);
  }
  uvsql__field_set_null(m, dst, i, null);
  return 0;
}

int uvsql__obj_repopulate(uvsql__obj_t *have, uvsql__obj_t *fresh, int overwrite,
                          uvsql_error_t *err) {
  const uvsql_mapper_t *m = have->mapper;
  int expired = (have->flags & UVSQL__OF_EXPIRED) != 0;
  if (!overwrite && !expired)
    return 0;
  uint64_t keep = overwrite ? 0 : uvsql__obj_changes(have); /* changed since the expiry */
  void *kept = keep ? uvsql__struct_copy(m, have->body) : NULL;
  void *snap = uvsql__struct_copy(m, fresh->body);
  int rc = (keep && !kept) || !snap ? UVSQL_ENOMEM : 0;
  if (rc == 0)
    rc = uvsql__struct_assign(m, have->body, fresh->body);
  for (size_t i = 0; rc == 0 && i < m->model->nfields; i++)
    if (keep & (UINT64_C(1) << i))
      rc = field_copy(m, have->body, kept, i);
  free(kept);
  if (rc) {
    free(snap);
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory refreshing a %s",
                            m->model->type_name);
  }
  uvsql__snap_free(have, have->snap);
  have->snap = snap;
  have->flags &= (uint8_t)~UVSQL__OF_EXPIRED;
  return 0;
}

/* flush.c invariant 9: h's snapshot after an UPDATE: its values, but for the fields of
 * `unwritten` (changed, yet not in the UPDATE: a listener changed them during the flush)
 * the values of old, the snapshot before; those fields stay changed, the next flush writes
 * them. h's fields and setter marks are as before the call. 0 or ENOMEM. */
int uvsql__obj_snapshot_except(uvsql__obj_t *h, const void *old, uint64_t unwritten) {
  const uvsql_mapper_t *m = h->mapper;
  if (!unwritten || !old)
    return uvsql__obj_snapshot(h);
  uint64_t given = h->given & unwritten;
  void *kept = uvsql__struct_copy(m, h->body);
  if (!kept)
    return UVSQL_ENOMEM;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < m->model->nfields; i++)
    if (unwritten >> i & 1)
      rc = field_copy(m, h->body, old, i);
  if (rc == 0)
    rc = uvsql__obj_snapshot(h);
  for (size_t i = 0; i < m->model->nfields; i++) /* the program's values back */
    if ((unwritten >> i & 1) && field_copy(m, h->body, kept, i))
      rc = UVSQL_ENOMEM;
  h->given |= given;
  free(kept);
  return rc;
}
