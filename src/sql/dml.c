/* src/sql/dml.c — INSERT (single row, multi-row, from SELECT, upsert), UPDATE, DELETE and
 * RETURNING builders.
 *
 * Invariants: every row of an INSERT has exactly as many values as its column list (checked
 * when the row is added); SET targets are columns of the statement's table; an upsert's DO
 * UPDATE names its conflict target (PostgreSQL and SQLite need it).
 */
#include <string.h>
#include "internal.h"

static uvsql_core_stmt_t *dml_new(uvsql__stmt_kind_t kind, uvsql_table_t *t, const char *fn) {
  uvsql_core_stmt_t *s = uvsql__stmt_new(kind);
  if (!s)
    return NULL;
  if (!t)
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "%s: table is NULL", fn);
  s->table = t;
  return s;
}

static int is(uvsql_core_stmt_t *s, uvsql__stmt_kind_t kind, const char *fn) {
  if (!s)
    return UVSQL_EINVALID_ARGUMENT;
  if (uvsql__building(s, fn))
    return s->err.code;
  if (s->kind != kind)
    return uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "%s: for %s statements, not a%s %s", fn,
                       uvsql__stmt_kind_name(kind),
                       s->kind == UVSQL__S_INSERT || s->kind == UVSQL__S_UPDATE ? "n" : "",
                       uvsql__stmt_kind_name(s->kind));
  return 0;
}

static uvsql_column_t *column(uvsql_core_stmt_t *s, const char *name, const char *fn) {
  uvsql_column_t *c = name ? uvsql_table_column(s->table, name) : NULL;
  if (!c)
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "%s: table %s has no column %s", fn, s->table->name,
                name ? name : "(null)");
  return c;
}

uvsql_core_stmt_t *uvsql_insert(uvsql_table_t *t) {
  return dml_new(UVSQL__S_INSERT, t, "uvsql_insert");
}

uvsql_core_stmt_t *uvsql_insert_columns(uvsql_core_stmt_t *s, const char *const *cols) {
  if (is(s, UVSQL__S_INSERT, "uvsql_insert_columns"))
    return s;
  if (s->icols.n || s->rows.n) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                "uvsql_insert_columns: columns are already set (call it once "
                "per statement)");
    return s;
  }
  for (size_t i = 0; cols && cols[i]; i++) {
    uvsql_column_t *c = column(s, cols[i], "uvsql_insert_columns");
    if (!c || uvsql__vec_push(&s->arena, &s->icols, c)) {
      uvsql__fail(s, UVSQL_ENOMEM, "out of memory");
      return s;
    }
  }
  if (!s->icols.n)
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "uvsql_insert_columns: no columns given");
  return s;
}

uvsql_core_stmt_t *uvsql_insert_row(uvsql_core_stmt_t *s, uvsql_expr_t *const *e, size_t n) {
  if (is(s, UVSQL__S_INSERT, "uvsql_insert_values"))
    return s;
  if (s->from_select) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                "uvsql_insert_values: the INSERT is from a SELECT: an INSERT "
                "takes values or a SELECT, not both");
    return s;
  }
  if (!s->icols.n || n != s->icols.n) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                "uvsql_insert_values: row %u has %zu values for %u columns (call "
                "uvsql_insert_columns first)",
                s->rows.n + 1, n, s->icols.n);
    return s;
  }
  uvsql_expr_t **row = uvsql__arena_alloc(&s->arena, n * sizeof *row);
  if (!row) {
    uvsql__fail(s, UVSQL_ENOMEM, "out of memory");
    return s;
  }
  for (size_t i = 0; i < n; i++) {
    if (uvsql__check_expr(s, e[i], "uvsql_insert_values"))
      return s;
    row[i] = e[i];
  }
  if (uvsql__vec_push(&s->arena, &s->rows, row))
    uvsql__fail(s, UVSQL_ENOMEM, "out of memory");
  return s;
}

uvsql_core_stmt_t *uvsql_insert_from_select(uvsql_core_stmt_t *s, uvsql_core_stmt_t *sub) {
  if (is(s, UVSQL__S_INSERT, "uvsql_insert_from_select"))
    return s;
  if (!sub || (sub->kind != UVSQL__S_SELECT && sub->kind != UVSQL__S_COMPOUND) || s->rows.n ||
      s->from_select) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                "uvsql_insert_from_select: needs a SELECT, and an insert without values");
    return s;
  }
  if (!uvsql__stmt_keep(s, sub))
    s->from_select = sub;
  return s;
}

static uvsql_core_stmt_t *conflict(uvsql_core_stmt_t *s, const char *const *target,
                                   uvsql__conflict_t kind, const char *fn) {
  if (is(s, UVSQL__S_INSERT, fn))
    return s;
  if (s->conflict) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                "%s: the INSERT already has an ON CONFLICT clause (one per "
                "statement)",
                fn);
    return s;
  }
  if (kind == UVSQL__CONFLICT_UPDATE && (!target || !target[0])) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "%s: name the conflict target columns", fn);
    return s;
  }
  for (size_t i = 0; target && target[i]; i++)
    if (!column(s, target[i], fn))
      return s;
  if (!(s->conflict_target = uvsql__names_dup(&s->arena, target, &s->nconflict_target))) {
    uvsql__fail(s, UVSQL_ENOMEM, "out of memory");
    return s;
  }
  s->conflict = kind;
  return s;
}

uvsql_core_stmt_t *uvsql_on_conflict_do_nothing(uvsql_core_stmt_t *s, const char *const *target) {
  return conflict(s, target, UVSQL__CONFLICT_NOTHING, "uvsql_on_conflict_do_nothing");
}

uvsql_core_stmt_t *uvsql_on_conflict_do_update(uvsql_core_stmt_t *s, const char *const *target) {
  return conflict(s, target, UVSQL__CONFLICT_UPDATE, "uvsql_on_conflict_do_update");
}

static uvsql_core_stmt_t *add_set(uvsql_core_stmt_t *s, uvsql__vec_t *v, const char *col,
                                  uvsql_expr_t *e, const char *fn) {
  uvsql_column_t *c = column(s, col, fn);
  if (!c || uvsql__check_expr(s, e, fn))
    return s;
  uvsql__set_t *set = uvsql__arena_alloc(&s->arena, sizeof *set);
  if (!set || uvsql__vec_push(&s->arena, v, set)) {
    uvsql__fail(s, UVSQL_ENOMEM, "out of memory");
    return s;
  }
  set->col = c;
  set->e = e;
  return s;
}

uvsql_core_stmt_t *uvsql_on_conflict_set(uvsql_core_stmt_t *s, const char *col, uvsql_expr_t *e) {
  if (is(s, UVSQL__S_INSERT, "uvsql_on_conflict_set"))
    return s;
  if (s->conflict != UVSQL__CONFLICT_UPDATE) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                "uvsql_on_conflict_set: call uvsql_on_conflict_do_update first");
    return s;
  }
  return add_set(s, &s->conflict_sets, col, e, "uvsql_on_conflict_set");
}

uvsql_core_stmt_t *uvsql_update(uvsql_table_t *t) {
  return dml_new(UVSQL__S_UPDATE, t, "uvsql_update");
}

uvsql_core_stmt_t *uvsql_update_set(uvsql_core_stmt_t *s, const char *col, uvsql_expr_t *e) {
  if (is(s, UVSQL__S_UPDATE, "uvsql_update_set"))
    return s;
  return add_set(s, &s->sets, col, e, "uvsql_update_set");
}

uvsql_core_stmt_t *uvsql_delete(uvsql_table_t *t) {
  return dml_new(UVSQL__S_DELETE, t, "uvsql_delete");
}

uvsql_core_stmt_t *uvsql_returning_n(uvsql_core_stmt_t *s, uvsql_expr_t *const *e, size_t n) {
  if (!s || uvsql__building(s, "uvsql_returning"))
    return s;
  if (s->kind != UVSQL__S_INSERT && s->kind != UVSQL__S_UPDATE && s->kind != UVSQL__S_DELETE) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "uvsql_returning: only for INSERT, UPDATE, DELETE");
    return s;
  }
  for (size_t i = 0; i < n; i++)
    if (uvsql__check_expr(s, e ? e[i] : NULL, "uvsql_returning") ||
        uvsql__vec_push(&s->arena, &s->returning, e[i])) {
      uvsql__fail(s, UVSQL_ENOMEM, "out of memory");
      return s;
    }
  return s;
}
