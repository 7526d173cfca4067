/* src/dialects/postgresql/driver.c — the PostgreSQL driver as the engine sees it.
 *
 * Defines uvsql__postgresql_driver: "$n" parameters, at most 65535 per statement (the wire
 * protocol's 16-bit count), URL checking (options.c) and BEGIN statements. The connection
 * itself lives in conn.c (state machine) and exec.c (requests).
 */
#include "pg.h"

static const char *pg_begin_sql(uvsql_isolation_t isolation, uvsql_error_t *err) {
  switch (isolation) {
  case UVSQL_ISOLATION_DEFAULT:
    return "BEGIN";
  case UVSQL_ISOLATION_READ_UNCOMMITTED:
    return "BEGIN ISOLATION LEVEL READ UNCOMMITTED";
  case UVSQL_ISOLATION_READ_COMMITTED:
    return "BEGIN ISOLATION LEVEL READ COMMITTED";
  case UVSQL_ISOLATION_REPEATABLE_READ:
    return "BEGIN ISOLATION LEVEL REPEATABLE READ";
  case UVSQL_ISOLATION_SERIALIZABLE:
    return "BEGIN ISOLATION LEVEL SERIALIZABLE";
  }
  uvsql__error_set(err, UVSQL_ENOT_SUPPORTED,
                   "unknown isolation level %d: use a UVSQL_ISOLATION_* value", (int)isolation);
  return NULL;
}

const uvsql__driver_t uvsql__postgresql_driver = {
    .name = "postgresql",
    .paramstyle = UVSQL__PARAMSTYLE_DOLLAR,
    .max_params = 65535,
    .validate_url = uvsql__pg_validate_url,
    .connect = uvsql__pg_connect,
    .submit = uvsql__pg_submit,
    .cancel = uvsql__pg_cancel,
    .close = uvsql__pg_close,
    .abort = uvsql__pg_abort,
    .begin_sql = pg_begin_sql,
};
