/* src/orm/stream_query.c — uvsql_session_stream_query: an ORM query streamed in batches with
 * its selectin eager loaders run per batch (SQLAlchemy's yield_per with selectinload).
 *
 * A query without eager loaders is uvsql_session_stream of its select (stream.c: the engine's
 * streamed results). With selectin loaders, each batch's relationship SELECTs must run on the
 * session's connection (its transaction) between two batches, which an engine stream does not
 * allow (the connection is busy until its last row). So the rows come through a cursor of the
 * transaction, fetched batch by batch with ordinary statements:
 *
 *   PostgreSQL  DECLARE uvsql_orm_stream NO SCROLL CURSOR FOR <select>; FETCH FORWARD n FROM
 *               uvsql_orm_stream (a server-side cursor, the rows read as fetched); CLOSE.
 *   MariaDB     CREATE TEMPORARY TABLE uvsql_orm_stream (uvsql_seq ... AUTO_INCREMENT PRIMARY
 *               KEY) <select> (the rows numbered in the select's order, kept by the server, as
 *               a server-side cursor of the binary protocol would); SELECT * ... WHERE
 *               uvsql_seq > :last ORDER BY uvsql_seq LIMIT n; DROP TEMPORARY TABLE.
 *   SQLite      CREATE TEMP TABLE uvsql_orm_stream AS <select> (rowids in the select's order);
 *               SELECT rowid, * ... WHERE rowid > :last ORDER BY rowid LIMIT n; DROP TABLE.
 *
 * States: open --ok--> fetch --rows--> load objects --> selectin (loader_selectin.c) -->
 * on_batch --> release --> fetch ... --fewer rows than a batch, none, or on_batch stops-->
 * close --> settle with a uvsql_stream_summary_t. Any error --> close (not on PostgreSQL,
 * where the failed transaction must be rolled back, which closes the cursor) --> settle with
 * the first error.
 *
 * Invariants:
 *  1. Joined eager loading is refused before anything is sent (as SQLAlchemy refuses joined
 *     loading with yield_per): a parent's joined rows could span two batches.
 *  2. The objects a batch brought into the session (its rows and everything its loaders
 *     loaded: those owned after the tail before the fetch) are released after on_batch,
 *     except the ones reachable through loaded relationships from an object that stays (kept
 *     with uvsql_session_keep, changed, marked for deletion, or owned by the session before
 *     the batch): so no object that stays points at a freed one. Memory is bounded by a
 *     batch, its related objects, and what the caller keeps.
 *  3. One statement at a time on the connection; s->nstatements counts each.
 *  4. Once the caller cancelled the future (uvsql__session_custom_abandoned), on_batch is never
 *     called again: the stream ends as if on_batch had stopped it (the cursor is closed), or
 *     does not start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loader.h"

#define CURSOR "uvsql_orm_stream"

enum { K_PG, K_MARIADB, K_SQLITE };

typedef struct {
  uvsql_session_t *s;
  uvsql_orm_query_t *q;  /* borrowed from the caller */
  uvsql_param_t *params; /* the caller's (one block, uvsql__params_copy) */
  size_t nparams, batch_rows;
  uvsql_orm_batch_cb on_batch;
  void *batch_data;
  int kind;
  size_t col0; /* the mapper's first column in a fetched row (after the sequence) */
  uvsql_stmt_t *fetch, *close;
  int64_t last; /* MariaDB, SQLite: the sequence number of the last row fetched */
  uvsql_stream_summary_t sum;
  int failed, sql_failed;
  uvsql_error_t err;
  uvsql__obj_t *mark; /* the owned tail before the batch (invariant 2) */
  void **objs;        /* the batch's objects, row order */
  size_t nobjs;
  int last_batch;
} sq_t;

static void sq_free(void *p) {
  sq_t *x = p;
  free(x->params);
  free(x->objs);
  uvsql_stmt_free(x->fetch);
  uvsql_stmt_free(x->close);
  free(x);
}

static void fetch(sq_t *x);

static void fail(sq_t *x, const uvsql_error_t *err) {
  if (!x->failed) {
    x->failed = 1;
    x->err = *err;
  }
}

static void settle(sq_t *x) {
  if (x->failed) {
    uvsql_error_t err = x->err;
    uvsql__session_custom_done(x->s, NULL, NULL, &err);
    return;
  }
  uvsql_stream_summary_t *sum = malloc(sizeof *sum);
  if (!sum) {
    uvsql_error_t err;
    uvsql__error_set(&err, UVSQL_ENOMEM, "uvsql_session_stream_query: out of memory");
    uvsql__session_custom_done(x->s, NULL, NULL, &err);
    return;
  }
  *sum = x->sum;
  uvsql__session_custom_done(x->s, sum, free, NULL);
}

static void closed(uvsql_future_t *f, void *data) {
  sq_t *x = data;
  const uvsql_error_t *ferr = uvsql_future_error(f);
  if (ferr)
    fail(x, ferr); /* only reported when nothing failed before */
  settle(x);
}

static void close_cursor(sq_t *x) {
  if (x->kind == K_PG && x->sql_failed) { /* the rollback closes it */
    settle(x);
    return;
  }
  x->s->nstatements++;
  if (!uvsql_conn_execute(x->s->conn, x->close, NULL, 0, closed, x)) {
    uvsql_error_t err;
    uvsql__error_set(&err, UVSQL_ENOMEM, "uvsql_session_stream_query: out of memory");
    fail(x, &err);
    settle(x);
  }
}

/* Invariant 2: marks UVSQL__OF_KEEP on the batch's objects (in `fresh`, by pointer) that are
 * reachable from obj through loaded relationships; walks on from each newly marked one. */
static int keep_reachable(uvsql__i64map_t *fresh, void *obj, void ***stack, size_t *n,
                          size_t *cap) {
  uvsql__obj_t *h = uvsql__hdr(obj);
  const uvsql_mapper_t *m = h->mapper;
  for (size_t i = 0; i < m->nrels; i++) {
    const uvsql_relationship_t *r = m->rels[i];
    void **items, *one;
    size_t ni;
    if (uvsql__rel_many(r)) {
      uvsql_collection_t *c = uvsql__rel_coll(r, obj);
      items = c->items;
      ni = c->n;
    } else {
      one = *uvsql__rel_ref(r, obj);
      items = &one;
      ni = one != NULL;
    }
    for (size_t k = 0; k < ni; k++) {
      uvsql__obj_t *t = uvsql__i64map_get(fresh, uvsql__ptr_key(items[k]));
      if (!t || (t->flags & UVSQL__OF_KEEP))
        continue;
      t->flags |= UVSQL__OF_KEEP;
      if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        void **v = realloc(*stack, nc * sizeof *v);
        if (!v)
          return UVSQL_ENOMEM;
        *stack = v;
        *cap = nc;
      }
      (*stack)[(*n)++] = items[k];
    }
  }
  return 0;
}

/* Releases the batch's objects that nothing keeps (invariant 2). Out of memory: every object
 * of the batch stays (correct, only not bounded). */
static void release(sq_t *x) {
  uvsql_session_t *s = x->s;
  uvsql__i64map_t fresh;
  memset(&fresh, 0, sizeof fresh);
  void **stack = NULL;
  size_t n = 0, cap = 0;
  int oom = 0;
  uvsql__obj_t *first = x->mark ? x->mark->next : s->owned;
  for (uvsql__obj_t *h = first; h && !oom; h = h->next)
    oom = uvsql__i64map_put(&fresh, uvsql__ptr_key(uvsql__body(h)), h) != 0;
  /* the roots: objects the session had before, and the batch's objects that stay */
  for (uvsql__obj_t *h = s->owned; h && !oom; h = h->next) {
    int before = uvsql__i64map_get(&fresh, uvsql__ptr_key(uvsql__body(h))) == NULL;
    if (!before && !(h->flags & UVSQL__OF_KEEP) && !uvsql_session_is_modified(s, uvsql__body(h)))
      continue;
    if (!before)
      h->flags |= UVSQL__OF_KEEP;
    oom = keep_reachable(&fresh, uvsql__body(h), &stack, &n, &cap) != 0;
    while (!oom && n)
      oom = keep_reachable(&fresh, stack[--n], &stack, &n, &cap) != 0;
  }
  free(stack);
  uvsql__i64map_free(&fresh);
  uvsql__obj_t *h = first;
  while (h) {
    uvsql__obj_t *next = h->next; /* expunge unlinks h */
    if (h->flags & UVSQL__OF_KEEP)
      h->flags &= (uint8_t)~UVSQL__OF_KEEP;
    else if (!oom && uvsql_session_expunge(s, uvsql__body(h)) == 0)
      uvsql__obj_destroy(h);
    h = next;
  }
}

static void loaded(uvsql__load_t *ld, const uvsql_error_t *err) {
  sq_t *x = uvsql__load_data(ld);
  if (err) {
    fail(x, err);
    x->sql_failed = 1;
    free(x->objs);
    x->objs = NULL;
    release(x);
    close_cursor(x);
    return;
  }
  int stop = 1; /* invariant 4 */
  if (!uvsql__session_custom_abandoned(x->s)) {
    x->sum.batches++;
    x->sum.rows += x->nobjs;
    stop = x->on_batch(x->s, x->objs, x->nobjs, x->batch_data) ||
           uvsql__session_custom_abandoned(x->s);
  }
  free(x->objs);
  x->objs = NULL;
  release(x);
  if (stop)
    x->sum.stopped = 1;
  if (stop || x->last_batch)
    close_cursor(x);
  else
    fetch(x);
}

static void fetched(uvsql_future_t *f, void *data) {
  sq_t *x = data;
  uvsql_session_t *s = x->s;
  const uvsql_error_t *ferr = uvsql_future_error(f);
  if (ferr) {
    fail(x, ferr);
    x->sql_failed = 1;
    close_cursor(x);
    return;
  }
  const uvsql_result_t *r = uvsql_future_value(f);
  size_t n = uvsql_result_nrows(r);
  if (n == 0) {
    close_cursor(x);
    return;
  }
  x->last_batch = n < x->batch_rows;
  uvsql_error_t err;
  if (x->col0 && uvsql_result_int64(r, n - 1, 0, &x->last)) {
    uvsql__error_set(&err, UVSQL_EDATA, "uvsql_session_stream_query: cannot read the row number");
    fail(x, &err);
    close_cursor(x);
    return;
  }
  x->mark = s->owned_tail;
  if (uvsql__session_load_at(s, x->q->m, r, x->col0, &x->objs, &x->nobjs, s->populate, &err)) {
    fail(x, &err);
    x->objs = NULL;
    release(x);
    close_cursor(x);
    return;
  }
  uvsql__selectin(s, &x->q->root, x->objs, x->nobjs, loaded, x);
}

static void fetch(sq_t *x) {
  uvsql_param_t p = UVSQL_P_INT64("uvsql_last", x->last);
  x->s->nstatements++;
  if (!uvsql_conn_execute(x->s->conn, x->fetch, &p, x->kind == K_PG ? 0 : 1, fetched, x)) {
    uvsql_error_t err;
    uvsql__error_set(&err, UVSQL_ENOMEM, "uvsql_session_stream_query: out of memory");
    fail(x, &err);
    close_cursor(x);
  }
}

static void opened(uvsql_future_t *f, void *data) {
  sq_t *x = data;
  const uvsql_error_t *ferr = uvsql_future_error(f);
  if (ferr) { /* nothing was made */
    fail(x, ferr);
    settle(x);
    return;
  }
  fetch(x);
}

/* The three statements for the connection's dialect; the open one is returned (the caller
 * frees it), fetch and close go into x. */
static uvsql_stmt_t *build(sq_t *x, const char *dialect, const char *sql, uvsql_error_t *err) {
  static const char *const fmt[3][3] = {
      {"DECLARE " CURSOR " NO SCROLL CURSOR FOR %s", "FETCH FORWARD %zu FROM " CURSOR,
       "CLOSE " CURSOR},
      {"CREATE TEMPORARY TABLE " CURSOR
       " (uvsql_seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY) %s",
       "SELECT * FROM " CURSOR " WHERE uvsql_seq > :uvsql_last ORDER BY uvsql_seq LIMIT %zu",
       "DROP TEMPORARY TABLE IF EXISTS " CURSOR},
      {"CREATE TEMP TABLE " CURSOR " AS %s",
       "SELECT rowid, * FROM temp." CURSOR " WHERE rowid > :uvsql_last ORDER BY rowid LIMIT %zu",
       "DROP TABLE IF EXISTS temp." CURSOR}};
  if (strcmp(dialect, "postgresql") == 0)
    x->kind = K_PG;
  else if (strcmp(dialect, "mariadb") == 0)
    x->kind = K_MARIADB;
  else if (strcmp(dialect, "sqlite") == 0)
    x->kind = K_SQLITE;
  else {
    uvsql__error_set(err, UVSQL_ENOT_SUPPORTED,
                     "uvsql_session_stream_query: no cursor for the %s dialect", dialect);
    return NULL;
  }
  x->col0 = x->kind == K_PG ? 0 : 1;
  size_t len = strlen(sql) + 200;
  char *text = malloc(len);
  uvsql_stmt_t *open = NULL;
  int rc = text ? 0 : UVSQL_ENOMEM;
  if (rc == 0) {
    snprintf(text, len, fmt[x->kind][0], sql);
    rc = uvsql_text(&open, text, err);
  }
  if (rc == 0) {
    snprintf(text, len, fmt[x->kind][1], x->batch_rows);
    rc = uvsql_text(&x->fetch, text, err);
  }
  if (rc == 0)
    rc = uvsql_text(&x->close, fmt[x->kind][2], err);
  free(text);
  if (rc == UVSQL_ENOMEM && (!err || err->code != UVSQL_ENOMEM))
    uvsql__error_set(err, UVSQL_ENOMEM, "uvsql_session_stream_query: out of memory");
  if (rc) {
    uvsql_stmt_free(open);
    return NULL;
  }
  return open;
}

static void run(uvsql_session_t *s, void *ctx) {
  sq_t *x = ctx;
  uvsql_error_t err;
  if (uvsql__session_custom_abandoned(s)) { /* invariant 4: cancelled while BEGIN ran */
    uvsql__session_custom_done(s, NULL, NULL, NULL);
    return;
  }
  const char *dialect = uvsql_engine_dialect(uvsql_conn_engine(s->conn));
  const char *sql;
  const uvsql_param_t *values;
  size_t nvalues;
  s->populate = x->q->populate;
  if (uvsql_core_compile(x->q->stmt, dialect, x->params, x->nparams, &sql, &values, &nvalues,
                         &err) != 0) {
    uvsql__session_custom_done(s, NULL, NULL, &err);
    return;
  }
  uvsql_stmt_t *open = build(x, dialect, sql, &err);
  size_t total = nvalues + x->nparams;
  uvsql_param_t *merged = open ? malloc((total ? total : 1) * sizeof *merged) : NULL;
  if (open && !merged)
    uvsql__error_set(&err, UVSQL_ENOMEM, "uvsql_session_stream_query: out of memory");
  if (!merged) {
    uvsql_stmt_free(open);
    uvsql__session_custom_done(s, NULL, NULL, &err);
    return;
  }
  if (nvalues)
    memcpy(merged, values, nvalues * sizeof *merged);
  if (x->nparams)
    memcpy(merged + nvalues, x->params, x->nparams * sizeof *merged);
  s->nstatements++;
  uvsql_future_t *f = uvsql_conn_execute(s->conn, open, merged, total, opened, x);
  free(merged);
  uvsql_stmt_free(open); /* the engine holds its own reference */
  if (!f) {
    uvsql__error_set(&err, UVSQL_ENOMEM, "uvsql_session_stream_query: out of memory");
    uvsql__session_custom_done(s, NULL, NULL, &err);
  }
}

static void start(uvsql_session_t *s, void *ctx) {
  (void)ctx; /* cancelled while queued: withdrawn, never started (session.c invariant 7) */
  uvsql__session_custom_tx(s);
}

static int has_selectin(const uvsql__plan_t *p) {
  for (size_t i = 0; i < p->nkids; i++)
    if (p->kids[i]->how == UVSQL_LOAD_SELECTIN)
      return 1;
  return 0;
}

uvsql_future_t *uvsql_session_stream_query(uvsql_session_t *s, uvsql_orm_query_t *q,
                                           const uvsql_param_t *params, size_t nparams,
                                           size_t batch_rows, uvsql_orm_batch_cb on_batch,
                                           void *batch_data, uvsql_future_cb cb, void *data) {
  if (!s)
    return NULL;
  uvsql_error_t err;
  memset(&err, 0, sizeof err);
  if (!q || !on_batch || (nparams && !params)) {
    uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT,
                     "uvsql_session_stream_query: a query (uvsql_orm_query) and a batch "
                     "callback are required%s",
                     nparams && !params ? " (and params when nparams > 0)" : "");
  } else if (q->njoined) { /* invariant 1 */
    const uvsql__plan_t *j = q->joined[0];
    const char *name = j->path ? j->path : j->r->name;
    uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT,
                     "uvsql_session_stream_query: joined eager loading of \"%s\" cannot be "
                     "streamed (a batch could end inside a parent's joined rows): load it with "
                     "UVSQL_SELECTINLOAD(\"%s\")%s",
                     name, name, j->path ? "" : " (joined is the relationship's default loader)");
  }
  if (err.code) {
    uvsql_future_t *f = uvsql__future_new(s->loop);
    if (!f)
      return NULL;
    uvsql__future_fail_soon(f, &err);
    return uvsql__future_return(f, cb, data);
  }
  if (!has_selectin(&q->root)) /* nothing to load per batch: the engine's stream */
    return uvsql_session_stream(s, q->m, q->stmt, params, nparams, batch_rows, on_batch, batch_data,
                                cb, data);
  sq_t *x = calloc(1, sizeof *x);
  if (x && nparams && !(x->params = uvsql__params_copy(params, nparams))) {
    free(x);
    x = NULL;
  }
  if (!x)
    return uvsql__future_refused(s->loop, cb, data, UVSQL_ENOMEM,
                                 "uvsql_session_stream_query: out of memory");
  x->s = s;
  x->q = q;
  x->nparams = nparams;
  x->batch_rows = batch_rows ? batch_rows : 1000;
  x->on_batch = on_batch;
  x->batch_data = batch_data;
  return uvsql__session_custom(s, start, run, sq_free, x, cb, data);
}
