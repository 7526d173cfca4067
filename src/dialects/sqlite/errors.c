/* src/dialects/sqlite/errors.c — SQLite result codes as uvsql errors.
 *
 * Invariants: native_code is SQLite's extended result code (extended codes are switched on at
 * open); sqlstate stays empty (SQLite has none); the message starts with sqlite3_errmsg's text,
 * then the statement (shortened) as "[SQL: ...]" so a log line says which query failed, and,
 * for a lock timeout, what to change. Runs on the worker thread: touches only its arguments.
 *
 *   SQLITE_CONSTRAINT_*                  UVSQL_EINTEGRITY
 *   SQLITE_ERROR while preparing         UVSQL_EPROGRAMMING (syntax, no such table/column)
 *   SQLITE_INTERRUPT                     UVSQL_ECANCELLED (or UVSQL_ECLOSED when close asked)
 *   SQLITE_BUSY_SNAPSHOT, and SQLITE_BUSY UVSQL_ESERIALIZATION (retryable: roll back, run again):
 *   in a transaction that has read (the    the transaction's snapshot is older than another
 *   read-then-write upgrade deadlock)      connection's commit, so it may not write
 *   SQLITE_BUSY, SQLITE_LOCKED           UVSQL_EOPERATIONAL, "database is locked ... timeout"
 *   SQLITE_TOOBIG, MISMATCH, RANGE       UVSQL_EDATA
 *   SQLITE_NOMEM                         UVSQL_ENOMEM
 *   SQLITE_CANTOPEN                      UVSQL_ECONNECT
 *   SQLITE_READONLY, FULL, IOERR, PERM   UVSQL_EOPERATIONAL
 *   SQLITE_CORRUPT, NOTADB               UVSQL_EDATABASE (and the connection is broken)
 *   anything else                        UVSQL_EDATABASE
 */
#include <string.h>
#include "sqlite.h"

#define SQL_SHOWN 200 /* characters of the statement quoted in a message */

int uvsql__sq_error_code(int rc, int at_prepare) {
  switch (rc & 0xff) {
  case SQLITE_CONSTRAINT:
    return UVSQL_EINTEGRITY;
  case SQLITE_ERROR:
    return at_prepare ? UVSQL_EPROGRAMMING : UVSQL_EDATABASE;
  case SQLITE_INTERRUPT:
    return UVSQL_ECANCELLED;
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
  case SQLITE_READONLY:
  case SQLITE_FULL:
  case SQLITE_IOERR:
  case SQLITE_PERM:
  case SQLITE_PROTOCOL:
    return UVSQL_EOPERATIONAL;
  case SQLITE_TOOBIG:
  case SQLITE_MISMATCH:
  case SQLITE_RANGE:
    return UVSQL_EDATA;
  case SQLITE_NOMEM:
    return UVSQL_ENOMEM;
  case SQLITE_CANTOPEN:
    return UVSQL_ECONNECT;
  case SQLITE_MISUSE:
    return UVSQL_EINTERFACE;
  default:
    return UVSQL_EDATABASE;
  }
}

int uvsql__sq_error_is_fatal(int rc) {
  switch (rc & 0xff) {
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB:
  case SQLITE_IOERR:
    return 1;
  default:
    return 0;
  }
}

int uvsql__sq_error_serialization(uvsql_error_t *err, int rc, const char *sql, size_t sql_len) {
  int shown = (int)(sql_len > SQL_SHOWN ? SQL_SHOWN : sql_len);
  return uvsql__error_set_db(
      err, UVSQL_ESERIALIZATION, NULL, rc,
      "could not serialize the transaction: it read the database, then wanted to write after "
      "another connection had begun writing (SQLite allows one writer and this transaction's "
      "snapshot is stale); roll back and run the whole transaction again, or begin it with "
      "uvsql_conn_begin_write so that it waits its turn before it reads [SQL: %.*s%s]",
      shown, sql ? sql : "", sql_len > SQL_SHOWN ? "..." : "");
}

int uvsql__sq_error_set(uvsql_error_t *err, sqlite3 *db, int rc, int at_prepare, const char *sql,
                        size_t sql_len, int busy_timeout_ms, int cancel_reason) {
  const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  int code = uvsql__sq_error_code(rc, at_prepare);
  int shown = (int)(sql_len > SQL_SHOWN ? SQL_SHOWN : sql_len);
  const char *more = sql_len > SQL_SHOWN ? "..." : "";

  if (!sql) {
    sql = "";
    shown = 0;
  }
  if ((rc & 0xff) == SQLITE_INTERRUPT) {
    if (cancel_reason == UVSQL__SQ_CANCEL_CLOSE)
      return uvsql__error_set_db(err, UVSQL_ECLOSED, NULL, rc,
                                 "the connection was closed while the statement ran; it was "
                                 "interrupted [SQL: %.*s%s]",
                                 shown, sql, more);
    return uvsql__error_set_db(err, UVSQL_ECANCELLED, NULL, rc,
                               "the statement was cancelled (interrupted) [SQL: %.*s%s]", shown,
                               sql, more);
  }
  /* A transaction that read and then wants to write: SQLite refuses at once (waiting would
   * deadlock, or its snapshot is older than the last commit). Only a retry from the start can
   * succeed. An autocommit statement never gets here: its snapshot is always fresh. */
  if (rc == SQLITE_BUSY_SNAPSHOT ||
      ((rc & 0xff) == SQLITE_BUSY && db && !sqlite3_get_autocommit(db) &&
       sqlite3_txn_state(db, NULL) == SQLITE_TXN_READ))
    return uvsql__sq_error_serialization(err, rc, sql, sql_len);
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
    return uvsql__error_set_db(err, code, NULL, rc,
                               "%s: the database is locked by another connection and stayed "
                               "locked for the busy timeout (%.3g s); raise it with ?timeout=<"
                               "seconds> in the URL, or keep write transactions short "
                               "(commit sooner) [SQL: %.*s%s]",
                               msg, busy_timeout_ms / 1000.0, shown, sql, more);
  return uvsql__error_set_db(err, code, NULL, rc, "%s [SQL: %.*s%s]", msg, shown, sql, more);
}
