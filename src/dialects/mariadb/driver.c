/* src/dialects/mariadb/driver.c — the MariaDB/MySQL driver as the engine sees it: "?"
 * parameters, at most 65535 per statement, URL checking (options.c), the connection (conn.c),
 * requests (exec.c) and BEGIN statements. */
#include "mariadb.h"

/* ------------------------------------------------------------------ transactions */

static const char *my_begin_sql(uvsql_isolation_t isolation, uvsql_error_t *err) {
  /* MariaDB and MySQL set the level for the next transaction with a statement of its own:
   * two statements in one text-protocol request (CLIENT_MULTI_STATEMENTS, see exec.c). */
  switch (isolation) {
  case UVSQL_ISOLATION_DEFAULT:
    return "START TRANSACTION";
  case UVSQL_ISOLATION_READ_UNCOMMITTED:
    return "SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED; START TRANSACTION";
  case UVSQL_ISOLATION_READ_COMMITTED:
    return "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION";
  case UVSQL_ISOLATION_REPEATABLE_READ:
    return "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; START TRANSACTION";
  case UVSQL_ISOLATION_SERIALIZABLE:
    return "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE; START TRANSACTION";
  default:
    uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                     "unknown isolation level %d: use a UVSQL_ISOLATION_* value", (int)isolation);
    return NULL;
  }
}

const uvsql__driver_t uvsql__mariadb_driver = {
    .name = "mariadb",
    .paramstyle = UVSQL__PARAMSTYLE_QMARK,
    .max_params = 65535, /* the binary protocol counts parameters in 16 bits */
    .validate_url = uvsql__my_validate_url,
    .connect = uvsql__my_connect,
    .submit = uvsql__my_submit,
    .cancel = uvsql__my_cancel,
    .close = uvsql__my_close,
    .abort = uvsql__my_abort,
    .begin_sql = my_begin_sql,
};
