/* src/sql/execute.c — running Core statements through the engine: compile for the engine's
 * dialect (cached on the statement), add the embedded values to the caller's params, and hand
 * the text statement to uvsql_engine_execute / uvsql_conn_execute. create_all and drop_all
 * run their DDL in order on one checked-out connection.
 *
 * This file is the one place where src/sql/ calls the engine, and only through its public
 * API (plus the loop's future helpers to fail a future from the loop).
 *
 * DDL job states:  CHECKOUT --conn--> RUNNING(i) --done--> RUNNING(i+1) ... --last--> release,
 * resolve; any failure: release (if held), fail the job's future with that error, free.
 */
#include <stdlib.h>
#include <string.h>
#include "dialect.h"

static uvsql_future_t *failed(uv_loop_t *loop, const uvsql_error_t *err, uvsql_future_cb cb,
                              void *data) {
  uvsql_future_t *f = uvsql__future_new(loop);
  if (!f)
    return NULL;
  uvsql__future_fail_soon(f, err);
  return uvsql__future_return(f, cb, data);
}

static int is_expanded(const uvsql__core_compiled_t *cc, const char *name) {
  for (size_t i = 0; name && i < cc->nexpanding; i++)
    if (strcmp(cc->expanding[i], name) == 0)
      return 1;
  return 0;
}

/* Compiles s for dialect and merges params; calls run(target, text, merged...). */
typedef uvsql_future_t *(*run_fn)(void *target, uvsql_stmt_t *stmt, const uvsql_param_t *p,
                                  size_t n, uvsql_future_cb cb, void *data);

static uvsql_future_t *execute(void *target, uv_loop_t *loop, const char *dialect, run_fn run,
                               uvsql_core_stmt_t *s, const uvsql_param_t *params, size_t n,
                               uvsql_future_cb cb, void *data) {
  uvsql_error_t err;
  const uvsql__sql_dialect_t *d = uvsql__sql_dialect_find(dialect);
  if (!s || (n && !params)) {
    uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT,
                     "execute_core: a statement is required (and params when nparams > 0)");
    return failed(loop, &err, cb, data);
  }
  if (!d) {
    uvsql__error_set(&err, UVSQL_ENOT_SUPPORTED, "Core has no SQL dialect for %s", dialect);
    return failed(loop, &err, cb, data);
  }
  const uvsql__core_compiled_t *cc;
  if (uvsql__compiled(s, d, params, n, &cc, &err) != 0)
    return failed(loop, &err, cb, data);
  size_t total = cc->nvalues + n;
  uvsql_param_t stack[32];
  uvsql_param_t *merged = total <= 32 ? stack : malloc(total * sizeof *merged);
  if (!merged) {
    uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory executing a statement");
    return failed(loop, &err, cb, data);
  }
  if (cc->nvalues)
    memcpy(merged, cc->values, cc->nvalues * sizeof *merged);
  size_t k = cc->nvalues;
  for (size_t i = 0; i < n; i++)
    if (!is_expanded(cc, params[i].name))
      merged[k++] = params[i];
  /* The engine copies params and takes its own reference on the text statement. */
  uvsql_future_t *f = run(target, cc->text, merged, k, cb, data);
  if (merged != stack)
    free(merged);
  return f;
}

static uvsql_future_t *run_engine(void *target, uvsql_stmt_t *stmt, const uvsql_param_t *p,
                                  size_t n, uvsql_future_cb cb, void *data) {
  return uvsql_engine_execute(target, stmt, p, n, cb, data);
}

static uvsql_future_t *run_conn(void *target, uvsql_stmt_t *stmt, const uvsql_param_t *p, size_t n,
                                uvsql_future_cb cb, void *data) {
  return uvsql_conn_execute(target, stmt, p, n, cb, data);
}

uvsql_future_t *uvsql_engine_execute_core(uvsql_engine_t *e, uvsql_core_stmt_t *s,
                                          const uvsql_param_t *params, size_t nparams,
                                          uvsql_future_cb cb, void *data) {
  if (!e)
    return NULL;
  return execute(e, uvsql_engine_loop(e), uvsql_engine_dialect(e), run_engine, s, params, nparams,
                 cb, data);
}

uvsql_future_t *uvsql_conn_execute_core(uvsql_conn_t *c, uvsql_core_stmt_t *s,
                                        const uvsql_param_t *params, size_t nparams,
                                        uvsql_future_cb cb, void *data) {
  if (!c)
    return NULL;
  uvsql_engine_t *e = uvsql_conn_engine(c);
  return execute(c, uvsql_engine_loop(e), uvsql_engine_dialect(e), run_conn, s, params, nparams, cb,
                 data);
}

/* A stream's extra arguments ride in the target (execute() passes it through). */
typedef struct {
  uvsql_conn_t *conn;
  size_t batch_rows;
  uvsql_batch_cb on_batch;
  void *batch_data;
} stream_target_t;

static uvsql_future_t *run_stream(void *target, uvsql_stmt_t *stmt, const uvsql_param_t *p,
                                  size_t n, uvsql_future_cb cb, void *data) {
  stream_target_t *t = target;
  return uvsql_conn_stream(t->conn, stmt, p, n, t->batch_rows, t->on_batch, t->batch_data, cb,
                           data);
}

uvsql_future_t *uvsql_conn_stream_core(uvsql_conn_t *c, uvsql_core_stmt_t *s,
                                       const uvsql_param_t *params, size_t nparams,
                                       size_t batch_rows, uvsql_batch_cb on_batch, void *batch_data,
                                       uvsql_future_cb cb, void *data) {
  if (!c)
    return NULL;
  uvsql_engine_t *e = uvsql_conn_engine(c);
  stream_target_t t = {c, batch_rows, on_batch, batch_data};
  return execute(&t, uvsql_engine_loop(e), uvsql_engine_dialect(e), run_stream, s, params, nparams,
                 cb, data);
}

/* ------------------------------------------------------------------ create_all / drop_all */

typedef struct {
  uvsql_engine_t *e;
  uvsql_conn_t *conn;
  uvsql_future_t *f; /* the job's reference */
  uvsql_core_stmt_t **stmts;
  size_t n, i;
} ddl_job_t;

static void job_free(ddl_job_t *j) {
  for (size_t i = 0; i < j->n; i++)
    uvsql_core_stmt_free(j->stmts[i]);
  free(j->stmts);
  uvsql_future_unref(j->f);
  free(j);
}

static void job_finish(ddl_job_t *j, const uvsql_error_t *err) {
  if (j->conn)
    uvsql_conn_release(j->conn);
  if (err)
    uvsql__future_fail(j->f, err);
  else
    uvsql__future_resolve(j->f, NULL, NULL);
  job_free(j);
}

static void job_step(uvsql_future_t *f, void *data) {
  ddl_job_t *j = data;
  if (f) {
    const uvsql_error_t *err = uvsql_future_error(f);
    if (err) {
      uvsql_error_t copy = *err; /* f is freed after this callback */
      job_finish(j, &copy);
      return;
    }
    if (!j->conn)
      j->conn = uvsql_future_value(f);
  }
  if (j->i == j->n) {
    job_finish(j, NULL);
    return;
  }
  uvsql_conn_execute_core(j->conn, j->stmts[j->i++], NULL, 0, job_step, j);
}

/* One CREATE TYPE (or DROP TYPE) per ENUM type the tables use, each type once (by name). */
static void add_enum_types(ddl_job_t *j, uvsql_table_t **sorted, size_t nt, int create) {
  size_t first = j->n;
  for (size_t k = 0; k < nt; k++) {
    uvsql_table_t *t = sorted[k];
    for (uint32_t x = 0; x < t->columns.n; x++) {
      const uvsql_column_t *col = t->columns.items[x];
      const uvsql_enum_type_t *e = col->type.enum_type;
      int seen = 0;
      if (col->type.kind != UVSQL_SQLT_ENUM || !e)
        continue;
      for (size_t y = first; y < j->n && !seen; y++) {
        const uvsql_core_stmt_t *o = j->stmts[y];
        const uvsql_column_t *oc = o ? o->table->columns.items[o->ddl_index] : NULL;
        seen = oc && (oc->type.enum_type == e || (e->name && oc->type.enum_type->name &&
                                                  strcmp(oc->type.enum_type->name, e->name) == 0));
      }
      if (!seen)
        j->stmts[j->n++] = uvsql__enum_type_ddl(t, x, create);
    }
  }
}

static uvsql_future_t *run_ddl(uvsql_metadata_t *md, uvsql_engine_t *e, int create,
                               uvsql_future_cb cb, void *data) {
  uvsql_error_t err;
  if (!e)
    return NULL;
  uv_loop_t *loop = uvsql_engine_loop(e);
  const uvsql__sql_dialect_t *d = uvsql__sql_dialect_find(uvsql_engine_dialect(e));
  if (!md || !d) {
    uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT, "create_all/drop_all: %s",
                     md ? "no SQL dialect for this engine" : "metadata is NULL");
    return failed(loop, &err, cb, data);
  }
  if (md->err.code)
    return failed(loop, &md->err, cb, data);
  uvsql_table_t **sorted;
  size_t nt;
  if (uvsql__sort_tables(md, &sorted, &nt, &err))
    return failed(loop, &err, cb, data);
  size_t total = 0;
  int alter = (d->features & UVSQL__D_ALTER_FK) != 0;  /* use_alter keys apart (ddl.c) */
  int enums = (d->features & UVSQL__D_ENUM_TYPE) != 0; /* CREATE TYPE / DROP TYPE (ddl.c) */
  for (size_t i = 0; i < nt; i++) {
    total += create ? 1 + sorted[i]->indexes.n : 1;
    for (uint32_t k = 0; enums && k < sorted[i]->columns.n; k++)
      total += ((uvsql_column_t *)sorted[i]->columns.items[k])->type.kind == UVSQL_SQLT_ENUM;
    for (uint32_t k = 0; alter && k < sorted[i]->fks.n; k++)
      total += ((uvsql__fk_t *)sorted[i]->fks.items[k])->use_alter;
  }
  ddl_job_t *j = calloc(1, sizeof *j);
  if (!j || !(j->stmts = calloc(total ? total : 1, sizeof *j->stmts)) ||
      !(j->f = uvsql__future_new(loop))) {
    free(sorted);
    if (j)
      free(j->stmts);
    free(j);
    uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory");
    return failed(loop, &err, cb, data);
  }
  j->e = e;
  for (size_t k = 0; alter && !create && k < nt; k++) /* drop_all: the cycle-closing keys first */
    for (uint32_t x = 0; x < sorted[k]->fks.n; x++)
      if (((uvsql__fk_t *)sorted[k]->fks.items[x])->use_alter)
        j->stmts[j->n++] = uvsql__alter_fk(sorted[k], x, 0);
  if (enums && create) /* the types before the tables that use them */
    add_enum_types(j, sorted, nt, 1);
  for (size_t k = 0; k < nt; k++) {
    uvsql_table_t *t = sorted[create ? k : nt - 1 - k];
    if (!create) {
      j->stmts[j->n++] = uvsql_drop_table(t);
      continue;
    }
    j->stmts[j->n++] = uvsql_create_table(t);
    for (size_t x = 0; x < t->indexes.n; x++)
      j->stmts[j->n++] = uvsql_create_index(t, x);
  }
  if (enums && !create) /* after the tables that use them */
    add_enum_types(j, sorted, nt, 0);
  for (size_t k = 0; alter && create && k < nt; k++) /* create_all: after every table */
    for (uint32_t x = 0; x < sorted[k]->fks.n; x++)
      if (((uvsql__fk_t *)sorted[k]->fks.items[x])->use_alter)
        j->stmts[j->n++] = uvsql__alter_fk(sorted[k], x, 1);
  free(sorted);
  /* Compile everything now: a schema mistake fails before anything is created. */
  for (size_t k = 0; k < j->n; k++) {
    const uvsql__core_compiled_t *cc;
    if (!j->stmts[k]) {
      uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory");
    } else if (uvsql__compiled(j->stmts[k], d, NULL, 0, &cc, &err) == 0) {
      continue;
    }
    uvsql_future_t *f = uvsql_future_ref(j->f);
    uvsql__future_fail_soon(j->f, &err);
    job_free(j);
    return uvsql__future_return(f, cb, data);
  }
  uvsql_future_t *f = uvsql_future_ref(j->f);
  if (!uvsql_engine_connect(e, job_step, j)) { /* cb owns that future */
    uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory checking out a connection for %s",
                     create ? "create_all" : "drop_all");
    uvsql__future_fail_soon(j->f, &err);
    job_free(j);
  }
  return uvsql__future_return(f, cb, data);
}

uvsql_future_t *uvsql_metadata_create_all(uvsql_metadata_t *md, uvsql_engine_t *e,
                                          uvsql_future_cb cb, void *data) {
  return run_ddl(md, e, 1, cb, data);
}

uvsql_future_t *uvsql_metadata_drop_all(uvsql_metadata_t *md, uvsql_engine_t *e, uvsql_future_cb cb,
                                        void *data) {
  return run_ddl(md, e, 0, cb, data);
}
