/* uvsql/error.h — error codes, DBAPI families and the error value every call reports.
 *
 * One table (UVSQL_ERRNO_MAP) generates the enum, uvsql_err_name() and uvsql_strerror().
 * uvsql_error_t is a plain value: it holds its message inline, so it never needs freeing and
 * can be reported even when memory is exhausted. Codes are negative, 0 is success.
 */
#ifndef UVSQL_ERROR_H
#define UVSQL_ERROR_H

#include <stddef.h>

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif
UVSQL__EXPORTS_BEGIN

/* XX(name, value, family, description) */
#define UVSQL_ERRNO_MAP(XX)                                                                        \
  XX(INTERFACE, -1, INTERFACE, "interface error: the library was used in a way it does not allow") \
  XX(DATABASE, -2, DATABASE, "database error")                                                     \
  XX(OPERATIONAL, -3, OPERATIONAL, "operational error: the database could not do the work")        \
  XX(INTEGRITY, -4, INTEGRITY, "integrity error: a constraint was violated")                       \
  XX(PROGRAMMING, -5, PROGRAMMING, "programming error: the statement is wrong")                    \
  XX(DATA, -6, DATA, "data error: a value does not fit")                                           \
  XX(NOT_SUPPORTED, -7, NOT_SUPPORTED, "not supported by this backend")                            \
  XX(INTERNAL, -8, INTERNAL, "internal error in the database")                                     \
  XX(DISCONNECT, -9, OPERATIONAL, "connection to the database was lost")                           \
  XX(CONNECT, -10, OPERATIONAL, "could not connect to the database")                               \
  XX(TIMEOUT, -11, TIMEOUT, "operation timed out")                                                 \
  XX(CANCELLED, -12, CANCELLED, "operation was cancelled")                                         \
  XX(POOL_TIMEOUT, -13, TIMEOUT, "timed out waiting for a pooled connection")                      \
  XX(INVALID_ARGUMENT, -14, INTERFACE, "invalid argument")                                         \
  XX(NOMEM, -15, INTERFACE, "out of memory")                                                       \
  XX(URL, -16, INTERFACE, "malformed database URL")                                                \
  XX(TYPE, -17, INTERFACE, "value has another type")                                               \
  XX(CLOSED, -18, INTERFACE, "object is closed")                                                   \
  XX(BUSY, -19, INTERFACE, "object is busy with another operation")                                \
  XX(STALE_DATA, -20, DATABASE, "stale data: the row was changed or deleted by someone else")      \
  XX(SERIALIZATION, -21, OPERATIONAL,                                                              \
     "serialization failure: a concurrent transaction won; roll back and run it again")

typedef enum {
  UVSQL_OK = 0,
#define UVSQL__XX(name, value, family, desc) UVSQL_E##name = value,
  UVSQL_ERRNO_MAP(UVSQL__XX)
#undef UVSQL__XX
} uvsql_errno_t;

/* DBAPI-style families, as SQLAlchemy users know them. */
typedef enum {
  UVSQL_FAMILY_NONE = 0,
  UVSQL_FAMILY_INTERFACE,
  UVSQL_FAMILY_DATABASE,
  UVSQL_FAMILY_OPERATIONAL,
  UVSQL_FAMILY_INTEGRITY,
  UVSQL_FAMILY_PROGRAMMING,
  UVSQL_FAMILY_DATA,
  UVSQL_FAMILY_NOT_SUPPORTED,
  UVSQL_FAMILY_INTERNAL,
  UVSQL_FAMILY_TIMEOUT,
  UVSQL_FAMILY_CANCELLED
} uvsql_family_t;

#define UVSQL_ERROR_MESSAGE_MAX 512

/* An error value. Plain data: copy it freely, nothing to free. */
typedef struct uvsql_error_s {
  int code;         /* UVSQL_E*, 0 when there is no error */
  int native_code;  /* the client library's or server's own code, 0 if none */
  char sqlstate[6]; /* five characters and NUL; empty when the server gave none */
  char message[UVSQL_ERROR_MESSAGE_MAX]; /* what happened and, where known, what to do */
} uvsql_error_t;

const char *uvsql_err_name(int code); /* "UVSQL_EPOOL_TIMEOUT"; "UVSQL_UNKNOWN" otherwise */
const char *uvsql_strerror(int code); /* the one-line description from the table */
uvsql_family_t uvsql_err_family(int code);
const char *uvsql_family_name(uvsql_family_t family); /* "IntegrityError", ... */

/* Clears err (code 0, empty strings). Accepts NULL. */
void uvsql_error_clear(uvsql_error_t *err);

UVSQL__EXPORTS_END
#ifdef __cplusplus
}
#endif
#endif
