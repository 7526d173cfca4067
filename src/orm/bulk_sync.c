/* src/orm/bulk_sync.c — synchronize_session for a bulk UPDATE or DELETE by criteria run in
 * the session (session_core.c): which objects the criteria match in memory (EVALUATE), and
 * what a matched object becomes, whether EVALUATE or FETCH found it.
 *
 * Invariants:
 *  1. EVALUATE picks the matched objects before the statement is sent (after autoflush, so
 *     their fields are what the database holds), and they change only once it succeeded.
 *  2. A synchronized UPDATE changes an object's fields AND its snapshot (the database has the
 *     new values: the object is not dirty because of it), and journals the old snapshot, so a
 *     rollback puts the old values back. A SET value that cannot be computed in memory, or
 *     does not fit the field, expires the object instead (expire.c). A synchronized DELETE
 *     makes the object DELETED (out of the identity map, journaled), as a flushed DELETE does.
 *  3. Only PERSISTENT, non-expired objects of the statement's mapper are matched by EVALUATE
 *     (an expired one is read again anyway); FETCH synchronizes the identity map's objects
 *     whose keys came back.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "../sql/dml_eval.h"

/* ------------------------------------------------------------------ fields and values */

typedef struct {
  const uvsql_mapper_t *m;
  const void *st;
} row_t;

static long field_of_col(const uvsql_mapper_t *m, const uvsql_column_t *col) {
  for (size_t i = 0; i < m->model->nfields; i++)
    if (m->cols[i] == col)
      return (long)i;
  return -1;
}

static int colval(void *ctx, const uvsql_column_t *col, uvsql_value_t *out) {
  row_t *r = ctx;
  long i = field_of_col(r->m, col);
  if (i < 0)
    return -1;
  *out = uvsql__field_value(r->m, r->st, (size_t)i);
  return 0;
}

/* Sets field i of st (a struct owning its strings) to v. 0; -1 when v does not fit the
 * field's kind; UVSQL_ENOMEM. */
static int field_set(const uvsql_mapper_t *m, void *st, size_t i, const uvsql_value_t *v) {
  const uvsql_field_t *f = &m->model->fields[i];
  unsigned char *p = (unsigned char *)st + f->offset;
  uvsql_type_t t = v->type;
  if (t == UVSQL_TYPE_NULL) {
    if (f->kind == UVSQL_FIELD_TEXT || f->kind == UVSQL_FIELD_JSON) {
      free(*(char **)p);
      *(char **)p = NULL;
    } else if (f->kind == UVSQL_FIELD_BYTES) {
      free(((uvsql_bytes_t *)p)->ptr);
      memset(p, 0, sizeof(uvsql_bytes_t));
    } else if (f->kind == UVSQL_FIELD_ARRAY) {
      free(((uvsql_array_t *)(void *)p)->items);
      memset(p, 0, sizeof(uvsql_array_t));
    }
    uvsql__field_set_null(m, st, i, 1);
    return 0;
  }
  switch (f->kind) {
  case UVSQL_FIELD_INT64:
    if (t != UVSQL_TYPE_INT64 && t != UVSQL_TYPE_BOOL)
      return -1;
    *(int64_t *)p = t == UVSQL_TYPE_BOOL ? v->u.b : v->u.i64;
    break;
  case UVSQL_FIELD_DOUBLE:
    if (t != UVSQL_TYPE_INT64 && t != UVSQL_TYPE_DOUBLE)
      return -1;
    *(double *)p = t == UVSQL_TYPE_DOUBLE ? v->u.f64 : (double)v->u.i64;
    break;
  case UVSQL_FIELD_BOOL:
    if (t != UVSQL_TYPE_INT64 && t != UVSQL_TYPE_BOOL)
      return -1;
    *(int *)p = t == UVSQL_TYPE_BOOL ? v->u.b != 0 : v->u.i64 != 0;
    break;
  case UVSQL_FIELD_DATE:
  case UVSQL_FIELD_TIME:
  case UVSQL_FIELD_TIMESTAMP: {
    uvsql_type_t want = f->kind == UVSQL_FIELD_DATE   ? UVSQL_TYPE_DATE
                        : f->kind == UVSQL_FIELD_TIME ? UVSQL_TYPE_TIME
                                                      : UVSQL_TYPE_TIMESTAMP;
    if (t != want)
      return -1;
    *(int64_t *)p = v->u.i64;
    break;
  }
  case UVSQL_FIELD_TEXT:
  case UVSQL_FIELD_JSON:
  case UVSQL_FIELD_BYTES: {
    if (t != UVSQL_TYPE_TEXT && t != UVSQL_TYPE_JSON &&
        !(t == UVSQL_TYPE_BYTES && f->kind == UVSQL_FIELD_BYTES))
      return -1;
    char *copy = malloc(v->u.s.len + 1);
    if (!copy)
      return UVSQL_ENOMEM;
    memcpy(copy, v->u.s.ptr, v->u.s.len);
    copy[v->u.s.len] = '\0';
    if (f->kind != UVSQL_FIELD_BYTES) {
      free(*(char **)p);
      *(char **)p = copy;
    } else {
      free(((uvsql_bytes_t *)p)->ptr);
      ((uvsql_bytes_t *)p)->ptr = copy;
      ((uvsql_bytes_t *)p)->len = v->u.s.len;
    }
    break;
  }
  case UVSQL_FIELD_TIMESTAMPTZ:
    if (t != UVSQL_TYPE_TIMESTAMPTZ && t != UVSQL_TYPE_TIMESTAMP)
      return -1;
    *(int64_t *)p = v->u.i64;
    break;
  case UVSQL_FIELD_NUMERIC: {
    uvsql_numeric_t n; /* copied first: v may point at this very field */
    if ((t != UVSQL_TYPE_NUMERIC && t != UVSQL_TYPE_INT64) || uvsql__value_numeric(v, &n) != 0 ||
        uvsql__numeric_fit(f, &n) != 0)
      return -1;
    *(uvsql_numeric_t *)p = n;
    break;
  }
  case UVSQL_FIELD_UUID:
    if (uvsql__uuid_of_value(v, (uvsql_uuid_t *)(void *)p) != 0)
      return -1;
    break;
  case UVSQL_FIELD_ENUM:
    if (uvsql__enum_index(f->type_info, v, (int *)p) != 0)
      return -1;
    break;
  case UVSQL_FIELD_INTERVAL:
    if (t != UVSQL_TYPE_INTERVAL)
      return -1;
    *(uvsql_interval_t *)p = v->u.iv;
    break;
  case UVSQL_FIELD_ARRAY: {
    int rc = uvsql__array_set_value(f, (uvsql_array_t *)(void *)p, v);
    if (rc)
      return rc == UVSQL_ENOMEM ? rc : -1;
    break;
  }
    return -1;
  }
  uvsql__field_set_null(m, st, i, 0);
  return 0;
}

/* ------------------------------------------------------------------ synchronizing */

/* Invariant 2: the SET values, computed from h's values before any is assigned, go into h's
 * fields and a new snapshot; the old snapshot goes to the journal. */
static int sync_update(const uvsql__bulk_t *c, uvsql__obj_t *h) {
  const uvsql_mapper_t *m = c->m;
  uvsql_table_t *table;
  size_t nsets;
  int has_ret;
  uvsql__dml_info(c->stmt, &table, &nsets, &has_ret);
  uvsql_value_t vals[64];
  long fields[64];
  row_t row = {m, h->body};
  uvsql_error_t err;
  int fits = nsets <= 64;
  for (size_t i = 0; fits && i < nsets; i++) {
    fields[i] = field_of_col(m, uvsql__dml_set_column(c->stmt, i));
    fits = fields[i] >= 0 && uvsql__dml_eval_set(c->stmt, i, c->params, c->nparams, colval, &row,
                                                 &vals[i], &err) == 0;
  }
  /* the new snapshot: the old one with the new values (a struct owning its strings first) */
  void *tmp = fits ? calloc(1, m->model->size) : NULL;
  int rc = fits && !tmp ? UVSQL_ENOMEM : 0;
  if (tmp && h->snap)
    rc = uvsql__struct_assign(m, tmp, h->snap);
  for (size_t i = 0; tmp && rc == 0 && fits && i < nsets; i++) {
    int r = field_set(m, tmp, (size_t)fields[i], &vals[i]);
    if (r < 0)
      fits = 0;
    else
      rc = r;
  }
  void *snap = tmp && rc == 0 && fits ? uvsql__struct_copy(m, tmp) : NULL;
  if (tmp && rc == 0 && fits && !snap)
    rc = UVSQL_ENOMEM;
  for (size_t i = 0; snap && rc == 0 && i < nsets; i++)
    rc = field_set(m, h->body, (size_t)fields[i], &vals[i]); /* the same values: they fit */
  if (tmp) {
    uvsql__struct_free_strings(m, tmp);
    free(tmp);
  }
  if (rc || !snap) {
    free(snap);
    h->flags |= UVSQL__OF_EXPIRED; /* read again when next loaded */
    return rc;
  }
  void *old = h->snap;
  h->snap = snap;
  return uvsql__journal_add(c->s, h, UVSQL__J_UPDATED, old);
}

static int sync_delete(const uvsql__bulk_t *c, uvsql__obj_t *h) {
  uvsql__idmap_remove(&c->s->idmap, h);
  h->state = UVSQL_OBJ_DELETED;
  h->flags &= (uint8_t)~UVSQL__OF_MARK_DELETE;
  return uvsql__journal_add(c->s, h, UVSQL__J_DELETED, NULL);
}

int uvsql__bulk_apply(const uvsql__bulk_t *c, uvsql__obj_t *h) {
  if (h->state != UVSQL_OBJ_PERSISTENT)
    return 0;
  return c->is_delete ? sync_delete(c, h) : sync_update(c, h);
}

/* FETCH: the objects whose keys are in columns col0.. of r's rows. */
int uvsql__bulk_apply_keys(const uvsql__bulk_t *c, const uvsql_result_t *r, size_t col0) {
  const uvsql_mapper_t *m = c->m;
  int rc = 0;
  for (size_t row = 0; row < uvsql_result_nrows(r); row++) {
    uvsql_value_t pk[UVSQL__MAX_PK];
    int64_t ints[UVSQL__MAX_PK];
    for (size_t k = 0; k < m->npk; k++) {
      const uvsql_value_t *v = uvsql_result_value(r, row, col0 + k);
      pk[k] = v ? *v : UVSQL_V_NULL();
      /* keys compare by the field's kind: an integer key may come back as another integer
       * type (or as text on some drivers) */
      if (m->model->fields[m->pk[k]].kind == UVSQL_FIELD_INT64 &&
          uvsql_result_int64(r, row, col0 + k, &ints[k]) == 0)
        pk[k] = UVSQL_V_INT64(ints[k]);
    }
    uvsql__obj_t *h = uvsql__idmap_find(&c->s->idmap, m, pk);
    if (h && (rc = uvsql__bulk_apply(c, h)) != 0)
      break;
  }
  return rc;
}

/* ------------------------------------------------------------------ EVALUATE's matching */

int uvsql__bulk_evaluate(const uvsql__bulk_t *b, uvsql__obj_t ***out, size_t *nout,
                         uvsql_error_t *err) {
  size_t cap = 0, n = 0;
  uvsql__obj_t **v = NULL;
  for (uvsql__obj_t *h = b->s->owned; h; h = h->next) {
    if (h->mapper != b->m || h->state != UVSQL_OBJ_PERSISTENT || (h->flags & UVSQL__OF_EXPIRED))
      continue;
    row_t row = {b->m, h->body};
    int match = 0;
    int rc = uvsql__dml_eval_where(b->stmt, b->params, b->nparams, colval, &row, &match, err);
    if (rc) {
      free(v);
      return rc;
    }
    if (!match)
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      uvsql__obj_t **g = realloc(v, cap * sizeof *g);
      if (!g) {
        free(v);
        return uvsql__error_set(err, UVSQL_ENOMEM,
                                "out of memory matching objects of a bulk statement");
      }
      v = g;
    }
    v[n++] = h;
  }
  *out = v;
  *nout = n;
  return 0;
}
