/* src/orm/inherit_joined.c — joined-table inheritance (orm.h "inheritance"): a subclass maps
 * a table of its own, joined to its base's on the primary key (SQLAlchemy's joined
 * inheritance). uvsql_registry_map_joined declares it; the rest of the ORM asks this file
 * which tables an object is written to (uvsql__joined_chain, uvsql__joined_part) and which
 * table a field lives in (uvsql__field_table).
 *
 * Invariants:
 *  1. A joined subclass's model begins with its base's fields (UVSQL_MODEL_INHERITS), so
 *     every mapper of its chain (root first) reads and writes the same object body, each with
 *     its own field indexes, which are the subclass's for the fields they share.
 *  2. Its table holds the key (same names and types as the root's key fields, not generated,
 *     a foreign key to the base's table) and its own fields [own_from, nfields).
 *  3. The hierarchy has one select (mapper.c's uvsql_orm_select): the root's fields, then each
 *     joined table's own fields in the order the subclasses were mapped, FROM the root's
 *     table LEFT OUTER JOIN each joined table on the key; a subclass's colmap places its
 *     fields in it. One statement and one row layout for every class of the hierarchy
 *     (rather than a selectin of the subclass tables, which costs a round trip per level and
 *     a second pass over the objects), so a polymorphic row becomes its object in one step.
 *  4. Writes go table by table along the chain (flush.c): INSERT root first (it generates
 *     the key), then each level with that key; UPDATE only of the tables whose fields
 *     changed; DELETE deepest table first. A chain is at most UVSQL__MAX_CHAIN long.
 *  5. A version counter (UVSQL_VERSION_ID) is the root's field, in the root's table: every
 *     UPDATE of an object of the hierarchy UPDATEs the root's row first, bumping the counter
 *     WHERE key AND counter = the loaded value (also when only a subclass's table changed),
 *     then the subclass tables by key; a DELETE checks it on the root's row. Subclass
 *     mappers have no counter of their own (version -1): their tables do not hold it.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

size_t uvsql__joined_chain(const uvsql_mapper_t *m, uvsql_mapper_t **out) {
  size_t n = 0;
  for (const uvsql_mapper_t *x = m; x && n < UVSQL__MAX_CHAIN; x = x->joined ? x->inherits : NULL)
    n++;
  size_t k = n;
  for (const uvsql_mapper_t *x = m; k > 0; x = x->inherits)
    out[--k] = (uvsql_mapper_t *)x;
  return n;
}

uint64_t uvsql__joined_part(const uvsql_mapper_t *level) {
  size_t nf = level->model->nfields;
  uint64_t all = nf == 64 ? ~UINT64_C(0) : (UINT64_C(1) << nf) - 1;
  if (!level->joined)
    return all;
  uint64_t part = all & ~((UINT64_C(1) << level->own_from) - 1);
  for (size_t k = 0; k < level->npk; k++)
    part |= UINT64_C(1) << level->pk[k];
  return part;
}

uvsql_table_t *uvsql__field_table(const uvsql_mapper_t *m, size_t i) {
  while (m->joined && i < m->own_from)
    m = m->inherits;
  return m->table;
}

static uvsql_mapper_t *jfail(uvsql_error_t *err, const uvsql_model_t *sm, const char *fmt,
                             const char *a, const char *b) {
  return uvsql__inherit_fail(err, "uvsql_registry_map_joined", NULL, sm, fmt, a, b);
}

/* Whether root's hierarchy has single-table subclasses. */
static int has_single(const uvsql_mapper_t *root) {
  const uvsql_registry_t *reg = root->reg;
  for (size_t k = 0; k < reg->n; k++)
    if (reg->mappers[k]->root == root && reg->mappers[k]->inherits && !reg->mappers[k]->joined)
      return 1;
  return 0;
}

/* The checks that need no allocation (invariants 1, 5; a hierarchy of one kind). */
static int check(uvsql_registry_t *reg, const uvsql_model_t *model, const char *table,
                 const uvsql_mapper_t *base, uvsql_error_t *err) {
  const uvsql_mapper_t *root = base->root;
  if (base->reg != reg) {
    jfail(err, model, "base %s is a mapper of another registry%s", base->model->type_name, "");
    return UVSQL_EINVALID_ARGUMENT;
  }
  if (root->poly_field < 0) {
    jfail(err, model,
          "base %s's hierarchy has no discriminator: call uvsql_mapper_polymorphic_on(%s, "
          "\"field\") first",
          base->model->type_name, root->model->type_name);
    return UVSQL_EINVALID_ARGUMENT;
  }
  if (has_single(root)) {
    jfail(err, model,
          "base %s's hierarchy has single-table subclasses%s: a hierarchy is single-table or "
          "joined, not both",
          base->model->type_name, "");
    return UVSQL_EINVALID_ARGUMENT;
  }
  if (uvsql__mapper_for_table(reg, table)) {
    jfail(err, model,
          "table \"%s\" is mapped already%s: a joined subclass maps a table of its own (for "
          "single-table inheritance use uvsql_mapper_inherits)",
          table, "");
    return UVSQL_EINVALID_ARGUMENT;
  }
  if (uvsql__inherit_check_fields("uvsql_registry_map_joined", model, base->model, err))
    return UVSQL_EINVALID_ARGUMENT;
  for (size_t i = base->model->nfields; i < model->nfields; i++)
    if (model->fields[i].flags & (UVSQL_PRIMARY_KEY | UVSQL_VERSION_ID)) {
      jfail(err, model,
            "its own field %s is a key or a version counter%s: the key is the base's (declare "
            "it on the root)",
            model->fields[i].name, "");
      return UVSQL_EINVALID_ARGUMENT;
    }
  size_t depth = 1;
  for (const uvsql_mapper_t *x = base; x->joined; x = x->inherits)
    depth++;
  size_t width = root->has_joined ? root->ncolsel : root->model->nfields;
  if (width + model->nfields - base->model->nfields > 255) {
    jfail(err, model, "the hierarchy of %s would select more than %s columns",
          root->model->type_name, "255");
    return UVSQL_EINVALID_ARGUMENT;
  }
  if (depth >= UVSQL__MAX_CHAIN) {
    jfail(err, model, "base %s is %s levels deep already: the limit is 7", base->model->type_name,
          "7");
    return UVSQL_EINVALID_ARGUMENT;
  }
  return 0;
}

uvsql_mapper_t *uvsql_registry_map_joined(uvsql_registry_t *reg, const uvsql_model_t *model,
                                          const char *table, uvsql_mapper_t *base,
                                          const char *identity, uvsql_error_t *err) {
  if (!reg || !model || !base || !identity || !model->nfields) {
    uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                     "uvsql_registry_map_joined: a registry, a model, a base mapper and a "
                     "discriminator value are required");
    return NULL;
  }
  if (!table)
    table = model->table;
  if (model->nfields > 64) {
    uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                     "model %s has %zu fields: a model has at most 64 (the hierarchy's fields "
                     "count)",
                     model->type_name, model->nfields);
    return NULL;
  }
  if (check(reg, model, table, base, err))
    return NULL;
  uvsql_mapper_t *root = (uvsql_mapper_t *)base->root; /* the registry owns it: its width grows */
  uvsql_mapper_t *m = calloc(1, sizeof *m);
  uvsql_mapper_t **v = realloc(reg->mappers, (reg->n + 1) * sizeof *v);
  if (v)
    reg->mappers = v;
  if (!m || !v || !(m->cols = calloc(model->nfields, sizeof *m->cols)) ||
      !(m->colmap = malloc(model->nfields))) {
    if (m)
      free(m->cols);
    free(m);
    uvsql__error_set(err, UVSQL_ENOMEM, "out of memory mapping %s", model->type_name);
    return NULL;
  }
  m->reg = reg;
  m->model = model;
  m->version = -1;
  m->poly_field = -1;
  m->root = root;
  m->inherits = base;
  m->joined = 1;
  m->own_from = base->model->nfields;
  m->npk = base->npk;
  memcpy(m->pk, base->pk, sizeof m->pk);
  m->autoinc = root->autoinc; /* generated by the root's INSERT (invariant 4) */
  if (uvsql__poly_value("uvsql_registry_map_joined", model, base, identity, &m->poly_value, err))
    goto fail_quiet;
  m->table = uvsql_table(reg->md, table);
  const char *keys[UVSQL__MAX_PK + 1];
  for (size_t k = 0; m->table && k < m->npk; k++) {
    const uvsql_field_t *f = &model->fields[m->pk[k]];
    keys[k] = f->name;
    if (!uvsql_column(m->table, f->name, uvsql__field_sqltype(f),
                      UVSQL_PRIMARY_KEY | UVSQL_NOT_NULL | UVSQL_NO_AUTOINCREMENT))
      break;
  }
  keys[m->npk] = NULL;
  for (size_t i = 0; i < m->own_from; i++)
    m->cols[i] = base->cols[i];
  for (size_t i = m->own_from; m->table && i < model->nfields; i++) {
    const uvsql_field_t *f = &model->fields[i];
    if (!(m->cols[i] = uvsql_column(m->table, f->name, uvsql__field_sqltype(f), f->flags & 0xffu)))
      break;
  }
  if (m->table)
    uvsql_foreign_key(m->table, NULL, keys, uvsql_table_name(base->table), keys, UVSQL_FK_NO_ACTION,
                      UVSQL_FK_NO_ACTION);
  const uvsql_error_t *me = uvsql_metadata_error(reg->md);
  if (!m->table || me) {
    if (err && me)
      *err = *me;
    else
      uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT, "cannot declare table %s", table);
    goto fail_quiet;
  }
  if (!root->has_joined) {
    root->has_joined = 1;
    root->ncolsel = root->model->nfields;
  }
  for (size_t i = 0; i < m->own_from; i++)
    m->colmap[i] = (uint8_t)(base->colmap ? base->colmap[i] : i);
  for (size_t i = m->own_from; i < model->nfields; i++)
    m->colmap[i] = (uint8_t)root->ncolsel++;
  m->ncolsel = root->ncolsel;
  uvsql__mapper_plan(m); /* the autoflush check covers the fields after base.uvsql_nulls */
  m->index = reg->n;
  reg->mappers[reg->n++] = m;
  uvsql__rels_share(root); /* the root's relationships are every subclass object's */
  return m;
fail_quiet:
  if (m->poly_value.type == UVSQL_TYPE_TEXT)
    free((void *)m->poly_value.u.s.ptr);
  free(m->colmap);
  free(m->cols);
  free(m);
  return NULL;
}
