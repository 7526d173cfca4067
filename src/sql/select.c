/* src/sql/select.c — statements: lifetime (references, arena, first error), FROM items
 * (aliases, subqueries, CTEs) and the SELECT / compound SELECT builders, including the ON
 * clause inferred from a foreign key.
 *
 * Invariants:
 *  1. A statement holds a reference on every statement it embeds (s->keep), so embedding
 *     never copies and the caller may drop its own reference at once. Cycles cannot form: a
 *     statement can only embed statements that exist before the call.
 *  2. s->err keeps the first error; builders on a failed or frozen statement do nothing.
 *  3. A join's ON is fixed when the join is added (inferred then if not given), so a later
 *     change to the metadata does not change a statement already built.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

uvsql_core_stmt_t *uvsql__stmt_new(uvsql__stmt_kind_t kind) {
  uvsql_core_stmt_t *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->refs = 1;
  s->kind = kind;
  uvsql__arena_init(&s->arena, 4096);
  uvsql__arena_init(&s->exp_arena, 1024);
  return s;
}

void uvsql_core_stmt_free(uvsql_core_stmt_t *s) {
  if (!s || --s->refs > 0)
    return;
  for (uint32_t i = 0; i < s->keep.n; i++)
    uvsql_core_stmt_free(s->keep.items[i]);
  for (int i = 0; i < UVSQL__NDIALECTS; i++)
    uvsql_stmt_free(s->compiled[i].text);
  uvsql_stmt_free(s->expanded.text);
  uvsql__arena_free(&s->exp_arena);
  uvsql__arena_free(&s->arena);
  free(s);
}

const uvsql_error_t *uvsql_core_stmt_error(const uvsql_core_stmt_t *s) {
  return s && s->err.code ? &s->err : NULL;
}

int uvsql__fail(uvsql_core_stmt_t *s, int code, const char *fmt, ...) {
  if (s->err.code)
    return s->err.code;
  va_list ap;
  va_start(ap, fmt);
  s->err.code = code;
  vsnprintf(s->err.message, sizeof s->err.message, fmt, ap);
  va_end(ap);
  return code;
}

int uvsql__building(uvsql_core_stmt_t *s, const char *fn) {
  if (s->err.code)
    return s->err.code;
  if (s->frozen)
    return uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                       "%s: the statement was already compiled and cannot change: build a new one",
                       fn);
  return 0;
}

int uvsql__stmt_keep(uvsql_core_stmt_t *s, uvsql_core_stmt_t *sub) {
  if (uvsql__vec_push(&s->arena, &s->keep, sub))
    return uvsql__fail(s, UVSQL_ENOMEM, "out of memory");
  sub->refs++;
  s->has_expanding |= sub->has_expanding; /* its IN lists expand with ours */
  return 0;
}

int uvsql__check_expr(uvsql_core_stmt_t *s, const uvsql_expr_t *e, const char *fn) {
  if (s->err.code)
    return s->err.code;
  if (!e)
    return uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                       "%s: an expression is NULL (out of memory, or a builder failed)", fn);
  if (e->kind == UVSQL__N_ERROR)
    return uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "%s", e->name);
  if (e->owner && e->owner != s)
    return uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                       "%s: the expression was built for another statement (pass the statement "
                       "that will use it to the builder)",
                       fn);
  return 0;
}

static int push(uvsql_core_stmt_t *s, uvsql__vec_t *v, void *p) {
  if (uvsql__vec_push(&s->arena, v, p))
    return uvsql__fail(s, UVSQL_ENOMEM, "out of memory");
  return 0;
}

const char *uvsql__stmt_kind_name(uvsql__stmt_kind_t kind) {
  static const char *const names[] = {"SELECT", "compound SELECT", "INSERT",
                                      "UPDATE", "DELETE",          "DDL"};
  return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "unknown";
}

static int kind_is(uvsql_core_stmt_t *s, int select_ok, int compound_ok, int dml_ok,
                   const char *fn) {
  if (!s)
    return UVSQL_EINVALID_ARGUMENT;
  if (uvsql__building(s, fn))
    return s->err.code;
  int ok = (select_ok && s->kind == UVSQL__S_SELECT) ||
           (compound_ok && s->kind == UVSQL__S_COMPOUND) ||
           (dml_ok && (s->kind == UVSQL__S_UPDATE || s->kind == UVSQL__S_DELETE));
  if (!ok)
    return uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "%s: not for a%s %s statement", fn,
                       s->kind == UVSQL__S_INSERT || s->kind == UVSQL__S_UPDATE ? "n" : "",
                       uvsql__stmt_kind_name(s->kind));
  return 0;
}

uvsql_core_stmt_t *uvsql__first_select(uvsql_core_stmt_t *s) {
  while (s && s->kind == UVSQL__S_COMPOUND)
    s = s->left;
  return s;
}

int uvsql__select_names(uvsql_core_stmt_t *s, const char ***names, size_t *n) {
  uvsql_core_stmt_t *sel = uvsql__first_select(s);
  const char **out = uvsql__arena_alloc(&s->arena, (sel->columns.n + 1) * sizeof *out);
  if (!out)
    return UVSQL_ENOMEM;
  for (uint32_t i = 0; i < sel->columns.n; i++) {
    const uvsql_expr_t *e = sel->columns.items[i];
    out[i] = e->kind == UVSQL__N_LABEL || e->kind == UVSQL__N_FROMCOL || e->kind == UVSQL__N_NAME
                 ? e->name
             : e->kind == UVSQL__N_COLUMN ? e->u.ref.col->name
                                          : NULL;
  }
  *names = out;
  *n = sel->columns.n;
  return 0;
}

/* ------------------------------------------------------------------ FROM items */

static uvsql_from_t *from_new(uvsql_core_stmt_t *s, uvsql__from_kind_t kind, const char *name,
                              const char *fn) {
  if (!s || uvsql__building(s, fn))
    return NULL;
  if (!name || !*name) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "%s: a name is required", fn);
    return NULL;
  }
  uvsql_from_t *f = uvsql__arena_alloc(&s->arena, sizeof *f);
  if (!f ||
      !(memset(f, 0, sizeof *f), f->name = uvsql__arena_strndup(&s->arena, name, strlen(name)))) {
    uvsql__fail(s, UVSQL_ENOMEM, "out of memory");
    return NULL;
  }
  f->kind = kind;
  f->owner = s;
  f->plain = uvsql__ident_plain(f->name);
  return f;
}

uvsql_from_t *uvsql_alias(uvsql_core_stmt_t *s, uvsql_table_t *t, const char *name) {
  if (s && !t) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "uvsql_alias: table is NULL");
    return NULL;
  }
  uvsql_from_t *f = from_new(s, UVSQL__F_ALIAS, name, "uvsql_alias");
  if (!f)
    return NULL;
  f->table = t;
  f->ncols = t->columns.n;
  f->cols = uvsql__arena_alloc(&s->arena, (f->ncols + 1) * sizeof *f->cols);
  if (!f->cols) {
    uvsql__fail(s, UVSQL_ENOMEM, "out of memory");
    return NULL;
  }
  for (size_t i = 0; i < f->ncols; i++) {
    uvsql_expr_t *e = &f->cols[i];
    memset(e, 0, sizeof *e);
    e->kind = UVSQL__N_COLUMN;
    e->u.ref.col = t->columns.items[i];
    e->u.ref.from = f;
  }
  return f;
}

static uvsql_from_t *from_select(uvsql_core_stmt_t *s, uvsql__from_kind_t kind,
                                 uvsql_core_stmt_t *sub, const char *name, const char *fn) {
  if (s && (!sub || (sub->kind != UVSQL__S_SELECT && sub->kind != UVSQL__S_COMPOUND))) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "%s: a SELECT statement is required", fn);
    return NULL;
  }
  uvsql_from_t *f = from_new(s, kind, name, fn);
  if (!f || uvsql__stmt_keep(s, sub))
    return NULL;
  f->sub = sub;
  const char **names;
  if (uvsql__select_names(sub, &names, &f->ncols) ||
      !(f->cols = uvsql__arena_alloc(&s->arena, (f->ncols + 1) * sizeof *f->cols))) {
    uvsql__fail(s, UVSQL_ENOMEM, "out of memory");
    return NULL;
  }
  for (size_t i = 0; i < f->ncols; i++) {
    uvsql_expr_t *e = &f->cols[i];
    memset(e, 0, sizeof *e);
    e->kind = UVSQL__N_FROMCOL;
    e->name = names[i];
    e->u.ref.from = f;
  }
  return f;
}

uvsql_from_t *uvsql_subquery(uvsql_core_stmt_t *s, uvsql_core_stmt_t *sub, const char *name) {
  return from_select(s, UVSQL__F_SUBQUERY, sub, name, "uvsql_subquery");
}

uvsql_from_t *uvsql_cte(uvsql_core_stmt_t *s, uvsql_core_stmt_t *sub, const char *name, int flags) {
  uvsql_from_t *f = from_select(s, UVSQL__F_CTE, sub, name, "uvsql_cte");
  if (!f || push(s, &s->ctes, f))
    return NULL;
  f->recursive = (flags & UVSQL_CTE_RECURSIVE) != 0;
  return f;
}

uvsql_from_t *uvsql_cte_union(uvsql_from_t *cte, uvsql_core_stmt_t *rec, int all) {
  if (!cte)
    return NULL;
  uvsql_core_stmt_t *s = cte->owner;
  if (!s || uvsql__building(s, "uvsql_cte_union"))
    return NULL;
  if (cte->kind != UVSQL__F_CTE || cte->rec || !rec ||
      (rec->kind != UVSQL__S_SELECT && rec->kind != UVSQL__S_COMPOUND)) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                "uvsql_cte_union: needs a CTE without a recursive part and a SELECT");
    return NULL;
  }
  if (uvsql__stmt_keep(s, rec))
    return NULL;
  cte->rec = rec;
  cte->rec_all = all;
  return cte;
}

uvsql_expr_t *uvsql_from_col(uvsql_from_t *f, const char *name) {
  if (!f || !name)
    return NULL;
  if (f->kind == UVSQL__F_TABLE || f->kind == UVSQL__F_ALIAS) {
    uvsql_column_t *c = uvsql_table_column(f->table, name);
    if (c)
      return f->kind == UVSQL__F_TABLE ? &c->ref : &f->cols[c->index];
  } else {
    for (size_t i = 0; i < f->ncols; i++)
      if (f->cols[i].name && strcmp(f->cols[i].name, name) == 0)
        return &f->cols[i];
  }
  uvsql__arena_t *a = f->kind == UVSQL__F_TABLE ? &f->table->md->arena : &f->owner->arena;
  return uvsql__error_node(a, "%s %s has no column %s",
                           f->kind == UVSQL__F_TABLE ? "table" : "FROM item", f->name, name);
}

/* ------------------------------------------------------------------ SELECT */

uvsql_core_stmt_t *uvsql_select_new(void) {
  return uvsql__stmt_new(UVSQL__S_SELECT);
}

static int push_exprs(uvsql_core_stmt_t *s, uvsql__vec_t *v, uvsql_expr_t *const *e, size_t n,
                      const char *fn) {
  if (n && !e)
    return uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "%s: NULL list", fn);
  for (size_t i = 0; i < n; i++)
    if (uvsql__check_expr(s, e[i], fn) || push(s, v, e[i]))
      return s->err.code;
  return 0;
}

uvsql_core_stmt_t *uvsql_select_columns(uvsql_core_stmt_t *s, uvsql_expr_t *const *e, size_t n) {
  if (!kind_is(s, 1, 0, 0, "uvsql_select_columns"))
    push_exprs(s, &s->columns, e, n, "uvsql_select_columns");
  return s;
}

static int from_usable(uvsql_core_stmt_t *s, uvsql_from_t *f, const char *fn) {
  if (!f)
    return uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "%s: FROM item is NULL", fn);
  if (f->owner && f->owner != s && f->kind != UVSQL__F_CTE)
    return uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                       "%s: alias or subquery %s was made for another statement", fn, f->name);
  return 0;
}

uvsql_core_stmt_t *uvsql_select_from_item(uvsql_core_stmt_t *s, uvsql_from_t *from) {
  if (kind_is(s, 1, 0, 0, "uvsql_select_from") || from_usable(s, from, "uvsql_select_from"))
    return s;
  uvsql__from_entry_t *fe = uvsql__arena_alloc(&s->arena, sizeof *fe);
  if (!fe) {
    uvsql__fail(s, UVSQL_ENOMEM, "out of memory");
    return s;
  }
  memset(fe, 0, sizeof *fe);
  fe->item = from;
  push(s, &s->froms, fe);
  return s;
}

/* The ON clause joining target to one of the FROM items in left[0..n), from the one foreign
 * key between their tables. */
static uvsql_expr_t *infer_on(uvsql_core_stmt_t *s, uvsql_from_t **left, size_t n,
                              uvsql_from_t *target) {
  if (!target->table)
    return uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                       "uvsql_select_join: %s is not a table: give an ON clause", target->name),
           NULL;
  uvsql_from_t *from = NULL, *to = NULL;
  const uvsql__fk_t *found = NULL;
  int count = 0;
  for (size_t i = 0; i < n; i++) {
    if (!left[i]->table)
      continue;
    uvsql_from_t *pair[2][2] = {{target, left[i]}, {left[i], target}};
    for (int d = 0; d < 2 && (d == 0 || left[i]->table != target->table); d++) {
      uvsql_table_t *t = pair[d][0]->table;
      for (uint32_t k = 0; k < t->fks.n; k++) {
        const uvsql__fk_t *fk = t->fks.items[k];
        if (strcmp(fk->reftable, pair[d][1]->table->name) == 0) {
          found = fk;
          from = pair[d][0];
          to = pair[d][1];
          count++;
        }
      }
    }
  }
  if (count != 1) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                "uvsql_select_join: %s foreign keys link %s to the tables before it: give an ON "
                "clause",
                count ? "several" : "no", target->name);
    return NULL;
  }
  uvsql_expr_t *conds[16];
  if (found->ncols > 16) {
    uvsql__fail(s, UVSQL_ENOT_SUPPORTED,
                "uvsql_select_join: the foreign key to %s has %zu columns, too many to infer an ON "
                "clause from (16 at most): give the ON clause",
                target->name, (size_t)found->ncols);
    return NULL;
  }
  for (size_t i = 0; i < found->ncols; i++) {
    const char *rc = found->refcols        ? found->refcols[i]
                     : i < to->table->pk.n ? ((uvsql_column_t *)to->table->pk.items[i])->name
                                           : "?";
    conds[i] = uvsql_eq(s, uvsql_from_col(from, found->cols[i]), uvsql_from_col(to, rc));
  }
  return uvsql_and_n(s, conds, found->ncols);
}

uvsql_core_stmt_t *uvsql_select_join_item(uvsql_core_stmt_t *s, uvsql_from_t *target,
                                          uvsql_expr_t *on, uvsql_join_t type) {
  if (kind_is(s, 1, 0, 0, "uvsql_select_join") || from_usable(s, target, "uvsql_select_join") ||
      (on && uvsql__check_expr(s, on, "uvsql_select_join")))
    return s;
  if (type != UVSQL_JOIN_INNER && type != UVSQL_JOIN_LEFT && type != UVSQL_JOIN_FULL) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "uvsql_select_join: unknown join type %d", (int)type);
    return s;
  }
  if (s->froms.n == 0) {
    /* Join from the table of the first selected column. */
    uvsql_from_t *left = NULL;
    for (uint32_t i = 0; i < s->columns.n && !left; i++) {
      const uvsql_expr_t *e = s->columns.items[i];
      while (e->kind == UVSQL__N_LABEL)
        e = e->a;
      if (e->kind == UVSQL__N_COLUMN || e->kind == UVSQL__N_FROMCOL)
        left = e->u.ref.from;
    }
    if (!left) {
      uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                  "uvsql_select_join: nothing to join %s to: call uvsql_select_from first",
                  target->name);
      return s;
    }
    uvsql_select_from_item(s, left);
    if (s->err.code)
      return s;
  }
  uvsql__from_entry_t *fe = s->froms.items[s->froms.n - 1];
  if (!on) {
    uvsql_from_t *left[64];
    size_t n = 0;
    left[n++] = fe->item;
    for (uint32_t i = 0; i < fe->joins.n && n < 64; i++)
      left[n++] = ((uvsql__join_t *)fe->joins.items[i])->target;
    if (!(on = infer_on(s, left, n, target)))
      return s;
  }
  uvsql__join_t *j = uvsql__arena_alloc(&s->arena, sizeof *j);
  if (!j) {
    uvsql__fail(s, UVSQL_ENOMEM, "out of memory");
    return s;
  }
  j->target = target;
  j->on = on;
  j->type = type;
  if (uvsql__vec_push(&s->arena, &fe->joins, j))
    uvsql__fail(s, UVSQL_ENOMEM, "out of memory");
  return s;
}

uvsql_core_stmt_t *uvsql_where(uvsql_core_stmt_t *s, uvsql_expr_t *cond) {
  if (kind_is(s, 1, 0, 1, "uvsql_where") || uvsql__check_expr(s, cond, "uvsql_where"))
    return s;
  s->where = s->where ? uvsql_and(s, s->where, cond) : cond;
  return s;
}

uvsql_core_stmt_t *uvsql_select_group_by_n(uvsql_core_stmt_t *s, uvsql_expr_t *const *e, size_t n) {
  if (!kind_is(s, 1, 0, 0, "uvsql_select_group_by"))
    push_exprs(s, &s->group, e, n, "uvsql_select_group_by");
  return s;
}

uvsql_core_stmt_t *uvsql_select_having(uvsql_core_stmt_t *s, uvsql_expr_t *cond) {
  if (kind_is(s, 1, 0, 0, "uvsql_select_having") ||
      uvsql__check_expr(s, cond, "uvsql_select_having"))
    return s;
  s->having = s->having ? uvsql_and(s, s->having, cond) : cond;
  return s;
}

uvsql_core_stmt_t *uvsql_select_order_by_n(uvsql_core_stmt_t *s, uvsql_expr_t *const *e, size_t n) {
  if (!kind_is(s, 1, 1, 0, "uvsql_select_order_by"))
    push_exprs(s, &s->order, e, n, "uvsql_select_order_by");
  return s;
}

uvsql_core_stmt_t *uvsql_select_limit(uvsql_core_stmt_t *s, int64_t n) {
  if (!kind_is(s, 1, 1, 0, "uvsql_select_limit"))
    s->limit = uvsql_lit_int64(s, n);
  return s;
}

uvsql_core_stmt_t *uvsql_select_offset(uvsql_core_stmt_t *s, int64_t n) {
  if (!kind_is(s, 1, 1, 0, "uvsql_select_offset"))
    s->offset = uvsql_lit_int64(s, n);
  return s;
}

uvsql_core_stmt_t *uvsql_select_distinct(uvsql_core_stmt_t *s) {
  if (!kind_is(s, 1, 0, 0, "uvsql_select_distinct"))
    s->distinct = 1;
  return s;
}

uvsql_core_stmt_t *uvsql_compound(uvsql_setop_t op, uvsql_core_stmt_t *a, uvsql_core_stmt_t *b) {
  uvsql_core_stmt_t *s = uvsql__stmt_new(UVSQL__S_COMPOUND);
  if (!s)
    return NULL;
  s->setop = op;
  if ((unsigned)op > UVSQL_EXCEPT) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "uvsql_compound: unknown set operation %d", (int)op);
    return s;
  }
  uvsql_core_stmt_t *parts[2] = {a, b};
  for (int i = 0; i < 2; i++) {
    if (!parts[i] || (parts[i]->kind != UVSQL__S_SELECT && parts[i]->kind != UVSQL__S_COMPOUND)) {
      uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "uvsql_compound: both parts must be SELECTs");
      return s;
    }
    if (uvsql__stmt_keep(s, parts[i]))
      return s;
  }
  s->left = a;
  s->right = b;
  return s;
}
