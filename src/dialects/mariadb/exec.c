/* src/dialects/mariadb/exec.c — requests on a MariaDB connection: the FIFO queue, the steps
 * of one request, cancel.
 *
 * One request is on the wire at a time (`running`); the rest wait in the driver's queue, in
 * submission order, so a queued request can be withdrawn at once and nothing interleaves.
 *
 * Steps of a request (each a nonblocking call; uvsql__my_step picks the next when one ends):
 *
 *   binary protocol (parameters, or a single statement):
 *     [cache full: STMT_CLOSE of the least recently used statement]
 *     [not cached: PREPARE] -> EXECUTE -> [columns: STMT_FETCH per row, read as they arrive
 *     (stream.c)] -> [more results: STMT_NEXT (-> STMT_STORE, discarded) ...] -> done ->
 *     [statement not cached: STMT_CLOSE]
 *     (EXECUTE failing with 1615 "needs to be re-prepared": STMT_CLOSE -> PREPARE, once;
 *     with 2057, new result columns, the same for a query outside a transaction)
 *   streams (UVSQL__REQ_STREAM, binary protocol only): EXECUTE -> STMT_FETCH per row (stream.c)
 *     -> done
 *   executemany (UVSQL__REQ_MANY, binary protocol): one EXECUTE with every set bound as arrays
 *     (bulk, STMT_ATTR_ARRAY_SIZE) when the server takes bulk operations, else EXECUTE
 *     [-> STMT_STORE, discarded] once per set; done gets the summed row count
 *   text protocol (UVSQL__REQ_NO_PREPARE — BEGIN, COMMIT, savepoints, the pool's ping and
 *   rollback — or several statements in one text without parameters):
 *     QUERY -> STORE -> [more results: NEXT -> STORE ...] -> done
 *
 * The text protocol is also how several statements run as one request ("SET TRANSACTION
 * ISOLATION LEVEL ...; START TRANSACTION"): connections are opened with
 * CLIENT_MULTI_STATEMENTS. Only texts without parameters take that path, so no value of the
 * user's is ever part of SQL text. The result of a multi-statement request is the last result
 * set that had columns, else the row count of the last statement.
 *
 * Invariants:
 *  1. req->done is called exactly once, from the loop, never inside submit(): a request that
 *     cannot start is failed through uvsql__kit_fail_later, and the first request on an idle
 *     connection is started by uvsql__my_kick.
 *  2. A cancelled running request is settled as UVSQL_ECANCELLED whatever the server answers
 *     (MariaDB ends a killed SLEEP() with a row, not an error), unless the connection broke.
 *     While the KILL QUERY connection works (mc->kill), the next request does not start: the
 *     KILL can never reach a later statement.
 *  3. After done, the driver never touches req.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "mariadb.h"

/* ------------------------------------------------------------------ helpers */

/* 1 when sql starts with the word w (any case). */
static int starts_with_word(const char *sql, const char *w) {
  size_t n = strlen(w);
  return strncasecmp(sql, w, n) == 0 && !isalnum((unsigned char)sql[n]) && sql[n] != '_';
}

/* 1 when sql reads only: it starts with SELECT or WITH (MariaDB's CTEs cannot write). */
static int is_query(const char *sql) {
  while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r' || *sql == '(')
    sql++;
  return starts_with_word(sql, "SELECT") || starts_with_word(sql, "WITH");
}

void uvsql__my_stmt_release(uvsql__kit_lru_t *c, uvsql__kit_lru_entry_t *e) {
  (void)c;
  if (((uvsql__my_stmt_t *)e)->stmt)
    mysql_stmt_close(((uvsql__my_stmt_t *)e)->stmt);
}

/* Drops the running statement from the cache after an error that may have spoilt it: it
 * becomes the request's own, closed when the request is done. */
static void uncache(uvsql__my_conn_t *mc) {
  if (mc->cached) {
    mc->cached->stmt = NULL;
    uvsql__kit_lru_remove(&mc->cache, &mc->cached->entry);
    mc->cached = NULL;
  }
}

static void set_stmt_error(uvsql__my_conn_t *mc, MYSQL_STMT *stmt) {
  const uvsql__request_t *req = mc->running;
  uvsql__my_error_set(&mc->err, mysql_stmt_errno(stmt), mysql_stmt_sqlstate(stmt),
                      mysql_stmt_error(stmt), req->sql, req->sql_len);
}

static void set_conn_error(uvsql__my_conn_t *mc) {
  const uvsql__request_t *req = mc->running;
  uvsql__my_error_set(&mc->err, mysql_errno(mc->mysql), mysql_sqlstate(mc->mysql),
                      mysql_error(mc->mysql), req->sql, req->sql_len);
}

void uvsql__my_exec_free(uvsql__my_conn_t *mc) {
  if (mc->stmt && !mc->cached)
    mysql_stmt_close(mc->stmt); /* only once the handle is closed: detached, no I/O */
  mc->stmt = NULL;
  mc->cached = NULL;
  uvsql_result_free(mc->result);
  mc->result = NULL;
  uvsql__my_stream_reset(mc);
}

void uvsql__my_fail_all(uvsql__my_conn_t *mc, const uvsql_error_t *err) {
  uvsql__request_t *req = mc->running;
  uvsql__my_stream_reset(mc);
  if (req) {
    mc->running = NULL;
    mc->cancel_asked = 0;
    uvsql_result_free(mc->result);
    mc->result = NULL;
    req->done(req, NULL, err);
  }
  req = uvsql__kit_queue_take_all(&mc->queue);
  while (req) {
    uvsql__request_t *next = req->next;
    req->next = NULL;
    req->done(req, NULL, err);
    req = next;
  }
}

/* ------------------------------------------------------------------ finishing a request */

/* Settles `running` with mc->result or mc->err, then goes on with the queue. */
static int finish(uvsql__my_conn_t *mc) {
  uvsql__request_t *req = mc->running;
  uvsql_result_t *result = mc->result;
  uvsql_error_t err = mc->err;
  MYSQL_STMT *leftover = mc->stmt && !mc->cached ? mc->stmt : NULL;
  int stopped = mc->st_stop;

  uvsql__my_stream_reset(mc);
  if (mc->many_bulk && mc->stmt) {
    unsigned int zero = 0; /* the cached statement runs one set again next time */
    mysql_stmt_attr_set(mc->stmt, STMT_ATTR_ARRAY_SIZE, &zero);
  }
  mc->many_bulk = 0;
  free(mc->bulk_store);
  mc->bulk_store = NULL;
  if (stopped && err.code && err.code != UVSQL_EDISCONNECT)
    uvsql__error_set(&err, 0, "%s", ""); /* stream.c invariant 2: the KILL's 1317 is no error */
  if (mc->stmt && mc->cached)
    mysql_stmt_free_result(mc->stmt); /* local: every result set was read */
  mc->running = NULL;
  mc->result = NULL;
  mc->stmt = NULL;
  mc->cached = NULL;
  uvsql__error_set(&mc->err, 0, "%s", "");
  if (mc->cancel_asked && err.code != UVSQL_EDISCONNECT) {
    if (!err.code || err.code == UVSQL_ECANCELLED) {
      char native[UVSQL_ERROR_MESSAGE_MAX], state[sizeof err.sqlstate];
      snprintf(native, sizeof native, "%s", err.code ? err.message : "");
      snprintf(state, sizeof state, "%s", err.code ? err.sqlstate : "");
      uvsql__error_set_db(&err, UVSQL_ECANCELLED, state[0] ? state : NULL,
                          err.code ? err.native_code : 0,
                          "the statement was cancelled (KILL QUERY %lu)%s%s", mc->thread_id,
                          native[0] ? ": " : "", native);
    }
    uvsql_result_free(result);
    result = NULL;
  }
  mc->cancel_asked = 0;
  if (err.code) {
    uvsql_result_free(result);
    req->done(req, NULL, &err);
  } else {
    req->done(req, result, NULL);
  }
  if (leftover) {
    if (mc->guard.closing || mc->state != UVSQL__MY_READY) {
      mc->stmt = leftover; /* closed with the handle (uvsql__my_exec_free) */
      return -1;
    }
    mc->op = UVSQL__MY_OP_STMT_CLOSE;
    mc->op_stmt = leftover;
    return mysql_stmt_close_start(&mc->ret_bool, leftover);
  }
  return uvsql__my_start_next(mc);
}

/* A server that receives a packet over its max_allowed_packet drops the connection (the client
 * then reports 2006 "Server has gone away" or 2013) or answers 1153: say so, and what to do,
 * when the request was big enough for that to be the likely cause (1 MiB; MariaDB's default
 * limit is 16 MiB, its least 1 KiB). */
static void hint_packet_size(uvsql__my_conn_t *mc) {
  unsigned e = (unsigned)mc->err.native_code;
  const uvsql__request_t *req = mc->running;
  if (!req || (e != 2006 && e != 2013 && e != 1153))
    return;
  size_t bytes = req->sql_len;
  for (int i = 0; i < req->nparams; i++)
    if (uvsql__type_is_str(req->params[i].type))
      bytes += req->params[i].u.s.len;
  if (e != 1153 && bytes < ((size_t)1 << 20))
    return;
  size_t len = strlen(mc->err.message);
  snprintf(mc->err.message + len, sizeof mc->err.message - len,
           "; the statement with its parameters is %zu bytes, more than the server's "
           "max_allowed_packet allows (SELECT @@max_allowed_packet; the default is 16 MiB): "
           "raise it on the server (SET GLOBAL max_allowed_packet, or in its [mysqld] "
           "configuration) or send smaller values",
           bytes);
}

/* An error ended a step: a lost server breaks the connection, anything else ends the request. */
static int fail_step(uvsql__my_conn_t *mc) {
  hint_packet_size(mc);
  if (uvsql__my_error_is_disconnect((unsigned)mc->err.native_code)) {
    uvsql_error_t err = mc->err;
    err.code = UVSQL_EDISCONNECT;
    uvsql__my_broken(mc, &err);
    return -1;
  }
  return finish(mc);
}

/* ------------------------------------------------------------------ steps */

static int start_prepare(uvsql__my_conn_t *mc) {
  const uvsql__request_t *req = mc->running;
  MYSQL_STMT *stmt = mysql_stmt_init(mc->mysql);
  if (!stmt) {
    uvsql__error_set(&mc->err, UVSQL_ENOMEM, "out of memory preparing a statement");
    return finish(mc);
  }
  mc->stmt = stmt;
  mc->cached = NULL;
  mc->op = UVSQL__MY_OP_PREPARE;
  mc->op_stmt = stmt;
  return mysql_stmt_prepare_start(&mc->ret_int, stmt, req->sql, (unsigned long)req->sql_len);
}

static int start_text(uvsql__my_conn_t *mc) {
  const uvsql__request_t *req = mc->running;
  mc->text_mode = 1;
  mc->op = UVSQL__MY_OP_QUERY;
  return mysql_real_query_start(&mc->ret_int, mc->mysql, req->sql, (unsigned long)req->sql_len);
}

/* The server takes bulk executions (MariaDB >= 10.2; MySQL never): MARIADB_STMT_BULK_SUPPORTED,
 * through the public getters. */
static int bulk_supported(uvsql__my_conn_t *mc) {
  unsigned long caps = 0, ext = 0;
  if (mariadb_get_infov(mc->mysql, MARIADB_CONNECTION_SERVER_CAPABILITIES, &caps) != 0 ||
      mariadb_get_infov(mc->mysql, MARIADB_CONNECTION_EXTENDED_SERVER_CAPABILITIES, &ext) != 0)
    return 0;
  return !(caps & CLIENT_MYSQL) &&
         (ext & (unsigned long)(MARIADB_CLIENT_STMT_BULK_OPERATIONS >> 32));
}

static int start_execute(uvsql__my_conn_t *mc) {
  const uvsql__request_t *req = mc->running;
  if (mc->cancel_asked) { /* cancelled while preparing: do not run it at all */
    uvsql__error_set(&mc->err, UVSQL_ECANCELLED, "the statement was cancelled before it ran");
    return finish(mc);
  }
  unsigned long want = mysql_stmt_param_count(mc->stmt);
  if (want != (unsigned long)req->nparams) {
    uvsql__error_set(&mc->err, UVSQL_EPROGRAMMING,
                     "the statement takes %lu parameters but %d were given (a '?' in the SQL "
                     "text is a placeholder on MariaDB: write :name placeholders only) [SQL: "
                     "%.200s]",
                     want, req->nparams, req->sql);
    return finish(mc);
  }
  if (req->flags & UVSQL__REQ_MANY) {
    uvsql__request_t *many = mc->running;
    if (mc->many_i == 0 && bulk_supported(mc) && req->nparams > 0 && req->nsets > 1 &&
        uvsql__my_bulk_can(req)) {
      unsigned int size = req->nsets > UINT32_MAX ? UINT32_MAX : (unsigned int)req->nsets;
      int rc = uvsql__my_bind_bulk(mc, many);
      if (rc == UVSQL_ENOMEM)
        uvsql__error_set(&mc->err, UVSQL_ENOMEM, "out of memory binding parameters");
      if (rc != 0)
        return finish(mc);
      mc->many_bulk = 1;
      if (mysql_stmt_attr_set(mc->stmt, STMT_ATTR_ARRAY_SIZE, &size) != 0 ||
          mysql_stmt_bind_param(mc->stmt, (MYSQL_BIND *)mc->bulk_store) != 0) {
        set_stmt_error(mc, mc->stmt);
        return finish(mc);
      }
      mc->op = UVSQL__MY_OP_EXECUTE;
      mc->op_stmt = mc->stmt;
      return mysql_stmt_execute_start(&mc->ret_int, mc->stmt);
    }
    uvsql__request_t one = *req; /* the loop: set many_i, bound as a statement of its own */
    one.params = req->params + mc->many_i * (size_t)req->nparams;
    int brc = req->nparams ? uvsql__my_bind_params(mc, &one) : 0;
    if (brc != 0) {
      if (brc == UVSQL_ENOT_SUPPORTED)
        uvsql__error_set(&mc->err, brc,
                         "a parameter is an ARRAY: mariadb has no ARRAY type: use JSON (a JSON "
                         "array as text) instead");
      else
        uvsql__error_set(&mc->err, UVSQL_ENOMEM, "out of memory binding parameters");
      return finish(mc);
    }
    if (req->nparams && mysql_stmt_bind_param(mc->stmt, mc->binds) != 0) {
      set_stmt_error(mc, mc->stmt);
      return finish(mc);
    }
  } else if (req->nparams) {
    int brc = uvsql__my_bind_params(mc, req);
    if (brc == UVSQL_ENOT_SUPPORTED) {
      uvsql__error_set(&mc->err, brc,
                       "a parameter is an ARRAY: mariadb has no ARRAY type: use JSON (a JSON "
                       "array as text) instead");
      return finish(mc);
    }
    if (brc != 0) {
      uvsql__error_set(&mc->err, UVSQL_ENOMEM, "out of memory binding parameters");
      return finish(mc);
    }
    if (mysql_stmt_bind_param(mc->stmt, mc->binds) != 0) {
      set_stmt_error(mc, mc->stmt);
      return finish(mc);
    }
  }
  mc->op = UVSQL__MY_OP_EXECUTE;
  mc->op_stmt = mc->stmt;
  return mysql_stmt_execute_start(&mc->ret_int, mc->stmt);
}

static int after_stmt_result(uvsql__my_conn_t *mc);

/* The rows of a stream (stream.c), and what follows its last fetch. */
static int stream_next(uvsql__my_conn_t *mc, int first) {
  int outcome, st = uvsql__my_stream_step(mc, first, &outcome);
  if (outcome == UVSQL__MY_STREAM_FETCHING)
    return st;
  if (outcome == UVSQL__MY_STREAM_END)
    return after_stmt_result(mc);
  uncache(mc); /* it may hold unread rows: close it rather than reuse it */
  return fail_step(mc);
}

/* The first call of the head request. -2: it ended at once (mc->err set). */
static int begin(uvsql__my_conn_t *mc) {
  const uvsql__request_t *req = mc->running;
  int multi = req->nparams == 0 && uvsql__my_is_multi(req->sql, req->sql_len);
  if ((req->flags & UVSQL__REQ_STREAM) && multi) {
    uvsql__error_set(&mc->err, UVSQL_EINVALID_ARGUMENT,
                     "only a single statement can be streamed; this text holds several: "
                     "stream one statement and execute the others separately");
    return finish(mc);
  }
  if ((req->flags & UVSQL__REQ_MANY) && multi) {
    mc->running->many_failed = -2;
    uvsql__error_set(&mc->err, UVSQL_EINVALID_ARGUMENT,
                     "executemany runs a single statement; this text holds several: run each "
                     "statement with its own executemany");
    return finish(mc);
  }
  if ((req->flags & UVSQL__REQ_NO_PREPARE) || multi)
    return start_text(mc);
  uvsql__my_stmt_t *e =
      (uvsql__my_stmt_t *)uvsql__kit_lru_get(&mc->cache, req->sql, req->sql_len, NULL, 0);
  if (e) {
    mc->stmt = e->stmt;
    mc->cached = e;
    return start_execute(mc);
  }
  if (uvsql__kit_lru_full(&mc->cache)) { /* close the least recently used first */
    e = (uvsql__my_stmt_t *)uvsql__kit_lru_evict(&mc->cache);
    MYSQL_STMT *old = e->stmt;
    e->stmt = NULL;
    uvsql__kit_lru_unref(&mc->cache, &e->entry);
    mc->op = UVSQL__MY_OP_STMT_CLOSE;
    mc->op_stmt = old;
    return mysql_stmt_close_start(&mc->ret_bool, old);
  }
  return start_prepare(mc);
}

int uvsql__my_start_next(uvsql__my_conn_t *mc) {
  if (mc->guard.closing || mc->state != UVSQL__MY_READY || mc->running || mc->kill ||
      mc->op != UVSQL__MY_OP_NONE || !mc->queue.head)
    return -1;
  uvsql__request_t *req = uvsql__kit_queue_pop(&mc->queue);
  mc->running = req;
  mc->cancel_asked = 0;
  mc->reprepared = 0;
  mc->text_mode = 0;
  mc->draining = 0;
  mc->stmt = NULL;
  mc->cached = NULL;
  mc->result = NULL;
  mc->many_i = 0;
  mc->many_rows = 0;
  mc->many_bulk = 0;
  uvsql__error_set(&mc->err, 0, "%s", "");
  return begin(mc);
}

/* After a result set is read: more of them (CALL), or the end. */
static int after_stmt_result(uvsql__my_conn_t *mc) {
  if (mysql_stmt_more_results(mc->stmt)) {
    mc->draining = 1;
    mc->op = UVSQL__MY_OP_STMT_NEXT;
    mc->op_stmt = mc->stmt;
    return mysql_stmt_next_result_start(&mc->ret_int, mc->stmt);
  }
  if (mc->running->flags & UVSQL__REQ_MANY) {
    if (!mc->many_bulk && ++mc->many_i < mc->running->nsets) {
      mc->draining = 0;
      return start_execute(mc); /* the next set */
    }
    uvsql_result_free(mc->result);
    if (!(mc->result = uvsql__result_new(0)))
      uvsql__error_set(&mc->err, UVSQL_ENOMEM, "out of memory");
    else
      uvsql__result_set_rows_affected(mc->result, mc->many_rows);
  }
  return finish(mc);
}

static int keep_text_result(uvsql__my_conn_t *mc, MYSQL_RES *res) {
  uvsql_result_t *r = NULL;
  if (res) {
    int rc = uvsql__my_decode_text(res, &r, &mc->err);
    mysql_free_result(res); /* stored: local */
    if (rc)
      return rc;
    uvsql_result_free(mc->result); /* the last result set with columns wins */
    mc->result = r;
    return 0;
  }
  if (mc->result && uvsql_result_ncols(mc->result) > 0)
    return 0;
  if (!(r = uvsql__result_new(0)))
    return uvsql__error_set(&mc->err, UVSQL_ENOMEM, "out of memory");
  uvsql__result_set_rows_affected(r, (int64_t)mysql_affected_rows(mc->mysql));
  uvsql_result_free(mc->result);
  mc->result = r;
  return 0;
}

int uvsql__my_step(uvsql__my_conn_t *mc, uvsql__my_op_t op) {
  uvsql_result_t *r;
  switch (op) {
  case UVSQL__MY_OP_STMT_CLOSE:
    mc->op_stmt = NULL; /* freed by Connector/C */
    if (mc->running && !mc->guard.closing)
      return start_prepare(mc); /* an eviction made room, or a stale statement went */
    return uvsql__my_start_next(mc);

  case UVSQL__MY_OP_PREPARE:
    if (mc->ret_int != 0) {
      unsigned e = mysql_stmt_errno(mc->stmt);
      if (e == 1295 && mc->running->nparams == 0 && !(mc->running->flags & UVSQL__REQ_STREAM)) {
        /* not preparable: send it as text (a stream needs the binary protocol) */
        mysql_stmt_close(mc->stmt); /* never prepared: nothing to tell the server */
        mc->stmt = NULL;
        return start_text(mc);
      }
      set_stmt_error(mc, mc->stmt);
      mysql_stmt_close(mc->stmt); /* never prepared: no I/O */
      mc->stmt = NULL;
      return fail_step(mc);
    }
    if (!uvsql__kit_lru_full(&mc->cache) && /* full: begin() evicted, unless it is off */
        (mc->cached = (uvsql__my_stmt_t *)uvsql__kit_lru_add(&mc->cache, mc->running->sql,
                                                             mc->running->sql_len, NULL, 0)))
      mc->cached->stmt = mc->stmt;
    return start_execute(mc);

  case UVSQL__MY_OP_EXECUTE:
    if (mc->ret_int != 0 && mysql_stmt_errno(mc->stmt) == 1615 && mc->cached && !mc->reprepared) {
      /* "Prepared statement needs to be re-prepared" (a table changed under a cached
       * statement): close it and prepare the text again, once. */
      MYSQL_STMT *old = mc->stmt;
      uncache(mc);
      mc->reprepared = 1;
      mc->stmt = NULL;
      mc->op = UVSQL__MY_OP_STMT_CLOSE;
      mc->op_stmt = old;
      return mysql_stmt_close_start(&mc->ret_bool, old);
    }
    if (mc->ret_int != 0) {
      set_stmt_error(mc, mc->stmt);
      if (mc->running->flags & UVSQL__REQ_MANY)
        mc->running->many_failed = mc->many_bulk ? -1 : (long)mc->many_i;
      if (mysql_stmt_errno(mc->stmt) == 2057) {
        /* CR_NEW_STMT_METADATA: the server ran it, but its columns changed since it was
         * prepared (the table was altered or made again). A query (SELECT, WITH) outside a
         * transaction is prepared and run once more, as on PostgreSQL; anything else could
         * repeat its effects: drop it from the cache (finish closes it, reading what is
         * left) and say so. Inside a transaction: retry the transaction. */
        unsigned status = 0;
        int in_tx = mariadb_get_infov(mc->mysql, MARIADB_CONNECTION_SERVER_STATUS, &status) != 0 ||
                    (status & SERVER_STATUS_IN_TRANS);
        if (!in_tx && mc->cached && !mc->reprepared && !mc->cancel_asked &&
            !(mc->running->flags & UVSQL__REQ_STREAM) && is_query(mc->running->sql)) {
          MYSQL_STMT *old = mc->stmt;
          uncache(mc);
          mc->reprepared = 1;
          mc->stmt = NULL;
          uvsql__error_set(&mc->err, 0, "%s", "");
          mc->op = UVSQL__MY_OP_STMT_CLOSE;
          mc->op_stmt = old;
          return mysql_stmt_close_start(&mc->ret_bool, old);
        }
        uncache(mc);
        uvsql__error_set_db(&mc->err, in_tx ? UVSQL_ESERIALIZATION : UVSQL_EOPERATIONAL, NULL, 2057,
                            "the result columns of a cached prepared statement changed: a table "
                            "it reads was changed since this connection prepared it: the "
                            "statement was dropped from the cache; %s [SQL: %.200s]",
                            in_tx ? "roll back and retry the transaction (it prepares the "
                                    "statement anew)"
                                  : "run it again",
                            mc->running->sql);
      }
      return fail_step(mc);
    }
    if (mysql_stmt_field_count(mc->stmt) > 0 && !(mc->running->flags & UVSQL__REQ_MANY))
      return stream_next(mc, 1); /* rows read as they arrive (stream.c), streamed or not */
    if (mc->running->flags & UVSQL__REQ_MANY) {
      my_ulonglong n = mysql_stmt_affected_rows(mc->stmt);
      if (n != (my_ulonglong)-1)
        mc->many_rows += (int64_t)n;
      mc->draining = 1; /* rows it returns are discarded */
    }
    if (mysql_stmt_field_count(mc->stmt) > 0) {
      mc->op = UVSQL__MY_OP_STMT_STORE;
      mc->op_stmt = mc->stmt;
      return mysql_stmt_store_result_start(&mc->ret_int, mc->stmt);
    }
    if (mc->running->flags & UVSQL__REQ_MANY)
      return after_stmt_result(mc);
    if (!(r = uvsql__result_new(0))) {
      uvsql__error_set(&mc->err, UVSQL_ENOMEM, "out of memory");
      return finish(mc);
    }
    uvsql__result_set_rows_affected(r, (int64_t)mysql_stmt_affected_rows(mc->stmt));
    mc->result = r;
    return after_stmt_result(mc);

  case UVSQL__MY_OP_STMT_STORE:
    if (mc->ret_int != 0) {
      set_stmt_error(mc, mc->stmt);
      uncache(mc); /* it may hold unread rows: close it rather than reuse it */
      return fail_step(mc);
    }
    /* only rows that are discarded are stored: executemany's, a CALL's later result sets */
    mysql_stmt_free_result(mc->stmt); /* local: the rows were stored */
    return after_stmt_result(mc);

  case UVSQL__MY_OP_STMT_FETCH:
    return stream_next(mc, 0);

  case UVSQL__MY_OP_STMT_NEXT:
    if (mc->ret_int > 0) {
      set_stmt_error(mc, mc->stmt);
      uvsql_result_free(mc->result);
      mc->result = NULL;
      uncache(mc);
      return fail_step(mc);
    }
    if (mc->ret_int == 0 && mysql_stmt_field_count(mc->stmt) > 0) {
      mc->op = UVSQL__MY_OP_STMT_STORE;
      mc->op_stmt = mc->stmt;
      return mysql_stmt_store_result_start(&mc->ret_int, mc->stmt);
    }
    return mc->ret_int == 0 ? after_stmt_result(mc) : finish(mc);

  case UVSQL__MY_OP_QUERY:
    if (mc->ret_int != 0) {
      set_conn_error(mc);
      return fail_step(mc);
    }
    mc->op = UVSQL__MY_OP_STORE;
    mc->ret_res = NULL;
    return mysql_store_result_start(&mc->ret_res, mc->mysql);

  case UVSQL__MY_OP_STORE: {
    MYSQL_RES *res = mc->ret_res;
    mc->ret_res = NULL;
    if (!res && mysql_field_count(mc->mysql) != 0) {
      set_conn_error(mc);
      return fail_step(mc);
    }
    if (keep_text_result(mc, res) != 0)
      return finish(mc);
    if (mysql_more_results(mc->mysql)) {
      mc->op = UVSQL__MY_OP_NEXT;
      return mysql_next_result_start(&mc->ret_int, mc->mysql);
    }
    return finish(mc);
  }

  case UVSQL__MY_OP_NEXT:
    if (mc->ret_int > 0) {
      set_conn_error(mc);
      uvsql_result_free(mc->result);
      mc->result = NULL;
      return fail_step(mc);
    }
    if (mc->ret_int < 0)
      return finish(mc);
    mc->op = UVSQL__MY_OP_STORE;
    mc->ret_res = NULL;
    return mysql_store_result_start(&mc->ret_res, mc->mysql);

  default:
    return -1;
  }
}

/* ------------------------------------------------------------------ submit and cancel */

void uvsql__my_submit(uvsql__dconn_t *dc, uvsql__request_t *req) {
  uvsql__my_conn_t *mc = (uvsql__my_conn_t *)dc;
  uvsql_error_t err;
  req->next = NULL;
  if (mc->guard.closing || mc->state == UVSQL__MY_CLOSING || mc->state == UVSQL__MY_CLOSED) {
    uvsql__error_set(&err, UVSQL_ECLOSED,
                     "the MariaDB connection is closed: check out another "
                     "connection from the engine");
    uvsql__kit_fail_later(dc->loop, req, &err);
    return;
  }
  if (mc->state == UVSQL__MY_FAILED) {
    uvsql__error_set(&err, UVSQL_ECONNECT, "the connection to %s could not be made", mc->where);
    uvsql__kit_fail_later(dc->loop, req, &err);
    return;
  }
  if (mc->state == UVSQL__MY_BROKEN) {
    uvsql__error_set(&err, UVSQL_EDISCONNECT,
                     "the connection to %s was lost earlier; the pool replaces it with a new "
                     "one",
                     mc->where);
    uvsql__kit_fail_later(dc->loop, req, &err);
    return;
  }
  uvsql__kit_queue_push(&mc->queue, req);
  if (mc->state == UVSQL__MY_READY && !mc->running && mc->op == UVSQL__MY_OP_NONE)
    uvsql__my_kick(mc); /* invariant 1 (inside a done callback the running step may start it
                           first; the kick then finds the connection busy and does nothing) */
}

int uvsql__my_cancel(uvsql__dconn_t *dc, uvsql__request_t *req) {
  uvsql__my_conn_t *mc = (uvsql__my_conn_t *)dc;
  int rc = 0;
  uvsql__kit_enter(&mc->guard);
  if (uvsql__kit_queue_remove(&mc->queue, req)) { /* not sent: withdraw it */
    uvsql_error_t err;
    uvsql__error_set(&err, UVSQL_ECANCELLED, "the statement was cancelled before it was sent");
    req->done(req, NULL, &err);
  } else if (req != mc->running) {
    rc = UVSQL_EINVALID_ARGUMENT;
  } else if (!mc->cancel_asked) {
    mc->cancel_asked = 1;
    if (!mc->kill && mc->state == UVSQL__MY_READY && mc->thread_id)
      rc = uvsql__my_kill_start(mc);
  }
  uvsql__kit_leave(&mc->guard);
  return rc;
}

void uvsql__my_abort(uvsql__dconn_t *dc, const char *why) {
  uvsql__my_conn_t *mc = (uvsql__my_conn_t *)dc;
  uvsql_error_t err;
  uvsql__kit_enter(&mc->guard);
  if (mc->state == UVSQL__MY_READY) {
    uvsql__error_set(&err, UVSQL_EDISCONNECT, "connection to the server was lost: %s", why);
    uvsql__my_broken(mc, &err);
  }
  uvsql__kit_leave(&mc->guard);
}
