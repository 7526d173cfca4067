/* src/orm/session_core.c — Core statements and SQL text in the session's transaction
 * (uvsql_session_execute_core / execute_sql / scalar / scalars), and the synchronization of
 * the session's objects after a bulk UPDATE or DELETE by criteria (synchronize_session).
 *
 * Each call is one queued session operation (uvsql__session_custom): its start checks what
 * can be checked without SQL (an EVALUATE whose WHERE cannot be checked in memory fails
 * here, before the transaction); then autobegin and autoflush; then run sends the statement.
 *
 * Invariants:
 *  1. EVALUATE picks the matched objects before the statement is sent (after autoflush, so
 *     their fields are what the database holds), and changes them only once it succeeded.
 *  2. A synchronized UPDATE changes an object's fields AND its snapshot (the database has the
 *     new values: the object is not dirty because of it), and journals the old snapshot, so a
 *     rollback puts the old values back. A SET value that cannot be computed in memory, or
 *     does not fit the field, expires the object instead (expire.c). A synchronized DELETE
 *     makes the object DELETED (out of the identity map, journaled), as a flushed DELETE does.
 *  3. Only PERSISTENT, non-expired objects of the statement's mapper are synchronized by
 *     EVALUATE; FETCH synchronizes the identity map's objects whose keys came back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "../sql/dml_eval.h"

typedef enum { MODE_RESULT, MODE_SCALAR, MODE_SCALARS } mode_t_;

typedef struct {
  uvsql_session_t *s;
  uvsql_core_stmt_t *stmt; /* borrowed from the caller */
  uvsql_stmt_t *text;      /* execute_sql: owned */
  uvsql_param_t *params;   /* one block (uvsql__params_copy) */
  size_t nparams;
  mode_t_ mode;
  uvsql_sync_t sync;
  uvsql__dml_kind_t kind;
  uvsql_mapper_t *m;          /* the mapper of the UPDATE/DELETE's table, when synchronizing */
  uvsql_core_stmt_t *derived; /* FETCH: the statement with RETURNING, or the key SELECT */
  uvsql_result_t *keys;       /* FETCH on MariaDB UPDATE: the keys selected first */
  uvsql_param_t *sel_params;  /* FETCH on MariaDB UPDATE: the params the key SELECT binds */
  uvsql__obj_t **matched;     /* EVALUATE */
  size_t nmatched;
} core_t;

static void core_free(void *p) {
  core_t *c = p;
  uvsql_stmt_free(c->text);
  free(c->params);
  uvsql_core_stmt_free(c->derived);
  uvsql_result_free(c->keys);
  free(c->sel_params);
  free(c->matched);
  free(c);
}

static void done_err(core_t *c, const uvsql_error_t *err) {
  uvsql__session_custom_done(c->s, NULL, NULL, err);
}

static void done_code(core_t *c, int code, const char *msg) {
  uvsql_error_t err;
  uvsql__error_set(&err, code, "%s", msg);
  done_err(c, &err);
}

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
    if (f->kind == UVSQL_FIELD_TEXT) {
      free(*(char **)p);
      *(char **)p = NULL;
    } else if (f->kind == UVSQL_FIELD_BYTES) {
      free(((uvsql_bytes_t *)p)->ptr);
      memset(p, 0, sizeof(uvsql_bytes_t));
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
  case UVSQL_FIELD_BYTES: {
    if (t != UVSQL_TYPE_TEXT && !(t == UVSQL_TYPE_BYTES && f->kind == UVSQL_FIELD_BYTES))
      return -1;
    char *copy = malloc(v->u.s.len + 1);
    if (!copy)
      return UVSQL_ENOMEM;
    memcpy(copy, v->u.s.ptr, v->u.s.len);
    copy[v->u.s.len] = '\0';
    if (f->kind == UVSQL_FIELD_TEXT) {
      free(*(char **)p);
      *(char **)p = copy;
    } else {
      free(((uvsql_bytes_t *)p)->ptr);
      ((uvsql_bytes_t *)p)->ptr = copy;
      ((uvsql_bytes_t *)p)->len = v->u.s.len;
    }
    break;
  }
  }
  uvsql__field_set_null(m, st, i, 0);
  return 0;
}

/* ------------------------------------------------------------------ synchronizing */

/* Invariant 2: the SET values, computed from h's values before any is assigned, go into h's
 * fields and a new snapshot; the old snapshot goes to the journal. */
static int sync_update(core_t *c, uvsql__obj_t *h) {
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

static int sync_delete(core_t *c, uvsql__obj_t *h) {
  uvsql__idmap_remove(&c->s->idmap, h);
  h->state = UVSQL_OBJ_DELETED;
  h->flags &= (uint8_t)~UVSQL__OF_MARK_DELETE;
  return uvsql__journal_add(c->s, h, UVSQL__J_DELETED, NULL);
}

static int sync_one(core_t *c, uvsql__obj_t *h) {
  if (h->state != UVSQL_OBJ_PERSISTENT)
    return 0;
  return c->kind == UVSQL__DML_UPDATE ? sync_update(c, h) : sync_delete(c, h);
}

/* FETCH: the objects whose keys are in columns col0.. of r's rows. */
static int sync_keys(core_t *c, const uvsql_result_t *r, size_t col0) {
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
    if (h && (rc = sync_one(c, h)) != 0)
      break;
  }
  return rc;
}

/* ------------------------------------------------------------------ running */

/* After the statement succeeded: the objects it matched (invariants 1, 2). 0 or ENOMEM. */
static int core_sync(core_t *c, const uvsql_result_t *r) {
  int rc = 0;
  if (!c->m)
    return 0;
  if (c->sync == UVSQL_SYNC_EVALUATE) {
    for (size_t i = 0; rc == 0 && i < c->nmatched; i++)
      rc = sync_one(c, c->matched[i]);
  } else if (c->sync == UVSQL_SYNC_FETCH) {
    size_t ncols = uvsql_result_ncols(r); /* the keys are RETURNING's last columns */
    rc = c->keys ? sync_keys(c, c->keys, 0) : sync_keys(c, r, ncols - c->m->npk);
  }
  return rc;
}

static void *scalar_of(const uvsql_result_t *r, int all, int *oom) {
  size_t n = all ? uvsql_result_nrows(r) : (uvsql_result_nrows(r) ? 1 : 0);
  *oom = 0;
  if (!all && n == 0)
    return NULL;
  size_t len = all ? sizeof(uvsql_scalars_t) : 0;
  len += n * sizeof(uvsql_value_t);
  for (size_t i = 0; i < n; i++) {
    const uvsql_value_t *v = uvsql_result_value(r, i, 0);
    if (v && (v->type == UVSQL_TYPE_TEXT || v->type == UVSQL_TYPE_BYTES))
      len += v->u.s.len + 1;
  }
  unsigned char *block = malloc(len ? len : 1);
  if (!block) {
    *oom = 1;
    return NULL;
  }
  uvsql_value_t *vals = (uvsql_value_t *)(block + (all ? sizeof(uvsql_scalars_t) : 0));
  char *tail = (char *)(vals + n);
  for (size_t i = 0; i < n; i++) {
    const uvsql_value_t *v = uvsql_result_value(r, i, 0);
    vals[i] = v ? *v : UVSQL_V_NULL();
    if (v && (v->type == UVSQL_TYPE_TEXT || v->type == UVSQL_TYPE_BYTES)) {
      memcpy(tail, v->u.s.ptr, v->u.s.len);
      tail[v->u.s.len] = '\0';
      vals[i].u.s.ptr = tail;
      tail += v->u.s.len + 1;
    }
  }
  if (!all)
    return vals;
  uvsql_scalars_t *sc = (uvsql_scalars_t *)block;
  sc->n = n;
  sc->values = vals;
  return sc;
}

static void core_executed(uvsql_future_t *f, void *data) {
  core_t *c = data;
  const uvsql_error_t *ferr = uvsql_future_error(f);
  if (ferr) {
    done_err(c, ferr);
    return;
  }
  uvsql_result_t *r = uvsql_future_take(f);
  if (core_sync(c, r)) {
    uvsql_result_free(r);
    done_code(c, UVSQL_ENOMEM, "out of memory synchronizing the session after a bulk statement");
    return;
  }
  if (c->mode == MODE_RESULT) {
    uvsql__session_custom_done(c->s, r, (uvsql_value_free_cb)uvsql_result_free, NULL);
    return;
  }
  if (uvsql_result_ncols(r) == 0) {
    uvsql_result_free(r);
    done_code(c, UVSQL_EINVALID_ARGUMENT,
              "uvsql_session_scalar/scalars: the statement returns no columns (use "
              "uvsql_session_execute_core for a statement without rows)");
    return;
  }
  int oom;
  void *v = scalar_of(r, c->mode == MODE_SCALARS, &oom);
  uvsql_result_free(r);
  if (oom) {
    done_code(c, UVSQL_ENOMEM, "out of memory copying a scalar");
    return;
  }
  uvsql__session_custom_done(c->s, v, free, NULL);
}

static void core_send(core_t *c, uvsql_core_stmt_t *st) {
  c->s->nstatements++;
  uvsql_conn_execute_core(c->s->conn, st, c->params, c->nparams, core_executed, c);
}

static void keys_selected(uvsql_future_t *f, void *data) {
  core_t *c = data;
  const uvsql_error_t *ferr = uvsql_future_error(f);
  if (ferr) {
    done_err(c, ferr);
    return;
  }
  c->keys = uvsql_future_take(f);
  core_send(c, c->stmt);
}

static int is_ident(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '_';
}

/* The params the key SELECT (c->derived) uses: those whose :name its SQL has. */
static int select_params(core_t *c, size_t *n, uvsql_error_t *err) {
  const char *sql;
  const uvsql_param_t *vals;
  size_t nvals;
  int rc = uvsql_core_compile(c->derived, c->s->dialect, c->params, c->nparams, &sql, &vals, &nvals,
                              err);
  if (rc)
    return rc;
  if (c->nparams && !(c->sel_params = malloc(c->nparams * sizeof *c->sel_params)))
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory building a bulk statement");
  for (size_t i = 0; i < c->nparams; i++) {
    const char *name = c->params[i].name;
    size_t len = strlen(name);
    for (const char *at = sql; (at = strchr(at, ':')) != NULL; at++)
      if (strncmp(at + 1, name, len) == 0 && !is_ident(at[1 + len])) {
        c->sel_params[(*n)++] = c->params[i];
        break;
      }
  }
  return 0;
}

static int pk_cols(const uvsql_mapper_t *m, uvsql_column_t **cols) {
  for (size_t k = 0; k < m->npk; k++)
    cols[k] = m->cols[m->pk[k]];
  return (int)m->npk;
}

static void core_run(uvsql_session_t *s, void *ctx) {
  core_t *c = ctx;
  if (c->text) {
    s->nstatements++;
    uvsql_conn_execute(s->conn, c->text, c->params, c->nparams, core_executed, c);
    return;
  }
  if (c->sync == UVSQL_SYNC_EVALUATE) { /* invariant 1 */
    size_t cap = 0;
    for (uvsql__obj_t *h = s->owned; h; h = h->next) {
      if (h->mapper != c->m || h->state != UVSQL_OBJ_PERSISTENT || (h->flags & UVSQL__OF_EXPIRED))
        continue;
      row_t row = {c->m, h->body};
      int match = 0;
      uvsql_error_t err;
      if (uvsql__dml_eval_where(c->stmt, c->params, c->nparams, colval, &row, &match, &err)) {
        done_err(c, &err);
        return;
      }
      if (!match)
        continue;
      if (c->nmatched == cap) {
        cap = cap ? cap * 2 : 64;
        uvsql__obj_t **v = realloc(c->matched, cap * sizeof *v);
        if (!v) {
          done_code(c, UVSQL_ENOMEM, "out of memory matching objects of a bulk statement");
          return;
        }
        c->matched = v;
      }
      c->matched[c->nmatched++] = h;
    }
    core_send(c, c->stmt);
    return;
  }
  if (c->sync == UVSQL_SYNC_FETCH) {
    uvsql_column_t *cols[UVSQL__MAX_PK];
    int n = pk_cols(c->m, cols);
    int no_returning = strcmp(s->dialect, "mariadb") == 0 && c->kind == UVSQL__DML_UPDATE;
    c->derived = no_returning ? uvsql__dml_select(c->stmt, cols, (size_t)n)
                              : uvsql__dml_returning(c->stmt, cols, (size_t)n);
    if (!c->derived) {
      done_code(c, UVSQL_ENOMEM, "out of memory building a bulk statement");
      return;
    }
    if (no_returning) { /* the SELECT binds only the WHERE's params, not the SET's */
      size_t nsel = 0;
      uvsql_error_t err;
      if (select_params(c, &nsel, &err)) {
        done_err(c, &err);
        return;
      }
      s->nstatements++;
      uvsql_conn_execute_core(s->conn, c->derived, c->sel_params, nsel, keys_selected, c);
      return;
    }
    core_send(c, c->derived);
    return;
  }
  core_send(c, c->stmt);
}

/* Before the transaction: which synchronization, and whether EVALUATE can do it. */
static void core_start(uvsql_session_t *s, void *ctx) {
  core_t *c = ctx;
  if (c->text || !c->stmt) {
    uvsql__session_custom_tx(s);
    return;
  }
  uvsql_table_t *table;
  size_t nsets;
  int has_ret;
  c->kind = uvsql__dml_info(c->stmt, &table, &nsets, &has_ret);
  c->m = c->kind != UVSQL__DML_OTHER && c->sync != UVSQL_SYNC_NONE
             ? uvsql__mapper_for_table(s->reg, uvsql_table_name(table))
             : NULL;
  if (c->m && c->m->table != table)
    c->m = NULL; /* a table of the same name in another metadata: not this mapper's */
  if (!c->m) {
    c->sync = UVSQL_SYNC_NONE;
    uvsql__session_custom_tx(s);
    return;
  }
  for (size_t i = 0; i < nsets; i++) {
    uvsql_column_t *col = uvsql__dml_set_column(c->stmt, i);
    for (size_t k = 0; k < c->m->npk; k++)
      if (c->m->cols[c->m->pk[k]] == col) {
        char msg[300];
        snprintf(msg, sizeof msg,
                 "a bulk UPDATE of %s sets its primary key column \"%s\": the session cannot "
                 "follow the objects to their new keys; use synchronize_session "
                 "UVSQL_SYNC_NONE and expunge or expire them",
                 c->m->model->type_name, uvsql_column_name(col));
        done_code(c, UVSQL_EINVALID_ARGUMENT, msg);
        return;
      }
  }
  if (c->sync == UVSQL_SYNC_EVALUATE || c->sync == UVSQL_SYNC_AUTO) {
    int match;
    uvsql_error_t err;
    int rc = uvsql__dml_eval_where(c->stmt, c->params, c->nparams, NULL, NULL, &match, &err);
    if (rc && c->sync == UVSQL_SYNC_EVALUATE) {
      done_err(c, &err);
      return;
    }
    c->sync = rc ? UVSQL_SYNC_FETCH : UVSQL_SYNC_EVALUATE;
  }
  uvsql__session_custom_tx(s);
}

/* ------------------------------------------------------------------ the public calls */

static uvsql_future_t *failed_call(uvsql_session_t *s, int code, const char *msg,
                                   uvsql_future_cb cb, void *data) {
  uvsql_future_t *f = uvsql__future_new(s->loop);
  if (!f)
    return NULL;
  uvsql_error_t err;
  uvsql__error_set(&err, code, "%s", msg);
  uvsql__future_fail_soon(f, &err);
  return uvsql__future_return(f, cb, data);
}

static uvsql_future_t *core_call(uvsql_session_t *s, uvsql_core_stmt_t *stmt, uvsql_stmt_t *text,
                                 const uvsql_param_t *params, size_t nparams, mode_t_ mode,
                                 uvsql_sync_t sync, uvsql_future_cb cb, void *data) {
  core_t *c = calloc(1, sizeof *c);
  if (!c || (nparams && !(c->params = uvsql__params_copy(params, nparams)))) {
    free(c);
    uvsql_stmt_free(text);
    return failed_call(s, UVSQL_ENOMEM, "out of memory queueing a session statement", cb, data);
  }
  c->s = s;
  c->stmt = stmt;
  c->text = text;
  c->nparams = nparams;
  c->mode = mode;
  c->sync = sync;
  return uvsql__session_custom(s, core_start, core_run, core_free, c, cb, data);
}

uvsql_future_t *uvsql_session_execute_core(uvsql_session_t *s, uvsql_core_stmt_t *stmt,
                                           const uvsql_param_t *params, size_t nparams,
                                           const uvsql_exec_options_t *opt, uvsql_future_cb cb,
                                           void *data) {
  if (!s)
    return NULL;
  if (!stmt || (nparams && !params))
    return failed_call(s, UVSQL_EINVALID_ARGUMENT,
                       "uvsql_session_execute_core: a Core statement is required", cb, data);
  uvsql_sync_t sync = opt ? opt->synchronize_session : UVSQL_SYNC_AUTO;
  if ((unsigned)sync > UVSQL_SYNC_NONE)
    return failed_call(s, UVSQL_EINVALID_ARGUMENT,
                       "uvsql_session_execute_core: synchronize_session must be one of "
                       "UVSQL_SYNC_AUTO, UVSQL_SYNC_EVALUATE, UVSQL_SYNC_FETCH, UVSQL_SYNC_NONE",
                       cb, data);
  return core_call(s, stmt, NULL, params, nparams, MODE_RESULT, sync, cb, data);
}

uvsql_future_t *uvsql_session_execute_sql(uvsql_session_t *s, const char *sql,
                                          const uvsql_param_t *params, size_t nparams,
                                          uvsql_future_cb cb, void *data) {
  if (!s)
    return NULL;
  uvsql_stmt_t *text = NULL;
  uvsql_error_t err;
  if (!sql || (nparams && !params))
    return failed_call(s, UVSQL_EINVALID_ARGUMENT,
                       "uvsql_session_execute_sql: SQL text is required", cb, data);
  if (uvsql_text(&text, sql, &err))
    return failed_call(s, err.code, err.message, cb, data);
  return core_call(s, NULL, text, params, nparams, MODE_RESULT, UVSQL_SYNC_NONE, cb, data);
}

uvsql_future_t *uvsql_session_scalar(uvsql_session_t *s, uvsql_core_stmt_t *stmt,
                                     const uvsql_param_t *params, size_t nparams,
                                     uvsql_future_cb cb, void *data) {
  if (!s)
    return NULL;
  if (!stmt || (nparams && !params))
    return failed_call(s, UVSQL_EINVALID_ARGUMENT,
                       "uvsql_session_scalar: a Core statement is required", cb, data);
  return core_call(s, stmt, NULL, params, nparams, MODE_SCALAR, UVSQL_SYNC_AUTO, cb, data);
}

uvsql_future_t *uvsql_session_scalars(uvsql_session_t *s, uvsql_core_stmt_t *stmt,
                                      const uvsql_param_t *params, size_t nparams,
                                      uvsql_future_cb cb, void *data) {
  if (!s)
    return NULL;
  if (!stmt || (nparams && !params))
    return failed_call(s, UVSQL_EINVALID_ARGUMENT,
                       "uvsql_session_scalars: a Core statement is required", cb, data);
  return core_call(s, stmt, NULL, params, nparams, MODE_SCALARS, UVSQL_SYNC_AUTO, cb, data);
}
