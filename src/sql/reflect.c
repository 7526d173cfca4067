/* src/sql/reflect.c — reading an existing database's tables into metadata, asynchronously:
 * five catalog queries (columns, primary keys, foreign keys, unique constraints, indexes; the
 * SQL is the dialect's, see dialect.h for the rows each returns) run one after another through
 * the engine; once all have arrived the metadata is filled in one go, so a failure part way
 * leaves md as it was.
 *
 * States: QUERY(0) --rows--> QUERY(1) ... QUERY(4) --rows--> build, resolve. Any failed query
 * fails the job's future with that error. The engine owns the connection work; the job owns
 * the results it has taken and one reference on its future.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dialect.h"

#define REFLECT_AUTOINC 0x100000u /* transient column flag while building */
#define MAX_KEY         32

typedef struct {
  uvsql_engine_t *e;
  uvsql_metadata_t *md;
  const uvsql__sql_dialect_t *d;
  char **names; /* NULL: every table */
  size_t nnames;
  uvsql_future_t *f;
  uvsql_result_t *rows[5];
  int step;
  uvsql_table_t **made; /* tables this reflection declared */
  size_t nmade;
} reflect_t;

static void job_free(reflect_t *j) {
  for (int i = 0; i < 5; i++)
    uvsql_result_free(j->rows[i]);
  for (size_t i = 0; i < j->nnames; i++)
    free(j->names[i]);
  free(j->names);
  free(j->made);
  uvsql_future_unref(j->f);
  free(j);
}

/* The cell as text (ints formatted into buf), or NULL when it is NULL. */
static const char *cell(uvsql_result_t *r, size_t row, size_t col, char *buf, size_t size) {
  const char *t;
  int64_t v;
  if (uvsql_result_is_null(r, row, col))
    return NULL;
  if (uvsql_result_text(r, row, col, &t, NULL) == 0)
    return t;
  if (uvsql_result_int64(r, row, col, &v) == 0) {
    snprintf(buf, size, "%lld", (long long)v);
    return buf;
  }
  return NULL;
}

static int cell_int(uvsql_result_t *r, size_t row, size_t col, int dflt) {
  char buf[32];
  const char *t = cell(r, row, col, buf, sizeof buf);
  return t ? atoi(t) : dflt;
}

static uvsql_table_t *made(reflect_t *j, const char *name) {
  for (size_t i = 0; name && i < j->nmade; i++)
    if (strcmp(j->made[i]->name, name) == 0)
      return j->made[i];
  return NULL;
}

static int wanted(reflect_t *j, const char *name) {
  if (!j->names)
    return 1;
  for (size_t i = 0; i < j->nnames; i++)
    if (strcmp(j->names[i], name) == 0)
      return 1;
  return 0;
}

static uvsql_fk_action_t rule(const char *s) {
  if (!s)
    return UVSQL_FK_NO_ACTION;
  if (!strcmp(s, "CASCADE"))
    return UVSQL_FK_CASCADE;
  if (!strcmp(s, "SET NULL"))
    return UVSQL_FK_SET_NULL;
  if (!strcmp(s, "SET DEFAULT"))
    return UVSQL_FK_SET_DEFAULT;
  if (!strcmp(s, "RESTRICT"))
    return UVSQL_FK_RESTRICT;
  return UVSQL_FK_NO_ACTION;
}

static int columns(reflect_t *j, uvsql_error_t *err) {
  uvsql_result_t *r = j->rows[UVSQL__R_COLUMNS];
  size_t n = uvsql_result_nrows(r);
  if (!(j->made = calloc(n ? n : 1, sizeof *j->made)))
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory reflecting tables");
  for (size_t i = 0; i < n; i++) {
    char b0[32], b1[32], b2[32];
    const char *tname = cell(r, i, 0, b0, sizeof b0), *cname = cell(r, i, 1, b1, sizeof b1);
    const char *type = cell(r, i, 2, b2, sizeof b2);
    if (!tname || !cname || !type || !wanted(j, tname))
      continue;
    uvsql_table_t *t = made(j, tname);
    if (!t) {
      if (uvsql_metadata_table(j->md, tname))
        return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                                "reflect: the metadata already has a table %s", tname);
      if (!(t = uvsql_table(j->md, tname)))
        break;
      j->made[j->nmade++] = t;
    }
    int length = cell_int(r, i, 3, -1), precision = cell_int(r, i, 4, -1);
    int scale = cell_int(r, i, 5, -1);
    const char *paren = strchr(type, '(');
    if (paren && length < 0 && precision < 0) { /* "VARCHAR(50)", "NUMERIC(10, 2)" */
      int a = -1, b = -1;
      sscanf(paren, "(%d , %d", &a, &b);
      length = precision = a;
      scale = b;
    }
    uvsql_sqltype_t st = j->d->reflect_type(type, length, precision, scale);
    int autoinc = cell_int(r, i, 8, 0);
    uvsql_column_t *c = uvsql_column(t, cname, st, cell_int(r, i, 6, 0) ? UVSQL_NOT_NULL : 0);
    if (!c)
      break;
    char b7[32];
    const char *dflt = cell(r, i, 7, b7, sizeof b7);
    if (autoinc)
      c->flags |= REFLECT_AUTOINC;
    else if (dflt)
      uvsql_column_server_default(c, dflt);
  }
  return j->md->err.code ? uvsql__error_set(err, j->md->err.code, "%s", j->md->err.message) : 0;
}

/* Calls fn once per run of rows with the same (table, key) (columns 0 and keycol), with the
 * names in namecol of the run. */
typedef void (*group_fn)(reflect_t *j, uvsql_result_t *r, size_t first, uvsql_table_t *t,
                         const char **cols, size_t n, void *extra);

static void groups(reflect_t *j, uvsql_result_t *r, int keycol, int namecol, group_fn fn,
                   void *extra) {
  size_t nrows = uvsql_result_nrows(r), i = 0;
  while (i < nrows) {
    char kb[32], tb[32], cb[MAX_KEY][32];
    const char *cols[MAX_KEY + 1];
    const char *table = cell(r, i, 0, tb, sizeof tb);
    const char *key = keycol >= 0 ? cell(r, i, (size_t)keycol, kb, sizeof kb) : NULL;
    size_t first = i, n = 0;
    for (; i < nrows; i++) {
      char b1[32], b2[32];
      const char *t2 = cell(r, i, 0, b1, sizeof b1);
      const char *k2 = keycol >= 0 ? cell(r, i, (size_t)keycol, b2, sizeof b2) : NULL;
      if (!t2 || !table || strcmp(t2, table) != 0 || (key && (!k2 || strcmp(k2, key) != 0)))
        break;
      if (n < MAX_KEY)
        cols[n] = cell(r, i, (size_t)namecol, cb[n], sizeof cb[n]), n++;
    }
    if (i == first)
      i++;
    cols[n] = NULL;
    uvsql_table_t *t = made(j, table);
    if (t && n)
      fn(j, r, first, t, cols, n, extra);
  }
}

static void add_pk(reflect_t *j, uvsql_result_t *r, size_t first, uvsql_table_t *t,
                   const char **cols, size_t n, void *extra) {
  uvsql_primary_key(t, cols);
}

static void add_fk(reflect_t *j, uvsql_result_t *r, size_t first, uvsql_table_t *t,
                   const char **cols, size_t n, void *extra) {
  char nb[32], rb[32], db[32], ub[32], refb[MAX_KEY][32];
  const char *refcols[MAX_KEY + 1];
  int any_ref = 0;
  for (size_t k = 0; k < n; k++) {
    refcols[k] = cell(r, first + k, 5, refb[k], sizeof refb[k]);
    any_ref |= refcols[k] != NULL;
  }
  refcols[n] = NULL;
  uvsql_foreign_key(t, cell(r, first, 2, nb, sizeof nb), cols, cell(r, first, 4, rb, sizeof rb),
                    any_ref ? refcols : NULL, rule(cell(r, first, 6, db, sizeof db)),
                    rule(cell(r, first, 7, ub, sizeof ub)));
}

static void add_unique(reflect_t *j, uvsql_result_t *r, size_t first, uvsql_table_t *t,
                       const char **cols, size_t n, void *extra) {
  char nb[64];
  uvsql_unique(t, cell(r, first, 2, nb, sizeof nb), cols);
}

static void add_index(reflect_t *j, uvsql_result_t *r, size_t first, uvsql_table_t *t,
                      const char **cols, size_t n, void *extra) {
  char nb[64];
  uvsql_index(t, cell(r, first, 1, nb, sizeof nb), cols, cell_int(r, first, 2, 0));
}

static int build(reflect_t *j, uvsql_error_t *err) {
  int rc = columns(j, err);
  if (rc)
    return rc;
  groups(j, j->rows[UVSQL__R_PK], -1, 1, add_pk, NULL);
  groups(j, j->rows[UVSQL__R_FK], 1, 3, add_fk, NULL);
  groups(j, j->rows[UVSQL__R_UNIQUE], 1, 3, add_unique, NULL);
  groups(j, j->rows[UVSQL__R_INDEX], 1, 3, add_index, NULL);
  /* An integer key the database does not fill itself is not autoincrement here either. */
  for (size_t i = 0; i < j->nmade; i++) {
    uvsql_table_t *t = j->made[i];
    for (uint32_t k = 0; k < t->columns.n; k++) {
      uvsql_column_t *c = t->columns.items[k];
      int autoinc = (c->flags & REFLECT_AUTOINC) != 0;
      c->flags &= ~REFLECT_AUTOINC;
      if (!autoinc && uvsql__column_autoinc(c))
        c->flags |= UVSQL_NO_AUTOINCREMENT;
    }
  }
  return j->md->err.code ? uvsql__error_set(err, j->md->err.code, "%s", j->md->err.message) : 0;
}

static void step(uvsql_future_t *f, void *data) {
  reflect_t *j = data;
  uvsql_error_t err;
  if (f) {
    const uvsql_error_t *e = uvsql_future_error(f);
    if (e) {
      err = *e;
      uvsql__future_fail(j->f, &err);
      job_free(j);
      return;
    }
    j->rows[j->step++] = uvsql_future_take(f);
  }
  if (j->step < 5) {
    uvsql_engine_execute_sql(j->e, j->d->reflect_sql[j->step], NULL, 0, step, j);
    return;
  }
  if (build(j, &err) != 0)
    uvsql__future_fail(j->f, &err);
  else
    uvsql__future_resolve(j->f, NULL, NULL);
  job_free(j);
}

uvsql_future_t *uvsql_metadata_reflect(uvsql_metadata_t *md, uvsql_engine_t *e,
                                       const char *const *names, uvsql_future_cb cb, void *data) {
  if (!e)
    return NULL;
  uv_loop_t *loop = uvsql_engine_loop(e);
  uvsql_error_t err;
  reflect_t *j = calloc(1, sizeof *j);
  uvsql_future_t *f = uvsql__future_new(loop);
  if (!j || !f) {
    free(j);
    uvsql_future_unref(f);
    return NULL;
  }
  j->f = f;
  j->e = e;
  j->md = md;
  j->d = uvsql__sql_dialect_find(uvsql_engine_dialect(e));
  int rc = 0;
  if (!md || !j->d) {
    rc = uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT, "reflect: %s",
                          md ? "no SQL dialect for this engine" : "metadata is NULL");
  } else if (names) {
    while (names[j->nnames])
      j->nnames++;
    if (!(j->names = calloc(j->nnames + 1, sizeof *j->names)))
      rc = uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < j->nnames; i++)
      if (!(j->names[i] = strdup(names[i])))
        rc = uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory");
  }
  uvsql_future_ref(f); /* the caller's (or cb's) */
  if (rc) {
    uvsql__future_fail_soon(f, &err);
    job_free(j);
  } else {
    step(NULL, j);
  }
  return uvsql__future_return(f, cb, data);
}
