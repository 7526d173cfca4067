/* src/dialects/sqlite/driver.c — the SQLite driver as the engine sees it: "?n" parameters, at
 * most 32766 per statement, URL checking (options.c), the connection (conn.c, over a worker
 * thread; requests run in exec.c and stream.c), BEGIN statements and the library's keyword
 * list (for Core's quoting). */
#include "sqlite.h"

/* ------------------------------------------------------------------ transactions */

static const char *sq_begin_sql(uvsql_isolation_t isolation, uvsql_error_t *err) {
  if (isolation == UVSQL_ISOLATION_DEFAULT || isolation == UVSQL_ISOLATION_SERIALIZABLE)
    return "BEGIN";
  uvsql__error_set(err, UVSQL_ENOT_SUPPORTED,
                   "SQLite transactions are always serializable: use the default isolation "
                   "level or UVSQL_ISOLATION_SERIALIZABLE");
  return NULL;
}

/* ------------------------------------------------------------------ keywords */

static int sq_is_keyword(const char *word, size_t len) {
  return len <= 64 && sqlite3_keyword_check(word, (int)len) != 0;
}

const uvsql__driver_t uvsql__sqlite_driver = {
    .name = "sqlite",
    .paramstyle = UVSQL__PARAMSTYLE_NUMBERED,
    .max_params = 32766, /* SQLITE_MAX_VARIABLE_NUMBER's default since 3.32 */
    .validate_url = uvsql__sq_validate_url,
    .connect = uvsql__sq_connect,
    .submit = uvsql__sq_submit,
    .cancel = uvsql__sq_cancel,
    .close = uvsql__sq_close,
    .begin_sql = sq_begin_sql,
    /* Waits for the file's write lock on the loop (wlock.c), then holds it to COMMIT: the
     * transaction's reads and writes see one snapshot and never need an upgrade. */
    .begin_write_sql = "BEGIN IMMEDIATE",
    .is_keyword = sq_is_keyword,
};
