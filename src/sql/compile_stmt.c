/* src/sql/compile_stmt.c — writing statements: SELECT (WITH, FROM with joins and implicit
 * tables, WHERE, GROUP BY, HAVING, ORDER BY, LIMIT/OFFSET), compound SELECTs, INSERT
 * (rows, SELECT, defaults, upserts), UPDATE, DELETE and RETURNING.
 *
 * FROM: the explicit items (uvsql_select_from/join) come first; every other FROM item the
 * statement's own expressions refer to is added after them, unless an enclosing query already
 * has it (then the reference is correlated). Subqueries are not searched: they make their own
 * FROM. Each statement pushes its FROM items as a scope while its parts are written.
 */
#include <string.h>
#include "dialect.h"

#define MAX_FROMS 64

typedef struct {
  uvsql_from_t *items[MAX_FROMS];
  size_t n;
  int overflow;
} fromset_t;

static int has(const fromset_t *fs, const uvsql_from_t *f) {
  for (size_t i = 0; i < fs->n; i++)
    if (fs->items[i] == f)
      return 1;
  return 0;
}

static void add(fromset_t *fs, uvsql_from_t *f) {
  if (has(fs, f))
    return;
  if (fs->n == MAX_FROMS)
    fs->overflow = 1;
  else
    fs->items[fs->n++] = f;
}

static int in_scopes(const uvsql__compiler_t *c, const uvsql_from_t *f) {
  for (int s = 0; s < c->nscopes; s++)
    for (size_t i = 0; i < c->scopes[s].n; i++)
      if (c->scopes[s].items[i] == f)
        return 1;
  return 0;
}

/* Every FROM item e refers to, outside subqueries. */
static void collect(const uvsql_expr_t *e, fromset_t *fs) {
  if (!e)
    return;
  switch ((uvsql__node_kind_t)e->kind) {
  case UVSQL__N_COLUMN:
  case UVSQL__N_FROMCOL:
    add(fs, e->u.ref.from);
    return;
  case UVSQL__N_STAR:
    if (e->u.ref.from)
      add(fs, e->u.ref.from);
    return;
  default:
    break;
  }
  collect(e->a, fs);
  collect(e->b, fs);
  collect(e->c, fs);
  uint32_t n = e->kind == UVSQL__N_CASE ? e->n * 2 : e->n;
  for (uint32_t i = 0; e->list && i < n; i++)
    collect(e->list[i], fs);
  for (uint32_t i = 0; e->list2 && i < e->n2; i++)
    collect(e->list2[i], fs);
}

static void collect_vec(const uvsql__vec_t *v, fromset_t *fs) {
  for (uint32_t i = 0; i < v->n; i++)
    collect(v->items[i], fs);
}

static int push_scope(uvsql__compiler_t *c, uvsql_from_t **items, size_t n) {
  if (c->nscopes == (int)(sizeof c->scopes / sizeof c->scopes[0])) {
    uvsql__c_fail(c, UVSQL_ENOT_SUPPORTED, "subqueries nested too deeply (more than 16)");
    return -1;
  }
  c->scopes[c->nscopes].items = items;
  c->scopes[c->nscopes].n = n;
  c->nscopes++;
  return 0;
}

static void from_item(uvsql__compiler_t *c, const uvsql_from_t *f) {
  switch (f->kind) {
  case UVSQL__F_TABLE:
  case UVSQL__F_CTE:
    uvsql__c_ident_known(c, f->name, f->plain);
    return;
  case UVSQL__F_ALIAS:
    uvsql__c_ident_known(c, f->table->name, f->table->from.plain);
    uvsql__c_puts(c, " AS ");
    uvsql__c_ident_known(c, f->name, f->plain);
    return;
  case UVSQL__F_SUBQUERY:
    uvsql__c_putn(c, "(", 1);
    uvsql__c_stmt(c, f->sub);
    uvsql__c_puts(c, ") AS ");
    uvsql__c_ident(c, f->name);
    return;
  }
}

static void with_clause(uvsql__compiler_t *c, uvsql_core_stmt_t *s) {
  if (!s->ctes.n)
    return;
  int recursive = 0;
  for (uint32_t i = 0; i < s->ctes.n; i++)
    recursive |= ((uvsql_from_t *)s->ctes.items[i])->recursive;
  uvsql__c_puts(c, recursive ? "WITH RECURSIVE " : "WITH ");
  int saved = c->nscopes; /* a CTE body is not correlated with anything */
  c->nscopes = 0;
  for (uint32_t i = 0; i < s->ctes.n; i++) {
    const uvsql_from_t *f = s->ctes.items[i];
    if (i)
      uvsql__c_putn(c, ", ", 2);
    uvsql__c_ident(c, f->name);
    uvsql__c_puts(c, " AS (");
    uvsql__c_stmt(c, f->sub);
    if (f->rec) {
      uvsql__c_puts(c, f->rec_all ? " UNION ALL " : " UNION ");
      uvsql__c_stmt(c, f->rec);
    }
    uvsql__c_putn(c, ")", 1);
  }
  c->nscopes = saved;
  uvsql__c_putn(c, " ", 1);
}

static void limit_offset(uvsql__compiler_t *c, uvsql_core_stmt_t *s) {
  if (s->limit) {
    uvsql__c_puts(c, " LIMIT ");
    uvsql__c_expr(c, s->limit);
  } else if (s->offset && c->d->offset_only) {
    uvsql__c_puts(c, " LIMIT ");
    uvsql__c_puts(c, c->d->offset_only);
  }
  if (s->offset) {
    uvsql__c_puts(c, " OFFSET ");
    uvsql__c_expr(c, s->offset);
  }
}

static void select_list(uvsql__compiler_t *c, const uvsql__vec_t *v) {
  for (uint32_t i = 0; i < v->n; i++) {
    const uvsql_expr_t *e = v->items[i];
    if (i)
      uvsql__c_putn(c, ", ", 2);
    uvsql__c_expr(c, e);
    if (e->kind == UVSQL__N_LABEL) {
      uvsql__c_puts(c, " AS ");
      uvsql__c_ident(c, e->name);
    }
  }
}

static void group_list(uvsql__compiler_t *c, const uvsql__vec_t *v) {
  for (uint32_t i = 0; i < v->n; i++) {
    const uvsql_expr_t *e = v->items[i];
    if (i)
      uvsql__c_putn(c, ", ", 2);
    if (e->kind == UVSQL__N_LABEL)
      uvsql__c_ident(c, e->name);
    else
      uvsql__c_expr(c, e);
  }
}

void uvsql__c_select(uvsql__compiler_t *c, uvsql_core_stmt_t *s) {
  if (!s->columns.n) {
    uvsql__c_fail(c, UVSQL_EINVALID_ARGUMENT, "a SELECT needs columns (uvsql_select_cols)");
    return;
  }
  /* The FROM items: explicit ones, then the others referred to and not correlated. */
  fromset_t covered = {{0}, 0, 0}, refs = {{0}, 0, 0};
  for (uint32_t i = 0; i < s->froms.n; i++) {
    const uvsql__from_entry_t *fe = s->froms.items[i];
    add(&covered, fe->item);
    for (uint32_t j = 0; j < fe->joins.n; j++)
      add(&covered, ((uvsql__join_t *)fe->joins.items[j])->target);
  }
  collect_vec(&s->columns, &refs);
  collect(s->where, &refs);
  collect_vec(&s->group, &refs);
  collect(s->having, &refs);
  collect_vec(&s->order, &refs);
  fromset_t implicit = {{0}, 0, 0};
  for (size_t i = 0; i < refs.n; i++)
    if (!has(&covered, refs.items[i]) && !in_scopes(c, refs.items[i]))
      add(&implicit, refs.items[i]);
  fromset_t *all = &covered;
  for (size_t i = 0; i < implicit.n; i++)
    add(all, implicit.items[i]);
  if (all->overflow || refs.overflow) {
    uvsql__c_fail(c, UVSQL_ENOT_SUPPORTED,
                  "more than %d FROM items in one SELECT: join fewer tables, "
                  "or move some into a subquery",
                  MAX_FROMS);
    return;
  }
  if (push_scope(c, all->items, all->n))
    return;

  with_clause(c, s);
  uvsql__c_puts(c, s->distinct ? "SELECT DISTINCT " : "SELECT ");
  select_list(c, &s->columns);
  int first = 1;
  for (uint32_t i = 0; i < s->froms.n; i++) {
    const uvsql__from_entry_t *fe = s->froms.items[i];
    uvsql__c_puts(c, first ? " FROM " : ", ");
    first = 0;
    from_item(c, fe->item);
    for (uint32_t j = 0; j < fe->joins.n; j++) {
      const uvsql__join_t *jn = fe->joins.items[j];
      if (jn->type == UVSQL_JOIN_FULL && !(c->d->features & UVSQL__D_FULL_JOIN)) {
        uvsql__c_fail(c, UVSQL_ENOT_SUPPORTED,
                      "%s has no FULL OUTER JOIN: use a LEFT JOIN UNION a RIGHT-side anti-join",
                      c->d->name);
        break;
      }
      uvsql__c_puts(c, jn->type == UVSQL_JOIN_INNER  ? " JOIN "
                       : jn->type == UVSQL_JOIN_LEFT ? " LEFT OUTER JOIN "
                                                     : " FULL OUTER JOIN ");
      from_item(c, jn->target);
      uvsql__c_puts(c, " ON ");
      uvsql__c_expr(c, jn->on);
    }
  }
  for (size_t i = 0; i < implicit.n; i++) {
    uvsql__c_puts(c, first ? " FROM " : ", ");
    first = 0;
    from_item(c, implicit.items[i]);
  }
  if (s->where) {
    uvsql__c_puts(c, " WHERE ");
    uvsql__c_expr(c, s->where);
  }
  if (s->group.n) {
    uvsql__c_puts(c, " GROUP BY ");
    group_list(c, &s->group);
  }
  if (s->having) {
    uvsql__c_puts(c, " HAVING ");
    uvsql__c_expr(c, s->having);
  }
  if (s->order.n) {
    uvsql__c_puts(c, " ORDER BY ");
    uvsql__c_order_list(c, (uvsql_expr_t *const *)s->order.items, s->order.n);
  }
  limit_offset(c, s);
  c->nscopes--;
}

static void compound_part(uvsql__compiler_t *c, uvsql_core_stmt_t *parent, uvsql_core_stmt_t *part,
                          int right) {
  int paren = part->order.n || part->limit || part->offset || part->ctes.n;
  if (part->kind == UVSQL__S_COMPOUND)
    paren |= right || (parent->setop == UVSQL_INTERSECT && part->setop != UVSQL_INTERSECT &&
                       (c->d->features & UVSQL__D_PAREN_COMPOUND));
  if (paren && !(c->d->features & UVSQL__D_PAREN_COMPOUND)) {
    uvsql__c_fail(c, UVSQL_ENOT_SUPPORTED,
                  "%s cannot nest a compound SELECT or give one of its parts ORDER BY/LIMIT: "
                  "wrap the part in a subquery",
                  c->d->name);
    return;
  }
  if (paren)
    uvsql__c_putn(c, "(", 1);
  uvsql__c_stmt(c, part);
  if (paren)
    uvsql__c_putn(c, ")", 1);
}

void uvsql__c_compound(uvsql__compiler_t *c, uvsql_core_stmt_t *s) {
  static const char *const ops[] = {" UNION ", " UNION ALL ", " INTERSECT ", " EXCEPT "};
  compound_part(c, s, s->left, 0);
  uvsql__c_puts(c, ops[s->setop]);
  compound_part(c, s, s->right, 1);
  if (s->order.n) {
    /* ORDER BY of a compound names output columns: write them unqualified. */
    uvsql__c_puts(c, " ORDER BY ");
    for (uint32_t i = 0; i < s->order.n; i++) {
      const uvsql_expr_t *e = s->order.items[i], *key = e->kind == UVSQL__N_ORDER ? e->a : e;
      if (i)
        uvsql__c_putn(c, ", ", 2);
      if (key->kind == UVSQL__N_COLUMN || key->kind == UVSQL__N_FROMCOL) {
        uvsql__c_ident(c, key->kind == UVSQL__N_COLUMN ? key->u.ref.col->name : key->name);
        if (e->kind == UVSQL__N_ORDER && (e->flags & UVSQL_DESC))
          uvsql__c_puts(c, " DESC");
      } else {
        uvsql__c_order_list(c, (uvsql_expr_t *const *)&e, 1);
      }
    }
  }
  limit_offset(c, s);
}

/* ------------------------------------------------------------------ DML */

static void returning(uvsql__compiler_t *c, uvsql_core_stmt_t *s, unsigned feature,
                      const char *what) {
  if (!s->returning.n)
    return;
  if (!(c->d->features & feature)) {
    uvsql__c_fail(c, UVSQL_ENOT_SUPPORTED,
                  "%s has no RETURNING for %s: select the rows in a separate statement", c->d->name,
                  what);
    return;
  }
  uvsql__c_puts(c, " RETURNING ");
  c->unqualified = 1;
  select_list(c, &s->returning);
  c->unqualified = 0;
}

static void set_list(uvsql__compiler_t *c, const uvsql__vec_t *v) {
  for (uint32_t i = 0; i < v->n; i++) {
    const uvsql__set_t *set = v->items[i];
    if (i)
      uvsql__c_putn(c, ", ", 2);
    uvsql__c_ident(c, set->col->name);
    uvsql__c_puts(c, " = ");
    uvsql__c_expr(c, set->e);
  }
}

static int listed(const uvsql__vec_t *cols, const uvsql_column_t *col) {
  for (uint32_t i = 0; i < cols->n; i++)
    if (cols->items[i] == col)
      return 1;
  return 0;
}

static void upsert(uvsql__compiler_t *c, uvsql_core_stmt_t *s) {
  if (!s->conflict)
    return;
  if (c->d->features & UVSQL__D_ON_DUPLICATE) {
    uvsql__c_puts(c, " ON DUPLICATE KEY UPDATE ");
    if (s->conflict == UVSQL__CONFLICT_UPDATE && s->conflict_sets.n) {
      set_list(c, &s->conflict_sets);
    } else {
      /* DO NOTHING: a no-op assignment (INSERT IGNORE would hide other errors too). */
      const char *col = s->nconflict_target ? s->conflict_target[0]
                        : s->table->pk.n    ? ((uvsql_column_t *)s->table->pk.items[0])->name
                                            : ((uvsql_column_t *)s->table->columns.items[0])->name;
      uvsql__c_ident(c, col);
      uvsql__c_puts(c, " = ");
      uvsql__c_ident(c, col);
    }
    return;
  }
  uvsql__c_puts(c, " ON CONFLICT");
  if (s->nconflict_target) {
    uvsql__c_puts(c, " (");
    for (size_t i = 0; i < s->nconflict_target; i++) {
      if (i)
        uvsql__c_putn(c, ", ", 2);
      uvsql__c_ident(c, s->conflict_target[i]);
    }
    uvsql__c_putn(c, ")", 1);
  }
  if (s->conflict == UVSQL__CONFLICT_NOTHING || !s->conflict_sets.n) {
    uvsql__c_puts(c, " DO NOTHING");
    return;
  }
  uvsql__c_puts(c, " DO UPDATE SET ");
  set_list(c, &s->conflict_sets);
}

void uvsql__c_insert(uvsql__compiler_t *c, uvsql_core_stmt_t *s) {
  uvsql_table_t *t = s->table;
  uvsql_from_t *scope[1] = {&t->from};
  /* Columns: listed ones (or, with no list and no rows, every column without a default),
   * then client defaults of the columns not listed. */
  uvsql_column_t *cols[256];
  size_t ncols = 0, nlisted;
  int binds = !s->icols.n && !s->rows.n && !s->from_select;
  for (uint32_t i = 0; i < s->icols.n; i++)
    cols[ncols++] = s->icols.items[i];
  if (binds) {
    for (uint32_t i = 0; i < t->columns.n && ncols < 256; i++) {
      uvsql_column_t *col = t->columns.items[i];
      if (!uvsql__column_autoinc(col) && !col->server_default && !col->has_default)
        cols[ncols++] = col;
    }
  }
  nlisted = ncols;
  if (!s->from_select)
    for (uint32_t i = 0; i < t->columns.n && ncols < 256; i++) {
      uvsql_column_t *col = t->columns.items[i];
      if (col->has_default && !listed(&s->icols, col))
        cols[ncols++] = col;
    }
  if (t->columns.n > 256) {
    uvsql__c_fail(c, UVSQL_ENOT_SUPPORTED,
                  "INSERT into %s: the table has %u columns, more than the "
                  "256 an INSERT can write",
                  t->name, t->columns.n);
    return;
  }
  if (push_scope(c, scope, 1))
    return;
  uvsql__c_puts(c, "INSERT INTO ");
  uvsql__c_ident(c, t->name);
  if (ncols == 0 && !s->from_select) {
    uvsql__c_puts(c, c->d->features & UVSQL__D_EMPTY_VALUES ? " () VALUES ()" : " DEFAULT VALUES");
  } else {
    uvsql__c_puts(c, " (");
    for (size_t i = 0; i < ncols; i++) {
      if (i)
        uvsql__c_putn(c, ", ", 2);
      uvsql__c_ident(c, cols[i]->name);
    }
    uvsql__c_putn(c, ")", 1);
    if (s->from_select) {
      uvsql__c_putn(c, " ", 1);
      uvsql__c_stmt(c, s->from_select);
    } else {
      uvsql__c_puts(c, " VALUES ");
      size_t nrows = s->rows.n ? s->rows.n : 1;
      for (size_t r = 0; r < nrows; r++) {
        uvsql__c_puts(c, r ? ", (" : "(");
        for (size_t i = 0; i < ncols; i++) {
          if (i)
            uvsql__c_putn(c, ", ", 2);
          if (i >= nlisted) {
            uvsql__c_value(c, &cols[i]->client_default);
          } else if (s->rows.n) {
            uvsql__c_expr(c, ((uvsql_expr_t **)s->rows.items[r])[i]);
          } else if (!uvsql__valid_param_name(cols[i]->name)) {
            uvsql__c_fail(c, UVSQL_EINVALID_ARGUMENT,
                          "column %s.%s cannot name a parameter: give the insert its values",
                          t->name, cols[i]->name);
          } else {
            uvsql__c_placeholder(c, cols[i]->name);
            if (c->nbind < (int)(sizeof c->bindnames / sizeof c->bindnames[0]))
              c->bindnames[c->nbind++] = cols[i]->name;
          }
        }
        uvsql__c_putn(c, ")", 1);
      }
    }
  }
  upsert(c, s);
  c->dml_table = t;
  returning(c, s, UVSQL__D_RETURNING_INSERT, "INSERT");
  c->nscopes--;
}

void uvsql__c_update(uvsql__compiler_t *c, uvsql_core_stmt_t *s) {
  uvsql_from_t *scope[1] = {&s->table->from};
  if (!s->sets.n) {
    uvsql__c_fail(c, UVSQL_EINVALID_ARGUMENT, "UPDATE %s sets no column: call uvsql_update_set",
                  s->table->name);
    return;
  }
  if (push_scope(c, scope, 1))
    return;
  uvsql__c_puts(c, "UPDATE ");
  uvsql__c_ident(c, s->table->name);
  uvsql__c_puts(c, " SET ");
  set_list(c, &s->sets);
  if (s->where) {
    uvsql__c_puts(c, " WHERE ");
    uvsql__c_expr(c, s->where);
  }
  c->dml_table = s->table;
  returning(c, s, UVSQL__D_RETURNING_UPDATE, "UPDATE");
  c->nscopes--;
}

void uvsql__c_delete(uvsql__compiler_t *c, uvsql_core_stmt_t *s) {
  uvsql_from_t *scope[1] = {&s->table->from};
  if (push_scope(c, scope, 1))
    return;
  uvsql__c_puts(c, "DELETE FROM ");
  uvsql__c_ident(c, s->table->name);
  if (s->where) {
    uvsql__c_puts(c, " WHERE ");
    uvsql__c_expr(c, s->where);
  }
  c->dml_table = s->table;
  returning(c, s, UVSQL__D_RETURNING_DELETE, "DELETE");
  c->nscopes--;
}
