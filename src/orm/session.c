/* src/orm/session.c — the AsyncSession: ownership of objects, the operation queue, autobegin,
 * transactions and savepoints, and what a rollback does to objects (the journal).
 *
 * Session states (s->state) and the calls that move between them:
 *
 *            first get-miss/execute/flush/commit/begin_nested (ensure_tx: checkout + BEGIN)
 *     IDLE ------------------------------------------------------------------> ACTIVE
 *      ^  ^                                                                    |  |
 *      |  +---- commit (flush + COMMIT, release) / rollback (ROLLBACK, release)-+  |
 *      |                                                                           |
 *      |     an op fails inside the transaction (a flush, COMMIT, get, execute, a   |
 *      |     custom op: finish sees its error): ROLLBACK on the server, release     |
 *      +--- rollback ------ FAILED <-----------------------------------------------+
 *                          (every op but rollback/close fails with UVSQL_EINTERFACE)
 *   any state --close--> (rollback if ACTIVE, release) CLOSED, everything freed
 *
 * Savepoints (begin_nested) stack inside ACTIVE: commit releases the innermost, rollback
 * rolls back to it; s->sp_marks[i] is the journal length when savepoint i began.
 *
 * Invariants:
 *  1. s->conn != NULL iff state is ACTIVE: a connection is held only while a transaction is.
 *  2. Operations run one at a time in issue order: s->head is the running one while
 *     s->running; an op starts only from the deferred kick or after the previous op settled,
 *     so no callback runs before the call that queued it has returned.
 *  3. The journal lists what flushes of the open transaction did (inserted, updated with
 *     the previous snapshot, deleted), oldest first; commit clears it, rollback undoes it.
 *  4. Every object with h->session == s is on s->owned; the identity map holds exactly the
 *     PERSISTENT ones.
 *  5. run_next is a loop, never re-entered: an op that finishes while it runs (an identity-map
 *     get) returns to it through finish, so a long queue takes no stack. The session struct
 *     is freed by whoever holds it last: run_next's loop, a scheduled kick, or session_free.
 *  6. s->populate is the running op's populate_existing (0 between ops); the row loaders
 *     (objects_api.c, loader.c) read it. Expired objects: expire.c.
 *  7. Cancel (uvsql_future_cancel of an op's future, op_cancel): an op that has not started is
 *     withdrawn and its future cancelled at once (nothing of it ran). A running op is marked
 *     (op->cancel_asked) and settles with what really happened: a commit whose COMMIT is not
 *     sent yet rolls back and fails with UVSQL_ECANCELLED; a stream (OP_CUSTOM) stops at its
 *     next batch and is cancelled; anything else runs to its end and settles with its result
 *     or error. A future never says "cancelled" for work that was done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

typedef enum {
  OP_FLUSH,
  OP_COMMIT,
  OP_ROLLBACK,
  OP_NESTED,
  OP_GET,
  OP_EXECUTE,
  OP_REFRESH,
  OP_CLOSE,
  OP_CUSTOM /* relationship loading (uvsql__session_custom) */
} op_kind_t;

struct uvsql__op_s {
  op_kind_t kind;
  uvsql_future_t *f; /* the queue's reference */
  uvsql__op_t *next;
  uvsql_mapper_t *m;
  uvsql_value_t pk[UVSQL__MAX_PK];
  uvsql_core_stmt_t *stmt; /* borrowed from the caller */
  uvsql_param_t *params;   /* one block with copies of names and text */
  size_t nparams;
  uvsql__obj_t *obj;
  char *buf;                                             /* copies of text primary key values */
  void (*after_tx)(uvsql_session_t *s, uvsql__op_t *op); /* what ensure_tx continues with */
  uvsql__custom_fn custom_start, custom_run;             /* OP_CUSTOM */
  void (*custom_free)(void *);
  void *custom_ctx;
  int in_tx;    /* the op runs inside the session's transaction: an error fails the transaction */
  int soft;     /* its error (e.g. refresh of a vanished row) leaves the transaction usable */
  int populate; /* populate_existing: its rows overwrite objects the session has */
  int cancel_asked;   /* invariant 7: the caller cancelled it while it ran */
  int cancel_stopped; /* ... and it stopped for that (uvsql__session_custom_abandoned said so) */
  uvsql_session_t *s; /* for op_cancel */
};

static void run_next(uvsql_session_t *s);
static void start_op(uvsql_session_t *s);
static void session_free(uvsql_session_t *s);
static void fail_tx(uvsql_session_t *s, const uvsql_error_t *err);
static int op_cancel(void *data);
/* The instruction first: a long original message is cut at the end, never the instruction. */
static const char *const PENDING_ROLLBACK =
    "This session's transaction has been rolled back due to a previous error. Call "
    "uvsql_session_rollback() first. Original error (%s): %s";

static void result_free_cb(void *v) {
  uvsql_orm_result_free(v);
}

/* ------------------------------------------------------------------ the queue */

static void op_free(uvsql__op_t *op) {
  if (op->custom_free)
    op->custom_free(op->custom_ctx);
  free(op->params);
  free(op->buf);
  free(op);
}

static void kick(void *data) {
  uvsql_session_t *s = data;
  s->kick_scheduled = 0;
  if (s->dead) { /* closed (by an operation queued from a callback) before this ran */
    if (!s->pumping)
      free(s);
    return;
  }
  run_next(s);
}

static uvsql_future_t *enqueue(uvsql_session_t *s, uvsql__op_t *op, uvsql_future_cb cb,
                               void *data) {
  uvsql_future_t *f = uvsql__future_new(s->loop);
  if (!f || !op) {
    if (op)
      op_free(op);
    if (!f)
      return NULL;
    uvsql__future_fail_code(f, UVSQL_ENOMEM, "out of memory queueing a session operation");
    return uvsql__future_return(f, cb, data);
  }
  if (s->closing) {
    uvsql_error_t err;
    uvsql__error_set(&err, UVSQL_ECLOSED,
                     "the session is closed (uvsql_session_close was called): "
                     "make a new session with uvsql_session_new");
    uvsql__future_fail_soon(f, &err);
    op_free(op);
    return uvsql__future_return(f, cb, data);
  }
  if (!s->running && !s->kick_scheduled) {
    if (uvsql__defer(s->loop, kick, s) != 0) { /* nothing would ever start the op */
      op_free(op);
      uvsql__future_fail_code(f, UVSQL_ENOMEM, "out of memory queueing a session operation");
      return uvsql__future_return(f, cb, data);
    }
    s->kick_scheduled = 1;
  }
  op->f = uvsql_future_ref(f);
  op->s = s;
  uvsql__future_set_canceller(f, op_cancel, op);
  if (s->tail)
    s->tail->next = op;
  else
    s->head = op;
  s->tail = op;
  if (op->kind == OP_CLOSE)
    s->closing = 1;
  return uvsql__future_return(f, cb, data);
}

/* Invariant 7. A close is never withdrawn (ops after it were refused already): it runs. */
static int op_cancel(void *data) {
  uvsql__op_t *op = data, *prev = NULL;
  uvsql_session_t *s = op->s;
  if ((s->head == op && s->running) || op->kind == OP_CLOSE) {
    op->cancel_asked = 1;
    return 0;
  }
  for (uvsql__op_t *o = s->head; o && o != op; o = o->next)
    prev = o;
  if (prev)
    prev->next = op->next;
  else
    s->head = op->next;
  if (s->tail == op)
    s->tail = prev;
  uvsql_future_t *f = op->f;
  op_free(op);
  uvsql__future_fail_code(f, UVSQL_ECANCELLED, "cancelled by the caller");
  uvsql_future_unref(f);
  return 0;
}

/* Settles the running op (err NULL: resolve with value) and starts the next. An error of an
 * op that ran inside the transaction first rolls the transaction back (fail_tx): the session
 * then refuses everything but rollback/close, naming that error (SQLAlchemy's
 * PendingRollbackError), on every backend alike. */
static void finish(uvsql_session_t *s, void *value, uvsql_value_free_cb free_cb,
                   const uvsql_error_t *err) {
  uvsql__op_t *op = s->head;
  if (err && op->in_tx && !op->soft && s->state == UVSQL__S_ACTIVE) {
    op->in_tx = 0; /* fail_tx comes back here with the same error, once */
    fail_tx(s, err);
    return;
  }
  uvsql_error_t cancelled;
  if (!err && op->cancel_stopped) { /* a stream that stopped for the cancel */
    if (value && free_cb)
      free_cb(value);
    value = NULL;
    uvsql__error_set(&cancelled, UVSQL_ECANCELLED, "cancelled by the caller");
    err = &cancelled;
  }
  s->populate = 0;
  s->head = op->next;
  if (!s->head)
    s->tail = NULL;
  s->running = 0;
  uvsql_future_t *f = op->f;
  int closing = op->kind == OP_CLOSE;
  op_free(op);
  if (closing)
    session_free(s); /* before the callbacks: the session is gone for them */
  if (err)
    uvsql__future_fail(f, err);
  else
    uvsql__future_resolve(f, value, free_cb);
  uvsql_future_unref(f);
  if (!closing)
    run_next(s);
}

static void finish_code(uvsql_session_t *s, int code, const char *fmt, const char *a,
                        const char *b) {
  uvsql_error_t err;
  uvsql__error_set(&err, code, fmt, a, b);
  finish(s, NULL, NULL, &err);
}

/* ------------------------------------------------------------------ transactions */

static void tx_begun(uvsql_future_t *f, void *data) {
  uvsql_session_t *s = data;
  const uvsql_error_t *err = uvsql_future_error(f);
  if (err) {
    uvsql_conn_release(s->conn);
    s->conn = NULL;
    finish(s, NULL, NULL, err);
    return;
  }
  s->state = UVSQL__S_ACTIVE;
  s->head->in_tx = 1;
  s->head->after_tx(s, s->head);
}

static void tx_checked_out(uvsql_future_t *f, void *data) {
  uvsql_session_t *s = data;
  const uvsql_error_t *err = uvsql_future_error(f);
  if (err) {
    finish(s, NULL, NULL, err);
    return;
  }
  s->conn = uvsql_future_value(f);
  s->nstatements++;
  s->tx_on_replica = s->router && uvsql_conn_engine(s->conn) !=
                                      uvsql_router_engine(s->router, UVSQL_ROUTE_PRIMARY);
  /* A transaction that starts with a flush will write: say so, and on SQLite it waits for
   * the file's write lock at BEGIN instead of reading first and then finding the lock taken
   * (UVSQL_ESERIALIZATION). One that starts with a read begins deferred: readers never wait. */
  if (s->opt.begin_write || s->head->kind == OP_FLUSH || s->head->kind == OP_COMMIT)
    uvsql_conn_begin_write(s->conn, s->opt.isolation, tx_begun, s);
  else
    uvsql_conn_begin(s->conn, s->opt.isolation, tx_begun, s);
}

static void release_conn(uvsql_session_t *s);

/* A routed session (uvsql_session_new_routed): whether op may write, so that its transaction
 * must be on the primary. Reads that flush nothing first may run on a replica. */
static int op_needs_primary(uvsql_session_t *s, const uvsql__op_t *op) {
  switch (op->kind) {
  case OP_GET:
  case OP_EXECUTE:
    return s->opt.autoflush && uvsql__flush_needed(s);
  case OP_REFRESH:
    return 0;
  case OP_FLUSH:
  case OP_COMMIT:
    return uvsql__flush_needed(s);
  default: /* savepoints, Core statements and loads of the session (OP_CUSTOM) */
    return 1;
  }
}

static void connect_routed(uvsql_session_t *s, uvsql__op_t *op) {
  uvsql_route_t route =
      s->route == UVSQL_ROUTE_REPLICA && !s->opt.begin_write && !op_needs_primary(s, op)
          ? UVSQL_ROUTE_REPLICA
          : UVSQL_ROUTE_PRIMARY;
  if (!uvsql_router_connect(s->router, route, tx_checked_out, s))
    finish_code(s, UVSQL_ENOMEM, "out of memory checking out a connection%s%s", "", "");
}

/* The session's transaction read on a replica and is about to write: that read-only
 * transaction is rolled back (it changed nothing) and a new one begins on the primary, where
 * the session stays until commit or rollback (it reads its own writes). */
static void replica_tx_ended(uvsql_future_t *f, void *data) {
  uvsql_session_t *s = data;
  if (uvsql_future_error(f))
    uvsql_conn_invalidate(s->conn);
  release_conn(s);
  s->state = UVSQL__S_IDLE;
  s->tx_on_replica = 0;
  if (!uvsql_router_connect(s->router, UVSQL_ROUTE_PRIMARY, tx_checked_out, s))
    finish_code(s, UVSQL_ENOMEM, "out of memory checking out a connection%s%s", "", "");
}

/* Autobegin: runs op->after_tx once a transaction is open. */
static void ensure_tx(uvsql_session_t *s, uvsql__op_t *op,
                      void (*after)(uvsql_session_t *, uvsql__op_t *)) {
  op->after_tx = after;
  if (s->state == UVSQL__S_ACTIVE && s->tx_on_replica && op_needs_primary(s, op)) {
    uvsql_conn_rollback(s->conn, replica_tx_ended, s);
    return;
  }
  if (s->state == UVSQL__S_ACTIVE) {
    op->in_tx = 1;
    after(s, op);
    return;
  }
  if (s->router) { /* each transaction on the router's servers of now (routing.h) */
    connect_routed(s, op);
    return;
  }
  if (!uvsql_engine_connect(s->engine, tx_checked_out, s))
    finish_code(s, UVSQL_ENOMEM, "out of memory checking out a connection%s%s", "", "");
}

/* A generated key from a rolled-back INSERT is not the object's any more. */
static void reset_key(uvsql__obj_t *h) {
  const uvsql_mapper_t *m = h->mapper;
  if (m->autoinc)
    *(int64_t *)(h->body + m->model->fields[m->pk[0]].offset) = 0;
  uvsql__obj_unfill(h); /* defaults the flush filled in become unset again (defaults.c) */
}

/* Puts objects back as the database has them after the journal entries from `from` on are
 * undone. top: the whole transaction (pending objects become transient too). */
static void undo(uvsql_session_t *s, size_t from, int top) {
  for (size_t k = s->njournal; k-- > from;) {
    uvsql__jentry_t *e = &s->journal[k];
    uvsql__obj_t *h = e->obj;
    if (!h)
      continue;
    switch (e->kind) {
    case UVSQL__J_INSERTED:
      if (h->state == UVSQL_OBJ_PERSISTENT)
        uvsql__idmap_remove(&s->idmap, h);
      h->state = UVSQL_OBJ_TRANSIENT;
      uvsql__snap_free(h, h->snap);
      h->snap = NULL;
      reset_key(h);
      break;
    case UVSQL__J_UPDATED:
      uvsql__snap_free(h, h->snap);
      h->snap = e->old;
      e->old = NULL;
      break;
    case UVSQL__J_DELETED:
      if (h->state == UVSQL_OBJ_DELETED && uvsql__idmap_put(&s->idmap, h) == 0)
        h->state = UVSQL_OBJ_PERSISTENT;
      break;
    }
  }
  s->njournal = from;
  for (uvsql__obj_t *h = s->owned; h; h = h->next) {
    h->flags &= (uint8_t)~UVSQL__OF_MARK_DELETE;
    if (h->state == UVSQL_OBJ_PERSISTENT)
      h->given = 0; /* the program's changes go, and their setter marks (defaults.c) */
    if (h->state == UVSQL_OBJ_PERSISTENT && h->snap && uvsql__obj_changes(h))
      (void)uvsql__struct_assign(h->mapper, h->body, h->snap); /* OOM: stays as it is */
    if (h->state == UVSQL_OBJ_PENDING && top) {
      h->state = UVSQL_OBJ_TRANSIENT;
      reset_key(h); /* it may hold a key from the INSERT of a failed flush */
    }
  }
  if (s->reg->has_rels)
    uvsql__rel_expire(s); /* relationships: reloaded from the database when asked */
  if (top) /* as SQLAlchemy: what the database holds now is read again when loaded (expire.c) */
    uvsql__session_expire_flag_all(s);
}

static void journal_clear(uvsql_session_t *s) {
  for (size_t k = 0; k < s->njournal; k++)
    uvsql__snap_free(s->journal[k].obj, s->journal[k].old);
  s->njournal = 0;
  s->nsp = 0;
  for (uvsql__obj_t *h = s->owned; h; h = h->next)
    if (h->state == UVSQL_OBJ_DELETED)
      h->state = UVSQL_OBJ_DETACHED;
}

static void release_conn(uvsql_session_t *s) {
  if (s->conn)
    uvsql_conn_release(s->conn);
  s->conn = NULL;
  s->tx_on_replica = 0;
  s->nsp = 0;
}

/* A flush or COMMIT failed: roll the database back, keep the error, fail the op with it. */
static void failed_rolled_back(uvsql_future_t *f, void *data) {
  uvsql_session_t *s = data;
  release_conn(s);
  s->state = UVSQL__S_FAILED;
  uvsql_error_t err = s->fail_err, ignored;
  (void)uvsql__events_fire(s, NULL, UVSQL_EV_AFTER_ROLLBACK, NULL, &ignored); /* events.c */
  finish(s, NULL, NULL, &err);
}

static void fail_tx(uvsql_session_t *s, const uvsql_error_t *err) {
  if (err != &s->fail_err)
    s->fail_err = *err;
  if (!s->conn) {
    s->state = UVSQL__S_FAILED;
    finish(s, NULL, NULL, err);
    return;
  }
  s->nstatements++;
  uvsql_conn_rollback(s->conn, failed_rolled_back, s);
}

static int check_failed(uvsql_session_t *s) {
  if (s->state != UVSQL__S_FAILED)
    return 0;
  uvsql_error_t err;
  uvsql__error_set(&err, UVSQL_EINTERFACE, PENDING_ROLLBACK, uvsql_err_name(s->fail_err.code),
                   s->fail_err.message);
  finish(s, NULL, NULL, &err);
  return 1;
}

/* ------------------------------------------------------------------ operations */

static void op_done_null(uvsql_future_t *f, void *data) {
  uvsql_session_t *s = data;
  finish(s, NULL, NULL, uvsql_future_error(f));
}

static void flushed(uvsql_session_t *s, const uvsql_error_t *err, void *data) {
  uvsql__op_t *op = data;
  if (err) {
    fail_tx(s, err);
    return;
  }
  switch (op->kind) {
  case OP_FLUSH:
    finish(s, NULL, NULL, NULL);
    return;
  case OP_NESTED: {
    char name[32];
    size_t *marks = realloc(s->sp_marks, (s->nsp + 1) * sizeof *marks);
    if (!marks) {
      finish_code(s, UVSQL_ENOMEM, "%s%s", "out of memory", "");
      return;
    }
    s->sp_marks = marks;
    marks[s->nsp++] = s->njournal;
    snprintf(name, sizeof name, "uvsql_sp_%zu", s->nsp);
    s->nstatements++;
    uvsql_conn_savepoint(s->conn, name, op_done_null, s);
    return;
  }
  default:
    op->after_tx(s, op); /* get/execute after their autoflush */
  }
}

static void committed(uvsql_future_t *f, void *data) {
  uvsql_session_t *s = data;
  const uvsql_error_t *err = uvsql_future_error(f);
  if (err) {
    fail_tx(s, err);
    return;
  }
  if (s->nsp > 0) { /* released the innermost savepoint: its entries now belong to the parent */
    s->nsp--;
  } else {
    journal_clear(s);
    release_conn(s);
    s->state = UVSQL__S_IDLE;
    if (s->opt.expire_on_commit) /* other transactions may change the rows now (expire.c) */
      uvsql__session_expire_flag_all(s);
    uvsql_error_t ignored;
    (void)uvsql__events_fire(s, NULL, UVSQL_EV_AFTER_COMMIT, NULL, &ignored); /* events.c */
  }
  finish(s, NULL, NULL, NULL);
}

static void commit_flushed(uvsql_session_t *s, const uvsql_error_t *err, void *data) {
  uvsql_error_t cancelled;
  if (!err && s->head->cancel_asked) { /* invariant 7: the COMMIT is not sent */
    uvsql__error_set(&cancelled, UVSQL_ECANCELLED,
                     "cancelled by the caller before COMMIT was sent: the transaction was "
                     "rolled back; call uvsql_session_rollback() before using the session again");
    err = &cancelled;
  }
  if (err) {
    fail_tx(s, err);
    return;
  }
  s->nstatements++;
  if (s->nsp > 0) {
    char name[32];
    snprintf(name, sizeof name, "uvsql_sp_%zu", s->nsp);
    uvsql_conn_release_savepoint(s->conn, name, committed, s);
  } else {
    uvsql_conn_commit(s->conn, committed, s);
  }
}

static void with_tx_flush(uvsql_session_t *s, uvsql__op_t *op) {
  uvsql__flush(s, op->kind == OP_COMMIT ? commit_flushed : flushed, op);
}

static void rolled_back(uvsql_future_t *f, void *data) {
  uvsql_session_t *s = data;
  const uvsql_error_t *err = uvsql_future_error(f);
  if (s->nsp > 0 && s->state == UVSQL__S_ACTIVE) {
    if (!err) {
      undo(s, s->sp_marks[--s->nsp], 0);
      finish(s, NULL, NULL, NULL);
      return;
    }
  }
  release_conn(s);
  undo(s, 0, 1);
  s->state = UVSQL__S_IDLE;
  uvsql_error_t ignored;
  if (!err)
    (void)uvsql__events_fire(s, NULL, UVSQL_EV_AFTER_ROLLBACK, NULL, &ignored); /* events.c */
  finish(s, NULL, NULL, err);
}

/* get / refresh: the SELECT by primary key came back. */
static void got_row(uvsql_future_t *f, void *data) {
  uvsql_session_t *s = data;
  uvsql__op_t *op = s->head;
  const uvsql_error_t *ferr = uvsql_future_error(f);
  if (ferr) {
    finish(s, NULL, NULL, ferr);
    return;
  }
  uvsql_result_t *r = uvsql_future_value(f);
  uvsql_error_t err;
  void **objs;
  size_t n;
  if (uvsql__session_load(s, op->m, r, &objs, &n, op->kind == OP_REFRESH, &err)) {
    finish(s, NULL, NULL, &err);
    return;
  }
  void *obj = n ? objs[0] : NULL;
  free(objs);
  if (op->kind == OP_REFRESH && obj && s->reg->has_rels)
    uvsql__rel_refresh(s, uvsql__hdr(obj), 1); /* its relationship changes go too (cascade.c) */
  if (op->kind == OP_REFRESH && !obj) {
    op->soft = 1;
    finish_code(s, UVSQL_ESTALE_DATA, "refresh: the row of this %s%s is gone",
                op->m->model->type_name, "");
    return;
  }
  finish(s, obj, NULL, NULL);
}

static void select_by_pk(uvsql_session_t *s, uvsql__op_t *op) {
  uvsql_param_t p[UVSQL__MAX_PK];
  for (size_t i = 0; i < op->m->npk; i++)
    p[i] = UVSQL_P(uvsql__key_names[i], op->pk[i]);
  uvsql_core_stmt_t *st = uvsql__stmt_select_pk(op->m);
  if (!st) {
    finish_code(s, UVSQL_ENOMEM, "%s%s", "out of memory", "");
    return;
  }
  s->nstatements++;
  uvsql_conn_execute_core(s->conn, st, p, op->m->npk, got_row, s);
}

static void executed(uvsql_future_t *f, void *data) {
  uvsql_session_t *s = data;
  const uvsql_error_t *ferr = uvsql_future_error(f);
  if (ferr) {
    finish(s, NULL, NULL, ferr);
    return;
  }
  uvsql_error_t err;
  uvsql_orm_result_t *res = calloc(1, sizeof *res); /* struct in internal.h */
  if (!res) {
    finish_code(s, UVSQL_ENOMEM, "%s%s", "out of memory", "");
    return;
  }
  if (uvsql__session_load(s, s->head->m, uvsql_future_value(f), &res->objs, &res->n, 0, &err)) {
    free(res);
    finish(s, NULL, NULL, &err);
    return;
  }
  finish(s, res, result_free_cb, NULL);
}

static void run_select(uvsql_session_t *s, uvsql__op_t *op) {
  if (op->kind == OP_EXECUTE) {
    s->nstatements++;
    uvsql_conn_execute_core(s->conn, op->stmt, op->params, op->nparams, executed, s);
  } else if (op->kind == OP_CUSTOM) {
    op->custom_run(s, op->custom_ctx);
  } else {
    select_by_pk(s, op);
  }
}

static void after_tx_query(uvsql_session_t *s, uvsql__op_t *op) {
  op->after_tx = run_select;
  if (s->opt.autoflush && op->kind != OP_REFRESH && uvsql__flush_needed(s))
    uvsql__flush(s, flushed, op);
  else
    run_select(s, op);
}

static void session_free(uvsql_session_t *s) {
  for (size_t k = 0; k < s->njournal; k++) /* before the objects: it may hold theirs */
    uvsql__snap_free(s->journal[k].obj, s->journal[k].old);
  while (s->owned) {
    uvsql__obj_t *h = s->owned;
    uvsql__session_disown(s, h);
    uvsql__obj_destroy(h);
  }
  free(s->journal);
  free(s->sp_marks);
  uvsql__rel_session_free(s);
  uvsql__events_free(s->events);
  s->events = NULL;
  uvsql__idmap_free(&s->idmap);
  if (s->kick_scheduled || s->pumping) /* a deferred kick or run_next's loop still points at
                                          s: the last of them frees it */
    s->dead = 1;
  else
    free(s);
}

static void rolled_back_for_close(uvsql_future_t *f, void *data) {
  uvsql_session_t *s = data;
  release_conn(s);
  finish(s, NULL, NULL, NULL); /* frees the session; a failed ROLLBACK closes the connection */
}

/* Starts queued operations until one is waiting for I/O (a loop, not a recursion: an op that
 * finishes at once, as a get answered by the identity map, returns here through finish, which
 * does not call back into the loop while it runs). */
static void run_next(uvsql_session_t *s) {
  if (s->pumping)
    return; /* the loop below, further up the stack, starts the next op */
  s->pumping = 1;
  while (!s->dead && !s->running && s->head)
    start_op(s);
  s->pumping = 0;
  if (s->dead && !s->kick_scheduled)
    free(s); /* closed inside the loop: session_free left the struct to us */
}

static void start_op(uvsql_session_t *s) {
  s->running = 1;
  uvsql__op_t *op = s->head;
  s->populate = op->populate;
  switch (op->kind) {
  case OP_CLOSE:
    if (s->state == UVSQL__S_ACTIVE) {
      s->nstatements++;
      uvsql_conn_rollback(s->conn, rolled_back_for_close, s);
      return;
    }
    release_conn(s);
    finish(s, NULL, NULL, NULL);
    return;
  case OP_ROLLBACK:
    if (s->state == UVSQL__S_ACTIVE) {
      s->nstatements++;
      if (s->nsp > 0) {
        char name[32];
        snprintf(name, sizeof name, "uvsql_sp_%zu", s->nsp);
        uvsql_conn_rollback_to_savepoint(s->conn, name, rolled_back, s);
      } else {
        uvsql_conn_rollback(s->conn, rolled_back, s);
      }
      return;
    }
    undo(s, 0, 1);
    s->state = UVSQL__S_IDLE;
    finish(s, NULL, NULL, NULL);
    return;
  default:
    break;
  }
  if (check_failed(s))
    return;
  switch (op->kind) {
  case OP_FLUSH:
  case OP_COMMIT:
    if (s->state == UVSQL__S_IDLE && !uvsql__flush_needed(s)) {
      finish(s, NULL, NULL, NULL);
      return;
    }
    ensure_tx(s, op, with_tx_flush);
    return;
  case OP_NESTED:
    ensure_tx(s, op, with_tx_flush);
    return;
  case OP_GET: {
    uvsql__obj_t *h = uvsql__idmap_find(&s->idmap, op->m, op->pk);
    if (h && !(h->flags & UVSQL__OF_EXPIRED)) { /* an expired one is SELECTed again */
      finish(s, h->body, NULL, NULL);
      return;
    }
    ensure_tx(s, op, after_tx_query);
    return;
  }
  case OP_REFRESH:
    if (!op->obj->session || op->obj->state != UVSQL_OBJ_PERSISTENT) {
      finish_code(s, UVSQL_EINVALID_ARGUMENT, "refresh: the %s is %s, not persistent",
                  op->m->model->type_name, uvsql_orm_state_name(op->obj->state));
      return;
    }
    uvsql__obj_pk(op->m, op->obj->snap ? op->obj->snap : op->obj->body, op->pk);
    ensure_tx(s, op, after_tx_query);
    return;
  case OP_EXECUTE:
    ensure_tx(s, op, after_tx_query);
    return;
  case OP_CUSTOM:
    op->custom_start(s, op->custom_ctx);
    return;
  default:
    return;
  }
}

/* ------------------------------------------------------------------ the public operations */

static uvsql__op_t *op_new(op_kind_t kind) {
  uvsql__op_t *op = calloc(1, sizeof *op);
  if (op)
    op->kind = kind;
  return op;
}

static uvsql_future_t *bad_call(uv_loop_t *loop, const char *what, uvsql_future_cb cb, void *data) {
  uvsql_future_t *f = loop ? uvsql__future_new(loop) : NULL;
  if (!f)
    return NULL;
  uvsql_error_t err;
  uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT, "%s", what);
  uvsql__future_fail_soon(f, &err);
  return uvsql__future_return(f, cb, data);
}

uvsql_future_t *uvsql_session_flush(uvsql_session_t *s, uvsql_future_cb cb, void *data) {
  return s ? enqueue(s, op_new(OP_FLUSH), cb, data) : NULL;
}
uvsql_future_t *uvsql_session_commit(uvsql_session_t *s, uvsql_future_cb cb, void *data) {
  return s ? enqueue(s, op_new(OP_COMMIT), cb, data) : NULL;
}
uvsql_future_t *uvsql_session_rollback(uvsql_session_t *s, uvsql_future_cb cb, void *data) {
  return s ? enqueue(s, op_new(OP_ROLLBACK), cb, data) : NULL;
}
uvsql_future_t *uvsql_session_begin_nested(uvsql_session_t *s, uvsql_future_cb cb, void *data) {
  return s ? enqueue(s, op_new(OP_NESTED), cb, data) : NULL;
}
uvsql_future_t *uvsql_session_close(uvsql_session_t *s, uvsql_future_cb cb, void *data) {
  return s ? enqueue(s, op_new(OP_CLOSE), cb, data) : NULL;
}

uvsql_future_t *uvsql_session_get(uvsql_session_t *s, const uvsql_mapper_t *m,
                                  const uvsql_value_t *pk, size_t npk, uvsql_future_cb cb,
                                  void *data) {
  if (!s)
    return NULL;
  if (!m || !pk || npk != m->npk) {
    char what[200];
    snprintf(what, sizeof what,
             "uvsql_session_get: %s%s has %zu primary key field(s) but %zu value(s) were given: "
             "give one value per primary key field, in field order",
             m ? "" : "(no mapper) ", m ? m->model->type_name : "the model", m ? m->npk : 0, npk);
    return bad_call(s->loop, what, cb, data);
  }
  uvsql__op_t *op = op_new(OP_GET);
  if (op) {
    op->m = (uvsql_mapper_t *)m;
    size_t len = 0;
    for (size_t i = 0; i < npk; i++)
      if (uvsql__value_is_str(&pk[i]))
        len += pk[i].u.s.len + 1;
    if (len && !(op->buf = malloc(len))) {
      free(op);
      op = NULL;
    }
    char *p = op ? op->buf : NULL;
    for (size_t i = 0; op && i < npk; i++) {
      op->pk[i] = pk[i];
      if (uvsql__value_is_str(&pk[i])) {
        memcpy(p, pk[i].u.s.ptr, pk[i].u.s.len);
        p[pk[i].u.s.len] = '\0'; /* drivers may read text keys up to the NUL */
        op->pk[i].u.s.ptr = p;
        p += pk[i].u.s.len + 1;
      }
    }
  }
  return enqueue(s, op, cb, data);
}

uvsql_future_t *uvsql_session_refresh(uvsql_session_t *s, void *obj, uvsql_future_cb cb,
                                      void *data) {
  if (!s)
    return NULL;
  uvsql__obj_t *h = uvsql__obj_check(obj);
  if (!h || h->session != s)
    return bad_call(s->loop,
                    "uvsql_session_refresh: the object is not in this session: "
                    "refresh it in the session that loaded or added it",
                    cb, data);
  uvsql__op_t *op = op_new(OP_REFRESH);
  if (op) {
    op->obj = h;
    op->m = (uvsql_mapper_t *)h->mapper;
  }
  return enqueue(s, op, cb, data);
}

/* One block: the params, then their names and text values. */
uvsql_param_t *uvsql__params_copy(const uvsql_param_t *params, size_t n) {
  size_t len = n * sizeof(uvsql_param_t);
  for (size_t i = 0; i < n; i++) {
    len += (params[i].name ? strlen(params[i].name) : 0) + 1;
    len += uvsql__value_extra(&params[i].value);
  }
  uvsql_param_t *out = malloc(len ? len : 1);
  if (!out)
    return NULL;
  char *p = (char *)(out + n);
  for (size_t i = 0; i < n; i++) {
    out[i] = params[i];
    size_t k = params[i].name ? strlen(params[i].name) : 0;
    memcpy(p, params[i].name ? params[i].name : "", k + 1);
    out[i].name = p;
    p += k + 1;
    uvsql__value_own(&out[i].value, &p); /* text, bytes, enum labels, array items */
  }
  return out;
}

uvsql_future_t *uvsql_session_execute(uvsql_session_t *s, const uvsql_mapper_t *m,
                                      uvsql_core_stmt_t *select, const uvsql_param_t *params,
                                      size_t nparams, uvsql_future_cb cb, void *data) {
  return uvsql_session_execute_opts(s, m, select, params, nparams, NULL, cb, data);
}

uvsql_future_t *uvsql_session_execute_opts(uvsql_session_t *s, const uvsql_mapper_t *m,
                                           uvsql_core_stmt_t *select, const uvsql_param_t *params,
                                           size_t nparams, const uvsql_exec_options_t *opt,
                                           uvsql_future_cb cb, void *data) {
  if (!s)
    return NULL;
  if (!m || !select || (nparams && !params))
    return bad_call(s->loop, "uvsql_session_execute: a mapper and a select are required", cb, data);
  uvsql__op_t *op = op_new(OP_EXECUTE);
  if (op && nparams && !(op->params = uvsql__params_copy(params, nparams))) {
    free(op);
    op = NULL;
  }
  if (op) {
    op->m = (uvsql_mapper_t *)m;
    op->nparams = nparams;
    op->stmt = select; /* borrowed: the caller keeps it alive until the future settles */
    op->populate = opt && opt->populate_existing;
  }
  return enqueue(s, op, cb, data);
}

/* ------------------------------------------------------------------ custom operations */

uvsql_future_t *uvsql__session_custom(uvsql_session_t *s, uvsql__custom_fn start,
                                      uvsql__custom_fn run, void (*ctx_free)(void *), void *ctx,
                                      uvsql_future_cb cb, void *data) {
  uvsql__op_t *op = op_new(OP_CUSTOM);
  if (op) {
    op->custom_start = start;
    op->custom_run = run;
    op->custom_free = ctx_free;
    op->custom_ctx = ctx;
  } else if (ctx_free) {
    ctx_free(ctx);
  }
  return enqueue(s, op, cb, data);
}

void uvsql__session_custom_tx(uvsql_session_t *s) {
  ensure_tx(s, s->head, after_tx_query);
}

void uvsql__session_custom_done(uvsql_session_t *s, void *value, uvsql_value_free_cb free_cb,
                                const uvsql_error_t *err) {
  finish(s, value, free_cb, err);
}

int uvsql__session_custom_abandoned(uvsql_session_t *s) {
  if (!s->head || s->head->kind != OP_CUSTOM || !s->head->cancel_asked)
    return 0;
  s->head->cancel_stopped = 1; /* the op stops now: its future says cancelled (finish) */
  return 1;
}

void uvsql__session_custom_soft(uvsql_session_t *s) {
  s->head->soft = 1;
}
