/* src/dialects/postgresql/exec.c — requests on a READY connection, in pipeline mode.
 *
 * Every request is one sync group on the wire:
 *     [Parse (new cached statement)]  Bind/Execute  Sync
 * sent with PQsendPrepare / PQsendQueryPrepared or PQsendQueryParams, then PQpipelineSync.
 * A Sync closes the group, so an error aborts only the rest of its own group: a failed
 * request never fails the next one. Everything pending is sent at once; the server answers
 * in order, so results map to requests FIFO: for each group, the result(s) of its queries
 * (each followed by NULL from PQgetResult), then PGRES_PIPELINE_SYNC.
 *
 * Queues (FIFO, linked through req->next):
 *   pending  submitted, not sent yet        (req->state & UVSQL__PG_RS_QUEUED)
 *   sent     in the pipeline, being answered (req->state & UVSQL__PG_RS_SENT)
 *
 * A request with no parameters whose text holds several statements cannot use the extended
 * protocol: it waits until `sent` is empty, then leaves pipeline mode, goes out with
 * PQsendQuery (simple_mode), and when its last result is read pipeline mode is entered again.
 *
 * Invariants:
 *  1. Results are read only for the head of `sent`; rd_* describe that head's group.
 *  2. Sending never calls a done callback; reading calls them one at a time and re-checks the
 *     connection after each (a callback may submit, cancel or close).
 *  3. A statement's cache entry is used (PQsendQueryPrepared) once the server confirmed its
 *     Parse, or while its Parse is in flight if every group sent since that Parse runs the
 *     same statement (pc->parse_stmt): nothing between them can change how the text parses,
 *     so if the Parse fails, the requests that borrowed the name (UVSQL__PG_RS_BORROWED) get
 *     the Parse's error in place of "prepared statement does not exist". Otherwise a request
 *     whose statement's Parse is in flight goes unnamed. (A batch of identical INSERTs is
 *     then parsed and planned once, not once per statement.)
 *     Binary results are asked for only when the first execution showed that every result
 *     column has a type decode.c reads in binary.
 *  4. Evicting a cached statement sends DEALLOCATE as a group of its own, after every group
 *     that may use it and before any later one (pipeline order).
 *  5. A server FATAL error, EOF or a socket error marks the connection BROKEN: the request
 *     being read gets the server's error with code UVSQL_EDISCONNECT, every other one
 *     UVSQL_EDISCONNECT "connection to the server was lost: <what libpq said>".
 *  6. Cancel: a pending request is withdrawn at once; a sent one gets a PQcancel (on the
 *     thread pool) when it is the head of `sent` and its main result has not arrived; a
 *     cancel that reaches the server too late cannot be told from one that came in time, so
 *     the request then reports its real result. While a cancel is on its way (cancel_job,
 *     until PQcancel returned: the server has then signalled the backend) nothing new is
 *     sent, so a late cancel finds the backend idle, never running a later statement. (Groups
 *     pipelined before the cancel was asked are on the wire already: a cancel that arrives
 *     just as the head finishes can still reach the next of them, which then fails with
 *     57014 and can be run again.)
 *  8. executemany (UVSQL__REQ_MANY) is one group: [Parse] nsets x Bind/Execute, one Sync; the
 *     Parse's parameter types are, per parameter, the first set's that is neither text nor
 *     NULL, and every set must agree (checked before anything is sent). Its results are
 *     counted (rd_many_rows), not kept; the first error names its set (req->many_failed) and
 *     the server skips the rest of the group, so outside a transaction nothing is written.
 *     Without a statement cache it uses the unnamed statement.
 *  7. Streams (UVSQL__REQ_STREAM) are read in single-row mode and handed over in batches by
 *     stream.c; a stop's cancel holds sends the same way.
 *  8. COPY requests (UVSQL__REQ_COPY_IN / OUT) run like a multi-statement text (probe; COPY);
 *     while the copy data flows (pc->cp.active) read_results moves it with copy.c's step
 *     instead of PQgetResult, which would only repeat the COPY state.
 *  9. Shared sync groups. Plain SELECTs (uvsql__pg_sql_is_plain_select: no writes, no row
 *     locks, no calls but known read-only functions) sent in one pass share one Sync, up to
 *     PG_GROUP_MAX (libpq < 17 flushes on every Sync: one send per group, not per statement;
 *     the server too answers a group in one go). A member that is not the last is marked
 *     RS_NOSYNC and completes at the NULL after its last result; the last one is RS_GROUP_END.
 *     Error isolation as if each had its own Sync:
 *     - a member that fails gets its own error; the members before it ran and changed
 *       nothing, so their rows stand (one implicit transaction cannot be told apart);
 *     - the members after it did not run (PGRES_PIPELINE_ABORTED, rd_aborted): they wait in
 *       `rerun` and, once the group is complete, go out again first in line, each alone
 *       (RS_SOLO). Inside a transaction block the failure aborted, the server answers each
 *       with its own "current transaction is aborted" error, as if they had never been
 *       grouped. A member whose Parse did not run leaves the cache (prepared anew);
 *     - ordering: while a shared group is open or in flight, a request that is not a plain
 *       SELECT is not sent (it could change what a member sent again would read; and a
 *       COMMIT, ROLLBACK or ROLLBACK TO must come after the members sent again); no request
 *       outside a shared group borrows a Parse sent in it (invariant 3: that Parse might not
 *       run);
 *     - cancel: the server holds a group's answers until its Sync, so the member asked to
 *       stop cannot wait to be the head of `sent` (it becomes the head only once the whole
 *       group ran): a cancel of a member of the head's group goes to the server at once
 *       (one asked while an earlier group is read, or while another cancel is on its way,
 *       goes once its group is the head's: cancel_in_head_group).
 *       It stops whichever member runs then; a member it stopped that did not ask for it
 *       (pc->cancel_fired, 57014, no cancel flag: rd_cancel_hit) changed nothing and is sent
 *       again like the members after it, so a cancel fails only the member it was meant for
 *       (which reports its rows if it had finished). Inside a transaction block the stop
 *       aborted the transaction: the members sent again then get "current transaction is
 *       aborted", as any statement after a cancelled one would;
 *     - deadlines: the server sends a group's answers at its Sync, so a quick member would
 *       wait for the slowest and outlive its timeout: a member with a timeout is followed by
 *       a Flush, and its answer comes as soon as it ran.
 *     The URL option shared_sync=off (pc->solo_syncs) turns this off: every request is then
 *     its own group, for schemas where a SELECT the scanner passes may still write.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pg.h"

/* libpq >= 17 can queue a Sync without flushing; 15 and 16 flush on every PQpipelineSync. */
#ifdef LIBPQ_HAS_SEND_PIPELINE_SYNC
#define PG_SYNC(pg) PQsendPipelineSync(pg)
#else
#define PG_SYNC(pg) PQpipelineSync(pg)
#endif

/* The most plain SELECTs that share one Sync (invariant 9). */
#define PG_GROUP_MAX 64

/* ------------------------------------------------------------------ internal requests */

typedef struct {
  uvsql__request_t req; /* first: done frees the whole struct through req */
  char sql[];
} pg_internal_t;

static void internal_done(uvsql__request_t *req, uvsql_result_t *result, const uvsql_error_t *err) {
  (void)err; /* nobody waits: a failed DEALLOCATE or SET changes nothing a user relies on */
  uvsql_result_free(result);
  free(req);
}

static uvsql__request_t *internal_new(const char *sql) {
  size_t len = strlen(sql);
  pg_internal_t *in = calloc(1, sizeof *in + len + 1);
  if (!in)
    return NULL;
  memcpy(in->sql, sql, len + 1);
  in->req.sql = in->sql;
  in->req.sql_len = len;
  in->req.flags = UVSQL__REQ_NO_PREPARE;
  in->req.done = internal_done;
  in->req.state = UVSQL__PG_RS_INTERNAL;
  return &in->req;
}

int uvsql__pg_submit_internal_first(uvsql__pg_conn_t *pc, const char *sql) {
  uvsql__request_t *req = internal_new(sql);
  if (!req)
    return UVSQL_ENOMEM;
  req->state |= UVSQL__PG_RS_QUEUED;
  uvsql__kit_queue_push_front(&pc->pending, req);
  return 0;
}

/* ------------------------------------------------------------------ delivering */

static void deliver(uvsql__pg_conn_t *pc, uvsql__request_t *req, uvsql_result_t *result,
                    const uvsql_error_t *err) {
  if (req->state & UVSQL__PG_RS_PREFAILED)
    free(req->driver_data);
  else
    uvsql__kit_lru_unref(&pc->cache, req->driver_data);
  req->driver_data = NULL;
  req->next = NULL;
  req->state = 0;
  req->done(req, result, err);
}

static void rd_reset(uvsql__pg_conn_t *pc) {
  if (pc->rd_result)
    PQclear(pc->rd_result);
  pc->rd_result = NULL;
  uvsql_error_clear(&pc->rd_err);
  pc->rd_count = 0;
  pc->rd_null = 0;
  pc->rd_prep_failed = 0;
  pc->rd_stale = 0;
  pc->rd_many_rows = 0;
  pc->rd_aborted = 0;
  pc->rd_cancel_hit = 0;
}

void uvsql__pg_fail_all(uvsql__pg_conn_t *pc, const uvsql_error_t *err) {
  uvsql__request_t *req;
  rd_reset(pc);
  uvsql__pg_stream_reset(pc);
  uvsql__pg_copy_reset(pc);
  pc->simple_mode = 0;
  pc->group_open = 0;
  pc->group_size = 0;
  pc->group_last = NULL;
  pc->groups_inflight = 0;
  pc->cancel_fired = 0;
  /* loop until all are empty: a callback may submit again */
  while ((req = uvsql__kit_queue_pop(&pc->sent)) || (req = uvsql__kit_queue_pop(&pc->rerun)) ||
         (req = uvsql__kit_queue_pop(&pc->pending)))
    deliver(pc, req, NULL, err);
}

static void pg_unwatch(uvsql__pg_conn_t *pc) {
  if (pc->watcher)
    uvsql__watcher_stop(pc->watcher);
  pc->watch_fd = -1;
  pc->watch_events = 0;
}

static void broken(uvsql__pg_conn_t *pc, const char *why, const uvsql_error_t *head_err) {
  uvsql_error_t err;
  if (pc->state != UVSQL__PG_READY)
    return;
  pc->state = UVSQL__PG_BROKEN;
  pc->dc.broken = 1;
  pg_unwatch(pc);
  snprintf(pc->broken_msg, sizeof pc->broken_msg, "%s", why);
  rd_reset(pc);
  uvsql__pg_stream_reset(pc);
  if (head_err && pc->sent.head)
    deliver(pc, uvsql__kit_queue_pop(&pc->sent), NULL, head_err);
  uvsql__error_set(&err, UVSQL_EDISCONNECT, "connection to the server was lost: %s",
                   pc->broken_msg);
  uvsql__pg_fail_all(pc, &err);
  if (pc->dc.on_lost && !pc->guard.closing)
    pc->dc.on_lost(&pc->dc, pc->dc.event_data);
}

void uvsql__pg_broken(uvsql__pg_conn_t *pc, const char *why) {
  broken(pc, why, NULL);
}

static void broken_libpq(uvsql__pg_conn_t *pc) {
  char flat[UVSQL_ERROR_MESSAGE_MAX];
  uvsql__pg_flatten(PQerrorMessage(pc->pg), flat, sizeof flat);
  broken(pc, flat[0] ? flat : "libpq reported an error without a message", NULL);
}

void uvsql__pg_fail_pending(uvsql__kit_guard_t *g) {
  uvsql__pg_conn_t *pc = UVSQL__KIT_OWNER(g, uvsql__pg_conn_t, guard);
  uvsql_error_t err;
  if (pc->state == UVSQL__PG_BROKEN) {
    uvsql__error_set(&err, UVSQL_EDISCONNECT, "connection to the server was lost: %s",
                     pc->broken_msg);
    uvsql__pg_fail_all(pc, &err);
  } else if (pc->state == UVSQL__PG_FAILED) {
    uvsql__error_set(&err, UVSQL_ECONNECT,
                     "the connection to %s could not be made: check that the server is running "
                     "there, then check out a new connection",
                     pc->where[0] ? pc->where : "the server");
    uvsql__pg_fail_all(pc, &err);
  }
}

/* ------------------------------------------------------------------ sending */

/* 1 if req is a plain SELECT (invariant 9); worked out once, kept in req->state. The last
 * few texts' answers are remembered on the connection (compared byte for byte), so that the
 * same statement run by many callers is scanned once. */
static int req_plain(uvsql__pg_conn_t *pc, uvsql__request_t *req) {
  if (!(req->state & UVSQL__PG_RS_PLAIN_KNOWN)) {
    int plain = 0;
    if (!pc->solo_syncs && !(req->state & (UVSQL__PG_RS_MULTI | UVSQL__PG_RS_INTERNAL)) &&
        !(req->flags &
          (UVSQL__REQ_STREAM | UVSQL__REQ_MANY | UVSQL__REQ_COPY_IN | UVSQL__REQ_COPY_OUT))) {
      int hit = 0;
      for (int i = 0; i < UVSQL__PG_PLAIN_MEMO && !hit; i++) {
        const uvsql__pg_plain_memo_t *m = &pc->plain_memo[i];
        if (m->len == req->sql_len && m->len && memcmp(m->text, req->sql, m->len) == 0) {
          hit = 1;
          plain = m->plain;
        }
      }
      if (!hit) {
        plain = uvsql__pg_sql_is_plain_select(req->sql, req->sql_len);
        if (req->sql_len <= sizeof pc->plain_memo[0].text) {
          uvsql__pg_plain_memo_t *m = &pc->plain_memo[pc->plain_memo_next];
          pc->plain_memo_next = (pc->plain_memo_next + 1) % UVSQL__PG_PLAIN_MEMO;
          memcpy(m->text, req->sql, req->sql_len);
          m->len = req->sql_len;
          m->plain = plain;
        }
      }
    }
    req->state |= UVSQL__PG_RS_PLAIN_KNOWN | (plain ? UVSQL__PG_RS_PLAIN : 0);
  }
  return (req->state & UVSQL__PG_RS_PLAIN) != 0;
}

static int can_send(uvsql__pg_conn_t *pc) {
  uvsql__request_t *req = pc->pending.head;
  return pc->state == UVSQL__PG_READY && !pc->simple_mode && req && !pc->cancel_job &&
         !((req->state & UVSQL__PG_RS_MULTI) && pc->sent.head) &&
         !((pc->groups_inflight > 0 || pc->group_size > 1) && !req_plain(pc, req));
}

/* Ends the open sync group (invariant 9) with its Sync. Returns 0, or -1 if libpq failed. */
static int close_group(uvsql__pg_conn_t *pc) {
  if (!pc->group_open)
    return 0;
  if (pc->group_size > 1) {
    pc->group_last->state |= UVSQL__PG_RS_GROUP_END;
    pc->groups_inflight++;
    pc->parse_stmt = NULL; /* a Parse in a shared group may not run: nobody outside borrows it */
  }
  pc->group_open = 0;
  pc->group_size = 0;
  pc->group_last = NULL;
  return PG_SYNC(pc->pg) ? 0 : -1;
}

/* A shared group is complete: what a neighbour's failure kept from running goes out again,
 * before anything else pending but behind what an earlier group's failure put there
 * (invariant 9). */
static void group_done(uvsql__pg_conn_t *pc) {
  uvsql__request_t **link = &pc->pending.head;
  if (pc->groups_inflight > 0)
    pc->groups_inflight--;
  if (!pc->rerun.head)
    return;
  while (*link && ((*link)->state & UVSQL__PG_RS_SOLO))
    link = &(*link)->next;
  pc->rerun.tail->next = *link;
  if (!*link)
    pc->pending.tail = pc->rerun.tail;
  *link = pc->rerun.head;
  pc->rerun.head = pc->rerun.tail = NULL;
}

/* Tells the watcher what we wait for: always readable (results, and EOF when idle), writable
 * while libpq has output left. Something ready to be sent goes out from the loop's prepare
 * phase (uvsql__watcher_soon): everything submitted in one loop iteration together, and no
 * epoll_ctl to add and drop writability per statement. Returns 0 or a code. */
static int update_watch(uvsql__pg_conn_t *pc) {
  int fd, events, rc;
  if (pc->state != UVSQL__PG_READY || !pc->pg)
    return 0;
  /* an idle connection (say, in the pool) must not keep uv_run() from returning */
  uvsql__watcher_keepalive(pc->watcher, pc->pending.head || pc->sent.head);
  if (can_send(pc))
    uvsql__watcher_soon(pc->watcher);
  fd = PQsocket(pc->pg);
  events = UV_READABLE | (pc->flush_pending ? UV_WRITABLE : 0);
  if (fd == pc->watch_fd && events == pc->watch_events)
    return 0;
  rc = fd < 0 ? UVSQL_EDISCONNECT : uvsql__watcher_watch(pc->watcher, fd, events);
  if (rc == 0) {
    pc->watch_fd = fd;
    pc->watch_events = events;
  }
  return rc;
}

static void move_to_sent(uvsql__pg_conn_t *pc, uvsql__request_t *req) {
  req->state = (req->state & ~UVSQL__PG_RS_QUEUED) | UVSQL__PG_RS_SENT;
  uvsql__kit_queue_push(&pc->sent, req);
}

/* A request that cannot be sent keeps its place: it fails when it reaches the head. */
static void prefail(uvsql__pg_conn_t *pc, uvsql__request_t *req, const uvsql_error_t *err) {
  uvsql_error_t *copy = malloc(sizeof *copy);
  if (copy)
    *copy = *err;
  req->driver_data = copy; /* NULL: report out of memory */
  req->state |= UVSQL__PG_RS_PREFAILED;
  move_to_sent(pc, req);
}

/* Sends DEALLOCATE for an evicted statement as its own group (invariant 4). */
static int send_deallocate(uvsql__pg_conn_t *pc, uvsql__pg_stmt_t *old) {
  char sql[64];
  uvsql__request_t *req;
  snprintf(sql, sizeof sql, "DEALLOCATE %s", old->name);
  uvsql__kit_lru_unref(&pc->cache, &old->entry);
  if (close_group(pc) != 0)
    return -1;
  pc->parse_stmt = NULL;
  req = internal_new(sql);
  if (!req)
    return 0; /* the statement stays on the server until the session ends; harmless */
  if (!PQsendQueryParams(pc->pg, req->sql, 0, NULL, NULL, NULL, NULL, 0) || !PG_SYNC(pc->pg)) {
    free(req);
    return -1;
  }
  move_to_sent(pc, req);
  return 0;
}

void uvsql__pg_stmt_evict(uvsql__kit_lru_t *c, uvsql__kit_lru_entry_t *e) {
  uvsql__pg_conn_t *pc = UVSQL__KIT_OWNER(c, uvsql__pg_conn_t, cache);
  if (send_deallocate(pc, (uvsql__pg_stmt_t *)e) != 0)
    pc->dealloc_failed = 1;
}

void uvsql__pg_stmt_release(uvsql__kit_lru_t *c, uvsql__kit_lru_entry_t *e) {
  (void)c;
  free(((uvsql__pg_stmt_t *)e)->parse_err);
}

/* Sends one single-statement request as a sync group. Returns 0, or -1 if libpq failed (the
 * connection is then unusable: its pipeline state is unknown). */
static int send_one(uvsql__pg_conn_t *pc, uvsql__request_t *req) {
  uvsql__pg_params_t p;
  uvsql_error_t err;
  uvsql__pg_stmt_t *stmt = NULL;
  int ok, joins, n = req->nparams;

  if (n > 65535) {
    uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT,
                     "%d parameters: PostgreSQL takes at most 65535 in one statement", n);
    prefail(pc, req, &err);
    return 0;
  }
  if (uvsql__pg_params_encode(&p, req->params, n, &err) != 0) {
    prefail(pc, req, &err);
    return 0;
  }
  if (!(req->flags & UVSQL__REQ_NO_PREPARE) && pc->cache.cap > 0) {
    stmt = (uvsql__pg_stmt_t *)uvsql__kit_lru_get(&pc->cache, req->sql, req->sql_len, p.types,
                                                  (size_t)n * sizeof(Oid));
    if (stmt && !stmt->prepared) {
      if (stmt == pc->parse_stmt)
        req->state |= UVSQL__PG_RS_BORROWED; /* invariant 3 */
      else
        stmt = NULL; /* its Parse is in flight, and other groups went out since */
    } else if (!stmt) {
      pc->dealloc_failed = 0;
      stmt = (uvsql__pg_stmt_t *)uvsql__kit_lru_add(&pc->cache, req->sql, req->sql_len, p.types,
                                                    (size_t)n * sizeof(Oid));
      if (pc->dealloc_failed) { /* uvsql__pg_stmt_evict could not send the DEALLOCATE */
        uvsql__pg_params_free(&p);
        move_to_sent(pc, req); /* so that it is failed with the rest */
        return -1;
      }
      if (stmt) {
        snprintf(stmt->name, sizeof stmt->name, "uvsql_%lu", ++pc->stmt_next_id);
        req->state |= UVSQL__PG_RS_PREPARE;
      }
    }
  }
  /* invariant 9: may it share the open group's Sync? (the cache remembers the answer) */
  if (stmt && stmt->plain && !(req->state & UVSQL__PG_RS_PLAIN_KNOWN))
    req->state |= UVSQL__PG_RS_PLAIN_KNOWN | (stmt->plain > 0 ? UVSQL__PG_RS_PLAIN : 0);
  joins = req_plain(pc, req) && !(req->state & (UVSQL__PG_RS_SOLO | UVSQL__PG_RS_RETRIED |
                                                UVSQL__PG_RS_CANCEL | UVSQL__PG_RS_CANCEL_SENT));
  if (stmt && !stmt->plain)
    stmt->plain = (req->state & UVSQL__PG_RS_PLAIN) ? 1 : -1;
  if (pc->group_open && (!joins || pc->group_size >= PG_GROUP_MAX) && close_group(pc) != 0) {
    uvsql__pg_params_free(&p);
    if (stmt) {
      uvsql__kit_lru_ref(&stmt->entry);
      req->driver_data = stmt;
    }
    move_to_sent(pc, req); /* so that it is failed with the rest */
    return -1;
  }
  pc->parse_stmt =
      stmt && (req->state & (UVSQL__PG_RS_PREPARE | UVSQL__PG_RS_BORROWED)) ? stmt : NULL;
  if (!stmt) {
    ok = PQsendQueryParams(pc->pg, req->sql, n, p.types, p.values, p.lengths, p.formats, 0);
  } else {
    ok = !(req->state & UVSQL__PG_RS_PREPARE) ||
         PQsendPrepare(pc->pg, stmt->name, req->sql, n, p.types);
    ok = ok && PQsendQueryPrepared(pc->pg, stmt->name, n, p.values, p.lengths, p.formats,
                                   stmt->binary == 1 ? 1 : 0);
    uvsql__kit_lru_ref(&stmt->entry);
    req->driver_data = stmt;
  }
  uvsql__pg_params_free(&p);
  move_to_sent(pc, req); /* on failure too: it is failed with the rest */
  if (!ok)
    return -1;
  if (!joins)
    return PG_SYNC(pc->pg) ? 0 : -1;
  /* invariant 9: a member with a deadline has its answer sent as soon as it ran (Flush), not
   * at the group's Sync: a slow neighbour must not make it time out */
  if (req->timeout > 0 && !PQsendFlushRequest(pc->pg))
    return -1;
  if (pc->group_open)
    pc->group_last->state |= UVSQL__PG_RS_NOSYNC;
  pc->group_open = 1;
  pc->group_size++;
  pc->group_last = req;
  return 0;
}

/* Checks executemany's sets before anything goes out (invariant 8): a value PostgreSQL cannot
 * take, or a parameter whose type differs between sets. Fills types[n]. Returns 0, or sets err
 * and req->many_failed. */
static int many_check(uvsql__request_t *req, Oid *types, uvsql_error_t *err) {
  int n = req->nparams;
  for (int i = 0; i < n; i++)
    types[i] = 0;
  for (size_t set = 0; set < req->nsets; set++) {
    const uvsql_value_t *v = req->params + set * (size_t)n;
    for (int i = 0; i < n; i++) {
      Oid o = uvsql__pg_oid_of(v[i].type);
      int bad = 0;
      switch (v[i].type) {
      case UVSQL_TYPE_TEXT:
        bad = v[i].u.s.len > (size_t)INT32_MAX - 1;
        break;
      case UVSQL_TYPE_BYTES:
        bad = v[i].u.s.len > (size_t)INT32_MAX;
        break;
      case UVSQL_TYPE_DATE:
        bad = v[i].u.i64 != INT64_MAX && v[i].u.i64 != INT64_MIN &&
              (v[i].u.i64 - UVSQL__PG_EPOCH_DAYS <= INT32_MIN ||
               v[i].u.i64 - UVSQL__PG_EPOCH_DAYS >= INT32_MAX);
        break;
      case UVSQL_TYPE_TIMESTAMP:
      case UVSQL_TYPE_TIMESTAMPTZ:
        bad = v[i].u.i64 != INT64_MIN && v[i].u.i64 < INT64_MIN + UVSQL__PG_EPOCH_US;
        break;
      default:
        break;
      }
      if (bad) {
        req->many_failed = (long)set;
        return uvsql__error_set(err, UVSQL_EDATA,
                                "parameter $%d: the value is out of PostgreSQL's range", i + 1);
      }
      if (!o)
        continue;
      if (!types[i]) {
        types[i] = o;
      } else if (types[i] != o) {
        req->many_failed = (long)set;
        return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                                "parameter $%d has a different value type than in an earlier "
                                "set: give a parameter the same type in every set (or NULL)",
                                i + 1);
      }
    }
  }
  return 0;
}

/* Sends executemany's group (invariant 8). Returns 0, or -1 if libpq failed. */
static int send_many(uvsql__pg_conn_t *pc, uvsql__request_t *req) {
  uvsql__pg_params_t p;
  uvsql_error_t err;
  uvsql__pg_stmt_t *stmt = NULL;
  Oid types_small[32], *types = types_small;
  const char *name = "";
  int ok, n = req->nparams;

  if (n > 65535) {
    uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT,
                     "%d parameters: PostgreSQL takes at most 65535 in one statement", n);
    prefail(pc, req, &err);
    return 0;
  }
  if (close_group(pc) != 0) {
    move_to_sent(pc, req);
    return -1;
  }
  if (n > 32 && !(types = malloc((size_t)n * sizeof *types))) {
    uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory");
    prefail(pc, req, &err);
    return 0;
  }
  if (many_check(req, types, &err) != 0) {
    if (types != types_small)
      free(types);
    prefail(pc, req, &err);
    return 0;
  }
  if (pc->cache.cap > 0) {
    stmt = (uvsql__pg_stmt_t *)uvsql__kit_lru_get(&pc->cache, req->sql, req->sql_len, types,
                                                  (size_t)n * sizeof(Oid));
    if (stmt && !stmt->prepared) {
      if (stmt == pc->parse_stmt)
        req->state |= UVSQL__PG_RS_BORROWED;
      else
        stmt = NULL;
    } else if (!stmt) {
      pc->dealloc_failed = 0;
      stmt = (uvsql__pg_stmt_t *)uvsql__kit_lru_add(&pc->cache, req->sql, req->sql_len, types,
                                                    (size_t)n * sizeof(Oid));
      if (pc->dealloc_failed) {
        if (types != types_small)
          free(types);
        move_to_sent(pc, req);
        return -1;
      }
      if (stmt) {
        snprintf(stmt->name, sizeof stmt->name, "uvsql_%lu", ++pc->stmt_next_id);
        req->state |= UVSQL__PG_RS_PREPARE;
      }
    }
  }
  if (stmt) {
    name = stmt->name;
    uvsql__kit_lru_ref(&stmt->entry);
    req->driver_data = stmt;
  } else {
    req->state |= UVSQL__PG_RS_PREPARE; /* the unnamed statement, parsed for this group */
  }
  pc->parse_stmt =
      stmt && (req->state & (UVSQL__PG_RS_PREPARE | UVSQL__PG_RS_BORROWED)) ? stmt : NULL;
  ok = !(req->state & UVSQL__PG_RS_PREPARE) || PQsendPrepare(pc->pg, name, req->sql, n, types);
  if (types != types_small)
    free(types);
  for (size_t set = 0; ok && set < req->nsets; set++) {
    if (uvsql__pg_params_encode(&p, req->params + set * (size_t)n, n, &err) != 0) {
      ok = 0; /* out of memory (many_check saw the rest): the group is half sent */
      break;
    }
    ok = PQsendQueryPrepared(pc->pg, name, n, p.values, p.lengths, p.formats, 0);
    uvsql__pg_params_free(&p);
  }
  move_to_sent(pc, req); /* on failure too: it is failed with the rest */
  return ok && PG_SYNC(pc->pg) ? 0 : -1;
}

/* Leaves pipeline mode and sends a multi-statement request with the simple protocol. */
static int send_multi(uvsql__pg_conn_t *pc, uvsql__request_t *req) {
  int ok = close_group(pc) == 0 && PQexitPipelineMode(pc->pg) && PQsendQuery(pc->pg, req->sql);
  pc->parse_stmt = NULL;
  move_to_sent(pc, req);
  if (!ok)
    return -1;
  pc->simple_mode = 1;
  return 0;
}

static int send_pending(uvsql__pg_conn_t *pc) {
  while (can_send(pc)) {
    uvsql__request_t *req = uvsql__kit_queue_pop(&pc->pending);
    if ((req->state & UVSQL__PG_RS_MULTI) && (req->flags & UVSQL__REQ_STREAM)) {
      uvsql_error_t err;
      uvsql__error_set(
          &err, UVSQL_EINVALID_ARGUMENT,
          "only a single statement can be streamed; this text holds several: stream one "
          "statement and execute the others separately");
      prefail(pc, req, &err);
      continue;
    }
    if ((req->state & UVSQL__PG_RS_MULTI) && (req->flags & UVSQL__REQ_MANY)) {
      uvsql_error_t err;
      req->many_failed = -2;
      uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT,
                       "executemany runs a single statement; this text holds several: run "
                       "each statement with its own executemany");
      prefail(pc, req, &err);
      continue;
    }
    int rc = (req->state & UVSQL__PG_RS_MULTI) ? send_multi(pc, req)
             : (req->flags & UVSQL__REQ_MANY)  ? send_many(pc, req)
                                               : send_one(pc, req);
    if (rc != 0)
      return -1;
  }
  return close_group(pc);
}

static int flush(uvsql__pg_conn_t *pc) {
  int rc = PQflush(pc->pg);
  if (rc < 0)
    return -1;
  pc->flush_pending = rc == 1;
  return 0;
}

/* ------------------------------------------------------------------ cancel */

/* 1 if req is in the same shared group as the head of `sent` (invariant 9): no Sync between
 * them, so the server runs the group's members one after the other without waiting. */
static int in_head_group(const uvsql__pg_conn_t *pc, const uvsql__request_t *req) {
  for (const uvsql__request_t *r = pc->sent.head; r && r != req; r = r->next)
    if (!(r->state & UVSQL__PG_RS_NOSYNC))
      return 0;
  return 1;
}

static void issue_cancel(uvsql__pg_conn_t *pc, uvsql__request_t *req) {
  int main_idx = (req->state & UVSQL__PG_RS_PREPARE) ? 1 : 0;
  req->state |= UVSQL__PG_RS_CANCEL_SENT;
  if (req->state & (UVSQL__PG_RS_PREFAILED | UVSQL__PG_RS_INTERNAL))
    return;
  if (req->flags & UVSQL__REQ_MANY) /* executemany: its last Execute is the last one */
    main_idx += (int)(req->nsets > (size_t)INT_MAX ? INT_MAX : req->nsets) - 1;
  if (req->flags & UVSQL__REQ_COPY_IN)
    return; /* copy.c ends it with CopyFail: nothing need reach the server out of band */
  if (req == pc->sent.head && !(req->state & UVSQL__PG_RS_MULTI) && pc->rd_count > main_idx)
    return; /* its statement has finished: a cancel now would hit the next one */
  if (pc->cancel_job)
    return; /* one is on its way already (a stream's stop): it serves this one too */
  /* If this fails the statement simply runs to its end. */
  (void)uvsql__pg_cancel_hold(pc);
}

/* Invariant 9: a cancel asked for a member of a shared group while an earlier group was being
 * read goes out once that group is the head's (its answers arrive only at its Sync). */
static void cancel_in_head_group(uvsql__pg_conn_t *pc) {
  uvsql__request_t *r = pc->sent.head;
  if (!r || !(r->state & UVSQL__PG_RS_NOSYNC) || pc->state != UVSQL__PG_READY)
    return;
  for (r = r->next; r && !pc->cancel_job; r = r->next) { /* one cancel at a time */
    if (!(r->state & (UVSQL__PG_RS_NOSYNC | UVSQL__PG_RS_GROUP_END)))
      break;
    if ((r->state & (UVSQL__PG_RS_CANCEL | UVSQL__PG_RS_CANCEL_SENT)) == UVSQL__PG_RS_CANCEL)
      issue_cancel(pc, r);
    if (!(r->state & UVSQL__PG_RS_NOSYNC))
      break; /* the group's last member */
  }
}

static void on_cancel_answered(void *data) {
  uvsql__pg_conn_t *pc = data;
  pc->guard.holds--;
  uvsql__kit_enter(&pc->guard);
  pc->cancel_job = NULL;
  if (!pc->sent.head)
    pc->cancel_fired = 0; /* it found nothing running: no statement can be hit any more */
  if (!pc->guard.closing)
    cancel_in_head_group(pc); /* one asked meanwhile (invariant 9) */
  if (pc->state == UVSQL__PG_READY && !pc->guard.closing)
    uvsql__pg_pump(pc); /* what waited behind the cancel goes out now */
  uvsql__kit_leave(&pc->guard);
}

int uvsql__pg_cancel_hold(uvsql__pg_conn_t *pc) {
  pc->guard.holds++; /* until answered or detached (conn.c: pg_finish_close) */
  if (uvsql__pg_cancel_on_server(pc->dc.loop, pc->pg, on_cancel_answered, pc, &pc->cancel_job) !=
      0) {
    pc->guard.holds--;
    return -1;
  }
  pc->cancel_fired = 1; /* invariant 9: it may stop another member of a shared group */
  return 0;
}

void uvsql__pg_abort(uvsql__dconn_t *dc, const char *why) {
  uvsql__pg_conn_t *pc = (uvsql__pg_conn_t *)dc;
  uvsql__kit_enter(&pc->guard);
  broken(pc, why, NULL);
  uvsql__kit_leave(&pc->guard);
}

int uvsql__pg_cancel(uvsql__dconn_t *dc, uvsql__request_t *req) {
  uvsql__pg_conn_t *pc = (uvsql__pg_conn_t *)dc;
  int rc = UVSQL_EINVALID_ARGUMENT;
  uvsql_error_t err;
  if (!pc || !req)
    return rc;
  uvsql__kit_enter(&pc->guard);
  if ((req->state & UVSQL__PG_RS_QUEUED) &&
      (uvsql__kit_queue_remove(&pc->pending, req) || uvsql__kit_queue_remove(&pc->rerun, req))) {
    uvsql__error_set(&err, UVSQL_ECANCELLED, "cancelled before it was sent to the server");
    deliver(pc, req, NULL, &err);
    rc = 0;
  } else if ((req->state & UVSQL__PG_RS_SENT) && uvsql__kit_queue_contains(&pc->sent, req)) {
    rc = 0;
    if (!(req->state & (UVSQL__PG_RS_CANCEL | UVSQL__PG_RS_CANCEL_SENT))) {
      req->state |= UVSQL__PG_RS_CANCEL;
      /* a member of the head's shared group: at once (invariant 9), its answer waits for the
       * group's Sync */
      if (pc->state == UVSQL__PG_READY && req == pc->sent.head)
        issue_cancel(pc, req);
      else if (pc->state == UVSQL__PG_READY && !pc->cancel_job &&
               (req->state & (UVSQL__PG_RS_NOSYNC | UVSQL__PG_RS_GROUP_END)) &&
               in_head_group(pc, req))
        issue_cancel(pc, req); /* else cancel_in_head_group sends it later */
    }
  }
  uvsql__kit_leave(&pc->guard);
  return rc;
}

/* ------------------------------------------------------------------ reading */

/* DISCARD ALL and DEALLOCATE ALL drop every prepared statement on the server; DISCARD ALL and
 * RESET ALL also reset DateStyle. Forget the statements and put ISO dates back. */
static void after_session_reset(uvsql__pg_conn_t *pc, const char *tag) {
  const char *ds;
  if (!tag || (strcmp(tag, "DISCARD ALL") != 0 && strcmp(tag, "DEALLOCATE ALL") != 0 &&
               strcmp(tag, "RESET") != 0))
    return;
  if (strcmp(tag, "RESET") != 0) {
    uvsql__kit_lru_free(&pc->cache);
    pc->parse_stmt = NULL;
  }
  ds = PQparameterStatus(pc->pg, "DateStyle");
  if (ds && strncmp(ds, "ISO", 3) != 0)
    (void)uvsql__pg_submit_internal_first(pc, "SET DateStyle = ISO");
}

/* req's cached statement went stale (its table was remade with other column types; the
 * server refused to run it, so nothing it would do happened) and was dropped from the cache.
 * Outside a transaction, with nothing else in flight (so that it keeps its place in the
 * order), it goes out once more, first in line, and is prepared anew (as asyncpg does):
 * returns 1. Otherwise the error says what happened and what to do, and 0 is returned: inside
 * a transaction, which the error has aborted, it is UVSQL_ESERIALIZATION (roll back and run
 * the transaction again: it then prepares the statement anew). */
static int stale_retry(uvsql__pg_conn_t *pc, uvsql__request_t *req, PGresult *res,
                       uvsql_error_t *err) {
  PGTransactionStatusType ts = PQtransactionStatus(pc->pg);
  int in_tx = ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR;
  size_t len = strlen(err->message);
  if (!(req->state & (UVSQL__PG_RS_RETRIED | UVSQL__PG_RS_CANCEL | UVSQL__PG_RS_CANCEL_SENT |
                      UVSQL__PG_RS_MULTI)) &&
      !(req->flags & (UVSQL__REQ_STREAM | UVSQL__REQ_MANY)) && !pc->sent.head &&
      ts == PQTRANS_IDLE) {
    if (res)
      PQclear(res);
    uvsql__kit_lru_unref(&pc->cache, req->driver_data);
    req->driver_data = NULL;
    req->state = UVSQL__PG_RS_QUEUED | UVSQL__PG_RS_RETRIED;
    req->next = NULL;
    uvsql__kit_queue_push_front(&pc->pending, req);
    return 1;
  }
  if (in_tx)
    err->code = UVSQL_ESERIALIZATION;
  snprintf(err->message + len, sizeof err->message - len,
           "; a table it reads was changed since this connection prepared it: the statement "
           "was dropped from the cache; %s",
           in_tx ? "roll back and retry the transaction (it prepares the statement anew)"
                 : "run it again");
  return 0;
}

/* The head's statement did not run: a member before it in its shared group failed
 * (invariant 9). It waits in `rerun` for the group's end, or, when its cancel was asked,
 * reports that. */
static void hold_for_rerun(uvsql__pg_conn_t *pc, uvsql__request_t *req) {
  if (req->state & (UVSQL__PG_RS_CANCEL | UVSQL__PG_RS_CANCEL_SENT)) {
    uvsql_error_t err;
    uvsql__error_set(&err, UVSQL_ECANCELLED, "cancelled before it ran on the server");
    deliver(pc, req, NULL, &err);
    return;
  }
  uvsql__kit_lru_unref(&pc->cache, req->driver_data);
  req->driver_data = NULL;
  req->state =
      UVSQL__PG_RS_QUEUED | UVSQL__PG_RS_SOLO | UVSQL__PG_RS_PLAIN_KNOWN | UVSQL__PG_RS_PLAIN;
  uvsql__kit_queue_push(&pc->rerun, req);
}

static void complete_head(uvsql__pg_conn_t *pc);

/* The head's group (or its part of a shared group) is complete: settle it. */
static void complete(uvsql__pg_conn_t *pc) {
  int end = (pc->sent.head->state & UVSQL__PG_RS_GROUP_END) != 0;
  complete_head(pc);
  if (end)
    group_done(pc);
  if (!pc->sent.head && !pc->cancel_job)
    pc->cancel_fired = 0; /* invariant 9: nothing in flight for a cancel sent before to hit */
}

static void complete_head(uvsql__pg_conn_t *pc) {
  uvsql__request_t *req = uvsql__kit_queue_pop(&pc->sent);
  PGresult *res = pc->rd_result;
  uvsql_error_t err = pc->rd_err;
  int prep_failed = pc->rd_prep_failed;
  int aborted = pc->rd_aborted;
  int hit = pc->rd_cancel_hit;
  int stale = pc->rd_stale;
  int64_t many_rows = pc->rd_many_rows;
  uvsql__pg_stmt_t *stmt = req->driver_data;

  pc->rd_result = NULL;
  rd_reset(pc);
  if (req->state & UVSQL__PG_RS_MULTI) {
    pc->simple_mode = 0;
    if (!PQenterPipelineMode(pc->pg)) {
      uvsql__kit_queue_push_front(&pc->sent, req);
      if (res)
        PQclear(res);
      broken_libpq(pc);
      return;
    }
  }
  if (stmt) {
    if (req->state & UVSQL__PG_RS_PREPARE) {
      if (pc->parse_stmt == stmt)
        pc->parse_stmt = NULL; /* confirmed or failed: nothing left to borrow */
      if (prep_failed) {
        uvsql__kit_lru_remove(&pc->cache, &stmt->entry);
        if (!stmt->parse_err && (stmt->parse_err = malloc(sizeof *stmt->parse_err)))
          *stmt->parse_err = err;
      } else if (aborted) {
        uvsql__kit_lru_remove(&pc->cache, &stmt->entry); /* its Parse did not run */
      } else {
        stmt->prepared = 1;
      }
    } else if ((req->state & UVSQL__PG_RS_BORROWED) && err.code && stmt->parse_err) {
      err = *stmt->parse_err; /* invariant 3: the Parse's own error, not "does not exist" */
      aborted = 0;
    }
    if (err.code && stmt->entry.listed && strcmp(err.sqlstate, "26000") == 0) {
      /* the server no longer has it (DEALLOCATE ALL, DISCARD ALL): prepare it again next time */
      uvsql__kit_lru_remove(&pc->cache, &stmt->entry);
    } else if (err.code && stmt->entry.listed && strcmp(err.sqlstate, "0A000") == 0) {
      /* "cached plan must not change result type": the table changed under it */
      uvsql__request_t *dealloc;
      char sql[64];
      snprintf(sql, sizeof sql, "DEALLOCATE %s", stmt->name);
      uvsql__kit_lru_remove(&pc->cache, &stmt->entry);
      if ((dealloc = internal_new(sql))) {
        dealloc->state |= UVSQL__PG_RS_QUEUED;
        uvsql__kit_queue_push(&pc->pending, dealloc);
      }
      if (stale && stale_retry(pc, req, res, &err))
        return;
    }
    if (!err.code && res && stmt->binary == 0) {
      int all = 1;
      for (int c = 0; c < PQnfields(res) && all; c++)
        all = uvsql__pg_binary_known(PQftype(res, c));
      stmt->binary = all ? 1 : -1;
    }
  }
  if (aborted || hit) {
    if (res)
      PQclear(res);
    hold_for_rerun(pc, req);
    return;
  }
  if (req->flags & (UVSQL__REQ_COPY_IN | UVSQL__REQ_COPY_OUT)) {
    uvsql__pg_copy_end(pc, req, &err);
    if (req->flags & UVSQL__REQ_COPY_OUT) {
      if (res)
        PQclear(res);
      deliver(pc, req, NULL, err.code ? &err : NULL);
      return;
    }
  }
  if (req->flags & UVSQL__REQ_STREAM) {
    uvsql__pg_stream_end(pc, req, res, &err);
    if (res)
      PQclear(res);
    deliver(pc, req, NULL, err.code ? &err : NULL);
    return;
  }
  if ((req->flags & UVSQL__REQ_MANY) && !err.code) {
    uvsql_result_t *result = uvsql__result_new(0);
    if (res)
      PQclear(res);
    if (!result) {
      uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory");
      deliver(pc, req, NULL, &err);
    } else {
      uvsql__result_set_rows_affected(result, many_rows);
      deliver(pc, req, result, NULL);
    }
    return;
  }
  if (!err.code && res)
    after_session_reset(pc, PQcmdStatus(res));
  if (err.code) {
    if (res)
      PQclear(res);
    deliver(pc, req, NULL, &err);
  } else if (!res) {
    uvsql__error_set(&err, UVSQL_EINTERNAL, "the server sent no result for the statement");
    deliver(pc, req, NULL, &err);
  } else {
    uvsql_result_t *result = NULL;
    uvsql_error_clear(&err);
    if (uvsql__pg_decode(res, &result, &err) != 0)
      deliver(pc, req, NULL, &err);
    else
      deliver(pc, req, result, NULL);
  }
}

/* Reads what libpq has buffered, settling requests in order. Returns how many were settled,
 * or -1 if the connection broke (everything has been failed then). */
static int read_results(uvsql__pg_conn_t *pc) {
  int settled = 0;
  while (pc->sent.head && pc->state == UVSQL__PG_READY && !pc->guard.closing) {
    uvsql__request_t *req = pc->sent.head;
    PGresult *res;

    if (req->state & UVSQL__PG_RS_PREFAILED) {
      uvsql_error_t nomem, *e = req->driver_data;
      if (!e) {
        uvsql__error_set(&nomem, UVSQL_ENOMEM, "out of memory");
        e = &nomem;
      } else {
        nomem = *e; /* deliver frees driver_data */
        e = &nomem;
      }
      uvsql__kit_queue_pop(&pc->sent);
      deliver(pc, req, NULL, e);
      settled++;
      continue;
    }
    if ((req->state & (UVSQL__PG_RS_CANCEL | UVSQL__PG_RS_CANCEL_SENT)) == UVSQL__PG_RS_CANCEL)
      issue_cancel(pc, req);
    if (pc->rd_count == 0 && !pc->rd_null)
      cancel_in_head_group(pc); /* invariant 9: its group may be the head's only now */
    if (pc->cp.active) {        /* COPY data flows (copy.c); PQgetResult only once it is over */
      int rc = uvsql__pg_copy_step(pc, req);
      if (rc < 0) {
        broken_libpq(pc);
        return -1;
      }
      if (rc == 0 || pc->state != UVSQL__PG_READY || pc->guard.closing)
        break;
    }
    uvsql__pg_stream_arm(pc, req, (req->state & UVSQL__PG_RS_PREPARE) ? 1 : 0);
    if (PQisBusy(pc->pg))
      break;
    res = PQgetResult(pc->pg);
    if (!res) {
      if (req->state & UVSQL__PG_RS_MULTI) {
        complete(pc); /* the simple protocol ends with NULL */
        settled++;
        continue;
      }
      if ((req->state & UVSQL__PG_RS_NOSYNC) &&
          pc->rd_count >= ((req->state & UVSQL__PG_RS_PREPARE) ? 2 : 1)) {
        complete(pc); /* invariant 9: its part of a shared group is over */
        settled++;
        continue;
      }
      if (pc->rd_null)
        break; /* two NULLs in a row: nothing more until input arrives */
      pc->rd_null = 1;
      continue;
    }
    pc->rd_null = 0;
    if (PQresultStatus(res) == PGRES_SINGLE_TUPLE && (req->flags & UVSQL__REQ_STREAM)) {
      uvsql_error_t e;
      if (uvsql__pg_stream_row(pc, req, res, &e) != 0 && !pc->rd_err.code)
        pc->rd_err = e;
      continue; /* rows are not results: rd_count still says whether the statement ended */
    }
    switch (PQresultStatus(res)) {
    case PGRES_PIPELINE_SYNC:
      PQclear(res);
      complete(pc);
      settled++;
      continue;
    case PGRES_FATAL_ERROR:
    case PGRES_NONFATAL_ERROR:
      if (uvsql__pg_error_is_fatal(res) || PQstatus(pc->pg) == CONNECTION_BAD) {
        uvsql_error_t e;
        int has_state;
        uvsql__pg_error_from_result(res, &e);
        has_state = e.sqlstate[0] != '\0';
        PQclear(res);
        e.code = UVSQL_EDISCONNECT;
        if (!has_state && PQstatus(pc->pg) == CONNECTION_BAD) {
          broken_libpq(pc); /* libpq's own "server closed the connection unexpectedly" */
          return -1;
        }
        broken(pc, e.message, &e);
        return -1;
      }
      if (!pc->rd_err.code && pc->cancel_fired &&
          (req->state & (UVSQL__PG_RS_NOSYNC | UVSQL__PG_RS_GROUP_END)) &&
          !(req->state & (UVSQL__PG_RS_CANCEL | UVSQL__PG_RS_CANCEL_SENT))) {
        const char *code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (code && strcmp(code, "57014") == 0) {
          /* invariant 9: stopped by a cancel meant for a neighbour: sent again */
          pc->rd_cancel_hit = 1;
          if ((req->state & UVSQL__PG_RS_PREPARE) && pc->rd_count == 0)
            pc->rd_aborted = 1; /* its Parse did not run */
          PQclear(res);
          break;
        }
      }
      if (!pc->rd_err.code) {
        const char *fn = PQresultErrorField(res, PG_DIAG_SOURCE_FUNCTION);
        uvsql__pg_error_from_result(res, &pc->rd_err);
        /* the routine's name is not translated, unlike the message */
        pc->rd_stale = strcmp(pc->rd_err.sqlstate, "0A000") == 0 && fn &&
                       strcmp(fn, "RevalidateCachedQuery") == 0;
        if (req->flags & UVSQL__REQ_MANY) /* the Parse's error is the statement's, no set's */
          req->many_failed = !(req->state & UVSQL__PG_RS_PREPARE) ? (long)pc->rd_count
                             : pc->rd_count                       ? (long)pc->rd_count - 1
                                                                  : -2;
      }
      if ((req->state & UVSQL__PG_RS_PREPARE) && pc->rd_count == 0)
        pc->rd_prep_failed = 1;
      PQclear(res);
      break;
    case PGRES_PIPELINE_ABORTED:
      if (pc->rd_count == 0 && (req->state & (UVSQL__PG_RS_NOSYNC | UVSQL__PG_RS_GROUP_END)))
        pc->rd_aborted = 1; /* invariant 9: it did not run at all */
      if (!pc->rd_err.code)
        uvsql__error_set(&pc->rd_err, UVSQL_EOPERATIONAL,
                         "not run: an earlier statement of its group failed");
      PQclear(res);
      break;
    case PGRES_COPY_IN:
    case PGRES_COPY_OUT:
    case PGRES_COPY_BOTH: {
      uvsql_error_t e;
      ExecStatusType st = PQresultStatus(res);
      PQclear(res);
      if ((st == PGRES_COPY_IN && (req->flags & UVSQL__REQ_COPY_IN)) ||
          (st == PGRES_COPY_OUT && (req->flags & UVSQL__REQ_COPY_OUT))) {
        uvsql__pg_copy_begin(pc, req);
        continue; /* the copy data flows from the next turn of this loop */
      }
      uvsql__error_set(&e, UVSQL_ENOT_SUPPORTED,
                       "COPY FROM STDIN / TO STDOUT cannot run as a statement: use "
                       "uvsql_engine_copy_in / uvsql_engine_copy_out (uvsql/listen_copy.h); the "
                       "connection was left mid-COPY and is closed");
      broken(pc, "the server started a COPY", &e);
      return -1;
    }
    default: /* TUPLES_OK, COMMAND_OK, EMPTY_QUERY, SINGLE_TUPLE */
      if ((req->flags & (UVSQL__REQ_COPY_IN | UVSQL__REQ_COPY_OUT)) &&
          PQresultStatus(res) == PGRES_TUPLES_OK && pc->rd_count == 0) {
        uvsql__pg_copy_probe(pc, res); /* the COPY's columns: names and types */
      } else if ((req->state & UVSQL__PG_RS_PREPARE) && pc->rd_count == 0) {
        PQclear(res); /* the Parse's CommandComplete */
      } else if (req->flags & UVSQL__REQ_MANY) {
        const char *t = PQcmdTuples(res);
        pc->rd_many_rows += *t ? strtoll(t, NULL, 10) : 0;
        PQclear(res); /* invariant 8: counted, not kept */
      } else {
        if (pc->rd_result)
          PQclear(pc->rd_result); /* several statements: the last one's result counts */
        pc->rd_result = res;
      }
      break;
    }
    pc->rd_count++;
  }
  return settled;
}

/* ------------------------------------------------------------------ notifications */

/* Hands every notification libpq has parsed to the owner's on_notify (freed when none is
 * set, so they never pile up), in arrival order. */
void uvsql__pg_drain_notifies(uvsql__pg_conn_t *pc) {
  PGnotify *n;
  while (pc->pg && !pc->guard.closing && (n = PQnotifies(pc->pg))) {
    if (pc->dc.on_notify)
      pc->dc.on_notify(&pc->dc, n->relname, n->extra ? n->extra : "", n->be_pid, pc->dc.event_data);
    PQfreemem(n);
  }
}

/* ------------------------------------------------------------------ the pump */

void uvsql__pg_pump(uvsql__pg_conn_t *pc) {
  for (;;) {
    int settled;
    if (pc->state != UVSQL__PG_READY || pc->guard.closing)
      return;
    if (send_pending(pc) != 0 || flush(pc) != 0) {
      broken_libpq(pc);
      return;
    }
    /* flushing may have read input (libpq reads while it cannot write): look at it now, as no
     * readable event will come for data already read. */
    settled = read_results(pc);
    if (settled >= 0 && pc->state == UVSQL__PG_READY)
      uvsql__pg_drain_notifies(pc);
    if (settled < 0 || pc->state != UVSQL__PG_READY || pc->guard.closing)
      return;
    if (PQstatus(pc->pg) == CONNECTION_BAD) {
      broken_libpq(pc);
      return;
    }
    if (settled == 0)
      break;
  }
  if (update_watch(pc) != 0)
    broken(pc, "could not watch the connection's socket", NULL);
}

void uvsql__pg_io(uvsql__pg_conn_t *pc, int events, int status) {
  if (events & UVSQL__WATCH_ERROR) {
    /* libuv says EBADF for any POLLERR: let libpq read the socket's real error first */
    char why[128];
    if (!PQconsumeInput(pc->pg)) {
      if (read_results(pc) >= 0 && pc->state == UVSQL__PG_READY)
        broken_libpq(pc);
      return;
    }
    /* Input arrived with the error (e.g. the server's FATAL before it hung up): settle what
     * it completes, so the request in flight gets the server's own words. */
    if (read_results(pc) < 0 || pc->state != UVSQL__PG_READY)
      return;
    if (PQstatus(pc->pg) == CONNECTION_BAD) {
      broken_libpq(pc);
      return;
    }
    snprintf(why, sizeof why, "polling the socket failed: %s", uv_strerror(status));
    broken(pc, why, NULL);
    return;
  }
  if ((events & UV_READABLE) && !PQconsumeInput(pc->pg)) {
    /* settle what had fully arrived before the failure, then fail the rest */
    if (read_results(pc) >= 0 && pc->state == UVSQL__PG_READY) {
      uvsql__pg_drain_notifies(pc); /* what was sent before the end is not lost */
      broken_libpq(pc);
    }
    return;
  }
  uvsql__pg_pump(pc);
}

/* ------------------------------------------------------------------ submit */

void uvsql__pg_submit(uvsql__dconn_t *dc, uvsql__request_t *req) {
  uvsql__pg_conn_t *pc = (uvsql__pg_conn_t *)dc;
  req->next = NULL;
  req->driver_data = NULL;
  req->state = UVSQL__PG_RS_QUEUED;
  if (req->nparams == 0 && uvsql__pg_sql_is_multi(req->sql, req->sql_len))
    req->state |= UVSQL__PG_RS_MULTI;
  uvsql__kit_enter(&pc->guard);
  uvsql__kit_queue_push(&pc->pending, req);
  switch (pc->state) {
  case UVSQL__PG_READY:
    /* sent from the watcher's prepare-phase call (uvsql__watcher_soon), so that everything
     * submitted in this loop iteration goes out together */
    if (update_watch(pc) != 0) {
      pc->state = UVSQL__PG_BROKEN;
      pc->dc.broken = 1;
      snprintf(pc->broken_msg, sizeof pc->broken_msg, "could not watch the connection's socket");
      uvsql__kit_deferred_schedule(&pc->fail_pending, pc->dc.loop);
    }
    break;
  case UVSQL__PG_BROKEN:
  case UVSQL__PG_FAILED:
    uvsql__kit_deferred_schedule(&pc->fail_pending, pc->dc.loop);
    break;
  default: /* RESOLVING, CONNECTING: sent once connected; CLOSED: failed by the close */
    break;
  }
  uvsql__kit_leave(&pc->guard);
}
