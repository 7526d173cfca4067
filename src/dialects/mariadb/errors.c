/* src/dialects/mariadb/errors.c — MySQL/MariaDB error numbers as uvsql errors.
 *
 * Invariants: native_code is the server's ER_* or the client's CR_* number; sqlstate is what
 * mysql_sqlstate / mysql_stmt_sqlstate said (empty for "00000" and the client's "HY000");
 * the message starts with the server's own text, then the statement (shortened) as
 * "[SQL: ...]" so a log line says which query failed.
 *
 *   1062 dup key, 1451/1452 foreign key, 1048/1364 not null, 4025 check,
 *   1557 dup key on update, 1022 dup key, 1216/1217 FK (old)        UVSQL_EINTEGRITY
 *   1064 syntax, 1146 no table, 1054 no column, 1049 no database,
 *   1149, 1109, 1052 ambiguous, 1060/1061 dup name, 1050 exists,
 *   1051 unknown table, 1210 wrong args, 1305 no function           UVSQL_EPROGRAMMING
 *   1317 query interrupted                                          UVSQL_ECANCELLED
 *   1969 statement timeout (max_statement_time)                     UVSQL_ETIMEOUT
 *   2006/2013/2055 gone away / lost, 1927 killed, 1053 shutdown,
 *   4031 idle timeout                                               UVSQL_EDISCONNECT
 *   1213 deadlock (the transaction was rolled back: retry it)       UVSQL_ESERIALIZATION
 *   1205 lock wait timeout, 1040 too many conns                     UVSQL_EOPERATIONAL
 *   1264 out of range, 1406 too long, 1366/1292 incorrect value,
 *   1365 division by 0, 1265 truncated                              UVSQL_EDATA
 *   1044/1045 access denied, 2002/2003/2005 cannot connect          UVSQL_ECONNECT
 *   1295 not supported in prepared protocol, 1235                   UVSQL_ENOT_SUPPORTED
 *   2008 client out of memory                                       UVSQL_ENOMEM
 *   2014 commands out of sync, other client errors (2xxx)           UVSQL_EINTERFACE
 *   anything else: by SQLSTATE class (23 integrity, 42 programming, 22 data, ...), else
 *   UVSQL_EOPERATIONAL
 */
#include <string.h>
#include "mariadb.h"

#define SQL_SHOWN 200 /* characters of the statement quoted in a message */

int uvsql__my_error_is_disconnect(unsigned e) {
  return e == 2006 || e == 2013 || e == 2055 || e == 1927 || e == 1053 || e == 4031;
}

int uvsql__my_error_code(unsigned e) {
  switch (e) {
  case 1022:
  case 1048:
  case 1062:
  case 1216:
  case 1217:
  case 1364:
  case 1451:
  case 1452:
  case 1557:
  case 4025:
    return UVSQL_EINTEGRITY;
  case 1049:
  case 1050:
  case 1051:
  case 1052:
  case 1054:
  case 1060:
  case 1061:
  case 1064:
  case 1109:
  case 1146:
  case 1149:
  case 1210:
  case 1305:
    return UVSQL_EPROGRAMMING;
  case 1317:
    return UVSQL_ECANCELLED;
  case 1969:
    return UVSQL_ETIMEOUT;
  case 1213:
    return UVSQL_ESERIALIZATION;
  case 1040:
  case 1205:
    return UVSQL_EOPERATIONAL;
  case 1264:
  case 1265:
  case 1292:
  case 1365:
  case 1366:
  case 1406:
    return UVSQL_EDATA;
  case 1044:
  case 1045:
  case 2002:
  case 2003:
  case 2005:
    return UVSQL_ECONNECT;
  case 1235:
  case 1295:
    return UVSQL_ENOT_SUPPORTED;
  case 2008:
    return UVSQL_ENOMEM;
  default:
    break;
  }
  if (uvsql__my_error_is_disconnect(e))
    return UVSQL_EDISCONNECT;
  if (e >= 2000 && e < 3000)
    return UVSQL_EINTERFACE;
  return 0; /* decided by the SQLSTATE */
}

int uvsql__my_error_set(uvsql_error_t *err, unsigned errnum, const char *sqlstate, const char *msg,
                        const char *sql, size_t sql_len) {
  int code = uvsql__my_error_code(errnum);
  int shown = (int)(sql_len > SQL_SHOWN ? SQL_SHOWN : sql_len);
  const char *more = sql_len > SQL_SHOWN ? "..." : "";
  /* "HY000" is the catch-all the client and many server errors carry: not worth keeping. */
  if (sqlstate && (!strcmp(sqlstate, "00000") || !strcmp(sqlstate, "HY000")))
    sqlstate = NULL;
  if (code == 0)
    code = sqlstate ? uvsql__error_from_sqlstate(sqlstate) : UVSQL_EOPERATIONAL;
  if (!msg || !*msg)
    msg = "the server gave no message";
  if (!sql)
    shown = 0;
  if (shown)
    return uvsql__error_set_db(err, code, sqlstate, (int)errnum, "%s [SQL: %.*s%s]", msg, shown,
                               sql, more);
  return uvsql__error_set_db(err, code, sqlstate, (int)errnum, "%s", msg);
}
