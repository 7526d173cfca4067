/* src/dialects/postgresql/errors.c — server and libpq errors as uvsql_error_t.
 *
 * Invariants:
 *  1. A server error keeps its SQLSTATE; the code comes from uvsql__error_from_sqlstate.
 *  2. The message is the primary text, then "DETAIL: " and "HINT: " lines when the server
 *     sent them: what a psql user would read.
 *  3. libpq's own messages (several lines, tab-indented hints) are flattened to one line.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "pg.h"

int uvsql__pg_error_from_result(const PGresult *res, uvsql_error_t *err) {
  const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
  const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
  int code = state && *state ? uvsql__error_from_sqlstate(state) : UVSQL_EOPERATIONAL;
  char flat[UVSQL_ERROR_MESSAGE_MAX];

  if (!primary) {
    uvsql__pg_flatten(PQresultErrorMessage(res), flat, sizeof flat);
    primary = flat[0] ? flat : "unknown error (the server sent no message)";
  }
  return uvsql__error_set_db(err, code, state, 0, "%s%s%s%s%s", primary, detail ? "\nDETAIL: " : "",
                             detail ? detail : "", hint ? "\nHINT: " : "", hint ? hint : "");
}

int uvsql__pg_error_is_fatal(const PGresult *res) {
  const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
  if (!sev)
    sev = PQresultErrorField(res, PG_DIAG_SEVERITY);
  return sev && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0);
}

/* Drops "connection to server at "h", port p failed: " and "connection to server on socket
 * "s" failed: ": the caller names the server itself. */
static const char *skip_server_prefix(const char *line, size_t len) {
  static const char lead[] = "connection to server ";
  if (len < sizeof lead - 1 || memcmp(line, lead, sizeof lead - 1) != 0)
    return line;
  for (size_t i = 0; i + 9 <= len; i++)
    if (memcmp(line + i, " failed: ", 9) == 0)
      return line + i + 9;
  return line;
}

void uvsql__pg_flatten(const char *msg, char *out, size_t size) {
  size_t o = 0;
  const char *prev = NULL;
  size_t prevlen = 0;
  if (size == 0)
    return;
  out[0] = '\0';
  if (!msg)
    return;
  while (*msg) {
    const char *eol = strchr(msg, '\n');
    size_t len = eol ? (size_t)(eol - msg) : strlen(msg);
    const char *line = msg;
    msg += len + (eol ? 1 : 0);
    while (len && (*line == '\t' || *line == ' ')) {
      line++;
      len--;
    }
    const char *body = skip_server_prefix(line, len);
    len -= (size_t)(body - line);
    line = body;
    while (len && isspace((unsigned char)line[len - 1]))
      len--;
    if (!len || (prev && prevlen == len && memcmp(prev, line, len) == 0))
      continue;
    prev = line;
    prevlen = len;
    if (o) {
      int n = snprintf(out + o, size - o, " — ");
      o = n < 0 || (size_t)n >= size - o ? size - 1 : o + (size_t)n;
    }
    size_t start = o;
    size_t n = len < size - 1 - o ? len : size - 1 - o;
    memcpy(out + o, line, n);
    o += n;
    out[o] = '\0';
    /* "Is the server running ..." reads better mid-sentence as "is the server running ...". */
    if (start && n >= 2 && isupper((unsigned char)out[start]) &&
        islower((unsigned char)out[start + 1]))
      out[start] = (char)tolower((unsigned char)out[start]);
  }
}
