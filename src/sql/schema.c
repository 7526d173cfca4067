/* src/sql/schema.c — metadata: tables, columns, keys, constraints and indexes, all in the
 * metadata's arena (freed together by uvsql_metadata_free). Also the small list helpers the
 * rest of src/sql/ shares.
 *
 * Invariants:
 *  1. Table names are unique in a metadata; column names are unique in a table.
 *  2. t->pk lists the primary key columns in key order; a column is in it iff its flags have
 *     UVSQL_PRIMARY_KEY (and then UVSQL_NOT_NULL).
 *  3. Constraints name columns by name; the DDL compiler checks them (a column may be
 *     declared after the constraint that names it). Foreign keys name their target table,
 *     which may be declared later.
 *  4. After the first error a metadata's builders still work; the error stays the first one.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

int uvsql__vec_push(uvsql__arena_t *a, uvsql__vec_t *v, void *p) {
  if (v->n == v->cap) {
    uint32_t cap = v->cap ? v->cap * 2 : 4;
    void **items = uvsql__arena_alloc(a, cap * sizeof *items);
    if (!items)
      return UVSQL_ENOMEM;
    if (v->n)
      memcpy(items, v->items, v->n * sizeof *items);
    v->items = items;
    v->cap = cap;
  }
  v->items[v->n++] = p;
  return 0;
}

const char **uvsql__names_dup(uvsql__arena_t *a, const char *const *names, size_t *n) {
  size_t k = 0;
  while (names && names[k])
    k++;
  const char **out = uvsql__arena_alloc(a, (k + 1) * sizeof *out);
  if (!out)
    return NULL;
  for (size_t i = 0; i < k; i++)
    if (!(out[i] = uvsql__arena_strndup(a, names[i], strlen(names[i]))))
      return NULL;
  out[k] = NULL;
  *n = k;
  return out;
}

int uvsql__valid_param_name(const char *name) {
  if (!name || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
    return 0;
  for (const char *p = name; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '_')
      return 0;
  return 1;
}

static char *md_strdup(uvsql_metadata_t *md, const char *s) {
  return uvsql__arena_strndup(&md->arena, s, strlen(s));
}

int uvsql__md_fail(uvsql_metadata_t *md, int code, const char *fmt, ...) {
  if (md->err.code)
    return code;
  va_list ap;
  va_start(ap, fmt);
  md->err.code = code;
  vsnprintf(md->err.message, sizeof md->err.message, fmt, ap);
  va_end(ap);
  return code;
}

uvsql_metadata_t *uvsql_metadata_new(void) {
  uvsql_metadata_t *md = calloc(1, sizeof *md);
  if (md)
    uvsql__arena_init(&md->arena, 8192);
  return md;
}

void uvsql_metadata_free(uvsql_metadata_t *md) {
  if (!md)
    return;
  uvsql__arena_free(&md->arena);
  free(md);
}

const uvsql_error_t *uvsql_metadata_error(const uvsql_metadata_t *md) {
  return md && md->err.code ? &md->err : NULL;
}

size_t uvsql_metadata_ntables(const uvsql_metadata_t *md) {
  return md ? md->tables.n : 0;
}

uvsql_table_t *uvsql_metadata_table_at(const uvsql_metadata_t *md, size_t i) {
  return md && i < md->tables.n ? md->tables.items[i] : NULL;
}

uvsql_table_t *uvsql_metadata_table(const uvsql_metadata_t *md, const char *name) {
  if (!md || !name)
    return NULL;
  for (uint32_t i = 0; i < md->tables.n; i++) {
    uvsql_table_t *t = md->tables.items[i];
    if (strcmp(t->name, name) == 0)
      return t;
  }
  return NULL;
}

uvsql_table_t *uvsql_table(uvsql_metadata_t *md, const char *name) {
  if (!md)
    return NULL;
  if (!name || !*name) {
    uvsql__md_fail(md, UVSQL_EINVALID_ARGUMENT, "uvsql_table: a table needs a name");
    return NULL;
  }
  if (uvsql_metadata_table(md, name)) {
    uvsql__md_fail(md, UVSQL_EINVALID_ARGUMENT,
                   "uvsql_table: table \"%s\" is already declared in this metadata", name);
    return NULL;
  }
  uvsql_table_t *t = uvsql__arena_alloc(&md->arena, sizeof *t);
  if (!t || !(memset(t, 0, sizeof *t), t->name = md_strdup(md, name)) ||
      uvsql__vec_push(&md->arena, &md->tables, t)) {
    uvsql__md_fail(md, UVSQL_ENOMEM, "out of memory declaring table \"%s\"", name);
    return NULL;
  }
  t->md = md;
  t->from.kind = UVSQL__F_TABLE;
  t->from.table = t;
  t->from.name = t->name;
  t->from.plain = uvsql__ident_plain(t->name);
  return t;
}

static int add_constraint(uvsql_table_t *t, uvsql__vec_t *v, const char *name,
                          const char *const *cols, int unique, const char *check) {
  uvsql_metadata_t *md = t->md;
  uvsql__constraint_t *k = uvsql__arena_alloc(&md->arena, sizeof *k);
  if (!k)
    return UVSQL_ENOMEM;
  memset(k, 0, sizeof *k);
  k->unique = unique;
  if ((name && !(k->name = md_strdup(md, name))) || (check && !(k->check = md_strdup(md, check))))
    return UVSQL_ENOMEM;
  if (cols && !(k->cols = uvsql__names_dup(&md->arena, cols, &k->ncols)))
    return UVSQL_ENOMEM;
  return uvsql__vec_push(&md->arena, v, k);
}

uvsql_column_t *uvsql_column(uvsql_table_t *t, const char *name, uvsql_sqltype_t type,
                             unsigned flags) {
  if (!t)
    return NULL;
  uvsql_metadata_t *md = t->md;
  if (!name || !*name) {
    uvsql__md_fail(md, UVSQL_EINVALID_ARGUMENT, "uvsql_column: a column of %s needs a name",
                   t->name);
    return NULL;
  }
  if (type.kind < UVSQL_SQLT_INTEGER || type.kind > UVSQL_SQLT_ARRAY) {
    uvsql__md_fail(md, UVSQL_EINVALID_ARGUMENT, "uvsql_column: %s.%s has an unknown type %d",
                   t->name, name, (int)type.kind);
    return NULL;
  }
  if (type.kind == UVSQL_SQLT_ENUM &&
      (!type.enum_type || !type.enum_type->name || !*type.enum_type->name ||
       !type.enum_type->labels || type.enum_type->nlabels == 0)) {
    uvsql__md_fail(md, UVSQL_EINVALID_ARGUMENT,
                   "uvsql_column: %s.%s: an ENUM needs a uvsql_enum_type_t with a name and at "
                   "least one label (UVSQL_SQL_ENUM(&type))",
                   t->name, name);
    return NULL;
  }
  if (type.kind == UVSQL_SQLT_ARRAY &&
      (type.element < UVSQL_SQLT_INTEGER || type.element > UVSQL_SQLT_INTERVAL ||
       type.element == UVSQL_SQLT_ENUM)) {
    uvsql__md_fail(md, UVSQL_EINVALID_ARGUMENT,
                   "uvsql_column: %s.%s: an ARRAY's elements must be of a scalar type "
                   "(UVSQL_SQL_ARRAY(BIGINT), ...), not %s",
                   t->name, name, uvsql_sqltype_name((uvsql_sqltype_kind_t)type.element));
    return NULL;
  }
  if (uvsql_table_column(t, name)) {
    uvsql__md_fail(md, UVSQL_EINVALID_ARGUMENT, "uvsql_column: table %s already has a column %s",
                   t->name, name);
    return NULL;
  }
  uvsql_column_t *c = uvsql__arena_alloc(&md->arena, sizeof *c);
  if (!c)
    goto oom;
  memset(c, 0, sizeof *c);
  if (!(c->name = md_strdup(md, name)))
    goto oom;
  c->table = t;
  c->plain = uvsql__ident_plain(c->name);
  c->type = type;
  c->flags = flags;
  if (flags & UVSQL_PRIMARY_KEY)
    c->flags |= UVSQL_NOT_NULL;
  c->index = t->columns.n;
  c->ref.kind = UVSQL__N_COLUMN;
  c->ref.u.ref.col = c;
  c->ref.u.ref.from = &t->from;
  if (uvsql__vec_push(&md->arena, &t->columns, c))
    goto oom;
  if ((flags & UVSQL_PRIMARY_KEY) && uvsql__vec_push(&md->arena, &t->pk, c))
    goto oom;
  const char *one_name[2] = {c->name, NULL};
  if ((flags & UVSQL_UNIQUE) && add_constraint(t, &t->uniques, NULL, one_name, 1, NULL))
    goto oom;
  if (flags & UVSQL_INDEX) {
    char ix[300];
    snprintf(ix, sizeof ix, "ix_%s_%s", t->name, c->name);
    if (add_constraint(t, &t->indexes, ix, one_name, 0, NULL))
      goto oom;
  }
  return c;
oom:
  uvsql__md_fail(md, UVSQL_ENOMEM, "out of memory declaring column %s.%s", t->name, name);
  return NULL;
}

static int add_fk(uvsql_table_t *t, const char *name, const char *const *cols, const char *reftable,
                  const char *const *refcols, uvsql_fk_action_t on_delete,
                  uvsql_fk_action_t on_update) {
  uvsql_metadata_t *md = t->md;
  uvsql__fk_t *fk = uvsql__arena_alloc(&md->arena, sizeof *fk);
  if (!fk)
    return UVSQL_ENOMEM;
  memset(fk, 0, sizeof *fk);
  size_t nref = 0;
  if ((name && !(fk->name = md_strdup(md, name))) ||
      !(fk->cols = uvsql__names_dup(&md->arena, cols, &fk->ncols)) ||
      !(fk->reftable = md_strdup(md, reftable)) ||
      (refcols && !(fk->refcols = uvsql__names_dup(&md->arena, refcols, &nref))))
    return UVSQL_ENOMEM;
  if (!fk->ncols || (refcols && nref != fk->ncols))
    return uvsql__md_fail(md, UVSQL_EINVALID_ARGUMENT,
                          "foreign key of %s: %zu columns reference %zu columns (name "
                          "one referenced column per column, or none for the primary key)",
                          t->name, fk->ncols, nref);
  fk->on_delete = on_delete;
  fk->on_update = on_update;
  return uvsql__vec_push(&md->arena, &t->fks, fk);
}

uvsql_column_t *uvsql_column_references(uvsql_column_t *c, const char *target,
                                        uvsql_fk_action_t on_delete, uvsql_fk_action_t on_update) {
  if (!c)
    return NULL;
  uvsql_metadata_t *md = c->table->md;
  const char *dot = target ? strrchr(target, '.') : NULL;
  if (!dot || dot == target || !dot[1]) {
    uvsql__md_fail(md, UVSQL_EINVALID_ARGUMENT,
                   "uvsql_column_references: %s.%s: target must be \"table.column\", not \"%s\"",
                   c->table->name, c->name, target ? target : "(null)");
    return NULL;
  }
  char tbl[256];
  snprintf(tbl, sizeof tbl, "%.*s", (int)(dot - target), target);
  const char *cols[2] = {c->name, NULL}, *refcols[2] = {dot + 1, NULL};
  int rc = add_fk(c->table, NULL, cols, tbl, refcols, on_delete, on_update);
  if (rc) {
    uvsql__md_fail(md, rc, "out of memory declaring a foreign key of %s", c->table->name);
    return NULL;
  }
  return c;
}

uvsql_column_t *uvsql_column_references_use_alter(uvsql_column_t *c, const char *target,
                                                  uvsql_fk_action_t on_delete,
                                                  uvsql_fk_action_t on_update) {
  if (!uvsql_column_references(c, target, on_delete, on_update))
    return NULL;
  uvsql__fk_t *fk = c->table->fks.items[c->table->fks.n - 1];
  fk->use_alter = 1;
  return c;
}

uvsql_column_t *uvsql_column_server_default(uvsql_column_t *c, const char *sql) {
  if (!c || !sql)
    return c;
  if (!(c->server_default = md_strdup(c->table->md, sql))) {
    uvsql__md_fail(c->table->md, UVSQL_ENOMEM, "out of memory");
    return NULL;
  }
  return c;
}

uvsql_column_t *uvsql_column_default(uvsql_column_t *c, uvsql_value_t v) {
  if (!c)
    return NULL;
  if (uvsql__value_is_str(&v)) {
    char *p = uvsql__arena_strndup(&c->table->md->arena, v.u.s.ptr ? v.u.s.ptr : "", v.u.s.len);
    if (!p) {
      uvsql__md_fail(c->table->md, UVSQL_ENOMEM, "out of memory");
      return NULL;
    }
    v.u.s.ptr = p;
  }
  c->client_default = v;
  c->has_default = 1;
  return c;
}

uvsql_table_t *uvsql_primary_key(uvsql_table_t *t, const char *const *cols) {
  if (!t)
    return NULL;
  for (uint32_t i = 0; i < t->pk.n; i++)
    ((uvsql_column_t *)t->pk.items[i])->flags &= ~UVSQL_PRIMARY_KEY;
  t->pk.n = 0;
  for (size_t i = 0; cols && cols[i]; i++) {
    uvsql_column_t *c = uvsql_table_column(t, cols[i]);
    if (!c) {
      uvsql__md_fail(t->md, UVSQL_EINVALID_ARGUMENT,
                     "uvsql_primary_key: table %s has no column %s (declare columns first)",
                     t->name, cols[i]);
      return NULL;
    }
    c->flags |= UVSQL_PRIMARY_KEY | UVSQL_NOT_NULL;
    if (uvsql__vec_push(&t->md->arena, &t->pk, c)) {
      uvsql__md_fail(t->md, UVSQL_ENOMEM, "out of memory");
      return NULL;
    }
  }
  return t;
}

uvsql_table_t *uvsql_foreign_key(uvsql_table_t *t, const char *name, const char *const *cols,
                                 const char *reftable, const char *const *refcols,
                                 uvsql_fk_action_t on_delete, uvsql_fk_action_t on_update) {
  if (!t)
    return NULL;
  if (!cols || !cols[0] || !reftable) {
    uvsql__md_fail(t->md, UVSQL_EINVALID_ARGUMENT,
                   "uvsql_foreign_key: %s: columns and a referenced table are required", t->name);
    return NULL;
  }
  int rc = add_fk(t, name, cols, reftable, refcols, on_delete, on_update);
  if (rc) {
    uvsql__md_fail(t->md, rc, "out of memory declaring a foreign key of %s", t->name);
    return NULL;
  }
  return t;
}

static uvsql_table_t *constraint(uvsql_table_t *t, uvsql__vec_t *v, const char *fn,
                                 const char *name, const char *const *cols, int unique,
                                 const char *check) {
  if (!t)
    return NULL;
  if ((!check && (!cols || !cols[0])) || (v == &t->indexes && !name)) {
    uvsql__md_fail(t->md, UVSQL_EINVALID_ARGUMENT, "%s: %s: %s", fn, t->name,
                   v == &t->indexes ? "an index needs a name and columns" : "columns required");
    return NULL;
  }
  if (add_constraint(t, v, name, cols, unique, check)) {
    uvsql__md_fail(t->md, UVSQL_ENOMEM, "out of memory");
    return NULL;
  }
  return t;
}

uvsql_table_t *uvsql_unique(uvsql_table_t *t, const char *name, const char *const *cols) {
  return constraint(t, t ? &t->uniques : NULL, "uvsql_unique", name, cols, 1, NULL);
}

uvsql_table_t *uvsql_check(uvsql_table_t *t, const char *name, const char *sql) {
  if (t && !sql) {
    uvsql__md_fail(t->md, UVSQL_EINVALID_ARGUMENT, "uvsql_check: %s: SQL required", t->name);
    return NULL;
  }
  return constraint(t, t ? &t->checks : NULL, "uvsql_check", name, NULL, 0, sql);
}

uvsql_table_t *uvsql_index(uvsql_table_t *t, const char *name, const char *const *cols,
                           int unique) {
  return constraint(t, t ? &t->indexes : NULL, "uvsql_index", name, cols, unique, NULL);
}

int uvsql__column_autoinc(const uvsql_column_t *c) {
  const uvsql_table_t *t = c->table;
  if (!(c->flags & UVSQL_PRIMARY_KEY) || (c->flags & UVSQL_NO_AUTOINCREMENT) || t->pk.n != 1)
    return 0;
  if (c->type.kind != UVSQL_SQLT_INTEGER && c->type.kind != UVSQL_SQLT_BIGINT &&
      c->type.kind != UVSQL_SQLT_SMALLINT)
    return 0;
  if (c->server_default || c->has_default)
    return 0;
  for (uint32_t i = 0; i < t->fks.n; i++) {
    const uvsql__fk_t *fk = t->fks.items[i];
    for (size_t k = 0; k < fk->ncols; k++)
      if (strcmp(fk->cols[k], c->name) == 0)
        return 0;
  }
  return 1;
}

/* ------------------------------------------------------------------ reading */

const char *uvsql_table_name(const uvsql_table_t *t) {
  return t->name;
}
size_t uvsql_table_ncolumns(const uvsql_table_t *t) {
  return t->columns.n;
}
uvsql_column_t *uvsql_table_column_at(const uvsql_table_t *t, size_t i) {
  return i < t->columns.n ? t->columns.items[i] : NULL;
}
uvsql_column_t *uvsql_table_column(const uvsql_table_t *t, const char *name) {
  for (uint32_t i = 0; i < t->columns.n; i++) {
    uvsql_column_t *c = t->columns.items[i];
    if (strcmp(c->name, name) == 0)
      return c;
  }
  return NULL;
}
const char *uvsql_column_name(const uvsql_column_t *c) {
  return c->name;
}
uvsql_sqltype_t uvsql_column_type(const uvsql_column_t *c) {
  return c->type;
}
unsigned uvsql_column_flags(const uvsql_column_t *c) {
  return c->flags;
}
int uvsql_column_autoincrement(const uvsql_column_t *c) {
  return uvsql__column_autoinc(c);
}
const char *uvsql_column_server_default_sql(const uvsql_column_t *c) {
  return c ? c->server_default : NULL;
}
int uvsql_column_client_default(const uvsql_column_t *c, uvsql_value_t *out) {
  if (!c || !c->has_default)
    return 0;
  if (out)
    *out = c->client_default;
  return 1;
}
size_t uvsql_table_npk(const uvsql_table_t *t) {
  return t->pk.n;
}
const char *uvsql_table_pk_at(const uvsql_table_t *t, size_t i) {
  return i < t->pk.n ? ((uvsql_column_t *)t->pk.items[i])->name : NULL;
}
size_t uvsql_table_nfks(const uvsql_table_t *t) {
  return t->fks.n;
}
int uvsql_table_fk_at(const uvsql_table_t *t, size_t i, uvsql_fk_info_t *out) {
  if (i >= t->fks.n)
    return UVSQL_EINVALID_ARGUMENT;
  const uvsql__fk_t *fk = t->fks.items[i];
  out->name = fk->name;
  out->cols = fk->cols;
  out->reftable = fk->reftable;
  out->refcols = fk->refcols;
  out->ncols = fk->ncols;
  out->on_delete = fk->on_delete;
  out->on_update = fk->on_update;
  out->use_alter = fk->use_alter;
  return 0;
}
size_t uvsql_table_nindexes(const uvsql_table_t *t) {
  return t->indexes.n;
}
int uvsql_table_index_at(const uvsql_table_t *t, size_t i, uvsql_index_info_t *out) {
  if (i >= t->indexes.n)
    return UVSQL_EINVALID_ARGUMENT;
  const uvsql__constraint_t *k = t->indexes.items[i];
  out->name = k->name;
  out->cols = k->cols;
  out->ncols = k->ncols;
  out->unique = k->unique;
  return 0;
}

const char *uvsql_sqltype_name(uvsql_sqltype_kind_t kind) {
  static const char *const names[] = {"?",      "integer", "smallint", "bigint",    "boolean",
                                      "float",  "double",  "numeric",  "string",    "text",
                                      "binary", "date",    "time",     "timestamp", "timestamptz",
                                      "uuid",   "json",    "enum",     "interval",  "array"};
  return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

uvsql_from_t *uvsql_table_from(uvsql_table_t *t) {
  return t ? &t->from : NULL;
}
