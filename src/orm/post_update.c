/* src/orm/post_update.c — the many-to-one dependency processor: post_update (SQLAlchemy's
 * post_update on a relationship), for two tables (or rows of one) that reference each other.
 * The flush calls it at two boundaries of its WRITE phase (internal.h, uvsql__depprocs):
 *
 *   after_inserts   every new row's post-update keys, by one UPDATE per row, now that every
 *                   row of the flush has its generated key
 *   before_deletes  every row about to be deleted whose post-update key is not NULL gets it
 *                   set NULL by an UPDATE, so the row it references may be deleted first
 *
 * The rest of a post-update key's life is the flush's own (flush.c invariant 5): it is no
 * edge of the mapper order, and the INSERT sends it NULL. The key fields are the mapper's
 * post_update bits (set by UVSQL_REL_POST_UPDATE, relationship.c).
 *
 * Invariants:
 *  1. Neither UPDATE bumps a version counter: it sets the version to the value it matches, so
 *     the DELETE that follows still matches the version loaded.
 *  2. Each UPDATE must match one row (the flush checks it as any UPDATE: UVSQL_ESTALE_DATA).
 */
#include "internal.h"

/* UPDATE of the post-update fields in mask to their values in h (the new row just inserted:
 * key from the body; a row about to be deleted: the loaded key and version), the version
 * unchanged (flush.c invariant 5). */
static void send_post_update(uvsql__uow_t *u, uvsql_mapper_t *m, uvsql__obj_t **hp, uint64_t mask) {
  uvsql__obj_t *h = *hp;
  const void *key = h->state == UVSQL_OBJ_PENDING ? h->body : h->snap;
  uvsql_param_t p[64 + UVSQL__MAX_PK + 2];
  size_t n = 0;
  if (m->version >= 0) {
    uvsql_value_t v = uvsql__field_value(m, key, (size_t)m->version);
    p[n++] = UVSQL_P("v", v);
    p[n++] = UVSQL_P(uvsql__set_names[m->version], v);
  }
  for (size_t i = 0; i < m->model->nfields; i++)
    if (mask >> i & 1)
      p[n++] = UVSQL_P(uvsql__set_names[i], uvsql__field_value(m, h->body, i));
  for (size_t i = 0; i < m->npk; i++)
    p[n++] = UVSQL_P(uvsql__key_names[i], uvsql__field_value(m, key, m->pk[i]));
  uvsql__uow_update(u, m, hp, mask, p, n);
}

/* The new rows' post-update keys, now that every row has its key. */
static void post_updates(uvsql__uow_t *u) {
  for (size_t k = 0; k < uvsql__uow_nmappers(u) && !uvsql__uow_failed(u); k++) {
    uvsql_mapper_t *m = uvsql__uow_mapper(u, k);
    size_t nv;
    uvsql__obj_t **v = m->post_update ? uvsql__uow_rows(u, m, 'I', &nv) : NULL;
    for (size_t i = 0; v && i < nv && !uvsql__uow_failed(u); i++) {
      uvsql__obj_t *h = v[i];
      uint64_t mask = 0;
      for (size_t l = 0; l < h->nlinks; l++)
        if (m->post_update >> h->links[l].field & 1)
          mask |= UINT64_C(1) << h->links[l].field;
      if (!mask)
        continue;
      if (uvsql__uow_sync_keys(u, h))
        return;
      send_post_update(u, m, &v[i], mask);
    }
  }
}

/* Rows about to be deleted drop their post-update keys first: the row they reference may be
 * deleted before them (the order ignores those keys). */
static void post_clears(uvsql__uow_t *u) {
  for (size_t k = 0; k < uvsql__uow_nmappers(u) && !uvsql__uow_failed(u); k++) {
    uvsql_mapper_t *m = uvsql__uow_mapper(u, k);
    size_t nv;
    uvsql__obj_t **v = m->post_update ? uvsql__uow_rows(u, m, 'D', &nv) : NULL;
    for (size_t i = 0; v && i < nv && !uvsql__uow_failed(u); i++) {
      uvsql__obj_t *h = v[i];
      uint64_t mask = 0;
      for (size_t f = 0; f < m->model->nfields; f++)
        if ((m->post_update >> f & 1) && !uvsql__field_is_null(m, h->snap, f))
          mask |= UINT64_C(1) << f;
      if (!mask)
        continue;
      uvsql_param_t p[64 + UVSQL__MAX_PK + 2];
      size_t n = 0;
      if (m->version >= 0) {
        uvsql_value_t ver = uvsql__field_value(m, h->snap, (size_t)m->version);
        p[n++] = UVSQL_P("v", ver);
        p[n++] = UVSQL_P(uvsql__set_names[m->version], ver);
      }
      for (size_t f = 0; f < m->model->nfields; f++)
        if (mask >> f & 1)
          p[n++] = UVSQL_P_NULL(uvsql__set_names[f]);
      for (size_t f = 0; f < m->npk; f++)
        p[n++] = UVSQL_P(uvsql__key_names[f], uvsql__field_value(m, h->snap, m->pk[f]));
      uvsql__uow_update(u, m, &v[i], mask, p, n);
    }
  }
}

const uvsql__depproc_t uvsql__dep_many_to_one = {
    .name = "many_to_one",
    .after_inserts = post_updates,
    .before_deletes = post_clears,
};
