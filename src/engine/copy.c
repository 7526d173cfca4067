/* src/engine/copy.c — bulk copy in and out of a table (uvsql_engine_copy_in / copy_out).
 *
 * A copy_t owns its request, the SQL it built, one reference on its future, and the pooled
 * connection it checked out (never shared), from checkout to release:
 *
 *   WAITING (checkout) --conn--> RUNNING --> release, settle, free
 *
 * PostgreSQL (the driver's COPY requests, driver.h): one request, "probe; COPY ...", whose
 * rows come from the source through pg_source (copy_in) or go to the consumer through
 * uvsql__stream_batch (copy_out).
 * The INSERT path (MariaDB, SQLite; PostgreSQL with use_insert): BEGIN, then per batch of the
 * source one multi-row INSERT whose parameters are the source's values (borrowed: the source
 * is asked again only after that INSERT is done), then COMMIT; any failure, the source's stop
 * or a cancel: ROLLBACK, then the future fails. The INSERT text for a full batch is built once
 * (the statement cache then prepares it once).
 * copy_out on MariaDB and SQLite is uvsql_engine_stream of the query.
 *
 * Invariants: the future settles exactly once, after the connection is released; the source
 * is never called after a failure, a cancel, or its own end.
 */
#include <ctype.h>
#include <strings.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "uvsql/listen_copy.h"

#define DEFAULT_BATCH_ROWS 1000

typedef enum { M_PG_IN, M_PG_OUT, M_INSERT } method_t;
typedef enum { P_BEGIN, P_INSERT, P_COMMIT, P_ROLLBACK } phase_t;

typedef struct copy_s {
  uvsql__request_t req; /* first: the driver hands it back */
  uvsql__waiter_t waiter;
  uvsql_engine_t *e;
  uvsql_conn_t *conn;
  uvsql_future_t *f;
  method_t method;
  int running; /* checked out */
  int cancelled;
  uvsql_copy_source_cb source;
  void *source_data;
  size_t batch_rows, ncols;
  uvsql_copy_summary_t sum;
  uvsql__stream_t stream; /* copy_out */
  char *sql;              /* PostgreSQL: the COPY request's text */
  /* INSERT path */
  phase_t phase;
  char *prefix; /* "INSERT INTO t (a, b) VALUES " */
  char *full;   /* the INSERT for batch_rows rows */
  char *part;   /* the INSERT for a shorter last batch */
  uvsql_error_t err;
  int failed;
} copy_t;

/* ------------------------------------------------------------------ helpers */

static uvsql_future_t *failed(uv_loop_t *loop, const uvsql_error_t *err, uvsql_future_cb cb,
                              void *data) {
  uvsql_future_t *f = uvsql__future_new(loop);
  if (!f)
    return NULL;
  uvsql__future_fail_soon(f, err);
  return uvsql__future_return(f, cb, data);
}

typedef struct {
  char *p;
  size_t len, cap;
  int oom;
} sbuf_t;

static void sb_put(sbuf_t *b, const char *s, size_t n) {
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 256;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void sb_str(sbuf_t *b, const char *s) {
  sb_put(b, s, strlen(s));
}

/* An identifier quoted for the engine's backend ("x" or `x`, the quote doubled); with dots
 * (table names only), each part. */
static void sb_ident(sbuf_t *b, const uvsql_engine_t *e, const char *name, int dotted) {
  char q = strcmp(e->driver->name, "mariadb") == 0 ? '`' : '"';
  sb_put(b, &q, 1);
  for (const char *s = name; *s; s++) {
    if (dotted && *s == '.') {
      sb_put(b, &q, 1);
      sb_put(b, ".", 1);
      sb_put(b, &q, 1);
      continue;
    }
    if (*s == q)
      sb_put(b, &q, 1);
    sb_put(b, s, 1);
  }
  sb_put(b, &q, 1);
}

static void sb_columns(sbuf_t *b, const uvsql_engine_t *e, const char *const *cols, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (i)
      sb_str(b, ", ");
    sb_ident(b, e, cols[i], 0);
  }
}

/* 1 when text is a query (starts with SELECT, WITH, VALUES or TABLE and a blank). */
static int is_query(const char *s) {
  static const char *kw[] = {"select", "with", "values", "table"};
  while (isspace((unsigned char)*s))
    s++;
  for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++) {
    size_t n = strlen(kw[i]);
    if (strncasecmp(s, kw[i], n) == 0 && (isspace((unsigned char)s[n]) || s[n] == '('))
      return 1;
  }
  return 0;
}

static void copy_free(copy_t *x) {
  free(x->sql);
  free(x->prefix);
  free(x->full);
  free(x->part);
  uvsql_future_unref(x->f);
  free(x);
}

/* Releases the connection, settles the future, frees x. */
static void finish(copy_t *x, const uvsql_error_t *err) {
  uvsql_future_t *f = uvsql_future_ref(x->f);
  if (x->conn)
    uvsql__pool_release(x->conn);
  x->conn = NULL;
  if (x->method == M_PG_OUT) {
    uvsql__stream_settle(&x->stream, f, err);
  } else if (err) {
    uvsql__future_fail(f, err);
  } else {
    uvsql_copy_summary_t *sum = malloc(sizeof *sum);
    if (!sum) {
      uvsql__future_fail_code(
          f, UVSQL_ENOMEM, "out of memory at the end of a copy of %" PRIu64 " rows", x->sum.rows);
    } else {
      *sum = x->sum;
      uvsql__future_resolve(f, sum, free);
    }
  }
  uvsql_future_unref(f);
  copy_free(x);
}

/* A request of x's is done: the connection's bookkeeping, as execute.c's exec_done. */
static void conn_after(copy_t *x, const uvsql_error_t *err) {
  uvsql_conn_t *c = x->conn;
  c->inflight--;
  if (err && err->code == UVSQL_EDISCONNECT) {
    c->in_tx = 0;
    uvsql__pool_disconnected(c);
  }
}

/* ------------------------------------------------------------------ PostgreSQL COPY */

static int pg_source(uvsql__request_t *req, const uvsql_value_t **rows, size_t *nrows,
                     uvsql_error_t *err) {
  copy_t *x = (copy_t *)req;
  size_t n = 0;
  const uvsql_value_t *r = NULL;
  int rc = x->source(x->batch_rows, &r, &n, x->source_data);
  if (rc != 0)
    return uvsql__error_set(err, UVSQL_ECANCELLED,
                            "the row source returned %d after %" PRIu64
                            " rows: the copy was abandoned and nothing was written",
                            rc, x->sum.rows);
  if (n > x->batch_rows || (n && !r))
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "the row source gave %zu rows%s where at most %zu were asked for: "
                            "nothing was written",
                            n, n && !r ? " and a NULL rows pointer" : "", x->batch_rows);
  if (n)
    x->sum.batches++;
  x->sum.rows += n;
  *rows = r;
  *nrows = n;
  return 0;
}

static int pg_batch(uvsql__request_t *req, uvsql_result_t *rows) {
  copy_t *x = (copy_t *)req;
  return uvsql__stream_batch(&x->stream, rows);
}

static void pg_done(uvsql__request_t *req, uvsql_result_t *result, const uvsql_error_t *err) {
  copy_t *x = (copy_t *)req;
  conn_after(x, err);
  if (!err && result && x->method == M_PG_IN) {
    int64_t n = uvsql_result_rows_affected(result);
    if (n >= 0)
      x->sum.rows = (uint64_t)n; /* the server's count */
  }
  uvsql_result_free(result);
  finish(x, err);
}

/* ------------------------------------------------------------------ the INSERT path */

static void ins_step(copy_t *x);

static void ins_done(uvsql__request_t *req, uvsql_result_t *result, const uvsql_error_t *err) {
  copy_t *x = (copy_t *)req;
  uvsql_result_free(result);
  conn_after(x, err);
  if (x->phase == P_ROLLBACK || (err && err->code == UVSQL_EDISCONNECT)) {
    if (err && !x->failed) {
      x->err = *err;
      x->failed = 1;
    }
    x->conn->in_tx = 0;
    finish(x, &x->err);
    return;
  }
  if (err) {
    x->err = *err;
    x->failed = 1;
  } else if (x->phase == P_COMMIT) {
    x->conn->in_tx = 0;
    finish(x, NULL);
    return;
  } else if (x->phase == P_BEGIN) {
    x->conn->in_tx = 1;
  }
  ins_step(x);
}

static void ins_submit(copy_t *x, phase_t phase, const char *sql, const uvsql_value_t *params,
                       size_t nparams) {
  memset(&x->req, 0, sizeof x->req);
  x->phase = phase;
  x->req.sql = sql;
  x->req.sql_len = strlen(sql);
  x->req.params = params;
  x->req.nparams = (int)nparams;
  x->req.flags = phase == P_INSERT ? 0 : UVSQL__REQ_NO_PREPARE;
  x->req.done = ins_done;
  x->req.data = x;
  uvsql__conn_submit(x->conn, &x->req);
}

/* The INSERT for n rows, in the driver's placeholder style. NULL on OOM. */
static char *insert_sql(const copy_t *x, size_t n) {
  sbuf_t b = {0};
  char ph[32];
  size_t k = 1;
  sb_str(&b, x->prefix);
  for (size_t r = 0; r < n; r++) {
    sb_str(&b, r ? ", (" : "(");
    for (size_t c = 0; c < x->ncols; c++, k++) {
      switch (x->e->driver->paramstyle) {
      case UVSQL__PARAMSTYLE_DOLLAR:
        snprintf(ph, sizeof ph, "%s$%zu", c ? ", " : "", k);
        break;
      case UVSQL__PARAMSTYLE_NUMBERED:
        snprintf(ph, sizeof ph, "%s?%zu", c ? ", " : "", k);
        break;
      default:
        snprintf(ph, sizeof ph, "%s?", c ? ", " : "");
        break;
      }
      sb_str(&b, ph);
    }
    sb_str(&b, ")");
  }
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  return b.p;
}

static void ins_step(copy_t *x) {
  const uvsql_value_t *rows = NULL;
  size_t n = 0;
  if (!x->failed && x->cancelled) {
    uvsql__error_set(&x->err, UVSQL_ECANCELLED,
                     "the copy was cancelled after %" PRIu64
                     " rows: they were rolled back, nothing was written",
                     x->sum.rows);
    x->failed = 1;
  }
  if (!x->failed) {
    int rc = x->source(x->batch_rows, &rows, &n, x->source_data);
    if (rc != 0) {
      uvsql__error_set(&x->err, UVSQL_ECANCELLED,
                       "the row source returned %d after %" PRIu64
                       " rows: the copy was abandoned and nothing was written",
                       rc, x->sum.rows);
      x->failed = 1;
    } else if (n > x->batch_rows || (n && !rows)) {
      uvsql__error_set(&x->err, UVSQL_EINVALID_ARGUMENT,
                       "the row source gave %zu rows%s where at most %zu were asked for: "
                       "nothing was written",
                       n, n && !rows ? " and a NULL rows pointer" : "", x->batch_rows);
      x->failed = 1;
    }
  }
  if (x->failed) {
    ins_submit(x, P_ROLLBACK, "ROLLBACK", NULL, 0);
    return;
  }
  if (n == 0) {
    ins_submit(x, P_COMMIT, "COMMIT", NULL, 0);
    return;
  }
  const char *sql;
  if (n == x->batch_rows) {
    if (!x->full)
      x->full = insert_sql(x, n);
    sql = x->full;
  } else {
    free(x->part);
    sql = x->part = insert_sql(x, n);
  }
  if (!sql) {
    uvsql__error_set(&x->err, UVSQL_ENOMEM, "out of memory building an INSERT for a copy");
    x->failed = 1;
    ins_submit(x, P_ROLLBACK, "ROLLBACK", NULL, 0);
    return;
  }
  x->sum.rows += n;
  x->sum.batches++;
  ins_submit(x, P_INSERT, sql, rows, n * x->ncols);
}

/* ------------------------------------------------------------------ checkout and cancel */

static void got_conn(uvsql__waiter_t *w, uvsql_conn_t *c, const uvsql_error_t *err) {
  copy_t *x = (copy_t *)((char *)w - offsetof(copy_t, waiter));
  if (err) {
    finish(x, err);
    return;
  }
  x->conn = c;
  x->running = 1;
  if (x->method == M_INSERT) {
    uvsql_error_t e;
    const char *begin = x->e->driver->begin_write_sql;
    if (!begin)
      begin = x->e->driver->begin_sql(UVSQL_ISOLATION_DEFAULT, &e);
    ins_submit(x, P_BEGIN, begin ? begin : "BEGIN", NULL, 0);
    return;
  }
  memset(&x->req, 0, sizeof x->req);
  x->req.sql = x->sql;
  x->req.sql_len = strlen(x->sql);
  x->req.flags = x->method == M_PG_IN ? UVSQL__REQ_COPY_IN : UVSQL__REQ_COPY_OUT;
  x->req.done = pg_done;
  x->req.data = x;
  x->req.source = pg_source;
  x->req.ncolumns = x->ncols;
  x->req.batch = pg_batch;
  x->req.batch_rows = x->batch_rows;
  uvsql__conn_submit(c, &x->req);
}

static int copy_cancel(void *data) {
  copy_t *x = data;
  if (!x->running) {
    if (uvsql__pool_withdraw(x->e, &x->waiter)) {
      uvsql_error_t err;
      uvsql__error_set(&err, UVSQL_ECANCELLED, "cancelled while waiting for a pooled connection");
      finish(x, &err);
    }
    return 0;
  }
  x->cancelled = 1;
  if (x->method == M_INSERT)
    return 0; /* the next step rolls back */
  return uvsql__kit_deadlines_cancel(&x->conn->dl, x->conn->dc, &x->req);
}

static uvsql_future_t *start(copy_t *x, uvsql_future_cb cb, void *data) {
  uvsql_future_t *f;
  uvsql_error_t err;
  if (!(x->f = uvsql__future_new(x->e->loop))) {
    uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory starting a copy");
    uv_loop_t *loop = x->e->loop;
    copy_free(x);
    return failed(loop, &err, cb, data);
  }
  uvsql__future_set_canceller(x->f, copy_cancel, x);
  f = uvsql_future_ref(x->f);
  x->waiter.cb = got_conn;
  x->waiter.shareable = 0; /* a copy holds its connection to itself */
  uvsql__pool_checkout(x->e, &x->waiter);
  return uvsql__future_return(f, cb, data);
}

/* ------------------------------------------------------------------ the API */

uvsql_future_t *uvsql_engine_copy_in(uvsql_engine_t *e, const char *table,
                                     const char *const *columns, size_t ncolumns,
                                     uvsql_copy_source_cb source, void *source_data,
                                     const uvsql_copy_options_t *opt, uvsql_future_cb cb,
                                     void *data) {
  uvsql_error_t err;
  copy_t *x;
  sbuf_t b = {0};
  if (!e)
    return NULL;
  if (!table || !*table || !columns || ncolumns == 0 || !source) {
    uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT,
                     "uvsql_engine_copy_in: a table name, at least one column and a row source "
                     "are required");
    return failed(e->loop, &err, cb, data);
  }
  for (size_t i = 0; i < ncolumns; i++)
    if (!columns[i] || !*columns[i]) {
      uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT,
                       "uvsql_engine_copy_in: column %zu has no name: give each column's name", i);
      return failed(e->loop, &err, cb, data);
    }
  if (!(x = calloc(1, sizeof *x))) {
    uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory starting a copy");
    return failed(e->loop, &err, cb, data);
  }
  x->e = e;
  x->source = source;
  x->source_data = source_data;
  x->ncols = ncolumns;
  x->batch_rows = opt && opt->batch_rows ? opt->batch_rows : DEFAULT_BATCH_ROWS;
  if (strcmp(e->driver->name, "postgresql") == 0 && !(opt && opt->use_insert)) {
    x->method = M_PG_IN;
    sb_str(&b, "SELECT ");
    sb_columns(&b, e, columns, ncolumns);
    sb_str(&b, " FROM ");
    sb_ident(&b, e, table, 1);
    sb_str(&b, " LIMIT 0; COPY ");
    sb_ident(&b, e, table, 1);
    sb_str(&b, " (");
    sb_columns(&b, e, columns, ncolumns);
    sb_str(&b, ") FROM STDIN (FORMAT binary)");
    x->sql = b.p;
  } else {
    size_t per = (size_t)e->driver->max_params / ncolumns;
    if (per == 0) {
      free(x);
      uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT,
                       "uvsql_engine_copy_in: %zu columns: %s takes at most %d parameters per "
                       "statement",
                       ncolumns, e->driver->name, e->driver->max_params);
      return failed(e->loop, &err, cb, data);
    }
    if (x->batch_rows > per)
      x->batch_rows = per;
    x->method = M_INSERT;
    sb_str(&b, "INSERT INTO ");
    sb_ident(&b, e, table, 1);
    sb_str(&b, " (");
    sb_columns(&b, e, columns, ncolumns);
    sb_str(&b, ") VALUES ");
    x->prefix = b.p;
  }
  if (b.oom) {
    copy_free(x);
    uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory starting a copy");
    return failed(e->loop, &err, cb, data);
  }
  return start(x, cb, data);
}

uvsql_future_t *uvsql_engine_copy_out(uvsql_engine_t *e, const char *from, uvsql_batch_cb on_batch,
                                      void *batch_data, const uvsql_copy_options_t *opt,
                                      uvsql_future_cb cb, void *data) {
  uvsql_error_t err;
  copy_t *x;
  sbuf_t q = {0}, b = {0};
  size_t batch_rows = opt && opt->batch_rows ? opt->batch_rows : DEFAULT_BATCH_ROWS;
  if (!e)
    return NULL;
  if (!from || !*from || !on_batch) {
    uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT,
                     "uvsql_engine_copy_out: a table name or query and on_batch are required");
    return failed(e->loop, &err, cb, data);
  }
  if (is_query(from)) {
    sb_str(&q, from);
  } else {
    sb_str(&q, "SELECT * FROM ");
    sb_ident(&q, e, from, 1);
  }
  if (q.oom) {
    free(q.p);
    uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory starting a copy");
    return failed(e->loop, &err, cb, data);
  }
  if (strcmp(e->driver->name, "postgresql") != 0) {
    uvsql_stmt_t *stmt;
    uvsql_future_t *f;
    if (uvsql_text(&stmt, q.p, &err) != 0) {
      free(q.p);
      return failed(e->loop, &err, cb, data);
    }
    free(q.p);
    f = uvsql_engine_stream(e, stmt, NULL, 0, batch_rows, on_batch, batch_data, cb, data);
    uvsql_stmt_free(stmt);
    return f;
  }
  if (!(x = calloc(1, sizeof *x))) {
    free(q.p);
    uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory starting a copy");
    return failed(e->loop, &err, cb, data);
  }
  x->e = e;
  x->method = M_PG_OUT;
  x->batch_rows = batch_rows;
  x->stream.on_batch = on_batch;
  x->stream.data = batch_data;
  x->stream.batch_rows = batch_rows;
  sb_str(&b, "SELECT * FROM (");
  sb_str(&b, q.p);
  sb_str(&b, ") AS uvsql_copy LIMIT 0; COPY (");
  sb_str(&b, q.p);
  sb_str(&b, ") TO STDOUT (FORMAT binary)");
  free(q.p);
  x->sql = b.p;
  if (b.oom) {
    copy_free(x);
    uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory starting a copy");
    return failed(e->loop, &err, cb, data);
  }
  return start(x, cb, data);
}
