/* src/dialects/postgresql/sqlscan.c — does SQL text hold more than one statement?
 *
 * The extended query protocol (and so pipeline mode) takes one statement per Parse; text with
 * several statements must go through the simple protocol. This scanner answers the question
 * without parsing SQL: it skips what can hide a ';' and reports whether a ';' is followed by
 * anything but blanks, comments and more ';'.
 *
 * Invariants:
 *  1. Skipped as opaque: '...' (with '' doubling; E'...' also with backslash escapes),
 *     "..." identifiers, $tag$...$tag$ bodies, -- line comments, nested block comments.
 *  2. An unterminated quote or comment swallows the rest of the text (the server will report
 *     the syntax error; a single statement is the safe answer).
 *  3. Reads only s[0..len).
 */
#include <ctype.h>
#include <string.h>
#include "pg.h"

static int ident_char(char c) {
  return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

/* Skips a quoted run opened at s[i] by q; returns the index after its closing quote. */
static size_t skip_quoted(const char *s, size_t len, size_t i, char q, int backslash) {
  for (i++; i < len; i++) {
    if (backslash && s[i] == '\\') {
      i++;
      continue;
    }
    if (s[i] == q) {
      if (i + 1 < len && s[i + 1] == q) {
        i++;
        continue;
      }
      return i + 1;
    }
  }
  return len;
}

/* If s[i] opens a dollar quote, returns the index after its closing tag; otherwise 0. */
static size_t skip_dollar(const char *s, size_t len, size_t i) {
  size_t j = i + 1;
  if (i > 0 && ident_char(s[i - 1]))
    return 0; /* part of an identifier such as a$b */
  if (j < len && isdigit((unsigned char)s[j]))
    return 0; /* $1: a parameter */
  while (j < len && ident_char(s[j]))
    j++;
  if (j >= len || s[j] != '$')
    return 0;
  size_t taglen = j - i + 1; /* "$tag$" */
  for (size_t k = j + 1; k + taglen <= len; k++)
    if (s[k] == '$' && memcmp(s + k, s + i, taglen) == 0)
      return k + taglen;
  return len;
}

int uvsql__pg_sql_is_multi(const char *s, size_t len) {
  int after_semicolon = 0;
  size_t i = 0;
  while (i < len) {
    char c = s[i];
    if (c == '-' && i + 1 < len && s[i + 1] == '-') {
      while (i < len && s[i] != '\n')
        i++;
      continue;
    }
    if (c == '/' && i + 1 < len && s[i + 1] == '*') {
      int nest = 0;
      do {
        if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
          nest++;
          i += 2;
        } else if (s[i] == '*' && i + 1 < len && s[i + 1] == '/') {
          nest--;
          i += 2;
        } else {
          i++;
        }
      } while (nest > 0 && i < len);
      continue;
    }
    if (isspace((unsigned char)c)) {
      i++;
      continue;
    }
    if (c == ';') {
      after_semicolon = 1;
      i++;
      continue;
    }
    if (after_semicolon)
      return 1;
    if (c == '\'') {
      int e = i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') && (i < 2 || !ident_char(s[i - 2]));
      i = skip_quoted(s, len, i, '\'', e);
    } else if (c == '"') {
      i = skip_quoted(s, len, i, '"', 0);
    } else if (c == '$') {
      size_t end = skip_dollar(s, len, i);
      i = end ? end : i + 1;
    } else {
      i++;
    }
  }
  return 0;
}
