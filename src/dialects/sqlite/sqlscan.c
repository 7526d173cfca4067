/* src/dialects/sqlite/sqlscan.c — does a request's SQL write? Read on the loop thread at
 * submit, before SQLite has seen the text, to decide whether the request must wait for the
 * file's write lock (wlock.c).
 *
 * Every statement of the text counts (a script writes if any of its statements does):
 *   SELECT, VALUES, EXPLAIN                          reads
 *   BEGIN [DEFERRED] [TRANSACTION], COMMIT, END,
 *   ROLLBACK, SAVEPOINT, RELEASE, ATTACH, DETACH     no write of their own
 *   BEGIN IMMEDIATE / BEGIN EXCLUSIVE                writes (takes SQLite's write lock)
 *   WITH ...                                         writes when an INSERT, UPDATE, DELETE or
 *                                                    REPLACE follows the CTEs (at depth 0)
 *   PRAGMA name = value                              writes (user_version, ...); PRAGMA name
 *                                                    and PRAGMA name(arg) read
 *   anything else (INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, VACUUM, unknown)   writes
 *
 * Invariant: an error is on the safe side. Calling a read a write only makes it wait its turn;
 * calling a write a read (never meant to happen) leaves it to SQLite's busy timeout as before.
 * Quoted text ('...', "...", `...`, [...]) and comments never count as words.
 */
#include <string.h>
#include <strings.h>
#include "sqlite.h"

enum { K_READ, K_NONE, K_WRITE, K_BEGIN, K_WITH, K_PRAGMA };

static int is_word_char(char c) {
  return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || (unsigned char)c >= 0x80;
}

static int word_is(const char *w, size_t n, const char *kw) {
  return strlen(kw) == n && strncasecmp(w, kw, n) == 0;
}

static int first_kind(const char *w, size_t n) {
  static const char *const reads[] = {"SELECT", "VALUES", "EXPLAIN"};
  static const char *const none[] = {"COMMIT", "END", "ROLLBACK", "RELEASE", "ATTACH", "DETACH"};
  for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++)
    if (word_is(w, n, reads[i]))
      return K_READ;
  for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
    if (word_is(w, n, none[i]))
      return K_NONE;
  if (word_is(w, n, "SAVEPOINT"))
    return K_NONE;
  if (word_is(w, n, "BEGIN"))
    return K_BEGIN;
  if (word_is(w, n, "WITH"))
    return K_WITH;
  if (word_is(w, n, "PRAGMA"))
    return K_PRAGMA;
  return K_WRITE;
}

/* Past quoted text or a comment starting at p (p itself when there is none). */
static const char *skip_quoted(const char *p, const char *end) {
  char close;
  if (p + 1 < end && p[0] == '-' && p[1] == '-') {
    while (p < end && *p != '\n')
      p++;
    return p;
  }
  if (p + 1 < end && p[0] == '/' && p[1] == '*') {
    for (p += 2; p + 1 < end && !(p[0] == '*' && p[1] == '/'); p++)
      ;
    return p + 1 < end ? p + 2 : end;
  }
  switch (*p) {
  case '\'':
  case '"':
  case '`':
    close = *p;
    break;
  case '[':
    close = ']';
    break;
  default:
    return p;
  }
  for (p++; p < end && *p != close; p++)
    ;
  return p < end ? p + 1 : end; /* a doubled quote reads as two quoted runs: same outcome */
}

int uvsql__sq_sql_writes(const char *sql, size_t len) {
  const char *p = sql, *end = sql + len;
  int kind = -1, depth = 0, nwords = 0;

  while (p < end) {
    const char *q = skip_quoted(p, end);
    if (q != p) {
      p = q;
      continue;
    }
    if (is_word_char(*p)) {
      const char *w = p;
      while (p < end && is_word_char(*p))
        p++;
      size_t n = (size_t)(p - w);
      if (kind < 0) {
        kind = first_kind(w, n);
        if (kind == K_WRITE)
          return 1;
      } else if (depth == 0 && kind == K_BEGIN && nwords == 1 &&
                 (word_is(w, n, "IMMEDIATE") || word_is(w, n, "EXCLUSIVE"))) {
        return 1;
      } else if (depth == 0 && kind == K_WITH &&
                 (word_is(w, n, "INSERT") || word_is(w, n, "UPDATE") || word_is(w, n, "DELETE") ||
                  word_is(w, n, "REPLACE"))) {
        return 1;
      }
      nwords++;
      continue;
    }
    if (*p == '(')
      depth++;
    else if (*p == ')' && depth > 0)
      depth--;
    else if (*p == '=' && depth == 0 && kind == K_PRAGMA)
      return 1;
    else if (*p == ';' && depth == 0) {
      kind = -1; /* the next statement starts */
      nwords = 0;
    }
    p++;
  }
  return 0;
}
