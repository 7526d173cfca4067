/* src/dialects/sqlite/exec.c — one request, run to the end on the connection's worker thread.
 *
 * uvsql__sq_execute: prepare (or take from the statement cache), check and bind the parameters,
 * step every row into a uvsql_result_t, reset. SQL holding several statements (a schema script)
 * runs them in order through sqlite3_prepare_v3's tail pointer; each takes the parameters it names
 * (?N is params[N-1]); the result is the last statement's. uvsql__sq_open and uvsql__sq_close_db
 * bracket the connection's life.
 *
 * Invariants:
 *  1. Runs on the worker thread only; touches conn->db, conn->cache, conn->result, conn->err
 *     and reads conn->cancel (atomic). Never the loop, never a future.
 *  2. On return, every statement used is reset with its bindings cleared (cached) or finalized
 *     (not cached, or part of a script): no statement stays active, so no lock is held between
 *     requests outside a transaction and a later sqlite3_interrupt cannot hit a stale one.
 *  3. Exactly one of conn->result and conn->err.code is set when uvsql__sq_execute returns.
 *  4. Only single statements are cached, and never with UVSQL__REQ_NO_PREPARE.
 *  6. executemany (UVSQL__REQ_MANY, execute_many): one statement, bound, stepped to its end
 *     and reset once per set; when no transaction is open it runs inside one of its own
 *     (BEGIN ... COMMIT, ROLLBACK on the first error), so the sets are all written or none.
 *  5. A cancel seen between two statements of a script stops it there, so an interrupt that
 *     fell between statements (and that SQLite would forget at the next start) is not lost.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "sqlite.h"

/* The progress handler: the backstop for sqlite3_interrupt. An interrupt that lands between a
 * statement's preparation and its first step is cleared by SQLite when the step starts; this
 * flag is not, and SQLite calls us every PROGRESS_OPS virtual machine instructions. */
#define PROGRESS_OPS 1000

static int on_progress(void *arg) {
  uvsql__sq_conn_t *conn = arg;
  return atomic_load_explicit(&conn->cancel, memory_order_relaxed) != UVSQL__SQ_CANCEL_NONE;
}

static int exec_simple(uvsql__sq_conn_t *conn, const char *sql, char *out, size_t outsize) {
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2(conn->db, sql, -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    return rc;
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW && out) {
    const unsigned char *t = sqlite3_column_text(stmt, 0);
    snprintf(out, outsize, "%s", t ? (const char *)t : "");
  }
  if (rc == SQLITE_ROW || rc == SQLITE_DONE)
    rc = SQLITE_OK;
  sqlite3_finalize(stmt);
  return rc;
}

static void open_failed(uvsql__sq_conn_t *conn, int rc, const char *what) {
  const char *path = conn->opt.path;
  char sys[128] = "";
  int eno = conn->db ? sqlite3_system_errno(conn->db) : 0;
  const char *msg = conn->db ? sqlite3_errmsg(conn->db) : sqlite3_errstr(rc);
  if (eno > 0) /* libuv's codes are -errno on Unix, and uv_strerror is thread-safe */
    snprintf(sys, sizeof sys, " (%s)", uv_strerror(-eno));
  if ((rc & 0xff) == SQLITE_CANTOPEN) {
    /* Say which of the three usual causes it is (we are on the worker: stat may block). */
    char dir[1024];
    const char *slash = strrchr(path, '/');
    struct stat st;
    char text[1200];
    if (!slash)
      snprintf(dir, sizeof dir, ".");
    else
      snprintf(dir, sizeof dir, "%.*s", (int)(slash == path ? 1 : slash - path), path);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
      snprintf(text, sizeof text,
               "the directory %s does not exist: create it first (SQLite creates the database "
               "file, never its directory)",
               dir);
    else if (stat(path, &st) != 0 && !(conn->opt.open_flags & SQLITE_OPEN_CREATE))
      snprintf(text, sizeof text,
               "the file does not exist in %s, and mode=ro and mode=rw never create it: use "
               "mode=rwc (the default) to create it",
               dir);
    else
      snprintf(text, sizeof text,
               "check that the process may read and write the file and its directory %s", dir);
    uvsql__error_set_db(&conn->err, UVSQL_ECONNECT, NULL, rc,
                        "unable to open database file %s: %s%s; %s", path, msg, sys, text);
  } else
    uvsql__error_set_db(&conn->err, UVSQL_ECONNECT, NULL, rc,
                        "could not open SQLite database %s: %s%s%s%s", path, what,
                        *what ? ": " : "", msg, sys);
  sqlite3_close_v2(conn->db);
  conn->db = NULL;
}

void uvsql__sq_open(uvsql__sq_conn_t *conn) {
  char sql[64], got[32];
  int rc;
  uvsql_error_clear(&conn->err);
  rc = sqlite3_open_v2(conn->opt.path, &conn->db, conn->opt.open_flags | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    if (conn->db)
      rc = sqlite3_extended_errcode(conn->db);
    open_failed(conn, rc, "");
    return;
  }
  sqlite3_extended_result_codes(conn->db, 1);
  sqlite3_busy_timeout(conn->db, conn->opt.busy_timeout_ms);
  sqlite3_progress_handler(conn->db, PROGRESS_OPS, on_progress, conn);

  /* Reading the schema version reads the file's header: a file that is not a database fails
   * here, at connect, rather than at the first query. */
  rc = exec_simple(conn, "PRAGMA schema_version", NULL, 0);
  if (rc != SQLITE_OK) {
    open_failed(conn, sqlite3_extended_errcode(conn->db), "reading the schema");
    return;
  }
  snprintf(sql, sizeof sql, "PRAGMA foreign_keys = %s", conn->opt.foreign_keys ? "ON" : "OFF");
  rc = exec_simple(conn, sql, NULL, 0);
  if (rc != SQLITE_OK) {
    open_failed(conn, sqlite3_extended_errcode(conn->db), sql);
    return;
  }
  if (!conn->opt.journal_mode[0]) {
    /* WAL by default for a file we may write (docs/backends.md): readers never block the
     * writer nor it them, so the write lock (wlock.c) is the only wait. A file system that
     * cannot do WAL (no shared memory) keeps its mode, and so does a file another process
     * holds locked past the busy timeout: this is a default, not a request. */
    const char *file = sqlite3_db_filename(conn->db, "main");
    if (file && *file && sqlite3_db_readonly(conn->db, "main") == 0)
      (void)exec_simple(conn, "PRAGMA journal_mode = WAL", got, sizeof got);
  } else {
    /* journal_mode is one of a fixed list (options.c), never the URL's own text. */
    snprintf(sql, sizeof sql, "PRAGMA journal_mode = %s", conn->opt.journal_mode);
    rc = exec_simple(conn, sql, got, sizeof got);
    if (rc != SQLITE_OK) {
      open_failed(conn, sqlite3_extended_errcode(conn->db), sql);
      return;
    }
    if (strcasecmp(got, conn->opt.journal_mode) != 0) {
      uvsql__error_set(&conn->err, UVSQL_ECONNECT,
                       "could not open SQLite database %s: ?journal_mode=%s was not applied, "
                       "SQLite kept journal_mode %s (an in-memory database cannot use wal)",
                       conn->opt.path, conn->opt.journal_mode, got);
      sqlite3_close_v2(conn->db);
      conn->db = NULL;
      return;
    }
  }
  /* What the lock (conn.c invariant 8) may do for a transaction that read: wait in WAL mode. */
  conn->wal = exec_simple(conn, "PRAGMA journal_mode", got, sizeof got) == SQLITE_OK &&
              strcasecmp(got, "wal") == 0;
}

void uvsql__sq_close_db(uvsql__sq_conn_t *conn) {
  uvsql__kit_lru_free(&conn->cache); /* finalizes */
  if (conn->db) {
    sqlite3_close_v2(conn->db);
    conn->db = NULL;
  }
}

/* INSERT/UPDATE/DELETE/REPLACE (also behind WITH): sqlite3_changes() is theirs. For any other
 * statement SQLite leaves it at the previous DML's count, so we report -1. RETURNING does not
 * change that: the count is the rows written, as PostgreSQL's command tag says. */
static int is_dml(sqlite3_stmt *stmt) {
  const char *s = sqlite3_sql(stmt);
  if (!s)
    return 0;
  for (;;) {
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '(')
      s++;
    if (s[0] == '-' && s[1] == '-') {
      s = strchr(s, '\n');
      if (!s)
        return 0;
    } else if (s[0] == '/' && s[1] == '*') {
      s = strstr(s + 2, "*/");
      if (!s)
        return 0;
      s += 2;
    } else {
      break;
    }
  }
  static const char *const kw[] = {"INSERT", "UPDATE", "DELETE", "REPLACE"};
  for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++) {
    size_t n = strlen(kw[i]);
    if (!strncasecmp(s, kw[i], n) &&
        !(s[n] == '_' || (s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') ||
          (s[n] >= '0' && s[n] <= '9')))
      return 1;
  }
  return !strncasecmp(s, "WITH", 4) && !sqlite3_stmt_readonly(stmt);
}

static int fail(uvsql__sq_conn_t *conn, const uvsql__request_t *req, int rc, int at_prepare) {
  return uvsql__sq_error_set(&conn->err, conn->db, rc, at_prepare, req->sql, req->sql_len,
                             conn->opt.busy_timeout_ms, atomic_load(&conn->cancel));
}

/* Binds, steps every row into a new result (replacing conn->result), and leaves stmt to the
 * caller to reset or finalize. shape: the cache's entry for stmt (its declared types and DML
 * flag, read from it when still valid, else written), or NULL. Returns 0 or the uvsql code it
 * set in conn->err. */
static int run_stmt(uvsql__sq_conn_t *conn, const uvsql__request_t *req, sqlite3_stmt *stmt,
                    uvsql__sq_stmt_t *shape) {
  int nwant = sqlite3_bind_parameter_count(stmt);
  uvsql_type_t types_small[16], *types = types_small;
  uvsql_result_t *r = NULL;
  int rc, ncols, code = 0;

  if (nwant > req->nparams)
    return uvsql__error_set(&conn->err, UVSQL_EPROGRAMMING,
                            "the statement takes %d parameters but %d were given [SQL: %.*s]",
                            nwant, req->nparams, (int)(req->sql_len > 200 ? 200 : req->sql_len),
                            req->sql);
  for (int i = 0; i < req->nparams; i++)
    if (req->params[i].type == UVSQL_TYPE_ARRAY)
      return uvsql__error_set(&conn->err, UVSQL_ENOT_SUPPORTED,
                              "parameter %d is an ARRAY: sqlite has no ARRAY type: use JSON (a "
                              "JSON array as text) instead",
                              i + 1);
  rc = uvsql__sq_bind_params(stmt, req->params, req->nparams);
  if (rc != SQLITE_OK)
    return fail(conn, req, rc, 0);

  /* The shape is read after the first step: if the schema changed since the statement was
   * prepared (cached), SQLite re-prepares it inside that step and `SELECT *` may widen. */
  rc = sqlite3_step(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return fail(conn, req, sqlite3_extended_errcode(conn->db), 0);
  ncols = sqlite3_column_count(stmt);
  if (ncols > (int)(sizeof types_small / sizeof types_small[0])) {
    types = malloc((size_t)ncols * sizeof *types);
    if (!types)
      return uvsql__error_set(&conn->err, UVSQL_ENOMEM, "out of memory reading a result");
  }
  r = uvsql__result_new((size_t)ncols);
  if (!r) {
    code = uvsql__error_set(&conn->err, UVSQL_ENOMEM, "out of memory reading a result");
    goto out;
  }
  /* The shape is read after the first step, like ncols: that step may have re-prepared it. */
  int gen = shape ? sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_REPREPARE, 0) : 0, dml;
  if (shape && shape->shape_ok && shape->shape_gen == gen && shape->ncols == ncols) {
    memcpy(types, shape->types, (size_t)ncols * sizeof *types);
    dml = shape->dml;
  } else {
    for (int i = 0; i < ncols; i++)
      types[i] = uvsql__sq_decltype_to_type(sqlite3_column_decltype(stmt, i));
    dml = is_dml(stmt);
    if (shape && ncols <= UVSQL__SQ_SHAPE_MAX) {
      memcpy(shape->types, types, (size_t)ncols * sizeof *types);
      shape->ncols = ncols;
      shape->dml = dml;
      shape->shape_gen = gen;
      shape->shape_ok = 1;
    }
  }

  for (; rc == SQLITE_ROW; rc = sqlite3_step(stmt)) {
    if (uvsql__sq_read_row(r, stmt, ncols, types) != 0) {
      code = uvsql__error_set(&conn->err, UVSQL_ENOMEM, "out of memory reading a result");
      goto out;
    }
  }
  if (rc != SQLITE_DONE) {
    code = fail(conn, req, sqlite3_extended_errcode(conn->db), 0);
    goto out;
  }
  for (int i = 0; i < ncols; i++) {
    const char *name = sqlite3_column_name(stmt, i);
    if (uvsql__result_set_column(r, (size_t)i, name ? name : "", types[i]) != 0) {
      code = uvsql__error_set(&conn->err, UVSQL_ENOMEM, "out of memory reading a result");
      goto out;
    }
  }
  if (dml) {
#if SQLITE_VERSION_NUMBER >= 3037000
    uvsql__result_set_rows_affected(r, (int64_t)sqlite3_changes64(conn->db));
#else
    uvsql__result_set_rows_affected(r, (int64_t)sqlite3_changes(conn->db));
#endif
  } else {
    uvsql__result_set_rows_affected(r, -1);
  }
  uvsql_result_free(conn->result); /* a script keeps only the last statement's result */
  conn->result = r;
  r = NULL;
out:
  uvsql_result_free(r);
  if (types != types_small)
    free(types);
  return code;
}

static void done_with(sqlite3_stmt *stmt, int cached) {
  if (cached) {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  } else {
    sqlite3_finalize(stmt);
  }
}

static int only_space(const char *s, const char *end) {
  for (; s < end; s++)
    if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != ';')
      return 0;
  return 1;
}

sqlite3_stmt *uvsql__sq_cache_get(uvsql__kit_lru_t *c, const char *sql, size_t len) {
  uvsql__sq_stmt_t *e = (uvsql__sq_stmt_t *)uvsql__kit_lru_get(c, sql, len, NULL, 0);
  return e ? e->stmt : NULL;
}

int uvsql__sq_cache_put(uvsql__kit_lru_t *c, const char *sql, size_t len, sqlite3_stmt *stmt) {
  uvsql__sq_stmt_t *e = (uvsql__sq_stmt_t *)uvsql__kit_lru_add(c, sql, len, NULL, 0);
  if (!e) {
    sqlite3_finalize(stmt);
    return 0;
  }
  e->stmt = stmt;
  return 1;
}

void uvsql__sq_stmt_release(uvsql__kit_lru_t *c, uvsql__kit_lru_entry_t *e) {
  (void)c;
  sqlite3_finalize(((uvsql__sq_stmt_t *)e)->stmt);
}

/* executemany (invariant 6). req is the loop's, but many_failed is ours to write until done. */
static void execute_many(uvsql__sq_conn_t *conn, uvsql__request_t *req) {
  const char *tail = NULL;
  int cacheable = conn->cache.cap > 0, cached = 0, own_tx = 0, rc;
  sqlite3_stmt *stmt = NULL;
  int64_t rows = 0;

  if (cacheable && (stmt = uvsql__sq_cache_get(&conn->cache, req->sql, req->sql_len)) != NULL)
    cached = 1;
  if (!stmt) {
    rc = sqlite3_prepare_v3(conn->db, req->sql, (int)req->sql_len,
                            cacheable ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, &tail);
    if (rc != SQLITE_OK) {
      req->many_failed = -2;
      fail(conn, req, sqlite3_extended_errcode(conn->db), 1);
      return;
    }
    if (!stmt || !only_space(tail, req->sql + req->sql_len)) {
      req->many_failed = -2;
      sqlite3_finalize(stmt);
      uvsql__error_set(&conn->err, UVSQL_EINVALID_ARGUMENT,
                       "executemany runs a single statement; this text holds %s: run each "
                       "statement with its own executemany",
                       stmt ? "several" : "none");
      return;
    }
    if (cacheable)
      cached = uvsql__sq_cache_put(&conn->cache, req->sql, req->sql_len, stmt);
    if (cacheable && !cached) { /* the cache finalized it: prepare one of our own */
      if (sqlite3_prepare_v3(conn->db, req->sql, (int)req->sql_len, 0, &stmt, NULL) != SQLITE_OK) {
        req->many_failed = -2;
        fail(conn, req, sqlite3_extended_errcode(conn->db), 1);
        return;
      }
    }
  }
  int nwant = sqlite3_bind_parameter_count(stmt);
  if (nwant > req->nparams) {
    req->many_failed = -2;
    uvsql__error_set(&conn->err, UVSQL_EPROGRAMMING,
                     "the statement takes %d parameters but %d were given [SQL: %.*s]", nwant,
                     req->nparams, (int)(req->sql_len > 200 ? 200 : req->sql_len), req->sql);
    done_with(stmt, cached);
    return;
  }
  if (sqlite3_get_autocommit(conn->db)) {
    rc = exec_simple(conn, "BEGIN", NULL, 0);
    if (rc != SQLITE_OK) {
      req->many_failed = -2;
      fail(conn, req, sqlite3_extended_errcode(conn->db), 0);
      done_with(stmt, cached);
      return;
    }
    own_tx = 1;
  }
  int dml = is_dml(stmt);
  for (size_t set = 0; set < req->nsets; set++) {
    rc = uvsql__sq_bind_params(stmt, req->params + set * (size_t)req->nparams, req->nparams);
    if (rc == SQLITE_OK) {
      while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        ;
      if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
      else
        rc = sqlite3_extended_errcode(conn->db);
    }
    if (rc == SQLITE_OK && atomic_load(&conn->cancel) != UVSQL__SQ_CANCEL_NONE)
      rc = SQLITE_INTERRUPT;
    if (rc != SQLITE_OK) {
      req->many_failed = (long)set;
      fail(conn, req, rc, 0);
      break;
    }
    if (dml)
#if SQLITE_VERSION_NUMBER >= 3037000
      rows += (int64_t)sqlite3_changes64(conn->db);
#else
      rows += (int64_t)sqlite3_changes(conn->db);
#endif
    sqlite3_reset(stmt);
  }
  done_with(stmt, cached);
  if (own_tx && !conn->err.code && (rc = exec_simple(conn, "COMMIT", NULL, 0)) != SQLITE_OK) {
    req->many_failed = -2;
    fail(conn, req, sqlite3_extended_errcode(conn->db), 0);
  }
  if (own_tx && conn->err.code && !sqlite3_get_autocommit(conn->db))
    (void)exec_simple(conn, "ROLLBACK", NULL, 0);
  if (!conn->err.code) {
    conn->result = uvsql__result_new(0);
    if (conn->result)
      uvsql__result_set_rows_affected(conn->result, dml ? rows : -1);
    else
      uvsql__error_set(&conn->err, UVSQL_ENOMEM, "out of memory");
  }
}

void uvsql__sq_execute(uvsql__sq_conn_t *conn, const uvsql__request_t *req) {
  const char *sql = req->sql, *end = req->sql + req->sql_len, *tail = NULL;
  int cacheable = !(req->flags & UVSQL__REQ_NO_PREPARE) && conn->cache.cap > 0;
  sqlite3_stmt *stmt = NULL;
  uvsql__sq_stmt_t *entry = NULL; /* the cache's entry for stmt, when cached */
  int cached = 0, rc;

  uvsql_error_clear(&conn->err);
  conn->result = NULL;
  if (req->sql_len > INT_MAX) {
    uvsql__error_set(&conn->err, UVSQL_EDATA,
                     "the statement is %zu bytes long, more than SQLite accepts (2 GB): pass "
                     "large values as bound parameters",
                     req->sql_len);
    return;
  }
  if (req->flags & UVSQL__REQ_MANY) {
    execute_many(conn, (uvsql__request_t *)req);
    return;
  }
  if (cacheable && (entry = (uvsql__sq_stmt_t *)uvsql__kit_lru_get(&conn->cache, sql, req->sql_len,
                                                                   NULL, 0)) != NULL) {
    stmt = entry->stmt;
    cached = 1;
    tail = end;
  }

  for (;;) {
    if (!stmt) {
      rc = sqlite3_prepare_v3(conn->db, sql, (int)(end - sql),
                              cacheable ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, &tail);
      if (rc != SQLITE_OK) {
        fail(conn, req, sqlite3_extended_errcode(conn->db), 1);
        break;
      }
      if (!stmt) /* nothing left but space and comments */
        break;
      if (cacheable && sql == req->sql && only_space(tail, end)) {
        /* One statement: the cache owns it from now on (most recent, so not evicted). */
        cached = uvsql__sq_cache_put(&conn->cache, req->sql, req->sql_len, stmt);
        if (!cached) { /* the cache could not keep it and finalized it */
          stmt = NULL;
          cacheable = 0;
          continue;
        }
        entry = (uvsql__sq_stmt_t *)conn->cache.mru; /* just added: the most recent */
      }
    }
    int code = run_stmt(conn, req, stmt, cached ? entry : NULL);
    done_with(stmt, cached);
    stmt = NULL;
    entry = NULL;
    cached = 0;
    if (code != 0 || only_space(tail, end))
      break;
    if (atomic_load(&conn->cancel) != UVSQL__SQ_CANCEL_NONE) {
      fail(conn, req, SQLITE_INTERRUPT, 0);
      break;
    }
    sql = tail;
    cacheable = 0;
  }

  if (conn->err.code) {
    uvsql_result_free(conn->result);
    conn->result = NULL;
  } else if (!conn->result) {
    /* Empty SQL (only comments): an empty result, no rows affected. */
    conn->result = uvsql__result_new(0);
    if (conn->result)
      uvsql__result_set_rows_affected(conn->result, -1);
    else
      uvsql__error_set(&conn->err, UVSQL_ENOMEM, "out of memory");
  }
}
