/* src/orm/relate.c — uvsql_mapper_relate: one declaration per link, from the models. It reads
 * the relationship fields of UVSQL_MODEL_REL's RELS list (name, ONE/MANY, the model held,
 * offset), infers the kind from the field's shape and where the foreign key is, checks
 * everything (field, target, key, the other side) before declaring anything, then declares
 * both sides with uvsql_mapper_relationship, pairs them, and declares the Core foreign key
 * when its column has none.
 *
 * Invariants: a call that fails on a wrong argument leaves the registry as it was (every
 * argument error is found before the first declaration); errors name the model and the field
 * (user_t.addresses) and say what would be right.
 */
#include <stdio.h>
#include <string.h>
#include "rel.h"

#define RELATE "uvsql_mapper_relate: "

/* The relationship field `name` of m's model, or NULL. */
static const uvsql_rel_field_t *rel_field(const uvsql_mapper_t *m, const char *name) {
  for (size_t i = 0; name && i < m->model->nrels; i++)
    if (strcmp(m->model->rels[i].name, name) == 0)
      return &m->model->rels[i];
  return NULL;
}

/* "a, b, c": m's relationship fields, for messages. */
static void rel_names(const uvsql_mapper_t *m, char *buf, size_t size) {
  buf[0] = '\0';
  for (size_t i = 0; i < m->model->nrels; i++)
    snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? ", " : "", m->model->rels[i].name);
}

/* "a, b, c": m's column fields, for messages. */
static void field_names(const uvsql_mapper_t *m, char *buf, size_t size) {
  buf[0] = '\0';
  for (size_t i = 0; i < m->model->nfields; i++)
    snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? ", " : "",
             m->model->fields[i].name);
}

/* Whether every name of the list fk ("a" or "a,b") is a column field of m. */
static int has_fields(const uvsql_mapper_t *m, const char *fk) {
  char name[128];
  const char *p = fk;
  while (p) {
    while (*p == ' ')
      p++;
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    while (len && p[len - 1] == ' ')
      len--;
    if (!len || len >= sizeof name)
      return 0;
    memcpy(name, p, len);
    name[len] = '\0';
    if (uvsql__field_index(m, name) < 0)
      return 0;
    p = comma ? comma + 1 : NULL;
  }
  return 1;
}

/* "no such field": err filled for fk, which must be a field of `in` (the side holding the key
 * of a `kind` relationship m.field). */
static uvsql_relationship_t *fk_error(const uvsql_mapper_t *m, const char *field,
                                      const uvsql_mapper_t *in, const char *fk, const char *why,
                                      uvsql_error_t *err) {
  char names[512];
  field_names(in, names, sizeof names);
  uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                   RELATE "%s.%s: %s, so its foreign key \"%s\" must be a field of %s, which has "
                          "none of that name (its fields: %s)",
                   m->model->type_name, field, why, fk, in->model->type_name, names);
  return NULL;
}

/* Declares the foreign key from holder's single fk field to keyed's single-column primary key
 * unless that column already has one. NULL with err filled when Core refuses it. */
static int declare_fk(uvsql_mapper_t *holder, const uvsql_mapper_t *keyed, const char *fk,
                      unsigned flags, uvsql_error_t *err) {
  if (strchr(fk, ',') || keyed->npk != 1)
    return 0; /* composite: the program declares its constraint (Core's uvsql_table_foreign_key) */
  long i = uvsql__field_index(holder, fk);
  const char *col = uvsql_column_name(holder->cols[i]);
  for (size_t k = 0; k < uvsql_table_nfks(holder->table); k++) {
    uvsql_fk_info_t info;
    if (uvsql_table_fk_at(holder->table, k, &info) == 0)
      for (size_t c = 0; c < info.ncols; c++)
        if (strcmp(info.cols[c], col) == 0)
          return 0; /* declared already (e.g. use_alter): keep it */
  }
  char target[512];
  snprintf(target, sizeof target, "%s.%s", uvsql_table_name(keyed->table),
           uvsql_column_name(keyed->cols[keyed->pk[0]]));
  if (!uvsql_mapper_references(holder, fk, target,
                               (flags & UVSQL_REL_FK_ON_DELETE_CASCADE) ? UVSQL_FK_CASCADE
                                                                        : UVSQL_FK_NO_ACTION)) {
    uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                     RELATE "%s.%s: the foreign key %s -> %s could not be declared",
                     holder->model->type_name, fk, fk, target);
    return UVSQL_EINVALID_ARGUMENT;
  }
  return 0;
}

uvsql_relationship_t *uvsql_mapper_relate(uvsql_mapper_t *m, const char *field,
                                          uvsql_mapper_t *target, const char *fk,
                                          const char *back_populates, unsigned flags,
                                          uvsql_error_t *err) {
  char names[512];
  if (!m || !target || !field) {
    uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                     RELATE "a mapper, a relationship field and a target mapper are required");
    return NULL;
  }
  const char *self = m->model->type_name;
  const uvsql_rel_field_t *f = rel_field(m, field);
  if (!f) {
    if (!m->model->nrels)
      uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                       RELATE "%s has no relationship fields: declare it with UVSQL_MODEL_REL and "
                              "list %s in its RELS, as X(%s, ONE(%s)) or X(%s, MANY(%s))",
                       self, field, field, target->model->type_name, field,
                       target->model->type_name);
    else {
      rel_names(m, names, sizeof names);
      uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                       RELATE "%s has no relationship field \"%s\" (its RELS: %s)", self, field,
                       names);
    }
    return NULL;
  }
  if (strcmp(f->target_type, target->model->type_name) != 0) {
    uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                     RELATE "%s.%s holds %s objects (%s(%s)), but the target mapper maps %s: pass "
                            "the mapper of %s",
                     self, field, f->target_type, f->many ? "MANY" : "ONE", f->target_type,
                     target->model->type_name, f->target_type);
    return NULL;
  }
  if (!fk) {
    uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                     RELATE "%s.%s: a foreign key field is required (many-to-many: use "
                            "uvsql_mapper_relationship with uvsql_relationship_secondary)",
                     self, field);
    return NULL;
  }
  /* The kind, from the field's shape and the side holding fk. */
  uvsql_rel_kind_t kind;
  if (f->many) {
    if (!has_fields(target, fk))
      return fk_error(m, field, target, fk, "a collection (MANY) is a one-to-many", err);
    kind = UVSQL_ONE_TO_MANY;
  } else if (has_fields(m, fk)) {
    kind = UVSQL_MANY_TO_ONE;
  } else if (has_fields(target, fk)) {
    kind = UVSQL_ONE_TO_ONE;
  } else {
    char mine[512];
    field_names(m, mine, sizeof mine);
    field_names(target, names, sizeof names);
    uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                     RELATE "%s.%s: foreign key \"%s\" is a field of neither %s (a many-to-one; "
                            "its fields: %s) nor %s (a one-to-one; its fields: %s)",
                     self, field, fk, self, mine, target->model->type_name, names);
    return NULL;
  }
  /* The other side: a relationship field of the target holding m's model, of the shape that
   * faces this one (a collection faces a reference; a one-to-one faces a reference). */
  const uvsql_rel_field_t *b = NULL;
  uvsql_relationship_t *existing = NULL;
  if (back_populates) {
    const char *tname = target->model->type_name;
    b = rel_field(target, back_populates);
    if (!b) {
      rel_names(target, names, sizeof names);
      uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                       RELATE "%s.%s: back_populates \"%s\" is not a relationship field of %s "
                              "(its RELS: %s)",
                       self, field, back_populates, tname, target->model->nrels ? names : "none");
      return NULL;
    }
    if (strcmp(b->target_type, self) != 0) {
      uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                       RELATE "%s.%s: back_populates %s.%s holds %s objects, not %s: it cannot "
                              "be the other side of %s.%s",
                       self, field, tname, back_populates, b->target_type, self, self, field);
      return NULL;
    }
    if (b->many && kind != UVSQL_MANY_TO_ONE) {
      uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                       RELATE "%s.%s is %s, so its other side is a reference, ONE(%s); "
                              "back_populates %s.%s is a collection, MANY(%s)",
                       self, field,
                       kind == UVSQL_ONE_TO_MANY ? "a collection (one-to-many)"
                                                 : "a reference whose key is in the target "
                                                   "(one-to-one)",
                       self, tname, back_populates, self);
      return NULL;
    }
    existing = uvsql_mapper_get_relationship(target, back_populates);
    if (existing && (existing->target != m || existing->kind == UVSQL_MANY_TO_MANY)) {
      uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                       RELATE "%s.%s: back_populates %s.%s is already declared, and not as a link "
                              "to %s through a foreign key",
                       self, field, tname, back_populates, self);
      return NULL;
    }
  }
  /* Declarations: this side, the other (or the one already there), the pair, the key. */
  unsigned rel_flags = flags & ~UVSQL_REL_FK_ON_DELETE_CASCADE;
  uvsql_relationship_t *r =
      uvsql_mapper_relationship(m, field, kind, target, f->offset, fk, rel_flags, err);
  if (!r)
    return NULL;
  if (b) {
    uvsql_relationship_t *other = existing;
    if (!other) {
      uvsql_rel_kind_t bkind = kind == UVSQL_MANY_TO_ONE
                                   ? (b->many ? UVSQL_ONE_TO_MANY : UVSQL_ONE_TO_ONE)
                                   : UVSQL_MANY_TO_ONE;
      other = uvsql_mapper_relationship(target, back_populates, bkind, m, b->offset, fk, 0, err);
      if (!other)
        return NULL;
    }
    if (!uvsql_relationship_back_populates(r, other)) {
      uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                       RELATE "%s.%s and %s.%s cannot be paired (back_populates)", self, field,
                       target->model->type_name, back_populates);
      return NULL;
    }
  }
  if (declare_fk(kind == UVSQL_MANY_TO_ONE ? m : target, kind == UVSQL_MANY_TO_ONE ? target : m, fk,
                 flags, err))
    return NULL;
  return r;
}
