/* src/orm/stmts.c — the Core statements a mapper needs (select by key, multi-row INSERT ...
 * RETURNING, UPDATE of a set of columns, DELETE), built once per shape and cached on the
 * mapper, so their compiled SQL (cached on each Core statement per dialect) and the engine's
 * prepared statements are reused by every flush of every session.
 *
 * Invariants:
 *  1. A cached statement is never modified after it is built (Core statements are immutable
 *     once compiled); its bind parameter names are static strings or live in the cache entry.
 *  2. Shapes: INSERT by (field mask, row count, returned fields); UPDATE by field mask.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define N8(p)  p "0", p "1", p "2", p "3", p "4", p "5", p "6", p "7"
#define N10(p) N8(p), p "8", p "9"
const char *const uvsql__key_names[UVSQL__MAX_PK] = {N8("k")};
const char *const uvsql__set_names[64] = {N10("s"),  N10("s1"), N10("s2"), N10("s3"), N10("s4"),
                                          N10("s5"), "s60",     "s61",     "s62",     "s63"};

typedef struct ins_s {
  uint64_t mask;
  size_t nrows;
  uint64_t ret;
  uvsql_core_stmt_t *stmt;
  const char **names;
  char *namebuf;
  struct ins_s *next;
} ins_t;

typedef struct upd_s {
  uint64_t mask;
  uvsql_core_stmt_t *stmt;
  struct upd_s *next;
} upd_t;

struct uvsql__stmt_cache_s {
  uvsql_core_stmt_t *select_pk;
  uvsql_core_stmt_t *del[2];
  ins_t *ins;
  upd_t *upd;
};

void uvsql__stmt_cache_free(uvsql__stmt_cache_t *c) {
  if (!c)
    return;
  uvsql_core_stmt_free(c->select_pk);
  uvsql_core_stmt_free(c->del[0]);
  uvsql_core_stmt_free(c->del[1]);
  while (c->ins) {
    ins_t *n = c->ins->next;
    uvsql_core_stmt_free(c->ins->stmt);
    free(c->ins->names);
    free(c->ins->namebuf);
    free(c->ins);
    c->ins = n;
  }
  while (c->upd) {
    upd_t *n = c->upd->next;
    uvsql_core_stmt_free(c->upd->stmt);
    free(c->upd);
    c->upd = n;
  }
  free(c);
}

static uvsql__stmt_cache_t *cache(uvsql_mapper_t *m) {
  if (!m->cache)
    m->cache = calloc(1, sizeof *m->cache);
  return m->cache;
}

static const char *fname(const uvsql_mapper_t *m, size_t i) {
  return m->model->fields[i].name;
}

/* WHERE pk = :k0 AND ... [AND version = :v] */
static void where_pk(uvsql_mapper_t *m, uvsql_core_stmt_t *s, int version) {
  for (size_t i = 0; i < m->npk; i++)
    uvsql_where(s, uvsql_eq(s, uvsql_col(m->table, fname(m, m->pk[i])),
                            uvsql_bindparam(s, uvsql__key_names[i])));
  if (version && m->version >= 0)
    uvsql_where(
        s, uvsql_eq(s, uvsql_col(m->table, fname(m, (size_t)m->version)), uvsql_bindparam(s, "v")));
}

uvsql_core_stmt_t *uvsql__stmt_select_pk(uvsql_mapper_t *m) {
  uvsql__stmt_cache_t *c = cache(m);
  if (!c)
    return NULL;
  if (!c->select_pk) {
    uvsql_core_stmt_t *s = uvsql_orm_select(m);
    if (s)
      where_pk(m, s, 0);
    c->select_pk = s;
  }
  return c->select_pk;
}

uvsql_core_stmt_t *uvsql__stmt_insert(uvsql_mapper_t *m, uint64_t mask, size_t nrows, uint64_t ret,
                                      const char *const **names) {
  uvsql__stmt_cache_t *c = cache(m);
  if (!c)
    return NULL;
  for (ins_t *e = c->ins; e; e = e->next) {
    if (e->mask == mask && e->nrows == nrows && e->ret == ret) {
      *names = e->names;
      return e->stmt;
    }
  }
  size_t ncols = 0;
  const char *cols[65];
  for (size_t i = 0; i < m->model->nfields; i++)
    if (mask & (UINT64_C(1) << i))
      cols[ncols++] = fname(m, i);
  cols[ncols] = NULL;
  ins_t *e = calloc(1, sizeof *e);
  size_t np = nrows * ncols;
  if (!e || !(e->names = malloc((np ? np : 1) * sizeof *e->names)) ||
      !(e->namebuf = malloc(np * 16 + 1)))
    goto oom;
  char *p = e->namebuf;
  for (size_t r = 0; r < nrows; r++)
    for (size_t k = 0; k < ncols; k++) {
      e->names[r * ncols + k] = p;
      p += sprintf(p, "r%zuc%zu", r, k) + 1;
    }
  uvsql_core_stmt_t *s = uvsql_insert(m->table);
  if (!s)
    goto oom;
  if (ncols) { /* else one row of DEFAULT VALUES: every column generated or defaulted */
    uvsql_insert_columns(s, cols);
    uvsql_expr_t *row[64];
    for (size_t r = 0; r < nrows; r++) {
      for (size_t k = 0; k < ncols; k++)
        row[k] = uvsql_bindparam(s, e->names[r * ncols + k]);
      uvsql_insert_row(s, row, ncols);
    }
  }
  if (ret) {
    uvsql_expr_t *rc[64];
    size_t nret = 0;
    for (size_t i = 0; i < m->model->nfields; i++)
      if (ret & (UINT64_C(1) << i))
        rc[nret++] = uvsql_col(m->table, fname(m, i));
    uvsql_returning_n(s, rc, nret);
  }
  e->stmt = s;
  e->mask = mask;
  e->nrows = nrows;
  e->ret = ret;
  e->next = c->ins;
  c->ins = e;
  *names = e->names;
  return s;
oom:
  if (e) {
    free(e->names);
    free(e->namebuf);
  }
  free(e);
  return NULL;
}

uvsql_core_stmt_t *uvsql__stmt_update(uvsql_mapper_t *m, uint64_t mask) {
  uvsql__stmt_cache_t *c = cache(m);
  if (!c)
    return NULL;
  for (upd_t *e = c->upd; e; e = e->next)
    if (e->mask == mask)
      return e->stmt;
  upd_t *e = calloc(1, sizeof *e);
  uvsql_core_stmt_t *s = e ? uvsql_update(m->table) : NULL;
  if (!s) {
    free(e);
    return NULL;
  }
  if (m->version >= 0)
    mask |= UINT64_C(1) << m->version;
  for (size_t i = 0; i < m->model->nfields; i++)
    if (mask & (UINT64_C(1) << i))
      uvsql_update_set(s, fname(m, i), uvsql_bindparam(s, uvsql__set_names[i]));
  where_pk(m, s, 1);
  e->stmt = s;
  e->mask = mask;
  e->next = c->upd;
  c->upd = e;
  return s;
}

uvsql_core_stmt_t *uvsql__stmt_delete(uvsql_mapper_t *m, int per_row) {
  uvsql__stmt_cache_t *c = cache(m);
  if (!c)
    return NULL;
  per_row = per_row ? 1 : 0;
  if (!c->del[per_row]) {
    uvsql_core_stmt_t *s = uvsql_delete(m->table);
    if (s && per_row)
      where_pk(m, s, 1);
    else if (s)
      uvsql_where(s, uvsql_in_expanding(s, uvsql_col(m->table, fname(m, m->pk[0])), "k0"));
    c->del[per_row] = s;
  }
  return c->del[per_row];
}
