/* src/orm/session_core.c — Core statements and SQL text in the session's transaction
 * (uvsql_session_execute_core / execute_sql / scalar / scalars), and the synchronization of
 * the session's objects after a bulk UPDATE or DELETE by criteria (synchronize_session).
 *
 * Each call is one queued session operation (uvsql__session_custom): its start checks what
 * can be checked without SQL (an EVALUATE whose WHERE cannot be checked in memory fails
 * here, before the transaction); then autobegin and autoflush; then run sends the statement.
 *
 * The objects are synchronized by bulk_sync.c, which states the rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "../sql/dml_eval.h"

typedef enum { MODE_RESULT, MODE_SCALAR, MODE_SCALARS } core_mode_t;

typedef struct {
  uvsql_session_t *s;
  uvsql_core_stmt_t *stmt; /* borrowed from the caller */
  uvsql_stmt_t *text;      /* execute_sql: owned */
  uvsql_param_t *params;   /* one block (uvsql__params_copy) */
  size_t nparams;
  core_mode_t mode;
  uvsql_sync_t sync;
  uvsql__dml_kind_t kind;
  uvsql_mapper_t *m;          /* the mapper of the UPDATE/DELETE's table, when synchronizing */
  uvsql_core_stmt_t *derived; /* FETCH: the statement with RETURNING, or the key SELECT */
  uvsql_result_t *keys;       /* FETCH on MariaDB UPDATE: the keys selected first */
  uvsql_param_t *sel_params;  /* FETCH on MariaDB UPDATE: the params the key SELECT binds */
  uvsql__obj_t **matched;     /* EVALUATE */
  size_t nmatched;
  uvsql__bulk_t b; /* what bulk_sync.c needs, filled when synchronizing */
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

/* ------------------------------------------------------------------ running */

/* After the statement succeeded: the objects it matched (bulk_sync.c). 0 or ENOMEM. */
static int core_sync(core_t *c, const uvsql_result_t *r) {
  int rc = 0;
  if (!c->m)
    return 0;
  if (c->sync == UVSQL_SYNC_EVALUATE) {
    for (size_t i = 0; rc == 0 && i < c->nmatched; i++)
      rc = uvsql__bulk_apply(&c->b, c->matched[i]);
  } else if (c->sync == UVSQL_SYNC_FETCH) {
    size_t ncols = uvsql_result_ncols(r); /* the keys are RETURNING's last columns */
    rc = c->keys ? uvsql__bulk_apply_keys(&c->b, c->keys, 0)
                 : uvsql__bulk_apply_keys(&c->b, r, ncols - c->m->npk);
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
    if (v && uvsql__value_is_str(v))
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
    if (v && uvsql__value_is_str(v)) {
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
  if (c->sync == UVSQL_SYNC_EVALUATE) { /* bulk_sync.c invariant 1 */
    uvsql_error_t err;
    if (uvsql__bulk_evaluate(&c->b, &c->matched, &c->nmatched, &err)) {
      done_err(c, &err);
      return;
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
  c->b = (uvsql__bulk_t){s, c->m, c->stmt, c->params, c->nparams, c->kind == UVSQL__DML_DELETE};
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
                                 const uvsql_param_t *params, size_t nparams, core_mode_t mode,
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
