/* src/loop/error.c — the error table's functions and the helpers that fill uvsql_error_t.
 * Invariant: a filled error always has a non-empty message; messages are truncated, never
 * overflowed, and writing one never allocates (so out-of-memory can be reported).
 */
#include <stdio.h>
#include <string.h>
#include "internal.h"

const char *uvsql_err_name(int code) {
  switch (code) {
  case 0:
    return "UVSQL_OK";
#define XX(name, value, family, desc)                                                              \
  case value:                                                                                      \
    return "UVSQL_E" #name;
    UVSQL_ERRNO_MAP(XX)
#undef XX
  }
  return "UVSQL_UNKNOWN";
}

const char *uvsql_strerror(int code) {
  switch (code) {
  case 0:
    return "success";
#define XX(name, value, family, desc)                                                              \
  case value:                                                                                      \
    return desc;
    UVSQL_ERRNO_MAP(XX)
#undef XX
  }
  return "unknown error";
}

uvsql_family_t uvsql_err_family(int code) {
  switch (code) {
#define XX(name, value, family, desc)                                                              \
  case value:                                                                                      \
    return UVSQL_FAMILY_##family;
    UVSQL_ERRNO_MAP(XX)
#undef XX
  }
  return UVSQL_FAMILY_NONE;
}

const char *uvsql_family_name(uvsql_family_t family) {
  static const char *const names[] = {
      "None",           "InterfaceError",   "DatabaseError",  "OperationalError",
      "IntegrityError", "ProgrammingError", "DataError",      "NotSupportedError",
      "InternalError",  "TimeoutError",     "CancelledError",
  };
  if ((unsigned)family < sizeof names / sizeof names[0])
    return names[family];
  return "None";
}

void uvsql_error_clear(uvsql_error_t *err) {
  if (!err)
    return;
  err->code = 0;
  err->native_code = 0;
  err->sqlstate[0] = '\0';
  err->message[0] = '\0';
}

static int error_vset(uvsql_error_t *err, int code, const char *sqlstate, int native,
                      const char *fmt, va_list ap) {
  if (!err)
    return code;
  err->code = code;
  err->native_code = native;
  err->sqlstate[0] = '\0';
  if (sqlstate) {
    strncpy(err->sqlstate, sqlstate, sizeof err->sqlstate - 1);
    err->sqlstate[sizeof err->sqlstate - 1] = '\0';
  }
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  if (err->message[0] == '\0')
    snprintf(err->message, sizeof err->message, "%s", uvsql_strerror(code));
  return code;
}

int uvsql__error_set(uvsql_error_t *err, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  error_vset(err, code, NULL, 0, fmt, ap);
  va_end(ap);
  return code;
}

int uvsql__error_set_db(uvsql_error_t *err, int code, const char *sqlstate, int native_code,
                        const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  error_vset(err, code, sqlstate, native_code, fmt, ap);
  va_end(ap);
  return code;
}

int uvsql__error_from_sqlstate(const char *s) {
  if (!s || strlen(s) != 5)
    return UVSQL_EDATABASE;
  if (strcmp(s, "57014") == 0)
    return UVSQL_ECANCELLED;
  if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0) /* serialization failure, deadlock */
    return UVSQL_ESERIALIZATION;
  if (strncmp(s, "57P0", 4) == 0 || strncmp(s, "08", 2) == 0)
    return UVSQL_EDISCONNECT;
  if (strncmp(s, "23", 2) == 0)
    return UVSQL_EINTEGRITY;
  if (strncmp(s, "22", 2) == 0)
    return UVSQL_EDATA;
  if (strncmp(s, "42", 2) == 0 || strncmp(s, "3D", 2) == 0 || strncmp(s, "3F", 2) == 0 ||
      strncmp(s, "26", 2) == 0 || strncmp(s, "34", 2) == 0)
    return UVSQL_EPROGRAMMING;
  if (strncmp(s, "0A", 2) == 0)
    return UVSQL_ENOT_SUPPORTED;
  if (strncmp(s, "XX", 2) == 0)
    return UVSQL_EINTERNAL;
  if (strncmp(s, "25", 2) == 0 || strncmp(s, "2D", 2) == 0) /* invalid transaction state */
    return UVSQL_EINTERNAL;
  return UVSQL_EOPERATIONAL;
}
