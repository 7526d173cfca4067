/* src/orm/inherit.c — single-table inheritance (orm.h "inheritance"): the declarations
 * (uvsql_mapper_polymorphic_on, uvsql_mapper_inherits) and the helpers the rest of the ORM
 * calls: which class a row is (uvsql__poly_mapper), a new subclass object's discriminator.
 *
 * Invariants:
 *  1. A subclass mapper maps its base's table; its first fields are the base's fields (same
 *     names, kinds and order: UVSQL_MODEL_INHERITS), so the base's field indexes (key,
 *     discriminator) hold for it, and a subclass object's body is a base struct.
 *  2. Selects of a hierarchy's mappers list every column of the table in table order; the
 *     base's fields are the table's first columns, a subclass's field i is colmap[i].
 *  3. Discriminator values are unique within a hierarchy (whose root holds the discriminator
 *     field); a subclass may have subclasses (any depth): a select of a class returns rows of
 *     it and of its descendants, each as the class its discriminator names.
 *  4. Joined-table subclasses (inherit_joined.c) share this file's discriminator and row
 *     class helpers; a hierarchy is single-table or joined, not both.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rel.h"

int uvsql__poly_all_columns(const uvsql_mapper_t *m) {
  return m->inherits != NULL || m->poly_field >= 0;
}

size_t uvsql__select_width(const uvsql_mapper_t *m) {
  if (!uvsql__poly_all_columns(m))
    return m->model->nfields;
  return m->root->has_joined ? m->root->ncolsel : uvsql_table_ncolumns(m->root->table);
}

int uvsql__mapper_isa(const uvsql_mapper_t *a, const uvsql_mapper_t *b) {
  for (; a; a = a->inherits)
    if (a == b)
      return 1;
  return 0;
}

/* Whether m is the target of a relationship (not supported in a hierarchy yet). */
int uvsql__rel_target(const uvsql_mapper_t *m) {
  const uvsql_registry_t *reg = m->reg;
  for (size_t k = 0; k < reg->n; k++)
    for (size_t i = 0; i < reg->mappers[k]->nrels; i++)
      if (reg->mappers[k]->rels[i]->target == m)
        return 1;
  return 0;
}

uvsql_mapper_t *uvsql_mapper_polymorphic_on(uvsql_mapper_t *base, const char *field,
                                            uvsql_error_t *err) {
  if (!base) {
    uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                     "uvsql_mapper_polymorphic_on: a mapper is required");
    return NULL;
  }
  long i = uvsql__field_index(base, field);
  if (i < 0) {
    uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                     "uvsql_mapper_polymorphic_on: %s has no field \"%s\": name the "
                     "discriminator field of the base model",
                     base->model->type_name, field ? field : "(null)");
    return NULL;
  }
  uvsql_field_kind_t k = base->model->fields[i].kind;
  if (k != UVSQL_FIELD_TEXT && k != UVSQL_FIELD_INT64) {
    char buf[32];
    uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                     "uvsql_mapper_polymorphic_on: discriminator %s.%s is of kind %s: it must "
                     "be TEXT, STRING(n) or INT64",
                     base->model->type_name, field,
                     uvsql__field_kind_name(&base->model->fields[i], buf, sizeof buf));
    return NULL;
  }
  if (base->inherits) {
    uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                     "uvsql_mapper_polymorphic_on: %s is a subclass of %s: a hierarchy has one "
                     "discriminator; declare it on its root %s",
                     base->model->type_name, base->inherits->model->type_name,
                     base->root->model->type_name);
    return NULL;
  }
  if (uvsql__rel_target(base)) {
    uvsql__error_set(err, UVSQL_ENOT_SUPPORTED,
                     "uvsql_mapper_polymorphic_on: %s is the target of a relationship: "
                     "relationships to an inheritance hierarchy are not supported yet",
                     base->model->type_name);
    return NULL;
  }
  base->poly_field = (int)i;
  return base;
}

uvsql_mapper_t *uvsql__inherit_fail(uvsql_error_t *err, const char *fn, const uvsql_mapper_t *sub,
                                    const uvsql_model_t *sm, const char *fmt, const char *a,
                                    const char *b) {
  char msg[400];
  snprintf(msg, sizeof msg, fmt, a, b);
  uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT, "%s: %s: %s", fn,
                   sub ? sub->model->type_name : sm->type_name, msg);
  return NULL;
}

static uvsql_mapper_t *fail(uvsql_error_t *err, const uvsql_mapper_t *sub, const char *fmt,
                            const char *a, const char *b) {
  return uvsql__inherit_fail(err, "uvsql_mapper_inherits", sub, NULL, fmt, a, b);
}

int uvsql__inherit_check_fields(const char *fn, const uvsql_model_t *sm, const uvsql_model_t *bm,
                                uvsql_error_t *err) {
  if (sm->nfields < bm->nfields || sm->nulls_offset != bm->nulls_offset) {
    uvsql__inherit_fail(err, fn, NULL, sm,
                        "its model does not begin with base %s's struct and fields%s: declare it "
                        "with UVSQL_MODEL_INHERITS",
                        bm->type_name, "");
    return UVSQL_EINVALID_ARGUMENT;
  }
  for (size_t i = 0; i < bm->nfields; i++)
    if (strcmp(sm->fields[i].name, bm->fields[i].name) != 0 ||
        sm->fields[i].kind != bm->fields[i].kind || sm->fields[i].offset != bm->fields[i].offset) {
      uvsql__inherit_fail(err, fn, NULL, sm,
                          "field %s of the base is not its field at the same place: declare it "
                          "with UVSQL_MODEL_INHERITS(type, %s, ...)",
                          bm->fields[i].name, bm->type_name);
      return UVSQL_EINVALID_ARGUMENT;
    }
  return 0;
}

uvsql_mapper_t *uvsql_mapper_inherits(uvsql_mapper_t *sub, uvsql_mapper_t *base,
                                      const char *identity, uvsql_error_t *err) {
  if (!sub || !base || !identity) {
    uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                     "uvsql_mapper_inherits: a subclass mapper, a base mapper and a "
                     "discriminator value are required");
    return NULL;
  }
  const uvsql_model_t *sm = sub->model, *bm = base->model;
  if (sub == base || sub->inherits || sub->poly_field >= 0)
    return fail(err, sub, "%s%sit is a base or a subclass already", "", "");
  if (base->joined || base->root->has_joined)
    return fail(err, sub,
                "base %s is in a joined-table hierarchy%s: a hierarchy is single-table or "
                "joined, not both (map it with uvsql_registry_map_joined)",
                bm->type_name, "");
  if (sub->table != base->table)
    return fail(err, sub,
                "it maps table \"%s\", its base another (\"%s\"): single-table inheritance "
                "maps both models on the base's table",
                uvsql_table_name(sub->table), uvsql_table_name(base->table));
  const uvsql_mapper_t *root = base->root;
  if (root->poly_field < 0)
    return fail(err, sub,
                "base %s has no discriminator: call uvsql_mapper_polymorphic_on(base, "
                "\"field\") first%s",
                bm->type_name, "");
  if (sm->nfields == bm->nfields ||
      uvsql__inherit_check_fields("uvsql_mapper_inherits", sm, bm, err))
    return sm->nfields == bm->nfields
               ? fail(err, sub,
                      "its model does not begin with base %s's struct and fields%s: declare it "
                      "with UVSQL_MODEL_INHERITS",
                      bm->type_name, "")
               : NULL;
  for (size_t i = bm->nfields; i < sm->nfields; i++)
    if (sm->fields[i].flags & (UVSQL_NOT_NULL | UVSQL_PRIMARY_KEY))
      return fail(err, sub,
                  "its column %s is NOT NULL or a key%s: a subclass's columns must be nullable "
                  "(other classes' rows leave them NULL)",
                  sm->fields[i].name, "");
  if (sub->nrels || uvsql__rel_target(sub))
    return fail(err, sub,
                "it has relationships or is the target of one%s%s: declare relationships on "
                "the hierarchy's root (relationships to a hierarchy are not supported yet)",
                "", "");
  uvsql_value_t v;
  if (uvsql__poly_value("uvsql_mapper_inherits", sm, base, identity, &v, err) != 0)
    return NULL;
  uint8_t *map = malloc(sm->nfields);
  if (!map) {
    if (v.type == UVSQL_TYPE_TEXT)
      free((void *)v.u.s.ptr);
    uvsql__error_set(err, UVSQL_ENOMEM, "out of memory declaring %s", sm->type_name);
    return NULL;
  }
  size_t ncols = uvsql_table_ncolumns(sub->table);
  for (size_t i = 0; i < sm->nfields; i++)
    for (size_t j = 0; j < ncols; j++)
      if (uvsql_table_column_at(sub->table, j) == sub->cols[i])
        map[i] = (uint8_t)j;
  sub->colmap = map;
  sub->ncolsel = ncols;
  sub->poly_value = v;
  sub->inherits = base;
  sub->root = root;
  uvsql__rels_share((uvsql_mapper_t *)root);
  uvsql__mapper_plan(sub); /* the autoflush check covers the fields after base.uvsql_nulls */
  return sub;
}

int uvsql__poly_value(const char *fn, const uvsql_model_t *sm, const uvsql_mapper_t *base,
                      const char *identity, uvsql_value_t *out, uvsql_error_t *err) {
  const uvsql_mapper_t *root = base->root;
  const uvsql_field_t *df = &root->model->fields[root->poly_field];
  uvsql_value_t v;
  if (df->kind == UVSQL_FIELD_INT64) {
    char *end;
    errno = 0;
    long long x = strtoll(identity, &end, 10);
    if (!*identity || *end || errno) {
      uvsql__inherit_fail(err, fn, NULL, sm,
                          "discriminator value \"%s\" is not an integer, but discriminator %s "
                          "is INT64",
                          identity, df->name);
      return UVSQL_EINVALID_ARGUMENT;
    }
    v = UVSQL_V_INT64((int64_t)x);
  } else {
    v = UVSQL_V_TEXT(identity);
  }
  uvsql_registry_t *reg = base->reg;
  for (size_t k = 0; k < reg->n; k++) {
    const uvsql_mapper_t *o = reg->mappers[k];
    if (o->inherits && o->root == root && uvsql__value_equal(&o->poly_value, &v)) {
      uvsql__inherit_fail(err, fn, NULL, sm,
                          "discriminator value \"%s\" is taken by %s: give each class its own",
                          identity, o->model->type_name);
      return UVSQL_EINVALID_ARGUMENT;
    }
  }
  if (df->kind == UVSQL_FIELD_TEXT) {
    char *text = strdup(identity);
    if (!text)
      return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory declaring %s", sm->type_name);
    v = UVSQL_V_TEXT(text);
  }
  *out = v;
  return 0;
}

int uvsql__poly_init(const uvsql_mapper_t *m, void *st) {
  return uvsql__field_set_value(m, st, (size_t)m->root->poly_field, &m->poly_value);
}

const uvsql_mapper_t *uvsql__poly_mapper(const uvsql_mapper_t *m, const uvsql_result_t *r,
                                         size_t row) {
  return uvsql__poly_mapper_at(m, r, row, 0);
}

const uvsql_mapper_t *uvsql__poly_mapper_at(const uvsql_mapper_t *m, const uvsql_result_t *r,
                                            size_t row, size_t col0) {
  const uvsql_mapper_t *root = m->root;
  if (!root || root->poly_field < 0 ||
      uvsql_result_is_null(r, row, col0 + (size_t)root->poly_field))
    return m;
  uvsql_value_t v;
  const char *text;
  size_t len;
  int64_t x;
  size_t fi = (size_t)root->poly_field; /* the root's fields are the select's first columns */
  size_t col = col0 + fi;
  if (root->model->fields[fi].kind == UVSQL_FIELD_INT64) {
    if (uvsql_result_int64(r, row, col, &x))
      return m;
    v = UVSQL_V_INT64(x);
  } else {
    if (uvsql_result_text(r, row, col, &text, &len))
      return m;
    v = UVSQL_V_TEXTN(text, len);
  }
  const uvsql_registry_t *reg = m->reg;
  for (size_t k = 0; k < reg->n; k++) {
    const uvsql_mapper_t *o = reg->mappers[k];
    if (o->inherits && o->root == root && uvsql__value_equal(&o->poly_value, &v))
      return uvsql__mapper_isa(o, m) ? o : m;
  }
  return m;
}
